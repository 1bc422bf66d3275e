/* SPDX-License-Identifier: MIT */
#ifndef FPGACTL_DEVICE_H
#define FPGACTL_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fpgactl_iommu;
struct fpgactl_device;

/**
 * enum fpgactl_iommu_backend - how the library talks to the IOMMU
 * @FPGACTL_IOMMU_AUTO: the backend the environment variable FPGACTL_IOMMU
 *	names (auto, legacy or iommufd; any other value fails the open with
 *	-EINVAL; ignored by set-user-ID programs); when it is unset, empty or
 *	auto: iommufd where /dev/iommu and the device's vfio cdev exist, the
 *	legacy container otherwise
 * @FPGACTL_IOMMU_LEGACY: /dev/vfio/vfio container and /dev/vfio/GROUP
 * @FPGACTL_IOMMU_IOMMUFD: /dev/iommu and /dev/vfio/devices/vfioN
 */
enum fpgactl_iommu_backend {
	FPGACTL_IOMMU_AUTO,
	FPGACTL_IOMMU_LEGACY,
	FPGACTL_IOMMU_IOMMUFD,
};

/**
 * fpgactl_iommu_open() - create an IOMMU context
 * @backend: backend to use; AUTO: FPGACTL_IOMMU from the environment, or
 *	iommufd when /dev/iommu exists
 * @err: receives -errno on failure; may be NULL
 *
 * One context is one I/O address space: every device opened into it sees the
 * same DMA mappings.  The context is reference counted; each device holds a
 * reference, so fpgactl_iommu_close() may be called before the devices are.
 *
 * Return: the context, or NULL with *@err set.
 */
struct fpgactl_iommu *fpgactl_iommu_open(enum fpgactl_iommu_backend backend,
					 int *err);

/**
 * fpgactl_iommu_close() - drop the caller's reference to a context
 * @iommu: context, or NULL
 */
void fpgactl_iommu_close(struct fpgactl_iommu *iommu);

/**
 * fpgactl_iommu_backend_name() - name of the backend a context uses
 * @iommu: context
 *
 * Return: "legacy" or "iommufd".
 */
const char *fpgactl_iommu_backend_name(const struct fpgactl_iommu *iommu);

/** Reset the device (VFIO_DEVICE_RESET, or a hot reset) right after open. */
#define FPGACTL_OPEN_RESET (1u << 0)
/**
 * Map no BAR: every register access goes through pread/pwrite on the
 * device.  For devices whose BARs misbehave when mapped, and to measure
 * what mapping saves.  VFIO devices only.
 */
#define FPGACTL_OPEN_NO_MMAP (1u << 1)
/**
 * Open with the VF token in &fpgactl_open_opts.vf_token: an SR-IOV VF whose
 * PF is bound to vfio-pci, or that PF while its VFs are in use.  The flag
 * also says that the caller's structure has the vf_token member.
 */
#define FPGACTL_OPEN_VF_TOKEN (1u << 2)

/**
 * struct fpgactl_open_opts - options for fpgactl_device_open()
 * @iommu: context to join; NULL creates a private one with @backend
 * @backend: backend for the private context (ignored when @iommu is set)
 * @flags: FPGACTL_OPEN_* flags
 * @vf_token: with FPGACTL_OPEN_VF_TOKEN only (read only then, so that
 *	programs built before it existed keep working): the VF token, a UUID
 *	"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" the PF's owner set with
 *	fpgactl_device_set_vf_token()
 */
struct fpgactl_open_opts {
	struct fpgactl_iommu *iommu;
	enum fpgactl_iommu_backend backend;
	unsigned int flags;
	const char *vf_token;
};

/**
 * fpgactl_device_open() - open a PCI device through VFIO
 * @bdf: PCI address, "dddd:bb:dd.f" or "bb:dd.f"
 * @opts: options, or NULL for the defaults (private context, AUTO backend)
 * @err: receives -errno on failure; may be NULL
 *
 * On failure the log hook receives a message naming the cause and the fix:
 * IOMMU off, not bound to vfio-pci, group not viable (with the offending
 * devices), permission denied on a named node.
 *
 * Return: the device, or NULL with *@err set: -EINVAL (bad address),
 * -ENODEV (no such device, or IOMMU off), -EBUSY (group not viable or in
 * use), -EACCES, -ENOENT (VFIO node missing), or another -errno.
 */
struct fpgactl_device *fpgactl_device_open(const char *bdf,
					   const struct fpgactl_open_opts *opts,
					   int *err);

/**
 * fpgactl_device_close() - unmap the regions and release the device
 * @dev: device, or NULL
 *
 * Soft-cores and queues hold a reference to their device: when one is still
 * open, the release (interrupts off, BARs unmapped, fds closed) is deferred
 * to the close of the last of them, with one warning logged; DMA buffers hold
 * the IOMMU context only and may be freed later.  @dev itself must not be
 * used after this call.  See "Lifetimes" in docs/architecture.md.
 */
void fpgactl_device_close(struct fpgactl_device *dev);

/**
 * fpgactl_device_bdf() - PCI address of an open device
 * @dev: device
 *
 * Return: canonical "dddd:bb:dd.f".
 */
const char *fpgactl_device_bdf(const struct fpgactl_device *dev);

/**
 * fpgactl_device_iommu() - the IOMMU context a device belongs to
 * @dev: device
 *
 * Return: the context (borrowed; not a new reference).
 */
struct fpgactl_iommu *fpgactl_device_iommu(const struct fpgactl_device *dev);

/** VFIO_DEVICE_RESET is available (the device has FLR, PM or bus reset). */
#define FPGACTL_DEV_CAN_RESET (1u << 0)
/** VFIO_DEVICE_PCI_HOT_RESET is possible for this device's slot or bus. */
#define FPGACTL_DEV_CAN_HOT_RESET (1u << 1)

/**
 * struct fpgactl_device_info - what the kernel reports about a device
 * @num_regions: number of VFIO regions (BAR0..5, ROM, config, VGA, ...)
 * @num_irqs: number of VFIO IRQ indexes (INTx, MSI, MSI-X, error, request)
 * @flags: FPGACTL_DEV_* flags
 * @backend: IOMMU backend in use
 */
struct fpgactl_device_info {
	uint32_t num_regions;
	uint32_t num_irqs;
	uint32_t flags;
	enum fpgactl_iommu_backend backend;
};

/**
 * fpgactl_device_get_info() - device-wide facts
 * @dev: device
 * @info: filled in
 *
 * Return: 0 or -errno.
 */
int fpgactl_device_get_info(struct fpgactl_device *dev,
			    struct fpgactl_device_info *info);

/* Region indexes, as VFIO numbers them for PCI devices. */
#define FPGACTL_REGION_BAR0 0
#define FPGACTL_REGION_BAR5 5
#define FPGACTL_REGION_ROM 6
#define FPGACTL_REGION_CONFIG 7
#define FPGACTL_REGION_VGA 8

#define FPGACTL_REGION_READ (1u << 0)
#define FPGACTL_REGION_WRITE (1u << 1)
/** The kernel allows mmap of (at least part of) the region. */
#define FPGACTL_REGION_MMAP (1u << 2)
/** The library has mapped the region, or its sparse areas. */
#define FPGACTL_REGION_MAPPED (1u << 3)
/** Only the areas listed by the sparse-mmap capability can be mapped. */
#define FPGACTL_REGION_SPARSE (1u << 4)

/**
 * struct fpgactl_region_info - one VFIO region
 * @index: region index (FPGACTL_REGION_*)
 * @flags: FPGACTL_REGION_* flags
 * @size: size in bytes; 0 when the device does not implement the region
 * @nr_areas: number of mmap-able areas (1 for a fully mappable region)
 */
struct fpgactl_region_info {
	uint32_t index;
	uint32_t flags;
	uint64_t size;
	uint32_t nr_areas;
};

/**
 * fpgactl_region_get_info() - describe one region
 * @dev: device
 * @index: region index, below &fpgactl_device_info.num_regions
 * @info: filled in
 *
 * Return: 0, -EINVAL for an index out of range, or -errno.
 */
int fpgactl_region_get_info(struct fpgactl_device *dev, uint32_t index,
			    struct fpgactl_region_info *info);

/**
 * fpgactl_region_read() - read bytes from a region
 * @dev: device
 * @index: region index
 * @offset: offset within the region
 * @buf: destination
 * @len: byte count
 *
 * Goes through the mapping where the bytes are mapped, through pread() on
 * the device otherwise.  Either way the copy is split into naturally
 * aligned device accesses of at most 4 bytes (the largest of 4, 2, 1 that
 * the offset is aligned to and the rest holds), one pread() each on the
 * unmapped path: the same call makes the same PCIe requests on both paths,
 * and never an 8-byte one, which many AXI-Lite bridges mishandle.  For a
 * register that needs one 8-byte access use fpgactl_reg_read() with width 8
 * (or fpgactl_mmio_read64() on a mapped BAR).
 *
 * Return: 0, -ERANGE when [@offset, @offset + @len) leaves the region,
 * -EINVAL for a bad index, or -errno from the kernel.
 */
int fpgactl_region_read(struct fpgactl_device *dev, uint32_t index,
			uint64_t offset, void *buf, size_t len);

/**
 * fpgactl_region_write() - write bytes to a region
 * @dev: device
 * @index: region index
 * @offset: offset within the region
 * @buf: source
 * @len: byte count
 *
 * See fpgactl_region_read().
 *
 * Return: 0 or -errno as for fpgactl_region_read().
 */
int fpgactl_region_write(struct fpgactl_device *dev, uint32_t index,
			 uint64_t offset, const void *buf, size_t len);

/**
 * struct fpgactl_bar - a mapped BAR, for the data path
 * @base: start of the mapping; only offsets inside a mapped area are valid
 * @size: size of the BAR in bytes
 * @index: BAR number
 *
 * Obtained from fpgactl_device_bar(); valid until the device is closed.
 */
struct fpgactl_bar {
	volatile uint8_t *base;
	uint64_t size;
	uint32_t index;
};

/**
 * fpgactl_device_bar() - the mapping of a fully mapped BAR
 * @dev: device
 * @bar: BAR number, 0..5
 * @err: receives -errno on failure; may be NULL
 *
 * For the unchecked inline accessors of <fpgactl/mmio.h>.  A BAR that the
 * kernel does not let us map as a whole (not mmap-able, or sparse) has no
 * such pointer: use fpgactl_reg_read() and fpgactl_reg_write() instead.
 *
 * Return: the BAR, or NULL with *@err set: -EINVAL (no such BAR), -ENOTSUP
 * (not fully mapped).
 */
const struct fpgactl_bar *fpgactl_device_bar(struct fpgactl_device *dev,
					     uint32_t bar, int *err);

/* IRQ indexes, as VFIO numbers them for PCI devices. */
#define FPGACTL_IRQ_INTX 0
#define FPGACTL_IRQ_MSI 1
#define FPGACTL_IRQ_MSIX 2
#define FPGACTL_IRQ_ERR 3
#define FPGACTL_IRQ_REQ 4

/**
 * struct fpgactl_irq_info - one VFIO IRQ index
 * @index: FPGACTL_IRQ_*
 * @count: number of vectors (0: not supported)
 * @flags: VFIO_IRQ_INFO_* flags as the kernel reported them
 */
struct fpgactl_irq_info {
	uint32_t index;
	uint32_t count;
	uint32_t flags;
};

/**
 * fpgactl_irq_get_info() - describe one IRQ index
 * @dev: device
 * @index: FPGACTL_IRQ_*, below &fpgactl_device_info.num_irqs
 * @info: filled in
 *
 * Return: 0, -EINVAL for an index out of range, or -errno.
 */
int fpgactl_irq_get_info(struct fpgactl_device *dev, uint32_t index,
			 struct fpgactl_irq_info *info);

/**
 * fpgactl_config_read() - read PCI configuration space
 * @dev: device
 * @offset: byte offset
 * @buf: destination
 * @len: byte count
 *
 * Return: 0, -ERANGE past the end of config space, or -errno.
 */
int fpgactl_config_read(struct fpgactl_device *dev, uint32_t offset,
			void *buf, size_t len);

/**
 * fpgactl_config_write() - write PCI configuration space
 * @dev: device
 * @offset: byte offset
 * @buf: source
 * @len: byte count
 *
 * Return: 0, -ERANGE past the end of config space, or -errno.
 */
int fpgactl_config_write(struct fpgactl_device *dev, uint32_t offset,
			 const void *buf, size_t len);

/**
 * fpgactl_set_bus_master() - set or clear Bus Master Enable
 * @dev: device
 * @enable: true to let the device issue DMA
 *
 * Read-modify-write of the command register; other bits are preserved.
 *
 * Return: 0 or -errno.
 */
int fpgactl_set_bus_master(struct fpgactl_device *dev, bool enable);

/**
 * fpgactl_device_reset() - reset the device
 * @dev: device
 *
 * VFIO_DEVICE_RESET where the kernel offers it (FLR, PM or slot reset);
 * otherwise a secondary bus reset through VFIO_DEVICE_PCI_HOT_RESET, which
 * is possible only when every device the reset affects is owned by this
 * process.  BAR mappings stay valid; the device's registers are reset.
 *
 * Return: 0, -ENOTTY when the device cannot be reset, or -errno.
 */
int fpgactl_device_reset(struct fpgactl_device *dev);

/**
 * fpgactl_device_hot_reset() - secondary bus reset through VFIO
 * @dev: device
 *
 * Return: 0, -EPERM when a device sharing the bus is not owned by this
 * process (the log names it), or -errno.
 */
int fpgactl_device_hot_reset(struct fpgactl_device *dev);

/**
 * fpgactl_device_set_vf_token() - set the VF token of an SR-IOV PF
 * @pf: the PF, opened through VFIO (bound to vfio-pci)
 * @uuid: the token, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
 *
 * VFIO_DEVICE_FEATURE(SET | PCI_VF_TOKEN).  vfio-pci gives a PF a random
 * token nobody knows; its VFs can only be opened (fpgactl_device_open()
 * with FPGACTL_OPEN_VF_TOKEN) with the token set here, which proves the
 * VF's user cooperates with the PF's.
 *
 * Return: 0, -EINVAL (not a UUID), -ENOTTY (not an SR-IOV PF, or the model),
 * or another -errno; logged.
 */
int fpgactl_device_set_vf_token(struct fpgactl_device *pf, const char *uuid);

/**
 * fpgactl_pci_sriov_set_numvfs() - create or remove the VFs of an SR-IOV PF
 * @bdf: canonical PCI address of the PF
 * @numvfs: VFs wanted (0 removes them all), at most its sriov_totalvfs
 *
 * Writes sriov_numvfs in sysfs (0 first when VFs exist and another non-zero
 * count is asked for, as the kernel requires).  A PF bound to vfio-pci
 * creates VFs only when vfio-pci was loaded with enable_sriov=1; its VFs are
 * then bound to vfio-pci as they appear.  Needs root.
 *
 * Return: 0, -ENODEV (no such device), -EOPNOTSUPP (not an SR-IOV PF),
 * -ERANGE (more than sriov_totalvfs), -ENOENT (vfio-pci without
 * enable_sriov), -EBUSY (the PF's VFs are in use), -EACCES/-EPERM, or
 * another -errno; logged with the fix.
 */
int fpgactl_pci_sriov_set_numvfs(const char *bdf, unsigned int numvfs);

#ifdef __cplusplus
}
#endif
#endif
