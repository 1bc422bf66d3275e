// SPDX-License-Identifier: MIT
/*
 * Virtual address -> DMA mapping, for fpgactl_dma_iova() on the data path.
 *
 * A two-level table indexed by the 2 MiB slot of a user-space address
 * (47 bits of VA: 26 bits of slot number, 13 + 13).  Every buffer starts on
 * a slot boundary, so a slot belongs to at most one buffer and a lookup is
 * two dependent loads and a bounds check.  Leaves are allocated on first use
 * and published with release stores; they live until the table is destroyed,
 * so a reader never sees a freed leaf.  Writers are serialised by the
 * context's lock.
 */
#include <stdlib.h>

#include "internal.h"

#define VA_BITS 47
#define LEAF_BITS 13
#define SLOT_BITS (VA_BITS - DMA_TABLE_SLOT_SHIFT)
#define TOP_BITS (SLOT_BITS - LEAF_BITS)

struct dma_leaf {
	const struct dma_mapping *slot[1u << LEAF_BITS];
};

struct dma_table {
	struct dma_leaf *leaf[1u << TOP_BITS];
};

struct dma_table *dma_table_create(void)
{
	return calloc(1, sizeof(struct dma_table));
}

void dma_table_destroy(struct dma_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(t->leaf); i++)
		free(t->leaf[i]);
	free(t);
}

static const struct dma_mapping **slot_ref(struct dma_table *t, uint64_t slot,
					   bool create)
{
	uint64_t top = slot >> LEAF_BITS;
	struct dma_leaf *leaf;

	if (top >= ARRAY_SIZE(t->leaf))
		return NULL;
	leaf = t->leaf[top];
	if (!leaf && create) {
		leaf = calloc(1, sizeof(*leaf));
		if (!leaf)
			return NULL;
		__atomic_store_n(&t->leaf[top], leaf, __ATOMIC_RELEASE);
	}
	return leaf ? &leaf->slot[slot & ((1u << LEAF_BITS) - 1)] : NULL;
}

static void slot_range(const struct dma_mapping *m, uint64_t *first, uint64_t *last)
{
	*first = m->vaddr >> DMA_TABLE_SLOT_SHIFT;
	*last = (m->vaddr + m->size - 1) >> DMA_TABLE_SLOT_SHIFT;
}

int dma_table_insert(struct dma_table *t, const struct dma_mapping *m)
{
	uint64_t first, last;

	if (dma_table_conflict(t, m->vaddr, m->size, m))
		return -EBUSY;
	slot_range(m, &first, &last);
	for (uint64_t s = first; s <= last; s++) {
		const struct dma_mapping **ref = slot_ref(t, s, true);

		if (!ref) {
			dma_table_remove(t, m);
			return -ENOMEM;
		}
		__atomic_store_n(ref, m, __ATOMIC_RELEASE);
	}
	return 0;
}

void dma_table_remove(struct dma_table *t, const struct dma_mapping *m)
{
	uint64_t first, last;

	slot_range(m, &first, &last);
	for (uint64_t s = first; s <= last; s++) {
		const struct dma_mapping **ref = slot_ref(t, s, false);

		if (ref && *ref == m)
			__atomic_store_n(ref, NULL, __ATOMIC_RELEASE);
	}
}

const struct dma_mapping *dma_table_lookup(const struct dma_table *t, uintptr_t va)
{
	uint64_t slot = va >> DMA_TABLE_SLOT_SHIFT;
	uint64_t top = slot >> LEAF_BITS;
	const struct dma_leaf *leaf;

	if (top >= ARRAY_SIZE(t->leaf))
		return NULL;
	leaf = __atomic_load_n(&t->leaf[top], __ATOMIC_ACQUIRE);
	if (!leaf)
		return NULL;
	return __atomic_load_n(&leaf->slot[slot & ((1u << LEAF_BITS) - 1)],
			       __ATOMIC_ACQUIRE);
}

const struct dma_mapping *dma_table_conflict(const struct dma_table *t, uintptr_t va,
					     uint64_t size, const struct dma_mapping *m)
{
	uint64_t first = va >> DMA_TABLE_SLOT_SHIFT;
	uint64_t last = (va + size - 1) >> DMA_TABLE_SLOT_SHIFT;

	for (uint64_t s = first; s <= last; s++) {
		const struct dma_mapping *o = dma_table_lookup(t, s << DMA_TABLE_SLOT_SHIFT);

		if (o && o != m)
			return o;
	}
	return NULL;
}
