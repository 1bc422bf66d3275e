#!/usr/bin/env python3
"""Print the closing summary of tests/run-all.sh over meson test logs.

    stage TIME  one line per stage of run-all.sh (--stages FILE: lines
                "NAME SECONDS")
    row ...     one line per row of the VM matrix (tests/vm/rows.py):
                passed, failed, skipped, wall time from its first test's
                start to its last test's end, and the harness's notes
                (e.g. "KVM not usable here (...), using TCG")
    tests: ...  one 'N passed, N failed, N skipped' line over everything

Every skipped test is named with its reason (the last line it printed).

Usage: summarize.py [--stages FILE] BUILD_DIR...
Exit 1 when a test failed or none ran, and also when one skipped if
FPGACTL_NO_SKIP=1 (set by .ci/run: CI has everything, so nothing may skip).
"""
import json
import os
import sys
from pathlib import Path


def records(build_dir):
    log = Path(build_dir) / "meson-logs" / "testlog.json"
    if not log.exists():
        print(f"no test log in {build_dir} (its build failed?)")
        return
    for line in log.read_text().splitlines():
        if line.strip():
            yield json.loads(line)


def last_line(record):
    """The reason a skipping test gave: its last line of output."""
    text = (record.get("stderr") or "") + (record.get("stdout") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def outcome(record):
    r = record["result"]
    return "OK" if r in ("OK", "EXPECTEDFAIL") else r if r == "SKIP" else "FAIL"


def matrix_row(record):
    """"x86-6.12-iommufd" for the meson test "...vm... / x86-6.12-iommufd/
    81-dma-test", None for a test outside the VM matrix."""
    _, _, name = record["name"].rpartition(" / ")
    row, slash, _ = name.partition("/")
    return row if slash else None


def fmt_secs(s):
    return "%d min %02d s" % (s // 60, s % 60) if s >= 60 else "%.0f s" % s


def row_lines(recs):
    rows = {}
    for rec in recs:
        row = matrix_row(rec)
        if row is None:
            continue
        r = rows.setdefault(row, {"OK": 0, "FAIL": 0, "SKIP": 0, "start": None,
                                  "end": None, "notes": [], "failed": []})
        res = outcome(rec)
        r[res] += 1
        if res == "FAIL":
            r["failed"].append(rec["name"].rpartition("/")[2])
        start = rec.get("starttime")
        if start is not None:
            end = start + rec.get("duration", 0)
            r["start"] = start if r["start"] is None else min(r["start"], start)
            r["end"] = end if r["end"] is None else max(r["end"], end)
        for line in (rec.get("stdout") or "").splitlines():
            if line.startswith("vm: ") and line[4:] not in r["notes"]:
                r["notes"].append(line[4:])
    lines = []
    for row, r in rows.items():
        wall = fmt_secs(r["end"] - r["start"]) if r["start"] is not None else "-"
        lines.append("row %-21s %2d passed, %d failed, %d skipped, wall %s%s"
                     % (row, r["OK"], r["FAIL"], r["SKIP"], wall,
                        ("; failed: " + ", ".join(r["failed"])) if r["failed"] else ""))
        lines += ["    %s" % n for n in r["notes"]]
    return lines


def stage_lines(path):
    lines = []
    for line in Path(path).read_text().splitlines():
        name, _, secs = line.rpartition(" ")
        if name:
            lines.append("stage %-40s %s" % (name, fmt_secs(float(secs))))
    return lines


def main(argv):
    stages = None
    if argv[:1] == ["--stages"]:
        stages, argv = argv[1], argv[2:]
    counts = {"OK": 0, "FAIL": 0, "SKIP": 0}
    skipped = []
    all_recs = []
    for d in argv:
        for rec in records(d):
            all_recs.append(rec)
            r = outcome(rec)
            counts[r] += 1
            if r == "SKIP":
                skipped.append(f"{d}: {rec['name']}: {last_line(rec)}")
    for s in skipped:
        print(f"skipped: {s}")
    if stages:
        print("\n".join(stage_lines(stages)))
    for line in row_lines(all_recs):
        print(line)
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
