//! A multi-host co-simulation: hosts with overlay NICs, an underlay of VTEP
//! subnets joined by a router, and VMs that talk through the overlay.

pub mod vm;
