// SPDX-License-Identifier: MIT
/*
 * Self-test of the kernel mock: drive the raw VFIO and iommufd ioctls in
 * the order the kernel expects them and check the answers, including the
 * errors the kernel gives for the wrong order.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "faketree.h"
#include "mock_internal.h"
#include "mock_kernel.h"

#define BDF "0000:03:00.0"
#define BDF2 "0000:03:00.1"

int fortified_open(const char *path, int flags);		/* fortify_open.c */
ssize_t fortified_pread(int fd, void *out, size_t n, off_t off);

struct fixture {
	struct faketree *t;
};

/* ioctl() as "result or -errno". */
static long xioctl(int fd, unsigned long req, void *arg)
{
	int ret = ioctl(fd, req, arg);

	return ret < 0 ? -errno : ret;
}

static long xioctl_val(int fd, unsigned long req, unsigned long val)
{
	return xioctl(fd, req, (void *)(uintptr_t)val);
}

static int open_rel(struct faketree *t, const char *rel)
{
	int fd = open(faketree_path(t, rel), O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static void add_device(struct faketree *t, const char *bdf, int group,
		       const char *driver, int cdev)
{
	struct fake_dev_desc d;

	fake_dev_default(&d, bdf);
	d.group = group;
	d.driver = driver;
	d.cdev_index = cdev;
	assert_int_equal(faketree_add_device(t, &d), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	mock_reset_state();
	fx->t = faketree_create();
	if (!fx->t)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	faketree_destroy(fx->t);
	free(fx);
	mock_reset_state();
	return 0;
}

/* ---- legacy container / group / device -------------------------------------- */

struct legacy {
	int container;
	int group;
	int device;
};

/* Container, group N in it with type1v2, and the device fd of @bdf. */
static void legacy_open(struct faketree *t, int group, const char *bdf,
			struct legacy *l)
{
	char rel[32];

	snprintf(rel, sizeof(rel), "dev/vfio/%d", group);
	l->container = open_rel(t, "dev/vfio/vfio");
	l->group = open_rel(t, rel);
	assert_true(l->container >= 0 && l->group >= 0);
	assert_int_equal(xioctl(l->group, VFIO_GROUP_SET_CONTAINER, &l->container), 0);
	assert_int_equal(xioctl_val(l->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
	l->device = (int)xioctl(l->group, VFIO_GROUP_GET_DEVICE_FD, (void *)bdf);
	assert_true(l->device >= 0);
}

static void legacy_close(struct legacy *l)
{
	assert_int_equal(close(l->device), 0);
	assert_int_equal(close(l->group), 0);
	assert_int_equal(close(l->container), 0);
}

static void test_legacy_sequence(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int container, group, device;

	add_device(t, BDF, 5, "vfio-pci", -1);
	container = open_rel(t, "dev/vfio/vfio");
	assert_true(container >= 0);
	assert_int_equal(xioctl(container, VFIO_GET_API_VERSION, NULL), VFIO_API_VERSION);
	assert_int_equal(xioctl_val(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1);
	assert_int_equal(xioctl_val(container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU), 0);
	/* No group yet: the container may not enable an IOMMU. */
	assert_int_equal(xioctl_val(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), -EINVAL);
	assert_int_equal(xioctl(container, VFIO_IOMMU_GET_INFO, &info), -EINVAL);

	group = open_rel(t, "dev/vfio/5");
	assert_true(group >= 0);
	assert_int_equal(open_rel(t, "dev/vfio/5"), -EBUSY);	/* one opener */
	assert_int_equal(xioctl(group, VFIO_GROUP_GET_STATUS, &status), 0);
	assert_int_equal(status.flags, VFIO_GROUP_FLAGS_VIABLE);
	assert_int_equal(xioctl(group, VFIO_GROUP_GET_DEVICE_FD, BDF), -EINVAL);
	assert_int_equal(xioctl(group, VFIO_GROUP_SET_CONTAINER, &container), 0);
	assert_int_equal(xioctl(group, VFIO_GROUP_SET_CONTAINER, &container), -EINVAL);
	assert_int_equal(xioctl(group, VFIO_GROUP_GET_STATUS, &status), 0);
	assert_int_equal(status.flags,
			 VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);
	/* Container set but no IOMMU driver: still no device. */
	assert_int_equal(xioctl(group, VFIO_GROUP_GET_DEVICE_FD, BDF), -EINVAL);
	assert_int_equal(xioctl_val(container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU), -ENODEV);
	assert_int_equal(xioctl_val(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
	assert_int_equal(xioctl_val(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), -EINVAL);
	assert_int_equal(xioctl(group, VFIO_GROUP_GET_DEVICE_FD, "0000:99:00.0"), -ENODEV);

	device = (int)xioctl(group, VFIO_GROUP_GET_DEVICE_FD, BDF);
	assert_true(device >= 0);
	assert_int_equal(mock_device_open_count(BDF), 1);
	assert_int_equal(xioctl(device, VFIO_DEVICE_GET_INFO, &info), 0);
	assert_int_equal(info.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
	assert_int_equal(info.num_regions, 9);
	assert_int_equal(info.num_irqs, 5);
	assert_int_equal(xioctl(device, VFIO_GROUP_GET_STATUS, &status), -ENOTTY);
	/* A device in use keeps the group in its container. */
	assert_int_equal(xioctl(group, VFIO_GROUP_UNSET_CONTAINER, NULL), -EBUSY);
	assert_int_equal(xioctl(device, VFIO_DEVICE_RESET, NULL), 0);
	assert_int_equal(mock_reset_count(BDF), 1);
	assert_int_equal(close(device), 0);
	assert_int_equal(mock_device_open_count(BDF), 0);
	assert_int_equal(xioctl(group, VFIO_GROUP_UNSET_CONTAINER, NULL), 0);
	assert_int_equal(xioctl(group, VFIO_GROUP_UNSET_CONTAINER, NULL), -EINVAL);
	/* The last group gone, the container lost its IOMMU. */
	assert_int_equal(xioctl(container, VFIO_IOMMU_GET_INFO, &info), -EINVAL);
	assert_int_equal(close(group), 0);
	assert_int_equal(close(container), 0);
	assert_int_equal(mock_open_fds(), 0);
}

static void test_type1_missing(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	int container, group;

	add_device(t, BDF, 5, "vfio-pci", -1);
	assert_int_equal(faketree_set_type1(t, false), 0);
	container = open_rel(t, "dev/vfio/vfio");
	group = open_rel(t, "dev/vfio/5");
	assert_int_equal(xioctl_val(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 0);
	assert_int_equal(xioctl_val(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), 0);
	assert_int_equal(xioctl(group, VFIO_GROUP_SET_CONTAINER, &container), 0);
	assert_int_equal(xioctl_val(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), -ENODEV);
	close(group);
	close(container);
}

static void test_device_regions(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = 7 };
	struct legacy l;
	uint16_t ids[2];
	void *p;

	add_device(t, BDF, 5, "vfio-pci", -1);
	legacy_open(t, 5, BDF, &l);
	assert_int_equal(xioctl(l.device, VFIO_DEVICE_GET_REGION_INFO, &ri), 0);
	assert_int_equal(ri.size, 4096);
	assert_int_equal(ri.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
	assert_int_equal(ri.offset, 7ull << FAKE_REGION_SHIFT);
	/* Config space holds the ids. */
	assert_int_equal(pread(l.device, ids, sizeof(ids), (off_t)ri.offset), 4);
	assert_int_equal(ids[0], 0x10ee);
	assert_int_equal(ids[1], 0x9038);
	assert_int_equal(pread(l.device, ids, sizeof(ids), (off_t)ri.offset + 4095), -1);
	assert_int_equal(errno, EFAULT);
	/*
	 * The ids are virtualized (vfio_pci_config.c, ALL_VIRT): a device
	 * whose config space now reads all ones still shows the ids copied at
	 * open; the class/revision dword comes from the device.
	 */
	{
		static const uint8_t gone[12] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						  0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		uint32_t class_rev;

		assert_int_equal(faketree_write_region(t, BDF, 7, 0, gone, sizeof(gone)), 0);
		assert_int_equal(pread(l.device, ids, sizeof(ids), (off_t)ri.offset), 4);
		assert_int_equal(ids[0], 0x10ee);
		assert_int_equal(ids[1], 0x9038);
		assert_int_equal(pread(l.device, &class_rev, 4, (off_t)ri.offset + 8), 4);
		assert_int_equal(class_rev, 0xffffffffu);
	}

	ri = (struct vfio_region_info){ .argsz = sizeof(ri), .index = 0 };
	assert_int_equal(xioctl(l.device, VFIO_DEVICE_GET_REGION_INFO, &ri), 0);
	assert_int_equal(ri.size, 0x10000);
	assert_int_equal(ri.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
					   VFIO_REGION_INFO_FLAG_MMAP);
	p = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED, l.device, (off_t)ri.offset);
	assert_true(p != MAP_FAILED);
	munmap(p, 0x10000);
	/* Private, too long, or a region without mmap: refused. */
	assert_true(mmap(NULL, 0x10000, PROT_READ, MAP_PRIVATE, l.device, 0) == MAP_FAILED);
	assert_true(mmap(NULL, 0x20000, PROT_READ, MAP_SHARED, l.device, 0) == MAP_FAILED);
	assert_true(mmap(NULL, 4096, PROT_READ, MAP_SHARED, l.device, 1ll << 28) == MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	/* BAR reads are clipped at the BAR's end; absent regions refuse. */
	assert_int_equal(pread(l.device, ids, sizeof(ids), 0xfffe), 2);
	assert_int_equal(pread(l.device, ids, sizeof(ids), 0x10000), -1);
	ri = (struct vfio_region_info){ .argsz = sizeof(ri), .index = 8 };
	assert_int_equal(xioctl(l.device, VFIO_DEVICE_GET_REGION_INFO, &ri), -EINVAL);
	ri = (struct vfio_region_info){ .argsz = 8, .index = 0 };
	assert_int_equal(xioctl(l.device, VFIO_DEVICE_GET_REGION_INFO, &ri), -EINVAL);
	legacy_close(&l);
}

/* The argsz dance for a region with a sparse-mmap capability. */
static void test_sparse_region_info(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	struct vfio_region_info *ri = calloc(1, sizeof(*ri));
	struct vfio_region_info_cap_sparse_mmap *cap;
	struct fake_dev_desc d;
	struct legacy l;

	fake_dev_default(&d, BDF);
	d.group = 5;
	d.driver = "vfio-pci";
	d.regions[2] = (struct fake_region){
		.size = 0x100000, .flags = FAKE_REGION_R | FAKE_REGION_W | FAKE_REGION_M,
		.nr_areas = 2, .areas = { { 0, 0x1000 }, { 0x3000, 0xd000 } },
	};
	assert_int_equal(faketree_add_device(t, &d), 0);
	legacy_open(t, 5, BDF, &l);

	*ri = (struct vfio_region_info){ .argsz = sizeof(*ri), .index = 2 };
	assert_int_equal(xioctl(l.device, VFIO_DEVICE_GET_REGION_INFO, ri), 0);
	assert_true(ri->flags & VFIO_REGION_INFO_FLAG_CAPS);
	assert_int_equal(ri->cap_offset, 0);
	assert_int_equal(ri->argsz, sizeof(*ri) + sizeof(*cap) + 2 * sizeof(cap->areas[0]));
	assert_int_equal(ri->size, 0x100000);

	ri = realloc(ri, ri->argsz);
	memset(ri, 0, sizeof(*ri));
	ri->argsz = (uint32_t)(sizeof(*ri) + sizeof(*cap) + 2 * sizeof(cap->areas[0]));
	ri->index = 2;
	assert_int_equal(xioctl(l.device, VFIO_DEVICE_GET_REGION_INFO, ri), 0);
	assert_int_equal(ri->cap_offset, sizeof(*ri));
	cap = (void *)((uint8_t *)ri + ri->cap_offset);
	assert_int_equal(cap->header.id, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	assert_int_equal(cap->header.version, 1);
	assert_int_equal(cap->header.next, 0);
	assert_int_equal(cap->nr_areas, 2);
	assert_int_equal(cap->areas[1].offset, 0x3000);
	assert_int_equal(cap->areas[1].size, 0xd000);
	free(ri);
	legacy_close(&l);
}

/* Walk a capability chain for @id; NULL when absent. */
static void *find_cap(void *info, uint32_t first, uint16_t id)
{
	for (uint32_t off = first; off;) {
		struct vfio_info_cap_header *h = (void *)((uint8_t *)info + off);

		if (h->id == id)
			return h;
		off = h->next;
	}
	return NULL;
}

static void test_type1_info_and_dma(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	struct vfio_iommu_type1_info *info = calloc(1, sizeof(*info));
	struct vfio_iommu_type1_info_cap_iova_range *range;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	struct mock_dma_mapping maps[4];
	struct legacy l;
	uint32_t need;
	void *buf = mmap(NULL, 0x20000, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	add_device(t, BDF, 5, "vfio-pci", -1);
	legacy_open(t, 5, BDF, &l);
	info->argsz = sizeof(*info);
	assert_int_equal(xioctl(l.container, VFIO_IOMMU_GET_INFO, info), 0);
	assert_int_equal(info->flags, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
	assert_true(info->iova_pgsizes & 4096);
	assert_int_equal(info->cap_offset, 0);
	need = info->argsz;
	assert_true(need > sizeof(*info));
	info = realloc(info, need);
	memset(info, 0, need);
	info->argsz = need;
	assert_int_equal(xioctl(l.container, VFIO_IOMMU_GET_INFO, info), 0);
	assert_int_equal(info->cap_offset, sizeof(*info));
	assert_non_null(find_cap(info, info->cap_offset, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION));
	avail = find_cap(info, info->cap_offset, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	range = find_cap(info, info->cap_offset, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	assert_non_null(avail);
	assert_non_null(range);
	assert_int_equal(avail->avail, 65535);
	assert_int_equal(range->nr_iovas, 2);
	assert_int_equal(range->iova_ranges[0].start, 0);
	assert_int_equal(range->iova_ranges[0].end, 0xfedfffff);

	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)buf;
	map.iova = 0x100000;
	map.size = 0x10000;
	assert_int_equal(xioctl(l.container, VFIO_IOMMU_MAP_DMA, &map), 0);
	map.iova = 0x108000;
	assert_int_equal(xioctl(l.container, VFIO_IOMMU_MAP_DMA, &map), -EEXIST);
	map.iova = 0xfee00000;		/* the MSI window */
	assert_int_equal(xioctl(l.container, VFIO_IOMMU_MAP_DMA, &map), -EINVAL);
	map.iova = 0x200000;
	map.vaddr = 0x1000;		/* nothing mapped there */
	assert_int_equal(xioctl(l.container, VFIO_IOMMU_MAP_DMA, &map), -EFAULT);
	map.vaddr = (uintptr_t)buf + 0x10000;
	map.size = 0x10001;
	assert_int_equal(xioctl(l.container, VFIO_IOMMU_MAP_DMA, &map), -EINVAL);
	assert_int_equal(mock_mappings(maps, 4), 1);
	assert_int_equal(maps[0].iova, 0x100000);
	assert_int_equal(maps[0].vaddr, (uintptr_t)buf);
	assert_true(maps[0].readable && maps[0].writable && !maps[0].iommufd);

	/* Type1v2 does not split a mapping; a whole one returns its size. */
	unmap.iova = 0x100000;
	unmap.size = 0x8000;
	assert_int_equal(xioctl(l.container, VFIO_IOMMU_UNMAP_DMA, &unmap), -EINVAL);
	unmap.size = 0x100000;
	assert_int_equal(xioctl(l.container, VFIO_IOMMU_UNMAP_DMA, &unmap), 0);
	assert_int_equal(unmap.size, 0x10000);
	unmap.size = 0x100000;
	assert_int_equal(xioctl(l.container, VFIO_IOMMU_UNMAP_DMA, &unmap), 0);
	assert_int_equal(unmap.size, 0);
	assert_int_equal(mock_mappings(maps, 4), 0);

	/* vfio_iommu_type1's dma_entry_limit. */
	mock_set_dma_limit(1);
	close(l.device);
	close(l.group);		/* the last group: IOMMU released */
	close(l.container);
	legacy_open(t, 5, BDF, &l);
	map = (struct vfio_iommu_type1_dma_map){ .argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ, .vaddr = (uintptr_t)buf,
		.iova = 0, .size = 0x1000 };
	assert_int_equal(xioctl(l.container, VFIO_IOMMU_MAP_DMA, &map), 0);
	map.iova = 0x1000;
	assert_int_equal(xioctl(l.container, VFIO_IOMMU_MAP_DMA, &map), -ENOSPC);
	legacy_close(&l);
	assert_int_equal(mock_mappings(maps, 4), 0);
	munmap(buf, 0x20000);
	free(info);
}

/* Another member of the group bound to a host driver. */
static void test_group_not_viable(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	struct vfio_group_status status = { .argsz = sizeof(status) };
	int container, group;

	add_device(t, BDF, 5, "vfio-pci", -1);
	add_device(t, BDF2, 5, "nvme", -1);
	container = open_rel(t, "dev/vfio/vfio");
	group = open_rel(t, "dev/vfio/5");
	assert_int_equal(xioctl(group, VFIO_GROUP_GET_STATUS, &status), 0);
	assert_int_equal(status.flags, 0);
	assert_int_equal(xioctl(group, VFIO_GROUP_SET_CONTAINER, &container), -EPERM);
	/* pci-stub does no DMA: the group becomes viable. */
	assert_int_equal(faketree_bind(t, BDF2, "pci-stub"), 0);
	assert_int_equal(xioctl(group, VFIO_GROUP_GET_STATUS, &status), 0);
	assert_int_equal(status.flags, VFIO_GROUP_FLAGS_VIABLE);
	assert_int_equal(faketree_bind(t, BDF2, NULL), 0);
	assert_int_equal(xioctl(group, VFIO_GROUP_SET_CONTAINER, &container), 0);
	close(group);
	close(container);
}

/* ---- iommufd ---------------------------------------------------------------------- */

static void test_iommufd_sequence(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	int iommufd, dev, container;

	add_device(t, BDF, 5, "vfio-pci", 0);
	assert_int_equal(faketree_set_iommufd(t, true), 0);
	iommufd = open_rel(t, "dev/iommu");
	assert_true(iommufd >= 0);
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc), 0);
	assert_int_equal(alloc.out_ioas_id, 1);
	alloc.size = 4;
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc), -EINVAL);
	assert_int_equal(xioctl(iommufd, VFIO_GET_API_VERSION, NULL), -ENOTTY);

	dev = open_rel(t, "dev/vfio/devices/vfio0");
	assert_true(dev >= 0);
	/* Nothing works on a cdev before BIND_IOMMUFD. */
	assert_int_equal(xioctl(dev, VFIO_DEVICE_GET_INFO, &info), -EINVAL);
	container = open_rel(t, "dev/vfio/vfio");
	bind.iommufd = container;
	assert_int_equal(xioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &bind), -EBADFD);
	close(container);
	bind.iommufd = iommufd;
	assert_int_equal(xioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &bind), 0);
	assert_int_equal(bind.out_devid, 2);
	assert_int_equal(xioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &bind), -EINVAL);
	assert_int_equal(mock_device_open_count(BDF), 1);
	assert_int_equal(xioctl(dev, VFIO_DEVICE_GET_INFO, &info), 0);
	/* While the cdev is bound, the group cannot be opened. */
	assert_int_equal(open_rel(t, "dev/vfio/5"), -EBUSY);

	attach.pt_id = bind.out_devid;
	assert_int_equal(xioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach), -EINVAL);
	attach.pt_id = 99;
	assert_int_equal(xioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach), -ENOENT);
	attach.pt_id = alloc.out_ioas_id;
	assert_int_equal(xioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach), 0);
	destroy.id = alloc.out_ioas_id;
	assert_int_equal(xioctl(iommufd, IOMMU_DESTROY, &destroy), -EBUSY);
	destroy.id = bind.out_devid;
	assert_int_equal(xioctl(iommufd, IOMMU_DESTROY, &destroy), -EBUSY);
	assert_int_equal(xioctl(dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach), 0);
	destroy.id = alloc.out_ioas_id;
	assert_int_equal(xioctl(iommufd, IOMMU_DESTROY, &destroy), 0);
	assert_int_equal(xioctl(iommufd, IOMMU_DESTROY, &destroy), -ENOENT);

	/* Closing the cdev unbinds it; the iommufd outlives it. */
	assert_int_equal(close(dev), 0);
	assert_int_equal(mock_device_open_count(BDF), 0);
	assert_int_equal(close(iommufd), 0);
	assert_int_equal(mock_open_fds(), 0);
}

static void test_iommufd_dma(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct iommu_iova_range ranges[4];
	struct iommu_ioas_iova_ranges rq = { .size = sizeof(rq) };
	struct iommu_ioas_map map = { .size = sizeof(map) };
	struct iommu_ioas_unmap unmap = { .size = sizeof(unmap) };
	struct mock_dma_mapping maps[4];
	void *buf = mmap(NULL, 0x20000, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int iommufd, dev;

	add_device(t, BDF, 5, "vfio-pci", 0);
	faketree_set_iommufd(t, true);
	iommufd = open_rel(t, "dev/iommu");
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc), 0);

	/* No device attached: every IOVA, byte alignment. */
	rq.ioas_id = alloc.out_ioas_id;
	rq.num_iovas = 4;
	rq.allowed_iovas = (uintptr_t)ranges;
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &rq), 0);
	assert_int_equal(rq.num_iovas, 1);
	assert_int_equal(ranges[0].last, UINT64_MAX);
	assert_int_equal(rq.out_iova_alignment, 1);

	dev = open_rel(t, "dev/vfio/devices/vfio0");
	bind.iommufd = iommufd;
	assert_int_equal(xioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &bind), 0);
	attach.pt_id = alloc.out_ioas_id;
	assert_int_equal(xioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach), 0);
	rq.num_iovas = 0;
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &rq), -EMSGSIZE);
	assert_int_equal(rq.num_iovas, 2);
	rq.num_iovas = 4;
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &rq), 0);
	assert_int_equal(ranges[1].start, 0xfef00000);
	assert_int_equal(rq.out_iova_alignment, 4096);

	map.ioas_id = alloc.out_ioas_id;
	map.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
	map.user_va = (uintptr_t)buf;
	map.length = 0x10000;
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_MAP, &map), 0);	/* kernel picks */
	assert_int_equal(map.iova & 4095, 0);
	map.flags |= IOMMU_IOAS_MAP_FIXED_IOVA;
	map.iova += 0x1000;
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_MAP, &map), -EEXIST);
	map.iova = 0xfee00000;
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_MAP, &map), -EINVAL);
	map.iova = 0x40000000;
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_MAP, &map), 0);
	assert_int_equal(mock_mappings(maps, 4), 2);
	assert_true(maps[0].iommufd && maps[0].ioas_id == alloc.out_ioas_id);

	/* Only whole mappings go; half of one is -ENOENT. */
	unmap.ioas_id = alloc.out_ioas_id;
	unmap.iova = 0x40000000;
	unmap.length = 0x8000;
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap), -ENOENT);
	unmap.length = 0x10000;
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap), 0);
	assert_int_equal(unmap.length, 0x10000);
	unmap.iova = 0;
	unmap.length = UINT64_MAX;
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap), 0);
	assert_int_equal(unmap.length, 0x10000);
	/* Unmapping all of nothing succeeds; a range with nothing does not. */
	unmap.length = UINT64_MAX;
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap), 0);
	assert_int_equal(unmap.length, 0);
	unmap.length = 0x1000;
	assert_int_equal(xioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap), -ENOENT);
	close(dev);
	close(iommufd);
	assert_int_equal(mock_mappings(maps, 4), 0);
	munmap(buf, 0x20000);
}

/* The group path and the cdev path exclude each other. */
static void test_cdev_vs_group(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	int group, iommufd, dev;

	add_device(t, BDF, 5, "vfio-pci", 0);
	add_device(t, BDF2, 5, "e1000e", -1);
	faketree_set_iommufd(t, true);
	iommufd = open_rel(t, "dev/iommu");
	dev = open_rel(t, "dev/vfio/devices/vfio0");
	bind.iommufd = iommufd;
	/* A host driver in the group owns its DMA. */
	assert_int_equal(xioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &bind), -EPERM);
	faketree_bind(t, BDF2, NULL);
	group = open_rel(t, "dev/vfio/5");
	assert_int_equal(xioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &bind), -EBUSY);
	close(group);
	assert_int_equal(xioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &bind), 0);
	close(dev);
	close(iommufd);
}

/* ---- interrupts -------------------------------------------------------------------- */

/* VFIO_DEVICE_SET_IRQS with @n eventfds (or -1 entries). */
static long set_irqs(int device, uint32_t index, uint32_t start, uint32_t n,
		     const int32_t *fds, uint32_t flags)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 8 * sizeof(int32_t)];
	struct vfio_irq_set *s = (void *)buf;

	memset(buf, 0, sizeof(buf));
	s->argsz = (uint32_t)(sizeof(*s) + (fds ? n * sizeof(int32_t) : 0));
	s->flags = flags | (fds ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	s->index = index;
	s->start = start;
	s->count = n;
	if (fds)
		memcpy(s->data, fds, n * sizeof(int32_t));
	return xioctl(device, VFIO_DEVICE_SET_IRQS, s);
}

static uint64_t drain(int efd)
{
	uint64_t v = 0;

	return read(efd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

static void test_irqs(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	int32_t efd[2] = { eventfd(0, EFD_NONBLOCK), eventfd(0, EFD_NONBLOCK) };
	uint32_t trig = VFIO_IRQ_SET_ACTION_TRIGGER;
	struct legacy l;

	add_device(t, BDF, 5, "vfio-pci", -1);
	legacy_open(t, 5, BDF, &l);
	assert_int_equal(xioctl(l.device, VFIO_DEVICE_GET_IRQ_INFO, &ii), 0);
	assert_int_equal(ii.count, 8);
	assert_int_equal(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);

	assert_int_equal(set_irqs(l.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2, efd, trig), 0);
	assert_int_equal(mock_irq_vectors(BDF, VFIO_PCI_MSIX_IRQ_INDEX), 2);
	assert_int_equal(mock_irq_trigger(BDF, VFIO_PCI_MSIX_IRQ_INDEX, 1), 0);
	assert_int_equal(drain(efd[1]), 1);
	assert_int_equal(drain(efd[0]), 0);
	assert_int_equal(mock_irq_trigger(BDF, VFIO_PCI_MSIX_IRQ_INDEX, 5), -ENOENT);
	/* Beyond the device's vectors, or another type while MSI-X is on. */
	assert_int_equal(set_irqs(l.device, VFIO_PCI_MSIX_IRQ_INDEX, 7, 2, efd, trig), -EINVAL);
	assert_int_equal(set_irqs(l.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, efd, trig), -EINVAL);
	assert_int_equal(set_irqs(l.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, NULL,
				  VFIO_IRQ_SET_ACTION_MASK), -ENOTTY);
	assert_int_equal(set_irqs(l.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 0, NULL, trig), 0);
	assert_int_equal(mock_irq_vectors(BDF, VFIO_PCI_MSIX_IRQ_INDEX), 0);

	/* INTx is automasked: a second edge waits for the unmask. */
	assert_int_equal(set_irqs(l.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, efd, trig), 0);
	assert_int_equal(mock_irq_trigger(BDF, VFIO_PCI_INTX_IRQ_INDEX, 0), 0);
	assert_int_equal(mock_irq_trigger(BDF, VFIO_PCI_INTX_IRQ_INDEX, 0), 1);
	assert_int_equal(drain(efd[0]), 1);
	assert_int_equal(set_irqs(l.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL,
				  VFIO_IRQ_SET_ACTION_UNMASK), 0);
	assert_int_equal(drain(efd[0]), 1);
	/* Closing the device drops its eventfds. */
	legacy_close(&l);
	assert_int_equal(mock_irq_vectors(BDF, VFIO_PCI_INTX_IRQ_INDEX), 0);
	close(efd[0]);
	close(efd[1]);
}

/* ---- resets -------------------------------------------------------------------------- */

static void test_hot_reset(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	uint8_t buf[sizeof(struct vfio_pci_hot_reset_info) +
		    2 * sizeof(struct vfio_pci_dependent_device)];
	struct vfio_pci_hot_reset_info *info = (void *)buf;
	uint8_t rbuf[sizeof(struct vfio_pci_hot_reset) + 2 * sizeof(int32_t)];
	struct vfio_pci_hot_reset *reset = (void *)rbuf;
	struct fake_dev_desc d;
	struct legacy l;
	int group6;

	fake_dev_default(&d, BDF);
	d.group = 5;
	d.driver = "vfio-pci";
	d.can_reset = false;
	assert_int_equal(faketree_add_device(t, &d), 0);
	add_device(t, BDF2, 6, "vfio-pci", -1);
	legacy_open(t, 5, BDF, &l);
	assert_int_equal(xioctl(l.device, VFIO_DEVICE_RESET, NULL), -EINVAL);

	memset(buf, 0, sizeof(buf));
	info->argsz = sizeof(*info);
	assert_int_equal(xioctl(l.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info), -ENOSPC);
	assert_int_equal(info->count, 2);
	info->argsz = sizeof(buf);
	assert_int_equal(xioctl(l.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info), 0);
	assert_int_equal(info->devices[0].group_id + info->devices[1].group_id, 11);
	assert_int_equal(info->devices[0].bus, 3);

	/* Group 6 not proven: refused. */
	memset(rbuf, 0, sizeof(rbuf));
	reset->argsz = sizeof(rbuf);
	reset->count = 1;
	reset->group_fds[0] = l.group;
	assert_int_equal(xioctl(l.device, VFIO_DEVICE_PCI_HOT_RESET, reset), -EINVAL);
	group6 = open_rel(t, "dev/vfio/6");
	reset->count = 2;
	reset->group_fds[1] = group6;
	assert_int_equal(xioctl(l.device, VFIO_DEVICE_PCI_HOT_RESET, reset), 0);
	assert_int_equal(mock_hot_reset_count(BDF), 1);
	assert_int_equal(mock_hot_reset_count(BDF2), 1);
	assert_int_equal(mock_reset_count(BDF2), 1);
	reset->group_fds[1] = l.container;
	assert_int_equal(xioctl(l.device, VFIO_DEVICE_PCI_HOT_RESET, reset), -EINVAL);
	close(group6);
	legacy_close(&l);
}

/* ---- injected failures -------------------------------------------------------------- */

static void test_open_eacces(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	const char *node = faketree_path(t, "dev/vfio/5");
	int fd;

	add_device(t, BDF, 5, "vfio-pci", -1);
	mock_fail_open("/dev/vfio/5", EACCES);
	/* open() here is open64() (-D_FILE_OFFSET_BITS=64); root or not. */
	assert_int_equal(open_rel(t, "dev/vfio/5"), -EACCES);
	assert_int_equal(openat(AT_FDCWD, node, O_RDWR), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(fortified_open(node, O_RDWR), -1);	/* __open64_2 */
	assert_int_equal(errno, EACCES);
	assert_int_equal(access(node, R_OK | W_OK), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(access(node, F_OK), 0);
	fd = open_rel(t, "dev/vfio/vfio");
	assert_true(fd >= 0);
	close(fd);
	mock_clear_failures();
	fd = open_rel(t, "dev/vfio/5");
	assert_true(fd >= 0);
	close(fd);
}

static void test_fortified_pread(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	struct legacy l;
	uint16_t vendor = 0;

	add_device(t, BDF, 5, "vfio-pci", -1);
	legacy_open(t, 5, BDF, &l);
	assert_int_equal(fortified_pread(l.device, &vendor, 2, 7ll << 28), 2);
	assert_int_equal(vendor, 0x10ee);
	/* Past config space: the mock saw __pread64_chk and refused. */
	assert_int_equal(fortified_pread(l.device, &vendor, 4, (7ll << 28) + 4094), -1);
	assert_int_equal(errno, EFAULT);
	legacy_close(&l);
}

static void test_inject_ioctl(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	struct vfio_group_status status = { .argsz = sizeof(status) };
	int group;

	add_device(t, BDF, 5, "vfio-pci", -1);
	group = open_rel(t, "dev/vfio/5");
	mock_fail_next(VFIO_GROUP_GET_STATUS, EIO);
	assert_int_equal(xioctl(group, VFIO_GROUP_GET_STATUS, &status), -EIO);
	assert_int_equal(xioctl(group, VFIO_GROUP_GET_STATUS, &status), 0);
	assert_int_equal(mock_ioctl_count(VFIO_GROUP_GET_STATUS), 2);
	assert_int_equal(mock_fail_parse("ioctl:VFIO_GROUP_GET_STATUS=EINTR*2,"
					 "open:/dev/vfio/vfio=13"), 0);
	assert_int_equal(xioctl(group, VFIO_GROUP_GET_STATUS, &status), -EINTR);
	assert_int_equal(xioctl(group, VFIO_GROUP_GET_STATUS, &status), -EINTR);
	assert_int_equal(xioctl(group, VFIO_GROUP_GET_STATUS, &status), 0);
	assert_int_equal(open_rel(t, "dev/vfio/vfio"), -EACCES);
	assert_int_equal(mock_fail_parse("ioctl:NO_SUCH_IOCTL=EIO"), -EINVAL);
	assert_int_equal(mock_fail_parse("open:/x=ENOTANERRNO"), -EINVAL);
	mock_clear_failures();
	close(group);
}

/* Writing a sysfs attribute replaces its value, as a store does. */
static void test_sysfs_store(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	const char *rel = "sys/bus/pci/devices/" BDF "/driver_override";
	char buf[32];
	int fd;

	add_device(t, BDF, 5, NULL, -1);
	fd = open(faketree_path(t, rel), O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
	assert_int_equal(faketree_read_file(t, rel, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "\n");
}

/* Real fds are left alone. */
static void test_passthrough(void **state)
{
	int efd = eventfd(0, 0), n = -1;

	(void)state;
	assert_int_equal(ioctl(efd, FIONREAD, &n), -1);	/* eventfd: ENOTTY... */
	assert_true(errno == ENOTTY || errno == EINVAL);
	assert_int_equal(close(efd), 0);
	assert_int_equal(mock_open_fds(), 0);
}

/* ---- mkfaketree ----------------------------------------------------------------------- */

extern char **environ;

/*
 * Run $MKFAKETREE with @argv (NULL-terminated, argv[0] ignored); exit code.
 * In a cross build meson runs the tests through its exe wrapper and names it
 * in MESON_EXE_WRAPPER (e.g. "qemu-aarch64 -L /"); mkfaketree, built for
 * the same machine, is started through it too (words split on spaces).
 */
static int run_mkfaketree(char **argv)
{
	const char *exe = getenv("MKFAKETREE");
	const char *wrapper = getenv("MESON_EXE_WRAPPER");
	char *words = strdup(wrapper ? wrapper : "");
	char *full[16 + 16];
	size_t n = 0;
	pid_t pid;
	int status, ret;

	assert_non_null(words);
	for (char *save, *w = strtok_r(words, " ", &save); w && n < 16;
	     w = strtok_r(NULL, " ", &save))
		full[n++] = w;
	full[n++] = (char *)exe;
	for (size_t i = 1; argv[i] && n < sizeof(full) / sizeof(full[0]) - 1; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	ret = posix_spawnp(&pid, full[0], NULL, NULL, full, environ);
	free(words);
	if (ret)
		return -1;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_mkfaketree(void **state)
{
	struct faketree *t = ((struct fixture *)*state)->t;
	char *dir = (char *)faketree_path(t, "cli");
	char *make[] = { NULL, dir, "--iommufd",
		"--device", BDF ",group=5,driver=vfio-pci,cdev=3,vendor=1234,irq=2:16,"
			    "region=2:0x100000:rwm:0+0x1000:0x2000+0x1000",
		"--device", BDF2 ",group=5,driver=nvme,pcie=0", NULL };
	char *bind[] = { NULL, dir, "--bind", BDF2 "=", "--no-type1", NULL };
	char *bad[] = { NULL, dir, "--device", "0000:05:00.0,colour=blue", NULL };
	char *usage[] = { NULL, NULL };
	struct fake_dev_desc d;
	struct stat st;
	char buf[64];

	if (!getenv("MKFAKETREE"))
		skip();
	assert_int_equal(run_mkfaketree(make), 0);
	assert_int_equal(faketree_read_file(t, "cli/sys/bus/pci/devices/" BDF "/vendor",
					    buf, sizeof(buf)), 7);
	assert_string_equal(buf, "0x1234\n");
	assert_int_equal(fake_desc_read(faketree_path(t, "cli/sys/bus/pci/devices/" BDF
						      "/mock-vfio"), &d), 0);
	assert_int_equal(d.irq_count[2], 16);
	assert_int_equal(d.regions[2].nr_areas, 2);
	assert_int_equal(d.regions[2].areas[1].offset, 0x2000);
	assert_int_equal(d.cdev_index, 3);
	assert_int_equal(lstat(faketree_path(t, "cli/dev/vfio/devices/vfio3"), &st), 0);
	assert_int_equal(stat(faketree_path(t, "cli/dev/iommu"), &st), 0);
	assert_int_equal(stat(faketree_path(t, "cli/dev/vfio/5"), &st), 0);
	assert_int_equal(faketree_read_file(t, "cli/sys/bus/pci/devices/" BDF2 "/config",
					    buf, sizeof(buf)), sizeof(buf) - 1);
	/* Unbinding the nvme function changes the tree in place. */
	assert_int_equal(run_mkfaketree(bind), 0);
	assert_int_equal(lstat(faketree_path(t, "cli/sys/bus/pci/devices/" BDF2 "/driver"),
			       &st), -1);
	assert_int_equal(stat(faketree_path(t, "cli/sys/module/vfio_iommu_type1"), &st), -1);
	assert_int_equal(run_mkfaketree(bad), 1);
	assert_int_equal(run_mkfaketree(usage), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_legacy_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_type1_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sparse_region_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_type1_info_and_dma, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_not_viable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iommufd_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iommufd_dma, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdev_vs_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irqs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hot_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_eacces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fortified_pread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inject_ioctl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysfs_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passthrough, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkfaketree, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
