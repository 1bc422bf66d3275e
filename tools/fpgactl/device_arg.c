// SPDX-License-Identifier: MIT
#include "device_arg.h"

#include "util.h"

int parse_bdf_arg(const char *cmd, const char *text, char bdf[FPGACTL_BDF_LEN])
{
	if (fpgactl_pci_parse_bdf(text, bdf))
		return usage_error(cmd, "'%s' is not a PCI address (expected dddd:bb:dd.f or bb:dd.f)",
				   text);
	return STATUS_OK;
}

int require_device(const struct invocation *inv, char bdf[FPGACTL_BDF_LEN])
{
	if (!inv->device)
		return usage_error(inv->cmd->name, "no device given (use -d DEVICE)");
	return parse_bdf_arg(inv->cmd->name, inv->device, bdf);
}

struct fpgactl_device *open_device(const struct invocation *inv,
				   const char *bdf)
{
	int err = 0;
	struct fpgactl_device *dev = fpgactl_device_open(bdf, NULL, &err);

	if (!dev)
		failure(inv->cmd->name, "cannot open %s: %s", bdf, errno_text(err));
	return dev;
}
