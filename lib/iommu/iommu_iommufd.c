// SPDX-License-Identifier: MIT
/*
 * The iommufd IOMMU backend: /dev/iommu and the VFIO device cdevs.
 *
 * Sequence against the kernel uapi (see compat/iommufd.h):
 *
 *   open    iommufd = open("/dev/iommu")
 *           IOMMU_IOAS_ALLOC(iommufd)                  -> ioas_id
 *   attach  devfd = open("/dev/vfio/devices/vfioN")      N from sysfs vfio-dev/
 *           VFIO_DEVICE_BIND_IOMMUFD(devfd, iommufd)   -> devid
 *               (until then the cdev refuses every other device ioctl)
 *           VFIO_DEVICE_ATTACH_IOMMUFD_PT(devfd, ioas_id)
 *               (the device's DMA now goes through the IOAS)
 *   detach  VFIO_DEVICE_DETACH_IOMMUFD_PT(devfd); close(devfd)
 *               (closing the fd also unbinds it)
 *   close   IOMMU_DESTROY(iommufd, ioas_id); close(iommufd)
 *
 * Unlike the legacy container there are no groups to open: each device is
 * opened on its own, and group viability is enforced by the kernel at bind.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "pci/pci.h"
#include "iommu/iommu.h"
#include "compat/iommufd.h"

/*
 * Log a permission failure @err on opening the node @path; both nodes this
 * backend opens need the same fix.
 */
static void explain_open_denied(const char *path, int err)
{
	log_err("iommufd: cannot open %s: %s; run as root, or give your user "
		"read/write access to it (chmod, or a udev rule setting its "
		"GROUP and MODE 0660)", path, strerror(-err));
}

/**
 * open_node() - open a node under the device root read-write
 * @path: filled with the node's path
 * @size: size of @path
 * @rel: the node, relative to the device root ("iommu", "vfio/devices/vfio3")
 * @logged: set when the failure was logged here
 *
 * The failures every node shares are logged here: a device root too long
 * for @path, and a permission refusal.  Any other is left to the caller,
 * whose node it is to explain.
 *
 * Return: the fd, or -errno.
 */
static int open_node(char *path, size_t size, const char *rel, bool *logged)
{
	int fd, ret;

	*logged = true;
	ret = dev_path(path, size, "%s", rel);
	if (ret < 0) {
		log_err("iommufd: device root path is too long; shorten "
			"FPGACTL_DEV_ROOT");
		return ret;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	ret = -errno;
	if (ret == -EACCES || ret == -EPERM)
		explain_open_denied(path, ret);
	else
		*logged = false;
	return ret;
}

/**
 * iommufd_open_node() - open /dev/iommu
 * @path: filled with the node's path
 * @size: size of @path
 *
 * Return: the fd, or -errno having logged the cause and the fix.
 */
static int iommufd_open_node(char *path, size_t size)
{
	bool logged;
	int fd = open_node(path, size, "iommu", &logged);

	if (fd >= 0 || logged)
		return fd;
	if (fd == -ENOENT)
		log_err("iommufd: %s does not exist: the kernel has no iommufd "
			"(CONFIG_IOMMUFD) or its module is not loaded; try "
			"'modprobe iommufd', or use the legacy backend "
			"(FPGACTL_IOMMU_LEGACY)", path);
	else
		log_err("iommufd: cannot open %s: %s; use the legacy backend "
			"(FPGACTL_IOMMU_LEGACY) if this persists",
			path, strerror(-fd));
	return fd;
}

/**
 * iommufd_open() - open /dev/iommu and create the context's address space
 * @iommu: context; fills iommu->iommufd
 *
 * Return: 0, or -errno having logged the cause; nothing is left open.
 */
static int iommufd_open(struct fpgactl_iommu *iommu)
{
	struct iommufd_state *st = &iommu->iommufd;
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char path[PATH_MAX];
	int ret;

	st->fd = -1;
	ret = iommufd_open_node(path, sizeof(path));
	if (ret < 0)
		return ret;
	st->fd = ret;

	ret = xioctl(st->fd, IOMMU_IOAS_ALLOC, &alloc);
	if (ret < 0) {
		if (ret == -ENOTTY)
			log_err("iommufd: %s does not answer IOMMU_IOAS_ALLOC: "
				"it is not an iommufd node; check that it is "
				"the character device of CONFIG_IOMMUFD, or "
				"use the legacy backend", path);
		else
			log_err("iommufd: IOMMU_IOAS_ALLOC on %s failed: %s; "
				"check dmesg, or use the legacy backend",
				path, strerror(-ret));
		close(st->fd);
		st->fd = -1;
		return ret;
	}
	st->ioas_id = alloc.out_ioas_id;
	log_debug("iommufd: %s opened, IOAS %u", path, st->ioas_id);
	return 0;
}

static void iommufd_close(struct fpgactl_iommu *iommu)
{
	struct iommufd_state *st = &iommu->iommufd;
	struct iommu_destroy destroy = {
		.size = sizeof(destroy),
		.id = st->ioas_id,
	};
	int ret;

	if (st->fd < 0)
		return;
	/* Closing the fd frees the IOAS anyway; destroy it to be explicit,
	 * unless another process holds the same fd (lib/dma/share.c). */
	ret = iommu->exported ? 0 : xioctl(st->fd, IOMMU_DESTROY, &destroy);
	if (ret < 0)
		log_debug("iommufd: IOMMU_DESTROY of IOAS %u: %s",
			  st->ioas_id, strerror(-ret));
	close(st->fd);
	st->fd = -1;
}

/* Log why @bdf has no vfio cdev (@path: the missing node, or NULL). */
static void explain_no_cdev(const char *bdf, const char *path)
{
	log_err("iommufd: %s has no vfio device node%s%s%s: the kernel lacks "
		"CONFIG_VFIO_DEVICE_CDEV, or the device is not bound to "
		"vfio-pci; bind it to vfio-pci (fpgactl_pci_bind_vfio()), or "
		"use the legacy backend (FPGACTL_IOMMU_LEGACY)",
		bdf, path ? " (" : "", path ? path : "",
		path ? " is missing)" : "");
}

/**
 * open_cdev() - open the vfio cdev of a device
 * @bdf: device address, for messages
 *
 * Return: the fd, or -errno having logged the cause and the fix.
 */
static int open_cdev(const char *bdf)
{
	char path[PATH_MAX], rel[32];
	bool logged;
	int idx, fd;

	idx = pci_vfio_cdev_index(bdf);
	if (idx == -ENOENT) {
		explain_no_cdev(bdf, NULL);
		return idx;
	}
	if (idx < 0) {
		log_err("iommufd: cannot find the vfio cdev of %s: %s; check "
			"that the device exists and is bound to vfio-pci",
			bdf, strerror(-idx));
		return idx;
	}
	snprintf(rel, sizeof(rel), "vfio/devices/vfio%d", idx);
	fd = open_node(path, sizeof(path), rel, &logged);
	if (fd >= 0 || logged)
		return fd;
	if (fd == -ENOENT)
		explain_no_cdev(bdf, path);
	else
		log_err("iommufd: cannot open %s for %s: %s; check that the "
			"device is bound to vfio-pci", path, bdf,
			strerror(-fd));
	return fd;
}

/**
 * bind_cdev() - VFIO_DEVICE_BIND_IOMMUFD
 * @iommu: context
 * @dev: device; dev->fd is the cdev fd, dev->devid is filled in
 *
 * Return: 0, or -errno having logged the cause and the fix.
 */
static int bind_cdev(struct fpgactl_iommu *iommu, struct iommu_dev *dev)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommu->iommufd.fd,
	};
	struct vfio_device_bind_iommufd_token tbind = { .argsz = sizeof(tbind),
		.flags = VFIO_DEVICE_BIND_FLAG_TOKEN, .iommufd = iommu->iommufd.fd };
	int ret;

	if (dev->has_token) {
		/* Linux 6.17 on (VFIO_DEVICE_BIND_FLAG_TOKEN); before, the
		 * kernel refuses the flag with EINVAL. */
		tbind.token_uuid_ptr = (uintptr_t)dev->token;
		ret = xioctl(dev->fd, VFIO_DEVICE_BIND_IOMMUFD, &tbind);
		bind.out_devid = tbind.out_devid;
		if (ret == -EINVAL) {
			log_err("iommufd: %s: the kernel does not take a VF token "
				"through the cdev (VFIO_DEVICE_BIND_FLAG_TOKEN, Linux "
				"6.17), or the token is wrong: use the legacy backend "
				"(FPGACTL_IOMMU_LEGACY) for VFs", dev->bdf);
			return ret;
		}
	} else {
		ret = xioctl(dev->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	}
	/*
	 * Our fd is a fresh cdev fd and the arguments are valid, so EINVAL
	 * can only be vfio_df_open()'s refusal of a second open
	 * (drivers/vfio/vfio_main.c: open_count != 0 && !df->group: the device
	 * is bound through another cdev fd or open through its group); EBUSY
	 * is vfio_device_block_group(): the group node is open.
	 */
	if (ret == -EBUSY || ret == -EINVAL) {
		struct fpgactl_pci_holder h[4];
		char holders[256];
		bool partial;
		int n = pci_holders(dev->bdf, h, ARRAY_SIZE(h), &partial), others = 0;

		/* This process holds the cdev too: the fd just opened for the bind;
		 * another fd of it on the same node is another context of ours. */
		for (int i = 0; i < n && i < (int)ARRAY_SIZE(h); i++)
			if (h[i].pid != (int)getpid())
				h[others++] = h[i];
		n = n > (int)ARRAY_SIZE(h) ? others + n - (int)ARRAY_SIZE(h) : others;
		holders_text(h, n, (unsigned int)others, holders, sizeof(holders));
		if (self_holds_other_fd(dev->fd))
			log_err("iommufd: %s is busy: it is open in this process (pid %d), "
				"in another IOMMU context: open it once, or pass the first "
				"device's context in fpgactl_open_opts.iommu", dev->bdf,
				(int)getpid());
		else if (n > 0)
			log_err("iommufd: %s is busy: it is open in %s; close it "
				"there first", dev->bdf, holders);
		else
			log_err("iommufd: %s is busy: another process (a VM, "
				"another program) or another context of this one has "
				"it open through its cdev or /dev/vfio group; close "
				"it there first", dev->bdf);
		return -EBUSY;
	}
	if (ret < 0) {
		log_err("iommufd: VFIO_DEVICE_BIND_IOMMUFD for %s failed: %s; "
			"check dmesg, or use the legacy backend "
			"(FPGACTL_IOMMU_LEGACY)", dev->bdf, strerror(-ret));
		return ret;
	}
	dev->devid = bind.out_devid;
	return 0;
}

/**
 * attach_pt() - VFIO_DEVICE_ATTACH_IOMMUFD_PT to the context's IOAS
 * @iommu: context
 * @dev: bound device
 *
 * Return: 0, or -errno having logged the cause and the fix.
 */
static int attach_pt(struct fpgactl_iommu *iommu, struct iommu_dev *dev)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = iommu->iommufd.ioas_id,
	};
	int ret;

	ret = xioctl(dev->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
	if (ret < 0) {
		log_err("iommufd: attaching %s to IOAS %u failed: %s; the "
			"device's IOMMU may be incompatible with the devices "
			"already in this context (check dmesg), open it in a "
			"context of its own", dev->bdf,
			iommu->iommufd.ioas_id, strerror(-ret));
		return ret;
	}
	return 0;
}

/**
 * iommufd_attach() - open a device's cdev and put it in the context's IOAS
 * @iommu: context (lock held)
 * @dev: device; dev->fd, dev->group and dev->devid are filled in
 *
 * Return: 0, or -errno having logged the cause; on error dev->fd is -1.
 */
static int iommufd_attach(struct fpgactl_iommu *iommu,
			  struct iommu_dev *dev)
{
	int ret;

	dev->group = -1;
	dev->fd = open_cdev(dev->bdf);
	if (dev->fd < 0) {
		ret = dev->fd;
		dev->fd = -1;
		return ret;
	}
	ret = bind_cdev(iommu, dev);
	if (ret == 0)
		ret = attach_pt(iommu, dev);
	if (ret < 0) {
		close(dev->fd);		/* also unbinds */
		dev->fd = -1;
		return ret;
	}
	log_debug("iommufd: %s attached to IOAS %u as device %u",
		  dev->bdf, iommu->iommufd.ioas_id, dev->devid);
	return 0;
}

static void iommufd_detach(struct fpgactl_iommu *iommu,
			   struct iommu_dev *dev)
{
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};
	int ret;

	if (dev->fd < 0)
		return;
	/* Closing the fd detaches too; a failure here changes nothing.  An
	 * exported device's file is another process's too: only close it. */
	ret = iommu->exported ? 0 : xioctl(dev->fd, VFIO_DEVICE_DETACH_IOMMUFD_PT,
					   &detach);
	if (ret < 0)
		log_debug("iommufd: VFIO_DEVICE_DETACH_IOMMUFD_PT for %s: %s",
			  dev->bdf, strerror(-ret));
	close(dev->fd);
	dev->fd = -1;
}

/* ---- DMA mappings: IOMMU_IOAS_MAP / IOMMU_IOAS_UNMAP --------------------- */

/*
 * The IOAS's usable ranges.  The kernel answers -EMSGSIZE with num_iovas
 * set when the array is too small.
 */
static int iommufd_dma_info(struct fpgactl_iommu *iommu, struct iova_range **ranges,
			    size_t *nr_ranges, int64_t *mappings_avail)
{
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q), .ioas_id = iommu->iommufd.ioas_id };
	struct iommu_iova_range *arr = NULL;
	int ret;

	for (int tries = 0; tries < 3; tries++) {
		ret = xioctl(iommu->iommufd.fd, IOMMU_IOAS_IOVA_RANGES, &q);
		if (ret != -EMSGSIZE)
			break;
		free(arr);
		arr = calloc(q.num_iovas, sizeof(*arr));
		if (!arr)
			return -ENOMEM;
		q.allowed_iovas = (uintptr_t)arr;
	}
	if (ret) {
		log_err("iommufd: IOMMU_IOAS_IOVA_RANGES failed: %s", strerror(-ret));
		free(arr);
		return ret;
	}
	*ranges = calloc(q.num_iovas ? q.num_iovas : 1, sizeof(**ranges));
	if (!*ranges) {
		free(arr);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < q.num_iovas && arr; i++)
		(*ranges)[i] = (struct iova_range){ arr[i].start, arr[i].last };
	*nr_ranges = arr ? q.num_iovas : 0;
	/* iommufd has no per-container mapping count limit. */
	*mappings_avail = -1;
	/* The IOAS's IOVA and length granule: the smallest IOMMU page. */
	iommu->min_pgsize = q.out_iova_alignment;
	free(arr);
	return 0;
}

static int iommufd_map(struct fpgactl_iommu *iommu, void *vaddr, uint64_t iova,
		       uint64_t size)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = iommu->iommufd.ioas_id,
		.user_va = (uintptr_t)vaddr,
		.length = size,
		.iova = iova,
	};
	int ret = xioctl(iommu->iommufd.fd, IOMMU_IOAS_MAP, &map);

	if (ret)
		log_err("iommufd: IOMMU_IOAS_MAP of %llu KiB at IOVA 0x%llx "
			"failed: %s%s", (unsigned long long)(size >> 10),
			(unsigned long long)iova, strerror(-ret), ret == -ENOMEM ?
			" (RLIMIT_MEMLOCK too low? see 'ulimit -l')" : "");
	return ret;
}

static int iommufd_unmap(struct fpgactl_iommu *iommu, uint64_t iova, uint64_t size)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = iommu->iommufd.ioas_id,
		.iova = iova,
		.length = size,
	};
	int ret = xioctl(iommu->iommufd.fd, IOMMU_IOAS_UNMAP, &unmap);

	if (ret) {
		log_err("iommufd: IOMMU_IOAS_UNMAP at IOVA 0x%llx failed: %s",
			(unsigned long long)iova, strerror(-ret));
		return ret;
	}
	if (unmap.length != size) {
		log_err("iommufd: IOMMU_IOAS_UNMAP at IOVA 0x%llx unmapped %llu "
			"bytes, not %llu: the IOMMU's mappings no longer match "
			"the library's", (unsigned long long)iova,
			(unsigned long long)unmap.length, (unsigned long long)size);
		return -EIO;
	}
	return 0;
}

const struct iommu_backend iommu_backend_iommufd = {
	.name = "iommufd",
	.id = FPGACTL_IOMMU_IOMMUFD,
	.open = iommufd_open,
	.close = iommufd_close,
	.attach = iommufd_attach,
	.detach = iommufd_detach,
	.dma_info = iommufd_dma_info,
	.map = iommufd_map,
	.unmap = iommufd_unmap,
};
