// SPDX-License-Identifier: MIT
/* fpgactl reset: reset a device through VFIO. */
#include <errno.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "util.h"

static int run_reset(const struct invocation *inv)
{
	struct fpgactl_device *dev;
	char bdf[FPGACTL_DEVICE_NAME_MAX];
	int err, status = require_device_or_model(inv, bdf, sizeof(bdf));

	if (status)
		return status;
	status = open_device(inv, bdf, &dev);
	if (status)
		return status;
	err = fpgactl_device_reset(dev);
	fpgactl_device_close(dev);
	if (err == -ENOTTY)
		return failure("reset", "%s: the device cannot be reset (no FLR, PM or bus reset)",
			       bdf);
	if (err)
		return failure("reset", "%s: reset failed: %s", bdf, errno_text(err));
	printf("%s: reset\n", bdf);
	return STATUS_OK;
}

const struct command cmd_reset = {
	.name = "reset",
	.args = "",
	.summary = "reset a device",
	.details = "Uses VFIO_DEVICE_RESET (FLR, PM or slot reset) where the kernel offers\n"
		   "it, a secondary bus reset otherwise.  DEVICE may be 'model' (the\n"
		   "built-in software model, docs/model.md): a function reset.\n",
	.options = OPT_DEVICE,
	.model = true,
	.min_args = 0,
	.max_args = 0,
	.run = run_reset,
};
