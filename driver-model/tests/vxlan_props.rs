//! Property tests of the VXLAN golden model: encapsulation and
//! decapsulation are inverse, checksums catch what they must, and no input
//! whatsoever makes `decapsulate` panic.

use std::net::Ipv4Addr;

use etherparse::{SlicedPacket, TransportSlice, VlanId, VlanPcp};
use overlay_nic_driver::vxlan::{
    decapsulate, encapsulate, DecapConfig, DecapError, EncapParams, OuterVlan, Vni,
};
use proptest::collection::vec;
use proptest::prelude::*;

fn arb_vlan() -> impl Strategy<Value = OuterVlan> {
    // 0xfff is reserved and refused by `encapsulate`.
    (0u16..0xfff, 0u8..8, any::<bool>()).prop_map(|(vid, pcp, dei)| OuterVlan {
        vid: VlanId::try_new(vid).expect("below 0xfff"),
        pcp: VlanPcp::try_new(pcp).expect("below 8"),
        dei,
    })
}

prop_compose! {
    fn arb_params()(
        local_mac in any::<[u8; 6]>(),
        remote_mac in any::<[u8; 6]>(),
        local_ip in any::<u32>(),
        remote_ip in any::<u32>(),
        vni in 0..=Vni::MAX,
        udp_src_port in any::<u16>(),
        udp_dst_port in any::<u16>(),
        ttl in 1u8..,
        dont_fragment in any::<bool>(),
        identification in any::<u16>(),
        vlan in proptest::option::of(arb_vlan()),
        udp_checksum in any::<bool>(),
    ) -> EncapParams {
        EncapParams {
            local_mac,
            remote_mac,
            local_ip: Ipv4Addr::from(local_ip),
            remote_ip: Ipv4Addr::from(remote_ip),
            vni: Vni::new(vni).expect("within 24 bits"),
            udp_src_port,
            udp_dst_port,
            ttl,
            dont_fragment,
            identification,
            vlan,
            udp_checksum,
        }
    }
}

fn receiver(p: &EncapParams) -> DecapConfig {
    DecapConfig {
        udp_dst_port: p.udp_dst_port,
        strict_reserved: true,
        local_ip: Some(p.remote_ip),
        local_mac: Some(p.remote_mac),
    }
}

fn encap(inner: &[u8], p: &EncapParams) -> Result<Vec<u8>, TestCaseError> {
    encapsulate(inner, p).map_err(|e| TestCaseError::fail(e.to_string()))
}

/// A valid frame with a short inner frame, as the base for corruptions.
fn arb_frame() -> impl Strategy<Value = (EncapParams, Vec<u8>)> {
    (arb_params(), vec(any::<u8>(), 14..300)).prop_map(|(p, inner)| {
        let frame = encapsulate(&inner, &p).expect("arb_params are valid");
        (p, frame)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// encap -> decap gives back the inner frame and every outer field, and
    /// re-encapsulating from those fields rebuilds the frame exactly. Random
    /// parameters cover tagged/untagged and with/without UDP checksum.
    #[test]
    fn roundtrip(p in arb_params(), inner in vec(any::<u8>(), 14..9000)) {
        let frame = encap(&inner, &p)?;
        prop_assert_eq!(frame.len(), inner.len() + p.overhead());

        let d = decapsulate(&frame, &receiver(&p))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(d.inner, &inner[..]);
        prop_assert!(d.trailer.is_empty());
        prop_assert_eq!(d.outer.encap_params(), p);
        prop_assert_eq!(d.outer.udp_checksum != 0, p.udp_checksum);
        prop_assert_eq!(encap(d.inner, &d.outer.encap_params())?, frame.clone());

        // A third-party view of the same bytes: etherparse sees UDP to the
        // right port carrying VXLAN header + inner frame.
        let sliced = SlicedPacket::from_ethernet(&frame)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        match sliced.transport {
            Some(TransportSlice::Udp(udp)) => {
                prop_assert_eq!(udp.destination_port(), p.udp_dst_port);
                prop_assert_eq!(udp.payload().len(), 8 + inner.len());
                prop_assert_eq!(&udp.payload()[8..], &inner[..]);
            }
            other => prop_assert!(false, "not UDP: {:?}", other),
        }
    }

    /// Arbitrary bytes never panic the decapsulator.
    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..600), strict in any::<bool>()) {
        let cfg = DecapConfig { strict_reserved: strict, ..DecapConfig::default() };
        if let Ok(d) = decapsulate(&bytes, &cfg) {
            prop_assert!(d.inner.len() >= 14);
        }
    }

    /// Corrupted, truncated and extended valid frames never panic the
    /// decapsulator, and whatever it accepts is self-consistent.
    #[test]
    fn mutated_frames_never_panic(
        (p, frame) in arb_frame(),
        flips in vec((any::<prop::sample::Index>(), 1u8..), 0..6),
        cut in proptest::option::of(any::<prop::sample::Index>()),
        extra in vec(any::<u8>(), 0..8),
    ) {
        let mut f = frame;
        for (at, x) in flips {
            let i = at.index(f.len());
            f[i] ^= x;
        }
        if let Some(cut) = cut {
            let n = cut.index(f.len() + 1);
            f.truncate(n);
        }
        f.extend_from_slice(&extra);
        for cfg in [DecapConfig::default(), receiver(&p)] {
            if let Ok(d) = decapsulate(&f, &cfg) {
                prop_assert!(d.inner.len() >= 14);
                prop_assert!(d.inner.len() + d.trailer.len() + 50 <= f.len());
                prop_assert!(d.outer.vxlan.i_flag());
            }
        }
    }

    /// Any single corrupted byte of the outer IPv4 header after the
    /// version/IHL byte is caught by the header checksum: a byte change moves
    /// the 16-bit sum by 1..=255 or 256..=65280, never a multiple of 0xffff.
    #[test]
    fn ip_header_corruption_is_caught(
        (p, frame) in arb_frame(),
        at in 1usize..20,
        x in 1u8..,
    ) {
        let ip = if p.vlan.is_some() { 18 } else { 14 };
        let mut f = frame;
        f[ip + at] ^= x;
        let r = decapsulate(&f, &DecapConfig::default());
        prop_assert!(matches!(r, Err(DecapError::Ipv4Checksum { .. })), "{:?}", r);
    }

    /// With the UDP checksum on, any single corrupted byte of the VXLAN
    /// header or inner frame is caught by it.
    #[test]
    fn udp_payload_corruption_is_caught(
        (p, frame) in arb_frame(),
        at in any::<prop::sample::Index>(),
        x in 1u8..,
    ) {
        let mut p = p;
        p.udp_checksum = true;
        let payload_at = p.overhead() - 8;
        let inner = &frame[p.overhead()..];
        let mut f = encap(inner, &p)?;
        let i = payload_at + at.index(f.len() - payload_at);
        f[i] ^= x;
        let r = decapsulate(&f, &DecapConfig { udp_dst_port: p.udp_dst_port, ..DecapConfig::default() });
        prop_assert!(matches!(r, Err(DecapError::UdpChecksum { .. })), "{:?}", r);
    }
}
