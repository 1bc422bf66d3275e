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
 * struct sc_caps - what the soft-core's registers say, read with no write
 * @lmem_size: LMEM_SIZE, bytes of local memory
 * @max_depth: CAP.MQES + 1, the deepest queue it takes
 * @nr_queues: CAP.NQ, its queue pairs
 * @max_xfer: MAX_XFER, the largest LENGTH of a command (as read: check it)
 */
struct sc_caps {
	uint32_t lmem_size;
	uint32_t max_depth;
	uint32_t nr_queues;
	uint32_t max_xfer;
};

/**
 * check_softcore() - is @dev the soft-core of docs/softcore.md?
 * @cmd: command name for messages
 * @dev: the open device
 * @name: its name as the user gave it, for messages
 * @caps: receives LMEM_SIZE and CAP; may be NULL
 *
 * Reads ID, VERSION, LMEM_SIZE and CAP with the checked register calls and
 * writes nothing.
 *
 * Return: STATUS_OK; STATUS_USAGE after one line when the device is not the
 * soft-core (another ID, major version or no BAR0); STATUS_FAILED when a
 * register cannot be read.
 */
int check_softcore(const char *cmd, struct fpgactl_device *dev, const char *name,
		   struct sc_caps *caps);

/**
 * open_softcore() - check the device, then bring the soft-core up
 * @cmd: command name for messages
 * @dev: the open device
 * @name: its name as the user gave it, for messages
 * @opts: queue pairs and depth wanted
 * @sc: receives the soft-core
 *
 * check_softcore(), then @opts against CAP, then fpgactl_sc_open(): nothing
 * is written to a device that is not the soft-core or cannot take @opts.
 *
 * Return: STATUS_OK; STATUS_USAGE after one line when the device is not the
 * soft-core or @opts do not fit it; STATUS_FAILED when bring-up fails.
 */
int open_softcore(const char *cmd, struct fpgactl_device *dev, const char *name,
		  const struct fpgactl_sc_opts *opts, struct fpgactl_sc **sc);

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

/* "s" unless @n is 1. */
const char *plural(uint64_t n);

#endif
