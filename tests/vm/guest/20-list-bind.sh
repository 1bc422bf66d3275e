# fpgactl list / bind / unbind on the edu device, checked against sysfs.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
group=$(group_of "$edu")
sysdev=/sys/bus/pci/devices/$edu

# Start from the state the guest boots in: edu has no driver (there is no
# in-kernel driver for it).
if [ "$(driver_of "$edu")" != - ]; then
	echo "$edu" >"$sysdev/driver/unbind"
	echo >"$sysdev/driver_override"
fi
expect_eq "$(driver_of "$edu")" - "driver of $edu at the start"

# list_row: the text row of edu in the last run's stdout, split into
# $row_id $row_driver $row_group $row_state.
list_row() {
	row=$(printf '%s\n' "$out" | awk -v b="$edu" '$1 == b')
	[ -n "$row" ] || fail "fpgactl list shows no row for $edu"
	set -- $row
	row_id=$2 row_driver=$4 row_group=$5 row_state=${7%:}
}

run fpgactl list
expect_ok
expect_out '^BDF +ID +CLASS +DRIVER +GROUP +NUMA +VFIO'
list_row
expect_eq "$row_id" $EDU_ID "ID column of $edu"
expect_eq "$row_driver" - "DRIVER column of $edu before bind"
expect_eq "$row_group" "$group" "GROUP column of $edu (sysfs says $group)"
expect_eq "$row_state" not-bound "VFIO column of $edu before bind"

run fpgactl list $EDU_ID
expect_ok
rows=$(printf '%s\n' "$out" | grep -c '^[0-9a-f]\{4\}:')
expect_eq "$rows" 1 "rows of 'fpgactl list $EDU_ID'"
list_row

run fpgactl list $NVME_ID
expect_ok
expect_no_out_line "^$edu "

run fpgactl bind "$edu"
expect_ok
expect_out "^$edu: bound to vfio-pci"
expect_eq "$(driver_of "$edu")" vfio-pci "driver link $sysdev/driver after bind"
# On arm64 (SMMUv3) the device joins its IOMMU group only when a driver
# binds; on x86 it had one from the start.
group=$(group_of "$edu")
[ "$group" != - ] || fail "$edu has no IOMMU group after bind"
[ -c "/dev/vfio/$group" ] || fail "no /dev/vfio/$group after bind"

run fpgactl list
expect_ok
list_row
expect_eq "$row_driver" vfio-pci "DRIVER column of $edu after bind"
expect_eq "$row_group" "$group" "GROUP column of $edu after bind"
expect_eq "$row_state" ready "VFIO column of $edu after bind"

run fpgactl list --json $EDU_ID
expect_ok
expect_out "\"bdf\": \"$edu\".*\"driver\": \"vfio-pci\", \"iommu_group\": $group,.*\"vfio_state\": \"ready\""

# Binding again changes nothing and is not an error.
run fpgactl bind "$edu"
expect_ok
expect_out "^$edu: already bound to vfio-pci"
expect_eq "$(driver_of "$edu")" vfio-pci "driver after the second bind"

run fpgactl unbind "$edu"
expect_ok
expect_out "^$edu: unbound from vfio-pci"
# edu has no in-kernel driver: after the probe it has none, and the override
# that bind set is cleared (else the next probe would bind vfio-pci again).
expect_eq "$(driver_of "$edu")" - "driver after unbind"
expect_eq "$(cat "$sysdev/driver_override")" "(null)" "$sysdev/driver_override after unbind"

run fpgactl list $EDU_ID
expect_ok
list_row
expect_eq "$row_driver" - "DRIVER column of $edu after unbind"
expect_eq "$row_state" not-bound "VFIO column of $edu after unbind"

run fpgactl bind "$edu"
expect_ok
expect_eq "$(driver_of "$edu")" vfio-pci "driver after binding again"
run fpgactl list $EDU_ID
list_row
expect_eq "$row_state" ready "VFIO column of $edu after binding again"
