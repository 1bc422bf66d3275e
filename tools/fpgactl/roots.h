/* SPDX-License-Identifier: MIT */
/*
 * Where sysfs and /dev are: the same variables the library honours
 * (FPGACTL_SYSFS_ROOT, FPGACTL_DEV_ROOT), so that the tool's own checks look
 * at the same tree as the library.
 */
#ifndef FPGACTL_TOOL_ROOTS_H
#define FPGACTL_TOOL_ROOTS_H

#include <stddef.h>

/* "$FPGACTL_SYSFS_ROOT", or "/sys" when unset or empty. */
const char *sysfs_root(void);

/* "$FPGACTL_DEV_ROOT", or "/dev" when unset or empty. */
const char *dev_root(void);

/* "@root/@rel" into @buf.  Return 0, or -ENAMETOOLONG. */
int root_path(char *buf, size_t size, const char *root, const char *rel);

#endif
