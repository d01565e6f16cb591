//! The PF driver: the hypervisor's driver of the NIC's physical function.
//!
//! It finds the NIC on the (simulated) PCIe bus, checks what the hardware
//! is (`ID`, `VERSION`, `CAPABILITY`, the build's sizes), enables VFs, and
//! registers the NIC's overlay offload with the VTEP software by
//! implementing [`OverlayOffload`]: the callbacks of seed FIG. 9 and
//! \[0061\], \[0094\]-\[0100\] (mapping-table updates, whole or per entry,
//! and the VF pass-through operations). Everything goes through the PF's
//! BAR0 over [`crate::pcie`]; a VF's own BAR is read-only to its tenant.
//!
//! ```
//! use overlay_nic_driver::nic_model::NicModel;
//! use overlay_nic_driver::pf_driver::{OverlayOffload, PfDriver, TableUpdate};
//! use overlay_nic_driver::{MacAddr, MapEntry, Vni, VtepConfig};
//! use overlay_nic_regmap::Build;
//! use std::net::Ipv4Addr;
//!
//! let mut pf = PfDriver::probe(NicModel::new(Build::DEFAULT))?;
//! assert!(pf.capabilities().tx_offload && pf.capabilities().vfs == 4);
//! pf.enable_vfs(2)?;
//! pf.set_vtep(&VtepConfig::new(
//!     MacAddr([2, 0, 0, 0, 0, 1]),
//!     Ipv4Addr::new(10, 0, 0, 1),
//!     Ipv4Addr::new(255, 255, 255, 0),
//!     MacAddr([2, 0, 0, 0, 0, 0xfe]),
//! ))?;
//! let entry = MapEntry {
//!     vni: Vni::new(5001).unwrap(),
//!     mac: MacAddr([0, 0x50, 0x56, 0, 0, 7]),
//!     vtep_ip: Ipv4Addr::new(10, 0, 0, 2),
//!     vtep_mac: MacAddr([2, 0, 0, 0, 0, 2]),
//! };
//! pf.vxlan_mapping_table_update(TableUpdate::Add(entry))?;
//! assert_eq!(pf.find_entry(entry.vni, entry.mac)?.map(|e| e.vtep_ip), Some(entry.vtep_ip));
//! # Ok::<(), overlay_nic_driver::pf_driver::DriverError>(())
//! ```

use crate::device::NicDevice;
use crate::nic_config::{MacAddr, MapEntry, MissPolicy, PortRange, VlanTag, VniRecord, VtepConfig};
use crate::pcie::{enumerate, Enumerated, PcieEndpoint, PcieError, VfInfo};
pub use crate::registers::{mac_hi, mac_lo, mac_of};
use crate::registers::{outer_ip_value, RegisterBus, RegisterError, Registers};
use crate::tx::{Function, NicEvent};
use crate::vxlan::Vni;
use overlay_nic_regmap::pf::{self, cmd, function as fr, result};
use overlay_nic_regmap::{vf, Register};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Routing ID the simulated platform puts the NIC at (bus 1, device 0).
pub const NIC_RID: u16 = 0x0100;
/// Bus address of the memory window the platform gives the NIC's BARs.
pub const BAR_WINDOW: u64 = 0xf000_0000;
/// The register map major version this driver speaks.
pub const VERSION_MAJOR: u32 = pf::VERSION_VALUE >> 16;

/// An overlay encapsulation and the bytes it adds to an inner L3 packet
/// (outer IPv4 + UDP + overlay header + inner Ethernet), seed \[0106\].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encapsulation {
    /// VXLAN (RFC 7348): 20 + 8 + 8 + 14 = 50 bytes.
    Vxlan,
    /// GENEVE (RFC 8926) with room for options: 100 bytes, the budget the
    /// hypervisor reserves.
    Geneve,
}

impl Encapsulation {
    /// Bytes added to the inner L3 packet.
    pub const fn overhead(self) -> u32 {
        match self {
            Encapsulation::Vxlan => 50,
            Encapsulation::Geneve => 100,
        }
    }
}

/// What the hardware says it is and can do (`CAPABILITY`, `TABLE_SIZES`,
/// `MAX_FRAME`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    pub tx_offload: bool,
    pub rx_offload: bool,
    pub checksum_offload: bool,
    pub tso: bool,
    /// VFs the build has (TotalVFs).
    pub vfs: usize,
    pub table_entries: usize,
    pub vni_records: usize,
    pub max_frame: usize,
    pub event_depth: usize,
}

impl Capabilities {
    /// Decodes the three capability words.
    pub fn from_words(capability: u32, table_sizes: u32, max_frame: u32) -> Capabilities {
        Capabilities {
            tx_offload: capability & 1 != 0,
            rx_offload: capability & 2 != 0,
            checksum_offload: capability & 4 != 0,
            tso: capability & 8 != 0,
            vfs: (capability >> 8 & 0xff) as usize,
            table_entries: (table_sizes & 0xffff) as usize,
            vni_records: (table_sizes >> 16) as usize,
            max_frame: (max_frame & 0xffff) as usize,
            event_depth: (max_frame >> 16) as usize,
        }
    }

    /// Both directions of the overlay offload: what the VTEP software needs
    /// to hand encapsulation and decapsulation to the NIC (FIG. 7 710).
    pub fn overlay_offload(&self) -> bool {
        self.tx_offload && self.rx_offload
    }
}

/// A mapping-table update pushed by the VTEP software (seed \[0055\],
/// \[0061\], \[0100\]): the whole table, or one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableUpdate<'a> {
    /// Make the NIC's table exactly these entries.
    Whole(&'a [MapEntry]),
    /// Insert an entry (replacing one with the same key).
    Add(MapEntry),
    /// Change an existing entry's VTEP; `NotInTable` if it is not there.
    Modify(MapEntry),
    /// Remove the entry for this key; `NotInTable` if it is not there.
    Delete { vni: Vni, mac: MacAddr },
}

/// Why a driver operation failed. Nothing is half-done unless said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    #[error(transparent)]
    Pcie(#[from] PcieError),
    #[error(transparent)]
    Register(#[from] RegisterError),
    #[error("not an overlay-nic: ID {0:#010x}")]
    WrongId(u32),
    #[error("register map version {found}.x, this driver speaks {VERSION_MAJOR}.x")]
    WrongVersion { found: u32 },
    #[error("the NIC has no overlay offload capability (CAPABILITY {0:#x})")]
    NoOffload(u32),
    #[error("VF{vf} is not enabled ({enabled} VFs enabled)")]
    NoSuchVf { vf: usize, enabled: usize },
    #[error("the mapping table is full ({entries} entries): VNI {vni} MAC {mac} not offloaded")]
    TableFull {
        vni: u32,
        mac: MacAddr,
        entries: usize,
    },
    #[error("the per-VNI records are full ({records}): VNI {vni} not offloaded")]
    VniRecordsFull { vni: u32, records: usize },
    #[error("VNI {vni} MAC {mac} is not in the NIC's table")]
    NotInTable { vni: u32, mac: MacAddr },
    #[error("VNI {0} has no record in the NIC")]
    NoVniRecord(u32),
    #[error("the {table} command {code} answered result {result}")]
    Command {
        table: &'static str,
        code: u32,
        result: u32,
    },
    #[error("the {0} table stayed busy")]
    Busy(&'static str),
    #[error(
        "MTU {requested} for VF{vf} is out of range: {min}..={max} \
         (LFE MTU {lfe_mtu} minus {overhead} bytes of encapsulation, and the NIC's MAX_FRAME)"
    )]
    MtuOutOfRange {
        vf: usize,
        requested: u32,
        min: u32,
        max: u32,
        lfe_mtu: u32,
        overhead: u32,
    },
    #[error("VF{vf}'s MAC {mac} is not a unicast address")]
    BadMac { vf: usize, mac: MacAddr },
    #[error(
        "this NIC has one VTEP per uplink, shared by every function: VF{vf} asked for {what}, \
         the VTEP has {vtep}"
    )]
    SharedVtep {
        vf: usize,
        what: String,
        vtep: String,
    },
    #[error("the VTEP is not configured yet")]
    NoVtep,
}

/// A VF as the PF driver set it up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VfState {
    pub info: VfInfo,
    pub mac: MacAddr,
    pub vni: Option<Vni>,
    pub mtu: u32,
}

/// The callbacks the PF driver registers with the VTEP software (FIG. 9).
pub trait OverlayOffload {
    /// `vxlanMappingTableUpdate`: the whole table or one entry (910).
    fn vxlan_mapping_table_update(&mut self, update: TableUpdate) -> Result<(), DriverError>;
    /// The VF's overlay segment, or `None` for a plain VF (915).
    fn set_vf_vni(&mut self, vf: usize, vni: Option<Vni>) -> Result<(), DriverError>;
    /// The VF's outer UDP source port(s) (920): a range the flow hash picks
    /// from (a single port when `lo == hi`).
    fn set_vf_source_udp_port(&mut self, vf: usize, range: PortRange) -> Result<(), DriverError>;
    /// The VF's source VTEP IP and netmask (\[0101\]).
    fn set_vf_source_vtep(
        &mut self,
        vf: usize,
        ip: Ipv4Addr,
        netmask: Ipv4Addr,
    ) -> Result<(), DriverError>;
    /// The VF's MAC (anti-spoofing source).
    fn set_vf_mac(&mut self, vf: usize, mac: MacAddr) -> Result<(), DriverError>;
    /// The VF's L3 MTU, validated against the LFE MTU minus the
    /// encapsulation overhead (\[0106\]).
    fn set_vf_mtu(&mut self, vf: usize, mtu: u32) -> Result<(), DriverError>;
    /// The VLAN of the VF's (encapsulated) traffic on the wire.
    fn set_vf_vlan(&mut self, vf: usize, vlan: Option<VlanTag>) -> Result<(), DriverError>;
    /// A VNI's multicast group, gateway and miss policy (\[0062\]).
    fn set_vni_record(&mut self, record: &VniRecord) -> Result<(), DriverError>;
    /// Removes a VNI's record (the segment is gone from this host).
    fn delete_vni_record(&mut self, vni: Vni) -> Result<(), DriverError>;
    /// Drains the NIC's event queue (TX misses, RX learn/move), oldest first.
    fn poll_events(&mut self) -> Result<Vec<NicEvent>, DriverError>;
}

/// The PF driver over any [`NicDevice`] behind the simulated PCIe endpoint.
pub struct PfDriver<D: NicDevice> {
    endpoint: PcieEndpoint<D>,
    enumerated: Enumerated,
    caps: Capabilities,
    vfs: Vec<VfState>,
    vtep: Option<VtepConfig>,
    lfe_mtu: u32,
    encapsulation: Encapsulation,
    /// What the driver put in the NIC's table (a shadow for whole-table
    /// updates and `Modify`).
    table: BTreeMap<(u32, MacAddr), MapEntry>,
}

impl<D: NicDevice> PfDriver<D> {
    /// Enumerates the device at [`NIC_RID`], maps the PF's BAR0 at
    /// [`BAR_WINDOW`] and checks what it is. A NIC without the overlay
    /// offload is still probed (the VTEP software then falls back to
    /// software, FIG. 7 720-735).
    pub fn probe(device: D) -> Result<PfDriver<D>, DriverError> {
        let mut endpoint = PcieEndpoint::new(device, NIC_RID);
        let enumerated = enumerate(&mut endpoint, BAR_WINDOW)?;
        let mut regs = endpoint.registers(Function::Pf)?;
        let id = regs.read(&pf::ID)?;
        if id != pf::ID_VALUE {
            return Err(DriverError::WrongId(id));
        }
        let version = regs.read(&pf::VERSION)?;
        if version >> 16 != VERSION_MAJOR {
            return Err(DriverError::WrongVersion {
                found: version >> 16,
            });
        }
        let caps = Capabilities::from_words(
            regs.read(&pf::CAPABILITY)?,
            regs.read(&pf::TABLE_SIZES)?,
            regs.read(&pf::MAX_FRAME)?,
        );
        Ok(PfDriver {
            endpoint,
            enumerated,
            caps,
            vfs: Vec::new(),
            vtep: None,
            lfe_mtu: 1600,
            encapsulation: Encapsulation::Vxlan,
            table: BTreeMap::new(),
        })
    }

    /// What the hardware reported at probe time.
    pub fn capabilities(&self) -> Capabilities {
        self.caps
    }

    /// The endpoint (config space, the device's datapath).
    pub fn endpoint(&mut self) -> &mut PcieEndpoint<D> {
        &mut self.endpoint
    }

    /// The device itself (its host queues and wire).
    pub fn device(&mut self) -> &mut D {
        self.endpoint.device_mut()
    }

    /// Typed access to the PF's BAR0.
    pub fn registers(&mut self) -> Result<Registers<crate::pcie::BarBus<'_, D>>, DriverError> {
        Ok(self.endpoint.registers(Function::Pf)?)
    }

    /// Typed access to VF `vf`'s own BAR0, as its tenant's driver has it.
    pub fn vf_registers(
        &mut self,
        vf: usize,
    ) -> Result<Registers<crate::pcie::BarBus<'_, D>>, DriverError> {
        self.vf(vf)?;
        Ok(self.endpoint.registers(Function::Vf(vf))?)
    }

    /// Enables `n` VFs (SR-IOV NumVFs + VF Enable), maps their BARs and
    /// checks each answers with the VF identification. Their MACs start as
    /// the hardware's reset value (zero) until [`OverlayOffload::set_vf_mac`].
    pub fn enable_vfs(&mut self, n: usize) -> Result<&[VfState], DriverError> {
        let n16 = u16::try_from(n).unwrap_or(u16::MAX);
        let infos = self.enumerated.enable_vfs(&mut self.endpoint, n16)?;
        self.vfs = Vec::with_capacity(infos.len());
        for info in infos {
            let id = self
                .endpoint
                .registers(Function::Vf(info.index))?
                .read(&vf::ID)?;
            if id != vf::ID_VALUE {
                return Err(DriverError::WrongId(id));
            }
            let f = info.index + 1;
            let mut regs = self.endpoint.registers(Function::Pf)?;
            let mtu = regs.read(&pf::function_register(f, &fr::MTU))?;
            self.vfs.push(VfState {
                info,
                mac: MacAddr([0; 6]),
                vni: None,
                mtu,
            });
        }
        Ok(&self.vfs)
    }

    /// The enabled VFs.
    pub fn vfs(&self) -> &[VfState] {
        &self.vfs
    }

    fn vf(&self, vf: usize) -> Result<&VfState, DriverError> {
        self.vfs.get(vf).ok_or(DriverError::NoSuchVf {
            vf,
            enabled: self.vfs.len(),
        })
    }

    /// The uplink (LFE) MTU that VF MTUs are checked against, and the
    /// encapsulation whose overhead they must leave room for.
    pub fn set_lfe_mtu(&mut self, mtu: u32, encapsulation: Encapsulation) {
        self.lfe_mtu = mtu;
        self.encapsulation = encapsulation;
    }

    /// Programs the local VTEP (the uplink's address, subnet, gateway,
    /// ports, outer IPv4 options, VLAN).
    pub fn set_vtep(&mut self, vtep: &VtepConfig) -> Result<(), DriverError> {
        let mut r = self.endpoint.registers(Function::Pf)?;
        program_vtep(&mut r, vtep)?;
        self.vtep = Some(vtep.clone());
        Ok(())
    }

    /// The VTEP as programmed.
    pub fn vtep(&self) -> Option<&VtepConfig> {
        self.vtep.as_ref()
    }

    /// The PF's MTU (its frames are checked against it too).
    pub fn set_pf_mtu(&mut self, mtu: u32) -> Result<(), DriverError> {
        let mut r = self.endpoint.registers(Function::Pf)?;
        r.write(&pf::function_register(0, &fr::MTU), mtu)?;
        Ok(())
    }

    /// Reads the NIC's entry for (`vni`, `mac`) back with FIND.
    pub fn find_entry(&mut self, vni: Vni, mac: MacAddr) -> Result<Option<MapEntry>, DriverError> {
        let mut r = self.endpoint.registers(Function::Pf)?;
        stage_key(&mut r, vni, &mac)?;
        match table_command(&mut r, "mapping", &pf::MAP_CMD, &pf::MAP_STATUS, cmd::FIND) {
            Ok(()) => {}
            Err(DriverError::Command {
                result: result::NOT_FOUND,
                ..
            }) => return Ok(None),
            Err(e) => return Err(e),
        }
        let ip = r.read(&pf::MAP_RD_VTEP_IP)?;
        let hi = r.read(&pf::MAP_RD_VTEP_MAC_HI)?;
        let lo = r.read(&pf::MAP_RD_VTEP_MAC_LO)?;
        Ok(Some(MapEntry {
            vni,
            mac,
            vtep_ip: ip.into(),
            vtep_mac: mac_of(hi, lo),
        }))
    }

    /// Entries in use in the NIC's table (`MAP_STATUS` 31:16).
    pub fn entries_in_use(&mut self) -> Result<usize, DriverError> {
        let mut r = self.endpoint.registers(Function::Pf)?;
        Ok((r.read(&pf::MAP_STATUS)? >> 16) as usize)
    }

    /// The driver's copy of what it put in the NIC's table.
    pub fn offloaded_entries(&self) -> impl Iterator<Item = &MapEntry> {
        self.table.values()
    }

    fn add(&mut self, e: MapEntry) -> Result<(), DriverError> {
        let entries = self.caps.table_entries;
        let mut r = self.endpoint.registers(Function::Pf)?;
        match add_entry(&mut r, &e) {
            Err(DriverError::Command {
                result: result::FULL,
                ..
            }) => Err(DriverError::TableFull {
                vni: e.vni.get(),
                mac: e.mac,
                entries,
            }),
            Err(other) => Err(other),
            Ok(()) => {
                self.table.insert((e.vni.get(), e.mac), e);
                Ok(())
            }
        }
    }

    fn delete(&mut self, vni: Vni, mac: MacAddr) -> Result<(), DriverError> {
        let mut r = self.endpoint.registers(Function::Pf)?;
        stage_key(&mut r, vni, &mac)?;
        match table_command(
            &mut r,
            "mapping",
            &pf::MAP_CMD,
            &pf::MAP_STATUS,
            cmd::DELETE,
        ) {
            Err(DriverError::Command {
                result: result::NOT_FOUND,
                ..
            }) => Err(DriverError::NotInTable {
                vni: vni.get(),
                mac,
            }),
            Err(e) => Err(e),
            Ok(()) => {
                self.table.remove(&(vni.get(), mac));
                Ok(())
            }
        }
    }

    fn write_vf(&mut self, vf: usize, reg: &Register, value: u32) -> Result<(), DriverError> {
        self.vf(vf)?;
        let mut r = self.endpoint.registers(Function::Pf)?;
        r.write(&pf::function_register(vf + 1, reg), value)?;
        Ok(())
    }

    fn write_vf_vni(&mut self, vf: usize, vni: Option<Vni>) -> Result<(), DriverError> {
        self.write_vf(vf, &fr::VNI, vni.map_or(0, |v| 1 << 31 | v.get()))
    }

    fn shared_vtep(&self, vf: usize, what: String, vtep: String) -> DriverError {
        DriverError::SharedVtep { vf, what, vtep }
    }
}

impl<D: NicDevice> OverlayOffload for PfDriver<D> {
    /// A whole-table update is applied as a difference against what the NIC
    /// holds (deletes first, then adds), so entries that stay never vanish
    /// from the NIC's table, not even for a clock: lookups keep hitting.
    /// When the new table does not fit, the entries that did are in the NIC
    /// and the error names the first that did not.
    fn vxlan_mapping_table_update(&mut self, update: TableUpdate) -> Result<(), DriverError> {
        match update {
            TableUpdate::Add(e) => self.add(e),
            TableUpdate::Modify(e) => {
                if !self.table.contains_key(&(e.vni.get(), e.mac)) {
                    return Err(DriverError::NotInTable {
                        vni: e.vni.get(),
                        mac: e.mac,
                    });
                }
                self.add(e)
            }
            TableUpdate::Delete { vni, mac } => self.delete(vni, mac),
            TableUpdate::Whole(entries) => {
                let wanted: BTreeMap<(u32, MacAddr), MapEntry> =
                    entries.iter().map(|e| ((e.vni.get(), e.mac), *e)).collect();
                let stale: Vec<MapEntry> = self
                    .table
                    .iter()
                    .filter(|(k, _)| !wanted.contains_key(k))
                    .map(|(_, e)| *e)
                    .collect();
                for e in stale {
                    self.delete(e.vni, e.mac)?;
                }
                for e in wanted.values() {
                    if self.table.get(&(e.vni.get(), e.mac)) != Some(e) {
                        self.add(*e)?;
                    }
                }
                Ok(())
            }
        }
    }

    fn set_vf_vni(&mut self, vf: usize, vni: Option<Vni>) -> Result<(), DriverError> {
        self.write_vf_vni(vf, vni)?;
        self.vfs[vf].vni = vni;
        Ok(())
    }

    /// One VTEP serves every function, so a VF's source port range is the
    /// VTEP's: a request for that range is accepted, any other refused.
    fn set_vf_source_udp_port(&mut self, vf: usize, range: PortRange) -> Result<(), DriverError> {
        self.vf(vf)?;
        let vtep = self.vtep.clone().ok_or(DriverError::NoVtep)?;
        if range != vtep.src_port_range {
            return Err(self.shared_vtep(
                vf,
                format!("source ports {}-{}", range.lo, range.hi),
                format!("{}-{}", vtep.src_port_range.lo, vtep.src_port_range.hi),
            ));
        }
        Ok(())
    }

    fn set_vf_source_vtep(
        &mut self,
        vf: usize,
        ip: Ipv4Addr,
        netmask: Ipv4Addr,
    ) -> Result<(), DriverError> {
        self.vf(vf)?;
        let vtep = self.vtep.clone().ok_or(DriverError::NoVtep)?;
        if (ip, netmask) != (vtep.ip, vtep.netmask) {
            return Err(self.shared_vtep(
                vf,
                format!("source VTEP {ip}/{netmask}"),
                format!("{}/{}", vtep.ip, vtep.netmask),
            ));
        }
        Ok(())
    }

    fn set_vf_mac(&mut self, vf: usize, mac: MacAddr) -> Result<(), DriverError> {
        if mac.0[0] & 1 != 0 || mac.0 == [0; 6] {
            return Err(DriverError::BadMac { vf, mac });
        }
        self.write_vf(vf, &fr::MAC_HI, mac_hi(&mac))?;
        self.write_vf(vf, &fr::MAC_LO, mac_lo(&mac))?;
        self.vfs[vf].mac = mac;
        Ok(())
    }

    fn set_vf_mtu(&mut self, vf: usize, mtu: u32) -> Result<(), DriverError> {
        self.vf(vf)?;
        let overhead = self.encapsulation.overhead();
        // IPv4's minimum; the NIC's longest frame less an 802.1Q header.
        let min = 68;
        let max = self
            .lfe_mtu
            .saturating_sub(overhead)
            .min(self.caps.max_frame.saturating_sub(18) as u32);
        if !(min..=max).contains(&mtu) {
            return Err(DriverError::MtuOutOfRange {
                vf,
                requested: mtu,
                min,
                max,
                lfe_mtu: self.lfe_mtu,
                overhead,
            });
        }
        self.write_vf(vf, &fr::MTU, mtu)?;
        self.vfs[vf].mtu = mtu;
        Ok(())
    }

    /// The VF's traffic leaves encapsulated, so its wire VLAN is the VTEP's
    /// outer tag, shared by every function: the same tag (or none, when the
    /// VTEP has none) is accepted, another refused.
    fn set_vf_vlan(&mut self, vf: usize, vlan: Option<VlanTag>) -> Result<(), DriverError> {
        self.vf(vf)?;
        let vtep = self.vtep.clone().ok_or(DriverError::NoVtep)?;
        if vlan != vtep.vlan {
            return Err(self.shared_vtep(
                vf,
                format!("VLAN {:?}", vlan.map(|t| t.vid)),
                format!("VLAN {:?}", vtep.vlan.map(|t| t.vid)),
            ));
        }
        Ok(())
    }

    fn set_vni_record(&mut self, rec: &VniRecord) -> Result<(), DriverError> {
        let records = self.caps.vni_records;
        let mut r = self.endpoint.registers(Function::Pf)?;
        match program_vni_record(&mut r, rec) {
            Err(DriverError::Command {
                result: result::FULL,
                ..
            }) => Err(DriverError::VniRecordsFull {
                vni: rec.vni.get(),
                records,
            }),
            other => other,
        }
    }

    fn delete_vni_record(&mut self, vni: Vni) -> Result<(), DriverError> {
        let mut r = self.endpoint.registers(Function::Pf)?;
        r.write(&pf::VNI_KEY, vni.get())?;
        match table_command(&mut r, "VNI", &pf::VNI_CMD, &pf::VNI_STATUS, cmd::DELETE) {
            Err(DriverError::Command {
                result: result::NOT_FOUND,
                ..
            }) => Err(DriverError::NoVniRecord(vni.get())),
            other => other,
        }
    }

    fn poll_events(&mut self) -> Result<Vec<NicEvent>, DriverError> {
        let mut r = self.endpoint.registers(Function::Pf)?;
        Ok(drain_events(&mut r)?)
    }
}

// ---- Register sequences, over any bus (the driver's, and the simulation
// harness's direct one) ----

/// Writes the local VTEP's registers.
pub fn program_vtep<B: RegisterBus>(
    r: &mut Registers<B>,
    v: &VtepConfig,
) -> Result<(), RegisterError> {
    r.write(&pf::VTEP_MAC_HI, mac_hi(&v.mac))?;
    r.write(&pf::VTEP_MAC_LO, mac_lo(&v.mac))?;
    r.write(&pf::VTEP_IP, u32::from(v.ip))?;
    r.write(&pf::VTEP_NETMASK, u32::from(v.netmask))?;
    r.write(&pf::VTEP_GW_MAC_HI, mac_hi(&v.gateway_mac))?;
    r.write(&pf::VTEP_GW_MAC_LO, mac_lo(&v.gateway_mac))?;
    r.write(&pf::VXLAN_UDP_PORT, u32::from(v.udp_port))?;
    r.write(
        &pf::UDP_SRC_PORT_RANGE,
        u32::from(v.src_port_range.lo) | u32::from(v.src_port_range.hi) << 16,
    )?;
    r.write(&pf::OUTER_IP, outer_ip_value(v))?;
    let vlan = match &v.vlan {
        Some(t) => 1 << 16 | u32::from(t.pcp) << 13 | u32::from(t.vid),
        None => 0,
    };
    r.write(&pf::OUTER_VLAN, vlan)
}

/// Writes a per-VNI record and adds it (replacing the VNI's old one).
pub fn program_vni_record<B: RegisterBus>(
    r: &mut Registers<B>,
    rec: &VniRecord,
) -> Result<(), DriverError> {
    r.write(&pf::VNI_KEY, rec.vni.get())?;
    r.write(&pf::VNI_MCAST_IP, u32::from(rec.multicast_group))?;
    r.write(&pf::VNI_GW_IP, u32::from(rec.gateway_ip))?;
    r.write(&pf::VNI_GW_MAC_HI, mac_hi(&rec.gateway_mac))?;
    r.write(&pf::VNI_GW_MAC_LO, mac_lo(&rec.gateway_mac))?;
    let policy = match rec.miss_policy {
        MissPolicy::Flood => 0,
        MissPolicy::Gateway => 1,
        MissPolicy::Drop => 2,
    };
    r.write(&pf::VNI_POLICY, policy)?;
    table_command(r, "VNI", &pf::VNI_CMD, &pf::VNI_STATUS, cmd::ADD)
}

/// Stages a mapping-table key.
pub fn stage_key<B: RegisterBus>(
    r: &mut Registers<B>,
    vni: Vni,
    mac: &MacAddr,
) -> Result<(), RegisterError> {
    r.write(&pf::MAP_KEY_VNI, vni.get())?;
    r.write(&pf::MAP_KEY_MAC_HI, mac_hi(mac))?;
    r.write(&pf::MAP_KEY_MAC_LO, mac_lo(mac))
}

/// Adds (or replaces) a mapping-table entry.
pub fn add_entry<B: RegisterBus>(r: &mut Registers<B>, e: &MapEntry) -> Result<(), DriverError> {
    stage_key(r, e.vni, &e.mac)?;
    r.write(&pf::MAP_VTEP_IP, u32::from(e.vtep_ip))?;
    r.write(&pf::MAP_VTEP_MAC_HI, mac_hi(&e.vtep_mac))?;
    r.write(&pf::MAP_VTEP_MAC_LO, mac_lo(&e.vtep_mac))?;
    table_command(r, "mapping", &pf::MAP_CMD, &pf::MAP_STATUS, cmd::ADD)
}

/// Rings a table's doorbell and waits for its result.
pub fn table_command<B: RegisterBus>(
    r: &mut Registers<B>,
    table: &'static str,
    doorbell: &Register,
    status: &Register,
    code: u32,
) -> Result<(), DriverError> {
    r.write(doorbell, code)?;
    for _ in 0..16 {
        let s = r.read(status)?;
        if s & 0x100 == 0 {
            return match s & 0xf {
                result::OK => Ok(()),
                res => Err(DriverError::Command {
                    table,
                    code,
                    result: res,
                }),
            };
        }
    }
    Err(DriverError::Busy(table))
}

/// Reads and pops every queued event, oldest first.
pub fn drain_events<B: RegisterBus>(r: &mut Registers<B>) -> Result<Vec<NicEvent>, RegisterError> {
    let mut out = Vec::new();
    let n = r.read(&pf::EVENT_STATUS)? & 0xffff;
    for _ in 0..n {
        let tv = r.read(&pf::EVENT_TYPE_VNI)?;
        let hi = r.read(&pf::EVENT_MAC_HI)?;
        let lo = r.read(&pf::EVENT_MAC_LO)?;
        let ip = r.read(&pf::EVENT_VTEP_IP)?;
        let vhi = r.read(&pf::EVENT_VTEP_MAC_HI)?;
        let vlo = r.read(&pf::EVENT_VTEP_MAC_LO)?;
        r.write(&pf::EVENT_POP, 1)?;
        let Ok(vni) = Vni::new(tv & 0xff_ffff) else {
            continue;
        };
        match tv >> 24 {
            pf::event::TX_MISS => out.push(NicEvent::TxMiss {
                vni,
                mac: mac_of(hi, lo),
            }),
            pf::event::LEARN => out.push(NicEvent::Learn {
                vni,
                mac: mac_of(hi, lo),
                vtep_ip: ip.into(),
                vtep_mac: mac_of(vhi, vlo),
            }),
            _ => {}
        }
    }
    Ok(out)
}
