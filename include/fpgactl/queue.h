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

_Static_assert(sizeof(struct fpgactl_sqe) == 64, "SQE is 64 bytes");
_Static_assert(sizeof(struct fpgactl_cqe) == 16, "CQE is 16 bytes");

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

/**
 * fpgactl_queue_create() - allocate a queue pair's rings and state
 * @dev: device the queue belongs to
 * @cfg: shape and doorbells
 * @err: receives -errno on failure; may be NULL
 *
 * Both rings are allocated in DMA memory mapped for @dev (zeroed, so the
 * first completion the device writes has phase 1).  The caller then tells
 * the device where they are (fpgactl_queue_sq_iova(),
 * fpgactl_queue_cq_iova()) in the device's own way.
 *
 * Return: the queue, or NULL with *@err set: -EINVAL for a bad shape, a
 * BAR that does not exist or a doorbell outside it, -ENOTSUP for a BAR not
 * mapped as a whole (see fpgactl_device_bar()), or an error of
 * fpgactl_dma_alloc().
 */
struct fpgactl_queue *fpgactl_queue_create(struct fpgactl_device *dev,
					   const struct fpgactl_queue_cfg *cfg,
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
struct fpgactl_sqe *fpgactl_queue_get_sqe(struct fpgactl_queue *q, void *ctx,
					  uint64_t timeout_ns);

/**
 * fpgactl_queue_submit() - hand the reserved entries to the device
 * @q: queue
 *
 * One write barrier and one tail doorbell write for the whole batch; nothing
 * when no entry was reserved.
 *
 * Return: the number of entries submitted.
 */
unsigned int fpgactl_queue_submit(struct fpgactl_queue *q);

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

/**
 * fpgactl_queue_reap() - collect finished commands
 * @q: queue
 * @out: array for the completions
 * @max: its size
 *
 * Consumes new completion entries (found by their phase tag), validates
 * each before use (status not all ones, SQ id the queue's, command id below
 * twice the depth, in flight and submitted, SQ head below the depth and not
 * moving backwards), then fails commands whose deadline has passed.  The CQ head doorbell is written once, at the end,
 * when entries were consumed.  Invalid entries are counted in the
 * statistics, logged, and reported with @ctx NULL and -EPROTO.
 *
 * Command ids are recycled oldest-first from a table twice the depth, so a
 * duplicated completion is caught rather than taken for a newer command
 * (an id just freed is handed out again only after at least depth + 1
 * other commands, fewer by the ids held back after a timeout or abort until
 * their late completion or a queue reset).  A completion for a command already reported as timed
 * out or aborted is consumed and counted as late, not reported.
 *
 * Return: the number of entries written to @out.
 */
unsigned int fpgactl_queue_reap(struct fpgactl_queue *q,
				struct fpgactl_completion *out, unsigned int max);

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
