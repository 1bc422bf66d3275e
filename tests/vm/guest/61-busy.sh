# A device another process holds, on the real kernel of each row (issue 12,
# items 5 and 24): with the group path the kernel refuses a second opener of
# the group node with EBUSY; with the cdev path it refuses a second bind with
# EINVAL (drivers/vfio/vfio_main.c, vfio_df_open(): open_count != 0 &&
# !df->group).  Either way the library says busy and names the holder, and
# `fpgactl list` says busy instead of ready.  Then, with the holder gone,
# the device opens again.
. /lib/vmtest.sh
need_program edu_traffic
edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"

echo "\$ edu_traffic -t 20 $edu &"
edu_traffic -t 20 "$edu" >/tmp/busy-traffic.out 2>/tmp/busy-traffic.err &
pid=$!
i=0
until grep -q '^edu_traffic: traffic running' /tmp/busy-traffic.out; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
		kill -9 $pid 2>/dev/null
		cat /tmp/busy-traffic.err
		fail "edu_traffic did not start within 10 s"
	fi
	sleep 0.1
done

run fpgactl -d "$edu" info
expect_rc 1
expect_err 'busy'
expect_err "pid $pid \\(edu_traffic\\)"
# Only the holder: not the refused process itself (its own fresh cdev fd).
if printf '%s\n' "$err" | grep -q 'this process'; then
	fail "the refused process named itself as a holder"
fi
expect_no_out_line '^regions:'
report "second open ($BACKEND): $(echo "$err" | head -1)"

run fpgactl list
expect_ok
expect_out "$edu .*busy"

kill -0 $pid 2>/dev/null || fail "edu_traffic stopped while another process was refused"
kill $pid
wait $pid 2>/dev/null

expect_backend "$edu"
