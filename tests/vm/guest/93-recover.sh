# machine: hotplug
# Recovery after a lost link (docs/lifecycle.md): a running application
# (edu_reload --recover) sees the removal request of a hot-unplug, and once
# the card is plugged in again fpgactl_device_recover() reopens it in the
# same IOMMU context: DMA through the buffer mapped before works at the same
# IOVA.  Then reprogram refuses a device another process has open, without
# running the programmer.
. /lib/vmtest.sh
need_program edu_reload
need_program edu_traffic
reprogram_setup

# 1. Link lost under a running application (hot-unplug, then the card is
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

# 2. The device is in use by another process: reprogram refuses it, and
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
