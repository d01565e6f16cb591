//! The TSO ingress blocks against the golden model and an independent
//! reference written from `docs/tx-offload.md` ("TCP segmentation").
//!
//! The tap (`TsoTap`): etherparse-built TCP/IPv4 frames (802.1Q or not,
//! IPv4 and TCP options, no payload, payload below, at and above `mss`,
//! exact multiples, up to ~9000 bytes), random `mss` (0..=1500, odd, below
//! `MSS_MIN`), broken frames (total length, fragments, UDP, truncated,
//! padded, bad data offset or IHL, random bytes), random idle cycles; every
//! cycle's `done`, every result against `TsoLayout::of` and the reference,
//! and the pushed sums and their timing (constraints (a)-(c) of the
//! module docs; (d), one push a cycle, is the port itself). The FIFO
//! (`SegmentSumFifo`): random push/commit/rollback/pop against a queue
//! model, same-cycle cases, full rate, overflow. The two together as the
//! NIC wires them. Each block's Rust simulation against its Verilog.

use etherparse::{
    IpHeaders, IpNumber, Ipv4Extensions, Ipv4Header, Ipv4Options, PacketBuilder, PacketBuilderStep,
    VlanId,
};
use overlay_nic_driver::offload::{segment_count, OffloadRequest, TsoLayout, MSS_MIN};
use overlay_nic_hdl::tx_types::{TsoInfo, TxOffloadRequest};
use overlay_nic_hdl::{SegmentSumFifo, TsoTap};
use overlay_nic_sim::rtl::Equivalence;
use overlay_nic_sim::rtl::{iverilog_compile, verilator_lint, write_verilog, yosys_ice40};
use overlay_nic_sim::DirectSim;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::collections::VecDeque;

// ---------------------------------------------------------------------------
// The reference, from the doc

/// Ones'-complement sum of big-endian words, an odd last byte padded, folded.
fn fold_sum(bytes: &[u8]) -> u16 {
    let mut s: u64 = bytes
        .chunks(2)
        .map(|w| u64::from(w[0]) << 8 | u64::from(*w.get(1).unwrap_or(&0)))
        .sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// A frame and its request (`tso`, `mss`).
#[derive(Clone, Debug)]
struct Frame {
    bytes: Vec<u8>,
    tso: bool,
    mss: u16,
}

impl Frame {
    fn hw_req(&self) -> TxOffloadRequest {
        TxOffloadRequest {
            csum: false,
            csum_start: 0.into(),
            csum_offset: 0.into(),
            ip_csum: false,
            tso: self.tso,
            mss: u64::from(self.mss).to_bits(),
        }
    }
}

/// What the tap must report for a frame: `ok`, and when `ok` the segment
/// L3 length and the record; `sums` the pushes (for `tso` and `ok`).
#[derive(Clone, Debug, PartialEq)]
struct Want {
    ok: bool,
    seg_l3_max: u16,
    info: TsoInfo,
    sums: Vec<u16>,
}

fn reference(f: &Frame) -> Want {
    let b = &f.bytes;
    let layout = TsoLayout::of(b, f.mss);
    let count = segment_count(b, &OffloadRequest::segmentation(f.mss));
    assert_eq!(layout.map(|l| l.segment_count()), count);
    let Ok(l) = layout else {
        return Want {
            ok: false,
            seg_l3_max: 0,
            info: TsoInfo::default(),
            sums: Vec::new(),
        };
    };
    let (l3, l4, h) = (l.l3, l.l4, l.header_len);
    let mut ip = b[l3..l4].to_vec();
    for i in [2, 3, 4, 5, 10, 11] {
        ip[i] = 0;
    }
    let mut tcp = b[l3 + 12..l3 + 20].to_vec();
    tcp.extend_from_slice(&[0, 6]);
    let mut th = b[l4..h].to_vec();
    for i in [4, 5, 6, 7, 13, 16, 17] {
        th[i] = 0;
    }
    tcp.extend_from_slice(&th);
    let payload = &b[h..];
    let sums: Vec<u16> = if payload.is_empty() {
        vec![0]
    } else {
        payload.chunks(usize::from(f.mss)).map(fold_sum).collect()
    };
    assert_eq!(sums.len(), l.segment_count());
    let info = TsoInfo {
        en: f.tso,
        mss: u64::from(f.mss).to_bits(),
        l3: (l3 as u64).to_bits(),
        l4: (l4 as u64).to_bits(),
        hdr_len: (h as u64).to_bits(),
        payload_len: (l.payload_len as u64).to_bits(),
        segments: (l.segment_count() as u64).to_bits(),
        ip_id: u64::from(u16::from_be_bytes([b[l3 + 4], b[l3 + 5]])).to_bits(),
        seq: u64::from(u32::from_be_bytes([
            b[l4 + 4],
            b[l4 + 5],
            b[l4 + 6],
            b[l4 + 7],
        ]))
        .to_bits(),
        flags: u64::from(b[l4 + 13]).to_bits(),
        l2_sum: u64::from(fold_sum(&b[..l3])).to_bits(),
        ip_base: u64::from(fold_sum(&ip)).to_bits(),
        tcp_base: u64::from(fold_sum(&tcp)).to_bits(),
        addr_sum: u64::from(fold_sum(&b[l3 + 12..l3 + 20])).to_bits(),
    };
    Want {
        ok: true,
        seg_l3_max: l.max_segment_l3_len() as u16,
        info,
        sums: if f.tso { sums } else { Vec::new() },
    }
}

/// The most pushes any frame of `len` bytes may cause: a valid one has
/// `H >= 54` and `mss >= 64`.
fn push_bound(len: usize) -> usize {
    if len < 54 {
        0
    } else {
        (len - 54).div_ceil(64).max(1)
    }
}

// ---------------------------------------------------------------------------
// Frames

/// A TCP/IPv4 frame built with etherparse: optional 802.1Q tag, `opts`
/// words of IPv4 options, `topts` words of TCP options, `payload` random
/// bytes, random flags (and reserved bits). Returns the frame, L3, L4.
fn tcp_frame(
    rng: &mut ChaCha8Rng,
    vlan: bool,
    opts: usize,
    topts: usize,
    payload: usize,
) -> (Vec<u8>, usize, usize) {
    let mut h = Ipv4Header::new(0, 64, IpNumber::TCP, rng.gen(), rng.gen()).unwrap();
    let options: Vec<u8> = (0..4 * opts).map(|_| rng.gen()).collect();
    h.options = Ipv4Options::try_from(&options[..]).unwrap();
    h.identification = rng.gen();
    h.dont_fragment = rng.gen();
    let eth = PacketBuilder::ethernet2(rng.gen(), rng.gen());
    let ip: PacketBuilderStep<IpHeaders> = if vlan {
        eth.single_vlan(VlanId::try_new(rng.gen_range(0..4096)).unwrap())
            .ip(IpHeaders::Ipv4(h, Ipv4Extensions::default()))
    } else {
        eth.ip(IpHeaders::Ipv4(h, Ipv4Extensions::default()))
    };
    let tcp_opts: Vec<u8> = (0..4 * topts).map(|_| rng.gen()).collect();
    let data: Vec<u8> = (0..payload).map(|_| rng.gen()).collect();
    let mut v = Vec::new();
    ip.tcp(rng.gen(), rng.gen(), rng.gen(), rng.gen())
        .options_raw(&tcp_opts)
        .unwrap()
        .write(&mut v, &data)
        .unwrap();
    let l3 = if vlan { 18 } else { 14 };
    let l4 = l3 + 20 + 4 * opts;
    v[l4 + 12] = (v[l4 + 12] & 0xf0) | (rng.gen::<u8>() & 0x0f);
    v[l4 + 13] = rng.gen();
    (v, l3, l4)
}

fn random_mss(rng: &mut ChaCha8Rng) -> u16 {
    match rng.gen_range(0..10) {
        0 => rng.gen_range(0..MSS_MIN),
        1 => rng.gen_range(MSS_MIN..MSS_MIN + 8),
        2 => rng.gen_range(0..=1500) | 1,
        _ => rng.gen_range(MSS_MIN..=1500),
    }
}

/// A random frame: mostly valid TSO frames of every shape, some broken in
/// one of the ways the doc refuses, some random bytes or UDP.
fn random_frame(rng: &mut ChaCha8Rng) -> Frame {
    let mss = random_mss(rng);
    let tso = rng.gen_bool(0.85);
    if rng.gen_bool(0.08) {
        let n = rng.gen_range(1..400);
        return Frame {
            bytes: (0..n).map(|_| rng.gen()).collect(),
            tso,
            mss,
        };
    }
    let vlan = rng.gen_bool(0.4);
    let opts = if rng.gen_bool(0.3) {
        rng.gen_range(1..=10)
    } else {
        0
    };
    let topts = if rng.gen_bool(0.4) {
        rng.gen_range(1..=10)
    } else {
        0
    };
    let m = usize::from(mss.max(1));
    let payload = match rng.gen_range(0..12) {
        0 => 0,
        1 => rng.gen_range(1..=m),
        2 => m * rng.gen_range(1..=6),
        3 => rng.gen_range(1000..=9000 - 138),
        4 => m * rng.gen_range(1..=6) + rng.gen_range(1..8),
        _ => rng.gen_range(0..1600),
    };
    let (mut b, l3, l4) = tcp_frame(rng, vlan, opts, topts, payload);
    if rng.gen_bool(0.04) {
        // Not TCP: the same frame as UDP in the protocol byte.
        b[l3 + 9] = 17;
    }
    match rng.gen_range(0..40) {
        0 => {
            // Wrong total length.
            let t = u16::from_be_bytes([b[l3 + 2], b[l3 + 3]]);
            let d = rng.gen_range(1..4);
            let t = if rng.gen() {
                t.wrapping_add(d)
            } else {
                t.wrapping_sub(d)
            };
            b[l3 + 2..l3 + 4].copy_from_slice(&t.to_be_bytes());
        }
        1 => b[l3 + 6] |= 0x20,                       // more fragments
        2 => b[l3 + 7] |= 1u8 << rng.gen_range(0..8), // fragment offset
        3 => b[l3 + 6] |= 0x80,                       // reserved flag: still fine
        4 => {
            let n = rng.gen_range(1..=b.len());
            b.truncate(n);
        }
        5 => b.extend((0..rng.gen_range(1..10)).map(|_| rng.gen::<u8>())), // padding
        6 => b[l4 + 12] = (rng.gen_range(0..5u8) << 4) | (b[l4 + 12] & 15), // D < 5
        7 => b[l3] = 0x40 | rng.gen_range(0..5u8),                         // IHL < 5
        8 => b[l4 + 12] = 0xf0 | (b[l4 + 12] & 15), // D = 15: maybe past the end
        9 => b[l3 - 1] ^= 1,                        // ethertype
        _ => {}
    }
    Frame { bytes: b, tso, mss }
}

/// `f`'s beats: (data, keep, last).
fn beats(f: &[u8]) -> Vec<(u64, u8, bool)> {
    let n = f.chunks(8).count();
    f.chunks(8)
        .enumerate()
        .map(|(b, c)| {
            // Lanes past the frame's end hold junk, which the tap must
            // ignore (a stream's absent bytes are undefined).
            let mut lanes = [0xa5u8 ^ (b as u8); 8];
            lanes[..c.len()].copy_from_slice(c);
            let keep = if c.len() == 8 {
                0xff
            } else {
                (1u8 << c.len()) - 1
            };
            (u64::from_le_bytes(lanes), keep, b + 1 == n)
        })
        .collect()
}

fn junk_req(rng: &mut ChaCha8Rng) -> TxOffloadRequest {
    TxOffloadRequest {
        csum: rng.gen(),
        csum_start: u64::from(rng.gen::<u16>()).to_bits(),
        csum_offset: u64::from(rng.gen::<u16>()).to_bits(),
        ip_csum: rng.gen(),
        tso: rng.gen(),
        mss: u64::from(rng.gen::<u16>()).to_bits(),
    }
}

// ---------------------------------------------------------------------------
// Running the tap

/// One frame's progress through the tap as the checker sees it.
struct Track {
    k: usize,
    /// First output cycle at which a push may be seen (after the 7th beat).
    may_push: Option<u64>,
    /// The output cycle of its `done`.
    done: Option<u64>,
    pushes: Vec<u16>,
}

#[derive(Default, Debug)]
struct Stats {
    ok: usize,
    tso_ok: usize,
    pushes: usize,
    multi: usize,
    odd_mss: usize,
    exact: usize,
    empty: usize,
    bad_pushed: usize,
}

/// Streams `frames` past the tap with idle cycles (junk on every input,
/// `beat` low) before each beat with probability `gap`, and checks every
/// cycle: `done` exactly two cycles after each last beat with the
/// reference's results, held until the next `done`; each push attributed
/// to the oldest frame not done, after that frame's 7th beat; a
/// requested valid frame's pushes equal the reference's sums, any other
/// frame's stay within `push_bound`. Returns the cycles run and counts.
fn check_tap(frames: &[Frame], seed: u64, gap: f64) -> (u64, Stats) {
    let mut sim = DirectSim::new(TsoTap::default(), |u| &mut u.clock).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let wants: Vec<Want> = frames.iter().map(reference).collect();
    let mut stats = Stats::default();
    let mut tracks: VecDeque<Track> = VecDeque::new();
    let mut held: Option<(bool, u16, TsoInfo)> = None;
    let finish = |t: Track, stats: &mut Stats| {
        let (f, w) = (&frames[t.k], &wants[t.k]);
        if f.tso && w.ok {
            assert_eq!(t.pushes, w.sums, "frame {}: sums {f:?}", t.k);
        } else {
            if !f.tso || f.mss < MSS_MIN {
                assert!(t.pushes.is_empty(), "frame {}: pushes {f:?}", t.k);
            }
            assert!(
                t.pushes.len() <= push_bound(f.bytes.len()),
                "frame {}: {} pushes",
                t.k,
                t.pushes.len()
            );
            stats.bad_pushed += usize::from(!t.pushes.is_empty());
        }
    };
    // Checks the outputs of the cycle just reached.
    let mut check =
        |sim: &mut DirectSim<TsoTap>, tracks: &mut VecDeque<Track>, stats: &mut Stats| {
            let cycle = sim.cycle();
            let u = sim.uut();
            let got = (
                u.tso_ok.val(),
                u.seg_l3_max.val().to_u64() as u16,
                u.info.val(),
            );
            // Frames done before this cycle can take no more pushes.
            while tracks
                .front()
                .is_some_and(|t| t.done.is_some_and(|d| d < cycle))
            {
                let t = tracks.pop_front().unwrap();
                finish(t, stats);
            }
            if u.sum_push.val() {
                let v = u.sum_value.val().to_u64() as u16;
                let t = tracks
                    .front_mut()
                    .unwrap_or_else(|| panic!("cycle {cycle}: a push with no frame"));
                assert!(
                    t.may_push.is_some_and(|c| c <= cycle),
                    "cycle {cycle}: frame {} pushes before its 7th beat",
                    t.k
                );
                t.pushes.push(v);
                stats.pushes += 1;
            }
            let due = tracks.iter().find(|t| t.done == Some(cycle)).map(|t| t.k);
            match due {
                Some(k) => {
                    assert!(u.done.val(), "cycle {cycle}: no done for frame {k}");
                    let w = &wants[k];
                    assert_eq!(got.0, w.ok, "frame {k}: tso_ok {:?}", frames[k]);
                    if w.ok {
                        assert_eq!(got.1, w.seg_l3_max, "frame {k}: seg_l3_max");
                        assert_eq!(got.2, w.info, "frame {k}: info (left: tap)");
                    } else {
                        assert!(!got.2.en, "frame {k}: en without tso_ok");
                    }
                    held = Some(got);
                }
                None => {
                    assert!(!u.done.val(), "cycle {cycle}: done without a frame");
                    if let Some(h) = held {
                        assert_eq!(got, h, "cycle {cycle}: results not held");
                    }
                }
            }
        };
    for (k, f) in frames.iter().enumerate() {
        assert!(!f.bytes.is_empty());
        let w = &wants[k];
        stats.ok += usize::from(w.ok);
        stats.tso_ok += usize::from(w.ok && f.tso);
        stats.multi += usize::from(w.sums.len() > 1);
        stats.odd_mss += usize::from(w.sums.len() > 1 && f.mss % 2 == 1);
        if w.ok {
            // An exact multiple: the segments are all full.
            let p = w.info.payload_len.to_u64();
            let n = w.info.segments.to_u64();
            stats.exact += usize::from(p > 0 && n * u64::from(f.mss) == p);
            stats.empty += usize::from(p == 0);
        }
        tracks.push_back(Track {
            k,
            may_push: None,
            done: None,
            pushes: Vec::new(),
        });
        for (i, (data, keep, last)) in beats(&f.bytes).into_iter().enumerate() {
            while gap > 0.0 && rng.gen_bool(gap) {
                let u = sim.uut();
                u.tdata.next = rng.gen::<u64>().to_bits();
                u.tkeep.next = u64::from(rng.gen::<u8>()).to_bits();
                u.tlast.next = rng.gen();
                u.beat.next = false;
                u.req.next = junk_req(&mut rng);
                sim.tick().unwrap();
                check(&mut sim, &mut tracks, &mut stats);
            }
            let u = sim.uut();
            u.tdata.next = data.to_bits();
            u.tkeep.next = u64::from(keep).to_bits();
            u.tlast.next = last;
            u.beat.next = true;
            // Only the first beat's request counts: later beats carry junk.
            u.req.next = if i == 0 {
                f.hw_req()
            } else {
                junk_req(&mut rng)
            };
            sim.tick().unwrap();
            let t = tracks.back_mut().unwrap();
            if i == 6 {
                t.may_push = Some(sim.cycle());
            }
            if last {
                t.done = Some(sim.cycle() + 1);
            }
            check(&mut sim, &mut tracks, &mut stats);
        }
    }
    sim.uut().beat.next = false;
    for _ in 0..4 {
        sim.tick().unwrap();
        check(&mut sim, &mut tracks, &mut stats);
    }
    while let Some(t) = tracks.pop_front() {
        assert!(t.done.is_some_and(|d| d < sim.cycle()));
        finish(t, &mut stats);
    }
    (sim.cycle(), stats)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn tap_matches_the_model(
        seed in any::<u64>(),
        count in 1usize..6,
        gap in prop_oneof![Just(0.0), 0.0f64..0.5],
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let frames: Vec<_> = (0..count).map(|_| random_frame(&mut rng)).collect();
        check_tap(&frames, seed ^ 0x7350, gap);
    }
}

/// Many random frames back to back and with gaps: the stimulus reaches
/// every case (valid and not, many segments, odd mss, exact multiples, no
/// payload, pushes from frames that turn out invalid).
#[test]
fn tap_stimulus_covers_the_cases() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let frames: Vec<_> = (0..600).map(|_| random_frame(&mut rng)).collect();
    let (_, s) = check_tap(&frames, 12, 0.1);
    eprintln!("{s:?}");
    assert!(s.ok > 300 && s.ok < 560, "{s:?}");
    assert!(s.multi > 100 && s.odd_mss > 20 && s.exact > 20 && s.empty > 10);
    assert!(s.bad_pushed > 5, "{s:?}");
}

/// Every length 1..=80 back to back with no idle cycle, as random bytes and
/// as the start of a valid TSO frame (untagged and tagged, the tail cut
/// off, and the frame's total length set to the cut length so the
/// shortest ones are valid), at mss 64..=71.
#[test]
fn tap_every_length_back_to_back() {
    let mut rng = ChaCha8Rng::seed_from_u64(80);
    let mut frames = Vec::new();
    let mut valid = 0;
    for pass in 0..3 {
        for n in 1..=80usize {
            let mss = 64 + (n % 8) as u16;
            let bytes = if pass == 0 {
                (0..n).map(|_| rng.gen()).collect()
            } else {
                let (mut b, l3, _) = tcp_frame(&mut rng, pass == 2, 0, 0, 40);
                b.truncate(n);
                if n >= l3 + 4 {
                    b[l3 + 2..l3 + 4].copy_from_slice(&((n - l3) as u16).to_be_bytes());
                }
                b
            };
            let f = Frame {
                bytes,
                tso: true,
                mss,
            };
            valid += usize::from(reference(&f).ok);
            frames.push(f);
        }
    }
    assert!(valid > 40, "{valid}");
    let (cycles, _) = check_tap(&frames, 1, 0.0);
    let beats: usize = frames.iter().map(|f| f.bytes.len().div_ceil(8)).sum();
    assert_eq!(cycles as usize, beats + 4, "a cycle without a beat");
}

/// Segment boundaries at every lane: one frame per mss 64..=71 and payload
/// length, so `H + k*mss` walks through all eight lanes and both parities.
#[test]
fn tap_boundaries_at_every_lane() {
    let mut rng = ChaCha8Rng::seed_from_u64(64);
    let mut frames = Vec::new();
    for mss in 64..=71u16 {
        for payload in [1usize, 63, 64, 65, 127, 128, 129, 300, 575, 576, 577] {
            let (b, _, _) = tcp_frame(&mut rng, mss % 2 == 0, usize::from(mss % 3), 1, payload);
            frames.push(Frame {
                bytes: b,
                tso: true,
                mss,
            });
        }
    }
    for f in &frames {
        assert!(reference(f).ok);
    }
    check_tap(&frames, 2, 0.0);
    check_tap(&frames, 3, 0.3);
}

/// Jumbo frames (up to ~9000 bytes) with a large and a small mss.
#[test]
fn tap_jumbo_frames() {
    let mut rng = ChaCha8Rng::seed_from_u64(9000);
    let frames: Vec<_> = [
        (8900, 64),
        (8900, 1460),
        (8962 - 138, 1500),
        (9000 - 54, 71),
    ]
    .into_iter()
    .map(|(p, mss)| {
        let (b, _, _) = tcp_frame(&mut rng, mss == 1460, 0, 0, p);
        Frame {
            bytes: b,
            tso: true,
            mss,
        }
    })
    .collect();
    for f in &frames {
        assert!(reference(f).ok);
    }
    check_tap(&frames, 4, 0.05);
}

#[test]
fn tap_rust_and_verilog_agree() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut current: Vec<(u64, u8, bool)> = Vec::new();
    let mut req = TxOffloadRequest::default();
    let mut pos = 0usize;
    let (mut frames, mut dones, mut pushes) = (0u64, 0u64, 0u64);
    let report = Equivalence::new("tso_tap", 20_000)
        .run(
            TsoTap::default,
            |u| &mut u.clock,
            |u, _| {
                dones += u64::from(u.done.val());
                pushes += u64::from(u.sum_push.val());
                if u.beat.val() {
                    pos += 1;
                    if pos == current.len() {
                        current.clear();
                        frames += 1;
                    }
                }
                if current.is_empty() && rng.gen_bool(0.7) {
                    let mut f = random_frame(&mut rng);
                    // Keep frames short enough for many per run.
                    if f.bytes.len() > 700 {
                        f.bytes.truncate(rng.gen_range(54..700));
                        let l3 = if f.bytes[12] == 0x81 { 18 } else { 14 };
                        let t = (f.bytes.len() - l3) as u16;
                        f.bytes[l3 + 2..l3 + 4].copy_from_slice(&t.to_be_bytes());
                    }
                    current = beats(&f.bytes);
                    req = f.hw_req();
                    pos = 0;
                }
                let on = !current.is_empty() && rng.gen_bool(0.85);
                let (data, keep, last) = if on {
                    current[pos]
                } else {
                    (rng.gen(), rng.gen(), rng.gen())
                };
                u.beat.next = on;
                u.tdata.next = data.to_bits();
                u.tkeep.next = u64::from(keep).to_bits();
                u.tlast.next = last;
                u.req.next = if on && pos == 0 {
                    req
                } else {
                    junk_req(&mut rng)
                };
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("equivalence {report}\ncoverage: {frames} frames, {dones} done, {pushes} pushes");
    assert!(
        frames > 50 && dones > 50 && pushes > 100,
        "stimulus too tame"
    );
}

// ---------------------------------------------------------------------------
// The FIFO

type Fifo = SegmentSumFifo<4, 5>;
const DEPTH: usize = Fifo::DEPTH;

#[derive(Clone, Copy, Debug, Default)]
struct Op {
    push: Option<u16>,
    commit: bool,
    rollback: bool,
    pop: bool,
}

/// The FIFO as a queue model: `pending` pushed since the last commit,
/// `ready` committed and not popped (with the cycle each was committed).
#[derive(Default)]
struct Model {
    pending: Vec<u16>,
    ready: VecDeque<(u16, u64)>,
}

impl Model {
    fn held(&self) -> usize {
        self.pending.len() + self.ready.len()
    }
    fn apply(&mut self, op: &Op, cycle: u64) {
        if let Some(v) = op.push {
            self.pending.push(v);
        }
        if op.rollback {
            self.pending.clear();
        } else if op.commit {
            self.ready
                .extend(self.pending.drain(..).map(|v| (v, cycle)));
        }
    }
}

/// Runs random operations (never more held than `DEPTH`, so no overflow)
/// and checks every cycle: what shows is the oldest committed entry, pops
/// take it, nothing uncommitted or rolled back ever shows, and an entry
/// committed 3 cycles ago shows unless a pop was in the last 3 cycles.
fn check_fifo(seed: u64, cycles: u64, p_push: f64, p_pop: f64) -> (usize, usize) {
    let mut sim = DirectSim::new(Fifo::default(), |u| &mut u.clock).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut model = Model::default();
    let mut last_pop = 0u64;
    let (mut popped, mut rolled) = (0, 0);
    for cycle in 0..cycles {
        let u = sim.uut();
        let (valid, value) = (u.valid.val(), u.value.val().to_u64() as u16);
        assert!(!u.overflow.val(), "cycle {cycle}: overflow");
        match model.ready.front() {
            Some(&(v, at)) => {
                if valid {
                    assert_eq!(value, v, "cycle {cycle}: value");
                } else {
                    assert!(
                        at + 3 > cycle || last_pop + 3 > cycle,
                        "cycle {cycle}: entry committed at {at} not shown"
                    );
                }
            }
            None => assert!(!valid, "cycle {cycle}: valid with nothing committed"),
        }
        let room = model.held() < DEPTH;
        let op = Op {
            push: (room && rng.gen_bool(p_push)).then(|| rng.gen()),
            commit: rng.gen_bool(0.3),
            rollback: rng.gen_bool(0.08),
            pop: rng.gen_bool(p_pop),
        };
        if op.pop && valid {
            model.ready.pop_front();
            last_pop = cycle;
            popped += 1;
        }
        rolled += usize::from(op.rollback && !model.pending.is_empty());
        model.apply(&op, cycle);
        u.push.next = op.push.is_some();
        u.push_value.next = u64::from(op.push.unwrap_or_else(|| rng.gen())).to_bits();
        u.commit.next = op.commit;
        u.rollback.next = op.rollback;
        u.pop.next = op.pop;
        sim.tick().unwrap();
    }
    assert_eq!(sim.uut_ref().ram_collisions(), 0);
    (popped, rolled)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn fifo_matches_the_model(
        seed in any::<u64>(),
        p_push in 0.1f64..0.9,
        p_pop in 0.1f64..1.0,
    ) {
        check_fifo(seed, 2000, p_push, p_pop);
    }
}

/// Push with commit, push with rollback, push with both (rollback wins),
/// and pops while pushing, cycle by cycle. `step` returns what shows in
/// the cycle its inputs are applied (the entry a pop then takes).
#[test]
fn fifo_same_cycle_rules() {
    let mut sim = DirectSim::new(Fifo::default(), |u| &mut u.clock).unwrap();
    let step = |sim: &mut DirectSim<Fifo>, push: Option<u16>, c: bool, r: bool, pop: bool| {
        let u = sim.uut();
        let shown = u.valid.val().then(|| u.value.val().to_u64() as u16);
        u.push.next = push.is_some();
        u.push_value.next = u64::from(push.unwrap_or(0xdead)).to_bits();
        u.commit.next = c;
        u.rollback.next = r;
        u.pop.next = pop;
        sim.tick().unwrap();
        shown
    };
    // 1 pushed, 2 pushed with commit: both readable 3 cycles after it.
    assert_eq!(step(&mut sim, Some(1), false, false, false), None);
    assert_eq!(step(&mut sim, Some(2), true, false, false), None);
    assert_eq!(step(&mut sim, None, false, false, false), None);
    assert_eq!(step(&mut sim, None, false, false, false), None);
    assert_eq!(step(&mut sim, None, false, false, false), Some(1));
    // 3 pushed, 4 pushed with rollback: both gone; 5 with commit and
    // rollback: gone too. 1 popped while 6 is pushed.
    assert_eq!(step(&mut sim, Some(3), false, false, false), Some(1));
    assert_eq!(step(&mut sim, Some(4), false, true, false), Some(1));
    assert_eq!(step(&mut sim, Some(5), true, true, false), Some(1));
    assert_eq!(step(&mut sim, Some(6), false, false, true), Some(1));
    // 7 pushed with commit while 2 is popped: 6 and 7 follow, 3 cycles
    // after the commit, one a cycle.
    assert_eq!(step(&mut sim, Some(7), true, false, true), Some(2));
    let seen: Vec<_> = (0..6)
        .map(|_| step(&mut sim, None, false, false, true))
        .collect();
    assert_eq!(seen, vec![None, None, Some(6), Some(7), None, None]);
    assert!(!sim.uut().overflow.val());
    assert_eq!(sim.uut_ref().ram_collisions(), 0);
}

/// A burst committed at once comes out at one entry per cycle.
#[test]
fn fifo_full_rate() {
    let mut sim = DirectSim::new(Fifo::default(), |u| &mut u.clock).unwrap();
    for v in 0..DEPTH as u16 {
        let u = sim.uut();
        u.push.next = true;
        u.push_value.next = u64::from(v * 3 + 1).to_bits();
        u.commit.next = v + 1 == DEPTH as u16;
        u.rollback.next = false;
        u.pop.next = false;
        sim.tick().unwrap();
    }
    let u = sim.uut();
    u.push.next = false;
    u.commit.next = false;
    for _ in 0..3 {
        sim.tick().unwrap();
    }
    let mut got = Vec::new();
    for _ in 0..DEPTH {
        let u = sim.uut();
        assert!(u.valid.val(), "a bubble after {} entries", got.len());
        got.push(u.value.val().to_u64() as u16);
        u.pop.next = true;
        sim.tick().unwrap();
    }
    assert!(!sim.uut().valid.val());
    let want: Vec<u16> = (0..DEPTH as u16).map(|v| v * 3 + 1).collect();
    assert_eq!(got, want);
    assert_eq!(sim.uut_ref().ram_collisions(), 0);
}

/// Filling past the depth (plus the two entries the output queue fetched)
/// drops the push, raises `overflow` for good, and keeps what was stored.
#[test]
fn fifo_overflow_is_sticky_and_keeps_the_entries() {
    let mut sim = DirectSim::new(Fifo::default(), |u| &mut u.clock).unwrap();
    let push = |sim: &mut DirectSim<Fifo>, v: u16| {
        let u = sim.uut();
        u.push.next = true;
        u.push_value.next = u64::from(v).to_bits();
        u.commit.next = true;
        u.rollback.next = false;
        u.pop.next = false;
        sim.tick().unwrap();
        let u = sim.uut();
        u.push.next = false;
        u.commit.next = false;
        for _ in 0..3 {
            sim.tick().unwrap();
        }
        sim.uut().overflow.val()
    };
    for v in 0..DEPTH as u16 + 2 {
        assert!(!push(&mut sim, v), "overflow at entry {v}");
    }
    assert!(push(&mut sim, 999));
    assert!(push(&mut sim, 998));
    let mut got = Vec::new();
    for _ in 0..DEPTH + 8 {
        let u = sim.uut();
        if u.valid.val() {
            got.push(u.value.val().to_u64() as u16);
        }
        u.pop.next = true;
        sim.tick().unwrap();
    }
    assert!(sim.uut().overflow.val());
    let want: Vec<u16> = (0..DEPTH as u16 + 2).collect();
    assert_eq!(got, want);
}

#[test]
fn fifo_rust_and_verilog_agree() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let (mut pushes, mut pops, mut overflowed) = (0u64, 0u64, false);
    let report = Equivalence::new("segment_sum_fifo", 20_000)
        .run(
            Fifo::default,
            |u| &mut u.clock,
            |u, cycle| {
                // Phases: mostly balanced, sometimes a flood (overflow
                // included), sometimes draining.
                let phase = (cycle / 2000) % 4;
                let p_push = [0.5, 0.9, 0.1, 0.5][phase as usize];
                let p_pop = [0.6, 0.2, 0.9, 0.3][phase as usize];
                pops += u64::from(u.valid.val() && u.pop.val());
                overflowed |= u.overflow.val();
                let push = rng.gen_bool(p_push);
                pushes += u64::from(push);
                u.push.next = push;
                u.push_value.next = u64::from(rng.gen::<u16>()).to_bits();
                u.commit.next = rng.gen_bool(0.3);
                u.rollback.next = rng.gen_bool(0.05);
                u.pop.next = rng.gen_bool(p_pop);
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "equivalence {report}\ncoverage: {pushes} pushes, {pops} pops, overflow {overflowed}"
    );
    assert!(
        pushes > 5000 && pops > 2000 && overflowed,
        "stimulus too tame"
    );
}

// ---------------------------------------------------------------------------
// Together, as the NIC wires them

/// The tap's pushes into the FIFO, committed at `done` when `info.en` and
/// rolled back otherwise (in the `done` cycle, with the tap's last push);
/// a reader popping at random. The FIFO yields exactly the sums of the
/// requested valid frames, in order.
#[test]
fn tap_into_fifo_yields_the_valid_frames_sums() {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let frames: Vec<Frame> = (0..300).map(|_| random_frame(&mut rng)).collect();
    let want: Vec<u16> = frames.iter().flat_map(|f| reference(f).sums).collect();
    let mut tap = DirectSim::new(TsoTap::default(), |u| &mut u.clock).unwrap();
    let mut fifo = DirectSim::new(SegmentSumFifo::<10, 11>::default(), |u| &mut u.clock).unwrap();
    let mut got = Vec::new();
    let mut input: VecDeque<((u64, u8, bool), TxOffloadRequest)> = VecDeque::new();
    for f in &frames {
        for (i, b) in beats(&f.bytes).into_iter().enumerate() {
            input.push_back((
                b,
                if i == 0 {
                    f.hw_req()
                } else {
                    junk_req(&mut rng)
                },
            ));
        }
    }
    let mut rolled_back = 0;
    while !input.is_empty() || got.len() < want.len() {
        assert!(tap.cycle() < 400_000, "stuck");
        let on = !input.is_empty() && rng.gen_bool(0.8);
        let u = tap.uut();
        match input.front() {
            Some(&((d, k, l), r)) if on => {
                u.tdata.next = d.to_bits();
                u.tkeep.next = u64::from(k).to_bits();
                u.tlast.next = l;
                u.req.next = r;
                input.pop_front();
            }
            _ => u.req.next = junk_req(&mut rng),
        }
        u.beat.next = on;
        // The FIFO sees the tap's outputs of the same cycle.
        let t = tap.uut_ref();
        let (push, value, done, en) = (
            t.sum_push.val(),
            t.sum_value.val(),
            t.done.val(),
            t.info.val().en,
        );
        rolled_back += usize::from(done && !en);
        let pop = rng.gen_bool(0.5);
        let q = fifo.uut();
        if q.valid.val() && pop {
            got.push(q.value.val().to_u64() as u16);
        }
        q.push.next = push;
        q.push_value.next = value;
        q.commit.next = done && en;
        q.rollback.next = done && !en;
        q.pop.next = pop;
        tap.tick().unwrap();
        fifo.tick().unwrap();
    }
    assert!(!fifo.uut().overflow.val());
    assert_eq!(fifo.uut_ref().ram_collisions(), 0);
    assert_eq!(got, want);
    assert!(rolled_back > 30);
}

// ---------------------------------------------------------------------------
// Synthesis

/// Both blocks through yosys (iCE40), iverilog and Verilator, with the
/// cell counts printed.
#[test]
fn blocks_pass_the_verilog_tools() {
    let dir = std::env::temp_dir().join(format!("overlay-nic-tso-tap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut tap = TsoTap::default();
    tap.connect_all();
    let mut fifo = SegmentSumFifo::<10, 11>::default();
    fifo.connect_all();
    for (name, v) in [
        ("tso_tap", generate_verilog(&tap)),
        ("segment_sum_fifo", generate_verilog(&fifo)),
    ] {
        let path = write_verilog(&dir, name, &v).unwrap();
        let stats = yosys_ice40(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        iverilog_compile(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        verilator_lint(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        eprintln!("{name}: {stats}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
