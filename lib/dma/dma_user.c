// SPDX-License-Identifier: MIT
/*
 * DMA mappings of memory the application owns (fpgactl_dma_map()).
 *
 * Before asking the kernel, every VMA of the range is classified from
 * /proc/self/smaps, so that memory the kernel cannot pin for a device is
 * refused with the reason rather than with a bare EFAULT from MAP_DMA:
 *
 * - device memory (VmFlags "io" or "pf": VM_IO/VM_PFNMAP, e.g. a BAR
 *   mmap): pin_user_pages() refuses such VMAs (mm/gup.c: check_vma_flags());
 *   iommufd pins with pin_user_pages() only (iommufd/pages.c:
 *   pfn_reader_user_pin()), and vfio_iommu_type1 only falls back to the raw
 *   PFN of a VM_PFNMAP VMA (vaddr_get_pfns() -> follow_fault_pfn()),
 *   without a page to account or keep: not a buffer this call maps;
 * - a shared mapping of a file on a filesystem with writeback: long-term
 *   pins of it are refused (mm/gup.c: writable_file_mapping_allowed(),
 *   Linux 6.5 on); older kernels pin the pages while writeback races the
 *   device;
 * - a VMA without read and write permission: the mapping is for device
 *   reads and writes, and pinning with FOLL_WRITE fails on it;
 * - addresses with no VMA at all.
 *
 * Anonymous memory, hugetlb (VmFlags "ht"), shmem (memfd, SysV shm,
 * files on tmpfs such as /dev/shm) and private file mappings (the pin
 * breaks copy-on-write, so the device sees anonymous copies) are mapped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "core/core.h"
#include "vfio/vfio.h"
#include "dma/dma.h"
#include "dma_user.h"

#define SMALL_PAGE ((uintptr_t)4096)

/* Whether the space-separated word list @list holds @word. */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0' ||
						    p[n] == '\n'))
			return true;
	return false;
}

/* A shared file mapping whose pages have no writeback: shmem or hugetlbfs. */
static bool shared_without_writeback(const struct vma_desc *v)
{
	char path[sizeof(v->path)];
	struct statfs sf;
	char *del;

	snprintf(path, sizeof(path), "%s", v->path);
	del = strstr(path, " (deleted)");
	if (del)
		*del = '\0';
	/* memfd, SysV shm and MAP_SHARED|MAP_ANONYMOUS are shmem files. */
	if (!strncmp(path, "/memfd:", 7) || !strncmp(path, "/SYSV", 5) ||
	    !strcmp(path, "/dev/zero") || has_word(v->flags, "ht"))
		return true;
	/* A deleted file: its directory is on the same filesystem. */
	if (statfs(path, &sf) && (!strrchr(path, '/') ||
				  (*strrchr(path, '/') = '\0', statfs(path, &sf))))
		return false;
	return sf.f_type == TMPFS_MAGIC || sf.f_type == HUGETLBFS_MAGIC ||
	       sf.f_type == RAMFS_MAGIC;
}

int vma_check(const struct vma_desc *v, char *why, size_t size)
{
	const char *name = v->path[0] ? v->path : "anonymous memory";

	if (has_word(v->flags, "io") || has_word(v->flags, "pf")) {
		snprintf(why, size, "is device memory (%s, VM_IO/VM_PFNMAP, such as "
			 "a BAR mapping), which the kernel cannot pin as RAM: map "
			 "RAM (anonymous, hugetlb or memfd) and copy", name);
		return -EOPNOTSUPP;
	}
	if (!has_word(v->flags, "rd") || !has_word(v->flags, "wr")) {
		snprintf(why, size, "is not readable and writable (%s, %s): the "
			 "device reads and writes it, so map it PROT_READ|PROT_WRITE",
			 name, v->perms);
		return -EACCES;
	}
	if (v->path[0] == '/' && has_word(v->flags, "sh") &&
	    !shared_without_writeback(v)) {
		snprintf(why, size, "is a shared mapping of %s, a file with "
			 "writeback: the kernel refuses long-term pins of such pages "
			 "(Linux 6.5 on; older kernels race writeback against the "
			 "device): use anonymous, hugetlb, memfd or /dev/shm memory, "
			 "or map the file MAP_PRIVATE", v->path);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Parse a VMA header line of smaps: "start-end perms offset dev inode path". */
static bool parse_header(const char *line, struct vma_desc *v)
{
	unsigned long long start, end;
	int n = 0;

	if (sscanf(line, "%llx-%llx %4s %*x %*x:%*x %*u %n", &start, &end,
		   v->perms, &n) < 3 || !n)
		return false;
	size_t len = strcspn(line + n, "\n");

	if (len >= sizeof(v->path))
		len = sizeof(v->path) - 1;
	memcpy(v->path, line + n, len);
	v->path[len] = '\0';
	v->start = start;
	v->end = end;
	v->flags[0] = '\0';
	v->page_size = SMALL_PAGE;
	return true;
}

/* Check one finished VMA against [@va, @end); advance *@next past it. */
static int vma_account(const struct vma_desc *v, uintptr_t end,
		       uintptr_t *next, size_t *page, char *why, size_t size)
{
	int ret;

	if (v->end <= *next || v->start >= end)
		return 0;
	if (v->start > *next) {
		snprintf(why, size, "has nothing mapped at 0x%" PRIxPTR
			 ": map the whole range first", *next);
		return -EFAULT;
	}
	ret = vma_check(v, why, size);
	if (ret)
		return ret;
	if (!*page || v->page_size < *page)
		*page = v->page_size;
	*next = v->end;
	return 0;
}

int vma_classify_range(uintptr_t va, size_t len, size_t *page_size, char *why,
		       size_t size)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	uintptr_t next = va, end = va + len;
	struct vma_desc v = { 0 };
	bool have = false;
	char line[512];
	size_t page = 0;
	int ret = 0;

	if (!f) {
		snprintf(why, size, "could not be checked: /proc/self/smaps: %s",
			 strerror(errno));
		return -errno;
	}
	while (!ret && next < end && fgets(line, sizeof(line), f)) {
		unsigned long kps;

		if (parse_header(line, &(struct vma_desc){ 0 })) {
			if (have)
				ret = vma_account(&v, end, &next, &page, why, size);
			parse_header(line, &v);
			have = true;
		} else if (sscanf(line, "KernelPageSize: %lu kB", &kps) == 1) {
			v.page_size = (size_t)kps << 10;
		} else if (!strncmp(line, "VmFlags:", 8)) {
			size_t n = strnlen(line + 8, sizeof(v.flags) - 1);

			memcpy(v.flags, line + 8, n);
			v.flags[n] = '\0';
		}
	}
	if (!ret && have && next < end)
		ret = vma_account(&v, end, &next, &page, why, size);
	fclose(f);
	if (!ret && next < end) {
		snprintf(why, size, "has nothing mapped at 0x%" PRIxPTR
			 ": map the whole range first", next);
		ret = -EFAULT;
	}
	*page_size = page ? page : SMALL_PAGE;
	return ret;
}

static int check_args(struct fpgactl_device *dev, uintptr_t va, size_t len,
		      unsigned int flags)
{
	if (flags) {
		log_err("%s: fpgactl_dma_map() flags 0x%x: none are defined, pass 0",
			dev->bdf, flags);
		return -EINVAL;
	}
	if (!va || !len || (va | len) & (SMALL_PAGE - 1) || va + len < va) {
		log_err("%s: cannot map [0x%" PRIxPTR ", +0x%zx) for DMA: the address "
			"and length must be non-zero multiples of 4 KiB (the IOMMU "
			"maps whole pages); allocate with mmap() or "
			"aligned_alloc(4096, ...)", dev->bdf, va, len);
		return -EINVAL;
	}
	return 0;
}

FPGACTL_EXPORT struct fpgactl_dma_buf *
fpgactl_dma_map(struct fpgactl_device *dev, void *vaddr, size_t len,
		unsigned int flags, int *err)
{
	uintptr_t va = (uintptr_t)vaddr;
	struct dma_backing bk = { .vaddr = vaddr, .len = len, .node = -1,
				  .borrowed = true };
	struct fpgactl_dma_buf *buf = NULL;
	char why[512];
	int ret = check_args(dev, va, len, flags);

	if (!ret) {
		ret = vma_classify_range(va, len, &bk.page_size, why, sizeof(why));
		if (ret)
			log_err("%s: cannot map [0x%" PRIxPTR ", +0x%zx) for DMA: it %s",
				dev->bdf, va, len, why);
	}
	if (!ret) {
		/* The IOVA is aligned to the page size, as the VA is, so the
		 * IOMMU can use the same large pages. */
		if (va & (bk.page_size - 1))
			bk.page_size = SMALL_PAGE;
		snprintf(bk.source, sizeof(bk.source), "application");
		buf = dma_buf_map_borrowed(dev, &bk, &ret);
		if (!buf && ret == -EBUSY)
			log_err("%s: cannot map [0x%" PRIxPTR ", +0x%zx) for DMA: "
				"it is mapped already, or shares a 2 MiB lookup slot "
				"with another DMA buffer: map one range covering "
				"both, or align buffers to 2 MiB", dev->bdf, va, len);
	}
	if (!buf && err)
		*err = ret;
	return buf;
}

FPGACTL_EXPORT int fpgactl_dma_unmap(struct fpgactl_dma_buf *buf)
{
	if (!buf)
		return 0;
	if (!dma_buf_is_borrowed(buf)) {
		log_err("fpgactl_dma_unmap(): the buffer at IOVA 0x%" PRIx64 " came "
			"from fpgactl_dma_alloc(): release it with fpgactl_dma_free()",
			buf->iova);
		return -EINVAL;
	}
	fpgactl_dma_free(buf);
	return 0;
}
