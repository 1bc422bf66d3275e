// SPDX-License-Identifier: MIT
/*
 * Backing memory for DMA buffers: hugepages from a hugetlbfs mount (found
 * through libhugetlbfs) or from memfd_create(MFD_HUGETLB), ordinary pages
 * only when the caller allows it; placed on a NUMA node with libnuma.
 *
 * Order of operations: map (a shared hugetlb mapping reserves its pages at
 * mmap time, so a shortage is an ENOMEM here rather than a SIGBUS later),
 * bind to the node, then populate with MADV_POPULATE_WRITE, which reports a
 * failure to allocate on the node as an error instead of a signal.
 */
#include <fcntl.h>
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/memfd.h>

#include <hugetlbfs.h>

#include "core/core.h"
#include "dma/dma.h"

static int page_shift(size_t page_size)
{
	return __builtin_ctzll(page_size);
}

long hugepages_free(size_t page_size, int node)
{
	long n;
	int ret;

	if (node >= 0)
		ret = sysfs_read_long(&n, "devices/system/node/node%d/hugepages/"
				      "hugepages-%zukB/free_hugepages", node,
				      page_size >> 10);
	else
		ret = sysfs_read_long(&n, "kernel/mm/hugepages/hugepages-%zukB/"
				      "free_hugepages", page_size >> 10);
	return ret ? ret : n;
}

/* "2 MiB", "1 GiB", "64 KiB": page sizes as users know them. */
static void page_size_text(size_t page_size, char *buf, size_t size)
{
	if (page_size >= (1u << 30))
		snprintf(buf, size, "%zu GiB", page_size >> 30);
	else if (page_size >= (1u << 20))
		snprintf(buf, size, "%zu MiB", page_size >> 20);
	else
		snprintf(buf, size, "%zu KiB", page_size >> 10);
}

/* @level: an error, or a warning when a fallback follows. */
static void describe_shortage(size_t size, size_t page_size, int node, int level)
{
	size_t kb = page_size >> 10, need = size / page_size;
	long avail = hugepages_free(page_size, node);
	char ps[16];

	page_size_text(page_size, ps, sizeof(ps));
	if (avail < 0) {
		fpgactl_log(level, "the kernel offers no %s hugepages (%s/kernel/mm/"
			    "hugepages/hugepages-%zukB is missing): %s", ps,
			    sysfs_root(), kb, page_size == FPGACTL_PAGE_2M ?
			    "it was built without hugetlbfs support" :
			    "use 2 MiB pages, or boot with hugepagesz=SIZE hugepages=N");
	} else if (node >= 0) {
		fpgactl_log(level, "not enough free %s hugepages on NUMA node %d: %zu "
			"needed, %ld free; reserve more with 'echo N > /sys/devices/"
			"system/node/node%d/hugepages/hugepages-%zukB/nr_hugepages'",
			ps, node, need, avail, node, kb);
	} else {
		fpgactl_log(level, "not enough free %s hugepages: %zu needed, %ld free; "
			"reserve more with 'echo N > /sys/kernel/mm/hugepages/"
			"hugepages-%zukB/nr_hugepages'%s", ps, need, avail, kb,
			page_size == FPGACTL_PAGE_2M ?
			" (or /proc/sys/vm/nr_hugepages)" : "");
	}
}

/* An fd for hugetlb memory: a file on the mount, else a hugetlb memfd. */
static int hugetlb_fd(size_t page_size, char *source, size_t size)
{
	const char *mount = hugetlbfs_find_path_for_size((long)page_size);
	int fd;

	if (mount) {
		fd = hugetlbfs_unlinked_fd_for_size((long)page_size);
		if (fd >= 0) {
			snprintf(source, size, "hugetlbfs:%s", mount);
			return fd;
		}
	}
	fd = memfd_create("fpgactl-dma", MFD_CLOEXEC | MFD_HUGETLB |
			  ((unsigned int)page_shift(page_size) << MFD_HUGE_SHIFT));
	if (fd < 0)
		return -errno;
	snprintf(source, size, "memfd");
	return fd;
}

static int map_hugetlb(size_t size, size_t page_size, struct dma_backing *b)
{
	int fd = hugetlb_fd(page_size, b->source, sizeof(b->source));
	void *p;
	int ret = 0;

	if (fd < 0)
		return fd;
	if (ftruncate(fd, (off_t)size)) {
		ret = -errno;
	} else {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			ret = -errno;
		else
			b->vaddr = p;
	}
	/* Kept for fpgactl_share_export() (one fd per buffer); not inherited
	 * by programs the application runs. */
	if (!ret && fcntl(fd, F_SETFD, FD_CLOEXEC))
		ret = -errno;
	if (ret) {
		if (b->vaddr)
			munmap(b->vaddr, size);
		b->vaddr = NULL;
		close(fd);
		return ret;
	}
	b->has_fd = true;
	b->fd = fd;
	return 0;
}

/*
 * Ordinary pages, with the start aligned to DMA_TABLE_SLOT so the lookup
 * table can index the buffer.
 */
static int map_small(size_t size, struct dma_backing *b)
{
	size_t len;
	uint8_t *p;
	uintptr_t start;

	/* The slack for the alignment must not wrap the length. */
	if (size > SIZE_MAX - DMA_TABLE_SLOT)
		return -ENOMEM;
	len = size + DMA_TABLE_SLOT;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	start = ((uintptr_t)p + DMA_TABLE_SLOT - 1) & ~(uintptr_t)(DMA_TABLE_SLOT - 1);
	if (start > (uintptr_t)p)
		munmap(p, start - (uintptr_t)p);
	munmap((uint8_t *)start + size, (uintptr_t)p + len - start - size);
	b->vaddr = (void *)start;
	snprintf(b->source, sizeof(b->source), "anonymous");
	/* Keep transparent hugepages out: the IOMMU mapping pins 4 KiB pages. */
	madvise(b->vaddr, size, MADV_NOHUGEPAGE);
	return 0;
}

static int bind_node(void *p, size_t len, int node)
{
	if (node < 0 || numa_available() < 0)
		return 0;
	if (node > numa_max_node()) {
		log_err("NUMA node %d does not exist (this machine has 0..%d)",
			node, numa_max_node());
		return -EINVAL;
	}
	struct bitmask *mask = numa_allocate_nodemask();

	numa_bitmask_setbit(mask, (unsigned int)node);
	int ret = mbind(p, len, MPOL_BIND, mask->maskp, mask->size + 1, 0);

	numa_free_nodemask(mask);
	return ret ? -errno : 0;
}

/*
 * Does the kernel know MADV_POPULATE_WRITE (Linux 5.14+)?  An unknown advice
 * is EINVAL, but so are other refusals: ask about one fresh anonymous page,
 * which a kernel that knows the advice always populates.
 */
static bool populate_write_known(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	bool known;

	if (p == MAP_FAILED)
		return true;	/* cannot tell: do not guess an old kernel */
	known = !madvise(p, page, MADV_POPULATE_WRITE) || errno != EINVAL;
	munmap(p, page);
	return known;
}

static int populate(void *p, size_t len, size_t page_size)
{
	int ret;

	if (!madvise(p, len, MADV_POPULATE_WRITE))
		return 0;
	ret = -errno;
	if (ret != -EINVAL || populate_write_known()) {
		if (ret != -ENOMEM && ret != -EFAULT)	/* shortages: described */
			log_err("cannot populate the DMA buffer's pages "
				"(MADV_POPULATE_WRITE): %s", strerror(-ret));
		return ret;
	}
	/* Kernels before 5.14: touch each page (may SIGBUS on a shortage). */
	for (size_t off = 0; off < len; off += page_size)
		((volatile uint8_t *)p)[off] = 0;
	return 0;
}

/* The node the pages landed on: sampled, -1 when mixed or unknown. */
static int landed_node(void *p, size_t len, size_t page_size)
{
	enum { SAMPLES = 64 };
	void *pages[SAMPLES];
	int status[SAMPLES], node = -1;
	size_t n = len / page_size, step = n > SAMPLES ? n / SAMPLES : 1, k = 0;

	if (numa_available() < 0)
		return -1;
	for (size_t i = 0; i < n && k < SAMPLES; i += step)
		pages[k++] = (uint8_t *)p + i * page_size;
	if (numa_move_pages(0, k, pages, NULL, status, 0))
		return -1;
	for (size_t i = 0; i < k; i++) {
		if (status[i] < 0 || (node >= 0 && status[i] != node))
			return -1;
		node = status[i];
	}
	return node;
}

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) & ~(to - 1);
}

/*
 * Map @request bytes rounded up to the page size that is actually used and
 * to @granule (the IOMMU's smallest page and the host's, a power of two).
 * FPGACTL_PAGE_4K asks for ordinary pages: the host's page size, which is
 * 16 or 64 KiB on some arm64 kernels.
 */
static int backing_map(size_t request, size_t page_size, size_t granule, int node,
		       unsigned int flags, struct dma_backing *b)
{
	size_t host_page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = round_up(request, page_size > granule ? page_size : granule);
	int ret = -EINVAL;

	if (page_size != FPGACTL_PAGE_4K) {
		ret = map_hugetlb(size, page_size, b);
		if (!ret) {
			b->len = size;
			return 0;
		}
		if (ret == -ENOMEM || ret == -EINVAL)
			describe_shortage(size, page_size, node,
					  (flags & FPGACTL_DMA_ALLOW_SMALL_PAGES) ?
					  FPGACTL_LOG_WARNING : FPGACTL_LOG_ERR);
		else
			log_err("cannot allocate %zu KiB hugepages: %s", page_size >> 10,
				strerror(-ret));
	}
	if (!(flags & FPGACTL_DMA_ALLOW_SMALL_PAGES)) {
		if (page_size == FPGACTL_PAGE_4K)
			log_err("4 KiB DMA pages need FPGACTL_DMA_ALLOW_SMALL_PAGES");
		return ret;
	}
	if (page_size != FPGACTL_PAGE_4K)
		log_warn("falling back to %zu KiB pages (ordinary pages): each "
			 "one is a separate IOMMU page and TLB entry, which costs "
			 "DMA throughput", host_page >> 10);
	b->page_size = host_page;
	b->len = round_up(request, host_page > granule ? host_page : granule);
	return map_small(b->len, b);
}

int backing_alloc(size_t request, size_t page_size, size_t granule, int node,
		  unsigned int flags, struct dma_backing *out)
{
	struct dma_backing b = { .page_size = page_size, .node = -1 };
	int ret = backing_map(request, page_size, granule, node, flags, &b);

	if (ret)
		return ret;
	ret = bind_node(b.vaddr, b.len, node);
	if (!ret)
		ret = populate(b.vaddr, b.len, b.page_size);
	if (ret == -ENOMEM || ret == -EFAULT) {
		describe_shortage(b.len, b.page_size, node, FPGACTL_LOG_ERR);
		ret = -ENOMEM;
	}
	if (!ret && madvise(b.vaddr, b.len, MADV_DONTFORK))
		ret = -errno;
	if (ret) {
		backing_free(&b);
		return ret;
	}
	b.node = landed_node(b.vaddr, b.len, b.page_size);
	*out = b;
	return 0;
}

void backing_free(struct dma_backing *b)
{
	if (b->vaddr && !b->borrowed)
		munmap(b->vaddr, b->len);
	if (b->has_fd)
		close(b->fd);
	b->has_fd = false;
	b->vaddr = NULL;
}

void backing_describe(size_t page_size, char *buf, size_t size)
{
	const char *mount;

	if (page_size == FPGACTL_PAGE_4K) {
		snprintf(buf, size, "anonymous");
		return;
	}
	mount = hugetlbfs_find_path_for_size((long)page_size);
	if (mount)
		snprintf(buf, size, "hugetlbfs:%s", mount);
	else if (hugepages_free(page_size, -1) >= 0)
		snprintf(buf, size, "memfd");
	else
		snprintf(buf, size, "none");
}
