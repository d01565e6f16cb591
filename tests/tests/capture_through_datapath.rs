//! End to end across the crates: a capture made with the golden model
//! (good VXLAN frames for us, frames for another VTEP, corrupted, truncated,
//! non-VXLAN, jumbo and oversize) goes through `overlay-nic run`: register
//! programming over AXI4-Lite, golden validation, the HDL stream pipeline.
//! Exactly the good frames that fit the buffer come out, whole and in order.

use overlay_nic_driver::vxlan::{encapsulate, EncapParams, OuterVlan};
use overlay_nic_sim::capture::{read_pcap, CaptureWriter};
use overlay_nic_sim::run::{run, RunConfig};
use std::net::Ipv4Addr;
use std::time::Duration;

const US: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 7);
const OTHER: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 2);

fn inner(len: usize, seed: u8) -> Vec<u8> {
    let mut f: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(7) ^ seed).collect();
    f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, seed]);
    f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 1, seed]);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    f
}

fn params(dst: Ipv4Addr, vni: u32) -> EncapParams {
    EncapParams::new(
        [0x02, 0, 0, 0, 0xaa, 1],
        [0x02, 0, 0, 0, 0xbb, 2],
        PEER,
        dst,
        vni,
    )
    .unwrap()
}

#[test]
fn only_good_frames_that_fit_come_out() {
    // (frame, should it come out?)
    let mut frames: Vec<(Vec<u8>, bool)> = Vec::new();
    for (i, len) in [60usize, 64, 65, 127, 512, 1500, 9000]
        .into_iter()
        .enumerate()
    {
        frames.push((
            encapsulate(&inner(len, i as u8), &params(US, 100 + i as u32)).unwrap(),
            true,
        ));
    }
    let mut tagged = params(US, 7);
    tagged.vlan = Some(OuterVlan::new(42, 3).unwrap());
    tagged.udp_checksum = true;
    frames.push((encapsulate(&inner(300, 9), &tagged).unwrap(), true));
    // For another VTEP.
    frames.push((
        encapsulate(&inner(200, 10), &params(OTHER, 5)).unwrap(),
        false,
    ));
    // Outer IPv4 header checksum broken.
    let mut bad = encapsulate(&inner(200, 11), &params(US, 5)).unwrap();
    bad[24] ^= 0x40;
    frames.push((bad, false));
    // Wrong UDP port.
    let mut port = params(US, 5);
    port.udp_dst_port = 4790;
    frames.push((encapsulate(&inner(200, 12), &port).unwrap(), false));
    // Truncated in the middle of the inner frame, and inside the outer header.
    let whole = encapsulate(&inner(400, 13), &params(US, 5)).unwrap();
    frames.push((whole[..whole.len() - 100].to_vec(), false));
    frames.push((whole[..30].to_vec(), false));
    // Plain Ethernet, not an overlay frame at all.
    frames.push((inner(100, 14), false));
    // Valid VXLAN but longer than the 16 KiB packet buffer: dropped whole.
    frames.push((
        encapsulate(&inner(17_000, 15), &params(US, 5)).unwrap(),
        false,
    ));
    // Back to good after all that.
    frames.push((encapsulate(&inner(80, 16), &params(US, 5)).unwrap(), true));

    let dir = std::env::temp_dir().join(format!("overlay-nic-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("in.pcap");
    let mut w = CaptureWriter::create(&input).unwrap();
    for (i, (f, _)) in frames.iter().enumerate() {
        w.write(Duration::from_millis(i as u64), f).unwrap();
    }
    w.finish().unwrap();

    for (seed, idle, backpressure) in [(1, 0.0, 0.0), (2, 0.3, 0.0), (3, 0.0, 0.5), (4, 0.5, 0.5)] {
        let output = dir.join(format!("out-{seed}.pcap"));
        let config = RunConfig {
            pcap: Some(input.clone()),
            out: Some(output.clone()),
            vcd: None,
            vtep_ip: US,
            seed,
            idle,
            backpressure,
        };
        let report = run(&config).unwrap();
        let want: Vec<&Vec<u8>> = frames
            .iter()
            .filter(|(_, ok)| *ok)
            .map(|(f, _)| f)
            .collect();
        let got = read_pcap(&output).unwrap();
        assert_eq!(got.len(), want.len(), "seed {seed}");
        for (g, w) in got.iter().zip(&want) {
            assert!(&g.data == *w, "seed {seed}: a delivered frame differs");
        }
        assert_eq!(report.hdl_dropped_oversize, 1);
        assert_eq!(
            report.hdl_dropped_bad as usize,
            frames.len() - want.len() - 1
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
