# One device shared by three processes (fpgactl_share_export/import): the
# exporter opens edu and allocates three 2 MiB hugepage buffers; two workers,
# separate processes, import the device and the buffers over a UNIX socket.
# Each process does edu DMA (host -> edu -> host, verified) through a buffer
# of its own, taking turns on edu's single DMA engine (flock).  The workers
# see the exporter's mark in their buffer at the exporter's IOVA, and an
# imported context refuses new mappings and interrupts (EPERM).  Then the
# exporter closes the device and exits without freeing the shared buffers;
# the workers go on with DMA through the files they hold (the kernel keeps
# the container, group, device and mappings alive while any process holds
# them), and once all three are gone every hugepage is free again.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
need_program edu_share || exit 1
vfio_bind_sysfs "$edu"
free=$(hugepages all free_hugepages)
[ "$free" -ge 3 ] || skip "3 free 2 MiB hugepages needed, $free free"
sock=/tmp/edu-share.sock
lock=/tmp/edu-share.lock
rm -f "$sock" "$lock"

share_leader /tmp/share exporter exporter edu_share export "$edu" "$sock" "$lock"
for id in 1 2; do
	share_worker $id edu_share worker "$sock" "$lock" $id
done
share_wait
expect_eq "$rc0" 0 "exit status of the exporter"
expect_eq "$rc1" 0 "exit status of worker 1"
expect_eq "$rc2" 0 "exit status of worker 2"

out=$(cat /tmp/share-0.out)
expect_out "^exporter: ready, $edu with the $BACKEND backend\$"
expect_out '^exporter: exported to 2 workers$'
expect_out '^exporter: own: 2 rounds host -> edu -> host verified in buffer 0 at IOVA 0x[0-9a-f]+$'
expect_out '^exporter: device closed, exiting$'
[ -s /tmp/share-0.err ] && fail "the exporter logged something"
for id in 1 2; do
	out=$(cat /tmp/share-$id.out)
	err=$(cat /tmp/share-$id.err)
	expect_out "^worker $id: imported $edu with 3 buffers, backend $BACKEND \\(imported\\)\$"
	expect_out "^worker $id: buffer $id: the exporter's mark, IOVA 0x[0-9a-f]+ \\(lookup ok\\)\$"
	expect_out "^worker $id: refused: fpgactl_dma_alloc and fpgactl_irq_enable \\(EPERM\\)\$"
	expect_out "^worker $id: with the exporter: 2 rounds host -> edu -> host verified in buffer $id at IOVA 0x[0-9a-f]+\$"
	expect_out "^worker $id: after the exporter's exit: 2 rounds host -> edu -> host verified in buffer $id at IOVA 0x[0-9a-f]+\$"
	expect_out "^worker $id: done, every received fd closed\$"
	expect_err 'imported from another process .*it maps no new DMA memory'
	expect_err 'its interrupts belong to the process that exported it'
	# The buffer's IOVA is the exporter's.
	line=$(out_line "^worker $id: buffer $id")
	iova=$(echo "$line" | sed 's/.*IOVA \(0x[0-9a-f]*\).*/\1/')
	expect_le "$iova" 0xfffffff "IOVA of buffer $id (edu's 28-bit mask)"
done
expect_eq "$(hugepages all free_hugepages)" "$free" "free 2 MiB hugepages after all three processes"
run fpgactl -d "$edu" peek 0x00
expect_ok
expect_eq "$out" 0x010000ed "identification register after sharing"
