// SPDX-License-Identifier: MIT
#include <sys/ioctl.h>

#include "config.h"
#include "core/core.h"

int xioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, request, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

FPGACTL_EXPORT const char *fpgactl_version(void)
{
	return FPGACTL_VERSION;
}
