//! overlay-nic-sim: the co-simulation harness every HDL test uses, the
//! multi-host world ([`world`]: hosts with their NICs, an underlay, VMs,
//! scenarios), and the `overlay-nic` command.

pub mod axil;
pub mod bench;
pub mod blocks;
pub mod capture;
pub mod decap;
pub mod device;
pub mod direct;
pub mod encap;
pub mod frames;
pub mod pipeline;
pub mod rtl;
pub mod run;
pub mod rx;
pub mod streaming_nic;
pub mod synth;
pub mod tx;
pub mod world;

pub use direct::{DirectSim, SimError};
