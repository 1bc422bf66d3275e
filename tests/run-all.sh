#!/bin/sh
# Build libfpgactl and run every test suite, as CI does.
#   1. the Debian packages (tools/deps.sh)
#   2. the VM guest kernels: Debian's 6.1 (tests/vm/setup.sh, which also
#      installs QEMU) and the 6.12 with iommufd built from Debian's
#      linux-source-6.12 (tests/vm/build-kernel.sh: the build tools from
#      apt, then about 10 minutes on 2 cores, once: cached in
#      ~/.cache/libfpgactl-vm)
#   3. a -Werror build with every suite (unit, cli, install, harness, ...,
#      and vm: every guest test in every row of the VM matrix)
#   4. an ASan+UBSan build running the unit, model and cli suites
#   5. a ThreadSanitizer build running the model suite (the multi-threaded
#      queue test; the mocked-kernel tests cannot run under TSan)
#   6. an aarch64 cross build (tools/cross/aarch64-linux-gnu.ini) running the
#      unit and model suites under QEMU's user-mode emulation, and the VM
#      suite's arm64 rows (arm64-6.1-legacy: an arm64 guest with an SMMUv3;
#      arm64-6.12-16k-legacy: the DMA tests on trixie's 16 KiB-page kernel,
#      fetched by tests/vm/fetch-kernel-16k.sh)
# Stage 6 runs in the background from the start of stage 3 (its output is
# printed when it ends): the arm64 guest, the longest single job, is one
# TCG thread, and alongside the native stages it keeps both cores busy.
# The closing summary (tests/summarize.py) gives the time of each stage
# (stage 6 overlaps 3 to 5), the whole run's, one line per matrix row, and
# the counts.
# Usage: tests/run-all.sh    (installs missing Debian packages with apt)
set -eu
cd "$(dirname "$0")/.."

stages=$(mktemp)
trap 'rm -f "$stages"' EXIT

# stage NAME CMD...: run CMD, print and record how long it took.
stage() {
	name=$1
	shift
	start=$(date +%s)
	rc=0
	"$@" || rc=$?
	secs=$(($(date +%s) - start))
	echo "$name $secs" >>"$stages"
	echo "run-all: stage '$name': ${secs} s$([ $rc = 0 ] || echo ", failed (exit status $rc)")"
	return $rc
}

# The VM suite sets itself up when this fails (and says why, or skips
# outside CI), so a failure here does not stop the run.
vm_kernels() {
	sh tests/vm/setup.sh && sh tests/vm/build-kernel.sh >/dev/null ||
		echo "run-all: the VM set-up failed; the vm suite will say why"
}

run_suites() {
	dir=$1
	shift
	[ -f "$dir/build.ninja" ] || meson setup "$dir" -Dwerror=true "$@" >/dev/null
	ninja -C "$dir"
	meson test -C "$dir" --print-errorlogs --num-processes 2 $SUITES
}

run_start=$(date +%s)
stage "deps" tools/deps.sh
stage "vm guest kernels" vm_kernels
# A failing build stage does not stop the later ones: the summary covers
# them all, and the exit status says whether anything failed.
failed=0

# In a background subshell: its SUITES is its own.
aarch64() {
	SUITES="--suite unit --suite model --suite vm"
	tools/deps.sh aarch64 && sh tests/vm/setup-arm64.sh >/dev/null &&
		sh tests/vm/fetch-kernel-16k.sh >/dev/null &&
		run_suites build-aarch64 --cross-file tools/cross/aarch64-linux-gnu.ini
}
aarch64_log=$(mktemp)
trap 'rm -f "$stages" "$aarch64_log"' EXIT
stage "build-aarch64: unit, model (qemu-user), vm arm64 rows" aarch64 >"$aarch64_log" 2>&1 &
aarch64_pid=$!

SUITES=""
stage "build-test: all suites, the VM matrix included" run_suites build-test || failed=1
SUITES="--suite unit --suite model --suite cli"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	stage "build-asan: unit, model, cli" run_suites build-asan -Db_sanitize=address,undefined -Db_lundef=false ||
	failed=1
SUITES="--suite model"
TSAN_OPTIONS=halt_on_error=1 stage "build-tsan: model" run_suites build-tsan -Db_sanitize=thread -Db_lundef=false ||
	failed=1

wait "$aarch64_pid" || failed=1
echo "run-all: the aarch64 stage's output (it ran alongside the stages above):"
cat "$aarch64_log"
echo "whole run (aarch64 alongside) $(($(date +%s) - run_start))" >>"$stages"

# One closing summary over every build, for people and CI alike.
python3 tests/summarize.py --stages "$stages" build-test build-asan build-tsan build-aarch64 || failed=1
exit $failed
