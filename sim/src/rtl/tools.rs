//! Thin, typed wrappers around the external Verilog tools (yosys, iverilog,
//! Verilator) that every exported block must pass.
//!
//! rust-hdl's own `yosys_validate` calls only yosys and ignores latches and
//! lint warnings; these wrappers fail on anything the notes
//! (`../shared/RUSTHDL_NOTES.md`) call "ours to fix": a yosys error, an
//! inferred latch, an iverilog compile error, or any Verilator warning other
//! than the two waivers rust-hdl output needs (`WIDTH`, `UNOPTFLAT`).

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Why a tool run did not pass.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The tool is not installed (or not on `PATH`).
    #[error("`{tool}` not found on PATH: install the Debian package `{package}` (apt-get install {package})")]
    Missing {
        /// Executable that could not be started.
        tool: &'static str,
        /// Debian/Ubuntu package that provides it.
        package: &'static str,
    },
    /// The tool ran and reported failure.
    #[error("{tool} failed on {path} ({status}):\n{stderr}")]
    Failed {
        /// Executable that failed.
        tool: &'static str,
        /// File it was checking.
        path: PathBuf,
        /// Exit status as text.
        status: String,
        /// Its diagnostics (stderr, or the relevant part of its log).
        stderr: String,
    },
    /// yosys inferred latches: an `Out`/`Local` not assigned on every path.
    #[error("yosys inferred latch(es) in {path}:\n{details}")]
    Latch {
        /// File that was synthesized.
        path: PathBuf,
        /// The offending log lines and/or latch cells.
        details: String,
    },
    /// Verilator passed but printed warnings beyond the allowed waivers.
    #[error("verilator lint warnings in {path}:\n{stderr}")]
    LintWarnings {
        /// File that was linted.
        path: PathBuf,
        /// Verilator's output.
        stderr: String,
    },
    /// iverilog compiled the file but printed warnings (port width
    /// mismatches, pruned bits): the Verilog may not mean what the Rust
    /// simulation does, so any warning fails the check.
    #[error("iverilog warnings in {path}:\n{stderr}")]
    CompileWarnings {
        /// File that was compiled.
        path: PathBuf,
        /// iverilog's output.
        stderr: String,
    },
    /// yosys succeeded but its log had no `stat` cell block to parse.
    #[error("could not find a cell count in yosys' stat output for {path}")]
    NoStats {
        /// File that was synthesized.
        path: PathBuf,
    },
    /// Reading or writing a file, or starting a process, failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

/// Writes `text` to `dir/name.v` (creating `dir` if needed) and returns the
/// file's path, ready for the tool wrappers below.
pub fn write_verilog(dir: &Path, name: &str, text: &str) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{name}.v"));
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Runs `tool` with `args`, mapping a missing executable to
/// [`ToolError::Missing`] naming the package that provides it.
pub(crate) fn run_tool(
    tool: &'static str,
    package: &'static str,
    args: &[&std::ffi::OsStr],
    cwd: Option<&Path>,
) -> Result<Output, ToolError> {
    let mut cmd = Command::new(tool);
    cmd.args(args);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    match cmd.output() {
        Ok(out) => Ok(out),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ToolError::Missing { tool, package }),
        Err(e) => Err(ToolError::Io(e)),
    }
}

/// Builds a [`ToolError::Failed`] from a finished process.
pub(crate) fn failed(tool: &'static str, path: &Path, out: &Output) -> ToolError {
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if stderr.trim().is_empty() {
        // yosys and vvp report errors on stdout.
        stderr = tail(&String::from_utf8_lossy(&out.stdout), 60);
    }
    ToolError::Failed {
        tool,
        path: path.to_owned(),
        status: out.status.to_string(),
        stderr,
    }
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Cell counts from yosys' final `stat` after `synth_ice40`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CellStats {
    /// `Number of cells:` of the final (flattened) design.
    pub total: usize,
    /// Count per cell type (`SB_LUT4`, `SB_DFFE`, `SB_CARRY`, `SB_RAM40_4K`, ...).
    pub by_type: BTreeMap<String, usize>,
}

impl CellStats {
    /// Count of one cell type (0 if absent).
    pub fn count(&self, cell: &str) -> usize {
        self.by_type.get(cell).copied().unwrap_or(0)
    }

    /// Sum over cell types whose name starts with `prefix`.
    pub fn count_prefix(&self, prefix: &str) -> usize {
        self.by_type
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
            .sum()
    }

    /// 4-input LUTs (`SB_LUT4`).
    pub fn luts(&self) -> usize {
        self.count("SB_LUT4")
    }

    /// Flip-flops of every flavour (`SB_DFF`, `SB_DFFE`, `SB_DFFSR`, ...).
    pub fn flip_flops(&self) -> usize {
        self.count_prefix("SB_DFF")
    }

    /// Carry cells (`SB_CARRY`).
    pub fn carries(&self) -> usize {
        self.count("SB_CARRY")
    }

    /// 4 kbit block RAMs (`SB_RAM40_4K` and its `NR`/`NW`/`NRNW` variants).
    pub fn brams(&self) -> usize {
        self.count_prefix("SB_RAM40_4K")
    }

    /// Parses the last cell table in a yosys log (the `stat` after synthesis).
    pub fn parse(log: &str) -> Option<CellStats> {
        let lines: Vec<&str> = log.lines().collect();
        let start = lines
            .iter()
            .rposition(|l| l.trim_start().starts_with("Number of cells:"))?;
        let total = lines[start].split(':').nth(1)?.trim().parse().ok()?;
        let mut by_type = BTreeMap::new();
        for line in &lines[start + 1..] {
            let mut it = line.split_whitespace();
            let (Some(cell), Some(count), None) = (it.next(), it.next(), it.next()) else {
                break;
            };
            let Ok(count) = count.parse::<usize>() else {
                break;
            };
            by_type.insert(cell.to_owned(), count);
        }
        Some(CellStats { total, by_type })
    }
}

impl fmt::Display for CellStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} cells: {} LUT4, {} FF, {} carry, {} BRAM",
            self.total,
            self.luts(),
            self.flip_flops(),
            self.carries(),
            self.brams()
        )?;
        let detail: Vec<String> = self
            .by_type
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        write!(f, " [{}]", detail.join(" "))
    }
}

/// True for a cell type that is a latch (generic yosys or a vendor one).
fn is_latch_cell(cell: &str) -> bool {
    let c = cell.to_ascii_uppercase();
    c.contains("LATCH") || c.starts_with("$_SR_") || c == "$SR"
}

/// Synthesizes `path` for iCE40 with top module `top` and returns the final
/// cell statistics. Fails if yosys reports an error or infers any latch.
pub fn yosys_ice40(path: &Path) -> Result<CellStats, ToolError> {
    let script = format!(
        "read_verilog {}; synth_ice40 -top top; stat",
        path.display()
    );
    let out = run_tool("yosys", "yosys", &["-p".as_ref(), script.as_ref()], None)?;
    if !out.status.success() {
        return Err(failed("yosys", path, &out));
    }
    let log = String::from_utf8_lossy(&out.stdout);
    let mut latches: Vec<String> = log
        .lines()
        .filter(|l| l.contains("Latch inferred for signal") && !l.contains("No latch inferred"))
        .map(str::to_owned)
        .collect();
    let stats = CellStats::parse(&log).ok_or_else(|| ToolError::NoStats {
        path: path.to_owned(),
    })?;
    latches.extend(
        stats
            .by_type
            .iter()
            .filter(|(k, _)| is_latch_cell(k))
            .map(|(k, v)| format!("{v} x {k}")),
    );
    if !latches.is_empty() {
        return Err(ToolError::Latch {
            path: path.to_owned(),
            details: latches.join("\n"),
        });
    }
    Ok(stats)
}

/// Compiles `path` with `iverilog -g2005` (output discarded); any error fails.
pub fn iverilog_compile(path: &Path) -> Result<(), ToolError> {
    let out = run_tool(
        "iverilog",
        "iverilog",
        &[
            "-g2005".as_ref(),
            "-o".as_ref(),
            "/dev/null".as_ref(),
            path.as_os_str(),
        ],
        None,
    )?;
    if !out.status.success() {
        return Err(failed("iverilog", path, &out));
    }
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !stderr.trim().is_empty() {
        return Err(ToolError::CompileWarnings {
            path: path.to_owned(),
            stderr,
        });
    }
    Ok(())
}

/// Lints `path` with Verilator (top module `top`), allowing only the
/// `WIDTH` and `UNOPTFLAT` waivers rust-hdl output needs: fails on an
/// error or on any other warning.
pub fn verilator_lint(path: &Path) -> Result<(), ToolError> {
    let out = run_tool(
        "verilator",
        "verilator",
        &[
            "--lint-only".as_ref(),
            "-Wno-WIDTH".as_ref(),
            "-Wno-UNOPTFLAT".as_ref(),
            "--top-module".as_ref(),
            "top".as_ref(),
            path.as_os_str(),
        ],
        None,
    )?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(failed("verilator", path, &out));
    }
    if stderr.contains("%Warning") {
        return Err(ToolError::LintWarnings {
            path: path.to_owned(),
            stderr,
        });
    }
    Ok(())
}
