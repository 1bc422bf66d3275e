# machine: hotplug
# Reprogram (docs/lifecycle.md) with a reload emulated from the host: edu
# (QEMU id hotedu) sits behind a PCIe root port (rp1, with AER).  The
# programming step is a script that asks vm.py (host requests, testlib.sh)
# to device_del the card and device_add one in the same slot: the same edu,
# or QEMU's pci-testdev (other ids, other BAR sizes).  Checked: DMA through
# a buffer mapped before the reload works after it, at the same IOVA; a
# changed device is reported; a device that never comes back fails by the
# deadline; a programmer that fails rolls back; the root port's AER mask
# and severity are masked during the reload and read back as before after
# every one of them.
. /lib/vmtest.sh
need_program edu_reload
need_program edu_traffic

TESTDEV_ID=1b36:0005
edu=$(need_device $EDU_ID) || exit 1
port=$(basename "$(dirname "$(readlink -f "/sys/bus/pci/devices/$edu")")")
case $port in
0000:*) ;;
*) fail "edu $edu is not behind a PCI bridge (parent $port)" ;;
esac
vfio_bind_sysfs "$edu"

# cfg32 BDF OFFSET: a config dword of BDF, 8 hex digits (root reads it all).
cfg32() {
	od -A n -t x4 -j $(($2)) -N 4 "/sys/bus/pci/devices/$1/config" | tr -d ' \n'
}
aer=0x100
[ "$(cfg32 "$port" $aer | cut -c5-8)" = 0001 ] ||
	fail "the root port $port has no AER capability at 0x100 (header $(cfg32 "$port" $aer))"
mask0=$(cfg32 "$port" $((aer + 8)))
sev0=$(cfg32 "$port" $((aer + 12)))
note "root port $port: AER uncorrectable mask $mask0, severity $sev0"
# Surprise down (bit 5) is unmasked and fatal by default.
[ $((0x$mask0 & 0x20)) = 0 ] || fail "surprise down already masked on $port"
[ $((0x$sev0 & 0x20)) = 32 ] || fail "surprise down not fatal on $port to begin with"
# The mask bit is writable only on a port that can report surprise down
# (Link Capabilities bit 19); otherwise it is hardwired to 0 (PCIe base
# spec 7.8.4.3), and only the severity changes.
cfg8() {
	od -A n -t x1 -j $(($2)) -N 1 "/sys/bus/pci/devices/$1/config" | tr -d ' \n'
}
cap=$((0x$(cfg8 "$port" 0x34)))
while [ $cap != 0 ] && [ "$(cfg8 "$port" $cap)" != 10 ]; do
	cap=$((0x$(cfg8 "$port" $((cap + 1)))))
done
[ $cap != 0 ] || fail "the root port $port has no PCI Express capability"
lnkcap=$(cfg32 "$port" $((cap + 12)))
sd_capable=$(( (0x$lnkcap >> 19) & 1 ))
note "root port $port: PCIe capability at $cap, Link Capabilities $lnkcap, surprise down reporting: $sd_capable"

# The programmer: record the port's AER registers mid-reload, then have the
# host unplug the card and plug in $1 (or nothing when $1 is "none"), or
# just fail when $1 is "fail".
cat >/tmp/programmer.sh <<PROG
#!/bin/sh
. /lib/vmtest.sh
cfg32() {
	od -A n -t x4 -j \$((\$2)) -N 4 "/sys/bus/pci/devices/\$1/config" | tr -d ' \\n'
}
echo "\$(cfg32 $port $((aer + 8))) \$(cfg32 $port $((aer + 12)))" >/tmp/mid-aer
[ "\$1" = fail ] && { echo "programmer: failing on purpose"; exit 3; }
host device_del hotedu || exit 1
host wait_deleted hotedu 20 || exit 1
[ "\$1" = none ] && exit 0
host device_add "\$1,id=hotedu,bus=rp1" || exit 1
PROG
chmod +x /tmp/programmer.sh
sed 's/^/  programmer: /' /tmp/programmer.sh

check_masks() {
	mid=$(cat /tmp/mid-aer 2>/dev/null)
	note "$1: AER mask/severity mid-reload: $mid; after: $(cfg32 "$port" $((aer + 8))) $(cfg32 "$port" $((aer + 12)))"
	[ -n "$mid" ] || fail "$1: the programmer did not run"
	[ $((0x${mid% *} & 0x20)) = $((sd_capable * 32)) ] ||
		fail "$1: surprise down mask during the reload ($mid), port capable of reporting it: $sd_capable"
	[ $((0x${mid#* } & 0x20)) = 0 ] || fail "$1: surprise down still fatal during the reload ($mid)"
	expect_eq "$(cfg32 "$port" $((aer + 8)))" "$mask0" "$1: AER uncorrectable mask after"
	expect_eq "$(cfg32 "$port" $((aer + 12)))" "$sev0" "$1: AER uncorrectable severity after"
	rm -f /tmp/mid-aer
}

# 1. The same device comes back: DMA through the old buffer works.
run edu_reload "$edu" /tmp/programmer.sh edu
expect_rc 0
expect_out '^edu_reload: result 0 \(ok\) step none ids 1234:11e8 -> 1234:11e8 ids_changed 0 bars_changed 0 '
expect_out '^edu_reload: the buffer mapped before the reload still works after it$'
[ "$(echo "$out" | grep -c 'DMA round trip verified through IOVA')" = 2 ] ||
	fail "expected a verified DMA before and after the reload"
iovas=$(echo "$out" | sed -n 's/.*through IOVA \(0x[0-9a-f]*\).*/\1/p' | sort -u | wc -l)
expect_eq "$iovas" 1 "distinct IOVAs used before and after the reload"
check_masks "same device"
ms=$(echo "$out" | sed -n 's/.*remove_to_reopen_ms \([0-9.]*\).*/\1/p')
prog=$(echo "$out" | sed -n 's/.*program_ms \([0-9.]*\).*/\1/p')
report "reprogram, same edu: remove to reopened $ms ms (of which the programmer, device_del + device_add through the host, $prog ms)"

# 2. Another device in the slot, not announced: reported, not opened.
run edu_reload "$edu" /tmp/programmer.sh pci-testdev
expect_rc 1
expect_out '^edu_reload: result -19 \(No such device\) step check ids 1234:11e8 -> 1b36:0005 ids_changed 1 bars_changed 1 BAR0 1048576 -> 4096 '
expect_err "check: came back as 1b36:0005, expected 1234:11e8: another image was loaded; if that is intended, give its ids \\(--expect 1b36:0005\\); the device is left unbound"
check_masks "changed device"
report "reprogram, changed device without --expect: $(echo "$err" | grep 'check:' | head -1)"

# 3. Back to edu through the CLI, announced with --expect: ids and BAR
# sizes reported as changed.
testdev=$(need_device $TESTDEV_ID) || exit 1
run fpgactl bind "$testdev"
expect_ok
run fpgactl -d "$testdev" reprogram --expect 1234:11e8 -- /tmp/programmer.sh edu
expect_rc 0
expect_out "^$testdev: back as 1234:11e8 behind $port, reopened "
expect_out "^$testdev: changed: 1b36:0005 -> 1234:11e8\$"
expect_out "^$testdev: changed: BAR0 4096 -> 1048576 bytes\$"
expect_out "^$testdev: bridge $port: AER surprise down masked, DPC untouched, restored: yes\$"
check_masks "CLI, changed back to edu"
report "fpgactl reprogram --expect: $(echo "$out" | grep "^$testdev: back as")"

# 4. A programmer that fails: the device is brought back as it was.
run edu_reload "$edu" /tmp/programmer.sh fail
expect_rc 1
expect_out '^edu_reload: result -5 \(Input/output error\) step program ids 1234:11e8 -> 1234:11e8 '
expect_err "program: the programming step failed"
prog_err=$(echo "$err" | grep 'program:' | head -1)
check_masks "failing programmer"
expect_eq "$(driver_of "$edu")" vfio-pci "driver of $edu after the rollback"
run fpgactl -d "$edu" dma-test --rounds 1
expect_ok
report "reprogram, programmer exits 3: $prog_err"

# 5. A device that never comes back: the deadline, masks restored.
run edu_reload --timeout-ms 3000 "$edu" /tmp/programmer.sh none
expect_rc 1
expect_out '^edu_reload: result -110 \(Connection timed out\) step rescan '
expect_err "rescan: the device did not come back within 3000 ms"
check_masks "never back"
report "reprogram, device never back: $(echo "$err" | grep 'rescan:' | head -1)"

# Put edu back for the next cases.
host device_add edu,id=hotedu,bus=rp1 || fail "device_add: $host_answer"
wait_path present "/sys/bus/pci/devices/$edu" 10 || fail "$edu not back after device_add"
vfio_bind_sysfs "$edu"

# 6. Link lost under a running application (hot-unplug, then the card is
# back): it sees the removal request, fpgactl_device_recover() reopens the
# device in the same context, and DMA through the old buffer works.
cat >/tmp/trigger.sh <<TRIG
#!/bin/sh
. /lib/vmtest.sh
host device_del hotedu || exit 1
host wait_deleted hotedu 20 || exit 1
host device_add edu,id=hotedu,bus=rp1 || exit 1
TRIG
chmod +x /tmp/trigger.sh
run edu_reload --recover "$edu" /tmp/trigger.sh
expect_rc 0
expect_out '^edu_reload: removal request \(REQ\) at uptime '
expect_out '^edu_reload: result 0 \(ok\) step none ids 1234:11e8 -> 1234:11e8 '
expect_out '^edu_reload: the buffer mapped before the reload still works after it$'
expect_out '^edu_reload: trigger exited with 0$'
iovas=$(echo "$out" | sed -n 's/.*through IOVA \(0x[0-9a-f]*\).*/\1/p' | sort -u | wc -l)
expect_eq "$iovas" 1 "distinct IOVAs used before and after the recovery"
ms=$(echo "$out" | sed -n 's/.*remove_to_reopen_ms \([0-9.]*\).*/\1/p')
report "recover after hot-unplug + hot-add: REQ to reopened $ms ms"

# 7. The device is in use by another process: reprogram refuses it, and
# nothing is touched (the other process goes on).
echo "\$ edu_traffic -t 20 $edu &"
edu_traffic -t 20 "$edu" >/tmp/traffic.out 2>/tmp/traffic.err &
pid=$!
i=0
until grep -q '^edu_traffic: traffic running' /tmp/traffic.out; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
		kill -9 $pid 2>/dev/null
		fail "edu_traffic did not start within 10 s"
	fi
	sleep 0.1
done
rm -f /tmp/mid-aer
run fpgactl -d "$edu" reprogram -- /tmp/programmer.sh edu
kill -0 $pid 2>/dev/null || fail "edu_traffic stopped while reprogram was refused"
kill $pid; wait $pid
expect_rc 1
expect_err 'busy'
[ ! -e /tmp/mid-aer ] || fail "the programmer ran although the device was in use"
report "reprogram of a device in use: $(echo "$err" | head -1)"
