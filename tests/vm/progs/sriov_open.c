// SPDX-License-Identifier: MIT
/*
 * sriov_open PF VF OTHER_VF TOKEN (guest test sriov): one process opens the
 * PF, sets the VF token, opens VF with it in the same IOMMU context and
 * reads config space through it; OTHER_VF without the token must
 * be refused (EACCES), and VF with a wrong token too.  One line per check;
 * exit 0 when all held.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <fpgactl.h>

static void log_line(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "lib: %s\n", msg);
}

static struct fpgactl_device *open_vf(const char *bdf, struct fpgactl_iommu *ctx,
				      const char *token, int *err)
{
	struct fpgactl_open_opts o = { .iommu = ctx, .vf_token = token,
				       .flags = token ? FPGACTL_OPEN_VF_TOKEN : 0 };

	return fpgactl_device_open(bdf, &o, err);
}

int main(int argc, char **argv)
{
	struct fpgactl_device *pf, *vf, *other;
	struct fpgactl_iommu *ctx;
	uint16_t class = 0;
	int err = 0, bad = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: sriov_open PF VF OTHER_VF TOKEN\n");
		return 2;
	}
	fpgactl_set_log(log_line, NULL, FPGACTL_LOG_WARNING);
	ctx = fpgactl_iommu_open(FPGACTL_IOMMU_LEGACY, &err);
	pf = ctx ? fpgactl_device_open(argv[1], &(struct fpgactl_open_opts){ .iommu = ctx },
				       &err) : NULL;
	if (!pf) {
		printf("FAIL open PF %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	err = fpgactl_device_set_vf_token(pf, argv[4]);
	printf("%s set token: %s\n", err ? "FAIL" : "ok", strerror(-err));
	bad |= err != 0;
	vf = open_vf(argv[2], ctx, argv[4], &err);
	/* Read through the VF's own device fd.  A VF's vendor and device ids
	 * read 0xffff (SR-IOV spec); QEMU 7.2's NVMe VFs, offline secondary
	 * controllers, read all-ones throughout, so the value is shown only. */
	if (vf && !fpgactl_config_read(vf, 0x0a, &class, sizeof(class)))
		printf("ok VF %s opened with the token, class 0x%04x\n", argv[2], class);
	else
		printf("FAIL VF %s with the token: %s\n", argv[2], strerror(-err));
	bad |= !vf;
	other = open_vf(argv[3], ctx, NULL, &err);
	printf("%s VF %s without a token: %s\n", !other && err == -EACCES ? "refused" : "FAIL",
	       argv[3], other ? "opened" : strerror(-err));
	bad |= other || err != -EACCES;
	fpgactl_device_close(other);
	other = open_vf(argv[3], ctx, "00000000-0000-0000-0000-000000000000", &err);
	printf("%s VF %s with a wrong token: %s\n", !other && err == -EACCES ? "refused" : "FAIL",
	       argv[3], other ? "opened" : strerror(-err));
	bad |= other || err != -EACCES;
	fpgactl_device_close(other);
	fpgactl_device_close(vf);
	fpgactl_device_close(pf);
	fpgactl_iommu_close(ctx);
	return bad;
}
