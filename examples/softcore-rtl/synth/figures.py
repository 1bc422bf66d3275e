#!/usr/bin/env python3
"""Sum LUTs, flip-flops and block RAMs from a yosys 'stat' of synth_xilinx."""
import re
import sys

cells = {}
for line in open(sys.argv[1]):
    m = re.match(r'\s+(\S+)\s+(\d+)\s*$', line)
    if m:
        cells[m.group(1)] = int(m.group(2))
luts = sum(n for c, n in cells.items() if re.fullmatch(r'LUT[1-6]', c))
ffs = sum(n for c, n in cells.items() if re.fullmatch(r'FD[CPRSE]E?', c))
ram36 = cells.get('RAMB36E1', 0)
ram18 = cells.get('RAMB18E1', 0)
lutram = sum(n for c, n in cells.items() if c.startswith('RAM') and not c.startswith('RAMB'))
print(f"LUT {luts}  FF {ffs}  RAMB36 {ram36}  RAMB18 {ram18}  "
      f"(BRAM36-equivalent {ram36 + ram18 / 2:g})  LUTRAM cells {lutram}  "
      f"CARRY4 {cells.get('CARRY4', 0)}")
