//! Frame-level stream driver and monitor for HDL tests.
//!
//! [`StreamDriver`] turns queued frames into beats on a block's
//! [`StreamSink`] input, with seeded random idle cycles; [`StreamMonitor`]
//! drives the block's [`StreamSource`] `tready` with seeded random
//! back-pressure, reassembles frames and checks the AXI4-Stream rules the
//! block must keep (see `hdl/src/stream.rs`). Both follow the
//! [`DirectSim`] cycle: set inputs, settle, observe, tick.
//!
//! ```
//! use overlay_nic_hdl::SkidBuffer;
//! use overlay_nic_sim::frames::{run_stream, Frame, StreamDriver, StreamMonitor};
//! use overlay_nic_sim::DirectSim;
//! use rust_hdl::prelude::*;
//!
//! let mut sim = DirectSim::new(SkidBuffer::<Bits<8>>::default(), |u| &mut u.clock).unwrap();
//! let mut driver = StreamDriver::new(1, 0.2);
//! driver.push(Frame::new(vec![7; 100], 5u64.to_bits())).unwrap();
//! let mut monitor = StreamMonitor::new(2, 0.3);
//! let stats = run_stream(&mut sim, |u| &mut u.s_axis, |u| &mut u.m_axis, &mut driver, &mut monitor, 1, 10_000).unwrap();
//! assert_eq!(monitor.frames()[0].data, vec![7; 100]);
//! assert_eq!(stats.frames_out, 1);
//! ```

use crate::direct::{DirectSim, SimError};
use overlay_nic_hdl::{PacketFifo, SkidBuffer, StreamSink, StreamSource};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::collections::VecDeque;

/// What the driver puts on `tdata` while `tvalid` is low.
pub const IDLE_DATA: u64 = 0xdead_beef_dead_beef;

/// A frame with its sideband metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame<M> {
    pub data: Vec<u8>,
    pub meta: M,
    /// For blocks with a "drop this frame" input: the test's mark.
    pub bad: bool,
}

impl<M> Frame<M> {
    pub fn new(data: Vec<u8>, meta: M) -> Self {
        Self {
            data,
            meta,
            bad: false,
        }
    }
}

/// A frame as it left the block, with when it left.
#[derive(Clone, Debug, PartialEq)]
pub struct Received<M> {
    pub data: Vec<u8>,
    pub meta: M,
    /// Cycle of the first and of the last beat's handshake.
    pub first_cycle: u64,
    pub last_cycle: u64,
}

/// Errors the harness reports.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("a frame must have at least one byte")]
    EmptyFrame,
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error("protocol violation at cycle {cycle}: {what}")]
    Protocol { cycle: u64, what: String },
    #[error("timed out after {cycles} cycles with {received} of {expected} frames out (hang?)")]
    Timeout {
        cycles: u64,
        received: usize,
        expected: usize,
    },
    #[error("output beyond the {expected} expected frame(s): {extra_beats} extra beat(s)")]
    ExtraOutput { expected: usize, extra_beats: u64 },
}

/// The bytes of one beat: `tdata` with byte i in lane i, and `tkeep`.
fn beat_of(frame: &[u8], offset: usize) -> (u64, u8, bool) {
    let n = (frame.len() - offset).min(8);
    let mut lanes = [0u8; 8];
    lanes[..n].copy_from_slice(&frame[offset..offset + n]);
    let keep = if n == 8 { 0xff } else { (1u8 << n) - 1 };
    (u64::from_le_bytes(lanes), keep, offset + n == frame.len())
}

/// Feeds frames into a block's input, one beat per cycle at most.
pub struct StreamDriver<M> {
    queue: VecDeque<Frame<M>>,
    offset: usize,
    presenting: bool,
    rng: ChaCha8Rng,
    idle: f64,
    beats_sent: u64,
    frames_sent: u64,
}

impl<M: Synth> StreamDriver<M> {
    /// `idle`: probability (0..1) of not offering a beat in a cycle; 0
    /// offers back-to-back beats across frames.
    pub fn new(seed: u64, idle: f64) -> Self {
        Self {
            queue: VecDeque::new(),
            offset: 0,
            presenting: false,
            rng: ChaCha8Rng::seed_from_u64(seed),
            idle: idle.clamp(0.0, 0.99),
            beats_sent: 0,
            frames_sent: 0,
        }
    }

    /// Queues a frame; empty frames cannot be expressed on the stream.
    pub fn push(&mut self, frame: Frame<M>) -> Result<(), StreamError> {
        if frame.data.is_empty() {
            return Err(StreamError::EmptyFrame);
        }
        self.queue.push_back(frame);
        Ok(())
    }

    /// The frame whose beats are being offered, if any.
    pub fn current(&self) -> Option<&Frame<M>> {
        self.queue.front()
    }

    /// True when every queued frame has been taken.
    pub fn done(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn frames_sent(&self) -> u64 {
        self.frames_sent
    }

    pub fn beats_sent(&self) -> u64 {
        self.beats_sent
    }

    /// Sets the block's input for this cycle. Once a beat is offered it
    /// stays, unchanged, until taken (AXI4-Stream rule).
    pub fn drive(&mut self, port: &mut StreamSink<M>) {
        if !self.presenting {
            self.presenting =
                !self.queue.is_empty() && (self.idle == 0.0 || !self.rng.gen_bool(self.idle));
        }
        match (self.presenting, self.queue.front()) {
            (true, Some(frame)) => {
                let (data, keep, last) = beat_of(&frame.data, self.offset);
                port.tdata.next = data.to_bits();
                port.tkeep.next = (keep as u64).to_bits();
                port.tlast.next = last;
                port.tuser.next = frame.meta;
                port.tvalid.next = true;
            }
            _ => {
                // Junk on the bus while idle: a block that takes data
                // without looking at tvalid corrupts its output and fails.
                port.tvalid.next = false;
                port.tdata.next = IDLE_DATA.to_bits();
                port.tlast.next = true;
                port.tkeep.next = 0xffu64.to_bits();
            }
        }
    }

    /// After the design settled: notes whether the offered beat was taken.
    /// Returns true when that beat was a frame's last.
    pub fn observe(&mut self, port: &StreamSink<M>) -> bool {
        if !(self.presenting && port.tready.val()) {
            return false;
        }
        self.presenting = false;
        self.beats_sent += 1;
        let len = self.queue.front().map_or(0, |f| f.data.len());
        self.offset += 8;
        if self.offset >= len {
            self.offset = 0;
            self.queue.pop_front();
            self.frames_sent += 1;
            return true;
        }
        false
    }
}

/// What the monitor saw on the previous cycle, to check stability.
#[derive(Clone, Copy)]
struct Held<M> {
    data: u64,
    keep: u8,
    last: bool,
    user: M,
}

/// Takes frames from a block's output and checks its protocol.
pub struct StreamMonitor<M> {
    rng: ChaCha8Rng,
    backpressure: f64,
    ready: bool,
    stalled: Option<Held<M>>,
    assembling: Vec<u8>,
    frame_meta: Option<M>,
    first_cycle: u64,
    frames: Vec<Received<M>>,
    beats: u64,
    violation: Option<StreamError>,
}

impl<M: Synth> StreamMonitor<M> {
    /// `backpressure`: probability (0..1) of holding `tready` low in a cycle.
    pub fn new(seed: u64, backpressure: f64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            backpressure: backpressure.clamp(0.0, 0.99),
            ready: false,
            stalled: None,
            assembling: Vec::new(),
            frame_meta: None,
            first_cycle: 0,
            frames: Vec::new(),
            beats: 0,
            violation: None,
        }
    }

    /// Frames received so far, in order.
    pub fn frames(&self) -> &[Received<M>] {
        &self.frames
    }

    /// Takes the frames received so far (later ones are kept from now on).
    pub fn take_frames(&mut self) -> Vec<Received<M>> {
        std::mem::take(&mut self.frames)
    }

    /// A frame has begun and not ended, or a beat waits to be taken.
    pub fn mid_frame(&self) -> bool {
        self.frame_meta.is_some() || self.stalled.is_some()
    }

    /// Beats moved (tvalid and tready both high) so far.
    pub fn beats(&self) -> u64 {
        self.beats
    }

    /// The first protocol violation seen, if any.
    pub fn violation(&self) -> Option<&StreamError> {
        self.violation.as_ref()
    }

    /// Sets the block's `tready` for this cycle.
    pub fn drive(&mut self, port: &mut StreamSource<M>) {
        self.ready = self.backpressure == 0.0 || !self.rng.gen_bool(self.backpressure);
        port.tready.next = self.ready;
    }

    /// Sets `tready` to a fixed value this cycle instead of a random one
    /// (for hand-written sequences).
    pub fn set_ready(&mut self, port: &mut StreamSource<M>, ready: bool) {
        self.ready = ready;
        port.tready.next = ready;
    }

    fn flag(&mut self, cycle: u64, what: String) {
        if self.violation.is_none() {
            self.violation = Some(StreamError::Protocol { cycle, what });
        }
    }

    /// After the design settled: checks and records this cycle's beat.
    pub fn observe(&mut self, port: &StreamSource<M>, cycle: u64) {
        let valid = port.tvalid.val();
        if let Some(held) = self.stalled.take() {
            if !valid {
                self.flag(cycle, "tvalid dropped before the beat was taken".into());
            } else if port.tdata.val().to_u64() != held.data
                || port.tkeep.val().to_u64() as u8 != held.keep
                || port.tlast.val() != held.last
                || port.tuser.val() != held.user
            {
                self.flag(cycle, "beat changed while stalled".into());
            }
        }
        if !valid {
            return;
        }
        let data = port.tdata.val().to_u64();
        let keep = port.tkeep.val().to_u64() as u8;
        let last = port.tlast.val();
        let user = port.tuser.val();
        if keep == 0 {
            self.flag(cycle, "tkeep is zero on a valid beat".into());
        } else if keep & keep.wrapping_add(1) != 0 {
            self.flag(
                cycle,
                format!("tkeep {keep:#04x} is not contiguous from lane 0"),
            );
        } else if keep != 0xff && !last {
            self.flag(
                cycle,
                format!("partial tkeep {keep:#04x} on a beat that is not last"),
            );
        }
        if !self.ready {
            self.stalled = Some(Held {
                data,
                keep,
                last,
                user,
            });
            return;
        }
        self.beats += 1;
        match self.frame_meta {
            None => {
                self.frame_meta = Some(user);
                self.first_cycle = cycle;
            }
            Some(meta) if meta != user => {
                self.flag(cycle, "tuser changed within a frame".into());
            }
            Some(_) => {}
        }
        let n = keep.count_ones() as usize;
        self.assembling.extend_from_slice(&data.to_le_bytes()[..n]);
        if last {
            let meta = self.frame_meta.take().unwrap_or(user);
            self.frames.push(Received {
                data: std::mem::take(&mut self.assembling),
                meta,
                first_cycle: self.first_cycle,
                last_cycle: cycle,
            });
        }
    }
}

/// Counts from one [`run_stream`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamStats {
    pub cycles: u64,
    pub frames_in: u64,
    pub frames_out: usize,
    pub beats_in: u64,
    pub beats_out: u64,
}

/// Runs `sim` until the driver has sent every frame and the monitor has
/// `expected` frames, then a few more cycles: any output beyond those
/// frames is an error, and so is not getting there within `max_cycles`. `bad` is set on the
/// block's drop input, if it has one, from the driver's current frame.
/// The input's and the output's metadata types (`M`, `N`) may differ, for
/// blocks that consume a descriptor (the encapsulator).
pub fn run_stream<B: Block, M: Synth, N: Synth>(
    sim: &mut DirectSim<B>,
    input: fn(&mut B) -> &mut StreamSink<M>,
    output: fn(&mut B) -> &mut StreamSource<N>,
    driver: &mut StreamDriver<M>,
    monitor: &mut StreamMonitor<N>,
    expected: usize,
    max_cycles: u64,
) -> Result<StreamStats, StreamError> {
    run_stream_with(
        sim,
        input,
        output,
        driver,
        monitor,
        expected,
        max_cycles,
        |_, _| {},
    )
}

/// [`run_stream`] with a hook called each cycle after the driver set the
/// inputs, given the frame being offered (to drive side inputs such as a
/// drop flag).
#[allow(clippy::too_many_arguments)]
pub fn run_stream_with<B: Block, M: Synth, N: Synth>(
    sim: &mut DirectSim<B>,
    input: fn(&mut B) -> &mut StreamSink<M>,
    output: fn(&mut B) -> &mut StreamSource<N>,
    driver: &mut StreamDriver<M>,
    monitor: &mut StreamMonitor<N>,
    expected: usize,
    max_cycles: u64,
    mut side: impl FnMut(&mut B, Option<&Frame<M>>),
) -> Result<StreamStats, StreamError> {
    /// Cycles run after the last expected frame, to catch stray output.
    const DRAIN_CYCLES: u64 = 16;
    let start = sim.cycle();
    let beats_out_start = monitor.beats();
    let frames_in_start = driver.frames_sent();
    let beats_in_start = driver.beats_sent();
    let frames_out_start = monitor.frames().len();
    let mut drain = None;
    loop {
        let cycle = sim.cycle();
        driver.drive(input(sim.uut()));
        side(sim.uut(), driver.current());
        monitor.drive(output(sim.uut()));
        sim.settle()?;
        driver.observe(input(sim.uut()));
        monitor.observe(output(sim.uut()), cycle);
        sim.tick()?;
        if let Some(v) = monitor.violation.take() {
            return Err(v);
        }
        let received = monitor.frames().len() - frames_out_start;
        if received >= expected && driver.done() && drain.is_none() {
            drain = Some(sim.cycle() + DRAIN_CYCLES);
        }
        if drain.is_some_and(|end| sim.cycle() >= end) {
            break;
        }
        if sim.cycle() - start >= max_cycles {
            return Err(StreamError::Timeout {
                cycles: max_cycles,
                received,
                expected,
            });
        }
    }
    // Everything past the expected frames (whole frames or a started one)
    // is output the block should not have produced.
    let expected_beats: u64 = monitor.frames()[frames_out_start..]
        .iter()
        .take(expected)
        .map(|f| f.data.len().div_ceil(8) as u64)
        .sum();
    let beats_out = monitor.beats() - beats_out_start;
    if beats_out > expected_beats {
        return Err(StreamError::ExtraOutput {
            expected,
            extra_beats: beats_out - expected_beats,
        });
    }
    Ok(StreamStats {
        cycles: sim.cycle() - start,
        frames_in: driver.frames_sent() - frames_in_start,
        frames_out: monitor.frames().len() - frames_out_start,
        beats_in: driver.beats_sent() - beats_in_start,
        beats_out,
    })
}

/// A block with one packet stream in and one out, so harness code can
/// take any of them generically.
pub trait StreamBlock<M: Synth>: Block + Default {
    /// Name used in reports.
    const NAME: &'static str;
    fn clock(&mut self) -> &mut Signal<In, Clock>;
    fn input(&mut self) -> &mut StreamSink<M>;
    fn output(&mut self) -> &mut StreamSource<M>;
}

impl<M: Synth> StreamBlock<M> for SkidBuffer<M> {
    const NAME: &'static str = "skid_buffer";
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
    fn input(&mut self) -> &mut StreamSink<M> {
        &mut self.s_axis
    }
    fn output(&mut self) -> &mut StreamSource<M> {
        &mut self.m_axis
    }
}

impl<M: Synth, const AW: usize, const AWP1: usize, const FW: usize, const FWP1: usize>
    StreamBlock<M> for PacketFifo<M, AW, AWP1, FW, FWP1>
{
    const NAME: &'static str = "packet_fifo";
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
    fn input(&mut self) -> &mut StreamSink<M> {
        &mut self.s_axis
    }
    fn output(&mut self) -> &mut StreamSource<M> {
        &mut self.m_axis
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beats_put_the_first_byte_in_lane_zero() {
        let frame: Vec<u8> = (1..=10).collect();
        assert_eq!(beat_of(&frame, 0), (0x0807_0605_0403_0201, 0xff, false));
        assert_eq!(beat_of(&frame, 8), (0x0a09, 0x03, true));
    }
}
