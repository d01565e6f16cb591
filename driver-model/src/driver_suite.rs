//! The driver test suite: one set of checks that the PF driver, the VTEP
//! software and the simulated PCIe endpoint pass on any [`NicDevice`]
//! back end of the default build. `driver-model`'s tests run it on the
//! behavioural model (`NicModel`); `sim`'s run it on the cycle-accurate HDL.
//!
//! Each check builds a fresh device with `make`, panics with a message
//! naming what failed (it is a test suite), and returns nothing.

use crate::device::{HostFrame, NicDevice};
use crate::legacy_nic::LegacyNic;
use crate::nic_config::{MacAddr, MapEntry, MissPolicy, PortRange, VniRecord, VtepConfig};
use crate::pcie::PcieError;
use crate::pf_driver::{DriverError, OverlayOffload, PfDriver, TableUpdate};
use crate::registers::{BusError, RegisterBus};
use crate::tx::{Function, NicEvent};
use crate::vtep::{Attachment, LocalVm, Origin, VtepSoftware};
use crate::vxlan::{encapsulate, EncapParams, Vni};
use overlay_nic_regmap::{pf, vf};
use std::net::Ipv4Addr;

/// Makes a fresh device for a check.
pub type MakeDevice<'a> = dyn FnMut() -> Box<dyn NicDevice> + 'a;

/// One check of the suite.
pub type Check = fn(&mut MakeDevice);

/// Every check, by name.
pub const CHECKS: &[(&str, Check)] = &[
    ("probe_and_vfs", probe_and_vfs),
    ("vf_bar_isolation", vf_bar_isolation),
    ("table_updates", table_updates),
    ("vf_callbacks_and_traffic", vf_callbacks_and_traffic),
    (
        "learning_never_overwrites_static",
        learning_never_overwrites_static,
    ),
    (
        "table_full_is_served_in_software",
        table_full_is_served_in_software,
    ),
    ("arp_proxy_answers_the_vf", arp_proxy_answers_the_vf),
    (
        "software_fallback_matches_offload",
        software_fallback_matches_offload,
    ),
];

/// Runs every check on devices from `make`.
pub fn run_all(make: &mut MakeDevice) {
    for (name, check) in CHECKS {
        eprintln!("driver suite: {name}");
        check(make);
    }
}

impl NicDevice for Box<dyn NicDevice> {
    fn build(&self) -> overlay_nic_regmap::Build {
        (**self).build()
    }
    fn bar_read(&mut self, f: Function, o: u32) -> Result<u32, BusError> {
        (**self).bar_read(f, o)
    }
    fn bar_write(&mut self, f: Function, o: u32, v: u32) -> Result<(), BusError> {
        (**self).bar_write(f, o, v)
    }
    fn transmit(
        &mut self,
        frames: &[HostFrame],
    ) -> Result<Vec<Vec<u8>>, crate::device::DeviceError> {
        (**self).transmit(frames)
    }
    fn receive(
        &mut self,
        frames: &[Vec<u8>],
    ) -> Result<Vec<crate::rx::RxDelivery>, crate::device::DeviceError> {
        (**self).receive(frames)
    }
}

// ---- Fixtures ----

const LOCAL_VTEP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const REMOTE_VTEP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const OTHER_VTEP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);

fn vtep() -> VtepConfig {
    VtepConfig::new(
        MacAddr([2, 0, 0, 0, 0, 1]),
        LOCAL_VTEP,
        Ipv4Addr::new(255, 255, 255, 0),
        MacAddr([2, 0, 0, 0, 0, 0xfe]),
    )
}

fn vni(n: u32) -> Vni {
    Vni::new(n).expect("24-bit VNI")
}

fn segment(n: u32) -> VniRecord {
    VniRecord {
        vni: vni(n),
        multicast_group: Ipv4Addr::new(239, 1, 0, n as u8),
        gateway_ip: Ipv4Addr::UNSPECIFIED,
        gateway_mac: MacAddr([0; 6]),
        miss_policy: MissPolicy::Flood,
    }
}

fn vm_mac(n: u8) -> MacAddr {
    MacAddr([0x00, 0x50, 0x56, 0, 0, n])
}

fn remote_vtep_mac(n: u8) -> MacAddr {
    MacAddr([2, 0, 0, 0, 0, n])
}

fn entry(v: u32, n: u8, ip: Ipv4Addr) -> MapEntry {
    MapEntry {
        vni: vni(v),
        mac: vm_mac(n),
        vtep_ip: ip,
        vtep_mac: remote_vtep_mac(ip.octets()[3]),
    }
}

/// A UDP/IPv4 frame from `src` to `dst`.
fn udp_frame(src: MacAddr, dst: MacAddr, payload: usize) -> Vec<u8> {
    let b = etherparse::PacketBuilder::ethernet2(src.0, dst.0)
        .ipv4([192, 168, 1, src.0[5]], [192, 168, 1, dst.0[5]], 64)
        .udp(5000, 6000);
    let data: Vec<u8> = (0..payload).map(|i| i as u8).collect();
    let mut out = Vec::with_capacity(b.size(payload));
    b.write(&mut out, &data).expect("frame");
    out
}

/// An ARP reply from (`src`, `src_ip`) to (`dst`, `dst_ip`).
fn arp_reply(src: MacAddr, src_ip: Ipv4Addr, dst: MacAddr, dst_ip: Ipv4Addr) -> Vec<u8> {
    let mut f = Vec::with_capacity(60);
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 2]);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&src_ip.octets());
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&dst_ip.octets());
    f.resize(60, 0);
    f
}

/// `inner` as the remote VTEP at `from` sends it to the local VTEP.
fn from_remote(inner: &[u8], v: u32, from: Ipv4Addr) -> Vec<u8> {
    let p = EncapParams::new(
        remote_vtep_mac(from.octets()[3]).0,
        vtep().mac.0,
        from,
        LOCAL_VTEP,
        v,
    )
    .expect("params");
    encapsulate(inner, &p).expect("encapsulate")
}

fn probe(make: &mut MakeDevice) -> PfDriver<Box<dyn NicDevice>> {
    PfDriver::probe(make()).expect("probe")
}

fn vni_of(wire: &[u8]) -> u32 {
    u32::from_be_bytes([0, wire[46], wire[47], wire[48]])
}

fn outer_dst_ip(wire: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(wire[30], wire[31], wire[32], wire[33])
}

// ---- Checks ----

/// Enumeration, the capability words, VF enable and each VF's identity.
pub fn probe_and_vfs(make: &mut MakeDevice) {
    let mut pf = probe(make);
    let caps = pf.capabilities();
    assert!(
        caps.overlay_offload() && caps.checksum_offload && caps.tso,
        "{caps:?}"
    );
    assert_eq!(
        (
            caps.vfs,
            caps.table_entries,
            caps.vni_records,
            caps.event_depth
        ),
        (4, 64, 16, 16)
    );
    assert!(matches!(
        pf.enable_vfs(5),
        Err(DriverError::Pcie(PcieError::BadVfCount { .. }))
    ));
    assert_eq!(pf.enable_vfs(4).expect("4 VFs").len(), 4);
    for i in 0..4 {
        let mut r = pf.vf_registers(i).expect("VF BAR");
        assert_eq!(r.read(&vf::ID), Ok(vf::ID_VALUE), "VF{i} ID");
        assert_eq!(r.read(&vf::VERSION), Ok(pf::VERSION_VALUE));
    }
    assert!(matches!(
        pf.vf_registers(4),
        Err(DriverError::NoSuchVf { vf: 4, enabled: 4 })
    ));
}

/// A VF's BAR shows its own block read-only and nothing else; the
/// hardware refuses the rest and counts it against that VF alone.
pub fn vf_bar_isolation(make: &mut MakeDevice) {
    let mut pf = probe(make);
    pf.enable_vfs(2).expect("VFs");
    let mac = vm_mac(10);
    pf.set_vf_mac(0, mac).expect("MAC");
    let mut r = pf.vf_registers(0).expect("VF0 BAR");
    let hi = r
        .read(&vf::function_register(&pf::function::MAC_HI))
        .unwrap();
    let lo = r
        .read(&vf::function_register(&pf::function::MAC_LO))
        .unwrap();
    assert_eq!(crate::pf_driver::mac_of(hi, lo), mac, "VF0 sees its MAC");
    // The tenant tries to change its MAC (to spoof) and to reach the table.
    let mac_hi = vf::function_register(&pf::function::MAC_HI);
    assert_eq!(
        r.bus().write32(mac_hi.offset, 0xdead),
        Err(BusError::Slave {
            offset: mac_hi.offset
        })
    );
    assert_eq!(
        r.bus().write32(0x0108, 1 << 31 | 7),
        Err(BusError::Decode { offset: 0x0108 })
    );
    assert_eq!(
        r.bus().read32(0x0200),
        Err(BusError::Decode { offset: 0x0200 })
    );
    assert_eq!(
        r.bus().write32(0x011c, 1),
        Err(BusError::Decode { offset: 0x011c })
    );
    assert!(matches!(
        r.bus().read32(vf::BAR_SIZE),
        Err(BusError::OutOfRange { .. })
    ));
    assert_eq!(
        r.read(&vf::BUS_ERRORS),
        Ok(4),
        "VF0 counts its four refusals"
    );
    assert_eq!(r.read(&vf::BUS_ERROR_ADDR), Ok(0x011c));
    assert_eq!(pf.vf_registers(1).unwrap().read(&vf::BUS_ERRORS), Ok(0));
    let mut p = pf.registers().unwrap();
    assert_eq!(
        p.read(&pf::BUS_ERRORS),
        Ok(0),
        "the PF's count is untouched"
    );
    assert_eq!(
        p.read(&pf::function_register(1, &pf::function::MAC_LO)),
        Ok(crate::pf_driver::mac_lo(&mac)),
        "VF0's MAC unchanged"
    );
    assert_eq!(p.read(&pf::function_register(1, &pf::function::VNI)), Ok(0));
    assert_eq!(p.read(&pf::MAP_STATUS).map(|s| s >> 16), Ok(0));
}

/// Per-entry add, modify, delete and whole-table updates, read back from
/// the hardware; a full table is a typed error.
pub fn table_updates(make: &mut MakeDevice) {
    let mut pf = probe(make);
    pf.set_vtep(&vtep()).unwrap();
    let a = entry(100, 1, REMOTE_VTEP);
    pf.vxlan_mapping_table_update(TableUpdate::Add(a)).unwrap();
    assert_eq!(pf.find_entry(a.vni, a.mac).unwrap(), Some(a));
    let moved = MapEntry {
        vtep_ip: OTHER_VTEP,
        vtep_mac: remote_vtep_mac(3),
        ..a
    };
    pf.vxlan_mapping_table_update(TableUpdate::Modify(moved))
        .unwrap();
    assert_eq!(pf.find_entry(a.vni, a.mac).unwrap(), Some(moved));
    let b = entry(100, 2, REMOTE_VTEP);
    assert!(matches!(
        pf.vxlan_mapping_table_update(TableUpdate::Modify(b)),
        Err(DriverError::NotInTable { .. })
    ));
    pf.vxlan_mapping_table_update(TableUpdate::Delete {
        vni: a.vni,
        mac: a.mac,
    })
    .unwrap();
    assert_eq!(pf.find_entry(a.vni, a.mac).unwrap(), None);
    assert!(matches!(
        pf.vxlan_mapping_table_update(TableUpdate::Delete {
            vni: a.vni,
            mac: a.mac
        }),
        Err(DriverError::NotInTable { .. })
    ));
    // Whole tables: the second keeps 2 of the first's 4, changes 1, adds 2.
    let first: Vec<MapEntry> = (1..=4).map(|n| entry(200, n, REMOTE_VTEP)).collect();
    pf.vxlan_mapping_table_update(TableUpdate::Whole(&first))
        .unwrap();
    assert_eq!(pf.entries_in_use().unwrap(), 4);
    let mut second = vec![first[0], first[1], entry(200, 3, OTHER_VTEP)];
    second.extend((5..=6).map(|n| entry(201, n, OTHER_VTEP)));
    pf.vxlan_mapping_table_update(TableUpdate::Whole(&second))
        .unwrap();
    assert_eq!(pf.entries_in_use().unwrap(), 5);
    for e in &second {
        assert_eq!(pf.find_entry(e.vni, e.mac).unwrap(), Some(*e));
    }
    assert_eq!(pf.find_entry(first[3].vni, first[3].mac).unwrap(), None);
    // Fill the table.
    let fill: Vec<MapEntry> = (0..64).map(|n| entry(300, n, REMOTE_VTEP)).collect();
    pf.vxlan_mapping_table_update(TableUpdate::Whole(&fill))
        .unwrap();
    assert_eq!(pf.entries_in_use().unwrap(), 64);
    let extra = entry(300, 200, REMOTE_VTEP);
    assert_eq!(
        pf.vxlan_mapping_table_update(TableUpdate::Add(extra)),
        Err(DriverError::TableFull {
            vni: 300,
            mac: extra.mac,
            entries: 64
        })
    );
    assert_eq!(pf.entries_in_use().unwrap(), 64);
}

/// The VF pass-through callbacks, MTU validation, and the VF's traffic
/// encapsulated into its VNI (and spoofed frames dropped).
pub fn vf_callbacks_and_traffic(make: &mut MakeDevice) {
    let mut pf = probe(make);
    pf.enable_vfs(2).unwrap();
    pf.set_vtep(&vtep()).unwrap();
    pf.set_vni_record(&segment(100)).unwrap();
    let mac = vm_mac(10);
    pf.set_vf_mac(0, mac).unwrap();
    pf.set_vf_vni(0, Some(vni(100))).unwrap();
    assert_eq!(pf.set_vf_mtu(0, 1550), Ok(()), "LFE 1600 - 50");
    assert!(matches!(
        pf.set_vf_mtu(0, 1551),
        Err(DriverError::MtuOutOfRange { max: 1550, .. })
    ));
    pf.set_lfe_mtu(1600, crate::pf_driver::Encapsulation::Geneve);
    assert!(matches!(
        pf.set_vf_mtu(0, 1501),
        Err(DriverError::MtuOutOfRange { max: 1500, .. })
    ));
    pf.set_lfe_mtu(1600, crate::pf_driver::Encapsulation::Vxlan);
    assert!(matches!(
        pf.set_vf_mtu(0, 67),
        Err(DriverError::MtuOutOfRange { .. })
    ));
    assert!(matches!(
        pf.set_vf_mtu(7, 1500),
        Err(DriverError::NoSuchVf { .. })
    ));
    assert!(matches!(
        pf.set_vf_mac(1, MacAddr([1, 0, 0, 0, 0, 1])),
        Err(DriverError::BadMac { .. })
    ));
    let v = vtep();
    pf.set_vf_source_vtep(0, v.ip, v.netmask).unwrap();
    assert!(matches!(
        pf.set_vf_source_vtep(0, OTHER_VTEP, v.netmask),
        Err(DriverError::SharedVtep { .. })
    ));
    pf.set_vf_source_udp_port(0, v.src_port_range).unwrap();
    assert!(matches!(
        pf.set_vf_source_udp_port(0, PortRange { lo: 1000, hi: 2000 }),
        Err(DriverError::SharedVtep { .. })
    ));
    pf.set_vf_vlan(0, None).unwrap();
    let peer = entry(100, 20, REMOTE_VTEP);
    pf.vxlan_mapping_table_update(TableUpdate::Add(peer))
        .unwrap();
    // Too long for the MTU, spoofed, and a good frame.
    let frames = [
        HostFrame::new(Function::Vf(0), udp_frame(mac, peer.mac, 1600)),
        HostFrame::new(Function::Vf(0), udp_frame(vm_mac(99), peer.mac, 100)),
        HostFrame::new(Function::Vf(0), udp_frame(mac, peer.mac, 100)),
    ];
    let wire = pf.device().transmit(&frames).unwrap();
    assert_eq!(wire.len(), 1, "only the good frame leaves");
    assert_eq!(vni_of(&wire[0]), 100);
    assert_eq!(outer_dst_ip(&wire[0]), REMOTE_VTEP);
    assert_eq!(&wire[0][50..], &frames[2].data[..]);
    let mut r = pf.vf_registers(0).unwrap();
    let read = |r: &mut crate::registers::Registers<_>, reg| r.read(&vf::function_register(reg));
    assert_eq!(read(&mut r, &pf::function::TX_FRAMES), Ok(3));
    assert_eq!(read(&mut r, &pf::function::TX_DROP_SPOOFED), Ok(1));
    assert_eq!(read(&mut r, &pf::function::TX_DROP_MTU), Ok(1));
    assert_eq!(read(&mut r, &pf::function::MTU), Ok(1550));
}

/// Claims 8-9: the NIC's learn events become learned entries pushed back to
/// it; a static entry is never overwritten by learning.
pub fn learning_never_overwrites_static(make: &mut MakeDevice) {
    let mut sw = VtepSoftware::new(probe(make), vtep()).unwrap();
    sw.add_segment(segment(100)).unwrap();
    let pf_vm = vm_mac(1);
    sw.vm_joins(
        LocalVm {
            mac: pf_vm,
            ip: Ipv4Addr::new(192, 168, 1, 1),
            vni: vni(100),
            attachment: Attachment::Pf,
        },
        1500,
    )
    .unwrap();
    let static_peer = entry(100, 30, REMOTE_VTEP);
    sw.set_remote(static_peer, Origin::Static).unwrap();
    // A new VM behind OTHER_VTEP, and the static one claimed from OTHER_VTEP.
    let newcomer = udp_frame(vm_mac(31), pf_vm, 64);
    let impostor = udp_frame(vm_mac(30), pf_vm, 64);
    let got = sw
        .receive(&[
            from_remote(&newcomer, 100, OTHER_VTEP),
            from_remote(&impostor, 100, OTHER_VTEP),
        ])
        .unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got
        .iter()
        .all(|d| d.function == Function::Pf && d.meta.learn));
    let events = sw.poll().unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(e, NicEvent::Learn { mac, .. } if *mac == vm_mac(31))));
    assert_eq!(sw.stats().learned, 1);
    assert_eq!(sw.stats().learn_ignored_static, 1);
    let learned = sw.entry(vni(100), vm_mac(31)).copied().unwrap();
    assert_eq!((learned.origin, learned.in_nic), (Origin::Learned, true));
    assert_eq!(learned.entry.vtep_ip, OTHER_VTEP);
    let pf = sw.driver();
    assert_eq!(
        pf.find_entry(vni(100), vm_mac(31)).unwrap(),
        Some(learned.entry)
    );
    assert_eq!(
        pf.find_entry(vni(100), vm_mac(30)).unwrap(),
        Some(static_peer),
        "static entry kept"
    );
    // Now known: the next frame from it is not a learn.
    let again = sw
        .receive(&[from_remote(&newcomer, 100, OTHER_VTEP)])
        .unwrap();
    assert_eq!(again.len(), 1);
    assert!(!again[0].meta.learn);
    // Migration: the local VM moves to REMOTE_VTEP; frames to it follow.
    sw.vm_migrates_out(pf_vm, REMOTE_VTEP, remote_vtep_mac(2))
        .unwrap();
    let wire = sw
        .send_from_pf(vni(100), &udp_frame(vm_mac(5), pf_vm, 64))
        .unwrap();
    assert_eq!(wire.len(), 1);
    assert_eq!(outer_dst_ip(&wire[0]), REMOTE_VTEP);
}

/// A NIC with a full table answers a typed error; the VTEP software keeps
/// the entry and serves it in software, with the same wire bytes the NIC
/// would have sent.
pub fn table_full_is_served_in_software(make: &mut MakeDevice) {
    let mut sw = VtepSoftware::new(probe(make), vtep()).unwrap();
    sw.add_segment(segment(100)).unwrap();
    for n in 0..64 {
        assert!(sw
            .set_remote(entry(100, n, REMOTE_VTEP), Origin::Static)
            .unwrap());
    }
    let last = entry(100, 64, OTHER_VTEP);
    sw.set_remote(last, Origin::Static).unwrap();
    assert!(!sw.entry(last.vni, last.mac).unwrap().in_nic);
    assert_eq!(sw.stats().served_in_software, 1);
    let to_last = udp_frame(vm_mac(200), last.mac, 100);
    let wire = sw.send_from_pf(vni(100), &to_last).unwrap();
    assert_eq!(wire.len(), 1);
    assert_eq!(outer_dst_ip(&wire[0]), OTHER_VTEP);
    assert_eq!(vni_of(&wire[0]), 100);
    assert_eq!(&wire[0][50..], &to_last[..]);
    // An offloaded one, for comparison, goes tagged.
    let wire = sw
        .send_from_pf(vni(100), &udp_frame(vm_mac(200), vm_mac(3), 100))
        .unwrap();
    assert_eq!(outer_dst_ip(&wire[0]), REMOTE_VTEP);
}

/// FIG. 15 with \[0126\]: an ARP reply from an unknown VTEP reaches the PF,
/// the software learns and pushes it, and the proxy answers the VF's VM.
pub fn arp_proxy_answers_the_vf(make: &mut MakeDevice) {
    let mut pf = probe(make);
    pf.enable_vfs(1).unwrap();
    let mut sw = VtepSoftware::new(pf, vtep()).unwrap();
    sw.add_segment(segment(100)).unwrap();
    let vf_vm = LocalVm {
        mac: vm_mac(10),
        ip: Ipv4Addr::new(192, 168, 1, 10),
        vni: vni(100),
        attachment: Attachment::Vf(0),
    };
    sw.vm_joins(vf_vm, 1500).unwrap();
    let remote = vm_mac(40);
    let reply = arp_reply(remote, Ipv4Addr::new(192, 168, 1, 40), vf_vm.mac, vf_vm.ip);
    let got = sw.receive(&[from_remote(&reply, 100, OTHER_VTEP)]).unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].function, Function::Pf, "unknown sender: the PF only");
    assert!(got[0].meta.learn);
    sw.poll().unwrap();
    assert_eq!(
        sw.entry(vni(100), remote).map(|e| e.entry.vtep_ip),
        Some(OTHER_VTEP)
    );
    let answered = sw.proxy_arp(&got).unwrap();
    assert_eq!(answered.len(), 1, "{answered:?}");
    assert_eq!(answered[0].function, Function::Vf(0));
    assert_eq!(answered[0].frame, reply);
    assert!(!answered[0].meta.learn);
    assert_eq!(sw.stats().arp_proxied, 1);
}

/// FIG. 7 720-735: on a NIC without the offload the VTEP software
/// encapsulates and decapsulates itself, and the wire carries the same
/// bytes as with the offload.
pub fn software_fallback_matches_offload(make: &mut MakeDevice) {
    let offload = VtepSoftware::new(probe(make), vtep()).unwrap();
    let legacy = PfDriver::probe(Box::new(LegacyNic::new()) as Box<dyn NicDevice>).unwrap();
    assert!(!legacy.capabilities().overlay_offload());
    let software = VtepSoftware::new(legacy, vtep()).unwrap();
    assert!(offload.offloaded() && !software.offloaded());
    let mut outputs = Vec::new();
    for mut sw in [offload, software] {
        sw.add_segment(segment(100)).unwrap();
        sw.add_segment(segment(200)).unwrap();
        sw.set_remote(entry(100, 1, REMOTE_VTEP), Origin::Static)
            .unwrap();
        sw.set_remote(entry(200, 2, Ipv4Addr::new(10, 9, 0, 2)), Origin::Static)
            .unwrap();
        let mut wire = Vec::new();
        for (v, dst, len) in [
            (100, vm_mac(1), 64),
            (200, vm_mac(2), 1400),
            (100, MacAddr([0xff; 6]), 80),
            (100, vm_mac(77), 200),
        ] {
            wire.extend(
                sw.send_from_pf(vni(v), &udp_frame(vm_mac(9), dst, len))
                    .unwrap(),
            );
        }
        let rx = sw
            .receive(&[
                from_remote(&udp_frame(vm_mac(1), vm_mac(9), 100), 100, REMOTE_VTEP),
                from_remote(&udp_frame(vm_mac(5), vm_mac(9), 100), 100, OTHER_VTEP),
            ])
            .unwrap();
        let rx: Vec<(Function, Vec<u8>, bool)> = rx
            .into_iter()
            .map(|d| (d.function, d.frame, d.meta.learn))
            .collect();
        sw.poll().unwrap();
        outputs.push((wire, rx, sw.entry(vni(100), vm_mac(5)).map(|e| e.entry)));
    }
    assert_eq!(outputs[0].0.len(), 4);
    assert_eq!(outputs[0], outputs[1], "offload and software differ");
}
