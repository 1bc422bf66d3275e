/* SPDX-License-Identifier: MIT */
#ifndef FPGACTL_MMIO_H
#define FPGACTL_MMIO_H

/*
 * Register access.  Two layers:
 *
 * - Checked calls (fpgactl_reg_read() and friends): offset, width and
 *   alignment are checked against the region; they work on mapped and
 *   unmapped BARs alike.  For bring-up, tools and slow paths.
 *
 * - Inline accessors on a &struct fpgactl_bar (fpgactl_mmio_read32() and
 *   friends): one load or store, no check.  For the data path, with offsets
 *   validated once at set-up.
 *
 * Ordering: MMIO accessors are volatile and are not reordered by the
 * compiler against each other.  Before a doorbell write that tells the
 * device to read memory the CPU has just written, issue fpgactl_io_wmb()
 * (what the queue engine does; enough for the library's uncached BAR
 * mappings and ordinary stores) or fpgactl_wmb() (also non-temporal and
 * write-combining stores); after reading a device-written value that
 * guards further DMA memory reads, issue fpgactl_rmb().
 */

#include <stdbool.h>
#include <stdint.h>

#include <fpgactl/device.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * fpgactl_wmb/rmb/mb order memory against MMIO (a doorbell after ring
 * writes).  fpgactl_dma_rmb/mb order accesses to coherent DMA memory among
 * themselves (a completion's fields after its phase tag; loads of consumed
 * entries before the head doorbell releases them): free on x86, whose loads
 * are not reordered with other loads nor stores with older loads.
 *
 * fpgactl_io_wmb() orders the CPU's stores to coherent DMA memory before a
 * later store to a BAR mapped uncached, as VFIO maps them (vfio-pci's mmap
 * uses pgprot_noncached(); an arm64 Device-nGnRnE mapping): what Linux's
 * writel() does before its store (__iowmb(): nothing on x86, where a UC
 * store is not reordered with older stores; dmb oshst on arm64).  It is
 * the doorbell barrier of the queue engine.  For a BAR mapped
 * write-combining (not done by the library) use fpgactl_wmb().
 */
#if defined(__x86_64__) || defined(__i386__)
/* sfence also orders write-combining stores, for BARs mapped WC. */
#define fpgactl_wmb() __asm__ __volatile__("sfence" ::: "memory")
#define fpgactl_rmb() __asm__ __volatile__("lfence" ::: "memory")
#define fpgactl_mb() __asm__ __volatile__("mfence" ::: "memory")
#define fpgactl_dma_rmb() __asm__ __volatile__("" ::: "memory")
#define fpgactl_dma_mb() __asm__ __volatile__("" ::: "memory")
#define fpgactl_io_wmb() __asm__ __volatile__("" ::: "memory")
#elif defined(__aarch64__)
#define fpgactl_wmb() __asm__ __volatile__("dsb st" ::: "memory")
#define fpgactl_rmb() __asm__ __volatile__("dsb ld" ::: "memory")
#define fpgactl_mb() __asm__ __volatile__("dsb sy" ::: "memory")
#define fpgactl_dma_rmb() __asm__ __volatile__("dmb oshld" ::: "memory")
#define fpgactl_dma_mb() __asm__ __volatile__("dmb osh" ::: "memory")
#define fpgactl_io_wmb() __asm__ __volatile__("dmb oshst" ::: "memory")
#else
#define fpgactl_wmb() __sync_synchronize()
#define fpgactl_rmb() __sync_synchronize()
#define fpgactl_mb() __sync_synchronize()
#define fpgactl_dma_rmb() __sync_synchronize()
#define fpgactl_dma_mb() __sync_synchronize()
#define fpgactl_io_wmb() __sync_synchronize()
#endif

/**
 * fpgactl_mmio_read8() - unchecked 8-bit register read
 * @bar: a fully mapped BAR, from fpgactl_device_bar()
 * @off: byte offset, a multiple of 1 inside the BAR (not checked)
 *
 * One volatile load, for the data path; fpgactl_reg_read() is the checked
 * form.  An all-ones value may mean the device is gone (fpgactl_is_all_ones()).
 *
 * Return: the register's value.
 */
static inline uint8_t fpgactl_mmio_read8(const struct fpgactl_bar *bar,
					 uint64_t off)
{
	return *(volatile uint8_t *)(bar->base + off);
}

/**
 * fpgactl_mmio_read16() - unchecked 16-bit register read
 * @bar: a fully mapped BAR, from fpgactl_device_bar()
 * @off: byte offset, a multiple of 2 inside the BAR (not checked)
 *
 * One volatile load, for the data path; fpgactl_reg_read() is the checked
 * form.  An all-ones value may mean the device is gone (fpgactl_is_all_ones()).
 *
 * Return: the register's value.
 */
static inline uint16_t fpgactl_mmio_read16(const struct fpgactl_bar *bar,
					   uint64_t off)
{
	return *(volatile uint16_t *)(bar->base + off);
}

/**
 * fpgactl_mmio_read32() - unchecked 32-bit register read
 * @bar: a fully mapped BAR, from fpgactl_device_bar()
 * @off: byte offset, a multiple of 4 inside the BAR (not checked)
 *
 * One volatile load, for the data path; fpgactl_reg_read() is the checked
 * form.  An all-ones value may mean the device is gone (fpgactl_is_all_ones()).
 *
 * Return: the register's value.
 */
static inline uint32_t fpgactl_mmio_read32(const struct fpgactl_bar *bar,
					   uint64_t off)
{
	return *(volatile uint32_t *)(bar->base + off);
}

/**
 * fpgactl_mmio_read64() - unchecked 64-bit register read
 * @bar: a fully mapped BAR, from fpgactl_device_bar()
 * @off: byte offset, a multiple of 8 inside the BAR (not checked)
 *
 * One volatile load, for the data path; fpgactl_reg_read() is the checked
 * form.  An all-ones value may mean the device is gone (fpgactl_is_all_ones()).
 *
 * Return: the register's value.
 */
static inline uint64_t fpgactl_mmio_read64(const struct fpgactl_bar *bar,
					   uint64_t off)
{
	return *(volatile uint64_t *)(bar->base + off);
}

/**
 * fpgactl_mmio_write8() - unchecked 8-bit register write
 * @bar: a fully mapped BAR, from fpgactl_device_bar()
 * @off: byte offset, a multiple of 1 inside the BAR (not checked)
 * @val: value
 *
 * One volatile store, for the data path; fpgactl_reg_write() is the checked
 * form.  Issue fpgactl_io_wmb() (or fpgactl_wmb(), see above) first when
 * the device is to read memory the CPU has just written (a doorbell).
 */
static inline void fpgactl_mmio_write8(const struct fpgactl_bar *bar,
				       uint64_t off, uint8_t val)
{
	*(volatile uint8_t *)(bar->base + off) = val;
}

/**
 * fpgactl_mmio_write16() - unchecked 16-bit register write
 * @bar: a fully mapped BAR, from fpgactl_device_bar()
 * @off: byte offset, a multiple of 2 inside the BAR (not checked)
 * @val: value
 *
 * One volatile store, for the data path; fpgactl_reg_write() is the checked
 * form.  Issue fpgactl_io_wmb() (or fpgactl_wmb(), see above) first when
 * the device is to read memory the CPU has just written (a doorbell).
 */
static inline void fpgactl_mmio_write16(const struct fpgactl_bar *bar,
					uint64_t off, uint16_t val)
{
	*(volatile uint16_t *)(bar->base + off) = val;
}

/**
 * fpgactl_mmio_write32() - unchecked 32-bit register write
 * @bar: a fully mapped BAR, from fpgactl_device_bar()
 * @off: byte offset, a multiple of 4 inside the BAR (not checked)
 * @val: value
 *
 * One volatile store, for the data path; fpgactl_reg_write() is the checked
 * form.  Issue fpgactl_io_wmb() (or fpgactl_wmb(), see above) first when
 * the device is to read memory the CPU has just written (a doorbell).
 */
static inline void fpgactl_mmio_write32(const struct fpgactl_bar *bar,
					uint64_t off, uint32_t val)
{
	*(volatile uint32_t *)(bar->base + off) = val;
}

/**
 * fpgactl_mmio_write64() - unchecked 64-bit register write
 * @bar: a fully mapped BAR, from fpgactl_device_bar()
 * @off: byte offset, a multiple of 8 inside the BAR (not checked)
 * @val: value
 *
 * One volatile store, for the data path; fpgactl_reg_write() is the checked
 * form.  Issue fpgactl_io_wmb() (or fpgactl_wmb(), see above) first when
 * the device is to read memory the CPU has just written (a doorbell).
 */
static inline void fpgactl_mmio_write64(const struct fpgactl_bar *bar,
					uint64_t off, uint64_t val)
{
	*(volatile uint64_t *)(bar->base + off) = val;
}

/**
 * fpgactl_is_all_ones() - does a register value look like a removed device?
 * @val: value read
 * @width: access width in bytes (1, 2, 4 or 8)
 *
 * A PCIe read to a device that is gone completes with all ones.  A register
 * may legitimately hold all ones, so confirm with fpgactl_device_removed().
 *
 * Return: true when every bit of a @width-byte value is set.
 */
static inline bool fpgactl_is_all_ones(uint64_t val, unsigned int width)
{
	return width >= 8 ? val == UINT64_MAX
			  : val == (UINT64_C(1) << (8 * width)) - 1;
}

/**
 * fpgactl_reg_read() - checked register read
 * @dev: device
 * @bar: BAR number, 0..5
 * @offset: byte offset in the BAR; a multiple of @width
 * @width: 1, 2, 4 or 8 bytes
 * @val: receives the value, zero-extended
 *
 * One access of exactly @width bytes: through the mapping where the BAR is
 * mapped, else one pread() of @width bytes (vfio-pci before Linux 6.11
 * turns an 8-byte one into two 4-byte device accesses).
 *
 * Return: 0; -EINVAL for a bad BAR or width, or an unaligned offset;
 * -ERANGE when the access leaves the BAR; or -errno from the kernel.
 */
int fpgactl_reg_read(struct fpgactl_device *dev, uint32_t bar, uint64_t offset,
		     unsigned int width, uint64_t *val);

/**
 * fpgactl_reg_write() - checked register write
 * @dev: device
 * @bar: BAR number, 0..5
 * @offset: byte offset in the BAR; a multiple of @width
 * @width: 1, 2, 4 or 8 bytes
 * @val: value; bits above @width bytes must be zero
 *
 * Issues fpgactl_wmb() first, so memory written before the call is visible
 * to the device when it sees the register write (doorbell semantics).
 *
 * Return: 0, -EINVAL / -ERANGE as for fpgactl_reg_read() (also -EINVAL when
 * @val does not fit @width), or -errno.
 */
int fpgactl_reg_write(struct fpgactl_device *dev, uint32_t bar,
		      uint64_t offset, unsigned int width, uint64_t val);

/**
 * fpgactl_reg_read32() - checked 32-bit register read
 * @dev: device
 * @bar: BAR number, 0..5
 * @offset: byte offset in the BAR; a multiple of 4
 * @val: receives the value
 *
 * fpgactl_reg_read() with a width of 4 bytes.
 *
 * Return: 0 or -errno as for fpgactl_reg_read(); @val is untouched on error.
 */
static inline int fpgactl_reg_read32(struct fpgactl_device *dev, uint32_t bar,
				     uint64_t offset, uint32_t *val)
{
	uint64_t v;
	int ret = fpgactl_reg_read(dev, bar, offset, 4, &v);

	if (!ret)
		*val = (uint32_t)v;
	return ret;
}

/**
 * fpgactl_reg_write32() - checked 32-bit register write
 * @dev: device
 * @bar: BAR number, 0..5
 * @offset: byte offset in the BAR; a multiple of 4
 * @val: value
 *
 * fpgactl_reg_write() with a width of 4 bytes.
 *
 * Return: 0 or -errno as for fpgactl_reg_write().
 */
static inline int fpgactl_reg_write32(struct fpgactl_device *dev,
				      uint32_t bar, uint64_t offset,
				      uint32_t val)
{
	return fpgactl_reg_write(dev, bar, offset, 4, val);
}

/**
 * fpgactl_reg_poll() - wait until (register & @mask) == @value
 * @dev: device
 * @bar: BAR number
 * @offset: register offset
 * @width: access width
 * @mask: bits to compare
 * @value: wanted value of those bits
 * @timeout_us: give up after this many microseconds
 * @last: receives the last value read; may be NULL
 *
 * Polls with a short back-off.  An all-ones read that config space confirms
 * as a removed device ends the wait early.
 *
 * Return: 0 when matched, -ETIMEDOUT, -ENODEV when the device is gone, or
 * -errno from the read.
 */
int fpgactl_reg_poll(struct fpgactl_device *dev, uint32_t bar, uint64_t offset,
		     unsigned int width, uint64_t mask, uint64_t value,
		     uint64_t timeout_us, uint64_t *last);

/**
 * fpgactl_device_removed() - confirm a surprise removal
 * @dev: device
 *
 * Reads the class code and revision dword (offset 0x08) of config space,
 * which vfio-pci passes through to the hardware: a present device never
 * returns all ones there.  (The vendor and device ids are no use: vfio-pci
 * answers them from the copy it took at open.)  Call it after
 * fpgactl_is_all_ones() matched.
 *
 * Return: 1 when the device is gone, 0 when it answers, -errno when config
 * space cannot be read (treat as gone).
 */
int fpgactl_device_removed(struct fpgactl_device *dev);

/**
 * fpgactl_reg_check() - read a register and classify an all-ones value
 * @dev: device
 * @bar: BAR number
 * @offset: register offset
 * @width: access width
 * @val: receives the value
 *
 * Return: 0 for a plausible value; -ENODEV when the value is all ones and
 * the device is confirmed removed; 0 when all ones is the register's real
 * content; -errno from the read.
 */
int fpgactl_reg_check(struct fpgactl_device *dev, uint32_t bar,
		      uint64_t offset, unsigned int width, uint64_t *val);

#ifdef __cplusplus
}
#endif
#endif
