// SPDX-License-Identifier: MIT
/*
 * fpgactl doctor, the DMA memory checks: free hugepages per size and NUMA
 * node, hugetlbfs mounts, the device's VFIO cdev, the library's DMA plan and
 * RLIMIT_MEMLOCK.  None of them blocks VFIO: they warn.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <mntent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "doctor.h"
#include "roots.h"
#include "util.h"

#define HUGEPAGE_DIR "kernel/mm/hugepages"
#define NODE_DIR "devices/system/node"
#define DEFAULT_PAGE_KB (FPGACTL_PAGE_2M >> 10)
#define MAX_NODES 1024
#define MAX_SIZES 16

static const char memlock_fix[] =
	"ulimit -l unlimited, a memlock line in /etc/security/limits.conf, "
	"LimitMEMLOCK= for a systemd service, or CAP_IPC_LOCK";

static bool isdigit_ascii(char c)
{
	return c >= '0' && c <= '9';
}

/* A number from a one-line file; -errno when missing or not a number. */
static long read_long_file(const char *path)
{
	char buf[64], *end;
	FILE *f = fopen(path, "re");
	long val;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	errno = 0;
	val = strtol(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || val < 0)
		return -EINVAL;
	return val;
}

/* "$SYSFS/" followed by the formatted text, read as a number. */
__attribute__((format(printf, 1, 2)))
static long read_sysfs_long(const char *fmt, ...)
{
	char rel[512], path[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel) || root_path(path, sizeof(path), sysfs_root(), rel))
		return -ENAMETOOLONG;
	return read_long_file(path);
}

/*
 * Numbers N of the entries "@prefix N @suffix" of a directory, sorted;
 * return how many (at most @max), -errno when the directory cannot be read.
 */
static int numbered_entries(const char *path, const char *prefix, const char *suffix,
			    unsigned long *out, int max)
{
	size_t plen = strlen(prefix);
	DIR *dir = opendir(path);
	struct dirent *ent;
	int n = 0;

	if (!dir)
		return -errno;
	while ((ent = readdir(dir)) && n < max) {
		char *end;
		unsigned long val;

		if (strncmp(ent->d_name, prefix, plen) || !isdigit_ascii(ent->d_name[plen]))
			continue;
		val = strtoul(ent->d_name + plen, &end, 10);
		if (!strcmp(end, suffix))
			out[n++] = val;
	}
	closedir(dir);
	for (int i = 1; i < n; i++)	/* insertion sort: a handful of entries */
		for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
			unsigned long t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

/* "2M" for 2048 kB: how the topic names a page size. */
static void short_size(char *buf, size_t size, unsigned long kb)
{
	if (kb >= 1048576 && !(kb % 1048576))
		snprintf(buf, size, "%luG", kb / 1048576);
	else if (kb >= 1024 && !(kb % 1024))
		snprintf(buf, size, "%luM", kb / 1024);
	else
		snprintf(buf, size, "%luK", kb);
}

/**
 * struct hugepage_size - the pages of one size
 * @kb: page size in KiB
 * @total: nr_hugepages, all nodes
 * @free: free_hugepages, all nodes
 * @by_node: "node0: 12, node1: 0" or ""
 * @device_node_free: free ones on the device's node; -1 when unknown
 */
struct hugepage_size {
	unsigned long kb;
	long total;
	long free;
	char by_node[512];
	long device_node_free;
};

static void gather_nodes(struct hugepage_size *hp, const unsigned long *nodes, int nr_nodes,
			 int device_node)
{
	size_t used = 0;

	hp->by_node[0] = '\0';
	hp->device_node_free = -1;
	for (int i = 0; i < nr_nodes; i++) {
		long free = read_sysfs_long(NODE_DIR "/node%lu/hugepages/hugepages-%lukB/"
					    "free_hugepages", nodes[i], hp->kb);
		int n;

		if (free < 0)
			continue;
		if (device_node >= 0 && nodes[i] == (unsigned long)device_node)
			hp->device_node_free = free;
		n = snprintf(hp->by_node + used, sizeof(hp->by_node) - used, "%snode%lu: %ld",
			     used ? ", " : "", nodes[i], free);
		if (n < 0 || (size_t)n >= sizeof(hp->by_node) - used)
			break;	/* a very wide machine: the line is long enough */
		used += (size_t)n;
	}
}

static void report_default_size(struct doctor *doc, const char *topic,
				const struct hugepage_size *hp, const char *counts,
				int device_node)
{
	char fix[512];

	if (!hp->free) {
		snprintf(fix, sizeof(fix), "echo 512 > %s/" HUGEPAGE_DIR "/hugepages-%lukB/"
			 "nr_hugepages (1 GiB of them), or hugepages=512 on the kernel command line",
			 sysfs_root(), hp->kb);
		report(doc, VERDICT_WARN, topic, fix,
		       "%s: DMA buffers with the default 2 MiB pages fail; 4 KiB pages "
		       "only with --small-pages (FPGACTL_DMA_ALLOW_SMALL_PAGES)", counts);
		return;
	}
	if (!hp->device_node_free) {
		snprintf(fix, sizeof(fix), "echo 512 > %s/" NODE_DIR "/node%d/hugepages/"
			 "hugepages-%lukB/nr_hugepages", sysfs_root(), device_node, hp->kb);
		report(doc, VERDICT_WARN, topic, fix,
		       "%s: none free on node %d, the device's node: its DMA buffers fail "
		       "there", counts, device_node);
		return;
	}
	report(doc, VERDICT_OK, topic, NULL, "%s", counts);
}

static void report_size(struct doctor *doc, const struct hugepage_size *hp, int device_node)
{
	char topic[48], name[24], size[32], counts[640];

	short_size(name, sizeof(name), hp->kb);
	snprintf(topic, sizeof(topic), "hugepages-%s", name);
	format_size(size, sizeof(size), (uint64_t)hp->kb << 10);
	snprintf(counts, sizeof(counts), "%s pages: %ld free of %ld%s%s%s", size, hp->free,
		 hp->total, *hp->by_node ? " (" : "", hp->by_node, *hp->by_node ? ")" : "");
	if (hp->kb == DEFAULT_PAGE_KB)
		report_default_size(doc, topic, hp, counts, device_node);
	else if (hp->kb != (FPGACTL_PAGE_1G >> 10))
		report(doc, VERDICT_INFO, topic, NULL, "%s: a size libfpgactl does not use", counts);
	else if (hp->free > 0)
		report(doc, VERDICT_OK, topic, NULL, "%s", counts);
	else if (!hp->total)
		report(doc, VERDICT_INFO, topic, NULL,
		       "%s: none reserved, needed only for --page-size 1g (boot with "
		       "hugepagesz=1G hugepages=N)", counts);
	else
		report(doc, VERDICT_INFO, topic, NULL, "%s: all in use", counts);
}

void check_hugepages(struct doctor *doc, int device_node)
{
	unsigned long sizes[MAX_SIZES], nodes[MAX_NODES];
	char path[4096];
	int nr_sizes = -ENOENT, nr_nodes = 0;

	if (!root_path(path, sizeof(path), sysfs_root(), HUGEPAGE_DIR))
		nr_sizes = numbered_entries(path, "hugepages-", "kB", sizes, MAX_SIZES);
	if (nr_sizes <= 0) {
		report(doc, VERDICT_WARN, "hugepages", "a kernel built with CONFIG_HUGETLBFS=y",
		       "the kernel offers no hugepages (no %s): only 4 KiB-page DMA buffers "
		       "(--small-pages) work", path);
		return;
	}
	if (!root_path(path, sizeof(path), sysfs_root(), NODE_DIR))
		nr_nodes = numbered_entries(path, "node", "", nodes, MAX_NODES);
	for (int i = 0; i < nr_sizes; i++) {
		struct hugepage_size hp = { .kb = sizes[i] };

		hp.total = read_sysfs_long(HUGEPAGE_DIR "/hugepages-%lukB/nr_hugepages", hp.kb);
		hp.free = read_sysfs_long(HUGEPAGE_DIR "/hugepages-%lukB/free_hugepages", hp.kb);
		if (hp.total < 0 || hp.free < 0) {
			report(doc, VERDICT_WARN, "hugepages", NULL,
			       "cannot read the counters of the %lu kB pages", hp.kb);
			continue;
		}
		gather_nodes(&hp, nodes, nr_nodes > 0 ? nr_nodes : 0, device_node);
		report_size(doc, &hp, device_node);
	}
}

static const char *proc_mounts(void)
{
	const char *path = secure_getenv("FPGACTL_PROC_MOUNTS");

	return path && *path ? path : "/proc/mounts";
}

/* Append "DIR (pagesize=2M)" for one mount to @buf; count the writable ones. */
static void describe_mount(char *buf, size_t size, struct mntent *ent, int *writable)
{
	const char *opt = hasmntopt(ent, "pagesize");
	size_t used = strlen(buf);
	int len = 0;
	bool can_write = !access(ent->mnt_dir, W_OK);
	const char *why = errno == ENOENT ? ", missing" : ", not writable by you";

	if (opt && (opt = strchr(opt, '=')))
		len = (int)strcspn(++opt, ",");
	*writable += can_write;
	snprintf(buf + used, size - used, "%s%s (%s%.*s%s)", used ? ", " : "", ent->mnt_dir,
		 opt ? "pagesize=" : "default page size", len, opt ? opt : "",
		 can_write ? "" : why);
}

void check_hugetlbfs(struct doctor *doc)
{
	const char *path = proc_mounts();
	FILE *f = setmntent(path, "re");
	struct mntent *ent;
	char mounts[1024] = "";
	int count = 0, writable = 0;

	if (!f) {
		report(doc, VERDICT_WARN, "hugetlbfs", NULL, "cannot read %s: %s", path,
		       strerror(errno));
		return;
	}
	while ((ent = getmntent(f))) {
		if (strcmp(ent->mnt_type, "hugetlbfs"))
			continue;
		describe_mount(mounts, sizeof(mounts), ent, &writable);
		count++;
	}
	endmntent(f);
	if (!count)
		report(doc, VERDICT_INFO, "hugetlbfs", NULL,
		       "no hugetlbfs mount: hugepage buffers come from memfd_create(MFD_HUGETLB)");
	else if (!writable)
		report(doc, VERDICT_INFO, "hugetlbfs", NULL,
		       "%s: memfd_create(MFD_HUGETLB) is used instead",
		       mounts);
	else
		report(doc, VERDICT_OK, "hugetlbfs", NULL, "%s", mounts);
}

static bool dev_usable(const char *rel, char *path, size_t size)
{
	return !root_path(path, size, dev_root(), rel) && !access(path, R_OK | W_OK);
}

void check_cdev(struct doctor *doc, const char *bdf)
{
	char rel[256], path[4096], iommu[4096];
	unsigned long index;
	int n;

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/vfio-dev", bdf);
	n = root_path(path, sizeof(path), sysfs_root(), rel) ? -ENAMETOOLONG
		: numbered_entries(path, "vfio", "", &index, 1);
	if (n <= 0) {
		report(doc, VERDICT_INFO, "cdev", NULL,
		       "%s has no VFIO cdev (kernel before 6.2, or CONFIG_VFIO_DEVICE_CDEV off):"
		       " the legacy container is used", bdf);
		return;
	}
	if (!dev_usable("iommu", iommu, sizeof(iommu))) {
		report(doc, VERDICT_INFO, "cdev", NULL,
		       "%s has vfio-dev/vfio%lu, but %s is missing or not accessible: the "
		       "legacy container is used", bdf, index, iommu);
		return;
	}
	snprintf(rel, sizeof(rel), "vfio/devices/vfio%lu", index);
	if (!dev_usable(rel, path, sizeof(path))) {
		report(doc, VERDICT_WARN, "cdev",
		       "check devtmpfs and the udev rules that give access to /dev/vfio",
		       "%s: %s: the iommufd backend is chosen but cannot open it", path,
		       strerror(errno));
		return;
	}
	report(doc, VERDICT_OK, "cdev", NULL, "%s: %s, the iommufd backend is used", bdf, path);
}

void check_dma_plan(struct doctor *doc, const struct fpgactl_dma_plan *plan)
{
	char page[32], node[16], iova[64], mappings[32];
	enum verdict verdict = VERDICT_OK;
	const char *fix = NULL, *problem = "";

	format_size(page, sizeof(page), plan->page_size);
	if (plan->node < 0)
		snprintf(node, sizeof(node), "any node");
	else
		snprintf(node, sizeof(node), "node %d", plan->node);
	if (plan->iova_first <= plan->iova_last && plan->iova_free)
		snprintf(iova, sizeof(iova), "IOVA 0x%" PRIx64 "..0x%" PRIx64, plan->iova_first,
			 plan->iova_last);
	else
		snprintf(iova, sizeof(iova), "no IOVA space");
	if (plan->mappings_avail < 0)
		snprintf(mappings, sizeof(mappings), "unlimited");
	else
		snprintf(mappings, sizeof(mappings), "%" PRId64, plan->mappings_avail);
	if (!strcmp(plan->backing, "none")) {
		verdict = VERDICT_WARN;
		problem = "no hugepages to back buffers: ";
		fix = "reserve hugepages (see the hugepages line)";
	} else if (!plan->iova_free) {
		verdict = VERDICT_WARN;
		problem = "no IOVA space left below the DMA mask: ";
		fix = "free DMA buffers";
	} else if (!plan->mappings_avail) {
		verdict = VERDICT_WARN;
		problem = "the IOMMU allows no more mappings: ";
		fix = "raise vfio_iommu_type1's dma_entry_limit module parameter";
	}
	report(doc, verdict, "dma", fix, "%s%s pages on %s from %s; %s; IOMMU mappings left: %s",
	       problem, page, node, plan->backing, iova, mappings);
}

/* The initial user namespace: an identity uid_map (the kernel's capable()). */
static bool in_initial_userns(void)
{
	char line[128];
	FILE *f = fopen("/proc/self/uid_map", "re");
	int lines = 0;
	bool ident = false;

	if (!f)
		return true;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b, c;

		lines++;
		ident = sscanf(line, "%lu %lu %lu", &a, &b, &c) == 3 && !a && !b &&
			c == 4294967295ul;
	}
	fclose(f);
	return lines == 1 && ident;
}

/*
 * CAP_IPC_LOCK in the effective set, in the initial user namespace:
 * RLIMIT_MEMLOCK does not apply (a namespace's root is still charged).
 */
static bool has_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return (data[CAP_IPC_LOCK / 32].effective & (1u << (CAP_IPC_LOCK % 32))) &&
	       in_initial_userns();
}

static void memlock_verdict(struct doctor *doc, uint64_t limit)
{
	char size[32];

	format_size(size, sizeof(size), limit);
	if (limit < MEMLOCK_WARN_BYTES)
		report(doc, VERDICT_WARN, "memlock", memlock_fix,
		       "RLIMIT_MEMLOCK is %s: DMA buffers beyond %s in all fail (EDQUOT)",
		       size, size);
	else
		report(doc, VERDICT_OK, "memlock", NULL,
		       "RLIMIT_MEMLOCK is %s: DMA buffers up to %s in all", size, size);
}

/*
 * With a device's plan: what is left of the limit for the backend's
 * accounting (type1: this process; iommufd: the user, all its processes).
 */
static void memlock_plan_verdict(struct doctor *doc, const struct fpgactl_dma_plan *plan,
				 enum fpgactl_iommu_backend backend)
{
	uint64_t left = plan->memlock_used < plan->memlock_limit ?
			plan->memlock_limit - plan->memlock_used : 0;
	char size[32], used[32], rest[32];

	format_size(size, sizeof(size), plan->memlock_limit);
	format_size(used, sizeof(used), plan->memlock_used);
	format_size(rest, sizeof(rest), left);
	if (backend != FPGACTL_IOMMU_IOMMUFD) {
		memlock_verdict(doc, plan->memlock_limit);
		return;
	}
	report(doc, left < MEMLOCK_WARN_BYTES ? VERDICT_WARN : VERDICT_OK, "memlock",
	       left < MEMLOCK_WARN_BYTES ? memlock_fix : NULL,
	       "RLIMIT_MEMLOCK is %s, and iommufd charges the user: this user's processes "
	       "pin about %s already (VmPin), so DMA buffers beyond %s more fail (EDQUOT)",
	       size, used, rest);
}

void check_memlock(struct doctor *doc, const struct fpgactl_dma_plan *plan,
		   enum fpgactl_iommu_backend backend)
{
	struct rlimit lim;

	if (plan) {
		if (plan->memlock_limit == UINT64_MAX)
			report(doc, VERDICT_INFO, "memlock", NULL,
			       "RLIMIT_MEMLOCK unlimited or not enforced (CAP_IPC_LOCK)");
		else
			memlock_plan_verdict(doc, plan, backend);
		return;
	}
	if (getrlimit(RLIMIT_MEMLOCK, &lim)) {
		report(doc, VERDICT_WARN, "memlock", NULL, "cannot read RLIMIT_MEMLOCK: %s",
		       strerror(errno));
		return;
	}
	if (lim.rlim_cur == RLIM_INFINITY) {
		report(doc, VERDICT_INFO, "memlock", NULL, "RLIMIT_MEMLOCK unlimited");
		return;
	}
	if (has_cap_ipc_lock()) {
		char size[32];

		format_size(size, sizeof(size), lim.rlim_cur);
		report(doc, VERDICT_INFO, "memlock", NULL,
		       "RLIMIT_MEMLOCK is %s, not enforced (CAP_IPC_LOCK)", size);
		return;
	}
	memlock_verdict(doc, lim.rlim_cur);
}
