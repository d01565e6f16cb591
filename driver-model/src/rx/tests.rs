use super::*;

use etherparse::{PacketBuilder, UdpHeaderSlice, VlanId};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::nic_config::{MapEntry, VfConfig, VlanTag};
use crate::vxlan::{encapsulate, EncapParams, OuterVlan};

/// VF0 and VF3 in VNI 5001, VF1 a plain VF, VF2 in 5002. One remote VM in
/// 5001 behind VTEP 10.0.0.2.
const CFG: &str = r#"
[vtep]
mac = "02:00:0a:00:00:01"
ip = "10.0.0.1"
netmask = "255.255.255.0"
gateway_mac = "02:00:0a:00:00:fe"

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
vni = 5001

[[vni]]
vni = 5001
multicast_group = "239.1.1.1"
gateway_ip = "10.0.1.254"
gateway_mac = "02:00:0a:00:01:fe"

[[vni]]
vni = 5002
multicast_group = "239.1.1.2"
gateway_ip = "10.0.1.254"
gateway_mac = "02:00:0a:00:01:fe"

[[entry]]
vni = 5001
mac = "02:00:00:00:02:00"
vtep_ip = "10.0.0.2"
vtep_mac = "02:00:0a:00:00:02"
"#;

const VTEP_MAC: [u8; 6] = [0x02, 0, 0x0a, 0, 0, 0x01];
const VTEP_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const REMOTE_VTEP_MAC: [u8; 6] = [0x02, 0, 0x0a, 0, 0, 0x02];
const REMOTE_VTEP_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const ROUTER_MAC: [u8; 6] = [0x02, 0, 0x0a, 0, 0, 0xfe];
const GROUP_5001: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);
const GROUP_5002: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 2);
/// The remote VM in the table.
const REMOTE_VM: [u8; 6] = [0x02, 0, 0, 0, 0x02, 0x00];
/// A VM the table does not know.
const NEW_VM: [u8; 6] = [0x02, 0, 0, 0, 0x09, 0x09];
const VF_MAC: [[u8; 6]; 4] = [
    [0x02, 0, 0, 0, 0x01, 0x00],
    [0x02, 0, 0, 0, 0x01, 0x01],
    [0x02, 0, 0, 0, 0x01, 0x02],
    [0x02, 0, 0, 0, 0x01, 0x03],
];
const BROADCAST: [u8; 6] = [0xff; 6];

fn config() -> NicConfig {
    NicConfig::from_toml(CFG).expect("test config")
}

fn model_with(config: NicConfig, event_capacity: usize) -> RxModel {
    RxModel::new(config, BuildLimits::default(), event_capacity).expect("valid config")
}

fn model() -> RxModel {
    model_with(config(), 16)
}

/// A 60-byte non-IP inner frame.
fn plain(dst: [u8; 6], src: [u8; 6]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x88, 0xb5]);
    f.resize(60, 0x5a);
    f
}

/// An inner IPv4/UDP frame with a correct (non-zero) UDP checksum.
fn inner_udp(dst: [u8; 6], src: [u8; 6], payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(src, dst)
        .ipv4([10, 1, 0, 1], [10, 1, 0, 2], 64)
        .udp(1234, 5678);
    let mut f = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut f, payload).expect("build");
    f
}

/// An inner IPv4/TCP frame.
fn inner_tcp(dst: [u8; 6], src: [u8; 6], payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(src, dst)
        .ipv4([10, 1, 0, 1], [10, 1, 0, 2], 64)
        .tcp(1234, 80, 1000, 4096);
    let mut f = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut f, payload).expect("build");
    f
}

/// Outer headers from the remote VTEP to the local one, VNI 5001.
fn params() -> EncapParams {
    EncapParams::new(REMOTE_VTEP_MAC, VTEP_MAC, REMOTE_VTEP_IP, VTEP_IP, 5001).expect("params")
}

fn encap(inner: &[u8], p: &EncapParams) -> Vec<u8> {
    encapsulate(inner, p).expect("encapsulate")
}

/// A valid overlay frame: the remote VM to VF0.
fn valid() -> Vec<u8> {
    encap(&plain(VF_MAC[0], REMOTE_VM), &params())
}

/// Recomputes the outer IPv4 header checksum at `l3` (with etherparse).
fn fix_ip(frame: &mut [u8], l3: usize) {
    frame[l3 + 10] = 0;
    frame[l3 + 11] = 0;
    let header = Ipv4HeaderSlice::from_slice(&frame[l3..])
        .expect("IPv4")
        .to_header();
    let c = header.calc_header_checksum().to_be_bytes();
    frame[l3 + 10] = c[0];
    frame[l3 + 11] = c[1];
}

fn delivered(outcome: RxOutcome) -> Vec<RxDelivery> {
    match outcome {
        RxOutcome::Delivered(d) => d,
        RxOutcome::Dropped(r) => panic!("dropped: {r}"),
    }
}

fn functions(outcome: &RxOutcome) -> Vec<Function> {
    outcome.deliveries().iter().map(|d| d.function).collect()
}

fn drain(nic: &mut RxModel) -> Vec<NicEvent> {
    std::iter::from_fn(|| nic.pop_event()).collect()
}

fn vni(n: u32) -> Vni {
    Vni::new(n).expect("VNI")
}

// ------------------------------------------------------------ ones' sums

#[test]
fn ones_complement_sum_is_the_spec_definition() {
    // RFC 1071's example: 0001 f203 f4f5 f6f7 -> ddf2.
    assert_eq!(
        ones_complement_sum(&[], &[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
        0xddf2
    );
    // Words and bytes add alike.
    assert_eq!(
        ones_complement_sum(&[0x0001, 0xf203], &[0xf4, 0xf5, 0xf6, 0xf7]),
        0xddf2
    );
    // An odd trailing byte is the high byte of a word.
    assert_eq!(ones_complement_sum(&[], &[0xab]), 0xab00);
    assert_eq!(ones_complement_sum(&[], &[0x00, 0x01, 0xab]), 0xab01);
    // Carries fold back, repeatedly.
    assert_eq!(ones_complement_sum(&[], &[0xff, 0xff, 0x00, 0x01]), 0x0001);
    assert_eq!(ones_complement_sum(&[0xffff; 3], &[]), 0xffff);
    assert_eq!(ones_complement_sum(&[], &[]), 0);
    // 50000 words 0xffff fold to 0xffff; the odd byte adds 0xff00.
    assert_eq!(ones_complement_sum(&[], &vec![0xff; 100_000]), 0xffff);
    assert_eq!(ones_complement_sum(&[], &vec![0xff; 100_001]), 0xff00);
}

// ------------------------------------------------------------ names

#[test]
fn drop_reasons_are_named_in_register_order() {
    let names: Vec<&str> = RxDrop::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(
        names,
        [
            "truncated",
            "ip_length",
            "ip_checksum",
            "fragment",
            "udp_length",
            "udp_checksum",
            "dst_mac",
            "vxlan_flags",
            "no_vni",
            "dst_ip",
            "vlan"
        ]
    );
    for (i, r) in RxDrop::ALL.iter().enumerate() {
        assert_eq!(r.index(), i);
        assert_eq!(r.to_string(), r.name());
    }
    assert_eq!(
        [
            ChecksumStatus::None,
            ChecksumStatus::Good,
            ChecksumStatus::Bad
        ]
        .map(|s| s.code()),
        [0, 1, 2]
    );
    assert_eq!(
        RxMeta::default(),
        RxMeta {
            decapsulated: false,
            vni: 0,
            src_vtep_ip: Ipv4Addr::UNSPECIFIED,
            vlan: None,
            ip_checksum: ChecksumStatus::None,
            l4_checksum: ChecksumStatus::None,
            learn: false,
        }
    );
}

// ------------------------------------------------------------ acceptance

#[test]
fn unicast_to_a_vf_of_the_vni_goes_to_that_vf_only() {
    let mut nic = model();
    let inner = plain(VF_MAC[0], REMOTE_VM);
    let frame = encap(&inner, &params());
    let d = delivered(nic.receive(&frame));
    assert_eq!(
        d,
        vec![RxDelivery {
            function: Function::Vf(0),
            frame: inner.clone(),
            meta: RxMeta {
                decapsulated: true,
                vni: 5001,
                src_vtep_ip: REMOTE_VTEP_IP,
                vlan: None,
                ip_checksum: ChecksumStatus::None,
                l4_checksum: ChecksumStatus::None,
                learn: false,
            },
        }]
    );
    let c = nic.counters();
    assert_eq!((c.wire_frames, c.wire_bytes), (1, frame.len() as u32));
    assert_eq!((c.decapsulated, c.learn, c.non_overlay), (1, 0, 0));
    assert_eq!(
        *nic.function_counters(Function::Vf(0)),
        RxFunctionCounters {
            frames: 1,
            bytes: 60,
            decapsulated: 1,
            drop_inner_checksum: 0
        }
    );
    assert_eq!(
        *nic.function_counters(Function::Pf),
        RxFunctionCounters::ZERO
    );
    assert_eq!(nic.events_pending(), 0);
}

#[test]
fn unicast_to_a_mac_outside_the_vni_goes_to_the_pf() {
    let mut nic = model();
    // VF2 is in VNI 5002, VF1 has no overlay, and nobody has this MAC.
    for dst in [VF_MAC[2], VF_MAC[1], [0x02, 0, 0, 0, 0x07, 0x07]] {
        let out = nic.receive(&valid_to(dst));
        assert_eq!(functions(&out), vec![Function::Pf], "{dst:?}");
        assert!(out.deliveries()[0].meta.decapsulated);
    }
    assert_eq!(nic.function_counters(Function::Pf).decapsulated, 3);
}

fn valid_to(dst: [u8; 6]) -> Vec<u8> {
    encap(&plain(dst, REMOTE_VM), &params())
}

#[test]
fn the_lowest_vf_with_the_mac_wins() {
    let mut config = config();
    config.vfs[3].mac = MacAddr(VF_MAC[0]);
    let mut nic = model_with(config, 16);
    assert_eq!(
        functions(&nic.receive(&valid_to(VF_MAC[0]))),
        vec![Function::Vf(0)]
    );
}

#[test]
fn broadcast_and_multicast_reach_every_function_of_the_vni() {
    let mut nic = model();
    let every = vec![Function::Pf, Function::Vf(0), Function::Vf(3)];
    // Inner broadcast and multicast to the VTEP's unicast address.
    assert_eq!(functions(&nic.receive(&valid_to(BROADCAST))), every);
    let mcast = [0x01, 0x00, 0x5e, 0, 0, 1];
    assert_eq!(functions(&nic.receive(&valid_to(mcast))), every);
    // Outer multicast (the VNI's group) with a unicast inner destination,
    // even one that is a VF's.
    let mut p = params();
    p.remote_ip = GROUP_5001;
    p.remote_mac = [0x01, 0x00, 0x5e, 0x01, 0x01, 0x01];
    for dst in [VF_MAC[0], NEW_VM] {
        let out = nic.receive(&encap(&plain(dst, REMOTE_VM), &p));
        assert_eq!(functions(&out), every);
        for d in out.deliveries() {
            assert_eq!(d.frame, plain(dst, REMOTE_VM));
            assert_eq!(d.meta.vni, 5001);
        }
    }
    // VNI 5002: the PF and VF2 only.
    let mut config = config();
    config.entries.push(MapEntry {
        vni: vni(5002),
        mac: MacAddr(REMOTE_VM),
        vtep_ip: REMOTE_VTEP_IP,
        vtep_mac: MacAddr(REMOTE_VTEP_MAC),
    });
    let mut nic = model_with(config, 16);
    let mut p = params();
    p.vni = vni(5002);
    let out = nic.receive(&encap(&plain(BROADCAST, REMOTE_VM), &p));
    assert_eq!(functions(&out), vec![Function::Pf, Function::Vf(2)]);
    assert_eq!(nic.function_counters(Function::Vf(0)).frames, 0);
}

#[test]
fn vfs_beyond_the_build_never_receive() {
    let mut nic = RxModel::new(config(), BuildLimits::default(), 16).expect("valid");
    nic.config_mut().vfs.push(VfConfig {
        mac: MacAddr([0x02, 0, 0, 0, 0x01, 0x04]),
        vni: Some(vni(5001)),
        mtu: 1500,
    });
    let out = nic.receive(&valid_to(BROADCAST));
    assert_eq!(
        functions(&out),
        vec![Function::Pf, Function::Vf(0), Function::Vf(3)]
    );
    let out = nic.receive(&valid_to([0x02, 0, 0, 0, 0x01, 0x04]));
    assert_eq!(functions(&out), vec![Function::Pf]);
}

// ------------------------------------------------------------ learning

#[test]
fn an_unknown_source_goes_to_the_pf_only_and_is_learned() {
    let mut nic = model();
    // Even a unicast to a VF, even a broadcast.
    for dst in [VF_MAC[0], BROADCAST] {
        let inner = plain(dst, NEW_VM);
        let out = nic.receive(&encap(&inner, &params()));
        let d = delivered(out);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].function, Function::Pf);
        assert_eq!(d[0].frame, inner);
        assert!(d[0].meta.learn && d[0].meta.decapsulated);
        assert_eq!(d[0].meta.src_vtep_ip, REMOTE_VTEP_IP);
    }
    let c = nic.counters();
    assert_eq!((c.decapsulated, c.learn), (2, 2));
    // Two frames from one source to two destinations: one (merged) event.
    assert_eq!(
        drain(&mut nic),
        vec![NicEvent::Learn {
            vni: vni(5001),
            mac: MacAddr(NEW_VM),
            vtep_ip: REMOTE_VTEP_IP,
            vtep_mac: MacAddr(REMOTE_VTEP_MAC),
        }]
    );
    // Once the host programs the entry, the source is known.
    nic.config_mut().entries.push(MapEntry {
        vni: vni(5001),
        mac: MacAddr(NEW_VM),
        vtep_ip: REMOTE_VTEP_IP,
        vtep_mac: MacAddr(REMOTE_VTEP_MAC),
    });
    let out = nic.receive(&encap(&plain(VF_MAC[0], NEW_VM), &params()));
    assert_eq!(functions(&out), vec![Function::Vf(0)]);
    assert!(!out.deliveries()[0].meta.learn);
    assert_eq!(nic.events_pending(), 0);
    assert_eq!(nic.counters().learn, 2);
}

#[test]
fn a_moved_vm_is_learned_again() {
    let mut nic = model();
    let mut p = params();
    p.local_ip = Ipv4Addr::new(10, 0, 0, 3);
    p.local_mac = [0x02, 0, 0x0a, 0, 0, 0x03];
    let out = nic.receive(&encap(&plain(VF_MAC[0], REMOTE_VM), &p));
    assert_eq!(functions(&out), vec![Function::Pf]);
    assert!(out.deliveries()[0].meta.learn);
    assert_eq!(
        drain(&mut nic),
        vec![NicEvent::Learn {
            vni: vni(5001),
            mac: MacAddr(REMOTE_VM),
            vtep_ip: Ipv4Addr::new(10, 0, 0, 3),
            vtep_mac: MacAddr([0x02, 0, 0x0a, 0, 0, 0x03]),
        }]
    );
    // The same VM in another VNI is another key: unknown there.
    let mut p = params();
    p.vni = vni(5002);
    let out = nic.receive(&encap(&plain(VF_MAC[2], REMOTE_VM), &p));
    assert_eq!(functions(&out), vec![Function::Pf]);
    assert!(matches!(
        nic.pop_event(),
        Some(NicEvent::Learn { vni: v, .. }) if v == vni(5002)
    ));
}

#[test]
fn the_source_mac_check_is_optional() {
    // The remote VTEP behind a router: its frames carry the router's MAC.
    let mut p = params();
    p.local_mac = ROUTER_MAC;
    let frame = encap(&plain(VF_MAC[0], REMOTE_VM), &p);
    let mut nic = model();
    assert_eq!(functions(&nic.receive(&frame)), vec![Function::Vf(0)]);
    assert_eq!(nic.events_pending(), 0);

    let mut config = config();
    config.rx.check_source_mac = true;
    let mut nic = model_with(config, 16);
    let out = nic.receive(&frame);
    assert_eq!(functions(&out), vec![Function::Pf]);
    assert!(out.deliveries()[0].meta.learn);
    assert_eq!(
        nic.pop_event(),
        Some(NicEvent::Learn {
            vni: vni(5001),
            mac: MacAddr(REMOTE_VM),
            vtep_ip: REMOTE_VTEP_IP,
            vtep_mac: MacAddr(ROUTER_MAC),
        })
    );
    // With the entry's own MAC the source is known.
    assert_eq!(functions(&nic.receive(&valid())), vec![Function::Vf(0)]);
}

fn learn_from(nic: &mut RxModel, last: u8) {
    let mut src = NEW_VM;
    src[5] = last;
    let out = nic.receive(&encap(&plain(VF_MAC[0], src), &params()));
    assert_eq!(functions(&out), vec![Function::Pf]);
}

fn learn_event(last: u8) -> NicEvent {
    let mut mac = NEW_VM;
    mac[5] = last;
    NicEvent::Learn {
        vni: vni(5001),
        mac: MacAddr(mac),
        vtep_ip: REMOTE_VTEP_IP,
        vtep_mac: MacAddr(REMOTE_VTEP_MAC),
    }
}

#[test]
fn learn_events_merge_with_the_newest_and_are_lost_when_full() {
    let mut nic = model_with(config(), 2);
    for last in [1, 1, 2, 1] {
        learn_from(&mut nic, last);
    }
    assert_eq!(nic.events_lost(), 1); // the last 1 found the queue full
    learn_from(&mut nic, 2); // the newest queued: merged, not lost
    assert_eq!(nic.events_lost(), 1);
    learn_from(&mut nic, 3); // lost
    assert_eq!(nic.events_lost(), 2);
    assert_eq!(nic.peek_event(), Some(&learn_event(1)));
    assert_eq!(nic.events_pending(), 2);
    assert_eq!(drain(&mut nic), vec![learn_event(1), learn_event(2)]);
    learn_from(&mut nic, 3);
    learn_from(&mut nic, 3);
    assert_eq!(drain(&mut nic), vec![learn_event(3)]);
    // Frames never wait for the host: all were counted and delivered.
    assert_eq!(nic.counters().learn, 8);
    assert_eq!(nic.function_counters(Function::Pf).frames, 8);

    let mut nic = model_with(config(), 0);
    learn_from(&mut nic, 1);
    learn_from(&mut nic, 1);
    assert_eq!((nic.events_lost(), nic.events_pending()), (2, 0));
}

// ------------------------------------------------------------ inner checksums

#[test]
fn good_inner_checksums_are_reported() {
    let mut nic = model();
    for inner in [
        inner_udp(VF_MAC[0], REMOTE_VM, b"hello, odd"),
        inner_tcp(VF_MAC[0], REMOTE_VM, b"hello, odd!"),
    ] {
        let d = delivered(nic.receive(&encap(&inner, &params())));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].function, Function::Vf(0));
        assert_eq!(d[0].meta.ip_checksum, ChecksumStatus::Good);
        assert_eq!(d[0].meta.l4_checksum, ChecksumStatus::Good);
        assert_eq!(d[0].frame, inner);
    }
}

#[test]
fn a_udp_checksum_of_zero_is_not_checked() {
    let mut nic = model();
    let mut inner = inner_udp(VF_MAC[0], REMOTE_VM, b"payload");
    inner[14 + 20 + 6] = 0;
    inner[14 + 20 + 7] = 0;
    let d = delivered(nic.receive(&encap(&inner, &params())));
    assert_eq!(d[0].meta.ip_checksum, ChecksumStatus::Good);
    assert_eq!(d[0].meta.l4_checksum, ChecksumStatus::None);
}

#[test]
fn ethernet_padding_is_not_summed() {
    let mut nic = model();
    let mut inner = inner_udp(VF_MAC[0], REMOTE_VM, b"x");
    assert_eq!(inner.len(), 43);
    inner.resize(60, 0xa5);
    let d = delivered(nic.receive(&encap(&inner, &params())));
    assert_eq!(d[0].meta.ip_checksum, ChecksumStatus::Good);
    assert_eq!(d[0].meta.l4_checksum, ChecksumStatus::Good);
    assert_eq!(d[0].frame.len(), 60);
}

#[test]
fn an_inner_vlan_tag_is_skipped() {
    let b = PacketBuilder::ethernet2(REMOTE_VM, VF_MAC[0])
        .single_vlan(VlanId::try_new(7).expect("vid"))
        .ipv4([10, 1, 0, 1], [10, 1, 0, 2], 64)
        .udp(1, 2);
    let mut inner = Vec::new();
    b.write(&mut inner, b"tagged").expect("build");
    let mut nic = model();
    let d = delivered(nic.receive(&encap(&inner, &params())));
    assert_eq!(d[0].meta.ip_checksum, ChecksumStatus::Good);
    assert_eq!(d[0].meta.l4_checksum, ChecksumStatus::Good);
    // Broken payload: only L4 is bad (and VF0 loses its copy).
    let n = inner.len();
    inner[n - 1] ^= 0xff;
    let out = nic.receive(&encap(&inner, &params()));
    assert_eq!(out, RxOutcome::Delivered(vec![]));
}

#[test]
fn inner_headers_not_checked_give_none() {
    let mut nic = model();
    let status = |nic: &mut RxModel, inner: &[u8]| {
        let d = delivered(nic.receive(&encap(inner, &params())));
        (d[0].meta.ip_checksum, d[0].meta.l4_checksum)
    };
    use ChecksumStatus::{Good, None};
    let udp = inner_udp(VF_MAC[0], REMOTE_VM, b"12345678");
    // Not IPv4.
    assert_eq!(status(&mut nic, &plain(VF_MAC[0], REMOTE_VM)), (None, None));
    // Too short for the IPv4 header.
    assert_eq!(status(&mut nic, &udp[..14 + 19]), (None, None));
    // Version 6 in an IPv4 ethertype; IHL 4.
    let mut f = udp.clone();
    f[14] = 0x65;
    assert_eq!(status(&mut nic, &f), (None, None));
    let mut f = udp.clone();
    f[14] = 0x44;
    assert_eq!(status(&mut nic, &f), (None, None));
    // ICMP: header checked, L4 not.
    let mut f = udp.clone();
    f[14 + 9] = 1;
    fix_ip(&mut f, 14);
    assert_eq!(status(&mut nic, &f), (Good, None));
    // A fragment (MF, or an offset).
    for flags in [0x20, 0x00] {
        let mut f = udp.clone();
        f[14 + 6] = flags;
        f[14 + 7] = if flags == 0 { 1 } else { 0 };
        fix_ip(&mut f, 14);
        assert_eq!(status(&mut nic, &f), (Good, None));
    }
    // Total length beyond the frame, or shorter than IP + 8.
    let mut f = udp.clone();
    f.truncate(f.len() - 1);
    assert_eq!(status(&mut nic, &f), (Good, None));
    let mut f = udp.clone();
    f[14 + 3] = 27;
    fix_ip(&mut f, 14);
    assert_eq!(status(&mut nic, &f), (Good, None));
}

#[test]
fn a_bad_inner_checksum_keeps_the_frame_from_vfs() {
    let udp = inner_udp(BROADCAST, REMOTE_VM, b"payload");
    let tcp = inner_tcp(BROADCAST, REMOTE_VM, b"payload");
    let mut bad_ip = udp.clone();
    bad_ip[14 + 8] ^= 1; // TTL: not in the pseudo-header
    let mut bad_udp = udp.clone();
    *bad_udp.last_mut().expect("payload") ^= 1;
    let mut bad_tcp = tcp.clone();
    *bad_tcp.last_mut().expect("payload") ^= 1;
    use ChecksumStatus::{Bad, Good};
    for (inner, ip, l4) in [
        (bad_ip, Bad, Good),
        (bad_udp, Good, Bad),
        (bad_tcp, Good, Bad),
    ] {
        let mut nic = model();
        // Broadcast: the PF gets it flagged; VF0 and VF3 do not.
        let d = delivered(nic.receive(&encap(&inner, &params())));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].function, Function::Pf);
        assert_eq!((d[0].meta.ip_checksum, d[0].meta.l4_checksum), (ip, l4));
        for vf in [0, 3] {
            let c = nic.function_counters(Function::Vf(vf));
            assert_eq!((c.frames, c.drop_inner_checksum), (0, 1));
        }
        // Unicast to VF0: nowhere to go.
        let mut to_vf = inner.clone();
        to_vf[..6].copy_from_slice(&VF_MAC[0]);
        assert_eq!(
            nic.receive(&encap(&to_vf, &params())),
            RxOutcome::Delivered(vec![])
        );
        let c = nic.function_counters(Function::Vf(0));
        assert_eq!((c.frames, c.drop_inner_checksum), (0, 2));
        // Unicast to nobody: the PF, flagged.
        let mut to_pf = inner.clone();
        to_pf[..6].copy_from_slice(&[0x02, 0, 0, 0, 0x07, 0x07]);
        let d = delivered(nic.receive(&encap(&to_pf, &params())));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].function, Function::Pf);
        // Every frame was accepted; none dropped.
        let c = nic.counters();
        assert_eq!((c.decapsulated, c.learn), (3, 0));
        assert!(RxDrop::ALL.iter().all(|r| c.drops(*r) == 0));
        assert_eq!(nic.function_counters(Function::Pf).frames, 2);
        assert_eq!(nic.function_counters(Function::Pf).drop_inner_checksum, 0);
    }
}

// ------------------------------------------------------------ non-overlay

#[test]
fn non_overlay_frames_go_to_the_pf_untouched() {
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&VF_MAC[0]);
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.resize(60, 0);

    let mut ipv6 = Vec::new();
    PacketBuilder::ethernet2(REMOTE_VTEP_MAC, VTEP_MAC)
        .ipv6([1; 16], [2; 16], 64)
        .udp(1, 4789)
        .write(&mut ipv6, &[0; 30])
        .expect("build");

    let mut tcp = Vec::new();
    PacketBuilder::ethernet2(REMOTE_VTEP_MAC, VTEP_MAC)
        .ipv4(REMOTE_VTEP_IP.octets(), VTEP_IP.octets(), 64)
        .tcp(1, 4789, 0, 100)
        .write(&mut tcp, &[0; 30])
        .expect("build");

    let mut other_port = params();
    other_port.udp_dst_port = 4790;
    let other_port = encap(&plain(VF_MAC[0], REMOTE_VM), &other_port);

    // A non-first fragment (of anything: even a VXLAN datagram).
    let mut fragment = valid();
    fragment[20] = 0x00;
    fragment[21] = 0x10;
    fix_ip(&mut fragment, 14);

    // Not IPv4 we can parse: version 6, IHL 4.
    let mut v6 = valid();
    v6[14] = 0x65;
    let mut ihl4 = valid();
    ihl4[14] = 0x44;

    // A 14..18-byte frame typed 0x8100 has no tag: ethertype 0x8100.
    let mut short_tag = vec![0; 12];
    short_tag.extend_from_slice(&[0x81, 0x00, 0x08, 0x00]);

    let mut nic = model();
    let frames = [arp, ipv6, tcp, other_port, fragment, v6, ihl4, short_tag];
    for (i, f) in frames.iter().enumerate() {
        let out = nic.receive(f);
        assert_eq!(
            out,
            RxOutcome::Delivered(vec![RxDelivery {
                function: Function::Pf,
                frame: f.clone(),
                meta: RxMeta::default(),
            }]),
            "frame {i}"
        );
    }
    let bytes: usize = frames.iter().map(Vec::len).sum();
    let c = nic.counters();
    assert_eq!(c.non_overlay, frames.len() as u32);
    assert_eq!(
        (c.wire_frames, c.wire_bytes),
        (frames.len() as u32, bytes as u32)
    );
    assert_eq!(c.decapsulated, 0);
    assert_eq!(
        *nic.function_counters(Function::Pf),
        RxFunctionCounters {
            frames: frames.len() as u32,
            bytes: bytes as u32,
            decapsulated: 0,
            drop_inner_checksum: 0
        }
    );
}

#[test]
fn the_configured_port_is_the_overlay_port() {
    let mut config = config();
    config.vtep.udp_port = 4790;
    let mut nic = model_with(config, 16);
    assert_eq!(
        nic.receive(&valid()).deliveries()[0].meta,
        RxMeta::default()
    );
    let mut p = params();
    p.udp_dst_port = 4790;
    let out = nic.receive(&encap(&plain(VF_MAC[0], REMOTE_VM), &p));
    assert_eq!(functions(&out), vec![Function::Vf(0)]);
}

// ------------------------------------------------------------ drops

fn drop_of(nic: &mut RxModel, frame: &[u8]) -> Option<RxDrop> {
    nic.receive(frame).dropped()
}

/// What the spec says a prefix of `len` bytes of a valid untagged frame
/// (IPv4 header of `ihl` words) is, `l2` being 14 or 18.
fn truncated_outcome(len: usize, full: usize, l2: usize, ihl: usize) -> Option<RxDrop> {
    let l4 = l2 + 4 * ihl;
    if len == full {
        None
    } else if len < 14 {
        Some(RxDrop::Truncated)
    } else if l2 == 18 && len < 18 {
        None // no room for the tag: ethertype 0x8100, non-overlay
    } else if len < l4 + 30 {
        Some(RxDrop::Truncated)
    } else {
        Some(RxDrop::IpLength)
    }
}

/// `frame` with `n` option bytes (zero: end of options) added to the outer
/// IPv4 header at `l3`, lengths and checksum fixed.
fn with_ip_options(frame: &[u8], l3: usize, n: usize) -> Vec<u8> {
    let mut f = frame[..l3 + 20].to_vec();
    f.extend(std::iter::repeat_n(0, n));
    f.extend_from_slice(&frame[l3 + 20..]);
    f[l3] = 0x40 | (5 + n / 4) as u8;
    let total = u16::from_be_bytes([f[l3 + 2], f[l3 + 3]]) + n as u16;
    f[l3 + 2..l3 + 4].copy_from_slice(&total.to_be_bytes());
    fix_ip(&mut f, l3);
    f
}

#[test]
fn truncation_at_every_length() {
    let mut tagged_config = config();
    tagged_config.vtep.vlan = Some(VlanTag { vid: 100, pcp: 0 });
    let mut tagged = params();
    tagged.vlan = Some(OuterVlan::new(100, 3).expect("tag"));
    let tagged = encap(&plain(VF_MAC[0], REMOTE_VM), &tagged);
    let cases = [
        (config(), valid(), 14, 5),
        (tagged_config.clone(), tagged.clone(), 18, 5),
        (config(), with_ip_options(&valid(), 14, 8), 14, 7),
        (tagged_config, with_ip_options(&tagged, 18, 4), 18, 6),
    ];
    for (config, frame, l2, ihl) in cases {
        let mut nic = model_with(config, 16);
        // The whole frame is valid.
        assert_eq!(functions(&nic.receive(&frame)), vec![Function::Vf(0)]);
        let mut non_overlay = 0;
        for len in 0..frame.len() {
            let out = nic.receive(&frame[..len]);
            let want = truncated_outcome(len, frame.len(), l2, ihl);
            assert_eq!(out.dropped(), want, "l2 {l2} ihl {ihl} length {len}");
            if want.is_none() {
                non_overlay += 1;
                assert_eq!(functions(&out), vec![Function::Pf]);
                assert_eq!(out.deliveries()[0].meta, RxMeta::default());
            }
        }
        let c = nic.counters();
        assert_eq!(c.non_overlay, non_overlay);
        assert_eq!(
            c.drops(RxDrop::Truncated) + c.drops(RxDrop::IpLength) + non_overlay,
            frame.len() as u32
        );
        assert_eq!(
            c.drops(RxDrop::IpLength),
            (frame.len() - (l2 + 4 * ihl + 30)) as u32
        );
    }
}

#[test]
fn ip_length_must_be_the_frames() {
    let mut nic = model();
    // Trailing bytes (e.g. padding) after the datagram.
    let mut f = valid();
    f.push(0);
    assert_eq!(drop_of(&mut nic, &f), Some(RxDrop::IpLength));
    // Total length off by one either way (checksum fixed).
    for delta in [1i32, -1] {
        let mut f = valid();
        let total = u16::from_be_bytes([f[16], f[17]]) as i32 + delta;
        f[16..18].copy_from_slice(&(total as u16).to_be_bytes());
        fix_ip(&mut f, 14);
        assert_eq!(drop_of(&mut nic, &f), Some(RxDrop::IpLength));
    }
    assert_eq!(nic.counters().drops(RxDrop::IpLength), 3);
}

#[test]
fn ip_checksum_is_checked_over_the_whole_header() {
    let mut nic = model();
    for at in [14, 18, 24, 25, 33] {
        let mut f = valid();
        f[at] ^= 0x10;
        let want = if at == 14 {
            None // version 5: not IPv4, non-overlay
        } else {
            Some(RxDrop::IpChecksum)
        };
        assert_eq!(drop_of(&mut nic, &f), want, "byte {at}");
    }
    // Options are summed too.
    let mut f = with_ip_options(&valid(), 14, 4);
    f[34] = 0x01;
    assert_eq!(drop_of(&mut nic, &f), Some(RxDrop::IpChecksum));
    assert_eq!(drop_of(&mut nic, &valid()), None);
}

#[test]
fn a_first_fragment_is_dropped() {
    let mut nic = model();
    let mut f = valid();
    f[20] |= 0x20; // MF
    fix_ip(&mut f, 14);
    assert_eq!(drop_of(&mut nic, &f), Some(RxDrop::Fragment));
    // DF alone is fine.
    let mut f = valid();
    f[20] = 0x40;
    fix_ip(&mut f, 14);
    assert_eq!(drop_of(&mut nic, &f), None);
}

#[test]
fn udp_length_must_be_the_datagrams() {
    let mut nic = model();
    for delta in [1i32, -1, -8] {
        let mut f = valid();
        let len = u16::from_be_bytes([f[38], f[39]]) as i32 + delta;
        f[38..40].copy_from_slice(&(len as u16).to_be_bytes());
        assert_eq!(drop_of(&mut nic, &f), Some(RxDrop::UdpLength), "{delta}");
    }
}

#[test]
fn a_nonzero_udp_checksum_is_checked() {
    let mut nic = model();
    let mut p = params();
    p.udp_checksum = true;
    let good = encap(&plain(VF_MAC[0], REMOTE_VM), &p);
    assert_ne!(&good[40..42], &[0, 0]);
    assert_eq!(functions(&nic.receive(&good)), vec![Function::Vf(0)]);
    // Any byte of the datagram (and the pseudo-header's addresses).
    for at in [34, 35, 42, 50, good.len() - 1] {
        let mut f = good.clone();
        f[at] ^= 0x01;
        assert_eq!(
            drop_of(&mut nic, &f),
            Some(RxDrop::UdpChecksum),
            "byte {at}"
        );
    }
    let mut f = good.clone();
    f[26] ^= 0x01; // outer source IP
    fix_ip(&mut f, 14);
    assert_eq!(drop_of(&mut nic, &f), Some(RxDrop::UdpChecksum));
    // An odd-length datagram is padded for the sum.
    let odd = encap(&plain(VF_MAC[0], REMOTE_VM)[..59], &p);
    assert_eq!(functions(&nic.receive(&odd)), vec![Function::Vf(0)]);
    let mut f = odd.clone();
    *f.last_mut().expect("byte") ^= 0x80;
    assert_eq!(drop_of(&mut nic, &f), Some(RxDrop::UdpChecksum));
    // Zero: not checked.
    let mut f = valid();
    f[70] ^= 0xff;
    assert_eq!(drop_of(&mut nic, &f), None);
}

#[test]
fn the_outer_destination_mac_is_the_vteps_or_multicast() {
    let mut nic = model();
    let mut p = params();
    p.remote_mac = [0x02, 0, 0x0a, 0, 0, 0x77];
    assert_eq!(
        drop_of(&mut nic, &encap(&plain(VF_MAC[0], REMOTE_VM), &p)),
        Some(RxDrop::DstMac)
    );
    // Any multicast MAC passes this check (even with the unicast IP).
    p.remote_mac = [0x01, 0, 0x5e, 0x7f, 0, 1];
    assert_eq!(
        drop_of(&mut nic, &encap(&plain(VF_MAC[0], REMOTE_VM), &p)),
        None
    );
    p.remote_mac = BROADCAST;
    assert_eq!(
        drop_of(&mut nic, &encap(&plain(VF_MAC[0], REMOTE_VM), &p)),
        None
    );
}

#[test]
fn vxlan_flags_strict_and_lenient() {
    let mut lenient = model();
    let mut config = config();
    config.rx.strict_vxlan_flags = true;
    let mut strict = model_with(config, 16);
    // I flag clear: dropped in both modes.
    let mut f = valid();
    f[42] = 0x00;
    assert_eq!(drop_of(&mut lenient, &f), Some(RxDrop::VxlanFlags));
    assert_eq!(drop_of(&mut strict, &f), Some(RxDrop::VxlanFlags));
    let mut f = valid();
    f[42] = 0xf7;
    assert_eq!(drop_of(&mut lenient, &f), Some(RxDrop::VxlanFlags));
    // Reserved bits (flags, the 3 reserved bytes, the last byte): only strict.
    for (at, bits) in [
        (42, 0x80),
        (42, 0x01),
        (43, 1),
        (44, 0x10),
        (45, 0x80),
        (49, 1),
    ] {
        let mut f = valid();
        f[at] |= bits;
        assert_eq!(drop_of(&mut lenient, &f), None, "byte {at}");
        assert_eq!(
            drop_of(&mut strict, &f),
            Some(RxDrop::VxlanFlags),
            "byte {at}"
        );
    }
    assert_eq!(drop_of(&mut strict, &valid()), None);
}

#[test]
fn a_vni_without_a_record_is_dropped() {
    let mut nic = model();
    let mut p = params();
    p.vni = vni(7777);
    assert_eq!(
        drop_of(&mut nic, &encap(&plain(VF_MAC[0], REMOTE_VM), &p)),
        Some(RxDrop::NoVni)
    );
    // Removing a record between frames takes effect.
    nic.config_mut().vnis.retain(|r| r.vni != vni(5001));
    assert_eq!(drop_of(&mut nic, &valid()), Some(RxDrop::NoVni));
}

#[test]
fn the_outer_destination_ip_is_the_vteps_or_the_vnis_group() {
    let mut nic = model();
    let mut p = params();
    for (ip, want) in [
        (Ipv4Addr::new(10, 0, 0, 9), Some(RxDrop::DstIp)),
        (GROUP_5002, Some(RxDrop::DstIp)), // another VNI's group
        (Ipv4Addr::new(239, 9, 9, 9), Some(RxDrop::DstIp)),
        (GROUP_5001, None),
        (VTEP_IP, None),
    ] {
        p.remote_ip = ip;
        let f = encap(&plain(VF_MAC[0], REMOTE_VM), &p);
        assert_eq!(drop_of(&mut nic, &f), want, "{ip}");
    }
}

#[test]
fn the_outer_vlan_must_be_the_vteps() {
    let frame_with = |vlan: Option<(u16, u8)>| {
        let mut p = params();
        p.vlan = vlan.map(|(vid, pcp)| OuterVlan::new(vid, pcp).expect("tag"));
        encap(&plain(VF_MAC[0], REMOTE_VM), &p)
    };
    let mut untagged = model();
    assert_eq!(
        drop_of(&mut untagged, &frame_with(Some((100, 0)))),
        Some(RxDrop::Vlan)
    );
    assert_eq!(
        drop_of(&mut untagged, &frame_with(Some((0, 0)))),
        Some(RxDrop::Vlan)
    );
    assert_eq!(drop_of(&mut untagged, &frame_with(None)), None);

    let mut config = config();
    config.vtep.vlan = Some(VlanTag { vid: 100, pcp: 5 });
    let mut tagged = model_with(config, 16);
    assert_eq!(drop_of(&mut tagged, &frame_with(None)), Some(RxDrop::Vlan));
    assert_eq!(
        drop_of(&mut tagged, &frame_with(Some((101, 5)))),
        Some(RxDrop::Vlan)
    );
    // The priority is not compared; the ID is in the metadata.
    let d = delivered(tagged.receive(&frame_with(Some((100, 2)))));
    assert_eq!(d[0].function, Function::Vf(0));
    assert_eq!(d[0].meta.vlan, Some(100));
    assert_eq!(d[0].frame, plain(VF_MAC[0], REMOTE_VM));
}

/// Recomputes the outer UDP checksum (with etherparse).
fn fix_udp(f: &mut [u8], l3: usize, l4: usize) {
    f[l4 + 6] = 0;
    f[l4 + 7] = 0;
    let ip = Ipv4HeaderSlice::from_slice(&f[l3..]).expect("IPv4");
    let (src, dst) = (ip.source(), ip.destination());
    let udp = UdpHeaderSlice::from_slice(&f[l4..])
        .expect("UDP")
        .to_header();
    let c = udp
        .calc_checksum_ipv4_raw(src, dst, &f[l4 + 8..])
        .expect("checksum");
    f[l4 + 6..l4 + 8].copy_from_slice(&c.to_be_bytes());
}

/// A frame (for a VTEP on VLAN 100) that fails every check of section 2
/// from `RxDrop::ALL[k]` on and passes those before.
fn broken_from(k: usize) -> Vec<u8> {
    use RxDrop::*;
    let breaks = |r: RxDrop| RxDrop::ALL[k.min(11)..].contains(&r);
    let mut p = params();
    p.udp_checksum = true;
    if !breaks(Vlan) {
        p.vlan = Some(OuterVlan::new(100, 0).expect("tag"));
    }
    let l3 = if p.vlan.is_some() { 18 } else { 14 };
    let l4 = l3 + 20;
    if breaks(DstIp) {
        p.remote_ip = Ipv4Addr::new(10, 0, 0, 9);
    }
    if breaks(NoVni) {
        p.vni = vni(7777);
    }
    if breaks(DstMac) {
        p.remote_mac = [0x02, 0, 0, 0, 0, 0x77];
    }
    let mut f = encap(&plain(VF_MAC[0], REMOTE_VM), &p);
    if breaks(VxlanFlags) {
        f[l4 + 8] = 0;
        fix_udp(&mut f, l3, l4);
    }
    if breaks(UdpChecksum) {
        f[l4 + 7] ^= 1;
        assert_ne!(&f[l4 + 6..l4 + 8], &[0, 0]);
    }
    if breaks(UdpLength) {
        f[l4 + 5] ^= 0x10;
    }
    if breaks(Fragment) {
        f[l3 + 6] |= 0x20;
        fix_ip(&mut f, l3);
    }
    if breaks(IpChecksum) {
        f[l3 + 11] ^= 1;
    }
    if breaks(IpLength) {
        f.push(0);
    }
    if breaks(Truncated) {
        f.truncate(l4 + 29);
    }
    f
}

#[test]
fn the_first_failing_check_is_the_reason() {
    let mut config = config();
    config.vtep.vlan = Some(VlanTag { vid: 100, pcp: 0 });
    let mut nic = model_with(config, 16);
    for k in 0..=11 {
        let f = broken_from(k);
        assert_eq!(
            drop_of(&mut nic, &f),
            RxDrop::ALL.get(k).copied(),
            "from {k}"
        );
    }
    // Each reason was counted once, and the last frame delivered.
    for r in RxDrop::ALL {
        assert_eq!(nic.counters().drops(r), 1, "{r}");
    }
    assert_eq!(nic.function_counters(Function::Vf(0)).frames, 1);
}

#[test]
fn new_refuses_an_invalid_config() {
    let limits = BuildLimits {
        vfs: 3,
        ..BuildLimits::default()
    };
    assert!(matches!(
        RxModel::new(config(), limits, 16),
        Err(RxError::Config(ConfigError::TooManyVfs { .. }))
    ));
}

// ------------------------------------------------------------ properties

fn check_counters(nic: &RxModel) {
    let c = nic.counters();
    let drops: u32 = RxDrop::ALL.iter().map(|r| c.drops(*r)).sum();
    assert_eq!(c.wire_frames, c.non_overlay + c.decapsulated + drops);
    assert!(c.learn <= c.decapsulated);
}

/// A valid frame of any inner content, to any of a few destinations, with
/// some bytes changed.
fn arb_mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        vec(any::<u8>(), 14..200),
        prop::sample::select(vec![VF_MAC[0], VF_MAC[3], BROADCAST, NEW_VM]),
        any::<bool>(),
        vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut inner, dst, checksum, changes, cut)| {
            inner[..6].copy_from_slice(&dst);
            inner[6..12].copy_from_slice(&REMOTE_VM);
            let mut p = params();
            p.udp_checksum = checksum;
            let mut f = encap(&inner, &p);
            for (at, value) in changes {
                let i = at.index(f.len());
                f[i] = value;
            }
            if cut.index(4) == 0 {
                let n = cut.index(f.len());
                f.truncate(n);
            }
            f
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_bytes_give_an_outcome_and_consistent_counters(
        frames in vec(vec(any::<u8>(), 0..120), 1..8)
    ) {
        let mut nic = model();
        for f in &frames {
            let out = nic.receive(f);
            if let RxOutcome::Delivered(d) = &out {
                prop_assert!(d.windows(2).all(|w| w[0].function < w[1].function));
            }
        }
        check_counters(&nic);
    }

    #[test]
    fn mutated_frames_give_an_outcome_and_consistent_counters(
        frames in vec(arb_mutated(), 1..8)
    ) {
        let mut nic = model();
        let mut delivered_bytes = 0u32;
        for f in &frames {
            let out = nic.receive(f);
            for d in out.deliveries() {
                delivered_bytes += d.frame.len() as u32;
                if d.meta.decapsulated {
                    // The inner frame is the end of the outer one.
                    prop_assert!(f.ends_with(&d.frame));
                    prop_assert_eq!(d.frame.len() + 50, f.len());
                    prop_assert_eq!(d.meta.vni, 5001);
                    if d.function != Function::Pf {
                        prop_assert!(!d.meta.learn);
                        prop_assert!(d.meta.ip_checksum != ChecksumStatus::Bad);
                        prop_assert!(d.meta.l4_checksum != ChecksumStatus::Bad);
                    }
                } else {
                    prop_assert_eq!(&d.frame, f);
                    prop_assert_eq!(d.meta, RxMeta::default());
                }
            }
        }
        check_counters(&nic);
        let per_function: u32 = (0..5)
            .map(|i| nic.function_counters(Function::from_index(i)).bytes)
            .sum();
        prop_assert_eq!(per_function, delivered_bytes);
    }
}
