//! `TsoFirstSegment` (segment 0's values of a TSO frame, from its
//! `TsoInfo`) against the definitions in `tx_types.rs` worked out in plain
//! integers: the lengths, the flags, and the sums as the NIC writes them
//! (ones' complement, 0 written as `0xffff`). Random records in the ranges
//! the `TsoTap` passes (L3 14 or 18, IHL and data offset 5..=15, a frame of
//! at most 65535 bytes, `mss >= 64`), payloads around the MSS and at the
//! limits; the block's Rust simulation against its exported Verilog.

use overlay_nic_hdl::tx_types::{TsoFirst, TsoInfo};
use overlay_nic_hdl::TsoFirstSegment;
use overlay_nic_sim::rtl::Equivalence;
use overlay_nic_sim::DirectSim;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;

/// Ones'-complement sum, folded; a positive sum never folds to 0.
fn fold(mut s: u64) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// Ones'-complement negation with 0 written as `0xffff`.
fn neg(x: u16) -> u16 {
    if x == 0xffff {
        0xffff
    } else {
        !x
    }
}

/// What the record's fields are, as plain numbers.
#[derive(Clone, Copy, Debug)]
struct Record {
    l3: u64,
    l4: u64,
    h: u64,
    p: u64,
    mss: u64,
    id: u64,
    seq: u64,
    flags: u64,
    l2_sum: u64,
    ip_base: u64,
    tcp_base: u64,
    addr_sum: u64,
}

impl Record {
    fn info(&self) -> TsoInfo {
        TsoInfo {
            en: true,
            mss: self.mss.to_bits(),
            l3: self.l3.to_bits(),
            l4: self.l4.to_bits(),
            hdr_len: self.h.to_bits(),
            payload_len: self.p.to_bits(),
            segments: self.p.div_ceil(self.mss).max(1).to_bits(),
            ip_id: self.id.to_bits(),
            seq: self.seq.to_bits(),
            flags: self.flags.to_bits(),
            l2_sum: self.l2_sum.to_bits(),
            ip_base: self.ip_base.to_bits(),
            tcp_base: self.tcp_base.to_bits(),
            addr_sum: self.addr_sum.to_bits(),
        }
    }

    /// Segment 0 by the definitions (`tx_types::TsoFirst`).
    fn first(&self) -> TsoFirst {
        let last = self.p <= self.mss;
        let x = self.p.min(self.mss);
        let len = self.h + x;
        let tl3 = self.h - self.l3 + x;
        let tl4 = self.h - self.l4 + x;
        let flags = if last { self.flags } else { self.flags & !0x09 };
        let ip = fold(self.ip_base + self.id + tl3);
        let tcp = fold(self.tcp_base + (self.seq >> 16) + (self.seq & 0xffff) + tl4 + flags);
        let pseudo = fold(self.addr_sum + 6 + tl4);
        TsoFirst {
            last,
            len: len.to_bits(),
            len_m1: (len - 1).to_bits(),
            tl3: tl3.to_bits(),
            flags: flags.to_bits(),
            ip_csum: u64::from(!ip).to_bits(),
            tcp_part: u64::from(neg(tcp)).to_bits(),
            inner_sum: u64::from(fold(self.l2_sum + u64::from(neg(pseudo)))).to_bits(),
        }
    }
}

/// A record the `TsoTap` could pass: the payload near a multiple of the
/// MSS, or at 0 or the largest frame, now and then.
fn random_record(rng: &mut ChaCha8Rng) -> Record {
    let l3 = if rng.gen() { 18 } else { 14 };
    let l4 = l3 + 4 * rng.gen_range(5..=15);
    let h = l4 + 4 * rng.gen_range(5..=15);
    let mss: u64 = match rng.gen_range(0..4) {
        0 => 64,
        1 => rng.gen_range(64..=1500),
        2 => rng.gen_range(64..=9000),
        _ => rng.gen_range(64..=65535),
    };
    let max_p = 65535 - h;
    let p = match rng.gen_range(0..6) {
        0 => 0,
        1 => max_p,
        2 => (mss * rng.gen_range(1..=4) + rng.gen_range(0..3))
            .saturating_sub(1)
            .min(max_p),
        _ => rng.gen_range(0..=max_p.min(4 * mss)),
    };
    let word = |rng: &mut ChaCha8Rng| -> u64 {
        match rng.gen_range(0..8) {
            0 => 0xffff,
            1 => 0xfffe,
            2 => 1,
            _ => rng.gen_range(1..=0xffff),
        }
    };
    Record {
        l3,
        l4,
        h,
        p,
        mss,
        id: word(rng),
        seq: word(rng) << 16 | word(rng),
        flags: rng.gen_range(0..256),
        l2_sum: word(rng),
        ip_base: word(rng),
        tcp_base: word(rng),
        addr_sum: word(rng),
    }
}

/// Runs records through the block, one a cycle, `first` checked a cycle
/// later against the definitions.
fn check_records(records: &[Record]) {
    let mut sim = DirectSim::new(TsoFirstSegment::default(), |u| &mut u.clock).unwrap();
    let mut prev: Option<&Record> = None;
    for r in records {
        let u = sim.uut();
        if let Some(p) = prev {
            assert_eq!(u.first.val(), p.first(), "{p:?}");
        }
        u.info.next = r.info();
        sim.settle().unwrap();
        sim.tick().unwrap();
        prev = Some(r);
    }
}

#[test]
fn segment_zero_matches_the_definitions() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let records: Vec<Record> = (0..200_000).map(|_| random_record(&mut rng)).collect();
    check_records(&records);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Payloads right at, under and over the MSS and its multiples, with
    /// every header layout.
    #[test]
    fn boundaries(seed in any::<u64>(), mss in 64u64..=9000, k in 0u64..=3, d in 0u64..=2) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let records: Vec<Record> = (0..64)
            .map(|_| {
                let mut r = random_record(&mut rng);
                r.mss = mss;
                r.p = (k * mss + d).saturating_sub(1).min(65535 - r.h);
                r
            })
            .collect();
        check_records(&records);
    }
}

#[test]
fn tso_first_segment_rust_and_verilog_agree() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut prev: Option<Record> = None;
    let mut checked = 0u64;
    Equivalence::new("tso_first_segment", 5_000)
        .run(
            TsoFirstSegment::default,
            |u| &mut u.clock,
            |u, _| {
                if let Some(p) = prev {
                    assert_eq!(u.first.val(), p.first(), "{p:?}");
                    checked += 1;
                }
                let r = random_record(&mut rng);
                // Junk records too: the Verilog must match on any input.
                u.info.next = if rng.gen_bool(0.2) {
                    prev = None;
                    TsoInfo {
                        en: rng.gen(),
                        mss: u64::from(rng.gen::<u16>()).to_bits(),
                        l3: u64::from(rng.gen::<u8>()).to_bits(),
                        l4: u64::from(rng.gen::<u8>()).to_bits(),
                        hdr_len: u64::from(rng.gen::<u8>()).to_bits(),
                        payload_len: u64::from(rng.gen::<u16>()).to_bits(),
                        ip_id: u64::from(rng.gen::<u16>()).to_bits(),
                        seq: u64::from(rng.gen::<u32>()).to_bits(),
                        flags: u64::from(rng.gen::<u8>()).to_bits(),
                        l2_sum: u64::from(rng.gen::<u16>()).to_bits(),
                        ip_base: u64::from(rng.gen::<u16>()).to_bits(),
                        tcp_base: u64::from(rng.gen::<u16>()).to_bits(),
                        addr_sum: u64::from(rng.gen::<u16>()).to_bits(),
                        ..TsoInfo::default()
                    }
                } else {
                    prev = Some(r);
                    r.info()
                };
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(checked > 3_000, "only {checked} records checked");
}
