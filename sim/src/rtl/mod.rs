//! Checks of the exported Verilog against real tools, and against the Rust
//! simulation.
//!
//! rust-hdl translates `#[hdl_gen]` code to Verilog separately from running
//! it as Rust, and the two disagree silently in places (see
//! `../shared/RUSTHDL_NOTES.md`). This module names a block's top-level
//! ports exactly as the exported `top` module does ([`ports`]), samples their
//! values cheaply every cycle ([`Sampler`]), runs the Verilog tools
//! ([`tools`]) and compares a block's Rust simulation with its Verilog under
//! iverilog cycle by cycle ([`equivalence`]).

pub mod equivalence;
pub mod tools;

pub use equivalence::{Equivalence, EquivalenceError, EquivalenceReport, Mismatch};
pub use tools::{
    iverilog_compile, verilator_lint, write_verilog, yosys_ice40, CellStats, ToolError,
};

use rust_hdl::core::atom::{Atom, AtomKind};
use rust_hdl::core::probe::Probe;
use rust_hdl::core::synth::VCDValue;
use rust_hdl::core::type_descriptor::TypeKind;
use rust_hdl::prelude::*;

/// Direction of a top-level port, seen from the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortDir {
    /// Driven by the testbench.
    In,
    /// Driven by the block.
    Out,
    /// Bidirectional (not supported by the equivalence harness).
    InOut,
}

/// One port of the exported `top` module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    /// Verilog name: interface fields are `iface$field`, array elements
    /// `name$i`, exactly as `generate_verilog` declares them.
    pub name: String,
    /// Width in bits.
    pub width: usize,
    /// Direction.
    pub dir: PortDir,
    /// True for a `Signal<In, Clock>`.
    pub is_clock: bool,
}

/// Visits the top-level atoms of a block (depth-1 scope, through interface
/// namespaces and arrays); the callback gets the enclosing namespaces and
/// the atom's own name, which joined with `$` give its Verilog name.
struct TopLevel<F: FnMut(&[String], &str, &dyn Atom)> {
    depth: usize,
    namespace: Vec<String>,
    f: F,
}

impl<F: FnMut(&[String], &str, &dyn Atom)> Probe for TopLevel<F> {
    fn visit_start_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth += 1;
    }

    fn visit_start_namespace(&mut self, name: &str, _node: &dyn Block) {
        if self.depth == 1 {
            self.namespace.push(name.to_owned());
        }
    }

    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        if self.depth == 1 && signal.kind().is_parameter() {
            (self.f)(&self.namespace, name, signal);
        }
    }

    fn visit_end_namespace(&mut self, _name: &str, _node: &dyn Block) {
        if self.depth == 1 {
            self.namespace.pop();
        }
    }

    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth -= 1;
    }
}

/// Calls `f` for every top-level port atom of `block`, in declaration order.
fn for_each_port(block: &dyn Block, f: impl FnMut(&[String], &str, &dyn Atom)) {
    let mut probe = TopLevel {
        depth: 0,
        namespace: Vec::new(),
        f,
    };
    block.accept("top", &mut probe);
}

/// The Verilog name of an atom: namespaces and name joined with `$`, as
/// rust-hdl's `ModuleDefines` names module arguments.
fn verilog_name(namespace: &[String], name: &str) -> String {
    let mut full = String::new();
    for n in namespace {
        full.push_str(n);
        full.push('$');
    }
    full.push_str(name);
    full
}

/// The ports of `block` as its exported Verilog `top` declares them, in
/// declaration order. Sub-block signals, locals and constants are skipped.
pub fn ports(block: &dyn Block) -> Vec<Port> {
    let mut out = Vec::new();
    for_each_port(block, |namespace, name, atom| {
        let dir = match atom.kind() {
            AtomKind::InputParameter => PortDir::In,
            AtomKind::InOutParameter => PortDir::InOut,
            _ => PortDir::Out,
        };
        out.push(Port {
            name: verilog_name(namespace, name),
            width: atom.bits(),
            dir,
            is_clock: dir == PortDir::In && atom.descriptor().name == "clock",
        });
    });
    out
}

/// Reads the current values of a block's top-level ports, packed into
/// 64-bit words (LSB first), with a parallel mask of unknown (`x`/`z`) bits.
///
/// Built once per block; [`Sampler::sample`] walks the block with a probe
/// and decodes each port's `Atom::vcd()` into preallocated words, so it is
/// cheap enough to call every cycle.
pub struct Sampler {
    ports: Vec<Port>,
    offsets: Vec<usize>,
    words: Vec<u64>,
    unknown: Vec<u64>,
    z: Vec<u64>,
}

impl Sampler {
    /// A sampler for `block`'s ports (all of them, clocks included).
    pub fn new(block: &dyn Block) -> Self {
        let ports = ports(block);
        let mut offsets = Vec::with_capacity(ports.len() + 1);
        let mut total = 0;
        for p in &ports {
            offsets.push(total);
            total += p.width.div_ceil(64);
        }
        offsets.push(total);
        Sampler {
            ports,
            offsets,
            words: vec![0; total],
            unknown: vec![0; total],
            z: vec![0; total],
        }
    }

    /// The ports, in the order their values are stored.
    pub fn ports(&self) -> &[Port] {
        &self.ports
    }

    /// Reads every port's current value from `block` (which must be the same
    /// kind of block the sampler was built from).
    pub fn sample(&mut self, block: &dyn Block) {
        self.words.fill(0);
        self.unknown.fill(0);
        self.z.fill(0);
        let mut index = 0;
        let Sampler {
            ports,
            offsets,
            words,
            unknown,
            z,
        } = self;
        for_each_port(block, |namespace, name, atom| {
            debug_assert_eq!(
                ports[index].name,
                verilog_name(namespace, name),
                "sampler used on another block"
            );
            let range = offsets[index]..offsets[index + 1];
            let mut cursor = Cursor {
                bit: 0,
                words: &mut words[range.clone()],
                unknown: &mut unknown[range.clone()],
                z: &mut z[range],
            };
            let value = atom.vcd();
            match value {
                // Plain bits need no type information (and fetching the
                // descriptor allocates): the common, fast case.
                VCDValue::Single(_) | VCDValue::Vector(_) => {
                    cursor.push(&value, &TypeKind::Bits(0))
                }
                _ => cursor.push(&value, &atom.descriptor().kind),
            }
            index += 1;
        });
        assert_eq!(index, ports.len(), "sampler used on another block");
    }

    /// Port `i`'s value words (LSB first); unknown bits read as 0.
    pub fn value(&self, i: usize) -> &[u64] {
        &self.words[self.offsets[i]..self.offsets[i + 1]]
    }

    /// True if any bit of port `i` is `x` or `z`.
    pub fn has_unknown(&self, i: usize) -> bool {
        self.unknown[self.offsets[i]..self.offsets[i + 1]]
            .iter()
            .any(|&w| w != 0)
    }

    /// Port `i`'s value as a `u64` (low 64 bits).
    pub fn value_u64(&self, i: usize) -> u64 {
        self.value(i).first().copied().unwrap_or(0)
    }

    /// Appends port `i` as Verilog `%h` prints it: `ceil(width / 4)` lowercase
    /// hex digits, `x`/`z` for wholly unknown digits, `X`/`Z` for partly.
    pub fn write_hex(&self, i: usize, out: &mut String) {
        let range = self.offsets[i]..self.offsets[i + 1];
        let width = self.ports[i].width;
        let (w, u, z) = (
            &self.words[range.clone()],
            &self.unknown[range.clone()],
            &self.z[range],
        );
        for d in (0..width.div_ceil(4)).rev() {
            let bit = d * 4;
            let nib = |v: &[u64]| ((v[bit / 64] >> (bit % 64)) & 0xf) as u8;
            let bits_here = (width - bit).min(4);
            let mask = ((1u16 << bits_here) - 1) as u8;
            let (val, unk, zz) = (nib(w) & mask, nib(u) & mask, nib(z) & mask);
            let c = if unk == 0 {
                char::from_digit(val as u32, 16).unwrap_or('?')
            } else if unk == mask && zz == mask {
                'z'
            } else if unk == mask && zz == 0 {
                'x'
            } else if zz == unk {
                'Z'
            } else {
                'X'
            };
            out.push(c);
        }
    }

    /// Port `i` formatted by [`Sampler::write_hex`].
    pub fn hex(&self, i: usize) -> String {
        let mut s = String::new();
        self.write_hex(i, &mut s);
        s
    }
}

/// Writes decoded bits LSB-first into a port's words.
struct Cursor<'a> {
    bit: usize,
    words: &'a mut [u64],
    unknown: &'a mut [u64],
    z: &'a mut [u64],
}

impl Cursor<'_> {
    fn set(&mut self, bit: usize, level: Level) {
        let (w, m) = (bit / 64, 1u64 << (bit % 64));
        if w >= self.words.len() {
            return;
        }
        match level {
            Level::Zero => {}
            Level::One => self.words[w] |= m,
            Level::X => self.unknown[w] |= m,
            Level::Z => {
                self.unknown[w] |= m;
                self.z[w] |= m;
            }
        }
    }

    fn set_u64(&mut self, width: usize, value: u64) {
        for i in 0..width.min(64) {
            if value >> i & 1 == 1 {
                self.set(self.bit + i, Level::One);
            }
        }
        self.bit += width;
    }

    /// Decodes `v` (of type `kind`) at the cursor and advances past it.
    /// Structs are packed first field at the LSB, as rust-hdl's
    /// `LogicStruct` and its Verilog do; enums become their variant index.
    fn push(&mut self, v: &VCDValue, kind: &TypeKind) {
        match v {
            VCDValue::Single(b) => {
                self.set(self.bit, level(*b));
                self.bit += 1;
            }
            VCDValue::Vector(bits) => {
                let n = bits.len();
                for (i, b) in bits.iter().enumerate() {
                    // Vectors are MSB first.
                    self.set(self.bit + n - 1 - i, level(*b));
                }
                self.bit += n;
            }
            VCDValue::String(label) => {
                let (index, width) = match kind {
                    TypeKind::Enum(labels) => {
                        let index = labels
                            .iter()
                            .position(|l| l == label || l.rsplit("::").next() == Some(label))
                            .unwrap_or(0);
                        (index as u64, clog2(labels.len()))
                    }
                    _ => (0, 0),
                };
                self.set_u64(width, index);
            }
            VCDValue::Composite(fields) => {
                let field_kinds: Vec<&TypeKind> = match kind {
                    TypeKind::Composite(f) => f.iter().map(|f| &f.kind.kind).collect(),
                    _ => Vec::new(),
                };
                for (i, field) in fields.iter().enumerate() {
                    let k = field_kinds.get(i).copied().unwrap_or(&TypeKind::Bits(0));
                    self.push(field, k);
                }
            }
        }
    }
}

/// One four-state bit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Zero,
    One,
    X,
    Z,
}

/// Classifies a `vcd::Value` (rust-hdl does not re-export the `vcd` crate,
/// so the type is reached through its trait impls).
#[inline]
fn level<V: PartialEq + From<bool> + std::str::FromStr>(v: V) -> Level {
    if v == V::from(true) {
        Level::One
    } else if v == V::from(false) {
        Level::Zero
    } else if "z".parse::<V>().is_ok_and(|z| z == v) {
        Level::Z
    } else {
        Level::X
    }
}

/// Bits needed to hold `n` distinct values (rust-hdl's enum width).
fn clog2(n: usize) -> usize {
    let mut w = 0;
    while (1usize << w) < n {
        w += 1;
    }
    w.max(1)
}

/// The port declarations of the `top` module in exported Verilog, as
/// (name, width, direction): what tests compare [`ports`] against, so a
/// port the generator renamed or resized is caught.
pub fn verilog_top_ports(verilog: &str) -> Vec<(String, usize, PortDir)> {
    let start = verilog.find("module top(").expect("no module top");
    let body = &verilog[start..];
    let body = &body[..body.find("endmodule").unwrap()];
    let mut out = Vec::new();
    for line in body.lines().map(str::trim) {
        let dir = if line.starts_with("input ") {
            PortDir::In
        } else if line.starts_with("output ") {
            PortDir::Out
        } else if line.starts_with("inout ") {
            PortDir::InOut
        } else {
            continue;
        };
        let decl = line.trim_end_matches(';');
        let name = decl.split_whitespace().last().unwrap().to_owned();
        let width = match (decl.find('['), decl.find(':')) {
            (Some(a), Some(b)) => decl[a + 1..b].trim().parse::<usize>().unwrap() + 1,
            _ => 1,
        };
        out.push((name, width, dir));
    }
    out
}
