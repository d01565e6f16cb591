//! `overlay-nic decap` as users run it: the real Zeek VXLAN capture (both
//! directions of a conversation between VTEPs 192.168.56.11 and .12) in,
//! inner frames out, once as each VTEP. Together the two runs must give
//! back exactly the captured inner frames (etherparse's UDP payload after
//! the 8-byte VXLAN header), the first with a learn event for the VM it
//! did not know; the output must dissect cleanly in tshark.

use etherparse::SlicedPacket;
use overlay_nic_sim::capture::{read_frames, read_pcap, ZEEK_VXLAN_PCAP};
use std::path::{Path, PathBuf};
use std::process::Command;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("overlay-nic-decap-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

fn decap(config: &Path, input: &Path, out: &Path, events: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_overlay-nic"))
        .arg("decap")
        .arg("--config")
        .arg(config)
        .arg("--in")
        .arg(input)
        .arg("--out")
        .arg(out)
        .arg("--events")
        .arg(events)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn the_zeek_capture_decapsulates_to_its_inner_frames() {
    let dir = temp_dir("zeek");
    let input = dir.join("vxlan.pcap");
    std::fs::write(&input, ZEEK_VXLAN_PCAP).unwrap();
    let captured = read_frames(ZEEK_VXLAN_PCAP).unwrap();
    // (receiving VTEP, inner frame) of every captured frame.
    let expected: Vec<([u8; 4], Vec<u8>)> = captured
        .iter()
        .map(|f| {
            let p = SlicedPacket::from_ethernet(&f.data).unwrap();
            let Some(etherparse::NetSlice::Ipv4(ip)) = &p.net else {
                panic!("not IPv4")
            };
            let Some(etherparse::TransportSlice::Udp(udp)) = &p.transport else {
                panic!("not UDP")
            };
            (ip.header().destination(), udp.payload()[8..].to_vec())
        })
        .collect();
    let mut delivered_total = 0;
    for (host, config) in [
        ([192, 168, 56, 12], "vxlan-host12.toml"),
        ([192, 168, 56, 11], "vxlan-host11.toml"),
    ] {
        let out = dir.join(format!("inner-{}.pcap", host[3]));
        let events = dir.join(format!("events-{}.jsonl", host[3]));
        let summary = decap(&example(config), &input, &out, &events);
        let got: Vec<Vec<u8>> = read_pcap(&out)
            .unwrap()
            .into_iter()
            .map(|f| f.data)
            .collect();
        let mine: Vec<&Vec<u8>> = expected
            .iter()
            .filter(|(dst, _)| *dst == host)
            .map(|(_, inner)| inner)
            .collect();
        let other = expected.len() - mine.len();
        assert!(
            summary.contains(&format!("| dst_mac | {other} |")),
            "{summary}"
        );
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&events)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let learns: Vec<&serde_json::Value> =
            lines.iter().filter(|v| v["event"] == "learn").collect();
        if host[3] == 12 {
            // Nothing in the table: every frame goes to the PF alone, with
            // one learn event (repeats merge) for the VM behind .11.
            assert_eq!(got.len(), mine.len(), "{summary}");
            for (g, w) in got.iter().zip(&mine) {
                assert_eq!(g, *w);
            }
            assert_eq!(learns.len(), 1, "{lines:?}");
            assert_eq!(learns[0]["mac"], "ba:09:2b:6e:f8:be");
            assert_eq!(learns[0]["vtep_ip"], "192.168.56.11");
            assert_eq!(learns[0]["vtep_mac"], "08:00:27:ae:4d:62");
            assert_eq!(learns[0]["vni"], 123);
            assert!(
                summary.contains("| PF |") && !summary.contains("| VF0 |"),
                "{summary}"
            );
        } else {
            // The sender is known: unicast to VF0 only, the ARP broadcast
            // to the PF and VF0 (two copies).
            assert!(learns.is_empty(), "{lines:?}");
            let mut want: Vec<&Vec<u8>> = Vec::new();
            for w in &mine {
                want.push(w);
                if w[0] == 0xff {
                    want.push(w);
                }
            }
            assert_eq!(got.len(), want.len(), "{summary}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g, *w);
            }
            assert!(summary.contains("| VF0 |"), "{summary}");
        }
        let rx = lines.iter().find(|v| v["counters"] == "rx").unwrap();
        assert_eq!(rx["wire_frames"], 10);
        assert_eq!(rx["decapsulated"], mine.len());
        delivered_total += mine.len();

        // tshark reads the output as plain Ethernet frames, nothing malformed.
        let t = Command::new("tshark")
            .arg("-r")
            .arg(&out)
            .args(["-T", "fields", "-e", "frame.protocols", "-e", "_ws.expert"])
            .output()
            .expect("tshark (scripts/test-all.sh installs it)");
        assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
        let text = String::from_utf8(t.stdout).unwrap();
        assert_eq!(text.lines().count(), got.len(), "{text}");
        assert!(!text.contains("malformed"), "{text}");
        assert!(
            text.lines().all(|l| l.starts_with("eth:ethertype:")),
            "{text}"
        );
    }
    assert_eq!(delivered_total, expected.len());
}
