// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "iova.h"

static int cmp_range(const void *x, const void *y)
{
	const struct iova_range *a = x, *b = y;

	return a->start < b->start ? -1 : a->start > b->start;
}

static int grow(struct iova_allocator *a, size_t need)
{
	size_t cap = a->cap ? a->cap : 8;
	void *p;

	if (need <= a->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	p = realloc(a->free, cap * sizeof(*a->free));
	if (!p)
		return -ENOMEM;
	a->free = p;
	a->cap = cap;
	return 0;
}

/* Merge overlapping or adjacent ranges of the sorted array in place. */
static void coalesce(struct iova_allocator *a)
{
	size_t out = 0;

	for (size_t i = 0; i < a->nr; i++) {
		struct iova_range *prev = out ? &a->free[out - 1] : NULL;

		if (prev && (prev->last == UINT64_MAX || a->free[i].start <= prev->last + 1)) {
			if (a->free[i].last > prev->last)
				prev->last = a->free[i].last;
			continue;
		}
		a->free[out++] = a->free[i];
	}
	a->nr = out;
}

int iova_init(struct iova_allocator *a, const struct iova_range *usable, size_t n)
{
	memset(a, 0, sizeof(*a));
	if (grow(a, n ? n : 1))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (usable[i].start <= usable[i].last)
			a->free[a->nr++] = usable[i];
	qsort(a->free, a->nr, sizeof(*a->free), cmp_range);
	coalesce(a);
	return 0;
}

void iova_destroy(struct iova_allocator *a)
{
	free(a->free);
	memset(a, 0, sizeof(*a));
}

static void remove_at(struct iova_allocator *a, size_t i)
{
	memmove(&a->free[i], &a->free[i + 1], (a->nr - i - 1) * sizeof(*a->free));
	a->nr--;
}

/*
 * Carve [start, last] out of free range @i, which must contain it: the
 * range shrinks, disappears, or splits in two.
 */
static int carve(struct iova_allocator *a, size_t i, uint64_t start, uint64_t last)
{
	struct iova_range r = a->free[i];
	bool keep_low = start > r.start, keep_high = last < r.last;

	if (keep_low && keep_high) {
		if (grow(a, a->nr + 1))
			return -ENOMEM;
		memmove(&a->free[i + 2], &a->free[i + 1],
			(a->nr - i - 1) * sizeof(*a->free));
		a->nr++;
		a->free[i] = (struct iova_range){ r.start, start - 1 };
		a->free[i + 1] = (struct iova_range){ last + 1, r.last };
	} else if (keep_low) {
		a->free[i].last = start - 1;
	} else if (keep_high) {
		a->free[i].start = last + 1;
	} else {
		remove_at(a, i);
	}
	return 0;
}

/* The aligned start of a @size block inside @r at or below @limit, if any. */
static bool fit(const struct iova_range *r, uint64_t size, uint64_t align,
		uint64_t limit, uint64_t *start)
{
	uint64_t s = (r->start + align - 1) & ~(align - 1);
	uint64_t top = r->last < limit ? r->last : limit;

	if (s < r->start || s > top)	/* wrapped, or nothing left */
		return false;
	if (top - s < size - 1)
		return false;
	*start = s;
	return true;
}

int iova_alloc(struct iova_allocator *a, uint64_t size, uint64_t align,
	       uint64_t limit, uint64_t *iova)
{
	uint64_t start;

	if (!size || !align || (align & (align - 1)))
		return -EINVAL;
	for (size_t i = 0; i < a->nr && a->free[i].start <= limit; i++) {
		if (!fit(&a->free[i], size, align, limit, &start))
			continue;
		int ret = carve(a, i, start, start + size - 1);

		if (!ret)
			*iova = start;
		return ret;
	}
	return -ENOSPC;
}

int iova_free(struct iova_allocator *a, uint64_t iova, uint64_t size)
{
	uint64_t last = iova + size - 1;
	size_t i = 0;

	if (!size || last < iova)
		return -EINVAL;
	while (i < a->nr && a->free[i].start <= last)
		i++;
	/* The free range before the slot must end below @iova. */
	if (i && a->free[i - 1].last >= iova)
		return -EINVAL;
	if (grow(a, a->nr + 1))
		return -ENOMEM;
	memmove(&a->free[i + 1], &a->free[i], (a->nr - i) * sizeof(*a->free));
	a->free[i] = (struct iova_range){ iova, last };
	a->nr++;
	coalesce(a);
	return 0;
}

int iova_reserve(struct iova_allocator *a, uint64_t iova, uint64_t size)
{
	uint64_t last = iova + size - 1;

	if (!size || last < iova)
		return -EINVAL;
	for (size_t i = 0; i < a->nr; i++)
		if (a->free[i].start <= iova && a->free[i].last >= last)
			return carve(a, i, iova, last);
	return -ENOSPC;
}
