/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the commands that drive the soft-core's data path
 * (load, save, irq-wait, bench wakeup, bench stream): is the device the
 * soft-core, DMA buffers with or without hugepages, a progress bar.
 */
#ifndef FPGACTL_TOOL_SC_UTIL_H
#define FPGACTL_TOOL_SC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <fpgactl.h>

/**
 * check_softcore() - is @dev the soft-core of docs/softcore.md?
 * @cmd: command name for messages
 * @dev: the open device
 * @name: its name as the user gave it, for messages
 * @lmem_size: receives LMEM_SIZE; may be NULL
 *
 * Reads ID, VERSION and LMEM_SIZE with the checked register calls and
 * writes nothing.
 *
 * Return: STATUS_OK; STATUS_USAGE after one line when the device is not the
 * soft-core (another ID, major version or no BAR0); STATUS_FAILED when a
 * register cannot be read.
 */
int check_softcore(const char *cmd, struct fpgactl_device *dev, const char *name,
		   uint32_t *lmem_size);

/**
 * dma_alloc_quiet() - a DMA buffer, with 2 MiB pages when enough are free
 * @dev: device
 * @size: bytes
 * @count: buffers of @size the caller is about to allocate (for the
 *	hugepage count)
 * @err: receives -errno
 *
 * 4 KiB pages (asked for, so no warning) when the kernel has not @count
 * buffers' worth of free 2 MiB hugepages.
 *
 * Return: the buffer or NULL.
 */
struct fpgactl_dma_buf *dma_alloc_quiet(struct fpgactl_device *dev, size_t size,
					unsigned int count, int *err);

/**
 * struct progress - a progress bar on a terminal
 * @label: what is shown before the bar
 * @total: bytes (or units) of the whole operation
 * @bytes: @total counts bytes (shown in MiB)
 * @shown: last permille shown, -1 before the first
 * @enabled: stdout is a terminal
 */
struct progress {
	const char *label;
	uint64_t total;
	bool bytes;
	int shown;
	bool enabled;
};

/* Start a bar of @total bytes, or units (nothing shown off a terminal). */
void progress_start(struct progress *p, const char *label, uint64_t total, bool bytes);
/* Show @done of the total, when it changed by 0.1 % or more. */
void progress_update(struct progress *p, uint64_t done);
/* Erase the bar, so that the next line starts clean. */
void progress_end(struct progress *p);

/**
 * submit_nop() - queue one NOP and ring the doorbell
 * @cmd: command name for messages
 * @q: queue pair
 * @ctx: the NOP's context
 * @timeout_ns: its deadline
 *
 * Return: STATUS_OK, or STATUS_FAILED after one line when the queue is full
 * or dead.
 */
int submit_nop(const char *cmd, struct fpgactl_queue *q, void *ctx, uint64_t timeout_ns);

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t mono_ns(void);

/* "s" unless @n is 1. */
const char *plural(uint64_t n);

#endif
