// SPDX-License-Identifier: MIT
/*
 * The legacy VFIO interface: the container (/dev/vfio/vfio, with the
 * vfio_iommu_type1 driver) and the groups (/dev/vfio/N).  Modelled on
 * drivers/vfio/container.c, group.c and vfio_iommu_type1.c: same checks in
 * the same order, same errnos.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mock_internal.h"

/* ---- dispatch ---------------------------------------------------------------- */

long mock_ioctl(struct mock_fd *f, unsigned long req, void *arg)
{
	long err;

	mock_count_ioctl(req);
	err = mock_injected_ioctl(req);
	if (err)
		return err;
	switch (f->kind) {
	case MOCK_CONTAINER:
		return mock_container_ioctl(f, req, arg);
	case MOCK_GROUP:
		return mock_group_ioctl(f, req, arg);
	case MOCK_DEVICE:
		return mock_device_ioctl(f, req, arg);
	case MOCK_IOMMUFD:
		return mock_iommufd_ioctl(f, req, arg);
	default:
		return -ENOTTY;
	}
}

static int cdev_bound_in_group(const char *bdf, void *arg)
{
	struct mock_device *dev = mock_device_find(bdf);

	(void)arg;
	return dev && dev->cdev_bound;
}

int mock_open_check(const struct mock_target *t)
{
	if (t->kind != MOCK_GROUP)
		return 0;
	/* vfio_group_fops_open(): one opener, none while a cdev is bound. */
	if (mock_group_find(t->group) ||
	    mock_for_each_device(t->group, cdev_bound_in_group, NULL))
		return EBUSY;
	return 0;
}

/* ---- container: the type1 IOMMU driver ------------------------------------------- */

static const struct {
	uint64_t start;
	uint64_t last;
} iova_ranges[] = {
	/* x86: a 48-bit aperture minus the MSI window */
	{ 0, 0xfedfffffull },
	{ 0xfef00000ull, 0xffffffffffffull },
};

#define NR_IOVA_RANGES (sizeof(iova_ranges) / sizeof(iova_ranges[0]))

unsigned int mock_iova_ranges(uint64_t *start, uint64_t *last, unsigned int max)
{
	for (unsigned int i = 0; i < max && i < NR_IOVA_RANGES; i++) {
		start[i] = iova_ranges[i].start;
		last[i] = iova_ranges[i].last;
	}
	return NR_IOVA_RANGES;
}

bool mock_iova_allowed(uint64_t iova, uint64_t size)
{
	uint64_t last = iova + size - 1;

	for (size_t i = 0; i < NR_IOVA_RANGES; i++)
		if (iova >= iova_ranges[i].start && last <= iova_ranges[i].last &&
		    last >= iova)
			return true;
	return false;
}

/* vfio_iommu_type1 is loaded: R/sys/module/vfio_iommu_type1 exists. */
static bool type1_loaded(void)
{
	char path[PATH_MAX];
	struct stat st;

	if (!mock_sys_root(path) || strlen(path) + 32 >= sizeof(path))
		return false;
	strcat(path, "/module/vfio_iommu_type1");
	return !stat(path, &st);
}

/* vfio_iommu_type1_check_extension(); @set: the container uses type1. */
static long type1_extension(bool set, unsigned long arg)
{
	switch (arg) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		return set;
	default:
		return 0;	/* VFIO_UPDATE_VADDR: not modelled */
	}
}

static long check_extension(struct mock_container *c, unsigned long arg)
{
	if (c->iommu_type)
		return type1_extension(true, arg);
	/* No driver yet: poll the registered ones. */
	return type1_loaded() ? type1_extension(false, arg) : 0;
}

static long set_iommu(struct mock_container *c, unsigned long arg)
{
	/* Only a group brings the privilege to enable an IOMMU. */
	if (!c->nr_groups || c->iommu_type)
		return -EINVAL;
	if (!type1_loaded() ||
	    (arg != VFIO_TYPE1_IOMMU && arg != VFIO_TYPE1v2_IOMMU))
		return -ENODEV;
	c->iommu_type = (uint32_t)arg;
	c->dma_avail = mock_dma_limit();
	return 0;
}

/* Migration, DMA-available and IOVA-range capabilities, in kernel order. */
static void type1_caps(const struct mock_container *c, struct mock_caps *caps)
{
	struct vfio_iommu_type1_info_cap_migration *mig;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info_cap_iova_range *range;

	mig = mock_cap_add(caps, sizeof(*mig), VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, 1);
	mig->pgsize_bitmap = mock_iommu_pgsize();
	mig->max_dirty_bitmap_size = 1ull << 28;	/* DIRTY_BITMAP_SIZE_MAX */
	avail = mock_cap_add(caps, sizeof(*avail), VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 1);
	avail->avail = c->dma_avail;
	if (!mock_type1_iova_ranges())
		return;		/* before 5.4 */
	range = mock_cap_add(caps, sizeof(*range) + NR_IOVA_RANGES * sizeof(range->iova_ranges[0]),
			     VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1);
	range->nr_iovas = NR_IOVA_RANGES;
	for (size_t i = 0; i < NR_IOVA_RANGES; i++) {
		range->iova_ranges[i].start = iova_ranges[i].start;
		range->iova_ranges[i].end = iova_ranges[i].last;
	}
}

static long type1_get_info(struct mock_container *c, void *arg)
{
	struct vfio_iommu_type1_info info;
	size_t minsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	size_t capsz = offsetofend(struct vfio_iommu_type1_info, cap_offset);
	struct mock_caps caps = { .size = 0 };

	memcpy(&info, arg, minsz);
	if (info.argsz < minsz)
		return -EINVAL;
	/* For backward compatibility cap_offset is only used when it fits. */
	if (info.argsz >= capsz) {
		minsz = capsz;
		info.cap_offset = 0;
	}
	info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	info.iova_pgsizes = mock_iommu_pgsizes();
	type1_caps(c, &caps);
	info.cap_offset = mock_caps_copy(&caps, arg, sizeof(info), &info.argsz);
	memcpy(arg, &info, minsz);
	return 0;
}

/* vfio_dma_do_map(): one pinned, IOMMU-mapped range. */
static long type1_map(struct mock_container *c, void *arg)
{
	struct vfio_iommu_type1_dma_map map;
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	uint32_t mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE |
			VFIO_DMA_MAP_FLAG_VADDR;
	struct mock_map *m;

	memcpy(&map, arg, minsz);
	if (map.argsz < minsz || map.flags & ~mask)
		return -EINVAL;
	/* Exactly one of "prot" and VADDR; VADDR updates are not modelled. */
	if ((map.flags & VFIO_DMA_MAP_FLAG_VADDR) ||
	    !(map.flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)))
		return -EINVAL;
	/* The smallest IOMMU page: mask from __ffs(iommu->pgsize_bitmap). */
	if (!map.size || (map.size | map.iova | map.vaddr) & (mock_iommu_pgsize() - 1))
		return -EINVAL;
	if (map.iova + map.size - 1 < map.iova || map.vaddr + map.size - 1 < map.vaddr)
		return -EINVAL;
	if (mock_maps_overlap(c->maps, map.iova, map.size))
		return -EEXIST;
	if (!c->dma_avail)
		return -ENOSPC;
	if (!mock_iova_allowed(map.iova, map.size))
		return -EINVAL;
	if (!mock_user_range_valid(map.vaddr, map.size))
		return -EFAULT;		/* pin_user_pages() failed */
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	*m = (struct mock_map){ map.iova, map.size, map.vaddr,
				map.flags & VFIO_DMA_MAP_FLAG_READ,
				map.flags & VFIO_DMA_MAP_FLAG_WRITE, NULL };
	mock_maps_insert(&c->maps, m);
	c->dma_avail--;
	return 0;
}

/* Remove whole mappings starting in [iova, iova + size); return bytes. */
static uint64_t unmap_range(struct mock_container *c, uint64_t iova, uint64_t size)
{
	uint64_t last = iova + size - 1, done = 0;
	struct mock_map **pp = &c->maps;

	while (*pp) {
		struct mock_map *m = *pp;

		if (m->iova < iova || m->iova > last) {
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		done += m->size;
		c->dma_avail++;
		free(m);
	}
	return done;
}

/* Type1v2 refuses to split a mapping; v1 unmaps whole ones. */
static bool bisects(const struct mock_container *c, uint64_t iova, uint64_t size)
{
	const struct mock_map *first = mock_maps_overlap(c->maps, iova, 1);
	const struct mock_map *end = mock_maps_overlap(c->maps, iova + size - 1, 1);

	return c->iommu_type == VFIO_TYPE1v2_IOMMU &&
	       ((first && first->iova != iova) ||
		(end && end->iova + end->size != iova + size));
}

static long type1_unmap(struct mock_container *c, void *arg)
{
	struct vfio_iommu_type1_dma_unmap unmap;
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	uint32_t mask = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
			VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR;

	memcpy(&unmap, arg, minsz);
	if (unmap.argsz < minsz || unmap.flags & ~mask)
		return -EINVAL;
	/* Dirty tracking and VADDR invalidation are not modelled. */
	if (unmap.flags & (VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_VADDR))
		return -EINVAL;
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size)
			return -EINVAL;
		unmap.size = unmap_range(c, 0, UINT64_MAX);
	} else {
		if (unmap.iova & (mock_iommu_pgsize() - 1) || !unmap.size ||
		    unmap.size & (mock_iommu_pgsize() - 1) ||
		    unmap.iova + unmap.size - 1 < unmap.iova)
			return -EINVAL;
		if (bisects(c, unmap.iova, unmap.size))
			return -EINVAL;
		unmap.size = unmap_range(c, unmap.iova, unmap.size);
	}
	memcpy(arg, &unmap, minsz);
	return 0;
}

long mock_container_ioctl(struct mock_fd *f, unsigned long req, void *arg)
{
	struct mock_container *c = f->container;

	switch (req) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return check_extension(c, (unsigned long)arg);
	case VFIO_SET_IOMMU:
		return set_iommu(c, (unsigned long)arg);
	default:
		break;
	}
	/* Everything else goes to the IOMMU driver, if one is set. */
	if (!c->iommu_type)
		return -EINVAL;
	switch (req) {
	case VFIO_IOMMU_GET_INFO:
		return type1_get_info(c, arg);
	case VFIO_IOMMU_MAP_DMA:
		return type1_map(c, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return type1_unmap(c, arg);
	default:
		return -ENOTTY;
	}
}

/* ---- group ---------------------------------------------------------------------- */

static long group_get_status(struct mock_group *g, void *arg)
{
	struct vfio_group_status status;
	size_t minsz = offsetofend(struct vfio_group_status, flags);

	memcpy(&status, arg, minsz);
	if (status.argsz < minsz)
		return -EINVAL;
	status.flags = 0;
	/*
	 * Attached to a container, the group owns its DMA; otherwise it is
	 * viable while no host driver claims DMA ownership of a member.
	 */
	if (g->container)
		status.flags = VFIO_GROUP_FLAGS_CONTAINER_SET | VFIO_GROUP_FLAGS_VIABLE;
	else if (mock_group_viable(g->number))
		status.flags = VFIO_GROUP_FLAGS_VIABLE;
	memcpy(arg, &status, minsz);
	return 0;
}

static long group_set_container(struct mock_group *g, void *arg)
{
	int fd = *(const int *)arg;
	struct mock_fd *cf;

	if (fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	if (g->container)
		return -EINVAL;
	cf = mock_fd_get(fd);
	/* An iommufd would enter its VFIO compatibility mode: not modelled. */
	if (!cf || cf->kind != MOCK_CONTAINER)
		return -EBADFD;
	/* iommu_group_claim_dma_owner() fails while a host driver uses DMA. */
	if (!mock_group_viable(g->number))
		return -EPERM;
	g->container = cf->container;
	g->container->refs++;
	g->container->nr_groups++;
	return 0;
}

static long group_unset_container(struct mock_group *g)
{
	if (!g->container)
		return -EINVAL;
	/* Open device files are users of the container too. */
	if (g->device_users)
		return -EBUSY;
	mock_group_detach(g);
	return 0;
}

struct name_match {
	const char *name;
	bool found;
};

static int match_device(const char *bdf, void *arg)
{
	struct name_match *m = arg;
	char driver[64];

	if (strcmp(bdf, m->name))
		return 0;
	/* Only devices bound to a vfio driver are in the VFIO group. */
	mock_sysfs_driver(bdf, driver, sizeof(driver));
	m->found = strstr(driver, "vfio") != NULL;
	return 1;
}

/* Open a device file on @bdf's mock-regions and record it for group @g. */
static long open_device_file(struct mock_group *g, const char *bdf)
{
	char path[PATH_MAX];
	struct fake_dev_desc d;
	struct mock_fd *f;
	int fd;

	if (!mock_sys_root(path) || strlen(path) + strlen(bdf) + 40 >= sizeof(path))
		return -ENODEV;
	strcat(strcat(strcat(path, "/bus/pci/devices/"), bdf), "/mock-regions");
	fd = mock_real.openat(AT_FDCWD, path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = mock_fd_get(fd);
	if (!f || f->kind != MOCK_DEVICE) {
		mock_real.close(fd);
		return -ENOMEM;
	}
	f->devfile.group = g;
	f->devfile.granted = true;
	g->device_users++;
	if (!f->devfile.dev->open_count++) {
		mock_device_first_open(f->devfile.dev, fd);
		if (!mock_read_desc(bdf, &d) && d.can_reset)
			mock_note_reset(f->devfile.dev, MOCK_RESET_OPEN);
	}
	return fd;
}

static long group_get_device_fd(struct mock_group *g, const char *name)
{
	struct name_match m = { .name = name };
	size_t len = strnlen(name, MOCK_PAGE_SIZE);

	if (len == MOCK_PAGE_SIZE)
		return -EINVAL;
	/* "BDF vf_token=UUID": a token for a device that is no VF or PF. */
	if (strchr(name, ' '))
		return -EINVAL;
	mock_for_each_device(g->number, match_device, &m);
	if (!m.found)
		return -ENODEV;
	if (!g->container || !g->container->iommu_type)
		return -EINVAL;
	return open_device_file(g, name);
}

long mock_group_ioctl(struct mock_fd *f, unsigned long req, void *arg)
{
	struct mock_group *g = f->group;

	switch (req) {
	case VFIO_GROUP_GET_STATUS:
		return group_get_status(g, arg);
	case VFIO_GROUP_SET_CONTAINER:
		return group_set_container(g, arg);
	case VFIO_GROUP_UNSET_CONTAINER:
		return group_unset_container(g);
	case VFIO_GROUP_GET_DEVICE_FD:
		return group_get_device_fd(g, arg);
	default:
		return -ENOTTY;
	}
}
