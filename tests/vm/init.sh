#!/bin/sh
# /init of the VM test initramfs that vm.py builds (busybox sh, PID 1).
#
# Mounts the pseudo file systems, loads the VFIO modules (unless the
# kernel has them built in), runs every guest
# test in /tests in the order /etc/vmtest.conf gives, and powers off.  The
# results go to the second serial port (/dev/ttyS1), which the kernel never
# writes to; every line carries "@@VMTEST <nonce>" so that vm.py can tell it
# from anything else.  The protocol, one line each:
#   @@VMTEST <nonce> BOOTED <kernel release>
#   @@VMTEST <nonce> SETUP-FAILED <what>     (then "|" and "K" lines, power off)
#   @@VMTEST <nonce> READY <guest uptime> <seconds the hugepages took>
#   @@VMTEST <nonce> BEGIN <test>
#   @@VMTEST <nonce> | <a line of the test's stdout and stderr>
#   @@VMTEST <nonce> K <a kernel log line logged while the test ran>
#   @@VMTEST <nonce> END <test> ok|fail|skip <exit status> <seconds> [reason]
#   @@VMTEST <nonce> DONE
# and, written by a test itself while it runs (host in testlib.sh; vm.py
# answers on ttyS2, hvc1 on arm64: VMTEST_CTL_PORT):
#   @@VMTEST <nonce> HOST <seq> <request>
# A test's output is collected in a file and sent only once it has ended, so
# its lines are never interleaved with anything.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin LD_LIBRARY_PATH=/lib HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
# Only emergency messages on the console; the rest is read with dmesg.
echo 1 >/proc/sys/kernel/printk

. /etc/vmtest.conf
# The matrix row's variables (FPGACTL_VM_ROW, FPGACTL_VM_BACKEND, ...,
# FPGACTL_IOMMU when the row forces a backend: tests/vm/rows.py) go to
# every test's environment.
export $(sed -n 's/^\(FPGACTL_[A-Za-z0-9_]*\)=.*/\1/p' /etc/vmtest.conf)

# The results port, VMTEST_RESULTS_PORT: ttyS1 on x86; on arm64 (virt has
# one UART) hvc0, a virtconsole port that appears once virtio_console is
# loaded below.  Until it opens the results go to the console.
# /dev/ttyS1 exists even without a UART behind it; then opening it fails.
results=${VMTEST_RESULTS_PORT:-/dev/ttyS1}
open_results() {
	stty -F "$results" raw -echo 2>/dev/null || return 1
	exec 3>"$results"
	results_open=1
}
results_open=
open_results || exec 3>/dev/console
P="@@VMTEST $VMTEST_NONCE"
say() { echo "$P $*" >&3; }
# send_file TAG FILE: every line of FILE as "<P> TAG line".
send_file() { awk -v p="$P $1" '{ sub(/\r$/, ""); print p " " $0 }' "$2" >&3; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
finish() {
	exec 3>&-
	sync
	poweroff -f
	sleep 10 # poweroff -f does not return; panic=-1 and -no-reboot if init exits
}

say BOOTED "$(uname -r)"

# A kernel with everything built in (build-kernel.sh) comes without
# /lib/modules/order: nothing to load.
for m in $(cat /lib/modules/order 2>/dev/null); do
	if ! insmod "/lib/modules/$m" >>/tmp/setup.log 2>&1; then
		say SETUP-FAILED "insmod $m"
		send_file "|" /tmp/setup.log
		dmesg | tail -n 40 >/tmp/setup.kmsg
		send_file K /tmp/setup.kmsg
		finish
	fi
done
# A virtconsole port shows up a little after virtio_console is loaded (the
# host announces its ports to the driver, which adds them from a work item).
case $results in
/dev/hvc*)
	i=0
	while [ -z "$results_open" ] && [ $i -lt 50 ] && ! open_results; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -n "$results_open" ] || echo "init: $results did not appear, results on the console" >/dev/console
	;;
esac
# VMTEST_ACS_RESCAN (arm64): re-enumerate the PCI bridges, so that the
# kernel enables their ACS.  On a device-tree boot (QEMU's virt) Linux 6.1
# requests ACS only in of_iommu_configure(), at the first driver probe,
# after pci_device_add() -> pci_acs_init() -> pci_enable_acs() ran for the
# devices enumerated at boot: the root port keeps ACS off, so
# pci_device_group() puts the device below it in the port's IOMMU group.
# VFIO then switches the port to VFIO's domain with the device, where the
# port's MSIs (pciehp, AER) fault at the SMMU: hotplug stops working.  A
# bridge removed and rescanned now is enumerated with ACS requested (as on
# ACPI, where IORT requests it before the scan, and on x86).
if [ -n "${VMTEST_ACS_RESCAN:-}" ]; then
	for d in /sys/bus/pci/devices/*; do
		case $(cat "$d/class" 2>/dev/null) in
		0x0604*) [ -e "$d/remove" ] && echo 1 >"$d/remove" ;;
		esac
	done
	echo 1 >/sys/bus/pci/rescan
fi
# 2 MiB hugepages for the DMA tests, and hugetlbfs on /dev/hugepages (where
# systemd mounts it), so that both the hugetlbfs and the memfd(MFD_HUGETLB)
# backings are real.  VMTEST_HUGEPAGES is a total ("16") or per NUMA node
# ("0:16 1:16").  Not fatal here: the guest-env tests check the counts.
hp_start=$(uptime_s)
case ${VMTEST_HUGEPAGES:-0} in
*:*)
	for spec in $VMTEST_HUGEPAGES; do
		echo "${spec#*:}" \
			>"/sys/devices/system/node/node${spec%%:*}/hugepages/hugepages-2048kB/nr_hugepages" 2>/dev/null
	done
	;;
# The 2 MiB pool by name: /proc/sys/vm/nr_hugepages is the default size's,
# which is 32 MiB on a 16 KiB-page arm64 kernel (2 MiB pages are contiguous
# PTEs there).
*) echo "${VMTEST_HUGEPAGES:-0}" >/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 2>/dev/null ;;
esac
mkdir -p /dev/hugepages && mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages 2>/dev/null
hp_end=$(uptime_s)
# READY, with the guest's uptime and the seconds the hugepages took.
say READY "$hp_end" "$(awk -v a="$hp_start" -v b="$hp_end" 'BEGIN { printf "%.2f", b - a }')"

for t in $VMTEST_TESTS; do
	say BEGIN "$t"
	dir=/tmp/vmtest/$t
	mkdir -p "$dir"
	dmesg -c >/dev/null
	start=$(uptime_s)
	(
		cd "$dir" &&
			VMTEST_NAME=$t VMTEST_SKIP_FILE=$dir/skip-reason \
				exec timeout -s KILL "$VMTEST_TIMEOUT" sh "/tests/$t.sh"
	) >"$dir/output" 2>&1 </dev/null
	rc=$?
	end=$(uptime_s)
	dmesg -c >"$dir/kmsg"
	send_file "|" "$dir/output"
	send_file K "$dir/kmsg"
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	case $rc in
	0) say END "$t" ok "$rc" "$secs" ;;
	77) say END "$t" skip "$rc" "$secs" "$(head -n 1 "$dir/skip-reason" 2>/dev/null)" ;;
	137) say END "$t" fail "$rc" "$secs" "killed after the ${VMTEST_TIMEOUT}s per-test timeout" ;;
	*) say END "$t" fail "$rc" "$secs" ;;
	esac
done

say DONE
finish
