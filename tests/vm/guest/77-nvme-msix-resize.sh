# Issue 12 item 14: changing the MSI-X vector count of an enabled index, on
# QEMU's NVMe controller (65 MSI-X vectors; its admin completion queue
# interrupts on vector 0).  tests/vm/progs/nvme_msix_resize.c enables 2
# vectors, leaves an interrupt pending on vector 0, grows the index to 8
# with fpgactl_irq_enable() and raises another interrupt; where the kernel
# clears VFIO_IRQ_INFO_NORESIZE it then sends 100 commands one at a time,
# each answered on vector 0, while the count keeps changing (2 to 16).
#
# The kernel decides: vfio-pci clears NORESIZE for MSI-X when the device's
# MSI-X supports dynamic allocation (vfio_pci_core.c,
# vfio_pci_ioctl_get_irq_info(): has_dyn_msix = pci_msix_can_alloc_dyn(),
# Linux 6.5+; on x86 the MSI parent domains, the vector domain and Intel's
# interrupt remapping, support MSI_FLAG_PCI_MSIX_ALLOC_DYN).  Debian's 6.1
# predates it and sets NORESIZE for every MSI-X index.
#   NORESIZE clear (the 6.12 rows): in place, vector 0 keeps its eventfd,
#     the pending interrupt is still counted, the next arrives on the
#     original eventfd, and none of the 100 is lost while resizing.
#   NORESIZE set (6.1): the library's documented fallback, disable and
#     enable again: vector 0 gets a new eventfd, the old file gets nothing
#     more, the new one gets the interrupts raised after the resize.
. /lib/vmtest.sh
need_program nvme_msix_resize

nvme=$(need_device $NVME_ID) || exit 1
vfio_bind_sysfs "$nvme"

case ${FPGACTL_VM_KERNEL:-6.1} in
6.1) noresize=set ;;
*) noresize=clear ;;
esac

run nvme_msix_resize "$nvme"
expect_ok
expect_out "^MSI-X: 65 vectors, NORESIZE $noresize\$"
expect_out '^before: 2 vectors, vector 0 on fd [0-9]+, an interrupt pending there$'
if [ $noresize = clear ]; then
	expect_out '^after: 8 vectors, vector 0 on fd [0-9]+ \(the same eventfd\); the interrupt pending before: still counted$'
	expect_out '^an interrupt raised after the resize: on the original eventfd$'
	expect_out '^resizing: 100 interrupts of 100 commands on vector 0.s original eventfd, none lost, while the count changed [0-9]+ times \(2 to 16\)$'
	report "$(out_line '^resizing: ')"
else
	expect_out '^after: 8 vectors, vector 0 on fd [0-9]+ \(a new eventfd\); the interrupt pending before: gone$'
	expect_out '^an interrupt raised after the resize: on the new eventfd only$'
	report "$(out_line '^after: ')"
fi
expect_out '^nvme_msix_resize: ok$'
expect_eq "$(driver_of "$nvme")" vfio-pci "driver of the NVMe controller at the end"
