#!/usr/bin/env python3
"""Print one 'N passed, N failed, N skipped' line over meson test logs.

Usage: summarize.py BUILD_DIR...   Exit 1 when a test failed or none ran.
"""
import json
import sys
from pathlib import Path

def results(build_dir):
    log = Path(build_dir) / "meson-logs" / "testlog.json"
    for line in log.read_text().splitlines():
        if line.strip():
            yield json.loads(line)["result"]

def main(dirs):
    passed = failed = skipped = 0
    for d in dirs:
        for r in results(d):
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or not passed else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
