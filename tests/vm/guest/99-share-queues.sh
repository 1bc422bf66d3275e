# Queues of one NVMe controller driven by three processes
# (fpgactl_share_export/import, fpgactl_queue_create_in): a control process
# brings QEMU's NVMe controller up with a polled admin queue, allocates one
# 2 MiB hugepage buffer and creates I/O queue pairs 1 and 2 (polled) with
# their rings in slices of it; it exports the device and the buffer to two
# worker processes.  An imported context maps nothing new, so a worker's
# fpgactl_queue_create() is refused (EPERM); each builds its queue engine
# on its slice with fpgactl_queue_create_in() and writes a pattern of its
# own with NVMe Write through its queue pair, reads it back with NVMe Read
# and compares.  Then the control process closes the device and exits,
# leaving the controller enabled, and each worker does the same once more
# through its queue pair: the kernel keeps the device open (and does not
# reset it) while any process holds its fd, and keeps the address space
# while any process holds the container or /dev/iommu fd.  Once all three
# are gone every hugepage is free again, and the next process to open the
# controller finds it reset (CSTS 0: vfio-pci resets the function when
# the last fd closes, vfio_pci_core_disable(), and again at the next open,
# vfio_pci_core_enable(); from outside the two cannot be told apart).
. /lib/vmtest.sh

nvme=$(need_device $NVME_ID) || exit 1
need_program nvme_share || exit 1
vfio_bind_sysfs "$nvme"
free=$(hugepages all free_hugepages)
[ "$free" -ge 1 ] || skip "1 free 2 MiB hugepage needed, $free free"
sock=/tmp/nvme-share.sock
rm -f "$sock"

share_leader /tmp/nshare control "control process" nvme_share control "$nvme" "$sock" 2
for k in 1 2; do
	share_worker $k nvme_share worker "$sock" $k
done
share_wait
expect_eq "$rc0" 0 "exit status of the control process"
expect_eq "$rc1" 0 "exit status of worker 1"
expect_eq "$rc2" 0 "exit status of worker 2"

out=$(cat /tmp/nshare-0.out)
expect_out '^control: namespace 1: [0-9]+ blocks of [0-9]+ bytes$'
for k in 1 2; do
	expect_out "^control: I/O queue pair $k: SQ at IOVA 0x[0-9a-f]+, CQ at IOVA 0x[0-9a-f]+, 16 entries, polled\$"
done
expect_out "^control: ready, $nvme with the $BACKEND backend\$"
expect_out '^control: exported to 2 workers$'
expect_out '^control: every worker did its first pass; device closed, exiting$'
[ -s /tmp/nshare-0.err ] && fail "the control process logged something"
for k in 1 2; do
	ctl=$(echo "$out" | grep "^control: I/O queue pair $k:")
	out=$(cat /tmp/nshare-$k.out)
	err=$(cat /tmp/nshare-$k.err)
	expect_out "^worker $k: imported $nvme with 1 buffer, backend $BACKEND \\(imported\\)\$"
	expect_out "^worker $k: fpgactl_queue_create refused \\(EPERM\\): the rings must be in a shared buffer\$"
	expect_err 'imported from another process .*it maps no new DMA memory'
	# The worker's engine uses the rings the control process gave the
	# controller: the same IOVAs.
	sq=$(echo "$ctl" | sed 's/.*SQ at IOVA \(0x[0-9a-f]*\).*/\1/')
	cq=$(echo "$ctl" | sed 's/.*CQ at IOVA \(0x[0-9a-f]*\).*/\1/')
	expect_out "^worker $k: queue pair $k in the shared buffer: SQ at IOVA $sq, CQ at IOVA $cq\$"
	expect_out "^worker $k: with the control process: 65536 bytes written and read back through queue pair $k, verified \\(16 commands completed, 0 bad completions\\)\$"
	expect_out "^worker $k: after the control process's exit: 65536 bytes written and read back through queue pair $k, verified \\(32 commands completed, 0 bad completions\\)\$"
	expect_out "^worker $k: done\$"
	out=$(cat /tmp/nshare-0.out)
done
expect_eq "$(hugepages all free_hugepages)" "$free" "free 2 MiB hugepages after all three processes"
# The controller the workers left enabled is reset for the next user.
run fpgactl -d "$nvme" peek 0x1c
expect_ok
expect_eq "$out" 0x00000000 "CSTS when the next process opens the controller"
