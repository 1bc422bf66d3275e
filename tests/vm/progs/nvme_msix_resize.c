// SPDX-License-Identifier: MIT
/*
 * nvme_msix_resize: what happens to MSI-X vector 0 when the vector count of
 * an enabled MSI-X index changes (fpgactl_irq_enable() with another count),
 * on QEMU's NVMe controller, whose admin completion queue interrupts on
 * vector 0 (issue 12 item 14, docs/interrupts.md).
 *
 *	nvme_msix_resize [-n N] [-m M] [-r ROUNDS] BDF
 *
 * The interrupt source: admin Get Features (Number of Queues, no data
 * buffer) commands; each completion the controller posts raises vector 0.
 *
 * 1. MSI-X enabled with N vectors (default 2); the index's NORESIZE flag is
 *    printed.
 * 2. A command completes and its interrupt is left pending (unread) on
 *    vector 0's eventfd; the program keeps a dup() of that eventfd, so the
 *    file stays alive whatever the library does with its own descriptor.
 * 3. The count grows to M (default 8) with fpgactl_irq_enable().
 * 4. Another command completes; the program looks where its interrupt went:
 *    the original eventfd (the dup), or only the library's current one.
 * 5. NORESIZE clear only: ROUNDS commands (default 100), one at a time, each
 *    answered by an interrupt on the original eventfd within 1 s, while the
 *    main thread keeps changing the count (between N and M + 8) as fast as
 *    it can.
 *
 * What the library documents (include/fpgactl/irq.h): with NORESIZE clear
 * vectors are added and removed in place, vector 0 keeps its eventfd and
 * never stops delivering (the pending interrupt is still counted, the later
 * ones arrive on the original eventfd, none is lost while resizing); with
 * NORESIZE set the index is disabled and enabled again with new eventfds
 * (another descriptor number for vector 0, the old file gets nothing more,
 * the new one gets what is raised after the resize).  The program checks
 * the case its kernel reports and prints one line per fact.
 *
 * Exit status: 0 the library behaved as documented for the kernel's flag;
 * 1 otherwise (the reason on stderr); 2 bad arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

#include <fpgactl.h>

#include "nvme.h"
#include "prog_log.h"

#define DEPTH 32			/* admin SQ and CQ entries */
#define SQ_OFF 0
#define CQ_OFF 4096
#define BUF_SIZE 8192
#define OPC_GET_FEATURES 0x0a
#define FID_NUM_QUEUES 0x07
#define WAIT_MS 1000			/* the longest an interrupt may take */

struct nvme {
	struct fpgactl_device *dev;
	const struct fpgactl_bar *bar;
	struct fpgactl_dma_buf *buf;
	uint32_t cq_db;			/* CQ 0 head doorbell offset */
	uint16_t sq_tail, cq_head, cid;
	uint8_t phase;
};

struct stress {
	struct nvme *n;
	int fd;				/* dup of vector 0's original eventfd */
	unsigned int rounds, done;
	volatile bool stop;
	char err[256];
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("nvme_msix_resize: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int wait_csts(struct nvme *n, uint32_t want, unsigned int ms)
{
	for (unsigned int t = 0; t <= ms; t++) {
		uint32_t csts = fpgactl_mmio_read32(n->bar, NVME_REG_CSTS);

		if (csts == 0xffffffffu || (csts & NVME_CSTS_CFS))
			return fail("CSTS 0x%08x (controller fatal or gone)", csts);
		if ((csts & NVME_CSTS_RDY) == want)
			return 0;
		sleep_ms(1);
	}
	return fail("CSTS.RDY did not become %u within %u ms", want, ms);
}

/* Controller disabled, admin rings at the buffer, enabled again. */
static int bring_up(struct nvme *n)
{
	uint64_t cap = fpgactl_mmio_read64(n->bar, NVME_REG_CAP);
	unsigned int to = (unsigned int)NVME_CAP_TO_MS(cap);

	if (to == 0)
		to = 500;
	n->cq_db = NVME_DOORBELLS + (4u << NVME_CAP_DSTRD(cap));
	if (fpgactl_mmio_read32(n->bar, NVME_REG_CC) & NVME_CC_EN) {
		fpgactl_mmio_write32(n->bar, NVME_REG_CC, 0);
		if (wait_csts(n, 0, to))
			return -1;
	}
	memset(n->buf->vaddr, 0, BUF_SIZE);
	fpgactl_mmio_write32(n->bar, NVME_REG_AQA, (DEPTH - 1) << 16 | (DEPTH - 1));
	fpgactl_mmio_write64(n->bar, NVME_REG_ASQ, n->buf->iova + SQ_OFF);
	fpgactl_mmio_write64(n->bar, NVME_REG_ACQ, n->buf->iova + CQ_OFF);
	fpgactl_wmb();
	fpgactl_mmio_write32(n->bar, NVME_REG_CC, NVME_CC_EN | NVME_CC_IOSQES | NVME_CC_IOCQES);
	n->sq_tail = n->cq_head = 0;
	n->phase = 1;
	return wait_csts(n, NVME_CSTS_RDY, to);
}

/* Submit one Get Features (Number of Queues); its completion raises vector 0. */
static void submit(struct nvme *n)
{
	uint32_t *sqe = (uint32_t *)((uint8_t *)n->buf->vaddr + SQ_OFF) + 16u * n->sq_tail;

	memset(sqe, 0, 64);
	sqe[0] = OPC_GET_FEATURES | (uint32_t)++n->cid << 16;
	sqe[10] = FID_NUM_QUEUES;
	n->sq_tail = (uint16_t)((n->sq_tail + 1) % DEPTH);
	fpgactl_wmb();
	fpgactl_mmio_write32(n->bar, NVME_DOORBELLS, n->sq_tail);
}

/* Wait (polling the CQ) for the completion of the last command; consume it. */
static int reap(struct nvme *n)
{
	volatile uint32_t *cqe = (volatile uint32_t *)((uint8_t *)n->buf->vaddr + CQ_OFF) +
				 4u * n->cq_head;

	for (unsigned int i = 0; i < 2000000; i++) {
		uint32_t dw3 = cqe[3];

		if ((dw3 >> 16 & 1) == n->phase) {
			fpgactl_dma_rmb();
			if ((dw3 & 0xffff) != n->cid || (dw3 >> 17 & 0x7fff))
				return fail("completion: command id %u (expected %u), "
					    "status 0x%x", dw3 & 0xffff, n->cid,
					    dw3 >> 17 & 0x7fff);
			if (++n->cq_head == DEPTH) {
				n->cq_head = 0;
				n->phase ^= 1;
			}
			fpgactl_mmio_write32(n->bar, n->cq_db, n->cq_head);
			return 0;
		}
		if (i > 1000)
			usleep(10);
	}
	return fail("command %u did not complete", n->cid);
}

/* Wait for @fd to be readable; 1 when it is, 0 on timeout. */
static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* The eventfd's counter (read and reset), 0 when nothing is pending. */
static uint64_t drain(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* Phase 5's interrupt side: one command at a time, each answered on @s->fd. */
static void *stress_cmds(void *arg)
{
	struct stress *s = arg;

	for (s->done = 0; s->done < s->rounds; s->done++) {
		submit(s->n);
		if (reap(s->n)) {
			snprintf(s->err, sizeof(s->err), "command %u failed", s->done);
			break;
		}
		if (!readable(s->fd, WAIT_MS)) {
			snprintf(s->err, sizeof(s->err), "the interrupt of command %u "
				 "(of %u) never reached vector 0's original eventfd",
				 s->done + 1, s->rounds);
			break;
		}
		drain(s->fd);
	}
	s->stop = true;
	return NULL;
}

static int stress(struct nvme *n, int fd, uint32_t lo, uint32_t hi, unsigned int rounds)
{
	struct stress s = { .n = n, .fd = fd, .rounds = rounds };
	unsigned int resizes = 0;
	uint32_t count = lo;
	pthread_t t;
	int ret = 0;

	if (pthread_create(&t, NULL, stress_cmds, &s))
		return fail("pthread_create failed");
	while (!s.stop && !ret) {
		count = count >= hi ? lo : count + 1;
		ret = fpgactl_irq_enable(n->dev, FPGACTL_IRQ_MSIX, count);
		if (ret)
			fail("resize to %u vectors: %s", count, strerror(-ret));
		else
			resizes++;
		if (!ret && fpgactl_irq_fd(n->dev, FPGACTL_IRQ_MSIX, 0) < 0)
			ret = fail("vector 0 has no eventfd after a resize to %u", count);
	}
	s.stop = true;
	pthread_join(t, NULL);
	if (s.err[0])
		return fail("%s (%u resizes so far)", s.err, resizes);
	if (ret)
		return ret;
	printf("resizing: %u interrupts of %u commands on vector 0's original "
	       "eventfd, none lost, while the count changed %u times (%u to %u)\n",
	       s.done, rounds, resizes, lo, hi);
	return 0;
}

/* Phases 2-4, for the kernel's NORESIZE flag @noresize. */
static int resize_once(struct nvme *n, uint32_t from, uint32_t to, bool noresize,
		       int *orig_dup)
{
	int fd0 = fpgactl_irq_fd(n->dev, FPGACTL_IRQ_MSIX, 0), fd1, orig, ret;
	uint64_t pending;
	bool on_orig, on_new;

	if (fd0 < 0)
		return fail("vector 0 has no eventfd: %s", strerror(-fd0));
	orig = dup(fd0);
	if (orig < 0)
		return fail("dup: %s", strerror(errno));
	*orig_dup = orig;
	submit(n);
	if (reap(n))
		return -1;
	if (!readable(orig, WAIT_MS))
		return fail("the first interrupt never reached vector 0 (%u vectors)", from);
	printf("before: %u vectors, vector 0 on fd %d, an interrupt pending there\n",
	       from, fd0);
	ret = fpgactl_irq_enable(n->dev, FPGACTL_IRQ_MSIX, to);
	if (ret)
		return fail("resize from %u to %u vectors: %s", from, to, strerror(-ret));
	fd1 = fpgactl_irq_fd(n->dev, FPGACTL_IRQ_MSIX, 0);
	if (fpgactl_irq_enabled(n->dev, FPGACTL_IRQ_MSIX) != to)
		return fail("%u vectors enabled after the resize to %u",
			    fpgactl_irq_enabled(n->dev, FPGACTL_IRQ_MSIX), to);
	if (fd1 < 0)
		return fail("vector 0 has no eventfd after the resize");
	pending = readable(fd1, 0) ? drain(fd1) : 0;
	printf("after: %u vectors, vector 0 on fd %d (%s); the interrupt pending "
	       "before: %s\n", to, fd1, fd1 == fd0 ? "the same eventfd" : "a new eventfd",
	       pending ? "still counted" : "gone");
	drain(orig);
	submit(n);
	if (reap(n))
		return -1;
	on_new = readable(fd1, WAIT_MS);
	on_orig = readable(orig, on_new ? 100 : WAIT_MS);
	printf("an interrupt raised after the resize: %s\n",
	       on_orig ? "on the original eventfd" : on_new ? "on the new eventfd only" :
	       "nowhere");
	drain(orig);
	drain(fd1);
	if (!noresize) {
		if (fd1 != fd0)
			return fail("NORESIZE is clear, yet vector 0's eventfd was "
				    "replaced (fd %d -> %d): the index was disabled", fd0, fd1);
		if (!pending)
			return fail("NORESIZE is clear, yet the interrupt pending on "
				    "vector 0 before the resize is gone");
		if (!on_orig)
			return fail("NORESIZE is clear, yet the interrupt raised after "
				    "the resize did not reach the original eventfd");
		return 0;
	}
	if (fd1 == fd0)
		return fail("NORESIZE is set, yet vector 0 kept descriptor %d: the "
			    "library documents new eventfds", fd0);
	if (!on_new || on_orig)
		return fail("NORESIZE is set: the interrupt after the resize should "
			    "reach the new eventfd only (new: %s, original: %s)",
			    on_new ? "yes" : "no", on_orig ? "yes" : "no");
	return 0;
}

static int run(struct nvme *n, uint32_t lo, uint32_t hi, unsigned int rounds)
{
	struct fpgactl_irq_info info;
	int orig = -1, ret = fpgactl_irq_get_info(n->dev, FPGACTL_IRQ_MSIX, &info);
	bool noresize;

	if (ret)
		return fail("MSI-X info: %s", strerror(-ret));
	if (info.count < hi + 8)
		return fail("%u MSI-X vectors; this test needs %u", info.count, hi + 8);
	noresize = info.flags & VFIO_IRQ_INFO_NORESIZE;
	printf("MSI-X: %u vectors, NORESIZE %s\n", info.count,
	       noresize ? "set" : "clear");
	/* MSI-X before CC.EN, the order of Linux's nvme driver: on 6.1 with
	 * the controller enabled first, QEMU 7.2's controller never sent the
	 * admin CQ's interrupt (seen; 6.12 got it either way). */
	ret = fpgactl_irq_enable(n->dev, FPGACTL_IRQ_MSIX, lo);
	if (ret)
		return fail("enabling %u MSI-X vectors: %s", lo, strerror(-ret));
	if (bring_up(n))
		return -1;
	ret = resize_once(n, lo, hi, noresize, &orig);
	if (!ret && !noresize)
		ret = stress(n, orig, lo, hi + 8, rounds);
	if (orig >= 0)
		close(orig);
	return ret;
}

static bool parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 0);
	if (errno || end == s || *end || !x || x > 4096)
		return false;
	*v = (uint32_t)x;
	return true;
}

int main(int argc, char **argv)
{
	const struct fpgactl_dma_opts small = {
		.page_size = FPGACTL_PAGE_4K,
		.flags = FPGACTL_DMA_ALLOW_SMALL_PAGES,
	};
	uint32_t lo = 2, hi = 8, rounds = 100;
	struct nvme n = { 0 };
	int c, err = 0, ret;

	while ((c = getopt(argc, argv, "n:m:r:")) != -1) {
		if ((c == 'n' && !parse_u32(optarg, &lo)) ||
		    (c == 'm' && !parse_u32(optarg, &hi)) ||
		    (c == 'r' && !parse_u32(optarg, &rounds)) || c == '?') {
			fprintf(stderr, "usage: nvme_msix_resize [-n N] [-m M] [-r ROUNDS] BDF\n");
			return 2;
		}
	}
	if (optind != argc - 1 || lo >= hi) {
		fprintf(stderr, "usage: nvme_msix_resize [-n N] [-m M] [-r ROUNDS] BDF "
			"(N < M)\n");
		return 2;
	}
	fpgactl_set_log(prog_log_stderr, PROG_LOG_LIBFPGACTL, FPGACTL_LOG_WARNING);
	n.dev = fpgactl_device_open(argv[optind], NULL, &err);
	if (!n.dev) {
		fail("cannot open %s: %s", argv[optind], strerror(-err));
		return 1;
	}
	n.bar = fpgactl_device_bar(n.dev, NVME_BAR, &err);
	ret = n.bar ? 0 : fail("BAR0: %s", strerror(-err));
	if (!ret)
		ret = fpgactl_device_set_dma_mask(n.dev, 64);
	if (!ret)
		ret = fpgactl_set_bus_master(n.dev, true);
	if (!ret) {
		n.buf = fpgactl_dma_alloc(n.dev, BUF_SIZE, NULL, &err);
		if (!n.buf)
			n.buf = fpgactl_dma_alloc(n.dev, BUF_SIZE, &small, &err);
		ret = n.buf ? 0 : fail("DMA buffer: %s", strerror(-err));
	}
	if (!ret)
		ret = run(&n, lo, hi, rounds);
	if (n.bar)
		fpgactl_mmio_write32(n.bar, NVME_REG_CC, 0);
	fpgactl_irq_disable_all(n.dev);
	if (n.buf)
		fpgactl_dma_free(n.buf);
	fpgactl_device_close(n.dev);
	if (ret)
		return 1;
	printf("nvme_msix_resize: ok\n");
	return 0;
}
