//! Register access as the driver sees it: a 32-bit bus to a BAR, typed
//! accessors built from the register tables, and a behavioural model of a
//! register slave.
//!
//! The driver never pokes raw offsets: it names a [`Register`] from
//! `overlay_nic_regmap`, and [`Registers`] refuses, before touching the bus,
//! an access that register's kind does not allow or a value with reserved
//! bits set. The bus itself is a trait with two back ends: the cycle-accurate
//! HDL simulation (in `overlay-nic-sim`) and [`RegisterFileModel`] here.
//!
//! ```
//! use overlay_nic_driver::registers::{Registers, RegisterFileModel, RegisterError};
//! use overlay_nic_regmap::pf;
//!
//! let mut regs = Registers::new(RegisterFileModel::new(pf::TABLE));
//! assert_eq!(regs.read(&pf::ID)?, pf::ID_VALUE);
//! regs.write(&pf::VTEP_IP, u32::from_be_bytes([192, 168, 56, 11]))?;
//! assert_eq!(regs.read(&pf::VTEP_IP)?, 0xc0a8_380b);
//! // A 16-bit register refuses a value with reserved bits set.
//! assert!(matches!(
//!     regs.write(&pf::VXLAN_UDP_PORT, 0x1_0000),
//!     Err(RegisterError::ReservedBits { .. })
//! ));
//! # Ok::<(), RegisterError>(())
//! ```

use crate::nic_config::{MacAddr, VtepConfig};
use overlay_nic_regmap::{resp, Access, Register};

/// The `OUTER_IP` register's value for `vtep`, as the driver programs it:
/// TTL in 7:0, DF in bit 8, the outer UDP checksum option in bit 9. Kept
/// here, next to the accessors, so every back end programs the same bits.
pub fn outer_ip_value(vtep: &VtepConfig) -> u32 {
    u32::from(vtep.ttl) | u32::from(vtep.dont_fragment) << 8 | u32::from(vtep.udp_checksum) << 9
}

/// A MAC's `_HI` register word (bytes 0-1).
pub fn mac_hi(m: &MacAddr) -> u32 {
    u32::from(m.0[0]) << 8 | u32::from(m.0[1])
}

/// A MAC's `_LO` register word (bytes 2-5).
pub fn mac_lo(m: &MacAddr) -> u32 {
    u32::from_be_bytes([m.0[2], m.0[3], m.0[4], m.0[5]])
}

/// The MAC in a `_HI`/`_LO` register pair (the hardware's encoding: the
/// first byte on the wire in `_HI` 15:8).
pub fn mac_of(hi: u32, lo: u32) -> MacAddr {
    let l = lo.to_be_bytes();
    MacAddr([(hi >> 8) as u8, hi as u8, l[0], l[1], l[2], l[3]])
}

/// What the bus itself answered when an access failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    /// The slave refused the access (SLVERR): wrong kind or unaligned.
    #[error("slave error at {offset:#06x}")]
    Slave { offset: u32 },
    /// No register at that address (DECERR).
    #[error("no register at {offset:#06x}")]
    Decode { offset: u32 },
    /// The offset does not fit the bus's address width.
    #[error("offset {offset:#x} outside the BAR")]
    OutOfRange { offset: u32 },
    /// The transport failed (simulation error, hung slave, ...).
    #[error("bus transport: {0}")]
    Transport(String),
}

impl BusError {
    /// Maps an AXI response code to a result.
    pub fn check(code: u8, offset: u32) -> Result<(), BusError> {
        match code {
            resp::OKAY => Ok(()),
            resp::DECERR => Err(BusError::Decode { offset }),
            _ => Err(BusError::Slave { offset }),
        }
    }
}

/// A 32-bit memory-mapped register bus (one BAR).
pub trait RegisterBus {
    /// Reads the 32-bit word at byte `offset`.
    fn read32(&mut self, offset: u32) -> Result<u32, BusError>;
    /// Writes all four bytes of the word at byte `offset`.
    fn write32(&mut self, offset: u32, value: u32) -> Result<(), BusError>;
}

/// Why a register access failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    #[error("register {0} cannot be written")]
    NotWritable(&'static str),
    #[error("register {0} cannot be read")]
    NotReadable(&'static str),
    #[error("value {value:#x} sets bits outside {name}'s mask {mask:#x}")]
    ReservedBits {
        name: &'static str,
        value: u32,
        mask: u32,
    },
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// Typed register accessors over any [`RegisterBus`].
pub struct Registers<B> {
    bus: B,
}

impl<B: RegisterBus> Registers<B> {
    pub fn new(bus: B) -> Self {
        Self { bus }
    }

    /// The bus, for raw accesses (tests of the hardware's refusals).
    pub fn bus(&mut self) -> &mut B {
        &mut self.bus
    }

    /// Reads `reg`, refusing doorbells without touching the bus.
    pub fn read(&mut self, reg: &Register) -> Result<u32, RegisterError> {
        if !reg.access.readable() {
            return Err(RegisterError::NotReadable(reg.name));
        }
        Ok(self.bus.read32(reg.offset)?)
    }

    /// Writes `reg`, refusing read-only kinds and reserved bits without
    /// touching the bus.
    pub fn write(&mut self, reg: &Register, value: u32) -> Result<(), RegisterError> {
        if !reg.access.writable() {
            return Err(RegisterError::NotWritable(reg.name));
        }
        if reg.access == Access::ReadWrite && value & !reg.mask != 0 {
            return Err(RegisterError::ReservedBits {
                name: reg.name,
                value,
                mask: reg.mask,
            });
        }
        Ok(self.bus.write32(reg.offset, value)?)
    }

    /// Read-modify-write of the bits in `field` (a mask) of `reg`.
    pub fn modify(&mut self, reg: &Register, field: u32, value: u32) -> Result<(), RegisterError> {
        let old = self.read(reg)?;
        self.write(reg, (old & !field) | (value & field))
    }
}

/// A behavioural register slave built from a table: the same rules as the
/// hardware's `RegisterFile` (responses, masks, byte strobes, error count
/// and address), without the clock.
#[derive(Debug, Clone)]
pub struct RegisterFileModel {
    table: &'static [Register],
    stored: Vec<u32>,
    status: Vec<u32>,
    errors: u32,
    error_address: u32,
}

impl RegisterFileModel {
    /// Bus address width, as the hardware decodes it.
    const ADDRESS_MASK: u32 = (1 << overlay_nic_regmap::ADDRESS_BITS) - 1;

    pub fn new(table: &'static [Register]) -> Self {
        let stored = table
            .iter()
            .map(|r| {
                if r.access == Access::ReadWrite {
                    r.reset
                } else {
                    0
                }
            })
            .collect();
        Self {
            table,
            stored,
            status: vec![0; table.len()],
            errors: 0,
            error_address: 0,
        }
    }

    /// Sets what a `ReadOnly` register at `offset` reads as (the datapath's
    /// side of the model). Returns false if there is no such register.
    pub fn set_status(&mut self, offset: u32, value: u32) -> bool {
        match self.table.iter().position(|r| r.offset == offset) {
            Some(i) if self.table[i].access == Access::ReadOnly => {
                self.status[i] = value;
                true
            }
            _ => false,
        }
    }

    /// The stored value of a writable register (what the datapath sees).
    pub fn value(&self, reg: &Register) -> Option<u32> {
        let i = self.table.iter().position(|r| r.offset == reg.offset)?;
        reg.access.writable().then_some(self.stored[i])
    }

    fn find(&self, address: u32) -> Option<usize> {
        self.table.iter().position(|r| r.offset == address & !3)
    }

    fn fail(&mut self, address: u32, code: u8) -> u8 {
        self.errors = self.errors.wrapping_add(1);
        self.error_address = address;
        code
    }

    /// One AXI4-Lite write with byte strobes; returns the B response.
    /// Addresses are taken modulo the decoded width, as the hardware does.
    pub fn write_strobed(&mut self, address: u32, data: u32, strobes: u8) -> u8 {
        let address = address & Self::ADDRESS_MASK;
        let Some(i) = self.find(address) else {
            return self.fail(address, resp::DECERR);
        };
        let reg = self.table[i];
        if address & 3 != 0 || !reg.access.writable() {
            return self.fail(address, resp::SLVERR);
        }
        let lanes: u32 = (0..4)
            .filter(|lane| strobes >> lane & 1 == 1)
            .map(|lane| 0xff << (8 * lane))
            .fold(0, |acc, m| acc | m);
        let implemented = if reg.access == Access::ReadWrite {
            reg.mask
        } else {
            !0
        };
        let m = lanes & implemented;
        self.stored[i] = (self.stored[i] & !m) | (data & m);
        resp::OKAY
    }

    /// One AXI4-Lite read; returns `(data, R response)`.
    pub fn read_raw(&mut self, address: u32) -> (u32, u8) {
        let address = address & Self::ADDRESS_MASK;
        let Some(i) = self.find(address) else {
            return (0, self.fail(address, resp::DECERR));
        };
        let reg = self.table[i];
        if address & 3 != 0 || !reg.access.readable() {
            return (0, self.fail(address, resp::SLVERR));
        }
        let value = match reg.access {
            Access::ReadWrite => self.stored[i],
            Access::ReadOnly => self.status[i],
            Access::Constant => reg.reset,
            Access::BusErrorCount => self.errors,
            Access::BusErrorAddress => self.error_address,
            Access::WriteOnly => 0, // refused above
        };
        (value, resp::OKAY)
    }
}

impl RegisterBus for RegisterFileModel {
    fn read32(&mut self, offset: u32) -> Result<u32, BusError> {
        if offset > Self::ADDRESS_MASK {
            return Err(BusError::OutOfRange { offset });
        }
        let (value, code) = self.read_raw(offset);
        BusError::check(code, offset).map(|()| value)
    }

    fn write32(&mut self, offset: u32, value: u32) -> Result<(), BusError> {
        if offset > Self::ADDRESS_MASK {
            return Err(BusError::OutOfRange { offset });
        }
        BusError::check(self.write_strobed(offset, value, 0xf), offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use overlay_nic_regmap::pf;

    #[test]
    fn accessors_refuse_before_the_bus() {
        let mut regs = Registers::new(RegisterFileModel::new(pf::TABLE));
        assert_eq!(
            regs.write(&pf::ID, 1),
            Err(RegisterError::NotWritable("ID"))
        );
        assert_eq!(
            regs.write(&pf::BUS_ERRORS, 0),
            Err(RegisterError::NotWritable("BUS_ERRORS"))
        );
        assert!(matches!(
            regs.write(&pf::OUTER_IP, 0x400),
            Err(RegisterError::ReservedBits {
                name: "OUTER_IP",
                ..
            })
        ));
        // None of those reached the bus.
        assert_eq!(regs.read(&pf::BUS_ERRORS), Ok(0));
    }

    #[test]
    fn raw_refusals_are_counted_by_the_model() {
        let mut regs = Registers::new(RegisterFileModel::new(pf::TABLE));
        assert_eq!(
            regs.bus().write32(pf::ID.offset, 1),
            Err(BusError::Slave { offset: 0 })
        );
        assert_eq!(
            regs.bus().read32(0x0ffc),
            Err(BusError::Decode { offset: 0x0ffc })
        );
        assert_eq!(
            regs.bus().read32(0x1_0000),
            Err(BusError::OutOfRange { offset: 0x1_0000 })
        );
        assert_eq!(regs.read(&pf::BUS_ERRORS), Ok(2));
        assert_eq!(regs.read(&pf::BUS_ERROR_ADDR), Ok(0x0ffc));
    }

    #[test]
    fn modify_touches_only_its_field() {
        let mut regs = Registers::new(RegisterFileModel::new(pf::TABLE));
        regs.modify(&pf::OUTER_IP, 0xff, 32).unwrap();
        assert_eq!(regs.read(&pf::OUTER_IP), Ok(0x120), "DF kept, TTL changed");
    }

    #[test]
    fn outer_ip_value_carries_the_vtep_options() {
        use crate::nic_config::MacAddr;
        use std::net::Ipv4Addr;
        let mut v = VtepConfig::new(
            MacAddr([2, 0, 0, 0, 0, 1]),
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(255, 255, 255, 0),
            MacAddr([2, 0, 0, 0, 0, 0xfe]),
        );
        // The defaults are the register's reset value.
        assert_eq!(outer_ip_value(&v), pf::OUTER_IP.reset);
        v.udp_checksum = true;
        assert_eq!(outer_ip_value(&v), 0x340);
        v.dont_fragment = false;
        v.ttl = 7;
        assert_eq!(outer_ip_value(&v), 0x207);
        // Bit 9 is a register bit, not a reserved one.
        let mut regs = Registers::new(RegisterFileModel::new(pf::TABLE));
        regs.write(&pf::OUTER_IP, outer_ip_value(&v)).unwrap();
        assert_eq!(regs.read(&pf::OUTER_IP), Ok(0x207));
    }
}
