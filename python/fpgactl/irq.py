# SPDX-License-Identifier: MIT
"""Interrupts: enable an index, wait for a vector with a timeout."""
from ._lib import check, lib
from .queue import Events

INDEXES = {'intx': 0, 'msi': 1, 'msix': 2, 'err': 3, 'req': 4}


def _index(kind):
    if isinstance(kind, int):
        return kind
    if kind not in INDEXES:
        raise ValueError('interrupt type: intx, msi, msix, err or req, not %r' % kind)
    return INDEXES[kind]


class Interrupts:
    """dev.irq: vectors routed to eventfds (fpgactl_irq_enable()), waited
    for with an io_uring event engine."""

    def __init__(self, dev):
        self.dev = dev
        self._events = None
        self._watched = set()

    def _engine(self):
        if self._events is None:
            self._events = Events(64)
        return self._events

    def _forget(self):
        # Re-enabling closes the old eventfds; their numbers are reused.
        for fd in self._watched:
            self._events.unwatch(fd)
        self._watched.clear()

    def count(self, kind):
        """Vectors the device has for KIND ('msix', 'msi', 'intx', ...)."""
        return self.dev.irq_info(_index(kind)).count

    def enable(self, kind='msix', count=1):
        """Route vectors 0..COUNT-1 of KIND to eventfds.  For MSI and MSI-X
        the device also needs bus mastering (dev.set_bus_master())."""
        if self._events is not None:
            self._forget()
        check('fpgactl_irq_enable', self.dev._handle(), _index(kind), count)

    def disable(self, kind='msix'):
        if self._events is not None:
            self._forget()
        check('fpgactl_irq_disable', self.dev._handle(), _index(kind))

    def enabled(self, kind='msix'):
        """Vectors enabled for KIND (0: disabled)."""
        return lib.fpgactl_irq_enabled(self.dev._handle(), _index(kind))

    def fd(self, kind='msix', vector=0):
        """The eventfd of a vector (the library's: do not close it)."""
        return check('fpgactl_irq_fd', self.dev._handle(), _index(kind), vector)

    def wait(self, vector=0, kind='msix', timeout=1.0):
        """True when the vector fired within TIMEOUT seconds (None:
        forever), False on timeout.  Each call consumes the interrupts that
        arrived since the last one."""
        fd = self.fd(kind, vector)
        ev = self._engine()
        if fd not in self._watched:
            ev.watch(fd, fd)
            self._watched.add(fd)
        return ev.wait_fd(fd, timeout)

    def unmask(self):
        """INTx only: unmask after servicing the device."""
        check('fpgactl_irq_unmask', self.dev._handle())

    def close(self):
        if self._events is not None:
            self._events.close()
            self._events = None
        self._watched.clear()
