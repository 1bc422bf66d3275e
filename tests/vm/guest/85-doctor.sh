# fpgactl doctor -d edu in a guest that is set up for VFIO and DMA: the
# IOMMU is on, vfio-pci is loaded, edu is bound, 2 MiB hugepages are
# reserved and hugetlbfs is mounted: nothing fails or warns, and the exit
# status is 0.  The 6.1 kernel has no VFIO cdev and no /dev/iommu: the
# legacy container (info lines).
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"
free=$(hugepages all free_hugepages)

run fpgactl -d "$edu" doctor
expect_ok
expect_no_out_line '^(FAIL|warn) '
expect_out '^ok +iommu +enabled'
expect_out '^ok +vfio-pci '
expect_out '^ok +/dev/vfio '
expect_out "^ok +$edu +ready for VFIO"
expect_out '^info +iommufd +no /dev/iommu: the legacy VFIO container is used'
expect_out "^info +cdev +$edu .*the legacy container is used"
expect_out "^ok +hugepages-2M +2 MiB pages: $free free of $free \\(node0: $free\\)\$"
expect_out '^ok +hugetlbfs +/dev/hugepages \(pagesize=2M\)$'
expect_out '^ok +dma +2 MiB pages on any node from hugetlbfs:/dev/hugepages; IOVA 0x[0-9a-f]+\.\.0x[0-9a-f]+; IOMMU mappings left: [0-9]+$'
expect_out '^info +memlock +RLIMIT_MEMLOCK unlimited or not enforced \(CAP_IPC_LOCK\)$'

# Without -d: the machine checks alone, no device line.
run fpgactl doctor
expect_ok
expect_no_out_line '^(FAIL|warn) '
expect_no_out_line "$edu"
