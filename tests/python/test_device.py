# SPDX-License-Identifier: MIT
"""Device, BAR and config space access against the software model."""
import errno
import logging

import pytest

import fpgactl

SC_ID, SC_CTRL, SC_STATUS, SC_SCRATCH = 0x000, 0x010, 0x014, 0x018


def test_version_is_the_loaded_library():
    assert fpgactl.version().count('.') == 2


def test_info_and_regions(dev):
    info = dev.info
    assert info.bdf == 'model' == dev.bdf
    assert info.iommu_backend == 'model'
    assert info.can_reset and not info.can_hot_reset
    regions = {r.index: r for r in dev.regions()}
    assert regions[0].size == 64 << 10 and regions[0].mapped
    assert regions[2].size == 1 << 20
    assert dev.irq_info(2).count == 4      # MSI-X, one vector per queue pair


def test_config_space(dev):
    assert dev.vendor_id == 0x5C0F and dev.device_id == 0xC0DE
    assert dev.config_read(0, 4) == bytes([0x0f, 0x5c, 0xde, 0xc0])
    dev.set_bus_master(True)
    assert dev.config_read16(4) & 0x4
    dev.set_bus_master(False)
    assert not dev.config_read16(4) & 0x4
    cmd = dev.config_read16(4)
    dev.config_write16(4, cmd | 0x4)
    assert dev.config_read16(4) & 0x4


def test_bar_widths(dev):
    bar0, bar2 = dev.bar(0), dev.bar(2)
    assert bar0.read32(SC_ID) == 0x5C0FC0DE
    assert bar0.read16(SC_ID) == 0xC0DE and bar0.read8(SC_ID + 3) == 0x5C
    bar0.write32(SC_SCRATCH, 0x12345678)
    assert bar0.read32(SC_SCRATCH) == 0x12345678
    bar0.write8(SC_SCRATCH, 0xAB)
    bar0.write16(SC_SCRATCH + 2, 0xCDEF)
    assert bar0.read32(SC_SCRATCH) == 0xCDEF56AB
    bar2.write64(0x100, 0x0123456789ABCDEF)
    assert bar2.read64(0x100) == 0x0123456789ABCDEF
    assert bar2.read32(0x104) == 0x01234567
    bar2.write_bytes(0x200, b'hello')
    assert bar2.read_bytes(0x200, 5) == b'hello'


def test_poll(dev):
    bar0 = dev.bar(0)
    bar0.write32(SC_CTRL, 0)
    bar0.poll(SC_STATUS, 1, 0, timeout=5.0)
    bar0.write32(SC_CTRL, 1)
    assert bar0.poll(SC_STATUS, 1, 1, timeout=5.0) & 1
    bar0.write32(SC_SCRATCH, 5)
    with pytest.raises(fpgactl.Error) as e:
        bar0.poll(SC_SCRATCH, 0xff, 6, timeout=0.01)
    assert e.value.errno == errno.ETIMEDOUT


def test_reset(dev):
    bar0 = dev.bar(0)
    bar0.write32(SC_CTRL, 1)
    bar0.poll(SC_STATUS, 1, 1, timeout=5.0)
    dev.reset()
    assert bar0.read32(SC_CTRL) == 0
    assert bar0.read32(SC_STATUS) & 1 == 0


def test_errors_carry_errno_and_the_library_message(dev):
    with pytest.raises(fpgactl.Error) as e:
        dev.bar(0).read32(0x2)
    assert e.value.errno == errno.EINVAL
    assert 'not aligned' in e.value.strerror
    assert e.value.call == 'fpgactl_reg_read'
    with pytest.raises(fpgactl.Error) as e:
        dev.bar(0).read32(64 << 10)
    assert e.value.errno == errno.ERANGE
    with pytest.raises(fpgactl.Error) as e:
        dev.bar(0).write8(SC_SCRATCH, 0x100)        # does not fit 8 bits
    assert e.value.errno == errno.EINVAL
    assert isinstance(e.value, OSError)


def test_open_errors_and_the_log_hook(caplog):
    with caplog.at_level(logging.DEBUG, logger='fpgactl'):
        with pytest.raises(fpgactl.Error) as e:
            fpgactl.Device('model:bogus=1')
    assert e.value.errno == errno.EINVAL
    assert "unknown option 'bogus'" in e.value.strerror
    assert any("'bogus'" in r.getMessage() and r.levelno >= logging.ERROR
               and r.name == 'fpgactl' for r in caplog.records)
    with pytest.raises(fpgactl.Error) as e:
        fpgactl.Device('0000:zz:00.0')
    assert e.value.errno == errno.EINVAL


def test_closed_device_is_refused():
    dev = fpgactl.Device('model')
    bar0 = dev.bar(0)
    dev.close()
    assert dev.closed
    with pytest.raises(ValueError):
        bar0.read32(0)
    dev.close()                              # twice is harmless
