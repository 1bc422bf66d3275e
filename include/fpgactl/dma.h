/* SPDX-License-Identifier: MIT */
#ifndef FPGACTL_DMA_H
#define FPGACTL_DMA_H

/*
 * DMA memory: buffers backed by hugepages on the device's NUMA node, mapped
 * through the IOMMU at I/O virtual addresses (IOVAs) the device can reach.
 *
 * A buffer is mapped into the IOMMU context of the device it was allocated
 * for, so every device of that context can reach it at the same IOVA.
 */

#include <stddef.h>
#include <stdint.h>

#include <fpgactl/device.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * FPGACTL_PAGE_4K selects ordinary pages: the host's page size (16 or
 * 64 KiB on some arm64 kernels).  Whatever the pages, a buffer's size and
 * IOVA are whole pages of the IOMMU's smallest page size too (type1
 * iova_pgsizes, iommufd out_iova_alignment), so &fpgactl_dma_buf.size may
 * exceed the request by up to that page.
 */
#define FPGACTL_PAGE_4K ((size_t)4 << 10)
#define FPGACTL_PAGE_2M ((size_t)2 << 20)
#define FPGACTL_PAGE_1G ((size_t)1 << 30)

/** Allow 4 KiB pages when no hugepage can be had (logged as a warning). */
#define FPGACTL_DMA_ALLOW_SMALL_PAGES (1u << 0)
/** Place the pages on &fpgactl_dma_opts.node instead of the device's node. */
#define FPGACTL_DMA_NODE (1u << 1)
/** Fail instead of warning when the pages land off the wanted node. */
#define FPGACTL_DMA_STRICT_NODE (1u << 2)

/**
 * struct fpgactl_dma_opts - how to back and place a DMA buffer
 * @page_size: FPGACTL_PAGE_2M (the default when 0), FPGACTL_PAGE_1G or
 *	FPGACTL_PAGE_4K (only with FPGACTL_DMA_ALLOW_SMALL_PAGES)
 * @node: NUMA node, with FPGACTL_DMA_NODE; -1 there means no preference
 * @flags: FPGACTL_DMA_* flags
 */
struct fpgactl_dma_opts {
	size_t page_size;
	int node;
	unsigned int flags;
};

/**
 * struct fpgactl_dma_buf - a DMA buffer
 * @vaddr: where the CPU sees it
 * @iova: where the device sees it
 * @size: usable size: the request rounded up to @page_size (4 KiB after a
 *	fallback to small pages)
 * @page_size: size of the pages actually backing it
 * @node: NUMA node the pages landed on; -1 when unknown or mixed
 *
 * Read-only for the application.
 */
struct fpgactl_dma_buf {
	void *vaddr;
	uint64_t iova;
	size_t size;
	size_t page_size;
	int node;
};

/**
 * fpgactl_dma_alloc() - allocate and map a DMA buffer
 * @dev: device that will use it (its NUMA node and DMA mask apply)
 * @size: bytes wanted (rounded up to the page size)
 * @opts: backing and placement, or NULL for 2 MiB pages on the device's node
 * @err: receives -errno on failure; may be NULL
 *
 * Backing, in order: a file on the hugetlbfs mount for the page size
 * (found through libhugetlbfs), memfd_create(MFD_HUGETLB), and, only with
 * FPGACTL_DMA_ALLOW_SMALL_PAGES, ordinary 4 KiB pages.  The memory is
 * zeroed, populated, excluded from fork() (MADV_DONTFORK) and mapped for
 * device reads and writes at an IOVA aligned to the page size, inside the
 * IOMMU's usable ranges and below the device's DMA mask.
 *
 * Return: the buffer, or NULL with *@err set: -ENOMEM (no hugepages; the
 * log names the sysctl or mount that fixes it), -EDQUOT (RLIMIT_MEMLOCK too
 * low; the log gives the limit, the need and how to raise it), -ENOSPC (no
 * IOVA room below the DMA mask), -E2BIG (the IOMMU's mapping limit would be
 * exceeded), -EINVAL (also for @size 0 or within 1 GiB of SIZE_MAX, which
 * no rounding may wrap), or another -errno.
 */
struct fpgactl_dma_buf *fpgactl_dma_alloc(struct fpgactl_device *dev, size_t size,
					  const struct fpgactl_dma_opts *opts,
					  int *err);

/**
 * fpgactl_dma_free() - unmap and free a DMA buffer
 * @buf: buffer, or NULL
 *
 * The device must no longer use the buffer.  If the kernel unmaps a size
 * other than the buffer's, the memory is deliberately leaked (and logged)
 * rather than reused while a stale mapping may remain.  For a buffer from
 * fpgactl_dma_map() only the mapping goes: the memory is the application's.
 */
void fpgactl_dma_free(struct fpgactl_dma_buf *buf);

/**
 * fpgactl_dma_map() - map memory the application owns for DMA
 * @dev: device that will use it (its DMA mask applies)
 * @vaddr: start of the range, a multiple of 4 KiB
 * @len: its length, a multiple of 4 KiB
 * @flags: 0 (none are defined yet)
 * @err: receives -errno on failure; may be NULL
 *
 * Maps [@vaddr, @vaddr + @len) for device reads and writes into the IOMMU
 * context of @dev, under the rules of fpgactl_dma_alloc(): the
 * RLIMIT_MEMLOCK budget is checked first, the IOVA lies inside the IOMMU's
 * usable ranges and below the device's DMA mask, aligned to the range's
 * page size when the address is (hugetlb), and fpgactl_dma_iova() finds it.
 * Anonymous memory, hugetlb, memfd and shared memory (SysV, /dev/shm, tmpfs
 * files) and private file mappings can be mapped.  Refused, with the
 * reason logged: device memory (a BAR mapping, VM_IO/VM_PFNMAP), shared
 * mappings of files with writeback, ranges that are not readable and
 * writable or not entirely mapped, and ranges sharing a 2 MiB lookup slot
 * with another buffer.  The memory stays the application's: it must stay
 * mapped until fpgactl_dma_unmap(), and is not excluded from fork().
 *
 * Return: a buffer describing the range (@vaddr, @iova, @size = @len), or
 * NULL with *@err set: -EINVAL (alignment, flags), -EFAULT (unmapped
 * addresses), -EACCES (not readable and writable), -EOPNOTSUPP (device
 * memory, file with writeback), -EBUSY (mapped already, or a slot shared
 * with another buffer), -EDQUOT (RLIMIT_MEMLOCK), -ENOSPC, -E2BIG, or
 * another -errno from the kernel.
 */
struct fpgactl_dma_buf *fpgactl_dma_map(struct fpgactl_device *dev, void *vaddr,
					size_t len, unsigned int flags, int *err);

/**
 * fpgactl_dma_unmap() - unmap memory mapped with fpgactl_dma_map()
 * @buf: buffer, or NULL
 *
 * The device must no longer use it.  The application's memory is left
 * alone (fpgactl_dma_free() does the same for such a buffer).
 *
 * Return: 0, or -EINVAL for a buffer from fpgactl_dma_alloc().
 */
int fpgactl_dma_unmap(struct fpgactl_dma_buf *buf);

/**
 * fpgactl_dma_buf_iova() - IOVA of a pointer inside a known buffer
 * @buf: the buffer
 * @p: pointer into [@buf->vaddr, @buf->vaddr + @buf->size)
 *
 * Return: the IOVA; not checked.
 */
static inline uint64_t fpgactl_dma_buf_iova(const struct fpgactl_dma_buf *buf,
					    const void *p)
{
	return buf->iova + (uint64_t)((uintptr_t)p - (uintptr_t)buf->vaddr);
}

/**
 * fpgactl_dma_iova() - IOVA of any pointer inside any mapped buffer
 * @iommu: context the buffer is mapped in
 * @p: pointer
 * @len: bytes that must be mapped from @p on (0 counts as 1)
 * @iova: receives the IOVA
 *
 * For the data path: a table lookup, no system call, no lock, no list walk.
 * Safe against concurrent allocation; the caller must not free the buffer
 * concurrently.
 *
 * Return: 0, or -EFAULT when [@p, @p + @len) is not inside one buffer.
 */
int fpgactl_dma_iova(const struct fpgactl_iommu *iommu, const void *p,
		     size_t len, uint64_t *iova);

/**
 * fpgactl_device_set_dma_mask() - the device's DMA addressing limit
 * @dev: device
 * @bits: address bits the device drives (e.g. 28 for QEMU's edu, 64)
 *
 * Later allocations for @dev get IOVAs below 2^@bits.  The default is 64.
 *
 * Return: 0, or -EINVAL when @bits is outside 12..64.
 */
int fpgactl_device_set_dma_mask(struct fpgactl_device *dev, unsigned int bits);

/**
 * struct fpgactl_dma_plan - what fpgactl_dma_alloc() would do for a device
 * @page_size: page size the default options would use
 * @node: NUMA node the pages would be placed on (-1: no preference)
 * @iova_first: lowest free IOVA below the DMA mask (UINT64_MAX: none)
 * @iova_last: highest free IOVA below the DMA mask; the span between the
 *	two may hold holes the IOMMU reserves (the MSI window)
 * @iova_free: bytes of IOVA space still free below the DMA mask
 * @mappings_avail: further mappings the IOMMU allows; -1 when unlimited
 * @memlock_limit: RLIMIT_MEMLOCK in bytes; UINT64_MAX when unlimited or
 *	not enforced (CAP_IPC_LOCK)
 * @memlock_used: bytes this process has mapped for DMA so far
 * @hugepages_free: free hugepages of @page_size on @node (or in total); 0
 *	for 4 KiB pages; -errno when the kernel does not report them
 * @backing: "hugetlbfs:/path", "memfd" or "none"
 */
struct fpgactl_dma_plan {
	size_t page_size;
	int node;
	uint64_t iova_first;
	uint64_t iova_last;
	uint64_t iova_free;
	int64_t mappings_avail;
	uint64_t memlock_limit;
	uint64_t memlock_used;
	long hugepages_free;
	char backing[256];
};

/**
 * fpgactl_dma_get_plan() - describe the allocation a device would get
 * @dev: device
 * @opts: options as for fpgactl_dma_alloc(), or NULL
 * @plan: filled in
 *
 * Return: 0 or -errno.
 */
int fpgactl_dma_get_plan(struct fpgactl_device *dev,
			 const struct fpgactl_dma_opts *opts,
			 struct fpgactl_dma_plan *plan);

struct fpgactl_dma_pool;

/**
 * fpgactl_dma_pool_create() - fixed-size DMA objects from one mapping
 * @dev: device
 * @obj_size: size of one object; rounded up to @align
 * @count: number of objects
 * @align: alignment of each object (power of two, at least 64)
 * @opts: as for fpgactl_dma_alloc(), or NULL
 * @err: receives -errno on failure; may be NULL
 *
 * One buffer, one IOMMU mapping; get and put are O(1) and make no system
 * call.  A pool belongs to one thread at a time.
 *
 * Return: the pool, or NULL with *@err set.
 */
struct fpgactl_dma_pool *fpgactl_dma_pool_create(struct fpgactl_device *dev,
						 size_t obj_size, uint32_t count,
						 size_t align,
						 const struct fpgactl_dma_opts *opts,
						 int *err);

/**
 * fpgactl_dma_pool_destroy() - free a pool and its buffer
 * @pool: pool, or NULL
 */
void fpgactl_dma_pool_destroy(struct fpgactl_dma_pool *pool);

/**
 * fpgactl_dma_pool_get() - take a free object
 * @pool: pool
 * @iova: receives the object's IOVA; may be NULL
 *
 * Return: the object's address, or NULL when every object is taken.
 */
void *fpgactl_dma_pool_get(struct fpgactl_dma_pool *pool, uint64_t *iova);

/**
 * fpgactl_dma_pool_put() - give an object back
 * @pool: pool
 * @obj: an address fpgactl_dma_pool_get() returned
 *
 * Return: 0, or -EINVAL for an address that is not a taken object of @pool
 * (a double put, or a foreign pointer).
 */
int fpgactl_dma_pool_put(struct fpgactl_dma_pool *pool, void *obj);

/**
 * fpgactl_dma_pool_available() - number of free objects
 * @pool: pool
 *
 * Return: the count.
 */
uint32_t fpgactl_dma_pool_available(const struct fpgactl_dma_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
