//! The whole NIC configuration: local VTEP, physical and virtual functions,
//! per-VNI records and the mapping table, as the driver programs it into the
//! registers (`docs/registers.md`) and as the golden TX model
//! ([`crate::tx::TxModel`]) reads it.
//!
//! A configuration is written in TOML and read with [`NicConfig::from_toml`],
//! which checks the syntax, the keys and the value types (MAC and IPv4
//! strings, VNI range). Whether the values make sense together and fit a
//! build of the NIC is [`NicConfig::validate`]'s job, against the build's
//! [`BuildLimits`]. Every problem is a distinct [`ConfigError`] variant; no
//! input makes either function panic.
//!
//! # Format
//!
//! ```toml
//! [vtep]                               # the local VTEP (required)
//! mac = "02:00:0a:00:00:01"            # outer source MAC
//! ip = "10.0.0.1"                      # outer source IPv4 address
//! netmask = "255.255.255.0"            # the VTEP subnet
//! gateway_mac = "02:00:0a:00:00:fe"    # underlay router: outer dst MAC for VTEPs off the subnet
//! udp_port = 4789                      # optional, default 4789
//! src_port_range = [49152, 65535]      # optional, this default
//! ttl = 64                             # optional, default 64
//! dont_fragment = true                 # optional, default true
//! vlan = { vid = 100, pcp = 0 }        # optional outer 802.1Q tag (pcp optional, default 0); absent = untagged
//! udp_checksum = false                 # optional, default false: compute the outer UDP checksum (else 0, RFC 7348)
//!
//! [pf]                        # optional table
//! mac = "02:00:00:00:00:10"   # optional (the PF's source MAC is not checked)
//! mtu = 1500                  # optional, default 1500
//!
//! [[vf]]                      # VF0, VF1, ... in order
//! mac = "02:00:00:00:01:00"   # required: frames from another source MAC are dropped
//! vni = 5001                  # optional: absent = not in an overlay segment (frames go out untouched)
//! mtu = 1500                  # optional, default 1500
//!
//! [[vni]]                     # one per-VNI record per segment
//! vni = 5001
//! multicast_group = "239.1.1.1"
//! gateway_ip = "10.0.1.254"
//! gateway_mac = "02:00:0a:00:01:fe"
//! miss_policy = "flood"       # flood | gateway | drop; default flood
//!
//! [[entry]]                   # mapping table: (vni, inner MAC) -> remote VTEP
//! vni = 5001
//! mac = "02:00:00:00:02:00"
//! vtep_ip = "10.0.0.2"
//! vtep_mac = "02:00:0a:00:00:02"
//!
//! [rx]                        # optional table: RX options (docs/rx-path.md section 7)
//! strict_vxlan_flags = false  # optional, default false: drop frames with reserved VXLAN bits set
//! check_source_mac = false    # optional, default false: a known source must also come from its VTEP's MAC
//! ```
//!
//! MAC addresses are six pairs of hex digits separated by colons, IPv4
//! addresses dotted quads, VNIs integers below 2^24. Any other key is an
//! error.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use overlay_nic_driver::nic_config::{BuildLimits, MacAddr, MissPolicy, NicConfig};
//! use overlay_nic_driver::vxlan::Vni;
//!
//! let config = NicConfig::from_toml(
//!     r#"
//!     [vtep]
//!     mac = "02:00:0a:00:00:01"
//!     ip = "10.0.0.1"
//!     netmask = "255.255.255.0"
//!     gateway_mac = "02:00:0a:00:00:fe"
//!     udp_port = 4789
//!     src_port_range = [49152, 65535]
//!     ttl = 64
//!     dont_fragment = true
//!     vlan = { vid = 100, pcp = 0 }
//!     udp_checksum = false
//!
//!     [pf]
//!     mac = "02:00:00:00:00:10"
//!     mtu = 1500
//!
//!     [[vf]]
//!     mac = "02:00:00:00:01:00"
//!     vni = 5001
//!     mtu = 1500
//!
//!     [[vf]]
//!     mac = "02:00:00:00:01:01"
//!
//!     [[vni]]
//!     vni = 5001
//!     multicast_group = "239.1.1.1"
//!     gateway_ip = "10.0.1.254"
//!     gateway_mac = "02:00:0a:00:01:fe"
//!     miss_policy = "flood"
//!
//!     [[entry]]
//!     vni = 5001
//!     mac = "02:00:00:00:02:00"
//!     vtep_ip = "10.0.0.2"
//!     vtep_mac = "02:00:0a:00:00:02"
//!     "#,
//! )?;
//! config.validate(&BuildLimits::default())?;
//!
//! let vni = Vni::new(5001)?;
//! assert_eq!(config.vtep.ip, Ipv4Addr::new(10, 0, 0, 1));
//! assert_eq!(config.vfs.len(), 2);
//! assert_eq!(config.vfs[0].vni, Some(vni));
//! assert_eq!(config.vfs[1].vni, None); // a plain SR-IOV VF
//! assert_eq!(config.vni_record(vni).map(|r| r.miss_policy), Some(MissPolicy::Flood));
//! let mac: MacAddr = "02:00:00:00:02:00".parse()?;
//! let entry = config.lookup(vni, mac).expect("in the table");
//! assert_eq!(entry.vtep_ip, Ipv4Addr::new(10, 0, 0, 2));
//! assert_eq!(entry.vtep_mac.to_string(), "02:00:0a:00:00:02");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

use std::collections::HashMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::Deserialize;
use toml::Spanned;

use crate::tx::Function;
use crate::vxlan::{Vni, MAX_INNER_LEN, VXLAN_UDP_PORT};

/// A 48-bit Ethernet MAC address, first byte on the wire first.
///
/// Parsed from and shown as six colon-separated pairs of hex digits
/// (`"02:00:0a:00:00:01"`; either case when parsed, lower case when shown).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The broadcast address `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// The address's bytes, first on the wire first.
    pub const fn octets(self) -> [u8; 6] {
        self.0
    }

    /// Whether this is a group (multicast or broadcast) address: bit 0 of
    /// the first byte set.
    pub const fn is_multicast(self) -> bool {
        self.0[0] & 1 != 0
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(bytes: [u8; 6]) -> MacAddr {
        MacAddr(bytes)
    }
}

impl From<MacAddr> for [u8; 6] {
    fn from(mac: MacAddr) -> [u8; 6] {
        mac.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddr({self})")
    }
}

/// A string that is not a MAC address in the `aa:bb:cc:dd:ee:ff` form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a MAC address (six colon-separated pairs of hex digits)")]
pub struct MacParseError {
    /// The string refused.
    pub value: String,
}

impl FromStr for MacAddr {
    type Err = MacParseError;

    fn from_str(s: &str) -> Result<MacAddr, MacParseError> {
        let err = || MacParseError {
            value: s.to_owned(),
        };
        let mut bytes = [0u8; 6];
        let mut groups = s.split(':');
        for byte in &mut bytes {
            let group = groups.next().ok_or_else(err)?;
            if group.len() != 2 || !group.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(err());
            }
            *byte = u8::from_str_radix(group, 16).map_err(|_| err())?;
        }
        match groups.next() {
            Some(_) => Err(err()),
            None => Ok(MacAddr(bytes)),
        }
    }
}

/// What the NIC does with a unicast frame whose (VNI, inner destination
/// MAC) is not in the mapping table (`docs/tx-path.md`, step 6). The
/// discriminants are the `VNI_POLICY` register encoding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissPolicy {
    /// Send to the VNI's multicast group, as for broadcast (RFC 7348).
    #[default]
    Flood = 0,
    /// Send to the VNI's gateway VTEP (seed \[0114\]).
    Gateway = 1,
    /// Drop the frame (counted as a `miss` drop).
    Drop = 2,
}

impl MissPolicy {
    /// The policy's name in the TOML format.
    pub const fn name(self) -> &'static str {
        match self {
            MissPolicy::Flood => "flood",
            MissPolicy::Gateway => "gateway",
            MissPolicy::Drop => "drop",
        }
    }
}

/// A string that is not `flood`, `gateway` or `drop`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a miss policy (flood, gateway or drop)")]
pub struct MissPolicyParseError {
    /// The string refused.
    pub value: String,
}

impl FromStr for MissPolicy {
    type Err = MissPolicyParseError;

    fn from_str(s: &str) -> Result<MissPolicy, MissPolicyParseError> {
        match s {
            "flood" => Ok(MissPolicy::Flood),
            "gateway" => Ok(MissPolicy::Gateway),
            "drop" => Ok(MissPolicy::Drop),
            _ => Err(MissPolicyParseError {
                value: s.to_owned(),
            }),
        }
    }
}

impl fmt::Display for MissPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The outer UDP source-port range `[lo, hi]`, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// Lowest port.
    pub lo: u16,
    /// Highest port.
    pub hi: u16,
}

impl PortRange {
    /// The default range: the IANA dynamic ports, 49152-65535.
    pub const DYNAMIC: PortRange = PortRange {
        lo: 49152,
        hi: 65535,
    };
}

impl Default for PortRange {
    fn default() -> PortRange {
        PortRange::DYNAMIC
    }
}

/// The outer 802.1Q tag's fields as configured (DEI is always sent 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// VLAN identifier: below 0xfff (0xfff is reserved).
    pub vid: u16,
    /// Priority code point: below 8.
    pub pcp: u8,
}

/// The local VTEP: the outer headers' source and the underlay settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VtepConfig {
    /// Outer source MAC.
    pub mac: MacAddr,
    /// Outer source IPv4 address.
    pub ip: Ipv4Addr,
    /// The VTEP subnet's mask: a unicast outer destination IP outside
    /// `ip & netmask` is reached through `gateway_mac`.
    pub netmask: Ipv4Addr,
    /// The underlay router's MAC (seed \[0069\]).
    pub gateway_mac: MacAddr,
    /// Outer UDP destination port. Default [`VXLAN_UDP_PORT`].
    pub udp_port: u16,
    /// Outer UDP source-port range. Default [`PortRange::DYNAMIC`].
    pub src_port_range: PortRange,
    /// Outer IPv4 TTL, not 0. Default 64.
    pub ttl: u8,
    /// Set the outer IPv4 DF bit. Default true.
    pub dont_fragment: bool,
    /// Outer 802.1Q tag, or `None` (the default) for untagged outer frames.
    pub vlan: Option<VlanTag>,
    /// Compute the outer UDP checksum (`docs/tx-offload.md`, "Outer UDP
    /// checksum"). Default false: the field is sent as 0, which RFC 7348
    /// allows over IPv4.
    pub udp_checksum: bool,
}

impl VtepConfig {
    /// Default outer TTL.
    pub const DEFAULT_TTL: u8 = 64;

    /// A VTEP with these addresses and every optional field at its default.
    pub fn new(mac: MacAddr, ip: Ipv4Addr, netmask: Ipv4Addr, gateway_mac: MacAddr) -> VtepConfig {
        VtepConfig {
            mac,
            ip,
            netmask,
            gateway_mac,
            udp_port: VXLAN_UDP_PORT,
            src_port_range: PortRange::DYNAMIC,
            ttl: Self::DEFAULT_TTL,
            dont_fragment: true,
            vlan: None,
            udp_checksum: false,
        }
    }

    /// Checks the fields that the outer headers are built from: the
    /// source-port range, the TTL and the VLAN tag.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let PortRange { lo, hi } = self.src_port_range;
        if lo > hi {
            return Err(ConfigError::SrcPortRange { lo, hi });
        }
        if self.ttl == 0 {
            return Err(ConfigError::ZeroTtl);
        }
        if let Some(VlanTag { vid, pcp }) = self.vlan {
            if vid > 0xfff {
                return Err(ConfigError::VlanIdOutOfRange { vid });
            }
            if vid == 0xfff {
                return Err(ConfigError::ReservedVlanId);
            }
            if pcp > 7 {
                return Err(ConfigError::VlanPcpOutOfRange { pcp });
            }
        }
        Ok(())
    }
}

/// Default L3 MTU of every function.
pub const DEFAULT_MTU: u32 = 1500;

/// Longest L2 header the MTU rule discounts: Ethernet (14) + one 802.1Q tag.
pub const MAX_L2_HEADER: u32 = 18;

/// The physical function (function 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PfConfig {
    /// The PF's MAC; informative only (PF frames are not checked against it).
    pub mac: Option<MacAddr>,
    /// L3 MTU in bytes. Default [`DEFAULT_MTU`].
    pub mtu: u32,
}

impl Default for PfConfig {
    fn default() -> PfConfig {
        PfConfig {
            mac: None,
            mtu: DEFAULT_MTU,
        }
    }
}

/// One virtual function (VF i = function 1 + i).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VfConfig {
    /// The VF's MAC: frames with another source MAC are dropped (`spoofed`).
    pub mac: MacAddr,
    /// The overlay segment every frame of the VF is encapsulated into, or
    /// `None` for a plain SR-IOV VF whose frames go to the wire untouched.
    pub vni: Option<Vni>,
    /// L3 MTU in bytes. Default [`DEFAULT_MTU`].
    pub mtu: u32,
}

/// The per-VNI record: where broadcast, multicast and missed frames go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VniRecord {
    /// The segment.
    pub vni: Vni,
    /// Outer destination for broadcast/multicast inner frames and the
    /// `flood` miss policy; must be an IPv4 multicast address.
    pub multicast_group: Ipv4Addr,
    /// Gateway VTEP's IPv4 address (the `gateway` miss policy).
    pub gateway_ip: Ipv4Addr,
    /// Gateway VTEP's MAC (the `gateway` miss policy).
    pub gateway_mac: MacAddr,
    /// What to do on a mapping-table miss. Default [`MissPolicy::Flood`].
    pub miss_policy: MissPolicy,
}

/// One mapping-table entry: (VNI, inner MAC) → remote VTEP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapEntry {
    /// Key: the segment.
    pub vni: Vni,
    /// Key: the inner destination MAC.
    pub mac: MacAddr,
    /// The remote VTEP's IPv4 address.
    pub vtep_ip: Ipv4Addr,
    /// The remote VTEP's MAC (used when it is on the local VTEP subnet).
    pub vtep_mac: MacAddr,
}

/// The RX path's options (`RX_CONFIG`, `docs/rx-path.md` section 7); the
/// rest of what RX uses is the configuration TX uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RxConfig {
    /// `RX_CONFIG` bit 0: drop overlay frames with any reserved VXLAN flag
    /// or field bit set, not only those with the I flag clear. Default off
    /// (RFC 7348 receivers ignore them).
    pub strict_vxlan_flags: bool,
    /// `RX_CONFIG` bit 1: a source is known only when the outer source MAC
    /// is also its mapping entry's VTEP MAC. Default off (a VTEP off the
    /// local subnet arrives with its router's MAC).
    pub check_source_mac: bool,
}

/// The whole NIC configuration. See the [module docs](self) for the TOML
/// format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NicConfig {
    /// The local VTEP.
    pub vtep: VtepConfig,
    /// The physical function.
    pub pf: PfConfig,
    /// The virtual functions, VF0 first (`[[vf]]`).
    pub vfs: Vec<VfConfig>,
    /// The per-VNI records (`[[vni]]`).
    pub vnis: Vec<VniRecord>,
    /// The mapping table (`[[entry]]`).
    pub entries: Vec<MapEntry>,
    /// The RX options (`[rx]`).
    pub rx: RxConfig,
}

/// What one build of the NIC can hold: its build parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BuildLimits {
    /// Number of VFs (`NVF`).
    pub vfs: usize,
    /// Mapping-table entries.
    pub table_entries: usize,
    /// Per-VNI records.
    pub vni_records: usize,
    /// Longest host frame the TX path accepts (`MAX_FRAME`), in bytes; at
    /// most [`MAX_INNER_LEN`] so that every accepted frame can be
    /// encapsulated.
    pub max_frame: usize,
}

impl Default for BuildLimits {
    /// The default build: 4 VFs, 64 entries, 16 VNI records, 16384 bytes.
    fn default() -> BuildLimits {
        BuildLimits {
            vfs: 4,
            table_entries: 64,
            vni_records: 16,
            max_frame: 16384,
        }
    }
}

/// A 1-based line and column in a TOML text (the column counts characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` of `text` (clamped to the text).
    fn of(text: &str, offset: usize) -> Position {
        let before = &text.as_bytes()[..offset.min(text.len())];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        // Characters, not bytes: count the bytes that start a UTF-8 sequence.
        let column = 1 + before[line_start..]
            .iter()
            .filter(|&&b| b & 0xc0 != 0x80)
            .count();
        Position { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Shows an optional position as " at line L, column C" or nothing.
struct At(Option<Position>);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(f, " at {p}"),
            None => Ok(()),
        }
    }
}

/// Why a configuration was refused.
///
/// The first group of variants comes from [`NicConfig::from_toml`] and
/// carries a position in the text; the rest from [`NicConfig::validate`]
/// and name the item by its index (`vf` 1 is the second `[[vf]]`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The text is not TOML.
    #[error("TOML syntax error{}: {message}", At(*.at))]
    Syntax {
        /// toml's message.
        message: String,
        /// Where toml found the error.
        at: Option<Position>,
    },
    /// A key that the format does not have.
    #[error("unknown key `{key}`{}", At(*.at))]
    UnknownKey {
        /// The key.
        key: String,
        /// The table holding it.
        at: Option<Position>,
    },
    /// A required key is missing or a value has the wrong type or range for
    /// its key (e.g. `ttl = 300`, `mtu = "big"`).
    #[error("invalid configuration{}: {message}", At(*.at))]
    Schema {
        /// toml's message.
        message: String,
        /// Where toml found the error.
        at: Option<Position>,
    },
    /// A string that should be a MAC address is not one.
    #[error("`{key}` = {value:?} at {at} is not a MAC address (aa:bb:cc:dd:ee:ff)")]
    BadMac {
        /// The key, e.g. `vf[1].mac`.
        key: String,
        /// The string given.
        value: String,
        /// Where the string is.
        at: Position,
    },
    /// A string that should be an IPv4 address is not one.
    #[error("`{key}` = {value:?} at {at} is not an IPv4 address")]
    BadIp {
        /// The key, e.g. `entry[0].vtep_ip`.
        key: String,
        /// The string given.
        value: String,
        /// Where the string is.
        at: Position,
    },
    /// A VNI outside 0..2^24.
    #[error("`{key}` = {value} at {at} is not a VNI (0 to 16777215)")]
    VniOutOfRange {
        /// The key, e.g. `vni[0].vni`.
        key: String,
        /// The number given.
        value: i64,
        /// Where the number is.
        at: Position,
    },
    /// A miss policy other than `flood`, `gateway` or `drop`.
    #[error("`{key}` = {value:?} at {at} is not a miss policy (flood, gateway or drop)")]
    BadMissPolicy {
        /// The key, e.g. `vni[0].miss_policy`.
        key: String,
        /// The string given.
        value: String,
        /// Where the string is.
        at: Position,
    },
    /// The build limits allow frames too long to encapsulate.
    #[error("MAX_FRAME {max_frame} is over {limit}, the longest frame VXLAN over IPv4 can carry")]
    MaxFrameTooLarge {
        /// The limit given.
        max_frame: usize,
        /// [`MAX_INNER_LEN`].
        limit: usize,
    },
    /// More `[[vf]]` than the build has VFs.
    #[error("{count} VFs configured, the build has {limit}")]
    TooManyVfs {
        /// VFs configured.
        count: usize,
        /// VFs in the build.
        limit: usize,
    },
    /// More `[[entry]]` than the mapping table holds.
    #[error("{count} mapping-table entries configured, the table holds {limit}")]
    TooManyEntries {
        /// Entries configured.
        count: usize,
        /// Table size.
        limit: usize,
    },
    /// More `[[vni]]` than the build has per-VNI records.
    #[error("{count} VNI records configured, the build holds {limit}")]
    TooManyVniRecords {
        /// Records configured.
        count: usize,
        /// Records in the build.
        limit: usize,
    },
    /// `src_port_range` with its low end above its high end.
    #[error("source-port range [{lo}, {hi}] is empty (lo > hi)")]
    SrcPortRange {
        /// Low end.
        lo: u16,
        /// High end.
        hi: u16,
    },
    /// Outer TTL 0.
    #[error("outer TTL 0 would be discarded by the first hop")]
    ZeroTtl,
    /// Outer VLAN id above 12 bits.
    #[error("outer VLAN id {vid:#x} does not fit in 12 bits")]
    VlanIdOutOfRange {
        /// The id given.
        vid: u16,
    },
    /// Outer VLAN id 0xfff, which 802.1Q reserves.
    #[error("outer VLAN id 0xfff is reserved")]
    ReservedVlanId,
    /// Outer VLAN priority above 3 bits.
    #[error("outer VLAN priority {pcp} does not fit in 3 bits")]
    VlanPcpOutOfRange {
        /// The priority given.
        pcp: u8,
    },
    /// A function with MTU 0.
    #[error("{function}: MTU 0")]
    ZeroMtu {
        /// The function.
        function: Function,
    },
    /// A function whose MTU plus the longest L2 header (18) exceeds the
    /// longest frame the build accepts.
    #[error("{function}: MTU {mtu} + 18 is over MAX_FRAME {max_frame}")]
    MtuTooLarge {
        /// The function.
        function: Function,
        /// Its MTU.
        mtu: u32,
        /// The build's limit.
        max_frame: usize,
    },
    /// Two per-VNI records for one VNI.
    #[error("VNI {vni} has two records: vni[{first}] and vni[{second}]")]
    DuplicateVni {
        /// The VNI.
        vni: Vni,
        /// Index of the first record.
        first: usize,
        /// Index of the second.
        second: usize,
    },
    /// A multicast group that is not in 224.0.0.0/4.
    #[error("VNI {vni}: multicast group {group} is not an IPv4 multicast address")]
    NotMulticast {
        /// The VNI.
        vni: Vni,
        /// The address given.
        group: Ipv4Addr,
    },
    /// A VF in a segment that has no per-VNI record.
    #[error("VF{vf} is in VNI {vni}, which has no [[vni]] record")]
    VfWithoutVniRecord {
        /// The VF's index.
        vf: usize,
        /// Its VNI.
        vni: Vni,
    },
    /// A mapping-table entry in a segment that has no per-VNI record.
    #[error("entry[{entry}] is in VNI {vni}, which has no [[vni]] record")]
    EntryWithoutVniRecord {
        /// The entry's index.
        entry: usize,
        /// Its VNI.
        vni: Vni,
    },
    /// Two mapping-table entries with one key.
    #[error("(VNI {vni}, {mac}) is in the table twice: entry[{first}] and entry[{second}]")]
    DuplicateEntry {
        /// Key VNI.
        vni: Vni,
        /// Key MAC.
        mac: MacAddr,
        /// Index of the first entry.
        first: usize,
        /// Index of the second.
        second: usize,
    },
}

impl NicConfig {
    /// A configuration with this VTEP, a default PF and nothing else.
    pub fn new(vtep: VtepConfig) -> NicConfig {
        NicConfig {
            vtep,
            pf: PfConfig::default(),
            vfs: Vec::new(),
            vnis: Vec::new(),
            entries: Vec::new(),
            rx: RxConfig::default(),
        }
    }

    /// Reads a configuration from TOML text (format in the [module
    /// docs](self)).
    ///
    /// Checks the syntax, the keys and every value's type; whether the
    /// values fit together and fit a build is [`NicConfig::validate`]'s.
    pub fn from_toml(text: &str) -> Result<NicConfig, ConfigError> {
        // Parsing into a plain table first tells syntax errors from errors
        // about the content, which the typed pass below reports.
        if let Err(e) = toml::from_str::<toml::Table>(text) {
            return Err(ConfigError::Syntax {
                message: e.message().to_owned(),
                at: e.span().map(|s| Position::of(text, s.start)),
            });
        }
        let raw: RawConfig = toml::from_str(text).map_err(|e| schema_error(text, &e))?;
        Typer { text }.config(raw)
    }

    /// Checks that the configuration is consistent and fits a build with
    /// `limits`, reporting the first problem found.
    ///
    /// Checked, in this order: the limits themselves (`max_frame` at most
    /// [`MAX_INNER_LEN`]); the numbers of VFs, VNI records and entries; the
    /// VTEP's source-port range, TTL and VLAN tag; every function's MTU (not
    /// 0, MTU + 18 at most `max_frame`); VNI records (no VNI twice, group in
    /// 224.0.0.0/4); every VF's VNI has a record; every entry's VNI has a
    /// record and no (VNI, MAC) key is there twice.
    pub fn validate(&self, limits: &BuildLimits) -> Result<(), ConfigError> {
        if limits.max_frame > MAX_INNER_LEN {
            return Err(ConfigError::MaxFrameTooLarge {
                max_frame: limits.max_frame,
                limit: MAX_INNER_LEN,
            });
        }
        if self.vfs.len() > limits.vfs {
            return Err(ConfigError::TooManyVfs {
                count: self.vfs.len(),
                limit: limits.vfs,
            });
        }
        if self.vnis.len() > limits.vni_records {
            return Err(ConfigError::TooManyVniRecords {
                count: self.vnis.len(),
                limit: limits.vni_records,
            });
        }
        if self.entries.len() > limits.table_entries {
            return Err(ConfigError::TooManyEntries {
                count: self.entries.len(),
                limit: limits.table_entries,
            });
        }
        self.vtep.validate()?;
        check_mtu(Function::Pf, self.pf.mtu, limits)?;
        for (i, vf) in self.vfs.iter().enumerate() {
            check_mtu(Function::Vf(i), vf.mtu, limits)?;
        }

        let mut records: HashMap<Vni, usize> = HashMap::new();
        for (i, record) in self.vnis.iter().enumerate() {
            if let Some(&first) = records.get(&record.vni) {
                return Err(ConfigError::DuplicateVni {
                    vni: record.vni,
                    first,
                    second: i,
                });
            }
            records.insert(record.vni, i);
            if !record.multicast_group.is_multicast() {
                return Err(ConfigError::NotMulticast {
                    vni: record.vni,
                    group: record.multicast_group,
                });
            }
        }
        for (vf, config) in self.vfs.iter().enumerate() {
            if let Some(vni) = config.vni {
                if !records.contains_key(&vni) {
                    return Err(ConfigError::VfWithoutVniRecord { vf, vni });
                }
            }
        }
        let mut keys: HashMap<(Vni, MacAddr), usize> = HashMap::new();
        for (i, entry) in self.entries.iter().enumerate() {
            if !records.contains_key(&entry.vni) {
                return Err(ConfigError::EntryWithoutVniRecord {
                    entry: i,
                    vni: entry.vni,
                });
            }
            if let Some(&first) = keys.get(&(entry.vni, entry.mac)) {
                return Err(ConfigError::DuplicateEntry {
                    vni: entry.vni,
                    mac: entry.mac,
                    first,
                    second: i,
                });
            }
            keys.insert((entry.vni, entry.mac), i);
        }
        Ok(())
    }

    /// The per-VNI record of `vni` (the first, should there be several).
    pub fn vni_record(&self, vni: Vni) -> Option<&VniRecord> {
        self.vnis.iter().find(|r| r.vni == vni)
    }

    /// The mapping-table entry for (`vni`, `mac`) (the first, should there
    /// be several).
    pub fn lookup(&self, vni: Vni, mac: MacAddr) -> Option<&MapEntry> {
        self.entries.iter().find(|e| e.vni == vni && e.mac == mac)
    }
}

fn check_mtu(function: Function, mtu: u32, limits: &BuildLimits) -> Result<(), ConfigError> {
    if mtu == 0 {
        return Err(ConfigError::ZeroMtu { function });
    }
    if u64::from(mtu) + u64::from(MAX_L2_HEADER) > limits.max_frame as u64 {
        return Err(ConfigError::MtuTooLarge {
            function,
            mtu,
            max_frame: limits.max_frame,
        });
    }
    Ok(())
}

/// Sorts an error of the typed pass: unknown keys get their own variant,
/// everything else (missing keys, wrong types, integers out of range) is a
/// schema error.
fn schema_error(text: &str, e: &toml::de::Error) -> ConfigError {
    let at = e.span().map(|s| Position::of(text, s.start));
    // serde words `deny_unknown_fields` refusals "unknown field `KEY`, ...".
    let unknown = e
        .message()
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(key, _)| key.to_owned());
    match unknown {
        Some(key) => ConfigError::UnknownKey { key, at },
        None => ConfigError::Schema {
            message: e.message().to_owned(),
            at,
        },
    }
}

// The TOML as written: strings kept with their spans so that a bad MAC,
// address or VNI is reported where it is.

type Text = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    vtep: RawVtep,
    #[serde(default)]
    pf: RawPf,
    #[serde(default)]
    vf: Vec<RawVf>,
    #[serde(default)]
    vni: Vec<RawVni>,
    #[serde(default)]
    entry: Vec<RawEntry>,
    #[serde(default)]
    rx: RawRx,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVtep {
    mac: Text,
    ip: Text,
    netmask: Text,
    gateway_mac: Text,
    udp_port: Option<u16>,
    // A fixed-size array would let toml ignore extra elements.
    src_port_range: Option<Spanned<Vec<u16>>>,
    ttl: Option<u8>,
    dont_fragment: Option<bool>,
    vlan: Option<RawVlan>,
    udp_checksum: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVlan {
    vid: u16,
    pcp: Option<u8>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPf {
    mac: Option<Text>,
    mtu: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVf {
    mac: Text,
    vni: Option<Spanned<i64>>,
    mtu: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVni {
    vni: Spanned<i64>,
    multicast_group: Text,
    gateway_ip: Text,
    gateway_mac: Text,
    miss_policy: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    vni: Spanned<i64>,
    mac: Text,
    vtep_ip: Text,
    vtep_mac: Text,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRx {
    strict_vxlan_flags: Option<bool>,
    check_source_mac: Option<bool>,
}

/// Turns the raw TOML values into typed ones, reporting positions in `text`.
struct Typer<'a> {
    text: &'a str,
}

impl Typer<'_> {
    fn at<T>(&self, value: &Spanned<T>) -> Position {
        Position::of(self.text, value.span().start)
    }

    fn mac(&self, key: String, value: &Text) -> Result<MacAddr, ConfigError> {
        value.get_ref().parse().map_err(|_| ConfigError::BadMac {
            key,
            value: value.get_ref().clone(),
            at: self.at(value),
        })
    }

    fn ip(&self, key: String, value: &Text) -> Result<Ipv4Addr, ConfigError> {
        value.get_ref().parse().map_err(|_| ConfigError::BadIp {
            key,
            value: value.get_ref().clone(),
            at: self.at(value),
        })
    }

    fn vni(&self, key: String, value: &Spanned<i64>) -> Result<Vni, ConfigError> {
        let n = *value.get_ref();
        u32::try_from(n)
            .ok()
            .and_then(|n| Vni::new(n).ok())
            .ok_or_else(|| ConfigError::VniOutOfRange {
                key,
                value: n,
                at: self.at(value),
            })
    }

    fn policy(&self, key: String, value: &Text) -> Result<MissPolicy, ConfigError> {
        value
            .get_ref()
            .parse()
            .map_err(|_| ConfigError::BadMissPolicy {
                key,
                value: value.get_ref().clone(),
                at: self.at(value),
            })
    }

    fn config(&self, raw: RawConfig) -> Result<NicConfig, ConfigError> {
        let v = &raw.vtep;
        let vtep = VtepConfig {
            mac: self.mac("vtep.mac".into(), &v.mac)?,
            ip: self.ip("vtep.ip".into(), &v.ip)?,
            netmask: self.ip("vtep.netmask".into(), &v.netmask)?,
            gateway_mac: self.mac("vtep.gateway_mac".into(), &v.gateway_mac)?,
            udp_port: v.udp_port.unwrap_or(VXLAN_UDP_PORT),
            src_port_range: match &v.src_port_range {
                None => PortRange::DYNAMIC,
                Some(range) => match range.get_ref()[..] {
                    [lo, hi] => PortRange { lo, hi },
                    _ => {
                        return Err(ConfigError::Schema {
                            message: "`vtep.src_port_range` must be [lo, hi]".into(),
                            at: Some(self.at(range)),
                        })
                    }
                },
            },
            ttl: v.ttl.unwrap_or(VtepConfig::DEFAULT_TTL),
            dont_fragment: v.dont_fragment.unwrap_or(true),
            vlan: v.vlan.as_ref().map(|t| VlanTag {
                vid: t.vid,
                pcp: t.pcp.unwrap_or(0),
            }),
            udp_checksum: v.udp_checksum.unwrap_or(false),
        };
        let pf = PfConfig {
            mac: match &raw.pf.mac {
                Some(m) => Some(self.mac("pf.mac".into(), m)?),
                None => None,
            },
            mtu: raw.pf.mtu.unwrap_or(DEFAULT_MTU),
        };
        let vfs = raw
            .vf
            .iter()
            .enumerate()
            .map(|(i, vf)| {
                Ok(VfConfig {
                    mac: self.mac(format!("vf[{i}].mac"), &vf.mac)?,
                    vni: match &vf.vni {
                        Some(n) => Some(self.vni(format!("vf[{i}].vni"), n)?),
                        None => None,
                    },
                    mtu: vf.mtu.unwrap_or(DEFAULT_MTU),
                })
            })
            .collect::<Result<_, ConfigError>>()?;
        let vnis = raw
            .vni
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Ok(VniRecord {
                    vni: self.vni(format!("vni[{i}].vni"), &r.vni)?,
                    multicast_group: self
                        .ip(format!("vni[{i}].multicast_group"), &r.multicast_group)?,
                    gateway_ip: self.ip(format!("vni[{i}].gateway_ip"), &r.gateway_ip)?,
                    gateway_mac: self.mac(format!("vni[{i}].gateway_mac"), &r.gateway_mac)?,
                    miss_policy: match &r.miss_policy {
                        Some(p) => self.policy(format!("vni[{i}].miss_policy"), p)?,
                        None => MissPolicy::default(),
                    },
                })
            })
            .collect::<Result<_, ConfigError>>()?;
        let entries = raw
            .entry
            .iter()
            .enumerate()
            .map(|(i, e)| {
                Ok(MapEntry {
                    vni: self.vni(format!("entry[{i}].vni"), &e.vni)?,
                    mac: self.mac(format!("entry[{i}].mac"), &e.mac)?,
                    vtep_ip: self.ip(format!("entry[{i}].vtep_ip"), &e.vtep_ip)?,
                    vtep_mac: self.mac(format!("entry[{i}].vtep_mac"), &e.vtep_mac)?,
                })
            })
            .collect::<Result<_, ConfigError>>()?;
        let rx = RxConfig {
            strict_vxlan_flags: raw.rx.strict_vxlan_flags.unwrap_or(false),
            check_source_mac: raw.rx.check_source_mac.unwrap_or(false),
        };
        Ok(NicConfig {
            vtep,
            pf,
            vfs,
            vnis,
            entries,
            rx,
        })
    }
}

#[cfg(test)]
mod tests;
