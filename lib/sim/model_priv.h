/* SPDX-License-Identifier: MIT */
/*
 * The software model's state, shared by model.c (the PCI function: regions,
 * config space, IRQ routing, open and close) and model_core.c (the device
 * thread: registers, queues, commands, fault injection).  Internal.
 */
#ifndef FPGACTL_MODEL_PRIV_H
#define FPGACTL_MODEL_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "fpgactl.h"
#include "core/core.h"
#include "vfio/vfio.h"
#include "model.h"
#include "sim/sim.h"

#define MODEL_BAR0_SIZE ((size_t)64 << 10)
/* Queue set-up blocks (0x100 + 0x20*q) must end below GUARDED[] at 0x800. */
#define MODEL_MAX_QUEUES 56

#define MODEL_VENDOR_ID 0x5C0Fu
#define MODEL_DEVICE_ID 0xC0DEu
#define MODEL_CLASS 0x120000u	/* processing accelerator */
#define MODEL_REVISION 0x01u
#define MODEL_VERSION ((1u << 16) | 0u)	/* 1.0 */

/**
 * struct model_cfg - what the spec string chose (docs/model.md)
 * @nr_queues: CAP.NQ, and the number of MSI-X vectors
 * @max_entries: CAP.MQES + 1
 * @lmem_size: LMEM_SIZE, the size of BAR2
 * @lmem_pattern: local memory starts with the pattern of docs/model.md, not
 *	zeros
 * @max_xfer: MAX_XFER
 * @fault: fault injected, MODEL_FAULT_NONE for none
 * @every: inject on every @every-th eligible command
 * @count: inject at most this many times (0: no limit)
 * @after: the first @after eligible commands are never injected
 * @queue: only commands of this queue are eligible (-1: every queue)
 * @slow_ns: each command completes no sooner than this after its fetch
 * @qen_delay_ns: a queue answers QCTRL.QEN set no sooner than this after
 *	the device thread saw it (a slow or loaded device)
 * @deadline_scale: fpgactl_sim_info.deadline_scale: the model's thread
 *	shares the host's CPUs with the application (default 10)
 * @spin_ns: busy-poll this long after the last activity before sleeping
 * @idle_ns: then sleep this long between polls (0: never sleep)
 */
struct model_cfg {
	unsigned int nr_queues;
	uint32_t max_entries;
	uint32_t lmem_size;
	bool lmem_pattern;
	uint32_t max_xfer;
	enum model_fault fault;
	uint64_t every;
	uint64_t count;
	uint64_t after;
	int queue;
	uint64_t slow_ns;
	uint64_t qen_delay_ns;
	uint32_t deadline_scale;
	uint64_t spin_ns;
	uint64_t idle_ns;
};

/* A completion waiting for room in the CQ (or for its slow= deadline). */
struct model_pending {
	struct fpgactl_cqe cqe;
	bool stale;
};

/*
 * struct model_queue - a queue pair as the device sees it (device thread
 * only)
 */
struct model_queue {
	bool en;		/* QCTRL.QEN seen set and processed */
	bool active;		/* accepted: QSTATUS.ACTIVE */
	bool stalled;		/* the stall fault hung the queue */
	uint32_t qstatus;
	uint8_t *sq;		/* rings, translated once at set-up */
	uint8_t *cq;
	uint32_t sq_size;
	uint32_t cq_size;
	uint32_t sq_head;
	uint32_t cq_tail;
	uint16_t phase;
	struct model_pending pend[2];
	unsigned int npend;
	uint64_t not_before;	/* ns; 0 when no deadline */
	uint64_t qen_seen;	/* ns: QEN seen set, answered after qen_delay */
	unsigned int new_cqes;	/* written during the current visit */
};

/**
 * struct model - the model's state, a client of the simulated-device layer
 * (lib/sim/sim.h): config space, interrupt routing and DMA translation are
 * the library's, reached through @host
 *
 * Shared with the application's threads: the reset handshake under @lock,
 * @removed, @stop and @stats through atomics (@stats written by the device
 * thread only).  Everything below "device thread only" belongs to the
 * device thread.
 */
struct model {
	const struct fpgactl_sim_host *host;
	struct model_cfg cfg;
	uint8_t *bar0;
	uint8_t *lmem;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int reset_req;		/* atomic */
	unsigned int reset_done;	/* under @lock */
	bool removed;			/* atomic */
	bool stop;			/* atomic */
	bool thread_started;
	pthread_t thread;

	struct model_stats stats;	/* atomic counters */

	/* device thread only */
	unsigned int reset_seen;
	bool enabled;
	bool fatal;
	uint32_t status;
	uint32_t err_count;
	uint32_t guarded[FPGACTL_SC_NR_GUARDED];
	uint64_t fault_seen;
	uint64_t fault_done;
	uint64_t next_deadline;
	struct model_queue q[MODEL_MAX_QUEUES];
};

/* model_core.c: the registers' values at power-on, and the device thread. */
void model_regs_init(struct model *m);
void *model_thread(void *arg);

/*
 * The counters have one writer, the device thread: a load and a store, both
 * atomic (readers never see a torn value), and no locked read-modify-write
 * on the data path.
 */
#define model_stat_add(m, field, n)                                          \
	__atomic_store_n(&(m)->stats.field,                                  \
			 __atomic_load_n(&(m)->stats.field, __ATOMIC_RELAXED) + (n), \
			 __ATOMIC_RELAXED)

#endif
