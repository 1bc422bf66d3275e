# unbind to a driver that is not loaded: the operation fails (status 1, the
# driver named in the message) and the device stays with vfio-pci instead of
# being left without any driver.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"

[ -e /sys/bus/pci/drivers/no_such_driver ] && fail "a driver named no_such_driver exists"
run fpgactl unbind "$edu" no_such_driver
expect_rc 1
expect_no_out
expect_err 'no_such_driver'
expect_eq "$(driver_of "$edu")" vfio-pci "driver after 'unbind $edu no_such_driver'"
