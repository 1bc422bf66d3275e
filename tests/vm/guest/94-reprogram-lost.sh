# machine: hotplug
# Reprogram where nothing comes back: the rescan step fails by the
# deadline, the root port's AER registers read back as before.  Then edu is
# plugged in again, taken off the bus with fpgactl remove and brought back
# with fpgactl rescan of its port.  See 94-reprogram.sh.
. /lib/vmtest.sh
need_program edu_reload
reprogram_setup

# 1. A device that never comes back: the deadline, masks restored.
run edu_reload --timeout-ms 3000 "$edu" /tmp/programmer.sh none
expect_rc 1
expect_out '^edu_reload: result -110 \(Connection timed out\) step rescan '
expect_err "rescan: the device did not come back within 3000 ms"
check_masks "never back"
report "reprogram, device never back: $(echo "$err" | grep 'rescan:' | head -1)"

# Leave the machine as it was.
host device_add edu,id=hotedu,bus=rp1 || fail "device_add: $host_answer"
wait_path present "/sys/bus/pci/devices/$edu" 10 || fail "$edu not back after device_add"
vfio_bind_sysfs "$edu"


# 2. fpgactl remove, then fpgactl rescan of the port brings it back; a
# rescan of something that is not a bridge is refused.
run fpgactl rescan "$edu"
expect_rc 1
expect_err "$edu: not a PCI bridge"
run fpgactl -d "$edu" remove
expect_ok
expect_out "^$edu: removed; bring it back with 'fpgactl rescan'\$"
[ ! -e "/sys/bus/pci/devices/$edu" ] || fail "$edu still in sysfs after fpgactl remove"
run fpgactl rescan "$edu"
expect_rc 1
expect_err "$edu: no such PCI device"
run fpgactl rescan "$port"
expect_ok
expect_out "^rescanned $port\$"
wait_path present "/sys/bus/pci/devices/$edu" 5 || fail "$edu not back after fpgactl rescan $port"
vfio_bind_sysfs "$edu"
run fpgactl -d "$edu" dma-test --rounds 1
expect_ok
