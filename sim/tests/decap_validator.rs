//! The decapsulation validator's exported Verilog runs the same random
//! wire traffic as its Rust simulation with identical outputs every cycle:
//! VXLAN frames to the configured VTEP (outer VLAN, IPv4 options, inner
//! VLAN, TCP/UDP, broken checksums, lengths and flags, truncations),
//! non-overlay frames and junk, back to back and with idle cycles. Its
//! behaviour against the golden model is tested through the whole RX path
//! (`rx_path.rs`).

use etherparse::PacketBuilder;
use overlay_nic_driver::nic_config::MacAddr;
use overlay_nic_hdl::decap_validator::DecapValidator;
use overlay_nic_sim::rtl::Equivalence;
use overlay_nic_sim::rx::{encapsulate, OuterHeaders};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::net::Ipv4Addr;

fn frame(rng: &mut ChaCha8Rng) -> Vec<u8> {
    if rng.gen_bool(0.1) {
        return (0..rng.gen_range(1..100)).map(|_| rng.gen()).collect();
    }
    let payload: Vec<u8> = (0..rng.gen_range(0..200)).map(|_| rng.gen()).collect();
    let mut inner = Vec::new();
    let b = PacketBuilder::ethernet2([2, 0, 0, 1, 0, 1], [2, 0, 0, 0, 1, 0]);
    if rng.gen_bool(0.2) {
        b.single_vlan(etherparse::VlanId::try_new(5).unwrap())
            .ipv4([1, 1, 1, 1], [2, 2, 2, 2], 9)
            .tcp(1, 2, 3, 4)
            .write(&mut inner, &payload)
            .unwrap();
    } else {
        b.ipv4([1, 1, 1, 1], [2, 2, 2, 2], 9)
            .udp(1, 2)
            .write(&mut inner, &payload)
            .unwrap();
    }
    if rng.gen_bool(0.2) {
        let i = rng.gen_range(0..inner.len());
        inner[i] ^= 0x20;
    }
    let mut f = encapsulate(
        &OuterHeaders {
            dst_mac: MacAddr([2, 0, 10, 0, 0, 1]),
            src_mac: MacAddr([2, 0, 10, 0, 0, 2]),
            vlan: rng.gen_bool(0.3).then_some(100),
            options: if rng.gen_bool(0.2) {
                rng.gen_range(1..=10)
            } else {
                0
            },
            src_ip: Ipv4Addr::new(10, 0, 0, 2),
            dst_ip: Ipv4Addr::new(10, 0, 0, 1),
            port: if rng.gen_bool(0.9) { 4789 } else { 53 },
            flags: [if rng.gen_bool(0.9) { 8 } else { 0 }, 0, 0, 0],
            vni: 5001,
            last: 0,
            udp_csum: rng.gen_bool(0.5),
        },
        &inner,
    );
    match rng.gen_range(0..8) {
        0 => f.truncate(rng.gen_range(1..f.len())),
        1 => {
            let i = rng.gen_range(0..f.len().min(80));
            f[i] ^= 1 << rng.gen_range(0..8);
        }
        _ => {}
    }
    f
}

#[test]
fn decap_validator_rust_and_verilog_agree() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut current: Vec<u8> = Vec::new();
    let mut pos = 0usize;
    let mut frames = 0u64;
    let mut dones = 0u64;
    let report = Equivalence::new("decap_validator", 20_000)
        .run(
            DecapValidator::default,
            |u| &mut u.clock,
            |u, _| {
                dones += u.done.val() as u64;
                // The beat offered last cycle was taken (the tap never stalls).
                if u.beat.val() {
                    pos += 8;
                    if pos >= current.len() {
                        current.clear();
                        frames += 1;
                    }
                }
                if current.is_empty() && rng.gen_bool(0.7) {
                    current = frame(&mut rng);
                    pos = 0;
                }
                let on = !current.is_empty() && rng.gen_bool(0.8);
                let end = (pos + 8).min(current.len());
                let mut word = 0u64;
                if on {
                    for (i, b) in current[pos..end].iter().enumerate() {
                        word |= (*b as u64) << (8 * i);
                    }
                }
                u.beat.next = on;
                u.tdata.next = word.to_bits();
                u.tkeep.next = if on {
                    (((1u16 << (end - pos)) - 1) as u64).to_bits()
                } else {
                    0.into()
                };
                u.tlast.next = on && end == current.len();
                u.vtep_mac.next = 0x02000a000001u64.to_bits();
                u.udp_port.next = 4789.into();
                u.vlan_enable.next = false;
                u.vlan_id.next = 100.into();
                u.strict.next = false;
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("equivalence {report}\ncoverage: {frames} frames, {dones} decisions");
    assert!(frames > 500 && dones > 500, "stimulus too tame");
}
