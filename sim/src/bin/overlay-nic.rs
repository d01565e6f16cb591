//! The `overlay-nic` command: runs the NIC's simulations and exports its
//! hardware. `overlay-nic --help` lists the subcommands.

use clap::{Parser, Subcommand};
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
    /// Print the register-map document (Markdown), or write it to a file.
    Regmap {
        /// Write here instead of standard output (docs/registers.md is this).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Regmap { out } => regmap(out),
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

fn regmap(out: Option<PathBuf>) -> Result<()> {
    let doc = overlay_nic_regmap::document();
    match out {
        Some(path) => std::fs::write(&path, doc).map_err(|e| format!("{}: {e}", path.display()))?,
        None => print!("{doc}"),
    }
    Ok(())
}
