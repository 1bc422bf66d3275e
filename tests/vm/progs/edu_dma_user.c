// SPDX-License-Identifier: MIT
/*
 * edu_dma_user BDF: DMA by QEMU's edu device into memory the program owns,
 * mapped with fpgactl_dma_map() (guest test dma-user).
 *
 * For each kind of memory (anonymous, memfd, a hugetlb memfd when the guest
 * has a free 2 MiB hugepage, MAP_SHARED|MAP_ANONYMOUS): map 64 KiB, have
 * edu copy a pattern from its first page into its own buffer and back into
 * the last page, compare, unmap.  Then the refusals the real kernel's
 * memory must get: the device's own BAR mapping (VM_IO|VM_PFNMAP) and a
 * read-only range.  One line per check: "ok KIND ..." or "refused KIND
 * errno"; exit 0 when all held, 1 otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fpgactl.h>

#include "edu_dma.h"
#include "prog_log.h"

#define LEN ((size_t)64 << 10)
#define XFER 4000

static struct fpgactl_device *dev;

/* Map @p, DMA through it, verify, unmap.  0 when it all held. */
static int round_trip(const char *kind, uint8_t *p, size_t len)
{
	uint8_t *dst = p + len - 4096;
	struct fpgactl_dma_buf *b;
	uint64_t iova;
	int err = 0;

	b = fpgactl_dma_map(dev, p, len, 0, &err);
	if (!b) {
		printf("FAIL %s: fpgactl_dma_map: %s\n", kind, strerror(-err));
		return 1;
	}
	if (b->iova + b->size - 1 >= (UINT64_C(1) << EDU_DMA_BITS) ||
	    fpgactl_dma_iova(fpgactl_device_iommu(dev), dst, XFER, &iova) ||
	    iova != b->iova + (len - 4096)) {
		printf("FAIL %s: IOVA 0x%" PRIx64 " or its lookup\n", kind, b->iova);
		fpgactl_dma_unmap(b);
		return 1;
	}
	for (size_t i = 0; i < XFER; i++) {
		p[i] = (uint8_t)(i * 13 + len);
		dst[i] = (uint8_t)~p[i];
	}
	err = edu_dma(dev, b->iova, EDU_BUFFER, XFER, 0);
	if (!err)
		err = edu_dma(dev, EDU_BUFFER, iova, XFER, EDU_DMA_TO_RAM);
	if (!err && memcmp(p, dst, XFER))
		err = -EIO;
	printf("%s %s: %zu KiB at IOVA 0x%" PRIx64 ", page %zu KiB: %s\n",
	       err ? "FAIL" : "ok", kind, len >> 10, b->iova, b->page_size >> 10,
	       err ? strerror(-err) : "host -> edu -> host verified");
	if (fpgactl_dma_unmap(b))
		err = -EINVAL;
	return err != 0;
}

static void *memfd_map(unsigned int flags, size_t len)
{
	int fd = memfd_create("edu", flags);
	void *p = MAP_FAILED;

	if (fd >= 0 && !ftruncate(fd, (off_t)len))
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	return p;
}

/* fpgactl_dma_map() must refuse @p with @want. */
static int refused(const char *kind, void *p, size_t len, int want)
{
	int err = 0;
	struct fpgactl_dma_buf *b = fpgactl_dma_map(dev, p, len, 0, &err);

	if (b) {
		printf("FAIL %s: mapped\n", kind);
		fpgactl_dma_unmap(b);
		return 1;
	}
	printf("%s %s: %s\n", err == want ? "refused" : "FAIL", kind, strerror(-err));
	return err != want;
}

int main(int argc, char **argv)
{
	const struct fpgactl_bar *bar;
	int err = 0, bad = 0;
	void *p;

	if (argc != 2) {
		fprintf(stderr, "usage: edu_dma_user BDF\n");
		return 2;
	}
	fpgactl_set_log(prog_log_stderr, PROG_LOG_LIB, FPGACTL_LOG_WARNING);
	dev = fpgactl_device_open(argv[1], NULL, &err);
	if (!dev || fpgactl_device_set_dma_mask(dev, EDU_DMA_BITS) ||
	    fpgactl_set_bus_master(dev, true)) {
		printf("FAIL open %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bad |= p == MAP_FAILED || round_trip("anon", p, LEN);
	p = memfd_map(0, LEN);
	bad |= p == MAP_FAILED || round_trip("memfd", p, LEN);
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	bad |= p == MAP_FAILED || round_trip("shared-anon", p, LEN);
	p = memfd_map(MFD_HUGETLB, (size_t)2 << 20);
	if (p != MAP_FAILED)
		bad |= round_trip("hugetlb", p, (size_t)2 << 20);
	else
		printf("skip hugetlb: %s\n", strerror(errno));
	bar = fpgactl_device_bar(dev, EDU_BAR, &err);
	bad |= !bar || refused("bar", (void *)bar->base, 4096, -EOPNOTSUPP);
	p = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bad |= p == MAP_FAILED || refused("read-only", p, 8192, -EACCES);
	fpgactl_set_bus_master(dev, false);
	fpgactl_device_close(dev);
	return bad ? 1 : 0;
}
