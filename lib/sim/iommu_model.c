// SPDX-License-Identifier: MIT
/*
 * The IOMMU backend of simulated devices (the software model and sim:
 * plugins, lib/sim/): there is no kernel and no hardware, so mapping only
 * has to succeed.  The generic code of dma.c records every mapping in
 * iommu->maps, which is where the simulated-device layer translates the
 * IOVAs a device is given.
 */
#include <stdlib.h>

#include "core/core.h"
#include "iommu/iommu.h"
#include "vfio/vfio.h"
#include "model.h"
#include "sim/sim.h"

/* The IOVA space the model "decodes": 48 bits, like a 4-level IOMMU. */
#define MODEL_IOVA_LAST (((uint64_t)1 << 48) - 1)

static int model_iommu_open(struct fpgactl_iommu *iommu)
{
	return 0;
}

static void model_iommu_close(struct fpgactl_iommu *iommu)
{
}

static int model_iommu_attach(struct fpgactl_iommu *iommu,
			      struct iommu_dev *dev)
{
	if (!sim_is(dev->owner)) {
		log_err("%s: only simulated devices (the model, sim: plugins) can join "
			"a model IOMMU context",
			dev->bdf);
		dev->fd = -1;
		return -EINVAL;
	}
	dev->fd = -1;
	return 0;
}

static void model_iommu_detach(struct fpgactl_iommu *iommu,
			       struct iommu_dev *dev)
{
	dev->fd = -1;
}

static int model_iommu_dma_info(struct fpgactl_iommu *iommu,
				struct iova_range **ranges, size_t *nr_ranges,
				int64_t *mappings_avail)
{
	struct iova_range *r = malloc(sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->start = 0;
	r->last = MODEL_IOVA_LAST;
	*ranges = r;
	*nr_ranges = 1;
	*mappings_avail = -1;
	return 0;
}

static int model_iommu_map(struct fpgactl_iommu *iommu, void *vaddr,
			   uint64_t iova, uint64_t size)
{
	return 0;
}

static int model_iommu_unmap(struct fpgactl_iommu *iommu, uint64_t iova,
			     uint64_t size)
{
	return 0;
}

const struct iommu_backend iommu_backend_model = {
	.name = "model",
	.id = FPGACTL_IOMMU_MODEL,
	.open = model_iommu_open,
	.close = model_iommu_close,
	.attach = model_iommu_attach,
	.detach = model_iommu_detach,
	.dma_info = model_iommu_dma_info,
	.map = model_iommu_map,
	.unmap = model_iommu_unmap,
};
