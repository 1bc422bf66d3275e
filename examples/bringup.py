#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Bring a soft-core up from Python: identity, registers, DMA, every
command, a batch on a queue, a file through local memory.
Usage: bringup.py [DEVICE]   (a PCI address, or 'model', the default)"""
import logging
import os
import sys
import tempfile

import numpy as np

import fpgactl

logging.basicConfig(level=logging.INFO, format='%(name)s: %(message)s')
name = sys.argv[1] if len(sys.argv) > 1 else 'model'

with fpgactl.Device(name) as dev:
    print('device', dev.bdf, 'id %04x:%04x' % (dev.vendor_id, dev.device_id))
    bar0 = dev.bar(0)
    if bar0.read32(0x000) != 0x5C0FC0DE:                # ID
        sys.exit('not the soft-core')
    bar0.write32(0x018, 0x600DF00D)                     # SCRATCH
    assert bar0.read32(0x018) == 0x600DF00D

    sc = dev.softcore(queues=1, depth=64, interrupts=True)
    print('soft-core', sc.info)
    buf = dev.dma_alloc(1 << 20, small_pages=True)      # 2 MiB pages when reserved
    words = np.frombuffer(buf, dtype=np.uint32)         # the DMA memory, no copy

    sc.fill(buf, 4096, 0xA5A5A5A5)
    assert (words[:1024] == 0xA5A5A5A5).all()
    words[:1024] = np.arange(1024, dtype=np.uint32)
    sc.copy(buf, (buf, 4096), 4096)
    assert (words[1024:2048] == np.arange(1024)).all()
    assert sc.crc32c(buf, 4096) == fpgactl.crc32c(buf.view[:4096])
    sc.guarded_write(0x800, 42)
    try:
        sc.guarded_write(0x800, 43, crc=0)
    except fpgactl.CommandError as e:
        print('guard held:', e.status_name)

    # A batch: 32 NOPs, one doorbell, completions by interrupt.
    q = sc.queue(0)
    before = q.stats.sq_doorbells
    for i in range(32):
        q.prep_nop(ctx=i)
    q.submit()
    done = q.wait_all(mode='interrupt', timeout=1.0)
    print('batch:', len(done), 'completions,', q.stats.sq_doorbells - before, 'doorbell')

    # A file into local memory and back, through DMA.
    data = os.urandom(256 << 10)
    with tempfile.TemporaryDirectory() as tmp, dev.stream([buf]) as st:
        src, dst = os.path.join(tmp, 'in'), os.path.join(tmp, 'out')
        with open(src, 'wb') as f:
            f.write(data)
        n = st.file_to_buf(src, buf)
        sc.write(buf, 0, n)
        sc.read(0, (buf, n), n)
        st.buf_to_file(buf, dst, offset=n, length=n)
        with open(dst, 'rb') as f:
            assert f.read() == data
    print('file round trip through local memory: %d bytes' % n)
