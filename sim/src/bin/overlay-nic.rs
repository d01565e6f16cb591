//! The `overlay-nic` command: runs the NIC's simulations and exports its
//! hardware. `overlay-nic --help` lists the subcommands.

use clap::{Parser, Subcommand};
use overlay_nic_sim::blocks::exported_blocks;
use overlay_nic_sim::run::{run, RunConfig};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "overlay-nic",
    version,
    about = "VXLAN offload NIC: simulation, Verilog export, register map"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole system at work: three hosts with overlay NICs (HDL
    /// simulation) on two underlay subnets, two tenants with overlapping
    /// addresses, VMs on VFs and on the PF: ARP through multicast with
    /// learning, pings, a TSO transfer, a migration, isolation checks.
    /// Prints the timeline and a per-NIC summary; writes the wire traffic
    /// as a pcap.
    Demo {
        #[command(flatten)]
        world: WorldArgs,
    },
    /// Run a scenario file (see README, "Scenarios"); exits non-zero when
    /// an expectation fails, naming it.
    Sim {
        /// The scenario (TOML); examples/demo.toml is the demo's.
        #[arg(long)]
        scenario: PathBuf,
        #[command(flatten)]
        world: WorldArgs,
    },
    /// Stream a VXLAN capture through the NIC's datapath (HDL simulation):
    /// the driver programs the VTEP over the register bus, the golden model
    /// validates each frame, the HDL delivers the valid ones and drops the
    /// rest whole.
    Run {
        /// Capture to stream (Ethernet pcap, no FCS); default: the built-in
        /// Zeek VXLAN trace.
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// Write the delivered frames to this pcap.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Stream the datapath's waveform to this VCD file.
        #[arg(long)]
        vcd: Option<PathBuf>,
        /// The local VTEP's IPv4 address.
        #[arg(long, default_value = "192.168.56.12")]
        vtep_ip: std::net::Ipv4Addr,
        /// Seed of the random idle and back-pressure patterns.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Probability (0-0.99) of an idle input cycle.
        #[arg(long, default_value_t = 0.1, value_parser = probability)]
        idle: f64,
        /// Probability (0-0.99) of output back-pressure in a cycle.
        #[arg(long, default_value_t = 0.1, value_parser = probability)]
        backpressure: f64,
    },
    /// Run a pcap of inner (host) frames through the HDL TX path: the NIC is
    /// programmed from a TOML configuration through its registers, every
    /// frame enters on one host function, and the wire frames are written
    /// as a pcap. The golden model runs alongside and must agree byte for
    /// byte. Prints per-reason drop counts and miss events.
    Encap {
        /// NIC configuration (see examples/nic.toml).
        #[arg(long)]
        config: PathBuf,
        /// Inner frames (Ethernet pcap, no FCS).
        #[arg(long = "in")]
        input: PathBuf,
        /// Wire frames out (Ethernet pcap, no FCS).
        #[arg(long)]
        out: PathBuf,
        /// Host function the frames come from: pf, vf0, vf1, ...
        #[arg(long, default_value = "pf", value_parser = function)]
        function: overlay_nic_driver::tx::Function,
        /// PF only: tag each frame for encapsulation with this VNI (without
        /// it, PF frames go to the wire untouched).
        #[arg(long, value_parser = vni)]
        vni: Option<overlay_nic_driver::vxlan::Vni>,
        /// Stream the TX path's waveform to this VCD file.
        #[arg(long)]
        vcd: Option<PathBuf>,
        /// Seed of the random idle and back-pressure patterns.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Probability (0-0.99) of an idle host cycle.
        #[arg(long, default_value_t = 0.0, value_parser = probability)]
        idle: f64,
        /// Probability (0-0.99) of wire back-pressure in a cycle.
        #[arg(long, default_value_t = 0.0, value_parser = probability)]
        backpressure: f64,
        /// Request the L4 checksum (CHECKSUM_PARTIAL, set up as Linux does)
        /// on TCP and UDP over IPv4 frames.
        #[arg(long)]
        csum: bool,
        /// Request the IPv4 header checksum on frames with an IPv4 header.
        #[arg(long)]
        ip_csum: bool,
        /// Segment TCP/IPv4 frames (TSO) with this MSS (64 or more; smaller
        /// values are refused by the NIC and counted as offload_tso drops).
        #[arg(long, value_name = "MSS")]
        tso: Option<u16>,
    },
    /// Run a pcap of wire frames through the HDL RX path: the NIC is
    /// programmed from the same TOML configuration as `encap`; what the
    /// host functions receive is written, in arrival order, as a pcap of
    /// inner frames, and the summary gives each frame's function and
    /// metadata, the drops by reason and the learn events. The golden model
    /// runs alongside and must agree.
    Decap {
        /// NIC configuration (see examples/nic.toml, examples/vxlan-host12.toml).
        #[arg(long)]
        config: PathBuf,
        /// Wire frames (Ethernet pcap, no FCS).
        #[arg(long = "in")]
        input: PathBuf,
        /// Delivered frames, every function's, in arrival order (Ethernet pcap).
        #[arg(long)]
        out: PathBuf,
        /// Write learn events and counters here as JSON lines.
        #[arg(long)]
        events: Option<PathBuf>,
        /// Stream the NIC's waveform to this VCD file.
        #[arg(long)]
        vcd: Option<PathBuf>,
        /// Seed of the random idle and back-pressure patterns.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Probability (0-0.99) of an idle wire cycle.
        #[arg(long, default_value_t = 0.0, value_parser = probability)]
        idle: f64,
        /// Probability (0-0.99) that a host port refuses a beat.
        #[arg(long, default_value_t = 0.0, value_parser = probability)]
        backpressure: f64,
    },
    /// Measure line-rate efficiency, latency and simulation speed of the
    /// stream blocks; prints Markdown tables.
    Bench,
    /// Write the Verilog of every top-level block to DIR (one file each).
    Verilog {
        #[arg(long)]
        out: PathBuf,
        /// Also run each file through yosys synth_ice40 (printing its cell
        /// counts), iverilog -g2005 and verilator --lint-only.
        #[arg(long)]
        check: bool,
    },
    /// Synthesise, place and route a build of the NIC out of context
    /// (yosys + nextpnr) and print its area, Fmax and line rate.
    Synth {
        /// ice40-hx8k or ecp5-85k.
        #[arg(long, value_parser = target)]
        target: overlay_nic_sim::synth::Target,
        /// small, default or large.
        #[arg(long, default_value = "default", value_parser = profile)]
        build: overlay_nic_sim::synth::Profile,
        /// One block alone instead of the NIC (a name `overlay-nic verilog`
        /// writes, e.g. encapsulator), in its default-build parameters; `all`
        /// runs each block but the NIC and prints one row per block.
        #[arg(long, conflicts_with = "build")]
        block: Option<String>,
        /// Placement seed; give it several times for several runs.
        #[arg(long = "seed", default_value = "1")]
        seeds: Vec<u64>,
        /// The core clock's target in MHz.
        #[arg(long, default_value_t = 156.25)]
        freq: f64,
        /// Where the netlists, reports and logs go.
        #[arg(long, default_value = "target/synth")]
        out: PathBuf,
        /// Place without routing and report nextpnr's Fmax estimate (minutes
        /// instead of an hour for the whole NIC on the ECP5).
        #[arg(long)]
        place_only: bool,
    },
    /// Print the register-map document (Markdown), or write it to a file.
    Regmap {
        /// Write here instead of standard output (docs/registers.md is this).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Options of `demo` and `sim`.
#[derive(clap::Args)]
struct WorldArgs {
    /// The hosts' NIC: the cycle-accurate HDL, or the behavioural model.
    #[arg(long, default_value = "hdl", value_parser = backend)]
    backend: overlay_nic_sim::world::scenario::BackendKind,
    /// Write every frame the NICs put on the wire to this pcap (default:
    /// demo.pcap for the demo, the scenario's name with .pcap for sim).
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// Write a NIC's waveform to this VCD file (HDL back end).
    #[arg(long)]
    vcd: Option<PathBuf>,
    /// The host whose NIC --vcd records (default: the first).
    #[arg(long, value_name = "HOST")]
    vcd_host: Option<String>,
    /// Print only the summary, not the timeline.
    #[arg(long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { world } => simulate(
            overlay_nic_sim::world::DEMO_SCENARIO,
            PathBuf::from("demo.pcap"),
            world,
        ),
        Command::Sim { scenario, world } => match std::fs::read_to_string(&scenario) {
            Ok(text) => {
                let stem = scenario.file_stem().unwrap_or("scenario".as_ref());
                let pcap = PathBuf::from(stem).with_extension("pcap");
                simulate(&text, pcap, world)
            }
            Err(e) => Err(format!("{}: {e}", scenario.display()).into()),
        },
        Command::Regmap { out } => regmap(out),
        Command::Run {
            pcap,
            out,
            vcd,
            vtep_ip,
            seed,
            idle,
            backpressure,
        } => {
            let config = RunConfig {
                pcap,
                out,
                vcd,
                vtep_ip,
                seed,
                idle,
                backpressure,
            };
            run(&config)
                .map(|report| print!("{}", report.render(&config)))
                .map_err(Into::into)
        }
        Command::Encap {
            config,
            input,
            out,
            function,
            vni,
            vcd,
            seed,
            idle,
            backpressure,
            csum,
            ip_csum,
            tso,
        } => {
            let args = overlay_nic_sim::encap::EncapArgs {
                offload: overlay_nic_sim::encap::EncapOffload { csum, ip_csum, tso },
                config,
                input,
                output: out,
                function,
                vni,
                vcd,
                traffic: overlay_nic_sim::tx::Traffic {
                    seed,
                    idle,
                    backpressure,
                },
            };
            overlay_nic_sim::encap::encap(&args)
                .map(|report| print!("{}", report.render(&args)))
                .map_err(Into::into)
        }
        Command::Decap {
            config,
            input,
            out,
            events,
            vcd,
            seed,
            idle,
            backpressure,
        } => {
            let args = overlay_nic_sim::decap::DecapArgs {
                config,
                input,
                output: out,
                events,
                vcd,
                traffic: overlay_nic_sim::rx::RxTraffic {
                    seed,
                    idle,
                    backpressure,
                },
            };
            overlay_nic_sim::decap::decap(&args)
                .map(|report| print!("{}", report.render(&args)))
                .map_err(Into::into)
        }
        Command::Verilog { out, check } => verilog(&out, check),
        Command::Synth {
            target,
            build,
            block,
            seeds,
            freq,
            out,
            place_only,
        } => {
            let opts = overlay_nic_sim::synth::SynthOptions {
                target,
                design: block.map_or(
                    overlay_nic_sim::synth::Design::Nic(build),
                    overlay_nic_sim::synth::Design::Block,
                ),
                seeds,
                freq_mhz: freq,
                out,
                constraints: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../constraints")),
                place_only,
            };
            if opts.design == overlay_nic_sim::synth::Design::Block("all".into()) {
                overlay_nic_sim::synth::synth_blocks(&opts, |b| eprintln!("synth: {b}"))
                    .map(|t| print!("{t}"))
                    .map_err(Into::into)
            } else {
                overlay_nic_sim::synth::synth(&opts)
                    .map(|r| print!("{r}"))
                    .map_err(Into::into)
            }
        }
        Command::Bench => bench(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("overlay-nic: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn target(s: &str) -> std::result::Result<overlay_nic_sim::synth::Target, String> {
    s.parse()
}

fn profile(s: &str) -> std::result::Result<overlay_nic_sim::synth::Profile, String> {
    s.parse()
}

fn backend(s: &str) -> std::result::Result<overlay_nic_sim::world::scenario::BackendKind, String> {
    s.parse()
}

fn simulate(scenario: &str, default_pcap: PathBuf, args: WorldArgs) -> Result<()> {
    use overlay_nic_sim::world::{run, scenario::Scenario, RunOptions};
    let sc = Scenario::from_toml(scenario)?;
    let vcd = args.vcd.map(|path| {
        let host = args
            .vcd_host
            .clone()
            .unwrap_or_else(|| sc.hosts[0].name.clone());
        (host, path)
    });
    let pcap = args.pcap.unwrap_or(default_pcap);
    let opts = RunOptions {
        backend: args.backend,
        pcap: Some(pcap.clone()),
        vcd,
        progress: true,
        echo: !args.quiet,
    };
    println!("{}\n", sc.title);
    let outcome = run(&sc, &opts)?;
    println!("\n{outcome}");
    println!(
        "wire traffic: {} ({} frames)",
        pcap.display(),
        outcome.wire_frames
    );
    if outcome.passed() {
        Ok(())
    } else {
        let mut why: Vec<String> = outcome.failures.clone();
        if !outcome.violations.is_empty() {
            why.push(format!(
                "isolation: {} frames crossed tenants",
                outcome.violations.len()
            ));
        }
        Err(format!("expectation failed: {}", why.join("; ")).into())
    }
}

fn regmap(out: Option<PathBuf>) -> Result<()> {
    let doc = overlay_nic_regmap::document();
    match out {
        Some(path) => std::fs::write(&path, doc).map_err(|e| format!("{}: {e}", path.display()))?,
        None => print!("{doc}"),
    }
    Ok(())
}

fn function(s: &str) -> std::result::Result<overlay_nic_driver::tx::Function, String> {
    use overlay_nic_driver::tx::Function;
    let s = s.to_ascii_lowercase();
    if s == "pf" {
        return Ok(Function::Pf);
    }
    s.strip_prefix("vf")
        .and_then(|n| n.parse::<usize>().ok())
        .map(Function::Vf)
        .ok_or_else(|| format!("{s:?} is not a function: pf, vf0, vf1, ..."))
}

fn vni(s: &str) -> std::result::Result<overlay_nic_driver::vxlan::Vni, String> {
    let n: u32 = s.parse().map_err(|e| format!("{e}"))?;
    overlay_nic_driver::vxlan::Vni::new(n).map_err(|e| e.to_string())
}

fn probability(s: &str) -> std::result::Result<f64, String> {
    let p: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=0.99).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{p} is not a probability in 0..=0.99"))
    }
}

fn verilog(dir: &std::path::Path, check: bool) -> Result<()> {
    use overlay_nic_sim::rtl::tools::{
        iverilog_compile, verilator_lint, write_verilog, yosys_ice40,
    };
    if check {
        println!("| block | file | iCE40 cells | LUT4 | flip-flops | carries | RAM40_4K | iverilog | verilator |");
        println!("|---|---|---|---|---|---|---|---|---|");
    }
    for block in exported_blocks() {
        let path = write_verilog(dir, block.name, &block.verilog)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        if !check {
            println!("{:<40} {}", path.display(), block.what);
            continue;
        }
        let stats = yosys_ice40(&path)?;
        iverilog_compile(&path)?;
        verilator_lint(&path)?;
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | ok | ok |",
            block.name,
            path.display(),
            stats.total,
            stats.luts(),
            stats.flip_flops(),
            stats.carries(),
            stats.brams()
        );
    }
    Ok(())
}

fn bench() -> Result<()> {
    let rates = overlay_nic_sim::bench::line_rate_table()?;
    let speeds = overlay_nic_sim::bench::speed_table()?;
    print!("{}", overlay_nic_sim::bench::render(&rates, &speeds));
    let tx = overlay_nic_sim::bench::tx_line_rate_table()?;
    print!("\n{}", overlay_nic_sim::bench::render_tx(&tx));
    let offload = overlay_nic_sim::bench::tx_offload_table()?;
    print!("\n{}", overlay_nic_sim::bench::render_tx_offload(&offload));
    let rx = overlay_nic_sim::bench::rx_line_rate_table()?;
    print!("\n{}", overlay_nic_sim::bench::render_rx(&rx));
    Ok(())
}
