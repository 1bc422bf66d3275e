// SPDX-License-Identifier: MIT
/*
 * The VA -> mapping table of lib/dma/dma_table.c at the edges of the user
 * address space.  The table only indexes numbers, so mappings at any VA can
 * be inserted without memory behind them.
 *
 * arm64 with 48-bit VA hands out mmap addresses just below 2^48 (top-down),
 * above the 47 bits of x86-64 user space; a table of 47 bits refused them
 * (-ENOMEM), so every DMA allocation failed there.  These run on every
 * architecture: the table's width is the architecture's widest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include "core/core.h"
#include "iommu/iommu.h"
#include "dma/dma.h"

#define MIB ((uint64_t)1 << 20)

/* Insert a @size-byte mapping at @va, look it up at its first byte, its last
 * byte and one slot past its end, remove it and check it is gone. */
static void round_trip(struct dma_table *t, uint64_t va, uint64_t size)
{
	struct dma_mapping m = { .vaddr = (uintptr_t)va, .iova = 0x10000000, .size = size };

	assert_int_equal(dma_table_insert(t, &m), 0);
	assert_ptr_equal(dma_table_lookup(t, (uintptr_t)va), &m);
	assert_ptr_equal(dma_table_lookup(t, (uintptr_t)(va + size - 1)), &m);
	assert_null(dma_table_lookup(t, (uintptr_t)(va - DMA_TABLE_SLOT)));
	dma_table_remove(t, &m);
	assert_null(dma_table_lookup(t, (uintptr_t)va));
	assert_null(dma_table_lookup(t, (uintptr_t)(va + size - 1)));
}

/* Where arm64's mmap puts buffers with 48-bit VA: the last 2 MiB slot below
 * 2^48, and a 6 MiB buffer ending there. */
static void test_below_2_48(void **state)
{
	struct dma_table *t = dma_table_create();

	assert_non_null(t);
	round_trip(t, ((uint64_t)1 << 48) - 2 * MIB, 2 * MIB);
	round_trip(t, ((uint64_t)1 << 48) - 6 * MIB, 6 * MIB);
	/* x86-64's top of user space still works. */
	round_trip(t, ((uint64_t)1 << 47) - 2 * MIB, 2 * MIB);
	dma_table_destroy(t);
}

/* The top of the widest address space the architecture's kernels offer
 * (arm64 52-bit VA; x86-64 5-level paging), and a buffer crossing 2^48 as
 * one can with a 52-bit address space. */
static void test_top_of_va_bits(void **state)
{
	struct dma_table *t = dma_table_create();
	uint64_t top = (uint64_t)1 << DMA_TABLE_VA_BITS;

	assert_non_null(t);
	assert_true(DMA_TABLE_VA_BITS >= 52);
	round_trip(t, top - 2 * MIB, 2 * MIB);
	round_trip(t, ((uint64_t)1 << 48) - 2 * MIB, 4 * MIB);
	dma_table_destroy(t);
}

/* A mapping above the covered width is refused and leaves nothing behind;
 * lookups there find nothing. */
static void test_above_va_bits(void **state)
{
	struct dma_table *t = dma_table_create();
	uint64_t top = (uint64_t)1 << DMA_TABLE_VA_BITS;
	struct dma_mapping m = { .vaddr = (uintptr_t)(top - 2 * MIB), .size = 4 * MIB };

	assert_non_null(t);
	assert_int_equal(dma_table_insert(t, &m), -ENOMEM);
	assert_null(dma_table_lookup(t, (uintptr_t)(top - 2 * MIB)));
	assert_null(dma_table_lookup(t, (uintptr_t)top));
	assert_null(dma_table_lookup(t, UINTPTR_MAX));
	dma_table_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_below_2_48),
		cmocka_unit_test(test_top_of_va_bits),
		cmocka_unit_test(test_above_va_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
