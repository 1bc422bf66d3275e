#!/bin/sh
# load/save through the RTL's local memory: a file of odd size goes in with
# WRITE commands and comes back (--verify: READ commands and BAR2, which are
# AXI4-Lite reads of the block RAM); save writes an odd-sized file of what
# local memory holds, and loading that back verifies too.
# Usage: lmem.sh FPGACTL sim:PLUGIN
set -eu
fpgactl=$1
dev=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 100003 /dev/urandom >"$tmp/in.bin"
"$fpgactl" -d "$dev" load "$tmp/in.bin" --offset 0x1000 --verify
"$fpgactl" -d "$dev" save "$tmp/out.bin" --size 4097 --offset 0x3
test "$(stat -c %s "$tmp/out.bin")" -eq 4097
"$fpgactl" -d "$dev" load "$tmp/out.bin" --offset 0x10001 --verify
echo "lmem: odd-sized load, verify and save through the RTL's local memory"
