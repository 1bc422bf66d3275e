// SPDX-License-Identifier: MIT
/*
 * edu_poll: wait on an edu register with fpgactl_reg_poll() until the
 * device goes away, for the unplug-during-poll test of the VM suite.
 *
 *	edu_poll [-t SECONDS] BDF
 *
 * Writes 0 to edu's liveness register (0x04), which then reads back its
 * inverse, 0xffffffff: a register that legitimately reads all ones.  Polls
 * it for 0, a value it never holds, so the poll only ends by timeout
 * (default 30 s) or by the device's removal, when
 * fpgactl_device_removed() finds config space reading all ones too; while
 * the device answers, each all-ones read must be taken as a real value.  Prints "polling" when the wait starts, then the outcome, the last
 * value read and how long the wait took, and what config space says after
 * (the vendor id, which vfio-pci answers from its copy, and the
 * class/revision dword, which it reads from the device).
 *
 * Exit status: 3 the poll returned -ENODEV; 0 the wait timed out (the
 * device stayed); 1 any other failure; 2 bad arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fpgactl.h>

#include "edu.h"

static void log_stderr(void *arg, int level, const char *msg)
{
	fprintf(stderr, "libfpgactl: %s\n", msg);
}

int main(int argc, char **argv)
{
	struct fpgactl_device *dev;
	uint64_t last = 0, t0, seconds = 30;
	uint32_t class_rev = 0;
	uint16_t vendor = 0;
	int err = 0, opt, ret;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't')
			return 2;
		seconds = strtoull(optarg, NULL, 10);
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: edu_poll [-t SECONDS] BDF\n");
		return 2;
	}
	fpgactl_set_log(log_stderr, NULL, FPGACTL_LOG_WARNING);
	dev = fpgactl_device_open(argv[optind], NULL, &err);
	if (!dev) {
		fprintf(stderr, "edu_poll: %s: %s\n", argv[optind], strerror(-err));
		return 1;
	}
	ret = fpgactl_reg_write(dev, EDU_BAR, EDU_REG_LIVENESS, 4, 0);
	if (ret) {
		fprintf(stderr, "edu_poll: liveness write: %s\n", strerror(-ret));
		return 1;
	}
	printf("edu_poll: polling\n");
	fflush(stdout);
	t0 = now_ns();
	ret = fpgactl_reg_poll(dev, EDU_BAR, EDU_REG_LIVENESS, 4, UINT32_MAX, 0,
			       seconds * 1000000u, &last);
	printf("edu_poll: fpgactl_reg_poll: %s after %" PRIu64 " ms, last value 0x%08" PRIx64 "\n",
	       ret ? strerror(-ret) : "matched", (now_ns() - t0) / 1000000u, last);
	if (!fpgactl_config_read(dev, 0x00, &vendor, 2) &&
	    !fpgactl_config_read(dev, 0x08, &class_rev, 4))
		printf("edu_poll: config space: vendor 0x%04x, class/revision 0x%08x\n",
		       vendor, class_rev);
	fpgactl_device_close(dev);
	return ret == -ENODEV ? 3 : ret == -ETIMEDOUT ? 0 : 1;
}
