# machine: hotplug
# Hot-unplug during traffic: edu sits behind a PCIe root port (QEMU ids
# hotedu and rp1; a device on the root bus cannot be unplugged).  While
# edu_traffic (tests/vm/progs/edu_traffic.c) runs DMA with MSI and register
# traffic with the device's removal watched (fpgactl_irq_watch_removal +
# fpgactl_events_watch_removal), the test asks vm.py for "device_del
# hotedu" (QMP).  The guest kernel's hotplug driver removes the device;
# vfio-pci's remove asks the user for the device (REQ) and waits for it to
# be closed.  edu_traffic must see -ENODEV within seconds, stop, free and
# close (status 3); then the removal completes: the device leaves sysfs,
# QEMU reports DEVICE_DELETED, the kernel log has vfio-pci's request, and
# the device has left its IOMMU group (/sys/kernel/iommu_groups/N/devices:
# the sign every kernel gives; 6.1 also logs "Removing from iommu group",
# 6.12 no longer does).
# Nothing may hang: every wait is bounded.  Then the device is plugged in
# again (device_add) and works (dma-test).
. /lib/vmtest.sh
need_program edu_traffic

uptime_s() { cut -d' ' -f1 /proc/uptime; }
# elapsed A B: B - A in seconds, one decimal.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# within A B LIMIT: B - A <= LIMIT seconds.
within() { awk -v a="$1" -v b="$2" -v l="$3" 'BEGIN { exit !(b - a <= l) }'; }

edu=$(need_device $EDU_ID) || exit 1
port=$(basename "$(dirname "$(readlink -f "/sys/bus/pci/devices/$edu")")")
note "edu $edu behind $port (driver $(driver_of "$port")); hotplug slots: $(ls /sys/bus/pci/slots 2>/dev/null | tr '\n' ' ')"
case $port in
0000:*) ;;
*) fail "edu $edu is not behind a PCI bridge (parent $port): the machine has no root port" ;;
esac
vfio_bind_sysfs "$edu"
group=$(group_of "$edu")
group_entry=/sys/kernel/iommu_groups/$group/devices/$edu
[ -e "$group_entry" ] || fail "$edu is not in $group_entry before the removal"

echo "\$ edu_traffic -t 40 $edu &"
edu_traffic -t 40 "$edu" >/tmp/traffic.out 2>/tmp/traffic.err &
pid=$!
i=0
until grep -q '^edu_traffic: traffic running' /tmp/traffic.out; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
		kill -9 $pid 2>/dev/null
		cat /tmp/traffic.out /tmp/traffic.err
		fail "edu_traffic did not get its traffic going within 10 s"
	fi
	sleep 0.1
done
sleep 0.5 # a few rounds more

t_req=$(uptime_s)
host device_del hotedu || {
	kill -9 $pid
	fail "device_del hotedu: $host_answer"
}

# edu_traffic must end by itself, with the removal.
i=0
while kill -0 $pid 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 150 ]; then
		kill -9 $pid
		cat /tmp/traffic.out /tmp/traffic.err
		dmesg | sed 's/^/  kernel: /'
		fail "edu_traffic still running 15 s after device_del: the removal was not seen"
	fi
	sleep 0.1
done
wait $pid
rc=$?
t_exit=$(uptime_s)
sed 's/^/  stdout: /' /tmp/traffic.out
sed 's/^/  stderr: /' /tmp/traffic.err
expect_eq "$rc" 3 "exit status of edu_traffic (3: the device was removed)"
grep -q "^edu_traffic: $edu: No such device\$" /tmp/traffic.err ||
	fail "edu_traffic did not report ENODEV on stderr"
line=$(grep '^edu_traffic: removal detected at uptime ' /tmp/traffic.out) ||
	fail "edu_traffic did not report the removal"
echo "$line" | grep -Eq 'by the removal request \(REQ\)' ||
	fail "the removal was not detected through REQ: $line"
t_seen=$(echo "$line" | sed 's/^edu_traffic: removal detected at uptime \([0-9.]*\) .*/\1/')
grep -q '^edu_traffic: DMA stopped, buffer freed, device closed at uptime ' /tmp/traffic.out ||
	fail "edu_traffic did not close the device"
# The removal begins at once with ACPI hotplug (q35).  pciehp (a native
# hotplug port, arm64's virt: no ACPI) takes QEMU's device_del for a press
# of the attention button and begins the removal 5 s later, the time in
# which a second press cancels it (pciehp_hpc.c: pciehp_ist() logs
# "Attention button pressed"; pciehp_ctrl.c: pciehp_handle_button_press()
# logs "Powering off due to button press" and schedules the removal with
# schedule_delayed_work(&ctrl->button_work, 5 * HZ)).  So the limit is 5 s
# from the removal's beginning: 5 s after the request, 10 s with pciehp's
# button.
limit=5
if dmesg | grep -Eq 'pciehp: Slot\(.*\): Powering off due to button press'; then
	limit=10
	note "pciehp: device_del is an attention button press, the removal begins 5 s after it"
fi
within "$t_req" "$t_seen" $limit ||
	fail "the removal was seen $(elapsed "$t_req" "$t_seen") s after device_del (more than $limit s)"
report "hot-unplug: removal (REQ) seen by edu_traffic $(elapsed "$t_req" "$t_seen") s after device_del, exited after $(elapsed "$t_req" "$t_exit") s"

# With the device closed, the kernel's removal completes.
wait_path gone "/sys/bus/pci/devices/$edu" 10 ||
	fail "$edu still in sysfs 10 s after edu_traffic closed it"
t_gone=$(uptime_s)
note "$edu left sysfs $(elapsed "$t_req" "$t_gone") s after device_del"
host wait_deleted hotedu 20 || fail "QEMU did not report DEVICE_DELETED for hotedu: $host_answer"
expect_kmsg "vfio-pci $edu: Relaying device request to user"
wait_path gone "$group_entry" 10 ||
	fail "$edu still in IOMMU group $group ($group_entry) 10 s after it left sysfs"
note "$edu left IOMMU group $group"
dmesg | sed 's/^/  kernel: /'
report "hot-unplug: $edu gone from sysfs $(elapsed "$t_req" "$t_gone") s after device_del; QEMU: $host_answer"

# Plugged in again, it works.
host device_add edu,id=hotedu,bus=rp1 || fail "device_add: $host_answer"
wait_path present "/sys/bus/pci/devices/$edu" 10 ||
	fail "$edu not back in sysfs 10 s after device_add"
vfio_bind_sysfs "$edu"
run fpgactl -d "$edu" dma-test --rounds 1
expect_ok
expect_out '^dma-test: 1 rounds x 4000 bytes host -> edu -> host verified, '
