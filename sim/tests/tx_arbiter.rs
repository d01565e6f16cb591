//! TxArbiter: random frames on every input with random idle cycles and
//! random output back-pressure come out whole, in per-input order, tagged
//! with their function and host tag, and nothing else comes out; with every
//! input saturated the grants rotate and the output has no bubble; the Rust
//! simulation against the exported Verilog; the Verilog port names of the
//! input array; the block's iCE40 cell count.

use overlay_nic_hdl::tx_arbiter::DEFAULT_FUNCTIONS;
use overlay_nic_hdl::tx_types::{TxHostMeta, TxTagged};
use overlay_nic_hdl::TxArbiter;
use overlay_nic_sim::blocks::DefaultTxArbiter;
use overlay_nic_sim::frames::{Frame, Received, StreamDriver, StreamMonitor};
use overlay_nic_sim::rtl::{
    iverilog_compile, ports, verilator_lint, verilog_top_ports, write_verilog, yosys_ice40,
    Equivalence, PortDir,
};
use overlay_nic_sim::DirectSim;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;

const NF: usize = DEFAULT_FUNCTIONS;

fn host_meta(encap: bool, vni: u32) -> TxHostMeta {
    TxHostMeta {
        encap,
        vni: u64::from(vni & 0xff_ffff).to_bits(),
        ..Default::default()
    }
}

/// A frame whose bytes name its input and its place in that input's queue.
fn frame(input: usize, seq: usize, len: usize, encap: bool, vni: u32) -> Frame<TxHostMeta> {
    let data = (0..len)
        .map(|i| (i as u8) ^ (input as u8).wrapping_mul(37) ^ (seq as u8).wrapping_mul(11))
        .collect();
    Frame::new(data, host_meta(encap, vni))
}

/// What a run produced.
struct Outcome {
    frames: Vec<Received<TxTagged>>,
    cycles: u64,
}

/// Feeds `queues[i]` into input `i` (idle probability `idle[i]` per cycle
/// when free to choose), drains the output with back-pressure `bp`, and
/// runs until every frame came out plus a few cycles (any extra output
/// fails). The monitor checks the stream rules on the output.
fn run<const N: usize>(
    queues: &[Vec<Frame<TxHostMeta>>],
    idle: &[f64],
    bp: f64,
    seed: u64,
) -> Outcome {
    assert_eq!(queues.len(), N);
    let mut sim = DirectSim::new(TxArbiter::<N>::default(), |u| &mut u.clock).unwrap();
    let mut drivers: Vec<StreamDriver<TxHostMeta>> = (0..N)
        .map(|i| StreamDriver::new(seed.wrapping_add(i as u64 + 1), idle[i]))
        .collect();
    for (d, q) in drivers.iter_mut().zip(queues) {
        for f in q {
            d.push(f.clone()).unwrap();
        }
    }
    let expected: usize = queues.iter().map(Vec::len).sum();
    let beats: u64 = queues
        .iter()
        .flatten()
        .map(|f| f.data.len().div_ceil(8) as u64)
        .sum();
    let mut monitor = StreamMonitor::<TxTagged>::new(seed ^ 0x5eed, bp);
    let max_cycles = beats * 100 + 500;
    let mut drain_until = None;
    loop {
        let cycle = sim.cycle();
        for (i, d) in drivers.iter_mut().enumerate() {
            d.drive(&mut sim.uut().s_axis[i]);
        }
        monitor.drive(&mut sim.uut().m_axis);
        sim.settle().unwrap();
        for (i, d) in drivers.iter_mut().enumerate() {
            d.observe(&sim.uut().s_axis[i]);
        }
        monitor.observe(&sim.uut().m_axis, cycle);
        sim.tick().unwrap();
        if let Some(v) = monitor.violation() {
            panic!("{v}");
        }
        if drain_until.is_none()
            && monitor.frames().len() >= expected
            && drivers.iter().all(StreamDriver::done)
        {
            drain_until = Some(sim.cycle() + 20);
        }
        if drain_until.is_some_and(|end| sim.cycle() >= end) {
            break;
        }
        assert!(
            sim.cycle() < max_cycles,
            "hang: {} of {expected} frames out after {max_cycles} cycles",
            monitor.frames().len()
        );
    }
    assert_eq!(monitor.frames().len(), expected, "frames out");
    assert_eq!(monitor.beats(), beats, "beats out (nothing extra)");
    Outcome {
        frames: monitor.frames().to_vec(),
        cycles: sim.cycle(),
    }
}

/// Every frame came out whole, from the right input, with its tag, in the
/// order that input sent them.
fn check_delivery(queues: &[Vec<Frame<TxHostMeta>>], out: &Outcome) {
    let mut next = vec![0usize; queues.len()];
    for (k, got) in out.frames.iter().enumerate() {
        let f = got.meta.function.to_u64() as usize;
        assert!(f < queues.len(), "frame {k}: function {f}");
        let want = queues[f]
            .get(next[f])
            .unwrap_or_else(|| panic!("frame {k}: more frames from input {f} than it sent"));
        assert!(
            got.data == want.data,
            "frame {k} from input {f}: data differs (sent #{}, {} bytes, got {} bytes)",
            next[f],
            want.data.len(),
            got.data.len()
        );
        assert_eq!(got.meta.encap, want.meta.encap, "frame {k}: encap");
        assert_eq!(got.meta.vni, want.meta.vni, "frame {k}: vni");
        next[f] += 1;
    }
    for (i, q) in queues.iter().enumerate() {
        assert_eq!(next[i], q.len(), "input {i}: frames delivered");
    }
}

fn random_queues<const N: usize>(
    rng: &mut ChaCha8Rng,
    frames: usize,
    max_len: usize,
) -> Vec<Vec<Frame<TxHostMeta>>> {
    (0..N)
        .map(|i| {
            let n = rng.gen_range(0..=frames);
            (0..n)
                .map(|s| {
                    let len = if rng.gen_bool(0.2) {
                        rng.gen_range(1..=8)
                    } else {
                        rng.gen_range(1..=max_len)
                    };
                    frame(i, s, len, rng.gen(), rng.gen())
                })
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_traffic_arrives_whole_tagged_and_in_order(
        seed in any::<u64>(),
        idle in prop::collection::vec(prop_oneof![Just(0.0), 0.0f64..0.9], NF),
        bp in prop_oneof![Just(0.0), 0.0f64..0.8],
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let queues = random_queues::<NF>(&mut rng, 8, 200);
        let out = run::<NF>(&queues, &idle, bp, seed);
        check_delivery(&queues, &out);
    }
}

#[test]
fn other_sizes_work_too() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for seed in 0..8u64 {
        let q1 = random_queues::<1>(&mut rng, 10, 100);
        check_delivery(&q1, &run::<1>(&q1, &[0.3], 0.3, seed));
        let q2 = random_queues::<2>(&mut rng, 10, 100);
        check_delivery(&q2, &run::<2>(&q2, &[0.0, 0.5], 0.5, seed));
        let q16 = random_queues::<16>(&mut rng, 4, 60);
        check_delivery(&q16, &run::<16>(&q16, &[0.4; 16], 0.3, seed));
    }
}

/// All inputs saturated with the same number of frames: the grants go
/// 1, 2, ..., NF-1, 0, 1, ... (the search starts after the last grant,
/// initially 0), so every NF consecutive frames hold one of each input;
/// with the output always ready there is no idle cycle from the first beat
/// out to the last.
#[test]
fn saturated_inputs_rotate_without_bubbles() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for (bp, lengths) in [(0.0, 1..=8), (0.0, 1..=300), (0.5, 1..=64)] {
        let queues: Vec<Vec<Frame<TxHostMeta>>> = (0..NF)
            .map(|i| {
                (0..30)
                    .map(|s| frame(i, s, rng.gen_range(lengths.clone()), rng.gen(), rng.gen()))
                    .collect()
            })
            .collect();
        let out = run::<NF>(&queues, &[0.0; NF], bp, 13);
        check_delivery(&queues, &out);
        let order: Vec<usize> = out
            .frames
            .iter()
            .map(|f| f.meta.function.to_u64() as usize)
            .collect();
        for (k, &f) in order.iter().enumerate() {
            assert_eq!(f, (k + 1) % NF, "grant {k} (order {order:?})");
        }
        for w in order.windows(NF) {
            let mut seen = [false; NF];
            w.iter().for_each(|&f| seen[f] = true);
            assert!(seen.iter().all(|&s| s), "window {w:?} misses an input");
        }
        if bp == 0.0 {
            let beats: u64 = queues
                .iter()
                .flatten()
                .map(|f| f.data.len().div_ceil(8) as u64)
                .sum();
            let span = out.frames.last().unwrap().last_cycle - out.frames[0].first_cycle + 1;
            assert_eq!(
                span, beats,
                "bubbles on the output ({} cycles run)",
                out.cycles
            );
        }
    }
}

/// A waiting input gets the output in the cycle right after the current
/// frame's last beat, even when it is the only other one and the frames are
/// one beat long.
#[test]
fn two_inputs_of_one_beat_frames_alternate_every_cycle() {
    let queues: Vec<Vec<Frame<TxHostMeta>>> = (0..NF)
        .map(|i| {
            if i == 2 || i == 4 {
                (0..50).map(|s| frame(i, s, 5, i == 2, s as u32)).collect()
            } else {
                Vec::new()
            }
        })
        .collect();
    let out = run::<NF>(&queues, &[0.0; NF], 0.0, 14);
    check_delivery(&queues, &out);
    for (k, pair) in out.frames.windows(2).enumerate() {
        assert_eq!(pair[1].first_cycle, pair[0].last_cycle + 1, "gap after {k}");
        assert_ne!(
            pair[0].meta.function, pair[1].meta.function,
            "no alternation"
        );
    }
}

/// One busy input alone keeps the (parked) grant: its frames follow each
/// other without a gap, one-beat frames included.
#[test]
fn a_lone_input_sends_back_to_back() {
    for len in [5, 8, 100] {
        let queues: Vec<Vec<Frame<TxHostMeta>>> = (0..NF)
            .map(|i| {
                if i == 3 {
                    (0..40).map(|s| frame(i, s, len, true, 77)).collect()
                } else {
                    Vec::new()
                }
            })
            .collect();
        let out = run::<NF>(&queues, &[0.0; NF], 0.0, 16);
        check_delivery(&queues, &out);
        for (k, pair) in out.frames.windows(2).enumerate() {
            assert_eq!(
                pair[1].first_cycle,
                pair[0].last_cycle + 1,
                "{len}-byte frames: gap after frame {k}"
            );
        }
    }
}

/// Offers one one-beat frame for each `(input, from)` of `script` from
/// cycle `from` on (output always ready) and returns `(input, cycle)` for
/// each beat that moved.
fn moves_of(
    uut: &mut DirectSim<DefaultTxArbiter>,
    script: &[(usize, u64)],
    cycles: u64,
) -> Vec<(usize, u64)> {
    let mut moved = Vec::new();
    let mut sent = [false; NF];
    for _ in 0..cycles {
        let cycle = uut.cycle();
        let u = uut.uut();
        u.m_axis.tready.next = true;
        for (i, s) in u.s_axis.iter_mut().enumerate() {
            let on = !sent[i] && script.iter().any(|&(j, from)| j == i && cycle >= from);
            s.tvalid.next = on;
            s.tdata.next = (i as u64).to_bits();
            s.tkeep.next = 1u64.to_bits();
            s.tlast.next = true;
            s.tuser.next = host_meta(false, 0);
        }
        uut.settle().unwrap();
        for (i, s) in uut.uut_ref().s_axis.iter().enumerate() {
            if s.tvalid.val() && s.tready.val() {
                moved.push((i, cycle));
                sent[i] = true;
            }
        }
        uut.tick().unwrap();
    }
    moved
}

/// The grant is a register: a request to an idle arbiter moves one cycle
/// after it is raised (or at once if the grant is parked on it), and a
/// request raised while another frame ends moves in the next cycle.
#[test]
fn grant_latency() {
    let mut sim = DirectSim::new(DefaultTxArbiter::default(), |u| &mut u.clock).unwrap();
    // Power-up: nobody holds the grant. Input 2 asks at cycle 3: granted at
    // the edge, its beat moves at cycle 4. Then the grant is parked on 2.
    assert_eq!(moves_of(&mut sim, &[(2, 3)], 10), vec![(2, 4)]);
    let mut sim = DirectSim::new(DefaultTxArbiter::default(), |u| &mut u.clock).unwrap();
    // 2 at 3 (moves at 4), then 2 again is parked: a second frame from 2 at
    // once; 0 and 4 ask together at cycle 8: round robin after 2 picks 4
    // (moves at 9), then 0 (moves at 10, 4's frame ending at 9 passes it on).
    let mut script = vec![(2, 3)];
    let first = moves_of(&mut sim, &script, 6);
    assert_eq!(first, vec![(2, 4)]);
    script = vec![(2, 6), (0, 8), (4, 8)];
    assert_eq!(
        moves_of(&mut sim, &script, 8),
        vec![(2, 6), (4, 9), (0, 10)]
    );
}

// ---------------------------------------------------------------------------
// Verilog

/// Random AXI4-Stream sources for every input, kept legal (a beat once
/// offered stays until taken, junk while idle). The arbiter's `tready`
/// depends on other inputs' `tvalid` within the cycle, so whether a beat was
/// taken is read from a shadow copy of the design run on the same inputs.
struct Hosts {
    rng: ChaCha8Rng,
    shadow: DirectSim<DefaultTxArbiter>,
    valid_p: [f64; NF],
    offered: [bool; NF],
    left: [u32; NF],
    beat: [(u64, u8, bool); NF],
    meta: [(bool, u32); NF],
    ready_p: f64,
    phase_left: u64,
    frames_out: u64,
    switches: u64,
    last_function: u64,
}

impl Hosts {
    fn new(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let valid_p = std::array::from_fn(|_| [0.2, 0.6, 0.95][rng.gen_range(0..3)]);
        Hosts {
            rng,
            shadow: DirectSim::new(DefaultTxArbiter::default(), |u| &mut u.clock).unwrap(),
            valid_p,
            offered: [false; NF],
            left: [0; NF],
            beat: [(0, 0, false); NF],
            meta: [(false, 0); NF],
            ready_p: 0.5,
            phase_left: 0,
            frames_out: 0,
            switches: 0,
            last_function: 0,
        }
    }

    /// Chooses this cycle's inputs and applies them to `u` and the shadow.
    fn drive(&mut self, u: &mut DefaultTxArbiter) {
        let rng = &mut self.rng;
        if self.phase_left == 0 {
            self.phase_left = rng.gen_range(50..1000);
            self.ready_p = [0.0, 0.3, 0.8, 1.0][rng.gen_range(0..4)];
            for p in &mut self.valid_p {
                *p = [0.1, 0.6, 1.0][rng.gen_range(0..3)];
            }
        }
        self.phase_left -= 1;
        let ready = self.ready_p > 0.0 && rng.gen_bool(self.ready_p);
        for i in 0..NF {
            if !self.offered[i] && rng.gen_bool(self.valid_p[i]) {
                if self.left[i] == 0 {
                    self.left[i] = if rng.gen_bool(0.05) {
                        rng.gen_range(20..=60)
                    } else {
                        rng.gen_range(1..=6)
                    };
                    self.meta[i] = (rng.gen(), rng.gen::<u32>() & 0xff_ffff);
                }
                self.left[i] -= 1;
                let last = self.left[i] == 0;
                let keep = if last {
                    (1u16 << rng.gen_range(1..=8)) - 1
                } else {
                    0xff
                };
                self.beat[i] = (rng.gen(), keep as u8, last);
                self.offered[i] = true;
            }
        }
        // What each input shows: its beat, or junk while idle.
        let shown: Vec<(bool, u64, u8, bool, bool, u32)> = (0..NF)
            .map(|i| {
                let junk = (rng.gen(), rng.gen(), rng.gen(), rng.gen(), rng.gen());
                if self.offered[i] {
                    let (d, k, l) = self.beat[i];
                    (true, d, k, l, self.meta[i].0, self.meta[i].1)
                } else {
                    (false, junk.0, junk.1, junk.2, junk.3, junk.4)
                }
            })
            .collect();
        for target in [&mut *u, self.shadow.uut()] {
            for (s, &(valid, data, keep, last, encap, vni)) in target.s_axis.iter_mut().zip(&shown)
            {
                s.tvalid.next = valid;
                s.tdata.next = data.to_bits();
                s.tkeep.next = u64::from(keep).to_bits();
                s.tlast.next = last;
                s.tuser.next = host_meta(encap, vni);
            }
            target.m_axis.tready.next = ready;
        }
        self.shadow.settle().unwrap();
        let sh = self.shadow.uut_ref();
        for i in 0..NF {
            if self.offered[i] && sh.s_axis[i].tready.val() {
                self.offered[i] = false;
            }
        }
        let m = &sh.m_axis;
        if m.tvalid.val() && m.tready.val() {
            let f = m.tuser.val().function.to_u64();
            if m.tlast.val() {
                self.frames_out += 1;
            }
            if f != self.last_function {
                self.switches += 1;
                self.last_function = f;
            }
        }
        self.shadow.tick().unwrap();
    }
}

#[test]
fn tx_arbiter_rust_and_verilog_agree() {
    let mut hosts = Hosts::new(15);
    let report = Equivalence::new("tx_arbiter", 30_000)
        .run(
            DefaultTxArbiter::default,
            |u| &mut u.clock,
            |u, _| hosts.drive(u),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("equivalence {report}");
    eprintln!(
        "tx_arbiter coverage: {} frames out, {} function switches",
        hosts.frames_out, hosts.switches
    );
    assert!(
        hosts.frames_out > 1000 && hosts.switches > 800,
        "stimulus too tame"
    );
}

/// The input array becomes `s_axis$0$tdata` ... in the Verilog, the same
/// names the equivalence harness samples in the simulation.
#[test]
fn array_port_names_match_the_exported_verilog() {
    let mut uut = DefaultTxArbiter::default();
    uut.connect_all();
    let verilog = generate_verilog(&uut);
    let ours: Vec<(String, usize, PortDir)> = ports(&uut)
        .into_iter()
        .map(|p| (p.name, p.width, p.dir))
        .collect();
    assert_eq!(ours, verilog_top_ports(&verilog));
    assert!(ours.contains(&("s_axis$4$tuser".to_owned(), 76, PortDir::In)));
    assert!(ours.contains(&("m_axis$tuser".to_owned(), 80, PortDir::Out)));
}

#[test]
fn tx_arbiter_passes_yosys_iverilog_and_verilator() {
    let dir = std::env::temp_dir().join(format!("overlay-nic-tx-arbiter-{}", std::process::id()));
    for (name, verilog) in [
        ("tx_arbiter_5", {
            let mut u = DefaultTxArbiter::default();
            u.connect_all();
            generate_verilog(&u)
        }),
        ("tx_arbiter_16", {
            let mut u = TxArbiter::<16>::default();
            u.connect_all();
            generate_verilog(&u)
        }),
    ] {
        let path = write_verilog(&dir, name, &verilog).unwrap();
        let stats = yosys_ice40(&path).unwrap();
        iverilog_compile(&path).unwrap();
        verilator_lint(&path).unwrap();
        eprintln!("yosys synth_ice40 {name}: {stats}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
