// SPDX-License-Identifier: MIT
/*
 * edu_traffic: continuous DMA and register traffic on QEMU's edu device
 * until the device goes away, for the hot-unplug test of the VM suite.
 *
 *	edu_traffic [-t SECONDS] BDF
 *
 * Each round: a DMA host -> edu and one edu -> host (each finished by an
 * MSI that the event engine waits for), the data verified, then a burst of
 * liveness register writes and reads checked with fpgactl_reg_check().
 * The engine also watches the device's removal request
 * (fpgactl_irq_watch_removal() + fpgactl_events_watch_removal()): when the
 * kernel asks for the device back (unbind, hot-unplug), every wait returns
 * -ENODEV; a read of all ones that config space confirms
 * (fpgactl_reg_check() -> -ENODEV) means the same.  The program then stops
 * edu's DMA (bus mastering off, the engine idle), frees its DMA buffer and
 * closes the device, which lets the kernel's unbind complete, and exits
 * with status 3.
 *
 * Output: "traffic running" once the first round is verified; on removal,
 * what detected it, after how many rounds, and the times (CLOCK_BOOTTIME,
 * the clock of /proc/uptime) at which the removal was seen and the device
 * closed.
 *
 * Exit status: 3 the device was removed (the expected end in the test);
 * 0 SECONDS (default 60) passed without a removal; 1 any other failure;
 * 2 bad arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fpgactl.h>

#include "edu.h"

#define EXIT_REMOVED 3
#define DMA_WAIT_NS 10000000000LL	/* 100 ms of VM time; much later on a loaded host */
#define TRANSFER 4000
#define REG_BURST 200

struct traffic {
	struct fpgactl_device *dev;
	struct fpgactl_events *ev;
	struct fpgactl_dma_buf *buf;
	uint8_t *src, *dst;
	uint64_t dst_iova;
	unsigned long rounds, reg_ops;
	const char *removed_by;		/* set once removal is detected */
};

static void log_stderr(void *arg, int level, const char *msg)
{
	fprintf(stderr, "libfpgactl: %s\n", msg);
}

/* -ENODEV: removal; record by what. */
static int removed(struct traffic *t, const char *by)
{
	if (!t->removed_by)
		t->removed_by = by;
	return -ENODEV;
}

static int reg_write(struct traffic *t, uint64_t off, unsigned int width, uint64_t val)
{
	int ret = fpgactl_reg_write(t->dev, EDU_BAR, off, width, val);

	if (ret)
		fprintf(stderr, "edu_traffic: writing register 0x%" PRIx64 ": %s\n",
			off, strerror(-ret));
	return ret;
}

/* A checked read: -ENODEV when it reads all ones and the device is gone. */
static int reg_read(struct traffic *t, uint64_t off, unsigned int width, uint64_t *val)
{
	int ret = fpgactl_reg_check(t->dev, EDU_BAR, off, width, val);

	if (ret == -ENODEV)
		return removed(t, "a register read of all ones (fpgactl_reg_check)");
	if (ret)
		fprintf(stderr, "edu_traffic: reading register 0x%" PRIx64 ": %s\n",
			off, strerror(-ret));
	return ret;
}

/* One DMA transfer, finished by edu's MSI. */
static int dma(struct traffic *t, uint64_t src, uint64_t dst, uint64_t dir)
{
	uint64_t tag, st = 0;
	int ret = reg_write(t, EDU_REG_DMA_SRC, 8, src);

	if (!ret)
		ret = reg_write(t, EDU_REG_DMA_DST, 8, dst);
	if (!ret)
		ret = reg_write(t, EDU_REG_DMA_COUNT, 8, TRANSFER);
	if (!ret)
		ret = reg_write(t, EDU_REG_DMA_CMD, 8, EDU_DMA_START | EDU_DMA_IRQ | dir);
	if (ret)
		return ret;
	ret = fpgactl_events_wait(t->ev, DMA_WAIT_NS, &tag, 1);
	if (ret == -ENODEV)
		return removed(t, "the removal request (REQ) ending an interrupt wait");
	if (ret < 0) {
		fprintf(stderr, "edu_traffic: fpgactl_events_wait: %s\n", strerror(-ret));
		return ret;
	}
	if (ret == 0) {
		fprintf(stderr, "edu_traffic: no DMA interrupt within %lld ms\n",
			DMA_WAIT_NS / 1000000);
		return -ETIMEDOUT;
	}
	ret = reg_read(t, EDU_REG_IRQ_STATUS, 4, &st);
	if (ret)
		return ret;
	if (!(st & EDU_DMA_IRQ_BIT)) {
		fprintf(stderr, "edu_traffic: DMA interrupt, but status 0x%08" PRIx64 "\n", st);
		return -EPROTO;
	}
	ret = reg_write(t, EDU_REG_IRQ_ACK, 4, st);
	fpgactl_rmb();
	return ret;
}

static int round_trip(struct traffic *t)
{
	int ret;

	for (size_t i = 0; i < TRANSFER; i++) {
		t->src[i] = (uint8_t)(i * 13 + t->rounds * 7 + 1);
		t->dst[i] = (uint8_t)~t->src[i];
	}
	ret = dma(t, t->buf->iova, EDU_BUFFER, 0);
	if (!ret)
		ret = dma(t, EDU_BUFFER, t->dst_iova, EDU_DMA_TO_RAM);
	if (!ret && memcmp(t->src, t->dst, TRANSFER)) {
		fprintf(stderr, "edu_traffic: round %lu: data read back differs\n",
			t->rounds + 1);
		ret = -EIO;
	}
	return ret;
}

static int reg_burst(struct traffic *t)
{
	for (unsigned int i = 0; i < REG_BURST; i++) {
		uint32_t v = (uint32_t)(t->reg_ops * 2654435761u);
		uint64_t back = 0;
		int ret = reg_write(t, EDU_REG_LIVENESS, 4, v);

		if (!ret)
			ret = reg_read(t, EDU_REG_LIVENESS, 4, &back);
		if (ret)
			return ret;
		if (back != (uint32_t)~v) {
			fprintf(stderr, "edu_traffic: liveness register: wrote 0x%08x, "
				"read 0x%08" PRIx64 "\n", v, back);
			return -EIO;
		}
		t->reg_ops += 2;
		/* A busy loop sees a removal without a system call. */
		if (fpgactl_events_removed(t->ev))
			return removed(t, "the removal request (REQ), seen by "
				       "fpgactl_events_removed() between register accesses");
	}
	return 0;
}

static int setup(struct traffic *t, const char *bdf)
{
	static const struct fpgactl_dma_opts small = {
		.page_size = FPGACTL_PAGE_4K,
		.flags = FPGACTL_DMA_ALLOW_SMALL_PAGES,
	};
	int err = 0, ret, fd, rfd;

	t->dev = fpgactl_device_open(bdf, NULL, &err);
	if (!t->dev) {
		fprintf(stderr, "edu_traffic: cannot open %s: %s\n", bdf, strerror(-err));
		return err;
	}
	ret = fpgactl_device_set_dma_mask(t->dev, EDU_DMA_BITS);
	if (!ret)
		ret = fpgactl_set_bus_master(t->dev, true);
	if (!ret)
		ret = fpgactl_irq_enable(t->dev, FPGACTL_IRQ_MSI, 1);
	if (ret) {
		fprintf(stderr, "edu_traffic: bus master / MSI: %s\n", strerror(-ret));
		return ret;
	}
	t->ev = fpgactl_events_create(4, &err);
	if (!t->ev) {
		fprintf(stderr, "edu_traffic: fpgactl_events_create: %s\n", strerror(-err));
		return err;
	}
	fd = fpgactl_irq_fd(t->dev, FPGACTL_IRQ_MSI, 0);
	rfd = fpgactl_irq_watch_removal(t->dev);
	if (fd < 0 || rfd < 0) {
		fprintf(stderr, "edu_traffic: MSI eventfd %d, removal eventfd %d\n", fd, rfd);
		return fd < 0 ? fd : rfd;
	}
	ret = fpgactl_events_watch(t->ev, fd, 1);
	if (!ret)
		ret = fpgactl_events_watch_removal(t->ev, rfd);
	if (ret) {
		fprintf(stderr, "edu_traffic: fpgactl_events_watch: %s\n", strerror(-ret));
		return ret;
	}
	t->buf = fpgactl_dma_alloc(t->dev, 2 * FPGACTL_PAGE_4K, NULL, &err);
	if (!t->buf && err == -ENOMEM)
		t->buf = fpgactl_dma_alloc(t->dev, 2 * FPGACTL_PAGE_4K, &small, &err);
	if (!t->buf) {
		fprintf(stderr, "edu_traffic: DMA buffer: %s\n", strerror(-err));
		return err;
	}
	t->src = t->buf->vaddr;
	t->dst = (uint8_t *)t->buf->vaddr + FPGACTL_PAGE_4K;
	t->dst_iova = t->buf->iova + FPGACTL_PAGE_4K;
	return 0;
}

/*
 * Stop the device's DMA before its buffer goes: bus mastering off (QEMU
 * then drops edu's memory accesses), and give a transfer in progress its
 * 100 ms to end.  On a device that is gone, both fail quietly.
 */
static void teardown(struct traffic *t)
{
	if (t->dev && t->buf) {
		fpgactl_set_bus_master(t->dev, false);
		fpgactl_reg_poll(t->dev, EDU_BAR, EDU_REG_DMA_CMD, 8, EDU_DMA_START, 0,
				 1000000, NULL);
	}
	fpgactl_events_destroy(t->ev);
	fpgactl_dma_free(t->buf);
	fpgactl_device_close(t->dev);
}

int main(int argc, char **argv)
{
	struct traffic t = { 0 };
	unsigned long seconds = 60;
	double seen, closed;
	uint64_t end;
	int opt, ret;
	char *e;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't')
			goto usage;
		seconds = strtoul(optarg, &e, 0);
		if (*e || !seconds || seconds > 3600)
			goto usage;
	}
	if (optind + 1 != argc)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	fpgactl_set_log(log_stderr, NULL, FPGACTL_LOG_WARNING);

	ret = setup(&t, argv[optind]);
	end = now_ns() + seconds * 1000000000ull;
	while (!ret && now_ns() < end) {
		ret = round_trip(&t);
		if (!ret)
			ret = reg_burst(&t);
		if (!ret && !t.rounds++)
			printf("edu_traffic: traffic running on %s: DMA rounds with MSI, "
			       "register bursts; removal watched\n", argv[optind]);
	}
	if (!ret) {
		printf("edu_traffic: %lu s without a removal: %lu rounds, %lu register "
		       "accesses\n", seconds, t.rounds, t.reg_ops);
		teardown(&t);
		return 0;
	}
	if (ret != -ENODEV) {
		teardown(&t);
		fprintf(stderr, "edu_traffic: failed after %lu rounds (%s)\n", t.rounds,
			strerror(-ret));
		return 1;
	}
	seen = uptime_s();
	printf("edu_traffic: removal detected at uptime %.3f by %s, after %lu rounds "
	       "and %lu register accesses\n", seen, t.removed_by, t.rounds, t.reg_ops);
	teardown(&t);
	closed = uptime_s();
	printf("edu_traffic: DMA stopped, buffer freed, device closed at uptime %.3f "
	       "(%.1f ms after the removal was detected)\n", closed, (closed - seen) * 1e3);
	fprintf(stderr, "edu_traffic: %s: %s\n", argv[optind], strerror(ENODEV));
	return EXIT_REMOVED;

usage:
	fprintf(stderr, "usage: edu_traffic [-t SECONDS] BDF\n");
	return 2;
}
