# SPDX-License-Identifier: MIT
"""File <-> DMA buffer streaming with io_uring fixed buffers."""
import collections
import os

from ._lib import begin, check, check_ptr, error, ffi, lib

StreamStats = collections.namedtuple(
    'StreamStats', 'bytes direct_bytes requests short_transfers direct_fallbacks')


# fpgactl_stream_set_io()'s modes (enum fpgactl_stream_io).
IO_MODES = {
    'auto': lib.FPGACTL_STREAM_IO_AUTO,
    'cached': lib.FPGACTL_STREAM_IO_CACHED,
    'buffered': lib.FPGACTL_STREAM_IO_BUFFERED,
}


class Stream:
    """dev.stream(buffers, depth, chunk_size, io): an io_uring with BUFFERS
    (DmaBuffers) registered (fpgactl_stream_create()).  The buffers must
    outlive the stream (it keeps references to them)."""

    def __init__(self, dev, buffers, depth=8, chunk_size=None, io=None):
        if io is not None and io not in IO_MODES:
            raise ValueError('io mode %r: one of %s' % (io, ', '.join(IO_MODES)))
        self.dev = dev
        self._bufs = list(buffers)
        arr = ffi.new('struct fpgactl_dma_buf *[]', [b._c for b in self._bufs])
        self._st = check_ptr('fpgactl_stream_create', depth, arr, len(self._bufs))
        if chunk_size:
            check('fpgactl_stream_set_chunk_size', self._st, chunk_size)
        if io is not None:
            self.set_io(io)

    def set_io(self, mode):
        """How file_to_buf() and buf_to_file() reach the file
        (fpgactl_stream_set_io()): 'auto' (the default: per read request,
        what the page cache holds through it, the rest O_DIRECT), 'cached'
        or 'buffered' (the page cache only); docs/interrupts.md."""
        if mode not in IO_MODES:
            raise ValueError('io mode %r: one of %s' % (mode, ', '.join(IO_MODES)))
        check('fpgactl_stream_set_io', self._handle(), IO_MODES[mode])

    def _handle(self):
        if self._st is None:
            raise ValueError('stream closed')
        return self._st

    def _run(self, call, progress, *args):
        cb = ffi.NULL
        if progress is not None:
            def hook(arg, done, total):
                try:
                    return 0 if progress(done, total) in (None, True) else 1
                except Exception:           # an exception cancels the transfer
                    return 1
            cb = ffi.callback('int(void *, uint64_t, uint64_t)', hook)
        begin()
        ret = getattr(lib, call)(*(args + (cb, ffi.NULL)))
        if ret < 0:
            raise error(ret, call)
        return ret

    def file_to_buf(self, path, buf, offset=0, max_len=None, progress=None):
        """Read the file PATH into BUF at OFFSET, at most MAX_LEN bytes
        (default: the room left).  PROGRESS(done, total) is called as data
        arrives; returning False cancels.  Returns the bytes read."""
        if max_len is None:
            max_len = buf.size - offset
        return self._run('fpgactl_stream_file_to_buf', progress, self._handle(),
                         os.fsencode(path), buf._c, offset, max_len)

    def buf_to_file(self, buf, path, offset=0, length=None, progress=None):
        """Write LENGTH bytes of BUF from OFFSET (default: to its end) to
        PATH (created or truncated).  Returns the bytes written."""
        if length is None:
            length = buf.size - offset
        return self._run('fpgactl_stream_buf_to_file', progress, self._handle(),
                         buf._c, offset, length, os.fsencode(path))

    @property
    def stats(self):
        s = ffi.new('struct fpgactl_stream_stats *')
        lib.fpgactl_stream_get_stats(self._handle(), s)
        return StreamStats(*(getattr(s, f) for f in StreamStats._fields))

    def close(self):
        if self._st is not None:
            lib.fpgactl_stream_destroy(self._st)
            self._st = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
