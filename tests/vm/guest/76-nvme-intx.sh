# Issue 12 item 13: INTx through the queue wait, on QEMU's NVMe controller.
# examples/nvme_rw -i creates its I/O CQ with interrupts on (IEN, vector 0),
# enables INTx and waits for each batch of the write and read passes with
# fpgactl_queue_wait(FPGACTL_WAIT_INTERRUPT).  vfio-pci masks INTx when it
# fires (vfio_intx_handler()); the wait must unmask it once it has reaped
# (the CQ head doorbell write is what makes the controller deassert the
# line), or the line stays masked after the first interrupt and every later
# wait falls back to 10 ms ticks.  The kernel's count in /proc/interrupts
# tells which: without the unmask it stays at 1; with it, the batches (3
# write and 3 read batches of 1 MiB) bring about one each (5 or 6 seen at
# light load).  At least 2 are asked for: any second interrupt proves the
# unmask, and on a loaded host a batch's completions may all be there
# before its wait, which then needs no interrupt (2 seen once, arm64 TCG).
. /lib/vmtest.sh
need_program nvme_rw

nvme=$(need_device $NVME_ID) || exit 1
vfio_bind_sysfs "$nvme"

run nvme_rw -i "$nvme" 1024
expect_ok
expect_out '^I/O queue 1: [0-9]+ entries, INTx interrupts, '
expect_out '^write: 1048576 bytes, LBA 0-2047, 128 commands in 3 batch\(es\), '
expect_out '^read: 1048576 bytes, LBA 0-2047, 128 commands in 3 batch\(es\), '
expect_out '^INTx: /proc/interrupts counts [0-9]+$'
count=$(out_line '^INTx: /proc/interrupts counts' | sed 's/.* counts //')
if [ "${count:-0}" -lt 2 ]; then
	fail "INTx delivered $count interrupt(s) for 6 batches (at least 2 expected): the line stayed masked after the first"
fi
report "$(out_line '^write: ')"
report "$(out_line '^read: ')"
report "INTx interrupts counted by the kernel: $count"
expect_eq "$(driver_of "$nvme")" vfio-pci "driver of the NVMe controller at the end"
