# QEMU's NVMe controller: refused while not bound, then bound with fpgactl;
# BAR0 of 16 KiB, 65 MSI-X vectors and no MSI (QEMU's NVMe has MSI-X only),
# PCIe config space of 4 KiB, version register 1.4, and a reset that works
# (it has FLR).
. /lib/vmtest.sh

nvme=$(need_device $NVME_ID) || exit 1
sysdev=/sys/bus/pci/devices/$nvme
if [ "$(driver_of "$nvme")" != - ]; then
	echo "$nvme" >"$sysdev/driver/unbind"
	echo >"$sysdev/driver_override"
fi

run fpgactl -d "$nvme" info
expect_rc 1
expect_no_out
expect_err "not bound"
expect_err "fpgactl bind $nvme"

run fpgactl bind "$nvme"
expect_ok
expect_eq "$(driver_of "$nvme")" vfio-pci "driver link $sysdev/driver after bind"

run fpgactl -d "$nvme" info
expect_ok
expect_out "^device: +$nvme \\($NVME_ID, class 010802\\)$"
expect_out "^iommu: +group $(group_of "$nvme"), $BACKEND backend\$"
bar0=$(out_line '^ +0 +BAR0 ')
[ -n "$bar0" ] || fail "no BAR0 line in the regions"
echo "$bar0" | grep -Eq ' 0x4000 +16 KiB ' || fail "BAR0 is not 0x4000 (16 KiB): $bar0"
echo " $bar0 " | grep -q " mmap " || fail "BAR0 is not mmap-able: $bar0"
expect_out '^ +7 +CONFIG +0x1000 '
expect_out '^ +0 +INTx +1$'
expect_out '^ +1 +MSI +0$'
expect_out '^ +2 +MSI-X +65$'
expect_out '^reset: +device reset yes, hot reset no$'

run fpgactl -d "$nvme" peek 0x08
expect_ok
expect_eq "$out" 0x00010400 "NVMe version register (VS)"

expect_eq "$(cat "$sysdev/reset_method" 2>&1)" flr "reset methods the kernel lists"
run fpgactl -d "$nvme" reset
expect_ok
expect_out "^$nvme: reset$"
