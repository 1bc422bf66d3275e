/* SPDX-License-Identifier: MIT */
/*
 * The vfio layer: an open device, its regions, config space, resets,
 * interrupts, VF tokens.  Internal to lib/.
 */
#ifndef FPGACTL_VFIO_LAYER_H
#define FPGACTL_VFIO_LAYER_H

#include "core/core.h"

struct fpgactl_iommu;
struct irq_state;

/* ---- config.c ---------------------------------------------------------- */

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MASTER 0x0004

/* Read the command register, in host byte order. */
int config_read_command(struct fpgactl_device *dev, uint16_t *cmd);

/* ---- device.c, region.c: the open device ---------------------------------- */

/* An mmap-able part of a region, relative to the region's start. */
struct region_area {
	uint64_t offset;
	uint64_t size;
};

/**
 * struct region - a VFIO region and its mappings
 * @info: public description
 * @fd_offset: where the region starts in the device fd
 * @map: reservation covering the whole region (PROT_NONE where unmapped),
 *	or NULL when nothing is mapped
 * @areas: the mapped areas (@info.nr_areas of them)
 */
struct region {
	struct fpgactl_region_info info;
	uint64_t fd_offset;
	uint8_t *map;
	struct region_area *areas;
};

#define FPGACTL_NUM_BARS 6

/**
 * struct device_ops - what differs between a VFIO device and the model
 * @region_rw: read or write [@off, @off + @len) of region @r where it is not
 *	mapped.  Return 0 or -errno (logged).
 * @irq_info: fill @info for IRQ index @index (< dev->num_irqs); an index
 *	the device lacks reports count 0.  Return 0 or -errno (logged).
 * @reset: function-level reset.  Return 0, -ENOTTY when the device has
 *	none, or -errno (logged).
 * @hot_reset: secondary bus reset.  Return 0, -ENOTTY, -EPERM or -errno
 *	(logged).
 * @hot_reset_possible: whether @hot_reset could be attempted at all.
 * @set_irqs: route vectors [@start, @start + @count) of IRQ index @index
 *	to the eventfds @fds (-1 disables that vector); @count 0 disables the
 *	whole index.  Return 0 or -errno (logged).
 * @close: release what the open acquired (regions, fds, threads); the
 *	generic code then frees @dev.
 */
struct device_ops {
	int (*region_rw)(struct fpgactl_device *dev, struct region *r,
			 uint64_t off, void *buf, size_t len, bool write);
	int (*irq_info)(struct fpgactl_device *dev, uint32_t index,
			struct fpgactl_irq_info *info);
	int (*reset)(struct fpgactl_device *dev);
	int (*hot_reset)(struct fpgactl_device *dev);
	bool (*hot_reset_possible)(struct fpgactl_device *dev);
	int (*set_irqs)(struct fpgactl_device *dev, uint32_t index, uint32_t start,
			uint32_t count, const int *fds);
	void (*close)(struct fpgactl_device *dev);
};

extern const struct device_ops vfio_device_ops;

/**
 * struct fpgactl_device - an open device
 * @bdf: canonical PCI address, or the model's name
 * @ops: VFIO or model operations
 * @priv: the model's state (NULL for VFIO devices)
 * @fd: VFIO device fd
 * @iommu: context (one reference held)
 * @group: legacy backend: group number; iommufd backend: unused (-1)
 * @devid: iommufd backend: the device id BIND_IOMMUFD returned
 * @flags: VFIO_DEVICE_FLAGS_* from VFIO_DEVICE_GET_INFO
 * @num_regions: number of regions
 * @num_irqs: number of IRQ indexes
 * @numa_node: the device's NUMA node from sysfs, -1 when unknown
 * @dma_limit: highest IOVA the device can address (its DMA mask)
 * @regions: one per region index
 * @bars: data-path view of fully mapped BARs (base NULL otherwise)
 * @refs: references: the application's, until fpgactl_device_close(), and
 *	one per handle that uses the device (soft-core, queue); atomic.  The
 *	device is released when the last goes.
 */
struct fpgactl_device {
	char bdf[FPGACTL_BDF_LEN];
	unsigned int refs;
	const struct device_ops *ops;
	void *priv;
	int fd;
	struct fpgactl_iommu *iommu;
	int group;
	uint32_t devid;
	uint32_t flags;
	uint32_t num_regions;
	uint32_t num_irqs;
	int numa_node;
	uint64_t dma_limit;
	struct region *regions;
	struct fpgactl_bar bars[FPGACTL_NUM_BARS];
	/* irq.c: eventfds of the enabled IRQ indexes; NULL until the first
	 * fpgactl_irq_enable(), freed by fpgactl_irq_disable_all(). */
	struct irq_state *irq;
	/* irq.c: bumped whenever eventfds of the device are closed, so that a
	 * waiter can tell a reused fd number from the file it watched. */
	uint32_t irq_gen;
	/* sriov.c: the VF token to open with ("" none), a checked UUID. */
	char vf_token[40];
	/* sim/sim.c: the simulated device's fpgactl_sim_info.deadline_scale;
	 * 1 for a VFIO device (device_alloc()). */
	uint32_t deadline_scale;
};

/* region.c: query every region and map the BARs (when @map); unmap them. */
int regions_setup(struct fpgactl_device *dev, bool map);
void regions_teardown(struct fpgactl_device *dev);
/* The region for @index, or NULL (logged) when out of range. */
struct region *region_get(struct fpgactl_device *dev, uint32_t index);
/*
 * Pointer to [@offset, @offset + @len) when the whole range lies inside one
 * mapped area, NULL otherwise.
 */
volatile uint8_t *region_mapped_ptr(const struct region *r, uint64_t offset,
				    uint64_t len);
/* Width (4, 2 or 1) of the next access of a region copy at @offset. */
unsigned int region_access_width(uint64_t offset, size_t len);

/* -ERANGE (logged) when [@offset, @offset + @len) leaves region @r. */
int region_check_range(struct fpgactl_device *dev, const struct region *r,
		       uint64_t offset, uint64_t len);

/*
 * One naturally aligned access of @width bytes between device memory @io and
 * @mem, in the direction @to_io.
 */
/* One access of @type on the device side; the memory side may be
 * unaligned, so it goes through memcpy. */
#define MMIO_ACCESS(type, io, mem, to_io)				\
	do {								\
		type v_;						\
		if (to_io) {						\
			memcpy(&v_, (mem), sizeof(v_));			\
			*(volatile type *)(io) = v_;			\
		} else {						\
			v_ = *(volatile type *)(io);			\
			memcpy((mem), &v_, sizeof(v_));			\
		}							\
	} while (0)

static inline void mmio_access(volatile uint8_t *io, void *mem,
			       unsigned int width, bool to_io)
{
	switch (width) {
	case 1:
		MMIO_ACCESS(uint8_t, io, mem, to_io);
		break;
	case 2:
		MMIO_ACCESS(uint16_t, io, mem, to_io);
		break;
	case 4:
		MMIO_ACCESS(uint32_t, io, mem, to_io);
		break;
	default:
		MMIO_ACCESS(uint64_t, io, mem, to_io);
		break;
	}
}

/* region.c, reset.c, device.c: the VFIO implementations of device_ops. */
int vfio_region_rw(struct fpgactl_device *dev, struct region *r, uint64_t off,
		   void *buf, size_t len, bool write);
int vfio_reset(struct fpgactl_device *dev);
int vfio_hot_reset(struct fpgactl_device *dev);
bool vfio_hot_reset_possible(struct fpgactl_device *dev);
int vfio_set_irqs(struct fpgactl_device *dev, uint32_t index, uint32_t start,
		  uint32_t count, const int *fds);
int vfio_irq_info(struct fpgactl_device *dev, uint32_t index,
		  struct fpgactl_irq_info *info);

/* device.c: VFIO_DEVICE_GET_INFO into @dev (flags, regions, IRQs); logged. */
int query_device_info(struct fpgactl_device *dev);

/*
 * device.c: open the PCI device @bdf through VFIO: fpgactl_device_open()
 * for a PCI address (lib/api/device_open.c picks this or a simulated
 * device).  NULL with *@err set (when @err), having logged the cause.
 */
struct fpgactl_device *vfio_device_open(const char *bdf,
					const struct fpgactl_open_opts *opts, int *err);

/*
 * Attach @dev to dev->iommu (its VFIO device fd in dev->fd, and the group
 * or the iommufd device id), or detach it, through the context's backend:
 * iommu_attach() and iommu_detach() on the device's struct iommu_dev.
 * device_attach() returns 0 or -errno (logged), dev->fd -1 on error.
 */
int device_attach(struct fpgactl_device *dev);
void device_detach(struct fpgactl_device *dev);

/* Allocate a device with its defaults (fd -1, DMA limit 64 bits, one
 * reference: the application's). */
struct fpgactl_device *device_alloc(void);
/* A handle that uses @dev takes a reference (device_get()) and drops it
 * when closed (device_put()), so that a device closed first stays open
 * until its last user goes: the lifetime rule of docs/architecture.md. */
void device_get(struct fpgactl_device *dev);
void device_put(struct fpgactl_device *dev);

/*
 * irq.c: after @fd fired and the device was serviced: when @fd is the
 * device's INTx eventfd, unmask the line VFIO masked on delivery (a VFIO
 * device only); nothing for any other eventfd.  0 or -errno (logged).
 */
int irq_intx_rearm(struct fpgactl_device *dev, int fd);

/* ---- sriov.c -------------------------------------------------------------- */

/* Check and store the open's VF token in @dev.  0 or -EINVAL (logged). */
int sriov_open_token(struct fpgactl_device *dev, const struct fpgactl_open_opts *opts);
/* Name for VFIO_GROUP_GET_DEVICE_FD: "BDF" or "BDF vf_token=UUID". */
void sriov_device_name(const struct fpgactl_device *dev, char *buf, size_t size);
/* Fill the 16 bytes of @dev's token; false when it has none. */
bool sriov_token_bytes(const struct fpgactl_device *dev, uint8_t out[16]);

#endif
