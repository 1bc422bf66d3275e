// SPDX-License-Identifier: MIT
/*
 * fpgactl bench: benchmarks (not tests: they print numbers, they judge
 * nothing).
 *
 * bench queue (cmd_bench_queue.c): NOPs through the soft-core's queues
 * against io_uring NOPs.
 *
 * bench map: how long mapping and unmapping a DMA buffer takes with 2 MiB
 * pages (the library's default: the baseline) and with 4 KiB pages, in the
 * same run, alternating which goes first so that neither always meets a warm
 * or a cold system.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fpgactl.h>

#include "bench.h"
#include "commands.h"
#include "device_arg.h"
#include "dma_args.h"
#include "util.h"

#define DEFAULT_SIZE (UINT64_C(1) << 30)
#define MAX_SIZE (UINT64_C(1) << 40)
#define DEFAULT_ROUNDS 3
#define MAX_ROUNDS 1000
#define GIB (UINT64_C(1) << 30)

/**
 * struct variant - one way of backing the buffer
 * @opts: allocation options
 * @role: "baseline" or "compared"
 * @map: seconds of fpgactl_dma_alloc() per round
 * @unmap: seconds of fpgactl_dma_free() per round
 * @total: @map + @unmap per round
 * @mappings: IOMMU mappings one buffer took, counted where the kernel reports
 *	how many remain (type1); -1 until counted
 */
struct variant {
	struct fpgactl_dma_opts opts;
	const char *role;
	double *map;
	double *unmap;
	double *total;
	int64_t mappings;
};

struct bench {
	const char *bdf;
	struct fpgactl_device *dev;
	uint64_t size;
	uint64_t rounds;
	struct variant variants[2]; /* [0] is the baseline */
};

/* Mappings the IOMMU still allows, -1 when unlimited or unknown. */
static int64_t mappings_left(struct bench *b)
{
	struct fpgactl_dma_plan plan;

	return fpgactl_dma_get_plan(b->dev, NULL, &plan) ? -1 : plan.mappings_avail;
}

static int map_once(struct bench *b, struct variant *v, uint64_t round)
{
	int64_t before = v->mappings < 0 ? mappings_left(b) : -1;
	char page[32], size[32];
	double start, mapped;
	struct fpgactl_dma_buf *buf;
	int err = 0;

	start = now_seconds();
	buf = fpgactl_dma_alloc(b->dev, (size_t)b->size, &v->opts, &err);
	mapped = now_seconds();
	page_size_text(page, sizeof(page), v->opts.page_size);
	format_size(size, sizeof(size), b->size);
	if (!buf) {
		/* The library's message above gives the cause and the fix. */
		return failure("bench", "%s: cannot map %s with %s pages: %s", b->bdf, size,
			       page, errno_text(err));
	}
	if (buf->page_size != v->opts.page_size) {
		fpgactl_dma_free(buf);
		return failure("bench", "%s: asked for %s pages, got others", b->bdf, page);
	}
	if (before >= 0) {
		int64_t after = mappings_left(b);

		if (after >= 0 && after <= before)
			v->mappings = before - after;
	}
	v->map[round] = mapped - start;
	start = now_seconds();
	fpgactl_dma_free(buf);
	v->unmap[round] = now_seconds() - start;
	v->total[round] = v->map[round] + v->unmap[round];
	return STATUS_OK;
}

static void print_variant(const struct bench *b, struct variant *v)
{
	char page[32], calls[24] = "-";

	/* Counted only where the kernel reports what is left (type1). */
	if (v->mappings >= 0)
		snprintf(calls, sizeof(calls), "%" PRId64, v->mappings);
	page_size_text(page, sizeof(page), v->opts.page_size);
	printf("%-7s %-9s %10.3f ms %10.3f ms %10.3f ms %13s %15" PRIu64 "\n", page,
	       v->role, median(v->map, b->rounds) * 1e3, median(v->unmap, b->rounds) * 1e3,
	       median(v->total, b->rounds) * 1e3, calls, GIB / v->opts.page_size);
}

static void print_results(struct bench *b)
{
	struct variant *base = &b->variants[0], *other = &b->variants[1];
	double base_total, other_total;
	char size[32];

	format_size(size, sizeof(size), b->size);
	printf("bench map: %s per buffer, %" PRIu64 " round(s) in alternating order, median times\n",
	       size, b->rounds);
	printf("map = fpgactl_dma_alloc() (allocate, zero, pin, MAP_DMA), unmap = fpgactl_dma_free()\n");
	printf("MAP_DMA calls = per buffer, counted from the kernel's DMA_AVAIL (type1; '-' "
	       "where it reports none); IOMMU pages/GiB = 1 GiB / page size\n");
	printf("%-7s %-9s %13s %13s %13s %13s %15s\n", "pages", "role", "map", "unmap",
	       "map+unmap", "MAP_DMA calls", "IOMMU pages/GiB");
	print_variant(b, base);
	print_variant(b, other);
	/* print_variant() sorted the arrays; the medians are stable. */
	base_total = median(base->total, b->rounds);
	other_total = median(other->total, b->rounds);
	if (base_total > 0)
		printf("ratio: 4 KiB pages take %.2fx the map+unmap time of 2 MiB pages (baseline)\n",
		       other_total / base_total);
}

static int run_map_bench(struct bench *b)
{
	for (uint64_t round = 0; round < b->rounds; round++) {
		for (int k = 0; k < 2; k++) {
			/* Even rounds: baseline first; odd rounds: 4 KiB first. */
			struct variant *v = &b->variants[round % 2 ? 1 - k : k];
			int status = map_once(b, v, round);

			if (status)
				return status;
		}
	}
	print_results(b);
	return STATUS_OK;
}

static int alloc_samples(struct bench *b)
{
	for (int i = 0; i < 2; i++) {
		struct variant *v = &b->variants[i];

		v->map = calloc(b->rounds, sizeof(double));
		v->unmap = calloc(b->rounds, sizeof(double));
		v->total = calloc(b->rounds, sizeof(double));
		if (!v->map || !v->unmap || !v->total)
			return failure("bench", "%s", errno_text(ENOMEM));
	}
	return STATUS_OK;
}

static void free_samples(struct bench *b)
{
	for (int i = 0; i < 2; i++) {
		free(b->variants[i].map);
		free(b->variants[i].unmap);
		free(b->variants[i].total);
	}
}

static int parse_bench_args(const struct invocation *inv, struct bench *b,
			    char bdf[FPGACTL_BDF_LEN])
{
	int status;

	if (inv->device && is_model_name(inv->device))
		return usage_error("bench", "'%s' is the software model, not a PCI device: bench "
				   "map works on PCI devices only", inv->device);
	status = require_device(inv, bdf);
	if (!status)
		status = parse_size_option(inv, DEFAULT_SIZE, MAX_SIZE, &b->size);
	if (!status && b->size % FPGACTL_PAGE_2M)
		return usage_error("bench", "size %" PRIu64 " is not a multiple of 2 MiB (both "
				   "runs must map the same bytes)", b->size);
	if (!status)
		status = parse_rounds_option(inv, DEFAULT_ROUNDS, MAX_ROUNDS, &b->rounds);
	return status;
}

static int run_bench_map(const struct invocation *inv)
{
	struct bench b = {
		.variants = {
			{ .opts = { .page_size = FPGACTL_PAGE_2M, .node = -1 },
			  .role = "baseline", .mappings = -1 },
			{ .opts = { .page_size = FPGACTL_PAGE_4K, .node = -1,
				    .flags = FPGACTL_DMA_ALLOW_SMALL_PAGES },
			  .role = "compared", .mappings = -1 },
		},
	};
	char bdf[FPGACTL_BDF_LEN];
	int status = parse_bench_args(inv, &b, bdf);

	if (status)
		return status;
	b.bdf = bdf;
	status = alloc_samples(&b);
	if (!status) {
		status = open_device(inv, bdf, &b.dev);
		if (!status)
			status = run_map_bench(&b);
		fpgactl_device_close(b.dev);
	}
	free_samples(&b);
	return status;
}

/* The options every benchmark may take, by name. */
enum bench_option { B_SIZE = 1, B_ROUNDS = 2, B_DEPTH = 4, B_BATCH = 8, B_COUNT = 16, B_FILE = 32,
		   B_ENGINE = 64 };

static const struct benchmark {
	const char *name;
	unsigned int options;
	int (*run)(const struct invocation *inv);
} benchmarks[] = {
	{ "map", B_SIZE | B_ROUNDS, run_bench_map },
	{ "queue", B_DEPTH | B_BATCH | B_COUNT | B_ENGINE, run_bench_queue },
	{ "wakeup", B_COUNT, run_bench_wakeup },
	{ "stream", B_SIZE | B_ROUNDS | B_FILE, run_bench_stream },
};

/* Refuse, in one line, the first option given that @bm does not take. */
static int check_bench_options(const struct invocation *inv, const struct benchmark *bm)
{
	const struct { unsigned int bit; const char *name; bool given; } given[] = {
		{ B_SIZE, "--size", inv->size }, { B_ROUNDS, "--rounds", inv->rounds },
		{ B_DEPTH, "--depth", inv->depth }, { B_BATCH, "--batch", inv->batch },
		{ B_COUNT, "--count", inv->count }, { B_FILE, "--file", inv->file },
		{ B_ENGINE, "--engine", inv->engine },
	};

	for (size_t i = 0; i < ARRAY_SIZE(given); i++)
		if (given[i].given && !(bm->options & given[i].bit))
			return usage_error("bench", "%s is not an option of bench %s",
					   given[i].name, bm->name);
	return STATUS_OK;
}

static int run_bench(const struct invocation *inv)
{
	for (size_t i = 0; i < ARRAY_SIZE(benchmarks); i++) {
		if (strcmp(inv->argv[0], benchmarks[i].name))
			continue;
		int status = check_bench_options(inv, &benchmarks[i]);

		return status ? status : benchmarks[i].run(inv);
	}
	return usage_error("bench", "unknown benchmark '%s' (available: map, queue, "
			   "wakeup, stream)", inv->argv[0]);
}

const struct command cmd_bench = {
	.name = "bench",
	.args = "map|queue|wakeup|stream",
	.summary = "benchmark DMA mapping, queues, interrupt wake-ups, file streaming",
	.details = "bench map maps and unmaps a buffer of --size bytes (default 1 GiB, a\n"
		   "multiple of 2 MiB) for the PCI device -d, backed by 2 MiB hugepages (the\n"
		   "baseline) and by 4 KiB pages, --rounds times each (default 3), in\n"
		   "alternating order, and prints the median times, their ratio, the IOMMU\n"
		   "mappings (MAP_DMA calls) per buffer and the IOMMU pages per GiB.  The\n"
		   "times cover fpgactl_dma_alloc() (allocating, zeroing and pinning the\n"
		   "memory, and the IOMMU mapping) and fpgactl_dma_free().\n"
		   "\n"
		   "bench queue sends --count NOPs (default 200000) through one queue of\n"
		   "--depth entries (default 64, a power of two) of the soft-core -d\n"
		   "(default 'model', the software model), keeping up to depth - 1 in\n"
		   "flight, --batch per doorbell (default: 1, 8 and 32 in turn, those\n"
		   "below the depth), after 1000 NOPs not timed (engine fpgactl); then\n"
		   "io_uring NOPs timed the same way (io_uring, its baseline); then the\n"
		   "library's calls against a perfect device the bench plays in its own\n"
		   "thread, with no clock read inside the run (inline: the library's own\n"
		   "cost), and io_uring NOPs in that same bare loop (uring_inline, its\n"
		   "baseline).  One line per engine and batch size: NOPs per second, e2e\n"
		   "ns per NOP (run time / count), host ns per NOP (time inside the calls;\n"
		   "reaps that found nothing not counted), latency from the start of the\n"
		   "batch to the reap pass that saw the NOP (p50, p99, p99.9), tail and\n"
		   "head doorbell writes per NOP, bad completions; then per batch size each\n"
		   "io_uring figure divided by the library's figure measured alike.\n"
		   "--engine NAME runs only that engine (fpgactl, io_uring, inline or\n"
		   "uring_inline), e.g. under valgrind (tools/bench-instructions.sh).\n"
		   "\n"
		   "bench wakeup measures, on the soft-core -d (default 'model') with\n"
		   "interrupts on, --count NOPs (default 10000) per method, one at a time:\n"
		   "from the doorbell to the completion in hand, sleeping in\n"
		   "fpgactl_queue_wait(INTERRUPT) (io_uring event engine), in a blocking\n"
		   "read() of the queue's eventfd (the baseline) or in epoll_wait(), the\n"
		   "three taking turns.  p50, p99 and their ratio to read()'s.\n"
		   "\n"
		   "bench stream reads --size bytes (default 64 MiB) of --file (default: a\n"
		   "temporary file in $TMPDIR or /var/tmp) into a DMA buffer of -d (default\n"
		   "'model'), and writes the buffer to a temporary file (fsync included),\n"
		   "with the library's io_uring stream (fixed buffers; I/O modes auto,\n"
		   "cached and buffered) and with read()/write() + memcpy() (the baseline),\n"
		   "in chunks of 4 KiB, 128 KiB and 1 MiB, page cache cold and warm,\n"
		   "--rounds times (default 5) in alternating order: median MB/s and CPU\n"
		   "seconds per GiB, and their ratios to the baseline's.\n"
		   "\n"
		   "Benchmarks, not tests: they judge no number.  They exit 1 only when\n"
		   "they cannot run: a buffer cannot be mapped (no hugepages,\n"
		   "RLIMIT_MEMLOCK too low, ...), the device does not answer for 2 s, or\n"
		   "a NOP completes with an error.\n",
	.options = OPT_DEVICE | OPT_SIZE | OPT_ROUNDS | OPT_DEPTH | OPT_BATCH | OPT_COUNT |
		   OPT_FILE | OPT_ENGINE,
	.model = true,
	.min_args = 1,
	.max_args = 1,
	.run = run_bench,
};
