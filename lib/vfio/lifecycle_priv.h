/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces of the life-cycle calls (lifecycle.c): the upstream
 * bridge's error reporting (aer.c) and the sysfs steps (lifecycle_pci.c).
 * Not installed.
 */
#ifndef FPGACTL_LIFECYCLE_PRIV_H
#define FPGACTL_LIFECYCLE_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "fpgactl/lifecycle.h"
#include "fpgactl/pci.h"

/* ---- aer.c: the bridge's config space through sysfs ----------------------- */

/* PCIe extended capability ids (PCIe base spec 7.6) and their registers. */
#define PCI_EXT_CAP_AER 0x0001
#define PCI_EXT_CAP_DPC 0x001d
#define AER_UNCOR_STATUS 0x04
#define AER_UNCOR_MASK 0x08
#define AER_UNCOR_SEVER 0x0c
#define AER_SURPRISE_DOWN (1u << 5)
#define DPC_CTL 0x06
#define DPC_CTL_TRIGGER_MASK 0x0003
#define PCI_BRIDGE_CONTROL 0x3e
#define PCI_BRIDGE_CTL_BUS_RESET 0x0040
#define PCI_HEADER_TYPE 0x0e

/**
 * struct bridge_errors - the bridge registers a reload changes, as saved
 * @bdf: the bridge
 * @aer: offset of its AER capability, 0 when it has none
 * @dpc: offset of its DPC capability, 0 when it has none
 * @uncor_mask: saved AER uncorrectable error mask
 * @uncor_sever: saved AER uncorrectable error severity
 * @dpc_ctl: saved DPC control
 * @aer_masked: the AER registers were changed and must be restored
 * @dpc_disabled: the DPC control was changed and must be restored
 */
struct bridge_errors {
	char bdf[FPGACTL_BDF_LEN];
	uint16_t aer;
	uint16_t dpc;
	uint32_t uncor_mask;
	uint32_t uncor_sever;
	uint16_t dpc_ctl;
	bool aer_masked;
	bool dpc_disabled;
};

/* Read/write the bridge's config space through sysfs (root for writes, and
 * for reads past 64 bytes).  Return 0, -EPERM when the kernel gave fewer
 * bytes than asked (not root), -ENODEV (all-ones: the bridge is gone), or
 * -errno.  Not logged. */
int bridge_cfg_read(const char *bdf, uint32_t off, void *buf, size_t len);
int bridge_cfg_write(const char *bdf, uint32_t off, const void *buf, size_t len);

/*
 * Save the bridge's AER uncorrectable mask and severity and its DPC
 * control, then mask surprise down (masked, non-fatal) and disable the DPC
 * trigger.  On error what was changed is written back; if even that fails
 * (logged, with the values to set), @e's flags stay set to say so.  Return
 * 0 or -errno (logged).
 */
int bridge_errors_mask(struct bridge_errors *e, const char *bdf);

/*
 * Clear the surprise-down status the reload latched, write the saved values
 * back and read them back.  Return 0, or -EIO when they do not read back as
 * saved, or -errno (logged).  Does nothing when nothing was masked.
 */
int bridge_errors_restore(struct bridge_errors *e);

/* Secondary bus reset through the bridge control register (as the kernel's
 * pci_reset_secondary_bus(): set, 2 ms, clear).  Return 0 or -errno. */
int bridge_secondary_reset(const char *bdf);

/* ---- lifecycle_pci.c: sysfs steps ----------------------------------------- */

/* Functions of a slot: at most 8. */
#define LC_MAX_FUNCTIONS 8

/*
 * The bridge above @bdf (the parent directory of its sysfs device), or
 * -ENODEV when the device sits on a root bus.  Not logged.
 */
int lc_upstream_bridge(const char *bdf, char bridge[FPGACTL_BDF_LEN]);

/* The functions present in @bdf's slot (dddd:bb:dd.0-7), @bdf included. */
int lc_slot_functions(const char *bdf, char fns[][FPGACTL_BDF_LEN], unsigned int *n);

/* BAR sizes from sysfs "resource" (0: absent or unassigned), and in
 * @unassigned (may be NULL) the BARs that have a size but no address.
 * Return 0 or -errno. */
int lc_bar_sizes(const char *bdf, uint64_t sizes[6], unsigned int *unassigned);

/* Vendor and device ids from sysfs; -ENODEV when the device is absent or
 * reads all-ones. */
int lc_read_ids(const char *bdf, uint16_t *vendor, uint16_t *device);

/* The sysfs writes that change the bus: a seam so that unit tests can play
 * the kernel's part on a fake tree (the fake sysfs does not react to
 * writes).  Each returns 0 or -errno, not logged. */
struct lc_kernel_ops {
	/* echo 1 > /sys/bus/pci/devices/BDF/remove */
	int (*remove)(const char *bdf);
	/* echo 1 > .../BRIDGE/pci_bus/BUS/rescan (or the bridge's rescan, or
	 * /sys/bus/pci/rescan when @bridge is NULL) */
	int (*rescan)(const char *bridge);
	/* secondary bus reset of @bridge */
	int (*bus_reset)(const char *bridge);
};

extern const struct lc_kernel_ops lc_kernel_sysfs;
/* The operations in use; tests point it at their own. */
extern const struct lc_kernel_ops *lc_kernel;

#endif
