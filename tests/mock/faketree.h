/* SPDX-License-Identifier: MIT */
/*
 * A fake sysfs + /dev tree for tests (layout in docs/mock-kernel.md).
 *
 *	struct faketree *t = faketree_create();
 *	struct fake_dev_desc d;
 *
 *	fake_dev_default(&d, "0000:03:00.0");
 *	d.group = 5;
 *	d.driver = "vfio-pci";
 *	faketree_add_device(t, &d);
 *	... the library now sees the device; the ioctl mock answers for it ...
 *	faketree_destroy(t);
 *
 * Every call returns 0 or -errno unless said otherwise.
 */
#ifndef FAKETREE_H
#define FAKETREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fakedesc.h"

struct faketree;

/*
 * Create a tree in a new mkdtemp directory under $TMPDIR (or /tmp), with
 * vfio-pci "loaded" and the type1 IOMMU driver present, and point the
 * library at it: FPGACTL_SYSFS_ROOT=R/sys, FPGACTL_DEV_ROOT=R/dev.
 * Return NULL (errno set) on failure.
 */
struct faketree *faketree_create(void);

/*
 * Create a tree in @dir (created if missing; must be empty), or open the
 * tree already there.  Does not touch the environment.  NULL on failure.
 */
struct faketree *faketree_open_at(const char *dir);

/* Remove the tree created by faketree_create() and unset the variables. */
void faketree_destroy(struct faketree *t);

/* Forget @t without removing anything (for faketree_open_at()). */
void faketree_close(struct faketree *t);

/* The root directory R. */
const char *faketree_root(const struct faketree *t);

/*
 * "R/@rel".  The string belongs to the tree and lives until it is destroyed,
 * so several may be used at once.  NULL only when out of memory.
 */
const char *faketree_path(struct faketree *t, const char *rel);

/* Add a device (see struct fake_dev_desc and fake_dev_default()). */
int faketree_add_device(struct faketree *t, const struct fake_dev_desc *d);

/*
 * Bind @bdf to @driver (NULL: unbind), as the kernel would: the driver
 * link, the driver's directory, and the VFIO nodes that vfio-pci creates
 * (/dev/vfio/GROUP, the cdev) appear or disappear.
 */
int faketree_bind(struct faketree *t, const char *bdf, const char *driver);

/* /dev/iommu present (iommufd) or not. */
int faketree_set_iommufd(struct faketree *t, bool on);

/* R/sys/module/vfio_iommu_type1 present: the container offers type1. */
int faketree_set_type1(struct faketree *t, bool on);

/*
 * vfio-pci loaded or not: R/sys/module/vfio_pci, the driver directory and
 * /dev/vfio/vfio.
 */
int faketree_set_vfio_pci(struct faketree *t, bool on);

/* chmod R/@rel.  As root this does not cause EACCES: see mock_fail_open(). */
int faketree_set_mode(struct faketree *t, const char *rel, mode_t mode);

/*
 * Read R/@rel into @buf (NUL-terminated, raw, newline kept).  Return the
 * length or -errno.
 */
int faketree_read_file(struct faketree *t, const char *rel, char *buf,
		       size_t size);

/* Replace the content of R/@rel with @text. */
int faketree_write_file(struct faketree *t, const char *rel, const char *text);

/*
 * Read or write the device memory behind region @index of @bdf (a BAR,
 * config space...), as the device itself would see it: to seed register
 * values, or to check what the library wrote.
 */
int faketree_read_region(struct faketree *t, const char *bdf, unsigned int index,
			 uint64_t off, void *buf, size_t len);
int faketree_write_region(struct faketree *t, const char *bdf, unsigned int index,
			  uint64_t off, const void *buf, size_t len);

#endif
