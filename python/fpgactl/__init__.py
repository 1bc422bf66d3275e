# SPDX-License-Identifier: MIT
"""Python bindings of libfpgactl: drive a PCIe device (or the software
model of the soft-core) from user space through VFIO.

    import fpgactl
    with fpgactl.Device("model") as dev:          # or "0000:03:00.0"
        print(hex(dev.bar(0).read32(0)))
        buf = dev.dma_alloc(8192)
        sc = dev.softcore(queues=1, depth=64)
        sc.fill(buf, 4096, 0xa5a5a5a5)

Errors raise fpgactl.Error (an OSError: .errno, and the library's message
as .strerror); the library's log goes to logging.getLogger('fpgactl').
See docs/python.md.
"""
from ._lib import Error, ffi, lib, library_path, set_log_level
from .device import Bar, Device, DeviceInfo, IrqInfo, RegionInfo
from .dma import DmaBuffer
from .irq import Interrupts
from .queue import Completion, Events, Queue, QueueStats
from .softcore import (CommandError, SoftCore, SoftCoreInfo, SoftCoreQueue, crc32c,
                       guard_crc, status_name)
from .stream import Stream, StreamStats


def version():
    """The version of the loaded libfpgactl."""
    return ffi.string(lib.fpgactl_version()).decode()


__all__ = ['Bar', 'CommandError', 'Completion', 'Device', 'DeviceInfo', 'DmaBuffer',
           'Error', 'Events', 'Interrupts', 'IrqInfo', 'Queue', 'QueueStats', 'RegionInfo',
           'SoftCore', 'SoftCoreInfo', 'SoftCoreQueue', 'Stream', 'StreamStats', 'crc32c',
           'guard_crc', 'library_path', 'set_log_level', 'status_name', 'version']
