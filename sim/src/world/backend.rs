//! A host's NIC: the cycle-accurate HDL ([`StreamingNic`]) or the
//! behavioural model, behind one free-running interface: frames pushed in
//! at any time, the clock advanced in steps, output collected after each.
//!
//! The model has no clock: it handles each frame as it is pushed and hands
//! the result out at the next step.

use crate::streaming_nic::{StepOutput, StreamingNic, WireOut};
use overlay_nic_driver::device::{DeviceError, HostFrame, NicDevice};
use overlay_nic_driver::nic_model::NicModel;
use overlay_nic_driver::registers::BusError;
use overlay_nic_driver::rx::RxDelivery;
use overlay_nic_driver::tx::Function;
use overlay_nic_regmap::Build;
use std::path::Path;

use super::scenario::BackendKind;

/// The behavioural model with the output it owes.
pub struct ModelNic {
    model: NicModel,
    pending: StepOutput,
}

/// The NIC under one host.
pub enum Backend {
    Hdl(Box<StreamingNic>),
    Model(Box<ModelNic>),
}

impl Backend {
    /// A NIC of `kind`, fresh from reset.
    pub fn new(kind: BackendKind) -> Result<Backend, DeviceError> {
        Ok(match kind {
            BackendKind::Hdl => Backend::Hdl(Box::new(
                StreamingNic::new().map_err(|e| DeviceError::Simulation(e.to_string()))?,
            )),
            BackendKind::Model => Backend::Model(Box::new(ModelNic {
                model: NicModel::new(Build::DEFAULT),
                pending: StepOutput::default(),
            })),
        })
    }

    /// Clock cycles simulated so far (the model has no clock: 0).
    pub fn cycles(&self) -> u64 {
        match self {
            Backend::Hdl(d) => d.cycle(),
            Backend::Model(_) => 0,
        }
    }

    /// Streams the NIC's waveform to `path` from now on (HDL only).
    pub fn trace_to(&mut self, path: &Path) -> Result<(), String> {
        match self {
            Backend::Hdl(d) => d.trace_to(path).map_err(|e| e.to_string()),
            Backend::Model(_) => {
                Err("the behavioural model has no waveform (use --backend hdl)".into())
            }
        }
    }

    /// Frames the host's functions hand the NIC.
    pub fn push_host(&mut self, frames: &[HostFrame]) -> Result<(), DeviceError> {
        match self {
            Backend::Hdl(d) => d.push_host(frames),
            Backend::Model(m) => {
                let wire = m.model.transmit(frames)?;
                m.pending.wire.extend(wire.into_iter().map(|data| WireOut {
                    data,
                    last_cycle: 0,
                }));
                Ok(())
            }
        }
    }

    /// Frames arriving from the wire.
    pub fn push_wire(&mut self, frames: &[Vec<u8>]) -> Result<(), DeviceError> {
        match self {
            Backend::Hdl(d) => d.push_wire(frames),
            Backend::Model(m) => {
                let got = m.model.receive(frames)?;
                m.pending.delivered.extend(got);
                Ok(())
            }
        }
    }

    /// Advances `cycles` clock cycles and takes what came out.
    pub fn step(&mut self, cycles: u64) -> Result<StepOutput, DeviceError> {
        match self {
            Backend::Hdl(d) => {
                d.step(cycles)?;
                Ok(d.take_output())
            }
            Backend::Model(m) => Ok(std::mem::take(&mut m.pending)),
        }
    }

    /// Nothing in flight inside the NIC.
    pub fn idle(&self) -> bool {
        match self {
            Backend::Hdl(d) => d.idle(),
            Backend::Model(m) => m.pending.wire.is_empty() && m.pending.delivered.is_empty(),
        }
    }
}

impl NicDevice for Backend {
    fn build(&self) -> Build {
        match self {
            Backend::Hdl(d) => d.build(),
            Backend::Model(m) => m.model.build(),
        }
    }
    fn bar_read(&mut self, function: Function, offset: u32) -> Result<u32, BusError> {
        match self {
            Backend::Hdl(d) => d.bar_read(function, offset),
            Backend::Model(m) => m.model.bar_read(function, offset),
        }
    }
    fn bar_write(&mut self, function: Function, offset: u32, value: u32) -> Result<(), BusError> {
        match self {
            Backend::Hdl(d) => d.bar_write(function, offset, value),
            Backend::Model(m) => m.model.bar_write(function, offset, value),
        }
    }
    fn transmit(&mut self, frames: &[HostFrame]) -> Result<Vec<Vec<u8>>, DeviceError> {
        match self {
            Backend::Hdl(d) => d.transmit(frames),
            Backend::Model(m) => m.model.transmit(frames),
        }
    }
    fn receive(&mut self, frames: &[Vec<u8>]) -> Result<Vec<RxDelivery>, DeviceError> {
        match self {
            Backend::Hdl(d) => d.receive(frames),
            Backend::Model(m) => m.model.receive(frames),
        }
    }
}
