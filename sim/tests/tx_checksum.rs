//! The TX checksum offload blocks against an independent reference written
//! from `docs/tx-offload.md` ("Checksum request", "IPv4 header checksum").
//! The tap (`TxChecksumTap`): random bytes and etherparse-built IPv4/UDP/TCP
//! frames (with and without 802.1Q, with IPv4 options), damaged or
//! truncated, random requests in and out of range, random idle cycles
//! between and within frames, and every length 1..=80 back to back. The
//! inserter (`ChecksumInserter`): random frames and patches (straddling
//! beat boundaries, overlapping), random idle input and back-pressure, no
//! bubble without stalls. The two together on frames set up as Linux sets
//! up `CHECKSUM_PARTIAL`, validated with etherparse. Each block's Rust
//! simulation against its exported Verilog.

use etherparse::{
    IpHeaders, IpNumber, Ipv4Extensions, Ipv4Header, Ipv4Options, PacketBuilder, PacketBuilderStep,
    VlanId,
};
use overlay_nic_hdl::tx_types::{ChecksumPatch, TxOffloadRequest};
use overlay_nic_hdl::{ChecksumInserter, TxChecksumTap};
use overlay_nic_sim::rtl::Equivalence;
use overlay_nic_sim::DirectSim;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::collections::VecDeque;

// ---------------------------------------------------------------------------
// The reference, straight from the doc

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Req {
    csum: bool,
    start: u16,
    offset: u16,
    ip_csum: bool,
}

impl Req {
    fn hw(&self) -> TxOffloadRequest {
        TxOffloadRequest {
            csum: self.csum,
            csum_start: u64::from(self.start).to_bits(),
            csum_offset: u64::from(self.offset).to_bits(),
            ip_csum: self.ip_csum,
            tso: false,
            mss: 0.into(),
        }
    }
}

/// The tap's results as plain integers. `ip_value` is only defined (and
/// only compared) when `ip_ok`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Result {
    csum_ok: bool,
    ip_ok: bool,
    l4_en: bool,
    l4_pos: u16,
    l4_value: u16,
    ip_en: bool,
    ip_pos: u16,
    ip_value: u16,
    /// Sum of the frame as sent, ones'-complement zero always as 0 (the
    /// tap may give 0x0000 or 0xffff for it, equal in ones' complement).
    inner_sum: u16,
}

/// Ones'-complement zero has two forms; compare sums with one.
fn zero_as_0(sum: u16) -> u16 {
    if sum == 0xffff {
        0
    } else {
        sum
    }
}

fn from_hw(csum_ok: bool, ip_ok: bool, p: &ChecksumPatch, inner_sum: u16) -> Result {
    Result {
        csum_ok,
        ip_ok,
        l4_en: p.l4_en,
        l4_pos: p.l4_pos.to_u64() as u16,
        l4_value: p.l4_value.to_u64() as u16,
        ip_en: p.ip_en,
        ip_pos: p.ip_pos.to_u64() as u16,
        ip_value: if ip_ok { p.ip_value.to_u64() as u16 } else { 0 },
        inner_sum: zero_as_0(inner_sum),
    }
}

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

/// `L3` and, when the frame has an IPv4 header, `L4`.
fn ipv4_header(f: &[u8]) -> (usize, Option<usize>) {
    let n = f.len();
    let l3 = if n >= 18 && f[12] == 0x81 && f[13] == 0x00 {
        18
    } else {
        14
    };
    let ok = n >= l3
        && f[l3 - 2] == 0x08
        && f[l3 - 1] == 0x00
        && n >= l3 + 20
        && f[l3] >> 4 == 4
        && f[l3] & 15 >= 5
        && n >= l3 + 4 * usize::from(f[l3] & 15);
    (l3, ok.then(|| l3 + 4 * usize::from(f[l3] & 15)))
}

fn reference(f: &[u8], r: &Req) -> Result {
    let n = f.len();
    let (s, o) = (usize::from(r.start), usize::from(r.offset));
    let csum_ok = s + o + 2 <= n;
    let mut l4_value = !fold_sum(f.get(s..).unwrap_or(&[]));
    if l4_value == 0 {
        l4_value = 0xffff;
    }
    let (l3, l4) = ipv4_header(f);
    let ip_value = l4.map_or(0, |l4| {
        let mut h = f[l3..l4].to_vec();
        h[10] = 0;
        h[11] = 0;
        !fold_sum(&h)
    });
    let l4_en = r.csum && csum_ok;
    let ip_en = r.ip_csum && l4.is_some();
    // The frame as sent: the doc's writes applied, then summed whole.
    let sent = apply(
        f,
        &patch(
            l4_en.then_some(((s + o) as u16, l4_value)),
            ip_en.then_some(((l3 + 10) as u16, ip_value)),
        ),
    );
    Result {
        csum_ok,
        ip_ok: l4.is_some(),
        l4_en,
        l4_pos: (s + o) as u16,
        l4_value,
        ip_en,
        ip_pos: (l3 + 10) as u16,
        ip_value,
        inner_sum: zero_as_0(fold_sum(&sent)),
    }
}

// ---------------------------------------------------------------------------
// Frames and requests

/// A real IPv4 frame built with etherparse: TCP or UDP, an optional 802.1Q
/// tag, `opts` words of IPv4 options, `payload` random bytes. Returns the
/// frame and its L4 offset.
fn real_frame(
    rng: &mut ChaCha8Rng,
    tcp: bool,
    vlan: bool,
    opts: usize,
    payload: usize,
) -> (Vec<u8>, usize) {
    let mut h = Ipv4Header::new(0, 64, IpNumber::TCP, rng.gen(), rng.gen()).unwrap();
    let options: Vec<u8> = (0..4 * opts).map(|_| rng.gen()).collect();
    h.options = Ipv4Options::try_from(&options[..]).unwrap();
    h.identification = rng.gen();
    let eth = PacketBuilder::ethernet2(rng.gen(), rng.gen());
    let ip: PacketBuilderStep<IpHeaders> = if vlan {
        eth.single_vlan(VlanId::try_new(rng.gen_range(0..4096)).unwrap())
            .ip(IpHeaders::Ipv4(h, Ipv4Extensions::default()))
    } else {
        eth.ip(IpHeaders::Ipv4(h, Ipv4Extensions::default()))
    };
    let data: Vec<u8> = (0..payload).map(|_| rng.gen()).collect();
    let mut v = Vec::new();
    if tcp {
        ip.tcp(rng.gen(), rng.gen(), rng.gen(), rng.gen())
            .write(&mut v, &data)
            .unwrap();
    } else {
        ip.udp(rng.gen(), rng.gen()).write(&mut v, &data).unwrap();
    }
    let l4 = if vlan { 18 } else { 14 } + 20 + 4 * opts;
    (v, l4)
}

/// A random frame and request: random bytes (1..300 or 1400..1600) or a
/// real TCP/UDP frame, maybe damaged or truncated; a request aimed at the
/// L4 checksum field or random, in and out of range.
fn frame_and_request(rng: &mut ChaCha8Rng) -> (Vec<u8>, Req) {
    let (mut f, l4) = match rng.gen_range(0..10) {
        0..=2 => {
            let n = rng.gen_range(1..300);
            ((0..n).map(|_| rng.gen()).collect(), rng.gen_range(0..n))
        }
        3 => {
            let n = rng.gen_range(1400..1600);
            ((0..n).map(|_| rng.gen()).collect(), rng.gen_range(0..n))
        }
        _ => {
            let tcp = rng.gen();
            let vlan = rng.gen_bool(0.4);
            let opts = if rng.gen_bool(0.4) {
                rng.gen_range(1..=10)
            } else {
                0
            };
            let payload = if rng.gen_bool(0.1) {
                rng.gen_range(1300..1500)
            } else {
                rng.gen_range(0..200)
            };
            real_frame(rng, tcp, vlan, opts, payload)
        }
    };
    match rng.gen_range(0..10) {
        0 => f.truncate(rng.gen_range(1..=f.len())),
        1 => {
            let i = rng.gen_range(0..f.len().min(60));
            f[i] ^= 1 << rng.gen_range(0..8);
        }
        _ => {}
    }
    let n = f.len();
    let start = match rng.gen_range(0..6) {
        0..=2 => l4 as u16,
        3 => rng.gen_range(0..=n + 4) as u16,
        4 => rng.gen(),
        _ => n.saturating_sub(rng.gen_range(0..4)) as u16,
    };
    let offset = match rng.gen_range(0..6) {
        0 | 1 => 16,
        2 => 6,
        3 => rng.gen_range(0..=n + 4) as u16,
        4 => rng.gen(),
        _ => rng.gen_range(0..8),
    };
    let req = Req {
        csum: rng.gen_bool(0.7),
        start,
        offset,
        ip_csum: rng.gen_bool(0.7),
    };
    (f, req)
}

/// A request on a cycle where the tap must not read it.
fn junk_req(rng: &mut ChaCha8Rng) -> Req {
    Req {
        csum: rng.gen(),
        start: rng.gen(),
        offset: rng.gen(),
        ip_csum: rng.gen(),
    }
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

// ---------------------------------------------------------------------------
// Running the tap

/// Streams `frames` past the tap, each beat preceded by idle cycles (junk
/// on the data and request ports, `beat` low) with probability `gap`, and
/// checks every cycle: `done` high exactly three cycles after each last beat
/// with the reference's results, which then hold until the next `done`.
/// Returns the cycles run.
fn check_tap(frames: &[(Vec<u8>, Req)], seed: u64, gap: f64) -> u64 {
    let mut sim = DirectSim::new(TxChecksumTap::default(), |u| &mut u.clock).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut due: VecDeque<(u64, usize, Result)> = VecDeque::new();
    let mut held: Option<Result> = None;
    let mut step = |sim: &mut DirectSim<TxChecksumTap>,
                    rng: &mut ChaCha8Rng,
                    beat: Option<((u64, u8, bool), Req)>,
                    ends: Option<(usize, Result)>| {
        let u = sim.uut();
        match beat {
            Some(((data, keep, last), req)) => {
                u.tdata.next = data.to_bits();
                u.tkeep.next = u64::from(keep).to_bits();
                u.tlast.next = last;
                u.beat.next = true;
                u.req.next = req.hw();
            }
            None => {
                u.tdata.next = rng.gen::<u64>().to_bits();
                u.tkeep.next = u64::from(rng.gen::<u8>()).to_bits();
                u.tlast.next = rng.gen();
                u.beat.next = false;
                u.req.next = junk_req(rng).hw();
            }
        }
        sim.tick().unwrap();
        let cycle = sim.cycle();
        if let Some((k, r)) = ends {
            due.push_back((cycle + 2, k, r));
        }
        let u = sim.uut();
        let got = from_hw(
            u.csum_ok.val(),
            u.ip_ok.val(),
            &u.patch.val(),
            u.inner_sum.val().to_u64() as u16,
        );
        match due.front() {
            Some(&(c, k, want)) if c == cycle => {
                due.pop_front();
                assert!(u.done.val(), "cycle {cycle}: no done for frame {k}");
                assert_eq!(
                    got, want,
                    "frame {k}: {:?}\n(left: tap, right: reference)",
                    frames[k]
                );
                held = Some(want);
            }
            _ => {
                assert!(!u.done.val(), "cycle {cycle}: done without a frame");
                if let Some(h) = held {
                    assert_eq!(got, h, "cycle {cycle}: results not held");
                }
            }
        }
    };
    for (k, (f, req)) in frames.iter().enumerate() {
        assert!(!f.is_empty());
        for (i, b) in beats(f).into_iter().enumerate() {
            while gap > 0.0 && rng.gen_bool(gap) {
                step(&mut sim, &mut rng, None, None);
            }
            // Only the first beat's request counts: later beats carry junk.
            let r = if i == 0 { *req } else { junk_req(&mut rng) };
            let ends = b.2.then(|| (k, reference(f, req)));
            step(&mut sim, &mut rng, Some((b, r)), ends);
        }
    }
    for _ in 0..4 {
        step(&mut sim, &mut rng, None, None);
    }
    assert!(due.is_empty());
    sim.cycle()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn tap_matches_the_reference(
        seed in any::<u64>(),
        count in 1usize..8,
        gap in prop_oneof![Just(0.0), 0.0f64..0.6],
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let frames: Vec<_> = (0..count).map(|_| frame_and_request(&mut rng)).collect();
        check_tap(&frames, seed ^ 0x5a5a, gap);
    }
}

/// The random frames and requests reach every case of the reference.
#[test]
fn tap_stimulus_covers_the_cases() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut seen = [0usize; 6];
    for _ in 0..2000 {
        let (f, req) = frame_and_request(&mut rng);
        let r = reference(&f, &req);
        let (l3, _) = ipv4_header(&f);
        for (i, c) in [
            r.csum_ok,
            !r.csum_ok,
            r.ip_ok,
            !r.ip_ok && f.len() >= 34,
            r.csum_ok && req.start % 2 == 1,
            r.ip_ok && l3 == 18,
        ]
        .into_iter()
        .enumerate()
        {
            seen[i] += usize::from(c);
        }
    }
    eprintln!("csum ok/bad, ip ok/bad, odd start, tagged IPv4: {seen:?}");
    assert!(seen.iter().all(|&n| n >= 100), "{seen:?}");
}

/// The L4 field on, or one byte either side of, the IPv4 checksum field,
/// both written: the sum of the frame as sent counts the shared bytes'
/// L4 values only (the L4 write wins), and the IPv4 value elsewhere.
#[test]
fn tap_sum_with_overlapping_writes() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut frames = Vec::new();
    for vlan in [false, true] {
        for shift in [-1i32, 0, 1] {
            for _ in 0..20 {
                let payload = rng.gen_range(0..100);
                let tcp = rng.gen();
                let (mut f, _) = real_frame(&mut rng, tcp, vlan, 0, payload);
                let ip_pos = if vlan { 28 } else { 24 };
                // Garbage in the IPv4 checksum field, as a host leaves it:
                // etherparse's right one would make its write a no-op.
                f[ip_pos as usize] = rng.gen();
                f[ip_pos as usize + 1] = rng.gen();
                let l4_pos = (ip_pos + shift) as u16;
                let offset = rng.gen_range(0..=l4_pos);
                let req = Req {
                    csum: true,
                    start: l4_pos - offset,
                    offset,
                    ip_csum: true,
                };
                let r = reference(&f, &req);
                assert!(r.l4_en && r.ip_en && i32::from(r.ip_pos) == ip_pos);
                frames.push((f, req));
            }
        }
    }
    check_tap(&frames, 12, 0.2);
}

/// Every length 1..=80 back to back with no idle cycle, three times: random
/// bytes, then IPv4-looking frames (so the header checks pass and fail at
/// every length), with requests around the frame's end.
#[test]
fn tap_every_length_back_to_back() {
    let mut rng = ChaCha8Rng::seed_from_u64(80);
    let mut frames = Vec::new();
    for pass in 0..3 {
        for n in 1..=80usize {
            let mut f: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            if pass > 0 {
                let (tag, l3) = if pass == 2 { (true, 18) } else { (false, 14) };
                let hdr = [0x08, 0x00, 0x45 + rng.gen_range(0..4u8), 0];
                if tag && n >= 14 {
                    f[12] = 0x81;
                    f[13] = 0x00;
                }
                for (i, b) in hdr.iter().enumerate() {
                    if l3 - 2 + i < n {
                        f[l3 - 2 + i] = *b;
                    }
                }
            }
            let start = rng.gen_range(0..=n) as u16;
            let offset = rng.gen_range(0..=(n - start as usize) + 1) as u16;
            let req = Req {
                csum: true,
                start,
                offset,
                ip_csum: true,
            };
            frames.push((f, req));
        }
    }
    let cycles = check_tap(&frames, 1, 0.0);
    let beats: usize = frames.iter().map(|(f, _)| f.len().div_ceil(8)).sum();
    assert_eq!(cycles as usize, beats + 4, "a cycle without a beat");
}

#[test]
fn tap_rust_and_verilog_agree() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut current: Vec<(u64, u8, bool)> = Vec::new();
    let mut req = Req::default();
    let mut pos = 0usize;
    let mut frames = 0u64;
    let mut dones = 0u64;
    let report = Equivalence::new("tx_checksum_tap", 20_000)
        .run(
            TxChecksumTap::default,
            |u| &mut u.clock,
            |u, _| {
                dones += u.done.val() as u64;
                if u.beat.val() {
                    pos += 1;
                    if pos == current.len() {
                        current.clear();
                        frames += 1;
                    }
                }
                if current.is_empty() && rng.gen_bool(0.7) {
                    let (f, r) = frame_and_request(&mut rng);
                    current = beats(&f);
                    req = r;
                    pos = 0;
                }
                let on = !current.is_empty() && rng.gen_bool(0.8);
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
                    req.hw()
                } else {
                    junk_req(&mut rng).hw()
                };
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("equivalence {report}\ncoverage: {frames} frames, {dones} results");
    assert!(frames > 200 && dones > 200, "stimulus too tame");
}

// ---------------------------------------------------------------------------
// The inserter

type HwBeat = (u64, u8, bool, ChecksumPatch);

fn patch(l4: Option<(u16, u16)>, ip: Option<(u16, u16)>) -> ChecksumPatch {
    let (l4_pos, l4_value) = l4.unwrap_or_default();
    let (ip_pos, ip_value) = ip.unwrap_or_default();
    ChecksumPatch {
        l4_en: l4.is_some(),
        l4_pos: u64::from(l4_pos).to_bits(),
        l4_value: u64::from(l4_value).to_bits(),
        ip_en: ip.is_some(),
        ip_pos: u64::from(ip_pos).to_bits(),
        ip_value: u64::from(ip_value).to_bits(),
    }
}

fn junk_patch(rng: &mut ChaCha8Rng) -> ChecksumPatch {
    patch(
        rng.gen::<bool>().then(|| (rng.gen(), rng.gen())),
        rng.gen::<bool>().then(|| (rng.gen(), rng.gen())),
    )
}

/// The doc's writes, byte by byte: IPv4 first, then L4.
fn apply(f: &[u8], p: &ChecksumPatch) -> Vec<u8> {
    let mut v = f.to_vec();
    let writes = [
        (p.ip_en, p.ip_pos.to_u64(), p.ip_value.to_u64()),
        (p.l4_en, p.l4_pos.to_u64(), p.l4_value.to_u64()),
    ];
    for (en, pos, value) in writes {
        if en {
            v[pos as usize] = (value >> 8) as u8;
            v[pos as usize + 1] = value as u8;
        }
    }
    v
}

/// The frames as beats, the patch on each first beat and junk `tuser` on
/// the others (passed through all the same).
fn hw_beats(frames: &[(Vec<u8>, ChecksumPatch)], rng: &mut ChaCha8Rng) -> Vec<HwBeat> {
    let mut v = Vec::new();
    for (f, p) in frames {
        for (i, (d, k, l)) in beats(f).into_iter().enumerate() {
            v.push((d, k, l, if i == 0 { *p } else { junk_patch(rng) }));
        }
    }
    v
}

/// Runs `input` through the inserter with the input idle with probability
/// `idle` and the output stalled with probability `stall` each cycle (junk
/// on idle inputs); returns the output beats and the cycle each moved in.
fn run_inserter(input: &[HwBeat], seed: u64, idle: f64, stall: f64) -> (Vec<HwBeat>, Vec<u64>) {
    let mut sim = DirectSim::new(ChecksumInserter::<ChecksumPatch>::default(), |u| {
        &mut u.clock
    })
    .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let mut when = Vec::new();
    let mut next = 0;
    while out.len() < input.len() {
        assert!(
            sim.cycle() < 100 + 20 * input.len() as u64,
            "inserter stuck"
        );
        let offer = next < input.len() && !(idle > 0.0 && rng.gen_bool(idle));
        let ready = !(stall > 0.0 && rng.gen_bool(stall));
        let cycle = sim.cycle();
        let u = sim.uut();
        // Outputs and tready come from flip-flops: valid before the inputs.
        if u.m_axis.tvalid.val() && ready {
            out.push((
                u.m_axis.tdata.val().to_u64(),
                u.m_axis.tkeep.val().to_u64() as u8,
                u.m_axis.tlast.val(),
                u.m_axis.tuser.val(),
            ));
            when.push(cycle);
        }
        let taken = offer && u.s_axis.tready.val();
        let (d, k, l, p) = if offer {
            input[next]
        } else {
            (rng.gen(), rng.gen(), rng.gen(), junk_patch(&mut rng))
        };
        u.s_axis.tvalid.next = offer;
        u.s_axis.tdata.next = d.to_bits();
        u.s_axis.tkeep.next = u64::from(k).to_bits();
        u.s_axis.tlast.next = l;
        u.s_axis.tuser.next = p;
        u.patch.next = p;
        u.m_axis.tready.next = ready;
        sim.tick().unwrap();
        if taken {
            next += 1;
        }
    }
    (out, when)
}

/// A patch with both writes in range (n >= 2), often straddling a beat
/// boundary (pos = 8k + 7) and often overlapping each other.
fn random_patch(rng: &mut ChaCha8Rng, n: usize) -> ChecksumPatch {
    if n < 2 {
        return patch(None, None);
    }
    let pos = |rng: &mut ChaCha8Rng| -> u16 {
        let p = if rng.gen_bool(0.3) {
            8 * rng.gen_range(0..=(n - 2) / 8) + 7
        } else {
            rng.gen_range(0..=n - 2)
        };
        p.min(n - 2) as u16
    };
    let ip = pos(rng);
    let l4 = match rng.gen_range(0..4) {
        0 => ip,
        1 => ip.saturating_sub(1),
        2 => (ip + 1).min(n as u16 - 2),
        _ => pos(rng),
    };
    patch(
        rng.gen_bool(0.8).then(|| (l4, rng.gen())),
        rng.gen_bool(0.8).then(|| (ip, rng.gen())),
    )
}

fn check_inserter(frames: &[(Vec<u8>, ChecksumPatch)], seed: u64, idle: f64, stall: f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let input = hw_beats(frames, &mut rng);
    let patched: Vec<(Vec<u8>, ChecksumPatch)> =
        frames.iter().map(|(f, p)| (apply(f, p), *p)).collect();
    let mut want = hw_beats(&patched, &mut ChaCha8Rng::seed_from_u64(seed));
    // tuser passes unchanged on every beat, junk included.
    for (w, i) in want.iter_mut().zip(&input) {
        w.3 = i.3;
    }
    let (got, when) = run_inserter(&input, seed ^ 1, idle, stall);
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "output beat {k} (left: inserter, right: reference)");
    }
    if idle == 0.0 && stall == 0.0 {
        assert_eq!(
            when.last().unwrap() - when[0] + 1,
            input.len() as u64,
            "a bubble in the output"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn inserter_writes_the_patches(
        seed in any::<u64>(),
        count in 1usize..8,
        idle in prop_oneof![Just(0.0), 0.0f64..0.6],
        stall in prop_oneof![Just(0.0), 0.0f64..0.6],
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let frames: Vec<_> = (0..count)
            .map(|_| {
                let (f, _) = frame_and_request(&mut rng);
                let p = random_patch(&mut rng, f.len());
                (f, p)
            })
            .collect();
        check_inserter(&frames, seed, idle, stall);
    }
}

/// Every length 1..=80, back to back, no idle and no stall: one beat per
/// cycle out, frames without a bubble between them.
#[test]
fn inserter_every_length_back_to_back() {
    let mut rng = ChaCha8Rng::seed_from_u64(81);
    let frames: Vec<_> = (1..=80usize)
        .map(|n| {
            let f: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            let p = random_patch(&mut rng, n);
            (f, p)
        })
        .collect();
    check_inserter(&frames, 2, 0.0, 0.0);
}

#[test]
fn inserter_rust_and_verilog_agree() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut pending: VecDeque<HwBeat> = VecDeque::new();
    let mut taken = false;
    let mut beats_in = 0u64;
    let mut beats_out = 0u64;
    let report = Equivalence::new("checksum_inserter", 20_000)
        .run(
            ChecksumInserter::<ChecksumPatch>::default,
            |u| &mut u.clock,
            |u, _| {
                // The beat offered last cycle moved if tready (a flip-flop)
                // was high then.
                if taken {
                    pending.pop_front();
                    beats_in += 1;
                }
                if pending.is_empty() && rng.gen_bool(0.7) {
                    let (f, _) = frame_and_request(&mut rng);
                    let p = random_patch(&mut rng, f.len());
                    pending.extend(hw_beats(&[(f, p)], &mut rng));
                }
                let offered = !pending.is_empty() && rng.gen_bool(0.8);
                let (d, k, l, p) = match pending.front() {
                    Some(b) if offered => *b,
                    _ => (rng.gen(), rng.gen(), rng.gen(), junk_patch(&mut rng)),
                };
                u.s_axis.tvalid.next = offered;
                u.s_axis.tdata.next = d.to_bits();
                u.s_axis.tkeep.next = u64::from(k).to_bits();
                u.s_axis.tlast.next = l;
                u.s_axis.tuser.next = p;
                u.patch.next = p;
                let ready = rng.gen_bool(0.75);
                u.m_axis.tready.next = ready;
                taken = offered && u.s_axis.tready.val();
                beats_out += (u.m_axis.tvalid.val() && ready) as u64;
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("equivalence {report}\ncoverage: {beats_in} beats in, {beats_out} out");
    assert!(beats_in > 5000, "stimulus too tame");
}

// ---------------------------------------------------------------------------
// Tap then inserter, on real frames

/// Runs `frames` past the tap back to back and returns each frame's
/// (`csum_ok`, `ip_ok`, patch, `inner_sum`) as `done` presents them.
fn tap_results(frames: &[(Vec<u8>, Req)]) -> Vec<(bool, bool, ChecksumPatch, u16)> {
    let mut sim = DirectSim::new(TxChecksumTap::default(), |u| &mut u.clock).unwrap();
    let mut out = Vec::new();
    let mut collect = |sim: &mut DirectSim<TxChecksumTap>| {
        sim.tick().unwrap();
        let u = sim.uut();
        if u.done.val() {
            out.push((
                u.csum_ok.val(),
                u.ip_ok.val(),
                u.patch.val(),
                u.inner_sum.val().to_u64() as u16,
            ));
        }
    };
    for (f, req) in frames {
        for (i, (d, k, l)) in beats(f).into_iter().enumerate() {
            let u = sim.uut();
            u.tdata.next = d.to_bits();
            u.tkeep.next = u64::from(k).to_bits();
            u.tlast.next = l;
            u.beat.next = true;
            u.req.next = if i == 0 {
                req.hw()
            } else {
                Req::default().hw()
            };
            collect(&mut sim);
        }
    }
    sim.uut().beat.next = false;
    for _ in 0..4 {
        collect(&mut sim);
    }
    out
}

/// UDP and TCP frames as Linux hands them to a `CHECKSUM_PARTIAL` NIC:
/// the L4 checksum field holds the folded pseudo-header sum (not
/// complemented), the IPv4 checksum field garbage. After the tap and the
/// inserter (random idle input, random back-pressure) each frame is the
/// one etherparse built, and etherparse's own checksums agree; the tap's
/// `inner_sum` is the sum of the frame the inserter sent.
#[test]
fn tap_then_inserter_fill_in_real_checksums() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut originals = Vec::new();
    let mut hosts = Vec::new();
    let (mut tcps, mut vlans, mut opts_seen) = (0, 0, 0);
    for _ in 0..300 {
        let tcp = rng.gen();
        let vlan = rng.gen_bool(0.4);
        let opts = if rng.gen_bool(0.3) {
            rng.gen_range(1..=10)
        } else {
            0
        };
        let payload = if rng.gen_bool(0.1) {
            rng.gen_range(1300..1450)
        } else {
            rng.gen_range(0..300)
        };
        tcps += usize::from(tcp);
        vlans += usize::from(vlan);
        opts_seen += usize::from(opts > 0);
        let (f, l4) = real_frame(&mut rng, tcp, vlan, opts, payload);
        let l3 = if vlan { 18 } else { 14 };
        let mut host = f.clone();
        host[l3 + 10] = rng.gen();
        host[l3 + 11] = rng.gen();
        // Pseudo-header: addresses, protocol, L4 length; folded, not inverted.
        let l4_len = f.len() - l4;
        let mut pseudo = host[l3 + 12..l3 + 20].to_vec();
        pseudo.extend_from_slice(&[0, if tcp { 6 } else { 17 }]);
        pseudo.extend_from_slice(&(l4_len as u16).to_be_bytes());
        let seed = fold_sum(&pseudo).to_be_bytes();
        let offset = if tcp { 16 } else { 6 };
        host[l4 + offset..l4 + offset + 2].copy_from_slice(&seed);
        let req = Req {
            csum: true,
            start: l4 as u16,
            offset: offset as u16,
            ip_csum: true,
        };
        originals.push((f, tcp));
        hosts.push((host, req));
    }
    assert!(tcps > 50 && tcps < 250 && vlans > 50 && opts_seen > 30);

    let results = tap_results(&hosts);
    assert_eq!(results.len(), hosts.len());
    let patched: Vec<(Vec<u8>, ChecksumPatch)> = hosts
        .iter()
        .zip(&results)
        .map(|((h, _), &(csum_ok, ip_ok, p, _))| {
            assert!(csum_ok && ip_ok && p.l4_en && p.ip_en);
            (h.clone(), p)
        })
        .collect();
    let input = hw_beats(&patched, &mut rng);
    let (out, _) = run_inserter(&input, 43, 0.2, 0.3);
    let mut frames_out: Vec<Vec<u8>> = vec![Vec::new()];
    for (d, k, l, _) in out {
        let n = k.count_ones() as usize;
        frames_out
            .last_mut()
            .unwrap()
            .extend_from_slice(&d.to_le_bytes()[..n]);
        if l {
            frames_out.push(Vec::new());
        }
    }
    frames_out.pop();
    assert_eq!(frames_out.len(), originals.len());
    let mut zero_as_ffff = 0;
    for (k, (got, (want, tcp))) in frames_out.iter().zip(&originals).enumerate() {
        assert_eq!(
            zero_as_0(results[k].3),
            zero_as_0(fold_sum(got)),
            "frame {k}: inner_sum is not the sum of the frame sent"
        );
        let h = etherparse::PacketHeaders::from_ethernet_slice(got).unwrap();
        let Some(etherparse::NetHeaders::Ipv4(ip, _)) = &h.net else {
            panic!("frame {k}: no IPv4 header");
        };
        assert_eq!(
            ip.header_checksum,
            ip.calc_header_checksum(),
            "frame {k}: IPv4"
        );
        let payload = h.payload.slice();
        let (field, calc) = match &h.transport {
            Some(etherparse::TransportHeader::Tcp(t)) => {
                (t.checksum, t.calc_checksum_ipv4(ip, payload).unwrap())
            }
            Some(etherparse::TransportHeader::Udp(u)) => {
                (u.checksum, u.calc_checksum_ipv4(ip, payload).unwrap())
            }
            _ => panic!("frame {k}: no TCP/UDP header"),
        };
        if *tcp && calc == 0 && field == 0xffff {
            // The doc writes 0 as 0xffff for TCP too (the same sum).
            zero_as_ffff += 1;
            continue;
        }
        assert_eq!(field, calc, "frame {k}: L4 checksum");
        assert_eq!(got, want, "frame {k}: not the frame etherparse built");
    }
    eprintln!("{} frames patched ({tcps} TCP, {vlans} tagged, {opts_seen} with IPv4 options, {zero_as_ffff} TCP zero sums)", frames_out.len());
}
