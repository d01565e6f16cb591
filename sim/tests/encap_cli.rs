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

/// A TCP stream that VF0's VM hands the NIC as TSO sends (the largest
/// 16,000 bytes: the default build's MAX_FRAME is 16,384) and a UDP
/// datagram with `CHECKSUM_PARTIAL`: tshark validates every inner IPv4,
/// TCP and UDP checksum and its TCP sequence analysis finds nothing to
/// flag, and the segments are what the MSS says. Run twice: the outer UDP
/// checksum off (sent as 0) and on (validated too).
#[test]
fn tso_and_checksum_offload_pass_tshark_validation() {
    tso_run(false);
    tso_run(true);
}

fn tso_run(udp_checksum: bool) {
    use etherparse::PacketBuilder;
    let dir = temp_dir(if udp_checksum { "tso-udp" } else { "tso" });
    let config = dir.join("nic.toml");
    let text = std::fs::read_to_string(example_config()).unwrap();
    let text = text.replace(
        "udp_checksum = false",
        &format!("udp_checksum = {udp_checksum}"),
    );
    assert!(text.contains(&format!("udp_checksum = {udp_checksum}")));
    std::fs::write(&config, text).unwrap();
    let (inner, outer) = (dir.join("inner.pcap"), dir.join("outer.pcap"));
    let vf0 = [2, 0, 0, 0, 1, 0];
    let peer = [2, 0, 0, 0, 1, 1]; // in the table: VTEP 10.0.0.2
    let (src, dst) = ([192, 168, 1, 10], [192, 168, 1, 20]);
    let mut frames = Vec::new();
    let mut seq = 1_000_000u32;
    for (i, len) in [16_000usize, 5_000, 1_400, 100].into_iter().enumerate() {
        let payload: Vec<u8> = (0..len).map(|b| (b * 7 + i) as u8).collect();
        let b = PacketBuilder::ethernet2(vf0, peer)
            .ipv4(src, dst, 64)
            .tcp(40_000, 5201, seq, 64_000)
            .ack(77)
            .psh();
        let b = if i == 3 { b.fin() } else { b };
        let mut f = Vec::new();
        b.write(&mut f, &payload).unwrap();
        // The checksums the NIC must fill in: leave garbage.
        f[24..26].copy_from_slice(&[0xde, 0xad]);
        f[50..52].copy_from_slice(&[0xbe, 0xef]);
        frames.push(f);
        seq = seq.wrapping_add(len as u32);
    }
    let mut udp = Vec::new();
    PacketBuilder::ethernet2(vf0, peer)
        .ipv4(src, dst, 64)
        .udp(5353, 5353)
        .write(&mut udp, b"checksum me")
        .unwrap();
    udp[24..26].fill(0);
    frames.push(udp);
    write_pcap(&inner, &frames);
    let report = run_ok(&[
        "encap".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
        "--in".as_ref(),
        inner.as_os_str(),
        "--out".as_ref(),
        outer.as_os_str(),
        "--function".as_ref(),
        "vf0".as_ref(),
        "--tso".as_ref(),
        "1398".as_ref(),
        "--csum".as_ref(),
        "--ip-csum".as_ref(),
        "--backpressure".as_ref(),
        "0.2".as_ref(),
    ]);
    println!("{report}");
    // 16000 / 1398 -> 12, 5000 -> 4, 1400 -> 2, 100 -> 1; and the UDP frame.
    let segments = 12 + 4 + 2 + 1;
    assert!(
        report.contains(&format!("TSO segments: {segments}")),
        "{report}"
    );
    let wire = read_pcap(&outer).unwrap();
    assert_eq!(wire.len(), segments + 1);
    assert!(
        report.contains(&format!(
            "golden model: {n}/{n} wire frames identical",
            n = segments + 1
        )),
        "{report}"
    );
    for w in &wire {
        // VF0's MTU (1450) holds every segment: 20 + 20 + 1398 + 12 (none here).
        assert!(w.data.len() - 50 - 14 <= 1450, "{} bytes", w.data.len());
    }
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(&outer)
        .args([
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
            "-o",
            "tcp.analyze_sequence_numbers:TRUE",
            "-T",
            "fields",
            "-E",
            "separator=;",
            "-e",
            "ip.checksum.status",
            "-e",
            "tcp.checksum.status",
            "-e",
            "udp.checksum.status",
            "-e",
            "tcp.analysis.flags",
            "-e",
            "tcp.len",
        ])
        .output()
        .expect("tshark (scripts/test-all.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    println!("{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), segments + 1, "{text}");
    let mut payload = 0;
    // tshark's checksum status: 1 good, 3 not present.
    let outer_udp = if udp_checksum { "1" } else { "3" };
    for (k, l) in lines.iter().enumerate() {
        let f: Vec<&str> = l.split(';').collect();
        // Outer then inner IPv4 header: both good (1).
        assert_eq!(f[0], "1,1", "frame {k}: {l}");
        if k < segments {
            // The inner TCP checksum good; the outer UDP's good, or not
            // present (0, RFC 7348); no sequence-analysis flags.
            assert_eq!(f[1], "1", "frame {k}: {l}");
            assert_eq!(f[2], outer_udp, "frame {k}: {l}");
            assert_eq!(f[3], "", "frame {k}: TCP analysis flagged {l}");
            payload += f[4].parse::<usize>().unwrap();
            assert!(f[4].parse::<usize>().unwrap() <= 1398);
        } else {
            // The outer UDP header's then the inner datagram's, good.
            assert_eq!(f[2], format!("{outer_udp},1"), "frame {k}: {l}");
        }
    }
    assert_eq!(payload, 16_000 + 5_000 + 1_400 + 100);
    std::fs::remove_dir_all(&dir).unwrap();
}
