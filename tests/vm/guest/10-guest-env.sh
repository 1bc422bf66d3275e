# The guest itself: the emulated IOMMU is on, VFIO is loaded, and the devices
# the other tests use are there, each in an IOMMU group of its own; the
# kernel is the matrix row's (FPGACTL_VM_KERNEL), and a row that expects
# iommufd has /dev/iommu.
. /lib/vmtest.sh

note "row $ROW: kernel $(uname -r), expected backend $BACKEND, cmdline: $(cat /proc/cmdline)"
case $(uname -r) in
"${FPGACTL_VM_KERNEL:-6.1}".*) ;;
*) fail "row $ROW wants kernel ${FPGACTL_VM_KERNEL:-6.1}, the guest runs $(uname -r)" ;;
esac
if [ "$BACKEND" = iommufd ]; then
	[ -c /dev/iommu ] || fail "row $ROW: no /dev/iommu (kernel without CONFIG_IOMMUFD?)"
fi
pci_table

arch=$(vm_arch)
case $arch in
arm64)
	ls -d /sys/class/iommu/smmu3.* >/dev/null 2>&1 ||
		fail "no /sys/class/iommu/smmu3.*: the guest kernel did not find the SMMUv3 (-M virt,iommu=smmuv3)"
	;;
*)
	[ -e /sys/class/iommu/dmar0 ] ||
		fail "no /sys/class/iommu/dmar0: the guest kernel did not enable the emulated Intel IOMMU (intel_iommu=on, -device intel-iommu)"
	;;
esac
[ -c /dev/vfio/vfio ] || fail "no /dev/vfio/vfio: the vfio module is not loaded"
[ -d /sys/bus/pci/drivers/vfio-pci ] || fail "no vfio-pci driver in /sys/bus/pci/drivers"

edu=$(need_device $EDU_ID) || exit 1
nvme=$(need_device $NVME_ID) || exit 1
if [ "$arch" = arm64 ]; then
	# SMMUv3: a device joins its IOMMU group when a driver binds (the
	# bind tests check the groups then); edu has no driver yet and NVMe
	# none (its driver is not loaded).
	note "edu $edu, NVMe $nvme: no IOMMU group before a driver binds (arm64)"
	expect_eq "$(group_of "$edu")" - "IOMMU group of unbound edu $edu (arm64)"
	expect_hugepages
	exit 0
fi
ge=$(group_of "$edu")
gn=$(group_of "$nvme")
[ "$ge" != - ] || fail "edu $edu has no IOMMU group"
[ "$gn" != - ] || fail "NVMe $nvme has no IOMMU group"
[ "$ge" != "$gn" ] || fail "edu and NVMe share IOMMU group $ge"
for g in "$ge" "$gn"; do
	n=$(ls /sys/kernel/iommu_groups/$g/devices | wc -l)
	expect_eq "$n" 1 "number of devices in IOMMU group $g"
done
note "edu $edu (group $ge, driver $(driver_of "$edu")), NVMe $nvme (group $gn, driver $(driver_of "$nvme"))"

# For the DMA tests: 2 MiB hugepages reserved, hugetlbfs mounted.
expect_hugepages
