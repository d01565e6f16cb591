//! End to end: the demo's claims on the multi-host co-simulation, on the
//! cycle-accurate HDL NICs and on the behavioural model, which must put the
//! same bytes on the wire; the `demo` and `sim` commands; tshark on the
//! demo's pcap.

use overlay_nic_sim::capture::read_pcap;
use overlay_nic_sim::world::scenario::{BackendKind, Scenario};
use overlay_nic_sim::world::{run, Outcome, RunOptions, DEMO_SCENARIO};
use std::path::{Path, PathBuf};
use std::process::Command;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("overlay-nic-world-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn play(text: &str, backend: BackendKind, pcap: &Path) -> Outcome {
    let sc = Scenario::from_toml(text).unwrap();
    let opts = RunOptions {
        backend,
        pcap: Some(pcap.to_path_buf()),
        ..RunOptions::default()
    };
    run(&sc, &opts).unwrap()
}

fn nic<'a>(o: &'a Outcome, host: &str) -> &'a overlay_nic_sim::world::report::NicSummary {
    o.nics.iter().find(|n| n.host == host).unwrap()
}

fn timeline(o: &Outcome) -> String {
    o.timeline
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every claim of the demo, checked on the HDL NICs: all expectations hold
/// (pings in both tenants with the same addresses, the TSO transfer, the
/// UDP stream, both isolation probes blocked, the tables before and after
/// the migration, traffic after it, the powered-off VM unreachable), no
/// frame reached a VM of another tenant, and the counters show how:
/// learning from multicast-flooded ARP, TSO segments, routed and switched
/// underlay traffic. The behavioural model puts the same frames on the
/// wire in the same order.
#[test]
fn the_demo_holds_on_hdl_nics_and_the_model_agrees() {
    let dir = temp_dir("demo");
    let hdl = play(DEMO_SCENARIO, BackendKind::Hdl, &dir.join("hdl.pcap"));
    println!("{}\n\n{hdl}", timeline(&hdl));
    assert!(hdl.failures.is_empty(), "{:#?}", hdl.failures);
    assert!(hdl.violations.is_empty(), "{:#?}", hdl.violations);
    assert_eq!(hdl.checks, 12, "every expectation was checked");
    assert!(
        hdl.frames_to_vms > 100,
        "{} frames to VMs",
        hdl.frames_to_vms
    );

    // ARP through the segment's group, with learning on both ends.
    let text = timeline(&hdl);
    for (host, learned) in [
        ("esx-b1", "blue-web (VNI 5001) is behind VTEP 192.168.10.11"),
        ("esx-a1", "blue-db (VNI 5001) is behind VTEP 192.168.20.21"),
        ("esx-a1", "blue-db (VNI 5001) is behind VTEP 192.168.10.12"),
    ] {
        assert!(
            text.contains(&format!("{host}: learn event: {learned}")),
            "{host} never learned {learned}"
        );
    }
    assert!(
        text.contains("esx-a1: ARP reply from blue-db replayed to blue-web"),
        "FIG. 15 proxy"
    );
    assert!(hdl.underlay.multicast_copies > 0);
    assert!(hdl.underlay.routed > 0 && hdl.underlay.switched > 0);
    assert_eq!(
        (
            hdl.underlay.drop_no_route,
            hdl.underlay.drop_ttl,
            hdl.underlay.drop_unknown_mac,
            hdl.underlay.drop_not_ipv4
        ),
        (0, 0, 0, 0)
    );
    // TSO: 64,000 bytes from VF0 of esx-a1 at MSS 1460 (4 sends of 11 and
    // 11 and 11 and 11 segments), 20,000 from VF0 of esx-b1 (11 + 3).
    assert_eq!(nic(&hdl, "esx-a1").tso_segments, 44);
    assert_eq!(nic(&hdl, "esx-b1").tso_segments, 14);
    for n in &hdl.nics {
        assert!(n.encapsulated > 0 && n.decapsulated > 0, "{n:?}");
        assert!(n.tx_drops.is_empty(), "{n:?}");
        assert_eq!(n.events_lost, 0);
        assert!(n.cycles > 0);
    }
    // The probes across tenants were flooded in the sender's segment and
    // dropped where that segment does not exist, or never delivered to the
    // other tenant's functions.
    assert!(hdl.nics.iter().map(|n| n.tx_misses).sum::<u64>() >= 2);

    let model = play(DEMO_SCENARIO, BackendKind::Model, &dir.join("model.pcap"));
    assert!(model.passed(), "{model}");
    // The same frames; the HDL's clock interleaves them differently (ACKs
    // flow while data is still leaving), the model has none.
    let frames = |p: &str| {
        let mut v: Vec<Vec<u8>> = read_pcap(&dir.join(p))
            .unwrap()
            .into_iter()
            .map(|f| f.data)
            .collect();
        v.sort();
        v
    };
    let (a, b) = (frames("hdl.pcap"), frames("model.pcap"));
    assert_eq!(a.len() as u64, hdl.wire_frames);
    assert_eq!(a.len(), b.len(), "wire frames: HDL vs model");
    assert!(a == b, "the wire frames differ between HDL and model");
    // The pcap is in time order.
    let times: Vec<_> = read_pcap(&dir.join("hdl.pcap"))
        .unwrap()
        .into_iter()
        .map(|f| f.timestamp)
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    let strip = |o: &Outcome| -> Vec<_> {
        o.nics
            .iter()
            .map(|n| overlay_nic_sim::world::report::NicSummary {
                cycles: 0,
                ..n.clone()
            })
            .collect()
    };
    assert_eq!(strip(&hdl), strip(&model), "NIC counters: HDL vs model");
    std::fs::remove_dir_all(&dir).ok();
}

const TWO_HOSTS: &str = r#"
title = "two hosts"
[[subnet]]
name = "a"
prefix = "10.1.0.0/24"
router_mac = "02:00:00:00:01:01"
[[subnet]]
name = "b"
prefix = "10.2.0.0/24"
router_mac = "02:00:00:00:02:01"
[[host]]
name = "h1"
subnet = "a"
vtep_ip = "10.1.0.11"
vtep_mac = "02:00:00:00:01:0b"
[[host]]
name = "h2"
subnet = "b"
vtep_ip = "10.2.0.12"
vtep_mac = "02:00:00:00:02:0c"
[[tenant]]
name = "blue"
vni = 5001
multicast_group = "239.1.1.1"
[[vm]]
name = "b1"
tenant = "blue"
host = "h1"
attach = "vf0"
mac = "02:b1:00:00:00:01"
ip = "10.0.0.1"
[[vm]]
name = "b2"
tenant = "blue"
host = "h2"
attach = "vf1"
mac = "02:b1:00:00:00:02"
ip = "10.0.0.2"
"#;

/// A VM that left answers nothing, and a scenario that expected otherwise
/// fails, naming the event; one that joins again elsewhere is reached.
#[test]
fn expectations_fail_by_name_and_rejoining_vms_are_reached() {
    let dir = temp_dir("rejoin");
    let text = format!(
        "{TWO_HOSTS}
[[timeline]]
do = \"ping\"
from = \"b1\"
to = \"b2\"
[[timeline]]
do = \"leave\"
vm = \"b2\"
[[timeline]]
do = \"ping\"
from = \"b1\"
to = \"b2\"
count = 2
[[timeline]]
do = \"join\"
vm = \"b2\"
attach = \"pf\"
[[timeline]]
do = \"udp\"
from = \"b1\"
to = \"b2\"
bytes = 3000
"
    );
    let o = play(&text, BackendKind::Model, &dir.join("w.pcap"));
    println!("{}\n{o}", timeline(&o));
    assert_eq!(o.failures.len(), 1, "{:#?}", o.failures);
    assert!(
        o.failures[0].starts_with("event 3 (ping b1 -> b2 x2): 0 of 2 echoes answered"),
        "{}",
        o.failures[0]
    );
    assert!(!o.passed());
    assert!(o.violations.is_empty());
    std::fs::remove_dir_all(&dir).ok();
}

fn overlay_nic() -> Command {
    Command::new(env!("CARGO_BIN_EXE_overlay-nic"))
}

/// `overlay-nic sim` exits non-zero and names the failed expectation.
#[test]
fn sim_command_exits_non_zero_naming_the_failure() {
    let dir = temp_dir("simcli");
    let file = dir.join("s.toml");
    std::fs::write(
        &file,
        format!(
            "{TWO_HOSTS}
[[timeline]]
do = \"ping\"
from = \"b1\"
to = \"b2\"
expect = \"blocked\"
"
        ),
    )
    .unwrap();
    let out = overlay_nic()
        .args(["sim", "--backend", "model", "--scenario"])
        .arg(&file)
        .arg("--pcap")
        .arg(dir.join("s.pcap"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("expectation failed: event 1 (ping b1 -> b2 x3 (expect blocked)): 3 of 3 echoes answered"),
        "{stderr}"
    );
    // A scenario error names the key.
    std::fs::write(
        &file,
        TWO_HOSTS.replace(
            "tenant = \"blue\"\nhost = \"h2\"",
            "tenant = \"green\"\nhost = \"h2\"",
        ),
    )
    .unwrap();
    let out = overlay_nic()
        .args(["sim", "--backend", "model", "--scenario"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("vm `b2`: no tenant `green`"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `overlay-nic demo` (model back end here; the HDL run is the test above)
/// prints the timeline and the summary and writes a pcap that tshark
/// dissects as VXLAN throughout, every outer and inner IPv4, TCP and UDP
/// checksum good, nothing malformed.
#[test]
fn demo_command_writes_a_pcap_tshark_dissects_cleanly() {
    let dir = temp_dir("democli");
    let pcap = dir.join("demo.pcap");
    let out = overlay_nic()
        .args(["demo", "--backend", "model", "--pcap"])
        .arg(&pcap)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for s in [
        "#1 ping blue-web -> blue-db x3",
        "| NIC ",
        "esx-a1",
        "encapsulated to the wire",
        "isolation:",
        "expectations: 12 checked, 0 failed",
    ] {
        assert!(stdout.contains(s), "`{s}` not in\n{stdout}");
    }
    let frames = read_pcap(&pcap).unwrap().len();
    let t = Command::new("tshark")
        .arg("-r")
        .arg(&pcap)
        .args([
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
            "-T",
            "fields",
            "-E",
            "separator=;",
            "-e",
            "vxlan.vni",
            "-e",
            "ip.checksum.status",
            "-e",
            "tcp.checksum.status",
            "-e",
            "udp.checksum.status",
            "-e",
            "_ws.malformed",
            "-e",
            "_ws.expert.severity",
        ])
        .output()
        .expect("tshark (scripts/test-all.sh installs it)");
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    let text = String::from_utf8(t.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), frames);
    for (k, l) in lines.iter().enumerate() {
        let f: Vec<&str> = l.split(';').collect();
        assert!(
            f[0] == "5001" || f[0] == "5002",
            "frame {}: not VXLAN: {l}",
            k + 1
        );
        // Outer and inner IPv4 (ARP frames have only the outer).
        assert!(
            f[1].split(',').all(|s| s == "1"),
            "frame {}: IPv4 checksum: {l}",
            k + 1
        );
        assert!(
            f[2].split(',').all(|s| s.is_empty() || s == "1"),
            "frame {}: TCP: {l}",
            k + 1
        );
        // The outer UDP checksum is 0 (not present, status 3); inner ones good.
        assert!(
            f[3].split(',').all(|s| s == "1" || s == "3"),
            "frame {}: UDP: {l}",
            k + 1
        );
        assert!(f[4].is_empty(), "frame {}: malformed: {l}", k + 1);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The scenario README.md documents runs as it says (model back end; the
/// HDL is the demo test's).
#[test]
fn the_readme_scenario_example_runs() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = &readme[readme.find("## Scenarios").expect("Scenarios section")..];
    let start = section.find("```toml").expect("a toml example") + "```toml".len();
    let text = &section[start..start + section[start..].find("```").unwrap()];
    let dir = temp_dir("readme");
    let o = play(text, BackendKind::Model, &dir.join("r.pcap"));
    assert!(o.passed(), "{o}");
    assert_eq!(o.checks, 2);
    std::fs::remove_dir_all(&dir).ok();
}

/// `--vcd` records the chosen host's NIC; the model has no waveform and
/// says so.
#[test]
fn vcd_records_the_chosen_hosts_nic() {
    let dir = temp_dir("vcd");
    let file = dir.join("s.toml");
    std::fs::write(
        &file,
        format!(
            "{TWO_HOSTS}\n[[timeline]]\ndo = \"ping\"\nfrom = \"b1\"\nto = \"b2\"\ncount = 1\n"
        ),
    )
    .unwrap();
    let vcd = dir.join("h2.vcd");
    let out = overlay_nic()
        .args(["sim", "--quiet", "--scenario"])
        .arg(&file)
        .arg("--pcap")
        .arg(dir.join("s.pcap"))
        .arg("--vcd")
        .arg(&vcd)
        .args(["--vcd-host", "h2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&vcd).unwrap();
    assert!(text.starts_with("$timescale"));
    assert!(text.contains("$enddefinitions") && text.contains("s_wire"));
    // Time advanced through the run: the last timestamp is well past 0.
    let last = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix('#').and_then(|t| t.parse::<u64>().ok()))
        .unwrap();
    assert!(last > 100 * 6_400, "last timestamp {last} ps");
    let out = overlay_nic()
        .args(["sim", "--backend", "model", "--scenario"])
        .arg(&file)
        .arg("--pcap")
        .arg(dir.join("s.pcap"))
        .arg("--vcd")
        .arg(&vcd)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no waveform"));
    std::fs::remove_dir_all(&dir).ok();
}

/// Random worlds on the behavioural model: two tenants with overlapping
/// addresses, VMs on random hosts (two subnets) and functions. Every ping
/// between two VMs of one tenant is answered, except from or to a VF VM on
/// the same host (the NIC has no embedded switch: such frames are flooded
/// to the segment's group and never come back), which must go unanswered;
/// frames sent across tenants never arrive; isolation holds throughout.
mod random_worlds {
    use super::*;
    use proptest::prelude::*;

    fn scenario(vms: &[(usize, usize, usize)], pings: &[(usize, usize)]) -> (String, usize) {
        let mut t = String::from(
            r#"
[[subnet]]
name = "a"
prefix = "10.1.0.0/24"
router_mac = "02:00:00:00:01:01"
[[subnet]]
name = "b"
prefix = "10.2.0.0/24"
router_mac = "02:00:00:00:02:01"
[[host]]
name = "h0"
subnet = "a"
vtep_ip = "10.1.0.10"
vtep_mac = "02:00:00:00:01:0a"
[[host]]
name = "h1"
subnet = "b"
vtep_ip = "10.2.0.11"
vtep_mac = "02:00:00:00:02:0b"
[[host]]
name = "h2"
subnet = "a"
vtep_ip = "10.1.0.12"
vtep_mac = "02:00:00:00:01:0c"
[[tenant]]
name = "t0"
vni = 5001
multicast_group = "239.1.1.1"
[[tenant]]
name = "t1"
vni = 5002
multicast_group = "239.1.1.2"
"#,
        );
        // (tenant, host, function: 0 = PF, k = VF k-1), VFs made unique.
        let mut used = std::collections::BTreeSet::new();
        let mut placed = Vec::new();
        let mut per_tenant = [0u8; 2];
        for (n, &(tenant, host, f)) in vms.iter().enumerate() {
            let f = if f > 0 && used.insert((host, f)) {
                f
            } else {
                0
            };
            per_tenant[tenant] += 1;
            let attach = if f == 0 {
                "pf".to_string()
            } else {
                format!("vf{}", f - 1)
            };
            t.push_str(&format!(
                "[[vm]]\nname = \"v{n}\"\ntenant = \"t{tenant}\"\nhost = \"h{host}\"\nattach = \"{attach}\"\nmac = \"02:00:00:00:99:{n:02x}\"\nip = \"10.0.0.{}\"\n",
                per_tenant[tenant]
            ));
            placed.push((tenant, host, f));
        }
        let mut checks = 0;
        for &(a, b) in pings {
            let (a, b) = (a % vms.len(), b % vms.len());
            if a == b {
                continue;
            }
            let ((ta, ha, fa), (tb, hb, fb)) = (placed[a], placed[b]);
            checks += 1;
            if ta != tb {
                t.push_str(&format!(
                    "[[timeline]]\ndo = \"probe\"\nfrom = \"v{a}\"\nto = \"v{b}\"\nexpect = \"blocked\"\n"
                ));
                continue;
            }
            let local_vf = ha == hb && (fa > 0 || fb > 0);
            t.push_str(&format!(
                "[[timeline]]\ndo = \"ping\"\nfrom = \"v{a}\"\nto = \"v{b}\"\ncount = 2\nexpect = \"{}\"\n",
                if local_vf { "blocked" } else { "delivered" }
            ));
        }
        (t, checks)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        #[test]
        fn pings_probes_and_isolation_hold(
            vms in prop::collection::vec((0..2usize, 0..3usize, 0..5usize), 2..7),
            pings in prop::collection::vec((0..7usize, 0..7usize), 1..10),
        ) {
            let (text, checks) = scenario(&vms, &pings);
            let sc = Scenario::from_toml(&text).unwrap();
            let o = run(&sc, &RunOptions { backend: BackendKind::Model, ..RunOptions::default() }).unwrap();
            prop_assert!(o.passed(), "{text}\n{}\n{o}", timeline(&o));
            prop_assert_eq!(o.checks, checks);
            for n in &o.nics {
                prop_assert!(n.tx_drops.is_empty() && n.rx_drops.iter().all(|(r, _)| *r == "no_vni"), "{:?}", n);
            }
        }
    }
}
