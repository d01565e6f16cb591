//! VCD output streams to its file as the simulation runs.

use overlay_nic_hdl::SkidBuffer;
use overlay_nic_sim::frames::{run_stream, Frame, StreamDriver, StreamMonitor};
use overlay_nic_sim::DirectSim;
use rust_hdl::prelude::*;

#[test]
fn vcd_is_written_while_the_simulation_runs() {
    let path = std::env::temp_dir().join(format!("overlay-nic-vcd-{}.vcd", std::process::id()));
    let mut sim = DirectSim::new(SkidBuffer::<Bits<8>>::default(), |u| &mut u.clock).unwrap();
    sim.trace_to(&path).unwrap();
    let mut driver = StreamDriver::new(3, 0.2);
    let mut monitor = StreamMonitor::new(4, 0.2);
    for i in 0..40 {
        driver
            .push(Frame::new(vec![i; 300], (i as u64).to_bits()))
            .unwrap();
    }
    run_stream(
        &mut sim,
        |u| &mut u.s_axis,
        |u| &mut u.m_axis,
        &mut driver,
        &mut monitor,
        40,
        100_000,
    )
    .unwrap();
    // Most of the trace is on disk before the run ends: it is not held in memory.
    let during = std::fs::metadata(&path).unwrap().len();
    let cycles = sim.cycle();
    sim.finish().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(
        during as f64 > 0.8 * text.len() as f64,
        "{during} of {} bytes on disk before finish",
        text.len()
    );
    assert!(text.contains("$enddefinitions"));
    assert!(text.contains("tdata"), "ports are named in the trace");
    let stamps = text.lines().filter(|l| l.starts_with('#')).count() as u64;
    assert!(stamps >= cycles, "{stamps} timestamps for {cycles} cycles");
}
