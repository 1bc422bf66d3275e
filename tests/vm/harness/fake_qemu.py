#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A stand-in for qemu-system-x86_64, for the harness tests of vm.py.

It does what vm.py sees of QEMU, no more: under TCG it "boots" the guest by
writing, on the results port's file, the protocol lines init.sh would
(every test of the initramfs's /etc/vmtest.conf passes) and exits 0.
Under KVM it does what $FAKE_QEMU_KVM says:
    dies        what QEMU 7.2 does on machines whose /dev/kvm opens but
                cannot run a guest: "failed to set MSR 0x10a to 0x69", an
                assertion, SIGABRT (exit status -6), before the guest says
                anything
    dies-late   the guest starts (kernel output, BOOTED), then QEMU aborts
    works       as under TCG
Each run appends its accelerator (kvm or tcg) to the file $FAKE_QEMU_LOG.
"""
import os
import re
import sys


def opt(argv, name):
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == name]


def chardev_paths(argv):
    """{chardev id: path} of the file chardevs."""
    paths = {}
    for spec in opt(argv, "-chardev"):
        fields = dict(f.split("=", 1) for f in spec.split(",")[1:] if "=" in f)
        if spec.startswith("file,"):
            paths[fields["id"]] = fields["path"]
    return paths


def cpio_file(path, wanted):
    """The data of member @wanted of a newc cpio archive."""
    data = open(path, "rb").read()
    pos = 0
    while data[pos:pos + 6] == b"070701":
        f = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        size, namesize = f[6], f[11]
        name = data[pos + 110:pos + 110 + namesize - 1].decode()
        pos += 110 + namesize
        pos += -pos % 4
        body = data[pos:pos + size]
        pos += size + (-size % 4)
        if name == wanted:
            return body.decode()
    raise SystemExit("fake qemu: no %s in %s" % (wanted, path))


def main(argv):
    machine = opt(argv, "-machine")[0]
    accel = re.search(r"accel=(\w+)", machine).group(1)
    with open(os.environ["FAKE_QEMU_LOG"], "a") as f:
        f.write(accel + "\n")
    conf = dict(re.findall(r"^(\w+)='(.*)'$",
                           cpio_file(opt(argv, "-initrd")[0], "etc/vmtest.conf"),
                           re.M))
    paths = chardev_paths(argv)
    p = "@@VMTEST %s " % conf["VMTEST_NONCE"]
    mode = os.environ.get("FAKE_QEMU_KVM", "works") if accel == "kvm" else "works"
    if mode == "dies":
        sys.stderr.write(
            "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n"
            "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3061: "
            "kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' "
            "failed.\n")
        sys.stderr.flush()
        os.abort()
    with open(paths["con"], "a") as con, open(paths["res"], "a") as res:
        con.write("Linux version 6.1.0-fake\n")
        res.write(p + "BOOTED 6.1.0-fake\n")
        con.flush()
        res.flush()
        if mode == "dies-late":
            os.abort()
        res.write(p + "READY 1.00 0.00\n")
        for t in conf["VMTEST_TESTS"].split():
            res.write(p + "BEGIN %s\n" % t)
            res.write(p + "| row %s backend %s\n" % (conf["FPGACTL_VM_ROW"],
                                                    conf["FPGACTL_VM_BACKEND"]))
            res.write(p + "END %s ok 0 0.1\n" % t)
        res.write(p + "DONE\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
