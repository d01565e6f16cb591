//! The fast behavioural back end of the NIC: [`NicModel`], a [`NicDevice`]
//! that a driver cannot tell from the cycle-accurate HDL simulation except
//! by speed.
//!
//! It answers every register access as the hardware's register slaves do:
//! the PF BAR (`overlay_nic_regmap::pf::table`, decoded by a
//! [`RegisterFileModel`]: responses, masks, reserved bits, bus error count
//! and address) and each VF's BAR (`overlay_nic_regmap::vf::table`, with
//! the VF's own error registers). Behind the registers it keeps what the
//! hardware keeps: the mapping table and the per-VNI records as the CAM
//! holds them (slot by slot, with the CAM's slot allocation and read-back
//! registers, `hdl/src/cam.rs`), one shared event queue
//! ([`EventQueueModel`], the build's depth) and the datapath state of the
//! golden models [`TxModel`] and [`RxModel`] (counters, outer IPv4
//! identification), which run every frame on a [`NicConfig`] rebuilt from
//! the registers as they are at that moment.
//!
//! What it does not model: time. A table command is done when its doorbell
//! write returns, so `MAP_STATUS`/`VNI_STATUS` never show busy and never
//! answer BUSY; frames are taken whole (no back-pressure, no RX buffer, so
//! `RX_DROP_OVERFLOW` stays 0); TX frames handed over in one call leave in
//! the order the HDL arbiter (`hdl/src/tx_arbiter.rs`) gives when every
//! function's frames are all waiting from the start of the call (see
//! [`NicModel`]).
//!
//! ```
//! use overlay_nic_driver::device::{HostFrame, NicDevice};
//! use overlay_nic_driver::nic_model::{DeviceBar, NicModel};
//! use overlay_nic_driver::registers::Registers;
//! use overlay_nic_driver::tx::Function;
//! use overlay_nic_driver::vxlan::Vni;
//! use overlay_nic_regmap::{pf, Build};
//!
//! let mut nic = NicModel::new(Build::DEFAULT);
//! {
//!     // The PF driver's view: typed accesses over the PF BAR.
//!     let mut regs = Registers::new(DeviceBar::new(&mut nic, Function::Pf));
//!     assert_eq!(regs.read(&pf::ID)?, pf::ID_VALUE);
//!     regs.write(&pf::VTEP_MAC_HI, 0x0200)?;
//!     regs.write(&pf::VTEP_MAC_LO, 0x0a00_0001)?;
//!     regs.write(&pf::VTEP_IP, 0x0a00_0001)?; // 10.0.0.1
//!     regs.write(&pf::VTEP_NETMASK, 0xffff_ff00)?;
//!     // VNI 5001's record: broadcast and misses go to 239.1.1.1.
//!     regs.write(&pf::VNI_KEY, 5001)?;
//!     regs.write(&pf::VNI_MCAST_IP, 0xef01_0101)?;
//!     regs.write(&pf::VNI_CMD, pf::cmd::ADD)?;
//!     assert_eq!(regs.read(&pf::VNI_STATUS)?, 1 << 16 | pf::result::OK);
//! }
//! // The PF sends a broadcast frame tagged for VNI 5001.
//! let mut frame = vec![0xff; 6];
//! frame.extend([0x02, 0, 0, 0, 0, 0x10, 0x88, 0xb5]);
//! frame.resize(60, 0);
//! let sent = HostFrame::new(Function::Pf, frame.clone()).tagged(Vni::new(5001)?);
//! let wire = nic.transmit(&[sent])?;
//! assert_eq!(wire.len(), 1);
//! assert_eq!(&wire[0][0..6], &[0x01, 0x00, 0x5e, 0x01, 0x01, 0x01]); // the group's MAC
//! assert_eq!(&wire[0][50..], &frame[..]);
//! let encapsulated = pf::function_register(0, &pf::function::TX_ENCAPSULATED);
//! assert_eq!(nic.bar_read(Function::Pf, encapsulated.offset)?, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::{Mutex, OnceLock};

use overlay_nic_regmap::pf::{self, cmd, function as fr, result};
use overlay_nic_regmap::{vf, Build, Register};

use crate::device::{DeviceError, HostFrame, NicDevice};
use crate::events::EventQueueModel;
use crate::nic_config::{
    BuildLimits, MacAddr, MapEntry, MissPolicy, NicConfig, PfConfig, PortRange, RxConfig, VfConfig,
    VlanTag, VniRecord, VtepConfig,
};
use crate::registers::{self, BusError, RegisterBus, RegisterFileModel};
use crate::rx::{RxDelivery, RxDrop, RxModel};
use crate::tx::{Function, NicEvent, TxError, TxModel};
use crate::vxlan::{Vni, MAX_INNER_LEN};

/// A build the model cannot stand for: a size that does not fit its
/// registers' fields.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// More VFs than the 4-bit function id allows (`pf::MAX_VFS`).
    #[error("{vfs} VFs: at most {} (4-bit function ids)", pf::MAX_VFS)]
    TooManyVfs {
        /// VFs asked for.
        vfs: usize,
    },
    /// A table or queue size outside 1..=65535 (its 16-bit field in
    /// `TABLE_SIZES`, `MAX_FRAME` and the status words).
    #[error("{what} = {size}: must be 1 to 65535")]
    Size {
        /// `table_entries`, `vni_records` or `event_depth`.
        what: &'static str,
        /// The size asked for.
        size: usize,
    },
    /// `max_frame` outside 64 to the longest frame VXLAN over IPv4 carries.
    #[error("max_frame = {max_frame}: must be 64 to {MAX_INNER_LEN}")]
    MaxFrame {
        /// The size asked for.
        max_frame: usize,
    },
}

/// Checks that `build` fits the register fields that report it. (The HDL
/// elaborates fewer builds still: a 16-deep event queue only, at most 4096
/// table entries.)
fn check_build(build: &Build) -> Result<(), BuildError> {
    if build.vfs > pf::MAX_VFS {
        return Err(BuildError::TooManyVfs { vfs: build.vfs });
    }
    for (what, size) in [
        ("table_entries", build.table_entries),
        ("vni_records", build.vni_records),
        ("event_depth", build.event_depth),
    ] {
        if !(1..=0xffff).contains(&size) {
            return Err(BuildError::Size { what, size });
        }
    }
    if !(64..=MAX_INNER_LEN).contains(&build.max_frame) {
        return Err(BuildError::MaxFrame {
            max_frame: build.max_frame,
        });
    }
    Ok(())
}

/// `pf::table(build)` with a `'static` lifetime, as [`RegisterFileModel`]
/// wants it: made once per distinct build and kept (a bounded set).
fn pf_table(build: &Build) -> &'static [Register] {
    static TABLES: OnceLock<Mutex<HashMap<Build, &'static [Register]>>> = OnceLock::new();
    let tables = TABLES.get_or_init(|| Mutex::new(HashMap::new()));
    let mut tables = tables.lock().unwrap_or_else(|e| e.into_inner());
    tables
        .entry(*build)
        .or_insert_with(|| Box::leak(pf::table(build).into_boxed_slice()))
}

/// `vf::table()`, made once.
fn vf_table() -> &'static [Register] {
    static TABLE: OnceLock<Vec<Register>> = OnceLock::new();
    TABLE.get_or_init(vf::table)
}

/// A MAC address from its `_HI` and `_LO` words.
fn mac_from(hi: u32, lo: u32) -> [u8; 6] {
    registers::mac_of(hi, lo).0
}

/// The `_HI` word of a MAC address.
fn mac_hi(mac: [u8; 6]) -> u32 {
    registers::mac_hi(&MacAddr(mac))
}

/// The `_LO` word of a MAC address.
fn mac_lo(mac: [u8; 6]) -> u32 {
    registers::mac_lo(&MacAddr(mac))
}

/// The VNI in bits 23:0 of `word`.
fn vni_of(word: u32) -> Vni {
    let b = word.to_be_bytes();
    Vni::from_be_bytes([b[1], b[2], b[3]])
}

/// One CAM slot. A freed slot keeps its key and value (the hardware only
/// clears the in-use bit), which READ shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Slot<K, V> {
    used: bool,
    key: K,
    value: V,
}

/// A table as `hdl/src/cam.rs` keeps it: slots, a command result, the
/// entries in use and the read-back registers.
#[derive(Clone, Debug)]
struct Cam<K, V> {
    slots: Vec<Slot<K, V>>,
    in_use: u32,
    result: u32,
    /// READ/FIND read-back; `used` is bit 31 of the key word.
    rd: Slot<K, V>,
    rd_index: u32,
}

impl<K: Copy + Default + PartialEq, V: Copy + Default> Cam<K, V> {
    fn new(entries: usize) -> Self {
        Cam {
            slots: vec![Slot::default(); entries],
            in_use: 0,
            result: result::OK,
            rd: Slot::default(),
            rd_index: 0,
        }
    }

    /// 3:0 last result, bit 8 busy (never: commands finish at once),
    /// 31:16 entries in use.
    fn status(&self) -> u32 {
        (self.in_use & 0xffff) << 16 | self.result
    }

    /// Runs command `code` (the doorbell's bits 2:0) with the staged key,
    /// value and slot index.
    fn command(&mut self, code: u32, key: K, value: V, index: u32) {
        let hit = self.slots.iter().position(|s| s.used && s.key == key);
        self.result = result::OK;
        match code {
            cmd::ADD => match hit.or_else(|| self.slots.iter().position(|s| !s.used)) {
                Some(i) => {
                    if hit.is_none() {
                        self.in_use += 1;
                    }
                    self.slots[i] = Slot {
                        used: true,
                        key,
                        value,
                    };
                }
                None => self.result = result::FULL,
            },
            cmd::DELETE => match hit {
                Some(i) => {
                    self.slots[i].used = false;
                    self.in_use -= 1;
                }
                None => self.result = result::NOT_FOUND,
            },
            cmd::READ => match self.slots.get(index as usize) {
                Some(slot) => {
                    self.rd = *slot;
                    self.rd_index = index;
                }
                None => {
                    self.result = result::BAD_INDEX;
                    self.rd.used = false;
                }
            },
            cmd::FIND => match hit {
                Some(i) => {
                    self.rd = self.slots[i];
                    self.rd_index = i as u32;
                }
                None => {
                    self.result = result::NOT_FOUND;
                    self.rd.used = false;
                }
            },
            cmd::CLEAR => {
                for slot in &mut self.slots {
                    slot.used = false;
                }
                self.in_use = 0;
            }
            _ => self.result = result::BAD_COMMAND,
        }
    }

    /// The entries in use, in slot order.
    fn entries(&self) -> impl Iterator<Item = &Slot<K, V>> {
        self.slots.iter().filter(|s| s.used)
    }

    /// Bit 31 of a read-back key word.
    fn rd_used_bit(&self) -> u32 {
        u32::from(self.rd.used) << 31
    }
}

/// A mapping-table key: VNI (24 bits) and inner MAC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct MapKey {
    vni: u32,
    mac: [u8; 6],
}

/// A mapping-table value: the remote VTEP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct MapValue {
    vtep_ip: u32,
    vtep_mac: [u8; 6],
}

/// A per-VNI record's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct VniValue {
    mcast_ip: u32,
    gw_ip: u32,
    gw_mac: [u8; 6],
    /// 2 bits: 0 flood, 1 gateway, 2 (and 3) drop.
    policy: u32,
}

/// The NIC without the clock: register-exact BARs, the tables, one event
/// queue and the golden datapath models (see the [module docs](self)).
///
/// TX arbitration: the frames of one [`NicDevice::transmit`] call are
/// queued per function (each function's in the order given) and leave in
/// the HDL arbiter's frame-level round robin, as if all were waiting from
/// the call's first cycle: the function that sent last (the parked grant)
/// goes first if it has a frame, then, after each frame, the next function
/// after it in order PF, VF0, VF1, ... that has one. After reset nobody
/// holds the grant and the round robin starts after the PF (VF0 first).
/// The grant persists across calls.
#[derive(Clone, Debug)]
pub struct NicModel {
    build: Build,
    pf_bar: RegisterFileModel,
    vf_bars: Vec<RegisterFileModel>,
    map: Cam<MapKey, MapValue>,
    vnis: Cam<u32, VniValue>,
    events: EventQueueModel,
    tx: TxModel,
    rx: RxModel,
    /// The TX arbiter's grant: the function that sent last (none after reset).
    grant: Option<usize>,
}

impl NicModel {
    /// A NIC of `build` as after reset.
    ///
    /// # Panics
    ///
    /// When [`NicModel::try_new`] refuses `build`.
    pub fn new(build: Build) -> NicModel {
        match NicModel::try_new(build) {
            Ok(model) => model,
            Err(e) => panic!("NicModel: {e}"),
        }
    }

    /// A NIC of `build` as after reset, or why the build does not fit its
    /// registers.
    pub fn try_new(build: Build) -> Result<NicModel, BuildError> {
        check_build(&build)?;
        let limits = BuildLimits {
            vfs: build.vfs,
            table_entries: build.table_entries,
            vni_records: build.vni_records,
            max_frame: build.max_frame,
        };
        // A placeholder the constructors accept; every frame runs on the
        // configuration the registers hold then (`config_mut`, not checked).
        let mut placeholder = NicConfig::new(VtepConfig::new(
            MacAddr::default(),
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            MacAddr::default(),
        ));
        placeholder.pf.mtu = 1;
        // The constructors check the placeholder against `limits`: only the
        // `max_frame` checks (at most MAX_INNER_LEN, MTU 1 + 18 within it)
        // could refuse it, and `check_build` has made both hold.
        let bad_frame = BuildError::MaxFrame {
            max_frame: build.max_frame,
        };
        let tx = TxModel::new(placeholder.clone(), limits, build.event_depth)
            .map_err(|_| bad_frame.clone())?;
        let rx = RxModel::new(placeholder, limits, build.event_depth).map_err(|_| bad_frame)?;
        Ok(NicModel {
            build,
            pf_bar: RegisterFileModel::new(pf_table(&build)),
            vf_bars: (0..build.vfs)
                .map(|_| RegisterFileModel::new(vf_table()))
                .collect(),
            map: Cam::new(build.table_entries),
            vnis: Cam::new(build.vni_records),
            events: EventQueueModel::new(build.event_depth),
            tx,
            rx,
            grant: None,
        })
    }

    /// The configuration the datapath runs on now, read from the registers
    /// and tables: the VTEP registers, every function of the build (`vfs`
    /// has one entry per VF, `vni` `None` when its `VNI` enable bit is
    /// clear), the VNI records and mapping entries in slot order. Register
    /// states the hardware accepts come out as they are, so the result need
    /// not pass [`NicConfig::validate`]. A `VNI_POLICY` of 3 reads as
    /// [`MissPolicy::Drop`] (the hardware drops a miss unless the policy is
    /// 0 or 1).
    pub fn config(&self) -> NicConfig {
        let g = |r: &Register| self.pf_bar.value(r).unwrap_or(0);
        let f = |f: usize, r: &Register| g(&pf::function_register(f, r));
        let range = g(&pf::UDP_SRC_PORT_RANGE);
        let outer_ip = g(&pf::OUTER_IP);
        let vlan = g(&pf::OUTER_VLAN);
        let rx = g(&pf::RX_CONFIG);
        NicConfig {
            vtep: VtepConfig {
                mac: MacAddr(mac_from(g(&pf::VTEP_MAC_HI), g(&pf::VTEP_MAC_LO))),
                ip: Ipv4Addr::from(g(&pf::VTEP_IP)),
                netmask: Ipv4Addr::from(g(&pf::VTEP_NETMASK)),
                gateway_mac: MacAddr(mac_from(g(&pf::VTEP_GW_MAC_HI), g(&pf::VTEP_GW_MAC_LO))),
                udp_port: g(&pf::VXLAN_UDP_PORT) as u16,
                src_port_range: PortRange {
                    lo: range as u16,
                    hi: (range >> 16) as u16,
                },
                ttl: outer_ip as u8,
                dont_fragment: outer_ip >> 8 & 1 == 1,
                vlan: (vlan >> 16 & 1 == 1).then_some(VlanTag {
                    vid: (vlan & 0xfff) as u16,
                    pcp: (vlan >> 13 & 7) as u8,
                }),
                udp_checksum: outer_ip >> 9 & 1 == 1,
            },
            pf: PfConfig {
                mac: Some(MacAddr(mac_from(f(0, &fr::MAC_HI), f(0, &fr::MAC_LO)))),
                mtu: f(0, &fr::MTU),
            },
            vfs: (1..=self.build.vfs)
                .map(|i| {
                    let vni = f(i, &fr::VNI);
                    VfConfig {
                        mac: MacAddr(mac_from(f(i, &fr::MAC_HI), f(i, &fr::MAC_LO))),
                        vni: (vni >> 31 == 1).then(|| vni_of(vni)),
                        mtu: f(i, &fr::MTU),
                    }
                })
                .collect(),
            vnis: self
                .vnis
                .entries()
                .map(|s| VniRecord {
                    vni: vni_of(s.key),
                    multicast_group: Ipv4Addr::from(s.value.mcast_ip),
                    gateway_ip: Ipv4Addr::from(s.value.gw_ip),
                    gateway_mac: MacAddr(s.value.gw_mac),
                    miss_policy: match s.value.policy {
                        0 => MissPolicy::Flood,
                        1 => MissPolicy::Gateway,
                        _ => MissPolicy::Drop,
                    },
                })
                .collect(),
            entries: self
                .map
                .entries()
                .map(|s| MapEntry {
                    vni: vni_of(s.key.vni),
                    mac: MacAddr(s.key.mac),
                    vtep_ip: Ipv4Addr::from(s.value.vtep_ip),
                    vtep_mac: MacAddr(s.value.vtep_mac),
                })
                .collect(),
            rx: RxConfig {
                strict_vxlan_flags: rx & 1 == 1,
                check_source_mac: rx >> 1 & 1 == 1,
            },
        }
    }

    /// The stored value of PF register `r` (0 if it stores nothing).
    fn stored(&self, r: &Register) -> u32 {
        self.pf_bar.value(r).unwrap_or(0)
    }

    /// A mapping-table command from the staging registers.
    fn map_command(&mut self, code: u32) {
        let key = MapKey {
            vni: self.stored(&pf::MAP_KEY_VNI),
            mac: mac_from(
                self.stored(&pf::MAP_KEY_MAC_HI),
                self.stored(&pf::MAP_KEY_MAC_LO),
            ),
        };
        let value = MapValue {
            vtep_ip: self.stored(&pf::MAP_VTEP_IP),
            vtep_mac: mac_from(
                self.stored(&pf::MAP_VTEP_MAC_HI),
                self.stored(&pf::MAP_VTEP_MAC_LO),
            ),
        };
        let index = self.stored(&pf::MAP_INDEX);
        self.map.command(code, key, value, index);
    }

    /// A per-VNI record command from the staging registers.
    fn vni_command(&mut self, code: u32) {
        let value = VniValue {
            mcast_ip: self.stored(&pf::VNI_MCAST_IP),
            gw_ip: self.stored(&pf::VNI_GW_IP),
            gw_mac: mac_from(
                self.stored(&pf::VNI_GW_MAC_HI),
                self.stored(&pf::VNI_GW_MAC_LO),
            ),
            policy: self.stored(&pf::VNI_POLICY) & 3,
        };
        let key = self.stored(&pf::VNI_KEY);
        let index = self.stored(&pf::VNI_INDEX);
        self.vnis.command(code, key, value, index);
    }

    /// What function `f`'s block register at block offset `rel` reads as:
    /// the PF BAR's stored MAC/VNI/MTU, or a datapath counter.
    fn function_block_value(&self, f: usize, rel: u32) -> Option<u32> {
        let function = Function::from_index(f);
        let tx = self.tx.counters(function);
        let rx = self.rx.function_counters(function);
        let stored = |r: &Register| self.stored(&pf::function_register(f, r));
        Some(match rel {
            x if x == fr::MAC_HI.offset => stored(&fr::MAC_HI),
            x if x == fr::MAC_LO.offset => stored(&fr::MAC_LO),
            x if x == fr::VNI.offset => stored(&fr::VNI),
            x if x == fr::MTU.offset => stored(&fr::MTU),
            x if x == fr::TX_FRAMES.offset => tx.frames,
            x if x == fr::TX_BYTES.offset => tx.bytes,
            x if x == fr::TX_ENCAPSULATED.offset => tx.encapsulated,
            x if x == fr::TX_DROP_RUNT.offset => tx.drop_runt,
            x if x == fr::TX_DROP_SPOOFED.offset => tx.drop_spoofed,
            x if x == fr::TX_DROP_MTU.offset => tx.drop_mtu,
            x if x == fr::TX_DROP_NO_VNI.offset => tx.drop_no_vni,
            x if x == fr::TX_DROP_MISS.offset => tx.drop_miss,
            x if x == fr::TX_MISSES.offset => tx.misses,
            x if x == fr::TX_DROP_OFFLOAD_CSUM.offset => tx.drop_offload_csum,
            x if x == fr::TX_DROP_OFFLOAD_IP.offset => tx.drop_offload_ip,
            x if x == fr::TX_DROP_OFFLOAD_TSO.offset => tx.drop_offload_tso,
            x if x == fr::TX_TSO_SEGMENTS.offset => tx.tso_segments,
            x if x == fr::RX_FRAMES.offset => rx.frames,
            x if x == fr::RX_BYTES.offset => rx.bytes,
            x if x == fr::RX_DECAPSULATED.offset => rx.decapsulated,
            x if x == fr::RX_DROP_INNER_CHECKSUM.offset => rx.drop_inner_checksum,
            _ => return None,
        })
    }

    /// What the PF's read-only register at (aligned) `address` reads as, if
    /// it is one the model produces.
    fn pf_status(&self, address: u32) -> Option<u32> {
        if address >= pf::FUNCTION_BASE {
            let f = ((address - pf::FUNCTION_BASE) / pf::FUNCTION_STRIDE) as usize;
            let rel = (address - pf::FUNCTION_BASE) % pf::FUNCTION_STRIDE;
            return (f < self.build.functions())
                .then(|| self.function_block_value(f, rel))
                .flatten();
        }
        let (m, v) = (&self.map, &self.vnis);
        let event = self.events.peek();
        let (kind, vni, mac, vtep_ip, vtep_mac) = match event {
            None => (pf::event::NONE, 0, [0; 6], 0, [0; 6]),
            Some(NicEvent::TxMiss { vni, mac }) => {
                (pf::event::TX_MISS, vni.get(), mac.0, 0, [0; 6])
            }
            Some(NicEvent::Learn {
                vni,
                mac,
                vtep_ip,
                vtep_mac,
            }) => (
                pf::event::LEARN,
                vni.get(),
                mac.0,
                u32::from(*vtep_ip),
                vtep_mac.0,
            ),
        };
        let rx = self.rx.counters();
        let drop = |reason: RxDrop| rx.drops(reason);
        Some(match address {
            a if a == pf::MAP_STATUS.offset => m.status(),
            a if a == pf::MAP_RD_KEY_VNI.offset => m.rd_used_bit() | m.rd.key.vni,
            a if a == pf::MAP_RD_KEY_MAC_HI.offset => mac_hi(m.rd.key.mac),
            a if a == pf::MAP_RD_KEY_MAC_LO.offset => mac_lo(m.rd.key.mac),
            a if a == pf::MAP_RD_VTEP_IP.offset => m.rd.value.vtep_ip,
            a if a == pf::MAP_RD_VTEP_MAC_HI.offset => mac_hi(m.rd.value.vtep_mac),
            a if a == pf::MAP_RD_VTEP_MAC_LO.offset => mac_lo(m.rd.value.vtep_mac),
            a if a == pf::MAP_RD_INDEX.offset => m.rd_index,
            a if a == pf::VNI_STATUS.offset => v.status(),
            a if a == pf::VNI_RD_KEY.offset => v.rd_used_bit() | v.rd.key,
            a if a == pf::VNI_RD_MCAST_IP.offset => v.rd.value.mcast_ip,
            a if a == pf::VNI_RD_GW_IP.offset => v.rd.value.gw_ip,
            a if a == pf::VNI_RD_GW_MAC_HI.offset => mac_hi(v.rd.value.gw_mac),
            a if a == pf::VNI_RD_GW_MAC_LO.offset => mac_lo(v.rd.value.gw_mac),
            a if a == pf::VNI_RD_POLICY.offset => v.rd.value.policy,
            a if a == pf::VNI_RD_INDEX.offset => v.rd_index,
            a if a == pf::EVENT_STATUS.offset => (self.events.pending() & 0xffff) as u32,
            a if a == pf::EVENT_LOST.offset => self.events.lost(),
            a if a == pf::EVENT_TYPE_VNI.offset => kind << 24 | vni,
            a if a == pf::EVENT_MAC_HI.offset => mac_hi(mac),
            a if a == pf::EVENT_MAC_LO.offset => mac_lo(mac),
            a if a == pf::EVENT_VTEP_IP.offset => vtep_ip,
            a if a == pf::EVENT_VTEP_MAC_HI.offset => mac_hi(vtep_mac),
            a if a == pf::EVENT_VTEP_MAC_LO.offset => mac_lo(vtep_mac),
            a if a == pf::RX_WIRE_FRAMES.offset => rx.wire_frames,
            a if a == pf::RX_WIRE_BYTES.offset => rx.wire_bytes,
            a if a == pf::RX_NON_OVERLAY.offset => rx.non_overlay,
            a if a == pf::RX_DECAPSULATED.offset => rx.decapsulated,
            a if a == pf::RX_LEARN.offset => rx.learn,
            a if a == pf::RX_DROP_TRUNCATED.offset => drop(RxDrop::Truncated),
            a if a == pf::RX_DROP_IP_LENGTH.offset => drop(RxDrop::IpLength),
            a if a == pf::RX_DROP_IP_CHECKSUM.offset => drop(RxDrop::IpChecksum),
            a if a == pf::RX_DROP_FRAGMENT.offset => drop(RxDrop::Fragment),
            a if a == pf::RX_DROP_UDP_LENGTH.offset => drop(RxDrop::UdpLength),
            a if a == pf::RX_DROP_UDP_CHECKSUM.offset => drop(RxDrop::UdpChecksum),
            a if a == pf::RX_DROP_DST_MAC.offset => drop(RxDrop::DstMac),
            a if a == pf::RX_DROP_VXLAN_FLAGS.offset => drop(RxDrop::VxlanFlags),
            a if a == pf::RX_DROP_NO_VNI.offset => drop(RxDrop::NoVni),
            a if a == pf::RX_DROP_DST_IP.offset => drop(RxDrop::DstIp),
            a if a == pf::RX_DROP_VLAN.offset => drop(RxDrop::Vlan),
            a if a == pf::RX_DROP_OVERFLOW.offset => 0,
            _ => return None,
        })
    }

    /// VF `i`'s BAR, or the error an access to a VF the build lacks gets.
    fn vf_bar(&mut self, i: usize, offset: u32) -> Result<&mut RegisterFileModel, BusError> {
        if offset >= vf::BAR_SIZE {
            return Err(BusError::OutOfRange { offset });
        }
        self.vf_bars.get_mut(i).ok_or(BusError::Decode { offset })
    }

    /// One frame through the TX path on the current configuration; its
    /// event, if any, into the shared queue.
    fn transmit_one(&mut self, frame: &HostFrame) -> Result<Vec<Vec<u8>>, DeviceError> {
        let function = frame.function;
        let run = |tx: &mut TxModel| {
            tx.transmit_with(function, &frame.data, frame.tag, &frame.offload)
                .map_err(|e: TxError| DeviceError::Simulation(format!("TX model: {e}")))
        };
        // The golden model cannot build outer headers for a VTEP that
        // `VtepConfig::validate` refuses (TTL 0, source-port low end above
        // the high end, VID 0xfff), which the hardware sends as they are.
        // A frame that is not encapsulated does not depend on those fields:
        // it runs on a sanitised VTEP; an encapsulation is refused, with
        // nothing changed.
        let vtep = self.tx.config().vtep.clone();
        let outcome = match vtep.validate() {
            Ok(()) => run(&mut self.tx)?,
            Err(e) => {
                let snapshot = self.tx.clone();
                let before = self.tx.counters(function).encapsulated;
                let v = &mut self.tx.config_mut().vtep;
                v.ttl = v.ttl.max(1);
                v.src_port_range.hi = v.src_port_range.hi.max(v.src_port_range.lo);
                if let Some(tag) = &mut v.vlan {
                    tag.vid &= 0xffe;
                }
                let outcome = run(&mut self.tx);
                self.tx.config_mut().vtep = vtep;
                if self.tx.counters(function).encapsulated != before {
                    self.tx = snapshot;
                    return Err(DeviceError::Simulation(format!(
                        "the behavioural model cannot encapsulate with these VTEP registers: {e}"
                    )));
                }
                outcome?
            }
        };
        while let Some(event) = self.tx.pop_event() {
            self.events.raise(event);
        }
        Ok(outcome.frames().into_iter().map(<[u8]>::to_vec).collect())
    }

    /// The round robin's next function among those with a frame waiting:
    /// the parked grant first when `parked` (a call's first frame), else
    /// the next after the grant (after the PF when nobody holds it), the
    /// grant itself last.
    fn arbitrate(&self, waiting: &[VecDeque<&HostFrame>], parked: bool) -> Option<usize> {
        let has = |f: usize| waiting.get(f).is_some_and(|q| !q.is_empty());
        if let Some(g) = self.grant.filter(|&g| parked && has(g)) {
            return Some(g);
        }
        let n = waiting.len();
        let from = self.grant.unwrap_or(0);
        (1..=n).map(|k| (from + k) % n).find(|&f| has(f))
    }
}

impl NicDevice for NicModel {
    fn build(&self) -> Build {
        self.build
    }

    /// PF: `pf::table(&build)` with the hardware's responses; an offset
    /// above 0xffff is [`BusError::OutOfRange`]. VF i: `vf::table()`, its
    /// own error registers; an offset at or past `vf::BAR_SIZE` is
    /// [`BusError::OutOfRange`], a VF the build lacks answers
    /// [`BusError::Decode`] (counted nowhere).
    fn bar_read(&mut self, function: Function, offset: u32) -> Result<u32, BusError> {
        let address = offset & !3;
        match function {
            Function::Pf => {
                if let Some(value) = self.pf_status(address) {
                    self.pf_bar.set_status(address, value);
                }
                self.pf_bar.read32(offset)
            }
            Function::Vf(i) => {
                let value = address
                    .checked_sub(vf::FUNCTION_BASE)
                    .filter(|&rel| rel != fr::VNI.offset)
                    .and_then(|rel| self.function_block_value(i.saturating_add(1), rel));
                let bar = self.vf_bar(i, offset)?;
                if let Some(value) = value {
                    bar.set_status(address, value);
                }
                bar.read32(offset)
            }
        }
    }

    /// As [`NicDevice::bar_read`]; a write that the PF BAR takes at
    /// `MAP_CMD`, `VNI_CMD` or `EVENT_POP` rings that doorbell (command code
    /// = bits 2:0; any value pops). Every VF register refuses writes.
    fn bar_write(&mut self, function: Function, offset: u32, value: u32) -> Result<(), BusError> {
        match function {
            Function::Pf => {
                self.pf_bar.write32(offset, value)?;
                match offset {
                    o if o == pf::MAP_CMD.offset => self.map_command(value & 7),
                    o if o == pf::VNI_CMD.offset => self.vni_command(value & 7),
                    o if o == pf::EVENT_POP.offset => {
                        self.events.pop();
                    }
                    _ => {}
                }
                Ok(())
            }
            Function::Vf(i) => self.vf_bar(i, offset)?.write32(offset, value),
        }
    }

    /// Each frame through [`TxModel::transmit_with`] on [`NicModel::config`],
    /// in the arbiter's order (see [`NicModel`]). A frame of a function the
    /// build lacks, or an empty one, refuses the whole call before anything
    /// is sent. [`DeviceError::Simulation`] means a frame was to be
    /// encapsulated with a VTEP that cannot build outer headers (TTL 0,
    /// source-port range low > high, VID 0xfff): that frame and the ones
    /// after it are not sent, those before it were (and are counted).
    fn transmit(&mut self, frames: &[HostFrame]) -> Result<Vec<Vec<u8>>, DeviceError> {
        let functions = self.build.functions();
        let mut waiting: Vec<VecDeque<&HostFrame>> = vec![VecDeque::new(); functions];
        for frame in frames {
            let Some(queue) = waiting.get_mut(frame.function.index()) else {
                return Err(DeviceError::NoSuchFunction {
                    function: frame.function,
                    vfs: self.build.vfs,
                });
            };
            if frame.data.is_empty() {
                return Err(DeviceError::EmptyFrame);
            }
            queue.push_back(frame);
        }
        *self.tx.config_mut() = self.config();
        let mut wire = Vec::with_capacity(frames.len());
        let mut parked = true;
        while let Some(f) = self.arbitrate(&waiting, parked) {
            parked = false;
            self.grant = Some(f);
            if let Some(frame) = waiting[f].pop_front() {
                wire.extend(self.transmit_one(frame)?);
            }
        }
        Ok(wire)
    }

    /// Each frame through [`RxModel::receive`] on [`NicModel::config`]; an
    /// empty frame refuses the whole call before anything is received.
    fn receive(&mut self, frames: &[Vec<u8>]) -> Result<Vec<RxDelivery>, DeviceError> {
        if frames.iter().any(Vec::is_empty) {
            return Err(DeviceError::EmptyFrame);
        }
        *self.rx.config_mut() = self.config();
        let mut delivered = Vec::new();
        for frame in frames {
            let outcome = self.rx.receive(frame);
            while let Some(event) = self.rx.pop_event() {
                self.events.raise(event);
            }
            delivered.extend(outcome.deliveries().iter().cloned());
        }
        Ok(delivered)
    }
}

/// One function's BAR of any [`NicDevice`] as a [`RegisterBus`], straight to
/// the device (no PCIe endpoint: [`crate::pcie::BarBus`] is the routed one), for the
/// typed accessors of [`crate::registers::Registers`].
#[derive(Debug)]
pub struct DeviceBar<'a, D: ?Sized> {
    device: &'a mut D,
    function: Function,
}

impl<'a, D: NicDevice + ?Sized> DeviceBar<'a, D> {
    /// `function`'s BAR0 of `device`.
    pub fn new(device: &'a mut D, function: Function) -> Self {
        DeviceBar { device, function }
    }
}

impl<D: NicDevice + ?Sized> RegisterBus for DeviceBar<'_, D> {
    fn read32(&mut self, offset: u32) -> Result<u32, BusError> {
        self.device.bar_read(self.function, offset)
    }

    fn write32(&mut self, offset: u32, value: u32) -> Result<(), BusError> {
        self.device.bar_write(self.function, offset, value)
    }
}

#[cfg(test)]
mod tests;
