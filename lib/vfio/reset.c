// SPDX-License-Identifier: MIT
/*
 * Device reset: VFIO_DEVICE_RESET (function-level, PM or slot reset, as the
 * kernel chooses) and VFIO_DEVICE_PCI_HOT_RESET (secondary bus reset), which
 * FPGAs without FLR need.  A hot reset affects every function on the bus;
 * the kernel allows it only when the caller owns all of them.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "iommu/iommu.h"
#include "vfio/vfio.h"
#include "compat/iommufd.h"

/*
 * The list of devices a hot reset would affect.  The kernel answers -ENOSPC
 * with the count filled in when the buffer is too small.
 */
static struct vfio_pci_hot_reset_info *hot_reset_info(struct fpgactl_device *dev,
						      int *err)
{
	struct vfio_pci_hot_reset_info *info = NULL;
	uint32_t count = 0;

	for (int tries = 0; tries < 2; tries++) {
		size_t sz = sizeof(*info) + count * sizeof(info->devices[0]);
		void *p = realloc(info, sz);

		if (!p) {
			*err = -ENOMEM;
			break;
		}
		info = p;
		memset(info, 0, sz);
		info->argsz = (uint32_t)sz;
		*err = xioctl(dev->fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info);
		if (!*err && info->count <= count)
			return info;
		if (*err && *err != -ENOSPC)
			break;
		count = info->count;
		*err = -EPROTO;
	}
	free(info);
	return NULL;
}

bool vfio_hot_reset_possible(struct fpgactl_device *dev)
{
	int err;
	struct vfio_pci_hot_reset_info *info = hot_reset_info(dev, &err);

	free(info);
	return info != NULL;
}

/* The fd of the group that holds affected device @d, or -1 (logged). */
static int owned_group_fd(struct fpgactl_device *dev,
			  const struct vfio_pci_dependent_device *d)
{
	struct legacy_state *st = &dev->iommu->legacy;

	for (size_t i = 0; i < st->nr_groups; i++)
		if ((uint32_t)st->groups[i].number == d->group_id)
			return st->groups[i].fd;
	log_err("%s: a hot reset also resets %04x:%02x:%02x.%x (IOMMU group %u), "
		"which this process has not opened: open it in the same IOMMU "
		"context first, or use a device with function-level reset",
		dev->bdf, d->segment, d->bus, d->devfn >> 3, d->devfn & 7,
		d->group_id);
	return -1;
}

/* Legacy backend: the kernel wants the fds of every affected group. */
static int hot_reset_legacy(struct fpgactl_device *dev,
			    const struct vfio_pci_hot_reset_info *info)
{
	struct vfio_pci_hot_reset *req;
	size_t sz = sizeof(*req) + info->count * sizeof(req->group_fds[0]);
	int ret = 0;

	req = calloc(1, sz);
	if (!req)
		return -ENOMEM;
	for (uint32_t i = 0; i < info->count && !ret; i++) {
		int fd = owned_group_fd(dev, &info->devices[i]);

		if (fd < 0)
			ret = -EPERM;
		/* One fd per group: several devices may share one. */
		for (uint32_t j = 0; j < req->count && fd >= 0; j++)
			if (req->group_fds[j] == fd)
				fd = -1;
		if (fd >= 0)
			req->group_fds[req->count++] = fd;
	}
	req->argsz = (uint32_t)(sizeof(*req) + req->count * sizeof(req->group_fds[0]));
	if (!ret)
		ret = xioctl(dev->fd, VFIO_DEVICE_PCI_HOT_RESET, req);
	free(req);
	return ret;
}

/*
 * iommufd backend: the info names affected devices by devid, and says
 * whether this iommufd owns them all; an empty group list then asks the
 * kernel to check ownership through the iommufd.
 */
static int hot_reset_iommufd(struct fpgactl_device *dev,
			     const struct vfio_pci_hot_reset_info *info)
{
	struct vfio_pci_hot_reset req = { .argsz = sizeof(req) };

	if ((info->flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID) &&
	    !(info->flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED)) {
		for (uint32_t i = 0; i < info->count; i++) {
			const struct vfio_pci_dependent_device *d = &info->devices[i];

			if (d->group_id == (uint32_t)VFIO_PCI_DEVID_NOT_OWNED)
				log_err("%s: a hot reset also resets %04x:%02x:%02x.%x, "
					"which this process has not opened: open it "
					"in the same IOMMU context first", dev->bdf,
					d->segment, d->bus, d->devfn >> 3, d->devfn & 7);
		}
		return -EPERM;
	}
	return xioctl(dev->fd, VFIO_DEVICE_PCI_HOT_RESET, &req);
}

int vfio_hot_reset(struct fpgactl_device *dev)
{
	struct vfio_pci_hot_reset_info *info;
	int ret;

	info = hot_reset_info(dev, &ret);
	if (!info) {
		log_err("%s: no bus reset is possible for this device (%s)",
			dev->bdf, strerror(-ret));
		return ret == -ENODEV ? -ENOTTY : ret;
	}
	if (dev->iommu->backend->id == FPGACTL_IOMMU_LEGACY)
		ret = hot_reset_legacy(dev, info);
	else
		ret = hot_reset_iommufd(dev, info);
	free(info);
	if (ret && ret != -EPERM)
		log_err("%s: VFIO_DEVICE_PCI_HOT_RESET failed: %s", dev->bdf,
			strerror(-ret));
	return ret;
}

int vfio_reset(struct fpgactl_device *dev)
{
	int ret;

	if (!(dev->flags & VFIO_DEVICE_FLAGS_RESET))
		return -ENOTTY;
	ret = xioctl(dev->fd, VFIO_DEVICE_RESET, NULL);
	if (ret)
		log_err("%s: VFIO_DEVICE_RESET failed: %s", dev->bdf, strerror(-ret));
	return ret;
}

FPGACTL_EXPORT int fpgactl_device_hot_reset(struct fpgactl_device *dev)
{
	return dev->ops->hot_reset(dev);
}

FPGACTL_EXPORT int fpgactl_device_reset(struct fpgactl_device *dev)
{
	int ret = dev->ops->reset(dev);

	if (ret != -ENOTTY)
		return ret;
	log_debug("%s: no function-level reset; trying a bus reset", dev->bdf);
	return dev->ops->hot_reset(dev);
}
