// SPDX-License-Identifier: MIT
/*
 * edu_irq: interrupts from QEMU's edu device through libfpgactl's event
 * path (fpgactl_irq_enable, fpgactl_irq_fd, an fpgactl_events engine).
 *
 *	edu_irq [-n COUNT] [-m msi|intx|both] BDF
 *
 * For each interrupt type: COUNT times, write a value to edu's interrupt
 * raise register (0x60), wait (at most 1 s) for the engine to report the
 * vector's eventfd, check that the interrupt status register (0x24) holds
 * the value, acknowledge it (0x64; the status must read 0 again) and, for
 * INTx, unmask.  Before and after the series a wait without a raise must
 * time out (no spurious interrupt).  Prints the count and the latency from
 * the raise to the wake-up.
 *
 * INTx also gets two checks of the masking VFIO does (docs/interrupts.md):
 * an interrupt raised while INTx is masked stays pending and is delivered
 * on unmask; unmasking before the device is serviced fires again at once.
 *
 * Before disabling each type it prints what the kernel counted for edu's
 * vfio handler of that type in /proc/interrupts (the handler and its line
 * go away with the type), for the test to compare with what it raised.
 *
 * Exit status: 0 all interrupts arrived, none spuriously; 1 otherwise (the
 * reason on stderr); 2 bad arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fpgactl.h>

#include "edu.h"

#define WAIT_NS 1000000000LL		/* the longest an interrupt may take */
#define QUIET_NS 100000000LL		/* a wait that must see nothing */

struct ctx {
	struct fpgactl_device *dev;
	const struct fpgactl_bar *bar;
	struct fpgactl_events *ev;
	const char *name;		/* "MSI" or "INTx" */
	uint32_t index;			/* FPGACTL_IRQ_MSI or _INTX */
	const char *bdf;		/* canonical, as the kernel names it */
};

static void log_stderr(void *arg, int level, const char *msg)
{
	fprintf(stderr, "libfpgactl: %s\n", msg);
}

static int fail(const struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(const struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "edu_irq: %s: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static uint32_t irq_status(const struct ctx *c)
{
	return fpgactl_mmio_read32(c->bar, EDU_REG_IRQ_STATUS);
}

/*
 * wait_irq() - wait up to @timeout_ns for the vector's eventfd
 *
 * Return: 1 when it fired (and nothing else did), 0 on timeout, -1 after
 * printing what went wrong.
 */
static int wait_irq(const struct ctx *c, int64_t timeout_ns, const char *what)
{
	uint64_t tags[4];
	int n = fpgactl_events_wait(c->ev, timeout_ns, tags, 4);

	if (n < 0)
		return fail(c, "%s: fpgactl_events_wait: %s", what, strerror(-n));
	if (n == 0)
		return 0;
	if (n != 1 || tags[0] != c->index + 1)
		return fail(c, "%s: the engine reported %d tag(s), the first %" PRIu64
			    ", instead of tag %u alone", what, n, tags[0], c->index + 1);
	return 1;
}

/* A wait that must time out: no interrupt is pending. */
static int expect_quiet(const struct ctx *c, const char *when)
{
	int r = wait_irq(c, QUIET_NS, when);

	if (r > 0)
		return fail(c, "spurious interrupt %s (status register 0x%08x)", when,
			    irq_status(c));
	return r;
}

/* Acknowledge @val and check that the status register is clear. */
static int ack(const struct ctx *c, uint32_t val)
{
	uint32_t st;

	fpgactl_mmio_write32(c->bar, EDU_REG_IRQ_ACK, val);
	st = irq_status(c);
	if (st)
		return fail(c, "status register 0x%08x after acknowledging 0x%08x",
			    st, val);
	return 0;
}

static int unmask(const struct ctx *c)
{
	int ret;

	if (c->index != FPGACTL_IRQ_INTX)
		return 0;
	ret = fpgactl_irq_unmask(c->dev);
	if (ret)
		return fail(c, "fpgactl_irq_unmask: %s", strerror(-ret));
	return 0;
}

/* Raise @val, wait for it, check the status register. */
static int raise_irq(const struct ctx *c, uint32_t val, uint64_t *lat_ns)
{
	uint64_t t0 = now_ns();
	uint32_t st;
	int r;

	fpgactl_mmio_write32(c->bar, EDU_REG_IRQ_RAISE, val);
	r = wait_irq(c, WAIT_NS, "raise");
	if (lat_ns)
		*lat_ns = now_ns() - t0;
	if (r == 0)
		return fail(c, "interrupt 0x%08x not received within %lld ms (status "
			    "register 0x%08x)", val, WAIT_NS / 1000000, irq_status(c));
	if (r < 0)
		return r;
	st = irq_status(c);
	if (st != val)
		return fail(c, "status register 0x%08x after raising 0x%08x", st, val);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The series: @count raises, each received, checked, acknowledged. */
static int series(const struct ctx *c, unsigned int count)
{
	uint64_t *lat = calloc(count, sizeof(*lat)), sum = 0;
	unsigned int got = 0;
	int ret = 0;

	if (!lat)
		return fail(c, "out of memory");
	for (unsigned int i = 0; i < count && !ret; i++) {
		uint32_t val = 0x1234u | (i & 0x7fffu) << 16;

		ret = raise_irq(c, val, &lat[i]);
		if (!ret)
			ret = ack(c, val);
		if (!ret)
			ret = unmask(c);
		if (!ret) {
			sum += lat[i];
			got++;
		}
	}
	if (!ret)
		ret = expect_quiet(c, "after the series");
	if (!ret) {
		qsort(lat, count, sizeof(*lat), cmp_u64);
		printf("edu_irq: %s: %u of %u interrupts received, 0 spurious; raise to "
		       "wake-up: min %.1f us, median %.1f us, mean %.1f us, p99 %.1f us, "
		       "max %.1f us\n", c->name, got, count, lat[0] / 1e3,
		       lat[count / 2] / 1e3, (double)sum / count / 1e3,
		       lat[(count * 99) / 100 < count ? (count * 99) / 100 : count - 1] / 1e3,
		       lat[count - 1] / 1e3);
	}
	free(lat);
	return ret;
}

/*
 * VFIO masks INTx when it fires.  An interrupt raised while masked must stay
 * pending and arrive on unmask; unmasking while the device still asserts
 * the line must fire again at once.
 */
static int intx_masking(const struct ctx *c)
{
	int r;

	/* Raised while masked. */
	if (raise_irq(c, 0xa, NULL) || ack(c, 0xa))
		return -1;
	fpgactl_mmio_write32(c->bar, EDU_REG_IRQ_RAISE, 0xb); /* still masked */
	r = wait_irq(c, QUIET_NS, "raised while masked");
	if (r)
		return r < 0 ? r : fail(c, "an interrupt raised while INTx was masked "
					"was delivered before the unmask");
	if (unmask(c))
		return -1;
	r = wait_irq(c, WAIT_NS, "unmask with an interrupt pending");
	if (r <= 0)
		return r < 0 ? r : fail(c, "the interrupt raised while masked did not "
					"arrive within 1 s of the unmask (status "
					"0x%08x)", irq_status(c));
	if (irq_status(c) != 0xb)
		return fail(c, "status 0x%08x for the interrupt raised while masked "
			    "(0xb)", irq_status(c));
	if (ack(c, 0xb) || unmask(c) || expect_quiet(c, "after the pending one"))
		return -1;
	printf("edu_irq: INTx: an interrupt raised while masked was held, and "
	       "delivered on unmask\n");

	/* Unmasked before the device was serviced. */
	if (raise_irq(c, 0xc, NULL) || unmask(c))
		return -1;
	r = wait_irq(c, WAIT_NS, "unmask before acknowledging");
	if (r <= 0)
		return r < 0 ? r : fail(c, "unmasking while edu still asserted INTx "
					"did not fire again");
	if (ack(c, 0xc) || unmask(c) || expect_quiet(c, "after acknowledging"))
		return -1;
	printf("edu_irq: INTx: unmasked before acknowledging, it fired again at "
	       "once; quiet once acknowledged\n");
	return 0;
}

/*
 * Print the sum over the CPUs of the /proc/interrupts lines of edu's vfio
 * handler of this type ("vfio-msi[0](BDF)", "vfio-intx(BDF)"), and how many
 * such lines there are.
 */
static int print_kernel_count(const struct ctx *c)
{
	const char *handler = c->index == FPGACTL_IRQ_MSI ? " vfio-msi" : " vfio-intx";
	char owner[32], line[4096];
	unsigned long long sum = 0;
	unsigned int lines = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return fail(c, "/proc/interrupts: %s", strerror(errno));
	snprintf(owner, sizeof(owner), "(%s)", c->bdf);
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':'), *end;

		if (!p || !strstr(line, handler) || !strstr(line, owner))
			continue;
		lines++;
		/* The per-CPU counts follow the "NN:" label. */
		for (p++;; p = end) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			sum += v;
		}
	}
	fclose(f);
	printf("edu_irq: %s: /proc/interrupts counts %llu on %u line(s)\n", c->name, sum,
	       lines);
	return 0;
}

static int run_type(struct ctx *c, uint32_t index, unsigned int count)
{
	int ret, fd;

	c->index = index;
	c->name = index == FPGACTL_IRQ_MSI ? "MSI" : "INTx";
	ret = fpgactl_irq_enable(c->dev, index, 1);
	if (ret)
		return fail(c, "fpgactl_irq_enable: %s", strerror(-ret));
	fd = fpgactl_irq_fd(c->dev, index, 0);
	if (fd < 0)
		return fail(c, "fpgactl_irq_fd: %s", strerror(-fd));
	ret = fpgactl_events_watch(c->ev, fd, index + 1);
	if (ret)
		return fail(c, "fpgactl_events_watch: %s", strerror(-ret));
	/* Whatever an earlier run left raised. */
	if (irq_status(c))
		ret = ack(c, irq_status(c));
	if (!ret)
		ret = unmask(c);
	if (!ret)
		ret = expect_quiet(c, "before the first raise");
	if (!ret)
		ret = series(c, count);
	if (!ret && index == FPGACTL_IRQ_INTX)
		ret = intx_masking(c);
	if (!ret)
		ret = print_kernel_count(c);
	fpgactl_events_unwatch(c->ev, fd);
	fpgactl_irq_disable(c->dev, index);
	return ret;
}

int main(int argc, char **argv)
{
	struct ctx c = { .name = "setup" };
	unsigned long count = 200;
	const char *mode = "both";
	int opt, err = 0, ret = 0;
	char *end;

	while ((opt = getopt(argc, argv, "n:m:")) != -1) {
		if (opt == 'n') {
			count = strtoul(optarg, &end, 0);
			if (*end || !count || count > 100000)
				goto usage;
		} else if (opt == 'm' && (!strcmp(optarg, "msi") ||
					  !strcmp(optarg, "intx") ||
					  !strcmp(optarg, "both"))) {
			mode = optarg;
		} else {
			goto usage;
		}
	}
	if (optind + 1 != argc)
		goto usage;

	fpgactl_set_log(log_stderr, NULL, FPGACTL_LOG_WARNING);
	c.bdf = argv[optind];
	c.dev = fpgactl_device_open(c.bdf, NULL, &err);
	if (!c.dev)
		return fail(&c, "cannot open %s: %s", argv[optind], strerror(-err)), 1;
	c.bar = fpgactl_device_bar(c.dev, EDU_BAR, &err);
	if (!c.bar || fpgactl_mmio_read32(c.bar, EDU_REG_ID) != EDU_IDENT) {
		fail(&c, "%s is not an edu device with a mapped BAR0", argv[optind]);
		fpgactl_device_close(c.dev);
		return 1;
	}
	/* MSI is a memory write of the device: without Bus Master Enable QEMU
	 * drops it. */
	ret = fpgactl_set_bus_master(c.dev, true);
	c.ev = fpgactl_events_create(4, &err);
	if (ret || !c.ev) {
		fail(&c, "bus master / fpgactl_events_create: %s",
		     strerror(-(ret ? ret : err)));
		fpgactl_device_close(c.dev);
		return 1;
	}
	if (strcmp(mode, "intx"))
		ret = run_type(&c, FPGACTL_IRQ_MSI, (unsigned int)count);
	if (!ret && strcmp(mode, "msi"))
		ret = run_type(&c, FPGACTL_IRQ_INTX, (unsigned int)count);
	fpgactl_events_destroy(c.ev);
	fpgactl_set_bus_master(c.dev, false);
	fpgactl_device_close(c.dev);
	return ret ? 1 : 0;

usage:
	fprintf(stderr, "usage: edu_irq [-n COUNT] [-m msi|intx|both] BDF\n");
	return 2;
}
