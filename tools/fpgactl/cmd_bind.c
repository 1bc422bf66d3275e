// SPDX-License-Identifier: MIT
/* fpgactl bind / unbind: hand a device to vfio-pci and back. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

#define MAX_HOLDERS 4
#define MAX_UNBIND_TIMEOUT_MS 86400000u	/* a day */
#define HOLDER_POLL_MS 50

/* "pid 1 (a), pid 2 (b) and 3 more": who holds @bdf open; 0 when nobody. */
static int holders(const char *bdf, char *text, size_t size)
{
	struct fpgactl_pci_holder h[MAX_HOLDERS];
	int n = fpgactl_pci_holders(bdf, h, MAX_HOLDERS);
	size_t len = 0;

	text[0] = '\0';
	for (int i = 0; i < n && i < MAX_HOLDERS; i++)
		len += (size_t)snprintf(text + len, size - len, "%spid %d (%s)", i ? ", " : "",
					h[i].pid, h[i].comm);
	if (n > MAX_HOLDERS)
		snprintf(text + len, size - len, " and %d more", n - MAX_HOLDERS);
	return n > 0 ? n : 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The kernel's unbind waits, uninterruptibly, until every user of the
 * device has closed it (vfio_unregister_group_dev(), which meanwhile sends
 * them the device request).  Say who they are; with --timeout-ms wait for
 * them here, where giving up leaves everything as it was.
 */
static int wait_for_holders(const struct invocation *inv, const char *bdf)
{
	uint64_t timeout_ms = 0, deadline;
	char text[256];
	int status;

	if (inv->timeout_ms) {
		status = parse_number_arg("unbind", "timeout-ms", inv->timeout_ms,
					  MAX_UNBIND_TIMEOUT_MS, &timeout_ms);
		if (status)
			return status;
	}
	if (!holders(bdf, text, sizeof(text)))
		return STATUS_OK;
	if (!inv->timeout_ms) {
		fprintf(stderr, "fpgactl: unbind: %s is in use by %s: waiting until it "
			"closes the device (the kernel asks it to; --timeout-ms N gives up "
			"instead)\n", bdf, text);
		return STATUS_OK;
	}
	fprintf(stderr, "fpgactl: unbind: %s is in use by %s: waiting up to %llu ms for "
		"it to close the device\n", bdf, text, (unsigned long long)timeout_ms);
	deadline = now_ms() + timeout_ms;
	while (holders(bdf, text, sizeof(text))) {
		if (now_ms() >= deadline)
			return failure("unbind", "%s is still in use by %s after %llu ms: nothing "
				       "was changed; stop it (or have it close the device) and "
				       "try again", bdf, text, (unsigned long long)timeout_ms);
		nanosleep(&(struct timespec){ .tv_nsec = HOLDER_POLL_MS * 1000000L }, NULL);
	}
	return STATUS_OK;
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
	status = wait_for_holders(inv, bdf);
	if (status)
		return status;
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
		   "BDF may be given with -d instead.  While a process holds the device\n"
		   "open the kernel waits for it; fpgactl names it, and with --timeout-ms\n"
		   "gives up (status 1, nothing changed) when it still does after N ms.\n",
	.options = OPT_DEVICE | OPT_TIMEOUT,
	.min_args = 0,
	.max_args = 2,
	.run = run_unbind,
};
