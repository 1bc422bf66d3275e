# Helpers for the guest tests (busybox sh), sourced as /lib/vmtest.sh:
#	. /lib/vmtest.sh
# A test passes when it exits 0, is skipped when it calls skip, and fails
# otherwise.  Its output (stdout and stderr) is shown only when it fails,
# so the helpers print what they ran and what they saw.

EDU_ID=1234:11e8
NVME_ID=1b36:0010

# fail MESSAGE: end the test as failed.
fail() {
	echo "FAIL: $*"
	exit 1
}

# skip REASON: end the test as skipped.
skip() {
	echo "$*" >"${VMTEST_SKIP_FILE:-/dev/null}"
	echo "SKIP: $*"
	exit 77
}

# note TEXT: a line of commentary in the output.
note() {
	echo "-- $*"
}

# run CMD [ARGS...]: run a command, print it with its output and exit status.
# Sets $out (stdout), $err (stderr) and $rc.
run() {
	echo "\$ $*"
	"$@" >/tmp/vmtest-run.out 2>/tmp/vmtest-run.err
	rc=$?
	out=$(cat /tmp/vmtest-run.out)
	err=$(cat /tmp/vmtest-run.err)
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/  stdout: /'
	[ -z "$err" ] || printf '%s\n' "$err" | sed 's/^/  stderr: /'
	echo "  exit status: $rc"
}

# expect_rc N: the last run exited with status N.
expect_rc() {
	[ "$rc" = "$1" ] || fail "expected exit status $1, got $rc"
}

# expect_ok: the last run succeeded with nothing on stderr.
expect_ok() {
	expect_rc 0
	[ -z "$err" ] || fail "expected nothing on stderr"
}

# expect_out REGEX / expect_err REGEX: a line of stdout / stderr matches
# the extended regular expression.
expect_out() {
	printf '%s\n' "$out" | grep -Eq -- "$1" || fail "no line of stdout matches /$1/"
}
expect_err() {
	printf '%s\n' "$err" | grep -Eq -- "$1" || fail "no line of stderr matches /$1/"
}
# expect_no_out_line REGEX: no line of stdout matches.
expect_no_out_line() {
	if printf '%s\n' "$out" | grep -Eq -- "$1"; then
		fail "a line of stdout matches /$1/"
	fi
}

# expect_no_out: the last run printed nothing on stdout.
expect_no_out() {
	[ -z "$out" ] || fail "expected nothing on stdout"
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

# out_line REGEX: the first line of stdout that matches (empty if none).
out_line() {
	printf '%s\n' "$out" | grep -E -m 1 -- "$1"
}

# pci_find VENDOR:DEVICE: the address of the first such device, from sysfs.
pci_find() {
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = "0x${1%:*}" ] &&
			[ "$(cat "$d/device")" = "0x${1#*:}" ]; then
			basename "$d"
			return 0
		fi
	done
	return 1
}

# need_device VENDOR:DEVICE: print the device's address or fail the test.
need_device() {
	pci_find "$1" || fail "no PCI device $1 in the guest (does QEMU create it?); the guest has:
$(pci_table)"
}

# pci_table: address, vendor:device and driver of every PCI device.
pci_table() {
	for d in /sys/bus/pci/devices/*; do
		b=$(basename "$d")
		v=$(cat "$d/vendor")
		i=$(cat "$d/device")
		echo "  $b ${v#0x}:${i#0x} driver $(driver_of "$b") group $(group_of "$b")"
	done
}

# driver_of BDF: name of the bound driver, or "-" when none.
driver_of() {
	if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
		basename "$(readlink "/sys/bus/pci/devices/$1/driver")"
	else
		echo -
	fi
}

# group_of BDF: IOMMU group number, or "-" when none.
group_of() {
	if [ -e "/sys/bus/pci/devices/$1/iommu_group" ]; then
		basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"
	else
		echo -
	fi
}

# vfio_bind_sysfs BDF: bind to vfio-pci through sysfs alone, without fpgactl,
# for tests whose subject is not binding.
vfio_bind_sysfs() {
	[ "$(driver_of "$1")" = vfio-pci ] && return 0
	d=/sys/bus/pci/devices/$1
	[ -e "$d/driver" ] && echo "$1" >"$d/driver/unbind"
	echo vfio-pci >"$d/driver_override"
	echo "$1" >/sys/bus/pci/drivers_probe
	[ "$(driver_of "$1")" = vfio-pci ] || fail "could not bind $1 to vfio-pci through sysfs"
	note "$1 bound to vfio-pci (through sysfs)"
}

# need_command COMMAND: skip the test while the fpgactl in the guest has no
# such command (fpgactl COMMAND --help fails), so that a test can land
# before the command it tests.  Remove the call once the command exists:
# from then on a missing command must fail the test, not skip it.
need_command() {
	fpgactl "$1" --help >/dev/null 2>&1 ||
		skip "fpgactl has no '$1' command yet (fpgactl $1 --help: exit status $?)"
}

# hugepages NODE|all WHAT: a 2 MiB hugepage count of a NUMA node or of the
# whole guest; WHAT is nr_hugepages, free_hugepages, ...
hugepages() {
	if [ "$1" = all ]; then
		cat "/sys/kernel/mm/hugepages/hugepages-2048kB/$2"
	else
		cat "/sys/devices/system/node/node$1/hugepages/hugepages-2048kB/$2"
	fi
}

# numa_node_of BDF: the device's NUMA node from sysfs (-1: none).
numa_node_of() {
	cat "/sys/bus/pci/devices/$1/numa_node"
}

# kmsg_id BDF: the device as the kernel's DMAR messages name it, bb:dd.f.
kmsg_id() {
	echo "${1#*:}"
}

# expect_kmsg REGEX [SECONDS]: a line of the kernel log since the test began
# (init.sh clears it before each test) matches, within SECONDS (default 3;
# the IOMMU reports faults from an interrupt, a little after the fact).
expect_kmsg() {
	i=0
	while :; do
		dmesg | grep -Eq -- "$1" && return 0
		[ $i -lt $((${2:-3} * 10)) ] || break
		i=$((i + 1))
		sleep 0.1
	done
	echo "kernel log since the test began:"
	dmesg | sed 's/^/  kernel: /'
	fail "no kernel log line matches /$1/"
}

# expect_le A B WHAT: the number A is at most the number B (hex or decimal,
# 64-bit unsigned; compared as 16-digit hex strings, since sh arithmetic
# is signed).
expect_le() {
	a=$(printf '%016x' "$1") && b=$(printf '%016x' "$2") ||
		fail "$3: not numbers: '$1', '$2'"
	[ "$(printf '%s\n%s\n' "$a" "$b" | sort | tail -n 1)" = "$b" ] ||
		fail "$3: $1 is above $2"
}

# expect_hugepages: the 2 MiB hugepages init.sh reserved (VMTEST_HUGEPAGES
# of /etc/vmtest.conf: a total, or NODE:COUNT per node) are there and free,
# and hugetlbfs is mounted on /dev/hugepages.
expect_hugepages() {
	want=$(. /etc/vmtest.conf && echo "$VMTEST_HUGEPAGES")
	case $want in
	*:*)
		for spec in $want; do
			n=${spec%%:*}
			expect_eq "$(hugepages "$n" nr_hugepages)" "${spec#*:}" "2 MiB hugepages reserved on node $n"
			expect_eq "$(hugepages "$n" free_hugepages)" "${spec#*:}" "2 MiB hugepages free on node $n"
		done
		;;
	*)
		expect_eq "$(hugepages all nr_hugepages)" "$want" "2 MiB hugepages reserved"
		expect_eq "$(hugepages all free_hugepages)" "$want" "2 MiB hugepages free"
		;;
	esac
	grep -q '^nodev /dev/hugepages hugetlbfs .*pagesize=2M' /proc/mounts ||
		fail "hugetlbfs (2 MiB pages) is not mounted on /dev/hugepages: $(grep hugetlbfs /proc/mounts)"
	note "2 MiB hugepages: $want (free: $(hugepages all free_hugepages)), hugetlbfs on /dev/hugepages"
}

# run_watch_hugepages CMD [ARGS...]: like run, and meanwhile watches the
# free 2 MiB hugepages: $hp_min_all is the fewest free in the whole guest
# seen while CMD ran, $hp_min_N the fewest on node N.  A buffer CMD holds
# for a while (a few DMA rounds of edu, 0.2 s each) shows up there.
run_watch_hugepages() {
	echo "\$ $*"
	"$@" >/tmp/vmtest-run.out 2>/tmp/vmtest-run.err &
	pid=$!
	nodes=$(cd /sys/devices/system/node && ls -d node[0-9]* | sed 's/node//')
	hp_min_all=$(hugepages all free_hugepages)
	for n in $nodes; do eval "hp_min_$n=\$(hugepages $n free_hugepages)"; done
	# Until the process is gone or a zombie (the shell reaps it at wait).
	while st=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) && [ "$st" != Z ]; do
		f=$(hugepages all free_hugepages)
		[ "$f" -lt "$hp_min_all" ] && hp_min_all=$f
		for n in $nodes; do
			f=$(hugepages "$n" free_hugepages)
			eval "[ \"$f\" -lt \"\$hp_min_$n\" ] && hp_min_$n=$f"
		done
		sleep 0.05
	done
	wait "$pid"
	rc=$?
	out=$(cat /tmp/vmtest-run.out)
	err=$(cat /tmp/vmtest-run.err)
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/  stdout: /'
	[ -z "$err" ] || printf '%s\n' "$err" | sed 's/^/  stderr: /'
	echo "  exit status: $rc"
	echo "  fewest free 2 MiB hugepages while it ran: $hp_min_all in all$(for n in $nodes; do eval "printf ', %s on node %s' \$hp_min_$n $n"; done)"
}

# json_value KEY: the value of "KEY": in the last run's stdout, for the
# one-key-a-line JSON objects fpgactl prints (without the trailing comma).
json_value() {
	printf '%s\n' "$out" | sed -n "s/^ *\"$1\": *\\(.*\\)\$/\\1/p" | sed 's/,$//' | head -n 1
}

# text_value LABEL: the value after "LABEL:" in the last run's stdout.
text_value() {
	printf '%s\n' "$out" | sed -n "s/^$1: *//p" | head -n 1
}
