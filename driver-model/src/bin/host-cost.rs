//! `host-cost`: times the host's work per packet to send a VM's frame into
//! the VXLAN overlay, with the NIC's offload (tag only) and without
//! (lookup, flow hash, inner TCP checksum, encapsulation in software); see
//! `overlay_nic_driver::host_cost` and `docs/host-cost.md`.
//!
//! For each frame size and path it builds the setup, sends [`WARMUP`]
//! packets untimed, then times `--packets` packets with
//! [`std::time::Instant`], `--repeat` times, and reports the fastest run
//! (the one least disturbed by other work on the machine) and the median.
//! Only the timed loops scale with `--packets`, so `scripts/host-cost.sh`
//! can take instructions per packet from two callgrind runs (`--packets 0`
//! and `--packets N`, `--repeat 1`).

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use overlay_nic_driver::host_cost::{
    offload_path, software_path, HostCostError, HostCostSetup, VmFrame, FRAME_SIZES, MIN_FRAME,
};
use overlay_nic_driver::nic_config::MacAddr;
use serde_json::json;

/// Packets sent untimed before each timed loop, whatever `--packets` is.
const WARMUP: u64 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum PathArg {
    /// Tag only: the NIC encapsulates.
    Offload,
    /// The VTEP in software.
    Software,
    /// Both, and their ratio.
    Both,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A Markdown table.
    Table,
    /// JSON: an array with one record per line.
    Json,
}

/// Host cost per packet of sending into a VXLAN overlay, with the NIC's
/// offload and without.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Packets timed per path and size (after 1000 untimed warm-up packets).
    #[arg(long, default_value_t = 100_000)]
    packets: u64,
    /// Timed runs per path and size; the fastest and the median are
    /// reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Inner frame size in bytes (TCP/IPv4, whole Ethernet frame without
    /// FCS), 54 to 16380; repeat for several. Default: 64, 512, 1500 and
    /// 9000.
    #[arg(long = "size", value_name = "BYTES",
          value_parser = clap::value_parser!(u64).range(MIN_FRAME as u64..=MAX_SIZE))]
    sizes: Vec<u64>,
    /// Which path to time.
    #[arg(long, value_enum, default_value_t = PathArg::Both)]
    path: PathArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also time the mapping-table lookup alone, as a HashMap (what the
    /// software path uses) and as `NicConfig::lookup` (a linear scan).
    #[arg(long)]
    compare_lookup: bool,
}

/// The longest frame a setup for the default build takes
/// (`host_cost::max_frame_len`: the PF's MTU plus 14).
const MAX_SIZE: u64 = 16380;

/// One path at one size: each run timed `packets` packets of `size` bytes.
struct Row {
    size: usize,
    path: &'static str,
    packets: u64,
    runs: Vec<Duration>,
}

impl Row {
    /// ns/packet of each run, fastest first (empty for 0 packets).
    fn per_packet(&self) -> Vec<f64> {
        if self.packets == 0 {
            return Vec::new();
        }
        let mut ns: Vec<f64> = self
            .runs
            .iter()
            .map(|d| d.as_nanos() as f64 / self.packets as f64)
            .collect();
        ns.sort_by(f64::total_cmp);
        ns
    }

    /// ns/packet of the fastest run.
    fn best(&self) -> Option<f64> {
        self.per_packet().first().copied()
    }

    /// ns/packet of the median run (the faster of the two middle ones).
    fn median(&self) -> Option<f64> {
        let ns = self.per_packet();
        ns.get(ns.len().saturating_sub(1) / 2).copied()
    }
}

/// Runs `run(packets)` `repeat` times after `run(WARMUP)`, timing each.
fn timed<E>(
    packets: u64,
    repeat: u32,
    mut run: impl FnMut(u64) -> Result<(), E>,
) -> Result<Vec<Duration>, E> {
    run(WARMUP)?;
    (0..repeat)
        .map(|_| {
            let start = Instant::now();
            run(packets)?;
            Ok(start.elapsed())
        })
        .collect()
}

/// Sends `count` packets round robin over `frames` through the offload
/// path, moving each buffer back into its slot (no copy, no allocation).
fn run_offload(setup: &HostCostSetup, frames: &mut [VmFrame], count: u64) {
    let mut j = 0;
    for _ in 0..count {
        let slot = &mut frames[j];
        let frame = VmFrame {
            vni: slot.vni,
            data: std::mem::take(&mut slot.data),
            csum: slot.csum,
        };
        let host = black_box(offload_path(setup, black_box(frame)));
        slot.data = host.data;
        j += 1;
        if j == frames.len() {
            j = 0;
        }
    }
}

/// Sends `count` packets round robin over the setup's frames through the
/// software path, dropping each wire frame.
fn run_software(setup: &HostCostSetup, count: u64) -> Result<(), HostCostError> {
    let frames = setup.frames();
    let mut j = 0;
    for _ in 0..count {
        black_box(software_path(setup, black_box(&frames[j]))?);
        j += 1;
        if j == frames.len() {
            j = 0;
        }
    }
    Ok(())
}

fn time_offload(
    setup: &HostCostSetup,
    packets: u64,
    repeat: u32,
) -> Result<Vec<Duration>, HostCostError> {
    let mut frames = setup.frames().to_vec();
    timed(packets, repeat, |n| {
        run_offload(setup, &mut frames, n);
        Ok(())
    })
}

fn time_software(
    setup: &HostCostSetup,
    packets: u64,
    repeat: u32,
) -> Result<Vec<Duration>, HostCostError> {
    timed(packets, repeat, |n| run_software(setup, n))
}

/// Times the mapping-table lookup of the setup's frames' keys, as a HashMap
/// and as `NicConfig::lookup`; a miss is an error.
fn time_lookups(
    setup: &HostCostSetup,
    packets: u64,
    repeat: u32,
) -> Result<[Vec<Duration>; 2], HostCostError> {
    let keys = setup
        .frames()
        .iter()
        .map(|f| {
            let mut mac = [0; 6];
            mac.copy_from_slice(
                f.data
                    .get(..6)
                    .ok_or(HostCostError::Runt { len: f.data.len() })?,
            );
            Ok((f.vni, MacAddr(mac)))
        })
        .collect::<Result<Vec<_>, HostCostError>>()?;
    let miss = |(vni, mac)| HostCostError::Miss { vni, mac };
    let hashmap = |count: u64| -> Result<(), HostCostError> {
        for i in 0..count {
            let key = black_box(keys[(i as usize) & (keys.len() - 1)]);
            black_box(setup.table().get(&key).ok_or(miss(key))?);
        }
        Ok(())
    };
    let linear = |count: u64| -> Result<(), HostCostError> {
        for i in 0..count {
            let (vni, mac) = black_box(keys[(i as usize) & (keys.len() - 1)]);
            black_box(setup.config().lookup(vni, mac).ok_or(miss((vni, mac)))?);
        }
        Ok(())
    };
    Ok([
        timed(packets, repeat, hashmap)?,
        timed(packets, repeat, linear)?,
    ])
}

fn measure(args: &Args) -> Result<Vec<Row>, HostCostError> {
    let sizes: Vec<usize> = if args.sizes.is_empty() {
        FRAME_SIZES.to_vec()
    } else {
        args.sizes.iter().map(|&s| s as usize).collect()
    };
    let mut rows = Vec::new();
    for size in sizes {
        let setup = HostCostSetup::new(size)?;
        let row = |path, runs| Row {
            size,
            path,
            packets: args.packets,
            runs,
        };
        if args.path != PathArg::Software {
            rows.push(row(
                "offload",
                time_offload(&setup, args.packets, args.repeat)?,
            ));
        }
        if args.path != PathArg::Offload {
            rows.push(row(
                "software",
                time_software(&setup, args.packets, args.repeat)?,
            ));
        }
        if args.compare_lookup {
            let [h, l] = time_lookups(&setup, args.packets, args.repeat)?;
            rows.push(row("lookup-hashmap", h));
            rows.push(row("lookup-linear", l));
        }
    }
    Ok(rows)
}

/// "best (median)" ns/packet of `row`, or "-".
fn cell(row: Option<&Row>) -> String {
    match row.map(|r| (r.best(), r.median())) {
        Some((Some(best), Some(median))) => format!("{best:.1} ({median:.1})"),
        _ => "-".to_owned(),
    }
}

fn print_table(args: &Args, rows: &[Row]) {
    println!(
        "host cost per packet: {} timed packets per path and size, {} runs after {WARMUP} warm-up \
         packets; ns/packet of the fastest run (median run)",
        args.packets, args.repeat
    );
    println!();
    let mut sizes: Vec<usize> = rows.iter().map(|r| r.size).collect();
    sizes.dedup();
    let find = |size, path| rows.iter().find(|r| r.size == size && r.path == path);
    println!(
        "| inner bytes | offload ns/packet | software ns/packet | software / offload (fastest) |"
    );
    println!("|---|---|---|---|");
    for &size in &sizes {
        let (o, s) = (find(size, "offload"), find(size, "software"));
        let ratio = match (o.and_then(Row::best), s.and_then(Row::best)) {
            (Some(o), Some(s)) if o > 0.0 => format!("{:.0}x", s / o),
            _ => "-".to_owned(),
        };
        println!("| {size} | {} | {} | {ratio} |", cell(o), cell(s));
    }
    if args.compare_lookup {
        println!();
        println!("| inner bytes | HashMap lookup ns | NicConfig::lookup ns |");
        println!("|---|---|---|");
        for &size in &sizes {
            println!(
                "| {size} | {} | {} |",
                cell(find(size, "lookup-hashmap")),
                cell(find(size, "lookup-linear"))
            );
        }
    }
}

/// One record per line: `ns_per_packet` is the fastest run's.
fn print_json(rows: &[Row]) {
    let lines: Vec<String> = rows
        .iter()
        .map(|r| {
            json!({
                "size": r.size,
                "path": r.path,
                "packets": r.packets,
                "warmup": WARMUP,
                "runs_ns": r.runs.iter().map(|d| d.as_nanos() as u64).collect::<Vec<_>>(),
                "ns_per_packet": r.best(),
                "median_ns_per_packet": r.median(),
            })
            .to_string()
        })
        .collect();
    println!("[\n{}\n]", lines.join(",\n"));
}

fn main() -> ExitCode {
    let args = Args::parse();
    match measure(&args) {
        Ok(rows) => {
            match args.format {
                Format::Table => print_table(&args, &rows),
                Format::Json => print_json(&rows),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("host-cost: {e}");
            ExitCode::FAILURE
        }
    }
}
