// SPDX-License-Identifier: MIT
/*
 * Checked register access, polling, and surprise-removal detection.
 */
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "vfio/vfio.h"

/*
 * Revision ID and class code.  vfio-pci virtualizes the vendor and device
 * ids (ALL_VIRT in drivers/vfio/pci/vfio_pci_config.c:
 * init_pci_cap_basic_perm()), answering them from the copy taken at open,
 * so they never read 0xffff after a removal; this dword has no virtualized
 * bit and vfio_default_config_read() reads it from the device.
 */
#define PCI_CLASS_REVISION 0x08

static int reg_check_args(struct fpgactl_device *dev, uint32_t bar,
			  uint64_t offset, unsigned int width, struct region **out)
{
	struct region *r;

	if (bar >= FPGACTL_NUM_BARS || bar >= dev->num_regions) {
		log_err("%s: BAR%u does not exist (BARs are 0-5)", dev->bdf, bar);
		return -EINVAL;
	}
	r = &dev->regions[bar];
	if (!r->info.size) {
		log_err("%s: BAR%u is not implemented by the device", dev->bdf, bar);
		return -EINVAL;
	}
	if (width != 1 && width != 2 && width != 4 && width != 8) {
		log_err("%s: register width %u bytes: use 1, 2, 4 or 8", dev->bdf, width);
		return -EINVAL;
	}
	if (offset % width) {
		log_err("%s: BAR%u offset 0x%llx is not aligned to %u bytes",
			dev->bdf, bar, (unsigned long long)offset, width);
		return -EINVAL;
	}
	*out = r;
	return region_check_range(dev, r, offset, width);
}

/*
 * pread/pwrite of one register, for BARs (or parts) that are not mapped:
 * one access of the caller's width, as through the mapping (vfio-pci before
 * Linux 6.11 splits an 8-byte one into two 4-byte device accesses).
 */
static int reg_rw_syscall(struct fpgactl_device *dev, struct region *r,
			  uint64_t offset, unsigned int width, void *val, bool write)
{
	return dev->ops->region_rw(dev, r, offset, val, width, write);
}

FPGACTL_EXPORT int fpgactl_reg_read(struct fpgactl_device *dev, uint32_t bar,
				    uint64_t offset, unsigned int width,
				    uint64_t *val)
{
	volatile uint8_t *io;
	struct region *r;
	uint64_t v = 0;
	int ret = reg_check_args(dev, bar, offset, width, &r);

	if (ret)
		return ret;
	io = region_mapped_ptr(r, offset, width);
	if (io)
		mmio_access(io, &v, width, false);
	else if ((ret = reg_rw_syscall(dev, r, offset, width, &v, false)))
		return ret;
	/* Little-endian hosts only for now: v holds the value zero-extended. */
	*val = v;
	return 0;
}

FPGACTL_EXPORT int fpgactl_reg_write(struct fpgactl_device *dev, uint32_t bar,
				     uint64_t offset, unsigned int width,
				     uint64_t val)
{
	volatile uint8_t *io;
	struct region *r;
	int ret = reg_check_args(dev, bar, offset, width, &r);

	if (ret)
		return ret;
	if (width < 8 && val >> (8 * width)) {
		log_err("%s: value 0x%llx does not fit in %u bytes", dev->bdf,
			(unsigned long long)val, width);
		return -EINVAL;
	}
	/* Memory written before this call must reach the device first. */
	fpgactl_wmb();
	io = region_mapped_ptr(r, offset, width);
	if (io) {
		mmio_access(io, &val, width, true);
		return 0;
	}
	return reg_rw_syscall(dev, r, offset, width, &val, true);
}

FPGACTL_EXPORT int fpgactl_device_removed(struct fpgactl_device *dev)
{
	uint32_t class_rev;
	int ret = fpgactl_config_read(dev, PCI_CLASS_REVISION, &class_rev,
				      sizeof(class_rev));

	if (ret)
		return ret;
	if (class_rev != 0xffffffffu)
		return 0;
	log_err("%s: the device no longer answers (config space reads all ones): "
		"surprise removal or link down", dev->bdf);
	return 1;
}

FPGACTL_EXPORT int fpgactl_reg_check(struct fpgactl_device *dev, uint32_t bar,
				     uint64_t offset, unsigned int width,
				     uint64_t *val)
{
	int ret = fpgactl_reg_read(dev, bar, offset, width, val);

	if (ret || !fpgactl_is_all_ones(*val, width))
		return ret;
	ret = fpgactl_device_removed(dev);
	return ret == 0 ? 0 : -ENODEV;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Spin briefly, then sleep with a doubling interval capped at 1 ms. */
static void poll_backoff(unsigned int round)
{
	struct timespec ts = { 0, 0 };

	if (round < 64)
		return;
	ts.tv_nsec = 1000L << (round - 64 < 10 ? round - 64 : 10);
	nanosleep(&ts, NULL);
}

FPGACTL_EXPORT int fpgactl_reg_poll(struct fpgactl_device *dev, uint32_t bar,
				    uint64_t offset, unsigned int width,
				    uint64_t mask, uint64_t value,
				    uint64_t timeout_us, uint64_t *last)
{
	uint64_t now = now_us(), v = 0;
	uint64_t deadline = timeout_us > UINT64_MAX - now ? UINT64_MAX : now + timeout_us;
	int ret;

	for (unsigned int round = 0;; round++) {
		ret = fpgactl_reg_check(dev, bar, offset, width, &v);
		if (ret)
			break;
		if ((v & mask) == value)
			break;
		if (now_us() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		poll_backoff(round);
	}
	if (last)
		*last = v;
	return ret;
}
