#!/bin/sh
# Instructions per NOP of the library's data path, counted by valgrind's
# callgrind on the inline engine of `fpgactl bench queue` (deterministic:
# machine load does not change them), next to that engine's wall time.
#
# Usage: tools/bench-instructions.sh [BUILD_DIR] [BATCH...]
#        (default: build, batches 1 and 32; depth 64, 20000 NOPs per run)
# With BENCH_INSTR_CHECK=1 it exits 1 when a total exceeds the budget of
# issue 15 (100 instructions per NOP at batch 1, 50 at batch 32), and 77
# when valgrind is missing.
#
# The inline engine calls the library through three functions of its own
# that the compiler may not inline (inline_prep: get_sqe + fill the NOP,
# inline_submit, inline_reap).  The columns are the library alone: the
# instructions callgrind charges to the library's source lines
# (include/fpgactl/queue.h and softcore.h, inlined into those functions,
# and lib/queue*.c, the out-of-line helpers and the exported copies), per
# NOP run (warm-up included), split by the bench function they ran under.
# The bench's own lines (the call and return, its loop, the perfect device)
# are not counted; "with calls" is the three functions' inclusive count,
# those calls included, an upper bound.
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
batches=${*:-1 32}
count=20000
warmup=1000
fpgactl=$build/tools/fpgactl
if ! command -v valgrind >/dev/null 2>&1 || ! command -v callgrind_annotate >/dev/null 2>&1; then
	echo "bench-instructions: valgrind is not installed (tools/deps.sh installs it)" >&2
	exit 77
fi
[ -x "$fpgactl" ] || { echo "bench-instructions: no $fpgactl: build first" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
echo "instructions per NOP (callgrind, library calls of the inline engine of fpgactl bench queue, depth 64)"
printf '%5s %12s %8s %8s %8s %8s %11s  %s\n' batch get_sqe+fill submit reap total budget 'with calls' \
	'wall: inline ns/NOP (uring_inline ns/NOP, ratio)'
for b in $batches; do
	out=$tmp/cg.$b
	valgrind --tool=callgrind --callgrind-out-file="$out" "$fpgactl" bench queue \
		--engine inline --batch "$b" --count "$count" >/dev/null 2>"$tmp/err.$b" || {
		cat "$tmp/err.$b" >&2
		exit 1
	}
	# Wall time of the same engine outside valgrind, e2e ns per NOP, and
	# io_uring NOPs in the same loop and run (uring_inline / inline).
	wall=$("$fpgactl" bench queue --engine inline,uring_inline --batch "$b" \
		--count 1000000 | awk -v b="$b" '
		$1 == "inline" && $2 == b { i = $4 }
		$1 == "uring_inline" && $2 == b { u = $4 }
		END { printf "%s (uring_inline %s, x%.1f)", i, u, (i > 0 ? u / i : 0) }')
	{
		callgrind_annotate --inclusive=yes "$out" 2>/dev/null | sed 's/^/I /'
		callgrind_annotate --inclusive=no --threshold=100 "$out" 2>/dev/null | sed 's/^/S /'
	} | awk -v b="$b" -v nops=$((count + warmup)) -v wall="$wall" '
		# Inclusive counts of the bench functions: the upper bound.
		$1 == "I" && /\[/ && /inline_prep/ { gsub(",", "", $2); ip = $2 }
		$1 == "I" && /\[/ && /inline_submit/ { gsub(",", "", $2); is = $2 }
		$1 == "I" && /\[/ && /inline_reap/ { gsub(",", "", $2); ir = $2 }
		# Self counts by file:function: the library'"'"'s lines only.
		$1 == "S" && $2 ~ /^[0-9,]+$/ {
			loc = $NF ~ /^\[/ ? $(NF - 1) : $NF
			if (loc !~ /include\/fpgactl\/(queue|softcore)\.h:|lib\/queue[a-z_]*\.c:/)
				next
			fn = loc; sub(/.*:/, "", fn)
			v = $2; gsub(",", "", v)
			if (fn ~ /^(inline_prep|fpgactl_queue_get_sqe|fpgactl_queue__get_sqe_slow|fpgactl_queue__set_timeout)/) p += v
			else if (fn ~ /^(inline_submit|fpgactl_queue_submit|fpgactl_queue__submit_timed)/) s += v
			else if (fn ~ /^(inline_reap|fpgactl_queue_reap|fpgactl_queue__reap_)/) r += v
		}
		END {
			budget = b == 1 ? 100 : (b >= 32 ? 50 : 0)
			t = (p + s + r) / nops
			printf "%5d %12.1f %8.1f %8.1f %8.1f %8s %11.1f  %s\n", b, p / nops,
			       s / nops, r / nops, t, budget ? budget : "-", (ip + is + ir) / nops, wall
			if (budget && t > budget) exit 3
		}' || status=$?
done
if [ "$status" -eq 3 ]; then
	echo "bench-instructions: over the budget of issue 15 (see above)" >&2
	[ "${BENCH_INSTR_CHECK:-0}" = 1 ] && exit 1
fi
exit 0
