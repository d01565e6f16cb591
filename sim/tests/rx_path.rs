//! The RX path against the golden model (`docs/rx-path.md`): random
//! configurations and random wire traffic (valid VXLAN frames to every kind
//! of destination, known, unknown and moved sources, outer VLAN and IPv4
//! options, inner VLAN, TCP/UDP with good, zero and bad checksums, and
//! frames broken in every way the validator checks, truncated at random
//! lengths, plus non-overlay traffic), random idle cycles on the wire and
//! random back-pressure on every host port. Every function must receive
//! exactly the model's frames with the model's metadata, in order, and the
//! counters and learn events read through registers must equal the model's.
//!
//! A tenant-isolation test sends frames of every VNI at every function's
//! MAC and checks that no frame reaches a function outside its VNI.

use etherparse::PacketBuilder;
use overlay_nic_driver::nic_config::{
    BuildLimits, MacAddr, MapEntry, MissPolicy, NicConfig, RxConfig, VfConfig, VlanTag, VniRecord,
    VtepConfig,
};
use overlay_nic_driver::rx::{RxModel, RxOutcome};
use overlay_nic_driver::tx::Function;
use overlay_nic_driver::vxlan::Vni;
use overlay_nic_sim::rx::{encapsulate, OuterHeaders, RxTraffic};
use overlay_nic_sim::tx::NicSim;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::net::Ipv4Addr;

const VTEP_MAC: MacAddr = MacAddr([2, 0, 10, 0, 0, 1]);
const VTEP_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const VNIS: [u32; 3] = [5001, 5002, 5003];
/// A VNI with no record: its frames are dropped (`no_vni`).
const UNKNOWN_VNI: u32 = 7777;

fn vni(v: u32) -> Vni {
    Vni::new(v).expect("24-bit VNI")
}

fn group(v: u32) -> Ipv4Addr {
    Ipv4Addr::new(239, 1, 1, (v % 250) as u8)
}

fn vf_mac(i: usize) -> MacAddr {
    MacAddr([2, 0, 0, 0, 0x10 + i as u8, 0])
}

/// Remote VMs: (VNI, MAC, VTEP IP, VTEP MAC), all in the table.
fn remotes() -> Vec<(u32, MacAddr, Ipv4Addr, MacAddr)> {
    (0..6)
        .map(|i| {
            (
                VNIS[i % 3],
                MacAddr([2, 0, 0, 1, i as u8, 1]),
                Ipv4Addr::new(10, 0, (i % 2) as u8, 2 + i as u8),
                MacAddr([2, 0, 10, 0, 1, i as u8]),
            )
        })
        .collect()
}

/// A configuration: four VFs (each in a random VNI of three, or plain),
/// records for the three VNIs, the remote VMs in the table.
fn config(rng: &mut ChaCha8Rng) -> NicConfig {
    let mut vtep = VtepConfig::new(
        VTEP_MAC,
        VTEP_IP,
        Ipv4Addr::new(255, 255, 255, 0),
        MacAddr([2, 0, 10, 0, 0, 0xfe]),
    );
    if rng.gen_bool(0.3) {
        vtep.vlan = Some(VlanTag { vid: 100, pcp: 0 });
    }
    let mut c = NicConfig::new(vtep);
    c.rx = RxConfig {
        strict_vxlan_flags: rng.gen_bool(0.3),
        check_source_mac: rng.gen_bool(0.3),
    };
    for i in 0..4 {
        let v = match rng.gen_range(0..5) {
            0 => None,
            k => Some(vni(VNIS[(k - 1) % 3])),
        };
        c.vfs.push(VfConfig {
            mac: vf_mac(i),
            vni: v,
            mtu: 1500,
        });
    }
    for v in VNIS {
        c.vnis.push(VniRecord {
            vni: vni(v),
            multicast_group: group(v),
            gateway_ip: Ipv4Addr::new(10, 0, 0, 254),
            gateway_mac: MacAddr([2, 0, 10, 0, 0, 0xfe]),
            miss_policy: MissPolicy::Flood,
        });
    }
    for (v, mac, ip, vmac) in remotes() {
        c.entries.push(MapEntry {
            vni: vni(v),
            mac,
            vtep_ip: ip,
            vtep_mac: vmac,
        });
    }
    c
}

/// An inner frame from `src` to `dst`: IPv4 UDP or TCP (checksums right,
/// sometimes wrong or zero), ARP-like, or an inner-tagged frame; sometimes
/// Ethernet padding after the IP datagram.
fn inner(rng: &mut ChaCha8Rng, src: MacAddr, dst: MacAddr) -> Vec<u8> {
    let payload: Vec<u8> = (0..[rng.gen_range(0..40), rng.gen_range(0..300), 1400]
        [rng.gen_range(0..3)])
        .map(|_| rng.gen())
        .collect();
    let ip = (
        Ipv4Addr::new(192, 168, 0, rng.gen()),
        Ipv4Addr::new(192, 168, 0, rng.gen()),
    );
    let mut out = Vec::new();
    match rng.gen_range(0..6) {
        0 => {
            // Not IP.
            out.extend_from_slice(&dst.0);
            out.extend_from_slice(&src.0);
            out.extend_from_slice(&[0x08, 0x06]);
            out.extend_from_slice(&payload[..payload.len().min(28)]);
            out.resize(out.len().max(42), 0);
            return out;
        }
        1 => {
            let b = PacketBuilder::ethernet2(src.0, dst.0)
                .single_vlan(etherparse::VlanId::try_new(rng.gen_range(1..4000)).unwrap())
                .ipv4(ip.0.octets(), ip.1.octets(), 64)
                .udp(rng.gen(), rng.gen());
            b.write(&mut out, &payload).unwrap();
        }
        2 | 3 => {
            let b = PacketBuilder::ethernet2(src.0, dst.0)
                .ipv4(ip.0.octets(), ip.1.octets(), 64)
                .tcp(rng.gen(), rng.gen(), rng.gen(), 1000);
            b.write(&mut out, &payload).unwrap();
        }
        _ => {
            let b = PacketBuilder::ethernet2(src.0, dst.0)
                .ipv4(ip.0.octets(), ip.1.octets(), 64)
                .udp(rng.gen(), rng.gen());
            b.write(&mut out, &payload).unwrap();
            if rng.gen_bool(0.2) {
                // A UDP checksum of zero: not checked.
                out[40] = 0;
                out[41] = 0;
            }
        }
    }
    match rng.gen_range(0..12) {
        0 => {
            let i = rng.gen_range(14..out.len());
            out[i] ^= 1 << rng.gen_range(0..8);
        }
        1 => out.extend((0..rng.gen_range(1..20)).map(|_| rng.gen::<u8>())),
        2 => {
            // An inner total length near 65535: L3 + total must not wrap
            // into the frame (the L4 checksum is then not checked).
            let at = if out[12..14] == [0x81, 0x00] { 20 } else { 16 };
            let total: u16 = rng.gen_range(0xffe0..=0xffff);
            out[at..at + 2].copy_from_slice(&total.to_be_bytes());
        }
        _ => {}
    }
    out
}

/// One wire frame: mostly VXLAN to this VTEP, some of it broken; some
/// non-overlay traffic and random junk.
fn wire_frame(rng: &mut ChaCha8Rng, c: &NicConfig) -> Vec<u8> {
    let kind = rng.gen_range(0..100);
    if kind < 6 {
        return (0..rng.gen_range(1..120)).map(|_| rng.gen()).collect();
    }
    if kind < 14 {
        // Non-overlay: UDP to another port, TCP, IPv6-ish, a fragment.
        let mut out = Vec::new();
        let b = PacketBuilder::ethernet2([2, 0, 0, 9, 9, 9], VTEP_MAC.0)
            .ipv4([10, 0, 0, 9], VTEP_IP.octets(), 64)
            .udp(rng.gen(), [53, 4790, 4789][rng.gen_range(0..3)]);
        let payload: Vec<u8> = (0..rng.gen_range(0..100)).map(|_| rng.gen()).collect();
        b.write(&mut out, &payload).unwrap();
        match rng.gen_range(0..4) {
            0 => out[12..14].copy_from_slice(&[0x86, 0xdd]),
            1 => out[20] = 0x21, // fragment offset != 0
            _ => {}
        }
        return out;
    }
    let r = remotes();
    let (v, src, vtep_ip, vtep_mac) = match rng.gen_range(0..10) {
        0 => (
            VNIS[rng.gen_range(0..3)],
            MacAddr([2, 0, 0, 3, rng.gen_range(0..4), 3]),
            Ipv4Addr::new(10, 0, 0, 77),
            MacAddr([2, 0, 10, 0, 7, 7]),
        ),
        1 => (UNKNOWN_VNI, r[0].1, r[0].2, r[0].3),
        2 => {
            // A VM that moved: known MAC, another VTEP.
            let e = r[rng.gen_range(0..r.len())];
            (e.0, e.1, Ipv4Addr::new(10, 0, 0, 99), e.3)
        }
        3 => {
            // The right VTEP IP behind a router (another outer MAC).
            let e = r[rng.gen_range(0..r.len())];
            (e.0, e.1, e.2, MacAddr([2, 0, 10, 0, 0, 0xfe]))
        }
        _ => r[rng.gen_range(0..r.len())],
    };
    let dst = match rng.gen_range(0..8) {
        0 => MacAddr([0xff; 6]),
        1 => MacAddr([0x01, 0, 0x5e, 0, 0, 1]),
        2 => MacAddr([2, 0, 0, 5, 5, rng.gen()]),
        3 => r[rng.gen_range(0..r.len())].1,
        _ => vf_mac(rng.gen_range(0..4)),
    };
    let inner = inner(rng, src, dst);
    let multicast = rng.gen_bool(0.15);
    let mut o = OuterHeaders {
        dst_mac: if multicast {
            MacAddr([1, 0, 0x5e, 1, 1, (v % 250) as u8])
        } else {
            VTEP_MAC
        },
        src_mac: vtep_mac,
        vlan: c.vtep.vlan.map(|t| t.vid),
        options: if rng.gen_bool(0.15) {
            rng.gen_range(1..=10)
        } else {
            0
        },
        src_ip: vtep_ip,
        dst_ip: if multicast { group(v) } else { VTEP_IP },
        port: 4789,
        flags: [0x08, 0, 0, 0],
        vni: v,
        last: 0,
        udp_csum: rng.gen_bool(0.3),
    };
    // Break something now and then (the validator's checks, in order).
    match rng.gen_range(0..40) {
        0 => o.dst_mac = MacAddr([2, 0, 0, 0, 0, 9]),
        1 => o.dst_ip = Ipv4Addr::new(10, 0, 0, 5),
        2 => o.dst_ip = group(v + 1),
        3 => o.flags[0] = 0,
        4 => o.flags[rng.gen_range(1..4)] = 1,
        5 => o.last = 0xff,
        6 => o.vlan = if o.vlan.is_some() { None } else { Some(100) },
        7 => o.vlan = Some(101),
        _ => {}
    }
    let mut f = encapsulate(&o, &inner);
    let l3 = if o.vlan.is_some() { 18 } else { 14 };
    let l4 = l3 + 20 + 4 * o.options;
    match rng.gen_range(0..30) {
        0 => f[l3 + 10] ^= 0x40,                    // IP checksum
        1 => f[l3 + 6] |= 0x20,                     // MF
        2 => f[l3 + 3] = f[l3 + 3].wrapping_add(2), // IP total length
        3 => f[l4 + 5] = f[l4 + 5].wrapping_sub(1), // UDP length
        4 => f[l4 + 7] ^= 0x10,                     // UDP checksum (maybe zero)
        5 => f.truncate(rng.gen_range(1..f.len())), // truncated
        6 => f.extend_from_slice(&[0; 3]),          // trailing bytes
        _ => {}
    }
    f
}

fn check(seed: u64, frames: usize, traffic: RxTraffic) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let c = config(&mut rng);
    let wire: Vec<Vec<u8>> = (0..frames).map(|_| wire_frame(&mut rng, &c)).collect();
    let mut model = RxModel::new(c.clone(), BuildLimits::default(), 16).unwrap();
    let mut want: Vec<Vec<(Vec<u8>, overlay_nic_driver::rx::RxMeta)>> = vec![Vec::new(); 5];
    let mut copies = 0;
    for f in &wire {
        if let RxOutcome::Delivered(d) = model.receive(f) {
            for x in d {
                want[x.function.index()].push((x.frame, x.meta));
                copies += 1;
            }
        }
    }
    let mut nic = NicSim::new(seed).unwrap();
    nic.program(&c).unwrap();
    let run = nic.receive(&wire, traffic, copies).unwrap();
    let mut got: Vec<Vec<(Vec<u8>, overlay_nic_driver::rx::RxMeta)>> = vec![Vec::new(); 5];
    for d in &run.delivered {
        got[d.function.index()].push((d.data.clone(), d.meta));
    }
    for f in 0..5 {
        assert_eq!(
            got[f].len(),
            want[f].len(),
            "seed {seed}: function {f} got {} frames, the model {}",
            got[f].len(),
            want[f].len()
        );
        for (i, (g, w)) in got[f].iter().zip(&want[f]).enumerate() {
            assert_eq!(g.1, w.1, "seed {seed}: function {f} frame {i}: metadata");
            assert_eq!(g.0, w.0, "seed {seed}: function {f} frame {i}: bytes");
        }
    }
    let (counters, overflow) = nic.rx_counters().unwrap();
    assert_eq!(&counters, model.counters(), "seed {seed}: global counters");
    assert_eq!(overflow, 0, "seed {seed}: nothing may overflow here");
    for f in 0..5 {
        let func = Function::from_index(f);
        assert_eq!(
            &nic.rx_function_counters(func).unwrap(),
            model.function_counters(func),
            "seed {seed}: function {f} counters"
        );
    }
    let events = nic.drain_events().unwrap();
    let mut want_events = Vec::new();
    while let Some(e) = model.pop_event() {
        want_events.push(e);
    }
    assert_eq!(events, want_events, "seed {seed}: learn events");
    assert_eq!(
        nic.events_lost().unwrap(),
        model.events_lost(),
        "seed {seed}: events lost"
    );
    assert_eq!(nic.sim().uut().ram_collisions(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn rx_path_matches_the_golden_model(
        seed in any::<u64>(),
        idle in prop_oneof![Just(0.0), 0.0..0.5f64],
        backpressure in prop_oneof![Just(0.0), 0.0..0.5f64],
    ) {
        check(seed, 40, RxTraffic { seed, idle, backpressure });
    }
}

#[test]
fn a_long_run_matches_the_golden_model() {
    check(
        0x5eed_0001,
        300,
        RxTraffic {
            seed: 7,
            idle: 0.1,
            backpressure: 0.1,
        },
    );
}

/// Frames of every VNI (and of none) at every function's MAC, unicast,
/// broadcast and to the VNI's multicast group: nothing reaches a VF outside
/// the frame's VNI, and a frame reaches a VF only when it is decapsulated.
#[test]
fn no_frame_crosses_vnis() {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut c = config(&mut rng);
    // VF0 and VF1 share VNI 5001, VF2 is in 5002, VF3 plain.
    for (i, v) in [Some(5001), Some(5001), Some(5002), None]
        .iter()
        .enumerate()
    {
        c.vfs[i].vni = v.map(vni);
    }
    c.vtep.vlan = None;
    c.rx = RxConfig::default();
    let r = remotes();
    let mut wire = Vec::new();
    for v in VNIS.iter().copied().chain([UNKNOWN_VNI]) {
        // A known sender of this VNI where there is one.
        let (src, ip, smac) = r
            .iter()
            .find(|e| e.0 == v)
            .map_or((r[0].1, r[0].2, r[0].3), |e| (e.1, e.2, e.3));
        let dsts: Vec<MacAddr> = (0..4)
            .map(vf_mac)
            .chain([MacAddr([0xff; 6]), MacAddr([2, 0, 0, 5, 5, 5])])
            .collect();
        for dst in dsts {
            for multicast in [false, true] {
                let inner = {
                    let mut out = Vec::new();
                    PacketBuilder::ethernet2(src.0, dst.0)
                        .ipv4([192, 168, 0, 1], [192, 168, 0, 2], 64)
                        .udp(1, 2)
                        .write(&mut out, &[v as u8; 30])
                        .unwrap();
                    out
                };
                wire.push(encapsulate(
                    &OuterHeaders {
                        dst_mac: if multicast {
                            MacAddr([1, 0, 0x5e, 1, 1, (v % 250) as u8])
                        } else {
                            VTEP_MAC
                        },
                        src_mac: smac,
                        vlan: None,
                        options: 0,
                        src_ip: ip,
                        dst_ip: if multicast { group(v) } else { VTEP_IP },
                        port: 4789,
                        flags: [0x08, 0, 0, 0],
                        vni: v,
                        last: 0,
                        udp_csum: false,
                    },
                    &inner,
                ));
            }
        }
    }
    let mut model = RxModel::new(c.clone(), BuildLimits::default(), 16).unwrap();
    let copies: usize = wire
        .iter()
        .map(|f| model.receive(f).deliveries().len())
        .sum();
    let mut nic = NicSim::new(5).unwrap();
    nic.program(&c).unwrap();
    let run = nic.receive(&wire, RxTraffic::default(), copies).unwrap();
    assert_eq!(run.delivered.len(), copies);
    let mut vf_frames = 0;
    for d in &run.delivered {
        let Function::Vf(i) = d.function else {
            continue;
        };
        vf_frames += 1;
        assert!(
            d.meta.decapsulated,
            "VF{i} got a frame that was not decapsulated"
        );
        assert_eq!(
            c.vfs[i].vni.map(|v| v.get()),
            Some(d.meta.vni),
            "VF{i} (VNI {:?}) got a frame of VNI {}",
            c.vfs[i].vni,
            d.meta.vni
        );
        // The payload carries its VNI: the bytes agree with the metadata.
        assert_eq!(*d.data.last().unwrap(), d.meta.vni as u8);
    }
    // Unicast to each VF of a VNI, broadcast and multicast to both VNIs'
    // members: the VFs did get traffic, so the test can fail.
    assert!(vf_frames >= 12, "only {vf_frames} frames reached VFs");
}
