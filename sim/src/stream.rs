//! Frame-level packet-stream driver and protocol-checking monitor for
//! [`DirectSim`] tests.
//!
//! A test speaks in frames ([`Frame`]: bytes plus the sideband metadata `M`
//! of the block's [`StreamSink<M>`]/[`StreamSource<M>`] ports). The
//! [`StreamDriver`] turns queued frames into beats on a block's input with
//! seeded random idle cycles; the [`StreamMonitor`] drives the block's output
//! `tready` with seeded random back-pressure, reassembles frames, time-stamps
//! them, and checks every AXI4-Stream rule of `hdl/src/stream.rs`, recording
//! each break as a typed [`Violation`]. [`run_stream_test`] ties both to a
//! one-in, one-out block and adds hang detection.
//!
//! Both follow the [`DirectSim`] cycle: drive inputs (clock low), settle,
//! observe the pre-edge values, tick. [`step`] is exactly one such cycle.
//!
//! ```
//! use overlay_nic_hdl::SkidBuffer;
//! use overlay_nic_sim::stream::{run_stream_test, Frame, StreamTestConfig};
//! use overlay_nic_sim::DirectSim;
//! use rust_hdl::prelude::*;
//!
//! let mut sim = DirectSim::new(SkidBuffer::<Bits<8>>::default(), |u| &mut u.clock).unwrap();
//! let frames = vec![Frame::new(vec![7; 100], 5u64.to_bits())];
//! let config = StreamTestConfig { idle: 0.2, backpressure: 0.3, ..StreamTestConfig::seeded(1) };
//! let run = run_stream_test(&mut sim, |u| &mut u.s_axis, |u| &mut u.m_axis, frames, &config).unwrap();
//! assert_eq!(run.received[0].data, vec![7; 100]);
//! assert_eq!(run.stats.frames_out, 1);
//! ```

use crate::direct::{DirectSim, SimError};
use overlay_nic_hdl::{StreamSink, StreamSource};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::collections::VecDeque;
use std::fmt;

/// Byte lanes per beat (64-bit `tdata`).
pub const LANES: usize = 8;

/// What the driver puts on `tdata` while `tvalid` is low: junk rather than
/// zeros, so a block that samples its input without `tvalid` shows up as
/// corrupted output instead of passing by luck.
pub const IDLE_DATA: u64 = 0xdead_beef_dead_beef;

/// Violations kept in full by one monitor; later ones are only counted
/// ([`StreamMonitor::violation_count`]), so a badly broken block cannot
/// fill memory.
pub const MAX_RECORDED_VIOLATIONS: usize = 256;

/// A frame with its per-frame sideband metadata (the `tuser` value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame<M> {
    /// The frame's bytes, first byte first (lane 0 of the first beat).
    pub data: Vec<u8>,
    /// Metadata, driven on every beat of the frame.
    pub meta: M,
}

impl<M> Frame<M> {
    /// A frame of `data` with metadata `meta`.
    pub fn new(data: Vec<u8>, meta: M) -> Self {
        Self { data, meta }
    }

    /// Beats the frame occupies on a 64-bit stream.
    pub fn beats(&self) -> u64 {
        self.data.len().div_ceil(LANES) as u64
    }
}

/// Errors of the stream harness.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// An empty frame has no beat to carry `tlast`: it cannot be expressed.
    #[error("a frame of 0 bytes cannot be sent: a stream frame needs at least one byte")]
    EmptyFrame,
    /// Idle and back-pressure probabilities must be finite and in `0..1`
    /// (1 would never move a beat).
    #[error("probability {0} out of range: must be finite, at least 0 and below 1")]
    Probability(f64),
    /// The simulator failed (design check, combinational loop, VCD I/O).
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The block broke the stream protocol; the run stopped at the cycle of
    /// the first violation.
    #[error("{total} protocol violation(s) on the output, first: {first}")]
    Protocol {
        /// The first violation.
        first: Violation,
        /// Number of violations seen (may exceed `violations.len()`).
        total: u64,
        /// The recorded violations, oldest first.
        violations: Vec<Violation>,
    },
    /// Not every expected frame came out within the cycle budget: the block
    /// hung, dropped or swallowed something.
    #[error("timed out after {cycles} cycles: {frames_out} of {expected} frames out, {beats_in} beats in, {beats_out} beats out (hang?)")]
    Timeout {
        cycles: u64,
        expected: usize,
        frames_out: usize,
        beats_in: u64,
        beats_out: u64,
    },
    /// Beats came out beyond the expected frames (duplicated or invented
    /// output); the run stops at the first such beat, so `beats` counts
    /// those seen by then.
    #[error("output beyond the {expected} expected frame(s): {beats} extra beat(s)")]
    ExtraOutput { expected: usize, beats: u64 },
}

fn probability(p: f64) -> Result<f64, StreamError> {
    if p.is_finite() && (0.0..1.0).contains(&p) {
        Ok(p)
    } else {
        Err(StreamError::Probability(p))
    }
}

/// `tdata`, `tkeep` and `tlast` of the beat starting at byte `offset`.
fn beat_of(frame: &[u8], offset: usize) -> (u64, u8, bool) {
    let n = (frame.len() - offset).min(LANES);
    let mut lanes = [0u8; LANES];
    lanes[..n].copy_from_slice(&frame[offset..offset + n]);
    let keep = if n == LANES { 0xff } else { (1u8 << n) - 1 };
    (u64::from_le_bytes(lanes), keep, offset + n == frame.len())
}

/// What happened to the driver's beat in one cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handshake {
    /// `tvalid` was low.
    Idle,
    /// `tvalid` high, `tready` low: the beat stays for the next cycle.
    Stalled,
    /// A beat moved that was not a frame's last.
    Moved,
    /// A frame's last beat moved: the frame is sent.
    FrameSent,
}

/// When a frame went into the block (cycles of its first and last beat's
/// handshake), for latency measurements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SentFrame {
    /// Bytes in the frame.
    pub len: usize,
    /// Cycle of the first beat's handshake.
    pub first_cycle: u64,
    /// Cycle of the last beat's handshake.
    pub last_cycle: u64,
}

/// Feeds queued frames into a block's [`StreamSink`] input, one beat per
/// cycle at most, with seeded random idle cycles.
///
/// AXI4-Stream source rules kept: once `tvalid` is high it stays high, with
/// `tdata`/`tkeep`/`tlast`/`tuser` unchanged, until the beat moves; frames
/// follow each other back to back when the idle probability is 0; `tuser`
/// carries the frame's metadata on every beat.
pub struct StreamDriver<M> {
    queue: VecDeque<Frame<M>>,
    /// Byte offset in the front frame of the beat offered (or next offered).
    offset: usize,
    /// `tvalid` is high this cycle.
    offering: bool,
    rng: ChaCha8Rng,
    idle: f64,
    first_cycle: u64,
    beats_sent: u64,
    sent: Vec<SentFrame>,
}

impl<M: Synth> StreamDriver<M> {
    /// A driver with its own random stream from `seed`. `idle` is the
    /// probability (in `0..1`) of not offering a beat in a cycle where one
    /// could start; 0 offers a beat every cycle, across frames too.
    pub fn new(seed: u64, idle: f64) -> Result<Self, StreamError> {
        Ok(Self {
            queue: VecDeque::new(),
            offset: 0,
            offering: false,
            rng: ChaCha8Rng::seed_from_u64(seed),
            idle: probability(idle)?,
            first_cycle: 0,
            beats_sent: 0,
            sent: Vec::new(),
        })
    }

    /// Queues a frame behind those already queued. Empty frames are refused.
    pub fn push(&mut self, frame: Frame<M>) -> Result<(), StreamError> {
        if frame.data.is_empty() {
            return Err(StreamError::EmptyFrame);
        }
        self.queue.push_back(frame);
        Ok(())
    }

    /// Frames queued and not yet completely sent (the current one included).
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// True when every queued frame has been taken by the block.
    pub fn is_done(&self) -> bool {
        self.queue.is_empty()
    }

    /// The frame whose beats are being offered, if any (to drive side
    /// inputs that go with it).
    pub fn current(&self) -> Option<&Frame<M>> {
        self.queue.front()
    }

    /// Beats the block has taken so far.
    pub fn beats_sent(&self) -> u64 {
        self.beats_sent
    }

    /// Frames completely taken, in order, with their cycle stamps.
    pub fn sent(&self) -> &[SentFrame] {
        &self.sent
    }

    /// Sets the block's input signals for this cycle (call with the clock
    /// low, before settling). An offered beat stays, unchanged, until
    /// [`observe_handshake`](Self::observe_handshake) sees it taken.
    pub fn drive(&mut self, port: &mut StreamSink<M>) {
        if !self.offering && !self.queue.is_empty() {
            self.offering = self.idle == 0.0 || !self.rng.gen_bool(self.idle);
        }
        match self.queue.front() {
            Some(frame) if self.offering => {
                let (data, keep, last) = beat_of(&frame.data, self.offset);
                port.tdata.next = data.to_bits();
                port.tkeep.next = keep.to_bits();
                port.tlast.next = last;
                port.tuser.next = frame.meta;
                port.tvalid.next = true;
            }
            _ => {
                port.tvalid.next = false;
                port.tdata.next = IDLE_DATA.to_bits();
                port.tkeep.next = 0u8.to_bits();
                port.tlast.next = false;
                port.tuser.next = M::default();
            }
        }
    }

    /// After settling: `tready` as the block shows it this cycle (the
    /// pre-edge value) decides whether the offered beat moves at the coming
    /// edge. `cycle` stamps the frame's first and last beat.
    pub fn observe_handshake(&mut self, tready: bool, cycle: u64) -> Handshake {
        if !self.offering {
            return Handshake::Idle;
        }
        if !tready {
            return Handshake::Stalled;
        }
        self.offering = false;
        self.beats_sent += 1;
        if self.offset == 0 {
            self.first_cycle = cycle;
        }
        self.offset += LANES;
        let len = self.queue.front().map_or(0, |f| f.data.len());
        if self.offset < len {
            return Handshake::Moved;
        }
        self.offset = 0;
        self.queue.pop_front();
        self.sent.push(SentFrame {
            len,
            first_cycle: self.first_cycle,
            last_cycle: cycle,
        });
        Handshake::FrameSent
    }
}

/// A stream signal, to name what changed in a [`Violation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamField {
    /// `tdata`
    Data,
    /// `tkeep`
    Keep,
    /// `tlast`
    Last,
    /// `tuser`
    User,
}

impl fmt::Display for StreamField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Data => "tdata",
            Self::Keep => "tkeep",
            Self::Last => "tlast",
            Self::User => "tuser",
        })
    }
}

/// Which stream rule was broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ViolationKind {
    /// `tkeep` must be contiguous from lane 0 (`0b0000_0111`, never `0b0101`).
    #[error("tkeep {keep:#04x} is not contiguous from lane 0")]
    KeepNotContiguous { keep: u8 },
    /// A valid beat must carry at least one byte.
    #[error("tkeep is zero on a valid beat")]
    KeepZero,
    /// Only a frame's last beat may be partial.
    #[error("partial tkeep {keep:#04x} on a beat without tlast")]
    PartialNotLast { keep: u8 },
    /// Once `tvalid` is high it must stay high until the beat moves.
    #[error("tvalid dropped before the stalled beat moved")]
    ValidDropped,
    /// A stalled beat must not change.
    #[error("{0} changed while the beat was stalled")]
    ChangedWhileStalled(StreamField),
    /// `tuser` (the frame's metadata) must be the same on every beat of a frame.
    #[error("tuser changed within a frame")]
    UserChangedInFrame,
}

/// One broken rule, with the cycle it was seen in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cycle {cycle}: {kind}")]
pub struct Violation {
    /// Cycle ([`DirectSim::cycle`] when observed) the break was seen in.
    pub cycle: u64,
    /// The rule broken.
    pub kind: ViolationKind,
}

/// A stream interface's signals in one cycle, as plain values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BeatSample<M> {
    /// `tvalid`
    pub valid: bool,
    /// `tready`
    pub ready: bool,
    /// `tdata`, byte lane i in bits 8i+7..8i.
    pub data: u64,
    /// `tkeep`, bit i for lane i.
    pub keep: u8,
    /// `tlast`
    pub last: bool,
    /// `tuser`
    pub user: M,
}

impl<M: Synth> BeatSample<M> {
    /// Samples a block's output port (after settling).
    pub fn from_source(port: &StreamSource<M>) -> Self {
        Self {
            valid: port.tvalid.val(),
            ready: port.tready.val(),
            data: port.tdata.val().to_u64(),
            keep: port.tkeep.val().to_u64() as u8,
            last: port.tlast.val(),
            user: port.tuser.val(),
        }
    }

    /// Samples a block's input port (after settling), to check what drives
    /// it, e.g. the [`StreamDriver`] itself or an inner stage.
    pub fn from_sink(port: &StreamSink<M>) -> Self {
        Self {
            valid: port.tvalid.val(),
            ready: port.tready.val(),
            data: port.tdata.val().to_u64(),
            keep: port.tkeep.val().to_u64() as u8,
            last: port.tlast.val(),
            user: port.tuser.val(),
        }
    }
}

/// A frame as it left the block, with when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedFrame<M> {
    /// Bytes, as kept by `tkeep` on each beat.
    pub data: Vec<u8>,
    /// `tuser` of the first beat.
    pub meta: M,
    /// Cycle of the first beat's handshake.
    pub first_cycle: u64,
    /// Cycle of the last beat's handshake.
    pub last_cycle: u64,
}

/// Cycle counts seen by a monitor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonitorStats {
    /// Cycles observed.
    pub cycles: u64,
    /// Cycles with `tvalid` high.
    pub valid_cycles: u64,
    /// Cycles with `tvalid` and `tready` high: beats moved.
    pub beats: u64,
    /// Cycles with `tvalid` high and `tready` low.
    pub stall_cycles: u64,
}

/// The beat held from a stalled cycle, to check it stays unchanged.
#[derive(Clone, Copy)]
struct Held<M> {
    data: u64,
    keep: u8,
    last: bool,
    user: M,
}

/// Takes frames from a block's [`StreamSource`] output: drives `tready`
/// with seeded random back-pressure, reassembles frames, and checks the
/// stream rules on every cycle (see [`ViolationKind`]).
pub struct StreamMonitor<M> {
    rng: ChaCha8Rng,
    backpressure: f64,
    forced: Option<bool>,
    held: Option<Held<M>>,
    assembling: Vec<u8>,
    frame_meta: Option<M>,
    first_cycle: u64,
    frames: Vec<ReceivedFrame<M>>,
    stats: MonitorStats,
    violations: Vec<Violation>,
    violation_count: u64,
}

impl<M: Synth> StreamMonitor<M> {
    /// A monitor with its own random stream from `seed`. `backpressure` is
    /// the probability (in `0..1`) of holding `tready` low in a cycle; 0
    /// keeps it always high.
    pub fn new(seed: u64, backpressure: f64) -> Result<Self, StreamError> {
        Ok(Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            backpressure: probability(backpressure)?,
            forced: None,
            held: None,
            assembling: Vec::with_capacity(2048),
            frame_meta: None,
            first_cycle: 0,
            frames: Vec::new(),
            stats: MonitorStats::default(),
            violations: Vec::new(),
            violation_count: 0,
        })
    }

    /// Overrides the random `tready`: `Some(level)` drives that level from
    /// now on, `None` returns to random back-pressure (for hand-written
    /// stall patterns).
    pub fn force_ready(&mut self, ready: Option<bool>) {
        self.forced = ready;
    }

    /// Sets the block's output `tready` for this cycle (before settling).
    pub fn drive(&mut self, port: &mut StreamSource<M>) {
        port.tready.next = match self.forced {
            Some(ready) => ready,
            None => self.backpressure == 0.0 || !self.rng.gen_bool(self.backpressure),
        };
    }

    /// After settling: checks and records this cycle's output.
    pub fn observe(&mut self, port: &StreamSource<M>, cycle: u64) {
        self.check(&BeatSample::from_source(port), cycle);
    }

    fn flag(&mut self, cycle: u64, kind: ViolationKind) {
        self.violation_count += 1;
        if self.violations.len() < MAX_RECORDED_VIOLATIONS {
            self.violations.push(Violation { cycle, kind });
        }
    }

    /// Checks and records one cycle of an interface given as values: the
    /// core of [`observe`](Self::observe), usable on any interface (a
    /// block's input, an inner stage) or on hand-made sequences.
    pub fn check(&mut self, s: &BeatSample<M>, cycle: u64) {
        self.stats.cycles += 1;
        if let Some(held) = self.held.take() {
            if !s.valid {
                self.flag(cycle, ViolationKind::ValidDropped);
            } else {
                let changed = [
                    (s.data != held.data, StreamField::Data),
                    (s.keep != held.keep, StreamField::Keep),
                    (s.last != held.last, StreamField::Last),
                    (s.user != held.user, StreamField::User),
                ];
                for (differs, field) in changed {
                    if differs {
                        self.flag(cycle, ViolationKind::ChangedWhileStalled(field));
                    }
                }
            }
        }
        if !s.valid {
            return;
        }
        self.stats.valid_cycles += 1;
        if s.keep == 0 {
            self.flag(cycle, ViolationKind::KeepZero);
        } else if s.keep & s.keep.wrapping_add(1) != 0 {
            self.flag(cycle, ViolationKind::KeepNotContiguous { keep: s.keep });
        } else if s.keep != 0xff && !s.last {
            self.flag(cycle, ViolationKind::PartialNotLast { keep: s.keep });
        }
        if !s.ready {
            self.stats.stall_cycles += 1;
            self.held = Some(Held {
                data: s.data,
                keep: s.keep,
                last: s.last,
                user: s.user,
            });
            return;
        }
        self.stats.beats += 1;
        match self.frame_meta {
            None => {
                self.frame_meta = Some(s.user);
                self.first_cycle = cycle;
            }
            Some(meta) if meta != s.user => self.flag(cycle, ViolationKind::UserChangedInFrame),
            Some(_) => {}
        }
        // Lanes beyond a non-contiguous keep's run are not taken: the
        // violation is already recorded.
        let n = s.keep.trailing_ones() as usize;
        self.assembling
            .extend_from_slice(&s.data.to_le_bytes()[..n]);
        if s.last {
            let meta = self.frame_meta.take().unwrap_or(s.user);
            // One exact-size copy per frame; the assembly buffer is reused.
            let data = self.assembling.clone();
            self.assembling.clear();
            self.frames.push(ReceivedFrame {
                data,
                meta,
                first_cycle: self.first_cycle,
                last_cycle: cycle,
            });
        }
    }

    /// Frames completely received so far, in order.
    pub fn frames(&self) -> &[ReceivedFrame<M>] {
        &self.frames
    }

    /// Hands over the frames received so far, leaving none.
    pub fn take_frames(&mut self) -> Vec<ReceivedFrame<M>> {
        std::mem::take(&mut self.frames)
    }

    /// True while a frame has started (a beat moved) and its last beat has not.
    pub fn in_frame(&self) -> bool {
        self.frame_meta.is_some()
    }

    /// Cycle counts so far.
    pub fn stats(&self) -> MonitorStats {
        self.stats
    }

    /// Violations recorded, oldest first (at most [`MAX_RECORDED_VIOLATIONS`]).
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Violations seen, recorded or not.
    pub fn violation_count(&self) -> u64 {
        self.violation_count
    }

    /// `Err(StreamError::Protocol)` if any rule was broken.
    pub fn result(&self) -> Result<(), StreamError> {
        match self.violations.first() {
            None => Ok(()),
            Some(&first) => Err(StreamError::Protocol {
                first,
                total: self.violation_count,
                violations: self.violations.clone(),
            }),
        }
    }
}

/// Runs one cycle: the driver and monitor set the block's inputs, the
/// design settles, both observe the pre-edge values, the clock ticks.
pub fn step<B: Block, M: Synth>(
    sim: &mut DirectSim<B>,
    input: fn(&mut B) -> &mut StreamSink<M>,
    output: fn(&mut B) -> &mut StreamSource<M>,
    driver: &mut StreamDriver<M>,
    monitor: &mut StreamMonitor<M>,
) -> Result<Handshake, SimError> {
    let cycle = sim.cycle();
    driver.drive(input(sim.uut()));
    monitor.drive(output(sim.uut()));
    sim.settle()?;
    let uut = sim.uut();
    let moved = driver.observe_handshake(input(uut).tready.val(), cycle);
    monitor.observe(output(uut), cycle);
    sim.tick()?;
    Ok(moved)
}

/// Settings of one [`run_stream_test`].
#[derive(Clone, Debug, PartialEq)]
pub struct StreamTestConfig {
    /// Seed of the driver's idle pattern.
    pub driver_seed: u64,
    /// Probability of an idle input cycle, in `0..1`.
    pub idle: f64,
    /// Seed of the monitor's back-pressure pattern.
    pub monitor_seed: u64,
    /// Probability of `tready` low on the output, in `0..1`.
    pub backpressure: f64,
    /// Frames expected out; `None` means every frame pushed (a block that
    /// drops frames on purpose sets its count).
    pub expected_frames: Option<usize>,
    /// Cycles allowed before the run is declared hung.
    pub max_cycles: u64,
    /// Cycles run after the last expected frame, in which any output beat
    /// is an error.
    pub drain_cycles: u64,
}

impl StreamTestConfig {
    /// No idle, no back-pressure, driver seed `seed` and monitor seed
    /// derived from it, a million-cycle budget and a 16-cycle drain.
    pub fn seeded(seed: u64) -> Self {
        Self {
            driver_seed: seed,
            idle: 0.0,
            monitor_seed: seed ^ 0x9e37_79b9_7f4a_7c15,
            backpressure: 0.0,
            expected_frames: None,
            max_cycles: 1_000_000,
            drain_cycles: 16,
        }
    }
}

impl Default for StreamTestConfig {
    fn default() -> Self {
        Self::seeded(0)
    }
}

/// Counts from one [`run_stream_test`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamStats {
    /// Cycles run, drain included.
    pub cycles: u64,
    /// Frames pushed into the driver.
    pub frames_in: usize,
    /// Frames received whole.
    pub frames_out: usize,
    /// Input beats the block took.
    pub beats_in: u64,
    /// Output cycles with `tvalid` and `tready` high.
    pub beats_out: u64,
    /// Output cycles with `tvalid` high and `tready` low.
    pub stall_cycles_out: u64,
}

/// What [`run_stream_test`] saw.
#[derive(Clone, Debug)]
pub struct StreamRun<M> {
    /// Input-side stamps of every frame taken, in order.
    pub sent: Vec<SentFrame>,
    /// Every frame out, in order, with its stamps.
    pub received: Vec<ReceivedFrame<M>>,
    /// Cycle and beat counts.
    pub stats: StreamStats,
}

impl<M> StreamRun<M> {
    /// Cycles from the first output beat to the last, both included: equal
    /// to `stats.beats_out` when the output never had a bubble.
    pub fn output_span(&self) -> Option<u64> {
        let first = self.received.first()?.first_cycle;
        let last = self.received.last()?.last_cycle;
        Some(last - first + 1)
    }

    /// Per frame, cycles from its first input beat to its first output beat
    /// (frames matched in order: meaningful for blocks that drop nothing).
    pub fn latencies(&self) -> impl Iterator<Item = u64> + '_ {
        self.sent
            .iter()
            .zip(&self.received)
            .map(|(s, r)| r.first_cycle.saturating_sub(s.first_cycle))
    }
}

/// Pushes `frames` into a one-in, one-out block and runs until the expected
/// frames are out, then `drain_cycles` more. Errors: an empty frame, a bad
/// probability, a simulator failure, a protocol violation on the output
/// (the run stops at once), no completion within `max_cycles` (hang), or
/// output beats after the expected frames.
pub fn run_stream_test<B: Block, M: Synth>(
    sim: &mut DirectSim<B>,
    input: fn(&mut B) -> &mut StreamSink<M>,
    output: fn(&mut B) -> &mut StreamSource<M>,
    frames: impl IntoIterator<Item = Frame<M>>,
    config: &StreamTestConfig,
) -> Result<StreamRun<M>, StreamError> {
    let mut driver = StreamDriver::new(config.driver_seed, config.idle)?;
    let mut monitor = StreamMonitor::new(config.monitor_seed, config.backpressure)?;
    for frame in frames {
        driver.push(frame)?;
    }
    let frames_in = driver.pending();
    let expected = config.expected_frames.unwrap_or(frames_in);
    let start = sim.cycle();
    // Once every expected frame is out: the cycle the drain ends.
    let mut drain_end: Option<u64> = None;
    // Once every expected frame is out: the beats they took. Every beat
    // beyond is extra, whether it completes a frame or not.
    let mut expected_beats: Option<u64> = None;
    loop {
        step(sim, input, output, &mut driver, &mut monitor)?;
        monitor.result()?;
        let beats_out = monitor.stats().beats;
        let frames_out = monitor.frames().len();
        if expected_beats.is_none() && frames_out >= expected {
            expected_beats = Some(
                monitor.frames()[..expected]
                    .iter()
                    .map(|f| f.data.len().div_ceil(LANES) as u64)
                    .sum(),
            );
        }
        if let Some(expected_beats) = expected_beats {
            if beats_out > expected_beats {
                return Err(StreamError::ExtraOutput {
                    expected,
                    beats: beats_out - expected_beats,
                });
            }
        }
        if let Some(end) = drain_end {
            if sim.cycle() >= end {
                break;
            }
            continue;
        }
        if frames_out == expected && driver.is_done() {
            if config.drain_cycles == 0 {
                break;
            }
            drain_end = Some(sim.cycle() + config.drain_cycles);
            continue;
        }
        let ran = sim.cycle() - start;
        if ran >= config.max_cycles {
            return Err(StreamError::Timeout {
                cycles: ran,
                expected,
                frames_out,
                beats_in: driver.beats_sent(),
                beats_out,
            });
        }
    }
    let out = monitor.stats();
    Ok(StreamRun {
        sent: driver.sent().to_vec(),
        stats: StreamStats {
            cycles: sim.cycle() - start,
            frames_in,
            frames_out: monitor.frames().len(),
            beats_in: driver.beats_sent(),
            beats_out: out.beats,
            stall_cycles_out: out.stall_cycles,
        },
        received: monitor.take_frames(),
    })
}
