// SPDX-License-Identifier: MIT
/*
 * The library's environment variables that layers below the IOMMU's need:
 * whether FPGACTL_IOMMU forces the legacy backend (list and doctor judge
 * the group node then, lib/pci/pci.c).  The choice itself is iommu_env.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

bool iommu_env_forces_legacy(void)
{
	const char *v = secure_getenv(IOMMU_ENV);

	return v && !strcmp(v, "legacy");
}
