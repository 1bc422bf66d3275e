# fpgactl doctor -d edu in a guest that is set up for VFIO and DMA: the
# IOMMU is on, vfio-pci is loaded, edu is bound, 2 MiB hugepages are
# reserved and hugetlbfs is mounted: nothing fails or warns, and the exit
# status is 0.  The iommufd and cdev lines name the row's backend: on 6.1
# (no VFIO cdev, no /dev/iommu) the legacy container; on the built 6.12
# iommufd, or the container with FPGACTL_IOMMU=legacy (expect_doctor_backend).
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
expect_doctor_backend "$edu"
expect_out "^ok +hugepages-2M +2 MiB pages: $free free of $free \\(node0: $free\\)\$"
expect_out '^ok +hugetlbfs +/dev/hugepages \(pagesize=2M\)$'
# type1 limits the mappings of a container (dma_entry_limit); iommufd has
# no such limit.
if [ "$BACKEND" = legacy ]; then
	mappings="$(cat /sys/module/vfio_iommu_type1/parameters/dma_entry_limit)"
else
	mappings=unlimited
fi
expect_out "^ok +dma +2 MiB pages on any node from hugetlbfs:/dev/hugepages; IOVA 0x[0-9a-f]+\\.\\.0x[0-9a-f]+; IOMMU mappings left: $mappings\$"
expect_out '^info +memlock +RLIMIT_MEMLOCK unlimited or not enforced \(CAP_IPC_LOCK\)$'

# Without -d: the machine checks alone, no device line.
run fpgactl doctor
expect_ok
expect_no_out_line '^(FAIL|warn) '
expect_no_out_line "$edu"
