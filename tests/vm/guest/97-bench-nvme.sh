# machine: bench
# Benchmark, not a test: random 4 KiB reads from QEMU's NVMe controller at
# queue depths 1 and 32, through libfpgactl's queues (nvme_rw -b: polled
# completions, one doorbell per batch) and through the guest kernel's nvme
# driver with io_uring (tests/vm/progs/bench_uring.c on /dev/nvme0n1,
# O_DIRECT: with interrupts, and polled with IORING_SETUP_IOPOLL on the
# driver's poll queue).  The controller is handed over between the runs:
# vfio-pci, then the nvme driver (fpgactl unbind BDF nvme; the driver's
# modules are loaded on demand, with poll_queues=1), then vfio-pci again
# (fpgactl bind).  The host is shared and TCG slows with its load, so the
# two sides alternate for BENCH_ROUNDS rounds (default 3) of BENCH_MS per
# queue depth and run (default 1000), and the table gives the best round of
# each.  Asserts only that each run worked.
. /lib/vmtest.sh
need_program nvme_rw
need_program bench_uring
ms=${BENCH_MS:-1000}
rounds=${BENCH_ROUNDS:-3}

nvme=$(need_device $NVME_ID) || exit 1
vfio_bind_sysfs "$nvme"
load_modules nvme "nvme poll_queues=1"

# The benchmark mode's arguments: bad ones are refused (status 2) before
# the device is touched.
for args in "-b 0 $nvme" "-b 64 $nvme" "-b 1,x $nvme" "-b 1 $nvme 8" "-u -b 1 $nvme" "-b 1 -T 0 $nvme"; do
	run nvme_rw $args
	expect_rc 2
	expect_no_out
	expect_err '^usage: nvme_rw \[-u\] \[-t US\] BDF'
	expect_err '^       nvme_rw -b QD\[,QD\.\.\.\] \[-T MS\] \[-t US\] BDF$'
done

# iops PREFIX QD: the IOPS of the "PREFIX: QD n: ..." line in $out (run it
# as "x=$(iops ...) || exit 1": the complaint goes to stderr).
iops() {
	v=$(out_line "^$1: QD $2: " | sed -n 's/.*: \([0-9]*\) IOPS, .*/\1/p')
	[ -n "$v" ] || { echo "FAIL: no IOPS figure for QD $2 from $1" >&2; return 1; }
	echo "$v"
}
# max A B: the larger ("-" counts as nothing).
max() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || (b != "-" && b + 0 > a + 0)) print b; else print a }'
}
# ratio A B: A / B with two decimals ("-" when B is missing).
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b != "-" && b > 0) printf "%.2f", a / b; else print "-" }'
}
best_lib1=- best_lib32=- best_irq1=- best_irq32=- best_poll1=- best_poll32=-

for r in $(seq "$rounds"); do
	# libfpgactl: the controller through vfio-pci, polled queues.
	run nvme_rw -b 1,32 -T "$ms" "$nvme"
	expect_ok
	lib1=$(iops bench 1) && lib32=$(iops bench 32) || exit 1

	# The kernel's driver: interrupt-driven queues and one poll queue.
	run fpgactl unbind "$nvme" nvme
	expect_ok
	i=0
	until [ -b /dev/nvme0n1 ]; do
		i=$((i + 1))
		[ $i -le 100 ] || { dmesg | tail -n 20; fail "no /dev/nvme0n1 10 s after binding the nvme driver"; }
		sleep 0.1
	done
	expect_eq "$(driver_of "$nvme")" nvme "driver after 'fpgactl unbind $nvme nvme'"
	[ "$r" = 1 ] && note "nvme0n1: $(cat /sys/block/nvme0n1/size) sectors, $(ls /sys/block/nvme0n1/mq | wc -l) hardware queues, io_poll $(cat /sys/block/nvme0n1/queue/io_poll)"
	run bench_uring -q 1,32 -T "$ms" /dev/nvme0n1
	expect_ok
	irq1=$(iops bench_uring 1) && irq32=$(iops bench_uring 32) || exit 1
	poll1=- poll32=-
	if [ "$(cat /sys/block/nvme0n1/queue/io_poll)" = 1 ]; then
		run bench_uring -p -q 1,32 -T "$ms" /dev/nvme0n1
		expect_ok
		poll1=$(iops bench_uring 1) && poll32=$(iops bench_uring 32) || exit 1
	else
		note "the nvme driver has no poll queue: no IOPOLL run"
	fi

	# Back to vfio-pci.
	run fpgactl bind "$nvme"
	expect_ok
	expect_eq "$(driver_of "$nvme")" vfio-pci "driver after 'fpgactl bind $nvme'"
	[ -e /dev/nvme0n1 ] && fail "/dev/nvme0n1 still there after binding vfio-pci"

	report "round $r: QD 1: libfpgactl $lib1, io_uring $irq1 (irq), $poll1 (iopoll); QD 32: libfpgactl $lib32, io_uring $irq32 (irq), $poll32 (iopoll) IOPS"
	best_lib1=$(max $best_lib1 $lib1) best_lib32=$(max $best_lib32 $lib32)
	best_irq1=$(max $best_irq1 $irq1) best_irq32=$(max $best_irq32 $irq32)
	best_poll1=$(max $best_poll1 $poll1) best_poll32=$(max $best_poll32 $poll32)
done

report "NVMe random 4 KiB reads, IOPS, best of $rounds rounds of $ms ms (1 vCPU, TCG):"
report "  QD  libfpgactl (polled)  io_uring (irq)  io_uring (iopoll)  lib/irq  lib/iopoll"
for qd in 1 32; do
	eval "l=\$best_lib$qd i=\$best_irq$qd p=\$best_poll$qd"
	report "$(printf '  %-3s %-20s %-15s %-18s %-8s %s' $qd "$l" "$i" "$p" "$(ratio "$l" "$i")" "$(ratio "$l" "$p")")"
done
