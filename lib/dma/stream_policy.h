/* SPDX-License-Identifier: MIT */
#ifndef FPGACTL_DMA_STREAM_POLICY_H
#define FPGACTL_DMA_STREAM_POLICY_H

/*
 * Which way each request of a whole-file transfer goes (lib/dma/stream.c):
 * pure functions of what mincore() said, so that they can be tested
 * without a disk or a clock.
 */
#include <stdbool.h>
#include <stddef.h>

/*
 * Fewest pages of a cached run that mode AUTO reads through the page cache
 * on its own: shorter runs go to the storage with their neighbours, so that
 * a scattering of cached pages does not cut the reads into small requests.
 */
#define STREAM_MIN_CACHED_RUN 64	/* pages: 256 KiB of 4 KiB pages */

size_t stream_pick_read(const unsigned char *vec, size_t pages, size_t min_run,
			bool split, bool *cached);

#endif
