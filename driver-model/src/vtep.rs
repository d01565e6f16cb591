//! The VTEP software: the hypervisor's VXLAN control plane (seed FIG. 6, 7,
//! 12, 15; \[0055\]-\[0063\], \[0122\]-\[0126\]).
//!
//! It owns the master mapping table and the per-VNI records, turns control
//! events (VTEP created, VM joins, leaves, migrates, a remote VTEP learned
//! from ingress or from an ARP reply) into table changes, and pushes every
//! change to the NIC through the PF driver's callbacks ([`OverlayOffload`]).
//! It drains the NIC's events and feeds them back (claims 8-9): learn
//! events become learned entries, never overwriting static ones.
//!
//! On a NIC without the overlay offload it does the work itself (FIG. 7
//! 720-735): PF frames are encapsulated in software with the golden model
//! and sent untouched; received VXLAN frames are decapsulated in software.
//! The wire sees the same bytes either way.
//!
//! When the NIC's table is full, the entry stays in the master table and
//! PF frames to it are encapsulated in software ("served in software");
//! VF frames to it take the VNI's miss policy in the NIC.

use crate::device::{HostFrame, NicDevice};
use crate::nic_config::{BuildLimits, MacAddr, MapEntry, NicConfig, VniRecord, VtepConfig};
use crate::offload::OffloadRequest;
use crate::pf_driver::{DriverError, OverlayOffload, PfDriver, TableUpdate};
use crate::rx::{RxDelivery, RxModel, RxOutcome};
use crate::tx::{Function, NicEvent, TxModel};
use crate::vxlan::{encapsulate, EncapParams, OuterVlan, Vni};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Where a mapping came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Configured by the control plane (VM placement): never overwritten by
    /// learning.
    Static,
    /// Learned from ingress traffic (a NIC learn event or an ARP reply).
    Learned,
}

/// One entry of the master mapping table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MasterEntry {
    pub entry: MapEntry,
    pub origin: Origin,
    /// The NIC holds it; false when its table was full (served in software).
    pub in_nic: bool,
}

/// How a local VM is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attachment {
    /// Through the hypervisor's virtual switch: its frames leave by the PF,
    /// tagged with its VNI.
    Pf,
    /// Directly to VF i (SR-IOV pass-through).
    Vf(usize),
}

/// A VM on this host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalVm {
    pub mac: MacAddr,
    pub ip: Ipv4Addr,
    pub vni: Vni,
    pub attachment: Attachment,
}

/// Counts of what the control plane did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VtepStats {
    /// Entries learned (new or moved).
    pub learned: u32,
    /// Learn events ignored because a static entry holds the key.
    pub learn_ignored_static: u32,
    /// TX misses the NIC reported.
    pub tx_misses: u32,
    /// Entries the NIC could not take (table full), served in software.
    pub served_in_software: u32,
    /// ARP replies the proxy sent to VF VMs.
    pub arp_proxied: u32,
}

/// Why a control-plane operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VtepError {
    #[error(transparent)]
    Driver(#[from] DriverError),
    #[error("device: {0}")]
    Device(String),
    #[error("VNI {0} is not a segment of this VTEP")]
    NoSegment(u32),
    #[error("VM {0} is not on this host")]
    NoSuchVm(MacAddr),
    #[error("{0}")]
    Config(String),
}

/// The VTEP software over a PF driver.
pub struct VtepSoftware<D: NicDevice> {
    pf: PfDriver<D>,
    offload: bool,
    vtep: VtepConfig,
    segments: BTreeMap<u32, VniRecord>,
    table: BTreeMap<(u32, MacAddr), MasterEntry>,
    vms: BTreeMap<MacAddr, LocalVm>,
    stats: VtepStats,
    /// The software datapath (FIG. 7 720-735): golden TX/RX models over the
    /// master table.
    soft_tx: TxModel,
    soft_rx: RxModel,
}

fn soft_limits() -> BuildLimits {
    BuildLimits {
        vfs: 0,
        table_entries: 1 << 16,
        vni_records: 1 << 16,
        max_frame: 16384,
    }
}

impl<D: NicDevice> VtepSoftware<D> {
    /// "VTEP created": programs the local VTEP into the NIC when it has the
    /// overlay offload, else prepares the software path.
    pub fn new(mut pf: PfDriver<D>, vtep: VtepConfig) -> Result<Self, VtepError> {
        let offload = pf.capabilities().overlay_offload();
        if offload {
            pf.set_vtep(&vtep)?;
        }
        let config = NicConfig::new(vtep.clone());
        let soft_tx = TxModel::new(config.clone(), soft_limits(), 1 << 16)
            .map_err(|e| VtepError::Config(e.to_string()))?;
        let soft_rx = RxModel::new(config, soft_limits(), 1 << 16)
            .map_err(|e| VtepError::Config(e.to_string()))?;
        Ok(VtepSoftware {
            pf,
            offload,
            vtep,
            segments: BTreeMap::new(),
            table: BTreeMap::new(),
            vms: BTreeMap::new(),
            stats: VtepStats::default(),
            soft_tx,
            soft_rx,
        })
    }

    /// Whether the NIC does the encapsulation (else this software does).
    pub fn offloaded(&self) -> bool {
        self.offload
    }

    /// The PF driver.
    pub fn driver(&mut self) -> &mut PfDriver<D> {
        &mut self.pf
    }

    /// What the control plane did so far.
    pub fn stats(&self) -> VtepStats {
        self.stats
    }

    /// The master table's entry for (`vni`, `mac`).
    pub fn entry(&self, vni: Vni, mac: MacAddr) -> Option<&MasterEntry> {
        self.table.get(&(vni.get(), mac))
    }

    /// Every master-table entry.
    pub fn entries(&self) -> impl Iterator<Item = &MasterEntry> {
        self.table.values()
    }

    fn sync_soft(&mut self) {
        for cfg in [self.soft_tx.config_mut(), self.soft_rx.config_mut()] {
            cfg.vnis = self.segments.values().copied().collect();
            cfg.entries = self.table.values().map(|m| m.entry).collect();
        }
    }

    /// A segment (VNI) on this VTEP with its multicast group and gateway.
    pub fn add_segment(&mut self, record: VniRecord) -> Result<(), VtepError> {
        if self.offload {
            self.pf.set_vni_record(&record)?;
        }
        self.segments.insert(record.vni.get(), record);
        self.sync_soft();
        Ok(())
    }

    /// A remote VM's location, configured (static) or learned. A learned
    /// mapping never replaces a static one. Pushed to the NIC; a full NIC
    /// table leaves it served in software.
    pub fn set_remote(&mut self, entry: MapEntry, origin: Origin) -> Result<bool, VtepError> {
        let key = (entry.vni.get(), entry.mac);
        if !self.segments.contains_key(&key.0) {
            return Err(VtepError::NoSegment(key.0));
        }
        if let Some(old) = self.table.get(&key) {
            if old.origin == Origin::Static && origin == Origin::Learned {
                self.stats.learn_ignored_static += 1;
                return Ok(false);
            }
            if old.entry == entry && old.origin == origin {
                return Ok(false);
            }
        }
        let in_nic = self.push(entry)?;
        self.table.insert(
            key,
            MasterEntry {
                entry,
                origin,
                in_nic,
            },
        );
        self.sync_soft();
        Ok(true)
    }

    fn push(&mut self, entry: MapEntry) -> Result<bool, VtepError> {
        if !self.offload {
            return Ok(false);
        }
        match self.pf.vxlan_mapping_table_update(TableUpdate::Add(entry)) {
            Ok(()) => Ok(true),
            Err(DriverError::TableFull { .. }) => {
                self.stats.served_in_software += 1;
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A remote VM is gone (left its segment).
    pub fn remove_remote(&mut self, vni: Vni, mac: MacAddr) -> Result<(), VtepError> {
        if let Some(old) = self.table.remove(&(vni.get(), mac)) {
            if old.in_nic {
                self.pf
                    .vxlan_mapping_table_update(TableUpdate::Delete { vni, mac })?;
            }
        }
        self.sync_soft();
        Ok(())
    }

    /// A VM joins a segment on this host. A VF VM gets its VF configured
    /// through the pass-through callbacks (MAC, VNI, MTU of the LFE MTU
    /// less the encapsulation, the VTEP's source address and ports).
    pub fn vm_joins(&mut self, vm: LocalVm, mtu: u32) -> Result<(), VtepError> {
        if !self.segments.contains_key(&vm.vni.get()) {
            return Err(VtepError::NoSegment(vm.vni.get()));
        }
        if let Attachment::Vf(i) = vm.attachment {
            self.pf.set_vf_mac(i, vm.mac)?;
            self.pf.set_vf_mtu(i, mtu)?;
            self.pf
                .set_vf_source_vtep(i, self.vtep.ip, self.vtep.netmask)?;
            self.pf
                .set_vf_source_udp_port(i, self.vtep.src_port_range)?;
            self.pf.set_vf_vni(i, Some(vm.vni))?;
        }
        // A VM that was remote is local now: its entry goes.
        self.remove_remote(vm.vni, vm.mac)?;
        self.vms.insert(vm.mac, vm);
        Ok(())
    }

    /// A VM leaves this host's segment (powered off or detached).
    pub fn vm_leaves(&mut self, mac: MacAddr) -> Result<LocalVm, VtepError> {
        let vm = self.vms.remove(&mac).ok_or(VtepError::NoSuchVm(mac))?;
        if let Attachment::Vf(i) = vm.attachment {
            self.pf.set_vf_vni(i, None)?;
        }
        Ok(vm)
    }

    /// A local VM migrated out to the VTEP at `vtep_ip`/`vtep_mac`: it
    /// leaves, and becomes a static remote entry pointing there.
    pub fn vm_migrates_out(
        &mut self,
        mac: MacAddr,
        vtep_ip: Ipv4Addr,
        vtep_mac: MacAddr,
    ) -> Result<(), VtepError> {
        let vm = self.vm_leaves(mac)?;
        self.set_remote(
            MapEntry {
                vni: vm.vni,
                mac,
                vtep_ip,
                vtep_mac,
            },
            Origin::Static,
        )?;
        Ok(())
    }

    /// A VM migrated in: its remote entry goes and it joins here.
    pub fn vm_migrates_in(&mut self, vm: LocalVm, mtu: u32) -> Result<(), VtepError> {
        self.vm_joins(vm, mtu)
    }

    /// Drains the NIC's events and acts on them: learn events become learned
    /// entries (claims 8-9), TX misses are counted. Returns the events.
    pub fn poll(&mut self) -> Result<Vec<NicEvent>, VtepError> {
        let mut events = if self.offload {
            self.pf.poll_events()?
        } else {
            Vec::new()
        };
        while let Some(e) = self.soft_rx.pop_event() {
            events.push(e);
        }
        for e in &events {
            match *e {
                NicEvent::Learn {
                    vni,
                    mac,
                    vtep_ip,
                    vtep_mac,
                } => {
                    if self.vms.contains_key(&mac) || !self.segments.contains_key(&vni.get()) {
                        continue;
                    }
                    let entry = MapEntry {
                        vni,
                        mac,
                        vtep_ip,
                        vtep_mac,
                    };
                    if self.set_remote(entry, Origin::Learned)? {
                        self.stats.learned += 1;
                    }
                }
                NicEvent::TxMiss { .. } => self.stats.tx_misses += 1,
            }
        }
        Ok(events)
    }

    /// A PF-attached VM (or the hypervisor) sends `frame` on segment `vni`.
    /// With the offload the NIC encapsulates (the frame is only tagged);
    /// without it, or when the destination is served in software, the
    /// software encapsulates and the NIC sends the result untouched.
    /// Returns what left on the wire.
    pub fn send_from_pf(&mut self, vni: Vni, frame: &[u8]) -> Result<Vec<Vec<u8>>, VtepError> {
        let host = self.pf_host_frames(vni, frame, &OffloadRequest::default())?;
        if host.is_empty() {
            return Ok(Vec::new());
        }
        self.pf
            .device()
            .transmit(&host)
            .map_err(|e| VtepError::Device(e.to_string()))
    }

    /// What the PF hands the NIC for `frame` on segment `vni` with the
    /// offload request `offload`: the frame tagged with its VNI when the NIC
    /// encapsulates it, else the software's work (offloads applied,
    /// encapsulated) as untagged frames the NIC sends untouched, none when
    /// the software dropped it. Lets a caller batch PF and VF frames into
    /// one [`NicDevice::transmit`].
    pub fn pf_host_frames(
        &mut self,
        vni: Vni,
        frame: &[u8],
        offload: &OffloadRequest,
    ) -> Result<Vec<HostFrame>, VtepError> {
        let dst = frame
            .get(..6)
            .map(|d| MacAddr(d.try_into().expect("6 bytes")));
        let soft = !self.offload
            || dst.is_some_and(|d| self.table.get(&(vni.get(), d)).is_some_and(|m| !m.in_nic));
        if !soft {
            let mut host = HostFrame::new(Function::Pf, frame.to_vec()).tagged(vni);
            host.offload = *offload;
            return Ok(vec![host]);
        }
        match self
            .soft_tx
            .transmit_with(Function::Pf, frame, Some(vni), offload)
        {
            Ok(out) => Ok(out
                .frames()
                .into_iter()
                .map(|w| HostFrame::new(Function::Pf, w.to_vec()))
                .collect()),
            Err(e) => Err(VtepError::Device(e.to_string())),
        }
    }

    /// Frames arrive from the wire. With the offload the NIC validates,
    /// decapsulates and delivers; without it every frame reaches the PF
    /// and the software decapsulates (for PF VMs only: VFs cannot join an
    /// overlay without the offload). Learn events are raised either way
    /// (take them with [`VtepSoftware::poll`]).
    pub fn receive(&mut self, frames: &[Vec<u8>]) -> Result<Vec<RxDelivery>, VtepError> {
        let got = self
            .pf
            .device()
            .receive(frames)
            .map_err(|e| VtepError::Device(e.to_string()))?;
        if self.offload {
            return Ok(got);
        }
        let mut out = Vec::new();
        for d in got.into_iter().filter(|d| d.function == Function::Pf) {
            if let RxOutcome::Delivered(copies) = self.soft_rx.receive(&d.frame) {
                out.extend(copies.into_iter().filter(|c| c.function == Function::Pf));
            }
        }
        Ok(out)
    }

    /// FIG. 15 with \[0126\]'s ARP proxy. `deliveries` are what the PF got;
    /// call [`VtepSoftware::poll`] first so their senders are learned and
    /// pushed. For each ARP reply that reached the PF because its sender was
    /// unknown and that is addressed to a local VF VM, the proxy answers the
    /// VM: it replays the reply, re-encapsulated from the learned VTEP, into
    /// the NIC's receive path, where it now passes the source check and
    /// reaches the VF (1510-1535). Returns the copies so delivered.
    pub fn proxy_arp(&mut self, deliveries: &[RxDelivery]) -> Result<Vec<RxDelivery>, VtepError> {
        let replay = self.arp_proxy_replays(deliveries)?;
        if replay.is_empty() {
            return Ok(Vec::new());
        }
        let got = self
            .pf
            .device()
            .receive(&replay)
            .map_err(|e| VtepError::Device(e.to_string()))?;
        Ok(got
            .into_iter()
            .filter(|d| matches!(d.function, Function::Vf(_)))
            .collect())
    }

    /// The proxy's half of [`VtepSoftware::proxy_arp`] for a caller that
    /// feeds the NIC's receive path itself (a free-running device): the
    /// re-encapsulated replies to put on the NIC's wire input.
    pub fn arp_proxy_replays(
        &mut self,
        deliveries: &[RxDelivery],
    ) -> Result<Vec<Vec<u8>>, VtepError> {
        let mut replay = Vec::new();
        for d in deliveries {
            if d.function != Function::Pf || !d.meta.learn || !is_arp_reply(&d.frame) {
                continue;
            }
            let Ok(vni) = Vni::new(d.meta.vni) else {
                continue;
            };
            let dst = MacAddr(d.frame[0..6].try_into().expect("6 bytes"));
            let src = MacAddr(d.frame[6..12].try_into().expect("6 bytes"));
            let for_vf = self
                .vms
                .get(&dst)
                .is_some_and(|vm| vm.vni == vni && matches!(vm.attachment, Attachment::Vf(_)));
            let Some(learned) = self.table.get(&(vni.get(), src)) else {
                continue;
            };
            if !for_vf || !learned.in_nic {
                continue;
            }
            let soft = |e: crate::vxlan::EncapError| VtepError::Device(e.to_string());
            let mut p = EncapParams::new(
                learned.entry.vtep_mac.0,
                self.vtep.mac.0,
                learned.entry.vtep_ip,
                self.vtep.ip,
                vni.get(),
            )
            .map_err(soft)?;
            p.udp_dst_port = self.vtep.udp_port;
            if let Some(tag) = self.vtep.vlan {
                p.vlan = Some(OuterVlan::new(tag.vid, tag.pcp).map_err(soft)?);
            }
            let outer = encapsulate(&d.frame, &p).map_err(soft)?;
            replay.push(outer);
        }
        self.stats.arp_proxied += replay.len() as u32;
        Ok(replay)
    }
}

/// An Ethernet II ARP reply (opcode 2), untagged: what the proxy answers
/// for VF VMs.
pub fn is_arp_reply(frame: &[u8]) -> bool {
    frame.len() >= 42 && frame[12..14] == [0x08, 0x06] && frame[20..22] == [0, 2]
}
