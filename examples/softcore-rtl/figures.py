#!/usr/bin/env python3
"""Cycle figures of the soft-core RTL in co-simulation (docs/softcore-rtl.md).

Runs the library against the Verilator plugin with trace=PATH, which stamps
with the clock cycle every doorbell write (the AXI4-Lite W handshake), every
DMA burst (the AR handshake, the last W beat) and every MSI-X request, and
derives from the traces:

  * NOP latency: cycles from the SQ tail doorbell to the last beat of the
    completion write, one command in flight (bench queue --depth 2 --batch 1)
  * 4 KiB COPY latency: the same for softcore_copy's single COPY
  * batch 32: cycles per NOP while the engine is fed (bench queue --depth 64
    --batch 32): median over the run of (cycle of CQE j+31 - cycle of CQE j)/31
  * NOPs per second at 250 MHz from both
  * simulated cycles per second of wall-clock time while the model is clocked

Usage: figures.py BUILD_DIR PLUGIN.so [OPTIONS]   (OPTIONS: e.g. rd_lat=200)
"""
import os
import statistics
import subprocess
import sys
import tempfile

CLOCK_HZ = 250e6


def run_traced(cmd_for_spec, plugin, opts, tmp, name):
    trace = os.path.join(tmp, name + ".trace")
    spec = f"sim:{plugin}:" + ",".join([o for o in [opts, f"trace={trace}"] if o])
    subprocess.run(cmd_for_spec(spec), check=True, stdout=subprocess.DEVNULL)
    events = []
    for line in open(trace):
        f = line.split()
        events.append((int(f[0]), f[1], f[2:]))
    return events


def sq_doorbells(events):
    return [c for c, kind, a in events if kind == "d" and (int(a[0], 16) - 0x1000) % 8 == 0]


def cqes(events):
    return [c for c, kind, a in events if kind == "w" and int(a[1]) == 16]


def latencies(events):
    """Doorbell -> first completion write after it, for each SQ doorbell."""
    dbs, cs = sq_doorbells(events), cqes(events)
    out, j = [], 0
    for d in dbs:
        while j < len(cs) and cs[j] < d:
            j += 1
        if j < len(cs):
            out.append(cs[j] - d)
    return out


def rate(events):
    for c, kind, a in events:
        if kind == "end":
            return c / float(a[0]) if float(a[0]) > 0 else 0.0
    return 0.0


def main():
    build, plugin = sys.argv[1], os.path.abspath(sys.argv[2])
    opts = sys.argv[3] if len(sys.argv) > 3 else ""
    fpgactl = os.path.join(build, "tools", "fpgactl")
    copy = os.path.join(build, "examples", "softcore_copy")
    with tempfile.TemporaryDirectory() as tmp:
        nop1 = run_traced(lambda s: [fpgactl, "-d", s, "bench", "queue", "--depth", "2",
                                     "--batch", "1", "--count", "2000"],
                          plugin, opts, tmp, "nop1")
        nop32 = run_traced(lambda s: [fpgactl, "-d", s, "bench", "queue", "--depth", "64",
                                      "--batch", "32", "--count", "20000"],
                           plugin, opts, tmp, "nop32")
        cp = run_traced(lambda s: [copy, s], plugin, opts, tmp, "copy")
    lat1 = statistics.median(latencies(nop1))
    cs = cqes(nop32)
    per32 = statistics.median((cs[j + 31] - cs[j]) / 31 for j in range(len(cs) - 31))
    lat_copy = latencies(cp)[0]
    print(f"host latency model: {opts or 'rd_lat=0,wr_lat=0'} "
          f"(first read beat rd_lat cycles after AR, B wr_lat cycles after the last W)")
    print(f"NOP, doorbell to completion write: {lat1:g} cycles "
          f"-> {CLOCK_HZ / lat1 / 1e6:.2f} M NOPs/s at 250 MHz, one at a time (batch 1)")
    print(f"NOP, batch 32: {per32:g} cycles per NOP "
          f"-> {CLOCK_HZ / per32 / 1e6:.2f} M NOPs/s at 250 MHz")
    print(f"COPY 4 KiB, doorbell to completion write: {lat_copy} cycles "
          f"({lat_copy / 250:.2f} us at 250 MHz)")
    print(f"simulation speed: {rate(nop1):.0f} cycles/s (NOP batch 1 run), "
          f"{rate(nop32):.0f} cycles/s (batch 32 run), {rate(cp):.0f} cycles/s (COPY run)")


if __name__ == "__main__":
    main()
