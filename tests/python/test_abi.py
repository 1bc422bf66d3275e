# SPDX-License-Identifier: MIT
"""The cffi declarations match the C headers: every struct's size and
every field's offset as the C compiler lays them out, and every constant
the package spells out itself has the C compiler's value."""
import os
import shutil
import subprocess

import pytest

from fpgactl._lib import STRUCTS, ffi


def test_struct_layouts(tmp_path):
    inc = os.environ.get('FPGACTL_INCLUDE')
    cc = shutil.which('cc')
    if not inc or not cc:
        pytest.skip('needs FPGACTL_INCLUDE (set by meson) and a C compiler')
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include <fpgactl.h>',
             'int main(void) {']
    want = []
    for name in STRUCTS:
        t = ffi.typeof('struct %s' % name)
        lines.append('printf("%%zu\\n", sizeof(struct %s));' % name)
        want.append('%s size %d' % (name, ffi.sizeof(t)))
        for field, f in t.fields:
            lines.append('printf("%%zu\\n", offsetof(struct %s, %s));' % (name, field))
            want.append('%s.%s %d' % (name, field, f.offset))
    lines.append('return 0; }')
    src = tmp_path / 'layout.c'
    src.write_text('\n'.join(lines))
    exe = tmp_path / 'layout'
    subprocess.run([cc, '-std=gnu11', '-I', inc, '-o', str(exe), str(src)], check=True)
    got = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    got = ['%s %s' % (w.rsplit(' ', 1)[0], g) for w, g in zip(want, got)]
    assert got == want
    assert len(STRUCTS) >= 10


def _c_values(tmp_path, names):
    """The values the C compiler gives the names, from <fpgactl.h>."""
    inc = os.environ.get('FPGACTL_INCLUDE')
    cc = shutil.which('cc')
    if not inc or not cc:
        pytest.skip('needs FPGACTL_INCLUDE (set by meson) and a C compiler')
    lines = ['#include <stdio.h>', '#include <fpgactl.h>', 'int main(void) {']
    lines += ['printf("%%llu\\n", (unsigned long long)(%s));' % n for n in names]
    lines.append('return 0; }')
    src = tmp_path / 'values.c'
    src.write_text('\n'.join(lines))
    exe = tmp_path / 'values'
    subprocess.run([cc, '-std=gnu11', '-I', inc, '-o', str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    return dict(zip(names, (int(v) for v in out.split())))


def test_constants(tmp_path):
    """The flags, enums and codes the package spells out itself are those
    of the C headers."""
    from fpgactl import device, dma, irq, queue, softcore
    py = {
        'FPGACTL_OPEN_RESET': device._OPEN_RESET,
        'FPGACTL_OPEN_NO_MMAP': device._OPEN_NO_MMAP,
        'FPGACTL_DEV_CAN_RESET': device._DEV_CAN_RESET,
        'FPGACTL_DEV_CAN_HOT_RESET': device._DEV_CAN_HOT_RESET,
        'FPGACTL_DMA_ALLOW_SMALL_PAGES': dma._ALLOW_SMALL_PAGES,
        'FPGACTL_DMA_NODE': dma._NODE,
        'FPGACTL_DMA_STRICT_NODE': dma._STRICT_NODE,
        'FPGACTL_PAGE_4K': dma.PAGE_SIZES['4k'],
        'FPGACTL_PAGE_2M': dma.PAGE_SIZES['2m'],
        'FPGACTL_PAGE_1G': dma.PAGE_SIZES['1g'],
        'FPGACTL_SC_OP_NOP': softcore.OP_NOP,
        'FPGACTL_SC_OP_COPY': softcore.OP_COPY,
        'FPGACTL_SC_OP_FILL': softcore.OP_FILL,
        'FPGACTL_SC_OP_CRC32C': softcore.OP_CRC32C,
        'FPGACTL_SC_OP_WRITE': softcore.OP_WRITE,
        'FPGACTL_SC_OP_READ': softcore.OP_READ,
        'FPGACTL_SC_OP_GUARDED_WRITE': softcore.OP_GUARDED_WRITE,
    }
    py.update({'FPGACTL_IOMMU_' + k.upper(): v for k, v in device._BACKENDS.items()})
    py.update({'FPGACTL_IRQ_' + k.upper(): v for k, v in irq.INDEXES.items()})
    py.update({'FPGACTL_WAIT_' + k.upper(): v for k, v in queue.WAIT_MODES.items()})
    py.update({'FPGACTL_SC_' + v: k for k, v in softcore.STATUS.items()})
    assert _c_values(tmp_path, sorted(py)) == py
