// SPDX-License-Identifier: MIT
/*
 * nvme_share: QEMU's NVMe controller driven by three processes (guest test
 * share-queues): a control process and workers that each drive an I/O
 * queue pair of their own, whose rings lie in a DMA buffer the control
 * process shared (fpgactl_share_export/import, fpgactl_queue_create_in()).
 *
 *   nvme_share control BDF SOCKET WORKERS
 *	opens the controller, brings it up with a polled admin queue,
 *	identifies namespace 1, allocates one 2 MiB hugepage buffer, creates
 *	I/O queue pair k (k = 1..WORKERS, polled, no interrupts) with its
 *	rings at the slice of worker k, writes the plan (depth, doorbell
 *	stride, block size) into the buffer, exports the device and the
 *	buffer to each worker on the UNIX socket SOCKET, waits until every
 *	worker has done its first pass, and exits leaving the controller
 *	enabled (the admin work is done; the I/O queues are the workers').
 *   nvme_share worker SOCKET K
 *	imports, reads the plan, checks that fpgactl_queue_create() is
 *	refused (an imported context maps nothing new), creates its queue
 *	engine on slice K with fpgactl_queue_create_in(), writes a pattern
 *	of its own to LBAs of its own with NVMe Write through queue K, reads
 *	it back with NVMe Read into another part of the slice and compares;
 *	tells the control process, waits for its exit (its end of the socket
 *	closes) and does the same once more.
 *
 * Layout of the shared buffer: worker K's slice at K * SLICE: rings at 0,
 * the data written at DATA_W, the data read at DATA_R; the control
 * process's Identify data at 0; the plan in the last 4 KiB.  One line per
 * step; exit 0 when all held, 1 otherwise.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fpgactl.h>

#include "nvme.h"
#include "prog_log.h"
#include "share.h"

/* EN, NVM command set, 4 KiB pages, IOSQES 6, IOCQES 4 */
#define CC_ENABLE (NVME_CC_EN | NVME_CC_IOSQES | NVME_CC_IOCQES)

#define ADM_CREATE_SQ 0x01
#define ADM_CREATE_CQ 0x05
#define ADM_IDENTIFY 0x06
#define ADM_SET_FEATURES 0x09
#define NVM_WRITE 0x01
#define NVM_READ 0x02

#define BUF_SIZE FPGACTL_PAGE_2M
#define SLICE 0x80000u
#define DATA_W 0x10000u
#define DATA_R 0x20000u
#define XFER 0x10000u		/* bytes per pass: 8 commands of 8 KiB */
#define CMD_BYTES 0x2000u	/* PRP1 + PRP2, two 4 KiB pages */
#define PLAN_OFF (BUF_SIZE - 4096)
#define MAX_WORKERS 3
#define DEPTH 16
#define TIMEOUT_NS 5000000000ull
#define PLAN_MAGIC "nvme_share plan"

/* What the control process tells the workers, in the shared buffer. */
struct plan {
	char magic[16];
	uint32_t workers;
	uint32_t depth;
	uint32_t db_stride;
	uint32_t lba_size;
	uint64_t nsze;
};

static struct fpgactl_device *dev;
/* 64-bit registers as two 32-bit accesses, low first (NVMe 1.4, 3.1). */
static int reg_read64(uint32_t off, uint64_t *val)
{
	uint32_t lo, hi;
	int err = fpgactl_reg_read32(dev, NVME_BAR, off, &lo);

	if (!err)
		err = fpgactl_reg_read32(dev, NVME_BAR, off + 4, &hi);
	*val = (uint64_t)hi << 32 | lo;
	return err;
}

static int reg_write64(uint32_t off, uint64_t val)
{
	int err = fpgactl_reg_write32(dev, NVME_BAR, off, (uint32_t)val);

	return err ? err : fpgactl_reg_write32(dev, NVME_BAR, off + 4, (uint32_t)(val >> 32));
}

/* Submit what is reserved on @q and reap @n commands; 0 when each succeeded. */
static int run_cmds(struct fpgactl_queue *q, unsigned int n, const char *what)
{
	struct fpgactl_completion c[DEPTH];
	unsigned int left = n;
	int ret = 0;

	fpgactl_queue_submit(q);
	while (left) {
		unsigned int got = fpgactl_queue_reap(q, c, DEPTH);

		for (unsigned int i = 0; i < got; i++, left--)
			if (!ret && (c[i].error || c[i].status || !c[i].ctx)) {
				printf("%s: %s: error %d, NVMe status 0x%x\n", who, what,
				       c[i].error, c[i].status);
				ret = c[i].error ? c[i].error : -EIO;
			}
		if (!got)
			sched_yield();
	}
	return ret;
}

/* One admin command with PRP1 @prp1 and CDW10/11 @cdw10, @cdw11. */
static int admin(struct fpgactl_queue *aq, uint8_t opc, uint32_t nsid, uint64_t prp1,
		 uint32_t cdw10, uint32_t cdw11, const char *what)
{
	struct fpgactl_sqe *sqe = fpgactl_queue_get_sqe(aq, (void *)what, TIMEOUT_NS);

	if (!sqe)
		return fail(what, EBUSY);
	sqe->opc = opc;
	sqe->nsid = nsid;
	sqe->addr0 = prp1;
	sqe->cdw10 = cdw10;
	sqe->cdw11 = cdw11;
	return run_cmds(aq, 1, what) ? fail(what, EIO) : 0;
}

/* ---- the control process ------------------------------------------------ */

/* CC.EN 0, the admin queue, CC.EN 1 (NVMe 1.4, 7.6.1); 0 or 1. */
static int bring_up(struct fpgactl_queue **aq, uint64_t cap)
{
	uint64_t last, to_us = ((cap >> 24 & 0xff) + 1) * 500000ull;
	struct fpgactl_queue_cfg cfg = { .qid = 0, .depth = DEPTH, .bar = NVME_BAR,
		.db_offset = NVME_DOORBELLS, .db_stride = 4u << NVME_CAP_DSTRD(cap) };
	int err = fpgactl_reg_write32(dev, NVME_BAR, NVME_REG_CC, 0);

	if (!err)
		err = fpgactl_reg_poll(dev, NVME_BAR, NVME_REG_CSTS, 4, NVME_CSTS_RDY, 0,
				       to_us, &last);
	if (err)
		return fail("disable", err);
	*aq = fpgactl_queue_create(dev, &cfg, &err);
	if (!*aq)
		return fail("admin queue", err);
	err = fpgactl_reg_write32(dev, NVME_BAR, NVME_REG_AQA, (DEPTH - 1) << 16 | (DEPTH - 1));
	if (!err)
		err = reg_write64(NVME_REG_ASQ, fpgactl_queue_sq_iova(*aq));
	if (!err)
		err = reg_write64(NVME_REG_ACQ, fpgactl_queue_cq_iova(*aq));
	if (!err)
		err = fpgactl_reg_write32(dev, NVME_BAR, NVME_REG_CC, CC_ENABLE);
	if (!err)
		err = fpgactl_reg_poll(dev, NVME_BAR, NVME_REG_CSTS, 4, NVME_CSTS_RDY,
				       NVME_CSTS_RDY, to_us, &last);
	return err ? fail("enable", err) : 0;
}

/* Identify namespace 1 into the buffer's start: its size and block size. */
static int identify(struct fpgactl_queue *aq, struct fpgactl_dma_buf *b, struct plan *p)
{
	const uint8_t *id = b->vaddr;
	uint32_t lbaf;
	uint64_t nsze;

	if (admin(aq, ADM_IDENTIFY, 1, b->iova, 0 /* CNS namespace */, 0, "Identify"))
		return 1;
	memcpy(&nsze, id, 8);
	memcpy(&lbaf, id + 128 + 4 * (id[26] & 0xf), 4);
	p->nsze = le64toh(nsze);
	p->lba_size = 1u << (le32toh(lbaf) >> 16 & 0xff);
	if (p->lba_size < 512 || p->lba_size > 4096 ||
	    p->nsze * p->lba_size < (uint64_t)(MAX_WORKERS + 1) * 1024 * 4096)
		return fail("namespace 1 too small or odd block size", EINVAL);
	printf("control: namespace 1: %" PRIu64 " blocks of %u bytes\n", p->nsze, p->lba_size);
	return 0;
}

/* I/O queue pair @k: CQ (polled: IEN 0) then SQ, rings at slice @k. */
static int create_io_queues(struct fpgactl_queue *aq, struct fpgactl_dma_buf *b,
			    unsigned int k)
{
	uint64_t sq = b->iova + (uint64_t)k * SLICE;
	uint64_t cq = sq + fpgactl_queue_ring_size(DEPTH) - DEPTH * 16;
	uint32_t cdw10 = (DEPTH - 1) << 16 | k;

	if (admin(aq, ADM_CREATE_CQ, 0, cq, cdw10, 1 /* contiguous */, "Create I/O CQ") ||
	    admin(aq, ADM_CREATE_SQ, 0, sq, cdw10, k << 16 | 1, "Create I/O SQ"))
		return 1;
	printf("control: I/O queue pair %u: SQ at IOVA 0x%" PRIx64 ", CQ at IOVA 0x%"
	       PRIx64 ", %u entries, polled\n", k, sq, cq, DEPTH);
	return 0;
}

static int control(const char *bdf, const char *sock_path, unsigned int workers)
{
	struct fpgactl_queue *aq = NULL;
	struct fpgactl_dma_buf *b;
	struct plan *p;
	struct sockaddr_un sa;
	int err = 0, lsock, conns[MAX_WORKERS];
	uint64_t cap;
	char c;

	who = "control";
	dev = fpgactl_device_open(bdf, NULL, &err);
	if (!dev || fpgactl_device_set_dma_mask(dev, 64) || fpgactl_set_bus_master(dev, true) ||
	    reg_read64(NVME_REG_CAP, &cap))
		return fail("open", err);
	b = fpgactl_dma_alloc(dev, BUF_SIZE, NULL, &err);
	if (!b)
		return fail("fpgactl_dma_alloc", err);
	p = (struct plan *)((uint8_t *)b->vaddr + PLAN_OFF);
	if (bring_up(&aq, cap) || identify(aq, b, p) ||
	    admin(aq, ADM_SET_FEATURES, 0, 0, 0x07 /* number of queues */,
		  (workers - 1) << 16 | (workers - 1), "Set Features"))
		return 1;
	for (unsigned int k = 1; k <= workers; k++)
		if (create_io_queues(aq, b, k))
			return 1;
	snprintf(p->magic, sizeof(p->magic), "%s", PLAN_MAGIC);
	p->workers = workers;
	p->depth = DEPTH;
	p->db_stride = 4u << NVME_CAP_DSTRD(cap);
	lsock = unix_socket(sock_path, &sa);
	if (lsock < 0 || bind(lsock, (struct sockaddr *)&sa, sizeof(sa)) || listen(lsock, 4))
		return fail("socket", errno);
	printf("control: ready, %s with the %s backend\n", fpgactl_device_bdf(dev),
	       fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)));
	for (unsigned int k = 0; k < workers; k++) {
		conns[k] = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
		if (conns[k] < 0)
			return fail("accept", errno);
		err = fpgactl_share_export(conns[k], dev, &b, 1);
		if (err)
			return fail("fpgactl_share_export", err);
	}
	printf("control: exported to %u workers\n", workers);
	for (unsigned int k = 0; k < workers; k++) {
		ssize_t got = recv(conns[k], &c, 1, 0);

		if (got != 1)	/* 0: the worker ended without saying so */
			return fail("a worker's first pass", got < 0 ? errno : EPIPE);
	}
	/* The admin rings are this process's own; the shared buffer stays
	 * mapped for the workers: not freed.  The controller stays enabled. */
	fpgactl_queue_destroy(aq);
	fpgactl_device_close(dev);
	printf("control: every worker did its first pass; device closed, exiting\n");
	return 0;	/* the sockets close at exit: the workers see it */
}

/* ---- a worker ------------------------------------------------------------ */

/* Reserve @n I/O commands of @opc over @data, from block @slba on. */
static void io_cmds(struct fpgactl_queue *q, uint8_t opc, uint64_t data, uint64_t slba,
		    uint32_t lba_size, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct fpgactl_sqe *sqe = fpgactl_queue_get_sqe(q, (void *)(uintptr_t)(i + 1),
								TIMEOUT_NS);
		uint64_t lba = slba + (uint64_t)i * CMD_BYTES / lba_size;

		sqe->opc = opc;
		sqe->nsid = 1;
		sqe->addr0 = data + (uint64_t)i * CMD_BYTES;
		sqe->addr1 = sqe->addr0 + 4096;
		sqe->cdw10 = (uint32_t)lba;
		sqe->cdw11 = (uint32_t)(lba >> 32);
		sqe->cdw12 = CMD_BYTES / lba_size - 1;
	}
}

/* Write a pattern of pass @pass through @q and read it back; 0 or 1. */
static int io_pass(struct fpgactl_queue *q, struct fpgactl_dma_buf *b, unsigned int k,
		   const struct plan *p, unsigned int pass, const char *when)
{
	uint8_t *w = (uint8_t *)b->vaddr + k * SLICE + DATA_W;
	uint8_t *r = (uint8_t *)b->vaddr + k * SLICE + DATA_R;
	uint64_t base = b->iova + (uint64_t)k * SLICE, slba = (uint64_t)k * 1024 * 4096 / p->lba_size;
	uint32_t x = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 8 ^ pass;
	struct fpgactl_queue_stats s;

	for (size_t i = 0; i < XFER; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;	/* xorshift32 */
		w[i] = (uint8_t)x;
		r[i] = (uint8_t)~x;
	}
	io_cmds(q, NVM_WRITE, base + DATA_W, slba, p->lba_size, XFER / CMD_BYTES);
	if (run_cmds(q, XFER / CMD_BYTES, "Write"))
		return fail(when, EIO);
	io_cmds(q, NVM_READ, base + DATA_R, slba, p->lba_size, XFER / CMD_BYTES);
	if (run_cmds(q, XFER / CMD_BYTES, "Read"))
		return fail(when, EIO);
	if (memcmp(w, r, XFER))
		return fail("the data read back differs from that written", EIO);
	fpgactl_queue_get_stats(q, &s);
	printf("%s: %s: %u bytes written and read back through queue pair %u, verified "
	       "(%" PRIu64 " commands completed, %" PRIu64 " bad completions)\n", who, when,
	       XFER, k, s.completed, s.bad_completions);
	return s.bad_completions ? fail("bad completions", EPROTO) : 0;
}

/* The plan, read from memory another process wrote: checked before use. */
static int read_plan(const struct fpgactl_dma_buf *b, unsigned int k, struct plan *p)
{
	memcpy(p, (const uint8_t *)b->vaddr + PLAN_OFF, sizeof(*p));
	if (memcmp(p->magic, PLAN_MAGIC, sizeof(PLAN_MAGIC)) || k > p->workers ||
	    p->workers > MAX_WORKERS || p->depth != DEPTH || p->db_stride < 4 ||
	    p->lba_size < 512 || p->lba_size > 4096 || (p->lba_size & (p->lba_size - 1)))
		return fail("the plan in the shared buffer", EPROTO);
	return 0;
}

static struct fpgactl_queue *worker_queue(struct fpgactl_dma_buf *b, unsigned int k,
					  const struct plan *p)
{
	struct fpgactl_queue_cfg cfg = { .qid = (uint16_t)k, .depth = p->depth, .bar = NVME_BAR,
		.db_offset = NVME_DOORBELLS, .db_stride = p->db_stride };
	struct fpgactl_queue *q;
	int err = 0;

	q = fpgactl_queue_create(dev, &cfg, &err);
	if (q || err != -EPERM) {
		fail("fpgactl_queue_create in an imported context", q ? 0 : err);
		return NULL;
	}
	printf("%s: fpgactl_queue_create refused (EPERM): the rings must be in a shared "
	       "buffer\n", who);
	q = fpgactl_queue_create_in(dev, &cfg, b, (size_t)k * SLICE, &err);
	if (!q) {
		fail("fpgactl_queue_create_in", err);
		return NULL;
	}
	printf("%s: queue pair %u in the shared buffer: SQ at IOVA 0x%" PRIx64 ", CQ at "
	       "IOVA 0x%" PRIx64 "\n", who, k, fpgactl_queue_sq_iova(q),
	       fpgactl_queue_cq_iova(q));
	return q;
}

static int worker(const char *sock_path, const char *k_arg)
{
	struct fpgactl_dma_buf *b[2];
	unsigned int k = (unsigned int)atoi(k_arg), n = 0;
	struct sockaddr_un sa;
	struct fpgactl_queue *q;
	static char name[16];
	int err = 0, sock = unix_socket(sock_path, &sa);
	struct plan p;
	char c = 1;

	snprintf(name, sizeof(name), "worker %u", k);
	who = name;
	if (k < 1 || k > MAX_WORKERS)
		return fail("K", EINVAL);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)))
		return fail("connect", errno);
	dev = fpgactl_share_import(sock, b, 2, &n, &err);
	if (!dev)
		return fail("fpgactl_share_import", err);
	printf("%s: imported %s with %u buffer, backend %s\n", who, fpgactl_device_bdf(dev),
	       n, fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)));
	if (n != 1 || b[0]->size < BUF_SIZE || read_plan(b[0], k, &p))
		return fail("the imported buffer", EPROTO);
	q = worker_queue(b[0], k, &p);
	if (!q || io_pass(q, b[0], k, &p, 0, "with the control process"))
		return 1;
	if (send(sock, &c, 1, MSG_NOSIGNAL) != 1)
		return fail("send", errno);
	/* Wait for the control process's exit: its end of the socket closes. */
	while (recv(sock, &c, 1, 0) < 0 && errno == EINTR)
		;
	if (io_pass(q, b[0], k, &p, 1, "after the control process's exit"))
		return 1;
	fpgactl_queue_destroy(q);
	fpgactl_dma_free(b[0]);
	fpgactl_device_close(dev);
	printf("%s: done\n", who);
	return 0;
}

int main(int argc, char **argv)
{
	fpgactl_set_log(prog_log_stderr, PROG_LOG_LIB, FPGACTL_LOG_WARNING);
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60);	/* a worker that never comes must not hang the test */
	if (argc == 5 && !strcmp(argv[1], "control") && atoi(argv[4]) >= 1 &&
	    atoi(argv[4]) <= MAX_WORKERS)
		return control(argv[2], argv[3], (unsigned int)atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "worker"))
		return worker(argv[2], argv[3]);
	fprintf(stderr, "usage: nvme_share control BDF SOCKET WORKERS (1-%d)\n"
		"       nvme_share worker SOCKET K\n", MAX_WORKERS);
	return 2;
}
