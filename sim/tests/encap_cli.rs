//! `overlay-nic encap` as users run it: inner frames in, wire frames out,
//! checked with the golden model's decapsulation and with tshark.

use overlay_nic_driver::vxlan::{decapsulate, DecapConfig};
use overlay_nic_sim::capture::{read_frames, read_pcap, CaptureWriter, ZEEK_VXLAN_PCAP};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn overlay_nic() -> Command {
    Command::new(env!("CARGO_BIN_EXE_overlay-nic"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("overlay-nic-encap-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn example_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/nic.toml")
}

fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let mut w = CaptureWriter::create(path).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write(Duration::from_micros(i as u64), f).unwrap();
    }
    w.finish().unwrap();
}

/// The inner frames of the Zeek VXLAN capture (real traffic nobody here wrote).
fn zeek_inner_frames() -> Vec<Vec<u8>> {
    let cfg = DecapConfig::default();
    read_frames(ZEEK_VXLAN_PCAP)
        .unwrap()
        .iter()
        .map(|f| decapsulate(&f.data, &cfg).unwrap().inner.to_vec())
        .collect()
}

fn run_ok(args: &[&std::ffi::OsStr]) -> String {
    let out = overlay_nic().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pf_frames_tagged_with_a_vni_are_encapsulated_and_tshark_agrees() {
    let dir = temp_dir("pf");
    let (inner, outer, vcd) = (
        dir.join("inner.pcap"),
        dir.join("outer.pcap"),
        dir.join("tx.vcd"),
    );
    let frames = zeek_inner_frames();
    write_pcap(&inner, &frames);
    let report = run_ok(&[
        "encap".as_ref(),
        "--config".as_ref(),
        example_config().as_os_str(),
        "--in".as_ref(),
        inner.as_os_str(),
        "--out".as_ref(),
        outer.as_os_str(),
        "--vni".as_ref(),
        "5001".as_ref(),
        "--vcd".as_ref(),
        vcd.as_os_str(),
    ]);
    println!("{report}");
    let n = frames.len();
    assert!(
        report.contains(&format!("golden model: {n}/{n} wire frames identical")),
        "{report}"
    );
    assert!(std::fs::metadata(&vcd).unwrap().len() > 1000);
    // Unknown inner MACs in a flood VNI: to the group, with miss events.
    assert!(report.contains("miss: VNI 5001"), "{report}");
    let wire = read_pcap(&outer).unwrap();
    assert_eq!(wire.len(), n);
    let cfg = DecapConfig::default();
    for (w, i) in wire.iter().zip(&frames) {
        let d = decapsulate(&w.data, &cfg).unwrap();
        assert_eq!(d.inner, &i[..]);
        assert_eq!(d.outer.vni().get(), 5001);
        assert_eq!(d.outer.dst_ip, std::net::Ipv4Addr::new(239, 1, 1, 1));
    }
    // tshark: every frame VXLAN 5001 with a good outer IPv4 checksum.
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(&outer)
        .args([
            "-o",
            "ip.check_checksum:TRUE",
            "-T",
            "fields",
            "-e",
            "vxlan.vni",
            "-e",
            "ip.checksum.status",
        ])
        .output()
        .expect("tshark (scripts/test-all.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), n, "{text}");
    for l in lines {
        let mut f = l.split('\t');
        assert_eq!(f.next(), Some("5001"), "{l}");
        // Outer status first: 1 = good (inner IPv4 headers may follow).
        assert!(f.next().unwrap().starts_with('1'), "{l}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn vf_frames_hit_the_table_and_spoofed_ones_are_dropped() {
    let dir = temp_dir("vf");
    let (inner, outer) = (dir.join("inner.pcap"), dir.join("outer.pcap"));
    let vf0 = [2, 0, 0, 0, 1, 0];
    let peer = [2, 0, 0, 0, 1, 1]; // in the table: VTEP 10.0.0.2
    let mut good = Vec::new();
    good.extend_from_slice(&peer);
    good.extend_from_slice(&vf0);
    good.extend_from_slice(&[0x88, 0xb5]);
    good.extend_from_slice(&[7; 100]);
    let mut spoofed = good.clone();
    spoofed[6..12].copy_from_slice(&[2, 0, 0, 0, 9, 9]);
    write_pcap(&inner, &[good.clone(), spoofed, good.clone()]);
    let report = run_ok(&[
        "encap".as_ref(),
        "--config".as_ref(),
        example_config().as_os_str(),
        "--in".as_ref(),
        inner.as_os_str(),
        "--out".as_ref(),
        outer.as_os_str(),
        "--function".as_ref(),
        "vf0".as_ref(),
        "--idle".as_ref(),
        "0.3".as_ref(),
        "--backpressure".as_ref(),
        "0.3".as_ref(),
    ]);
    assert!(report.contains("| spoofed source MAC | 1 |"), "{report}");
    let wire = read_pcap(&outer).unwrap();
    assert_eq!(wire.len(), 2);
    let d = decapsulate(&wire[0].data, &DecapConfig::default()).unwrap();
    assert_eq!(d.inner, &good[..]);
    assert_eq!(d.outer.dst_ip, std::net::Ipv4Addr::new(10, 0, 0, 2));
    assert_eq!(d.outer.dst_mac, [2, 0, 10, 0, 0, 2]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_requests_are_refused_clearly() {
    let dir = temp_dir("bad");
    let inner = dir.join("inner.pcap");
    write_pcap(&inner, &[vec![0; 60]]);
    let out = overlay_nic()
        .args(["encap", "--config"])
        .arg(example_config())
        .arg("--in")
        .arg(&inner)
        .args(["--out", "/dev/null", "--function", "vf0", "--vni", "7"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--vni tags PF frames only"));
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[vtep]\nmac = \"zz\"\n").unwrap();
    let out = overlay_nic()
        .args(["encap", "--config"])
        .arg(&bad)
        .arg("--in")
        .arg(&inner)
        .args(["--out", "/dev/null"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
