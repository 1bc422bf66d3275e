// SPDX-License-Identifier: MIT
/*
 * bench_mmio: what mapping a BAR saves.  Reads edu's identification
 * register through the BAR's mapping and through pread() on the VFIO
 * device (the device opened with FPGACTL_OPEN_NO_MMAP), in alternating
 * rounds, and prints the time per read of each and their ratio.
 *
 *	bench_mmio [-n READS] [-r ROUNDS] BDF
 *
 * Each round opens edu twice in turn: normally (BAR0 mapped), timing READS
 * reads with the inline accessor fpgactl_mmio_read32() and READS with the
 * checked call fpgactl_reg_read32(); then with FPGACTL_OPEN_NO_MMAP,
 * timing READS checked reads, each a pread() of the device's region.  The
 * figures are the median over the rounds.  A benchmark: it checks only
 * that every read returned the identification value and that the flag took
 * effect (no BAR pointer, BAR0 not mapped).
 *
 * Exit status: 0 done; 1 a failure; 2 bad arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fpgactl.h>

#include "edu.h"

#define MAX_ROUNDS 100

static void log_stderr(void *arg, int level, const char *msg)
{
	fprintf(stderr, "libfpgactl: %s\n", msg);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct fpgactl_device *open_edu(const char *bdf, unsigned int flags,
				       double *open_ms)
{
	const struct fpgactl_open_opts opts = { .flags = flags };
	uint64_t t0 = now_ns();
	int err = 0;
	struct fpgactl_device *dev = fpgactl_device_open(bdf, &opts, &err);

	*open_ms = (double)(now_ns() - t0) / 1e6;
	if (!dev)
		fprintf(stderr, "bench_mmio: cannot open %s%s: %s\n", bdf,
			flags ? " with FPGACTL_OPEN_NO_MMAP" : "", strerror(-err));
	return dev;
}

/* @n checked reads of the ident register: ns per read, or -1. */
static double time_checked(struct fpgactl_device *dev, unsigned long n)
{
	uint64_t t0 = now_ns();
	unsigned long bad = 0;

	for (unsigned long i = 0; i < n; i++) {
		uint32_t v = 0;
		int ret = fpgactl_reg_read32(dev, EDU_BAR, EDU_REG_ID, &v);

		if (ret) {
			fprintf(stderr, "bench_mmio: fpgactl_reg_read32: %s\n", strerror(-ret));
			return -1;
		}
		bad += v != EDU_IDENT;
	}
	if (bad) {
		fprintf(stderr, "bench_mmio: %lu of %lu reads were not 0x%08x\n", bad, n,
			EDU_IDENT);
		return -1;
	}
	return (double)(now_ns() - t0) / (double)n;
}

/* @n reads through the mapping: ns per read, or -1. */
static double time_inline(const struct fpgactl_bar *bar, unsigned long n)
{
	uint64_t t0 = now_ns();
	unsigned long bad = 0;

	for (unsigned long i = 0; i < n; i++)
		bad += fpgactl_mmio_read32(bar, EDU_REG_ID) != EDU_IDENT;
	if (bad) {
		fprintf(stderr, "bench_mmio: %lu of %lu mapped reads were not 0x%08x\n",
			bad, n, EDU_IDENT);
		return -1;
	}
	return (double)(now_ns() - t0) / (double)n;
}

/* One round: both opens in turn. */
static int round_once(const char *bdf, unsigned long n, unsigned int r,
		      double *mm, double *mc, double *pr, double *om, double *on)
{
	struct fpgactl_region_info ri = { 0 };
	struct fpgactl_device *dev;
	const struct fpgactl_bar *bar;
	int err = 0;

	dev = open_edu(bdf, 0, om);
	if (!dev)
		return -1;
	bar = fpgactl_device_bar(dev, EDU_BAR, &err);
	if (!bar) {
		fprintf(stderr, "bench_mmio: BAR0 is not mapped on a normal open: %s\n",
			strerror(-err));
		fpgactl_device_close(dev);
		return -1;
	}
	*mm = time_inline(bar, n);
	*mc = time_checked(dev, n);
	fpgactl_device_close(dev);
	if (*mm < 0 || *mc < 0)
		return -1;

	dev = open_edu(bdf, FPGACTL_OPEN_NO_MMAP, on);
	if (!dev)
		return -1;
	/* The kernel allows the mapping; the library must not have made it,
	 * and has no BAR pointer to give (its message about that, expected
	 * here, is kept out of the output). */
	fpgactl_set_log(log_stderr, NULL, 0);
	bar = fpgactl_device_bar(dev, EDU_BAR, &err);
	fpgactl_set_log(log_stderr, NULL, FPGACTL_LOG_WARNING);
	if (bar || err != -ENOTSUP ||
	    fpgactl_region_get_info(dev, FPGACTL_REGION_BAR0, &ri) ||
	    !(ri.flags & FPGACTL_REGION_MMAP) || (ri.flags & FPGACTL_REGION_MAPPED)) {
		fprintf(stderr, "bench_mmio: FPGACTL_OPEN_NO_MMAP: BAR0 is mapped "
			"all the same, or cannot be mapped at all (flags 0x%x)\n",
			ri.flags);
		fpgactl_device_close(dev);
		return -1;
	}
	*pr = time_checked(dev, n);
	fpgactl_device_close(dev);
	if (*pr < 0)
		return -1;
	printf("round %u: mmap %.1f ns/read (checked call %.1f), pread %.1f ns/read; "
	       "open %.1f ms, %.1f ms with FPGACTL_OPEN_NO_MMAP\n", r, *mm, *mc, *pr,
	       *om, *on);
	return 0;
}

int main(int argc, char **argv)
{
	static double mm[MAX_ROUNDS], mc[MAX_ROUNDS], pr[MAX_ROUNDS],
		om[MAX_ROUNDS], on[MAX_ROUNDS];
	unsigned long n = 20000, rounds = 5;
	double m, c, p;
	int opt;
	char *e;

	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		unsigned long v = strtoul(optarg, &e, 0);

		if (*e || !v || (opt == 'n' && v > 100000000) ||
		    (opt == 'r' && v > MAX_ROUNDS) || (opt != 'n' && opt != 'r'))
			goto usage;
		if (opt == 'n')
			n = v;
		else
			rounds = v;
	}
	if (optind + 1 != argc)
		goto usage;
	fpgactl_set_log(log_stderr, NULL, FPGACTL_LOG_WARNING);
	for (unsigned int r = 0; r < rounds; r++)
		if (round_once(argv[optind], n, r + 1, &mm[r], &mc[r], &pr[r], &om[r],
			       &on[r]))
			return 1;
	m = median(mm, rounds);
	c = median(mc, rounds);
	p = median(pr, rounds);
	printf("bench_mmio: %s ident register, %lu reads x %lu rounds (medians): "
	       "mmap %.1f ns/read, checked call on the mapping %.1f ns/read, pread "
	       "(FPGACTL_OPEN_NO_MMAP) %.1f ns/read; pread/mmap %.1f\n", argv[optind],
	       n, rounds, m, c, p, p / m);
	printf("bench_mmio: open %.1f ms, with FPGACTL_OPEN_NO_MMAP %.1f ms (medians)\n",
	       median(om, rounds), median(on, rounds));
	return 0;

usage:
	fprintf(stderr, "usage: bench_mmio [-n READS] [-r ROUNDS] BDF\n");
	return 2;
}
