// SPDX-License-Identifier: MIT
/*
 * Virtual address -> DMA mapping, for fpgactl_dma_iova() on the data path.
 *
 * A three-level table indexed by the 2 MiB slot of a user-space address.
 * It covers the architecture's widest user address space (DMA_TABLE_VA_BITS:
 * 52 bits on arm64, whose kernels hand out addresses just below 2^48 with
 * 48-bit VA and up to 2^52 with 52-bit VA; 57 bits on x86-64 with 5-level
 * paging), split as top, 13 bits of middle and 13 bits of leaf.  Every
 * buffer starts on a slot boundary, so a slot belongs to at most one buffer
 * and a lookup is three dependent loads and a bounds check.  Middle nodes
 * and leaves are allocated on first use and published with release stores;
 * they live until the table is destroyed, so a reader never sees a freed
 * one.  Writers are serialised by the context's lock.
 */
#include <stdlib.h>

#include "core/core.h"
#include "iommu/iommu.h"
#include "dma/dma.h"

#define LEAF_BITS 13
#define MID_BITS 13
#define SLOT_BITS (DMA_TABLE_VA_BITS - DMA_TABLE_SLOT_SHIFT)
#define TOP_BITS (SLOT_BITS - MID_BITS - LEAF_BITS)

_Static_assert(TOP_BITS >= 0 && TOP_BITS <= 16,
	       "DMA_TABLE_VA_BITS out of the table's range");

struct dma_leaf {
	const struct dma_mapping *slot[1u << LEAF_BITS];
};

struct dma_mid {
	struct dma_leaf *leaf[1u << MID_BITS];
};

struct dma_table {
	struct dma_mid *mid[1u << TOP_BITS];
};

#define TOP_OF(slot) ((slot) >> (MID_BITS + LEAF_BITS))
#define MID_OF(slot) (((slot) >> LEAF_BITS) & ((1u << MID_BITS) - 1))
#define LEAF_OF(slot) ((slot) & ((1u << LEAF_BITS) - 1))

struct dma_table *dma_table_create(void)
{
	return calloc(1, sizeof(struct dma_table));
}

void dma_table_destroy(struct dma_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(t->mid); i++) {
		struct dma_mid *mid = t->mid[i];

		if (!mid)
			continue;
		for (size_t j = 0; j < ARRAY_SIZE(mid->leaf); j++)
			free(mid->leaf[j]);
		free(mid);
	}
	free(t);
}

/* *@ref, allocated (zeroed) and published when absent and @create is set. */
static void *node_ref(void **ref, size_t size, bool create)
{
	void *node = *ref;

	if (!node && create) {
		node = calloc(1, size);
		if (node)
			__atomic_store_n(ref, node, __ATOMIC_RELEASE);
	}
	return node;
}

static const struct dma_mapping **slot_ref(struct dma_table *t, uint64_t slot,
					   bool create)
{
	struct dma_mid *mid;
	struct dma_leaf *leaf;

	if (TOP_OF(slot) >= ARRAY_SIZE(t->mid))
		return NULL;
	mid = node_ref((void **)&t->mid[TOP_OF(slot)], sizeof(*mid), create);
	if (!mid)
		return NULL;
	leaf = node_ref((void **)&mid->leaf[MID_OF(slot)], sizeof(*leaf), create);
	return leaf ? &leaf->slot[LEAF_OF(slot)] : NULL;
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
	uint64_t slot = (uint64_t)va >> DMA_TABLE_SLOT_SHIFT;
	const struct dma_mid *mid;
	const struct dma_leaf *leaf;

	if (TOP_OF(slot) >= ARRAY_SIZE(t->mid))
		return NULL;
	mid = __atomic_load_n(&t->mid[TOP_OF(slot)], __ATOMIC_ACQUIRE);
	if (!mid)
		return NULL;
	leaf = __atomic_load_n(&mid->leaf[MID_OF(slot)], __ATOMIC_ACQUIRE);
	if (!leaf)
		return NULL;
	return __atomic_load_n(&leaf->slot[LEAF_OF(slot)], __ATOMIC_ACQUIRE);
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
