// SPDX-License-Identifier: MIT
/*
 * VFIO regions: discovery (VFIO_DEVICE_GET_REGION_INFO and its capability
 * chain), mapping of the BARs, and byte access through the mapping or
 * through pread/pwrite on the device fd.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/core.h"
#include "vfio/vfio.h"

static struct vfio_region_info *region_info_query(struct fpgactl_device *dev,
						  uint32_t index, int *err)
{
	const struct vfio_region_info tmpl = { .index = index };
	struct vfio_region_info *info =
		vfio_info_query(dev->fd, VFIO_DEVICE_GET_REGION_INFO, &tmpl,
				sizeof(tmpl), err);

	/* vfio-pci refuses to describe a VGA region the device lacks. */
	if (!info && !(*err == -EINVAL && index >= VFIO_PCI_VGA_REGION_INDEX))
		log_err("%s: VFIO_DEVICE_GET_REGION_INFO(%u) failed: %s", dev->bdf,
			index, strerror(-*err));
	return info;
}

static const struct vfio_info_cap_header *
region_find_cap(const struct vfio_region_info *info, uint16_t id)
{
	return vfio_info_find_cap(info, sizeof(*info), info->argsz,
				  (info->flags & VFIO_REGION_INFO_FLAG_CAPS) ?
				  info->cap_offset : 0, id);
}

/* Copy the sparse areas into @r, dropping any that leave the region. */
static int region_sparse_areas(struct region *r, const struct vfio_region_info *info,
			       const struct vfio_info_cap_header *h)
{
	const struct vfio_region_info_cap_sparse_mmap *cap = (const void *)h;
	uint32_t n;

	if (!vfio_cap_fits(info, info->argsz, h, sizeof(*cap), sizeof(cap->areas[0]), 0))
		return -EPROTO;
	n = cap->nr_areas;
	if (!vfio_cap_fits(info, info->argsz, h, sizeof(*cap), sizeof(cap->areas[0]), n))
		return -EPROTO;
	r->areas = calloc(n ? n : 1, sizeof(*r->areas));
	if (!r->areas)
		return -ENOMEM;
	r->info.nr_areas = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t off = cap->areas[i].offset, size = cap->areas[i].size;

		if (!size || off > r->info.size || size > r->info.size - off)
			continue;
		r->areas[r->info.nr_areas++] = (struct region_area){ off, size };
	}
	r->info.flags |= FPGACTL_REGION_SPARSE;
	return 0;
}

static int region_describe(struct fpgactl_device *dev, uint32_t index,
			   struct region *r)
{
	const struct vfio_info_cap_header *sparse;
	struct vfio_region_info *info;
	int ret;

	info = region_info_query(dev, index, &ret);
	if (!info && ret == -EINVAL && index >= VFIO_PCI_VGA_REGION_INDEX) {
		/* vfio-pci counts the VGA region but refuses to describe it
		 * on devices without VGA: it is simply not implemented. */
		r->info.index = index;
		return 0;
	}
	if (!info)
		return ret;
	r->info.index = index;
	r->info.size = info->size;
	r->fd_offset = info->offset;
	if (info->flags & VFIO_REGION_INFO_FLAG_READ)
		r->info.flags |= FPGACTL_REGION_READ;
	if (info->flags & VFIO_REGION_INFO_FLAG_WRITE)
		r->info.flags |= FPGACTL_REGION_WRITE;
	if ((info->flags & VFIO_REGION_INFO_FLAG_MMAP) && info->size) {
		r->info.flags |= FPGACTL_REGION_MMAP;
		sparse = region_find_cap(info, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
		if (sparse) {
			ret = region_sparse_areas(r, info, sparse);
		} else {
			r->areas = calloc(1, sizeof(*r->areas));
			ret = r->areas ? 0 : -ENOMEM;
			if (!ret) {
				r->areas[0] = (struct region_area){ 0, info->size };
				r->info.nr_areas = 1;
			}
		}
	}
	free(info);
	return ret;
}

static size_t page_round(uint64_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (size_t)((n + page - 1) & ~(uint64_t)(page - 1));
}

/*
 * Reserve the whole region PROT_NONE, then map each area over it, so that
 * one base pointer serves every area and stray offsets fault.  The whole
 * reservation is MADV_DONTFORK: children of fork() do not get it.
 */
static int region_map(struct fpgactl_device *dev, struct region *r)
{
	int prot = ((r->info.flags & FPGACTL_REGION_READ) ? PROT_READ : 0) |
		   ((r->info.flags & FPGACTL_REGION_WRITE) ? PROT_WRITE : 0);
	size_t len = page_round(r->info.size);
	uint8_t *base;

	base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	for (uint32_t i = 0; i < r->info.nr_areas; i++) {
		const struct region_area *a = &r->areas[i];
		void *p = mmap(base + a->offset, page_round(a->size), prot,
			       MAP_SHARED | MAP_FIXED, dev->fd,
			       (off_t)(r->fd_offset + a->offset));

		if (p == MAP_FAILED) {
			int ret = -errno;

			munmap(base, len);
			return ret;
		}
	}
	/*
	 * vfio-pci does not set VM_DONTCOPY: without this a child of fork()
	 * inherits the mapping, keeps the device referenced after we close
	 * it, and can write its registers.
	 */
	if (madvise(base, len, MADV_DONTFORK)) {
		int ret = -errno;

		munmap(base, len);
		return ret;
	}
	r->map = base;
	r->info.flags |= FPGACTL_REGION_MAPPED;
	return 0;
}

static bool region_fully_mapped(const struct region *r)
{
	return r->map && r->info.nr_areas == 1 && r->areas[0].offset == 0 &&
	       r->areas[0].size >= r->info.size;
}

static int region_setup_one(struct fpgactl_device *dev, uint32_t index,
			    bool map)
{
	struct region *r = &dev->regions[index];
	int ret = region_describe(dev, index, r);

	if (ret || !map || index > VFIO_PCI_BAR5_REGION_INDEX || !r->info.nr_areas)
		return ret;
	ret = region_map(dev, r);
	if (ret) {
		/* Not fatal: every access still works through pread/pwrite. */
		log_warn("%s: cannot mmap BAR%u (%s); using read/write on the "
			 "device instead, which is much slower", dev->bdf, index,
			 strerror(-ret));
		return 0;
	}
	if (region_fully_mapped(r))
		dev->bars[index] = (struct fpgactl_bar){
			.base = r->map, .size = r->info.size, .index = index };
	return 0;
}

int regions_setup(struct fpgactl_device *dev, bool map)
{
	dev->regions = calloc(dev->num_regions, sizeof(*dev->regions));
	if (!dev->regions)
		return -ENOMEM;
	for (uint32_t i = 0; i < dev->num_regions; i++) {
		int ret = region_setup_one(dev, i, map);

		if (ret)
			return ret;
	}
	return 0;
}

void regions_teardown(struct fpgactl_device *dev)
{
	if (!dev->regions)
		return;
	for (uint32_t i = 0; i < dev->num_regions; i++) {
		struct region *r = &dev->regions[i];

		if (r->map)
			munmap(r->map, page_round(r->info.size));
		free(r->areas);
	}
	free(dev->regions);
	dev->regions = NULL;
	memset(dev->bars, 0, sizeof(dev->bars));
}

struct region *region_get(struct fpgactl_device *dev, uint32_t index)
{
	if (index < dev->num_regions)
		return &dev->regions[index];
	log_err("%s: region %u does not exist (the device has %u)", dev->bdf,
		index, dev->num_regions);
	return NULL;
}

volatile uint8_t *region_mapped_ptr(const struct region *r, uint64_t offset,
				    uint64_t len)
{
	if (!r->map)
		return NULL;
	for (uint32_t i = 0; i < r->info.nr_areas; i++) {
		const struct region_area *a = &r->areas[i];

		if (offset >= a->offset && len <= a->size &&
		    offset - a->offset <= a->size - len)
			return r->map + offset;
	}
	return NULL;
}

FPGACTL_EXPORT int fpgactl_region_get_info(struct fpgactl_device *dev, uint32_t index,
					   struct fpgactl_region_info *info)
{
	struct region *r = region_get(dev, index);

	if (!r)
		return -EINVAL;
	*info = r->info;
	return 0;
}

/* Why a BAR has no whole mapping, for the message of fpgactl_device_bar(). */
static const char *bar_unmapped_reason(const struct region *r)
{
	if (!(r->info.flags & FPGACTL_REGION_MMAP))
		return "the kernel does not allow mmap of it";
	if (r->info.flags & FPGACTL_REGION_SPARSE)
		return "the kernel allows mmap of sparse areas only";
	if (!(r->info.flags & FPGACTL_REGION_MAPPED))
		return "opened with FPGACTL_OPEN_NO_MMAP, or mmap failed";
	return "mapped in parts only";
}

FPGACTL_EXPORT const struct fpgactl_bar *
fpgactl_device_bar(struct fpgactl_device *dev, uint32_t bar, int *err)
{
	int ret = 0;

	if (bar >= FPGACTL_NUM_BARS || !dev->regions[bar].info.size) {
		log_err("%s: BAR%u does not exist", dev->bdf, bar);
		ret = -EINVAL;
	} else if (!dev->bars[bar].base) {
		log_err("%s: BAR%u is not mapped as a whole (%s); use "
			"fpgactl_reg_read()/fpgactl_reg_write()", dev->bdf, bar,
			bar_unmapped_reason(&dev->regions[bar]));
		ret = -ENOTSUP;
	}
	if (ret && err)
		*err = ret;
	return ret ? NULL : &dev->bars[bar];
}

/* Check [@offset, @offset + @len) against the region. */
int region_check_range(struct fpgactl_device *dev, const struct region *r,
		       uint64_t offset, uint64_t len)
{
	if (offset > r->info.size || len > r->info.size - offset) {
		log_err("%s: access [0x%llx, +0x%llx) leaves region %u of size 0x%llx",
			dev->bdf, (unsigned long long)offset, (unsigned long long)len,
			r->info.index, (unsigned long long)r->info.size);
		return -ERANGE;
	}
	return 0;
}

/**
 * region_access_width() - width of the next device access of a copy
 * @offset: offset in the region of the next byte
 * @len: bytes left (not 0)
 *
 * The largest of 4, 2 and 1 that @offset is aligned to and @len holds.
 * fpgactl_region_read/write() split every copy this way, on mapped BARs and
 * through pread/pwrite alike, so the device sees the same requests on both
 * paths and never an 8-byte one (which many AXI-Lite bridges mishandle, and
 * which vfio-pci's read/write path did not issue before Linux 6.11).
 *
 * Return: 4, 2 or 1.
 */
unsigned int region_access_width(uint64_t offset, size_t len)
{
	unsigned int w = 4;

	while (w > 1 && ((offset % w) || len < w))
		w /= 2;
	return w;
}

int vfio_region_rw(struct fpgactl_device *dev, struct region *r, uint64_t offset,
		   void *buf, size_t len, bool write)
{
	off_t pos = (off_t)(r->fd_offset + offset);
	ssize_t n;
	int ret;

	/* The kernel splits this into naturally aligned device accesses. */
	n = write ? pwrite(dev->fd, buf, len, pos) : pread(dev->fd, buf, len, pos);
	if (n < 0) {
		ret = -errno;
		log_err("%s: %s of %zu bytes at 0x%llx in region %u failed: %s",
			dev->bdf, write ? "write" : "read", len,
			(unsigned long long)offset, r->info.index, strerror(-ret));
		return ret;
	}
	return (size_t)n == len ? 0 : -EIO;
}

static int region_rw(struct fpgactl_device *dev, uint32_t index, uint64_t offset,
		     void *buf, size_t len, bool write)
{
	struct region *r = region_get(dev, index);
	volatile uint8_t *io;
	int ret;

	if (!r)
		return -EINVAL;
	ret = region_check_range(dev, r, offset, len);
	if (ret)
		return ret;
	for (uint8_t *p = buf; len; ) {
		unsigned int w = region_access_width(offset, len);

		io = region_mapped_ptr(r, offset, w);
		if (io)
			mmio_access(io, p, w, write);
		else if ((ret = dev->ops->region_rw(dev, r, offset, p, w, write)))
			return ret;
		p += w;
		offset += w;
		len -= w;
	}
	return 0;
}

FPGACTL_EXPORT int fpgactl_region_read(struct fpgactl_device *dev, uint32_t index,
				       uint64_t offset, void *buf, size_t len)
{
	return region_rw(dev, index, offset, buf, len, false);
}

FPGACTL_EXPORT int fpgactl_region_write(struct fpgactl_device *dev, uint32_t index,
					uint64_t offset, const void *buf, size_t len)
{
	return region_rw(dev, index, offset, (void *)buf, len, true);
}
