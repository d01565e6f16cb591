use super::*;

use crate::device::{DeviceError, HostFrame};
use crate::registers::RegisterFileModel;
use crate::rx::RxDelivery;
use overlay_nic_regmap::{pf, Build, Register};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The PF at bus 3, device 0, function 0.
const RID: u16 = 0x0300;
const WINDOW: u64 = 0xe000_0000;

/// One BAR access the fake device saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read(Function, u32),
    Write(Function, u32, u32),
}

/// Register files only (the PF's and one per VF), recording every access.
struct FakeNic {
    vfs: usize,
    pf: RegisterFileModel,
    vf: Vec<RegisterFileModel>,
    log: Vec<Access>,
}

fn vf_table() -> &'static [Register] {
    static TABLE: OnceLock<Vec<Register>> = OnceLock::new();
    TABLE.get_or_init(vf::table)
}

impl FakeNic {
    fn new(vfs: usize) -> Self {
        FakeNic {
            vfs,
            // The build's whole PF BAR, function blocks included (leaked:
            // the model wants a static table; a few per test run).
            pf: RegisterFileModel::new(Box::leak(
                pf::table(&Build {
                    vfs,
                    ..Build::DEFAULT
                })
                .into_boxed_slice(),
            )),
            vf: (0..vfs)
                .map(|_| RegisterFileModel::new(vf_table()))
                .collect(),
            log: Vec::new(),
        }
    }

    fn vf(&mut self, i: usize) -> Result<&mut RegisterFileModel, BusError> {
        self.vf
            .get_mut(i)
            .ok_or(BusError::Transport(format!("no VF{i}")))
    }
}

impl NicDevice for FakeNic {
    fn build(&self) -> Build {
        Build {
            vfs: self.vfs,
            ..Build::DEFAULT
        }
    }
    fn bar_read(&mut self, function: Function, offset: u32) -> Result<u32, BusError> {
        self.log.push(Access::Read(function, offset));
        match function {
            Function::Pf => self.pf.read32(offset),
            Function::Vf(i) => self.vf(i)?.read32(offset),
        }
    }
    fn bar_write(&mut self, function: Function, offset: u32, value: u32) -> Result<(), BusError> {
        self.log.push(Access::Write(function, offset, value));
        match function {
            Function::Pf => self.pf.write32(offset, value),
            Function::Vf(i) => self.vf(i)?.write32(offset, value),
        }
    }
    fn transmit(&mut self, _: &[HostFrame]) -> Result<Vec<Vec<u8>>, DeviceError> {
        Ok(Vec::new())
    }
    fn receive(&mut self, _: &[Vec<u8>]) -> Result<Vec<RxDelivery>, DeviceError> {
        Ok(Vec::new())
    }
}

fn endpoint(vfs: usize) -> PcieEndpoint<FakeNic> {
    PcieEndpoint::new(FakeNic::new(vfs), RID)
}

fn rd(ep: &mut PcieEndpoint<FakeNic>, offset: u16) -> u32 {
    ep.config_read32(RID, offset).unwrap()
}

fn rd16(ep: &mut PcieEndpoint<FakeNic>, offset: u16) -> u16 {
    ep.config_read16(RID, offset).unwrap()
}

fn wr(ep: &mut PcieEndpoint<FakeNic>, offset: u16, value: u32) {
    ep.config_write32(RID, offset, value).unwrap()
}

const SRIOV: u16 = cfg::SRIOV_CAP;
const PCIE: u16 = cfg::PCIE_CAP;

/// An endpoint enumerated at [`WINDOW`] with `n` VFs enabled.
fn with_vfs(vfs: usize, n: u16) -> (PcieEndpoint<FakeNic>, Enumerated, Vec<VfInfo>) {
    let mut ep = endpoint(vfs);
    let mut nic = enumerate(&mut ep, WINDOW).unwrap();
    let infos = nic.enable_vfs(&mut ep, n).unwrap();
    ep.device_mut().log.clear();
    (ep, nic, infos)
}

// ---- PF header ----

#[test]
fn pf_header_fields() {
    let mut ep = endpoint(4);
    assert_eq!(rd16(&mut ep, 0x00), VENDOR_ID);
    assert_eq!(rd16(&mut ep, 0x02), PF_DEVICE_ID);
    assert_eq!(rd(&mut ep, cfg::VENDOR_DEVICE), 0x0001_1ee7);
    assert_eq!(rd16(&mut ep, 0x04), 0, "command out of reset");
    assert_eq!(rd16(&mut ep, 0x06), cfg::STATUS_CAP_LIST);
    assert_eq!(rd(&mut ep, cfg::REVISION_CLASS), 0x0200_0001);
    assert_eq!(
        rd(&mut ep, cfg::REVISION_CLASS) & 0xff,
        u32::from(REVISION_ID)
    );
    assert_eq!(rd(&mut ep, cfg::HEADER_TYPE) >> 16 & 0xff, 0);
    assert_eq!(rd(&mut ep, cfg::BAR0), 0, "BAR0 unplaced, memory 32-bit");
    for bar in 1..6 {
        let offset = cfg::BAR0 + 4 * bar;
        assert_eq!(rd(&mut ep, offset), 0, "BAR{bar}");
        wr(&mut ep, offset, u32::MAX);
        assert_eq!(rd(&mut ep, offset), 0, "BAR{bar} is not implemented");
    }
    assert_eq!(rd(&mut ep, 0x28), 0, "no CardBus CIS");
    assert_eq!(rd16(&mut ep, 0x2c), VENDOR_ID, "subsystem vendor");
    assert_eq!(rd(&mut ep, 0x30), 0, "no expansion ROM");
    assert_eq!(rd(&mut ep, cfg::CAP_PTR), 0x40);
    assert_eq!(rd(&mut ep, cfg::INTERRUPT) >> 8 & 0xff, 0, "no INTx pin");
    // Reserved header space and unused capability space read 0.
    for offset in [0x38, 0x80, 0xfc, 0x140, 0xffc] {
        assert_eq!(rd(&mut ep, offset), 0, "{offset:#x}");
    }
}

#[test]
fn command_register_keeps_only_memory_and_bus_master() {
    let mut ep = endpoint(4);
    wr(&mut ep, cfg::COMMAND_STATUS, 0xffff_ffff);
    assert_eq!(rd(&mut ep, cfg::COMMAND_STATUS), 0x0010_0006);
    wr(
        &mut ep,
        cfg::COMMAND_STATUS,
        u32::from(cfg::COMMAND_BUS_MASTER),
    );
    assert_eq!(rd16(&mut ep, cfg::COMMAND_STATUS), cfg::COMMAND_BUS_MASTER);
    wr(&mut ep, cfg::COMMAND_STATUS, 0);
    assert_eq!(rd16(&mut ep, cfg::COMMAND_STATUS), 0);
}

#[test]
fn read_only_header_fields_ignore_writes() {
    let mut ep = endpoint(4);
    for offset in [
        cfg::VENDOR_DEVICE,
        cfg::REVISION_CLASS,
        cfg::HEADER_TYPE,
        cfg::SUBSYSTEM,
        cfg::CAP_PTR,
    ] {
        let before = rd(&mut ep, offset);
        wr(&mut ep, offset, !before);
        assert_eq!(rd(&mut ep, offset), before, "{offset:#x}");
    }
    // The interrupt line is the OS's scratch byte; the pin stays 0.
    wr(&mut ep, cfg::INTERRUPT, 0xffff_ff0b);
    assert_eq!(rd(&mut ep, cfg::INTERRUPT), 0x0b);
}

#[test]
fn pf_bar0_sizing() {
    let mut ep = endpoint(4);
    wr(&mut ep, cfg::BAR0, u32::MAX);
    let readback = rd(&mut ep, cfg::BAR0);
    assert_eq!(
        readback, 0xffff_0000,
        "64 KiB, memory, 32-bit, non-prefetchable"
    );
    assert_eq!(
        u64::from(!readback + 1),
        1 << overlay_nic_regmap::ADDRESS_BITS
    );
    assert_eq!(bar_size("PF BAR0", readback), Ok(u64::from(PF_BAR_SIZE)));
    // Address bits below the size read 0.
    wr(&mut ep, cfg::BAR0, 0x1234_5678);
    assert_eq!(rd(&mut ep, cfg::BAR0), 0x1234_0000);
}

#[test]
fn bar_size_refuses_what_the_driver_cannot_place() {
    for readback in [0, 0xffff_0001, 0xffff_0004, 0xffff_0008, 0xff0f_0000] {
        assert!(
            matches!(
                bar_size("x", readback),
                Err(PcieError::UnsupportedBar { .. })
            ),
            "{readback:#x}"
        );
    }
    assert_eq!(bar_size("x", 0xffff_f000), Ok(0x1000));
    assert_eq!(bar_size("x", 0x8000_0000), Ok(0x8000_0000));
}

// ---- PCI Express capability ----

#[test]
fn pcie_capability_fields() {
    let mut ep = endpoint(4);
    let header = rd(&mut ep, PCIE);
    assert_eq!(header & 0xff, 0x10, "capability ID");
    assert_eq!(header >> 8 & 0xff, 0, "last in the list");
    assert_eq!(header >> 16 & 0xf, 2, "version 2");
    assert_eq!(header >> 20 & 0xf, 0, "PCI Express Endpoint");
    assert_eq!(header >> 24 & 1, 0, "no slot");
    let devcap = rd(&mut ep, PCIE + cfg::pcie::DEVICE_CAPABILITIES);
    assert_eq!(devcap & 7, 0, "Max_Payload_Size 128");
    assert_eq!(devcap >> 15 & 1, 1, "role-based error reporting");
    let devctl = rd16(&mut ep, PCIE + cfg::pcie::DEVICE_CONTROL);
    assert_eq!(devctl >> 12 & 7, 0b010, "Max_Read_Request_Size 512");
    wr(
        &mut ep,
        PCIE + cfg::pcie::DEVICE_CONTROL,
        0xffff_0000 | 0x20,
    );
    assert_eq!(
        rd(&mut ep, PCIE + cfg::pcie::DEVICE_CONTROL),
        0x20,
        "Device Control stored, Initiate FLR and status not"
    );
    let lnkcap = rd(&mut ep, PCIE + cfg::pcie::LINK_CAPABILITIES);
    assert_eq!((lnkcap & 0xf, lnkcap >> 4 & 0x3f), (3, 8));
    let lnksta = rd16(&mut ep, PCIE + cfg::pcie::LINK_CONTROL + 2);
    assert_eq!((lnksta & 0xf, lnksta >> 4 & 0x3f), (3, 8));
    let speeds = rd(&mut ep, PCIE + cfg::pcie::LINK_CAPABILITIES_2);
    assert_eq!(speeds >> 1 & 0x7f, 0b111, "2.5, 5 and 8 GT/s");
    assert_eq!(rd(&mut ep, PCIE + cfg::pcie::LINK_CONTROL_2) & 0xf, 3);
    // Slot and root registers: none.
    for offset in (0x14..0x24).step_by(4) {
        assert_eq!(rd(&mut ep, PCIE + offset), 0, "{offset:#x}");
    }
    assert_eq!(
        find_capability(&mut ep, RID, cfg::CAP_ID_PCIE),
        Ok(Some(PCIE))
    );
    assert_eq!(find_capability(&mut ep, RID, 0x05), Ok(None), "no MSI");
}

// ---- SR-IOV capability ----

#[test]
fn sriov_capability_fields() {
    let mut ep = endpoint(4);
    let header = rd(&mut ep, SRIOV);
    assert_eq!(header & 0xffff, 0x0010, "SR-IOV");
    assert_eq!(header >> 16 & 0xf, 1, "version 1");
    assert_eq!(header >> 20, 0, "last extended capability");
    use cfg::sriov::*;
    assert_eq!(rd(&mut ep, SRIOV + CAPABILITIES), 0);
    assert_eq!(rd16(&mut ep, SRIOV + CONTROL), 0);
    assert_eq!(rd16(&mut ep, SRIOV + STATUS), 0);
    assert_eq!(rd16(&mut ep, SRIOV + INITIAL_VFS), 4);
    assert_eq!(rd16(&mut ep, SRIOV + TOTAL_VFS), 4);
    assert_eq!(rd16(&mut ep, SRIOV + NUM_VFS), 0);
    assert_eq!(rd16(&mut ep, SRIOV + FUNCTION_DEPENDENCY_LINK), 0);
    assert_eq!(rd16(&mut ep, SRIOV + FIRST_VF_OFFSET), 1);
    assert_eq!(rd16(&mut ep, SRIOV + VF_STRIDE), 1);
    assert_eq!(rd16(&mut ep, SRIOV + 0x18), 0, "reserved");
    assert_eq!(
        rd16(&mut ep, SRIOV + VF_DEVICE_ID),
        crate::pcie::VF_DEVICE_ID
    );
    assert_eq!(rd(&mut ep, SRIOV + SUPPORTED_PAGE_SIZES) & PAGE_4K, PAGE_4K);
    assert_eq!(rd(&mut ep, SRIOV + SYSTEM_PAGE_SIZE), PAGE_4K);
    assert_eq!(rd(&mut ep, SRIOV + VF_BAR0), 0);
    for bar in 1..6 {
        let offset = SRIOV + VF_BAR0 + 4 * bar;
        wr(&mut ep, offset, u32::MAX);
        assert_eq!(rd(&mut ep, offset), 0, "VF BAR{bar}");
    }
    assert_eq!(rd(&mut ep, SRIOV + VF_MIGRATION_STATE), 0);
    assert_eq!(
        find_ext_capability(&mut ep, RID, cfg::EXT_CAP_ID_SRIOV),
        Ok(Some(0x100))
    );
    assert_eq!(
        find_ext_capability(&mut ep, RID, 0x000e),
        Ok(None),
        "no ARI"
    );
}

#[test]
fn total_vfs_follows_the_build() {
    for vfs in [0, 1, 4, pf::MAX_VFS] {
        let mut ep = endpoint(vfs);
        assert_eq!(
            usize::from(rd16(&mut ep, SRIOV + cfg::sriov::TOTAL_VFS)),
            vfs
        );
        assert_eq!(
            usize::from(rd16(&mut ep, SRIOV + cfg::sriov::INITIAL_VFS)),
            vfs
        );
        assert_eq!(usize::from(ep.total_vfs()), vfs);
    }
}

#[test]
fn sriov_read_only_fields_ignore_writes() {
    let mut ep = endpoint(4);
    use cfg::sriov::*;
    for offset in [
        HEADER,
        CAPABILITIES,
        INITIAL_VFS,
        FIRST_VF_OFFSET,
        0x18,
        SUPPORTED_PAGE_SIZES,
        VF_MIGRATION_STATE,
    ] {
        let before = rd(&mut ep, SRIOV + offset);
        wr(&mut ep, SRIOV + offset, !before);
        assert_eq!(rd(&mut ep, SRIOV + offset), before, "{offset:#x}");
    }
    // Control keeps VF Enable and VF MSE only; Status is not writable.
    wr(&mut ep, SRIOV + CONTROL, 0xffff_fffe);
    assert_eq!(rd(&mut ep, SRIOV + CONTROL), u32::from(VF_MSE));
    // NumVFs is 16 bits; Function Dependency Link is read-only.
    wr(&mut ep, SRIOV + NUM_VFS, 0xffff_0003);
    assert_eq!(rd(&mut ep, SRIOV + NUM_VFS), 3);
    // System Page Size keeps supported sizes only.
    wr(&mut ep, SRIOV + SYSTEM_PAGE_SIZE, 0x10);
    assert_eq!(rd(&mut ep, SRIOV + SYSTEM_PAGE_SIZE), 0);
    wr(&mut ep, SRIOV + SYSTEM_PAGE_SIZE, PAGE_4K);
    assert_eq!(rd(&mut ep, SRIOV + SYSTEM_PAGE_SIZE), PAGE_4K);
}

#[test]
fn vf_bar0_sizing() {
    let mut ep = endpoint(4);
    let vf_bar = SRIOV + cfg::sriov::VF_BAR0;
    wr(&mut ep, vf_bar, u32::MAX);
    let readback = rd(&mut ep, vf_bar);
    assert_eq!(readback, 0xffff_f000, "4 KiB per VF, memory, 32-bit");
    assert_eq!(!readback + 1, vf::BAR_SIZE);
    wr(&mut ep, vf_bar, 0xe001_0abc);
    assert_eq!(rd(&mut ep, vf_bar), 0xe001_0000);
}

#[test]
fn num_vfs_is_read_only_while_vfs_are_enabled() {
    let mut ep = endpoint(4);
    use cfg::sriov::*;
    wr(&mut ep, SRIOV + NUM_VFS, 2);
    wr(&mut ep, SRIOV + CONTROL, u32::from(VF_ENABLE));
    wr(&mut ep, SRIOV + NUM_VFS, 3);
    assert_eq!(rd16(&mut ep, SRIOV + NUM_VFS), 2);
    wr(&mut ep, SRIOV + SYSTEM_PAGE_SIZE, 0);
    assert_eq!(rd(&mut ep, SRIOV + SYSTEM_PAGE_SIZE), PAGE_4K);
    assert_eq!(ep.active_vfs(), 2);
    wr(&mut ep, SRIOV + CONTROL, 0);
    wr(&mut ep, SRIOV + NUM_VFS, 3);
    assert_eq!(rd16(&mut ep, SRIOV + NUM_VFS), 3);
}

// ---- VF configuration spaces ----

#[test]
fn vf_config_space() {
    let (mut ep, _, infos) = with_vfs(4, 3);
    for info in &infos {
        let r = info.rid;
        let rd = |ep: &mut PcieEndpoint<FakeNic>, o| ep.config_read32(r, o).unwrap();
        assert_eq!(r, RID + 1 + info.index as u16);
        assert_eq!(rd(&mut ep, cfg::VENDOR_DEVICE), 0xffff_ffff);
        assert_eq!(rd(&mut ep, cfg::COMMAND_STATUS), 0x0010_0000);
        assert_eq!(rd(&mut ep, cfg::REVISION_CLASS), 0x0200_0001);
        assert_eq!(rd(&mut ep, cfg::HEADER_TYPE), 0);
        assert_eq!(rd(&mut ep, cfg::SUBSYSTEM) & 0xffff, u32::from(VENDOR_ID));
        for bar in 0..6 {
            let offset = cfg::BAR0 + 4 * bar;
            ep.config_write32(r, offset, u32::MAX).unwrap();
            assert_eq!(rd(&mut ep, offset), 0, "VF BARs live in the PF");
        }
        // Memory Space Enable is read-only 0; Bus Master Enable is the VF's.
        ep.config_write32(r, cfg::COMMAND_STATUS, 0xffff).unwrap();
        assert_eq!(rd(&mut ep, cfg::COMMAND_STATUS) & 0xffff, 0x0004);
        assert_eq!(
            find_capability(&mut ep, r, cfg::CAP_ID_PCIE),
            Ok(Some(PCIE))
        );
        assert_eq!(rd(&mut ep, PCIE) >> 16, 2, "PCIe v2 endpoint");
        assert_eq!(rd(&mut ep, cfg::EXT_CAP_START), 0, "no SR-IOV in a VF");
        assert_eq!(rd(&mut ep, cfg::INTERRUPT), 0, "no INTx");
    }
    // Bus Master Enable is per VF.
    assert_eq!(ep.config_read16(infos[1].rid, cfg::COMMAND_STATUS), Ok(4));
    ep.config_write32(infos[1].rid, cfg::COMMAND_STATUS, 0)
        .unwrap();
    assert_eq!(ep.config_read16(infos[0].rid, cfg::COMMAND_STATUS), Ok(4));
    assert_eq!(ep.config_read16(infos[1].rid, cfg::COMMAND_STATUS), Ok(0));
    // PF's memory space unaffected by VF command writes.
    assert_eq!(rd16(&mut ep, cfg::COMMAND_STATUS), 0x0006);
}

#[test]
fn vfs_exist_only_while_enabled_and_below_num_vfs() {
    let mut ep = endpoint(4);
    use cfg::sriov::*;
    let nf = |rid| Err(PcieError::NoFunction { rid });
    for rid in RID + 1..=RID + 5 {
        assert_eq!(ep.config_read32(rid, 0), nf(rid), "VF Enable clear");
    }
    wr(&mut ep, SRIOV + NUM_VFS, 2);
    wr(&mut ep, SRIOV + CONTROL, u32::from(VF_ENABLE));
    assert_eq!(ep.config_read32(RID + 1, 0), Ok(u32::MAX));
    assert_eq!(ep.config_read32(RID + 2, 0), Ok(u32::MAX));
    assert_eq!(ep.config_read32(RID + 3, 0), nf(RID + 3), "beyond NumVFs");
    assert_eq!(
        ep.config_write32(RID + 3, 4, 4),
        Err(PcieError::NoFunction { rid: RID + 3 })
    );
    assert_eq!(ep.config_read32(RID - 1, 0), nf(RID - 1));
    assert_eq!(ep.config_read32(0, 0), nf(0));
    // Disabling: the VFs go, and come back out of reset.
    ep.config_write32(RID + 1, cfg::COMMAND_STATUS, 4).unwrap();
    wr(&mut ep, SRIOV + CONTROL, 0);
    assert_eq!(ep.config_read32(RID + 1, 0), nf(RID + 1));
    wr(&mut ep, SRIOV + CONTROL, u32::from(VF_ENABLE));
    assert_eq!(ep.config_read16(RID + 1, cfg::COMMAND_STATUS), Ok(0));
}

#[test]
fn num_vfs_above_total_vfs_is_clamped() {
    let mut ep = endpoint(2);
    use cfg::sriov::*;
    wr(&mut ep, SRIOV + NUM_VFS, 0xffff);
    wr(&mut ep, SRIOV + VF_BAR0, 0x1000_0000);
    wr(&mut ep, SRIOV + CONTROL, u32::from(VF_ENABLE | VF_MSE));
    assert_eq!(ep.active_vfs(), 2);
    assert_eq!(ep.config_read32(RID + 2, 0), Ok(u32::MAX));
    assert_eq!(
        ep.config_read32(RID + 3, 0),
        Err(PcieError::NoFunction { rid: RID + 3 })
    );
    assert_eq!(ep.mem_read32(0x1000_1000), Ok(vf::ID_VALUE));
    assert_eq!(
        ep.mem_read32(0x1000_2000),
        Err(PcieError::UnsupportedRequest { addr: 0x1000_2000 })
    );
    assert_eq!(ep.bar(Function::Vf(2)), None);
}

#[test]
fn vf_routing_ids_stop_at_0xffff() {
    let mut ep = PcieEndpoint::new(FakeNic::new(4), 0xfffd);
    assert_eq!(ep.vf_rid(1), Some(0xffff));
    assert_eq!(ep.vf_rid(2), None);
    let sriov = SRIOV;
    ep.config_write32(0xfffd, sriov + cfg::sriov::NUM_VFS, 4)
        .unwrap();
    ep.config_write32(0xfffd, sriov + cfg::sriov::CONTROL, 1)
        .unwrap();
    assert_eq!(ep.active_vfs(), 2);
    assert_eq!(ep.config_read32(0xffff, 0), Ok(u32::MAX));
    // A PF at the last routing ID has no room for any VF.
    let mut top = PcieEndpoint::new(FakeNic::new(4), 0xffff);
    top.config_write32(0xffff, sriov + cfg::sriov::NUM_VFS, 4)
        .unwrap();
    top.config_write32(0xffff, sriov + cfg::sriov::CONTROL, 1)
        .unwrap();
    assert_eq!(top.active_vfs(), 0);
    assert_eq!(top.vf_rid(0), None);
    // The host refuses to enable VFs that would not fit.
    ep.config_write32(0xfffd, sriov + cfg::sriov::CONTROL, 0)
        .unwrap();
    let mut nic = enumerate(&mut ep, WINDOW).unwrap();
    assert_eq!(nic.enable_vfs(&mut ep, 2).map(|v| v.len()), Ok(2));
    nic.disable_vfs(&mut ep).unwrap();
    assert_eq!(
        nic.enable_vfs(&mut ep, 3),
        Err(PcieError::VfRouting {
            offset: 1,
            stride: 1
        })
    );
}

#[test]
fn bad_config_offsets_are_refused() {
    let mut ep = endpoint(4);
    for offset in [1, 2, 3, 0x101, 0x1000, 0xfffc, u16::MAX] {
        assert_eq!(
            ep.config_read32(RID, offset),
            Err(PcieError::ConfigOffset { offset })
        );
        assert_eq!(
            ep.config_write32(RID, offset, 0),
            Err(PcieError::ConfigOffset { offset })
        );
    }
    assert_eq!(
        ep.config_read16(RID, 3),
        Err(PcieError::ConfigOffset { offset: 3 })
    );
    assert_eq!(ep.config_read32(RID, 0xffc), Ok(0));
}

// ---- Capability walkers over a hand-made configuration space ----

/// A configuration space of given dwords at [`RID`]; the rest reads 0.
struct Dwords(HashMap<u16, u32>);

impl ConfigSpace for Dwords {
    fn config_read32(&mut self, rid: u16, offset: u16) -> Result<u32, PcieError> {
        if rid != RID {
            return Err(PcieError::NoFunction { rid });
        }
        Ok(self.0.get(&offset).copied().unwrap_or(0))
    }
    fn config_write32(&mut self, _: u16, offset: u16, value: u32) -> Result<(), PcieError> {
        self.0.insert(offset, value);
        Ok(())
    }
}

fn dwords(list: &[(u16, u32)]) -> Dwords {
    Dwords(list.iter().copied().collect())
}

#[test]
fn capability_walk_follows_next_pointers() {
    let status = (cfg::COMMAND_STATUS, 0x0010_0000);
    let mut c = dwords(&[
        status,
        (cfg::CAP_PTR, 0x50),
        (0x50, 0x0000_6005),  // MSI, next 0x60
        (0x60, 0x0002_0010),  // PCIe
        (0x100, 0x1400_000e), // ARI, next 0x140
        (0x140, 0x0001_0010), // SR-IOV
    ]);
    assert_eq!(find_capability(&mut c, RID, 0x10), Ok(Some(0x60)));
    assert_eq!(find_capability(&mut c, RID, 0x05), Ok(Some(0x50)));
    assert_eq!(find_capability(&mut c, RID, 0x11), Ok(None));
    assert_eq!(find_ext_capability(&mut c, RID, 0x10), Ok(Some(0x140)));
    assert_eq!(find_ext_capability(&mut c, RID, 0x0e), Ok(Some(0x100)));
    assert_eq!(find_ext_capability(&mut c, RID, 0x01), Ok(None));
}

#[test]
fn capability_walk_refuses_malformed_lists() {
    let status = (cfg::COMMAND_STATUS, 0x0010_0000);
    // No capabilities list bit: none, whatever the pointer says.
    let mut c = dwords(&[(cfg::CAP_PTR, 0x40), (0x40, 0x10)]);
    assert_eq!(find_capability(&mut c, RID, 0x10), Ok(None));
    // A loop.
    let mut c = dwords(&[status, (cfg::CAP_PTR, 0x40), (0x40, 0x4005)]);
    assert!(matches!(
        find_capability(&mut c, RID, 0x10),
        Err(PcieError::BadCapabilityList { .. })
    ));
    // A pointer into the header.
    let mut c = dwords(&[status, (cfg::CAP_PTR, 0x40), (0x40, 0x2005)]);
    assert_eq!(
        find_capability(&mut c, RID, 0x10),
        Err(PcieError::BadCapabilityList { at: 0x20 })
    );
    // Extended: a loop, and a pointer below 0x100.
    let mut c = dwords(&[(0x100, 0x1000_000e)]);
    assert!(matches!(
        find_ext_capability(&mut c, RID, 0x10),
        Err(PcieError::BadCapabilityList { .. })
    ));
    let mut c = dwords(&[(0x100, 0x0800_000e)]);
    assert_eq!(
        find_ext_capability(&mut c, RID, 0x10),
        Err(PcieError::BadCapabilityList { at: 0x80 })
    );
    // All-ones: no extended space.
    let mut c = dwords(&[(0x100, u32::MAX)]);
    assert_eq!(find_ext_capability(&mut c, RID, 0x10), Ok(None));
}

// ---- Enumeration ----

#[test]
fn enumeration_refuses_what_is_not_this_endpoint() {
    let ids = (cfg::VENDOR_DEVICE, 0x0001_1ee7);
    let status = (cfg::COMMAND_STATUS, 0x0010_0000);
    let bar = (cfg::BAR0, 0);
    // A type-1 header (a bridge).
    let mut c = dwords(&[ids, status, (cfg::HEADER_TYPE, 0x0001_0000)]);
    assert_eq!(
        enumerate_at(&mut c, RID, WINDOW),
        Err(PcieError::NotEndpoint(1))
    );
    // No capability list at all.
    let mut c = dwords(&[ids, bar]);
    assert_eq!(
        enumerate_at(&mut c, RID, WINDOW),
        Err(PcieError::MissingCapability("PCI Express"))
    );
    // PCI Express but no extended capabilities.
    let pcie = [(cfg::CAP_PTR, 0x40), (0x40, 0x0002_0010)];
    let mut c = dwords(&[&[ids, status, bar][..], &pcie].concat());
    assert_eq!(
        enumerate_at(&mut c, RID, WINDOW),
        Err(PcieError::MissingCapability("SR-IOV"))
    );
    // Both, but a BAR0 that sizes as nothing (the fake stores what is
    // written, so it reads back all-ones: I/O, 64-bit, prefetchable).
    let sriov = (0x100, 0x0001_0010);
    let mut c = dwords(&[&[ids, status, bar, sriov][..], &pcie].concat());
    assert_eq!(
        enumerate_at(&mut c, RID, WINDOW),
        Err(PcieError::UnsupportedBar {
            name: "PF BAR0",
            readback: u32::MAX
        })
    );
    // A multi-function device's PF (header type bit 7) is still type 0.
    let mut c = dwords(
        &[
            &[ids, status, sriov, (cfg::HEADER_TYPE, 0x0080_0000)][..],
            &pcie,
        ]
        .concat(),
    );
    assert!(matches!(
        enumerate_at(&mut c, RID, WINDOW),
        Err(PcieError::UnsupportedBar { .. })
    ));
}

#[test]
fn enumeration_end_to_end() {
    let mut ep = endpoint(4);
    let nic = enumerate(&mut ep, WINDOW).unwrap();
    assert_eq!(nic.rid(), RID);
    assert_eq!(nic.pcie_cap(), PCIE);
    assert_eq!(nic.sriov_cap(), SRIOV);
    assert_eq!(nic.total_vfs(), 4);
    assert_eq!(
        nic.pf_bar(),
        Bar {
            base: WINDOW,
            size: 0x1_0000
        }
    );
    assert!(nic.vfs().is_empty());
    assert_eq!(rd(&mut ep, cfg::BAR0), WINDOW as u32);
    assert_eq!(rd16(&mut ep, cfg::COMMAND_STATUS), 0x0006);
    assert_eq!(ep.bar(Function::Pf), Some(nic.pf_bar()));
    assert_eq!(ep.bar(Function::Vf(0)), None);
    let mut regs = ep.registers(Function::Pf).unwrap();
    assert_eq!(regs.read(&pf::ID), Ok(pf::ID_VALUE));
    assert_eq!(regs.read(&pf::CAPABILITY), Ok(pf::CAPABILITY.reset));
    regs.write(&pf::SCRATCH, 0x5a5a_1234).unwrap();
    assert_eq!(ep.device().pf.value(&pf::SCRATCH), Some(0x5a5a_1234));
    assert_eq!(
        ep.device().log,
        [
            Access::Read(Function::Pf, 0),
            Access::Read(Function::Pf, pf::CAPABILITY.offset),
            Access::Write(Function::Pf, pf::SCRATCH.offset, 0x5a5a_1234),
        ]
    );
}

#[test]
fn enumeration_aligns_the_window_and_stays_below_4_gib() {
    let mut ep = endpoint(4);
    let nic = enumerate(&mut ep, 0x1234).unwrap();
    assert_eq!(nic.pf_bar().base, 0x1_0000);
    let nic = enumerate(&mut ep, 0).unwrap();
    assert_eq!(nic.pf_bar().base, 0);
    assert_eq!(ep.mem_read32(0), Ok(pf::ID_VALUE));
    let nic = enumerate(&mut ep, 0xffff_0000).unwrap();
    assert_eq!(nic.pf_bar().base, 0xffff_0000);
    for window in [0xffff_0001, 1 << 32, u64::MAX] {
        assert_eq!(
            enumerate(&mut ep, window),
            Err(PcieError::WindowOutOfRange { window })
        );
    }
    // No room for the VFs after a PF BAR at the top.
    let mut nic = enumerate(&mut ep, 0xffff_0000).unwrap();
    assert_eq!(
        nic.enable_vfs(&mut ep, 1),
        Err(PcieError::WindowOutOfRange { window: 1 << 32 })
    );
    assert_eq!(rd16(&mut ep, SRIOV + cfg::sriov::NUM_VFS), 0, "rolled back");
    let mut nic2 = enumerate(&mut ep, 0xfffe_0000).unwrap();
    assert_eq!(nic2.enable_vfs(&mut ep, 4).map(|v| v.len()), Ok(4));
    assert!(nic.vfs().is_empty());
}

#[test]
fn enumeration_refuses_another_device() {
    let ids = EndpointIds {
        vendor: 0x8086,
        ..EndpointIds::default()
    };
    let mut ep = PcieEndpoint::with_ids(FakeNic::new(4), RID, ids);
    assert_eq!(
        enumerate(&mut ep, WINDOW),
        Err(PcieError::WrongDevice {
            vendor: 0x8086,
            device: PF_DEVICE_ID
        })
    );
    let ids = EndpointIds {
        pf_device: 0x0002,
        ..EndpointIds::default()
    };
    let mut ep = PcieEndpoint::with_ids(FakeNic::new(4), RID, ids);
    assert_eq!(
        enumerate(&mut ep, WINDOW),
        Err(PcieError::WrongDevice {
            vendor: VENDOR_ID,
            device: 0x0002
        })
    );
    // Nothing was touched.
    assert_eq!(ep.config_read32(RID, cfg::COMMAND_STATUS), Ok(0x0010_0000));
}

#[test]
fn enumeration_with_no_vfs_in_the_build() {
    let mut ep = endpoint(0);
    let mut nic = enumerate(&mut ep, WINDOW).unwrap();
    assert_eq!(nic.total_vfs(), 0);
    assert_eq!(
        nic.enable_vfs(&mut ep, 1),
        Err(PcieError::BadVfCount {
            requested: 1,
            total: 0
        })
    );
}

// ---- VF enable ----

#[test]
fn enable_vfs_for_every_count() {
    for total in [1, 4, pf::MAX_VFS] {
        let mut ep = endpoint(total);
        let mut nic = enumerate(&mut ep, WINDOW).unwrap();
        for n in 1..=total as u16 {
            let infos = nic.enable_vfs(&mut ep, n).unwrap();
            assert_eq!(infos.len(), usize::from(n));
            assert_eq!(nic.vfs(), infos.as_slice());
            assert_eq!(rd16(&mut ep, SRIOV + cfg::sriov::NUM_VFS), n);
            assert_eq!(
                rd16(&mut ep, SRIOV + cfg::sriov::CONTROL),
                cfg::sriov::VF_ENABLE | cfg::sriov::VF_MSE
            );
            let vf_base = WINDOW + 0x1_0000;
            assert_eq!(rd(&mut ep, SRIOV + cfg::sriov::VF_BAR0), vf_base as u32);
            for (i, info) in infos.iter().enumerate() {
                assert_eq!(info.index, i);
                assert_eq!(info.rid, RID + 1 + i as u16);
                assert_eq!(
                    info.bar,
                    Bar {
                        base: vf_base + 0x1000 * i as u64,
                        size: 0x1000
                    }
                );
                assert_eq!(ep.bar(Function::Vf(i)), Some(info.bar));
                assert_eq!(ep.config_read32(info.rid, 0), Ok(u32::MAX));
                let mut regs = ep.registers(Function::Vf(i)).unwrap();
                assert_eq!(regs.read(&vf::ID), Ok(vf::ID_VALUE));
            }
            assert_eq!(ep.bar(Function::Vf(usize::from(n))), None);
            nic.disable_vfs(&mut ep).unwrap();
            assert!(nic.vfs().is_empty());
            assert_eq!(rd16(&mut ep, SRIOV + cfg::sriov::NUM_VFS), 0);
            assert_eq!(rd16(&mut ep, SRIOV + cfg::sriov::CONTROL), 0);
            assert_eq!(ep.active_vfs(), 0);
        }
    }
}

#[test]
fn enable_vfs_refusals() {
    let mut ep = endpoint(4);
    let mut nic = enumerate(&mut ep, WINDOW).unwrap();
    assert_eq!(
        nic.enable_vfs(&mut ep, 0),
        Err(PcieError::BadVfCount {
            requested: 0,
            total: 4
        })
    );
    assert_eq!(
        nic.enable_vfs(&mut ep, 5),
        Err(PcieError::BadVfCount {
            requested: 5,
            total: 4
        })
    );
    assert_eq!(
        nic.enable_vfs(&mut ep, u16::MAX),
        Err(PcieError::BadVfCount {
            requested: u16::MAX,
            total: 4
        })
    );
    assert_eq!(ep.active_vfs(), 0, "refusals change nothing");
    nic.enable_vfs(&mut ep, 2).unwrap();
    assert_eq!(
        nic.enable_vfs(&mut ep, 3),
        Err(PcieError::VfsAlreadyEnabled)
    );
    assert_eq!(nic.vfs().len(), 2);
    assert_eq!(ep.active_vfs(), 2);
    // The endpoint itself keeps NumVFs while enabled.
    wr(&mut ep, SRIOV + cfg::sriov::NUM_VFS, 4);
    assert_eq!(rd16(&mut ep, SRIOV + cfg::sriov::NUM_VFS), 2);
    nic.disable_vfs(&mut ep).unwrap();
    assert_eq!(nic.enable_vfs(&mut ep, 3).map(|v| v.len()), Ok(3));
}

// ---- Memory routing ----

#[test]
fn memory_routing_reaches_the_right_function_and_offset() {
    let (mut ep, _, infos) = with_vfs(4, 4);
    let pf_last = WINDOW + 0xfffc;
    assert!(matches!(
        ep.mem_read32(WINDOW + 0x0ffc),
        Err(PcieError::Completer(BusError::Decode { offset: 0x0ffc }))
    ));
    ep.mem_write32(WINDOW + 8, 7).unwrap();
    let _ = ep.mem_read32(pf_last);
    for info in &infos {
        let base = info.bar.base;
        assert_eq!(ep.mem_read32(base), Ok(vf::ID_VALUE));
        let _ = ep.mem_read32(base + 0xffc);
        let _ = ep.mem_write32(base + 0x100, 1);
    }
    let mut expected = vec![
        Access::Read(Function::Pf, 0x0ffc),
        Access::Write(Function::Pf, 8, 7),
        Access::Read(Function::Pf, 0xfffc),
    ];
    for i in 0..4 {
        let f = Function::Vf(i);
        expected.extend([
            Access::Read(f, 0),
            Access::Read(f, 0xffc),
            Access::Write(f, 0x100, 1),
        ]);
    }
    assert_eq!(ep.device().log, expected);
    assert_eq!(ep.device().pf.value(&pf::SCRATCH), Some(7));
    // Just past the last VF's window, and just below the PF's: no one.
    let past = infos[3].bar.end();
    assert_eq!(
        ep.mem_read32(past),
        Err(PcieError::UnsupportedRequest { addr: past })
    );
    assert_eq!(
        ep.mem_write32(past, 0),
        Err(PcieError::UnsupportedRequest { addr: past })
    );
    assert_eq!(
        ep.mem_read32(WINDOW - 4),
        Err(PcieError::UnsupportedRequest { addr: WINDOW - 4 })
    );
    assert_eq!(
        ep.mem_read32(1 << 40),
        Err(PcieError::UnsupportedRequest { addr: 1 << 40 })
    );
    assert_eq!(ep.device().log.len(), expected.len(), "no access for a UR");
}

#[test]
fn memory_routing_with_fewer_vfs_than_total() {
    let (mut ep, nic, infos) = with_vfs(4, 2);
    // The PF's first byte past: VF0's first, which is right after.
    let pf_end = nic.pf_bar().end();
    assert_eq!(infos[0].bar.base, pf_end);
    assert_eq!(ep.mem_read32(pf_end), Ok(vf::ID_VALUE));
    let vf1_last = infos[1].bar.end() - 4;
    assert!(ep.mem_read32(vf1_last).is_err());
    assert_eq!(
        ep.device().log,
        [
            Access::Read(Function::Vf(0), 0),
            Access::Read(Function::Vf(1), 0xffc),
        ]
    );
    let vf2 = infos[1].bar.end();
    assert_eq!(
        ep.mem_read32(vf2),
        Err(PcieError::UnsupportedRequest { addr: vf2 })
    );
}

#[test]
fn pf_window_ends_at_64_kib_without_vfs() {
    let mut ep = endpoint(4);
    enumerate(&mut ep, WINDOW).unwrap();
    let end = WINDOW + 0x1_0000;
    assert!(ep.mem_read32(end - 4).is_err(), "DECERR from the device");
    assert_eq!(ep.device().log, [Access::Read(Function::Pf, 0xfffc)]);
    assert_eq!(
        ep.mem_read32(end),
        Err(PcieError::UnsupportedRequest { addr: end })
    );
}

#[test]
fn windows_vanish_without_their_enables() {
    let (mut ep, mut nic, infos) = with_vfs(4, 4);
    let vf0 = infos[0].bar.base;
    use cfg::sriov::*;
    // VF MSE clear: VF windows go, VF configuration stays.
    wr(&mut ep, SRIOV + CONTROL, u32::from(VF_ENABLE));
    assert_eq!(
        ep.mem_read32(vf0),
        Err(PcieError::UnsupportedRequest { addr: vf0 })
    );
    assert_eq!(ep.bar(Function::Vf(0)), None);
    assert!(matches!(
        ep.bar_bus(Function::Vf(0)),
        Err(PcieError::NotMapped(Function::Vf(0)))
    ));
    assert_eq!(ep.config_read32(infos[0].rid, 0), Ok(u32::MAX));
    // Back on.
    wr(&mut ep, SRIOV + CONTROL, u32::from(VF_ENABLE | VF_MSE));
    assert_eq!(ep.mem_read32(vf0), Ok(vf::ID_VALUE));
    // VF MSE without VF Enable: nothing.
    wr(&mut ep, SRIOV + CONTROL, u32::from(VF_MSE));
    assert!(ep.mem_read32(vf0).is_err());
    wr(&mut ep, SRIOV + CONTROL, u32::from(VF_ENABLE | VF_MSE));
    // disable_vfs: all VF windows and config spaces go.
    nic.disable_vfs(&mut ep).unwrap();
    for info in &infos {
        assert_eq!(
            ep.mem_read32(info.bar.base),
            Err(PcieError::UnsupportedRequest {
                addr: info.bar.base
            })
        );
        assert_eq!(
            ep.config_read32(info.rid, 0),
            Err(PcieError::NoFunction { rid: info.rid })
        );
    }
    // The PF's memory space enable governs the PF window.
    assert_eq!(ep.mem_read32(WINDOW), Ok(pf::ID_VALUE));
    wr(
        &mut ep,
        cfg::COMMAND_STATUS,
        u32::from(cfg::COMMAND_BUS_MASTER),
    );
    assert_eq!(
        ep.mem_read32(WINDOW),
        Err(PcieError::UnsupportedRequest { addr: WINDOW })
    );
    assert!(matches!(
        ep.bar_bus(Function::Pf),
        Err(PcieError::NotMapped(Function::Pf))
    ));
    assert_eq!(
        ep.device().log,
        [
            Access::Read(Function::Vf(0), 0),
            Access::Read(Function::Pf, 0)
        ]
    );
}

#[test]
fn unaligned_accesses_are_refused() {
    let (mut ep, _, infos) = with_vfs(4, 1);
    for addr in [WINDOW + 1, WINDOW + 2, WINDOW + 3, infos[0].bar.base + 6, 7] {
        assert_eq!(ep.mem_read32(addr), Err(PcieError::Unaligned { addr }));
        assert_eq!(ep.mem_write32(addr, 0), Err(PcieError::Unaligned { addr }));
    }
    assert!(ep.device().log.is_empty());
}

#[test]
fn device_bus_errors_come_back_as_completer_errors() {
    let (mut ep, _, infos) = with_vfs(4, 1);
    assert_eq!(
        ep.mem_write32(WINDOW, 1),
        Err(PcieError::Completer(BusError::Slave { offset: 0 }))
    );
    assert_eq!(
        ep.mem_read32(WINDOW + pf::MAP_CMD.offset as u64),
        Err(PcieError::Completer(BusError::Slave {
            offset: pf::MAP_CMD.offset
        }))
    );
    let vf0 = infos[0].bar.base;
    assert_eq!(
        ep.mem_write32(vf0, 1),
        Err(PcieError::Completer(BusError::Slave { offset: 0 }))
    );
    assert_eq!(
        ep.mem_read32(vf0 + 0x800),
        Err(PcieError::Completer(BusError::Decode { offset: 0x800 }))
    );
    // The VF's own error registers counted them.
    assert_eq!(ep.mem_read32(vf0 + vf::BUS_ERRORS.offset as u64), Ok(2));
    assert_eq!(
        ep.mem_read32(vf0 + vf::BUS_ERROR_ADDR.offset as u64),
        Ok(0x800)
    );
    assert_eq!(ep.mem_read32(WINDOW + pf::BUS_ERRORS.offset as u64), Ok(2));
}

// ---- BarBus ----

#[test]
fn bar_bus_checks_offsets_and_maps_errors() {
    let (mut ep, _, _) = with_vfs(4, 2);
    {
        let mut bus = ep.bar_bus(Function::Pf).unwrap();
        assert_eq!(
            bus.bar(),
            Bar {
                base: WINDOW,
                size: 0x1_0000
            }
        );
        assert_eq!(bus.read32(0), Ok(pf::ID_VALUE));
        assert_eq!(bus.read32(0x0ffc), Err(BusError::Decode { offset: 0x0ffc }));
        assert_eq!(bus.write32(0, 1), Err(BusError::Slave { offset: 0 }));
        assert_eq!(
            bus.read32(0x1_0000),
            Err(BusError::OutOfRange { offset: 0x1_0000 })
        );
        assert!(matches!(bus.read32(2), Err(BusError::Transport(_))));
    }
    {
        let mut bus = ep.bar_bus(Function::Vf(1)).unwrap();
        assert_eq!(bus.read32(0), Ok(vf::ID_VALUE));
        assert_eq!(bus.read32(0xffc), Err(BusError::Decode { offset: 0xffc }));
        assert_eq!(
            bus.read32(0x1000),
            Err(BusError::OutOfRange { offset: 0x1000 })
        );
        assert_eq!(
            bus.write32(u32::MAX, 0),
            Err(BusError::OutOfRange { offset: u32::MAX })
        );
    }
    assert!(matches!(
        ep.bar_bus(Function::Vf(2)),
        Err(PcieError::NotMapped(Function::Vf(2)))
    ));
    assert!(matches!(
        ep.bar_bus(Function::Vf(usize::MAX)),
        Err(PcieError::NotMapped(_))
    ));
    // Out-of-range offsets never reached the device.
    let log = &ep.device().log;
    assert!(log.iter().all(|a| match a {
        Access::Read(Function::Pf, o) | Access::Write(Function::Pf, o, _) => *o < 0x1_0000,
        Access::Read(_, o) | Access::Write(_, o, _) => *o < 0x1000,
    }));
    assert_eq!(log.len(), 5);
}

#[test]
fn registers_through_the_endpoint_see_each_function() {
    let (mut ep, _, _) = with_vfs(4, 4);
    let mut pf_regs = ep.registers(Function::Pf).unwrap();
    let mtu = pf::function_register(3, &pf::function::MTU);
    pf_regs.write(&mtu, 9000).unwrap();
    assert_eq!(pf_regs.read(&mtu), Ok(9000));
    // The fake's VF register files are independent of the PF's (its copy of
    // the block is plain read-only registers reading 0): the routing is
    // what is under test here.
    let mut vf_regs = ep.registers(Function::Vf(2)).unwrap();
    let vf_mtu = vf::function_register(&pf::function::MTU);
    assert_eq!(vf_regs.read(&vf_mtu), Ok(0));
    assert_eq!(
        ep.device().log.last(),
        Some(&Access::Read(Function::Vf(2), vf_mtu.offset))
    );
}

#[test]
fn into_bus_error_keeps_completer_errors() {
    assert_eq!(
        PcieError::Completer(BusError::Decode { offset: 4 }).into_bus_error(),
        BusError::Decode { offset: 4 }
    );
    let e = PcieError::UnsupportedRequest { addr: 0x10 }.into_bus_error();
    assert_eq!(
        e,
        BusError::Transport("unsupported request: no BAR decodes 0x10".into())
    );
}

#[test]
fn endpoint_gives_its_device_back() {
    let (ep, _, _) = with_vfs(4, 1);
    assert_eq!(ep.rid(), RID);
    let nic = ep.into_device();
    assert_eq!(nic.vfs, 4);
}
