#!/bin/sh
# Build the Verilator co-simulation plugin of the soft-core RTL:
#   OUTDIR/libsoftcore-sim.so, loadable as "sim:OUTDIR/libsoftcore-sim.so".
# Usage: build.sh OUTDIR [NQ QDEPTH DW LMEM_BYTES]   (defaults 4 1024 64 1048576)
# Compiles at -O1 with at most 2 jobs (shared build machines).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$here/../../..
out=$1
nq=${2:-4} depth=${3:-1024} dw=${4:-64} lmem=${5:-1048576}
command -v verilator >/dev/null || { echo "build.sh: verilator not installed (apt-get install verilator)" >&2; exit 77; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
# ccache, when installed (tools/deps.sh does), keeps the compiled model
# between builds: Verilator's output is the same for the same sources.
objcache=$(command -v ccache || true)
verilator --cc --build -j 2 -Wall -Wno-fatal --Mdir "$out/obj" \
	--unroll-count 128 --unroll-stmts 100000 \
	-GNQ="$nq" -GQDEPTH="$depth" -GDW="$dw" -GLMEM_BYTES="$lmem" \
	-CFLAGS "-fPIC -O1 -I$top/include -I$here -DSC_NQ=$nq -DSC_LMEM=$lmem -DSC_DW=$dw" \
	-MAKEFLAGS "OPT_FAST=-O1 OPT_SLOW=-O1 OPT_GLOBAL=-O1 OBJCACHE=$objcache" \
	-LDFLAGS "-shared -fPIC" \
	--exe "$here/plugin.cpp" -o "$out/libsoftcore-sim.so" \
	"$here/../rtl/softcore.sv" >"$out/build.log" 2>&1 || {
	tail -30 "$out/build.log" >&2
	exit 1
}
echo "$out/libsoftcore-sim.so"
