# machine: hotplug
# Surprise removal during register polling (issue 12 item 1).  edu sits
# behind a PCIe root port; edu_poll (tests/vm/progs/edu_poll.c) polls, with
# fpgactl_reg_poll(), edu's liveness register after writing 0 to it, so it
# reads 0xffffffff: all ones, as a removed device's registers read.  While
# edu is there the poll must go on (config space shows the device).
# QEMU's device_del is an orderly removal: vfio-pci holds the device, which
# keeps answering, until its user lets go (92-hot-unplug covers that).  So
# the removal is made under the driver's feet instead: the root port's
# secondary and subordinate bus numbers are set to 0, and as QEMU routes
# config cycles by them, edu's config reads complete with all ones, as
# after a surprise removal.  (BAR reads still reach edu; QEMU answers reads
# of unclaimed memory with 0, not all ones, so turning off the port's
# memory decoding would not model a removal.)  The guest kernel's vfio-pci
# still answers the vendor id from its copy (vfio_pci_config.c, ALL_VIRT):
# the library must confirm the removal through a field read from the
# device, and the poll must end with -ENODEV within seconds, not at its 30 s
# timeout.  The root port is restored afterwards, edu re-enumerated, and
# it works again.
. /lib/vmtest.sh
need_program edu_poll

edu=$(need_device $EDU_ID) || exit 1
port=$(basename "$(dirname "$(readlink -f "/sys/bus/pci/devices/$edu")")")
case $port in
0000:*) ;;
*) fail "edu $edu is not behind a PCI bridge (parent $port): the machine has no root port" ;;
esac
vfio_bind_sysfs "$edu"
cfg=/sys/bus/pci/devices/$port/config

# cfg_byte OFFSET: one byte of the root port's config space, decimal.
cfg_byte() { dd if="$cfg" bs=1 skip="$1" count=1 2>/dev/null | od -An -tu1 | tr -d ' '; }
# cfg_set OFFSET VALUE: write one byte (decimal) of the root port's config space.
cfg_set() { printf "\\$(printf %03o "$2")" | dd of="$cfg" bs=1 seek="$1" count=1 conv=notrunc 2>/dev/null; }

cmd=$(cfg_byte 4)
sec=$(cfg_byte 25)
sub=$(cfg_byte 26)
note "root port $port: command 0x$(printf %02x "$cmd"), secondary bus $sec, subordinate $sub"
restore() { cfg_set 25 "$sec"; cfg_set 26 "$sub"; }

echo "\$ edu_poll -t 30 $edu &"
edu_poll -t 30 "$edu" >/tmp/poll.out 2>/tmp/poll.err &
pid=$!
i=0
until grep -q '^edu_poll: polling' /tmp/poll.out; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
		kill -9 $pid 2>/dev/null
		cat /tmp/poll.out /tmp/poll.err
		fail "edu_poll did not start polling within 10 s"
	fi
	sleep 0.1
done
sleep 1
kill -0 $pid 2>/dev/null || {
	cat /tmp/poll.out /tmp/poll.err
	fail "edu_poll ended while edu was present: an all-ones register taken as a removal"
}

echo "-- taking edu off the bus: root port bus numbers 0"
cfg_set 25 0
cfg_set 26 0
t0=$(cut -d' ' -f1 /proc/uptime)
i=0
while kill -0 $pid 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		break
	fi
	sleep 0.1
done
t1=$(cut -d' ' -f1 /proc/uptime)
still=0
kill -0 $pid 2>/dev/null && still=1
wait $pid
rc=$?
restore
sed 's/^/  stdout: /' /tmp/poll.out
sed 's/^/  stderr: /' /tmp/poll.err
[ $still = 0 ] || fail "fpgactl_reg_poll() still polling 10 s after the device stopped answering (the removal was not confirmed)"
expect_eq "$rc" 3 "exit status of edu_poll (3: the poll returned -ENODEV)"
grep -q '^edu_poll: fpgactl_reg_poll: No such device after ' /tmp/poll.out ||
	fail "edu_poll did not report ENODEV"
grep -q 'config space reads all ones' /tmp/poll.err ||
	fail "the library did not log the removal"
grep -q 'last value 0xffffffff$' /tmp/poll.out ||
	fail "the poll did not end on an all-ones read"
report "unplug-during-poll: -ENODEV $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s after the link went away"

# The port restored, the device is back, as after a re-plug: edu_poll
# closed it while it was unreachable, so vfio-pci's state restore on close
# went nowhere; the kernel re-enumerates it (remove + rescan) and it works.
echo 1 >"/sys/bus/pci/devices/$edu/remove"
echo 1 >/sys/bus/pci/rescan
wait_path present "/sys/bus/pci/devices/$edu" 10 ||
	fail "$edu not back in sysfs 10 s after the rescan"
vfio_bind_sysfs "$edu"
run fpgactl -d "$edu" dma-test --rounds 1
expect_ok
