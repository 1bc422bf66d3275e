// SPDX-License-Identifier: MIT
/*
 * The event engine (timeouts, many eventfds, unwatch, single-shot re-arm,
 * removal) and the queue wait modes: against the mocked kernel for removal
 * and deadlines, against the software model for real completions in the
 * POLL, INTERRUPT and HYBRID modes and for a stalled queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <cmocka.h>

#include "fixture.h"

#define BDF "0000:03:00.0"
#define MS 1000000ll

/* lib/queue/events.c: behave as on a kernel without multishot poll. */
extern bool events_force_single_shot;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct fpgactl_events *engine(unsigned int max)
{
	int err = 0;
	struct fpgactl_events *ev = fpgactl_events_create(max, &err);

	if (!ev)
		print_message("events_create: %d\n%s", err, fixture_log());
	assert_non_null(ev);
	return ev;
}

static int efd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void signal_fd(int fd)
{
	uint64_t one = 1;

	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

static int single_shot_setup(void **state)
{
	events_force_single_shot = true;
	return fixture_setup(state);
}

static int single_shot_teardown(void **state)
{
	events_force_single_shot = false;
	return fixture_teardown(state);
}

/* ---- the engine ------------------------------------------------------------ */

static void test_bad_args(void **state)
{
	struct fpgactl_events *ev;
	uint64_t tag;
	int err = 0, fd = efd();

	assert_null(fpgactl_events_create(0, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(fpgactl_events_create(5000, &err));
	assert_int_equal(err, -EINVAL);
	assert_true(log_has("use 1 to 4096"));
	ev = engine(1);
	assert_int_equal(fpgactl_events_wait(ev, 0, &tag, 0), -EINVAL);
	assert_int_equal(fpgactl_events_watch(ev, -1, 0), -EBADF);
	assert_int_equal(fpgactl_events_watch(ev, 1000000, 0), -EBADF);
	assert_int_equal(fpgactl_events_unwatch(ev, fd), -ENOENT);
	assert_int_equal(fpgactl_events_wait_fd(ev, fd, 0), -ENOENT);
	assert_int_equal(fpgactl_events_watch(ev, fd, 1), 0);
	assert_int_equal(fpgactl_events_watch(ev, fd, 2), -EEXIST);
	/* Full. */
	int other = efd();

	assert_int_equal(fpgactl_events_watch(ev, other, 2), -ENOSPC);
	assert_true(log_has("larger max_fds"));
	fpgactl_events_destroy(ev);
	fpgactl_events_destroy(NULL);
	close(other);
	close(fd);
}

static void test_timeout(void **state)
{
	struct fpgactl_events *ev = engine(2);
	uint64_t tag, t;
	int fd = efd();

	assert_int_equal(fpgactl_events_watch(ev, fd, 1), 0);
	/* 0: no waiting at all. */
	t = now_ns();
	assert_int_equal(fpgactl_events_wait(ev, 0, &tag, 1), 0);
	assert_true(now_ns() - t < 50 * MS);
	/* 50 ms: returns 0, not before and not much after. */
	t = now_ns();
	assert_int_equal(fpgactl_events_wait(ev, 50 * MS, &tag, 1), 0);
	t = now_ns() - t;
	assert_true(t >= 49 * MS);
	assert_true(t < 1000 * MS);
	t = now_ns();
	assert_int_equal(fpgactl_events_wait_fd(ev, fd, 30 * MS), 0);
	t = now_ns() - t;
	assert_true(t >= 29 * MS && t < 1000 * MS);
	fpgactl_events_destroy(ev);
	close(fd);
}

struct signaller {
	int fd;
	unsigned int delay_ms;
};

static void *signal_later(void *arg)
{
	struct signaller *s = arg;

	sleep_ms(s->delay_ms);
	signal_fd(s->fd);
	return NULL;
}

static void test_wakeup(void **state)
{
	struct fpgactl_events *ev = engine(2);
	struct signaller s = { .fd = efd(), .delay_ms = 30 };
	uint64_t tag = 0, t = now_ns();
	pthread_t th;

	assert_int_equal(fpgactl_events_watch(ev, s.fd, 42), 0);
	assert_int_equal(pthread_create(&th, NULL, signal_later, &s), 0);
	assert_int_equal(fpgactl_events_wait(ev, FPGACTL_WAIT_FOREVER, &tag, 1), 1);
	assert_int_equal(tag, 42);
	assert_true(now_ns() - t >= 25 * MS);
	pthread_join(th, NULL);
	/* Signalled before the wait: seen at once. */
	signal_fd(s.fd);
	assert_int_equal(fpgactl_events_wait_fd(ev, s.fd, 1000 * MS), 1);
	fpgactl_events_destroy(ev);
	close(s.fd);
}

#define NFDS 64

static void test_many_fds(void **state)
{
	struct fpgactl_events *ev = engine(NFDS);
	int fds[NFDS], seen[NFDS] = { 0 }, rounds = 0, total = 0;
	uint64_t tags[5], counter;

	for (int i = 0; i < NFDS; i++) {
		fds[i] = efd();
		assert_int_equal(fpgactl_events_watch(ev, fds[i], 1000 + (uint64_t)i), 0);
	}
	for (int round = 0; round < 3; round++) {
		memset(seen, 0, sizeof(seen));
		/* Every third fd, some twice. */
		for (int i = round; i < NFDS; i += 3) {
			signal_fd(fds[i]);
			if (i % 2)
				signal_fd(fds[i]);
		}
		total = 0;
		rounds = 0;
		/* Five at a time: the rest stays pending. */
		while (total < (NFDS - round + 2) / 3) {
			int n = fpgactl_events_wait(ev, 1000 * MS, tags, 5);

			assert_true(n > 0 && n <= 5);
			for (int k = 0; k < n; k++) {
				int i = (int)(tags[k] - 1000);

				assert_true(i >= 0 && i < NFDS);
				assert_int_equal(i % 3, round);
				assert_int_equal(seen[i], 0);
				seen[i] = 1;
			}
			total += n;
			assert_true(++rounds < 100);
		}
		/* Each once, nothing more. */
		assert_int_equal(fpgactl_events_wait(ev, 20 * MS, tags, 5), 0);
	}
	/* Every counter was drained. */
	for (int i = 0; i < NFDS; i++)
		assert_int_equal(read(fds[i], &counter, 8), -1);
	for (int i = 0; i < NFDS; i++) {
		assert_int_equal(fpgactl_events_unwatch(ev, fds[i]), 0);
		close(fds[i]);
	}
	fpgactl_events_destroy(ev);
}

static void test_unwatch(void **state)
{
	struct fpgactl_events *ev = engine(2);
	int a = efd(), b = efd(), c;
	uint64_t tags[2];

	assert_int_equal(fpgactl_events_watch(ev, a, 1), 0);
	assert_int_equal(fpgactl_events_watch(ev, b, 2), 0);
	/* a fires and is collected into the pending list, then unwatched:
	 * it is never reported. */
	signal_fd(a);
	signal_fd(b);
	assert_int_equal(fpgactl_events_wait_fd(ev, b, 1000 * MS), 1);
	sleep_ms(10);
	assert_int_equal(fpgactl_events_unwatch(ev, a), 0);
	assert_int_equal(fpgactl_events_unwatch(ev, a), -ENOENT);
	assert_int_equal(fpgactl_events_wait(ev, 20 * MS, tags, 2), 0);
	/* Its slot serves another fd; the old one is not heard. */
	c = efd();
	assert_int_equal(fpgactl_events_watch(ev, c, 3), 0);
	signal_fd(a);
	assert_int_equal(fpgactl_events_wait(ev, 20 * MS, tags, 2), 0);
	signal_fd(c);
	assert_int_equal(fpgactl_events_wait(ev, 1000 * MS, tags, 2), 1);
	assert_int_equal(tags[0], 3);
	/* The same fd can be watched again. */
	assert_int_equal(fpgactl_events_unwatch(ev, c), 0);
	assert_int_equal(fpgactl_events_watch(ev, a, 4), 0);
	assert_int_equal(fpgactl_events_wait(ev, 1000 * MS, tags, 2), 1);
	assert_int_equal(tags[0], 4);	/* a was left signalled */
	/* Closing a watched fd does not disturb the engine. */
	close(b);
	assert_int_equal(fpgactl_events_wait(ev, 10 * MS, tags, 2), 0);
	assert_int_equal(fpgactl_events_unwatch(ev, b), 0);
	fpgactl_events_destroy(ev);
	close(a);
	close(c);
}

static void test_wait_fd_keeps_others(void **state)
{
	struct fpgactl_events *ev = engine(3);
	int a = efd(), b = efd(), c = efd();
	uint64_t tags[3];

	assert_int_equal(fpgactl_events_watch(ev, a, 1), 0);
	assert_int_equal(fpgactl_events_watch(ev, b, 2), 0);
	assert_int_equal(fpgactl_events_watch(ev, c, 3), 0);
	signal_fd(a);
	signal_fd(c);
	assert_int_equal(fpgactl_events_wait_fd(ev, b, 30 * MS), 0);
	signal_fd(b);
	assert_int_equal(fpgactl_events_wait_fd(ev, b, 1000 * MS), 1);
	/* a and c are still there, in the order they fired. */
	assert_int_equal(fpgactl_events_wait(ev, 0, tags, 3), 2);
	assert_int_equal(tags[0], 1);
	assert_int_equal(tags[1], 3);
	fpgactl_events_destroy(ev);
	close(a);
	close(b);
	close(c);
}

static void test_repeated(void **state)
{
	struct fpgactl_events *ev = engine(1);
	int fd = efd();
	uint64_t tag, counter;

	assert_int_equal(fpgactl_events_watch(ev, fd, 9), 0);
	for (int i = 0; i < 200; i++) {
		signal_fd(fd);
		assert_int_equal(fpgactl_events_wait(ev, 1000 * MS, &tag, 1), 1);
		assert_int_equal(tag, 9);
	}
	assert_int_equal(fpgactl_events_wait(ev, 10 * MS, &tag, 1), 0);
	assert_int_equal(read(fd, &counter, 8), -1);
	fpgactl_events_destroy(ev);
	close(fd);
}

static void test_removal(void **state)
{
	struct fpgactl_events *a = engine(2), *b = engine(1);
	int req = efd(), fd = efd();
	uint64_t tag, counter;

	assert_int_equal(fpgactl_events_watch(a, fd, 1), 0);
	assert_int_equal(fpgactl_events_watch_removal(a, req), 0);
	assert_int_equal(fpgactl_events_watch_removal(b, req), 0);
	assert_false(fpgactl_events_removed(a));
	signal_fd(req);
	/* Seen by a busy loop, without a system call of its own. */
	for (int i = 0; !fpgactl_events_removed(a); i++) {
		assert_true(i < 1000);
		sleep_ms(1);
	}
	signal_fd(fd);
	assert_int_equal(fpgactl_events_wait(a, 1000 * MS, &tag, 1), -ENODEV);
	assert_int_equal(fpgactl_events_wait_fd(a, fd, 0), -ENODEV);
	assert_int_equal(fpgactl_events_wait(b, 1000 * MS, &tag, 1), -ENODEV);
	/* Not drained: any other engine sees it too. */
	assert_int_equal(read(req, &counter, 8), 8);
	fpgactl_events_destroy(a);
	fpgactl_events_destroy(b);
	close(req);
	close(fd);
}

/* ---- queue wait on the mocked kernel ------------------------------------- */

static struct fpgactl_device *open_mock_dev(void)
{
	int err = 0;
	struct fpgactl_device *dev;

	add_ready_device(BDF, 5, -1);
	dev = fpgactl_device_open(BDF, NULL, &err);
	if (!dev)
		print_message("open: %d\n%s", err, fixture_log());
	assert_non_null(dev);
	return dev;
}

static struct fpgactl_queue *mock_queue(struct fpgactl_device *dev, uint16_t qid)
{
	struct fpgactl_queue_cfg cfg = {
		.qid = qid, .depth = 16, .bar = 0, .db_offset = 0x1000, .db_stride = 4,
	};
	int err = 0;
	struct fpgactl_queue *q = fpgactl_queue_create(dev, &cfg, &err);

	if (!q)
		print_message("queue_create: %d\n%s", err, fixture_log());
	assert_non_null(q);
	return q;
}

static void test_queue_wait_args(void **state)
{
	struct fpgactl_device *dev = open_mock_dev();
	struct fpgactl_queue *q = mock_queue(dev, 0);
	struct fpgactl_events *ev = engine(2);
	struct fpgactl_completion c[4];
	uint64_t t;

	assert_int_equal(fpgactl_queue_set_eventfd(NULL, 3), -EINVAL);
	assert_int_equal(fpgactl_queue_set_eventfd(q, -2), -EINVAL);
	assert_int_equal(fpgactl_queue_wait(q, ev, FPGACTL_WAIT_POLL, 0, 0, c, 0), -EINVAL);
	assert_int_equal(fpgactl_queue_wait(q, NULL, FPGACTL_WAIT_INTERRUPT, 0, 0, c, 4),
			 -EINVAL);
	assert_true(log_has("need an event engine"));
	assert_int_equal(fpgactl_queue_wait(q, ev, (enum fpgactl_wait_mode)7, 0, 0, c, 4),
			 -EINVAL);
	/* Nothing in flight: nothing to wait for, whatever the timeout. */
	t = now_ns();
	assert_int_equal(fpgactl_queue_wait(q, ev, FPGACTL_WAIT_INTERRUPT, 0,
					    FPGACTL_WAIT_FOREVER, c, 4), 0);
	assert_int_equal(fpgactl_queue_wait(q, NULL, FPGACTL_WAIT_POLL, 0,
					    FPGACTL_WAIT_FOREVER, c, 4), 0);
	assert_true(now_ns() - t < 500 * MS);
	/* In flight, interrupt mode, no eventfd: refused with the fix. */
	assert_non_null(fpgactl_queue_get_sqe(q, NULL, 0));
	assert_int_equal(fpgactl_queue_submit(q), 1);
	assert_int_equal(fpgactl_queue_wait(q, ev, FPGACTL_WAIT_INTERRUPT, 0,
					    10 * MS, c, 4), -EINVAL);
	assert_true(log_has("fpgactl_queue_set_eventfd"));
	/* Poll and hybrid time out with 0. */
	t = now_ns();
	assert_int_equal(fpgactl_queue_wait(q, ev, FPGACTL_WAIT_POLL, 0, 20 * MS, c, 4), 0);
	assert_true(now_ns() - t >= 19 * MS);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 1), 0);
	assert_int_equal(fpgactl_queue_set_eventfd(q, fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0)), 0);
	t = now_ns();
	assert_int_equal(fpgactl_queue_wait(q, ev, FPGACTL_WAIT_HYBRID, 5 * MS, 30 * MS,
					    c, 4), 0);
	t = now_ns() - t;
	assert_true(t >= 29 * MS && t < 1000 * MS);
	/* An interrupt without a completion: woken, nothing, back to sleep. */
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_MSIX, 0), 0);
	assert_int_equal(fpgactl_queue_wait(q, ev, FPGACTL_WAIT_INTERRUPT, 0, 30 * MS,
					    c, 4), 0);
	assert_int_equal(fpgactl_events_unwatch(ev, fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0)), 0);
	assert_int_equal(fpgactl_queue_set_eventfd(q, -1), 0);
	fpgactl_events_destroy(ev);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/*
 * Issue 12 item 13: VFIO masks INTx when it fires (vfio_intx_handler()); a
 * queue wait woken by it must unmask once it has reaped, or every later wait
 * sleeps through its interrupts and falls back to the 10 ms ticks.  The mock
 * models the automask: mock_irq_trigger() returns 1 while the line is masked.
 */
static void test_queue_wait_intx_unmask(void **state)
{
	struct fpgactl_device *dev = open_mock_dev();
	struct fpgactl_queue *q = mock_queue(dev, 0);
	struct fpgactl_events *ev = engine(2);
	struct fpgactl_completion c[4];
	int efd;

	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_INTX, 1), 0);
	efd = fpgactl_irq_fd(dev, FPGACTL_IRQ_INTX, 0);
	assert_int_equal(fpgactl_queue_set_eventfd(q, efd), 0);
	assert_non_null(fpgactl_queue_get_sqe(q, NULL, 0));
	assert_int_equal(fpgactl_queue_submit(q), 1);
	for (int round = 0; round < 3; round++) {
		/* Delivered (the line was unmasked), and masked by the kernel. */
		assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_INTX, 0), 0);
		assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_INTX, 0), 1);
		/* Woken, nothing to reap, unmasked: the pending one is
		 * delivered at the unmask and wakes the wait again. */
		assert_int_equal(fpgactl_queue_wait(q, ev, FPGACTL_WAIT_INTERRUPT, 0,
						    30 * MS, c, 4), 0);
	}
	/* The last unmask left the line open. */
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_INTX, 0), 0);
	assert_int_equal(fpgactl_queue_wait(q, ev, FPGACTL_WAIT_INTERRUPT, 0, 30 * MS,
					    c, 4), 0);
	assert_int_equal(fpgactl_events_unwatch(ev, efd), 0);
	assert_int_equal(fpgactl_queue_set_eventfd(q, -1), 0);
	fpgactl_events_destroy(ev);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

static void test_queue_deadline_mock(void **state)
{
	struct fpgactl_device *dev = open_mock_dev();
	struct fpgactl_queue *q = mock_queue(dev, 0);
	struct fpgactl_events *ev = engine(2);
	struct fpgactl_completion c[4];
	int ctx;
	uint64_t t;

	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 1), 0);
	assert_int_equal(fpgactl_queue_set_eventfd(q, fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0)), 0);
	/* Nobody plays the device: the command's deadline must still fire,
	 * though no interrupt ever comes. */
	t = now_ns();
	assert_non_null(fpgactl_queue_get_sqe(q, &ctx, 40 * MS));
	fpgactl_queue_submit(q);
	assert_int_equal(fpgactl_queue_wait(q, ev, FPGACTL_WAIT_INTERRUPT, 0,
					    FPGACTL_WAIT_FOREVER, c, 4), 1);
	t = now_ns() - t;
	assert_ptr_equal(c[0].ctx, &ctx);
	assert_int_equal(c[0].error, -ETIMEDOUT);
	if (t < 40 * MS || t >= 1000 * MS)
		print_message("deadline after %llu ns\n", (unsigned long long)t);
	assert_true(t >= 40 * MS && t < 1000 * MS);
	assert_int_equal(fpgactl_queue_set_eventfd(q, -1), 0);
	fpgactl_events_destroy(ev);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

struct waiter {
	struct fpgactl_queue *q;
	struct fpgactl_events *ev;
	enum fpgactl_wait_mode mode;
	int ret;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	struct fpgactl_completion c[4];

	w->ret = fpgactl_queue_wait(w->q, w->ev, w->mode, 2 * MS,
				    FPGACTL_WAIT_FOREVER, c, 4);
	return NULL;
}

static void test_queue_removal(void **state)
{
	static const enum fpgactl_wait_mode modes[3] = {
		FPGACTL_WAIT_POLL, FPGACTL_WAIT_INTERRUPT, FPGACTL_WAIT_HYBRID,
	};
	struct fpgactl_device *dev = open_mock_dev();
	struct waiter w[3];
	pthread_t th[3];
	int req;

	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 3), 0);
	req = fpgactl_irq_watch_removal(dev);
	assert_true(req >= 0);
	/* One queue, engine and thread per mode, each with a command the
	 * (absent) device never completes. */
	for (int i = 0; i < 3; i++) {
		w[i].q = mock_queue(dev, (uint16_t)i);
		w[i].ev = engine(2);
		w[i].mode = modes[i];
		w[i].ret = 1;
		assert_int_equal(fpgactl_queue_set_eventfd(w[i].q,
				 fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, (uint32_t)i)), 0);
		assert_int_equal(fpgactl_events_watch_removal(w[i].ev, req), 0);
		assert_non_null(fpgactl_queue_get_sqe(w[i].q, NULL, 0));
		fpgactl_queue_submit(w[i].q);
		assert_int_equal(pthread_create(&th[i], NULL, wait_thread, &w[i]), 0);
	}
	sleep_ms(50);
	for (int i = 0; i < 3; i++)
		assert_int_equal(w[i].ret, 1);	/* all still waiting */
	/* The kernel asks for the device back. */
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_REQ, 0), 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].ret, -ENODEV);
		fpgactl_queue_set_eventfd(w[i].q, -1);
		fpgactl_events_destroy(w[i].ev);
		fpgactl_queue_destroy(w[i].q);
	}
	/* What the application must do: close the device. */
	fpgactl_device_close(dev);
	assert_int_equal(mock_device_open_count(BDF), 0);
}

/* ---- queue wait on the software model ----------------------------------------- */

static struct fpgactl_device *open_model(const char *spec)
{
	int err = 0;
	struct fpgactl_device *dev = fpgactl_device_open(spec, NULL, &err);

	if (!dev && err == -ENOSYS)
		skip();
	if (!dev)
		print_message("open %s: %d\n%s", spec, err, fixture_log());
	assert_non_null(dev);
	return dev;
}

static struct fpgactl_sc *sc;

/* The soft-core up with interrupts, queue 0 on MSI-X vector 0. */
static struct fpgactl_queue *model_queue(struct fpgactl_device *dev, uint32_t depth)
{
	struct fpgactl_queue *q;
	int err = 0;

	sc = fpgactl_sc_open(dev, &(struct fpgactl_sc_opts){ .nr_queues = 1,
			     .depth = depth, .interrupts = true }, &err);
	if (!sc)
		print_message("sc_open: %d\n%s", err, fixture_log());
	assert_non_null(sc);
	q = fpgactl_sc_queue(sc, 0);
	assert_non_null(q);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 1), 0);
	assert_int_equal(fpgactl_queue_set_eventfd(q, fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0)), 0);
	return q;
}

static void model_close(struct fpgactl_device *dev, struct fpgactl_queue *q,
			struct fpgactl_events *ev)
{
	fpgactl_events_destroy(ev);
	fpgactl_queue_set_eventfd(q, -1);
	fpgactl_sc_close(sc);
	sc = NULL;
	fpgactl_device_close(dev);
}

#define BATCH 8

/*
 * 20 rounds through @mode, one NOP or a batch of BATCH in turn, each
 * completion checked; return the fastest round trip.
 */
static uint64_t fastest_rounds(struct fpgactl_queue *q, struct fpgactl_events *ev,
			       enum fpgactl_wait_mode mode)
{
	struct fpgactl_completion c[BATCH];
	uint64_t fastest = UINT64_MAX;
	int ctx[BATCH];

	for (int round = 0; round < 20; round++) {
		int seen[BATCH] = { 0 }, got = 0;
		uint64_t t = now_ns();
		int n = round % 2 ? BATCH : 1;

		for (int i = 0; i < n; i++)
			assert_int_equal(fpgactl_sc_prep_nop(q, &ctx[i], 0), 0);
		assert_int_equal(fpgactl_queue_submit(q), n);
		while (got < n) {
			int r = fpgactl_queue_wait(q, ev, mode, 50000, 5000 * MS, c, BATCH);

			if (r <= 0)
				print_message("mode %d round %d: %d\n%s", mode, round, r,
					      fixture_log());
			assert_true(r > 0);
			for (int k = 0; k < r; k++) {
				int i = (int)((int *)c[k].ctx - ctx);

				assert_int_equal(c[k].error, 0);
				assert_int_equal(c[k].status, 0);
				assert_true(i >= 0 && i < n);
				assert_int_equal(seen[i]++, 0);
			}
			got += r;
		}
		t = now_ns() - t;
		fastest = t < fastest ? t : fastest;
		assert_int_equal(fpgactl_queue_in_flight(q), 0);
	}
	return fastest;
}

/* Woken by the interrupt, not by the 10 ms deadline slices of the wait. */
static void assert_woken_by_interrupt(uint64_t fastest)
{
	if (fastest >= 5 * MS)
		fail_msg("fastest interrupt-mode round trip %llu ns: the wait slept "
			 "through the interrupt", (unsigned long long)fastest);
}

static void test_model_modes(void **state)
{
	static const enum fpgactl_wait_mode modes[3] = {
		FPGACTL_WAIT_POLL, FPGACTL_WAIT_INTERRUPT, FPGACTL_WAIT_HYBRID,
	};
	struct fpgactl_device *dev = open_model("model");
	struct fpgactl_queue *q = model_queue(dev, 64);
	struct fpgactl_events *ev = engine(2);

	for (int m = 0; m < 3; m++) {
		uint64_t fastest = fastest_rounds(q, ev, modes[m]);

		if (modes[m] == FPGACTL_WAIT_INTERRUPT)
			assert_woken_by_interrupt(fastest);
	}
	/* The interrupt modes watched the queue's eventfd in the engine. */
	assert_int_equal(fpgactl_events_watch(ev, fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0), 0),
			 -EEXIST);
	model_close(dev, q, ev);
}

/*
 * Interrupts enabled again: with another vector count on a NORESIZE index,
 * new eventfds replace the old ones; disabled and enabled again, new ones
 * usually come under the same numbers.  The wait must sleep on the new
 * file, not on the old one the engine still holds.
 */
static void test_model_irq_reenabled(void **state)
{
	struct fpgactl_device *dev = open_model("model:queues=2");
	struct fpgactl_queue *q = model_queue(dev, 64);
	struct fpgactl_events *ev = engine(2);
	int old_fd = fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0);

	assert_woken_by_interrupt(fastest_rounds(q, ev, FPGACTL_WAIT_INTERRUPT));
	/* The model's MSI-X is NORESIZE: a new count means new eventfds (made
	 * while the old ones are still open, so under other numbers). */
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 2), 0);
	assert_int_not_equal(fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0), old_fd);
	old_fd = fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0);
	assert_int_equal(fpgactl_queue_set_eventfd(q, old_fd), 0);
	assert_woken_by_interrupt(fastest_rounds(q, ev, FPGACTL_WAIT_INTERRUPT));

	/* Switched off and on again without telling the queue.  The case that
	 * matters: the same number, another file (lowest numbers first, so
	 * once more to land on the number the queue was given). */
	fpgactl_irq_disable(dev, FPGACTL_IRQ_MSIX);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 2), 0);
	old_fd = fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0);
	assert_int_equal(fpgactl_queue_set_eventfd(q, old_fd), 0);
	assert_woken_by_interrupt(fastest_rounds(q, ev, FPGACTL_WAIT_INTERRUPT));
	fpgactl_irq_disable(dev, FPGACTL_IRQ_MSIX);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 2), 0);
	assert_int_equal(fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0), old_fd);
	assert_woken_by_interrupt(fastest_rounds(q, ev, FPGACTL_WAIT_INTERRUPT));
	model_close(dev, q, ev);
}

/*
 * Issue 12 item 15: a soft-core opened without .interrupts never interrupts;
 * an interrupt-mode wait on its queue would only wake on the 10 ms deadline
 * tick (200 NOPs took 2 s).  Refused, with the fix named; polling works.
 */
static void test_model_no_interrupts(void **state)
{
	static const enum fpgactl_wait_mode modes[2] = {
		FPGACTL_WAIT_INTERRUPT, FPGACTL_WAIT_HYBRID,
	};
	struct fpgactl_device *dev = open_model("model");
	struct fpgactl_events *ev = engine(2);
	struct fpgactl_completion c[4];
	struct fpgactl_queue *q;
	int err = 0, ctx;

	sc = fpgactl_sc_open(dev, &(struct fpgactl_sc_opts){ .nr_queues = 1,
			     .depth = 16 }, &err);
	assert_non_null(sc);
	q = fpgactl_sc_queue(sc, 0);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 1), 0);
	assert_int_equal(fpgactl_queue_set_eventfd(q, fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0)), 0);
	for (int m = 0; m < 2; m++) {
		assert_int_equal(fpgactl_sc_prep_nop(q, &ctx, 0), 0);
		assert_int_equal(fpgactl_queue_submit(q), 1);
		assert_int_equal(fpgactl_queue_wait(q, ev, modes[m], 1000, 1000 * MS, c, 4),
				 -EINVAL);
		assert_true(log_has(".interrupts = true"));
		assert_int_equal(fpgactl_queue_wait(q, ev, FPGACTL_WAIT_POLL, 0, 1000 * MS,
						    c, 4), 1);
		assert_ptr_equal(c[0].ctx, &ctx);
	}
	model_close(dev, q, ev);
}

static void test_model_stall(void **state)
{
	static const enum fpgactl_wait_mode modes[3] = {
		FPGACTL_WAIT_INTERRUPT, FPGACTL_WAIT_POLL, FPGACTL_WAIT_HYBRID,
	};
	struct fpgactl_device *dev = open_model("model:fault=stall");
	struct fpgactl_queue *q = model_queue(dev, 16);
	struct fpgactl_events *ev = engine(2);
	struct fpgactl_completion c[4];
	uint64_t t;
	int ctx;

	/* Without a deadline, only the wait's own timeout ends it. */
	assert_int_equal(fpgactl_sc_prep_nop(q, NULL, 0), 0);
	fpgactl_queue_submit(q);
	t = now_ns();
	assert_int_equal(fpgactl_queue_wait(q, ev, FPGACTL_WAIT_INTERRUPT, 0, 50 * MS,
					    c, 4), 0);
	t = now_ns() - t;
	assert_true(t >= 49 * MS && t < 1000 * MS);
	assert_int_equal(fpgactl_queue_abort(q), 1);
	assert_int_equal(fpgactl_queue_wait(q, ev, FPGACTL_WAIT_POLL, 0, 0, c, 4), 1);
	assert_int_equal(c[0].error, -ECANCELED);

	/* The queue hangs: each mode fails the command at its deadline. */
	for (int m = 0; m < 3; m++) {
		t = now_ns();
		assert_int_equal(fpgactl_sc_prep_nop(q, &ctx, 40 * MS), 0);
		fpgactl_queue_submit(q);
		assert_int_equal(fpgactl_queue_wait(q, ev, modes[m], 1 * MS,
						    FPGACTL_WAIT_FOREVER, c, 4), 1);
		t = now_ns() - t;
		assert_ptr_equal(c[0].ctx, &ctx);
		assert_int_equal(c[0].error, -ETIMEDOUT);
		assert_true(t >= 40 * MS && t < 2000 * MS);
	}
	model_close(dev, q, ev);
}

static void test_model_no_removal_irq(void **state)
{
	struct fpgactl_device *dev = open_model("model");

	assert_int_equal(fpgactl_irq_watch_removal(dev), -EOPNOTSUPP);
	assert_int_equal(fpgactl_irq_unmask(dev), -EOPNOTSUPP);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_INTX, 1), -EOPNOTSUPP);
	fpgactl_device_close(dev);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
#define T1(fn) cmocka_unit_test_setup_teardown(fn, single_shot_setup, single_shot_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_bad_args),
		T(test_timeout),
		T(test_wakeup),
		T(test_many_fds),
		T(test_unwatch),
		T(test_wait_fd_keeps_others),
		T(test_repeated),
		T(test_removal),
		/* The same on a kernel without multishot poll. */
		T1(test_timeout),
		T1(test_wakeup),
		T1(test_many_fds),
		T1(test_unwatch),
		T1(test_wait_fd_keeps_others),
		T1(test_repeated),
		T1(test_removal),
		T(test_queue_wait_args),
		T(test_queue_deadline_mock),
		T(test_queue_wait_intx_unmask),
		T(test_queue_removal),
		T(test_model_modes),
		T(test_model_irq_reenabled),
		T(test_model_stall),
		T(test_model_no_interrupts),
		T(test_model_no_removal_irq),
		T1(test_model_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
