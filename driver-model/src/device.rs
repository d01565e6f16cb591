//! The NIC as the host reaches it, whatever implements it: [`NicDevice`].
//!
//! Two back ends implement the trait: the cycle-accurate HDL simulation
//! (`overlay_nic_sim::device::HdlDevice`) and the fast behavioural model
//! ([`crate::nic_model::NicModel`]). The simulated PCIe endpoint
//! ([`crate::pcie`]) sits on top of either and is all the driver
//! ([`crate::pf_driver`]) talks to, so one driver test suite runs on both.
//!
//! A device has three kinds of port:
//! - register BARs, one per function: the PF's (`overlay_nic_regmap::pf`)
//!   and each VF's (`overlay_nic_regmap::vf`), as the PCIe endpoint routes
//!   a memory access that hit that function's BAR0;
//! - the host queues: frames a function hands to the TX path, and the
//!   frames the RX path delivers to each function;
//! - the wire, both ways.

use crate::offload::OffloadRequest;
use crate::registers::BusError;
use crate::rx::RxDelivery;
use crate::tx::Function;
use crate::vxlan::Vni;
use overlay_nic_regmap::Build;

/// One frame a host function hands to the NIC's TX path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostFrame {
    /// The function sending it.
    pub function: Function,
    /// The frame as the function's driver wrote it.
    pub data: Vec<u8>,
    /// The PF's overlay tag (the VNI to encapsulate into), if any; VF frames
    /// ignore it (the VF's VNI register decides).
    pub tag: Option<Vni>,
    /// Checksum and segmentation requests (`docs/tx-offload.md`).
    pub offload: OffloadRequest,
}

impl HostFrame {
    /// A frame from `function` with no tag and no offload request.
    pub fn new(function: Function, data: Vec<u8>) -> HostFrame {
        HostFrame {
            function,
            data,
            tag: None,
            offload: OffloadRequest::default(),
        }
    }

    /// The same frame tagged for `vni` (PF overlay traffic).
    pub fn tagged(mut self, vni: Vni) -> HostFrame {
        self.tag = Some(vni);
        self
    }
}

/// Why a device could not carry out a datapath request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// The function is not in this build.
    #[error("{function} is not in this device (PF and {vfs} VFs)")]
    NoSuchFunction { function: Function, vfs: usize },
    /// An empty frame cannot be sent on a stream.
    #[error("an empty frame cannot be sent")]
    EmptyFrame,
    /// The simulation under the device failed (an HDL back end only).
    #[error("device simulation: {0}")]
    Simulation(String),
}

/// The NIC core as the PCIe endpoint and the wire see it.
pub trait NicDevice {
    /// The build's size parameters (what the PCIe endpoint was generated
    /// with: TotalVFs is `build().vfs`).
    fn build(&self) -> Build;

    /// A 32-bit read at byte `offset` of `function`'s BAR0.
    fn bar_read(&mut self, function: Function, offset: u32) -> Result<u32, BusError>;

    /// A 32-bit write at byte `offset` of `function`'s BAR0.
    fn bar_write(&mut self, function: Function, offset: u32, value: u32) -> Result<(), BusError>;

    /// Hands `frames` to the TX path (each function's in the order given)
    /// and returns what left on the wire, in wire order, once the NIC is
    /// idle again.
    fn transmit(&mut self, frames: &[HostFrame]) -> Result<Vec<Vec<u8>>, DeviceError>;

    /// Puts `frames` on the wire's receive side, in order, and returns every
    /// copy the RX path delivered to a function, in delivery order, once the
    /// NIC is idle again.
    fn receive(&mut self, frames: &[Vec<u8>]) -> Result<Vec<RxDelivery>, DeviceError>;
}

impl<D: NicDevice + ?Sized> NicDevice for &mut D {
    fn build(&self) -> Build {
        (**self).build()
    }
    fn bar_read(&mut self, function: Function, offset: u32) -> Result<u32, BusError> {
        (**self).bar_read(function, offset)
    }
    fn bar_write(&mut self, function: Function, offset: u32, value: u32) -> Result<(), BusError> {
        (**self).bar_write(function, offset, value)
    }
    fn transmit(&mut self, frames: &[HostFrame]) -> Result<Vec<Vec<u8>>, DeviceError> {
        (**self).transmit(frames)
    }
    fn receive(&mut self, frames: &[Vec<u8>]) -> Result<Vec<RxDelivery>, DeviceError> {
        (**self).receive(frames)
    }
}
