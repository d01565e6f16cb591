//! SkidBuffer and PacketFifo against the obvious reference (frames out are
//! the frames in, less the ones that must be dropped) over random frames,
//! random idle cycles and random back-pressure, plus the frame-size matrix
//! 1-127, 512, 1500, 9000 under fixed stall patterns. A FIFO built
//! `PacketFifo::credited` is run behind a four-register pipeline that takes
//! beats on its `s_room`, as the NIC's TX input does.

use overlay_nic_hdl::{PacketFifo, SkidBuffer, StreamSink, StreamSource};
use overlay_nic_sim::frames::{
    run_stream, run_stream_with, Frame, StreamDriver, StreamError, StreamMonitor,
};
use overlay_nic_sim::DirectSim;
use proptest::prelude::*;
use rust_hdl::prelude::*;

type Meta = Bits<16>;
type Skid = SkidBuffer<Meta>;
/// The small FIFO shape `check_fifo::<5, 6, 2, 3>`: 32 beats, 4 frames,
/// small enough to fill, overflow and run out of frame slots in short tests.
const SMALL_CAPACITY: usize = 32 * 8;
/// The default build's FIFO shape: 2048 beats (a 9000-byte frame fits), 32 frames.
type JumboFifo = PacketFifo<Meta, 11, 12, 5, 6>;
const JUMBO_CAPACITY: usize = JumboFifo::DEPTH_BEATS * 8;

fn frame(len: usize, tag: u16, bad: bool) -> Frame<Meta> {
    let data = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(tag as u8))
        .collect();
    Frame {
        data,
        meta: (tag as u64).to_bits(),
        bad,
    }
}

/// The frame sizes of the standard matrix.
fn matrix_sizes() -> Vec<usize> {
    (1..=127).chain([512, 1500, 9000]).collect()
}

/// (idle, back-pressure) patterns of the standard matrix.
const PATTERNS: [(f64, f64); 4] = [(0.0, 0.0), (0.4, 0.0), (0.0, 0.4), (0.5, 0.5)];

fn check_skid(frames: &[Frame<Meta>], seed: u64, idle: f64, bp: f64) {
    let mut sim = DirectSim::new(Skid::default(), |u| &mut u.clock).unwrap();
    let mut driver = StreamDriver::new(seed, idle);
    let mut monitor = StreamMonitor::new(seed ^ 0x5eed, bp);
    for f in frames {
        driver.push(f.clone()).unwrap();
    }
    let beats: u64 = frames.iter().map(|f| f.data.len().div_ceil(8) as u64).sum();
    run_stream(
        &mut sim,
        |u| &mut u.s_axis,
        |u| &mut u.m_axis,
        &mut driver,
        &mut monitor,
        frames.len(),
        beats * 40 + 100,
    )
    .unwrap();
    assert_eq!(monitor.frames().len(), frames.len());
    for (i, (got, want)) in monitor.frames().iter().zip(frames).enumerate() {
        assert!(
            got.data == want.data,
            "frame {i} ({} bytes) data differs",
            want.data.len()
        );
        assert_eq!(got.meta, want.meta, "frame {i} metadata");
    }
}

/// Runs `frames` through a packet FIFO and checks that exactly the frames
/// neither marked bad nor larger than `capacity` come out, whole, in order,
/// with their metadata, and that the drop counters agree.
fn check_fifo<const AW: usize, const AWP1: usize, const FW: usize, const FWP1: usize>(
    frames: &[Frame<Meta>],
    capacity: usize,
    seed: u64,
    idle: f64,
    bp: f64,
) {
    check_fifo_built(
        PacketFifo::<Meta, AW, AWP1, FW, FWP1>::default(),
        frames,
        capacity,
        seed,
        idle,
        bp,
    )
}

/// [`check_fifo`] on a FIFO built as given.
fn check_fifo_built<const AW: usize, const AWP1: usize, const FW: usize, const FWP1: usize>(
    fifo: PacketFifo<Meta, AW, AWP1, FW, FWP1>,
    frames: &[Frame<Meta>],
    capacity: usize,
    seed: u64,
    idle: f64,
    bp: f64,
) {
    let mut sim = DirectSim::new(fifo, |u| &mut u.clock).unwrap();
    let stall = Stalls { seed, idle, bp };
    let monitor = run_frames(
        &mut sim,
        |u| &mut u.s_axis,
        |u| &mut u.s_bad,
        |u| &mut u.m_axis,
        frames,
        capacity,
        stall,
    );
    check_fifo_out(&monitor, frames, capacity, sim.uut());
}

/// The driver's idle and the monitor's back-pressure, seeded.
#[derive(Clone, Copy)]
struct Stalls {
    seed: u64,
    idle: f64,
    bp: f64,
}

/// Runs `frames` in (with their `bad` marks) until the ones neither bad nor
/// longer than `capacity` are out, and returns what came out.
fn run_frames<B: Block>(
    sim: &mut DirectSim<B>,
    input: fn(&mut B) -> &mut StreamSink<Meta>,
    bad: fn(&mut B) -> &mut Signal<In, Bit>,
    output: fn(&mut B) -> &mut StreamSource<Meta>,
    frames: &[Frame<Meta>],
    capacity: usize,
    stall: Stalls,
) -> StreamMonitor<Meta> {
    let mut driver = StreamDriver::new(stall.seed, stall.idle);
    let mut monitor = StreamMonitor::new(stall.seed ^ 0x5eed, stall.bp);
    for f in frames {
        driver.push(f.clone()).unwrap();
    }
    let expected = frames
        .iter()
        .filter(|f| !f.bad && f.data.len() <= capacity)
        .count();
    let beats: u64 = frames.iter().map(|f| f.data.len().div_ceil(8) as u64).sum();
    run_stream_with(
        sim,
        input,
        output,
        &mut driver,
        &mut monitor,
        expected,
        beats * 40 + 200,
        |u, f| bad(u).next = f.is_some_and(|f| f.bad),
    )
    .unwrap();
    monitor
}

/// The frames neither marked bad nor larger than `capacity` came out, whole,
/// in order, with their metadata, and the drop counters agree.
fn check_fifo_out<const AW: usize, const AWP1: usize, const FW: usize, const FWP1: usize>(
    monitor: &StreamMonitor<Meta>,
    frames: &[Frame<Meta>],
    capacity: usize,
    uut: &PacketFifo<Meta, AW, AWP1, FW, FWP1>,
) {
    let expected: Vec<&Frame<Meta>> = frames
        .iter()
        .filter(|f| !f.bad && f.data.len() <= capacity)
        .collect();
    assert_eq!(monitor.frames().len(), expected.len(), "frames out");
    for (i, (got, want)) in monitor.frames().iter().zip(&expected).enumerate() {
        assert!(
            got.data == want.data,
            "frame {i} ({} bytes) data differs",
            want.data.len()
        );
        assert_eq!(got.meta, want.meta, "frame {i} metadata");
    }
    let bad = frames
        .iter()
        .filter(|f| f.bad && f.data.len() <= capacity)
        .count() as u64;
    let oversize = frames.iter().filter(|f| f.data.len() > capacity).count() as u64;
    assert_eq!(uut.dropped_bad.val().to_u64(), bad, "dropped_bad");
    assert_eq!(
        uut.dropped_oversize.val().to_u64(),
        oversize,
        "dropped_oversize"
    );
    assert_eq!(uut.dropped_overflow.val().to_u64(), 0, "dropped_overflow");
    assert_eq!(uut.ram_collisions(), 0, "block RAM read/write collisions");
}

/// One beat in the credited bench's pipeline.
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
struct Slot {
    valid: Bit,
    last: Bit,
    bad: Bit,
    data: Bits<64>,
    keep: Bits<8>,
    user: Meta,
}

/// A credited packet FIFO (with the metadata ring, as the NIC's TX buffer)
/// behind four registers that never stall, the
/// input taking a beat whenever the FIFO's `s_room` is high: the NIC's TX
/// input in miniature.
#[derive(LogicBlock)]
struct CreditedBench<const AW: usize, const AWP1: usize, const FW: usize, const FWP1: usize> {
    clock: Signal<In, Clock>,
    s_axis: overlay_nic_hdl::StreamSink<Meta>,
    s_bad: Signal<In, Bit>,
    m_axis: overlay_nic_hdl::StreamSource<Meta>,
    fifo: PacketFifo<Meta, AW, AWP1, FW, FWP1>,
    r1: DFF<Slot>,
    r2: DFF<Slot>,
    r3: DFF<Slot>,
    r4: DFF<Slot>,
}

impl<const AW: usize, const AWP1: usize, const FW: usize, const FWP1: usize> Default
    for CreditedBench<AW, AWP1, FW, FWP1>
{
    fn default() -> Self {
        Self {
            clock: Default::default(),
            s_axis: Default::default(),
            s_bad: Default::default(),
            m_axis: Default::default(),
            fifo: PacketFifo::default().credited(4).meta_ring(),
            r1: Default::default(),
            r2: Default::default(),
            r3: Default::default(),
            r4: Default::default(),
        }
    }
}

impl<const AW: usize, const AWP1: usize, const FW: usize, const FWP1: usize> Logic
    for CreditedBench<AW, AWP1, FW, FWP1>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, r1, r2, r3, r4);
        clock!(self, clock, fifo);
        self.s_axis.tready.next = self.fifo.s_room.val();
        self.r1.d.next.valid = self.s_axis.tvalid.val() & self.fifo.s_room.val();
        self.r1.d.next.last = self.s_axis.tlast.val();
        self.r1.d.next.bad = self.s_bad.val();
        self.r1.d.next.data = self.s_axis.tdata.val();
        self.r1.d.next.keep = self.s_axis.tkeep.val();
        self.r1.d.next.user = self.s_axis.tuser.val();
        self.r2.d.next = self.r1.q.val();
        self.r3.d.next = self.r2.q.val();
        self.r4.d.next = self.r3.q.val();
        self.fifo.s_axis.tvalid.next = self.r4.q.val().valid;
        self.fifo.s_axis.tlast.next = self.r4.q.val().last;
        self.fifo.s_axis.tdata.next = self.r4.q.val().data;
        self.fifo.s_axis.tkeep.next = self.r4.q.val().keep;
        self.fifo.s_axis.tuser.next = self.r4.q.val().user;
        self.fifo.s_bad.next = self.r4.q.val().bad;
        overlay_nic_hdl::StreamSource::<Meta>::link(&mut self.m_axis, &mut self.fifo.m_axis);
    }
}

/// [`check_fifo`] for a credited FIFO in [`CreditedBench`]: the FIFO takes
/// every beat the bench delivers, so none may be lost to an overflow, and
/// frames longer than `credited_max_beats(4)` are dropped as oversize.
fn check_credited<const AW: usize, const AWP1: usize, const FW: usize, const FWP1: usize>(
    frames: &[Frame<Meta>],
    seed: u64,
    idle: f64,
    bp: f64,
) {
    let capacity = 8 * PacketFifo::<Meta, AW, AWP1, FW, FWP1>::credited_max_beats(4);
    let bench = CreditedBench::<AW, AWP1, FW, FWP1>::default();
    let mut sim = DirectSim::new(bench, |u| &mut u.clock).unwrap();
    let stall = Stalls { seed, idle, bp };
    let monitor = run_frames(
        &mut sim,
        |u| &mut u.s_axis,
        |u| &mut u.s_bad,
        |u| &mut u.m_axis,
        frames,
        capacity,
        stall,
    );
    check_fifo_out(&monitor, frames, capacity, &sim.uut().fifo);
}

fn frames_strategy(max_len: usize, max_frames: usize) -> impl Strategy<Value = Vec<Frame<Meta>>> {
    prop::collection::vec(
        (1..=max_len, any::<u16>(), prop::bool::weighted(0.2)),
        1..max_frames,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(len, tag, bad)| frame(len, tag, bad))
            .collect()
    })
}

fn stall_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), 0.0f64..0.8]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn skid_buffer_passes_random_frames(
        frames in frames_strategy(2000, 12).prop_map(|v| v.into_iter().map(|f| Frame { bad: false, ..f }).collect::<Vec<_>>()),
        seed in any::<u64>(), idle in stall_strategy(), bp in stall_strategy(),
    ) {
        check_skid(&frames, seed, idle, bp);
    }

    #[test]
    fn small_packet_fifo_drops_exactly_bad_and_oversize_frames(
        frames in frames_strategy(SMALL_CAPACITY + 40, 24),
        seed in any::<u64>(), idle in stall_strategy(), bp in stall_strategy(),
    ) {
        check_fifo::<5, 6, 2, 3>(&frames, SMALL_CAPACITY, seed, idle, bp);
    }

    #[test]
    fn jumbo_packet_fifo_passes_random_frames(
        frames in frames_strategy(9600, 6),
        seed in any::<u64>(), idle in stall_strategy(), bp in stall_strategy(),
    ) {
        check_fifo::<11, 12, 5, 6>(&frames, JUMBO_CAPACITY, seed, idle, bp);
    }

    #[test]
    fn packet_fifo_with_a_metadata_ring_drops_exactly_bad_and_oversize_frames(
        frames in frames_strategy(SMALL_CAPACITY + 40, 24),
        seed in any::<u64>(), idle in stall_strategy(), bp in stall_strategy(),
    ) {
        let fifo = PacketFifo::<Meta, 5, 6, 2, 3>::default().meta_ring();
        check_fifo_built(fifo, &frames, SMALL_CAPACITY, seed, idle, bp);
    }

    #[test]
    fn credited_packet_fifo_takes_every_beat_and_drops_exactly_bad_and_oversize(
        frames in frames_strategy(CREDITED_SMALL_CAPACITY + 40, 24),
        seed in any::<u64>(), idle in stall_strategy(), bp in stall_strategy(),
    ) {
        check_credited::<5, 6, 3, 4>(&frames, seed, idle, bp);
    }
}

/// The small credited shape `check_credited::<5, 6, 3, 4>`: 32 beats less
/// the four-stage writer's margin of six, 8 frame slots.
const CREDITED_SMALL_CAPACITY: usize = 8 * (32 - 6);

#[test]
fn credited_packet_fifo_frame_size_matrix() {
    let frames: Vec<_> = matrix_sizes()
        .into_iter()
        .enumerate()
        .map(|(i, n)| frame(n, i as u16, i % 3 == 2))
        .collect();
    for (k, (idle, bp)) in PATTERNS.into_iter().enumerate() {
        check_credited::<11, 12, 5, 6>(&frames, 400 + k as u64, idle, bp);
    }
}

#[test]
fn credited_packet_fifo_survives_frames_larger_than_it_passes() {
    // At the limit, one beat over, the whole depth, far over; traffic after.
    let sizes = [
        CREDITED_SMALL_CAPACITY,
        CREDITED_SMALL_CAPACITY + 1,
        32 * 8,
        5000,
        60,
        CREDITED_SMALL_CAPACITY + 8,
        1,
    ];
    let frames: Vec<_> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| frame(n, i as u16, false))
        .collect();
    for (k, (idle, bp)) in PATTERNS.into_iter().enumerate() {
        check_credited::<5, 6, 3, 4>(&frames, 500 + k as u64, idle, bp);
    }
}

#[test]
fn credited_packet_fifo_is_synthesizable() {
    let mut uut = CreditedBench::<5, 6, 3, 4>::default();
    uut.connect_all();
    yosys_validate("credited_bench", &generate_verilog(&uut)).unwrap();
}

#[test]
fn skid_buffer_frame_size_matrix() {
    let frames: Vec<_> = matrix_sizes()
        .into_iter()
        .enumerate()
        .map(|(i, n)| frame(n, i as u16, false))
        .collect();
    for (k, (idle, bp)) in PATTERNS.into_iter().enumerate() {
        check_skid(&frames, 100 + k as u64, idle, bp);
    }
}

#[test]
fn packet_fifo_frame_size_matrix() {
    // Every third frame of the matrix is marked bad as well.
    let frames: Vec<_> = matrix_sizes()
        .into_iter()
        .enumerate()
        .map(|(i, n)| frame(n, i as u16, i % 3 == 2))
        .collect();
    for (k, (idle, bp)) in PATTERNS.into_iter().enumerate() {
        check_fifo::<11, 12, 5, 6>(&frames, JUMBO_CAPACITY, 200 + k as u64, idle, bp);
    }
}

#[test]
fn packet_fifo_survives_frames_larger_than_itself() {
    // Exactly full, one beat over, far over, and traffic after each.
    let sizes = [
        SMALL_CAPACITY,
        SMALL_CAPACITY + 1,
        5000,
        60,
        SMALL_CAPACITY + 8,
        1,
    ];
    let frames: Vec<_> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| frame(n, i as u16, false))
        .collect();
    for (k, (idle, bp)) in PATTERNS.into_iter().enumerate() {
        check_fifo::<5, 6, 2, 3>(&frames, SMALL_CAPACITY, 300 + k as u64, idle, bp);
    }
}

/// With the input always valid and the output always ready, the output
/// carries a beat every cycle from its first beat to its last, across
/// back-to-back frames, for every block and frame size `overlay-nic bench`
/// reports (the same measurement, so the published figures are tested).
#[test]
fn no_bubbles_across_back_to_back_frames() {
    let rows = overlay_nic_sim::bench::line_rate_table().unwrap();
    assert_eq!(rows.len(), 3 * overlay_nic_sim::bench::SIZES.len());
    for r in rows {
        let beats = (r.frames * r.frame_bytes.div_ceil(8)) as u64;
        assert_eq!(
            r.beats_out, beats,
            "{} at {} bytes: beats out",
            r.block, r.frame_bytes
        );
        assert_eq!(
            r.span_cycles, beats,
            "{} at {} bytes: bubbles",
            r.block, r.frame_bytes
        );
        if r.block != "skid_buffer" {
            assert!(r.last_to_first.is_some(), "{} stores whole frames", r.block);
        }
    }
}

/// The monitor's checks can fail: a stream that breaks each rule is caught.
#[test]
fn monitor_catches_protocol_violations() {
    use overlay_nic_hdl::StreamSource;
    // Per cycle: (tvalid, tdata, tkeep, tlast, tready).
    type Cycle = (bool, u64, u8, bool, bool);
    let cases: [(&str, &[Cycle]); 6] = [
        ("non-contiguous tkeep", &[(true, 1, 0b0101, true, true)]),
        ("zero tkeep", &[(true, 1, 0, true, true)]),
        ("partial beat not last", &[(true, 1, 0x0f, false, true)]),
        (
            "data changed while stalled",
            &[(true, 1, 0xff, true, false), (true, 2, 0xff, true, true)],
        ),
        (
            "tvalid dropped while stalled",
            &[(true, 1, 0xff, true, false), (false, 1, 0xff, true, true)],
        ),
        (
            "tlast changed while stalled",
            &[(true, 1, 0xff, false, false), (true, 1, 0xff, true, true)],
        ),
    ];
    for (name, cycles) in cases {
        let mut port = StreamSource::<Meta>::default();
        let mut monitor = StreamMonitor::<Meta>::new(0, 0.0);
        for (cycle, &(valid, data, keep, last, ready)) in cycles.iter().enumerate() {
            port.tvalid.next = valid;
            port.tdata.next = data.to_bits();
            port.tkeep.next = (keep as u64).to_bits();
            port.tlast.next = last;
            monitor.set_ready(&mut port, ready);
            port.update_all();
            monitor.observe(&port, cycle as u64);
        }
        assert!(monitor.violation().is_some(), "{name}: not caught");
    }
    // And a clean stream is not flagged.
    let mut port = StreamSource::<Meta>::default();
    let mut monitor = StreamMonitor::<Meta>::new(0, 0.0);
    for (cycle, &(valid, data, keep, last, ready)) in [
        (true, 1, 0xff, false, false),
        (true, 1, 0xff, false, true),
        (true, 2, 0x01, true, true),
    ]
    .iter()
    .enumerate()
    {
        port.tvalid.next = valid;
        port.tdata.next = (data as u64).to_bits();
        port.tkeep.next = (keep as u64).to_bits();
        port.tlast.next = last;
        monitor.set_ready(&mut port, ready);
        port.update_all();
        monitor.observe(&port, cycle as u64);
    }
    assert!(monitor.violation().is_none(), "{:?}", monitor.violation());
    assert_eq!(monitor.frames()[0].data, vec![1, 0, 0, 0, 0, 0, 0, 0, 2]);
}

/// A block that takes every beat and never sends one.
#[derive(LogicBlock, Default)]
struct Sponge {
    clock: Signal<In, Clock>,
    s_axis: overlay_nic_hdl::StreamSink<Meta>,
    m_axis: overlay_nic_hdl::StreamSource<Meta>,
}

impl Logic for Sponge {
    #[hdl_gen]
    fn update(&mut self) {
        self.s_axis.tready.next = true;
        self.m_axis.tvalid.next = false;
        self.m_axis.tdata.next = 0.into();
        self.m_axis.tkeep.next = 0.into();
        self.m_axis.tlast.next = false;
        self.m_axis.tuser.next = 0.into();
    }
}

/// A wire that ignores tvalid: it forwards whatever is on the bus.
#[derive(LogicBlock, Default)]
struct Leaky {
    clock: Signal<In, Clock>,
    s_axis: overlay_nic_hdl::StreamSink<Meta>,
    m_axis: overlay_nic_hdl::StreamSource<Meta>,
}

impl Logic for Leaky {
    #[hdl_gen]
    fn update(&mut self) {
        self.s_axis.tready.next = self.m_axis.tready.val();
        self.m_axis.tvalid.next = true;
        self.m_axis.tdata.next = self.s_axis.tdata.val();
        self.m_axis.tkeep.next = self.s_axis.tkeep.val();
        self.m_axis.tlast.next = self.s_axis.tlast.val();
        self.m_axis.tuser.next = self.s_axis.tuser.val();
    }
}

#[test]
fn a_hang_is_a_timeout_not_a_stuck_test() {
    let mut sim = DirectSim::new(Sponge::default(), |u| &mut u.clock).unwrap();
    let mut driver = StreamDriver::new(1, 0.0);
    let mut monitor = StreamMonitor::new(2, 0.0);
    driver.push(frame(100, 1, false)).unwrap();
    let err = run_stream(
        &mut sim,
        |u| &mut u.s_axis,
        |u| &mut u.m_axis,
        &mut driver,
        &mut monitor,
        1,
        500,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            StreamError::Timeout {
                received: 0,
                expected: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_block_that_ignores_tvalid_is_caught() {
    let mut sim = DirectSim::new(Leaky::default(), |u| &mut u.clock).unwrap();
    let mut driver = StreamDriver::new(1, 0.3);
    let mut monitor = StreamMonitor::new(2, 0.0);
    driver.push(frame(100, 1, false)).unwrap();
    let err = run_stream(
        &mut sim,
        |u| &mut u.s_axis,
        |u| &mut u.m_axis,
        &mut driver,
        &mut monitor,
        1,
        500,
    )
    .unwrap_err();
    assert!(matches!(err, StreamError::ExtraOutput { .. }), "{err}");
}
