//! Every exported block through the real Verilog tools (yosys for iCE40,
//! iverilog, Verilator lint), and the Rust simulation of the blocks against
//! their exported Verilog under iverilog on long seeded random runs.
//!
//! A negative test shows the equivalence harness does report a known
//! rust-hdl mismatch (32-bit literals in Verilog).

use overlay_nic_hdl::{
    AxiLiteSlave, PacketFifo, RegisterFile, SkidBuffer, StreamSink, VfRegisterFile,
};
use overlay_nic_regmap::{pf, resp, vf};
use overlay_nic_sim::blocks::{exported_blocks, DefaultVfRegisterFile, PfRegisterFile};
use overlay_nic_sim::pipeline::{PipelineFifo, PipelineMeta, StreamPipeline};
use overlay_nic_sim::rtl::{
    iverilog_compile, ports, verilator_lint, verilog_top_ports, write_verilog, yosys_ice40,
    Equivalence, EquivalenceError, Port, PortDir, ToolError,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::path::PathBuf;

/// Random cycles per block in the equivalence runs.
const CYCLES: u64 = 20_000;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "overlay-nic-rtl-tools-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_exported_block_passes_yosys_iverilog_and_verilator() {
    // The whole NIC has its own test (nic_rtl.rs): its synthesis
    // alone takes longer than all the others together.
    let blocks: Vec<_> = exported_blocks()
        .into_iter()
        .filter(|b| b.name != "nic")
        .collect();
    assert!(!blocks.is_empty());
    let results: Vec<(String, Result<String, String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = blocks
            .iter()
            .map(|b| {
                s.spawn(move || {
                    let dir = scratch(b.name);
                    let run = || -> Result<String, String> {
                        let path =
                            write_verilog(&dir, b.name, &b.verilog).map_err(|e| e.to_string())?;
                        let stats = yosys_ice40(&path).map_err(|e| format!("yosys: {e}"))?;
                        iverilog_compile(&path).map_err(|e| format!("iverilog: {e}"))?;
                        verilator_lint(&path).map_err(|e| format!("verilator: {e}"))?;
                        Ok(stats.to_string())
                    };
                    let r = run();
                    if r.is_ok() {
                        let _ = std::fs::remove_dir_all(&dir);
                    }
                    (b.name.to_owned(), r)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut failures = Vec::new();
    for (name, r) in results {
        match r {
            Ok(stats) => eprintln!("yosys ice40 {name}: {stats}"),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn assert_ports_match<B: Block>(mut block: B) {
    block.connect_all();
    let verilog = generate_verilog(&block);
    let ours: Vec<(String, usize, PortDir)> = ports(&block)
        .into_iter()
        .map(|p: Port| (p.name, p.width, p.dir))
        .collect();
    assert_eq!(ours, verilog_top_ports(&verilog));
    assert!(ports(&block)
        .iter()
        .any(|p| p.is_clock && p.name == "clock"));
}

#[test]
fn port_names_match_the_exported_verilog() {
    assert_ports_match(SkidBuffer::<PipelineMeta>::default());
    assert_ports_match(PipelineFifo::default());
    assert_ports_match(PfRegisterFile::new(pf::TABLE));
    assert_ports_match(StreamPipeline::default());
    assert_ports_match(WrapCompare::default());
}

// ---------------------------------------------------------------------------
// Stimulus

/// A random AXI-Stream frame source that keeps AXI's rules: a beat once
/// offered stays unchanged until taken; `tkeep` is full except on the last
/// beat; `tuser` is fixed per frame; `s_bad` may mark a last beat.
///
/// The blocks' `tready` depends on state only, so the value read before
/// settling is the value in force during that cycle; a beat offered in
/// cycle i-1 was taken iff `tready` was high then.
struct FrameSource {
    rng: ChaCha8Rng,
    /// Probability of offering a beat when free to choose.
    valid_p: f64,
    /// Frame lengths drawn uniformly from this range (beats)...
    lengths: std::ops::RangeInclusive<u32>,
    /// ... except with this probability, a length from `long_lengths`.
    long_p: f64,
    long_lengths: std::ops::RangeInclusive<u32>,
    bad_p: f64,
    // State.
    offered: bool,
    ready_then: bool,
    left: u32,
    user: u64,
    beat: (u64, u8, bool, bool),
    /// Beats taken and frames completed (for coverage checks).
    beats: u64,
    frames: u64,
}

impl FrameSource {
    fn new(seed: u64, lengths: std::ops::RangeInclusive<u32>) -> Self {
        FrameSource {
            rng: ChaCha8Rng::seed_from_u64(seed),
            valid_p: 0.8,
            lengths,
            long_p: 0.0,
            long_lengths: 1..=1,
            bad_p: 0.2,
            offered: false,
            ready_then: false,
            left: 0,
            user: 0,
            beat: (0, 0, false, false),
            beats: 0,
            frames: 0,
        }
    }

    fn drive<const U: usize>(&mut self, s: &mut StreamSink<Bits<U>>, bad: &mut Signal<In, Bit>) {
        let rng = &mut self.rng;
        if self.offered && self.ready_then {
            self.offered = false;
            self.beats += 1;
            if self.beat.2 {
                self.frames += 1;
            }
        }
        if !self.offered && rng.gen_bool(self.valid_p) {
            if self.left == 0 {
                self.left = if rng.gen_bool(self.long_p) {
                    rng.gen_range(self.long_lengths.clone())
                } else {
                    rng.gen_range(self.lengths.clone())
                };
                self.user = rng.gen::<u64>() & mask(U);
            }
            self.left -= 1;
            let last = self.left == 0;
            let keep = if last {
                (1u16 << rng.gen_range(1..=8)) - 1
            } else {
                0xff
            };
            self.beat = (
                rng.gen(),
                keep as u8,
                last,
                last && rng.gen_bool(self.bad_p),
            );
            self.offered = true;
        }
        self.ready_then = s.tready.val();
        s.tvalid.next = self.offered;
        if self.offered {
            s.tdata.next = self.beat.0.to_bits();
            s.tkeep.next = (self.beat.1 as u64).to_bits();
            s.tlast.next = self.beat.2;
            s.tuser.next = self.user.to_bits();
            bad.next = self.beat.3;
        } else {
            // Idle: garbage everywhere but tvalid.
            s.tdata.next = rng.gen::<u64>().to_bits();
            s.tkeep.next = rng.gen::<u8>().to_bits();
            s.tlast.next = rng.gen();
            s.tuser.next = (rng.gen::<u64>() & mask(U)).to_bits();
            bad.next = rng.gen();
        }
    }
}

/// All-ones in the low `bits` bits (`to_bits` refuses wider values).
fn mask(bits: usize) -> u64 {
    if bits >= 64 {
        !0
    } else {
        (1u64 << bits) - 1
    }
}

/// Downstream `tready`: random, in phases of fast, slow and stalled draining
/// so buffers both fill up and run dry.
struct Drain {
    rng: ChaCha8Rng,
    p: f64,
    phase_left: u64,
}

impl Drain {
    fn new(seed: u64) -> Self {
        Drain {
            rng: ChaCha8Rng::seed_from_u64(seed),
            p: 0.5,
            phase_left: 0,
        }
    }

    fn next(&mut self) -> bool {
        if self.phase_left == 0 {
            self.phase_left = self.rng.gen_range(50..1500);
            self.p = [0.0, 0.1, 0.5, 0.9, 1.0][self.rng.gen_range(0..5)];
        }
        self.phase_left -= 1;
        self.p > 0.0 && self.rng.gen_bool(self.p)
    }
}

fn report(r: Result<overlay_nic_sim::rtl::EquivalenceReport, EquivalenceError>) {
    match r {
        Ok(rep) => eprintln!("equivalence {rep}"),
        Err(e) => panic!("{e}"),
    }
}

// ---------------------------------------------------------------------------
// Equivalence runs

#[test]
fn skid_buffer_rust_and_verilog_agree() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    report(Equivalence::new("skid_buffer", CYCLES).run(
        SkidBuffer::<Bits<32>>::default,
        |u| &mut u.clock,
        |u, _| {
            u.s_axis.tvalid.next = rng.gen_bool(0.6);
            u.s_axis.tdata.next = rng.gen::<u64>().to_bits();
            u.s_axis.tkeep.next = rng.gen::<u8>().to_bits();
            u.s_axis.tlast.next = rng.gen();
            u.s_axis.tuser.next = rng.gen::<u32>().to_bits();
            u.m_axis.tready.next = rng.gen_bool(0.6);
        },
    ));
}

/// 32 beats, 4 frames: small enough to fill, drop oversize frames, stall.
type SmallFifo = PacketFifo<Bits<16>, 5, 6, 2, 3>;

#[test]
fn packet_fifo_rust_and_verilog_agree() {
    let mut src = FrameSource::new(2, 1..=12);
    src.long_p = 0.05;
    src.long_lengths = 20..=48;
    let mut drain = Drain::new(3);
    let (mut drops, mut oversize, mut bad, mut stalls) = (0u64, 0u64, 0u64, 0u64);
    report(Equivalence::new("packet_fifo", CYCLES).run(
        SmallFifo::default,
        |u| &mut u.clock,
        |u, _| {
            drops += u.drop_event.val() as u64;
            oversize = u.dropped_oversize.val().index() as u64;
            bad = u.dropped_bad.val().index() as u64;
            stalls += (!u.s_axis.tready.val()) as u64;
            src.drive(&mut u.s_axis, &mut u.s_bad);
            u.m_axis.tready.next = drain.next();
        },
    ));
    eprintln!(
        "packet_fifo coverage: {} beats / {} frames in, {bad} bad + {oversize} oversize dropped \
         ({drops} drop events), input stalled {stalls} cycles",
        src.beats, src.frames
    );
    assert!(
        bad > 50 && oversize > 10 && stalls > 1000,
        "stimulus too tame"
    );
}

/// A credited FIFO with the metadata ring (`PacketFifo::credited`,
/// `meta_ring`: the NIC's TX buffer), its writer ignoring `s_room`
/// so that beats also meet a full FIFO: the overflow drops, the oversize
/// drops of frames past the margin and `s_room` itself all compared.
#[test]
fn credited_packet_fifo_rust_and_verilog_agree() {
    let mut src = FrameSource::new(6, 1..=12);
    src.long_p = 0.05;
    src.long_lengths = 20..=48;
    let mut drain = Drain::new(7);
    let (mut overflow, mut oversize, mut bad, mut no_room) = (0u64, 0u64, 0u64, 0u64);
    report(Equivalence::new("credited_packet_fifo", CYCLES).run(
        || {
            PacketFifo::<Bits<16>, 5, 6, 3, 4>::default()
                .credited(4)
                .meta_ring()
        },
        |u| &mut u.clock,
        |u, _| {
            overflow = u.dropped_overflow.val().index() as u64;
            oversize = u.dropped_oversize.val().index() as u64;
            bad = u.dropped_bad.val().index() as u64;
            no_room += (!u.s_room.val()) as u64;
            src.drive(&mut u.s_axis, &mut u.s_bad);
            u.m_axis.tready.next = drain.next();
        },
    ));
    eprintln!(
        "credited_packet_fifo coverage: {} beats / {} frames in, {bad} bad + {oversize} \
         oversize + {overflow} overflow dropped, no room {no_room} cycles",
        src.beats, src.frames
    );
    assert!(
        bad > 50 && oversize > 5 && overflow > 10 && no_room > 1000,
        "stimulus too tame"
    );
}

#[test]
fn stream_pipeline_rust_and_verilog_agree() {
    let mut src = FrameSource::new(4, 1..=40);
    // Rare jumbo-and-beyond frames: some longer than the 2048-beat FIFO.
    src.long_p = 0.01;
    src.long_lengths = 1500..=2400;
    let mut drain = Drain::new(5);
    let (mut oversize, mut bad, mut stalls) = (0u64, 0u64, 0u64);
    report(Equivalence::new("stream_pipeline", 2 * CYCLES).run(
        StreamPipeline::default,
        |u| &mut u.clock,
        |u, _| {
            oversize = u.dropped_oversize.val().index() as u64;
            bad = u.dropped_bad.val().index() as u64;
            stalls += (!u.s_axis.tready.val()) as u64;
            src.drive(&mut u.s_axis, &mut u.s_bad);
            u.m_axis.tready.next = drain.next();
        },
    ));
    eprintln!(
        "stream_pipeline coverage: {} beats / {} frames in, {bad} bad + {oversize} oversize dropped, \
         input stalled {stalls} cycles",
        src.beats, src.frames
    );
    assert!(
        bad > 20 && oversize > 0 && stalls > 1000,
        "stimulus too tame"
    );
}

/// A random AXI4-Lite master: AW and W raised independently and held until
/// the slave takes both; reads held until taken; random BREADY/RREADY.
/// The slave's BVALID/RVALID are registers, so the values read before
/// settling are those in force during the cycle, which decides whether the
/// previous cycle's requests were taken.
struct AxilTraffic {
    rng: ChaCha8Rng,
    aw_on: bool,
    w_on: bool,
    ar_on: bool,
    awaddr: u16,
    wdata: u32,
    wstrb: u8,
    araddr: u16,
    bready: bool,
    rready: bool,
    bvalid_then: bool,
    rvalid_then: bool,
    status: [u32; pf::TABLE.len()],
    /// Registers' offsets the traffic aims at most of the time.
    offsets: Vec<u16>,
    /// Responses seen: [write OKAY, SLVERR, DECERR], [read ...].
    bresp: [u64; 4],
    rresp: [u64; 4],
}

impl AxilTraffic {
    fn new(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let status = std::array::from_fn(|_| rng.gen());
        AxilTraffic {
            rng,
            aw_on: false,
            w_on: false,
            ar_on: false,
            awaddr: 0,
            wdata: 0,
            wstrb: 0,
            araddr: 0,
            bready: false,
            rready: false,
            bvalid_then: false,
            rvalid_then: false,
            status,
            offsets: pf::TABLE.iter().map(|r| r.offset as u16).collect(),
            bresp: [0; 4],
            rresp: [0; 4],
        }
    }

    fn addr(&mut self) -> u16 {
        match self.rng.gen_range(0..10) {
            0..=6 => self.offsets[self.rng.gen_range(0..self.offsets.len())],
            7 | 8 => {
                // A neighbour: unaligned, unmapped, or past the table.
                let base = self.offsets[self.rng.gen_range(0..self.offsets.len())];
                base.wrapping_add(self.rng.gen_range(0..0x100))
            }
            _ => self.rng.gen(),
        }
    }

    fn drive<const N: usize>(&mut self, u: &mut RegisterFile<N>) {
        for (i, s) in self.status.iter_mut().enumerate() {
            if self.rng.gen_bool(0.02) {
                *s = self.rng.gen();
            }
            u.status[i].next = (*s as u64).to_bits();
        }
        self.drive_port(&mut u.axil);
    }

    /// The VF register port: the mirrors play the statuses.
    fn drive_vf<const NF: usize, const VM: usize>(&mut self, u: &mut VfRegisterFile<NF, VM>) {
        for (i, m) in u.mirror.iter_mut().enumerate() {
            let s = &mut self.status[i % pf::TABLE.len()];
            if self.rng.gen_bool(0.02) {
                *s = self.rng.gen();
            }
            m.next = ((*s ^ i as u32) as u64).to_bits();
        }
        self.drive_port(&mut u.axil);
    }

    fn drive_port(&mut self, p: &mut AxiLiteSlave) {
        // What happened at the last edge (decided by last cycle's values).
        let wrote = self.aw_on && self.w_on && !self.bvalid_then;
        let read = self.ar_on && !self.rvalid_then;
        if wrote {
            self.aw_on = false;
            self.w_on = false;
        }
        if read {
            self.ar_on = false;
        }
        // Responses in force this cycle.
        self.bvalid_then = p.bvalid.val();
        self.rvalid_then = p.rvalid.val();
        let rng = &mut self.rng;
        self.bready = rng.gen_bool(0.6);
        self.rready = rng.gen_bool(0.6);
        if self.bvalid_then && self.bready {
            self.bresp[p.bresp.val().index() & 3] += 1;
        }
        if self.rvalid_then && self.rready {
            self.rresp[p.rresp.val().index() & 3] += 1;
        }
        // New requests (held unchanged while pending).
        if !self.aw_on && !self.w_on && self.rng.gen_bool(0.4) {
            self.awaddr = self.addr();
            self.wdata = self.rng.gen();
            self.wstrb = self.rng.gen_range(0..16);
        }
        if !self.aw_on && self.rng.gen_bool(0.4) {
            self.aw_on = true;
        }
        if !self.w_on && self.rng.gen_bool(0.4) {
            self.w_on = true;
        }
        if !self.ar_on && self.rng.gen_bool(0.4) {
            self.araddr = self.addr();
            self.ar_on = true;
        }
        p.awvalid.next = self.aw_on;
        p.awaddr.next = (self.awaddr as u64).to_bits();
        p.wvalid.next = self.w_on;
        p.wdata.next = (self.wdata as u64).to_bits();
        p.wstrb.next = (self.wstrb as u64).to_bits();
        p.bready.next = self.bready;
        p.arvalid.next = self.ar_on;
        p.araddr.next = (self.araddr as u64).to_bits();
        p.rready.next = self.rready;
    }
}

#[test]
fn register_file_rust_and_verilog_agree() {
    let mut traffic = AxilTraffic::new(6);
    report(Equivalence::new("register_file", CYCLES).run(
        || PfRegisterFile::new(pf::TABLE),
        |u| &mut u.clock,
        |u, _| traffic.drive(u),
    ));
    eprintln!(
        "register_file coverage: writes OKAY/SLVERR/DECERR {}/{}/{}, reads {}/{}/{}",
        traffic.bresp[resp::OKAY as usize],
        traffic.bresp[resp::SLVERR as usize],
        traffic.bresp[resp::DECERR as usize],
        traffic.rresp[resp::OKAY as usize],
        traffic.rresp[resp::SLVERR as usize],
        traffic.rresp[resp::DECERR as usize],
    );
    for counts in [traffic.bresp, traffic.rresp] {
        for r in [resp::OKAY, resp::SLVERR, resp::DECERR] {
            assert!(
                counts[r as usize] > 100,
                "too few responses {r}: {counts:?}"
            );
        }
    }
}

#[test]
fn vf_register_file_rust_and_verilog_agree() {
    let mut traffic = AxilTraffic::new(7);
    // Every VF's registers, and a VF the build lacks (VF 4 at 0x4000).
    traffic.offsets = (0..5u16)
        .flat_map(|v| {
            vf::table()
                .into_iter()
                .map(move |r| v << 12 | r.offset as u16)
        })
        .collect();
    report(Equivalence::new("vf_register_file", CYCLES).run(
        DefaultVfRegisterFile::default,
        |u| &mut u.clock,
        |u, _| traffic.drive_vf(u),
    ));
    eprintln!(
        "vf_register_file coverage: writes SLVERR/DECERR {}/{}, reads OKAY/SLVERR/DECERR {}/{}/{}",
        traffic.bresp[resp::SLVERR as usize],
        traffic.bresp[resp::DECERR as usize],
        traffic.rresp[resp::OKAY as usize],
        traffic.rresp[resp::SLVERR as usize],
        traffic.rresp[resp::DECERR as usize],
    );
    assert_eq!(
        traffic.bresp[resp::OKAY as usize],
        0,
        "a VF wrote a register"
    );
    for r in [resp::SLVERR, resp::DECERR] {
        assert!(traffic.bresp[r as usize] > 100, "{:?}", traffic.bresp);
    }
    for r in [resp::OKAY, resp::SLVERR, resp::DECERR] {
        assert!(traffic.rresp[r as usize] > 100, "{:?}", traffic.rresp);
    }
}

// ---------------------------------------------------------------------------
// The harness must be able to fail.

/// RUSTHDL_NOTES mismatch #1: `a + 1` is 8 bits in Rust and 32 bits in
/// Verilog, so `(a + 1) == 0` is true for a = 255 in Rust only.
#[derive(LogicBlock, Default)]
struct WrapCompare {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<8>>,
    pub wraps: Signal<Out, Bit>,
}

impl Logic for WrapCompare {
    #[hdl_gen]
    fn update(&mut self) {
        self.wraps.next = (self.a.val() + 1) == 0;
    }
}

#[test]
fn harness_reports_a_known_rust_hdl_mismatch() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let err = Equivalence::new("wrap_compare", 2000)
        .run(
            WrapCompare::default,
            |u| &mut u.clock,
            |u, _| u.a.next = rng.gen::<u8>().to_bits(),
        )
        .expect_err("the 32-bit literal mismatch must be caught");
    eprintln!("expected mismatch: {err}");
    match err {
        EquivalenceError::Mismatch(m) => {
            assert_eq!(m.port, "wraps");
            assert_eq!((m.rust.as_str(), m.verilog.as_str()), ("1", "0"));
            assert_eq!(m.inputs, vec![("a".to_owned(), "ff".to_owned())]);
            // About 2000 / 256 cycles have a = 255, and only those differ.
            assert!(
                (1..30).contains(&m.mismatched_cycles),
                "{}",
                m.mismatched_cycles
            );
            let _ = std::fs::remove_dir_all(&m.dir);
        }
        other => panic!("expected a mismatch, got {other}"),
    }
}

/// The tool wrappers fail on what they must: a latch (yosys, Verilator) and
/// a syntax error (iverilog).
#[test]
fn tool_wrappers_reject_latches_and_errors() {
    let dir = scratch("bad_verilog");
    let latch = "module top(input wire en, input wire d, output reg q);\n\
                 always @(*) begin if (en) q = d; end\nendmodule\n";
    let path = write_verilog(&dir, "latch", latch).unwrap();
    let err = yosys_ice40(&path).expect_err("latch accepted by yosys_ice40");
    assert!(matches!(err, ToolError::Latch { .. }), "{err}");
    let err = verilator_lint(&path).expect_err("latch accepted by verilator_lint");
    assert!(err.to_string().contains("LATCH"), "{err}");
    iverilog_compile(&path).unwrap();
    let path = write_verilog(&dir, "broken", "module top(; endmodule\n").unwrap();
    assert!(matches!(
        iverilog_compile(&path),
        Err(ToolError::Failed { .. })
    ));
    assert!(matches!(yosys_ice40(&path), Err(ToolError::Failed { .. })));
    // A warning alone (a port width mismatch iverilog only prunes) fails too.
    let narrow = "module top(input wire [3:0] a, output wire q);\n\
                  sub s(.x(a), .y(q));\nendmodule\n\
                  module sub(input wire [1:0] x, output wire y);\n\
                  assign y = x[0];\nendmodule\n";
    let path = write_verilog(&dir, "narrow", narrow).unwrap();
    assert!(matches!(
        iverilog_compile(&path),
        Err(ToolError::CompileWarnings { .. })
    ));
    // A clean design passes all three with its cells counted.
    let ok = "module top(input wire clock, input wire [7:0] a, output reg [7:0] q);\n\
              always @(posedge clock) q <= q + a;\nendmodule\n";
    let path = write_verilog(&dir, "ok", ok).unwrap();
    let stats = yosys_ice40(&path).unwrap();
    assert_eq!(stats.flip_flops(), 8, "{stats}");
    assert!(stats.luts() > 0 && stats.total >= 16, "{stats}");
    iverilog_compile(&path).unwrap();
    verilator_lint(&path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// An `if` without `else` on a combinational output in a rust-hdl kernel
/// (RUSTHDL_NOTES: simulates fine, synthesizes a latch) is caught by the
/// checks every exported block goes through.
#[test]
fn latch_in_a_rust_hdl_block_is_refused() {
    #[derive(LogicBlock, Default)]
    struct Latchy {
        en: Signal<In, Bit>,
        d: Signal<In, Bit>,
        q: Signal<Out, Bit>,
    }
    impl Logic for Latchy {
        #[hdl_gen]
        fn update(&mut self) {
            if self.en.val() {
                self.q.next = self.d.val();
            }
        }
    }
    let mut uut = Latchy::default();
    uut.connect_all();
    let dir = scratch("latchy");
    let path = write_verilog(&dir, "latchy", &generate_verilog(&uut)).unwrap();
    let err = yosys_ice40(&path).expect_err("latch accepted by yosys_ice40");
    assert!(matches!(err, ToolError::Latch { .. }), "{err}");
    assert!(
        verilator_lint(&path).is_err(),
        "latch accepted by verilator_lint"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
