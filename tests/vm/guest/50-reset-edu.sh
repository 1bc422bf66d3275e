# fpgactl reset on edu fails, with the library's explanation.
#
# edu is a conventional PCI device on the root bus of q35: it has no PCIe
# capability (so no FLR), no power-management capability (so no PM reset),
# and a device on a root bus has no bridge above it to do a secondary bus
# reset.  The kernel therefore offers no reset method at all (no
# reset_method file in sysfs), VFIO reports no VFIO_DEVICE_RESET, and
# VFIO_DEVICE_GET_PCI_HOT_RESET_INFO fails.  The registers keep their
# contents.  (NVMe, which has FLR, is reset in the nvme test.)
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"

[ -e "/sys/bus/pci/devices/$edu/reset_method" ] &&
	fail "the kernel lists reset methods for edu ($(cat "/sys/bus/pci/devices/$edu/reset_method")): this test's premise is wrong"

run fpgactl -d "$edu" info
expect_ok
expect_out '^reset: +device reset no, hot reset no$'

run fpgactl -d "$edu" poke 0x04 0x0f0f0f0f
expect_ok

run fpgactl -d "$edu" reset
expect_rc 1
expect_no_out
expect_err "^fpgactl: reset: $edu: the device cannot be reset \\(no FLR, PM or bus reset\\)$"

run fpgactl -d "$edu" peek 0x04
expect_ok
expect_eq "$out" 0xf0f0f0f0 "liveness register after the failed reset"
