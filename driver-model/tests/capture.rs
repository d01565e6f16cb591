//! The golden model against frames nobody on this project wrote: the VXLAN
//! trace from the Zeek project's test suite (copied from
//! `shared/captures/vxlan.pcap` so this test stands alone). Ten frames in VNI
//! 123 between VTEPs 192.168.56.11 and 192.168.56.12: an ARP exchange and
//! four pings between 10.0.0.1 and 10.0.0.2.

use std::error::Error;
use std::fs::File;
use std::net::Ipv4Addr;

use etherparse::{ArpOperation, Icmpv4Type, NetSlice, SlicedPacket, TransportSlice};
use overlay_nic_driver::vxlan::{
    decapsulate, encapsulate, DecapConfig, EncapParams, VxlanHeader, VXLAN_OVERHEAD,
};
use pcap_file::pcap::PcapReader;
use pcap_file::DataLink;

const CAPTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vxlan.pcap");
const VTEP_11: Ipv4Addr = Ipv4Addr::new(192, 168, 56, 11);
const VTEP_12: Ipv4Addr = Ipv4Addr::new(192, 168, 56, 12);
const HOST_1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const HOST_2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

fn frames() -> Result<Vec<Vec<u8>>, Box<dyn Error>> {
    let mut reader = PcapReader::new(File::open(CAPTURE)?)?;
    assert_eq!(reader.header().datalink, DataLink::ETHERNET);
    let mut frames = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet?;
        // Not cut short by the snap length, so every byte sent is here.
        assert_eq!(packet.orig_len as usize, packet.data.len());
        frames.push(packet.data.into_owned());
    }
    Ok(frames)
}

/// What each inner frame is, in capture order.
#[derive(Debug, PartialEq)]
enum Inner {
    ArpRequest {
        from: Ipv4Addr,
        asks: Ipv4Addr,
    },
    ArpReply {
        from: Ipv4Addr,
        to: Ipv4Addr,
    },
    EchoRequest {
        from: Ipv4Addr,
        to: Ipv4Addr,
        seq: u16,
    },
    EchoReply {
        from: Ipv4Addr,
        to: Ipv4Addr,
        seq: u16,
    },
}

fn classify(inner: &[u8]) -> Result<Inner, Box<dyn Error>> {
    let packet = SlicedPacket::from_ethernet(inner)?;
    match packet.net {
        Some(NetSlice::Arp(arp)) => {
            let arp = arp.to_packet().try_eth_ipv4()?;
            let (from, to) = (arp.sender_ipv4_addr(), arp.target_ipv4_addr());
            match arp.operation {
                ArpOperation::REQUEST => Ok(Inner::ArpRequest { from, asks: to }),
                ArpOperation::REPLY => Ok(Inner::ArpReply { from, to }),
                op => Err(format!("unexpected ARP operation {op:?}").into()),
            }
        }
        Some(NetSlice::Ipv4(ip)) => {
            let (from, to) = (ip.header().source_addr(), ip.header().destination_addr());
            match (packet.transport, ip.header().protocol().0) {
                (Some(TransportSlice::Icmpv4(icmp)), 1) => match icmp.icmp_type() {
                    Icmpv4Type::EchoRequest(e) => Ok(Inner::EchoRequest {
                        from,
                        to,
                        seq: e.seq,
                    }),
                    Icmpv4Type::EchoReply(e) => Ok(Inner::EchoReply {
                        from,
                        to,
                        seq: e.seq,
                    }),
                    t => Err(format!("unexpected ICMP {t:?}").into()),
                },
                (_, proto) => Err(format!("unexpected IPv4 protocol {proto}").into()),
            }
        }
        other => Err(format!("unexpected inner network layer {other:?}").into()),
    }
}

#[test]
fn capture_decapsulates_and_reencapsulates_bit_exact() -> Result<(), Box<dyn Error>> {
    let frames = frames()?;
    assert_eq!(frames.len(), 10);

    let mut inners = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        // Padding and FCS, checked rather than assumed: the trace was taken
        // at a host interface, so it has no FCS, and every outer frame is far
        // above the 60-byte minimum, so none is padded. The frame therefore
        // ends exactly where the outer IPv4 total length says.
        let ip_total_len = usize::from(u16::from_be_bytes([frame[16], frame[17]]));
        assert_eq!(frame.len(), 14 + ip_total_len, "frame {i}: trailing bytes");

        // The receiving VTEP's view: whichever address the frame is to.
        let d = decapsulate(frame, &DecapConfig::default())?;
        let cfg = DecapConfig {
            local_ip: Some(d.outer.dst_ip),
            local_mac: Some(d.outer.dst_mac),
            strict_reserved: true,
            ..DecapConfig::default()
        };
        assert_eq!(decapsulate(frame, &cfg)?, d, "frame {i}");
        assert!(d.trailer.is_empty(), "frame {i}");
        assert_eq!(d.outer.vni().get(), 123, "frame {i}");
        assert_eq!(d.outer.vxlan, VxlanHeader::new(d.outer.vni()), "frame {i}");
        assert!(
            (d.outer.src_ip, d.outer.dst_ip) == (VTEP_11, VTEP_12)
                || (d.outer.src_ip, d.outer.dst_ip) == (VTEP_12, VTEP_11),
            "frame {i}: {} -> {}",
            d.outer.src_ip,
            d.outer.dst_ip
        );
        assert_eq!(d.outer.udp_dst_port, 4789, "frame {i}");
        assert_eq!(d.outer.udp_checksum, 0, "frame {i}");
        assert_eq!(d.outer.vlan, None, "frame {i}");
        assert_eq!(d.outer.ip_header_len, 20, "frame {i}");
        assert_eq!(d.inner.len() + VXLAN_OVERHEAD, frame.len(), "frame {i}");
        inners.push(classify(d.inner)?);

        // Re-encapsulate with parameters taken from the decapsulated outer
        // fields. Carried over: outer src/dst MAC, src/dst IP, VNI, UDP dst
        // port, TTL and DF (which a VTEP configures), and the UDP source port
        // (the sender's hash of the inner flow) and IPv4 identification (the
        // sender's counter), which no model can predict. Not carried over but
        // produced by the model and checked by the comparison: everything
        // else, i.e. EtherType, IPv4 version/IHL/DSCP/ECN/lengths/flags/
        // protocol/checksum, UDP length and checksum 0, the VXLAN flags and
        // reserved bits, and the inner frame unchanged. The comparison is
        // over the whole frame.
        let mut p = EncapParams::new(
            d.outer.src_mac,
            d.outer.dst_mac,
            d.outer.src_ip,
            d.outer.dst_ip,
            d.outer.vni().get(),
        )?;
        p.udp_dst_port = d.outer.udp_dst_port;
        p.ttl = d.outer.ttl;
        p.dont_fragment = d.outer.dont_fragment;
        p.udp_src_port = d.outer.udp_src_port;
        p.identification = d.outer.identification;
        assert_eq!(&encapsulate(d.inner, &p)?, frame, "frame {i}");
        // The helper that derives parameters from outer headers agrees.
        assert_eq!(d.outer.encap_params(), p, "frame {i}");
    }

    // The inner ARP frames are 42 bytes: the sending host's VTEP got them
    // before any NIC padded them to 60, and the model keeps them as they are.
    let mut expected = vec![
        Inner::ArpRequest {
            from: HOST_1,
            asks: HOST_2,
        },
        Inner::ArpReply {
            from: HOST_2,
            to: HOST_1,
        },
    ];
    for seq in 1..=4 {
        expected.push(Inner::EchoRequest {
            from: HOST_1,
            to: HOST_2,
            seq,
        });
        expected.push(Inner::EchoReply {
            from: HOST_2,
            to: HOST_1,
            seq,
        });
    }
    assert_eq!(inners, expected);
    Ok(())
}

/// The same frames, each with its outer IPv4 header checksum broken, are all
/// refused: the capture's checksums are what makes them pass.
#[test]
fn capture_with_broken_ip_checksum_is_refused() -> Result<(), Box<dyn Error>> {
    for mut frame in frames()? {
        frame[24] ^= 0x01;
        assert!(matches!(
            decapsulate(&frame, &DecapConfig::default()),
            Err(overlay_nic_driver::DecapError::Ipv4Checksum { .. })
        ));
    }
    Ok(())
}
