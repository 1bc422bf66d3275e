// SPDX-License-Identifier: MIT
/*
 * dma_small: the smallest DMA buffer of ordinary pages, on edu (issue 12
 * item 3: the IOMMU's and the host's page size, not a 4 KiB constant).
 *
 *	dma_small BDF
 *
 * Asks fpgactl_dma_alloc() for 4096 bytes of ordinary pages
 * (FPGACTL_PAGE_4K with FPGACTL_DMA_ALLOW_SMALL_PAGES), checks that the
 * buffer is a whole number of host pages at a host-page-aligned IOVA below
 * edu's 28-bit DMA mask, and moves 2000 bytes host -> edu -> host through
 * it.  On a 16 KiB-page kernel a 4096-byte mapping is what type1 refuses
 * (vfio_dma_do_map(): size, IOVA and address must be multiples of the
 * smallest page of iova_pgsizes, which is never below PAGE_SIZE), so a
 * library that sized the buffer by a 4 KiB constant fails here with EINVAL.
 *
 * Prints one line: what it got and the host page size.  Exit status: 0
 * verified; 1 otherwise (the reason on stdout and the library's messages on
 * stderr); 2 bad arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fpgactl.h>

#include "edu_dma.h"
#include "prog_log.h"

#define XFER 2000

static int round_trip(struct fpgactl_device *dev, struct fpgactl_dma_buf *b)
{
	uint8_t *src = b->vaddr, *dst = src + 2048;
	int err;

	for (size_t i = 0; i < XFER; i++) {
		src[i] = (uint8_t)(i * 7 + 3);
		dst[i] = (uint8_t)~src[i];
	}
	err = edu_dma(dev, b->iova, EDU_BUFFER, XFER, 0);
	if (!err)
		err = edu_dma(dev, EDU_BUFFER, b->iova + 2048, XFER, EDU_DMA_TO_RAM);
	if (!err && memcmp(src, dst, XFER))
		err = -EIO;
	return err;
}

int main(int argc, char **argv)
{
	const struct fpgactl_dma_opts small = {
		.page_size = FPGACTL_PAGE_4K,
		.flags = FPGACTL_DMA_ALLOW_SMALL_PAGES,
	};
	size_t host = (size_t)sysconf(_SC_PAGESIZE);
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *b;
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: dma_small BDF\n");
		return 2;
	}
	fpgactl_set_log(prog_log_stderr, PROG_LOG_LIB, FPGACTL_LOG_WARNING);
	dev = fpgactl_device_open(argv[1], NULL, &err);
	if (!dev || fpgactl_device_set_dma_mask(dev, EDU_DMA_BITS) ||
	    fpgactl_set_bus_master(dev, true)) {
		printf("dma_small: FAIL open %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	b = fpgactl_dma_alloc(dev, 4096, &small, &err);
	if (!b) {
		printf("dma_small: FAIL 4096 bytes of ordinary pages (host page %zu "
		       "KiB): %s\n", host >> 10, strerror(-err));
		fpgactl_device_close(dev);
		return 1;
	}
	if (b->size < 4096 || b->size % host || b->page_size != host || b->iova % host ||
	    b->iova + b->size - 1 >= (UINT64_C(1) << EDU_DMA_BITS))
		err = -EINVAL;
	else
		err = round_trip(dev, b);
	printf("dma_small: %s: 4096 bytes asked, %zu-byte buffer of %zu KiB pages at "
	       "IOVA 0x%" PRIx64 ", host page %zu KiB: %s\n", err ? "FAIL" : "ok",
	       b->size, b->page_size >> 10, b->iova, host >> 10,
	       err == -EINVAL ? "not whole host pages, or outside edu's mask" :
	       err ? strerror(-err) : "host -> edu -> host verified");
	fpgactl_dma_free(b);
	fpgactl_device_close(dev);
	return err ? 1 : 0;
}
