# SPDX-License-Identifier: MIT
"""Submit/complete queues: reserve entries, submit a batch with one
doorbell, reap or wait (poll, interrupt, hybrid) for completions."""
import collections
import errno
import itertools

from ._lib import Error, check, check_ptr, ffi, lib

WAIT_MODES = {'poll': 0, 'interrupt': 1, 'hybrid': 2}
WAIT_FOREVER = None

QueueStats = collections.namedtuple(
    'QueueStats', 'submitted completed sq_doorbells cq_doorbells bad_completions '
    'timeouts aborted late_completions')


class Completion(collections.namedtuple('Completion', 'ctx result status error')):
    """A finished command: CTX the object given at submission (None for a
    completion that matched no command), RESULT the device's result field,
    STATUS its status code (0 success), ERROR 0 or a negative errno
    (-ETIMEDOUT, -ECANCELED, -EPROTO, -ENODEV) set by the library."""

    @property
    def ok(self):
        return self.error == 0 and self.status == 0


class Events:
    """An io_uring event engine (fpgactl_events_create()) watching eventfds."""

    def __init__(self, max_fds=8):
        self._ev = check_ptr('fpgactl_events_create', max_fds)

    def _handle(self):
        if self._ev is None:
            raise ValueError('event engine closed')
        return self._ev

    def watch(self, fd, tag=0):
        check('fpgactl_events_watch', self._handle(), fd, tag)

    def unwatch(self, fd):
        check('fpgactl_events_unwatch', self._handle(), fd)

    def wait_fd(self, fd, timeout):
        """True when FD fired within TIMEOUT seconds (None: forever)."""
        ns = -1 if timeout is None else int(timeout * 1e9)
        return check('fpgactl_events_wait_fd', self._handle(), fd, ns) == 1

    def close(self):
        if self._ev is not None:
            lib.fpgactl_events_destroy(self._ev)
            self._ev = None


class Queue:
    """A queue pair.  Commands carry a Python object (ctx) that comes back
    in their Completion.  Queues belong to one thread at a time."""

    def __init__(self, owner, q):
        self._owner = owner        # what keeps the rings alive
        self._q = q
        self._ctx = {}             # key -> Python context
        self._keys = itertools.count(1)
        self._events = None
        self._eventfd = -1

    def _handle(self):
        if self._q is None:
            raise ValueError('queue closed')
        return self._q

    @property
    def depth(self):
        return lib.fpgactl_queue_depth(self._handle())

    @property
    def in_flight(self):
        return lib.fpgactl_queue_in_flight(self._handle())

    @property
    def stats(self):
        s = ffi.new('struct fpgactl_queue_stats *')
        lib.fpgactl_queue_get_stats(self._handle(), s)
        return QueueStats(*(getattr(s, f) for f in QueueStats._fields))

    def get_sqe(self, ctx=None, timeout=None):
        """Reserve the next entry (the ring slot itself: a cffi struct
        fpgactl_sqe to fill).  CTX comes back with the completion; TIMEOUT in
        seconds fails the command with -ETIMEDOUT.  Raises Error(EBUSY) when
        the ring is full."""
        key = next(self._keys)
        ns = 0 if timeout is None else max(1, int(timeout * 1e9))
        sqe = lib.fpgactl_queue_get_sqe(self._handle(), ffi.cast('void *', key), ns)
        if sqe == ffi.NULL:
            raise Error(errno.EBUSY, 'the ring is full: reap completions first',
                        'fpgactl_queue_get_sqe')
        self._ctx[key] = ctx
        return sqe

    def submit(self):
        """Hand the reserved entries to the device: one doorbell.  Returns
        how many."""
        return lib.fpgactl_queue_submit(self._handle())

    def _completions(self, out, n):
        res = []
        for i in range(n):
            c = out[i]
            key = int(ffi.cast('uintptr_t', c.ctx))
            ctx = self._ctx.pop(key, None) if key else None
            res.append(Completion(ctx, c.result, c.status, c.error))
        return res

    def reap(self, max=64):
        """The completions that are there now (fpgactl_queue_reap())."""
        out = ffi.new('struct fpgactl_completion[]', max)
        return self._completions(out, lib.fpgactl_queue_reap(self._handle(), out, max))

    def set_eventfd(self, fd):
        """The eventfd this queue's interrupt signals (-1: none), for the
        interrupt and hybrid wait modes."""
        check('fpgactl_queue_set_eventfd', self._handle(), fd)
        self._eventfd = fd

    def wait(self, mode='poll', timeout=1.0, spin=20e-6, max=64):
        """Wait for completions (fpgactl_queue_wait()): MODE 'poll',
        'interrupt' or 'hybrid' (poll SPIN seconds, then sleep); TIMEOUT
        seconds (None: forever).  Returns the completions, [] on timeout or
        with nothing in flight."""
        if mode not in WAIT_MODES:
            raise ValueError('mode: poll, interrupt or hybrid, not %r' % mode)
        ev = ffi.NULL
        if mode != 'poll':
            if self._events is None:
                self._events = Events(2)
            ev = self._events._handle()
        out = ffi.new('struct fpgactl_completion[]', max)
        ns = -1 if timeout is None else int(timeout * 1e9)
        n = check('fpgactl_queue_wait', self._handle(), ev, WAIT_MODES[mode],
                  int(spin * 1e9), ns, out, max)
        return self._completions(out, n)

    def wait_all(self, mode='poll', timeout=1.0):
        """Wait until nothing is in flight; all completions, in order."""
        done = []
        while self.in_flight:
            got = self.wait(mode, timeout)
            if not got:
                raise Error(errno.ETIMEDOUT, '%d commands still in flight after %s s'
                            % (self.in_flight, timeout), 'fpgactl_queue_wait')
            done += got
        return done

    def abort(self):
        """Fail every command in flight with -ECANCELED (reported by the
        next reaps).  Returns how many."""
        return lib.fpgactl_queue_abort(self._handle())

    def reset(self):
        lib.fpgactl_queue_reset(self._handle())
        self._ctx.clear()

    def close(self):
        if self._events is not None:
            if self._eventfd >= 0 and self._events._ev is not None:
                lib.fpgactl_events_unwatch(self._events._ev, self._eventfd)
            self._events.close()
            self._events = None
        self._q = None
