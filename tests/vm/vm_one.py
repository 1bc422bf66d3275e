#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One guest test of tests/vm/guest/ in one row of the VM matrix as a
meson test of its own ("ROW/TEST", e.g. x86-6.12-iommufd/81-dma-test).

Booting a VM per guest test would cost 10-20 s each, so the guest tests
share one run of vm.py per `meson test` invocation: the first of them to
run (they are not parallel) takes the session lock, runs vm.py on every
guest test and keeps its TAP report in the session directory; each one,
the first included, then reports its own result from it:

    vm_one.py --row ROW --session DIR --names A,B,... --test NAME -- BINARY...

There is one session directory per row (the rows: tests/vm/rows.py).

Exit status 0 passed, 1 failed (its guest output on stdout), 77 skipped
(the reason on stdout).  A session is the meson process that runs the
tests (the parent of this one, by boot, pid and start time), so a new
`meson test` always runs the VM again; `meson test --repeat N` runs it
once and reports its results N times.  `--list` prints "ROW TEST" for every
guest test of every row, for meson.build.  See docs/vm-tests.md.
"""
import argparse
import fcntl
import json
import os
import re
import subprocess
import sys

import rows

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_DIR = os.path.join(HERE, "guest")
VM_PY = os.path.join(HERE, "vm.py")
EXIT_SKIP = 77

TAP_RESULT = re.compile(r"^(ok|not ok) \d+ - (\S+)(?: # SKIP (.*))?$")


def guest_tests():
    return sorted(f[:-3] for f in os.listdir(GUEST_DIR) if f.endswith(".sh"))


def session_key():
    """The meson process running this test: boot, pid and start time, so
    that a reused pid (or a reboot) is a new session."""
    ppid = os.getppid()
    try:
        with open("/proc/%d/stat" % ppid) as f:
            start = f.read().rsplit(")", 1)[1].split()[19]
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except (OSError, IndexError):
        return None     # no way to tell sessions apart: never share
    return "%s-%d-%s" % (boot, ppid, start)


def parse_tap(text):
    """{test: {"status": ok|skip|fail, "reason": str, "lines": [...]}},
    plus the plan's skip reason and a bail-out line, if any."""
    results, current, skip_all, bail = {}, None, None, None
    for line in text.splitlines():
        m = TAP_RESULT.match(line)
        if m:
            status = "fail" if m.group(1) == "not ok" else \
                "skip" if m.group(3) is not None else "ok"
            current = results[m.group(2)] = {
                "status": status, "reason": m.group(3) or "", "lines": []}
        elif line.startswith("1..0 # SKIP"):
            skip_all = line[len("1..0 # SKIP"):].strip()
        elif line.startswith("Bail out!"):
            bail = line
            current = None
        elif line.startswith("#") and current is not None:
            current["lines"].append(line[1:].lstrip() if line != "#" else "")
    return results, skip_all, bail


# Lines of vm.py's log that every run should show (the first test of the
# session prints them, summarize.py repeats them): KVM's fallback.
NOTE_RE = re.compile(r"^vm\.py: (KVM not usable here .*)$")


def run_session(row, session, binaries):
    """Run vm.py on every guest test of @row; return its report as a dict."""
    log_path = os.path.join(session, "vm.log")
    with open(log_path, "w") as log:
        proc = subprocess.run([sys.executable, VM_PY, "--tap-harness",
                               "--row", row, *binaries],
                              stdout=subprocess.PIPE, stderr=log, text=True)
    results, skip_all, bail = parse_tap(proc.stdout)
    notes = [m.group(1) for m in map(NOTE_RE.match, tail(log_path, 100000)) if m]
    # The log's end is kept now: a later session may overwrite the file.
    return {"results": results, "skip_all": skip_all, "bail": bail,
            "rc": proc.returncode, "log": log_path, "log_tail": tail(log_path),
            "row": row, "notes": notes}


def session_report(row, session, binaries):
    """The report of this session, running the VM if no test has yet."""
    os.makedirs(session, exist_ok=True)
    key = session_key()
    path = os.path.join(session, "report.json")
    with open(os.path.join(session, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path) as f:
                report = json.load(f)
            if key is not None and report.get("key") == key:
                return report
        except (OSError, ValueError):
            pass
        # Written first: if this run is killed (meson's timeout), the later
        # tests of the session report that instead of running the VM again.
        write_json(path, {"key": key, "results": {}, "skip_all": None, "rc": -1,
                          "bail": "the VM run of this session did not finish (killed "
                          "by meson's timeout?)", "log": os.path.join(session, "vm.log"),
                          "log_tail": []})
        print("vm_one.py: first guest test of this session: running the VM "
              "(all guest tests)", file=sys.stderr, flush=True)
        report = run_session(row, session, binaries)
        report["key"] = key
        write_json(path, report)
        for note in report["notes"]:
            # In the first test's output, and so in meson's test log.
            print("vm: " + note)
        return report


def write_json(path, data):
    with open(path + ".tmp", "w") as f:
        json.dump(data, f)
    os.replace(path + ".tmp", path)


def tail(path, n=40):
    try:
        with open(path) as f:
            return f.read().splitlines()[-n:]
    except OSError:
        return []


def deselected(name):
    """Left out by FPGACTL_VM_TESTS (vm.py's subset: names with or without
    their number)?"""
    only = [t for t in os.environ.get("FPGACTL_VM_TESTS", "").split(",") if t]
    return bool(only) and not ({name, re.sub(r"^\d+-", "", name)} & set(only))


def report_one(report, name):
    res = report["results"].get(name)
    if res is None:
        if deselected(name):
            print("skipped: not in FPGACTL_VM_TESTS=%s"
                  % os.environ["FPGACTL_VM_TESTS"])
            return EXIT_SKIP
        if report["skip_all"] is not None:
            print("skipped: the VM cannot be set up here: %s" % report["skip_all"])
            return EXIT_SKIP
        print("%s did not run: %s (vm.py exit status %d); the end of %s:"
              % (name, report["bail"] or "no result in vm.py's report",
                 report["rc"], report["log"]))
        print("\n".join("  " + line for line in report["log_tail"]))
        return 1
    for line in res["lines"]:
        print(line)
    if res["status"] == "skip":
        print("skipped: %s" % res["reason"])
        return EXIT_SKIP
    return 0 if res["status"] == "ok" else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--list", action="store_true",
                   help="print \"ROW TEST\" for every test of every row")
    p.add_argument("--row", default=rows.DEFAULT_ROW, help="the matrix row")
    p.add_argument("--session", help="directory of the shared VM run")
    p.add_argument("--names", help="the guest tests meson knows, comma-separated")
    p.add_argument("--test", help="the guest test to report")
    p.add_argument("binaries", nargs="*", help="programs for the guest (vm.py)")
    args = p.parse_args()
    if args.list:
        for r in rows.ROWS:
            for t in rows.row_tests(r, guest_tests()):
                print("%s %s" % (r["name"], t))
        return 0
    if not (args.session and args.names and args.test):
        p.error("--session, --names and --test are required")
    try:
        row = rows.row(args.row)
    except KeyError as e:
        print(e.args[0])
        return 1
    if args.names.split(",") != rows.row_tests(row, guest_tests()):
        print("tests/vm/guest/ has changed since meson set up this build "
              "(meson knows %s): run meson setup --reconfigure" % args.names)
        return 1
    unknown = [t for t in os.environ.get("FPGACTL_VM_TESTS", "").split(",")
               if t and not any(t in (n, re.sub(r"^\d+-", "", n)) for n in guest_tests())]
    if unknown:
        print("FPGACTL_VM_TESTS names no guest test %s (have: %s)"
              % (", ".join(unknown), ", ".join(guest_tests())))
        return 1
    return report_one(session_report(args.row, args.session, args.binaries),
                      args.test)


if __name__ == "__main__":
    sys.exit(main())
