// SPDX-License-Identifier: MIT
/*
 * fpgactl dma-test: end-to-end DMA through the IOMMU with QEMU's edu device
 * (QEMU docs/specs/edu.rst): host memory -> edu buffer -> host memory,
 * verified byte for byte, and optionally a write aimed at an IOVA that is
 * not mapped, which the IOMMU must stop.
 *
 * The registers are written with the checked calls: this is a test, not a
 * data path.  The edu device runs each transfer from a 100 ms timer of the
 * VM's clock, so the throughput printed says nothing about real hardware.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "dma_args.h"
#include "util.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_BAR 0
#define EDU_REG_ID 0x00		/* 0xRRrr00ed */
#define EDU_REG_DMA_SRC 0x80
#define EDU_REG_DMA_DST 0x88
#define EDU_REG_DMA_COUNT 0x90
#define EDU_REG_DMA_CMD 0x98
#define EDU_CMD_START 0x1
#define EDU_CMD_TO_RAM 0x2	/* direction: edu -> RAM; clear: RAM -> edu */
#define EDU_BUFFER 0x40000	/* the device's buffer, in its address space */
#define EDU_BUFFER_SIZE 4096
/*
 * QEMU up to 7.2 checks "end < buffer end" and calls hw_error() (QEMU
 * aborts) for a transfer that reaches the last byte of the buffer.
 */
#define EDU_MAX_TRANSFER (EDU_BUFFER_SIZE - 1)
#define EDU_DMA_BITS 28
#define EDU_TIMEOUT_US 1000000	/* each transfer takes 100 ms of VM time */

#define DEFAULT_SIZE 4000
#define DEFAULT_ROUNDS 4
#define MAX_ROUNDS 1000
/* The buffer: the source half, then the destination half (at least 64 KiB in). */
#define BUFFER_BYTES (128u << 10)
#define CANARY 0x5a

/* Everything one run needs. */
struct edu_test {
	const char *bdf;
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *buf;
	uint64_t size;
	uint64_t rounds;
	bool negative;
	struct fpgactl_dma_opts opts;
	const char *memory;	/* NULL: fpgactl_dma_alloc(); "anon", "memfd" */
	void *own;		/* the program's own buffer, for fpgactl_dma_map() */
	uint8_t *src;	/* first half of the buffer */
	uint8_t *dst;	/* second half */
	uint64_t dst_iova;
};

static int edu_write(struct edu_test *t, uint64_t reg, uint64_t val)
{
	int err = fpgactl_reg_write(t->dev, EDU_BAR, reg, 8, val);

	if (err)
		return failure("dma-test", "%s: write of register 0x%" PRIx64 " failed: %s",
			       t->bdf, reg, errno_text(err));
	return STATUS_OK;
}

/* Wait until the DMA engine is idle (command bit 0 clear). */
static int edu_wait(struct edu_test *t, const char *what)
{
	uint64_t last = 0;
	int err = fpgactl_reg_poll(t->dev, EDU_BAR, EDU_REG_DMA_CMD, 8, EDU_CMD_START, 0,
				   EDU_TIMEOUT_US, &last);

	if (err == -ETIMEDOUT)
		return failure("dma-test", "%s: %s did not complete within 1 s (command register 0x%"
			       PRIx64 ")", t->bdf, what, last);
	if (err)
		return failure("dma-test", "%s: %s: polling the command register failed: %s",
			       t->bdf, what, errno_text(err));
	fpgactl_rmb(); /* the device's writes to memory before our reads of it */
	return STATUS_OK;
}

/* One transfer: program source, destination and count, start, wait. */
static int edu_dma(struct edu_test *t, uint64_t src, uint64_t dst, uint64_t cmd,
		   const char *what)
{
	int status = edu_write(t, EDU_REG_DMA_SRC, src);

	if (!status)
		status = edu_write(t, EDU_REG_DMA_DST, dst);
	if (!status)
		status = edu_write(t, EDU_REG_DMA_COUNT, t->size);
	/* fpgactl_reg_write() orders the buffer's contents before this write. */
	if (!status)
		status = edu_write(t, EDU_REG_DMA_CMD, cmd | EDU_CMD_START);
	if (!status)
		status = edu_wait(t, what);
	return status;
}

static uint8_t pattern_byte(uint64_t round, size_t i)
{
	return (uint8_t)((i * 7 + round * 31 + 1) ^ (i >> 8));
}

static int verify_round(struct edu_test *t, uint64_t round)
{
	for (size_t i = 0; i < t->size; i++) {
		uint8_t want = pattern_byte(round, i);

		if (t->dst[i] != want)
			return failure("dma-test", "round %" PRIu64 ": first mismatch at offset %zu"
				       " of %" PRIu64 ": expected 0x%02x, read 0x%02x", round + 1,
				       i, t->size, want, t->dst[i]);
	}
	return STATUS_OK;
}

static int run_round(struct edu_test *t, uint64_t round, double *seconds)
{
	double start;
	int status;

	for (size_t i = 0; i < t->size; i++) {
		t->src[i] = pattern_byte(round, i);
		t->dst[i] = (uint8_t)~pattern_byte(round, i); /* every byte must change */
	}
	start = now_seconds();
	status = edu_dma(t, t->buf->iova, EDU_BUFFER, 0, "DMA host -> edu");
	if (!status)
		status = edu_dma(t, EDU_BUFFER, t->dst_iova, EDU_CMD_TO_RAM, "DMA edu -> host");
	*seconds += now_seconds() - start;
	return status ? status : verify_round(t, round);
}

static int run_rounds(struct edu_test *t)
{
	double seconds = 0;

	for (uint64_t round = 0; round < t->rounds; round++) {
		int status = run_round(t, round, &seconds);

		if (status)
			return status;
	}
	printf("dma-test: %" PRIu64 " rounds x %" PRIu64
	       " bytes host -> edu -> host verified, %.3f MB/s\n",
	       t->rounds, t->size,
	       seconds > 0 ? (double)(2 * t->rounds * t->size) / seconds / 1e6 : 0.0);
	return STATUS_OK;
}

/*
 * An IOVA no mapping covers: right after the buffer, the only mapping of
 * this private IOMMU context, or right before it when that end is past the
 * device's 28 bits (the edu device masks addresses, which would wrap onto
 * mapped memory).
 */
static int unmapped_iova(struct edu_test *t, uint64_t *iova)
{
	const uint64_t limit = (UINT64_C(1) << EDU_DMA_BITS) - 1;
	uint64_t len = (t->size + FPGACTL_PAGE_4K - 1) & ~(uint64_t)(FPGACTL_PAGE_4K - 1);

	if (t->buf->iova + t->buf->size + len - 1 <= limit) {
		*iova = t->buf->iova + t->buf->size;
		return STATUS_OK;
	}
	if (t->buf->iova >= len) {
		*iova = t->buf->iova - len;
		return STATUS_OK;
	}
	return failure("dma-test", "%s: no unmapped IOVA below 2^%d next to the buffer",
		       t->bdf, EDU_DMA_BITS);
}

static int run_negative(struct edu_test *t)
{
	uint64_t iova = 0;
	int status = unmapped_iova(t, &iova);

	/* Give the edu buffer content that differs from the canary. */
	for (size_t i = 0; !status && i < t->size; i++)
		t->src[i] = (uint8_t)~CANARY;
	if (!status)
		status = edu_dma(t, t->buf->iova, EDU_BUFFER, 0, "DMA host -> edu");
	if (status)
		return status;
	memset(t->buf->vaddr, CANARY, t->buf->size);
	status = edu_dma(t, EDU_BUFFER, iova, EDU_CMD_TO_RAM, "DMA edu -> unmapped IOVA");
	if (status)
		return status;
	for (size_t i = 0; i < t->buf->size; i++)
		if (((const uint8_t *)t->buf->vaddr)[i] != CANARY)
			return failure("dma-test", "write to unmapped IOVA 0x%" PRIx64
				       " changed the buffer at offset %zu: the IOMMU did not stop it",
				       iova, i);
	printf("dma-test: write to unmapped IOVA 0x%" PRIx64
	       " refused by the IOMMU: host memory untouched\n", iova);
	return STATUS_OK;
}

static int check_edu_id(struct edu_test *t)
{
	uint64_t id;
	int err = fpgactl_reg_read(t->dev, EDU_BAR, EDU_REG_ID, 4, &id);

	if (err)
		return failure("dma-test", "%s: cannot read the identification register: %s",
			       t->bdf, errno_text(err));
	if ((id & 0xffff) != 0x00ed)
		return failure("dma-test", "%s: identification register reads 0x%08" PRIx64
			       ", not 0xRRrr00ed: not an edu device?", t->bdf, id);
	return STATUS_OK;
}

static void print_buffer(const struct edu_test *t)
{
	char page[32];

	page_size_text(page, sizeof(page), t->buf->page_size);
	printf("buffer: %s page(s) ", page);
	if (t->buf->node >= 0)
		printf("on node %d", t->buf->node);
	else
		printf("on an unknown node");
	printf(" at IOVA 0x%" PRIx64 "\n", t->buf->iova);
}

/* The program's own memory, as an application would have it. */
static void *own_memory(const char *kind)
{
	int fd = -1;
	void *p;

	if (!strcmp(kind, "memfd")) {
		fd = memfd_create("dma-test", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, BUFFER_BYTES)) {
			if (fd >= 0)
				close(fd);
			return MAP_FAILED;
		}
	}
	p = mmap(NULL, BUFFER_BYTES, PROT_READ | PROT_WRITE,
		 fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	return p;
}

static int get_buffer(struct edu_test *t, int *err)
{
	if (!t->memory) {
		t->buf = fpgactl_dma_alloc(t->dev, BUFFER_BYTES, &t->opts, err);
		return t->buf ? STATUS_OK : failure("dma-test", "%s: cannot allocate the "
						   "DMA buffer: %s", t->bdf, errno_text(*err));
	}
	t->own = own_memory(t->memory);
	if (t->own == MAP_FAILED) {
		t->own = NULL;
		return failure("dma-test", "cannot get %s memory: %s", t->memory,
			       strerror(errno));
	}
	t->buf = fpgactl_dma_map(t->dev, t->own, BUFFER_BYTES, 0, err);
	return t->buf ? STATUS_OK : failure("dma-test", "%s: cannot map the program's %s "
					   "memory for DMA: %s", t->bdf, t->memory,
					   errno_text(*err));
}

static int alloc_buffer(struct edu_test *t)
{
	int err = 0;
	int status = get_buffer(t, &err);

	if (status)
		return status;
	if ((t->buf->iova + t->buf->size - 1) >> EDU_DMA_BITS)
		return failure("dma-test", "%s: buffer at IOVA 0x%" PRIx64
			       " is beyond the %d-bit DMA mask", t->bdf, t->buf->iova,
			       EDU_DMA_BITS);
	t->src = t->buf->vaddr;
	t->dst = (uint8_t *)t->buf->vaddr + t->buf->size / 2;
	t->dst_iova = fpgactl_dma_buf_iova(t->buf, t->dst);
	print_buffer(t);
	return STATUS_OK;
}

static int run_on_edu(struct edu_test *t)
{
	int err = fpgactl_device_set_dma_mask(t->dev, EDU_DMA_BITS);
	int status;

	if (err)
		return failure("dma-test", "%s: cannot set the DMA mask: %s", t->bdf,
			       errno_text(err));
	status = check_edu_id(t);
	if (!status)
		status = edu_wait(t, "a DMA left running");
	if (!status)
		status = alloc_buffer(t);
	if (status)
		return status;
	err = fpgactl_set_bus_master(t->dev, true);
	if (err)
		return failure("dma-test", "%s: cannot enable bus mastering: %s", t->bdf,
			       errno_text(err));
	status = run_rounds(t);
	if (!status && t->negative)
		status = run_negative(t);
	/* A transfer that timed out may still come: stop it before the unmap. */
	fpgactl_set_bus_master(t->dev, false);
	return status;
}

/* Exit 2 unless @bdf is QEMU's edu device; 1 when it cannot be looked up. */
static int check_is_edu(const char *bdf)
{
	struct fpgactl_pci_dev pci;
	int err = fpgactl_pci_lookup(bdf, &pci);

	if (err == -ENODEV)
		return failure("dma-test", "%s: no such PCI device", bdf);
	if (err)
		return failure("dma-test", "%s: cannot read sysfs: %s", bdf, errno_text(err));
	if (pci.vendor != EDU_VENDOR || pci.device != EDU_DEVICE)
		return usage_error("dma-test", "dma-test drives QEMU's edu device (%04x:%04x); "
				   "%s is %04x:%04x", EDU_VENDOR, EDU_DEVICE, bdf, pci.vendor,
				   pci.device);
	return STATUS_OK;
}

static int parse_test_args(const struct invocation *inv, struct edu_test *t,
			   char bdf[FPGACTL_BDF_LEN])
{
	int status = require_device(inv, bdf);

	if (!status)
		status = parse_size_option(inv, DEFAULT_SIZE, UINT64_MAX, &t->size);
	if (!status && t->size > EDU_MAX_TRANSFER)
		return usage_error("dma-test", "size %" PRIu64 " is too large (max %d): the edu "
				   "buffer is %d bytes and QEMU 7.2 aborts on a transfer that "
				   "reaches its end", t->size, EDU_MAX_TRANSFER, EDU_BUFFER_SIZE);
	if (!status)
		status = parse_rounds_option(inv, DEFAULT_ROUNDS, MAX_ROUNDS, &t->rounds);
	if (!status)
		status = parse_dma_opts(inv, &t->opts);
	if (!status && inv->memory && strcmp(inv->memory, "alloc")) {
		if (strcmp(inv->memory, "anon") && strcmp(inv->memory, "memfd"))
			return usage_error("dma-test", "--memory '%s': use alloc, anon or "
					   "memfd", inv->memory);
		if (inv->page_size || inv->node || inv->small_pages)
			return usage_error("dma-test", "--page-size, --node and "
					   "--small-pages apply to --memory alloc only");
		t->memory = inv->memory;
	}
	t->negative = inv->negative;
	return status;
}

static int run_dma_test(const struct invocation *inv)
{
	struct edu_test t = { 0 };
	char bdf[FPGACTL_BDF_LEN];
	int status = parse_test_args(inv, &t, bdf);

	if (!status)
		status = check_is_edu(bdf);
	if (status)
		return status;
	t.bdf = bdf;
	status = open_device(inv, bdf, &t.dev);
	if (status)
		return status;
	status = run_on_edu(&t);
	fpgactl_dma_free(t.buf);
	if (t.own)
		munmap(t.own, BUFFER_BYTES);
	fpgactl_device_close(t.dev);
	return status;
}

const struct command cmd_dma_test = {
	.name = "dma-test",
	.args = "",
	.summary = "check DMA through the IOMMU with QEMU's edu device",
	.details = "Only for QEMU's edu device (1234:11e8), with its 28-bit DMA mask.  Each\n"
		   "round writes a pattern to a DMA buffer, has the device copy it into its\n"
		   "own buffer and back to the second half of the DMA buffer, and compares\n"
		   "byte for byte.  --size is the bytes per transfer, 1..4095 (default\n"
		   "4000: the edu buffer is 4096 bytes and QEMU 7.2 aborts on a transfer\n"
		   "that reaches its end); --rounds defaults to 4.  --negative then aims a\n"
		   "device write at an IOVA next to the buffer that is not mapped and\n"
		   "checks that the buffer kept its canary.  --page-size 4k implies\n"
		   "--small-pages.  --memory anon or memfd uses the program's own memory,\n"
		   "mapped with fpgactl_dma_map(), instead of fpgactl_dma_alloc().\n"
		   "Exits 1 on a mismatch or a transfer that does not\n"
		   "complete within 1 s.\n",
	.options = OPT_DEVICE | OPT_SIZE | OPT_ROUNDS | OPT_NEGATIVE | OPT_PAGE_SIZE |
		   OPT_NODE | OPT_SMALL_PAGES | OPT_MEMORY,
	.min_args = 0,
	.max_args = 0,
	.run = run_dma_test,
};
