/* SPDX-License-Identifier: MIT */
/*
 * The NVMe controller registers (NVMe 1.4, 3.1) that the VM suite's NVMe
 * programs (nvme_share, nvme_msix_resize) program by hand on QEMU's nvme
 * device: BAR0 offsets and the bits they use.
 */
#ifndef VM_PROGS_NVME_H
#define VM_PROGS_NVME_H

#define NVME_BAR 0
#define NVME_REG_CAP 0x00	/* 64-bit */
#define NVME_REG_CC 0x14
#define NVME_REG_CSTS 0x1c
#define NVME_REG_AQA 0x24
#define NVME_REG_ASQ 0x28	/* 64-bit */
#define NVME_REG_ACQ 0x30	/* 64-bit */
#define NVME_DOORBELLS 0x1000	/* SQ 0's tail doorbell; the rest CAP.DSTRD apart */
#define NVME_CAP_DSTRD(cap) (((cap) >> 32) & 0xf)	/* stride 4 << DSTRD bytes */
#define NVME_CAP_TO_MS(cap) ((((cap) >> 24) & 0xff) * 500u)	/* CAP.TO, in ms */
#define NVME_CC_EN 1u
#define NVME_CC_IOSQES (6u << 16)	/* 64-byte SQ entries */
#define NVME_CC_IOCQES (4u << 20)	/* 16-byte CQ entries */
#define NVME_CSTS_RDY 1u
#define NVME_CSTS_CFS 2u

#endif
