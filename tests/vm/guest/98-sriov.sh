# machine: sriov
# SR-IOV on the real kernel with QEMU's NVMe controller (sriov_max_vfs=2):
# the PF bound to vfio-pci creates no VF until vfio-pci has enable_sriov=1
# (fpgactl says so); then fpgactl sriov 2 --vf-token creates both VFs (bound
# to vfio-pci by the kernel) and sets the token; one process opens PF and VF
# with the token in one IOMMU context, and the other VF is refused without
# a token and with a wrong one; fpgactl info opens a VF only with the token;
# sriov 0 removes the VFs.
. /lib/vmtest.sh

pf=$(need_device 1b36:0010) || exit 1
need_program sriov_open || exit 1
vfio_bind_sysfs "$pf"
token=3c1c2e3e-0b43-4bb4-9e7e-0e2b3c4d5e6f
param=/sys/module/vfio_pci/parameters/enable_sriov
[ -e "$param" ] || { skip "no $param"; exit 77; }
echo 0 >"$param"
# QEMU 7.2's NVMe VFs are offline secondary controllers: put in D3hot by
# vfio-pci's idle power management they do not come back, and they never
# report ready after an FLR (the kernel waits 60 s).  Keep them in D0, and
# (below) take the resets away, so that opening one is quick.
d3=/sys/module/vfio_pci/parameters/disable_idle_d3
[ -e "$d3" ] && echo 1 >"$d3"

run fpgactl -d "$pf" sriov 2
expect_rc 1
expect_err 'enable_sriov=1'

echo 1 >"$param"
run fpgactl -d "$pf" sriov 2 --vf-token $token
expect_ok
expect_out "^$pf: 2 VFs\$"
vf0=$(out_line '^vf 0: ' | sed 's/^vf 0: //')
vf1=$(out_line '^vf 1: ' | sed 's/^vf 1: //')
[ -n "$vf0" ] && [ -n "$vf1" ] || fail "no VF listed: $out"
expect_out "VF token set"
for vf in "$vf0" "$vf1"; do
	wait_path present /sys/bus/pci/devices/$vf/driver 5 || fail "$vf has no driver"
	expect_eq "$(driver_of "$vf")" vfio-pci "driver of VF $vf"
done
for vf in "$vf0" "$vf1"; do
	echo >/sys/bus/pci/devices/$vf/reset_method 2>/dev/null || note "no reset_method for $vf"
done
note "VFs $vf0 (group $(group_of "$vf0")) and $vf1 (group $(group_of "$vf1")), PF group $(group_of "$pf")"

run sriov_open "$pf" "$vf0" "$vf1" $token
expect_rc 0
expect_out '^ok set token'
expect_out "^ok VF $vf0 opened with the token, class 0x[0-9a-f]{4}\$"
expect_out "^refused VF $vf1 without a token: Permission denied\$"
expect_out "^refused VF $vf1 with a wrong token: Permission denied\$"

if [ "$BACKEND" = iommufd ]; then
	# The cdev path: before Linux 6.17 (VFIO_DEVICE_BIND_FLAG_TOKEN) the
	# kernel neither checks a VF token at VFIO_DEVICE_BIND_IOMMUFD nor takes
	# one (6.12 here): the VF opens without it, and a token is refused with
	# the library's message (use the legacy backend for tokens there).
	run fpgactl -d "$vf1" info
	expect_ok
	run fpgactl -d "$vf1" info --vf-token $token
	expect_rc 1
	expect_err 'VFIO_DEVICE_BIND_FLAG_TOKEN'
else
	run fpgactl -d "$vf1" info
	expect_rc 1
	expect_err 'needs the VF token'
	run fpgactl -d "$vf1" info --vf-token $token
	expect_ok
fi
run fpgactl -d "$vf1" info --vf-token not-a-uuid
expect_rc 2

run fpgactl -d "$pf" sriov 0
expect_ok
wait_path gone /sys/bus/pci/devices/$vf0 5 || fail "VF $vf0 still there after sriov 0"
echo 0 >"$param"
