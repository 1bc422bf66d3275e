// SPDX-License-Identifier: MIT
/*
 * Fixed-size DMA objects carved from one buffer: one IOMMU mapping for the
 * lot, O(1) get and put from a stack of free indexes, and a taken-bitmap
 * that turns a double or foreign put into -EINVAL instead of corruption.
 */
#include <stdlib.h>

#include "core/core.h"
#include "vfio/vfio.h"

struct fpgactl_dma_pool {
	struct fpgactl_dma_buf *buf;
	size_t stride;
	uint32_t count;
	uint32_t nr_free;
	uint32_t *free_stack;
	uint64_t *taken;	/* one bit per object */
};

static bool test_and_flip(uint64_t *bits, uint32_t i, bool want_set)
{
	uint64_t bit = (uint64_t)1 << (i % 64);
	bool set = bits[i / 64] & bit;

	if (set == want_set)
		return false;
	bits[i / 64] ^= bit;
	return true;
}

FPGACTL_EXPORT struct fpgactl_dma_pool *
fpgactl_dma_pool_create(struct fpgactl_device *dev, size_t obj_size, uint32_t count,
			size_t align, const struct fpgactl_dma_opts *opts, int *err)
{
	struct fpgactl_dma_pool *pool;
	int ret = -EINVAL;

	if (!obj_size || !count || align < 64 || (align & (align - 1)) ||
	    obj_size > (SIZE_MAX - align) / count) {
		log_err("%s: DMA pool of %u objects of %zu bytes aligned to %zu: "
			"sizes must be non-zero and the alignment a power of two "
			"of at least 64", dev->bdf, count, obj_size, align);
		goto fail;
	}
	ret = -ENOMEM;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		goto fail;
	pool->stride = (obj_size + align - 1) & ~(align - 1);
	pool->count = count;
	pool->free_stack = malloc(count * sizeof(*pool->free_stack));
	pool->taken = calloc((count + 63) / 64, sizeof(*pool->taken));
	if (pool->free_stack && pool->taken)
		pool->buf = fpgactl_dma_alloc(dev, pool->stride * count, opts, &ret);
	if (!pool->buf) {
		fpgactl_dma_pool_destroy(pool);
		goto fail;
	}
	/* Hand out low addresses first. */
	for (uint32_t i = 0; i < count; i++)
		pool->free_stack[i] = count - 1 - i;
	pool->nr_free = count;
	return pool;
fail:
	if (err)
		*err = ret;
	return NULL;
}

FPGACTL_EXPORT void fpgactl_dma_pool_destroy(struct fpgactl_dma_pool *pool)
{
	if (!pool)
		return;
	fpgactl_dma_free(pool->buf);
	free(pool->free_stack);
	free(pool->taken);
	free(pool);
}

FPGACTL_EXPORT void *fpgactl_dma_pool_get(struct fpgactl_dma_pool *pool, uint64_t *iova)
{
	uint32_t i;
	size_t off;

	if (!pool->nr_free)
		return NULL;
	i = pool->free_stack[--pool->nr_free];
	test_and_flip(pool->taken, i, true);
	off = (size_t)i * pool->stride;
	if (iova)
		*iova = pool->buf->iova + off;
	return (uint8_t *)pool->buf->vaddr + off;
}

FPGACTL_EXPORT int fpgactl_dma_pool_put(struct fpgactl_dma_pool *pool, void *obj)
{
	uintptr_t base = (uintptr_t)pool->buf->vaddr, p = (uintptr_t)obj;
	size_t off = p - base;
	uint32_t i;

	if (p < base || off % pool->stride || off / pool->stride >= pool->count)
		return -EINVAL;
	i = (uint32_t)(off / pool->stride);
	if (!test_and_flip(pool->taken, i, false))
		return -EINVAL;
	pool->free_stack[pool->nr_free++] = i;
	return 0;
}

FPGACTL_EXPORT uint32_t fpgactl_dma_pool_available(const struct fpgactl_dma_pool *pool)
{
	return pool->nr_free;
}
