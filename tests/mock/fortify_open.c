// SPDX-License-Identifier: MIT
/*
 * Built with -O2 -D_FORTIFY_SOURCE=2 -D_FILE_OFFSET_BITS=64, as a hardened
 * distribution builds the library: open() with flags unknown at compile
 * time then becomes a call to __open64_2, and pread() with a buffer of
 * known size to __pread64_chk.  test_mock checks that both still reach the
 * mock.
 */
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

int fortified_open(const char *path, int flags);
ssize_t fortified_pread(int fd, void *out, size_t n, off_t off);

int fortified_open(const char *path, int flags)
{
	return open(path, flags);
}

/* @n unknown here, buf's size known: the checked variant is called. */
ssize_t fortified_pread(int fd, void *out, size_t n, off_t off)
{
	char buf[64];
	ssize_t ret = pread(fd, buf, n, off);

	for (ssize_t i = 0; i < ret; i++)
		((char *)out)[i] = buf[i];
	return ret;
}
