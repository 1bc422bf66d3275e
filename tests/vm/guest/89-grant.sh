# fpgactl grant on the real kernel: edu taken from vfio-pci (unbound), a
# user who is not root (uid 4242, written into /etc/passwd) for whom doctor
# fails; grant binds edu again, gives the user /dev/vfio/N and prints the
# memlock line; doctor run as that user then passes, and so does a DMA
# round trip (dma-test into the user's own memory) without any privilege.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
need_program run_as || exit 1
uid=4242
grep -q '^fpgauser:' /etc/passwd 2>/dev/null ||
	echo "fpgauser:x:$uid:$uid:grant test:/tmp:/bin/sh" >>/etc/passwd
grep -q '^fpgauser:' /etc/group 2>/dev/null || echo "fpgauser:x:$uid:" >>/etc/group

vfio_bind_sysfs "$edu"
group=$(group_of "$edu")
# Give edu back to no driver, as a fresh boot would have it.
echo "$edu" >/sys/bus/pci/drivers/vfio-pci/unbind
echo >/sys/bus/pci/devices/$edu/driver_override
expect_eq "$(driver_of "$edu")" - "driver of edu before grant"

run run_as $uid $uid fpgactl doctor -d "$edu"
expect_rc 1

# Bad usage: nothing touched (edu still unbound).
run fpgactl -d "$edu" grant no-such-user
expect_rc 2
expect_err "no user 'no-such-user'"
run fpgactl -d "$edu" grant fpgauser --memlock lots
expect_rc 2
expect_eq "$(driver_of "$edu")" - "driver of edu after refused grants"

run fpgactl -d "$edu" grant fpgauser --memlock 16M
expect_ok
expect_out "^bound: +$edu to vfio-pci \\(was unbound\\)\$"
expect_out "^granted: +/dev/vfio/$group to fpgauser"
expect_out '^fpgauser - memlock 16384$'
# type1 charges each process, iommufd the user (the row's backend).
if [ "$BACKEND" = iommufd ]; then
	expect_out "^granted: +/dev/iommu to fpgauser"
	expect_out 'iommufd charges pinned memory to the user'
else
	expect_no_out_line '^granted: +/dev/iommu'
	expect_out 'in each process'
fi
expect_eq "$(stat -c %u /dev/vfio/$group)" $uid "owner of /dev/vfio/$group"

run run_as $uid $uid fpgactl doctor -d "$edu"
expect_rc 0
expect_out "^ok +$edu +ready for VFIO"
expect_no_out_line '^FAIL'

run run_as $uid $uid fpgactl -d "$edu" dma-test --memory anon --rounds 1
expect_rc 0
expect_out '^dma-test: 1 rounds x 4000 bytes host -> edu -> host verified'
