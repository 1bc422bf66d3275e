// SPDX-License-Identifier: MIT
/*
 * Submission/completion ring pairs shaped like NVMe's I/O queues
 * (include/fpgactl/queue.h, docs/queues.md).
 *
 * Host side of the protocol, in NVMe's terms:
 *
 * - SQ: the host writes 64-byte entries at its tail, then one store of the
 *   new tail to the SQ tail doorbell hands the whole batch over.  The host
 *   learns how far the device has fetched only from the SQ head field of
 *   each completion entry; a slot is reusable once the head has passed it.
 * - CQ: the device writes 16-byte entries at its tail, in ring order.  The
 *   host never reads a device tail: an entry is new when its phase tag
 *   (status bit 0) equals the phase the host expects for the current pass
 *   (1 on the first pass over the zeroed ring, inverted on every wrap).
 *   The host releases consumed entries by writing its head to the CQ head
 *   doorbell; the device never overwrites an entry not yet released.
 *
 * Counters are free-running 32-bit values, reduced with (depth - 1) only to
 * index a ring or to write a doorbell, so "tail - head" is the occupancy
 * without a full/empty ambiguity (depth divides 2^32).
 *
 * Command ids come from a table twice the depth, recycled first-in
 * first-out, so a stale or duplicated completion names a free id and is
 * caught instead of completing a newer command.
 *
 * The data path (get_sqe, submit, reap) takes no lock, makes no system call
 * (clock_gettime() through the vDSO only for commands with a deadline), and
 * copies nothing: the caller fills the ring slot in place.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "vfio/vfio.h"
#include "dma/dma.h"
#include "queue/queue.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the rings are little-endian and read in place");

#define QUEUE_MIN_DEPTH 2u
#define QUEUE_MAX_DEPTH 4096u
#define CQ_ALIGN FPGACTL_QUEUE_RING_ALIGN
#define CQE_PHASE 0x1u
#define CQE_ALL_ONES 0xffffu

/* One load of memory the device writes: never re-read after validation. */
#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

enum cid_state {
	CID_FREE = FPGACTL_QUEUE__CID_FREE,
	CID_IN_FLIGHT = FPGACTL_QUEUE__CID_IN_FLIGHT, /* untimed, reserved or submitted */
	CID_IN_FLIGHT_TIMED,	/* the same with a timeout: out-of-line paths */
	CID_TIMED_OUT,		/* -ETIMEDOUT reported; the device may still complete it */
	CID_ABORTING,		/* -ECANCELED pending; the device may still complete it */
	CID_ABORTING_DONE,	/* -ECANCELED pending; the device will not complete it */
	CID_ABORTED,		/* -ECANCELED reported; the device may still complete it */
};

/**
 * struct fpgactl_queue - a queue pair
 * @r: the data path's state, laid out in include/fpgactl/queue.h (ABI)
 * @nr_deadlines: commands in CID_IN_FLIGHT_TIMED that are submitted
 * @nr_held: ids neither free nor active: timed out or aborted, their late
 *	completion or their -ECANCELED report outstanding (the active count
 *	is derived from it and the free-id FIFO, so the inline path keeps no
 *	count of its own)
 * @nr_unarmed: reserved entries with a timeout not yet turned into a
 *	deadline (by the next submit)
 * @next_deadline: no deadline expires before this; UINT64_MAX when none
 * @deadline: per command id: CLOCK_MONOTONIC nanoseconds once submitted;
 *	before, the relative timeout (armed by fpgactl_queue_submit());
 *	meaningful in CID_IN_FLIGHT_TIMED only
 * @sq_cids: the id reserved with a timeout at each SQ slot, host-side (the
 *	SQ ring itself is device-writable); trusted only when the id's slot
 *	names that position
 * @abort_keys: scratch for fpgactl_queue_abort()'s sort, @nr_cids entries
 * @pending: FIFO of ids whose -ECANCELED is yet to be reported
 * @nr_cids: twice the depth
 * @buf: the one DMA buffer holding both rings
 * @own_buf: @buf was allocated by fpgactl_queue_create() (and is freed with
 *	the queue); false for fpgactl_queue_create_in()'s caller's buffer
 * @rings_iova: IOVA of the SQ, where the rings start in @buf (their CPU
 *	address is @r.sq; the CQ starts rings_cq_offset(depth) after it)
 * @dev: device, for log messages
 */
struct fpgactl_queue {
	struct fpgactl_queue_ring r;
	/* Rare paths and set-up. */
	uint32_t nr_deadlines;
	uint32_t nr_held;
	uint32_t nr_unarmed;
	uint64_t next_deadline;
	uint64_t *deadline;
	uint16_t *sq_cids;
	uint16_t *pending;
	uint32_t pending_head;
	uint32_t pending_tail;
	uint32_t nr_cids;
	uint64_t *abort_keys;
	struct fpgactl_dma_buf *buf;
	bool own_buf;
	uint64_t rings_iova;
	struct fpgactl_device *dev;
	int efd;		/* interrupt eventfd, for fpgactl_queue_wait() */
	uint32_t efd_gen;	/* bumped by fpgactl_queue_set_eventfd() */
	bool no_irq;		/* the device was told never to interrupt */
	struct queue_watch watch;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- command ids ----------------------------------------------------------- */

/* Is the entry at free-running SQ position @pos reserved but not submitted? */
static bool sq_pos_unsubmitted(const struct fpgactl_queue *q, uint32_t pos)
{
	return (uint32_t)(pos - q->r.sq_doorbell) < q->r.sq_tail - q->r.sq_doorbell;
}


static bool cid_in_flight(uint8_t state)
{
	return state == CID_IN_FLIGHT || state == CID_IN_FLIGHT_TIMED;
}

/* Ids reserved or in flight: neither free nor held back. */
static uint32_t nr_active(const struct fpgactl_queue *q)
{
	return q->nr_cids - (uint16_t)(q->r.free_tail - q->r.free_head) - q->nr_held;
}

/*
 * What fpgactl_queue_get_sqe() may hand out: the least of the SQ's free
 * slots, depth - 1 - the active commands, and the free ids.
 */
static uint16_t room_now(const struct fpgactl_queue *q)
{
	uint32_t sq = q->r.mask - (q->r.sq_tail - q->r.sq_head);
	uint32_t ids = q->r.mask - nr_active(q);
	uint32_t free_ids = (uint16_t)(q->r.free_tail - q->r.free_head);

	/* A device reporting a head past the tail is refused, so sq_tail -
	 * sq_head never exceeds the mask; min() keeps a bound regardless. */
	if (q->r.sq_tail - q->r.sq_head > q->r.mask)
		sq = 0;
	sq = ids < sq ? ids : sq;
	return (uint16_t)(free_ids < sq ? free_ids : sq);
}

/* The rare paths are due when deadlines are armed or aborts pending. */
static void update_rare(struct fpgactl_queue *q)
{
	bool rare = q->nr_deadlines || q->pending_head != q->pending_tail;

	q->r.flags = (uint16_t)((q->r.flags & ~FPGACTL_QUEUE__RARE) |
				(rare ? FPGACTL_QUEUE__RARE : 0));
}

static void set_unarmed(struct fpgactl_queue *q, uint32_t nr)
{
	q->nr_unarmed = nr;
	q->r.flags = (uint16_t)((q->r.flags & ~FPGACTL_QUEUE__UNARMED) |
				(nr ? FPGACTL_QUEUE__UNARMED : 0));
}

/* Oldest freed, first reused: a freed id stays unused as long as possible. */
static void cid_free(struct fpgactl_queue *q, uint16_t cid)
{
	if (!cid_in_flight(q->r.slots[cid].state))
		q->nr_held--;	/* timed out or aborted until now */
	q->r.slots[cid].state = CID_FREE;
	q->r.slots[cid].ctx = NULL;
	q->r.free_cids[q->r.free_tail++ & (q->nr_cids - 1)] = cid;
}

/*
 * An in-flight command leaves the active set (completed, timed out,
 * aborted).  A timed one that was submitted had an armed deadline.
 */
static void cid_retire(struct fpgactl_queue *q, const struct fpgactl_queue_slot *s)
{
	if (s->state == CID_IN_FLIGHT_TIMED && !sq_pos_unsubmitted(q, s->sq_pos))
		q->nr_deadlines--;
}

static void cids_init(struct fpgactl_queue *q)
{
	memset(q->r.slots, 0, q->nr_cids * sizeof(*q->r.slots));
	for (uint32_t i = 0; i < q->nr_cids; i++)
		q->r.free_cids[i] = (uint16_t)i;
	q->r.free_head = 0;
	q->r.free_tail = (uint16_t)q->nr_cids;
	q->pending_head = q->pending_tail = 0;
	q->nr_held = 0;
	q->nr_deadlines = 0;
	set_unarmed(q, 0);
	update_rare(q);
	q->next_deadline = UINT64_MAX;
	q->r.room = room_now(q);
}

/* ---- set-up ----------------------------------------------------------------- */

/* A depth the engine takes: a power of two from QUEUE_MIN_DEPTH to QUEUE_MAX_DEPTH. */
static bool depth_ok(uint32_t depth)
{
	return depth >= QUEUE_MIN_DEPTH && depth <= QUEUE_MAX_DEPTH && !(depth & (depth - 1));
}

static int check_shape(struct fpgactl_device *dev, const struct fpgactl_queue_cfg *cfg)
{
	if (!depth_ok(cfg->depth)) {
		log_err("%s: queue %u: depth %u: use a power of two from %u to %u",
			dev->bdf, cfg->qid, cfg->depth, QUEUE_MIN_DEPTH, QUEUE_MAX_DEPTH);
		return -EINVAL;
	}
	if (cfg->db_stride < 4 || cfg->db_stride % 4 || cfg->db_offset % 4) {
		log_err("%s: queue %u: doorbell offset 0x%llx, stride %u: both must be "
			"multiples of 4, the stride at least 4", dev->bdf, cfg->qid,
			(unsigned long long)cfg->db_offset, cfg->db_stride);
		return -EINVAL;
	}
	return 0;
}

/* Both doorbells must lie inside the BAR, which must be fully mapped. */
static int check_doorbells(struct fpgactl_device *dev, const struct fpgactl_queue_cfg *cfg,
			   const struct fpgactl_bar **bar)
{
	uint64_t cq_db = (2 * (uint64_t)cfg->qid + 1) * cfg->db_stride;
	int ret = 0;

	*bar = fpgactl_device_bar(dev, cfg->bar, &ret);
	if (!*bar)
		return ret;
	if (cfg->db_offset > (*bar)->size || (*bar)->size - cfg->db_offset < 4 ||
	    cq_db > (*bar)->size - cfg->db_offset - 4) {
		log_err("%s: queue %u: doorbells at 0x%llx + %u * %u lie outside "
			"BAR%u (0x%llx bytes)", dev->bdf, cfg->qid,
			(unsigned long long)cfg->db_offset, 2 * cfg->qid, cfg->db_stride,
			cfg->bar, (unsigned long long)(*bar)->size);
		return -EINVAL;
	}
	return 0;
}

int queue_cfg_check(struct fpgactl_device *dev, const struct fpgactl_queue_cfg *cfg)
{
	const struct fpgactl_bar *bar;
	int ret = check_shape(dev, cfg);

	return ret ? ret : check_doorbells(dev, cfg, &bar);
}

/* SQ at 0, CQ at the next 4 KiB boundary (NVMe and the soft-core want each
 * ring 4 KiB aligned); @depth was checked. */
static size_t rings_cq_offset(uint32_t depth)
{
	size_t sq_size = (size_t)depth * sizeof(struct fpgactl_sqe);

	return (sq_size + CQ_ALIGN - 1) & ~(size_t)(CQ_ALIGN - 1);
}

static size_t rings_size(uint32_t depth)
{
	return rings_cq_offset(depth) + (size_t)depth * sizeof(struct fpgactl_cqe);
}

FPGACTL_EXPORT size_t fpgactl_queue_ring_size(uint32_t depth)
{
	return depth_ok(depth) ? rings_size(depth) : 0;
}

/* The rings at @offset of @q->buf, zeroed; the slice was checked. */
static void place_rings(struct fpgactl_queue *q, uint32_t depth, size_t offset)
{
	uint8_t *rings = (uint8_t *)q->buf->vaddr + offset;

	q->rings_iova = q->buf->iova + offset;
	memset(rings, 0, rings_size(depth));
	q->r.sq = (struct fpgactl_sqe *)rings;
	q->r.cq = (struct fpgactl_cqe *)(rings + rings_cq_offset(depth));
	q->r.cq_end = q->r.cq + depth;
}

/*
 * One buffer for both rings.  The rings are small and touched by one CPU
 * and one device: ordinary 4 KiB pages serve them as well as a hugepage
 * would, without taking one per queue pair.
 */
static int alloc_rings(struct fpgactl_queue *q, uint32_t depth)
{
	static const struct fpgactl_dma_opts small = {
		.page_size = FPGACTL_PAGE_4K,
		.flags = FPGACTL_DMA_ALLOW_SMALL_PAGES,
	};
	int ret = 0;

	q->buf = fpgactl_dma_alloc(q->dev, rings_size(depth), &small, &ret);
	if (!q->buf)
		return ret;
	q->own_buf = true;
	place_rings(q, depth, 0);
	return 0;
}

static int alloc_cids(struct fpgactl_queue *q, uint32_t depth)
{
	q->nr_cids = 2 * depth;
	q->r.slots = calloc(q->nr_cids, sizeof(*q->r.slots));
	q->r.free_cids = calloc(q->nr_cids, sizeof(*q->r.free_cids));
	q->deadline = calloc(q->nr_cids, sizeof(*q->deadline));
	q->pending = calloc(q->nr_cids, sizeof(*q->pending));
	q->sq_cids = calloc(depth, sizeof(*q->sq_cids));
	q->abort_keys = calloc(q->nr_cids, sizeof(*q->abort_keys));
	if (!q->r.slots || !q->r.free_cids || !q->deadline || !q->pending || !q->sq_cids ||
	    !q->abort_keys)
		return -ENOMEM;
	cids_init(q);
	return 0;
}

/* The queue's state with no rings yet: @cfg's shape and the doorbells in
 * @bar (both checked); NULL with *@err on failure. */
static struct fpgactl_queue *queue_new(struct fpgactl_device *dev,
				       const struct fpgactl_queue_cfg *cfg,
				       const struct fpgactl_bar *bar, int *err)
{
	uint64_t sq_db = cfg->db_offset + 2 * (uint64_t)cfg->qid * cfg->db_stride;
	/* The ring state's cache lines: aligned as queue.h lays them out. */
	struct fpgactl_queue *q = aligned_alloc(_Alignof(struct fpgactl_queue), sizeof(*q));

	if (!q) {
		*err = -ENOMEM;
		return NULL;
	}
	memset(q, 0, sizeof(*q));
	device_get(dev);	/* dropped by fpgactl_queue_destroy() */
	q->dev = dev;
	q->r.qid = cfg->qid;
	q->efd = -1;
	q->watch.fd = -1;
	/* Checked inside the BAR, which stays mapped while @dev is open. */
	q->r.sq_db = (volatile uint32_t *)(void *)(bar->base + sq_db);
	q->r.cq_db = (volatile uint32_t *)(void *)(bar->base + sq_db + cfg->db_stride);
	q->r.mask = cfg->depth - 1;
	*err = alloc_cids(q, cfg->depth);
	if (!*err)
		return q;
	fpgactl_queue_destroy(q);
	return NULL;
}

FPGACTL_EXPORT struct fpgactl_queue *
fpgactl_queue_create(struct fpgactl_device *dev, const struct fpgactl_queue_cfg *cfg,
		     int *err)
{
	const struct fpgactl_bar *bar;
	struct fpgactl_queue *q = NULL;
	int ret;

	ret = check_shape(dev, cfg);
	if (!ret)
		ret = check_doorbells(dev, cfg, &bar);
	if (!ret)
		q = queue_new(dev, cfg, bar, &ret);
	if (q)
		ret = alloc_rings(q, cfg->depth);
	if (!ret)
		return q;
	fpgactl_queue_destroy(q);
	if (err)
		*err = ret;
	return NULL;
}

/*
 * fpgactl_queue_create_in()'s slice: a buffer of @dev's context, the rings
 * 4 KiB aligned in IOVA and CPU address, and inside it (@offset + the size
 * computed without overflow: @offset is compared with the size first).
 */
static int check_slice(struct fpgactl_device *dev, const struct fpgactl_queue_cfg *cfg,
		       const struct fpgactl_dma_buf *buf, size_t offset)
{
	size_t need = rings_size(cfg->depth);

	if (!buf) {
		log_err("%s: queue %u: no buffer for the rings: pass a DMA buffer "
			"mapped for this device", dev->bdf, cfg->qid);
		return -EINVAL;
	}
	if (dma_buf_iommu(buf) != dev->iommu) {
		log_err("%s: queue %u: the buffer for the rings is mapped in another "
			"IOMMU context, where the device cannot reach it: use a buffer "
			"allocated for a device of this context, or one imported with it",
			dev->bdf, cfg->qid);
		return -EINVAL;
	}
	if (offset % CQ_ALIGN || (buf->iova + offset) % CQ_ALIGN ||
	    ((uintptr_t)buf->vaddr + offset) % CQ_ALIGN) {
		log_err("%s: queue %u: rings at offset 0x%zx of the buffer (IOVA 0x%llx) "
			"are not %u-byte aligned, as NVMe and the soft-core need: use an "
			"offset that is a multiple of %u", dev->bdf, cfg->qid, offset,
			(unsigned long long)buf->iova, CQ_ALIGN, CQ_ALIGN);
		return -EINVAL;
	}
	if (offset > buf->size || need > buf->size - offset) {
		log_err("%s: queue %u: rings of depth %u need 0x%zx bytes from offset "
			"0x%zx, past the end of the 0x%zx-byte buffer: use a smaller "
			"offset or depth, or a larger buffer (fpgactl_queue_ring_size())",
			dev->bdf, cfg->qid, cfg->depth, need, offset, buf->size);
		return -EINVAL;
	}
	return 0;
}

FPGACTL_EXPORT struct fpgactl_queue *
fpgactl_queue_create_in(struct fpgactl_device *dev, const struct fpgactl_queue_cfg *cfg,
			struct fpgactl_dma_buf *buf, size_t offset, int *err)
{
	const struct fpgactl_bar *bar;
	struct fpgactl_queue *q = NULL;
	int ret;

	ret = check_shape(dev, cfg);
	if (!ret)
		ret = check_slice(dev, cfg, buf, offset);
	if (!ret)
		ret = check_doorbells(dev, cfg, &bar);
	if (!ret)
		q = queue_new(dev, cfg, bar, &ret);
	if (!q) {
		if (err)
			*err = ret;
		return NULL;
	}
	q->buf = buf;
	place_rings(q, cfg->depth, offset);
	return q;
}

FPGACTL_EXPORT void fpgactl_queue_destroy(struct fpgactl_queue *q)
{
	if (!q)
		return;
	if (q->own_buf)
		fpgactl_dma_free(q->buf);
	free(q->r.slots);
	free(q->r.free_cids);
	free(q->deadline);
	free(q->pending);
	free(q->sq_cids);
	free(q->abort_keys);
	if (q->dev)
		device_put(q->dev);
	free(q);
}

FPGACTL_EXPORT uint64_t fpgactl_queue_sq_iova(const struct fpgactl_queue *q)
{
	return q->rings_iova;
}

FPGACTL_EXPORT uint64_t fpgactl_queue_cq_iova(const struct fpgactl_queue *q)
{
	return q->rings_iova + rings_cq_offset(q->r.mask + 1);
}

FPGACTL_EXPORT uint32_t fpgactl_queue_depth(const struct fpgactl_queue *q)
{
	return q->r.mask + 1;
}

/* ---- submission --------------------------------------------------------------- */

/*
 * The library's own copies of the inline data path, exported for
 * applications built against LIBFPGACTL_0.1 and for bindings: the header's
 * definitions, compiled once more as exported functions (queue_abi.c).
 */

FPGACTL_EXPORT struct fpgactl_sqe *fpgactl_queue__get_sqe_slow(struct fpgactl_queue *q,
							     void *ctx, uint64_t timeout_ns)
{
	const uint16_t room = room_now(q);
	struct fpgactl_sqe *sqe;

	if (!room) {
		q->r.room = 0;
		return NULL;
	}
	q->r.room = room - 1;
	sqe = __fpgactl_queue_take(&q->r, ctx);
	if (timeout_ns)
		fpgactl_queue__set_timeout(q, sqe->cid, timeout_ns);
	return sqe;
}

FPGACTL_EXPORT void fpgactl_queue__set_timeout(struct fpgactl_queue *q, uint16_t cid,
					       uint64_t timeout_ns)
{
	struct fpgactl_queue_slot *s = &q->r.slots[cid];

	/* Relative until submitted: see arm(). */
	s->state = CID_IN_FLIGHT_TIMED;
	q->deadline[cid] = timeout_ns;
	q->sq_cids[s->sq_pos & q->r.mask] = cid;
	set_unarmed(q, q->nr_unarmed + 1);
}

/*
 * A command's deadline runs from its submission: an entry the device has
 * not been given cannot time out (an application that frees its buffers on
 * -ETIMEDOUT would otherwise have the next submit hand them to the device).
 * One clock read per batch, and only when the batch has a timeout in it.
 */
static void arm(struct fpgactl_queue *q)
{
	uint64_t now = now_ns();

	for (uint32_t i = q->r.sq_doorbell; i != q->r.sq_tail; i++) {
		uint16_t cid = q->sq_cids[i & q->r.mask];
		const struct fpgactl_queue_slot *s = &q->r.slots[cid];
		uint64_t timeout = q->deadline[cid];

		/* sq_cids holds only the timed entries: others left stale ids. */
		if (cid >= q->nr_cids || s->sq_pos != i || s->state != CID_IN_FLIGHT_TIMED)
			continue;
		q->deadline[cid] = timeout > UINT64_MAX - now ? UINT64_MAX : now + timeout;
		q->nr_deadlines++;
		if (q->deadline[cid] < q->next_deadline)
			q->next_deadline = q->deadline[cid];
	}
	set_unarmed(q, 0);
	update_rare(q);
}

FPGACTL_EXPORT unsigned int fpgactl_queue__submit_timed(struct fpgactl_queue *q)
{
	arm(q);
	return __fpgactl_queue_ring_sq(&q->r, q->r.sq_tail, q->r.sq_tail - q->r.sq_doorbell);
}

/* ---- completion ---------------------------------------------------------------- */

static int bad_cqe(struct fpgactl_queue *q, const struct fpgactl_cqe *cqe,
		   const char *why)
{
	log_err("%s: queue %u: completion at CQ slot %u discarded: %s (cid %u, "
		"SQ id %u, SQ head %u, status 0x%04x)", q->dev->bdf, q->r.qid,
		q->r.cq_head & q->r.mask, why, cqe->cid, cqe->sq_id, cqe->sq_head,
		cqe->status);
	q->r.stats.bad_completions++;
	return -EPROTO;
}

/*
 * The SQ head a completion reports must lie in [old head, submitted tail]
 * in ring order: the device cannot un-fetch, nor fetch what it was not
 * given.  Return how far it moves the head, or -1.
 */
static int sq_head_advance(const struct fpgactl_queue *q, uint16_t sq_head)
{
	uint32_t moved = (sq_head - q->r.sq_head) & q->r.mask;

	if (sq_head > q->r.mask || moved > q->r.sq_doorbell - q->r.sq_head)
		return -1;
	return (int)moved;
}

/* The states in which the device still owes a completion for the id. */
#define CID_DEVICE_OWES (1u << CID_IN_FLIGHT | 1u << CID_IN_FLIGHT_TIMED | \
			 1u << CID_TIMED_OUT | 1u << CID_ABORTING | 1u << CID_ABORTED)

/*
 * Validate one entry (a private snapshot, so the device cannot change it
 * between check and use).  Return how far it moves the SQ head when it names
 * a command the host knows, or the error to report.
 */
static int check_cqe(struct fpgactl_queue *q, const struct fpgactl_cqe *cqe)
{
	const struct fpgactl_queue_slot *s;
	int moved;

	if (cqe->status == CQE_ALL_ONES) {
		bad_cqe(q, cqe, "all ones: the device may be gone");
		return -ENODEV;
	}
	if (cqe->sq_id != q->r.qid)
		return bad_cqe(q, cqe, "SQ id is not this queue's");
	if (cqe->cid >= q->nr_cids)
		return bad_cqe(q, cqe, "command id out of range");
	s = &q->r.slots[cqe->cid];
	if (!(CID_DEVICE_OWES & 1u << s->state))
		return bad_cqe(q, cqe, "command id not in flight");
	/* Reserved but not submitted (its entry lies in [doorbell, tail)):
	 * the device cannot have seen it.  Asked as window membership, so a
	 * command submitted any number of entries ago still passes. */
	if (cid_in_flight(s->state) && sq_pos_unsubmitted(q, s->sq_pos))
		return bad_cqe(q, cqe, "command id not submitted yet");
	moved = sq_head_advance(q, cqe->sq_head);
	if (moved < 0)
		return bad_cqe(q, cqe, "SQ head out of range or moving "
			       "backwards");
	return moved;
}

/*
 * A completion for a command already failed by its deadline or by abort:
 * consumed, counted, not reported again.  Its id is free from now on,
 * unless the -ECANCELED report is still pending (then once reported).
 */
static void late_completion(struct fpgactl_queue *q, uint16_t cid)
{
	struct fpgactl_queue_slot *s = &q->r.slots[cid];

	q->r.stats.late_completions++;
	if (s->state == CID_ABORTING)
		s->state = CID_ABORTING_DONE;
	else
		cid_free(q, cid);
}

/* Handle one new entry; return 1 when it produced a completion in @c. */
static unsigned int handle_cqe(struct fpgactl_queue *q, const struct fpgactl_cqe *cqe,
			       struct fpgactl_completion *c)
{
	uint16_t cid = cqe->cid;
	struct fpgactl_queue_slot *s;
	int moved = check_cqe(q, cqe);

	if (moved < 0) {
		*c = (struct fpgactl_completion){ .error = moved };
		return 1;
	}
	/* NVMe: SQ Head Pointer, the flow control of the SQ. */
	q->r.sq_head += (uint32_t)moved;
	s = &q->r.slots[cid];
	if (!cid_in_flight(s->state)) {
		late_completion(q, cid);
		return 0;
	}
	*c = (struct fpgactl_completion){
		.ctx = s->ctx, .result = cqe->result, .status = cqe->status >> 1 };
	q->r.stats.completed++;
	cid_retire(q, s);
	cid_free(q, cid);
	return 1;
}

/* Each field of the entry at cq_head read exactly once; the status first. */
static struct fpgactl_cqe cqe_snapshot(const struct fpgactl_cqe *cqe, uint16_t status)
{
	return (struct fpgactl_cqe){
		.result = READ_ONCE(cqe->result), .sq_head = READ_ONCE(cqe->sq_head),
		.sq_id = READ_ONCE(cqe->sq_id), .cid = READ_ONCE(cqe->cid),
		.status = status };
}

FPGACTL_EXPORT unsigned int fpgactl_queue__reap_slow(struct fpgactl_queue *q,
						     struct fpgactl_completion *out,
						     unsigned int n, unsigned int max)
{
	/* The inline path consumed n entries from where the reap began. */
	const uint32_t start = q->r.cq_head - n;

	/* What the inline path reaped: plain successes of untimed commands. */
	q->r.stats.completed += n;
	while (n < max && q->r.cq_head - start <= q->r.mask) {
		const struct fpgactl_cqe *cqe = &q->r.cq[q->r.cq_head & q->r.mask];
		uint16_t status = READ_ONCE(cqe->status);
		struct fpgactl_cqe e;

		/* NVMe: Phase Tag; an entry of the previous pass is not new. */
		if ((status & CQE_PHASE) != !(q->r.cq_head & (q->r.mask + 1)))
			break;
		fpgactl_dma_rmb();
		e = cqe_snapshot(cqe, status);
		n += handle_cqe(q, &e, &out[n]);
		q->r.cq_head++;
	}
	if (q->r.cq_head != start) {
		/* As in fpgactl_queue_reap(): loads done, then the doorbell. */
		fpgactl_dma_mb();
		*q->r.cq_db = q->r.cq_head & q->r.mask;
		q->r.stats.cq_doorbells++;
	}
	update_rare(q);
	q->r.room = room_now(q);
	if (q->r.flags & FPGACTL_QUEUE__RARE)
		n += fpgactl_queue__reap_rare(q, out + n, max - n);
	return n;
}

/* Report the -ECANCELED of fpgactl_queue_abort(), oldest first. */
static unsigned int reap_aborted(struct fpgactl_queue *q, struct fpgactl_completion *out,
				 unsigned int max)
{
	unsigned int n = 0;

	while (n < max && q->pending_head != q->pending_tail) {
		uint16_t cid = q->pending[q->pending_head++ & (q->nr_cids - 1)];
		struct fpgactl_queue_slot *s = &q->r.slots[cid];

		out[n++] = (struct fpgactl_completion){ .ctx = s->ctx,
							.error = -ECANCELED };
		if (s->state == CID_ABORTING_DONE) {
			cid_free(q, cid);
		} else {
			s->state = CID_ABORTED;
			s->ctx = NULL;
		}
	}
	return n;
}

/*
 * Fail the commands whose deadline passed.  Their ids are quarantined
 * (CID_TIMED_OUT) until the late completion arrives or the queue is reset:
 * the device may still write through the command's buffers.
 */
static unsigned int reap_expired(struct fpgactl_queue *q, struct fpgactl_completion *out,
				 unsigned int max)
{
	uint64_t now, next = UINT64_MAX;
	uint32_t left = q->nr_deadlines;
	unsigned int n = 0;

	if (!max)
		return 0;
	now = now_ns();
	if (now < q->next_deadline)
		return 0;
	for (uint32_t cid = 0; left && cid < q->nr_cids; cid++) {
		struct fpgactl_queue_slot *s = &q->r.slots[cid];

		/* Not submitted yet: its timeout is not a deadline yet. */
		if (s->state != CID_IN_FLIGHT_TIMED || sq_pos_unsubmitted(q, s->sq_pos))
			continue;
		left--;
		if (q->deadline[cid] > now || n == max) {
			next = q->deadline[cid] < next ? q->deadline[cid] : next;
			continue;
		}
		out[n++] = (struct fpgactl_completion){ .ctx = s->ctx,
							.error = -ETIMEDOUT };
		cid_retire(q, s);
		s->state = CID_TIMED_OUT;
		q->nr_held++;
		s->ctx = NULL;
		q->r.stats.timeouts++;
	}
	q->next_deadline = next;
	return n;
}

FPGACTL_EXPORT unsigned int fpgactl_queue__reap_rare(struct fpgactl_queue *q,
						     struct fpgactl_completion *out,
						     unsigned int max)
{
	unsigned int n = 0;

	if (q->pending_head != q->pending_tail)
		n += reap_aborted(q, out + n, max - n);
	/* Only when some command has a deadline: no clock read otherwise. */
	if (q->nr_deadlines)
		n += reap_expired(q, out + n, max - n);
	update_rare(q);
	q->r.room = room_now(q);
	return n;
}

/* ---- control ------------------------------------------------------------------- */

/* Descending: the largest age (the oldest command) first. */
static int cmp_age_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * Every active id with its age (how many SQ entries were reserved after
 * it), as keys age << 16 | cid, oldest first.  Only host-side state is used:
 * never the SQ ring, which the device can write.
 */
static uint32_t active_by_age(struct fpgactl_queue *q)
{
	uint32_t n = 0;

	for (uint32_t cid = 0; cid < q->nr_cids; cid++) {
		const struct fpgactl_queue_slot *s = &q->r.slots[cid];

		if (cid_in_flight(s->state))
			q->abort_keys[n++] = (uint64_t)(q->r.sq_tail - s->sq_pos) << 16 | cid;
	}
	qsort(q->abort_keys, n, sizeof(*q->abort_keys), cmp_age_desc);
	return n;
}

FPGACTL_EXPORT unsigned int fpgactl_queue_abort(struct fpgactl_queue *q)
{
	uint32_t n = active_by_age(q);

	for (uint32_t i = 0; i < n; i++) {
		uint16_t cid = (uint16_t)q->abort_keys[i];
		struct fpgactl_queue_slot *s = &q->r.slots[cid];
		bool unsubmitted = sq_pos_unsubmitted(q, s->sq_pos);

		cid_retire(q, s);
		/* Never reached the device: its slot is taken back below and
		 * its id freed once reported. */
		s->state = unsubmitted ? CID_ABORTING_DONE : CID_ABORTING;
		q->nr_held++;
		q->pending[q->pending_tail++ & (q->nr_cids - 1)] = cid;
	}
	/* Reserved entries: a later submit must not send them. */
	q->r.sq_tail = q->r.sq_doorbell;
	set_unarmed(q, 0);
	q->next_deadline = UINT64_MAX;
	q->r.stats.aborted += n;
	update_rare(q);
	q->r.room = room_now(q);
	return n;
}

FPGACTL_EXPORT void fpgactl_queue_reset(struct fpgactl_queue *q)
{
	memset(q->r.sq, 0, rings_size(q->r.mask + 1));
	q->r.sq_tail = q->r.sq_doorbell = q->r.sq_head = 0;
	q->r.cq_head = 0;
	cids_init(q);
}

FPGACTL_EXPORT unsigned int fpgactl_queue_in_flight(const struct fpgactl_queue *q)
{
	/* Aborted ids are held until their -ECANCELED is out. */
	return nr_active(q) + (q->pending_tail - q->pending_head);
}

FPGACTL_EXPORT int fpgactl_queue_set_eventfd(struct fpgactl_queue *q, int efd)
{
	if (!q || efd < -1) {
		log_err("fpgactl_queue_set_eventfd: needs a queue and an eventfd "
			"(or -1 to clear), got %d", efd);
		return -EINVAL;
	}
	q->efd = efd;
	q->efd_gen++;
	return 0;
}

struct fpgactl_device *queue_device(const struct fpgactl_queue *q)
{
	return q->dev;
}

void queue_set_interrupts(struct fpgactl_queue *q, bool on)
{
	q->no_irq = !on;
}

bool queue_interrupts(const struct fpgactl_queue *q)
{
	return !q->no_irq;
}

int queue_eventfd(const struct fpgactl_queue *q)
{
	return q->efd;
}

uint64_t queue_eventfd_gen(const struct fpgactl_queue *q)
{
	return (uint64_t)q->efd_gen << 32 |
	       __atomic_load_n(&q->dev->irq_gen, __ATOMIC_ACQUIRE);
}

struct queue_watch *queue_watch(struct fpgactl_queue *q)
{
	return &q->watch;
}

FPGACTL_EXPORT void fpgactl_queue_get_stats(const struct fpgactl_queue *q,
					    struct fpgactl_queue_stats *stats)
{
	*stats = q->r.stats;
}
