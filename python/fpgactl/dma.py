# SPDX-License-Identifier: MIT
"""DMA buffers that are Python buffers: memoryview(buf) and
numpy.frombuffer(buf, ...) see the DMA memory itself, no copy."""
import ctypes

from ._lib import check_ptr, ffi, lib

# One ctypes array type per buffer size: DmaBuffer instances are ctypes
# arrays over the library's mapping (ctypes arrays export the buffer
# protocol; a pure Python class cannot before Python 3.12).
_types = {}

PAGE_SIZES = {'4k': 4 << 10, '2m': 2 << 20, '1g': 1 << 30}
_ALLOW_SMALL_PAGES = 1 << 0
_NODE = 1 << 1
_STRICT_NODE = 1 << 2


class DmaBuffer:
    """A buffer of DMA memory mapped for a device (fpgactl_dma_alloc()).

    It is a ctypes unsigned-byte array over the memory: buf[i], len(buf),
    memoryview(buf), numpy.frombuffer(buf, dtype=...) all work on the
    device-visible memory without a copy.  .iova is the address the device
    uses.  The memory is freed when the buffer is garbage collected (views
    keep it alive) or by free(), after which no view may be used.
    """

    @staticmethod
    def _wrap(dev, ptr):
        size = ptr.size
        typ = _types.get(size)
        if typ is None:
            typ = type('DmaBuffer', (DmaBuffer, ctypes.c_ubyte * size), {})
            _types[size] = typ
        obj = typ.from_address(int(ffi.cast('uintptr_t', ptr.vaddr)))
        obj._fp_ptr = ptr
        obj._fp_dev = dev          # the device stays open as long as its buffers
        dev._buffer_allocated()
        return obj

    def _p(self):
        ptr = self.__dict__.get('_fp_ptr')
        if ptr is None:
            raise ValueError('DMA buffer already freed')
        return ptr

    @property
    def iova(self):
        """The I/O virtual address of the first byte."""
        return self._p().iova

    def iova_at(self, offset):
        """The IOVA of byte OFFSET (checked against the size)."""
        if not 0 <= offset < self._p().size:
            raise ValueError('offset %d outside the %d-byte buffer' % (offset, self.size))
        return self._p().iova + offset

    @property
    def size(self):
        return self._p().size

    @property
    def page_size(self):
        return self._p().page_size

    @property
    def node(self):
        return self._p().node

    @property
    def view(self):
        """A byte-format memoryview (castable: view.cast('I'))."""
        return memoryview(self).cast('B')

    @property
    def _c(self):
        return self._p()

    def free(self):
        """Unmap and free now.  No view of the buffer may be used after."""
        ptr = self.__dict__.pop('_fp_ptr', None)
        if ptr is not None:
            lib.fpgactl_dma_free(ptr)
            self._fp_dev._buffer_freed()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()

    def __del__(self):
        self.free()

    def __repr__(self):
        ptr = self.__dict__.get('_fp_ptr')
        if ptr is None:
            return '<DmaBuffer freed>'
        return '<DmaBuffer %d bytes at IOVA 0x%x>' % (ptr.size, ptr.iova)


def alloc(dev, size, page_size=None, node=None, small_pages=False):
    """fpgactl_dma_alloc(): see Device.dma_alloc()."""
    if size <= 0:
        raise ValueError('size must be positive')
    opts = ffi.new('struct fpgactl_dma_opts *')
    if isinstance(page_size, str):
        if page_size not in PAGE_SIZES:
            raise ValueError('page_size: 4k, 2m, 1g or a number of bytes, not %r' % page_size)
        page_size = PAGE_SIZES[page_size]
    if page_size is not None:
        opts.page_size = page_size
    if node is not None:
        opts.node = node
        opts.flags |= _NODE
    if small_pages:
        opts.flags |= _ALLOW_SMALL_PAGES
    ptr = check_ptr('fpgactl_dma_alloc', dev._handle(), size, opts)
    return DmaBuffer._wrap(dev, ptr)


def address(target, offset=0):
    """An IOVA from an int, a DmaBuffer, or a (DmaBuffer, offset) pair."""
    if isinstance(target, tuple):
        target, offset = target
    if isinstance(target, DmaBuffer):
        return target.iova_at(offset) if offset else target.iova
    if isinstance(target, int):
        return target + offset
    raise TypeError('an IOVA (int), a DmaBuffer or (DmaBuffer, offset), not %r' % (target,))
