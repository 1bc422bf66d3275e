#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Harness test of vm.py's accelerator choice (--accel auto), with a
stand-in QEMU (fake_qemu.py), busybox and /dev/kvm: no KVM, QEMU or guest
kernel needed.

    /dev/kvm opens, KVM guests die at once  -> one line quoting QEMU, TCG
    /dev/kvm opens, KVM guests start        -> KVM, no such line
    no /dev/kvm                             -> TCG, no such line
    KVM guest dies after it started         -> a failure, not a fallback
With two machines, the fallback is decided once: the second boots under
TCG straight away.  Exit status 0 when all hold, 1 otherwise.
"""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
VM_PY = os.path.join(HERE, "..", "vm.py")
FAKE_QEMU = os.path.join(HERE, "fake_qemu.py")
LINE = re.compile(r"^vm\.py: KVM not usable here \((.*)\), using TCG$")
MSR = "qemu: failed to set MSR 0x10a to 0x69"

failures = []


def check(cond, what):
    print("%s: %s" % ("ok" if cond else "FAIL", what))
    if not cond:
        failures.append(what)


def fake_env(tmp):
    """A kernel cache as setup.sh leaves it, and a stand-in busybox."""
    cache = os.path.join(tmp, "cache")
    kdir = os.path.join(cache, "kernel", "6.1.0-fake")
    os.makedirs(os.path.join(kdir, "modules"))
    for name, text in (("current", "6.1.0-fake\n"),):
        with open(os.path.join(cache, name), "w") as f:
            f.write(text)
    for name in ("complete", "modules/order", "modules/nvme.order"):
        open(os.path.join(kdir, name), "w").close()
    with open(os.path.join(kdir, "vmlinuz"), "wb") as f:
        f.write(b"not a kernel")
    busybox = os.path.join(tmp, "busybox")
    with open(busybox, "w") as f:
        f.write("#!/bin/sh\necho bin/busybox; echo bin/sh\n")
    os.chmod(busybox, 0o755)
    kvm = os.path.join(tmp, "kvm")
    open(kvm, "w").close()
    return cache, busybox, kvm


def run(tmp, mode, tests, kvm_present=True):
    """vm.py on @tests with the stand-ins: (exit status, stdout, stderr
    lines, the accelerators QEMU was started with)."""
    run_dir = tempfile.mkdtemp(dir=tmp)
    cache, busybox, kvm = fake_env(run_dir)
    qlog = os.path.join(run_dir, "qemu.log")
    env = dict(os.environ, FPGACTL_VM_BUSYBOX=busybox,
               FPGACTL_VM_KVM_DEVICE=kvm if kvm_present else
               os.path.join(tmp, "no-such-kvm"),
               FAKE_QEMU_KVM=mode, FAKE_QEMU_LOG=qlog)
    for k in ("FPGACTL_VM_ACCEL", "FPGACTL_VM_TESTS", "FPGACTL_VM_ROW", "CI"):
        env.pop(k, None)
    cmd = [sys.executable, VM_PY, "--no-setup", "--cache", cache,
           "--qemu", FAKE_QEMU, "--accel", "auto", "--timeout", "30",
           "--row", "x86-6.1-legacy"]
    for t in tests:
        cmd += ["-t", t]
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    try:
        accels = open(qlog).read().split()
    except OSError:
        accels = []
    print("--- %s (kvm %s): exit %d, QEMU runs %s"
          % (mode, "present" if kvm_present else "absent", p.returncode, accels))
    print(p.stderr, end="")
    return p.returncode, p.stdout, p.stderr.splitlines(), accels


def fallback_lines(err):
    return [m.group(1) for m in map(LINE.match, err) if m]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        # KVM opens, guests die: one line with QEMU's message, TCG for both
        # machines (default and numa), every test passes.
        rc, out, err, accels = run(tmp, "dies", ["10-guest-env", "90-numa-env"])
        check(rc == 0, "KVM dies: vm.py exits 0")
        check(accels == ["kvm", "tcg", "tcg"],
              "KVM dies: one KVM try, then TCG for both machines (got %s)" % accels)
        lines = fallback_lines(err)
        check(lines == [MSR], "KVM dies: exactly one line quoting QEMU: %r" % lines)
        check("ok 1 - 10-guest-env" in out.splitlines()
              and "ok 2 - 90-numa-env" in out.splitlines(),
              "KVM dies: the tests ran under TCG and passed")
        check(not any(line.startswith("not ok") or "Bail out" in line
                      for line in out.splitlines()),
              "KVM dies: no failure reported for the dead KVM try")

        # KVM works: stays on KVM, says nothing.
        rc, out, err, accels = run(tmp, "works", ["10-guest-env", "90-numa-env"])
        check(rc == 0 and accels == ["kvm", "kvm"] and not fallback_lines(err),
              "KVM works: KVM for both machines, no fallback line (got %s)" % accels)

        # No /dev/kvm: TCG, says nothing.
        rc, out, err, accels = run(tmp, "dies", ["10-guest-env"], kvm_present=False)
        check(rc == 0 and accels == ["tcg"] and not fallback_lines(err),
              "no /dev/kvm: TCG at once, no fallback line (got %s)" % accels)

        # The guest started under KVM and then QEMU died: a real failure.
        rc, out, err, accels = run(tmp, "dies-late", ["10-guest-env"])
        check(rc != 0 and accels == ["kvm"] and not fallback_lines(err),
              "KVM guest dies after starting: reported as a failure, "
              "no fallback (exit %d, got %s)" % (rc, accels))
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
