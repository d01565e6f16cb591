#!/usr/bin/env bash
# Host cost per packet of sending a VM's frame into the VXLAN overlay, with
# the NIC's offload (tag only) and in software: ns/packet from the
# host-cost binary's own timing, and instructions/packet from callgrind
# (docs/host-cost.md).
#
# Usage: scripts/host-cost.sh [TIMED_PACKETS [CALLGRIND_PACKETS]]
#   TIMED_PACKETS      packets per timed run, 5 runs per path and size
#                      (default 200000); ns/packet is the fastest run's,
#                      the median run's in brackets
#   CALLGRIND_PACKETS  packets per callgrind run (default 2000)
#
# Instructions per packet are (Ir(N) - Ir(0)) / N: two callgrind runs of
# the same path and size, with --packets N and --packets 0, differ only in
# the timed loop. Without valgrind only the timing is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

time_n=${1:-200000}
cg_n=${2:-2000}
sizes=(64 512 1500 9000)
paths=(offload software)
case "$time_n$cg_n" in
    *[!0-9]*) echo "usage: $0 [TIMED_PACKETS [CALLGRIND_PACKETS]]" >&2; exit 2 ;;
esac
if [ "$cg_n" -eq 0 ] || [ "$time_n" -eq 0 ]; then
    echo "$0: packet counts must be positive" >&2
    exit 2
fi

cargo build --release -p overlay-nic-driver --bin host-cost
bin=${CARGO_TARGET_DIR:-target}/release/host-cost
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

model=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
echo "machine: ${model:-unknown CPU}, $(nproc) CPUs online; $(rustc --version)"

# Timing: one run, every size and path, one JSON record per line.
size_args=()
for s in "${sizes[@]}"; do size_args+=(--size "$s"); done
"$bin" --packets "$time_n" "${size_args[@]}" --path both --repeat 5 --format json >"$tmp/time.json"

# ns/packet of path $2 at size $1, from the JSON records: "$3" is
# "ns_per_packet" (fastest run) or "median_ns_per_packet".
ns() {
    grep "\"path\":\"$2\"" "$tmp/time.json" | grep "\"size\":$1[,}]" |
        sed "s/.*\"$3\":\([0-9.eE+-]*\).*/\1/"
}

# Total Ir of one callgrind run of path $2, size $1, $3 packets.
# glibc copies blocks of 2112 bytes and more (on x86-64) with `rep movsb`,
# which valgrind counts as one instruction per byte: the tunable keeps every
# copy on the vector loop smaller ones take, so Ir stays a count of
# instructions as they cost (ignored elsewhere; timing runs are unaffected).
ir() {
    local out="$tmp/callgrind.$1.$2.$3"
    GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.cpu.x86_rep_movsb_threshold=0xffffffff" \
        valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$bin" --packets "$3" --size "$1" --path "$2" --repeat 1 --format json \
        >/dev/null 2>"$out.log"
    awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

have_valgrind=1
if ! command -v valgrind >/dev/null; then
    have_valgrind=0
    echo "valgrind not found: timing only (install valgrind for instructions/packet)"
fi

echo
if [ "$have_valgrind" -eq 1 ]; then
    echo "ns/packet: fastest of 5 runs of $time_n packets (median run); instructions: callgrind, (Ir($cg_n) - Ir(0)) / $cg_n"
    echo
    echo "| inner bytes | offload ns/packet | offload instructions/packet | software ns/packet | software instructions/packet | software / offload, ns | software / offload, instructions |"
    echo "|---|---|---|---|---|---|---|"
else
    echo "ns/packet: fastest of 5 runs of $time_n packets (median run)"
    echo
    echo "| inner bytes | offload ns/packet | software ns/packet | software / offload, ns |"
    echo "|---|---|---|---|"
fi
for s in "${sizes[@]}"; do
    o_ns=$(ns "$s" offload ns_per_packet)
    s_ns=$(ns "$s" software ns_per_packet)
    o_med=$(ns "$s" offload median_ns_per_packet)
    s_med=$(ns "$s" software median_ns_per_packet)
    if [ "$have_valgrind" -eq 1 ]; then
        per=()
        for p in "${paths[@]}"; do
            base=$(ir "$s" "$p" 0)
            full=$(ir "$s" "$p" "$cg_n")
            per+=("$(awk -v a="$full" -v b="$base" -v n="$cg_n" 'BEGIN { printf "%.1f", (a - b) / n }')")
        done
        awk -v s="$s" -v on="$o_ns" -v om="$o_med" -v oi="${per[0]}" \
            -v sn="$s_ns" -v sm="$s_med" -v si="${per[1]}" 'BEGIN {
            printf "| %s | %.1f (%.1f) | %s | %.1f (%.1f) | %s | %.0fx | %.0fx |\n",
                s, on, om, oi, sn, sm, si, sn / on, si / oi
        }'
    else
        awk -v s="$s" -v on="$o_ns" -v om="$o_med" -v sn="$s_ns" -v sm="$s_med" 'BEGIN {
            printf "| %s | %.1f (%.1f) | %.1f (%.1f) | %.0fx |\n", s, on, om, sn, sm, sn / on
        }'
    fi
done
