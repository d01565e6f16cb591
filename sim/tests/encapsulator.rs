//! The encapsulator against the golden VXLAN model (`driver-model`'s
//! `vxlan::encapsulate`), byte for byte, over random configurations,
//! descriptors, frame lengths, idle cycles and back-pressure; the frame-size
//! matrix, with the outer UDP checksum off and on (then also validated by
//! etherparse, and its 0 sent as 0xffff); the zero-bubble guarantee with its latencies; its Rust simulation
//! against its exported Verilog under iverilog; and its iCE40 cell counts.

use etherparse::{VlanId, VlanPcp};
use overlay_nic_driver::offload::{fill_outer_udp_checksum, outer_udp_checksum};
use overlay_nic_driver::vxlan::{
    encapsulate, EncapParams, OuterVlan, Vni, MAX_INNER_LEN, MIN_INNER_LEN,
};
use overlay_nic_hdl::tx_types::{TxDescriptor, VtepConfig};
use overlay_nic_hdl::Encapsulator;
use overlay_nic_sim::frames::{run_stream_with, Frame, Received, StreamDriver, StreamMonitor};
use overlay_nic_sim::rtl::{iverilog_compile, verilator_lint, write_verilog, yosys_ice40};
use overlay_nic_sim::rtl::{Equivalence, EquivalenceError};
use overlay_nic_sim::DirectSim;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::net::Ipv4Addr;
use std::time::Instant;

/// The local VTEP, as the test sees it.
#[derive(Clone, Copy, Debug)]
struct Vtep {
    mac: [u8; 6],
    ip: [u8; 4],
    udp_port: u16,
    ttl: u8,
    df: bool,
    /// (VID, PCP, DEI) of the outer tag, if enabled.
    vlan: Option<(u16, u8, bool)>,
    /// TCI register content while the tag is disabled (must be ignored).
    junk_tci: u16,
    /// Compute the outer UDP checksum.
    udp_checksum: bool,
}

impl Vtep {
    fn tci(&self) -> u16 {
        match self.vlan {
            Some((vid, pcp, dei)) => (pcp as u16) << 13 | (dei as u16) << 12 | vid,
            None => self.junk_tci,
        }
    }

    fn hdl(&self) -> VtepConfig {
        VtepConfig {
            mac: be48(self.mac).to_bits(),
            ip: (u32::from_be_bytes(self.ip) as u64).to_bits(),
            udp_port: (self.udp_port as u64).to_bits(),
            ttl: (self.ttl as u64).to_bits(),
            df: self.df,
            vlan_enable: self.vlan.is_some(),
            vlan_tci: (self.tci() as u64).to_bits(),
            udp_checksum: self.udp_checksum,
        }
    }

    /// Header bytes an encapsulated frame gets.
    fn overhead(&self) -> usize {
        if self.vlan.is_some() {
            54
        } else {
            50
        }
    }
}

/// What the classifier decided about one frame.
#[derive(Clone, Copy, Debug)]
struct Desc {
    encap: bool,
    vni: u32,
    dst_ip: [u8; 4],
    dst_mac: [u8; 6],
    src_port: u16,
}

impl Desc {
    /// The descriptor for `inner`, its `inner_sum` taken from the bytes as
    /// the TX checksum tap gives it.
    fn hdl(&self, inner: &[u8]) -> TxDescriptor {
        self.hdl_with(inner.len(), fold_sum(inner))
    }

    fn hdl_with(&self, len: usize, inner_sum: u16) -> TxDescriptor {
        TxDescriptor {
            encap: self.encap,
            vni: (self.vni as u64).to_bits(),
            dst_ip: (u32::from_be_bytes(self.dst_ip) as u64).to_bits(),
            dst_mac: be48(self.dst_mac).to_bits(),
            src_port: (self.src_port as u64).to_bits(),
            length: (len as u64).to_bits(),
            inner_sum: (inner_sum as u64).to_bits(),
            ..Default::default()
        }
    }
}

/// Folded ones'-complement sum of big-endian words from byte 0, an odd last
/// byte padded with 0 (the descriptor's `inner_sum`).
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

fn be48(b: [u8; 6]) -> u64 {
    b.iter().fold(0, |acc, &x| acc << 8 | x as u64)
}

fn params(v: &Vtep, d: &Desc, ident: u16) -> EncapParams {
    EncapParams {
        local_mac: v.mac,
        remote_mac: d.dst_mac,
        local_ip: Ipv4Addr::from(v.ip),
        remote_ip: Ipv4Addr::from(d.dst_ip),
        vni: Vni::new(d.vni).unwrap(),
        udp_src_port: d.src_port,
        udp_dst_port: v.udp_port,
        ttl: v.ttl,
        dont_fragment: v.df,
        identification: ident,
        vlan: v.vlan.map(|(vid, pcp, dei)| OuterVlan {
            vid: VlanId::try_new(vid).unwrap(),
            pcp: VlanPcp::try_new(pcp).unwrap(),
            dei,
        }),
        udp_checksum: v.udp_checksum,
    }
}

/// RFC 1071 checksum of an IPv4 header whose checksum field is zero.
fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|w| u16::from_be_bytes([w[0], w[1]]) as u32)
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The golden model's frame for an inner frame shorter than an Ethernet
/// header, which it refuses: encapsulate the frame padded to 14 bytes, drop
/// the padding, and redo the two length fields and the IPv4 checksum.
fn encapsulate_runt(inner: &[u8], p: &EncapParams) -> Vec<u8> {
    let mut padded = inner.to_vec();
    padded.resize(MIN_INNER_LEN.max(inner.len()), 0);
    let mut out = encapsulate(&padded, p).unwrap();
    out.truncate(p.overhead() + inner.len());
    let ip = p.overhead() - 36;
    let total = (inner.len() + 36) as u16;
    out[ip + 2..ip + 4].copy_from_slice(&total.to_be_bytes());
    out[ip + 10..ip + 12].copy_from_slice(&[0, 0]);
    let csum = ipv4_checksum(&out[ip..ip + 20]);
    out[ip + 10..ip + 12].copy_from_slice(&csum.to_be_bytes());
    let udp_len = (inner.len() + 16) as u16;
    out[ip + 24..ip + 26].copy_from_slice(&udp_len.to_be_bytes());
    if p.udp_checksum {
        // The padded frame's checksum no longer holds: the golden model's
        // own function redoes it over what is left.
        fill_outer_udp_checksum(&mut out).unwrap();
    }
    out
}

/// What must leave the block for `inner`; `ident` is the number of
/// encapsulated frames before it.
fn expected(inner: &[u8], v: &Vtep, d: &Desc, ident: u16) -> Vec<u8> {
    if !d.encap {
        return inner.to_vec();
    }
    let p = params(v, d, ident);
    if inner.len() >= MIN_INNER_LEN {
        encapsulate(inner, &p).unwrap()
    } else {
        encapsulate_runt(inner, &p)
    }
}

/// Expected outputs of a frame sequence, in order.
fn expected_all(frames: &[(Vec<u8>, Desc)], v: &Vtep) -> Vec<Vec<u8>> {
    let mut ident = 0u16;
    frames
        .iter()
        .map(|(data, d)| {
            let e = expected(data, v, d, ident);
            ident = ident.wrapping_add(d.encap as u16);
            e
        })
        .collect()
}

fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.gen()).collect()
}

fn random_desc(rng: &mut ChaCha8Rng, encap: bool) -> Desc {
    Desc {
        encap,
        vni: rng.gen_range(0..=Vni::MAX),
        dst_ip: rng.gen(),
        dst_mac: rng.gen(),
        src_port: rng.gen(),
    }
}

fn random_vtep(rng: &mut ChaCha8Rng, vlan: bool) -> Vtep {
    Vtep {
        mac: rng.gen(),
        ip: rng.gen(),
        udp_port: rng.gen(),
        ttl: rng.gen_range(1..=255),
        df: rng.gen(),
        vlan: vlan.then(|| (rng.gen_range(0..0xfff), rng.gen_range(0..8), rng.gen())),
        junk_tci: rng.gen(),
        udp_checksum: rng.gen(),
    }
}

fn output_beats(frames: &[(Vec<u8>, Desc)], v: &Vtep) -> u64 {
    frames
        .iter()
        .map(|(data, d)| {
            let h = if d.encap { v.overhead() } else { 0 };
            (data.len() + h).div_ceil(8) as u64
        })
        .sum()
}

/// Runs `frames` through a fresh encapsulator with the given idle and
/// back-pressure probabilities and checks every output frame byte for byte
/// and the encapsulated-frame counter.
fn check(frames: &[(Vec<u8>, Desc)], v: &Vtep, seed: u64, idle: f64, bp: f64) {
    let mut sim = DirectSim::new(Encapsulator::default(), |u| &mut u.clock).unwrap();
    let mut driver = StreamDriver::new(seed, idle);
    let mut monitor = StreamMonitor::<Bit>::new(seed ^ 0x5eed, bp);
    for (data, d) in frames {
        driver.push(Frame::new(data.clone(), d.hdl(data))).unwrap();
    }
    let cfg = v.hdl();
    run_stream_with(
        &mut sim,
        |u| &mut u.s_axis,
        |u| &mut u.m_axis,
        &mut driver,
        &mut monitor,
        frames.len(),
        output_beats(frames, v) * 40 + 200,
        |u, _| u.vtep.next = cfg,
    )
    .unwrap();
    let want = expected_all(frames, v);
    assert_eq!(monitor.frames().len(), frames.len(), "frames out");
    for (i, (got, want)) in monitor.frames().iter().zip(&want).enumerate() {
        if got.data != *want {
            let at = got
                .data
                .iter()
                .zip(want)
                .position(|(a, b)| a != b)
                .unwrap_or(got.data.len().min(want.len()));
            panic!(
                "frame {i} ({} bytes in, encap {}, vlan {}): {} bytes out, {} expected, first difference at byte {at}\n got: {:02x?}\nwant: {:02x?}",
                frames[i].0.len(),
                frames[i].1.encap,
                v.vlan.is_some(),
                got.data.len(),
                want.len(),
                &got.data[..got.data.len().min(at + 16)],
                &want[..want.len().min(at + 16)],
            );
        }
        assert!(!got.meta, "frame {i}: tuser must be 0");
        if frames[i].1.encap && v.udp_checksum {
            assert_udp_checksum_validates(&got.data, i);
        }
    }
    let encapsulated = frames.iter().filter(|(_, d)| d.encap).count() as u64;
    assert_eq!(
        sim.uut().encapsulated.val().to_u64(),
        encapsulated,
        "encapsulated counter"
    );
}

/// etherparse, independently of the golden model, finds the outer UDP
/// checksum right (never 0: that would mean "none").
fn assert_udp_checksum_validates(frame: &[u8], i: usize) {
    let h = etherparse::PacketHeaders::from_ethernet_slice(frame).unwrap();
    let Some(etherparse::NetHeaders::Ipv4(ip, _)) = &h.net else {
        panic!("frame {i}: no outer IPv4 header");
    };
    let Some(etherparse::TransportHeader::Udp(udp)) = &h.transport else {
        panic!("frame {i}: no outer UDP header");
    };
    let calc = udp.calc_checksum_ipv4(ip, h.payload.slice()).unwrap();
    assert_ne!(udp.checksum, 0, "frame {i}: outer UDP checksum not filled");
    assert_eq!(udp.checksum, calc, "frame {i}: outer UDP checksum");
}

// ---------------------------------------------------------------------------
// The golden model's runt extension is the golden model where both apply.

#[test]
fn runt_reference_agrees_with_the_golden_model() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for len in MIN_INNER_LEN..80 {
        let v = random_vtep(&mut rng, len % 2 == 0);
        let d = random_desc(&mut rng, true);
        let p = params(&v, &d, rng.gen());
        let inner = payload(len, len as u64);
        assert_eq!(
            encapsulate_runt(&inner, &p),
            encapsulate(&inner, &p).unwrap()
        );
    }
}

// ---------------------------------------------------------------------------
// Random traffic against the golden model.

fn vtep_strategy() -> impl Strategy<Value = Vtep> {
    (
        any::<[u8; 6]>(),
        any::<[u8; 4]>(),
        any::<u16>(),
        1u8..=255,
        any::<bool>(),
        prop::option::of((0u16..0xfff, 0u8..8, any::<bool>())),
        any::<u16>(),
        any::<bool>(),
    )
        .prop_map(
            |(mac, ip, udp_port, ttl, df, vlan, junk_tci, udp_checksum)| Vtep {
                mac,
                ip,
                udp_port,
                ttl,
                df,
                vlan,
                junk_tci,
                udp_checksum,
            },
        )
}

fn desc_strategy() -> impl Strategy<Value = Desc> {
    (
        prop::bool::weighted(0.7),
        0..=Vni::MAX,
        any::<[u8; 4]>(),
        any::<[u8; 6]>(),
        any::<u16>(),
    )
        .prop_map(|(encap, vni, dst_ip, dst_mac, src_port)| Desc {
            encap,
            vni,
            dst_ip,
            dst_mac,
            src_port,
        })
}

fn frames_strategy() -> impl Strategy<Value = Vec<(Vec<u8>, Desc)>> {
    let len = prop_oneof![12 => 1usize..=2000, 1 => 2001usize..=9000];
    prop::collection::vec((len, desc_strategy(), any::<u64>()), 2..8).prop_map(|v| {
        v.into_iter()
            .map(|(len, d, seed)| (payload(len, seed), d))
            .collect()
    })
}

fn stall_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), 0.0f64..0.8]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn encapsulator_matches_the_golden_model(
        vtep in vtep_strategy(),
        frames in frames_strategy(),
        seed in any::<u64>(),
        idle in stall_strategy(),
        bp in stall_strategy(),
    ) {
        check(&frames, &vtep, seed, idle, bp);
    }
}

// ---------------------------------------------------------------------------
// Frame-size matrix.

/// (idle, back-pressure) patterns of the standard matrix.
const PATTERNS: [(f64, f64); 4] = [(0.0, 0.0), (0.4, 0.0), (0.0, 0.4), (0.5, 0.5)];

#[test]
fn encapsulator_frame_size_matrix() {
    let sizes: Vec<usize> = (1..=127).chain([512, 1500, 9000]).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    for vlan in [false, true] {
        let v = random_vtep(&mut rng, vlan);
        // Two of every three frames encapsulated, a different third per VLAN
        // setting, so every size is encapsulated at least once.
        let frames: Vec<(Vec<u8>, Desc)> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let encap = (i + vlan as usize) % 3 != 2;
                (payload(n, i as u64), random_desc(&mut rng, encap))
            })
            .collect();
        for (k, (idle, bp)) in PATTERNS.into_iter().enumerate() {
            // Half the patterns with the outer UDP checksum, half without.
            let v = Vtep {
                udp_checksum: k % 2 == 1,
                ..v
            };
            check(&frames, &v, 100 + k as u64, idle, bp);
        }
    }
}

/// A frame whose outer UDP checksum comes to 0 goes out with 0xffff (0
/// would mean "no checksum"): the inner frame's last word is chosen so.
#[test]
fn encapsulator_sends_a_zero_udp_checksum_as_all_ones() {
    let mut rng = ChaCha8Rng::seed_from_u64(29);
    let mut frames = Vec::new();
    for vlan in [false, true] {
        let v = Vtep {
            udp_checksum: true,
            ..random_vtep(&mut rng, vlan)
        };
        for n in [14usize, 60, 61, 200] {
            let d = random_desc(&mut rng, true);
            let mut inner = payload(n, n as u64);
            // Adding the checksum c (ones' complement) to a word of the
            // summed bytes makes their sum 0xffff, so the checksum 0.
            let c = outer_udp_checksum(&encapsulate(&inner, &params(&v, &d, 0)).unwrap()).unwrap();
            let at = (n - 2) & !1;
            let w = u16::from_be_bytes([inner[at], inner[at + 1]]) as u32 + c as u32;
            let w = ((w & 0xffff) + (w >> 16)) as u16;
            inner[at..at + 2].copy_from_slice(&w.to_be_bytes());
            let want = encapsulate(&inner, &params(&v, &d, 0)).unwrap();
            let f = v.overhead() - 10;
            assert_eq!(want[f..f + 2], [0xff, 0xff], "n {n}: not a zero sum");
            frames.push((v, vec![(inner, d)]));
        }
    }
    for (k, (v, f)) in frames.iter().enumerate() {
        check(f, v, k as u64, 0.0, 0.0);
    }
}

/// The longest inner frame IPv4 can carry (total length 65535), with and
/// without the outer tag, between short frames.
#[test]
fn encapsulator_longest_frame() {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    for vlan in [false, true] {
        // The checksum on: its sums at their largest.
        let v = Vtep {
            udp_checksum: true,
            ..random_vtep(&mut rng, vlan)
        };
        let frames: Vec<(Vec<u8>, Desc)> = [1, MAX_INNER_LEN, 60]
            .into_iter()
            .enumerate()
            .map(|(i, n)| (payload(n, i as u64), random_desc(&mut rng, true)))
            .collect();
        check(&frames, &v, 7, 0.1, 0.1);
    }
}

// ---------------------------------------------------------------------------
// Zero bubbles.

/// One back-to-back run's timing: per frame, the cycle its last input beat
/// was taken; the frames out with their cycles; cycles simulated; seconds.
struct Timed {
    last_in: Vec<u64>,
    out: Vec<Received<Bit>>,
    cycles: u64,
    seconds: f64,
}

/// Input always valid, output always ready; runs until every frame is out
/// and 16 cycles more, and fails on any extra output beat.
fn run_back_to_back(frames: &[(Vec<u8>, Desc)], v: &Vtep) -> Timed {
    let mut sim = DirectSim::new(Encapsulator::default(), |u| &mut u.clock).unwrap();
    let mut driver = StreamDriver::new(0, 0.0);
    let mut monitor = StreamMonitor::<Bit>::new(0, 0.0);
    for (data, d) in frames {
        driver.push(Frame::new(data.clone(), d.hdl(data))).unwrap();
    }
    let cfg = v.hdl();
    let beats = output_beats(frames, v);
    let mut last_in = Vec::new();
    let mut drain = None;
    let start = Instant::now();
    loop {
        let cycle = sim.cycle();
        driver.drive(&mut sim.uut().s_axis);
        sim.uut().vtep.next = cfg;
        monitor.drive(&mut sim.uut().m_axis);
        sim.settle().unwrap();
        if driver.observe(&sim.uut().s_axis) {
            last_in.push(cycle);
        }
        monitor.observe(&sim.uut().m_axis, cycle);
        sim.tick().unwrap();
        assert!(monitor.violation().is_none(), "{:?}", monitor.violation());
        if drain.is_none() && monitor.frames().len() == frames.len() {
            drain = Some(sim.cycle() + 16);
        }
        if drain.is_some_and(|end| sim.cycle() >= end) {
            break;
        }
        assert!(sim.cycle() < 2 * beats + 100, "timed out");
    }
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(monitor.beats(), beats, "output beats");
    Timed {
        last_in,
        out: monitor.frames().to_vec(),
        cycles: sim.cycle(),
        seconds,
    }
}

#[test]
fn zero_bubbles_across_back_to_back_frames() {
    let sizes: Vec<usize> = (60..=67).chain([128, 512, 1500, 9000]).collect();
    // Covers every transition: encap -> encap, encap -> pass, pass -> pass,
    // pass -> encap.
    let pattern = [
        true, true, false, false, true, false, true, true, false, true, true, true,
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let (mut cycles, mut seconds) = (0u64, 0f64);
    for vlan in [false, true] {
        for invert in [false, true] {
            let v = random_vtep(&mut rng, vlan);
            let frames: Vec<(Vec<u8>, Desc)> = sizes
                .iter()
                .zip(pattern)
                .enumerate()
                .map(|(i, (&n, e))| (payload(n, i as u64), random_desc(&mut rng, e != invert)))
                .collect();
            let t = run_back_to_back(&frames, &v);
            cycles += t.cycles;
            seconds += t.seconds;
            let want = expected_all(&frames, &v);
            let mut sum = 0u64;
            for (i, ((got, want), (data, d))) in t.out.iter().zip(&want).zip(&frames).enumerate() {
                assert!(got.data == *want, "frame {i} differs");
                let h = if d.encap { v.overhead() } else { 0 };
                let n = (data.len() + h).div_ceil(8) as u64;
                sum += n;
                assert_eq!(
                    got.last_cycle - got.first_cycle + 1,
                    n,
                    "frame {i} ({} bytes, H = {h}): cycles",
                    data.len()
                );
                if i > 0 {
                    assert_eq!(
                        got.first_cycle,
                        t.out[i - 1].last_cycle + 1,
                        "frame {i}: a bubble before its first beat"
                    );
                }
            }
            let span = t.out.last().unwrap().last_cycle - t.out[0].first_cycle + 1;
            assert_eq!(span, sum, "output cycles, first to last beat");
            let lat: Vec<i64> = t
                .out
                .iter()
                .zip(&t.last_in)
                .map(|(o, &l)| o.first_cycle as i64 - l as i64)
                .collect();
            println!(
                "vlan {vlan}, encap pattern inverted {invert}: {} frames, {span} output cycles \
                 = sum of ceil((len + H) / 8), no bubble; last input beat -> first output beat \
                 per frame (back to back, negative = output started earlier): {lat:?}",
                frames.len()
            );
        }
    }
    println!(
        "direct-loop simulation speed: {cycles} cycles in {seconds:.3} s = {:.0} cycles/s",
        cycles as f64 / seconds
    );
}

/// Latency of a frame through the empty block: from its first beat offered
/// (cycle 0) to its first output beat, and from its last input beat to its
/// first and to its last output beat.
#[test]
fn latency_through_the_empty_block() {
    let mut rng = ChaCha8Rng::seed_from_u64(41);
    for (vlan, encap) in [(false, true), (true, true), (false, false)] {
        let v = random_vtep(&mut rng, vlan);
        for len in [14, 60, 61, 64, 1500] {
            let frames = vec![(payload(len, len as u64), random_desc(&mut rng, encap))];
            let t = run_back_to_back(&frames, &v);
            let o = &t.out[0];
            let last_in = t.last_in[0] as i64;
            println!(
                "latency, {} {len} bytes{}: first in -> first out {} cycle(s), \
                 last in -> first out {}, last in -> last out {}",
                if encap { "encapsulated" } else { "passthrough" },
                if vlan { " (VLAN)" } else { "" },
                o.first_cycle,
                o.first_cycle as i64 - last_in,
                o.last_cycle as i64 - last_in,
            );
            // Header beat 0 (or the passthrough beat) goes out through the
            // skid buffer's register: one cycle.
            assert_eq!(o.first_cycle, 1);
            let h = if encap { v.overhead() } else { 0 };
            let extra = (len + h).div_ceil(8) - len.div_ceil(8) - if encap { 6 } else { 0 };
            assert_eq!(o.last_cycle as i64 - last_in, 1 + extra as i64);
        }
    }
}

// ---------------------------------------------------------------------------
// Rust simulation against the exported Verilog.

/// A random AXI-Stream frame source for the equivalence run: a beat once
/// offered stays unchanged until taken, `tuser` is fixed per frame, `tkeep`
/// is full except on the last beat; junk on every signal but `tvalid` while
/// idle. The descriptor's `length` is usually the frame's own.
struct Traffic {
    rng: ChaCha8Rng,
    valid_p: f64,
    offered: bool,
    taken: bool,
    left: u32,
    last_keep: u8,
    desc: TxDescriptor,
    beat: (u64, u8, bool),
    vtep: VtepConfig,
    frames: u64,
    encap_frames: u64,
    /// Encapsulated frames offered while the outer VLAN tag was enabled.
    vlan_frames: u64,
}

impl Traffic {
    fn new(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let vtep = random_vtep(&mut rng, true).hdl();
        Traffic {
            rng,
            valid_p: 0.8,
            offered: false,
            taken: false,
            left: 0,
            last_keep: 0xff,
            desc: TxDescriptor::default(),
            beat: (0, 0, false),
            vtep,
            frames: 0,
            encap_frames: 0,
            vlan_frames: 0,
        }
    }

    fn drive(&mut self, u: &mut Encapsulator) {
        let rng = &mut self.rng;
        if self.offered && self.taken {
            self.offered = false;
        }
        if rng.gen_bool(0.0005) {
            self.valid_p = [0.3, 0.8, 1.0][rng.gen_range(0..3)];
        }
        // Now and then a new configuration, whatever the traffic, the
        // outer VLAN tag turned on or off.
        if rng.gen_bool(0.002) {
            let vlan = !self.vtep.vlan_enable;
            self.vtep = random_vtep(rng, vlan).hdl();
        }
        if !self.offered && rng.gen_bool(self.valid_p) {
            if self.left == 0 {
                let beats = if rng.gen_bool(0.05) {
                    rng.gen_range(40..=200)
                } else {
                    rng.gen_range(1..=12)
                };
                let last_bytes = rng.gen_range(1..=8u32);
                let len = (beats - 1) * 8 + last_bytes;
                let encap = rng.gen_bool(0.7);
                // The beats are random, so is the inner sum: the
                // equivalence needs no true one.
                let mut d = random_desc(rng, encap).hdl_with(len as usize, rng.gen());
                if rng.gen_bool(0.05) {
                    // A descriptor length that disagrees with the stream.
                    d.length = rng.gen::<u16>().to_bits();
                }
                self.desc = d;
                self.left = beats;
                self.last_keep = ((1u16 << last_bytes) - 1) as u8;
                self.frames += 1;
                self.encap_frames += encap as u64;
                self.vlan_frames += (encap && self.vtep.vlan_enable) as u64;
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
            // Idle: junk everywhere but tvalid.
            s.tdata.next = rng.gen::<u64>().to_bits();
            s.tkeep.next = rng.gen::<u8>().to_bits();
            s.tlast.next = rng.gen();
            let encap = rng.gen();
            s.tuser.next = random_desc(rng, encap).hdl_with(rng.gen::<u16>() as usize, rng.gen());
        }
        u.vtep.next = self.vtep;
    }
}

#[test]
fn encapsulator_rust_and_verilog_agree() {
    let mut traffic = Traffic::new(51);
    let mut drain_rng = ChaCha8Rng::seed_from_u64(52);
    let (mut p, mut phase_left) = (0.5, 0u64);
    let (mut beats_out, mut stalls) = (0u64, 0u64);
    let cycles = 30_000;
    let report = Equivalence::new("encapsulator", cycles).run(
        Encapsulator::default,
        |u| &mut u.clock,
        |u, _| {
            traffic.drive(u);
            if phase_left == 0 {
                phase_left = drain_rng.gen_range(50..1500);
                p = [0.0, 0.1, 0.5, 0.9, 1.0][drain_rng.gen_range(0..5)];
            }
            phase_left -= 1;
            let ready = p > 0.0 && drain_rng.gen_bool(p);
            u.m_axis.tready.next = ready;
            // Settle with this cycle's inputs (the clock stays low) to see
            // whether the offered beat is taken: tready depends on tvalid
            // and the descriptor, not only on state.
            assert!(simulate(u, 100), "did not settle");
            traffic.taken = u.s_axis.tvalid.val() && u.s_axis.tready.val();
            stalls += (u.s_axis.tvalid.val() && !u.s_axis.tready.val()) as u64;
            beats_out += (u.m_axis.tvalid.val() && ready) as u64;
        },
    );
    match report {
        Ok(rep) => eprintln!("equivalence {rep}"),
        Err(EquivalenceError::Mismatch(m)) => panic!("{m}"),
        Err(e) => panic!("{e}"),
    }
    eprintln!(
        "encapsulator coverage: {} frames offered ({} encapsulated, {} of them with VLAN), \
         {beats_out} beats out, input stalled {stalls} cycles",
        traffic.frames, traffic.encap_frames, traffic.vlan_frames
    );
    assert!(
        traffic.frames > 500
            && traffic.encap_frames > 300
            && traffic.vlan_frames > 100
            && traffic.encap_frames - traffic.vlan_frames > 100
            && stalls > 5000,
        "stimulus too tame"
    );
}

// ---------------------------------------------------------------------------
// Verilog tools and area.

#[test]
fn encapsulator_verilog_passes_the_tools_and_its_cells_are_counted() {
    let mut uut = Encapsulator::default();
    uut.connect_all();
    let dir = std::env::temp_dir().join(format!("overlay-nic-encap-{}", std::process::id()));
    let path = write_verilog(&dir, "encapsulator", &generate_verilog(&uut)).unwrap();
    let stats = yosys_ice40(&path).unwrap();
    iverilog_compile(&path).unwrap();
    verilator_lint(&path).unwrap();
    println!("yosys synth_ice40 encapsulator: {stats}");
    assert_eq!(stats.brams(), 0, "no frame storage");
    let _ = std::fs::remove_dir_all(&dir);
}
