use super::*;

use etherparse::{Ipv4Header, PacketBuilder, TcpHeader};

/// Ones' complement sum of `bytes` (big-endian words, odd byte padded),
/// folded: the RX model's, which shares nothing with the etherparse sums
/// `offload` uses, so known answers are checked against an independent sum.
fn rfc1071_sum(bytes: &[u8]) -> u16 {
    crate::rx::ones_complement_sum(&[], bytes)
}

fn get_u16(frame: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([frame[at], frame[at + 1]])
}

fn get_u32(frame: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([frame[at], frame[at + 1], frame[at + 2], frame[at + 3]])
}

const SRC_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const DST_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
const SRC_IP: [u8; 4] = [10, 1, 2, 3];
const DST_IP: [u8; 4] = [10, 4, 5, 6];

/// A TCP/IPv4 frame (optionally with an 802.1Q tag) with `payload_len`
/// bytes of counting payload, IPv4 identification `id`, sequence `seq`
/// and TCP flags `flags` (byte 13).
fn tcp_frame(vlan: bool, payload_len: usize, id: u16, seq: u32, flags: u8) -> Vec<u8> {
    let mut ip = Ipv4Header::new(0, 64, IpNumber::TCP, SRC_IP, DST_IP).unwrap();
    ip.identification = id;
    let mut tcp = TcpHeader::new(40000, 80, seq, 1024);
    tcp.fin = flags & TCP_FIN != 0;
    tcp.psh = flags & TCP_PSH != 0;
    tcp.cwr = flags & TCP_CWR != 0;
    tcp.ack = flags & 0x10 != 0;
    tcp.acknowledgment_number = 0x0102_0304;
    let payload: Vec<u8> = (0..payload_len).map(|i| i as u8).collect();
    let eth = PacketBuilder::ethernet2(SRC_MAC, DST_MAC);
    let ip = etherparse::IpHeaders::Ipv4(ip, Default::default());
    let mut out = Vec::new();
    if vlan {
        eth.single_vlan(etherparse::VlanId::try_new(42).unwrap())
            .ip(ip)
            .tcp_header(tcp)
            .write(&mut out, &payload)
            .unwrap();
    } else {
        eth.ip(ip)
            .tcp_header(tcp)
            .write(&mut out, &payload)
            .unwrap();
    }
    out
}

/// A UDP/IPv4 frame with `payload_len` bytes of payload.
fn udp_frame(payload_len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(SRC_MAC, DST_MAC)
        .ipv4(SRC_IP, DST_IP, 64)
        .udp(1000, 2000)
        .write(&mut out, &vec![0x77; payload_len])
        .unwrap();
    out
}

const L3: usize = 14;
const L4: usize = 34;
const H: usize = 54;

// ---- the request and the drop reasons ----

#[test]
fn drop_names_and_display() {
    let names: Vec<&str> = OffloadDrop::ALL.iter().map(|d| d.name()).collect();
    assert_eq!(names, ["offload_csum", "offload_ip", "offload_tso"]);
    for d in OffloadDrop::ALL {
        assert_eq!(d.to_string(), d.name());
    }
}

#[test]
fn default_request_is_plain_and_changes_nothing() {
    let req = OffloadRequest::default();
    assert!(req.is_plain());
    for frame in [vec![], vec![1, 2, 3], tcp_frame(false, 100, 1, 2, 0)] {
        assert_eq!(apply(&frame, &req), Ok(vec![frame.clone()]));
        assert_eq!(segment_count(&frame, &req), Ok(1));
    }
    // The fields of offloads not requested are ignored.
    let req = OffloadRequest {
        csum_start: 0xffff,
        csum_offset: 0xffff,
        mss: 1,
        ..OffloadRequest::default()
    };
    assert!(req.is_plain());
    assert_eq!(apply(&[9; 20], &req), Ok(vec![vec![9; 20]]));
}

// ---- CHECKSUM_PARTIAL ----

#[test]
fn csum_written_big_endian_at_start_plus_offset() {
    let mut frame = vec![0u8; 30];
    frame[20..30].copy_from_slice(&[0x12, 0x34, 0x56, 0x78, 0xab, 0xcd, 0x00, 0x01, 0xff, 0x00]);
    // Sum from 20, field at 20 + 6 (currently 0x0001, the "seed").
    let out = apply(&frame, &OffloadRequest::checksum(20, 6)).unwrap();
    assert_eq!(out.len(), 1);
    let expected = !rfc1071_sum(&frame[20..]);
    assert_eq!(get_u16(&out[0], 26), expected);
    assert_eq!(out[0][26], (expected >> 8) as u8);
    // Nothing else changed.
    let mut check = out[0].clone();
    check[26..28].copy_from_slice(&frame[26..28]);
    assert_eq!(check, frame);
    // ... and a receiver's sum over the range plus the seed (what the
    // pseudo-header contributes) now verifies.
    assert_eq!(rfc1071_sum(&out[0][20..]), !0x0001);
}

#[test]
fn csum_odd_length_pads_a_zero_low_byte() {
    let frame = [0u8, 0, 0, 0, 0x01, 0x02, 0x00, 0x00, 0x03];
    let out = apply(&frame, &OffloadRequest::checksum(4, 2)).unwrap();
    // 0x0102 + 0x0000 + 0x0300 = 0x0402.
    assert_eq!(get_u16(&out[0], 6), !0x0402);
}

#[test]
fn csum_zero_is_written_as_ffff() {
    // Range [field = 0x1234][0xedcb]: sum 0xffff, complement 0.
    let frame = [0u8, 0, 0x12, 0x34, 0xed, 0xcb];
    let out = apply(&frame, &OffloadRequest::checksum(2, 0)).unwrap();
    assert_eq!(get_u16(&out[0], 2), 0xffff);
    // All-zero range: sum 0, complement 0xffff anyway.
    let out = apply(&[0u8; 8], &OffloadRequest::checksum(2, 2)).unwrap();
    assert_eq!(get_u16(&out[0], 4), 0xffff);
}

#[test]
fn csum_field_boundary() {
    let frame = vec![0x11u8; 40];
    // start + offset + 2 == len: the field is the last two bytes.
    assert!(apply(&frame, &OffloadRequest::checksum(30, 8)).is_ok());
    assert!(apply(&frame, &OffloadRequest::checksum(38, 0)).is_ok());
    assert!(apply(&frame, &OffloadRequest::checksum(0, 38)).is_ok());
    // One byte further: len + 1.
    assert_eq!(
        apply(&frame, &OffloadRequest::checksum(30, 9)),
        Err(OffloadDrop::Csum)
    );
    assert_eq!(
        apply(&frame, &OffloadRequest::checksum(39, 0)),
        Err(OffloadDrop::Csum)
    );
    assert_eq!(
        segment_count(&frame, &OffloadRequest::checksum(39, 0)),
        Err(OffloadDrop::Csum)
    );
    // No overflow with the largest fields.
    assert_eq!(
        apply(&frame, &OffloadRequest::checksum(0xffff, 0xffff)),
        Err(OffloadDrop::Csum)
    );
    assert_eq!(
        apply(&[], &OffloadRequest::checksum(0, 0)),
        Err(OffloadDrop::Csum)
    );
    assert!(apply(&[0, 0], &OffloadRequest::checksum(0, 0)).is_ok());
}

#[test]
fn csum_sums_padding_it_is_told_to() {
    // A UDP frame padded to 60 bytes with nonzero padding: csum_start at the
    // UDP header sums the padding too (the NIC does not parse).
    let mut frame = udp_frame(4);
    frame.resize(60, 0xaa);
    let out = apply(&frame, &OffloadRequest::checksum(34, 6)).unwrap();
    assert_eq!(get_u16(&out[0], 40), !rfc1071_sum(&frame[34..]));
    let unpadded = udp_frame(4);
    let out2 = apply(&unpadded, &OffloadRequest::checksum(34, 6)).unwrap();
    assert_ne!(get_u16(&out[0], 40), get_u16(&out2[0], 40));
}

// ---- IPv4 header checksum ----

#[test]
fn ip_csum_fills_the_header_checksum() {
    for vlan in [false, true] {
        let good = tcp_frame(vlan, 10, 7, 9, 0);
        let l3 = if vlan { 18 } else { 14 };
        let mut frame = good.clone();
        frame[l3 + 10] = 0xde;
        frame[l3 + 11] = 0xad;
        let req = OffloadRequest {
            ip_csum: true,
            ..OffloadRequest::default()
        };
        assert_eq!(ipv4_offset(&frame), Some(l3));
        assert_eq!(apply(&frame, &req), Ok(vec![good.clone()]));
        assert_eq!(get_u16(&good, l3 + 10), !{
            let mut h = good[l3..l3 + 20].to_vec();
            h[10..12].fill(0);
            rfc1071_sum(&h)
        });
    }
}

#[test]
fn ip_csum_covers_ipv4_options() {
    let mut ip = Ipv4Header::new(0, 64, IpNumber::UDP, SRC_IP, DST_IP).unwrap();
    ip.options = [0x94u8, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00].into();
    let mut good = Vec::new();
    PacketBuilder::ethernet2(SRC_MAC, DST_MAC)
        .ip(etherparse::IpHeaders::Ipv4(ip, Default::default()))
        .udp(1, 2)
        .write(&mut good, &[1, 2, 3])
        .unwrap();
    assert_eq!(good[L3] & 0x0f, 7);
    let mut frame = good.clone();
    frame[L3 + 10..L3 + 12].fill(0);
    let req = OffloadRequest {
        ip_csum: true,
        ..OffloadRequest::default()
    };
    assert_eq!(apply(&frame, &req), Ok(vec![good]));
}

#[test]
fn ip_csum_zero_is_written_as_zero() {
    let mut frame = udp_frame(8);
    // Make the header's sum (checksum field 0) exactly 0xffff by choosing
    // the low word of the destination address.
    frame[L3 + 10..L3 + 12].fill(0);
    frame[L3 + 18..L3 + 20].fill(0);
    let s = rfc1071_sum(&frame[L3..L4]);
    frame[L3 + 18..L3 + 20].copy_from_slice(&(0xffff - s).to_be_bytes());
    assert_eq!(rfc1071_sum(&frame[L3..L4]), 0xffff);
    frame[L3 + 10..L3 + 12].copy_from_slice(&[0x55, 0x55]);
    let req = OffloadRequest {
        ip_csum: true,
        ..OffloadRequest::default()
    };
    let out = apply(&frame, &req).unwrap();
    assert_eq!(get_u16(&out[0], L3 + 10), 0);
}

#[test]
fn ip_csum_refused_without_an_ipv4_header() {
    let req = OffloadRequest {
        ip_csum: true,
        ..OffloadRequest::default()
    };
    let good = udp_frame(8);
    let refused = |f: &[u8]| assert_eq!(apply(f, &req), Err(OffloadDrop::Ip), "{f:02x?}");
    // Not IPv4 ethertype.
    let mut f = good.clone();
    f[12..14].copy_from_slice(&[0x86, 0xdd]);
    refused(&f);
    // Version 6 behind ethertype 0x0800.
    let mut f = good.clone();
    f[L3] = 0x65;
    refused(&f);
    // IHL 4.
    let mut f = good.clone();
    f[L3] = 0x44;
    refused(&f);
    // Shorter than L3 + 20, and shorter than L3 + 4*IHL.
    refused(&good[..L3 + 19]);
    assert!(apply(&good[..L3 + 20], &req).is_ok());
    let mut f = good[..L3 + 24].to_vec();
    f[L3] = 0x47;
    refused(&f);
    f[L3] = 0x46; // L3 + 4*IHL == len
    assert!(apply(&f, &req).is_ok());
    // Runts.
    refused(&[]);
    refused(&good[..13]);
    // A tagged frame whose inner ethertype is not IPv4; and a frame with
    // ethertype 0x8100 too short for the tag (L3 = 14, ethertype 0x8100).
    let mut f = tcp_frame(true, 0, 0, 0, 0);
    f[16..18].copy_from_slice(&[0x08, 0x06]);
    refused(&f);
    refused(&[
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 0x00, 0x08, 0x00, 0x45,
    ]);
    assert_eq!(segment_count(&good[..13], &req), Err(OffloadDrop::Ip));
}

#[test]
fn csum_checked_before_ip_csum() {
    let req = OffloadRequest {
        csum: true,
        csum_start: 0xffff,
        ip_csum: true,
        ..OffloadRequest::default()
    };
    assert_eq!(apply(&[0; 20], &req), Err(OffloadDrop::Csum));
    let req = OffloadRequest {
        csum_start: 0,
        ..req
    };
    assert_eq!(apply(&[0; 20], &req), Err(OffloadDrop::Ip));
}

#[test]
fn both_checksums_are_taken_from_the_hosts_bytes() {
    // A (silly) csum request over the whole IPv4 header and beyond: the L4
    // sum uses the host's IPv4 checksum bytes, not the recomputed ones.
    let mut frame = udp_frame(8);
    frame[L3 + 10..L3 + 12].copy_from_slice(&[0x12, 0x34]);
    let req = OffloadRequest {
        csum: true,
        csum_start: L3 as u16,
        csum_offset: 26, // the UDP checksum field
        ip_csum: true,
        ..OffloadRequest::default()
    };
    let out = apply(&frame, &req).unwrap();
    assert_eq!(get_u16(&out[0], L4 + 6), !rfc1071_sum(&frame[L3..]));
    assert_eq!(
        Some(get_u16(&out[0], L3 + 10)),
        ipv4_header_checksum(&frame)
    );
    // If the two fields coincide, the L4 value (written last) wins.
    let req = OffloadRequest {
        csum_offset: 10,
        ..req
    };
    let out = apply(&frame, &req).unwrap();
    assert_eq!(get_u16(&out[0], L3 + 10), !rfc1071_sum(&frame[L3..]));
}

// ---- TSO ----

fn tso(mss: u16) -> OffloadRequest {
    OffloadRequest::segmentation(mss)
}

#[test]
fn tso_mss_boundary() {
    let frame = tcp_frame(false, 200, 0, 0, 0);
    assert_eq!(apply(&frame, &tso(63)), Err(OffloadDrop::Tso));
    assert_eq!(apply(&frame, &tso(0)), Err(OffloadDrop::Tso));
    assert_eq!(segment_count(&frame, &tso(63)), Err(OffloadDrop::Tso));
    assert_eq!(apply(&frame, &tso(MSS_MIN)).map(|s| s.len()), Ok(4));
    assert_eq!(segment_count(&frame, &tso(64)), Ok(4));
    assert_eq!(apply(&frame, &tso(0xffff)).map(|s| s.len()), Ok(1));
}

#[test]
fn tso_refuses_what_is_not_whole_unfragmented_tcp_ipv4() {
    let good = tcp_frame(false, 100, 0, 0, 0);
    assert!(apply(&good, &tso(64)).is_ok());
    let refused = |f: &[u8]| assert_eq!(apply(f, &tso(64)), Err(OffloadDrop::Tso), "{f:02x?}");
    // Not IPv4, not an IPv4 header.
    let mut f = good.clone();
    f[12] = 0x86;
    refused(&f);
    let mut f = good.clone();
    f[L3] = 0x44;
    refused(&f);
    refused(&[]);
    // Not TCP.
    let mut f = good.clone();
    f[L3 + 9] = 17;
    refused(&f);
    refused(&udp_frame(100));
    // Fragments: MF, and any fragment offset; DF and the reserved bit are fine.
    for (flags, ok) in [
        (0x20u8, false),
        (0x00, true),
        (0x40, true),
        (0x80, true),
        (0x01, false),
    ] {
        let mut f = good.clone();
        f[L3 + 6] = flags;
        f[L3 + 7] = 0;
        assert_eq!(apply(&f, &tso(64)).is_ok(), ok, "flags {flags:02x}");
    }
    let mut f = good.clone();
    f[L3 + 6] = 0;
    f[L3 + 7] = 1;
    refused(&f);
    // TCP header not whole: shorter than 20, data offset 4, shorter than D.
    let header_only = tcp_frame(false, 0, 0, 0, 0);
    let mut f = header_only[..L4 + 19].to_vec();
    f[L3 + 2..L3 + 4].copy_from_slice(&((L4 + 19 - L3) as u16).to_be_bytes());
    refused(&f);
    let mut f = good.clone();
    f[L4 + 12] = 0x40;
    refused(&f);
    let mut f = header_only.clone();
    f[L4 + 12] = 0x60; // D = 6: 24 bytes, only 20 in the frame
    refused(&f);
    // Total length: padding (frame longer) and truncation (frame shorter).
    let mut f = good.clone();
    f.push(0);
    refused(&f);
    refused(&good[..good.len() - 1]);
    // A short frame padded to 60 bytes, as a host might: refused.
    let mut f = header_only.clone();
    assert_eq!(f.len(), 54);
    assert!(apply(&f, &tso(64)).is_ok());
    f.resize(60, 0);
    refused(&f);
}

#[test]
fn tso_ignores_csum_and_ip_csum() {
    let frame = tcp_frame(false, 100, 0, 0, 0);
    let req = OffloadRequest {
        csum: true,
        csum_start: 0xffff,
        csum_offset: 0xffff,
        ip_csum: true,
        ..tso(64)
    };
    assert_eq!(apply(&frame, &req), apply(&frame, &tso(64)));
    // ... and a TSO frame is checked for offload_tso only.
    let req = OffloadRequest { mss: 1, ..req };
    assert_eq!(apply(&[0; 4], &req), Err(OffloadDrop::Tso));
}

/// Checks the IPv4 and TCP checksums of a segment independently, with
/// etherparse.
fn assert_checksums_verify(seg: &[u8], l3: usize) {
    let ip = Ipv4HeaderSlice::from_slice(&seg[l3..]).unwrap();
    assert_eq!(ip.header_checksum(), ip.to_header().calc_header_checksum());
    let l4 = l3 + ip.slice().len();
    let tcp = TcpHeaderSlice::from_slice(&seg[l4..]).unwrap();
    let payload = &seg[l4 + tcp.slice().len()..];
    let expected = tcp.calc_checksum_ipv4(&ip, payload).unwrap();
    let expected = if expected == 0 { 0xffff } else { expected };
    assert_eq!(tcp.checksum(), expected);
}

#[test]
fn tso_splits_with_the_documented_fields() {
    // P = 150 at mss 64: 64 + 64 + 22. id and seq wrap.
    let flags = TCP_FIN | TCP_PSH | TCP_CWR | 0x10;
    let frame = tcp_frame(false, 150, 0xffff, 0xffff_ffc0, flags);
    let segs = apply(&frame, &tso(64)).unwrap();
    assert_eq!(segs.len(), 3);
    let lens: Vec<usize> = segs.iter().map(|s| s.len() - H).collect();
    assert_eq!(lens, [64, 64, 22]);
    for (k, seg) in segs.iter().enumerate() {
        assert_eq!(&seg[..L3 + 2], &frame[..L3 + 2]); // MACs, ethertype, DSCP
        assert_eq!(get_u16(seg, L3 + 2) as usize, 40 + lens[k]);
        assert_eq!(get_u16(seg, L3 + 4), 0xffffu16.wrapping_add(k as u16));
        assert_eq!(&seg[L3 + 6..L3 + 10], &frame[L3 + 6..L3 + 10]); // DF, TTL, protocol
        assert_eq!(&seg[L3 + 12..L4 + 4], &frame[L3 + 12..L4 + 4]); // addresses, ports
        assert_eq!(
            get_u32(seg, L4 + 4),
            0xffff_ffc0u32.wrapping_add(64 * k as u32)
        );
        assert_eq!(&seg[L4 + 8..L4 + 13], &frame[L4 + 8..L4 + 13]); // ack, offset
        assert_eq!(&seg[L4 + 14..L4 + 16], &frame[L4 + 14..L4 + 16]); // window
        assert_eq!(&seg[L4 + 18..H], &frame[L4 + 18..H]); // urgent
        assert_eq!(&seg[H..], &frame[H + 64 * k..H + 64 * k + lens[k]]);
        assert_checksums_verify(seg, L3);
    }
    assert_eq!(segs[0][L4 + 13], TCP_CWR | 0x10);
    assert_eq!(segs[1][L4 + 13], 0x10);
    assert_eq!(segs[2][L4 + 13], TCP_FIN | TCP_PSH | 0x10);
    assert_eq!(get_u16(&segs[1], L3 + 4), 0);
    assert_eq!(get_u32(&segs[1], L4 + 4), 0);
    assert_eq!(get_u32(&segs[2], L4 + 4), 64);
}

#[test]
fn tso_exact_multiple_of_mss() {
    let frame = tcp_frame(true, 256, 1, 1, TCP_FIN);
    let segs = apply(&frame, &tso(128)).unwrap();
    assert_eq!(segs.len(), 2);
    assert!(segs.iter().all(|s| s.len() == 58 + 128));
    assert_eq!(segs[0][38 + 13], 0);
    assert_eq!(segs[1][38 + 13], TCP_FIN);
    for s in &segs {
        assert_eq!(&s[..18], &frame[..18]); // the inner VLAN tag is copied
        assert_checksums_verify(s, 18);
    }
}

#[test]
fn tso_single_segment_recomputes_lengths_checksums_and_flags() {
    let flags = TCP_FIN | TCP_PSH | TCP_CWR;
    let mut frame = tcp_frame(false, 64, 5, 6, flags);
    // The host's checksums are not used.
    frame[L3 + 10..L3 + 12].copy_from_slice(&[0xba, 0xad]);
    frame[L4 + 16..L4 + 18].copy_from_slice(&[0xf0, 0x0d]);
    let segs = apply(&frame, &tso(64)).unwrap();
    assert_eq!(segs.len(), 1);
    let seg = &segs[0];
    assert_eq!(seg.len(), frame.len());
    assert_eq!(get_u16(seg, L3 + 2), 40 + 64);
    assert_eq!(get_u16(seg, L3 + 4), 5);
    assert_eq!(get_u32(seg, L4 + 4), 6);
    assert_eq!(seg[L4 + 13], flags); // the only segment is first and last
    assert_checksums_verify(seg, L3);
    assert_eq!(segs, vec![tcp_frame(false, 64, 5, 6, flags)]);
}

#[test]
fn tso_empty_payload_gives_one_header_only_segment() {
    let mut frame = tcp_frame(false, 0, 5, 6, TCP_FIN);
    frame[L4 + 16] ^= 0xff;
    let layout = TsoLayout::of(&frame, 1000).unwrap();
    assert_eq!(layout.payload_len, 0);
    assert_eq!(layout.segment_count(), 1);
    assert_eq!(layout.max_segment_l3_len(), 40);
    let segs = apply(&frame, &tso(1000)).unwrap();
    assert_eq!(segs, vec![tcp_frame(false, 0, 5, 6, TCP_FIN)]);
}

#[test]
fn tso_layout_of_options_and_vlan() {
    let mut ip = Ipv4Header::new(0, 64, IpNumber::TCP, SRC_IP, DST_IP).unwrap();
    ip.options = [0x01u8, 0x01, 0x01, 0x00].into();
    let mut tcp = TcpHeader::new(1, 2, 3, 4);
    tcp.set_options_raw(&[0x01; 12]).unwrap();
    let mut frame = Vec::new();
    PacketBuilder::ethernet2(SRC_MAC, DST_MAC)
        .single_vlan(etherparse::VlanId::try_new(7).unwrap())
        .ip(etherparse::IpHeaders::Ipv4(ip, Default::default()))
        .tcp_header(tcp)
        .write(&mut frame, &[0x33; 1000])
        .unwrap();
    let layout = TsoLayout::of(&frame, 300).unwrap();
    assert_eq!(
        layout,
        TsoLayout {
            l3: 18,
            l4: 18 + 24,
            header_len: 18 + 24 + 32,
            payload_len: 1000,
            mss: 300,
        }
    );
    assert_eq!(layout.segment_count(), 4);
    assert_eq!(layout.max_segment_l3_len(), 24 + 32 + 300);
    let segs = layout.segments(&frame).unwrap();
    assert_eq!(segs.len(), 4);
    for s in &segs {
        assert_eq!(&s[..18], &frame[..18]);
        assert_eq!(&s[18 + 20..18 + 24], &frame[18 + 20..18 + 24]); // IPv4 options
        assert_eq!(&s[42 + 20..74], &frame[42 + 20..74]); // TCP options
        assert_checksums_verify(s, 18);
    }
}

#[test]
fn tso_layout_that_does_not_fit_the_frame_is_refused() {
    let frame = tcp_frame(false, 100, 0, 0, 0);
    let layout = TsoLayout::of(&frame, 64).unwrap();
    assert_eq!(layout.segments(&frame[..50]), Err(OffloadDrop::Tso));
    let bad = TsoLayout { mss: 0, ..layout };
    assert_eq!(bad.segments(&frame), Err(OffloadDrop::Tso));
    let bad = TsoLayout { l4: 20, ..layout };
    assert_eq!(bad.segments(&frame), Err(OffloadDrop::Tso));
}

// ---- outer UDP checksum ----

#[test]
fn outer_udp_checksum_matches_encapsulate() {
    use crate::vxlan::{encapsulate, EncapParams, OuterVlan};
    use std::net::Ipv4Addr;
    let inner = tcp_frame(false, 333, 1, 2, 0);
    for vlan in [None, Some(OuterVlan::new(100, 3).unwrap())] {
        let mut p = EncapParams::new(
            SRC_MAC,
            DST_MAC,
            Ipv4Addr::new(192, 168, 0, 1),
            Ipv4Addr::new(192, 168, 0, 2),
            77,
        )
        .unwrap();
        p.vlan = vlan;
        let mut without = encapsulate(&inner, &p).unwrap();
        p.udp_checksum = true;
        let with = encapsulate(&inner, &p).unwrap();
        let l4 = if vlan.is_some() { 38 } else { 34 };
        let expected = get_u16(&with, l4 + 6);
        assert_eq!(outer_udp_checksum(&without), Some(expected));
        assert_eq!(outer_udp_checksum(&with), Some(expected));
        assert_eq!(fill_outer_udp_checksum(&mut without), Some(expected));
        assert_eq!(without, with);
        // Independent check: pseudo-header + UDP datagram sums to 0xffff.
        let mut pseudo = vec![192, 168, 0, 1, 192, 168, 0, 2, 0, 17];
        pseudo.extend_from_slice(&with[l4 + 4..l4 + 6]);
        pseudo.extend_from_slice(&with[l4..]);
        assert_eq!(rfc1071_sum(&pseudo), 0xffff);
    }
}

#[test]
fn outer_udp_checksum_needs_udp_over_ipv4() {
    let tcp = tcp_frame(false, 10, 0, 0, 0);
    assert_eq!(outer_udp_checksum(&tcp), None);
    let mut t = tcp.clone();
    assert_eq!(fill_outer_udp_checksum(&mut t), None);
    assert_eq!(t, tcp);
    assert_eq!(outer_udp_checksum(&[]), None);
    let udp = udp_frame(10);
    assert!(outer_udp_checksum(&udp).is_some());
    // UDP length below 8 or beyond the frame.
    let mut f = udp.clone();
    f[L4 + 4..L4 + 6].copy_from_slice(&7u16.to_be_bytes());
    assert_eq!(outer_udp_checksum(&f), None);
    let mut f = udp.clone();
    f[L4 + 4..L4 + 6].copy_from_slice(&19u16.to_be_bytes());
    assert_eq!(outer_udp_checksum(&f), None);
    // A fragment.
    let mut f = udp.clone();
    f[L3 + 6] |= 0x20;
    assert_eq!(outer_udp_checksum(&f), None);
    // Padding after the datagram is not summed.
    let mut f = udp.clone();
    f.extend_from_slice(&[0xee; 6]);
    assert_eq!(outer_udp_checksum(&f), outer_udp_checksum(&udp));
}
