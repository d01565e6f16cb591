//! overlay-nic-sim: the co-simulation harness every HDL test uses, and the
//! `overlay-nic` command.

pub mod direct;

pub use direct::{DirectSim, SimError};
