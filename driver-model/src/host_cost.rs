//! The host's work per packet to send a VM's frame into a VXLAN overlay,
//! with the NIC's offload and without (seed \[0002\], \[0049\]): the two
//! per-packet paths the `host-cost` benchmark times (`docs/host-cost.md`).
//!
//! - [`offload_path`]: what the hypervisor does when the NIC encapsulates:
//!   hand the VM's frame to the NIC (the PF) tagged with the VM's VNI. The
//!   buffer is moved, not copied, as a driver posts the VM's buffer in a
//!   descriptor. The `CHECKSUM_PARTIAL` set-up Linux does for the frame
//!   anyway is not overlay work, so the frame's offload request is left
//!   default.
//! - [`software_path`]: what a VTEP in software does itself (a stack with
//!   no offload): the mapping-table lookup (a [`HashMap`] keyed like the
//!   NIC's table: VNI and inner destination MAC to the remote VTEP), the
//!   outer UDP source port from the flow hash ([`flow_hash`],
//!   [`udp_src_port`]), the inner TCP checksum ([`offload::apply`] on the
//!   frame [`offload::prepare_checksum_partial`] seeded) and the 50-byte
//!   encapsulation with its outer IPv4 header checksum
//!   ([`crate::vxlan::encapsulate`], the golden model).
//!
//! Both produce the same wire frame in the end: the software path's output
//! is what [`crate::tx::TxModel::transmit_with`] makes of the frame with
//! its checksum request (tested below). What both paths share (the
//! descriptor, the doorbell, the DMA) is left out of both.
//!
//! [`HostCostSetup`] holds the VTEP configuration, a 64-entry mapping table
//! over 4 VNIs and [`FLOWS`] TCP/IPv4 frames of one size, each to a
//! different table entry; a quarter of the entries are off the VTEP's
//! subnet, so their outer destination MAC is the gateway's.
//!
//! ```
//! use overlay_nic_driver::host_cost::{offload_path, software_path, HostCostSetup};
//!
//! let setup = HostCostSetup::new(512)?;
//! let frame = &setup.frames()[0];
//! let wire = software_path(&setup, frame)?;
//! assert_eq!(wire.len(), 50 + 512);
//! let host = offload_path(&setup, frame.clone());
//! assert_eq!(host.tag, Some(frame.vni));
//! # Ok::<(), overlay_nic_driver::host_cost::HostCostError>(())
//! ```

#![warn(missing_docs)]

use std::cell::Cell;
use std::collections::HashMap;
use std::net::Ipv4Addr;

use etherparse::PacketBuilder;

use crate::device::HostFrame;
use crate::nic_config::{
    BuildLimits, ConfigError, MacAddr, MapEntry, NicConfig, VniRecord, VtepConfig, MAX_L2_HEADER,
};
use crate::offload::{self, OffloadDrop, OffloadRequest};
use crate::tx::{flow_hash, udp_src_port, Function};
use crate::vxlan::{encapsulate, EncapError, EncapParams, OuterVlan, Vni};

/// The inner frame sizes the benchmark reports by default, in bytes (whole
/// Ethernet frames, no FCS).
pub const FRAME_SIZES: [usize; 4] = [64, 512, 1500, 9000];

/// Mapping-table entries in the setup (the default build's table size).
pub const TABLE_ENTRIES: usize = 64;

/// VNIs the table's entries are spread over ([`TABLE_ENTRIES`] / `VNIS`
/// each).
pub const VNIS: usize = 4;

/// The first VNI; the others follow it.
pub const FIRST_VNI: u32 = 5000;

/// Frames (flows) per setup, each to a different table entry; the
/// benchmark sends them round robin.
pub const FLOWS: usize = 16;

/// The shortest frame the setup builds: Ethernet (14) + IPv4 (20) + TCP
/// (20) headers and no payload.
pub const MIN_FRAME: usize = 54;

/// The function the hypervisor sends overlay traffic from.
pub const HOST_FUNCTION: Function = Function::Pf;

/// Why the setup could not be built or a frame could not take a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostCostError {
    /// A frame size the setup cannot build a TCP/IPv4 frame of, or longer
    /// than the PF's MTU allows ([`max_frame_len`]).
    #[error("frame size {size} is outside {min}..={max} bytes")]
    FrameSize {
        /// The size asked for.
        size: usize,
        /// The shortest TCP/IPv4 frame.
        min: usize,
        /// The longest frame ([`max_frame_len`]).
        max: usize,
    },
    /// etherparse could not build a frame (not expected for a size in
    /// range; kept rather than a panic).
    #[error("building the frame: {0}")]
    Build(String),
    /// The frame cannot carry a `CHECKSUM_PARTIAL` request (not TCP or UDP
    /// over IPv4, or padded).
    #[error("the frame cannot carry a CHECKSUM_PARTIAL request")]
    NotChecksummable,
    /// The configuration the setup built is not valid for the build.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The frame is shorter than an Ethernet header.
    #[error("frame of {len} bytes is shorter than an Ethernet header")]
    Runt {
        /// The frame's length.
        len: usize,
    },
    /// The inner destination is not in the mapping table (a software VTEP
    /// would flood it; the benchmark's frames all hit).
    #[error("no mapping-table entry for {mac} in VNI {vni}")]
    Miss {
        /// The frame's VNI.
        vni: Vni,
        /// The inner destination MAC.
        mac: MacAddr,
    },
    /// The checksum request was refused.
    #[error("checksum request refused: {0}")]
    Offload(#[from] OffloadDrop),
    /// Encapsulation failed.
    #[error(transparent)]
    Encap(#[from] EncapError),
}

/// Where a mapping-table entry sends a frame: the remote VTEP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Remote {
    /// The remote VTEP's IPv4 address.
    pub ip: Ipv4Addr,
    /// The remote VTEP's MAC (the outer destination when it is on the local
    /// VTEP subnet).
    pub mac: MacAddr,
}

/// One frame a VM sent, as the hypervisor holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmFrame {
    /// The VM's segment (a property of its port).
    pub vni: Vni,
    /// The frame, its TCP checksum field seeded with the pseudo-header sum
    /// (`CHECKSUM_PARTIAL`, as Linux leaves it).
    pub data: Vec<u8>,
    /// The checksum request that completes the TCP checksum.
    pub csum: OffloadRequest,
}

/// The VTEP, its mapping table and the frames the benchmark sends.
///
/// The table is both a [`NicConfig`] (what the NIC is programmed with, and
/// what [`crate::tx::TxModel`] checks the software path against) and a
/// [`HashMap`] with the same keys (what the software path looks up).
#[derive(Debug)]
pub struct HostCostSetup {
    config: NicConfig,
    limits: BuildLimits,
    table: HashMap<(Vni, MacAddr), Remote>,
    /// The outer headers' fixed fields, from the VTEP configuration.
    template: EncapParams,
    frames: Vec<VmFrame>,
    frame_len: usize,
    /// The software VTEP's outer IPv4 identification counter.
    ip_id: Cell<u16>,
}

/// The PF's MTU in the setup: the largest `limits` allows (`MAX_FRAME`
/// less the longest L2 header).
fn pf_mtu(limits: &BuildLimits) -> u32 {
    u32::try_from(limits.max_frame)
        .unwrap_or(u32::MAX)
        .saturating_sub(MAX_L2_HEADER)
        .max(1)
}

/// The longest frame a setup for `limits` builds: an untagged frame whose
/// L3 length is the PF's MTU (16380 bytes for the default build).
pub fn max_frame_len(limits: &BuildLimits) -> usize {
    (pf_mtu(limits) as usize).saturating_add(14)
}

/// The VM's (source) MAC.
const VM_MAC: [u8; 6] = [0x02, 0, 0, 0, 0xff, 0x01];

/// The inner destination MAC of entry `j` of VNI `v` (by index).
fn entry_mac(v: usize, j: usize) -> MacAddr {
    MacAddr([0x02, 0, 0, 0, v as u8, j as u8])
}

impl HostCostSetup {
    /// A setup whose frames are `frame_len`-byte TCP/IPv4 frames, for the
    /// default build ([`BuildLimits::default`]).
    pub fn new(frame_len: usize) -> Result<HostCostSetup, HostCostError> {
        HostCostSetup::with_limits(frame_len, BuildLimits::default())
    }

    /// A setup for a build with `limits`: it needs [`TABLE_ENTRIES`] table
    /// entries and [`VNIS`] VNI records, and `frame_len` within
    /// [`MIN_FRAME`]`..=`[`max_frame_len`]`(limits)`. The PF's MTU is the
    /// largest the build allows.
    pub fn with_limits(
        frame_len: usize,
        limits: BuildLimits,
    ) -> Result<HostCostSetup, HostCostError> {
        let max = max_frame_len(&limits);
        if !(MIN_FRAME..=max).contains(&frame_len) {
            return Err(HostCostError::FrameSize {
                size: frame_len,
                min: MIN_FRAME,
                max,
            });
        }
        let vtep = VtepConfig::new(
            MacAddr([0x02, 0, 0x0a, 0, 0, 0x01]),
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(255, 255, 255, 0),
            MacAddr([0x02, 0, 0x0a, 0, 0, 0xfe]),
        );
        let mut config = NicConfig::new(vtep);
        config.pf.mtu = pf_mtu(&limits);
        let per_vni = TABLE_ENTRIES / VNIS;
        for v in 0..VNIS {
            let vni = Vni::new(FIRST_VNI + v as u32).map_err(EncapError::from)?;
            config.vnis.push(VniRecord {
                vni,
                multicast_group: Ipv4Addr::new(239, 1, 1, v as u8),
                gateway_ip: Ipv4Addr::new(10, 0, 2, v as u8 + 1),
                gateway_mac: MacAddr([0x02, 0, 0x0a, 0, 2, v as u8]),
                miss_policy: Default::default(),
            });
            for j in 0..per_vni {
                let n = (v * per_vni + j) as u8;
                // Every fourth remote VTEP is off the local subnet.
                let vtep_ip = if j % 4 == 3 {
                    Ipv4Addr::new(10, 0, 1, n + 1)
                } else {
                    Ipv4Addr::new(10, 0, 0, n + 2)
                };
                config.entries.push(MapEntry {
                    vni,
                    mac: entry_mac(v, j),
                    vtep_ip,
                    vtep_mac: MacAddr([0x02, 0, 0x0a, 0, 1, n]),
                });
            }
        }
        config.validate(&limits)?;

        let table = config
            .entries
            .iter()
            .map(|e| {
                let remote = Remote {
                    ip: e.vtep_ip,
                    mac: e.vtep_mac,
                };
                ((e.vni, e.mac), remote)
            })
            .collect();
        let v = &config.vtep;
        let template = EncapParams {
            local_mac: v.mac.octets(),
            remote_mac: [0; 6],
            local_ip: v.ip,
            remote_ip: Ipv4Addr::UNSPECIFIED,
            vni: Vni::default(),
            udp_src_port: v.src_port_range.lo,
            udp_dst_port: v.udp_port,
            ttl: v.ttl,
            dont_fragment: v.dont_fragment,
            identification: 0,
            vlan: match v.vlan {
                Some(tag) => Some(OuterVlan::new(tag.vid, tag.pcp)?),
                None => None,
            },
            udp_checksum: v.udp_checksum,
        };

        let frames = (0..FLOWS)
            .map(|k| {
                // 17 is prime to 64: FLOWS different entries, all VNIs.
                let e = (k * 17) % TABLE_ENTRIES;
                let entry = &config.entries[e];
                let (v, j) = (e / per_vni, e % per_vni);
                let mut data = Vec::with_capacity(frame_len);
                PacketBuilder::ethernet2(VM_MAC, entry.mac.octets())
                    .ipv4([192, 168, v as u8, 1], [192, 168, v as u8, j as u8 + 2], 64)
                    .tcp(40000 + k as u16, 80, 1000 * k as u32, 65535)
                    .ack(1)
                    .write(
                        &mut data,
                        &(0..frame_len - MIN_FRAME)
                            .map(|i| i as u8)
                            .collect::<Vec<u8>>(),
                    )
                    .map_err(|e| HostCostError::Build(e.to_string()))?;
                let csum = offload::prepare_checksum_partial(&mut data)
                    .ok_or(HostCostError::NotChecksummable)?;
                Ok(VmFrame {
                    vni: entry.vni,
                    data,
                    csum,
                })
            })
            .collect::<Result<Vec<_>, HostCostError>>()?;

        Ok(HostCostSetup {
            config,
            limits,
            table,
            template,
            frames,
            frame_len,
            ip_id: Cell::new(0),
        })
    }

    /// The NIC configuration the setup stands for (VTEP, PF, VNI records
    /// and mapping table).
    pub fn config(&self) -> &NicConfig {
        &self.config
    }

    /// The build limits the configuration was checked against.
    pub fn limits(&self) -> &BuildLimits {
        &self.limits
    }

    /// The mapping table as the software VTEP holds it.
    pub fn table(&self) -> &HashMap<(Vni, MacAddr), Remote> {
        &self.table
    }

    /// The frames to send: [`FLOWS`] of them, each to a different entry.
    pub fn frames(&self) -> &[VmFrame] {
        &self.frames
    }

    /// The length of every frame, in bytes.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// The outer IPv4 identification the software path's next frame gets.
    pub fn next_ip_id(&self) -> u16 {
        self.ip_id.get()
    }
}

/// The offload path: the frame handed to the NIC tagged with its VNI, its
/// buffer moved (not copied) into the [`HostFrame`]. Cannot fail.
pub fn offload_path(setup: &HostCostSetup, frame: VmFrame) -> HostFrame {
    let _ = setup;
    HostFrame::new(HOST_FUNCTION, frame.data).tagged(frame.vni)
}

/// The software path: the wire frame a VTEP without offload builds for
/// `frame` (lookup, flow hash, inner TCP checksum, encapsulation), each
/// frame taking the next outer IPv4 identification.
///
/// Fails if the frame is a runt, misses the table (the benchmark's frames
/// never do), or its checksum request is refused.
pub fn software_path(setup: &HostCostSetup, frame: &VmFrame) -> Result<Vec<u8>, HostCostError> {
    let data = &frame.data;
    let mut dst = [0; 6];
    dst.copy_from_slice(
        data.get(..6)
            .ok_or(HostCostError::Runt { len: data.len() })?,
    );
    let dst = MacAddr(dst);
    let remote = setup
        .table
        .get(&(frame.vni, dst))
        .ok_or(HostCostError::Miss {
            vni: frame.vni,
            mac: dst,
        })?;
    let vtep = &setup.config.vtep;
    let off_subnet = (u32::from(remote.ip) ^ u32::from(vtep.ip)) & u32::from(vtep.netmask) != 0;
    let next_hop = if off_subnet {
        vtep.gateway_mac
    } else {
        remote.mac
    };
    let range = vtep.src_port_range;
    let src_port = udp_src_port(flow_hash(data), range.lo, range.hi);
    let inner = offload::apply(data, &frame.csum)?
        .pop()
        .ok_or(HostCostError::Offload(OffloadDrop::Csum))?;
    let id = setup.ip_id.get();
    let params = EncapParams {
        remote_mac: next_hop.octets(),
        remote_ip: remote.ip,
        vni: frame.vni,
        udp_src_port: src_port,
        identification: id,
        ..setup.template
    };
    let wire = encapsulate(&inner, &params)?;
    setup.ip_id.set(id.wrapping_add(1));
    Ok(wire)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx::{TxModel, TxOutcome};
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    #[test]
    fn software_path_is_the_tx_model_with_a_checksum_request() {
        for size in
            FRAME_SIZES
                .into_iter()
                .chain([MIN_FRAME, 65, max_frame_len(&BuildLimits::default())])
        {
            let setup = HostCostSetup::new(size).unwrap();
            let mut nic = TxModel::new(setup.config().clone(), *setup.limits(), 16).unwrap();
            // Twice round, so the identification counters move together.
            for frame in setup.frames().iter().chain(setup.frames()) {
                assert_eq!(frame.data.len(), size);
                let wire = software_path(&setup, frame).unwrap();
                let want = nic
                    .transmit_with(HOST_FUNCTION, &frame.data, Some(frame.vni), &frame.csum)
                    .unwrap();
                assert_eq!(want, TxOutcome::Wire(wire.clone()), "size {size}");
                // The inner TCP checksum is right.
                let p = SlicedPacket::from_ethernet(&wire[50..]).unwrap();
                let (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(tcp))) =
                    (p.net, p.transport)
                else {
                    panic!("not TCP/IPv4");
                };
                let sum = tcp
                    .to_header()
                    .calc_checksum_ipv4(&ip.header().to_header(), tcp.payload())
                    .unwrap();
                assert_eq!(tcp.checksum(), sum);
            }
            assert_eq!(setup.next_ip_id(), 2 * FLOWS as u16);
            assert_eq!(nic.counters(HOST_FUNCTION).misses, 0);
        }
    }

    #[test]
    fn frames_cover_every_vni_and_both_next_hops() {
        let setup = HostCostSetup::new(64).unwrap();
        assert_eq!(setup.table().len(), TABLE_ENTRIES);
        let mut vnis: Vec<Vni> = setup.frames().iter().map(|f| f.vni).collect();
        vnis.sort();
        vnis.dedup();
        assert_eq!(vnis.len(), VNIS);
        let gateway = setup.config().vtep.gateway_mac.octets();
        let via_gateway = setup
            .frames()
            .iter()
            .filter(|f| software_path(&setup, f).unwrap()[..6] == gateway)
            .count();
        assert!(via_gateway > 0 && via_gateway < FLOWS, "{via_gateway}");
    }

    #[test]
    fn offload_path_tags_the_frame_with_its_vni() {
        let setup = HostCostSetup::new(1500).unwrap();
        for frame in setup.frames() {
            let host = offload_path(&setup, frame.clone());
            assert_eq!(host.tag, Some(frame.vni));
            assert_eq!(host.function, Function::Pf);
            assert_eq!(host.data, frame.data);
            assert!(host.offload.is_plain());
        }
    }

    #[test]
    fn bad_sizes_and_frames_are_errors() {
        for size in [0, MIN_FRAME - 1, 16381, 16384] {
            assert!(matches!(
                HostCostSetup::new(size),
                Err(HostCostError::FrameSize { .. })
            ));
        }
        let setup = HostCostSetup::new(64).unwrap();
        let mut frame = setup.frames()[0].clone();
        frame.data.truncate(5);
        assert_eq!(
            software_path(&setup, &frame),
            Err(HostCostError::Runt { len: 5 })
        );
        let mut frame = setup.frames()[0].clone();
        frame.data[5] ^= 0x80;
        assert!(matches!(
            software_path(&setup, &frame),
            Err(HostCostError::Miss { .. })
        ));
        let mut frame = setup.frames()[0].clone();
        frame.csum.csum_offset = 60;
        assert_eq!(
            software_path(&setup, &frame),
            Err(HostCostError::Offload(OffloadDrop::Csum))
        );
    }
}
