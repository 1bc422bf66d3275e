#!/bin/sh
# Build libfpgactl and run every test suite, as CI does.
#   1. a -Werror build with every suite (unit, cli, install, ...)
#   2. an ASan+UBSan build running the unit, model and cli suites
#   3. a ThreadSanitizer build running the model suite (the multi-threaded
#      queue test; the mocked-kernel tests cannot run under TSan)
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

# One closing line over every build, for people and CI alike.
python3 tests/summarize.py build-test build-asan build-tsan
