// SPDX-License-Identifier: MIT
/*
 * fpgactl load / save: a file to and from the soft-core's local memory
 * (BAR2, LMEM_SIZE bytes), through DMA and the soft-core's queues.
 *
 * load: chunks of the file are read into DMA buffers with the io_uring
 * stream API (registered buffers, O_DIRECT where the file system takes it:
 * the storage's DMA or the kernel writes straight into the buffer, nothing
 * is copied in user space), then WRITE commands move each buffer into local
 * memory, one doorbell per batch of commands.  Two buffers alternate: while
 * the soft-core moves one chunk, the next is read from the file into the
 * other.  --verify reads everything back with READ commands and through
 * BAR2 and compares it with the file, read again with plain pread().
 *
 * save: READ commands fill a buffer while the previous one is written to
 * the file with the stream API.
 *
 * Everything that can be checked is checked before the device is touched:
 * the arguments and the file first, then, with the device open, its
 * identity and LMEM_SIZE (register reads only).  Only then is the soft-core
 * brought up.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "sc_util.h"
#include "util.h"

#define CHUNK ((size_t)2 << 20)		/* bytes per DMA buffer */
#define QUEUE_DEPTH 64			/* entries per ring */
#define STREAM_DEPTH 4			/* file requests in flight */
#define STREAM_CHUNK ((size_t)512 << 10) /* bytes per file request */
#define DIO_ALIGN 4096			/* O_DIRECT offsets and lengths */
#define TIMEOUT_NS 2000000000ull	/* per command, and without any completion */
#define MAX_REAP 64

/**
 * struct lbuf - one of the two DMA buffers
 * @dma: the buffer
 * @pending: commands on it not completed yet
 * @lmem_off: local memory offset of the chunk it holds or moves
 * @len: bytes of that chunk
 */
struct lbuf {
	struct fpgactl_dma_buf *dma;
	unsigned int pending;
	uint64_t lmem_off;
	size_t len;
};

/**
 * struct lmem_job - one load or save
 * @cmd: "load" or "save"
 * @path: the file
 * @device: device name
 * @offset: first byte of local memory
 * @size: bytes to move
 * @dev: the device
 * @sc: its soft-core
 * @depth: queue depth: QUEUE_DEPTH, or less when the soft-core takes less
 * @q: queue pair 0
 * @info: what the soft-core reports
 * @bufs: the two DMA buffers
 * @chunk: bytes per buffer
 * @st: the stream, both buffers registered
 * @fd: the file; with O_DIRECT when @direct
 * @fd_buf: a buffered descriptor of the same file for the partial last
 *	block, -1 when @fd is buffered itself
 * @direct: @fd has O_DIRECT
 * @commands: WRITE or READ commands sent
 * @doorbells: tail doorbell writes
 * @bar: progress bar
 * @done: bytes moved so far
 */
struct lmem_job {
	const char *cmd;
	const char *path;
	char device[FPGACTL_DEVICE_NAME_MAX];
	uint64_t offset;
	uint64_t size;
	struct fpgactl_device *dev;
	struct fpgactl_sc *sc;
	uint32_t depth;
	struct fpgactl_queue *q;
	struct fpgactl_sc_info info;
	struct lbuf bufs[2];
	size_t chunk;
	struct fpgactl_stream *st;
	int fd;
	int fd_buf;
	bool direct;
	uint64_t commands;
	uint64_t doorbells;
	struct progress bar;
	uint64_t done;
};

/* ---- checks before the device is opened ------------------------------------- */

static int parse_offset_option(const struct invocation *inv, struct lmem_job *j)
{
	j->offset = 0;
	if (!inv->offset)
		return STATUS_OK;
	return parse_number_arg(j->cmd, "offset", inv->offset, UINT32_MAX, &j->offset);
}

/* load: FILE must be a readable, non-empty regular file. */
static int check_input_file(struct lmem_job *j)
{
	struct stat sb;
	int fd;

	if (stat(j->path, &sb))
		return usage_error(j->cmd, "cannot read '%s': %s", j->path, strerror(errno));
	if (S_ISDIR(sb.st_mode))
		return usage_error(j->cmd, "'%s' is a directory", j->path);
	if (!S_ISREG(sb.st_mode))
		return usage_error(j->cmd, "'%s' is not a regular file", j->path);
	if (!sb.st_size)
		return usage_error(j->cmd, "'%s' is empty: nothing to load", j->path);
	fd = open(j->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return usage_error(j->cmd, "cannot read '%s': %s", j->path, strerror(errno));
	close(fd);
	if ((uint64_t)sb.st_size > UINT32_MAX)
		return usage_error(j->cmd, "'%s' has %jd bytes: more than any local memory "
				   "(LMEM_SIZE is 32 bits)", j->path, (intmax_t)sb.st_size);
	j->size = (uint64_t)sb.st_size;
	return STATUS_OK;
}

/* save: FILE may be created or overwritten; never a directory, FIFO or socket. */
static int check_output_file(struct lmem_job *j)
{
	char *copy = strdup(j->path);
	const char *dir;
	struct stat sb;
	int status = STATUS_OK;

	if (!copy)
		return failure(j->cmd, "%s", errno_text(ENOMEM));
	dir = dirname(copy);
	if (!*j->path) {
		status = usage_error(j->cmd, "empty file name");
	} else if (j->path[strlen(j->path) - 1] == '/') {
		status = usage_error(j->cmd, "'%s' names a directory, not a file", j->path);
	} else if (!stat(j->path, &sb)) {
		if (S_ISDIR(sb.st_mode))
			status = usage_error(j->cmd, "'%s' is a directory", j->path);
		else if (S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode))
			status = usage_error(j->cmd, "'%s' is a %s: save writes regular files "
					     "and devices", j->path,
					     S_ISFIFO(sb.st_mode) ? "FIFO" : "socket");
		else if (access(j->path, W_OK))
			status = usage_error(j->cmd, "cannot write '%s': %s", j->path,
					     strerror(errno));
	} else if (errno != ENOENT) {
		status = usage_error(j->cmd, "cannot write '%s': %s", j->path, strerror(errno));
	} else if (!lstat(j->path, &sb) && S_ISLNK(sb.st_mode)) {
		/* As cp: no file is created through a link that points nowhere. */
		status = usage_error(j->cmd, "'%s' is a dangling symbolic link: save does not "
				     "create files through it (remove it, or name its target)",
				     j->path);
	} else if (stat(dir, &sb)) {
		status = usage_error(j->cmd, "cannot create '%s': directory '%s': %s", j->path,
				     dir, strerror(errno));
	} else if (!S_ISDIR(sb.st_mode)) {
		status = usage_error(j->cmd, "cannot create '%s': '%s' is not a directory",
				     j->path, dir);
	} else if (access(dir, W_OK | X_OK)) {
		status = usage_error(j->cmd, "cannot create '%s' in '%s': %s", j->path, dir,
				     strerror(errno));
	}
	free(copy);
	return status;
}

/* ---- the device ------------------------------------------------------------------ */

/* Open the device, check it and the fit in local memory: nothing written yet. */
static int open_and_check(const struct invocation *inv, struct lmem_job *j)
{
	struct sc_caps caps;
	uint32_t lmem;
	int status;

	status = open_device(inv, j->device, &j->dev);
	if (status)
		return status;
	status = check_softcore(j->cmd, j->dev, j->device, &caps);
	if (status)
		return status;
	lmem = caps.lmem_size;
	/* Every command moves 1 .. MAX_XFER bytes: 0 would send commands that
	 * move nothing, for ever; all ones is a device that stopped answering. */
	if (!caps.max_xfer || caps.max_xfer == UINT32_MAX)
		return failure(j->cmd, "%s: the soft-core's MAX_XFER register (0x%03x) reads "
			       "0x%" PRIx32 ": no command could move data (a broken device or "
			       "bitstream); nothing was written", j->device, FPGACTL_SC_MAX_XFER,
			       caps.max_xfer);
	/* QUEUE_DEPTH, or the largest power of two the soft-core takes. */
	j->depth = QUEUE_DEPTH;
	while (j->depth > caps.max_depth)
		j->depth /= 2;
	if (j->depth < 2)
		return usage_error(j->cmd, "%s takes queues of %" PRIu32 " entry: a queue "
				   "needs 2 at least", j->device, caps.max_depth);
	if (j->offset >= lmem)
		return usage_error(j->cmd, "offset 0x%" PRIx64 " is outside local memory "
				   "(LMEM_SIZE %" PRIu32 " bytes)", j->offset, lmem);
	if (j->size > lmem - j->offset) {
		if (!strcmp(j->cmd, "load"))
			return usage_error(j->cmd, "'%s' (%" PRIu64 " bytes) does not fit in "
					   "local memory at offset 0x%" PRIx64 " (LMEM_SIZE %"
					   PRIu32 " bytes)", j->path, j->size, j->offset, lmem);
		return usage_error(j->cmd, "%" PRIu64 " bytes at offset 0x%" PRIx64 " run past "
				   "the end of local memory (LMEM_SIZE %" PRIu32 " bytes)",
				   j->size, j->offset, lmem);
	}
	return STATUS_OK;
}

static int set_up(struct lmem_job *j)
{
	struct fpgactl_sc_opts opts = { .nr_queues = 1, .depth = j->depth };
	struct fpgactl_dma_buf *dma[2];
	int err = 0, status = open_softcore(j->cmd, j->dev, j->device, &opts, &j->sc);

	if (status)
		return status;
	fpgactl_sc_get_info(j->sc, &j->info);
	j->q = fpgactl_sc_queue(j->sc, 0);
	j->chunk = j->size < CHUNK ? (j->size + DIO_ALIGN - 1) / DIO_ALIGN * DIO_ALIGN : CHUNK;
	for (int i = 0; i < 2; i++) {
		j->bufs[i].dma = dma_alloc_quiet(j->dev, j->chunk, 2, &err);
		if (!j->bufs[i].dma)
			return failure(j->cmd, "DMA buffer of %zu bytes: %s", j->chunk,
				       errno_text(err));
		dma[i] = j->bufs[i].dma;
	}
	j->st = fpgactl_stream_create(STREAM_DEPTH, dma, 2, &err);
	if (!j->st)
		return failure(j->cmd, "io_uring stream: %s", errno_text(err));
	if (fpgactl_stream_set_chunk_size(j->st, STREAM_CHUNK))
		return failure(j->cmd, "io_uring stream: %s", errno_text(EINVAL));
	return STATUS_OK;
}

static void tear_down(struct lmem_job *j)
{
	if (j->fd_buf >= 0)
		close(j->fd_buf);
	if (j->fd >= 0)
		close(j->fd);
	/* The stream unregisters the buffers; the queues stop before they go. */
	fpgactl_stream_destroy(j->st);
	fpgactl_sc_close(j->sc);
	for (int i = 0; i < 2; i++)
		fpgactl_dma_free(j->bufs[i].dma);
	fpgactl_device_close(j->dev);
}

/* ---- the file ----------------------------------------------------------------------- */

/*
 * Open the file with O_DIRECT when the file system takes it, and a buffered
 * descriptor beside it for the last partial block; buffered alone otherwise.
 */
static int open_file(struct lmem_job *j, bool write)
{
	int flags = write ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY;

	j->fd = open(j->path, flags | O_DIRECT | O_CLOEXEC, 0644);
	if (j->fd >= 0) {
		j->direct = true;
		j->fd_buf = open(j->path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
		if (j->fd_buf >= 0)
			return STATUS_OK;
	} else if (errno == EINVAL) {
		j->direct = false;
		j->fd = open(j->path, flags | O_CLOEXEC, 0644);
		if (j->fd >= 0)
			return STATUS_OK;
	}
	return failure(j->cmd, "cannot open '%s': %s", j->path, strerror(errno));
}

/* The file system refused an O_DIRECT request: go on with buffered I/O. */
static void drop_direct(struct lmem_job *j)
{
	close(j->fd);
	j->fd = j->fd_buf;
	j->fd_buf = -1;
	j->direct = false;
}

static ssize_t stream_io(struct lmem_job *j, bool write, int fd, uint64_t file_off,
			 const struct fpgactl_dma_buf *buf, size_t buf_off, size_t len)
{
	return write ? fpgactl_stream_write(j->st, fd, file_off, buf, buf_off, len)
		     : fpgactl_stream_read(j->st, fd, file_off, buf, buf_off, len);
}

/*
 * Move @len bytes between the file at @file_off (a multiple of 4096) and the
 * start of @buf: whole blocks through the O_DIRECT descriptor, the rest
 * through the buffered one.
 */
static int file_io(struct lmem_job *j, bool write, uint64_t file_off,
		   const struct fpgactl_dma_buf *buf, size_t len)
{
	size_t direct_len = j->direct ? len / DIO_ALIGN * DIO_ALIGN : 0;
	uint64_t at = file_off;
	ssize_t ret = 0;

	if (direct_len) {
		ret = stream_io(j, write, j->fd, file_off, buf, 0, direct_len);
		if (ret == -EINVAL) {
			drop_direct(j);
			direct_len = 0;
			ret = 0;
		} else if (ret >= 0) {
			at += (uint64_t)ret;
			if ((size_t)ret != direct_len)
				goto short_io;
		}
	}
	if (ret >= 0 && len > direct_len) {
		ret = stream_io(j, write, j->direct ? j->fd_buf : j->fd, file_off + direct_len,
				buf, direct_len, len - direct_len);
		if (ret >= 0) {
			at += (uint64_t)ret;
			if ((size_t)ret != len - direct_len)
				goto short_io;
		}
	}
	if (ret < 0)
		return failure(j->cmd, "%s '%s' at offset %" PRIu64 ": %s",
			       write ? "writing" : "reading", j->path, file_off, errno_text(ret));
	return STATUS_OK;
short_io:
	return failure(j->cmd, "'%s' ended at offset %" PRIu64 ": it changed since it was "
		       "checked", j->path, at);
}

/* ---- commands ------------------------------------------------------------------------ */

static const char *op_name(bool write)
{
	return write ? "WRITE" : "READ";
}

static int stalled(struct lmem_job *j)
{
	return failure(j->cmd, "%s: no completion for %llu s with %u command%s in flight: "
		       "the device is not answering", j->device, TIMEOUT_NS / 1000000000ull,
		       fpgactl_queue_in_flight(j->q), plural(fpgactl_queue_in_flight(j->q)));
}

/* Reap what has completed, waiting (polling) up to TIMEOUT_NS for something. */
static int reap(struct lmem_job *j)
{
	struct fpgactl_completion out[MAX_REAP];
	int n = fpgactl_queue_wait(j->q, NULL, FPGACTL_WAIT_POLL, 0, (int64_t)TIMEOUT_NS,
				   out, MAX_REAP);

	if (n < 0)
		return failure(j->cmd, "waiting for completions: %s", errno_text(n));
	if (!n)
		return stalled(j);
	for (int i = 0; i < n; i++) {
		struct lbuf *b = out[i].ctx;

		if (out[i].error == -ETIMEDOUT) /* its deadline passed */
			return stalled(j);
		if (!b || out[i].error)
			return failure(j->cmd, "%s: bad completion: %s", j->device,
				       errno_text(out[i].error ? out[i].error : EPROTO));
		if (out[i].status)
			return failure(j->cmd, "%s: a command on local memory 0x%" PRIx64
				       "..0x%" PRIx64 " failed: %s", j->device, b->lmem_off,
				       b->lmem_off + b->len - 1,
				       fpgactl_sc_status_name(out[i].status));
		b->pending--;
	}
	return STATUS_OK;
}

/* Wait until every command on @b has completed. */
static int wait_buf(struct lmem_job *j, struct lbuf *b)
{
	int status = STATUS_OK;

	while (b->pending && !status)
		status = reap(j);
	return status;
}

static void ring_doorbell(struct lmem_job *j)
{
	if (fpgactl_queue_submit(j->q))
		j->doorbells++;
}

/*
 * Send the commands that move @b's chunk (WRITE: buffer -> local memory;
 * READ: the other way), at most MAX_XFER bytes each, as many per doorbell
 * as the ring takes.
 */
static int issue(struct lmem_job *j, struct lbuf *b, bool write)
{
	uint64_t iova = b->dma->iova;
	size_t off = 0;

	while (off < b->len) {
		uint32_t n = b->len - off < j->info.max_xfer ? (uint32_t)(b->len - off)
							     : j->info.max_xfer;
		uint32_t lmem = (uint32_t)(b->lmem_off + off);
		int ret = write ? fpgactl_sc_prep_write(j->q, iova + off, lmem, n, b, TIMEOUT_NS)
				: fpgactl_sc_prep_read(j->q, lmem, iova + off, n, b, TIMEOUT_NS);

		if (ret == -EBUSY) {
			/* The ring is full: send what is prepared, make room. */
			int status;

			ring_doorbell(j);
			status = reap(j);
			if (status)
				return status;
			continue;
		}
		b->pending++;
		j->commands++;
		off += n;
	}
	ring_doorbell(j);
	return STATUS_OK;
}

/* ---- load ------------------------------------------------------------------------------ */

static int load_chunks(struct lmem_job *j)
{
	uint64_t pos = 0;
	int cur = 0, status = STATUS_OK;

	while (pos < j->size && !status) {
		struct lbuf *b = &j->bufs[cur];
		size_t len = j->size - pos < j->chunk ? (size_t)(j->size - pos) : j->chunk;

		/* The buffer's previous chunk must be in local memory before reuse. */
		status = wait_buf(j, b);
		if (!status && b->len) {
			j->done += b->len;
			progress_update(&j->bar, j->done);
		}
		if (!status)
			status = file_io(j, false, pos, b->dma, len);
		if (status)
			break;
		b->lmem_off = j->offset + pos;
		b->len = len;
		status = issue(j, b, true);
		pos += len;
		cur ^= 1;
	}
	for (int i = 0; i < 2 && !status; i++)
		status = wait_buf(j, &j->bufs[i]);
	return status;
}

/* First differing byte of @a and @b, or -1. */
static ssize_t first_difference(const uint8_t *a, const uint8_t *b, size_t len)
{
	if (!memcmp(a, b, len))
		return -1;
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return (ssize_t)i;
	return -1;
}

/*
 * The file's bytes [@pos, @pos + @len) with plain pread() on a new
 * descriptor: a path independent of the load's (io_uring, O_DIRECT, the
 * DMA buffers), so that an error there cannot cancel itself out.
 */
static int read_plain(struct lmem_job *j, int fd, uint64_t pos, uint8_t *out, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, out + done, len - done, (off_t)(pos + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return failure(j->cmd, "verify: reading '%s' at %" PRIu64 ": %s", j->path,
				       pos + done, n ? strerror(errno) : "the file got shorter");
		done += (size_t)n;
	}
	return STATUS_OK;
}

/*
 * Read local memory back with READ commands and through BAR2, compare both
 * with the file (read again, with plain pread()).  Return STATUS_OK when
 * everything matches.
 */
static int verify(struct lmem_job *j)
{
	struct lbuf *back = &j->bufs[1];
	struct fpgactl_region_info bar2;
	bool through_bar = !fpgactl_region_get_info(j->dev, FPGACTL_SC_LMEM_BAR, &bar2) &&
			   bar2.size >= j->offset + j->size;
	uint8_t *mapped = malloc(j->chunk), *want = malloc(j->chunk);
	int fd = open(j->path, O_RDONLY | O_CLOEXEC);
	int status = STATUS_OK;

	if (!mapped || !want)
		status = failure(j->cmd, "%s", errno_text(ENOMEM));
	else if (fd < 0)
		status = failure(j->cmd, "verify: cannot read '%s': %s", j->path,
				 strerror(errno));

	progress_start(&j->bar, "verify", j->size, true);
	for (uint64_t pos = 0; pos < j->size && !status;) {
		size_t len = j->size - pos < j->chunk ? (size_t)(j->size - pos) : j->chunk;
		ssize_t at;
		int err;

		status = read_plain(j, fd, pos, want, len);
		if (status)
			break;
		back->lmem_off = j->offset + pos;
		back->len = len;
		status = issue(j, back, false);
		if (!status)
			status = wait_buf(j, back);
		if (status)
			break;
		at = first_difference(want, back->dma->vaddr, len);
		if (at >= 0) {
			progress_end(&j->bar);
			status = failure(j->cmd, "verify: local memory 0x%" PRIx64 " read back "
					 "with READ holds 0x%02x, '%s' has 0x%02x at offset %"
					 PRIu64, j->offset + pos + (uint64_t)at,
					 ((uint8_t *)back->dma->vaddr)[at], j->path, want[at],
					 pos + (uint64_t)at);
			break;
		}
		if (through_bar) {
			err = fpgactl_region_read(j->dev, FPGACTL_SC_LMEM_BAR, j->offset + pos,
						  mapped, len);
			if (err) {
				progress_end(&j->bar);
				status = failure(j->cmd, "verify: reading BAR2 at 0x%" PRIx64
						 ": %s", j->offset + pos, errno_text(err));
				break;
			}
			at = first_difference(want, mapped, len);
			if (at >= 0) {
				progress_end(&j->bar);
				status = failure(j->cmd, "verify: BAR2 at 0x%" PRIx64 " holds "
						 "0x%02x, '%s' has 0x%02x at offset %" PRIu64,
						 j->offset + pos + (uint64_t)at, mapped[at],
						 j->path, want[at], pos + (uint64_t)at);
				break;
			}
		}
		pos += len;
		progress_update(&j->bar, pos);
	}
	progress_end(&j->bar);
	if (fd >= 0)
		close(fd);
	free(want);
	free(mapped);
	if (!status)
		printf("verify: %" PRIu64 " bytes read back with READ commands%s: identical "
		       "to '%s'\n", j->size, through_bar ? " and through BAR2" : "", j->path);
	return status;
}

/* ---- save ------------------------------------------------------------------------------- */

static int save_chunks(struct lmem_job *j)
{
	uint64_t issued = 0, written = 0;
	int cur = 0, status = STATUS_OK;

	/* Both buffers fill from local memory at once... */
	for (int i = 0; i < 2 && issued < j->size && !status; i++) {
		struct lbuf *b = &j->bufs[i];

		b->lmem_off = j->offset + issued;
		b->len = j->size - issued < j->chunk ? (size_t)(j->size - issued) : j->chunk;
		status = issue(j, b, false);
		issued += b->len;
	}
	/* ...then each goes to the file while the other fills again. */
	while (written < j->size && !status) {
		struct lbuf *b = &j->bufs[cur];

		status = wait_buf(j, b);
		if (!status)
			status = file_io(j, true, written, b->dma, b->len);
		if (status)
			break;
		written += b->len;
		j->done = written;
		progress_update(&j->bar, j->done);
		if (issued < j->size) {
			b->lmem_off = j->offset + issued;
			b->len = j->size - issued < j->chunk ? (size_t)(j->size - issued)
							     : j->chunk;
			status = issue(j, b, false);
			issued += b->len;
		}
		cur ^= 1;
	}
	return status;
}

/* ---- the commands ------------------------------------------------------------------------ */

static void print_result(const struct lmem_job *j, bool load, uint64_t ns)
{
	double s = (double)ns / 1e9;

	printf("%s: %" PRIu64 " bytes %s '%s' %s local memory 0x%" PRIx64 "..0x%" PRIx64
	       " in %.3f ms, %.1f MB/s (file %s with %s; %" PRIu64 " %s command%s, %"
	       PRIu64 " doorbell%s)\n", j->cmd, j->size, load ? "from" : "to", j->path,
	       load ? "into" : "from", j->offset, j->offset + j->size - 1, s * 1e3,
	       s > 0 ? (double)j->size / 1e6 / s : 0.0, load ? "read" : "written",
	       j->direct ? "O_DIRECT" : "buffered I/O", j->commands, op_name(load),
	       plural(j->commands), j->doorbells, plural(j->doorbells));
}

static int run_lmem(const struct invocation *inv, bool load)
{
	struct lmem_job j = { .cmd = inv->cmd->name, .path = inv->argv[0], .fd = -1,
			      .fd_buf = -1 };
	uint64_t start;
	int status;

	status = require_device_or_model(inv, j.device, sizeof(j.device));
	if (!status)
		status = parse_offset_option(inv, &j);
	if (!status && !load) {
		if (!inv->size)
			return usage_error(j.cmd, "--size is required (bytes to save)");
		status = parse_number_arg(j.cmd, "size", inv->size, UINT32_MAX, &j.size);
		if (!status && !j.size)
			return usage_error(j.cmd, "size must be at least 1");
	}
	if (!status)
		status = load ? check_input_file(&j) : check_output_file(&j);
	if (!status)
		status = open_and_check(inv, &j);
	if (!status)
		status = set_up(&j);
	if (!status)
		status = open_file(&j, !load);
	if (!status) {
		progress_start(&j.bar, j.cmd, j.size, true);
		start = mono_ns();
		status = load ? load_chunks(&j) : save_chunks(&j);
		if (!status) {
			uint64_t ns = mono_ns() - start;

			progress_end(&j.bar);
			print_result(&j, load, ns);
		} else {
			progress_end(&j.bar);
		}
	}
	if (!status && load && inv->verify)
		status = verify(&j);
	tear_down(&j);
	return status;
}

static int run_load(const struct invocation *inv)
{
	return run_lmem(inv, true);
}

static int run_save(const struct invocation *inv)
{
	return run_lmem(inv, false);
}

const struct command cmd_load = {
	.name = "load",
	.args = "FILE",
	.summary = "copy a file into the soft-core's local memory",
	.details = "FILE is read into DMA buffers with io_uring (registered buffers,\n"
		   "O_DIRECT where the file system allows it) and WRITE commands move it\n"
		   "into local memory (BAR2) at --offset, two 2 MiB buffers alternating so\n"
		   "that the file is read while the soft-core writes.  --verify then reads\n"
		   "it back with READ commands and through BAR2 and compares both with\n"
		   "FILE.  FILE must fit in LMEM_SIZE from --offset; that, the file and the\n"
		   "device's identity are checked before anything is written (status 2).\n"
		   "A progress bar on a terminal, then one line with bytes, time and MB/s.\n"
		   "On the model, local memory lasts as long as the command: use --verify.\n",
	.options = OPT_DEVICE | OPT_OFFSET | OPT_VERIFY,
	.model = true,
	.min_args = 1,
	.max_args = 1,
	.run = run_load,
};

const struct command cmd_save = {
	.name = "save",
	.args = "FILE",
	.summary = "copy the soft-core's local memory into a file",
	.details = "READ commands copy --size bytes of local memory (BAR2) from --offset\n"
		   "into DMA buffers, and io_uring writes them to FILE (created or\n"
		   "truncated; O_DIRECT where the file system allows it), two 2 MiB\n"
		   "buffers alternating.  The range must lie inside LMEM_SIZE; that, FILE's\n"
		   "directory and the device's identity are checked before anything is\n"
		   "done (status 2).  A progress bar on a terminal, then one line with\n"
		   "bytes, time and MB/s.\n",
	.options = OPT_DEVICE | OPT_SIZE | OPT_OFFSET,
	.model = true,
	.min_args = 1,
	.max_args = 1,
	.run = run_save,
};
