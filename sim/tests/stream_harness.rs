//! The stream driver/monitor and the pcap module, tested on the skid buffer
//! and on hand-made bad streams: frames out are the frames in under random
//! idle and back-pressure, back-to-back frames leave no bubble, the monitor
//! catches every rule it checks, hangs time out, captures round-trip.

use overlay_nic_hdl::{SkidBuffer, StreamSink, StreamSource};
use overlay_nic_sim::pcap::{
    cycle_timestamp, read_pcap, read_pcap_frames, read_pcap_from, PcapError, PcapFrame, PcapWriter,
};
use overlay_nic_sim::stream::{
    run_stream_test, BeatSample, Frame, Handshake, StreamDriver, StreamError, StreamField,
    StreamMonitor, StreamRun, StreamTestConfig, Violation, ViolationKind,
};
use overlay_nic_sim::DirectSim;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Meta = Bits<16>;
type Skid = SkidBuffer<Meta>;

/// A frame of `len` pseudo-random bytes from `seed`, metadata `tag`.
fn frame(len: usize, tag: u16, seed: u64) -> Frame<Meta> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut data = vec![0u8; len];
    rng.fill(&mut data[..]);
    Frame::new(data, u64::from(tag).to_bits())
}

/// Sizes of the standard matrix: 1-127, 512, 1500, 9000 bytes.
fn matrix_frames() -> Vec<Frame<Meta>> {
    (1..=127)
        .chain([512, 1500, 9000])
        .enumerate()
        .map(|(i, n)| frame(n, i as u16 ^ 0xa5a5, i as u64))
        .collect()
}

fn total_beats(frames: &[Frame<Meta>]) -> u64 {
    frames.iter().map(Frame::beats).sum()
}

fn skid() -> DirectSim<Skid> {
    DirectSim::new(Skid::default(), |u| &mut u.clock).unwrap()
}

/// Runs `frames` through a skid buffer and checks out == in exactly.
fn check_skid(frames: &[Frame<Meta>], config: &StreamTestConfig) -> StreamRun<Meta> {
    let mut sim = skid();
    let run = run_stream_test(
        &mut sim,
        |u| &mut u.s_axis,
        |u| &mut u.m_axis,
        frames.iter().cloned(),
        config,
    )
    .unwrap_or_else(|e| panic!("{config:?}: {e}"));
    assert_eq!(run.received.len(), frames.len(), "frames out");
    for (i, (got, want)) in run.received.iter().zip(frames).enumerate() {
        assert!(
            got.data == want.data,
            "frame {i} ({} bytes) data differs under {config:?}",
            want.data.len()
        );
        assert_eq!(got.meta, want.meta, "frame {i} metadata");
    }
    assert_eq!(run.stats.beats_in, total_beats(frames));
    assert_eq!(run.stats.beats_out, total_beats(frames));
    assert_eq!(run.sent.len(), frames.len());
    run
}

fn stall_probability() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), 0.0f64..0.8]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random frames (1..=2000 bytes), random idle and back-pressure.
    #[test]
    fn skid_buffer_carries_random_frames(
        shapes in prop::collection::vec((1usize..=2000, any::<u16>(), any::<u64>()), 1..10),
        seed in any::<u64>(),
        idle in stall_probability(),
        backpressure in stall_probability(),
    ) {
        let frames: Vec<_> = shapes.iter().map(|&(n, tag, s)| frame(n, tag, s)).collect();
        let config = StreamTestConfig { idle, backpressure, ..StreamTestConfig::seeded(seed) };
        check_skid(&frames, &config);
    }
}

#[test]
fn skid_buffer_frame_size_matrix() {
    let frames = matrix_frames();
    let patterns = [(0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5), (0.9, 0.1)];
    for (k, (idle, backpressure)) in patterns.into_iter().enumerate() {
        let config = StreamTestConfig {
            idle,
            backpressure,
            ..StreamTestConfig::seeded(100 + k as u64)
        };
        let run = check_skid(&frames, &config);
        if backpressure > 0.0 {
            assert!(run.stats.stall_cycles_out > 0, "{config:?}: never stalled");
        }
    }
}

/// With the input always valid and the output always ready, one beat moves
/// every cycle on both sides from the first beat to the last, across
/// back-to-back frames, and every frame takes exactly one cycle (the
/// registered output) to get through.
#[test]
fn skid_buffer_has_no_bubbles_back_to_back() {
    let frames = matrix_frames();
    let beats = total_beats(&frames);
    let run = check_skid(&frames, &StreamTestConfig::seeded(7));
    assert_eq!(run.output_span(), Some(beats), "bubbles on the output");
    let input_span = run.sent.last().unwrap().last_cycle - run.sent[0].first_cycle + 1;
    assert_eq!(input_span, beats, "bubbles on the input");
    assert_eq!(run.stats.stall_cycles_out, 0);
    assert!(run.latencies().all(|l| l == 1), "latency not one cycle");
    for (s, r) in run.sent.iter().zip(&run.received) {
        assert_eq!(r.last_cycle - r.first_cycle, s.last_cycle - s.first_cycle);
    }
}

/// The driver itself keeps the rules: a second monitor, passive, watches
/// the skid buffer's input while the buffer stalls it, finds no violation
/// and reassembles exactly the frames pushed.
#[test]
fn driver_keeps_the_protocol_under_stalls() {
    let frames = matrix_frames();
    let mut sim = skid();
    let mut driver = StreamDriver::new(11, 0.3).unwrap();
    let mut monitor = StreamMonitor::new(12, 0.6).unwrap();
    let mut input_check = StreamMonitor::<Meta>::new(0, 0.0).unwrap();
    for f in &frames {
        driver.push(f.clone()).unwrap();
    }
    let mut stalled = 0;
    while monitor.frames().len() < frames.len() {
        assert!(sim.cycle() < 100_000, "hung");
        let cycle = sim.cycle();
        driver.drive(&mut sim.uut().s_axis);
        monitor.drive(&mut sim.uut().m_axis);
        sim.settle().unwrap();
        let uut = sim.uut();
        input_check.check(&BeatSample::from_sink(&uut.s_axis), cycle);
        if driver.observe_handshake(uut.s_axis.tready.val(), cycle) == Handshake::Stalled {
            stalled += 1;
        }
        monitor.observe(&uut.m_axis, cycle);
        sim.tick().unwrap();
    }
    assert!(
        stalled > 0,
        "the input never stalled: the test proves nothing"
    );
    assert_eq!(input_check.violations(), &[] as &[Violation]);
    assert_eq!(monitor.violations(), &[] as &[Violation]);
    assert_eq!(input_check.stats().stall_cycles, stalled);
    for (checked, want) in input_check.frames().iter().zip(&frames) {
        assert!(checked.data == want.data && checked.meta == want.meta);
    }
    assert_eq!(input_check.frames().len(), frames.len());
    assert_eq!(driver.sent().len(), frames.len());
    assert!(driver.is_done());
}

/// The driver's beats on a bare port: first byte in lane 0, contiguous
/// `tkeep`, partial last beat, metadata on every beat, the beat held while
/// stalled, junk data while idle.
#[test]
fn driver_puts_the_first_byte_in_lane_zero() {
    let mut port = StreamSink::<Meta>::default();
    let mut driver = StreamDriver::new(0, 0.0).unwrap();
    driver
        .push(Frame::new((1..=10).collect(), 0x1234u64.to_bits()))
        .unwrap();
    let mut beats = Vec::new();
    for (cycle, ready) in [false, true, false, false, true, true]
        .into_iter()
        .enumerate()
    {
        driver.drive(&mut port);
        port.update_all();
        let handshake = driver.observe_handshake(ready, cycle as u64);
        beats.push((
            port.tvalid.val(),
            port.tdata.val().to_u64(),
            port.tkeep.val().to_u64(),
            port.tlast.val(),
            port.tuser.val().to_u64(),
            handshake,
        ));
    }
    let first = (true, 0x0807_0605_0403_0201, 0xff, false, 0x1234);
    let last = (true, 0x0a09, 0x03, true, 0x1234);
    let with = |b: (bool, u64, u64, bool, u64), h| (b.0, b.1, b.2, b.3, b.4, h);
    assert_eq!(
        beats,
        [
            with(first, Handshake::Stalled),
            with(first, Handshake::Moved),
            with(last, Handshake::Stalled),
            with(last, Handshake::Stalled),
            with(last, Handshake::FrameSent),
            (
                false,
                overlay_nic_sim::stream::IDLE_DATA,
                0,
                false,
                0,
                Handshake::Idle
            ),
        ]
    );
    assert_eq!(
        driver.sent(),
        [overlay_nic_sim::stream::SentFrame {
            len: 10,
            first_cycle: 1,
            last_cycle: 4
        }]
    );
}

#[test]
fn empty_frames_and_bad_probabilities_are_refused() {
    let mut driver = StreamDriver::<Meta>::new(0, 0.0).unwrap();
    assert!(matches!(
        driver.push(Frame::new(Vec::new(), Meta::default())),
        Err(StreamError::EmptyFrame)
    ));
    assert_eq!(driver.pending(), 0);
    for p in [1.0, -0.1, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            StreamDriver::<Meta>::new(0, p),
            Err(StreamError::Probability(_))
        ));
        assert!(matches!(
            StreamMonitor::<Meta>::new(0, p),
            Err(StreamError::Probability(_))
        ));
    }
    let mut sim = skid();
    let frames = vec![frame(10, 1, 1), frame(0, 2, 2)];
    let got = run_stream_test(
        &mut sim,
        |u| &mut u.s_axis,
        |u| &mut u.m_axis,
        frames,
        &StreamTestConfig::default(),
    );
    assert!(matches!(got, Err(StreamError::EmptyFrame)));
}

/// One output cycle of a hand-made stream.
#[derive(Clone, Copy)]
struct Cyc {
    valid: bool,
    ready: bool,
    data: u64,
    keep: u8,
    last: bool,
    user: u16,
}

/// A valid, taken, full, last beat; the cases below change what they need.
const OK: Cyc = Cyc {
    valid: true,
    ready: true,
    data: 1,
    keep: 0xff,
    last: true,
    user: 9,
};

fn sample(c: Cyc) -> BeatSample<Meta> {
    BeatSample {
        valid: c.valid,
        ready: c.ready,
        data: c.data,
        keep: c.keep,
        last: c.last,
        user: u64::from(c.user).to_bits(),
    }
}

/// A named hand-made stream and the violations (cycle, kind) it must raise.
type Case = (&'static str, Vec<Cyc>, Vec<(u64, ViolationKind)>);

fn violations_of(cycles: &[Cyc]) -> Vec<Violation> {
    let mut monitor = StreamMonitor::<Meta>::new(0, 0.0).unwrap();
    for (i, &c) in cycles.iter().enumerate() {
        monitor.check(&sample(c), i as u64);
    }
    assert_eq!(monitor.violation_count(), monitor.violations().len() as u64);
    monitor.violations().to_vec()
}

/// The monitor's checks can fail: each broken rule is caught, with its
/// kind and cycle, and clean streams are not flagged.
#[test]
fn monitor_catches_each_violation() {
    use ViolationKind::*;
    let stall = Cyc { ready: false, ..OK };
    let cases: Vec<Case> = vec![
        (
            "non-contiguous tkeep",
            vec![Cyc { keep: 0b0101, ..OK }],
            vec![(0, KeepNotContiguous { keep: 0b0101 })],
        ),
        (
            "keep with a hole above lane 0",
            vec![Cyc { keep: 0b1110, ..OK }],
            vec![(0, KeepNotContiguous { keep: 0b1110 })],
        ),
        (
            "zero tkeep",
            vec![Cyc { keep: 0, ..OK }],
            vec![(0, KeepZero)],
        ),
        (
            "partial beat without tlast",
            vec![
                Cyc {
                    keep: 0x0f,
                    last: false,
                    ..OK
                },
                OK,
            ],
            vec![(0, PartialNotLast { keep: 0x0f })],
        ),
        (
            "tvalid dropped while stalled",
            vec![stall, Cyc { valid: false, ..OK }, OK],
            vec![(1, ValidDropped)],
        ),
        (
            "tdata changed while stalled",
            vec![stall, Cyc { data: 2, ..OK }],
            vec![(1, ChangedWhileStalled(StreamField::Data))],
        ),
        (
            "tkeep changed while stalled",
            vec![stall, Cyc { keep: 0x7f, ..OK }],
            vec![(1, ChangedWhileStalled(StreamField::Keep))],
        ),
        (
            "tlast changed while stalled",
            vec![
                Cyc {
                    last: false,
                    ..stall
                },
                OK,
            ],
            vec![(1, ChangedWhileStalled(StreamField::Last))],
        ),
        (
            "tuser changed while stalled",
            vec![stall, Cyc { user: 10, ..OK }],
            vec![(1, ChangedWhileStalled(StreamField::User))],
        ),
        (
            "tuser changed within a frame",
            vec![Cyc { last: false, ..OK }, Cyc { user: 10, ..OK }],
            vec![(1, UserChangedInFrame)],
        ),
        (
            "two fields changed at once",
            vec![
                stall,
                Cyc {
                    data: 3,
                    user: 4,
                    ..stall
                },
                OK,
            ],
            vec![
                (1, ChangedWhileStalled(StreamField::Data)),
                (1, ChangedWhileStalled(StreamField::User)),
                (2, ChangedWhileStalled(StreamField::Data)),
                (2, ChangedWhileStalled(StreamField::User)),
            ],
        ),
    ];
    for (name, cycles, want) in cases {
        let want: Vec<_> = want
            .into_iter()
            .map(|(cycle, kind)| Violation { cycle, kind })
            .collect();
        assert_eq!(violations_of(&cycles), want, "{name}");
    }

    // Clean: a stall held steady, idle cycles (anything goes on the data
    // then), tready low while idle, a frame across beats with a partial
    // last beat, and a new frame with new metadata right after.
    let idle = Cyc {
        valid: false,
        data: 77,
        keep: 0b0101,
        ..OK
    };
    let clean = [
        Cyc {
            last: false,
            ..stall
        },
        Cyc { last: false, ..OK },
        idle,
        Cyc {
            ready: false,
            ..idle
        },
        Cyc {
            data: 0x0201,
            keep: 0b11,
            ..OK
        },
        Cyc { user: 5, ..OK },
    ];
    let mut monitor = StreamMonitor::<Meta>::new(0, 0.0).unwrap();
    for (i, &c) in clean.iter().enumerate() {
        monitor.check(&sample(c), i as u64);
    }
    assert!(monitor.result().is_ok(), "{:?}", monitor.violations());
    let frames = monitor.frames();
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].data, [1, 0, 0, 0, 0, 0, 0, 0, 1, 2]);
    assert_eq!(frames[0].meta, Meta::from(9u64));
    assert_eq!((frames[0].first_cycle, frames[0].last_cycle), (1, 4));
    assert_eq!(frames[1].meta, Meta::from(5u64));
    let stats = monitor.stats();
    assert_eq!(
        (
            stats.cycles,
            stats.valid_cycles,
            stats.beats,
            stats.stall_cycles
        ),
        (6, 4, 3, 1)
    );
}

/// The same checks through a real port: a stalled beat whose data changes
/// on a `StreamSource`, read by `observe`, fails `result()`.
#[test]
fn monitor_catches_a_change_on_a_port() {
    let mut port = StreamSource::<Meta>::default();
    let mut monitor = StreamMonitor::<Meta>::new(0, 0.0).unwrap();
    for (cycle, (data, ready)) in [(1u64, false), (2, true)].into_iter().enumerate() {
        port.tvalid.next = true;
        port.tdata.next = data.to_bits();
        port.tkeep.next = 0xffu64.to_bits();
        port.tlast.next = true;
        monitor.force_ready(Some(ready));
        monitor.drive(&mut port);
        port.update_all();
        monitor.observe(&port, cycle as u64);
    }
    let err = monitor.result().unwrap_err();
    let StreamError::Protocol { first, total, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(*total, 1);
    assert_eq!(
        first.kind,
        ViolationKind::ChangedWhileStalled(StreamField::Data)
    );
    assert!(err.to_string().contains("tdata changed"), "{err}");
}

/// A pass-through block that clears byte lane 1 of `tkeep`: a real design
/// with a protocol bug.
#[derive(LogicBlock, Default)]
struct HoleInKeep {
    clock: Signal<In, Clock>,
    s_axis: StreamSink<Meta>,
    m_axis: StreamSource<Meta>,
}

impl Logic for HoleInKeep {
    #[hdl_gen]
    fn update(&mut self) {
        self.m_axis.tdata.next = self.s_axis.tdata.val();
        self.m_axis.tkeep.next = self.s_axis.tkeep.val().replace_bit(1, false);
        self.m_axis.tlast.next = self.s_axis.tlast.val();
        self.m_axis.tvalid.next = self.s_axis.tvalid.val();
        self.m_axis.tuser.next = self.s_axis.tuser.val();
        self.s_axis.tready.next = self.m_axis.tready.val();
    }
}

/// A block that takes every beat and never sends one.
#[derive(LogicBlock, Default)]
struct Sinkhole {
    clock: Signal<In, Clock>,
    s_axis: StreamSink<Meta>,
    m_axis: StreamSource<Meta>,
}

impl Logic for Sinkhole {
    #[hdl_gen]
    fn update(&mut self) {
        self.m_axis.tdata.next = 0.into();
        self.m_axis.tkeep.next = 0.into();
        self.m_axis.tlast.next = false;
        self.m_axis.tvalid.next = false;
        self.m_axis.tuser.next = 0.into();
        self.s_axis.tready.next = true;
    }
}

#[test]
fn run_stream_test_stops_on_a_protocol_bug() {
    let mut sim = DirectSim::new(HoleInKeep::default(), |u| &mut u.clock).unwrap();
    let config = StreamTestConfig {
        backpressure: 0.3,
        ..StreamTestConfig::seeded(3)
    };
    let err = run_stream_test(
        &mut sim,
        |u| &mut u.s_axis,
        |u| &mut u.m_axis,
        [frame(20, 1, 1)],
        &config,
    )
    .unwrap_err();
    match err {
        StreamError::Protocol { first, .. } => {
            assert_eq!(first.kind, ViolationKind::KeepNotContiguous { keep: 0xfd })
        }
        e => panic!("expected a protocol violation, got {e}"),
    }
    assert!(sim.cycle() < 5, "did not stop at the first violation");
}

#[test]
fn run_stream_test_times_out_on_a_hang() {
    let mut sim = DirectSim::new(Sinkhole::default(), |u| &mut u.clock).unwrap();
    let config = StreamTestConfig {
        max_cycles: 500,
        ..StreamTestConfig::seeded(4)
    };
    let err = run_stream_test(
        &mut sim,
        |u| &mut u.s_axis,
        |u| &mut u.m_axis,
        [frame(100, 1, 1), frame(30, 2, 2)],
        &config,
    )
    .unwrap_err();
    match err {
        StreamError::Timeout {
            cycles,
            expected,
            frames_out,
            beats_in,
            beats_out,
        } => assert_eq!(
            (cycles, expected, frames_out, beats_in, beats_out),
            (500, 2, 0, 17, 0)
        ),
        e => panic!("expected a timeout, got {e}"),
    }
}

/// Output beyond the expected frames is an error, not silently returned.
#[test]
fn run_stream_test_flags_extra_output() {
    let mut sim = skid();
    let config = StreamTestConfig {
        expected_frames: Some(1),
        ..StreamTestConfig::seeded(5)
    };
    let err = run_stream_test(
        &mut sim,
        |u| &mut u.s_axis,
        |u| &mut u.m_axis,
        [frame(16, 1, 1), frame(9, 2, 2)],
        &config,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            StreamError::ExtraOutput {
                expected: 1,
                beats: 1
            }
        ),
        "{err}"
    );
}

fn data_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn tmp_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// The Zeek VXLAN trace: 10 Ethernet/IPv4/UDP frames to port 4789.
#[test]
fn reads_the_vxlan_capture() {
    let path = data_path("vxlan.pcap");
    let frames = read_pcap(&path).unwrap();
    let lens: Vec<_> = frames.iter().map(Vec::len).collect();
    assert_eq!(lens, [92, 92, 148, 148, 148, 148, 148, 148, 148, 148]);
    for f in &frames {
        assert_eq!(f[12..14], [0x08, 0x00], "ethertype IPv4");
        assert_eq!(f[23], 17, "UDP");
        assert_eq!(u16::from_be_bytes([f[36], f[37]]), 4789, "VXLAN port");
    }
    let stamped = read_pcap_frames(&path).unwrap();
    assert!(stamped.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    assert!(stamped.iter().zip(&frames).all(|(s, f)| &s.data == f));
}

#[test]
fn pcap_round_trips_frames_and_timestamps() {
    let path = tmp_path("stream_harness_roundtrip.pcap");
    let frames: Vec<PcapFrame> = [60usize, 1, 1514, 9000, 64]
        .iter()
        .enumerate()
        .map(|(i, &n)| PcapFrame {
            timestamp: cycle_timestamp(1_000_000_007 * i as u64),
            data: frame(n, 0, i as u64).data,
        })
        .collect();
    let mut out = PcapWriter::create(&path).unwrap();
    for f in &frames {
        out.write(f.timestamp, &f.data).unwrap();
    }
    assert_eq!(out.frames_written(), 5);
    out.finish().unwrap();
    assert_eq!(read_pcap_frames(&path).unwrap(), frames);
    // Cycle stamps: 6.4 ns per cycle, exact at nanosecond resolution.
    assert_eq!(cycle_timestamp(5), Duration::from_nanos(32));
    assert_eq!(
        cycle_timestamp(1_000_000_007),
        Duration::from_nanos(6_400_000_044)
    );
    // In memory too, byte for byte the same as the file.
    let mut mem = PcapWriter::new(Vec::new(), Path::new("memory")).unwrap();
    for f in &frames {
        mem.write(f.timestamp, &f.data).unwrap();
    }
    let bytes = mem.finish().unwrap();
    assert_eq!(bytes, std::fs::read(&path).unwrap());
    assert_eq!(
        read_pcap_from(bytes.as_slice(), Path::new("memory")).unwrap(),
        frames
    );
}

#[test]
fn pcap_errors_are_typed() {
    let missing = read_pcap(&data_path("no-such.pcap"));
    assert!(matches!(missing, Err(PcapError::Io { .. })));

    let name = Path::new("bytes");
    let garbage = read_pcap_from(&b"not a pcap at all, really"[..], name);
    assert!(matches!(garbage, Err(PcapError::Format { .. })));

    let good = std::fs::read(data_path("vxlan.pcap")).unwrap();
    let cut = read_pcap_from(&good[..100], name);
    assert!(matches!(cut, Err(PcapError::Format { .. })), "{cut:?}");

    // Raw-IP link type.
    use pcap_file::pcap::{PcapHeader, PcapPacket};
    let header = PcapHeader {
        datalink: pcap_file::DataLink::RAW,
        ..Default::default()
    };
    let mut raw = pcap_file::pcap::PcapWriter::with_header(Vec::new(), header).unwrap();
    raw.write_packet(&PcapPacket::new(Duration::ZERO, 4, &[0x45, 0, 0, 4]))
        .unwrap();
    let raw = raw.into_writer();
    assert!(matches!(
        read_pcap_from(raw.as_slice(), name),
        Err(PcapError::NotEthernet { .. })
    ));

    // A frame cut by the snap length (captured 4 of 60 bytes).
    let mut cut = pcap_file::pcap::PcapWriter::new(Vec::new()).unwrap();
    cut.write_packet(&PcapPacket::new(Duration::ZERO, 60, &[1, 2, 3, 4]))
        .unwrap();
    let cut = cut.into_writer();
    assert!(matches!(
        read_pcap_from(cut.as_slice(), name),
        Err(PcapError::Truncated {
            index: 0,
            captured: 4,
            original: 60,
            ..
        })
    ));

    let mut w = PcapWriter::new(Vec::new(), name).unwrap();
    assert!(matches!(
        w.write(Duration::ZERO, &vec![0; 300_000]),
        Err(PcapError::FrameTooLong { len: 300_000, .. })
    ));
}

/// A capture through the skid buffer under stalls and back into a capture,
/// stamped with the cycle each frame left: the frames come back unchanged.
#[test]
fn capture_through_skid_buffer_to_pcap() {
    let input = read_pcap(&data_path("vxlan.pcap")).unwrap();
    let frames: Vec<_> = input
        .iter()
        .enumerate()
        .map(|(i, d)| Frame::new(d.clone(), (i as u64).to_bits()))
        .collect();
    let config = StreamTestConfig {
        idle: 0.3,
        backpressure: 0.3,
        ..StreamTestConfig::seeded(8)
    };
    let run = check_skid(&frames, &config);
    let path = tmp_path("stream_harness_skid_out.pcap");
    let mut out = PcapWriter::create(&path).unwrap();
    for r in &run.received {
        out.write(cycle_timestamp(r.last_cycle), &r.data).unwrap();
    }
    out.finish().unwrap();
    let back = read_pcap_frames(&path).unwrap();
    assert_eq!(
        back.iter().map(|f| &f.data).collect::<Vec<_>>(),
        input.iter().collect::<Vec<_>>()
    );
    assert!(back.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
}

/// Direct-loop simulation speed on the skid buffer under random traffic
/// and stalls, printed (it depends on the machine and its load).
#[test]
fn direct_sim_speed_on_skid_buffer() {
    let frames: Vec<_> = (0..4000)
        .map(|i| frame(64 + (i * 37) % 1500, i as u16, i as u64))
        .collect();
    let config = StreamTestConfig {
        idle: 0.2,
        backpressure: 0.2,
        ..StreamTestConfig::seeded(9)
    };
    let start = Instant::now();
    let run = check_skid(&frames, &config);
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "DirectSim on SkidBuffer<Bits<16>>: {} cycles in {:.3} s = {:.0} cycles/s (driver + monitor + checks included)",
        run.stats.cycles,
        secs,
        run.stats.cycles as f64 / secs
    );
}
