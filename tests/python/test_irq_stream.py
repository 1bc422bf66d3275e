# SPDX-License-Identifier: MIT
"""Interrupts with a timeout; file <-> DMA buffer streaming."""
import errno
import os

import pytest

import fpgactl


def test_interrupt_wait_and_timeout(dev):
    sc = dev.softcore(queues=2, depth=16, interrupts=True)
    q = sc.queue(1)
    assert dev.irq.wait(vector=1, timeout=0.02) is False
    q.prep_nop()
    q.submit()
    assert dev.irq.wait(vector=1, timeout=2.0) is True
    assert len(q.reap()) == 1
    assert dev.irq.wait(vector=1, timeout=0.02) is False


def test_interrupt_errors(dev):
    with pytest.raises(fpgactl.Error) as e:
        dev.irq.fd('msix', 0)                       # not enabled
    assert e.value.errno == errno.ENOENT
    with pytest.raises(fpgactl.Error) as e:
        dev.irq.enable('msi', 1)                    # the model has MSI-X only
    assert e.value.errno in (errno.EOPNOTSUPP, errno.EINVAL)
    dev.irq.enable('msix', 4)
    assert dev.irq.enabled('msix') == 4 and dev.irq.fd('msix', 3) >= 0
    dev.irq.disable('msix')
    assert dev.irq.enabled('msix') == 0
    with pytest.raises(ValueError):
        dev.irq.enable('nmi')


def test_file_to_device_and_back(dev, sc, buf, tmp_path):
    data = os.urandom(10000)
    src = tmp_path / 'in.bin'
    src.write_bytes(data)
    seen = []
    with dev.stream([buf]) as st:
        assert st.file_to_buf(src, buf, progress=lambda d, t: seen.append((d, t))) == 10000
        assert bytes(buf[:10000]) == data
        assert seen and seen[-1] == (10000, 10000)
        # Through the soft-core's local memory and back.
        sc.write(buf, 0, 10000)
        buf.view[:10000] = bytes(10000)
        sc.read(0, buf, 10000)
        out = tmp_path / 'out.bin'
        assert st.buf_to_file(buf, out, length=10000) == 10000
        assert out.read_bytes() == data
        assert st.stats.bytes == 20000


def test_stream_errors(dev, buf, tmp_path):
    (tmp_path / 'f').write_bytes(b'x' * 8192)
    with dev.stream([buf]) as st:
        with pytest.raises(fpgactl.Error) as e:
            st.file_to_buf(tmp_path / 'missing', buf)
        assert e.value.errno == errno.ENOENT and 'missing' in e.value.strerror
        with pytest.raises(fpgactl.Error) as e:
            st.file_to_buf(tmp_path / 'f', buf, progress=lambda d, t: False)
        assert e.value.errno == errno.ECANCELED


def _drop_from_page_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def test_stream_io_modes(dev, buf, tmp_path):
    data = os.urandom(16384)
    src = tmp_path / 'in.bin'
    src.write_bytes(data)
    with pytest.raises(ValueError):
        dev.stream([buf], io='direct')
    # The default (auto) reads a file that is not in the page cache with
    # O_DIRECT; 'buffered' never does.
    with dev.stream([buf]) as st:
        with pytest.raises(ValueError):
            st.set_io('fast')
        _drop_from_page_cache(src)
        assert st.file_to_buf(src, buf) == 16384
        if st.stats.direct_bytes == 0:
            pytest.skip('%s takes no O_DIRECT read, or kept the pages cached: '
                        'the modes cannot be told apart there' % tmp_path)
    with dev.stream([buf], io='buffered') as st:
        buf.view[:16384] = bytes(16384)
        _drop_from_page_cache(src)
        assert st.file_to_buf(src, buf) == 16384
        assert bytes(buf[:16384]) == data
        assert st.stats.direct_bytes == 0
        st.set_io('auto')
        _drop_from_page_cache(src)
        assert st.file_to_buf(src, buf) == 16384
        assert st.stats.direct_bytes == 16384
