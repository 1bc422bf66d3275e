// SPDX-License-Identifier: MIT
#include "sc_util.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int check_softcore(const char *cmd, struct fpgactl_device *dev, const char *name,
		   struct sc_caps *caps)
{
	struct fpgactl_region_info bar0;
	uint32_t id = 0, version = 0, lmem = 0, cap = 0, max_xfer = 0;
	int err = fpgactl_region_get_info(dev, FPGACTL_REGION_BAR0, &bar0);

	if (err)
		return failure(cmd, "%s: cannot describe BAR0: %s", name, errno_text(err));
	if (bar0.size < FPGACTL_SC_LMEM_SIZE + 4)
		return usage_error(cmd, "%s is not the soft-core of docs/softcore.md (BAR0 "
				   "is %" PRIu64 " bytes)", name, bar0.size);
	err = fpgactl_reg_read32(dev, 0, FPGACTL_SC_ID, &id);
	if (!err)
		err = fpgactl_reg_read32(dev, 0, FPGACTL_SC_VERSION, &version);
	if (!err)
		err = fpgactl_reg_read32(dev, 0, FPGACTL_SC_LMEM_SIZE, &lmem);
	if (!err)
		err = fpgactl_reg_read32(dev, 0, FPGACTL_SC_CAP, &cap);
	if (!err)
		err = fpgactl_reg_read32(dev, 0, FPGACTL_SC_MAX_XFER, &max_xfer);
	if (err)
		return failure(cmd, "%s: cannot read the soft-core's registers: %s", name,
			       errno_text(err));
	if (id != FPGACTL_SC_ID_VALUE)
		return usage_error(cmd, "%s is not the soft-core of docs/softcore.md (ID reads "
				   "0x%08" PRIx32 ", not 0x%08x)", name, id, FPGACTL_SC_ID_VALUE);
	if (version >> 16 != FPGACTL_SC_VERSION_MAJOR)
		return usage_error(cmd, "%s: soft-core version %" PRIu32 ".%" PRIu32 "; fpgactl "
				   "speaks %d.x", name, version >> 16, version & 0xffff,
				   FPGACTL_SC_VERSION_MAJOR);
	if (caps)
		*caps = (struct sc_caps){ .lmem_size = lmem,
					  .max_depth = FPGACTL_SC_CAP_MAX_DEPTH(cap),
					  .nr_queues = FPGACTL_SC_CAP_NQ(cap),
					  .max_xfer = max_xfer };
	return STATUS_OK;
}

int open_softcore(const char *cmd, struct fpgactl_device *dev, const char *name,
		  const struct fpgactl_sc_opts *opts, struct fpgactl_sc **sc)
{
	struct sc_caps caps;
	int err = 0, status = check_softcore(cmd, dev, name, &caps);

	if (status)
		return status;
	if (opts->depth > caps.max_depth)
		return usage_error(cmd, "queue depth %u does not fit %s: it takes at most %"
				   PRIu32 " (CAP.MQES + 1)", opts->depth, name, caps.max_depth);
	if (opts->nr_queues > caps.nr_queues)
		return usage_error(cmd, "%u queue pairs asked for; %s has %" PRIu32,
				   opts->nr_queues, name, caps.nr_queues);
	*sc = fpgactl_sc_open(dev, opts, &err);
	if (!*sc)
		return failure(cmd, "%s: soft-core bring-up failed: %s", name, errno_text(err));
	return STATUS_OK;
}

struct fpgactl_dma_buf *dma_alloc_quiet(struct fpgactl_device *dev, size_t size,
					unsigned int count, int *err)
{
	struct fpgactl_dma_opts opts = { .page_size = FPGACTL_PAGE_2M, .node = -1 };
	struct fpgactl_dma_plan plan;
	uint64_t pages = (size + FPGACTL_PAGE_2M - 1) / FPGACTL_PAGE_2M * count;

	/* Small buffers are not worth a hugepage each. */
	if (size < FPGACTL_PAGE_2M / 2 || fpgactl_dma_get_plan(dev, &opts, &plan) ||
	    plan.hugepages_free < 0 || (uint64_t)plan.hugepages_free < pages) {
		opts.page_size = FPGACTL_PAGE_4K;
		opts.flags = FPGACTL_DMA_ALLOW_SMALL_PAGES;
	}
	return fpgactl_dma_alloc(dev, size, &opts, err);
}

void progress_start(struct progress *p, const char *label, uint64_t total, bool bytes)
{
	p->label = label;
	p->total = total;
	p->bytes = bytes;
	p->shown = -1;
	p->enabled = isatty(STDOUT_FILENO);
	progress_update(p, 0);
}

#define BAR_WIDTH 40

void progress_update(struct progress *p, uint64_t done)
{
	char bar[BAR_WIDTH + 1], sdone[32], stotal[32];
	int permille, fill;

	if (!p->enabled || !p->total)
		return;
	if (done > p->total)
		done = p->total;
	permille = (int)(done * 1000 / p->total);
	if (permille == p->shown)
		return;
	p->shown = permille;
	fill = permille * BAR_WIDTH / 1000;
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	if (p->bytes) {
		snprintf(sdone, sizeof(sdone), "%.1f", (double)done / (1 << 20));
		snprintf(stotal, sizeof(stotal), "%.1f MiB", (double)p->total / (1 << 20));
	} else {
		snprintf(sdone, sizeof(sdone), "%" PRIu64, done);
		snprintf(stotal, sizeof(stotal), "%" PRIu64, p->total);
	}
	printf("\r%-7s [%s] %3d%%  %s of %s", p->label, bar, permille / 10, sdone, stotal);
	fflush(stdout);
}

void progress_end(struct progress *p)
{
	if (p->enabled && p->shown >= 0) {
		fputs("\r\033[K", stdout);
		fflush(stdout);
	}
	p->shown = -1;
}

int submit_nop(const char *cmd, struct fpgactl_queue *q, void *ctx, uint64_t timeout_ns)
{
	int err = fpgactl_sc_prep_nop(q, ctx, timeout_ns);

	if (err)
		return failure(cmd, "NOP: %s", errno_text(err));
	fpgactl_queue_submit(q);
	return STATUS_OK;
}

const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}
