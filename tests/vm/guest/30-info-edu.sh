# fpgactl info on edu: BAR0 of 1 MiB, mmap-able and mapped; one INTx and one
# MSI vector, no MSI-X; the backend of the matrix row ($BACKEND: legacy on
# 6.1, which has no iommufd; iommufd chosen by auto on the built 6.12; legacy
# there with FPGACTL_IOMMU=legacy).
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"
# After binding: on arm64 (SMMUv3) the group appears only then.
group=$(group_of "$edu")

run fpgactl -d "$edu" info
expect_ok
expect_out "^device: +$edu \\($EDU_ID, class 00ff00\\)$"
expect_out '^driver: +vfio-pci$'
expect_out "^iommu: +group $group, $BACKEND backend\$"
expect_out '^regions:$'
bar0=$(out_line '^ +0 +BAR0 ')
[ -n "$bar0" ] || fail "no BAR0 line in the regions"
echo "$bar0" | grep -Eq ' 0x100000 +1 MiB ' || fail "BAR0 is not 0x100000 (1 MiB): $bar0"
for flag in r w mmap mapped; do
	echo " $bar0 " | grep -q " $flag " || fail "BAR0 lacks the '$flag' flag: $bar0"
done
# edu implements BAR0 alone; conventional PCI config space is 256 bytes.
expect_no_out_line '^ +[1-5] +BAR[1-5] '
expect_out '^ +7 +CONFIG +0x100 '
expect_out '^irqs:$'
expect_out '^ +0 +INTx +1$'
expect_out '^ +1 +MSI +1$'
expect_out '^ +2 +MSI-X +0$'

run fpgactl -d "$edu" info --json
expect_ok
expect_out "\"iommu_backend\": \"$BACKEND\""
expect_out "\"iommu_group\": $group,"
expect_out '\{"index": 0, "name": "BAR0", "size": 1048576, "flags": \["r", "w", "mmap", "mapped"\]\}'
expect_out '\{"index": 0, "name": "INTx", "count": 1\}'
expect_out '\{"index": 1, "name": "MSI", "count": 1\}'
expect_out '\{"index": 2, "name": "MSI-X", "count": 0\}'

# The same through the helper every row's tests share, with the kernel's
# side of it (/dev/iommu and the cdev on an iommufd row).
expect_backend "$edu"

# fpgactl --iommu overrides FPGACTL_IOMMU and auto, where the kernel has
# both backends (the built 6.12); on 6.1, iommufd cannot be had.
if [ -c /dev/iommu ]; then
	for b in legacy iommufd; do
		run fpgactl --iommu $b -d "$edu" info --json
		expect_ok
		expect_eq "$(json_value iommu_backend)" "\"$b\"" "backend with --iommu $b"
	done
else
	run fpgactl --iommu iommufd -d "$edu" info
	expect_rc 1
	expect_err 'CONFIG_IOMMUFD'
fi
