// SPDX-License-Identifier: MIT
/*
 * fpgactl -d BDF grant USER [--memlock SIZE]: set a device up for a user
 * who is not root, in one command: bind it to vfio-pci when it is not,
 * give USER its VFIO group node (and, where the iommufd backend will be
 * used, /dev/iommu and the device's cdev), and print the locked-memory
 * limit USER needs for SIZE bytes of DMA memory, with the limits.conf line.
 *
 * The kernel creates /dev/vfio/N, /dev/iommu and /dev/vfio/devices/vfioN
 * owned by root, mode 0600; /dev/vfio/vfio is 0666.  Node permissions last
 * until the node is created again (a rebind, a reboot): docs/cli.md shows
 * the udev rule that makes them permanent.
 */
#include <errno.h>
#include <inttypes.h>
#include <dirent.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "roots.h"
#include "util.h"

#define HUGEPAGE ((uint64_t)2 << 20)

struct grant {
	char bdf[FPGACTL_BDF_LEN];
	const char *user;
	uid_t uid;
	uint64_t memlock;	/* 0: not given */
	int cdev;		/* N of vfioN, -1: none */
};

/* "64M", "1G", "65536", "512k": bytes, at most 1 TiB. */
static int parse_memlock(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
		return -EINVAL;
	if (!v || v > (UINT64_C(1) << 40) >> shift)
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_grant_args(const struct invocation *inv, struct grant *g)
{
	const struct passwd *pw;
	int status = require_device(inv, g->bdf);

	if (status)
		return status;
	g->user = inv->argv[0];
	pw = getpwnam(g->user);
	if (!pw)
		return usage_error("grant", "no user '%s' in the password database "
				   "(getent passwd %s): create it first", g->user, g->user);
	g->uid = pw->pw_uid;
	if (inv->memlock && parse_memlock(inv->memlock, &g->memlock))
		return usage_error("grant", "--memlock '%s': a size from 1 to 1T, such as "
				   "65536, 512k, 64M or 2G", inv->memlock);
	return STATUS_OK;
}

/* Bind to vfio-pci when needed; the device must then be ready. */
static int ensure_vfio(struct grant *g, struct fpgactl_pci_dev *pci)
{
	char prev[64] = "";
	int err = fpgactl_pci_lookup(g->bdf, pci);

	if (err == -ENODEV)
		return failure("grant", "%s: no such PCI device: check the address with "
			       "fpgactl list", g->bdf);
	if (err)
		return failure("grant", "%s: cannot read sysfs: %s", g->bdf, errno_text(err));
	if (strcmp(pci->driver, "vfio-pci")) {
		err = fpgactl_pci_bind_vfio(g->bdf, prev);
		if (err)
			return failure("grant", "%s: cannot bind it to vfio-pci: %s (the "
				       "message above says why)", g->bdf, errno_text(err));
		printf("bound:    %s to vfio-pci (was %s)\n", g->bdf, prev[0] ? prev : "unbound");
		err = fpgactl_pci_lookup(g->bdf, pci);
		if (err)
			return failure("grant", "%s: cannot read sysfs: %s", g->bdf,
				       errno_text(err));
	}
	if (pci->vfio_state != FPGACTL_VFIO_READY)
		return failure("grant", "%s: %s: %s", g->bdf,
			       fpgactl_vfio_state_name(pci->vfio_state), pci->vfio_reason);
	return STATUS_OK;
}

/* Make @rel under the /dev root USER's, read and write for its owner. */
static int give_node(const struct grant *g, const char *rel)
{
	char path[4096];
	struct stat st;

	if (root_path(path, sizeof(path), dev_root(), rel) || stat(path, &st))
		return failure("grant", "%s/%s: %s", dev_root(), rel, strerror(errno));
	if (chown(path, g->uid, (gid_t)-1) ||
	    chmod(path, (st.st_mode & 07777) | S_IRUSR | S_IWUSR))
		return failure("grant", "%s: %s: run grant as root", path, strerror(errno));
	printf("granted:  %s to %s (owner, read/write)\n", path, g->user);
	return STATUS_OK;
}

/* The container node is world read/write as the kernel creates it. */
static int check_container(void)
{
	char path[4096];
	struct stat st;

	if (root_path(path, sizeof(path), dev_root(), "vfio/vfio") || stat(path, &st))
		return STATUS_OK;	/* iommufd only: nothing to check */
	if ((st.st_mode & 0006) == 0006)
		return STATUS_OK;
	if (chmod(path, (st.st_mode & 07777) | 0666))
		return failure("grant", "%s: %s: run grant as root", path, strerror(errno));
	printf("granted:  %s to everyone (mode 0666, as the kernel creates it)\n", path);
	return STATUS_OK;
}

/* N of the device's /dev/vfio/devices/vfioN, -1 without a cdev. */
static int cdev_index(const char *bdf)
{
	char path[4096], rel[128];
	struct dirent *ent;
	int n = -1;
	DIR *dir;

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/vfio-dev", bdf);
	if (root_path(path, sizeof(path), sysfs_root(), rel) || !(dir = opendir(path)))
		return -1;
	while ((ent = readdir(dir)))
		if (sscanf(ent->d_name, "vfio%d", &n) == 1)
			break;
	closedir(dir);
	return n;
}

/*
 * iommufd is what the library's automatic choice takes for this device:
 * FPGACTL_IOMMU (or --iommu, which sets it) when it names a backend
 * (lib/iommu/iommu_env.c), otherwise iommufd where /dev/iommu and the device's
 * cdev exist.
 */
static bool uses_iommufd(const struct grant *g)
{
	const char *forced = secure_getenv("FPGACTL_IOMMU");
	char path[4096];
	struct stat st;

	if (forced && !strcmp(forced, "legacy"))
		return false;
	return g->cdev >= 0 && !root_path(path, sizeof(path), dev_root(), "iommu") &&
	       !stat(path, &st);
}

static void print_memlock(const struct grant *g, bool iommufd)
{
	uint64_t need = (g->memlock + HUGEPAGE - 1) & ~(HUGEPAGE - 1);
	char size[32];

	if (!g->memlock) {
		printf("memlock:  give --memlock SIZE (the DMA memory %s will map) for the "
		       "limit to set\n", g->user);
		return;
	}
	format_size(size, sizeof(size), need);
	if (iommufd)
		printf("memlock:  %s needs RLIMIT_MEMLOCK >= %s: iommufd charges pinned "
		       "memory to the user, so all of %s's processes together\n",
		       g->user, size, g->user);
	else
		printf("memlock:  %s needs RLIMIT_MEMLOCK >= %s in each process that maps "
		       "DMA memory (the type1 IOMMU charges the process)\n", g->user, size);
	printf("limits:   add to /etc/security/limits.conf (then log in again):\n");
	printf("%s - memlock %" PRIu64 "\n", g->user, need >> 10);
}

static int run_grant(const struct invocation *inv)
{
	struct fpgactl_pci_dev pci;
	struct grant g = { .cdev = -1 };
	char rel[64];
	bool iommufd;
	int status = parse_grant_args(inv, &g);

	if (!status)
		status = ensure_vfio(&g, &pci);
	if (status)
		return status;
	snprintf(rel, sizeof(rel), "vfio/%d", pci.iommu_group);
	status = give_node(&g, rel);
	if (!status)
		status = check_container();
	g.cdev = cdev_index(g.bdf);
	iommufd = uses_iommufd(&g);
	if (!status && iommufd)
		status = give_node(&g, "iommu");
	if (!status && iommufd) {
		snprintf(rel, sizeof(rel), "vfio/devices/vfio%d", g.cdev);
		status = give_node(&g, rel);
	}
	if (status)
		return status;
	print_memlock(&g, iommufd);
	printf("note:     these permissions last until the device is bound again or "
	       "the machine restarts\n");
	return STATUS_OK;
}

const struct command cmd_grant = {
	.name = "grant",
	.args = "USER",
	.summary = "let a user who is not root use a device (bind, nodes, memlock)",
	.details = "Binds the device to vfio-pci when it is not, makes USER the owner of\n"
		   "its VFIO group node /dev/vfio/N (and of /dev/iommu and the device's\n"
		   "/dev/vfio/devices/vfioN where the iommufd backend will be used), and,\n"
		   "with --memlock SIZE (the DMA memory USER will map: 65536, 512k, 64M,\n"
		   "2G), prints the RLIMIT_MEMLOCK USER needs and the limits.conf line.\n"
		   "Run as root.  Exits 2 for an unknown user or a bad size (nothing\n"
		   "touched), 1 when a step fails.\n",
	.options = OPT_DEVICE | OPT_MEMLOCK,
	.min_args = 1,
	.max_args = 1,
	.run = run_grant,
};
