#!/bin/sh
# Build libfpgactl and run every test suite, as CI does.
#   1. a -Werror build with every suite (unit, cli, install, ...)
#   2. an ASan+UBSan build running the unit, model and cli suites
#   3. a ThreadSanitizer build running the model suite (the multi-threaded
#      queue test; the mocked-kernel tests cannot run under TSan)
#   4. an aarch64 cross build (tools/cross/aarch64-linux-gnu.ini) running the
#      unit and model suites under QEMU's user-mode emulation, and the VM
#      suite's arm64 row (arm64-6.1-legacy: an arm64 guest with an SMMUv3)
# Usage: tests/run-all.sh    (installs missing Debian packages with apt)
set -eu
cd "$(dirname "$0")/.."

tools/deps.sh

run_suites() {
	dir=$1
	shift
	[ -f "$dir/build.ninja" ] || meson setup "$dir" -Dwerror=true "$@" >/dev/null
	ninja -C "$dir"
	meson test -C "$dir" --print-errorlogs --num-processes 2 $SUITES
}

SUITES=""
run_suites build-test
SUITES="--suite unit --suite model --suite cli"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run_suites build-asan -Db_sanitize=address,undefined -Db_lundef=false
SUITES="--suite model"
TSAN_OPTIONS=halt_on_error=1 run_suites build-tsan -Db_sanitize=thread -Db_lundef=false

tools/deps.sh aarch64
SUITES="--suite unit --suite model --suite vm"
run_suites build-aarch64 --cross-file tools/cross/aarch64-linux-gnu.ini

# One closing line over every build, for people and CI alike.
python3 tests/summarize.py build-test build-asan build-tsan build-aarch64
