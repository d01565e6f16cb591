//! HeaderParser against an independent reference written from
//! `docs/tx-path.md` with plain byte reads (cross-checked with etherparse's
//! header slices), over frames built with etherparse: Ethernet II with and
//! without 802.1Q, IPv4 with options (IHL 5..15), TCP/UDP/ICMP/other
//! protocols, fragments, random payloads, non-IP frames, random bytes, and
//! every kind truncated at interesting positions; fed as a stream with
//! random idle cycles carrying junk. Also: known-answer flow hashes worked
//! by hand, every length 1..=40, one-beat frames every cycle, lengths up to
//! and past 65535, the Rust simulation against the exported Verilog, and the
//! block's iCE40 cell count.

use etherparse::{
    Ethernet2HeaderSlice, IpFragOffset, IpHeaders, IpNumber, Ipv4Extensions, Ipv4Header,
    Ipv4HeaderSlice, Ipv4Options, PacketBuilder, PacketBuilderStep, SingleVlanHeaderSlice,
    TcpHeaderSlice, UdpHeaderSlice, VlanId,
};
use overlay_nic_hdl::{HeaderParser, ParsedHeader};
use overlay_nic_sim::rtl::{
    iverilog_compile, verilator_lint, write_verilog, yosys_ice40, Equivalence,
};
use overlay_nic_sim::DirectSim;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;

// ---------------------------------------------------------------------------
// The reference

/// The parser's outputs as plain integers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Fields {
    length: u16,
    dst_mac: u64,
    src_mac: u64,
    vlan: bool,
    ethertype: u16,
    l3_offset: u8,
    ipv4: bool,
    ihl: u8,
    l4_offset: u8,
    proto: u8,
    src_ip: u32,
    dst_ip: u32,
    fragment: bool,
    ports_valid: bool,
    src_port: u16,
    dst_port: u16,
    flow_hash: u16,
    runt: bool,
}

impl Fields {
    fn from_hw(p: &ParsedHeader) -> Self {
        Fields {
            length: p.length.to_u64() as u16,
            dst_mac: p.dst_mac.to_u64(),
            src_mac: p.src_mac.to_u64(),
            vlan: p.vlan,
            ethertype: p.ethertype.to_u64() as u16,
            l3_offset: p.l3_offset.to_u64() as u8,
            ipv4: p.ipv4,
            ihl: p.ihl.to_u64() as u8,
            l4_offset: p.l4_offset.to_u64() as u8,
            proto: p.proto.to_u64() as u8,
            src_ip: p.src_ip.to_u64() as u32,
            dst_ip: p.dst_ip.to_u64() as u32,
            fragment: p.fragment,
            ports_valid: p.ports_valid,
            src_port: p.src_port.to_u64() as u16,
            dst_port: p.dst_port.to_u64() as u16,
            flow_hash: p.flow_hash.to_u64() as u16,
            runt: p.runt,
        }
    }
}

/// Big-endian integer from `len` bytes at `at`.
fn be(f: &[u8], at: usize, len: usize) -> u64 {
    f[at..at + len]
        .iter()
        .fold(0, |acc, &b| (acc << 8) | u64::from(b))
}

/// `docs/tx-path.md`, read byte by byte. A field the frame is too short to
/// hold is 0 and its flag false; IPv4 fields are 0 unless `ipv4`; ports 0
/// unless `ports_valid`.
fn reference(f: &[u8]) -> Fields {
    let n = f.len();
    let mut r = Fields {
        length: n.min(65535) as u16,
        runt: n < 14,
        l3_offset: 14,
        ..Fields::default()
    };
    if n >= 6 {
        r.dst_mac = be(f, 0, 6);
    }
    if n >= 12 {
        r.src_mac = be(f, 6, 6);
    }
    let mut l3 = 14;
    if n >= 14 {
        r.ethertype = be(f, 12, 2) as u16;
        if r.ethertype == 0x8100 && n >= 18 {
            r.vlan = true;
            r.ethertype = be(f, 16, 2) as u16;
            l3 = 18;
        }
    }
    r.l3_offset = l3 as u8;
    if r.ethertype == 0x0800 && n >= l3 + 20 && f[l3] >> 4 == 4 && f[l3] & 0xf >= 5 {
        r.ipv4 = true;
        r.ihl = f[l3] & 0xf;
        let l4 = l3 + 4 * usize::from(r.ihl);
        r.l4_offset = l4 as u8;
        r.proto = f[l3 + 9];
        r.src_ip = be(f, l3 + 12, 4) as u32;
        r.dst_ip = be(f, l3 + 16, 4) as u32;
        r.fragment = be(f, l3 + 6, 2) & 0x3fff != 0;
        if !r.fragment && (r.proto == 6 || r.proto == 17) && n >= l4 + 4 {
            r.ports_valid = true;
            r.src_port = be(f, l4, 2) as u16;
            r.dst_port = be(f, l4 + 2, 2) as u16;
        }
    }
    r.flow_hash = spec_flow_hash(&r);
    r
}

/// The spec's formula, straight: `h = XOR rotl16(w[i], 3*i mod 16)` over
/// the IPv4 word list or the MAC/ethertype list.
fn spec_flow_hash(r: &Fields) -> u16 {
    let w: [u16; 7] = if r.ipv4 {
        [
            (r.src_ip >> 16) as u16,
            r.src_ip as u16,
            (r.dst_ip >> 16) as u16,
            r.dst_ip as u16,
            u16::from(r.proto),
            r.src_port,
            r.dst_port,
        ]
    } else {
        [
            (r.dst_mac >> 32) as u16,
            (r.dst_mac >> 16) as u16,
            r.dst_mac as u16,
            (r.src_mac >> 32) as u16,
            (r.src_mac >> 16) as u16,
            r.src_mac as u16,
            r.ethertype,
        ]
    };
    w.iter()
        .enumerate()
        .fold(0, |h, (i, &x)| h ^ x.rotate_left((3 * i as u32) % 16))
}

/// The reference agrees with etherparse's header slices wherever they parse.
fn cross_check(f: &[u8], r: &Fields) {
    if let Ok(eth) = Ethernet2HeaderSlice::from_slice(f) {
        assert_eq!(be(&eth.destination(), 0, 6), r.dst_mac);
        assert_eq!(be(&eth.source(), 0, 6), r.src_mac);
        if !r.vlan {
            assert_eq!(eth.ether_type().0, r.ethertype);
        }
    }
    let l3 = usize::from(r.l3_offset);
    if r.vlan {
        let tag = SingleVlanHeaderSlice::from_slice(&f[14..]).unwrap();
        assert_eq!(tag.ether_type().0, r.ethertype);
    }
    if !r.ipv4 {
        return;
    }
    if let Ok(ip) = Ipv4HeaderSlice::from_slice(&f[l3..]) {
        assert_eq!(ip.ihl(), r.ihl);
        assert_eq!(ip.protocol().0, r.proto);
        assert_eq!(be(&ip.source(), 0, 4) as u32, r.src_ip);
        assert_eq!(be(&ip.destination(), 0, 4) as u32, r.dst_ip);
        assert_eq!(
            ip.more_fragments() || ip.fragments_offset().value() != 0,
            r.fragment
        );
    }
    if r.ports_valid {
        let l4 = &f[usize::from(r.l4_offset)..];
        let ports = match r.proto {
            6 => TcpHeaderSlice::from_slice(l4)
                .ok()
                .map(|t| (t.source_port(), t.destination_port())),
            _ => UdpHeaderSlice::from_slice(l4)
                .ok()
                .map(|u| (u.source_port(), u.destination_port())),
        };
        if let Some(p) = ports {
            assert_eq!(p, (r.src_port, r.dst_port));
        }
    }
}

// ---------------------------------------------------------------------------
// Frames

#[derive(Clone, Debug)]
enum L4 {
    Tcp(u16, u16),
    Udp(u16, u16),
    Icmp,
    Other(u8),
}

#[derive(Clone, Debug)]
struct IpFrame {
    dst: [u8; 6],
    src: [u8; 6],
    vlan: Option<u16>,
    /// IPv4 options, a multiple of 4 bytes up to 40 (IHL 5..15).
    options: Vec<u8>,
    l4: L4,
    ip_src: [u8; 4],
    ip_dst: [u8; 4],
    more_fragments: bool,
    frag_offset: u16,
    payload: Vec<u8>,
    /// Overwrite the version/IHL byte (version != 4, IHL < 5, ...).
    bad_ver_ihl: Option<u8>,
}

#[derive(Clone, Debug)]
enum Spec {
    Ip(IpFrame),
    NonIp {
        dst: [u8; 6],
        src: [u8; 6],
        vlan: Option<u16>,
        ethertype: u16,
        payload: Vec<u8>,
    },
    Random(Vec<u8>),
}

#[derive(Clone, Copy, Debug)]
enum Cut {
    Whole,
    Anywhere(usize),
    Interesting(usize),
}

fn ip_frame(f: &IpFrame) -> Vec<u8> {
    let mut h = Ipv4Header::new(0, 64, IpNumber::TCP, f.ip_src, f.ip_dst).unwrap();
    h.options = Ipv4Options::try_from(&f.options[..]).unwrap();
    h.more_fragments = f.more_fragments;
    h.fragment_offset = IpFragOffset::try_new(f.frag_offset).unwrap();
    let eth = PacketBuilder::ethernet2(f.src, f.dst);
    let ip: PacketBuilderStep<IpHeaders> = match f.vlan {
        Some(id) => eth
            .single_vlan(VlanId::try_new(id & 0xfff).unwrap())
            .ip(IpHeaders::Ipv4(h, Ipv4Extensions::default())),
        None => eth.ip(IpHeaders::Ipv4(h, Ipv4Extensions::default())),
    };
    let mut v = Vec::new();
    match f.l4 {
        L4::Tcp(s, d) => ip.tcp(s, d, 1, 1000).write(&mut v, &f.payload).unwrap(),
        L4::Udp(s, d) => ip.udp(s, d).write(&mut v, &f.payload).unwrap(),
        L4::Icmp => ip
            .icmpv4_echo_request(7, 9)
            .write(&mut v, &f.payload)
            .unwrap(),
        L4::Other(p) => ip.write(&mut v, IpNumber(p), &f.payload).unwrap(),
    }
    if let Some(b) = f.bad_ver_ihl {
        v[if f.vlan.is_some() { 18 } else { 14 }] = b;
    }
    v
}

fn build(spec: &Spec) -> Vec<u8> {
    match spec {
        Spec::Ip(f) => ip_frame(f),
        Spec::NonIp {
            dst,
            src,
            vlan,
            ethertype,
            payload,
        } => {
            let mut v = Vec::new();
            v.extend_from_slice(dst);
            v.extend_from_slice(src);
            if let Some(tci) = vlan {
                v.extend_from_slice(&[0x81, 0x00]);
                v.extend_from_slice(&tci.to_be_bytes());
            }
            v.extend_from_slice(&ethertype.to_be_bytes());
            v.extend_from_slice(payload);
            v
        }
        Spec::Random(bytes) => bytes.clone(),
    }
}

/// Lengths where a field or a condition starts or ends.
fn interesting_lengths(spec: &Spec) -> Vec<usize> {
    let mut v: Vec<usize> = (1..=20).collect();
    let (l3, l4) = match spec {
        Spec::Ip(f) => {
            let l3 = if f.vlan.is_some() { 18 } else { 14 };
            (l3, l3 + 20 + f.options.len())
        }
        _ => (14, 34),
    };
    v.extend((0..=21).map(|k| l3 + k));
    v.extend((0..=5).map(|k| l4 + k));
    v
}

fn cut(spec: &Spec, how: Cut) -> Vec<u8> {
    let mut f = build(spec);
    let len = match how {
        Cut::Whole => f.len(),
        Cut::Anywhere(k) => 1 + k % f.len(),
        Cut::Interesting(k) => {
            let at = interesting_lengths(spec);
            at[k % at.len()].min(f.len())
        }
    };
    f.truncate(len);
    f
}

fn l4_strategy() -> impl Strategy<Value = L4> {
    prop_oneof![
        3 => (any::<u16>(), any::<u16>()).prop_map(|(s, d)| L4::Tcp(s, d)),
        3 => (any::<u16>(), any::<u16>()).prop_map(|(s, d)| L4::Udp(s, d)),
        1 => Just(L4::Icmp),
        1 => any::<u8>().prop_map(L4::Other),
    ]
}

fn ip_strategy() -> impl Strategy<Value = IpFrame> {
    (
        (
            any::<[u8; 6]>(),
            any::<[u8; 6]>(),
            prop::option::of(0u16..4096),
        ),
        (0usize..=10).prop_flat_map(|w| prop::collection::vec(any::<u8>(), w * 4)),
        l4_strategy(),
        (any::<[u8; 4]>(), any::<[u8; 4]>()),
        prop_oneof![3 => Just((false, 0u16)), 1 => (any::<bool>(), 0u16..8192)],
        prop::collection::vec(any::<u8>(), 0..160),
        prop_oneof![9 => Just(None), 1 => any::<u8>().prop_map(Some)],
    )
        .prop_map(
            |((dst, src, vlan), options, l4, (ip_src, ip_dst), (mf, off), payload, bad)| IpFrame {
                dst,
                src,
                vlan,
                options,
                l4,
                ip_src,
                ip_dst,
                more_fragments: mf,
                frag_offset: off,
                payload,
                bad_ver_ihl: bad,
            },
        )
}

fn spec_strategy() -> impl Strategy<Value = Spec> {
    let non_ip = (
        any::<[u8; 6]>(),
        any::<[u8; 6]>(),
        prop::option::of(any::<u16>()),
        prop_oneof![
            Just(0x0800u16),
            Just(0x86dd),
            Just(0x0806),
            Just(0x8100),
            any::<u16>()
        ],
        prop::collection::vec(any::<u8>(), 0..100),
    )
        .prop_map(|(dst, src, vlan, ethertype, payload)| Spec::NonIp {
            dst,
            src,
            vlan,
            ethertype,
            payload,
        });
    // Random bytes, some with an IPv4 or VLAN ethertype and a 0x45 to get
    // further into the parser.
    let random = (prop::collection::vec(any::<u8>(), 1..300), 0u8..4).prop_map(|(mut v, bias)| {
        let mut put = |at: usize, bytes: &[u8]| {
            if v.len() >= at + bytes.len() {
                v[at..at + bytes.len()].copy_from_slice(bytes);
            }
        };
        match bias {
            1 => put(12, &[0x08, 0x00, 0x45]),
            2 => {
                put(12, &[0x81, 0x00]);
                put(16, &[0x08, 0x00, 0x46]);
            }
            3 => put(12, &[0x08, 0x00]),
            _ => {}
        }
        Spec::Random(v)
    });
    prop_oneof![
        6 => ip_strategy().prop_map(Spec::Ip),
        2 => non_ip,
        2 => random,
    ]
}

fn cut_strategy() -> impl Strategy<Value = Cut> {
    prop_oneof![
        2 => Just(Cut::Whole),
        1 => any::<usize>().prop_map(Cut::Anywhere),
        2 => any::<usize>().prop_map(Cut::Interesting),
    ]
}

fn frame_strategy() -> impl Strategy<Value = Vec<u8>> {
    (spec_strategy(), cut_strategy()).prop_map(|(s, c)| cut(&s, c))
}

// ---------------------------------------------------------------------------
// Running the tap

fn hex(f: &[u8]) -> String {
    let shown: Vec<String> = f.iter().take(96).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}{}",
        shown.join(""),
        if f.len() > 96 { "..." } else { "" }
    )
}

/// Streams `frames` past the parser, each beat preceded by idle cycles
/// (junk on tdata/tkeep/tlast, `beat` low) with probability `gap`, and
/// checks every cycle: `done` high exactly in the cycle after a last beat,
/// `fields` then equal to the reference and held until the next `done`.
/// Returns the cycles run.
fn check_frames(frames: &[Vec<u8>], seed: u64, gap: f64) -> u64 {
    let mut sim = DirectSim::new(HeaderParser::default(), |u| &mut u.clock).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut held: Option<Fields> = None;
    let mut step = |sim: &mut DirectSim<HeaderParser>,
                    rng: &mut ChaCha8Rng,
                    beat: Option<(u64, u8, bool)>,
                    frame: Option<(usize, &[u8])>| {
        let u = sim.uut();
        match beat {
            Some((data, keep, last)) => {
                u.tdata.next = data.to_bits();
                u.tkeep.next = u64::from(keep).to_bits();
                u.tlast.next = last;
                u.beat.next = true;
            }
            None => {
                u.tdata.next = rng.gen::<u64>().to_bits();
                u.tkeep.next = u64::from(rng.gen::<u8>()).to_bits();
                u.tlast.next = rng.gen();
                u.beat.next = false;
            }
        }
        sim.tick().unwrap();
        let cycle = sim.cycle();
        let u = sim.uut();
        let got = Fields::from_hw(&u.fields.val());
        match frame {
            Some((k, f)) => {
                assert!(
                    u.done.val(),
                    "cycle {cycle}: no done after frame {k}'s last beat"
                );
                let want = reference(f);
                assert_eq!(
                    got,
                    want,
                    "frame {k} ({} bytes): {}\n(left: parser, right: reference)",
                    f.len(),
                    hex(f)
                );
                held = Some(want);
            }
            None => {
                assert!(!u.done.val(), "cycle {cycle}: done without a last beat");
                if let Some(h) = held {
                    assert_eq!(got, h, "cycle {cycle}: fields not held");
                }
            }
        }
    };
    for (k, f) in frames.iter().enumerate() {
        assert!(!f.is_empty());
        for (b, chunk) in f.chunks(8).enumerate() {
            while gap > 0.0 && rng.gen_bool(gap) {
                step(&mut sim, &mut rng, None, None);
            }
            let mut lanes = [0u8; 8];
            lanes[..chunk.len()].copy_from_slice(chunk);
            let keep = if chunk.len() == 8 {
                0xff
            } else {
                (1u8 << chunk.len()) - 1
            };
            let last = (b + 1) * 8 >= f.len();
            let done = last.then_some((k, &f[..]));
            step(
                &mut sim,
                &mut rng,
                Some((u64::from_le_bytes(lanes), keep, last)),
                done,
            );
        }
    }
    for _ in 0..3 {
        step(&mut sim, &mut rng, None, None);
    }
    sim.cycle()
}

// ---------------------------------------------------------------------------
// Tests

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parser_matches_the_reference(
        frames in prop::collection::vec(frame_strategy(), 1..8),
        seed in any::<u64>(),
        gap in prop_oneof![Just(0.0), 0.0f64..0.7],
    ) {
        for f in &frames {
            cross_check(f, &reference(f));
        }
        check_frames(&frames, seed, gap);
    }

    /// The reference itself: whole IPv4 frames give back what they were
    /// built from.
    #[test]
    fn reference_reads_back_built_frames(f in ip_strategy()) {
        let bytes = ip_frame(&IpFrame { bad_ver_ihl: None, ..f.clone() });
        let r = reference(&bytes);
        cross_check(&bytes, &r);
        let fragment = f.more_fragments || f.frag_offset != 0;
        let ports = match f.l4 {
            L4::Tcp(s, d) | L4::Udp(s, d) if !fragment => Some((s, d)),
            // A bare "TCP"/"UDP" protocol number: the payload holds the ports.
            L4::Other(6 | 17) if !fragment && f.payload.len() >= 4 => Some((
                u16::from_be_bytes([f.payload[0], f.payload[1]]),
                u16::from_be_bytes([f.payload[2], f.payload[3]]),
            )),
            _ => None,
        };
        prop_assert!(r.ipv4);
        prop_assert_eq!(r.vlan, f.vlan.is_some());
        prop_assert_eq!(usize::from(r.ihl), 5 + f.options.len() / 4);
        prop_assert_eq!(r.src_ip, u32::from_be_bytes(f.ip_src));
        prop_assert_eq!(r.dst_ip, u32::from_be_bytes(f.ip_dst));
        prop_assert_eq!(r.fragment, fragment);
        prop_assert_eq!(r.ports_valid, ports.is_some());
        prop_assert_eq!((r.src_port, r.dst_port), ports.unwrap_or((0, 0)));
    }
}

fn tcp_frame(vlan: Option<u16>, options_words: usize, payload: usize) -> Vec<u8> {
    ip_frame(&IpFrame {
        dst: [0x02, 0x11, 0x22, 0x33, 0x44, 0x55],
        src: [0x02, 0x66, 0x77, 0x88, 0x99, 0xaa],
        vlan,
        options: (0..options_words * 4).map(|i| i as u8 | 0x80).collect(),
        l4: L4::Tcp(0xc0de, 443),
        ip_src: [192, 168, 1, 10],
        ip_dst: [10, 20, 30, 40],
        more_fragments: false,
        frag_offset: 0,
        payload: (0..payload).map(|i| (i * 7) as u8).collect(),
        bad_ver_ihl: None,
    })
}

fn udp_frame(vlan: Option<u16>, options_words: usize) -> Vec<u8> {
    ip_frame(&IpFrame {
        dst: [0xff; 6],
        src: [0x0a, 1, 2, 3, 4, 5],
        vlan,
        options: vec![0x01; options_words * 4],
        l4: L4::Udp(53, 0x1234),
        ip_src: [1, 2, 3, 4],
        ip_dst: [5, 6, 7, 8],
        more_fragments: false,
        frag_offset: 0,
        payload: vec![0xab; 30],
        bad_ver_ihl: None,
    })
}

/// Templates whose truncations cover every field boundary: both L3
/// offsets, both port lanes (l4 mod 8 = 2 and 6), IHL 5 to 15, non-IP.
fn templates() -> Vec<Vec<u8>> {
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x08, 0x06]);
    arp.extend((0..28).map(|i| i as u8));
    let mut random = ChaCha8Rng::seed_from_u64(42);
    let noise: Vec<u8> = (0..100).map(|_| random.gen()).collect();
    vec![
        tcp_frame(None, 0, 20),
        tcp_frame(None, 1, 20),
        tcp_frame(Some(100), 0, 20),
        tcp_frame(Some(100), 10, 20),
        udp_frame(None, 10),
        udp_frame(Some(7), 3),
        arp,
        noise,
    ]
}

#[test]
fn every_length_from_1_to_40() {
    let mut frames = Vec::new();
    for t in templates() {
        for len in 1..=40.min(t.len()) {
            frames.push(t[..len].to_vec());
        }
    }
    check_frames(&frames, 1, 0.0);
    check_frames(&frames, 2, 0.5);
}

#[test]
fn every_cut_of_the_templates() {
    // Every length up to past the ports, for each template.
    let mut frames = Vec::new();
    for t in templates() {
        for len in 1..=t.len().min(100) {
            frames.push(t[..len].to_vec());
        }
    }
    let cycles = check_frames(&frames, 3, 0.0);
    eprintln!("{} cuts in {cycles} cycles", frames.len());
    check_frames(&frames, 4, 0.3);
}

#[test]
fn one_beat_frames_back_to_back() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let frames: Vec<Vec<u8>> = (0..3000)
        .map(|_| {
            let n = rng.gen_range(1..=8);
            (0..n).map(|_| rng.gen()).collect()
        })
        .collect();
    // No gaps: `done` every cycle, each with its own frame's fields.
    let cycles = check_frames(&frames, 6, 0.0);
    assert_eq!(cycles, 3000 + 3);
}

#[test]
fn long_frames_and_length_saturation() {
    let frames: Vec<Vec<u8>> = [9000usize, 65527, 65528, 65529, 65535, 65536, 65537, 70000]
        .iter()
        .map(|&n| {
            let mut f = tcp_frame(Some(5), 2, 0);
            f.resize(n, 0x5a);
            f
        })
        .collect();
    check_frames(&frames, 7, 0.1);
    let r = reference(&frames[7]);
    assert_eq!(r.length, 65535);
    assert!(r.ports_valid);
}

/// Flow hashes worked out by hand from the spec's formula.
#[test]
fn known_answer_flow_hashes() {
    // TCP 10.0.0.1:1234 -> 10.0.0.2:80, no VLAN:
    //   w = [0a00, 0001, 0a00, 0002, 0006, 04d2, 0050]
    //   rotl(0a00, 0)  = 0a00   rotl(0001, 3)  = 0008   rotl(0a00, 6) = 8002
    //   rotl(0002, 9)  = 0400   rotl(0006, 12) = 6000
    //   rotl(04d2, 15) = 0269   rotl(0050, 2)  = 0140
    //   0a00 ^ 0008 = 0a08; ^ 8002 = 8a0a; ^ 0400 = 8e0a; ^ 6000 = ee0a;
    //   ^ 0269 = ec63; ^ 0140 = ed23
    let mut tcp = Vec::new();
    PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(1234, 80, 0, 1000)
        .write(&mut tcp, &[1, 2, 3])
        .unwrap();
    // The same flow behind an 802.1Q tag hashes the same.
    let mut tagged = Vec::new();
    PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .single_vlan(VlanId::try_new(42).unwrap())
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(1234, 80, 0, 1000)
        .write(&mut tagged, &[])
        .unwrap();
    // ARP broadcast (non-IP) from 02:00:00:00:00:01:
    //   w = [ffff, ffff, ffff, 0200, 0000, 0001, 0806]
    //   the three ffff (any rotation) XOR to ffff
    //   rotl(0200, 9) = 0004   rotl(0000, 12) = 0000
    //   rotl(0001, 15) = 8000  rotl(0806, 2)  = 2018
    //   ffff ^ 0004 = fffb; ^ 8000 = 7ffb; ^ 2018 = 5fe3
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    assert_eq!(reference(&tcp).flow_hash, 0xed23);
    assert_eq!(reference(&tagged).flow_hash, 0xed23);
    assert_eq!(reference(&arp).flow_hash, 0x5fe3);
    // check_frames compares the parser's hash with the reference.
    check_frames(&[tcp, tagged, arp], 8, 0.3);
}

// ---------------------------------------------------------------------------
// Verilog

/// Frames from the property-test strategies, drawn deterministically.
fn sample_frames(seed: u64, n: usize) -> Vec<Vec<u8>> {
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig::default(),
        proptest::test_runner::TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &{
            let mut s = [0u8; 32];
            s[..8].copy_from_slice(&seed.to_le_bytes());
            s
        }),
    );
    let strategy = frame_strategy();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

#[test]
fn header_parser_rust_and_verilog_agree() {
    const CYCLES: u64 = 30_000;
    let frames = sample_frames(9, 2000);
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let (mut frame, mut offset) = (0usize, 0usize);
    let mut seen = [0u64; 5]; // done, ipv4, ports_valid, vlan, runt
    let report = Equivalence::new("header_parser", CYCLES)
        .run(
            HeaderParser::default,
            |u| &mut u.clock,
            |u, _| {
                if u.done.val() {
                    let f = u.fields.val();
                    seen[0] += 1;
                    seen[1] += f.ipv4 as u64;
                    seen[2] += f.ports_valid as u64;
                    seen[3] += f.vlan as u64;
                    seen[4] += f.runt as u64;
                }
                if rng.gen_bool(0.3) {
                    // Idle, junk on the bus.
                    u.beat.next = false;
                    u.tdata.next = rng.gen::<u64>().to_bits();
                    u.tkeep.next = u64::from(rng.gen::<u8>()).to_bits();
                    u.tlast.next = rng.gen();
                    return;
                }
                u.beat.next = true;
                if rng.gen_bool(0.02) {
                    // A beat that breaks the stream rules (any tkeep).
                    u.tdata.next = rng.gen::<u64>().to_bits();
                    u.tkeep.next = u64::from(rng.gen::<u8>()).to_bits();
                    u.tlast.next = rng.gen();
                    return;
                }
                let f = &frames[frame % frames.len()];
                let chunk = &f[offset..(offset + 8).min(f.len())];
                let mut lanes = [0u8; 8];
                lanes[..chunk.len()].copy_from_slice(chunk);
                u.tdata.next = u64::from_le_bytes(lanes).to_bits();
                u.tkeep.next = (((1u16 << chunk.len()) - 1) as u64).to_bits();
                offset += chunk.len();
                u.tlast.next = offset == f.len();
                if offset == f.len() {
                    frame += 1;
                    offset = 0;
                }
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("equivalence {report}");
    eprintln!(
        "header_parser coverage: {} frames done, {} ipv4, {} with ports, {} vlan, {} runts",
        seen[0], seen[1], seen[2], seen[3], seen[4]
    );
    assert!(
        seen[0] > 1000 && seen[1] > 200 && seen[2] > 100 && seen[3] > 100 && seen[4] > 50,
        "stimulus too tame: {seen:?}"
    );
}

#[test]
fn header_parser_passes_yosys_iverilog_and_verilator() {
    let mut uut = HeaderParser::default();
    uut.connect_all();
    let dir =
        std::env::temp_dir().join(format!("overlay-nic-header-parser-{}", std::process::id()));
    let path = write_verilog(&dir, "header_parser", &generate_verilog(&uut)).unwrap();
    let stats = yosys_ice40(&path).unwrap();
    iverilog_compile(&path).unwrap();
    verilator_lint(&path).unwrap();
    eprintln!("yosys synth_ice40 header_parser: {stats}");
    let _ = std::fs::remove_dir_all(&dir);
}
