// SPDX-License-Identifier: MIT
/*
 * Zero-copy file <-> DMA buffer transfers on an io_uring: the DMA buffers
 * are registered (fixed) buffers, requests are READ_FIXED / WRITE_FIXED of
 * one chunk each, up to the stream's depth of them in flight.
 *
 * Requests are at least COALESCE bytes where the buffer is contiguous,
 * whatever the chunk size.  The whole-file helpers open the file with
 * O_DIRECT when the buffer is aligned and the mode is not BUFFERED.  Reads
 * then look at the page cache (mincore() on a mapping of the file) just
 * before each request: in mode AUTO, the part of the request's window that
 * is cached goes through the buffered descriptor (one copy by the kernel
 * from the cache rather than a trip to the storage) and the part that is
 * not goes O_DIRECT, the window cut where the cache starts or stops
 * covering it (stream_pick_read(), lib/dma/stream_policy.c); in mode
 * CACHED, only a window all in the cache goes through it.  The last
 * partial block (O_DIRECT wants whole blocks) goes through the buffered
 * descriptor, and so does everything when the file system refuses
 * O_DIRECT, at open (EINVAL) or at the first request (EINVAL).
 */
#include <fcntl.h>
#include <liburing.h>
#include <sys/mman.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/core.h"
#include "stream_policy.h"

#define MAX_DEPTH 4096
#define DEFAULT_CHUNK ((size_t)1 << 20)
#define MAX_CHUNK ((size_t)64 << 20)
/*
 * Smallest request where the buffer range is contiguous (one registered
 * buffer): a smaller chunk size costs a request per chunk and gains nothing,
 * as the destination is one range of memory either way (docs/interrupts.md,
 * streaming: measured with fpgactl bench stream).
 */
#define COALESCE ((size_t)4 << 20)
/* io_uring refuses a registered buffer above 1 GiB. */
#define MAX_REG ((size_t)1 << 30)
/* Enough for O_DIRECT on every logical block size up to 4 KiB. */
#define DIO_ALIGN ((uint64_t)4096)

/*
 * Tests only: act as a file system that refuses O_DIRECT, at open (bit 0)
 * or on the first request (bit 1).
 */
unsigned int stream_test_no_direct;

/* One registered buffer (a DMA buffer, or 1 GiB of one). */
struct piece {
	uintptr_t va;
	size_t len;
};

struct xslot {
	uint64_t off;		/* from the start of the transfer */
	uint32_t len;
	uint32_t done;
	bool busy;
	bool direct;		/* goes through the O_DIRECT descriptor */
};

struct fpgactl_stream {
	struct io_uring ring;
	unsigned int depth;
	size_t chunk;
	struct piece *pieces;
	unsigned int nr_pieces;
	struct xslot *slots;
	enum fpgactl_stream_io io;
	bool broken;
	struct fpgactl_stream_stats stats;
};

/**
 * struct xfer - one transfer
 * @write: file <- buffer
 * @fd: main descriptor
 * @fd_buf: buffered descriptor of the same file for the tail and for the
 *	fallback, -1 when there is none (the caller's own fd)
 * @fd_direct: @fd has O_DIRECT
 * @direct_end: [0, @direct_end) goes through @fd when @fd_direct and
 *	@fd_buf exists; the rest through @fd_buf
 * @file_off: file offset of the start
 * @va: buffer address of the start
 * @len: bytes
 * @progress, @arg: the caller's callback
 * @path: for messages
 * @map: a read-only mapping of the file's first @map_len bytes, for
 *	mincore(), or NULL: every request goes the way @direct_end says
 * @split: cut read windows where the page cache starts or stops covering
 *	them (mode AUTO); else a window goes through the cache only when it
 *	is all in it (mode CACHED)
 */
struct xfer {
	bool write;
	int fd;
	int fd_buf;
	bool fd_direct;
	uint64_t direct_end;
	uint64_t file_off;
	uint8_t *va;
	uint64_t len;
	fpgactl_stream_progress_fn progress;
	void *arg;
	const char *path;
	void *map;
	size_t map_len;
	bool split;
	/* state */
	uint64_t next;
	uint64_t done;
	uint64_t eof_at;
	unsigned int inflight;
	int error;
};

/* The registered buffer holding @va, or -1. */
static int piece_of(const struct fpgactl_stream *st, uintptr_t va)
{
	for (unsigned int i = 0; i < st->nr_pieces; i++)
		if (va >= st->pieces[i].va && va - st->pieces[i].va < st->pieces[i].len)
			return (int)i;
	return -1;
}

/* Is [va, va + len) covered by registered buffers? */
static bool registered(const struct fpgactl_stream *st, uintptr_t va, size_t len)
{
	while (len) {
		int i = piece_of(st, va);
		size_t n;

		if (i < 0)
			return false;
		n = st->pieces[i].va + st->pieces[i].len - va;
		if (n >= len)
			return true;
		va += n;
		len -= n;
	}
	return true;
}

static int log_register_error(int ret, size_t bytes)
{
	if (ret == -ENOMEM)
		log_err("stream: io_uring could not pin %zu KiB of DMA buffers: "
			"RLIMIT_MEMLOCK is too low (the pages count once for VFIO "
			"and once for io_uring); raise it (ulimit -l, systemd "
			"LimitMEMLOCK=) or give the process CAP_IPC_LOCK",
			bytes >> 10);
	else if (ret == -EOPNOTSUPP || ret == -EFAULT)
		log_err("stream: io_uring refused to register the DMA buffers (%s): "
			"file-backed memory other than hugetlbfs is not accepted by "
			"this kernel; allocate them with hugepages", strerror(-ret));
	else
		log_err("stream: registering the DMA buffers with io_uring failed: %s",
			strerror(-ret));
	return ret;
}

static int stream_setup(struct fpgactl_stream *st, struct fpgactl_dma_buf *const *bufs,
			unsigned int nbufs)
{
	struct iovec *iov;
	size_t total = 0;
	unsigned int n = 0;
	int ret;

	for (unsigned int i = 0; i < nbufs; i++)
		n += (unsigned int)((bufs[i]->size + MAX_REG - 1) / MAX_REG);
	st->pieces = calloc(n, sizeof(*st->pieces));
	iov = calloc(n, sizeof(*iov));
	st->slots = calloc(st->depth, sizeof(*st->slots));
	if (!st->pieces || !iov || !st->slots) {
		free(iov);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < nbufs; i++)
		for (size_t off = 0; off < bufs[i]->size; off += MAX_REG) {
			size_t len = bufs[i]->size - off < MAX_REG ?
				     bufs[i]->size - off : MAX_REG;

			iov[st->nr_pieces].iov_base = (uint8_t *)bufs[i]->vaddr + off;
			iov[st->nr_pieces].iov_len = len;
			st->pieces[st->nr_pieces].va = (uintptr_t)bufs[i]->vaddr + off;
			st->pieces[st->nr_pieces++].len = len;
			total += len;
		}
	ret = io_uring_queue_init(st->depth, &st->ring, 0);
	if (ret) {
		if (ret == -EPERM || ret == -ENOSYS)
			log_err("stream: io_uring is unavailable (%s): set sysctl "
				"kernel.io_uring_disabled=0, or allow io_uring_setup "
				"in the container's seccomp profile", strerror(-ret));
		else
			log_err("stream: io_uring_setup(%u) failed: %s", st->depth,
				strerror(-ret));
		free(iov);
		return ret;
	}
	ret = io_uring_register_buffers(&st->ring, iov, st->nr_pieces);
	free(iov);
	if (ret) {
		io_uring_queue_exit(&st->ring);
		return log_register_error(ret, total);
	}
	return 0;
}

FPGACTL_EXPORT struct fpgactl_stream *fpgactl_stream_create(unsigned int depth,
							    struct fpgactl_dma_buf *const *bufs,
							    unsigned int nbufs, int *err)
{
	struct fpgactl_stream *st = NULL;
	int ret = -EINVAL;

	if (!depth || depth > MAX_DEPTH || !bufs || !nbufs) {
		log_err("stream: depth %u with %u buffers: use a depth of 1 to %u and "
			"at least one DMA buffer", depth, nbufs, MAX_DEPTH);
		goto fail;
	}
	for (unsigned int i = 0; i < nbufs; i++)
		if (!bufs[i] || !bufs[i]->size) {
			log_err("stream: buffer %u is missing", i);
			goto fail;
		}
	ret = -ENOMEM;
	st = calloc(1, sizeof(*st));
	if (!st)
		goto fail;
	st->depth = depth;
	st->chunk = DEFAULT_CHUNK;
	ret = stream_setup(st, bufs, nbufs);
	if (!ret)
		return st;
	free(st->pieces);
	free(st->slots);
	free(st);
fail:
	if (err)
		*err = ret;
	return NULL;
}

FPGACTL_EXPORT void fpgactl_stream_destroy(struct fpgactl_stream *st)
{
	if (!st)
		return;
	io_uring_queue_exit(&st->ring);
	free(st->pieces);
	free(st->slots);
	free(st);
}

FPGACTL_EXPORT int fpgactl_stream_set_chunk_size(struct fpgactl_stream *st,
						 size_t bytes)
{
	if (bytes < DIO_ALIGN || bytes > MAX_CHUNK || bytes % DIO_ALIGN) {
		log_err("stream: chunk size %zu: use a multiple of 4096 from 4 KiB "
			"to 64 MiB", bytes);
		return -EINVAL;
	}
	st->chunk = bytes;
	return 0;
}

FPGACTL_EXPORT int fpgactl_stream_set_io(struct fpgactl_stream *st,
					 enum fpgactl_stream_io io)
{
	if (io != FPGACTL_STREAM_IO_AUTO && io != FPGACTL_STREAM_IO_CACHED &&
	    io != FPGACTL_STREAM_IO_BUFFERED) {
		log_err("stream: I/O mode %d: use FPGACTL_STREAM_IO_AUTO, _CACHED or "
			"_BUFFERED", (int)io);
		return -EINVAL;
	}
	st->io = io;
	return 0;
}

FPGACTL_EXPORT void fpgactl_stream_get_stats(const struct fpgactl_stream *st,
					     struct fpgactl_stream_stats *stats)
{
	*stats = st->stats;
}

/* ---- the transfer engine ------------------------------------------------------ */

static void submit_slot(struct fpgactl_stream *st, struct xfer *x, unsigned int i)
{
	struct xslot *s = &st->slots[i];
	uint8_t *addr = x->va + s->off + s->done;
	unsigned int n = s->len - s->done;
	uint64_t off = x->file_off + s->off + s->done;
	int fd = s->direct || x->fd_buf < 0 ? x->fd : x->fd_buf;
	int idx = piece_of(st, (uintptr_t)addr);
	/* Never NULL: at most depth requests are in flight. */
	struct io_uring_sqe *sqe = io_uring_get_sqe(&st->ring);

	if (x->write)
		io_uring_prep_write_fixed(sqe, fd, addr, n, off, idx);
	else
		io_uring_prep_read_fixed(sqe, fd, addr, n, off, idx);
	io_uring_sqe_set_data64(sqe, i);
	st->stats.requests++;
}

/* Bytes per request: the chunk size, at least COALESCE. */
static uint64_t request_size(const struct fpgactl_stream *st)
{
	return st->chunk > COALESCE ? st->chunk : COALESCE;
}

/*
 * How many of the @len bytes at @off of the transfer the next read request
 * takes, and whether through the page cache (*@direct false) or O_DIRECT:
 * stream_pick_read() on what mincore() says of the window.  Unknown
 * (mincore() failed, no mapping): the whole window, O_DIRECT.
 */
static uint64_t cache_pick(const struct xfer *x, uint64_t off, uint64_t len, bool *direct)
{
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char vec[(MAX_CHUNK > COALESCE ? MAX_CHUNK : COALESCE) / 4096 + 1];
	uint64_t start, end, pos = x->file_off + off;
	size_t n;
	bool cached;

	start = pos / page * page;
	end = pos + len;
	if (end > x->map_len || end <= start)
		return len;
	n = (size_t)((end - start + page - 1) / page);
	if (n > sizeof(vec) || mincore((uint8_t *)x->map + start, end - start, vec))
		return len;
	n = stream_pick_read(vec, n, STREAM_MIN_CACHED_RUN * 4096 / page, x->split, &cached);
	*direct = !cached;
	/* Whole pages from a 4096-aligned @pos: the O_DIRECT alignment holds. */
	return start + n * page - pos < len ? start + n * page - pos : len;
}

/* Start requests while there is room. */
static void fill(struct fpgactl_stream *st, struct xfer *x)
{
	uint64_t req = request_size(st);
	unsigned int i = 0;

	while (!x->error && x->next < x->len && x->next < x->eof_at &&
	       x->inflight < st->depth) {
		struct xslot *s;
		uintptr_t va = (uintptr_t)(x->va + x->next);
		int p = piece_of(st, va);
		uint64_t c = x->len - x->next;
		bool direct;

		if (c > req)
			c = req;
		if (c > st->pieces[p].va + st->pieces[p].len - va)
			c = st->pieces[p].va + st->pieces[p].len - va;
		direct = x->fd_direct && (x->fd_buf < 0 || x->next < x->direct_end);
		if (direct && x->fd_buf >= 0 && c > x->direct_end - x->next)
			c = x->direct_end - x->next;
		if (direct && x->fd_buf >= 0 && !x->write && x->map)
			c = cache_pick(x, x->next, c, &direct);
		while (st->slots[i].busy)
			i++;
		s = &st->slots[i];
		s->direct = direct;
		s->off = x->next;
		s->len = (uint32_t)c;
		s->done = 0;
		s->busy = true;
		submit_slot(st, x, i);
		x->next += c;
		x->inflight++;
	}
}

static void slot_done(struct fpgactl_stream *st, struct xfer *x, struct xslot *s)
{
	s->busy = false;
	x->inflight--;
}

static void complete(struct fpgactl_stream *st, struct xfer *x, unsigned int i, int res)
{
	struct xslot *s = &st->slots[i];

	if (__builtin_expect(stream_test_no_direct & 2, 0) && s->direct)
		res = -EINVAL;
	if (res == -EAGAIN || res == -EINTR) {
		submit_slot(st, x, i);
		return;
	}
	if (res == -EINVAL && s->direct && x->fd_buf >= 0) {
		if (x->direct_end) {
			log_info("stream: %s: the file system refused O_DIRECT I/O; "
				 "continuing with buffered I/O", x->path);
			st->stats.direct_fallbacks++;
		}
		x->direct_end = 0;
		s->direct = false;
		submit_slot(st, x, i);
		return;
	}
	if (res < 0) {
		if (!x->error) {
			x->error = res;
			log_err("stream: %s %s at file offset %llu failed: %s",
				x->write ? "writing" : "reading", x->path,
				(unsigned long long)(x->file_off + s->off + s->done),
				strerror(-res));
		}
		slot_done(st, x, s);
		return;
	}
	if (res == 0) {
		if (x->write) {
			if (!x->error) {
				x->error = -EIO;
				log_err("stream: writing %s at file offset %llu made "
					"no progress (file system full?)", x->path,
					(unsigned long long)(x->file_off + s->off + s->done));
			}
		} else if (s->off + s->done < x->eof_at) {
			x->eof_at = s->off + s->done;	/* end of file */
		}
		slot_done(st, x, s);
		return;
	}
	s->done += (uint32_t)res;
	x->done += (uint64_t)res;
	st->stats.bytes += (uint64_t)res;
	if (s->direct)
		st->stats.direct_bytes += (uint64_t)res;
	if (s->done == s->len) {
		slot_done(st, x, s);
		return;
	}
	/* Short: O_DIRECT stops short of a block only at the end of the file. */
	if (!x->write && s->direct &&
	    ((x->file_off + s->off + s->done) % 512 ||
	     (uintptr_t)(x->va + s->off + s->done) % 512)) {
		if (s->off + s->done < x->eof_at)
			x->eof_at = s->off + s->done;
		slot_done(st, x, s);
		return;
	}
	st->stats.short_transfers++;
	submit_slot(st, x, i);
}

/* Wait for at least one completion; -errno when the ring itself fails. */
static int reap(struct fpgactl_stream *st, struct xfer *x)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	int ret;

	do {
		ret = io_uring_submit_and_wait(&st->ring, 1);
	} while (ret == -EINTR || ret == -EAGAIN || ret == -EBUSY);
	if (ret < 0) {
		log_err("stream: waiting on the io_uring failed: %s", strerror(-ret));
		return ret;
	}
	io_uring_for_each_cqe(&st->ring, head, cqe) {
		complete(st, x, (unsigned int)io_uring_cqe_get_data64(cqe), cqe->res);
		n++;
	}
	io_uring_cq_advance(&st->ring, n);
	return 0;
}

static ssize_t run(struct fpgactl_stream *st, struct xfer *x)
{
	uint64_t total = x->len;
	int ret;

	if (st->broken) {
		log_err("stream: an earlier io_uring failure left requests in an "
			"unknown state; destroy the stream and create another");
		return -EIO;
	}
	x->eof_at = UINT64_MAX;
	for (;;) {
		fill(st, x);
		if (!x->inflight)
			break;
		ret = reap(st, x);
		if (ret) {
			/* Requests may still be in flight: never reuse this ring. */
			st->broken = true;
			return ret;
		}
		if (x->progress && !x->error &&
		    x->progress(x->arg, x->done, x->eof_at < total ? x->eof_at : total))
			x->error = -ECANCELED;
	}
	if (x->error)
		return x->error;
	return (ssize_t)(x->done < x->eof_at ? x->done : x->eof_at);
}

/* Check the buffer range and fill in @x->va and @x->len. */
static int buf_range(struct fpgactl_stream *st, struct xfer *x,
		     const struct fpgactl_dma_buf *buf, size_t buf_off, size_t len)
{
	if (!buf || buf_off > buf->size || len > buf->size - buf_off) {
		log_err("stream: %zu bytes at offset %zu leave the %zu-byte DMA buffer",
			len, buf_off, buf ? buf->size : 0);
		return -EINVAL;
	}
	x->va = (uint8_t *)buf->vaddr + buf_off;
	x->len = len;
	if (!registered(st, (uintptr_t)x->va, len)) {
		log_err("stream: the DMA buffer at %p is not registered with this "
			"stream: pass it to fpgactl_stream_create()", buf->vaddr);
		return -EINVAL;
	}
	return 0;
}

static ssize_t user_xfer(struct fpgactl_stream *st, int fd, uint64_t file_off,
			 const struct fpgactl_dma_buf *buf, size_t buf_off,
			 size_t len, bool write)
{
	struct xfer x = { .write = write, .fd = fd, .fd_buf = -1,
			  .file_off = file_off, .path = "the file" };
	int flags, ret = buf_range(st, &x, buf, buf_off, len);

	if (ret)
		return ret;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0) {
		log_err("stream: fd %d: %s", fd, strerror(errno));
		return -EBADF;
	}
	x.fd_direct = flags & O_DIRECT;
	return run(st, &x);
}

FPGACTL_EXPORT ssize_t fpgactl_stream_read(struct fpgactl_stream *st, int fd,
					   uint64_t file_off,
					   const struct fpgactl_dma_buf *buf,
					   size_t buf_off, size_t len)
{
	return user_xfer(st, fd, file_off, buf, buf_off, len, false);
}

FPGACTL_EXPORT ssize_t fpgactl_stream_write(struct fpgactl_stream *st, int fd,
					    uint64_t file_off,
					    const struct fpgactl_dma_buf *buf,
					    size_t buf_off, size_t len)
{
	return user_xfer(st, fd, file_off, buf, buf_off, len, true);
}

/* ---- whole files ---------------------------------------------------------------- */

/*
 * Open @path with O_DIRECT when @direct, falling back to buffered I/O when
 * the file system refuses it.  Return the fd or -errno (logged).
 */
static int open_file(const char *path, int flags, bool *direct)
{
	int fd = -1, ret = 0;

	if (*direct) {
		if (stream_test_no_direct & 1)
			ret = -EINVAL;
		else if ((fd = open(path, flags | O_DIRECT | O_CLOEXEC, 0644)) < 0)
			ret = -errno;
		if (ret == -EINVAL)
			log_debug("stream: %s: no O_DIRECT on this file system; "
				  "using buffered I/O", path);
	}
	if (fd < 0 && (!*direct || ret == -EINVAL)) {
		*direct = false;
		fd = open(path, flags | O_CLOEXEC, 0644);
		ret = fd < 0 ? -errno : 0;
	}
	if (fd < 0) {
		log_err("stream: cannot open %s: %s%s", path, strerror(-ret),
			ret == -EACCES ? " (check its permissions)" : "");
		return ret;
	}
	return fd;
}

/* Bytes in the file: regular files and block devices. */
static int file_size(int fd, const char *path, uint64_t *size)
{
	struct stat sb;

	int ret;

	if (fstat(fd, &sb)) {
		ret = -errno;
		log_err("stream: fstat %s: %s", path, strerror(-ret));
		return ret;
	}
	if (S_ISREG(sb.st_mode)) {
		*size = (uint64_t)sb.st_size;
		return 0;
	}
	if (S_ISBLK(sb.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size)) {
			ret = -errno;
			log_err("stream: BLKGETSIZE64 %s: %s", path, strerror(-ret));
			return ret;
		}
		return 0;
	}
	log_err("stream: %s is neither a regular file nor a block device", path);
	return -EINVAL;
}

/*
 * Map the file for cache_pick(); without the mapping (mmap refused: some
 * block devices and special file systems) every aligned request goes
 * O_DIRECT, as before.
 */
static void map_for_mincore(struct xfer *x)
{
	void *map;

	if (!x->len)
		return;
	map = mmap(NULL, (size_t)x->len, PROT_READ, MAP_SHARED, x->fd_buf, 0);
	if (map == MAP_FAILED) {
		log_debug("stream: %s: cannot map it to look for cached pages (%s); "
			  "reading it all with O_DIRECT", x->path, strerror(errno));
		return;
	}
	x->map = map;
	x->map_len = (size_t)x->len;
}

/*
 * Allocate the file's blocks before O_DIRECT writes: a write into allocated
 * (unwritten) extents inside the file size needs no exclusive inode lock on
 * ext4 and xfs, so the requests in flight proceed together instead of one
 * by one as appending writes do.  Return 0, or -ENOSPC / -EDQUOT (logged);
 * file systems without fallocate() are written as they are.
 */
static int preallocate(struct xfer *x)
{
	int ret;

	if (!x->len)
		return 0;
	ret = fallocate(x->fd, 0, 0, (off_t)x->len) ? -errno : 0;
	if (ret == -ENOSPC || ret == -EDQUOT) {
		log_err("stream: %s: no room for %llu bytes: %s", x->path,
			(unsigned long long)x->len, strerror(-ret));
		return ret;
	}
	return 0;
}

static ssize_t file_xfer(struct fpgactl_stream *st, struct xfer *x,
			 const struct fpgactl_dma_buf *buf, size_t buf_off,
			 size_t len, const char *path)
{
	bool direct;
	uint64_t size;
	ssize_t ret;

	x->fd = x->fd_buf = -1;
	x->path = path;
	ret = buf_range(st, x, buf, buf_off, len);
	if (ret)
		return ret;
	direct = (uintptr_t)x->va % DIO_ALIGN == 0 && st->io != FPGACTL_STREAM_IO_BUFFERED;
	ret = open_file(path, x->write ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY,
			&direct);
	if (ret < 0)
		return ret;
	x->fd = (int)ret;
	x->fd_direct = direct;
	if (!x->write) {
		ret = file_size(x->fd, path, &size);
		if (ret)
			goto out;
		if (size < x->len)
			x->len = size;
	}
	x->direct_end = direct ? x->len / DIO_ALIGN * DIO_ALIGN : 0;
	/* The buffered descriptor, for the tail and in case O_DIRECT fails. */
	if (direct) {
		bool no = false;

		ret = open_file(path, x->write ? O_WRONLY : O_RDONLY, &no);
		if (ret < 0)
			goto out;
		x->fd_buf = (int)ret;
		x->split = st->io == FPGACTL_STREAM_IO_AUTO;
		if (!x->write)
			map_for_mincore(x);
		ret = x->write ? preallocate(x) : 0;
		if (ret)
			goto out;
	}
	ret = run(st, x);
	if (ret >= 0)
		log_debug("stream: %s %s: %zd bytes (%s)", x->write ? "wrote" : "read",
			  path, ret, x->direct_end ? "O_DIRECT" : "buffered");
out:
	if (x->map)
		munmap(x->map, x->map_len);
	if (x->fd_buf >= 0)
		close(x->fd_buf);
	close(x->fd);
	return ret;
}

FPGACTL_EXPORT ssize_t fpgactl_stream_file_to_buf(struct fpgactl_stream *st,
						  const char *path,
						  const struct fpgactl_dma_buf *buf,
						  size_t buf_off, size_t max_len,
						  fpgactl_stream_progress_fn progress,
						  void *arg)
{
	struct xfer x = { .write = false, .progress = progress, .arg = arg };

	return file_xfer(st, &x, buf, buf_off, max_len, path);
}

FPGACTL_EXPORT ssize_t fpgactl_stream_buf_to_file(struct fpgactl_stream *st,
						  const struct fpgactl_dma_buf *buf,
						  size_t buf_off, size_t len,
						  const char *path,
						  fpgactl_stream_progress_fn progress,
						  void *arg)
{
	struct xfer x = { .write = true, .progress = progress, .arg = arg };

	return file_xfer(st, &x, buf, buf_off, len, path);
}
