# SPDX-License-Identifier: MIT
"""DMA buffers: the buffer protocol without copies, IOVAs, lifetime."""
import pytest

import fpgactl


def test_buffer_protocol_is_the_dma_memory(dev, sc, buf):
    view = memoryview(buf)
    assert view.nbytes == buf.size == len(buf) == 16384
    # Written through Python, copied by the device, read through Python.
    buf.view[0:4] = b'\x01\x02\x03\x04'
    sc.copy(buf, (buf, 8192), 4)
    assert bytes(view[8192:8196]) == b'\x01\x02\x03\x04'
    assert buf[8193] == 2


def test_numpy_frombuffer_shares_the_memory(dev, sc, buf):
    np = pytest.importorskip('numpy')
    words = np.frombuffer(buf, dtype=np.uint32)
    assert words.size == 4096
    sc.fill(buf, 4096, 0xA5A5A5A5)
    assert (words[:1024] == 0xA5A5A5A5).all() and (words[1024:] == 0).all()
    words[2048] = 0xDEADBEEF                    # numpy write, device read
    sc.copy((buf, 8192), (buf, 12288), 4)
    assert words[3072] == 0xDEADBEEF
    assert not words.flags.owndata


def test_iova(buf):
    assert buf.iova and buf.iova_at(100) == buf.iova + 100
    with pytest.raises(ValueError):
        buf.iova_at(buf.size)
    assert buf.page_size in (4096, 2 << 20)


def test_free_and_outliving_the_device():
    with fpgactl.Device('model') as dev:
        buf = dev.dma_alloc(4096, small_pages=True)
        kept = dev.dma_alloc(4096, small_pages=True)
        buf.free()
        with pytest.raises(ValueError):
            buf.iova
        buf.free()
    assert dev.closed
    kept.view[0] = 7                  # still mapped after the device closed
    assert kept[0] == 7 and kept.iova
    assert dev._dev is not None       # released with the last buffer
    kept.free()
    assert dev._dev is None


def test_views_keep_the_buffer_alive(dev):
    view = dev.dma_alloc(4096, small_pages=True).view
    view[0] = 9
    assert view[0] == 9 and dev._live_buffers == 1
    view.release()
    assert dev._live_buffers == 0       # freed with its last view


def test_bad_sizes(dev):
    with pytest.raises(ValueError):
        dev.dma_alloc(0)
    with pytest.raises(ValueError):
        dev.dma_alloc(4096, page_size='3m')
