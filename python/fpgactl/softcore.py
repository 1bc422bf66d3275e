# SPDX-License-Identifier: MIT
"""The soft-core of docs/softcore.md: bring-up, its queues, and a method
per command, both synchronous (SoftCore.copy(), ...) and batched
(SoftCoreQueue.prep_copy(), ... then submit() and wait())."""
import collections
import errno

from . import dma
from ._lib import Error, check_ptr, begin, error, ffi, lib
from .queue import Queue

OP_NOP, OP_COPY, OP_FILL, OP_CRC32C, OP_WRITE, OP_READ, OP_GUARDED_WRITE = range(7)
STATUS = {0: 'SUCCESS', 1: 'BAD_OPCODE', 2: 'BAD_LENGTH', 3: 'DMA_FAULT',
          4: 'CRC_MISMATCH', 5: 'BAD_FIELD'}

SoftCoreInfo = collections.namedtuple(
    'SoftCoreInfo', 'version nr_queues max_depth db_stride lmem_size max_xfer')


def status_name(status):
    """"SUCCESS", "DMA_FAULT", ... (fpgactl_sc_status_name())."""
    return ffi.string(lib.fpgactl_sc_status_name(status)).decode()


def guard_crc(reg, value):
    """The CRC-16 a guarded write carries (fpgactl_sc_guard_crc())."""
    return lib.fpgactl_sc_guard_crc(reg, value)


def crc32c(data):
    """CRC-32C as the CRC32C command computes it (fpgactl_crc32c())."""
    data = memoryview(data).cast('B')
    return lib.fpgactl_crc32c(ffi.from_buffer(data), len(data))


class CommandError(Error):
    """A soft-core command completed with a failure status: .status is the
    code, .status_name its name, .completion the whole Completion."""

    def __init__(self, op, completion):
        self.status = completion.status
        self.status_name = status_name(completion.status)
        self.completion = completion
        super().__init__(errno.EIO, '%s failed with status %s (0x%x)'
                         % (op, self.status_name, completion.status), op)


class SoftCoreQueue(Queue):
    """A soft-core queue pair: prep_* reserve and fill one entry each (as
    the C prep helpers do); submit() sends the batch."""

    def _prep(self, opc, ctx, timeout):
        sqe = self.get_sqe(ctx, timeout)
        sqe.opc = opc
        return sqe

    def prep_nop(self, ctx=None, timeout=None):
        self._prep(OP_NOP, ctx, timeout)

    def prep_copy(self, src, dst, length, ctx=None, timeout=None):
        """COPY LENGTH bytes from SRC to DST (IOVAs, DmaBuffers or
        (DmaBuffer, offset) pairs)."""
        sqe = self._prep(OP_COPY, ctx, timeout)
        sqe.addr0, sqe.addr1, sqe.cdw10 = dma.address(src), dma.address(dst), length

    def prep_fill(self, dst, length, pattern, ctx=None, timeout=None):
        sqe = self._prep(OP_FILL, ctx, timeout)
        sqe.addr1, sqe.cdw10, sqe.cdw11 = dma.address(dst), length, pattern

    def prep_crc32c(self, src, length, ctx=None, timeout=None):
        sqe = self._prep(OP_CRC32C, ctx, timeout)
        sqe.addr0, sqe.cdw10 = dma.address(src), length

    def prep_write(self, src, lmem_off, length, ctx=None, timeout=None):
        """WRITE: host memory SRC to local memory (BAR2) at LMEM_OFF."""
        sqe = self._prep(OP_WRITE, ctx, timeout)
        sqe.addr0, sqe.cdw10, sqe.cdw11 = dma.address(src), length, lmem_off

    def prep_read(self, lmem_off, dst, length, ctx=None, timeout=None):
        """READ: local memory at LMEM_OFF to host memory DST."""
        sqe = self._prep(OP_READ, ctx, timeout)
        sqe.addr1, sqe.cdw10, sqe.cdw11 = dma.address(dst), length, lmem_off

    def prep_guarded_write(self, reg, value, crc=None, ctx=None, timeout=None):
        """GUARDED_WRITE of VALUE to register REG; CRC defaults to the right
        one (give a wrong one to test the guard)."""
        sqe = self._prep(OP_GUARDED_WRITE, ctx, timeout)
        sqe.cdw11, sqe.cdw12 = reg, value
        sqe.cdw13 = guard_crc(reg, value) if crc is None else crc

    def run(self, op, timeout=2.0):
        """Submit the one entry just prepared and poll for its completion
        (fpgactl_sc_wait()); for a queue with nothing else in flight."""
        key = next(reversed(self._ctx))
        out = ffi.new('struct fpgactl_completion *')
        begin()
        ret = lib.fpgactl_sc_wait(self._handle(), ffi.cast('void *', key),
                                  int(timeout * 1e9), out)
        if ret < 0:
            raise error(ret, op)
        return self._completions(out, 1)[0]


class SoftCore:
    """dev.softcore(queues, depth, interrupts): the soft-core brought up
    with QUEUES queue pairs of DEPTH entries (fpgactl_sc_open()), bus
    mastering enabled first.  With
    interrupts=True, MSI-X vector N signals queue N, so queue.wait() can
    sleep ('interrupt', 'hybrid').

    The synchronous methods (nop, copy, fill, crc32c, write, read,
    guarded_write) send one command on queue 0 (or q=) and wait for it;
    they raise CommandError for a failure status and Error for a command
    the library failed (timeout, removal).  Addresses are IOVAs, DmaBuffers
    or (DmaBuffer, offset) pairs."""

    def __init__(self, dev, queues=1, depth=64, interrupts=False):
        self.dev = dev
        opts = ffi.new('struct fpgactl_sc_opts *')
        opts.nr_queues, opts.depth, opts.interrupts = queues, depth, bool(interrupts)
        # The rings are in host memory: the device's fetches are DMA, and
        # its MSI-X messages are memory writes too.
        dev.set_bus_master(True)
        self._sc = check_ptr('fpgactl_sc_open', dev._handle(), opts)
        self._queues = [SoftCoreQueue(self, lib.fpgactl_sc_queue(self._sc, i))
                        for i in range(queues)]
        if interrupts:
            try:
                dev.irq.enable('msix', queues)
                for i, q in enumerate(self._queues):
                    q.set_eventfd(dev.irq.fd('msix', i))
            except Exception:
                self.close()
                raise

    def _handle(self):
        if self._sc is None:
            raise ValueError('soft-core closed')
        return self._sc

    @property
    def info(self):
        i = ffi.new('struct fpgactl_sc_info *')
        lib.fpgactl_sc_get_info(self._handle(), i)
        return SoftCoreInfo(*(getattr(i, f) for f in SoftCoreInfo._fields))

    def queue(self, qid=0):
        self._handle()
        return self._queues[qid]

    @property
    def queues(self):
        return list(self._queues)

    def _sync(self, name, q, *args, timeout=2.0):
        queue = self.queue(q)
        if queue.in_flight:
            raise ValueError('queue %d has %d commands in flight: use prep_%s(), '
                             'submit() and wait()' % (q, queue.in_flight, name))
        getattr(queue, "prep_" + name)(*args)
        c = queue.run(name, timeout)
        if c.error:
            raise Error(-c.error, None, name)
        if c.status:
            raise CommandError(name, c)
        return c

    def nop(self, q=0, timeout=2.0):
        return self._sync('nop', q, timeout=timeout)

    def copy(self, src, dst, length, q=0, timeout=2.0):
        return self._sync('copy', q, src, dst, length, timeout=timeout)

    def fill(self, dst, length, pattern, q=0, timeout=2.0):
        return self._sync('fill', q, dst, length, pattern, timeout=timeout)

    def crc32c(self, src, length, q=0, timeout=2.0):
        """The CRC-32C the soft-core computes over LENGTH bytes at SRC."""
        return self._sync('crc32c', q, src, length, timeout=timeout).result

    def write(self, src, lmem_off, length, q=0, timeout=2.0):
        return self._sync('write', q, src, lmem_off, length, timeout=timeout)

    def read(self, lmem_off, dst, length, q=0, timeout=2.0):
        return self._sync('read', q, lmem_off, dst, length, timeout=timeout)

    def guarded_write(self, reg, value, crc=None, q=0, timeout=2.0):
        return self._sync('guarded_write', q, reg, value, crc, timeout=timeout)

    def close(self):
        if self._sc is None:
            return
        for q in self._queues:
            q.close()
        lib.fpgactl_sc_close(self._sc)
        self._sc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
CommandError.__module__ = 'fpgactl'
