# fpgactl irq-wait on edu (tools/fpgactl/cmd_irq_wait.c, docs/cli.md):
# MSI, then INTx, --count 5 each, the trigger a write of edu's raise
# register (0x60), the ack a write of its acknowledge register (0x64): exit
# status 0, the header line, one "interrupt N: TYPE vector 0, T us after
# the trigger" line per interrupt, in order, and the summary, whose min,
# median and max are those of the lines; edu's interrupt status register
# (0x24) is clear afterwards.  MSI needs Bus Master Enable, which is off
# before the run: irq-wait turns it on itself.  Without --type it takes
# MSI (edu has no MSI-X).  INTx without --ack: the
# note line, and the interrupt, still asserted, delivered at every unmask.
# No trigger (or a write that raises nothing): "interrupt 1: none within T
# ms", no more waits, the summary and "0 of N interrupts arrived" on
# stderr, exit status 1, after at least the timeout.  Bad input (type,
# vector, offsets, values, count, timeout, an argument): exit status 2, one line on stderr,
# nothing on stdout, and the trigger never written.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"

# edu_status: edu's interrupt status register (0x24), as peek prints it.
edu_status() {
	fpgactl -d "$edu" peek 0x24
}

# edu_clear: acknowledge whatever is raised, and check the status is clear.
edu_clear() {
	fpgactl -d "$edu" poke 0x64 0xffffffff || fail "poke of edu's acknowledge register"
	expect_eq "$(edu_status)" 0x00000000 "edu's interrupt status register after acknowledging all"
}

# out_nr N: line N of the last run's stdout.
out_nr() {
	printf '%s\n' "$out" | sed -n "$1p"
}

# expect_lines N: the last run printed N lines on stdout.
expect_lines() {
	expect_eq "$(printf '%s\n' "$out" | wc -l)" "$1" "lines on stdout"
}

# body_start: $first, the line of stdout after the header and the note
# irq-wait prints for INTx without --ack ("fires again"), if it did.
body_start() {
	first=2
	if [ "$(out_nr 2)" = "note: no --ack: an INTx the device still asserts fires again as soon as it is unmasked" ]; then
		first=3
	fi
}

# expect_received TYPE COUNT HEADER: a run in which all COUNT interrupts of
# TYPE (MSI, INTx) arrived: HEADER (and the note line of INTx without
# --ack, when there is one), the interrupt lines in order, the summary.
expect_received() {
	expect_ok
	expect_eq "$(out_nr 1)" "$3" "header line"
	body_start
	expect_lines $(($2 + first))
	i=1
	while [ $i -le "$2" ]; do
		printf '%s\n' "$(out_nr $((first + i - 1)))" |
			grep -Eq "^interrupt $i: $1 vector 0, [0-9]+\\.[0-9] us after the trigger\$" ||
			fail "line $((first + i - 1)) of stdout is not interrupt $i's: $(out_nr $((first + i - 1)))"
		i=$((i + 1))
	done
	# min, median (the (COUNT/2)+1-th smallest) and max of the lines.
	lats=$(printf '%s\n' "$out" | sed -n "s/^interrupt [0-9]*: $1 vector 0, \\([0-9.]*\\) us after the trigger\$/\\1/p" | sort -n)
	min=$(printf '%s\n' "$lats" | head -n 1)
	med=$(printf '%s\n' "$lats" | sed -n "$(($2 / 2 + 1))p")
	max=$(printf '%s\n' "$lats" | tail -n 1)
	s=s
	[ "$2" = 1 ] && s=
	expect_eq "$(out_nr $(($2 + first)))" \
		"irq-wait: $2 of $2 interrupt$s on $1 vector 0; latency min $min us, median $med us, max $max us" \
		"summary line"
}

# expect_none TYPE COUNT MS: a run in which the first interrupt did not
# arrive within MS ms: status 1, no further wait, the summary, stderr.
expect_none() {
	expect_rc 1
	body_start
	expect_lines $((first + 1))
	expect_eq "$(out_nr $first)" "interrupt 1: none within $3 ms" "line $first of stdout"
	s=s
	[ "$2" = 1 ] && s=
	expect_eq "$(out_nr $((first + 1)))" "irq-wait: 0 of $2 interrupt$s on $1 vector 0" "summary line"
	expect_eq "$err" "fpgactl: irq-wait: $edu: 0 of $2 interrupt$s arrived" "stderr"
}

# run_timed CMD...: run, and $elapsed_ms the time it took (from
# /proc/uptime, to 10 ms).
run_timed() {
	t0=$(cut -d' ' -f1 /proc/uptime)
	run "$@"
	t1=$(cut -d' ' -f1 /proc/uptime)
	elapsed_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 + 0.5 }')
	echo "  took $elapsed_ms ms (to 10 ms)"
}

edu_clear
# Bus mastering is off (vfio-pci turns it off when the last user closes the
# device), so the MSI run below shows that irq-wait enables it.
cmd=$(od -An -tx1 -j4 -N1 "/sys/bus/pci/devices/$edu/config" | tr -d ' ')
note "edu's PCI command register, low byte: 0x$cmd"
[ $((0x$cmd & 4)) = 0 ] || fail "Bus Master Enable is on before irq-wait (command register 0x$cmd)"

trig="trigger: BAR0 0x60 = 0x00000001; ack: BAR0 0x64 = 0x00000001"
run fpgactl -d "$edu" irq-wait --type msi --trigger 0x60=1 --ack 0x64=1 --count 5
expect_received MSI 5 "irq-wait: MSI vector 0 of $edu, eventfd watched by an io_uring event engine; $trig"
expect_no_out_line '^note:'
expect_eq "$(edu_status)" 0x00000000 "edu's interrupt status register after the MSI run"
report "$(out_line '^irq-wait: 5 of 5')"

run fpgactl -d "$edu" irq-wait --type intx --trigger 0x60=1 --ack 0x64=1 --count 5
expect_received INTx 5 "irq-wait: INTx vector 0 of $edu, eventfd watched by an io_uring event engine; $trig"
expect_no_out_line '^note:'
expect_eq "$(edu_status)" 0x00000000 "edu's interrupt status register after the INTx run"
report "$(out_line '^irq-wait: 5 of 5')"

# The type from the device: edu has no MSI-X, so MSI (vector 0).
run fpgactl -d "$edu" irq-wait --trigger 0x60=0x10 --ack 0x64=0x10
expect_received MSI 1 "irq-wait: MSI vector 0 of $edu, eventfd watched by an io_uring event engine; trigger: BAR0 0x60 = 0x00000010; ack: BAR0 0x64 = 0x00000010"
expect_eq "$(edu_status)" 0x00000000 "edu's interrupt status register after the run without --type"

# INTx without --ack: edu keeps the line asserted, each unmask delivers it
# again, and the status register still holds the value afterwards.
run fpgactl -d "$edu" irq-wait --type intx --trigger 0x60=8 --count 3
expect_received INTx 3 "irq-wait: INTx vector 0 of $edu, eventfd watched by an io_uring event engine; trigger: BAR0 0x60 = 0x00000008"
expect_out '^note: no --ack: an INTx the device still asserts fires again as soon as it is unmasked$'
expect_eq "$(edu_status)" 0x00000008 "edu's interrupt status register after INTx without --ack"
edu_clear

# No trigger: nothing raises an interrupt, the first wait times out.
for t in MSI INTx; do
	type=$(echo $t | tr A-Z a-z)
	run_timed fpgactl -d "$edu" irq-wait --type $type --timeout-ms 200
	expect_eq "$(out_nr 1)" "irq-wait: $t vector 0 of $edu, eventfd watched by an io_uring event engine; trigger: none (waiting for the device)" "header line"
	expect_none $t 1 200
	# /proc/uptime counts 10 ms ticks: at least 190 ms between two readings.
	[ "$elapsed_ms" -ge 190 ] || fail "irq-wait gave up after $elapsed_ms ms, before its 200 ms timeout"
done
# --count 3: it stops at the first interrupt that does not come.  (INTx
# without --ack, so the note comes too.)
run fpgactl -d "$edu" irq-wait --type intx --count 3 --timeout-ms 100
expect_out '^note: no --ack: '
expect_none INTx 3 100
# A trigger that raises nothing (edu's liveness register).
run fpgactl -d "$edu" irq-wait --type msi --trigger 0x04=1 --timeout-ms 100
expect_eq "$(out_nr 1)" "irq-wait: MSI vector 0 of $edu, eventfd watched by an io_uring event engine; trigger: BAR0 0x4 = 0x00000001" "header line"
expect_none MSI 1 100
expect_eq "$(edu_status)" 0x00000000 "edu's interrupt status register after the runs without an interrupt"

# Bad input: status 2, one line on stderr, nothing on stdout; a valid
# --trigger 0x60=4 in most of them shows that nothing was written.
# bad REGEX ARGS...: fpgactl -d edu irq-wait ARGS...
bad() {
	re=$1
	shift
	run fpgactl -d "$edu" irq-wait "$@"
	expect_rc 2
	expect_no_out
	expect_eq "$(printf '%s\n' "$err" | wc -l)" 1 "lines on stderr"
	expect_err "^fpgactl: irq-wait: $re\$"
}
irqs="\\(INTx: 1, MSI: 1, MSI-X: 0\\)"
bad "type 'bogus' is not msix, msi or intx" --type bogus --trigger 0x60=4
bad "$edu has no MSI-X interrupt $irqs" --type msix --trigger 0x60=4
bad "$edu has no MSI vector 1 $irqs" --type msi --vector 1 --trigger 0x60=4
bad "$edu has no interrupt vector 1 $irqs" --vector 1 --trigger 0x60=4
bad "INTx has one vector: --vector must be 0" --type intx --vector 1 --trigger 0x60=4
bad "trigger offset 0x62 is not aligned to 4 bytes" --type msi --trigger 0x62=4
bad "trigger '0x60' is not OFFSET=VALUE" --type msi --trigger 0x60
bad "trigger value '0x100000000' is too large \\(max 0xffffffff\\)" --type msi --trigger 0x60=0x100000000
bad "ack offset 0x100000 is outside BAR0 \\(size 0x100000\\)" --type msi --trigger 0x60=4 --ack 0x100000=4
bad "trigger offset 0x100000 is outside BAR0 \\(size 0x100000\\)" --type intx --trigger 0x100000=4
bad "count must be at least 1" --type msi --trigger 0x60=4 --count 0
bad "timeout-ms must be at least 1" --type msi --trigger 0x60=4 --timeout-ms 0
bad "unexpected argument 'extra'" --type msi --trigger 0x60=4 extra
expect_eq "$(edu_status)" 0x00000000 "edu's interrupt status register after the bad input"
expect_eq "$(driver_of "$edu")" vfio-pci "driver of edu at the end"
