// SPDX-License-Identifier: MIT
/*
 * The VFIO device file of a vfio-pci device, modelled on
 * drivers/vfio/vfio_main.c and drivers/vfio/pci/vfio_pci_core.c: the info
 * ioctls, resets, and the checks the kernel makes on read, write and mmap.
 * Region i of the fake device lives at i << 28 of its mock-regions file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mock_internal.h"

#define MAX_AFFECTED 256

/* ---- info ---------------------------------------------------------------------- */

static long get_info(const struct fake_dev_desc *d, void *arg)
{
	struct vfio_device_info info;
	size_t minsz = offsetofend(struct vfio_device_info, num_irqs);
	/* Sic: the kernel measures with vfio_iommu_type1_info's layout. */
	size_t capsz = offsetofend(struct vfio_iommu_type1_info, cap_offset);

	memcpy(&info, arg, minsz);
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.argsz >= capsz) {
		minsz = capsz;
		info.cap_offset = 0;
	}
	info.flags = VFIO_DEVICE_FLAGS_PCI | (d->can_reset ? VFIO_DEVICE_FLAGS_RESET : 0);
	info.num_regions = FAKE_NUM_REGIONS;
	info.num_irqs = FAKE_NUM_IRQS;
	memcpy(arg, &info, minsz);
	return 0;
}

static uint32_t region_flags(const struct fake_region *r)
{
	if (!r->size)
		return 0;
	return ((r->flags & FAKE_REGION_R) ? VFIO_REGION_INFO_FLAG_READ : 0) |
	       ((r->flags & FAKE_REGION_W) ? VFIO_REGION_INFO_FLAG_WRITE : 0) |
	       ((r->flags & FAKE_REGION_M) ? VFIO_REGION_INFO_FLAG_MMAP : 0);
}

static void sparse_cap(const struct fake_region *r, struct mock_caps *caps)
{
	struct vfio_region_info_cap_sparse_mmap *cap;

	if (!r->size || !r->nr_areas)
		return;
	cap = mock_cap_add(caps, sizeof(*cap) + r->nr_areas * sizeof(cap->areas[0]),
			   VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1);
	cap->nr_areas = r->nr_areas;
	for (unsigned int i = 0; i < r->nr_areas; i++) {
		cap->areas[i].offset = r->areas[i].offset;
		cap->areas[i].size = r->areas[i].size;
	}
}

static long get_region_info(const struct fake_dev_desc *d, void *arg)
{
	struct vfio_region_info info;
	size_t minsz = offsetofend(struct vfio_region_info, offset);
	struct mock_caps caps = { .size = 0 };
	const struct fake_region *r;

	memcpy(&info, arg, minsz);
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.index >= FAKE_NUM_REGIONS ||
	    (info.index == FAKE_REGION_VGA && !d->vga))
		return -EINVAL;
	r = &d->regions[info.index];
	info.offset = (uint64_t)info.index << FAKE_REGION_SHIFT;
	info.size = r->size;
	info.flags = region_flags(r);
	info.cap_offset = 0;
	sparse_cap(r, &caps);
	if (caps.size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		info.cap_offset = mock_caps_copy(&caps, arg, sizeof(info), &info.argsz);
	}
	memcpy(arg, &info, minsz);
	return 0;
}

static long get_irq_info(const struct fake_dev_desc *d, void *arg)
{
	struct vfio_irq_info info;
	size_t minsz = offsetofend(struct vfio_irq_info, count);

	memcpy(&info, arg, minsz);
	if (info.argsz < minsz || info.index >= FAKE_NUM_IRQS)
		return -EINVAL;
	if (info.index == VFIO_PCI_ERR_IRQ_INDEX && !d->pcie)
		return -EINVAL;
	info.flags = VFIO_IRQ_INFO_EVENTFD;
	info.count = d->irq_count[info.index];
	/* vfio_pci_ioctl_get_irq_info(): MSI-X is resizable where the
	 * platform allocates vectors dynamically (vdev->has_dyn_msix, 6.5+). */
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	else if (info.index != VFIO_PCI_MSIX_IRQ_INDEX || !d->msix_dyn)
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
	memcpy(arg, &info, minsz);
	return 0;
}

static long device_reset(struct mock_device *dev, const struct fake_dev_desc *d)
{
	/* reset_works was false at open: no FLR, PM or slot reset. */
	if (!d->can_reset)
		return -EINVAL;
	mock_note_reset(dev, MOCK_RESET_FUNCTION);
	return 0;
}

/* ---- hot reset ------------------------------------------------------------------ */

/* The functions a secondary bus reset of @bdf's bus resets. */
struct affected {
	char bus[8];		/* "dddd:bb" */
	unsigned int n;
	char bdf[MAX_AFFECTED][16];
};

static int collect_affected(const char *bdf, void *arg)
{
	struct affected *a = arg;

	if (strncmp(bdf, a->bus, 7) || bdf[7] != ':' || a->n == MAX_AFFECTED)
		return 0;
	snprintf(a->bdf[a->n++], sizeof(a->bdf[0]), "%s", bdf);
	return 0;
}

static void find_affected(const char *bdf, struct affected *a)
{
	snprintf(a->bus, sizeof(a->bus), "%.7s", bdf);
	a->n = 0;
	mock_for_each_device(-1, collect_affected, a);
}

static void fill_location(const char *bdf, struct vfio_pci_dependent_device *out)
{
	unsigned int dom = 0, bus = 0, dev = 0, fn = 0;

	sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn);
	out->segment = (uint16_t)dom;
	out->bus = (uint8_t)bus;
	out->devfn = (uint8_t)(dev << 3 | fn);
}

static bool bound_to_vfio(const char *bdf)
{
	char driver[64];

	mock_sysfs_driver(bdf, driver, sizeof(driver));
	return strstr(driver, "vfio") != NULL;
}

struct owner_query {
	struct mock_ictx *ictx;
	bool owned;
};

static int bound_to_ictx(const char *bdf, void *arg)
{
	struct owner_query *q = arg;
	struct mock_device *dev = mock_device_find(bdf);

	q->owned |= dev && dev->cdev_bound && dev->ictx == q->ictx;
	return 0;
}

/*
 * vfio_iommufd_get_dev_id(): the device's id when bound to @ictx; "owned"
 * when a device of its group is; "not owned" otherwise.
 */
static uint32_t cdev_devid(const char *bdf, struct mock_ictx *ictx)
{
	struct mock_device *dev = mock_device_find(bdf);
	struct owner_query q = { ictx, false };
	int group = mock_sysfs_group(bdf);

	if (!bound_to_vfio(bdf))
		return MOCK_DEVID_NOT_OWNED;
	if (dev && dev->cdev_bound && dev->ictx == ictx)
		return dev->devid;
	if (group >= 0)
		mock_for_each_device(group, bound_to_ictx, &q);
	return q.owned ? MOCK_DEVID_OWNED : MOCK_DEVID_NOT_OWNED;
}

/* Fill the dependent-device list; return the header flags or -errno. */
static long fill_dependents(const struct mock_devfile *df, const struct affected *a,
			    struct vfio_pci_dependent_device *out)
{
	long flags = df->group ? 0 : MOCK_HOT_RESET_FLAG_DEV_ID |
					     MOCK_HOT_RESET_FLAG_DEV_ID_OWNED;

	for (unsigned int i = 0; i < a->n; i++) {
		fill_location(a->bdf[i], &out[i]);
		if (df->group) {
			int group = mock_sysfs_group(a->bdf[i]);

			if (group < 0)
				return -EPERM;	/* cannot reset non-isolated devices */
			out[i].group_id = (uint32_t)group;
			continue;
		}
		/* The cdev layout puts the devid where group_id is. */
		out[i].group_id = cdev_devid(a->bdf[i], df->dev->ictx);
		if (out[i].group_id == MOCK_DEVID_NOT_OWNED)
			flags &= ~(long)MOCK_HOT_RESET_FLAG_DEV_ID_OWNED;
	}
	return flags;
}

static long hot_reset_info(struct mock_fd *f, const struct fake_dev_desc *d, void *arg)
{
	struct vfio_pci_hot_reset_info hdr;
	size_t minsz = offsetofend(struct vfio_pci_hot_reset_info, count);
	struct vfio_pci_dependent_device *devs;
	struct affected a;
	long flags;

	memcpy(&hdr, arg, minsz);
	if (hdr.argsz < minsz)
		return -EINVAL;
	hdr.flags = 0;
	if (!d->can_bus_reset)
		return -ENODEV;
	find_affected(f->devfile.dev->bdf, &a);
	if (hdr.argsz < sizeof(hdr) + a.n * sizeof(*devs)) {
		hdr.count = a.n;
		memcpy(arg, &hdr, minsz);
		return -ENOSPC;
	}
	devs = (struct vfio_pci_dependent_device *)((uint8_t *)arg + sizeof(hdr));
	flags = fill_dependents(&f->devfile, &a, devs);
	if (flags < 0)
		return flags;
	hdr.flags = (uint32_t)flags;
	hdr.count = a.n;
	memcpy(arg, &hdr, minsz);
	return 0;
}

/* Group path: the groups the caller proves it owns, from their fds. */
static long collect_groups(const struct vfio_pci_hot_reset *hdr, const int32_t *fds,
			   int *groups)
{
	for (uint32_t i = 0; i < hdr->count; i++) {
		struct mock_fd *g;

		if (fcntl(fds[i], F_GETFD) < 0)
			return -EBADF;
		g = mock_fd_get(fds[i]);
		if (!g || g->kind != MOCK_GROUP)
			return -EINVAL;
		groups[i] = g->group->number;
	}
	return 0;
}

static bool owns(const struct mock_devfile *df, const char *bdf, const int *groups,
		 uint32_t nr_groups)
{
	int group = mock_sysfs_group(bdf);

	if (!df->group)
		return cdev_devid(bdf, df->dev->ictx) != MOCK_DEVID_NOT_OWNED;
	for (uint32_t i = 0; i < nr_groups; i++)
		if (groups[i] == group)
			return true;
	return false;
}

static long hot_reset(struct mock_fd *f, const struct fake_dev_desc *d, void *arg)
{
	struct vfio_pci_hot_reset hdr;
	size_t minsz = offsetofend(struct vfio_pci_hot_reset, count);
	const struct mock_devfile *df = &f->devfile;
	int groups[MAX_AFFECTED];
	struct affected a;
	long ret;

	memcpy(&hdr, arg, minsz);
	if (hdr.argsz < minsz || hdr.flags)
		return -EINVAL;
	if (!d->can_bus_reset)
		return -ENODEV;
	/* Group fds prove ownership on the group path; a cdev passes none. */
	if (!!hdr.count == !df->group)
		return -EINVAL;
	find_affected(df->dev->bdf, &a);
	if (hdr.count > a.n)
		return -EINVAL;
	ret = collect_groups(&hdr, ((struct vfio_pci_hot_reset *)arg)->group_fds, groups);
	if (ret)
		return ret;
	/* Every function on the bus must be a vfio-pci device we own. */
	for (unsigned int i = 0; i < a.n; i++)
		if (!bound_to_vfio(a.bdf[i]) || !owns(df, a.bdf[i], groups, hdr.count))
			return -EINVAL;
	for (unsigned int i = 0; i < a.n; i++)
		mock_note_reset(mock_device_get(a.bdf[i]), MOCK_RESET_BUS);
	return 0;
}

/* ---- dispatch ------------------------------------------------------------------- */

long mock_device_ioctl(struct mock_fd *f, unsigned long req, void *arg)
{
	struct mock_devfile *df = &f->devfile;
	struct fake_dev_desc d;

	if (req == VFIO_DEVICE_BIND_IOMMUFD)
		return mock_cdev_ioctl(f, req, arg);
	/* A cdev refuses everything until it is bound to an iommufd. */
	if (!df->granted)
		return -EINVAL;
	if (req == VFIO_DEVICE_ATTACH_IOMMUFD_PT || req == VFIO_DEVICE_DETACH_IOMMUFD_PT)
		return df->group ? -ENOTTY : mock_cdev_ioctl(f, req, arg);
	if (mock_read_desc(df->dev->bdf, &d))
		return -ENODEV;
	switch (req) {
	case VFIO_DEVICE_GET_INFO:
		return get_info(&d, arg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return get_region_info(&d, arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return get_irq_info(&d, arg);
	case VFIO_DEVICE_SET_IRQS:
		return mock_irq_set(df->dev, &d, arg);
	case VFIO_DEVICE_RESET:
		return device_reset(df->dev, &d);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return hot_reset_info(f, &d, arg);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return hot_reset(f, &d, arg);
	default:
		return -ENOTTY;
	}
}

/* ---- read, write, mmap -------------------------------------------------------------- */

/*
 * vfio_pci_rw(): the region from the offset's top bits; config space must
 * hold the whole access, BARs and the ROM are clipped at their end.
 */
long mock_device_rw_check(struct mock_fd *f, uint64_t off, size_t *count, bool write)
{
	uint64_t index = off >> FAKE_REGION_SHIFT;
	uint64_t pos = off & (FAKE_REGION_MAX - 1);
	struct fake_dev_desc d;
	const struct fake_region *r;

	if (!f->devfile.granted)
		return -EINVAL;
	if (!*count)
		return 0;
	if (index >= FAKE_NUM_REGIONS || mock_read_desc(f->devfile.dev->bdf, &d))
		return -EINVAL;
	r = &d.regions[index];
	if (index == FAKE_REGION_CONFIG) {
		if (pos + *count > r->size)
			return -EFAULT;
	} else {
		if ((index == VFIO_PCI_ROM_REGION_INDEX && write) ||
		    (index == FAKE_REGION_VGA && !d.vga))
			return -EINVAL;
		if (pos >= r->size)
			return -EINVAL;
		if (*count > r->size - pos)
			*count = (size_t)(r->size - pos);
	}
	mock_note_rw((uint32_t)index, pos, *count, write);
	return 0;
}

/*
 * vfio_config_init() (drivers/vfio/pci/vfio_pci_config.c) copies config
 * space into vconfig when the device is first opened; the vendor and device
 * ids are ALL_VIRT (init_pci_cap_basic_perm()), so vfio_default_config_read()
 * answers them from that copy ever after, even when the device is gone.
 * Called at the device's first open with a fd on mock-regions.
 */
void mock_device_first_open(struct mock_device *dev, int fd)
{
	off_t cfg = (off_t)FAKE_REGION_CONFIG << FAKE_REGION_SHIFT;

	if (mock_real.pread(fd, dev->vids, sizeof(dev->vids), cfg) != sizeof(dev->vids))
		memset(dev->vids, 0xff, sizeof(dev->vids));
}

/* After a successful pread of @n bytes at @off: the virtualized bytes. */
void mock_device_read_fixup(struct mock_fd *f, uint64_t off, void *buf, size_t n)
{
	uint64_t pos = off & (FAKE_REGION_MAX - 1);

	if (f->kind != MOCK_DEVICE || off >> FAKE_REGION_SHIFT != FAKE_REGION_CONFIG)
		return;
	for (uint64_t i = pos; i < sizeof(f->devfile.dev->vids) && i - pos < n; i++)
		((uint8_t *)buf)[i - pos] = f->devfile.dev->vids[i];
}

/* vfio_pci_core_mmap(): shared mappings of mmap-able BARs, inside the BAR. */
long mock_device_mmap_check(struct mock_fd *f, uint64_t off, size_t len, int flags)
{
	uint64_t index = off >> FAKE_REGION_SHIFT;
	uint64_t start = off & (FAKE_REGION_MAX - 1);
	struct fake_dev_desc d;
	const struct fake_region *r;
	uint64_t phys_len;

	if (!f->devfile.granted)
		return -EINVAL;
	if (index >= FAKE_NUM_REGIONS || !(flags & MAP_SHARED))
		return -EINVAL;
	if (index >= VFIO_PCI_ROM_REGION_INDEX || mock_read_desc(f->devfile.dev->bdf, &d))
		return -EINVAL;
	r = &d.regions[index];
	if (!r->size || !(r->flags & FAKE_REGION_M))
		return -EINVAL;
	phys_len = (r->size + MOCK_PAGE_SIZE - 1) & ~(MOCK_PAGE_SIZE - 1);
	return start + len > phys_len ? -EINVAL : 0;
}
