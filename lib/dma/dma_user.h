/* SPDX-License-Identifier: MIT */
/*
 * dma_user.c internals, exposed for the unit tests.
 */
#ifndef FPGACTL_DMA_USER_H
#define FPGACTL_DMA_USER_H

#include <stddef.h>
#include <stdint.h>

/**
 * struct vma_desc - one VMA as /proc/self/smaps shows it
 * @start: first address
 * @end: one past the last
 * @perms: "rw-p" ...
 * @path: the backing file, "[heap]", "" (anonymous), "/memfd:x (deleted)"
 * @flags: the VmFlags words ("rd wr mr mw me ac sd ...")
 * @page_size: KernelPageSize in bytes
 */
struct vma_desc {
	uintptr_t start;
	uintptr_t end;
	char perms[5];
	char path[256];
	char flags[160];
	size_t page_size;
};

/*
 * Whether the kernel can pin @v for device reads and writes: 0, or -errno
 * with the reason (to follow "it ") in @why.
 */
int vma_check(const struct vma_desc *v, char *why, size_t size);

/*
 * Check every VMA of [@va, @va + @len) with vma_check() and that no address
 * in it is unmapped; *@page_size gets the smallest page size among them.
 * Return 0, or -errno with the reason in @why.
 */
int vma_classify_range(uintptr_t va, size_t len, size_t *page_size, char *why,
		       size_t size);
#endif
