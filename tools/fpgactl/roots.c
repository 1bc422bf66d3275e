// SPDX-License-Identifier: MIT
#include "roots.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const char *env_or(const char *name, const char *fallback)
{
	const char *val = secure_getenv(name);

	return val && *val ? val : fallback;
}

const char *sysfs_root(void)
{
	return env_or("FPGACTL_SYSFS_ROOT", "/sys");
}

const char *dev_root(void)
{
	return env_or("FPGACTL_DEV_ROOT", "/dev");
}

int root_path(char *buf, size_t size, const char *root, const char *rel)
{
	int n = snprintf(buf, size, "%s/%s", root, rel);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
