# SPDX-License-Identifier: MIT
"""Every soft-core command and failure status through the bindings."""
import errno

import pytest

import fpgactl


def crc32c_reference(data):
    """Bitwise CRC-32C (Castagnoli, reflected), independent of the library."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_bring_up(sc):
    info = sc.info
    assert info.nr_queues == 4 and info.max_depth == 4096
    assert info.lmem_size == 1 << 20 and info.max_xfer == 1 << 20
    assert len(sc.queues) == 2 and sc.queue(1).depth == 16


def test_bring_up_refuses_too_many_queues(dev):
    with pytest.raises(fpgactl.Error) as e:
        dev.softcore(queues=5)
    assert e.value.errno == errno.EINVAL and e.value.strerror


def test_nop_fill_copy(sc, buf):
    assert sc.nop().ok
    sc.fill(buf, 64, 0x11223344)
    assert bytes(buf[0:8]) == bytes([0x44, 0x33, 0x22, 0x11] * 2)
    sc.copy(buf, (buf, 4096), 64)
    assert bytes(buf[4096:4160]) == bytes(buf[0:64])


def test_crc32c(sc, buf):
    data = bytes(range(256)) * 4
    buf.view[0:len(data)] = data
    want = crc32c_reference(data)
    assert sc.crc32c(buf, len(data)) == want
    assert fpgactl.crc32c(data) == want


def test_write_read_local_memory(dev, sc, buf):
    buf.view[0:8] = b'abcdefgh'
    sc.write(buf, 0x1000, 8)
    assert dev.bar(2).read_bytes(0x1000, 8) == b'abcdefgh'
    sc.read(0x1000, (buf, 8192), 8)
    assert bytes(buf[8192:8200]) == b'abcdefgh'


def test_guarded_write(dev, sc):
    sc.guarded_write(0x804, 0xCAFE)
    assert dev.bar(0).read32(0x804) == 0xCAFE
    assert fpgactl.guard_crc(0x804, 0xCAFE) == fpgactl.guard_crc(0x804, 0xCAFE)
    with pytest.raises(fpgactl.CommandError) as e:
        sc.guarded_write(0x804, 1, crc=fpgactl.guard_crc(0x804, 1) ^ 1)
    assert e.value.status_name == 'CRC_MISMATCH'
    assert dev.bar(0).read32(0x804) == 0xCAFE
    with pytest.raises(fpgactl.CommandError) as e:
        sc.guarded_write(0x900, 1)
    assert e.value.status_name == 'BAD_FIELD'


def test_failure_statuses(sc, buf):
    with pytest.raises(fpgactl.CommandError) as e:
        sc.copy(buf, 0xDEAD0000000, 64)              # not mapped
    assert e.value.status_name == 'DMA_FAULT' and e.value.errno == errno.EIO
    with pytest.raises(fpgactl.CommandError) as e:
        sc.fill(buf, 6, 0)                           # not a multiple of 4
    assert e.value.status_name == 'BAD_LENGTH'
    assert fpgactl.status_name(1) == 'BAD_OPCODE'


def test_timeout_is_an_error():
    with fpgactl.Device('model:fault=stall') as dev:
        sc = dev.softcore()
        with pytest.raises(fpgactl.Error) as e:
            sc.nop(timeout=0.05)
        assert e.value.errno == errno.ETIMEDOUT


def test_address_forms(sc, buf):
    with pytest.raises(TypeError):
        sc.copy('here', buf, 4)


def test_bring_up_enables_bus_mastering(dev):
    dev.set_bus_master(False)
    dev.softcore()
    assert dev.config_read16(4) & 0x4
