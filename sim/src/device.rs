//! The cycle-accurate back end of the driver's [`NicDevice`]: the default
//! build's HDL NIC, its PF BAR on the `axil` port, every VF's BAR on the
//! `vf_axil` port (VF i at `i * vf::BAR_SIZE`, as the PCIe endpoint routes
//! it), host queues and wire driven by the stream harness.
//!
//! The behavioural back end is `overlay_nic_driver::nic_model::NicModel`;
//! the driver suite (`overlay_nic_driver::driver_suite`) runs on both.

use crate::axil::AxiLiteHost;
use crate::rx::RxTraffic;
use crate::tx::{DefaultNic, NicSim, NicSimError, Traffic};
use overlay_nic_driver::device::{DeviceError, HostFrame, NicDevice};
use overlay_nic_driver::registers::{BusError, RegisterBus};
use overlay_nic_driver::rx::RxDelivery;
use overlay_nic_driver::tx::Function;
use overlay_nic_regmap::{vf, Build};

/// The HDL NIC as a [`NicDevice`].
pub struct HdlDevice {
    nic: NicSim,
    vf_host: AxiLiteHost<DefaultNic>,
    traffic: Traffic,
}

impl HdlDevice {
    /// A NIC fresh from reset. `seed` drives the register buses' random
    /// stalls; the host queues and the wire never stall (use
    /// [`HdlDevice::with_traffic`] for stalls).
    pub fn new(seed: u64) -> Result<HdlDevice, NicSimError> {
        Ok(HdlDevice {
            nic: NicSim::new(seed)?,
            vf_host: AxiLiteHost::new(|u: &mut DefaultNic| &mut u.vf_axil, seed ^ 0x7f, 0.2),
            traffic: Traffic {
                seed,
                ..Traffic::default()
            },
        })
    }

    /// Host idle and wire back-pressure for the datapath calls from now on.
    pub fn with_traffic(mut self, traffic: Traffic) -> HdlDevice {
        self.traffic = traffic;
        self
    }

    /// The simulation underneath (waveforms, cycle counts).
    pub fn nic(&mut self) -> &mut NicSim {
        &mut self.nic
    }

    fn sim_error(e: impl std::fmt::Display) -> DeviceError {
        DeviceError::Simulation(e.to_string())
    }

    fn check_function(&self, function: Function) -> Result<(), DeviceError> {
        let vfs = self.nic.build().vfs;
        match function {
            Function::Vf(i) if i >= vfs => Err(DeviceError::NoSuchFunction { function, vfs }),
            _ => Ok(()),
        }
    }

    fn vf_address(&self, i: usize, offset: u32) -> Result<u16, BusError> {
        // The endpoint routes only what hit an existing VF's BAR.
        if i >= self.nic.build().vfs || offset >= vf::BAR_SIZE {
            return Err(BusError::OutOfRange { offset });
        }
        Ok((i as u32 * vf::BAR_SIZE + offset) as u16)
    }
}

impl NicDevice for HdlDevice {
    fn build(&self) -> Build {
        *self.nic.build()
    }

    fn bar_read(&mut self, function: Function, offset: u32) -> Result<u32, BusError> {
        match function {
            Function::Pf => self.nic.registers().bus().read32(offset),
            Function::Vf(i) => {
                let addr = self.vf_address(i, offset)?;
                let (data, code) = self
                    .vf_host
                    .read(self.nic.sim(), addr)
                    .map_err(|e| BusError::Transport(e.to_string()))?;
                BusError::check(code, offset).map(|()| data)
            }
        }
    }

    fn bar_write(&mut self, function: Function, offset: u32, value: u32) -> Result<(), BusError> {
        match function {
            Function::Pf => self.nic.registers().bus().write32(offset, value),
            Function::Vf(i) => {
                let addr = self.vf_address(i, offset)?;
                let code = self
                    .vf_host
                    .write(self.nic.sim(), addr, value, 0xf)
                    .map_err(|e| BusError::Transport(e.to_string()))?;
                BusError::check(code, offset)
            }
        }
    }

    fn transmit(&mut self, frames: &[HostFrame]) -> Result<Vec<Vec<u8>>, DeviceError> {
        for f in frames {
            self.check_function(f.function)?;
            if f.data.is_empty() {
                return Err(DeviceError::EmptyFrame);
            }
        }
        let run = self
            .nic
            .run_until_idle(frames, self.traffic)
            .map_err(Self::sim_error)?;
        Ok(run.wire.into_iter().map(|w| w.data).collect())
    }

    fn receive(&mut self, frames: &[Vec<u8>]) -> Result<Vec<RxDelivery>, DeviceError> {
        if frames.iter().any(|f| f.is_empty()) {
            return Err(DeviceError::EmptyFrame);
        }
        let traffic = RxTraffic {
            seed: self.traffic.seed,
            idle: self.traffic.idle,
            backpressure: self.traffic.backpressure,
        };
        let run = self
            .nic
            .receive_until_idle(frames, traffic)
            .map_err(Self::sim_error)?;
        Ok(run
            .delivered
            .into_iter()
            .map(|d| RxDelivery {
                function: d.function,
                frame: d.data,
                meta: d.meta,
            })
            .collect())
    }
}
