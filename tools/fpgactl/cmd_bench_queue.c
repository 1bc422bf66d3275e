// SPDX-License-Identifier: MIT
/*
 * fpgactl bench queue: what a command costs through the library's queues,
 * measured with NOPs on a soft-core (the built-in model by default), and
 * the same NOPs through io_uring in the same run as a baseline: the cheapest
 * kernel-mediated submit/complete path there is.
 *
 * A benchmark, not a test: it prints numbers and judges none of them.  It
 * fails (exit 1) only when it cannot run: the device cannot be opened, a
 * command is not answered, or a completion is wrong (a NOP that does not
 * complete successfully means the numbers measure something else).
 *
 * Both engines run the same loop: keep up to depth - 1 commands in flight,
 * submit them in batches (one doorbell or one io_uring_enter() per batch),
 * reap whatever has completed.  The clock is read once per batch submitted
 * and once per reap pass that found completions, never per command: a
 * command's latency is from its batch's submission to the pass that reaped
 * it.
 */
#include <errno.h>
#include <inttypes.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fpgactl.h>

#include "bench.h"
#include "device_arg.h"
#include "util.h"

#define DEFAULT_DEVICE MODEL_NAME
#define DEFAULT_DEPTH 64
#define MIN_DEPTH 2
#define MAX_DEPTH 4096		/* fpgactl_queue_create()'s limit */
#define DEFAULT_COUNT 200000
#define MAX_COUNT (UINT64_C(1) << 40)
#define WARMUP_COUNT 1000	/* NOPs run, not timed, before each timed run */
#define STALL_NS 2000000000ull	/* no completion for this long: give up */
#define PROGRESS_STEPS 50	/* progress updates per run, on a terminal */

static const unsigned int default_batches[] = { 1, 8, 32 };

/*
 * Latency histogram: exact below 2 * HIST_SUB ns, then HIST_SUB buckets per
 * power of two, so a percentile is within 1 / HIST_SUB (3 %).
 */
#define HIST_SUB_BITS 5
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

/**
 * struct run_result - one timed run of one engine at one batch size
 * @ns: from the first submission to the last reap pass
 * @count: commands completed successfully
 * @bad: completions that were not a successful NOP (must be 0)
 * @sq_doorbells: tail doorbell writes during the run (fpgactl engine)
 * @cq_doorbells: head doorbell writes during the run (fpgactl engine)
 * @hist: latency histogram
 */
struct run_result {
	uint64_t ns;
	uint64_t count;
	uint64_t bad;
	uint64_t sq_doorbells;
	uint64_t cq_doorbells;
	uint64_t hist[HIST_BUCKETS];
};

/*
 * One batch in flight: a command's context points to its batch's slot.
 * At most depth - 1 batches are in flight, so one of the depth slots is
 * always free, even if the device completes out of order.
 */
struct batch_slot {
	uint64_t submitted_ns;
	unsigned int pending; /* commands not reaped yet */
};

/**
 * struct qbench - one bench queue invocation
 * @device: device name, canonical
 * @depth: entries per ring
 * @count: commands per timed run
 * @batches: batch sizes, in the order run
 * @nr_batches: number of @batches
 * @dev: the device
 * @sc: its soft-core
 * @q: the one queue pair
 * @ring: the io_uring baseline's ring
 * @ring_err: 0 when @ring is set up, else why not (-errno)
 * @slots: @depth batch slots: at most depth - 1 batches are in flight
 * @progress: print a progress line (stdout is a terminal)
 * @engine: name of the engine running, for the progress line
 * @batch: batch size running, for the progress line
 */
struct qbench {
	char device[FPGACTL_DEVICE_NAME_MAX];
	uint32_t depth;
	uint64_t count;
	unsigned int batches[ARRAY_SIZE(default_batches)];
	unsigned int nr_batches;
	struct fpgactl_device *dev;
	struct fpgactl_sc *sc;
	struct fpgactl_queue *q;
	struct io_uring ring;
	int ring_err;
	struct batch_slot *slots;
	bool progress;
	const char *engine;
	unsigned int batch;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned int hist_bucket(uint64_t v)
{
	unsigned int shift;

	if (v < 2 * HIST_SUB)
		return (unsigned int)v;
	shift = (unsigned int)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;
	return (shift + 1) * HIST_SUB + (unsigned int)((v >> shift) & (HIST_SUB - 1));
}

/* Middle of bucket @i. */
static uint64_t hist_value(unsigned int i)
{
	unsigned int shift;

	if (i < 2 * HIST_SUB)
		return i;
	shift = i / HIST_SUB - 1;
	return ((uint64_t)(HIST_SUB + i % HIST_SUB) << shift) + (UINT64_C(1) << shift) / 2;
}

/* Smallest latency that at least @p of the commands did not exceed. */
static uint64_t percentile(const struct run_result *r, double p)
{
	uint64_t want = (uint64_t)(p * (double)r->count + 0.999999), seen = 0;

	if (!want)
		want = 1;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		seen += r->hist[i];
		if (seen >= want)
			return hist_value(i);
	}
	return 0;
}

static void show_progress(const struct qbench *b, uint64_t done, uint64_t count)
{
	printf("\r%-8s batch %-4u %3u%% of %" PRIu64 " NOPs", b->engine, b->batch,
	       (unsigned int)(done * 100 / count), count);
	fflush(stdout);
}

static void clear_progress(const struct qbench *b)
{
	if (b->progress)
		fputs("\r\033[K", stdout);
}

/* A free batch slot for @n commands, from *@seq on. */
static struct batch_slot *take_slot(struct qbench *b, uint64_t *seq, unsigned int n)
{
	struct batch_slot *slot;

	while ((slot = &b->slots[*seq & (b->depth - 1)])->pending)
		++*seq;
	++*seq;
	slot->pending = n;
	return slot;
}

/* Record a command reaped by the pass at @now. */
static void account(struct run_result *r, uint64_t now, struct batch_slot *slot)
{
	slot->pending--;
	if (r)
		r->hist[hist_bucket(now - slot->submitted_ns)]++;
}

/*
 * The fpgactl engine: @count NOPs in batches of @batch.  @r NULL: a warm-up
 * run, nothing recorded.
 */
static int run_fpgactl(struct qbench *b, unsigned int batch, uint64_t count,
		       struct run_result *r)
{
	const unsigned int limit = b->depth - 1;
	struct fpgactl_completion c[MAX_DEPTH];
	struct fpgactl_queue_stats before, after;
	uint64_t submitted = 0, completed = 0, bad = 0, seq = 0, idle = 0;
	uint64_t start, last, step = count / PROGRESS_STEPS + 1, next_progress = step;
	unsigned int in_flight = 0, got;

	fpgactl_queue_get_stats(b->q, &before);
	start = last = now_ns();
	while (completed < count) {
		while (submitted < count) {
			unsigned int n = count - submitted < batch ? (unsigned int)(count - submitted)
								   : batch;
			struct batch_slot *slot;

			if (in_flight + n > limit)
				break;
			slot = take_slot(b, &seq, n);
			for (unsigned int i = 0; i < n; i++)
				if (fpgactl_sc_prep_nop(b->q, slot, 0))
					return failure("bench", "%s: the queue refused a NOP with "
						       "%u in flight", b->device, in_flight + i);
			slot->submitted_ns = now_ns();
			fpgactl_queue_submit(b->q);
			submitted += n;
			in_flight += n;
		}
		got = fpgactl_queue_reap(b->q, c, limit);

		if (!got) {
			if (++idle % 4096 == 0 && now_ns() - last > STALL_NS)
				return failure("bench", "%s: no completion for %llu s with %u NOPs "
					       "in flight: the device is not answering", b->device,
					       STALL_NS / 1000000000ull, in_flight);
			continue;
		}
		last = now_ns();
		for (unsigned int i = 0; i < got; i++) {
			if (!c[i].ctx) /* matched no command: counted by the queue */
				continue;
			completed++;
			in_flight--;
			if (c[i].error || c[i].status) {
				bad++;
				((struct batch_slot *)c[i].ctx)->pending--;
			} else {
				account(r, last, c[i].ctx);
			}
		}
		if (r && b->progress && completed >= next_progress) {
			show_progress(b, completed, count);
			next_progress += step;
		}
	}
	if (!r)
		return STATUS_OK;
	fpgactl_queue_get_stats(b->q, &after);
	r->ns = last - start;
	r->count = completed - bad;
	/* Completions that matched no command are the queue's bad_completions. */
	r->bad = bad + (after.bad_completions - before.bad_completions);
	r->sq_doorbells = after.sq_doorbells - before.sq_doorbells;
	r->cq_doorbells = after.cq_doorbells - before.cq_doorbells;
	return STATUS_OK;
}

/* The io_uring engine: the same loop with IORING_OP_NOP. */
static int run_uring(struct qbench *b, unsigned int batch, uint64_t count,
		     struct run_result *r)
{
	const unsigned int limit = b->depth - 1;
	struct io_uring_cqe *cqes[MAX_DEPTH];
	uint64_t submitted = 0, completed = 0, bad = 0, seq = 0;
	uint64_t start, last, step = count / PROGRESS_STEPS + 1, next_progress = step;
	unsigned int in_flight = 0, got;
	int ret;

	start = last = now_ns();
	while (completed < count) {
		while (submitted < count) {
			unsigned int n = count - submitted < batch ? (unsigned int)(count - submitted)
								   : batch;
			struct batch_slot *slot;

			if (in_flight + n > limit)
				break;
			slot = take_slot(b, &seq, n);
			for (unsigned int i = 0; i < n; i++) {
				struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

				if (!sqe)
					return failure("bench", "io_uring: no free submission entry "
						       "with %u in flight", in_flight + i);
				io_uring_prep_nop(sqe);
				io_uring_sqe_set_data(sqe, slot);
			}
			slot->submitted_ns = now_ns();
			ret = io_uring_submit(&b->ring);
			if (ret != (int)n)
				return failure("bench", "io_uring_submit: %s",
					       ret < 0 ? errno_text(ret) : "short submission");
			submitted += n;
			in_flight += n;
		}
		got = io_uring_peek_batch_cqe(&b->ring, cqes, limit);

		if (!got) {
			struct io_uring_cqe *cqe;

			ret = io_uring_wait_cqe(&b->ring, &cqe);
			if (ret)
				return failure("bench", "io_uring_wait_cqe: %s", errno_text(ret));
			continue;
		}
		last = now_ns();
		for (unsigned int i = 0; i < got; i++) {
			struct batch_slot *slot = io_uring_cqe_get_data(cqes[i]);

			if (cqes[i]->res) {
				bad++;
				slot->pending--;
			} else {
				account(r, last, slot);
			}
		}
		io_uring_cq_advance(&b->ring, got);
		completed += got;
		in_flight -= got;
		if (r && b->progress && completed >= next_progress) {
			show_progress(b, completed, count);
			next_progress += step;
		}
	}
	if (r) {
		r->ns = last - start;
		r->count = completed - bad;
		r->bad = bad;
	}
	return STATUS_OK;
}

typedef int (*engine_fn)(struct qbench *b, unsigned int batch, uint64_t count,
			 struct run_result *r);

/* A warm-up run (the device thread and the caches awake), then the timed run. */
static int measure(struct qbench *b, const char *engine, engine_fn fn, unsigned int batch,
		   struct run_result *r)
{
	uint64_t warmup = b->count < WARMUP_COUNT ? b->count : WARMUP_COUNT;
	int status;

	memset(r, 0, sizeof(*r));
	b->engine = engine;
	b->batch = batch;
	status = fn(b, batch, warmup, NULL);
	if (!status)
		status = fn(b, batch, b->count, r);
	clear_progress(b);
	return status;
}

static double ns_per_op(const struct run_result *r, uint64_t count)
{
	return (double)r->ns / (double)count;
}

/* What one clock read costs: both engines pay it per batch and per reap pass. */
static double clock_cost_ns(void)
{
	enum { READS = 100000 };
	uint64_t start = now_ns();

	for (int i = 0; i < READS; i++)
		now_ns();
	return (double)(now_ns() - start) / READS;
}

static void print_header(const struct qbench *b)
{
	printf("bench queue: %s, 1 queue of depth %" PRIu32 " (up to %" PRIu32 " in flight), "
	       "%" PRIu64 " NOPs per run after %" PRIu64 " not timed\n",
	       b->device, b->depth, b->depth - 1, b->count,
	       b->count < WARMUP_COUNT ? b->count : (uint64_t)WARMUP_COUNT);
	printf("clock: clock_gettime(CLOCK_MONOTONIC) costs %.1f ns, read once per batch "
	       "submitted and once per reap pass, in both engines\n", clock_cost_ns());
	printf("ns/op = run time / NOPs; latency = from a batch's submission to the reap pass "
	       "that saw the NOP (percentiles within 3%%)\n");
	printf("ratio = io_uring ns/op / fpgactl ns/op at the same batch size\n");
	printf("%-8s %5s %11s %9s %8s %8s %9s %8s %8s %5s %6s\n", "engine", "batch", "ops/s",
	       "ns/op", "p50_ns", "p99_ns", "p99.9_ns", "sq_db/op", "cq_db/op", "bad", "ratio");
}

static void print_latency(const struct run_result *r)
{
	printf(" %8" PRIu64 " %8" PRIu64 " %9" PRIu64, percentile(r, 0.50),
	       percentile(r, 0.99), percentile(r, 0.999));
}

static void print_fpgactl_row(const struct qbench *b, unsigned int batch,
			      const struct run_result *r)
{
	double ns = ns_per_op(r, b->count);

	printf("%-8s %5u %11.0f %9.1f", "fpgactl", batch, 1e9 / ns, ns);
	print_latency(r);
	printf(" %8.4f %8.4f %5" PRIu64 " %6s\n", (double)r->sq_doorbells / (double)b->count,
	       (double)r->cq_doorbells / (double)b->count, r->bad, "-");
	fflush(stdout);
}

static void print_uring_row(const struct qbench *b, unsigned int batch,
			    const struct run_result *r, const struct run_result *base)
{
	double ns = ns_per_op(r, b->count);

	printf("%-8s %5u %11.0f %9.1f", "io_uring", batch, 1e9 / ns, ns);
	print_latency(r);
	printf(" %8s %8s %5" PRIu64 " %6.2f\n", "-", "-", r->bad,
	       ns / ns_per_op(base, b->count));
	fflush(stdout);
}

static void print_uring_missing(unsigned int batch)
{
	printf("%-8s %5u %11s %9s %8s %8s %9s %8s %8s %5s %6s\n", "io_uring", batch, "-", "-",
	       "-", "-", "-", "-", "-", "-", "-");
	fflush(stdout);
}

static int run_all(struct qbench *b)
{
	struct run_result *sc = calloc(1, sizeof(*sc)), *ur = calloc(1, sizeof(*ur));
	uint64_t bad = 0;
	int status = sc && ur ? STATUS_OK : failure("bench", "%s", errno_text(ENOMEM));

	if (!status)
		print_header(b);
	for (unsigned int i = 0; !status && i < b->nr_batches; i++) {
		unsigned int batch = b->batches[i];

		status = measure(b, "fpgactl", run_fpgactl, batch, sc);
		if (status)
			break;
		print_fpgactl_row(b, batch, sc);
		bad += sc->bad;
		if (b->ring_err) {
			print_uring_missing(batch);
			continue;
		}
		status = measure(b, "io_uring", run_uring, batch, ur);
		if (status)
			break;
		print_uring_row(b, batch, ur, sc);
		bad += ur->bad;
	}
	if (!status && bad)
		status = failure("bench", "%" PRIu64 " bad completions: a NOP did not complete "
				 "successfully, so these numbers do not measure NOPs", bad);
	free(sc);
	free(ur);
	return status;
}

static int parse_queue_args(const struct invocation *inv, struct qbench *b)
{
	const char *cmd = "bench";
	uint64_t depth = DEFAULT_DEPTH, batch = 0, count = DEFAULT_COUNT;
	int status = STATUS_OK;

	if (inv->size || inv->rounds)
		return usage_error(cmd, "%s is an option of bench map, not bench queue",
				   inv->size ? "--size" : "--rounds");
	status = parse_device_or_model(cmd, inv->device ? inv->device : DEFAULT_DEVICE,
				       b->device, sizeof(b->device));
	if (!status && inv->depth)
		status = parse_number_arg(cmd, "depth", inv->depth, MAX_DEPTH, &depth);
	if (!status && (depth < MIN_DEPTH || (depth & (depth - 1))))
		return usage_error(cmd, "depth %" PRIu64 " is not a power of two from %d to %d",
				   depth, MIN_DEPTH, MAX_DEPTH);
	if (!status && inv->batch) {
		status = parse_number_arg(cmd, "batch", inv->batch, UINT64_MAX, &batch);
		if (!status && !batch)
			return usage_error(cmd, "batch must be at least 1");
		if (!status && batch > depth - 1)
			return usage_error(cmd, "batch %" PRIu64 " is more than the %" PRIu64
					   " commands a queue of depth %" PRIu64 " keeps in flight",
					   batch, depth - 1, depth);
	}
	if (!status && inv->count) {
		status = parse_number_arg(cmd, "count", inv->count, MAX_COUNT, &count);
		if (!status && !count)
			return usage_error(cmd, "count must be at least 1");
	}
	if (status)
		return status;
	b->depth = (uint32_t)depth;
	b->count = count;
	if (batch) {
		b->batches[b->nr_batches++] = (unsigned int)batch;
	} else {
		/* The default sizes that fit in the queue. */
		for (size_t i = 0; i < ARRAY_SIZE(default_batches); i++)
			if (default_batches[i] <= depth - 1)
				b->batches[b->nr_batches++] = default_batches[i];
	}
	return STATUS_OK;
}

static int open_engines(struct qbench *b, const struct invocation *inv)
{
	const struct fpgactl_sc_opts opts = { .nr_queues = 1, .depth = b->depth };
	int err = 0;

	b->slots = calloc(b->depth, sizeof(*b->slots));
	if (!b->slots)
		return failure("bench", "%s", errno_text(ENOMEM));
	b->dev = open_device(inv, b->device);
	if (!b->dev)
		return STATUS_FAILED;
	b->sc = fpgactl_sc_open(b->dev, &opts, &err);
	if (!b->sc)
		return failure("bench", "%s: soft-core bring-up with a queue of depth %" PRIu32
			       " failed: %s", b->device, b->depth, errno_text(err));
	b->q = fpgactl_sc_queue(b->sc, 0);
	b->ring_err = io_uring_queue_init(b->depth, &b->ring, 0);
	if (b->ring_err)
		fprintf(stderr, "fpgactl: bench: io_uring unavailable (%s): no baseline\n",
			errno_text(b->ring_err));
	return STATUS_OK;
}

int run_bench_queue(const struct invocation *inv)
{
	struct qbench *b = calloc(1, sizeof(*b));
	int status;

	if (!b)
		return failure("bench", "%s", errno_text(ENOMEM));
	b->ring_err = -ENODEV;
	status = parse_queue_args(inv, b);
	if (!status)
		status = open_engines(b, inv);
	if (!status) {
		b->progress = isatty(STDOUT_FILENO);
		status = run_all(b);
	}
	if (!b->ring_err)
		io_uring_queue_exit(&b->ring);
	fpgactl_sc_close(b->sc);
	fpgactl_device_close(b->dev);
	free(b->slots);
	free(b);
	return status;
}
