// SPDX-License-Identifier: MIT
/*
 * The software model of the soft-core (docs/softcore.md, docs/model.md),
 * driven the way a device driver would: raw register writes and rings
 * built by hand in DMA buffers.  No mock kernel: the model needs none.
 * Also the CRCs of lib/core/crc.c against their check values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <cmocka.h>

#include "fpgactl.h"
#include "core/crc.h"
#include "core/core.h"
#include "vfio/vfio.h"
#include "sim/model.h"
#include "test_device_spec.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define TIMEOUT_MS 3000
/* How long to watch for an entry that must not appear. */
#define QUIET_MS 30

static const struct fpgactl_dma_opts small = {
	.page_size = FPGACTL_PAGE_4K,
	.flags = FPGACTL_DMA_ALLOW_SMALL_PAGES,
};

/* ---- log capture -------------------------------------------------------- */

static char logbuf[16384];
static size_t loglen;

static void log_hook(void *arg, int level, const char *msg)
{
	int n = snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "%s\n", msg);

	if (n > 0 && (size_t)n < sizeof(logbuf) - loglen)
		loglen += (size_t)n;
}

static int setup(void **state)
{
	loglen = 0;
	logbuf[0] = '\0';
	return 0;
}

static bool log_has(const char *s)
{
	return strstr(logbuf, s) != NULL;
}

/* ---- helpers -------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* "model" is FPGACTL_TEST_DEVICE when set (the cases main() runs then). */
static struct fpgactl_device *open_model(const char *spec)
{
	int err = 0;
	struct fpgactl_device *dev;

	if (!strcmp(spec, "model"))
		spec = test_device_spec(spec, "");
	dev = fpgactl_device_open(spec, NULL, &err);

	if (!dev)
		print_message("open %s: %d\n%s", spec, err, logbuf);
	assert_non_null(dev);
	return dev;
}

static int open_err(const char *spec)
{
	int err = 0;

	assert_null(fpgactl_device_open(spec, NULL, &err));
	return err;
}

static uint32_t rd32(struct fpgactl_device *dev, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(fpgactl_reg_read(dev, 0, off, 4, &v), 0);
	return (uint32_t)v;
}

static void wr32(struct fpgactl_device *dev, uint64_t off, uint32_t val)
{
	assert_int_equal(fpgactl_reg_write(dev, 0, off, 4, val), 0);
}

static void wr64(struct fpgactl_device *dev, uint64_t off, uint64_t val)
{
	assert_int_equal(fpgactl_reg_write(dev, 0, off, 8, val), 0);
}

/* Wait until (reg & mask) == want; return the last value. */
static uint32_t wait_reg(struct fpgactl_device *dev, uint64_t off, uint32_t mask,
			 uint32_t want)
{
	uint64_t last = 0;
	int ret = fpgactl_reg_poll(dev, 0, off, 4, mask, want,
				   TIMEOUT_MS * 1000ull, &last);

	if (ret)
		print_message("reg 0x%llx = 0x%llx, wanted 0x%x under 0x%x\n",
			      (unsigned long long)off, (unsigned long long)last,
			      want, mask);
	assert_int_equal(ret, 0);
	return (uint32_t)last;
}

static void enable(struct fpgactl_device *dev, uint32_t ctrl)
{
	wr32(dev, FPGACTL_SC_CTRL, 0);
	wait_reg(dev, FPGACTL_SC_STATUS, FPGACTL_SC_STATUS_RDY, 0);
	wr32(dev, FPGACTL_SC_CTRL, FPGACTL_SC_CTRL_EN | ctrl);
	wait_reg(dev, FPGACTL_SC_STATUS, FPGACTL_SC_STATUS_RDY, FPGACTL_SC_STATUS_RDY);
}

static struct fpgactl_dma_buf *dma(struct fpgactl_device *dev, size_t size)
{
	int err = 0;
	struct fpgactl_dma_buf *b = fpgactl_dma_alloc(dev, size, &small, &err);

	if (!b)
		print_message("dma_alloc: %d\n%s", err, logbuf);
	assert_non_null(b);
	return b;
}

/* A queue pair built by hand, as a driver would. */
struct ring {
	struct fpgactl_device *dev;
	const struct fpgactl_bar *bar;
	unsigned int qid;
	uint32_t sq_size, cq_size;
	struct fpgactl_dma_buf *sqb, *cqb;
	struct fpgactl_sqe *sq;
	volatile struct fpgactl_cqe *cq;
	uint32_t tail, head;
	uint16_t phase;
	uint16_t next_cid;
};

static uint64_t q_reg(unsigned int qid, uint32_t field)
{
	return FPGACTL_SC_QUEUE(qid) + field;
}

/* Write the set-up registers and QEN; return QSTATUS once it settles. */
static uint32_t ring_start(struct ring *r, uint64_t sq_iova, uint64_t cq_iova,
			   uint32_t sq_size, uint32_t cq_size, uint32_t qctrl)
{
	struct fpgactl_device *dev = r->dev;
	uint32_t st;

	wr64(dev, q_reg(r->qid, FPGACTL_SC_Q_SQ_BASE), sq_iova);
	wr64(dev, q_reg(r->qid, FPGACTL_SC_Q_CQ_BASE), cq_iova);
	wr32(dev, q_reg(r->qid, FPGACTL_SC_Q_SIZE), (sq_size - 1) | (cq_size - 1) << 16);
	wr32(dev, q_reg(r->qid, FPGACTL_SC_Q_CTRL), FPGACTL_SC_QCTRL_QEN | qctrl);
	/* Register writes take effect asynchronously in the model. */
	for (int i = 0; i < TIMEOUT_MS * 10; i++) {
		st = rd32(dev, q_reg(r->qid, FPGACTL_SC_Q_STATUS));
		if (st)
			return st;
		usleep(100);
	}
	fail_msg("QSTATUS never settled");
	return 0;
}

static void ring_init(struct ring *r, struct fpgactl_device *dev, unsigned int qid,
		      uint32_t sq_size, uint32_t cq_size, uint32_t qctrl)
{
	memset(r, 0, sizeof(*r));
	r->dev = dev;
	r->bar = fpgactl_device_bar(dev, 0, NULL);
	assert_non_null(r->bar);
	r->qid = qid;
	r->sq_size = sq_size;
	r->cq_size = cq_size;
	r->sqb = dma(dev, sq_size * 64);
	r->cqb = dma(dev, cq_size * 16);
	r->sq = r->sqb->vaddr;
	r->cq = r->cqb->vaddr;
	r->phase = 1;
	assert_int_equal(ring_start(r, r->sqb->iova, r->cqb->iova, sq_size, cq_size,
				    qctrl), FPGACTL_SC_QSTATUS_ACTIVE);
}

/* Clear QEN, wait for the queue to stop, start it again from empty. */
static void ring_restart(struct ring *r, uint32_t qctrl)
{
	wr32(r->dev, q_reg(r->qid, FPGACTL_SC_Q_CTRL), 0);
	wait_reg(r->dev, q_reg(r->qid, FPGACTL_SC_Q_STATUS), ~0u, 0);
	memset(r->cqb->vaddr, 0, r->cqb->size);
	r->tail = r->head = 0;
	r->phase = 1;
	assert_int_equal(ring_start(r, r->sqb->iova, r->cqb->iova, r->sq_size,
				    r->cq_size, qctrl), FPGACTL_SC_QSTATUS_ACTIVE);
}

static void ring_free(struct ring *r)
{
	if (r->sqb) {
		wr32(r->dev, q_reg(r->qid, FPGACTL_SC_Q_CTRL), 0);
		wait_reg(r->dev, q_reg(r->qid, FPGACTL_SC_Q_STATUS), ~0u, 0);
	}
	fpgactl_dma_free(r->sqb);
	fpgactl_dma_free(r->cqb);
	r->sqb = r->cqb = NULL;
}

/* Put @e in the ring (no doorbell); return its cid. */
static uint16_t ring_put(struct ring *r, const struct fpgactl_sqe *e)
{
	struct fpgactl_sqe *slot = &r->sq[r->tail];

	*slot = *e;
	slot->cid = r->next_cid++;
	r->tail = (r->tail + 1) % r->sq_size;
	return slot->cid;
}

static void ring_doorbell(struct ring *r)
{
	fpgactl_wmb();
	fpgactl_mmio_write32(r->bar, FPGACTL_SC_DOORBELLS + 2 * r->qid * 4, r->tail);
}

static uint16_t ring_submit(struct ring *r, const struct fpgactl_sqe *e)
{
	uint16_t cid = ring_put(r, e);

	ring_doorbell(r);
	return cid;
}

/* The next completion within @ms, released to the device at once. */
static bool ring_reap(struct ring *r, struct fpgactl_cqe *out, unsigned int ms)
{
	uint64_t deadline = now_ns() + (uint64_t)ms * 1000000u;
	volatile struct fpgactl_cqe *c = &r->cq[r->head];

	while ((c->status & 1) != r->phase) {
		if (now_ns() > deadline)
			return false;
		relax();
	}
	fpgactl_rmb();
	out->result = c->result;
	out->rsvd = c->rsvd;
	out->sq_head = c->sq_head;
	out->sq_id = c->sq_id;
	out->cid = c->cid;
	out->status = c->status;
	if (++r->head == r->cq_size) {
		r->head = 0;
		r->phase ^= 1;
	}
	fpgactl_mmio_write32(r->bar, FPGACTL_SC_DOORBELLS + (2 * r->qid + 1) * 4,
			     r->head);
	return true;
}

static struct fpgactl_cqe reap_ok(struct ring *r)
{
	struct fpgactl_cqe c;

	if (!ring_reap(r, &c, TIMEOUT_MS))
		fail_msg("no completion within %u ms", TIMEOUT_MS);
	return c;
}

static void assert_quiet(struct ring *r)
{
	struct fpgactl_cqe c;

	if (ring_reap(r, &c, QUIET_MS))
		fail_msg("unexpected completion cid %u status 0x%x", c.cid, c.status);
}

static unsigned int code(const struct fpgactl_cqe *c)
{
	return (c->status >> 1) & 0xff;
}

/* Submit one command, reap its completion, check the echo; return the
 * status code. */
static unsigned int run(struct ring *r, struct fpgactl_sqe e, uint32_t *result)
{
	uint16_t cid = ring_submit(r, &e);
	struct fpgactl_cqe c = reap_ok(r);

	assert_int_equal(c.cid, cid);
	assert_int_equal(c.sq_id, r->qid);
	assert_int_equal(c.sq_head, r->tail);
	if (result)
		*result = c.result;
	return code(&c);
}

static struct fpgactl_sqe sqe(uint8_t opc, uint64_t a0, uint64_t a1, uint32_t len,
			      uint32_t arg0, uint32_t arg1, uint32_t arg2)
{
	return (struct fpgactl_sqe){ .opc = opc, .addr0 = a0, .addr1 = a1, .cdw10 = len,
				     .cdw11 = arg0, .cdw12 = arg1, .cdw13 = arg2 };
}

static const struct fpgactl_sqe nop = { .opc = FPGACTL_SC_OP_NOP };

static struct model_stats stats(struct fpgactl_device *dev)
{
	struct model_stats s;

	assert_int_equal(model_stats(dev, &s), 0);
	return s;
}

static uint16_t guard_crc(uint32_t reg, uint32_t val)
{
	uint8_t b[8];

	for (int i = 0; i < 4; i++) {
		b[i] = (uint8_t)(reg >> (8 * i));
		b[4 + i] = (uint8_t)(val >> (8 * i));
	}
	return crc16_ccitt_false(b, 8);
}

/* ---- CRCs ------------------------------------------------------------------ */

static void test_crc(void **state)
{
	static const char check[] = "123456789";
	uint8_t buf[1000];

	assert_int_equal(crc32c(check, 9), 0xE3069283u);
	assert_int_equal(~crc32c_update_soft(~0u, check, 9), 0xE3069283u);
	assert_int_equal(crc16_ccitt_false(check, 9), 0x29B1);
	assert_int_equal(crc32c(check, 0), 0);
	assert_int_equal(crc16_ccitt_false(check, 0), 0xFFFF);
	/* 32 bytes of zeros: RFC 3720 B.4. */
	memset(buf, 0, 32);
	assert_int_equal(crc32c(buf, 32), 0x8A9136AAu);
	memset(buf, 0xff, 32);
	assert_int_equal(crc32c(buf, 32), 0x62A8AB43u);
	/* Hardware and table paths agree at every length and alignment,
	 * and chaining is the same as one pass. */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	for (size_t off = 0; off < 8; off++) {
		for (size_t len = 0; len + off <= 200; len++) {
			uint32_t a = crc32c_update(~0u, buf + off, len);

			assert_int_equal(a, crc32c_update_soft(~0u, buf + off, len));
			assert_int_equal(a, crc32c_update(crc32c_update(~0u, buf + off, len / 3),
							  buf + off + len / 3,
							  len - len / 3));
		}
	}
}

/* ---- the PCI function ---------------------------------------------------------- */

static void test_identity(void **state)
{
	struct fpgactl_device *dev = open_model("model");
	struct fpgactl_device_info info;
	struct fpgactl_region_info ri;
	struct fpgactl_irq_info ii;
	const struct fpgactl_bar *bar;
	_Alignas(8) uint8_t cfg[64];
	uint64_t v;
	int err;

	assert_string_equal(fpgactl_device_bdf(dev), "model");
	assert_string_equal(fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)), "model");
	assert_true(model_is(dev));
	assert_int_equal(dev->fd, -1);
	assert_int_equal(fpgactl_device_get_info(dev, &info), 0);
	assert_int_equal(info.num_regions, 9);
	assert_int_equal(info.num_irqs, 5);
	assert_int_equal(info.flags, FPGACTL_DEV_CAN_RESET);
	assert_int_equal(info.backend, FPGACTL_IOMMU_MODEL);

	assert_int_equal(fpgactl_region_get_info(dev, 0, &ri), 0);
	assert_int_equal(ri.size, 64 * KiB);
	assert_int_equal(ri.nr_areas, 1);
	assert_int_equal(ri.flags, FPGACTL_REGION_READ | FPGACTL_REGION_WRITE |
				   FPGACTL_REGION_MMAP | FPGACTL_REGION_MAPPED);
	assert_int_equal(fpgactl_region_get_info(dev, 2, &ri), 0);
	assert_int_equal(ri.size, 1 * MiB);
	assert_true(ri.flags & FPGACTL_REGION_MAPPED);
	assert_int_equal(fpgactl_region_get_info(dev, 1, &ri), 0);
	assert_int_equal(ri.size, 0);
	assert_int_equal(fpgactl_region_get_info(dev, 7, &ri), 0);
	assert_int_equal(ri.size, 256);
	assert_false(ri.flags & FPGACTL_REGION_MAPPED);
	assert_int_equal(fpgactl_region_get_info(dev, 9, &ri), -EINVAL);

	bar = fpgactl_device_bar(dev, 0, &err);
	assert_non_null(bar);
	assert_int_equal(bar->size, 64 * KiB);
	assert_non_null(fpgactl_device_bar(dev, 2, &err));
	err = 0;
	assert_null(fpgactl_device_bar(dev, 1, &err));
	assert_int_equal(err, -EINVAL);

	/* Registers, through the checked and the inline accessors. */
	assert_int_equal(rd32(dev, FPGACTL_SC_ID), FPGACTL_SC_ID_VALUE);
	assert_int_equal(fpgactl_mmio_read32(bar, FPGACTL_SC_ID), FPGACTL_SC_ID_VALUE);
	assert_int_equal(rd32(dev, FPGACTL_SC_VERSION), 0x00010000);
	assert_int_equal(rd32(dev, FPGACTL_SC_CAP), 4095 | 4 << 16 | 0 << 24 | 1u << 28);
	assert_int_equal(rd32(dev, FPGACTL_SC_LMEM_SIZE), 1 * MiB);
	assert_int_equal(rd32(dev, FPGACTL_SC_MAX_XFER), 1 * MiB);
	assert_int_equal(rd32(dev, FPGACTL_SC_CTRL), 0);
	assert_int_equal(rd32(dev, FPGACTL_SC_STATUS), 0);
	assert_int_equal(rd32(dev, FPGACTL_SC_ERR_COUNT), 0);
	assert_int_equal(fpgactl_reg_read(dev, 0, 8, 8, &v), 0);
	assert_int_equal(v, (uint64_t)(1 * MiB) << 32 | (4095 | 4 << 16 | 1u << 28));

	/* Config space: the fake ids, the class, the BARs, MSI-X. */
	assert_int_equal(fpgactl_config_read(dev, 0, cfg, sizeof(cfg)), 0);
	assert_int_equal(cfg[0] | cfg[1] << 8, 0x5C0F);
	assert_int_equal(cfg[2] | cfg[3] << 8, 0xC0DE);
	assert_int_equal(cfg[9] | cfg[10] << 8 | cfg[11] << 16, 0x120000);
	assert_int_equal(cfg[0x10] & 0xf, 0x4);
	assert_int_equal(cfg[0x18] & 0xf, 0xc);
	assert_int_equal(cfg[0x34], 0x40);
	assert_int_equal(fpgactl_device_removed(dev), 0);
	assert_int_equal(fpgactl_config_read(dev, 0, cfg, 257), -ERANGE);
	/* Bus master: read-modify-write of the command register. */
	assert_int_equal(fpgactl_set_bus_master(dev, true), 0);
	assert_int_equal(fpgactl_config_read(dev, 4, cfg, 2), 0);
	assert_int_equal(cfg[0] & 0x4, 0x4);
	/* Read-only fields ignore writes; BAR sizing works. */
	cfg[0] = cfg[1] = 0;
	assert_int_equal(fpgactl_config_write(dev, 0, cfg, 2), 0);
	memset(cfg, 0xff, 4);
	assert_int_equal(fpgactl_config_write(dev, 0x10, cfg, 4), 0);
	assert_int_equal(fpgactl_config_read(dev, 0, cfg, 0x14), 0);
	assert_int_equal(cfg[0] | cfg[1] << 8, 0x5C0F);
	assert_int_equal(cfg[0x10] | cfg[0x11] << 8 | cfg[0x12] << 16 |
			 (uint32_t)cfg[0x13] << 24, 0xFFFF0004u);

	assert_int_equal(fpgactl_irq_get_info(dev, FPGACTL_IRQ_MSIX, &ii), 0);
	assert_int_equal(ii.count, 4);
	assert_int_equal(fpgactl_irq_get_info(dev, FPGACTL_IRQ_INTX, &ii), 0);
	assert_int_equal(ii.count, 0);
	assert_int_equal(fpgactl_irq_get_info(dev, 5, &ii), -EINVAL);
	assert_int_equal(fpgactl_device_hot_reset(dev), -ENOTTY);
	fpgactl_device_close(dev);
}

static void test_options(void **state)
{
	struct fpgactl_device *dev =
		open_model("model:queues=2,depth=256,lmem=64K,max_xfer=0x1000,spin=0,idle=10");
	struct fpgactl_region_info ri;
	struct fpgactl_irq_info ii;

	assert_int_equal(rd32(dev, FPGACTL_SC_CAP), 255 | 2 << 16 | 1u << 28);
	assert_int_equal(rd32(dev, FPGACTL_SC_LMEM_SIZE), 64 * KiB);
	assert_int_equal(rd32(dev, FPGACTL_SC_MAX_XFER), 4096);
	assert_int_equal(fpgactl_region_get_info(dev, 2, &ri), 0);
	assert_int_equal(ri.size, 64 * KiB);
	assert_int_equal(fpgactl_irq_get_info(dev, FPGACTL_IRQ_MSIX, &ii), 0);
	assert_int_equal(ii.count, 2);
	fpgactl_device_close(dev);

	dev = open_model("model:fault=corrupt,every=3,count=2,after=1,queue=1,slow=5");
	fpgactl_device_close(dev);

	assert_int_equal(open_err("model:bogus=1"), -EINVAL);
	assert_true(log_has("unknown option 'bogus'"));
	assert_int_equal(open_err("model:fault=explode"), -EINVAL);
	assert_true(log_has("bad value 'explode' for option 'fault'"));
	assert_int_equal(open_err("model:every=3"), -EINVAL);
	assert_true(log_has("need fault=MODE"));
	assert_int_equal(open_err("model:fault=stall,every=0"), -EINVAL);
	assert_int_equal(open_err("model:queues=0"), -EINVAL);
	assert_int_equal(open_err("model:queues=57"), -EINVAL);
	assert_int_equal(open_err("model:depth=1"), -EINVAL);
	assert_int_equal(open_err("model:depth=32769"), -EINVAL);
	assert_int_equal(open_err("model:lmem=3000"), -EINVAL);
	assert_int_equal(open_err("model:lmem=2G"), -EINVAL);
	assert_int_equal(open_err("model:max_xfer=2"), -EINVAL);
	assert_int_equal(open_err("model:slow"), -EINVAL);
	assert_int_equal(open_err("model:slow=-1"), -EINVAL);
	assert_int_equal(open_err("model:queues=2x"), -EINVAL);
	assert_int_equal(open_err("model:fault=corrupt,queue=4"), -EINVAL);
}

static void test_iommu_context(void **state)
{
	struct fpgactl_device *a = open_model("model"), *b;
	struct fpgactl_iommu fake = { .backend = &iommu_backend_legacy };
	struct fpgactl_open_opts o = { .iommu = fpgactl_device_iommu(a) };
	struct fpgactl_dma_plan plan;
	struct ring r;
	struct fpgactl_dma_buf *buf;
	uint8_t *p;
	int err = 0;

	/* The model's IOVA space: 48 bits, no mapping limit. */
	assert_int_equal(fpgactl_dma_get_plan(a, &small, &plan), 0);
	assert_int_equal(plan.mappings_avail, -1);
	assert_int_equal(plan.iova_last, ((uint64_t)1 << 48) - 1);

	/* A second model shares the first one's context: a buffer allocated
	 * for one is reachable by the other at the same IOVA. */
	b = fpgactl_device_open("model", &o, &err);
	assert_non_null(b);
	assert_ptr_equal(fpgactl_device_iommu(b), fpgactl_device_iommu(a));
	buf = dma(a, 4096);
	p = buf->vaddr;
	enable(b, 0);
	ring_init(&r, b, 0, 4, 4, 0);
	assert_int_equal(run(&r, (struct fpgactl_sqe){ .opc = FPGACTL_SC_OP_FILL,
							.addr1 = buf->iova, .cdw10 = 8,
							.cdw11 = 0x01020304 }, NULL), 0);
	assert_int_equal(p[0], 4);
	assert_int_equal(p[7], 1);
	ring_free(&r);
	fpgactl_device_close(b);
	fpgactl_dma_free(buf);
	fpgactl_device_close(a);

	/* A VFIO context cannot host the model. */
	o.iommu = &fake;
	assert_null(fpgactl_device_open("model", &o, &err));
	assert_int_equal(err, -EINVAL);
	assert_true(log_has("cannot join a legacy IOMMU context"));
}

/* ---- registers ---------------------------------------------------------------- */

static void test_registers(void **state)
{
	struct fpgactl_device *dev = open_model("model");
	const struct fpgactl_bar *bar = fpgactl_device_bar(dev, 0, NULL);

	wr32(dev, FPGACTL_SC_SCRATCH, 0xA5A5F00D);
	assert_int_equal(rd32(dev, FPGACTL_SC_SCRATCH), 0xA5A5F00D);
	fpgactl_mmio_write32(bar, FPGACTL_SC_SCRATCH, 0x12345678);
	assert_int_equal(fpgactl_mmio_read32(bar, FPGACTL_SC_SCRATCH), 0x12345678);

	/* Enable: RDY; disable: RDY clears. */
	enable(dev, 0);
	assert_int_equal(rd32(dev, FPGACTL_SC_STATUS), FPGACTL_SC_STATUS_RDY);
	wr32(dev, FPGACTL_SC_CTRL, 0);
	wait_reg(dev, FPGACTL_SC_STATUS, ~0u, 0);

	/* Writes over read-only registers do not stick. */
	wr32(dev, FPGACTL_SC_ID, 0);
	wr32(dev, FPGACTL_SC_GUARDED(3), 0x1234);
	wr32(dev, FPGACTL_SC_STATUS, 3);
	wait_reg(dev, FPGACTL_SC_ID, ~0u, FPGACTL_SC_ID_VALUE);
	wait_reg(dev, FPGACTL_SC_GUARDED(3), ~0u, 0);
	wait_reg(dev, FPGACTL_SC_STATUS, ~0u, 0);
	assert_int_equal(rd32(dev, FPGACTL_SC_SCRATCH), 0x12345678);
	fpgactl_device_close(dev);
}

static void test_queue_setup(void **state)
{
	struct fpgactl_device *dev = open_model("model:depth=64");
	struct fpgactl_dma_buf *sq = dma(dev, 4096), *cq = dma(dev, 4096);
	struct ring r = { .dev = dev, .qid = 1 };
	uint64_t qs = q_reg(1, FPGACTL_SC_Q_STATUS), qc = q_reg(1, FPGACTL_SC_Q_CTRL);

	/* QEN while the soft-core is disabled. */
	assert_int_equal(ring_start(&r, sq->iova, cq->iova, 8, 8, 0),
			 FPGACTL_SC_QSTATUS_QERR);
	wr32(dev, qc, 0);
	wait_reg(dev, qs, ~0u, 0);
	enable(dev, 0);

	struct {
		uint64_t sq, cq;
		uint32_t sq_size, cq_size, want;
	} cases[] = {
		{ sq->iova, cq->iova, 8, 8, FPGACTL_SC_QSTATUS_ACTIVE },
		{ sq->iova, cq->iova, 64, 64, FPGACTL_SC_QSTATUS_ACTIVE },
		{ sq->iova, cq->iova, 2, 64, FPGACTL_SC_QSTATUS_ACTIVE },
		{ sq->iova, cq->iova, 1, 8, FPGACTL_SC_QSTATUS_QERR },	  /* too small */
		{ sq->iova, cq->iova, 8, 1, FPGACTL_SC_QSTATUS_QERR },
		{ sq->iova, cq->iova, 65, 8, FPGACTL_SC_QSTATUS_QERR },	  /* > MQES+1 */
		{ sq->iova, cq->iova, 8, 65, FPGACTL_SC_QSTATUS_QERR },
		{ sq->iova + 64, cq->iova, 8, 8, FPGACTL_SC_QSTATUS_QERR }, /* alignment */
		{ sq->iova, cq->iova + 0x800, 8, 8, FPGACTL_SC_QSTATUS_QERR },
		{ 0x1000, cq->iova, 8, 8, FPGACTL_SC_QSTATUS_QERR },	  /* unmapped */
		{ sq->iova, 0x7000000000, 8, 8, FPGACTL_SC_QSTATUS_QERR },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint32_t st = ring_start(&r, cases[i].sq, cases[i].cq, cases[i].sq_size,
					 cases[i].cq_size, 0);

		if (st != cases[i].want)
			fail_msg("case %zu: QSTATUS 0x%x, wanted 0x%x", i, st, cases[i].want);
		wr32(dev, qc, 0);
		wait_reg(dev, qs, ~0u, 0);
	}
	/* A ring that exactly fills its buffer: 64 SQEs are 4 KiB. */
	assert_int_equal(ring_start(&r, sq->iova, cq->iova, 64, 64, 0),
			 FPGACTL_SC_QSTATUS_ACTIVE);
	/* Disabling the soft-core disables the queue and clears QEN. */
	wr32(dev, FPGACTL_SC_CTRL, 0);
	wait_reg(dev, FPGACTL_SC_STATUS, ~0u, 0);
	assert_int_equal(rd32(dev, qs), 0);
	assert_int_equal(rd32(dev, qc) & FPGACTL_SC_QCTRL_QEN, 0);
	fpgactl_dma_free(sq);
	fpgactl_dma_free(cq);
	fpgactl_device_close(dev);

	/*
	 * A ring that does not fit in its buffer is refused (QERR: a ring must
	 * lie inside one DMA mapping, docs/model.md).  At depth 64 no ring is
	 * larger than a 4 KiB buffer, so with the default depth: 4 KiB buffers,
	 * 64 SQEs or 256 CQEs fill one exactly, 65 or 257 run past its end.
	 * (Into the next buffer, when the IOVA allocator put it right after:
	 * still refused, as the ring is not inside *one* mapping.)
	 */
	dev = open_model("model");
	sq = dma(dev, 4096);
	cq = dma(dev, 4096);
	enable(dev, 0);
	r = (struct ring){ .dev = dev, .qid = 1 };
	struct {
		uint32_t sq_size, cq_size, want;
	} fit[] = {
		{ 64, 256, FPGACTL_SC_QSTATUS_ACTIVE },
		{ 65, 8, FPGACTL_SC_QSTATUS_QERR },	/* SQ: 4 KiB + 64 bytes */
		{ 8, 257, FPGACTL_SC_QSTATUS_QERR },	/* CQ: 4 KiB + 16 bytes */
		{ 128, 8, FPGACTL_SC_QSTATUS_QERR },	/* SQ: two buffers' worth */
	};
	for (size_t i = 0; i < ARRAY_SIZE(fit); i++) {
		uint32_t st = ring_start(&r, sq->iova, cq->iova, fit[i].sq_size,
					 fit[i].cq_size, 0);

		if (st != fit[i].want)
			fail_msg("fit case %zu: QSTATUS 0x%x, wanted 0x%x", i, st, fit[i].want);
		wr32(dev, qc, 0);
		wait_reg(dev, qs, ~0u, 0);
	}
	fpgactl_dma_free(sq);
	fpgactl_dma_free(cq);
	fpgactl_device_close(dev);
}

/* ---- commands ---------------------------------------------------------------- */

static void test_commands(void **state)
{
	struct fpgactl_device *dev = open_model("model:lmem=64K,max_xfer=8K");
	struct fpgactl_dma_buf *a = dma(dev, 16 * KiB), *b = dma(dev, 16 * KiB);
	uint8_t *pa = a->vaddr, *pb = b->vaddr;
	_Alignas(8) uint8_t lm[256];
	uint32_t result, errors = 0;
	struct ring r;

	enable(dev, 0);
	ring_init(&r, dev, 2, 16, 16, 0);
	for (size_t i = 0; i < a->size; i++)
		pa[i] = (uint8_t)(i * 7 + 3);

	/* NOP */
	assert_int_equal(run(&r, nop, &result), FPGACTL_SC_SUCCESS);
	assert_int_equal(result, 0);

	/* COPY */
	assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_COPY, a->iova + 5,
							 b->iova + 100, 5000, 0, 0, 0),
			     NULL), FPGACTL_SC_SUCCESS);
	assert_memory_equal(pb + 100, pa + 5, 5000);
	assert_int_equal(pb[99], 0);
	assert_int_equal(pb[5100], 0);
	/* overlapping, inside one buffer */
	assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_COPY, b->iova + 100,
							 b->iova + 101, 10, 0, 0, 0),
			     NULL), FPGACTL_SC_SUCCESS);
	assert_memory_equal(pb + 101, pa + 5, 10);

	/* FILL */
	assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_FILL, 0, b->iova + 8,
							 64, 0xCAFEBABE, 0, 0),
			     NULL), FPGACTL_SC_SUCCESS);
	for (int i = 0; i < 16; i++) {
		uint32_t w;

		memcpy(&w, pb + 8 + 4 * i, 4);
		assert_int_equal(w, 0xCAFEBABE);
	}
	assert_int_equal(pb[72], 0);

	/* CRC32C */
	assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_CRC32C, a->iova + 1, 0,
							 4097, 0, 0, 0),
			     &result), FPGACTL_SC_SUCCESS);
	assert_int_equal(result, crc32c(pa + 1, 4097));
	memcpy(pb, "123456789", 9);
	assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_CRC32C, b->iova, 0,
							 9, 0, 0, 0),
			     &result), FPGACTL_SC_SUCCESS);
	assert_int_equal(result, 0xE3069283u);

	/* WRITE to local memory, visible through BAR2, and READ back. */
	assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_WRITE, a->iova + 10, 0,
							 256, 0x1000, 0, 0),
			     NULL), FPGACTL_SC_SUCCESS);
	assert_int_equal(fpgactl_region_read(dev, 2, 0x1000, lm, sizeof(lm)), 0);
	assert_memory_equal(lm, pa + 10, 256);
	assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_WRITE, a->iova, 0,
							 16, 64 * KiB - 16, 0, 0),
			     NULL), FPGACTL_SC_SUCCESS);
	memset(pb, 0, 4096);
	assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_READ, 0, b->iova + 3,
							 256, 0x1000, 0, 0),
			     NULL), FPGACTL_SC_SUCCESS);
	assert_memory_equal(pb + 3, pa + 10, 256);
	assert_int_equal(pb[2], 0);
	assert_int_equal(pb[259], 0);

	/* GUARDED_WRITE */
	assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_GUARDED_WRITE, 0, 0, 0,
							 FPGACTL_SC_GUARDED(5), 0xFEEDFACE,
							 guard_crc(FPGACTL_SC_GUARDED(5),
								   0xFEEDFACE)),
			     NULL), FPGACTL_SC_SUCCESS);
	assert_int_equal(rd32(dev, FPGACTL_SC_GUARDED(5)), 0xFEEDFACE);
	assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_GUARDED_WRITE, 0, 0, 0,
							 FPGACTL_SC_GUARDED(63), 7,
							 guard_crc(FPGACTL_SC_GUARDED(63), 7)),
			     NULL), FPGACTL_SC_SUCCESS);
	assert_int_equal(rd32(dev, FPGACTL_SC_GUARDED(63)), 7);
	assert_int_equal(rd32(dev, FPGACTL_SC_ERR_COUNT), 0);

	/* CRC mismatch: the register keeps its value. */
	assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_GUARDED_WRITE, 0, 0, 0,
							 FPGACTL_SC_GUARDED(5), 0x0BADBAD0,
							 guard_crc(FPGACTL_SC_GUARDED(5),
								   0xFEEDFACE)),
			     NULL), FPGACTL_SC_CRC_MISMATCH);
	errors++;
	assert_int_equal(rd32(dev, FPGACTL_SC_GUARDED(5)), 0xFEEDFACE);
	/* The CRC covers ARG0 too: the same value to another register. */
	assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_GUARDED_WRITE, 0, 0, 0,
							 FPGACTL_SC_GUARDED(6), 0xFEEDFACE,
							 guard_crc(FPGACTL_SC_GUARDED(5),
								   0xFEEDFACE)),
			     NULL), FPGACTL_SC_CRC_MISMATCH);
	errors++;
	assert_int_equal(rd32(dev, FPGACTL_SC_GUARDED(6)), 0);
	/* BAD_FIELD: outside GUARDED[], or unaligned, with a correct CRC. */
	static const uint32_t bad_offs[] = { 0x7FC, 0x900, 0x802, 0x18, 0xFFFFFFFF };
	for (size_t i = 0; i < ARRAY_SIZE(bad_offs); i++) {
		assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_GUARDED_WRITE,
								 0, 0, 0, bad_offs[i], 1,
								 guard_crc(bad_offs[i], 1)),
				     NULL), FPGACTL_SC_BAD_FIELD);
		errors++;
	}
	assert_int_equal(rd32(dev, FPGACTL_SC_SCRATCH), 0);

	/* BAD_OPCODE */
	assert_int_equal(run(&r, (struct fpgactl_sqe){ .opc = 0x07 }, NULL),
			 FPGACTL_SC_BAD_OPCODE);
	assert_int_equal(run(&r, (struct fpgactl_sqe){ .opc = 0xFF }, NULL),
			 FPGACTL_SC_BAD_OPCODE);
	errors += 2;

	/* BAD_LENGTH: 0, above MAX_XFER, FILL not a multiple of 4, past the
	 * end of local memory.  Nothing is touched. */
	memset(pb, 0x5A, 16 * KiB);
	struct fpgactl_sqe bad_len[] = {
		sqe(FPGACTL_SC_OP_COPY, a->iova, b->iova, 0, 0, 0, 0),
		sqe(FPGACTL_SC_OP_COPY, a->iova, b->iova, 8 * KiB + 1, 0, 0, 0),
		sqe(FPGACTL_SC_OP_FILL, 0, b->iova, 6, 0, 0, 0),
		sqe(FPGACTL_SC_OP_FILL, 0, b->iova, 0, 0, 0, 0),
		sqe(FPGACTL_SC_OP_CRC32C, a->iova, 0, 0, 0, 0, 0),
		sqe(FPGACTL_SC_OP_WRITE, a->iova, 0, 17, 64 * KiB - 16, 0, 0),
		sqe(FPGACTL_SC_OP_WRITE, a->iova, 0, 16, 0xFFFFFFF8u, 0, 0),
		sqe(FPGACTL_SC_OP_READ, 0, b->iova, 1, 64 * KiB, 0, 0),
		sqe(FPGACTL_SC_OP_READ, 0, b->iova, 0, 0, 0, 0),
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad_len); i++) {
		unsigned int st = run(&r, bad_len[i], NULL);

		if (st != FPGACTL_SC_BAD_LENGTH)
			fail_msg("case %zu: status %u", i, st);
		errors++;
	}
	for (size_t i = 0; i < 16 * KiB; i++)
		assert_int_equal(pb[i], 0x5A);

	/* DMA_FAULT: unmapped, crossing the end of a mapping, IOVA 0, wrapping
	 * around; the destination is never touched. */
	struct fpgactl_sqe faults[] = {
		sqe(FPGACTL_SC_OP_COPY, 0x7000000000, b->iova, 64, 0, 0, 0),
		sqe(FPGACTL_SC_OP_COPY, a->iova + 16 * KiB - 8, b->iova, 16, 0, 0, 0),
		sqe(FPGACTL_SC_OP_COPY, 0, b->iova, 16, 0, 0, 0),
		sqe(FPGACTL_SC_OP_COPY, UINT64_MAX - 4, b->iova, 16, 0, 0, 0),
		sqe(FPGACTL_SC_OP_COPY, a->iova, 0x7000000000, 64, 0, 0, 0),
		sqe(FPGACTL_SC_OP_FILL, 0, b->iova + 16 * KiB - 4, 8, 0, 0, 0),
		sqe(FPGACTL_SC_OP_CRC32C, 0x7000000000, 0, 8, 0, 0, 0),
		sqe(FPGACTL_SC_OP_WRITE, 0x7000000000, 0, 8, 0, 0, 0),
		sqe(FPGACTL_SC_OP_READ, 0, 0x7000000000, 8, 0, 0, 0),
	};
	for (size_t i = 0; i < ARRAY_SIZE(faults); i++) {
		unsigned int st = run(&r, faults[i], &result);

		if (st != FPGACTL_SC_DMA_FAULT)
			fail_msg("case %zu: status %u", i, st);
		assert_int_equal(result, 0);
		errors++;
	}
	for (size_t i = 0; i < 16 * KiB; i++)
		assert_int_equal(pb[i], 0x5A);
	assert_int_equal(fpgactl_region_read(dev, 2, 0, lm, 8), 0);
	assert_memory_equal(lm, "\0\0\0\0\0\0\0\0", 8);

	/* A freed buffer is no longer reachable. */
	uint64_t gone = a->iova;
	fpgactl_dma_free(a);
	assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_COPY, gone, b->iova,
							 16, 0, 0, 0),
			     NULL), FPGACTL_SC_DMA_FAULT);
	errors++;

	assert_int_equal(rd32(dev, FPGACTL_SC_ERR_COUNT), errors);
	assert_int_equal(stats(dev).errors, errors);
	/* Disable clears ERR_COUNT; SCRATCH and GUARDED[] survive. */
	wr32(dev, FPGACTL_SC_SCRATCH, 77);
	wr32(dev, FPGACTL_SC_CTRL, 0);
	wait_reg(dev, FPGACTL_SC_STATUS, ~0u, 0);
	assert_int_equal(rd32(dev, FPGACTL_SC_ERR_COUNT), 0);
	assert_int_equal(rd32(dev, FPGACTL_SC_SCRATCH), 77);
	assert_int_equal(rd32(dev, FPGACTL_SC_GUARDED(5)), 0xFEEDFACE);
	ring_free(&r);
	fpgactl_dma_free(b);
	fpgactl_device_close(dev);
}

/* Entries wrap around both rings; the phase flips on every pass; batches
 * of several entries per doorbell. */
static void test_wrap(void **state)
{
	struct fpgactl_device *dev = open_model("model");
	struct ring r;

	enable(dev, 0);
	ring_init(&r, dev, 0, 4, 8, 0);
	for (int i = 0; i < 21; i++)
		assert_int_equal(run(&r, nop, NULL), 0);
	assert_int_equal(r.tail, 21 % 4);
	assert_int_equal(r.head, 21 % 8);
	/* Batches of 3 (at most size - 1 in flight). */
	for (int round = 0; round < 10; round++) {
		uint16_t cids[3];

		for (int i = 0; i < 3; i++)
			cids[i] = ring_put(&r, &nop);
		ring_doorbell(&r);
		for (int i = 0; i < 3; i++) {
			struct fpgactl_cqe c = reap_ok(&r);

			assert_int_equal(c.cid, cids[i]);
			assert_int_equal(code(&c), 0);
		}
	}
	assert_quiet(&r);
	if (!test_device_other()) {
		assert_int_equal(stats(dev).commands, 51);
		assert_int_equal(stats(dev).completions, 51);
	}
	ring_free(&r);
	fpgactl_device_close(dev);
}

/* The CQ is never overrun: a 2-entry CQ holds one completion until the
 * host releases it. */
static void test_cq_full(void **state)
{
	struct fpgactl_device *dev = open_model("model");
	struct fpgactl_cqe c;
	struct ring r;

	enable(dev, 0);
	ring_init(&r, dev, 0, 8, 2, 0);
	for (int i = 0; i < 5; i++)
		ring_put(&r, &nop);
	ring_doorbell(&r);
	for (uint16_t i = 0; i < 5; i++) {
		volatile struct fpgactl_cqe *other = &r.cq[(r.head + 1) % 2];
		/* The phase the host will expect in the other slot next. */
		uint16_t next_phase = r.head == 0 ? r.phase : r.phase ^ 1;
		uint64_t deadline = now_ns() + TIMEOUT_MS * 1000000ull;

		while ((r.cq[r.head].status & 1) != r.phase && now_ns() < deadline)
			relax();
		/* The device has the next completion ready but no room. */
		sleep_ms(5);
		assert_int_not_equal(other->status & 1, next_phase);
		assert_true(ring_reap(&r, &c, TIMEOUT_MS));
		assert_int_equal(c.cid, i);
	}
	assert_quiet(&r);
	ring_free(&r);
	fpgactl_device_close(dev);
}

/* Entries visible to the host and not yet released, from its head on. */
static unsigned int cq_visible(const struct ring *r)
{
	unsigned int n = 0;

	for (uint32_t j = 0; j < r->cq_size; j++) {
		uint32_t slot = (r->head + j) % r->cq_size;
		uint16_t phase = r->head + j < r->cq_size ? r->phase : r->phase ^ 1;
		volatile const struct fpgactl_cqe *c = &r->cq[slot];

		if ((c->status & 1) != phase)
			break;
		n++;
	}
	return n;
}

/* A batch larger than the CQ in one doorbell: the device writes what the
 * CQ has room for (reading CQ_HEAD again only when that runs out), never
 * over an entry not released, and the rest in order as the host releases
 * slots one at a time. */
static void test_cq_room(void **state)
{
	struct fpgactl_device *dev = open_model("model");
	uint16_t cids[15];
	struct ring r;

	enable(dev, 0);
	ring_init(&r, dev, 0, 16, 4, 0);
	for (int i = 0; i < 15; i++)
		cids[i] = ring_put(&r, &nop);
	ring_doorbell(&r);
	for (unsigned int i = 0; i < 15; i++) {
		unsigned int want = 15 - i < 3 ? 15 - i : 3, n;
		uint64_t deadline = now_ns() + TIMEOUT_MS * 1000000ull;
		struct fpgactl_cqe c;

		/* The CQ fills up to size - 1 and stays there. */
		while ((n = cq_visible(&r)) < want && now_ns() < deadline)
			relax();
		assert_int_equal(n, want);
		sleep_ms(1);
		assert_int_equal(cq_visible(&r), want);
		assert_true(ring_reap(&r, &c, TIMEOUT_MS));
		assert_int_equal(c.cid, cids[i]);
		assert_int_equal(c.sq_head, (i + 1) % 16);
		assert_int_equal(code(&c), 0);
	}
	assert_quiet(&r);
	if (!test_device_other()) {
		assert_int_equal(stats(dev).commands, 15);
		assert_int_equal(stats(dev).completions, 15);
	}
	ring_free(&r);
	fpgactl_device_close(dev);
}

/* A doorbell beyond the ring: STATUS.CFS, nothing runs until disabled. */
static void test_fatal(void **state)
{
	struct fpgactl_device *dev = open_model("model");
	struct ring r;

	enable(dev, 0);
	ring_init(&r, dev, 0, 4, 4, 0);
	fpgactl_mmio_write32(r.bar, FPGACTL_SC_DOORBELLS, 4);
	wait_reg(dev, FPGACTL_SC_STATUS, ~0u, FPGACTL_SC_STATUS_RDY | FPGACTL_SC_STATUS_CFS);
	assert_int_equal(stats(dev).fatal, 1);
	ring_submit(&r, &nop);
	assert_quiet(&r);
	enable(dev, 0);
	assert_int_equal(rd32(dev, FPGACTL_SC_STATUS), FPGACTL_SC_STATUS_RDY);
	ring_restart(&r, 0);
	assert_int_equal(run(&r, nop, NULL), 0);
	/* CQ head out of range is fatal too. */
	ring_put(&r, &nop);
	fpgactl_mmio_write32(r.bar, FPGACTL_SC_DOORBELLS + 4, 9);
	ring_doorbell(&r);
	wait_reg(dev, FPGACTL_SC_STATUS, FPGACTL_SC_STATUS_CFS, FPGACTL_SC_STATUS_CFS);
	assert_int_equal(stats(dev).fatal, 2);
	ring_free(&r);
	fpgactl_device_close(dev);
}

/* ---- interrupts ---------------------------------------------------------------- */

static uint64_t efd_count(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static bool efd_wait(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static void test_interrupts(void **state)
{
	struct fpgactl_device *dev = open_model("model");
	int efd[2] = { eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC),
		       eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) };
	struct ring r;

	assert_true(efd[0] >= 0 && efd[1] >= 0);
	assert_int_equal(dev->ops->set_irqs(dev, FPGACTL_IRQ_MSIX, 2, 2, efd), 0);
	/* The model keeps its own reference, as VFIO does. */
	assert_int_equal(dev->ops->set_irqs(dev, FPGACTL_IRQ_MSIX, 3, 2, efd), -EINVAL);
	assert_int_equal(dev->ops->set_irqs(dev, FPGACTL_IRQ_MSI, 0, 1, efd), -EINVAL);
	assert_int_equal(dev->ops->set_irqs(dev, FPGACTL_IRQ_MSI, 0, 0, NULL), 0);

	/* CTRL.IE off: no interrupt even with IEN. */
	enable(dev, 0);
	ring_init(&r, dev, 1, 8, 8, FPGACTL_SC_QCTRL_IEN | 3 << 8);
	assert_int_equal(run(&r, nop, NULL), 0);
	assert_false(efd_wait(efd[1], QUIET_MS));

	/* IE and IEN: vector 3 (efd[1]), not vector 2. */
	enable(dev, FPGACTL_SC_CTRL_IE);
	ring_restart(&r, FPGACTL_SC_QCTRL_IEN | 3 << 8);
	assert_int_equal(run(&r, nop, NULL), 0);
	assert_true(efd_wait(efd[1], TIMEOUT_MS));
	sleep_ms(QUIET_MS);
	assert_int_equal(efd_count(efd[1]), 1);
	assert_int_equal(efd_count(efd[0]), 0);
	/* A batch behind one doorbell write raises exactly one interrupt:
	 * the device reads the SQ tail once per visit, runs all 5 (fewer
	 * than the 64 of a visit, and the CQ has room for 7), and signals
	 * once per visit that wrote completions (docs/model.md).  An
	 * eventfd's counter adds up the writes, so reading 1 means one
	 * write, not several coalesced. */
	for (int i = 0; i < 5; i++)
		ring_put(&r, &nop);
	ring_doorbell(&r);
	for (int i = 0; i < 5; i++) {
		struct fpgactl_cqe c = reap_ok(&r);

		assert_int_equal(code(&c), FPGACTL_SC_SUCCESS);
	}
	assert_true(efd_wait(efd[1], TIMEOUT_MS));
	sleep_ms(QUIET_MS);
	assert_int_equal(efd_count(efd[1]), 1);
	assert_int_equal(efd_count(efd[0]), 0);
	assert_int_equal(stats(dev).interrupts, 2);

	/* IEN off: none. */
	ring_restart(&r, 3 << 8);
	assert_int_equal(run(&r, nop, NULL), 0);
	assert_false(efd_wait(efd[1], QUIET_MS));

	/* Vector 2 routed to efd[0]; then unrouted (-1), then the whole index
	 * disabled. */
	ring_restart(&r, FPGACTL_SC_QCTRL_IEN | 2 << 8);
	assert_int_equal(run(&r, nop, NULL), 0);
	assert_true(efd_wait(efd[0], TIMEOUT_MS));
	assert_int_equal(efd_count(efd[0]), 1);
	int none = -1;
	assert_int_equal(dev->ops->set_irqs(dev, FPGACTL_IRQ_MSIX, 2, 1, &none), 0);
	assert_int_equal(run(&r, nop, NULL), 0);
	assert_false(efd_wait(efd[0], QUIET_MS));
	assert_int_equal(dev->ops->set_irqs(dev, FPGACTL_IRQ_MSIX, 0, 0, NULL), 0);
	ring_restart(&r, FPGACTL_SC_QCTRL_IEN | 3 << 8);
	assert_int_equal(run(&r, nop, NULL), 0);
	assert_false(efd_wait(efd[1], QUIET_MS));
	/* The model duplicated the fds: closing ours after routing is fine. */
	assert_int_equal(dev->ops->set_irqs(dev, FPGACTL_IRQ_MSIX, 3, 1, &efd[1]), 0);
	ring_free(&r);
	close(efd[0]);
	close(efd[1]);
	fpgactl_device_close(dev);
}

/* ---- reset ---------------------------------------------------------------------- */

static void test_reset(void **state)
{
	struct fpgactl_device *dev = open_model("model");
	struct fpgactl_open_opts o = { .flags = FPGACTL_OPEN_RESET };
	_Alignas(8) uint8_t cmd[2];
	struct ring r;
	int err;

	enable(dev, 0);
	ring_init(&r, dev, 3, 4, 4, 0);
	assert_int_equal(fpgactl_set_bus_master(dev, true), 0);
	wr32(dev, FPGACTL_SC_SCRATCH, 5);
	assert_int_equal(run(&r, sqe(FPGACTL_SC_OP_GUARDED_WRITE, 0, 0, 0,
							 FPGACTL_SC_GUARDED(0), 9,
							 guard_crc(FPGACTL_SC_GUARDED(0), 9)),
			     NULL), 0);
	assert_int_equal(fpgactl_device_reset(dev), 0);
	/* Synchronous: done when the call returns. */
	assert_int_equal(rd32(dev, FPGACTL_SC_CTRL), 0);
	assert_int_equal(rd32(dev, FPGACTL_SC_STATUS), 0);
	assert_int_equal(rd32(dev, q_reg(3, FPGACTL_SC_Q_CTRL)), 0);
	assert_int_equal(rd32(dev, q_reg(3, FPGACTL_SC_Q_STATUS)), 0);
	assert_int_equal(rd32(dev, q_reg(3, FPGACTL_SC_Q_SIZE)), 0);
	assert_int_equal(rd32(dev, FPGACTL_SC_SCRATCH), 5);
	assert_int_equal(rd32(dev, FPGACTL_SC_GUARDED(0)), 9);
	assert_int_equal(fpgactl_config_read(dev, 4, cmd, 2), 0);
	assert_int_equal(cmd[0] & 4, 0);
	/* And it works again. */
	enable(dev, 0);
	ring_restart(&r, 0);
	assert_int_equal(run(&r, nop, NULL), 0);
	ring_free(&r);
	fpgactl_device_close(dev);

	dev = fpgactl_device_open(test_device_spec("model", ""), &o, &err);
	assert_non_null(dev);
	assert_int_equal(rd32(dev, FPGACTL_SC_ID), FPGACTL_SC_ID_VALUE);
	fpgactl_device_close(dev);
}

/* ---- fault injection ------------------------------------------------------------- */

/* Submit a NOP and expect @n completions for it (0, 1 or 2), in @out. */
static void nop_expect(struct ring *r, unsigned int n, struct fpgactl_cqe *out,
		       unsigned int *got)
{
	ring_submit(r, &nop);
	for (unsigned int i = 0; i < n; i++)
		out[(*got)++] = reap_ok(r);
}

static void test_fault_corrupt(void **state)
{
	struct fpgactl_device *dev = open_model("model:fault=corrupt,every=3,count=2");
	struct fpgactl_cqe c[16];
	unsigned int got = 0;
	struct ring r;

	enable(dev, 0);
	ring_init(&r, dev, 0, 16, 16, 0);
	for (int i = 0; i < 9; i++)
		nop_expect(&r, 1, c, &got);
	assert_quiet(&r);
	for (uint16_t i = 0; i < 9; i++) {
		bool bad = i == 2 || i == 5;

		assert_int_equal(c[i].cid, bad ? MODEL_CORRUPT_CID : i);
		assert_int_equal(c[i].result, bad ? MODEL_CORRUPT_RESULT : 0);
		assert_int_equal(c[i].sq_head, i + 1);
		assert_int_equal(code(&c[i]), 0);
	}
	assert_int_equal(stats(dev).injected[MODEL_FAULT_CORRUPT], 2);
	assert_int_equal(stats(dev).commands, 9);
	assert_int_equal(stats(dev).completions, 9);
	ring_free(&r);
	fpgactl_device_close(dev);
}

static void test_fault_duplicate(void **state)
{
	struct fpgactl_device *dev = open_model("model:fault=duplicate,every=2,count=2");
	static const uint16_t want[] = { 0, 1, 1, 2, 3, 3, 4, 5 };
	struct fpgactl_cqe c[16];
	unsigned int got = 0;
	struct ring r;

	enable(dev, 0);
	ring_init(&r, dev, 0, 16, 16, 0);
	for (int i = 0; i < 6; i++)
		nop_expect(&r, i == 1 || i == 3 ? 2 : 1, c, &got);
	assert_quiet(&r);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_int_equal(c[i].cid, want[i]);
	assert_memory_equal(&c[1], &c[2], sizeof(c[1]));
	assert_int_equal(stats(dev).injected[MODEL_FAULT_DUPLICATE], 2);
	assert_int_equal(stats(dev).completions, 8);
	ring_free(&r);
	fpgactl_device_close(dev);
}

static void test_fault_stale(void **state)
{
	struct fpgactl_device *dev = open_model("model:fault=stale,every=2");
	struct fpgactl_cqe c[16];
	unsigned int got = 0;
	struct ring r;

	enable(dev, 0);
	ring_init(&r, dev, 0, 4, 4, 0);
	/* Across several wraps: every other completion is lost, the others
	 * arrive in order with the SQ head of their own command. */
	for (int i = 0; i < 10; i++)
		nop_expect(&r, i % 2 ? 0 : 1, c, &got);
	assert_quiet(&r);
	for (uint16_t i = 0; i < 5; i++) {
		assert_int_equal(c[i].cid, 2 * i);
		assert_int_equal(c[i].sq_head, (2 * i + 1) % 4);
	}
	assert_int_equal(stats(dev).injected[MODEL_FAULT_STALE], 5);
	assert_int_equal(stats(dev).completions, 5);
	assert_int_equal(stats(dev).commands, 10);
	ring_free(&r);
	fpgactl_device_close(dev);
}

static void test_fault_bad_sq_head(void **state)
{
	struct fpgactl_device *dev = open_model("model:fault=bad-sq-head,after=1,count=1");
	struct fpgactl_cqe c[8];
	unsigned int got = 0;
	struct ring r;

	enable(dev, 0);
	ring_init(&r, dev, 0, 8, 8, 0);
	for (int i = 0; i < 3; i++)
		nop_expect(&r, 1, c, &got);
	assert_int_equal(c[0].sq_head, 1);
	assert_int_equal(c[1].sq_head, 8);
	assert_int_equal(c[1].cid, 1);
	assert_int_equal(c[2].sq_head, 3);
	assert_int_equal(stats(dev).injected[MODEL_FAULT_BAD_SQ_HEAD], 1);
	ring_free(&r);
	fpgactl_device_close(dev);
}

/* Wait for a counter of the model to reach @want. */
#define wait_stat(dev, field, want)                                          \
	do {                                                                 \
		uint64_t end_ = now_ns() + TIMEOUT_MS * 1000000ull;           \
		while (stats(dev).field != (want) && now_ns() < end_)         \
			sleep_ms(1);                                         \
		assert_int_equal(stats(dev).field, (want));                  \
	} while (0)

static void test_fault_stall(void **state)
{
	struct fpgactl_device *dev = open_model("model:fault=stall,after=2,count=1");
	struct fpgactl_cqe c[8];
	unsigned int got = 0;
	struct ring r, r2;

	enable(dev, 0);
	ring_init(&r, dev, 0, 8, 8, 0);
	nop_expect(&r, 1, c, &got);
	nop_expect(&r, 1, c, &got);
	nop_expect(&r, 0, c, &got);
	wait_stat(dev, injected[MODEL_FAULT_STALL], 1);
	nop_expect(&r, 0, c, &got);
	nop_expect(&r, 0, c, &got);
	assert_quiet(&r);
	assert_int_equal(stats(dev).commands, 3);	/* the queue hung on #3 */
	/* Other queues still run; disabling the queue recovers it. */
	ring_init(&r2, dev, 1, 4, 4, 0);
	assert_int_equal(run(&r2, nop, NULL), 0);
	ring_restart(&r, 0);
	for (int i = 0; i < 3; i++)
		nop_expect(&r, 1, c, &got);
	assert_int_equal(stats(dev).injected[MODEL_FAULT_STALL], 1);
	ring_free(&r2);
	ring_free(&r);
	fpgactl_device_close(dev);
}

static void test_fault_queue_filter(void **state)
{
	struct fpgactl_device *dev = open_model("model:fault=corrupt,queue=1");
	struct ring r0, r1;
	struct fpgactl_cqe c;

	enable(dev, 0);
	ring_init(&r0, dev, 0, 4, 4, 0);
	ring_init(&r1, dev, 1, 4, 4, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(run(&r0, nop, NULL), 0);
		ring_submit(&r1, &nop);
		c = reap_ok(&r1);
		assert_int_equal(c.cid, MODEL_CORRUPT_CID);
	}
	assert_int_equal(stats(dev).injected[MODEL_FAULT_CORRUPT], 3);
	ring_free(&r0);
	ring_free(&r1);
	fpgactl_device_close(dev);
}

static void test_fault_slow(void **state)
{
	struct fpgactl_device *dev = open_model("model:slow=3000");
	struct ring r;
	uint64_t t0, dt;

	enable(dev, 0);
	ring_init(&r, dev, 0, 8, 8, 0);
	t0 = now_ns();
	assert_int_equal(run(&r, nop, NULL), 0);
	dt = now_ns() - t0;
	assert_true(dt >= 3000000u);
	/* Serial per queue: three commands take three delays. */
	t0 = now_ns();
	for (int i = 0; i < 3; i++)
		ring_put(&r, &nop);
	ring_doorbell(&r);
	for (int i = 0; i < 3; i++)
		reap_ok(&r);
	dt = now_ns() - t0;
	assert_true(dt >= 9000000u);
	ring_free(&r);
	fpgactl_device_close(dev);
}

static void test_fault_removal(void **state)
{
	struct fpgactl_device *dev = open_model("model:fault=removal,after=3");
	_Alignas(8) uint8_t lm[16], cfg[4];
	struct fpgactl_cqe c[8];
	unsigned int got = 0;
	struct ring r;
	uint64_t v;

	enable(dev, 0);
	ring_init(&r, dev, 0, 8, 8, 0);
	for (int i = 0; i < 3; i++)
		nop_expect(&r, 1, c, &got);
	nop_expect(&r, 0, c, &got);
	wait_stat(dev, removed, true);
	nop_expect(&r, 0, c, &got);	/* rings nothing */
	assert_quiet(&r);
	assert_int_equal(stats(dev).injected[MODEL_FAULT_REMOVAL], 1);
	assert_int_equal(stats(dev).commands, 4);
	assert_int_equal(rd32(dev, FPGACTL_SC_ID), 0xFFFFFFFFu);
	assert_int_equal(rd32(dev, FPGACTL_SC_STATUS), 0xFFFFFFFFu);
	/* (Queue 1's doorbells: the host wrote queue 0's after the removal,
	 * and such writes land in the model's memory, docs/model.md.) */
	assert_int_equal(fpgactl_reg_read(dev, 0, FPGACTL_SC_DOORBELLS + 8, 8, &v), 0);
	assert_true(fpgactl_is_all_ones(v, 8));
	assert_int_equal(fpgactl_region_read(dev, 2, 96, lm, sizeof(lm)), 0);
	for (size_t i = 0; i < sizeof(lm); i++)
		assert_int_equal(lm[i], 0xff);
	assert_int_equal(fpgactl_config_read(dev, 0, cfg, 4), 0);
	assert_memory_equal(cfg, "\xff\xff\xff\xff", 4);
	/* Config writes go nowhere. */
	assert_int_equal(fpgactl_set_bus_master(dev, true), 0);
	assert_int_equal(fpgactl_config_read(dev, 4, cfg, 2), 0);
	assert_memory_equal(cfg, "\xff\xff", 2);
	assert_int_equal(fpgactl_device_removed(dev), 1);
	assert_int_equal(fpgactl_reg_check(dev, 0, FPGACTL_SC_ID, 4, &v), -ENODEV);
	assert_int_equal(fpgactl_reg_poll(dev, 0, FPGACTL_SC_STATUS, 4, 1, 1, 1000000, &v),
			 -ENODEV);
	assert_int_equal(fpgactl_device_reset(dev), -ENODEV);
	fpgactl_dma_free(r.sqb);
	fpgactl_dma_free(r.cqb);
	fpgactl_device_close(dev);
}

/* ---- lifetime ----------------------------------------------------------------------- */

/* Close while the device is busy with large copies, with a full CQ, with
 * a stalled queue: the thread is joined promptly. */
static void test_close_busy(void **state)
{
	for (int mode = 0; mode < 3; mode++) {
		struct fpgactl_device *dev = open_model(mode == 2 ? "model:fault=stall" :
							"model");
		struct fpgactl_dma_buf *a = dma(dev, 1 * MiB), *b = dma(dev, 1 * MiB);
		struct ring r;
		uint64_t t0;

		enable(dev, 0);
		ring_init(&r, dev, 0, 64, mode == 1 ? 2 : 64, 0);
		struct fpgactl_sqe copy = sqe(FPGACTL_SC_OP_COPY, a->iova, b->iova,
					      1 * MiB, 0, 0, 0);

		for (int i = 0; i < 63; i++)
			ring_put(&r, &copy);
		ring_doorbell(&r);
		sleep_ms(1);
		t0 = now_ns();
		fpgactl_device_close(dev);
		assert_true(now_ns() - t0 < 5000000000u);
		/* The buffers outlive the device (they hold the context). */
		fpgactl_dma_free(r.sqb);
		fpgactl_dma_free(r.cqb);
		fpgactl_dma_free(a);
		fpgactl_dma_free(b);
	}
}

/* Several models at once, each with its own thread and context. */
static void test_many(void **state)
{
	struct fpgactl_device *dev[4];
	struct ring r[4];

	for (int i = 0; i < 4; i++) {
		dev[i] = open_model("model:queues=1");
		enable(dev[i], 0);
		ring_init(&r[i], dev[i], 0, 4, 4, 0);
	}
	for (int k = 0; k < 10; k++)
		for (int i = 0; i < 4; i++)
			assert_int_equal(run(&r[i], nop, NULL), 0);
	for (int i = 0; i < 4; i++) {
		ring_free(&r[i]);
		fpgactl_device_close(dev[i]);
	}
}

/* ---- NOP streams --------------------------------------------------------------- */

/*
 * NOPs one at a time, in batches of 32 and after the device thread went to
 * sleep, each completion checked.  A correctness test: the cost of a NOP
 * is measured by `fpgactl bench queue` (docs/cli.md), not here.
 */
static void test_nop_stream(void **state)
{
	/* Two passes over the 256-entry rings one at a time, then two in
	 * batches: every slot seen with both phases, in both modes. */
	const unsigned int n = 512;
	struct fpgactl_device *dev = open_model("model");
	uint64_t sleeps;
	struct ring r;

	enable(dev, 0);
	ring_init(&r, dev, 0, 256, 256, 0);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(run(&r, nop, NULL), FPGACTL_SC_SUCCESS);
	for (unsigned int i = 0; i < n / 32; i++) {
		uint16_t cid[32];

		for (int k = 0; k < 32; k++)
			cid[k] = ring_put(&r, &nop);
		ring_doorbell(&r);
		for (int k = 0; k < 32; k++) {
			struct fpgactl_cqe c = reap_ok(&r);

			assert_int_equal(c.cid, cid[k]);	/* in order */
			assert_int_equal(c.sq_id, r.qid);
			assert_int_equal(c.sq_head, (r.tail + 256 - 31 + k) % 256);
			assert_int_equal(code(&c), FPGACTL_SC_SUCCESS);
		}
	}
	/* A command submitted while the device thread sleeps is still run
	 * (the thread's own counter says when it went to sleep). */
	for (int i = 0; i < 3; i++) {
		sleeps = stats(dev).sleeps;
		for (uint64_t end = now_ns() + TIMEOUT_MS * 1000000ull;
		     stats(dev).sleeps == sleeps && now_ns() < end;)
			sleep_ms(1);
		assert_true(stats(dev).sleeps > sleeps);
		assert_int_equal(run(&r, nop, NULL), FPGACTL_SC_SUCCESS);
	}
	assert_int_equal(stats(dev).commands, 2 * n + 3);
	assert_int_equal(stats(dev).completions, 2 * n + 3);
	assert_int_equal(stats(dev).errors, 0);
	ring_free(&r);
	fpgactl_device_close(dev);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup(fn, setup)
	const struct CMUnitTest tests[] = {
		T(test_crc),
		T(test_identity),
		T(test_options),
		T(test_iommu_context),
		T(test_registers),
		T(test_queue_setup),
		T(test_commands),
		T(test_wrap),
		T(test_cq_full),
		T(test_cq_room),
		T(test_fatal),
		T(test_interrupts),
		T(test_reset),
		T(test_fault_corrupt),
		T(test_fault_duplicate),
		T(test_fault_stale),
		T(test_fault_bad_sq_head),
		T(test_fault_stall),
		T(test_fault_queue_filter),
		T(test_fault_slow),
		T(test_fault_removal),
		T(test_close_busy),
		T(test_many),
		T(test_nop_stream),
	};

	/* Against another device (the RTL: tests/rtl), the raw-register cases
	 * that need none of the model's options or counters. */
	const struct CMUnitTest other[] = {
		T(test_wrap),
		T(test_cq_full),
		T(test_cq_room),
		T(test_reset),
	};

	fpgactl_set_log(log_hook, NULL, FPGACTL_LOG_DEBUG);
	if (test_device_other())
		return cmocka_run_group_tests(other, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
