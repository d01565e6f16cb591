use super::*;
use crate::offload::OffloadRequest;
use crate::registers::{RegisterError, Registers};
use crate::rx::RxOutcome;
use crate::vxlan::{encapsulate, EncapParams};
use overlay_nic_regmap::Access;
use proptest::prelude::*;

const CONFIG: &str = r#"
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
vni = 5001
mtu = 1000

[[vf]]
mac = "02:00:00:00:01:02"

[[vni]]
vni = 5001
multicast_group = "239.1.1.1"
gateway_ip = "10.0.1.254"
gateway_mac = "02:00:0a:00:01:fe"

[[vni]]
vni = 5002
multicast_group = "239.1.1.2"
gateway_ip = "10.0.0.254"
gateway_mac = "02:00:0a:00:00:fd"
miss_policy = "gateway"

[[vni]]
vni = 5003
multicast_group = "239.1.1.3"
gateway_ip = "10.0.0.254"
gateway_mac = "02:00:0a:00:00:fd"
miss_policy = "drop"

[[entry]]
vni = 5001
mac = "02:00:00:00:02:00"
vtep_ip = "10.0.0.2"
vtep_mac = "02:00:0a:00:00:02"

[[entry]]
vni = 5002
mac = "02:00:00:00:02:01"
vtep_ip = "10.0.5.3"
vtep_mac = "02:00:0a:00:05:03"
"#;

const VF_MACS: [[u8; 6]; 3] = [[2, 0, 0, 0, 1, 0], [2, 0, 0, 0, 1, 1], [2, 0, 0, 0, 1, 2]];
const KNOWN: [u8; 6] = [2, 0, 0, 0, 2, 0];
const UNKNOWN: [u8; 6] = [2, 0, 0, 0, 2, 0x99];

fn config() -> NicConfig {
    NicConfig::from_toml(CONFIG).unwrap()
}

fn vni(v: u32) -> Vni {
    Vni::new(v).unwrap()
}

fn regs(nic: &mut NicModel) -> Registers<DeviceBar<'_, NicModel>> {
    Registers::new(DeviceBar::new(nic, Function::Pf))
}

fn fnreg(f: usize, r: &Register) -> Register {
    pf::function_register(f, r)
}

/// The driver's programming sequence (`sim/src/tx.rs` `program_registers`).
fn program(nic: &mut NicModel, c: &NicConfig) -> Result<(), RegisterError> {
    let mut r = regs(nic);
    let v = &c.vtep;
    r.write(&pf::VTEP_MAC_HI, mac_hi(v.mac.0))?;
    r.write(&pf::VTEP_MAC_LO, mac_lo(v.mac.0))?;
    r.write(&pf::VTEP_IP, u32::from(v.ip))?;
    r.write(&pf::VTEP_NETMASK, u32::from(v.netmask))?;
    r.write(&pf::VTEP_GW_MAC_HI, mac_hi(v.gateway_mac.0))?;
    r.write(&pf::VTEP_GW_MAC_LO, mac_lo(v.gateway_mac.0))?;
    r.write(&pf::VXLAN_UDP_PORT, u32::from(v.udp_port))?;
    let range = v.src_port_range;
    r.write(
        &pf::UDP_SRC_PORT_RANGE,
        u32::from(range.lo) | u32::from(range.hi) << 16,
    )?;
    r.write(&pf::OUTER_IP, crate::registers::outer_ip_value(v))?;
    let vlan = v
        .vlan
        .map_or(0, |t| 1 << 16 | u32::from(t.pcp) << 13 | u32::from(t.vid));
    r.write(&pf::OUTER_VLAN, vlan)?;
    r.write(
        &pf::RX_CONFIG,
        u32::from(c.rx.strict_vxlan_flags) | u32::from(c.rx.check_source_mac) << 1,
    )?;
    if let Some(mac) = c.pf.mac {
        r.write(&fnreg(0, &fr::MAC_HI), mac_hi(mac.0))?;
        r.write(&fnreg(0, &fr::MAC_LO), mac_lo(mac.0))?;
    }
    r.write(&fnreg(0, &fr::MTU), c.pf.mtu)?;
    for (i, vf) in c.vfs.iter().enumerate() {
        r.write(&fnreg(i + 1, &fr::MAC_HI), mac_hi(vf.mac.0))?;
        r.write(&fnreg(i + 1, &fr::MAC_LO), mac_lo(vf.mac.0))?;
        r.write(
            &fnreg(i + 1, &fr::VNI),
            vf.vni.map_or(0, |v| 1 << 31 | v.get()),
        )?;
        r.write(&fnreg(i + 1, &fr::MTU), vf.mtu)?;
    }
    for rec in &c.vnis {
        r.write(&pf::VNI_KEY, rec.vni.get())?;
        r.write(&pf::VNI_MCAST_IP, u32::from(rec.multicast_group))?;
        r.write(&pf::VNI_GW_IP, u32::from(rec.gateway_ip))?;
        r.write(&pf::VNI_GW_MAC_HI, mac_hi(rec.gateway_mac.0))?;
        r.write(&pf::VNI_GW_MAC_LO, mac_lo(rec.gateway_mac.0))?;
        r.write(&pf::VNI_POLICY, rec.miss_policy as u32)?;
        r.write(&pf::VNI_CMD, cmd::ADD)?;
        assert_eq!(r.read(&pf::VNI_STATUS)? & 0x10f, result::OK);
    }
    for e in &c.entries {
        stage_key(&mut r, e.vni.get(), e.mac.0)?;
        r.write(&pf::MAP_VTEP_IP, u32::from(e.vtep_ip))?;
        r.write(&pf::MAP_VTEP_MAC_HI, mac_hi(e.vtep_mac.0))?;
        r.write(&pf::MAP_VTEP_MAC_LO, mac_lo(e.vtep_mac.0))?;
        r.write(&pf::MAP_CMD, cmd::ADD)?;
        assert_eq!(r.read(&pf::MAP_STATUS)? & 0x10f, result::OK);
    }
    Ok(())
}

fn stage_key<B: RegisterBus>(
    r: &mut Registers<B>,
    vni: u32,
    mac: [u8; 6],
) -> Result<(), RegisterError> {
    r.write(&pf::MAP_KEY_VNI, vni)?;
    r.write(&pf::MAP_KEY_MAC_HI, mac_hi(mac))?;
    r.write(&pf::MAP_KEY_MAC_LO, mac_lo(mac))
}

fn programmed() -> NicModel {
    let mut nic = NicModel::new(Build::DEFAULT);
    program(&mut nic, &config()).unwrap();
    nic
}

/// An Ethernet frame of `len` bytes (at least 14): dst, src, 0x88b5, zeros.
fn eth(dst: [u8; 6], src: [u8; 6], len: usize) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend(src);
    f.extend([0x88, 0xb5]);
    f.resize(len.max(14), 0);
    f
}

/// `inner` as the remote VTEP `from_ip` (MAC `from_mac`) sends it to this
/// NIC's VTEP in `vni`.
fn overlay(inner: &[u8], vni: u32, from_ip: [u8; 4], from_mac: [u8; 6]) -> Vec<u8> {
    let p = EncapParams::new(
        from_mac,
        [2, 0, 0x0a, 0, 0, 1],
        Ipv4Addr::from(from_ip),
        Ipv4Addr::new(10, 0, 0, 1),
        vni,
    )
    .unwrap();
    encapsulate(inner, &p).unwrap()
}

/// The event registers' view of the oldest event, then pops it.
fn pop_event(nic: &mut NicModel) -> Option<NicEvent> {
    let mut r = regs(nic);
    if r.read(&pf::EVENT_STATUS).unwrap() == 0 {
        assert_eq!(r.read(&pf::EVENT_TYPE_VNI).unwrap(), 0, "zeros when empty");
        return None;
    }
    let type_vni = r.read(&pf::EVENT_TYPE_VNI).unwrap();
    let mac = MacAddr(mac_from(
        r.read(&pf::EVENT_MAC_HI).unwrap(),
        r.read(&pf::EVENT_MAC_LO).unwrap(),
    ));
    let vtep_ip = Ipv4Addr::from(r.read(&pf::EVENT_VTEP_IP).unwrap());
    let vtep_mac = MacAddr(mac_from(
        r.read(&pf::EVENT_VTEP_MAC_HI).unwrap(),
        r.read(&pf::EVENT_VTEP_MAC_LO).unwrap(),
    ));
    r.write(&pf::EVENT_POP, 1).unwrap();
    let vni = vni_of(type_vni);
    Some(match type_vni >> 24 {
        pf::event::TX_MISS => {
            assert_eq!(
                (vtep_ip, vtep_mac),
                (Ipv4Addr::UNSPECIFIED, MacAddr([0; 6]))
            );
            NicEvent::TxMiss { vni, mac }
        }
        pf::event::LEARN => NicEvent::Learn {
            vni,
            mac,
            vtep_ip,
            vtep_mac,
        },
        kind => panic!("event type {kind}"),
    })
}

const SMALL: Build = Build {
    vfs: 1,
    table_entries: 4,
    vni_records: 2,
    event_depth: 3,
    max_frame: 2048,
};

#[test]
fn every_register_reads_as_after_reset() {
    for build in [Build::DEFAULT, SMALL] {
        let mut nic = NicModel::new(build);
        let table = pf::table(&build);
        let mut refused = 0;
        for reg in &table {
            let got = nic.bar_read(Function::Pf, reg.offset);
            match reg.access {
                Access::Constant | Access::ReadWrite => {
                    assert_eq!(got, Ok(reg.reset), "{}", reg.name)
                }
                Access::ReadOnly => assert_eq!(got, Ok(0), "{}", reg.name),
                Access::WriteOnly => {
                    assert_eq!(got, Err(BusError::Slave { offset: reg.offset }));
                    refused += 1;
                }
                Access::BusErrorCount | Access::BusErrorAddress => {}
            }
        }
        let mut r = regs(&mut nic);
        assert_eq!(r.read(&pf::BUS_ERRORS), Ok(refused));
        assert_eq!(r.read(&pf::BUS_ERROR_ADDR), Ok(pf::EVENT_POP.offset));
        assert_eq!(r.read(&pf::ID), Ok(pf::ID_VALUE));
        assert_eq!(r.read(&pf::VERSION), Ok(pf::VERSION_VALUE));
        assert_eq!(r.read(&pf::CAPABILITY), Ok(build.capability()));
        assert_eq!(r.read(&pf::TABLE_SIZES), Ok(build.table_sizes()));
        assert_eq!(r.read(&pf::MAX_FRAME), Ok(build.max_frame_word()));
        assert_eq!(nic.build(), build);
        for i in 0..build.vfs {
            assert_eq!(
                nic.bar_read(Function::Vf(i), vf::ID.offset),
                Ok(vf::ID_VALUE)
            );
            assert_eq!(
                nic.bar_read(Function::Vf(i), vf::VERSION.offset),
                Ok(pf::VERSION_VALUE)
            );
            let mtu = vf::function_register(&fr::MTU).offset;
            assert_eq!(nic.bar_read(Function::Vf(i), mtu), Ok(1500));
        }
    }
    assert_eq!(NicModel::new(Build::DEFAULT).config().vfs.len(), 4);
}

#[test]
fn builds_that_do_not_fit_the_registers_are_refused() {
    let bad = [
        (
            Build { vfs: 16, ..SMALL },
            BuildError::TooManyVfs { vfs: 16 },
        ),
        (
            Build {
                table_entries: 0,
                ..SMALL
            },
            BuildError::Size {
                what: "table_entries",
                size: 0,
            },
        ),
        (
            Build {
                event_depth: 1 << 16,
                ..SMALL
            },
            BuildError::Size {
                what: "event_depth",
                size: 1 << 16,
            },
        ),
        (
            Build {
                max_frame: 65500,
                ..SMALL
            },
            BuildError::MaxFrame { max_frame: 65500 },
        ),
    ];
    for (build, e) in bad {
        assert_eq!(NicModel::try_new(build).err(), Some(e));
    }
    assert!(NicModel::try_new(Build { vfs: 15, ..SMALL }).is_ok());
}

#[test]
fn pf_bus_responses_masks_and_error_registers() {
    let mut nic = NicModel::new(SMALL);
    let mut r = regs(&mut nic);
    let bus = r.bus();
    bus.write32(pf::VXLAN_UDP_PORT.offset, !0).unwrap();
    assert_eq!(bus.read32(pf::VXLAN_UDP_PORT.offset), Ok(0xffff));
    bus.write32(pf::OUTER_VLAN.offset, !0).unwrap();
    assert_eq!(bus.read32(pf::OUTER_VLAN.offset), Ok(0x1_efff));
    bus.write32(pf::SCRATCH.offset, 0x1234_5678).unwrap();
    assert_eq!(bus.read32(pf::SCRATCH.offset), Ok(0x1234_5678));
    assert_eq!(
        bus.write32(pf::ID.offset, 1),
        Err(BusError::Slave { offset: 0 })
    );
    assert_eq!(
        bus.write32(pf::MAP_STATUS.offset, 1),
        Err(BusError::Slave { offset: 0x120 })
    );
    assert_eq!(bus.read32(0x9), Err(BusError::Slave { offset: 0x9 }));
    assert_eq!(bus.read32(0x0ffc), Err(BusError::Decode { offset: 0x0ffc }));
    // SMALL has one VF: VF1's block (function 2) is not there.
    let vf1_mtu = pf::FUNCTION_BASE + 2 * pf::FUNCTION_STRIDE + fr::MTU.offset;
    assert_eq!(
        bus.read32(vf1_mtu),
        Err(BusError::Decode { offset: vf1_mtu })
    );
    assert_eq!(
        bus.read32(0x1_0000),
        Err(BusError::OutOfRange { offset: 0x1_0000 })
    );
    assert_eq!(r.read(&pf::BUS_ERRORS), Ok(5));
    assert_eq!(r.read(&pf::BUS_ERROR_ADDR), Ok(vf1_mtu));
    // None of it reached a VF's error registers.
    assert_eq!(nic.bar_read(Function::Vf(0), vf::BUS_ERRORS.offset), Ok(0));
    // A function block's MAC is what the datapath uses.
    let mut r = regs(&mut nic);
    r.write(&fnreg(1, &fr::MAC_HI), 0x0211).unwrap();
    r.write(&fnreg(1, &fr::MAC_LO), 0x2233_4455).unwrap();
    assert_eq!(
        nic.config().vfs[0].mac,
        MacAddr([2, 0x11, 0x22, 0x33, 0x44, 0x55])
    );
}

/// Stages (VNI 7, MAC ..:`last`) → 10.0.0.`ip` and rings ADD; the status.
fn map_add(nic: &mut NicModel, last: u8, ip: u8) -> u32 {
    let mut r = regs(nic);
    stage_key(&mut r, 7, [2, 0, 0, 0, 3, last]).unwrap();
    r.write(&pf::MAP_VTEP_IP, u32::from_be_bytes([10, 0, 0, ip]))
        .unwrap();
    r.write(&pf::MAP_CMD, cmd::ADD).unwrap();
    r.read(&pf::MAP_STATUS).unwrap()
}

/// Rings `code` on MAP_CMD with key ..:`last`; the status.
fn map_cmd(nic: &mut NicModel, code: u32, last: u8) -> u32 {
    let mut r = regs(nic);
    stage_key(&mut r, 7, [2, 0, 0, 0, 3, last]).unwrap();
    r.write(&pf::MAP_CMD, code).unwrap();
    r.read(&pf::MAP_STATUS).unwrap()
}

fn map_read(nic: &mut NicModel, index: u32) -> (u32, u32, u32) {
    let mut r = regs(nic);
    r.write(&pf::MAP_INDEX, index).unwrap();
    r.write(&pf::MAP_CMD, cmd::READ).unwrap();
    (
        r.read(&pf::MAP_STATUS).unwrap() & 0xf,
        r.read(&pf::MAP_RD_KEY_VNI).unwrap(),
        r.read(&pf::MAP_RD_INDEX).unwrap(),
    )
}

fn status(count: u32, result: u32) -> u32 {
    count << 16 | result
}

#[test]
fn mapping_table_commands_follow_the_cam() {
    let mut nic = NicModel::new(SMALL);
    for i in 0..4 {
        assert_eq!(
            map_add(&mut nic, i, 10 + i),
            status(u32::from(i) + 1, result::OK)
        );
    }
    assert_eq!(map_add(&mut nic, 9, 99), status(4, result::FULL));
    // FIND gives the slot ADD took and the whole entry.
    assert_eq!(map_cmd(&mut nic, cmd::FIND, 2), status(4, result::OK));
    let mut r = regs(&mut nic);
    assert_eq!(r.read(&pf::MAP_RD_INDEX), Ok(2));
    assert_eq!(r.read(&pf::MAP_RD_KEY_VNI), Ok(1 << 31 | 7));
    assert_eq!(r.read(&pf::MAP_RD_KEY_MAC_HI), Ok(0x0200));
    assert_eq!(r.read(&pf::MAP_RD_KEY_MAC_LO), Ok(0x0000_0302));
    assert_eq!(r.read(&pf::MAP_RD_VTEP_IP), Ok(0x0a00_000c));
    // ADD of a key already there replaces it in place, even when full.
    assert_eq!(map_add(&mut nic, 2, 77), status(4, result::OK));
    assert_eq!(map_cmd(&mut nic, cmd::FIND, 2), status(4, result::OK));
    let mut r = regs(&mut nic);
    assert_eq!(r.read(&pf::MAP_RD_INDEX), Ok(2));
    assert_eq!(r.read(&pf::MAP_RD_VTEP_IP), Ok(0x0a00_004d));
    // DELETE, then ADD takes the lowest free slot.
    assert_eq!(map_cmd(&mut nic, cmd::DELETE, 3), status(3, result::OK));
    assert_eq!(map_cmd(&mut nic, cmd::DELETE, 1), status(2, result::OK));
    assert_eq!(
        map_cmd(&mut nic, cmd::DELETE, 1),
        status(2, result::NOT_FOUND)
    );
    assert_eq!(map_read(&mut nic, 1).0, result::OK);
    assert_eq!(map_read(&mut nic, 1).1 >> 31, 0, "slot 1 is free");
    assert_eq!(map_add(&mut nic, 5, 55), status(3, result::OK));
    assert_eq!(map_cmd(&mut nic, cmd::FIND, 5), status(3, result::OK));
    assert_eq!(regs(&mut nic).read(&pf::MAP_RD_INDEX), Ok(1));
    assert_eq!(map_read(&mut nic, 1), (result::OK, 1 << 31 | 7, 1));
    assert_eq!(map_read(&mut nic, 3).1 >> 31, 0, "slot 3 is free");
    // READ past the end: BAD_INDEX, the read-back no longer valid.
    assert_eq!(map_read(&mut nic, 0).1 >> 31, 1);
    assert_eq!(map_read(&mut nic, 4).0, result::BAD_INDEX);
    assert_eq!(
        regs(&mut nic).read(&pf::MAP_RD_KEY_VNI).map(|v| v >> 31),
        Ok(0)
    );
    // The datapath sees the entries in slot order.
    let entries: Vec<_> = nic.config().entries.iter().map(|e| e.mac.0[5]).collect();
    assert_eq!(entries, [0, 5, 2]);
    // Unknown command codes (bits 2:0).
    for code in [0, 6, 7] {
        assert_eq!(map_cmd(&mut nic, code, 0), status(3, result::BAD_COMMAND));
    }
    assert_eq!(map_cmd(&mut nic, 8 | cmd::FIND, 0), status(3, result::OK));
    // CLEAR frees everything.
    assert_eq!(map_cmd(&mut nic, cmd::CLEAR, 0), status(0, result::OK));
    assert_eq!(
        map_cmd(&mut nic, cmd::FIND, 0),
        status(0, result::NOT_FOUND)
    );
    assert!(nic.config().entries.is_empty());
    assert_eq!(map_add(&mut nic, 8, 8), status(1, result::OK));
    assert_eq!(regs(&mut nic).read(&pf::BUS_ERRORS), Ok(0));
}

/// Stages a VNI record and rings `code`; the status.
fn vni_cmd(nic: &mut NicModel, code: u32, key: u32, policy: u32) -> u32 {
    let mut r = regs(nic);
    r.write(&pf::VNI_KEY, key).unwrap();
    r.write(&pf::VNI_MCAST_IP, 0xef00_0000 | key).unwrap();
    r.write(&pf::VNI_GW_IP, 0x0a00_0000 | key).unwrap();
    r.write(&pf::VNI_GW_MAC_HI, 0x0200).unwrap();
    r.write(&pf::VNI_GW_MAC_LO, key).unwrap();
    r.write(&pf::VNI_POLICY, policy).unwrap();
    r.write(&pf::VNI_CMD, code).unwrap();
    r.read(&pf::VNI_STATUS).unwrap()
}

#[test]
fn vni_record_commands_follow_the_cam() {
    let mut nic = NicModel::new(SMALL);
    assert_eq!(vni_cmd(&mut nic, cmd::ADD, 100, 0), status(1, result::OK));
    assert_eq!(vni_cmd(&mut nic, cmd::ADD, 200, 1), status(2, result::OK));
    assert_eq!(vni_cmd(&mut nic, cmd::ADD, 300, 2), status(2, result::FULL));
    assert_eq!(vni_cmd(&mut nic, cmd::ADD, 200, 3), status(2, result::OK));
    assert_eq!(vni_cmd(&mut nic, cmd::FIND, 200, 0), status(2, result::OK));
    let mut r = regs(&mut nic);
    assert_eq!(r.read(&pf::VNI_RD_INDEX), Ok(1));
    assert_eq!(r.read(&pf::VNI_RD_KEY), Ok(1 << 31 | 200));
    assert_eq!(r.read(&pf::VNI_RD_MCAST_IP), Ok(0xef00_00c8));
    assert_eq!(r.read(&pf::VNI_RD_GW_IP), Ok(0x0a00_00c8));
    assert_eq!(r.read(&pf::VNI_RD_GW_MAC_HI), Ok(0x0200));
    assert_eq!(r.read(&pf::VNI_RD_GW_MAC_LO), Ok(200));
    assert_eq!(r.read(&pf::VNI_RD_POLICY), Ok(3), "replaced in place");
    // Policy 3 drops a miss, as the hardware does.
    let records = nic.config().vnis;
    assert_eq!(records[1].miss_policy, MissPolicy::Drop);
    assert_eq!(records[1].multicast_group, Ipv4Addr::new(239, 0, 0, 200));
    assert_eq!(
        vni_cmd(&mut nic, cmd::DELETE, 100, 0),
        status(1, result::OK)
    );
    assert_eq!(
        vni_cmd(&mut nic, cmd::DELETE, 100, 0),
        status(1, result::NOT_FOUND)
    );
    assert_eq!(
        vni_cmd(&mut nic, cmd::FIND, 100, 0),
        status(1, result::NOT_FOUND)
    );
    assert_eq!(regs(&mut nic).read(&pf::VNI_RD_KEY).map(|v| v >> 31), Ok(0));
    let mut r = regs(&mut nic);
    r.write(&pf::VNI_INDEX, 0).unwrap();
    r.write(&pf::VNI_CMD, cmd::READ).unwrap();
    assert_eq!(r.read(&pf::VNI_STATUS), Ok(status(1, result::OK)));
    assert_eq!(
        r.read(&pf::VNI_RD_KEY).map(|v| v >> 31),
        Ok(0),
        "empty slot"
    );
    assert_eq!(r.read(&pf::VNI_RD_INDEX), Ok(0));
    r.write(&pf::VNI_INDEX, 2).unwrap();
    r.write(&pf::VNI_CMD, cmd::READ).unwrap();
    assert_eq!(r.read(&pf::VNI_STATUS), Ok(status(1, result::BAD_INDEX)));
    assert_eq!(vni_cmd(&mut nic, cmd::ADD, 400, 0), status(2, result::OK));
    assert_eq!(vni_cmd(&mut nic, cmd::FIND, 400, 0), status(2, result::OK));
    assert_eq!(
        regs(&mut nic).read(&pf::VNI_RD_INDEX),
        Ok(0),
        "lowest free slot"
    );
    assert_eq!(vni_cmd(&mut nic, 0, 400, 0), status(2, result::BAD_COMMAND));
    assert_eq!(vni_cmd(&mut nic, cmd::CLEAR, 0, 0), status(0, result::OK));
    assert!(nic.config().vnis.is_empty());
    // The mapping table was never touched.
    assert_eq!(regs(&mut nic).read(&pf::MAP_STATUS), Ok(0));
}

#[test]
fn tx_misses_and_rx_learn_events_share_one_queue() {
    let mut nic = programmed();
    assert_eq!(pop_event(&mut nic), None);
    // VF0 to an unknown MAC: flooded, one miss event for two frames.
    let miss = HostFrame::new(Function::Vf(0), eth(UNKNOWN, VF_MACS[0], 60));
    let wire = nic.transmit(&[miss.clone(), miss.clone()]).unwrap();
    assert_eq!(wire.len(), 2);
    // A frame from an unknown source in VNI 5001: to the PF, a learn event.
    let from = [2, 0, 0, 0, 2, 0x42];
    let rx = nic
        .receive(&[overlay(
            &eth(VF_MACS[0], from, 60),
            5001,
            [10, 0, 0, 7],
            [2, 0, 0x0a, 0, 0, 7],
        )])
        .unwrap();
    assert_eq!(rx.len(), 1);
    assert_eq!((rx[0].function, rx[0].meta.learn), (Function::Pf, true));
    assert_eq!(regs(&mut nic).read(&pf::EVENT_STATUS), Ok(2));
    assert_eq!(
        pop_event(&mut nic),
        Some(NicEvent::TxMiss {
            vni: vni(5001),
            mac: MacAddr(UNKNOWN)
        })
    );
    assert_eq!(
        pop_event(&mut nic),
        Some(NicEvent::Learn {
            vni: vni(5001),
            mac: MacAddr(from),
            vtep_ip: Ipv4Addr::new(10, 0, 0, 7),
            vtep_mac: MacAddr([2, 0, 0x0a, 0, 0, 7]),
        })
    );
    assert_eq!(pop_event(&mut nic), None);
    // Popping an empty queue does nothing.
    regs(&mut nic).write(&pf::EVENT_POP, 1).unwrap();
    // Once drained, the same miss is reported again.
    nic.transmit(&[miss]).unwrap();
    assert_eq!(regs(&mut nic).read(&pf::EVENT_STATUS), Ok(1));
    regs(&mut nic).write(&pf::EVENT_POP, 0).unwrap();
    // Full: 16 queued, the rest lost (merged ones are not lost).
    let frames: Vec<_> = (0..20u8)
        .map(|i| HostFrame::new(Function::Vf(0), eth([2, 0, 0, 0, 9, i], VF_MACS[0], 60)))
        .collect();
    nic.transmit(&frames).unwrap();
    nic.transmit(&frames[19..]).unwrap();
    let mut r = regs(&mut nic);
    assert_eq!(r.read(&pf::EVENT_STATUS), Ok(16));
    assert_eq!(r.read(&pf::EVENT_LOST), Ok(5));
    assert_eq!(r.read(&pf::EVENT_MAC_LO), Ok(0x0000_0900));
    let c = fnreg(1, &fr::TX_MISSES);
    assert_eq!(r.read(&c), Ok(2 + 1 + 21));
}

#[test]
fn a_vf_bar_shows_its_own_block_read_only() {
    let mut nic = programmed();
    let to_known = HostFrame::new(Function::Vf(0), eth(KNOWN, VF_MACS[0], 100));
    let spoofed = HostFrame::new(Function::Vf(0), eth(KNOWN, UNKNOWN, 100));
    nic.transmit(&[to_known, spoofed]).unwrap();
    let rx = nic
        .receive(&[overlay(
            &eth(VF_MACS[0], KNOWN, 80),
            5001,
            [10, 0, 0, 2],
            [2, 0, 0x0a, 0, 0, 2],
        )])
        .unwrap();
    assert_eq!(rx[0].function, Function::Vf(0));
    let vf0 = Function::Vf(0);
    for r in vf::table().iter().filter(|r| r.offset >= vf::FUNCTION_BASE) {
        let block = fnreg(
            1,
            &Register {
                offset: r.offset - vf::FUNCTION_BASE,
                ..*r
            },
        );
        let from_pf = nic.bar_read(Function::Pf, block.offset).unwrap();
        assert_eq!(nic.bar_read(vf0, r.offset), Ok(from_pf), "{}", r.name);
    }
    let read =
        |nic: &mut NicModel, r: &Register| nic.bar_read(vf0, vf::function_register(r).offset);
    assert_eq!(read(&mut nic, &fr::TX_FRAMES), Ok(2));
    assert_eq!(read(&mut nic, &fr::TX_BYTES), Ok(200));
    assert_eq!(read(&mut nic, &fr::TX_ENCAPSULATED), Ok(1));
    assert_eq!(read(&mut nic, &fr::TX_DROP_SPOOFED), Ok(1));
    assert_eq!(read(&mut nic, &fr::RX_FRAMES), Ok(1));
    assert_eq!(read(&mut nic, &fr::RX_BYTES), Ok(80));
    assert_eq!(read(&mut nic, &fr::MAC_LO), Ok(0x0000_0100));
    assert_eq!(
        nic.bar_read(Function::Vf(1), vf::function_register(&fr::MTU).offset),
        Ok(1000)
    );
    // Writes are refused and counted in the VF's own registers.
    let mac_hi = vf::function_register(&fr::MAC_HI).offset;
    assert_eq!(
        nic.bar_write(vf0, mac_hi, 0x0299),
        Err(BusError::Slave { offset: 0x100 })
    );
    assert_eq!(
        nic.bar_write(vf0, vf::ID.offset, 0),
        Err(BusError::Slave { offset: 0 })
    );
    assert_eq!(nic.bar_read(vf0, mac_hi), Ok(0x0200), "unchanged");
    // The PF's registers, tables and events are not in the window.
    for offset in [
        0x0008, 0x0020, 0x0108, 0x011c, 0x0120, 0x0200, 0x0300, 0x0400, 0x0ffc,
    ] {
        assert_eq!(nic.bar_read(vf0, offset), Err(BusError::Decode { offset }));
    }
    assert_eq!(
        nic.bar_write(vf0, 0x011c, cmd::CLEAR),
        Err(BusError::Decode { offset: 0x11c })
    );
    assert_eq!(
        nic.bar_read(vf0, 0x1000),
        Err(BusError::OutOfRange { offset: 0x1000 })
    );
    assert_eq!(
        nic.bar_read(vf0, pf::MAP_STATUS.offset + vf::BAR_SIZE),
        Err(BusError::OutOfRange { offset: 0x1120 })
    );
    assert_eq!(nic.bar_read(vf0, vf::BUS_ERRORS.offset), Ok(12));
    assert_eq!(nic.bar_read(vf0, vf::BUS_ERROR_ADDR.offset), Ok(0x11c));
    assert_eq!(nic.bar_read(Function::Vf(1), vf::BUS_ERRORS.offset), Ok(0));
    let mut r = regs(&mut nic);
    assert_eq!(r.read(&pf::BUS_ERRORS), Ok(0));
    assert_eq!(
        r.read(&pf::MAP_STATUS),
        Ok(status(2, result::OK)),
        "table intact"
    );
    // A VF the build lacks.
    assert_eq!(
        nic.bar_read(Function::Vf(4), 0),
        Err(BusError::Decode { offset: 0 })
    );
    assert_eq!(
        nic.bar_write(Function::Vf(4), 0, 0),
        Err(BusError::Decode { offset: 0 })
    );
}

#[test]
fn datapath_refusals_change_nothing() {
    let mut nic = programmed();
    let good = HostFrame::new(Function::Pf, eth(KNOWN, VF_MACS[0], 60));
    assert_eq!(
        nic.transmit(&[
            good.clone(),
            HostFrame::new(Function::Vf(4), eth(KNOWN, KNOWN, 60))
        ]),
        Err(DeviceError::NoSuchFunction {
            function: Function::Vf(4),
            vfs: 4
        })
    );
    assert_eq!(
        nic.transmit(&[good.clone(), HostFrame::new(Function::Vf(0), Vec::new())]),
        Err(DeviceError::EmptyFrame)
    );
    assert_eq!(
        nic.receive(&[vec![0; 60], Vec::new()]),
        Err(DeviceError::EmptyFrame)
    );
    let mut r = regs(&mut nic);
    assert_eq!(r.read(&fnreg(0, &fr::TX_FRAMES)), Ok(0));
    assert_eq!(r.read(&pf::RX_WIRE_FRAMES), Ok(0));
    assert_eq!(nic.transmit(&[]), Ok(Vec::new()));
    assert_eq!(
        nic.transmit(std::slice::from_ref(&good)),
        Ok(vec![good.data])
    );
}

#[test]
fn frames_of_one_call_leave_in_round_robin_order() {
    let mut nic = NicModel::new(Build::DEFAULT);
    let mut r = regs(&mut nic);
    for (i, mac) in VF_MACS.iter().enumerate() {
        r.write(&fnreg(i + 1, &fr::MAC_HI), mac_hi(*mac)).unwrap();
        r.write(&fnreg(i + 1, &fr::MAC_LO), mac_lo(*mac)).unwrap();
    }
    // Plain VFs: the frames go out untouched, told apart by a byte.
    let frame = |f: Function, tag: u8| {
        let src = match f {
            Function::Vf(i) => VF_MACS[i],
            Function::Pf => [2, 0, 0, 0, 0, 0x10],
        };
        let mut data = eth(KNOWN, src, 60);
        data[20] = tag;
        HostFrame::new(f, data)
    };
    let order = |wire: Vec<Vec<u8>>| wire.iter().map(|w| w[20]).collect::<Vec<_>>();
    let (pf, vf0, vf1) = (Function::Pf, Function::Vf(0), Function::Vf(1));
    // After reset the round robin starts after the PF.
    let wire = nic
        .transmit(&[
            frame(pf, 1),
            frame(pf, 2),
            frame(vf0, 3),
            frame(vf0, 4),
            frame(vf1, 5),
            frame(pf, 6),
        ])
        .unwrap();
    assert_eq!(order(wire), [3, 5, 1, 4, 2, 6]);
    // The grant is parked on the PF: it goes first in the next call.
    let wire = nic
        .transmit(&[frame(vf1, 1), frame(vf0, 2), frame(pf, 3), frame(pf, 4)])
        .unwrap();
    assert_eq!(order(wire), [3, 2, 1, 4]);
    // Parked on the PF again; without a PF frame, VF0 is next.
    let wire = nic.transmit(&[frame(vf1, 1), frame(vf0, 2)]).unwrap();
    assert_eq!(order(wire), [2, 1]);
}

#[test]
fn every_tso_segment_leaves() {
    let mut nic = programmed();
    let mut frame = Vec::new();
    etherparse::PacketBuilder::ethernet2(VF_MACS[0], KNOWN)
        .ipv4([10, 1, 0, 1], [10, 1, 0, 2], 64)
        .tcp(1234, 80, 1000, 65535)
        .write(&mut frame, &[0x5a; 3000])
        .unwrap();
    let mut sent = HostFrame::new(Function::Vf(0), frame.clone());
    sent.offload = OffloadRequest::segmentation(1000);
    let wire = nic.transmit(&[sent.clone(), sent.clone()]).unwrap();
    let mut direct = TxModel::new(config(), BuildLimits::default(), 16).unwrap();
    let mut expected = Vec::new();
    for _ in 0..2 {
        let out = direct
            .transmit_with(Function::Vf(0), &frame, None, &sent.offload)
            .unwrap();
        expected.extend(out.frames().into_iter().map(<[u8]>::to_vec));
    }
    assert_eq!(wire.len(), 6);
    assert_eq!(wire, expected);
    let mut r = regs(&mut nic);
    assert_eq!(r.read(&fnreg(1, &fr::TX_TSO_SEGMENTS)), Ok(6));
    assert_eq!(r.read(&fnreg(1, &fr::TX_ENCAPSULATED)), Ok(6));
}

#[test]
fn any_register_state_is_accepted() {
    // After reset: zero MACs, no overlay, empty tables.
    let mut nic = NicModel::new(Build::DEFAULT);
    let zero = [0; 6];
    let frames = [
        HostFrame::new(Function::Vf(0), eth(KNOWN, zero, 60)),
        HostFrame::new(Function::Vf(1), eth(KNOWN, VF_MACS[1], 60)),
        HostFrame::new(Function::Pf, eth(KNOWN, VF_MACS[1], 60)).tagged(vni(5001)),
    ];
    let wire = nic.transmit(&frames).unwrap();
    assert_eq!(wire, [frames[0].data.clone()]);
    let mut r = regs(&mut nic);
    assert_eq!(r.read(&fnreg(2, &fr::TX_DROP_SPOOFED)), Ok(1));
    assert_eq!(r.read(&fnreg(0, &fr::TX_DROP_NO_VNI)), Ok(1));
    let rx = nic.receive(&[eth(KNOWN, zero, 60)]).unwrap();
    assert_eq!(rx[0].function, Function::Pf);
    // MTU 0: every frame with a payload is too long.
    regs(&mut nic).write(&fnreg(1, &fr::MTU), 0).unwrap();
    assert_eq!(nic.transmit(&frames[..1]), Ok(Vec::new()));
    // A VTEP the golden model cannot encapsulate with (TTL 0): plain
    // frames still go; an encapsulation is refused and changes nothing.
    let mut nic = programmed();
    regs(&mut nic).write(&pf::OUTER_IP, 0x100).unwrap();
    let plain = HostFrame::new(Function::Vf(2), eth(KNOWN, VF_MACS[2], 60));
    assert_eq!(
        nic.transmit(std::slice::from_ref(&plain)),
        Ok(vec![plain.data.clone()])
    );
    let encap = HostFrame::new(Function::Vf(0), eth(UNKNOWN, VF_MACS[0], 60));
    assert!(matches!(
        nic.transmit(std::slice::from_ref(&encap)),
        Err(DeviceError::Simulation(_))
    ));
    let mut r = regs(&mut nic);
    assert_eq!(r.read(&fnreg(1, &fr::TX_FRAMES)), Ok(0));
    assert_eq!(r.read(&pf::EVENT_STATUS), Ok(0));
    assert_eq!(nic.config().vtep.ttl, 0);
    regs(&mut nic).write(&pf::OUTER_IP, 0x140).unwrap();
    assert_eq!(nic.transmit(&[encap]).map(|w| w.len()), Ok(1));
}

#[test]
fn registers_decode_to_the_programmed_configuration() {
    let nic = programmed();
    let mut expected = config();
    expected.vfs.push(VfConfig {
        mac: MacAddr::default(),
        vni: None,
        mtu: 1500,
    });
    assert_eq!(nic.config(), expected);
}

/// The datapath's counters as the PF BAR shows them.
fn counter_registers(nic: &mut NicModel) -> Vec<u32> {
    let mut regs: Vec<u32> = pf::TABLE
        .iter()
        .filter(|r| r.offset >= pf::RX_WIRE_FRAMES.offset)
        .map(|r| r.offset)
        .collect();
    for f in 0..nic.build().functions() {
        regs.extend(
            fr::TABLE
                .iter()
                .filter(|r| r.access == Access::ReadOnly)
                .map(|r| fnreg(f, r).offset),
        );
    }
    regs.into_iter()
        .map(|o| nic.bar_read(Function::Pf, o).unwrap())
        .collect()
}

fn drain_events(nic: &mut NicModel) -> Vec<NicEvent> {
    std::iter::from_fn(|| pop_event(nic)).collect()
}

fn host_frame() -> impl Strategy<Value = HostFrame> {
    let dsts = [KNOWN, [2, 0, 0, 0, 2, 1], UNKNOWN, [0xff; 6], VF_MACS[1]];
    (
        0usize..4,
        0usize..dsts.len(),
        any::<bool>(),
        prop_oneof![Just(10usize), 14usize..200, 990usize..1040, 1500usize..1530],
        prop_oneof![
            Just(None),
            Just(Some(5001u32)),
            Just(Some(5002)),
            Just(Some(5003)),
            Just(Some(7))
        ],
        any::<u8>(),
    )
        .prop_map(move |(f, dst, own, len, tag, fill)| {
            let function = Function::from_index(f);
            let src = match function {
                Function::Vf(i) if own => VF_MACS[i],
                _ => [2, 0, 0, 0, 7, fill],
            };
            let mut data = eth(dsts[dst], src, len);
            data[14..].iter_mut().for_each(|b| *b = fill);
            data.truncate(len);
            HostFrame {
                function,
                data,
                tag: tag.map(vni),
                offload: OffloadRequest::default(),
            }
        })
}

fn wire_frame() -> impl Strategy<Value = Vec<u8>> {
    let dsts = [VF_MACS[0], VF_MACS[1], VF_MACS[2], [0xff; 6], UNKNOWN];
    (
        0usize..dsts.len(),
        any::<bool>(),
        prop_oneof![Just(5001u32), Just(5002), Just(7)],
        any::<bool>(),
        14usize..120,
        prop_oneof![3 => Just(None), 1 => (0usize..200, 1u8..).prop_map(Some)],
        prop_oneof![5 => Just(false), 1 => Just(true)],
    )
        .prop_map(move |(dst, known_src, vni, from_known, len, flip, plain)| {
            let src = if known_src { KNOWN } else { UNKNOWN };
            let inner = eth(dsts[dst], src, len);
            let mut frame = if plain {
                inner
            } else if from_known {
                overlay(&inner, vni, [10, 0, 0, 2], [2, 0, 0x0a, 0, 0, 2])
            } else {
                overlay(&inner, vni, [10, 0, 0, 9], [2, 0, 0x0a, 0, 0, 9])
            };
            if let Some((at, x)) = flip {
                let at = at % frame.len();
                frame[at] ^= x;
            }
            frame
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Frame by frame, the model's wire, counters and events are the
    /// golden TX model's on the configuration the registers were
    /// programmed from.
    #[test]
    fn transmit_agrees_with_the_tx_model(frames in proptest::collection::vec(host_frame(), 1..24)) {
        let mut nic = programmed();
        let mut direct = TxModel::new(config(), BuildLimits::default(), 16).unwrap();
        let mut events = EventQueueModel::new(16);
        for frame in &frames {
            let wire = nic.transmit(std::slice::from_ref(frame)).unwrap();
            let out = direct
                .transmit_with(frame.function, &frame.data, frame.tag, &frame.offload)
                .unwrap();
            prop_assert_eq!(wire, out.frames().into_iter().map(<[u8]>::to_vec).collect::<Vec<_>>());
            while let Some(e) = direct.pop_event() {
                events.raise(e);
            }
        }
        for f in 0..4 {
            let function = Function::from_index(f);
            let c = direct.counters(function);
            let mut r = regs(&mut nic);
            let read = |r: &mut Registers<_>, reg: &Register| r.read(&fnreg(f, reg)).unwrap();
            prop_assert_eq!(read(&mut r, &fr::TX_FRAMES), c.frames);
            prop_assert_eq!(read(&mut r, &fr::TX_BYTES), c.bytes);
            prop_assert_eq!(read(&mut r, &fr::TX_ENCAPSULATED), c.encapsulated);
            prop_assert_eq!(read(&mut r, &fr::TX_DROP_RUNT), c.drop_runt);
            prop_assert_eq!(read(&mut r, &fr::TX_DROP_SPOOFED), c.drop_spoofed);
            prop_assert_eq!(read(&mut r, &fr::TX_DROP_MTU), c.drop_mtu);
            prop_assert_eq!(read(&mut r, &fr::TX_DROP_NO_VNI), c.drop_no_vni);
            prop_assert_eq!(read(&mut r, &fr::TX_DROP_MISS), c.drop_miss);
            prop_assert_eq!(read(&mut r, &fr::TX_MISSES), c.misses);
        }
        prop_assert_eq!(regs(&mut nic).read(&pf::EVENT_LOST).unwrap(), events.lost());
        let expected: Vec<_> = std::iter::from_fn(|| events.pop()).collect();
        prop_assert_eq!(drain_events(&mut nic), expected);
    }

    /// Likewise for RX: deliveries, counters and learn events.
    #[test]
    fn receive_agrees_with_the_rx_model(frames in proptest::collection::vec(wire_frame(), 1..24)) {
        let mut nic = programmed();
        let mut direct = RxModel::new(config(), BuildLimits::default(), 16).unwrap();
        let mut events = EventQueueModel::new(16);
        let mut all = Vec::new();
        for frame in &frames {
            let got = nic.receive(std::slice::from_ref(frame)).unwrap();
            let out = direct.receive(frame);
            prop_assert_eq!(&got, &out.deliveries().to_vec());
            all.extend(got);
            while let Some(e) = direct.pop_event() {
                events.raise(e);
            }
            if let RxOutcome::Dropped(reason) = out {
                prop_assert!(direct.counters().drops(reason) > 0);
            }
        }
        // The same frames in one call give the same deliveries, in order.
        let mut again = programmed();
        prop_assert_eq!(again.receive(&frames).unwrap(), all);
        let counters = counter_registers(&mut nic);
        prop_assert_eq!(&counters, &counter_registers(&mut again));
        let g = direct.counters();
        let mut r = regs(&mut nic);
        prop_assert_eq!(r.read(&pf::RX_WIRE_FRAMES).unwrap(), g.wire_frames);
        prop_assert_eq!(r.read(&pf::RX_WIRE_BYTES).unwrap(), g.wire_bytes);
        prop_assert_eq!(r.read(&pf::RX_NON_OVERLAY).unwrap(), g.non_overlay);
        prop_assert_eq!(r.read(&pf::RX_DECAPSULATED).unwrap(), g.decapsulated);
        prop_assert_eq!(r.read(&pf::RX_LEARN).unwrap(), g.learn);
        for (reason, reg) in RxDrop::ALL.iter().zip(&pf::TABLE[pf::TABLE.iter().position(|r| r.name == "RX_DROP_TRUNCATED").unwrap()..]) {
            prop_assert_eq!(r.read(reg).unwrap(), g.drops(*reason), "{}", reg.name);
        }
        for f in 0..4 {
            let c = direct.function_counters(Function::from_index(f));
            prop_assert_eq!(r.read(&fnreg(f, &fr::RX_FRAMES)).unwrap(), c.frames);
            prop_assert_eq!(r.read(&fnreg(f, &fr::RX_BYTES)).unwrap(), c.bytes);
            prop_assert_eq!(r.read(&fnreg(f, &fr::RX_DECAPSULATED)).unwrap(), c.decapsulated);
            prop_assert_eq!(r.read(&fnreg(f, &fr::RX_DROP_INNER_CHECKSUM)).unwrap(), c.drop_inner_checksum);
        }
        prop_assert_eq!(r.read(&pf::EVENT_LOST).unwrap(), events.lost());
        let expected: Vec<_> = std::iter::from_fn(|| events.pop()).collect();
        prop_assert_eq!(drain_events(&mut nic), expected);
    }
}
