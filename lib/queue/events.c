// SPDX-License-Identifier: MIT
/*
 * The event engine: eventfds watched on one io_uring.
 *
 * Each watched eventfd sits in a slot of the ring's registered file table
 * (slot i = table index i), so the ring holds its own reference and a
 * request queued for a slot can never reach another file that happened to
 * get the same fd number.  A slot is watched by a multishot POLL_ADD (a
 * CQE per signal, with IORING_CQE_F_MORE while it stays armed), or, on
 * kernels without multishot poll (before 5.13: the flag is refused with
 * EINVAL), by a single-shot POLL_ADD re-armed after each event.
 *
 * Why poll and not IORING_OP_READ on the eventfd: the interrupt eventfds are
 * EFD_NONBLOCK, and what io_uring does with a read of an empty non-blocking
 * eventfd changed across kernels (-EAGAIN at once on older ones, a parked
 * read on newer ones); a poll means the same everywhere, can be multishot
 * (no re-arm per interrupt), and leaves a removal eventfd undrained so that
 * every engine watching it sees it.
 *
 * Draining: after a poll event the counter is read by an IORING_OP_READ with
 * RWF_NOWAIT (it never parks).  With a multishot poll the read is queued in
 * the SQ and submitted by the next io_uring_enter() the engine makes anyway
 * (the next wait), so an interrupt costs no system call of its own: a signal
 * that lands before that read still gets its own poll CQE.  In single-shot
 * mode the read is hard-linked to the re-arming POLL_ADD and both are
 * submitted at once, so the poll is armed on an empty counter and its level
 * check at arm time catches any signal after the read.  Old kernels whose
 * eventfd refuses RWF_NOWAIT (before 5.10) get a plain non-blocking read(2).
 *
 * user_data: kind (8 bits) | generation of the slot (24 bits) | slot (32);
 * a CQE whose generation is not the slot's current one is stale (unwatched,
 * maybe watched again since) and ignored.
 */
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"

#define MAX_FDS 4096

enum { K_POLL = 1, K_DRAIN = 2, K_CANCEL = 3 };

#define UD(kind, gen, slot) \
	((uint64_t)(kind) << 56 | (uint64_t)((gen) & 0xffffff) << 32 | (uint32_t)(slot))
#define UD_KIND(ud) ((unsigned int)((ud) >> 56))
#define UD_GEN(ud) ((uint32_t)((ud) >> 32) & 0xffffff)
#define UD_SLOT(ud) ((uint32_t)(ud))

/* Tests only: behave as on a kernel without multishot poll. */
bool events_force_single_shot;

/**
 * struct watch - one slot
 * @fd: the application's fd, -1 for a free slot
 * @tag: what fpgactl_events_wait() reports
 * @gen: generation, bumped on every unwatch (24 bits)
 * @removal: a removal eventfd: latches ev->removed, never drained
 * @armed: a poll is queued or outstanding
 * @draining: a drain read is queued or outstanding
 * @pending: fired and not yet reported; on the pending list
 * @prev, @next: pending list links (slot numbers, -1 at the ends)
 * @counter: where the drain read puts the eventfd's counter
 */
struct watch {
	int fd;
	uint64_t tag;
	uint32_t gen;
	bool removal;
	bool armed;
	bool draining;
	bool pending;
	int prev, next;
	uint64_t counter;
};

/**
 * struct fpgactl_events - an event engine
 * @ring: the io_uring
 * @max_fds: slots
 * @w: the slots
 * @head, @tail: pending list, oldest first (-1: empty)
 * @multishot: arm multishot polls (cleared when the kernel refuses them)
 * @drain_syscall: drain with read(2) (the kernel refused RWF_NOWAIT)
 * @removed: a removal eventfd fired
 */
struct fpgactl_events {
	struct io_uring ring;
	unsigned int max_fds;
	struct watch *w;
	int head, tail;
	bool multishot;
	bool drain_syscall;
	bool removed;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- pending list --------------------------------------------------------- */

static void pending_add(struct fpgactl_events *ev, int slot)
{
	struct watch *w = &ev->w[slot];

	if (w->pending)
		return;
	w->pending = true;
	w->next = -1;
	w->prev = ev->tail;
	if (ev->tail >= 0)
		ev->w[ev->tail].next = slot;
	else
		ev->head = slot;
	ev->tail = slot;
}

static void pending_del(struct fpgactl_events *ev, int slot)
{
	struct watch *w = &ev->w[slot];

	if (!w->pending)
		return;
	if (w->prev >= 0)
		ev->w[w->prev].next = w->next;
	else
		ev->head = w->next;
	if (w->next >= 0)
		ev->w[w->next].prev = w->prev;
	else
		ev->tail = w->prev;
	w->pending = false;
	w->prev = w->next = -1;
}

/* ---- requests ---------------------------------------------------------------- */

/* A free SQE, submitting what is queued when the SQ is full. */
static struct io_uring_sqe *get_sqe(struct fpgactl_events *ev)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ev->ring);

	if (!sqe) {
		io_uring_submit(&ev->ring);
		sqe = io_uring_get_sqe(&ev->ring);
	}
	if (!sqe)
		log_err("event engine: the io_uring submission queue is full; "
			"this is a bug in libfpgactl");
	return sqe;
}

static void arm(struct fpgactl_events *ev, int slot)
{
	struct watch *w = &ev->w[slot];
	struct io_uring_sqe *sqe = get_sqe(ev);

	if (!sqe)
		return;
	if (ev->multishot)
		io_uring_prep_poll_multishot(sqe, slot, POLLIN);
	else
		io_uring_prep_poll_add(sqe, slot, POLLIN);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, UD(K_POLL, w->gen, slot));
	w->armed = true;
}

/* Read the counter of @slot; then arm it again when @rearm. */
static void drain(struct fpgactl_events *ev, int slot, bool rearm)
{
	struct watch *w = &ev->w[slot];
	struct io_uring_sqe *sqe;

	if (ev->drain_syscall) {
		if (read(w->fd, &w->counter, sizeof(w->counter)) < 0 &&
		    errno != EAGAIN)
			log_debug("event engine: draining fd %d: %s", w->fd,
				  strerror(errno));
	} else if (!w->draining && (sqe = get_sqe(ev))) {
		io_uring_prep_read(sqe, slot, &w->counter, sizeof(w->counter), 0);
		sqe->rw_flags = RWF_NOWAIT;
		sqe->flags |= IOSQE_FIXED_FILE | (rearm ? IOSQE_IO_HARDLINK : 0);
		io_uring_sqe_set_data64(sqe, UD(K_DRAIN, w->gen, slot));
		w->draining = true;
	}
	if (rearm)
		arm(ev, slot);
}

static void handle_poll(struct fpgactl_events *ev, int slot,
			const struct io_uring_cqe *cqe)
{
	struct watch *w = &ev->w[slot];
	bool more = cqe->flags & IORING_CQE_F_MORE;

	if (!more)
		w->armed = false;
	if (cqe->res == -EINVAL && ev->multishot && !more) {
		/* Before 5.13 the multishot flag is refused. */
		log_debug("event engine: no multishot poll in this kernel; "
			  "re-arming single-shot polls instead");
		ev->multishot = false;
		arm(ev, slot);
		return;
	}
	if (cqe->res < 0) {
		/* Not ours to cancel (ours are stale by generation). */
		log_err("event engine: polling fd %d failed: %s; it is no longer "
			"watched (unwatch and watch it again)", w->fd,
			strerror(-cqe->res));
		pending_add(ev, slot);
		return;
	}
	if (w->removal) {
		if (!ev->removed)
			log_info("event engine: removal eventfd %d fired", w->fd);
		ev->removed = true;
		return;
	}
	pending_add(ev, slot);
	drain(ev, slot, !more);
	/*
	 * A single-shot poll (or a multishot one that ended on a CQ overflow)
	 * must be drained and re-armed now: a signal arriving before a
	 * deferred drain would be read by it and never seen.  A live multishot
	 * poll reports every later signal by a CQE of its own, so its drain
	 * can wait for the next io_uring_enter().
	 */
	if (!more)
		io_uring_submit(&ev->ring);
}

static void handle_cqe(struct fpgactl_events *ev, const struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	uint32_t slot = UD_SLOT(ud);
	struct watch *w;

	if (slot >= ev->max_fds)
		return;
	w = &ev->w[slot];
	if (w->fd < 0 || UD_GEN(ud) != w->gen)
		return;		/* stale: unwatched since */
	switch (UD_KIND(ud)) {
	case K_POLL:
		handle_poll(ev, (int)slot, cqe);
		break;
	case K_DRAIN:
		w->draining = false;
		if (cqe->res == -EOPNOTSUPP || cqe->res == -EINVAL) {
			log_debug("event engine: RWF_NOWAIT reads of eventfds are "
				  "refused (%s); draining with read(2)",
				  strerror(-cqe->res));
			ev->drain_syscall = true;
		}
		break;
	default:
		break;
	}
}

/* Handle every CQE posted so far; no system call. */
static void process_ready(struct fpgactl_events *ev)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&ev->ring, head, cqe) {
		handle_cqe(ev, cqe);
		n++;
	}
	io_uring_cq_advance(&ev->ring, n);
}

static int find(const struct fpgactl_events *ev, int fd)
{
	for (unsigned int i = 0; i < ev->max_fds; i++)
		if (ev->w[i].fd == fd)
			return (int)i;
	return -1;
}

/* ---- engine ---------------------------------------------------------------------- */

static int ring_setup(struct fpgactl_events *ev)
{
	struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE };
	unsigned int entries = 8;
	int ret;

	while (entries < 2 * ev->max_fds + 8)
		entries <<= 1;
	p.cq_entries = 4 * entries;
	ret = io_uring_queue_init_params(entries, &ev->ring, &p);
	if (ret == -ENOSYS)
		log_err("event engine: this kernel has no io_uring (CONFIG_IO_URING "
			"off): use a kernel with it, or FPGACTL_WAIT_POLL without an "
			"engine");
	else if (ret == -EPERM)
		log_err("event engine: io_uring is forbidden to this process: set "
			"sysctl kernel.io_uring_disabled=0 (or 1 and join its group), "
			"or allow io_uring_setup in the container's seccomp profile");
	else if (ret == -ENOMEM)
		log_err("event engine: no memory for an io_uring of %u entries (on "
			"kernels before 5.12 it counts against RLIMIT_MEMLOCK: raise "
			"ulimit -l)", entries);
	else if (ret)
		log_err("event engine: io_uring_setup failed: %s", strerror(-ret));
	return ret;
}

static int files_setup(struct fpgactl_events *ev)
{
	int *none, ret = io_uring_register_files_sparse(&ev->ring, ev->max_fds);

	if (ret == -EINVAL) {
		/* Before 5.19: a table of -1 entries does the same. */
		none = malloc(ev->max_fds * sizeof(*none));
		if (!none)
			return -ENOMEM;
		for (unsigned int i = 0; i < ev->max_fds; i++)
			none[i] = -1;
		ret = io_uring_register_files(&ev->ring, none, ev->max_fds);
		free(none);
	}
	if (ret == -EMFILE)
		log_err("event engine: %u registered files exceed the open file "
			"limit: raise ulimit -n or create the engine for fewer fds",
			ev->max_fds);
	else if (ret)
		log_err("event engine: registering a file table of %u entries "
			"failed: %s", ev->max_fds, strerror(-ret));
	return ret;
}

FPGACTL_EXPORT struct fpgactl_events *fpgactl_events_create(unsigned int max_fds,
							    int *err)
{
	struct fpgactl_events *ev;
	int ret;

	if (!max_fds || max_fds > MAX_FDS) {
		log_err("event engine for %u fds: use 1 to %u", max_fds, MAX_FDS);
		ret = -EINVAL;
		goto fail;
	}
	ev = calloc(1, sizeof(*ev));
	if (!ev || !(ev->w = calloc(max_fds, sizeof(*ev->w)))) {
		free(ev);
		ret = -ENOMEM;
		goto fail;
	}
	ev->max_fds = max_fds;
	ev->head = ev->tail = -1;
	ev->multishot = !events_force_single_shot;
	for (unsigned int i = 0; i < max_fds; i++) {
		ev->w[i].fd = -1;
		ev->w[i].prev = ev->w[i].next = -1;
	}
	ret = ring_setup(ev);
	if (!ret) {
		ret = files_setup(ev);
		if (!ret)
			return ev;
		io_uring_queue_exit(&ev->ring);
	}
	free(ev->w);
	free(ev);
fail:
	if (err)
		*err = ret;
	return NULL;
}

FPGACTL_EXPORT void fpgactl_events_destroy(struct fpgactl_events *ev)
{
	if (!ev)
		return;
	/* Closing the ring cancels the polls and drops the file table. */
	io_uring_queue_exit(&ev->ring);
	free(ev->w);
	free(ev);
}

static int watch(struct fpgactl_events *ev, int fd, uint64_t tag, bool removal)
{
	struct watch *w;
	int slot, ret;

	if (fd < 0)
		return -EBADF;
	if (find(ev, fd) >= 0)
		return -EEXIST;
	slot = find(ev, -1);
	if (slot < 0) {
		log_err("event engine: all %u slots are watched; create the engine "
			"with a larger max_fds", ev->max_fds);
		return -ENOSPC;
	}
	ret = io_uring_register_files_update(&ev->ring, (unsigned int)slot, &fd, 1);
	if (ret < 0) {
		if (ret != -EBADF)
			log_err("event engine: cannot register fd %d: %s", fd,
				strerror(-ret));
		return ret;
	}
	w = &ev->w[slot];
	w->fd = fd;
	w->tag = tag;
	w->removal = removal;
	w->armed = w->draining = w->pending = false;
	arm(ev, slot);
	/* Armed now: its level is checked at once, nothing is missed. */
	ret = io_uring_submit(&ev->ring);
	if (ret < 0) {
		log_err("event engine: cannot arm a poll on fd %d: %s", fd,
			strerror(-ret));
		fpgactl_events_unwatch(ev, fd);
		return ret;
	}
	return 0;
}

FPGACTL_EXPORT int fpgactl_events_watch(struct fpgactl_events *ev, int fd,
					uint64_t tag)
{
	return watch(ev, fd, tag, false);
}

FPGACTL_EXPORT int fpgactl_events_watch_removal(struct fpgactl_events *ev, int fd)
{
	return watch(ev, fd, 0, true);
}

FPGACTL_EXPORT int fpgactl_events_unwatch(struct fpgactl_events *ev, int fd)
{
	int slot = find(ev, fd), none = -1;
	struct io_uring_sqe *sqe;
	struct watch *w;

	if (slot < 0)
		return -ENOENT;
	w = &ev->w[slot];
	if (w->armed && (sqe = get_sqe(ev))) {
		io_uring_prep_poll_remove(sqe, UD(K_POLL, w->gen, slot));
		io_uring_sqe_set_data64(sqe, UD(K_CANCEL, w->gen, slot));
	}
	/* Queued requests name the slot: issue them before it changes. */
	io_uring_submit(&ev->ring);
	pending_del(ev, slot);
	w->fd = -1;
	w->gen = (w->gen + 1) & 0xffffff;
	w->armed = w->draining = false;
	io_uring_register_files_update(&ev->ring, (unsigned int)slot, &none, 1);
	return 0;
}

/* Is what the caller waits for there?  @slot -1: any watch. */
static bool ready(const struct fpgactl_events *ev, int slot)
{
	return slot < 0 ? ev->head >= 0 : ev->w[slot].pending;
}

/*
 * Wait until @slot (any when -1) is pending.  Return 1, 0 on timeout,
 * -ENODEV after a removal, or -errno.
 */
static int wait_until(struct fpgactl_events *ev, int64_t timeout_ns, int slot)
{
	uint64_t deadline = 0;
	struct io_uring_cqe *cqe;
	int ret;

	if (timeout_ns > 0)
		deadline = now_ns() + (uint64_t)timeout_ns;
	process_ready(ev);
	for (;;) {
		struct __kernel_timespec ts;
		uint64_t left;

		if (ev->removed)
			return -ENODEV;
		if (ready(ev, slot))
			return 1;
		if (timeout_ns == 0)
			return 0;
		if (timeout_ns > 0) {
			uint64_t t = now_ns();

			if (t >= deadline)
				return 0;
			left = deadline - t;
			ts.tv_sec = (long long)(left / 1000000000u);
			ts.tv_nsec = (long long)(left % 1000000000u);
		}
		/* Also submits the queued drains and re-arms. */
		ret = io_uring_submit_and_wait_timeout(&ev->ring, &cqe, 1,
						       timeout_ns > 0 ? &ts : NULL,
						       NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EBUSY &&
		    ret != -EAGAIN) {
			log_err("event engine: waiting on the io_uring failed: %s",
				strerror(-ret));
			return ret;
		}
		process_ready(ev);
	}
}

FPGACTL_EXPORT int fpgactl_events_wait(struct fpgactl_events *ev,
				       int64_t timeout_ns, uint64_t *tags,
				       unsigned int max)
{
	unsigned int n = 0;
	int ret;

	if (!max) {
		log_err("event engine: fpgactl_events_wait() with room for 0 tags");
		return -EINVAL;
	}
	ret = wait_until(ev, timeout_ns, -1);
	if (ret <= 0)
		return ret;
	while (n < max && ev->head >= 0) {
		int slot = ev->head;

		tags[n++] = ev->w[slot].tag;
		pending_del(ev, slot);
	}
	return (int)n;
}

FPGACTL_EXPORT int fpgactl_events_wait_fd(struct fpgactl_events *ev, int fd,
					  int64_t timeout_ns)
{
	int slot = find(ev, fd), ret;

	if (slot < 0)
		return -ENOENT;
	ret = wait_until(ev, timeout_ns, slot);
	if (ret == 1)
		pending_del(ev, slot);
	return ret;
}

FPGACTL_EXPORT bool fpgactl_events_removed(struct fpgactl_events *ev)
{
	if (!ev->removed && io_uring_cq_ready(&ev->ring))
		process_ready(ev);
	return ev->removed;
}
