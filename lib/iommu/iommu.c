// SPDX-License-Identifier: MIT
/*
 * IOMMU contexts: one I/O address space, shared by the devices opened into
 * it, behind one table of backends.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "pci/pci.h"
#include "iommu/iommu.h"

static const struct iommu_backend *const backends[] = {
	[FPGACTL_IOMMU_LEGACY] = &iommu_backend_legacy,
	[FPGACTL_IOMMU_IOMMUFD] = &iommu_backend_iommufd,
};

/* The node exists and this process may open it read/write. */
static bool dev_node_usable(const char *rel)
{
	char path[PATH_MAX];

	return !dev_path(path, sizeof(path), "%s", rel) &&
	       !access(path, R_OK | W_OK);
}

/* Some /dev/vfio/devices/vfioN that this process may open read/write. */
static bool any_cdev_usable(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *dir;

	if (dev_path(path, sizeof(path), "vfio/devices"))
		return false;
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		char rel[64];

		if (strncmp(de->d_name, "vfio", 4))
			continue;
		snprintf(rel, sizeof(rel), "vfio/devices/%.40s", de->d_name);
		found = dev_node_usable(rel);
	}
	closedir(dir);
	return found;
}

/*
 * iommufd only where it can be opened: /dev/iommu is often root-only while
 * the legacy group nodes are given to users by udev rules, and a rule for
 * SUBSYSTEM=="vfio" commonly covers the group nodes but not the cdevs
 * (/dev/vfio/devices/vfioN).  With a device: its cdev must exist and be
 * usable by this user.  Without one: some cdev must be (the directory's own
 * permissions say nothing: only root may create files there).
 */
enum fpgactl_iommu_backend iommu_auto_backend(const char *bdf)
{
	char rel[64];
	int cdev;

	if (!dev_node_usable("iommu"))
		return FPGACTL_IOMMU_LEGACY;
	if (!bdf)
		return any_cdev_usable() ? FPGACTL_IOMMU_IOMMUFD : FPGACTL_IOMMU_LEGACY;
	cdev = pci_vfio_cdev_index(bdf);
	if (cdev < 0)
		return FPGACTL_IOMMU_LEGACY;
	snprintf(rel, sizeof(rel), "vfio/devices/vfio%d", cdev);
	return dev_node_usable(rel) ? FPGACTL_IOMMU_IOMMUFD : FPGACTL_IOMMU_LEGACY;
}

FPGACTL_EXPORT struct fpgactl_iommu *
fpgactl_iommu_open(enum fpgactl_iommu_backend backend, int *err)
{
	/* The model's backend is internal: a model opens its own context. */
	if (backend > FPGACTL_IOMMU_IOMMUFD) {
		log_err("unknown IOMMU backend %d", (int)backend);
		if (err)
			*err = -EINVAL;
		return NULL;
	}
	return iommu_open(backend, err);
}

struct fpgactl_iommu *iommu_open(enum fpgactl_iommu_backend backend, int *err)
{
	int ret;

	if (backend == FPGACTL_IOMMU_AUTO) {
		ret = iommu_choose_backend(NULL, &backend);
		if (ret)
			goto fail;
	}
	if ((unsigned int)backend >= ARRAY_SIZE(backends) || !backends[backend]) {
		log_err("unknown IOMMU backend %d", (int)backend);
		ret = -EINVAL;
		goto fail;
	}
	return iommu_open_backend(backends[backend], err);
fail:
	if (err)
		*err = ret;
	return NULL;
}

struct fpgactl_iommu *iommu_open_backend(const struct iommu_backend *backend, int *err)
{
	struct fpgactl_iommu *iommu;
	int ret;

	iommu = calloc(1, sizeof(*iommu));
	if (!iommu) {
		ret = -ENOMEM;
		goto fail;
	}
	iommu->backend = backend;
	iommu->refs = 1;
	pthread_mutex_init(&iommu->lock, NULL);
	ret = iommu->backend->open(iommu);
	if (ret) {
		pthread_mutex_destroy(&iommu->lock);
		free(iommu);
		goto fail;
	}
	log_debug("IOMMU context opened with the %s backend", iommu->backend->name);
	return iommu;
fail:
	if (err)
		*err = ret;
	return NULL;
}

void iommu_get(struct fpgactl_iommu *iommu)
{
	__atomic_add_fetch(&iommu->refs, 1, __ATOMIC_RELAXED);
}

FPGACTL_EXPORT void fpgactl_iommu_close(struct fpgactl_iommu *iommu)
{
	if (!iommu || __atomic_sub_fetch(&iommu->refs, 1, __ATOMIC_ACQ_REL))
		return;
	iommu->backend->close(iommu);
	if (iommu->iova_ready)
		iova_destroy(&iommu->iova);
	if (iommu->table_destroy)
		iommu->table_destroy(iommu->table);
	free(iommu->maps);
	pthread_mutex_destroy(&iommu->lock);
	free(iommu);
}

FPGACTL_EXPORT const char *fpgactl_iommu_backend_name(const struct fpgactl_iommu *iommu)
{
	return iommu->backend->name;
}

int iommu_attach(struct fpgactl_iommu *iommu, struct iommu_dev *dev)
{
	int ret;

	pthread_mutex_lock(&iommu->lock);
	ret = iommu->backend->attach(iommu, dev);
	/* A new device can narrow the usable IOVA ranges. */
	if (!ret)
		iommu->iova_stale = true;
	pthread_mutex_unlock(&iommu->lock);
	return ret;
}

void iommu_detach(struct fpgactl_iommu *iommu, struct iommu_dev *dev)
{
	pthread_mutex_lock(&iommu->lock);
	iommu->backend->detach(iommu, dev);
	pthread_mutex_unlock(&iommu->lock);
}
