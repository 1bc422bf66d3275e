// SPDX-License-Identifier: MIT
/*
 * One thread per queue pair against the software model: each thread owns
 * its queue and its part of a shared DMA buffer, and pushes COPY commands
 * through with its data verified.  Run under ThreadSanitizer in CI: the
 * ring engine takes no lock, so the only sharing must be the device's.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "fpgactl.h"
#include "test_device_spec.h"

#define NQ 4
#define ROUNDS 400
#define CHUNK 512
#define PER_QUEUE (16 * CHUNK)		/* source half, then destination half */

struct worker {
	struct fpgactl_queue *q;
	struct fpgactl_dma_buf *buf;
	size_t base;			/* this worker's part of the buffer */
	unsigned int verified;
	int failed;
};

static uint8_t *at(struct worker *w, size_t off)
{
	return (uint8_t *)w->buf->vaddr + w->base + off;
}

/*
 * The byte chunk @i of @round is filled with: never 0, which is what the
 * destination holds before the copy, so that a COPY not done (or done from
 * nowhere) cannot pass; and different for the 8 chunks of a round, so that
 * a COPY from the wrong chunk cannot either.
 */
static int pattern(unsigned int round, unsigned int i)
{
	return (int)(1 + (round * 8 + i) % 255);
}

/* Eight COPYs in one batch, reaped and verified. */
static int one_round(struct worker *w, unsigned int round)
{
	struct fpgactl_completion c[8];
	unsigned int done = 0;

	for (unsigned int i = 0; i < 8; i++) {
		memset(at(w, i * CHUNK), pattern(round, i), CHUNK);
		memset(at(w, PER_QUEUE / 2 + i * CHUNK), 0, CHUNK);
		if (fpgactl_sc_prep_copy(w->q, w->buf->iova + w->base + i * CHUNK,
					 w->buf->iova + w->base + PER_QUEUE / 2 + i * CHUNK,
					 CHUNK, (void *)(uintptr_t)(i + 1), 3000000000ull))
			return -1;
	}
	fpgactl_queue_submit(w->q);
	while (done < 8) {
		unsigned int n = fpgactl_queue_reap(w->q, c, 8);

		for (unsigned int k = 0; k < n; k++) {
			unsigned int i = (unsigned int)(uintptr_t)c[k].ctx - 1;

			if (!c[k].ctx || c[k].error || c[k].status || i >= 8 ||
			    memcmp(at(w, i * CHUNK), at(w, PER_QUEUE / 2 + i * CHUNK), CHUNK))
				return -1;
			w->verified++;
		}
		done += n;
	}
	return 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;

	for (unsigned int r = 0; r < ROUNDS && !w->failed; r++)
		w->failed = one_round(w, r);
	return NULL;
}

static void test_queue_per_thread(void **state)
{
	const struct fpgactl_sc_opts opts = { .nr_queues = NQ, .depth = 32 };
	const struct fpgactl_dma_opts small = {
		.page_size = FPGACTL_PAGE_4K, .flags = FPGACTL_DMA_ALLOW_SMALL_PAGES };
	struct worker w[NQ];
	pthread_t tid[NQ];
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *buf;
	struct fpgactl_sc *sc;
	int err = 0;

	dev = fpgactl_device_open(test_device_spec("model:queues=4", ""), NULL, &err);
	assert_non_null(dev);
	sc = fpgactl_sc_open(dev, &opts, &err);
	assert_non_null(sc);
	buf = fpgactl_dma_alloc(dev, NQ * PER_QUEUE, &small, &err);
	assert_non_null(buf);
	for (int i = 0; i < NQ; i++) {
		w[i] = (struct worker){ .q = fpgactl_sc_queue(sc, i), .buf = buf,
					.base = (size_t)i * PER_QUEUE };
		assert_int_equal(pthread_create(&tid[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < NQ; i++) {
		pthread_join(tid[i], NULL);
		assert_int_equal(w[i].failed, 0);
		assert_int_equal(w[i].verified, ROUNDS * 8);
	}
	fpgactl_dma_free(buf);
	fpgactl_sc_close(sc);
	fpgactl_device_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_per_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
