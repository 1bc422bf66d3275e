// SPDX-License-Identifier: MIT
/*
 * Interrupts.  VFIO_DEVICE_SET_IRQS routes each vector of an IRQ index
 * (INTx, MSI, MSI-X, error, request) to an eventfd; the generic part below
 * creates the eventfds, keeps them in dev->irq and goes through
 * dev->ops->set_irqs, which the VFIO code here and the software model
 * implement.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/core.h"
#include "vfio/vfio.h"

#define NR_INDEXES 5	/* INTx, MSI, MSI-X, ERR, REQ */

/**
 * struct irq_state - the enabled IRQ indexes of a device
 * @nvec: vectors enabled per index (0: disabled)
 * @fds: their eventfds, @nvec[i] of them
 */
struct irq_state {
	uint32_t nvec[NR_INDEXES];
	int *fds[NR_INDEXES];
};

/* Serialises every control call on every device's irq state. */
static pthread_mutex_t irq_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const index_names[NR_INDEXES] = {
	"INTx", "MSI", "MSI-X", "ERR", "REQ",
};

static const char *index_name(uint32_t index)
{
	return index < NR_INDEXES ? index_names[index] : "unknown";
}

/* INTx, MSI and MSI-X exclude each other. */
static bool is_type(uint32_t index)
{
	return index <= FPGACTL_IRQ_MSIX;
}

/* ---- VFIO ------------------------------------------------------------------ */

static int vfio_irqs_disable(struct fpgactl_device *dev, uint32_t index)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
	};

	return xioctl(dev->fd, VFIO_DEVICE_SET_IRQS, &set);
}

int vfio_set_irqs(struct fpgactl_device *dev, uint32_t index, uint32_t start,
		  uint32_t count, const int *fds)
{
	struct vfio_irq_set *set;
	size_t sz = sizeof(*set) + count * sizeof(int32_t);
	int ret;

	if (!count)
		ret = vfio_irqs_disable(dev, index);
	else if (!(set = calloc(1, sz)))
		return -ENOMEM;
	else {
		set->argsz = (uint32_t)sz;
		set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
		set->index = index;
		set->start = start;
		set->count = count;
		memcpy(set->data, fds, count * sizeof(int32_t));
		ret = xioctl(dev->fd, VFIO_DEVICE_SET_IRQS, set);
		free(set);
	}
	if (ret)
		log_err("%s: VFIO_DEVICE_SET_IRQS(index %u, vectors %u..%u) failed: %s",
			dev->bdf, index, start, start + count, strerror(-ret));
	return ret;
}

/* VFIO_IRQ_SET_ACTION_UNMASK of INTx: no device_ops hook, VFIO only. */
static int vfio_intx_unmask(struct fpgactl_device *dev)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
		.index = VFIO_PCI_INTX_IRQ_INDEX,
		.start = 0,
		.count = 1,
	};
	int ret = xioctl(dev->fd, VFIO_DEVICE_SET_IRQS, &set);

	if (ret)
		log_err("%s: unmasking INTx (VFIO_DEVICE_SET_IRQS ACTION_UNMASK) "
			"failed: %s", dev->bdf, strerror(-ret));
	return ret;
}

/* ---- generic ----------------------------------------------------------------- */

static void close_fds(int *fds, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static struct irq_state *irq_state(struct fpgactl_device *dev)
{
	if (!dev->irq)
		dev->irq = calloc(1, sizeof(*dev->irq));
	return dev->irq;
}

/* Query the vectors of @index; 0 when the device lacks it. */
static int irq_count(struct fpgactl_device *dev, uint32_t index, uint32_t *count)
{
	struct fpgactl_irq_info info;
	int ret;

	*count = 0;
	if (index >= dev->num_irqs)
		return 0;
	ret = dev->ops->irq_info(dev, index, &info);
	if (!ret)
		*count = info.count;
	return ret;
}

/* The eventfds behind some numbers changed: queue waits watch them again. */
static void gen_bump(struct fpgactl_device *dev)
{
	__atomic_add_fetch(&dev->irq_gen, 1, __ATOMIC_RELEASE);
}

static int disable_locked(struct fpgactl_device *dev, uint32_t index)
{
	struct irq_state *st = dev->irq;
	int ret;

	if (!st || !st->nvec[index])
		return 0;
	ret = dev->ops->set_irqs(dev, index, 0, 0, NULL);
	/* Ours go either way: the kernel holds its own references. */
	close_fds(st->fds[index], st->nvec[index]);
	gen_bump(dev);
	free(st->fds[index]);
	st->fds[index] = NULL;
	st->nvec[index] = 0;
	log_debug("%s: %s interrupts disabled", dev->bdf, index_name(index));
	return ret;
}

static int check_index(struct fpgactl_device *dev, uint32_t index)
{
	if (index < NR_INDEXES)
		return 0;
	log_err("%s: IRQ index %u does not exist: use FPGACTL_IRQ_INTX, _MSI, "
		"_MSIX, _ERR or _REQ", dev->bdf, index);
	return -EINVAL;
}

/*
 * An MSI is a memory write of the device: with Bus Master Enable clear the
 * device (or QEMU) drops it and the eventfd never fires.  Not an error, as
 * the application may set it next, but worth a line when nothing arrives.
 */
static void note_bus_master(struct fpgactl_device *dev, uint32_t index)
{
	uint16_t cmd;

	if (config_read_command(dev, &cmd) == 0 &&
	    cmd != 0xffff && !(cmd & PCI_COMMAND_MASTER))
		log_info("%s: %s enabled while Bus Master Enable is clear; the "
			 "device cannot send an MSI until fpgactl_set_bus_master() "
			 "sets it", dev->bdf, index_name(index));
}

/* One new eventfd per vector in @fds[0 .. @n); on failure none is left open. */
static int make_eventfds(struct fpgactl_device *dev, uint32_t index, uint32_t first,
			 uint32_t n, int *fds)
{
	for (uint32_t i = 0; i < n; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fds[i] < 0) {
			int ret = -errno;

			log_err("%s: cannot create an eventfd for %s vector %u: %s%s",
				dev->bdf, index_name(index), first + i, strerror(-ret),
				ret == -EMFILE ? " (raise the open file limit, "
				"ulimit -n)" : "");
			close_fds(fds, i);
			return ret;
		}
	}
	return 0;
}

/*
 * VFIO_IRQ_INFO_NORESIZE clear: vectors can be added to and removed from the
 * enabled index in place (MSI-X on a platform with dynamic allocation, Linux
 * 6.5+: vfio_msi_set_block() allocates a vector the first time it gets an
 * eventfd, and an eventfd of -1 releases one).
 */
static bool can_resize(struct fpgactl_device *dev, uint32_t index)
{
	struct fpgactl_irq_info info;

	return index == FPGACTL_IRQ_MSIX && !dev->ops->irq_info(dev, index, &info) &&
	       !(info.flags & VFIO_IRQ_INFO_NORESIZE);
}

/* In place: the vectors below min(old, @count) keep their eventfds and never
 * stop delivering.  On failure the previous set-up is untouched. */
static int resize_locked(struct fpgactl_device *dev, uint32_t index, uint32_t count)
{
	struct irq_state *st = dev->irq;
	uint32_t old = st->nvec[index], n = count > old ? count - old : old - count;
	int *fds, ret;

	if (count < old) {
		fds = malloc(n * sizeof(*fds));
		if (!fds)
			return -ENOMEM;
		for (uint32_t i = 0; i < n; i++)
			fds[i] = -1;	/* release the vector */
		ret = dev->ops->set_irqs(dev, index, count, n, fds);
		free(fds);
		if (ret)
			return ret;
		close_fds(st->fds[index] + count, n);
		gen_bump(dev);
	} else {
		fds = realloc(st->fds[index], count * sizeof(*fds));
		if (!fds)
			return -ENOMEM;
		st->fds[index] = fds;
		ret = make_eventfds(dev, index, old, n, fds + old);
		if (ret)
			return ret;
		ret = dev->ops->set_irqs(dev, index, old, n, fds + old);
		if (ret) {
			close_fds(fds + old, n);
			return ret;
		}
	}
	st->nvec[index] = count;
	log_debug("%s: %s resized from %u to %u vectors in place", dev->bdf,
		  index_name(index), old, count);
	return 0;
}

/*
 * NORESIZE: disable the index and enable it with the new count, which drops
 * interrupts in between.  The old eventfds stay open until the new set-up
 * works; if it fails, the old one is put back on them, so the application's
 * eventfds keep working.
 */
static int reenable_locked(struct fpgactl_device *dev, uint32_t index, uint32_t count,
			   int *fds)
{
	struct irq_state *st = dev->irq;
	uint32_t old = st->nvec[index];
	int ret = dev->ops->set_irqs(dev, index, 0, 0, NULL);

	if (ret)
		return ret;	/* still enabled as before */
	ret = dev->ops->set_irqs(dev, index, 0, count, fds);
	if (!ret) {
		close_fds(st->fds[index], old);
		free(st->fds[index]);
		gen_bump(dev);
		st->fds[index] = fds;
		st->nvec[index] = count;
		return 0;
	}
	close_fds(fds, count);
	free(fds);
	if (!dev->ops->set_irqs(dev, index, 0, old, st->fds[index])) {
		log_warn("%s: %s kept at %u vectors, on the same eventfds", dev->bdf,
			 index_name(index), old);
		return ret;
	}
	log_err("%s: %s could not be set up again with its %u previous vectors: "
		"it is disabled", dev->bdf, index_name(index), old);
	close_fds(st->fds[index], old);
	free(st->fds[index]);
	st->fds[index] = NULL;
	st->nvec[index] = 0;
	gen_bump(dev);
	return ret;
}

static int check_count(struct fpgactl_device *dev, uint32_t index, uint32_t count)
{
	uint32_t avail;
	int ret = check_index(dev, index);

	if (!ret)
		ret = irq_count(dev, index, &avail);
	if (ret)
		return ret;
	if (!avail) {
		log_err("%s: the device has no %s interrupt", dev->bdf,
			index_name(index));
		return -EOPNOTSUPP;
	}
	if (!count || count > avail || (index != FPGACTL_IRQ_MSI &&
					index != FPGACTL_IRQ_MSIX && count != 1)) {
		log_err("%s: %u %s vectors asked for; the device has %u%s", dev->bdf,
			count, index_name(index), avail,
			is_type(index) && index != FPGACTL_IRQ_INTX ? "" :
			" (and only one can be enabled)");
		return -EINVAL;
	}
	return 0;
}

static int enable_locked(struct fpgactl_device *dev, uint32_t index, uint32_t count)
{
	struct irq_state *st;
	int *fds, ret = check_count(dev, index, count);

	if (ret)
		return ret;
	st = irq_state(dev);
	if (!st)
		return -ENOMEM;
	if (st->nvec[index] == count)
		return 0;
	/* One of INTx/MSI/MSI-X at a time: switch by disabling the other. */
	for (uint32_t i = 0; is_type(index) && i <= FPGACTL_IRQ_MSIX; i++)
		if (i != index && st->nvec[i]) {
			log_debug("%s: switching from %s to %s interrupts", dev->bdf,
				  index_name(i), index_name(index));
			disable_locked(dev, i);
		}
	if (st->nvec[index] && can_resize(dev, index))
		return resize_locked(dev, index, count);

	fds = malloc(count * sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	ret = make_eventfds(dev, index, 0, count, fds);
	if (ret) {
		free(fds);
		return ret;
	}
	if (st->nvec[index])
		return reenable_locked(dev, index, count, fds);
	ret = dev->ops->set_irqs(dev, index, 0, count, fds);
	if (ret) {
		close_fds(fds, count);
		free(fds);
		return ret;
	}
	st->fds[index] = fds;
	st->nvec[index] = count;
	log_debug("%s: %u %s vector(s) enabled", dev->bdf, count, index_name(index));
	if (index == FPGACTL_IRQ_MSI || index == FPGACTL_IRQ_MSIX)
		note_bus_master(dev, index);
	return 0;
}

FPGACTL_EXPORT int fpgactl_irq_enable(struct fpgactl_device *dev, uint32_t index,
				      uint32_t count)
{
	int ret;

	pthread_mutex_lock(&irq_lock);
	ret = enable_locked(dev, index, count);
	pthread_mutex_unlock(&irq_lock);
	return ret;
}

FPGACTL_EXPORT int fpgactl_irq_disable(struct fpgactl_device *dev, uint32_t index)
{
	int ret = check_index(dev, index);

	if (ret)
		return ret;
	pthread_mutex_lock(&irq_lock);
	ret = disable_locked(dev, index);
	pthread_mutex_unlock(&irq_lock);
	return ret;
}

FPGACTL_EXPORT void fpgactl_irq_disable_all(struct fpgactl_device *dev)
{
	if (!dev || !dev->irq)
		return;
	pthread_mutex_lock(&irq_lock);
	for (uint32_t i = 0; i < NR_INDEXES; i++)
		disable_locked(dev, i);
	free(dev->irq);
	dev->irq = NULL;
	pthread_mutex_unlock(&irq_lock);
}

FPGACTL_EXPORT int fpgactl_irq_fd(struct fpgactl_device *dev, uint32_t index,
				  uint32_t vector)
{
	int fd = -ENOENT;

	pthread_mutex_lock(&irq_lock);
	if (dev->irq && index < NR_INDEXES && vector < dev->irq->nvec[index])
		fd = dev->irq->fds[index][vector];
	pthread_mutex_unlock(&irq_lock);
	return fd;
}

FPGACTL_EXPORT uint32_t fpgactl_irq_enabled(struct fpgactl_device *dev,
					    uint32_t index)
{
	uint32_t n = 0;

	pthread_mutex_lock(&irq_lock);
	if (dev->irq && index < NR_INDEXES)
		n = dev->irq->nvec[index];
	pthread_mutex_unlock(&irq_lock);
	return n;
}

FPGACTL_EXPORT int fpgactl_irq_unmask(struct fpgactl_device *dev)
{
	bool intx;

	if (dev->ops != &vfio_device_ops) {
		log_err("%s: INTx unmask is for VFIO devices; this device has no "
			"INTx (use MSI-X)", dev->bdf);
		return -EOPNOTSUPP;
	}
	pthread_mutex_lock(&irq_lock);
	intx = dev->irq && dev->irq->nvec[FPGACTL_IRQ_INTX];
	pthread_mutex_unlock(&irq_lock);
	if (!intx) {
		log_err("%s: INTx unmask without INTx enabled: call "
			"fpgactl_irq_enable(dev, FPGACTL_IRQ_INTX, 1) first", dev->bdf);
		return -EINVAL;
	}
	return vfio_intx_unmask(dev);
}

int irq_intx_rearm(struct fpgactl_device *dev, int fd)
{
	bool intx;

	pthread_mutex_lock(&irq_lock);
	intx = fd >= 0 && dev->irq && dev->irq->nvec[FPGACTL_IRQ_INTX] &&
	       dev->irq->fds[FPGACTL_IRQ_INTX][0] == fd;
	pthread_mutex_unlock(&irq_lock);
	/* vfio_intx_handler() masked the line when it fired. */
	return intx && dev->ops == &vfio_device_ops ? vfio_intx_unmask(dev) : 0;
}

FPGACTL_EXPORT int fpgactl_irq_enable_best(struct fpgactl_device *dev,
					   uint32_t wanted, uint32_t *index,
					   uint32_t *count)
{
	uint32_t msix, msi, intx, order[3], want[3];
	unsigned int n = 0;
	int ret;

	if (!wanted) {
		log_err("%s: 0 interrupt vectors asked for", dev->bdf);
		return -EINVAL;
	}
	pthread_mutex_lock(&irq_lock);
	ret = irq_count(dev, FPGACTL_IRQ_MSIX, &msix);
	if (!ret)
		ret = irq_count(dev, FPGACTL_IRQ_MSI, &msi);
	if (!ret)
		ret = irq_count(dev, FPGACTL_IRQ_INTX, &intx);
	if (ret)
		goto out;
	/* The order of preference, each with the vectors it would get. */
	if (msix >= wanted || (msi < wanted && msix && msix >= msi)) {
		order[n] = FPGACTL_IRQ_MSIX;
		want[n++] = msix < wanted ? msix : wanted;
	}
	if (msi) {
		order[n] = FPGACTL_IRQ_MSI;
		want[n++] = msi < wanted ? msi : wanted;
	}
	if (msix && (n == 0 || order[0] != FPGACTL_IRQ_MSIX)) {
		order[n] = FPGACTL_IRQ_MSIX;
		want[n++] = msix < wanted ? msix : wanted;
	}
	if (intx) {
		order[n] = FPGACTL_IRQ_INTX;
		want[n++] = 1;
	}
	ret = -EOPNOTSUPP;
	if (!n)
		log_err("%s: the device has no interrupt at all (no MSI-X, MSI or "
			"INTx): poll its queues instead", dev->bdf);
	for (unsigned int i = 0; i < n; i++) {
		ret = enable_locked(dev, order[i], want[i]);
		if (!ret) {
			*index = order[i];
			*count = want[i];
			if (want[i] < wanted)
				log_info("%s: %u interrupt vectors wanted, %u %s "
					 "vector(s) enabled", dev->bdf, wanted,
					 want[i], index_name(order[i]));
			break;
		}
		if (i + 1 < n)
			log_warn("%s: %s interrupts could not be enabled (%s); "
				 "trying %s", dev->bdf, index_name(order[i]),
				 strerror(-ret), index_name(order[i + 1]));
	}
out:
	pthread_mutex_unlock(&irq_lock);
	return ret;
}

FPGACTL_EXPORT int fpgactl_irq_watch_removal(struct fpgactl_device *dev)
{
	uint32_t req, err;
	int ret;

	pthread_mutex_lock(&irq_lock);
	if (dev->irq && dev->irq->nvec[FPGACTL_IRQ_REQ]) {
		ret = dev->irq->fds[FPGACTL_IRQ_REQ][0];
		goto out;
	}
	ret = irq_count(dev, FPGACTL_IRQ_REQ, &req);
	if (ret)
		goto out;
	if (!req) {
		log_err("%s: the device has no request interrupt: its removal "
			"cannot be watched (the software model is never removed)",
			dev->bdf);
		ret = -EOPNOTSUPP;
		goto out;
	}
	ret = enable_locked(dev, FPGACTL_IRQ_REQ, 1);
	if (ret)
		goto out;
	ret = dev->irq->fds[FPGACTL_IRQ_REQ][0];
	/* ERR is optional: PCIe only, and nothing depends on it. */
	if (!dev->irq->nvec[FPGACTL_IRQ_ERR] &&
	    !irq_count(dev, FPGACTL_IRQ_ERR, &err) && err &&
	    enable_locked(dev, FPGACTL_IRQ_ERR, 1))
		log_warn("%s: the error interrupt (AER) could not be enabled; "
			 "removal is still watched", dev->bdf);
out:
	pthread_mutex_unlock(&irq_lock);
	return ret;
}
