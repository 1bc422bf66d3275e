// SPDX-License-Identifier: MIT
/*
 * iommufd (/dev/iommu) and the VFIO cdev ioctls that tie a device to it,
 * modelled on drivers/iommu/iommufd/main.c, ioas.c, io_pagetable.c and
 * drivers/vfio/device_cdev.c.  One id space per iommufd holds both the
 * IOASes and the device ids, allocated from 1 as the kernel's xarray does.
 *
 * An IOAS with no device attached allows any IOVA at byte alignment; once a
 * device is attached, its IOMMU's aperture and reserved regions apply (the
 * same x86 ranges as the type1 container) at page alignment.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "mock_internal.h"

#define ATTACH_PASID (1u << 0)	/* VFIO_DEVICE_{ATTACH,DETACH}_PASID */
#define MAX_RANGES 4

/* ---- objects ------------------------------------------------------------------- */

static struct mock_ioas *object_new(struct mock_ictx *x, bool is_device)
{
	struct mock_ioas *o = calloc(1, sizeof(*o)), **pp;

	if (!o)
		return NULL;
	o->id = x->next_id++;
	o->is_device = is_device;
	for (pp = &x->objects; *pp; pp = &(*pp)->next)
		;
	*pp = o;
	return o;
}

static struct mock_ioas *object_find(struct mock_ictx *x, uint32_t id)
{
	for (struct mock_ioas *o = x->objects; o; o = o->next)
		if (o->id == id)
			return o;
	return NULL;
}

static void object_free(struct mock_ictx *x, struct mock_ioas *o)
{
	for (struct mock_ioas **pp = &x->objects; *pp; pp = &(*pp)->next) {
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	}
	mock_maps_free(&o->maps);
	free(o);
}

/* iommufd_get_ioas(): an id of another type is "not found". */
static struct mock_ioas *ioas_find(struct mock_ictx *x, uint32_t id)
{
	struct mock_ioas *o = object_find(x, id);

	return o && !o->is_device ? o : NULL;
}

/* The IOVA ranges of @o and its alignment; return the number of ranges. */
static unsigned int ioas_ranges(const struct mock_ioas *o, uint64_t *start,
				uint64_t *last, uint64_t *align)
{
	if (!o->users) {
		start[0] = 0;
		last[0] = UINT64_MAX;
		*align = 1;
		return 1;
	}
	*align = mock_iommu_pgsize();
	return mock_iova_ranges(start, last, MAX_RANGES);
}

static bool ioas_allows(const struct mock_ioas *o, uint64_t iova, uint64_t len)
{
	uint64_t start[MAX_RANGES], last[MAX_RANGES], align;
	unsigned int n = ioas_ranges(o, start, last, &align);

	for (unsigned int i = 0; i < n; i++)
		if (iova >= start[i] && iova + len - 1 <= last[i])
			return true;
	return false;
}

/* ---- commands -------------------------------------------------------------------- */

static long cmd_destroy(struct mock_ictx *x, void *cmd)
{
	struct iommu_destroy *c = cmd;
	struct mock_ioas *o = object_find(x, c->id);

	if (!o)
		return -ENOENT;
	/* Still used: a bound device's id, or an IOAS with devices attached. */
	if (o->is_device || o->users)
		return -EBUSY;
	object_free(x, o);
	return 0;
}

static long cmd_ioas_alloc(struct mock_ictx *x, void *cmd)
{
	struct iommu_ioas_alloc *c = cmd;
	struct mock_ioas *o;

	if (c->flags)
		return -EOPNOTSUPP;
	o = object_new(x, false);
	if (!o)
		return -ENOMEM;
	c->out_ioas_id = o->id;
	return 0;
}

static long cmd_iova_ranges(struct mock_ictx *x, void *cmd)
{
	struct iommu_ioas_iova_ranges *c = cmd;
	uint64_t start[MAX_RANGES], last[MAX_RANGES], align;
	struct iommu_iova_range *out = (void *)(uintptr_t)c->allowed_iovas;
	struct mock_ioas *o;
	uint32_t max = c->num_iovas;
	unsigned int n;

	if (c->__reserved)
		return -EOPNOTSUPP;
	o = ioas_find(x, c->ioas_id);
	if (!o)
		return -ENOENT;
	n = ioas_ranges(o, start, last, &align);
	c->out_iova_alignment = align;
	if (max && !out)
		return -EFAULT;
	for (unsigned int i = 0; i < n && i < max; i++)
		out[i] = (struct iommu_iova_range){ start[i], last[i] };
	c->num_iovas = n;
	/* The header goes back either way; a short array is -EMSGSIZE. */
	return n > max ? -EMSGSIZE : 0;
}

/* iopt_alloc_iova(): the lowest free IOVA with @uptr's page offset. */
static long alloc_iova(const struct mock_ioas *o, uint64_t uptr, uint64_t len,
		       uint64_t *iova)
{
	uint64_t start[MAX_RANGES], last[MAX_RANGES], align;
	unsigned int n = ioas_ranges(o, start, last, &align);
	uint64_t pg = align > MOCK_PAGE_SIZE ? align : MOCK_PAGE_SIZE;
	uint64_t off = uptr & (pg - 1);

	for (unsigned int i = 0; i < n; i++) {
		uint64_t cand = ((start[i] + pg - 1) & ~(pg - 1)) + off;
		const struct mock_map *m;

		while (cand + len - 1 >= cand && cand + len - 1 <= last[i]) {
			m = mock_maps_overlap(o->maps, cand, len);
			if (!m) {
				*iova = cand;
				return 0;
			}
			cand = ((m->iova + m->size + pg - 1) & ~(pg - 1)) + off;
		}
	}
	return -ENOSPC;
}

/* iopt_check_iova(): alignment, overflow, reserved ranges, overlap. */
static long check_iova(const struct mock_ioas *o, uint64_t iova, uint64_t uptr,
		       uint64_t len)
{
	uint64_t start[MAX_RANGES], last[MAX_RANGES], align;

	ioas_ranges(o, start, last, &align);
	if ((iova | uptr) & (align - 1))
		return -EINVAL;
	if (iova + len - 1 < iova)
		return -EOVERFLOW;
	if (!ioas_allows(o, iova, len))
		return -EINVAL;
	return mock_maps_overlap(o->maps, iova, len) ? -EEXIST : 0;
}

static long cmd_ioas_map(struct mock_ictx *x, void *cmd)
{
	struct iommu_ioas_map *c = cmd;
	uint32_t known = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |
			 IOMMU_IOAS_MAP_READABLE;
	struct mock_ioas *o;
	struct mock_map *m;
	uint64_t iova = c->iova;
	long ret;

	if (c->flags & ~known || c->__reserved)
		return -EOPNOTSUPP;
	if (c->iova >= UINT64_MAX || c->length >= UINT64_MAX)
		return -EOVERFLOW;
	if (!(c->flags & (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)))
		return -EINVAL;
	o = ioas_find(x, c->ioas_id);
	if (!o)
		return -ENOENT;
	if (!c->length)
		return -EINVAL;
	/* iopt_alloc_iova()/iopt_check_iova(): whole IOMMU pages only. */
	if (o->users && (c->length | c->user_va) & (mock_iommu_pgsize() - 1))
		return -EINVAL;
	if (!mock_user_range_valid(c->user_va, c->length))
		return -EFAULT;
	if (c->flags & IOMMU_IOAS_MAP_FIXED_IOVA)
		ret = check_iova(o, c->iova, c->user_va, c->length);
	else
		ret = alloc_iova(o, c->user_va, c->length, &iova);
	c->iova = iova;
	m = ret ? NULL : calloc(1, sizeof(*m));
	if (!m)
		return ret ? ret : -ENOMEM;
	*m = (struct mock_map){ c->iova, c->length, c->user_va,
				c->flags & IOMMU_IOAS_MAP_READABLE,
				c->flags & IOMMU_IOAS_MAP_WRITEABLE, NULL };
	mock_maps_insert(&o->maps, m);
	return 0;
}

/*
 * iopt_unmap_iova_range(): whole areas inside [iova, last] go; an area
 * sticking out of the range, or nothing to unmap, is -ENOENT.
 */
static long unmap_range(struct mock_ioas *o, uint64_t iova, uint64_t last,
			uint64_t *unmapped)
{
	struct mock_map **pp = &o->maps;
	long ret = -ENOENT;

	*unmapped = 0;
	for (struct mock_map *m = o->maps; m; m = m->next)
		if (m->iova <= last && iova <= m->iova + m->size - 1 &&
		    (m->iova < iova || m->iova + m->size - 1 > last))
			return -ENOENT;
	while (*pp) {
		struct mock_map *m = *pp;

		if (m->iova < iova || m->iova > last) {
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		*unmapped += m->size;
		free(m);
		ret = 0;
	}
	return ret;
}

static long cmd_ioas_unmap(struct mock_ictx *x, void *cmd)
{
	struct iommu_ioas_unmap *c = cmd;
	struct mock_ioas *o = ioas_find(x, c->ioas_id);
	uint64_t unmapped;
	long ret;

	if (!o)
		return -ENOENT;
	if (c->iova == 0 && c->length == UINT64_MAX) {
		ret = unmap_range(o, 0, UINT64_MAX, &unmapped);
		ret = ret == -ENOENT ? 0 : ret;	/* unmapping all of nothing is fine */
	} else {
		if (c->iova >= UINT64_MAX || c->length >= UINT64_MAX)
			return -EOVERFLOW;
		if (!c->length)
			return -EINVAL;
		if (c->iova + c->length - 1 < c->iova)
			return -EOVERFLOW;
		ret = unmap_range(o, c->iova, c->iova + c->length - 1, &unmapped);
	}
	if (ret)
		return ret;
	c->length = unmapped;
	return 0;
}

/* ---- dispatch (iommufd_fops_ioctl) ---------------------------------------------------- */

union iommufd_cmd {
	struct iommu_destroy destroy;
	struct iommu_ioas_alloc alloc;
	struct iommu_ioas_iova_ranges ranges;
	struct iommu_ioas_map map;
	struct iommu_ioas_unmap unmap;
};

static const struct iommufd_op {
	unsigned long request;
	size_t min_size;	/* up to the last mandatory field */
	size_t size;
	long (*execute)(struct mock_ictx *x, void *cmd);
	bool respond_on_error;	/* -EMSGSIZE still returns the header */
} iommufd_ops[] = {
	{ IOMMU_DESTROY, offsetofend(struct iommu_destroy, id),
	  sizeof(struct iommu_destroy), cmd_destroy, false },
	{ IOMMU_IOAS_ALLOC, offsetofend(struct iommu_ioas_alloc, out_ioas_id),
	  sizeof(struct iommu_ioas_alloc), cmd_ioas_alloc, false },
	{ IOMMU_IOAS_IOVA_RANGES,
	  offsetofend(struct iommu_ioas_iova_ranges, out_iova_alignment),
	  sizeof(struct iommu_ioas_iova_ranges), cmd_iova_ranges, true },
	{ IOMMU_IOAS_MAP, offsetofend(struct iommu_ioas_map, iova),
	  sizeof(struct iommu_ioas_map), cmd_ioas_map, false },
	{ IOMMU_IOAS_UNMAP, offsetofend(struct iommu_ioas_unmap, length),
	  sizeof(struct iommu_ioas_unmap), cmd_ioas_unmap, false },
};

/* copy_struct_from_user(): unknown trailing bytes must be zero. */
static long copy_cmd(void *dst, size_t ksize, const void *src, uint32_t usize)
{
	memset(dst, 0, ksize);
	if (usize > ksize) {
		for (const uint8_t *p = (const uint8_t *)src + ksize;
		     p < (const uint8_t *)src + usize; p++)
			if (*p)
				return -E2BIG;
	}
	memcpy(dst, src, usize < ksize ? usize : ksize);
	return 0;
}

long mock_iommufd_ioctl(struct mock_fd *f, unsigned long req, void *arg)
{
	union iommufd_cmd cmd;
	uint32_t usize;
	long ret;

	for (size_t i = 0; i < sizeof(iommufd_ops) / sizeof(iommufd_ops[0]); i++) {
		const struct iommufd_op *op = &iommufd_ops[i];

		if (op->request != req)
			continue;
		if (!arg)
			return -EFAULT;
		memcpy(&usize, arg, sizeof(usize));
		if (usize < op->min_size)
			return -EINVAL;
		ret = copy_cmd(&cmd, op->size, arg, usize);
		if (ret)
			return ret;
		ret = op->execute(f->ictx, &cmd);
		if (!ret || (op->respond_on_error && ret == -EMSGSIZE))
			memcpy(arg, &cmd, usize < op->size ? usize : op->size);
		return ret;
	}
	/* Other iommufd commands and the VFIO compat ioctls: not modelled. */
	return -ENOTTY;
}

/* ---- the cdev side ------------------------------------------------------------------ */

struct owner_scan {
	struct mock_device *self;
	struct mock_ictx *ictx;
	bool other_owner;
};

static int other_ictx(const char *bdf, void *arg)
{
	struct owner_scan *s = arg;
	struct mock_device *dev = mock_device_find(bdf);

	s->other_owner |= dev && dev != s->self && dev->cdev_bound && dev->ictx != s->ictx;
	return 0;
}

/*
 * iommu_device_claim_dma_owner(): a host driver in the group, or a device
 * of the group bound to another iommufd, owns its DMA already.
 */
static long claim_dma_owner(struct mock_device *dev, struct mock_ictx *ictx)
{
	struct owner_scan s = { dev, ictx, false };
	int group = mock_sysfs_group(dev->bdf);

	if (group < 0)
		return -ENODEV;
	if (!mock_group_viable(group))
		return -EPERM;
	mock_for_each_device(group, other_ictx, &s);
	return s.other_owner ? -EPERM : 0;
}

/*
 * The checks of vfio_df_ioctl_bind_iommufd() and vfio_df_open(), in order.
 * Return 0 with the iommufd's record in *@xf, or -errno.
 */
static long bind_check(struct mock_devfile *df, const struct vfio_device_bind_iommufd *bind,
		       struct mock_fd **xf)
{
	struct mock_device *dev = df->dev;

	if (bind->argsz < offsetofend(struct vfio_device_bind_iommufd, out_devid) ||
	    bind->flags || bind->iommufd < 0)
		return -EINVAL;
	if (df->group)
		return -EINVAL;		/* only for cdev fds */
	/* vfio_device_block_group(): the group node is open. */
	if (mock_group_find(mock_sysfs_group(dev->bdf)))
		return -EBUSY;
	if (df->granted)
		return -EINVAL;		/* bound twice */
	if (fcntl(bind->iommufd, F_GETFD) < 0)
		return -EBADF;
	*xf = mock_fd_get(bind->iommufd);
	if (!*xf || (*xf)->kind != MOCK_IOMMUFD)
		return -EBADFD;
	/* A cdev open must be the device's only one. */
	if (dev->open_count)
		return -EINVAL;
	return claim_dma_owner(dev, (*xf)->ictx);
}

static long cdev_bind(struct mock_fd *f, void *arg)
{
	struct vfio_device_bind_iommufd bind;
	struct mock_devfile *df = &f->devfile;
	struct mock_device *dev = df->dev;
	struct fake_dev_desc d;
	struct mock_fd *xf = NULL;
	struct mock_ioas *o;
	long ret;

	memcpy(&bind, arg, offsetofend(struct vfio_device_bind_iommufd, out_devid));
	ret = bind_check(df, &bind, &xf);
	if (ret)
		return ret;
	o = object_new(xf->ictx, true);
	if (!o)
		return -ENOMEM;
	xf->ictx->refs++;
	dev->ictx = xf->ictx;
	dev->devid = o->id;
	dev->cdev_bound = true;
	dev->open_count = 1;
	df->granted = true;
	mock_device_first_open(dev, f->fd);
	if (!mock_read_desc(dev->bdf, &d) && d.can_reset)
		mock_note_reset(dev, MOCK_RESET_OPEN);
	((struct vfio_device_bind_iommufd *)arg)->out_devid = o->id;
	return 0;
}

/* An IOAS with mappings where the device's IOMMU forbids them is refused. */
static bool maps_fit_device(const struct mock_ioas *o)
{
	for (const struct mock_map *m = o->maps; m; m = m->next)
		if (!mock_iova_allowed(m->iova, m->size))
			return false;
	return true;
}

static long cdev_attach(struct mock_fd *f, void *arg)
{
	struct vfio_device_attach_iommufd_pt attach;
	size_t minsz = offsetofend(struct vfio_device_attach_iommufd_pt, pt_id);
	struct mock_devfile *df = &f->devfile;
	struct mock_ioas *o;

	memcpy(&attach, arg, minsz);
	if (attach.argsz < minsz || attach.flags & ~ATTACH_PASID)
		return -EINVAL;
	if (attach.flags & ATTACH_PASID)
		return -EOPNOTSUPP;	/* vfio-pci has no pasid_attach_ioas */
	o = object_find(df->dev->ictx, attach.pt_id);
	if (!o)
		return -ENOENT;
	if (o->is_device)
		return -EINVAL;
	if (o == df->ioas)
		return 0;
	if (!maps_fit_device(o))
		return -EADDRINUSE;	/* iopt_table_enforce_dev_resv_regions() */
	/* Attached elsewhere: the kernel replaces the domain. */
	if (df->ioas)
		df->ioas->users--;
	o->users++;
	df->ioas = o;
	return 0;
}

static long cdev_detach(struct mock_fd *f, void *arg)
{
	struct vfio_device_detach_iommufd_pt detach;
	size_t minsz = offsetofend(struct vfio_device_detach_iommufd_pt, flags);
	struct mock_devfile *df = &f->devfile;

	memcpy(&detach, arg, minsz);
	if (detach.argsz < minsz || detach.flags & ~ATTACH_PASID)
		return -EINVAL;
	if (detach.flags & ATTACH_PASID)
		return -EOPNOTSUPP;
	if (df->ioas) {
		df->ioas->users--;
		df->ioas = NULL;
	}
	return 0;
}

long mock_cdev_ioctl(struct mock_fd *f, unsigned long req, void *arg)
{
	switch (req) {
	case VFIO_DEVICE_BIND_IOMMUFD:
		return cdev_bind(f, arg);
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
		return cdev_attach(f, arg);
	case VFIO_DEVICE_DETACH_IOMMUFD_PT:
		return cdev_detach(f, arg);
	default:
		return -ENOTTY;
	}
}

/* vfio_df_unbind_iommufd(): detach, drop the device id and the context. */
void mock_cdev_release(struct mock_devfile *df)
{
	struct mock_device *dev = df->dev;
	struct mock_ictx *x = dev->ictx;
	struct mock_ioas *o;

	if (df->ioas) {
		df->ioas->users--;
		df->ioas = NULL;
	}
	o = x ? object_find(x, dev->devid) : NULL;
	if (o)
		object_free(x, o);
	dev->cdev_bound = false;
	dev->ictx = NULL;
	dev->devid = 0;
	dev->open_count--;
	if (x)
		mock_ictx_put(x);
}
