# SPDX-License-Identifier: MIT
"""examples/bringup.py runs against the model, and docs/python.md shows it
as it is."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
EXAMPLE = os.path.join(ROOT, 'examples', 'bringup.py')


def test_bringup_example_runs_on_the_model():
    pytest.importorskip('numpy')
    r = subprocess.run([sys.executable, EXAMPLE, 'model'], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'guard held: CRC_MISMATCH' in r.stdout
    assert 'batch: 32 completions, 1 doorbell' in r.stdout
    assert 'file round trip through local memory: 262144 bytes' in r.stdout


def test_docs_show_the_example_verbatim():
    with open(EXAMPLE) as f:
        src = f.read()
    code = src[src.index('import logging'):]
    with open(os.path.join(ROOT, 'docs', 'python.md')) as f:
        doc = f.read()
    assert code.strip() in doc, 'docs/python.md: paste examples/bringup.py again'
