//! Golden model of the NIC's TX path (`docs/tx-path.md`): what the NIC does
//! with each frame a host function hands it.
//!
//! [`TxModel`] holds a validated [`NicConfig`] and the state the hardware
//! keeps: the outer IPv4 identification counter, the per-function counters
//! and the event queue. [`TxModel::transmit`] takes one frame through the
//! spec's decisions in order (runt, spoofed, MTU, pass-through, no VNI,
//! outer destination) and returns what goes to the wire, built with
//! [`crate::vxlan::encapsulate`], or why the frame was dropped;
//! [`TxModel::transmit_with`] does the same with the frame's offload
//! request (`docs/tx-offload.md`: refused requests after spoofed, the MTU
//! per TSO segment, checksums filled in or segments made with
//! [`crate::offload::apply`] before encapsulation).
//! [`flow_hash`] and [`udp_src_port`] are the spec's outer UDP source port,
//! byte for byte.
//!
//! ```
//! use overlay_nic_driver::nic_config::{BuildLimits, NicConfig};
//! use overlay_nic_driver::tx::{Function, NicEvent, TxDrop, TxModel, TxOutcome};
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
//! let mut nic = TxModel::new(config, BuildLimits::default(), 16)?;
//!
//! // VF0 sends a 60-byte frame to a MAC in the mapping table.
//! let mut frame = vec![0x02, 0, 0, 0, 0x02, 0x00, 0x02, 0, 0, 0, 0x01, 0x00, 0x88, 0xb5];
//! frame.resize(60, 0);
//! let TxOutcome::Wire(outer) = nic.transmit(Function::Vf(0), &frame, None)? else {
//!     panic!("dropped");
//! };
//! assert_eq!(outer.len(), 50 + 60);
//! assert_eq!(&outer[0..6], &[0x02, 0, 0x0a, 0, 0, 0x02]); // the remote VTEP's MAC
//! assert_eq!(&outer[30..34], &[10, 0, 0, 2]); // ... and IP
//! assert_eq!(&outer[50..], &frame[..]);
//!
//! // A frame with a source MAC that is not VF0's is dropped.
//! frame[11] = 0x99;
//! assert_eq!(nic.transmit(Function::Vf(0), &frame, None)?, TxOutcome::Dropped(TxDrop::Spoofed));
//!
//! // A unicast miss is flooded to the group and reported once.
//! frame[11] = 0x00;
//! frame[5] = 0x77;
//! nic.transmit(Function::Vf(0), &frame, None)?;
//! let c = nic.counters(Function::Vf(0));
//! assert_eq!((c.frames, c.encapsulated, c.drop_spoofed, c.misses), (3, 2, 1, 1));
//! assert!(matches!(nic.pop_event(), Some(NicEvent::TxMiss { .. })));
//! assert_eq!(nic.pop_event(), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

use std::fmt;
use std::net::Ipv4Addr;

use etherparse::Ethernet2HeaderSlice;

use crate::events::EventQueueModel;
use crate::nic_config::{BuildLimits, ConfigError, MacAddr, MissPolicy, NicConfig};
use crate::offload::{self, OffloadDrop, OffloadRequest, TsoLayout};
use crate::vxlan::{encapsulate, EncapError, EncapParams, OuterVlan, Vni};

/// A host function of the NIC: the PF (function 0) or VF i (function 1 + i).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    /// The physical function.
    Pf,
    /// Virtual function i (VF0 is the first `[[vf]]`).
    Vf(usize),
}

impl Function {
    /// The function number: 0 for the PF, 1 + i for VF i (saturating).
    pub const fn index(self) -> usize {
        match self {
            Function::Pf => 0,
            Function::Vf(i) => i.saturating_add(1),
        }
    }

    /// The function numbered `index` (0 the PF, 1 + i VF i).
    pub const fn from_index(index: usize) -> Function {
        match index {
            0 => Function::Pf,
            i => Function::Vf(i - 1),
        }
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Function::Pf => f.write_str("PF"),
            Function::Vf(i) => write!(f, "VF{i}"),
        }
    }
}

/// Why the TX path dropped a frame: one per `TX_DROP_*` counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxDrop {
    /// Shorter than an Ethernet header (14 bytes).
    Runt,
    /// A VF frame whose source MAC is not the VF's.
    Spoofed,
    /// Longer than the function's MTU (after its L2 header) or than
    /// `MAX_FRAME`.
    Mtu,
    /// To be encapsulated with a VNI that has no per-VNI record.
    NoVni,
    /// A mapping-table miss in a VNI with the `drop` policy.
    Miss,
    /// An offload request the NIC cannot honour (`docs/tx-offload.md`,
    /// "Refused requests"): judged after `Runt` and `Spoofed`, before `Mtu`.
    Offload(OffloadDrop),
}

/// What became of one frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxOutcome {
    /// This frame went to the wire: the encapsulated frame, or the host's
    /// frame unchanged. No FCS.
    Wire(Vec<u8>),
    /// A TSO frame's segments, in order, each as it went to the wire
    /// (encapsulated or not, like a `Wire` frame).
    Segments(Vec<Vec<u8>>),
    /// The frame was dropped.
    Dropped(TxDrop),
}

impl TxOutcome {
    /// The frame sent to the wire, if any.
    pub fn wire(&self) -> Option<&[u8]> {
        match self {
            TxOutcome::Wire(f) => Some(f),
            TxOutcome::Segments(_) | TxOutcome::Dropped(_) => None,
        }
    }

    /// Every frame that went to the wire, in order: one for `Wire`, the
    /// segments for `Segments`, none when dropped.
    pub fn frames(&self) -> Vec<&[u8]> {
        match self {
            TxOutcome::Wire(f) => vec![f.as_slice()],
            TxOutcome::Segments(v) => v.iter().map(Vec::as_slice).collect(),
            TxOutcome::Dropped(_) => Vec::new(),
        }
    }

    /// Why the frame was dropped, if it was.
    pub fn dropped(&self) -> Option<TxDrop> {
        match self {
            TxOutcome::Wire(_) | TxOutcome::Segments(_) => None,
            TxOutcome::Dropped(d) => Some(*d),
        }
    }
}

/// One function's TX counters: the registers `TX_FRAMES` .. `TX_MISSES`,
/// 32 bits, wrapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FunctionCounters {
    /// Frames the function handed the NIC, dropped or not.
    pub frames: u32,
    /// Bytes of those frames.
    pub bytes: u32,
    /// Frames sent to the wire encapsulated (every TSO segment).
    pub encapsulated: u32,
    /// Dropped: runt.
    pub drop_runt: u32,
    /// Dropped: spoofed source MAC.
    pub drop_spoofed: u32,
    /// Dropped: over the MTU or `MAX_FRAME`.
    pub drop_mtu: u32,
    /// Dropped: VNI without a record.
    pub drop_no_vni: u32,
    /// Dropped: miss with the `drop` policy.
    pub drop_miss: u32,
    /// Mapping-table misses, whatever the policy.
    pub misses: u32,
    /// Dropped: refused checksum request (`TX_DROP_OFFLOAD_CSUM`).
    pub drop_offload_csum: u32,
    /// Dropped: refused IPv4 header checksum request (`TX_DROP_OFFLOAD_IP`).
    pub drop_offload_ip: u32,
    /// Dropped: refused TSO request (`TX_DROP_OFFLOAD_TSO`).
    pub drop_offload_tso: u32,
    /// Segments TSO produced (`TX_TSO_SEGMENTS`).
    pub tso_segments: u32,
}

impl FunctionCounters {
    /// All zero, as after reset.
    pub const ZERO: FunctionCounters = FunctionCounters {
        frames: 0,
        bytes: 0,
        encapsulated: 0,
        drop_runt: 0,
        drop_spoofed: 0,
        drop_mtu: 0,
        drop_no_vni: 0,
        drop_miss: 0,
        misses: 0,
        drop_offload_csum: 0,
        drop_offload_ip: 0,
        drop_offload_tso: 0,
        tso_segments: 0,
    };

    /// The counter of drops for `reason`.
    pub fn drops(&self, reason: TxDrop) -> u32 {
        match reason {
            TxDrop::Runt => self.drop_runt,
            TxDrop::Spoofed => self.drop_spoofed,
            TxDrop::Mtu => self.drop_mtu,
            TxDrop::NoVni => self.drop_no_vni,
            TxDrop::Miss => self.drop_miss,
            TxDrop::Offload(OffloadDrop::Csum) => self.drop_offload_csum,
            TxDrop::Offload(OffloadDrop::Ip) => self.drop_offload_ip,
            TxDrop::Offload(OffloadDrop::Tso) => self.drop_offload_tso,
        }
    }

    fn count_drop(&mut self, reason: TxDrop) {
        let c = match reason {
            TxDrop::Runt => &mut self.drop_runt,
            TxDrop::Spoofed => &mut self.drop_spoofed,
            TxDrop::Mtu => &mut self.drop_mtu,
            TxDrop::NoVni => &mut self.drop_no_vni,
            TxDrop::Miss => &mut self.drop_miss,
            TxDrop::Offload(OffloadDrop::Csum) => &mut self.drop_offload_csum,
            TxDrop::Offload(OffloadDrop::Ip) => &mut self.drop_offload_ip,
            TxDrop::Offload(OffloadDrop::Tso) => &mut self.drop_offload_tso,
        };
        *c = c.wrapping_add(1);
    }
}

/// A record of the event queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NicEvent {
    /// Type 1: a TX mapping-table miss on (VNI, inner destination MAC).
    TxMiss {
        /// The frame's VNI.
        vni: Vni,
        /// The frame's inner destination MAC.
        mac: MacAddr,
    },
    /// Type 2: an RX overlay frame from an unknown or moved source
    /// (`docs/rx-path.md` section 3).
    Learn {
        /// The frame's VNI.
        vni: Vni,
        /// The inner source MAC.
        mac: MacAddr,
        /// The outer source IP: the VTEP the source is behind.
        vtep_ip: Ipv4Addr,
        /// The outer source MAC.
        vtep_mac: MacAddr,
    },
}

/// A misuse of the model (not a property of the frame: frames are dropped,
/// never refused).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// A VF that the configuration or the build does not have.
    #[error("{function} does not exist: {vfs} VFs configured, {build_vfs} in the build")]
    NoSuchFunction {
        /// The function given.
        function: Function,
        /// VFs in the configuration.
        vfs: usize,
        /// VFs in the build.
        build_vfs: usize,
    },
    /// The configuration, changed through [`TxModel::config_mut`], can no
    /// longer build outer headers (see [`crate::nic_config::VtepConfig::validate`]).
    #[error("the VTEP configuration is invalid: {0}")]
    Config(#[from] ConfigError),
    /// Encapsulation failed. Unreachable with a valid VTEP configuration and
    /// build limits; kept rather than a panic.
    #[error(transparent)]
    Encap(#[from] EncapError),
    /// The offload refused a request the decision had accepted: a bug in
    /// the model, kept rather than a panic.
    #[error("the offload refused a request the TX decision accepted")]
    Offload,
}

/// The golden model of the TX path: configuration plus hardware state.
#[derive(Clone, Debug)]
pub struct TxModel {
    config: NicConfig,
    limits: BuildLimits,
    /// Indexed by function number; grown when a function first sends.
    counters: Vec<FunctionCounters>,
    events: EventQueueModel,
    ip_id: u16,
}

/// Where an encapsulated frame goes (spec step 6).
struct OuterDst {
    ip: Ipv4Addr,
    mac: MacAddr,
}

/// The decision for one frame, before any state changes.
enum Decision {
    Drop(TxDrop),
    Pass,
    Encap { vni: Vni, dst: OuterDst },
}

impl TxModel {
    /// A NIC as after reset (counters, IP identification and event queue
    /// empty) with `config`, which must be valid for `limits`. The event
    /// queue holds `event_capacity` events (the build's depth, 16 by
    /// default).
    pub fn new(
        config: NicConfig,
        limits: BuildLimits,
        event_capacity: usize,
    ) -> Result<TxModel, ConfigError> {
        config.validate(&limits)?;
        Ok(TxModel {
            config,
            limits,
            counters: Vec::new(),
            events: EventQueueModel::new(event_capacity),
            ip_id: 0,
        })
    }

    /// Takes one frame from `function` through the TX path.
    ///
    /// `pf_tag` is the PF's sideband tag: `Some(vni)` asks for encapsulation
    /// with `vni`, `None` sends the frame untouched. VFs ignore it (their VNI
    /// is configuration).
    ///
    /// Any frame, of any length and content, gives a [`TxOutcome`]; an
    /// error means the model was misused: a VF the configuration or build
    /// does not have, or a VTEP configuration made invalid through
    /// [`TxModel::config_mut`]. Nothing is counted then.
    pub fn transmit(
        &mut self,
        function: Function,
        frame: &[u8],
        pf_tag: Option<Vni>,
    ) -> Result<TxOutcome, TxError> {
        self.transmit_with(function, frame, pf_tag, &OffloadRequest::default())
    }

    /// [`TxModel::transmit`] with the frame's offload request
    /// (`docs/tx-offload.md`): checksums filled in, or TSO segments made,
    /// before the frame (each segment) is encapsulated. A TSO frame is
    /// classified once, on the host's frame, with the MTU applied to its
    /// longest segment; its segments then each take the next outer IPv4
    /// identification. A refused request drops the frame
    /// ([`TxDrop::Offload`]) and raises no miss event.
    pub fn transmit_with(
        &mut self,
        function: Function,
        frame: &[u8],
        pf_tag: Option<Vni>,
        req: &OffloadRequest,
    ) -> Result<TxOutcome, TxError> {
        let (own_mac, mtu, vni) = match function {
            Function::Pf => (None, self.config.pf.mtu, pf_tag),
            Function::Vf(i) => match self.config.vfs.get(i) {
                Some(vf) if i < self.limits.vfs => (Some(vf.mac), vf.mtu, vf.vni),
                _ => {
                    return Err(TxError::NoSuchFunction {
                        function,
                        vfs: self.config.vfs.len(),
                        build_vfs: self.limits.vfs,
                    })
                }
            },
        };
        self.config.vtep.validate()?;

        let (decision, missed) = self.decide(frame, own_mac, mtu, vni, req);
        let index = function.index();
        if self.counters.len() <= index {
            self.counters.resize(index + 1, FunctionCounters::ZERO);
        }
        let (outcome, encapsulated, segments) = match decision {
            Decision::Drop(reason) => (TxOutcome::Dropped(reason), 0, 0),
            Decision::Pass | Decision::Encap { .. } => {
                // `decide` has checked the request: `apply` cannot refuse.
                let inner = offload::apply(frame, req).map_err(|_| TxError::Offload)?;
                let mut wire = Vec::with_capacity(inner.len());
                for f in inner {
                    wire.push(match &decision {
                        Decision::Encap { vni, dst } => {
                            let outer = encapsulate(&f, &self.encap_params(*vni, dst, frame)?)?;
                            self.ip_id = self.ip_id.wrapping_add(1);
                            outer
                        }
                        _ => f,
                    });
                }
                let n = wire.len() as u32;
                let encapsulated = if matches!(decision, Decision::Encap { .. }) {
                    n
                } else {
                    0
                };
                if req.tso {
                    (TxOutcome::Segments(wire), encapsulated, n)
                } else {
                    (
                        TxOutcome::Wire(wire.pop().unwrap_or_default()),
                        encapsulated,
                        0,
                    )
                }
            }
        };

        let c = &mut self.counters[index];
        c.frames = c.frames.wrapping_add(1);
        // TX_BYTES is a 32-bit register: it adds the length modulo 2^32.
        c.bytes = c.bytes.wrapping_add(frame.len() as u32);
        if missed {
            c.misses = c.misses.wrapping_add(1);
        }
        if let TxOutcome::Dropped(reason) = outcome {
            c.count_drop(reason);
        }
        c.encapsulated = c.encapsulated.wrapping_add(encapsulated);
        c.tso_segments = c.tso_segments.wrapping_add(segments);
        // A miss raises an event whatever the policy, `drop` included: that
        // is how the host learns what to program. (Frames dropped before the
        // lookup never miss.)
        if let (true, Some(vni)) = (missed, vni) {
            let mac = MacAddr(dst_mac(frame));
            self.events.raise(NicEvent::TxMiss { vni, mac });
        }
        Ok(outcome)
    }

    /// Spec steps 1-6: what happens to the frame, and whether the mapping
    /// table missed. Changes nothing.
    fn decide(
        &self,
        frame: &[u8],
        own_mac: Option<MacAddr>,
        mtu: u32,
        vni: Option<Vni>,
        req: &OffloadRequest,
    ) -> (Decision, bool) {
        // 1. Runt: no complete Ethernet header.
        let Ok(eth) = Ethernet2HeaderSlice::from_slice(frame) else {
            return (Decision::Drop(TxDrop::Runt), false);
        };
        // 2. Anti-spoofing, VFs only.
        if own_mac.is_some_and(|mac| mac.octets() != eth.source()) {
            return (Decision::Drop(TxDrop::Spoofed), false);
        }
        // Refused offload requests (docs/tx-offload.md).
        let tso = if req.tso {
            match TsoLayout::of(frame, req.mss) {
                Ok(layout) => Some(layout),
                Err(reason) => return (Decision::Drop(TxDrop::Offload(reason)), false),
            }
        } else {
            if let Err(reason) = offload::segment_count(frame, req) {
                return (Decision::Drop(TxDrop::Offload(reason)), false);
            }
            None
        };
        // 3. MTU: the L3 length after one optional 802.1Q tag (of the
        // longest segment for TSO), and MAX_FRAME.
        let l2_len = if frame.len() >= 18 && frame[12..14] == [0x81, 0x00] {
            18
        } else {
            14
        };
        let l3_len = match &tso {
            Some(layout) => layout.max_segment_l3_len() as u64,
            None => (frame.len() - l2_len) as u64,
        };
        if l3_len > u64::from(mtu) || frame.len() > self.limits.max_frame {
            return (Decision::Drop(TxDrop::Mtu), false);
        }
        // 4. Not to be encapsulated: to the wire unchanged.
        let Some(vni) = vni else {
            return (Decision::Pass, false);
        };
        // 5. The VNI's record.
        let Some(record) = self.config.vni_record(vni) else {
            return (Decision::Drop(TxDrop::NoVni), false);
        };
        // 6. Outer destination.
        let group = OuterDst {
            ip: record.multicast_group,
            mac: multicast_mac(record.multicast_group),
        };
        let inner_dst = MacAddr(eth.destination());
        let (unicast, missed) = if inner_dst.is_multicast() {
            (None, false)
        } else if let Some(entry) = self.config.lookup(vni, inner_dst) {
            (Some((entry.vtep_ip, entry.vtep_mac)), false)
        } else {
            match record.miss_policy {
                MissPolicy::Flood => (None, true),
                MissPolicy::Gateway => (Some((record.gateway_ip, record.gateway_mac)), true),
                MissPolicy::Drop => return (Decision::Drop(TxDrop::Miss), true),
            }
        };
        let dst = match unicast {
            None => group,
            Some((ip, mac)) => {
                let vtep = &self.config.vtep;
                let off_subnet = (u32::from(ip) ^ u32::from(vtep.ip)) & u32::from(vtep.netmask);
                OuterDst {
                    ip,
                    mac: if off_subnet != 0 {
                        vtep.gateway_mac
                    } else {
                        mac
                    },
                }
            }
        };
        (Decision::Encap { vni, dst }, missed)
    }

    fn encap_params(&self, vni: Vni, dst: &OuterDst, frame: &[u8]) -> Result<EncapParams, TxError> {
        let vtep = &self.config.vtep;
        let range = vtep.src_port_range;
        Ok(EncapParams {
            local_mac: vtep.mac.octets(),
            remote_mac: dst.mac.octets(),
            local_ip: vtep.ip,
            remote_ip: dst.ip,
            vni,
            udp_src_port: udp_src_port(flow_hash(frame), range.lo, range.hi),
            udp_dst_port: vtep.udp_port,
            ttl: vtep.ttl,
            dont_fragment: vtep.dont_fragment,
            identification: self.ip_id,
            vlan: match vtep.vlan {
                Some(tag) => Some(OuterVlan::new(tag.vid, tag.pcp)?),
                None => None,
            },
            udp_checksum: vtep.udp_checksum,
        })
    }

    /// The counters of `function`; all zero for a function that has sent
    /// nothing (or that the NIC does not have).
    pub fn counters(&self, function: Function) -> &FunctionCounters {
        self.counters
            .get(function.index())
            .unwrap_or(&FunctionCounters::ZERO)
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

    /// The outer IPv4 identification the next encapsulated frame gets.
    pub fn next_ip_id(&self) -> u16 {
        self.ip_id
    }

    /// The configuration.
    pub fn config(&self) -> &NicConfig {
        &self.config
    }

    /// The configuration, to change between frames (as the driver rewrites
    /// registers and tables). It is not validated again: an inconsistent
    /// configuration behaves as the hardware would (e.g. a VF whose VNI has
    /// lost its record drops its frames as `no_vni`; with duplicate table
    /// keys the first entry wins), except that a VTEP configuration that
    /// cannot build outer headers makes [`TxModel::transmit`] fail.
    pub fn config_mut(&mut self) -> &mut NicConfig {
        &mut self.config
    }

    /// The build limits the model was made with.
    pub fn limits(&self) -> &BuildLimits {
        &self.limits
    }
}

/// The inner destination MAC: bytes 0-5 (zero-filled past the end).
fn dst_mac(frame: &[u8]) -> [u8; 6] {
    let mut mac = [0; 6];
    for (m, b) in mac.iter_mut().zip(frame) {
        *m = *b;
    }
    mac
}

/// The MAC an IPv4 multicast group maps to: `01:00:5e` and the group's low
/// 23 bits (RFC 1112).
pub fn multicast_mac(group: Ipv4Addr) -> MacAddr {
    let g = group.octets();
    MacAddr([0x01, 0x00, 0x5e, g[1] & 0x7f, g[2], g[3]])
}

/// The 16-bit big-endian word at `at`, or `None` past the end.
fn word(frame: &[u8], at: usize) -> Option<u16> {
    let bytes = frame.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([bytes[0], bytes[1]]))
}

/// The spec's 16-bit flow hash of an inner frame (`docs/tx-path.md`, "UDP
/// source port"): the XOR of seven big-endian words, word `i` rotated left
/// by `3 * i mod 16` bits.
///
/// The words are the IPv4 addresses, protocol and (for unfragmented TCP and
/// UDP) ports of an IPv4 frame, after at most one 802.1Q tag; for any other
/// frame the MAC addresses and the ethertype. The fields are read at fixed
/// offsets and only the checks the spec lists are made (not etherparse's
/// stricter ones), so that truncated and odd frames hash exactly as the
/// hardware's parser sees them.
///
/// The spec only hashes frames of at least 14 bytes; for shorter ones the
/// missing bytes of the MACs and ethertype are taken as 0.
pub fn flow_hash(frame: &[u8]) -> u16 {
    let at = |i: usize| frame.get(i).copied().unwrap_or(0);
    let w16 = |i: usize| u16::from_be_bytes([at(i), at(i + 1)]);
    let mut ether_type = w16(12);
    let mut l3 = 14;
    if ether_type == 0x8100 && frame.len() >= 18 {
        ether_type = w16(16);
        l3 = 18;
    }
    let words = match ipv4_words(frame, ether_type, l3) {
        Some(words) => words,
        None => [w16(0), w16(2), w16(4), w16(6), w16(8), w16(10), ether_type],
    };
    words
        .iter()
        .enumerate()
        .fold(0, |h, (i, w)| h ^ w.rotate_left((3 * i as u32) % 16))
}

/// The IPv4 words of the flow hash, or `None` when the frame is not an IPv4
/// flow by the spec's rules.
fn ipv4_words(frame: &[u8], ether_type: u16, l3: usize) -> Option<[u16; 7]> {
    if ether_type != 0x0800 || frame.len() < l3 + 20 {
        return None;
    }
    let version_ihl = frame[l3];
    let ihl = usize::from(version_ihl & 0x0f);
    if version_ihl >> 4 != 4 || ihl < 5 {
        return None;
    }
    let proto = frame[l3 + 9];
    let fragment = word(frame, l3 + 6)? & 0x3fff != 0;
    let l4 = l3 + 4 * ihl;
    let (sport, dport) = match (fragment, proto) {
        (false, 6 | 17) => match (word(frame, l4), word(frame, l4 + 2)) {
            (Some(s), Some(d)) => (s, d),
            _ => (0, 0),
        },
        _ => (0, 0),
    };
    Some([
        word(frame, l3 + 12)?,
        word(frame, l3 + 14)?,
        word(frame, l3 + 16)?,
        word(frame, l3 + 18)?,
        u16::from(proto),
        sport,
        dport,
    ])
}

/// The spec's folding of a flow hash into the source-port range `[lo, hi]`:
/// `lo + ((h * (hi - lo) + h) >> 16)` in 32-bit arithmetic (Linux's
/// `udp_flow_src_port` scaling), always within `[lo, hi]` when `lo <= hi`.
///
/// For `lo > hi` (which [`crate::nic_config::NicConfig::validate`] refuses)
/// the 32-bit arithmetic wraps and the result is truncated to 16 bits; it
/// never panics.
pub fn udp_src_port(hash: u16, lo: u16, hi: u16) -> u16 {
    let h = u32::from(hash);
    let span = u32::from(hi).wrapping_sub(u32::from(lo));
    let offset = h.wrapping_mul(span).wrapping_add(h) >> 16;
    u32::from(lo).wrapping_add(offset) as u16
}

#[cfg(test)]
mod tests;
