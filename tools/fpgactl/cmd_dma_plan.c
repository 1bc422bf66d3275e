// SPDX-License-Identifier: MIT
/*
 * fpgactl dma-plan: what a DMA allocation for a device would get (page
 * size, placement, backing, IOVA room, IOMMU and memlock budgets), without
 * allocating anything.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "dma_args.h"
#include "util.h"

/* The plan the library made, with the inputs that shaped it. */
struct plan_report {
	const char *bdf;
	unsigned int dma_bits;
	enum fpgactl_iommu_backend backend;
	struct fpgactl_dma_plan plan;
};

/* Who the kernel charges locked memory to, for the memlock line. */
static const char *memlock_scope(enum fpgactl_iommu_backend backend)
{
	return backend == FPGACTL_IOMMU_IOMMUFD ?
	       "by this user's processes; iommufd charges the user, estimated from their VmPin" :
	       "by this process";
}

static bool iova_room(const struct fpgactl_dma_plan *plan)
{
	return plan->iova_first <= plan->iova_last && plan->iova_free;
}

/* "256.0 TiB" style approximation of a byte count. */
static void approx_size(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double val = (double)bytes;
	size_t unit = 0;

	while (unit + 1 < ARRAY_SIZE(units) && val >= 1024) {
		val /= 1024;
		unit++;
	}
	if (!unit)
		snprintf(buf, size, "%" PRIu64 " bytes", bytes);
	else
		snprintf(buf, size, "%.1f %s", val, units[unit]);
}

static void print_text(const struct plan_report *rep)
{
	const struct fpgactl_dma_plan *plan = &rep->plan;
	char text[64];

	printf("device:          %s\n", rep->bdf);
	page_size_text(text, sizeof(text), plan->page_size);
	printf("page size:       %s\n", text);
	if (plan->node < 0)
		printf("numa node:       any\n");
	else
		printf("numa node:       %d\n", plan->node);
	printf("backing:         %s\n", plan->backing);
	printf("dma mask:        %u bits\n", rep->dma_bits);
	if (iova_room(plan))
		printf("iova range:      0x%" PRIx64 "..0x%" PRIx64 "\n", plan->iova_first,
		       plan->iova_last);
	else
		printf("iova range:      none free below the DMA mask\n");
	approx_size(text, sizeof(text), plan->iova_free);
	printf("iova free:       %" PRIu64 " bytes (%s)\n", plan->iova_free, text);
	if (plan->mappings_avail < 0)
		printf("iommu mappings:  unlimited\n");
	else
		printf("iommu mappings:  %" PRId64 " more allowed\n", plan->mappings_avail);
	format_size(text, sizeof(text), plan->memlock_used);
	if (plan->memlock_limit == UINT64_MAX) {
		printf("memlock:         unlimited (%s used %s)\n", text,
		       memlock_scope(rep->backend));
	} else {
		char limit[32];

		format_size(limit, sizeof(limit), plan->memlock_limit);
		printf("memlock:         %s (%s used %s)\n", limit, text,
		       memlock_scope(rep->backend));
	}
	if (plan->page_size == FPGACTL_PAGE_4K)
		printf("hugepages free:  n/a (4 KiB pages)\n");
	else if (plan->hugepages_free < 0)
		printf("hugepages free:  unknown (%s)\n", errno_text((int)plan->hugepages_free));
	else
		printf("hugepages free:  %ld\n", plan->hugepages_free);
}

static void print_json(const struct plan_report *rep)
{
	const struct fpgactl_dma_plan *plan = &rep->plan;

	printf("{\n  \"bdf\": ");
	json_string(stdout, rep->bdf);
	printf(",\n  \"page_size\": %zu,\n  \"node\": ", plan->page_size);
	if (plan->node < 0)
		printf("null");
	else
		printf("%d", plan->node);
	printf(",\n  \"backing\": ");
	json_string(stdout, plan->backing);
	printf(",\n  \"dma_bits\": %u,\n", rep->dma_bits);
	if (iova_room(plan))
		printf("  \"iova_first\": %" PRIu64 ",\n  \"iova_last\": %" PRIu64 ",\n",
		       plan->iova_first, plan->iova_last);
	else
		printf("  \"iova_first\": null,\n  \"iova_last\": null,\n");
	printf("  \"iova_free\": %" PRIu64 ",\n  \"mappings_avail\": ", plan->iova_free);
	if (plan->mappings_avail < 0)
		printf("null");
	else
		printf("%" PRId64, plan->mappings_avail);
	printf(",\n  \"memlock_limit\": ");
	if (plan->memlock_limit == UINT64_MAX)
		printf("null");
	else
		printf("%" PRIu64, plan->memlock_limit);
	printf(",\n  \"memlock_used\": %" PRIu64 ",\n  \"hugepages_free\": ",
	       plan->memlock_used);
	if (plan->page_size == FPGACTL_PAGE_4K || plan->hugepages_free < 0)
		printf("null");
	else
		printf("%ld", plan->hugepages_free);
	printf("\n}\n");
}

static int run_dma_plan(const struct invocation *inv)
{
	struct plan_report rep = { 0 };
	struct fpgactl_dma_opts opts;
	struct fpgactl_device *dev;
	char bdf[FPGACTL_BDF_LEN];
	int err, status = require_device(inv, bdf);

	if (!status)
		status = parse_dma_opts(inv, &opts);
	if (!status)
		status = parse_dma_bits(inv, 64, &rep.dma_bits);
	if (status)
		return status;
	status = open_device(inv, bdf, &dev);
	if (status)
		return status;
	rep.bdf = bdf;
	{
		struct fpgactl_device_info info;

		rep.backend = fpgactl_device_get_info(dev, &info) ? FPGACTL_IOMMU_LEGACY
								  : info.backend;
	}
	err = fpgactl_device_set_dma_mask(dev, rep.dma_bits);
	if (!err)
		err = fpgactl_dma_get_plan(dev, &opts, &rep.plan);
	if (err)
		status = failure("dma-plan", "%s: %s", bdf, errno_text(err));
	else if (inv->json)
		print_json(&rep);
	else
		print_text(&rep);
	fpgactl_device_close(dev);
	return status;
}

const struct command cmd_dma_plan = {
	.name = "dma-plan",
	.args = "",
	.summary = "show what a DMA buffer for a device would get",
	.details = "Opens the device (-d) and asks the library how it would back and map a\n"
		   "DMA buffer: page size, NUMA node, backing (hugetlbfs mount, memfd or\n"
		   "none), the usable IOVA range below the DMA mask and the free IOVA\n"
		   "bytes in it, how many more IOMMU mappings are allowed, RLIMIT_MEMLOCK\n"
		   "and what this process has locked, and the free hugepages of that size\n"
		   "on that node.  Allocates nothing.\n",
	.options = OPT_DEVICE | OPT_PAGE_SIZE | OPT_NODE | OPT_DMA_BITS | OPT_JSON,
	.min_args = 0,
	.max_args = 0,
	.run = run_dma_plan,
};
