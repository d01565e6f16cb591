//! The NIC → host event queue against a behavioural model: random pushes
//! from a few distinct records (so that bursts merge), random pops, a
//! queue small enough to fill; `head`, `count` and `lost` must match the
//! model every cycle. Then the same stimulus through the exported Verilog.
//!
//! The model states the queue's contract: a record pushed in cycle t is
//! merged or queued at the edge ending cycle t + `STAGES` (so it shows in
//! `count` from t + `STAGES` + 1); it merges into the newest record still
//! queued when equal to it, unless the host pops that record, the last
//! one, at that edge; a record that neither merges nor fits is counted in
//! `lost`. The host
//! sees a queued record at `head` (and can pop it) from the cycle after
//! `count` includes it: rust-hdl's FIFO passes its write address to the
//! read side through a register.

use overlay_nic_hdl::event_queue::{EventQueue, EventRecord};
use overlay_nic_sim::rtl::Equivalence;
use overlay_nic_sim::DirectSim;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::collections::VecDeque;

/// Four entries (`DW` = 2).
type SmallQueue = EventQueue<2, 3>;
const DEPTH: usize = 4;

/// Record `id` (0 is "no event": kind 0, all zeros).
fn record(id: u8) -> EventRecord {
    EventRecord {
        kind: 1.into(),
        vni: (0x1000 + id as u64).to_bits(),
        mac: (0x0200_0000_0000 | id as u64).to_bits(),
        vtep_ip: ((id as u64) << 24 | 1).to_bits(),
        vtep_mac: (0x0400_0000_0000 | (id as u64) << 8).to_bits(),
    }
}

/// Registers between `push` and the merge-or-queue decision (the record
/// is registered before its compare with the newest one).
const STAGES: usize = 1;

struct Model {
    /// Records queued, with the cycle from which the host sees them.
    queue: VecDeque<(u8, u64)>,
    newest: Option<u8>,
    lost: u32,
    /// Pushed 1..=STAGES cycles ago, the oldest first.
    stages: VecDeque<Option<u8>>,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            queue: VecDeque::new(),
            newest: None,
            lost: 0,
            stages: vec![None; STAGES].into(),
        }
    }
}

impl Model {
    /// The record the host sees in `cycle`, if any.
    fn head(&self, cycle: u64) -> Option<u8> {
        self.queue
            .front()
            .filter(|&&(_, from)| cycle >= from)
            .map(|&(r, _)| r)
    }

    /// The clock edge ending `cycle`, with its inputs.
    fn edge(&mut self, cycle: u64, push: Option<u8>, pop: bool) -> (bool, bool) {
        let level = self.queue.len();
        let give = pop && self.head(cycle).is_some();
        let (mut merged, mut lost) = (false, false);
        if let Some(r) = self.stages.pop_front().flatten() {
            let full = level == DEPTH;
            let merge = level != 0 && self.newest == Some(r) && !(give && level == 1);
            if !full {
                self.newest = Some(r);
            }
            if merge {
                merged = true;
            } else if full {
                self.lost += 1;
                lost = true;
            } else {
                self.queue.push_back((r, cycle + 2));
            }
        }
        if give {
            self.queue.pop_front();
        }
        self.stages.push_back(push);
        (merged, lost)
    }
}

fn drive(u: &mut SmallQueue, rng: &mut ChaCha8Rng, push_p: f64, pop_p: f64) -> (Option<u8>, bool) {
    let push = rng.gen_bool(push_p).then(|| rng.gen_range(1..=3u8));
    let pop = rng.gen_bool(pop_p);
    u.push.next = push.is_some();
    // A record's value without a push must not matter.
    u.record.next = record(push.unwrap_or_else(|| rng.gen_range(1..=3)));
    u.pop.next = pop;
    (push, pop)
}

#[test]
fn event_queue_matches_model() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut sim = DirectSim::new(SmallQueue::default(), |u| &mut u.clock).unwrap();
    let mut model = Model::default();
    let (mut merges, mut losses, mut pops_while_merging) = (0u32, 0u32, 0u32);
    for cycle in 0..40_000u64 {
        // Phases: mostly pushing (fills, loses), mostly popping (drains),
        // and balanced.
        let (push_p, pop_p) = match (cycle / 500) % 3 {
            0 => (0.7, 0.1),
            1 => (0.1, 0.7),
            _ => (0.4, 0.4),
        };
        let u = sim.uut();
        let want_head = model.head(cycle).map_or(EventRecord::default(), record);
        assert_eq!(u.head.val(), want_head, "cycle {cycle}: head");
        assert_eq!(
            u.count.val().to_u64() as usize,
            model.queue.len(),
            "cycle {cycle}: count"
        );
        assert_eq!(
            u.lost.val().to_u64() as u32,
            model.lost,
            "cycle {cycle}: lost"
        );
        let (push, pop) = drive(u, &mut rng, push_p, pop_p);
        let popping = pop && model.head(cycle).is_some();
        let (merged, lost) = model.edge(cycle, push, pop);
        merges += merged as u32;
        losses += lost as u32;
        pops_while_merging += (merged && popping) as u32;
        sim.tick().unwrap();
    }
    eprintln!(
        "event queue: {merges} merges, {losses} lost, {pops_while_merging} merges during a pop"
    );
    assert!(merges > 1_000 && losses > 1_000 && pops_while_merging > 100);
}

#[test]
fn event_queue_rust_and_verilog_agree() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    // The FIFO's RAM is X in Verilog until written; `head` hides it.
    let report = Equivalence::new("event_queue", 20_000)
        .run(
            SmallQueue::default,
            |u| &mut u.clock,
            |u, cycle| {
                let (push_p, pop_p) = if (cycle / 300) % 2 == 0 {
                    (0.6, 0.2)
                } else {
                    (0.2, 0.6)
                };
                drive(u, &mut rng, push_p, pop_p);
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("equivalence {report}");
}
