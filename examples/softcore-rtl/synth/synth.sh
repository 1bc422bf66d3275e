#!/bin/sh
# Synthesize the soft-core for a Xilinx 7-series part with yosys and print
# LUTs, flip-flops and block RAMs; fail if a latch was inferred.
# Usage: synth.sh OUTDIR [NQ QDEPTH DW LMEM_BYTES]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$1
nq=${2:-4} depth=${3:-1024} dw=${4:-64} lmem=${5:-1048576}
mkdir -p "$out"
cat >"$out/synth.ys" <<EOS
read_verilog -sv $here/../rtl/softcore.sv
chparam -set NQ $nq -set QDEPTH $depth -set DW $dw -set LMEM_BYTES $lmem softcore
synth_xilinx -family xc7 -top softcore
tee -o $out/stat.txt stat
EOS
# Warnings (memory splitting, port resizing) go to the log only.
if ! yosys -q -l "$out/yosys.log" "$out/synth.ys" >/dev/null 2>&1; then
	tail -20 "$out/yosys.log" >&2
	exit 1
fi
# A latch shows as "Latch inferred for signal ..." when processes are
# converted, and as a latch cell in the netlist (LDCE/LDPE on 7-series).
if grep -Eq '^Latch inferred' "$out/yosys.log" ||
	grep -Eq '^ +(LDCE|LDPE|\$_DLATCH_[A-Z0-9]*_|\$dlatch) ' "$out/stat.txt"; then
	echo "synth: latches inferred (see $out/yosys.log)" >&2
	exit 1
fi
python3 "$here/figures.py" "$out/stat.txt"
