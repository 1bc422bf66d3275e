/* SPDX-License-Identifier: MIT */
/*
 * The dma layer: backing memory, buffers, the VA -> IOVA table, locked
 * memory, sharing.  Internal to lib/.
 */
#ifndef FPGACTL_DMA_LAYER_H
#define FPGACTL_DMA_LAYER_H

#include "core/core.h"

struct fpgactl_device;
struct fpgactl_iommu;
struct dma_table;
struct dma_mapping;

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

/* ---- dma_table.c: VA -> IOVA lookup without locks or list walks ---------- */

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

#endif
