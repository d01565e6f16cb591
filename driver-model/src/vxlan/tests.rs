use super::*;

/// Ones' complement checksum of `bytes`, written here from RFC 1071 without
/// etherparse, so known answers are checked against an independent sum.
fn rfc1071_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for word in bytes.chunks(2) {
        let hi = u32::from(word[0]) << 8;
        let lo = word.get(1).copied().map_or(0, u32::from);
        sum += hi | lo;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Recomputes the IPv4 header checksum at `ip` after a test patched the
/// header, so that the patch and not the checksum is what gets reported.
fn refresh_ip_checksum(frame: &mut [u8], ip: usize) {
    let ihl = usize::from(frame[ip] & 0x0f) * 4;
    frame[ip + 10..ip + 12].copy_from_slice(&[0, 0]);
    let c = rfc1071_checksum(&frame[ip..ip + ihl]);
    frame[ip + 10..ip + 12].copy_from_slice(&c.to_be_bytes());
}

fn set_u16(frame: &mut [u8], at: usize, v: u16) {
    frame[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

// Byte offsets in an untagged outer frame.
const IP: usize = 14;
const UDP: usize = 34;
const VX: usize = 42;
const INNER: usize = 50;

const MAC_A: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0b];
const IP_A: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
const IP_B: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 2);

fn params() -> EncapParams {
    match EncapParams::new(MAC_A, MAC_B, IP_A, IP_B, 0x12_3456) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn inner_frame(len: usize) -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x33, 0x08, 0x00]);
    f.extend((0..len.saturating_sub(14)).map(|i| i as u8));
    f.truncate(len);
    f
}

fn encap(inner: &[u8], p: &EncapParams) -> Vec<u8> {
    encapsulate(inner, p).expect("valid parameters encapsulate")
}

fn valid() -> Vec<u8> {
    encap(&inner_frame(64), &params())
}

fn valid_tagged() -> Vec<u8> {
    let mut p = params();
    p.vlan = Some(OuterVlan::new(100, 3).expect("valid tag"));
    encap(&inner_frame(64), &p)
}

// ---------------------------------------------------------------- known answers

/// Frame 1 of the shared capture (an ARP request carried in VNI 123),
/// written out field by field from the RFC 7348 section 5 layout. The IPv4
/// checksum 0x6f9e is the one a Linux VTEP put on the wire.
#[test]
fn known_answer_untagged() {
    let inner_arp: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // inner dst: broadcast
        0xba, 0x09, 0x2b, 0x6e, 0xf8, 0xbe, // inner src
        0x08, 0x06, // ARP
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // Ethernet/IPv4, request
        0xba, 0x09, 0x2b, 0x6e, 0xf8, 0xbe, 10, 0, 0, 1, // sender
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 0, 2, // target
    ];
    #[rustfmt::skip]
    let outer: [u8; 50] = [
        // Outer Ethernet header: dst, src, EtherType IPv4.
        0x08, 0x00, 0x27, 0xf2, 0x1d, 0x8c,
        0x08, 0x00, 0x27, 0xae, 0x4d, 0x62,
        0x08, 0x00,
        // Outer IPv4 header: version 4 / IHL 5, DSCP/ECN 0, total length
        // 20 + 8 + 8 + 42 = 78, ID 0xd998, DF, TTL 64, UDP, checksum,
        // 192.168.56.11 -> 192.168.56.12.
        0x45, 0x00, 0x00, 78,
        0xd9, 0x98, 0x40, 0x00,
        64, 17, 0x6f, 0x9e,
        192, 168, 56, 11,
        192, 168, 56, 12,
        // Outer UDP header: src 39924, dst 4789, length 8 + 8 + 42 = 58,
        // checksum 0.
        0x9b, 0xf4, 0x12, 0xb5,
        0x00, 58, 0x00, 0x00,
        // VXLAN header: flags RRRRIRRR = 0x08, reserved, VNI 123, reserved.
        0x08, 0x00, 0x00, 0x00,
        0x00, 0x00, 123, 0x00,
    ];
    // Independently of etherparse: the stored checksum is the RFC 1071
    // checksum of the header with its checksum field zeroed, and the whole
    // header, checksum included, sums to all ones.
    let mut ip = outer[IP..UDP].to_vec();
    assert_eq!(rfc1071_checksum(&ip), 0);
    ip[10..12].copy_from_slice(&[0, 0]);
    assert_eq!(rfc1071_checksum(&ip), 0x6f9e);

    let mut p = EncapParams::new(
        [0x08, 0x00, 0x27, 0xae, 0x4d, 0x62],
        [0x08, 0x00, 0x27, 0xf2, 0x1d, 0x8c],
        Ipv4Addr::new(192, 168, 56, 11),
        Ipv4Addr::new(192, 168, 56, 12),
        123,
    )
    .expect("VNI 123 fits");
    p.udp_src_port = 39924;
    p.identification = 0xd998;
    let mut expected = outer.to_vec();
    expected.extend_from_slice(&inner_arp);

    let got = encap(&inner_arp, &p);
    assert_eq!(got, expected);
    assert_eq!(got.len(), inner_arp.len() + VXLAN_OVERHEAD);

    let d = decapsulate(&expected, &DecapConfig::default()).expect("known frame decapsulates");
    assert_eq!(d.inner, &inner_arp[..]);
    assert_eq!(d.outer.encap_params(), p);
}

/// A tagged frame with the UDP checksum on and an odd-length inner frame (so
/// the checksum pads its last byte). Both checksums were computed outside
/// this crate and are re-derived below with the test's own RFC 1071 sum.
#[test]
fn known_answer_tagged_with_udp_checksum() {
    let inner: [u8; 21] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x99, 0x88, 0xb5, b'm',
        b'o', b'd', b'e', b'l', 0x01, 0x02,
    ];
    #[rustfmt::skip]
    let outer: [u8; 54] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // dst: remote VTEP
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src: local VTEP
        0x81, 0x00, // 802.1Q
        0xa0, 0x64, // PCP 5, DEI 0, VID 100
        0x08, 0x00, // IPv4
        // IPv4: total length 20 + 8 + 8 + 21 = 57, ID 0x1234, no DF, TTL 17.
        0x45, 0x00, 0x00, 57,
        0x12, 0x34, 0x00, 0x00,
        17, 17, 0x83, 0x7b,
        10, 1, 0, 1,
        10, 2, 0, 2,
        // UDP: src 50000, dst 4789, length 37, checksum.
        0xc3, 0x50, 0x12, 0xb5,
        0x00, 37, 0xa7, 0xa5,
        // VXLAN: I flag, VNI 0xabcdef.
        0x08, 0x00, 0x00, 0x00,
        0xab, 0xcd, 0xef, 0x00,
    ];
    let ip = 18;
    let udp = 38;
    assert_eq!(rfc1071_checksum(&outer[ip..udp]), 0);
    let mut pseudo_and_segment = vec![10, 1, 0, 1, 10, 2, 0, 2, 0, 17, 0, 37];
    pseudo_and_segment.extend_from_slice(&outer[udp..]);
    pseudo_and_segment.extend_from_slice(&inner);
    assert_eq!(rfc1071_checksum(&pseudo_and_segment), 0);

    let mut p = EncapParams::new(
        [0x02, 0, 0, 0, 0, 0x01],
        [0x02, 0, 0, 0, 0, 0x02],
        Ipv4Addr::new(10, 1, 0, 1),
        Ipv4Addr::new(10, 2, 0, 2),
        0xab_cdef,
    )
    .expect("VNI fits");
    p.udp_src_port = 50000;
    p.identification = 0x1234;
    p.dont_fragment = false;
    p.ttl = 17;
    p.vlan = Some(OuterVlan::new(100, 5).expect("valid tag"));
    p.udp_checksum = true;
    let mut expected = outer.to_vec();
    expected.extend_from_slice(&inner);

    let got = encap(&inner, &p);
    assert_eq!(got, expected);
    assert_eq!(got.len(), inner.len() + VXLAN_OVERHEAD + VLAN_TAG_LEN);
    assert_eq!(p.overhead(), 54);

    let d = decapsulate(&expected, &DecapConfig::default()).expect("known frame decapsulates");
    assert_eq!(d.inner, &inner[..]);
    assert_eq!(d.outer.encap_params(), p);
}

// ---------------------------------------------------------------- encapsulate

#[test]
fn encap_inner_length_bounds() {
    let p = params();
    assert_eq!(
        encapsulate(&inner_frame(13), &p),
        Err(EncapError::InnerTooShort { len: 13 })
    );
    assert_eq!(
        encapsulate(&[], &p),
        Err(EncapError::InnerTooShort { len: 0 })
    );
    assert_eq!(encap(&inner_frame(14), &p).len(), 64);

    let longest = encap(&inner_frame(MAX_INNER_LEN), &p);
    assert_eq!(&longest[IP + 2..IP + 4], &[0xff, 0xff]);
    assert_eq!(longest.len(), Ethernet2Header::LEN + 65535);
    assert_eq!(
        encapsulate(&inner_frame(MAX_INNER_LEN + 1), &p),
        Err(EncapError::TooLong {
            ip_total_len: 65536
        })
    );
    // The limit is the IP total length, which a tag does not count toward.
    let mut tagged = p;
    tagged.vlan = Some(OuterVlan::new(1, 0).expect("valid tag"));
    assert_eq!(
        encap(&inner_frame(MAX_INNER_LEN), &tagged).len(),
        Ethernet2Header::LEN + VLAN_TAG_LEN + 65535
    );
}

#[test]
fn encap_refuses_out_of_range_vni() {
    assert_eq!(
        EncapParams::new(MAC_A, MAC_B, IP_A, IP_B, 0x100_0000),
        Err(EncapError::VniOutOfRange(VniOutOfRange {
            value: 0x100_0000
        }))
    );
    assert_eq!(Vni::new(u32::MAX), Err(VniOutOfRange { value: u32::MAX }));
    assert_eq!(Vni::try_from(Vni::MAX).map(u32::from), Ok(0xff_ffff));

    let p = EncapParams::new(MAC_A, MAC_B, IP_A, IP_B, Vni::MAX).expect("max VNI fits");
    let f = encap(&inner_frame(14), &p);
    assert_eq!(&f[VX..INNER], &[0x08, 0, 0, 0, 0xff, 0xff, 0xff, 0]);
}

#[test]
fn encap_refuses_zero_ttl() {
    let mut p = params();
    p.ttl = 0;
    assert_eq!(encapsulate(&inner_frame(60), &p), Err(EncapError::ZeroTtl));
}

#[test]
fn encap_vlan_validation() {
    assert_eq!(
        OuterVlan::new(0x1000, 0),
        Err(EncapError::VlanIdOutOfRange { value: 0x1000 })
    );
    assert_eq!(
        OuterVlan::new(1, 8),
        Err(EncapError::VlanPcpOutOfRange { value: 8 })
    );
    let mut p = params();
    p.vlan = Some(OuterVlan::new(0xfff, 0).expect("0xfff fits the field"));
    assert_eq!(
        encapsulate(&inner_frame(60), &p),
        Err(EncapError::ReservedVlanId)
    );
    // VID 0 is a priority tag, which may be sent.
    p.vlan = Some(OuterVlan::new(0, 7).expect("valid tag"));
    let f = encap(&inner_frame(60), &p);
    assert_eq!(&f[12..18], &[0x81, 0x00, 0xe0, 0x00, 0x08, 0x00]);
}

#[test]
fn encap_default_field_values() {
    let f = valid();
    assert_eq!(&f[0..6], &MAC_B, "outer dst is the remote VTEP");
    assert_eq!(&f[6..12], &MAC_A);
    assert_eq!(f[IP], 0x45);
    assert_eq!(f[IP + 1], 0, "DSCP/ECN");
    assert_eq!(&f[IP + 6..IP + 8], &[0x40, 0x00], "DF, no fragment");
    assert_eq!(f[IP + 8], 64, "TTL");
    assert_eq!(&f[UDP..UDP + 2], &49152u16.to_be_bytes());
    assert_eq!(&f[UDP + 2..UDP + 4], &4789u16.to_be_bytes());
    assert_eq!(&f[UDP + 6..UDP + 8], &[0, 0], "no UDP checksum");
    assert_eq!(&f[VX..INNER], &[0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0]);
}

/// RFC 768: a computed UDP checksum of zero is sent as 0xffff, because 0
/// means "no checksum". The inner frame is tuned so the sum comes out zero.
#[test]
fn udp_checksum_zero_is_sent_as_all_ones() {
    let mut p = params();
    p.udp_checksum = true;
    let mut inner = inner_frame(40);
    inner[14..16].copy_from_slice(&[0, 0]);
    let c0 = encap(&inner, &p);
    let checksum0 = [c0[UDP + 6], c0[UDP + 7]];
    // Adding a word equal to the current checksum (the complement of the
    // current sum) makes the sum all ones, i.e. a checksum of zero. The word
    // lands on an even offset of the UDP segment (34 + 16 + 14).
    inner[14..16].copy_from_slice(&checksum0);
    let f = encap(&inner, &p);
    assert_eq!(&f[UDP + 6..UDP + 8], &[0xff, 0xff]);
    let d = decapsulate(&f, &DecapConfig::default()).expect("0xffff verifies");
    assert_eq!(d.outer.udp_checksum, 0xffff);
    assert_eq!(d.inner, &inner[..]);
}

// ---------------------------------------------------------------- decapsulate

#[test]
fn decap_returns_outer_fields() {
    let mut p = params();
    p.vlan = Some(OuterVlan {
        dei: true,
        ..OuterVlan::new(4094, 6).expect("valid tag")
    });
    p.identification = 0xbeef;
    p.dont_fragment = false;
    p.ttl = 1;
    p.udp_src_port = 65535;
    p.udp_checksum = true;
    let inner = inner_frame(100);
    let f = encap(&inner, &p);
    let cfg = DecapConfig {
        local_ip: Some(IP_B),
        local_mac: Some(MAC_B),
        ..DecapConfig::default()
    };
    let d = decapsulate(&f, &cfg).expect("valid frame");
    assert_eq!(d.inner, &inner[..]);
    assert!(d.trailer.is_empty());
    let o = d.outer;
    assert_eq!(o.src_mac, MAC_A);
    assert_eq!(o.dst_mac, MAC_B);
    assert_eq!(o.vlan, p.vlan);
    assert_eq!((o.src_ip, o.dst_ip), (IP_A, IP_B));
    assert_eq!(o.dscp.value(), 0);
    assert_eq!(o.ecn.value(), 0);
    assert_eq!(o.ttl, 1);
    assert!(!o.dont_fragment);
    assert_eq!(o.identification, 0xbeef);
    assert_eq!(o.ip_header_len, 20);
    assert_eq!((o.udp_src_port, o.udp_dst_port), (65535, 4789));
    assert_ne!(o.udp_checksum, 0);
    assert_eq!(o.vxlan, VxlanHeader::new(p.vni));
    assert_eq!(o.vni().get(), 0x12_3456);
    assert_eq!(o.encap_params(), p);
}

#[test]
fn decap_skips_ipv4_options() {
    for options in [&[1u8, 1, 1, 0][..], &[1; 40][..]] {
        let f = valid();
        let mut g = f[..UDP].to_vec();
        g.extend_from_slice(options);
        g.extend_from_slice(&f[UDP..]);
        let header_len = 20 + options.len();
        g[IP] = 0x40 | (header_len / 4) as u8;
        let total = u16::from_be_bytes([g[IP + 2], g[IP + 3]]) + options.len() as u16;
        set_u16(&mut g, IP + 2, total);
        refresh_ip_checksum(&mut g, IP);
        let d = decapsulate(&g, &DecapConfig::default()).expect("options are allowed");
        assert_eq!(d.outer.ip_header_len, header_len);
        assert_eq!(d.inner, &inner_frame(64)[..]);
    }
}

/// Bytes past the IPv4 total length (padding, or an FCS a capture kept) are
/// handed back as the trailer and change nothing else.
#[test]
fn decap_ignores_trailing_bytes() {
    let f = valid();
    let mut g = f.clone();
    g.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    let d = decapsulate(&g, &DecapConfig::default()).expect("trailer allowed");
    assert_eq!(d.trailer, &[0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(d.inner, &inner_frame(64)[..]);
    assert_eq!(
        d.outer,
        decapsulate(&f, &DecapConfig::default())
            .expect("valid")
            .outer
    );
}

#[test]
fn decap_ignores_reserved_bits_unless_strict() {
    let mut f = valid();
    f[VX] = 0xff;
    f[VX + 1..VX + 4].copy_from_slice(&[1, 2, 3]);
    f[VX + 7] = 0x44;
    let d = decapsulate(&f, &DecapConfig::default()).expect("reserved bits are ignored");
    assert_eq!(d.outer.vxlan.flags, 0xff);
    assert_eq!(d.outer.vxlan.reserved0, [1, 2, 3]);
    assert_eq!(d.outer.vxlan.reserved1, 0x44);
    assert_eq!(d.outer.vni().get(), 0x12_3456);
    assert!(d.outer.vxlan.reserved_bits_set());

    let strict = DecapConfig {
        strict_reserved: true,
        ..DecapConfig::default()
    };
    assert!(decapsulate(&valid(), &strict).is_ok());
    // Each reserved field alone is enough in strict mode.
    for (at, value) in [(VX, 0x0c), (VX + 2, 1), (VX + 7, 0x80)] {
        let mut g = valid();
        g[at] = value;
        assert!(matches!(
            decapsulate(&g, &strict),
            Err(DecapError::VxlanReservedBits { .. })
        ));
    }
}

#[test]
fn decap_other_udp_port_when_configured() {
    let mut p = params();
    p.udp_dst_port = 8472;
    let f = encap(&inner_frame(60), &p);
    assert_eq!(
        decapsulate(&f, &DecapConfig::default()),
        Err(DecapError::WrongUdpPort {
            expected: 4789,
            found: 8472
        })
    );
    let cfg = DecapConfig {
        udp_dst_port: 8472,
        ..DecapConfig::default()
    };
    assert!(decapsulate(&f, &cfg).is_ok());
}

/// One entry per way a frame can be wrong. The exhaustive match in
/// `variant_name` makes a new `DecapError` variant fail to compile until it
/// has a case here.
#[test]
fn every_decap_error_is_reachable() {
    fn variant_name(e: &DecapError) -> &'static str {
        match e {
            DecapError::TruncatedEthernet { .. } => "TruncatedEthernet",
            DecapError::WrongDstMac { .. } => "WrongDstMac",
            DecapError::TruncatedVlan { .. } => "TruncatedVlan",
            DecapError::NotIpv4 { .. } => "NotIpv4",
            DecapError::TruncatedIpv4 { .. } => "TruncatedIpv4",
            DecapError::Ipv4Version { .. } => "Ipv4Version",
            DecapError::Ipv4HeaderLen { .. } => "Ipv4HeaderLen",
            DecapError::Ipv4Checksum { .. } => "Ipv4Checksum",
            DecapError::Ipv4TotalLen { .. } => "Ipv4TotalLen",
            DecapError::Ipv4Fragment { .. } => "Ipv4Fragment",
            DecapError::NotUdp { .. } => "NotUdp",
            DecapError::WrongDstIp { .. } => "WrongDstIp",
            DecapError::TruncatedUdp { .. } => "TruncatedUdp",
            DecapError::UdpLength { .. } => "UdpLength",
            DecapError::WrongUdpPort { .. } => "WrongUdpPort",
            DecapError::UdpChecksum { .. } => "UdpChecksum",
            DecapError::TruncatedVxlan { .. } => "TruncatedVxlan",
            DecapError::VxlanIFlagClear { .. } => "VxlanIFlagClear",
            DecapError::VxlanReservedBits { .. } => "VxlanReservedBits",
            DecapError::TruncatedInner { .. } => "TruncatedInner",
        }
    }
    const ALL: [&str; 20] = [
        "TruncatedEthernet",
        "WrongDstMac",
        "TruncatedVlan",
        "NotIpv4",
        "TruncatedIpv4",
        "Ipv4Version",
        "Ipv4HeaderLen",
        "Ipv4Checksum",
        "Ipv4TotalLen",
        "Ipv4Fragment",
        "NotUdp",
        "WrongDstIp",
        "TruncatedUdp",
        "UdpLength",
        "WrongUdpPort",
        "UdpChecksum",
        "TruncatedVxlan",
        "VxlanIFlagClear",
        "VxlanReservedBits",
        "TruncatedInner",
    ];

    let default = DecapConfig::default();
    let good_len = valid().len();
    let frame_len = u16::try_from(good_len - IP).expect("small frame");
    let mut cases: Vec<(&str, Vec<u8>, DecapConfig, DecapError)> = Vec::new();
    let mut case = |name, patch: &dyn Fn(&mut Vec<u8>), cfg, err| {
        let mut f = valid();
        patch(&mut f);
        cases.push((name, f, cfg, err));
    };

    case(
        "empty frame",
        &|f| f.clear(),
        default,
        DecapError::TruncatedEthernet { len: 0 },
    );
    case(
        "13 bytes",
        &|f| f.truncate(13),
        default,
        DecapError::TruncatedEthernet { len: 13 },
    );
    case(
        "dst MAC not ours",
        &|_| {},
        DecapConfig {
            local_mac: Some(MAC_A),
            ..default
        },
        DecapError::WrongDstMac {
            expected: MAC_A,
            found: MAC_B,
        },
    );
    case(
        "ends inside the VLAN tag",
        &|f| {
            *f = valid_tagged();
            f.truncate(17);
        },
        default,
        DecapError::TruncatedVlan { len: 17 },
    );
    case(
        "IPv6 EtherType",
        &|f| set_u16(f, 12, 0x86dd),
        default,
        DecapError::NotIpv4 { ether_type: 0x86dd },
    );
    case(
        "QinQ: second tag",
        &|f| {
            *f = valid_tagged();
            set_u16(f, 16, 0x8100);
        },
        default,
        DecapError::NotIpv4 { ether_type: 0x8100 },
    );
    case(
        "19 bytes of IPv4",
        &|f| f.truncate(IP + 19),
        default,
        DecapError::TruncatedIpv4 {
            required: 20,
            available: 19,
        },
    );
    case(
        "IHL 6 with 22 bytes",
        &|f| {
            f[IP] = 0x46;
            f.truncate(IP + 22);
        },
        default,
        DecapError::TruncatedIpv4 {
            required: 24,
            available: 22,
        },
    );
    case(
        "version 6",
        &|f| f[IP] = 0x65,
        default,
        DecapError::Ipv4Version { version: 6 },
    );
    case(
        "IHL 4",
        &|f| f[IP] = 0x44,
        default,
        DecapError::Ipv4HeaderLen { ihl: 4 },
    );
    let checksum = {
        let f = valid();
        u16::from_be_bytes([f[IP + 10], f[IP + 11]])
    };
    case(
        "TTL changed, checksum not",
        &|f| f[IP + 8] -= 1,
        default,
        // Decrementing TTL raises the checksum by 0x0100 (RFC 1624).
        DecapError::Ipv4Checksum {
            found: checksum,
            computed: checksum + 0x0100,
        },
    );
    case(
        "total length one past the frame",
        &|f| {
            set_u16(f, IP + 2, frame_len + 1);
            refresh_ip_checksum(f, IP);
        },
        default,
        DecapError::Ipv4TotalLen {
            total_len: frame_len + 1,
            header_len: 20,
            available: usize::from(frame_len),
        },
    );
    case(
        "total length below the header",
        &|f| {
            set_u16(f, IP + 2, 19);
            refresh_ip_checksum(f, IP);
        },
        default,
        DecapError::Ipv4TotalLen {
            total_len: 19,
            header_len: 20,
            available: usize::from(frame_len),
        },
    );
    case(
        "MF set",
        &|f| {
            f[IP + 6] |= 0x20;
            refresh_ip_checksum(f, IP);
        },
        default,
        DecapError::Ipv4Fragment {
            more_fragments: true,
            offset: 0,
        },
    );
    case(
        "nonzero fragment offset",
        &|f| {
            set_u16(f, IP + 6, 0x4000 | 185);
            refresh_ip_checksum(f, IP);
        },
        default,
        DecapError::Ipv4Fragment {
            more_fragments: false,
            offset: 185,
        },
    );
    case(
        "TCP",
        &|f| {
            f[IP + 9] = 6;
            refresh_ip_checksum(f, IP);
        },
        default,
        DecapError::NotUdp { protocol: 6 },
    );
    case(
        "dst IP not ours",
        &|_| {},
        DecapConfig {
            local_ip: Some(IP_A),
            ..default
        },
        DecapError::WrongDstIp {
            expected: IP_A,
            found: IP_B,
        },
    );
    case(
        "7 bytes of UDP",
        &|f| {
            set_u16(f, IP + 2, 20 + 7);
            refresh_ip_checksum(f, IP);
        },
        default,
        DecapError::TruncatedUdp { available: 7 },
    );
    case(
        "UDP length one more than the IP payload",
        &|f| set_u16(f, UDP + 4, frame_len - 20 + 1),
        default,
        DecapError::UdpLength {
            udp_len: frame_len - 20 + 1,
            ip_payload_len: usize::from(frame_len - 20),
        },
    );
    case(
        "UDP length one less than the IP payload",
        &|f| set_u16(f, UDP + 4, frame_len - 20 - 1),
        default,
        DecapError::UdpLength {
            udp_len: frame_len - 20 - 1,
            ip_payload_len: usize::from(frame_len - 20),
        },
    );
    case(
        "UDP length below the header",
        &|f| set_u16(f, UDP + 4, 4),
        default,
        DecapError::UdpLength {
            udp_len: 4,
            ip_payload_len: usize::from(frame_len - 20),
        },
    );
    case(
        "UDP to port 4790",
        &|f| set_u16(f, UDP + 2, 4790),
        default,
        DecapError::WrongUdpPort {
            expected: 4789,
            found: 4790,
        },
    );
    let (checksummed, udp_checksum) = {
        let mut p = params();
        p.udp_checksum = true;
        let f = encap(&inner_frame(64), &p);
        let c = u16::from_be_bytes([f[UDP + 6], f[UDP + 7]]);
        (f, c)
    };
    case(
        "inner byte corrupted under a UDP checksum",
        &|f| {
            *f = checksummed.clone();
            // +1 in the low byte of a word lowers the checksum by 1.
            f[INNER + 21] += 1;
        },
        default,
        DecapError::UdpChecksum {
            found: udp_checksum,
            computed: udp_checksum - 1,
        },
    );
    case(
        "4 bytes of VXLAN",
        &|f| {
            set_u16(f, IP + 2, 20 + 8 + 4);
            refresh_ip_checksum(f, IP);
            set_u16(f, UDP + 4, 8 + 4);
        },
        default,
        DecapError::TruncatedVxlan { available: 4 },
    );
    case(
        "I flag clear",
        &|f| f[VX] = 0x00,
        default,
        DecapError::VxlanIFlagClear { flags: 0 },
    );
    case(
        "I flag clear, other flags set",
        &|f| f[VX] = 0xf7,
        default,
        DecapError::VxlanIFlagClear { flags: 0xf7 },
    );
    case(
        "reserved bit set in strict mode",
        &|f| f[VX + 7] = 1,
        DecapConfig {
            strict_reserved: true,
            ..default
        },
        DecapError::VxlanReservedBits {
            header: VxlanHeader {
                reserved1: 1,
                ..VxlanHeader::new(params().vni)
            },
        },
    );
    case(
        "13-byte inner frame",
        &|f| {
            set_u16(f, IP + 2, 20 + 8 + 8 + 13);
            refresh_ip_checksum(f, IP);
            set_u16(f, UDP + 4, 8 + 8 + 13);
        },
        default,
        DecapError::TruncatedInner { len: 13 },
    );

    let mut seen = Vec::new();
    for (name, frame, cfg, expected) in &cases {
        assert_eq!(decapsulate(frame, cfg), Err(*expected), "case: {name}");
        // Every error has a message naming what was wrong.
        assert!(!expected.to_string().is_empty());
        seen.push(variant_name(expected));
    }
    for name in ALL {
        assert!(seen.contains(&name), "no case triggers {name}");
    }
    assert!(decapsulate(&valid(), &default).is_ok());
    assert_eq!(valid().len(), good_len);
}

#[test]
fn vxlan_header_bytes() {
    let vni = Vni::new(0x01_0203).expect("fits");
    let h = VxlanHeader::new(vni);
    assert_eq!(h.to_bytes(), [0x08, 0, 0, 0, 0x01, 0x02, 0x03, 0]);
    assert_eq!(VxlanHeader::from_bytes(h.to_bytes()), h);
    assert!(h.i_flag());
    assert!(!h.reserved_bits_set());
    assert_eq!(vni.to_be_bytes(), [1, 2, 3]);
    assert_eq!(Vni::from_be_bytes([1, 2, 3]), vni);
    assert_eq!(vni.to_string(), "66051");
}
