// SPDX-License-Identifier: MIT
/*
 * fpgactl doctor: is this machine set up for VFIO?  One line per check,
 * with the fix when something is wrong.  The checks look at the same sysfs
 * and /dev roots as the library.
 *
 * What blocks (FAIL, exit 1): the IOMMU off, vfio-pci missing, the -d device
 * not usable.  What only hurts (warn): no free hugepages (4 KiB pages remain
 * possible with FPGACTL_DMA_ALLOW_SMALL_PAGES), a low RLIMIT_MEMLOCK, no IOVA
 * room or IOMMU mappings left.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "doctor.h"
#include "roots.h"
#include "util.h"

static const char *const verdict_names[] = { "ok", "info", "warn", "FAIL" };

void report(struct doctor *doc, enum verdict verdict, const char *topic,
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

bool path_exists(const char *root, const char *rel)
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
	char path[4096];

	if (!path_exists(dev_root(), "iommu")) {
		report(doc, VERDICT_INFO, "iommufd", NULL,
		       "no /dev/iommu: the legacy VFIO container is used");
		return;
	}
	if (!root_path(path, sizeof(path), dev_root(), "iommu") && access(path, R_OK | W_OK)) {
		report(doc, VERDICT_INFO, "iommufd",
		       "give your user read/write access to /dev/iommu (udev rule) to use iommufd",
		       "/dev/iommu present but not accessible (%s): the legacy VFIO container "
		       "is used", strerror(errno));
		return;
	}
	report(doc, VERDICT_INFO, "iommufd", NULL,
	       "/dev/iommu present: iommufd is used for devices with a VFIO cdev");
}

/* The -d device's VFIO state; true when it is ready to be opened. */
static bool check_device(struct doctor *doc, const char *bdf, int *numa_node)
{
	struct fpgactl_pci_dev dev;
	int err = fpgactl_pci_lookup(bdf, &dev);

	*numa_node = -1;
	if (err == -ENODEV) {
		report(doc, VERDICT_FAIL, bdf, "check the address with fpgactl list",
		       "no such PCI device");
		return false;
	}
	if (err) {
		report(doc, VERDICT_FAIL, bdf, NULL, "cannot read sysfs: %s",
		       errno_text(err));
		return false;
	}
	*numa_node = dev.numa_node;
	if (dev.vfio_state == FPGACTL_VFIO_READY) {
		report(doc, VERDICT_OK, bdf, NULL, "ready for VFIO");
		return true;
	}
	report(doc, VERDICT_FAIL, bdf, NULL, "%s: %s",
	       fpgactl_vfio_state_name(dev.vfio_state), dev.vfio_reason);
	return false;
}

/*
 * Open the ready device and ask the library for its DMA plan.  Return true
 * with *@plan filled in; false when the plan could not be had (reported).
 */
static bool plan_device_dma(struct doctor *doc, const char *bdf,
			    struct fpgactl_dma_plan *plan,
			    enum fpgactl_iommu_backend *backend)
{
	struct fpgactl_device_info info;
	int err = 0;
	struct fpgactl_device *dev = fpgactl_device_open(bdf, NULL, &err);

	if (!dev) {
		report(doc, VERDICT_FAIL, "open", NULL,
		       "%s cannot be opened through VFIO: %s (the message above says why)",
		       bdf, errno_text(err));
		return false;
	}
	err = fpgactl_dma_get_plan(dev, NULL, plan);
	*backend = fpgactl_device_get_info(dev, &info) ? FPGACTL_IOMMU_LEGACY : info.backend;
	fpgactl_device_close(dev);
	if (err) {
		report(doc, VERDICT_WARN, "dma", NULL, "no DMA plan for %s: %s", bdf,
		       errno_text(err));
		return false;
	}
	return true;
}

static int run_doctor(const struct invocation *inv)
{
	struct doctor doc = { 0 };
	enum fpgactl_iommu_backend backend = FPGACTL_IOMMU_LEGACY;
	struct fpgactl_dma_plan plan;
	char bdf[FPGACTL_BDF_LEN];
	bool ready = false, planned = false;
	int numa_node = -1;

	if (inv->device && parse_bdf_arg("doctor", inv->device, bdf))
		return STATUS_USAGE;
	check_iommu(&doc);
	check_vfio_module(&doc);
	check_vfio_container(&doc);
	check_iommufd(&doc);
	if (inv->device) {
		ready = check_device(&doc, bdf, &numa_node);
		if (ready)
			check_cdev(&doc, bdf);
	}
	check_hugepages(&doc, numa_node);
	check_hugetlbfs(&doc);
	if (ready) {
		planned = plan_device_dma(&doc, bdf, &plan, &backend);
		if (planned)
			check_dma_plan(&doc, &plan);
	}
	check_memlock(&doc, planned ? &plan : NULL, backend);
	return doc.blocked ? STATUS_FAILED : STATUS_OK;
}

const struct command cmd_doctor = {
	.name = "doctor",
	.args = "",
	.summary = "check that this machine is set up for VFIO",
	.details = "One line per check: ok, info, warn or FAIL, with the fix.  Checks the\n"
		   "IOMMU, vfio-pci, /dev/vfio, /dev/iommu, free hugepages per size and\n"
		   "NUMA node, hugetlbfs mounts and RLIMIT_MEMLOCK.  With -d, also that the\n"
		   "device can be opened, its VFIO cdev, and the library's DMA plan for it.\n"
		   "Exits 1 when something blocks the use of VFIO (IOMMU off, vfio-pci\n"
		   "missing, device unusable); a lack of hugepages or of locked memory is\n"
		   "a warning, since 4 KiB pages and smaller buffers still work.\n"
		   "FPGACTL_PROC_MOUNTS replaces /proc/mounts.\n",
	.options = OPT_DEVICE,
	.min_args = 0,
	.max_args = 0,
	.run = run_doctor,
};
