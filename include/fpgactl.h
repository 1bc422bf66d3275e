/* SPDX-License-Identifier: MIT */
#ifndef FPGACTL_H
#define FPGACTL_H

/*
 * libfpgactl: drive a PCIe device from user space through VFIO.
 *
 * Conventions: every call that can fail returns 0 or a negative errno;
 * calls that return a pointer take an "int *err" for it.  Nothing prints:
 * diagnostics go to the hook installed with fpgactl_set_log().
 */

#include <fpgactl/log.h>
#include <fpgactl/pci.h>
#include <fpgactl/device.h>
#include <fpgactl/mmio.h>
#include <fpgactl/dma.h>
#include <fpgactl/share.h>
#include <fpgactl/irq.h>
#include <fpgactl/stream.h>
#include <fpgactl/queue.h>
#include <fpgactl/events.h>
#include <fpgactl/softcore.h>
#include <fpgactl/lifecycle.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * fpgactl_version() - library version
 *
 * Return: "MAJOR.MINOR.PATCH" of the library actually loaded.
 */
const char *fpgactl_version(void);

#ifdef __cplusplus
}
#endif
#endif
