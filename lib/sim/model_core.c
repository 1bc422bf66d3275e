// SPDX-License-Identifier: MIT
/*
 * The software model's device thread: the soft-core of docs/softcore.md
 * behind BAR0 memory.  It polls the registers and doorbells the application
 * writes (plain memory: no trap, no system call), fetches submission
 * entries from the rings by IOVA, executes them against the DMA mappings of
 * the IOMMU context, writes phase-tagged completions and signals the
 * queue's eventfd.  Faults are injected as docs/model.md describes.
 */
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "core/crc.h"
#include "model_priv.h"

/*
 * The device's accesses to BAR0, local memory and DMA buffers race with
 * the application by design, exactly as a real device's do: the ordering
 * is the doorbell protocol's (fpgactl_io_wmb() + MMIO store on one side,
 * acquire loads here), which ThreadSanitizer cannot see through the
 * application's volatile accesses and fences.  The device thread's plain
 * memory accesses are therefore hidden from it; its synchronisation with
 * the application (mutexes, atomics) is still checked.
 */
#if defined(__SANITIZE_THREAD__)
#define MODEL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MODEL_TSAN 1
#endif
#endif

#ifdef MODEL_TSAN
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
void AnnotateIgnoreWritesBegin(const char *file, int line);
void AnnotateIgnoreWritesEnd(const char *file, int line);
#define device_side_begin()                                                  \
	do {                                                                 \
		AnnotateIgnoreReadsBegin(__FILE__, __LINE__);                 \
		AnnotateIgnoreWritesBegin(__FILE__, __LINE__);                \
	} while (0)
#define device_side_end()                                                    \
	do {                                                                 \
		AnnotateIgnoreWritesEnd(__FILE__, __LINE__);                  \
		AnnotateIgnoreReadsEnd(__FILE__, __LINE__);                   \
	} while (0)
#else
#define device_side_begin() ((void)0)
#define device_side_end() ((void)0)
#endif

/* Commands fetched from one queue per visit, for fairness between queues. */
#define MODEL_BATCH 64

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- BAR0 ------------------------------------------------------------------ */

static uint32_t *reg(struct model *m, uint32_t off)
{
	return (uint32_t *)(m->bar0 + off);
}

static uint32_t ld32(struct model *m, uint32_t off)
{
	return __atomic_load_n(reg(m, off), __ATOMIC_ACQUIRE);
}

static uint64_t ld64(struct model *m, uint32_t off)
{
	return __atomic_load_n((uint64_t *)(m->bar0 + off), __ATOMIC_ACQUIRE);
}

static void st32(struct model *m, uint32_t off, uint32_t val)
{
	__atomic_store_n(reg(m, off), val, __ATOMIC_RELEASE);
}

static void st64(struct model *m, uint32_t off, uint64_t val)
{
	__atomic_store_n((uint64_t *)(m->bar0 + off), val, __ATOMIC_RELEASE);
}

static uint32_t q_reg(unsigned int qid, uint32_t field)
{
	return FPGACTL_SC_QUEUE(qid) + field;
}

static uint32_t sq_tail_db(unsigned int qid)
{
	return FPGACTL_SC_DOORBELLS + 2 * qid * 4;
}

static uint32_t cq_head_db(unsigned int qid)
{
	return FPGACTL_SC_DOORBELLS + (2 * qid + 1) * 4;
}

static uint32_t cap_value(const struct model *m)
{
	return (m->cfg.max_entries - 1) | m->cfg.nr_queues << 16 |
	       0u << 24 /* DSTRD */ | 1u << 28 /* MSIX */;
}

static void set_status(struct model *m, uint32_t status)
{
	m->status = status;
	st32(m, FPGACTL_SC_STATUS, status);
}

static void set_qstatus(struct model *m, unsigned int qid, uint32_t qstatus)
{
	m->q[qid].qstatus = qstatus;
	st32(m, q_reg(qid, FPGACTL_SC_Q_STATUS), qstatus);
}

void model_regs_init(struct model *m)
{
	memset(m->bar0, 0, MODEL_BAR0_SIZE);
	st32(m, FPGACTL_SC_ID, FPGACTL_SC_ID_VALUE);
	st32(m, FPGACTL_SC_VERSION, MODEL_VERSION);
	st32(m, FPGACTL_SC_CAP, cap_value(m));
	st32(m, FPGACTL_SC_LMEM_SIZE, m->cfg.lmem_size);
	st32(m, FPGACTL_SC_MAX_XFER, m->cfg.max_xfer);
}

/* Put back what the application wrote over read-only registers. */
static void restore_one(struct model *m, uint32_t off, uint32_t val)
{
	if (ld32(m, off) != val)
		st32(m, off, val);
}

static void restore_ro(struct model *m)
{
	restore_one(m, FPGACTL_SC_ID, FPGACTL_SC_ID_VALUE);
	restore_one(m, FPGACTL_SC_VERSION, MODEL_VERSION);
	restore_one(m, FPGACTL_SC_CAP, cap_value(m));
	restore_one(m, FPGACTL_SC_LMEM_SIZE, m->cfg.lmem_size);
	restore_one(m, FPGACTL_SC_STATUS, m->status);
	restore_one(m, FPGACTL_SC_MAX_XFER, m->cfg.max_xfer);
	restore_one(m, FPGACTL_SC_ERR_COUNT, m->err_count);
	for (unsigned int q = 0; q < m->cfg.nr_queues; q++)
		restore_one(m, q_reg(q, FPGACTL_SC_Q_STATUS), m->q[q].qstatus);
	for (unsigned int i = 0; i < FPGACTL_SC_NR_GUARDED; i++)
		restore_one(m, FPGACTL_SC_GUARDED(i), m->guarded[i]);
}

static void count_error(struct model *m)
{
	m->err_count++;
	st32(m, FPGACTL_SC_ERR_COUNT, m->err_count);
	model_stat_add(m, errors, 1);
}

/* A doorbell out of range: STATUS.CFS, and no queue runs until CTRL.EN=0. */
static void go_fatal(struct model *m)
{
	if (m->fatal)
		return;
	m->fatal = true;
	set_status(m, m->status | FPGACTL_SC_STATUS_CFS);
	model_stat_add(m, fatal, 1);
}

/* ---- queues --------------------------------------------------------------- */

/* [iova, iova + len) inside one DMA mapping: its address; NULL otherwise.
 * Called between the host's dma_lock and dma_unlock. */
static uint8_t *dma_va(struct model *m, uint64_t iova, uint64_t len)
{
	return m->host->dma_ptr(m->host->ctx, iova, len);
}

static void dma_lock(struct model *m)
{
	m->host->dma_lock(m->host->ctx);
}

static void dma_unlock(struct model *m)
{
	m->host->dma_unlock(m->host->ctx);
}

/* QEN was cleared (or the soft-core disabled): forget the queue, empty its
 * doorbells for the next set-up. */
static void queue_disable(struct model *m, unsigned int qid)
{
	struct model_queue *q = &m->q[qid];

	memset(q, 0, sizeof(*q));
	st32(m, sq_tail_db(qid), 0);
	st32(m, cq_head_db(qid), 0);
	set_qstatus(m, qid, 0);
}

/*
 * QEN was set: check the set-up and translate both rings once, so that the
 * data path never takes the IOMMU lock for them.
 */
static void queue_enable(struct model *m, unsigned int qid)
{
	struct model_queue *q = &m->q[qid];
	uint64_t sq_base = ld64(m, q_reg(qid, FPGACTL_SC_Q_SQ_BASE));
	uint64_t cq_base = ld64(m, q_reg(qid, FPGACTL_SC_Q_CQ_BASE));
	uint32_t size = ld32(m, q_reg(qid, FPGACTL_SC_Q_SIZE));
	uint32_t sq_size = (size & 0xffff) + 1, cq_size = (size >> 16) + 1;
	bool ok;

	memset(q, 0, sizeof(*q));
	q->en = true;
	ok = m->enabled && sq_size >= 2 && sq_size <= m->cfg.max_entries &&
	     cq_size >= 2 && cq_size <= m->cfg.max_entries &&
	     !(sq_base & 0xfff) && !(cq_base & 0xfff);
	if (ok) {
		dma_lock(m);
		q->sq = dma_va(m, sq_base, (uint64_t)sq_size * sizeof(struct fpgactl_sqe));
		q->cq = dma_va(m, cq_base, (uint64_t)cq_size * sizeof(struct fpgactl_cqe));
		dma_unlock(m);
		ok = q->sq && q->cq;
	}
	if (!ok) {
		q->sq = q->cq = NULL;
		set_qstatus(m, qid, FPGACTL_SC_QSTATUS_QERR);
		return;
	}
	q->active = true;
	q->sq_size = sq_size;
	q->cq_size = cq_size;
	q->phase = 1;
	set_qstatus(m, qid, FPGACTL_SC_QSTATUS_ACTIVE);
}

/* CTRL.EN cleared: every queue disabled, STATUS and ERR_COUNT cleared. */
static void soft_disable(struct model *m)
{
	for (unsigned int qid = 0; qid < m->cfg.nr_queues; qid++) {
		__atomic_fetch_and(reg(m, q_reg(qid, FPGACTL_SC_Q_CTRL)),
				   ~FPGACTL_SC_QCTRL_QEN, __ATOMIC_ACQ_REL);
		queue_disable(m, qid);
	}
	m->enabled = false;
	m->fatal = false;
	m->err_count = 0;
	st32(m, FPGACTL_SC_ERR_COUNT, 0);
	set_status(m, 0);
}

/* Function reset: as CTRL.EN=0, and every set-up register cleared too. */
static void full_reset(struct model *m)
{
	st32(m, FPGACTL_SC_CTRL, 0);
	soft_disable(m);
	for (unsigned int qid = 0; qid < m->cfg.nr_queues; qid++) {
		st64(m, q_reg(qid, FPGACTL_SC_Q_SQ_BASE), 0);
		st64(m, q_reg(qid, FPGACTL_SC_Q_CQ_BASE), 0);
		st32(m, q_reg(qid, FPGACTL_SC_Q_SIZE), 0);
		st32(m, q_reg(qid, FPGACTL_SC_Q_CTRL), 0);
	}
}

/* ---- completions ------------------------------------------------------------ */

static void raise_irq(struct model *m, unsigned int vector)
{
	if (vector >= m->cfg.nr_queues)
		return;
	/* Counted first, as completions are; taken back when the vector is
	 * not routed (or its eventfd counter would overflow). */
	model_stat_add(m, interrupts, 1);
	if (m->host->irq(m->host->ctx, vector) != 1)
		model_stat_add(m, interrupts, (uint64_t)-1);
}

/* Write one entry at the tail: everything, then the status halfword with
 * its phase tag, last, with a release store. */
static void cq_write(struct model_queue *q, const struct model_pending *p)
{
	struct fpgactl_cqe *slot = (struct fpgactl_cqe *)(q->cq + (size_t)q->cq_tail * 16);
	uint16_t phase = p->stale ? (uint16_t)!q->phase : q->phase;

	slot->result = p->cqe.result;
	slot->rsvd = 0;
	slot->sq_head = p->cqe.sq_head;
	slot->sq_id = p->cqe.sq_id;
	slot->cid = p->cqe.cid;
	__atomic_store_n(&slot->status, (uint16_t)(p->cqe.status | phase), __ATOMIC_RELEASE);
	if (p->stale)
		return;	/* lost: the next completion takes the slot */
	if (++q->cq_tail == q->cq_size) {
		q->cq_tail = 0;
		q->phase ^= 1;
	}
}

/*
 * Write the pending completions the CQ has room for, never over an entry
 * the host has not released through CQ_HEAD.  *@room: slots known free
 * since CQ_HEAD was last read, kept across calls in one visit: the head
 * can only move forward, so it is read again only when they run out (once
 * per batch, not per command: the doorbell's cache line is the host's).
 * Return true when they are all out.
 */
static bool cq_flush(struct model *m, unsigned int qid, uint32_t *room)
{
	struct model_queue *q = &m->q[qid];

	if (q->npend && q->not_before) {
		uint64_t t = now_ns();

		if (t < q->not_before) {
			if (!m->next_deadline || q->not_before < m->next_deadline)
				m->next_deadline = q->not_before;
			return false;
		}
		q->not_before = 0;
	}
	while (q->npend) {
		if (!*room) {
			uint32_t head = ld32(m, cq_head_db(qid));

			if (head >= q->cq_size) {
				go_fatal(m);
				return false;
			}
			*room = (head + q->cq_size - q->cq_tail - 1) % q->cq_size;
			if (!*room)
				return false;	/* full: wait for the host */
		}
		/* Counted first: whoever sees the entry sees the count. */
		if (!q->pend[0].stale) {
			q->new_cqes++;
			model_stat_add(m, completions, 1);
			(*room)--;
		}
		cq_write(q, &q->pend[0]);
		q->pend[0] = q->pend[1];
		q->npend--;
	}
	return true;
}

/* ---- commands --------------------------------------------------------------- */

static bool length_ok(const struct model *m, uint32_t len)
{
	return len && len <= m->cfg.max_xfer;
}

static uint16_t do_guarded_write(struct model *m, const struct fpgactl_sqe *e)
{
	uint32_t off = e->cdw11, val = e->cdw12;
	uint8_t bytes[8];

	for (int i = 0; i < 4; i++) {
		bytes[i] = (uint8_t)(off >> (8 * i));
		bytes[4 + i] = (uint8_t)(val >> (8 * i));
	}
	/* Integrity first: a corrupted offset is reported as such. */
	if (crc16_ccitt_false(bytes, sizeof(bytes)) != (uint16_t)e->cdw13)
		return FPGACTL_SC_CRC_MISMATCH;
	if (off < FPGACTL_SC_GUARDED(0) ||
	    off > FPGACTL_SC_GUARDED(FPGACTL_SC_NR_GUARDED - 1) || (off & 3))
		return FPGACTL_SC_BAD_FIELD;
	m->guarded[(off - FPGACTL_SC_GUARDED(0)) / 4] = val;
	st32(m, off, val);
	return FPGACTL_SC_SUCCESS;
}

/* Commands that move data: check, translate every range, then transfer,
 * all under the IOMMU lock so no buffer is unmapped mid-transfer. */
static uint16_t do_dma(struct model *m, const struct fpgactl_sqe *e, uint32_t *result)
{
	uint32_t len = e->cdw10, lmem_off = e->cdw11, pattern = e->cdw11;
	uint16_t st = FPGACTL_SC_SUCCESS;
	uint8_t *src = NULL, *dst = NULL;

	if (!length_ok(m, len) || (e->opc == FPGACTL_SC_OP_FILL && (len & 3)))
		return FPGACTL_SC_BAD_LENGTH;
	if ((e->opc == FPGACTL_SC_OP_WRITE || e->opc == FPGACTL_SC_OP_READ) &&
	    (uint64_t)lmem_off + len > m->cfg.lmem_size)
		return FPGACTL_SC_BAD_LENGTH;

	dma_lock(m);
	switch (e->opc) {
	case FPGACTL_SC_OP_COPY:
		src = dma_va(m, e->addr0, len);
		dst = dma_va(m, e->addr1, len);
		if (src && dst)
			memmove(dst, src, len);
		break;
	case FPGACTL_SC_OP_FILL:
		src = (uint8_t *)&pattern;
		dst = dma_va(m, e->addr1, len);
		for (uint32_t i = 0; dst && i < len; i += 4)
			memcpy(dst + i, &pattern, 4);	/* little-endian hosts */
		break;
	case FPGACTL_SC_OP_CRC32C:
		dst = src = dma_va(m, e->addr0, len);
		if (src)
			*result = crc32c(src, len);
		break;
	case FPGACTL_SC_OP_WRITE:
		src = dma_va(m, e->addr0, len);
		dst = m->lmem + lmem_off;
		if (src)
			memcpy(dst, src, len);
		break;
	case FPGACTL_SC_OP_READ:
		src = m->lmem + lmem_off;
		dst = dma_va(m, e->addr1, len);
		if (dst)
			memcpy(dst, src, len);
		break;
	}
	dma_unlock(m);
	if (!src || !dst)
		st = FPGACTL_SC_DMA_FAULT;
	return st;
}

static uint16_t execute(struct model *m, const struct fpgactl_sqe *e, uint32_t *result)
{
	*result = 0;
	switch (e->opc) {
	case FPGACTL_SC_OP_NOP:
		return FPGACTL_SC_SUCCESS;
	case FPGACTL_SC_OP_COPY:
	case FPGACTL_SC_OP_FILL:
	case FPGACTL_SC_OP_CRC32C:
	case FPGACTL_SC_OP_WRITE:
	case FPGACTL_SC_OP_READ:
		return do_dma(m, e, result);
	case FPGACTL_SC_OP_GUARDED_WRITE:
		return do_guarded_write(m, e);
	default:
		return FPGACTL_SC_BAD_OPCODE;
	}
}

/* ---- fault injection -------------------------------------------------------- */

static enum model_fault fault_pick(struct model *m, unsigned int qid)
{
	const struct model_cfg *c = &m->cfg;
	uint64_t n;

	if (c->fault == MODEL_FAULT_NONE || (c->queue >= 0 && qid != (unsigned int)c->queue))
		return MODEL_FAULT_NONE;
	n = ++m->fault_seen;
	if (n <= c->after || (n - c->after) % c->every)
		return MODEL_FAULT_NONE;
	if (c->count && m->fault_done >= c->count)
		return MODEL_FAULT_NONE;
	m->fault_done++;
	model_stat_add(m, injected[c->fault], 1);
	return c->fault;
}

/* The device is gone: every BAR and config read returns all ones. */
static void model_remove(struct model *m)
{
	memset(m->bar0, 0xff, MODEL_BAR0_SIZE);
	memset(m->lmem, 0xff, m->cfg.lmem_size);
	m->host->removed(m->host->ctx);
	pthread_mutex_lock(&m->lock);
	__atomic_store_n(&m->removed, true, __ATOMIC_RELEASE);
	__atomic_store_n(&m->stats.removed, true, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

/* ---- the queue engine ------------------------------------------------------- */

/* Fetch and execute the entry at the SQ head; queue its completion. */
static void run_one(struct model *m, unsigned int qid)
{
	struct model_queue *q = &m->q[qid];
	struct model_pending *p = &q->pend[0];
	struct fpgactl_sqe e;
	enum model_fault f;
	uint32_t result;
	uint16_t st;

	memcpy(&e, q->sq + (size_t)q->sq_head * sizeof(e), sizeof(e));
	if (++q->sq_head == q->sq_size)
		q->sq_head = 0;
	model_stat_add(m, commands, 1);
	f = fault_pick(m, qid);
	if (f == MODEL_FAULT_STALL) {
		q->stalled = true;
		return;
	}
	if (f == MODEL_FAULT_REMOVAL) {
		model_remove(m);
		return;
	}
	st = execute(m, &e, &result);
	if (st)
		count_error(m);
	*p = (struct model_pending){
		.cqe = { .result = result, .sq_head = (uint16_t)q->sq_head,
			 .sq_id = (uint16_t)qid, .cid = e.cid,
			 .status = (uint16_t)(st << 1) },
	};
	q->npend = 1;
	switch (f) {
	case MODEL_FAULT_CORRUPT:
		p->cqe.cid = MODEL_CORRUPT_CID;
		p->cqe.result = MODEL_CORRUPT_RESULT;
		break;
	case MODEL_FAULT_DUPLICATE:
		q->pend[1] = *p;
		q->npend = 2;
		break;
	case MODEL_FAULT_STALE:
		p->stale = true;
		break;
	case MODEL_FAULT_BAD_SQ_HEAD:
		p->cqe.sq_head = (uint16_t)q->sq_size;
		break;
	default:
		break;
	}
	if (m->cfg.slow_ns)
		q->not_before = now_ns() + m->cfg.slow_ns;
}

/* Ask for the entries [sq_head, @tail) of this visit at once (at most
 * MODEL_BATCH), so that the cache misses on what the host has just written
 * overlap instead of coming one command at a time. */
static void sq_prefetch(const struct model_queue *q, uint32_t tail)
{
	uint32_t n = (tail + q->sq_size - q->sq_head) % q->sq_size, idx = q->sq_head;

	if (n > MODEL_BATCH)
		n = MODEL_BATCH;
	for (uint32_t i = 0; i < n; i++) {
		__builtin_prefetch(q->sq + (size_t)idx * sizeof(struct fpgactl_sqe), 0, 3);
		if (++idx == q->sq_size)
			idx = 0;
	}
}

/*
 * One visit of an active queue: the SQ tail read once, the entries up to it
 * (at most MODEL_BATCH) fetched and executed in order, each completion
 * written as its command finishes, one interrupt at the end.  Return true
 * when anything happened.
 */
static bool queue_run(struct model *m, unsigned int qid, uint32_t ctrl, uint32_t qctrl)
{
	struct model_queue *q = &m->q[qid];
	uint32_t room = 0;
	bool busy = false;
	uint32_t tail;

	q->new_cqes = 0;
	if (q->npend && !cq_flush(m, qid, &room))
		goto out;
	tail = ld32(m, sq_tail_db(qid));
	if (tail >= q->sq_size) {
		go_fatal(m);
		return true;
	}
	if (q->sq_head != tail)
		sq_prefetch(q, tail);
	for (int n = 0; n < MODEL_BATCH && q->sq_head != tail; n++) {
		busy = true;
		run_one(m, qid);
		if (__atomic_load_n(&m->removed, __ATOMIC_RELAXED))
			return true;
		if (q->stalled || m->fatal || !cq_flush(m, qid, &room))
			break;
	}
out:
	if (q->new_cqes) {
		busy = true;
		if ((ctrl & FPGACTL_SC_CTRL_IE) && (qctrl & FPGACTL_SC_QCTRL_IEN))
			raise_irq(m, (qctrl >> 8) & 0xff);
	}
	return busy;
}

static bool queue_poll(struct model *m, unsigned int qid, uint32_t ctrl)
{
	struct model_queue *q = &m->q[qid];
	uint32_t qctrl = ld32(m, q_reg(qid, FPGACTL_SC_Q_CTRL));

	if (!(qctrl & FPGACTL_SC_QCTRL_QEN)) {
		if (!q->en)
			return false;
		queue_disable(m, qid);
		return true;
	}
	if (!q->en) {
		/* qen_delay=: QSTATUS answers late, as a loaded device may. */
		if (m->cfg.qen_delay_ns) {
			if (!q->qen_seen)
				q->qen_seen = now_ns();
			if (now_ns() - q->qen_seen < m->cfg.qen_delay_ns)
				return false;
		}
		queue_enable(m, qid);
		return true;
	}
	if (!q->active || q->stalled || m->fatal)
		return false;
	return queue_run(m, qid, ctrl, qctrl);
}

static void ack_reset(struct model *m, unsigned int req)
{
	pthread_mutex_lock(&m->lock);
	m->reset_done = req;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

/* One pass over the registers and queues.  Return true when busy. */
static bool model_step(struct model *m)
{
	unsigned int req = __atomic_load_n(&m->reset_req, __ATOMIC_ACQUIRE);
	bool busy = false;
	uint32_t ctrl;

	if (req != m->reset_seen) {
		full_reset(m);
		m->reset_seen = req;
		ack_reset(m, req);
		busy = true;
	}
	ctrl = ld32(m, FPGACTL_SC_CTRL);
	if (!m->enabled && (ctrl & FPGACTL_SC_CTRL_EN)) {
		m->enabled = true;
		set_status(m, FPGACTL_SC_STATUS_RDY);
		busy = true;
	} else if (m->enabled && !(ctrl & FPGACTL_SC_CTRL_EN)) {
		soft_disable(m);
		busy = true;
	}
	for (unsigned int qid = 0; qid < m->cfg.nr_queues; qid++) {
		busy |= queue_poll(m, qid, ctrl);
		if (__atomic_load_n(&m->removed, __ATOMIC_RELAXED))
			break;
	}
	return busy;
}

/* Sleep the idle period, or until the next slow= deadline if sooner. */
static void idle_sleep(struct model *m)
{
	uint64_t ns = m->cfg.idle_ns;
	struct timespec ts;

	if (m->next_deadline) {
		uint64_t t = now_ns();

		if (m->next_deadline <= t)
			ns = 0;
		else if (m->next_deadline - t < ns)
			ns = m->next_deadline - t;
		m->next_deadline = 0;
	}
	if (!ns)
		return;
	ts.tv_sec = (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	nanosleep(&ts, NULL);
	model_stat_add(m, sleeps, 1);
}

void *model_thread(void *arg)
{
	struct model *m = arg;
	uint64_t idle_since = 0;
	unsigned int spins = 0;

	device_side_begin();
	/* Sleep for what is asked, not the default 50 us slack more. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		bool busy = model_step(m);

		if (__atomic_load_n(&m->removed, __ATOMIC_ACQUIRE))
			break;	/* the removal fault: the device is gone */
		if (busy) {
			idle_since = 0;
			continue;
		}
		cpu_relax();
		if (++spins % 64)
			continue;
		if (!idle_since) {
			idle_since = now_ns();
			continue;
		}
		if (now_ns() - idle_since < m->cfg.spin_ns)
			continue;
		restore_ro(m);
		idle_sleep(m);
	}
	device_side_end();
	return NULL;
}
