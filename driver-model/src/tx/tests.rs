use super::*;

use etherparse::{
    EtherType, Ethernet2Header, IpNumber, Ipv4Header, PacketBuilder, SingleVlanHeader, UdpHeader,
};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::nic_config::{PortRange, VlanTag};

/// VF0 in VNI 5001 (flood), VF1 a plain VF, VF2 in 5002 (gateway policy,
/// gateway off the VTEP subnet), VF3 in 5003 (drop policy). Two entries in
/// 5001: one remote VTEP on the local subnet, one off it.
const CFG: &str = r#"
[vtep]
mac = "02:00:0a:00:00:01"
ip = "10.0.0.1"
netmask = "255.255.255.0"
gateway_mac = "02:00:0a:00:00:fe"

[pf]
mac = "02:00:00:00:00:10"

[[vf]]
mac = "02:00:00:00:01:00"
vni = 5001

[[vf]]
mac = "02:00:00:00:01:01"

[[vf]]
mac = "02:00:00:00:01:02"
vni = 5002

[[vf]]
mac = "02:00:00:00:01:03"
vni = 5003

[[vni]]
vni = 5001
multicast_group = "239.1.1.1"
gateway_ip = "10.0.1.254"
gateway_mac = "02:00:0a:00:01:fe"

[[vni]]
vni = 5002
multicast_group = "239.129.2.3"
gateway_ip = "10.9.9.9"
gateway_mac = "02:00:0a:09:09:09"
miss_policy = "gateway"

[[vni]]
vni = 5003
multicast_group = "239.0.0.3"
gateway_ip = "10.0.0.254"
gateway_mac = "02:00:0a:00:00:fd"
miss_policy = "drop"

[[entry]]
vni = 5001
mac = "02:00:00:00:02:00"
vtep_ip = "10.0.0.2"
vtep_mac = "02:00:0a:00:00:02"

[[entry]]
vni = 5001
mac = "02:00:00:00:03:00"
vtep_ip = "10.1.0.3"
vtep_mac = "02:00:0a:01:00:03"
"#;

const VTEP_MAC: [u8; 6] = [0x02, 0, 0x0a, 0, 0, 0x01];
const VTEP_GW_MAC: [u8; 6] = [0x02, 0, 0x0a, 0, 0, 0xfe];
const PF_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x10];
const VF_MAC: [[u8; 6]; 4] = [
    [0x02, 0, 0, 0, 0x01, 0x00],
    [0x02, 0, 0, 0, 0x01, 0x01],
    [0x02, 0, 0, 0, 0x01, 0x02],
    [0x02, 0, 0, 0, 0x01, 0x03],
];
/// In the table for 5001, VTEP 10.0.0.2 (on the subnet).
const NEAR: [u8; 6] = [0x02, 0, 0, 0, 0x02, 0x00];
/// In the table for 5001, VTEP 10.1.0.3 (off the subnet).
const FAR: [u8; 6] = [0x02, 0, 0, 0, 0x03, 0x00];
/// In no table.
const UNKNOWN: [u8; 6] = [0x02, 0, 0, 0, 0x09, 0x99];
const BROADCAST: [u8; 6] = [0xff; 6];

fn vni(n: u32) -> Vni {
    Vni::new(n).expect("valid VNI in the test")
}

fn config() -> NicConfig {
    NicConfig::from_toml(CFG).expect("test config parses")
}

fn model_with(config: NicConfig, event_capacity: usize) -> TxModel {
    TxModel::new(config, BuildLimits::default(), event_capacity).expect("test config is valid")
}

fn model() -> TxModel {
    model_with(config(), 16)
}

/// A frame `dst`, `src`, `ether_type`, then `len - 14` counting bytes.
fn frame(dst: [u8; 6], src: [u8; 6], ether_type: u16, len: usize) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&ether_type.to_be_bytes());
    f.extend((0..len.saturating_sub(14)).map(|i| i as u8));
    f.truncate(len);
    f
}

/// A 60-byte frame of the local experimental ethertype 0x88b5.
fn plain(dst: [u8; 6], src: [u8; 6]) -> Vec<u8> {
    frame(dst, src, 0x88b5, 60)
}

fn send(nic: &mut TxModel, function: Function, frame: &[u8], tag: Option<Vni>) -> TxOutcome {
    match nic.transmit(function, frame, tag) {
        Ok(o) => o,
        Err(e) => panic!("{function}: {e}"),
    }
}

fn wire(outcome: TxOutcome) -> Vec<u8> {
    match outcome {
        TxOutcome::Wire(f) => f,
        TxOutcome::Segments(s) => panic!("{} segments, one frame expected", s.len()),
        TxOutcome::Dropped(d) => panic!("dropped: {d:?}"),
    }
}

/// An outer frame taken apart with etherparse.
struct Outer {
    eth: Ethernet2Header,
    vlan: Option<SingleVlanHeader>,
    ip: Ipv4Header,
    udp: UdpHeader,
    vxlan: [u8; 8],
    inner: Vec<u8>,
}

fn outer(frame: &[u8]) -> Outer {
    let (eth, rest) = Ethernet2Header::from_slice(frame).expect("outer Ethernet");
    let (vlan, rest) = if eth.ether_type == EtherType::VLAN_TAGGED_FRAME {
        let (v, rest) = SingleVlanHeader::from_slice(rest).expect("outer 802.1Q");
        assert_eq!(v.ether_type, EtherType::IPV4);
        (Some(v), rest)
    } else {
        assert_eq!(eth.ether_type, EtherType::IPV4);
        (None, rest)
    };
    let (ip, rest) = Ipv4Header::from_slice(rest).expect("outer IPv4");
    let (udp, rest) = UdpHeader::from_slice(rest).expect("outer UDP");
    let vxlan = rest[..8].try_into().expect("VXLAN header");
    Outer {
        eth,
        vlan,
        ip,
        udp,
        vxlan,
        inner: rest[8..].to_vec(),
    }
}

/// Checks everything in an outer frame that does not depend on the
/// destination: the spec's encapsulation table with the test VTEP's
/// defaults. Returns the parts.
fn check_outer(frame: &[u8], inner: &[u8], vni: Vni, id: u16) -> Outer {
    let o = outer(frame);
    assert_eq!(o.eth.source, VTEP_MAC);
    assert_eq!(o.ip.options.len(), 0);
    assert_eq!(o.ip.dscp.value(), 0);
    assert_eq!(o.ip.ecn.value(), 0);
    assert_eq!(usize::from(o.ip.total_len), inner.len() + 36);
    assert_eq!(o.ip.identification, id);
    assert!(o.ip.dont_fragment);
    assert!(!o.ip.more_fragments);
    assert_eq!(o.ip.fragment_offset.value(), 0);
    assert_eq!(o.ip.time_to_live, 64);
    assert_eq!(o.ip.protocol, IpNumber::UDP);
    assert_eq!(o.ip.header_checksum, o.ip.calc_header_checksum());
    assert_eq!(o.ip.source, [10, 0, 0, 1]);
    let range = PortRange::DYNAMIC;
    assert!((range.lo..=range.hi).contains(&o.udp.source_port));
    assert_eq!(
        o.udp.source_port,
        udp_src_port(flow_hash(inner), range.lo, range.hi)
    );
    assert_eq!(o.udp.destination_port, 4789);
    assert_eq!(usize::from(o.udp.length), inner.len() + 16);
    assert_eq!(o.udp.checksum, 0);
    let v = vni.to_be_bytes();
    assert_eq!(o.vxlan, [0x08, 0, 0, 0, v[0], v[1], v[2], 0]);
    assert_eq!(o.inner, inner);
    o
}

// ---------------------------------------------------------------- flow hash

/// The fold of seven words, for tests that check which words a frame gives.
fn fold(w: [u16; 7]) -> u16 {
    let r = [0, 3, 6, 9, 12, 15, 2];
    (0..7).fold(0, |h, i| h ^ w[i].rotate_left(r[i]))
}

/// A 54-byte IPv4/TCP frame 10.0.0.1:1234 -> 10.0.0.2:80 with the given
/// flags/fragment field; the IPv4 checksum is left 0 (nothing checks it).
fn tcp_frame(frag: u16) -> Vec<u8> {
    let mut f = frame(NEAR, VF_MAC[0], 0x0800, 14);
    f.extend_from_slice(&[0x45, 0x00, 0x00, 0x28, 0x00, 0x01]);
    f.extend_from_slice(&frag.to_be_bytes());
    f.extend_from_slice(&[64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    f.extend_from_slice(&[0x04, 0xd2, 0x00, 0x50]);
    f.extend_from_slice(&[0xaa; 16]);
    f
}

#[test]
fn flow_hash_ipv4_tcp_known_answer() {
    // w = [0x0a00, 0x0001, 0x0a00, 0x0002, 0x0006, 0x04d2, 0x0050]
    //   rotl(0x0a00, 0)  = 0x0a00
    //   rotl(0x0001, 3)  = 0x0008
    //   rotl(0x0a00, 6)  = 0x8002   (bits 9, 11 -> 15, 17 = 1)
    //   rotl(0x0002, 9)  = 0x0400
    //   rotl(0x0006, 12) = 0x6000
    //   rotl(0x04d2, 15) = 0x0269   (a rotate right by 1; bit 0 was 0)
    //   rotl(0x0050, 2)  = 0x0140
    // 0x0a00 ^ 0x0008 = 0x0a08; ^ 0x8002 = 0x8a0a; ^ 0x0400 = 0x8e0a;
    // ^ 0x6000 = 0xee0a; ^ 0x0269 = 0xec63; ^ 0x0140 = 0xed23.
    let f = tcp_frame(0x4000); // DF only: not a fragment
    assert_eq!(flow_hash(&f), 0xed23);
    // Port in [49152, 65535]: 49152 + ((0xed23 * 16383 + 0xed23) >> 16)
    // = 49152 + (0xed23 * 16384 >> 16) = 49152 + (0xed23 >> 2)
    // = 49152 + 0x3b48 = 49152 + 15176 = 64328.
    assert_eq!(udp_src_port(0xed23, 49152, 65535), 64328);
}

#[test]
fn flow_hash_non_ip_known_answer() {
    // An ARP request from VF0: dst ff:ff:ff:ff:ff:ff, src 02:00:00:00:01:00,
    // type 0x0806.
    // w = [0xffff, 0xffff, 0xffff, 0x0200, 0x0000, 0x0100, 0x0806]
    //   rotl(0xffff, 0|3|6) = 0xffff three times: XOR 0xffff
    //   rotl(0x0200, 9)  = 0x0004   (bit 9 -> 18 = 2)
    //   rotl(0x0000, 12) = 0x0000
    //   rotl(0x0100, 15) = 0x0080
    //   rotl(0x0806, 2)  = 0x2018   (bits 11, 2, 1 -> 13, 4, 3)
    // 0xffff ^ 0x0004 = 0xfffb; ^ 0x0080 = 0xff7b; ^ 0x2018 = 0xdf63.
    let f = frame(BROADCAST, VF_MAC[0], 0x0806, 42);
    assert_eq!(flow_hash(&f), 0xdf63);
    // 49152 + (0xdf63 >> 2) = 49152 + 0x37d8 = 49152 + 14296 = 63448.
    assert_eq!(udp_src_port(0xdf63, 49152, 65535), 63448);
}

#[test]
fn flow_hash_reads_the_spec_words() {
    let macs = |f: &[u8], e: u16| {
        let w = |i: usize| u16::from_be_bytes([f[i], f[i + 1]]);
        fold([w(0), w(2), w(4), w(6), w(8), w(10), e])
    };
    let ip = |sport: u16, dport: u16, proto: u16| {
        fold([0x0a00, 0x0001, 0x0a00, 0x0002, proto, sport, dport])
    };

    // One 802.1Q tag is skipped: a tagged TCP frame hashes as untagged.
    let f = tcp_frame(0);
    let mut tagged = f[..12].to_vec();
    tagged.extend_from_slice(&[0x81, 0x00, 0x20, 0x64]);
    tagged.extend_from_slice(&f[12..]);
    assert_eq!(flow_hash(&tagged), ip(1234, 80, 6));
    // A tag cut short keeps e = 0x8100 and hashes the MACs.
    assert_eq!(flow_hash(&tagged[..17]), macs(&tagged, 0x8100));

    // UDP ports count too; other protocols' do not.
    let mut udp = f.clone();
    udp[23] = 17;
    assert_eq!(flow_hash(&udp), ip(1234, 80, 17));
    let mut icmp = f.clone();
    icmp[23] = 1;
    assert_eq!(flow_hash(&icmp), ip(0, 0, 1));

    // Fragments: MF, or any offset, gives ports 0; DF does not.
    for frag in [0x2000, 0x0001, 0x1fff, 0x6000, 0x3fff] {
        assert_eq!(flow_hash(&tcp_frame(frag)), ip(0, 0, 6), "{frag:#x}");
    }
    assert_eq!(flow_hash(&tcp_frame(0x4000)), ip(1234, 80, 6));
    assert_eq!(flow_hash(&tcp_frame(0x8000)), ip(1234, 80, 6));

    // Options move the ports: IHL 6 reads them 4 bytes later.
    let mut opt = f.clone();
    opt[14] = 0x46;
    opt[34..38].copy_from_slice(&[0x11, 0x11, 0x22, 0x22]);
    assert_eq!(flow_hash(&opt), ip(0xaaaa, 0xaaaa, 6));
    // IHL 15 points past the frame: ports 0.
    opt[14] = 0x4f;
    assert_eq!(flow_hash(&opt), ip(0, 0, 6));

    // The ports need 4 bytes after the IP header, the addresses all 20.
    assert_eq!(flow_hash(&f[..38]), ip(1234, 80, 6));
    assert_eq!(flow_hash(&f[..37]), ip(0, 0, 6));
    assert_eq!(flow_hash(&f[..34]), ip(0, 0, 6));
    assert_eq!(flow_hash(&f[..33]), macs(&f, 0x0800));

    // Not version 4, IHL below 5, or not type 0x0800: the MAC words.
    let mut v6 = f.clone();
    v6[14] = 0x65;
    assert_eq!(flow_hash(&v6), macs(&v6, 0x0800));
    let mut short_ihl = f.clone();
    short_ihl[14] = 0x44;
    assert_eq!(flow_hash(&short_ihl), macs(&short_ihl, 0x0800));
    let mut ipv6_type = f.clone();
    ipv6_type[12..14].copy_from_slice(&[0x86, 0xdd]);
    assert_eq!(flow_hash(&ipv6_type), macs(&ipv6_type, 0x86dd));

    // Shorter than an Ethernet header: missing bytes read as 0.
    assert_eq!(flow_hash(&[]), 0);
    let mut padded = f[..5].to_vec();
    padded.resize(14, 0);
    assert_eq!(flow_hash(&f[..5]), macs(&padded, 0));
}

#[test]
fn udp_src_port_folding_edges() {
    assert_eq!(udp_src_port(0, 49152, 65535), 49152);
    assert_eq!(udp_src_port(0xffff, 49152, 65535), 65535);
    assert_eq!(udp_src_port(0xffff, 0, 65535), 65535);
    assert_eq!(udp_src_port(0x8000, 0, 65535), 0x8000);
    assert_eq!(udp_src_port(0xffff, 5000, 5000), 5000);
    assert_eq!(udp_src_port(0x1234, 5000, 5000), 5000);
    // A two-port range splits the hash space in half.
    assert_eq!(udp_src_port(0x7fff, 100, 101), 100);
    assert_eq!(udp_src_port(0x8000, 100, 101), 101);
    // lo > hi: defined (wrapping), never a panic.
    let _ = udp_src_port(0xffff, 65535, 0);
}

// ------------------------------------------------------- the spec, case by case

#[test]
fn hit_on_subnet_known_answer() {
    let mut nic = model();
    let inner = plain(NEAR, VF_MAC[0]);
    let out = wire(send(&mut nic, Function::Vf(0), &inner, None));
    // Flow hash of this non-IP frame (dst 02:00:00:00:02:00, src
    // 02:00:00:00:01:00, type 0x88b5):
    //   w = [0x0200, 0x0000, 0x0200, 0x0200, 0x0000, 0x0100, 0x88b5]
    //   rotated: 0x0200, 0, 0x8000, 0x0004, 0, 0x0080, 0x22d6
    //   XOR = 0xa052; port = 49152 + (0xa052 >> 2) = 49152 + 10260 = 59412
    //   = 0xe814.
    // IPv4 checksum: 0x4500 + 0x0060 + 0x0000 + 0x4000 + 0x4011 + 0x0a00 +
    //   0x0001 + 0x0a00 + 0x0002 = 0xd974, complement 0x268b.
    #[rustfmt::skip]
    let header: [u8; 50] = [
        0x02, 0x00, 0x0a, 0x00, 0x00, 0x02, // remote VTEP MAC
        0x02, 0x00, 0x0a, 0x00, 0x00, 0x01, // local VTEP MAC
        0x08, 0x00,
        0x45, 0x00, 0x00, 0x60, // total length 60 + 36
        0x00, 0x00, 0x40, 0x00, // id 0, DF
        0x40, 0x11, 0x26, 0x8b, // TTL 64, UDP, checksum
        10, 0, 0, 1, 10, 0, 0, 2,
        0xe8, 0x14, 0x12, 0xb5, // ports 59412 -> 4789
        0x00, 0x4c, 0x00, 0x00, // length 60 + 16, no checksum
        0x08, 0x00, 0x00, 0x00, 0x00, 0x13, 0x89, 0x00, // VNI 5001
    ];
    assert_eq!(flow_hash(&inner), 0xa052);
    assert_eq!(&out[..50], &header[..]);
    assert_eq!(&out[50..], &inner[..]);
    let o = check_outer(&out, &inner, vni(5001), 0);
    assert_eq!(o.ip.destination, [10, 0, 0, 2]);
    let c = nic.counters(Function::Vf(0));
    assert_eq!((c.frames, c.bytes, c.encapsulated, c.misses), (1, 60, 1, 0));
    assert_eq!(nic.pop_event(), None);
}

#[test]
fn hit_off_subnet_goes_to_the_underlay_gateway() {
    let mut nic = model();
    let inner = plain(FAR, VF_MAC[0]);
    let out = wire(send(&mut nic, Function::Vf(0), &inner, None));
    let o = check_outer(&out, &inner, vni(5001), 0);
    assert_eq!(o.ip.destination, [10, 1, 0, 3]);
    assert_eq!(o.eth.destination, VTEP_GW_MAC);

    // A wider netmask puts the same VTEP on the subnet.
    nic.config_mut().vtep.netmask = Ipv4Addr::new(255, 254, 0, 0);
    let out = wire(send(&mut nic, Function::Vf(0), &inner, None));
    let o = check_outer(&out, &inner, vni(5001), 1);
    assert_eq!(o.eth.destination, [0x02, 0, 0x0a, 0x01, 0, 0x03]);
}

#[test]
fn broadcast_and_multicast_go_to_the_group() {
    let mut nic = model();
    for dst in [
        BROADCAST,
        [0x01, 0x00, 0x5e, 0x7f, 0x00, 0x01],
        [0x33, 0x33, 0, 0, 0, 1],
    ] {
        let inner = plain(dst, VF_MAC[0]);
        let id = nic.next_ip_id();
        let out = wire(send(&mut nic, Function::Vf(0), &inner, None));
        let o = check_outer(&out, &inner, vni(5001), id);
        assert_eq!(o.ip.destination, [239, 1, 1, 1]);
        assert_eq!(o.eth.destination, [0x01, 0x00, 0x5e, 0x01, 0x01, 0x01]);
    }
    // 239.129.2.3: the group's top bit of octet 2 is not in the MAC.
    let inner = plain(BROADCAST, VF_MAC[2]);
    let out = wire(send(&mut nic, Function::Vf(2), &inner, None));
    let o = check_outer(&out, &inner, vni(5002), 3);
    assert_eq!(o.ip.destination, [239, 129, 2, 3]);
    assert_eq!(o.eth.destination, [0x01, 0x00, 0x5e, 0x01, 0x02, 0x03]);
    // Multicast is not looked up: no miss, no event.
    assert_eq!(nic.counters(Function::Vf(0)).misses, 0);
    assert_eq!(nic.counters(Function::Vf(2)).misses, 0);
    assert_eq!(nic.pop_event(), None);
}

#[test]
fn group_mac_is_01005e_and_low_23_bits() {
    let m = |a, b, c, d| multicast_mac(Ipv4Addr::new(a, b, c, d)).octets();
    assert_eq!(m(224, 0, 0, 1), [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01]);
    assert_eq!(m(239, 255, 255, 255), [0x01, 0x00, 0x5e, 0x7f, 0xff, 0xff]);
    assert_eq!(m(224, 128, 0, 1), m(225, 0, 0, 1));
}

#[test]
fn miss_with_flood_goes_to_the_group_and_raises_an_event() {
    let mut nic = model();
    let inner = plain(UNKNOWN, VF_MAC[0]);
    let out = wire(send(&mut nic, Function::Vf(0), &inner, None));
    let o = check_outer(&out, &inner, vni(5001), 0);
    assert_eq!(o.ip.destination, [239, 1, 1, 1]);
    assert_eq!(o.eth.destination, [0x01, 0x00, 0x5e, 0x01, 0x01, 0x01]);
    let c = nic.counters(Function::Vf(0));
    assert_eq!((c.encapsulated, c.misses, c.drop_miss), (1, 1, 0));
    assert_eq!(
        nic.pop_event(),
        Some(NicEvent::TxMiss {
            vni: vni(5001),
            mac: MacAddr(UNKNOWN)
        })
    );
    assert_eq!(nic.pop_event(), None);
}

#[test]
fn miss_with_gateway_goes_to_the_vni_gateway() {
    let mut nic = model();
    let inner = plain(UNKNOWN, VF_MAC[2]);
    // The VNI gateway 10.9.9.9 is off the VTEP subnet: the underlay router.
    let out = wire(send(&mut nic, Function::Vf(2), &inner, None));
    let o = check_outer(&out, &inner, vni(5002), 0);
    assert_eq!(o.ip.destination, [10, 9, 9, 9]);
    assert_eq!(o.eth.destination, VTEP_GW_MAC);
    // On the subnet: the VNI gateway's own MAC.
    nic.config_mut().vnis[1].gateway_ip = Ipv4Addr::new(10, 0, 0, 9);
    let out = wire(send(&mut nic, Function::Vf(2), &inner, None));
    let o = check_outer(&out, &inner, vni(5002), 1);
    assert_eq!(o.ip.destination, [10, 0, 0, 9]);
    assert_eq!(o.eth.destination, [0x02, 0, 0x0a, 0x09, 0x09, 0x09]);
    let c = nic.counters(Function::Vf(2));
    assert_eq!((c.encapsulated, c.misses), (2, 2));
    // Two misses on one key in a row: one event.
    assert_eq!(
        nic.pop_event(),
        Some(NicEvent::TxMiss {
            vni: vni(5002),
            mac: MacAddr(UNKNOWN)
        })
    );
    assert_eq!(nic.pop_event(), None);
}

#[test]
fn miss_with_drop_is_dropped_counted_and_still_raises_an_event() {
    let mut nic = model();
    let inner = plain(UNKNOWN, VF_MAC[3]);
    let out = send(&mut nic, Function::Vf(3), &inner, None);
    assert_eq!(out, TxOutcome::Dropped(TxDrop::Miss));
    let c = *nic.counters(Function::Vf(3));
    assert_eq!(
        c,
        FunctionCounters {
            frames: 1,
            bytes: 60,
            drop_miss: 1,
            misses: 1,
            ..FunctionCounters::ZERO
        }
    );
    assert_eq!(
        nic.pop_event(),
        Some(NicEvent::TxMiss {
            vni: vni(5003),
            mac: MacAddr(UNKNOWN)
        })
    );
    assert_eq!(nic.pop_event(), None);
    assert_eq!(nic.next_ip_id(), 0);
    // Broadcast still goes to the group in a drop-policy VNI.
    let inner = plain(BROADCAST, VF_MAC[3]);
    let out = wire(send(&mut nic, Function::Vf(3), &inner, None));
    assert_eq!(
        check_outer(&out, &inner, vni(5003), 0).ip.destination,
        [239, 0, 0, 3]
    );
}

#[test]
fn vni_without_record_is_dropped() {
    let mut nic = model();
    let inner = plain(NEAR, PF_MAC);
    let out = send(&mut nic, Function::Pf, &inner, Some(vni(9999)));
    assert_eq!(out, TxOutcome::Dropped(TxDrop::NoVni));
    assert_eq!(nic.counters(Function::Pf).drop_no_vni, 1);
    // A VF whose segment lost its record.
    nic.config_mut().vnis.remove(0);
    let out = send(&mut nic, Function::Vf(0), &plain(NEAR, VF_MAC[0]), None);
    assert_eq!(out, TxOutcome::Dropped(TxDrop::NoVni));
    let c = nic.counters(Function::Vf(0));
    assert_eq!((c.frames, c.drop_no_vni, c.misses), (1, 1, 0));
    assert_eq!(nic.pop_event(), None);
}

#[test]
fn vf_with_another_source_mac_is_spoofed() {
    let mut nic = model();
    // In an overlay segment and plain alike.
    for (vf, own) in [(0, VF_MAC[0]), (1, VF_MAC[1])] {
        let mut src = own;
        src[5] ^= 0x80;
        let out = send(&mut nic, Function::Vf(vf), &plain(UNKNOWN, src), None);
        assert_eq!(out, TxOutcome::Dropped(TxDrop::Spoofed));
        // Another VF's MAC is spoofing too.
        let out = send(&mut nic, Function::Vf(vf), &plain(NEAR, VF_MAC[2]), None);
        assert_eq!(out, TxOutcome::Dropped(TxDrop::Spoofed));
        let c = nic.counters(Function::Vf(vf));
        assert_eq!((c.frames, c.drop_spoofed, c.misses), (2, 2, 0));
    }
    // Dropped before the lookup: no event.
    assert_eq!(nic.pop_event(), None);
    // The PF's source MAC is not checked.
    let out = send(&mut nic, Function::Pf, &plain(NEAR, UNKNOWN), None);
    assert!(out.wire().is_some());
}

#[test]
fn plain_vf_and_untagged_pf_pass_untouched() {
    let mut nic = model();
    let vf_frame = plain(NEAR, VF_MAC[1]);
    assert_eq!(
        send(&mut nic, Function::Vf(1), &vf_frame, Some(vni(5001))),
        TxOutcome::Wire(vf_frame.clone())
    );
    let pf_frame = frame(UNKNOWN, [0x02, 0, 0, 0, 0x77, 0x77], 0x0800, 1514);
    assert_eq!(
        send(&mut nic, Function::Pf, &pf_frame, None),
        TxOutcome::Wire(pf_frame.clone())
    );
    // A 14-byte frame is no runt.
    let tiny = frame(UNKNOWN, PF_MAC, 0x0800, 14);
    assert_eq!(
        send(&mut nic, Function::Pf, &tiny, None),
        TxOutcome::Wire(tiny.clone())
    );
    for f in [Function::Pf, Function::Vf(1)] {
        let c = nic.counters(f);
        assert_eq!((c.encapsulated, c.misses), (0, 0));
    }
    assert_eq!(nic.counters(Function::Pf).bytes, 1514 + 14);
    assert_eq!(nic.next_ip_id(), 0);
    assert_eq!(nic.pop_event(), None);
}

#[test]
fn tagged_pf_frame_is_encapsulated_with_its_tag() {
    let mut nic = model();
    let inner = plain(NEAR, UNKNOWN);
    let out = wire(send(&mut nic, Function::Pf, &inner, Some(vni(5001))));
    let o = check_outer(&out, &inner, vni(5001), 0);
    assert_eq!(o.ip.destination, [10, 0, 0, 2]);
    // The same MAC in another VNI is another key: a miss there.
    let out = wire(send(&mut nic, Function::Pf, &inner, Some(vni(5002))));
    let o = check_outer(&out, &inner, vni(5002), 1);
    assert_eq!(o.ip.destination, [10, 9, 9, 9]);
    let c = nic.counters(Function::Pf);
    assert_eq!((c.frames, c.encapsulated, c.misses), (2, 2, 1));
    assert_eq!(
        nic.pop_event(),
        Some(NicEvent::TxMiss {
            vni: vni(5002),
            mac: MacAddr(NEAR)
        })
    );
}

#[test]
fn runts_are_dropped_first() {
    let mut nic = model();
    let full = plain(NEAR, [0xee; 6]);
    for len in 0..14 {
        // Spoofed and over no MTU, but a runt first; a PF runt too.
        for (f, tag) in [(Function::Vf(0), None), (Function::Pf, Some(vni(5001)))] {
            let out = send(&mut nic, f, &full[..len], tag);
            assert_eq!(out, TxOutcome::Dropped(TxDrop::Runt), "{len}");
        }
    }
    let c = nic.counters(Function::Vf(0));
    assert_eq!(
        (c.frames, c.bytes, c.drop_runt, c.drop_spoofed),
        (14, 91, 14, 0)
    );
    assert_eq!(nic.counters(Function::Pf).drop_runt, 14);
    // 14 bytes from the right MAC are encapsulated (a 64-byte outer frame).
    let inner = plain(NEAR, VF_MAC[0])[..14].to_vec();
    let out = wire(send(&mut nic, Function::Vf(0), &inner, None));
    assert_eq!(out.len(), 64);
    check_outer(&out, &inner, vni(5001), 0);
}

#[test]
fn mtu_discounts_one_vlan_tag() {
    let mut nic = model();
    let vf = Function::Vf(0);
    let untagged = |len| frame(NEAR, VF_MAC[0], 0x0800, len);
    let tagged = |len| frame(NEAR, VF_MAC[0], 0x8100, len);
    assert!(send(&mut nic, vf, &untagged(1514), None).wire().is_some());
    assert_eq!(
        send(&mut nic, vf, &untagged(1515), None),
        TxOutcome::Dropped(TxDrop::Mtu)
    );
    assert!(send(&mut nic, vf, &tagged(1518), None).wire().is_some());
    assert_eq!(
        send(&mut nic, vf, &tagged(1519), None),
        TxOutcome::Dropped(TxDrop::Mtu)
    );
    // Only 0x8100 is a tag (not 0x88a8), and only with 18 bytes present.
    let qinq = frame(NEAR, VF_MAC[0], 0x88a8, 1518);
    assert_eq!(
        send(&mut nic, vf, &qinq, None),
        TxOutcome::Dropped(TxDrop::Mtu)
    );
    let c = nic.counters(vf);
    assert_eq!((c.frames, c.encapsulated, c.drop_mtu), (5, 2, 2 + 1));
    // Spoofing is checked before the MTU.
    let big = frame(NEAR, UNKNOWN, 0x0800, 9000);
    assert_eq!(
        send(&mut nic, vf, &big, None),
        TxOutcome::Dropped(TxDrop::Spoofed)
    );
    // The MTU applies to frames that pass through, and is per function.
    nic.config_mut().vfs[1].mtu = 100;
    let f1 = |len| frame(NEAR, VF_MAC[1], 0x0800, len);
    assert!(send(&mut nic, Function::Vf(1), &f1(114), None)
        .wire()
        .is_some());
    assert_eq!(
        send(&mut nic, Function::Vf(1), &f1(115), None),
        TxOutcome::Dropped(TxDrop::Mtu)
    );
    let pf = frame(NEAR, PF_MAC, 0x0800, 1515);
    assert_eq!(
        send(&mut nic, Function::Pf, &pf, None),
        TxOutcome::Dropped(TxDrop::Mtu)
    );
    // An MTU drop raises no miss event, even to an unknown MAC.
    let big_miss = frame(UNKNOWN, VF_MAC[0], 0x0800, 1515);
    assert_eq!(
        send(&mut nic, vf, &big_miss, None),
        TxOutcome::Dropped(TxDrop::Mtu)
    );
    assert_eq!(nic.counters(vf).misses, 0);
    assert_eq!(nic.pop_event(), None);
}

#[test]
fn max_frame_bounds_every_frame() {
    let mut nic = model();
    let max = nic.limits().max_frame;
    // A larger MTU than validation allows (config_mut is not validated):
    // MAX_FRAME still holds.
    nic.config_mut().vfs[0].mtu = 60_000;
    let vf = Function::Vf(0);
    let f = frame(NEAR, VF_MAC[0], 0x0800, max);
    let out = wire(send(&mut nic, vf, &f, None));
    check_outer(&out, &f, vni(5001), 0);
    for len in [max + 1, 65_536, 70_000] {
        let f = frame(NEAR, VF_MAC[0], 0x8100, len);
        assert_eq!(
            send(&mut nic, vf, &f, None),
            TxOutcome::Dropped(TxDrop::Mtu)
        );
    }
    let c = nic.counters(vf);
    assert_eq!((c.frames, c.drop_mtu, c.encapsulated), (4, 3, 1));
    let bytes = (max + max + 1 + 65_536 + 70_000) as u32;
    assert_eq!(c.bytes, bytes);
}

#[test]
fn outer_vlan_makes_a_54_byte_header() {
    let mut nic = model();
    nic.config_mut().vtep.vlan = Some(VlanTag { vid: 100, pcp: 5 });
    let inner = plain(NEAR, VF_MAC[0]);
    let out = wire(send(&mut nic, Function::Vf(0), &inner, None));
    assert_eq!(out.len(), 54 + inner.len());
    assert_eq!(&out[12..18], &[0x81, 0x00, 0xa0, 0x64, 0x08, 0x00]); // PCP 5, DEI 0, VID 100
    assert_eq!(&out[54..], &inner[..]);
    let o = check_outer(&out, &inner, vni(5001), 0);
    let tag = o.vlan.expect("tagged");
    assert_eq!(tag.vlan_id.value(), 100);
    assert_eq!(tag.pcp.value(), 5);
    assert!(!tag.drop_eligible_indicator);
    assert_eq!(o.ip.destination, [10, 0, 0, 2]);
}

#[test]
fn vtep_settings_reach_the_outer_headers() {
    let mut nic = model();
    {
        let v = &mut nic.config_mut().vtep;
        v.udp_port = 8472;
        v.ttl = 3;
        v.dont_fragment = false;
        v.src_port_range = PortRange { lo: 1000, hi: 1003 };
    }
    let inner = plain(NEAR, VF_MAC[0]);
    let o = outer(&wire(send(&mut nic, Function::Vf(0), &inner, None)));
    assert_eq!(o.udp.destination_port, 8472);
    assert_eq!(o.ip.time_to_live, 3);
    assert!(!o.ip.dont_fragment);
    assert_eq!(o.ip.header_checksum, o.ip.calc_header_checksum());
    // 0xa052 folded into [1000, 1003]: 1000 + ((0xa052 * 3 + 0xa052) >> 16)
    // = 1000 + (0xa052 * 4 >> 16) = 1000 + 2.
    assert_eq!(o.udp.source_port, 1002);
}

#[test]
fn ip_identification_counts_encapsulated_frames_only() {
    let mut nic = model();
    let enc = plain(NEAR, VF_MAC[0]);
    let ids = |nic: &mut TxModel, f: Function, frame: &[u8]| {
        send(nic, f, frame, None)
            .wire()
            .map(|w| outer(w).ip.identification)
    };
    assert_eq!(ids(&mut nic, Function::Vf(0), &enc), Some(0));
    // Pass-through, drops: no id used.
    send(&mut nic, Function::Vf(1), &plain(NEAR, VF_MAC[1]), None);
    send(&mut nic, Function::Vf(0), &plain(NEAR, UNKNOWN), None);
    send(&mut nic, Function::Vf(3), &plain(UNKNOWN, VF_MAC[3]), None);
    send(&mut nic, Function::Pf, &enc, Some(vni(1)));
    assert_eq!(nic.next_ip_id(), 1);
    // Shared by all functions.
    let pf = send(&mut nic, Function::Pf, &enc, Some(vni(5001)));
    assert_eq!(outer(pf.wire().expect("sent")).ip.identification, 1);
    assert_eq!(
        ids(&mut nic, Function::Vf(2), &plain(BROADCAST, VF_MAC[2])),
        Some(2)
    );
    // Wraps after 65536 frames.
    for _ in 3..=u16::MAX {
        send(&mut nic, Function::Vf(0), &enc, None);
    }
    assert_eq!(nic.next_ip_id(), 0);
    assert_eq!(ids(&mut nic, Function::Vf(0), &enc), Some(0));
    assert_eq!(ids(&mut nic, Function::Vf(0), &enc), Some(1));
}

#[test]
fn counters_count_every_frame_per_function() {
    let mut nic = model();
    send(&mut nic, Function::Vf(0), &plain(NEAR, VF_MAC[0]), None); // encapsulated
    send(&mut nic, Function::Vf(0), &plain(UNKNOWN, VF_MAC[0]), None); // miss, flooded
    send(&mut nic, Function::Vf(0), &[1, 2, 3], None); // runt
    send(&mut nic, Function::Vf(0), &plain(NEAR, VF_MAC[1]), None); // spoofed
    send(
        &mut nic,
        Function::Vf(0),
        &frame(NEAR, VF_MAC[0], 0x0800, 2000),
        None,
    ); // mtu
    assert_eq!(
        *nic.counters(Function::Vf(0)),
        FunctionCounters {
            frames: 5,
            bytes: 60 + 60 + 3 + 60 + 2000,
            encapsulated: 2,
            drop_runt: 1,
            drop_spoofed: 1,
            drop_mtu: 1,
            drop_no_vni: 0,
            drop_miss: 0,
            misses: 1,
            drop_offload_csum: 0,
            drop_offload_ip: 0,
            drop_offload_tso: 0,
            tso_segments: 0,
        }
    );
    for reason in [TxDrop::Runt, TxDrop::Spoofed, TxDrop::Mtu] {
        assert_eq!(nic.counters(Function::Vf(0)).drops(reason), 1);
    }
    // Nothing leaked into other functions.
    for f in [
        Function::Pf,
        Function::Vf(1),
        Function::Vf(2),
        Function::Vf(3),
        Function::Vf(99),
    ] {
        assert_eq!(*nic.counters(f), FunctionCounters::ZERO, "{f}");
    }
}

#[test]
fn functions_the_nic_lacks_are_errors() {
    let mut nic = model();
    let f = plain(NEAR, VF_MAC[0]);
    let e = nic.transmit(Function::Vf(4), &f, None);
    assert_eq!(
        e,
        Err(TxError::NoSuchFunction {
            function: Function::Vf(4),
            vfs: 4,
            build_vfs: 4
        })
    );
    assert!(nic.transmit(Function::Vf(usize::MAX), &f, None).is_err());
    // A VF the build has but the configuration does not.
    let mut config = config();
    config.vfs.truncate(2);
    let mut nic = model_with(config, 16);
    assert!(matches!(
        nic.transmit(Function::Vf(2), &f, None),
        Err(TxError::NoSuchFunction { vfs: 2, .. })
    ));
    // A VF added through config_mut beyond the build.
    let mut nic = model();
    let extra = nic.config().vfs[0];
    nic.config_mut().vfs.push(extra);
    assert!(matches!(
        nic.transmit(Function::Vf(4), &f, None),
        Err(TxError::NoSuchFunction {
            vfs: 5,
            build_vfs: 4,
            ..
        })
    ));
    assert_eq!(*nic.counters(Function::Vf(4)), FunctionCounters::ZERO);
}

#[test]
fn invalid_vtep_settings_are_errors_and_count_nothing() {
    let mut nic = model();
    nic.config_mut().vtep.ttl = 0;
    let f = plain(NEAR, VF_MAC[0]);
    assert_eq!(
        nic.transmit(Function::Vf(0), &f, None),
        Err(TxError::Config(ConfigError::ZeroTtl))
    );
    nic.config_mut().vtep.ttl = 64;
    nic.config_mut().vtep.vlan = Some(VlanTag { vid: 0xfff, pcp: 0 });
    assert_eq!(
        nic.transmit(Function::Vf(0), &f, None),
        Err(TxError::Config(ConfigError::ReservedVlanId))
    );
    assert_eq!(*nic.counters(Function::Vf(0)), FunctionCounters::ZERO);
    assert_eq!(nic.next_ip_id(), 0);
}

#[test]
fn new_refuses_an_invalid_config() {
    let mut c = config();
    c.vfs[0].vni = Some(vni(42));
    assert_eq!(
        TxModel::new(c, BuildLimits::default(), 16).err(),
        Some(ConfigError::VfWithoutVniRecord {
            vf: 0,
            vni: vni(42)
        })
    );
    let limits = BuildLimits {
        vfs: 3,
        ..BuildLimits::default()
    };
    assert!(matches!(
        TxModel::new(config(), limits, 16),
        Err(ConfigError::TooManyVfs { .. })
    ));
}

// ------------------------------------------------------------------- events

fn miss(nic: &mut TxModel, last: u8) {
    let mut dst = UNKNOWN;
    dst[5] = last;
    let out = send(nic, Function::Vf(0), &plain(dst, VF_MAC[0]), None);
    assert!(out.wire().is_some());
}

fn miss_event(last: u8) -> NicEvent {
    let mut mac = UNKNOWN;
    mac[5] = last;
    NicEvent::TxMiss {
        vni: vni(5001),
        mac: MacAddr(mac),
    }
}

fn drain(nic: &mut TxModel) -> Vec<NicEvent> {
    std::iter::from_fn(|| nic.pop_event()).collect()
}

#[test]
fn a_burst_to_one_mac_raises_one_event() {
    let mut nic = model();
    for _ in 0..10 {
        miss(&mut nic, 1);
    }
    assert_eq!(nic.counters(Function::Vf(0)).misses, 10);
    assert_eq!(nic.events_pending(), 1);
    assert_eq!(nic.peek_event(), Some(&miss_event(1)));
    assert_eq!(drain(&mut nic), vec![miss_event(1)]);
    // Once drained, the next miss is reported again.
    miss(&mut nic, 1);
    assert_eq!(drain(&mut nic), vec![miss_event(1)]);
}

#[test]
fn only_the_newest_event_merges() {
    let mut nic = model();
    for last in [1, 2, 1, 1, 2] {
        miss(&mut nic, last);
    }
    assert_eq!(
        drain(&mut nic),
        vec![miss_event(1), miss_event(2), miss_event(1), miss_event(2)]
    );
    // Same MAC, other VNI: another event.
    miss(&mut nic, 1);
    let mut f = plain(UNKNOWN, PF_MAC);
    f[5] = 1;
    send(&mut nic, Function::Pf, &f, Some(vni(5002)));
    assert_eq!(
        drain(&mut nic),
        vec![
            miss_event(1),
            NicEvent::TxMiss {
                vni: vni(5002),
                mac: MacAddr(f[..6].try_into().expect("6 bytes"))
            }
        ]
    );
}

#[test]
fn a_full_queue_loses_events_but_still_merges() {
    let mut nic = model_with(config(), 2);
    miss(&mut nic, 1);
    miss(&mut nic, 2);
    miss(&mut nic, 3); // lost
    assert_eq!(nic.events_lost(), 1);
    miss(&mut nic, 2); // the newest queued: merged, not lost
    assert_eq!(nic.events_lost(), 1);
    miss(&mut nic, 1); // lost
    assert_eq!(nic.events_lost(), 2);
    assert_eq!(nic.pop_event(), Some(miss_event(1)));
    miss(&mut nic, 4); // room again
    assert_eq!(drain(&mut nic), vec![miss_event(2), miss_event(4)]);
    assert_eq!(nic.events_lost(), 2);
    // Frames never wait for the host: all were sent.
    assert_eq!(nic.counters(Function::Vf(0)).encapsulated, 6);
}

#[test]
fn a_queue_of_no_events_loses_them_all() {
    let mut nic = model_with(config(), 0);
    miss(&mut nic, 1);
    miss(&mut nic, 1);
    assert_eq!(nic.events_lost(), 2);
    assert_eq!(nic.pop_event(), None);
}

#[test]
fn function_numbers() {
    assert_eq!(Function::Pf.index(), 0);
    assert_eq!(Function::Vf(0).index(), 1);
    assert_eq!(Function::Vf(3).index(), 4);
    for i in 0..10 {
        assert_eq!(Function::from_index(i).index(), i);
    }
    assert_eq!(Function::Pf.to_string(), "PF");
    assert_eq!(Function::Vf(2).to_string(), "VF2");
}

// ------------------------------------------------------------ properties

/// Frames of every kind: short random ones, long random ones, and frames
/// from the function's own MAC to a chosen destination (so that they reach
/// the lookup) with random content after the header.
fn arb_frame() -> impl Strategy<Value = (usize, Vec<u8>)> {
    let dst = prop_oneof![
        Just(NEAR),
        Just(FAR),
        Just(UNKNOWN),
        Just(BROADCAST),
        any::<[u8; 6]>()
    ];
    let header = (
        0usize..5,
        dst,
        prop_oneof![Just(0x0800u16), Just(0x8100), any::<u16>()],
    );
    prop_oneof![
        3 => (0usize..5, vec(any::<u8>(), 0..100)),
        1 => (0usize..5, vec(any::<u8>(), 0..70_000)),
        6 => (header, vec(any::<u8>(), 0..2000)).prop_map(|((f, dst, e), tail)| {
            let src = if f == 0 { PF_MAC } else { VF_MAC[f - 1] };
            let mut frame = frame(dst, src, e, 14);
            frame.extend(tail);
            (f, frame)
        }),
    ]
}

fn arb_tag() -> impl Strategy<Value = Option<Vni>> {
    prop_oneof![
        Just(None),
        Just(Some(vni(5001))),
        Just(Some(vni(5002))),
        Just(Some(vni(5003))),
        (0..=Vni::MAX).prop_map(|n| Some(vni(n))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_frame_gives_an_outcome_and_consistent_counters(
        frames in vec((arb_frame(), arb_tag()), 1..8),
    ) {
        let mut nic = model();
        let mut encapsulated = 0u16;
        for ((function, frame), tag) in frames {
            let f = Function::from_index(function);
            let before = *nic.counters(f);
            let out = nic.transmit(f, &frame, tag);
            prop_assert!(out.is_ok(), "{:?}", out);
            let after = *nic.counters(f);
            prop_assert_eq!(after.frames, before.frames + 1);
            prop_assert_eq!(after.bytes, before.bytes.wrapping_add(frame.len() as u32));
            match out.ok() {
                Some(TxOutcome::Dropped(reason)) => {
                    prop_assert_eq!(after.drops(reason), before.drops(reason) + 1);
                    prop_assert_eq!(after.encapsulated, before.encapsulated);
                }
                Some(TxOutcome::Wire(w)) if after.encapsulated > before.encapsulated => {
                    let o = outer(&w);
                    prop_assert_eq!(&o.inner, &frame);
                    prop_assert_eq!(o.ip.identification, encapsulated);
                    prop_assert_eq!(o.ip.header_checksum, o.ip.calc_header_checksum());
                    prop_assert!(o.udp.source_port >= 49152);
                    encapsulated += 1;
                }
                Some(TxOutcome::Wire(w)) => prop_assert_eq!(w, frame),
                Some(TxOutcome::Segments(s)) => {
                    prop_assert!(false, "{} segments without a TSO request", s.len())
                }
                None => unreachable!(),
            }
        }
        for i in 0..5 {
            let c = nic.counters(Function::from_index(i));
            let dropped = c.drop_runt + c.drop_spoofed + c.drop_mtu + c.drop_no_vni + c.drop_miss;
            prop_assert!(dropped + c.encapsulated <= c.frames);
            prop_assert!(c.drop_miss <= c.misses);
        }
        prop_assert_eq!(nic.next_ip_id(), encapsulated);
    }

    #[test]
    fn flow_hash_never_panics(frame in vec(any::<u8>(), 0..200)) {
        let _ = flow_hash(&frame);
    }

    #[test]
    fn port_is_always_in_range(h in any::<u16>(), a in any::<u16>(), b in any::<u16>()) {
        let (lo, hi) = (a.min(b), a.max(b));
        let port = udp_src_port(h, lo, hi);
        prop_assert!((lo..=hi).contains(&port));
        // The same scaling in 64-bit arithmetic.
        let wide = u64::from(lo) + ((u64::from(h) * (u64::from(hi) - u64::from(lo) + 1)) >> 16);
        prop_assert_eq!(u64::from(port), wide);
    }

    #[test]
    fn same_five_tuple_same_port(
        payload_a in vec(any::<u8>(), 0..300),
        payload_b in vec(any::<u8>(), 0..300),
        macs in any::<([u8; 6], [u8; 6], [u8; 6], [u8; 6])>(),
        ttls in any::<(u8, u8)>(),
        src in any::<[u8; 4]>(),
        dst in any::<[u8; 4]>(),
        ports in any::<(u16, u16)>(),
        seqs in any::<(u32, u32)>(),
        udp in any::<bool>(),
    ) {
        let build = |smac, dmac, ttl, seq, payload: &[u8]| {
            let b = PacketBuilder::ethernet2(smac, dmac).ipv4(src, dst, ttl);
            let mut out = Vec::new();
            let written = if udp {
                b.udp(ports.0, ports.1).write(&mut out, payload)
            } else {
                b.tcp(ports.0, ports.1, seq, 1000).write(&mut out, payload)
            };
            written.expect("etherparse builds the frame");
            out
        };
        let a = build(macs.0, macs.1, ttls.0, seqs.0, &payload_a);
        let b = build(macs.2, macs.3, ttls.1, seqs.1, &payload_b);
        prop_assert_eq!(flow_hash(&a), flow_hash(&b));
        let proto = if udp { 17 } else { 6 };
        let w = |x: [u8; 4], i: usize| u16::from_be_bytes([x[i], x[i + 1]]);
        prop_assert_eq!(
            flow_hash(&a),
            fold([w(src, 0), w(src, 2), w(dst, 0), w(dst, 2), proto, ports.0, ports.1])
        );
    }

    #[test]
    fn fragments_of_a_flow_hash_alike(
        first_tail in vec(any::<u8>(), 4..100),
        later_tail in vec(any::<u8>(), 0..100),
        offset in 1u16..0x2000,
        more in any::<bool>(),
        df in any::<bool>(),
    ) {
        let df = if df { 0x4000 } else { 0 };
        // First fragment: MF set, offset 0, carries the L4 header.
        let mut first = tcp_frame(df | 0x2000);
        first.truncate(34);
        first.extend_from_slice(&first_tail);
        // A later one: its offset, maybe MF, and bytes that are no ports.
        let mut later = tcp_frame(df | if more { 0x2000 } else { 0 } | offset);
        later.truncate(34);
        later.extend_from_slice(&later_tail);
        prop_assert_eq!(flow_hash(&first), flow_hash(&later));
        prop_assert_eq!(flow_hash(&first), fold([0x0a00, 1, 0x0a00, 2, 6, 0, 0]));
    }
}

/// etherparse's outer UDP checksum of a wire frame against the field's
/// (the field, and whether it verifies).
fn outer_udp_checksum_verifies(frame: &[u8]) -> (u16, bool) {
    let h = etherparse::PacketHeaders::from_ethernet_slice(frame).expect("outer headers");
    let Some(etherparse::NetHeaders::Ipv4(ip, _)) = &h.net else {
        panic!("no outer IPv4 header");
    };
    let Some(etherparse::TransportHeader::Udp(udp)) = &h.transport else {
        panic!("no outer UDP header");
    };
    let calc = udp
        .calc_checksum_ipv4(ip, h.payload.slice())
        .expect("UDP length fits");
    (udp.checksum, udp.checksum == calc)
}

#[test]
fn udp_checksum_option_fills_a_verifying_outer_checksum() {
    let text = CFG.replace(
        "gateway_mac = \"02:00:0a:00:00:fe\"\n",
        "gateway_mac = \"02:00:0a:00:00:fe\"\nudp_checksum = true\n",
    );
    let mut nic = model_with(NicConfig::from_toml(&text).expect("parses"), 16);
    assert!(nic.config_mut().vtep.udp_checksum);
    // Off (the default), the field is 0.
    let inner = plain(NEAR, VF_MAC[0]);
    let off = wire(send(&mut model(), Function::Vf(0), &inner, None));
    assert_eq!(outer_udp_checksum_verifies(&off).0, 0);
    // On: plain frames, untagged and tagged outer headers, odd lengths.
    for (tag, len) in [(None, 60), (Some(100), 61), (None, 1499), (Some(7), 15)] {
        nic.config_mut().vtep.vlan = tag.map(|vid| VlanTag { vid, pcp: 1 });
        let f = frame(NEAR, VF_MAC[0], 0x88b5, len);
        let out = wire(send(&mut nic, Function::Vf(0), &f, None));
        let (field, ok) = outer_udp_checksum_verifies(&out);
        assert!(field != 0 && ok, "{tag:?} {len}: {field:#06x}");
    }
    // After TSO: every segment's outer checksum covers its own inner frame.
    nic.config_mut().vtep.vlan = None;
    let payload: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
    let mut tcp = Vec::new();
    PacketBuilder::ethernet2(VF_MAC[0], NEAR)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(1234, 80, 1000, 8192)
        .write(&mut tcp, &payload)
        .unwrap();
    let out = nic
        .transmit_with(
            Function::Vf(0),
            &tcp,
            None,
            &OffloadRequest::segmentation(300),
        )
        .unwrap();
    let TxOutcome::Segments(segs) = out else {
        panic!("not segmented: {out:?}");
    };
    assert_eq!(segs.len(), 4);
    for (k, seg) in segs.iter().enumerate() {
        let (field, ok) = outer_udp_checksum_verifies(seg);
        assert!(field != 0 && ok, "segment {k}: {field:#06x}");
    }
}
