// SPDX-License-Identifier: MIT
/*
 * Queue wait modes on top of the ring engine's public API
 * (fpgactl_queue_reap(), fpgactl_queue_in_flight()) and the event engine:
 * busy polling, sleeping on the queue's interrupt eventfd, or both in turn.
 *
 * The interrupt modes watch the queue's eventfd in the caller's engine on
 * first use and keep it watched; see watch_queue_eventfd() for a number
 * that comes back as another file.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/core.h"
#include "vfio/vfio.h"
#include "queue/queue.h"

/* Longest sleep while commands are in flight: their deadlines are enforced
 * by fpgactl_queue_reap(), which must run even if the device never
 * interrupts. */
#define DEADLINE_TICK_NS 10000000ull

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * Watch the queue's eventfd in @ev.  The engine holds the file it was given,
 * under its fd number: when the file behind the number may have changed
 * since (the interrupts were enabled again, which closes the eventfds and
 * usually hands out the same numbers, or fpgactl_queue_set_eventfd() was
 * called), the old watch is dropped first, or the wait would sleep on a
 * file no interrupt reaches any more.
 */
static int watch_queue_eventfd(struct fpgactl_queue *q, struct fpgactl_events *ev, int efd)
{
	struct queue_watch *w = queue_watch(q);
	uint64_t gen = queue_eventfd_gen(q);
	int ret;

	if (w->ev == ev && w->fd >= 0 && w->gen != gen)
		fpgactl_events_unwatch(ev, w->fd);
	ret = fpgactl_events_watch(ev, efd, (uint64_t)(uintptr_t)q);
	if (ret && ret != -EEXIST)
		return ret;
	*w = (struct queue_watch){ .ev = ev, .fd = efd, .gen = gen };
	return 0;
}

/* Sleep on the queue's eventfd until something is reaped or the deadline. */
static int wait_interrupt(struct fpgactl_queue *q, struct fpgactl_events *ev,
			  uint64_t deadline, struct fpgactl_completion *out,
			  unsigned int max)
{
	int efd = queue_eventfd(q), ret;
	unsigned int n;

	if (efd < 0) {
		log_err("fpgactl_queue_wait(): the queue has no interrupt eventfd: "
			"enable interrupts (fpgactl_irq_enable()) and call "
			"fpgactl_queue_set_eventfd(), or use FPGACTL_WAIT_POLL");
		return -EINVAL;
	}
	ret = watch_queue_eventfd(q, ev, efd);
	if (ret)
		return ret;
	for (;;) {
		uint64_t t = now_ns(), slice;

		if (t >= deadline)
			return 0;
		slice = deadline - t < DEADLINE_TICK_NS ? deadline - t : DEADLINE_TICK_NS;
		ret = fpgactl_events_wait_fd(ev, efd, (int64_t)slice);
		if (ret < 0)
			return ret;
		n = fpgactl_queue_reap(q, out, max);
		/* INTx: VFIO masked the line on delivery; the reap serviced the
		 * queue (CQ head doorbell), so let the next interrupt through. */
		if (ret > 0) {
			ret = irq_intx_rearm(queue_device(q), efd);
			if (ret && !n)
				return ret;
		}
		if (n)
			return (int)n;
		if (!fpgactl_queue_in_flight(q))
			return 0;
	}
}

FPGACTL_EXPORT int fpgactl_queue_wait(struct fpgactl_queue *q,
				      struct fpgactl_events *ev,
				      enum fpgactl_wait_mode mode, uint64_t spin_ns,
				      int64_t timeout_ns, struct fpgactl_completion *out,
				      unsigned int max)
{
	uint64_t start = now_ns(), deadline, spin_end;
	unsigned int n;

	if (!q || !out || !max || mode > FPGACTL_WAIT_HYBRID ||
	    (mode != FPGACTL_WAIT_POLL && !ev)) {
		log_err("fpgactl_queue_wait(): bad arguments (queue %p, engine %p, "
			"mode %d, room for %u completions)%s", (void *)q, (void *)ev,
			(int)mode, max, mode != FPGACTL_WAIT_POLL && !ev ?
			": the interrupt modes need an event engine" : "");
		return -EINVAL;
	}
	if (mode != FPGACTL_WAIT_POLL && !queue_interrupts(q)) {
		/* It would only ever wake on the deadline tick. */
		log_err("fpgactl_queue_wait(): interrupt mode on a queue whose device "
			"never interrupts: open the soft-core with .interrupts = true "
			"(fpgactl_sc_opts), or use FPGACTL_WAIT_POLL");
		return -EINVAL;
	}
	deadline = timeout_ns < 0 ? UINT64_MAX : start + (uint64_t)timeout_ns;
	if (mode == FPGACTL_WAIT_POLL)
		spin_end = deadline;
	else if (mode == FPGACTL_WAIT_HYBRID && spin_ns < deadline - start)
		spin_end = start + spin_ns;
	else if (mode == FPGACTL_WAIT_HYBRID)
		spin_end = deadline;
	else
		spin_end = start;

	/* Poll: everything here is memory reads, no system call. */
	for (;;) {
		uint64_t t;

		if (ev && fpgactl_events_removed(ev))
			return -ENODEV;
		n = fpgactl_queue_reap(q, out, max);
		if (n)
			return (int)n;
		if (!fpgactl_queue_in_flight(q))
			return 0;
		t = now_ns();
		if (t >= deadline)
			return 0;
		if (t >= spin_end)
			break;
		cpu_relax();
	}
	return wait_interrupt(q, ev, deadline, out, max);
}
