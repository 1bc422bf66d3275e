# SPDX-License-Identifier: MIT
"""The cffi declarations match the C headers: every struct's size and
every field's offset as the C compiler lays them out."""
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
