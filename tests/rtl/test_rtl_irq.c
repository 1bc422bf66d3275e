// SPDX-License-Identifier: MIT
/*
 * Interrupts and abort against a simulated soft-core (FPGACTL_TEST_DEVICE,
 * the RTL co-simulation in the rtl suite; the model when unset): each queue
 * pair's completion signals its own MSI-X vector's eventfd and no other's;
 * with QCTRL.IEN off nothing is signalled; commands aborted on a slow
 * device are reported -ECANCELED and their late completions consumed; a
 * queue-pair reset restarts the rings.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "fpgactl.h"
#include "../unit/test_device_spec.h"

#define NQ 4
#define TIMEOUT_NS 5000000000ull

static struct fpgactl_device *open_dev(const char *model_spec, const char *sim_opts)
{
	int err = 0;
	struct fpgactl_device *dev =
		fpgactl_device_open(test_device_spec(model_spec, sim_opts), NULL, &err);

	assert_non_null(dev);
	return dev;
}

/* Is @fd readable within @ms?  Consume its count when it is. */
static int signalled(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t n;

	if (poll(&p, 1, ms) != 1)
		return 0;
	assert_int_equal(read(fd, &n, sizeof(n)), sizeof(n));
	return 1;
}

static void one_nop(struct fpgactl_queue *q)
{
	struct fpgactl_completion c;

	assert_int_equal(fpgactl_sc_prep_nop(q, q, 0), 0);
	assert_int_equal(fpgactl_sc_wait(q, q, TIMEOUT_NS, &c), 0);
	assert_int_equal(c.error, 0);
	assert_int_equal(c.status, FPGACTL_SC_SUCCESS);
}

static void test_vector_per_queue(void **state)
{
	const struct fpgactl_sc_opts opts = { .nr_queues = NQ, .depth = 16, .interrupts = true };
	struct fpgactl_device *dev = open_dev("model:queues=4", "");
	struct fpgactl_sc *sc;
	int fd[NQ], err = 0;

	sc = fpgactl_sc_open(dev, &opts, &err);
	assert_non_null(sc);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, NQ), 0);
	for (int v = 0; v < NQ; v++) {
		fd[v] = fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, v);
		assert_true(fd[v] >= 0);
	}
	for (int q = 0; q < NQ; q++) {
		one_nop(fpgactl_sc_queue(sc, q));
		assert_true(signalled(fd[q], 5000));
		for (int v = 0; v < NQ; v++)
			if (v != q)
				assert_false(signalled(fd[v], 20));
	}
	fpgactl_irq_disable(dev, FPGACTL_IRQ_MSIX);
	fpgactl_sc_close(sc);
	fpgactl_device_close(dev);
}

static void test_no_interrupt_without_ien(void **state)
{
	const struct fpgactl_sc_opts opts = { .nr_queues = 1, .depth = 16, .interrupts = false };
	struct fpgactl_device *dev = open_dev("model:queues=4", "");
	struct fpgactl_sc *sc;
	int err = 0;

	sc = fpgactl_sc_open(dev, &opts, &err);
	assert_non_null(sc);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 1), 0);
	one_nop(fpgactl_sc_queue(sc, 0));
	assert_false(signalled(fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0), 100));
	fpgactl_irq_disable(dev, FPGACTL_IRQ_MSIX);
	fpgactl_sc_close(sc);
	fpgactl_device_close(dev);
}

static void test_abort(void **state)
{
	const struct fpgactl_sc_opts opts = { .nr_queues = 1, .depth = 16 };
	struct fpgactl_device *dev = open_dev("model:slow=20000", "slow=20000");
	struct fpgactl_queue_stats qs;
	struct fpgactl_completion c;
	struct fpgactl_queue *q;
	struct fpgactl_sc *sc;
	unsigned int cancelled = 0;
	int err = 0;

	sc = fpgactl_sc_open(dev, &opts, &err);
	assert_non_null(sc);
	q = fpgactl_sc_queue(sc, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(fpgactl_sc_prep_nop(q, q, 0), 0);
	fpgactl_queue_submit(q);
	assert_int_equal(fpgactl_queue_abort(q), 3);
	while (fpgactl_queue_reap(q, &c, 1)) {
		assert_int_equal(c.error, -ECANCELED);
		cancelled++;
	}
	assert_int_equal(cancelled, 3);
	/* The device completes them later: consumed as late, never reported. */
	for (time_t end = time(NULL) + 10; time(NULL) < end;) {
		assert_int_equal(fpgactl_queue_reap(q, &c, 1), 0);
		fpgactl_queue_get_stats(q, &qs);
		if (qs.late_completions == 3)
			break;
	}
	assert_int_equal(qs.late_completions, 3);
	fpgactl_sc_close(sc);
	fpgactl_device_close(dev);
}

/* The queue-pair reset of softcore.md (QEN cleared, ACTIVE 0, QEN set): the
 * rings restart empty with phase 1, with an interrupt pending on the way
 * out, and the other queue pair is not affected. */
static void test_queue_reset(void **state)
{
	const struct fpgactl_sc_opts opts = { .nr_queues = 2, .depth = 16, .interrupts = true };
	struct fpgactl_device *dev = open_dev("model:queues=4", "");
	struct fpgactl_sc *sc;
	int err = 0;

	sc = fpgactl_sc_open(dev, &opts, &err);
	assert_int_equal(err, 0);
	assert_non_null(sc);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 2), 0);
	for (int i = 0; i < 21; i++)		/* past a wrap, phase 0 */
		one_nop(fpgactl_sc_queue(sc, 0));
	one_nop(fpgactl_sc_queue(sc, 1));
	assert_int_equal(fpgactl_sc_queue_reset(sc, 0), 0);
	for (int i = 0; i < 21; i++) {
		one_nop(fpgactl_sc_queue(sc, 0));
		one_nop(fpgactl_sc_queue(sc, 1));
	}
	fpgactl_irq_disable(dev, FPGACTL_IRQ_MSIX);
	fpgactl_sc_close(sc);
	fpgactl_device_close(dev);
}

/* The library's messages on stderr: a failing case says why in the log. */
static void log_stderr(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "libfpgactl[%d]: %s\n", level, msg);
}

int main(void)
{
	fpgactl_set_log(log_stderr, NULL, FPGACTL_LOG_INFO);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_per_queue),
		cmocka_unit_test(test_no_interrupt_without_ien),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_queue_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
