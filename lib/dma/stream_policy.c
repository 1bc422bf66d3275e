// SPDX-License-Identifier: MIT
/*
 * The per-request policy of the whole-file transfers (lib/dma/stream.c):
 * how much of a read window goes through the page cache and how much to the
 * storage with O_DIRECT.
 * Why these choices: docs/cli.md (bench stream), measured on the
 * development VM.
 */
#include "stream_policy.h"

/**
 * stream_pick_read() - the next read request of a window, and which way
 * @vec: mincore() of the window's pages (bit 0: in the page cache)
 * @pages: pages in the window, at least 1
 * @min_run: fewest pages of a cached run worth a request of its own (mode
 *	AUTO); 0 counts as 1
 * @split: true (mode AUTO): cut the window where the page cache starts or
 *	stops covering it; false (mode CACHED): the whole window one way
 * @cached: set: true to read through the page cache, false for O_DIRECT
 *
 * A window all in the page cache is read through it whole.  Otherwise,
 * without @split, it goes to the storage whole; with @split, a cached run
 * of at least @min_run pages at its start is read through the cache, and
 * else the storage gets the pages up to the first cached run of at least
 * @min_run pages (shorter cached runs go with them).
 *
 * Return: pages of the request, 1 to @pages.
 */
size_t stream_pick_read(const unsigned char *vec, size_t pages, size_t min_run,
			bool split, bool *cached)
{
	size_t run = 0, i;

	if (!min_run)
		min_run = 1;
	while (run < pages && (vec[run] & 1))
		run++;
	*cached = run == pages || (split && run >= min_run);
	if (*cached)
		return run;
	if (!split)
		return pages;
	for (i = run; i < pages;) {
		size_t j = i;

		while (j < pages && (vec[j] & 1))
			j++;
		if (j - i >= min_run)
			return i;
		i = j + 1;
	}
	return pages;
}
