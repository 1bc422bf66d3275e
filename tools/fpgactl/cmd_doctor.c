// SPDX-License-Identifier: MIT
/*
 * fpgactl doctor: is this machine set up for VFIO?  One line per check,
 * with the fix when something is wrong.  The checks look at the same sysfs
 * and /dev roots as the library.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "roots.h"
#include "util.h"

/* Below this locked-memory limit, DMA buffers of a useful size cannot be mapped. */
#define MEMLOCK_WARN_BYTES (64ull << 20)

enum verdict { VERDICT_OK, VERDICT_INFO, VERDICT_WARN, VERDICT_FAIL };

static const char *const verdict_names[] = { "ok", "info", "warn", "FAIL" };

/* Outcome of all checks so far. */
struct doctor {
	bool blocked; /* a check failed: VFIO cannot be used */
};

/* Print one check: verdict, topic, finding, and the fix when there is one. */
__attribute__((format(printf, 5, 6)))
static void report(struct doctor *doc, enum verdict verdict, const char *topic,
		   const char *fix, const char *fmt, ...)
{
	va_list ap;

	printf("%-4s  %-12s ", verdict_names[verdict], topic);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (fix)
		printf("; fix: %s", fix);
	putchar('\n');
	if (verdict == VERDICT_FAIL)
		doc->blocked = true;
}

/* Entries of a directory, without "." and ".."; -1 when it cannot be read. */
static int count_entries(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *ent;
	int count = 0;

	if (!dir)
		return -1;
	while ((ent = readdir(dir)))
		if (strcmp(ent->d_name, ".") && strcmp(ent->d_name, ".."))
			count++;
	closedir(dir);
	return count;
}

static bool path_exists(const char *root, const char *rel)
{
	char path[4096];
	struct stat st;

	return !root_path(path, sizeof(path), root, rel) && !stat(path, &st);
}

static void check_iommu(struct doctor *doc)
{
	char path[4096];
	int groups = -1;

	if (!root_path(path, sizeof(path), sysfs_root(), "kernel/iommu_groups"))
		groups = count_entries(path);
	if (groups > 0)
		report(doc, VERDICT_OK, "iommu", NULL, "enabled (IOMMU groups: %d)", groups);
	else
		report(doc, VERDICT_FAIL, "iommu",
		       "enable VT-d / AMD-Vi in the firmware and add intel_iommu=on (Intel)"
		       " or amd_iommu=on (AMD), and iommu=pt, to the kernel command line",
		       "off: no IOMMU groups in %s", path);
}

static void check_vfio_module(struct doctor *doc)
{
	if (path_exists(sysfs_root(), "module/vfio_pci"))
		report(doc, VERDICT_OK, "vfio-pci", NULL, "module loaded");
	else
		report(doc, VERDICT_FAIL, "vfio-pci", "modprobe vfio-pci",
		       "module not loaded");
}

static void check_vfio_container(struct doctor *doc)
{
	const char *access_fix = "run as root, or give your user access to /dev/vfio"
				 " (udev rule or chown)";
	char path[4096];

	if (root_path(path, sizeof(path), dev_root(), "vfio/vfio")) {
		report(doc, VERDICT_FAIL, "/dev/vfio", NULL, "path too long");
		return;
	}
	if (!access(path, R_OK | W_OK)) {
		report(doc, VERDICT_OK, "/dev/vfio", NULL, "%s accessible", path);
		return;
	}
	if (errno != ENOENT) {
		report(doc, VERDICT_FAIL, "/dev/vfio", access_fix, "%s: %s", path,
		       strerror(errno));
		return;
	}
	if (path_exists(dev_root(), "iommu")) {
		report(doc, VERDICT_WARN, "/dev/vfio", "modprobe vfio-pci",
		       "%s missing (only the iommufd backend can work)", path);
		return;
	}
	report(doc, VERDICT_FAIL, "/dev/vfio", "modprobe vfio-pci", "%s missing", path);
}

static void check_iommufd(struct doctor *doc)
{
	if (path_exists(dev_root(), "iommu"))
		report(doc, VERDICT_INFO, "iommufd", NULL,
		       "/dev/iommu present: iommufd is used for devices with a VFIO cdev");
	else
		report(doc, VERDICT_INFO, "iommufd", NULL,
		       "no /dev/iommu: the legacy VFIO container is used");
}

static void check_memlock(struct doctor *doc)
{
	const char *fix = "ulimit -l unlimited, or a memlock line in /etc/security/limits.conf";
	struct rlimit lim;
	char size[32];

	if (getrlimit(RLIMIT_MEMLOCK, &lim)) {
		report(doc, VERDICT_WARN, "memlock", NULL, "cannot read RLIMIT_MEMLOCK: %s",
		       strerror(errno));
		return;
	}
	if (lim.rlim_cur == RLIM_INFINITY) {
		report(doc, VERDICT_INFO, "memlock", NULL, "RLIMIT_MEMLOCK unlimited");
		return;
	}
	format_size(size, sizeof(size), lim.rlim_cur);
	if (geteuid() && lim.rlim_cur < MEMLOCK_WARN_BYTES) {
		report(doc, VERDICT_WARN, "memlock", fix,
		       "RLIMIT_MEMLOCK is %s: too small for DMA buffers", size);
		return;
	}
	report(doc, VERDICT_INFO, "memlock", NULL, "RLIMIT_MEMLOCK is %s%s", size,
	       geteuid() ? "" : " (root is not limited)");
}

static void check_device(struct doctor *doc, const char *bdf)
{
	struct fpgactl_pci_dev dev;
	int err = fpgactl_pci_lookup(bdf, &dev);

	if (err == -ENODEV) {
		report(doc, VERDICT_FAIL, bdf, "check the address with fpgactl list",
		       "no such PCI device");
		return;
	}
	if (err) {
		report(doc, VERDICT_FAIL, bdf, NULL, "cannot read sysfs: %s",
		       errno_text(err));
		return;
	}
	if (dev.vfio_state == FPGACTL_VFIO_READY) {
		report(doc, VERDICT_OK, bdf, NULL, "ready for VFIO");
		return;
	}
	report(doc, VERDICT_FAIL, bdf, NULL, "%s: %s",
	       fpgactl_vfio_state_name(dev.vfio_state), dev.vfio_reason);
}

static int run_doctor(const struct invocation *inv)
{
	struct doctor doc = { 0 };
	char bdf[FPGACTL_BDF_LEN];

	if (inv->device && parse_bdf_arg("doctor", inv->device, bdf))
		return STATUS_USAGE;
	check_iommu(&doc);
	check_vfio_module(&doc);
	check_vfio_container(&doc);
	check_iommufd(&doc);
	check_memlock(&doc);
	if (inv->device)
		check_device(&doc, bdf);
	return doc.blocked ? STATUS_FAILED : STATUS_OK;
}

const struct command cmd_doctor = {
	.name = "doctor",
	.args = "",
	.summary = "check that this machine is set up for VFIO",
	.details = "One line per check: ok, info, warn or FAIL, with the fix.  With -d,\n"
		   "also checks that the device can be opened.  Exits 1 when something\n"
		   "blocks the use of VFIO.\n",
	.options = OPT_DEVICE,
	.min_args = 0,
	.max_args = 0,
	.run = run_doctor,
};
