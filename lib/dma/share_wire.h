/* SPDX-License-Identifier: MIT */
/*
 * The message of fpgactl_share_export() (lib/dma/share.c).  Not installed.
 *
 * Version 1, host byte order (both ends are on one machine): struct
 * share_hdr, then hdr.nr_bufs struct share_buf, in one sendmsg() carrying
 * the fds in one SCM_RIGHTS part, in this order: the container (legacy) or
 * /dev/iommu (iommufd), the device's group (legacy only), the device, one
 * per buffer (its hugetlbfs file or memfd).
 */
#ifndef FPGACTL_SHARE_WIRE_H
#define FPGACTL_SHARE_WIRE_H

#include <stdint.h>

#include "fpgactl.h"

#define SHARE_MAGIC 0x53475046u	/* "FPGS" */
#define SHARE_VERSION 1
/* Context, group, device, buffers. */
#define SHARE_MAX_FDS (3 + FPGACTL_SHARE_MAX_BUFS)

struct share_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t hdr_size;
	uint32_t backend;	/* FPGACTL_IOMMU_LEGACY or _IOMMUFD */
	uint32_t nr_bufs;
	uint32_t nr_fds;
	int32_t numa_node;
	uint64_t dma_limit;
	char bdf[16];
};

struct share_buf {
	uint64_t iova;
	uint64_t size;
	uint64_t page_size;
	int32_t node;
	uint32_t reserved;
};

#endif
