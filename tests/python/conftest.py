# SPDX-License-Identifier: MIT
import pytest

import fpgactl


@pytest.fixture
def dev():
    with fpgactl.Device('model') as d:
        yield d


@pytest.fixture
def sc(dev):
    return dev.softcore(queues=2, depth=16)


@pytest.fixture
def buf(dev):
    # Hugepages are not reserved on CI machines: 4 KiB pages are enough.
    return dev.dma_alloc(16384, small_pages=True)
