/* SPDX-License-Identifier: MIT */
#ifndef FPGACTL_EVENTS_H
#define FPGACTL_EVENTS_H

/*
 * The event engine: waits for eventfds (interrupt vectors, the device's
 * removal request, eventfds of the application) on one io_uring, and the
 * queue wait modes built on it: busy polling, interrupts, or polling that
 * falls back to interrupts.  See docs/interrupts.md.
 *
 * An engine belongs to one thread at a time, like a queue.  Several engines
 * may watch the same eventfd only if it is a removal eventfd (which no
 * engine drains); an ordinary eventfd is drained by the engine that sees it
 * fire.
 */

#include <stdbool.h>
#include <stdint.h>

#include <fpgactl/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Wait without a time limit (for every timeout_ns of this header). */
#define FPGACTL_WAIT_FOREVER ((int64_t)-1)

struct fpgactl_events;

/**
 * fpgactl_events_create() - create an event engine
 * @max_fds: most eventfds watched at once (including a removal eventfd),
 *	1 to 4096
 * @err: receives -errno on failure; may be NULL
 *
 * One io_uring with a table of @max_fds registered files.  Each eventfd is
 * watched by a multishot poll where the kernel has them (5.13 and later),
 * by a single-shot poll re-armed after each event otherwise.
 *
 * Return: the engine, or NULL with *@err set: -EINVAL for a bad @max_fds,
 * -ENOSYS / -EPERM when io_uring is unavailable or forbidden
 * (kernel.io_uring_disabled, a seccomp filter: logged with the fix),
 * -ENOMEM, or another -errno.
 */
struct fpgactl_events *fpgactl_events_create(unsigned int max_fds, int *err);

/**
 * fpgactl_events_destroy() - destroy an engine
 * @ev: engine, or NULL
 *
 * Drops every watch.  The eventfds themselves are not closed.
 */
void fpgactl_events_destroy(struct fpgactl_events *ev);

/**
 * fpgactl_events_watch() - start watching an eventfd
 * @ev: engine
 * @fd: an eventfd (or anything whose read returns an 8-byte counter, such
 *	as a timerfd)
 * @tag: reported by fpgactl_events_wait() when @fd fires
 *
 * The engine keeps its own reference to the file (a registered file), so
 * closing @fd later does not disturb it; unwatch it all the same to release
 * the file.
 *
 * Return: 0; -EEXIST when @fd is watched already; -ENOSPC when @max_fds are
 * watched; -EBADF for a bad fd; or -errno.
 */
int fpgactl_events_watch(struct fpgactl_events *ev, int fd, uint64_t tag);

/**
 * fpgactl_events_watch_removal() - watch a removal eventfd
 * @ev: engine
 * @fd: the eventfd of fpgactl_irq_watch_removal() (or any eventfd the
 *	application signals to tear its waiters down)
 *
 * Once @fd fires, every fpgactl_events_wait(), fpgactl_events_wait_fd() and
 * fpgactl_queue_wait() on @ev returns -ENODEV, at once and from then on
 * (fpgactl_events_removed() turns true).  @fd is never drained, so every
 * engine watching it sees it fire.
 *
 * Return: 0, or an error as for fpgactl_events_watch().
 */
int fpgactl_events_watch_removal(struct fpgactl_events *ev, int fd);

/**
 * fpgactl_events_unwatch() - stop watching an eventfd
 * @ev: engine
 * @fd: a watched fd
 *
 * An event of @fd not yet returned by fpgactl_events_wait() is dropped.
 *
 * Return: 0, or -ENOENT when @fd is not watched.
 */
int fpgactl_events_unwatch(struct fpgactl_events *ev, int fd);

/**
 * fpgactl_events_wait() - wait for watched eventfds to fire
 * @ev: engine
 * @timeout_ns: longest wait; 0 only collects what fired already;
 *	FPGACTL_WAIT_FOREVER has no limit
 * @tags: receives the tags of the eventfds that fired, each once
 * @max: size of @tags (at least 1)
 *
 * Each eventfd that fired is reported once however many times it was
 * signalled, and its counter is read (drained) by the engine: with no system
 * call of its own, the read rides on the next wait's io_uring_enter().
 * Eventfds that fired beyond @max stay pending for the next call.
 *
 * Return: the number of tags written (1 .. @max); 0 when @timeout_ns passed
 * first; -ENODEV once a removal eventfd fired; -EINVAL for @max 0; or
 * -errno from io_uring (logged).
 */
int fpgactl_events_wait(struct fpgactl_events *ev, int64_t timeout_ns,
			uint64_t *tags, unsigned int max);

/**
 * fpgactl_events_wait_fd() - wait for one watched eventfd
 * @ev: engine
 * @fd: a watched fd
 * @timeout_ns: as for fpgactl_events_wait()
 *
 * Like fpgactl_events_wait() for @fd alone: other eventfds that fire in the
 * meantime stay pending for fpgactl_events_wait().
 *
 * Return: 1 when @fd fired, 0 on timeout, -ENOENT when @fd is not watched,
 * -ENODEV once a removal eventfd fired, or -errno (logged).
 */
int fpgactl_events_wait_fd(struct fpgactl_events *ev, int fd, int64_t timeout_ns);

/**
 * fpgactl_events_removed() - has a removal eventfd fired?
 * @ev: engine
 *
 * Looks at the completions the kernel has posted already, without a system
 * call (but for one io_uring_enter() per event on kernels without multishot
 * poll): cheap enough for a busy-polling loop.
 *
 * Return: true once a removal eventfd of @ev has fired.
 */
bool fpgactl_events_removed(struct fpgactl_events *ev);

/* ---- queue wait modes ------------------------------------------------------ */

/**
 * enum fpgactl_wait_mode - how fpgactl_queue_wait() waits for completions
 * @FPGACTL_WAIT_POLL: reap in a busy loop: lowest latency, one CPU spent
 * @FPGACTL_WAIT_INTERRUPT: reap; when nothing is there, sleep until the
 *	queue's interrupt eventfd fires, then reap
 * @FPGACTL_WAIT_HYBRID: poll for spin_ns, then as FPGACTL_WAIT_INTERRUPT
 */
enum fpgactl_wait_mode {
	FPGACTL_WAIT_POLL,
	FPGACTL_WAIT_INTERRUPT,
	FPGACTL_WAIT_HYBRID,
};

/**
 * fpgactl_queue_set_eventfd() - tell the library which eventfd a queue
 *	interrupts
 * @q: queue
 * @efd: its interrupt eventfd (for the soft-core: fpgactl_irq_fd(dev,
 *	FPGACTL_IRQ_MSIX, qid)), or -1 to forget it
 *
 * Needed by the INTERRUPT and HYBRID modes of fpgactl_queue_wait().  The
 * queue keeps the number only; the caller keeps the eventfd open.
 *
 * Return: 0, or -EINVAL for @efd below -1.
 */
int fpgactl_queue_set_eventfd(struct fpgactl_queue *q, int efd);

/**
 * fpgactl_queue_wait() - wait for completions of a queue
 * @q: queue
 * @ev: event engine; may be NULL in FPGACTL_WAIT_POLL mode (the removal
 *	eventfd is then not looked at)
 * @mode: &enum fpgactl_wait_mode
 * @spin_ns: FPGACTL_WAIT_HYBRID: how long to poll before sleeping
 * @timeout_ns: longest wait; 0 reaps once; FPGACTL_WAIT_FOREVER has no limit
 * @out: receives the completions, as fpgactl_queue_reap() writes them
 * @max: size of @out (at least 1)
 *
 * Returns as soon as fpgactl_queue_reap() yields something.  In the
 * interrupt modes the queue's eventfd is added to @ev on first use (tag: the
 * queue's address; fpgactl_events_unwatch() it before closing it), and
 * watched again when the file behind the number may have changed (after
 * fpgactl_queue_set_eventfd(), or when the device's eventfds were closed by
 * re-enabling interrupts); use one engine per queue for that to hold.  The
 * sleep is cut into slices of at most 10 ms while commands are in flight, so
 * that command deadlines (fpgactl_queue_get_sqe()) are enforced even when the
 * device stalls and never interrupts.  With nothing in flight it returns 0
 * at once: nothing could complete.  When the queue's eventfd is the
 * device's INTx one, the wait unmasks INTx (which VFIO masks on every
 * delivery) after each wake-up, once the reap has serviced the queue.
 *
 * Return: the number of completions written (1 .. @max); 0 when the timeout
 * passed first or nothing is in flight; -ENODEV once a removal eventfd of
 * @ev fired; -EINVAL for bad arguments or, in the interrupt modes, a queue
 * without an eventfd or whose device never interrupts (a soft-core opened
 * without .interrupts; logged); the error of a failed INTx unmask when
 * nothing was reaped (logged); or an error of the event engine.
 */
int fpgactl_queue_wait(struct fpgactl_queue *q, struct fpgactl_events *ev,
		       enum fpgactl_wait_mode mode, uint64_t spin_ns,
		       int64_t timeout_ns, struct fpgactl_completion *out,
		       unsigned int max);

#ifdef __cplusplus
}
#endif
#endif
