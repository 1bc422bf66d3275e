/* SPDX-License-Identifier: MIT */
/*
 * The pci layer: PCI devices as sysfs shows them (groups, viability,
 * who holds a node open).  Internal to lib/.
 */
#ifndef FPGACTL_PCI_LAYER_H
#define FPGACTL_PCI_LAYER_H

#include "core/core.h"

/* ---- pci.c --------------------------------------------------------------- */

/* IOMMU group number of a device, -ENODEV when it has none (IOMMU off). */
int pci_iommu_group(const char *bdf);
/*
 * Index N of the device's vfio cdev /dev/vfio/devices/vfioN, or -ENOENT
 * when the kernel did not create one.
 */
int pci_vfio_cdev_index(const char *bdf);
/*
 * Check that every device of @group is bound to vfio-pci (or to no driver,
 * or is a PCIe bridge).  On failure fill @culprits with "BDF (driver)" of
 * the others and return -EBUSY.
 */
int pci_group_viable(int group, char *culprits, size_t size);
/*
 * Explain why @bdf cannot be used through VFIO before an open is attempted:
 * log the cause and the fix.  Return the matching -errno, or 0 when nothing
 * is visibly wrong.
 */
int pci_explain_unusable(const char *bdf);

/* ---- holders.c: processes holding VFIO nodes open ------------------------- */

/* fpgactl_pci_holders(); *@partial: some processes could not be inspected. */
int pci_holders(const char *bdf, struct fpgactl_pci_holder *out, unsigned int max,
		bool *partial);
/* Processes holding the node at @node (a full path) open, or -errno. */
int node_holders(const char *node, struct fpgactl_pci_holder *out, unsigned int max);
/* "pid 1 (a), this process (pid 2) and 3 more": @n holders, the first @max in @h. */
void holders_text(const struct fpgactl_pci_holder *h, int n, unsigned int max,
		  char *buf, size_t size);
/*
 * Log why @node (what: "VFIO group 5") could not be opened (-EBUSY): this
 * process has it open already (another IOMMU context), or which processes.
 */
void log_busy(const char *node, const char *what);
/* Whether this process has the node behind @fd open through another fd too
 * (a second context of ours holds the device). */
bool self_holds_other_fd(int fd);

#endif
