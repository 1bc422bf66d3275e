/* SPDX-License-Identifier: MIT */
#ifndef FPGACTL_STREAM_H
#define FPGACTL_STREAM_H

/*
 * Zero-copy transfers between files and DMA buffers: the DMA buffers are
 * registered with an io_uring as fixed buffers, and reads and writes go
 * straight between them and the file (O_DIRECT where the file system allows
 * it), several chunks in flight, nothing copied in user space.  See
 * docs/interrupts.md (streaming section).
 *
 * A stream belongs to one thread at a time.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <fpgactl/dma.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fpgactl_stream;

/**
 * fpgactl_stream_create() - an io_uring with DMA buffers registered
 * @depth: transfers kept in flight, 1 to 4096
 * @bufs: the DMA buffers every transfer of the stream reads into or writes
 *	from
 * @nbufs: their number (at least 1)
 * @err: receives -errno on failure; may be NULL
 *
 * The buffers are registered with io_uring_register_buffers() (buffers
 * larger than 1 GiB as several registrations).  The kernel pins their pages
 * once more for io_uring, which counts against RLIMIT_MEMLOCK unless the
 * process has CAP_IPC_LOCK.  The buffers must outlive the stream.
 *
 * Return: the stream, or NULL with *@err set: -EINVAL (bad @depth, no
 * buffers), -ENOMEM (RLIMIT_MEMLOCK too low for the pinning: logged with the
 * fix), -ENOSYS / -EPERM (io_uring unavailable or forbidden: logged), or
 * another -errno.
 */
struct fpgactl_stream *fpgactl_stream_create(unsigned int depth,
					     struct fpgactl_dma_buf *const *bufs,
					     unsigned int nbufs, int *err);

/**
 * fpgactl_stream_destroy() - unregister the buffers and free the stream
 * @st: stream, or NULL
 */
void fpgactl_stream_destroy(struct fpgactl_stream *st);

/**
 * fpgactl_stream_set_chunk_size() - bytes per read or write request
 * @st: stream
 * @bytes: a multiple of 4096 from 4 KiB to 64 MiB; the default is 1 MiB
 *
 * Where the buffer range is contiguous (inside one registered buffer),
 * requests are never smaller than 4 MiB: a smaller chunk size is coalesced
 * into requests of 4 MiB, which cost the same memory and far fewer
 * requests (and less CPU per byte).  Larger chunk sizes make larger requests.
 *
 * Return: 0, or -EINVAL.
 */
int fpgactl_stream_set_chunk_size(struct fpgactl_stream *st, size_t bytes);

/**
 * enum fpgactl_stream_io - how the whole-file helpers reach the file
 * @FPGACTL_STREAM_IO_AUTO: the default: reads choose per request: just
 *	before each request, mincore() says which pages of its file range are
 *	in the page cache; a cached run at the start of the range (all of it,
 *	or at least 256 KiB) is read through the cache (one copy, by the
 *	kernel: faster than the storage), and otherwise the storage is read
 *	with O_DIRECT (no copy at all) up to the next cached run of 256 KiB or
 *	more.  Writes, and reads where the file cannot be mapped for
 *	mincore(), use O_DIRECT wherever the buffer is aligned and the file
 *	system takes it
 * @FPGACTL_STREAM_IO_CACHED: as AUTO, but a read request goes through the
 *	page cache only when its whole file range is cached, else it reads
 *	all of it with O_DIRECT
 * @FPGACTL_STREAM_IO_BUFFERED: the page cache only (still one copy, by the
 *	kernel, into the registered buffer; none in user space)
 *
 * Which wins where, measured with fpgactl bench stream: docs/cli.md.
 */
enum fpgactl_stream_io {
	FPGACTL_STREAM_IO_AUTO = 0,
	FPGACTL_STREAM_IO_CACHED = 1,
	FPGACTL_STREAM_IO_BUFFERED = 2,
};

/**
 * fpgactl_stream_set_io() - choose how fpgactl_stream_file_to_buf() and
 *	fpgactl_stream_buf_to_file() reach the file
 * @st: stream
 * @io: an &enum fpgactl_stream_io
 *
 * Which wins where, measured with fpgactl bench stream: docs/interrupts.md
 * (streaming section).  The caller's own descriptors
 * (fpgactl_stream_read(), fpgactl_stream_write()) are used as they are.
 *
 * Return: 0, or -EINVAL for an unknown @io (logged).
 */
int fpgactl_stream_set_io(struct fpgactl_stream *st, enum fpgactl_stream_io io);

/**
 * fpgactl_stream_read() - read a file range into a DMA buffer
 * @st: stream
 * @fd: file, opened for reading (O_DIRECT or not: the caller's choice)
 * @file_off: where to start in the file
 * @buf: a buffer registered with @st
 * @buf_off: where to put the data in @buf
 * @len: bytes wanted
 *
 * Cuts the range into chunks and keeps up to the stream's depth of them in
 * flight; a short read is continued from where it stopped.  With O_DIRECT
 * on @fd, @file_off, @len and the address must be aligned to the logical
 * block size of the file system (4096 is always enough).
 *
 * Return: the bytes read (fewer than @len only at the end of the file), or
 * -errno: -EINVAL when [@buf_off, @buf_off + @len) is not inside @buf or
 * @buf is not registered with @st (logged), or the error of a read.
 */
ssize_t fpgactl_stream_read(struct fpgactl_stream *st, int fd, uint64_t file_off,
			    const struct fpgactl_dma_buf *buf, size_t buf_off,
			    size_t len);

/**
 * fpgactl_stream_write() - write a DMA buffer range to a file
 * @st: stream
 * @fd: file, opened for writing
 * @file_off: where to write in the file
 * @buf: a buffer registered with @st
 * @buf_off: where the data starts in @buf
 * @len: bytes to write
 *
 * As fpgactl_stream_read(), in the other direction.
 *
 * Return: @len, or -errno (-EIO for a write that made no progress).
 */
ssize_t fpgactl_stream_write(struct fpgactl_stream *st, int fd, uint64_t file_off,
			     const struct fpgactl_dma_buf *buf, size_t buf_off,
			     size_t len);

/**
 * typedef fpgactl_stream_progress_fn - progress of a whole-file transfer
 * @arg: as given to the transfer
 * @done: bytes transferred so far
 * @total: bytes the transfer will move
 *
 * Called from the transferring thread after each batch of completions.
 *
 * Return: 0 to go on; anything else cancels the transfer (it returns
 * -ECANCELED once the requests in flight have completed).
 */
typedef int (*fpgactl_stream_progress_fn)(void *arg, uint64_t done, uint64_t total);

/**
 * fpgactl_stream_file_to_buf() - read a whole file into a DMA buffer
 * @st: stream
 * @path: a regular file or a block device
 * @buf: a buffer registered with @st
 * @buf_off: where to put the data in @buf
 * @max_len: room in @buf from @buf_off; a longer file is read only this far
 * @progress: called as data arrives; may be NULL
 * @arg: passed to @progress
 *
 * Opens @path with O_DIRECT when the buffer address is 4096-aligned
 * (hugepage buffers are aligned) and the stream's I/O mode is not
 * FPGACTL_STREAM_IO_BUFFERED; in modes FPGACTL_STREAM_IO_AUTO and _CACHED
 * the parts of the file found in the page cache are read through it (see
 * &enum fpgactl_stream_io), the rest with O_DIRECT.  Buffered I/O when the
 * file system refuses O_DIRECT (EINVAL: tmpfs on older kernels, some FUSE
 * and network file systems) and for the last partial 4 KiB block.
 *
 * Return: the bytes read, or -errno (logged with the path): -ENOENT,
 * -EACCES, -EINVAL for something that is neither a regular file nor a block
 * device, -ECANCELED, or the error of a read.
 */
ssize_t fpgactl_stream_file_to_buf(struct fpgactl_stream *st, const char *path,
				   const struct fpgactl_dma_buf *buf, size_t buf_off,
				   size_t max_len, fpgactl_stream_progress_fn progress,
				   void *arg);

/**
 * fpgactl_stream_buf_to_file() - write a DMA buffer range to a new file
 * @st: stream
 * @buf: a buffer registered with @st
 * @buf_off: where the data starts in @buf
 * @len: bytes to write
 * @path: created, or truncated when it exists (mode 0644 before the umask)
 * @progress: as for fpgactl_stream_file_to_buf(); may be NULL
 * @arg: passed to @progress
 *
 * O_DIRECT as for fpgactl_stream_file_to_buf() (see
 * fpgactl_stream_set_io()); before O_DIRECT writes the file is given its
 * length with fallocate(), so that the requests in flight write into
 * allocated blocks together: a transfer that fails leaves a file of @len
 * bytes.  The data is not synced: open the file again and fsync() it when
 * it must survive a crash.
 *
 * Return: @len, or -errno (logged with the path): -ENOSPC / -EDQUOT from
 * the preallocation, before anything is written.
 */
ssize_t fpgactl_stream_buf_to_file(struct fpgactl_stream *st,
				   const struct fpgactl_dma_buf *buf, size_t buf_off,
				   size_t len, const char *path,
				   fpgactl_stream_progress_fn progress, void *arg);

/**
 * struct fpgactl_stream_stats - counters since the stream was created
 * @bytes: bytes transferred
 * @direct_bytes: of which through O_DIRECT
 * @requests: read and write requests issued (continuations included)
 * @short_transfers: requests that moved fewer bytes than asked and were
 *	continued
 * @direct_fallbacks: transfers that fell back to buffered I/O because the
 *	file system refused O_DIRECT
 */
struct fpgactl_stream_stats {
	uint64_t bytes;
	uint64_t direct_bytes;
	uint64_t requests;
	uint64_t short_transfers;
	uint64_t direct_fallbacks;
};

/**
 * fpgactl_stream_get_stats() - read the counters
 * @st: stream
 * @stats: filled in
 */
void fpgactl_stream_get_stats(const struct fpgactl_stream *st,
			      struct fpgactl_stream_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
