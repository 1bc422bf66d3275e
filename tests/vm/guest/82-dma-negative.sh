# fpgactl dma-test --negative: edu is told to write to an IOVA that was never
# mapped.  The emulated IOMMU refuses it: the host buffer keeps its canary
# ("untouched"), and the guest kernel logs a DMAR fault naming edu and that
# IOVA (on arm64 an SMMUv3 translation fault event with that address).  edu and its IOMMU context work normally afterwards.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"
free=$(hugepages all free_hugepages)

run fpgactl -d "$edu" dma-test --negative --rounds 1
expect_ok
expect_out '^dma-test: 1 rounds x 4000 bytes host -> edu -> host verified, '
line=$(out_line '^dma-test: write to unmapped IOVA ')
[ -n "$line" ] || fail "no 'write to unmapped IOVA' line"
echo "$line" | grep -Eq '^dma-test: write to unmapped IOVA 0x[0-9a-f]+ refused by the IOMMU: host memory untouched$' ||
	fail "unexpected line: $line"
iova=$(echo "$line" | sed 's/^dma-test: write to unmapped IOVA \(0x[0-9a-f]*\) .*/\1/')
note "unmapped IOVA $iova"
# The kernel reports the fault with the page address (the IOVA is a page
# boundary here: right after or before the buffer).
if [ "$(vm_arch)" = arm64 ]; then
	# SMMUv3 (arm-smmu-v3.c, arm_smmu_evtq_thread): "event 0x10 received"
	# (F_TRANSLATION) and the record's dwords, the third the input address.
	expect_kmsg "arm-smmu-v3 [^ ]+: event 0x10 received"
	expect_kmsg "arm-smmu-v3 [^ ]+: [[:space:]]*0x0*${iova#0x}\$"
	dmesg | grep -m 5 arm-smmu-v3 | sed 's/^/  kernel: /'
else
	expect_kmsg "DMAR: \\[DMA Write( NO_PASID)?\\] Request device \\[$(kmsg_id "$edu")\\] fault addr $iova "
	dmesg | grep DMAR | sed 's/^/  kernel: /'
fi

# The device and a new IOMMU context still work.
run fpgactl -d "$edu" dma-test --rounds 1
expect_ok
expect_out '^dma-test: 1 rounds x 4000 bytes host -> edu -> host verified, '
expect_eq "$(hugepages all free_hugepages)" "$free" "free 2 MiB hugepages at the end"
