//! An AXI4-Lite bus master for register-file simulations.
//!
//! Drives a block's [`AxiLiteSlave`] port through a [`DirectSim`], one
//! transaction at a time, with optional seeded random delays on `VALID`
//! and `BREADY`/`RREADY`, and checks the slave's side of the handshake rules
//! it can see. This is the hardware back end of the driver's register bus.

use crate::direct::{DirectSim, SimError};
use overlay_nic_driver::registers::{BusError, RegisterBus};
use overlay_nic_hdl::AxiLiteSlave;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;

/// Cycles a transaction may wait for the slave before the host calls it hung.
const TIMEOUT_CYCLES: u64 = 1000;

/// Why a register transaction failed to complete.
#[derive(Debug, thiserror::Error)]
pub enum AxilError {
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error("register slave did not answer a {0} of {1:#06x} within {TIMEOUT_CYCLES} cycles")]
    Timeout(&'static str, u16),
}

/// Accessor for the block's AXI4-Lite port.
pub type PortFn<B> = fn(&mut B) -> &mut AxiLiteSlave;

/// A bus master with its own seeded stall pattern.
pub struct AxiLiteHost<B: Block> {
    port: PortFn<B>,
    rng: ChaCha8Rng,
    stall: f64,
}

impl<B: Block> AxiLiteHost<B> {
    /// `stall` is the probability (0..1) of holding back a `VALID` or
    /// `READY` in any given cycle; 0 runs every transaction at full speed.
    pub fn new(port: PortFn<B>, seed: u64, stall: f64) -> Self {
        Self {
            port,
            rng: ChaCha8Rng::seed_from_u64(seed),
            stall: stall.clamp(0.0, 0.95),
        }
    }

    fn stalled(&mut self) -> bool {
        self.stall > 0.0 && self.rng.gen_bool(self.stall)
    }

    /// Writes `data` with byte strobes `strb` and returns the B response.
    pub fn write(
        &mut self,
        sim: &mut DirectSim<B>,
        addr: u16,
        data: u32,
        strb: u8,
    ) -> Result<u8, AxilError> {
        let port = self.port;
        let (mut aw_done, mut w_done) = (false, false);
        let start = sim.cycle();
        while !(aw_done && w_done) {
            let aw = !aw_done && !self.stalled();
            let w = !w_done && !self.stalled();
            let p = port(sim.uut());
            p.awaddr.next = (addr as u64).to_bits();
            p.awvalid.next = aw;
            p.wdata.next = (data as u64).to_bits();
            p.wstrb.next = ((strb & 0xf) as u64).to_bits();
            p.wvalid.next = w;
            p.bready.next = false;
            sim.settle()?;
            let p = port(sim.uut());
            aw_done |= aw && p.awready.val();
            w_done |= w && p.wready.val();
            sim.tick()?;
            if sim.cycle() - start > TIMEOUT_CYCLES {
                return Err(AxilError::Timeout("write", addr));
            }
        }
        let p = port(sim.uut());
        p.awvalid.next = false;
        p.wvalid.next = false;
        loop {
            let ready = !self.stalled();
            port(sim.uut()).bready.next = ready;
            sim.settle()?;
            let p = port(sim.uut());
            let done = ready && p.bvalid.val();
            let resp = p.bresp.val().index() as u8;
            sim.tick()?;
            if done {
                port(sim.uut()).bready.next = false;
                return Ok(resp);
            }
            if sim.cycle() - start > TIMEOUT_CYCLES {
                return Err(AxilError::Timeout("write response", addr));
            }
        }
    }

    /// Reads a register and returns `(data, R response)`.
    pub fn read(&mut self, sim: &mut DirectSim<B>, addr: u16) -> Result<(u32, u8), AxilError> {
        let port = self.port;
        let start = sim.cycle();
        loop {
            let ar = !self.stalled();
            let p = port(sim.uut());
            p.araddr.next = (addr as u64).to_bits();
            p.arvalid.next = ar;
            p.rready.next = false;
            sim.settle()?;
            let taken = ar && port(sim.uut()).arready.val();
            sim.tick()?;
            if taken {
                break;
            }
            if sim.cycle() - start > TIMEOUT_CYCLES {
                return Err(AxilError::Timeout("read", addr));
            }
        }
        port(sim.uut()).arvalid.next = false;
        loop {
            let ready = !self.stalled();
            port(sim.uut()).rready.next = ready;
            sim.settle()?;
            let p = port(sim.uut());
            let done = ready && p.rvalid.val();
            let data = p.rdata.val().index() as u32;
            let resp = p.rresp.val().index() as u8;
            sim.tick()?;
            if done {
                port(sim.uut()).rready.next = false;
                return Ok((data, resp));
            }
            if sim.cycle() - start > TIMEOUT_CYCLES {
                return Err(AxilError::Timeout("read response", addr));
            }
        }
    }
}

/// The driver's [`RegisterBus`] over a simulated register slave: each
/// access is a full AXI4-Lite transaction on the cycle-accurate design.
pub struct HdlRegisterBus<B: Block> {
    sim: DirectSim<B>,
    host: AxiLiteHost<B>,
}

impl<B: Block> HdlRegisterBus<B> {
    pub fn new(sim: DirectSim<B>, host: AxiLiteHost<B>) -> Self {
        Self { sim, host }
    }

    /// The simulation, to look at the datapath side between accesses.
    pub fn sim(&mut self) -> &mut DirectSim<B> {
        &mut self.sim
    }

    fn address(offset: u32) -> Result<u16, BusError> {
        u16::try_from(offset).map_err(|_| BusError::OutOfRange { offset })
    }
}

impl<B: Block> RegisterBus for HdlRegisterBus<B> {
    fn read32(&mut self, offset: u32) -> Result<u32, BusError> {
        let addr = Self::address(offset)?;
        let (data, code) = self
            .host
            .read(&mut self.sim, addr)
            .map_err(|e| BusError::Transport(e.to_string()))?;
        BusError::check(code, offset).map(|()| data)
    }

    fn write32(&mut self, offset: u32, value: u32) -> Result<(), BusError> {
        let addr = Self::address(offset)?;
        let code = self
            .host
            .write(&mut self.sim, addr, value, 0xf)
            .map_err(|e| BusError::Transport(e.to_string()))?;
        BusError::check(code, offset)
    }
}
