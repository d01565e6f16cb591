//! The RX golden model against frames nobody on this project wrote: the
//! Zeek project's VXLAN trace (`shared/captures/vxlan.pcap`), ten frames in
//! VNI 123 between VTEPs 192.168.56.11 and 192.168.56.12. Each direction is
//! received by a model whose VTEP is that direction's receiver.

use std::collections::BTreeMap;
use std::error::Error;
use std::fs::File;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use overlay_nic_driver::nic_config::{
    MacAddr, MapEntry, MissPolicy, NicConfig, VfConfig, VniRecord, VtepConfig,
};
use overlay_nic_driver::rx::{ChecksumStatus, RxModel, RxOutcome};
use overlay_nic_driver::tx::{Function, NicEvent};
use overlay_nic_driver::vxlan::Vni;
use overlay_nic_driver::BuildLimits;
use pcap_file::pcap::PcapReader;

/// The shared capture (`../shared/captures` from the project root) or, in
/// a checkout without `shared/` beside it (a git worktree), the crate's
/// byte-identical copy of it.
fn capture_path() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../../shared/captures/vxlan.pcap");
    if shared.exists() {
        shared
    } else {
        root.join("tests/data/vxlan.pcap")
    }
}

/// One captured frame and what etherparse says is in it.
struct Captured {
    frame: Vec<u8>,
    outer_src_mac: [u8; 6],
    outer_dst_mac: [u8; 6],
    outer_src_ip: Ipv4Addr,
    outer_dst_ip: Ipv4Addr,
    /// The UDP payload after the 8-byte VXLAN header.
    inner: Vec<u8>,
}

fn captured() -> Result<Vec<Captured>, Box<dyn Error>> {
    let mut reader = PcapReader::new(File::open(capture_path())?)?;
    let mut out = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let frame = packet?.data.into_owned();
        let sliced = SlicedPacket::from_ethernet(&frame)?;
        let Some(etherparse::LinkSlice::Ethernet2(eth)) = &sliced.link else {
            return Err("not Ethernet II".into());
        };
        let Some(NetSlice::Ipv4(ip)) = &sliced.net else {
            return Err("not IPv4".into());
        };
        let Some(TransportSlice::Udp(udp)) = &sliced.transport else {
            return Err("not UDP".into());
        };
        let inner = udp.payload().get(8..).ok_or("no VXLAN header")?.to_vec();
        out.push(Captured {
            outer_src_mac: eth.source(),
            outer_dst_mac: eth.destination(),
            outer_src_ip: ip.header().source_addr(),
            outer_dst_ip: ip.header().destination_addr(),
            inner,
            frame: frame.clone(),
        });
    }
    Ok(out)
}

fn mac6(bytes: &[u8], at: usize) -> MacAddr {
    let mut m = [0; 6];
    m.copy_from_slice(&bytes[at..at + 6]);
    MacAddr(m)
}

/// A NIC whose VTEP is `vtep_mac`/`vtep_ip`, with VF0 (MAC `vm`) in VNI 123.
fn receiver(vtep_mac: [u8; 6], vtep_ip: Ipv4Addr, vm: MacAddr) -> RxModel {
    let vni = Vni::new(123).expect("VNI");
    let mut config = NicConfig::new(VtepConfig::new(
        MacAddr(vtep_mac),
        vtep_ip,
        Ipv4Addr::new(255, 255, 255, 0),
        MacAddr([0x02, 0, 0, 0, 0, 0xfe]),
    ));
    config.vfs.push(VfConfig {
        mac: vm,
        vni: Some(vni),
        mtu: 1500,
    });
    config.vnis.push(VniRecord {
        vni,
        multicast_group: Ipv4Addr::new(239, 1, 1, 123),
        gateway_ip: Ipv4Addr::new(192, 168, 56, 254),
        gateway_mac: MacAddr([0x02, 0, 0, 0, 0, 0xfd]),
        miss_policy: MissPolicy::Flood,
    });
    RxModel::new(config, BuildLimits::default(), 16).expect("valid config")
}

#[test]
fn capture_decapsulates_to_the_captured_inner_frames() -> Result<(), Box<dyn Error>> {
    let frames = captured()?;
    assert_eq!(frames.len(), 10);

    // The two directions, by receiving VTEP.
    let mut by_receiver: BTreeMap<Ipv4Addr, Vec<&Captured>> = BTreeMap::new();
    for c in &frames {
        by_receiver.entry(c.outer_dst_ip).or_default().push(c);
    }
    assert_eq!(
        by_receiver.keys().copied().collect::<Vec<_>>(),
        [
            Ipv4Addr::new(192, 168, 56, 11),
            Ipv4Addr::new(192, 168, 56, 12)
        ]
    );

    for (vtep_ip, frames) in &by_receiver {
        // Every frame of a direction has one outer destination MAC, one
        // sender, and one local VM (the unicast inner destination).
        let vtep_mac = frames[0].outer_dst_mac;
        assert!(frames.iter().all(|c| c.outer_dst_mac == vtep_mac));
        let sender = (frames[0].outer_src_ip, frames[0].outer_src_mac);
        assert!(frames
            .iter()
            .all(|c| (c.outer_src_ip, c.outer_src_mac) == sender));
        let local_vm = frames
            .iter()
            .map(|c| mac6(&c.inner, 0))
            .find(|m| !m.is_multicast())
            .ok_or("no unicast frame")?;
        let remote_vm = mac6(&frames[0].inner, 6);

        // First pass, empty table: every frame is from an unknown source,
        // goes to the PF only with learn set, and raises one learn event
        // (the same record each time, merged).
        let mut nic = receiver(vtep_mac, *vtep_ip, local_vm);
        for (i, c) in frames.iter().enumerate() {
            let RxOutcome::Delivered(copies) = nic.receive(&c.frame) else {
                panic!("{vtep_ip} frame {i}: dropped");
            };
            assert_eq!(copies.len(), 1, "{vtep_ip} frame {i}");
            let d = &copies[0];
            assert_eq!(d.function, Function::Pf);
            assert_eq!(d.frame, c.inner, "{vtep_ip} frame {i}");
            assert!(d.meta.decapsulated && d.meta.learn);
            assert_eq!(d.meta.vni, 123);
            assert_eq!(d.meta.src_vtep_ip, sender.0);
            assert_eq!(d.meta.vlan, None);
            // ARP: nothing to check; ICMP: the IPv4 header only.
            let is_ipv4 = c.inner[12..14] == [0x08, 0x00];
            let want_ip = if is_ipv4 {
                ChecksumStatus::Good
            } else {
                ChecksumStatus::None
            };
            assert_eq!(d.meta.ip_checksum, want_ip, "{vtep_ip} frame {i}");
            assert_eq!(d.meta.l4_checksum, ChecksumStatus::None);
        }
        let learned = NicEvent::Learn {
            vni: Vni::new(123)?,
            mac: remote_vm,
            vtep_ip: sender.0,
            vtep_mac: MacAddr(sender.1),
        };
        assert_eq!(nic.pop_event(), Some(learned));
        assert_eq!(nic.pop_event(), None);
        let n = frames.len() as u32;
        assert_eq!(nic.counters().decapsulated, n);
        assert_eq!(nic.counters().learn, n);

        // The driver programs what it learned; second pass: the source is
        // known, unicast frames go to VF0 only, broadcast ones to the PF
        // and VF0.
        let NicEvent::Learn {
            vni,
            mac,
            vtep_ip: ip,
            vtep_mac: vmac,
        } = learned
        else {
            unreachable!()
        };
        nic.config_mut().entries.push(MapEntry {
            vni,
            mac,
            vtep_ip: ip,
            vtep_mac: vmac,
        });
        for (i, c) in frames.iter().enumerate() {
            let out = nic.receive(&c.frame);
            let functions: Vec<Function> = out.deliveries().iter().map(|d| d.function).collect();
            let want = if mac6(&c.inner, 0).is_multicast() {
                vec![Function::Pf, Function::Vf(0)]
            } else {
                vec![Function::Vf(0)]
            };
            assert_eq!(functions, want, "{vtep_ip} frame {i}");
            for d in out.deliveries() {
                assert_eq!(d.frame, c.inner);
                assert!(!d.meta.learn);
            }
        }
        assert_eq!(nic.events_pending(), 0);
        assert_eq!(nic.counters().learn, n);
        assert_eq!(nic.counters().decapsulated, 2 * n);
        let bytes: usize = frames.iter().map(|c| c.inner.len()).sum();
        assert_eq!(nic.function_counters(Function::Vf(0)).bytes, bytes as u32);
        assert_eq!(nic.counters().wire_frames, 2 * n);
    }
    Ok(())
}
