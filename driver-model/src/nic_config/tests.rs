use super::*;

use proptest::prelude::*;

/// Every key of the format, one VF in a segment and one plain VF.
const FULL: &str = r#"[vtep]
mac = "02:00:0a:00:00:01"
ip = "10.0.0.1"
netmask = "255.255.255.0"
gateway_mac = "02:00:0a:00:00:fe"
udp_port = 4789
src_port_range = [49152, 65535]
ttl = 64
dont_fragment = true
vlan = { vid = 100, pcp = 0 }
udp_checksum = true

[pf]
mac = "02:00:00:00:00:10"
mtu = 1500

[[vf]]
mac = "02:00:00:00:01:00"
vni = 5001
mtu = 1500

[[vf]]
mac = "02:00:00:00:01:01"

[[vni]]
vni = 5001
multicast_group = "239.1.1.1"
gateway_ip = "10.0.1.254"
gateway_mac = "02:00:0a:00:01:fe"
miss_policy = "flood"

[[entry]]
vni = 5001
mac = "02:00:00:00:02:00"
vtep_ip = "10.0.0.2"
vtep_mac = "02:00:0a:00:00:02"
"#;

/// Only the required keys.
const MINIMAL: &str = r#"
[vtep]
mac = "02:00:0a:00:00:01"
ip = "10.0.0.1"
netmask = "255.255.255.0"
gateway_mac = "02:00:0a:00:00:fe"
"#;

const VNI_RECORD: &str = r#"
[[vni]]
vni = 7
multicast_group = "239.0.0.7"
gateway_ip = "10.0.7.254"
gateway_mac = "02:00:00:00:07:fe"
"#;

fn mac(s: &str) -> MacAddr {
    s.parse().expect("valid MAC in the test")
}

fn vni(n: u32) -> Vni {
    Vni::new(n).expect("valid VNI in the test")
}

/// `text` with the one occurrence of `from` replaced by `to`.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once");
    text.replacen(from, to, 1)
}

fn parse(text: &str) -> NicConfig {
    match NicConfig::from_toml(text) {
        Ok(c) => c,
        Err(e) => panic!("{e}\n{text}"),
    }
}

fn parse_err(text: &str) -> ConfigError {
    match NicConfig::from_toml(text) {
        Ok(c) => panic!("accepted: {c:?}\n{text}"),
        Err(e) => e,
    }
}

fn validate_err(text: &str, limits: &BuildLimits) -> ConfigError {
    match parse(text).validate(limits) {
        Ok(()) => panic!("validated:\n{text}"),
        Err(e) => e,
    }
}

fn at(line: usize, column: usize) -> Position {
    Position { line, column }
}

#[test]
fn full_config_parses_every_field() {
    let c = parse(FULL);
    assert_eq!(c.validate(&BuildLimits::default()), Ok(()));
    assert_eq!(
        c.vtep,
        VtepConfig {
            mac: MacAddr([0x02, 0, 0x0a, 0, 0, 0x01]),
            ip: Ipv4Addr::new(10, 0, 0, 1),
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            gateway_mac: MacAddr([0x02, 0, 0x0a, 0, 0, 0xfe]),
            udp_port: 4789,
            src_port_range: PortRange {
                lo: 49152,
                hi: 65535
            },
            ttl: 64,
            dont_fragment: true,
            vlan: Some(VlanTag { vid: 100, pcp: 0 }),
            udp_checksum: true,
        }
    );
    assert_eq!(
        c.pf,
        PfConfig {
            mac: Some(mac("02:00:00:00:00:10")),
            mtu: 1500
        }
    );
    assert_eq!(
        c.vfs,
        vec![
            VfConfig {
                mac: mac("02:00:00:00:01:00"),
                vni: Some(vni(5001)),
                mtu: 1500
            },
            VfConfig {
                mac: mac("02:00:00:00:01:01"),
                vni: None,
                mtu: 1500
            },
        ]
    );
    assert_eq!(
        c.vnis,
        vec![VniRecord {
            vni: vni(5001),
            multicast_group: Ipv4Addr::new(239, 1, 1, 1),
            gateway_ip: Ipv4Addr::new(10, 0, 1, 254),
            gateway_mac: mac("02:00:0a:00:01:fe"),
            miss_policy: MissPolicy::Flood,
        }]
    );
    assert_eq!(
        c.entries,
        vec![MapEntry {
            vni: vni(5001),
            mac: mac("02:00:00:00:02:00"),
            vtep_ip: Ipv4Addr::new(10, 0, 0, 2),
            vtep_mac: mac("02:00:0a:00:00:02"),
        }]
    );
    assert_eq!(
        c.lookup(vni(5001), mac("02:00:00:00:02:00")),
        Some(&c.entries[0])
    );
    assert_eq!(c.lookup(vni(5002), mac("02:00:00:00:02:00")), None);
    assert_eq!(c.vni_record(vni(5001)), Some(&c.vnis[0]));
    assert_eq!(c.vni_record(vni(5002)), None);
}

#[test]
fn optional_keys_take_their_defaults() {
    let c = parse(MINIMAL);
    assert_eq!(c.validate(&BuildLimits::default()), Ok(()));
    let expected = NicConfig::new(VtepConfig::new(
        mac("02:00:0a:00:00:01"),
        Ipv4Addr::new(10, 0, 0, 1),
        Ipv4Addr::new(255, 255, 255, 0),
        mac("02:00:0a:00:00:fe"),
    ));
    assert_eq!(c, expected);
    assert_eq!(c.vtep.udp_port, 4789);
    assert_eq!(
        c.vtep.src_port_range,
        PortRange {
            lo: 49152,
            hi: 65535
        }
    );
    assert_eq!(c.vtep.ttl, 64);
    assert!(c.vtep.dont_fragment);
    assert_eq!(c.vtep.vlan, None);
    assert!(!c.vtep.udp_checksum);
    assert_eq!(
        c.pf,
        PfConfig {
            mac: None,
            mtu: 1500
        }
    );

    let c = parse(&format!(
        "{MINIMAL}vlan = {{ vid = 5 }}\n[[vf]]\nmac = \"02:00:00:00:00:01\"\n{VNI_RECORD}"
    ));
    assert_eq!(c.vtep.vlan, Some(VlanTag { vid: 5, pcp: 0 }));
    assert_eq!(c.vfs[0].mtu, 1500);
    assert_eq!(c.vfs[0].vni, None);
    assert_eq!(c.vnis[0].miss_policy, MissPolicy::Flood);
}

#[test]
fn miss_policies_parse() {
    for (name, policy) in [
        ("flood", MissPolicy::Flood),
        ("gateway", MissPolicy::Gateway),
        ("drop", MissPolicy::Drop),
    ] {
        let c = parse(&edit(FULL, "\"flood\"", &format!("{name:?}")));
        assert_eq!(c.vnis[0].miss_policy, policy);
        assert_eq!(policy.to_string(), name);
    }
    assert_eq!(MissPolicy::Flood as u8, 0);
    assert_eq!(MissPolicy::Gateway as u8, 1);
    assert_eq!(MissPolicy::Drop as u8, 2);
}

#[test]
fn mac_parses_and_displays() {
    let m = mac("02:00:0A:ff:Aa:09");
    assert_eq!(m, MacAddr([0x02, 0x00, 0x0a, 0xff, 0xaa, 0x09]));
    assert_eq!(m.to_string(), "02:00:0a:ff:aa:09");
    assert_eq!(format!("{m:?}"), "MacAddr(02:00:0a:ff:aa:09)");
    assert!(!m.is_multicast());
    assert!(MacAddr::BROADCAST.is_multicast());
    assert!(mac("01:00:5e:00:00:01").is_multicast());
    assert!(mac("33:33:00:00:00:01").is_multicast());
    for bad in [
        "",
        "02:00:00:00:00",
        "02:00:00:00:00:00:",
        "02:00:00:00:00:00:00",
        "2:00:00:00:00:00",
        "002:00:00:00:00:00",
        "02:00:00:00:00:0g",
        "+2:00:00:00:00:00",
        "02-00-00-00-00-00",
        "02:00:00:00:00:00 ",
        "0200.0000.0000",
        "ü2:00:00:00:00:00",
    ] {
        assert_eq!(
            bad.parse::<MacAddr>(),
            Err(MacParseError {
                value: bad.to_owned()
            }),
            "{bad:?}"
        );
    }
}

#[test]
fn syntax_error_has_its_line() {
    let e = parse_err("[vtep]\nmac = \"02:00:0a:00:00:01\"\nip = \n");
    let ConfigError::Syntax { at: Some(p), .. } = e else {
        panic!("{e:?}");
    };
    assert_eq!(p.line, 3, "{e}");
    assert!(e.to_string().contains("line 3"), "{e}");

    // A key given twice is a TOML error too.
    let e = parse_err(&edit(FULL, "ttl = 64\n", "ttl = 64\nttl = 65\n"));
    assert!(
        matches!(
            e,
            ConfigError::Syntax {
                at: Some(Position { line: 9, .. }),
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn unknown_keys_are_refused_everywhere() {
    for (text, key, line) in [
        (format!("{FULL}bogus = 1\n"), "bogus", 37),
        (edit(FULL, "ttl = 64", "tll = 64"), "tll", 8),
        (edit(FULL, "pcp = 0", "prio = 0"), "prio", 10),
        (
            edit(
                FULL,
                "vni = 5001\nmtu = 1500\n",
                "vni = 5001\nmtu = 1500\nvlan = 3\n",
            ),
            "vlan",
            21,
        ),
        (edit(FULL, "miss_policy", "policy"), "policy", 30),
        (edit(FULL, "vtep_ip", "ip"), "ip", 35),
        (edit(FULL, "[pf]", "[pf]\nname = \"pf\""), "name", 14),
        (format!("{FULL}[extra]\n"), "extra", 37),
    ] {
        let e = parse_err(&text);
        let ConfigError::UnknownKey { key: k, at: p } = &e else {
            panic!("{key}: {e:?}");
        };
        assert_eq!(k, key);
        assert_eq!(p.map(|p| p.line), Some(line), "{key}: {e}");
    }
}

#[test]
fn wrong_types_and_missing_keys_are_schema_errors() {
    for text in [
        String::new(),
        "[pf]\nmtu = 1500\n".to_owned(),
        edit(FULL, "ip = \"10.0.0.1\"\n", ""),
        edit(FULL, "ttl = 64", "ttl = 300"),
        edit(FULL, "ttl = 64", "ttl = -1"),
        edit(FULL, "udp_port = 4789", "udp_port = 65536"),
        edit(FULL, "udp_port = 4789", "udp_port = \"vxlan\""),
        edit(FULL, "[49152, 65535]", "[49152]"),
        edit(FULL, "[49152, 65535]", "[1, 2, 3]"),
        edit(FULL, "[49152, 65535]", "[49152, 70000]"),
        edit(FULL, "dont_fragment = true", "dont_fragment = 1"),
        edit(FULL, "udp_checksum = true", "udp_checksum = \"yes\""),
        edit(FULL, "vid = 100, ", ""),
        edit(FULL, "pcp = 0", "pcp = 256"),
        edit(
            FULL,
            "[pf]\nmac = \"02:00:00:00:00:10\"\nmtu = 1500",
            "[pf]\nmtu = \"big\"",
        ),
        edit(FULL, "[pf]\nmac = \"02:00:00:00:00:10\"", "[pf]\nmac = 2"),
        edit(FULL, "vni = 5001\nmtu", "vni = \"5001\"\nmtu"),
        edit(FULL, "vni = 5001\nmtu", "vni = 5001.0\nmtu"),
        edit(FULL, "mac = \"02:00:00:00:01:01\"\n", ""),
        edit(FULL, "multicast_group = \"239.1.1.1\"\n", ""),
        edit(FULL, "vtep_mac = \"02:00:0a:00:00:02\"\n", ""),
        edit(FULL, "[[entry]]", "[entry]"),
        "vtep = 1\n".to_owned(),
    ] {
        let e = parse_err(&text);
        assert!(matches!(e, ConfigError::Schema { .. }), "{e:?}\n{text}");
    }
    let e = parse_err(&edit(FULL, "ttl = 64", "ttl = 300"));
    assert!(
        matches!(
            e,
            ConfigError::Schema {
                at: Some(Position { line: 8, .. }),
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn bad_macs_are_reported_with_key_and_position() {
    let e = parse_err(&edit(FULL, "\"02:00:00:00:01:01\"", "\"02:00:00:00:01\""));
    assert_eq!(
        e,
        ConfigError::BadMac {
            key: "vf[1].mac".into(),
            value: "02:00:00:00:01".into(),
            at: at(23, 7)
        }
    );
    for (from, key) in [
        ("\"02:00:0a:00:00:01\"", "vtep.mac"),
        ("\"02:00:0a:00:00:fe\"", "vtep.gateway_mac"),
        ("\"02:00:00:00:00:10\"", "pf.mac"),
        ("\"02:00:0a:00:01:fe\"", "vni[0].gateway_mac"),
        ("\"02:00:00:00:02:00\"", "entry[0].mac"),
        ("\"02:00:0a:00:00:02\"", "entry[0].vtep_mac"),
    ] {
        let e = parse_err(&edit(FULL, from, "\"nope\""));
        assert!(
            matches!(&e, ConfigError::BadMac { key: k, value, .. } if k == key && value == "nope"),
            "{e:?}"
        );
    }
}

#[test]
fn bad_ips_are_reported_with_key_and_position() {
    let e = parse_err(&edit(FULL, "\"10.0.0.2\"", "\"10.0.0.256\""));
    assert_eq!(
        e,
        ConfigError::BadIp {
            key: "entry[0].vtep_ip".into(),
            value: "10.0.0.256".into(),
            at: at(35, 11)
        }
    );
    for (from, key) in [
        ("\"10.0.0.1\"", "vtep.ip"),
        ("\"255.255.255.0\"", "vtep.netmask"),
        ("\"239.1.1.1\"", "vni[0].multicast_group"),
        ("\"10.0.1.254\"", "vni[0].gateway_ip"),
    ] {
        for bad in [
            "\"\"",
            "\"10.0.0\"",
            "\"::1\"",
            "\"10.0.0.1/24\"",
            "\"host\"",
        ] {
            let e = parse_err(&edit(FULL, from, bad));
            assert!(
                matches!(&e, ConfigError::BadIp { key: k, .. } if k == key),
                "{e:?}"
            );
        }
    }
}

#[test]
fn vnis_must_fit_24_bits() {
    let e = parse_err(&edit(
        FULL,
        "vni = 5001\nmulticast",
        "vni = 16777216\nmulticast",
    ));
    assert_eq!(
        e,
        ConfigError::VniOutOfRange {
            key: "vni[0].vni".into(),
            value: 1 << 24,
            at: at(26, 7)
        }
    );
    let e = parse_err(&edit(FULL, "vni = 5001\nmtu", "vni = -1\nmtu"));
    assert!(
        matches!(&e, ConfigError::VniOutOfRange { key, value: -1, .. } if key == "vf[0].vni"),
        "{e:?}"
    );
    let e = parse_err(&edit(FULL, "vni = 5001\nmac", "vni = 4294967296\nmac"));
    assert!(
        matches!(&e, ConfigError::VniOutOfRange { key, value: 4294967296, .. } if key == "entry[0].vni"),
        "{e:?}"
    );
    // The largest VNI is fine.
    let text = FULL.replace("5001", "16777215");
    assert_eq!(parse(&text).validate(&BuildLimits::default()), Ok(()));
}

#[test]
fn unknown_miss_policy_is_refused() {
    let e = parse_err(&edit(FULL, "\"flood\"", "\"Flood\""));
    assert_eq!(
        e,
        ConfigError::BadMissPolicy {
            key: "vni[0].miss_policy".into(),
            value: "Flood".into(),
            at: at(30, 15)
        }
    );
}

#[test]
fn positions_count_characters() {
    let text = "# é\n[vtep]\nmac = \"x\"";
    let e = parse_err(text);
    // The error is about the missing keys of [vtep] or the bad MAC: either
    // way it must not panic, and the MAC's column counts 'é' as one.
    assert!(matches!(e, ConfigError::Schema { .. }), "{e:?}");
    assert_eq!(Position::of("é=x", 2), at(1, 2));
    assert_eq!(Position::of("a\nbc", 3), at(2, 2));
    assert_eq!(Position::of("a\n", 99), at(2, 1));
    assert_eq!(Position::of("", 0), at(1, 1));
}

#[test]
fn duplicate_vni_records_are_refused() {
    let text = format!(
        "{FULL}{VNI_RECORD}{}",
        VNI_RECORD.replace("239.0.0.7", "239.0.0.8")
    );
    assert_eq!(
        validate_err(&text, &BuildLimits::default()),
        ConfigError::DuplicateVni {
            vni: vni(7),
            first: 1,
            second: 2
        }
    );
}

#[test]
fn duplicate_entries_are_refused() {
    let extra = "[[entry]]\nvni = 5001\nmac = \"02:00:00:00:02:00\"\n\
                 vtep_ip = \"10.0.0.3\"\nvtep_mac = \"02:00:0a:00:00:03\"\n";
    assert_eq!(
        validate_err(&format!("{FULL}{extra}"), &BuildLimits::default()),
        ConfigError::DuplicateEntry {
            vni: vni(5001),
            mac: mac("02:00:00:00:02:00"),
            first: 0,
            second: 1
        }
    );
    // The same MAC in another VNI is another key.
    let other = extra.replace("5001", "7");
    assert_eq!(
        parse(&format!("{FULL}{VNI_RECORD}{other}")).validate(&BuildLimits::default()),
        Ok(())
    );
}

#[test]
fn entries_and_vfs_need_a_vni_record() {
    let text = edit(FULL, "vni = 5001\nmac", "vni = 5002\nmac");
    assert_eq!(
        validate_err(&text, &BuildLimits::default()),
        ConfigError::EntryWithoutVniRecord {
            entry: 0,
            vni: vni(5002)
        }
    );
    let text = edit(
        FULL,
        "mac = \"02:00:00:00:01:01\"",
        "mac = \"02:00:00:00:01:01\"\nvni = 9",
    );
    assert_eq!(
        validate_err(&text, &BuildLimits::default()),
        ConfigError::VfWithoutVniRecord { vf: 1, vni: vni(9) }
    );
}

#[test]
fn source_port_range_must_not_be_empty() {
    let text = edit(FULL, "[49152, 65535]", "[50000, 49999]");
    assert_eq!(
        validate_err(&text, &BuildLimits::default()),
        ConfigError::SrcPortRange {
            lo: 50000,
            hi: 49999
        }
    );
    // A single port is a range.
    let text = edit(FULL, "[49152, 65535]", "[50000, 50000]");
    assert_eq!(parse(&text).validate(&BuildLimits::default()), Ok(()));
}

#[test]
fn outer_header_fields_are_checked() {
    let limits = BuildLimits::default();
    let e = validate_err(&edit(FULL, "ttl = 64", "ttl = 0"), &limits);
    assert_eq!(e, ConfigError::ZeroTtl);
    let e = validate_err(&edit(FULL, "vid = 100", "vid = 4096"), &limits);
    assert_eq!(e, ConfigError::VlanIdOutOfRange { vid: 4096 });
    let e = validate_err(&edit(FULL, "vid = 100", "vid = 4095"), &limits);
    assert_eq!(e, ConfigError::ReservedVlanId);
    let e = validate_err(&edit(FULL, "pcp = 0", "pcp = 8"), &limits);
    assert_eq!(e, ConfigError::VlanPcpOutOfRange { pcp: 8 });
    let text = edit(FULL, "vid = 100, pcp = 0", "vid = 4094, pcp = 7");
    assert_eq!(parse(&text).validate(&limits), Ok(()));
}

#[test]
fn mtus_must_fit_the_build() {
    let limits = BuildLimits::default();
    let pf_mtu = |mtu: u32| {
        edit(
            FULL,
            "[pf]\nmac = \"02:00:00:00:00:10\"\nmtu = 1500",
            &format!("[pf]\nmtu = {mtu}"),
        )
    };
    assert_eq!(
        validate_err(&pf_mtu(0), &limits),
        ConfigError::ZeroMtu {
            function: Function::Pf
        }
    );
    assert_eq!(parse(&pf_mtu(16384 - 18)).validate(&limits), Ok(()));
    assert_eq!(
        validate_err(&pf_mtu(16384 - 17), &limits),
        ConfigError::MtuTooLarge {
            function: Function::Pf,
            mtu: 16367,
            max_frame: 16384
        }
    );
    assert!(matches!(
        validate_err(&pf_mtu(u32::MAX), &limits),
        ConfigError::MtuTooLarge { .. }
    ));
    let vf1_mtu = |mtu: u32| {
        edit(
            FULL,
            "mac = \"02:00:00:00:01:01\"",
            &format!("mac = \"02:00:00:00:01:01\"\nmtu = {mtu}"),
        )
    };
    assert_eq!(
        validate_err(&vf1_mtu(0), &limits),
        ConfigError::ZeroMtu {
            function: Function::Vf(1)
        }
    );
    let small = BuildLimits {
        max_frame: 1518,
        ..limits
    };
    assert_eq!(parse(&vf1_mtu(1500)).validate(&small), Ok(()));
    assert_eq!(
        validate_err(&vf1_mtu(1501), &small),
        ConfigError::MtuTooLarge {
            function: Function::Vf(1),
            mtu: 1501,
            max_frame: 1518
        }
    );
}

#[test]
fn counts_must_fit_the_build() {
    let c = parse(FULL);
    let limits = BuildLimits::default();
    assert_eq!(
        c.validate(&BuildLimits { vfs: 1, ..limits }),
        Err(ConfigError::TooManyVfs { count: 2, limit: 1 })
    );
    assert_eq!(c.validate(&BuildLimits { vfs: 2, ..limits }), Ok(()));
    assert_eq!(
        c.validate(&BuildLimits {
            table_entries: 0,
            ..limits
        }),
        Err(ConfigError::TooManyEntries { count: 1, limit: 0 })
    );
    assert_eq!(
        c.validate(&BuildLimits {
            vni_records: 0,
            ..limits
        }),
        Err(ConfigError::TooManyVniRecords { count: 1, limit: 0 })
    );
    // The default build: 4 VFs, 64 entries, 16 VNI records.
    let mut text = MINIMAL.to_owned();
    for i in 0..5 {
        text += &format!("[[vf]]\nmac = \"02:00:00:00:00:{i:02x}\"\n");
    }
    assert_eq!(
        validate_err(&text, &limits),
        ConfigError::TooManyVfs { count: 5, limit: 4 }
    );
    let mut text = MINIMAL.to_owned();
    for i in 0..17 {
        text += &VNI_RECORD.replace("vni = 7", &format!("vni = {i}"));
    }
    assert_eq!(
        validate_err(&text, &limits),
        ConfigError::TooManyVniRecords {
            count: 17,
            limit: 16
        }
    );
    let mut text = format!("{MINIMAL}{VNI_RECORD}");
    for i in 0..65 {
        text += &format!(
            "[[entry]]\nvni = 7\nmac = \"02:00:00:00:00:{i:02x}\"\n\
             vtep_ip = \"10.0.0.2\"\nvtep_mac = \"02:00:0a:00:00:02\"\n"
        );
    }
    assert_eq!(
        validate_err(&text, &limits),
        ConfigError::TooManyEntries {
            count: 65,
            limit: 64
        }
    );
}

#[test]
fn max_frame_must_be_encapsulable() {
    let c = parse(FULL);
    let limits = BuildLimits {
        max_frame: MAX_INNER_LEN + 1,
        ..BuildLimits::default()
    };
    assert_eq!(
        c.validate(&limits),
        Err(ConfigError::MaxFrameTooLarge {
            max_frame: 65500,
            limit: 65499
        })
    );
    let limits = BuildLimits {
        max_frame: MAX_INNER_LEN,
        ..limits
    };
    assert_eq!(c.validate(&limits), Ok(()));
}

#[test]
fn multicast_group_must_be_multicast() {
    let limits = BuildLimits::default();
    for bad in [
        "223.255.255.255",
        "240.0.0.0",
        "10.0.0.1",
        "255.255.255.255",
    ] {
        let text = edit(FULL, "239.1.1.1", bad);
        assert_eq!(
            validate_err(&text, &limits),
            ConfigError::NotMulticast {
                vni: vni(5001),
                group: bad.parse().expect("test address")
            }
        );
    }
    for good in ["224.0.0.0", "239.255.255.255", "232.1.2.3"] {
        assert_eq!(
            parse(&edit(FULL, "239.1.1.1", good)).validate(&limits),
            Ok(())
        );
    }
}

#[test]
fn errors_display_their_context() {
    let e = parse_err(&edit(FULL, "\"02:00:00:00:01:01\"", "\"zz\""));
    assert_eq!(
        e.to_string(),
        "`vf[1].mac` = \"zz\" at line 23, column 7 is not a MAC address (aa:bb:cc:dd:ee:ff)"
    );
    let e = ConfigError::ZeroMtu {
        function: Function::Vf(3),
    };
    assert_eq!(e.to_string(), "VF3: MTU 0");
}

proptest! {
    #[test]
    fn any_text_never_panics(text in ".{0,400}") {
        if let Ok(c) = NicConfig::from_toml(&text) {
            let _ = c.validate(&BuildLimits::default());
        }
    }

    #[test]
    fn tomlish_text_never_panics(text in "[\\[\\]a-z_=\"0-9:., \n{}#-]{0,300}") {
        if let Ok(c) = NicConfig::from_toml(&text) {
            let _ = c.validate(&BuildLimits::default());
        }
    }

    /// The full config with a few bytes changed: mostly valid TOML with bad
    /// values, which exercises the typed checks.
    #[test]
    fn mutated_config_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<char>()), 1..4),
        limits in (0usize..6, 0usize..3, 0usize..3, 0usize..70_000),
    ) {
        let mut chars: Vec<char> = FULL.chars().collect();
        for (at, c) in edits {
            let i = at.index(chars.len());
            chars[i] = c;
        }
        let text: String = chars.into_iter().collect();
        if let Ok(c) = NicConfig::from_toml(&text) {
            let (vfs, table_entries, vni_records, max_frame) = limits;
            let limits = BuildLimits { vfs, table_entries, vni_records, max_frame };
            let _ = c.validate(&limits).map_err(|e| e.to_string());
        } else if let Err(e) = NicConfig::from_toml(&text) {
            let _ = e.to_string();
        }
    }

    #[test]
    fn mac_display_parses_back(bytes in any::<[u8; 6]>()) {
        let m = MacAddr(bytes);
        prop_assert_eq!(m.to_string().parse::<MacAddr>(), Ok(m));
        prop_assert_eq!(m.to_string().to_uppercase().parse::<MacAddr>(), Ok(m));
    }

    #[test]
    fn position_never_panics(text in ".{0,50}", offset in 0usize..100) {
        let p = Position::of(&text, offset);
        prop_assert!(p.line >= 1 && p.column >= 1);
    }
}

#[test]
fn rx_table_is_optional_and_defaults_off() {
    assert_eq!(parse(MINIMAL).rx, RxConfig::default());
    assert_eq!(parse(FULL).rx, RxConfig::default());
    assert_eq!(
        RxConfig::default(),
        RxConfig {
            strict_vxlan_flags: false,
            check_source_mac: false
        }
    );
    assert_eq!(parse(&format!("{MINIMAL}[rx]\n")).rx, RxConfig::default());
    let c = parse(&format!(
        "{MINIMAL}[rx]\nstrict_vxlan_flags = true\ncheck_source_mac = true\n"
    ));
    assert_eq!(
        c.rx,
        RxConfig {
            strict_vxlan_flags: true,
            check_source_mac: true
        }
    );
    let c = parse(&format!("{MINIMAL}[rx]\ncheck_source_mac = true\n"));
    assert!(!c.rx.strict_vxlan_flags && c.rx.check_source_mac);
    // NicConfig::new starts from the defaults too.
    assert_eq!(NicConfig::new(c.vtep.clone()).rx, RxConfig::default());
}

#[test]
fn rx_table_refuses_unknown_keys_and_wrong_types() {
    // MINIMAL starts with an empty line: "[rx]" is on line 7, the key on 8.
    let e = parse_err(&format!("{MINIMAL}[rx]\nstrict = true\n"));
    let ConfigError::UnknownKey { key, at: p } = &e else {
        panic!("{e:?}");
    };
    assert_eq!(key, "strict");
    assert_eq!(p.map(|p| p.line), Some(8), "{e}");
    for bad in ["strict_vxlan_flags = 1", "check_source_mac = \"yes\""] {
        let e = parse_err(&format!("{MINIMAL}[rx]\n{bad}\n"));
        assert!(matches!(e, ConfigError::Schema { .. }), "{bad}: {e:?}");
    }
    // `rx` must be a table (at the top level, before `[vtep]`).
    let e = parse_err(&format!("rx = 3\n{MINIMAL}"));
    assert!(matches!(e, ConfigError::Schema { .. }), "{e:?}");
}
