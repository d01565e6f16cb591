//! The PCIe endpoint around the NIC core, simulated, and the host's
//! enumeration of it.
//!
//! The NIC core has no configuration space: the PCIe endpoint hard IP that
//! wraps it provides one per function and routes memory requests to the
//! core's register ports. [`PcieEndpoint`] plays that hard IP in software
//! over any [`NicDevice`], with the PCI Express Base and SR-IOV layouts, so
//! the driver enumerates it as it would real SR-IOV hardware:
//!
//! - the PF's configuration space: a type-0 header with one 32-bit BAR0
//!   (the PF register BAR, 64 KiB), a PCI Express capability at
//!   [`cfg::PCIE_CAP`] and an SR-IOV extended capability at
//!   [`cfg::SRIOV_CAP`] (TotalVFs = the build's VFs, First VF Offset and VF
//!   Stride 1, one 32-bit VF BAR0 of `vf::BAR_SIZE` per VF);
//! - each VF's configuration space, present while VF Enable is set and its
//!   index is below NumVFs, with the SR-IOV spec's VF quirks (vendor and
//!   device ID read 0xFFFF, no BARs of its own, Memory Space Enable
//!   read-only 0);
//! - memory routing: [`PcieEndpoint::mem_read32`] and
//!   [`PcieEndpoint::mem_write32`] send an access that hits the PF BAR or
//!   one VF's window to [`NicDevice::bar_read`] / [`NicDevice::bar_write`]
//!   with the function and the offset in its BAR.
//!
//! The host side is [`enumerate`] (identify, walk the capability lists,
//! size and place the PF BAR, enable decoding) and
//! [`Enumerated::enable_vfs`] / [`Enumerated::disable_vfs`]. The driver
//! then reaches each function's registers through a [`BarBus`], a
//! [`RegisterBus`] that goes through the endpoint's memory routing
//! ([`PcieEndpoint::registers`] wraps it in typed accessors).
//!
//! Requests a real root complex would complete with all-ones (an
//! Unsupported Request) are typed errors here, and a device's own bus
//! refusal (the register file's SLVERR or DECERR) comes back as
//! [`PcieError::Completer`], so a test can tell the two apart.
//!
//! ```
//! use overlay_nic_driver::pcie::{enumerate, PcieEndpoint, PcieError};
//! use overlay_nic_driver::registers::{BusError, RegisterBus, RegisterFileModel};
//! use overlay_nic_driver::{DeviceError, Function, HostFrame, NicDevice, RxDelivery};
//! use overlay_nic_regmap::{pf, vf, Build};
//!
//! /// Register files only: the PF's BAR and one per VF.
//! struct Registers {
//!     pf: RegisterFileModel,
//!     vfs: Vec<RegisterFileModel>,
//! }
//!
//! impl NicDevice for Registers {
//!     fn build(&self) -> Build {
//!         Build { vfs: self.vfs.len(), ..Build::DEFAULT }
//!     }
//!     fn bar_read(&mut self, f: Function, offset: u32) -> Result<u32, BusError> {
//!         match f {
//!             Function::Pf => self.pf.read32(offset),
//!             Function::Vf(i) => self.vfs[i].read32(offset),
//!         }
//!     }
//!     fn bar_write(&mut self, f: Function, offset: u32, value: u32) -> Result<(), BusError> {
//!         match f {
//!             Function::Pf => self.pf.write32(offset, value),
//!             Function::Vf(i) => self.vfs[i].write32(offset, value),
//!         }
//!     }
//!     fn transmit(&mut self, _: &[HostFrame]) -> Result<Vec<Vec<u8>>, DeviceError> {
//!         Ok(Vec::new())
//!     }
//!     fn receive(&mut self, _: &[Vec<u8>]) -> Result<Vec<RxDelivery>, DeviceError> {
//!         Ok(Vec::new())
//!     }
//! }
//!
//! let device = Registers {
//!     pf: RegisterFileModel::new(pf::TABLE),
//!     vfs: (0..4).map(|_| RegisterFileModel::new(vf::TABLE)).collect(),
//! };
//! // The PF at bus 3, device 0, function 0.
//! let mut endpoint = PcieEndpoint::new(device, 0x0300);
//! let mut nic = enumerate(&mut endpoint, 0xe000_0000)?;
//! assert_eq!(nic.total_vfs(), 4);
//! assert_eq!(nic.pf_bar().base, 0xe000_0000);
//!
//! let vfs = nic.enable_vfs(&mut endpoint, 2)?;
//! assert_eq!(vfs[1].rid, 0x0302);
//! assert_eq!(vfs[1].bar.base, 0xe001_1000); // after the PF's 64 KiB
//!
//! // Each function's registers, through the endpoint's memory routing.
//! assert_eq!(endpoint.registers(Function::Pf)?.read(&pf::ID)?, pf::ID_VALUE);
//! assert_eq!(endpoint.registers(Function::Vf(1))?.read(&vf::ID)?, vf::ID_VALUE);
//! assert_eq!(endpoint.mem_read32(0xe001_1000)?, vf::ID_VALUE);
//!
//! nic.disable_vfs(&mut endpoint)?;
//! assert!(matches!(
//!     endpoint.mem_read32(0xe001_1000),
//!     Err(PcieError::UnsupportedRequest { .. })
//! ));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::device::NicDevice;
use crate::registers::{BusError, RegisterBus, Registers};
use crate::tx::Function;
use overlay_nic_regmap::vf;

/// The vendor ID both the PF and (through the PF) the VFs report.
///
/// 0x1ee7 is a placeholder, not an ID assigned to this project: a product
/// needs its own PCI-SIG vendor ID (or a vendor's permission to use one of
/// its device IDs) before it goes near a real slot.
pub const VENDOR_ID: u16 = 0x1ee7;
/// The PF's device ID.
pub const PF_DEVICE_ID: u16 = 0x0001;
/// The VFs' device ID, as the PF's SR-IOV capability reports it (a VF's own
/// device ID register reads 0xFFFF).
pub const VF_DEVICE_ID: u16 = 0x0002;
/// Class code: network controller (0x02), Ethernet (0x00), no programming
/// interface (0x00).
pub const CLASS_CODE: u32 = 0x02_00_00;
/// Revision ID of both kinds of function.
pub const REVISION_ID: u8 = 1;
/// Bytes of the PF's BAR0: the register slave's whole decoded window.
pub const PF_BAR_SIZE: u32 = 1 << overlay_nic_regmap::ADDRESS_BITS;
/// Bytes of each VF's BAR0.
pub const VF_BAR_SIZE: u32 = vf::BAR_SIZE;
/// First VF Offset: VF i's routing ID is the PF's + 1 + i * [`VF_STRIDE`].
pub const FIRST_VF_OFFSET: u16 = 1;
/// VF Stride.
pub const VF_STRIDE: u16 = 1;
/// Bytes of one function's configuration space (PCI Express extended).
pub const CONFIG_SPACE_SIZE: u16 = 4096;

/// Configuration-space layout: header offsets, the capabilities and their
/// registers, as the PCI Express Base and SR-IOV specifications place them.
/// Offsets of 16-bit fields that share a dword are given as the spec does
/// (0x0A, 0x0E, ...); a dword access reads them at `offset & !3`, in the
/// upper half when `offset & 2` is set.
pub mod cfg {
    /// Vendor ID (15:0) and Device ID (31:16).
    pub const VENDOR_DEVICE: u16 = 0x00;
    /// Command (15:0) and Status (31:16).
    pub const COMMAND_STATUS: u16 = 0x04;
    /// Revision ID (7:0) and Class Code (31:8).
    pub const REVISION_CLASS: u16 = 0x08;
    /// Cache Line Size, Latency Timer, Header Type (23:16), BIST.
    pub const HEADER_TYPE: u16 = 0x0c;
    /// Base Address Register 0; BAR1-5 follow at 4-byte steps.
    pub const BAR0: u16 = 0x10;
    /// Subsystem Vendor ID (15:0) and Subsystem ID (31:16).
    pub const SUBSYSTEM: u16 = 0x2c;
    /// Capabilities Pointer (7:0).
    pub const CAP_PTR: u16 = 0x34;
    /// Interrupt Line (7:0, RW on the PF) and Interrupt Pin (15:8).
    pub const INTERRUPT: u16 = 0x3c;
    /// Where the extended capability list starts.
    pub const EXT_CAP_START: u16 = 0x100;

    /// Command register: Memory Space Enable.
    pub const COMMAND_MEMORY: u16 = 1 << 1;
    /// Command register: Bus Master Enable.
    pub const COMMAND_BUS_MASTER: u16 = 1 << 2;
    /// Status register: Capabilities List.
    pub const STATUS_CAP_LIST: u16 = 1 << 4;

    /// Capability ID of the PCI Express capability.
    pub const CAP_ID_PCIE: u8 = 0x10;
    /// Extended capability ID of SR-IOV.
    pub const EXT_CAP_ID_SRIOV: u16 = 0x0010;

    /// Where this endpoint puts its PCI Express capability.
    pub const PCIE_CAP: u16 = 0x40;
    /// Where this endpoint puts its SR-IOV capability.
    pub const SRIOV_CAP: u16 = EXT_CAP_START;

    /// PCI Express capability registers, relative to the capability.
    pub mod pcie {
        /// Capability ID (7:0), Next (15:8), PCI Express Capabilities
        /// (31:16: version 3:0, device/port type 7:4).
        pub const HEADER: u16 = 0x00;
        pub const DEVICE_CAPABILITIES: u16 = 0x04;
        /// Device Control (15:0) and Device Status (31:16).
        pub const DEVICE_CONTROL: u16 = 0x08;
        pub const LINK_CAPABILITIES: u16 = 0x0c;
        /// Link Control (15:0) and Link Status (31:16).
        pub const LINK_CONTROL: u16 = 0x10;
        pub const DEVICE_CAPABILITIES_2: u16 = 0x24;
        pub const LINK_CAPABILITIES_2: u16 = 0x2c;
        /// Link Control 2 (15:0) and Link Status 2 (31:16).
        pub const LINK_CONTROL_2: u16 = 0x30;
        /// Bytes of a version-2 capability.
        pub const LEN: u16 = 0x3c;
        /// Capability version.
        pub const VERSION: u16 = 2;
        /// Device/port type: PCI Express Endpoint.
        pub const TYPE_ENDPOINT: u16 = 0;
    }

    /// SR-IOV extended capability registers, relative to the capability.
    pub mod sriov {
        /// Extended capability header: ID 15:0, version 19:16, next 31:20.
        pub const HEADER: u16 = 0x00;
        pub const CAPABILITIES: u16 = 0x04;
        /// SR-IOV Control (15:0).
        pub const CONTROL: u16 = 0x08;
        /// SR-IOV Status (31:16 of the Control dword).
        pub const STATUS: u16 = 0x0a;
        pub const INITIAL_VFS: u16 = 0x0c;
        pub const TOTAL_VFS: u16 = 0x0e;
        /// NumVFs: RW while VF Enable is clear.
        pub const NUM_VFS: u16 = 0x10;
        pub const FUNCTION_DEPENDENCY_LINK: u16 = 0x12;
        pub const FIRST_VF_OFFSET: u16 = 0x14;
        pub const VF_STRIDE: u16 = 0x16;
        pub const VF_DEVICE_ID: u16 = 0x1a;
        pub const SUPPORTED_PAGE_SIZES: u16 = 0x1c;
        pub const SYSTEM_PAGE_SIZE: u16 = 0x20;
        /// VF BAR0; VF BAR1-5 follow at 4-byte steps.
        pub const VF_BAR0: u16 = 0x24;
        pub const VF_MIGRATION_STATE: u16 = 0x3c;
        /// Bytes of the capability.
        pub const LEN: u16 = 0x40;
        /// Capability version.
        pub const VERSION: u32 = 1;

        /// Control: VF Enable.
        pub const VF_ENABLE: u16 = 1 << 0;
        /// Control: VF Memory Space Enable.
        pub const VF_MSE: u16 = 1 << 3;
        /// Page-size bit for 4 KiB pages (bit n is 2^(n+12) bytes).
        pub const PAGE_4K: u32 = 1;
    }
}

/// Flags of a 32-bit, non-prefetchable memory BAR (all zero).
const BAR_MEMORY_32: u32 = 0;
/// The flag bits of a memory BAR.
const BAR_FLAGS: u32 = 0xf;
/// Supported Page Sizes: 4 KiB only. Larger system pages would need the VF
/// BAR to grow to the page size, which the VF register port does not decode.
const SUPPORTED_PAGE_SIZES: u32 = cfg::sriov::PAGE_4K;
/// Device Capabilities: Max_Payload_Size 128 bytes, Role-Based Error
/// Reporting (bit 15, required since PCIe 1.1).
const DEVICE_CAPABILITIES_VALUE: u32 = 1 << 15;
/// Device Control after reset: Relaxed Ordering and No Snoop enabled,
/// Max_Read_Request_Size 512 bytes, as the Base spec's defaults.
const DEVICE_CONTROL_RESET: u16 = 1 << 4 | 1 << 11 | 0b010 << 12;
/// Device Control bits the PF stores (bit 15 is Initiate FLR, which reads 0).
const DEVICE_CONTROL_MASK: u16 = 0x7fff;
/// Link Capabilities: 8 GT/s (speed 3), x8.
const LINK_CAPABILITIES_VALUE: u32 = 3 | 8 << 4;
/// Link Status: trained at 8 GT/s, x8.
const LINK_STATUS_VALUE: u32 = 3 | 8 << 4;
/// Supported Link Speeds Vector: 2.5, 5 and 8 GT/s.
const LINK_CAPABILITIES_2_VALUE: u32 = 0b1110;
/// Link Control 2 after reset: Target Link Speed = the highest supported.
const LINK_CONTROL_2_VALUE: u32 = 3;

/// Why a configuration or memory request, or a host-side step, failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PcieError {
    /// A memory request no BAR claims (a root complex would read all-ones).
    #[error("unsupported request: no BAR decodes {addr:#x}")]
    UnsupportedRequest { addr: u64 },
    /// A 32-bit memory request at an address that is not dword aligned.
    #[error("unaligned 32-bit memory request at {addr:#x}")]
    Unaligned { addr: u64 },
    /// A configuration request to a routing ID with no function behind it.
    #[error("unsupported request: no function at routing ID {rid:#06x}")]
    NoFunction { rid: u16 },
    /// A configuration offset that is unaligned or beyond 4 KiB.
    #[error("configuration offset {offset:#x} is not a dword in the 4 KiB space")]
    ConfigOffset { offset: u16 },
    /// The device's register slave refused the access (SLVERR, DECERR, ...).
    #[error("completer: {0}")]
    Completer(BusError),
    /// Enumeration found another device at the routing ID.
    #[error("device {vendor:04x}:{device:04x} is not an overlay-nic PF")]
    WrongDevice { vendor: u16, device: u16 },
    /// The function's header is not a type-0 (endpoint) header.
    #[error("header type {0:#04x} is not an endpoint's")]
    NotEndpoint(u8),
    /// A capability the driver needs is not in the function's lists.
    #[error("no {0} capability")]
    MissingCapability(&'static str),
    /// A capability list points outside its space or loops.
    #[error("malformed capability list at {at:#x}")]
    BadCapabilityList { at: u16 },
    /// A BAR that is not the 32-bit memory BAR the driver places.
    #[error("{name}: unsupported BAR (sizing read {readback:#010x})")]
    UnsupportedBar { name: &'static str, readback: u32 },
    /// The BARs do not fit in 32-bit address space from `window` on.
    #[error("BARs do not fit below 4 GiB from window {window:#x}")]
    WindowOutOfRange { window: u64 },
    /// `enable_vfs` with 0 VFs or more than TotalVFs.
    #[error("cannot enable {requested} VFs (TotalVFs {total})")]
    BadVfCount { requested: u16, total: u16 },
    /// `enable_vfs` while VFs are enabled: disable them first.
    #[error("VFs are already enabled")]
    VfsAlreadyEnabled,
    /// The PF does not support 4 KiB system pages.
    #[error("4 KiB pages not supported (Supported Page Sizes {0:#x})")]
    PageSizeUnsupported(u32),
    /// The VFs' routing IDs would not fit in 16 bits (or a zero stride).
    #[error("VF routing IDs do not fit (First VF Offset {offset}, stride {stride})")]
    VfRouting { offset: u16, stride: u16 },
    /// A VF that should exist did not answer as a VF.
    #[error("VF{index} at routing ID {rid:#06x} missing or not a VF")]
    VfMissing { index: usize, rid: u16 },
    /// The function's BAR does not decode (not enumerated, VFs disabled,
    /// memory space off, or no such VF).
    #[error("{0}'s BAR is not mapped")]
    NotMapped(Function),
}

impl PcieError {
    /// The error as a register bus reports it: the completer's own refusal
    /// unchanged, any other failure as a transport error.
    pub fn into_bus_error(self) -> BusError {
        match self {
            PcieError::Completer(e) => e,
            other => BusError::Transport(other.to_string()),
        }
    }
}

/// Where a BAR decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bar {
    /// Bus address of its first byte.
    pub base: u64,
    /// Bytes (a power of two).
    pub size: u64,
}

impl Bar {
    /// The first address past the BAR.
    pub fn end(&self) -> u64 {
        self.base + self.size
    }
    /// Whether `addr` is inside the BAR.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.base && addr - self.base < self.size
    }
}

/// Dword configuration accesses by routing ID: what a root complex offers
/// software. [`PcieEndpoint`] implements it; the capability walkers
/// ([`find_capability`], [`find_ext_capability`]) take any implementation.
pub trait ConfigSpace {
    /// Reads the dword at `offset` of the function at `rid`.
    fn config_read32(&mut self, rid: u16, offset: u16) -> Result<u32, PcieError>;
    /// Writes the dword at `offset` of the function at `rid`.
    fn config_write32(&mut self, rid: u16, offset: u16, value: u32) -> Result<(), PcieError>;

    /// Reads the 16-bit field at `offset` (2-byte aligned) from its dword.
    fn config_read16(&mut self, rid: u16, offset: u16) -> Result<u16, PcieError> {
        if offset & 1 != 0 {
            return Err(PcieError::ConfigOffset { offset });
        }
        let dword = self.config_read32(rid, offset & !3)?;
        Ok((dword >> (8 * (offset & 2))) as u16)
    }
}

/// The offset of the first capability with ID `id` in the function's
/// capability list, or `None` when the list lacks it (or there is no list).
pub fn find_capability<C: ConfigSpace + ?Sized>(
    config: &mut C,
    rid: u16,
    id: u8,
) -> Result<Option<u16>, PcieError> {
    let status = config.config_read16(rid, cfg::COMMAND_STATUS + 2)?;
    if status & cfg::STATUS_CAP_LIST == 0 {
        return Ok(None);
    }
    let mut at = (config.config_read32(rid, cfg::CAP_PTR)? & 0xfc) as u16;
    // Each capability takes at least 4 bytes of the 192 after the header, so
    // a longer walk is a loop.
    for _ in 0..48 {
        if at == 0 {
            return Ok(None);
        }
        if !(0x40..0x100).contains(&at) {
            return Err(PcieError::BadCapabilityList { at });
        }
        let header = config.config_read32(rid, at)?;
        if header & 0xff == u32::from(id) {
            return Ok(Some(at));
        }
        at = (header >> 8 & 0xfc) as u16;
    }
    Err(PcieError::BadCapabilityList { at })
}

/// The offset of the first extended capability with ID `id`, or `None`.
pub fn find_ext_capability<C: ConfigSpace + ?Sized>(
    config: &mut C,
    rid: u16,
    id: u16,
) -> Result<Option<u16>, PcieError> {
    let mut at = cfg::EXT_CAP_START;
    // Each extended capability takes at least 4 bytes of the 3840 above
    // 0x100, so a longer walk is a loop.
    for _ in 0..960 {
        let header = config.config_read32(rid, at)?;
        // An empty list reads 0 (all-ones from a function without extended
        // space behind a bridge that completes so).
        if header == 0 || header == u32::MAX {
            return Ok(None);
        }
        if header & 0xffff == u32::from(id) {
            return Ok(Some(at));
        }
        let next = (header >> 20) as u16 & !3;
        if next == 0 {
            return Ok(None);
        }
        if next < cfg::EXT_CAP_START {
            return Err(PcieError::BadCapabilityList { at: next });
        }
        at = next;
    }
    Err(PcieError::BadCapabilityList { at })
}

/// The IDs the endpoint's configuration reports (the hard IP's generation
/// parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EndpointIds {
    /// Vendor ID (PF header; subsystem vendor ID of every function).
    pub vendor: u16,
    /// The PF's device ID.
    pub pf_device: u16,
    /// VF Device ID in the SR-IOV capability.
    pub vf_device: u16,
}

impl Default for EndpointIds {
    fn default() -> Self {
        EndpointIds {
            vendor: VENDOR_ID,
            pf_device: PF_DEVICE_ID,
            vf_device: VF_DEVICE_ID,
        }
    }
}

/// Which function a routing ID reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Pf,
    Vf(usize),
}

/// The PCIe endpoint (hard IP) around a NIC core: the PF's and VFs'
/// configuration spaces and the routing of memory requests to the core's
/// BARs.
#[derive(Debug, Clone)]
pub struct PcieEndpoint<D: NicDevice> {
    device: D,
    rid: u16,
    ids: EndpointIds,
    total_vfs: u16,
    // PF header and PCI Express capability state.
    command: u16,
    bar0: u32,
    interrupt_line: u8,
    device_control: u16,
    // SR-IOV capability state.
    sriov_control: u16,
    num_vfs: u16,
    system_page_size: u32,
    vf_bar0: u32,
    // Each VF's Command register (Bus Master Enable is per VF).
    vf_command: Vec<u16>,
}

impl<D: NicDevice> PcieEndpoint<D> {
    /// An endpoint at routing ID `rid` (bus 15:8, device 7:3, function 2:0)
    /// over `device`, with the default IDs, out of reset: no BAR placed,
    /// decoding off, VFs disabled. TotalVFs is `device.build().vfs`.
    pub fn new(device: D, rid: u16) -> Self {
        Self::with_ids(device, rid, EndpointIds::default())
    }

    /// As [`PcieEndpoint::new`], with other IDs (another product, or a test
    /// of the driver's ID check).
    pub fn with_ids(device: D, rid: u16, ids: EndpointIds) -> Self {
        let total_vfs = u16::try_from(device.build().vfs).unwrap_or(u16::MAX);
        Self {
            device,
            rid,
            ids,
            total_vfs,
            command: 0,
            bar0: 0,
            interrupt_line: 0,
            device_control: DEVICE_CONTROL_RESET,
            sriov_control: 0,
            num_vfs: 0,
            system_page_size: cfg::sriov::PAGE_4K,
            vf_bar0: 0,
            vf_command: vec![0; usize::from(total_vfs)],
        }
    }

    /// The PF's routing ID.
    pub fn rid(&self) -> u16 {
        self.rid
    }
    pub fn device(&self) -> &D {
        &self.device
    }
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }
    pub fn into_device(self) -> D {
        self.device
    }

    /// TotalVFs: the VFs the build has.
    pub fn total_vfs(&self) -> u16 {
        self.total_vfs
    }

    /// VF i's routing ID, if it fits in 16 bits.
    pub fn vf_rid(&self, index: usize) -> Option<u16> {
        let rid = u64::from(self.rid)
            + u64::from(FIRST_VF_OFFSET)
            + (index as u64).checked_mul(u64::from(VF_STRIDE))?;
        u16::try_from(rid).ok()
    }

    /// VFs present: NumVFs (never above TotalVFs) while VF Enable is set,
    /// less any whose routing ID would not fit in 16 bits.
    pub fn active_vfs(&self) -> usize {
        if self.sriov_control & cfg::sriov::VF_ENABLE == 0 {
            return 0;
        }
        let n = u32::from(self.num_vfs.min(self.total_vfs));
        // Routing IDs from the first VF's up to 0xFFFF, one VF per stride.
        let first = u32::from(self.rid) + u32::from(FIRST_VF_OFFSET);
        let room = (u32::from(u16::MAX) + 1).saturating_sub(first);
        let fit = room.div_ceil(u32::from(VF_STRIDE));
        n.min(fit) as usize
    }

    fn target(&self, rid: u16) -> Option<Target> {
        if rid == self.rid {
            return Some(Target::Pf);
        }
        let first = u32::from(self.rid) + u32::from(FIRST_VF_OFFSET);
        let d = u32::from(rid).checked_sub(first)?;
        if d % u32::from(VF_STRIDE) != 0 {
            return None;
        }
        let i = (d / u32::from(VF_STRIDE)) as usize;
        (i < self.active_vfs()).then_some(Target::Vf(i))
    }

    fn check_config_offset(offset: u16) -> Result<(), PcieError> {
        if offset & 3 != 0 || offset >= CONFIG_SPACE_SIZE {
            return Err(PcieError::ConfigOffset { offset });
        }
        Ok(())
    }

    /// Where `function`'s BAR0 decodes now, or `None` when it does not
    /// (memory space off, VFs disabled or VF MSE clear, no such VF).
    pub fn bar(&self, function: Function) -> Option<Bar> {
        match function {
            Function::Pf => (self.command & cfg::COMMAND_MEMORY != 0).then(|| Bar {
                base: u64::from(self.bar0 & !(PF_BAR_SIZE - 1)),
                size: u64::from(PF_BAR_SIZE),
            }),
            Function::Vf(i) => {
                let vf_mse = self.sriov_control & cfg::sriov::VF_MSE != 0;
                (vf_mse && i < self.active_vfs()).then(|| Bar {
                    base: u64::from(self.vf_bar0 & !(VF_BAR_SIZE - 1))
                        + i as u64 * u64::from(VF_BAR_SIZE),
                    size: u64::from(VF_BAR_SIZE),
                })
            }
        }
    }

    /// The function and BAR offset a memory request at `addr` reaches.
    fn route(&self, addr: u64) -> Result<(Function, u32), PcieError> {
        if addr & 3 != 0 {
            return Err(PcieError::Unaligned { addr });
        }
        if let Some(bar) = self.bar(Function::Pf).filter(|b| b.contains(addr)) {
            return Ok((Function::Pf, (addr - bar.base) as u32));
        }
        if self.sriov_control & cfg::sriov::VF_MSE != 0 && self.active_vfs() > 0 {
            let base = u64::from(self.vf_bar0 & !(VF_BAR_SIZE - 1));
            let size = u64::from(VF_BAR_SIZE);
            if addr >= base && (addr - base) / size < self.active_vfs() as u64 {
                let i = ((addr - base) / size) as usize;
                return Ok((Function::Vf(i), ((addr - base) % size) as u32));
            }
        }
        Err(PcieError::UnsupportedRequest { addr })
    }

    /// A 32-bit memory read at bus address `addr`.
    pub fn mem_read32(&mut self, addr: u64) -> Result<u32, PcieError> {
        let (function, offset) = self.route(addr)?;
        self.device
            .bar_read(function, offset)
            .map_err(PcieError::Completer)
    }

    /// A 32-bit memory write (all byte enables) at bus address `addr`.
    pub fn mem_write32(&mut self, addr: u64, value: u32) -> Result<(), PcieError> {
        let (function, offset) = self.route(addr)?;
        self.device
            .bar_write(function, offset, value)
            .map_err(PcieError::Completer)
    }

    /// A register bus over `function`'s BAR0, which must be decoding.
    pub fn bar_bus(&mut self, function: Function) -> Result<BarBus<'_, D>, PcieError> {
        let bar = self.bar(function).ok_or(PcieError::NotMapped(function))?;
        Ok(BarBus {
            endpoint: self,
            bar,
        })
    }

    /// Typed register accessors over `function`'s BAR0 (see
    /// [`PcieEndpoint::bar_bus`]).
    pub fn registers(&mut self, function: Function) -> Result<Registers<BarBus<'_, D>>, PcieError> {
        self.bar_bus(function).map(Registers::new)
    }

    /// The PCI Express capability's dword at `offset` within it (shared by
    /// the PF and the VFs, whose Device Control is read-only).
    fn read_pcie_cap(&self, offset: u16, target: Target) -> u32 {
        use cfg::pcie::*;
        match offset {
            HEADER => u32::from(cfg::CAP_ID_PCIE) | u32::from(VERSION | TYPE_ENDPOINT << 4) << 16,
            DEVICE_CAPABILITIES => DEVICE_CAPABILITIES_VALUE,
            DEVICE_CONTROL => u32::from(match target {
                Target::Pf => self.device_control,
                Target::Vf(_) => DEVICE_CONTROL_RESET,
            }),
            LINK_CAPABILITIES => LINK_CAPABILITIES_VALUE,
            LINK_CONTROL => LINK_STATUS_VALUE << 16,
            LINK_CAPABILITIES_2 => LINK_CAPABILITIES_2_VALUE,
            LINK_CONTROL_2 => LINK_CONTROL_2_VALUE,
            _ => 0,
        }
    }

    /// The SR-IOV capability's dword at `offset` within it.
    fn read_sriov_cap(&self, offset: u16) -> u32 {
        use cfg::sriov::*;
        match offset {
            HEADER => u32::from(cfg::EXT_CAP_ID_SRIOV) | VERSION << 16,
            CONTROL => u32::from(self.sriov_control),
            INITIAL_VFS => u32::from(self.total_vfs) | u32::from(self.total_vfs) << 16,
            // Function Dependency Link (23:16) is the PF's own function
            // number: no dependency.
            NUM_VFS => u32::from(self.num_vfs) | u32::from(self.rid & 7) << 16,
            FIRST_VF_OFFSET => {
                u32::from(crate::pcie::FIRST_VF_OFFSET) | u32::from(crate::pcie::VF_STRIDE) << 16
            }
            // VF Device ID is the upper half of the dword at 0x18.
            0x18 => u32::from(self.ids.vf_device) << 16,
            SUPPORTED_PAGE_SIZES => crate::pcie::SUPPORTED_PAGE_SIZES,
            SYSTEM_PAGE_SIZE => self.system_page_size,
            VF_BAR0 => self.vf_bar0 | BAR_MEMORY_32,
            _ => 0,
        }
    }

    fn read_config(&self, target: Target, offset: u16) -> u32 {
        let is_pf = target == Target::Pf;
        let pcie = cfg::PCIE_CAP..cfg::PCIE_CAP + cfg::pcie::LEN;
        let sriov = cfg::SRIOV_CAP..cfg::SRIOV_CAP + cfg::sriov::LEN;
        match offset {
            // A VF's vendor and device ID registers read all-ones: software
            // finds VFs through the PF's SR-IOV capability.
            cfg::VENDOR_DEVICE if is_pf => {
                u32::from(self.ids.vendor) | u32::from(self.ids.pf_device) << 16
            }
            cfg::VENDOR_DEVICE => u32::MAX,
            cfg::COMMAND_STATUS => {
                let command = match target {
                    Target::Pf => self.command,
                    Target::Vf(i) => self.vf_command.get(i).copied().unwrap_or(0),
                };
                u32::from(command) | u32::from(cfg::STATUS_CAP_LIST) << 16
            }
            cfg::REVISION_CLASS => u32::from(REVISION_ID) | CLASS_CODE << 8,
            // Header type 0, single function; no cache line size or BIST.
            cfg::HEADER_TYPE => 0,
            cfg::BAR0 if is_pf => self.bar0 | BAR_MEMORY_32,
            cfg::SUBSYSTEM => u32::from(self.ids.vendor),
            cfg::CAP_PTR => u32::from(cfg::PCIE_CAP),
            // No INTx (pin 0); the line is the PF's scratch byte for the OS.
            cfg::INTERRUPT if is_pf => u32::from(self.interrupt_line),
            o if pcie.contains(&o) => self.read_pcie_cap(o - cfg::PCIE_CAP, target),
            o if is_pf && sriov.contains(&o) => self.read_sriov_cap(o - cfg::SRIOV_CAP),
            _ => 0,
        }
    }

    fn write_sriov_cap(&mut self, offset: u16, value: u32) {
        use cfg::sriov::*;
        let enabled = self.sriov_control & VF_ENABLE != 0;
        match offset {
            CONTROL => {
                let control = value as u16 & (VF_ENABLE | VF_MSE);
                if (control ^ self.sriov_control) & VF_ENABLE != 0 {
                    // VFs appear (or vanish) out of reset.
                    self.vf_command.iter_mut().for_each(|c| *c = 0);
                }
                self.sriov_control = control;
            }
            // NumVFs and System Page Size must not change under live VFs.
            NUM_VFS if !enabled => self.num_vfs = value as u16,
            SYSTEM_PAGE_SIZE if !enabled => {
                self.system_page_size = value & crate::pcie::SUPPORTED_PAGE_SIZES
            }
            VF_BAR0 => self.vf_bar0 = value & !(VF_BAR_SIZE - 1),
            _ => {}
        }
    }

    fn write_config(&mut self, target: Target, offset: u16, value: u32) {
        let writable_command = match target {
            Target::Pf => cfg::COMMAND_MEMORY | cfg::COMMAND_BUS_MASTER,
            // A VF's memory space is governed by VF MSE in the PF.
            Target::Vf(_) => cfg::COMMAND_BUS_MASTER,
        };
        match (target, offset) {
            (_, cfg::COMMAND_STATUS) => {
                let command = value as u16 & writable_command;
                match target {
                    Target::Pf => self.command = command,
                    Target::Vf(i) => {
                        if let Some(c) = self.vf_command.get_mut(i) {
                            *c = command;
                        }
                    }
                }
            }
            (Target::Pf, cfg::BAR0) => self.bar0 = value & !(PF_BAR_SIZE - 1),
            (Target::Pf, cfg::INTERRUPT) => self.interrupt_line = value as u8,
            (Target::Pf, o) if o == cfg::PCIE_CAP + cfg::pcie::DEVICE_CONTROL => {
                self.device_control = value as u16 & DEVICE_CONTROL_MASK
            }
            (Target::Pf, o) if (cfg::SRIOV_CAP..cfg::SRIOV_CAP + cfg::sriov::LEN).contains(&o) => {
                self.write_sriov_cap(o - cfg::SRIOV_CAP, value)
            }
            _ => {}
        }
    }
}

impl<D: NicDevice> ConfigSpace for PcieEndpoint<D> {
    fn config_read32(&mut self, rid: u16, offset: u16) -> Result<u32, PcieError> {
        Self::check_config_offset(offset)?;
        let target = self.target(rid).ok_or(PcieError::NoFunction { rid })?;
        Ok(self.read_config(target, offset))
    }

    fn config_write32(&mut self, rid: u16, offset: u16, value: u32) -> Result<(), PcieError> {
        Self::check_config_offset(offset)?;
        let target = self.target(rid).ok_or(PcieError::NoFunction { rid })?;
        self.write_config(target, offset, value);
        Ok(())
    }
}

/// One function's BAR0 as a [`RegisterBus`], through the endpoint's memory
/// routing. It borrows the endpoint, so the mapping it was made for cannot
/// change under it; make one per access sequence
/// ([`PcieEndpoint::bar_bus`], [`PcieEndpoint::registers`]).
#[derive(Debug)]
pub struct BarBus<'a, D: NicDevice> {
    endpoint: &'a mut PcieEndpoint<D>,
    bar: Bar,
}

impl<D: NicDevice> BarBus<'_, D> {
    /// Where the BAR decodes.
    pub fn bar(&self) -> Bar {
        self.bar
    }

    fn address(&self, offset: u32) -> Result<u64, BusError> {
        if u64::from(offset) >= self.bar.size {
            return Err(BusError::OutOfRange { offset });
        }
        Ok(self.bar.base + u64::from(offset))
    }
}

impl<D: NicDevice> RegisterBus for BarBus<'_, D> {
    fn read32(&mut self, offset: u32) -> Result<u32, BusError> {
        let addr = self.address(offset)?;
        self.endpoint
            .mem_read32(addr)
            .map_err(PcieError::into_bus_error)
    }

    fn write32(&mut self, offset: u32, value: u32) -> Result<(), BusError> {
        let addr = self.address(offset)?;
        self.endpoint
            .mem_write32(addr, value)
            .map_err(PcieError::into_bus_error)
    }
}

/// One enabled VF, as [`Enumerated::enable_vfs`] found and placed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VfInfo {
    /// VF index (`Function::Vf(index)`).
    pub index: usize,
    /// Its routing ID.
    pub rid: u16,
    /// Where its BAR0 decodes.
    pub bar: Bar,
}

/// What [`enumerate`] found and set up: the PF, its capabilities and BAR,
/// and the VFs enabled since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enumerated {
    rid: u16,
    pcie_cap: u16,
    sriov_cap: u16,
    total_vfs: u16,
    pf_bar: Bar,
    vfs: Vec<VfInfo>,
}

/// The sizing read-back of a 32-bit memory BAR, as its size, or why the
/// driver cannot place it.
fn bar_size(name: &'static str, readback: u32) -> Result<u64, PcieError> {
    let mask = readback & !BAR_FLAGS;
    // I/O, 64-bit or prefetchable BARs are not what this device has, and a
    // mask that is not a run of ones from bit 31 down is no BAR at all.
    if readback & BAR_FLAGS != BAR_MEMORY_32 || mask == 0 || (!mask).wrapping_add(1) & !mask != 0 {
        return Err(PcieError::UnsupportedBar { name, readback });
    }
    Ok(u64::from((!mask).wrapping_add(1)))
}

/// Writes all-ones to the BAR at `offset`, reads the size back, restores it.
fn size_bar<C: ConfigSpace + ?Sized>(
    config: &mut C,
    rid: u16,
    offset: u16,
    name: &'static str,
) -> Result<u64, PcieError> {
    let original = config.config_read32(rid, offset)?;
    config.config_write32(rid, offset, u32::MAX)?;
    let readback = config.config_read32(rid, offset)?;
    config.config_write32(rid, offset, original)?;
    bar_size(name, readback)
}

/// `addr` rounded up to `align` (a power of two), if it does not overflow.
fn align_up(addr: u64, align: u64) -> Option<u64> {
    Some(addr.checked_add(align - 1)? & !(align - 1))
}

/// Where `len` bytes of 32-bit BAR space aligned to `align` go at or after
/// `window`, if they fit below 4 GiB.
fn place_32(window: u64, align: u64, len: u64) -> Result<u64, PcieError> {
    align_up(window, align)
        .filter(|base| base.checked_add(len).is_some_and(|end| end <= 1 << 32))
        .ok_or(PcieError::WindowOutOfRange { window })
}

/// Enumerates the PF at the endpoint's routing ID as a host does: checks its
/// IDs against the driver's ([`VENDOR_ID`], [`PF_DEVICE_ID`]) and its header
/// type, finds the PCI Express and SR-IOV capabilities, sizes BAR0 and
/// places it at `window` (rounded up to the BAR's size), then enables memory
/// space and bus mastering. VFs stay disabled
/// ([`Enumerated::enable_vfs`]).
pub fn enumerate<D: NicDevice>(
    endpoint: &mut PcieEndpoint<D>,
    window: u64,
) -> Result<Enumerated, PcieError> {
    let rid = endpoint.rid();
    enumerate_at(endpoint, rid, window)
}

/// [`enumerate`] over configuration accesses alone (so the checks can be
/// tried on configuration spaces the endpoint never presents).
fn enumerate_at<C: ConfigSpace + ?Sized>(
    config: &mut C,
    rid: u16,
    window: u64,
) -> Result<Enumerated, PcieError> {
    let ids = config.config_read32(rid, cfg::VENDOR_DEVICE)?;
    let (vendor, device) = (ids as u16, (ids >> 16) as u16);
    if vendor != VENDOR_ID || device != PF_DEVICE_ID {
        return Err(PcieError::WrongDevice { vendor, device });
    }
    let header_type = (config.config_read32(rid, cfg::HEADER_TYPE)? >> 16) as u8;
    if header_type & 0x7f != 0 {
        return Err(PcieError::NotEndpoint(header_type));
    }
    let pcie_cap = find_capability(config, rid, cfg::CAP_ID_PCIE)?
        .ok_or(PcieError::MissingCapability("PCI Express"))?;
    let sriov_cap = find_ext_capability(config, rid, cfg::EXT_CAP_ID_SRIOV)?
        .ok_or(PcieError::MissingCapability("SR-IOV"))?;

    // Decoding off while the BAR holds the sizing pattern.
    let command = config.config_read16(rid, cfg::COMMAND_STATUS)?;
    let decode = cfg::COMMAND_MEMORY | cfg::COMMAND_BUS_MASTER;
    config.config_write32(rid, cfg::COMMAND_STATUS, u32::from(command & !decode))?;
    let size = size_bar(config, rid, cfg::BAR0, "PF BAR0")?;
    let base = place_32(window, size, size)?;
    config.config_write32(rid, cfg::BAR0, base as u32)?;
    config.config_write32(rid, cfg::COMMAND_STATUS, u32::from(command | decode))?;

    let total_vfs = config.config_read16(rid, sriov_cap + cfg::sriov::TOTAL_VFS)?;
    Ok(Enumerated {
        rid,
        pcie_cap,
        sriov_cap,
        total_vfs,
        pf_bar: Bar { base, size },
        vfs: Vec::new(),
    })
}

impl Enumerated {
    /// The PF's routing ID.
    pub fn rid(&self) -> u16 {
        self.rid
    }
    /// Where the PCI Express capability is.
    pub fn pcie_cap(&self) -> u16 {
        self.pcie_cap
    }
    /// Where the SR-IOV capability is.
    pub fn sriov_cap(&self) -> u16 {
        self.sriov_cap
    }
    /// TotalVFs, as the SR-IOV capability reports it.
    pub fn total_vfs(&self) -> u16 {
        self.total_vfs
    }
    /// Where the PF's BAR0 was placed.
    pub fn pf_bar(&self) -> Bar {
        self.pf_bar
    }
    /// The VFs enabled now (empty when disabled).
    pub fn vfs(&self) -> &[VfInfo] {
        &self.vfs
    }

    /// Enables `n` VFs as the SR-IOV spec orders it: System Page Size (4
    /// KiB), NumVFs, then First VF Offset and VF Stride (which may depend on
    /// NumVFs), VF BAR0 sized and placed after the PF's BAR (aligned to one
    /// VF's size), and VF Enable with VF MSE. Each VF's configuration space
    /// is then checked to answer as a VF (vendor ID 0xFFFF).
    ///
    /// Refuses 0 VFs, more than TotalVFs, and a second enable without a
    /// [`Enumerated::disable_vfs`] in between (NumVFs is read-only then).
    pub fn enable_vfs<D: NicDevice>(
        &mut self,
        endpoint: &mut PcieEndpoint<D>,
        n: u16,
    ) -> Result<Vec<VfInfo>, PcieError> {
        use cfg::sriov::*;
        if n == 0 || n > self.total_vfs {
            return Err(PcieError::BadVfCount {
                requested: n,
                total: self.total_vfs,
            });
        }
        let (rid, cap) = (self.rid, self.sriov_cap);
        let control = endpoint.config_read16(rid, cap + CONTROL)?;
        if control & VF_ENABLE != 0 {
            return Err(PcieError::VfsAlreadyEnabled);
        }
        let supported = endpoint.config_read32(rid, cap + SUPPORTED_PAGE_SIZES)?;
        if supported & PAGE_4K == 0 {
            return Err(PcieError::PageSizeUnsupported(supported));
        }
        endpoint.config_write32(rid, cap + SYSTEM_PAGE_SIZE, PAGE_4K)?;
        endpoint.config_write32(rid, cap + NUM_VFS, u32::from(n))?;
        match self.place_vfs(endpoint, n, control) {
            Ok(vfs) => {
                self.vfs = vfs.clone();
                Ok(vfs)
            }
            Err(e) => {
                // Leave the PF as it was: no VFs, NumVFs 0.
                let _ = endpoint.config_write32(rid, cap + CONTROL, u32::from(control));
                let _ = endpoint.config_write32(rid, cap + NUM_VFS, 0);
                Err(e)
            }
        }
    }

    /// [`Enumerated::enable_vfs`] once NumVFs is written: routing IDs, VF
    /// BAR, enables, and the check of each VF.
    fn place_vfs<D: NicDevice>(
        &self,
        endpoint: &mut PcieEndpoint<D>,
        n: u16,
        control: u16,
    ) -> Result<Vec<VfInfo>, PcieError> {
        use cfg::sriov::*;
        let (rid, cap) = (self.rid, self.sriov_cap);

        let offset = endpoint.config_read16(rid, cap + FIRST_VF_OFFSET)?;
        let stride = endpoint.config_read16(rid, cap + VF_STRIDE)?;
        let rids: Option<Vec<u16>> = (0..n)
            .map(|i| {
                let r = u32::from(rid) + u32::from(offset) + u32::from(i) * u32::from(stride);
                u16::try_from(r).ok()
            })
            .collect();
        let rids = rids
            .filter(|_| offset != 0 && (stride != 0 || n == 1))
            .ok_or(PcieError::VfRouting { offset, stride })?;

        let size = size_bar(endpoint, rid, cap + VF_BAR0, "VF BAR0")?;
        let window = self.pf_bar.end();
        let base = place_32(window, size, size * u64::from(n))?;
        endpoint.config_write32(rid, cap + VF_BAR0, base as u32)?;
        endpoint.config_write32(rid, cap + CONTROL, u32::from(control | VF_ENABLE | VF_MSE))?;

        let mut vfs = Vec::with_capacity(usize::from(n));
        for (index, &vf_rid) in rids.iter().enumerate() {
            let missing = PcieError::VfMissing { index, rid: vf_rid };
            match endpoint.config_read32(vf_rid, cfg::VENDOR_DEVICE) {
                Ok(u32::MAX) => {}
                Ok(_) | Err(PcieError::NoFunction { .. }) => return Err(missing),
                Err(e) => return Err(e),
            }
            vfs.push(VfInfo {
                index,
                rid: vf_rid,
                bar: Bar {
                    base: base + index as u64 * size,
                    size,
                },
            });
        }
        Ok(vfs)
    }

    /// Disables the VFs (VF Enable and VF MSE clear) and sets NumVFs back
    /// to 0. Their BAR windows stop decoding at once.
    pub fn disable_vfs<D: NicDevice>(
        &mut self,
        endpoint: &mut PcieEndpoint<D>,
    ) -> Result<(), PcieError> {
        use cfg::sriov::*;
        let (rid, cap) = (self.rid, self.sriov_cap);
        let control = endpoint.config_read16(rid, cap + CONTROL)?;
        endpoint.config_write32(
            rid,
            cap + CONTROL,
            u32::from(control & !(VF_ENABLE | VF_MSE)),
        )?;
        endpoint.config_write32(rid, cap + NUM_VFS, 0)?;
        self.vfs.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests;
