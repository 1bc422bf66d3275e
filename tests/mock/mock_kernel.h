/* SPDX-License-Identifier: MIT */
/*
 * Test control of the VFIO / iommufd kernel mock (docs/mock-kernel.md).
 *
 * Linked into a test executable (mock_kernel_dep) or preloaded
 * (libmockvfio.so), the mock defines ioctl(), close(), the open() family,
 * mmap(), pread()/pwrite() and access(), and answers for the files of the
 * fake tree that FPGACTL_SYSFS_ROOT / FPGACTL_DEV_ROOT point at.  Other files
 * go to libc untouched.
 *
 * The state the mock keeps (containers, groups, iommufd objects, open device
 * files, DMA mappings, IRQ eventfds) is per process, keyed by fd, and
 * released on close() as the kernel releases it on the last fput().
 */
#ifndef MOCK_KERNEL_H
#define MOCK_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- failure injection ----------------------------------------------- */

/*
 * Make ioctl @request on fake fds fail with @err (a positive errno) for the
 * next @times calls; @times <= 0 means every call until cleared.  The
 * request is matched by number only (VFIO_IOMMU_GET_INFO and
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO share one).
 */
void mock_fail_ioctl(unsigned long request, int err, int times);

/* As mock_fail_ioctl(), once @skip calls of @request went through. */
void mock_fail_ioctl_after(unsigned long request, int err, int skip, int times);

/* The next ioctl @request on a fake fd fails with @err. */
void mock_fail_next(unsigned long request, int err);

/*
 * open()/openat()/access() of any path ending in @path_suffix fail with
 * @err until cleared, fake tree or not (so EACCES works as root).  access()
 * with F_OK fails only for ENOENT.
 */
void mock_fail_open(const char *path_suffix, int err);

/* As mock_fail_open(), once @skip matching opens (and access() calls that
 * the rule would fail) went through. */
void mock_fail_open_after(const char *path_suffix, int err, int skip);

/*
 * Add the failures described by @spec, in the syntax of FPGACTL_MOCK_FAIL
 * (read once, when the program starts): comma-separated items
 * "open:PATH_SUFFIX=ERRNO" and "ioctl:REQUEST=ERRNO[*TIMES]", with ERRNO a
 * name (EACCES) or number and REQUEST a name (VFIO_DEVICE_RESET) or number.
 * Return 0, or -EINVAL when an item is malformed (the others still apply).
 */
int mock_fail_parse(const char *spec);

/* Drop every injected failure (including those from FPGACTL_MOCK_FAIL). */
void mock_clear_failures(void);

/* ---- observation --------------------------------------------------------- */

/* VFIO_DEVICE_RESET calls plus hot resets that reset @bdf. */
unsigned int mock_reset_count(const char *bdf);

/* Hot (secondary bus) resets that reset @bdf. */
unsigned int mock_hot_reset_count(const char *bdf);

/* ioctls with this request number issued on fake fds. */
unsigned int mock_ioctl_count(unsigned long request);

/**
 * struct mock_dma_mapping - one DMA mapping the mock holds
 * @iova: I/O virtual address
 * @size: bytes
 * @vaddr: process address it maps
 * @readable: the device may read it
 * @writable: the device may write it
 * @iommufd: made through IOMMU_IOAS_MAP (else VFIO_IOMMU_MAP_DMA)
 * @ioas_id: the IOAS (iommufd only)
 */
struct mock_dma_mapping {
	uint64_t iova;
	uint64_t size;
	uint64_t vaddr;
	bool readable;
	bool writable;
	bool iommufd;
	uint32_t ioas_id;
};

/*
 * Copy up to @max current mappings (of every container and IOAS) to @out,
 * sorted by IOVA within each address space.  Return the total number.
 */
size_t mock_mappings(struct mock_dma_mapping *out, size_t max);

/* Fake fds (container, group, device, iommufd) open now, for leak checks. */
unsigned int mock_open_fds(void);

/* How many device files hold @bdf open (group fds and bound cdevs). */
unsigned int mock_device_open_count(const char *bdf);

/* ---- interrupts ------------------------------------------------------------- */

/*
 * Raise @vector of IRQ index @index of @bdf, as the device would: write 1 to
 * the eventfd registered with VFIO_DEVICE_SET_IRQS.  INTx is automasked:
 * raised while masked it stays pending until unmasked.
 * Return 0 when signalled, 1 when left pending, -ENOENT when no eventfd is
 * registered there.
 */
int mock_irq_trigger(const char *bdf, unsigned int index, unsigned int vector);

/* Vectors of @index that have an eventfd now (0 when disabled). */
unsigned int mock_irq_vectors(const char *bdf, unsigned int index);

/*
 * The next @times madvise() calls with @advice fail with @err (@times <= 0:
 * always), e.g. MADV_POPULATE_WRITE with EINVAL as on kernels before 5.14.
 * One rule at a time; madvise() otherwise goes to the kernel.
 */
void mock_fail_madvise(int advice, int err, int times);

/* ---- device reads and writes --------------------------------------------------- */

/**
 * struct mock_rw - one pread() or pwrite() on a device fd that reached the
 * device (after the kernel's checks)
 * @index: region index
 * @offset: offset in the region
 * @len: bytes (after clipping at the end of a BAR)
 * @write: pwrite()
 */
struct mock_rw {
	uint32_t index;
	uint64_t offset;
	size_t len;
	bool write;
};

/*
 * Copy up to @max of the device reads and writes since the last
 * mock_reset_state() (the first 256 are kept) to @out, oldest first.
 * Return how many there were.  Accesses through a mapping are plain memory
 * accesses that the mock cannot see.
 */
size_t mock_device_rw_log(struct mock_rw *out, size_t max);

/* ---- configuration ------------------------------------------------------------ */

/*
 * The IOMMU's smallest page (a power of two; default 4 KiB), e.g. 64 KiB
 * as on arm64 SMMUs with a 64K granule: type1 reports it first in
 * iova_pgsizes and refuses maps not aligned to it (vfio_dma_do_map()),
 * iommufd reports it as out_iova_alignment and refuses misaligned maps
 * (iopt_check_iova(), iopt_alloc_area_pages()).
 */
void mock_set_iommu_pgsize(uint64_t pgsize);

/*
 * Whether VFIO_IOMMU_GET_INFO carries the IOVA-range capability (default
 * true; false: a kernel before 5.4, where vfio_iommu_type1.c did not
 * report it).
 */
void mock_set_type1_iova_ranges(bool reported);

/* vfio_iommu_type1's dma_entry_limit (mappings per container); 65535. */
void mock_set_dma_limit(unsigned int limit);

/* Why a device was reset, for mock_on_reset(). */
enum mock_reset_kind {
	MOCK_RESET_FUNCTION,	/* VFIO_DEVICE_RESET */
	MOCK_RESET_BUS,		/* VFIO_DEVICE_PCI_HOT_RESET */
	MOCK_RESET_OPEN,	/* vfio-pci resets the device at first open... */
	MOCK_RESET_CLOSE,	/* ...and at last close, when FLR works */
};

/*
 * Call @fn for every reset (NULL: none), e.g. to clear a test's model of
 * the device's registers.  Called with the mock's lock held: @fn must not
 * call into the mock or issue ioctls on fake fds.
 */
void mock_on_reset(void (*fn)(const char *bdf, enum mock_reset_kind kind,
			      void *arg),
		   void *arg);

/*
 * Forget everything: fake fds (left open, now treated as never seen),
 * objects, mappings, counters, failures, hooks; the DMA limit returns to
 * its default.  For a test's setup.
 */
void mock_reset_state(void);

#endif
