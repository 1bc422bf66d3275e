// SPDX-License-Identifier: MIT
/*
 * Run with LD_PRELOAD=libmockvfio.so and
 * FPGACTL_MOCK_FAIL=open:/dev/vfio/7=EACCES: checks that the preloaded mock
 * answers VFIO ioctls on the fake tree (a regular file would say ENOTTY)
 * and applies the failures named in the environment.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "faketree.h"

static int failures;

static void check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "FAILED", what);
	failures += !ok;
}

int main(void)
{
	struct faketree *t = faketree_create();
	struct fake_dev_desc d;
	int container, group;

	if (!t) {
		perror("faketree_create");
		return 1;
	}
	fake_dev_default(&d, "0000:05:00.0");
	d.group = 7;
	d.driver = "vfio-pci";
	check(faketree_add_device(t, &d) == 0, "device added");
	container = open(faketree_path(t, "dev/vfio/vfio"), O_RDWR);
	check(container >= 0, "container opened");
	check(ioctl(container, VFIO_GET_API_VERSION) == VFIO_API_VERSION,
	      "VFIO_GET_API_VERSION answered by the mock");
	check(ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1,
	      "type1v2 offered");
	group = open(faketree_path(t, "dev/vfio/7"), O_RDWR);
	check(group < 0 && errno == EACCES, "FPGACTL_MOCK_FAIL applied to open");
	close(container);
	faketree_destroy(t);
	printf("%d passed, %d failed\n", 5 - failures, failures);
	return failures ? 1 : 0;
}
