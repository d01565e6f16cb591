//! The synthesis flow end to end on a small design (the NIC takes minutes
//! per run; `overlay-nic synth` is for that): the wrapper, yosys
//! `synth_ice40` / `synth_ecp5`, nextpnr-ice40 / nextpnr-ecp5 with the
//! boards' constraints, the report. scripts/test-all.sh installs the tools.

use overlay_nic_sim::synth::{place_and_route, route, synthesize, Ports, Target};
use std::path::Path;

/// A 64-bit accumulator with a registered output: a carry chain worth
/// timing, and every input and output used.
const ACCUMULATOR: &str = "module top(clock,a,en,sum);
    input wire  clock;
    input wire  [63:0] a;
    input wire  en;
    output reg  [63:0] sum;
    always @(posedge clock) if (en) sum <= sum + a;
endmodule
";

#[test]
fn a_small_design_goes_through_yosys_and_nextpnr_ice40() {
    through_the_flow(Target::Ice40Hx8k, (7680, 32));
}

#[test]
fn a_small_design_goes_through_yosys_and_nextpnr_ecp5() {
    through_the_flow(Target::Ecp5_85k, (83640, 208));
}

/// The accumulator through `target`'s flow; `capacity` is the device's
/// (logic cells, block RAMs).
fn through_the_flow(target: Target, capacity: (u64, u64)) {
    let dir = std::env::temp_dir().join(format!(
        "overlay-nic-synth-{}-{}",
        target,
        std::process::id()
    ));
    let constraints = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../constraints"))
        .join(target.constraints());
    let r = place_and_route(ACCUMULATOR, target, &constraints, 156.25, 1, &dir)
        .expect("the flow runs (scripts/test-all.sh installs yosys and both nextpnrs)");
    println!("{r:?}");
    let ports = Ports::of_top(ACCUMULATOR).unwrap();
    // The core's 64 flip-flops, the wrapper's 65 + 2 x 64: nothing optimised away.
    assert!(r.flip_flops >= 64 + 65 + 128, "{} flip-flops", r.flip_flops);
    assert_eq!(ports.input_bits(), 65);
    assert!(r.logic.0 > 64 && r.logic.1 == capacity.0, "{:?}", r.logic);
    assert_eq!(r.brams, (0, capacity.1));
    assert!(
        r.fmax_mhz > 20.0 && r.fmax_mhz < 1000.0,
        "{} MHz",
        r.fmax_mhz
    );
    assert_eq!(r.constraint_mhz, 156.25);
    assert!(r.routed);
    let c = r
        .critical
        .as_ref()
        .expect("a routed run names its critical path");
    assert!(c.logic_levels >= 1 && c.delay_ns > 0.0, "{c}");

    // The same inputs again: yosys is not run again; placement alone gives
    // an estimate and no critical path.
    let log = dir.join("yosys.log");
    let before = std::fs::metadata(&log).unwrap().modified().unwrap();
    let netlist = synthesize(ACCUMULATOR, target, &dir).unwrap();
    assert_eq!(std::fs::metadata(&log).unwrap().modified().unwrap(), before);
    let placed = route(
        &netlist,
        target,
        &constraints,
        156.25,
        1,
        true,
        &dir.join("placed"),
    )
    .unwrap();
    assert!(!placed.routed && placed.critical.is_none());
    assert!(placed.fmax_mhz > 20.0, "{} MHz", placed.fmax_mhz);
    assert_eq!(placed.logic, r.logic);
    std::fs::remove_dir_all(&dir).ok();
}
