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
 * The fpgactl and io_uring engines run the same loop: keep up to depth - 1 commands in flight,
 * submit them in batches (one doorbell or one io_uring_enter() per batch),
 * reap whatever has completed.  Two figures per run:
 *
 * - e2e: the run's time / commands, the throughput of host and device
 *   together, bounded by the slower of the two (with the model, its device
 *   thread);
 * - host: the time spent inside the library's calls / commands: the clock
 *   is read before and after each submit block (the prep calls and the
 *   submit of one batch) and around each reap call, and only the reaps
 *   that returned completions are counted: a reap that finds nothing is
 *   waiting for the device, not work.  One clock read's cost is subtracted
 *   per block counted.
 *
 * A third engine, "inline", runs the library's calls against a perfect
 * device that the bench plays itself, in the same thread, between a
 * batch's submit and its reap: it completes every entry of the batch at
 * once.  No clock is read inside its run, so its e2e is the library's
 * calls plus a few stores per command, with no device thread competing for
 * the rings' cache lines and no timing overhead: an upper bound of the
 * library's own cost.  It uses a queue pair of a private model whose device
 * thread never enables it (the doorbells land in plain memory), and finds
 * the completion ring through public calls only (see inline_open()).  Its
 * baseline, "uring_inline", runs io_uring NOPs in the same bare loop, so
 * that neither side of that ratio carries clock reads or latency counting.
 *
 * The clock is the TSC where there is one (x86), converted to nanoseconds
 * against CLOCK_MONOTONIC over each run, else CLOCK_MONOTONIC itself; it
 * is read per batch and per reap call, never per command.  A command's
 * latency is from the start of its batch (before the first prep call) to
 * the reap pass that saw it.
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
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include <fpgactl.h>

#include "bench.h"
#include "device_arg.h"
#include "sc_util.h"
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
#define CALIBRATE_NS 10000000ull /* clock calibration at start-up: 10 ms */
/*
 * The inline engine's device: a queue pair its thread never enables, and a
 * thread that polls 100 times a second (the other models' threads and the
 * bench keep the CPUs), and is joined within 10 ms at close.
 */
#define INLINE_MODEL MODEL_NAME ":queues=1,spin=0,idle=10000"

static const unsigned int default_batches[] = { 1, 8, 32 };

/*
 * Latency histogram, in clock ticks: exact below 2 * HIST_SUB ticks, then
 * HIST_SUB buckets per power of two, so a percentile is within 1 / HIST_SUB
 * (3 %).
 */
#define HIST_SUB_BITS 5
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

/**
 * struct run_result - one timed run of one engine at one batch size
 * @ns: from the first submission to the last reap pass (e2e)
 * @tick_ns: nanoseconds per clock tick over this run
 * @host_ticks: ticks inside the library's (or liburing's) calls: submit
 *	blocks and the reap calls that returned completions, clock reads
 *	included
 * @blocks: timed blocks in @host_ticks (one clock read to subtract each)
 * @count: commands completed successfully
 * @bad: completions that were not a successful NOP (must be 0)
 * @sq_doorbells: tail doorbell writes during the run (fpgactl engines)
 * @cq_doorbells: head doorbell writes during the run (fpgactl engines)
 * @latency: @hist was filled (not by the inline engine)
 * @hist: latency histogram, in ticks
 */
struct run_result {
	double ns;
	double tick_ns;
	uint64_t host_ticks;
	uint64_t blocks;
	uint64_t count;
	uint64_t bad;
	uint64_t sq_doorbells;
	uint64_t cq_doorbells;
	bool latency;
	uint64_t hist[HIST_BUCKETS];
};

/*
 * One batch in flight: a command's context points to its batch's slot.
 * At most depth - 1 batches are in flight, so one of the depth slots is
 * always free, even if the device completes out of order.
 */
struct batch_slot {
	uint64_t submitted;	/* ticks, before its first prep call */
	unsigned int pending;	/* commands not reaped yet */
};

/* The engines, in the order they run at each batch size. */
enum engine_id { E_FPGACTL, E_URING, E_INLINE, E_URING_INLINE, NR_ENGINES };

/* What one batch size measured per engine, ns per NOP; < 0: not measured. */
struct summary {
	unsigned int batch;
	double e2e[NR_ENGINES];
	double host[NR_ENGINES];
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
 * @idev: the inline engine's private model
 * @iq: its queue pair, never enabled on @idev
 * @inline_err: 0 when the inline engine is set up, else why not (-errno)
 * @isq: @iq's submission ring, as the perfect device reads it
 * @icq: @iq's completion ring, as the perfect device writes it
 * @isq_head: next entry the perfect device fetches
 * @icq_tail: next completion slot it writes
 * @iphase: phase tag of that slot's next completion
 * @tick_ns: nanoseconds per clock tick, from the start-up calibration
 * @clock_ticks: what one clock read costs, in ticks
 * @stall_ticks: STALL_NS in ticks
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
	unsigned int engines;	/* bit per enum engine_id to run */
	struct fpgactl_device *dev;
	struct fpgactl_sc *sc;
	struct fpgactl_queue *q;
	struct io_uring ring;
	int ring_err;
	struct fpgactl_device *idev;
	struct fpgactl_queue *iq;
	int inline_err;
	const struct fpgactl_sqe *isq;
	struct fpgactl_cqe *icq;
	uint32_t isq_head;
	uint32_t icq_tail;
	uint16_t iphase;
	double tick_ns;
	double clock_ticks;
	uint64_t stall_ticks;
	struct batch_slot *slots;
	bool progress;
	const char *engine;
	unsigned int batch;
};

/*
 * The bench's clock: the TSC where there is one (no system call, no vDSO
 * page, about half the cost of clock_gettime() on a VM), converted to ns
 * against CLOCK_MONOTONIC; CLOCK_MONOTONIC itself elsewhere.
 */
#if defined(__x86_64__) || defined(__i386__)
#define CLOCK_NAME "TSC (rdtsc)"
static inline uint64_t ticks(void)
{
	return __rdtsc();
}
#else
#define CLOCK_NAME "CLOCK_MONOTONIC"
static inline uint64_t ticks(void)
{
	return mono_ns();
}
#endif

/* Both clocks at the start of a run, to convert its ticks to ns. */
struct run_clock {
	uint64_t ns;
	uint64_t t;
};

static void run_begin(struct run_clock *c)
{
	c->ns = mono_ns();
	c->t = ticks();
}

/* The run ended with its last reap pass at @last ticks. */
static void run_end(const struct run_clock *c, uint64_t last, struct run_result *r)
{
	uint64_t t = ticks(), ns = mono_ns();

	r->tick_ns = t > c->t && ns > c->ns ? (double)(ns - c->ns) / (double)(t - c->t) : 1.0;
	r->ns = (double)(last - c->t) * r->tick_ns;
}

/*
 * Nanoseconds per tick, over CALIBRATE_NS, and what a clock read costs in
 * ticks, which each timed block pays once between its two readings: the
 * mean of back-to-back reads, in the fastest of TRIALS tries (a try that
 * was preempted or shared its CPU counts for nothing).
 */
static void calibrate(struct qbench *b)
{
	enum { TRIALS = 100, READS = 1000 };
	uint64_t ns0 = mono_ns(), t0 = ticks(), ns1, t1, best = UINT64_MAX;

	do
		ns1 = mono_ns();
	while (ns1 - ns0 < CALIBRATE_NS);
	t1 = ticks();
	b->tick_ns = t1 > t0 ? (double)(ns1 - ns0) / (double)(t1 - t0) : 1.0;
	b->stall_ticks = (uint64_t)((double)STALL_NS / b->tick_ns);
	for (int k = 0; k < TRIALS; k++) {
		t0 = ticks();
		for (int i = 0; i < READS; i++)
			(void)ticks();
		t1 = ticks() - t0;
		best = t1 < best ? t1 : best;
	}
	b->clock_ticks = (double)best / (READS + 1);
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

/* Record a command reaped by the pass at @now (ticks). */
static void account(struct run_result *r, uint64_t now, struct batch_slot *slot)
{
	slot->pending--;
	if (r)
		r->hist[hist_bucket(now - slot->submitted)]++;
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
	struct run_clock clk;
	uint64_t submitted = 0, completed = 0, bad = 0, seq = 0, idle = 0;
	uint64_t host = 0, blocks = 0, t0, last;
	uint64_t step = count / PROGRESS_STEPS + 1, next_progress = step;
	unsigned int in_flight = 0, got;

	fpgactl_queue_get_stats(b->q, &before);
	run_begin(&clk);
	last = clk.t;
	while (completed < count) {
		while (submitted < count) {
			unsigned int n = count - submitted < batch ? (unsigned int)(count - submitted)
								   : batch;
			struct batch_slot *slot;

			if (in_flight + n > limit)
				break;
			slot = take_slot(b, &seq, n);
			/* Host block: the prep calls and the submit of one batch. */
			t0 = ticks();
			for (unsigned int i = 0; i < n; i++)
				if (fpgactl_sc_prep_nop(b->q, slot, 0))
					return failure("bench", "%s: the queue refused a NOP with "
						       "%u in flight", b->device, in_flight + i);
			fpgactl_queue_submit(b->q);
			slot->submitted = t0;
			host += ticks() - t0;
			blocks++;
			submitted += n;
			in_flight += n;
		}
		t0 = ticks();
		got = fpgactl_queue_reap(b->q, c, limit);

		if (!got) {
			/* Waiting for the device: not host work, not counted. */
			if (++idle % 4096 == 0 && t0 - last > b->stall_ticks)
				return failure("bench", "%s: no completion for %llu s with %u NOPs "
					       "in flight: the device is not answering", b->device,
					       STALL_NS / 1000000000ull, in_flight);
			continue;
		}
		/* Host block: a reap that returned completions. */
		last = ticks();
		host += last - t0;
		blocks++;
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
	run_end(&clk, last, r);
	r->host_ticks = host;
	r->blocks = blocks;
	r->latency = true;
	r->count = completed - bad;
	/* Completions that matched no command are the queue's bad_completions. */
	r->bad = bad + (after.bad_completions - before.bad_completions);
	r->sq_doorbells = after.sq_doorbells - before.sq_doorbells;
	r->cq_doorbells = after.cq_doorbells - before.cq_doorbells;
	return STATUS_OK;
}

/*
 * The perfect device of the inline engine: fetch the @n entries just
 * submitted and complete them at once, in order, each with the phase of its
 * slot and its status written last, as the soft-core does.  The host reaps
 * them all before the next batch, so no unreleased entry is overwritten.
 */
static void inline_device(struct qbench *b, unsigned int n)
{
	const uint32_t mask = b->depth - 1;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t cid = __atomic_load_n(&b->isq[b->isq_head].cid, __ATOMIC_RELAXED);
		struct fpgactl_cqe *cqe = &b->icq[b->icq_tail];

		b->isq_head = (b->isq_head + 1) & mask;
		cqe->result = 0;
		cqe->rsvd = 0;
		cqe->sq_head = (uint16_t)b->isq_head;
		cqe->sq_id = 0;
		cqe->cid = cid;
		__atomic_store_n(&cqe->status, (uint16_t)(FPGACTL_SC_SUCCESS << 1 | b->iphase),
				 __ATOMIC_RELEASE);
		b->icq_tail = (b->icq_tail + 1) & mask;
		if (!b->icq_tail)
			b->iphase ^= 1;
	}
}

/*
 * The inline engine's calls, each in a function of its own that the
 * compiler may not inline into the loop, so that an instruction counter
 * (callgrind, tools/bench-instructions.sh) can tell get_sqe + fill, submit
 * and reap apart; the call and return are counted against the library.
 */
static __attribute__((noinline)) int inline_prep(struct qbench *b)
{
	return fpgactl_sc_prep_nop(b->iq, b, 0);
}

static __attribute__((noinline)) unsigned int inline_submit(struct qbench *b)
{
	return fpgactl_queue_submit(b->iq);
}

static __attribute__((noinline)) unsigned int inline_reap(struct qbench *b,
							  struct fpgactl_completion *c,
							  unsigned int max)
{
	return fpgactl_queue_reap(b->iq, c, max);
}

/*
 * The inline engine: the fpgactl engine's calls, one batch at a time, with
 * inline_device() between the submit and the reap, and no clock read but
 * at the start and the end: its e2e is the library's calls plus the perfect
 * device's stores, nothing else (no progress line either: the run takes
 * milliseconds).  Every command completes at once, so there is no latency
 * and no waiting: a reap that does not return the whole batch is a failure.
 */
static int run_inline(struct qbench *b, unsigned int batch, uint64_t count,
		      struct run_result *r)
{
	const unsigned int limit = b->depth - 1;
	struct fpgactl_completion c[MAX_DEPTH];
	struct fpgactl_queue_stats before, after;
	struct run_clock clk;
	uint64_t done = 0, bad = 0;

	fpgactl_queue_get_stats(b->iq, &before);
	run_begin(&clk);
	while (done < count) {
		unsigned int n = count - done < batch ? (unsigned int)(count - done) : batch, got;

		for (unsigned int i = 0; i < n; i++)
			if (inline_prep(b))
				return failure("bench", "inline: the queue refused a NOP with %u in "
					       "flight", i);
		inline_submit(b);
		inline_device(b, n);
		got = inline_reap(b, c, limit);
		if (got != n)
			return failure("bench", "inline: %u completions reaped for a batch of %u "
				       "completed at once", got, n);
		for (unsigned int i = 0; i < got; i++)
			if (c[i].ctx != b || c[i].error || c[i].status)
				bad++;
		done += n;
	}
	if (!r)
		return STATUS_OK;
	run_end(&clk, ticks(), r);
	fpgactl_queue_get_stats(b->iq, &after);
	r->host_ticks = 0;
	r->blocks = 0;
	r->count = done - bad;
	r->bad = bad + (after.bad_completions - before.bad_completions);
	r->sq_doorbells = after.sq_doorbells - before.sq_doorbells;
	r->cq_doorbells = after.cq_doorbells - before.cq_doorbells;
	return STATUS_OK;
}

/*
 * The io_uring engine: the same loop with IORING_OP_NOP.  Its reap block is
 * what fpgactl_queue_reap() does for the caller: find the completions,
 * hand out each one's context and result, release them (cq_advance).
 */
static int run_uring(struct qbench *b, unsigned int batch, uint64_t count,
		     struct run_result *r)
{
	const unsigned int limit = b->depth - 1;
	struct io_uring_cqe *cqes[MAX_DEPTH];
	struct {
		struct batch_slot *slot;
		int res;
	} out[MAX_DEPTH];
	struct run_clock clk;
	uint64_t submitted = 0, completed = 0, bad = 0, seq = 0;
	uint64_t host = 0, blocks = 0, t0, last;
	uint64_t step = count / PROGRESS_STEPS + 1, next_progress = step;
	unsigned int in_flight = 0, got;
	int ret;

	run_begin(&clk);
	last = clk.t;
	while (completed < count) {
		while (submitted < count) {
			unsigned int n = count - submitted < batch ? (unsigned int)(count - submitted)
								   : batch;
			struct batch_slot *slot;

			if (in_flight + n > limit)
				break;
			slot = take_slot(b, &seq, n);
			t0 = ticks();
			for (unsigned int i = 0; i < n; i++) {
				struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

				if (!sqe)
					return failure("bench", "io_uring: no free submission entry "
						       "with %u in flight", in_flight + i);
				io_uring_prep_nop(sqe);
				io_uring_sqe_set_data(sqe, slot);
			}
			ret = io_uring_submit(&b->ring);
			slot->submitted = t0;
			host += ticks() - t0;
			blocks++;
			if (ret != (int)n)
				return failure("bench", "io_uring_submit: %s",
					       ret < 0 ? errno_text(ret) : "short submission");
			submitted += n;
			in_flight += n;
		}
		t0 = ticks();
		got = io_uring_peek_batch_cqe(&b->ring, cqes, limit);

		if (!got) {
			struct io_uring_cqe *cqe;

			ret = io_uring_wait_cqe(&b->ring, &cqe);
			if (ret)
				return failure("bench", "io_uring_wait_cqe: %s", errno_text(ret));
			continue;
		}
		for (unsigned int i = 0; i < got; i++) {
			out[i].slot = io_uring_cqe_get_data(cqes[i]);
			out[i].res = cqes[i]->res;
		}
		io_uring_cq_advance(&b->ring, got);
		last = ticks();
		host += last - t0;
		blocks++;
		for (unsigned int i = 0; i < got; i++) {
			if (out[i].res) {
				bad++;
				out[i].slot->pending--;
			} else {
				account(r, last, out[i].slot);
			}
		}
		completed += got;
		in_flight -= got;
		if (r && b->progress && completed >= next_progress) {
			show_progress(b, completed, count);
			next_progress += step;
		}
	}
	if (r) {
		run_end(&clk, last, r);
		r->host_ticks = host;
		r->blocks = blocks;
		r->latency = true;
		r->count = completed - bad;
		r->bad = bad;
	}
	return STATUS_OK;
}

/*
 * The io_uring counterpart of the inline engine, the baseline it is divided
 * by: the same loop (prep a batch, one submit, reap the whole batch), no
 * clock read inside the run and no latency bookkeeping, so that both sides
 * of the ratio carry the same (no) instrumentation.  An io_uring NOP
 * completes within io_uring_submit(), so one peek finds the whole batch.
 */
static int run_uring_inline(struct qbench *b, unsigned int batch, uint64_t count,
			    struct run_result *r)
{
	struct io_uring_cqe *cqes[MAX_DEPTH];
	struct run_clock clk;
	uint64_t done = 0, bad = 0;
	int ret;

	run_begin(&clk);
	while (done < count) {
		unsigned int n = count - done < batch ? (unsigned int)(count - done) : batch, got;

		for (unsigned int i = 0; i < n; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

			if (!sqe)
				return failure("bench", "uring_inline: no free submission entry");
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data(sqe, b);
		}
		ret = io_uring_submit(&b->ring);
		if (ret != (int)n)
			return failure("bench", "io_uring_submit: %s",
				       ret < 0 ? errno_text(ret) : "short submission");
		got = io_uring_peek_batch_cqe(&b->ring, cqes, n);
		if (got != n)
			return failure("bench", "uring_inline: %u completions for a batch of %u "
				       "NOPs after io_uring_submit()", got, n);
		for (unsigned int i = 0; i < got; i++)
			if (cqes[i]->res || io_uring_cqe_get_data(cqes[i]) != b)
				bad++;
		io_uring_cq_advance(&b->ring, got);
		done += n;
	}
	if (r) {
		run_end(&clk, ticks(), r);
		r->count = done - bad;
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

static double e2e_ns_per_op(const struct qbench *b, const struct run_result *r)
{
	return r->ns / (double)b->count;
}

/* Time inside the calls, one clock read less per timed block, per NOP. */
static double host_ns_per_op(const struct qbench *b, const struct run_result *r)
{
	double t = (double)r->host_ticks - (double)r->blocks * b->clock_ticks;

	return t > 0 ? t * r->tick_ns / (double)b->count : 0;
}

static void print_header(const struct qbench *b)
{
	printf("bench queue: %s, 1 queue of depth %" PRIu32 " (up to %" PRIu32 " in flight), "
	       "%" PRIu64 " NOPs per run after %" PRIu64 " not timed\n",
	       b->device, b->depth, b->depth - 1, b->count,
	       b->count < WARMUP_COUNT ? b->count : (uint64_t)WARMUP_COUNT);
	printf("clock: %s, %.1f ns per read, converted against CLOCK_MONOTONIC over each run; "
	       "read around each submit block and each reap call, never per NOP\n",
	       CLOCK_NAME, b->clock_ticks * b->tick_ns);
	printf("e2e_ns/op  = run time (first submission to last reap pass) / NOPs: throughput "
	       "of host and device together, bounded by the slower\n");
	printf("host_ns/op = time inside the calls / NOPs: prep + submit of each batch, and "
	       "the reap calls that returned completions (a reap that\n"
	       "             finds nothing is waiting for the device, not counted); one "
	       "clock read subtracted per block\n");
	printf("inline     = the fpgactl calls against a perfect device the bench plays in "
	       "the same thread between submit and reap, no clock\n"
	       "             read inside the run: e2e_ns/op = the library's calls + the "
	       "perfect device's stores, no device thread\n");
	printf("uring_inline = io_uring NOPs in the inline engine's loop (one submit, one "
	       "peek per batch, no clock read, no latency kept): its baseline\n");
	printf("latency    = from the start of a NOP's batch (before its first prep call) to "
	       "the reap pass that saw the NOP (percentiles within 3%%)\n");
	printf("%-12s %5s %11s %9s %10s %8s %8s %9s %8s %8s %5s\n", "engine", "batch", "ops/s",
	       "e2e_ns/op", "host_ns/op", "p50_ns", "p99_ns", "p99.9_ns", "sq_db/op", "cq_db/op",
	       "bad");
}

static void print_latency(const struct run_result *r)
{
	printf(" %8.0f %8.0f %9.0f", (double)percentile(r, 0.50) * r->tick_ns,
	       (double)percentile(r, 0.99) * r->tick_ns, (double)percentile(r, 0.999) * r->tick_ns);
}

static void print_row(const struct qbench *b, const char *engine, unsigned int batch,
		      const struct run_result *r, bool doorbells)
{
	double e2e = e2e_ns_per_op(b, r);

	printf("%-12s %5u %11.0f %9.1f", engine, batch, 1e9 / e2e, e2e);
	if (r->blocks)
		printf(" %10.1f", host_ns_per_op(b, r));
	else
		printf(" %10s", "-");
	if (r->latency)
		print_latency(r);
	else
		printf(" %8s %8s %9s", "-", "-", "-");
	if (doorbells)
		printf(" %8.4f %8.4f", (double)r->sq_doorbells / (double)b->count,
		       (double)r->cq_doorbells / (double)b->count);
	else
		printf(" %8s %8s", "-", "-");
	printf(" %5" PRIu64 "\n", r->bad);
	fflush(stdout);
}

static void print_missing(const char *engine, unsigned int batch)
{
	printf("%-12s %5u %11s %9s %10s %8s %8s %9s %8s %8s %5s\n", engine, batch, "-", "-",
	       "-", "-", "-", "-", "-", "-", "-");
	fflush(stdout);
}

/* "%*.Nf" of @v, or "-" when it was not measured (< 0). */
static void print_figure(int width, int prec, double v)
{
	if (v < 0)
		printf(" %*s", width, "-");
	else
		printf(" %*.*f", width, prec, v);
}

/* @a / @b, or "not measured" (-1). */
static double ratio(double a, double b)
{
	return a < 0 || b <= 0 ? -1 : a / b;
}

static void print_summary(const struct summary *s, unsigned int n)
{
	printf("\nper NOP, ns; each ratio divides an io_uring figure by the fpgactl figure "
	       "measured the same way (above 1: fpgactl costs less):\n"
	       "  io_uring/e2e = io_uring e2e / fpgactl e2e, io_uring/host = io_uring host / "
	       "fpgactl host, uring_inline/inline = uring_inline e2e / inline e2e\n");
	printf("%5s %11s %12s %10s %11s %13s %12s %12s %13s %19s\n", "batch", "fpgactl_e2e",
	       "fpgactl_host", "inline_e2e", "io_uring_e2e", "io_uring_host", "uring_inline",
	       "io_uring/e2e", "io_uring/host", "uring_inline/inline");
	for (unsigned int i = 0; i < n; i++) {
		const double *e2e = s[i].e2e, *host = s[i].host;

		printf("%5u", s[i].batch);
		print_figure(11, 1, e2e[E_FPGACTL]);
		print_figure(12, 1, host[E_FPGACTL]);
		print_figure(10, 1, e2e[E_INLINE]);
		print_figure(11, 1, e2e[E_URING]);
		print_figure(13, 1, host[E_URING]);
		print_figure(12, 1, e2e[E_URING_INLINE]);
		print_figure(12, 2, ratio(e2e[E_URING], e2e[E_FPGACTL]));
		print_figure(13, 2, ratio(host[E_URING], host[E_FPGACTL]));
		print_figure(19, 2, ratio(e2e[E_URING_INLINE], e2e[E_INLINE]));
		printf("\n");
	}
	fflush(stdout);
}

static const struct engine {
	const char *name;
	engine_fn run;
	bool doorbells;		/* a queue of the library: doorbell counts */
} engines[NR_ENGINES] = {
	[E_FPGACTL] = { "fpgactl", run_fpgactl, true },
	[E_URING] = { "io_uring", run_uring, false },
	[E_INLINE] = { "inline", run_inline, true },
	[E_URING_INLINE] = { "uring_inline", run_uring_inline, false },
};

/* Why engine @e cannot run here (-errno), or 0. */
static int engine_err(const struct qbench *b, enum engine_id e)
{
	if (e == E_INLINE)
		return b->inline_err;
	return e == E_FPGACTL ? 0 : b->ring_err;
}

/* Measure engine @e at @batch, print its row, note its figures in @s. */
static int run_engine(struct qbench *b, enum engine_id e, unsigned int batch,
		      struct run_result *r, struct summary *s, uint64_t *bad)
{
	int status;

	s->e2e[e] = s->host[e] = -1;
	if (!(b->engines & 1u << e))
		return STATUS_OK;
	if (engine_err(b, e)) {
		print_missing(engines[e].name, batch);
		return STATUS_OK;
	}
	status = measure(b, engines[e].name, engines[e].run, batch, r);
	if (status)
		return status;
	print_row(b, engines[e].name, batch, r, engines[e].doorbells);
	s->e2e[e] = e2e_ns_per_op(b, r);
	if (r->blocks)
		s->host[e] = host_ns_per_op(b, r);
	*bad += r->bad;
	return STATUS_OK;
}

static int run_all(struct qbench *b)
{
	struct run_result *r = calloc(1, sizeof(*r));
	struct summary sum[ARRAY_SIZE(default_batches)];
	uint64_t bad = 0;
	unsigned int done = 0;
	int status = r ? STATUS_OK : failure("bench", "%s", errno_text(ENOMEM));

	if (!status)
		print_header(b);
	for (unsigned int i = 0; !status && i < b->nr_batches; i++) {
		unsigned int batch = b->batches[i];
		struct summary *s = &sum[done];

		s->batch = batch;
		for (int e = 0; e < NR_ENGINES && !status; e++)
			status = run_engine(b, (enum engine_id)e, batch, r, s, &bad);
		if (status)
			break;
		done++;
	}
	if (!status)
		print_summary(sum, done);
	if (!status && bad)
		status = failure("bench", "%" PRIu64 " bad completions: a NOP did not complete "
				 "successfully, so these numbers do not measure NOPs", bad);
	free(r);
	return status;
}

/* --engine NAME[,NAME...]: the engines to run, as bits of enum engine_id. */
static int parse_engines(const char *arg, unsigned int *mask)
{
	const char *p = arg;

	*mask = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		int found = -1;

		for (int e = 0; e < NR_ENGINES; e++)
			if (strlen(engines[e].name) == len && !strncmp(p, engines[e].name, len))
				found = e;
		if (found < 0)
			return usage_error("bench", "unknown engine '%.*s' in '%s' (available: "
					   "fpgactl, io_uring, inline, uring_inline)", (int)len,
					   p, arg);
		*mask |= 1u << found;
		if (!p[len])
			break;
		p += len + 1;
	}
	return STATUS_OK;
}

static int parse_queue_args(const struct invocation *inv, struct qbench *b)
{
	const char *cmd = "bench";
	uint64_t depth = DEFAULT_DEPTH, batch = 0, count = DEFAULT_COUNT;
	int status = STATUS_OK;

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
	b->engines = (1u << NR_ENGINES) - 1;
	if (inv->engine) {
		status = parse_engines(inv->engine, &b->engines);
		if (status)
			return status;
	}
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

/* No inline engine, and why (on stderr): its rows show "-". */
static int inline_unavailable(struct qbench *b, const char *why, int err)
{
	fprintf(stderr, "fpgactl: bench: inline engine unavailable (%s%s%s): no inline "
		"figures\n", why, err ? ": " : "", err ? errno_text(err) : "");
	b->inline_err = err ? err : -EFAULT;
	return b->inline_err;
}

/*
 * The inline engine's queue: queue pair 0 of a private model whose device
 * thread never enables it (so the doorbells land in plain memory and
 * nothing but inline_device() touches the rings), with the rings found
 * through public calls only.  The first entry reserved on a fresh queue is
 * slot 0 of the SQ, which fpgactl_dma_iova() confirms (its IOVA is the SQ's);
 * when both rings share one buffer, the CQ lies cq_iova - sq_iova bytes
 * further, which fpgactl_dma_iova() confirms too (in one IOMMU context an
 * IOVA names one memory).  One NOP through the perfect device then checks
 * the whole round trip.  Return 0, or -errno after a line on stderr.
 */
static int inline_open(struct qbench *b)
{
	const struct fpgactl_queue_cfg cfg = {
		.qid = 0, .depth = b->depth, .bar = 0, .db_offset = FPGACTL_SC_DOORBELLS,
		.db_stride = 4,
	};
	struct fpgactl_completion c;
	struct fpgactl_iommu *iommu;
	struct fpgactl_sqe *sqe;
	uint64_t sq_iova, cq_iova, iova = 0;
	uintptr_t cq;
	int err = 0;

	b->idev = fpgactl_device_open(INLINE_MODEL, NULL, &err);
	if (!b->idev)
		return inline_unavailable(b, "cannot open " INLINE_MODEL, err);
	b->iq = fpgactl_queue_create(b->idev, &cfg, &err);
	if (!b->iq)
		return inline_unavailable(b, "cannot create its queue", err);
	iommu = fpgactl_device_iommu(b->idev);
	sq_iova = fpgactl_queue_sq_iova(b->iq);
	cq_iova = fpgactl_queue_cq_iova(b->iq);
	sqe = fpgactl_queue_get_sqe(b->iq, b, 0);
	if (!sqe || fpgactl_dma_iova(iommu, sqe, (size_t)b->depth * sizeof(*sqe), &iova) ||
	    iova != sq_iova)
		return inline_unavailable(b, "the submission ring is not where expected", 0);
	sqe->opc = FPGACTL_SC_OP_NOP;
	cq = (uintptr_t)sqe + (uintptr_t)(cq_iova - sq_iova);
	if (fpgactl_dma_iova(iommu, (const void *)cq,
			     (size_t)b->depth * sizeof(struct fpgactl_cqe), &iova) ||
	    iova != cq_iova)
		return inline_unavailable(b, "the completion ring is not in the submission "
					  "ring's buffer", 0);
	b->isq = sqe;
	b->icq = (struct fpgactl_cqe *)cq;
	b->iphase = 1;
	fpgactl_queue_submit(b->iq);
	inline_device(b, 1);
	if (fpgactl_queue_reap(b->iq, &c, 1) != 1 || c.ctx != b || c.error || c.status)
		return inline_unavailable(b, "a NOP through the perfect device did not come "
					  "back", 0);
	b->inline_err = 0;
	return 0;
}

/* The soft-core -d and its queue 0, for the fpgactl engine. */
static int open_fpgactl(struct qbench *b, const struct invocation *inv)
{
	const struct fpgactl_sc_opts opts = { .nr_queues = 1, .depth = b->depth };
	int status = open_device(inv, b->device, &b->dev);

	if (!status)
		status = open_softcore("bench", b->dev, b->device, &opts, &b->sc);
	if (!status)
		b->q = fpgactl_sc_queue(b->sc, 0);
	return status;
}

static int open_engines(struct qbench *b, const struct invocation *inv)
{
	int status;

	b->slots = calloc(b->depth, sizeof(*b->slots));
	if (!b->slots)
		return failure("bench", "%s", errno_text(ENOMEM));
	/* Only when its engine runs (--engine): none under valgrind. */
	if (b->engines & 1u << E_FPGACTL) {
		status = open_fpgactl(b, inv);
		if (status)
			return status;
	}
	b->ring_err = io_uring_queue_init(b->depth, &b->ring, 0);
	if (b->ring_err)
		fprintf(stderr, "fpgactl: bench: io_uring unavailable (%s): no baseline\n",
			errno_text(b->ring_err));
	inline_open(b);
	calibrate(b);
	return STATUS_OK;
}

int run_bench_queue(const struct invocation *inv)
{
	struct qbench *b = calloc(1, sizeof(*b));
	int status;

	if (!b)
		return failure("bench", "%s", errno_text(ENOMEM));
	b->ring_err = -ENODEV;
	b->inline_err = -ENODEV;
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
	fpgactl_queue_destroy(b->iq);
	fpgactl_device_close(b->idev);
	free(b->slots);
	free(b);
	return status;
}
