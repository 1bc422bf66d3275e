# machine: hotplug
# Reprogram (docs/lifecycle.md) with a reload emulated from the host: edu
# (QEMU id hotedu) sits behind a PCIe root port (rp1, with AER).  The
# programming step (/tmp/programmer.sh, reprogram_setup in testlib.sh) asks
# vm.py (host requests) to device_del the card and device_add one in the
# same slot.  Here: the same edu comes back, and DMA through a buffer mapped
# before the reload works after it at the same IOVA; a programmer that fails
# rolls back (the device is rescanned and reopened).  Every time the root
# port's AER registers are masked during the reload and as before after.
. /lib/vmtest.sh
need_program edu_reload
reprogram_setup

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
report "reprogram, same edu: remove to reopened $ms ms (of which the programmer, the card out and back in through the host, $prog ms)"

# 2. A programmer that fails: the device is brought back as it was.
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

