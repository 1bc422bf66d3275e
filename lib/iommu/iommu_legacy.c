// SPDX-License-Identifier: MIT
/*
 * Legacy VFIO backend: a container (/dev/vfio/vfio) holding the groups
 * (/dev/vfio/N) of the devices, with the type1 IOMMU driver.
 *
 * Sequence (Documentation/driver-api/vfio.rst): open the container, check
 * the API version and the type1 extension; per group: open it, check that it
 * is viable, add it to the container, and on the first group select the
 * IOMMU type; then ask the group for the device fd by name.
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

static void log_open_error(const char *path, int err, const char *what)
{
	if (err == -EACCES || err == -EPERM)
		log_err("cannot open %s (%s): permission denied; run as root, or "
			"give this user the node (chown, or a udev rule for vfio)",
			path, what);
	else if (err == -ENOENT)
		log_err("%s does not exist (%s): load the driver with "
			"'modprobe vfio-pci' and bind the device to it", path, what);
	else if (err == -EBUSY)
		log_busy(path, what);
	else
		log_err("cannot open %s (%s): %s", path, what, strerror(-err));
}

static int open_dev_node(const char *rel, const char *what)
{
	char path[PATH_MAX];
	int fd;

	if (dev_path(path, sizeof(path), "%s", rel))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		log_open_error(path, fd, what);
	}
	return fd;
}

static int legacy_pick_type(struct legacy_state *st)
{
	static const uint32_t types[] = { VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU };

	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		if (xioctl(st->container_fd, VFIO_CHECK_EXTENSION,
			   (void *)(uintptr_t)types[i]) > 0) {
			st->iommu_type = types[i];
			return 0;
		}
	}
	log_err("the VFIO container offers no type1 IOMMU driver: load "
		"vfio_iommu_type1 (modprobe vfio_iommu_type1)");
	return -ENOTSUP;
}

static int legacy_open(struct fpgactl_iommu *iommu)
{
	struct legacy_state *st = &iommu->legacy;
	int ret;

	st->container_fd = open_dev_node("vfio/vfio", "VFIO container");
	if (st->container_fd < 0)
		return st->container_fd;
	ret = xioctl(st->container_fd, VFIO_GET_API_VERSION, NULL);
	if (ret != VFIO_API_VERSION) {
		log_err("VFIO API version %d, expected %d: kernel and library "
			"disagree", ret, VFIO_API_VERSION);
		ret = -ENOTSUP;
		goto fail;
	}
	ret = legacy_pick_type(st);
	if (ret)
		goto fail;
	return 0;
fail:
	close(st->container_fd);
	return ret;
}

static void legacy_close(struct fpgactl_iommu *iommu)
{
	close(iommu->legacy.container_fd);
	free(iommu->legacy.groups);
}

static struct vfio_group *legacy_find_group(struct legacy_state *st, int number)
{
	for (size_t i = 0; i < st->nr_groups; i++)
		if (st->groups[i].number == number)
			return &st->groups[i];
	return NULL;
}

static int legacy_check_viable(int fd, int number)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char culprits[256];
	int ret = xioctl(fd, VFIO_GROUP_GET_STATUS, &status);

	if (ret) {
		log_err("VFIO_GROUP_GET_STATUS on group %d failed: %s", number,
			strerror(-ret));
		return ret;
	}
	if (status.flags & VFIO_GROUP_FLAGS_VIABLE)
		return 0;
	if (pci_group_viable(number, culprits, sizeof(culprits)) == -EBUSY)
		log_err("IOMMU group %d is not viable: %s must be bound to "
			"vfio-pci or unbound (fpgactl bind BDF)", number, culprits);
	else
		log_err("IOMMU group %d is not viable: bind every device of "
			"/sys/kernel/iommu_groups/%d/devices to vfio-pci",
			number, number);
	return -EBUSY;
}

static int legacy_remap_all(struct fpgactl_iommu *iommu);

/* Open group @number and add it to the container. */
static int legacy_add_group(struct fpgactl_iommu *iommu, int number)
{
	struct legacy_state *st = &iommu->legacy;
	bool in_container = false;
	char rel[32];
	int fd, ret;

	snprintf(rel, sizeof(rel), "vfio/%d", number);
	fd = open_dev_node(rel, "VFIO group");
	if (fd < 0)
		return fd;
	ret = legacy_check_viable(fd, number);
	if (!ret) {
		ret = xioctl(fd, VFIO_GROUP_SET_CONTAINER, &st->container_fd);
		if (ret)
			log_err("cannot add group %d to the container: %s", number,
				strerror(-ret));
		in_container = !ret;
	}
	if (!ret && !st->iommu_type_set) {
		ret = xioctl(st->container_fd, VFIO_SET_IOMMU,
			     (void *)(uintptr_t)st->iommu_type);
		if (ret)
			log_err("VFIO_SET_IOMMU failed: %s", strerror(-ret));
		else
			st->iommu_type_set = true;
		if (!ret)
			ret = legacy_remap_all(iommu);
	}
	if (!ret) {
		void *p = realloc(st->groups, (st->nr_groups + 1) * sizeof(*st->groups));

		if (p) {
			st->groups = p;
			st->groups[st->nr_groups++] =
				(struct vfio_group){ .number = number, .fd = fd };
			return 0;
		}
		ret = -ENOMEM;
	}
	/* Undo: the group leaves the container, and when it was the only one
	 * the container loses its IOMMU, so the next group sets it again. */
	if (in_container)
		xioctl(fd, VFIO_GROUP_UNSET_CONTAINER, NULL);
	if (!st->nr_groups)
		st->iommu_type_set = false;
	close(fd);
	return ret;
}

static void legacy_put_group(struct legacy_state *st, struct vfio_group *g)
{
	if (g->users)
		return;
	/* Exported (lib/dma/share.c): the group file is another process's too. */
	if (!st->shared)
		xioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER, NULL);
	close(g->fd);
	*g = st->groups[--st->nr_groups];
	/* The last group gone leaves the container without an IOMMU. */
	if (!st->nr_groups)
		st->iommu_type_set = false;
}

static int legacy_attach(struct fpgactl_iommu *iommu, struct iommu_dev *dev)
{
	struct legacy_state *st = &iommu->legacy;
	struct vfio_group *g;
	int number = pci_iommu_group(dev->bdf);
	int ret;

	dev->fd = -1;
	if (number < 0)
		return pci_explain_unusable(dev->bdf) ?: number;
	g = legacy_find_group(st, number);
	if (!g) {
		ret = legacy_add_group(iommu, number);
		if (ret)
			return ret;
		g = legacy_find_group(st, number);
	}
	ret = xioctl(g->fd, VFIO_GROUP_GET_DEVICE_FD, dev->name);
	if (ret < 0) {
		log_err("%s: VFIO_GROUP_GET_DEVICE_FD failed: %s%s", dev->bdf,
			strerror(-ret), ret == -EBUSY ?
			" (the device is already open, in this or another process)" :
			ret == -EACCES && !dev->vf_token[0] ? " (an SR-IOV VF whose PF "
			"is bound to vfio-pci needs the VF token: FPGACTL_OPEN_VF_TOKEN)" :
			(ret == -EACCES || ret == -EINVAL) && dev->vf_token[0] ?
			" (the VF token is wrong, or the device is neither a VF of a "
			"vfio-pci PF nor such a PF: see dmesg)" : "");
		legacy_put_group(st, g);
		return ret;
	}
	g->users++;
	dev->fd = ret;
	dev->group = number;
	return 0;
}

static void legacy_detach(struct fpgactl_iommu *iommu, struct iommu_dev *dev)
{
	struct legacy_state *st = &iommu->legacy;
	struct vfio_group *g = legacy_find_group(st, dev->group);

	close(dev->fd);
	dev->fd = -1;
	if (g) {
		g->users--;
		legacy_put_group(st, g);
	}
}

/* ---- DMA mappings: VFIO_IOMMU_MAP_DMA / VFIO_IOMMU_UNMAP_DMA ------------- */

static struct vfio_iommu_type1_info *legacy_get_info(int fd, int *err)
{
	const struct vfio_iommu_type1_info tmpl = { 0 };

	return vfio_info_query(fd, VFIO_IOMMU_GET_INFO, &tmpl, sizeof(tmpl), err);
}

static const struct vfio_info_cap_header *
legacy_find_cap(const struct vfio_iommu_type1_info *info, uint16_t id)
{
	return vfio_info_find_cap(info, sizeof(*info), info->argsz,
				  (info->flags & VFIO_IOMMU_INFO_CAPS) ?
				  info->cap_offset : 0, id);
}

/*
 * Kernels before 5.4 do not report the usable IOVA ranges
 * (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE).  Assume what every IOMMU these
 * kernels drive can map: 39 bits of IOVA (the smallest address width
 * VT-d hardware implements, 3-level tables; AMD-Vi and SMMUs offer more),
 * minus the windows where DMA writes are taken as MSIs rather than reaching
 * memory: 0xfee00000-0xfeefffff on x86 (the interrupt address range of
 * VT-d and AMD-Vi, IOMMU_RESV_MSI), and on arm64 the IOVA that dma-iommu
 * reserves for MSI doorbells, MSI_IOVA_BASE 0x8000000 + 1 MiB
 * (drivers/iommu/arm/arm-smmu*).
 */
static const struct iova_range legacy_fallback_ranges[] = {
#if defined(__aarch64__)
	{ 0, 0x7ffffffull },
	{ 0x8100000ull, (1ull << 39) - 1 },
#else
	{ 0, 0xfedfffffull },
	{ 0xfef00000ull, (1ull << 39) - 1 },
#endif
};

static int legacy_copy_ranges(const struct vfio_iommu_type1_info *info,
			      struct iova_range **ranges, size_t *n)
{
	const struct vfio_info_cap_header *h =
		legacy_find_cap(info, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	const struct vfio_iommu_type1_info_cap_iova_range *cap = (const void *)h;
	uint32_t count = ARRAY_SIZE(legacy_fallback_ranges);

	if (cap) {
		if (!vfio_cap_fits(info, info->argsz, h, sizeof(*cap),
				   sizeof(cap->iova_ranges[0]), 0))
			return -EPROTO;
		count = cap->nr_iovas;
		if (!vfio_cap_fits(info, info->argsz, h, sizeof(*cap),
				   sizeof(cap->iova_ranges[0]), count))
			return -EPROTO;
	}
	*ranges = calloc(count ? count : 1, sizeof(**ranges));
	if (!*ranges)
		return -ENOMEM;
	if (!cap) {
		log_debug("the kernel reports no IOVA ranges (before 5.4): using "
			  "39 bits minus the MSI window");
		memcpy(*ranges, legacy_fallback_ranges, sizeof(legacy_fallback_ranges));
	} else {
		for (uint32_t i = 0; i < count; i++)
			(*ranges)[i] = (struct iova_range){
				cap->iova_ranges[i].start, cap->iova_ranges[i].end };
	}
	*n = count;
	return 0;
}

static int legacy_dma_info(struct fpgactl_iommu *iommu, struct iova_range **ranges,
			   size_t *nr_ranges, int64_t *mappings_avail)
{
	const struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info *info;
	int ret;

	info = legacy_get_info(iommu->legacy.container_fd, &ret);
	if (!info) {
		log_err("VFIO_IOMMU_GET_INFO failed: %s", strerror(-ret));
		return ret;
	}
	/* The smallest page the IOMMU maps: the lowest bit of iova_pgsizes. */
	iommu->min_pgsize = (info->flags & VFIO_IOMMU_INFO_PGSIZES) ?
			    info->iova_pgsizes & -info->iova_pgsizes : 0;
	ret = legacy_copy_ranges(info, ranges, nr_ranges);
	avail = (const void *)legacy_find_cap(info, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	if (avail && !vfio_cap_fits(info, info->argsz, &avail->header,
				    sizeof(*avail), 1, 0))
		avail = NULL;
	*mappings_avail = avail ? (int64_t)avail->avail : -1;
	free(info);
	return ret;
}

static int legacy_map(struct fpgactl_iommu *iommu, void *vaddr, uint64_t iova,
		      uint64_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};
	int ret = xioctl(iommu->legacy.container_fd, VFIO_IOMMU_MAP_DMA, &map);

	if (ret)
		log_err("VFIO_IOMMU_MAP_DMA of %llu KiB at IOVA 0x%llx failed: %s%s",
			(unsigned long long)(size >> 10), (unsigned long long)iova,
			strerror(-ret), ret == -ENOMEM ?
			" (RLIMIT_MEMLOCK too low? see 'ulimit -l')" : "");
	return ret;
}

static int legacy_unmap(struct fpgactl_iommu *iommu, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};
	int ret;

	/* The last group leaving the container released every mapping. */
	if (!iommu->legacy.iommu_type_set)
		return 0;
	ret = xioctl(iommu->legacy.container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap);
	if (ret) {
		log_err("VFIO_IOMMU_UNMAP_DMA at IOVA 0x%llx failed: %s",
			(unsigned long long)iova, strerror(-ret));
		return ret;
	}
	if (unmap.size != size) {
		log_err("VFIO_IOMMU_UNMAP_DMA at IOVA 0x%llx unmapped %llu bytes, "
			"not %llu: the IOMMU's mappings no longer match the "
			"library's", (unsigned long long)iova,
			(unsigned long long)unmap.size, (unsigned long long)size);
		return -EIO;
	}
	return 0;
}

/*
 * The kernel dropped every mapping when the last group left; a group
 * joining again gets the buffers that are still alive mapped back.
 */
static int legacy_remap_all(struct fpgactl_iommu *iommu)
{
	for (size_t i = 0; i < iommu->nr_maps; i++) {
		const struct dma_mapping *m = iommu->maps[i];
		int ret = legacy_map(iommu, (void *)m->vaddr, m->iova, m->size);

		if (ret)
			return ret;
	}
	return 0;
}

const struct iommu_backend iommu_backend_legacy = {
	.name = "legacy",
	.id = FPGACTL_IOMMU_LEGACY,
	.open = legacy_open,
	.close = legacy_close,
	.attach = legacy_attach,
	.detach = legacy_detach,
	.dma_info = legacy_dma_info,
	.map = legacy_map,
	.unmap = legacy_unmap,
};
