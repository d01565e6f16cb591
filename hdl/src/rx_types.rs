//! Sideband records of the RX path (see `docs/rx-path.md`).
//!
//! `RxMeta` is what a host function receives with a frame (its stream's
//! `tuser`, valid with the first beat). `RxDescriptor` is the classifier's
//! per-frame decision carried through the RX packet buffer to the
//! decapsulator: the metadata plus how many outer bytes to strip and which
//! functions get a copy.

use rust_hdl::prelude::*;

/// Checksum status codes of `RxMeta::ip_csum` / `RxMeta::l4_csum`.
pub mod csum {
    /// Not checked (not IPv4, not TCP/UDP, a fragment, UDP checksum 0, ...).
    pub const NONE: u64 = 0;
    /// Checked and correct.
    pub const GOOD: u64 = 1;
    /// Checked and wrong.
    pub const BAD: u64 = 2;
}

/// Receive metadata delivered with a frame's first beat (seed [0079]).
/// All zero for non-overlay frames.
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct RxMeta {
    /// The NIC removed a VXLAN header; the fields below describe it.
    pub decap: Bit,
    pub vni: Bits<24>,
    /// Outer source IPv4 address: the sending VTEP (first octet in 31:24).
    pub src_vtep_ip: Bits<32>,
    /// The outer frame carried an 802.1Q tag ...
    pub vlan_valid: Bit,
    /// ... with this VLAN ID.
    pub vlan: Bits<12>,
    /// Inner IPv4 header checksum ([`csum`]).
    pub ip_csum: Bits<2>,
    /// Inner TCP/UDP checksum ([`csum`]).
    pub l4_csum: Bits<2>,
    /// The sender is not in the mapping table for (VNI, inner source MAC),
    /// or is at another VTEP: the frame went to the PF only and a learn
    /// event was queued (seed [0125]).
    pub learn: Bit,
}

/// The RX classifier's decision for one frame, carried through the buffer.
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct RxDescriptor {
    pub decap: Bit,
    pub vni: Bits<24>,
    pub src_vtep_ip: Bits<32>,
    pub vlan_valid: Bit,
    pub vlan: Bits<12>,
    pub ip_csum: Bits<2>,
    pub l4_csum: Bits<2>,
    pub learn: Bit,
    /// Outer bytes to remove: 0 (non-overlay frames), else L4 + 16 (50,
    /// 54 with an outer tag, 4 more per outer IPv4 option word); always
    /// 2 mod 4 when not 0.
    pub strip: Bits<8>,
    /// Bit `f` set: function `f` (0 = PF, 1 + i = VF i) gets a copy.
    pub dest: Bits<16>,
}
