/* SPDX-License-Identifier: MIT */
/*
 * Options shared by the DMA commands (dma-plan, dma-test, bench): page size,
 * NUMA node, DMA mask, sizes and round counts, all checked before anything
 * is opened.
 */
#ifndef FPGACTL_TOOL_DMA_ARGS_H
#define FPGACTL_TOOL_DMA_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include <fpgactl.h>

#include "commands.h"

/* Highest NUMA node number accepted by --node (the kernel's MAX_NUMNODES). */
#define MAX_NODE_ARG 1023

/**
 * parse_dma_opts() - --page-size, --node and --small-pages
 * @inv: the invocation
 * @opts: receives the options for fpgactl_dma_alloc(); --page-size 4k also
 *	sets FPGACTL_DMA_ALLOW_SMALL_PAGES (asking for 4 KiB pages is allowing them)
 *
 * Return: STATUS_OK, or STATUS_USAGE after one error line.
 */
int parse_dma_opts(const struct invocation *inv, struct fpgactl_dma_opts *opts);

/**
 * parse_dma_bits() - --dma-bits, 12..64
 * @inv: the invocation
 * @fallback: value when the option is absent
 * @bits: receives the value
 *
 * Return: STATUS_OK or STATUS_USAGE.
 */
int parse_dma_bits(const struct invocation *inv, unsigned int fallback,
		   unsigned int *bits);

/**
 * parse_size_option() - --size, at least 1
 * @inv: the invocation
 * @fallback: value when the option is absent
 * @max: largest accepted value
 * @size: receives the value
 *
 * Return: STATUS_OK or STATUS_USAGE.
 */
int parse_size_option(const struct invocation *inv, uint64_t fallback,
		      uint64_t max, uint64_t *size);

/**
 * parse_rounds_option() - --rounds, 1..@max
 * @inv: the invocation
 * @fallback: value when the option is absent
 * @max: largest accepted value
 * @rounds: receives the value
 *
 * Return: STATUS_OK or STATUS_USAGE.
 */
int parse_rounds_option(const struct invocation *inv, uint64_t fallback,
			uint64_t max, uint64_t *rounds);

/* "2 MiB" for a page size. */
void page_size_text(char *buf, size_t size, size_t page_size);

/* Seconds of CLOCK_MONOTONIC. */
double now_seconds(void);

#endif
