//! `overlay-nic bench`: line-rate efficiency, latency and simulation speed
//! of the stream primitives, measured in cycle-accurate simulation.
//!
//! Efficiency is output beats per cycle from a run's first output beat to
//! its last, with the input always valid and the output always ready; 100%
//! means no bubble anywhere, between frames included. Latency is counted
//! with the block empty, from the first frame's first input beat (cycle 0)
//! and from its last input beat to its first output beat: the second is the
//! store-and-forward latency (cut-through blocks have none). Simulation speed is wall-clock cycles per second of the direct
//! loop under random traffic and stalls, so it depends on the machine.

use crate::direct::DirectSim;
use crate::frames::{run_stream, Frame, StreamBlock, StreamDriver, StreamMonitor};
use crate::pipeline::{PipelineFifo, PipelineMeta, StreamPipeline};
use overlay_nic_hdl::SkidBuffer;
use rust_hdl::prelude::*;
use std::fmt::Write as _;
use std::time::Instant;

/// Frame sizes measured.
pub const SIZES: [usize; 8] = [60, 64, 65, 128, 512, 1500, 4096, 9000];

/// One row: a block at one frame size.
#[derive(Clone, Debug)]
pub struct LineRateRow {
    pub block: &'static str,
    pub frame_bytes: usize,
    pub frames: usize,
    pub beats_out: u64,
    pub span_cycles: u64,
    /// Cycles from the first frame's first input beat to its first output beat.
    pub first_to_first: u64,
    /// Cycles from the first frame's last input beat to its first output
    /// beat; `None` for a cut-through block whose output starts earlier.
    pub last_to_first: Option<u64>,
}

impl LineRateRow {
    pub fn efficiency(&self) -> f64 {
        self.beats_out as f64 / self.span_cycles as f64
    }
}

/// One row of simulation speed.
#[derive(Clone, Debug)]
pub struct SpeedRow {
    pub block: &'static str,
    pub cycles: u64,
    pub seconds: f64,
}

fn line_rate<B: StreamBlock<PipelineMeta>>(
    frame_bytes: usize,
) -> Result<LineRateRow, crate::frames::StreamError> {
    let frames = (200_000 / frame_bytes).clamp(4, 400);
    let mut sim = DirectSim::new(B::default(), B::clock)?;
    let mut driver = StreamDriver::new(0, 0.0);
    let mut monitor = StreamMonitor::new(0, 0.0);
    for i in 0..frames {
        driver.push(Frame::new(vec![i as u8; frame_bytes], (i as u64).to_bits()))?;
    }
    let beats = (frames * frame_bytes.div_ceil(8)) as u64;
    let stats = run_stream(
        &mut sim,
        B::input,
        B::output,
        &mut driver,
        &mut monitor,
        frames,
        beats * 4 + 100,
    )?;
    let got = monitor.frames();
    let last_input_beat = frame_bytes.div_ceil(8) as u64 - 1;
    Ok(LineRateRow {
        block: B::NAME,
        frame_bytes,
        frames,
        beats_out: stats.beats_out,
        span_cycles: got[frames - 1].last_cycle - got[0].first_cycle + 1,
        first_to_first: got[0].first_cycle,
        last_to_first: got[0].first_cycle.checked_sub(last_input_beat),
    })
}

/// Efficiency and latency of the skid buffer, the packet FIFO and the
/// pipeline at every size in [`SIZES`].
pub fn line_rate_table() -> Result<Vec<LineRateRow>, crate::frames::StreamError> {
    let mut rows = Vec::new();
    for &n in &SIZES {
        rows.push(line_rate::<SkidBuffer<PipelineMeta>>(n)?);
        rows.push(line_rate::<PipelineFifo>(n)?);
        rows.push(line_rate::<StreamPipeline>(n)?);
    }
    Ok(rows)
}

fn speed<B: StreamBlock<PipelineMeta>>() -> Result<SpeedRow, crate::frames::StreamError> {
    let mut sim = DirectSim::new(B::default(), B::clock)?;
    let mut driver = StreamDriver::new(7, 0.3);
    let mut monitor = StreamMonitor::new(8, 0.3);
    let frames = 300;
    for i in 0..frames {
        driver.push(Frame::new(
            vec![i as u8; 64 + (i * 37) % 1500],
            (i as u64).to_bits(),
        ))?;
    }
    let start = Instant::now();
    let stats = run_stream(
        &mut sim,
        B::input,
        B::output,
        &mut driver,
        &mut monitor,
        frames,
        10_000_000,
    )?;
    Ok(SpeedRow {
        block: B::NAME,
        cycles: stats.cycles,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Direct-loop simulation speed of each stream block under random stalls.
pub fn speed_table() -> Result<Vec<SpeedRow>, crate::frames::StreamError> {
    Ok(vec![
        speed::<SkidBuffer<PipelineMeta>>()?,
        speed::<PipelineFifo>()?,
        speed::<StreamPipeline>()?,
    ])
}

/// Both tables as Markdown.
pub fn render(rates: &[LineRateRow], speeds: &[SpeedRow]) -> String {
    let mut s = String::from(
        "| block | frame bytes | frames | output beats | cycles, first to last output beat | efficiency | latency, first in to first out | latency, last in to first out |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in rates {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.1}% | {} | {} |",
            r.block,
            r.frame_bytes,
            r.frames,
            r.beats_out,
            r.span_cycles,
            100.0 * r.efficiency(),
            r.first_to_first,
            r.last_to_first
                .map_or("cut-through".to_string(), |c| c.to_string()),
        );
    }
    s.push_str("\n| block | cycles simulated | seconds | cycles/s |\n|---|---|---|---|\n");
    for r in speeds {
        let _ = writeln!(
            s,
            "| {} | {} | {:.3} | {:.0} |",
            r.block,
            r.cycles,
            r.seconds,
            r.cycles as f64 / r.seconds
        );
    }
    s
}

/// TX path frame sizes measured (the largest untagged frame the default
/// build accepts last).
pub const TX_SIZES: [usize; 9] = [60, 64, 65, 128, 512, 1500, 4096, 9000, 16380];

/// The TX path (default build, PF frames tagged for encapsulation, table
/// hit) at every size in [`TX_SIZES`], without and with the outer VLAN tag,
/// and untagged passthrough frames.
pub fn tx_line_rate_table() -> Result<Vec<crate::tx::TxLineRate>, crate::tx::NicSimError> {
    let mut rows = Vec::new();
    for (vlan, encap) in [(false, true), (true, true), (false, false)] {
        let mut nic = crate::tx::NicSim::new(1)?;
        nic.program(&crate::tx::bench_config(vlan))?;
        for &n in &TX_SIZES {
            rows.push(nic.line_rate(n, (200_000 / n).clamp(4, 100), encap)?);
        }
    }
    Ok(rows)
}

/// The TX table as Markdown.
pub fn render_tx(rows: &[crate::tx::TxLineRate]) -> String {
    let mut s = String::from(
        "| TX path | frame bytes | frames | wire cycles, first to last beat | ideal: frames x ceil((len + header) / 8) | efficiency | latency, last host beat to first wire beat |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let kind = match r.header {
            0 => "passthrough",
            50 => "VXLAN (+50)",
            _ => "VXLAN + outer VLAN (+54)",
        };
        let _ = writeln!(
            s,
            "| {kind} | {} | {} | {} | {} | {:.1}% | {} |",
            r.frame_bytes,
            r.frames,
            r.span_cycles,
            r.ideal_cycles,
            100.0 * r.efficiency(),
            r.latency
        );
    }
    s
}

/// (TCP payload bytes, MSS) of the TX offload benchmark; `None`:
/// `CHECKSUM_PARTIAL` and the IPv4 header checksum, no segmentation.
pub const TX_OFFLOAD_CASES: [(usize, Option<u16>); 10] = [
    (6, None),
    (1460, None),
    (8960, None),
    (1000, Some(1460)),
    (2920, Some(1460)),
    (16000, Some(1448)),
    (16000, Some(64)),
    (16000, Some(65)),
    (9000, Some(1461)),
    (16000, Some(8960)),
];

/// The TX path (default build, PF frames tagged for encapsulation, table
/// hit) with each request in [`TX_OFFLOAD_CASES`].
pub fn tx_offload_table() -> Result<Vec<crate::tx::TxOffloadRate>, crate::tx::NicSimError> {
    let mut nic = crate::tx::NicSim::new(1)?;
    nic.program(&crate::tx::bench_config(false))?;
    TX_OFFLOAD_CASES
        .iter()
        .map(|&(payload, mss)| {
            nic.offload_rate(payload, mss, (100_000 / (payload + 54)).clamp(4, 50))
        })
        .collect()
}

/// The TX offload table as Markdown.
pub fn render_tx_offload(rows: &[crate::tx::TxOffloadRate]) -> String {
    let mut s = String::from(
        "| TX offload (VXLAN) | TCP payload | frames | wire frames | wire beats | wire cycles, first to last beat | efficiency | latency, last host beat to first wire beat |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let kind = match r.mss {
            Some(m) => format!("TSO, MSS {m}"),
            None => "CHECKSUM_PARTIAL + IPv4".to_owned(),
        };
        let _ = writeln!(
            s,
            "| {kind} | {} | {} | {} | {} | {} | {:.1}% | {} |",
            r.payload,
            r.frames,
            r.wire_frames,
            r.wire_beats,
            r.span_cycles,
            100.0 * r.efficiency(),
            r.latency
        );
    }
    s
}

/// Inner frame sizes of the RX benchmark (wire frames are 50 or 54 bytes
/// longer; non-overlay frames are this long).
pub const RX_SIZES: [usize; 8] = [60, 64, 65, 128, 512, 1500, 4096, 9000];

/// The RX path (default build) at every size in [`RX_SIZES`], for each
/// kind of traffic.
pub fn rx_line_rate_table() -> Result<Vec<crate::rx::RxLineRate>, crate::tx::NicSimError> {
    use crate::rx::{rx_bench_config, RxBenchKind};
    let mut rows = Vec::new();
    for kind in RxBenchKind::ALL {
        let mut nic = crate::tx::NicSim::new(1)?;
        nic.program(&rx_bench_config(kind == RxBenchKind::UnicastVlan))?;
        for &n in &RX_SIZES {
            rows.push(nic.rx_line_rate(kind, n, (200_000 / n).clamp(4, 100))?);
        }
    }
    Ok(rows)
}

/// The RX table as Markdown.
pub fn render_rx(rows: &[crate::rx::RxLineRate]) -> String {
    let mut s = String::from(
        "| RX path | wire frame bytes | frames | wire beats | wire cycles, first to last beat | copies delivered | overflow drops | latency, last wire beat to first / last host beat |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} / {} |\n",
            r.kind.label(),
            r.wire_bytes,
            r.frames,
            r.wire_beats,
            r.wire_cycles,
            r.delivered,
            r.overflow,
            r.latency_first,
            r.latency_last
        ));
    }
    s
}
