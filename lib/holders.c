// SPDX-License-Identifier: MIT
/*
 * Who holds a VFIO device open: the processes with its group node or its
 * cdev among their open files (/proc/PID/fd), for "busy" messages.  Only
 * what this process may read: other users' processes stay unseen without
 * root.  A device fd obtained through a group is an anonymous inode that
 * names no device; its holder normally keeps the group node open too.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define HOLDERS_MAX 4

/* The resolved path of the VFIO node @fmt..., "" when it does not exist. */
static void node_realpath(char *out, const char *rel)
{
	char path[PATH_MAX];

	out[0] = '\0';
	if (dev_path(path, sizeof(path), "%s", rel) || !realpath(path, out))
		out[0] = '\0';
}

/* Does process @pid have one of the @n nodes open? */
static bool pid_holds(const char *pid, char nodes[][PATH_MAX], int n)
{
	char dir[300], link[PATH_MAX + 300], target[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		for (int i = 0; i < n && !found; i++)
			found = nodes[i][0] && !strcmp(target, nodes[i]);
	}
	closedir(d);
	return found;
}

static void append_holder(char *buf, size_t size, const char *pid, int count)
{
	char comm_path[300], comm[32] = "?";
	size_t len = strlen(buf);
	FILE *f;

	if (count >= HOLDERS_MAX) {
		if (count == HOLDERS_MAX && len < size)
			snprintf(buf + len, size - len, ", ...");
		return;
	}
	if (atoi(pid) == getpid()) {
		snprintf(buf + len, size - len, "%sthis process (pid %s)",
			 count ? ", " : "", pid);
		return;
	}
	snprintf(comm_path, sizeof(comm_path), "/proc/%s/comm", pid);
	f = fopen(comm_path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(buf + len, size - len, "%spid %s (%s)", count ? ", " : "", pid, comm);
}

int vfio_device_holders(const char *bdf, char *buf, size_t size)
{
	char nodes[2][PATH_MAX], rel[64];
	int group = pci_iommu_group(bdf), cdev = pci_vfio_cdev_index(bdf);
	int count = 0;
	struct dirent *de;
	DIR *proc;

	buf[0] = '\0';
	nodes[0][0] = nodes[1][0] = '\0';
	if (group >= 0) {
		snprintf(rel, sizeof(rel), "vfio/%d", group);
		node_realpath(nodes[0], rel);
	}
	if (cdev >= 0) {
		snprintf(rel, sizeof(rel), "vfio/devices/vfio%d", cdev);
		node_realpath(nodes[1], rel);
	}
	proc = opendir("/proc");
	if (!proc)
		return 0;
	while ((de = readdir(proc))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (pid_holds(de->d_name, nodes, 2))
			append_holder(buf, size, de->d_name, count++);
	}
	closedir(proc);
	return count;
}
