// SPDX-License-Identifier: MIT
/*
 * DMA buffers: backing memory (hugepage.c), an IOVA from the context's
 * allocator (iova.c), the IOMMU mapping (the backend), and the lookup table
 * for the data path (dma_table.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "core/core.h"
#include "iommu/iommu.h"
#include "vfio/vfio.h"
#include "dma/dma.h"

/* IOVAs below this are never handed out: a zero IOVA from a confused device
 * then faults instead of hitting a buffer. */
#define IOVA_LOW_RESERVE ((uint64_t)1 << 20)

/* The largest DMA buffer size a caller may ask for; see fpgactl_dma_alloc(). */
#define DMA_SIZE_MAX (SIZE_MAX - FPGACTL_PAGE_1G)

/*
 * Bytes this process has mapped for DMA; what the kernel charges against
 * RLIMIT_MEMLOCK depends on the backend (lib/dma/memlock.c).
 */
static uint64_t dma_locked_bytes;

struct dma_buf_priv {
	struct fpgactl_dma_buf pub;	/* first: the public handle */
	struct fpgactl_iommu *iommu;
	struct dma_backing backing;
	struct dma_mapping map;
	bool adopted;		/* dma_buf_adopt(): another process's mapping */
};

static struct dma_buf_priv *to_priv(struct fpgactl_dma_buf *buf)
{
	return (struct dma_buf_priv *)buf;
}

/* One line naming the limit, the need, who is charged and the fix. */
static void explain_memlock(enum fpgactl_iommu_backend backend, uint64_t limit,
			    uint64_t used, size_t size)
{
	unsigned long long need_kib = (unsigned long long)((used + size + 1023) >> 10);

	if (backend == FPGACTL_IOMMU_IOMMUFD)
		log_err("RLIMIT_MEMLOCK is %llu KiB but DMA needs %llu KiB locked: "
			"iommufd charges pinned memory to the user (uid %u), whose "
			"processes already pin about %llu KiB (VmPin), plus %zu KiB "
			"for this buffer; raise it with 'ulimit -l %llu' in every "
			"process of the user (or memlock in /etc/security/limits.conf, "
			"LimitMEMLOCK= for a systemd service), free the others' pins, "
			"or run with CAP_IPC_LOCK",
			(unsigned long long)(limit >> 10), need_kib, (unsigned)getuid(),
			(unsigned long long)(used >> 10), size >> 10, need_kib);
	else
		log_err("RLIMIT_MEMLOCK is %llu KiB but DMA needs %llu KiB locked "
			"(%llu KiB mapped + %zu KiB for this buffer): raise it with "
			"'ulimit -l %llu' (or memlock in /etc/security/limits.conf, "
			"LimitMEMLOCK= for a systemd service), or run with CAP_IPC_LOCK",
			(unsigned long long)(limit >> 10), need_kib,
			(unsigned long long)(used >> 10), size >> 10, need_kib);
}

/* Will the kernel accept @size more pinned bytes for this context? */
static int check_memlock(struct fpgactl_iommu *iommu, size_t size)
{
	enum fpgactl_iommu_backend backend = iommu->backend->id;
	uint64_t limit, used;

	if (iommu->backend->imported)
		return share_refuse_map();
	if (backend != FPGACTL_IOMMU_LEGACY && backend != FPGACTL_IOMMU_IOMMUFD)
		return 0;	/* the model pins nothing */
	limit = memlock_limit();
	if (limit == UINT64_MAX)
		return 0;
	used = memlock_used(backend, __atomic_load_n(&dma_locked_bytes, __ATOMIC_RELAXED));
	if (used + size <= limit)
		return 0;
	explain_memlock(backend, limit, used, size);
	return -EDQUOT;
}

/* (Re)build the allocator from the kernel's ranges; keep live mappings. */
static int iova_prepare(struct fpgactl_iommu *iommu, int64_t *avail)
{
	struct iova_range *ranges = NULL;
	size_t n = 0;
	int ret = iommu->backend->dma_info(iommu, &ranges, &n, avail);

	if (ret)
		return ret;
	if (iommu->iova_ready && !iommu->iova_stale) {
		free(ranges);
		return 0;
	}
	if (iommu->iova_ready)
		iova_destroy(&iommu->iova);
	ret = iova_init(&iommu->iova, ranges, n);
	free(ranges);
	if (ret)
		return ret;
	iova_reserve(&iommu->iova, 0, IOVA_LOW_RESERVE);	/* if usable */
	for (size_t i = 0; i < iommu->nr_maps; i++)
		iova_reserve(&iommu->iova, iommu->maps[i]->iova, iommu->maps[i]->size);
	iommu->iova_ready = true;
	iommu->iova_stale = false;
	return 0;
}

static int track_mapping(struct fpgactl_iommu *iommu, struct dma_mapping *m)
{
	void *p = realloc(iommu->maps, (iommu->nr_maps + 1) * sizeof(*iommu->maps));

	if (!p)
		return -ENOMEM;
	iommu->maps = p;
	if (!iommu->table) {
		struct dma_table *t = dma_table_create();

		if (!t)
			return -ENOMEM;
		iommu->table_destroy = dma_table_destroy;
		/* Lookups read it without the lock (fpgactl_dma_iova()). */
		__atomic_store_n(&iommu->table, t, __ATOMIC_RELEASE);
	}
	int ret = dma_table_insert(iommu->table, m);

	if (!ret)
		iommu->maps[iommu->nr_maps++] = m;
	return ret;
}

static void untrack_mapping(struct fpgactl_iommu *iommu, struct dma_mapping *m)
{
	for (size_t i = 0; i < iommu->nr_maps; i++) {
		if (iommu->maps[i] == m) {
			iommu->maps[i] = iommu->maps[--iommu->nr_maps];
			break;
		}
	}
}

/*
 * The smallest unit a mapping can have: the host's page and the IOMMU's
 * smallest page (type1 iova_pgsizes, iommufd out_iova_alignment; 64 KiB on
 * some arm64 SMMUs), whichever is larger.  Needs iova_prepare() first.
 */
static size_t dma_granule(const struct fpgactl_iommu *iommu)
{
	size_t host = (size_t)sysconf(_SC_PAGESIZE);

	/* A power of two no larger than a hugepage; else ignore it. */
	if (iommu->min_pgsize > host && iommu->min_pgsize <= FPGACTL_PAGE_1G &&
	    !(iommu->min_pgsize & (iommu->min_pgsize - 1)))
		return (size_t)iommu->min_pgsize;
	return host;
}

/* IOVA alignment of a buffer backed by @page_size pages. */
static uint64_t dma_align(const struct fpgactl_iommu *iommu, size_t page_size)
{
	size_t granule = dma_granule(iommu);

	return page_size > granule ? page_size : granule;
}

static int iova_for(struct fpgactl_device *dev, struct dma_buf_priv *b)
{
	struct fpgactl_iommu *iommu = dev->iommu;
	uint64_t size = b->backing.len;
	int64_t avail;
	int ret = iova_prepare(iommu, &avail);

	if (ret)
		return ret;
	if (avail == 0) {
		log_err("%s: the IOMMU allows no more DMA mappings (%zu made by "
			"this context): use fewer, larger buffers or a pool, or "
			"raise vfio_iommu_type1's dma_entry_limit", dev->bdf,
			iommu->nr_maps);
		return -E2BIG;
	}
	ret = iova_alloc(&iommu->iova, size, dma_align(iommu, b->backing.page_size),
			 dev->dma_limit, &b->map.iova);
	if (ret == -ENOSPC)
		log_err("%s: no room for %llu KiB of IOVA space below the device's "
			"DMA limit 0x%llx: free buffers, or use a wider DMA mask if "
			"the device supports one", dev->bdf,
			(unsigned long long)(size >> 10),
			(unsigned long long)dev->dma_limit);
	return ret;
}

static int dma_map_locked(struct fpgactl_device *dev, struct dma_buf_priv *b)
{
	struct fpgactl_iommu *iommu = dev->iommu;
	int ret = iova_for(dev, b);

	if (ret)
		return ret;
	b->map.vaddr = (uintptr_t)b->backing.vaddr;
	b->map.size = b->backing.len;
	ret = iommu->backend->map(iommu, b->backing.vaddr, b->map.iova, b->map.size);
	if (!ret) {
		ret = track_mapping(iommu, &b->map);
		if (ret && iommu->backend->unmap(iommu, b->map.iova, b->map.size)) {
			/* Still mapped: the device may reach this memory and
			 * this IOVA range, so neither is ever reused. */
			log_err("DMA buffer at IOVA 0x%llx could not be unmapped "
				"after a failed set-up; its memory is leaked on "
				"purpose", (unsigned long long)b->map.iova);
			b->backing.vaddr = NULL;
			return ret;
		}
	}
	if (ret)
		iova_free(&iommu->iova, b->map.iova, b->map.size);
	return ret;
}

static int resolve_opts(struct fpgactl_device *dev, const struct fpgactl_dma_opts *opts,
			size_t *page_size, int *node, unsigned int *flags)
{
	*page_size = opts && opts->page_size ? opts->page_size : FPGACTL_PAGE_2M;
	*flags = opts ? opts->flags : 0;
	*node = (*flags & FPGACTL_DMA_NODE) ? opts->node : dev->numa_node;
	if (*page_size != FPGACTL_PAGE_4K && *page_size != FPGACTL_PAGE_2M &&
	    *page_size != FPGACTL_PAGE_1G) {
		log_err("%s: DMA page size %zu: use 4 KiB, 2 MiB or 1 GiB", dev->bdf,
			*page_size);
		return -EINVAL;
	}
	return 0;
}

static void check_placement(struct fpgactl_device *dev, struct dma_buf_priv *b,
			    int node, unsigned int flags, int *err)
{
	if (node < 0 || b->backing.node == node)
		return;
	if (b->backing.node < 0 && !(flags & FPGACTL_DMA_STRICT_NODE)) {
		log_debug("%s: the DMA buffer's NUMA placement could not be "
			  "verified", dev->bdf);
		return;
	}
	if (flags & FPGACTL_DMA_STRICT_NODE) {
		log_err("%s: DMA buffer landed on NUMA node %d, not %d", dev->bdf,
			b->backing.node, node);
		*err = -ENOMEM;
	} else {
		log_warn("%s: DMA buffer landed on NUMA node %d, not %d: DMA "
			 "crosses the interconnect", dev->bdf, b->backing.node, node);
	}
}

/*
 * A buffer mapped in @iommu becomes the caller's: holding a reference to
 * the context, its public part filled in.  Every buffer ends here: the
 * library's own and the caller's mapped memory through dma_buf_publish(),
 * a shared one through dma_buf_adopt().
 */
static struct fpgactl_dma_buf *dma_buf_hand_out(struct fpgactl_iommu *iommu,
						 struct dma_buf_priv *b)
{
	iommu_get(iommu);
	b->iommu = iommu;
	b->pub = (struct fpgactl_dma_buf){
		.vaddr = b->backing.vaddr, .iova = b->map.iova, .size = b->backing.len,
		.page_size = b->backing.page_size, .node = b->backing.node };
	return &b->pub;
}

/* A buffer this process pinned for @dev: counted as locked, then handed out. */
static struct fpgactl_dma_buf *dma_buf_publish(struct fpgactl_device *dev,
						struct dma_buf_priv *b)
{
	__atomic_add_fetch(&dma_locked_bytes, b->backing.len, __ATOMIC_RELAXED);
	return dma_buf_hand_out(dev->iommu, b);
}

FPGACTL_EXPORT struct fpgactl_dma_buf *
fpgactl_dma_alloc(struct fpgactl_device *dev, size_t size,
		  const struct fpgactl_dma_opts *opts, int *err)
{
	struct dma_buf_priv *b = NULL;
	size_t page_size, granule;
	unsigned int flags;
	int64_t avail;
	int node, ret;

	ret = resolve_opts(dev, opts, &page_size, &node, &flags);
	/*
	 * Rounding up to a page, a hugepage or a lookup-table slot must not
	 * wrap: no size within 1 GiB of SIZE_MAX (nothing that large can be
	 * mapped anyway).
	 */
	if (!ret && (!size || size > DMA_SIZE_MAX)) {
		log_err("%s: DMA buffer size %zu is out of range (1 to %zu bytes)",
			dev->bdf, size, (size_t)DMA_SIZE_MAX);
		ret = -EINVAL;
	}
	if (ret)
		goto fail;
	/* Charged at the hugepage size even if 4 KiB pages end up used. */
	ret = check_memlock(dev->iommu, (size + page_size - 1) & ~(page_size - 1));
	if (ret)
		goto fail;
	pthread_mutex_lock(&dev->iommu->lock);
	ret = iova_prepare(dev->iommu, &avail);
	granule = dma_granule(dev->iommu);
	pthread_mutex_unlock(&dev->iommu->lock);
	if (ret)
		goto fail;
	b = calloc(1, sizeof(*b));
	if (!b) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = backing_alloc(size, page_size, granule, node, flags, &b->backing);
	if (ret)
		goto fail;
	check_placement(dev, b, node, flags, &ret);
	if (!ret) {
		pthread_mutex_lock(&dev->iommu->lock);
		ret = dma_map_locked(dev, b);
		pthread_mutex_unlock(&dev->iommu->lock);
	}
	if (ret) {
		backing_free(&b->backing);
		goto fail;
	}
	return dma_buf_publish(dev, b);
fail:
	free(b);
	if (err)
		*err = ret;
	return NULL;
}

FPGACTL_EXPORT void fpgactl_dma_free(struct fpgactl_dma_buf *buf)
{
	struct dma_buf_priv *b;
	struct fpgactl_iommu *iommu;
	int ret;

	if (!buf)
		return;
	b = to_priv(buf);
	iommu = b->iommu;
	pthread_mutex_lock(&iommu->lock);
	dma_table_remove(iommu->table, &b->map);
	ret = iommu->backend->unmap(iommu, b->map.iova, b->map.size);
	/* Still mapped on failure: it stays in iommu->maps, so that its IOVA
	 * range is never handed out again, even when the allocator's ranges
	 * are rebuilt for another device. */
	if (!ret) {
		untrack_mapping(iommu, &b->map);
		if (!b->adopted)
			iova_free(&iommu->iova, b->map.iova, b->map.size);
	}
	pthread_mutex_unlock(&iommu->lock);
	if (ret) {
		/* The device may still reach this memory: never reuse it. */
		log_err("DMA buffer at IOVA 0x%llx could not be unmapped; its "
			"memory is leaked on purpose", (unsigned long long)b->map.iova);
	} else {
		if (!b->adopted)
			__atomic_sub_fetch(&dma_locked_bytes, b->backing.len,
					   __ATOMIC_RELAXED);
		backing_free(&b->backing);
		free(b);
	}
	fpgactl_iommu_close(iommu);
}

FPGACTL_EXPORT int fpgactl_dma_iova(const struct fpgactl_iommu *iommu, const void *p,
				    size_t len, uint64_t *iova)
{
	uintptr_t va = (uintptr_t)p;
	const struct dma_mapping *m;
	const struct dma_table *t = __atomic_load_n(&iommu->table, __ATOMIC_ACQUIRE);

	if (!t)
		return -EFAULT;
	m = dma_table_lookup(t, va);
	if (!len)
		len = 1;
	if (!m || va < m->vaddr || len > m->size || va - m->vaddr > m->size - len)
		return -EFAULT;
	*iova = m->iova + (va - m->vaddr);
	return 0;
}

FPGACTL_EXPORT int fpgactl_device_set_dma_mask(struct fpgactl_device *dev,
					       unsigned int bits)
{
	if (bits < 12 || bits > 64) {
		log_err("%s: DMA mask of %u bits: use 12 to 64", dev->bdf, bits);
		return -EINVAL;
	}
	dev->dma_limit = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
	return 0;
}

static void plan_iova(struct fpgactl_device *dev, struct fpgactl_dma_plan *plan)
{
	const struct iova_allocator *a = &dev->iommu->iova;

	plan->iova_first = UINT64_MAX;
	plan->iova_last = 0;
	for (size_t i = 0; i < a->nr && a->free[i].start <= dev->dma_limit; i++) {
		uint64_t last = a->free[i].last < dev->dma_limit ? a->free[i].last
								  : dev->dma_limit;

		if (plan->iova_first == UINT64_MAX)
			plan->iova_first = a->free[i].start;
		plan->iova_last = last;
		plan->iova_free += last - a->free[i].start + 1;
	}
}

FPGACTL_EXPORT int fpgactl_dma_get_plan(struct fpgactl_device *dev,
					const struct fpgactl_dma_opts *opts,
					struct fpgactl_dma_plan *plan)
{
	unsigned int flags;
	int ret;

	memset(plan, 0, sizeof(*plan));
	ret = resolve_opts(dev, opts, &plan->page_size, &plan->node, &flags);
	if (ret)
		return ret;
	pthread_mutex_lock(&dev->iommu->lock);
	ret = iova_prepare(dev->iommu, &plan->mappings_avail);
	if (!ret)
		plan_iova(dev, plan);
	pthread_mutex_unlock(&dev->iommu->lock);
	if (ret)
		return ret;
	plan->memlock_limit = memlock_limit();
	plan->memlock_used = memlock_used(dev->iommu->backend->id,
					  __atomic_load_n(&dma_locked_bytes,
							  __ATOMIC_RELAXED));
	plan->hugepages_free = plan->page_size == FPGACTL_PAGE_4K ? 0 :
			       hugepages_free(plan->page_size, plan->node);
	backing_describe(plan->page_size, plan->backing, sizeof(plan->backing));
	return 0;
}

bool dma_buf_is_borrowed(const struct fpgactl_dma_buf *buf)
{
	return ((const struct dma_buf_priv *)buf)->backing.borrowed;
}

/* Like fpgactl_dma_alloc() from the memlock check on, for memory the
 * application owns: nothing to back, and nothing to free on failure. */
struct fpgactl_dma_buf *dma_buf_map_borrowed(struct fpgactl_device *dev,
					     const struct dma_backing *bk, int *err)
{
	struct dma_buf_priv *b = calloc(1, sizeof(*b));
	int ret = b ? check_memlock(dev->iommu, bk->len) : -ENOMEM;

	if (ret)
		goto fail;
	b->backing = *bk;
	pthread_mutex_lock(&dev->iommu->lock);
	/* Before the kernel is asked: the table takes one buffer per slot. */
	if (dev->iommu->table && dma_table_conflict(dev->iommu->table,
						    (uintptr_t)bk->vaddr, bk->len, NULL))
		ret = -EBUSY;
	else
		ret = dma_map_locked(dev, b);
	pthread_mutex_unlock(&dev->iommu->lock);
	if (ret)
		goto fail;
	return dma_buf_publish(dev, b);
fail:
	free(b);
	*err = ret;
	return NULL;
}

const struct dma_backing *dma_buf_backing(const struct fpgactl_dma_buf *buf)
{
	return &((const struct dma_buf_priv *)buf)->backing;
}

struct fpgactl_iommu *dma_buf_iommu(const struct fpgactl_dma_buf *buf)
{
	return ((const struct dma_buf_priv *)buf)->iommu;
}

/* The exporter pinned and charged the memory: nothing is charged here. */
struct fpgactl_dma_buf *dma_buf_adopt(struct fpgactl_iommu *iommu,
				      const struct dma_backing *bk, uint64_t iova,
				      int *err)
{
	struct dma_buf_priv *b = calloc(1, sizeof(*b));
	int ret = b ? 0 : -ENOMEM;

	if (ret)
		goto fail;
	b->backing = *bk;
	b->adopted = true;
	b->map = (struct dma_mapping){ .vaddr = (uintptr_t)bk->vaddr, .iova = iova,
				       .size = bk->len };
	pthread_mutex_lock(&iommu->lock);
	ret = track_mapping(iommu, &b->map);
	pthread_mutex_unlock(&iommu->lock);
	if (ret) {
		log_err("cannot enter a shared DMA buffer at IOVA 0x%llx in the "
			"lookup table: %s", (unsigned long long)iova, strerror(-ret));
		goto fail;
	}
	return dma_buf_hand_out(iommu, b);
fail:
	free(b);
	*err = ret;
	return NULL;
}
