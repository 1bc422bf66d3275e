/* SPDX-License-Identifier: MIT */
#ifndef FPGACTL_PCI_H
#define FPGACTL_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * PCI devices as sysfs describes them.  The sysfs root defaults to /sys and
 * the device-node root to /dev; the environment variables FPGACTL_SYSFS_ROOT
 * and FPGACTL_DEV_ROOT redirect them (read on every call), so that tools and
 * tests can run against a fake tree.
 */

/** Length of "dddd:bb:dd.f" plus the terminating NUL. */
#define FPGACTL_BDF_LEN 13

/**
 * enum fpgactl_vfio_state - whether a device can be opened through VFIO now
 * @FPGACTL_VFIO_READY: bound to vfio-pci, group viable, node accessible
 * @FPGACTL_VFIO_NO_IOMMU: the device has no iommu_group (IOMMU off)
 * @FPGACTL_VFIO_NOT_BOUND: not bound to vfio-pci
 * @FPGACTL_VFIO_GROUP_NOT_VIABLE: another device of its group is bound to
 *	a host driver
 * @FPGACTL_VFIO_NO_NODE: neither /dev/vfio/GROUP nor a vfio cdev exists
 *	(vfio-pci module not loaded?)
 * @FPGACTL_VFIO_NO_ACCESS: the device node exists but this user cannot
 *	open it
 * @FPGACTL_VFIO_BUSY: ready, but a process holds its group or cdev node
 *	open (see fpgactl_pci_holders()), so an open fails with -EBUSY until
 *	it lets go (since 0.2)
 */
enum fpgactl_vfio_state {
	FPGACTL_VFIO_READY,
	FPGACTL_VFIO_NO_IOMMU,
	FPGACTL_VFIO_NOT_BOUND,
	FPGACTL_VFIO_GROUP_NOT_VIABLE,
	FPGACTL_VFIO_NO_NODE,
	FPGACTL_VFIO_NO_ACCESS,
	FPGACTL_VFIO_BUSY,
};

/**
 * struct fpgactl_pci_dev - one PCI function as seen in sysfs
 * @bdf: domain:bus:device.function, e.g. "0000:03:00.0"
 * @vendor: PCI vendor id
 * @device: PCI device id
 * @class_code: 24-bit class code (base, sub, prog-if)
 * @numa_node: NUMA node, or -1 when the platform does not say
 * @iommu_group: IOMMU group number, or -1 when the device has none
 * @driver: bound driver name, "" when unbound
 * @vfio_state: whether VFIO can open it now
 * @vfio_reason: one line on why not (empty when @vfio_state is READY)
 */
struct fpgactl_pci_dev {
	char bdf[FPGACTL_BDF_LEN];
	uint16_t vendor;
	uint16_t device;
	uint32_t class_code;
	int numa_node;
	int iommu_group;
	char driver[64];
	enum fpgactl_vfio_state vfio_state;
	char vfio_reason[256];
};

/**
 * fpgactl_pci_parse_bdf() - validate and normalise a PCI address
 * @in: "dddd:bb:dd.f" or "bb:dd.f" (domain 0), hexadecimal
 * @out: receives the canonical lower-case "dddd:bb:dd.f"
 *
 * Return: 0, or -EINVAL when @in is not a PCI address (out of range parts,
 * trailing characters, wrong separators).
 */
int fpgactl_pci_parse_bdf(const char *in, char out[FPGACTL_BDF_LEN]);

/**
 * fpgactl_pci_lookup() - describe one PCI device
 * @bdf: canonical PCI address
 * @out: filled in
 *
 * Return: 0, -ENODEV when no such device exists, or another -errno when
 * sysfs could not be read.
 */
int fpgactl_pci_lookup(const char *bdf, struct fpgactl_pci_dev *out);

/**
 * fpgactl_pci_scan() - list PCI devices
 * @devs: receives a malloc'ed array sorted by address; free() it
 * @count: receives the number of entries
 *
 * Return: 0 (possibly with zero devices), or -errno.
 */
int fpgactl_pci_scan(struct fpgactl_pci_dev **devs, size_t *count);

/**
 * fpgactl_pci_bind_vfio() - hand a device to vfio-pci
 * @bdf: canonical PCI address
 * @prev_driver: receives the driver it was bound to ("" if none); may be
 *	NULL.  Size at least 64 bytes.
 *
 * Unbinds the current driver, writes "vfio-pci" to driver_override and asks
 * the kernel to probe again, then checks the result.  A device already bound
 * to vfio-pci is left alone.
 *
 * Return: 0, -ENODEV (no device), -ENOENT (vfio-pci not loaded), -EACCES /
 * -EPERM (not root), -EIO (the probe did not bind it), or -errno.
 */
int fpgactl_pci_bind_vfio(const char *bdf, char *prev_driver);

/**
 * fpgactl_pci_unbind_vfio() - give a device back to a host driver
 * @bdf: canonical PCI address
 * @driver: driver to bind, or NULL to let the kernel choose by probing
 *
 * Return: 0, -EINVAL when the device is not bound to vfio-pci, or -errno.
 */
int fpgactl_pci_unbind_vfio(const char *bdf, const char *driver);

/**
 * struct fpgactl_pci_holder - a process that holds a device's VFIO node open
 * @pid: its process id (this process's own when it has the device open)
 * @comm: its command name (/proc/PID/comm), "?" when unknown
 */
struct fpgactl_pci_holder {
	int pid;
	char comm[16];
};

/**
 * fpgactl_pci_holders() - processes holding a device's VFIO nodes open
 * @bdf: canonical PCI address
 * @out: receives the first @max holders; may be NULL when @max is 0
 * @max: room in @out
 *
 * Looks for /dev/vfio/GROUP and /dev/vfio/devices/vfioN of the device among
 * the open files of every process (/proc/PID/fd): what keeps an open from
 * succeeding (-EBUSY) and an unbind from vfio-pci waiting.  Processes whose
 * files this user may not inspect (other users', without root) are not
 * seen.  Since 0.2.
 *
 * Return: the number of holders (more than @max when some did not fit; 0
 * for a device without VFIO nodes), or -errno when /proc cannot be read.
 */
int fpgactl_pci_holders(const char *bdf, struct fpgactl_pci_holder *out, unsigned int max);

/**
 * fpgactl_vfio_state_name() - short name of a &enum fpgactl_vfio_state
 * @state: the state
 *
 * Return: a static string such as "ready" or "not-bound".
 */
const char *fpgactl_vfio_state_name(enum fpgactl_vfio_state state);

#ifdef __cplusplus
}
#endif
#endif
