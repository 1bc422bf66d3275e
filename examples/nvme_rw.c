// SPDX-License-Identifier: MIT
/*
 * nvme_rw: a user-space NVMe driver on libfpgactl's ring engine.
 *
 *	nvme_rw [-u] [-t US] BDF [KIB [LBA]]
 *	nvme_rw -i [-u] [-t US] BDF [KIB [LBA]]
 *	nvme_rw -b QD[,QD...] [-T MS] [-t US] BDF
 *
 * Brings up an NVMe controller bound to vfio-pci, identifies it and
 * namespace 1, creates one polled I/O queue pair, writes KIB KiB (default
 * 1024) of a pattern from LBA (default 0) in batches of commands (one
 * doorbell write per batch), reads them back into another buffer, compares
 * them byte for byte, deletes the I/O queues and shuts the controller down.
 *
 * THIS OVERWRITES THE NAMESPACE'S DATA.  Point it at a scratch device only.
 *
 * With -b it writes nothing: a read benchmark instead of the write, read
 * and compare.  For each queue depth QD it keeps QD random 4 KiB reads in
 * flight on the I/O queue for MS milliseconds (default 2000), replacing each
 * completion with a new read, and prints the reads per second, the
 * throughput and the mean latency.  Completions are polled with
 * fpgactl_queue_wait(FPGACTL_WAIT_POLL); the new reads of one wait go to the
 * controller with one doorbell write.
 *
 * Two options provoke the failures a driver must report, for tests:
 * -u sends the I/O even past the end of the namespace (the controller
 * answers LBA Out of Range), -t US gives each I/O command a deadline of US
 * microseconds instead of 5 s (a very short one makes commands time out).
 *
 * -i waits for the write and read passes' completions on the controller's
 * pin-based interrupt (INTx, vector 0 of the I/O CQ) with
 * fpgactl_queue_wait(FPGACTL_WAIT_INTERRUPT) instead of polling, and
 * prints how many INTx interrupts the kernel counted (/proc/interrupts):
 * VFIO masks INTx on each one and the wait must unmask it.
 *
 * Exit status: 0 verified, 1 any failure (an NVMe status other than
 * success, a timeout, a mismatch, a value the device should not have
 * returned), 2 bad arguments.
 *
 * References are to the NVM Express Base Specification 1.4: section 3.1
 * (controller registers), 5 (admin commands), 6 (NVM commands), 7.6
 * (initialization and shutdown).  Only what this example needs is
 * implemented: one namespace, 4 KiB memory pages, at most two pages per
 * command (PRP1 and PRP2, no PRP lists), no interrupts, no metadata.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fpgactl.h>

/* Controller registers in BAR0 (section 3.1). */
#define NVME_BAR 0
#define REG_CAP 0x00 /* Controller Capabilities, 64 bit */
#define REG_VS 0x08 /* Version */
#define REG_CC 0x14 /* Controller Configuration */
#define REG_CSTS 0x1c /* Controller Status */
#define REG_AQA 0x24 /* Admin Queue Attributes */
#define REG_ASQ 0x28 /* Admin Submission Queue base, 64 bit */
#define REG_ACQ 0x30 /* Admin Completion Queue base, 64 bit */
#define REG_DOORBELLS 0x1000 /* SQ y tail at 0x1000 + 2y * stride, CQ head +1 */

/* CAP fields. */
#define CAP_MQES(cap) ((uint32_t)((cap) & 0xffff)) /* max entries - 1 */
#define CAP_CQR(cap) ((uint32_t)(((cap) >> 16) & 1)) /* contiguous queues */
#define CAP_TO(cap) ((uint32_t)(((cap) >> 24) & 0xff)) /* 500 ms units */
#define CAP_DSTRD(cap) ((uint32_t)(((cap) >> 32) & 0xf)) /* 4 << DSTRD */
#define CAP_CSS_NVM(cap) ((uint32_t)(((cap) >> 37) & 1)) /* NVM command set */
#define CAP_MPSMIN(cap) ((uint32_t)(((cap) >> 48) & 0xf)) /* 2^(12+MPSMIN) */

/* CC fields. */
#define CC_EN (1u << 0)
#define CC_CSS_NVM (0u << 4)
#define CC_MPS_4K (0u << 7) /* memory page size 2^(12+0) */
#define CC_AMS_RR (0u << 11) /* round-robin arbitration */
#define CC_SHN_MASK (3u << 14)
#define CC_SHN_NORMAL (1u << 14)
#define CC_IOSQES (6u << 16) /* I/O SQ entry 2^6 = 64 bytes */
#define CC_IOCQES (4u << 20) /* I/O CQ entry 2^4 = 16 bytes */

/* CSTS fields. */
#define CSTS_RDY (1u << 0)
#define CSTS_CFS (1u << 1) /* controller fatal status */
#define CSTS_SHST_MASK (3u << 2)
#define CSTS_SHST_DONE (2u << 2)

/* Admin opcodes (section 5). */
#define ADM_DELETE_SQ 0x00
#define ADM_CREATE_SQ 0x01
#define ADM_DELETE_CQ 0x04
#define ADM_CREATE_CQ 0x05
#define ADM_IDENTIFY 0x06
#define ADM_SET_FEATURES 0x09
#define FEAT_NUM_QUEUES 0x07
#define CNS_NAMESPACE 0x00
#define CNS_CONTROLLER 0x01

/* NVM command set opcodes (section 6). */
#define NVM_WRITE 0x01
#define NVM_READ 0x02

/* Identify Controller data structure: byte offsets. */
#define IDC_VID 0 /* PCI vendor id, 2 bytes */
#define IDC_SN 4 /* serial number, 20 ASCII bytes */
#define IDC_SN_LEN 20
#define IDC_MN 24 /* model number, 40 ASCII bytes */
#define IDC_MN_LEN 40
#define IDC_FR 64 /* firmware revision, 8 ASCII bytes */
#define IDC_FR_LEN 8
#define IDC_MDTS 77 /* max data transfer, 2^n min pages; 0 no limit */
#define IDC_RTD3E 88 /* RTD3 entry latency, microseconds, 4 bytes */
#define IDC_SQES 512 /* bits 3:0 required, 7:4 maximum SQ entry size */
#define IDC_CQES 513 /* the same for CQ entries */
#define IDC_NN 516 /* number of namespaces, 4 bytes */

/* Identify Namespace data structure (NVM command set): byte offsets. */
#define IDN_NSZE 0 /* size in logical blocks, 8 bytes */
#define IDN_NCAP 8 /* capacity, 8 bytes */
#define IDN_NLBAF 25 /* number of LBA formats, 0-based */
#define IDN_FLBAS 26 /* formatted LBA size: bits 3:0 format index */
#define IDN_LBAF 128 /* LBA formats, 4 bytes each: MS 15:0, LBADS 23:16 */
#define IDN_LBAF_MAX 64 /* the structure has room for 64 formats */

#define IDENTIFY_LEN 4096 /* every Identify structure is 4 KiB */
#define PAGE 4096u /* the memory page size this driver uses (CC.MPS 0) */
#define CMD_BYTES (2 * PAGE) /* at most PRP1 + PRP2 per command */

#define ADMIN_QID 0
#define ADMIN_DEPTH 32
#define IO_QID 1
#define IO_DEPTH 64
#define ADMIN_TIMEOUT_MS 5000
#define IO_TIMEOUT_US 5000000
#define SHUTDOWN_TIMEOUT_MS 5000 /* when RTD3E says nothing */
#define MAX_KIB (256u * 1024) /* 256 MiB per buffer at most */
#define BENCH_IO 4096u /* bytes per benchmark read */
#define BENCH_MS 2000 /* default benchmark time per queue depth */
#define MAX_DEPTHS 8 /* queue depths per benchmark run */

/**
 * struct nvme - one controller driven by this example
 * @dev: the VFIO device
 * @cap: CAP register
 * @ready_timeout_us: CAP.TO in microseconds: the longest CSTS.RDY may take
 * @admin: admin queue pair (qid 0)
 * @io: I/O queue pair (qid 1)
 * @ident: 4 KiB DMA buffer for Identify data
 * @wbuf: data written
 * @rbuf: data read back
 * @enabled: CC.EN was set by us
 * @failed: a command or a register wait failed: the controller's state is
 *	unknown, so teardown resets it rather than shutting it down
 * @io_cq: the I/O completion queue exists on the controller
 * @io_sq: the I/O submission queue exists on the controller
 * @shutdown_ms: how long a normal shutdown may take (RTD3E or default)
 * @lba_size: bytes per logical block of namespace 1
 * @nsze: size of namespace 1 in logical blocks
 * @max_xfer: largest transfer per command in bytes (MDTS); 0 no limit
 * @io_timeout_us: deadline of each I/O command
 * @unchecked: send I/O past the end of the namespace (-u)
 * @bench_qd: queue depths of the read benchmark (-b); none: no benchmark
 * @bench_depths: how many
 * @bench_ms: time per queue depth (-T)
 */
struct nvme {
	struct fpgactl_device *dev;
	uint64_t cap;
	uint64_t ready_timeout_us;
	struct fpgactl_queue *admin;
	struct fpgactl_queue *io;
	struct fpgactl_dma_buf *ident, *wbuf, *rbuf;
	bool enabled, failed, io_cq, io_sq;
	uint32_t shutdown_ms;
	uint32_t lba_size;
	uint64_t nsze;
	uint64_t max_xfer;
	uint64_t io_timeout_us;
	bool unchecked;
	bool intx;
	struct fpgactl_events *ev;
	uint32_t bench_qd[MAX_DEPTHS];
	unsigned int bench_depths;
	uint64_t bench_ms;
};

/**
 * struct nvme_cmd - one command as this driver tracks it (the queue's ctx)
 * @what: name for messages
 * @slba: first logical block (I/O commands)
 * @nlb: number of logical blocks (I/O commands)
 * @timeout_us: the deadline given to fpgactl_queue_get_sqe()
 * @c: that completion
 */
struct nvme_cmd {
	const char *what;
	uint64_t slba;
	uint32_t nlb;
	uint64_t timeout_us;
	struct fpgactl_completion c;
};

/**
 * struct pass_result - what one write or read pass did
 * @cmds: commands issued
 * @batches: batches submitted, each with one tail doorbell write
 * @ns: wall time of the pass
 */
struct pass_result {
	unsigned int cmds;
	unsigned int batches;
	uint64_t ns;
};

static void log_stderr(void *arg, int level, const char *msg)
{
	fprintf(stderr, "libfpgactl: %s\n", msg);
}

/** now_ns() - CLOCK_MONOTONIC in nanoseconds. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/** ms_since() - milliseconds since @t0 (a now_ns() value), as a double. */
static double ms_since(uint64_t t0)
{
	return (double)(now_ns() - t0) / 1e6;
}

/* ------------------------------------------------------------ registers */

/**
 * reg_read32() - read a 32-bit controller register
 * @n: controller
 * @off: register offset
 * @val: receives the value
 *
 * Return: 0 or -errno (message printed).
 */
static int reg_read32(struct nvme *n, uint64_t off, uint32_t *val)
{
	int ret = fpgactl_reg_read32(n->dev, NVME_BAR, off, val);

	if (ret)
		fprintf(stderr, "nvme_rw: reading register 0x%" PRIx64 ": %s\n",
			off, strerror(-ret));
	return ret;
}

/**
 * reg_write32() - write a 32-bit controller register
 * @n: controller
 * @off: register offset
 * @val: value
 *
 * Return: 0 or -errno (message printed).
 */
static int reg_write32(struct nvme *n, uint64_t off, uint32_t val)
{
	int ret = fpgactl_reg_write32(n->dev, NVME_BAR, off, val);

	if (ret)
		fprintf(stderr, "nvme_rw: writing register 0x%" PRIx64 ": %s\n",
			off, strerror(-ret));
	return ret;
}

/**
 * reg_read64() - read a 64-bit register as two 32-bit halves, low first
 * @n: controller
 * @off: register offset
 * @val: receives the value
 *
 * Section 3.1: 64-bit registers may be accessed as two 32-bit accesses;
 * not every controller supports one 64-bit access.
 *
 * Return: 0 or -errno.
 */
static int reg_read64(struct nvme *n, uint64_t off, uint64_t *val)
{
	uint32_t lo, hi;
	int ret = reg_read32(n, off, &lo);

	if (!ret)
		ret = reg_read32(n, off + 4, &hi);
	if (!ret)
		*val = (uint64_t)hi << 32 | lo;
	return ret;
}

/**
 * reg_write64() - write a 64-bit register as two 32-bit halves, low first
 * @n: controller
 * @off: register offset
 * @val: value
 *
 * Return: 0 or -errno.
 */
static int reg_write64(struct nvme *n, uint64_t off, uint64_t val)
{
	int ret = reg_write32(n, off, (uint32_t)val);

	return ret ? ret : reg_write32(n, off + 4, (uint32_t)(val >> 32));
}

/**
 * wait_csts() - wait until (CSTS & @mask) == @value
 * @n: controller
 * @mask: bits to compare
 * @value: wanted value
 * @timeout_us: how long the controller may take
 * @what: what is waited for, for messages
 *
 * Return: 0, -ETIMEDOUT (with CSTS and its fatal-status bit printed),
 * -ENODEV when the device is gone, or -errno.
 */
static int wait_csts(struct nvme *n, uint32_t mask, uint32_t value,
		     uint64_t timeout_us, const char *what)
{
	uint64_t last = 0;
	int ret = fpgactl_reg_poll(n->dev, NVME_BAR, REG_CSTS, 4, mask, value,
				   timeout_us, &last);

	n->failed |= ret != 0;
	if (ret == -ETIMEDOUT)
		fprintf(stderr, "nvme_rw: timed out after %.1f s waiting for %s: "
			"CSTS 0x%08" PRIx64 "%s\n", (double)timeout_us / 1e6, what,
			last, (last & CSTS_CFS) ? " (controller fatal status)" : "");
	else if (ret)
		fprintf(stderr, "nvme_rw: waiting for %s: %s\n", what, strerror(-ret));
	return ret;
}

/* ------------------------------------------------------- bring-up (7.6.1) */

/**
 * read_cap() - read and check CAP and VS
 * @n: controller
 *
 * This driver needs the NVM command set and 4 KiB memory pages; the ready
 * timeout CAP.TO is in units of 500 ms (a TO of 0 is taken as one unit).
 *
 * Return: 0, or -ENODEV / -ENOTSUP with a message.
 */
static int read_cap(struct nvme *n)
{
	uint32_t vs;
	int ret = reg_read64(n, REG_CAP, &n->cap);

	if (!ret)
		ret = reg_read32(n, REG_VS, &vs);
	if (ret)
		return ret;
	if (n->cap == UINT64_MAX || vs == UINT32_MAX) {
		fprintf(stderr, "nvme_rw: CAP and VS read all ones: the device is gone\n");
		return -ENODEV;
	}
	if (!CAP_CSS_NVM(n->cap) || CAP_MPSMIN(n->cap) != 0 || (vs >> 16) < 1) {
		fprintf(stderr, "nvme_rw: unsupported controller: CAP 0x%016" PRIx64
			" (NVM command set %u, MPSMIN %u: need 1 and 0), VS 0x%08x\n",
			n->cap, CAP_CSS_NVM(n->cap), CAP_MPSMIN(n->cap), vs);
		return -ENOTSUP;
	}
	n->ready_timeout_us = (uint64_t)(CAP_TO(n->cap) ? CAP_TO(n->cap) : 1) * 500000;
	printf("controller: NVMe %u.%u.%u, CAP 0x%016" PRIx64 ": MQES %u, "
	       "doorbell stride %u bytes, ready timeout %.1f s\n",
	       vs >> 16, (vs >> 8) & 0xff, vs & 0xff, n->cap,
	       CAP_MQES(n->cap) + 1, 4u << CAP_DSTRD(n->cap),
	       (double)n->ready_timeout_us / 1e6);
	return 0;
}

/**
 * disable() - clear CC.EN and wait for CSTS.RDY = 0 (a controller reset)
 * @n: controller
 *
 * Clearing EN while the controller is still becoming ready (EN 1, RDY 0)
 * is not safe on every controller, so that case first waits for RDY 1,
 * as SPDK does.  Disabling deletes every I/O queue and stops all DMA.
 *
 * Return: 0 or -errno.
 */
static int disable(struct nvme *n)
{
	uint32_t cc, csts;
	int ret = reg_read32(n, REG_CC, &cc);

	if (!ret)
		ret = reg_read32(n, REG_CSTS, &csts);
	if (!ret && (cc & CC_EN) && !(csts & CSTS_RDY))
		ret = wait_csts(n, CSTS_RDY, CSTS_RDY, n->ready_timeout_us,
				"CSTS.RDY = 1 before disabling");
	if (!ret && (cc & CC_EN))
		ret = reg_write32(n, REG_CC, cc & ~CC_EN);
	if (!ret)
		ret = wait_csts(n, CSTS_RDY, 0, n->ready_timeout_us,
				"CSTS.RDY = 0 (controller disabled)");
	if (!ret)
		n->enabled = false;
	return ret;
}

/**
 * create_admin_queue() - allocate the admin rings and tell the controller
 * @n: controller
 *
 * The controller is disabled.  AQA holds both sizes, 0-based; ASQ and ACQ
 * the ring bases, which must be 4 KiB aligned (bits 11:0 are reserved).
 *
 * Return: 0 or -errno.
 */
static int create_admin_queue(struct nvme *n)
{
	const struct fpgactl_queue_cfg cfg = {
		.qid = ADMIN_QID,
		.depth = ADMIN_DEPTH,
		.bar = NVME_BAR,
		.db_offset = REG_DOORBELLS,
		.db_stride = 4u << CAP_DSTRD(n->cap),
	};
	uint64_t sq, cq;
	int ret = 0;

	n->admin = fpgactl_queue_create(n->dev, &cfg, &ret);
	if (!n->admin) {
		fprintf(stderr, "nvme_rw: admin queue: %s\n", strerror(-ret));
		return ret;
	}
	sq = fpgactl_queue_sq_iova(n->admin);
	cq = fpgactl_queue_cq_iova(n->admin);
	if ((sq | cq) & (PAGE - 1)) {
		fprintf(stderr, "nvme_rw: admin rings at IOVA 0x%" PRIx64 " and 0x%"
			PRIx64 " are not 4 KiB aligned, as ASQ and ACQ must be\n",
			sq, cq);
		return -EINVAL;
	}
	ret = reg_write32(n, REG_AQA, (ADMIN_DEPTH - 1) << 16 | (ADMIN_DEPTH - 1));
	if (!ret)
		ret = reg_write64(n, REG_ASQ, sq);
	if (!ret)
		ret = reg_write64(n, REG_ACQ, cq);
	if (!ret)
		printf("admin queue: %u entries, SQ at IOVA 0x%" PRIx64 ", CQ at IOVA 0x%"
		       PRIx64 "\n", ADMIN_DEPTH, sq, cq);
	return ret;
}

/**
 * enable() - set CC (NVM command set, 4 KiB pages, round-robin, 64-byte
 *	SQ and 16-byte CQ entries) with EN = 1 and wait for CSTS.RDY = 1
 * @n: controller
 *
 * Return: 0 or -errno.
 */
static int enable(struct nvme *n)
{
	uint64_t t0 = now_ns();
	int ret = reg_write32(n, REG_CC, CC_EN | CC_CSS_NVM | CC_MPS_4K |
				  CC_AMS_RR | CC_IOSQES | CC_IOCQES);

	if (ret)
		return ret;
	n->enabled = true;
	ret = wait_csts(n, CSTS_RDY | CSTS_CFS, CSTS_RDY, n->ready_timeout_us,
			"CSTS.RDY = 1 (controller enabled)");
	if (!ret)
		printf("controller: enabled in %.1f ms\n", ms_since(t0));
	return ret;
}

/**
 * bring_up() - from an open device to an enabled controller
 * @n: controller
 *
 * Return: 0 or -errno.
 */
static int bring_up(struct nvme *n)
{
	uint64_t t0;
	int ret = fpgactl_device_set_dma_mask(n->dev, 64);

	if (!ret)
		ret = fpgactl_set_bus_master(n->dev, true);
	if (ret) {
		fprintf(stderr, "nvme_rw: DMA set-up: %s\n", strerror(-ret));
		return ret;
	}
	ret = read_cap(n);
	if (ret)
		return ret;
	t0 = now_ns();
	ret = disable(n);
	if (ret)
		return ret;
	printf("controller: disabled in %.1f ms\n", ms_since(t0));
	ret = create_admin_queue(n);
	return ret ? ret : enable(n);
}

/* ------------------------------------------------------------- commands */

/**
 * status_name() - the meaning of a few NVMe status codes (section 4.6.1)
 * @sct: status code type
 * @sc: status code
 *
 * Return: a description, or "" for a code this example does not know.
 */
static const char *status_name(unsigned int sct, unsigned int sc)
{
	static const struct {
		uint8_t sct, sc;
		const char *name;
	} names[] = {
		{ 0, 0x01, "Invalid Command Opcode" },
		{ 0, 0x02, "Invalid Field in Command" },
		{ 0, 0x03, "Command ID Conflict" },
		{ 0, 0x04, "Data Transfer Error" },
		{ 0, 0x06, "Internal Error" },
		{ 0, 0x07, "Command Abort Requested" },
		{ 0, 0x08, "Command Aborted due to SQ Deletion" },
		{ 0, 0x0b, "Invalid Namespace or Format" },
		{ 0, 0x13, "PRP Offset Invalid" },
		{ 0, 0x80, "LBA Out of Range" },
		{ 0, 0x81, "Capacity Exceeded" },
		{ 0, 0x82, "Namespace Not Ready" },
		{ 1, 0x00, "Completion Queue Invalid" },
		{ 1, 0x01, "Invalid Queue Identifier" },
		{ 1, 0x02, "Invalid Queue Size" },
		{ 1, 0x08, "Invalid Interrupt Vector" },
		{ 1, 0x0c, "Invalid Queue Deletion" },
		{ 2, 0x80, "Write Fault" },
		{ 2, 0x81, "Unrecovered Read Error" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sct == sct && names[i].sc == sc)
			return names[i].name;
	return "";
}

/**
 * cmd_error() - the outcome of a reaped command
 * @cmd: the command
 *
 * Return: 0 on success, -EIO for an NVMe error status, or the queue
 * engine's error (-ETIMEDOUT, -ECANCELED).
 */
static int cmd_error(const struct nvme_cmd *cmd)
{
	return cmd->c.error ? cmd->c.error : cmd->c.status ? -EIO : 0;
}

/**
 * cmd_report() - say why a command failed
 * @cmd: the command
 *
 * The completion's status is the CQE status field without the phase tag:
 * SC in bits 7:0, SCT in 10:8, CRD 12:11, More 13, DNR 14.
 */
static void cmd_report(const struct nvme_cmd *cmd)
{
	const struct fpgactl_completion *c = &cmd->c;
	unsigned int sc = c->status & 0xff, sct = (c->status >> 8) & 7;
	const char *name = status_name(sct, sc);

	if (c->error == -ETIMEDOUT)
		fprintf(stderr, "nvme_rw: %s: no completion within %.3f ms (%s)\n",
			cmd->what, (double)cmd->timeout_us / 1e3, strerror(ETIMEDOUT));
	else if (c->error)
		fprintf(stderr, "nvme_rw: %s: %s\n", cmd->what, strerror(-c->error));
	else
		fprintf(stderr, "nvme_rw: %s failed: NVMe status 0x%04x: SCT %u, SC "
			"0x%02x%s%s%s%s\n", cmd->what, c->status, sct, sc,
			*name ? " (" : "", name, *name ? ")" : "",
			(c->status & (1u << 14)) ? ", Do Not Retry" : "");
	if (cmd->nlb)
		fprintf(stderr, "nvme_rw: (that %s was of LBA %" PRIu64 ", %u "
			"blocks)\n", cmd->what, cmd->slba, cmd->nlb);
}

/**
 * check_cmds() - report the first failed command of a batch
 * @cmds: the commands, all reaped
 * @count: how many
 *
 * Return: 0 when all succeeded, else the first one's error.
 */
static int check_cmds(const struct nvme_cmd *cmds, unsigned int count)
{
	unsigned int bad = 0;
	int ret = 0;

	for (unsigned int i = 0; i < count; i++) {
		int r = cmd_error(&cmds[i]);

		if (r && !bad++) {
			cmd_report(&cmds[i]);
			ret = r;
		}
	}
	if (bad > 1)
		fprintf(stderr, "nvme_rw: %u of the batch's %u commands failed\n",
			bad, count);
	return ret;
}

/**
 * wait_cmds() - reap until every command of a batch has an outcome
 * @q: queue the commands were submitted to
 * @cmds: the commands (each one's address is its queue context)
 * @count: how many
 *
 * The queue engine fails a command whose deadline has passed with
 * -ETIMEDOUT, so every command ends.  As a safety net against an engine
 * that would not, the wait gives up a second after the longest deadline.
 *
 * Return: 0 when all succeeded, otherwise the first failure (reported).
 */
static int wait_cmds(struct fpgactl_queue *q, struct fpgactl_events *ev,
		     struct nvme_cmd *cmds, unsigned int count)
{
	uint64_t limit = 0, t0 = now_ns();
	unsigned int left = count;
	int ret = 0, err;

	for (unsigned int i = 0; i < count; i++)
		if (cmds[i].timeout_us > limit)
			limit = cmds[i].timeout_us;
	limit = t0 + (limit + 1000000) * 1000;
	while (left) {
		struct fpgactl_completion c[16];
		int w = ev ? fpgactl_queue_wait(q, ev, FPGACTL_WAIT_INTERRUPT, 0,
						100000000, c, 16) : 0;
		unsigned int got = w < 0 ? 0 : ev ? (unsigned int)w : fpgactl_queue_reap(q, c, 16);

		if (w < 0) {
			fprintf(stderr, "nvme_rw: interrupt wait: %s\n", strerror(-w));
			return w;
		}
		for (unsigned int i = 0; i < got; i++) {
			struct nvme_cmd *cmd = c[i].ctx;

			if (!cmd) {
				fprintf(stderr, "nvme_rw: the queue engine discarded "
					"a completion that matched no command (%s)\n",
					c[i].error == -ENODEV ? "all ones: the device "
					"may be gone" : strerror(-c[i].error));
				ret = ret ? ret : c[i].error;
				continue;
			}
			cmd->c = c[i];
			left--;
		}
		if (!got && now_ns() > limit) {
			fprintf(stderr, "nvme_rw: %u command(s) neither completed nor "
				"timed out: the queue engine lost them\n", left);
			return -ETIMEDOUT;
		}
		if (!got && !ev)
			sched_yield();
	}
	err = check_cmds(cmds, count);
	return ret ? ret : err;
}

/**
 * admin_sqe() - reserve an admin submission entry for @cmd
 * @n: controller
 * @cmd: the command's tracking structure, filled in here
 * @what: its name for messages
 *
 * Return: the zeroed entry (cid set), or NULL with a message.
 */
static struct fpgactl_sqe *admin_sqe(struct nvme *n, struct nvme_cmd *cmd,
				     const char *what)
{
	struct fpgactl_sqe *sqe;

	*cmd = (struct nvme_cmd){ .what = what,
				  .timeout_us = ADMIN_TIMEOUT_MS * 1000 };
	sqe = fpgactl_queue_get_sqe(n->admin, cmd,
				    (uint64_t)ADMIN_TIMEOUT_MS * 1000000u);
	if (!sqe)
		fprintf(stderr, "nvme_rw: %s: the admin queue is full\n", what);
	return sqe;
}

/**
 * admin_run() - submit the reserved admin command and wait for it
 * @n: controller
 * @cmd: the command, reserved with admin_sqe() and filled in
 *
 * Return: 0, or the failure (reported).
 */
static int admin_run(struct nvme *n, struct nvme_cmd *cmd)
{
	int ret;

	fpgactl_queue_submit(n->admin);
	ret = wait_cmds(n->admin, NULL, cmd, 1);
	n->failed |= ret != 0;
	return ret;
}

/**
 * identify() - run Identify (opcode 0x06) into the Identify buffer
 * @n: controller
 * @cns: what to identify (CDW10 bits 7:0)
 * @nsid: namespace, for CNS 0
 * @what: name for messages
 *
 * The data is one 4 KiB page: PRP1 only.  The buffer is zeroed first, so
 * that data the controller did not write reads as zeros.
 *
 * Return: 0 or -errno.
 */
static int identify(struct nvme *n, uint32_t cns, uint32_t nsid,
		    const char *what)
{
	struct nvme_cmd cmd;
	struct fpgactl_sqe *sqe = admin_sqe(n, &cmd, what);

	if (!sqe)
		return -EBUSY;
	memset(n->ident->vaddr, 0, IDENTIFY_LEN);
	sqe->opc = ADM_IDENTIFY;
	sqe->nsid = nsid;
	sqe->addr0 = n->ident->iova;
	sqe->cdw10 = cns;
	return admin_run(n, &cmd);
}

/* ------------------------------------------------------- Identify data */

/* Little-endian fields of the Identify data, at a byte offset. */
static uint16_t get16(const uint8_t *p, size_t off)
{
	uint16_t v;

	memcpy(&v, p + off, sizeof(v));
	return le16toh(v);
}

static uint32_t get32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return le64toh(v);
}

/**
 * ascii_field() - an Identify string: space padded ASCII, trimmed
 * @src: the field
 * @len: its length in bytes
 * @out: receives the trimmed string; at least @len + 1 bytes
 *
 * Spaces are trimmed at both ends; a byte outside printable ASCII is
 * replaced by '?' and makes the field invalid.
 *
 * Return: true when the field is valid and not empty.
 */
static bool ascii_field(const uint8_t *src, size_t len, char *out)
{
	size_t start = 0, end = len, k = 0;
	bool valid = true;

	while (end > 0 && (src[end - 1] == ' ' || src[end - 1] == 0))
		end--;
	while (start < end && src[start] == ' ')
		start++;
	for (size_t i = start; i < end; i++) {
		valid &= src[i] >= 0x20 && src[i] < 0x7f;
		out[k++] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	}
	out[k] = '\0';
	return valid && k > 0;
}

/**
 * check_entry_sizes() - the controller takes 64-byte SQ and 16-byte CQ
 *	entries (SQES and CQES: required size in bits 3:0, maximum in 7:4)
 * @id: Identify Controller data
 *
 * Return: 0, or -ENOTSUP with a message.
 */
static int check_entry_sizes(const uint8_t *id)
{
	unsigned int sqes = id[IDC_SQES], cqes = id[IDC_CQES];

	if ((sqes & 0xf) <= 6 && 6 <= (sqes >> 4) &&
	    (cqes & 0xf) <= 4 && 4 <= (cqes >> 4))
		return 0;
	fprintf(stderr, "nvme_rw: the controller's queue entry sizes (SQES 0x%02x, "
		"CQES 0x%02x) exclude 64-byte SQ and 16-byte CQ entries\n", sqes, cqes);
	return -ENOTSUP;
}

/**
 * identify_controller() - Identify Controller (CNS 1): print and check it
 * @n: controller
 *
 * Checked: the PCI vendor id in the data equals the one in config space
 * (which also proves the controller wrote the page), the model and serial
 * are printable ASCII, namespace 1 exists, and the queue entry sizes.
 *
 * Return: 0 or -errno.
 */
static int identify_controller(struct nvme *n)
{
	const uint8_t *id = n->ident->vaddr;
	char sn[IDC_SN_LEN + 1], mn[IDC_MN_LEN + 1], fr[IDC_FR_LEN + 1];
	uint16_t pci_vid = 0;
	bool mn_ok, sn_ok;
	uint32_t rtd3e;
	int ret = identify(n, CNS_CONTROLLER, 0, "Identify Controller");

	if (!ret)
		ret = fpgactl_config_read(n->dev, 0, &pci_vid, sizeof(pci_vid));
	if (ret)
		return ret;
	if (get16(id, IDC_VID) != le16toh(pci_vid)) {
		fprintf(stderr, "nvme_rw: Identify Controller: vendor id 0x%04x, but "
			"config space says 0x%04x\n", get16(id, IDC_VID), le16toh(pci_vid));
		return -EPROTO;
	}
	mn_ok = ascii_field(id + IDC_MN, IDC_MN_LEN, mn);
	sn_ok = ascii_field(id + IDC_SN, IDC_SN_LEN, sn);
	if (!mn_ok || !sn_ok) {
		fprintf(stderr, "nvme_rw: Identify Controller: model '%s' or serial "
			"'%s' is empty or not ASCII\n", mn, sn);
		return -EPROTO;
	}
	ascii_field(id + IDC_FR, IDC_FR_LEN, fr);
	printf("model: %s\nserial: %s\nfirmware: %s\n", mn, sn, fr);
	if (get32(id, IDC_NN) < 1) {
		fprintf(stderr, "nvme_rw: the controller has no namespace (NN 0)\n");
		return -ENODEV;
	}
	n->max_xfer = id[IDC_MDTS] ? (uint64_t)PAGE << id[IDC_MDTS] : 0;
	rtd3e = get32(id, IDC_RTD3E);
	n->shutdown_ms = rtd3e ? (rtd3e + 999) / 1000 : SHUTDOWN_TIMEOUT_MS;
	if (n->shutdown_ms > 60000)
		n->shutdown_ms = 60000;
	return check_entry_sizes(id);
}

/**
 * identify_namespace() - Identify Namespace 1 (CNS 0): size and LBA format
 * @n: controller
 *
 * The current format is LBAF[FLBAS bits 3:0] (bits 6:5 extend the index
 * when there are more than 16 formats); its LBADS is log2 of the block
 * size.  Checked: the namespace is active (NSZE not 0, NCAP <= NSZE), the
 * index is within NLBAF, the block size is from 512 bytes to one page,
 * and the format has no metadata (this driver passes no MPTR).
 *
 * Return: 0 or -errno.
 */
static int identify_namespace(struct nvme *n)
{
	const uint8_t *id = n->ident->vaddr;
	unsigned int nlbaf, flbas, idx, lbads, ms;
	uint32_t lbaf;
	int ret = identify(n, CNS_NAMESPACE, 1, "Identify Namespace 1");

	if (ret)
		return ret;
	n->nsze = get64(id, IDN_NSZE);
	nlbaf = id[IDN_NLBAF] + 1u;
	flbas = id[IDN_FLBAS];
	idx = (flbas & 0xf) | (nlbaf > 16 ? ((flbas >> 5) & 3) << 4 : 0);
	if (!n->nsze || get64(id, IDN_NCAP) > n->nsze) {
		fprintf(stderr, "nvme_rw: namespace 1 is not active (NSZE %" PRIu64
			", NCAP %" PRIu64 ")\n", n->nsze, get64(id, IDN_NCAP));
		return -ENODEV;
	}
	if (nlbaf > IDN_LBAF_MAX || idx >= nlbaf) {
		fprintf(stderr, "nvme_rw: namespace 1: LBA format %u of %u (FLBAS 0x%02x) "
			"is out of range\n", idx, nlbaf, flbas);
		return -EPROTO;
	}
	lbaf = get32(id, IDN_LBAF + 4 * idx);
	lbads = (lbaf >> 16) & 0xff;
	ms = lbaf & 0xffff;
	if (lbads < 9 || (1u << lbads) > PAGE || ms) {
		fprintf(stderr, "nvme_rw: namespace 1: LBA format %u (LBADS %u, %u "
			"metadata bytes) is not supported here\n", idx, lbads, ms);
		return -ENOTSUP;
	}
	n->lba_size = 1u << lbads;
	printf("namespace 1: %" PRIu64 " blocks of %u bytes (%" PRIu64 " KiB), "
	       "LBA format %u of %u\n", n->nsze, n->lba_size,
	       n->nsze * n->lba_size >> 10, idx, nlbaf);
	return 0;
}

/* ------------------------------------------------------------ I/O queues */

/**
 * set_num_queues() - Set Features, Number of Queues (FID 0x07): ask for one
 *	I/O SQ and one I/O CQ, as section 7.6.1 has the host do before
 *	creating I/O queues
 * @n: controller
 *
 * CDW11 and the result hold the counts 0-based: NSQR in bits 15:0, NCQR
 * in 31:16.
 *
 * Return: 0 or -errno.
 */
static int set_num_queues(struct nvme *n)
{
	struct nvme_cmd cmd;
	struct fpgactl_sqe *sqe = admin_sqe(n, &cmd, "Set Features (Number of Queues)");
	int ret;

	if (!sqe)
		return -EBUSY;
	sqe->opc = ADM_SET_FEATURES;
	sqe->cdw10 = FEAT_NUM_QUEUES;
	sqe->cdw11 = 0; /* one of each, 0-based */
	ret = admin_run(n, &cmd);
	if (!ret)
		printf("I/O queues: the controller allows %u SQ(s) and %u CQ(s)\n",
		       (cmd.c.result & 0xffff) + 1, (cmd.c.result >> 16) + 1);
	return ret;
}

/**
 * create_io_cq() - Create I/O Completion Queue (0x05)
 * @n: controller
 *
 * CDW10: QSIZE (0-based) in 31:16, QID in 15:0.  CDW11: interrupt vector in
 * 31:16, IEN bit 1 (0: polled), PC bit 0 (physically contiguous; the ring
 * is contiguous in IOVA space, which is what the controller sees).
 *
 * Return: 0 or -errno.
 */
static int create_io_cq(struct nvme *n)
{
	struct nvme_cmd cmd;
	struct fpgactl_sqe *sqe = admin_sqe(n, &cmd, "Create I/O Completion Queue");
	int ret;

	if (!sqe)
		return -EBUSY;
	sqe->opc = ADM_CREATE_CQ;
	sqe->addr0 = fpgactl_queue_cq_iova(n->io);
	sqe->cdw10 = (fpgactl_queue_depth(n->io) - 1) << 16 | IO_QID;
	sqe->cdw11 = n->intx ? 3 : 1; /* PC = 1, IEN (vector 0) with -i */
	ret = admin_run(n, &cmd);
	n->io_cq = !ret;
	return ret;
}

/**
 * create_io_sq() - Create I/O Submission Queue (0x01)
 * @n: controller
 *
 * CDW10 as for the CQ.  CDW11: the CQ's id in 31:16, QPRIO 2:1 (ignored
 * with round-robin arbitration), PC bit 0.
 *
 * Return: 0 or -errno.
 */
static int create_io_sq(struct nvme *n)
{
	struct nvme_cmd cmd;
	struct fpgactl_sqe *sqe = admin_sqe(n, &cmd, "Create I/O Submission Queue");
	int ret;

	if (!sqe)
		return -EBUSY;
	sqe->opc = ADM_CREATE_SQ;
	sqe->addr0 = fpgactl_queue_sq_iova(n->io);
	sqe->cdw10 = (fpgactl_queue_depth(n->io) - 1) << 16 | IO_QID;
	sqe->cdw11 = (uint32_t)IO_QID << 16 | 1; /* CQID, PC = 1 */
	ret = admin_run(n, &cmd);
	n->io_sq = !ret;
	return ret;
}

/**
 * io_depth() - entries per I/O ring: IO_DEPTH, limited by CAP.MQES + 1
 *	and rounded down to a power of two (the queue engine needs one)
 * @n: controller
 *
 * Return: the depth, at least 2 (MQES is at least 1).
 */
static uint32_t io_depth(const struct nvme *n)
{
	uint32_t max = CAP_MQES(n->cap) + 1, d = IO_DEPTH;

	while (d > max && d > 2)
		d >>= 1;
	return d;
}

/**
 * intx_count() - INTx interrupts the kernel counted for the device
 * @n: controller
 *
 * The vfio-intx line of /proc/interrupts ("vfio-intx(BDF)"), summed over
 * the CPUs; -1 when there is none (INTx not enabled).
 */
static long long intx_count(struct nvme *n)
{
	char line[4096], name[64];
	long long total = -1;
	FILE *f = fopen("/proc/interrupts", "re");

	snprintf(name, sizeof(name), "vfio-intx(%s)", fpgactl_device_bdf(n->dev));
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		if (!p || !strstr(line, name))
			continue;
		total = 0;
		for (char *end; ; p = end) {
			long long v = strtoll(p + 1, &end, 10);

			if (end == p + 1)
				break;
			total += v;
		}
	}
	if (f)
		fclose(f);
	return total;
}

/**
 * setup_intx() - the I/O CQ's interrupt on INTx, waited for with an engine
 * @n: controller
 *
 * Return: 0 or -errno.
 */
static int setup_intx(struct nvme *n)
{
	int ret = fpgactl_irq_enable(n->dev, FPGACTL_IRQ_INTX, 1);

	if (!ret)
		ret = fpgactl_queue_set_eventfd(n->io, fpgactl_irq_fd(n->dev,
							FPGACTL_IRQ_INTX, 0));
	if (!ret && !(n->ev = fpgactl_events_create(2, &ret)) && !ret)
		ret = -ENOMEM;
	if (ret)
		fprintf(stderr, "nvme_rw: INTx set-up: %s\n", strerror(-ret));
	return ret;
}

/**
 * create_io_queues() - one polled I/O queue pair, qid 1
 * @n: controller
 *
 * The CQ is created before the SQ that posts to it.
 *
 * Return: 0 or -errno.
 */
static int create_io_queues(struct nvme *n)
{
	const struct fpgactl_queue_cfg cfg = {
		.qid = IO_QID,
		.depth = io_depth(n),
		.bar = NVME_BAR,
		.db_offset = REG_DOORBELLS,
		.db_stride = 4u << CAP_DSTRD(n->cap),
	};
	int ret = set_num_queues(n);

	if (ret)
		return ret;
	n->io = fpgactl_queue_create(n->dev, &cfg, &ret);
	if (!n->io) {
		fprintf(stderr, "nvme_rw: I/O queue: %s\n", strerror(-ret));
		return ret;
	}
	if ((fpgactl_queue_sq_iova(n->io) | fpgactl_queue_cq_iova(n->io)) & (PAGE - 1)) {
		fprintf(stderr, "nvme_rw: I/O rings are not 4 KiB aligned\n");
		return -EINVAL;
	}
	ret = create_io_cq(n);
	if (!ret)
		ret = create_io_sq(n);
	if (!ret && n->intx)
		ret = setup_intx(n);
	if (!ret)
		printf("I/O queue %u: %u entries, %s, SQ at IOVA 0x%"
		       PRIx64 ", CQ at IOVA 0x%" PRIx64 "\n", IO_QID, cfg.depth,
		       n->intx ? "INTx interrupts" : "polled (no interrupts)",
		       fpgactl_queue_sq_iova(n->io), fpgactl_queue_cq_iova(n->io));
	return ret;
}

/**
 * delete_io_queues() - Delete I/O SQ (0x00), then its CQ (0x04)
 * @n: controller
 *
 * A CQ can be deleted only once no SQ posts to it (else status Invalid
 * Queue Deletion).  CDW10 holds the QID.
 *
 * Return: 0 or the first failure.
 */
static int delete_io_queues(struct nvme *n)
{
	struct nvme_cmd cmd;
	struct fpgactl_sqe *sqe;
	int ret = 0;

	if (n->io_sq && (sqe = admin_sqe(n, &cmd, "Delete I/O Submission Queue"))) {
		sqe->opc = ADM_DELETE_SQ;
		sqe->cdw10 = IO_QID;
		ret = admin_run(n, &cmd);
		n->io_sq = ret != 0;
	}
	if (!ret && n->io_cq && (sqe = admin_sqe(n, &cmd, "Delete I/O Completion Queue"))) {
		sqe->opc = ADM_DELETE_CQ;
		sqe->cdw10 = IO_QID;
		ret = admin_run(n, &cmd);
		n->io_cq = ret != 0;
	}
	return ret ? ret : (n->io_sq || n->io_cq) ? -EBUSY : 0;
}

/* ------------------------------------------------------------ data path */

/**
 * set_prps() - point a command at its data: PRP1, and PRP2 for a second page
 * @sqe: the entry
 * @iova: IOVA of the data
 * @len: its length; at most two pages counting PRP1's offset in its page
 *
 * PRP1 may start anywhere in a page (dword aligned); PRP2, when the data
 * crosses into a second page, is that page's address (section 4.3).  Longer
 * transfers would need a PRP list, which this example does not build.
 */
static void set_prps(struct fpgactl_sqe *sqe, uint64_t iova, size_t len)
{
	uint64_t next = (iova | (PAGE - 1)) + 1;

	sqe->addr0 = iova;
	sqe->addr1 = iova + len > next ? next : 0;
}

/**
 * io_prep() - fill a Read or Write of namespace 1
 * @sqe: the entry
 * @opc: NVM_READ or NVM_WRITE
 * @slba: first block (CDW10 low, CDW11 high 32 bits)
 * @nlb: block count (CDW12 bits 15:0, 0-based)
 * @iova: IOVA of the data
 * @len: bytes, @nlb blocks
 */
static void io_prep(struct fpgactl_sqe *sqe, uint8_t opc, uint64_t slba,
		    uint32_t nlb, uint64_t iova, size_t len)
{
	sqe->opc = opc;
	sqe->nsid = 1;
	set_prps(sqe, iova, len);
	sqe->cdw10 = (uint32_t)slba;
	sqe->cdw11 = (uint32_t)(slba >> 32);
	sqe->cdw12 = nlb - 1;
}

/**
 * io_batch() - reserve, fill and submit up to a ring's worth of commands
 * @n: controller
 * @opc: NVM_READ or NVM_WRITE
 * @buf: data buffer for the whole pass
 * @slba: first block of the pass
 * @first: block index (in the pass) this batch starts at
 * @nblocks: blocks in the pass
 * @cmds: tracking structures, IO_DEPTH of them
 * @count: receives the commands in the batch
 *
 * fpgactl_queue_get_sqe() returns NULL once the ring holds depth - 1
 * commands; the batch then goes to the controller with one tail doorbell.
 *
 * Return: the number of blocks the batch covers.
 */
static uint64_t io_batch(struct nvme *n, uint8_t opc, struct fpgactl_dma_buf *buf,
			 uint64_t slba, uint64_t first, uint64_t nblocks,
			 struct nvme_cmd *cmds, unsigned int *count)
{
	uint32_t per_cmd = CMD_BYTES / n->lba_size;
	uint64_t b = first;
	unsigned int k = 0;

	while (b < nblocks && k < IO_DEPTH) {
		uint32_t nlb = nblocks - b < per_cmd ? (uint32_t)(nblocks - b) : per_cmd;
		struct fpgactl_sqe *sqe;

		cmds[k] = (struct nvme_cmd){ .what = opc == NVM_WRITE ? "Write" : "Read",
					     .slba = slba + b, .nlb = nlb,
					     .timeout_us = n->io_timeout_us };
		sqe = fpgactl_queue_get_sqe(n->io, &cmds[k], n->io_timeout_us * 1000);
		if (!sqe)
			break;
		io_prep(sqe, opc, slba + b, nlb, buf->iova + b * n->lba_size,
			(size_t)nlb * n->lba_size);
		b += nlb;
		k++;
	}
	fpgactl_queue_submit(n->io);
	*count = k;
	return b - first;
}

/**
 * io_pass() - transfer @nblocks blocks from @slba in batches
 * @n: controller
 * @opc: NVM_READ or NVM_WRITE
 * @buf: data buffer (@nblocks blocks)
 * @slba: first block
 * @nblocks: block count
 * @res: receives the counts and the time
 *
 * Return: 0 or the first failure (reported with the command's blocks).
 */
static int io_pass(struct nvme *n, uint8_t opc, struct fpgactl_dma_buf *buf,
		   uint64_t slba, uint64_t nblocks, struct pass_result *res)
{
	static struct nvme_cmd cmds[IO_DEPTH];
	uint64_t t0 = now_ns();

	*res = (struct pass_result){ 0 };
	for (uint64_t b = 0; b < nblocks;) {
		unsigned int count;
		int ret;

		b += io_batch(n, opc, buf, slba, b, nblocks, cmds, &count);
		if (!count) {
			fprintf(stderr, "nvme_rw: the I/O queue has no free entry\n");
			return -EBUSY;
		}
		ret = wait_cmds(n->io, n->ev, cmds, count);
		n->failed |= ret != 0;
		if (ret)
			return ret;
		res->cmds += count;
		res->batches++;
	}
	res->ns = now_ns() - t0;
	return 0;
}

/**
 * pattern() - the 64-bit word expected at byte @off of the device
 * @seed: per-run seed, so that data left by an earlier run cannot pass
 * @off: byte offset on the namespace (a multiple of 8)
 */
static uint64_t pattern(uint64_t seed, uint64_t off)
{
	return (off / 8 + 1) * 0x9e3779b97f4a7c15ull ^ seed;
}

/**
 * fill() - write the pattern for @len bytes from device offset @dev_off
 * @buf: destination
 * @len: bytes, a multiple of 8
 * @seed: per-run seed
 * @dev_off: where on the namespace @buf will land
 */
static void fill(uint8_t *buf, size_t len, uint64_t seed, uint64_t dev_off)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = pattern(seed, dev_off + i);

		memcpy(buf + i, &v, 8);
	}
}

/**
 * verify() - compare what was read with what was written, byte for byte
 * @n: controller
 * @wbuf: written data
 * @rbuf: data read back
 * @len: bytes
 * @slba: first block, for the message
 *
 * Return: 0, or -EIO with the first differing byte and the count printed.
 */
static int verify(const struct nvme *n, const uint8_t *wbuf, const uint8_t *rbuf,
		  size_t len, uint64_t slba)
{
	size_t first = len, bad = 0;

	if (!memcmp(wbuf, rbuf, len))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (wbuf[i] != rbuf[i]) {
			first = first < len ? first : i;
			bad++;
		}
	}
	fprintf(stderr, "nvme_rw: %zu of %zu bytes differ; the first at byte %zu "
		"(LBA %" PRIu64 " + %zu): wrote 0x%02x, read 0x%02x\n", bad, len,
		first, slba + first / n->lba_size, first % n->lba_size, wbuf[first],
		rbuf[first]);
	return -EIO;
}

/**
 * dma_alloc() - a DMA buffer: hugepages, or 4 KiB pages when none are free
 * @n: controller
 * @size: bytes
 * @what: name for messages
 *
 * Return: the buffer, or NULL (reported).
 */
static struct fpgactl_dma_buf *dma_alloc(struct nvme *n, size_t size,
					 const char *what)
{
	const struct fpgactl_dma_opts small = {
		.page_size = FPGACTL_PAGE_4K,
		.flags = FPGACTL_DMA_ALLOW_SMALL_PAGES,
	};
	struct fpgactl_dma_buf *buf;
	int err = 0;

	buf = fpgactl_dma_alloc(n->dev, size, NULL, &err);
	if (!buf && err == -ENOMEM) {
		fprintf(stderr, "nvme_rw: no hugepage for the %s buffer: using 4 KiB "
			"pages\n", what);
		buf = fpgactl_dma_alloc(n->dev, size, &small, &err);
	}
	if (!buf)
		fprintf(stderr, "nvme_rw: %s buffer of %zu bytes: %s\n", what, size,
			strerror(-err));
	return buf;
}

/**
 * print_pass() - one summary line for a pass
 * @name: "write" or "read"
 * @res: its result
 * @bytes: bytes moved
 * @slba: first block
 * @nblocks: block count
 */
static void print_pass(const char *name, const struct pass_result *res,
		       uint64_t bytes, uint64_t slba, uint64_t nblocks)
{
	printf("%s: %" PRIu64 " bytes, LBA %" PRIu64 "-%" PRIu64 ", %u commands in "
	       "%u batch(es), %.1f ms, %.1f MB/s\n", name, bytes, slba,
	       slba + nblocks - 1, res->cmds, res->batches, (double)res->ns / 1e6,
	       res->ns ? (double)bytes * 1e3 / (double)res->ns : 0.0);
}

/**
 * print_stats() - the queue engine's counters of the I/O queue
 * @q: queue
 */
static void print_stats(const struct fpgactl_queue *q)
{
	struct fpgactl_queue_stats st;

	fpgactl_queue_get_stats(q, &st);
	printf("I/O queue %u: %" PRIu64 " commands completed, %" PRIu64 " SQ tail "
	       "doorbells, %" PRIu64 " CQ head doorbells, %" PRIu64 " bad "
	       "completions, %" PRIu64 " timeouts\n", IO_QID, st.completed,
	       st.sq_doorbells, st.cq_doorbells, st.bad_completions, st.timeouts);
}

/**
 * exercise() - write a pattern, read it back into another buffer, compare
 * @n: controller
 * @bytes: transfer size, a multiple of the block size
 * @slba: first block
 *
 * Return: 0 when verified, otherwise -errno (reported).
 */
static int exercise(struct nvme *n, uint64_t bytes, uint64_t slba)
{
	uint64_t nblocks = bytes / n->lba_size, seed = now_ns();
	struct pass_result wres, rres;
	int ret = -ENOMEM;

	if (bytes % n->lba_size) {
		fprintf(stderr, "nvme_rw: %" PRIu64 " bytes are not a whole number of "
			"%u-byte blocks\n", bytes, n->lba_size);
		return -EINVAL;
	}
	if (!n->unchecked && (slba >= n->nsze || nblocks > n->nsze - slba)) {
		fprintf(stderr, "nvme_rw: %" PRIu64 " bytes from LBA %" PRIu64 " do not "
			"fit namespace 1 (%" PRIu64 " blocks of %u bytes)\n", bytes,
			slba, n->nsze, n->lba_size);
		return -EINVAL;
	}
	if (n->max_xfer && n->max_xfer < CMD_BYTES) {
		fprintf(stderr, "nvme_rw: MDTS allows %" PRIu64 " bytes per command; "
			"this example sends %u\n", n->max_xfer, CMD_BYTES);
		return -ENOTSUP;
	}
	/* Freed by teardown(), after the controller is disabled: a command
	 * that timed out may still move data. */
	n->wbuf = dma_alloc(n, bytes, "write");
	n->rbuf = n->wbuf ? dma_alloc(n, bytes, "read") : NULL;
	if (n->rbuf) {
		fill(n->wbuf->vaddr, bytes, seed, slba * n->lba_size);
		memset(n->rbuf->vaddr, 0x5a, bytes);
		ret = io_pass(n, NVM_WRITE, n->wbuf, slba, nblocks, &wres);
	}
	if (!ret) {
		print_pass("write", &wres, bytes, slba, nblocks);
		ret = io_pass(n, NVM_READ, n->rbuf, slba, nblocks, &rres);
	}
	if (!ret) {
		print_pass("read", &rres, bytes, slba, nblocks);
		ret = verify(n, n->wbuf->vaddr, n->rbuf->vaddr, bytes, slba);
	}
	if (!ret)
		printf("verified: %" PRIu64 " bytes read back equal to those written\n",
		       bytes);
	if (!ret)
		print_stats(n->io);
	return ret;
}

/* ------------------------------------------------------------ benchmark */

/** xorshift64() - a fast pseudo-random sequence for the read offsets. */
static uint64_t xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

/**
 * bench_prep() - reserve and fill one random 4 KiB read into slot @slot
 * @n: controller
 * @cmds: the slots' tracking structures
 * @start: the slots' submission times
 * @slot: slot index: also the 4 KiB page of @buf the data goes to
 * @buf: data buffer, one page per slot
 * @rnd: random state
 *
 * Return: 0, or -EBUSY when the ring has no free entry.
 */
static int bench_prep(struct nvme *n, struct nvme_cmd *cmds, uint64_t *start,
		      unsigned int slot, struct fpgactl_dma_buf *buf, uint64_t *rnd)
{
	uint32_t nlb = BENCH_IO / n->lba_size;
	uint64_t slba = xorshift64(rnd) % (n->nsze / nlb) * nlb;
	struct fpgactl_sqe *sqe;

	cmds[slot] = (struct nvme_cmd){ .what = "Read", .slba = slba, .nlb = nlb,
					.timeout_us = n->io_timeout_us };
	sqe = fpgactl_queue_get_sqe(n->io, &cmds[slot], n->io_timeout_us * 1000);
	if (!sqe) {
		fprintf(stderr, "nvme_rw: the I/O queue has no free entry\n");
		return -EBUSY;
	}
	io_prep(sqe, NVM_READ, slba, nlb, buf->iova + (uint64_t)slot * BENCH_IO,
		BENCH_IO);
	start[slot] = now_ns();
	return 0;
}

/**
 * bench_depth() - random 4 KiB reads at queue depth @qd for n->bench_ms
 * @n: controller
 * @qd: reads kept in flight (below the queue's depth)
 * @buf: data buffer, @qd pages at least
 *
 * Return: 0, or the first failure (reported).
 */
static int bench_depth(struct nvme *n, unsigned int qd, struct fpgactl_dma_buf *buf)
{
	static struct nvme_cmd cmds[IO_DEPTH];
	static uint64_t start[IO_DEPTH];
	struct fpgactl_queue_stats st0, st1;
	uint64_t rnd = now_ns() | 1, t0 = now_ns(), stop, done = 0, lat = 0, ns;
	unsigned int inflight = 0;
	int ret = 0;

	fpgactl_queue_get_stats(n->io, &st0);
	stop = t0 + n->bench_ms * 1000000u;
	for (unsigned int i = 0; i < qd && !ret; i++, inflight++)
		ret = bench_prep(n, cmds, start, i, buf, &rnd);
	fpgactl_queue_submit(n->io);
	while (inflight && !ret) {
		struct fpgactl_completion c[IO_DEPTH];
		int got = fpgactl_queue_wait(n->io, NULL, FPGACTL_WAIT_POLL, 0,
					     (int64_t)(n->io_timeout_us + 1000000) * 1000,
					     c, IO_DEPTH);
		uint64_t now = now_ns();

		if (got <= 0) {
			fprintf(stderr, "nvme_rw: benchmark: %s\n", got ? strerror(-got) :
				"no completion and no timeout: the queue engine lost "
				"commands");
			ret = got ? got : -ETIMEDOUT;
			break;
		}
		for (int i = 0; i < got && !ret; i++) {
			struct nvme_cmd *cmd = c[i].ctx;
			unsigned int slot;

			if (!cmd) {
				fprintf(stderr, "nvme_rw: the queue engine discarded a "
					"completion that matched no command (%s)\n",
					strerror(-c[i].error));
				ret = c[i].error;
				break;
			}
			cmd->c = c[i];
			ret = check_cmds(cmd, 1);
			slot = (unsigned int)(cmd - cmds);
			lat += now - start[slot];
			done++;
			if (!ret && now < stop)
				ret = bench_prep(n, cmds, start, slot, buf, &rnd);
			else
				inflight--;
		}
		fpgactl_queue_submit(n->io);
	}
	n->failed |= ret != 0;
	if (ret)
		return ret;
	ns = now_ns() - t0;
	fpgactl_queue_get_stats(n->io, &st1);
	printf("bench: QD %u: %" PRIu64 " random 4 KiB reads in %.1f ms: %.0f IOPS, "
	       "%.1f MB/s, mean latency %.1f us (polled; %" PRIu64 " SQ tail "
	       "doorbells)\n", qd, done, (double)ns / 1e6, (double)done * 1e9 / (double)ns,
	       (double)done * BENCH_IO * 1e3 / (double)ns,
	       done ? (double)lat / 1e3 / (double)done : 0.0,
	       st1.sq_doorbells - st0.sq_doorbells);
	return 0;
}

/**
 * bench() - the read benchmark (-b): each queue depth in turn
 * @n: controller, I/O queue created
 *
 * Return: 0 or the first failure.
 */
static int bench(struct nvme *n)
{
	uint32_t depth = fpgactl_queue_depth(n->io), max = 0;
	int ret = 0;

	for (unsigned int i = 0; i < n->bench_depths; i++)
		max = n->bench_qd[i] > max ? n->bench_qd[i] : max;
	if (max >= depth) {
		fprintf(stderr, "nvme_rw: queue depth %u asked for; the I/O queue holds "
			"%u commands at most\n", max, depth - 1);
		return -EINVAL;
	}
	if (BENCH_IO % n->lba_size || n->nsze < BENCH_IO / n->lba_size) {
		fprintf(stderr, "nvme_rw: namespace 1 (%" PRIu64 " blocks of %u bytes) "
			"cannot take 4 KiB reads\n", n->nsze, n->lba_size);
		return -ENOTSUP;
	}
	n->rbuf = dma_alloc(n, (size_t)max * BENCH_IO, "benchmark");
	if (!n->rbuf)
		return -ENOMEM;
	printf("bench: random 4 KiB reads from namespace 1 (%" PRIu64 " KiB), %" PRIu64
	       " ms per queue depth\n", n->nsze * n->lba_size >> 10, n->bench_ms);
	for (unsigned int i = 0; i < n->bench_depths && !ret; i++)
		ret = bench_depth(n, n->bench_qd[i], n->rbuf);
	if (!ret)
		print_stats(n->io);
	return ret;
}

/* ------------------------------------------------------------- teardown */

/**
 * shutdown_ctrl() - normal shutdown (CC.SHN = 01b, wait CSTS.SHST = 10b),
 *	so the controller flushes what it caches (section 7.6.2)
 * @n: controller
 *
 * Return: 0 or -errno.
 */
static int shutdown_ctrl(struct nvme *n)
{
	uint32_t cc;
	int ret = reg_read32(n, REG_CC, &cc);

	if (!ret)
		ret = reg_write32(n, REG_CC, (cc & ~CC_SHN_MASK) | CC_SHN_NORMAL);
	if (!ret)
		ret = wait_csts(n, CSTS_SHST_MASK, CSTS_SHST_DONE,
				(uint64_t)n->shutdown_ms * 1000, "shutdown complete");
	return ret;
}

/**
 * teardown() - undo bring-up
 * @n: controller
 * @orderly: the controller works: delete the I/O queues and shut down
 *	before disabling; otherwise disable at once (a controller reset)
 *
 * Disabling stops the controller's DMA, and bus mastering is turned off,
 * before any ring or buffer is freed.
 *
 * Return: 0 or the first failure.
 */
static int teardown(struct nvme *n, bool orderly)
{
	uint64_t t0 = now_ns();
	int ret = 0;

	if (orderly && n->enabled) {
		ret = delete_io_queues(n);
		if (!ret)
			ret = shutdown_ctrl(n);
	}
	if (n->enabled) {
		int r = disable(n);

		ret = ret ? ret : r;
		if (!r && orderly && !ret)
			printf("controller: I/O queues deleted, shut down and disabled "
			       "in %.1f ms\n", ms_since(t0));
		else if (!r)
			fprintf(stderr, "nvme_rw: controller disabled (reset)\n");
	}
	if (n->ev)
		printf("INTx: /proc/interrupts counts %lld\n", intx_count(n));
	fpgactl_events_destroy(n->ev);
	if (n->dev) {
		fpgactl_irq_disable(n->dev, FPGACTL_IRQ_INTX);
		fpgactl_set_bus_master(n->dev, false);
	}
	fpgactl_queue_destroy(n->io);
	fpgactl_queue_destroy(n->admin);
	fpgactl_dma_free(n->rbuf);
	fpgactl_dma_free(n->wbuf);
	fpgactl_dma_free(n->ident);
	fpgactl_device_close(n->dev);
	return ret;
}

/**
 * parse_u64() - a decimal or 0x-prefixed number
 * @s: text
 * @val: receives the value
 *
 * Return: true when @s is a whole number.
 */
static bool parse_u64(const char *s, uint64_t *val)
{
	char *end;

	errno = 0;
	*val = strtoull(s, &end, 0);
	return *s && *s != '-' && !*end && !errno;
}

/**
 * parse_depths() - the queue depths of -b: QD[,QD...]
 * @s: text
 * @n: receives them
 *
 * Return: true when @s is a list of 1 to MAX_DEPTHS depths, each from 1 to
 * IO_DEPTH - 1.
 */
static bool parse_depths(const char *s, struct nvme *n)
{
	n->bench_depths = 0;
	while (*s) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(s, &end, 10);
		if (n->bench_depths == MAX_DEPTHS || errno || end == s || !v ||
		    v >= IO_DEPTH || (*end && *end != ','))
			return false;
		n->bench_qd[n->bench_depths++] = (uint32_t)v;
		s = *end ? end + 1 : end;
	}
	return n->bench_depths > 0;
}

/**
 * parse_args() - options and arguments
 * @argc: as main's
 * @argv: as main's
 * @n: receives -u, -t, -b and -T
 * @kib: receives KIB
 * @slba: receives LBA
 *
 * Return: the BDF, or NULL after printing the usage.
 */
static const char *parse_args(int argc, char **argv, struct nvme *n,
			      uint64_t *kib, uint64_t *slba)
{
	int opt;
	bool ok = true;

	n->io_timeout_us = IO_TIMEOUT_US;
	n->bench_ms = BENCH_MS;
	while ((opt = getopt(argc, argv, "uit:b:T:")) != -1) {
		if (opt == 'u')
			n->unchecked = true;
		else if (opt == 'i')
			n->intx = true;
		else if (opt == 'b')
			ok &= parse_depths(optarg, n);
		else if (opt == 'T')
			ok &= parse_u64(optarg, &n->bench_ms) && n->bench_ms &&
			      n->bench_ms <= 3600000;
		else if (opt != 't' || !parse_u64(optarg, &n->io_timeout_us) ||
			 !n->io_timeout_us || n->io_timeout_us > 600000000)
			ok = false;
	}
	argc -= optind;
	argv += optind;
	*kib = 1024;
	*slba = 0;
	/* The benchmark takes the BDF alone, and no -u. */
	if (n->bench_depths && (argc != 1 || n->unchecked))
		ok = false;
	if (ok && argc >= 1 && argc <= 3 && (argc < 2 || parse_u64(argv[1], kib)) &&
	    (argc < 3 || parse_u64(argv[2], slba)) && *kib && *kib <= MAX_KIB)
		return argv[0];
	fprintf(stderr, "usage: nvme_rw [-u] [-t US] BDF [KIB [LBA]]\n"
		"       nvme_rw -i [-u] [-t US] BDF [KIB [LBA]]\n"
		"       nvme_rw -b QD[,QD...] [-T MS] [-t US] BDF\n"
		"  writes KIB KiB (1 to %u, default 1024) from LBA (default 0)\n"
		"  of namespace 1, reads them back and compares: DESTROYS DATA\n"
		"  -u     send the I/O even past the end of the namespace\n"
		"  -i     wait for the I/O on INTx instead of polling\n"
		"  -t US  deadline of each I/O command in microseconds (default %u)\n"
		"  -b QD  instead: random 4 KiB reads at each queue depth QD\n"
		"         (1 to %u), nothing written\n"
		"  -T MS  benchmark time per queue depth (default %u ms)\n",
		MAX_KIB, IO_TIMEOUT_US, IO_DEPTH - 1, BENCH_MS);
	return NULL;
}

int main(int argc, char **argv)
{
	struct nvme n = { 0 };
	uint64_t kib, slba, t0 = now_ns();
	const char *bdf = parse_args(argc, argv, &n, &kib, &slba);
	int err = 0, ret;

	if (!bdf)
		return 2;
	fpgactl_set_log(log_stderr, NULL, FPGACTL_LOG_WARNING);
	n.dev = fpgactl_device_open(bdf, NULL, &err);
	if (!n.dev) {
		fprintf(stderr, "nvme_rw: cannot open %s: %s\n", bdf, strerror(-err));
		return 1;
	}
	printf("device: %s opened in %.1f ms\n", fpgactl_device_bdf(n.dev), ms_since(t0));
	ret = bring_up(&n);
	if (!ret)
		ret = (n.ident = dma_alloc(&n, IDENTIFY_LEN, "Identify")) ? 0 : -ENOMEM;
	if (!ret)
		ret = identify_controller(&n);
	if (!ret)
		ret = identify_namespace(&n);
	if (!ret)
		ret = create_io_queues(&n);
	if (!ret)
		ret = n.bench_depths ? bench(&n) : exercise(&n, kib * 1024, slba);
	err = teardown(&n, !n.failed);
	ret = ret ? ret : err;
	if (ret) {
		fprintf(stderr, "nvme_rw: failed (%s)\n", strerror(-ret));
		return 1;
	}
	printf("nvme_rw: done in %.1f ms\n", ms_since(t0));
	return 0;
}
