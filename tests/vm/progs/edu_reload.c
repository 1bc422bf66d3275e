// SPDX-License-Identifier: MIT
/*
 * edu_reload: DMA through a buffer, fpgactl_device_reprogram() with a
 * programming step that runs a command (in the VM suite: a script that asks
 * the host to unplug edu and plug a device in again), then DMA through the
 * same buffer at the same IOVA (tests/vm/guest/94-reprogram.sh).
 *
 *	edu_reload [--expect VENDOR:DEVICE] [--timeout-ms N] BDF PROGRAMMER [ARGS...]
 *	edu_reload --recover BDF TRIGGER [ARGS...]
 *
 * With --recover, TRIGGER runs in the background (in the VM suite: it asks
 * the host to unplug edu and plug it in again) while the program waits for
 * the removal request (REQ); then fpgactl_device_recover() reopens the
 * device in the same context and the DMA through the old buffer is checked.
 *
 * Prints "edu_reload: result ..." with what the call returned, and the
 * library's log on stderr.  Exit status: 0 reprogrammed (and, when edu came
 * back, DMA verified); 1 the reprogram failed (the handle was still closed
 * cleanly); 2 usage; 3 DMA failed before or after.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fpgactl.h>

#include "edu_dma.h"
#include "prog_log.h"

#define TRANSFER 4000
/* A transfer takes edu 100 ms of its timer; a TCG guest on a host running
 * other guests may see it much later: 10 s still tells a lost DMA. */
#define DMA_WAIT_NS 10000000000ull

/* RAM -> edu -> RAM through @buf, pattern @seed; 0 when verified. */
static int round_trip(struct fpgactl_device *dev, struct fpgactl_dma_buf *buf,
		      unsigned int seed)
{
	uint8_t *src = buf->vaddr, *dst = src + FPGACTL_PAGE_4K;
	int ret;

	for (size_t i = 0; i < TRANSFER; i++) {
		src[i] = (uint8_t)(i * 13 + seed * 7 + 1);
		dst[i] = (uint8_t)~src[i];
	}
	ret = fpgactl_set_bus_master(dev, true);
	if (!ret)
		ret = edu_dma_wait(dev, buf->iova, EDU_BUFFER, TRANSFER, 0,
				   DMA_WAIT_NS / 1000);
	if (!ret)
		ret = edu_dma_wait(dev, EDU_BUFFER, buf->iova + FPGACTL_PAGE_4K, TRANSFER,
				   EDU_DMA_TO_RAM, DMA_WAIT_NS / 1000);
	if (ret) {
		fprintf(stderr, "edu_reload: DMA: %s\n", strerror(-ret));
		return ret;
	}
	if (memcmp(src, dst, TRANSFER)) {
		fprintf(stderr, "edu_reload: DMA data differ (pattern %u)\n", seed);
		return -EIO;
	}
	printf("edu_reload: DMA round trip verified through IOVA 0x%" PRIx64
	       " (pattern %u)\n", buf->iova, seed);
	return 0;
}

static int run_programmer(void *arg)
{
	char **argv = arg;
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

static pid_t spawn(char **argv)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (!pid) {
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Wait for the REQ of a hot-unplug, then fpgactl_device_recover(). */
static int recover(struct fpgactl_device *dev, char **trigger, struct fpgactl_lc_opts *o,
		   struct fpgactl_lc_result *r)
{
	int fd = fpgactl_irq_watch_removal(dev), status, ret;
	struct pollfd p = { .events = POLLIN };
	pid_t pid;
	double t;

	if (fd < 0) {
		fprintf(stderr, "edu_reload: fpgactl_irq_watch_removal: %s\n", strerror(-fd));
		return fd;
	}
	p.fd = fd;
	pid = spawn(trigger);
	if (pid < 0)
		return -errno;
	ret = poll(&p, 1, 30000);
	t = uptime_s();
	if (ret <= 0) {
		fprintf(stderr, "edu_reload: no removal request within 30 s\n");
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -ETIMEDOUT;
	}
	printf("edu_reload: removal request (REQ) at uptime %.2f; recovering\n", t);
	fflush(stdout);
	ret = fpgactl_device_recover(dev, o, r);
	waitpid(pid, &status, 0);
	printf("edu_reload: trigger exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return ret;
}

static void progress(void *arg, enum fpgactl_lc_step step)
{
	(void)arg;
	printf("edu_reload: step %s\n", fpgactl_lc_step_name(step));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct fpgactl_dma_opts small = {
		.page_size = FPGACTL_PAGE_4K,
		.flags = FPGACTL_DMA_ALLOW_SMALL_PAGES,
	};
	struct fpgactl_lc_opts o = { .progress = progress };
	struct fpgactl_lc_result r;
	struct fpgactl_dma_buf *buf;
	struct fpgactl_device *dev;
	uint64_t iova;
	int i = 1, err = 0, ret;
	unsigned int v, d;
	bool recovering = argc > 1 && !strcmp(argv[1], "--recover");

	if (recovering)
		i = 2;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--expect") &&
		    sscanf(argv[i + 1], "%x:%x", &v, &d) == 2) {
			o.expect_vendor = (uint16_t)v;
			o.expect_device = (uint16_t)d;
		} else if (!strcmp(argv[i], "--timeout-ms")) {
			o.timeout_ms = (unsigned int)strtoul(argv[i + 1], NULL, 10);
		} else {
			break;
		}
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: edu_reload [--expect V:D] [--timeout-ms N] BDF "
				"PROGRAMMER [ARGS...]\n");
		return 2;
	}
	fpgactl_set_log(prog_log_stderr, PROG_LOG_LIBFPGACTL, FPGACTL_LOG_INFO);
	dev = fpgactl_device_open(argv[i], NULL, &err);
	if (!dev) {
		fprintf(stderr, "edu_reload: cannot open %s: %s\n", argv[i], strerror(-err));
		return 3;
	}
	fpgactl_device_set_dma_mask(dev, EDU_DMA_BITS);
	buf = fpgactl_dma_alloc(dev, 2 * FPGACTL_PAGE_4K, NULL, &err);
	if (!buf && err == -ENOMEM)
		buf = fpgactl_dma_alloc(dev, 2 * FPGACTL_PAGE_4K, &small, &err);
	if (!buf || round_trip(dev, buf, 1)) {
		fprintf(stderr, "edu_reload: DMA before the reload failed\n");
		return 3;
	}
	iova = buf->iova;
	if (recovering) {
		ret = recover(dev, &argv[i + 1], &o, &r);
	} else {
		o.program = run_programmer;
		o.arg = &argv[i + 1];
		ret = fpgactl_device_reprogram(dev, &o, &r);
	}
	printf("edu_reload: result %d (%s) step %s ids %04x:%04x -> %04x:%04x "
	       "ids_changed %d bars_changed %d BAR0 %" PRIu64 " -> %" PRIu64
	       " aer_masked %d masks_restored %d functions %u rescans %u "
	       "program_ms %.1f remove_to_reopen_ms %.1f\n",
	       ret, ret ? strerror(-ret) : "ok", fpgactl_lc_step_name(r.failed_step),
	       r.old_vendor, r.old_device, r.vendor, r.device, r.ids_changed,
	       r.bars_changed, r.old_bar_size[0], r.bar_size[0], r.aer_masked,
	       r.masks_restored, r.functions, r.rescans, r.program_ns / 1e6,
	       r.remove_to_reopen_ns / 1e6);
	fflush(stdout);
	if (!ret && r.vendor == 0x1234 && r.device == 0x11e8) {
		if (buf->iova != iova || round_trip(dev, buf, 2)) {
			fprintf(stderr, "edu_reload: DMA after the reload failed\n");
			return 3;
		}
		printf("edu_reload: the buffer mapped before the reload still works "
		       "after it\n");
	}
	/* After a failure the handle has no device: nothing to switch off. */
	if (!ret)
		fpgactl_set_bus_master(dev, false);
	fpgactl_dma_free(buf);
	fpgactl_device_close(dev);
	return ret ? 1 : 0;
}
