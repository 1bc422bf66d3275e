#!/bin/sh
# verilator --lint-only -Wall is clean for several parameter sets.
# Usage: lint.sh softcore.sv
set -u
command -v verilator >/dev/null || { echo "SKIP: verilator is not installed (tools/deps.sh)"; exit 77; }
status=0
for params in "" "-GDW=32" "-GDW=128" "-GNQ=1 -GQDEPTH=2" "-GNQ=56 -GQDEPTH=32768" \
	"-GLMEM_BYTES=4096 -GMAX_XFER=4096"; do
	# Large queue counts need Verilator to unroll the per-queue loops.
	if out=$(verilator --lint-only -Wall --unroll-count 128 --unroll-stmts 100000 \
		$params "$1" 2>&1); then
		echo "lint ok: ${params:-defaults}"
	else
		echo "lint FAILED: ${params:-defaults}"
		echo "$out"
		status=1
	fi
done
exit $status
