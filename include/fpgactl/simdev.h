/* SPDX-License-Identifier: MIT */
/**
 * DOC: simulated devices
 *
 * The interface between libfpgactl and a simulated PCI function: the
 * built-in software model ("model[:OPTIONS]") and any run-time loaded plugin
 * ("sim:/path/to/plugin.so[:OPTIONS]"), such as the Verilator build of the
 * soft-core RTL in examples/softcore-rtl.  docs/simdev.md describes it.
 *
 * A plugin is a shared object exporting one C function, FPGACTL_SIM_ENTRY,
 * which returns its operations table.  The library calls @open with the
 * options that followed the path and a table of host services; the plugin
 * fills a &struct fpgactl_sim_info describing its PCI function.  From then
 * on the library serves config space and interrupt routing itself, maps the
 * BARs the plugin backs with memory, and forwards every other BAR access to
 * @bar_read / @bar_write.  The plugin reaches host memory only through the
 * host services, which translate IOVAs through the device's IOMMU context:
 * an IOVA range that is not inside one DMA mapping is an error (-EFAULT),
 * as an IOMMU fault would be.  This header declares no library function:
 * a plugin links nothing of libfpgactl.
 *
 * Threads: the plugin runs its device on threads of its own.  @bar_read,
 * @bar_write and @reset are called from the application's threads (any of
 * them, concurrently); host services may be called from any thread the
 * plugin owns, between @open's return and @close's.
 */
#ifndef FPGACTL_SIMDEV_H
#define FPGACTL_SIMDEV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the tables below; a plugin built for another is refused. */
#define FPGACTL_SIM_ABI 1
/* The symbol a plugin exports: const struct fpgactl_sim_ops *NAME(void). */
#define FPGACTL_SIM_ENTRY "fpgactl_sim_plugin"

#define FPGACTL_SIM_NR_BARS 6

/**
 * struct fpgactl_sim_host - services the library gives a simulated device
 * @abi: FPGACTL_SIM_ABI
 * @ctx: first argument of every service
 * @dma_read: copy [@iova, @iova + @len) of host memory to @buf.  0, or
 *	-EFAULT when the range is not inside one DMA mapping (nothing copied).
 * @dma_write: copy @buf to [@iova, @iova + @len).  0 or -EFAULT (nothing
 *	written).  Bytes land in ascending address order, the last 8 last
 *	with release stores (one 64-bit store when aligned), so a completion
 *	entry whose phase tag sits in its last bytes is seen whole.
 * @irq: signal MSI-X vector @vector: its eventfd, when the application
 *	routed one.  Return 1 when signalled, 0 when the vector is not routed
 *	(or out of range).
 * @log: log @msg at @level (FPGACTL_LOG_*) through the application's hook.
 * @dma_lock: for software models: hold the IOMMU context's mappings still
 *	(no map or unmap) until @dma_unlock.
 * @dma_unlock: release @dma_lock.
 * @dma_ptr: for software models, between @dma_lock and @dma_unlock: the
 *	address of [@iova, @iova + @len) when it lies inside one DMA mapping,
 *	else NULL.
 * @removed: the device disappeared (surprise removal): from now on config
 *	space reads all ones, config writes and resets fail.
 */
struct fpgactl_sim_host {
	uint32_t abi;
	void *ctx;
	int (*dma_read)(void *ctx, uint64_t iova, void *buf, size_t len);
	int (*dma_write)(void *ctx, uint64_t iova, const void *buf, size_t len);
	int (*irq)(void *ctx, uint32_t vector);
	void (*log)(void *ctx, int level, const char *msg);
	void (*dma_lock)(void *ctx);
	void (*dma_unlock)(void *ctx);
	void *(*dma_ptr)(void *ctx, uint64_t iova, uint64_t len);
	void (*removed)(void *ctx);
};

/**
 * struct fpgactl_sim_info - the PCI function a plugin presents (filled by open)
 * @vendor: vendor id (config space 0x00)
 * @device: device id
 * @subsystem_vendor: subsystem vendor id
 * @subsystem_device: subsystem id
 * @class_code: 24-bit class code (e.g. 0x120000, processing accelerator)
 * @revision: revision id
 * @bar_size: size of each BAR in bytes (0: absent; else a power of two,
 *	at least 4096).  BARs are 64-bit memory BARs: use indexes 0, 2, 4.
 * @bar_mem: non-NULL: memory of @bar_size bytes the plugin owns and
 *	watches, which the application maps as the BAR (a software model
 *	polling its registers); NULL: accesses go through @bar_read/@bar_write
 *	(the BAR is not mmap-able).
 * @msix_vectors: MSI-X vectors, 1 .. 2048
 * @msix_table: BAR offset of the (descriptive) MSI-X table, in BAR0
 * @msix_pba: BAR offset of the (descriptive) pending-bit array, in BAR0
 * @deadline_scale: how many times the deadlines a device's spec gives its
 *	answers (docs/softcore.md: STATUS.RDY within 500 ms, QSTATUS within
 *	100 ms) the library allows this device: a simulation shares the
 *	host's CPUs with the application and is not real time.  0 or 1: the
 *	spec's own; at most 1000.  Added at the end of the table: a plugin
 *	built before it leaves it 0.
 */
struct fpgactl_sim_info {
	uint16_t vendor;
	uint16_t device;
	uint16_t subsystem_vendor;
	uint16_t subsystem_device;
	uint32_t class_code;
	uint8_t revision;
	uint64_t bar_size[FPGACTL_SIM_NR_BARS];
	void *bar_mem[FPGACTL_SIM_NR_BARS];
	uint32_t msix_vectors;
	uint32_t msix_table;
	uint32_t msix_pba;
	uint32_t deadline_scale;
};

/**
 * struct fpgactl_sim_ops - a simulated device's operations
 * @abi: FPGACTL_SIM_ABI
 * @name: short name, used in log messages and as fpgactl_device_bdf()
 * @open: create a device from @options ("" when none were given): fill
 *	@info, store the device's state in *@dev.  @host stays valid until
 *	@close.  Return 0, or -errno having logged the cause through
 *	@host->log (-EINVAL for bad options).
 * @close: stop the device's threads and free it; no host service may be
 *	called after it returns.
 * @reset: function-level reset, done when it returns.  0 or -errno.
 * @bar_read: read @len (1, 2, 4 or 8) bytes at @off of BAR @bar, one that
 *	has no @bar_mem.  0 or -errno.
 * @bar_write: write likewise.  0 or -errno.
 */
struct fpgactl_sim_ops {
	uint32_t abi;
	const char *name;
	int (*open)(const char *options, const struct fpgactl_sim_host *host,
		    struct fpgactl_sim_info *info, void **dev);
	void (*close)(void *dev);
	int (*reset)(void *dev);
	int (*bar_read)(void *dev, uint32_t bar, uint64_t off, void *buf, size_t len);
	int (*bar_write)(void *dev, uint32_t bar, uint64_t off, const void *buf,
			 size_t len);
};

/* The type of FPGACTL_SIM_ENTRY. */
typedef const struct fpgactl_sim_ops *(*fpgactl_sim_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
