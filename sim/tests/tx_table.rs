//! The mapping table, VNI records and event queue as the host sees them
//! through the register slave of the TX path, and table changes taking
//! effect on the wire.

use overlay_nic_driver::nic_config::MacAddr;
use overlay_nic_driver::tx::{Function, NicEvent};
use overlay_nic_driver::vxlan::{decapsulate, DecapConfig, Vni};
use overlay_nic_regmap::pf::{self, cmd, result};
use overlay_nic_sim::tx::{
    bench_config, bench_frame, HostFrame, NicSim, NicSimError, Traffic, BENCH_DST,
};
use std::net::Ipv4Addr;

fn vni() -> Vni {
    Vni::new(5001).unwrap()
}

fn mac(i: u32) -> MacAddr {
    let b = i.to_be_bytes();
    MacAddr([2, 0x33, b[0], b[1], b[2], b[3]])
}

fn send_one(nic: &mut NicSim, dst: MacAddr) -> Vec<u8> {
    let mut data = bench_frame(100, 0);
    data[..6].copy_from_slice(&dst.0);
    let run = nic
        .run(
            &[HostFrame {
                function: Function::Pf,
                data,
                tag: Some(vni()),
                offload: Default::default(),
            }],
            Traffic::default(),
            1,
        )
        .unwrap();
    run.wire[0].data.clone()
}

#[test]
fn table_commands_add_find_delete_fill_read_and_clear() {
    let mut nic = NicSim::new(2).unwrap();
    nic.program(&bench_config(false)).unwrap();
    assert_eq!(nic.entries_in_use().unwrap(), 1);
    let found = nic.find_entry(vni(), &BENCH_DST).unwrap().unwrap();
    assert_eq!(
        found,
        (
            0,
            u32::from(Ipv4Addr::new(10, 0, 0, 2)),
            MacAddr([2, 0, 10, 0, 0, 2])
        )
    );
    assert_eq!(nic.find_entry(vni(), &mac(1)).unwrap(), None);
    // Fill the table.
    for i in 1..64 {
        nic.add_entry(vni(), &mac(i), 0x0a00_0000 | i, &mac(i))
            .unwrap();
    }
    assert_eq!(nic.entries_in_use().unwrap(), 64);
    match nic.add_entry(vni(), &mac(1000), 1, &mac(1)) {
        Err(NicSimError::Command { result: r, .. }) => assert_eq!(r, result::FULL),
        other => panic!("{other:?}"),
    }
    // Replacing an existing key needs no free slot.
    nic.add_entry(vni(), &mac(5), 0x0a09_0909, &mac(5)).unwrap();
    assert_eq!(
        nic.find_entry(vni(), &mac(5)).unwrap().unwrap().1,
        0x0a09_0909
    );
    // Delete frees the slot; the next add takes it.
    nic.delete_entry(vni(), &mac(7)).unwrap();
    assert_eq!(nic.entries_in_use().unwrap(), 63);
    match nic.delete_entry(vni(), &mac(7)) {
        Err(NicSimError::Command { result: r, .. }) => assert_eq!(r, result::NOT_FOUND),
        other => panic!("{other:?}"),
    }
    nic.add_entry(vni(), &mac(1000), 1, &mac(1)).unwrap();
    assert_eq!(nic.find_entry(vni(), &mac(1000)).unwrap().unwrap().0, 7);
    // READ by slot, past the end, an unknown command, CLEAR.
    let r = nic.registers();
    // Ring a command and wait for it (a command takes a few cycles).
    let ring = |r: &mut overlay_nic_driver::registers::Registers<_>, code: u32| -> u32 {
        r.write(&pf::MAP_CMD, code).unwrap();
        loop {
            let s = r.read(&pf::MAP_STATUS).unwrap();
            if s & 0x100 == 0 {
                return s;
            }
        }
    };
    r.write(&pf::MAP_INDEX, 3).unwrap();
    assert_eq!(ring(r, cmd::READ) & 0xf, result::OK);
    assert_eq!(r.read(&pf::MAP_RD_KEY_VNI).unwrap(), 1 << 31 | 5001);
    assert_eq!(r.read(&pf::MAP_RD_KEY_MAC_LO).unwrap(), 3);
    assert_eq!(r.read(&pf::MAP_RD_INDEX).unwrap(), 3);
    r.write(&pf::MAP_INDEX, 64).unwrap();
    assert_eq!(ring(r, cmd::READ) & 0xf, result::BAD_INDEX);
    assert_eq!(ring(r, 7) & 0xf, result::BAD_COMMAND);
    assert_eq!(ring(r, cmd::CLEAR), result::OK, "no entries left, idle, OK");
    // Capabilities say what this build is: TX and RX offload, 4 VFs.
    assert_eq!(r.read(&pf::CAPABILITY).unwrap(), 1 | 2 | 4 | 8 | 4 << 8);
    assert_eq!(r.read(&pf::TABLE_SIZES).unwrap(), 64 | 16 << 16);
    assert_eq!(r.read(&pf::MAX_FRAME).unwrap(), 16384 | 16 << 16);
}

#[test]
fn a_moved_vm_is_reached_at_its_new_vtep_after_the_update() {
    let mut nic = NicSim::new(3).unwrap();
    nic.program(&bench_config(false)).unwrap();
    let cfg = DecapConfig::default();
    let before = send_one(&mut nic, BENCH_DST);
    assert_eq!(
        decapsulate(&before, &cfg).unwrap().outer.dst_ip,
        Ipv4Addr::new(10, 0, 0, 2)
    );
    // The VM migrates to a VTEP on another subnet: the outer destination
    // MAC becomes the underlay gateway's.
    nic.add_entry(
        vni(),
        &BENCH_DST,
        u32::from(Ipv4Addr::new(10, 7, 0, 9)),
        &mac(9),
    )
    .unwrap();
    let after = send_one(&mut nic, BENCH_DST);
    let outer = decapsulate(&after, &cfg).unwrap().outer;
    assert_eq!(outer.dst_ip, Ipv4Addr::new(10, 7, 0, 9));
    assert_eq!(outer.dst_mac, [2, 0, 10, 0, 0, 0xfe]);
    // Deleted: a miss, flooded to the VNI's group, with an event.
    nic.delete_entry(vni(), &BENCH_DST).unwrap();
    let flooded = send_one(&mut nic, BENCH_DST);
    let outer = decapsulate(&flooded, &cfg).unwrap().outer;
    assert_eq!(outer.dst_ip, Ipv4Addr::new(239, 1, 1, 1));
    assert_eq!(outer.dst_mac, [1, 0, 0x5e, 1, 1, 1]);
    assert_eq!(
        nic.drain_events().unwrap(),
        vec![NicEvent::TxMiss {
            vni: vni(),
            mac: BENCH_DST
        }]
    );
}

#[test]
fn miss_events_merge_bursts_and_count_what_a_full_queue_loses() {
    let mut nic = NicSim::new(4).unwrap();
    nic.program(&bench_config(false)).unwrap();
    // A burst to one unknown MAC: one event.
    let burst: Vec<HostFrame> = (0..5)
        .map(|i| {
            let mut data = bench_frame(80, i);
            data[..6].copy_from_slice(&mac(1).0);
            HostFrame {
                function: Function::Pf,
                data,
                tag: Some(vni()),
                offload: Default::default(),
            }
        })
        .collect();
    nic.run(&burst, Traffic::default(), 5).unwrap();
    assert_eq!(nic.registers().read(&pf::EVENT_STATUS).unwrap(), 1);
    assert!(
        nic.sim().uut().irq.val(),
        "interrupt status while events wait"
    );
    // Drained, the same miss is reported again.
    assert_eq!(nic.drain_events().unwrap().len(), 1);
    assert!(!nic.sim().uut().irq.val());
    nic.run(&burst[..1], Traffic::default(), 1).unwrap();
    assert_eq!(
        nic.drain_events().unwrap(),
        vec![NicEvent::TxMiss {
            vni: vni(),
            mac: mac(1)
        }]
    );
    // 20 different unknown MACs into a 16-deep queue: 4 lost, counted.
    let many: Vec<HostFrame> = (0..20)
        .map(|i| {
            let mut data = bench_frame(80, i as usize);
            data[..6].copy_from_slice(&mac(100 + i).0);
            HostFrame {
                function: Function::Pf,
                data,
                tag: Some(vni()),
                offload: Default::default(),
            }
        })
        .collect();
    nic.run(&many, Traffic::default(), 20).unwrap();
    assert_eq!(nic.events_lost().unwrap(), 4);
    let events = nic.drain_events().unwrap();
    let want: Vec<NicEvent> = (0..16)
        .map(|i| NicEvent::TxMiss {
            vni: vni(),
            mac: mac(100 + i),
        })
        .collect();
    assert_eq!(events, want);
    assert_eq!(
        nic.registers().read(&pf::EVENT_TYPE_VNI).unwrap(),
        0,
        "empty queue reads type 0"
    );
    assert_eq!(nic.counters(Function::Pf).unwrap().misses, 5 + 1 + 20);
}
