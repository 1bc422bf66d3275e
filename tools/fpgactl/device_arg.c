// SPDX-License-Identifier: MIT
#include "device_arg.h"

#include <string.h>

#include "util.h"

/* The software model, or a simulated device plugin (docs/simdev.md). */
bool is_model_name(const char *text)
{
	size_t len = strlen(MODEL_NAME);

	if (!strncmp(text, SIM_PREFIX, strlen(SIM_PREFIX)))
		return true;
	return !strncmp(text, MODEL_NAME, len) && (!text[len] || text[len] == ':');
}

int refuse_model(const char *cmd, const char *text)
{
	if (!text || !is_model_name(text))
		return STATUS_OK;
	return usage_error(cmd, "'%s' is the software model, not a PCI device: %s "
			   "works on PCI devices only", text, cmd);
}

int parse_bdf_arg(const char *cmd, const char *text, char bdf[FPGACTL_BDF_LEN])
{
	if (is_model_name(text))
		return refuse_model(cmd, text);
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

int parse_device_or_model(const char *cmd, const char *text, char *name, size_t size)
{
	char bdf[FPGACTL_BDF_LEN];

	if (size > FPGACTL_DEVICE_NAME_MAX)
		size = FPGACTL_DEVICE_NAME_MAX;
	if (!is_model_name(text)) {
		if (fpgactl_pci_parse_bdf(text, bdf))
			return usage_error(cmd, "'%s' is not a PCI address (expected dddd:bb:dd.f "
					   "or bb:dd.f) nor 'model[:OPTIONS]' nor "
					   "'sim:/path/plugin.so[:OPTIONS]'", text);
		text = bdf; /* canonical */
	}
	if (strlen(text) >= size)
		return usage_error(cmd, "device name too long (%zu characters, at most %zu)",
				   strlen(text), size - 1);
	memcpy(name, text, strlen(text) + 1);
	return STATUS_OK;
}

int require_device_or_model(const struct invocation *inv, char *name, size_t size)
{
	if (!inv->device)
		return usage_error(inv->cmd->name, "no device given (use -d DEVICE)");
	return parse_device_or_model(inv->cmd->name, inv->device, name, size);
}

int open_device(const struct invocation *inv, const char *name, struct fpgactl_device **dev)
{
	int err = 0;

	*dev = fpgactl_device_open(name, NULL, &err);
	if (*dev)
		return STATUS_OK;
	/* A model spec the library refuses is the user's input, and its one
	 * line has said which option and why. */
	if (err == -EINVAL && is_model_name(name))
		return STATUS_USAGE;
	return failure(inv->cmd->name, "cannot open %s: %s", name, errno_text(err));
}
