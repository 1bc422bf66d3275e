/* SPDX-License-Identifier: MIT */
#ifndef FPGACTL_IRQ_H
#define FPGACTL_IRQ_H

/*
 * Interrupts: every vector of an IRQ index is routed to an eventfd that the
 * library creates (EFD_CLOEXEC | EFD_NONBLOCK) and owns.  Wait on them with
 * the event engine of <fpgactl/events.h> (or any poller of your own); the
 * counter of an eventfd is the number of interrupts since it was last read.
 *
 * Of INTx, MSI and MSI-X only one can be enabled at a time (a VFIO rule);
 * enabling one disables the other first.  ERR and REQ are independent of
 * them.  See docs/interrupts.md.
 *
 * The calls of this header are for the control path: they take a process-wide
 * lock and may issue system calls.
 */

#include <stdint.h>

#include <fpgactl/device.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * fpgactl_irq_enable() - route vectors of an IRQ index to new eventfds
 * @dev: device
 * @index: FPGACTL_IRQ_INTX, _MSI, _MSIX, _ERR or _REQ
 * @count: vectors 0 .. @count - 1 (1 for INTx, ERR and REQ; at most what
 *	fpgactl_irq_get_info() reports)
 *
 * Creates one eventfd per vector and hands them to the device.  When another
 * of INTx/MSI/MSI-X is enabled it is disabled first (its eventfds are
 * closed).  When @index is enabled already with another vector count: where
 * the kernel can resize it (MSI-X with VFIO_IRQ_INFO_NORESIZE clear, Linux
 * 6.5+ on platforms with dynamic MSI-X) vectors are added or removed in
 * place, and the vectors kept keep their eventfds and never stop
 * delivering; otherwise the index is disabled and enabled again with new
 * eventfds (interrupts in between are lost).  Enabling it again with the
 * same count changes nothing.  New eventfds often get the numbers of the
 * closed ones: an event
 * engine that watched an old one holds a file no interrupt reaches, so
 * fpgactl_events_unwatch() the old numbers first (fpgactl_queue_wait() does
 * this by itself for the eventfd of a queue).  INTx is automasked by VFIO: after each interrupt, call
 * fpgactl_irq_unmask() once the device has been serviced.  MSI and MSI-X
 * messages are memory writes of the device, dropped while Bus Master Enable
 * is clear: set it with fpgactl_set_bus_master() (an info-level line is
 * logged when it is clear at enable time).
 *
 * Return: 0; -EINVAL for a bad index or count (logged); -EOPNOTSUPP when the
 * device has no such interrupt; -EMFILE / -ENFILE when no eventfd can be
 * created; or -errno from the kernel (logged).  On error an index that was
 * not enabled stays disabled, and one that was keeps its previous vectors
 * and eventfds (put back by the library when the kernel had to disable it
 * first; if even that fails, it is disabled, logged).
 */
int fpgactl_irq_enable(struct fpgactl_device *dev, uint32_t index, uint32_t count);

/**
 * fpgactl_irq_disable() - stop delivering an IRQ index and close its eventfds
 * @dev: device
 * @index: FPGACTL_IRQ_*
 *
 * Unwatch the eventfds from any event engine first
 * (fpgactl_events_unwatch()): an engine still watching keeps the eventfd
 * alive but it never fires again.  Disabling an index that is not enabled
 * does nothing.
 *
 * Return: 0, -EINVAL for a bad index, or -errno from the kernel (logged); the
 * eventfds are closed in every case.
 */
int fpgactl_irq_disable(struct fpgactl_device *dev, uint32_t index);

/**
 * fpgactl_irq_disable_all() - disable every IRQ index of a device
 * @dev: device
 *
 * Also done by fpgactl_device_close().
 */
void fpgactl_irq_disable_all(struct fpgactl_device *dev);

/**
 * fpgactl_irq_fd() - the eventfd of one vector
 * @dev: device
 * @index: FPGACTL_IRQ_*
 * @vector: vector number, below the count given to fpgactl_irq_enable()
 *
 * The eventfd belongs to the library: do not close it.  It stays valid
 * until the index is disabled or the device closed.
 *
 * Return: the file descriptor, or -ENOENT when @index is not enabled or
 * @vector is beyond its count.
 */
int fpgactl_irq_fd(struct fpgactl_device *dev, uint32_t index, uint32_t vector);

/**
 * fpgactl_irq_enabled() - how many vectors of an index are enabled
 * @dev: device
 * @index: FPGACTL_IRQ_*
 *
 * Return: the vector count, 0 when the index is disabled or out of range.
 */
uint32_t fpgactl_irq_enabled(struct fpgactl_device *dev, uint32_t index);

/**
 * fpgactl_irq_unmask() - re-enable INTx after it fired
 * @dev: device
 *
 * VFIO masks INTx when it fires (the line is level triggered and shared);
 * an interrupt raised while masked stays pending and is delivered on unmask.
 * Service the device (clear its interrupt cause) before unmasking, or the
 * interrupt fires again at once.  MSI and MSI-X need no unmask.
 *
 * Return: 0; -EINVAL when INTx is not enabled (logged); -EOPNOTSUPP for a
 * device other than a VFIO one (the software model has no INTx); or -errno
 * from the kernel (logged).
 */
int fpgactl_irq_unmask(struct fpgactl_device *dev);

/**
 * fpgactl_irq_enable_best() - enable the best interrupt type available
 * @dev: device
 * @wanted: vectors wanted (at least 1)
 * @index: receives the index enabled (FPGACTL_IRQ_MSIX, _MSI or _INTX)
 * @count: receives the vectors enabled; may be fewer than @wanted
 *
 * MSI-X when it has @wanted vectors or more, else MSI when it has, else
 * whichever of the two offers more vectors (MSI-X on a tie), else INTx.  A
 * type the kernel refuses to enable is skipped for the next one (logged as
 * a warning).
 *
 * Return: 0, -EINVAL for @wanted 0, -EOPNOTSUPP when the device has no
 * interrupt at all, or the error of the last type tried.
 */
int fpgactl_irq_enable_best(struct fpgactl_device *dev, uint32_t wanted,
			    uint32_t *index, uint32_t *count);

/**
 * fpgactl_irq_watch_removal() - be told when the device is to be removed
 * @dev: device
 *
 * Enables the device request interrupt (REQ) and, where the device has it,
 * the error interrupt (ERR, PCIe AER; its eventfd is
 * fpgactl_irq_fd(dev, FPGACTL_IRQ_ERR, 0)).  Calling it again returns the
 * same eventfd.
 *
 * The kernel signals REQ when the device is being unbound from vfio-pci or
 * hot-unplugged, and it blocks that unbind until every file of the device
 * is closed (repeating the request every 10 seconds).  On a REQ the
 * application must therefore stop its I/O, free its DMA buffers and close
 * the device with fpgactl_device_close().  Give the eventfd to
 * fpgactl_events_watch_removal() so that every waiter of an event engine
 * returns -ENODEV.
 *
 * Return: the REQ eventfd (owned by the library, like fpgactl_irq_fd()),
 * -EOPNOTSUPP when the device has no REQ interrupt (the software model), or
 * -errno (logged).
 */
int fpgactl_irq_watch_removal(struct fpgactl_device *dev);

#ifdef __cplusplus
}
#endif
#endif
