#!/usr/bin/env python3
"""Rank the longest register-to-register paths of a synthesized ECP5 netlist.

nextpnr names a critical path only after routing, and routing the whole NIC
under WebAssembly takes well over half an hour. This reads the netlist yosys
writes (`ooc_top.json` in `overlay-nic synth`'s output directory) and
estimates every path with fixed delays: a LUT level and a net between cells
each cost a constant, a carry chain's ripple almost nothing, and a LUT's
second stage (PFUMX, L6MUX21) is reached without a net. The figures are not
nextpnr's (no placement, no fanout), but they rank paths by logic depth and
name their ends, which is what finding the path between two blocks needs.

A net's delay grows with its fanout (a constant per doubling): a net with
hundreds of sinks spans much of the die once placed, and without this term
the model missed the NIC's slowest path (a FIFO's read address, fanout
400, into its distributed RAM), which placement made the worst.

Given a placement (--placed: the placed.json `overlay-nic synth
--place-only` writes beside each seed's report), a net is charged by the
distance from its driver to each sink instead, with the shape of
nextpnr-ecp5's own estimate: past logic depth, the whole NIC's slowest
placed paths are short chains whose nets cross the die (a wide clock
enable, a lookup key fanned out to every comparator), and only the
placement says which. Its figures run about 1.4x nextpnr's estimate (21.6
ns against 15.1 on the NIC; 12.1 against 8.1 on tso_first_segment), so
they rank paths rather than time them.

Prints the slowest path into each register group (one line per register
name, heaviest first), and the cells of the first few with --show (with
their placed x/y under --placed):

    python3 scripts/netlist-paths.py target/synth/ecp5-85k-default/ooc_top.json 30
    python3 scripts/netlist-paths.py target/synth/ecp5-85k-default/ooc_top.json 10 --show 3
    python3 scripts/netlist-paths.py target/synth/ecp5-85k-default/ooc_top.json 30 \
        --placed target/synth/ecp5-85k-default/seed1/placed.json
"""

import argparse
import collections
import json
import math
import re
import sys

# Flip-flops and block RAM start and end paths.
SEQUENTIAL = {"TRELLIS_FF", "DP16KD"}
# Delay through each combinational cell, in ns (ECP5 speed grade 8, rough).
CELL = {"LUT4": 0.35, "PFUMX": 0.2, "L6MUX21": 0.2, "CCU2C": 0.4, "TRELLIS_DPR16X4": 1.0}
# A net between two cells, plus FANOUT per doubling of its sinks.
NET = 0.6
FANOUT = 0.25
# Clock-to-out of a register.
CLOCK_TO_OUT = 0.5
# A placed net: nextpnr-ecp5's estimate is this much per unit of
# 3 + 2 x (the first 5 tiles of dx and of dy) + the tiles beyond them
# (speed grade 8).
PLACED_UNIT = 0.076


def placed_net(a, b):
    """Delay of a net from tile `a` to tile `b` (x, y)."""
    dx, dy = abs(a[0] - b[0]), abs(a[1] - b[1])
    near = min(dx, 5) + min(dy, 5)
    return PLACED_UNIT * (3 + 2 * near + max(dx - 5, 0) + max(dy - 5, 0))


def placement(path):
    """Each placed cell's tile, from nextpnr's NEXTPNR_BEL ("X47/Y4/SLICED.FF1")."""
    module = next(iter(json.load(open(path))["modules"].values()))
    where = {}
    for name, cell in module["cells"].items():
        bel = cell.get("attributes", {}).get("NEXTPNR_BEL")
        if bel:
            x, y = bel.split("/")[:2]
            where[name] = (int(x[1:]), int(y[1:]))
    return where


def through(cell_type, into, out):
    """Delay from input `into` to output `out` of a combinational cell."""
    if cell_type == "CCU2C":
        if into == "CIN":
            return 0.05 if out == "COUT" else 0.25
        return 0.4
    if cell_type in ("PFUMX", "L6MUX21") and into in ("ALUT", "BLUT", "D0", "D1"):
        return 0.15
    return CELL[cell_type]


def net(cell_type, into):
    """Delay of the net into `into`: zero for dedicated carry and mux wires."""
    if cell_type == "CCU2C" and into == "CIN":
        return 0.0
    if cell_type in ("PFUMX", "L6MUX21") and into in ("ALUT", "BLUT", "D0", "D1"):
        return 0.0
    return NET


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("netlist", help="ooc_top.json from overlay-nic synth")
    parser.add_argument("count", nargs="?", type=int, default=30, help="register groups to list")
    parser.add_argument("--show", type=int, default=0, help="print the cells of the first N paths")
    parser.add_argument("--placed", help="placed.json from --place-only: nets charged by distance")
    args = parser.parse_args()
    shown_max = args.count
    netlist = json.load(open(args.netlist))
    top = next(m for n, m in netlist["modules"].items() if m.get("attributes", {}).get("top"))
    cells = top["cells"]

    driver = {}
    for name, cell in cells.items():
        for port, bits in cell["connections"].items():
            if cell["port_directions"].get(port) == "output":
                for bit in bits:
                    if not isinstance(bit, str):
                        driver[bit] = (name, port)

    fanout = collections.Counter()
    for name, cell in cells.items():
        for port, bits in cell["connections"].items():
            if cell["port_directions"].get(port) == "input":
                for bit in bits:
                    if not isinstance(bit, str):
                        fanout[bit] += 1

    where = placement(args.placed) if args.placed else {}

    def wire(bit, kind, into, sink):
        """Delay of net `bit` into port `into` of `sink`, a `kind` cell."""
        base = net(kind, into)
        if not base:
            return 0.0
        source = driver.get(bit, (None,))[0]
        if source in where and sink in where:
            return placed_net(where[source], where[sink])
        return base + FANOUT * math.log2(max(fanout[bit], 1))

    arrival, previous = {}, {}
    sys.setrecursionlimit(1_000_000)

    def arrive(bit):
        """Latest arrival at a net bit, remembering the input it came from."""
        if bit in arrival:
            return arrival[bit]
        arrival[bit] = 0.0  # a combinational loop ends here
        previous[bit] = None
        if bit not in driver:
            return 0.0
        name, out = driver[bit]
        cell = cells[name]
        kind = cell["type"]
        if kind not in CELL:
            arrival[bit] = CLOCK_TO_OUT if kind in SEQUENTIAL else 0.0
            return arrival[bit]
        best, best_bit = 0.0, None
        for into, bits in cell["connections"].items():
            if cell["port_directions"].get(into) != "input":
                continue
            # Distributed RAM: only the read address is combinational.
            if kind == "TRELLIS_DPR16X4" and into != "RAD":
                continue
            for b in bits:
                if isinstance(b, str):
                    continue
                t = arrive(b) + wire(b, kind, into, name) + through(kind, into, out)
                if t > best:
                    best, best_bit = t, b
        arrival[bit], previous[bit] = best, best_bit
        return best

    ends = []
    for name, cell in cells.items():
        if cell["type"] not in SEQUENTIAL:
            continue
        for into, bits in cell["connections"].items():
            if cell["port_directions"].get(into) != "input" or into.startswith("CLK"):
                continue
            for b in bits:
                if not isinstance(b, str):
                    ends.append((arrive(b) + wire(b, cell["type"], into, name), name, into, b))
    ends.sort(key=lambda e: -e[0])

    seen = set()
    for t, name, into, bit in ends:
        group = re.sub(r"\.q_TRELLIS.*|\$.*|\.mem\..*|_TRELLIS_FF.*", "", name)
        if group in seen:
            continue
        seen.add(group)
        chain = []
        last = bit
        while bit is not None and bit in driver:
            chain.append(driver[bit][0])
            bit = previous.get(bit)
        start = chain[-1] if chain else "?"
        print(f"{t:6.2f} ns {len(chain):4d} cells  {group}.{into}  <-  {start}")
        if len(seen) <= args.show:
            while last is not None and last in driver:
                name = driver[last][0]
                at = f"  at {where[name]}" if name in where else ""
                print(
                    f"        {arrival[last]:6.2f} ns  fanout {fanout[last]:4d}  "
                    f"{name} ({cells[name]['type']}){at}"
                )
                last = previous.get(last)
        if len(seen) >= shown_max:
            break


if __name__ == "__main__":
    main()
