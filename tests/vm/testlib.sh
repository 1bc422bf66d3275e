# Helpers for the guest tests (busybox sh), sourced as /lib/vmtest.sh:
#	. /lib/vmtest.sh
# A test passes when it exits 0, is skipped when it calls skip, and fails
# otherwise.  Its output (stdout and stderr) is shown only when it fails,
# so the helpers print what they ran and what they saw.

EDU_ID=1234:11e8
NVME_ID=1b36:0010

# The VM matrix row (tests/vm/rows.py) this guest runs in: vm.py exports
# FPGACTL_VM_ROW, FPGACTL_VM_ARCH, FPGACTL_VM_KERNEL and FPGACTL_VM_BACKEND
# (the backend fpgactl must end up using here: legacy or iommufd), and
# FPGACTL_IOMMU when the row forces a backend.
ROW=${FPGACTL_VM_ROW:-x86-6.1-legacy}
BACKEND=${FPGACTL_VM_BACKEND:-legacy}

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

# vm_arch: the guest's architecture as vm.py names it (x86, arm64).
vm_arch() {
	(. /etc/vmtest.conf && echo "${FPGACTL_VM_ARCH:-${VMTEST_ARCH:-x86}}")
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

# wait_path gone|present PATH SECONDS: poll every 0.1 s until PATH is gone
# (or present); return 1 when it is not so after SECONDS.
wait_path() {
	_tries=$(($3 * 10))
	while :; do
		if [ "$1" = gone ]; then [ ! -e "$2" ] && return 0
		else [ -e "$2" ] && return 0; fi
		_tries=$((_tries - 1))
		[ $_tries -ge 0 ] || return 1
		sleep 0.1
	done
}

# need_program NAME: skip the test when the program NAME (one of
# tests/vm/progs/, or an example) is not in the guest, i.e. was not given
# to vm.py; in CI (VMTEST_CI, set by vm.py when CI=true) fail instead, so
# that a build that stops handing it over cannot go unnoticed.
need_program() {
	command -v "$1" >/dev/null && return 0
	ci=$(. /etc/vmtest.conf && echo "${VMTEST_CI:-}")
	why="$1 is not in the guest: give build/tests/vm/progs/$1 (or build/examples/$1) to vm.py, as tests/vm/meson.build does"
	[ -n "$ci" ] && fail "$why (CI: not skipped)"
	skip "$why"
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

# Processes sharing one device (99-share, 99-share-queues): a leader that
# exports it, then workers that import it, all in the background; process N
# (0 the leader, else the worker's ID) writes its stdout and stderr to
# PREFIX-N.out and PREFIX-N.err.

# share_leader PREFIX NAME WHAT CMD [ARGS...]: print and start CMD, the
# leader, and wait up to 10 s for its stdout line "NAME: ready".  When CMD
# ends first: skip if its status is 77 (its stdout says why), else show its
# output and fail "WHAT ended early"; fail "WHAT not ready within 10 s"
# when it is not ready by then (and kill it).
share_leader() {
	share_prefix=$1 share_name=$2 share_what=$3
	shift 3
	echo "\$ $* &"
	"$@" >"$share_prefix-0.out" 2>"$share_prefix-0.err" &
	share_pids=$!
	share_ids=
	share_i=0
	until grep -q "^$share_name: ready" "$share_prefix-0.out" 2>/dev/null; do
		share_i=$((share_i + 1))
		if ! kill -0 $share_pids 2>/dev/null; then
			wait $share_pids
			[ $? -ne 77 ] || skip "$(cat "$share_prefix-0.out")"
			cat "$share_prefix-0.out" "$share_prefix-0.err"
			fail "$share_what ended early"
		fi
		[ $share_i -le 200 ] || { kill $share_pids; fail "$share_what not ready within 10 s"; }
		sleep 0.05
	done
}

# share_worker ID CMD [ARGS...]: print and start CMD, worker ID, in the
# background (after share_leader).
share_worker() {
	share_id=$1
	shift
	echo "\$ $* &"
	"$@" >"$share_prefix-$share_id.out" 2>"$share_prefix-$share_id.err" &
	share_pids="$share_pids $!"
	share_ids="$share_ids $share_id"
}

# share_wait: wait for the leader, then each worker in the order started;
# their exit statuses in $rc0 (the leader) and $rcID; then print each one's
# stdout and stderr, prefixed "  stdout N: " and "  stderr N: ".
share_wait() {
	set -- 0 $share_ids
	for share_pid in $share_pids; do
		wait $share_pid
		share_rc=$?
		eval "rc$1=$share_rc"
		shift
	done
	for share_id in 0 $share_ids; do
		sed "s/^/  stdout $share_id: /" "$share_prefix-$share_id.out"
		sed "s/^/  stderr $share_id: /" "$share_prefix-$share_id.err"
	done
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

# report TEXT: a line vm.py shows even when the test passes (REPORT: ...),
# for figures such as a benchmark's.
report() {
	echo "REPORT: $*"
}

# host REQUEST...: ask vm.py, on the host, to do something to the VM, and
# wait (up to $HOST_TIMEOUT seconds, default 30) for its answer.  The
# request goes out on the results port (ttyS1; hvc0 on arm64) as "HOST <seq>
# REQUEST", the answer comes back on ttyS2 (hvc1 on arm64) as "ACK <seq> ok|error TEXT" (see Host in
# vm.py for the requests: device_del ID, device_add DRIVER[,KEY=VALUE...],
# wait_deleted ID SECONDS).  Sets $host_answer to TEXT; returns 0 for ok,
# 1 for an error or no answer in time.
host_seq=0
host() {
	host_seq=$((host_seq + 1))
	nonce=$(. /etc/vmtest.conf && echo "$VMTEST_NONCE")
	# The ports (vm.py's PORTS): ttyS1 and ttyS2 on x86, the virtconsole
	# ports hvc0 and hvc1 on arm64.
	req_port=$(. /etc/vmtest.conf && echo "${VMTEST_RESULTS_PORT:-/dev/ttyS1}")
	ctl_port=$(. /etc/vmtest.conf && echo "${VMTEST_CTL_PORT:-/dev/ttyS2}")
	# Open the answer port before asking, so that the answer cannot be
	# missed (tried on a plain command first: a failed exec redirection
	# ends the shell).
	if ! { true <>"$ctl_port"; } 2>/dev/null; then
		host_answer="cannot open $ctl_port (does vm.py give the VM its port for answers?)"
		echo "host $*: $host_answer"
		return 1
	fi
	exec 8<>"$ctl_port"
	stty raw -echo <&8
	echo "host request $host_seq: $*"
	echo "@@VMTEST $nonce HOST $host_seq $*" >"$req_port"
	host_end=$(($(cut -d. -f1 /proc/uptime) + ${HOST_TIMEOUT:-30}))
	host_answer="no answer within ${HOST_TIMEOUT:-30} s"
	host_rc=1
	while [ "$(cut -d. -f1 /proc/uptime)" -lt "$host_end" ]; do
		IFS= read -r -t 1 line <&8 || continue
		line=$(printf '%s' "$line" | tr -d '\r')
		case $line in
		"@@VMTEST $nonce ACK $host_seq ok "*)
			host_answer=${line#"@@VMTEST $nonce ACK $host_seq ok "}
			host_rc=0
			break
			;;
		"@@VMTEST $nonce ACK $host_seq error "*)
			host_answer=${line#"@@VMTEST $nonce ACK $host_seq error "}
			break
			;;
		esac
	done
	exec 8<&-
	echo "  host answer: $([ $host_rc = 0 ] && echo ok || echo error): $host_answer"
	return $host_rc
}

# expect_backend BDF: fpgactl opens BDF (bound to vfio-pci) with the row's
# backend, $BACKEND, as info says in text and JSON; on an iommufd row the
# kernel has what iommufd needs (/dev/iommu, the device's VFIO cdev), so
# that auto had a choice to make.
expect_backend() {
	run fpgactl -d "$1" info
	expect_ok
	expect_out "^iommu: +group $(group_of "$1"), $BACKEND backend\$"
	run fpgactl -d "$1" info --json
	expect_ok
	expect_eq "$(json_value iommu_backend)" "\"$BACKEND\"" "backend of $1 in row $ROW"
	if [ "$BACKEND" = iommufd ]; then
		[ -c /dev/iommu ] || fail "row $ROW: no /dev/iommu"
		ls "/sys/bus/pci/devices/$1/vfio-dev" 2>/dev/null | grep -q '^vfio[0-9]' ||
			fail "row $ROW: $1 has no VFIO cdev (vfio-dev/vfioN)"
	fi
	note "$1: $BACKEND backend (row $ROW${FPGACTL_IOMMU:+, FPGACTL_IOMMU=$FPGACTL_IOMMU})"
}

# expect_doctor_backend BDF: the last run was "fpgactl -d BDF doctor"; its
# iommufd and cdev lines name the row's backend.
expect_doctor_backend() {
	case $ROW in
	*-6.1-*)
		expect_out '^info +iommufd +no /dev/iommu: the legacy VFIO container is used'
		expect_out "^info +cdev +$1 .*the legacy container is used"
		;;
	*)
		if [ "$BACKEND" = iommufd ]; then
			expect_out '^info +iommufd +/dev/iommu present: iommufd is used for devices with a VFIO cdev$'
			expect_out "^ok +cdev +$1: /dev/vfio/devices/vfio[0-9]+, the iommufd backend is used\$"
		else
			expect_out '^info +iommufd +FPGACTL_IOMMU=legacy: the legacy VFIO container is used$'
			expect_out "^info +cdev +$1 has vfio-dev/vfio[0-9]+, but FPGACTL_IOMMU=legacy: the legacy container is used\$"
		fi
		;;
	esac
}

# modules_builtin: the kernel has its drivers built in (a kernel of
# build-kernel.sh): there is no /lib/modules/order.
modules_builtin() {
	[ ! -f /lib/modules/order ]
}

# load_modules GROUP: load a group of guest kernel modules that init.sh
# does not load at boot (setup.sh keeps them; /lib/modules/GROUP.order
# lists them in load order), skipping those loaded already.  "nvme": the
# kernel's NVMe driver.  Module parameters for a module of the group may
# follow: load_modules nvme "nvme poll_queues=1".
load_modules() {
	group=$1
	shift
	if modules_builtin; then
		builtin_params "$@"
		return
	fi
	[ -f "/lib/modules/$group.order" ] || fail "no module group $group in /lib/modules"
	for m in $(cat "/lib/modules/$group.order"); do
		name=${m%.ko}
		[ -d "/sys/module/$(echo "$name" | tr - _)" ] && continue
		params=""
		for p in "$@"; do
			[ "${p%% *}" = "$name" ] && params=${p#* }
		done
		insmod "/lib/modules/$m" $params || fail "insmod $m $params failed"
	done
	note "modules of group $group loaded: $(tr '\n' ' ' <"/lib/modules/$group.order")"
}

# builtin_params "MODULE KEY=VALUE..."...: load_modules on a kernel with
# everything built in: nothing to load; the parameters are written to
# /sys/module/MODULE/parameters/KEY (they must be writable there).
builtin_params() {
	for p in "$@"; do
		mod=${p%% *}
		for kv in ${p#* }; do
			f=/sys/module/$mod/parameters/${kv%%=*}
			[ -w "$f" ] || fail "built-in $mod: $f is not writable (parameter ${kv%%=*})"
			echo "${kv#*=}" >"$f" || fail "cannot write ${kv#*=} to $f"
		done
	done
	note "modules built in; parameters set: $*"
}

# ---- reprogram and recover tests (9[34]-*.sh, docs/lifecycle.md) ----------

# cfg32 BDF OFFSET / cfg8 BDF OFFSET: a config dword / byte of BDF in hex
# (root reads all of config space through sysfs).
cfg32() {
	od -A n -t x4 -j $(($2)) -N 4 "/sys/bus/pci/devices/$1/config" | tr -d ' \n'
}
cfg8() {
	od -A n -t x1 -j $(($2)) -N 1 "/sys/bus/pci/devices/$1/config" | tr -d ' \n'
}

# reprogram_setup: edu ($edu) behind its root port ($port) on the hotplug
# machine, bound to vfio-pci; the port's AER capability at $aer, its saved
# uncorrectable mask and severity ($mask0, $sev0), whether it can report
# surprise down ($sd_capable); and /tmp/programmer.sh, the programming step
# of the reload tests: it records the port's AER mask and severity in
# /tmp/mid-aer, then has the host unplug the card and plug in DRIVER ($1),
# or nothing ("none"), or fails at once ("fail").
reprogram_setup() {
	TESTDEV_ID=1b36:0005
	edu=$(need_device $EDU_ID) || exit 1
	port=$(basename "$(dirname "$(readlink -f "/sys/bus/pci/devices/$edu")")")
	case $port in
	0000:*) ;;
	*) fail "edu $edu is not behind a PCI bridge (parent $port)" ;;
	esac
	vfio_bind_sysfs "$edu"

	aer=0x100
	[ "$(cfg32 "$port" $aer | cut -c5-8)" = 0001 ] ||
		fail "the root port $port has no AER capability at 0x100 (header $(cfg32 "$port" $aer))"
	mask0=$(cfg32 "$port" $((aer + 8)))
	sev0=$(cfg32 "$port" $((aer + 12)))
	note "root port $port: AER uncorrectable mask $mask0, severity $sev0"
	# Surprise down (bit 5) is unmasked and fatal by default.
	[ $((0x$mask0 & 0x20)) = 0 ] || fail "surprise down already masked on $port"
	[ $((0x$sev0 & 0x20)) = 32 ] || fail "surprise down not fatal on $port to begin with"
	# The mask bit is writable only on a port that can report surprise down
	# (Link Capabilities bit 19); otherwise it is hardwired to 0 (PCIe base
	# spec 7.8.4.3), and only the severity changes.
	cap=$((0x$(cfg8 "$port" 0x34)))
	while [ $cap != 0 ] && [ "$(cfg8 "$port" $cap)" != 10 ]; do
		cap=$((0x$(cfg8 "$port" $((cap + 1)))))
	done
	[ $cap != 0 ] || fail "the root port $port has no PCI Express capability"
	lnkcap=$(cfg32 "$port" $((cap + 12)))
	sd_capable=$(( (0x$lnkcap >> 19) & 1 ))
	note "root port $port: PCIe capability at $cap, Link Capabilities $lnkcap, surprise down reporting: $sd_capable"

	# How the card leaves the slot.  With ACPI hotplug (q35), QEMU's
	# device_del.  On a pciehp slot (virt: native hotplug) device_del is a
	# press of the attention button, on which pciehp waits 5 s for a cancel
	# (pciehp_ctrl.c, pciehp_handle_button_press()); instead the programmer
	# powers the slot off (the slot's sysfs "power", pciehp_sysfs_disable_slot()),
	# and QEMU takes a populated slot that is powered off for unplugged at once
	# (hw/pci/pcie.c, pcie_cap_slot_write_config()): DEVICE_DELETED without
	# device_del.  The slot's "module" link names its hotplug driver.
	out_cmd="host device_del hotedu"
	for s in /sys/bus/pci/slots/*; do
		[ "$(cat "$s/address" 2>/dev/null)" = "${edu%.*}" ] || continue
		note "hotplug slot $(basename "$s") of $edu: driver $(basename "$(readlink "$s/module" 2>/dev/null)")"
		if [ "$(basename "$(readlink "$s/module" 2>/dev/null)")" = pciehp ]; then
			out_cmd="echo 0 >$s/power"
		fi
	done
	note "the programmer takes the card out with: $out_cmd"

	# The programmer: record the port's AER registers mid-reload, then have the
	# host unplug the card and plug in $1 (or nothing when $1 is "none"), or
	# just fail when $1 is "fail".
	cat >/tmp/programmer.sh <<-PROG
	#!/bin/sh
	. /lib/vmtest.sh
	cfg32() {
		od -A n -t x4 -j \$((\$2)) -N 4 "/sys/bus/pci/devices/\$1/config" | tr -d ' \\n'
	}
	echo "\$(cfg32 $port $((aer + 8))) \$(cfg32 $port $((aer + 12)))" >/tmp/mid-aer
	[ "\$1" = fail ] && { echo "programmer: failing on purpose"; exit 3; }
	$out_cmd || exit 1
	host wait_deleted hotedu 20 || exit 1
	[ "\$1" = none ] && exit 0
	host device_add "\$1,id=hotedu,bus=rp1" || exit 1
	PROG
	chmod +x /tmp/programmer.sh
	sed 's/^/  programmer: /' /tmp/programmer.sh
}

# check_masks WHAT: the port's surprise down was non-fatal (and masked, when
# the port can report it) during the programming step, and its mask and
# severity read back as before now.
check_masks() {
	mid=$(cat /tmp/mid-aer 2>/dev/null)
	note "$1: AER mask/severity mid-reload: $mid; after: $(cfg32 "$port" $((aer + 8))) $(cfg32 "$port" $((aer + 12)))"
	[ -n "$mid" ] || fail "$1: the programmer did not run"
	[ $((0x${mid% *} & 0x20)) = $((sd_capable * 32)) ] ||
		fail "$1: surprise down mask during the reload ($mid), port capable of reporting it: $sd_capable"
	[ $((0x${mid#* } & 0x20)) = 0 ] || fail "$1: surprise down still fatal during the reload ($mid)"
	expect_eq "$(cfg32 "$port" $((aer + 8)))" "$mask0" "$1: AER uncorrectable mask after"
	expect_eq "$(cfg32 "$port" $((aer + 12)))" "$sev0" "$1: AER uncorrectable severity after"
	rm -f /tmp/mid-aer
}

