// SPDX-License-Identifier: MIT
/*
 * Driver for the soft-core of docs/softcore.md: bring-up and queue set-up
 * through its registers.  The commands themselves are the inline prep
 * helpers of <fpgactl/softcore.h> on the generic ring engine.
 */
#include <stdlib.h>
#include <time.h>

#include "core/core.h"
#include "vfio/vfio.h"
#include "queue/queue.h"
#include "core/crc.h"

#define READY_TIMEOUT_US 500000
#define QUEUE_TIMEOUT_US 100000
/* The queue register blocks end where the guarded registers begin. */
#define MAX_QUEUES ((FPGACTL_SC_GUARDED(0) - FPGACTL_SC_QUEUE(0)) / \
		    (FPGACTL_SC_QUEUE(1) - FPGACTL_SC_QUEUE(0)))

/**
 * struct fpgactl_sc - a soft-core brought up
 * @dev: its device
 * @info: what its registers say
 * @identified: ID and VERSION matched: its registers may be written
 * @nr_queues: queue pairs asked for
 * @opts: the options of fpgactl_sc_open(), for fpgactl_sc_queue_reset() and
 *	fpgactl_sc_reinit()
 * @queues: those created so far
 */
struct fpgactl_sc {
	struct fpgactl_device *dev;
	struct fpgactl_sc_info info;
	bool identified;
	unsigned int nr_queues;
	struct fpgactl_sc_opts opts;
	struct fpgactl_queue **queues;
};

static int sc_read(struct fpgactl_sc *sc, uint64_t off, uint32_t *val)
{
	uint64_t v;
	int ret = fpgactl_reg_check(sc->dev, 0, off, 4, &v);

	*val = (uint32_t)v;
	return ret;
}

static int sc_write(struct fpgactl_sc *sc, uint64_t off, uint32_t val)
{
	return fpgactl_reg_write(sc->dev, 0, off, 4, val);
}

/*
 * A deadline of docs/softcore.md for this device: the spec's own on
 * hardware, stretched by the factor a simulated device asks for
 * (fpgactl_sim_info.deadline_scale): a simulation is not real time.
 */
static uint64_t sc_deadline_us(const struct fpgactl_sc *sc, uint64_t spec_us)
{
	return spec_us * sc->dev->deadline_scale;
}

static int sc_wait_ready(struct fpgactl_sc *sc, bool ready)
{
	uint32_t want = ready ? FPGACTL_SC_STATUS_RDY : 0;
	uint64_t last, timeout_us = sc_deadline_us(sc, READY_TIMEOUT_US);
	int ret = fpgactl_reg_poll(sc->dev, 0, FPGACTL_SC_STATUS, 4,
				   FPGACTL_SC_STATUS_RDY, want, timeout_us, &last);

	if (ret == -ETIMEDOUT)
		log_err("%s: soft-core STATUS.RDY stayed %u for %llu ms after CTRL.EN=%u "
			"(STATUS 0x%llx)", sc->dev->bdf, !ready,
			(unsigned long long)timeout_us / 1000, ready, (unsigned long long)last);
	return ret;
}

/* ID and VERSION: is this the soft-core this driver speaks to? */
static int sc_identify(struct fpgactl_sc *sc)
{
	uint32_t id, version;
	int ret = sc_read(sc, FPGACTL_SC_ID, &id);

	if (!ret)
		ret = sc_read(sc, FPGACTL_SC_VERSION, &version);
	if (ret)
		return ret;
	if (id != FPGACTL_SC_ID_VALUE) {
		log_err("%s: BAR0 ID reads 0x%08x, not the soft-core's 0x%08x: wrong "
			"device or wrong bitstream", sc->dev->bdf, id,
			FPGACTL_SC_ID_VALUE);
		return -ENODEV;
	}
	if (version >> 16 != FPGACTL_SC_VERSION_MAJOR) {
		log_err("%s: soft-core version %u.%u; this library speaks %u.x",
			sc->dev->bdf, version >> 16, version & 0xffff,
			FPGACTL_SC_VERSION_MAJOR);
		return -ENODEV;
	}
	sc->info.version = version;
	return 0;
}

static int sc_read_caps(struct fpgactl_sc *sc)
{
	uint32_t cap;
	int ret = sc_read(sc, FPGACTL_SC_CAP, &cap);

	if (!ret)
		ret = sc_read(sc, FPGACTL_SC_LMEM_SIZE, &sc->info.lmem_size);
	if (!ret)
		ret = sc_read(sc, FPGACTL_SC_MAX_XFER, &sc->info.max_xfer);
	if (ret)
		return ret;
	sc->info.max_depth = FPGACTL_SC_CAP_MAX_DEPTH(cap);
	sc->info.nr_queues = FPGACTL_SC_CAP_NQ(cap);
	sc->info.db_stride = FPGACTL_SC_CAP_DB_STRIDE(cap);
	if (sc->info.nr_queues > MAX_QUEUES) {
		/* Their set-up registers would overlap the guarded ones. */
		log_err("%s: soft-core CAP 0x%08x claims %u queue pairs; the register "
			"map has room for %u: a broken or foreign device", sc->dev->bdf,
			cap, sc->info.nr_queues, MAX_QUEUES);
		return -EPROTO;
	}
	return 0;
}

/* Queue pair @qid of the soft-core, as fpgactl_queue_create() wants it. */
static struct fpgactl_queue_cfg sc_queue_cfg(const struct fpgactl_sc *sc, unsigned int qid,
					     const struct fpgactl_sc_opts *o)
{
	return (struct fpgactl_queue_cfg){
		.qid = (uint16_t)qid, .depth = o->depth, .bar = 0,
		.db_offset = FPGACTL_SC_DOORBELLS, .db_stride = sc->info.db_stride,
	};
}

static int sc_check_opts(struct fpgactl_sc *sc, const struct fpgactl_sc_opts *o)
{
	struct fpgactl_queue_cfg last;

	if (o->nr_queues < 1 || o->nr_queues > sc->info.nr_queues) {
		log_err("%s: %u queue pairs asked for; the soft-core has %u",
			sc->dev->bdf, o->nr_queues, sc->info.nr_queues);
		return -EINVAL;
	}
	if (o->depth > sc->info.max_depth) {
		log_err("%s: queue depth %u asked for; the soft-core allows %u",
			sc->dev->bdf, o->depth, sc->info.max_depth);
		return -EINVAL;
	}
	/* The ring engine's own checks (depth, doorbells inside BAR0), on the
	 * last queue pair: before bring-up rather than after. */
	last = sc_queue_cfg(sc, o->nr_queues - 1, o);
	return queue_cfg_check(sc->dev, &last);
}

/*
 * The soft-core answers a queue enable asynchronously: wait for ACTIVE.  A
 * QERR answer makes the poll run out as well; what QSTATUS then reads tells
 * a refusal (QERR) from a soft-core that did not answer in the time the spec
 * allows (a slow or loaded device): -EIO or -ETIMEDOUT, each said as such.
 */
static int sc_wait_queue(struct fpgactl_sc *sc, unsigned int qid,
			 const struct fpgactl_queue *q)
{
	uint64_t last = 0, timeout_us = sc_deadline_us(sc, QUEUE_TIMEOUT_US);
	int ret = fpgactl_reg_poll(sc->dev, 0, FPGACTL_SC_QUEUE(qid) + FPGACTL_SC_Q_STATUS,
				   4, FPGACTL_SC_QSTATUS_ACTIVE | FPGACTL_SC_QSTATUS_QERR,
				   FPGACTL_SC_QSTATUS_ACTIVE, timeout_us, &last);

	if (ret != -ETIMEDOUT)
		return ret;
	if (last & FPGACTL_SC_QSTATUS_QERR) {
		log_err("%s: the soft-core refused queue %u (QSTATUS 0x%llx, QERR): "
			"depth %u, SQ at IOVA 0x%llx", sc->dev->bdf, qid,
			(unsigned long long)last, fpgactl_queue_depth(q),
			(unsigned long long)fpgactl_queue_sq_iova(q));
		return -EIO;
	}
	log_err("%s: timed out after %llu ms waiting for queue %u to become active "
		"(QSTATUS 0x%llx, neither ACTIVE nor QERR): the soft-core is slow or "
		"hung; try again or reset the device", sc->dev->bdf,
		(unsigned long long)timeout_us / 1000, qid, (unsigned long long)last);
	return -ETIMEDOUT;
}

/* Point the soft-core at queue @qid's rings and enable it (QEN is 0). */
static int sc_enable_queue(struct fpgactl_sc *sc, unsigned int qid)
{
	const struct fpgactl_sc_opts *o = &sc->opts;
	struct fpgactl_queue *q = sc->queues[qid];
	uint64_t base = FPGACTL_SC_QUEUE(qid);
	uint32_t qctrl = FPGACTL_SC_QCTRL_QEN | (qid << 8);
	int ret;

	if (o->interrupts)
		qctrl |= FPGACTL_SC_QCTRL_IEN;
	ret = fpgactl_reg_write(sc->dev, 0, base + FPGACTL_SC_Q_SQ_BASE, 8,
				fpgactl_queue_sq_iova(q));
	if (!ret)
		ret = fpgactl_reg_write(sc->dev, 0, base + FPGACTL_SC_Q_CQ_BASE, 8,
					fpgactl_queue_cq_iova(q));
	if (!ret)
		ret = sc_write(sc, base + FPGACTL_SC_Q_SIZE,
			       (o->depth - 1) | (o->depth - 1) << 16);
	if (!ret)
		ret = sc_write(sc, base + FPGACTL_SC_Q_CTRL, qctrl);
	return ret ? ret : sc_wait_queue(sc, qid, q);
}

static int sc_setup_queue(struct fpgactl_sc *sc, unsigned int qid)
{
	struct fpgactl_queue_cfg cfg = sc_queue_cfg(sc, qid, &sc->opts);
	struct fpgactl_queue *q;
	int ret;

	q = fpgactl_queue_create(sc->dev, &cfg, &ret);
	if (!q)
		return ret;
	sc->queues[qid] = q;
	/* Without QCTRL.IEN the queue never interrupts: an interrupt-mode
	 * fpgactl_queue_wait() on it is refused rather than left to tick. */
	queue_set_interrupts(q, sc->opts.interrupts);
	return sc_enable_queue(sc, qid);
}

static int sc_bring_up(struct fpgactl_sc *sc, const struct fpgactl_sc_opts *o)
{
	uint32_t ctrl = FPGACTL_SC_CTRL_EN | (o->interrupts ? FPGACTL_SC_CTRL_IE : 0);
	int ret = sc_identify(sc);

	/* Nothing is written until the device and the options are known good. */
	if (!ret)
		ret = sc_read_caps(sc);
	if (!ret)
		ret = sc_check_opts(sc, o);
	if (ret)
		return ret;
	sc->identified = true;
	ret = sc_write(sc, FPGACTL_SC_CTRL, 0);
	if (!ret)
		ret = sc_wait_ready(sc, false);
	if (!ret)
		ret = sc_write(sc, FPGACTL_SC_CTRL, ctrl);
	if (!ret)
		ret = sc_wait_ready(sc, true);
	for (unsigned int i = 0; !ret && i < o->nr_queues; i++)
		ret = sc_setup_queue(sc, i);
	return ret;
}

FPGACTL_EXPORT struct fpgactl_sc *fpgactl_sc_open(struct fpgactl_device *dev,
						  const struct fpgactl_sc_opts *opts,
						  int *err)
{
	struct fpgactl_sc *sc;
	int ret = -ENOMEM;

	if (!dev || !opts) {
		log_err("fpgactl_sc_open(): needs a device and options");
		if (err)
			*err = -EINVAL;
		return NULL;
	}
	sc = calloc(1, sizeof(*sc));
	if (sc) {
		device_get(dev);	/* dropped by fpgactl_sc_close() */
		sc->dev = dev;
		sc->nr_queues = opts->nr_queues;
		sc->opts = *opts;
		sc->queues = calloc(opts->nr_queues ? opts->nr_queues : 1,
				    sizeof(*sc->queues));
		ret = sc->queues ? sc_bring_up(sc, opts) : -ENOMEM;
	}
	if (!ret)
		return sc;
	fpgactl_sc_close(sc);
	if (err)
		*err = ret;
	return NULL;
}

FPGACTL_EXPORT void fpgactl_sc_close(struct fpgactl_sc *sc)
{
	if (!sc)
		return;
	/* Stop the device before its rings go away; a device that failed
	 * identification is not ours to write to. */
	for (unsigned int i = 0; sc->queues && i < sc->nr_queues; i++)
		if (sc->queues[i])
			sc_write(sc, FPGACTL_SC_QUEUE(i) + FPGACTL_SC_Q_CTRL, 0);
	if (sc->identified) {
		sc_write(sc, FPGACTL_SC_CTRL, 0);
		sc_wait_ready(sc, false);
	}
	for (unsigned int i = 0; sc->queues && i < sc->nr_queues; i++)
		fpgactl_queue_destroy(sc->queues[i]);
	free(sc->queues);
	device_put(sc->dev);
	free(sc);
}

FPGACTL_EXPORT int fpgactl_sc_reinit(struct fpgactl_sc *sc)
{
	/* The device forgot the rings (a reload, a reset): free them without
	 * writing to it, and bring the new soft-core up as the first. */
	for (unsigned int i = 0; i < sc->nr_queues; i++) {
		fpgactl_queue_destroy(sc->queues[i]);
		sc->queues[i] = NULL;
	}
	sc->identified = false;
	memset(&sc->info, 0, sizeof(sc->info));
	return sc_bring_up(sc, &sc->opts);
}

FPGACTL_EXPORT void fpgactl_sc_get_info(const struct fpgactl_sc *sc,
					struct fpgactl_sc_info *info)
{
	*info = sc->info;
}

FPGACTL_EXPORT struct fpgactl_queue *fpgactl_sc_queue(struct fpgactl_sc *sc,
						      unsigned int qid)
{
	return qid < sc->nr_queues ? sc->queues[qid] : NULL;
}

/* Clear QEN and wait until the soft-core lets go of the queue's rings. */
static int sc_disable_queue(struct fpgactl_sc *sc, unsigned int qid)
{
	uint64_t status = FPGACTL_SC_QUEUE(qid) + FPGACTL_SC_Q_STATUS, last = 0;
	uint64_t timeout_us = sc_deadline_us(sc, QUEUE_TIMEOUT_US);
	int ret = sc_write(sc, FPGACTL_SC_QUEUE(qid) + FPGACTL_SC_Q_CTRL, 0);

	if (!ret)
		ret = fpgactl_reg_poll(sc->dev, 0, status, 4, FPGACTL_SC_QSTATUS_ACTIVE,
				       0, timeout_us, &last);
	if (ret == -ETIMEDOUT)
		log_err("%s: timed out after %llu ms waiting for queue %u to stop "
			"(QSTATUS 0x%llx, ACTIVE still set): the soft-core is hung; "
			"close it and reset the device", sc->dev->bdf,
			(unsigned long long)timeout_us / 1000, qid, (unsigned long long)last);
	return ret;
}

FPGACTL_EXPORT int fpgactl_sc_queue_reset(struct fpgactl_sc *sc, unsigned int qid)
{
	int ret;

	if (!sc || qid >= sc->nr_queues || !sc->queues[qid]) {
		log_err("fpgactl_sc_queue_reset(): no queue pair %u (the soft-core "
			"was opened with %u)", qid, sc ? sc->nr_queues : 0);
		return -EINVAL;
	}
	/* docs/softcore.md, queue pair reset: QEN 0, wait for ACTIVE 0; only
	 * then may the host's side of the rings start again from empty. */
	ret = sc_disable_queue(sc, qid);
	if (ret)
		return ret;
	fpgactl_queue_reset(sc->queues[qid]);
	return sc_enable_queue(sc, qid);
}

FPGACTL_EXPORT uint16_t fpgactl_sc_guard_crc(uint32_t reg, uint32_t value)
{
	uint8_t bytes[8];

	for (int i = 0; i < 4; i++) {
		bytes[i] = (uint8_t)(reg >> (8 * i));
		bytes[4 + i] = (uint8_t)(value >> (8 * i));
	}
	return crc16_ccitt_false(bytes, sizeof(bytes));
}

FPGACTL_EXPORT uint32_t fpgactl_crc32c(const void *buf, size_t len)
{
	return crc32c(buf, len);
}

FPGACTL_EXPORT const char *fpgactl_sc_status_name(unsigned int status)
{
	static const char *const names[] = {
		[FPGACTL_SC_SUCCESS] = "SUCCESS",
		[FPGACTL_SC_BAD_OPCODE] = "BAD_OPCODE",
		[FPGACTL_SC_BAD_LENGTH] = "BAD_LENGTH",
		[FPGACTL_SC_DMA_FAULT] = "DMA_FAULT",
		[FPGACTL_SC_CRC_MISMATCH] = "CRC_MISMATCH",
		[FPGACTL_SC_BAD_FIELD] = "BAD_FIELD",
	};

	return status < ARRAY_SIZE(names) ? names[status] : "UNKNOWN";
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

FPGACTL_EXPORT int fpgactl_sc_wait(struct fpgactl_queue *q, void *ctx,
				   uint64_t timeout_ns, struct fpgactl_completion *out)
{
	uint64_t now = now_ns();
	uint64_t deadline = timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
	struct fpgactl_completion c[16];

	fpgactl_queue_submit(q);
	do {
		unsigned int n = fpgactl_queue_reap(q, c, 16);

		for (unsigned int i = 0; i < n; i++) {
			if (c[i].ctx == ctx) {
				*out = c[i];
				return 0;
			}
		}
	} while (now_ns() < deadline);
	return -ETIMEDOUT;
}
