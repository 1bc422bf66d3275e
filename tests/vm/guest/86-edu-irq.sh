# Interrupts from edu through the library's event path (tests/vm/progs/
# edu_irq.c): MSI, then INTx, each enabled with fpgactl_irq_enable(), its
# eventfd watched by an fpgactl_events engine.  200 times each: a write of
# edu's interrupt raise register (0x60) must wake the engine within 1 s,
# with the value in the interrupt status register (0x24), cleared by the
# acknowledge register (0x64); INTx is unmasked after each.  A wait with
# nothing raised must time out, before and after.  INTx also: raised while
# masked it is held until the unmask; unmasked before the acknowledge it
# fires again.  The kernel's interrupt counters for vfio agree.
. /lib/vmtest.sh
need_program edu_irq

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"

# vfio_irqs: the interrupts the kernel counted for edu's vfio handlers
# (vfio-msi[0](BDF), vfio-intx(BDF) in /proc/interrupts), summed.
vfio_irqs() {
	grep "vfio-$1.*($edu)" /proc/interrupts | awk '{ n += $2 } END { print n + 0 }'
}

run edu_irq -n 200 "$edu"
expect_ok
expect_out '^edu_irq: MSI: 200 of 200 interrupts received, 0 spurious; raise to wake-up: '
expect_out '^edu_irq: INTx: 200 of 200 interrupts received, 0 spurious; raise to wake-up: '
expect_out '^edu_irq: INTx: an interrupt raised while masked was held, and delivered on unmask$'
expect_out '^edu_irq: INTx: unmasked before acknowledging, it fired again at once; quiet once acknowledged$'
report "$(out_line '^edu_irq: MSI: ')"
report "$(out_line '^edu_irq: INTx: 200 ')"

# The kernel's view, one type at a time (the handlers exist only while the
# type is enabled, so the counters are read while edu_irq runs).
for t in msi intx; do
	edu_irq -m $t -n 50 "$edu" >/tmp/edu_irq.out 2>&1 &
	pid=$!
	n=0
	while kill -0 $pid 2>/dev/null; do
		c=$(vfio_irqs $t)
		[ "$c" -gt "$n" ] && n=$c
		sleep 0.05
	done
	wait $pid || { cat /tmp/edu_irq.out; fail "edu_irq -m $t failed"; }
	note "/proc/interrupts: up to $n vfio-$t interrupts of $edu seen while edu_irq -m $t ran"
	[ "$n" -gt 0 ] || fail "no vfio-$t interrupt of $edu in /proc/interrupts"
done
expect_eq "$(driver_of "$edu")" vfio-pci "driver of edu at the end"
