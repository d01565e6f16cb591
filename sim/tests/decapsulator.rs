//! The RX decapsulator: random frames (random lengths, strip codes, dest
//! masks and metadata) with random input gaps and independent random stalls
//! on every output port reach exactly the functions in their mask, stripped
//! and with their metadata, in order, and nothing else does; the per-frame
//! report; the line-rate guarantee (one input beat every cycle across
//! back-to-back frames of every length and strip) and the latency; its Rust
//! simulation against its exported Verilog under iverilog; its iCE40 cells.

use overlay_nic_hdl::decapsulator::DEFAULT_FUNCTIONS;
use overlay_nic_hdl::rx_types::{RxDescriptor, RxMeta};
use overlay_nic_hdl::Decapsulator;
use overlay_nic_sim::blocks::DefaultDecapsulator;
use overlay_nic_sim::frames::{Frame, Received, StreamDriver, StreamMonitor};
use overlay_nic_sim::rtl::{iverilog_compile, verilator_lint, write_verilog, yosys_ice40};
use overlay_nic_sim::rtl::{Equivalence, EquivalenceError};
use overlay_nic_sim::DirectSim;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::time::Instant;

const NF: usize = DEFAULT_FUNCTIONS;

/// The descriptor's strip (bytes) for a test's strip code: 0 none, 1 50
/// bytes, 2 54 (outer tag), 3 an impossible 52 (the frame is discarded),
/// 4 58 and 5 90 (outer IPv4 options).
fn strip_value(code: u64) -> u64 {
    [0, 50, 54, 52, 58, 90][code as usize]
}

/// Bytes the block removes for a descriptor strip; `None` when it must
/// discard the frame (a shift other than 0, 2 or 6 lanes, or 15 beats on).
fn strip_bytes(strip: u64) -> Option<usize> {
    (matches!(strip % 8, 0 | 2 | 6) && strip / 8 < 15).then_some(strip as usize)
}

fn random_desc(rng: &mut ChaCha8Rng, strip: u64, dest: u16) -> RxDescriptor {
    RxDescriptor {
        decap: rng.gen(),
        vni: rng.gen_range(0..1u64 << 24).to_bits(),
        src_vtep_ip: (rng.gen::<u32>() as u64).to_bits(),
        vlan_valid: rng.gen(),
        vlan: rng.gen_range(0..4096u64).to_bits(),
        ip_csum: rng.gen_range(0..4u64).to_bits(),
        l4_csum: rng.gen_range(0..4u64).to_bits(),
        learn: rng.gen(),
        strip: strip_value(strip).to_bits(),
        dest: (dest as u64).to_bits(),
    }
}

fn meta_of(d: &RxDescriptor) -> RxMeta {
    RxMeta {
        decap: d.decap,
        vni: d.vni,
        src_vtep_ip: d.src_vtep_ip,
        vlan_valid: d.vlan_valid,
        vlan: d.vlan,
        ip_csum: d.ip_csum,
        l4_csum: d.l4_csum,
        learn: d.learn,
    }
}

fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.gen()).collect()
}

/// What a frame leaves behind: the delivered bytes (if any) and the report
/// `(dest, length, decap)`.
fn outcome(f: &Frame<RxDescriptor>) -> (Option<Vec<u8>>, (u64, u64, bool)) {
    let d = &f.meta;
    let mask = d.dest.to_u64() & ((1 << NF) - 1);
    match strip_bytes(d.strip.to_u64()) {
        Some(s) if f.data.len() > s => {
            let out = f.data[s..].to_vec();
            let len = out.len() as u64;
            ((mask != 0).then_some(out), (mask, len, d.decap))
        }
        _ => (None, (0, 0, d.decap)),
    }
}

/// What a run produced.
struct Outcome {
    /// Frames received per port.
    ports: Vec<Vec<Received<RxMeta>>>,
    /// `(dest, length, decap)` per `frame_done` pulse, in order.
    reports: Vec<(u64, u64, bool)>,
    /// Cycle of every input handshake.
    taken: Vec<u64>,
    cycles: u64,
    seconds: f64,
}

/// Feeds `frames` (idle probability `idle`), drains port `f` with
/// back-pressure `bp[f]`, runs until every expected frame is out plus 16
/// cycles, and fails on a protocol violation, a hang or any extra output.
fn run(frames: &[Frame<RxDescriptor>], seed: u64, idle: f64, bp: &[f64; NF]) -> Outcome {
    let mut sim = DirectSim::new(DefaultDecapsulator::default(), |u| &mut u.clock).unwrap();
    let mut driver = StreamDriver::new(seed, idle);
    for f in frames {
        driver.push(f.clone()).unwrap();
    }
    let mut monitors: Vec<StreamMonitor<RxMeta>> = (0..NF)
        .map(|i| StreamMonitor::new(seed ^ (0x5eed + i as u64), bp[i]))
        .collect();
    let mut want_frames = [0usize; NF];
    let mut want_beats = [0u64; NF];
    let mut in_beats = 0u64;
    for f in frames {
        in_beats += f.data.len().div_ceil(8) as u64;
        if let (Some(out), (mask, _, _)) = outcome(f) {
            for p in 0..NF {
                if mask >> p & 1 == 1 {
                    want_frames[p] += 1;
                    want_beats[p] += out.len().div_ceil(8) as u64;
                }
            }
        }
    }
    let max_cycles = (in_beats + want_beats.iter().sum::<u64>()) * 50 + 500;
    let mut reports = Vec::new();
    let mut taken = Vec::new();
    let mut drain = None;
    let start = Instant::now();
    loop {
        let cycle = sim.cycle();
        driver.drive(&mut sim.uut().s_axis);
        for (p, m) in monitors.iter_mut().enumerate() {
            m.drive(&mut sim.uut().m_host[p]);
        }
        sim.settle().unwrap();
        let u = sim.uut_ref();
        if u.s_axis.tvalid.val() && u.s_axis.tready.val() {
            taken.push(cycle);
        }
        if u.frame_done.val() {
            reports.push((
                u.frame_dest.val().to_u64(),
                u.frame_length.val().to_u64(),
                u.frame_decap.val(),
            ));
        }
        driver.observe(&sim.uut_ref().s_axis);
        for (p, m) in monitors.iter_mut().enumerate() {
            m.observe(&sim.uut_ref().m_host[p], cycle);
            assert!(m.violation().is_none(), "port {p}: {:?}", m.violation());
        }
        sim.tick().unwrap();
        let all_out = (0..NF).all(|p| monitors[p].frames().len() >= want_frames[p]);
        if drain.is_none() && driver.done() && all_out {
            drain = Some(sim.cycle() + 16);
        }
        if drain.is_some_and(|end| sim.cycle() >= end) {
            break;
        }
        assert!(
            sim.cycle() < max_cycles,
            "timed out: {} of {} frames in, out {:?} of {want_frames:?}",
            driver.frames_sent(),
            frames.len(),
            monitors
                .iter()
                .map(|m| m.frames().len())
                .collect::<Vec<_>>()
        );
    }
    let seconds = start.elapsed().as_secs_f64();
    for p in 0..NF {
        assert_eq!(monitors[p].beats(), want_beats[p], "port {p}: beats out");
    }
    Outcome {
        ports: monitors.iter().map(|m| m.frames().to_vec()).collect(),
        reports,
        taken,
        cycles: sim.cycle(),
        seconds,
    }
}

/// Every port got exactly its frames, stripped, with their metadata, in
/// order; one report per input frame.
fn check(frames: &[Frame<RxDescriptor>], out: &Outcome) {
    for p in 0..NF {
        let want: Vec<(usize, Vec<u8>, RxMeta)> = frames
            .iter()
            .enumerate()
            .filter_map(|(i, f)| match outcome(f) {
                (Some(data), (mask, _, _)) if mask >> p & 1 == 1 => {
                    Some((i, data, meta_of(&f.meta)))
                }
                _ => None,
            })
            .collect();
        let got = &out.ports[p];
        assert_eq!(got.len(), want.len(), "port {p}: frames out");
        for (g, (i, data, meta)) in got.iter().zip(&want) {
            let f = &frames[*i];
            assert!(
                g.data == *data,
                "port {p}, input frame {i} ({} bytes, strip code {}): {} bytes out, {} expected\n got: {:02x?}\nwant: {:02x?}",
                f.data.len(),
                f.meta.strip.to_u64(),
                g.data.len(),
                data.len(),
                &g.data[..g.data.len().min(80)],
                &data[..data.len().min(80)],
            );
            assert_eq!(g.meta, *meta, "port {p}, input frame {i}: metadata");
        }
    }
    let want: Vec<(u64, u64, bool)> = frames.iter().map(|f| outcome(f).1).collect();
    assert_eq!(out.reports, want, "frame_done reports");
}

fn frame(rng: &mut ChaCha8Rng, len: usize, strip: u64, dest: u16) -> Frame<RxDescriptor> {
    let d = random_desc(rng, strip, dest);
    Frame::new(payload(len, rng.gen()), d)
}

// ---------------------------------------------------------------------------
// Random traffic.

fn frames_strategy() -> impl Strategy<Value = Vec<Frame<RxDescriptor>>> {
    let len = prop_oneof![40 => 1usize..=300, 1 => Just(1500usize), 1 => Just(9000usize)];
    let strip = prop_oneof![10 => 0u64..=2, 3 => 4u64..=5, 1 => Just(3u64)];
    let dest = prop_oneof![
        1 => Just(0u16),
        4 => 1u16..(1 << NF),
        1 => any::<u16>(),
    ];
    prop::collection::vec((len, strip, dest, any::<u64>()), 1..12).prop_map(|v| {
        v.into_iter()
            .map(|(len, strip, dest, seed)| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                frame(&mut rng, len, strip, dest)
            })
            .collect()
    })
}

fn stall_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), 0.0f64..0.8]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn every_function_gets_exactly_its_frames(
        frames in frames_strategy(),
        seed in any::<u64>(),
        idle in stall_strategy(),
        bp in prop::array::uniform5(stall_strategy()),
    ) {
        let out = run(&frames, seed, idle, &bp);
        check(&frames, &out);
    }
}

/// Every length up to 80 with every strip code, under stalls on both sides.
#[test]
fn short_frames_of_every_length_and_strip() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut frames = Vec::new();
    for len in 1..=80 {
        for strip in 0..=3 {
            let dest = rng.gen_range(0..1u16 << NF);
            frames.push(frame(&mut rng, len, strip, dest));
        }
    }
    for (k, (idle, bp)) in [(0.0, 0.0), (0.4, 0.0), (0.0, 0.5), (0.5, 0.5)]
        .into_iter()
        .enumerate()
    {
        let bps = std::array::from_fn(|p| if p % 2 == 0 { bp } else { bp / 2.0 });
        let out = run(&frames, 10 + k as u64, idle, &bps);
        check(&frames, &out);
    }
}

/// A frame's final partial beat waits for a stalled port while frames that
/// go nowhere stream past (a discarded frame's last beat once cancelled it).
#[test]
fn a_pending_tail_survives_discarded_frames() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut frames = vec![frame(&mut rng, 20, 0, 0b01000)];
    for len in 1..=9 {
        frames.push(frame(&mut rng, len, 1 + len as u64 % 3, 0));
        frames.push(frame(&mut rng, 40 + len, 1, 0b00110));
    }
    frames.push(frame(&mut rng, 70, 2, 0b01001));
    for seed in 0..8 {
        let out = run(&frames, seed, 0.0, &[0.0, 0.0, 0.0, 0.7, 0.0]);
        check(&frames, &out);
    }
}

// ---------------------------------------------------------------------------
// Line rate.

/// Input beats every cycle from the first to the last, outputs always ready.
fn assert_line_rate(frames: &[Frame<RxDescriptor>], what: &str) -> Outcome {
    let out = run(frames, 0, 0.0, &[0.0; NF]);
    check(frames, &out);
    let beats: u64 = frames.iter().map(|f| f.data.len().div_ceil(8) as u64).sum();
    assert_eq!(out.taken.len() as u64, beats, "{what}: input beats");
    let span = out.taken.last().unwrap() - out.taken[0] + 1;
    assert_eq!(span, beats, "{what}: cycles from first to last input beat");
    out
}

#[test]
fn line_rate_across_back_to_back_frames() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (mut cycles, mut seconds) = (0u64, 0f64);
    for strip in 0..=2 {
        // Every length, mostly delivered (to one or several functions),
        // now and then discarded.
        let frames: Vec<_> = (1..=200)
            .map(|len| {
                let dest = if rng.gen_bool(0.1) {
                    0
                } else {
                    rng.gen_range(1..1u16 << NF)
                };
                frame(&mut rng, len, strip, dest)
            })
            .collect();
        let out = assert_line_rate(&frames, &format!("strip code {strip}"));
        cycles += out.cycles;
        seconds += out.seconds;
    }
    // Every strip code after every other, over lengths around the strips.
    let frames: Vec<_> = (0..600)
        .map(|i| {
            let len = [1, 7, 8, 9, 49, 50, 51, 53, 54, 55, 56, 57, 58, 63, 64, 65][i % 16]
                + rng.gen_range(0..3);
            let dest = rng.gen_range(1..1u16 << NF);
            frame(&mut rng, len, (i % 3) as u64, dest)
        })
        .collect();
    let out = assert_line_rate(&frames, "mixed strips");
    cycles += out.cycles;
    seconds += out.seconds;
    println!(
        "direct-loop simulation speed: {cycles} cycles in {seconds:.3} s = {:.0} cycles/s",
        cycles as f64 / seconds
    );
}

/// Latency through the empty block, outputs ready, input back to back:
/// from the frame's first input beat (cycle 0) to its first output beat.
#[test]
fn latency() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for strip in 0..=2u64 {
        for len in [1usize, 8, 9, 60, 64, 65, 1500] {
            let s = strip_bytes(strip_value(strip)).unwrap();
            if len <= s {
                continue;
            }
            let frames = vec![frame(&mut rng, len, strip, 1)];
            let out = run(&frames, 0, 0.0, &[0.0; NF]);
            check(&frames, &out);
            let o = &out.ports[0][0];
            let first_in = out.taken[0];
            let last_in = *out.taken.last().unwrap();
            println!(
                "latency, strip {s}, {len} bytes: first in -> first out {}, last in -> last out {}",
                o.first_cycle - first_in,
                o.last_cycle - last_in,
            );
            // Input beat W (0 or 6) is taken, then 2 cycles to the ports.
            let w = if s == 0 { 0 } else { 6 };
            assert_eq!(o.first_cycle - first_in, w + 2, "first output beat");
            let tail = (len - s).div_ceil(8) > len.div_ceil(8) - w as usize - 1;
            assert_eq!(o.last_cycle - last_in, 1 + tail as u64, "last output beat");
        }
    }
}

// ---------------------------------------------------------------------------
// Rust simulation against the exported Verilog.

/// A random frame source for the equivalence run: a beat once offered stays
/// until taken, `tuser` is fixed per frame, `tkeep` is full except on the
/// last beat (now and then any value there); junk on every signal but
/// `tvalid` while idle.
struct Traffic {
    rng: ChaCha8Rng,
    valid_p: f64,
    offered: bool,
    taken: bool,
    left: u32,
    last_keep: u8,
    desc: RxDescriptor,
    beat: (u64, u8, bool),
    frames: u64,
    /// Frames per strip code.
    strips: [u64; 4],
    multicast: u64,
}

impl Traffic {
    fn new(seed: u64) -> Self {
        Traffic {
            rng: ChaCha8Rng::seed_from_u64(seed),
            valid_p: 0.8,
            offered: false,
            taken: false,
            left: 0,
            last_keep: 0xff,
            desc: RxDescriptor::default(),
            beat: (0, 0, false),
            frames: 0,
            strips: [0; 4],
            multicast: 0,
        }
    }

    fn drive(&mut self, u: &mut DefaultDecapsulator) {
        let rng = &mut self.rng;
        if self.offered && self.taken {
            self.offered = false;
        }
        if rng.gen_bool(0.0005) {
            self.valid_p = [0.3, 0.8, 1.0][rng.gen_range(0..3)];
        }
        if !self.offered && rng.gen_bool(self.valid_p) {
            if self.left == 0 {
                let beats = if rng.gen_bool(0.05) {
                    rng.gen_range(40..=200)
                } else {
                    rng.gen_range(1..=12)
                };
                let last_bytes = rng.gen_range(1..=8u32);
                let strip = [0, 1, 1, 2, 2, 3][rng.gen_range(0..6)];
                let dest = match rng.gen_range(0..10) {
                    0 => 0,
                    1 => rng.gen(),
                    2..=4 => rng.gen_range(1..1u16 << NF),
                    _ => 1 << rng.gen_range(0..NF),
                };
                self.desc = random_desc(rng, strip, dest);
                self.left = beats;
                self.last_keep = ((1u16 << last_bytes) - 1) as u8;
                if rng.gen_bool(0.03) {
                    // Against the rules, but the two must still agree.
                    self.last_keep = rng.gen();
                }
                self.frames += 1;
                self.strips[strip as usize] += 1;
                self.multicast += ((dest as usize & ((1 << NF) - 1)).count_ones() > 1) as u64;
            }
            self.left -= 1;
            let last = self.left == 0;
            let keep = if last { self.last_keep } else { 0xff };
            self.beat = (rng.gen(), keep, last);
            self.offered = true;
        }
        let s = &mut u.s_axis;
        s.tvalid.next = self.offered;
        if self.offered {
            s.tdata.next = self.beat.0.to_bits();
            s.tkeep.next = (self.beat.1 as u64).to_bits();
            s.tlast.next = self.beat.2;
            s.tuser.next = self.desc;
        } else {
            s.tdata.next = rng.gen::<u64>().to_bits();
            s.tkeep.next = rng.gen::<u8>().to_bits();
            s.tlast.next = rng.gen();
            let strip = rng.gen_range(0..4);
            let dest = rng.gen();
            s.tuser.next = random_desc(rng, strip, dest);
        }
    }
}

#[test]
fn decapsulator_rust_and_verilog_agree() {
    let mut traffic = Traffic::new(61);
    let mut drain_rng = ChaCha8Rng::seed_from_u64(62);
    let mut p = [0.5f64; NF];
    let mut phase_left = 0u64;
    let (mut beats_out, mut stalls, mut frames_done) = (0u64, 0u64, 0u64);
    let cycles = 30_000;
    let report = Equivalence::new("decapsulator", cycles).run(
        DefaultDecapsulator::default,
        |u| &mut u.clock,
        |u, _| {
            traffic.drive(u);
            if phase_left == 0 {
                // A stalled port holds up every port (shared output
                // register), so full stops are short and rare.
                phase_left = drain_rng.gen_range(50..600);
                for q in p.iter_mut() {
                    *q = [0.0, 0.3, 0.7, 0.9, 1.0, 1.0, 1.0, 1.0][drain_rng.gen_range(0..8)];
                }
                if drain_rng.gen_bool(0.7) {
                    for q in p.iter_mut() {
                        *q = q.max(0.3);
                    }
                }
            }
            phase_left -= 1;
            let ready: [bool; NF] = std::array::from_fn(|i| p[i] > 0.0 && drain_rng.gen_bool(p[i]));
            for (i, &r) in ready.iter().enumerate() {
                u.m_host[i].tready.next = r;
            }
            // Settle with this cycle's inputs (the clock stays low) to see
            // whether the offered beat is taken: tready depends on the
            // ports' tready and the descriptor.
            assert!(simulate(u, 100), "did not settle");
            traffic.taken = u.s_axis.tvalid.val() && u.s_axis.tready.val();
            stalls += (u.s_axis.tvalid.val() && !u.s_axis.tready.val()) as u64;
            frames_done += u.frame_done.val() as u64;
            for (i, &r) in ready.iter().enumerate() {
                beats_out += (u.m_host[i].tvalid.val() && r) as u64;
            }
        },
    );
    match report {
        Ok(rep) => eprintln!("equivalence {rep}"),
        Err(EquivalenceError::Mismatch(m)) => panic!("{m}"),
        Err(e) => panic!("{e}"),
    }
    eprintln!(
        "decapsulator coverage: {} frames offered (strip codes 0/1/2/3: {:?}, {} to several \
         functions), {frames_done} done, {beats_out} beats out over {NF} ports, input stalled \
         {stalls} cycles",
        traffic.frames, traffic.strips, traffic.multicast
    );
    assert!(
        traffic.frames > 1000
            && traffic.strips.iter().all(|&n| n > 100)
            && traffic.multicast > 100
            && frames_done + 2 >= traffic.frames
            && stalls > 2000,
        "stimulus too tame"
    );
}

// ---------------------------------------------------------------------------
// Verilog tools and area.

#[test]
fn decapsulator_verilog_passes_the_tools_and_its_cells_are_counted() {
    let dir = std::env::temp_dir().join(format!("overlay-nic-decap-{}", std::process::id()));
    for (name, verilog) in [
        ("decapsulator", {
            let mut uut = DefaultDecapsulator::default();
            uut.connect_all();
            generate_verilog(&uut)
        }),
        ("decapsulator_16", {
            let mut uut = Decapsulator::<16>::default();
            uut.connect_all();
            generate_verilog(&uut)
        }),
    ] {
        let path = write_verilog(&dir, name, &verilog).unwrap();
        let stats = yosys_ice40(&path).unwrap();
        iverilog_compile(&path).unwrap();
        verilator_lint(&path).unwrap();
        println!("yosys synth_ice40 {name}: {stats}");
        assert_eq!(stats.brams(), 0, "no frame storage");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
