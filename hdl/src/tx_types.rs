//! Sideband records of the TX path (see `docs/tx-path.md`).
//!
//! Each travels as a stream's `tuser`, valid with a frame's first beat
//! (except where a block's docs say it takes the record from the last beat).

use rust_hdl::prelude::*;

/// What a host function hands the NIC with a frame: the PF's encapsulation
/// tag (seed FIG. 7, 715). VF ports ignore it (a VF's VNI is configuration).
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct TxHostMeta {
    /// Encapsulate this frame (PF only).
    pub encap: Bit,
    /// The VNI to encapsulate with (PF only).
    pub vni: Bits<24>,
    /// Checksum and TSO requests (every function; `docs/tx-offload.md`).
    pub offload: TxOffloadRequest,
}

/// A host frame after arbitration: the host's tag plus the function it came
/// from (0 = PF, 1 + i = VF i).
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct TxTagged {
    pub function: Bits<4>,
    pub encap: Bit,
    pub vni: Bits<24>,
    pub offload: TxOffloadRequest,
}

/// Everything the encapsulator needs about one frame beyond the local VTEP
/// configuration: decided by the classifier (parser, checks, table lookup)
/// and carried through the TX packet buffer.
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct TxDescriptor {
    /// Encapsulate (else the frame goes to the wire unchanged).
    pub encap: Bit,
    pub vni: Bits<24>,
    /// Outer destination IPv4 address (first octet in 31:24).
    pub dst_ip: Bits<32>,
    /// Outer destination MAC (first byte on the wire in 47:40).
    pub dst_mac: Bits<48>,
    /// Outer UDP source port (already folded into the configured range).
    pub src_port: Bits<16>,
    /// Inner frame length in bytes.
    pub length: Bits<16>,
    /// Folded ones'-complement sum of the inner frame as it will be sent
    /// (after the checksum writes), in words from its first byte: the
    /// inner part of the optional outer UDP checksum.
    pub inner_sum: Bits<16>,
    /// Checksum writes into the inner frame (the `ChecksumInserter`'s).
    pub patch: ChecksumPatch,
    /// TCP segmentation (the `TsoSegmenter`'s; `en` low for other frames).
    pub tso: TsoInfo,
    /// Segment 0 of a TSO frame (the `TsoSegmenter`'s; junk for others).
    pub tso_first: TsoFirst,
}

/// Local VTEP configuration the encapsulator uses (from registers; stable
/// while frames flow).
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct VtepConfig {
    /// Local VTEP MAC (first byte on the wire in 47:40).
    pub mac: Bits<48>,
    /// Local VTEP IPv4 address (first octet in 31:24).
    pub ip: Bits<32>,
    /// Outer UDP destination port.
    pub udp_port: Bits<16>,
    pub ttl: Bits<8>,
    /// Set the outer IPv4 DF bit.
    pub df: Bit,
    /// Insert an outer 802.1Q tag.
    pub vlan_enable: Bit,
    /// The tag's TCI: PCP 15:13, DEI 12 (always 0), VID 11:0.
    pub vlan_tci: Bits<16>,
    /// Compute the outer UDP checksum (else send 0, RFC 7348).
    pub udp_checksum: Bit,
}

/// Outer-destination record of a mapping-table entry: the remote VTEP.
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct MapValue {
    pub vtep_ip: Bits<32>,
    pub vtep_mac: Bits<48>,
}

/// Per-VNI record.
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct VniRecord {
    pub mcast_ip: Bits<32>,
    pub gw_ip: Bits<32>,
    pub gw_mac: Bits<48>,
    /// Miss policy: 0 flood to the multicast group, 1 gateway, 2 drop.
    pub policy: Bits<2>,
}

/// A host frame's offload request (`docs/tx-offload.md`, "Per-frame
/// request"), valid with the frame's first beat. All zero is a plain frame.
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct TxOffloadRequest {
    /// Checksum request (`CHECKSUM_PARTIAL`).
    pub csum: Bit,
    /// Byte offset in the frame where the sum starts.
    pub csum_start: Bits<16>,
    /// Offset of the 16-bit checksum field from `csum_start`.
    pub csum_offset: Bits<16>,
    /// Fill in the IPv4 header checksum.
    pub ip_csum: Bit,
    /// Segment the frame (TCP over IPv4).
    pub tso: Bit,
    /// TSO: most TCP payload bytes per segment.
    pub mss: Bits<16>,
}

/// The two checksum writes for one frame (the `ChecksumInserter`'s `tuser`,
/// valid with the first beat): each enabled value is written big-endian at
/// its byte position, the IPv4 one first, so the L4 one wins where they
/// share a byte.
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct ChecksumPatch {
    pub l4_en: Bit,
    /// Byte offset of the L4 checksum field (`csum_start + csum_offset`).
    pub l4_pos: Bits<16>,
    pub l4_value: Bits<16>,
    pub ip_en: Bit,
    /// Byte offset of the IPv4 header checksum field (`L3 + 10`).
    pub ip_pos: Bits<16>,
    pub ip_value: Bits<16>,
}

/// One TSO frame's record (`docs/tx-offload.md`, "TCP segmentation"), made
/// by the `TsoTap` while the host's frame goes into the TX buffer and read
/// by the `TsoSegmenter` when it comes out. Sums are folded ones'-complement
/// sums of 16-bit big-endian words, not complemented.
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct TsoInfo {
    /// Segment this frame (requested and valid); all else is ignored when low.
    pub en: Bit,
    pub mss: Bits<16>,
    /// Offset of the IPv4 header (14 or 18).
    pub l3: Bits<8>,
    /// Offset of the TCP header (`l3 + 4*IHL`).
    pub l4: Bits<8>,
    /// Header bytes replayed per segment (`l4 + 4*D`, at most 138).
    pub hdr_len: Bits<8>,
    /// TCP payload bytes of the whole frame (`P`).
    pub payload_len: Bits<16>,
    /// Number of segments (`max(1, ceil(P / mss))`).
    pub segments: Bits<16>,
    /// The frame's IPv4 identification, TCP sequence number and flags byte.
    pub ip_id: Bits<16>,
    pub seq: Bits<32>,
    pub flags: Bits<8>,
    /// Sum of bytes `0 .. l3` (the inner Ethernet header and tag).
    pub l2_sum: Bits<16>,
    /// Sum of the IPv4 header words other than total length, identification
    /// and checksum.
    pub ip_base: Bits<16>,
    /// Sum of the pseudo-header's source and destination addresses and
    /// protocol (6), and the TCP header words other than the sequence
    /// number and the checksum, with the flags byte taken as 0.
    pub tcp_base: Bits<16>,
    /// Sum of the pseudo-header's source and destination addresses alone
    /// (the segment's whole-frame sum needs them apart from `tcp_base`).
    pub addr_sum: Bits<16>,
}

/// Segment 0's values of a TSO frame, worked out from its [`TsoInfo`] by
/// the NIC's [`TsoFirstSegment`](crate::TsoFirstSegment) on the way into
/// the TX buffer, so the `TsoSegmenter` has them in registers when the
/// frame's first beat comes out (its first output beat is that beat's, and
/// later segments' are worked out while the one before goes). Segment 0
/// carries `X = min(P, mss)` payload bytes (`P` when it is the only one).
/// Sums are folded ones'-complement sums (never 0 unless all their terms
/// are), meaningful only with `TsoInfo.en`.
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct TsoFirst {
    /// Segment 0 is the frame's last (`P <= mss`).
    pub last: Bit,
    /// Its length (`H + X`), and that less one.
    pub len: Bits<16>,
    pub len_m1: Bits<16>,
    /// Its IPv4 total length (`H - L3 + X`).
    pub tl3: Bits<16>,
    /// Its TCP flags: the frame's, FIN and PSH cleared unless it is the last.
    pub flags: Bits<8>,
    /// Its IPv4 header checksum.
    pub ip_csum: Bits<16>,
    /// Its TCP checksum but the payload: the complement of the
    /// pseudo-header and TCP header's sum, so that adding the payload sum's
    /// complement gives the checksum.
    pub tcp_part: Bits<16>,
    /// Its inner sum (`l2_sum - pseudo-header`, see the `TsoSegmenter`).
    pub inner_sum: Bits<16>,
}

/// What the TX path's ingress taps (`TxChecksumTap`, `TsoTap`) found out
/// about one frame, ready three cycles after the taps see its last beat (in
/// the NIC's `r1`, so four after the input takes it) and held by the NIC
/// until the frame's last beat enters the TX buffer.
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct TxTapResult {
    pub csum_ok: Bit,
    pub ip_ok: Bit,
    pub patch: ChecksumPatch,
    /// Folded sum of the frame as sent (after `patch`).
    pub inner_sum: Bits<16>,
    pub tso_ok: Bit,
    /// TSO: the longest segment's L3 length (checked against the MTU).
    pub seg_l3_max: Bits<16>,
    pub tso: TsoInfo,
    /// Segment 0's values for `tso` (the NIC's `TsoFirstSegment`, which
    /// works them out in the cycle the NIC holds `TsoTap`'s results for).
    pub tso_first: TsoFirst,
}

/// The TX path's verdict on one frame, made while its last beat is in the
/// classifier's first pipeline register and carried with that beat to the
/// TX buffer, where it is completed with the frame's [`TxTapResult`].
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct TxVerdict {
    /// Dropped before the tap results: runt, spoofed, no VNI, or a miss the
    /// VNI's policy drops.
    pub bad: Bit,
    /// The sending function's number.
    pub func: Bits<4>,
    pub length: Bits<16>,
    pub runt: Bit,
    pub spoofed: Bit,
    /// The L3 length is over the function's MTU.
    pub mtu: Bit,
    pub no_vni: Bit,
    pub miss_drop: Bit,
    pub miss: Bit,
    /// Encapsulated if the tap results do not refuse it.
    pub encap: Bit,
    pub dst_mac: Bits<48>,
    pub csum: Bit,
    pub ip_csum: Bit,
    pub tso: Bit,
    /// Longer than the build's largest frame.
    pub too_big: Bit,
    /// The function's MTU, for a TSO frame's segments.
    pub mtu_limit: Bits<16>,
}
