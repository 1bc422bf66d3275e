# SPDX-License-Identifier: MIT
"""Batches, reaping, the three wait modes, deadlines, abort, bad
completions."""
import errno
import time

import pytest

import fpgactl


def test_batch_one_doorbell(sc):
    q = sc.queue(1)
    for i in range(10):
        q.prep_nop(ctx=('nop', i))
    assert q.in_flight == 10
    assert q.submit() == 10
    done = q.wait_all()
    assert [c.ctx for c in done] == [('nop', i) for i in range(10)]
    assert all(c.ok for c in done)
    st = q.stats
    assert st.submitted == 10 and st.completed == 10 and st.sq_doorbells == 1


def test_ring_full(sc):
    q = sc.queue(0)
    for _ in range(q.depth - 1):
        q.prep_nop()
    with pytest.raises(fpgactl.Error) as e:
        q.prep_nop()
    assert e.value.errno == errno.EBUSY
    q.submit()
    assert len(q.wait_all()) == q.depth - 1


def test_reap_is_non_blocking(sc):
    q = sc.queue(0)
    assert q.reap() == []
    assert q.wait('poll', timeout=0.01) == []        # nothing in flight


@pytest.mark.parametrize('mode', ['poll', 'interrupt', 'hybrid'])
def test_wait_modes(dev, mode):
    sc = dev.softcore(queues=2, depth=16, interrupts=True)
    assert dev.irq.enabled('msix') == 2
    q = sc.queue(1)
    for n in range(3):
        q.prep_nop(ctx=n)
        q.submit()
        got = q.wait(mode, timeout=2.0)
        assert [c.ctx for c in got] == [n]


def test_interrupt_mode_needs_interrupts():
    # A stalled queue: wait() must sleep, and has no eventfd to sleep on.
    with fpgactl.Device('model:fault=stall') as dev:
        q = dev.softcore().queue(0)
        q.prep_nop()
        q.submit()
        with pytest.raises(fpgactl.Error) as e:
            q.wait('interrupt', timeout=0.1)
        assert e.value.errno == errno.EINVAL
        with pytest.raises(ValueError):
            q.wait('sometimes')
        q.abort()


def test_deadline_and_abort():
    with fpgactl.Device('model:fault=stall,queue=0') as dev:
        sc = dev.softcore(queues=2, depth=16)
        q = sc.queue(0)
        q.prep_nop(ctx='late', timeout=0.02)
        q.submit()
        [c] = q.wait(timeout=2.0)
        assert c.ctx == 'late' and c.error == -errno.ETIMEDOUT and not c.ok
        q.prep_nop(ctx='stuck')
        q.submit()
        assert q.abort() == 1
        [c] = q.reap()
        assert c.ctx == 'stuck' and c.error == -errno.ECANCELED
        assert q.stats.timeouts == 1 and q.stats.aborted == 1
        sc.nop(q=1)                          # the other queue goes on


def test_corrupt_completion_is_reported_not_trusted():
    with fpgactl.Device('model:fault=corrupt,count=1') as dev:
        q = dev.softcore().queue(0)
        q.prep_nop(ctx='lost', timeout=0.5)
        q.submit()
        # The garbage completion may come before or (on a loaded machine)
        # after the command's deadline: either way it is reported, once.
        got, end = [], time.monotonic() + 10
        while time.monotonic() < end and not any(c.error == -errno.EPROTO for c in got):
            got += q.wait(timeout=0.1) if q.in_flight else q.reap()
        bad = [c for c in got if c.error == -errno.EPROTO]
        assert len(bad) == 1 and bad[0].ctx is None
        assert q.stats.bad_completions == 1
