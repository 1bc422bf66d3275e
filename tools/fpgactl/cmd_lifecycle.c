// SPDX-License-Identifier: MIT
/*
 * fpgactl reprogram / remove / rescan: load a new FPGA image with the host
 * running, take a device off the bus, bring devices back
 * (docs/lifecycle.md).
 */
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "util.h"

#define MAX_DEADLINE_S 3600

/* The kernel checks CAP_SYS_ADMIN for the bridge's config space and the
 * remove/rescan attributes are root's (drivers/pci/pci-sysfs.c). */
static bool has_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return geteuid() == 0;
	return data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
}

static int require_root(const char *cmd)
{
	if (has_sys_admin())
		return STATUS_OK;
	return failure(cmd, "needs root (CAP_SYS_ADMIN): it writes to /sys/bus/pci "
		       "(remove, rescan) and to the bridge's config space; run it "
		       "with sudo");
}

static int parse_ids(const char *text, uint16_t *vendor, uint16_t *device)
{
	const char *colon = text ? strchr(text, ':') : NULL;
	char part[8];
	uint64_t v, d;
	size_t n = colon ? (size_t)(colon - text) : 0;

	if (!colon || !n || n >= sizeof(part))
		goto bad;
	memcpy(part, text, n);
	part[n] = '\0';
	if (parse_uint(part, PARSE_HEX, UINT16_MAX, &v) ||
	    parse_uint(colon + 1, PARSE_HEX, UINT16_MAX, &d) || v == 0 || v == 0xffff)
		goto bad;
	*vendor = (uint16_t)v;
	*device = (uint16_t)d;
	return STATUS_OK;
bad:
	return usage_error("reprogram", "--expect '%s' is not VENDOR:DEVICE in hex "
			   "(e.g. 10ee:9038)", text);
}

/* PROGRAMMER must be something exec can run: checked before anything. */
static int check_programmer(const char *prog)
{
	char path[PATH_MAX];
	const char *dirs = getenv("PATH");

	if (!*prog)
		return usage_error("reprogram", "PROGRAMMER is empty");
	if (strchr(prog, '/')) {
		if (!access(prog, X_OK))
			return STATUS_OK;
		return usage_error("reprogram", "PROGRAMMER '%s' is not an executable "
				   "file", prog);
	}
	for (const char *p = dirs ? dirs : "/usr/bin:/bin"; p && *p;) {
		const char *end = strchr(p, ':');
		int len = end ? (int)(end - p) : (int)strlen(p);

		if (snprintf(path, sizeof(path), "%.*s/%s", len, p, prog) <
		    (int)sizeof(path) && !access(path, X_OK))
			return STATUS_OK;
		p = end ? end + 1 : NULL;
	}
	return usage_error("reprogram", "PROGRAMMER '%s' not found in PATH", prog);
}

struct run_ctx {
	char **argv;
	bool tty;
	const char *bdf;
};

/* The programming step: run PROGRAMMER and wait for it. */
static int run_programmer(void *arg)
{
	struct run_ctx *ctx = arg;
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		execvp(ctx->argv[0], ctx->argv);
		fprintf(stderr, "fpgactl: reprogram: cannot run %s: %s\n",
			ctx->argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	if (WIFEXITED(status))
		fprintf(stderr, "fpgactl: reprogram: %s exited with status %d\n",
			ctx->argv[0], WEXITSTATUS(status));
	else
		fprintf(stderr, "fpgactl: reprogram: %s was killed by signal %d\n",
			ctx->argv[0], WTERMSIG(status));
	return -EIO;
}

static void progress(void *arg, enum fpgactl_lc_step step)
{
	struct run_ctx *ctx = arg;

	if (ctx->tty)
		fprintf(stderr, "reprogram %s: %s...\n", ctx->bdf,
			fpgactl_lc_step_name(step));
}

static void print_result(const char *bdf, const struct fpgactl_lc_result *r)
{
	printf("%s: back as %04x:%04x behind %s, reopened %.1f ms after remove "
	       "(programmer %.1f ms, %u rescans)\n", bdf, r->vendor, r->device,
	       r->bridge, (double)r->remove_to_reopen_ns / 1e6,
	       (double)r->program_ns / 1e6, r->rescans);
	if (r->ids_changed)
		printf("%s: changed: %04x:%04x -> %04x:%04x\n", bdf, r->old_vendor,
		       r->old_device, r->vendor, r->device);
	for (unsigned int i = 0; i < 6; i++)
		if (r->old_bar_size[i] != r->bar_size[i])
			printf("%s: changed: BAR%u %llu -> %llu bytes\n", bdf, i,
			       (unsigned long long)r->old_bar_size[i],
			       (unsigned long long)r->bar_size[i]);
	printf("%s: bridge %s: AER surprise down %s, DPC %s, restored: %s\n", bdf,
	       r->bridge, r->aer_masked ? "masked" : "not masked (no AER)",
	       r->dpc_disabled ? "disabled" : "untouched",
	       r->masks_restored ? "yes" : "NO");
}

static int parse_deadline(const struct invocation *inv, unsigned int *ms)
{
	uint64_t s = 30;

	if (inv->deadline &&
	    parse_number_arg(inv->cmd->name, "--deadline", inv->deadline,
			     MAX_DEADLINE_S, &s))
		return STATUS_USAGE;
	if (!s)
		return usage_error(inv->cmd->name, "--deadline must be at least 1 second");
	*ms = (unsigned int)s * 1000;
	return STATUS_OK;
}

static int run_reprogram(const struct invocation *inv)
{
	struct fpgactl_lc_opts o = { .progress = progress };
	struct fpgactl_lc_result r;
	struct fpgactl_device *dev;
	char bdf[FPGACTL_BDF_LEN];
	struct run_ctx ctx = { .argv = inv->argv, .tty = isatty(STDERR_FILENO) };
	int err, status = require_device(inv, bdf);

	if (!status && inv->expect)
		status = parse_ids(inv->expect, &o.expect_vendor, &o.expect_device);
	if (!status)
		status = parse_deadline(inv, &o.timeout_ms);
	if (!status)
		status = check_programmer(inv->argv[0]);
	if (!status)
		status = require_root("reprogram");
	if (status)
		return status;
	status = open_device(inv, bdf, &dev);
	if (status)
		return status;
	ctx.bdf = bdf;
	o.program = run_programmer;
	o.arg = &ctx;
	err = fpgactl_device_reprogram(dev, &o, &r);
	fpgactl_device_close(dev);
	if (err)
		return failure("reprogram", "%s: failed at step '%s' (%s); bridge "
			       "error reporting restored: %s", bdf,
			       fpgactl_lc_step_name(r.failed_step), errno_text(err),
			       r.masks_restored ? "yes" : "NO");
	print_result(bdf, &r);
	return STATUS_OK;
}

static int run_remove(const struct invocation *inv)
{
	struct fpgactl_device *dev;
	char bdf[FPGACTL_BDF_LEN];
	int err, status = require_device(inv, bdf);

	if (!status)
		status = require_root("remove");
	if (!status)
		status = open_device(inv, bdf, &dev);
	if (status)
		return status;
	err = fpgactl_device_remove(dev);
	if (err)
		return failure("remove", "%s: failed (%s)", bdf, errno_text(err));
	printf("%s: removed; bring it back with 'fpgactl rescan'\n", bdf);
	return STATUS_OK;
}

static int run_rescan(const struct invocation *inv)
{
	char bridge[FPGACTL_BDF_LEN];
	int err, status = STATUS_OK;

	if (inv->argc)
		status = parse_bdf_arg("rescan", inv->argv[0], bridge);
	if (!status)
		status = require_root("rescan");
	if (status)
		return status;
	err = fpgactl_pci_rescan(inv->argc ? bridge : NULL);
	if (err)
		return failure("rescan", "failed (%s)", errno_text(err));
	printf("rescanned %s\n", inv->argc ? bridge : "every PCI bus");
	return STATUS_OK;
}

const struct command cmd_reprogram = {
	.name = "reprogram",
	.args = "-- PROGRAMMER [ARGS...]",
	.summary = "load a new FPGA image: remove, program, reset, rescan, reopen",
	.details = "Quiesces the device, masks surprise down in the upstream bridge's\n"
		   "AER (or disables its DPC trigger), removes every function of the\n"
		   "slot, runs PROGRAMMER (e.g. a JTAG loader) and waits for it, resets\n"
		   "the bridge's secondary bus, rescans until the device is back,\n"
		   "checks its ids (--expect for new ones) and BARs, binds it to\n"
		   "vfio-pci and opens it again; the bridge is restored whatever\n"
		   "happens.  Needs root.  Exit 1 names the step that failed.\n"
		   "See docs/lifecycle.md.\n",
	.options = OPT_DEVICE | OPT_EXPECT | OPT_DEADLINE,
	.min_args = 1,
	.max_args = INT_MAX,
	.run = run_reprogram,
};

const struct command cmd_remove = {
	.name = "remove",
	.args = "",
	.summary = "take a device off the bus (sysfs remove of its slot's functions)",
	.details = "Refuses a device open in another process.  Nothing is masked:\n"
		   "to load an image, use reprogram.  Needs root.\n",
	.options = OPT_DEVICE,
	.min_args = 0,
	.max_args = 0,
	.run = run_remove,
};

const struct command cmd_rescan = {
	.name = "rescan",
	.args = "[BRIDGE]",
	.summary = "rescan below a bridge, or every PCI bus",
	.details = "Below BRIDGE the kernel also resizes the bridge's windows.\n"
		   "Needs root.\n",
	.min_args = 0,
	.max_args = 1,
	.run = run_rescan,
};
