// SPDX-License-Identifier: MIT
/*
 * fpgactl -d PF sriov N [--vf-token UUID]: create N SR-IOV VFs of a PF
 * (0 removes them), list them, and with --vf-token set the token their
 * users must give (fpgactl_device_set_vf_token(); the PF must be bound to
 * vfio-pci, loaded with enable_sriov=1 to create VFs).
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "roots.h"
#include "util.h"

/* Print the VFs the PF has now: its virtfnK links. */
static void print_vfs(const char *bdf, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		char rel[96], path[4096], target[4096];
		ssize_t len;

		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/virtfn%" PRIu64, bdf, i);
		if (root_path(path, sizeof(path), sysfs_root(), rel))
			return;
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			return;
		target[len] = '\0';
		printf("vf %" PRIu64 ": %s\n", i, basename(target));
	}
}

static int run_sriov(const struct invocation *inv)
{
	struct fpgactl_device *pf;
	char bdf[FPGACTL_BDF_LEN];
	uint64_t n;
	int err, status = require_device(inv, bdf);

	if (status)
		return status;
	status = parse_number_arg("sriov", "VF count", inv->argv[0], 65535, &n);
	if (!status && inv->vf_token && !vf_token_valid(inv->vf_token))
		return usage_error("sriov", "--vf-token '%s' is not a UUID "
				   "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx; uuidgen makes one)",
				   inv->vf_token);
	if (status)
		return status;
	err = fpgactl_pci_sriov_set_numvfs(bdf, (unsigned int)n);
	if (err)
		return failure("sriov", "%s: cannot set %" PRIu64 " VFs: %s (the message "
			       "above says why)", bdf, n, errno_text(err));
	printf("%s: %" PRIu64 " VFs\n", bdf, n);
	print_vfs(bdf, n);
	if (!inv->vf_token)
		return STATUS_OK;
	/* Without the token first: a PF whose VFs are not in use needs none
	 * (vfio_pci_validate_vf_token()); with it when they are. */
	pf = fpgactl_device_open(bdf, NULL, &err);
	if (!pf && err == -EACCES)
		pf = fpgactl_device_open(bdf, &(struct fpgactl_open_opts){
			.flags = FPGACTL_OPEN_VF_TOKEN, .vf_token = inv->vf_token }, &err);
	if (!pf)
		return failure("sriov", "cannot open %s: %s", bdf, errno_text(err));
	err = fpgactl_device_set_vf_token(pf, inv->vf_token);
	fpgactl_device_close(pf);
	if (err)
		return failure("sriov", "%s: cannot set the VF token: %s", bdf,
			       errno_text(err));
	printf("%s: VF token set; open the VFs with --vf-token %s\n", bdf, inv->vf_token);
	return STATUS_OK;
}

const struct command cmd_sriov = {
	.name = "sriov",
	.args = "N",
	.summary = "create N SR-IOV VFs of a PF (0 removes them); set their VF token",
	.details = "Writes sriov_numvfs (0 first when VFs exist) and lists the VFs.  A PF\n"
		   "bound to vfio-pci creates VFs only when vfio-pci has enable_sriov=1\n"
		   "(echo 1 > /sys/module/vfio_pci/parameters/enable_sriov); its VFs are\n"
		   "bound to vfio-pci and open only with the PF's VF token: --vf-token UUID\n"
		   "sets it (the PF is opened for that), and other commands take the same\n"
		   "--vf-token to open a VF.  Run as root.\n",
	.options = OPT_DEVICE | OPT_VF_TOKEN,
	.min_args = 1,
	.max_args = 1,
	.run = run_sriov,
};
