#!/bin/sh
# yosys synth_xilinx (7-series) of the soft-core succeeds with no latch.
# Usage: synth.sh SYNTH_SCRIPT OUTDIR
set -u
command -v yosys >/dev/null || { echo "SKIP: yosys is not installed (tools/deps.sh)"; exit 77; }
# 4 queues of up to 1024 entries, 64-bit AXI, 16 KiB of local memory
exec nice "$1" "$2" 4 1024 64 16384
