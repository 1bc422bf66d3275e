// SPDX-License-Identifier: MIT
/*
 * The libc entry points the mock replaces.  Defined in the test executable
 * (or in libmockvfio.so, preloaded), they take precedence over libc's for
 * the program and every library it loads; everything that is not a fake
 * node goes on to the next definition (dlsym(RTLD_NEXT)).
 *
 * How calls reach these names with glibc 2.36:
 * - -D_FILE_OFFSET_BITS=64 redirects open, openat, mmap, pread and pwrite
 *   to their *64 names (an asm label, even on 64-bit), so both spellings
 *   are defined here;
 * - _FORTIFY_SOURCE turns open() into __open_2 / __open64_2 (flags not
 *   constant), and pread() into __pread_chk / __pread64_chk;
 * - libc's own internal calls (fopen, opendir, fclose) use hidden aliases
 *   and never arrive here: the library must use open()/close() on VFIO
 *   nodes, which it does.
 * This file is compiled without _FILE_OFFSET_BITS so that each name is
 * declared once, as itself.
 */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mock_internal.h"

/* Fortified entry points glibc exports but declares only under fortify. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen);
int eaccess(const char *path, int mode);

/*
 * Before the real functions are known (a call made from inside dlsym() or
 * a sanitizer runtime while the mock initialises), go to the kernel.
 */
static int raw_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

/* ---- open ----------------------------------------------------------------------- */

/* @path made absolute, lexically (symlinks kept, as the caller wrote it). */
static void absolute(int dirfd, const char *path, char *out)
{
	char base[PATH_MAX], link[64];
	ssize_t n;

	if (path[0] == '/' || strlen(path) >= PATH_MAX / 2) {
		snprintf(out, PATH_MAX, "%s", path);
		return;
	}
	if (dirfd == AT_FDCWD) {
		if (!getcwd(base, sizeof(base)))
			base[0] = '\0';
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		n = readlink(link, base, sizeof(base) - 1);
		base[n < 0 ? 0 : n] = '\0';
	}
	snprintf(out, PATH_MAX, "%.*s/%s", PATH_MAX / 2 - 2, base, path);
}

static int mock_open(int dirfd, const char *path, int flags, mode_t mode)
{
	char abs[PATH_MAX], real[PATH_MAX];
	struct mock_target t = { .kind = MOCK_NONE };
	int fd, err;

	if (!mock_init())
		return raw_openat(dirfd, path, flags, mode);
	if (!path)
		return mock_real.openat(dirfd, path, flags, mode);
	absolute(dirfd, path, abs);
	mock_lock();
	err = mock_injected_open(abs, false);
	if (!err && realpath(abs, real)) {
		mock_classify(real, &t);
		err = mock_open_check(&t);
		if ((flags & O_ACCMODE) != O_RDONLY && mock_is_sysfs_attr(real))
			flags |= O_TRUNC;	/* a store replaces the value */
	}
	if (err) {
		mock_unlock();
		errno = err;
		return -1;
	}
	fd = mock_real.openat(dirfd, path, flags, mode);
	if (fd >= 0) {
		mock_fd_forget(fd);	/* a record left by an unseen close */
		if (t.kind != MOCK_NONE)
			mock_fd_add(fd, real, &t);
	}
	mock_unlock();
	return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ?
		       (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return mock_open(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return mock_open(AT_FDCWD, path, flags | O_LARGEFILE, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return mock_open(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return mock_open(dirfd, path, flags | O_LARGEFILE, mode);
}

int __open_2(const char *path, int flags)
{
	return mock_open(AT_FDCWD, path, flags, 0);
}

int __open64_2(const char *path, int flags)
{
	return mock_open(AT_FDCWD, path, flags | O_LARGEFILE, 0);
}

int __openat_2(int dirfd, const char *path, int flags)
{
	return mock_open(dirfd, path, flags, 0);
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	return mock_open(dirfd, path, flags | O_LARGEFILE, 0);
}

/* ---- access ------------------------------------------------------------------------ */

/* Injected open failures answer access() too: EACCES works as root. */
static int mock_access(int dirfd, const char *path, int mode, int flags)
{
	char abs[PATH_MAX];
	int err;

	if (!mock_init())
		return (int)syscall(SYS_faccessat, dirfd, path, mode);
	if (path) {
		absolute(dirfd, path, abs);
		mock_lock();
		err = mock_injected_open(abs, mode == F_OK);
		mock_unlock();
		if (err) {
			errno = err;
			return -1;
		}
	}
	return mock_real.faccessat(dirfd, path, mode, flags);
}

int access(const char *path, int mode)
{
	return mock_access(AT_FDCWD, path, mode, 0);
}

int faccessat(int dirfd, const char *path, int mode, int flags)
{
	return mock_access(dirfd, path, mode, flags);
}

int euidaccess(const char *path, int mode)
{
	return mock_access(AT_FDCWD, path, mode, AT_EACCESS);
}

int eaccess(const char *path, int mode)
{
	return mock_access(AT_FDCWD, path, mode, AT_EACCESS);
}

/* ---- close, ioctl ---------------------------------------------------------------- */

int close(int fd)
{
	if (!mock_init())
		return (int)syscall(SYS_close, fd);
	mock_lock();
	mock_fd_forget(fd);
	mock_unlock();
	return mock_real.close(fd);
}

int ioctl(int fd, unsigned long request, ...)
{
	struct mock_fd *f;
	va_list ap;
	void *arg;
	long ret;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!mock_init())
		return (int)syscall(SYS_ioctl, fd, request, arg);
	mock_lock();
	f = mock_fd_get(fd);
	if (!f) {
		mock_unlock();
		return mock_real.ioctl(fd, request, arg);
	}
	ret = mock_ioctl(f, request, arg);
	mock_unlock();
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return (int)ret;
}

/* ---- mmap, pread, pwrite ------------------------------------------------------------ */

/* 0 to go on to libc, or -errno the kernel would give for this fake fd. */
static long check_mmap(int fd, uint64_t off, size_t len, int flags)
{
	struct mock_fd *f;
	long ret = 0;

	if (fd < 0 || (flags & MAP_ANONYMOUS))
		return 0;
	mock_lock();
	f = mock_fd_get(fd);
	if (f)
		ret = f->kind == MOCK_DEVICE ? mock_device_mmap_check(f, off, len, flags)
					     : -ENODEV;
	mock_unlock();
	return ret;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	long err;

	if (!mock_init())
		return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	err = check_mmap(fd, (uint64_t)off, len, flags);

	if (err) {
		errno = (int)-err;
		return MAP_FAILED;
	}
	return mock_real.mmap(addr, len, prot, flags, fd, off);
}

/* Injected failures only (mock_fail_madvise()); the kernel does the rest. */
int madvise(void *addr, size_t len, int advice)
{
	int err = mock_init() ? mock_madvise_failure(advice) : 0;

	if (err) {
		errno = err;
		return -1;
	}
	return (int)syscall(SYS_madvise, addr, len, advice);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	return mmap(addr, len, prot, flags, fd, (off_t)off);
}

/* Checks (and clips @n) for a positional read or write of a fake fd. */
static long check_rw(int fd, uint64_t off, size_t *n, bool write)
{
	struct mock_fd *f;
	long ret = 0;

	mock_lock();
	f = mock_fd_get(fd);
	if (f)
		ret = f->kind == MOCK_DEVICE ? mock_device_rw_check(f, off, n, write)
					     : -EINVAL;
	mock_unlock();
	return ret;
}

/* Virtualized config bytes over what the file holds. */
static void read_fixup(int fd, uint64_t off, void *buf, size_t n)
{
	struct mock_fd *f;

	mock_lock();
	f = mock_fd_get(fd);
	if (f)
		mock_device_read_fixup(f, off, buf, n);
	mock_unlock();
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	ssize_t ret;
	long err;

	if (!mock_init())
		return syscall(SYS_pread64, fd, buf, n, off);
	err = check_rw(fd, (uint64_t)off, &n, false);

	if (err) {
		errno = (int)-err;
		return -1;
	}
	ret = mock_real.pread(fd, buf, n, off);
	if (ret > 0)
		read_fixup(fd, (uint64_t)off, buf, (size_t)ret);
	return ret;
}

ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	return pread(fd, buf, n, (off_t)off);
}

ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	if (n > buflen)
		abort();	/* __chk_fail() */
	return pread(fd, buf, n, off);
}

ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen)
{
	return __pread_chk(fd, buf, n, (off_t)off, buflen);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	long err;

	if (!mock_init())
		return syscall(SYS_pwrite64, fd, buf, n, off);
	err = check_rw(fd, (uint64_t)off, &n, true);

	if (err) {
		errno = (int)-err;
		return -1;
	}
	return mock_real.pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	return pwrite(fd, buf, n, (off_t)off);
}
