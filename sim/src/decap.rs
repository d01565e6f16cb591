//! `overlay-nic decap`: a pcap of wire frames through the HDL RX path.
//!
//! The NIC is programmed from the same TOML configuration as `encap`
//! through its registers; every frame enters from the wire; what the host
//! functions receive is written, in arrival order, as one pcap of inner
//! frames, and the summary says which function got each. The golden model
//! runs the same frames alongside and must agree on every delivered frame,
//! its function and its metadata (a disagreement is an error). Learn events
//! and counters can be written as JSON lines.

use crate::capture::{read_pcap, CaptureWriter};
use crate::rx::{Delivered, RxTraffic};
use crate::tx::{NicSim, NicSimError};
use overlay_nic_driver::nic_config::{BuildLimits, ConfigError, NicConfig};
use overlay_nic_driver::rx::{
    ChecksumStatus, RxCounters, RxDrop, RxFunctionCounters, RxModel, RxOutcome,
};
use overlay_nic_driver::tx::{Function, NicEvent};
use serde_json::json;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What `overlay-nic decap` was asked to do.
#[derive(Clone, Debug)]
pub struct DecapArgs {
    pub config: PathBuf,
    pub input: PathBuf,
    pub output: PathBuf,
    /// Learn events and counters as JSON lines.
    pub events: Option<PathBuf>,
    pub vcd: Option<PathBuf>,
    pub traffic: RxTraffic,
}

/// What happened.
#[derive(Clone, Debug)]
pub struct DecapReport {
    pub frames_in: usize,
    pub delivered: Vec<Delivered>,
    pub counters: RxCounters,
    pub overflow: u32,
    pub functions: Vec<RxFunctionCounters>,
    pub events: Vec<NicEvent>,
    pub cycles: u64,
    pub wall: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum DecapError {
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
    #[error("{path}: frame {index} is empty")]
    EmptyFrame { path: PathBuf, index: usize },
    #[error("the HDL and the golden model disagree: {0}")]
    Mismatch(String),
}

fn load_config(path: &PathBuf, limits: &BuildLimits) -> Result<NicConfig, DecapError> {
    let text = std::fs::read_to_string(path).map_err(|source| DecapError::Io {
        path: path.clone(),
        source,
    })?;
    let config = NicConfig::from_toml(&text).map_err(|source| DecapError::Config {
        path: path.clone(),
        source,
    })?;
    config
        .validate(limits)
        .map_err(|source| DecapError::Config {
            path: path.clone(),
            source,
        })?;
    Ok(config)
}

/// Runs the command.
pub fn decap(args: &DecapArgs) -> Result<DecapReport, DecapError> {
    let limits = BuildLimits::default();
    let config = load_config(&args.config, &limits)?;
    let captured = read_pcap(&args.input)?;
    let mut frames = Vec::with_capacity(captured.len());
    for (index, c) in captured.into_iter().enumerate() {
        if c.data.is_empty() {
            return Err(DecapError::EmptyFrame {
                path: args.input.clone(),
                index,
            });
        }
        frames.push(c.data);
    }

    let mut model = RxModel::new(config.clone(), limits, 16).map_err(|e| {
        DecapError::Mismatch(format!("the golden model refused the configuration: {e}"))
    })?;
    let mut expected: Vec<Vec<_>> = vec![Vec::new(); limits.vfs + 1];
    for f in &frames {
        if let RxOutcome::Delivered(copies) = model.receive(f) {
            for c in copies {
                expected[c.function.index()].push(c);
            }
        }
    }
    let copies: usize = expected.iter().map(Vec::len).sum();

    let started = Instant::now();
    let mut nic = NicSim::new(args.traffic.seed)?;
    if let Some(vcd) = &args.vcd {
        nic.trace_to(vcd)?;
    }
    nic.program(&config)?;
    let run = nic.receive(&frames, args.traffic, copies)?;
    let (counters, overflow) = nic.rx_counters()?;
    let functions = (0..=limits.vfs)
        .map(|f| nic.rx_function_counters(Function::from_index(f)))
        .collect::<Result<Vec<_>, _>>()?;
    let events = nic.drain_events()?;
    let wall = started.elapsed();
    let cycles = nic.sim().cycle();

    // Per function, the HDL's copies in order must be the model's.
    let mut next = vec![0usize; limits.vfs + 1];
    for d in &run.delivered {
        let f = d.function.index();
        let Some(want) = expected[f].get(next[f]) else {
            return Err(DecapError::Mismatch(format!(
                "{} got an extra frame of {} bytes",
                d.function,
                d.data.len()
            )));
        };
        if want.frame != d.data || want.meta != d.meta {
            return Err(DecapError::Mismatch(format!(
                "{} frame {}: {} bytes {:?} vs the model's {} bytes {:?}",
                d.function,
                next[f],
                d.data.len(),
                d.meta,
                want.frame.len(),
                want.meta
            )));
        }
        next[f] += 1;
    }
    if &counters != model.counters() {
        return Err(DecapError::Mismatch(format!(
            "counters {counters:?} vs the model's {:?}",
            model.counters()
        )));
    }

    let mut writer = CaptureWriter::create(&args.output)?;
    // Timestamps: the cycle each frame's first beat reached its host, at
    // 156.25 MHz.
    for d in &run.delivered {
        writer.write(Duration::from_nanos(d.first_cycle * 32 / 5), &d.data)?;
    }
    writer.finish()?;
    let report = DecapReport {
        frames_in: frames.len(),
        delivered: run.delivered,
        counters,
        overflow,
        functions,
        events,
        cycles,
        wall,
    };
    if let Some(path) = &args.events {
        let io = |source| DecapError::Io {
            path: path.clone(),
            source,
        };
        let mut file = std::fs::File::create(path).map_err(io)?;
        for line in report.json_lines() {
            writeln!(file, "{line}").map_err(io)?;
        }
    }
    Ok(report)
}

fn status(s: ChecksumStatus) -> &'static str {
    match s {
        ChecksumStatus::None => "-",
        ChecksumStatus::Good => "good",
        ChecksumStatus::Bad => "bad",
    }
}

impl DecapReport {
    /// Learn events, then the counters, one JSON object per line.
    pub fn json_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.events {
            let line = match e {
                NicEvent::Learn {
                    vni,
                    mac,
                    vtep_ip,
                    vtep_mac,
                } => json!({
                    "event": "learn",
                    "vni": vni.get(),
                    "mac": mac.to_string(),
                    "vtep_ip": vtep_ip.to_string(),
                    "vtep_mac": vtep_mac.to_string(),
                }),
                NicEvent::TxMiss { vni, mac } => json!({
                    "event": "tx_miss",
                    "vni": vni.get(),
                    "mac": mac.to_string(),
                }),
            };
            out.push(line.to_string());
        }
        let c = &self.counters;
        let mut drops = serde_json::Map::new();
        for r in RxDrop::ALL {
            drops.insert(r.name().to_string(), json!(c.drops(r)));
        }
        drops.insert("overflow".to_string(), json!(self.overflow));
        out.push(
            json!({
                "counters": "rx",
                "wire_frames": c.wire_frames,
                "wire_bytes": c.wire_bytes,
                "non_overlay": c.non_overlay,
                "decapsulated": c.decapsulated,
                "learn": c.learn,
                "drops": drops,
            })
            .to_string(),
        );
        for (f, fc) in self.functions.iter().enumerate() {
            out.push(
                json!({
                    "counters": Function::from_index(f).to_string(),
                    "frames": fc.frames,
                    "bytes": fc.bytes,
                    "decapsulated": fc.decapsulated,
                    "drop_inner_checksum": fc.drop_inner_checksum,
                })
                .to_string(),
            );
        }
        out
    }

    /// The summary `overlay-nic decap` prints.
    pub fn render(&self, args: &DecapArgs) -> String {
        let c = &self.counters;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} wire frames in, {} delivered to {} ({} decapsulated, {} non-overlay, {} from unknown sources)",
            self.frames_in,
            self.delivered.len(),
            args.output.display(),
            c.decapsulated,
            c.non_overlay,
            c.learn
        );
        let _ = writeln!(
            s,
            "golden model: every delivered frame, function and metadata identical"
        );
        let _ = writeln!(
            s,
            "\n| # | function | bytes | VNI | from VTEP | outer VLAN | inner IPv4 / L4 checksum | learn |\n|---|---|---|---|---|---|---|---|"
        );
        for (i, d) in self.delivered.iter().enumerate() {
            let m = &d.meta;
            let (vni, vtep, vlan) = if m.decapsulated {
                (
                    m.vni.to_string(),
                    m.src_vtep_ip.to_string(),
                    m.vlan.map_or("-".to_string(), |v| v.to_string()),
                )
            } else {
                ("-".into(), "(not overlay)".into(), "-".into())
            };
            let _ = writeln!(
                s,
                "| {i} | {} | {} | {vni} | {vtep} | {vlan} | {} / {} | {} |",
                d.function,
                d.data.len(),
                status(m.ip_checksum),
                status(m.l4_checksum),
                if m.learn { "yes" } else { "" }
            );
        }
        let _ = writeln!(s, "\n| drop reason | frames |\n|---|---|");
        for r in RxDrop::ALL {
            let _ = writeln!(s, "| {} | {} |", r.name(), c.drops(r));
        }
        let _ = writeln!(s, "| overflow | {} |", self.overflow);
        let dropped: Vec<String> = self
            .functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.drop_inner_checksum > 0)
            .map(|(i, f)| format!("{} {}", Function::from_index(i), f.drop_inner_checksum))
            .collect();
        if !dropped.is_empty() {
            let _ = writeln!(
                s,
                "VF copies dropped for a bad inner checksum: {}",
                dropped.join(", ")
            );
        }
        let _ = writeln!(s, "\nlearn events: {}", self.events.len());
        for e in &self.events {
            if let NicEvent::Learn {
                vni,
                mac,
                vtep_ip,
                vtep_mac,
            } = e
            {
                let _ = writeln!(
                    s,
                    "  learn: VNI {} MAC {mac} at VTEP {vtep_ip} ({vtep_mac})",
                    vni.get()
                );
            }
        }
        let _ = writeln!(
            s,
            "\n{} cycles simulated (programming, frames, read-back) in {:.2} s ({:.0} cycles/s)",
            self.cycles,
            self.wall.as_secs_f64(),
            self.cycles as f64 / self.wall.as_secs_f64().max(1e-9)
        );
        if let Some(v) = &args.events {
            let _ = writeln!(s, "events and counters: {}", v.display());
        }
        if let Some(v) = &args.vcd {
            let _ = writeln!(s, "waveform: {}", v.display());
        }
        s
    }
}
