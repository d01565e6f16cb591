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

Prints the slowest path into each register group (one line per register
name, heaviest first):

    python3 scripts/netlist-paths.py target/synth/ecp5-85k-default/ooc_top.json 30
"""

import collections
import json
import re
import sys

# Flip-flops and block RAM start and end paths.
SEQUENTIAL = {"TRELLIS_FF", "DP16KD"}
# Delay through each combinational cell, in ns (ECP5 speed grade 8, rough).
CELL = {"LUT4": 0.35, "PFUMX": 0.2, "L6MUX21": 0.2, "CCU2C": 0.4, "TRELLIS_DPR16X4": 1.0}
# A net between two cells.
NET = 0.6
# Clock-to-out of a register.
CLOCK_TO_OUT = 0.5


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
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    shown_max = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    netlist = json.load(open(sys.argv[1]))
    top = next(m for n, m in netlist["modules"].items() if m.get("attributes", {}).get("top"))
    cells = top["cells"]

    driver = {}
    for name, cell in cells.items():
        for port, bits in cell["connections"].items():
            if cell["port_directions"].get(port) == "output":
                for bit in bits:
                    if not isinstance(bit, str):
                        driver[bit] = (name, port)

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
                t = arrive(b) + net(kind, into) + through(kind, into, out)
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
                    ends.append((arrive(b) + NET, name, into, b))
    ends.sort(key=lambda e: -e[0])

    seen = set()
    for t, name, into, bit in ends:
        group = re.sub(r"\.q_TRELLIS.*|\$.*|\.mem\..*|_TRELLIS_FF.*", "", name)
        if group in seen:
            continue
        seen.add(group)
        chain = []
        while bit is not None and bit in driver:
            chain.append(driver[bit][0])
            bit = previous.get(bit)
        start = chain[-1] if chain else "?"
        print(f"{t:6.2f} ns {len(chain):4d} cells  {group}.{into}  <-  {start}")
        if len(seen) >= shown_max:
            break


if __name__ == "__main__":
    main()
