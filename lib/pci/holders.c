// SPDX-License-Identifier: MIT
/*
 * Which processes hold a device's VFIO nodes open: /dev/vfio/GROUP (legacy)
 * and /dev/vfio/devices/vfioN (cdev).  The kernel refuses a second user of
 * either (vfio_group_fops_open(): one opener of a group, none while a
 * device of the group is open through its cdev; vfio_df_open(): one bind of
 * a cdev) and keeps a device bound to vfio-pci until its users let go
 * (vfio_unregister_group_dev()), but it does not say who they are: the fds
 * under /proc/PID/fd do.  An fd matches a node when it is the same character
 * device (st_rdev), or, for nodes that are not device files (the test
 * trees), the same file (st_dev, st_ino).  Processes whose fd directory this
 * user cannot read (other users', without root) are not seen.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "pci/pci.h"

#define MAX_NODES 2

struct node_ids {
	struct stat st[MAX_NODES];
	unsigned int nr;
};

static bool same_node(const struct stat *a, const struct stat *b)
{
	if (S_ISCHR(a->st_mode))
		return S_ISCHR(b->st_mode) && a->st_rdev == b->st_rdev;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * Whether process @pid (a /proc entry name) has one of @ids open, through an
 * fd other than @skip_fd (-1: any fd).
 */
static bool holds(const char *pid, const struct node_ids *ids, bool *partial,
		  int skip_fd)
{
	char path[64 + NAME_MAX];
	struct dirent *de;
	struct stat st;
	bool found = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	dir = opendir(path);
	if (!dir) {
		if (errno == EACCES || errno == EPERM)
			*partial = true;
		return false;
	}
	while (!found && (de = readdir(dir))) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == skip_fd)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, de->d_name);
		if (stat(path, &st))
			continue;
		for (unsigned int i = 0; i < ids->nr && !found; i++)
			found = same_node(&ids->st[i], &st);
	}
	closedir(dir);
	return found;
}

static void read_comm(const char *pid, char *comm, size_t size)
{
	char path[64 + NAME_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	f = fopen(path, "re");
	if (!f || !fgets(comm, (int)size, f))
		snprintf(comm, size, "?");
	else
		comm[strcspn(comm, "\n")] = '\0';
	if (f)
		fclose(f);
}

/* Processes holding any of @ids open: their number, the first @max in @out. */
static int scan_proc(const struct node_ids *ids, struct fpgactl_pci_holder *out,
		     unsigned int max, bool *partial)
{
	struct dirent *de;
	DIR *dir = opendir("/proc");
	int n = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || pid <= 0 || pid > INT_MAX ||
		    !holds(de->d_name, ids, partial, -1))
			continue;
		if ((unsigned int)n < max) {
			out[n].pid = (int)pid;
			read_comm(de->d_name, out[n].comm, sizeof(out[n].comm));
		}
		if (n < INT_MAX)
			n++;
	}
	closedir(dir);
	return n;
}

/* /dev/vfio/@index, or /dev/vfio/devices/vfio@index when @cdev. */
static void add_node(struct node_ids *ids, bool cdev, int index)
{
	char path[PATH_MAX];

	if (index >= 0 && !dev_path(path, sizeof(path), "vfio/%s%d",
				    cdev ? "devices/vfio" : "", index) &&
	    !stat(path, &ids->st[ids->nr]))
		ids->nr++;
}

int pci_holders(const char *bdf, struct fpgactl_pci_holder *out, unsigned int max,
		bool *partial)
{
	struct node_ids ids = { .nr = 0 };

	*partial = false;
	add_node(&ids, false, pci_iommu_group(bdf));
	add_node(&ids, true, pci_vfio_cdev_index(bdf));
	return ids.nr ? scan_proc(&ids, out, max, partial) : 0;
}

int node_holders(const char *node, struct fpgactl_pci_holder *out, unsigned int max)
{
	struct node_ids ids = { .nr = 1 };
	bool partial;

	if (stat(node, &ids.st[0]))
		return -errno;
	return scan_proc(&ids, out, max, &partial);
}

void holders_text(const struct fpgactl_pci_holder *h, int n, unsigned int max,
		  char *buf, size_t size)
{
	size_t len = 0;
	int shown = n < (int)max ? n : (int)max;

	buf[0] = '\0';
	for (int i = 0; i < shown && len < size; i++)
		len += (size_t)(h[i].pid == (int)getpid() ?
			snprintf(buf + len, size - len, "%sthis process (pid %d)",
				 i ? ", " : "", h[i].pid) :
			snprintf(buf + len, size - len, "%spid %d (%s)",
				 i ? ", " : "", h[i].pid, h[i].comm));
	if (n > shown && len < size)
		snprintf(buf + len, size - len, " and %d more", n - shown);
}

void log_busy(const char *node, const char *what)
{
	struct fpgactl_pci_holder h[4];
	int n = node_holders(node, h, ARRAY_SIZE(h)), others = 0;
	bool self = false;
	char text[200];

	for (int i = 0; i < n && i < (int)ARRAY_SIZE(h); i++) {
		if (h[i].pid == (int)getpid())
			self = true;
		else
			h[others++] = h[i];
	}
	if (self)
		log_err("%s is busy (%s): this process already has it open, in another "
			"IOMMU context (a second fpgactl_device_open() of this device or "
			"of another in its IOMMU group, each with a private context): "
			"open it once, or pass the first device's context in "
			"fpgactl_open_opts.iommu", node, what);
	else if (others) {
		holders_text(h, n - self, (unsigned int)others, text, sizeof(text));
		log_err("%s is busy (%s): %s has it open (QEMU, another fpgactl, ...): "
			"stop it, then try again", node, what, text);
	} else
		log_err("%s is busy (%s): another process (QEMU, another fpgactl) has "
			"it open", node, what);
}

FPGACTL_EXPORT int fpgactl_pci_holders(const char *bdf, struct fpgactl_pci_holder *out,
				       unsigned int max)
{
	bool partial;

	return pci_holders(bdf, out, max, &partial);
}

bool self_holds_other_fd(int fd)
{
	struct node_ids ids = { .nr = 1 };
	bool partial;

	return !fstat(fd, &ids.st[0]) && holds("self", &ids, &partial, fd);
}
