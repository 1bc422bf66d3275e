// SPDX-License-Identifier: MIT
/*
 * Built outside the source tree against the installed library, found
 * through pkg-config: checks that the installed headers compile on their own
 * and that the installed library links and loads.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <fpgactl.h>

int main(void)
{
	char bdf[FPGACTL_BDF_LEN];
	int err = 0;

	if (fpgactl_pci_parse_bdf("3:0.1", bdf) || strcmp(bdf, "0000:03:00.1")) {
		fprintf(stderr, "parse_bdf gave '%s'\n", bdf);
		return 1;
	}
	/* A malformed address must fail with -EINVAL and no device. */
	if (fpgactl_device_open("nonsense", NULL, &err) || err != -EINVAL) {
		fprintf(stderr, "device_open(nonsense): err %d\n", err);
		return 1;
	}
	printf("consumer: libfpgactl %s via pkg-config: ok\n", fpgactl_version());
	return 0;
}
