# fpgactl doctor -d edu in a guest that is set up for VFIO: the IOMMU is
# on, vfio-pci is loaded, 2 MiB hugepages are reserved, edu is bound: every
# check passes and the exit status is 0.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"

run fpgactl -d "$edu" doctor
expect_ok
expect_no_out_line '^(FAIL|warn) '
expect_out '^ok +iommu +enabled'
expect_out '^ok +vfio-pci '
expect_out '^ok +/dev/vfio '
expect_out "^ok +$edu +ready for VFIO"
