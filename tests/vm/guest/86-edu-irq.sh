# Interrupts from edu through the library's event path (tests/vm/progs/
# edu_irq.c): MSI, then INTx, each enabled with fpgactl_irq_enable(), its
# eventfd watched by an fpgactl_events engine.  200 times each: a write of
# edu's interrupt raise register (0x60) must wake the engine within 1 s,
# with the value in the interrupt status register (0x24), cleared by the
# acknowledge register (0x64); INTx is unmasked after each.  A wait with
# nothing raised must time out, before and after.  INTx also: raised while
# masked it is held until the unmask; unmasked before the acknowledge it
# fires again.  The kernel counted the same interrupts: in /proc/interrupts
# edu's vfio-msi line counts exactly one per raise, its vfio-intx line one
# per raise that reached the line unmasked (the series, and one raise in
# each masking check); the interrupt held while masked, and the one still
# asserted at the early unmask, are signalled by the kernel's unmask
# itself, not by a hardware interrupt, and are not counted.
. /lib/vmtest.sh
need_program edu_irq

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"

run edu_irq -n 200 "$edu"
expect_ok
expect_out '^edu_irq: MSI: 200 of 200 interrupts received, 0 spurious; raise to wake-up: '
expect_out '^edu_irq: INTx: 200 of 200 interrupts received, 0 spurious; raise to wake-up: '
expect_out '^edu_irq: INTx: an interrupt raised while masked was held, and delivered on unmask$'
expect_out '^edu_irq: INTx: unmasked before acknowledging, it fired again at once; quiet once acknowledged$'
report "$(out_line '^edu_irq: MSI: 200 ')"
report "$(out_line '^edu_irq: INTx: 200 ')"

# The kernel's view: edu_irq reads /proc/interrupts before it disables each
# type (the handler's line goes with it).  MSI: one hardware interrupt per
# raise.  INTx: one per raise of the series, plus the first raise of each
# masking check; the other two deliveries come from the unmask itself.
expect_out '^edu_irq: MSI: /proc/interrupts counts 200 on 1 line\(s\)$'
expect_out '^edu_irq: INTx: /proc/interrupts counts 202 on 1 line\(s\)$'
report "$(out_line '^edu_irq: MSI: /proc/interrupts')"
report "$(out_line '^edu_irq: INTx: /proc/interrupts')"
expect_eq "$(driver_of "$edu")" vfio-pci "driver of edu at the end"
