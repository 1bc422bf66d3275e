/* SPDX-License-Identifier: MIT */
/*
 * QEMU's edu device (QEMU docs/specs/edu.rst), for the programs of the VM
 * suite: its registers in BAR0, and the clocks the programs time with.
 */
#ifndef VM_PROGS_EDU_H
#define VM_PROGS_EDU_H

#include <stdint.h>
#include <time.h>

#define EDU_VENDOR_DEVICE "1234:11e8"
#define EDU_BAR 0
#define EDU_REG_ID 0x00		/* reads 0x010000ed (version 1.0) */
#define EDU_IDENT 0x010000edu
#define EDU_REG_LIVENESS 0x04	/* reads back the inverse of what was written */
#define EDU_REG_IRQ_STATUS 0x24	/* the bits raised and not yet acknowledged */
#define EDU_REG_IRQ_RAISE 0x60	/* ORs the value into IRQ_STATUS, interrupts */
#define EDU_REG_IRQ_ACK 0x64	/* clears those bits; INTx drops once all are */
#define EDU_REG_DMA_SRC 0x80	/* 64-bit */
#define EDU_REG_DMA_DST 0x88
#define EDU_REG_DMA_COUNT 0x90
#define EDU_REG_DMA_CMD 0x98
#define EDU_DMA_START 0x1	/* cleared by edu when the transfer is done */
#define EDU_DMA_TO_RAM 0x2	/* direction edu -> RAM; clear: RAM -> edu */
#define EDU_DMA_IRQ 0x4		/* raise EDU_DMA_IRQ_BIT when done */
#define EDU_DMA_IRQ_BIT 0x100	/* the IRQ_STATUS bit a finished DMA raises */
#define EDU_BUFFER 0x40000	/* edu's 4 KiB buffer, in its address space */
#define EDU_MAX_TRANSFER 4095	/* QEMU 7.2 aborts on a transfer of 4096 */
#define EDU_DMA_BITS 28

/** now_ns() - CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/** uptime_s() - CLOCK_BOOTTIME in seconds: the clock of /proc/uptime. */
static inline double uptime_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
