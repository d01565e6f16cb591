//! Rust simulation against exported Verilog, cycle by cycle.
//!
//! rust-hdl runs `#[hdl_gen]` code as Rust and translates it to Verilog
//! separately; where the semantics differ the two disagree silently (see
//! `../shared/RUSTHDL_NOTES.md`). [`Equivalence::run`] drives one instance
//! of a block in a [`DirectSim`] under a caller-supplied stimulus, records
//! every non-clock input and every output just before each rising edge,
//! exports a second fresh instance to Verilog, replays the recorded inputs
//! on it under iverilog with a generated testbench, and compares the two
//! output traces line by line.
//!
//! Both traces stream through files in a private temporary directory (one
//! text line per cycle, one hex field per port, as Verilog's `%h` prints
//! it), so memory stays bounded however long the run. The directory is
//! removed after a pass and kept after a failure, for inspection.

use super::tools::{failed, run_tool, write_verilog, ToolError};
use super::{Port, PortDir, Sampler};
use crate::direct::{ClockFn, DirectSim, SimError};
use rust_hdl::prelude::*;
use std::fmt::{self, Write as _};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Why an equivalence run failed.
#[derive(Debug, thiserror::Error)]
pub enum EquivalenceError {
    /// The Rust simulation failed (check error, no convergence, I/O).
    #[error("Rust simulation: {0}")]
    Sim(#[from] SimError),
    /// iverilog failed to compile, or vvp failed to run.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// Reading or writing a trace file failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The block has a port the harness cannot drive (e.g. `InOut`), or no
    /// clock.
    #[error("unsupported block: {0}")]
    Unsupported(String),
    /// Rust and Verilog disagree on an output.
    #[error(transparent)]
    Mismatch(Box<Mismatch>),
    /// `vvp` ran past the run's time limit and was stopped: almost always
    /// iverilog spinning forever in one time step on a combinational loop
    /// whose blocks keep waking each other with glitches.
    #[error(
        "vvp still running after {limit:?}: most likely a combinational loop that glitches \
         forever in one time step (docs/rust-hdl-notes.md: ports assigned twice in a kernel); \
         reached cycle {cycle} or later (files kept in {dir})",
        cycle = .lines_written,
        dir = .dir.display()
    )]
    Hung {
        /// The limit that was exceeded.
        limit: Duration,
        /// Output lines vvp had flushed when it was stopped (a lower bound
        /// on the cycle where it hung: vvp buffers its output).
        lines_written: u64,
        /// Directory holding the files.
        dir: PathBuf,
    },
    /// The Verilog trace is short or malformed.
    #[error("Verilog trace unusable at cycle {cycle}: {detail} (files kept in {dir})", dir = .dir.display())]
    Trace {
        /// Line where reading stopped.
        cycle: u64,
        /// What was wrong, with vvp's output.
        detail: String,
        /// Directory holding the files.
        dir: PathBuf,
    },
}

/// The first disagreement between the Rust and the Verilog traces.
#[derive(Clone, Debug, thiserror::Error)]
#[error(
    "Rust and Verilog disagree at cycle {cycle} on output `{port}`: Rust {rust}, Verilog {verilog} \
     (inputs that cycle: {inputs}; {mismatched_cycles} of {cycles} compared cycles differ; files kept in {dir})",
    inputs = format_inputs(.inputs),
    dir = .dir.display()
)]
pub struct Mismatch {
    /// First differing cycle (clock edges applied before it).
    pub cycle: u64,
    /// Verilog name of the first differing output in that cycle.
    pub port: String,
    /// Rust value, hex as `%h` prints it.
    pub rust: String,
    /// Verilog value, hex (may contain `x`/`z`).
    pub verilog: String,
    /// Every non-clock input `(name, hex)` applied in that cycle.
    pub inputs: Vec<(String, String)>,
    /// How many compared cycles had at least one difference.
    pub mismatched_cycles: u64,
    /// Cycles compared.
    pub cycles: u64,
    /// Directory holding `top.v`, `tb.v`, the input and both output traces.
    pub dir: PathBuf,
}

fn format_inputs(inputs: &[(String, String)]) -> String {
    let v: Vec<String> = inputs.iter().map(|(n, h)| format!("{n}=0x{h}")).collect();
    v.join(" ")
}

/// What a passing run measured.
#[derive(Clone, Debug)]
pub struct EquivalenceReport {
    /// Name the run was given.
    pub name: String,
    /// Cycles simulated and compared (including any ignored at the start).
    pub cycles: u64,
    /// Cycles compared (after `ignore_cycles_before`).
    pub compared_cycles: u64,
    /// Every port of the block.
    pub ports: Vec<Port>,
    /// Wall time of the Rust loop (stimulus, settle, sample, write, tick).
    pub rust_time: Duration,
    /// Wall time of `iverilog` compiling the design and testbench.
    pub iverilog_time: Duration,
    /// Wall time of `vvp` running the testbench.
    pub vvp_time: Duration,
}

impl EquivalenceReport {
    /// Rust simulation speed, in cycles per second.
    pub fn rust_cycles_per_sec(&self) -> f64 {
        self.cycles as f64 / self.rust_time.as_secs_f64().max(1e-9)
    }

    /// iverilog compile plus vvp run.
    pub fn verilog_time(&self) -> Duration {
        self.iverilog_time + self.vvp_time
    }
}

impl fmt::Display for EquivalenceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ins = self
            .ports
            .iter()
            .filter(|p| p.dir == PortDir::In && !p.is_clock)
            .count();
        let outs = self.ports.iter().filter(|p| p.dir == PortDir::Out).count();
        write!(
            f,
            "{}: {} cycles equal ({} compared), {} inputs / {} outputs; Rust {:.0} cycles/s ({:.2?}); \
             iverilog {:.2?} + vvp {:.2?} = {:.2?}",
            self.name,
            self.cycles,
            self.compared_cycles,
            ins,
            outs,
            self.rust_cycles_per_sec(),
            self.rust_time,
            self.iverilog_time,
            self.vvp_time,
            self.verilog_time()
        )
    }
}

/// One equivalence run's settings.
#[derive(Clone, Debug)]
pub struct Equivalence {
    /// Names the temporary directory and the report.
    pub name: String,
    /// Cycles to simulate.
    pub cycles: u64,
    /// Cycles at the start not compared: block RAM read data is `x` in
    /// Verilog until the first edge, where rust-hdl shows zero. Default 0.
    pub ignore_cycles_before: u64,
    /// Keep the temporary directory even after a pass. Default false.
    pub keep_files: bool,
    /// Longest `vvp` may run before it is stopped and the run fails with
    /// [`EquivalenceError::Hung`]. Default 20 minutes, far beyond any run
    /// here (the whole NIC's 20,000 cycles take about 90 s): it only turns
    /// a hang into an error that says what to look for.
    pub vvp_timeout: Duration,
}

impl Equivalence {
    /// `cycles` cycles, comparing every one, files removed after a pass.
    pub fn new(name: impl Into<String>, cycles: u64) -> Self {
        Equivalence {
            name: name.into(),
            cycles,
            ignore_cycles_before: 0,
            keep_files: false,
            vvp_timeout: Duration::from_secs(20 * 60),
        }
    }

    /// Skips comparing cycles before `cycle`.
    pub fn ignore_cycles_before(mut self, cycle: u64) -> Self {
        self.ignore_cycles_before = cycle;
        self
    }

    /// Sets the limit on `vvp`'s run time (see [`Equivalence::vvp_timeout`]).
    pub fn vvp_timeout(mut self, limit: Duration) -> Self {
        self.vvp_timeout = limit;
        self
    }

    /// Keeps the temporary directory after a pass.
    pub fn keep_files(mut self, keep: bool) -> Self {
        self.keep_files = keep;
        self
    }

    /// Runs `make()` in Rust under `stimulus` and a second `make()` as
    /// Verilog under the recorded inputs; returns timings if every compared
    /// output of every cycle is equal.
    ///
    /// `stimulus(uut, cycle)` sets the inputs of cycle `cycle` while the
    /// clock is low; it sees the outputs as they settled after the previous
    /// edge (with the previous inputs still applied).
    pub fn run<B: Block>(
        &self,
        make: impl Fn() -> B,
        clock: ClockFn<B>,
        mut stimulus: impl FnMut(&mut B, u64),
    ) -> Result<EquivalenceReport, EquivalenceError> {
        let dir = unique_dir(&self.name)?;
        let result = self.run_in(&dir, &make, clock, &mut stimulus);
        if result.is_ok() && !self.keep_files {
            let _ = std::fs::remove_dir_all(&dir);
        }
        result
    }

    fn run_in<B: Block>(
        &self,
        dir: &Path,
        make: &impl Fn() -> B,
        clock: ClockFn<B>,
        stimulus: &mut impl FnMut(&mut B, u64),
    ) -> Result<EquivalenceReport, EquivalenceError> {
        // The Verilog comes from a fresh instance, never the simulated one.
        let mut exported = make();
        exported.connect_all();
        let top = write_verilog(dir, "top", &generate_verilog(&exported))?;
        drop(exported);

        let mut sim = DirectSim::new(make(), clock)?;
        let mut sampler = Sampler::new(sim.uut_ref());
        let ports = sampler.ports().to_vec();
        if let Some(p) = ports.iter().find(|p| p.dir == PortDir::InOut) {
            return Err(EquivalenceError::Unsupported(format!(
                "inout port `{}`",
                p.name
            )));
        }
        let clocks: Vec<usize> = (0..ports.len()).filter(|&i| ports[i].is_clock).collect();
        if clocks.is_empty() {
            return Err(EquivalenceError::Unsupported("no clock input".into()));
        }
        let inputs: Vec<usize> = (0..ports.len())
            .filter(|&i| ports[i].dir == PortDir::In && !ports[i].is_clock)
            .collect();
        let outputs: Vec<usize> = (0..ports.len())
            .filter(|&i| ports[i].dir == PortDir::Out)
            .collect();

        let inputs_path = dir.join("inputs.hex");
        let expected_path = dir.join("expected.hex");
        let actual_path = dir.join("actual.hex");

        // ---- Rust ----
        let start = Instant::now();
        {
            let mut inp = BufWriter::new(File::create(&inputs_path)?);
            let mut exp = BufWriter::new(File::create(&expected_path)?);
            let mut line = String::new();
            for cycle in 0..self.cycles {
                stimulus(sim.uut(), cycle);
                sim.settle()?;
                sampler.sample(sim.uut_ref());
                line.clear();
                join_hex(&sampler, &inputs, &mut line);
                inp.write_all(line.as_bytes())?;
                line.clear();
                join_hex(&sampler, &outputs, &mut line);
                exp.write_all(line.as_bytes())?;
                sim.tick()?;
            }
            inp.flush()?;
            exp.flush()?;
        }
        sim.finish()?;
        let rust_time = start.elapsed();

        // ---- Verilog ----
        let tb_text = testbench(
            &ports,
            &clocks,
            &inputs,
            &outputs,
            self.cycles,
            &inputs_path,
            &actual_path,
        );
        let tb = write_verilog(dir, "tb", &tb_text)?;
        let vvp_file = dir.join("tb.vvp");
        let start = Instant::now();
        let out = run_tool(
            "iverilog",
            "iverilog",
            &[
                "-g2005".as_ref(),
                "-s".as_ref(),
                "tb".as_ref(),
                "-o".as_ref(),
                vvp_file.as_os_str(),
                top.as_os_str(),
                tb.as_os_str(),
            ],
            Some(dir),
        )?;
        if !out.status.success() {
            return Err(failed("iverilog", &tb, &out).into());
        }
        let iverilog_time = start.elapsed();
        let start = Instant::now();
        let out = run_vvp(dir, &vvp_file, &actual_path, self.vvp_timeout)?;
        let vvp_time = start.elapsed();
        let vvp_log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() || vvp_log.contains("EQUIV-ERROR") {
            return Err(failed("vvp", &vvp_file, &out).into());
        }

        // ---- Compare ----
        let compared = self.compare(
            dir,
            &ports,
            &inputs,
            &outputs,
            &inputs_path,
            &expected_path,
            &actual_path,
            &vvp_log,
        )?;
        Ok(EquivalenceReport {
            name: self.name.clone(),
            cycles: self.cycles,
            compared_cycles: compared,
            ports,
            rust_time,
            iverilog_time,
            vvp_time,
        })
    }

    /// Streams both output traces; returns the number of cycles compared.
    #[allow(clippy::too_many_arguments)]
    fn compare(
        &self,
        dir: &Path,
        ports: &[Port],
        inputs: &[usize],
        outputs: &[usize],
        inputs_path: &Path,
        expected_path: &Path,
        actual_path: &Path,
        vvp_log: &str,
    ) -> Result<u64, EquivalenceError> {
        let trace_err = |cycle: u64, detail: String| EquivalenceError::Trace {
            cycle,
            detail: format!("{detail}\nvvp output:\n{vvp_log}"),
            dir: dir.to_owned(),
        };
        let mut exp = BufReader::new(File::open(expected_path)?).lines();
        let mut act = BufReader::new(File::open(actual_path)?).lines();
        let mut first: Option<(u64, String, String, String)> = None;
        let mut mismatched = 0u64;
        let mut compared = 0u64;
        for cycle in 0..self.cycles {
            let e = exp
                .next()
                .ok_or_else(|| trace_err(cycle, "Rust trace ended early".into()))??;
            let a = act.next().ok_or_else(|| {
                trace_err(cycle, format!("Verilog trace has only {cycle} lines"))
            })??;
            if cycle < self.ignore_cycles_before {
                continue;
            }
            compared += 1;
            if e == a {
                continue;
            }
            let ev: Vec<&str> = e.split_whitespace().collect();
            let av: Vec<&str> = a.split_whitespace().collect();
            if av.len() != ev.len() {
                return Err(trace_err(
                    cycle,
                    format!("expected {} fields, got line `{a}`", ev.len()),
                ));
            }
            mismatched += 1;
            if first.is_none() {
                if let Some(k) = (0..ev.len()).find(|&k| ev[k] != av[k]) {
                    first = Some((
                        cycle,
                        ports[outputs[k]].name.clone(),
                        ev[k].to_owned(),
                        av[k].to_owned(),
                    ));
                }
            }
        }
        if act.next().is_some() {
            return Err(trace_err(
                self.cycles,
                "Verilog trace longer than the run".into(),
            ));
        }
        let Some((cycle, port, rust, verilog)) = first else {
            return Ok(compared);
        };
        // The inputs of the failing cycle, for the report.
        let line = BufReader::new(File::open(inputs_path)?)
            .lines()
            .nth(cycle as usize)
            .transpose()?
            .unwrap_or_default();
        let applied = inputs
            .iter()
            .zip(line.split_whitespace())
            .map(|(&i, h)| (ports[i].name.clone(), h.to_owned()))
            .collect();
        Err(EquivalenceError::Mismatch(Box::new(Mismatch {
            cycle,
            port,
            rust,
            verilog,
            inputs: applied,
            mismatched_cycles: mismatched,
            cycles: compared,
            dir: dir.to_owned(),
        })))
    }
}

/// Appends the chosen ports' hex values, space separated, and a newline.
fn join_hex(sampler: &Sampler, which: &[usize], line: &mut String) {
    for (n, &i) in which.iter().enumerate() {
        if n > 0 {
            line.push(' ');
        }
        sampler.write_hex(i, line);
    }
    line.push('\n');
}

/// `[w-1:0] ` for a vector, nothing for a bit.
fn range(width: usize) -> String {
    if width > 1 {
        format!("[{}:0] ", width - 1)
    } else {
        String::new()
    }
}

/// A Verilog string literal for a path.
fn vstring(path: &Path) -> String {
    let s = path.display().to_string();
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The testbench: clock low; per cycle read one input line, apply it, wait
/// 1, write the outputs, raise the clock for 1, lower it for 1.
///
/// Port names such as `s_axis$tdata` are legal plain Verilog identifiers
/// (`$` is allowed after the first character), so no escaping is needed.
fn testbench(
    ports: &[Port],
    clocks: &[usize],
    inputs: &[usize],
    outputs: &[usize],
    cycles: u64,
    inputs_path: &Path,
    actual_path: &Path,
) -> String {
    let mut v = String::new();
    let _ = writeln!(v, "// Generated by overlay-nic-sim rtl::equivalence.");
    let _ = writeln!(v, "module tb;");
    let _ = writeln!(v, "  reg clk;");
    for &i in inputs {
        let _ = writeln!(v, "  reg {}in_{i};", range(ports[i].width));
    }
    for &i in outputs {
        let _ = writeln!(v, "  wire {}out_{i};", range(ports[i].width));
    }
    let _ = writeln!(v, "  integer fin, fout, got, cycle;");
    let mut conns: Vec<String> = Vec::new();
    for &i in clocks {
        conns.push(format!("    .{}(clk)", ports[i].name));
    }
    for &i in inputs {
        conns.push(format!("    .{}(in_{i})", ports[i].name));
    }
    for &i in outputs {
        conns.push(format!("    .{}(out_{i})", ports[i].name));
    }
    let _ = writeln!(v, "  top dut (\n{}\n  );", conns.join(",\n"));
    let in_fmt = vec!["%h"; inputs.len()].join(" ");
    let in_args: Vec<String> = inputs.iter().map(|i| format!(", in_{i}")).collect();
    let out_fmt = vec!["%h"; outputs.len()].join(" ");
    let out_args: Vec<String> = outputs.iter().map(|i| format!(", out_{i}")).collect();
    let _ = writeln!(v, "  initial begin");
    let _ = writeln!(v, "    clk = 1'b0;");
    let _ = writeln!(v, "    fin = $fopen({}, \"r\");", vstring(inputs_path));
    let _ = writeln!(v, "    fout = $fopen({}, \"w\");", vstring(actual_path));
    let _ = writeln!(
        v,
        "    if (fin == 0 || fout == 0) begin $display(\"EQUIV-ERROR: cannot open trace files\"); $finish; end"
    );
    let _ = writeln!(
        v,
        "    for (cycle = 0; cycle < {cycles}; cycle = cycle + 1) begin"
    );
    if !inputs.is_empty() {
        let _ = writeln!(
            v,
            "      got = $fscanf(fin, \"{in_fmt}\\n\"{});",
            in_args.concat()
        );
        let _ = writeln!(
            v,
            "      if (got != {}) begin $display(\"EQUIV-ERROR: input line %0d: %0d fields\", cycle, got); $finish; end",
            inputs.len()
        );
    }
    let _ = writeln!(v, "      #1;");
    let _ = writeln!(
        v,
        "      $fwrite(fout, \"{out_fmt}\\n\"{});",
        out_args.concat()
    );
    let _ = writeln!(v, "      clk = 1'b1;");
    let _ = writeln!(v, "      #1;");
    let _ = writeln!(v, "      clk = 1'b0;");
    let _ = writeln!(v, "      #1;");
    let _ = writeln!(v, "    end");
    let _ = writeln!(v, "    $fclose(fout);");
    let _ = writeln!(v, "    $finish;");
    let _ = writeln!(v, "  end");
    let _ = writeln!(v, "endmodule");
    v
}

/// A new, empty directory private to this run (tests run in parallel, in
/// several processes).
/// Runs `vvp -n FILE` in `dir`, stopping it after `limit`. Its output goes
/// to files (a pipe nobody reads while waiting could fill and stall it).
fn run_vvp(
    dir: &Path,
    vvp_file: &Path,
    actual_path: &Path,
    limit: Duration,
) -> Result<std::process::Output, EquivalenceError> {
    let stdout_path = dir.join("vvp.stdout");
    let stderr_path = dir.join("vvp.stderr");
    let mut child = match std::process::Command::new("vvp")
        .arg("-n")
        .arg(vvp_file)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(File::create(&stdout_path)?)
        .stderr(File::create(&stderr_path)?)
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(ToolError::Missing {
                tool: "vvp",
                package: "iverilog",
            }
            .into())
        }
        Err(e) => return Err(e.into()),
    };
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let lines_written = std::fs::read(actual_path)
                .map(|b| b.iter().filter(|&&c| c == b'\n').count() as u64)
                .unwrap_or(0);
            return Err(EquivalenceError::Hung {
                limit,
                lines_written,
                dir: dir.to_owned(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(std::process::Output {
        status,
        stdout: std::fs::read(&stdout_path)?,
        stderr: std::fs::read(&stderr_path)?,
    })
}

fn unique_dir(name: &str) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let base = std::env::temp_dir();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = base.join(format!(
            "overlay-nic-rtl-{safe}-{}-{n}-{nanos}",
            std::process::id()
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two always blocks that wake each other in the same time step
    /// forever, the way glitching rust-hdl kernels do: vvp never finishes,
    /// and the run must end with `Hung` instead of hanging the test suite.
    #[test]
    fn a_vvp_that_never_finishes_is_stopped_and_reported() {
        let dir = unique_dir("vvp-hang").unwrap();
        let tb = dir.join("tb.v");
        std::fs::write(
            &tb,
            "module tb;\n  reg a, b;\n  always @(a) b = ~b;\n  always @(b) a = ~a;\n  \
             initial begin a = 0; b = 0; #1 a = 1; #1 $finish; end\nendmodule\n",
        )
        .unwrap();
        let vvp_file = dir.join("tb.vvp");
        let out = run_tool(
            "iverilog",
            "iverilog",
            &["-o".as_ref(), vvp_file.as_os_str(), tb.as_os_str()],
            Some(&dir),
        )
        .unwrap();
        assert!(out.status.success(), "{out:?}");
        let actual = dir.join("actual.hex");
        let err = run_vvp(&dir, &vvp_file, &actual, Duration::from_millis(500)).unwrap_err();
        assert!(
            matches!(
                err,
                EquivalenceError::Hung {
                    lines_written: 0,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("combinational loop"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
