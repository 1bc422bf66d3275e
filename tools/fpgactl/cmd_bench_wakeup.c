// SPDX-License-Identifier: MIT
/*
 * fpgactl bench wakeup: how long a thread sleeping for a completion takes
 * to have it in hand, with three ways of sleeping on the queue's interrupt
 * eventfd, in the same run:
 *
 *   (a) fpgactl_queue_wait() in FPGACTL_WAIT_INTERRUPT mode: the library's
 *       io_uring event engine (a poll on the eventfd, drained by a read
 *       riding on the next io_uring_enter());
 *   (b) a blocking read() of the eventfd: the baseline, the simplest thing;
 *   (c) epoll_wait() on the eventfd, then a read() to drain it.
 *
 * One sample: submit one NOP (soft-core interrupts on), sleep until woken,
 * reap the completion; the time from just before the doorbell to the
 * completion in hand.  The three methods take turns, the first of each
 * round rotating, so that noise hits all three alike.
 *
 * A benchmark, not a test: it judges no number.  It fails only when it
 * cannot run (no interrupt within 2 s, a bad completion).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <fpgactl.h>

#include "bench.h"
#include "device_arg.h"
#include "sc_util.h"
#include "util.h"

#define CMD "bench"
/*
 * The model, kept awake: with its default idle sleep (50 us after 50 us
 * without work) a NOP sometimes waits for the device thread to wake up,
 * and that, not the host's wake-up path, would make the distribution
 * bimodal (measured: ~25 % of the samples 45-80 us later).
 */
#define DEFAULT_DEVICE MODEL_NAME ":idle=0"
#define DEFAULT_COUNT 10000
#define MAX_COUNT 10000000
#define WARMUP 200		/* samples per method, not kept */
#define DEPTH 16
#define TIMEOUT_NS 2000000000ull
#define TIMEOUT_S 2
#define NR_METHODS 3

enum method { M_ENGINE, M_READ, M_EPOLL };

static const char *const method_names[NR_METHODS] = {
	[M_ENGINE] = "fpgactl_queue_wait(INTERRUPT)",
	[M_READ] = "read() on the eventfd",
	[M_EPOLL] = "epoll_wait() on the eventfd",
};

/**
 * struct wbench - one bench wakeup invocation
 * @device: device name
 * @count: samples kept per method
 * @dev: the device
 * @sc: its soft-core, interrupts on
 * @q: queue pair 0
 * @fd: MSI-X vector 0's eventfd (the library's: never closed here)
 * @fd_flags: its file status flags as the library set them (O_NONBLOCK)
 * @ev: event engine of (a); NULL when io_uring is unavailable
 * @ep: epoll instance of (c)
 * @samples: per method, @count latencies in ns
 * @progress: progress bar
 */
struct wbench {
	char device[FPGACTL_DEVICE_NAME_MAX];
	uint64_t count;
	struct fpgactl_device *dev;
	struct fpgactl_sc *sc;
	struct fpgactl_queue *q;
	int fd;
	int fd_flags;
	struct fpgactl_events *ev;
	int ep;
	uint64_t *samples[NR_METHODS];
	struct progress progress;
};

static void on_alarm(int sig)
{
	(void)sig; /* only there to interrupt a read() that would block forever */
}

static int parse_args(const struct invocation *inv, struct wbench *b)
{
	int status;

	status = parse_device_or_model(CMD, inv->device ? inv->device : DEFAULT_DEVICE,
				       b->device, sizeof(b->device));
	b->count = DEFAULT_COUNT;
	if (!status && inv->count) {
		status = parse_number_arg(CMD, "count", inv->count, MAX_COUNT, &b->count);
		if (!status && !b->count)
			return usage_error(CMD, "count must be at least 1");
	}
	return status;
}

static int set_up(const struct invocation *inv, struct wbench *b)
{
	struct fpgactl_sc_opts opts = { .nr_queues = 1, .depth = DEPTH, .interrupts = true };
	struct epoll_event eev = { .events = EPOLLIN };
	struct sigaction sa = { .sa_handler = on_alarm };
	int err = 0, status;

	status = open_device(inv, b->device, &b->dev);
	if (status)
		return status;
	status = open_softcore(CMD, b->dev, b->device, &opts, &b->sc);
	if (status)
		return status;
	b->q = fpgactl_sc_queue(b->sc, 0);
	err = fpgactl_irq_enable(b->dev, FPGACTL_IRQ_MSIX, 1);
	if (err)
		return failure(CMD, "%s: cannot enable MSI-X: %s", b->device, errno_text(err));
	b->fd = fpgactl_irq_fd(b->dev, FPGACTL_IRQ_MSIX, 0);
	b->fd_flags = fcntl(b->fd, F_GETFL);
	if (b->fd < 0 || b->fd_flags < 0)
		return failure(CMD, "%s: MSI-X vector 0 has no eventfd", b->device);
	fpgactl_queue_set_eventfd(b->q, b->fd);
	b->ev = fpgactl_events_create(1, &err);
	if (!b->ev)
		fprintf(stderr, "fpgactl: %s: no io_uring event engine (%s): the "
			"fpgactl_queue_wait() row is left empty\n", CMD, errno_text(err));
	b->ep = epoll_create1(EPOLL_CLOEXEC);
	if (b->ep < 0 || epoll_ctl(b->ep, EPOLL_CTL_ADD, b->fd, &eev))
		return failure(CMD, "epoll: %s", strerror(errno));
	sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: a read() returns EINTR */
	for (int m = 0; m < NR_METHODS; m++) {
		b->samples[m] = calloc(b->count, sizeof(uint64_t));
		if (!b->samples[m])
			return failure(CMD, "%s", errno_text(ENOMEM));
	}
	return STATUS_OK;
}

static void tear_down(struct wbench *b)
{
	if (b->ep > 0)
		close(b->ep);
	fpgactl_events_destroy(b->ev);
	if (b->q)
		fpgactl_queue_set_eventfd(b->q, -1);
	if (b->dev)
		fpgactl_irq_disable(b->dev, FPGACTL_IRQ_MSIX);
	fpgactl_sc_close(b->sc);
	fpgactl_device_close(b->dev);
	for (int m = 0; m < NR_METHODS; m++)
		free(b->samples[m]);
}

/* Empty the eventfd's counter (non-blocking read), so no old interrupt wakes a waiter. */
static void drain(struct wbench *b)
{
	uint64_t v;

	while (read(b->fd, &v, sizeof(v)) == sizeof(v))
		;
}

static int check_completion(struct wbench *b, const struct fpgactl_completion *c)
{
	if (c->error || c->status)
		return failure(CMD, "%s: the NOP completed with %s", b->device,
			       c->error ? errno_text(c->error) : fpgactl_sc_status_name(c->status));
	return STATUS_OK;
}

/* After (b) or (c) woke up: the completion must be there already. */
static int take_completion(struct wbench *b)
{
	struct fpgactl_completion c;
	int n = fpgactl_queue_wait(b->q, NULL, FPGACTL_WAIT_POLL, 0, (int64_t)TIMEOUT_NS, &c, 1);

	if (n <= 0)
		return failure(CMD, "%s: woken up, but the NOP got no completion", b->device);
	return check_completion(b, &c);
}

static int no_interrupt(struct wbench *b, enum method m)
{
	return failure(CMD, "%s: %s: no interrupt within %d s", b->device, method_names[m],
		       TIMEOUT_S);
}

/* One sample of @m: *@ns from before the doorbell to the completion in hand. */
static int sample(struct wbench *b, enum method m, uint64_t *ns)
{
	struct fpgactl_completion c;
	struct epoll_event eev;
	uint64_t start, v;
	ssize_t r;
	int n, status;

	drain(b);
	switch (m) {
	case M_ENGINE:
		/*
		 * Watched for this sample only (as fpgactl_queue_wait() would on
		 * first use, but untimed): an engine's poll fires on every signal
		 * of the eventfd, and would post its completion (task work, which
		 * also makes epoll_wait() return EINTR) during (b) and (c).
		 */
		n = fpgactl_events_watch(b->ev, b->fd, (uint64_t)(uintptr_t)b->q);
		if (n)
			return failure(CMD, "watching the eventfd: %s", errno_text(n));
		start = mono_ns();
		status = submit_nop(CMD, b->q, b, TIMEOUT_NS);
		n = status ? 0 : fpgactl_queue_wait(b->q, b->ev, FPGACTL_WAIT_INTERRUPT, 0,
						    (int64_t)TIMEOUT_NS, &c, 1);
		*ns = mono_ns() - start;
		fpgactl_events_unwatch(b->ev, b->fd);
		if (status)
			return status;
		if (n < 0)
			return failure(CMD, "fpgactl_queue_wait: %s", errno_text(n));
		if (!n)
			return no_interrupt(b, m);
		return check_completion(b, &c);
	case M_READ:
		/* Blocking for this read only; the library's flags come back after. */
		fcntl(b->fd, F_SETFL, b->fd_flags & ~O_NONBLOCK);
		alarm(TIMEOUT_S);
		start = mono_ns();
		status = submit_nop(CMD, b->q, b, TIMEOUT_NS);
		r = status ? -1 : read(b->fd, &v, sizeof(v));
		if (!status && r == sizeof(v))
			status = take_completion(b);
		*ns = mono_ns() - start;
		alarm(0);
		fcntl(b->fd, F_SETFL, b->fd_flags);
		if (!status && r != sizeof(v))
			return no_interrupt(b, m);
		return status;
	case M_EPOLL:
		start = mono_ns();
		status = submit_nop(CMD, b->q, b, TIMEOUT_NS);
		if (status)
			return status;
		do
			n = epoll_wait(b->ep, &eev, 1, TIMEOUT_S * 1000);
		while (n < 0 && errno == EINTR && mono_ns() - start < TIMEOUT_NS);
		if (n == 1 && read(b->fd, &v, sizeof(v)) == sizeof(v))
			status = take_completion(b);
		*ns = mono_ns() - start;
		if (!status && n != 1)
			return no_interrupt(b, m);
		return status;
	}
	return STATUS_FAILED;
}

/* Nearest-rank percentile of sorted @v. */
static uint64_t percentile(const uint64_t *v, uint64_t n, double p)
{
	uint64_t rank = (uint64_t)(p / 100.0 * (double)n + 0.999999);

	return v[rank ? rank - 1 : 0];
}

static void print_results(struct wbench *b)
{
	uint64_t p50[NR_METHODS], p99[NR_METHODS];

	for (int m = 0; m < NR_METHODS; m++) {
		if (m == M_ENGINE && !b->ev)
			continue;
		sort_u64(b->samples[m], b->count);
		p50[m] = percentile(b->samples[m], b->count, 50);
		p99[m] = percentile(b->samples[m], b->count, 99);
	}
	printf("%-32s %10s %10s %9s %9s\n", "method", "p50_ns", "p99_ns", "p50_ratio",
	       "p99_ratio");
	for (int m = 0; m < NR_METHODS; m++) {
		char name[48];

		snprintf(name, sizeof(name), "%s%s", method_names[m],
			 m == M_READ ? " *" : "");
		if (m == M_ENGINE && !b->ev) {
			printf("%-32s %10s %10s %9s %9s\n", name, "-", "-", "-", "-");
			continue;
		}
		printf("%-32s %10" PRIu64 " %10" PRIu64, name, p50[m], p99[m]);
		if (m == M_READ)
			printf(" %9s %9s\n", "1.00", "1.00");
		else
			printf(" %9.2f %9.2f\n", (double)p50[m] / (double)p50[M_READ],
			       (double)p99[m] / (double)p99[M_READ]);
	}
	printf("* baseline; ratio = p50 (p99) of the method / p50 (p99) of read(): below 1 "
	       "wakes up sooner\n");
}

static int run(struct wbench *b)
{
	uint64_t total = (b->count + WARMUP) * NR_METHODS, done = 0;

	printf("bench wakeup: %s, 1 queue, interrupts on (MSI-X vector 0); %" PRIu64
	       " NOPs per method after %d not timed, one at a time, methods taking turns\n",
	       b->device, b->count, WARMUP);
	printf("latency = from just before the NOP's doorbell to its completion in hand "
	       "(submit, sleep, wake up, reap)\n");
	fflush(stdout);
	progress_start(&b->progress, "wakeup", total, false);
	for (uint64_t i = 0; i < b->count + WARMUP; i++) {
		for (int k = 0; k < NR_METHODS; k++) {
			enum method m = (enum method)((i + (uint64_t)k) % NR_METHODS);
			uint64_t ns = 0;
			int status;

			if (m == M_ENGINE && !b->ev)
				continue;
			status = sample(b, m, &ns);
			if (status) {
				progress_end(&b->progress);
				return status;
			}
			if (i >= WARMUP)
				b->samples[m][i - WARMUP] = ns;
		}
		done += NR_METHODS;
		if (i % 64 == 0)
			progress_update(&b->progress, done);
	}
	progress_end(&b->progress);
	print_results(b);
	return STATUS_OK;
}

int run_bench_wakeup(const struct invocation *inv)
{
	struct wbench b = { .fd = -1, .ep = -1 };
	int status = parse_args(inv, &b);

	if (status)
		return status;
	status = set_up(inv, &b);
	if (!status)
		status = run(&b);
	tear_down(&b);
	return status;
}
