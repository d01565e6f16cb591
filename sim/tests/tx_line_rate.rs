//! The TX path's headline: with the host always offering and the wire
//! always ready, back-to-back frames leave with no idle cycle between or
//! within them, ceil((len + 50) / 8) cycles each (54 with the outer VLAN
//! tag), from 60 bytes to the largest frame the build accepts. Passthrough
//! frames (which still make their lookup) do the same, which shows the
//! mapping table keeps up with one lookup per minimum-size frame.

use overlay_nic_regmap::Build;
use overlay_nic_sim::tx::{bench_config, NicSim};

fn sweep(vlan: bool, encap: bool, sizes: impl Iterator<Item = usize>) {
    let mut nic = NicSim::new(1).unwrap();
    nic.program(&bench_config(vlan)).unwrap();
    for len in sizes {
        let frames = (40_000 / len).clamp(3, 8);
        let r = nic.line_rate(len, frames, encap).unwrap();
        assert_eq!(
            r.span_cycles, r.ideal_cycles,
            "{len}-byte frames (vlan {vlan}, encap {encap}): {} cycles for {} beats",
            r.span_cycles, r.ideal_cycles
        );
    }
    assert_eq!(nic.sim().uut().ram_collisions(), 0);
}

#[test]
fn every_small_size_is_at_line_rate() {
    sweep(false, true, 60..=200);
}

#[test]
fn sizes_up_to_the_largest_frame_are_at_line_rate() {
    // The largest untagged frame: its L3 length is the largest MTU a
    // configuration may give (MAX_FRAME - 18, room for an inner 802.1Q tag).
    let max = Build::DEFAULT.max_frame - 4;
    sweep(
        false,
        true,
        (201..max).step_by(797).chain([1500, 9000, max]),
    );
}

#[test]
fn outer_vlan_frames_are_at_line_rate() {
    sweep(true, true, (60..=80).chain([128, 512, 1500, 9000]));
}

#[test]
fn passthrough_frames_with_lookups_are_at_line_rate() {
    sweep(false, false, (60..=72).chain([128, 1500]));
}
