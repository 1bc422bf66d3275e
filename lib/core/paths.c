// SPDX-License-Identifier: MIT
/*
 * sysfs and /dev access.  Both roots can be redirected through the
 * environment so that tools and tests run against a fake tree; the variables
 * are read on every call (these are slow-path operations).  They are read
 * with secure_getenv(): the library writes driver_override, unbind and
 * drivers_probe under these roots, so a set-user-ID or set-group-ID program
 * (AT_SECURE) must not let its caller's environment choose where.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

static const char *root_from_env(const char *var, const char *dflt)
{
	const char *v = secure_getenv(var);

	return v && *v ? v : dflt;
}

const char *sysfs_root(void)
{
	return root_from_env("FPGACTL_SYSFS_ROOT", "/sys");
}

const char *dev_root(void)
{
	return root_from_env("FPGACTL_DEV_ROOT", "/dev");
}

static int vpath(char *buf, size_t size, const char *root, const char *fmt,
		 va_list ap)
{
	int n = snprintf(buf, size, "%s/", root);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	int m = vsnprintf(buf + n, size - n, fmt, ap);

	if (m < 0 || (size_t)m >= size - n)
		return -ENAMETOOLONG;
	return 0;
}

int sysfs_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(buf, size, sysfs_root(), fmt, ap);
	va_end(ap);
	return ret;
}

int dev_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(buf, size, dev_root(), fmt, ap);
	va_end(ap);
	return ret;
}

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	do {
		n = read(fd, buf, size - 1);
	} while (n < 0 && errno == EINTR);
	int saved = errno;

	close(fd);
	if (n < 0)
		return -saved;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return (int)n;
}

int sysfs_read(char *buf, size_t size, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), sysfs_root(), fmt, ap);
	va_end(ap);
	return ret ? ret : read_file(path, buf, size);
}

int sysfs_read_long(long *val, const char *fmt, ...)
{
	char path[PATH_MAX], buf[64], *end;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), sysfs_root(), fmt, ap);
	va_end(ap);
	if (!ret)
		ret = read_file(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	errno = 0;
	*val = strtol(buf, &end, 0);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

int sysfs_write(const char *val, const char *fmt, ...)
{
	char path[PATH_MAX];
	size_t len = strlen(val);
	va_list ap;
	ssize_t n;
	int fd, ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), sysfs_root(), fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		n = write(fd, val, len);
	} while (n < 0 && errno == EINTR);
	ret = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
	close(fd);
	return ret;
}

int sysfs_link_name(char *buf, size_t size, const char *fmt, ...)
{
	char path[PATH_MAX], target[PATH_MAX];
	va_list ap;
	ssize_t n;
	int ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), sysfs_root(), fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	const char *base = strrchr(target, '/');

	base = base ? base + 1 : target;
	if (strlen(base) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return (int)strlen(buf);
}
