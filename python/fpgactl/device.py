# SPDX-License-Identifier: MIT
"""Device, its BARs and config space."""
import collections
import struct

from . import dma
from ._lib import check, check_ptr, ffi, lib

_BACKENDS = {'auto': 0, 'legacy': 1, 'iommufd': 2}
_OPEN_RESET = 1 << 0
_OPEN_NO_MMAP = 1 << 1
_DEV_CAN_RESET = 1 << 0
_DEV_CAN_HOT_RESET = 1 << 1
_WIDTHS = {8: 'B', 16: 'H', 32: 'I', 64: 'Q'}

DeviceInfo = collections.namedtuple(
    'DeviceInfo', 'bdf num_regions num_irqs can_reset can_hot_reset iommu_backend')
RegionInfo = collections.namedtuple(
    'RegionInfo', 'index size readable writable mmap mapped sparse nr_areas')
IrqInfo = collections.namedtuple('IrqInfo', 'index count flags')


class Bar:
    """Checked register access to one BAR (fpgactl_reg_read() and friends):
    offsets, widths and alignment are checked by the library, so a bad
    offset raises instead of faulting."""

    def __init__(self, dev, index):
        if not 0 <= index <= 5:
            raise ValueError('BAR %d: BARs are 0..5' % index)
        self.dev, self.index = dev, index

    @property
    def size(self):
        return self.dev.region(self.index).size

    def read(self, offset, width=32):
        """Read a WIDTH-bit register (8, 16, 32 or 64)."""
        val = ffi.new('uint64_t *')
        check('fpgactl_reg_read', self.dev._handle(), self.index, offset, width // 8, val)
        return val[0]

    def write(self, offset, value, width=32):
        """Write a WIDTH-bit register; VALUE must fit."""
        check('fpgactl_reg_write', self.dev._handle(), self.index, offset, width // 8, value)

    def read8(self, offset):
        return self.read(offset, 8)

    def read16(self, offset):
        return self.read(offset, 16)

    def read32(self, offset):
        return self.read(offset, 32)

    def read64(self, offset):
        return self.read(offset, 64)

    def write8(self, offset, value):
        self.write(offset, value, 8)

    def write16(self, offset, value):
        self.write(offset, value, 16)

    def write32(self, offset, value):
        self.write(offset, value, 32)

    def write64(self, offset, value):
        self.write(offset, value, 64)

    def poll(self, offset, mask, value, timeout=1.0, width=32):
        """Wait until (register & MASK) == VALUE (fpgactl_reg_poll()); return
        the last value read.  Raises Error (ETIMEDOUT, ENODEV) otherwise."""
        last = ffi.new('uint64_t *')
        check('fpgactl_reg_poll', self.dev._handle(), self.index, offset, width // 8,
              mask, value, int(timeout * 1e6), last)
        return last[0]

    def read_bytes(self, offset, length):
        """LENGTH bytes from OFFSET (fpgactl_region_read())."""
        buf = ffi.new('char[]', length)
        check('fpgactl_region_read', self.dev._handle(), self.index, offset, buf, length)
        return ffi.buffer(buf, length)[:]

    def write_bytes(self, offset, data):
        data = bytes(data)
        check('fpgactl_region_write', self.dev._handle(), self.index, offset, data, len(data))

    def __repr__(self):
        return '<Bar %d of %s>' % (self.index, self.dev.bdf)


class Device:
    """An open PCI device (through VFIO) or the software model.

    NAME is a PCI address ("0000:03:00.0", "03:00.0") or "model" /
    "model:OPTIONS".  Use as a context manager; close() releases it (DMA
    buffers may outlive it).  reset=True resets it at open; no_mmap=True
    maps no BAR; backend is 'auto', 'legacy' or 'iommufd'.
    """

    def __init__(self, name, reset=False, no_mmap=False, backend='auto'):
        if backend not in _BACKENDS:
            raise ValueError('backend: auto, legacy or iommufd, not %r' % backend)
        opts = ffi.new('struct fpgactl_open_opts *')
        opts.backend = _BACKENDS[backend]
        opts.flags = (_OPEN_RESET if reset else 0) | (_OPEN_NO_MMAP if no_mmap else 0)
        self._dev = check_ptr('fpgactl_device_open', name.encode(), opts)
        self._children = []
        self._irq = None
        self._closed = False
        self._live_buffers = 0
        self.name = name

    def _handle(self):
        if self._closed:
            raise ValueError('device %s is closed' % self.name)
        return self._dev

    def _buffer_allocated(self):
        self._live_buffers += 1

    def _buffer_freed(self):
        self._live_buffers -= 1
        if self._closed and not self._live_buffers:
            self._release()

    def _release(self):
        if self._dev is not None:
            lib.fpgactl_device_close(self._dev)
            self._dev = None

    def _adopt(self, child):
        """CHILD (soft-core, stream, event engine) is closed before the device."""
        self._children.append(child)
        return child

    def close(self):
        """Close the soft-core, streams and interrupts, then the device.
        DMA buffers still referenced stay usable: the device is released
        (fpgactl_device_close()) when the last of them is freed."""
        if self._closed:
            return
        self._closed = True
        for child in reversed(self._children):
            child.close()
        self._children = []
        if self._irq is not None:
            self._irq.close()
        if not self._live_buffers:
            self._release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, '_dev', None) is not None:
            self.close()

    @property
    def closed(self):
        return self._closed

    @property
    def bdf(self):
        """"dddd:bb:dd.f", or "model"."""
        return ffi.string(lib.fpgactl_device_bdf(self._handle())).decode()

    @property
    def info(self):
        """What the kernel reports (fpgactl_device_get_info())."""
        info = ffi.new('struct fpgactl_device_info *')
        check('fpgactl_device_get_info', self._handle(), info)
        iommu = lib.fpgactl_device_iommu(self._handle())
        backend = ffi.string(lib.fpgactl_iommu_backend_name(iommu)).decode()
        return DeviceInfo(self.bdf, info.num_regions, info.num_irqs,
                          bool(info.flags & _DEV_CAN_RESET),
                          bool(info.flags & _DEV_CAN_HOT_RESET), backend)

    def region(self, index):
        """One VFIO region (BAR0..5 = 0..5, ROM 6, config 7)."""
        r = ffi.new('struct fpgactl_region_info *')
        check('fpgactl_region_get_info', self._handle(), index, r)
        return RegionInfo(r.index, r.size, bool(r.flags & 1), bool(r.flags & 2),
                          bool(r.flags & 4), bool(r.flags & 8), bool(r.flags & 16),
                          r.nr_areas)

    def regions(self):
        """The regions the device implements (size > 0)."""
        out = [self.region(i) for i in range(self.info.num_regions)]
        return [r for r in out if r.size]

    def irq_info(self, index):
        i = ffi.new('struct fpgactl_irq_info *')
        check('fpgactl_irq_get_info', self._handle(), index, i)
        return IrqInfo(i.index, i.count, i.flags)

    def bar(self, index):
        """Register access to BAR INDEX."""
        return Bar(self, index)

    # ---- config space ----------------------------------------------------

    def config_read(self, offset, length):
        """LENGTH bytes of config space from OFFSET."""
        buf = ffi.new('char[]', length)
        check('fpgactl_config_read', self._handle(), offset, buf, length)
        return ffi.buffer(buf, length)[:]

    def config_write(self, offset, data):
        data = bytes(data)
        check('fpgactl_config_write', self._handle(), offset, data, len(data))

    def _config_int(self, offset, bits):
        return struct.unpack('<' + _WIDTHS[bits], self.config_read(offset, bits // 8))[0]

    def config_read8(self, offset):
        return self._config_int(offset, 8)

    def config_read16(self, offset):
        return self._config_int(offset, 16)

    def config_read32(self, offset):
        return self._config_int(offset, 32)

    def config_write8(self, offset, value):
        self.config_write(offset, struct.pack('<B', value))

    def config_write16(self, offset, value):
        self.config_write(offset, struct.pack('<H', value))

    def config_write32(self, offset, value):
        self.config_write(offset, struct.pack('<I', value))

    @property
    def vendor_id(self):
        return self.config_read16(0)

    @property
    def device_id(self):
        return self.config_read16(2)

    # ---- control ---------------------------------------------------------

    def reset(self):
        """fpgactl_device_reset(): FLR/PM/slot reset, or a bus reset."""
        check('fpgactl_device_reset', self._handle())

    def hot_reset(self):
        check('fpgactl_device_hot_reset', self._handle())

    def set_bus_master(self, enable=True):
        check('fpgactl_set_bus_master', self._handle(), bool(enable))

    def set_dma_mask(self, bits):
        check('fpgactl_device_set_dma_mask', self._handle(), bits)

    def removed(self):
        """True when config space confirms the device is gone."""
        return check('fpgactl_device_removed', self._handle()) == 1

    # ---- DMA, interrupts, soft-core, streams -------------------------------

    def dma_alloc(self, size, page_size=None, node=None, small_pages=False):
        """A DmaBuffer of SIZE bytes mapped for this device.  page_size:
        '4k', '2m' (default), '1g' or bytes; node: NUMA node (default the
        device's); small_pages: fall back to 4 KiB pages."""
        return dma.alloc(self, size, page_size, node, small_pages)

    @property
    def irq(self):
        """The device's interrupts (an fpgactl.Interrupts)."""
        if self._irq is None:
            from .irq import Interrupts
            self._irq = Interrupts(self)
        return self._irq

    def softcore(self, queues=1, depth=64, interrupts=False):
        """Bring the soft-core up (fpgactl_sc_open()): an fpgactl.SoftCore."""
        from .softcore import SoftCore
        return self._adopt(SoftCore(self, queues, depth, interrupts))

    def stream(self, buffers, depth=8, chunk_size=None, io=None):
        """An io_uring stream with BUFFERS registered (fpgactl.Stream); IO:
        'auto', 'cached' or 'buffered' (fpgactl_stream_set_io())."""
        from .stream import Stream
        return self._adopt(Stream(self, buffers, depth, chunk_size, io))

    def __repr__(self):
        return '<Device %s%s>' % (self.name, ' closed' if self._closed else '')
