/* SPDX-License-Identifier: MIT */
/*
 * fpgactl doctor: the report lines shared by the VFIO checks (cmd_doctor.c)
 * and the DMA memory checks (doctor_dma.c).
 */
#ifndef FPGACTL_TOOL_DOCTOR_H
#define FPGACTL_TOOL_DOCTOR_H

#include <stdbool.h>

#include <fpgactl.h>

/* Below this locked-memory limit, DMA buffers of a useful size cannot be mapped. */
#define MEMLOCK_WARN_BYTES (64ull << 20)

enum verdict { VERDICT_OK, VERDICT_INFO, VERDICT_WARN, VERDICT_FAIL };

/* Outcome of all checks so far. */
struct doctor {
	bool blocked; /* a check failed: VFIO cannot be used */
};

/**
 * report() - print one check line
 * @doc: the run; a FAIL marks it blocked
 * @verdict: ok, info, warn or FAIL
 * @topic: what was checked (one word)
 * @fix: the fix, or NULL
 * @fmt: the finding
 */
__attribute__((format(printf, 5, 6)))
void report(struct doctor *doc, enum verdict verdict, const char *topic,
	    const char *fix, const char *fmt, ...);

/* @rel exists under @root. */
bool path_exists(const char *root, const char *rel);

/**
 * check_hugepages() - free hugepages per page size and NUMA node
 * @doc: the run
 * @device_node: NUMA node of the -d device, -1 when none or unknown
 */
void check_hugepages(struct doctor *doc, int device_node);

/* hugetlbfs mounts from /proc/mounts ($FPGACTL_PROC_MOUNTS). */
void check_hugetlbfs(struct doctor *doc);

/* The device's VFIO cdev and whether the iommufd backend will be used. */
void check_cdev(struct doctor *doc, const char *bdf);

/* What fpgactl_dma_get_plan() says for the open device. */
void check_dma_plan(struct doctor *doc, const struct fpgactl_dma_plan *plan);

/* RLIMIT_MEMLOCK, from @plan when there is one, from getrlimit() otherwise. */
void check_memlock(struct doctor *doc, const struct fpgactl_dma_plan *plan,
		   enum fpgactl_iommu_backend backend);

#endif
