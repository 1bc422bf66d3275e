// SPDX-License-Identifier: MIT
/*
 * File <-> DMA buffer streaming through io_uring fixed buffers: whole files
 * with O_DIRECT (a file on /var/tmp or the build directory) and buffered
 * (unaligned buffer, tmpfs, a file system that refuses O_DIRECT at open or
 * at the first request), the partial last block, end of file, progress and
 * cancellation, and the caller's own descriptors.  The DMA buffers are 4 KiB
 * page buffers mapped through the mocked kernel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "fixture.h"
#include "dma/stream_policy.h"

#define BDF "0000:03:00.0"
#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define BUF_SIZE (4 * MiB)

/* lib/dma/stream.c: bit 0 refuse O_DIRECT at open, bit 1 at the first request. */
extern unsigned int stream_test_no_direct;

static const struct fpgactl_dma_opts small = {
	.page_size = FPGACTL_PAGE_4K,
	.flags = FPGACTL_DMA_ALLOW_SMALL_PAGES,
};

struct ctx {
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *a, *b;
	struct fpgactl_stream *st;
	char path[256];
	char shm_path[256];
};

static struct ctx c;

static struct fpgactl_dma_buf *alloc_buf(size_t size)
{
	int err = 0;
	struct fpgactl_dma_buf *b = fpgactl_dma_alloc(c.dev, size, &small, &err);

	if (!b)
		print_message("dma_alloc: %d\n%s", err, fixture_log());
	assert_non_null(b);
	return b;
}

/* A temporary file name in @dir; the file is created empty. */
static void temp_in(char *out, size_t size, const char *dir)
{
	int fd;

	snprintf(out, size, "%s/fpgactl-stream-XXXXXX", dir);
	fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
}

static int setup(void **state)
{
	struct fpgactl_dma_buf *bufs[2];
	int err = 0;

	fixture_setup(state);
	memset(&c, 0, sizeof(c));
	add_ready_device(BDF, 5, -1);
	c.dev = fpgactl_device_open(BDF, NULL, &err);
	assert_non_null(c.dev);
	c.a = alloc_buf(BUF_SIZE);
	c.b = alloc_buf(BUF_SIZE);
	bufs[0] = c.a;
	bufs[1] = c.b;
	c.st = fpgactl_stream_create(4, bufs, 2, &err);
	if (!c.st)
		print_message("stream_create: %d\n%s", err, fixture_log());
	assert_non_null(c.st);
	assert_int_equal(fpgactl_stream_set_chunk_size(c.st, 256 * KiB), 0);
	/* Not tmpfs: a file system with O_DIRECT (ext4, xfs, btrfs). */
	temp_in(c.path, sizeof(c.path), access("/var/tmp", W_OK) ? "." : "/var/tmp");
	temp_in(c.shm_path, sizeof(c.shm_path), "/dev/shm");
	return 0;
}

static int teardown(void **state)
{
	stream_test_no_direct = 0;
	unlink(c.path);
	unlink(c.shm_path);
	fpgactl_stream_destroy(c.st);
	fpgactl_dma_free(c.a);
	fpgactl_dma_free(c.b);
	fpgactl_device_close(c.dev);
	return fixture_teardown(state);
}

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13 ^ i >> 8);
}

/* Write @size bytes of the pattern to @path with stdio. */
static void write_file(const char *path, size_t size)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	for (size_t i = 0; i < size; i++)
		assert_int_not_equal(fputc(pattern(i), f), EOF);
	assert_int_equal(fclose(f), 0);
}

static void check_pattern(const uint8_t *p, size_t size, uint64_t from)
{
	for (size_t i = 0; i < size; i++)
		if (p[i] != pattern(from + i))
			fail_msg("byte %zu is 0x%02x, not 0x%02x", i, p[i],
				 pattern(from + i));
}

static void check_file(const char *path, size_t size)
{
	struct stat sb;
	uint8_t *data = malloc(size + 1);
	FILE *f = fopen(path, "r");

	assert_non_null(data);
	assert_non_null(f);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, size);
	assert_int_equal(fread(data, 1, size + 1, f), size);
	fclose(f);
	check_pattern(data, size, 0);
	free(data);
}

/* Can this file system do O_DIRECT at all? */
static bool direct_ok(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECT);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Drop @path's pages from the page cache; false when some stayed. */
static bool drop_pages(const char *path, size_t size)
{
	unsigned char vec[(BUF_SIZE >> 12) + 1];
	int fd = open(path, O_RDONLY);
	void *map;
	bool cold = true;

	assert_true(fd >= 0);
	assert_int_equal(fsync(fd), 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mincore(map, size, vec), 0);
	for (size_t i = 0; i < (size + 4095) / 4096; i++)
		cold = cold && !(vec[i] & 1);
	munmap(map, size);
	close(fd);
	return cold;
}

/* Read @path, all of it, into the page cache. */
static void warm_pages(const char *path)
{
	char tmp[65536];
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	while (read(fd, tmp, sizeof(tmp)) > 0)
		;
	close(fd);
}

/*
 * Bring [@off, @off + @len) of @path into the page cache and nothing else
 * (POSIX_FADV_RANDOM: no readahead around it); false when the page cache
 * then holds other pages of the file's first @size bytes or misses some of
 * these.
 */
static bool warm_range(const char *path, size_t size, size_t off, size_t len)
{
	unsigned char vec[(BUF_SIZE >> 12) + 1];
	uint8_t *tmp = malloc(len);
	int fd = open(path, O_RDONLY);
	void *map;
	bool exact = true;

	assert_non_null(tmp);
	assert_true(fd >= 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM), 0);
	assert_int_equal(pread(fd, tmp, len, (off_t)off), (ssize_t)len);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mincore(map, size, vec), 0);
	for (size_t i = 0; i < (size + 4095) / 4096; i++)
		exact = exact && !!(vec[i] & 1) == (i >= off / 4096 && i < (off + len) / 4096);
	munmap(map, size);
	close(fd);
	free(tmp);
	return exact;
}

static void stats(struct fpgactl_stream_stats *s)
{
	fpgactl_stream_get_stats(c.st, s);
}

static void test_create_errors(void **state)
{
	struct fpgactl_dma_buf *bufs[1] = { c.a };
	struct fpgactl_dma_buf none = { 0 };
	struct fpgactl_dma_buf *bad[1] = { &none };
	int err = 0;

	assert_null(fpgactl_stream_create(0, bufs, 1, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(fpgactl_stream_create(5000, bufs, 1, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(fpgactl_stream_create(4, bufs, 0, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(fpgactl_stream_create(4, bad, 1, &err));
	assert_int_equal(err, -EINVAL);
	assert_int_equal(fpgactl_stream_set_chunk_size(c.st, 1000), -EINVAL);
	assert_int_equal(fpgactl_stream_set_chunk_size(c.st, 128 * MiB), -EINVAL);
	fpgactl_stream_destroy(NULL);
}

struct progress {
	unsigned int calls;
	uint64_t last;
	uint64_t total;
	unsigned int cancel_after;
};

static int on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;

	assert_true(done >= p->last);
	assert_true(done <= total);
	p->last = done;
	p->total = total;
	p->calls++;
	return p->cancel_after && p->calls >= p->cancel_after;
}

static void test_file_to_buf_direct(void **state)
{
	const size_t size = 3 * MiB + 1234;	/* a partial last block */
	struct fpgactl_stream_stats s0, s1;
	struct progress p = { 0 };
	bool direct;

	write_file(c.path, size);
	/* Cold: mode AUTO would read cached pages through the cache. */
	direct = direct_ok(c.path) && drop_pages(c.path, size);
	if (direct_ok(c.path) && !direct)
		print_message("note: the pages of %s stayed cached; read through the "
			      "cache\n", c.path);
	memset(c.a->vaddr, 0xee, c.a->size);
	stats(&s0);
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, c.path, c.a, 0, c.a->size,
						    on_progress, &p), size);
	stats(&s1);
	check_pattern(c.a->vaddr, size, 0);
	/* Nothing past the end of the file was touched. */
	assert_int_equal(((uint8_t *)c.a->vaddr)[size], 0xee);
	assert_int_equal(s1.bytes - s0.bytes, size);
	if (direct)
		assert_int_equal(s1.direct_bytes - s0.direct_bytes, 3 * MiB);
	else if (!direct_ok(c.path))
		print_message("note: %s has no O_DIRECT; buffered only\n", c.path);
	/*
	 * 256 KiB chunks, coalesced: the 3 MiB of whole blocks in one request
	 * (at least 4 MiB each), the tail in another.
	 */
	assert_int_equal(s1.requests - s0.requests, direct_ok(c.path) ? 2 : 1);
	assert_true(p.calls >= 1);
	assert_int_equal(p.last, size);
	assert_int_equal(p.total, size);
	assert_int_equal(s1.direct_fallbacks, 0);
}

static void test_file_to_buf_offsets(void **state)
{
	const size_t size = 1 * MiB;
	struct fpgactl_stream_stats s0, s1;

	write_file(c.path, size);
	/* An unaligned destination: buffered I/O, still correct. */
	stats(&s0);
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, c.path, c.b, 100, c.b->size - 100,
						    NULL, NULL), size);
	stats(&s1);
	check_pattern((uint8_t *)c.b->vaddr + 100, size, 0);
	assert_int_equal(s1.direct_bytes, s0.direct_bytes);
	/* Less room than the file: read that far. */
	memset(c.a->vaddr, 0, c.a->size);
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, c.path, c.a, 4096, 300000,
						    NULL, NULL), 300000);
	check_pattern((uint8_t *)c.a->vaddr + 4096, 300000, 0);
	assert_int_equal(((uint8_t *)c.a->vaddr)[4096 + 300000], 0);
	/* Empty file. */
	write_file(c.path, 0);
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, c.path, c.a, 0, c.a->size,
						    NULL, NULL), 0);
	/* A tiny one: only the buffered tail. */
	write_file(c.path, 10);
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, c.path, c.a, 0, c.a->size,
						    NULL, NULL), 10);
	check_pattern(c.a->vaddr, 10, 0);
}

static void test_tmpfs(void **state)
{
	const size_t size = 2 * MiB + 512;

	write_file(c.shm_path, size);
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, c.shm_path, c.a, 0, c.a->size,
						    NULL, NULL), size);
	check_pattern(c.a->vaddr, size, 0);
	assert_int_equal(fpgactl_stream_buf_to_file(c.st, c.a, 0, size, c.shm_path,
						    NULL, NULL), size);
	check_file(c.shm_path, size);
}

static void test_no_direct_at_open(void **state)
{
	const size_t size = 1 * MiB + 4096;
	struct fpgactl_stream_stats s0, s1;

	write_file(c.path, size);
	stream_test_no_direct = 1;
	stats(&s0);
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, c.path, c.a, 0, c.a->size,
						    NULL, NULL), size);
	stats(&s1);
	check_pattern(c.a->vaddr, size, 0);
	assert_int_equal(s1.direct_bytes, s0.direct_bytes);
	assert_int_equal(s1.bytes - s0.bytes, size);
	assert_int_equal(fpgactl_stream_buf_to_file(c.st, c.a, 0, size, c.path,
						    NULL, NULL), size);
	check_file(c.path, size);
}

static void test_no_direct_at_io(void **state)
{
	const size_t size = 2 * MiB + 7;
	struct fpgactl_stream_stats s0, s1;

	if (!direct_ok(c.path))
		skip();
	write_file(c.path, size);
	if (!drop_pages(c.path, size)) {
		print_message("note: the pages of %s stayed cached: no O_DIRECT read to "
			      "refuse\n", c.path);
		skip();
	}
	stream_test_no_direct = 2;
	stats(&s0);
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, c.path, c.a, 0, c.a->size,
						    NULL, NULL), size);
	stats(&s1);
	check_pattern(c.a->vaddr, size, 0);
	assert_int_equal(s1.direct_fallbacks - s0.direct_fallbacks, 1);
	assert_int_equal(s1.direct_bytes, s0.direct_bytes);
	assert_true(log_has("refused O_DIRECT"));
	assert_int_equal(fpgactl_stream_buf_to_file(c.st, c.a, 0, size, c.path,
						    NULL, NULL), size);
	check_file(c.path, size);
}

static void test_buf_to_file(void **state)
{
	const size_t size = 3 * MiB + 100;
	struct fpgactl_stream_stats s0, s1;
	struct progress p = { 0 };

	for (size_t i = 0; i < size; i++)
		((uint8_t *)c.b->vaddr)[i] = pattern(i);
	write_file(c.path, 5 * MiB);	/* truncated first */
	stats(&s0);
	assert_int_equal(fpgactl_stream_buf_to_file(c.st, c.b, 0, size, c.path,
						    on_progress, &p), size);
	stats(&s1);
	check_file(c.path, size);
	assert_int_equal(p.last, size);
	if (direct_ok(c.path))
		assert_int_equal(s1.direct_bytes - s0.direct_bytes, 3 * MiB);
	/* And back, into the other buffer. */
	memset(c.a->vaddr, 0, c.a->size);
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, c.path, c.a, 0, c.a->size,
						    NULL, NULL), size);
	assert_memory_equal(c.a->vaddr, c.b->vaddr, size);
	/* A new file. */
	unlink(c.path);
	assert_int_equal(fpgactl_stream_buf_to_file(c.st, c.b, 0, 4096, c.path,
						    NULL, NULL), 4096);
	check_file(c.path, 4096);
}

static void test_cancel(void **state)
{
	struct progress p = { .cancel_after = 1 };

	write_file(c.path, 3 * MiB);
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, c.path, c.a, 0, c.a->size,
						    on_progress, &p), -ECANCELED);
	assert_int_equal(p.calls, 1);
	/* The stream is usable afterwards. */
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, c.path, c.a, 0, c.a->size,
						    NULL, NULL), 3 * MiB);
	check_pattern(c.a->vaddr, 3 * MiB, 0);
}

static void test_user_fds(void **state)
{
	int fd;

	for (size_t i = 0; i < MiB; i++)
		((uint8_t *)c.b->vaddr)[i] = pattern(i);
	/* O_DIRECT descriptor of the caller: aligned everything. */
	fd = open(c.path, O_RDWR | O_TRUNC | (direct_ok(c.path) ? O_DIRECT : 0));
	assert_true(fd >= 0);
	assert_int_equal(fpgactl_stream_write(c.st, fd, 0, c.b, 0, MiB), MiB);
	memset(c.a->vaddr, 0, c.a->size);
	assert_int_equal(fpgactl_stream_read(c.st, fd, 8192, c.a, 4096, 64 * KiB),
			 64 * KiB);
	check_pattern((uint8_t *)c.a->vaddr + 4096, 64 * KiB, 8192);
	/* Past the end: what there is. */
	assert_int_equal(fpgactl_stream_read(c.st, fd, MiB - 8192, c.a, 0, MiB),
			 8192);
	check_pattern(c.a->vaddr, 8192, MiB - 8192);
	assert_int_equal(fpgactl_stream_read(c.st, fd, 2 * MiB, c.a, 0, 4096), 0);
	close(fd);

	/* An unaligned end of file under O_DIRECT: the short read is the end. */
	write_file(c.path, 10000);
	fd = open(c.path, O_RDONLY | (direct_ok(c.path) ? O_DIRECT : 0));
	assert_true(fd >= 0);
	assert_int_equal(fpgactl_stream_read(c.st, fd, 0, c.a, 0, 16384), 10000);
	check_pattern(c.a->vaddr, 10000, 0);
	close(fd);

	/* Buffered descriptor, unaligned everything. */
	fd = open(c.path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fpgactl_stream_read(c.st, fd, 33, c.a, 7, 5000), 5000);
	check_pattern((uint8_t *)c.a->vaddr + 7, 5000, 33);
	close(fd);
}

/* Bytes read with O_DIRECT by one file_to_buf of @path (checked) in mode @io. */
static uint64_t direct_bytes_of_read(const char *path, size_t size,
				     enum fpgactl_stream_io io)
{
	struct fpgactl_stream_stats s0, s1;

	assert_int_equal(fpgactl_stream_set_io(c.st, io), 0);
	memset(c.a->vaddr, 0, c.a->size);
	stats(&s0);
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, path, c.a, 0, c.a->size,
						    NULL, NULL), size);
	stats(&s1);
	check_pattern(c.a->vaddr, size, 0);
	assert_int_equal(s1.bytes - s0.bytes, size);
	return s1.direct_bytes - s0.direct_bytes;
}

/*
 * direct_bytes_of_read() of @path just read whole into the page cache.
 * Another process may empty the page cache meanwhile (fpgactl bench stream
 * writes /proc/sys/vm/drop_caches as root when a file system keeps its
 * pages; the test suites run side by side): the least of three tries.
 */
static uint64_t direct_bytes_of_warm_read(const char *path, size_t size,
					  enum fpgactl_stream_io io)
{
	uint64_t least = UINT64_MAX;

	for (int i = 0; i < 3 && least; i++) {
		uint64_t n;

		warm_pages(path);
		n = direct_bytes_of_read(path, size, io);
		least = n < least ? n : least;
	}
	return least;
}

/*
 * The I/O modes on a file all in the page cache and on one not in it: AUTO
 * and CACHED read what is cached through the cache and the rest with
 * O_DIRECT; BUFFERED never uses O_DIRECT.
 */
static void test_io_modes(void **state)
{
	const size_t size = 3 * MiB + 4096;

	if (!direct_ok(c.path))
		skip();
	write_file(c.path, size);
	assert_int_equal(direct_bytes_of_warm_read(c.path, size, FPGACTL_STREAM_IO_AUTO), 0);
	assert_int_equal(direct_bytes_of_warm_read(c.path, size, FPGACTL_STREAM_IO_CACHED), 0);
	assert_int_equal(direct_bytes_of_warm_read(c.path, size, FPGACTL_STREAM_IO_BUFFERED), 0);
	if (!drop_pages(c.path, size)) {
		print_message("note: the pages of %s stayed cached; cold case not run\n",
			      c.path);
	} else {
		assert_int_equal(direct_bytes_of_read(c.path, size,
						      FPGACTL_STREAM_IO_AUTO), size);
		assert_true(drop_pages(c.path, size));
		assert_int_equal(direct_bytes_of_read(c.path, size,
						      FPGACTL_STREAM_IO_CACHED), size);
	}
	/* Writes: BUFFERED writes through the cache, AUTO and CACHED O_DIRECT. */
	for (size_t i = 0; i < size; i++)
		((uint8_t *)c.b->vaddr)[i] = pattern(i);
	for (int io = FPGACTL_STREAM_IO_AUTO; io <= FPGACTL_STREAM_IO_BUFFERED; io++) {
		struct fpgactl_stream_stats s0, s1;

		assert_int_equal(fpgactl_stream_set_io(c.st, io), 0);
		stats(&s0);
		assert_int_equal(fpgactl_stream_buf_to_file(c.st, c.b, 0, size, c.path,
							    NULL, NULL), size);
		stats(&s1);
		check_file(c.path, size);
		assert_int_equal(s1.direct_bytes - s0.direct_bytes,
				 io == FPGACTL_STREAM_IO_BUFFERED ? 0 : size);
	}
	assert_int_equal(fpgactl_stream_set_io(c.st, 7), -EINVAL);
	assert_true(log_has("I/O mode 7"));
}

/*
 * Bytes read with O_DIRECT in mode @io by a file_to_buf of @path once
 * [@off, @off + @len) alone is cached, or -1 when the page cache could not
 * be brought to that state.
 */
static int64_t direct_bytes_partly_cached(const char *path, size_t size, size_t off,
					  size_t len, enum fpgactl_stream_io io)
{
	if (!drop_pages(path, size) || !warm_range(path, size, off, len))
		return -1;
	return (int64_t)direct_bytes_of_read(path, size, io);
}

/*
 * A file partly in the page cache (the requests' window is 4 MiB, larger
 * than the file): AUTO reads a cached run of 256 KiB or more through the
 * cache and the rest with O_DIRECT, at the start of the file or in the
 * middle; a shorter run goes with its neighbours to the storage.  CACHED
 * reads the window with O_DIRECT unless it is all cached.
 */
static void test_partly_cached(void **state)
{
	const size_t size = 3 * MiB + 4096;
	const struct {
		size_t off, len;
		enum fpgactl_stream_io io;
		size_t direct;
	} cases[] = {
		{ 0, MiB, FPGACTL_STREAM_IO_AUTO, size - MiB },
		{ MiB, MiB, FPGACTL_STREAM_IO_AUTO, size - MiB },
		{ 2 * MiB, MiB + 4096, FPGACTL_STREAM_IO_AUTO, 2 * MiB },
		{ MiB, 64 * KiB, FPGACTL_STREAM_IO_AUTO, size },
		{ 0, MiB, FPGACTL_STREAM_IO_CACHED, size },
	};

	if (!direct_ok(c.path))
		skip();
	write_file(c.path, size);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t n = direct_bytes_partly_cached(c.path, size, cases[i].off,
						       cases[i].len, cases[i].io);

		if (n < 0) {
			print_message("note: the page cache of %s could not be set up "
				      "for case %zu; not run\n", c.path, i);
			continue;
		}
		if ((size_t)n != cases[i].direct)
			fail_msg("case %zu: %lld bytes with O_DIRECT, not %zu", i,
				 (long long)n, cases[i].direct);
	}
}

/*
 * stream_pick_read() (lib/dma/stream_policy.c): the request taken from a
 * window of 8 pages, with runs of at least 3 pages worth a request.
 */
static void test_pick_read(void **state)
{
	const struct {
		const char *vec;	/* 'c': cached, '.': not */
		bool split;
		size_t pages;
		bool cached;
	} cases[] = {
		{ "cccccccc", true, 8, true },
		{ "cccccccc", false, 8, true },
		{ "........", true, 8, false },
		{ "ccc.....", true, 3, true },
		{ "ccc.....", false, 8, false },
		{ "cc......", true, 8, false },
		{ "cc..ccc.", true, 4, false },
		{ "..c.cc.c", true, 8, false },
		{ "....cccc", true, 4, false },
		{ ".ccccccc", true, 1, false },
		{ "cccccc.c", true, 6, true },
	};
	unsigned char vec[8];
	bool cached;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n;

		for (size_t p = 0; p < 8; p++)
			vec[p] = cases[i].vec[p] == 'c' ? 1 : 0x80;	/* other bits ignored */
		n = stream_pick_read(vec, 8, 3, cases[i].split, &cached);
		if (n != cases[i].pages || cached != cases[i].cached)
			fail_msg("%s (split %d): %zu pages %s, not %zu %s", cases[i].vec,
				 cases[i].split, n, cached ? "cached" : "direct",
				 cases[i].pages, cases[i].cached ? "cached" : "direct");
	}
	/* A window of one page; min_run 0 counts as 1. */
	vec[0] = 1;
	assert_int_equal(stream_pick_read(vec, 1, 0, true, &cached), 1);
	assert_true(cached);
	vec[0] = 0;
	assert_int_equal(stream_pick_read(vec, 1, 64, true, &cached), 1);
	assert_false(cached);
}

/*
 * A read of a buffered descriptor past the end of the file: the one
 * coalesced request comes back short, is continued, and the continuation
 * finds the end of the file.
 */
static void test_short_read_eof(void **state)
{
	const size_t size = 3 * MiB + 5;
	struct fpgactl_stream_stats s0, s1;
	int fd;

	write_file(c.path, size);
	fd = open(c.path, O_RDONLY);
	assert_true(fd >= 0);
	memset(c.a->vaddr, 0xee, c.a->size);
	stats(&s0);
	assert_int_equal(fpgactl_stream_read(c.st, fd, 0, c.a, 0, c.a->size), size);
	stats(&s1);
	close(fd);
	check_pattern(c.a->vaddr, size, 0);
	assert_int_equal(((uint8_t *)c.a->vaddr)[size], 0xee);
	assert_int_equal(s1.short_transfers - s0.short_transfers, 1);
	assert_int_equal(s1.requests - s0.requests, 2);
}

/*
 * A short write: RLIMIT_FSIZE lets the first request write part of its
 * bytes; the continuation fails with EFBIG, which comes back.
 */
static void test_short_write(void **state)
{
	const size_t limit = MiB + 4096;
	struct fpgactl_stream_stats s0, s1;
	struct rlimit old, lim;
	struct stat sb;
	int fd;
	ssize_t ret;

	for (size_t i = 0; i < 2 * MiB; i++)
		((uint8_t *)c.b->vaddr)[i] = pattern(i);
	fd = open(c.path, O_RDWR | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = limit;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	stats(&s0);
	ret = fpgactl_stream_write(c.st, fd, 0, c.b, 0, 2 * MiB);
	stats(&s1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(ret, -EFBIG);
	assert_true(log_has("File too large"));
	assert_int_equal(s1.short_transfers - s0.short_transfers, 1);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_size, limit);
	close(fd);
	check_file(c.path, limit);
}

static void test_bad_ranges(void **state)
{
	struct fpgactl_dma_buf *other = alloc_buf(64 * KiB);
	int fd = open(c.path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fpgactl_stream_read(c.st, fd, 0, c.a, c.a->size - 10, 11), -EINVAL);
	assert_true(log_has("leave the"));
	assert_int_equal(fpgactl_stream_read(c.st, fd, 0, c.a, c.a->size + 1, 0), -EINVAL);
	assert_int_equal(fpgactl_stream_read(c.st, fd, 0, other, 0, 4096), -EINVAL);
	assert_true(log_has("not registered with this stream"));
	assert_int_equal(fpgactl_stream_read(c.st, -1, 0, c.a, 0, 4096), -EBADF);
	close(fd);
	/* Write errors come back: a read-only descriptor. */
	fd = open(c.path, O_RDONLY);
	assert_int_equal(fpgactl_stream_write(c.st, fd, 0, c.a, 0, 4096), -EBADF);
	close(fd);
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, "/nonexistent/x", c.a, 0, 4096,
						    NULL, NULL), -ENOENT);
	assert_true(log_has("cannot open /nonexistent/x"));
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, "/var/tmp", c.a, 0, 4096,
						    NULL, NULL), -EINVAL);
	assert_int_equal(fpgactl_stream_file_to_buf(c.st, "/dev/null", c.a, 0, 4096,
						    NULL, NULL), -EINVAL);
	assert_true(log_has("neither a regular file nor a block device"));
	fpgactl_dma_free(other);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_errors),
		T(test_file_to_buf_direct),
		T(test_file_to_buf_offsets),
		T(test_tmpfs),
		T(test_no_direct_at_open),
		T(test_no_direct_at_io),
		T(test_buf_to_file),
		T(test_cancel),
		T(test_user_fds),
		T(test_io_modes),
		T(test_partly_cached),
		T(test_pick_read),
		T(test_short_read_eof),
		T(test_short_write),
		T(test_bad_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
