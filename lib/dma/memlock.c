// SPDX-License-Identifier: MIT
/*
 * Locked-memory accounting, per IOMMU backend, as the kernel does it:
 *
 * - type1 (legacy) charges pinned pages to the *process*: mm->locked_vm
 *   against RLIMIT_MEMLOCK (drivers/vfio/vfio_iommu_type1.c:
 *   vfio_lock_acct()), which /proc/self/status shows as VmLck (it also
 *   counts mlock()ed memory);
 * - iommufd charges them to the *user*: user->locked_vm against the
 *   caller's RLIMIT_MEMLOCK, shared by every process of that user and by
 *   io_uring fixed buffers (drivers/iommu/iommufd/pages.c:
 *   incr_user_locked_vm(); io_uring/rsrc.c: io_account_mem()).  The user's
 *   total cannot be read; each such pin also lands in the pinning process's
 *   mm->pinned_vm (VmPin), so the sum of VmPin over this user's processes
 *   is the estimate, a lower bound when another user namespace or an exited
 *   process still holds pins;
 * - neither charges a caller with CAP_IPC_LOCK in the initial user
 *   namespace (capable(), not ns_capable(): capget() answers for the
 *   current namespace, so a namespace's root does not count).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "core/core.h"
#include "dma/dma.h"

/* The process runs in the initial user namespace (identity uid map). */
static bool in_initial_userns(void)
{
	unsigned long inside, outside, count;
	FILE *f = fopen("/proc/self/uid_map", "re");
	int n, lines = 0;
	bool ident = false;

	if (!f)
		return true;	/* no user namespaces in this kernel */
	while ((n = fscanf(f, "%lu %lu %lu", &inside, &outside, &count)) == 3) {
		lines++;
		ident = inside == 0 && outside == 0 && count == 4294967295ul;
	}
	fclose(f);
	return lines == 1 && ident;
}

bool memlock_exempt(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return false;
	if (!(data[CAP_IPC_LOCK / 32].effective & (1u << (CAP_IPC_LOCK % 32))))
		return false;
	return in_initial_userns();
}

uint64_t memlock_limit(void)
{
	struct rlimit rl;

	if (memlock_exempt() || getrlimit(RLIMIT_MEMLOCK, &rl) ||
	    rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return rl.rlim_cur;
}

/*
 * A "Name:   N kB" field of /proc/@pid/status in bytes, and the real uid;
 * false when unreadable.
 */
static bool status_field(const char *pid, const char *name, uint64_t *bytes,
			 uid_t *uid)
{
	char path[300], line[256];
	size_t len = strlen(name);
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	*bytes = 0;
	*uid = (uid_t)-1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long v;

		if (!strncmp(line, "Uid:", 4) && sscanf(line + 4, "%lu", &v) == 1)
			*uid = (uid_t)v;
		else if (!strncmp(line, name, len) && line[len] == ':' &&
			 sscanf(line + len + 1, "%lu", &v) == 1) {
			*bytes = (uint64_t)v << 10;
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* Sum of VmPin over this user's other processes. */
static uint64_t user_pinned_elsewhere(void)
{
	uid_t me = getuid(), uid;
	char self[32];
	uint64_t sum = 0, v;
	struct dirent *de;
	DIR *proc = opendir("/proc");

	if (!proc)
		return 0;
	snprintf(self, sizeof(self), "%d", (int)getpid());
	while ((de = readdir(proc))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9' || !strcmp(de->d_name, self))
			continue;
		if (status_field(de->d_name, "VmPin", &v, &uid) && uid == me)
			sum += v;
	}
	closedir(proc);
	return sum;
}

uint64_t memlock_used(enum fpgactl_iommu_backend backend, uint64_t mine)
{
	uint64_t v;
	uid_t uid;

	switch (backend) {
	case FPGACTL_IOMMU_LEGACY:
		/* VmLck holds our pins (and mlock()); the counter, where a
		 * kernel does not pin (tests), is a floor. */
		return status_field("self", "VmLck", &v, &uid) && v > mine ? v : mine;
	case FPGACTL_IOMMU_IOMMUFD:
		if (!status_field("self", "VmPin", &v, &uid) || v < mine)
			v = mine;
		return v + user_pinned_elsewhere();
	default:
		return mine;	/* the model pins nothing */
	}
}
