/* SPDX-License-Identifier: MIT */
#ifndef FPGACTL_QUEUE_H
#define FPGACTL_QUEUE_H

/*
 * Ring-based submit/complete queues in DMA memory, NVMe-shaped: 64-byte
 * submission entries, 16-byte completion entries found by their phase tag,
 * tail and head doorbells in a BAR.  One engine drives the soft-core of
 * docs/softcore.md and an NVMe controller alike.
 *
 * A queue belongs to one thread at a time: the data path (get an entry,
 * fill it, submit, reap) takes no lock, makes no system call and copies
 * nothing.  Everything the device writes is validated before use.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <fpgactl/device.h>
#include <fpgactl/mmio.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct fpgactl_sqe - a submission queue entry (64 bytes)
 * @opc: opcode
 * @flags: 0 (NVMe: fused operation and PSDT)
 * @cid: command id, below twice the depth; set by fpgactl_queue_get_sqe(),
 *	do not change
 * @nsid: NVMe namespace id; 0 for the soft-core
 * @cdw2: NVMe CDW2
 * @cdw3: NVMe CDW3
 * @mptr: NVMe metadata pointer
 * @addr0: soft-core ADDR0 / NVMe PRP1
 * @addr1: soft-core ADDR1 / NVMe PRP2
 * @cdw10: soft-core LENGTH / NVMe CDW10
 * @cdw11: soft-core ARG0
 * @cdw12: soft-core ARG1
 * @cdw13: soft-core ARG2
 * @cdw14: NVMe CDW14
 * @cdw15: NVMe CDW15
 */
struct fpgactl_sqe {
	uint8_t opc;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	uint64_t addr0;
	uint64_t addr1;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};

/**
 * struct fpgactl_cqe - a completion queue entry (16 bytes), as the device
 *	writes it
 * @result: command specific (NVMe DW0)
 * @rsvd: NVMe DW1
 * @sq_head: submission queue head after this command was fetched
 * @sq_id: submission queue id
 * @cid: command id
 * @status: bit 0 phase tag, bits 15:1 status (code in bits 8:1)
 */
struct fpgactl_cqe {
	uint32_t result;
	uint32_t rsvd;
	uint16_t sq_head;
	uint16_t sq_id;
	uint16_t cid;
	uint16_t status;
};

/* C11 spells it _Static_assert, C++ static_assert: the header serves both. */
#ifdef __cplusplus
#define FPGACTL_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define FPGACTL_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif
FPGACTL_STATIC_ASSERT(sizeof(struct fpgactl_sqe) == 64, "SQE is 64 bytes");
FPGACTL_STATIC_ASSERT(sizeof(struct fpgactl_cqe) == 16, "CQE is 16 bytes");

/**
 * struct fpgactl_queue_cfg - shape and doorbells of a queue pair
 * @qid: queue pair number: doorbells at @db_offset + (2*qid [+1]) * @db_stride
 * @depth: entries per ring, a power of two from 2 to 4096; at most
 *	@depth - 1 commands are in flight
 * @bar: BAR holding the doorbells; it must be fully mapped
 * @db_offset: offset of the doorbell array in @bar (0x1000 for NVMe and
 *	the soft-core); a multiple of 4
 * @db_stride: bytes between doorbells (4 << DSTRD): a multiple of 4
 */
struct fpgactl_queue_cfg {
	uint16_t qid;
	uint32_t depth;
	uint32_t bar;
	uint64_t db_offset;
	uint32_t db_stride;
};

struct fpgactl_queue;
struct fpgactl_dma_buf;

/**
 * fpgactl_queue_create() - allocate a queue pair's rings and state
 * @dev: device the queue belongs to
 * @cfg: shape and doorbells
 * @err: receives -errno on failure; may be NULL
 *
 * Both rings are allocated in DMA memory mapped for @dev (zeroed, so the
 * first completion the device writes has phase 1).  The caller then tells
 * the device where they are (fpgactl_queue_sq_iova(),
 * fpgactl_queue_cq_iova()) in the device's own way.  The queue holds a
 * reference to @dev until fpgactl_queue_destroy(), which may come after
 * fpgactl_device_close().
 *
 * Return: the queue, or NULL with *@err set: -EINVAL for a bad shape, a
 * BAR that does not exist or a doorbell outside it, -ENOTSUP for a BAR not
 * mapped as a whole (see fpgactl_device_bar()), or an error of
 * fpgactl_dma_alloc().
 */
struct fpgactl_queue *fpgactl_queue_create(struct fpgactl_device *dev,
					   const struct fpgactl_queue_cfg *cfg,
					   int *err);

/** Alignment of each ring, in IOVA and CPU address: NVMe's 4 KiB page. */
#define FPGACTL_QUEUE_RING_ALIGN 4096u

/**
 * fpgactl_queue_ring_size() - bytes a queue pair's rings take in DMA memory
 * @depth: entries per ring, a power of two from 2 to 4096
 *
 * The layout fpgactl_queue_create() and fpgactl_queue_create_in() use: the
 * submission ring (@depth * 64 bytes) at the start, the completion ring
 * (@depth * 16 bytes) at the next multiple of FPGACTL_QUEUE_RING_ALIGN.
 * So a process that tells the device where the rings are can compute both
 * addresses of a slice another process will drive: SQ at the slice's IOVA,
 * CQ at that plus the SQ's size rounded up to 4 KiB.
 *
 * Return: the size, or 0 for a depth the engine does not take.
 */
size_t fpgactl_queue_ring_size(uint32_t depth);

/**
 * fpgactl_queue_create_in() - a queue pair whose rings live in a given
 *	DMA buffer
 * @dev: device the queue belongs to
 * @cfg: shape and doorbells, as for fpgactl_queue_create()
 * @buf: a buffer mapped in @dev's IOMMU context: one from
 *	fpgactl_dma_alloc() or fpgactl_dma_map() for a device of that
 *	context, or one fpgactl_share_import() returned with @dev
 * @offset: where the rings start in @buf: a multiple of
 *	FPGACTL_QUEUE_RING_ALIGN
 * @err: receives -errno on failure; may be NULL
 *
 * The same engine as fpgactl_queue_create(), without a DMA allocation of
 * its own: the rings take fpgactl_queue_ring_size(@cfg->depth) bytes of
 * @buf from @offset on, laid out as that function says.  This is how a
 * process that imported a device (docs/architecture.md, "Sharing a device
 * between processes") drives a queue: an imported context maps nothing
 * new, so the rings must lie in a buffer the exporter shared, and both
 * processes agree on the slice.  The slice is zeroed here (the first
 * completion the device writes has phase 1): create the queue before the
 * device is told where the rings are, or after its queue was disabled.
 * The library does not know what else uses @buf: slices of queues that are
 * in use at the same time must not overlap, and nothing else may write
 * them.  @buf must stay allocated until fpgactl_queue_destroy(), which
 * leaves it allocated.
 *
 * Return: the queue, or NULL with *@err set: the errors of
 * fpgactl_queue_create() but those of fpgactl_dma_alloc(), and -EINVAL
 * for a NULL @buf, a buffer of another IOMMU context, an @offset that is
 * not a multiple of FPGACTL_QUEUE_RING_ALIGN, or rings that do not fit in
 * @buf after @offset; each refusal logged with its fix.
 */
struct fpgactl_queue *fpgactl_queue_create_in(struct fpgactl_device *dev,
					      const struct fpgactl_queue_cfg *cfg,
					      struct fpgactl_dma_buf *buf, size_t offset,
					      int *err);

/**
 * fpgactl_queue_destroy() - free a queue
 * @q: queue, or NULL
 *
 * The device must no longer use the rings (disable the queue first).
 * Commands still in flight are dropped without completion.
 */
void fpgactl_queue_destroy(struct fpgactl_queue *q);

/** fpgactl_queue_sq_iova() - IOVA of the submission ring. */
uint64_t fpgactl_queue_sq_iova(const struct fpgactl_queue *q);
/** fpgactl_queue_cq_iova() - IOVA of the completion ring. */
uint64_t fpgactl_queue_cq_iova(const struct fpgactl_queue *q);
/** fpgactl_queue_depth() - entries per ring. */
uint32_t fpgactl_queue_depth(const struct fpgactl_queue *q);

/**
 * struct fpgactl_completion - a finished command, as reaped
 * @ctx: the context given to fpgactl_queue_get_sqe(); NULL for a
 *	completion that matched no command (@error is -EPROTO)
 * @result: the completion's result field
 * @status: the device's status code (status field bits 15:1); 0 success
 * @error: 0 when the device completed the command (look at @status);
 *	-ETIMEDOUT, -ECANCELED (fpgactl_queue_abort()), -EPROTO (a corrupt
 *	completion was discarded), or -ENODEV (all-ones completion: the device
 *	may be gone)
 */
struct fpgactl_completion {
	void *ctx;
	uint32_t result;
	uint16_t status;
	int error;
};
FPGACTL_STATIC_ASSERT(offsetof(struct fpgactl_completion, error) ==
		      offsetof(struct fpgactl_completion, status) + 4 &&
		      sizeof(int) == 4, "status and error share 8 bytes");

/**
 * struct fpgactl_queue_stats - counters since the queue was created
 * @submitted: commands handed to the device
 * @completed: completions consumed that matched a command
 * @sq_doorbells: tail doorbell writes
 * @cq_doorbells: head doorbell writes
 * @bad_completions: completions discarded as invalid
 * @timeouts: commands failed by their deadline
 * @aborted: commands failed by fpgactl_queue_abort()
 * @late_completions: completions that arrived after their command timed
 *	out or was aborted (consumed, not reported again)
 */
struct fpgactl_queue_stats {
	uint64_t submitted;
	uint64_t completed;
	uint64_t sq_doorbells;
	uint64_t cq_doorbells;
	uint64_t bad_completions;
	uint64_t timeouts;
	uint64_t aborted;
	uint64_t late_completions;
};

/*
 * ---- The data path's state: part of the ABI (LIBFPGACTL_0.5) ----
 *
 * fpgactl_queue_get_sqe(), fpgactl_queue_submit() and fpgactl_queue_reap()
 * are inline functions working on the first part of every queue, laid out
 * below; what is rare (the ring or the ids exhausted as far as the inline
 * path knows, a command with a timeout, a completion that is not a plain
 * success of an untimed command in flight, aborts, deadlines) is handed to
 * the out-of-line fpgactl_queue__*() functions.  An application compiled
 * against this header depends on this layout and on what the inline code
 * keeps up to date, so both change only with a new version node in the
 * library's symbol map.  Applications never touch these fields: use the
 * functions.  The library also exports the three functions under their
 * names, for applications built against LIBFPGACTL_0.1 and for bindings
 * that cannot use inline functions (define FPGACTL_NO_INLINE before
 * including this header to call those).
 */

/* &fpgactl_queue_slot.state values the inline path uses. */
#define FPGACTL_QUEUE__CID_FREE 0
#define FPGACTL_QUEUE__CID_IN_FLIGHT 1	/* untimed, reserved or submitted */
/* &fpgactl_queue_ring.flags: work for the out-of-line paths. */
#define FPGACTL_QUEUE__UNARMED 1u	/* reserved timeouts to arm at submit */
#define FPGACTL_QUEUE__RARE 2u		/* deadlines or aborts for reap */

/**
 * struct fpgactl_queue_slot - what the host knows of one command id
 * @ctx: the caller's context
 * @sq_pos: free-running SQ index of its entry
 * @state: FPGACTL_QUEUE__CID_FREE, FPGACTL_QUEUE__CID_IN_FLIGHT, or one of
 *	the library's own states (timed, timed out, aborted)
 * @rsvd: 0
 */
struct fpgactl_queue_slot {
	void *ctx;
	uint32_t sq_pos;
	uint8_t state;
	uint8_t rsvd[3];
};

/**
 * struct fpgactl_queue_ring - the first part of every &struct fpgactl_queue
 * @sq: submission ring
 * @cq: completion ring
 * @slots: one per command id, twice the depth
 * @free_cids: FIFO of free command ids, @free_head..@free_tail
 * @mask: depth - 1
 * @sq_tail: entries reserved (free-running)
 * @sq_doorbell: tail last written to the SQ doorbell (free-running)
 * @sq_head: SQ head as the last valid completion reported it
 * @cq_head: next CQ entry to look at (free-running; its phase tag is 1 on
 *	even passes over the ring, 0 on odd ones: bit log2(depth))
 * @free_head: FIFO head (free-running, 16 bits)
 * @free_tail: FIFO tail
 * @rsvd0: 0
 * @qid: queue pair number, the SQ id completions must carry
 * @flags: FPGACTL_QUEUE__UNARMED, FPGACTL_QUEUE__RARE
 * @room: entries fpgactl_queue_get_sqe() may hand out before it asks the
 *	library again: a lower bound of the least of the SQ's free slots,
 *	depth - 1 - the commands active and the free ids.  Each reservation
 *	lowers all three by one and nothing else lowers any of them, so the
 *	inline path only counts it down; at 0, fpgactl_queue__get_sqe_slow()
 *	recomputes it.  Reaps leave it alone.
 * @sq_db: the SQ tail doorbell
 * @cq_db: the CQ head doorbell
 * @cq_end: one past the CQ's last entry (where a reap wraps)
 * @stats: counters
 *
 * Everything each command touches lies in the first 64 bytes; the
 * doorbells and counters, touched once per batch, in the next line.
 */
struct fpgactl_queue_ring {
	struct fpgactl_sqe *sq;
	struct fpgactl_cqe *cq;
	struct fpgactl_queue_slot *slots;
	uint16_t *free_cids;
	uint32_t mask;
	uint32_t sq_tail;
	uint32_t sq_doorbell;
	uint32_t sq_head;
	uint32_t cq_head;
	uint16_t free_head;
	uint16_t free_tail;
	uint16_t rsvd0;
	uint16_t qid;
	uint16_t flags;
	uint16_t room;
	volatile uint32_t *sq_db __attribute__((aligned(64)));
	volatile uint32_t *cq_db;
	const struct fpgactl_cqe *cq_end;
	struct fpgactl_queue_stats stats;
};

FPGACTL_STATIC_ASSERT(sizeof(struct fpgactl_queue_slot) == 16, "slot is 16 bytes");
FPGACTL_STATIC_ASSERT(offsetof(struct fpgactl_queue_ring, sq_db) == 64,
	       "per-command fields in one cache line");

/**
 * fpgactl_queue__get_sqe_slow() - fpgactl_queue_get_sqe() when @room is 0
 * @q: queue
 * @ctx: as for fpgactl_queue_get_sqe()
 * @timeout_ns: as for fpgactl_queue_get_sqe()
 *
 * Out-of-line part of fpgactl_queue_get_sqe(): recomputes
 * &fpgactl_queue_ring.room and reserves the entry if there is room.  Not
 * for direct use.
 *
 * Return: the entry, or NULL when the ring or the command ids are exhausted.
 */
struct fpgactl_sqe *fpgactl_queue__get_sqe_slow(struct fpgactl_queue *q, void *ctx,
						uint64_t timeout_ns);

/**
 * fpgactl_queue__set_timeout() - record a reserved command's timeout
 * @q: queue
 * @cid: the command id fpgactl_queue_get_sqe() just reserved
 * @timeout_ns: nanoseconds, not 0
 *
 * Out-of-line part of fpgactl_queue_get_sqe(); not for direct use.
 */
void fpgactl_queue__set_timeout(struct fpgactl_queue *q, uint16_t cid,
				uint64_t timeout_ns);

/**
 * fpgactl_queue__submit_timed() - fpgactl_queue_submit() of a batch that
 *	holds a command with a timeout
 * @q: queue
 *
 * Out-of-line part of fpgactl_queue_submit(): starts the deadlines of the
 * entries being submitted (one clock read), then submits as the inline
 * path does.  Not for direct use.
 *
 * Return: the number of entries submitted.
 */
unsigned int fpgactl_queue__submit_timed(struct fpgactl_queue *q);

/**
 * fpgactl_queue__reap_slow() - the rest of a reap that met an unusual entry
 * @q: queue, with its &struct fpgactl_queue_ring up to date
 * @out: the caller's array
 * @n: completions the inline path wrote to @out (all plain successes,
 *	already taken off the ring and their ids freed, not yet counted in
 *	&fpgactl_queue_stats.completed)
 * @max: size of @out
 *
 * Out-of-line part of fpgactl_queue_reap(): takes over at the entry at
 * cq_head (an error status, a corrupt entry, a late completion, a timed
 * command) with every check of docs/queues.md, then does the reap's
 * once-per-batch work.  Not for direct use.
 *
 * Return: the number of entries written to @out, @n included.
 */
unsigned int fpgactl_queue__reap_slow(struct fpgactl_queue *q,
				      struct fpgactl_completion *out, unsigned int n,
				      unsigned int max);

/**
 * fpgactl_queue__reap_rare() - report aborted and expired commands
 * @q: queue
 * @out: array for the completions
 * @max: its size
 *
 * Out-of-line part of fpgactl_queue_reap(); not for direct use.
 *
 * Return: the number of entries written to @out.
 */
unsigned int fpgactl_queue__reap_rare(struct fpgactl_queue *q,
				      struct fpgactl_completion *out, unsigned int max);

/* The exported copies (the library defines FPGACTL_QUEUE_INLINE). */
#if defined(FPGACTL_NO_INLINE) || defined(FPGACTL_QUEUE_INLINE)
struct fpgactl_sqe *fpgactl_queue_get_sqe(struct fpgactl_queue *q, void *ctx,
					  uint64_t timeout_ns);
unsigned int fpgactl_queue_submit(struct fpgactl_queue *q);
unsigned int fpgactl_queue_reap(struct fpgactl_queue *q,
				struct fpgactl_completion *out, unsigned int max);
#endif

#ifndef FPGACTL_NO_INLINE
#ifndef FPGACTL_QUEUE_INLINE
#define FPGACTL_QUEUE_INLINE static inline
#endif

/* The library's view of the opaque queue; see &struct fpgactl_queue_ring. */
static inline struct fpgactl_queue_ring *fpgactl_queue__ring(struct fpgactl_queue *q)
{
	return (struct fpgactl_queue_ring *)(void *)q;
}

/*
 * Reserve the entry at the SQ tail for @ctx, room permitting (the caller
 * checked &fpgactl_queue_ring.room and counted it down): the oldest free
 * id, its slot filled, the entry zeroed but for the id.  Shared by the
 * inline fpgactl_queue_get_sqe() and the library's
 * fpgactl_queue__get_sqe_slow().
 */
static inline __attribute__((always_inline)) struct fpgactl_sqe *
__fpgactl_queue_take(struct fpgactl_queue_ring *r, void *ctx)
{
	const uint32_t tail = r->sq_tail;
	const uint16_t cid = r->free_cids[r->free_head++ & (2 * r->mask + 1)];
	struct fpgactl_queue_slot *const s = &r->slots[cid];
	struct fpgactl_sqe *const sqe = &r->sq[tail & r->mask];

	r->sq_tail = tail + 1;
	s->ctx = ctx;
	s->sq_pos = tail;
	s->state = FPGACTL_QUEUE__CID_IN_FLIGHT;
	__builtin_memset(sqe, 0, sizeof(*sqe));
	sqe->cid = cid;
	return sqe;
}

/**
 * fpgactl_queue_get_sqe() - reserve the next submission entry
 * @q: queue
 * @ctx: the caller's context, handed back with the completion
 * @timeout_ns: the command fails with -ETIMEDOUT if not completed within
 *	this many nanoseconds of its fpgactl_queue_submit() (checked by
 *	fpgactl_queue_reap()); 0 for none.  An entry reserved but not yet
 *	submitted cannot time out, so a command reported -ETIMEDOUT is
 *	never handed to the device afterwards.
 *
 * The entry is the ring slot itself (zero-copy), zeroed but for @cid.
 * Fill it, then make it visible with fpgactl_queue_submit(); entries
 * reserved since the last submit go to the device together.
 *
 * Return: the entry, or NULL when the ring or the command ids are exhausted
 * (reap completions first).
 */
FPGACTL_QUEUE_INLINE struct fpgactl_sqe *
fpgactl_queue_get_sqe(struct fpgactl_queue *q, void *ctx, uint64_t timeout_ns)
{
	struct fpgactl_queue_ring *r = fpgactl_queue__ring(q);
	struct fpgactl_sqe *sqe;

	/*
	 * NVMe: the SQ is full when tail + 1 == head, so depth - 1 entries at
	 * most; the same bound on commands in flight keeps the CQ from ever
	 * filling up; ids held back (timed out, aborted) use the spare half
	 * of the id table.  @room is a lower bound of the least of the three,
	 * recomputed out of line when it runs out.
	 */
	uint16_t room;

	if (__builtin_expect(__builtin_sub_overflow(r->room, 1, &room), 0))
		return fpgactl_queue__get_sqe_slow(q, ctx, timeout_ns);
	r->room = room;
	sqe = __fpgactl_queue_take(r, ctx);
	if (timeout_ns)
		fpgactl_queue__set_timeout(q, sqe->cid, timeout_ns);
	return sqe;
}

/* The doorbell of a batch of @n entries ending at @tail (not 0). */
static inline __attribute__((always_inline)) unsigned int
__fpgactl_queue_ring_sq(struct fpgactl_queue_ring *r, uint32_t tail, unsigned int n)
{
	/* The entries must be in memory before the device hears of them. */
	fpgactl_io_wmb();
	/* NVMe: SQ y Tail Doorbell, one write for the whole batch. */
	*r->sq_db = tail & r->mask;
	r->sq_doorbell = tail;
	r->stats.submitted += n;
	r->stats.sq_doorbells++;
	return n;
}

/**
 * fpgactl_queue_submit() - hand the reserved entries to the device
 * @q: queue
 *
 * One write barrier and one tail doorbell write for the whole batch; nothing
 * when no entry was reserved.  The barrier (fpgactl_io_wmb()) orders the
 * CPU's ordinary stores (the entries, the data they point to) before the
 * doorbell; a caller that filled buffers with non-temporal stores or
 * through a write-combining mapping issues fpgactl_wmb() itself first.
 *
 * Return: the number of entries submitted.
 */
FPGACTL_QUEUE_INLINE unsigned int fpgactl_queue_submit(struct fpgactl_queue *q)
{
	struct fpgactl_queue_ring *r = fpgactl_queue__ring(q);
	uint32_t tail = r->sq_tail;
	unsigned int n = tail - r->sq_doorbell;

	if (!n)
		return 0;
	if (__builtin_expect(r->flags & FPGACTL_QUEUE__UNARMED, 0))
		return fpgactl_queue__submit_timed(q);
	return __fpgactl_queue_ring_sq(r, tail, n);
}

/*
 * The second half of a CQE (bytes 8-15: SQ head, SQ id, command id, status),
 * read as one little-endian 64-bit word, so that one XOR with the value a
 * plain completion must have and one AND with the bits that must match test
 * four fields at once.  Aliases the 16-bit fields.
 */
typedef uint64_t __attribute__((may_alias)) fpgactl_queue__cqe_word;
/*
 * On x86-64 that word is read once, the status with the rest: an aligned
 * 8-byte load is atomic there and loads are not reordered with loads, so
 * a load that sees the new status sees the fields the device wrote with or
 * before it, the same guarantee the status-then-barrier-then-fields reads
 * give (x86's DMA read barrier is only a compiler barrier).  Elsewhere the
 * status is read first, then, after fpgactl_dma_rmb(), the word.
 */
#if defined(__x86_64__)
#define FPGACTL_QUEUE__ONE_LOAD 1
#else
#define FPGACTL_QUEUE__ONE_LOAD 0
#endif
#define FPGACTL_QUEUE__W_SQ_ID 16	/* bit offsets in that word */
#define FPGACTL_QUEUE__W_CID 32
#define FPGACTL_QUEUE__W_STATUS 48

/*
 * The fast loop of fpgactl_queue_reap(), for a queue whose reserved entries
 * were all submitted: consume up to @max entries that are a successful
 * completion of an untimed command in flight with a plausible SQ head,
 * writing completions to @out.  *@slow is set when it stopped at an entry
 * for fpgactl_queue__reap_slow() (at &fpgactl_queue_ring.cq_head).
 *
 * Per entry (docs/queues.md, "Validation of completions"):
 * - on arm64 (and all but x86-64), the status word is loaded alone and its
 *   phase compared: a new entry?  Then the barrier.
 * - bytes 8-15 once, as one word W (on x86-64 this load is the status's
 *   too, and a phase mismatch in it ends the loop): W XOR the expected
 *   value (status = the phase alone, i.e. success; SQ id = ours), ANDed
 *   with the bits that must match (the status and the SQ id whole, the
 *   command id's bits above 2 * depth - 1, the SQ head's above depth - 1),
 *   must be 0.  What is left of that XOR is the command id (bits 47:32)
 *   and the SQ head (bits 15:0), already range-checked, and read once: a
 *   device rewriting the entry cannot make them differ from what was
 *   checked;
 * - the id's slot must be in flight (untimed);
 * - the SQ head must lie in [last head, submitted tail] in ring order.  The
 *   loop keeps @avail, how far the submitted tail is from the last head:
 *   the new head is in range exactly when (tail - head) mod depth is at
 *   most @avail, and that distance is the new @avail.
 *
 * No id can be reserved and not submitted here (the caller checked), so
 * the "not submitted yet" test holds for every id without a look.  The
 * walk follows the CQ with a pointer; at the CQ's end it wraps, and the
 * phase and the expected word flip.  What is per batch (the CQ and SQ
 * heads, the FIFO's tail) is written back once at the end.
 *
 * Return: the number of completions written.
 */
static inline __attribute__((always_inline)) unsigned int
__fpgactl_queue_reap_fast(struct fpgactl_queue_ring *r, struct fpgactl_completion *out,
			  unsigned int max, int *slow)
{
	const uint32_t mask = r->mask, cid_mask = 2 * mask + 1;
	struct fpgactl_queue_slot *const slots = r->slots;
	uint16_t *const free_cids = r->free_cids;
	const uint32_t start = r->cq_head, sq_doorbell = r->sq_doorbell;
	const uint32_t free_tail = r->free_tail, sq_tail_idx = sq_doorbell & mask;
	/* Bits of W that must equal those of @expect: all but the command
	 * id's below 2 * depth and the SQ head's below the depth. */
	const uint64_t must = ~((uint64_t)cid_mask << FPGACTL_QUEUE__W_CID | mask);
	/* NVMe: Phase Tag, 1 on even passes over the ring. */
	uint32_t phase = !(start & (mask + 1));
	uint64_t expect = (uint64_t)phase << FPGACTL_QUEUE__W_STATUS |
			  (uint64_t)r->qid << FPGACTL_QUEUE__W_SQ_ID;
	/* SQ entries submitted and not yet fetched, as far as we know. */
	uint32_t avail = sq_doorbell - r->sq_head;
	const struct fpgactl_cqe *cqe = &r->cq[start & mask];
	const struct fpgactl_cqe *const end = r->cq_end;
	struct fpgactl_completion *o = out;
	uint32_t ft = free_tail;
	unsigned int left = max, n;

	for (; left; left--, o++) {
		struct fpgactl_queue_slot *s;
		uint64_t w;
		uint32_t dist;
		const uint64_t zero = 0;
#if FPGACTL_QUEUE__ONE_LOAD
		/* The status and the fields the loop checks in one load; an
		 * acquire (a plain load on x86) keeps the compiler from
		 * moving the result's load before it. */
		w = __atomic_load_n((const fpgactl_queue__cqe_word *)(const void *)&cqe->sq_head,
				    __ATOMIC_ACQUIRE) ^ expect;
		if (__builtin_expect(w & must, 0)) {
			/* An entry of the previous pass (phase bit differs) is
			 * not new; any other difference goes out of line. */
			*slow = !(w >> FPGACTL_QUEUE__W_STATUS & 1);
			break;
		}
#else
		const uint32_t status = __atomic_load_n(&cqe->status, __ATOMIC_RELAXED);

		if (status != phase) {
			/* An entry of the previous pass is not new; a new
			 * one with an error status goes out of line. */
			*slow = !((status ^ phase) & 1);
			break;
		}
		/* The rest of the entry only after its phase. */
		fpgactl_dma_rmb();
		w = __atomic_load_n((const fpgactl_queue__cqe_word *)(const void *)&cqe->sq_head,
				    __ATOMIC_RELAXED) ^ expect;
		if (__builtin_expect(w & must, 0))
			goto bad;
#endif
		/* NVMe: SQ Head Pointer, the SQ's flow control (bits
		 * 15:0 of w; the mask drops the rest). */
		dist = (sq_tail_idx - (uint32_t)w) & mask;
		w >>= FPGACTL_QUEUE__W_CID;	/* the command id */
		s = &slots[w];
		if (__builtin_expect(s->state != FPGACTL_QUEUE__CID_IN_FLIGHT, 0))
			goto bad;
		if (__builtin_expect(dist > avail, 0))
			goto bad;
		avail = dist;
		o->ctx = s->ctx;
		o->result = __atomic_load_n(&cqe->result, __ATOMIC_RELAXED);
		/* status and error 0 (and the padding between): one store */
		__builtin_memcpy((char *)o + offsetof(struct fpgactl_completion, status),
				 &zero, sizeof(zero));
		s->state = FPGACTL_QUEUE__CID_FREE;
		/* Oldest freed, first reused. */
		free_cids[ft++ & cid_mask] = (uint16_t)w;
		if (__builtin_expect(++cqe == end, 0)) {
			/* Wrapped: the next pass has the other phase. */
			cqe = r->cq;
			phase ^= 1;
			expect ^= (uint64_t)1 << FPGACTL_QUEUE__W_STATUS;
		}
		continue;
bad:
		*slow = 1;
		break;
	}
	n = max - left;
	r->cq_head = start + n;
	r->sq_head = sq_doorbell - avail;
	r->free_tail = (uint16_t)(free_tail + n);
	return n;
}

/**
 * fpgactl_queue_reap() - collect finished commands
 * @q: queue
 * @out: array for the completions
 * @max: its size
 *
 * Consumes new completion entries (found by their phase tag), validates
 * each before use (status not all ones, SQ id the queue's, command id below
 * twice the depth, in flight and submitted, SQ head below the depth and not
 * moving backwards), then fails commands whose deadline has passed.  The
 * CQ head doorbell is written once, at the end, when entries were consumed.
 * Invalid entries are counted in the statistics, logged, and reported with
 * @ctx NULL and -EPROTO.
 *
 * Command ids are recycled oldest-first from a table twice the depth, so a
 * duplicated completion is caught rather than taken for a newer command
 * (an id just freed is handed out again only after at least depth + 1
 * other commands, fewer by the ids held back after a timeout or abort until
 * their late completion or a queue reset).  A completion for a command
 * already reported as timed out or aborted is consumed and counted as late,
 * not reported.
 *
 * The common case (a valid completion of an untimed command in flight)
 * runs inline; at any other entry, the rest of the reap goes out of line
 * (fpgactl_queue__reap_slow()) with the ring state written back first.
 *
 * Return: the number of entries written to @out.
 */
FPGACTL_QUEUE_INLINE unsigned int
fpgactl_queue_reap(struct fpgactl_queue *q, struct fpgactl_completion *out,
		   unsigned int max)
{
	struct fpgactl_queue_ring *r = fpgactl_queue__ring(q);
	int slow = r->sq_tail != r->sq_doorbell;
	unsigned int n = 0;

	/* Entries reserved and not submitted: every check out of line.  The
	 * inline loop needs no bound of one pass over the ring besides @max:
	 * each entry it takes frees an id in flight, and at most depth - 1
	 * are (none is reserved during a reap). */
	if (__builtin_expect(!slow, 1))
		n = __fpgactl_queue_reap_fast(r, out, max, &slow);
	if (__builtin_expect(slow, 0))
		return fpgactl_queue__reap_slow(q, out, n, max);
	if (n) {
		/* Per batch: the completions counted, then, our loads of the
		 * released entries done before the device may overwrite
		 * them, NVMe's CQ y Head Doorbell, once. */
		r->stats.completed += n;
		fpgactl_dma_mb();
		*r->cq_db = r->cq_head & r->mask;
		r->stats.cq_doorbells++;
	}
	if (__builtin_expect(r->flags & FPGACTL_QUEUE__RARE, 0))
		n += fpgactl_queue__reap_rare(q, out + n, max - n);
	return n;
}
#endif /* FPGACTL_NO_INLINE */

/**
 * fpgactl_queue_abort() - fail every command in flight
 * @q: queue
 *
 * For a device that stopped answering: every command in flight is reported
 * by the following fpgactl_queue_reap() calls with -ECANCELED, oldest
 * first (in the order their entries were reserved).  Entries reserved but
 * not yet submitted are taken back (a later submit does not send them) and
 * their ids are free again once reported; which ids those are is known from
 * the host's own record, never read back from the SQ ring.  The command ids
 * of submitted commands stay unusable until their late completion arrives
 * or fpgactl_queue_reset(), since the device may still complete them.
 *
 * Return: the number of commands aborted.
 */
unsigned int fpgactl_queue_abort(struct fpgactl_queue *q);

/**
 * fpgactl_queue_reset() - start the rings again from empty
 * @q: queue
 *
 * After the device's queue was disabled (or the device reset): clears both
 * rings and every command id.  Commands in flight are dropped.
 */
void fpgactl_queue_reset(struct fpgactl_queue *q);

/**
 * fpgactl_queue_in_flight() - commands submitted and not yet reaped
 * @q: queue
 *
 * Return: the count, including reserved but unsubmitted entries.
 */
unsigned int fpgactl_queue_in_flight(const struct fpgactl_queue *q);


/**
 * fpgactl_queue_get_stats() - read the counters
 * @q: queue
 * @stats: filled in
 */
void fpgactl_queue_get_stats(const struct fpgactl_queue *q,
			     struct fpgactl_queue_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
