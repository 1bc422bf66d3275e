#!/usr/bin/env python3
"""Print one 'N passed, N failed, N skipped' line over meson test logs.

Every skipped test is named with its reason (the last line it printed).

Usage: summarize.py BUILD_DIR...
Exit 1 when a test failed or none ran, and also when one skipped if
FPGACTL_NO_SKIP=1 (set by .ci/run: CI has everything, so nothing may skip).
"""
import json
import os
import sys
from pathlib import Path


def records(build_dir):
    log = Path(build_dir) / "meson-logs" / "testlog.json"
    for line in log.read_text().splitlines():
        if line.strip():
            yield json.loads(line)


def last_line(record):
    """The reason a skipping test gave: its last line of output."""
    text = (record.get("stderr") or "") + (record.get("stdout") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def main(dirs):
    counts = {"OK": 0, "FAIL": 0, "SKIP": 0}
    skipped = []
    for d in dirs:
        for rec in records(d):
            r = rec["result"]
            r = "OK" if r in ("OK", "EXPECTEDFAIL") else r if r == "SKIP" else "FAIL"
            counts[r] += 1
            if r == "SKIP":
                skipped.append(f"{d}: {rec['name']}: {last_line(rec)}")
    for s in skipped:
        print(f"skipped: {s}")
    print(f"tests: {counts['OK']} passed, {counts['FAIL']} failed, "
          f"{counts['SKIP']} skipped")
    if counts["FAIL"] or not counts["OK"]:
        return 1
    if skipped and os.environ.get("FPGACTL_NO_SKIP") == "1":
        print("FPGACTL_NO_SKIP=1: a skipped test fails this run (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
