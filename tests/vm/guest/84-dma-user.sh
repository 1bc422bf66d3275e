# fpgactl_dma_map() on the real kernel: edu DMA (host -> edu -> host,
# verified) into the program's own anonymous, memfd, MAP_SHARED|MAP_ANONYMOUS
# and hugetlb memory, at IOVAs below edu's 28-bit mask; edu's own BAR
# mapping (VM_IO|VM_PFNMAP) and a read-only range refused with the reason;
# then fpgactl dma-test --memory anon|memfd, with a write to an unmapped
# IOVA next to the caller's buffer stopped by the IOMMU.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
need_program edu_dma_user || exit 1
vfio_bind_sysfs "$edu"

run edu_dma_user "$edu"
expect_rc 0 # the refusals are logged on stderr
for kind in anon memfd shared-anon; do
	expect_out "^ok $kind: 64 KiB at IOVA 0x[0-9a-f]+, page 4 KiB: host -> edu -> host verified\$"
done
if [ "$(hugepages all free_hugepages)" -gt 0 ]; then
	expect_out '^ok hugetlb: 2048 KiB at IOVA 0x[0-9a-f]+, page 2048 KiB: host -> edu -> host verified$'
fi
expect_out '^refused bar: Operation not supported$'
expect_err 'is device memory \(.*VM_IO/VM_PFNMAP'
expect_out '^refused read-only: Permission denied$'
expect_err 'PROT_READ\|PROT_WRITE'

for kind in anon memfd; do
	run fpgactl -d "$edu" dma-test --memory $kind --rounds 2 --negative
	expect_ok
	expect_out '^buffer: 4 KiB page\(s\) on an unknown node at IOVA 0x[0-9a-f]+$'
	expect_out '^dma-test: 2 rounds x 4000 bytes host -> edu -> host verified'
	expect_out '^dma-test: write to unmapped IOVA 0x[0-9a-f]+ refused by the IOMMU'
done
run fpgactl -d "$edu" dma-test --memory file
expect_rc 2
expect_err "use alloc, anon or memfd"
expect_eq "$(driver_of "$edu")" vfio-pci "driver of edu at the end"
