//! Golden model of the NIC's TX offloads (`docs/tx-offload.md`): the inner
//! checksums (`CHECKSUM_PARTIAL` and the IPv4 header checksum) and TCP
//! segmentation (TSO) done on a host's frame before the TX path classifies
//! and encapsulates it, and the optional outer UDP checksum of the
//! encapsulated frame.
//!
//! [`apply`] takes one host frame and its [`OffloadRequest`] and returns the
//! frames the TX path then handles one by one (the frame itself, or TSO's
//! segments), or the [`OffloadDrop`] reason the request was refused. It is
//! written with etherparse and shares no code with the `hdl` crate.
//!
//! ```
//! use etherparse::PacketBuilder;
//! use overlay_nic_driver::offload::{apply, OffloadDrop, OffloadRequest};
//!
//! // A TCP/IPv4 frame with 1000 payload bytes, FIN and PSH set.
//! let mut frame = Vec::new();
//! PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
//!     .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
//!     .tcp(1234, 80, 1000, 65535)
//!     .fin()
//!     .psh()
//!     .write(&mut frame, &[0xab; 1000])?;
//!
//! // Segmented at 400 bytes: 400 + 400 + 200.
//! let req = OffloadRequest { tso: true, mss: 400, ..OffloadRequest::default() };
//! let segments = apply(&frame, &req)?;
//! assert_eq!(segments.len(), 3);
//! assert_eq!(segments[0].len(), 54 + 400);
//! assert_eq!(segments[2].len(), 54 + 200);
//! assert_eq!(segments[0][47] & 0x09, 0); // FIN and PSH only on the last
//! assert_eq!(segments[2][47] & 0x09, 0x09);
//!
//! // A checksum field that does not lie in the frame drops it.
//! let req = OffloadRequest {
//!     csum: true,
//!     csum_start: 34,
//!     csum_offset: 1019, // 34 + 1019 + 2 = 1055 > 1054 bytes
//!     ..OffloadRequest::default()
//! };
//! assert_eq!(apply(&frame, &req), Err(OffloadDrop::Csum));
//!
//! // A plain frame is handed on unchanged.
//! assert_eq!(apply(&frame, &OffloadRequest::default())?, vec![frame.clone()]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

use etherparse::checksum::Sum16BitWords;
use etherparse::{
    EtherType, Ethernet2HeaderSlice, IpNumber, Ipv4HeaderSlice, SingleVlanHeaderSlice,
    TcpHeaderSlice, UdpHeaderSlice,
};

/// The smallest `mss` a TSO request may carry (a build constant; Linux never
/// goes below 88).
pub const MSS_MIN: u16 = 64;

/// TCP flag bits TSO treats specially (byte 13 of the TCP header).
const TCP_FIN: u8 = 0x01;
const TCP_PSH: u8 = 0x08;
const TCP_CWR: u8 = 0x80;

/// The offload request that comes with a host frame (`docs/tx-offload.md`,
/// "Per-frame request"). The default (all zero) is a plain frame: nothing
/// is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OffloadRequest {
    /// Checksum request (Linux's `CHECKSUM_PARTIAL`).
    pub csum: bool,
    /// Byte offset in the frame where the checksum's sum starts.
    pub csum_start: u16,
    /// Offset of the 16-bit checksum field from `csum_start`.
    pub csum_offset: u16,
    /// Fill in the inner IPv4 header checksum.
    pub ip_csum: bool,
    /// Segment the frame (TCP over IPv4).
    pub tso: bool,
    /// TSO: the most TCP payload bytes per segment.
    pub mss: u16,
}

impl OffloadRequest {
    /// A `CHECKSUM_PARTIAL` request: sum from `csum_start` to the end of
    /// the frame, write the result at `csum_start + csum_offset`.
    pub const fn checksum(csum_start: u16, csum_offset: u16) -> OffloadRequest {
        OffloadRequest {
            csum: true,
            csum_start,
            csum_offset,
            ip_csum: false,
            tso: false,
            mss: 0,
        }
    }

    /// A TSO request with `mss` payload bytes per segment.
    pub const fn segmentation(mss: u16) -> OffloadRequest {
        OffloadRequest {
            csum: false,
            csum_start: 0,
            csum_offset: 0,
            ip_csum: false,
            tso: true,
            mss,
        }
    }

    /// True for a plain frame: no offload requested (the fields of an
    /// offload that is not requested are ignored).
    pub const fn is_plain(&self) -> bool {
        !self.csum && !self.ip_csum && !self.tso
    }
}

/// Why an offload request was refused and its frame dropped: one per
/// `TX_DROP_OFFLOAD_*` counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum OffloadDrop {
    /// `csum` set and the checksum field does not lie in the frame.
    #[error("offload_csum")]
    Csum,
    /// `ip_csum` set and the frame has no IPv4 header.
    #[error("offload_ip")]
    Ip,
    /// `tso` set and the frame is not a whole, unfragmented TCP/IPv4 packet,
    /// or `mss < MSS_MIN`.
    #[error("offload_tso")]
    Tso,
}

impl OffloadDrop {
    /// Every reason, in the spec's (and the counters') order.
    pub const ALL: [OffloadDrop; 3] = [OffloadDrop::Csum, OffloadDrop::Ip, OffloadDrop::Tso];

    /// The reason's name in the spec (`offload_csum`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            OffloadDrop::Csum => "offload_csum",
            OffloadDrop::Ip => "offload_ip",
            OffloadDrop::Tso => "offload_tso",
        }
    }
}

/// The frames to transmit for `frame` with request `req`, or why the request
/// was refused (the whole frame is then dropped).
///
/// - TSO (`req.tso`): the segments, in order (see [`TsoLayout`]); `csum`
///   and `ip_csum` are ignored, segmentation computes both checksums.
/// - Otherwise one frame: `frame` with the IPv4 header checksum
///   ([`ipv4_header_checksum`]) and then the `CHECKSUM_PARTIAL` field
///   ([`partial_checksum`]) written, as requested. Both values are computed
///   from the host's bytes. `csum` is checked before `ip_csum`.
///
/// Never panics, whatever the bytes and the request.
///
/// ```
/// use overlay_nic_driver::offload::{apply, OffloadRequest};
///
/// // 14 bytes of Ethernet header, then a 4-byte "L4" region whose checksum
/// // field (bytes 16..18) the host seeded with 0x0100.
/// let frame = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0xb5, 0x12, 0x34, 0x01, 0x00];
/// let out = apply(&frame, &OffloadRequest::checksum(14, 2))?;
/// // ~(0x1234 + 0x0100) = ~0x1334 = 0xeccb, big-endian at 14 + 2.
/// assert_eq!(&out[0][16..18], &[0xec, 0xcb]);
/// # Ok::<(), overlay_nic_driver::offload::OffloadDrop>(())
/// ```
pub fn apply(frame: &[u8], req: &OffloadRequest) -> Result<Vec<Vec<u8>>, OffloadDrop> {
    if req.tso {
        return TsoLayout::of(frame, req.mss)?.segments(frame);
    }
    let csum = if req.csum {
        let at = usize::from(req.csum_start) + usize::from(req.csum_offset);
        let value =
            partial_checksum(frame, req.csum_start, req.csum_offset).ok_or(OffloadDrop::Csum)?;
        Some((at, value))
    } else {
        None
    };
    let ip = if req.ip_csum {
        let l3 = ipv4_offset(frame).ok_or(OffloadDrop::Ip)?;
        let value = ipv4_header_checksum(frame).ok_or(OffloadDrop::Ip)?;
        Some((l3 + 10, value))
    } else {
        None
    };
    let mut out = frame.to_vec();
    // The IPv4 checksum first, then the L4 one (which wins if a request
    // makes them overlap).
    for (at, value) in [ip, csum].into_iter().flatten() {
        write_u16(&mut out, at, value);
    }
    Ok(vec![out])
}

/// How many frames [`apply`] returns for `frame` and `req` (1 for a
/// non-TSO frame, the segment count for TSO), or why it refuses them,
/// without building them.
pub fn segment_count(frame: &[u8], req: &OffloadRequest) -> Result<usize, OffloadDrop> {
    if req.tso {
        return Ok(TsoLayout::of(frame, req.mss)?.segment_count());
    }
    if req.csum && partial_checksum(frame, req.csum_start, req.csum_offset).is_none() {
        return Err(OffloadDrop::Csum);
    }
    if req.ip_csum && ipv4_offset(frame).is_none() {
        return Err(OffloadDrop::Ip);
    }
    Ok(1)
}

/// The `CHECKSUM_PARTIAL` value for `frame`: the complement of the ones'
/// complement sum of `frame[csum_start..]` (16-bit big-endian words, an odd
/// last byte padded with a zero low byte), with 0 given as `0xffff`
/// (`CSUM_MANGLED_0`). The field's own bytes, where the host put the
/// pseudo-header seed, are part of the sum.
///
/// `None` when the field (`csum_start + csum_offset`, 2 bytes) does not lie
/// in the frame: the request is refused with [`OffloadDrop::Csum`].
pub fn partial_checksum(frame: &[u8], csum_start: u16, csum_offset: u16) -> Option<u16> {
    let start = usize::from(csum_start);
    if start + usize::from(csum_offset) + 2 > frame.len() {
        return None;
    }
    let sum = Sum16BitWords::new().add_slice(frame.get(start..)?);
    // etherparse sums native-endian words; `to_be` gives the big-endian value.
    Some(sum.to_ones_complement_with_no_zero().to_be())
}

/// The offset of the frame's IPv4 header (`L3`, 14 or 18 after one 802.1Q
/// tag), if the frame has one in the sense of the spec: ethertype `0x0800`,
/// version 4, `IHL >= 5`, and the whole header in the frame.
pub fn ipv4_offset(frame: &[u8]) -> Option<usize> {
    ipv4(frame).map(|(l3, _)| l3)
}

/// The IPv4 header checksum of the frame's IPv4 header: the complement of
/// the sum of the header's bytes with the checksum field taken as 0,
/// written as computed (0 has no special meaning). `None` when the frame
/// has no IPv4 header ([`ipv4_offset`]).
pub fn ipv4_header_checksum(frame: &[u8]) -> Option<u16> {
    ipv4(frame).map(|(_, ip)| header_checksum(ip.slice()))
}

/// The layout of a frame TSO accepts, and the segments it makes of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TsoLayout {
    /// Offset of the IPv4 header (`L3`).
    pub l3: usize,
    /// Offset of the TCP header (`L4 = L3 + 4*IHL`).
    pub l4: usize,
    /// Length of the headers every segment starts with (`H = L4 + 4*D`).
    pub header_len: usize,
    /// TCP payload bytes of the whole frame (`P = len - H`).
    pub payload_len: usize,
    /// Payload bytes per segment (`mss >= MSS_MIN`).
    pub mss: u16,
}

impl TsoLayout {
    /// The layout of `frame` for TSO at `mss`, or [`OffloadDrop::Tso`] if
    /// the frame is not a whole, unfragmented TCP/IPv4 packet (IPv4 total
    /// length exactly the rest of the frame, whole TCP header) or
    /// `mss < MSS_MIN`.
    pub fn of(frame: &[u8], mss: u16) -> Result<TsoLayout, OffloadDrop> {
        if mss < MSS_MIN {
            return Err(OffloadDrop::Tso);
        }
        let (l3, ip) = ipv4(frame).ok_or(OffloadDrop::Tso)?;
        if ip.protocol() != IpNumber::TCP
            || ip.more_fragments()
            || ip.fragments_offset().value() != 0
            || usize::from(ip.total_len()) != frame.len() - l3
        {
            return Err(OffloadDrop::Tso);
        }
        let l4 = l3 + ip.slice().len();
        let tcp = frame
            .get(l4..)
            .and_then(|rest| TcpHeaderSlice::from_slice(rest).ok())
            .ok_or(OffloadDrop::Tso)?;
        let header_len = l4 + tcp.slice().len();
        Ok(TsoLayout {
            l3,
            l4,
            header_len,
            payload_len: frame.len() - header_len,
            mss,
        })
    }

    /// The number of segments: `max(1, ceil(P / mss))`.
    pub const fn segment_count(&self) -> usize {
        let mss = self.mss as usize;
        if self.payload_len == 0 {
            1
        } else {
            self.payload_len.div_ceil(mss)
        }
    }

    /// The L3 length (IPv4 header, TCP header, payload) of the largest
    /// segment, `4*IHL + 4*D + min(mss, P)`: what the function's MTU
    /// applies to.
    pub fn max_segment_l3_len(&self) -> usize {
        self.header_len - self.l3 + self.payload_len.min(usize::from(self.mss))
    }

    /// The segments of `frame`, which must be the frame this layout was
    /// made of ([`OffloadDrop::Tso`] if it does not fit it).
    pub fn segments(&self, frame: &[u8]) -> Result<Vec<Vec<u8>>, OffloadDrop> {
        let (l3, l4, h) = (self.l3, self.l4, self.header_len);
        let header = frame.get(..h).ok_or(OffloadDrop::Tso)?;
        let payload = frame.get(h..).ok_or(OffloadDrop::Tso)?;
        if l4 < l3 + 20 || h < l4 + 20 || payload.len() != self.payload_len || self.mss == 0 {
            return Err(OffloadDrop::Tso);
        }
        let id = u16::from_be_bytes([header[l3 + 4], header[l3 + 5]]);
        let seq = u32::from_be_bytes([
            header[l4 + 4],
            header[l4 + 5],
            header[l4 + 6],
            header[l4 + 7],
        ]);
        let flags = header[l4 + 13];
        let (src, dst) = (
            [
                header[l3 + 12],
                header[l3 + 13],
                header[l3 + 14],
                header[l3 + 15],
            ],
            [
                header[l3 + 16],
                header[l3 + 17],
                header[l3 + 18],
                header[l3 + 19],
            ],
        );
        let chunks: Vec<&[u8]> = if payload.is_empty() {
            vec![payload]
        } else {
            payload.chunks(usize::from(self.mss)).collect()
        };
        let last = chunks.len() - 1;
        let mut segments = Vec::with_capacity(chunks.len());
        for (k, chunk) in chunks.into_iter().enumerate() {
            let mut seg = Vec::with_capacity(h + chunk.len());
            seg.extend_from_slice(header);
            seg.extend_from_slice(chunk);
            let total_len = u16::try_from(h - l3 + chunk.len()).map_err(|_| OffloadDrop::Tso)?;
            write_u16(&mut seg, l3 + 2, total_len);
            // Identification mod 2^16 (the cast truncates), sequence mod 2^32.
            write_u16(&mut seg, l3 + 4, id.wrapping_add(k as u16));
            let advance = (k as u32).wrapping_mul(u32::from(self.mss));
            seg[l4 + 4..l4 + 8].copy_from_slice(&seq.wrapping_add(advance).to_be_bytes());
            let mut f = flags;
            if k != last {
                f &= !(TCP_FIN | TCP_PSH);
            }
            if k != 0 {
                f &= !TCP_CWR;
            }
            seg[l4 + 13] = f;
            let ip_csum = header_checksum(&seg[l3..l4]);
            write_u16(&mut seg, l3 + 10, ip_csum);
            let tcp_csum = TcpHeaderSlice::from_slice(&seg[l4..h])
                .map_err(|_| OffloadDrop::Tso)?
                .calc_checksum_ipv4_raw(src, dst, chunk)
                .map_err(|_| OffloadDrop::Tso)?;
            write_u16(
                &mut seg,
                l4 + 16,
                if tcp_csum == 0 { 0xffff } else { tcp_csum },
            );
            segments.push(seg);
        }
        Ok(segments)
    }
}

/// The outer UDP checksum of an encapsulated (VXLAN) wire frame, as the NIC
/// computes it when the VTEP's `udp_checksum` option is set
/// (`docs/tx-offload.md`, "Outer UDP checksum"): over the pseudo-header
/// (source IP, destination IP, 0, 17, UDP length), the UDP header with
/// checksum 0 and the UDP payload (VXLAN header and inner frame as sent);
/// 0 is given as `0xffff`. The checksum field's current value is ignored.
///
/// The outer frame may carry one 802.1Q tag. The UDP length field says what
/// is summed: bytes after it (Ethernet padding) are not. `None` when the
/// frame is not UDP over IPv4 (by the spec's IPv4 header rule), is an IPv4
/// fragment, or its UDP length is below 8 or beyond the frame. The UDP
/// ports are not checked: any UDP/IPv4 frame gets its checksum.
///
/// ```
/// use std::net::Ipv4Addr;
/// use overlay_nic_driver::offload::outer_udp_checksum;
/// use overlay_nic_driver::vxlan::{encapsulate, EncapParams};
///
/// let mut p = EncapParams::new([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2],
///     Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2), 5001)?;
/// let inner = [0x5au8; 60];
/// let without = encapsulate(&inner, &p)?;
/// p.udp_checksum = true;
/// let with = encapsulate(&inner, &p)?;
/// assert_eq!(outer_udp_checksum(&without), Some(u16::from_be_bytes([with[40], with[41]])));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn outer_udp_checksum(wire_frame: &[u8]) -> Option<u16> {
    let (l3, ip) = ipv4(wire_frame)?;
    if ip.protocol() != IpNumber::UDP || ip.is_fragmenting_payload() {
        return None;
    }
    let l4 = l3 + ip.slice().len();
    let udp = UdpHeaderSlice::from_slice(wire_frame.get(l4..)?).ok()?;
    let udp_len = usize::from(udp.length());
    if udp_len < 8 {
        return None;
    }
    let payload = wire_frame.get(l4 + 8..l4 + udp_len)?;
    udp.to_header()
        .calc_checksum_ipv4_raw(ip.source(), ip.destination(), payload)
        .ok()
}

/// Writes [`outer_udp_checksum`] into the wire frame's UDP checksum field and
/// returns it; `None` (frame unchanged) when it has none.
pub fn fill_outer_udp_checksum(wire_frame: &mut [u8]) -> Option<u16> {
    let value = outer_udp_checksum(wire_frame)?;
    let l3 = ipv4_offset(wire_frame)?;
    let l4 = l3 + usize::from(wire_frame[l3] & 0x0f) * 4;
    write_u16(wire_frame, l4 + 6, value);
    Some(value)
}

/// Sets up `frame` for a `CHECKSUM_PARTIAL` request the way a Linux stack
/// does before handing a TCP or UDP over IPv4 frame to a checksumming NIC:
/// the L4 checksum field is seeded with the folded pseudo-header sum
/// (source, destination, protocol, L4 length; `csum_tcpudp_magic` without
/// the final complement), and the request sums from the L4 header to the
/// end of the frame. Returns `None`, leaving the frame untouched, for
/// anything else: not IPv4, not TCP or UDP, a fragment, a truncated L4
/// header, or Ethernet padding after the IPv4 packet (which the sum would
/// cover).
///
/// ```
/// use etherparse::{PacketBuilder, SlicedPacket, TransportSlice};
/// use overlay_nic_driver::offload::{apply, prepare_checksum_partial};
///
/// let mut frame = Vec::new();
/// PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
///     .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
///     .udp(5000, 53)
///     .write(&mut frame, b"hello")?;
/// frame[40..42].fill(0xee); // whatever the stack left in the field
/// let req = prepare_checksum_partial(&mut frame).unwrap();
/// assert_eq!((req.csum_start, req.csum_offset), (34, 6));
/// let out = apply(&frame, &req)?.remove(0);
/// let p = SlicedPacket::from_ethernet(&out)?;
/// let (Some(etherparse::NetSlice::Ipv4(ip)), Some(TransportSlice::Udp(udp))) = (p.net, p.transport) else {
///     panic!("not UDP/IPv4");
/// };
/// let want = udp.to_header().calc_checksum_ipv4(&ip.header().to_header(), udp.payload())?;
/// assert_eq!(udp.checksum(), want);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn prepare_checksum_partial(frame: &mut [u8]) -> Option<OffloadRequest> {
    let (l3, ip) = ipv4(frame)?;
    if ip.is_fragmenting_payload() || usize::from(ip.total_len()) != frame.len() - l3 {
        return None;
    }
    let field = match ip.protocol() {
        IpNumber::TCP => 16,
        IpNumber::UDP => 6,
        _ => return None,
    };
    let l4 = l3 + usize::from(ip.ihl()) * 4;
    let l4_len = u16::try_from(frame.len().checked_sub(l4)?).ok()?;
    if usize::from(l4_len) < field + 2 {
        return None;
    }
    let seed = !Sum16BitWords::new()
        .add_4bytes(ip.source())
        .add_4bytes(ip.destination())
        .add_2bytes([0, ip.protocol().0])
        .add_2bytes(l4_len.to_be_bytes())
        .ones_complement()
        .to_be();
    write_u16(frame, l4 + field, seed);
    Some(OffloadRequest::checksum(l4 as u16, field as u16))
}

/// The frame's L3 offset and IPv4 header, per the spec's notation: `L3 = 18`
/// after one 802.1Q tag (`len >= 18`), else 14.
fn ipv4(frame: &[u8]) -> Option<(usize, Ipv4HeaderSlice<'_>)> {
    let eth = Ethernet2HeaderSlice::from_slice(frame).ok()?;
    let (l3, ether_type) = match eth.ether_type() {
        EtherType::VLAN_TAGGED_FRAME if frame.len() >= 18 => {
            let vlan = SingleVlanHeaderSlice::from_slice(frame.get(14..)?).ok()?;
            (18, vlan.ether_type())
        }
        other => (14, other),
    };
    if ether_type != EtherType::IPV4 {
        return None;
    }
    let ip = Ipv4HeaderSlice::from_slice(frame.get(l3..)?).ok()?;
    Some((l3, ip))
}

/// The IPv4 header checksum of `header` (a whole IPv4 header, at least 20
/// bytes), the checksum field taken as 0. Summed from the raw bytes, so
/// that every bit the host sent (the reserved flag too) is covered.
fn header_checksum(header: &[u8]) -> u16 {
    let before = header.get(..10).unwrap_or_default();
    let after = header.get(12..).unwrap_or_default();
    Sum16BitWords::new()
        .add_slice(before)
        .add_slice(after)
        .ones_complement()
        .to_be()
}

/// Writes `value` big-endian at `frame[at..at + 2]` (callers checked that
/// it lies in the frame).
fn write_u16(frame: &mut [u8], at: usize, value: u16) {
    if let Some(field) = frame.get_mut(at..at + 2) {
        field.copy_from_slice(&value.to_be_bytes());
    }
}

#[cfg(test)]
mod tests;
