#!/usr/bin/env python3
"""Print one 'N passed, N failed, N skipped' line over meson test logs.

A TAP test (the VM suite) counts once per subtest, and every skipped test or
subtest is named with its reason, since meson reports a TAP test as OK when
only some of its subtests skipped.

Usage: summarize.py BUILD_DIR...
Exit 1 when a test failed or none ran, and also when one skipped if
FPGACTL_NO_SKIP=1 (set by .ci/run: CI has everything, so nothing may skip).
"""
import json
import os
import re
import sys
from pathlib import Path

TAP_LINE = re.compile(r"^(ok|not ok)\s+\d+\s*-?\s*(.*?)(?:\s+#\s*(SKIP|TODO)\b\s*(.*))?$",
                      re.IGNORECASE)


def records(build_dir):
    log = Path(build_dir) / "meson-logs" / "testlog.json"
    for line in log.read_text().splitlines():
        if line.strip():
            yield json.loads(line)


def tap_results(record):
    """(name, 'OK'|'FAIL'|'SKIP', reason) per TAP subtest; none if not TAP."""
    out = []
    for line in (record.get("stdout") or "").splitlines():
        m = TAP_LINE.match(line.strip())
        if not m:
            continue
        name = f"{record['name']} / {m.group(2)}"
        if m.group(3) and m.group(3).upper() == "SKIP":
            out.append((name, "SKIP", m.group(4)))
        else:
            out.append((name, "OK" if m.group(1) == "ok" else "FAIL", ""))
    return out


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
            subtests = tap_results(rec)
            if not subtests:
                r = rec["result"]
                r = "OK" if r in ("OK", "EXPECTEDFAIL") else r if r == "SKIP" else "FAIL"
                subtests = [(rec["name"], r, last_line(rec) if r == "SKIP" else "")]
            elif rec["result"] not in ("OK", "EXPECTEDFAIL", "SKIP"):
                # A crash after the last subtest still fails the test.
                subtests.append((rec["name"], "FAIL", ""))
            for name, r, why in subtests:
                counts[r] += 1
                if r == "SKIP":
                    skipped.append(f"{d}: {name}" + (f": {why}" if why else ""))
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
