//! A host's NIC: the cycle-accurate HDL or the behavioural model, behind
//! one [`NicDevice`], with the clock cycles each call took.

use crate::device::HdlDevice;
use crate::tx::NicSimError;
use overlay_nic_driver::device::{DeviceError, HostFrame, NicDevice};
use overlay_nic_driver::nic_model::NicModel;
use overlay_nic_driver::registers::BusError;
use overlay_nic_driver::rx::RxDelivery;
use overlay_nic_driver::tx::Function;
use overlay_nic_regmap::Build;
use std::path::Path;

use super::scenario::BackendKind;

/// The NIC under one host.
pub enum Backend {
    Hdl(Box<HdlDevice>),
    Model(Box<NicModel>),
}

impl Backend {
    /// A NIC of `kind`, fresh from reset.
    pub fn new(kind: BackendKind, seed: u64) -> Result<Backend, NicSimError> {
        Ok(match kind {
            BackendKind::Hdl => Backend::Hdl(Box::new(HdlDevice::new(seed)?)),
            BackendKind::Model => Backend::Model(Box::new(NicModel::new(Build::DEFAULT))),
        })
    }

    /// Clock cycles simulated so far (the model has no clock: 0).
    pub fn cycles(&mut self) -> u64 {
        match self {
            Backend::Hdl(d) => d.nic().sim().cycle(),
            Backend::Model(_) => 0,
        }
    }

    /// Streams the NIC's waveform to `path` from now on (HDL only).
    pub fn trace_to(&mut self, path: &Path) -> Result<(), String> {
        match self {
            Backend::Hdl(d) => d.nic().trace_to(path).map_err(|e| e.to_string()),
            Backend::Model(_) => {
                Err("the behavioural model has no waveform (use --backend hdl)".into())
            }
        }
    }
}

impl NicDevice for Backend {
    fn build(&self) -> Build {
        match self {
            Backend::Hdl(d) => d.build(),
            Backend::Model(d) => d.build(),
        }
    }
    fn bar_read(&mut self, function: Function, offset: u32) -> Result<u32, BusError> {
        match self {
            Backend::Hdl(d) => d.bar_read(function, offset),
            Backend::Model(d) => d.bar_read(function, offset),
        }
    }
    fn bar_write(&mut self, function: Function, offset: u32, value: u32) -> Result<(), BusError> {
        match self {
            Backend::Hdl(d) => d.bar_write(function, offset, value),
            Backend::Model(d) => d.bar_write(function, offset, value),
        }
    }
    fn transmit(&mut self, frames: &[HostFrame]) -> Result<Vec<Vec<u8>>, DeviceError> {
        match self {
            Backend::Hdl(d) => d.transmit(frames),
            Backend::Model(d) => d.transmit(frames),
        }
    }
    fn receive(&mut self, frames: &[Vec<u8>]) -> Result<Vec<RxDelivery>, DeviceError> {
        match self {
            Backend::Hdl(d) => d.receive(frames),
            Backend::Model(d) => d.receive(frames),
        }
    }
}
