//! `overlay-nic run`: a capture through the NIC's datapath as it stands.
//!
//! The driver programs the local VTEP into the PF's register file over the
//! simulated AXI4-Lite bus and reads it back; the golden model validates
//! each captured frame as VXLAN for that VTEP (RFC 7348, the configured
//! UDP port); the frames then stream through the HDL stream pipeline
//! (packet FIFO into skid buffer) with random idle cycles and back-pressure,
//! each frame the golden model rejected marked bad on its last beat, so the
//! FIFO drops it whole. What comes out is checked against what should and
//! written to a pcap.

use crate::axil::{AxiLiteHost, HdlRegisterBus};
use crate::blocks::PfRegisterFile;
use crate::capture::{read_frames, read_pcap, CaptureWriter, CapturedFrame, ZEEK_VXLAN_PCAP};
use crate::direct::DirectSim;
use crate::frames::{run_stream_with, Frame, StreamBlock, StreamDriver, StreamMonitor};
use crate::pipeline::{PipelineFifo, StreamPipeline};
use overlay_nic_driver::registers::Registers;
use overlay_nic_driver::vxlan::{decapsulate, DecapConfig};
use overlay_nic_regmap::pf;
use rust_hdl::prelude::*;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Instant;

/// What to run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Capture to stream; `None` streams the built-in Zeek VXLAN trace.
    pub pcap: Option<PathBuf>,
    /// Where to write the frames that came out.
    pub out: Option<PathBuf>,
    /// Where to stream the pipeline's waveform.
    pub vcd: Option<PathBuf>,
    /// The local VTEP: frames for another VTEP are not ours.
    pub vtep_ip: Ipv4Addr,
    pub seed: u64,
    /// Probability of an idle input cycle between beats.
    pub idle: f64,
    /// Probability of `tready` low at the output in a cycle.
    pub backpressure: f64,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            pcap: None,
            out: None,
            vcd: None,
            vtep_ip: Ipv4Addr::new(192, 168, 56, 12),
            seed: 1,
            idle: 0.1,
            backpressure: 0.1,
        }
    }
}

/// One frame's fate.
#[derive(Clone, Debug)]
pub struct FrameReport {
    pub index: usize,
    pub len: usize,
    /// The golden model's verdict: `Ok(VNI)` or why it refused the frame.
    pub verdict: Result<u32, String>,
    pub delivered: bool,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunReport {
    pub frames: Vec<FrameReport>,
    pub hdl_dropped_bad: u64,
    pub hdl_dropped_oversize: u64,
    pub cycles: u64,
    pub beats_in: u64,
    pub beats_out: u64,
    pub register_cycles: u64,
    pub sim_seconds: f64,
}

impl RunReport {
    /// The human-readable account printed by the command.
    pub fn render(&self, config: &RunConfig) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "local VTEP {} (programmed over AXI4-Lite in {} cycles)",
            config.vtep_ip, self.register_cycles
        );
        let _ = writeln!(
            s,
            "{:>5}  {:>6}  {:<64}  hdl",
            "frame", "bytes", "golden model"
        );
        for f in &self.frames {
            let verdict = match &f.verdict {
                Ok(vni) => format!("VXLAN VNI {vni}"),
                Err(e) => format!("refused: {e}"),
            };
            let fate = match (f.delivered, f.len > PipelineFifo::DEPTH_BEATS * 8) {
                (true, _) => "delivered",
                (false, true) => "dropped (oversize)",
                (false, false) => "dropped",
            };
            let _ = writeln!(
                s,
                "{:>5}  {:>6}  {:<64}  {fate}",
                f.index,
                f.len,
                truncate(&verdict, 64)
            );
        }
        let delivered = self.frames.iter().filter(|f| f.delivered).count();
        let _ = writeln!(
            s,
            "frames: {} in, {} delivered, {} dropped (HDL counters: {} marked bad, {} oversize)",
            self.frames.len(),
            delivered,
            self.frames.len() - delivered,
            self.hdl_dropped_bad,
            self.hdl_dropped_oversize
        );
        let _ = writeln!(
            s,
            "datapath: {} cycles, {} beats in, {} out (idle {:.0}%, back-pressure {:.0}%, seed {})",
            self.cycles,
            self.beats_in,
            self.beats_out,
            config.idle * 100.0,
            config.backpressure * 100.0,
            config.seed
        );
        let _ = writeln!(
            s,
            "simulated {} cycles in {:.3} s (register programming, golden model and datapath)",
            self.cycles + self.register_cycles,
            self.sim_seconds
        );
        s
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Capture(#[from] crate::capture::CaptureError),
    #[error("register programming: {0}")]
    Registers(#[from] overlay_nic_driver::registers::RegisterError),
    #[error(transparent)]
    Sim(#[from] crate::direct::SimError),
    #[error(transparent)]
    Stream(#[from] crate::frames::StreamError),
    #[error("the capture holds an empty frame (#{0}), which no stream can carry")]
    EmptyFrame(usize),
    #[error("frame {index}: the HDL {what}")]
    Mismatch { index: usize, what: String },
}

/// Runs the whole job.
pub fn run(config: &RunConfig) -> Result<RunReport, RunError> {
    let frames: Vec<CapturedFrame> = match &config.pcap {
        Some(path) => read_pcap(path)?,
        None => read_frames(ZEEK_VXLAN_PCAP)?,
    };
    let started = Instant::now();

    // The driver programs the VTEP; the validation below uses what the
    // registers hold, not what the driver meant to write.
    let sim = DirectSim::new(PfRegisterFile::new(pf::TABLE), |u| &mut u.clock)?;
    let host = AxiLiteHost::new(|u: &mut PfRegisterFile| &mut u.axil, config.seed, 0.2);
    let mut regs = Registers::new(HdlRegisterBus::new(sim, host));
    regs.write(&pf::VTEP_IP, u32::from(config.vtep_ip))?;
    let vtep_ip = Ipv4Addr::from(regs.read(&pf::VTEP_IP)?);
    let udp_port = regs.read(&pf::VXLAN_UDP_PORT)? as u16;
    let register_cycles = regs.bus().sim().cycle();

    let decap = DecapConfig {
        udp_dst_port: udp_port,
        local_ip: Some(vtep_ip),
        ..DecapConfig::default()
    };
    let mut reports = Vec::with_capacity(frames.len());
    let mut driver = StreamDriver::new(config.seed, config.idle);
    for (index, f) in frames.iter().enumerate() {
        if f.data.is_empty() {
            return Err(RunError::EmptyFrame(index));
        }
        let verdict = decapsulate(&f.data, &decap)
            .map(|d| d.outer.vni().get())
            .map_err(|e| e.to_string());
        let mut frame = Frame::new(f.data.clone(), (index as u64).to_bits());
        frame.bad = verdict.is_err();
        driver.push(frame)?;
        reports.push(FrameReport {
            index,
            len: f.data.len(),
            verdict,
            delivered: false,
        });
    }
    // Frames longer than the packet buffer cannot be held whole; the FIFO
    // drops them and counts them as oversize.
    let capacity = PipelineFifo::DEPTH_BEATS * 8;
    let fits = |r: &FrameReport| r.len <= capacity;
    let expected: Vec<usize> = reports
        .iter()
        .filter(|r| r.verdict.is_ok() && fits(r))
        .map(|r| r.index)
        .collect();
    let oversize = reports.iter().filter(|r| !fits(r)).count() as u64;
    let refused = reports
        .iter()
        .filter(|r| r.verdict.is_err() && fits(r))
        .count() as u64;

    let mut sim = DirectSim::new(StreamPipeline::default(), StreamPipeline::clock)?;
    if let Some(path) = &config.vcd {
        sim.trace_to(path)?;
    }
    let mut monitor = StreamMonitor::new(config.seed.wrapping_add(1), config.backpressure);
    let total_beats: u64 = frames.iter().map(|f| f.data.len().div_ceil(8) as u64).sum();
    let stats = run_stream_with(
        &mut sim,
        StreamPipeline::input,
        StreamPipeline::output,
        &mut driver,
        &mut monitor,
        expected.len(),
        total_beats * 50 + 1000,
        |u, f| u.s_bad.next = f.is_some_and(|f| f.bad),
    )?;

    let mut writer = match &config.out {
        Some(path) => Some(CaptureWriter::create(path)?),
        None => None,
    };
    if monitor.frames().len() != expected.len() {
        return Err(RunError::Mismatch {
            index: expected.len(),
            what: format!(
                "delivered {} frames, expected {}",
                monitor.frames().len(),
                expected.len()
            ),
        });
    }
    for (got, &index) in monitor.frames().iter().zip(&expected) {
        let tag = got.meta.to_u64() as usize;
        if tag != index || got.data != frames[index].data {
            return Err(RunError::Mismatch {
                index,
                what: format!(
                    "delivered frame #{tag} ({} bytes) in its place",
                    got.data.len()
                ),
            });
        }
        reports[index].delivered = true;
        if let Some(w) = writer.as_mut() {
            w.write(frames[index].timestamp, &got.data)?;
        }
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    let uut = sim.uut();
    let hdl_dropped_bad = uut.dropped_bad.val().to_u64();
    let hdl_dropped_oversize = uut.dropped_oversize.val().to_u64();
    sim.finish()?;
    if hdl_dropped_bad != refused || hdl_dropped_oversize != oversize {
        return Err(RunError::Mismatch {
            index: reports.len(),
            what: format!(
                "counted {hdl_dropped_bad} bad and {hdl_dropped_oversize} oversize drops, expected {refused} and {oversize}"
            ),
        });
    }
    Ok(RunReport {
        frames: reports,
        hdl_dropped_bad,
        hdl_dropped_oversize,
        cycles: stats.cycles,
        beats_in: stats.beats_in,
        beats_out: stats.beats_out,
        register_cycles,
        sim_seconds: started.elapsed().as_secs_f64(),
    })
}
