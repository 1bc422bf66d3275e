/* SPDX-License-Identifier: MIT */
#ifndef FPGACTL_SOFTCORE_H
#define FPGACTL_SOFTCORE_H

/*
 * Driver for the soft-core of docs/softcore.md: bring-up, queue pairs set
 * up through its registers, and one helper per command.  The prep helpers
 * only fill a submission entry in the ring; fpgactl_queue_submit() sends a
 * batch with one doorbell and fpgactl_queue_reap() collects completions.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <fpgactl/device.h>
#include <fpgactl/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FPGACTL_SC_ID_VALUE 0x5C0FC0DEu
#define FPGACTL_SC_VERSION_MAJOR 1

/* BAR0 registers (docs/softcore.md). */
#define FPGACTL_SC_ID 0x000
#define FPGACTL_SC_VERSION 0x004
#define FPGACTL_SC_CAP 0x008
/* Fields of CAP: deepest ring (MQES + 1), queue pairs (NQ), doorbell stride. */
#define FPGACTL_SC_CAP_MAX_DEPTH(cap) (((uint32_t)(cap) & 0xffff) + 1)
#define FPGACTL_SC_CAP_NQ(cap) (((uint32_t)(cap) >> 16) & 0xff)
#define FPGACTL_SC_CAP_DB_STRIDE(cap) (4u << (((uint32_t)(cap) >> 24) & 0xf))
#define FPGACTL_SC_LMEM_SIZE 0x00c
#define FPGACTL_SC_CTRL 0x010
#define FPGACTL_SC_STATUS 0x014
#define FPGACTL_SC_SCRATCH 0x018
#define FPGACTL_SC_MAX_XFER 0x01c
#define FPGACTL_SC_ERR_COUNT 0x020
#define FPGACTL_SC_QUEUE(q) (0x100 + 0x20 * (q))
#define FPGACTL_SC_Q_SQ_BASE 0x00
#define FPGACTL_SC_Q_CQ_BASE 0x08
#define FPGACTL_SC_Q_SIZE 0x10
#define FPGACTL_SC_Q_CTRL 0x14
#define FPGACTL_SC_Q_STATUS 0x18
#define FPGACTL_SC_GUARDED(i) (0x800 + 4 * (i))
#define FPGACTL_SC_NR_GUARDED 64
#define FPGACTL_SC_DOORBELLS 0x1000
/* BAR holding device-local memory. */
#define FPGACTL_SC_LMEM_BAR 2

#define FPGACTL_SC_CTRL_EN (1u << 0)
#define FPGACTL_SC_CTRL_IE (1u << 1)
#define FPGACTL_SC_STATUS_RDY (1u << 0)
#define FPGACTL_SC_STATUS_CFS (1u << 1)
#define FPGACTL_SC_QCTRL_QEN (1u << 0)
#define FPGACTL_SC_QCTRL_IEN (1u << 1)
#define FPGACTL_SC_QSTATUS_ACTIVE (1u << 0)
#define FPGACTL_SC_QSTATUS_QERR (1u << 1)

enum fpgactl_sc_opcode {
	FPGACTL_SC_OP_NOP = 0x00,
	FPGACTL_SC_OP_COPY = 0x01,
	FPGACTL_SC_OP_FILL = 0x02,
	FPGACTL_SC_OP_CRC32C = 0x03,
	FPGACTL_SC_OP_WRITE = 0x04,
	FPGACTL_SC_OP_READ = 0x05,
	FPGACTL_SC_OP_GUARDED_WRITE = 0x06,
};

enum fpgactl_sc_status {
	FPGACTL_SC_SUCCESS = 0x00,
	FPGACTL_SC_BAD_OPCODE = 0x01,
	FPGACTL_SC_BAD_LENGTH = 0x02,
	FPGACTL_SC_DMA_FAULT = 0x03,
	FPGACTL_SC_CRC_MISMATCH = 0x04,
	FPGACTL_SC_BAD_FIELD = 0x05,
};

struct fpgactl_sc;

/**
 * struct fpgactl_sc_opts - how to bring the soft-core up
 * @nr_queues: queue pairs to set up (at least 1, at most CAP.NQ)
 * @depth: entries per ring (power of two, at most CAP.MQES + 1)
 * @interrupts: ask for an interrupt per completion batch (QCTRL.IEN, on
 *	MSI-X vector = queue number).  Without it the soft-core never
 *	interrupts, and fpgactl_queue_wait() refuses the interrupt modes on
 *	its queues (-EINVAL)
 */
struct fpgactl_sc_opts {
	unsigned int nr_queues;
	uint32_t depth;
	bool interrupts;
};

/**
 * struct fpgactl_sc_info - what the soft-core reports
 * @version: VERSION register
 * @nr_queues: CAP.NQ
 * @max_depth: CAP.MQES + 1
 * @db_stride: doorbell stride in bytes
 * @lmem_size: bytes of local memory (BAR2)
 * @max_xfer: largest command LENGTH
 */
struct fpgactl_sc_info {
	uint32_t version;
	uint32_t nr_queues;
	uint32_t max_depth;
	uint32_t db_stride;
	uint32_t lmem_size;
	uint32_t max_xfer;
};

/**
 * fpgactl_sc_open() - bring the soft-core up and set up its queues
 * @dev: device whose BAR0 is the soft-core (fully mapped)
 * @opts: queues wanted
 * @err: receives -errno on failure; may be NULL
 *
 * Disables the soft-core, checks its identity and version, enables it,
 * and creates @opts->nr_queues queue pairs through the set-up registers.
 *
 * Return: the handle, or NULL with *@err set: -ENODEV (not this soft-core,
 * or the device reads all ones), -ETIMEDOUT (never became ready, or a queue
 * did not answer its enable in time), -EINVAL (options beyond what CAP
 * allows), -EIO (a queue set-up was refused: QSTATUS.QERR), or an error
 * from the queue or DMA layer.
 */
struct fpgactl_sc *fpgactl_sc_open(struct fpgactl_device *dev,
				   const struct fpgactl_sc_opts *opts, int *err);

/**
 * fpgactl_sc_close() - disable the queues and the soft-core, free them
 * @sc: handle, or NULL
 */
void fpgactl_sc_close(struct fpgactl_sc *sc);

/**
 * fpgactl_sc_reinit() - bring the soft-core up again on its device
 * @sc: handle whose device was reloaded, recovered or reset
 *	(fpgactl_device_reprogram(), fpgactl_device_recover(),
 *	fpgactl_device_reset())
 *
 * The device forgot its rings: the old queues are freed without writing to
 * the device (their commands are lost: abort them first to have them
 * complete with -ECANCELED), then identification, capabilities and the
 * queues are set up as fpgactl_sc_open() did, with the same options.  Queue
 * pointers change: fetch them again with fpgactl_sc_queue().  Interrupts
 * (opts.interrupts) must be enabled again by the caller first.
 *
 * Return: 0, or -errno as fpgactl_sc_open() (logged); on error the handle
 * may only be closed or re-initialised again.
 */
int fpgactl_sc_reinit(struct fpgactl_sc *sc);

/**
 * fpgactl_sc_get_info() - the soft-core's capabilities
 * @sc: handle
 * @info: filled in
 */
void fpgactl_sc_get_info(const struct fpgactl_sc *sc, struct fpgactl_sc_info *info);

/**
 * fpgactl_sc_queue() - one of the queue pairs
 * @sc: handle
 * @qid: below &fpgactl_sc_opts.nr_queues
 *
 * Return: the queue, or NULL for a bad @qid.
 */
struct fpgactl_queue *fpgactl_sc_queue(struct fpgactl_sc *sc, unsigned int qid);

/**
 * fpgactl_sc_queue_reset() - start one queue pair again from empty
 * @sc: handle
 * @qid: below &fpgactl_sc_opts.nr_queues
 *
 * The way out of lost completions short of closing the soft-core: every id
 * whose completion never comes stays quarantined (see fpgactl_queue_reap()),
 * and a queue can run out of ids.  Clears the queue's QCTRL.QEN, waits until
 * QSTATUS.ACTIVE reads 0 (the soft-core no longer touches the rings,
 * docs/softcore.md "Queue pair reset"), then fpgactl_queue_reset() and the
 * set-up again, as fpgactl_sc_open() did.  The other queues go on.
 *
 * Commands still active are dropped without a report: to hear of each one,
 * fpgactl_queue_abort() and reap its -ECANCELED reports first.  Their
 * buffers are safe to free once this returns 0.  The same queue handle
 * stays valid; the caller must not use it from another thread meanwhile.
 *
 * Return: 0; -EINVAL for a bad @qid (logged); -ETIMEDOUT when the soft-core
 * does not stop or restart the queue in time, -EIO when it refuses the set-up
 * (logged; the queue is then unusable: close the soft-core); or an error of
 * the register accessors (-ENODEV for a device that reads all ones).
 */
int fpgactl_sc_queue_reset(struct fpgactl_sc *sc, unsigned int qid);

/**
 * fpgactl_sc_guard_crc() - CRC-16/CCITT-FALSE of a guarded write
 * @reg: register offset (ARG0)
 * @value: value (ARG1)
 *
 * Return: the CRC over @reg then @value, each as 4 little-endian bytes.
 */
uint16_t fpgactl_sc_guard_crc(uint32_t reg, uint32_t value);

/**
 * fpgactl_crc32c() - CRC-32C as the CRC32C command computes it
 * @buf: data
 * @len: bytes
 *
 * Castagnoli polynomial, reflected, init and final XOR 0xFFFFFFFF, so a
 * host can check the soft-core's result.
 *
 * Return: the CRC.
 */
uint32_t fpgactl_crc32c(const void *buf, size_t len);

/**
 * fpgactl_sc_status_name() - name of a soft-core status code
 * @status: &fpgactl_completion.status
 *
 * Return: "SUCCESS", "DMA_FAULT", ..., or "UNKNOWN".
 */
const char *fpgactl_sc_status_name(unsigned int status);

/**
 * fpgactl_sc_wait() - submit, then poll until one command completes
 * @q: queue
 * @ctx: the context the command was prepared with
 * @timeout_ns: give up after this long
 * @out: receives the command's completion
 *
 * For tools and bring-up, on a queue with nothing else in flight: other
 * completions reaped meanwhile are dropped.
 *
 * Return: 0 when the command completed (look at @out->status and
 * @out->error), -ETIMEDOUT.
 */
int fpgactl_sc_wait(struct fpgactl_queue *q, void *ctx, uint64_t timeout_ns,
		    struct fpgactl_completion *out);

static inline struct fpgactl_sqe *fpgactl_sc__prep(struct fpgactl_queue *q,
						   uint8_t opc, void *ctx,
						   uint64_t timeout_ns)
{
	struct fpgactl_sqe *sqe = fpgactl_queue_get_sqe(q, ctx, timeout_ns);

	if (sqe)
		sqe->opc = opc;
	return sqe;
}

/*
 * Prep helpers: reserve and fill one submission entry.  Each returns 0, or
 * -EBUSY when the ring is full (reap first).  @ctx comes back with the
 * completion; @timeout_ns 0 means no deadline.
 */

/**
 * fpgactl_sc_prep_nop() - prepare a NOP command
 * @q: soft-core queue, from fpgactl_sc_queue()
 * @ctx: the caller's context, handed back in &fpgactl_completion.ctx
 * @timeout_ns: the command fails with -ETIMEDOUT when not completed within
 *	this many nanoseconds; 0 for no deadline
 *
 * Reserves and fills one submission entry of @q; fpgactl_queue_submit()
 * sends it (with the other entries reserved since the last submit) and
 * fpgactl_queue_reap() collects its completion.
 *
 * Return: 0, or -EBUSY when the ring is full (reap completions first).
 */
static inline int fpgactl_sc_prep_nop(struct fpgactl_queue *q, void *ctx,
				      uint64_t timeout_ns)
{
	return fpgactl_sc__prep(q, FPGACTL_SC_OP_NOP, ctx, timeout_ns) ? 0 : -EBUSY;
}

/**
 * fpgactl_sc_prep_copy() - prepare a COPY command: host memory to host memory
 * @q: soft-core queue, from fpgactl_sc_queue()
 * @src: IOVA of the source (ADDR0)
 * @dst: IOVA of the destination (ADDR1)
 * @len: bytes, at most &fpgactl_sc_info.max_xfer
 * @ctx: the caller's context, handed back in &fpgactl_completion.ctx
 * @timeout_ns: the command fails with -ETIMEDOUT when not completed within
 *	this many nanoseconds; 0 for no deadline
 *
 * Reserves and fills one submission entry of @q; fpgactl_queue_submit()
 * sends it (with the other entries reserved since the last submit) and
 * fpgactl_queue_reap() collects its completion.
 *
 * Return: 0, or -EBUSY when the ring is full (reap completions first).
 */
static inline int fpgactl_sc_prep_copy(struct fpgactl_queue *q, uint64_t src,
				       uint64_t dst, uint32_t len, void *ctx,
				       uint64_t timeout_ns)
{
	struct fpgactl_sqe *sqe = fpgactl_sc__prep(q, FPGACTL_SC_OP_COPY, ctx, timeout_ns);

	if (!sqe)
		return -EBUSY;
	sqe->addr0 = src;
	sqe->addr1 = dst;
	sqe->cdw10 = len;
	return 0;
}

/**
 * fpgactl_sc_prep_fill() - prepare a FILL command: a 32-bit pattern into host memory
 * @q: soft-core queue, from fpgactl_sc_queue()
 * @dst: IOVA of the destination (ADDR1)
 * @len: bytes, at most &fpgactl_sc_info.max_xfer
 * @pattern: 32-bit pattern repeated over the destination (ARG0)
 * @ctx: the caller's context, handed back in &fpgactl_completion.ctx
 * @timeout_ns: the command fails with -ETIMEDOUT when not completed within
 *	this many nanoseconds; 0 for no deadline
 *
 * Reserves and fills one submission entry of @q; fpgactl_queue_submit()
 * sends it (with the other entries reserved since the last submit) and
 * fpgactl_queue_reap() collects its completion.
 *
 * Return: 0, or -EBUSY when the ring is full (reap completions first).
 */
static inline int fpgactl_sc_prep_fill(struct fpgactl_queue *q, uint64_t dst,
				       uint32_t len, uint32_t pattern, void *ctx,
				       uint64_t timeout_ns)
{
	struct fpgactl_sqe *sqe = fpgactl_sc__prep(q, FPGACTL_SC_OP_FILL, ctx, timeout_ns);

	if (!sqe)
		return -EBUSY;
	sqe->addr1 = dst;
	sqe->cdw10 = len;
	sqe->cdw11 = pattern;
	return 0;
}

/**
 * fpgactl_sc_prep_crc32c() - prepare a CRC32C command over host memory
 * @q: soft-core queue, from fpgactl_sc_queue()
 * @src: IOVA of the data (ADDR0)
 * @len: bytes, at most &fpgactl_sc_info.max_xfer
 * @ctx: the caller's context, handed back in &fpgactl_completion.ctx
 * @timeout_ns: the command fails with -ETIMEDOUT when not completed within
 *	this many nanoseconds; 0 for no deadline
 *
 * Reserves and fills one submission entry of @q; fpgactl_queue_submit()
 * sends it (with the other entries reserved since the last submit) and
 * fpgactl_queue_reap() collects its completion.
 *
 * Return: 0, or -EBUSY when the ring is full (reap completions first).
 */
static inline int fpgactl_sc_prep_crc32c(struct fpgactl_queue *q, uint64_t src,
					 uint32_t len, void *ctx, uint64_t timeout_ns)
{
	struct fpgactl_sqe *sqe = fpgactl_sc__prep(q, FPGACTL_SC_OP_CRC32C, ctx, timeout_ns);

	if (!sqe)
		return -EBUSY;
	sqe->addr0 = src;
	sqe->cdw10 = len;
	return 0;
}

/**
 * fpgactl_sc_prep_write() - prepare a WRITE command: host memory to local memory
 * @q: soft-core queue, from fpgactl_sc_queue()
 * @src: IOVA of the host memory (ADDR0)
 * @lmem_off: offset in the soft-core's local memory, BAR2 (ARG0)
 * @len: bytes, at most &fpgactl_sc_info.max_xfer
 * @ctx: the caller's context, handed back in &fpgactl_completion.ctx
 * @timeout_ns: the command fails with -ETIMEDOUT when not completed within
 *	this many nanoseconds; 0 for no deadline
 *
 * Reserves and fills one submission entry of @q; fpgactl_queue_submit()
 * sends it (with the other entries reserved since the last submit) and
 * fpgactl_queue_reap() collects its completion.
 *
 * Return: 0, or -EBUSY when the ring is full (reap completions first).
 */
static inline int fpgactl_sc_prep_write(struct fpgactl_queue *q, uint64_t src,
					uint32_t lmem_off, uint32_t len, void *ctx,
					uint64_t timeout_ns)
{
	struct fpgactl_sqe *sqe = fpgactl_sc__prep(q, FPGACTL_SC_OP_WRITE, ctx, timeout_ns);

	if (!sqe)
		return -EBUSY;
	sqe->addr0 = src;
	sqe->cdw10 = len;
	sqe->cdw11 = lmem_off;
	return 0;
}

/**
 * fpgactl_sc_prep_read() - prepare a READ command: local memory to host memory
 * @q: soft-core queue, from fpgactl_sc_queue()
 * @lmem_off: offset in the soft-core's local memory, BAR2 (ARG0)
 * @dst: IOVA of the host memory (ADDR1)
 * @len: bytes, at most &fpgactl_sc_info.max_xfer
 * @ctx: the caller's context, handed back in &fpgactl_completion.ctx
 * @timeout_ns: the command fails with -ETIMEDOUT when not completed within
 *	this many nanoseconds; 0 for no deadline
 *
 * Reserves and fills one submission entry of @q; fpgactl_queue_submit()
 * sends it (with the other entries reserved since the last submit) and
 * fpgactl_queue_reap() collects its completion.
 *
 * Return: 0, or -EBUSY when the ring is full (reap completions first).
 */
static inline int fpgactl_sc_prep_read(struct fpgactl_queue *q, uint32_t lmem_off,
				       uint64_t dst, uint32_t len, void *ctx,
				       uint64_t timeout_ns)
{
	struct fpgactl_sqe *sqe = fpgactl_sc__prep(q, FPGACTL_SC_OP_READ, ctx, timeout_ns);

	if (!sqe)
		return -EBUSY;
	sqe->addr1 = dst;
	sqe->cdw10 = len;
	sqe->cdw11 = lmem_off;
	return 0;
}

/**
 * fpgactl_sc_prep_guarded_write_crc() - prepare a guarded register write with an explicit CRC
 * @q: soft-core queue, from fpgactl_sc_queue()
 * @reg: guarded register offset (ARG0)
 * @value: value (ARG1)
 * @crc: CRC-16 the soft-core checks (ARG2); a wrong one tests the guard
 * @ctx: the caller's context, handed back in &fpgactl_completion.ctx
 * @timeout_ns: the command fails with -ETIMEDOUT when not completed within
 *	this many nanoseconds; 0 for no deadline
 *
 * Reserves and fills one submission entry of @q; fpgactl_queue_submit()
 * sends it (with the other entries reserved since the last submit) and
 * fpgactl_queue_reap() collects its completion.
 *
 * Return: 0, or -EBUSY when the ring is full (reap completions first).
 */
static inline int fpgactl_sc_prep_guarded_write_crc(struct fpgactl_queue *q,
						    uint32_t reg, uint32_t value,
						    uint16_t crc, void *ctx,
						    uint64_t timeout_ns)
{
	struct fpgactl_sqe *sqe =
		fpgactl_sc__prep(q, FPGACTL_SC_OP_GUARDED_WRITE, ctx, timeout_ns);

	if (!sqe)
		return -EBUSY;
	sqe->cdw11 = reg;
	sqe->cdw12 = value;
	sqe->cdw13 = crc;
	return 0;
}

/**
 * fpgactl_sc_prep_guarded_write() - prepare a guarded register write
 * @q: soft-core queue, from fpgactl_sc_queue()
 * @reg: guarded register offset (ARG0)
 * @value: value (ARG1)
 * @ctx: the caller's context, handed back in &fpgactl_completion.ctx
 * @timeout_ns: the command fails with -ETIMEDOUT when not completed within
 *	this many nanoseconds; 0 for no deadline
 *
 * Reserves and fills one submission entry of @q; fpgactl_queue_submit()
 * sends it (with the other entries reserved since the last submit) and
 * fpgactl_queue_reap() collects its completion.
 *
 * Return: 0, or -EBUSY when the ring is full (reap completions first).
 */
static inline int fpgactl_sc_prep_guarded_write(struct fpgactl_queue *q,
						uint32_t reg, uint32_t value,
						void *ctx, uint64_t timeout_ns)
{
	return fpgactl_sc_prep_guarded_write_crc(q, reg, value,
						 fpgactl_sc_guard_crc(reg, value),
						 ctx, timeout_ns);
}

#ifdef __cplusplus
}
#endif
#endif
