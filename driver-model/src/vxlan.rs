//! VXLAN (RFC 7348) encapsulation and decapsulation in software: the golden
//! model the NIC's encapsulator and decap validator are tested against.
//!
//! The model works on whole Ethernet frames as a MAC client sees them: no
//! preamble, no FCS. [`encapsulate`] turns an inner frame into the exact
//! outer frame the NIC must emit for a given [`EncapParams`];
//! [`decapsulate`] validates an outer frame layer by layer and either hands
//! back the inner frame with the outer fields ([`Decapsulated`]) or says, with
//! a distinct [`DecapError`] variant, the first thing that is wrong with it.
//!
//! Outer headers are built and parsed with `etherparse` and nothing here is
//! shared with the `hdl` crate: an oracle that shares code with the thing it
//! checks would share its bugs.
//!
//! The outer frame is
//!
//! ```text
//! Ethernet II (14) [+ 802.1Q tag (4)] + IPv4 (20) + UDP (8) + VXLAN (8) + inner frame
//! ```
//!
//! so encapsulation adds [`VXLAN_OVERHEAD`] bytes, or that plus
//! [`VLAN_TAG_LEN`] with an outer VLAN tag. The smallest outer frame (a
//! 14-byte inner frame) is 64 bytes, so an outer frame never needs Ethernet
//! padding.

#![warn(missing_docs)]

use std::fmt;
use std::net::Ipv4Addr;

use etherparse::checksum::Sum16BitWords;
use etherparse::err::ipv4::{HeaderError, HeaderSliceError};
use etherparse::{
    EtherType, Ethernet2Header, IpDscp, IpEcn, IpNumber, Ipv4Header, Ipv4HeaderSlice,
    SingleVlanHeader, UdpHeader, UdpHeaderSlice, VlanId, VlanPcp,
};

/// IANA-assigned UDP destination port for VXLAN (RFC 7348 section 5).
pub const VXLAN_UDP_PORT: u16 = 4789;

/// Bytes encapsulation adds without an outer VLAN tag: Ethernet II (14) +
/// IPv4 without options (20) + UDP (8) + VXLAN (8).
pub const VXLAN_OVERHEAD: usize =
    Ethernet2Header::LEN + Ipv4Header::MIN_LEN + UdpHeader::LEN + VxlanHeader::LEN;

/// Extra bytes an outer 802.1Q tag adds to [`VXLAN_OVERHEAD`].
pub const VLAN_TAG_LEN: usize = SingleVlanHeader::LEN;

/// Shortest inner frame accepted: an Ethernet II header with no payload.
///
/// Inner frames are not padded to 60 bytes: a host hands its VTEP frames
/// that never crossed a wire, and the capture this crate is tested on holds
/// 42-byte inner ARP frames.
pub const MIN_INNER_LEN: usize = Ethernet2Header::LEN;

/// Longest inner frame that still fits the outer IPv4 total-length field
/// (65535 − 20 − 8 − 8 = 65499 bytes).
pub const MAX_INNER_LEN: usize =
    u16::MAX as usize - Ipv4Header::MIN_LEN - UdpHeader::LEN - VxlanHeader::LEN;

/// A VXLAN Network Identifier: 24 bits, so out-of-range values cannot exist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vni(u32);

impl Vni {
    /// Largest VNI: 2^24 − 1.
    pub const MAX: u32 = 0x00ff_ffff;

    /// A VNI, or [`VniOutOfRange`] if `value` needs more than 24 bits.
    pub const fn new(value: u32) -> Result<Vni, VniOutOfRange> {
        if value > Self::MAX {
            Err(VniOutOfRange { value })
        } else {
            Ok(Vni(value))
        }
    }

    /// The VNI as a number, always at most [`Vni::MAX`].
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The VNI from its 3-byte network-order field in the VXLAN header.
    pub const fn from_be_bytes(bytes: [u8; 3]) -> Vni {
        Vni(u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]))
    }

    /// The 3-byte network-order field that carries this VNI.
    pub const fn to_be_bytes(self) -> [u8; 3] {
        let b = self.0.to_be_bytes();
        [b[1], b[2], b[3]]
    }
}

impl TryFrom<u32> for Vni {
    type Error = VniOutOfRange;

    fn try_from(value: u32) -> Result<Vni, VniOutOfRange> {
        Vni::new(value)
    }
}

impl From<Vni> for u32 {
    fn from(vni: Vni) -> u32 {
        vni.0
    }
}

impl fmt::Display for Vni {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A value given as a VNI needs more than 24 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("VNI {value:#x} does not fit in 24 bits")]
pub struct VniOutOfRange {
    /// The value that was refused.
    pub value: u32,
}

/// The 8-byte VXLAN header (RFC 7348 section 5):
///
/// ```text
/// |R|R|R|R|I|R|R|R|            Reserved (24)                      |
/// |                VXLAN Network Identifier (24)  | Reserved (8)  |
/// ```
///
/// Every field is kept, reserved ones included, so a decapsulated header
/// shows exactly what was on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VxlanHeader {
    /// The flags byte; only [`VxlanHeader::FLAG_I`] is defined.
    pub flags: u8,
    /// The 24 reserved bits between the flags and the VNI.
    pub reserved0: [u8; 3],
    /// The VXLAN Network Identifier.
    pub vni: Vni,
    /// The 8 reserved bits after the VNI.
    pub reserved1: u8,
}

impl VxlanHeader {
    /// Length of the header in bytes.
    pub const LEN: usize = 8;

    /// The I flag: set when the VNI field is valid, which RFC 7348 requires.
    pub const FLAG_I: u8 = 0x08;

    /// The header a sender emits for `vni`: I flag set, every reserved bit 0.
    pub const fn new(vni: Vni) -> VxlanHeader {
        VxlanHeader {
            flags: Self::FLAG_I,
            reserved0: [0; 3],
            vni,
            reserved1: 0,
        }
    }

    /// Reads the header from its wire bytes; no field is checked.
    pub const fn from_bytes(b: [u8; 8]) -> VxlanHeader {
        VxlanHeader {
            flags: b[0],
            reserved0: [b[1], b[2], b[3]],
            vni: Vni::from_be_bytes([b[4], b[5], b[6]]),
            reserved1: b[7],
        }
    }

    /// The header's wire bytes.
    pub const fn to_bytes(&self) -> [u8; 8] {
        let v = self.vni.to_be_bytes();
        [
            self.flags,
            self.reserved0[0],
            self.reserved0[1],
            self.reserved0[2],
            v[0],
            v[1],
            v[2],
            self.reserved1,
        ]
    }

    /// Whether the I flag is set.
    pub const fn i_flag(&self) -> bool {
        self.flags & Self::FLAG_I != 0
    }

    /// Whether any bit RFC 7348 marks reserved is set (flags other than I,
    /// or either reserved field).
    pub const fn reserved_bits_set(&self) -> bool {
        self.flags & !Self::FLAG_I != 0
            || self.reserved0[0] != 0
            || self.reserved0[1] != 0
            || self.reserved0[2] != 0
            || self.reserved1 != 0
    }
}

/// An outer IEEE 802.1Q tag (TPID 0x8100).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OuterVlan {
    /// VLAN identifier (12 bits).
    pub vid: VlanId,
    /// Priority code point (3 bits).
    pub pcp: VlanPcp,
    /// Drop eligible indicator. Kept so a decapsulated tag re-encapsulates
    /// bit for bit; a sender normally leaves it clear.
    pub dei: bool,
}

impl OuterVlan {
    /// A tag with `vid` and `pcp` and DEI clear, refusing values that do not
    /// fit their fields.
    ///
    /// VID 0xFFF fits the field and is accepted here, but [`encapsulate`]
    /// refuses to send it (see [`EncapError::ReservedVlanId`]).
    pub fn new(vid: u16, pcp: u8) -> Result<OuterVlan, EncapError> {
        Ok(OuterVlan {
            vid: VlanId::try_new(vid).map_err(|_| EncapError::VlanIdOutOfRange { value: vid })?,
            pcp: VlanPcp::try_new(pcp).map_err(|_| EncapError::VlanPcpOutOfRange { value: pcp })?,
            dei: false,
        })
    }
}

/// Everything that decides the outer headers of one encapsulated frame.
///
/// Build it with [`EncapParams::new`] and change the public fields whose
/// defaults do not fit. DSCP and ECN are always sent as 0 and the IPv4
/// header never carries options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EncapParams {
    /// Outer source MAC: the local VTEP's.
    pub local_mac: [u8; 6],
    /// Outer destination MAC: the remote VTEP's, or the next hop's (a
    /// gateway, when the remote VTEP is off the local subnet).
    pub remote_mac: [u8; 6],
    /// Outer source IPv4 address: the local VTEP's.
    pub local_ip: Ipv4Addr,
    /// Outer destination IPv4 address: the remote VTEP's or a multicast group.
    pub remote_ip: Ipv4Addr,
    /// The segment the inner frame belongs to.
    pub vni: Vni,
    /// Outer UDP source port. RFC 7348 asks for a hash of the inner flow in
    /// the dynamic range so the underlay's ECMP spreads flows; the caller
    /// picks it, as the NIC's hash is its own. Default 49152.
    pub udp_src_port: u16,
    /// Outer UDP destination port. Default [`VXLAN_UDP_PORT`].
    pub udp_dst_port: u16,
    /// Outer IPv4 time to live; must not be 0. Default 64.
    pub ttl: u8,
    /// Outer IPv4 Don't Fragment flag. Default set: RFC 7348 section 4.3 says
    /// VTEPs must not fragment VXLAN packets.
    pub dont_fragment: bool,
    /// Outer IPv4 identification. Default 0.
    pub identification: u16,
    /// Outer 802.1Q tag, or `None` for an untagged outer frame. Default `None`.
    pub vlan: Option<OuterVlan>,
    /// Compute the outer UDP checksum. Default off: the checksum is sent as
    /// 0, which RFC 7348 section 5 allows over IPv4 and which spares the
    /// hardware a pass over the whole frame before the header goes out.
    pub udp_checksum: bool,
}

impl EncapParams {
    /// Default outer UDP source port: the start of the dynamic port range.
    pub const DEFAULT_UDP_SRC_PORT: u16 = 49152;

    /// Default outer IPv4 time to live.
    pub const DEFAULT_TTL: u8 = 64;

    /// Parameters for the tunnel between two VTEPs in segment `vni`, every
    /// other field at its documented default.
    ///
    /// Fails with [`EncapError::VniOutOfRange`] if `vni` needs more than 24
    /// bits.
    pub fn new(
        local_mac: [u8; 6],
        remote_mac: [u8; 6],
        local_ip: Ipv4Addr,
        remote_ip: Ipv4Addr,
        vni: u32,
    ) -> Result<EncapParams, EncapError> {
        Ok(EncapParams {
            local_mac,
            remote_mac,
            local_ip,
            remote_ip,
            vni: Vni::new(vni)?,
            udp_src_port: Self::DEFAULT_UDP_SRC_PORT,
            udp_dst_port: VXLAN_UDP_PORT,
            ttl: Self::DEFAULT_TTL,
            dont_fragment: true,
            identification: 0,
            vlan: None,
            udp_checksum: false,
        })
    }

    /// Bytes these parameters add to an inner frame: [`VXLAN_OVERHEAD`], plus
    /// [`VLAN_TAG_LEN`] with an outer VLAN tag.
    pub const fn overhead(&self) -> usize {
        match self.vlan {
            Some(_) => VXLAN_OVERHEAD + VLAN_TAG_LEN,
            None => VXLAN_OVERHEAD,
        }
    }
}

/// Why a frame could not be encapsulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum EncapError {
    /// The inner frame is shorter than an Ethernet II header.
    #[error("inner frame of {len} bytes is shorter than an Ethernet header (14 bytes)")]
    InnerTooShort {
        /// Length of the inner frame given.
        len: usize,
    },
    /// The outer IPv4 total length would exceed 65535 bytes.
    #[error("outer IPv4 total length would be {ip_total_len} bytes, over 65535")]
    TooLong {
        /// The IPv4 total length the frame would need.
        ip_total_len: usize,
    },
    /// The VNI needs more than 24 bits.
    #[error(transparent)]
    VniOutOfRange(#[from] VniOutOfRange),
    /// The VLAN identifier needs more than 12 bits.
    #[error("VLAN id {value:#x} does not fit in 12 bits")]
    VlanIdOutOfRange {
        /// The value that was refused.
        value: u16,
    },
    /// The VLAN priority needs more than 3 bits.
    #[error("VLAN priority {value} does not fit in 3 bits")]
    VlanPcpOutOfRange {
        /// The value that was refused.
        value: u8,
    },
    /// VID 0xFFF, which IEEE 802.1Q reserves and forbids in a transmitted tag.
    #[error("VLAN id 0xfff is reserved and must not be sent")]
    ReservedVlanId,
    /// Time to live 0: the first router would discard the packet (RFC 791).
    #[error("outer TTL 0 would be discarded by the first hop")]
    ZeroTtl,
}

/// Builds the outer frame that carries `inner` through the tunnel `p`
/// describes.
///
/// The result is, byte for byte: Ethernet II (`remote_mac`, `local_mac`,
/// type 0x0800, or 0x8100 and a tag whose inner type is 0x0800), IPv4 (IHL 5,
/// DSCP/ECN 0, total length, `identification`, DF as `dont_fragment`, MF 0,
/// offset 0, `ttl`, protocol 17, header checksum, `local_ip`, `remote_ip`),
/// UDP (`udp_src_port`, `udp_dst_port`, length, checksum 0 or the computed
/// one), VXLAN (flags 0x08, reserved 0, `vni`), then `inner` unchanged. No
/// FCS.
///
/// ```
/// use std::net::Ipv4Addr;
/// use overlay_nic_driver::vxlan::{encapsulate, EncapParams, VXLAN_OVERHEAD};
///
/// let p = EncapParams::new(
///     [0x02, 0, 0, 0, 0, 0x0b],
///     [0x02, 0, 0, 0, 0, 0x0c],
///     Ipv4Addr::new(192, 168, 56, 11),
///     Ipv4Addr::new(192, 168, 56, 12),
///     123,
/// )?;
/// let inner = [0xffu8; 60];
/// let outer = encapsulate(&inner, &p)?;
/// assert_eq!(outer.len(), inner.len() + VXLAN_OVERHEAD);
/// assert_eq!(&outer[12..14], &[0x08, 0x00]); // IPv4
/// assert_eq!(&outer[36..38], &4789u16.to_be_bytes()); // UDP dst port
/// assert_eq!(&outer[42..50], &[0x08, 0, 0, 0, 0, 0, 123, 0]); // VXLAN
/// assert_eq!(&outer[50..], &inner[..]);
/// # Ok::<(), overlay_nic_driver::vxlan::EncapError>(())
/// ```
pub fn encapsulate(inner: &[u8], p: &EncapParams) -> Result<Vec<u8>, EncapError> {
    if inner.len() < MIN_INNER_LEN {
        return Err(EncapError::InnerTooShort { len: inner.len() });
    }
    if p.ttl == 0 {
        return Err(EncapError::ZeroTtl);
    }
    if p.vlan.is_some_and(|v| v.vid.value() == VlanId::MAX_U16) {
        return Err(EncapError::ReservedVlanId);
    }
    let udp_payload_len = VxlanHeader::LEN + inner.len();
    let udp_len = UdpHeader::LEN + udp_payload_len;
    let ip_total_len = Ipv4Header::MIN_LEN + udp_len;
    let too_long = EncapError::TooLong { ip_total_len };
    let udp_len_u16 = u16::try_from(udp_len).map_err(|_| too_long)?;

    let mut ip = Ipv4Header::new(
        udp_len_u16,
        p.ttl,
        IpNumber::UDP,
        p.local_ip.octets(),
        p.remote_ip.octets(),
    )
    .map_err(|_| too_long)?;
    ip.identification = p.identification;
    ip.dont_fragment = p.dont_fragment;
    ip.header_checksum = ip.calc_header_checksum();

    let eth = Ethernet2Header {
        source: p.local_mac,
        destination: p.remote_mac,
        ether_type: match p.vlan {
            Some(_) => EtherType::VLAN_TAGGED_FRAME,
            None => EtherType::IPV4,
        },
    };

    let mut frame = Vec::with_capacity(p.overhead() + inner.len());
    frame.extend_from_slice(&eth.to_bytes());
    if let Some(vlan) = p.vlan {
        let tag = SingleVlanHeader {
            pcp: vlan.pcp,
            drop_eligible_indicator: vlan.dei,
            vlan_id: vlan.vid,
            ether_type: EtherType::IPV4,
        };
        frame.extend_from_slice(&tag.to_bytes());
    }
    frame.extend_from_slice(&ip.to_bytes());
    // The UDP checksum covers the payload, so the header is filled in last,
    // once the payload is in place and can be summed where it lies.
    let udp_at = frame.len();
    frame.extend_from_slice(&[0; UdpHeader::LEN]);
    frame.extend_from_slice(&VxlanHeader::new(p.vni).to_bytes());
    frame.extend_from_slice(inner);

    let (head, udp_payload) = frame.split_at_mut(udp_at + UdpHeader::LEN);
    let udp = if p.udp_checksum {
        UdpHeader::with_ipv4_checksum(p.udp_src_port, p.udp_dst_port, &ip, udp_payload)
    } else {
        UdpHeader::without_ipv4_checksum(p.udp_src_port, p.udp_dst_port, udp_payload_len)
    }
    .map_err(|_| too_long)?;
    head[udp_at..].copy_from_slice(&udp.to_bytes());
    Ok(frame)
}

/// What [`decapsulate`] checks beyond the frame's own consistency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DecapConfig {
    /// UDP destination port that marks VXLAN. Default [`VXLAN_UDP_PORT`].
    pub udp_dst_port: u16,
    /// Refuse headers with reserved VXLAN bits set. Default off: RFC 7348
    /// section 5 says receivers ignore reserved bits, and later extensions
    /// (e.g. VXLAN-GPE, GBP) use some of them.
    pub strict_reserved: bool,
    /// The local VTEP's IPv4 address the outer destination must equal, or
    /// `None` to accept any (e.g. when multicast groups are also joined).
    pub local_ip: Option<Ipv4Addr>,
    /// The MAC the outer destination must equal, or `None` to accept any.
    pub local_mac: Option<[u8; 6]>,
}

impl Default for DecapConfig {
    fn default() -> DecapConfig {
        DecapConfig {
            udp_dst_port: VXLAN_UDP_PORT,
            strict_reserved: false,
            local_ip: None,
            local_mac: None,
        }
    }
}

/// The outer headers of a frame [`decapsulate`] accepted, as they were on
/// the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OuterHeaders {
    /// Outer source MAC (the sending VTEP or the last router).
    pub src_mac: [u8; 6],
    /// Outer destination MAC.
    pub dst_mac: [u8; 6],
    /// The outer 802.1Q tag, if the frame had one.
    pub vlan: Option<OuterVlan>,
    /// Outer IPv4 source: the sending VTEP.
    pub src_ip: Ipv4Addr,
    /// Outer IPv4 destination: this VTEP or a multicast group.
    pub dst_ip: Ipv4Addr,
    /// Outer IPv4 DSCP.
    pub dscp: IpDscp,
    /// Outer IPv4 ECN; a decapsulator that follows RFC 6040 needs it.
    pub ecn: IpEcn,
    /// Outer IPv4 time to live.
    pub ttl: u8,
    /// Outer IPv4 Don't Fragment flag.
    pub dont_fragment: bool,
    /// Outer IPv4 identification.
    pub identification: u16,
    /// Outer IPv4 header length in bytes: 20, or more when options were
    /// present (they are skipped, not interpreted).
    pub ip_header_len: usize,
    /// Outer UDP source port.
    pub udp_src_port: u16,
    /// Outer UDP destination port.
    pub udp_dst_port: u16,
    /// Outer UDP checksum field as received; 0 means the sender sent none.
    pub udp_checksum: u16,
    /// The VXLAN header, reserved bits as received.
    pub vxlan: VxlanHeader,
}

impl OuterHeaders {
    /// The VNI the frame was sent in.
    pub const fn vni(&self) -> Vni {
        self.vxlan.vni
    }

    /// Parameters under which [`encapsulate`] rebuilds these outer headers:
    /// MACs, IPs, VLAN tag, TTL, DF, identification, ports, VNI, and UDP
    /// checksumming on when the received checksum was nonzero.
    ///
    /// The rebuilt frame equals the received one only if what the model
    /// always sends as zero was zero here too: DSCP/ECN, IPv4 options and
    /// the VXLAN reserved bits. `local_*` are the outer source fields, so
    /// the parameters describe the sender's side of the tunnel.
    pub const fn encap_params(&self) -> EncapParams {
        EncapParams {
            local_mac: self.src_mac,
            remote_mac: self.dst_mac,
            local_ip: self.src_ip,
            remote_ip: self.dst_ip,
            vni: self.vxlan.vni,
            udp_src_port: self.udp_src_port,
            udp_dst_port: self.udp_dst_port,
            ttl: self.ttl,
            dont_fragment: self.dont_fragment,
            identification: self.identification,
            vlan: self.vlan,
            udp_checksum: self.udp_checksum != 0,
        }
    }
}

/// A frame [`decapsulate`] accepted: the inner frame and the outer headers
/// that carried it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decapsulated<'a> {
    /// The outer headers as received.
    pub outer: OuterHeaders,
    /// The inner Ethernet frame, delimited by the UDP length.
    pub inner: &'a [u8],
    /// Bytes after the IPv4 total length: Ethernet padding, or an FCS that a
    /// capture kept. Ignored by the validation; empty for a frame straight
    /// from [`encapsulate`].
    pub trailer: &'a [u8],
}

/// The first thing wrong with a frame [`decapsulate`] refused.
///
/// Checks run outermost layer first, in the order the variants are listed
/// (except that a header shorter than its own IHL is reported as
/// [`DecapError::TruncatedIpv4`] after the version and IHL checks), so a
/// frame with several faults reports the outermost one. The IPv4 checksum
/// is verified before the total length, flags, protocol and addresses it
/// protects are believed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum DecapError {
    /// Shorter than an Ethernet II header.
    #[error("frame of {len} bytes is shorter than an Ethernet header")]
    TruncatedEthernet {
        /// Length of the whole frame.
        len: usize,
    },
    /// Outer destination MAC is not the configured local MAC.
    #[error("outer destination MAC {found:02x?} is not the local VTEP's {expected:02x?}")]
    WrongDstMac {
        /// The configured local MAC.
        expected: [u8; 6],
        /// The MAC in the frame.
        found: [u8; 6],
    },
    /// EtherType 0x8100 but the frame ends inside the tag.
    #[error("frame of {len} bytes ends inside its 802.1Q tag")]
    TruncatedVlan {
        /// Length of the whole frame.
        len: usize,
    },
    /// The (post-tag) EtherType is not IPv4. A second tag (QinQ) lands here
    /// too: the outer header may carry one 802.1Q tag.
    #[error("outer EtherType {ether_type:#06x} is not IPv4")]
    NotIpv4 {
        /// The EtherType found.
        ether_type: u16,
    },
    /// Fewer bytes than the IPv4 header needs (20, or IHL × 4).
    #[error("IPv4 header needs {required} bytes, {available} present")]
    TruncatedIpv4 {
        /// Bytes the header needs.
        required: usize,
        /// Bytes after the Ethernet header (and tag).
        available: usize,
    },
    /// The IP version field is not 4.
    #[error("IP version {version} in an IPv4 EtherType frame")]
    Ipv4Version {
        /// The version found.
        version: u8,
    },
    /// IHL below 5, shorter than the fixed header.
    #[error("IPv4 IHL {ihl} is below the minimum of 5")]
    Ipv4HeaderLen {
        /// The IHL found.
        ihl: u8,
    },
    /// The IPv4 header checksum does not verify.
    #[error("IPv4 header checksum {found:#06x}, computed {computed:#06x}")]
    Ipv4Checksum {
        /// The checksum in the header.
        found: u16,
        /// The checksum the header should carry.
        computed: u16,
    },
    /// The IPv4 total length is below the header length or beyond the bytes
    /// present. (Bytes beyond it are padding and allowed.)
    #[error(
        "IPv4 total length {total_len} inconsistent with header length {header_len} \
         and {available} bytes present"
    )]
    Ipv4TotalLen {
        /// The total length field.
        total_len: u16,
        /// The header length from the IHL.
        header_len: usize,
        /// Bytes after the Ethernet header (and tag).
        available: usize,
    },
    /// A fragment (MF set or nonzero offset); VTEPs do not reassemble
    /// (RFC 7348 section 4.3).
    #[error("IPv4 fragment (MF {more_fragments}, offset {offset})")]
    Ipv4Fragment {
        /// The More Fragments flag.
        more_fragments: bool,
        /// The fragment offset in 8-byte units.
        offset: u16,
    },
    /// The IPv4 protocol is not UDP.
    #[error("IPv4 protocol {protocol} is not UDP")]
    NotUdp {
        /// The protocol number found.
        protocol: u8,
    },
    /// Outer destination IP is not the configured local VTEP IP.
    #[error("outer destination {found} is not the local VTEP {expected}")]
    WrongDstIp {
        /// The configured local VTEP IP.
        expected: Ipv4Addr,
        /// The address in the frame.
        found: Ipv4Addr,
    },
    /// The IPv4 payload is shorter than a UDP header.
    #[error("IPv4 payload of {available} bytes is shorter than a UDP header")]
    TruncatedUdp {
        /// The IPv4 payload length.
        available: usize,
    },
    /// The UDP length differs from the IPv4 payload length. Either one is
    /// wrong, and which bytes are the inner frame would be a guess.
    #[error("UDP length {udp_len} differs from IPv4 payload length {ip_payload_len}")]
    UdpLength {
        /// The UDP length field.
        udp_len: u16,
        /// The IPv4 payload length.
        ip_payload_len: usize,
    },
    /// The UDP destination port is not the configured VXLAN port.
    #[error("UDP destination port {found}, expected {expected}")]
    WrongUdpPort {
        /// The configured VXLAN port.
        expected: u16,
        /// The port in the frame.
        found: u16,
    },
    /// A nonzero UDP checksum that does not verify (0 means none was sent
    /// and is accepted).
    #[error("UDP checksum {found:#06x}, computed {computed:#06x}")]
    UdpChecksum {
        /// The checksum in the header.
        found: u16,
        /// The checksum the datagram should carry.
        computed: u16,
    },
    /// The UDP payload is shorter than a VXLAN header.
    #[error("UDP payload of {available} bytes is shorter than a VXLAN header")]
    TruncatedVxlan {
        /// The UDP payload length.
        available: usize,
    },
    /// The VXLAN I flag is clear, so the VNI is not valid.
    #[error("VXLAN flags {flags:#04x} lack the I flag")]
    VxlanIFlagClear {
        /// The flags byte found.
        flags: u8,
    },
    /// Reserved VXLAN bits are set; only reported in strict mode.
    #[error("VXLAN reserved bits set in {header:02x?}")]
    VxlanReservedBits {
        /// The header as received.
        header: VxlanHeader,
    },
    /// The inner frame is shorter than an Ethernet II header.
    #[error("inner frame of {len} bytes is shorter than an Ethernet header")]
    TruncatedInner {
        /// The inner frame length.
        len: usize,
    },
}

/// Validates a VXLAN frame and strips its outer headers.
///
/// Accepts Ethernet II with at most one 802.1Q tag, IPv4 (options skipped,
/// no fragments, header checksum verified), UDP to `cfg.udp_dst_port` (a
/// zero checksum accepted, a nonzero one verified), and a VXLAN header with
/// the I flag. Bytes after the IPv4 total length are returned as
/// [`Decapsulated::trailer`] and otherwise ignored. Never panics: every
/// malformation is a [`DecapError`].
///
/// ```
/// use std::net::Ipv4Addr;
/// use overlay_nic_driver::vxlan::{
///     decapsulate, encapsulate, DecapConfig, DecapError, EncapParams,
/// };
///
/// let p = EncapParams::new(
///     [0x02, 0, 0, 0, 0, 0x0b],
///     [0x02, 0, 0, 0, 0, 0x0c],
///     Ipv4Addr::new(192, 168, 56, 11),
///     Ipv4Addr::new(192, 168, 56, 12),
///     123,
/// )?;
/// let inner = [0x5au8; 64];
/// let mut outer = encapsulate(&inner, &p)?;
///
/// let cfg = DecapConfig {
///     local_ip: Some(Ipv4Addr::new(192, 168, 56, 12)),
///     ..DecapConfig::default()
/// };
/// let d = decapsulate(&outer, &cfg)?;
/// assert_eq!(d.inner, &inner[..]);
/// assert_eq!(d.outer.vni().get(), 123);
/// assert_eq!(d.outer.src_ip, Ipv4Addr::new(192, 168, 56, 11));
///
/// outer[42] = 0; // clear the VXLAN I flag
/// assert_eq!(
///     decapsulate(&outer, &cfg),
///     Err(DecapError::VxlanIFlagClear { flags: 0 })
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decapsulate<'a>(frame: &'a [u8], cfg: &DecapConfig) -> Result<Decapsulated<'a>, DecapError> {
    use DecapError as E;

    let (eth, after_eth) = Ethernet2Header::from_slice(frame)
        .map_err(|_| E::TruncatedEthernet { len: frame.len() })?;
    if let Some(expected) = cfg.local_mac {
        if eth.destination != expected {
            return Err(E::WrongDstMac {
                expected,
                found: eth.destination,
            });
        }
    }

    let (vlan, ether_type, l3) = if eth.ether_type == EtherType::VLAN_TAGGED_FRAME {
        let (tag, after_tag) = SingleVlanHeader::from_slice(after_eth)
            .map_err(|_| E::TruncatedVlan { len: frame.len() })?;
        let vlan = OuterVlan {
            vid: tag.vlan_id,
            pcp: tag.pcp,
            dei: tag.drop_eligible_indicator,
        };
        (Some(vlan), tag.ether_type, after_tag)
    } else {
        (None, eth.ether_type, after_eth)
    };
    if ether_type != EtherType::IPV4 {
        return Err(E::NotIpv4 {
            ether_type: ether_type.0,
        });
    }

    let ip = Ipv4HeaderSlice::from_slice(l3).map_err(|e| match e {
        HeaderSliceError::Len(e) => E::TruncatedIpv4 {
            required: e.required_len,
            available: e.len,
        },
        HeaderSliceError::Content(HeaderError::UnexpectedVersion { version_number }) => {
            E::Ipv4Version {
                version: version_number,
            }
        }
        HeaderSliceError::Content(HeaderError::HeaderLengthSmallerThanHeader { ihl }) => {
            E::Ipv4HeaderLen { ihl }
        }
    })?;
    // RFC 1071 verification: the ones' complement sum over the header,
    // checksum included, is all ones. Unlike comparing against a recomputed
    // value, this accepts both encodings of zero a sender may produce.
    if Sum16BitWords::new().add_slice(ip.slice()).ones_complement() != 0 {
        return Err(E::Ipv4Checksum {
            found: ip.header_checksum(),
            computed: ip.to_header().calc_header_checksum(),
        });
    }
    let header_len = ip.slice().len();
    let total_len = usize::from(ip.total_len());
    if total_len < header_len || total_len > l3.len() {
        return Err(E::Ipv4TotalLen {
            total_len: ip.total_len(),
            header_len,
            available: l3.len(),
        });
    }
    if ip.is_fragmenting_payload() {
        return Err(E::Ipv4Fragment {
            more_fragments: ip.more_fragments(),
            offset: ip.fragments_offset().value(),
        });
    }
    if ip.protocol() != IpNumber::UDP {
        return Err(E::NotUdp {
            protocol: ip.protocol().0,
        });
    }
    if let Some(expected) = cfg.local_ip {
        if ip.destination_addr() != expected {
            return Err(E::WrongDstIp {
                expected,
                found: ip.destination_addr(),
            });
        }
    }
    // Both bounds were checked just above.
    let (ip_packet, trailer) = l3.split_at(total_len);
    let ip_payload = &ip_packet[header_len..];

    let udp = UdpHeaderSlice::from_slice(ip_payload).map_err(|_| E::TruncatedUdp {
        available: ip_payload.len(),
    })?;
    if usize::from(udp.length()) != ip_payload.len() {
        return Err(E::UdpLength {
            udp_len: udp.length(),
            ip_payload_len: ip_payload.len(),
        });
    }
    if udp.destination_port() != cfg.udp_dst_port {
        return Err(E::WrongUdpPort {
            expected: cfg.udp_dst_port,
            found: udp.destination_port(),
        });
    }
    let udp_payload = &ip_payload[UdpHeader::LEN..];
    if udp.checksum() != 0 {
        // etherparse never yields 0 here (it sends a computed 0 as 0xffff, as
        // RFC 768 asks), so comparing is exact. It only fails for a payload
        // longer than a UDP length can describe, which the length check above
        // already rules out; it is still mapped rather than unwrapped.
        let computed = udp
            .to_header()
            .calc_checksum_ipv4_raw(ip.source(), ip.destination(), udp_payload)
            .map_err(|_| E::UdpLength {
                udp_len: udp.length(),
                ip_payload_len: ip_payload.len(),
            })?;
        if computed != udp.checksum() {
            return Err(E::UdpChecksum {
                found: udp.checksum(),
                computed,
            });
        }
    }

    let Some((vxlan_bytes, inner)) = split_array::<{ VxlanHeader::LEN }>(udp_payload) else {
        return Err(E::TruncatedVxlan {
            available: udp_payload.len(),
        });
    };
    let vxlan = VxlanHeader::from_bytes(vxlan_bytes);
    if !vxlan.i_flag() {
        return Err(E::VxlanIFlagClear { flags: vxlan.flags });
    }
    if cfg.strict_reserved && vxlan.reserved_bits_set() {
        return Err(E::VxlanReservedBits { header: vxlan });
    }
    if inner.len() < MIN_INNER_LEN {
        return Err(E::TruncatedInner { len: inner.len() });
    }

    Ok(Decapsulated {
        outer: OuterHeaders {
            src_mac: eth.source,
            dst_mac: eth.destination,
            vlan,
            src_ip: ip.source_addr(),
            dst_ip: ip.destination_addr(),
            dscp: ip.dcp(),
            ecn: ip.ecn(),
            ttl: ip.ttl(),
            dont_fragment: ip.dont_fragment(),
            identification: ip.identification(),
            ip_header_len: header_len,
            udp_src_port: udp.source_port(),
            udp_dst_port: udp.destination_port(),
            udp_checksum: udp.checksum(),
            vxlan,
        },
        inner,
        trailer,
    })
}

/// The first `N` bytes as an array and the rest, or `None` if too short.
fn split_array<const N: usize>(s: &[u8]) -> Option<([u8; N], &[u8])> {
    if s.len() < N {
        return None;
    }
    let (head, rest) = s.split_at(N);
    Some((head.try_into().ok()?, rest))
}

#[cfg(test)]
mod tests;
