// SPDX-License-Identifier: MIT
#include "device_arg.h"

#include <ctype.h>
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
	struct fpgactl_open_opts opts = { .flags = FPGACTL_OPEN_VF_TOKEN,
					  .vf_token = inv->vf_token };
	int err = 0;

	if (inv->vf_token && !vf_token_valid(inv->vf_token))
		return usage_error(inv->cmd->name, "--vf-token '%s' is not a UUID "
				   "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", inv->vf_token);
	*dev = fpgactl_device_open(name, inv->vf_token ? &opts : NULL, &err);
	if (*dev)
		return STATUS_OK;
	/* A model spec the library refuses is the user's input, and its one
	 * line has said which option and why. */
	if (err == -EINVAL && is_model_name(name))
		return STATUS_USAGE;
	if (err == -EINVAL && inv->vf_token)
		return failure(inv->cmd->name, "cannot open %s with that VF token: %s",
			       name, errno_text(err));
	return failure(inv->cmd->name, "cannot open %s: %s", name, errno_text(err));
}

bool vf_token_valid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash != (s[i] == '-') || (!dash && !isxdigit((unsigned char)s[i])))
			return false;
	}
	return true;
}
