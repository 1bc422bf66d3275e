/* SPDX-License-Identifier: MIT */
/*
 * The iommu layer: IOMMU contexts, their backends, the mappings they hold.
 * Internal to lib/.
 */
#ifndef FPGACTL_IOMMU_LAYER_H
#define FPGACTL_IOMMU_LAYER_H

#include "core/core.h"
#include "iommu/iova.h"

/* ---- iommu.c: IOMMU contexts and their backends -------------------------- */

struct fpgactl_device;

/**
 * struct iommu_dev - what an IOMMU backend knows of a device it attaches
 * @owner: the device; opaque to this layer (the simulated devices' backend,
 *	a higher layer, checks it is theirs)
 * @bdf: PCI address, or the simulated device's name (in)
 * @vf_token: the VF token to open with, "" for none (in, for messages)
 * @name: "BDF" or "BDF vf_token=UUID", for VFIO_GROUP_GET_DEVICE_FD (in)
 * @has_token: @token holds the VF token's 16 bytes (in)
 * @token: those bytes, for VFIO_DEVICE_BIND_IOMMUFD
 * @fd: VFIO device fd: set by @attach (-1 on error), closed and set to -1
 *	by @detach
 * @group: legacy: the group number, set by @attach; iommufd: -1
 * @devid: iommufd: the device id BIND_IOMMUFD returned, set by @attach
 *
 * The vfio layer fills it from its struct fpgactl_device and copies @fd,
 * @group and @devid back (device_attach(), device_detach()), so that this
 * layer never includes vfio/vfio.h.
 */
struct iommu_dev {
	struct fpgactl_device *owner;
	const char *bdf;
	const char *vf_token;
	char name[FPGACTL_BDF_LEN + 64];
	bool has_token;
	uint8_t token[16];
	int fd;
	int group;
	uint32_t devid;
};

/**
 * struct iommu_backend - one way of talking to the IOMMU
 * @name: "legacy" or "iommufd", as shown to users
 * @id: the public enum value
 * @open: open the backend's file descriptors into @iommu.  Return 0 or
 *	-errno, having logged the cause; on error nothing is left open.
 * @close: release what @open acquired.  Called once, after every device
 *	has been detached.
 * @attach: make @dev part of the address space and store the VFIO device
 *	fd in dev->fd.  Called with iommu->lock held.  Return 0 or -errno,
 *	having logged the cause; on error dev->fd is -1 and nothing leaks.
 * @detach: undo @attach and close dev->fd.  Called with iommu->lock held.
 * @dma_info: report the usable IOVA ranges (a malloc'ed array the caller
 *	frees) and how many more mappings the kernel allows (-1: no limit).
 *	Valid only once a device is attached.  Return 0 or -errno (logged).
 * @map: map [@vaddr, @vaddr + @size) at @iova for device reads and writes.
 *	Return 0 or -errno (logged); on error nothing is mapped.
 * @unmap: unmap [@iova, @iova + @size), which @map mapped as one piece.
 *	Return 0, -EIO (logged) when the kernel unmapped another size, or
 *	-errno.
 */
struct iommu_backend {
	const char *name;
	enum fpgactl_iommu_backend id;
	int (*open)(struct fpgactl_iommu *iommu);
	void (*close)(struct fpgactl_iommu *iommu);
	int (*attach)(struct fpgactl_iommu *iommu, struct iommu_dev *dev);
	void (*detach)(struct fpgactl_iommu *iommu, struct iommu_dev *dev);
	int (*dma_info)(struct fpgactl_iommu *iommu, struct iova_range **ranges,
			size_t *nr_ranges, int64_t *mappings_avail);
	int (*map)(struct fpgactl_iommu *iommu, void *vaddr, uint64_t iova,
		   uint64_t size);
	int (*unmap)(struct fpgactl_iommu *iommu, uint64_t iova, uint64_t size);
	/* share.c: a context imported from another process; it maps nothing
	 * and only closes its fds (docs/architecture.md, "Sharing"). */
	bool imported;
};

extern const struct iommu_backend iommu_backend_legacy;
extern const struct iommu_backend iommu_backend_iommufd;

/* A group file opened in a legacy container, shared by its devices. */
struct vfio_group {
	int number;
	int fd;
	unsigned int users;
};

struct legacy_state {
	int container_fd;
	bool iommu_type_set;
	uint32_t iommu_type;	/* VFIO_TYPE1v2_IOMMU or VFIO_TYPE1_IOMMU */
	struct vfio_group *groups;
	size_t nr_groups;
	bool shared;		/* the context is exported: leave the groups set */
};

struct iommufd_state {
	int fd;			/* /dev/iommu */
	uint32_t ioas_id;
};

/* share.c: fds received from the exporting process (-1: none). */
struct imported_state {
	int ctx_fd;		/* its container or /dev/iommu */
	int group_fd;		/* legacy: the device's group */
};

struct dma_table;
struct dma_mapping;

/**
 * struct fpgactl_iommu - an IOMMU context
 * @backend: its backend
 * @refs: references (the application's and one per device); atomic
 * @lock: serialises attach/detach and DMA map/unmap
 * @iova: IOVA allocator, built from the kernel's ranges at the first map
 * @iova_ready: @iova is built
 * @iova_stale: a device attached since: rebuild before the next allocation
 * @table: VA -> mapping lookup for fpgactl_dma_iova()
 * @maps: live mappings (slow-path bookkeeping)
 * @nr_maps: their number
 */
struct fpgactl_iommu {
	const struct iommu_backend *backend;
	unsigned int refs;
	pthread_mutex_t lock;
	struct iova_allocator iova;
	bool iova_ready;
	bool iova_stale;
	struct dma_table *table;
	/* Frees @table: set with it by the dma layer (dma.c), called by the
	 * context's last close, so that this layer never names its code. */
	void (*table_destroy)(struct dma_table *table);
	struct dma_mapping **maps;
	size_t nr_maps;
	/* The IOMMU's smallest page (0: not reported); set by dma_info. */
	uint64_t min_pgsize;
	/* share.c: exported to another process, which holds the same files:
	 * detach and close only close fds, never unset or destroy. */
	bool exported;
	union {
		struct legacy_state legacy;
		struct iommufd_state iommufd;
		struct imported_state imported;
	};
};

/* fpgactl_iommu_open() without the check for public backends. */
struct fpgactl_iommu *iommu_open(enum fpgactl_iommu_backend backend, int *err);
/*
 * A context on @backend, a table of a higher layer (the simulated devices'
 * backend, lib/sim/iommu_model.c) that this layer does not name: opened
 * with @backend->open, one reference.  NULL with *@err set (logged).
 */
struct fpgactl_iommu *iommu_open_backend(const struct iommu_backend *backend, int *err);
/* Take a reference. */
void iommu_get(struct fpgactl_iommu *iommu);
/* Attach/detach a device through the context's backend (takes the lock). */
int iommu_attach(struct fpgactl_iommu *iommu, struct iommu_dev *dev);
void iommu_detach(struct fpgactl_iommu *iommu, struct iommu_dev *dev);
/* The backend AUTO resolves to for @bdf (or for no device when NULL). */
enum fpgactl_iommu_backend iommu_auto_backend(const char *bdf);
/*
 * iommu_env.c: the backend FPGACTL_IOMMU_AUTO stands for, for @bdf (or no
 * device when NULL): the environment's FPGACTL_IOMMU, else
 * iommu_auto_backend().  0, or -EINVAL (logged) for a bad FPGACTL_IOMMU.
 */
int iommu_choose_backend(const char *bdf, enum fpgactl_iommu_backend *backend);

/**
 * struct dma_mapping - one buffer mapped in a context
 * @vaddr: CPU address (aligned to DMA_TABLE_SLOT, except for application
 *	memory, fpgactl_dma_map(), which must not share a slot with another)
 * @iova: device address
 * @size: mapped bytes
 */
struct dma_mapping {
	uintptr_t vaddr;
	uint64_t iova;
	uint64_t size;
};

#endif
