// SPDX-License-Identifier: MIT
/*
 * Opening and closing a device, and what the kernel says about it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "iommu/iommu.h"
#include "vfio/vfio.h"

/* Refuse early, with the precise reason, what the kernel would refuse. */
static int precheck(struct fpgactl_device *dev)
{
	const char *bdf = dev->bdf;
	struct fpgactl_pci_dev d;
	int ret = fpgactl_pci_lookup(bdf, &d);

	if (ret) {
		log_err("%s: no such PCI device (see fpgactl list)", bdf);
		return ret;
	}
	dev->numa_node = d.numa_node;
	if (d.vfio_state == FPGACTL_VFIO_NO_IOMMU ||
	    d.vfio_state == FPGACTL_VFIO_NOT_BOUND) {
		log_err("%s: %s", bdf, d.vfio_reason);
		return -ENODEV;
	}
	return 0;
}

static int join_iommu(struct fpgactl_device *dev,
		      const struct fpgactl_open_opts *opts)
{
	enum fpgactl_iommu_backend backend = opts ? opts->backend : FPGACTL_IOMMU_AUTO;
	int ret = 0;

	if (opts && opts->iommu) {
		iommu_get(opts->iommu);
		dev->iommu = opts->iommu;
		return 0;
	}
	if (backend == FPGACTL_IOMMU_AUTO) {
		ret = iommu_choose_backend(dev->bdf, &backend);
		if (ret)
			return ret;
	}
	dev->iommu = fpgactl_iommu_open(backend, &ret);
	return ret;
}

int query_device_info(struct fpgactl_device *dev)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int ret = xioctl(dev->fd, VFIO_DEVICE_GET_INFO, &info);

	if (ret) {
		log_err("%s: VFIO_DEVICE_GET_INFO failed: %s", dev->bdf, strerror(-ret));
		return ret;
	}
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		log_err("%s: VFIO reports a device that is not PCI", dev->bdf);
		return -ENODEV;
	}
	if (info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		log_err("%s: VFIO reports %u regions, too few for a PCI device",
			dev->bdf, info.num_regions);
		return -ENODEV;
	}
	dev->flags = info.flags;
	dev->num_regions = info.num_regions;
	dev->num_irqs = info.num_irqs;
	return 0;
}

static void vfio_close(struct fpgactl_device *dev)
{
	regions_teardown(dev);
	if (dev->fd >= 0)
		device_detach(dev);
}

static void device_free(struct fpgactl_device *dev)
{
	fpgactl_irq_disable_all(dev);
	dev->ops->close(dev);
	fpgactl_iommu_close(dev->iommu);
	free(dev);
}

struct fpgactl_device *device_alloc(void)
{
	struct fpgactl_device *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	dev->refs = 1;
	dev->ops = &vfio_device_ops;
	dev->fd = -1;
	dev->group = -1;
	dev->numa_node = -1;
	dev->dma_limit = UINT64_MAX;
	dev->deadline_scale = 1;
	return dev;
}

static int device_setup(struct fpgactl_device *dev,
			const struct fpgactl_open_opts *opts)
{
	int ret = sriov_open_token(dev, opts);

	if (!ret)
		ret = join_iommu(dev, opts);
	if (!ret)
		ret = device_attach(dev);
	if (!ret)
		ret = query_device_info(dev);
	if (!ret)
		ret = regions_setup(dev, !(opts && (opts->flags & FPGACTL_OPEN_NO_MMAP)));
	if (!ret && opts && (opts->flags & FPGACTL_OPEN_RESET))
		ret = fpgactl_device_reset(dev);
	return ret;
}

struct fpgactl_device *vfio_device_open(const char *bdf,
					const struct fpgactl_open_opts *opts, int *err)
{
	struct fpgactl_device *dev;
	int ret;

	dev = device_alloc();
	if (!dev) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = fpgactl_pci_parse_bdf(bdf, dev->bdf);
	if (ret) {
		log_err("'%s' is not a PCI address (expected dddd:bb:dd.f, "
			"e.g. 0000:03:00.0)", bdf ? bdf : "(null)");
		free(dev);
		goto fail;
	}
	ret = precheck(dev);
	if (!ret)
		ret = device_setup(dev, opts);
	if (!ret) {
		log_debug("%s: opened through the %s IOMMU backend", dev->bdf,
			  dev->iommu->backend->name);
		return dev;
	}
	device_free(dev);
fail:
	if (err)
		*err = ret;
	return NULL;
}

/* The iommu layer's view of @dev (struct iommu_dev), for attach and detach. */
static void iommu_dev_of(struct fpgactl_device *dev, struct iommu_dev *d)
{
	*d = (struct iommu_dev){ .owner = dev, .bdf = dev->bdf,
		.vf_token = dev->vf_token, .fd = dev->fd, .group = dev->group,
		.devid = dev->devid };
	sriov_device_name(dev, d->name, sizeof(d->name));
	d->has_token = sriov_token_bytes(dev, d->token);
}

/* What attach and detach set: back into @dev. */
static void iommu_dev_back(struct fpgactl_device *dev, const struct iommu_dev *d)
{
	dev->fd = d->fd;
	dev->group = d->group;
	dev->devid = d->devid;
}

int device_attach(struct fpgactl_device *dev)
{
	struct iommu_dev d;
	int ret;

	iommu_dev_of(dev, &d);
	ret = iommu_attach(dev->iommu, &d);
	iommu_dev_back(dev, &d);
	return ret;
}

void device_detach(struct fpgactl_device *dev)
{
	struct iommu_dev d;

	iommu_dev_of(dev, &d);
	iommu_detach(dev->iommu, &d);
	iommu_dev_back(dev, &d);
}

void device_get(struct fpgactl_device *dev)
{
	__atomic_add_fetch(&dev->refs, 1, __ATOMIC_RELAXED);
}

void device_put(struct fpgactl_device *dev)
{
	if (!__atomic_sub_fetch(&dev->refs, 1, __ATOMIC_ACQ_REL))
		device_free(dev);
}

FPGACTL_EXPORT void fpgactl_device_close(struct fpgactl_device *dev)
{
	unsigned int users;

	if (!dev)
		return;
	users = __atomic_load_n(&dev->refs, __ATOMIC_RELAXED) - 1;
	if (users)
		log_warn("%s: closed while %u soft-core or queue handle%s still use%s it: "
			 "the device stays open until the last is closed (close them "
			 "before the device)", dev->bdf, users, users == 1 ? "" : "s",
			 users == 1 ? "s" : "");
	device_put(dev);
}

FPGACTL_EXPORT const char *fpgactl_device_bdf(const struct fpgactl_device *dev)
{
	return dev->bdf;
}

FPGACTL_EXPORT struct fpgactl_iommu *fpgactl_device_iommu(const struct fpgactl_device *dev)
{
	return dev->iommu;
}

FPGACTL_EXPORT int fpgactl_device_get_info(struct fpgactl_device *dev,
					   struct fpgactl_device_info *info)
{
	info->num_regions = dev->num_regions;
	info->num_irqs = dev->num_irqs;
	info->flags = 0;
	if (dev->flags & VFIO_DEVICE_FLAGS_RESET)
		info->flags |= FPGACTL_DEV_CAN_RESET;
	if (dev->ops->hot_reset_possible(dev))
		info->flags |= FPGACTL_DEV_CAN_HOT_RESET;
	info->backend = dev->iommu->backend->id;
	return 0;
}

int vfio_irq_info(struct fpgactl_device *dev, uint32_t index,
		  struct fpgactl_irq_info *info)
{
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = index };
	int ret = xioctl(dev->fd, VFIO_DEVICE_GET_IRQ_INFO, &irq);

	if (ret == -EINVAL) {
		/* vfio-pci counts every index but refuses those the device
		 * lacks (the error IRQ of a conventional PCI device). */
		irq.count = 0;
		irq.flags = 0;
		ret = 0;
	}
	if (ret) {
		log_err("%s: VFIO_DEVICE_GET_IRQ_INFO(%u) failed: %s", dev->bdf,
			index, strerror(-ret));
		return ret;
	}
	info->index = index;
	info->count = irq.count;
	info->flags = irq.flags;
	return 0;
}

FPGACTL_EXPORT int fpgactl_irq_get_info(struct fpgactl_device *dev, uint32_t index,
					struct fpgactl_irq_info *info)
{
	if (index >= dev->num_irqs) {
		log_err("%s: IRQ index %u out of range (the device has %u)",
			dev->bdf, index, dev->num_irqs);
		return -EINVAL;
	}
	return dev->ops->irq_info(dev, index, info);
}

const struct device_ops vfio_device_ops = {
	.region_rw = vfio_region_rw,
	.irq_info = vfio_irq_info,
	.reset = vfio_reset,
	.hot_reset = vfio_hot_reset,
	.hot_reset_possible = vfio_hot_reset_possible,
	.set_irqs = vfio_set_irqs,
	.close = vfio_close,
};
