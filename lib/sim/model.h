/* SPDX-License-Identifier: MIT */
/*
 * The software model of the soft-core (docs/softcore.md, docs/model.md):
 * what the rest of lib/ and the unit tests may know about it.  Internal.
 */
#ifndef FPGACTL_MODEL_H
#define FPGACTL_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "iommu/iommu.h"

/*
 * The model's IOMMU backend: an internal value after the public ones, so
 * that fpgactl_iommu_open() finds it in its table.  Not part of the API.
 */
#define FPGACTL_IOMMU_MODEL ((enum fpgactl_iommu_backend)(FPGACTL_IOMMU_IOMMUFD + 1))

extern const struct iommu_backend iommu_backend_model;

/* Fault injection modes ("model:fault=MODE", docs/model.md). */
enum model_fault {
	MODEL_FAULT_NONE,
	MODEL_FAULT_CORRUPT,		/* the CQE is replaced by garbage */
	MODEL_FAULT_DUPLICATE,		/* the CQE is written twice */
	MODEL_FAULT_STALE,		/* the CQE is written with the old phase */
	MODEL_FAULT_BAD_SQ_HEAD,	/* the CQE's SQ_HEAD is out of range */
	MODEL_FAULT_STALL,		/* the queue hangs on the command */
	MODEL_FAULT_REMOVAL,		/* the device disappears */
	MODEL_FAULT_NR,
};

/* What a corrupt completion carries instead of the real values. */
#define MODEL_CORRUPT_CID 0xDEADu
#define MODEL_CORRUPT_RESULT 0xDEADBEEFu

/**
 * struct model_stats - what the model did since it was opened
 * @commands: submission entries fetched
 * @completions: completion entries made visible to the host (a duplicate
 *	counts twice, a stale one not at all)
 * @errors: commands executed with a non-zero status
 * @interrupts: eventfd signals raised
 * @injected: faults injected, per &enum model_fault
 * @fatal: times STATUS.CFS was raised (a doorbell out of range)
 * @sleeps: idle back-off sleeps of the device thread
 * @removed: the device has been removed by the removal fault
 */
struct model_stats {
	uint64_t commands;
	uint64_t completions;
	uint64_t errors;
	uint64_t interrupts;
	uint64_t injected[MODEL_FAULT_NR];
	uint64_t fatal;
	uint64_t sleeps;
	bool removed;
};

/* Is @dev the software model? */
bool model_is(const struct fpgactl_device *dev);

/*
 * Read the counters of a model device.  Return 0, or -EINVAL when @dev is
 * not a model.
 */
int model_stats(struct fpgactl_device *dev, struct model_stats *out);

/* model.c: open the software model of the soft-core ("model[:OPTIONS]"). */
struct fpgactl_device *model_device_open(const char *spec,
					 const struct fpgactl_open_opts *opts,
					 int *err);
#endif
