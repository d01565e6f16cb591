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

/// TSO and checksum offload keep the wire busy too: TCP sends segmented at
/// every payload shift (MSS 64..=71: each segment's payload starts at a
/// different lane), at MSS 1448 with sends from 1 to 16,000 bytes, and
/// CHECKSUM_PARTIAL frames, back to back: the wire carries a beat in every
/// cycle from the first segment's first beat to the last one's last, with
/// no gap between segments or between sends.
#[test]
fn offloaded_frames_and_segments_are_at_line_rate() {
    let mut nic = NicSim::new(1).unwrap();
    nic.program(&bench_config(false)).unwrap();
    let cases = (64..=71u16)
        .map(|m| (700, Some(m)))
        .chain([1, 1447, 1448, 1449, 4000, 16_000].map(|p| (p, Some(1448))))
        .chain([6, 100, 1460, 8960].map(|p| (p, None)));
    for (payload, mss) in cases {
        let r = nic.offload_rate(payload, mss, 3).unwrap();
        assert_eq!(
            r.span_cycles, r.wire_beats,
            "payload {payload}, MSS {mss:?}: {} cycles for {} beats",
            r.span_cycles, r.wire_beats
        );
        let per_send = mss.map_or(1, |m| payload.div_ceil(usize::from(m)).max(1));
        assert_eq!(r.wire_frames, 3 * per_send);
    }
    assert_eq!(nic.sim().uut().ram_collisions(), 0);
}
