// SPDX-License-Identifier: MIT
#include "dma_args.h"

#include <inttypes.h>
#include <strings.h>
#include <time.h>

#include "util.h"

static const struct {
	const char *name;
	size_t size;
} page_sizes[] = {
	{ "4k", FPGACTL_PAGE_4K },
	{ "2m", FPGACTL_PAGE_2M },
	{ "1g", FPGACTL_PAGE_1G },
};

static int parse_page_size(const char *cmd, const char *text, size_t *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(page_sizes); i++) {
		if (!strcasecmp(text, page_sizes[i].name)) {
			*out = page_sizes[i].size;
			return STATUS_OK;
		}
	}
	return usage_error(cmd, "page size '%s' is not 4k, 2m or 1g", text);
}

int parse_dma_opts(const struct invocation *inv, struct fpgactl_dma_opts *opts)
{
	const char *cmd = inv->cmd->name;
	uint64_t node;
	int status;

	*opts = (struct fpgactl_dma_opts){ .page_size = FPGACTL_PAGE_2M, .node = -1 };
	if (inv->page_size) {
		status = parse_page_size(cmd, inv->page_size, &opts->page_size);
		if (status)
			return status;
	}
	if (opts->page_size == FPGACTL_PAGE_4K || inv->small_pages)
		opts->flags |= FPGACTL_DMA_ALLOW_SMALL_PAGES;
	if (inv->node) {
		status = parse_number_arg(cmd, "node", inv->node, MAX_NODE_ARG, &node);
		if (status)
			return status;
		opts->node = (int)node;
		opts->flags |= FPGACTL_DMA_NODE;
	}
	return STATUS_OK;
}

int parse_dma_bits(const struct invocation *inv, unsigned int fallback,
		   unsigned int *bits)
{
	uint64_t val = fallback;
	int status;

	if (inv->dma_bits) {
		status = parse_number_arg(inv->cmd->name, "dma-bits", inv->dma_bits, 64, &val);
		if (status)
			return status;
		if (val < 12)
			return usage_error(inv->cmd->name,
					   "dma-bits '%s' is too small (min 12)", inv->dma_bits);
	}
	*bits = (unsigned int)val;
	return STATUS_OK;
}

int parse_size_option(const struct invocation *inv, uint64_t fallback,
		      uint64_t max, uint64_t *size)
{
	int status;

	*size = fallback;
	if (!inv->size)
		return STATUS_OK;
	status = parse_number_arg(inv->cmd->name, "size", inv->size, UINT64_MAX, size);
	if (status)
		return status;
	if (!*size)
		return usage_error(inv->cmd->name, "size must be at least 1");
	if (*size > max)
		return usage_error(inv->cmd->name, "size '%s' is too large (max %" PRIu64 ")",
				   inv->size, max);
	return STATUS_OK;
}

int parse_rounds_option(const struct invocation *inv, uint64_t fallback,
			uint64_t max, uint64_t *rounds)
{
	int status;

	*rounds = fallback;
	if (!inv->rounds)
		return STATUS_OK;
	status = parse_number_arg(inv->cmd->name, "rounds", inv->rounds, max, rounds);
	if (!status && !*rounds)
		return usage_error(inv->cmd->name, "rounds must be at least 1");
	return status;
}

void page_size_text(char *buf, size_t size, size_t page_size)
{
	format_size(buf, size, page_size);
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
