#!/bin/sh
# The main job: build libfpgactl and run fpgactl on whatever this machine has,
# then on the built-in software model of the soft-core (docs/model.md), which
# needs no hardware: its selftest must pass; the benchmark only reports.
# Usage: tools/main-job.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}

tools/deps.sh
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" >/dev/null
fpgactl="$build/tools/fpgactl"

"$fpgactl" --version
echo "== fpgactl list"
"$fpgactl" list
echo "== fpgactl doctor"
# doctor exits 1 when something blocks VFIO use; on a machine without an
# IOMMU that is the expected answer, not a failure of the job.
rc=0
"$fpgactl" doctor || rc=$?
[ "$rc" -le 1 ] || exit "$rc"
echo "== fpgactl -d model selftest"
# Every check must pass: its exit status is the job's.
"$fpgactl" -d model selftest || exit $?
echo "== fpgactl bench queue --count 100000"
# Numbers only, judged by nobody; it fails only when it cannot run.
"$fpgactl" bench queue --count 100000 || exit $?
echo "main job: done"
