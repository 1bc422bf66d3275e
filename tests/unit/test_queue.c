// SPDX-License-Identifier: MIT
/*
 * The ring engine against the mocked kernel: the test plays the device.  It
 * reads submission entries from the SQ ring (found through the mock's DMA
 * mappings), reads the doorbells from BAR0 (an mmap of an ordinary file
 * under the mock), and writes completion entries with the phase tag the
 * protocol asks for -- or a wrong one, a corrupt one, a duplicate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <cmocka.h>

#include "fixture.h"

#define BDF "0000:03:00.0"
#define DB_OFFSET 0x1000
#define MAX_DEPTH 4096

/* ---- the device, played by the test ------------------------------------- */

/**
 * struct dev_model - the device side of one queue pair
 * @q: the host's queue
 * @bar: BAR0
 * @sq: the SQ ring, as the device reads it through the IOMMU
 * @cq: the CQ ring
 * @depth: entries per ring
 * @sq_db, @cq_db: doorbell offsets in BAR0
 * @sq_head: next SQ slot the device fetches
 * @cq_tail: next CQ slot the device writes
 * @cq_written: entries written (free-running), for flow control
 * @phase: phase tag of the current pass
 * @fetched: command ids fetched and not yet completed, in fetch order
 * @nr_fetched: their number
 */
struct dev_model {
	struct fpgactl_queue *q;
	const struct fpgactl_bar *bar;
	struct fpgactl_sqe *sq;
	struct fpgactl_cqe *cq;
	uint32_t depth;
	uint16_t qid;
	uint64_t sq_db, cq_db;
	uint32_t sq_head;
	uint32_t cq_tail;
	uint32_t cq_written;
	uint16_t phase;
	uint16_t fetched[2 * MAX_DEPTH];
	uint32_t nr_fetched;
	struct fpgactl_sqe last_sqe;
};

static struct fpgactl_device *open_dev(void)
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

static struct fpgactl_queue *create(struct fpgactl_device *dev, uint16_t qid,
				    uint32_t depth, uint32_t stride)
{
	struct fpgactl_queue_cfg cfg = {
		.qid = qid, .depth = depth, .bar = 0,
		.db_offset = DB_OFFSET, .db_stride = stride,
	};
	int err = 0;
	struct fpgactl_queue *q = fpgactl_queue_create(dev, &cfg, &err);

	if (!q)
		print_message("queue_create: %d\n%s", err, fixture_log());
	assert_non_null(q);
	return q;
}

/* The CPU address of IOVA @iova, from the mock's record of the mappings. */
static void *iova_to_va(uint64_t iova)
{
	struct mock_dma_mapping m[64];
	size_t n = mock_mappings(m, 64);

	for (size_t i = 0; i < n; i++)
		if (iova >= m[i].iova && iova - m[i].iova < m[i].size)
			return (void *)(uintptr_t)(m[i].vaddr + (iova - m[i].iova));
	fail_msg("IOVA 0x%llx is not mapped", (unsigned long long)iova);
	return NULL;
}

static void dm_init(struct dev_model *dm, struct fpgactl_device *dev,
		    struct fpgactl_queue *q, uint16_t qid, uint32_t stride)
{
	memset(dm, 0, sizeof(*dm));
	dm->q = q;
	dm->bar = fpgactl_device_bar(dev, 0, NULL);
	assert_non_null(dm->bar);
	dm->sq = iova_to_va(fpgactl_queue_sq_iova(q));
	dm->cq = iova_to_va(fpgactl_queue_cq_iova(q));
	dm->depth = fpgactl_queue_depth(q);
	dm->qid = qid;
	dm->sq_db = DB_OFFSET + 2u * qid * stride;
	dm->cq_db = dm->sq_db + stride;
	dm->phase = 1;
	/* A queue being enabled starts with both doorbells at 0 (BAR0 keeps
	 * what an earlier queue of the same test left there). */
	fpgactl_mmio_write32(dm->bar, dm->sq_db, 0);
	fpgactl_mmio_write32(dm->bar, dm->cq_db, 0);
}

/* The device's queue was disabled and enabled again, along with a reset of
 * the host's queue. */
static void dm_reset(struct dev_model *dm)
{
	dm->sq_head = dm->cq_tail = dm->cq_written = 0;
	dm->nr_fetched = 0;
	dm->phase = 1;
	fpgactl_mmio_write32(dm->bar, dm->sq_db, 0);
	fpgactl_mmio_write32(dm->bar, dm->cq_db, 0);
}

static uint32_t sq_doorbell(const struct dev_model *dm)
{
	return fpgactl_mmio_read32(dm->bar, dm->sq_db);
}

static uint32_t cq_doorbell(const struct dev_model *dm)
{
	return fpgactl_mmio_read32(dm->bar, dm->cq_db);
}

/* Fetch every entry up to the SQ tail doorbell. */
static unsigned int dm_fetch(struct dev_model *dm)
{
	uint32_t tail = sq_doorbell(dm);
	unsigned int n = 0;

	assert_true(tail < dm->depth);
	while (dm->sq_head != tail) {
		dm->last_sqe = dm->sq[dm->sq_head];
		assert_true(dm->nr_fetched < 2 * MAX_DEPTH);
		dm->fetched[dm->nr_fetched++] = dm->last_sqe.cid;
		dm->sq_head = (dm->sq_head + 1) % dm->depth;
		n++;
	}
	return n;
}

/* Entries the host has not released yet, by its CQ head doorbell. */
static uint32_t dm_cq_used(const struct dev_model *dm)
{
	return (dm->cq_tail + dm->depth - cq_doorbell(dm)) % dm->depth;
}

/* Entries the device may still write: the CQ never fills completely. */
static uint32_t dm_cq_room(const struct dev_model *dm)
{
	return dm->depth - 1 - dm_cq_used(dm);
}

/*
 * Write one CQE as the soft-core does: the fields, then the status with the
 * phase tag last.  @phase_flip writes the wrong phase (a stale entry).
 */
static void dm_post_raw(struct dev_model *dm, uint16_t cid, uint16_t sq_head,
			uint16_t status, uint32_t result, bool phase_flip)
{
	struct fpgactl_cqe *e = &dm->cq[dm->cq_tail];
	uint16_t phase = phase_flip ? !dm->phase : dm->phase;

	assert_true(dm_cq_room(dm) > 0);	/* flow control */
	e->result = result;
	e->rsvd = 0;
	e->sq_head = sq_head;
	e->sq_id = dm->qid;
	e->cid = cid;
	__atomic_store_n(&e->status, (uint16_t)((status << 1) | phase),
			 __ATOMIC_RELEASE);
	if (phase_flip)
		return;		/* the host will not consume it */
	dm->cq_written++;
	if (++dm->cq_tail == dm->depth) {
		dm->cq_tail = 0;
		dm->phase ^= 1;
	}
}

static void dm_post(struct dev_model *dm, uint16_t cid, uint16_t status,
		    uint32_t result)
{
	dm_post_raw(dm, cid, (uint16_t)dm->sq_head, status, result, false);
}

/* Complete the @i-th fetched command (and forget it). */
static uint16_t dm_complete_nth(struct dev_model *dm, uint32_t i, uint16_t status,
				uint32_t result)
{
	uint16_t cid = dm->fetched[i];

	assert_true(i < dm->nr_fetched);
	memmove(&dm->fetched[i], &dm->fetched[i + 1],
		(dm->nr_fetched - i - 1) * sizeof(dm->fetched[0]));
	dm->nr_fetched--;
	dm_post(dm, cid, status, result);
	return cid;
}

/* Complete everything fetched, in order, result = cid. */
static unsigned int dm_complete_all(struct dev_model *dm)
{
	unsigned int n = 0;

	while (dm->nr_fetched) {
		dm_complete_nth(dm, 0, 0, dm->fetched[0]);
		n++;
	}
	return n;
}

static struct fpgactl_queue_stats stats(const struct fpgactl_queue *q)
{
	struct fpgactl_queue_stats s;

	fpgactl_queue_get_stats(q, &s);
	return s;
}

/* Reserve an entry for @ctx and return its command id. */
static uint16_t reserve(struct fpgactl_queue *q, void *ctx, uint64_t timeout_ns)
{
	struct fpgactl_sqe *sqe = fpgactl_queue_get_sqe(q, ctx, timeout_ns);

	assert_non_null(sqe);
	sqe->opc = 0x01;
	return sqe->cid;
}

#define CTX(i) ((void *)(uintptr_t)(0x1000 + (i)))
#define CTX_ID(p) ((unsigned int)((uintptr_t)(p) - 0x1000))

/* ---- set-up --------------------------------------------------------------------- */

static void test_create_validation(void **state)
{
	static const struct {
		uint32_t depth, stride, bar;
		uint64_t offset;
		uint16_t qid;
		int err;
	} bad[] = {
		{ 0, 4, 0, DB_OFFSET, 0, -EINVAL },
		{ 1, 4, 0, DB_OFFSET, 0, -EINVAL },
		{ 3, 4, 0, DB_OFFSET, 0, -EINVAL },
		{ 96, 4, 0, DB_OFFSET, 0, -EINVAL },
		{ 8192, 4, 0, DB_OFFSET, 0, -EINVAL },
		{ 16, 0, 0, DB_OFFSET, 0, -EINVAL },
		{ 16, 2, 0, DB_OFFSET, 0, -EINVAL },
		{ 16, 6, 0, DB_OFFSET, 0, -EINVAL },
		{ 16, 4, 0, DB_OFFSET + 2, 0, -EINVAL },
		/* CQ doorbell at 0x1000 + 0x3c01 * 4 = 0x10004: past 64 KiB. */
		{ 16, 4, 0, DB_OFFSET, 0x1e00, -EINVAL },
		{ 16, 4, 0, 0x10000, 0, -EINVAL },
		{ 16, 4, 0, UINT64_MAX - 3, 0, -EINVAL },
		{ 16, 0x80000000u, 0, DB_OFFSET, 0, -EINVAL },
		{ 16, 4, 1, DB_OFFSET, 0, -EINVAL },	/* no BAR1 */
		{ 16, 4, 6, DB_OFFSET, 0, -EINVAL },
	};
	struct fpgactl_device *dev = open_dev();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fpgactl_queue_cfg cfg = {
			.qid = bad[i].qid, .depth = bad[i].depth, .bar = bad[i].bar,
			.db_offset = bad[i].offset, .db_stride = bad[i].stride,
		};
		int err = 0;

		assert_null(fpgactl_queue_create(dev, &cfg, &err));
		assert_int_equal(err, bad[i].err);
	}
	assert_true(log_has("power of two"));
	assert_true(log_has("outside BAR0"));
	assert_int_equal(mock_mappings(NULL, 0), 0);
	/* The last doorbell that fits: CQ head of qid 0x1dff at 0xfffc. */
	fpgactl_queue_destroy(create(dev, 0x1dff, 16, 4));
	fpgactl_queue_destroy(NULL);
	fpgactl_device_close(dev);
}

static void test_create_unmapped_bar(void **state)
{
	struct fake_dev_desc d;
	struct fpgactl_queue_cfg cfg = {
		.depth = 16, .bar = 2, .db_offset = DB_OFFSET, .db_stride = 4 };
	struct fpgactl_device *dev;
	int err = 0;

	fake_dev_default(&d, BDF);
	d.group = 5;
	d.driver = "vfio-pci";
	d.cdev_index = -1;
	d.regions[2] = (struct fake_region){
		.size = 0x10000, .flags = FAKE_REGION_R | FAKE_REGION_W };
	assert_int_equal(faketree_add_device(tree, &d), 0);
	dev = fpgactl_device_open(BDF, NULL, &err);
	assert_non_null(dev);
	assert_null(fpgactl_queue_create(dev, &cfg, &err));
	assert_int_equal(err, -ENOTSUP);
	fpgactl_device_close(dev);
}

static void test_create_layout(void **state)
{
	static const uint32_t depths[] = { 2, 4, 64, 1024, 4096 };
	struct fpgactl_device *dev = open_dev();

	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		struct fpgactl_queue *q = create(dev, 0, depths[i], 4);
		uint64_t sq = fpgactl_queue_sq_iova(q), cq = fpgactl_queue_cq_iova(q);
		struct mock_dma_mapping m[4];
		const uint8_t *p;

		assert_int_equal(fpgactl_queue_depth(q), depths[i]);
		assert_int_equal(sq % 4096, 0);
		assert_int_equal(cq % 4096, 0);
		assert_true(cq >= sq + depths[i] * 64);
		/* One mapping holds both rings, zeroed. */
		assert_int_equal(mock_mappings(m, 4), 1);
		assert_int_equal(m[0].iova, sq);
		assert_true(cq + depths[i] * 16 <= m[0].iova + m[0].size);
		p = iova_to_va(sq);
		for (size_t j = 0; j < cq - sq + depths[i] * 16; j++)
			assert_int_equal(p[j], 0);
		assert_int_equal(fpgactl_queue_in_flight(q), 0);
#ifndef FPGACTL_NO_INLINE
		/* The inline reap wraps at cq_end: one past the CQ's last
		 * entry, set wherever the rings are placed. */
		{
			const struct fpgactl_queue_ring *r = fpgactl_queue__ring(q);

			assert_ptr_equal(r->cq_end, r->cq + depths[i]);
			assert_ptr_equal(r->cq, iova_to_va(cq));
		}
#endif
		fpgactl_queue_destroy(q);
		assert_int_equal(mock_mappings(NULL, 0), 0);
	}
	fpgactl_device_close(dev);
}

/* ---- rings in a caller's buffer (fpgactl_queue_create_in) ------------------------ */

static const struct fpgactl_dma_opts small_pages = {
	.page_size = FPGACTL_PAGE_4K,
	.flags = FPGACTL_DMA_ALLOW_SMALL_PAGES,
};

static struct fpgactl_dma_buf *alloc_buf(struct fpgactl_device *dev, size_t size)
{
	int err = 0;
	struct fpgactl_dma_buf *b = fpgactl_dma_alloc(dev, size, &small_pages, &err);

	if (!b)
		print_message("dma_alloc: %d\n%s", err, fixture_log());
	assert_non_null(b);
	return b;
}

static struct fpgactl_queue *create_in(struct fpgactl_device *dev, uint16_t qid,
				       uint32_t depth, struct fpgactl_dma_buf *buf,
				       size_t offset, int *err)
{
	struct fpgactl_queue_cfg cfg = {
		.qid = qid, .depth = depth, .bar = 0,
		.db_offset = DB_OFFSET, .db_stride = 4,
	};

	*err = 0;
	return fpgactl_queue_create_in(dev, &cfg, buf, offset, err);
}

static void test_ring_size(void **state)
{
	static const uint32_t bad[] = { 0, 1, 3, 96, 8192, UINT32_MAX };

	/* SQ (depth * 64) rounded up to 4 KiB, then the CQ (depth * 16). */
	assert_int_equal(fpgactl_queue_ring_size(2), 4096 + 32);
	assert_int_equal(fpgactl_queue_ring_size(64), 4096 + 1024);
	assert_int_equal(fpgactl_queue_ring_size(128), 8192 + 2048);
	assert_int_equal(fpgactl_queue_ring_size(4096), 262144 + 65536);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(fpgactl_queue_ring_size(bad[i]), 0);
}

/*
 * Two queue pairs in one buffer, at the slices the caller chose: each ring
 * where fpgactl_queue_ring_size() says, the slices zeroed and nothing
 * around them touched, both queues driven, and the buffer still mapped
 * (and the caller's) after the queues are gone.
 */
static void test_create_in(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_dma_buf *buf = alloc_buf(dev, 0x10000);
	size_t off[2] = { 0x2000, 0x2000 + 0x3000 };
	struct fpgactl_queue *q[2];
	struct dev_model dm[2];
	struct fpgactl_completion c[4];
	const uint8_t *p = buf->vaddr;
	size_t size = fpgactl_queue_ring_size(16);
	int err;

	memset(buf->vaddr, 0xa5, buf->size);
	for (int i = 0; i < 2; i++) {
		q[i] = create_in(dev, (uint16_t)(i + 1), 16, buf, off[i], &err);
		if (!q[i])
			print_message("create_in: %d\n%s", err, fixture_log());
		assert_non_null(q[i]);
		assert_int_equal(fpgactl_queue_sq_iova(q[i]), buf->iova + off[i]);
		assert_int_equal(fpgactl_queue_cq_iova(q[i]), buf->iova + off[i] + 4096);
		assert_int_equal(fpgactl_queue_depth(q[i]), 16);
	}
	/* No DMA allocation of the queues' own: the one mapping is the buffer. */
	assert_int_equal(mock_mappings(NULL, 0), 1);
	for (size_t j = 0; j < buf->size; j++) {
		bool in = (j >= off[0] && j < off[0] + size) ||
			  (j >= off[1] && j < off[1] + size);

		assert_int_equal(p[j], in ? 0 : 0xa5);
	}
	for (int i = 0; i < 2; i++) {
		dm_init(&dm[i], dev, q[i], (uint16_t)(i + 1), 4);
		assert_ptr_equal(dm[i].sq, p + off[i]);
	}
	for (int r = 0; r < 20; r++) {	/* past a wrap of both rings */
		for (int i = 0; i < 2; i++) {
			reserve(q[i], CTX(10 * i + r % 10), 0);
			assert_int_equal(fpgactl_queue_submit(q[i]), 1);
			assert_int_equal(dm_fetch(&dm[i]), 1);
			dm_complete_all(&dm[i]);
		}
		for (int i = 0; i < 2; i++) {
			assert_int_equal(fpgactl_queue_reap(q[i], c, 4), 1);
			assert_ptr_equal(c[0].ctx, CTX(10 * i + r % 10));
			assert_int_equal(c[0].error, 0);
		}
	}
	assert_int_equal(stats(q[0]).bad_completions + stats(q[1]).bad_completions, 0);
	/* A reset zeroes the queue's own slice, nothing else of the buffer. */
	memset(buf->vaddr, 0xa5, off[1]);
	memset((uint8_t *)buf->vaddr + off[1] + size, 0xa5, buf->size - off[1] - size);
	fpgactl_queue_reset(q[1]);
	for (size_t j = 0; j < buf->size; j++)
		assert_int_equal(p[j], j >= off[1] && j < off[1] + size ? 0 : 0xa5);
	fpgactl_queue_destroy(q[0]);
	fpgactl_queue_destroy(q[1]);
	assert_int_equal(mock_mappings(NULL, 0), 1);
	assert_int_equal(p[0], 0xa5);	/* still the caller's, still mapped */
	fpgactl_dma_free(buf);
	assert_int_equal(mock_mappings(NULL, 0), 0);
	fpgactl_device_close(dev);
}

/* The last slice that fits, and a buffer of another device of the same
 * IOMMU context (the device reaches it at the same IOVA). */
static void test_create_in_bounds_ok(void **state)
{
	struct fpgactl_iommu *ctx;
	struct fpgactl_open_opts o = { .backend = FPGACTL_IOMMU_LEGACY };
	struct fpgactl_device *dev, *peer;
	struct fpgactl_dma_buf *buf;
	struct fpgactl_queue *q;
	int err = 0;

	ctx = fpgactl_iommu_open(FPGACTL_IOMMU_LEGACY, &err);
	assert_non_null(ctx);
	o.iommu = ctx;
	add_ready_device(BDF, 5, -1);
	add_ready_device("0000:04:00.0", 6, -1);
	dev = fpgactl_device_open(BDF, &o, &err);
	assert_non_null(dev);
	peer = fpgactl_device_open("0000:04:00.0", &o, &err);
	assert_non_null(peer);
	buf = alloc_buf(peer, 0x8000);
	/* 256 entries: 0x4000 + 0x1000 bytes, ending at the buffer's end. */
	assert_int_equal(fpgactl_queue_ring_size(256), 0x5000);
	q = create_in(dev, 0, 256, buf, buf->size - 0x5000, &err);
	if (!q)
		print_message("create_in: %d\n%s", err, fixture_log());
	assert_non_null(q);
	assert_int_equal(fpgactl_queue_cq_iova(q) + 256 * 16, buf->iova + buf->size);
	fpgactl_queue_destroy(q);
	/* One page later, it does not fit. */
	assert_null(create_in(dev, 0, 256, buf, buf->size - 0x4000, &err));
	assert_int_equal(err, -EINVAL);
	fpgactl_dma_free(buf);
	fpgactl_device_close(peer);
	fpgactl_device_close(dev);
	fpgactl_iommu_close(ctx);
}

/* Each refusal: its errno, its one message, and nothing created. */
static void test_create_in_refused(void **state)
{
	struct fpgactl_device *dev = open_dev(), *other;
	struct fpgactl_dma_buf *buf = alloc_buf(dev, 0x8000), *obuf;
	struct fpgactl_queue_cfg cfg = {
		.qid = 0, .depth = 16, .bar = 0, .db_offset = DB_OFFSET, .db_stride = 4 };
	const struct {
		size_t offset;
		uint32_t depth;
		const char *log;
	} bad[] = {
		{ 1, 16, "are not 4096-byte aligned" },
		{ 0x800, 16, "are not 4096-byte aligned" },
		{ SIZE_MAX, 16, "are not 4096-byte aligned" },
		/* Starts past the end. */
		{ 0x9000, 16, "past the end of the 0x8000-byte buffer" },
		/* Starts inside, ends past the end: 0x1000 + 0x100 from 0x7000. */
		{ 0x7000, 16, "past the end of the 0x8000-byte buffer" },
		/* 4096 entries need 0x50000 bytes. */
		{ 0, 4096, "past the end of the 0x8000-byte buffer" },
		/* offset + size would wrap around: caught without computing it. */
		{ SIZE_MAX & ~(size_t)0xfff, 16, "past the end of the 0x8000-byte buffer" },
		{ (SIZE_MAX & ~(size_t)0xfff) - 0x8000, 4096,
		  "past the end of the 0x8000-byte buffer" },
		{ 0, 3, "power of two" },
	};
	int err = 0;

	add_ready_device("0000:04:00.0", 6, -1);
	other = fpgactl_device_open("0000:04:00.0", NULL, &err);
	assert_non_null(other);
	obuf = alloc_buf(other, 0x8000);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fixture_log_clear();
		err = 0;
		cfg.depth = bad[i].depth;
		assert_null(fpgactl_queue_create_in(dev, &cfg, buf, bad[i].offset, &err));
		assert_int_equal(err, -EINVAL);
		if (!log_has(bad[i].log))
			fail_msg("case %zu: no \"%s\" in\n%s", i, bad[i].log, fixture_log());
	}
	cfg.depth = 16;
	fixture_log_clear();
	assert_null(fpgactl_queue_create_in(dev, &cfg, NULL, 0, &err));
	assert_int_equal(err, -EINVAL);
	assert_true(log_has("no buffer for the rings"));
	fixture_log_clear();
	err = 0;
	assert_null(fpgactl_queue_create_in(dev, &cfg, obuf, 0, &err));
	assert_int_equal(err, -EINVAL);
	assert_true(log_has("mapped in another IOMMU context"));
	/* The doorbells are checked as for fpgactl_queue_create(). */
	cfg.qid = 0x1e00;
	err = 0;
	assert_null(fpgactl_queue_create_in(dev, &cfg, buf, 0, &err));
	assert_int_equal(err, -EINVAL);
	assert_true(log_has("outside BAR0"));
	/* err may be NULL. */
	assert_null(fpgactl_queue_create_in(dev, &cfg, buf, 0, NULL));
	/* Nothing was mapped or written: the two buffers are all there is. */
	assert_int_equal(mock_mappings(NULL, 0), 2);
	fpgactl_dma_free(obuf);
	fpgactl_dma_free(buf);
	fpgactl_device_close(other);
	fpgactl_device_close(dev);
}

/* ---- the data path ----------------------------------------------------------------- */

static void test_round_trip(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 16, 4);
	struct fpgactl_completion c[4];
	struct fpgactl_queue_stats s;
	struct fpgactl_sqe *sqe;
	struct dev_model dm;
	uint32_t db;
	int ctx;

	dm_init(&dm, dev, q, 0, 4);
	sqe = fpgactl_queue_get_sqe(q, &ctx, 0);
	assert_non_null(sqe);
	assert_ptr_equal(sqe, dm.sq);		/* zero-copy: the ring slot */
	assert_int_equal(sqe->cid, 0);
	sqe->opc = 0x03;
	sqe->addr0 = 0x123456789000ull;
	sqe->cdw10 = 4096;
	assert_int_equal(fpgactl_queue_in_flight(q), 1);
	/* Nothing is visible to the device before submit. */
	assert_int_equal(sq_doorbell(&dm), 0);
	assert_int_equal(fpgactl_queue_submit(q), 1);
	/* The doorbell write landed in the device's memory. */
	assert_int_equal(faketree_read_region(tree, BDF, 0, DB_OFFSET, &db, 4), 0);
	assert_int_equal(db, 1);
	assert_int_equal(dm_fetch(&dm), 1);
	assert_int_equal(dm.last_sqe.opc, 0x03);
	assert_int_equal(dm.last_sqe.addr0, 0x123456789000ull);
	assert_int_equal(dm.last_sqe.cdw10, 4096);
	assert_int_equal(dm.last_sqe.nsid, 0);
	/* Not completed yet. */
	assert_int_equal(fpgactl_queue_reap(q, c, 4), 0);
	assert_int_equal(stats(q).cq_doorbells, 0);
	dm_complete_nth(&dm, 0, 0x02, 0xcafef00d);
	assert_int_equal(fpgactl_queue_reap(q, c, 4), 1);
	assert_ptr_equal(c[0].ctx, &ctx);
	assert_int_equal(c[0].result, 0xcafef00d);
	assert_int_equal(c[0].status, 0x02);
	assert_int_equal(c[0].error, 0);
	assert_int_equal(cq_doorbell(&dm), 1);
	assert_int_equal(faketree_read_region(tree, BDF, 0, DB_OFFSET + 4, &db, 4), 0);
	assert_int_equal(db, 1);
	assert_int_equal(fpgactl_queue_in_flight(q), 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 4), 0);
	s = stats(q);
	assert_int_equal(s.submitted, 1);
	assert_int_equal(s.completed, 1);
	assert_int_equal(s.sq_doorbells, 1);
	assert_int_equal(s.cq_doorbells, 1);
	assert_int_equal(s.bad_completions, 0);
	/* Submitting nothing rings nothing. */
	assert_int_equal(fpgactl_queue_submit(q), 0);
	assert_int_equal(stats(q).sq_doorbells, 1);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/* Queue 1 with an 8-byte stride: its doorbells, and only those. */
static void test_doorbell_placement(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 1, 8, 8);
	struct fpgactl_completion c[4];
	struct dev_model dm;
	uint32_t regs[8];

	dm_init(&dm, dev, q, 1, 8);
	assert_int_equal(dm.sq_db, 0x1010);
	assert_int_equal(dm.cq_db, 0x1018);
	reserve(q, CTX(0), 0);
	reserve(q, CTX(1), 0);
	fpgactl_queue_submit(q);
	dm_fetch(&dm);
	dm_complete_all(&dm);
	assert_int_equal(fpgactl_queue_reap(q, c, 4), 2);
	assert_int_equal(faketree_read_region(tree, BDF, 0, DB_OFFSET, regs,
					      sizeof(regs)), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(regs[i], i == 4 || i == 6 ? 2 : 0);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

static void test_batch_one_doorbell(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 64, 4);
	struct fpgactl_completion c[64];
	struct fpgactl_queue_stats s;
	struct dev_model dm;
	bool seen[32] = { false };

	dm_init(&dm, dev, q, 0, 4);
	for (int i = 0; i < 32; i++)
		assert_int_equal(reserve(q, CTX(i), 0), i);
	assert_int_equal(sq_doorbell(&dm), 0);
	assert_int_equal(fpgactl_queue_submit(q), 32);
	s = stats(q);
	assert_int_equal(s.sq_doorbells, 1);
	assert_int_equal(s.submitted, 32);
	assert_int_equal(sq_doorbell(&dm), 32);
	assert_int_equal(dm_fetch(&dm), 32);
	assert_int_equal(dm_complete_all(&dm), 32);
	assert_int_equal(fpgactl_queue_reap(q, c, 64), 32);
	for (int i = 0; i < 32; i++) {
		assert_int_equal(c[i].error, 0);
		assert_false(seen[CTX_ID(c[i].ctx)]);
		seen[CTX_ID(c[i].ctx)] = true;
		assert_int_equal(c[i].result, CTX_ID(c[i].ctx));	/* result = cid */
	}
	/* The head doorbell once, for all 32. */
	assert_int_equal(stats(q).cq_doorbells, 1);
	assert_int_equal(cq_doorbell(&dm), 32);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/* A reap smaller than what is waiting: one doorbell per reap, at the right
 * head each time. */
static void test_reap_partial(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 16, 4);
	struct fpgactl_completion c[16];
	struct dev_model dm;

	dm_init(&dm, dev, q, 0, 4);
	for (int i = 0; i < 5; i++)
		reserve(q, CTX(i), 0);
	fpgactl_queue_submit(q);
	dm_fetch(&dm);
	dm_complete_all(&dm);
	assert_int_equal(fpgactl_queue_reap(q, c, 0), 0);
	assert_int_equal(stats(q).cq_doorbells, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 3), 3);
	assert_int_equal(stats(q).cq_doorbells, 1);
	assert_int_equal(cq_doorbell(&dm), 3);
	for (int i = 0; i < 3; i++)
		assert_ptr_equal(c[i].ctx, CTX(i));
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 2);
	assert_ptr_equal(c[0].ctx, CTX(3));
	assert_ptr_equal(c[1].ctx, CTX(4));
	assert_int_equal(stats(q).cq_doorbells, 2);
	assert_int_equal(cq_doorbell(&dm), 5);
	/* Nothing new: no doorbell. */
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 0);
	assert_int_equal(stats(q).cq_doorbells, 2);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/* Many passes over small rings: the phase flips every pass. */
static void test_wrap_around(void **state)
{
	static const uint32_t depths[] = { 2, 4, 8 };
	struct fpgactl_device *dev = open_dev();

	for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
		uint32_t depth = depths[d];
		struct fpgactl_queue *q = create(dev, 0, depth, 4);
		struct fpgactl_completion c[8];
		struct fpgactl_queue_stats s;
		struct dev_model dm;
		unsigned int next_ctx = 0, next_done = 0, rounds = 1000, reaps = 0;

		dm_init(&dm, dev, q, 0, 4);
		for (unsigned int r = 0; r < rounds; r++) {
			unsigned int batch = 1 + r % (depth - 1), n;

			for (unsigned int i = 0; i < batch; i++)
				reserve(q, CTX(next_ctx++), 0);
			if (batch == depth - 1)
				assert_null(fpgactl_queue_get_sqe(q, NULL, 0));
			assert_int_equal(fpgactl_queue_submit(q), batch);
			assert_int_equal(sq_doorbell(&dm), next_ctx % depth);
			assert_int_equal(dm_fetch(&dm), batch);
			dm_complete_all(&dm);
			n = fpgactl_queue_reap(q, c, 8);
			reaps++;
			assert_int_equal(n, batch);
			for (unsigned int i = 0; i < n; i++) {
				assert_int_equal(c[i].error, 0);
				assert_ptr_equal(c[i].ctx, CTX(next_done++));
			}
			assert_int_equal(cq_doorbell(&dm), dm.cq_tail);
			assert_int_equal(fpgactl_queue_in_flight(q), 0);
		}
		s = stats(q);
		assert_int_equal(s.submitted, next_ctx);
		assert_int_equal(s.completed, next_ctx);
		assert_int_equal(s.sq_doorbells, rounds);
		assert_int_equal(s.cq_doorbells, reaps);
		assert_int_equal(s.bad_completions, 0);
		assert_true(next_ctx > 100 * depth);	/* many passes, many flips */
		fpgactl_queue_destroy(q);
	}
	fpgactl_device_close(dev);
}

static void test_ring_full(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 8, 4);
	struct fpgactl_completion c[8];
	struct dev_model dm;

	dm_init(&dm, dev, q, 0, 4);
	for (int i = 0; i < 7; i++)
		reserve(q, CTX(i), 0);
	/* depth - 1 entries: the ring is full, reserved or not. */
	assert_null(fpgactl_queue_get_sqe(q, CTX(99), 0));
	assert_int_equal(fpgactl_queue_in_flight(q), 7);
	fpgactl_queue_submit(q);
	assert_null(fpgactl_queue_get_sqe(q, CTX(99), 0));
	/* The device fetches all 7 and completes one: the SQ is empty, but
	 * 6 commands are still in flight, so one more fits, not 7. */
	dm_fetch(&dm);
	dm_complete_nth(&dm, 0, 0, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 1);
	reserve(q, CTX(7), 0);
	assert_null(fpgactl_queue_get_sqe(q, CTX(99), 0));
	assert_int_equal(fpgactl_queue_in_flight(q), 7);
	fpgactl_queue_submit(q);
	dm_fetch(&dm);
	dm_complete_all(&dm);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 7);
	assert_int_equal(fpgactl_queue_in_flight(q), 0);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/* The SQ fills up when the device does not fetch: its head comes only from
 * completions. */
static void test_sq_flow_control(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 4, 4);
	struct fpgactl_completion c[4];
	struct dev_model dm;
	uint16_t cid;

	dm_init(&dm, dev, q, 0, 4);
	for (int i = 0; i < 3; i++)
		reserve(q, CTX(i), 0);
	fpgactl_queue_submit(q);
	/* The device fetched only one entry and completes it. */
	cid = dm.sq[0].cid;
	dm.sq_head = 1;
	dm_post(&dm, cid, 0, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 4), 1);
	assert_ptr_equal(c[0].ctx, CTX(0));
	/* One slot free in the SQ. */
	reserve(q, CTX(3), 0);
	assert_null(fpgactl_queue_get_sqe(q, NULL, 0));
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

static void test_out_of_order(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 16, 4);
	struct fpgactl_completion c[16];
	struct dev_model dm;
	static const int order[] = { 5, 0, 7, 3, 1, 6, 2, 4 };	/* of fetched[] */
	uint16_t cids[8];

	dm_init(&dm, dev, q, 0, 4);
	for (int i = 0; i < 8; i++)
		cids[i] = reserve(q, CTX(i), 0);
	fpgactl_queue_submit(q);
	dm_fetch(&dm);
	for (int i = 0; i < 8; i++)
		dm_post(&dm, cids[order[i]], (uint16_t)order[i], 100u + order[i]);
	dm.nr_fetched = 0;
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 8);
	for (int i = 0; i < 8; i++) {
		assert_ptr_equal(c[i].ctx, CTX(order[i]));
		assert_int_equal(c[i].status, order[i]);
		assert_int_equal(c[i].result, 100u + order[i]);
	}
	assert_int_equal(fpgactl_queue_in_flight(q), 0);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/* The zeroed ring, and entries of the previous pass, are not new. */
static void test_stale_phase(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 4, 4);
	struct fpgactl_completion c[4];
	struct dev_model dm;
	uint16_t cid;

	dm_init(&dm, dev, q, 0, 4);
	/* Phase 0 in a slot on the first pass: stale. */
	cid = reserve(q, CTX(0), 0);
	fpgactl_queue_submit(q);
	dm_fetch(&dm);
	dm_post_raw(&dm, cid, 1, 0, 0, true);
	assert_int_equal(fpgactl_queue_reap(q, c, 4), 0);
	assert_int_equal(stats(q).cq_doorbells, 0);
	assert_int_equal(fpgactl_queue_in_flight(q), 1);
	dm_complete_all(&dm);
	assert_int_equal(fpgactl_queue_reap(q, c, 4), 1);
	/* Fill the ring once: every slot now holds a phase-1 entry. */
	for (int i = 1; i < 4; i++) {
		reserve(q, CTX(i), 0);
		fpgactl_queue_submit(q);
		dm_fetch(&dm);
		dm_complete_all(&dm);
		assert_int_equal(fpgactl_queue_reap(q, c, 4), 1);
		assert_ptr_equal(c[0].ctx, CTX(i));
	}
	assert_int_equal(dm.phase, 0);
	/* Second pass expects phase 0: the old entries are not consumed. */
	reserve(q, CTX(4), 0);
	fpgactl_queue_submit(q);
	dm_fetch(&dm);
	assert_int_equal(fpgactl_queue_reap(q, c, 4), 0);
	assert_int_equal(stats(q).cq_doorbells, 4);
	dm_complete_all(&dm);
	assert_int_equal(fpgactl_queue_reap(q, c, 4), 1);
	assert_ptr_equal(c[0].ctx, CTX(4));
	assert_int_equal(cq_doorbell(&dm), 1);
	assert_int_equal(stats(q).completed, 5);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/* ---- invalid completions ------------------------------------------------------------ */

/* Check one reap's output: exactly the @nr_ok contexts in @ok (any order,
 * each once) and @nr_bad -EPROTO entries with no context. */
static void expect_reaped(const struct fpgactl_completion *c, unsigned int n,
			  void *const *ok, unsigned int nr_ok, unsigned int nr_bad)
{
	unsigned int bad = 0;
	bool seen[64] = { false };

	assert_int_equal(n, nr_ok + nr_bad);
	for (unsigned int i = 0; i < n; i++) {
		unsigned int j;

		if (c[i].error == -EPROTO) {
			assert_null(c[i].ctx);
			bad++;
			continue;
		}
		assert_int_equal(c[i].error, 0);
		for (j = 0; j < nr_ok && ok[j] != c[i].ctx; j++)
			;
		assert_true(j < nr_ok);
		assert_false(seen[j]);
		seen[j] = true;
	}
	assert_int_equal(bad, nr_bad);
}

static void test_bad_cid(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 16, 4);
	struct fpgactl_completion c[16];
	struct dev_model dm;
	void *ok[4] = { CTX(0), CTX(1), CTX(2), CTX(3) };
	uint16_t cids[4];

	dm_init(&dm, dev, q, 0, 4);
	for (int i = 0; i < 4; i++)
		cids[i] = reserve(q, ok[i], 0);
	fpgactl_queue_submit(q);
	dm_fetch(&dm);
	/* Out of range: 2 * depth and beyond. */
	dm_post(&dm, 32, 0, 0);
	dm_post(&dm, cids[0], 0, 0);
	dm_post(&dm, 0xfffe, 0, 0);
	dm_post(&dm, cids[1], 0, 0);
	/* In range but not in flight: never handed out. */
	dm_post(&dm, 31, 0, 0);
	dm_post(&dm, 4, 0, 0);
	dm_post(&dm, cids[2], 0, 0);
	dm_post(&dm, cids[3], 0, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 8);
	expect_reaped(c, 8, ok, 4, 4);
	assert_int_equal(stats(q).bad_completions, 4);
	assert_int_equal(stats(q).completed, 4);
	assert_int_equal(stats(q).cq_doorbells, 1);
	assert_int_equal(cq_doorbell(&dm), 8);
	assert_true(log_has("command id out of range"));
	assert_true(log_has("command id not in flight"));
	assert_int_equal(fpgactl_queue_in_flight(q), 0);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/*
 * A completion for an id the host has reserved (fpgactl_queue_get_sqe())
 * but not yet submitted: the device cannot have fetched it, so it is
 * discarded, and the command goes on to complete normally once submitted.
 */
static void test_unsubmitted_cid(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 16, 4);
	struct fpgactl_completion c[16];
	struct dev_model dm;
	void *ok[3] = { CTX(0), CTX(1), CTX(2) };
	uint16_t reserved;

	dm_init(&dm, dev, q, 0, 4);
	reserve(q, ok[0], 0);
	reserve(q, ok[1], 0);
	fpgactl_queue_submit(q);
	reserved = reserve(q, ok[2], 0);
	assert_int_equal(dm_fetch(&dm), 2);
	dm_post(&dm, reserved, 0, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 1);
	expect_reaped(c, 1, ok, 0, 1);
	assert_true(log_has("command id not submitted yet"));
	assert_int_equal(fpgactl_queue_in_flight(q), 3);

	fpgactl_queue_submit(q);
	assert_int_equal(dm_fetch(&dm), 1);
	for (int i = 0; i < 3; i++)
		dm_complete_nth(&dm, 0, 0, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 3);
	expect_reaped(c, 3, ok, 3, 0);
	assert_int_equal(stats(q).bad_completions, 1);
	assert_int_equal(stats(q).completed, 3);
	assert_int_equal(fpgactl_queue_in_flight(q), 0);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/* A completion that names another submission queue is not this queue's. */
static void test_foreign_sq_id(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 1, 16, 4);
	struct fpgactl_completion c[16];
	struct dev_model dm;
	void *ok[1] = { CTX(0) };
	uint16_t cid;

	dm_init(&dm, dev, q, 1, 4);
	cid = reserve(q, ok[0], 0);
	fpgactl_queue_submit(q);
	assert_int_equal(dm_fetch(&dm), 1);
	dm.qid = 0;
	dm_post(&dm, cid, 0, 0);
	dm.qid = 1;
	dm_post(&dm, cid, 0, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 2);
	expect_reaped(c, 2, ok, 1, 1);
	assert_true(log_has("SQ id is not this queue's (cid 0, SQ id 0,"));
	assert_int_equal(stats(q).bad_completions, 1);
	assert_int_equal(fpgactl_queue_in_flight(q), 0);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

static void test_duplicate_completion(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 16, 4);
	struct fpgactl_completion c[16];
	struct dev_model dm;
	void *ok[3] = { CTX(0), CTX(1), CTX(2) };
	uint16_t cids[3];

	dm_init(&dm, dev, q, 0, 4);
	for (int i = 0; i < 3; i++)
		cids[i] = reserve(q, ok[i], 0);
	fpgactl_queue_submit(q);
	dm_fetch(&dm);
	/* Within one reap, and across reaps. */
	dm_post(&dm, cids[0], 0, 0);
	dm_post(&dm, cids[0], 0, 0);
	dm_post(&dm, cids[1], 0, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 3);
	expect_reaped(c, 3, ok, 2, 1);
	/* The freed ids are not handed out again soon: a new command gets
	 * a fresh id, so the duplicates below cannot complete it. */
	assert_int_equal(reserve(q, CTX(3), 0), 3);
	fpgactl_queue_submit(q);
	dm_fetch(&dm);
	dm_post(&dm, cids[1], 0, 0);
	dm_post(&dm, cids[0], 0, 0);
	dm_post(&dm, cids[2], 0, 0);
	dm_post(&dm, cids[2], 0, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 4);
	expect_reaped(c, 4, &ok[2], 1, 3);
	assert_int_equal(stats(q).bad_completions, 4);
	assert_int_equal(stats(q).completed, 3);
	assert_int_equal(fpgactl_queue_in_flight(q), 1);	/* CTX(3) */
	dm_post(&dm, 3, 0, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 1);
	assert_ptr_equal(c[0].ctx, CTX(3));
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

static void test_bad_sq_head(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 16, 4);
	struct fpgactl_completion c[16];
	struct dev_model dm;
	uint16_t cids[6];

	dm_init(&dm, dev, q, 0, 4);
	/* Submit 4; 2 stay reserved (not visible to the device). */
	for (int i = 0; i < 6; i++) {
		cids[i] = reserve(q, CTX(i), 0);
		if (i == 3)
			fpgactl_queue_submit(q);
	}
	/* Out of range, past the submitted tail (4), past the reserved tail. */
	dm_post_raw(&dm, cids[0], 16, 0, 0, false);
	dm_post_raw(&dm, cids[0], 0xffff, 0, 0, false);
	dm_post_raw(&dm, cids[0], 5, 0, 0, false);
	dm_post_raw(&dm, cids[0], 7, 0, 0, false);
	/* Valid: the head moves to 3, then stays. */
	dm_post_raw(&dm, cids[0], 3, 0, 0, false);
	dm_post_raw(&dm, cids[1], 3, 0, 0, false);
	/* Backwards from 3 to 2. */
	dm_post_raw(&dm, cids[2], 2, 0, 0, false);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 7);
	for (int i = 0; i < 4; i++) {
		assert_null(c[i].ctx);
		assert_int_equal(c[i].error, -EPROTO);
	}
	assert_ptr_equal(c[4].ctx, CTX(0));
	assert_ptr_equal(c[5].ctx, CTX(1));
	assert_null(c[6].ctx);
	assert_int_equal(c[6].error, -EPROTO);
	assert_true(log_has("SQ head out of range or moving backwards"));
	assert_int_equal(stats(q).bad_completions, 5);
	/* The command whose completion was discarded is still in flight. */
	assert_int_equal(fpgactl_queue_in_flight(q), 4);
	dm_post_raw(&dm, cids[2], 4, 0, 0, false);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 1);
	assert_ptr_equal(c[0].ctx, CTX(2));
	/* The head cannot pass the submitted tail (4) even now. */
	dm_post_raw(&dm, cids[3], 5, 0, 0, false);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 1);
	assert_int_equal(c[0].error, -EPROTO);
	fpgactl_queue_submit(q);
	dm_post_raw(&dm, cids[3], 6, 0, 0, false);
	dm_post_raw(&dm, cids[4], 6, 0, 0, false);
	dm_post_raw(&dm, cids[5], 6, 0, 0, false);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 3);
	for (int i = 0; i < 3; i++)
		assert_ptr_equal(c[i].ctx, CTX(3 + i));
	assert_int_equal(stats(q).bad_completions, 6);
	assert_int_equal(stats(q).completed, 6);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/*
 * The SQ head checks of the inline reap: every reserved entry submitted, so
 * each reap below meets its bad entry in the inline loop (a reap with
 * unsubmitted entries, as in test_bad_sq_head, runs whole out of line).  A
 * head of depth + 2 after a head of 1 would look like 2 in ring arithmetic,
 * within range: only the check of the head's bits above the mask catches it.
 */
static void test_bad_sq_head_inline(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 16, 4);
	struct fpgactl_completion c[16];
	struct dev_model dm;
	uint16_t cids[4];

	dm_init(&dm, dev, q, 0, 4);
	for (int i = 0; i < 4; i++)
		cids[i] = reserve(q, CTX(i), 0);
	fpgactl_queue_submit(q);
	/* A valid head (1), then one past the depth. */
	dm_post_raw(&dm, cids[0], 1, 0, 0, false);
	dm_post_raw(&dm, cids[1], 16 + 2, 0, 0, false);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 2);
	assert_ptr_equal(c[0].ctx, CTX(0));
	assert_int_equal(c[0].error, 0);
	assert_null(c[1].ctx);
	assert_int_equal(c[1].error, -EPROTO);
	/* Past the submitted tail (4); backwards from 1 to 0; all ones. */
	dm_post_raw(&dm, cids[1], 5, 0, 0, false);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 1);
	assert_int_equal(c[0].error, -EPROTO);
	dm_post_raw(&dm, cids[1], 0, 0, 0, false);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 1);
	assert_int_equal(c[0].error, -EPROTO);
	dm_post_raw(&dm, cids[1], 0xffff, 0, 0, false);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 1);
	assert_int_equal(c[0].error, -EPROTO);
	assert_true(log_has("SQ head out of range or moving backwards"));
	/* The commands are still in flight; valid heads complete them. */
	assert_int_equal(fpgactl_queue_in_flight(q), 3);
	dm_post_raw(&dm, cids[1], 2, 0, 0, false);
	dm_post_raw(&dm, cids[2], 4, 0, 0, false);
	dm_post_raw(&dm, cids[3], 4, 0, 0, false);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 3);
	for (int i = 0; i < 3; i++) {
		assert_ptr_equal(c[i].ctx, CTX(1 + i));
		assert_int_equal(c[i].error, 0);
	}
	assert_int_equal(stats(q).bad_completions, 4);
	assert_int_equal(stats(q).completed, 4);
	assert_int_equal(fpgactl_queue_in_flight(q), 0);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/*
 * A head moving backwards between two entries of one inline batch (3, then
 * 2): the second is checked against the first's head, not against the head
 * the reap started from.
 */
static void test_sq_head_back_within_batch(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 16, 4);
	struct fpgactl_completion c[16];
	struct dev_model dm;
	uint16_t cids[4];

	dm_init(&dm, dev, q, 0, 4);
	for (int i = 0; i < 4; i++)
		cids[i] = reserve(q, CTX(i), 0);
	fpgactl_queue_submit(q);
	dm_post_raw(&dm, cids[0], 3, 0, 0, false);
	dm_post_raw(&dm, cids[1], 2, 0, 0, false);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 2);
	assert_ptr_equal(c[0].ctx, CTX(0));
	assert_int_equal(c[0].error, 0);
	assert_null(c[1].ctx);
	assert_int_equal(c[1].error, -EPROTO);
	assert_int_equal(fpgactl_queue_in_flight(q), 3);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

static void test_all_ones(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 16, 4);
	struct fpgactl_completion c[16];
	struct dev_model dm;

	dm_init(&dm, dev, q, 0, 4);
	reserve(q, CTX(0), 0);
	fpgactl_queue_submit(q);
	/* What a read from a removed device returns, in every field. */
	memset(&dm.cq[0], 0xff, sizeof(dm.cq[0]));
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 1);
	assert_null(c[0].ctx);
	assert_int_equal(c[0].error, -ENODEV);
	assert_true(log_has("all ones"));
	assert_int_equal(stats(q).bad_completions, 1);
	assert_int_equal(stats(q).completed, 0);
	assert_int_equal(fpgactl_queue_in_flight(q), 1);
	/* All ones in the status alone is enough. */
	dm.cq_tail = 1;
	dm_fetch(&dm);
	dm_post_raw(&dm, 0, 1, 0x7fff, 0, false);
	assert_int_equal(fpgactl_queue_reap(q, c, 16), 1);
	assert_int_equal(c[0].error, -ENODEV);
	assert_int_equal(fpgactl_queue_in_flight(q), 1);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/* ---- deadlines, abort, reset ----------------------------------------------------------- */

static void sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000 };

	nanosleep(&ts, NULL);
}

static void test_timeout(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 4, 4);
	struct fpgactl_completion c[8];
	struct fpgactl_queue_stats s;
	struct dev_model dm;
	uint16_t lost, slow, cid;
	bool reused = false;

	dm_init(&dm, dev, q, 0, 4);
	lost = reserve(q, CTX(0), 100000000);		/* 100 ms */
	slow = reserve(q, CTX(1), 10000000000ull);	/* 10 s */
	reserve(q, CTX(2), 0);
	fpgactl_queue_submit(q);
	dm_fetch(&dm);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 0);
	sleep_ms(120);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 1);
	assert_ptr_equal(c[0].ctx, CTX(0));
	assert_int_equal(c[0].error, -ETIMEDOUT);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 0);
	assert_int_equal(fpgactl_queue_in_flight(q), 2);
	assert_int_equal(stats(q).timeouts, 1);
	/* The others complete normally. */
	dm_complete_nth(&dm, 2, 0, 0);
	dm_complete_nth(&dm, 1, 0, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 2);
	assert_ptr_equal(c[0].ctx, CTX(2));
	assert_ptr_equal(c[1].ctx, CTX(1));
	assert_int_equal(c[1].error, 0);
	assert_int_equal(slow, 1);
	/* The device sits on the lost one. */
	assert_int_equal(dm.nr_fetched, 1);
	assert_int_equal(dm.fetched[0], lost);
	dm.nr_fetched = 0;
	/* While quarantined, the timed-out id is never handed out, however
	 * many commands pass. */
	for (int i = 0; i < 40; i++) {
		cid = reserve(q, CTX(10 + i), 0);
		assert_int_not_equal(cid, lost);
		fpgactl_queue_submit(q);
		dm_fetch(&dm);
		dm_complete_all(&dm);
		assert_int_equal(fpgactl_queue_reap(q, c, 8), 1);
	}
	/* The late completion: consumed, counted, not reported. */
	dm_post(&dm, lost, 0, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 0);
	assert_int_equal(cq_doorbell(&dm), dm.cq_tail);
	s = stats(q);
	assert_int_equal(s.late_completions, 1);
	assert_int_equal(s.bad_completions, 0);
	assert_int_equal(s.completed, 42);
	/* A second one is a duplicate. */
	dm_post(&dm, lost, 0, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 1);
	assert_int_equal(c[0].error, -EPROTO);
	/* Now the id is free again and comes back within a table's worth. */
	for (int i = 0; i < 8; i++) {
		cid = reserve(q, CTX(100 + i), 0);
		reused |= cid == lost;
		fpgactl_queue_submit(q);
		dm_fetch(&dm);
		dm_complete_all(&dm);
		assert_int_equal(fpgactl_queue_reap(q, c, 8), 1);
	}
	assert_true(reused);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/* Expired commands beyond the room in @out are reported by the next reap. */
static void test_timeout_many(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 16, 4);
	struct fpgactl_completion c[16];
	bool seen[8] = { false };
	unsigned int got = 0;

	for (int i = 0; i < 8; i++)
		reserve(q, CTX(i), 1000000 + (uint64_t)i * 1000);
	fpgactl_queue_submit(q);
	sleep_ms(3);
	for (int r = 0; r < 4; r++) {
		unsigned int n = fpgactl_queue_reap(q, c, 3);

		assert_int_equal(n, r < 2 ? 3 : r == 2 ? 2 : 0);
		for (unsigned int i = 0; i < n; i++) {
			assert_int_equal(c[i].error, -ETIMEDOUT);
			assert_false(seen[CTX_ID(c[i].ctx)]);
			seen[CTX_ID(c[i].ctx)] = true;
			got++;
		}
	}
	assert_int_equal(got, 8);
	assert_int_equal(stats(q).timeouts, 8);
	assert_int_equal(fpgactl_queue_in_flight(q), 0);
	/* The device never fetched them: they still fill 8 SQ slots, so 7
	 * more commands fit. */
	for (int i = 0; i < 7; i++)
		reserve(q, CTX(20 + i), 0);
	assert_null(fpgactl_queue_get_sqe(q, NULL, 0));
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

static void test_abort(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 8, 4);
	struct fpgactl_completion c[8];
	struct fpgactl_queue_stats s;
	struct dev_model dm;
	bool seen[8] = { false };
	uint16_t cids[5];
	unsigned int n;

	dm_init(&dm, dev, q, 0, 4);
	for (int i = 0; i < 3; i++)
		cids[i] = reserve(q, CTX(i), i == 0 ? 10000000000ull : 0);
	fpgactl_queue_submit(q);
	dm_fetch(&dm);
	/* Two more reserved, not submitted. */
	cids[3] = reserve(q, CTX(3), 0);
	cids[4] = reserve(q, CTX(4), 0);
	assert_int_equal(fpgactl_queue_abort(q), 5);
	assert_int_equal(fpgactl_queue_in_flight(q), 5);
	/* The reserved entries were taken back: nothing to submit. */
	assert_int_equal(fpgactl_queue_submit(q), 0);
	assert_int_equal(sq_doorbell(&dm), 3);
	/* cids[1] completes before its abort is reported: counted late, the
	 * abort is still what the caller hears. */
	dm_complete_nth(&dm, 1, 0, 0);
	n = fpgactl_queue_reap(q, c, 2);
	assert_int_equal(n, 2);
	assert_int_equal(fpgactl_queue_in_flight(q), 3);
	n += fpgactl_queue_reap(q, c + 2, 6);
	assert_int_equal(n, 5);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(c[i].error, -ECANCELED);
		assert_false(seen[CTX_ID(c[i].ctx)]);
		seen[CTX_ID(c[i].ctx)] = true;
	}
	assert_int_equal(fpgactl_queue_in_flight(q), 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 0);
	s = stats(q);
	assert_int_equal(s.aborted, 5);
	assert_int_equal(s.late_completions, 1);
	assert_int_equal(s.completed, 0);
	assert_int_equal(s.submitted, 3);
	/* Late completion of a submitted command after the report: late. */
	dm_complete_nth(&dm, 0, 0, 0);		/* cids[0] */
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 0);
	assert_int_equal(stats(q).late_completions, 2);
	/* A completion for an entry the device was never given: bad. */
	dm_post(&dm, cids[3], 0, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 1);
	assert_int_equal(c[0].error, -EPROTO);
	/* cids[2] is still quarantined (the device sits on it); the queue
	 * keeps working around it. */
	assert_int_equal(dm.nr_fetched, 1);
	assert_int_equal(dm.fetched[0], cids[2]);
	dm.nr_fetched = 0;
	for (int i = 0; i < 20; i++) {
		uint16_t cid = reserve(q, CTX(7), 0);

		assert_int_not_equal(cid, cids[2]);
		fpgactl_queue_submit(q);
		dm_fetch(&dm);
		dm_complete_all(&dm);
		assert_int_equal(fpgactl_queue_reap(q, c, 8), 1);
		assert_ptr_equal(c[0].ctx, CTX(7));
	}
	/* Aborting nothing. */
	assert_int_equal(fpgactl_queue_abort(q), 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 0);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

static void test_reset(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 8, 4);
	struct fpgactl_completion c[8];
	struct fpgactl_queue_stats s;
	struct dev_model dm;
	const uint8_t *ring;

	dm_init(&dm, dev, q, 0, 4);
	for (int r = 0; r < 3; r++) {
		for (int i = 0; i < 5; i++)
			reserve(q, CTX(i), 0);
		fpgactl_queue_submit(q);
		dm_fetch(&dm);
		dm_complete_all(&dm);
		assert_int_equal(fpgactl_queue_reap(q, c, 8), 5);
	}
	for (int i = 0; i < 4; i++)
		reserve(q, CTX(i), 1000000000ull);
	fpgactl_queue_submit(q);
	fpgactl_queue_abort(q);
	reserve(q, CTX(9), 0);
	/* The device's queue was disabled; both sides start over. */
	fpgactl_queue_reset(q);
	dm_reset(&dm);
	assert_int_equal(fpgactl_queue_in_flight(q), 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 0);	/* nothing pending */
	ring = (const uint8_t *)dm.sq;
	for (size_t i = 0; i < 8 * 64; i++)
		assert_int_equal(ring[i], 0);
	ring = (const uint8_t *)dm.cq;
	for (size_t i = 0; i < 8 * 16; i++)
		assert_int_equal(ring[i], 0);
	/* Ids from 0 again, slot 0 again, phase 1 again. */
	assert_int_equal(reserve(q, CTX(20), 0), 0);
	assert_int_equal(fpgactl_queue_submit(q), 1);
	assert_int_equal(sq_doorbell(&dm), 1);
	dm_fetch(&dm);
	dm_complete_all(&dm);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 1);
	assert_ptr_equal(c[0].ctx, CTX(20));
	assert_int_equal(cq_doorbell(&dm), 1);
	/* The counters run on. */
	s = stats(q);
	assert_int_equal(s.submitted, 20);
	assert_int_equal(s.completed, 16);
	assert_int_equal(s.aborted, 4);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/*
 * Ids held back by timeouts bound what get_sqe hands out once the free ids
 * are the least of its limits, and come back with their late completions.
 * The inline path keeps no count of active commands: the library derives
 * it from the free-id FIFO and the held ids, and get_sqe only counts its
 * room down, asking the library again when it runs out (LIBFPGACTL_0.4).
 */
static void test_held_ids_bound_room(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 4, 4);
	struct fpgactl_completion c[8];
	uint16_t held[6], plain;
	struct dev_model dm;

	dm_init(&dm, dev, q, 0, 4);
	/* Three rounds: two commands that time out (fetched, never answered)
	 * and one answered, whose completion moves the SQ head past them. */
	for (int r = 0; r < 3; r++) {
		/* 200 ms: the first reap below must come before the deadline,
		 * also under qemu-user on a loaded machine (1 ms was not). */
		held[2 * r] = reserve(q, CTX(2 * r), 200000000);
		held[2 * r + 1] = reserve(q, CTX(2 * r + 1), 200000000);
		plain = reserve(q, CTX(50 + r), 0);
		fpgactl_queue_submit(q);
		dm_fetch(&dm);
		dm.nr_fetched = 0;	/* the device sits on all three... */
		dm_post(&dm, plain, 0, 0);	/* ...but answers the last one */
		assert_int_equal(fpgactl_queue_reap(q, c, 8), 1);
		assert_ptr_equal(c[0].ctx, CTX(50 + r));
		sleep_ms(220);
		assert_int_equal(fpgactl_queue_reap(q, c, 8), 2);
		assert_int_equal(c[0].error, -ETIMEDOUT);
		assert_int_equal(c[1].error, -ETIMEDOUT);
	}
	assert_int_equal(fpgactl_queue_in_flight(q), 0);
	assert_int_equal(stats(q).timeouts, 6);
	/* 8 ids, 6 held: the SQ has 3 free slots and nothing is active, but
	 * only 2 ids are free. */
	for (int i = 0; i < 2; i++) {
		uint16_t cid = reserve(q, CTX(100 + i), 0);

		for (int k = 0; k < 6; k++)
			assert_int_not_equal(cid, held[k]);
	}
	assert_null(fpgactl_queue_get_sqe(q, CTX(99), 0));
	assert_int_equal(fpgactl_queue_in_flight(q), 2);
	fpgactl_queue_submit(q);
	dm_fetch(&dm);
	dm_complete_all(&dm);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 2);
	/* The late completions free the held ids: counted, not reported. */
	for (int k = 0; k < 3; k++)
		dm_post(&dm, held[k], 0, 0);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 0);
	assert_int_equal(stats(q).late_completions, 3);
	/* 5 ids free now: depth - 1 = 3 commands fit again. */
	for (int i = 0; i < 3; i++)
		reserve(q, CTX(200 + i), 0);
	assert_null(fpgactl_queue_get_sqe(q, CTX(99), 0));
	assert_int_equal(fpgactl_queue_in_flight(q), 3);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/*
 * Issue 12 item 16: an entry reserved but not submitted cannot time out (its
 * deadline starts at submit), so it is never reported -ETIMEDOUT and then
 * handed to the device; and reserve/expire/abort cycles leak no id.
 */
static void test_unsubmitted_never_times_out(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 4, 4);
	struct fpgactl_completion c[8];
	struct dev_model dm;
	uint16_t cid;

	dm_init(&dm, dev, q, 0, 4);
	/* Eight cycles on a depth-4 queue: more than its 8 ids. */
	for (int i = 0; i < 8; i++) {
		reserve(q, CTX(i), 1000000);		/* 1 ms */
		sleep_ms(3);
		assert_int_equal(fpgactl_queue_reap(q, c, 8), 0);
		assert_int_equal(fpgactl_queue_abort(q), 1);
		assert_int_equal(fpgactl_queue_reap(q, c, 8), 1);
		assert_ptr_equal(c[0].ctx, CTX(i));
		assert_int_equal(c[0].error, -ECANCELED);
		assert_int_equal(fpgactl_queue_in_flight(q), 0);
	}
	assert_int_equal(stats(q).timeouts, 0);
	assert_int_equal(sq_doorbell(&dm), 0);
	/* Still a whole queue: depth - 1 commands fit and complete. */
	for (int i = 0; i < 3; i++)
		reserve(q, CTX(20 + i), 0);
	assert_int_equal(fpgactl_queue_submit(q), 3);
	assert_int_equal(dm_fetch(&dm), 3);
	dm_complete_all(&dm);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(c[i].error, 0);

	/* The deadline runs from submit: 20 ms reserved, then submitted, is
	 * not expired at once; the device's completion wins. */
	cid = reserve(q, CTX(30), 20000000);
	sleep_ms(40);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 0);
	assert_int_equal(fpgactl_queue_submit(q), 1);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 0);
	assert_int_equal(dm_fetch(&dm), 1);
	assert_int_equal(dm.last_sqe.cid, cid);
	dm_complete_all(&dm);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 1);
	assert_ptr_equal(c[0].ctx, CTX(30));
	assert_int_equal(c[0].error, 0);
	/* And once submitted it does expire. */
	reserve(q, CTX(31), 1000000);
	fpgactl_queue_submit(q);
	sleep_ms(3);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 1);
	assert_ptr_equal(c[0].ctx, CTX(31));
	assert_int_equal(c[0].error, -ETIMEDOUT);
	assert_int_equal(stats(q).timeouts, 1);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/*
 * Item 17: abort takes the ids of reserved entries from the host's own
 * record, not from the SQ ring the device can write.  A device that
 * rewrites a reserved slot with the id of a submitted command must not make
 * abort free that id (its completion is still owed) nor leak the reserved one.
 */
static void test_abort_ignores_rewritten_sq(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 4, 4);
	struct fpgactl_completion c[8];
	struct fpgactl_queue_stats s;
	struct dev_model dm;
	uint16_t a, b, cid;
	bool reused = false;

	dm_init(&dm, dev, q, 0, 4);
	a = reserve(q, CTX(0), 0);
	fpgactl_queue_submit(q);
	assert_int_equal(dm_fetch(&dm), 1);
	b = reserve(q, CTX(1), 0);
	/* The hostile device writes the submitted id into the reserved slot. */
	dm.sq[1].cid = a;
	assert_int_equal(fpgactl_queue_abort(q), 2);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 2);
	assert_int_equal(fpgactl_queue_in_flight(q), 0);
	/* a's completion is late, not a protocol error. */
	dm_complete_all(&dm);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 0);
	s = stats(q);
	assert_int_equal(s.late_completions, 1);
	assert_int_equal(s.bad_completions, 0);
	/* b was never submitted: its id is free and comes back. */
	for (int i = 0; i < 8; i++) {
		cid = reserve(q, CTX(10 + i), 0);
		reused |= cid == b;
		fpgactl_queue_submit(q);
		dm_fetch(&dm);
		dm_complete_all(&dm);
		assert_int_equal(fpgactl_queue_reap(q, c, 8), 1);
		assert_int_equal(c[0].error, 0);
	}
	assert_true(reused);
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/* Item 18: -ECANCELED reports come oldest first (submission order), not in
 * command-id order. */
static void test_abort_oldest_first(void **state)
{
	struct fpgactl_device *dev = open_dev();
	struct fpgactl_queue *q = create(dev, 0, 4, 4);
	struct fpgactl_completion c[8];
	struct dev_model dm;
	uint16_t cids[3];

	dm_init(&dm, dev, q, 0, 4);
	/* Use ids 0..5, so that the next three are 6, 7 and 0. */
	for (int i = 0; i < 6; i++) {
		reserve(q, NULL, 0);
		fpgactl_queue_submit(q);
		dm_fetch(&dm);
		dm_complete_all(&dm);
		assert_int_equal(fpgactl_queue_reap(q, c, 8), 1);
	}
	for (int i = 0; i < 2; i++)
		cids[i] = reserve(q, CTX(i), 0);
	fpgactl_queue_submit(q);
	dm_fetch(&dm);
	cids[2] = reserve(q, CTX(2), 0);	/* reserved, the newest */
	assert_int_equal(cids[0], 6);
	assert_int_equal(cids[1], 7);
	assert_int_equal(cids[2], 0);
	assert_int_equal(fpgactl_queue_abort(q), 3);
	assert_int_equal(fpgactl_queue_reap(q, c, 8), 3);
	for (int i = 0; i < 3; i++) {
		assert_ptr_equal(c[i].ctx, CTX(i));
		assert_int_equal(c[i].error, -ECANCELED);
	}
	fpgactl_queue_destroy(q);
	fpgactl_device_close(dev);
}

/* ---- randomized ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/**
 * struct shadow - what the test expects
 * @outstanding: per context id: submitted, not yet reported
 * @done: per context id: the device completed it (result = id * 7)
 * @cid_of: the command id the context got
 * @owner: per command id: the context id using it, -1 free
 */
#define STRESS_CTX (1 << 20)
struct shadow {
	bool outstanding[STRESS_CTX];
	bool done[STRESS_CTX];
	uint16_t cid_of[STRESS_CTX];
	int owner[2 * MAX_DEPTH];
	uint32_t nr_done;
};

static void stress_inject_bad(struct dev_model *dm, const struct shadow *sh,
			      uint64_t *bad)
{
	uint32_t nr_cids = 2 * dm->depth;
	uint16_t cid;

	switch (rnd(3)) {
	case 0:		/* out of range */
		cid = (uint16_t)(nr_cids + rnd(0x10000 - nr_cids - 1));
		break;
	case 1:		/* an id that is not in flight (a duplicate, or never used) */
		cid = (uint16_t)rnd(nr_cids);
		if (sh->owner[cid] >= 0)
			return;
		break;
	default:	/* a valid id, a corrupt SQ head (past the tail) */
		if (!dm->nr_fetched)
			return;
		cid = dm->fetched[rnd(dm->nr_fetched)];
		dm_post_raw(dm, cid, (uint16_t)(dm->depth + rnd(100)), 0, 0, false);
		(*bad)++;
		return;
	}
	dm_post(dm, cid, 0, 0);
	(*bad)++;
}

static void stress_check(struct shadow *sh, const struct fpgactl_completion *c,
			 unsigned int n, uint64_t *bad_seen)
{
	for (unsigned int i = 0; i < n; i++) {
		unsigned int id;

		if (c[i].error) {
			assert_int_equal(c[i].error, -EPROTO);
			assert_null(c[i].ctx);
			(*bad_seen)++;
			continue;
		}
		id = CTX_ID(c[i].ctx);
		assert_true(id < STRESS_CTX);
		assert_true(sh->outstanding[id]);	/* not lost, not doubled */
		assert_true(sh->done[id]);		/* really completed */
		assert_int_equal(c[i].result, id * 7);
		assert_int_equal(c[i].status, id % 5);
		sh->outstanding[id] = false;
		sh->owner[sh->cid_of[id]] = -1;
		sh->nr_done++;
	}
}

static void stress_complete(struct dev_model *dm, struct shadow *sh, int *cid_ctx)
{
	uint32_t k = rnd(dm->nr_fetched + 1);

	for (uint32_t j = 0; j < k && dm_cq_room(dm); j++) {
		uint32_t i = rnd(dm->nr_fetched);
		int id = cid_ctx[dm->fetched[i]];

		sh->done[id] = true;
		dm_complete_nth(dm, i, (uint16_t)(id % 5), (uint32_t)id * 7);
	}
}

static void stress_one(struct fpgactl_device *dev, uint32_t depth, unsigned int rounds)
{
	struct fpgactl_queue *q = create(dev, 0, depth, 4);
	struct shadow *sh = calloc(1, sizeof(*sh));
	int *cid_ctx = calloc(2 * MAX_DEPTH, sizeof(int));
	struct fpgactl_completion c[64];
	struct fpgactl_queue_stats s;
	uint64_t bad = 0, bad_seen = 0;
	unsigned int next = 0;
	struct dev_model dm;

	assert_non_null(sh);
	assert_non_null(cid_ctx);
	for (uint32_t i = 0; i < 2 * MAX_DEPTH; i++)
		sh->owner[i] = -1;
	dm_init(&dm, dev, q, 0, 4);
	for (unsigned int r = 0; r < rounds && next < STRESS_CTX - depth; r++) {
		uint32_t want = rnd(depth);
		struct fpgactl_sqe *sqe;

		for (uint32_t i = 0; i < want; i++) {
			sqe = fpgactl_queue_get_sqe(q, CTX(next), 0);
			if (!sqe)
				break;
			assert_int_equal(sh->owner[sqe->cid], -1);	/* id free */
			sh->owner[sqe->cid] = (int)next;
			sh->cid_of[next] = sqe->cid;
			sh->outstanding[next] = true;
			cid_ctx[sqe->cid] = (int)next++;
		}
		if (rnd(4))
			fpgactl_queue_submit(q);
		if (rnd(3))
			dm_fetch(&dm);
		stress_complete(&dm, sh, cid_ctx);
		if (!rnd(8) && dm_cq_room(&dm)) {
			/* An id free now may be handed out by the next
			 * get_sqe: reap everything before that, as a device
			 * that duplicates an entry does so soon after. */
			stress_inject_bad(&dm, sh, &bad);
			for (unsigned int n = 1; n;) {
				n = fpgactl_queue_reap(q, c, 1 + rnd(64));
				stress_check(sh, c, n, &bad_seen);
			}
		}
		stress_check(sh, c, fpgactl_queue_reap(q, c, 1 + rnd(64)), &bad_seen);
		assert_true(fpgactl_queue_in_flight(q) <= depth - 1);
	}
	/* Drain. */
	fpgactl_queue_submit(q);
	dm_fetch(&dm);
	while (dm.nr_fetched) {
		stress_complete(&dm, sh, cid_ctx);
		stress_check(sh, c, fpgactl_queue_reap(q, c, 64), &bad_seen);
	}
	for (unsigned int n = 1; n;) {
		n = fpgactl_queue_reap(q, c, 64);
		stress_check(sh, c, n, &bad_seen);
	}
	assert_int_equal(fpgactl_queue_in_flight(q), 0);
	for (unsigned int i = 0; i < next; i++)
		assert_false(sh->outstanding[i]);
	s = stats(q);
	assert_int_equal(sh->nr_done, next);
	assert_int_equal(s.submitted, next);
	assert_int_equal(s.completed, next);
	assert_int_equal(s.bad_completions, bad);
	assert_int_equal(bad_seen, bad);
	assert_int_equal(s.late_completions, 0);
	assert_true(bad > 0);
	free(sh);
	free(cid_ctx);
	fpgactl_queue_destroy(q);
}

static void test_stress(void **state)
{
	struct fpgactl_device *dev = open_dev();

	/* Bad completions are logged; keep the captured log small. */
	fpgactl_set_log(NULL, NULL, FPGACTL_LOG_ERR - 1);
	stress_one(dev, 2, 20000);
	stress_one(dev, 4, 20000);
	stress_one(dev, 16, 20000);
	stress_one(dev, 64, 10000);
	stress_one(dev, 4096, 400);
	fpgactl_device_close(dev);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_validation),
		T(test_create_unmapped_bar),
		T(test_create_layout),
		T(test_ring_size),
		T(test_create_in),
		T(test_create_in_bounds_ok),
		T(test_create_in_refused),
		T(test_round_trip),
		T(test_doorbell_placement),
		T(test_batch_one_doorbell),
		T(test_reap_partial),
		T(test_wrap_around),
		T(test_ring_full),
		T(test_sq_flow_control),
		T(test_out_of_order),
		T(test_stale_phase),
		T(test_bad_cid),
		T(test_unsubmitted_cid),
		T(test_foreign_sq_id),
		T(test_duplicate_completion),
		T(test_bad_sq_head),
		T(test_bad_sq_head_inline),
		T(test_sq_head_back_within_batch),
		T(test_all_ones),
		T(test_timeout),
		T(test_timeout_many),
		T(test_abort),
		T(test_reset),
		T(test_unsubmitted_never_times_out),
		T(test_held_ids_bound_room),
		T(test_abort_ignores_rewritten_sq),
		T(test_abort_oldest_first),
		T(test_stress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
