//! The CAM behind the mapping table and the VNI records, against a
//! behavioural model: random lookups on both ports (A for TX, B for RX)
//! every cycle, interleaved with random commands; every lookup must see an
//! entry wholly before or wholly after the command in progress, never a
//! mix; command results, counts and read-backs must match the model. Then
//! the same stimulus through the exported Verilog.

use overlay_nic_hdl::tx_types::MapValue;
use overlay_nic_hdl::Cam;
use overlay_nic_regmap::pf::{cmd, result};
use overlay_nic_sim::rtl::Equivalence;
use overlay_nic_sim::DirectSim;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

const E: usize = 8;
type SmallCam = Cam<72, MapValue, E, 3>;

/// Slot-level model: the hardware's placement (lowest free slot) is part of
/// the contract, since READ addresses slots.
#[derive(Clone, Default, PartialEq, Debug)]
struct Model {
    slots: [Option<(u128, (u32, u64))>; E],
}

impl Model {
    fn find(&self, key: u128) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| matches!(s, Some((k, _)) if *k == key))
    }
    fn lookup(&self, key: u128) -> Option<(u32, u64)> {
        self.find(key).map(|i| self.slots[i].unwrap().1)
    }
    fn count(&self) -> u32 {
        self.slots.iter().filter(|s| s.is_some()).count() as u32
    }
    /// Applies a command; returns the result code and the read-back.
    fn apply(&mut self, c: &Command) -> (u32, ReadBack) {
        match c.code {
            cmd::ADD => match self.find(c.key) {
                Some(i) => {
                    self.slots[i] = Some((c.key, c.value));
                    (result::OK, None)
                }
                None => match self.slots.iter().position(|s| s.is_none()) {
                    Some(i) => {
                        self.slots[i] = Some((c.key, c.value));
                        (result::OK, None)
                    }
                    None => (result::FULL, None),
                },
            },
            cmd::DELETE => match self.find(c.key) {
                Some(i) => {
                    self.slots[i] = None;
                    (result::OK, None)
                }
                None => (result::NOT_FOUND, None),
            },
            cmd::READ => {
                let i = c.index as usize;
                if i >= E {
                    (result::BAD_INDEX, None)
                } else {
                    match self.slots[i] {
                        Some((k, v)) => (result::OK, Some((true, k, v, c.index))),
                        // A free slot reads back as not in use; its stale
                        // contents are not part of the contract.
                        None => (result::OK, Some((false, 0, (0, 0), c.index))),
                    }
                }
            }
            cmd::FIND => match self.find(c.key) {
                Some(i) => {
                    let (k, v) = self.slots[i].unwrap();
                    (result::OK, Some((true, k, v, i as u16)))
                }
                None => (result::NOT_FOUND, None),
            },
            cmd::CLEAR => {
                self.slots = Default::default();
                (result::OK, None)
            }
            _ => (result::BAD_COMMAND, None),
        }
    }
}

/// A READ/FIND read-back: in use, key, (VTEP IP, VTEP MAC), slot.
type ReadBack = Option<(bool, u128, (u32, u64), u16)>;
/// A lookup in flight: cycle issued, key, results allowed.
type InFlight = (u64, u128, Vec<Option<(u32, u64)>>);
/// The command running: it, the model before and after, result, read-back.
type Running = Option<(Command, Model, Model, u32, ReadBack)>;

#[derive(Clone, Debug)]
struct Command {
    code: u32,
    key: u128,
    value: (u32, u64),
    index: u16,
}

/// Keys from a small pool so that hits, replacements and a full table all
/// happen often.
fn key(rng: &mut ChaCha8Rng) -> u128 {
    let vni = rng.gen_range(0..3u128) * 0x10_0001;
    let mac = 0x0200_0000_0000u128 + rng.gen_range(0..5u128);
    (vni << 48) | mac
}

fn random_command(rng: &mut ChaCha8Rng) -> Command {
    let code = match rng.gen_range(0..100) {
        0..=44 => cmd::ADD,
        45..=64 => cmd::DELETE,
        65..=79 => cmd::READ,
        80..=94 => cmd::FIND,
        95..=97 => cmd::CLEAR,
        _ => [0, 6, 7][rng.gen_range(0..3)],
    };
    Command {
        code,
        key: key(rng),
        value: (rng.gen(), rng.gen::<u64>() & 0xffff_ffff_ffff),
        index: rng.gen_range(0..(E as u16 + 3)),
    }
}

fn set_value(v: &mut Signal<In, MapValue>, (ip, mac): (u32, u64)) {
    v.next = MapValue {
        vtep_ip: (ip as u64).to_bits(),
        vtep_mac: mac.to_bits(),
    };
}

fn key_bits(k: u128) -> Bits<72> {
    let hi: Bits<72> = ((k >> 64) as u64).to_bits();
    let lo: Bits<72> = (k as u64).to_bits();
    (hi << 64) | lo
}

fn bits_u128(b: Bits<72>) -> u128 {
    let hi = b.get_bits::<8>(64).to_u64() as u128;
    let lo = b.get_bits::<64>(0).to_u64() as u128;
    (hi << 64) | lo
}

#[test]
fn cam_matches_model_and_lookups_are_atomic() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut sim = DirectSim::new(SmallCam::default(), |u| &mut u.clock).unwrap();
    let mut model = Model::default();
    // The command in progress: the model before and after it.
    let mut running: Running = None;
    let mut in_flight: Vec<InFlight> = Vec::new();
    let mut in_flight_b: Vec<InFlight> = Vec::new();
    let (mut hits, mut misses, mut commands, mut mixed_windows) = (0u64, 0u64, 0u64, 0u64);
    let mut results = BTreeMap::new();
    for cycle in 0..60_000u64 {
        let u = sim.uut();
        // Outputs of the cycle, port A then port B (the RX path's).
        for (port, latency, valid, hit, value, queue) in [
            (
                "A",
                3,
                u.result_valid.val(),
                u.result_hit.val(),
                u.result_value.val(),
                &mut in_flight,
            ),
            (
                "B",
                2,
                u.result_b_valid.val(),
                u.result_b_hit.val(),
                u.result_b_value.val(),
                &mut in_flight_b,
            ),
        ] {
            if !valid {
                continue;
            }
            let (issued, k, allowed) = queue.remove(0);
            assert_eq!(
                issued + latency,
                cycle,
                "port {port}: lookup latency is {latency} cycles"
            );
            let got = if hit {
                hits += 1;
                Some((value.vtep_ip.to_u64() as u32, value.vtep_mac.to_u64()))
            } else {
                misses += 1;
                None
            };
            assert!(
                allowed.contains(&got),
                "cycle {cycle}: port {port} lookup of {k:#x} gave {got:?}, allowed {allowed:?}"
            );
        }
        let busy = u.status.val().to_u64() & 0x100 != 0;
        if !busy {
            if let Some((c, _, after, code, rd)) = running.take() {
                model = after;
                let status = u.status.val().to_u64() as u32;
                assert_eq!(status & 0xf, code, "{c:?}");
                assert_eq!(status >> 16, model.count(), "{c:?}");
                *results.entry(code).or_insert(0u64) += 1;
                if let Some((used, k, (ip, mac), index)) = rd {
                    assert_eq!(u.rd_valid.val(), used, "{c:?}");
                    assert_eq!(u.rd_index.val().to_u64() as u16, index, "{c:?}");
                    if used {
                        assert_eq!(bits_u128(u.rd_key.val()), k, "{c:?}");
                        assert_eq!(u.rd_value.val().vtep_ip.to_u64() as u32, ip, "{c:?}");
                        assert_eq!(u.rd_value.val().vtep_mac.to_u64(), mac, "{c:?}");
                    }
                }
            }
        }
        // Inputs for the next edge.
        u.cmd.next = false;
        if running.is_none() && rng.gen_bool(0.2) {
            let c = random_command(&mut rng);
            let before = model.clone();
            let mut after = model.clone();
            let (code, rd) = after.apply(&c);
            u.cmd.next = true;
            u.cmd_code.next = (c.code as u64).to_bits();
            u.cmd_key.next = key_bits(c.key);
            set_value(&mut u.cmd_value, c.value);
            u.cmd_index.next = (c.index as u64).to_bits();
            running = Some((c, before, after, code, rd));
            commands += 1;
        } else if running.is_none() && rng.gen_bool(0.01) {
            // Staging registers change between commands without effect.
            u.cmd_key.next = key_bits(key(&mut rng));
            set_value(&mut u.cmd_value, (rng.gen(), 0));
        }
        // Both ports look up independently, sometimes the same key.
        let ka = key(&mut rng);
        let kb = if rng.gen_bool(0.2) { ka } else { key(&mut rng) };
        let (on_a, on_b) = (rng.gen_bool(0.6), rng.gen_bool(0.6));
        u.lookup.next = on_a;
        u.lookup_key.next = key_bits(ka);
        u.lookup_b.next = on_b;
        u.lookup_b_key.next = key_bits(kb);
        for (on, k, queue) in [(on_a, ka, &mut in_flight), (on_b, kb, &mut in_flight_b)] {
            if !on {
                continue;
            }
            let mut allowed = vec![model.lookup(k)];
            if let Some((_, before, after, _, _)) = &running {
                allowed = vec![before.lookup(k), after.lookup(k)];
                if before.lookup(k) != after.lookup(k) {
                    mixed_windows += 1;
                }
            }
            queue.push((cycle, k, allowed));
        }
        sim.tick().unwrap();
    }
    let uut = sim.finish().unwrap();
    assert_eq!(uut.ram_collisions(), 0);
    eprintln!(
        "cam: {commands} commands {results:?}, {hits} hits, {misses} misses, \
         {mixed_windows} lookups during a command that changed their entry"
    );
    assert!(hits > 5_000 && misses > 5_000 && mixed_windows > 100);
    for code in [
        result::OK,
        result::FULL,
        result::NOT_FOUND,
        result::BAD_INDEX,
        result::BAD_COMMAND,
    ] {
        assert!(
            results.get(&code).copied().unwrap_or(0) > 10,
            "result {code} rare: {results:?}"
        );
    }
}

#[test]
fn cam_rust_and_verilog_agree() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    // The value RAM's read register is X in Verilog until the first read.
    let report = Equivalence::new("cam", 20_000)
        .ignore_cycles_before(4)
        .run(
            SmallCam::default,
            |u| &mut u.clock,
            |u, _| {
                u.cmd.next = rng.gen_bool(0.1);
                let c = random_command(&mut rng);
                u.cmd_code.next = (c.code as u64).to_bits();
                u.cmd_key.next = key_bits(c.key);
                set_value(&mut u.cmd_value, c.value);
                u.cmd_index.next = (c.index as u64).to_bits();
                u.lookup.next = rng.gen_bool(0.6);
                u.lookup_key.next = key_bits(key(&mut rng));
                u.lookup_b.next = rng.gen_bool(0.6);
                u.lookup_b_key.next = key_bits(key(&mut rng));
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("equivalence {report}");
}
