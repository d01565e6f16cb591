//! The fast direct-loop simulator.
//!
//! rust-hdl's `Simulation` runs each testbench on its own thread and hands
//! the design back and forth through channels; for a single clock domain
//! that hand-off costs more than evaluating the design (the project's
//! rust-hdl notes measured ~5.5k cycles/s against ~38k for a direct loop;
//! this loop runs the packet FIFO at ~480k cycles/s, see
//! docs/benchmarks.md). It owns the design: set inputs, settle, sample,
//! clock edge, repeat.
//!
//! A cycle is: the caller sets inputs while the clock is low and calls
//! [`DirectSim::settle`]; outputs read then are the values the design shows
//! just before the rising edge (registered and combinational alike);
//! [`DirectSim::tick`] applies the rising edge, settles, and lowers the
//! clock again. VCD output, when asked for, streams to a file as it goes.

use rust_hdl::core::check_error::check_all;
use rust_hdl::core::vcd_probe::{write_vcd_change, write_vcd_dump, write_vcd_header, VCDProbe};
use rust_hdl::prelude::*;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

/// Settle passes allowed per evaluation; rust-hdl's own `Simulation` uses 100.
const MAX_SETTLE_PASSES: usize = 100;

/// Half the clock period written to VCD files, in picoseconds (a 6.4 ns,
/// 156.25 MHz clock: 10 Gb/s at 64 bits).
const HALF_PERIOD_PS: u64 = 3200;

/// Why a direct simulation stopped.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("design check failed: {0:?}")]
    Check(rust_hdl::core::check_error::CheckError),
    #[error("combinational logic did not settle in {MAX_SETTLE_PASSES} passes at cycle {0} (a loop through tready?)")]
    FailedToConverge(u64),
    #[error("VCD output: {0}")]
    Vcd(#[from] std::io::Error),
}

/// Accessor for the block's clock input.
pub type ClockFn<B> = fn(&mut B) -> &mut Signal<In, Clock>;

/// Owns a design under test and clocks it in a plain loop.
pub struct DirectSim<B: Block> {
    uut: B,
    clock: ClockFn<B>,
    cycle: u64,
    vcd: Option<VCDProbe<BufWriter<File>>>,
}

impl<B: Block> DirectSim<B> {
    /// Connects and checks `uut`, then settles it with the clock low.
    pub fn new(mut uut: B, clock: ClockFn<B>) -> Result<Self, SimError> {
        uut.connect_all();
        check_all(&uut).map_err(SimError::Check)?;
        clock(&mut uut).next = false.into();
        let mut sim = Self {
            uut,
            clock,
            cycle: 0,
            vcd: None,
        };
        sim.settle()?;
        Ok(sim)
    }

    /// Streams every signal change to a VCD file at `path` from now on.
    /// Nothing is buffered beyond the writer's block buffer.
    pub fn trace_to(&mut self, path: &Path) -> Result<(), SimError> {
        let file = BufWriter::new(File::create(path)?);
        let mut vcd = write_vcd_header(file, &self.uut);
        vcd.timestamp(self.now_ps())?;
        self.vcd = Some(write_vcd_dump(vcd, &self.uut));
        Ok(())
    }

    /// The design, to set inputs and read outputs.
    pub fn uut(&mut self) -> &mut B {
        &mut self.uut
    }

    /// The design, read-only.
    pub fn uut_ref(&self) -> &B {
        &self.uut
    }

    /// Clock edges applied so far.
    pub fn cycle(&self) -> u64 {
        self.cycle
    }

    fn now_ps(&self) -> u64 {
        self.cycle * 2 * HALF_PERIOD_PS
    }

    /// Re-evaluates combinational logic after inputs changed.
    pub fn settle(&mut self) -> Result<(), SimError> {
        if !simulate(&mut self.uut, MAX_SETTLE_PASSES) {
            return Err(SimError::FailedToConverge(self.cycle));
        }
        Ok(())
    }

    /// Settles the inputs set so far, applies one rising edge, settles, and
    /// lowers the clock so the next cycle's inputs can be set.
    pub fn tick(&mut self) -> Result<(), SimError> {
        self.settle()?;
        self.tick_settled()?;
        self.settle()
    }

    /// [`DirectSim::tick`] for a caller that settles before it looks at the
    /// design, every cycle (it sets inputs, settles, samples, ticks): the
    /// settle before the edge is the caller's, and the clock's fall is
    /// settled with the next cycle's inputs (no flip-flop moves on it).
    /// Two settle passes a cycle instead of three.
    pub fn tick_settled(&mut self) -> Result<(), SimError> {
        self.dump(0)?;
        (self.clock)(&mut self.uut).next = true.into();
        self.settle()?;
        self.dump(HALF_PERIOD_PS)?;
        (self.clock)(&mut self.uut).next = false.into();
        self.cycle += 1;
        Ok(())
    }

    fn dump(&mut self, offset_ps: u64) -> Result<(), SimError> {
        if let Some(mut vcd) = self.vcd.take() {
            vcd.timestamp(self.now_ps() + offset_ps)?;
            self.vcd = Some(write_vcd_change(vcd, &self.uut));
        }
        Ok(())
    }

    /// Ends the run: closes the VCD file (if any) and returns the design.
    /// Dropping the simulator closes the file too, but silently.
    pub fn finish(mut self) -> Result<B, SimError> {
        if let Some(mut vcd) = self.vcd.take() {
            // A closing timestamp so viewers show the last cycle in full.
            vcd.timestamp(self.now_ps())?;
        }
        Ok(self.uut)
    }
}
