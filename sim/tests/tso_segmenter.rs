//! The TSO segmenter (`TsoSegmenter`) followed by the `ChecksumInserter`,
//! as in the NIC's TX path, against the golden model
//! (`overlay_nic_driver::offload::apply`, `docs/tx-offload.md`, "TCP
//! segmentation").
//!
//! The test plays the ingress side: it works out each TSO frame's
//! `TsoInfo`, address sum and per-segment payload sums from the frame's
//! bytes (per the doc comments in `tx_types.rs`) and serves the sums from a
//! first-word-fall-through queue, filled with a frame's sums when its first
//! beat is first offered. Frames are built with etherparse: with and
//! without 802.1Q, with IPv4 and TCP options, random flags, payloads of 0,
//! below, at and around multiples of the MSS, MSS 64..=1500 odd and even,
//! plain frames mixed in; random idle input and output back-pressure. Each
//! output frame must be the model's, byte for byte, with the descriptor's
//! length and inner sum; without stalls the output must not bubble. The
//! segmenter's Rust simulation against its exported Verilog.

use etherparse::{
    IpHeaders, IpNumber, Ipv4Extensions, Ipv4Header, Ipv4Options, PacketBuilder, PacketBuilderStep,
    VlanId,
};
use overlay_nic_driver::offload::{apply, OffloadRequest};
use overlay_nic_hdl::tx_types::{ChecksumPatch, TsoFirst, TsoInfo, TxDescriptor};
use overlay_nic_hdl::{ChecksumInserter, StreamSink, StreamSource, TsoSegmenter};
use overlay_nic_sim::rtl::Equivalence;
use overlay_nic_sim::DirectSim;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::collections::VecDeque;

// ---------------------------------------------------------------------------
// The segmenter then the inserter, as in the NIC

#[derive(LogicBlock, Default)]
struct Chain {
    clock: Signal<In, Clock>,
    s_axis: StreamSink<TxDescriptor>,
    sum_valid: Signal<In, Bit>,
    sum_value: Signal<In, Bits<16>>,
    sum_pop: Signal<Out, Bit>,
    m_axis: StreamSource<TxDescriptor>,
    seg: TsoSegmenter,
    ins: ChecksumInserter<TxDescriptor>,
}

impl Logic for Chain {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, seg, ins);
        StreamSink::<TxDescriptor>::link(&mut self.s_axis, &mut self.seg.s_axis);
        self.seg.s_tso_en.next = self.s_axis.tuser.val().tso.en;
        self.seg.sum_valid.next = self.sum_valid.val();
        self.seg.sum_value.next = self.sum_value.val();
        self.sum_pop.next = self.seg.sum_pop.val();
        StreamSource::<TxDescriptor>::join(&mut self.seg.m_axis, &mut self.ins.s_axis);
        self.ins.patch.next = self.seg.m_axis.tuser.val().patch;
        StreamSource::<TxDescriptor>::link(&mut self.m_axis, &mut self.ins.m_axis);
    }
}

// ---------------------------------------------------------------------------
// Frames and what the ingress knows about them

/// Ones'-complement sum of big-endian words, an odd last byte padded, folded.
fn fold_sum(bytes: &[u8]) -> u16 {
    fold(
        bytes
            .chunks(2)
            .map(|w| u64::from(w[0]) << 8 | u64::from(*w.get(1).unwrap_or(&0)))
            .sum(),
    )
}

fn fold(mut s: u64) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// Ones'-complement equality: 0x0000 and 0xffff are both zero.
fn same_sum(a: u16, b: u16) -> bool {
    a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0)
}

/// One frame as the TX buffer hands it over, with what the ingress side
/// worked out, and the frames the model says must leave.
#[derive(Clone, Debug)]
struct Frame {
    bytes: Vec<u8>,
    desc: TxDescriptor,
    sums: Vec<u16>,
    want: Vec<Vec<u8>>,
    /// The TCP checksum and the inner sum are compared (not for synthetic
    /// frames with `H - L4` odd).
    tcp_checked: bool,
}

/// A TCP/IPv4 frame from etherparse: an optional 802.1Q tag, `ip_opts`
/// and `tcp_opts` words of options, random flags (FIN, PSH and CWR among
/// them), identification and sequence number (near their wrap sometimes).
fn tcp_frame(
    rng: &mut ChaCha8Rng,
    vlan: bool,
    ip_opts: usize,
    tcp_opts: usize,
    payload: usize,
) -> Vec<u8> {
    let mut h = Ipv4Header::new(0, 64, IpNumber::TCP, rng.gen(), rng.gen()).unwrap();
    let options: Vec<u8> = (0..4 * ip_opts).map(|_| rng.gen()).collect();
    h.options = Ipv4Options::try_from(&options[..]).unwrap();
    h.identification = if rng.gen_bool(0.2) {
        0xffff - rng.gen_range(0..4)
    } else {
        rng.gen()
    };
    h.dont_fragment = rng.gen();
    h.dscp = etherparse::IpDscp::try_new(rng.gen_range(0..64)).unwrap();
    let eth = PacketBuilder::ethernet2(rng.gen(), rng.gen());
    let ip: PacketBuilderStep<IpHeaders> = if vlan {
        eth.single_vlan(VlanId::try_new(rng.gen_range(0..4096)).unwrap())
            .ip(IpHeaders::Ipv4(h, Ipv4Extensions::default()))
    } else {
        eth.ip(IpHeaders::Ipv4(h, Ipv4Extensions::default()))
    };
    let seq = if rng.gen_bool(0.2) {
        u32::MAX - rng.gen_range(0..3000)
    } else {
        rng.gen()
    };
    let mut tcp = ip.tcp(rng.gen(), rng.gen(), seq, rng.gen());
    if rng.gen_bool(0.5) {
        tcp = tcp.fin();
    }
    if rng.gen_bool(0.5) {
        tcp = tcp.psh();
    }
    if rng.gen_bool(0.5) {
        tcp = tcp.cwr();
    }
    if rng.gen_bool(0.3) {
        tcp = tcp.ece();
    }
    if rng.gen_bool(0.7) {
        tcp = tcp.ack(rng.gen());
    }
    if rng.gen_bool(0.2) {
        tcp = tcp.urg(rng.gen());
    }
    let opts: Vec<u8> = (0..4 * tcp_opts).map(|_| rng.gen()).collect();
    let tcp = tcp.options_raw(&opts).unwrap();
    let data: Vec<u8> = (0..payload).map(|_| rng.gen()).collect();
    let mut v = Vec::new();
    tcp.write(&mut v, &data).unwrap();
    v
}

fn be16(f: &[u8], i: usize) -> u64 {
    u64::from(f[i]) << 8 | u64::from(f[i + 1])
}

/// A random descriptor: the fields the segmenter must carry over untouched.
fn random_desc(rng: &mut ChaCha8Rng, len: usize) -> TxDescriptor {
    TxDescriptor {
        encap: rng.gen(),
        vni: u64::from(rng.gen::<u32>() & 0xff_ffff).to_bits(),
        dst_ip: u64::from(rng.gen::<u32>()).to_bits(),
        dst_mac: (rng.gen::<u64>() & 0xffff_ffff_ffff).to_bits(),
        src_port: u64::from(rng.gen::<u16>()).to_bits(),
        length: (len as u64).to_bits(),
        inner_sum: u64::from(rng.gen::<u16>()).to_bits(),
        patch: ChecksumPatch::default(),
        tso: TsoInfo::default(),
        tso_first: TsoFirst {
            last: rng.gen(),
            len: u64::from(rng.gen::<u16>()).to_bits(),
            len_m1: u64::from(rng.gen::<u16>()).to_bits(),
            tl3: u64::from(rng.gen::<u16>()).to_bits(),
            flags: u64::from(rng.gen::<u8>()).to_bits(),
            ip_csum: u64::from(rng.gen::<u16>()).to_bits(),
            tcp_part: u64::from(rng.gen::<u16>()).to_bits(),
            inner_sum: u64::from(rng.gen::<u16>()).to_bits(),
        },
    }
}

/// Ones'-complement negation with 0 written as `0xffff`, as the NIC's sums
/// of terms that are not all 0 come out.
fn neg(x: u16) -> u16 {
    if x == 0xffff {
        0xffff
    } else {
        !x
    }
}

/// Segment 0's values as the ingress (`TsoFirstSegment`) hands them over,
/// read off the segment the model makes (`s`): its lengths, flags and IPv4
/// checksum, the TCP checksum of its pseudo-header and header alone, and
/// the sum of the whole segment.
fn first_segment(s: &[u8], (l3, l4, h): (usize, usize, usize), last: bool) -> TsoFirst {
    let mut hd = s[l4..h].to_vec();
    hd[16] = 0;
    hd[17] = 0;
    let pseudo = u64::from(fold_sum(&s[l3 + 12..l3 + 20])) + 6 + (s.len() - l4) as u64;
    TsoFirst {
        last,
        len: (s.len() as u64).to_bits(),
        len_m1: (s.len() as u64 - 1).to_bits(),
        tl3: be16(s, l3 + 2).to_bits(),
        flags: u64::from(s[l4 + 13]).to_bits(),
        ip_csum: be16(s, l3 + 10).to_bits(),
        tcp_part: u64::from(neg(fold(pseudo + u64::from(fold_sum(&hd))))).to_bits(),
        inner_sum: u64::from(fold_sum(s)).to_bits(),
    }
}

/// `f` segmented at `mss`: the descriptor with the `TsoInfo` the ingress
/// makes, the address sum and the per-segment payload sums.
fn tso_frame(rng: &mut ChaCha8Rng, f: Vec<u8>, mss: u16) -> Frame {
    let l3 = if f[12] == 0x81 && f[13] == 0x00 {
        18
    } else {
        14
    };
    let l4 = l3 + 4 * usize::from(f[l3] & 15);
    let h = l4 + 4 * usize::from(f[l4 + 12] >> 4);
    let want = apply(&f, &OffloadRequest::segmentation(mss)).expect("a valid TSO frame");
    tso_frame_at(rng, f, (l3, l4, h), mss, want, true)
}

/// `f` with its headers at `(l3, l4, h)`, segmented at `mss`, `want` the
/// segments that must leave; with `tcp_checked` low the TCP checksum field
/// and the inner sum are not compared (see [`synthetic_frame`]).
fn tso_frame_at(
    rng: &mut ChaCha8Rng,
    f: Vec<u8>,
    (l3, l4, h): (usize, usize, usize),
    mss: u16,
    want: Vec<Vec<u8>>,
    tcp_checked: bool,
) -> Frame {
    let p = f.len() - h;
    let n = if p == 0 {
        1
    } else {
        p.div_ceil(usize::from(mss))
    };
    // The headers with every field the segmenter changes taken as 0.
    let mut hd = f[..h].to_vec();
    for i in [2, 3, 4, 5, 10, 11] {
        hd[l3 + i] = 0;
    }
    for i in [4, 5, 6, 7, 13, 16, 17] {
        hd[l4 + i] = 0;
    }
    let ip_base = fold_sum(&hd[l3..l4]);
    let addr = u64::from(fold_sum(&f[l3 + 12..l3 + 20]));
    let tcp_words = u64::from(fold_sum(&hd[l4..h]));
    let tso = TsoInfo {
        en: true,
        mss: u64::from(mss).to_bits(),
        l3: (l3 as u64).to_bits(),
        l4: (l4 as u64).to_bits(),
        hdr_len: (h as u64).to_bits(),
        payload_len: (p as u64).to_bits(),
        segments: (n as u64).to_bits(),
        ip_id: be16(&f, l3 + 4).to_bits(),
        seq: (be16(&f, l4 + 4) << 16 | be16(&f, l4 + 6)).to_bits(),
        flags: u64::from(f[l4 + 13]).to_bits(),
        l2_sum: u64::from(fold_sum(&f[..l3])).to_bits(),
        ip_base: u64::from(ip_base).to_bits(),
        tcp_base: u64::from(fold(addr + 6 + tcp_words)).to_bits(),
        addr_sum: u64::from(fold(addr)).to_bits(),
    };
    let sums = if p == 0 {
        vec![0]
    } else {
        f[h..].chunks(usize::from(mss)).map(fold_sum).collect()
    };
    assert_eq!(sums.len(), n);
    let mut desc = random_desc(rng, f.len());
    // Junk where the segmenter must write its own.
    desc.patch = ChecksumPatch {
        l4_en: rng.gen(),
        l4_pos: u64::from(rng.gen::<u16>()).to_bits(),
        l4_value: u64::from(rng.gen::<u16>()).to_bits(),
        ip_en: rng.gen(),
        ip_pos: u64::from(rng.gen::<u16>()).to_bits(),
        ip_value: u64::from(rng.gen::<u16>()).to_bits(),
    };
    desc.tso = tso;
    desc.tso_first = first_segment(&want[0], (l3, l4, h), n == 1);
    Frame {
        bytes: f,
        desc,
        sums,
        want,
        tcp_checked,
    }
}

/// A frame laid out like a TCP/IPv4 one for the segmenter, which only
/// looks at the `TsoInfo` positions: random bytes, L3 at 14 or 18,
/// `L4 = L3 + 4*ihl` and `H = L4 + 20 + x` for any `x`, so `H mod 8` takes
/// every value (a real TCP header is whole words: 2 or 6 only). The
/// segments come from [`reference_segments`]; when `H - L4` is odd the
/// payload sums are in words offset by a byte from the TCP checksum's, so
/// that field and the inner sum are not compared.
fn synthetic_frame(
    rng: &mut ChaCha8Rng,
    l3: usize,
    ihl: usize,
    x: usize,
    p: usize,
    mss: u16,
) -> Frame {
    let l4 = l3 + 4 * ihl;
    let h = l4 + 20 + x;
    assert!(h <= 138);
    let f: Vec<u8> = (0..h + p).map(|_| rng.gen()).collect();
    let want = reference_segments(&f, (l3, l4, h), mss);
    tso_frame_at(rng, f, (l3, l4, h), mss, want, (h - l4).is_multiple_of(2))
}

/// The doc's segmentation written out byte by byte (for the synthetic
/// frames `apply` does not take).
fn reference_segments(f: &[u8], (l3, l4, h): (usize, usize, usize), mss: u16) -> Vec<Vec<u8>> {
    let id = be16(f, l3 + 4) as u16;
    let seq = (be16(f, l4 + 4) << 16 | be16(f, l4 + 6)) as u32;
    let payload = &f[h..];
    let chunks: Vec<&[u8]> = if payload.is_empty() {
        vec![payload]
    } else {
        payload.chunks(usize::from(mss)).collect()
    };
    let n = chunks.len();
    let put = |s: &mut Vec<u8>, at: usize, v: u16| s[at..at + 2].copy_from_slice(&v.to_be_bytes());
    chunks
        .into_iter()
        .enumerate()
        .map(|(k, c)| {
            let mut s = f[..h].to_vec();
            s.extend_from_slice(c);
            put(&mut s, l3 + 2, (h - l3 + c.len()) as u16);
            put(&mut s, l3 + 4, id.wrapping_add(k as u16));
            let sq = seq.wrapping_add(k as u32 * u32::from(mss));
            s[l4 + 4..l4 + 8].copy_from_slice(&sq.to_be_bytes());
            if k + 1 != n {
                s[l4 + 13] &= !0x09;
            }
            if k != 0 {
                s[l4 + 13] &= !0x80;
            }
            put(&mut s, l3 + 10, 0);
            let ip = !fold_sum(&s[l3..l4]);
            put(&mut s, l3 + 10, ip);
            put(&mut s, l4 + 16, 0);
            let mut pseudo = s[l3 + 12..l3 + 20].to_vec();
            pseudo.extend_from_slice(&[0, 6]);
            pseudo.extend_from_slice(&((s.len() - l4) as u16).to_be_bytes());
            let sum = fold(u64::from(fold_sum(&pseudo)) + u64::from(fold_sum(&s[l4..])));
            put(&mut s, l4 + 16, if sum == 0xffff { 0xffff } else { !sum });
            s
        })
        .collect()
}

/// A frame that must pass untouched: random bytes, or a TCP frame, with
/// `tso.en` low and junk in the other `TsoInfo` fields.
fn plain_frame(rng: &mut ChaCha8Rng) -> Frame {
    let f: Vec<u8> = if rng.gen_bool(0.5) {
        let n = rng.gen_range(1..300);
        (0..n).map(|_| rng.gen()).collect()
    } else {
        let (p, vlan) = (rng.gen_range(0..400), rng.gen());
        tcp_frame(rng, vlan, 0, 0, p)
    };
    let mut desc = random_desc(rng, f.len());
    desc.tso = TsoInfo {
        en: false,
        mss: u64::from(rng.gen::<u16>()).to_bits(),
        l3: u64::from(rng.gen::<u8>()).to_bits(),
        l4: u64::from(rng.gen::<u8>()).to_bits(),
        hdr_len: u64::from(rng.gen::<u8>()).to_bits(),
        payload_len: u64::from(rng.gen::<u16>()).to_bits(),
        ..TsoInfo::default()
    };
    Frame {
        want: vec![f.clone()],
        bytes: f,
        desc,
        sums: Vec::new(),
        tcp_checked: true,
    }
}

/// A random TSO frame: options, tag, MSS and payload all random, the
/// payload often right around a multiple of the MSS.
fn random_tso_frame(rng: &mut ChaCha8Rng, max_payload: usize) -> Frame {
    let mss: u16 = if rng.gen_bool(0.5) {
        rng.gen_range(64..=200)
    } else {
        rng.gen_range(64..=1500)
    };
    let m = usize::from(mss);
    let p = match rng.gen_range(0..6) {
        0 => 0,
        1 => rng.gen_range(1..=m),
        2 => (m * rng.gen_range(1..=6)).min(max_payload / m * m),
        3 => (m * rng.gen_range(1..=6) + rng.gen_range(0..3)).saturating_sub(1),
        _ => rng.gen_range(0..=max_payload),
    }
    .min(max_payload);
    let ip_opts = if rng.gen_bool(0.4) {
        rng.gen_range(1..=10)
    } else {
        0
    };
    let tcp_opts = if rng.gen_bool(0.5) {
        rng.gen_range(1..=10)
    } else {
        0
    };
    let vlan = rng.gen_bool(0.4);
    let f = tcp_frame(rng, vlan, ip_opts, tcp_opts, p);
    tso_frame(rng, f, mss)
}

// ---------------------------------------------------------------------------
// Running the chain

type HwBeat = (u64, u8, bool, TxDescriptor);

/// `f`'s beats: (data, keep, last).
fn beats(f: &[u8]) -> Vec<(u64, u8, bool)> {
    let n = f.chunks(8).count();
    f.chunks(8)
        .enumerate()
        .map(|(b, c)| {
            let mut lanes = [0u8; 8];
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

/// What came out: each frame's bytes, its first beat's descriptor, and the
/// cycle each beat moved.
struct Output {
    frames: Vec<(Vec<u8>, TxDescriptor)>,
    when: Vec<u64>,
    /// The cycle the first input beat moved.
    first_in: u64,
    /// Cycles a TSO frame's first beat was offered before its sums came.
    sum_waits: u64,
}

/// Streams `frames` through the chain, the input idle with probability
/// `idle` and the output stalled with probability `stall` each cycle (junk
/// on idle inputs and on `tuser` after first beats). With `late`, a
/// frame's sums reach the FIFO some random cycles after its first beat is
/// offered (later than the ingress ever is: the segment must wait).
fn run_chain(frames: &[Frame], seed: u64, idle: f64, stall: f64, late: bool) -> Output {
    let mut sim = DirectSim::new(Chain::default(), |u| &mut u.clock).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let input: Vec<(usize, HwBeat)> = frames
        .iter()
        .enumerate()
        .flat_map(|(k, fr)| {
            beats(&fr.bytes)
                .into_iter()
                .enumerate()
                .map(move |(i, (d, kp, l))| {
                    (
                        k,
                        (
                            d,
                            kp,
                            l,
                            if i == 0 {
                                fr.desc
                            } else {
                                TxDescriptor::default()
                            },
                        ),
                    )
                })
        })
        .collect();
    let want_frames: usize = frames.iter().map(|f| f.want.len()).sum();
    let want_beats: usize = frames
        .iter()
        .flat_map(|f| &f.want)
        .map(|s| s.len().div_ceil(8))
        .sum();
    let mut fifo: VecDeque<u16> = VecDeque::new();
    let mut pushed = 0usize;
    let mut out = Output {
        frames: Vec::new(),
        when: Vec::new(),
        first_in: 0,
        sum_waits: 0,
    };
    let mut cur: Vec<u8> = Vec::new();
    let mut cur_desc = TxDescriptor::default();
    let mut next = 0usize;
    while out.frames.len() < want_frames {
        assert!(
            sim.cycle() < 200 + 20 * want_beats as u64,
            "chain stuck: {} of {want_frames} frames out, {next} of {} beats in",
            out.frames.len(),
            input.len()
        );
        let offer = next < input.len() && !(idle > 0.0 && rng.gen_bool(idle));
        let ready = !(stall > 0.0 && rng.gen_bool(stall));
        let cycle = sim.cycle();
        let u = sim.uut();
        // The inserter's outputs come from flip-flops: valid before inputs.
        if u.m_axis.tvalid.val() && ready {
            let k = u.m_axis.tkeep.val().to_u64() as u8;
            assert!(k != 0 && (k & (k.wrapping_add(1))) == 0, "tkeep {k:#x}");
            if cur.is_empty() {
                cur_desc = u.m_axis.tuser.val();
            }
            let n = k.count_ones() as usize;
            cur.extend_from_slice(&u.m_axis.tdata.val().to_u64().to_le_bytes()[..n]);
            if u.m_axis.tlast.val() {
                out.frames.push((std::mem::take(&mut cur), cur_desc));
            } else {
                assert_eq!(k, 0xff, "a partial beat before the last");
            }
            out.when.push(cycle);
        }
        if offer {
            // The ingress committed the frame's sums before it was offered.
            let k = input[next].0;
            while pushed <= k && !(late && rng.gen_bool(0.8)) {
                fifo.extend(&frames[pushed].sums);
                pushed += 1;
            }
            out.sum_waits += u64::from(pushed <= k && frames[k].desc.tso.en);
        }
        let (d, kp, l, desc) = if offer {
            let (_, (d, kp, l, desc)) = input[next];
            let desc = if desc == TxDescriptor::default() {
                random_desc(&mut rng, 0)
            } else {
                desc
            };
            (d, kp, l, desc)
        } else {
            let mut desc = random_desc(&mut rng, 0);
            desc.tso.en = rng.gen();
            (rng.gen(), rng.gen(), rng.gen(), desc)
        };
        u.s_axis.tvalid.next = offer;
        u.s_axis.tdata.next = d.to_bits();
        u.s_axis.tkeep.next = u64::from(kp).to_bits();
        u.s_axis.tlast.next = l;
        u.s_axis.tuser.next = desc;
        u.sum_valid.next = !fifo.is_empty();
        u.sum_value.next = u64::from(fifo.front().copied().unwrap_or_else(|| rng.gen())).to_bits();
        u.m_axis.tready.next = ready;
        sim.settle().unwrap();
        let u = sim.uut();
        let taken = offer && u.s_axis.tready.val();
        let popped = u.sum_pop.val();
        sim.tick().unwrap();
        if taken {
            if next == 0 {
                out.first_in = cycle;
            }
            next += 1;
        }
        if popped {
            assert!(fifo.pop_front().is_some(), "popped an empty sum FIFO");
        }
    }
    assert_eq!(next, input.len(), "input beats left over");
    assert_eq!(sim.uut_ref().seg.collisions(), 0, "header RAM collisions");
    assert!(fifo.is_empty(), "{} sums not popped", fifo.len());
    out
}

/// Runs `frames` and checks every output frame against the model; with
/// no stall, that the first beat took two cycles (segmenter, inserter);
/// with no idle input and no stall either, that the output never bubbled.
fn check(frames: &[Frame], seed: u64, idle: f64, stall: f64, late: bool) -> Output {
    let out = run_chain(frames, seed, idle, stall, late);
    let mut got = out.frames.iter();
    for (i, fr) in frames.iter().enumerate() {
        for (k, want) in fr.want.iter().enumerate() {
            let (bytes, desc) = got.next().unwrap();
            let what = format!(
                "frame {i} segment {k} of {} (len {}, mss {}, H {}, tso {})",
                fr.want.len(),
                fr.bytes.len(),
                fr.desc.tso.mss.to_u64(),
                fr.desc.tso.hdr_len.to_u64(),
                fr.desc.tso.en
            );
            if fr.tcp_checked {
                assert_eq!(bytes, want, "{what}: bytes (left: hardware, right: model)");
            } else {
                let at = fr.desc.tso.l4.to_u64() as usize + 16;
                let mut b = bytes.clone();
                b[at..at + 2].copy_from_slice(&want[at..at + 2]);
                assert_eq!(&b, want, "{what}: bytes but the TCP checksum");
            }
            if !fr.desc.tso.en {
                assert_eq!(*desc, fr.desc, "{what}: descriptor changed");
                continue;
            }
            assert_eq!(desc.length.to_u64() as usize, want.len(), "{what}: length");
            let inner = desc.inner_sum.to_u64() as u16;
            assert!(
                !fr.tcp_checked || same_sum(inner, fold_sum(want)),
                "{what}: inner_sum {inner:#06x}, frame sums to {:#06x}",
                fold_sum(want)
            );
            // Everything else carried over.
            let mut d = *desc;
            d.length = fr.desc.length;
            d.inner_sum = fr.desc.inner_sum;
            d.patch = fr.desc.patch;
            assert_eq!(d, fr.desc, "{what}: descriptor fields changed");
            let l3 = fr.desc.tso.l3.to_u64();
            let l4 = fr.desc.tso.l4.to_u64();
            let p = desc.patch;
            assert!(p.ip_en && p.l4_en, "{what}: patch not enabled");
            assert_eq!(
                (p.ip_pos.to_u64(), p.l4_pos.to_u64()),
                (l3 + 10, l4 + 16),
                "{what}: patch positions"
            );
        }
    }
    assert!(got.next().is_none(), "extra output frames");
    if stall == 0.0 && !late {
        assert_eq!(out.when[0], out.first_in + 2, "latency");
    }
    if idle == 0.0 && stall == 0.0 && !late {
        let beats = out.when.len() as u64;
        assert_eq!(
            out.when.last().unwrap() - out.when[0] + 1,
            beats,
            "a bubble in the output"
        );
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn segments_match_the_model(
        seed in any::<u64>(),
        count in 1usize..6,
        idle in prop_oneof![Just(0.0), 0.0f64..0.5],
        stall in prop_oneof![Just(0.0), 0.0f64..0.5],
        late in prop::bool::weighted(0.2),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let frames: Vec<_> = (0..count)
            .map(|_| if rng.gen_bool(0.75) {
                random_tso_frame(&mut rng, 4000)
            } else {
                plain_frame(&mut rng)
            })
            .collect();
        check(&frames, seed, idle, stall, late);
    }
}

/// Every header alignment a TCP/IPv4 frame can have (`H mod 8` is 2 or 6:
/// L3 is 14 or 18 and the headers are whole words) with every payload
/// shift (`mss` 64..=71, so `k*mss mod 8` takes all eight values), the
/// payload 0, 1, and one below, at and above one, two and five MSS; back to
/// back, no idle, no stall: no bubble, plain frames in between.
#[test]
fn every_alignment_and_shift_back_to_back() {
    let mut rng = ChaCha8Rng::seed_from_u64(71);
    let mut frames = Vec::new();
    let mut alignments = [0usize; 8];
    for (vlan, ip_opts, tcp_opts) in [
        (false, 0, 0),
        (false, 1, 0),
        (true, 0, 0),
        (true, 0, 1),
        (false, 10, 10),
        (true, 10, 10),
    ] {
        for mss in 64..=71u16 {
            let m = usize::from(mss);
            for p in [
                0,
                1,
                m - 1,
                m,
                m + 1,
                2 * m - 1,
                2 * m,
                2 * m + 1,
                5 * m + 3,
            ] {
                let f = tcp_frame(&mut rng, vlan, ip_opts, tcp_opts, p);
                let fr = tso_frame(&mut rng, f, mss);
                alignments[fr.desc.tso.hdr_len.to_u64() as usize % 8] += 1;
                frames.push(fr);
                if rng.gen_bool(0.2) {
                    frames.push(plain_frame(&mut rng));
                }
            }
        }
    }
    assert!(alignments[2] > 100 && alignments[6] > 100, "{alignments:?}");
    check(&frames, 3, 0.0, 0.0, false);
}

/// Every header alignment `H mod 8` (synthetic frames) with every
/// payload shift, back to back without a bubble, then with stalls.
#[test]
fn every_header_alignment() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut frames = Vec::new();
    let mut alignments = [0usize; 8];
    for l3 in [14, 18] {
        for x in 0..8 {
            for mss in 64..=71u16 {
                let m = usize::from(mss);
                let ihl = rng.gen_range(5..=10);
                for p in [0, m - 1, m + 1, 3 * m + rng.gen_range(0..8)] {
                    let fr = synthetic_frame(&mut rng, l3, ihl, x, p, mss);
                    alignments[fr.desc.tso.hdr_len.to_u64() as usize % 8] += 1;
                    frames.push(fr);
                }
            }
        }
    }
    assert!(alignments.iter().all(|&n| n >= 32), "{alignments:?}");
    // The reference agrees with the model where both apply.
    let f = tcp_frame(&mut rng, true, 2, 3, 500);
    let fr = tso_frame(&mut rng, f.clone(), 67);
    let (l3, l4, h) = (18, 18 + 20 + 8, 18 + 20 + 8 + 20 + 12);
    assert_eq!(fr.desc.tso.hdr_len.to_u64() as usize, h);
    assert_eq!(reference_segments(&f, (l3, l4, h), 67), fr.want);
    check(&frames, 9, 0.0, 0.0, false);
    check(&frames, 10, 0.3, 0.4, true);
}

/// Every shift with idle input, heavy back-pressure and late sums.
#[test]
fn every_alignment_and_shift_with_stalls() {
    let mut rng = ChaCha8Rng::seed_from_u64(72);
    let mut frames = Vec::new();
    for mss in 64..=71u16 {
        let m = usize::from(mss);
        for p in [1, m, m + 1, 3 * m + 5] {
            let (vlan, ip_opts, tcp_opts) = (rng.gen(), rng.gen_range(0..3), rng.gen_range(0..3));
            let f = tcp_frame(&mut rng, vlan, ip_opts, tcp_opts, p);
            frames.push(tso_frame(&mut rng, f, mss));
        }
    }
    let out = check(&frames, 4, 0.4, 0.5, true);
    assert!(out.sum_waits > 20, "sums never late: {}", out.sum_waits);
}

/// The longest frame, 65535 bytes, at a typical MSS and at a small odd
/// one (about a thousand segments, positions near the 16-bit limit).
#[test]
fn largest_frame() {
    let mut rng = ChaCha8Rng::seed_from_u64(65535);
    let mut frames = Vec::new();
    for (mss, vlan) in [(1461u16, true), (67, false)] {
        let l3 = if vlan { 18 } else { 14 };
        let h = l3 + 20 + 20;
        let f = tcp_frame(&mut rng, vlan, 0, 0, 65535 - h);
        assert_eq!(f.len(), 65535);
        frames.push(tso_frame(&mut rng, f, mss));
    }
    check(&frames, 5, 0.0, 0.0, false);
}

/// The timeline drawn in the segmenter's module doc, on the segmenter
/// alone: `H = 54`, `mss = 64`, `P = 128`, then a plain frame, input always
/// valid, output always ready.
#[test]
fn segmenter_timeline() {
    let mut rng = ChaCha8Rng::seed_from_u64(54);
    let f = tcp_frame(&mut rng, false, 0, 0, 128);
    let a = tso_frame(&mut rng, f, 64);
    assert_eq!(a.desc.tso.hdr_len.to_u64(), 54);
    let g = plain_frame(&mut rng);
    let mut input: Vec<HwBeat> = Vec::new();
    for fr in [&a, &g] {
        for (d, k, l) in beats(&fr.bytes) {
            input.push((d, k, l, fr.desc));
        }
    }
    let mut fifo: VecDeque<u16> = a.sums.iter().copied().collect();
    let mut sim = DirectSim::new(TsoSegmenter::default(), |u| &mut u.clock).unwrap();
    let (mut taken_at, mut out_at, mut last_at) = (Vec::new(), Vec::new(), Vec::new());
    let mut next = 0;
    let g_beats = g.bytes.len().div_ceil(8) as u64;
    for cycle in 0..32 + g_beats {
        let u = sim.uut();
        if u.m_axis.tvalid.val() {
            out_at.push(cycle);
            if u.m_axis.tlast.val() {
                last_at.push(cycle);
            }
        }
        let offer = next < input.len();
        let (d, k, l, desc) = input[next.min(input.len() - 1)];
        u.s_axis.tvalid.next = offer;
        u.s_axis.tdata.next = d.to_bits();
        u.s_axis.tkeep.next = u64::from(k).to_bits();
        u.s_axis.tlast.next = l;
        u.s_axis.tuser.next = desc;
        u.s_tso_en.next = desc.tso.en;
        u.sum_valid.next = !fifo.is_empty();
        u.sum_value.next = u64::from(fifo.front().copied().unwrap_or(0)).to_bits();
        u.m_axis.tready.next = true;
        sim.settle().unwrap();
        let u = sim.uut();
        if offer && u.s_axis.tready.val() {
            taken_at.push(cycle);
            next += 1;
        }
        if u.sum_pop.val() {
            fifo.pop_front();
        }
        sim.tick().unwrap();
    }
    let want_taken: Vec<u64> = (0..=14).chain(22..=29 + g_beats).collect();
    assert_eq!(taken_at, want_taken, "input beats taken");
    let want_out: Vec<u64> = (1..=30 + g_beats).collect();
    assert_eq!(out_at, want_out, "output beats");
    assert_eq!(last_at, vec![15, 30, 30 + g_beats], "last beats");
}

// ---------------------------------------------------------------------------
// Rust against Verilog

#[test]
fn segmenter_rust_and_verilog_agree() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut pending: VecDeque<(usize, HwBeat)> = VecDeque::new();
    let mut current: Option<Frame> = None;
    let mut fifo: VecDeque<u16> = VecDeque::new();
    let mut taken = false;
    let mut popped = false;
    let (mut beats_in, mut beats_out, mut segments) = (0u64, 0u64, 0u64);
    let report = Equivalence::new("tso_segmenter", 20_000)
        .run(
            TsoSegmenter::default,
            |u| &mut u.clock,
            |u, _| {
                // What moved at the last edge (decided with last cycle's inputs).
                if taken {
                    pending.pop_front();
                    beats_in += 1;
                }
                if popped {
                    fifo.pop_front();
                    segments += 1;
                }
                if pending.is_empty() && rng.gen_bool(0.7) {
                    let fr = if rng.gen_bool(0.7) {
                        random_tso_frame(&mut rng, 1500)
                    } else {
                        plain_frame(&mut rng)
                    };
                    fifo.extend(&fr.sums);
                    for (i, (d, k, l)) in beats(&fr.bytes).into_iter().enumerate() {
                        let desc = if i == 0 {
                            fr.desc
                        } else {
                            random_desc(&mut rng, 0)
                        };
                        pending.push_back((i, (d, k, l, desc)));
                    }
                    current = Some(fr);
                }
                let offered = !pending.is_empty() && rng.gen_bool(0.8);
                let (d, k, l, desc) = match pending.front() {
                    Some((_, b)) if offered => *b,
                    _ => (rng.gen(), rng.gen(), rng.gen(), random_desc(&mut rng, 0)),
                };
                u.s_axis.tvalid.next = offered;
                u.s_axis.tdata.next = d.to_bits();
                u.s_axis.tkeep.next = u64::from(k).to_bits();
                u.s_axis.tlast.next = l;
                u.s_axis.tuser.next = desc;
                u.s_tso_en.next = desc.tso.en;
                u.sum_valid.next = !fifo.is_empty();
                u.sum_value.next = u64::from(fifo.front().copied().unwrap_or(0)).to_bits();
                let ready = rng.gen_bool(0.75);
                u.m_axis.tready.next = ready;
                // tready and sum_pop depend on this cycle's tuser and FIFO head.
                assert!(simulate(u, 100), "did not settle");
                taken = offered && u.s_axis.tready.val();
                popped = u.sum_pop.val();
                beats_out += u64::from(u.m_axis.tvalid.val() && ready);
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "equivalence {report}\ncoverage: {beats_in} beats in, {beats_out} out, {segments} segments"
    );
    assert!(beats_in > 4000 && segments > 100, "stimulus too tame");
}
