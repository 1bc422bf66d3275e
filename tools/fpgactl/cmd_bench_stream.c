// SPDX-License-Identifier: MIT
/*
 * fpgactl bench stream: file -> DMA buffer and DMA buffer -> file
 * throughput and CPU time, several ways, same run:
 *
 *   io_uring: fpgactl_stream_file_to_buf() / _buf_to_file(): the DMA buffer
 *	registered with io_uring as a fixed buffer, READ_FIXED / WRITE_FIXED
 *	requests straight between it and the file, no copy in user space; in
 *	the stream's three I/O modes (auto: per request, reads of what the
 *	page cache holds through it, the rest and writes O_DIRECT; cached:
 *	reads of requests all in the cache through it, the rest O_DIRECT;
 *	buffered: the page cache);
 *   read+memcpy / memcpy+write: the baseline: read() of one chunk into a
 *	bounce buffer, then memcpy() into the DMA buffer (or memcpy() out of
 *	it, then write()), buffered I/O.
 *
 * each at chunk sizes of 4 KiB, 128 KiB and 1 MiB
 * (fpgactl_stream_set_chunk_size() and the read()/write() size), page cache
 * cold and warm, the runs of a round in alternating order, the data checked
 * after every run.  The DMA buffer belongs to -d (default: the model), so no
 * hardware is needed.
 *
 * A benchmark, not a test: it judges no number.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <fpgactl.h>

#include "bench.h"
#include "device_arg.h"
#include "dma_args.h"
#include "sc_util.h"
#include "util.h"

#define CMD "bench"
#define DEFAULT_DEVICE MODEL_NAME
#define DEFAULT_SIZE ((uint64_t)64 << 20)
#define MAX_SIZE ((uint64_t)64 << 30)
#define DEFAULT_ROUNDS 5
#define MAX_ROUNDS 100
#define STREAM_DEPTH 32
#define MAX_CHUNK ((size_t)1 << 20)
#define GEN_BLOCK ((size_t)1 << 20)	/* bytes per write() making the temporary file */

static const size_t chunks[] = { (size_t)4 << 10, (size_t)128 << 10, (size_t)1 << 20 };

/* The page cache before a run: the file's pages dropped, or all cached. */
enum cache { C_COLD, C_WARM, NR_CACHES };

static const char *const cache_names[NR_CACHES] = { [C_COLD] = "cold", [C_WARM] = "warm" };

/* file -> buffer, buffer -> file */
enum dir { D_READ, D_WRITE, NR_DIRS };

static const char *const dir_names[NR_DIRS] = { [D_READ] = "file>buf", [D_WRITE] = "buf>file" };

/* E_BASE: the baseline; the others: the library in one of its I/O modes. */
enum engine { E_BASE, E_AUTO, E_CACHED, E_BUFFERED, NR_ENGINES };

static const char *const engine_names[NR_DIRS][NR_ENGINES] = {
	[D_READ] = { "read+memcpy", "io_uring", "uring-cached", "uring-buffer" },
	[D_WRITE] = { "memcpy+write", "io_uring", "uring-cached", "uring-buffer" },
};

static const enum fpgactl_stream_io engine_io[NR_ENGINES] = {
	[E_AUTO] = FPGACTL_STREAM_IO_AUTO,
	[E_CACHED] = FPGACTL_STREAM_IO_CACHED,
	[E_BUFFERED] = FPGACTL_STREAM_IO_BUFFERED,
};

/*
 * Variant v: engine v % NR_ENGINES, chunk (v / NR_ENGINES) % chunks, cache
 * (v / NR_ENGINES / chunks) % NR_CACHES, direction the rest.
 */
#define NR_CHUNKS ARRAY_SIZE(chunks)
#define NR_VARIANTS (NR_DIRS * NR_CACHES * NR_CHUNKS * NR_ENGINES)
#define V_ENGINE(v) ((enum engine)((v) % NR_ENGINES))
#define V_CHUNK(v) (chunks[(v) / NR_ENGINES % NR_CHUNKS])
#define V_CACHE(v) ((enum cache)((v) / NR_ENGINES / NR_CHUNKS % NR_CACHES))
#define V_DIR(v) ((enum dir)((v) / NR_ENGINES / NR_CHUNKS / NR_CACHES))

/**
 * struct sbench - one bench stream invocation
 * @device: device name
 * @size: bytes per run
 * @rounds: runs of each variant
 * @path: the file read
 * @out_path: the file written (a temporary one)
 * @temp_dir: where the temporary files are
 * @dev: the device whose DMA buffer is filled
 * @buf: that buffer
 * @st: the stream, @buf registered
 * @bounce: read()'s buffer, MAX_CHUNK bytes
 * @reference: hash of the file's first @size bytes
 * @mbs: MB/s per variant (see NR_VARIANTS) and round
 * @cpu: CPU seconds (user + system, all threads) per GiB, per variant and round
 * @max_cached: most pages of the file found in the page cache after a drop
 * @drop_caches: the file system kept the pages: drop_caches was used (root)
 * @model_tid: the software model's device thread, 0 for a PCI device
 * @progress: progress bar, in runs
 */
struct sbench {
	char device[FPGACTL_DEVICE_NAME_MAX];
	uint64_t size;
	uint64_t rounds;
	const char *path;
	const char *out_path;
	const char *temp_dir;
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *buf;
	struct fpgactl_stream *st;
	uint8_t *bounce;
	uint64_t reference;
	double *mbs[NR_VARIANTS];
	double *cpu[NR_VARIANTS];
	uint64_t max_cached;
	bool drop_caches;
	pid_t model_tid;
	struct progress progress;
};

/*
 * The temporary file has no name from the moment it exists (O_TMPFILE, or
 * unlinked right after mkstemp()), so that nothing is left behind whatever
 * ends the process (SIGKILL, SIGHUP, a crash).  The runs reopen it through
 * /proc/self/fd/N, in @temp_path; @temp_fd keeps it alive.
 */
static char temp_path[64], out_temp_path[64];
static int temp_fd = -1, out_temp_fd = -1;

/* ---- arguments ----------------------------------------------------------------------- */

static int parse_args(const struct invocation *inv, struct sbench *b)
{
	struct stat sb;
	int status;

	status = parse_device_or_model(CMD, inv->device ? inv->device : DEFAULT_DEVICE,
				       b->device, sizeof(b->device));
	if (!status)
		status = parse_size_option(inv, DEFAULT_SIZE, MAX_SIZE, &b->size);
	if (!status)
		status = parse_rounds_option(inv, DEFAULT_ROUNDS, MAX_ROUNDS, &b->rounds);
	if (status || !inv->file)
		return status;
	b->path = inv->file;
	if (stat(b->path, &sb) || access(b->path, R_OK))
		return usage_error(CMD, "cannot read '%s': %s", b->path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return usage_error(CMD, "'%s' is not a regular file", b->path);
	if (!sb.st_size)
		return usage_error(CMD, "'%s' is empty", b->path);
	/* Without --size: the default, or the whole file when it is smaller. */
	if (!inv->size)
		b->size = (uint64_t)sb.st_size < b->size ? (uint64_t)sb.st_size : b->size;
	else if ((uint64_t)sb.st_size < b->size)
		return usage_error(CMD, "'%s' has %jd bytes, fewer than --size %" PRIu64,
				   b->path, (intmax_t)sb.st_size, b->size);
	return STATUS_OK;
}

/* ---- the file -------------------------------------------------------------------------- */

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A file without a name in @dir, open for reading and writing; -errno. */
static int open_unnamed(const char *dir)
{
	char name[PATH_MAX];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd >= 0 ? fd : -errno;
	/* A file system without O_TMPFILE: a name for a moment only. */
	if ((size_t)snprintf(name, sizeof(name), "%s/fpgactl-bench-stream-XXXXXX", dir) >=
	    sizeof(name))
		return -ENAMETOOLONG;
	fd = mkostemp(name, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	unlink(name);
	return fd;
}

static const char *temp_dir(void)
{
	const char *dir = getenv("TMPDIR");

	/* on disk: /tmp may be tmpfs, which keeps no page cache apart */
	return dir && *dir ? dir : "/var/tmp";
}

/* The empty temporary file the buffer -> file runs write. */
static int make_out_file(struct sbench *b)
{
	int fd = open_unnamed(b->temp_dir);

	if (fd < 0)
		return failure(CMD, "cannot create a temporary file in %s: %s", b->temp_dir,
			       strerror(-fd));
	out_temp_fd = fd;
	snprintf(out_temp_path, sizeof(out_temp_path), "/proc/self/fd/%d", fd);
	b->out_path = out_temp_path;
	return STATUS_OK;
}

/* A temporary file of @size pseudo-random bytes in $TMPDIR or /var/tmp. */
static int make_temp_file(struct sbench *b)
{
	const char *dir = b->temp_dir;
	uint64_t seed = 0x9e3779b97f4a7c15ull, left = b->size;
	uint64_t *block = malloc(GEN_BLOCK);
	int fd, err = 0;

	fd = block ? open_unnamed(dir) : -ENOMEM;
	if (fd < 0) {
		free(block);
		return failure(CMD, "cannot create a temporary file in %s: %s", dir,
			       strerror(-fd));
	}
	temp_fd = fd;
	snprintf(temp_path, sizeof(temp_path), "/proc/self/fd/%d", fd);
	while (left && !err) {
		size_t n = left < GEN_BLOCK ? (size_t)left : GEN_BLOCK;

		for (size_t i = 0; i < GEN_BLOCK / sizeof(*block); i++)
			block[i] = xorshift(&seed);
		if (write(fd, block, n) != (ssize_t)n)
			err = errno ? errno : EIO;
		left -= n;
	}
	if (!err && fsync(fd))
		err = errno;
	free(block);
	if (err)
		return failure(CMD, "writing a temporary file in %s: %s", dir, strerror(err));
	b->path = temp_path;
	return STATUS_OK;
}

/* Pages of the file's first @size bytes in the page cache. */
static uint64_t cached_pages(const struct sbench *b, int fd)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = (b->size + page - 1) / page;
	unsigned char *vec = malloc(pages);
	void *map = mmap(NULL, b->size, PROT_READ, MAP_SHARED, fd, 0);
	uint64_t n = 0;

	if (vec && map != MAP_FAILED && !mincore(map, b->size, vec))
		for (size_t i = 0; i < pages; i++)
			n += vec[i] & 1;
	if (map != MAP_FAILED)
		munmap(map, b->size);
	free(vec);
	return n;
}

/*
 * Drop the file's pages from the page cache: posix_fadvise(DONTNEED) (clean
 * pages go), checked with mincore(); as root, when pages stayed, the whole
 * page cache (/proc/sys/vm/drop_caches).
 */
static void drop_cache(struct sbench *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t left;

	if (fd < 0)
		return;
	fsync(fd);	/* dirty pages cannot be dropped */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	left = cached_pages(b, fd);
	if (left && geteuid() == 0) {
		int dc = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

		if (dc >= 0) {
			if (write(dc, "1", 1) == 1)
				b->drop_caches = true;
			close(dc);
			left = cached_pages(b, fd);
		}
	}
	if (left > b->max_cached)
		b->max_cached = left;
	close(fd);
}

/* Bring the whole file into the page cache (a warm run). */
static void warm_cache(struct sbench *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
	for (uint64_t off = 0; off < b->size;) {
		ssize_t n = read(fd, b->bounce, MAX_CHUNK);

		if (n <= 0)
			break;
		off += (uint64_t)n;
	}
	close(fd);
}

/*
 * The thread id of the software model's device thread (comm
 * "fpgactl-model", lib/sim/model.c), or 0: it polls while the model is open,
 * whatever the runs do, so its CPU time is not the runs'.
 */
static pid_t model_thread(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	pid_t tid = 0;

	while (d && !tid && (e = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "re");
		if (f && fgets(comm, sizeof(comm), f) && !strcmp(comm, "fpgactl-model\n"))
			tid = (pid_t)atoi(e->d_name);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return tid;
}

/* CPU time of thread @tid in ns (the kernel's per-thread CPU clock), 0 for none. */
static uint64_t thread_cpu_ns(pid_t tid)
{
	/* MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED), include/linux/posix-timers_types.h */
	clockid_t clock = (clockid_t)((~(unsigned int)tid << 3) | 2 | 4);
	struct timespec ts;

	if (!tid || clock_gettime(clock, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * CPU time of the process (its io_uring workers included) but not of the
 * model's device thread @model (0: none), in ns.
 */
static uint64_t cpu_ns(pid_t model)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u -
	       thread_cpu_ns(model);
}

/* A hash of the buffer's first @size bytes, to check each run's result. */
static uint64_t hash(const uint8_t *p, uint64_t size)
{
	uint64_t h = 0xcbf29ce484222325ull, w;
	uint64_t i = 0;

	for (; i + 8 <= size; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
	}
	for (; i < size; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* ---- the runs -------------------------------------------------------------------------- */

static int run_read(struct sbench *b, const char *path, size_t chunk)
{
	uint8_t *dst = b->buf->vaddr;
	uint64_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return failure(CMD, "cannot open %s: %s", path, strerror(errno));
	while (off < b->size) {
		size_t want = b->size - off < chunk ? (size_t)(b->size - off) : chunk;
		ssize_t n = read(fd, b->bounce, want);

		if (n <= 0) {
			int err = n ? errno : EIO;

			close(fd);
			return failure(CMD, "reading %s at offset %" PRIu64 ": %s", path, off,
				       n ? strerror(err) : "unexpected end of file");
		}
		memcpy(dst + off, b->bounce, (size_t)n);
		off += (uint64_t)n;
	}
	close(fd);
	return STATUS_OK;
}

/* fsync() @path: the write runs' data is on the storage when they end. */
static int sync_path(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0 || fsync(fd))
		err = errno;
	if (fd >= 0)
		close(fd);
	if (err)
		return failure(CMD, "fsync %s: %s", path, strerror(err));
	return STATUS_OK;
}

/* The baseline of the other direction: memcpy() out of the buffer, write(), fsync(). */
static int run_write(struct sbench *b, size_t chunk)
{
	const uint8_t *src = b->buf->vaddr;
	uint64_t off = 0;
	int fd = open(b->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), err = 0;

	if (fd < 0)
		return failure(CMD, "cannot open %s: %s", b->out_path, strerror(errno));
	while (off < b->size && !err) {
		size_t want = b->size - off < chunk ? (size_t)(b->size - off) : chunk;
		ssize_t n;

		memcpy(b->bounce, src + off, want);
		n = write(fd, b->bounce, want);
		if (n <= 0)
			err = n ? errno : EIO;
		else
			off += (uint64_t)n;
	}
	if (!err && fsync(fd))
		err = errno;
	close(fd);
	if (err)
		return failure(CMD, "writing %s at offset %" PRIu64 ": %s", b->out_path, off,
			       strerror(err));
	return STATUS_OK;
}

static int run_uring_write(struct sbench *b)
{
	ssize_t n = fpgactl_stream_buf_to_file(b->st, b->buf, 0, (size_t)b->size, b->out_path,
					       NULL, NULL);

	if (n < 0)
		return failure(CMD, "fpgactl_stream_buf_to_file(%s): %s", b->out_path,
			       errno_text((int)n));
	return sync_path(b->out_path);
}

static int run_uring(struct sbench *b, enum dir d, enum engine e, size_t chunk)
{
	ssize_t n;

	if (fpgactl_stream_set_chunk_size(b->st, chunk) || fpgactl_stream_set_io(b->st, engine_io[e]))
		return failure(CMD, "chunk size %zu or I/O mode %d refused", chunk, (int)engine_io[e]);
	if (d == D_WRITE)
		return run_uring_write(b);
	n = fpgactl_stream_file_to_buf(b->st, b->path, b->buf, 0, (size_t)b->size, NULL, NULL);
	if (n < 0)
		return failure(CMD, "fpgactl_stream_file_to_buf(%s): %s", b->path,
			       errno_text((int)n));
	if ((uint64_t)n != b->size)
		return failure(CMD, "fpgactl_stream_file_to_buf(%s) read %zd bytes of %" PRIu64,
			       b->path, n, b->size);
	return STATUS_OK;
}

/* After a write run: does the file written hold the buffer's data? (untimed) */
static int check_written(struct sbench *b)
{
	struct stat sb;

	if (stat(b->out_path, &sb) || (uint64_t)sb.st_size != b->size)
		return failure(CMD, "%s does not have %" PRIu64 " bytes after the run", b->out_path,
			       b->size);
	memset(b->buf->vaddr, 0xa5, (size_t)b->size);
	return run_read(b, b->out_path, MAX_CHUNK); /* the buffer holds the file again */
}

/* One timed run of variant @v in round @round. */
static int run_variant(struct sbench *b, unsigned int v, uint64_t round)
{
	size_t chunk = V_CHUNK(v);
	enum engine e = V_ENGINE(v);
	enum dir d = V_DIR(v);
	const char *path = d == D_READ ? b->path : b->out_path;
	uint64_t start, ns, cpu;
	int status;

	if (d == D_READ)
		memset(b->buf->vaddr, 0xa5, (size_t)b->size); /* a stale result cannot pass */
	if (V_CACHE(v) == C_COLD)
		drop_cache(b, path);
	else
		warm_cache(b, path);
	cpu = cpu_ns(b->model_tid);
	start = mono_ns();
	if (e != E_BASE)
		status = run_uring(b, d, e, chunk);
	else
		status = d == D_READ ? run_read(b, b->path, chunk) : run_write(b, chunk);
	ns = mono_ns() - start;
	cpu = cpu_ns(b->model_tid) - cpu;
	if (!status && d == D_WRITE)
		status = check_written(b);
	if (status)
		return status;
	if (hash(b->buf->vaddr, b->size) != b->reference)
		return failure(CMD, "%s %s with %zu KiB chunks: the %s does not hold the data",
			       dir_names[d], engine_names[d][e], chunk >> 10,
			       d == D_READ ? "buffer" : "file");
	b->mbs[v][round] = (double)b->size / 1e6 / ((double)ns / 1e9);
	b->cpu[v][round] = (double)cpu / 1e9 / ((double)b->size / (double)(1ull << 30));
	return STATUS_OK;
}

static const char *fs_name(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf))
		return "unknown file system";
	switch ((unsigned long)sf.f_type) {
	case 0xEF53:
		return "ext4";
	case 0x58465342:
		return "xfs";
	case 0x9123683E:
		return "btrfs";
	case 0x01021994:
		return "tmpfs";
	case 0x794c7630:
		return "overlayfs";
	case 0x6969:
		return "nfs";
	case 0x65735546:
		return "fuse";
	default:
		return "other file system";
	}
}

static void print_header(const struct sbench *b, bool temporary)
{
	char size[32], page[32];

	format_size(size, sizeof(size), b->size);
	page_size_text(page, sizeof(page), b->buf->page_size);
	if (temporary)
		printf("bench stream: %s from a temporary file in %s (unlinked, %s)", size,
		       b->temp_dir, fs_name(b->path));
	else
		printf("bench stream: %s from %s (%s)", size, b->path, fs_name(b->path));
	printf(" into a DMA buffer of %s (%s pages) and back into a temporary file in %s, "
	       "%" PRIu64 " round(s) in alternating order, medians\n", b->device, page,
	       b->temp_dir, b->rounds);
	printf("io_uring = fpgactl_stream_file_to_buf() / _buf_to_file(): READ_FIXED / "
	       "WRITE_FIXED between the file and the registered DMA buffer, %d in flight, "
	       "requests of max(chunk, 4 MiB); I/O mode AUTO (reads: per request, the part in "
	       "the page cache through the cache, the rest O_DIRECT; writes O_DIRECT); "
	       "uring-cached: mode CACHED (reads of requests all in the page cache through "
	       "the cache, the rest O_DIRECT); uring-buffer: mode BUFFERED (the page cache)\n", STREAM_DEPTH);
	printf("read+memcpy = read() of one chunk into a bounce buffer, then memcpy() into "
	       "the DMA buffer; memcpy+write = memcpy() of one chunk out of the DMA buffer, "
	       "then write(); buffered I/O (the baselines)\n");
	printf("buf>file runs: the file truncated, written, fsync()ed (all timed, both "
	       "methods), then read back and checked (untimed)\n");
	printf("cold: the file's pages dropped before the run (fsync, posix_fadvise "
	       "DONTNEED%s; at most %" PRIu64 " page(s) still cached after a drop); warm: the "
	       "whole file read into the page cache first\n",
	       b->drop_caches ? ", then /proc/sys/vm/drop_caches" : "", b->max_cached);
	printf("cpu_s/GiB = user + system CPU time of the process (getrusage(RUSAGE_SELF): "
	       "all its threads, io_uring's workers included; not the kernel's writeback "
	       "threads)%s per GiB moved\n",
	       b->model_tid ? ", less the model's device thread (it polls whatever the run "
	       "does)" : "");
}

static void print_results(struct sbench *b, bool temporary)
{
	double med[NR_VARIANTS], cpu[NR_VARIANTS];

	for (unsigned int v = 0; v < NR_VARIANTS; v++) {
		cpu[v] = median(b->cpu[v], b->rounds);
		med[v] = median(b->mbs[v], b->rounds); /* sorts */
	}
	print_header(b, temporary);
	printf("%-8s %-8s %-5s %-12s %9s %9s %9s %6s %9s %9s\n", "dir", "chunk", "cache",
	       "method", "MB/s", "min", "max", "ratio", "cpu_s/GiB", "cpu_ratio");
	for (unsigned int v = 0; v < NR_VARIANTS; v++) {
		enum engine e = V_ENGINE(v);
		unsigned int base = v - e + E_BASE;
		char text[32];

		format_size(text, sizeof(text), V_CHUNK(v));
		printf("%-8s %-8s %-5s %-12s %9.1f %9.1f %9.1f ", dir_names[V_DIR(v)], text,
		       cache_names[V_CACHE(v)], engine_names[V_DIR(v)][e], med[v], b->mbs[v][0],
		       b->mbs[v][b->rounds - 1]);
		if (e == E_BASE)
			printf("%6s %9.3f %9s\n", "-", cpu[v], "-");
		else
			printf("%6.2f %9.3f %9.2f\n", med[base] > 0 ? med[v] / med[base] : 0.0,
			       cpu[v], cpu[base] > 0 ? cpu[v] / cpu[base] : 0.0);
	}
	printf("MB/s = median of the rounds (min, max: the spread); ratio = MB/s / the "
	       "baseline's at the same direction, chunk size and cache: above 1, faster; "
	       "cpu_ratio = CPU per GiB / the baseline's: below 1, less CPU\n");
}

static int set_up(const struct invocation *inv, struct sbench *b)
{
	int err = 0, status;

	status = open_device(inv, b->device, &b->dev);
	if (status)
		return status;
	b->buf = dma_alloc_quiet(b->dev, (size_t)b->size, 1, &err);
	if (!b->buf)
		return failure(CMD, "%s: DMA buffer of %" PRIu64 " bytes: %s", b->device, b->size,
			       errno_text(err));
	b->model_tid = model_thread();
	b->st = fpgactl_stream_create(STREAM_DEPTH, &b->buf, 1, &err);
	if (!b->st)
		return failure(CMD, "io_uring stream: %s", errno_text(err));
	b->bounce = aligned_alloc(4096, MAX_CHUNK);
	for (unsigned int v = 0; v < NR_VARIANTS; v++) {
		b->mbs[v] = calloc(b->rounds, sizeof(double));
		b->cpu[v] = calloc(b->rounds, sizeof(double));
		if (!b->mbs[v] || !b->cpu[v])
			return failure(CMD, "%s", errno_text(ENOMEM));
	}
	if (!b->bounce)
		return failure(CMD, "%s", errno_text(ENOMEM));
	b->temp_dir = temp_dir();
	if (!b->path) {
		status = make_temp_file(b);
		if (status)
			return status;
	}
	status = make_out_file(b);
	if (status)
		return status;
	/* The reference, and a check of the file's length. */
	status = run_read(b, b->path, MAX_CHUNK);
	if (status)
		return status;
	b->reference = hash(b->buf->vaddr, b->size);
	return STATUS_OK;
}

static void tear_down(struct sbench *b)
{
	fpgactl_stream_destroy(b->st);
	fpgactl_dma_free(b->buf);
	fpgactl_device_close(b->dev);
	free(b->bounce);
	for (unsigned int v = 0; v < NR_VARIANTS; v++) {
		free(b->mbs[v]);
		free(b->cpu[v]);
	}
	if (temp_fd >= 0)
		close(temp_fd);
	if (out_temp_fd >= 0)
		close(out_temp_fd);
	temp_fd = out_temp_fd = -1;
}

int run_bench_stream(const struct invocation *inv)
{
	struct sbench b = { 0 };
	bool temporary = !inv->file;
	uint64_t done = 0;
	int status = parse_args(inv, &b);

	if (status)
		return status;
	status = set_up(inv, &b);
	if (!status)
		progress_start(&b.progress, "stream", b.rounds * NR_VARIANTS, false);
	for (uint64_t r = 0; r < b.rounds && !status; r++) {
		for (unsigned int k = 0; k < NR_VARIANTS && !status; k++) {
			/* Even rounds in order, odd rounds backwards. */
			unsigned int v = r % 2 ? (unsigned int)NR_VARIANTS - 1 - k : k;

			status = run_variant(&b, v, r);
			progress_update(&b.progress, ++done);
		}
	}
	progress_end(&b.progress);
	if (!status)
		print_results(&b, temporary);
	tear_down(&b);
	return status;
}
