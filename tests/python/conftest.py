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
    # 4 KiB pages asked for, not just allowed: with hugepages reserved the
    # default (2 MiB) would round the buffer up, and the tests count bytes.
    return dev.dma_alloc(16384, page_size='4k', small_pages=True)
