/* SPDX-License-Identifier: MIT */
/*
 * The description of one fake PCI device, shared by the fake tree (which
 * writes it to R/sys/.../BDF/mock-vfio) and the ioctl mock (which reads it
 * back on every ioctl, so a test may edit it between calls).
 *
 * What sysfs already says (driver, IOMMU group) is not repeated here: the
 * mock reads it from the tree, as the kernel would know it.
 */
#ifndef FAKEDESC_H
#define FAKEDESC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define FAKE_NUM_REGIONS 9	/* VFIO_PCI_NUM_REGIONS: BAR0-5, ROM, config, VGA */
#define FAKE_NUM_IRQS 5		/* VFIO_PCI_NUM_IRQS: INTx, MSI, MSI-X, ERR, REQ */
#define FAKE_MAX_AREAS 8	/* sparse mmap areas per region */

/* Region i starts at offset i << FAKE_REGION_SHIFT of mock-regions. */
#define FAKE_REGION_SHIFT 28
#define FAKE_REGION_MAX ((uint64_t)1 << FAKE_REGION_SHIFT)
#define FAKE_REGION_CONFIG 7
#define FAKE_REGION_VGA 8

/* Region flags, as the description spells them: r, w, m. */
#define FAKE_REGION_R (1u << 0)
#define FAKE_REGION_W (1u << 1)
#define FAKE_REGION_M (1u << 2)

struct fake_area {
	uint64_t offset;
	uint64_t size;
};

/**
 * struct fake_region - one VFIO region of the device
 * @size: bytes (0: the device does not implement it); at most
 *	FAKE_REGION_MAX
 * @flags: FAKE_REGION_* (R, W, M)
 * @nr_areas: 0, or the number of sparse mmap areas (reported through
 *	VFIO_REGION_INFO_CAP_SPARSE_MMAP)
 * @areas: the sparse areas, relative to the region
 */
struct fake_region {
	uint64_t size;
	unsigned int flags;
	unsigned int nr_areas;
	struct fake_area areas[FAKE_MAX_AREAS];
};

/**
 * struct fake_dev_desc - a fake PCI function
 * @bdf: canonical "dddd:bb:dd.f"
 * @vendor, @device, @subsystem_vendor, @subsystem_device, @revision: ids
 * @class_code: 24-bit class code
 * @numa_node: NUMA node, -1 for none
 * @group: IOMMU group, -1 for none (IOMMU off)
 * @driver: bound driver, NULL when unbound
 * @cdev_index: N of /dev/vfio/devices/vfioN while bound to vfio-pci, -1
 *	for a kernel without VFIO cdevs
 * @can_reset: function-level reset works (VFIO_DEVICE_FLAGS_RESET)
 * @can_bus_reset: a secondary bus reset is possible (hot reset)
 * @pcie: PCI Express (4 KiB config space, the ERR IRQ index exists)
 * @vga: the VGA region (index 8) exists
 * @msix_dyn: MSI-X vectors can be added to an enabled device (the
 *	platform's pci_msix_can_alloc_dyn(), Linux 6.5+): VFIO_IRQ_INFO_NORESIZE
 *	clear for MSI-X
 * @regions: regions 0..8; region 7 (config space) is always readable and
 *	writable and sized 4096 (PCIe) or 256 bytes
 * @irq_count: vectors per IRQ index (INTx 0/1, MSI, MSI-X, ERR, REQ)
 */
struct fake_dev_desc {
	const char *bdf;
	uint16_t vendor;
	uint16_t device;
	uint16_t subsystem_vendor;
	uint16_t subsystem_device;
	uint8_t revision;
	uint32_t class_code;
	int numa_node;
	int group;
	const char *driver;
	int cdev_index;
	bool can_reset;
	bool can_bus_reset;
	bool pcie;
	bool vga;
	bool msix_dyn;
	struct fake_region regions[FAKE_NUM_REGIONS];
	uint32_t irq_count[FAKE_NUM_IRQS];
};

/*
 * Fill @d with a typical FPGA endpoint at @bdf: Xilinx 10ee:9038, class
 * 0x120000, PCIe, no IOMMU group, unbound, no cdev, FLR and bus reset,
 * BAR0 64 KiB mmap-able, INTx + 1 MSI + 8 MSI-X.  Tests change what matters.
 */
void fake_dev_default(struct fake_dev_desc *d, const char *bdf);

/* Write the mock-vfio text for @d to @f.  Return 0 or -errno. */
int fake_desc_write(FILE *f, const struct fake_dev_desc *d);

/*
 * Parse a mock-vfio file into @d (ids and sysfs fields are left as
 * fake_dev_default() sets them; @d->bdf is NULL).  Return 0, -errno when the
 * file cannot be read, or -EINVAL for a malformed line.
 */
int fake_desc_read(const char *path, struct fake_dev_desc *d);

/* Parse region flags "rwm" / "-" into FAKE_REGION_*.  Return 0 or -EINVAL. */
int fake_parse_region_flags(const char *s, unsigned int *flags);

/* Parse "OFFSET+SIZE" into @a.  Return 0 or -EINVAL. */
int fake_parse_area(const char *s, struct fake_area *a);

/* Check that @d is consistent (sizes, areas, indexes).  Return 0/-EINVAL. */
int fake_desc_check(const struct fake_dev_desc *d);

#endif
