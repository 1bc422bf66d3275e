/* SPDX-License-Identifier: MIT */
/*
 * The core layer (docs/architecture.md, "Source layout and layering"): the
 * log, sysfs and /dev paths, xioctl().  Included by every layer; includes
 * no other layer.  Internal to lib/.
 */
#ifndef FPGACTL_CORE_H
#define FPGACTL_CORE_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/vfio.h>

#include "fpgactl.h"


#define FPGACTL_EXPORT __attribute__((visibility("default")))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- log.c ------------------------------------------------------------ */

void fpgactl_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) fpgactl_log(FPGACTL_LOG_ERR, __VA_ARGS__)
#define log_warn(...) fpgactl_log(FPGACTL_LOG_WARNING, __VA_ARGS__)
#define log_info(...) fpgactl_log(FPGACTL_LOG_INFO, __VA_ARGS__)
#define log_debug(...) fpgactl_log(FPGACTL_LOG_DEBUG, __VA_ARGS__)

/* ---- paths.c: sysfs and /dev, redirectable for tests --------------------- */

/* "$FPGACTL_SYSFS_ROOT" or "/sys", without a trailing slash. */
const char *sysfs_root(void);
/* "$FPGACTL_DEV_ROOT" or "/dev", without a trailing slash. */
const char *dev_root(void);

/*
 * Build "<root>/<formatted rel>" into @buf.  Return 0, or -ENAMETOOLONG.
 */
int sysfs_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int dev_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Read a sysfs attribute (path relative to the sysfs root) into @buf,
 * without the trailing newline.  Return the length, or -errno.
 */
int sysfs_read(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Read a number written in C notation (0x prefix for hex). */
int sysfs_read_long(long *val, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Write @val to a sysfs attribute.  Return 0 or -errno. */
int sysfs_write(const char *val, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Resolve a sysfs symbolic link and return its last component in @buf.
 * Return the length, or -errno (-ENOENT when there is no link).
 */
int sysfs_link_name(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- vfio_info.c: variable-size info ioctls ---------------------------- */

/*
 * Issue info ioctl @request with a buffer that starts as a copy of @tmpl
 * (@size bytes, argsz first), growing it once when the kernel asks for more
 * room.  Return the malloc'ed result, or NULL with *@err set (not logged).
 */
void *vfio_info_query(int fd, unsigned long request, const void *tmpl,
		      size_t size, int *err);
/*
 * Capability @id in the chain starting at @cap_offset of @info (@argsz
 * bytes, fixed header @hdr_size bytes), every offset checked; NULL if absent
 * or the chain is malformed.
 */
const struct vfio_info_cap_header *vfio_info_find_cap(const void *info,
						      size_t hdr_size,
						      uint32_t argsz,
						      uint32_t cap_offset,
						      uint16_t id);
/* Capability @h (@cap_size bytes plus @count elements) lies inside @info. */
bool vfio_cap_fits(const void *info, uint32_t argsz,
		   const struct vfio_info_cap_header *h, size_t cap_size,
		   size_t elem_size, uint32_t count);

/* ---- env.c: the library's environment variables -------------------------- */

/* Names the IOMMU backend FPGACTL_IOMMU_AUTO stands for (iommu_env.c). */
#define IOMMU_ENV "FPGACTL_IOMMU"
/* FPGACTL_IOMMU=legacy: the legacy container and group nodes will be used. */
bool iommu_env_forces_legacy(void);

/* Issue an ioctl, retrying on EINTR.  Return its result or -errno. */
int xioctl(int fd, unsigned long request, void *arg);

#endif
