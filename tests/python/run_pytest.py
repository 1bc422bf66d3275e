#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run the Python binding tests with pytest; exit 77 (skip) when pytest or
cffi is missing.  meson sets FPGACTL_LIBRARY (the library just built),
FPGACTL_INCLUDE and PYTHONPATH (the package in the source tree)."""
import os
import sys

for module, package in (('pytest', 'python3-pytest'), ('cffi', 'python3-cffi')):
    try:
        __import__(module)
    except ImportError:
        print('SKIP: %s has no %s (apt-get install %s)' % (sys.executable, module, package))
        sys.exit(77)

import pytest  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
# -p no:cacheprovider: write nothing into the source tree.
sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-W', 'error', here] + sys.argv[1:]))
