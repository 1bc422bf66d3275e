// SPDX-License-Identifier: MIT
/*
 * The IOVA allocator against a shadow model: a page bitmap of the usable
 * space.  Long random alloc/free sequences check that every allocation is
 * aligned, inside a usable range, below the limit and free in the shadow;
 * that -ENOSPC is returned only when the shadow has no fitting hole; and that
 * freeing restores exactly what was taken.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "iommu/iova.h"

#define PAGE 4096ull
#define SPACE_PAGES 16384ull		/* 64 MiB of address space */
#define MAX_LIVE 256

struct shadow {
	uint8_t usable[SPACE_PAGES];
	uint8_t used[SPACE_PAGES];
};

struct live {
	uint64_t iova, size;
};

static uint64_t rnd(uint64_t n)
{
	return (uint64_t)random() % n;
}

static bool shadow_hole(const struct shadow *s, uint64_t first, uint64_t pages)
{
	if (first + pages > SPACE_PAGES)
		return false;
	for (uint64_t p = first; p < first + pages; p++)
		if (!s->usable[p] || s->used[p])
			return false;
	return true;
}

/* Is there any aligned hole of @pages below @limit in the shadow? */
static bool shadow_fits(const struct shadow *s, uint64_t pages, uint64_t align_pages,
			uint64_t limit)
{
	for (uint64_t p = 0; p + pages <= SPACE_PAGES; p += align_pages)
		if ((p + pages) * PAGE - 1 <= limit && shadow_hole(s, p, pages))
			return true;
	return false;
}

static void shadow_mark(struct shadow *s, uint64_t iova, uint64_t size, uint8_t v)
{
	for (uint64_t p = iova / PAGE; p < (iova + size) / PAGE; p++)
		s->used[p] = v;
}

static void setup_ranges(struct shadow *s, struct iova_range *r, size_t *n)
{
	/* Three usable windows with holes between them, like an x86 IOMMU
	 * with its MSI window carved out. */
	static const struct iova_range windows[] = {
		{ 0x10000, 0x1dfffff },		/* 64 KiB .. 30 MiB */
		{ 0x2000000, 0x2ffffff },	/* 32 .. 48 MiB */
		{ 0x3100000, 0x3ffffff },	/* 49 .. 64 MiB */
	};
	*n = 0;
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < 3; i++) {
		r[(*n)++] = windows[i];
		for (uint64_t p = windows[i].start / PAGE; p <= windows[i].last / PAGE &&
		     p < SPACE_PAGES; p++)
			s->usable[p] = 1;
	}
}

static void check_alloc(struct shadow *s, uint64_t iova, uint64_t size,
			uint64_t align, uint64_t limit)
{
	assert_int_equal(iova % align, 0);
	assert_true(iova + size - 1 <= limit);
	assert_true(shadow_hole(s, iova / PAGE, size / PAGE));
	shadow_mark(s, iova, size, 1);
}

static void run_sequence(unsigned int seed, int steps)
{
	static struct shadow s;
	struct iova_range ranges[3];
	struct live live[MAX_LIVE];
	struct iova_allocator a;
	size_t n, nlive = 0;
	int allocs = 0, nospc = 0;

	srandom(seed);
	setup_ranges(&s, ranges, &n);
	assert_int_equal(iova_init(&a, ranges, n), 0);
	for (int step = 0; step < steps; step++) {
		if (nlive == MAX_LIVE || (nlive && rnd(100) < 45)) {
			size_t k = rnd(nlive);

			assert_int_equal(iova_free(&a, live[k].iova, live[k].size), 0);
			/* Freeing twice is refused. */
			assert_int_equal(iova_free(&a, live[k].iova, live[k].size), -EINVAL);
			shadow_mark(&s, live[k].iova, live[k].size, 0);
			live[k] = live[--nlive];
			continue;
		}
		uint64_t pages = 1 + rnd(rnd(10) ? 64 : 2048);
		uint64_t align = PAGE << rnd(10);
		uint64_t limit = rnd(4) ? SPACE_PAGES * PAGE - 1
					: (1 + rnd(SPACE_PAGES)) * PAGE - 1;
		uint64_t iova;
		int ret = iova_alloc(&a, pages * PAGE, align, limit, &iova);

		if (ret == -ENOSPC) {
			assert_false(shadow_fits(&s, pages, align / PAGE, limit));
			nospc++;
			continue;
		}
		assert_int_equal(ret, 0);
		check_alloc(&s, iova, pages * PAGE, align, limit);
		live[nlive++] = (struct live){ iova, pages * PAGE };
		allocs++;
	}
	/* Free everything: the allocator is back to the usable ranges. */
	while (nlive) {
		nlive--;
		assert_int_equal(iova_free(&a, live[nlive].iova, live[nlive].size), 0);
	}
	assert_int_equal(a.nr, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(a.free[i].start, ranges[i].start);
		assert_int_equal(a.free[i].last, ranges[i].last);
	}
	/* The sequence exercised both outcomes. */
	assert_true(allocs > steps / 4);
	assert_true(nospc > 0);
	iova_destroy(&a);
}

static void test_random_sequences(void **state)
{
	for (unsigned int seed = 1; seed <= 12; seed++)
		run_sequence(seed, 4000);
}

static void test_limit_and_alignment(void **state)
{
	struct iova_range r = { 0x1000, (1ull << 32) - 1 };
	struct iova_allocator a;
	uint64_t iova;

	assert_int_equal(iova_init(&a, &r, 1), 0);
	/* 2 MiB aligned, below a 28-bit mask (edu). */
	assert_int_equal(iova_alloc(&a, 2 << 20, 2 << 20, (1 << 28) - 1, &iova), 0);
	assert_int_equal(iova, 2 << 20);
	/* 256 MiB cannot fit below 256 MiB once anything is taken. */
	assert_int_equal(iova_alloc(&a, 256 << 20, 2 << 20, (1 << 28) - 1, &iova), -ENOSPC);
	assert_int_equal(iova_alloc(&a, 0, 4096, UINT64_MAX, &iova), -EINVAL);
	assert_int_equal(iova_alloc(&a, 4096, 3000, UINT64_MAX, &iova), -EINVAL);
	iova_destroy(&a);
}

static void test_top_of_space(void **state)
{
	struct iova_range r = { 0xfffffffffff00000ull, UINT64_MAX };
	struct iova_allocator a;
	uint64_t iova;

	assert_int_equal(iova_init(&a, &r, 1), 0);
	assert_int_equal(iova_alloc(&a, 0x100000, 0x1000, UINT64_MAX, &iova), 0);
	assert_int_equal(iova, 0xfffffffffff00000ull);
	assert_int_equal(iova_alloc(&a, 0x1000, 0x1000, UINT64_MAX, &iova), -ENOSPC);
	assert_int_equal(iova_free(&a, iova, 0x100000), 0);
	assert_int_equal(a.nr, 1);
	assert_int_equal(a.free[0].last, UINT64_MAX);
	iova_destroy(&a);
}

static void test_reserve(void **state)
{
	struct iova_range r = { 0, 0xffffff };
	struct iova_allocator a;
	uint64_t iova;

	assert_int_equal(iova_init(&a, &r, 1), 0);
	assert_int_equal(iova_reserve(&a, 0, 0x10000), 0);
	assert_int_equal(iova_reserve(&a, 0x8000, 0x1000), -ENOSPC);
	assert_int_equal(iova_alloc(&a, 0x1000, 0x1000, UINT64_MAX, &iova), 0);
	assert_int_equal(iova, 0x10000);
	iova_destroy(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_sequences),
		cmocka_unit_test(test_limit_and_alignment),
		cmocka_unit_test(test_top_of_space),
		cmocka_unit_test(test_reserve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
