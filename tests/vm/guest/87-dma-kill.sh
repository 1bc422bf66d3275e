# kill -9 in the middle of DMA: fpgactl dma-test --rounds 1000 (edu moves
# each transfer 100 ms after it is started; 1000 rounds take 200 s) is
# killed 0.5 s into its run, while a transfer is under way.  The kernel cleans up after it: vfio-pci turns bus mastering
# off on release, the hugepage of its buffer is free again, and edu ends
# the transfer it had started within its 100 ms (the DMA command register
# reads idle).  edu has no reset method (no FLR, PM or bus reset on q35's
# root bus), so "fpgactl reset" fails as in reset-edu and the next process
# starts from whatever edu holds; dma-test works all the same.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"
free=$(hugepages all free_hugepages)

echo "\$ fpgactl -d $edu dma-test --rounds 1000 &"
fpgactl -d "$edu" dma-test --rounds 1000 >/tmp/dma-kill.out 2>&1 &
pid=$!
# Under way once its buffer holds a hugepage; then into a transfer.
i=0
while [ "$(hugepages all free_hugepages)" -ge "$free" ]; do
	i=$((i + 1))
	[ $i -le 100 ] || { kill -9 $pid; fail "dma-test took no hugepage within 5 s"; }
	kill -0 $pid 2>/dev/null || { cat /tmp/dma-kill.out; fail "dma-test ended early"; }
	sleep 0.05
done
# Transfers follow each other with only a register poll in between, so
# 0.5 s in, one is under way (the VFIO group is dma-test's alone: nothing
# else can look at edu until it is gone).
sleep 0.5
kill -9 $pid
wait $pid
rc=$?
# Right after the kill, the transfer usually is still running (bit 0).
cmd=$(fpgactl -d "$edu" peek -w 64 0x98 2>&1)
note "DMA command register right after the kill: $cmd"
expect_eq "$rc" 137 "exit status of the killed dma-test (128 + SIGKILL)"
sed 's/^/  dma-test: /' /tmp/dma-kill.out
grep -q verified /tmp/dma-kill.out && fail "dma-test finished its 1000 rounds before it was killed"

# The process's files are closed by the kernel, its memory freed.
i=0
while [ "$(hugepages all free_hugepages)" != "$free" ]; do
	i=$((i + 1))
	[ $i -le 40 ] || fail "free 2 MiB hugepages $(hugepages all free_hugepages), $free before dma-test, 2 s after the kill"
	sleep 0.05
done
note "the buffer's hugepage is free again"
expect_eq "$(driver_of "$edu")" vfio-pci "driver of edu after the kill"

# edu finishes the transfer it had started (bit 0 of the command register
# clears), whether or not its memory access still goes anywhere.
sleep 0.2
run fpgactl -d "$edu" peek -w 64 0x98
expect_ok
expect_eq $((out & 1)) 0 "DMA command register bit 0 (transfer running) after the kill: $out"

# No reset for edu: the next user starts from the state edu was left in.
run fpgactl -d "$edu" reset
expect_rc 1
expect_err 'the device cannot be reset \(no FLR, PM or bus reset\)'

run fpgactl -d "$edu" dma-test --rounds 2
expect_ok
expect_out '^dma-test: 2 rounds x 4000 bytes host -> edu -> host verified, '
expect_eq "$(hugepages all free_hugepages)" "$free" "free 2 MiB hugepages at the end"
note "kernel log since the test began:"
dmesg | sed 's/^/  kernel: /'
