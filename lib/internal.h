/* SPDX-License-Identifier: MIT */
/*
 * Internal definitions shared by the files of lib/.  Not installed.
 */
#ifndef FPGACTL_INTERNAL_H
#define FPGACTL_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/vfio.h>

#include "fpgactl.h"
#include "iommu/iova.h"

#define FPGACTL_EXPORT __attribute__((visibility("default")))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- log.c ------------------------------------------------------------ */

void fpgactl_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) fpgactl_log(FPGACTL_LOG_ERR, __VA_ARGS__)
#define log_warn(...) fpgactl_log(FPGACTL_LOG_WARNING, __VA_ARGS__)
#define log_info(...) fpgactl_log(FPGACTL_LOG_INFO, __VA_ARGS__)
#define log_debug(...) fpgactl_log(FPGACTL_LOG_DEBUG, __VA_ARGS__)

/* ---- config.c ---------------------------------------------------------- */

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MASTER 0x0004

/* Read the command register, in host byte order. */
int config_read_command(struct fpgactl_device *dev, uint16_t *cmd);

/* ---- paths.c: sysfs and /dev, redirectable for tests --------------------- */

/* "$FPGACTL_SYSFS_ROOT" or "/sys", without a trailing slash. */
const char *sysfs_root(void);
/* "$FPGACTL_DEV_ROOT" or "/dev", without a trailing slash. */
const char *dev_root(void);

/*
 * Build "<root>/<formatted rel>" into @buf.  Return 0, or -ENAMETOOLONG.
 */
int sysfs_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int dev_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Read a sysfs attribute (path relative to the sysfs root) into @buf,
 * without the trailing newline.  Return the length, or -errno.
 */
int sysfs_read(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Read a number written in C notation (0x prefix for hex). */
int sysfs_read_long(long *val, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Write @val to a sysfs attribute.  Return 0 or -errno. */
int sysfs_write(const char *val, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Resolve a sysfs symbolic link and return its last component in @buf.
 * Return the length, or -errno (-ENOENT when there is no link).
 */
int sysfs_link_name(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- memlock.c (locked-memory accounting per backend) -------------------- */

/* CAP_IPC_LOCK in the initial user namespace: nothing is charged. */
bool memlock_exempt(void);
/* RLIMIT_MEMLOCK in bytes; UINT64_MAX when unlimited or exempt. */
uint64_t memlock_limit(void);
/*
 * Bytes charged against that limit for @backend: legacy, this process's
 * locked memory (VmLck); iommufd, this user's pinned memory (VmPin summed
 * over its processes, an estimate).  @mine: what this library mapped in
 * this process, the floor for this process's share.
 */
uint64_t memlock_used(enum fpgactl_iommu_backend backend, uint64_t mine);

/* ---- pci.c --------------------------------------------------------------- */

/* IOMMU group number of a device, -ENODEV when it has none (IOMMU off). */
int pci_iommu_group(const char *bdf);
/*
 * Index N of the device's vfio cdev /dev/vfio/devices/vfioN, or -ENOENT
 * when the kernel did not create one.
 */
int pci_vfio_cdev_index(const char *bdf);
/*
 * Check that every device of @group is bound to vfio-pci (or to no driver,
 * or is a PCIe bridge).  On failure fill @culprits with "BDF (driver)" of
 * the others and return -EBUSY.
 */
int pci_group_viable(int group, char *culprits, size_t size);
/*
 * Explain why @bdf cannot be used through VFIO before an open is attempted:
 * log the cause and the fix.  Return the matching -errno, or 0 when nothing
 * is visibly wrong.
 */
int pci_explain_unusable(const char *bdf);

/* ---- holders.c: processes holding VFIO nodes open ------------------------- */

/* fpgactl_pci_holders(); *@partial: some processes could not be inspected. */
int pci_holders(const char *bdf, struct fpgactl_pci_holder *out, unsigned int max,
		bool *partial);
/* Processes holding the node at @node (a full path) open, or -errno. */
int node_holders(const char *node, struct fpgactl_pci_holder *out, unsigned int max);
/* "pid 1 (a), this process (pid 2) and 3 more": @n holders, the first @max in @h. */
void holders_text(const struct fpgactl_pci_holder *h, int n, unsigned int max,
		  char *buf, size_t size);
/*
 * Log why @node (what: "VFIO group 5") could not be opened (-EBUSY): this
 * process has it open already (another IOMMU context), or which processes.
 */
void log_busy(const char *node, const char *what);
/* Whether this process has the node behind @fd open through another fd too
 * (a second context of ours holds the device). */
bool self_holds_other_fd(int fd);

/* ---- iommu.c: IOMMU contexts and their backends -------------------------- */

struct fpgactl_device;

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
	int (*attach)(struct fpgactl_iommu *iommu, struct fpgactl_device *dev);
	void (*detach)(struct fpgactl_iommu *iommu, struct fpgactl_device *dev);
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
/* Take a reference. */
void iommu_get(struct fpgactl_iommu *iommu);
/* Attach/detach a device through the context's backend (takes the lock). */
int iommu_attach(struct fpgactl_iommu *iommu, struct fpgactl_device *dev);
void iommu_detach(struct fpgactl_iommu *iommu, struct fpgactl_device *dev);
/* The backend AUTO resolves to for @bdf (or for no device when NULL). */
enum fpgactl_iommu_backend iommu_auto_backend(const char *bdf);
/*
 * iommu_env.c: the backend FPGACTL_IOMMU_AUTO stands for, for @bdf (or no
 * device when NULL): the environment's FPGACTL_IOMMU, else
 * iommu_auto_backend().  0, or -EINVAL (logged) for a bad FPGACTL_IOMMU.
 */
int iommu_choose_backend(const char *bdf, enum fpgactl_iommu_backend *backend);
/* FPGACTL_IOMMU=legacy: the legacy container and group nodes will be used. */
bool iommu_env_forces_legacy(void);

/* ---- dma_table.c: VA -> IOVA lookup without locks or list walks ---------- */

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

/* Granule of the table: one slot never holds two buffers (buffers the
 * library allocates start on a slot boundary; dma_table_insert() refuses
 * application memory that would share a slot). */
#define DMA_TABLE_SLOT_SHIFT 21
#define DMA_TABLE_SLOT ((size_t)1 << DMA_TABLE_SLOT_SHIFT)
/* User addresses the table covers: the widest the architecture's kernels
 * hand out (arm64: 48-bit VA puts mmap just below 2^48, 52-bit VA reaches
 * 2^52 for a hint above 2^48; x86-64: 47 bits, 56 with 5-level paging). */
#if defined(__aarch64__)
#define DMA_TABLE_VA_BITS 52
#elif UINTPTR_MAX > 0xffffffffu
#define DMA_TABLE_VA_BITS 57
#else
#define DMA_TABLE_VA_BITS 47	/* more than 32-bit needs; the table's least */
#endif

struct dma_table *dma_table_create(void);
void dma_table_destroy(struct dma_table *t);
/* Point every slot of @m at it.  Return 0, -ENOMEM when memory for the
 * table runs out or @m lies above DMA_TABLE_VA_BITS, or -EBUSY when a slot
 * already belongs to another mapping (nothing changed then). */
int dma_table_insert(struct dma_table *t, const struct dma_mapping *m);
void dma_table_remove(struct dma_table *t, const struct dma_mapping *m);
const struct dma_mapping *dma_table_lookup(const struct dma_table *t, uintptr_t va);
/* The mapping other than @m holding a slot [@va, @va + @size) covers, or NULL. */
const struct dma_mapping *dma_table_conflict(const struct dma_table *t, uintptr_t va,
					     uint64_t size, const struct dma_mapping *m);

/* ---- hugepage.c: backing memory for DMA buffers -------------------------- */

/**
 * struct dma_backing - memory behind a DMA buffer
 * @vaddr: start, aligned to DMA_TABLE_SLOT
 * @len: length of the mapping
 * @page_size: size of the pages backing it
 * @node: NUMA node the pages landed on, -1 unknown or mixed
 * @source: "hugetlbfs:/mount", "memfd" or "anonymous"
 * @borrowed: the application's memory (fpgactl_dma_map()): never freed here
 * @has_fd: @fd is the memory's file (hugetlbfs or memfd), kept open so that
 *	fpgactl_share_export() can pass it; closed by backing_free()
 * @fd: that file
 */
struct dma_backing {
	void *vaddr;
	size_t len;
	size_t page_size;
	int node;
	char source[128];
	bool borrowed;
	bool has_fd;
	int fd;
};

/*
 * Allocate @request bytes, rounded up to the page size actually used, of
 * zeroed, populated memory on @node (-1: anywhere), following the fallbacks
 * of fpgactl_dma_alloc().  Return 0 or -errno (logged, with the fix).
 */
int backing_alloc(size_t request, size_t page_size, size_t granule, int node,
		  unsigned int flags, struct dma_backing *out);
void backing_free(struct dma_backing *b);
/* Free hugepages of @page_size on @node (-1: all nodes), -errno if unknown. */
long hugepages_free(size_t page_size, int node);
/* "hugetlbfs:/path", "memfd" or "none": where @page_size pages would come
 * from. */
void backing_describe(size_t page_size, char *buf, size_t size);

/* ---- dma.c ---------------------------------------------------------------- */

/* Release every DMA bookkeeping structure of a context being closed. */
void iommu_dma_teardown(struct fpgactl_iommu *iommu);
/*
 * For dma_user.c: map @bk, memory the application owns (@bk->borrowed), for
 * @dev as a buffer: memlock budget first, then IOVA placement, mapping and
 * lookup table as for fpgactl_dma_alloc().  NULL with *@err set (logged).
 */
struct fpgactl_dma_buf *dma_buf_map_borrowed(struct fpgactl_device *dev,
					     const struct dma_backing *bk, int *err);
/* Whether @buf maps application memory (fpgactl_dma_map()). */
bool dma_buf_is_borrowed(const struct fpgactl_dma_buf *buf);
/* share.c: @buf's backing memory and the context it is mapped in. */
const struct dma_backing *dma_buf_backing(const struct fpgactl_dma_buf *buf);
struct fpgactl_iommu *dma_buf_iommu(const struct fpgactl_dma_buf *buf);
/*
 * share.c: a buffer for @bk (memory another process mapped at @iova in the
 * shared address space): entered in @iommu's lookup table, never mapped or
 * unmapped here; fpgactl_dma_free() unmaps the memory and closes its fd.
 * NULL with *@err set (logged).
 */
struct fpgactl_dma_buf *dma_buf_adopt(struct fpgactl_iommu *iommu,
				      const struct dma_backing *bk, uint64_t iova,
				      int *err);
/* share.c: log why an imported context maps nothing; return -EPERM. */
int share_refuse_map(void);

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

/* Allocate a device with its defaults (fd -1, DMA limit 64 bits, one
 * reference: the application's). */
struct fpgactl_device *device_alloc(void);
/* A handle that uses @dev takes a reference (device_get()) and drops it
 * when closed (device_put()), so that a device closed first stays open
 * until its last user goes: the lifetime rule of docs/architecture.md. */
void device_get(struct fpgactl_device *dev);
void device_put(struct fpgactl_device *dev);

/* model.c: open the software model of the soft-core ("model[:OPTIONS]"). */
struct fpgactl_device *model_device_open(const char *spec,
					 const struct fpgactl_open_opts *opts,
					 int *err);

/* queue.c: what fpgactl_queue_create() checks of @cfg before allocating
 * anything: 0, or -EINVAL after a log line. */
struct fpgactl_queue_cfg;
int queue_cfg_check(struct fpgactl_device *dev, const struct fpgactl_queue_cfg *cfg);

/*
 * queue.c: whether the device may interrupt for this queue (true unless its
 * driver, e.g. the soft-core's without .interrupts, said it never will).
 */
void queue_set_interrupts(struct fpgactl_queue *q, bool on);
bool queue_interrupts(const struct fpgactl_queue *q);

/*
 * irq.c: after @fd fired and the device was serviced: when @fd is the
 * device's INTx eventfd, unmask the line VFIO masked on delivery (a VFIO
 * device only); nothing for any other eventfd.  0 or -errno (logged).
 */
int irq_intx_rearm(struct fpgactl_device *dev, int fd);

/* queue.c: the device a queue belongs to. */
struct fpgactl_device *queue_device(const struct fpgactl_queue *q);

/* queue.c: the eventfd fpgactl_queue_set_eventfd() gave the queue, or -1. */
struct fpgactl_queue;
int queue_eventfd(const struct fpgactl_queue *q);

/*
 * queue.c: changes whenever the file behind queue_eventfd() may have
 * changed under the same number: fpgactl_queue_set_eventfd() was called, or
 * the device's eventfds were closed (interrupts disabled or enabled again).
 */
uint64_t queue_eventfd_gen(const struct fpgactl_queue *q);

/**
 * struct queue_watch - the eventfd fpgactl_queue_wait() watches for a queue
 * @ev: the event engine it is watched in; NULL before the first wait
 * @fd: the fd number watched
 * @gen: queue_eventfd_gen() when it was watched
 */
struct queue_watch {
	struct fpgactl_events *ev;
	int fd;
	uint64_t gen;
};

/* queue.c: the queue's watch record, owned by queue_wait.c. */
struct queue_watch *queue_watch(struct fpgactl_queue *q);

/* ---- vfio_info.c: variable-size info ioctls ---------------------------- */

/*
 * Issue info ioctl @request with a buffer that starts as a copy of @tmpl
 * (@size bytes, argsz first), growing it once when the kernel asks for more
 * room.  Return the malloc'ed result, or NULL with *@err set (not logged).
 */
void *vfio_info_query(int fd, unsigned long request, const void *tmpl,
		      size_t size, int *err);
/*
 * Capability @id in the chain starting at @cap_offset of @info (@argsz
 * bytes, fixed header @hdr_size bytes), every offset checked; NULL if absent
 * or the chain is malformed.
 */
const struct vfio_info_cap_header *vfio_info_find_cap(const void *info,
						      size_t hdr_size,
						      uint32_t argsz,
						      uint32_t cap_offset,
						      uint16_t id);
/* Capability @h (@cap_size bytes plus @count elements) lies inside @info. */
bool vfio_cap_fits(const void *info, uint32_t argsz,
		   const struct vfio_info_cap_header *h, size_t cap_size,
		   size_t elem_size, uint32_t count);

/* ---- sriov.c -------------------------------------------------------------- */

/* Check and store the open's VF token in @dev.  0 or -EINVAL (logged). */
int sriov_open_token(struct fpgactl_device *dev, const struct fpgactl_open_opts *opts);
/* Name for VFIO_GROUP_GET_DEVICE_FD: "BDF" or "BDF vf_token=UUID". */
void sriov_device_name(const struct fpgactl_device *dev, char *buf, size_t size);
/* Fill the 16 bytes of @dev's token; false when it has none. */
bool sriov_token_bytes(const struct fpgactl_device *dev, uint8_t out[16]);

/* Issue an ioctl, retrying on EINTR.  Return its result or -errno. */
int xioctl(int fd, unsigned long request, void *arg);

#endif
