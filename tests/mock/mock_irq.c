// SPDX-License-Identifier: MIT
/*
 * VFIO_DEVICE_SET_IRQS, modelled on vfio_set_irqs_validate_and_prepare()
 * and drivers/vfio/pci/vfio_pci_intrs.c: one interrupt type at a time
 * (INTx, MSI or MSI-X), automasked INTx, single-vector ERR and REQ.  The
 * mock keeps a dup of every registered eventfd, as the kernel keeps a
 * reference, and the test raises interrupts with mock_irq_trigger().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock_internal.h"

#define INTX VFIO_PCI_INTX_IRQ_INDEX
#define MSI VFIO_PCI_MSI_IRQ_INDEX
#define MSIX VFIO_PCI_MSIX_IRQ_INDEX

/* What one SET_IRQS call asks for. */
struct irq_req {
	struct mock_irqs *irqs;
	uint32_t flags;
	uint32_t index;
	uint32_t start;
	uint32_t count;
	const uint8_t *data;
	uint32_t max;		/* vectors of this index */
	bool dyn;		/* MSI-X vectors can be added while enabled */
};

#define DATA(r) ((r)->flags & VFIO_IRQ_SET_DATA_TYPE_MASK)
#define ACTION(r) ((r)->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK)

/* ---- eventfds ------------------------------------------------------------------ */

/* eventfd_ctx_fdget(): our own reference to the caller's eventfd. */
static int efd_get(int32_t fd, int *out)
{
	char link[64], target[64];
	ssize_t n;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -EBADF;
	target[n] = '\0';
	if (strcmp(target, "anon_inode:[eventfd]"))
		return -EINVAL;
	*out = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	return *out < 0 ? -errno : 0;
}

static void efd_put(int *efd)
{
	if (*efd >= 0)
		mock_real.close(*efd);
	*efd = -1;
}

static void efd_signal(int efd)
{
	uint64_t one = 1;

	if (efd >= 0 && write(efd, &one, sizeof(one)) < 0)
		perror("mock_kernel: eventfd write");
}

void mock_irqs_release(struct mock_irqs *irqs)
{
	for (unsigned int i = 0; i < irqs->nvec; i++)
		efd_put(&irqs->efd[i]);
	free(irqs->efd);
	irqs->efd = NULL;
	irqs->nvec = 0;
	irqs->type = -1;
	irqs->intx_masked = irqs->intx_pending = false;
	efd_put(&irqs->err_efd);
	efd_put(&irqs->req_efd);
}

/* Switch to interrupt type @index with @nvec vector slots. */
static int irqs_enable(struct mock_irqs *irqs, uint32_t index, uint32_t nvec)
{
	irqs->efd = malloc(nvec * sizeof(int));
	if (!irqs->efd)
		return -ENOMEM;
	for (uint32_t i = 0; i < nvec; i++)
		irqs->efd[i] = -1;
	irqs->nvec = nvec;
	irqs->type = (int)index;
	irqs->intx_masked = irqs->intx_pending = false;
	return 0;
}

static void irqs_disable(struct mock_irqs *irqs)
{
	int err = irqs->err_efd, req = irqs->req_efd;

	irqs->err_efd = irqs->req_efd = -1;	/* not part of the type */
	mock_irqs_release(irqs);
	irqs->err_efd = err;
	irqs->req_efd = req;
}

/* ---- INTx -------------------------------------------------------------------------- */

/* The line fires: deliver unless masked, then automask, as
 * vfio_intx_handler() (drivers/vfio/pci/vfio_pci_intrs.c) masks the line
 * before signalling the trigger eventfd; vfio_pci_intx_unmask_handler()
 * delivers what came in while masked. */
static int intx_fire(struct mock_irqs *irqs)
{
	if (irqs->intx_masked) {
		irqs->intx_pending = true;
		return 1;
	}
	efd_signal(irqs->efd[0]);
	irqs->intx_masked = true;
	return 0;
}

static bool bool_or_none(const struct irq_req *r)
{
	return DATA(r) == VFIO_IRQ_SET_DATA_NONE || r->data[0];
}

static long intx_mask(struct irq_req *r)
{
	if (r->irqs->type != INTX || r->start || r->count != 1)
		return -EINVAL;
	if (DATA(r) == VFIO_IRQ_SET_DATA_EVENTFD)
		return -ENOTTY;
	if (bool_or_none(r))
		r->irqs->intx_masked = true;
	return 0;
}

static long intx_unmask(struct irq_req *r)
{
	struct mock_irqs *irqs = r->irqs;
	int32_t fd;
	int efd = -1, ret;

	if (irqs->type != INTX || r->start || r->count != 1)
		return -EINVAL;
	/* An unmask eventfd (irqfd) is checked but its effect not modelled. */
	if (DATA(r) == VFIO_IRQ_SET_DATA_EVENTFD) {
		memcpy(&fd, r->data, sizeof(fd));
		if (fd < 0)
			return 0;
		ret = efd_get(fd, &efd);
		efd_put(&efd);
		return ret;
	}
	if (!bool_or_none(r) || !irqs->intx_masked)
		return 0;
	irqs->intx_masked = false;
	if (irqs->intx_pending) {
		irqs->intx_pending = false;
		intx_fire(irqs);
	}
	return 0;
}

static long intx_trigger(struct irq_req *r)
{
	struct mock_irqs *irqs = r->irqs;
	int32_t fd;
	int efd = -1, ret;

	if (irqs->type == INTX && !r->count && DATA(r) == VFIO_IRQ_SET_DATA_NONE) {
		irqs_disable(irqs);
		return 0;
	}
	if ((irqs->type != INTX && irqs->type != -1) || r->start || r->count != 1)
		return -EINVAL;
	if (DATA(r) == VFIO_IRQ_SET_DATA_EVENTFD) {
		memcpy(&fd, r->data, sizeof(fd));
		if (fd >= 0 && (ret = efd_get(fd, &efd)))
			return ret;
		if (irqs->type != INTX && (ret = irqs_enable(irqs, INTX, 1))) {
			efd_put(&efd);
			return ret;
		}
		efd_put(&irqs->efd[0]);
		irqs->efd[0] = efd;
		return 0;
	}
	if (irqs->type != INTX)
		return -EINVAL;
	if (bool_or_none(r))
		efd_signal(irqs->efd[0]);	/* loopback, whatever the mask */
	return 0;
}

/* ---- MSI / MSI-X ------------------------------------------------------------------- */

/* Set the eventfds of vectors [start, start + count). */
static long msi_set_block(struct irq_req *r)
{
	struct mock_irqs *irqs = r->irqs;

	/*
	 * vfio_msi_set_block() / vfio_msi_alloc_irq(): a vector beyond those
	 * allocated at enable is allocated only for MSI-X on a platform with
	 * dynamic allocation (has_dyn_msix, Linux 6.5+); otherwise -EINVAL
	 * (before 6.5 the whole block was refused up front, as here).
	 */
	if (r->start + r->count > irqs->nvec) {
		int *p;

		if (r->index != MSIX || !r->dyn)
			return -EINVAL;
		p = realloc(irqs->efd, (r->start + r->count) * sizeof(int));
		if (!p)
			return -ENOMEM;
		irqs->efd = p;
		while (irqs->nvec < r->start + r->count)
			irqs->efd[irqs->nvec++] = -1;
	}
	for (uint32_t i = 0; i < r->count; i++) {
		int32_t fd;
		int efd = -1, ret;

		memcpy(&fd, r->data + i * sizeof(fd), sizeof(fd));
		if (fd >= 0 && (ret = efd_get(fd, &efd)))
			return ret;
		efd_put(&irqs->efd[r->start + i]);
		irqs->efd[r->start + i] = efd;
	}
	return 0;
}

static long msi_trigger(struct irq_req *r)
{
	struct mock_irqs *irqs = r->irqs;
	long ret;

	if (irqs->type == (int)r->index && !r->count && DATA(r) == VFIO_IRQ_SET_DATA_NONE) {
		irqs_disable(irqs);
		return 0;
	}
	if (irqs->type != (int)r->index && irqs->type != -1)
		return -EINVAL;
	if (DATA(r) == VFIO_IRQ_SET_DATA_EVENTFD) {
		if (irqs->type == (int)r->index)
			return msi_set_block(r);
		ret = irqs_enable(irqs, r->index, r->start + r->count);
		if (!ret)
			ret = msi_set_block(r);
		if (ret)
			irqs_disable(irqs);
		return ret;
	}
	if (irqs->type != (int)r->index)
		return -EINVAL;
	/* Loopback: signal the vectors that have an eventfd. */
	for (uint32_t i = r->start; i < r->start + r->count && i < irqs->nvec; i++)
		if (DATA(r) == VFIO_IRQ_SET_DATA_NONE || r->data[i - r->start])
			efd_signal(irqs->efd[i]);
	return 0;
}

/* ---- ERR / REQ ---------------------------------------------------------------------- */

/* vfio_pci_set_ctx_trigger_single(). */
static long single_trigger(struct irq_req *r)
{
	int *slot = r->index == VFIO_PCI_ERR_IRQ_INDEX ? &r->irqs->err_efd : &r->irqs->req_efd;
	int32_t fd;
	int efd = -1, ret;

	if (r->start || r->count > 1)
		return -EINVAL;
	if (DATA(r) == VFIO_IRQ_SET_DATA_NONE) {
		if (r->count)
			efd_signal(*slot);
		else
			efd_put(slot);
		return 0;
	}
	if (!r->count)
		return -EINVAL;
	if (DATA(r) == VFIO_IRQ_SET_DATA_BOOL) {
		if (r->data[0])
			efd_signal(*slot);
		return 0;
	}
	memcpy(&fd, r->data, sizeof(fd));
	if (fd == -1) {
		efd_put(slot);
		return 0;
	}
	if (fd < 0)
		return 0;
	ret = efd_get(fd, &efd);
	if (ret)
		return ret;
	efd_put(slot);
	*slot = efd;
	return 0;
}

/* ---- the ioctl ------------------------------------------------------------------------ */

/* vfio_set_irqs_validate_and_prepare(); the payload size on success. */
static long validate(const struct vfio_irq_set *hdr, uint32_t max)
{
	size_t minsz = offsetofend(struct vfio_irq_set, count), size;

	if (hdr->argsz < minsz || hdr->index >= FAKE_NUM_IRQS ||
	    hdr->count >= UINT32_MAX - hdr->start ||
	    hdr->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return -EINVAL;
	if (hdr->start >= max || hdr->start + hdr->count > max)
		return -EINVAL;
	switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		size = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(uint8_t);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(int32_t);
		break;
	default:
		return -EINVAL;
	}
	if (size && hdr->argsz - minsz < hdr->count * size)
		return -EINVAL;
	return 0;
}

/* vfio_pci_set_irqs_ioctl(): pick the handler for index and action. */
static long (*handler(const struct irq_req *r, bool pcie))(struct irq_req *)
{
	switch (r->index) {
	case INTX:
		if (ACTION(r) == VFIO_IRQ_SET_ACTION_MASK)
			return intx_mask;
		if (ACTION(r) == VFIO_IRQ_SET_ACTION_UNMASK)
			return intx_unmask;
		return ACTION(r) == VFIO_IRQ_SET_ACTION_TRIGGER ? intx_trigger : NULL;
	case MSI:
	case MSIX:
		/* Masking MSI vectors is not supported by vfio-pci. */
		return ACTION(r) == VFIO_IRQ_SET_ACTION_TRIGGER ? msi_trigger : NULL;
	case VFIO_PCI_ERR_IRQ_INDEX:
		return ACTION(r) == VFIO_IRQ_SET_ACTION_TRIGGER && pcie ? single_trigger : NULL;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return ACTION(r) == VFIO_IRQ_SET_ACTION_TRIGGER ? single_trigger : NULL;
	default:
		return NULL;
	}
}

long mock_irq_set(struct mock_device *dev, const struct fake_dev_desc *d, void *arg)
{
	struct vfio_irq_set hdr;
	struct irq_req r;
	long (*fn)(struct irq_req *);
	long ret;

	memcpy(&hdr, arg, offsetofend(struct vfio_irq_set, count));
	r = (struct irq_req){
		.irqs = &dev->irqs,
		.flags = hdr.flags,
		.index = hdr.index,
		.start = hdr.start,
		.count = hdr.count,
		.data = ((const struct vfio_irq_set *)arg)->data,
		.max = hdr.index < FAKE_NUM_IRQS ? d->irq_count[hdr.index] : 0,
		.dyn = d->msix_dyn,
	};
	ret = validate(&hdr, r.max);
	if (ret)
		return ret;
	fn = handler(&r, d->pcie);
	return fn ? fn(&r) : -ENOTTY;
}

/* ---- test control ----------------------------------------------------------------------- */

static int trigger(struct mock_irqs *irqs, unsigned int index, unsigned int vector)
{
	int efd = -1;

	if (index == INTX && irqs->type == INTX && !vector && irqs->efd[0] >= 0)
		return intx_fire(irqs);
	if ((index == MSI || index == MSIX) && irqs->type == (int)index &&
	    vector < irqs->nvec)
		efd = irqs->efd[vector];
	if (index == VFIO_PCI_ERR_IRQ_INDEX && !vector)
		efd = irqs->err_efd;
	if (index == VFIO_PCI_REQ_IRQ_INDEX && !vector)
		efd = irqs->req_efd;
	if (efd < 0)
		return -ENOENT;
	efd_signal(efd);
	return 0;
}

int mock_irq_trigger(const char *bdf, unsigned int index, unsigned int vector)
{
	struct mock_device *dev;
	int ret = -ENOENT;

	mock_init();
	mock_lock();
	dev = mock_device_find(bdf);
	if (dev)
		ret = trigger(&dev->irqs, index, vector);
	mock_unlock();
	return ret;
}

static unsigned int count_vectors(const struct mock_irqs *irqs, unsigned int index)
{
	unsigned int n = 0;

	if (index == VFIO_PCI_ERR_IRQ_INDEX)
		return irqs->err_efd >= 0;
	if (index == VFIO_PCI_REQ_IRQ_INDEX)
		return irqs->req_efd >= 0;
	if (irqs->type != (int)index)
		return 0;
	for (unsigned int i = 0; i < irqs->nvec; i++)
		n += irqs->efd[i] >= 0;
	return n;
}

unsigned int mock_irq_vectors(const char *bdf, unsigned int index)
{
	struct mock_device *dev;
	unsigned int n = 0;

	mock_init();
	mock_lock();
	dev = mock_device_find(bdf);
	if (dev)
		n = count_vectors(&dev->irqs, index);
	mock_unlock();
	return n;
}
