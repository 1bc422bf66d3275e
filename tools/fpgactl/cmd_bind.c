// SPDX-License-Identifier: MIT
/* fpgactl bind / unbind: hand a device to vfio-pci and back. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "util.h"

/*
 * The device of bind and unbind.  Without -d, the first argument is the
 * device.  With -d, the first argument is the device only when it is a PCI
 * address, and then it must be the same device.  *@next receives the index
 * of the first argument after the device.
 */
static int take_device(const struct invocation *inv, int *next,
		       char bdf[FPGACTL_BDF_LEN])
{
	const char *cmd = inv->cmd->name;
	char from_option[FPGACTL_BDF_LEN];
	int status;

	*next = 0;
	if (inv->device) {
		status = parse_bdf_arg(cmd, inv->device, from_option);
		if (status)
			return status;
		if (!inv->argc || fpgactl_pci_parse_bdf(inv->argv[0], bdf)) {
			memcpy(bdf, from_option, FPGACTL_BDF_LEN);
			return STATUS_OK;
		}
		*next = 1;
		if (strcmp(bdf, from_option))
			return usage_error(cmd, "two devices given: -d %s and %s",
					   inv->device, inv->argv[0]);
		return STATUS_OK;
	}
	if (!inv->argc)
		return usage_error(cmd, "no device given (usage: fpgactl %s %s)",
				   cmd, inv->cmd->args);
	*next = 1;
	return parse_bdf_arg(cmd, inv->argv[0], bdf);
}

/* The library's log hook has already explained the cause. */
static int report_error(const char *cmd, const char *bdf, int err)
{
	return failure(cmd, "%s: failed (%s)", bdf, errno_text(err));
}

static int run_bind(const struct invocation *inv)
{
	char bdf[FPGACTL_BDF_LEN], prev[64] = "";
	int next, err, status = take_device(inv, &next, bdf);

	if (status)
		return status;
	if (next < inv->argc)
		return usage_error("bind", "unexpected argument '%s'", inv->argv[next]);
	err = fpgactl_pci_bind_vfio(bdf, prev);
	if (err)
		return report_error("bind", bdf, err);
	if (!strcmp(prev, "vfio-pci"))
		printf("%s: already bound to vfio-pci\n", bdf);
	else
		printf("%s: bound to vfio-pci (was %s)\n", bdf,
		       *prev ? prev : "not bound");
	return STATUS_OK;
}

const struct command cmd_bind = {
	.name = "bind",
	.args = "[BDF]",
	.summary = "bind a device to vfio-pci",
	.details = "Unbinds the current driver, sets driver_override to vfio-pci and\n"
		   "probes the device again.  BDF may be given with -d instead.\n",
	.options = OPT_DEVICE,
	.min_args = 0,
	.max_args = 1,
	.run = run_bind,
};

/* Driver names are sysfs directory names: no '/', no blanks, no ':'. */
static bool is_driver_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || len >= 64)
		return false;
	for (; *name; name++)
		if (!isalnum((unsigned char)*name) && !strchr("_-.", *name))
			return false;
	return true;
}

static int run_unbind(const struct invocation *inv)
{
	char bdf[FPGACTL_BDF_LEN];
	const char *driver = NULL;
	int next, err, status = take_device(inv, &next, bdf);

	if (status)
		return status;
	if (next < inv->argc)
		driver = inv->argv[next++];
	if (next < inv->argc)
		return usage_error("unbind", "unexpected argument '%s'", inv->argv[next]);
	if (driver && !is_driver_name(driver))
		return usage_error("unbind", "'%s' is not a driver name", driver);
	err = fpgactl_pci_unbind_vfio(bdf, driver);
	if (err)
		return report_error("unbind", bdf, err);
	printf("%s: unbound from vfio-pci (probed for %s)\n", bdf,
	       driver ? driver : "any driver");
	return STATUS_OK;
}

const struct command cmd_unbind = {
	.name = "unbind",
	.args = "[BDF] [DRIVER]",
	.summary = "give a device back from vfio-pci to a host driver",
	.details = "Without DRIVER the kernel chooses the driver by probing.\n"
		   "BDF may be given with -d instead.\n",
	.options = OPT_DEVICE,
	.min_args = 0,
	.max_args = 2,
	.run = run_unbind,
};
