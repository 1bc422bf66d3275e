/* SPDX-License-Identifier: MIT */
/*
 * One DMA transfer of QEMU's edu device through the library, for the
 * programs of the VM suite that link it.  edu.h stays free of <fpgactl.h>
 * for the programs that do not.
 */
#ifndef VM_PROGS_EDU_DMA_H
#define VM_PROGS_EDU_DMA_H

#include <stdint.h>

#include <fpgactl.h>

#include "edu.h"

/* How long edu_dma() waits for START to clear, in microseconds. */
#define EDU_DMA_WAIT_US 2000000u

/**
 * edu_dma_wait() - program one edu DMA transfer and poll until it is done
 * @dev: the open edu device, bus master, DMA mask set
 * @src: source address: an IOVA, or EDU_BUFFER + offset for edu -> RAM
 * @dst: destination address, likewise
 * @count: bytes, at most EDU_MAX_TRANSFER
 * @dir: 0 for RAM -> edu, EDU_DMA_TO_RAM for edu -> RAM
 * @wait_us: how long to poll for EDU_DMA_START to clear
 *
 * Return: 0 when edu cleared START, or the -errno of the register access
 * or of fpgactl_reg_poll() (-ETIMEDOUT when it did not).
 */
static inline int edu_dma_wait(struct fpgactl_device *dev, uint64_t src, uint64_t dst,
			       uint64_t count, uint64_t dir, uint64_t wait_us)
{
	int err = fpgactl_reg_write(dev, EDU_BAR, EDU_REG_DMA_SRC, 8, src);

	if (!err)
		err = fpgactl_reg_write(dev, EDU_BAR, EDU_REG_DMA_DST, 8, dst);
	if (!err)
		err = fpgactl_reg_write(dev, EDU_BAR, EDU_REG_DMA_COUNT, 8, count);
	if (!err)
		err = fpgactl_reg_write(dev, EDU_BAR, EDU_REG_DMA_CMD, 8,
					dir | EDU_DMA_START);
	if (!err)
		err = fpgactl_reg_poll(dev, EDU_BAR, EDU_REG_DMA_CMD, 8, EDU_DMA_START, 0,
				       wait_us, NULL);
	return err;
}

/**
 * edu_dma() - edu_dma_wait() with the usual wait, EDU_DMA_WAIT_US
 * @dev: the open edu device
 * @src: source address
 * @dst: destination address
 * @count: bytes
 * @dir: 0 or EDU_DMA_TO_RAM
 *
 * Return: as edu_dma_wait().
 */
static inline int edu_dma(struct fpgactl_device *dev, uint64_t src, uint64_t dst,
			  uint64_t count, uint64_t dir)
{
	return edu_dma_wait(dev, src, dst, count, dir, EDU_DMA_WAIT_US);
}

#endif
