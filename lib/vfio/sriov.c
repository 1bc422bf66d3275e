// SPDX-License-Identifier: MIT
/*
 * SR-IOV: VF tokens and creating VFs.
 *
 * vfio-pci gives every SR-IOV PF it drives a random VF token
 * (drivers/vfio/pci/vfio_pci_core.c: vfio_pci_vf_init()).  A VF of such a
 * PF opens only with that token (vfio_pci_validate_vf_token(): EACCES
 * without it, EACCES when wrong), passed as "BDF vf_token=UUID" to
 * VFIO_GROUP_GET_DEVICE_FD, or, from Linux 6.17 on, in
 * VFIO_DEVICE_BIND_IOMMUFD with VFIO_DEVICE_BIND_FLAG_TOKEN (6.12's uapi has
 * no way to pass it through the cdev).  The PF's owner replaces the random
 * token with one it knows through VFIO_DEVICE_FEATURE(SET | PCI_VF_TOKEN)
 * (vfio_pci_core_feature_token(); ENOTTY for a device that is not an
 * SR-IOV PF), or by opening the PF with a token while no VF is in use.
 * A token given for a device that is neither is EINVAL.
 *
 * VFs are created by writing sriov_numvfs (drivers/pci/iov.c:
 * sriov_numvfs_store(): EBUSY to change a non-zero count other than to 0,
 * ERANGE above sriov_totalvfs, ENOENT without a driver or when the driver's
 * sriov_configure refuses: vfio-pci does unless loaded with enable_sriov=1,
 * drivers/vfio/pci/vfio_pci.c: vfio_pci_sriov_configure()).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/core.h"
#include "vfio/vfio.h"

#define UUID_LEN 36

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", hex digits, to 16 bytes. */
static bool parse_uuid(const char *s, uint8_t out[16])
{
	size_t n = 0;

	if (!s || strlen(s) != UUID_LEN)
		return false;
	for (size_t i = 0; i < UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash != (s[i] == '-') || (!dash && !isxdigit((unsigned char)s[i])))
			return false;
	}
	for (size_t i = 0; i < UUID_LEN; i += (s[i] == '-') ? 1 : 2) {
		if (s[i] == '-')
			continue;
		char hex[3] = { s[i], s[i + 1], '\0' };

		out[n++] = (uint8_t)strtoul(hex, NULL, 16);
	}
	return n == 16;
}

int sriov_open_token(struct fpgactl_device *dev, const struct fpgactl_open_opts *opts)
{
	uint8_t bytes[16];

	dev->vf_token[0] = '\0';
	if (!opts || !(opts->flags & FPGACTL_OPEN_VF_TOKEN))
		return 0;
	if (!parse_uuid(opts->vf_token, bytes)) {
		log_err("%s: VF token '%.64s' is not a UUID: write it as "
			"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (uuidgen makes one)",
			dev->bdf, opts->vf_token ? opts->vf_token : "(null)");
		return -EINVAL;
	}
	snprintf(dev->vf_token, sizeof(dev->vf_token), "%s", opts->vf_token);
	return 0;
}

void sriov_device_name(const struct fpgactl_device *dev, char *buf, size_t size)
{
	if (dev->vf_token[0])
		snprintf(buf, size, "%s vf_token=%s", dev->bdf, dev->vf_token);
	else
		snprintf(buf, size, "%s", dev->bdf);
}

bool sriov_token_bytes(const struct fpgactl_device *dev, uint8_t out[16])
{
	return dev->vf_token[0] && parse_uuid(dev->vf_token, out);
}

FPGACTL_EXPORT int fpgactl_device_set_vf_token(struct fpgactl_device *pf,
					       const char *uuid)
{
	struct {
		struct vfio_device_feature hdr;
		uint8_t uuid[16];
	} feat = { .hdr = { .argsz = sizeof(feat),
			    .flags = VFIO_DEVICE_FEATURE_SET |
				     VFIO_DEVICE_FEATURE_PCI_VF_TOKEN } };
	int ret;

	if (!parse_uuid(uuid, feat.uuid)) {
		log_err("%s: VF token '%.64s' is not a UUID: write it as "
			"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (uuidgen makes one)",
			pf->bdf, uuid ? uuid : "(null)");
		return -EINVAL;
	}
	if (pf->ops != &vfio_device_ops) {
		log_err("%s: the model has no SR-IOV", pf->bdf);
		return -ENOTTY;
	}
	ret = xioctl(pf->fd, VFIO_DEVICE_FEATURE, &feat);
	if (ret == -ENOTTY)
		log_err("%s: cannot set a VF token: not an SR-IOV PF driven by "
			"vfio-pci (no SR-IOV capability, or a kernel before 5.7)",
			pf->bdf);
	else if (ret)
		log_err("%s: VFIO_DEVICE_FEATURE(PCI_VF_TOKEN) failed: %s", pf->bdf,
			strerror(-ret));
	return ret;
}

static int write_numvfs(const char *bdf, unsigned int n)
{
	char val[16];

	snprintf(val, sizeof(val), "%u", n);
	return sysfs_write(val, "bus/pci/devices/%s/sriov_numvfs", bdf);
}

static void explain_numvfs(const char *bdf, unsigned int n, long total, int ret)
{
	char drv[64] = "";

	sysfs_link_name(drv, sizeof(drv), "bus/pci/devices/%s/driver", bdf);
	if (ret == -ENOENT && !strcmp(drv, "vfio-pci"))
		log_err("%s: vfio-pci creates VFs only when loaded with "
			"enable_sriov=1: echo 1 > /sys/module/vfio_pci/parameters/"
			"enable_sriov (or modprobe vfio-pci enable_sriov=1)", bdf);
	else if (ret == -ENOENT)
		log_err("%s: its driver (%s) does not create VFs: bind the PF to "
			"a driver that does, or to vfio-pci with enable_sriov=1", bdf,
			drv[0] ? drv : "none");
	else if (ret == -EBUSY)
		log_err("%s: cannot change the VFs while they are in use (open "
			"through VFIO, or bound to a driver in use): close them first",
			bdf);
	else if (ret == -EACCES || ret == -EPERM)
		log_err("%s: writing sriov_numvfs needs root", bdf);
	else
		log_err("%s: setting %u VFs (of %ld) failed: %s", bdf, n, total,
			strerror(-ret));
}

FPGACTL_EXPORT int fpgactl_pci_sriov_set_numvfs(const char *bdf, unsigned int numvfs)
{
	long total = 0, cur = 0;
	int ret = sysfs_read_long(&total, "bus/pci/devices/%s/sriov_totalvfs", bdf);

	if (ret == -ENOENT && sysfs_read_long(&cur, "bus/pci/devices/%s/vendor", bdf)) {
		log_err("%s: no such PCI device: check the address with fpgactl list", bdf);
		return -ENODEV;
	}
	if (ret == -ENOENT || (!ret && total <= 0)) {
		log_err("%s: not an SR-IOV physical function (no sriov_totalvfs)", bdf);
		return -EOPNOTSUPP;
	}
	if (!ret && numvfs > total) {
		log_err("%s: %u VFs asked for, the device offers %ld", bdf, numvfs, total);
		return -ERANGE;
	}
	if (!ret)
		ret = sysfs_read_long(&cur, "bus/pci/devices/%s/sriov_numvfs", bdf);
	if (!ret && cur == (long)numvfs)
		return 0;
	if (!ret && cur && numvfs)
		ret = write_numvfs(bdf, 0);
	if (!ret)
		ret = write_numvfs(bdf, numvfs);
	if (ret)
		explain_numvfs(bdf, numvfs, total, ret);
	return ret;
}
