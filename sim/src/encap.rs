//! `overlay-nic encap`: a pcap of inner frames through the HDL TX path.
//!
//! The NIC is programmed from a TOML configuration (the format is in
//! `driver-model/src/nic_config.rs` and README; `examples/nic.toml` is a
//! complete one) through its registers; every frame enters on one host
//! function; the wire output is written as a pcap. The golden model runs
//! the same frames alongside, and the report says whether the two agree
//! byte for byte (they must: a disagreement is an error).
//!
//! The TX offloads (`docs/tx-offload.md`) are requested per frame as a
//! host stack would: [`EncapOffload`] says which, and each frame gets the
//! requests that apply to it (TSO for TCP/IPv4 frames, `CHECKSUM_PARTIAL`
//! set up Linux's way for TCP/UDP over IPv4, the IPv4 header checksum for
//! any frame with an IPv4 header).

use crate::capture::{read_pcap, CaptureWriter};
use crate::tx::{HostFrame, NicSim, NicSimError, Traffic};
use overlay_nic_driver::nic_config::{BuildLimits, ConfigError, NicConfig};
use overlay_nic_driver::offload::{self, OffloadRequest};
use overlay_nic_driver::tx::{Function, FunctionCounters, NicEvent, TxModel};
use overlay_nic_driver::vxlan::Vni;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What `overlay-nic encap` was asked to do.
#[derive(Clone, Debug)]
pub struct EncapArgs {
    pub config: PathBuf,
    pub input: PathBuf,
    pub output: PathBuf,
    pub function: Function,
    /// PF only: tag every frame for encapsulation with this VNI.
    pub vni: Option<Vni>,
    pub vcd: Option<PathBuf>,
    pub traffic: Traffic,
    pub offload: EncapOffload,
}

/// Which offloads to request on the frames they apply to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EncapOffload {
    /// `CHECKSUM_PARTIAL` on TCP and UDP over IPv4, the field seeded with
    /// the pseudo-header sum ([`offload::prepare_checksum_partial`]).
    pub csum: bool,
    /// The IPv4 header checksum on frames with an IPv4 header.
    pub ip_csum: bool,
    /// TSO with this MSS on TCP/IPv4 frames (instead of `csum`/`ip_csum`,
    /// which segmentation does itself).
    pub tso: Option<u16>,
}

impl EncapOffload {
    /// The request for `frame`, which it may prepare as the host would
    /// (the checksum field's pseudo-header seed).
    pub fn request(&self, frame: &mut [u8]) -> OffloadRequest {
        if let Some(mss) = self.tso {
            let l3 = offload::ipv4_offset(frame);
            if l3.is_some_and(|l3| frame.get(l3 + 9) == Some(&6)) {
                return OffloadRequest::segmentation(mss);
            }
        }
        let mut req = OffloadRequest::default();
        if self.csum {
            req = offload::prepare_checksum_partial(frame).unwrap_or_default();
        }
        if self.ip_csum && offload::ipv4_offset(frame).is_some() {
            req.ip_csum = true;
        }
        req
    }
}

/// What happened.
#[derive(Clone, Debug)]
pub struct EncapReport {
    pub frames_in: usize,
    pub frames_out: usize,
    pub counters: FunctionCounters,
    pub events: Vec<NicEvent>,
    pub cycles: u64,
    pub wall: Duration,
    /// Wire frames identical to the golden model's.
    pub model_agrees: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum EncapError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Config { path: PathBuf, source: ConfigError },
    #[error(transparent)]
    Capture(#[from] crate::capture::CaptureError),
    #[error(transparent)]
    Nic(#[from] NicSimError),
    #[error("--vni tags PF frames only; {0} frames take their VF's configured VNI")]
    VniOnVf(Function),
    #[error("{path}: frame {index} is empty")]
    EmptyFrame { path: PathBuf, index: usize },
    #[error("the HDL and the golden model disagree on wire frame {index}: {what}")]
    Mismatch { index: usize, what: String },
}

/// Runs the command.
pub fn encap(args: &EncapArgs) -> Result<EncapReport, EncapError> {
    if args.vni.is_some() && args.function != Function::Pf {
        return Err(EncapError::VniOnVf(args.function));
    }
    let text = std::fs::read_to_string(&args.config).map_err(|source| EncapError::Io {
        path: args.config.clone(),
        source,
    })?;
    let config = NicConfig::from_toml(&text).map_err(|source| EncapError::Config {
        path: args.config.clone(),
        source,
    })?;
    let limits = BuildLimits::default();
    config
        .validate(&limits)
        .map_err(|source| EncapError::Config {
            path: args.config.clone(),
            source,
        })?;
    let captured = read_pcap(&args.input)?;
    let mut frames = Vec::with_capacity(captured.len());
    for (index, mut c) in captured.into_iter().enumerate() {
        if c.data.is_empty() {
            return Err(EncapError::EmptyFrame {
                path: args.input.clone(),
                index,
            });
        }
        frames.push(HostFrame {
            function: args.function,
            tag: args.vni,
            offload: args.offload.request(&mut c.data),
            data: c.data,
        });
    }

    // The golden model's verdict for each frame (one function: wire order
    // is input order).
    let mut model =
        TxModel::new(config.clone(), limits, 16).map_err(|source| EncapError::Config {
            path: args.config.clone(),
            source,
        })?;
    let mut expected = Vec::new();
    for h in &frames {
        let out = model
            .transmit_with(h.function, &h.data, h.tag, &h.offload)
            .map_err(|e| NicSimError::Model(e.to_string()))?;
        expected.extend(out.frames().into_iter().map(<[u8]>::to_vec));
    }

    let started = Instant::now();
    let mut nic = NicSim::new(args.traffic.seed)?;
    if let Some(vcd) = &args.vcd {
        nic.trace_to(vcd)?;
    }
    nic.program(&config)?;
    let run = nic.run(&frames, args.traffic, expected.len())?;
    let counters = nic.counters(args.function)?;
    let events = nic.drain_events()?;
    let wall = started.elapsed();
    // Every simulated cycle: programming, frames and read-back.
    let cycles = nic.sim().cycle();

    let mut model_agrees = 0;
    for (index, (got, want)) in run.wire.iter().zip(&expected).enumerate() {
        if got.data != *want {
            let at = got
                .data
                .iter()
                .zip(want)
                .position(|(a, b)| a != b)
                .unwrap_or(got.data.len().min(want.len()));
            return Err(EncapError::Mismatch {
                index,
                what: format!(
                    "{} vs {} bytes, first difference at byte {at}",
                    got.data.len(),
                    want.len()
                ),
            });
        }
        model_agrees += 1;
    }
    let mut writer = CaptureWriter::create(&args.output)?;
    // Timestamps: the cycle each frame's first beat left, at 156.25 MHz.
    for w in &run.wire {
        writer.write(Duration::from_nanos(w.first_cycle * 32 / 5), &w.data)?;
    }
    writer.finish()?;
    Ok(EncapReport {
        frames_in: frames.len(),
        frames_out: run.wire.len(),
        counters,
        events,
        cycles,
        wall,
        model_agrees,
    })
}

impl EncapReport {
    /// The summary `overlay-nic encap` prints.
    pub fn render(&self, args: &EncapArgs) -> String {
        let c = &self.counters;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} frames in on {}{}, {} out to {} ({} encapsulated, {} unchanged)",
            self.frames_in,
            args.function,
            args.vni
                .map(|v| format!(" tagged VNI {}", v.get()))
                .unwrap_or_default(),
            self.frames_out,
            args.output.display(),
            c.encapsulated,
            self.frames_out as u32 - c.encapsulated.min(self.frames_out as u32),
        );
        let _ = writeln!(
            s,
            "golden model: {}/{} wire frames identical",
            self.model_agrees, self.frames_out
        );
        let _ = writeln!(s, "\n| drop reason | frames |\n|---|---|");
        for (name, n) in [
            ("runt (< 14 bytes)", c.drop_runt),
            ("spoofed source MAC", c.drop_spoofed),
            ("over MTU / MAX_FRAME", c.drop_mtu),
            ("VNI without record", c.drop_no_vni),
            ("table miss, drop policy", c.drop_miss),
            (
                "offload_csum (field outside the frame)",
                c.drop_offload_csum,
            ),
            ("offload_ip (no IPv4 header)", c.drop_offload_ip),
            (
                "offload_tso (not whole TCP/IPv4, MSS < 64)",
                c.drop_offload_tso,
            ),
        ] {
            let _ = writeln!(s, "| {name} | {n} |");
        }
        if args.offload.tso.is_some() {
            let _ = writeln!(s, "\nTSO segments: {}", c.tso_segments);
        }
        let _ = writeln!(
            s,
            "\ntable misses: {} ({} miss events queued)",
            c.misses,
            self.events.len()
        );
        for e in &self.events {
            let NicEvent::TxMiss { vni, mac } = e else {
                continue;
            };
            let _ = writeln!(s, "  miss: VNI {} MAC {mac}", vni.get());
        }
        let _ = writeln!(
            s,
            "\n{} cycles simulated (programming, frames, read-back) in {:.2} s ({:.0} cycles/s)",
            self.cycles,
            self.wall.as_secs_f64(),
            self.cycles as f64 / self.wall.as_secs_f64().max(1e-9)
        );
        if let Some(v) = &args.vcd {
            let _ = writeln!(s, "waveform: {}", v.display());
        }
        s
    }
}
