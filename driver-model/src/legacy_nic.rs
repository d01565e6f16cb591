//! A NIC without the overlay offload, as the VTEP software's fallback is
//! tested against (FIG. 7 720-735): the same identification, `CAPABILITY`
//! 0 and no VFs; every host frame goes to the wire untouched and every
//! wire frame to the PF untouched.

use crate::device::{DeviceError, HostFrame, NicDevice};
use crate::registers::{BusError, RegisterBus, RegisterFileModel};
use crate::rx::{RxDelivery, RxMeta};
use crate::tx::Function;
use overlay_nic_regmap::{pf, Build, Register};
use std::sync::OnceLock;

/// The plain NIC.
#[derive(Debug, Clone)]
pub struct LegacyNic {
    regs: RegisterFileModel,
}

fn table() -> &'static [Register] {
    static TABLE: OnceLock<Vec<Register>> = OnceLock::new();
    TABLE.get_or_init(|| {
        pf::table(&LegacyNic::BUILD)
            .into_iter()
            .map(|r| match r.name {
                "CAPABILITY" => Register { reset: 0, ..r },
                _ => r,
            })
            .collect()
    })
}

impl LegacyNic {
    /// Its build: no VFs (SR-IOV without the offload cannot join overlays).
    pub const BUILD: Build = Build {
        vfs: 0,
        ..Build::DEFAULT
    };

    pub fn new() -> LegacyNic {
        LegacyNic {
            regs: RegisterFileModel::new(table()),
        }
    }
}

impl Default for LegacyNic {
    fn default() -> Self {
        LegacyNic::new()
    }
}

impl NicDevice for LegacyNic {
    fn build(&self) -> Build {
        LegacyNic::BUILD
    }

    fn bar_read(&mut self, function: Function, offset: u32) -> Result<u32, BusError> {
        match function {
            Function::Pf => self.regs.read32(offset),
            Function::Vf(_) => Err(BusError::Decode { offset }),
        }
    }

    fn bar_write(&mut self, function: Function, offset: u32, value: u32) -> Result<(), BusError> {
        match function {
            Function::Pf => self.regs.write32(offset, value),
            Function::Vf(_) => Err(BusError::Decode { offset }),
        }
    }

    fn transmit(&mut self, frames: &[HostFrame]) -> Result<Vec<Vec<u8>>, DeviceError> {
        frames
            .iter()
            .map(|f| match f.function {
                Function::Pf if !f.data.is_empty() => Ok(f.data.clone()),
                Function::Pf => Err(DeviceError::EmptyFrame),
                function => Err(DeviceError::NoSuchFunction { function, vfs: 0 }),
            })
            .collect()
    }

    fn receive(&mut self, frames: &[Vec<u8>]) -> Result<Vec<RxDelivery>, DeviceError> {
        frames
            .iter()
            .map(|f| {
                if f.is_empty() {
                    return Err(DeviceError::EmptyFrame);
                }
                Ok(RxDelivery {
                    function: Function::Pf,
                    frame: f.clone(),
                    meta: RxMeta::ZERO,
                })
            })
            .collect()
    }
}
