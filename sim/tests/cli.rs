//! The `overlay-nic` command as users run it.

use std::process::Command;

fn overlay_nic() -> Command {
    Command::new(env!("CARGO_BIN_EXE_overlay-nic"))
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("overlay-nic-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn verilog_writes_one_module_file_per_block() {
    let dir = temp_dir("verilog");
    let out = overlay_nic()
        .args(["verilog", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in [
        "skid_buffer",
        "packet_fifo",
        "register_file",
        "stream_pipeline",
    ] {
        let text = std::fs::read_to_string(dir.join(format!("{name}.v"))).unwrap();
        assert!(text.contains("module top("), "{name}.v has a top module");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn regmap_prints_the_document() {
    let out = overlay_nic().arg("regmap").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        overlay_nic_regmap::document()
    );
}

#[test]
fn run_streams_the_built_in_capture() {
    let dir = temp_dir("run");
    let pcap = dir.join("out.pcap");
    let vcd = dir.join("run.vcd");
    let out = overlay_nic()
        .args(["run", "--out"])
        .arg(&pcap)
        .arg("--vcd")
        .arg(&vcd)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The Zeek trace goes both ways between .11 and .12: as VTEP .12 the
    // NIC takes the five frames sent to it and drops the five it sent.
    assert!(
        stdout.contains("frames: 10 in, 5 delivered, 5 dropped"),
        "{stdout}"
    );
    let frames = overlay_nic_sim::capture::read_pcap(&pcap).unwrap();
    assert_eq!(frames.len(), 5);
    assert!(std::fs::metadata(&vcd).unwrap().len() > 1000);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_are_refused_clearly() {
    let out = overlay_nic()
        .args(["run", "--idle", "1.5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a probability"));
    let out = overlay_nic()
        .args(["run", "--pcap", "/nonexistent.pcap"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.pcap"));
}
