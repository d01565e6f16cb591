//! The RX path's headline: back-to-back wire frames, a beat every cycle,
//! are all taken (the wire is never back-pressured) and, with the hosts
//! reading, every one is delivered: no overflow, no loss, whatever the
//! size, decapsulated, replicated or passed through.

use overlay_nic_sim::rx::{rx_bench_config, RxBenchKind};
use overlay_nic_sim::tx::NicSim;

fn sweep(kind: RxBenchKind, sizes: impl Iterator<Item = usize>) {
    let mut nic = NicSim::new(1).unwrap();
    nic.program(&rx_bench_config(kind == RxBenchKind::UnicastVlan))
        .unwrap();
    let copies = if kind == RxBenchKind::Multicast { 2 } else { 1 };
    for len in sizes {
        let frames = (40_000 / len).clamp(3, 12);
        let r = nic.rx_line_rate(kind, len, frames).unwrap();
        assert_eq!(r.wire_cycles, r.wire_beats, "{kind:?} {len}: wire gaps");
        assert_eq!(r.delivered, frames * copies, "{kind:?} {len}: {r:?}");
        assert_eq!(r.overflow, 0, "{kind:?} {len}");
    }
    assert_eq!(nic.sim().uut().ram_collisions(), 0);
}

#[test]
fn every_small_size_is_delivered_at_line_rate() {
    sweep(RxBenchKind::Unicast, 14..=200);
}

#[test]
fn large_frames_are_delivered_at_line_rate() {
    sweep(
        RxBenchKind::Unicast,
        (201..9000).step_by(997).chain([1500, 9000]),
    );
}

#[test]
fn vlan_multicast_and_non_overlay_frames_are_delivered_at_line_rate() {
    sweep(RxBenchKind::UnicastVlan, (14..=40).chain([128, 1500]));
    sweep(RxBenchKind::Multicast, (14..=40).chain([128, 1500]));
    sweep(RxBenchKind::NonOverlay, (60..=80).chain([128, 1500]));
}
