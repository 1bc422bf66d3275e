// SPDX-License-Identifier: MIT
/*
 * What FPGACTL_IOMMU_AUTO stands for: the backend named by the environment
 * variable FPGACTL_IOMMU (auto, legacy or iommufd), so that a program
 * linking the library can be pointed at a backend without recompiling, and
 * the library's own choice (iommu_auto_backend()) when it is unset or auto.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "iommu/iommu.h"

int iommu_choose_backend(const char *bdf, enum fpgactl_iommu_backend *backend)
{
	/* secure_getenv: a set-user-ID program ignores the variable. */
	const char *v = secure_getenv(IOMMU_ENV);

	if (!v || !*v || !strcmp(v, "auto")) {
		*backend = iommu_auto_backend(bdf);
		return 0;
	}
	if (!strcmp(v, "legacy")) {
		*backend = FPGACTL_IOMMU_LEGACY;
	} else if (!strcmp(v, "iommufd")) {
		*backend = FPGACTL_IOMMU_IOMMUFD;
	} else {
		log_err("%s=%s is not a backend: set it to auto, legacy or iommufd, "
			"or unset it", IOMMU_ENV, v);
		return -EINVAL;
	}
	log_debug("%s=%s chooses the IOMMU backend", IOMMU_ENV, v);
	return 0;
}
