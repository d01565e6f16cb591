//! Golden model of the NIC's RX path (`docs/rx-path.md`): what the NIC does
//! with each frame from the wire.
//!
//! [`RxModel`] holds a validated [`NicConfig`] and the state the hardware
//! keeps for RX: the global and per-function counters and the event queue.
//! [`RxModel::receive`] takes one frame through the spec in order: outer
//! parse and classification (section 1), validation of an overlay frame
//! (section 2, the first failing check is the drop reason), the source
//! check and learning (section 3), the inner checksums (section 4) and
//! delivery (section 5), counting as section 6 says.
//!
//! The headers are parsed with etherparse's slices where their checks are
//! the spec's, in the spec's order (Ethernet, 802.1Q, IPv4 and UDP headers);
//! everything else is read at the spec's offsets, and the ones' complement
//! sums are the spec's definition ([`ones_complement_sum`]). Nothing is
//! shared with the `hdl` crate. No input makes the model panic.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use overlay_nic_driver::nic_config::{BuildLimits, NicConfig};
//! use overlay_nic_driver::rx::{ChecksumStatus, RxDrop, RxModel, RxOutcome};
//! use overlay_nic_driver::tx::{Function, NicEvent};
//! use overlay_nic_driver::vxlan::{encapsulate, EncapParams};
//!
//! let config = NicConfig::from_toml(
//!     r#"
//!     [vtep]
//!     mac = "02:00:0a:00:00:01"
//!     ip = "10.0.0.1"
//!     netmask = "255.255.255.0"
//!     gateway_mac = "02:00:0a:00:00:fe"
//!
//!     [[vf]]
//!     mac = "02:00:00:00:01:00"
//!     vni = 5001
//!
//!     [[vni]]
//!     vni = 5001
//!     multicast_group = "239.1.1.1"
//!     gateway_ip = "10.0.1.254"
//!     gateway_mac = "02:00:0a:00:01:fe"
//!
//!     [[entry]]
//!     vni = 5001
//!     mac = "02:00:00:00:02:00"
//!     vtep_ip = "10.0.0.2"
//!     vtep_mac = "02:00:0a:00:00:02"
//!     "#,
//! )?;
//! let mut nic = RxModel::new(config, BuildLimits::default(), 16)?;
//!
//! // The remote VM 02:00:00:00:02:00, behind VTEP 10.0.0.2, sends VF0 a
//! // (non-IP) frame.
//! let mut inner = vec![0x02, 0, 0, 0, 0x01, 0x00, 0x02, 0, 0, 0, 0x02, 0x00, 0x88, 0xb5];
//! inner.resize(60, 0);
//! let p = EncapParams::new(
//!     [0x02, 0, 0x0a, 0, 0, 0x02], // the sender's VTEP
//!     [0x02, 0, 0x0a, 0, 0, 0x01], // to this NIC's VTEP
//!     Ipv4Addr::new(10, 0, 0, 2),
//!     Ipv4Addr::new(10, 0, 0, 1),
//!     5001,
//! )?;
//! let outer = encapsulate(&inner, &p)?;
//! let RxOutcome::Delivered(copies) = nic.receive(&outer) else {
//!     panic!("dropped");
//! };
//! assert_eq!(copies.len(), 1);
//! assert_eq!(copies[0].function, Function::Vf(0));
//! assert_eq!(copies[0].frame, inner);
//! assert_eq!((copies[0].meta.vni, copies[0].meta.learn), (5001, false));
//! assert_eq!(copies[0].meta.ip_checksum, ChecksumStatus::None);
//!
//! // From an unknown VM: to the PF only, and a learn event.
//! let mut from_new = inner.clone();
//! from_new[11] = 0x99;
//! let RxOutcome::Delivered(copies) = nic.receive(&encapsulate(&from_new, &p)?) else {
//!     panic!("dropped");
//! };
//! assert_eq!(copies[0].function, Function::Pf);
//! assert!(copies[0].meta.learn);
//! assert!(matches!(nic.pop_event(), Some(NicEvent::Learn { .. })));
//!
//! // A broken outer IPv4 checksum is dropped and counted.
//! let mut broken = encapsulate(&inner, &p)?;
//! broken[24] ^= 1;
//! assert_eq!(nic.receive(&broken), RxOutcome::Dropped(RxDrop::IpChecksum));
//! assert_eq!(nic.counters().drops(RxDrop::IpChecksum), 1);
//! assert_eq!(nic.counters().decapsulated, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

use std::fmt;
use std::net::Ipv4Addr;

use etherparse::err::ipv4::HeaderSliceError;
use etherparse::{
    EtherType, Ethernet2HeaderSlice, IpNumber, Ipv4HeaderSlice, SingleVlanHeaderSlice,
    UdpHeaderSlice,
};

use crate::events::EventQueueModel;
use crate::nic_config::{BuildLimits, ConfigError, MacAddr, NicConfig};
use crate::tx::{Function, NicEvent};
use crate::vxlan::{Vni, VxlanHeader};

/// The status of one inner checksum (`docs/rx-path.md` section 4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ChecksumStatus {
    /// Not checked: not a header the NIC checks.
    #[default]
    None,
    /// Checked and correct.
    Good,
    /// Checked and wrong.
    Bad,
}

impl ChecksumStatus {
    /// The sideband encoding: 0 none, 1 good, 2 bad.
    pub const fn code(self) -> u8 {
        match self {
            ChecksumStatus::None => 0,
            ChecksumStatus::Good => 1,
            ChecksumStatus::Bad => 2,
        }
    }
}

/// The metadata delivered with a frame (`docs/rx-path.md` section 5). All
/// zero for a non-overlay frame ([`RxMeta::default`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RxMeta {
    /// The frame was decapsulated.
    pub decapsulated: bool,
    /// Its VNI (0 when not decapsulated).
    pub vni: u32,
    /// The outer source IP: the VTEP it came from (0.0.0.0 when not
    /// decapsulated).
    pub src_vtep_ip: Ipv4Addr,
    /// The outer VLAN ID, when the outer frame had a tag (decapsulated
    /// frames only).
    pub vlan: Option<u16>,
    /// The inner IPv4 header checksum.
    pub ip_checksum: ChecksumStatus,
    /// The inner TCP/UDP checksum.
    pub l4_checksum: ChecksumStatus,
    /// The source was unknown or had moved: the frame went to the PF only
    /// and raised a learn event.
    pub learn: bool,
}

impl RxMeta {
    /// All zero: the metadata of a non-overlay frame.
    pub const ZERO: RxMeta = RxMeta {
        decapsulated: false,
        vni: 0,
        src_vtep_ip: Ipv4Addr::UNSPECIFIED,
        vlan: None,
        ip_checksum: ChecksumStatus::None,
        l4_checksum: ChecksumStatus::None,
        learn: false,
    };
}

impl Default for RxMeta {
    fn default() -> RxMeta {
        RxMeta::ZERO
    }
}

/// One copy of a frame, delivered to one function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RxDelivery {
    /// The function it goes to.
    pub function: Function,
    /// The frame it gets: the inner frame when decapsulated, else the frame
    /// from the wire unchanged.
    pub frame: Vec<u8>,
    /// Its metadata.
    pub meta: RxMeta,
}

/// Why the RX path dropped a frame: one per `RX_DROP_*` counter (except
/// `overflow`, which only the hardware's buffer causes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RxDrop {
    /// Shorter than the headers it announces.
    Truncated,
    /// Outer IPv4 total length not the frame's.
    IpLength,
    /// Outer IPv4 header checksum wrong.
    IpChecksum,
    /// Outer IPv4 fragment (MF set).
    Fragment,
    /// Outer UDP length not the datagram's.
    UdpLength,
    /// Non-zero outer UDP checksum wrong.
    UdpChecksum,
    /// Outer destination MAC neither the VTEP's nor multicast.
    DstMac,
    /// VXLAN I flag clear (or, in strict mode, a reserved bit set).
    VxlanFlags,
    /// The VNI has no per-VNI record.
    NoVni,
    /// Outer destination IP neither the VTEP's nor the VNI's group.
    DstIp,
    /// Outer 802.1Q tag not the VTEP's.
    Vlan,
}

impl RxDrop {
    /// Every reason, in the spec's (and the registers') order.
    pub const ALL: [RxDrop; 11] = [
        RxDrop::Truncated,
        RxDrop::IpLength,
        RxDrop::IpChecksum,
        RxDrop::Fragment,
        RxDrop::UdpLength,
        RxDrop::UdpChecksum,
        RxDrop::DstMac,
        RxDrop::VxlanFlags,
        RxDrop::NoVni,
        RxDrop::DstIp,
        RxDrop::Vlan,
    ];

    /// The reason's name in the spec (`ip_checksum`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            RxDrop::Truncated => "truncated",
            RxDrop::IpLength => "ip_length",
            RxDrop::IpChecksum => "ip_checksum",
            RxDrop::Fragment => "fragment",
            RxDrop::UdpLength => "udp_length",
            RxDrop::UdpChecksum => "udp_checksum",
            RxDrop::DstMac => "dst_mac",
            RxDrop::VxlanFlags => "vxlan_flags",
            RxDrop::NoVni => "no_vni",
            RxDrop::DstIp => "dst_ip",
            RxDrop::Vlan => "vlan",
        }
    }

    /// The reason's position in [`RxDrop::ALL`].
    const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for RxDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What became of one frame from the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RxOutcome {
    /// The copies delivered, in ascending function order (PF first). Empty
    /// when every copy was removed for a bad inner checksum (the VFs'
    /// `drop_inner_checksum` counters say so).
    Delivered(Vec<RxDelivery>),
    /// The frame was dropped.
    Dropped(RxDrop),
}

impl RxOutcome {
    /// The copies delivered (none when dropped).
    pub fn deliveries(&self) -> &[RxDelivery] {
        match self {
            RxOutcome::Delivered(d) => d,
            RxOutcome::Dropped(_) => &[],
        }
    }

    /// Why the frame was dropped, if it was.
    pub fn dropped(&self) -> Option<RxDrop> {
        match self {
            RxOutcome::Delivered(_) => None,
            RxOutcome::Dropped(d) => Some(*d),
        }
    }
}

/// The global RX counters: the `RX_*` registers but `RX_DROP_OVERFLOW`,
/// 32 bits, wrapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RxCounters {
    /// Frames received from the wire.
    pub wire_frames: u32,
    /// Bytes of those frames.
    pub wire_bytes: u32,
    /// Non-overlay frames passed to the PF untouched.
    pub non_overlay: u32,
    /// Overlay frames that passed validation and were decapsulated.
    pub decapsulated: u32,
    /// Of those, frames from an unknown or moved source.
    pub learn: u32,
    /// Drops, indexed like [`RxDrop::ALL`] (see [`RxCounters::drops`]).
    pub drops: [u32; 11],
}

impl RxCounters {
    /// The counter of drops for `reason`.
    pub fn drops(&self, reason: RxDrop) -> u32 {
        self.drops[reason.index()]
    }

    fn count_drop(&mut self, reason: RxDrop) {
        let c = &mut self.drops[reason.index()];
        *c = c.wrapping_add(1);
    }
}

/// One function's RX counters: the registers `RX_FRAMES` ..
/// `RX_DROP_INNER_CHECKSUM`, 32 bits, wrapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RxFunctionCounters {
    /// Frames delivered to the function.
    pub frames: u32,
    /// Bytes of those frames as delivered (inner length when decapsulated).
    pub bytes: u32,
    /// Of those, decapsulated frames.
    pub decapsulated: u32,
    /// Copies not delivered (VFs only) because of a bad inner checksum.
    pub drop_inner_checksum: u32,
}

impl RxFunctionCounters {
    /// All zero, as after reset.
    pub const ZERO: RxFunctionCounters = RxFunctionCounters {
        frames: 0,
        bytes: 0,
        decapsulated: 0,
        drop_inner_checksum: 0,
    };
}

/// A misuse of the model (frames are dropped, never refused).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RxError {
    /// The configuration does not fit the build or is inconsistent.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// The golden model of the RX path: configuration plus hardware state.
#[derive(Clone, Debug)]
pub struct RxModel {
    config: NicConfig,
    limits: BuildLimits,
    counters: RxCounters,
    /// Indexed by function number; grown when a function first receives.
    function_counters: Vec<RxFunctionCounters>,
    events: EventQueueModel,
}

/// What section 1 makes of a frame.
enum Class<'a> {
    Drop(RxDrop),
    NonOverlay,
    Overlay(Outer<'a>),
}

/// The outer headers of an overlay frame, as section 1 found them.
struct Outer<'a> {
    frame: &'a [u8],
    eth: Ethernet2HeaderSlice<'a>,
    /// The outer VLAN ID, when tagged.
    vlan: Option<u16>,
    /// Offset of the IPv4 header (`L3`).
    l3: usize,
    ip: Ipv4HeaderSlice<'a>,
    /// Offset of the UDP header (`L4`).
    l4: usize,
    udp: UdpHeaderSlice<'a>,
}

/// An overlay frame that passed section 2.
struct Accepted<'a> {
    vni: Vni,
    src_mac: [u8; 6],
    src_ip: Ipv4Addr,
    dst_ip: Ipv4Addr,
    vlan: Option<u16>,
    inner: &'a [u8],
}

impl RxModel {
    /// A NIC as after reset (counters and event queue empty) with
    /// `config`, which must be valid for `limits` (as for
    /// [`crate::tx::TxModel::new`]). The event queue holds `event_capacity`
    /// events.
    pub fn new(
        config: NicConfig,
        limits: BuildLimits,
        event_capacity: usize,
    ) -> Result<RxModel, RxError> {
        config.validate(&limits)?;
        Ok(RxModel {
            config,
            limits,
            counters: RxCounters::default(),
            function_counters: Vec::new(),
            events: EventQueueModel::new(event_capacity),
        })
    }

    /// Takes one frame from the wire (no FCS) through the RX path. Any
    /// frame, of any length and content, gives an outcome.
    pub fn receive(&mut self, frame: &[u8]) -> RxOutcome {
        let c = &mut self.counters;
        c.wire_frames = c.wire_frames.wrapping_add(1);
        // RX_WIRE_BYTES is a 32-bit register: it adds the length modulo 2^32.
        c.wire_bytes = c.wire_bytes.wrapping_add(frame.len() as u32);
        let outer = match self.classify(frame) {
            Class::Drop(reason) => return self.drop(reason),
            Class::NonOverlay => {
                self.counters.non_overlay = self.counters.non_overlay.wrapping_add(1);
                let copy = RxDelivery {
                    function: Function::Pf,
                    frame: frame.to_vec(),
                    meta: RxMeta::default(),
                };
                self.count_delivery(&copy);
                return RxOutcome::Delivered(vec![copy]);
            }
            Class::Overlay(outer) => outer,
        };
        match self.validate(&outer) {
            Ok(accepted) => self.deliver(&accepted),
            Err(reason) => self.drop(reason),
        }
    }

    fn drop(&mut self, reason: RxDrop) -> RxOutcome {
        self.counters.count_drop(reason);
        RxOutcome::Dropped(reason)
    }

    /// Section 1: outer parse and classification, in the spec's order.
    /// etherparse's slice parsers make exactly the spec's checks here:
    /// the IPv4 one refuses a short slice (steps 3 and 5) and a version or
    /// IHL it cannot parse (step 4) in that order.
    fn classify<'a>(&self, frame: &'a [u8]) -> Class<'a> {
        // 1. No complete Ethernet header.
        let Ok(eth) = Ethernet2HeaderSlice::from_slice(frame) else {
            return Class::Drop(RxDrop::Truncated);
        };
        // One outer 802.1Q tag, when the frame is long enough to hold it.
        let tag = if frame.len() >= 18 && eth.ether_type() == EtherType::VLAN_TAGGED_FRAME {
            SingleVlanHeaderSlice::from_slice(frame.get(14..).unwrap_or(&[])).ok()
        } else {
            None
        };
        let (ether_type, l3) = match &tag {
            Some(t) => (t.ether_type(), 18),
            None => (eth.ether_type(), 14),
        };
        // 2. Not IPv4.
        if ether_type != EtherType::IPV4 {
            return Class::NonOverlay;
        }
        // 3.-5. The IPv4 header.
        let ip = match Ipv4HeaderSlice::from_slice(frame.get(l3..).unwrap_or(&[])) {
            Ok(ip) => ip,
            Err(HeaderSliceError::Len(_)) => return Class::Drop(RxDrop::Truncated),
            Err(HeaderSliceError::Content(_)) => return Class::NonOverlay,
        };
        // 6. Not UDP, or a non-first fragment.
        if ip.protocol() != IpNumber::UDP || ip.fragments_offset().value() != 0 {
            return Class::NonOverlay;
        }
        // 7. The UDP header.
        let l4 = l3 + ip.slice().len();
        let Ok(udp) = UdpHeaderSlice::from_slice(frame.get(l4..).unwrap_or(&[])) else {
            return Class::Drop(RxDrop::Truncated);
        };
        // 8. Another port.
        if udp.destination_port() != self.config.vtep.udp_port {
            return Class::NonOverlay;
        }
        Class::Overlay(Outer {
            frame,
            eth,
            vlan: tag.map(|t| t.vlan_identifier().value()),
            l3,
            ip,
            l4,
            udp,
        })
    }

    /// Section 2: the checks of an overlay frame in the spec's order; the
    /// first failing one is the drop reason.
    fn validate<'a>(&self, o: &Outer<'a>) -> Result<Accepted<'a>, RxDrop> {
        let (frame, len, l3, l4) = (o.frame, o.frame.len(), o.l3, o.l4);
        // 1. UDP 8 + VXLAN 8 + inner Ethernet 14.
        if len < l4 + 30 {
            return Err(RxDrop::Truncated);
        }
        // 2. The IPv4 total length is the rest of the frame.
        if usize::from(o.ip.total_len()) != len - l3 {
            return Err(RxDrop::IpLength);
        }
        // 3. The header checksum.
        if ones_complement_sum(&[], o.ip.slice()) != 0xffff {
            return Err(RxDrop::IpChecksum);
        }
        // 4. A first fragment (later ones are non-overlay).
        if o.ip.more_fragments() {
            return Err(RxDrop::Fragment);
        }
        // 5. The UDP length is the rest of the frame.
        if usize::from(o.udp.length()) != len - l4 {
            return Err(RxDrop::UdpLength);
        }
        // 6. A non-zero UDP checksum.
        let datagram = frame.get(l4..).unwrap_or(&[]);
        if o.udp.checksum() != 0 {
            let pseudo = pseudo_header(o.ip.source(), o.ip.destination(), 17, o.udp.length());
            if ones_complement_sum(&pseudo, datagram) != 0xffff {
                return Err(RxDrop::UdpChecksum);
            }
        }
        // 7. The outer destination MAC.
        let dst_mac = MacAddr(o.eth.destination());
        if dst_mac != self.config.vtep.mac && !dst_mac.is_multicast() {
            return Err(RxDrop::DstMac);
        }
        // 8. The VXLAN flags (the length was checked in 1.).
        let vxlan_bytes: [u8; 8] = datagram
            .get(8..16)
            .and_then(|b| b.try_into().ok())
            .ok_or(RxDrop::Truncated)?;
        let vxlan = VxlanHeader::from_bytes(vxlan_bytes);
        if !vxlan.i_flag() || (self.config.rx.strict_vxlan_flags && vxlan.reserved_bits_set()) {
            return Err(RxDrop::VxlanFlags);
        }
        // 9. The VNI's record.
        let Some(record) = self.config.vni_record(vxlan.vni) else {
            return Err(RxDrop::NoVni);
        };
        // 10. The outer destination IP.
        let dst_ip = o.ip.destination_addr();
        if dst_ip != self.config.vtep.ip && dst_ip != record.multicast_group {
            return Err(RxDrop::DstIp);
        }
        // 11. The outer VLAN.
        let vlan_ok = match (o.vlan, self.config.vtep.vlan) {
            (None, None) => true,
            (Some(vid), Some(tag)) => vid == tag.vid,
            _ => false,
        };
        if !vlan_ok {
            return Err(RxDrop::Vlan);
        }
        Ok(Accepted {
            vni: vxlan.vni,
            src_mac: o.eth.source(),
            src_ip: o.ip.source_addr(),
            dst_ip,
            vlan: o.vlan,
            inner: datagram.get(16..).unwrap_or(&[]),
        })
    }

    /// Sections 3-5: source check, inner checksums and delivery of an
    /// accepted overlay frame, with its counters and event.
    fn deliver(&mut self, a: &Accepted<'_>) -> RxOutcome {
        let inner = a.inner;
        let inner_src = MacAddr(mac_at(inner, 6));
        let inner_dst = MacAddr(mac_at(inner, 0));

        // 3. The source is known when its entry names this VTEP.
        let known = self.config.lookup(a.vni, inner_src).is_some_and(|e| {
            e.vtep_ip == a.src_ip
                && (!self.config.rx.check_source_mac || e.vtep_mac.octets() == a.src_mac)
        });

        // 4. Inner checksums.
        let (ip_checksum, l4_checksum) = inner_checksums(inner);
        let bad = ip_checksum == ChecksumStatus::Bad || l4_checksum == ChecksumStatus::Bad;

        // 5. Destinations, in ascending function order.
        let in_vni: Vec<Function> = self
            .config
            .vfs
            .iter()
            .take(self.limits.vfs)
            .enumerate()
            .filter(|(_, vf)| vf.vni == Some(a.vni))
            .map(|(i, _)| Function::Vf(i))
            .collect();
        let vf_mac = |f: &Function| match f {
            Function::Vf(i) => self.config.vfs.get(*i).map(|vf| vf.mac),
            Function::Pf => None,
        };
        let destinations: Vec<Function> = if !known {
            vec![Function::Pf]
        } else if a.dst_ip.is_multicast() || inner_dst.is_multicast() {
            std::iter::once(Function::Pf).chain(in_vni).collect()
        } else if let Some(vf) = in_vni.iter().find(|f| vf_mac(f) == Some(inner_dst)) {
            vec![*vf]
        } else {
            vec![Function::Pf]
        };

        let meta = RxMeta {
            decapsulated: true,
            vni: a.vni.get(),
            src_vtep_ip: a.src_ip,
            vlan: a.vlan,
            ip_checksum,
            l4_checksum,
            learn: !known,
        };
        let mut copies = Vec::with_capacity(destinations.len());
        for function in destinations {
            if bad && function != Function::Pf {
                let c = self.function_counters_mut(function);
                c.drop_inner_checksum = c.drop_inner_checksum.wrapping_add(1);
                continue;
            }
            let copy = RxDelivery {
                function,
                frame: inner.to_vec(),
                meta,
            };
            self.count_delivery(&copy);
            copies.push(copy);
        }

        let c = &mut self.counters;
        c.decapsulated = c.decapsulated.wrapping_add(1);
        if !known {
            c.learn = c.learn.wrapping_add(1);
            self.events.raise(NicEvent::Learn {
                vni: a.vni,
                mac: inner_src,
                vtep_ip: a.src_ip,
                vtep_mac: MacAddr(a.src_mac),
            });
        }
        RxOutcome::Delivered(copies)
    }

    fn function_counters_mut(&mut self, function: Function) -> &mut RxFunctionCounters {
        let index = function.index();
        if self.function_counters.len() <= index {
            self.function_counters
                .resize(index + 1, RxFunctionCounters::ZERO);
        }
        &mut self.function_counters[index]
    }

    fn count_delivery(&mut self, copy: &RxDelivery) {
        let decapsulated = copy.meta.decapsulated;
        let c = self.function_counters_mut(copy.function);
        c.frames = c.frames.wrapping_add(1);
        c.bytes = c.bytes.wrapping_add(copy.frame.len() as u32);
        if decapsulated {
            c.decapsulated = c.decapsulated.wrapping_add(1);
        }
    }

    /// The global counters.
    pub fn counters(&self) -> &RxCounters {
        &self.counters
    }

    /// The counters of `function`; all zero for a function that has
    /// received nothing (or that the NIC does not have).
    pub fn function_counters(&self, function: Function) -> &RxFunctionCounters {
        self.function_counters
            .get(function.index())
            .unwrap_or(&RxFunctionCounters::ZERO)
    }

    /// Takes the oldest event off the queue (`EVENT_*` then `EVENT_POP`).
    pub fn pop_event(&mut self) -> Option<NicEvent> {
        self.events.pop()
    }

    /// The oldest event, left on the queue.
    pub fn peek_event(&self) -> Option<&NicEvent> {
        self.events.peek()
    }

    /// Events waiting in the queue (`EVENT_STATUS`).
    pub fn events_pending(&self) -> usize {
        self.events.pending()
    }

    /// Events discarded because the queue was full (`EVENT_LOST`, wraps).
    pub fn events_lost(&self) -> u32 {
        self.events.lost()
    }

    /// The configuration.
    pub fn config(&self) -> &NicConfig {
        &self.config
    }

    /// The configuration, to change between frames (as the driver rewrites
    /// registers and tables). It is not validated again: an inconsistent
    /// configuration behaves as the hardware would (with duplicate table
    /// keys or VNI records the first one wins; VFs beyond the build's count
    /// never receive).
    pub fn config_mut(&mut self) -> &mut NicConfig {
        &mut self.config
    }

    /// The build limits the model was made with.
    pub fn limits(&self) -> &BuildLimits {
        &self.limits
    }
}

/// The ones' complement sum of the spec (`docs/rx-path.md` section 2): the
/// 16-bit `words` (a pseudo-header) and `bytes` taken as 16-bit big-endian
/// words, an odd trailing byte padded with a zero low byte, carries folded
/// back until the sum fits 16 bits. A header or datagram is correct when
/// this is `0xffff`.
pub fn ones_complement_sum(words: &[u16], bytes: &[u8]) -> u16 {
    // 64 bits: no frame is long enough to overflow this before folding.
    let mut sum: u64 = words.iter().map(|&w| u64::from(w)).sum();
    let mut pairs = bytes.chunks_exact(2);
    for pair in &mut pairs {
        if let [hi, lo] = pair {
            sum += u64::from(u16::from_be_bytes([*hi, *lo]));
        }
    }
    if let [last] = pairs.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The IPv4 pseudo-header's words: source, destination, zero and
/// `protocol`, `length`.
fn pseudo_header(src: [u8; 4], dst: [u8; 4], protocol: u8, length: u16) -> [u16; 6] {
    [
        u16::from_be_bytes([src[0], src[1]]),
        u16::from_be_bytes([src[2], src[3]]),
        u16::from_be_bytes([dst[0], dst[1]]),
        u16::from_be_bytes([dst[2], dst[3]]),
        u16::from(protocol),
        length,
    ]
}

/// The MAC at `at` (zero-filled past the end).
fn mac_at(frame: &[u8], at: usize) -> [u8; 6] {
    let mut mac = [0; 6];
    for (m, b) in mac.iter_mut().zip(frame.iter().skip(at)) {
        *m = *b;
    }
    mac
}

/// The big-endian word at `at`, or `None` past the end.
fn word(frame: &[u8], at: usize) -> Option<u16> {
    let bytes = frame.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]))
}

/// Section 4: the inner IPv4 header and TCP/UDP checksum statuses of the
/// inner frame `inner`.
///
/// etherparse's IPv4 slice parser succeeds exactly when the spec's
/// conditions on the length, version and IHL hold.
fn inner_checksums(inner: &[u8]) -> (ChecksumStatus, ChecksumStatus) {
    use ChecksumStatus::{Bad, Good, None};
    let status = |ok: bool| if ok { Good } else { Bad };
    let il3 = if inner.len() >= 18 && word(inner, 12) == Some(0x8100) {
        18
    } else {
        14
    };
    if word(inner, il3 - 2) != Some(0x0800) {
        return (None, None);
    }
    let Ok(ip) = Ipv4HeaderSlice::from_slice(inner.get(il3..).unwrap_or(&[])) else {
        return (None, None);
    };
    let ip_status = status(ones_complement_sum(&[], ip.slice()) == 0xffff);

    let header_len = ip.slice().len();
    let protocol = ip.protocol();
    let total = usize::from(ip.total_len());
    let il4 = il3 + header_len;
    if !(protocol == IpNumber::TCP || protocol == IpNumber::UDP)
        || ip.more_fragments()
        || ip.fragments_offset().value() != 0
        || total < header_len + 8
        || il3 + total > inner.len()
    {
        return (ip_status, None);
    }
    if protocol == IpNumber::UDP && word(inner, il4 + 6) == Some(0) {
        return (ip_status, None);
    }
    let Some(segment) = inner.get(il4..il3 + total) else {
        return (ip_status, None);
    };
    // total < 2^16, so the segment's length fits the pseudo-header field.
    let pseudo = pseudo_header(
        ip.source(),
        ip.destination(),
        protocol.0,
        (total - header_len) as u16,
    );
    (
        ip_status,
        status(ones_complement_sum(&pseudo, segment) == 0xffff),
    )
}

#[cfg(test)]
mod tests;
