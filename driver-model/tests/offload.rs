//! Property tests of the TX offload golden model (`docs/tx-offload.md`):
//! TSO segments of random TCP/IPv4 frames verify on their own and add up to
//! the original, `CHECKSUM_PARTIAL` with Linux's pseudo-header seed gives
//! the checksums etherparse computes, and no input whatsoever makes the
//! model panic.

use etherparse::checksum::Sum16BitWords;
use etherparse::{
    IpHeaders, IpNumber, Ipv4Header, Ipv4HeaderSlice, PacketBuilder, TcpHeader, TcpHeaderSlice,
    UdpHeaderSlice, VlanId,
};
use overlay_nic_driver::offload::{apply, segment_count, OffloadRequest, TsoLayout, MSS_MIN};
use proptest::collection::vec;
use proptest::prelude::*;

const FIN: u8 = 0x01;
const PSH: u8 = 0x08;
const CWR: u8 = 0x80;

/// The fields a random TCP/IPv4 frame is built from.
#[derive(Clone, Debug)]
struct TcpFrame {
    vlan: Option<u16>,
    ip: Ipv4Header,
    tcp: TcpHeader,
    payload: Vec<u8>,
}

impl TcpFrame {
    fn l3(&self) -> usize {
        if self.vlan.is_some() {
            18
        } else {
            14
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let eth = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        let ip = IpHeaders::Ipv4(self.ip.clone(), Default::default());
        let mut out = Vec::new();
        match self.vlan {
            Some(vid) => eth
                .single_vlan(VlanId::try_new(vid).expect("below 4096"))
                .ip(ip)
                .tcp_header(self.tcp.clone())
                .write(&mut out, &self.payload),
            None => eth
                .ip(ip)
                .tcp_header(self.tcp.clone())
                .write(&mut out, &self.payload),
        }
        .expect("fits");
        out
    }
}

/// Bytes of options: 0 to 40, a multiple of 4.
fn options() -> impl Strategy<Value = Vec<u8>> {
    (0usize..=10).prop_flat_map(|words| vec(any::<u8>(), 4 * words))
}

prop_compose! {
    fn arb_ip(protocol: IpNumber)(
        source in any::<[u8; 4]>(),
        destination in any::<[u8; 4]>(),
        ttl in any::<u8>(),
        identification in any::<u16>(),
        dont_fragment in any::<bool>(),
        dscp in 0u8..64,
        options in options(),
    ) -> Ipv4Header {
        let mut ip = Ipv4Header::new(0, ttl, protocol, source, destination).expect("small");
        ip.identification = identification;
        ip.dont_fragment = dont_fragment;
        ip.dscp = etherparse::IpDscp::try_new(dscp).expect("6 bits");
        ip.options = options[..].try_into().expect("at most 40 bytes, multiple of 4");
        ip
    }
}

prop_compose! {
    fn arb_tcp()(
        ports in any::<(u16, u16)>(),
        seq in any::<u32>(),
        ack in any::<u32>(),
        window in any::<u16>(),
        urgent in any::<u16>(),
        flags in any::<u8>(),
        options in options(),
    ) -> TcpHeader {
        let mut tcp = TcpHeader::new(ports.0, ports.1, seq, window);
        tcp.acknowledgment_number = ack;
        tcp.urgent_pointer = urgent;
        tcp.fin = flags & 0x01 != 0;
        tcp.syn = flags & 0x02 != 0;
        tcp.rst = flags & 0x04 != 0;
        tcp.psh = flags & 0x08 != 0;
        tcp.ack = flags & 0x10 != 0;
        tcp.urg = flags & 0x20 != 0;
        tcp.ece = flags & 0x40 != 0;
        tcp.cwr = flags & 0x80 != 0;
        tcp.set_options_raw(&options).expect("at most 40 bytes");
        tcp
    }
}

prop_compose! {
    fn arb_tcp_frame(max_payload: usize)(
        vlan in proptest::option::of(0u16..4096),
        ip in arb_ip(IpNumber::TCP),
        tcp in arb_tcp(),
        payload in vec(any::<u8>(), 0..max_payload),
    ) -> TcpFrame {
        TcpFrame { vlan, ip, tcp, payload }
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// The TCP checksum etherparse computes, as the offload writes it (0 as
/// 0xffff: the same value in ones' complement).
fn mangled(c: u16) -> u16 {
    if c == 0 {
        0xffff
    } else {
        c
    }
}

proptest! {
    /// TSO of random TCP/IPv4 frames: every segment verifies independently
    /// and the segments add up to the original frame.
    #[test]
    fn tso_segments_verify(
        f in arb_tcp_frame(20_000),
        mss in prop_oneof![MSS_MIN..200, MSS_MIN..9000],
    ) {
        let frame = f.bytes();
        let l3 = f.l3();
        let segs = apply(&frame, &OffloadRequest::segmentation(mss)).expect("valid TSO frame");
        let layout = TsoLayout::of(&frame, mss).expect("valid TSO frame");
        prop_assert_eq!(segs.len(), layout.segment_count());
        prop_assert_eq!(segs.len(), f.payload.len().div_ceil(usize::from(mss)).max(1));
        let mss = usize::from(mss);
        let mut payload = Vec::new();
        let last = segs.len() - 1;
        for (k, seg) in segs.iter().enumerate() {
            let ip = Ipv4HeaderSlice::from_slice(&seg[l3..]).expect("IPv4 header");
            prop_assert_eq!(ip.header_checksum(), ip.to_header().calc_header_checksum());
            prop_assert_eq!(usize::from(ip.total_len()), seg.len() - l3);
            prop_assert_eq!(ip.identification(), f.ip.identification.wrapping_add(k as u16));
            prop_assert_eq!(ip.options(), &f.ip.options[..]);
            prop_assert_eq!(ip.ttl(), f.ip.time_to_live);
            prop_assert_eq!(ip.dont_fragment(), f.ip.dont_fragment);
            prop_assert_eq!(&seg[..l3], &frame[..l3]);
            let l4 = l3 + ip.slice().len();
            let tcp = TcpHeaderSlice::from_slice(&seg[l4..]).expect("TCP header");
            let data = &seg[l4 + tcp.slice().len()..];
            let expected = tcp.calc_checksum_ipv4(&ip, data).expect("small");
            prop_assert_eq!(tcp.checksum(), mangled(expected));
            prop_assert_eq!(
                tcp.sequence_number(),
                f.tcp.sequence_number.wrapping_add((k * mss) as u32)
            );
            prop_assert_eq!(tcp.acknowledgment_number(), f.tcp.acknowledgment_number);
            prop_assert_eq!(tcp.window_size(), f.tcp.window_size);
            prop_assert_eq!(tcp.urgent_pointer(), f.tcp.urgent_pointer);
            prop_assert_eq!(tcp.options(), f.tcp.options.as_slice());
            let flags = seg[l4 + 13];
            let original = frame[l4 + 13];
            let keep_fin_psh = if k == last { FIN | PSH } else { 0 };
            let keep_cwr = if k == 0 { CWR } else { 0 };
            prop_assert_eq!(flags & !(FIN | PSH | CWR), original & !(FIN | PSH | CWR));
            prop_assert_eq!(flags & (FIN | PSH), original & keep_fin_psh);
            prop_assert_eq!(flags & CWR, original & keep_cwr);
            if k == last {
                prop_assert!(data.len() <= mss);
            } else {
                prop_assert_eq!(data.len(), mss);
            }
            prop_assert!(
                ip.total_len() as usize <= layout.max_segment_l3_len()
            );
            payload.extend_from_slice(data);
        }
        prop_assert_eq!(payload, f.payload);
    }

    /// CHECKSUM_PARTIAL on random UDP and TCP frames, with the pseudo-header
    /// sum in the checksum field as Linux leaves it, gives the checksum
    /// etherparse computes; with `ip_csum`, the IPv4 checksum too.
    #[test]
    fn checksum_partial_validates(
        vlan in proptest::option::of(0u16..4096),
        ip_udp in arb_ip(IpNumber::UDP),
        ip_tcp in arb_ip(IpNumber::TCP),
        udp_ports in any::<(u16, u16)>(),
        tcp in arb_tcp(),
        is_tcp in any::<bool>(),
        ip_csum in any::<bool>(),
        ip_garbage in any::<u16>(),
        payload in vec(any::<u8>(), 0..2000),
    ) {
        let eth = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        let ip = IpHeaders::Ipv4(if is_tcp { ip_tcp } else { ip_udp }, Default::default());
        let mut good = Vec::new();
        let step = match vlan {
            Some(vid) => eth.single_vlan(VlanId::try_new(vid).expect("below 4096")).ip(ip),
            None => eth.ip(ip),
        };
        if is_tcp {
            step.tcp_header(tcp).write(&mut good, &payload)
        } else {
            step.udp(udp_ports.0, udp_ports.1).write(&mut good, &payload)
        }
        .expect("fits");
        let l3 = if vlan.is_some() { 18 } else { 14 };
        let ip = Ipv4HeaderSlice::from_slice(&good[l3..]).expect("IPv4");
        let l4 = l3 + ip.slice().len();
        let field = l4 + if is_tcp { 16 } else { 6 };
        // Linux's seed: the folded pseudo-header sum, not complemented.
        let l4_len = u16::try_from(good.len() - l4).expect("small");
        let seed = !Sum16BitWords::new()
            .add_4bytes(ip.source())
            .add_4bytes(ip.destination())
            .add_2bytes([0, if is_tcp { 6 } else { 17 }])
            .add_2bytes(l4_len.to_be_bytes())
            .ones_complement()
            .to_be();
        let mut frame = good.clone();
        frame[field..field + 2].copy_from_slice(&seed.to_be_bytes());
        if ip_csum {
            frame[l3 + 10..l3 + 12].copy_from_slice(&ip_garbage.to_be_bytes());
        }
        let req = OffloadRequest {
            ip_csum,
            ..OffloadRequest::checksum(l4 as u16, (field - l4) as u16)
        };
        let out = apply(&frame, &req).expect("valid request");
        prop_assert_eq!(out.len(), 1);
        let out = &out[0];
        let ip = Ipv4HeaderSlice::from_slice(&out[l3..]).expect("IPv4");
        if ip_csum {
            prop_assert_eq!(ip.header_checksum(), ip.to_header().calc_header_checksum());
        }
        let data_at = l4 + if is_tcp { TcpHeaderSlice::from_slice(&out[l4..]).expect("TCP").slice().len() } else { 8 };
        let expected = if is_tcp {
            let tcp = TcpHeaderSlice::from_slice(&out[l4..]).expect("TCP");
            mangled(tcp.calc_checksum_ipv4(&ip, &out[data_at..]).expect("small"))
        } else {
            let udp = UdpHeaderSlice::from_slice(&out[l4..]).expect("UDP");
            udp.to_header()
                .calc_checksum_ipv4_raw(ip.source(), ip.destination(), &out[data_at..])
                .expect("small")
        };
        prop_assert_eq!(u16_at(out, field), expected);
        // Everything else is the frame etherparse built.
        let mut rest = out.clone();
        rest[field..field + 2].copy_from_slice(&good[field..field + 2]);
        prop_assert_eq!(rest, good);
    }

    /// Arbitrary bytes and an arbitrary request never panic, and the result
    /// agrees with `segment_count`.
    #[test]
    fn arbitrary_input_never_panics(
        frame in vec(any::<u8>(), 0..200),
        req in arb_request(),
    ) {
        check_consistent(&frame, &req)?;
    }

    /// Valid TCP/IPv4 frames with a few bytes of their headers changed, and
    /// arbitrary requests: the model's deeper paths never panic either.
    #[test]
    fn mutated_frames_never_panic(
        f in arb_tcp_frame(600),
        flips in vec((0usize..120, any::<u8>()), 0..4),
        cut in proptest::option::of(0usize..700),
        req in arb_request(),
    ) {
        let mut frame = f.bytes();
        for (at, v) in flips {
            if let Some(b) = frame.get_mut(at) {
                *b = v;
            }
        }
        if let Some(cut) = cut {
            frame.truncate(cut);
        }
        check_consistent(&frame, &req)?;
    }
}

/// Requests whose offsets and mss often land near real ones.
fn arb_request() -> impl Strategy<Value = OffloadRequest> {
    let small = || prop_oneof![0u16..100, any::<u16>()];
    (
        any::<bool>(),
        small(),
        small(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![0u16..200, any::<u16>()],
    )
        .prop_map(
            |(csum, csum_start, csum_offset, ip_csum, tso, mss)| OffloadRequest {
                csum,
                csum_start,
                csum_offset,
                ip_csum,
                tso,
                mss,
            },
        )
}

fn check_consistent(frame: &[u8], req: &OffloadRequest) -> Result<(), TestCaseError> {
    let out = apply(frame, req);
    prop_assert_eq!(
        out.as_ref().map(Vec::len).map_err(|e| *e),
        segment_count(frame, req)
    );
    if let Ok(out) = &out {
        if req.tso {
            let total: usize = out.iter().map(Vec::len).sum();
            let layout = TsoLayout::of(frame, req.mss).expect("accepted");
            prop_assert_eq!(total, frame.len() + (out.len() - 1) * layout.header_len);
        } else {
            prop_assert_eq!(out[0].len(), frame.len());
        }
    }
    Ok(())
}
