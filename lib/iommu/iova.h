/* SPDX-License-Identifier: MIT */
/*
 * I/O virtual address allocator: hands out aligned IOVA ranges from the
 * IOMMU's usable ranges, below a caller's addressing limit.
 *
 * Free space is a sorted array of disjoint, non-adjacent inclusive ranges;
 * allocation is first fit from the lowest address, so devices with a narrow
 * DMA mask find room where they can reach.  Not thread-safe: the IOMMU
 * context serialises calls.
 */
#ifndef FPGACTL_IOVA_H
#define FPGACTL_IOVA_H

#include <stddef.h>
#include <stdint.h>

/* An inclusive range [start, last], as the kernel reports them. */
struct iova_range {
	uint64_t start;
	uint64_t last;
};

struct iova_allocator {
	struct iova_range *free;
	size_t nr;
	size_t cap;
};

/*
 * Start with @n usable ranges (any order, may overlap).  Return 0 or
 * -ENOMEM.
 */
int iova_init(struct iova_allocator *a, const struct iova_range *usable, size_t n);
void iova_destroy(struct iova_allocator *a);

/*
 * Allocate @size bytes aligned to @align (a power of two) with the whole
 * range at or below @limit.  Return 0 with *@iova set, -EINVAL for a bad
 * size or alignment, or -ENOSPC when no free range fits.
 */
int iova_alloc(struct iova_allocator *a, uint64_t size, uint64_t align,
	       uint64_t limit, uint64_t *iova);

/*
 * Return [@iova, @iova + @size) to the free space.  Return 0, or -EINVAL
 * when any part of it is already free (a double free) or it is empty.
 */
int iova_free(struct iova_allocator *a, uint64_t iova, uint64_t size);

/* Reserve [@iova, @iova + @size) so it is never handed out (-ENOSPC when
 * part of it is not free). */
int iova_reserve(struct iova_allocator *a, uint64_t iova, uint64_t size);

#endif
