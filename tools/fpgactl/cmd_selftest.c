// SPDX-License-Identifier: MIT
/*
 * fpgactl selftest: exercise a device that speaks the soft-core protocol
 * of docs/softcore.md (the built-in model or an FPGA): identity, scratch,
 * every command with its data verified, and every error status.
 *
 * Every check can fail: data is compared with what the host computed,
 * statuses with the one docs/softcore.md gives for the case, counters with
 * what the host counted.  A command that gets no completion fails its check
 * and stops the commands after it (they fail without being sent), so a
 * device that hangs costs one timeout, not one per check.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "sc_util.h"
#include "util.h"

#define XFER 8192			/* bytes per data command */
#define TIMEOUT_NS 2000000000ull	/* per command */
#define DEPTH 32			/* entries per ring */
#define BATCH_ROUNDS 3			/* full rings of NOPs: the ring wraps */
#define LMEM_OFFSET 0x1000		/* where WRITE and READ go */
#define GUARDED_INDEX 5			/* the GUARDED[] register used */

struct selftest {
	struct fpgactl_device *dev;
	struct fpgactl_sc *sc;
	struct fpgactl_queue *q;
	struct fpgactl_sc_info info;
	struct fpgactl_dma_buf *buf;	/* src at 0, dst at XFER */
	uint64_t unmapped;		/* IOVA of a buffer already freed */
	uintptr_t seq;			/* context of the last command */
	unsigned int error_statuses;	/* completions with a non-zero status */
	bool stuck;			/* a command got no completion */
	char note[160];			/* said after the next check's line */
	unsigned int passed, failed;
};

static void check(struct selftest *t, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check(struct selftest *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%-4s ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (*t->note) {
		printf("     %s\n", t->note);
		*t->note = '\0';
	}
	if (ok)
		t->passed++;
	else
		t->failed++;
}

static uint8_t *src(struct selftest *t)
{
	return t->buf->vaddr;
}

static uint8_t *dst(struct selftest *t)
{
	return (uint8_t *)t->buf->vaddr + XFER;
}

static uint64_t iova(struct selftest *t, const void *p)
{
	return fpgactl_dma_buf_iova(t->buf, p);
}

/* A context of its own for the next command, so no completion is taken for another's. */
static void *next_ctx(struct selftest *t)
{
	return (void *)++t->seq;
}

/*
 * Submit what was prepared (with the context of next_ctx()) and wait: the
 * status, or -1 when there is no usable completion.
 */
static int run(struct selftest *t, int prep_ret, struct fpgactl_completion *c)
{
	int err;

	memset(c, 0, sizeof(*c));
	if (prep_ret || t->stuck)
		return -1;
	err = fpgactl_sc_wait(t->q, (void *)t->seq, TIMEOUT_NS, c);
	if (err) {
		snprintf(t->note, sizeof(t->note), "no completion within %llu s: the device "
			 "is not answering; the commands after this one are not sent",
			 TIMEOUT_NS / 1000000000ull);
		t->stuck = true;
		return -1;
	}
	if (c->error)
		return -1;
	if (c->status)
		t->error_statuses++;
	return c->status;
}

/* "SUCCESS", "BAD_LENGTH"... or what went wrong instead of a status. */
static const char *outcome(const struct selftest *t, int status,
			   const struct fpgactl_completion *c)
{
	if (status >= 0)
		return fpgactl_sc_status_name((unsigned int)status);
	if (t->stuck)
		return "no completion";
	return c->error ? errno_text(c->error) : "not submitted";
}

static void test_registers(struct selftest *t)
{
	static const uint32_t patterns[] = { 0xa5a5a5a5, 0x5a5a5a5a, 0, 0xfffffffe };
	struct fpgactl_sc_info *info = &t->info;
	uint32_t id = 0, version = 0, saved = 0;
	bool ok;

	ok = !fpgactl_reg_read32(t->dev, 0, FPGACTL_SC_ID, &id) &&
	     !fpgactl_reg_read32(t->dev, 0, FPGACTL_SC_VERSION, &version);
	check(t, ok && id == FPGACTL_SC_ID_VALUE &&
		 version >> 16 == FPGACTL_SC_VERSION_MAJOR && version == info->version &&
		 info->nr_queues >= 1 && info->max_depth >= DEPTH && info->lmem_size >= 2 * XFER &&
		 info->max_xfer >= XFER,
	      "identity: ID 0x%08x, soft-core %u.%u, %u queue pairs, depth <= %u, "
	      "%u KiB local memory, transfers <= %u bytes", id, version >> 16,
	      version & 0xffff, info->nr_queues, info->max_depth, info->lmem_size >> 10,
	      info->max_xfer);
	ok = !fpgactl_reg_read32(t->dev, 0, FPGACTL_SC_SCRATCH, &saved);
	for (size_t i = 0; i < ARRAY_SIZE(patterns); i++) {
		uint32_t back = ~patterns[i];

		ok &= !fpgactl_reg_write32(t->dev, 0, FPGACTL_SC_SCRATCH, patterns[i]) &&
		      !fpgactl_reg_read32(t->dev, 0, FPGACTL_SC_SCRATCH, &back) &&
		      back == patterns[i];
	}
	fpgactl_reg_write32(t->dev, 0, FPGACTL_SC_SCRATCH, saved);
	check(t, ok, "scratch register holds 4 patterns");
}

static void fill_random(uint8_t *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/*
 * BATCH_ROUNDS times a full ring of NOPs (DEPTH - 1) with one doorbell:
 * each must complete exactly once, successfully.
 */
static void test_nop_batches(struct selftest *t)
{
	unsigned int n = DEPTH - 1, done = 0, bad = 0;
	unsigned int seen[DEPTH - 1];
	struct fpgactl_completion c[DEPTH];

	for (unsigned int round = 0; round < BATCH_ROUNDS && !t->stuck && !bad; round++) {
		uint64_t deadline = mono_ns() + TIMEOUT_NS;

		memset(seen, 0, sizeof(seen));
		for (unsigned int i = 0; i < n; i++)
			bad += fpgactl_sc_prep_nop(t->q, &seen[i], 0) != 0;
		if (bad || fpgactl_queue_submit(t->q) != n) {
			bad++;
			break;
		}
		for (done = 0; done < n && mono_ns() < deadline;) {
			unsigned int got = fpgactl_queue_reap(t->q, c, ARRAY_SIZE(c));

			for (unsigned int i = 0; i < got; i++) {
				unsigned int *hit = c[i].ctx;

				if (c[i].error || c[i].status || hit < seen || hit >= seen + n ||
				    (*hit)++)
					bad++;
				else
					done++;
			}
		}
		if (done < n) {
			snprintf(t->note, sizeof(t->note), "%u of %u NOPs completed within %llu s: "
				 "the device is not answering; the commands after these are not "
				 "sent", done, n, TIMEOUT_NS / 1000000000ull);
			t->stuck = true;
		}
	}
	check(t, !t->stuck && !bad, "%d batches of %u NOPs, one doorbell each: each "
	      "completed once, successfully", BATCH_ROUNDS, n);
}

static void test_nop_copy_fill(struct selftest *t)
{
	struct fpgactl_completion c;
	int status;
	bool ok;

	status = run(t, fpgactl_sc_prep_nop(t->q, next_ctx(t), 0), &c);
	check(t, status == 0, "NOP: %s", outcome(t, status, &c));
	test_nop_batches(t);
	fill_random(src(t), XFER, 1);
	memset(dst(t), 0, XFER);
	ok = run(t, fpgactl_sc_prep_copy(t->q, iova(t, src(t)), iova(t, dst(t)),
					 XFER, next_ctx(t), 0), &c) == 0;
	check(t, ok && !memcmp(src(t), dst(t), XFER), "COPY %d bytes, data verified", XFER);
	ok = run(t, fpgactl_sc_prep_fill(t->q, iova(t, dst(t)), XFER, 0xc0ffee11u,
					 next_ctx(t), 0), &c) == 0;
	for (size_t i = 0; ok && i < XFER; i += 4)
		ok = !memcmp(dst(t) + i, &(uint32_t){ 0xc0ffee11u }, 4);
	check(t, ok, "FILL %d bytes with 0xc0ffee11, data verified", XFER);
}

static void test_crc(struct selftest *t)
{
	struct fpgactl_completion c;
	uint32_t want;
	int status;

	fill_random(src(t), XFER, 2);
	want = fpgactl_crc32c(src(t), XFER);
	status = run(t, fpgactl_sc_prep_crc32c(t->q, iova(t, src(t)), XFER, next_ctx(t), 0),
		     &c);
	check(t, status == 0 && c.result == want, "CRC32C of %d bytes: 0x%08x "
	      "(host computes 0x%08x)", XFER, status == 0 ? c.result : 0, want);
}

static void test_local_memory(struct selftest *t)
{
	struct fpgactl_completion c;
	uint8_t via_bar[64];
	bool ok;

	fill_random(src(t), XFER, 3);
	memset(dst(t), 0, XFER);
	ok = run(t, fpgactl_sc_prep_write(t->q, iova(t, src(t)), LMEM_OFFSET, XFER,
					  next_ctx(t), 0), &c) == 0 &&
	     run(t, fpgactl_sc_prep_read(t->q, LMEM_OFFSET, iova(t, dst(t)), XFER,
					 next_ctx(t), 0), &c) == 0;
	check(t, ok && !memcmp(src(t), dst(t), XFER),
	      "WRITE then READ %d bytes of local memory, data verified", XFER);
	ok = ok && !fpgactl_region_read(t->dev, FPGACTL_SC_LMEM_BAR, LMEM_OFFSET, via_bar,
					sizeof(via_bar));
	check(t, ok && !memcmp(via_bar, src(t), sizeof(via_bar)),
	      "local memory seen through BAR%d matches", FPGACTL_SC_LMEM_BAR);
}

static void test_guarded(struct selftest *t)
{
	const uint32_t reg = FPGACTL_SC_GUARDED(GUARDED_INDEX);
	struct fpgactl_completion c;
	uint32_t before = 0, value, bad_value, val = 0;
	uint16_t bad_crc;
	int status;

	/* GUARDED[] survives enable: write something it does not hold yet. */
	fpgactl_reg_read32(t->dev, 0, reg, &before);
	value = before == 0x600dcafe ? 0xcafe600d : 0x600dcafe;
	status = run(t, fpgactl_sc_prep_guarded_write(t->q, reg, value, next_ctx(t), 0), &c);
	fpgactl_reg_read32(t->dev, 0, reg, &val);
	check(t, status == 0 && val == value,
	      "GUARDED_WRITE with a good CRC16: %s, register 0x%08x (wrote 0x%08x)",
	      outcome(t, status, &c), val, value);
	/* The CRC of the value sent, with one bit flipped. */
	bad_value = ~value;
	bad_crc = fpgactl_sc_guard_crc(reg, bad_value) ^ 0x0100;
	status = run(t, fpgactl_sc_prep_guarded_write_crc(t->q, reg, bad_value, bad_crc,
							  next_ctx(t), 0), &c);
	val = 0;
	fpgactl_reg_read32(t->dev, 0, reg, &val);
	check(t, status == FPGACTL_SC_CRC_MISMATCH && val == value,
	      "GUARDED_WRITE with a bad CRC16: %s, register %s", outcome(t, status, &c),
	      val == value ? "unchanged" : status < 0 ? "not as written before" : "CHANGED");
}

/* Each error status, provoked on purpose. */
static void test_errors(struct selftest *t)
{
	uint32_t lmem_end = t->info.lmem_size, err_count = 0;
	struct fpgactl_queue_stats stats;
	struct fpgactl_completion c;
	struct fpgactl_sqe *sqe = fpgactl_queue_get_sqe(t->q, next_ctx(t), 0);
	int status;

	if (sqe)
		sqe->opc = 0x7f;
	status = run(t, sqe ? 0 : -EBUSY, &c);
	check(t, status == FPGACTL_SC_BAD_OPCODE, "opcode 0x7f: %s", outcome(t, status, &c));
	status = run(t, fpgactl_sc_prep_copy(t->q, iova(t, src(t)), iova(t, dst(t)),
					     0, next_ctx(t), 0), &c);
	check(t, status == FPGACTL_SC_BAD_LENGTH, "COPY of 0 bytes: %s", outcome(t, status, &c));
	status = run(t, fpgactl_sc_prep_fill(t->q, iova(t, dst(t)), 6, 0, next_ctx(t), 0),
		     &c);
	check(t, status == FPGACTL_SC_BAD_LENGTH, "FILL of 6 bytes (not a multiple of 4): %s",
	      outcome(t, status, &c));
	memset(dst(t), 0x3c, XFER);
	status = run(t, fpgactl_sc_prep_read(t->q, lmem_end - 64, iova(t, dst(t)), 128,
					     next_ctx(t), 0), &c);
	check(t, status == FPGACTL_SC_BAD_LENGTH && dst(t)[0] == 0x3c,
	      "READ past the end of local memory: %s, destination untouched",
	      outcome(t, status, &c));
	status = run(t, fpgactl_sc_prep_copy(t->q, t->unmapped, iova(t, dst(t)), 64,
					     next_ctx(t), 0), &c);
	check(t, status == FPGACTL_SC_DMA_FAULT && dst(t)[0] == 0x3c,
	      "COPY from an unmapped IOVA: %s, destination untouched", outcome(t, status, &c));
	status = run(t, fpgactl_sc_prep_guarded_write(t->q, 0x7fc, 1, next_ctx(t), 0), &c);
	check(t, status == FPGACTL_SC_BAD_FIELD, "GUARDED_WRITE outside the guarded bank: %s",
	      outcome(t, status, &c));
	status = run(t, fpgactl_sc_prep_guarded_write(t->q, FPGACTL_SC_GUARDED(0) + 2, 1,
						      next_ctx(t), 0), &c);
	check(t, status == FPGACTL_SC_BAD_FIELD, "GUARDED_WRITE to an unaligned offset: %s",
	      outcome(t, status, &c));

	fpgactl_reg_read32(t->dev, 0, FPGACTL_SC_ERR_COUNT, &err_count);
	check(t, !t->stuck && err_count == t->error_statuses,
	      "ERR_COUNT %u: the commands that completed with an error status (%u)",
	      err_count, t->error_statuses);
	fpgactl_queue_get_stats(t->q, &stats);
	check(t, !t->stuck && stats.completed == stats.submitted && !stats.bad_completions &&
		 !stats.timeouts && !stats.late_completions,
	      "queue: %llu submitted, %llu completed, %llu bad completions, %llu timeouts",
	      (unsigned long long)stats.submitted, (unsigned long long)stats.completed,
	      (unsigned long long)stats.bad_completions, (unsigned long long)stats.timeouts);
}

static int selftest_open(struct selftest *t, const struct invocation *inv,
			 const char *name)
{
	const struct fpgactl_sc_opts opts = { .nr_queues = 1, .depth = DEPTH };
	/* 16 KiB need no hugepage. */
	const struct fpgactl_dma_opts dma = {
		.page_size = FPGACTL_PAGE_4K, .flags = FPGACTL_DMA_ALLOW_SMALL_PAGES,
	};
	struct fpgactl_dma_buf *gone;
	int err = 0, status;

	status = open_device(inv, name, &t->dev);
	if (status)
		return status;
	status = open_softcore("selftest", t->dev, name, &opts, &t->sc);
	if (status)
		return status;
	fpgactl_sc_get_info(t->sc, &t->info);
	t->q = fpgactl_sc_queue(t->sc, 0);
	/* An IOVA that was mapped and no longer is: the device must not reach it. */
	gone = fpgactl_dma_alloc(t->dev, XFER, &dma, &err);
	if (!gone)
		return failure("selftest", "DMA buffer: %s", errno_text(err));
	t->unmapped = gone->iova;
	fpgactl_dma_free(gone);
	t->buf = fpgactl_dma_alloc(t->dev, 2 * XFER, &dma, &err);
	if (!t->buf)
		return failure("selftest", "DMA buffer: %s", errno_text(err));
	if (t->unmapped >= t->buf->iova && t->unmapped < t->buf->iova + t->buf->size)
		t->unmapped = t->buf->iova + t->buf->size + (UINT64_C(1) << 30);
	return STATUS_OK;
}

static int run_selftest(const struct invocation *inv)
{
	struct selftest t = { 0 };
	char name[FPGACTL_DEVICE_NAME_MAX];
	int status = require_device_or_model(inv, name, sizeof(name));

	if (!status)
		status = selftest_open(&t, inv, name);
	if (!status) {
		test_registers(&t);
		test_nop_copy_fill(&t);
		test_crc(&t);
		test_local_memory(&t);
		test_guarded(&t);
		test_errors(&t);
		printf("selftest: %u passed, %u failed\n", t.passed, t.failed);
		status = t.failed ? STATUS_FAILED : STATUS_OK;
	}
	/* Queues off before the buffer their commands point into goes. */
	fpgactl_sc_close(t.sc);
	fpgactl_dma_free(t.buf);
	fpgactl_device_close(t.dev);
	return status;
}

const struct command cmd_selftest = {
	.name = "selftest",
	.args = "",
	.summary = "check a soft-core device: registers, every command, every status",
	.details = "DEVICE is a PCI address of an FPGA with the soft-core of\n"
		   "docs/softcore.md, or 'model' (or 'model:OPTIONS') for the built-in\n"
		   "software model of docs/model.md.  One line per check, ok or FAIL, then\n"
		   "a summary line.  A command not completed within 2 s fails, and the\n"
		   "checks after it fail without sending anything.  Exit status 0 only if\n"
		   "every check passed, 1 otherwise.\n",
	.options = OPT_DEVICE,
	.model = true,
	.min_args = 0,
	.max_args = 0,
	.run = run_selftest,
};
