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
}

/// A host frame after arbitration: the host's tag plus the function it came
/// from (0 = PF, 1 + i = VF i).
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct TxTagged {
    pub function: Bits<4>,
    pub encap: Bit,
    pub vni: Bits<24>,
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
