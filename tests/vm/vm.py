#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run the guest tests of tests/vm/guest/ in a QEMU VM and report them as TAP.

Each VM is a q35 machine under TCG (KVM when /dev/kvm is usable) with an
emulated Intel IOMMU, QEMU's edu device and an NVMe controller; a guest test
may ask for another machine than "default" ("# machine: numa" in its leading
comments), and one VM is booted per machine the selected tests need (see
MACHINES).  The kernel is Debian's 6.1 kernel, fetched by setup.sh into a
cache directory; the root file system is an initramfs built here: a static
busybox, the VFIO modules, the binaries named on the command line with the
shared libraries they need, the machine's guest tests, and init.sh as /init.
A guest test can also ask vm.py to act on its VM from outside (hot-unplug a
device through QMP): see Host.

    tests/vm/vm.py [options] BINARY...

See docs/vm-tests.md.  Exit status: 0 when every test passed or was skipped,
1 when a test failed, 2 when the VM could not boot or the tests could not be
run, 77 (with a TAP skip line) when the VM cannot be set up on this machine
outside CI.  With --tap-harness (as meson runs it) a failed or skipped test
exits 0 and the TAP lines alone say so.
"""

import argparse
import lzma
import os
import re
import json
import secrets
import select
import socket
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import rows

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_DIR = os.path.join(HERE, "guest")
SETUP_SH = os.path.join(HERE, "setup.sh")
BUILD_KERNEL_SH = os.path.join(HERE, "build-kernel.sh")
INIT_SH = os.path.join(HERE, "init.sh")
TESTLIB_SH = os.path.join(HERE, "testlib.sh")
# Overridable for the harness tests (tests/vm/harness), which stand in
# for busybox, QEMU and /dev/kvm.
BUSYBOX = os.environ.get("FPGACTL_VM_BUSYBOX", "/bin/busybox")
KVM_DEVICE = os.environ.get("FPGACTL_VM_KVM_DEVICE", "/dev/kvm")
SETUP_ARM64_SH = os.path.join(HERE, "setup-arm64.sh")
FETCH_16K_SH = os.path.join(HERE, "fetch-kernel-16k.sh")

# arm64 rows (arch "arm64" in rows.py): QEMU's virt machine with an SMMUv3
# under TCG; setup-arm64.sh caches Debian's arm64 kernel and
# busybox-static:arm64 under CACHE/arm64; the binaries handed to vm.py are
# the aarch64 cross build's (tools/cross/aarch64-linux-gnu.ini), their
# shared libraries from Debian's :arm64 packages.
ARM64_LIBDIRS = ("/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu")
QEMU_OF_ARCH = {"x86": "qemu-system-x86_64", "arm64": "qemu-system-aarch64"}

EXIT_FAILED = 1
EXIT_NO_VM = 2
EXIT_SKIP = 77

MARKER = "@@VMTEST"
# A guest test's output lines that vm.py shows even when the test passes.
REPORT_PREFIX = "REPORT: "


def log(msg):
    """Progress for people: stderr, so that stdout stays TAP."""
    print("vm.py: " + msg, file=sys.stderr, flush=True)


def default_cache():
    if os.environ.get("FPGACTL_VM_CACHE"):
        return os.environ["FPGACTL_VM_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(base, "libfpgactl-vm")


def in_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


class SetupError(Exception):
    """The VM cannot be prepared on this machine."""


# ---------------------------------------------------------------- tests


def test_name(path):
    """guest/20-list-bind.sh -> "20-list-bind"."""
    return os.path.splitext(os.path.basename(path))[0]


def short_name(name):
    """"20-list-bind" -> "list-bind"."""
    return re.sub(r"^\d+-", "", name)


MACHINE_RE = re.compile(r"^#\s*machine:\s*(\S+)\s*$")


def test_machine(name):
    """The machine a guest test asks for in its leading comments
    ("# machine: numa"), "default" when it names none."""
    with open(os.path.join(GUEST_DIR, name + ".sh")) as f:
        for line in f:
            if not line.startswith("#"):
                break
            m = MACHINE_RE.match(line.strip())
            if m:
                return m.group(1)
    return "default"


def find_tests(only):
    tests = sorted(test_name(f) for f in os.listdir(GUEST_DIR)
                   if f.endswith(".sh"))
    if not only:
        return tests
    wanted = []
    for pattern in only:
        hits = [t for t in tests if pattern in (t, short_name(t))]
        if not hits:
            raise SystemExit("vm.py: no guest test named %r (have: %s)"
                             % (pattern, ", ".join(tests)))
        wanted += [t for t in hits if t not in wanted]
    return [t for t in tests if t in wanted]


# ---------------------------------------------------------------- setup


# Groups of modules the guest tests load on demand ("load_modules GROUP" in
# testlib.sh); setup.sh keeps each in the kernel's modules/GROUP.order.
MODULE_GROUPS = ("nvme",)


def kernel_dir(cache, arch="x86"):
    """The cached kernel directory, or None when setup.sh has not run (or
    ran before a module group of MODULE_GROUPS existed)."""
    if arch == "arm64":
        try:
            with open(os.path.join(cache, "arm64", "current")) as f:
                d = os.path.join(cache, "arm64", "kernel", f.read().strip())
        except OSError:
            return None
        # virtio_console.ko: the cache of a setup-arm64.sh from before the
        # virtio-serial ports (the protocol ports on virt) is refreshed.
        ok = all(os.path.exists(os.path.join(d, f)) for f in
                 ("complete", "modules/virtio_console.ko"))
        return d if ok else None
    try:
        with open(os.path.join(cache, "current")) as f:
            release = f.read().strip()
    except OSError:
        return None
    d = os.path.join(cache, "kernel", release)
    if not os.path.exists(os.path.join(d, "complete")):
        return None
    for g in MODULE_GROUPS:
        if not os.path.exists(os.path.join(d, "modules", g + ".order")):
            return None
    return d


def built_kernel_dir(cache):
    """The kernel build-kernel.sh built for the current recipe (source
    version, fragment, compiler), or None when it is not built."""
    env = dict(os.environ, FPGACTL_VM_CACHE=cache)
    res = subprocess.run(["sh", BUILD_KERNEL_SH, "--path"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    return res.stdout.strip() if res.returncode == 0 else None


def script_kernel_dir(cache, script):
    """The kernel directory @script (build-kernel.sh, fetch-kernel-16k.sh)
    names with --path, or None when it is not there yet."""
    env = dict(os.environ, FPGACTL_VM_CACHE=cache)
    res = subprocess.run(["sh", script, "--path"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    return res.stdout.strip() if res.returncode == 0 else None


# The script that makes a row's kernel, by the row's source (rows.py),
# besides setup.sh / setup-arm64.sh (QEMU, busybox, Debian's 6.1).
KERNEL_SCRIPT = {"built": BUILD_KERNEL_SH, "debian-16k": FETCH_16K_SH}


def row_kernel_dir(cache, row):
    if row["source"] == "built":
        return built_kernel_dir(cache)
    if row["source"] == "debian-16k":
        return script_kernel_dir(cache, FETCH_16K_SH)
    return kernel_dir(cache, row["arch"])


def guest_busybox(cache, arch):
    """The busybox for the guest: the host's (x86), or busybox-static:arm64
    from the cache (setup-arm64.sh)."""
    if arch == "arm64":
        return os.path.join(cache, "arm64", "busybox")
    return BUSYBOX


def host_ready(qemu, busybox=BUSYBOX):
    return shutil.which(qemu) is not None and os.path.exists(busybox)


def run_setup_script(script, env):
    """Run one of tests/vm's set-up scripts with sh; its output goes to our
    stderr (stdout is kept for TAP).  SetupError when it fails."""
    res = subprocess.run(["sh", script], env=env, stdout=sys.stderr,
                         stderr=sys.stderr, stdin=subprocess.DEVNULL)
    if res.returncode != 0:
        raise SetupError("tests/vm/%s failed (exit status %d)"
                         % (os.path.basename(script), res.returncode))


def ensure_setup(cache, allow_setup, row, qemu):
    """Return the row's kernel directory, running setup.sh (and, for a
    built kernel, build-kernel.sh; setup-arm64.sh for arm64) when something
    is missing."""
    kdir = row_kernel_dir(cache, row)
    busybox = guest_busybox(cache, row["arch"])
    if kdir and host_ready(qemu, busybox):
        return kdir
    setup = SETUP_ARM64_SH if row["arch"] == "arm64" else SETUP_SH
    if not allow_setup:
        kscript = KERNEL_SCRIPT.get(row["source"])
        raise SetupError("the VM is not set up (run tests/vm/%s%s)"
                         % (os.path.basename(setup),
                            " and tests/vm/" + os.path.basename(kscript)
                            if kscript else ""))
    log("running %s (cache %s)" % (setup, cache))
    env = dict(os.environ, FPGACTL_VM_CACHE=cache)
    run_setup_script(setup, env)
    if row["source"] == "built" and not built_kernel_dir(cache):
        log("running %s (about 10 minutes on 2 cores)" % BUILD_KERNEL_SH)
        run_setup_script(BUILD_KERNEL_SH, env)
    if row["source"] == "debian-16k" and not row_kernel_dir(cache, row):
        log("running %s" % FETCH_16K_SH)
        run_setup_script(FETCH_16K_SH, env)
    kdir = row_kernel_dir(cache, row)
    if not kdir or not host_ready(qemu, busybox):
        raise SetupError("tests/vm/%s ran but the kernel, QEMU or "
                         "busybox is still missing" % os.path.basename(setup))
    return kdir


# ---------------------------------------------------------------- kernel


def has_pvh_entry(elf):
    """Whether the ELF image has the Xen PVH entry note QEMU boots it by."""
    if elf[:5] != b"\x7fELF\x02":  # ELF, 64-bit
        return False
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", elf, phoff + i * phentsize)
        if p_type != 4:  # PT_NOTE
            continue
        pos, end = p_offset, p_offset + p_filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz].rstrip(b"\0")
            if name == b"Xen" and ntype == 18:  # XEN_ELFNOTE_PHYS32_ENTRY
                return True
            pos += 12 + (namesz + 3) // 4 * 4 + (descsz + 3) // 4 * 4
    return False


def extract_vmlinux(vmlinuz):
    """The ELF kernel inside a bzImage (xz or gzip compressed), or None."""
    with open(vmlinuz, "rb") as f:
        data = f.read()
    for magic, fmt in ((b"\xfd7zXZ\x00", "xz"), (b"\x1f\x8b\x08", "gzip")):
        off = data.find(magic)
        while off >= 0:
            try:
                if fmt == "xz":
                    out = lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(
                        data[off:])
                else:
                    out = zlib.decompressobj(wbits=31).decompress(data[off:])
            except (lzma.LZMAError, zlib.error):
                out = b""
            if out[:4] == b"\x7fELF":
                return out
            off = data.find(magic, off + 1)
    return None


def boot_kernel(kdir, bzimage):
    """The kernel file for QEMU's -kernel.

    Preferably the uncompressed ELF vmlinux, extracted from vmlinuz once and
    cached next to it: QEMU boots it through its PVH entry point, which
    saves the decompression, some 3 s under TCG.  vmlinuz when that cannot
    be had (or with --bzimage)."""
    vmlinuz = os.path.join(kdir, "vmlinuz")
    if not os.path.exists(vmlinuz):  # a kernel of build-kernel.sh
        vmlinuz = os.path.join(kdir, "bzImage")
    if bzimage:
        return vmlinuz
    path = os.path.join(kdir, "vmlinux")
    if os.path.exists(path):
        return path
    if os.path.exists(path + ".none"):
        return vmlinuz
    elf = extract_vmlinux(vmlinuz)
    ok = elf is not None and has_pvh_entry(elf)
    try:
        if ok:
            with open(path + ".tmp", "wb") as f:
                f.write(elf)
            os.rename(path + ".tmp", path)
            log("extracted %s (%d MB) from vmlinuz, booted through its PVH "
                "entry point" % (path, len(elf) >> 20))
            return path
        # Remember, so that the extraction is not tried on every run.
        open(path + ".none", "w").close()
    except OSError as e:
        log("cannot write %s: %s" % (path, e))
    log("no ELF kernel with a PVH entry point in %s: booting the bzImage"
        % vmlinuz)
    return vmlinuz


# ---------------------------------------------------------------- initramfs


class Cpio:
    """Writer of a "newc" cpio archive, the format the kernel unpacks.

    Written here rather than with cpio(1) so that device nodes such as
    /dev/console can be included without being root.
    """

    def __init__(self, path):
        self.f = open(path, "wb")
        self.ino = 1
        self.names = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        self.names.add(name)
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0,
                  rdev[0], rdev[1], len(name) + 1, 0]
        self.ino += 1
        hdr = b"070701" + b"".join(b"%08x" % v for v in fields)
        blob = hdr + name.encode() + b"\0"
        blob += b"\0" * (-len(blob) % 4)
        blob += data + b"\0" * (-len(data) % 4)
        self.f.write(blob)

    def dir(self, name):
        parts = name.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if sub not in self.names:
                self._entry(sub, stat.S_IFDIR | 0o755)

    def _parent(self, name):
        parent = os.path.dirname(name.strip("/"))
        if parent:
            self.dir(parent)

    def file(self, name, src=None, data=None, mode=0o755):
        name = name.strip("/")
        self._parent(name)
        if data is None:
            with open(src, "rb") as f:
                data = f.read()
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        name = name.strip("/")
        self._parent(name)
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor):
        name = name.strip("/")
        self._parent(name)
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def close(self):
        self._entry("TRAILER!!!", 0)
        self.f.close()


def shared_libraries(binary):
    """(name in the guest, host file) of every shared library @binary loads.

    Libraries go to /lib under the name the binary asks for (the guest's
    LD_LIBRARY_PATH is /lib); the dynamic loader goes to its absolute path.
    """
    res = subprocess.run(["ldd", binary], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    if res.returncode != 0:  # static binary or script: nothing to add
        return []
    libs = []
    for line in res.stdout.splitlines():
        line = line.strip()
        m = re.match(r"(\S+) => (\S+) \(0x[0-9a-f]+\)$", line)
        if m:
            libs.append(("/lib/" + os.path.basename(m.group(1)), m.group(2)))
            continue
        m = re.match(r"(/\S+) \(0x[0-9a-f]+\)$", line)
        if m:  # the dynamic loader
            libs.append((m.group(1), m.group(1)))
            continue
        if "not found" in line:
            raise SetupError("%s: ldd cannot find a library: %s"
                             % (binary, line))
    return libs


def add_modules(cpio, kdir):
    """The kernel's modules (setup.sh's modules/order and the on-demand
    groups) into /lib/modules.  A kernel without modules/ (build-kernel.sh:
    everything built in) gets none, and init.sh loads none."""
    mdir = os.path.join(kdir, "modules")
    if not os.path.isdir(mdir):
        return
    with open(os.path.join(mdir, "order")) as f:
        modules = f.read().split()
    for m in modules:
        cpio.file("lib/modules/" + m, os.path.join(mdir, m), mode=0o644)
    cpio.file("lib/modules/order", data=("\n".join(modules) + "\n").encode(),
              mode=0o644)
    for g in MODULE_GROUPS:
        if not os.path.exists(os.path.join(mdir, g + ".order")):
            continue  # setup-arm64.sh keeps no on-demand groups
        with open(os.path.join(mdir, g + ".order")) as f:
            group = f.read().split()
        for m in group:
            if m not in modules:
                cpio.file("lib/modules/" + m, os.path.join(mdir, m),
                          mode=0o644)
        cpio.file("lib/modules/%s.order" % g,
                  data=("\n".join(group) + "\n").encode(), mode=0o644)


def elf_needed(path):
    """DT_NEEDED of an ELF file (readelf reads any architecture's) and its
    program interpreter; ([], None) for a static binary or a script."""
    res = subprocess.run(["readelf", "-d", "-l", "-W", path],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                        res.stdout)
    m = re.search(r"Requesting program interpreter: ([^\]]+)\]", res.stdout)
    return needed, (m.group(1) if m else None)


def arm64_shared_libraries(binary):
    """shared_libraries() for an aarch64 binary, which ldd cannot run: the
    DT_NEEDED closure, from the build's lib/ (libfpgactl.so) or Debian's
    multiarch :arm64 directories, and the loader of libc6:arm64."""
    build = os.path.dirname(os.path.abspath(binary))
    while build != "/" and not os.path.exists(
            os.path.join(build, "build.ninja")):
        build = os.path.dirname(build)
    dirs = [os.path.join(build, "lib")] + list(ARM64_LIBDIRS)
    libs, todo, seen = [], [binary], set()
    while todo:
        needed, interp = elf_needed(todo.pop())
        if interp and interp not in seen:
            seen.add(interp)
            libs.append((interp, os.path.realpath(interp)))
        for name in needed:
            if name in seen:
                continue
            seen.add(name)
            for d in dirs:
                f = os.path.join(d, name)
                if os.path.exists(f):
                    libs.append(("/lib/" + name, os.path.realpath(f)))
                    todo.append(f)
                    break
            else:
                raise SetupError("%s: no aarch64 %s in %s (tools/deps.sh "
                                 "aarch64 installs the :arm64 libraries)"
                                 % (binary, name, ", ".join(dirs)))
    return libs


def elf_machine(path):
    with open(path, "rb") as f:
        head = f.read(20)
    return struct.unpack_from("<H", head, 18)[0] if head[:4] == b"\x7fELF" else 0


def busybox_applets(busybox):
    """busybox --list-full; an aarch64 busybox runs through qemu-aarch64."""
    cmd = [busybox, "--list-full"]
    if elf_machine(busybox) == 183 and os.uname().machine != "aarch64":
        cmd = ["qemu-aarch64"] + cmd  # EM_AARCH64 on another host
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          text=True).stdout.split()


def build_initramfs(path, kdir, binaries, tests, conf, arch="x86",
                    busybox=BUSYBOX):
    cpio = Cpio(path)
    for d in ("dev", "proc", "sys", "tmp", "root", "etc", "lib64"):
        cpio.dir(d)
    cpio.chardev("dev/console", 5, 1)
    cpio.chardev("dev/null", 1, 3)
    cpio.file("init", INIT_SH)
    cpio.file("bin/busybox", busybox)
    libs_of = arm64_shared_libraries if arch == "arm64" else shared_libraries
    libs = dict(libs_of(busybox))  # none for busybox-static
    applets = busybox_applets(busybox)
    for applet in applets:
        if applet != "bin/busybox":
            cpio.symlink(applet, "/bin/busybox")
    add_modules(cpio, kdir)
    for b in binaries:
        cpio.file("bin/" + os.path.basename(b), b)
        for guest, host in libs_of(b):
            libs[guest] = host
    for guest, host in sorted(libs.items()):
        cpio.file(guest, host)
    cpio.file("lib/vmtest.sh", TESTLIB_SH, mode=0o644)
    for t in tests:
        cpio.file("tests/%s.sh" % t, os.path.join(GUEST_DIR, t + ".sh"),
                  mode=0o644)
    text = "".join("%s='%s'\n" % kv for kv in conf.items())
    cpio.file("etc/vmtest.conf", data=text.encode(), mode=0o644)
    cpio.close()


# ---------------------------------------------------------------- QEMU


def kvm_opens():
    """Whether /dev/kvm opens.  That proves nothing: on some machines it
    opens and every KVM guest dies at once (QEMU: "failed to set MSR 0x10a
    to 0x69", then an assertion).  auto tries KVM when it opens and keeps it
    only once a guest started under it: see run_vm and kvm_died."""
    try:
        fd = os.open(KVM_DEVICE, os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    return True


QEMU_PREFIX = re.compile(r"^\S*qemu[^\s:]*:\s*(?:error:\s*)?")


def qemu_message(path, rc):
    """QEMU's own first message in its output file @path, as "qemu: TEXT",
    or its exit status when it said nothing."""
    for line in tail(path, 200):
        line = line.strip()
        if line:
            return "qemu: " + QEMU_PREFIX.sub("", line)
    return "qemu exit status %d, no message" % rc


def kvm_died(report, rc, timed_out, work):
    """Whether QEMU under KVM died before the guest printed anything: no
    protocol line, nothing on the serial console, a failing exit status."""
    if timed_out or rc == 0 or report.booted is not None:
        return False
    try:
        return os.path.getsize(os.path.join(work, "console.log")) == 0
    except OSError:
        return True


# The machines guest tests can ask for.  Each is one QEMU boot: "memory"
# (MiB), "smp", "hugepages" (2 MiB pages init.sh reserves: a total, or
# "NODE:COUNT ..." per NUMA node), and "devices(work)", the QEMU arguments
# for the NUMA topology and the devices.  Every machine has the emulated
# Intel IOMMU; its tests find the devices by vendor:device ID in sysfs.


def nvme_args(work):
    # On the root bus: without bus=, QEMU would pick a pxb-pcie bus.
    return ["-drive", "file=%s,if=none,id=nv0,format=raw"
            % os.path.join(work, "nvme.img"),
            "-device", "nvme,serial=fpgactl01,drive=nv0,bus=pcie.0"]


def default_devices(work, memory):
    # edu 0000:00:01.0, NVMe 0000:00:02.0, both on q35's root bus.
    return ["-device", "edu"] + nvme_args(work)


def numa_devices(work, memory):
    # Two nodes of 512 MiB with a vCPU each.  edu sits behind a PCIe root
    # port on a PCIe expander bridge (a second host bridge, bus 0x10) that
    # ACPI puts on node 1 (_PXM), so the guest sees numa_node 1 for edu
    # (0000:11:00.0); NVMe stays on the root bus (numa_node -1).
    half = "%dM" % (memory // 2)
    return [
        "-object", "memory-backend-ram,id=mem0,size=" + half,
        "-object", "memory-backend-ram,id=mem1,size=" + half,
        "-numa", "node,nodeid=0,cpus=0,memdev=mem0",
        "-numa", "node,nodeid=1,cpus=1,memdev=mem1",
        "-device", "pxb-pcie,id=pxb1,bus=pcie.0,bus_nr=16,numa_node=1",
        "-device", "pcie-root-port,id=rp1,bus=pxb1,chassis=1,slot=1",
        "-device", "edu,bus=rp1",
    ] + nvme_args(work)


def hotplug_devices(work, memory):
    # edu behind a PCIe root port, so that it can be unplugged (a device on
    # q35's root bus cannot): root port 0000:00:01.0, edu 0000:01:00.0.
    # The guest tests name them by their QEMU ids in host requests
    # ("host device_del hotedu"); no NVMe.
    return ["-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1",
            "-device", "edu,id=hotedu,bus=rp1"]


def sriov_devices(work, memory):
    # An NVMe controller with SR-IOV (QEMU 7.2 hw/nvme: needs an NVMe
    # subsystem and both flexible resource pools; up to 2 VFs) behind a PCIe
    # root port: PF 0000:01:00.0, VFs 0000:01:00.1 and .2 once created.
    return ["-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1",
            "-device", "nvme-subsys,id=subsys0",
            "-device", "nvme,serial=fpgactlsriov,subsys=subsys0,bus=rp1,"
            "sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2"]


MACHINES = {
    "default": {
        "about": "1 vCPU, 1 GiB, 16 hugepages; edu and NVMe on the root bus",
        "memory": 1024, "smp": 1, "hugepages": "16",
        "devices": default_devices,
    },
    "numa": {
        "about": "2 NUMA nodes of 512 MiB and 1 vCPU each, 16 hugepages on "
                 "each node; edu on node 1 (pxb-pcie, root port), NVMe on the "
                 "root bus",
        "memory": 1024, "smp": 2, "hugepages": "0:16 1:16",
        "devices": numa_devices,
    },
    "hotplug": {
        "about": "1 vCPU, 1 GiB, 16 hugepages; edu (QEMU id hotedu) behind a "
                 "PCIe root port (id rp1), unpluggable; no NVMe",
        "memory": 1024, "smp": 1, "hugepages": "16",
        "devices": hotplug_devices,
    },
    "sriov": {
        "about": "1 vCPU, 1 GiB, 16 hugepages; an NVMe PF with 2 SR-IOV VFs "
                 "behind a PCIe root port; no edu",
        "memory": 1024, "smp": 1, "hugepages": "16",
        "devices": sriov_devices,
    },
    "bench": {
        "about": "1 vCPU, 3 GiB, 640 hugepages (1.25 GiB); devices as default",
        "memory": 3072, "smp": 1, "hugepages": "640",
        "devices": default_devices,
    },
}


def qemu_command_arm64(args, kdir, work, machine):
    """QEMU's virt machine with an SMMUv3 and a GICv3 (whose ITS takes the
    MSIs), under TCG, with the machine's PCI devices (edu and NVMe on the
    root bus; on "hotplug", edu behind a pcie-root-port, hot-plugged by the
    guest's pciehp: virt boots by device tree, there is no ACPI hotplug).
    virt has one UART, the console (ttyAMA0); the test protocol and the
    host requests go over two virtconsole ports of a virtio-serial device
    on virt's virtio-mmio transport, the guest's hvc0 (results, as ttyS1 on
    x86) and hvc1 (vm.py's answers, as ttyS2)."""
    m = MACHINES[machine]
    if machine not in ARM64_MACHINES:
        raise SetupError("machine %s has no arm64 layout (arm64 has %s)"
                         % (machine, ", ".join(ARM64_MACHINES)))
    memory = args.memory or m["memory"]
    append = ("console=ttyAMA0 quiet loglevel=4 panic=-1 init_on_alloc=0 "
              "rdinit=/init")
    return [
        args.qemu, "-machine", "virt,iommu=smmuv3,gic-version=3,accel=tcg",
        "-cpu", "max", "-m", str(memory), "-smp", str(m["smp"]),
        "-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none",
    ] + m["devices"](work, memory) + [
        "-kernel", os.path.join(kdir, "vmlinuz"),
        "-initrd", os.path.join(work, "initramfs.cpio"),
        "-append", append,
        "-chardev", "file,id=con,path=%s" % os.path.join(work, "console.log"),
        "-serial", "chardev:con",
        # virtio-mmio, not PCI: the PCI topology and the SMMU stay as they are.
        "-device", "virtio-serial-device,id=vser",
        "-chardev", "file,id=res,path=%s" % os.path.join(work, "results.log"),
        "-device", "virtconsole,chardev=res,bus=vser.0,name=vmtest.results",
        "-chardev", "socket,id=ctl,path=%s,server=on,wait=off"
        % os.path.join(work, CTL_SOCKET),
        "-device", "virtconsole,chardev=ctl,bus=vser.0,name=vmtest.ctl",
        "-qmp", "unix:%s,server=on,wait=off" % os.path.join(work, QMP_SOCKET),
    ]


# The machines of MACHINES that have an arm64 layout: their devices are the
# same QEMU arguments on virt (pcie.0 is virt's root bus too).
ARM64_MACHINES = ("default", "hotplug")

# The guest's protocol ports (init.sh, host in testlib.sh), by architecture:
# results and host requests, and vm.py's answers.
PORTS = {"x86": ("/dev/ttyS1", "/dev/ttyS2"),
         "arm64": ("/dev/hvc0", "/dev/hvc1")}


def qemu_command(args, kdir, work, machine, accel):
    if args.row_data["arch"] == "arm64":
        return qemu_command_arm64(args, kdir, work, machine)
    if accel == "kvm":
        # The emulated IOMMU's interrupt remapping needs a split irqchip.
        qmachine, cpu = "q35,accel=kvm,kernel-irqchip=split", "host"
    else:
        qmachine, cpu = "q35,accel=tcg", "max"
    # init_on_alloc=0: Debian's kernel zeroes every page it allocates, which
    # under TCG costs about 10 ms per 2 MiB hugepage reserved (7 s for 640).
    # no_timer_check: on a loaded host a TCG guest can miss the ticks the
    # kernel counts to check the IO-APIC timer, and with interrupt
    # remapping on it then panics ("timer doesn't work through
    # Interrupt-remapped IO-APIC", seen at host load 18).
    append = ("console=ttyS0 intel_iommu=on quiet loglevel=4 panic=-1 "
              "init_on_alloc=0 no_timer_check rdinit=/init")
    m = MACHINES[machine]
    memory = args.memory or m["memory"]
    return [
        args.qemu, "-machine", qmachine, "-cpu", cpu,
        "-m", str(memory), "-smp", str(m["smp"]),
        "-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none",
        "-device", "intel-iommu,intremap=on,caching-mode=on",
    ] + m["devices"](work, memory) + [
        "-kernel", boot_kernel(kdir, args.bzimage),
        "-initrd", os.path.join(work, "initramfs.cpio"),
        "-append", append,
        # ttyS0: kernel console; ttyS1: the test protocol (see init.sh).
        "-chardev", "file,id=con,path=%s" % os.path.join(work, "console.log"),
        "-serial", "chardev:con",
        "-chardev", "file,id=res,path=%s" % os.path.join(work, "results.log"),
        "-serial", "chardev:res",
        # ttyS2: vm.py's answers to the guest's host requests (Host below).
        "-chardev", "socket,id=ctl,path=%s,server=on,wait=off"
        % os.path.join(work, CTL_SOCKET),
        "-serial", "chardev:ctl",
        # The QMP monitor through which vm.py carries those requests out.
        "-qmp", "unix:%s,server=on,wait=off" % os.path.join(work, QMP_SOCKET),
    ]


def die_with_parent():
    """In QEMU's child process: get SIGKILL when vm.py dies, however it dies."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def kill_qemu(proc):
    """Kill QEMU and reap it."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()


# ---------------------------------------------------------------- host requests

QMP_SOCKET = "qmp.sock"
CTL_SOCKET = "ctl.sock"


class QMPError(Exception):
    """QMP failed, or QEMU refused a command (the message is QEMU's)."""


class QMP:
    """A client of QEMU's QMP monitor: JSON objects, one a line."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError as e:
                if time.monotonic() > deadline:
                    self.sock.close()
                    raise QMPError("cannot connect to QMP at %s: %s" % (path, e))
                time.sleep(0.05)
        self.buf = b""
        self.events = []
        if self._read(timeout) is None:
            raise QMPError("no QMP greeting within %d s" % timeout)
        self.command("qmp_capabilities")

    def close(self):
        self.sock.close()

    def _read(self, timeout):
        """The next message, or None when none came within @timeout s."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = max(0.0, deadline - time.monotonic())
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            data = self.sock.recv(65536)
            if not data:
                raise QMPError("QEMU closed the QMP connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def poll_events(self):
        """Collect the events that have come, without waiting."""
        while True:
            msg = self._read(0)
            if msg is None:
                return
            if "event" in msg:
                self.events.append(msg)

    def command(self, name, args=None, timeout=10):
        """Run a command; its "return" value, or QMPError."""
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(max(0.0, deadline - time.monotonic()))
            if reply is None:
                raise QMPError("no answer to %s within %d s" % (name, timeout))
            if "event" in reply:
                self.events.append(reply)
            elif "error" in reply:
                raise QMPError(reply["error"].get("desc", str(reply["error"])))
            elif "return" in reply:
                return reply["return"]


class Host:
    """Carries out what a guest test asks of the host (host in testlib.sh).

    The guest writes "@@VMTEST <nonce> HOST <seq> <request>" on the results
    port; the answer goes to the guest's ttyS2 (a socket chardev) as
    "@@VMTEST <nonce> ACK <seq> ok|error <text>".  The requests, carried
    out through QMP:
        device_del ID                  unplug a device (QEMU id)
        device_add DRIVER[,KEY=VALUE]  plug one in (string properties)
        wait_deleted ID SECONDS        answered once QEMU has reported
                                       DEVICE_DELETED for ID since the last
                                       device_del or device_add of ID (at
                                       once if it has already; a guest that
                                       powers a pciehp slot off has QEMU
                                       remove the card without device_del),
                                       or with an error
    """

    def __init__(self, work, nonce, label):
        self.work = work
        self.nonce = nonce
        self.label = label
        self.qmp = None
        self.ctl = None
        self.waits = []  # [seq, device id, deadline]

    def close(self):
        for s in (self.qmp, self.ctl):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass

    def _qmp(self):
        if self.qmp is None:
            self.qmp = QMP(os.path.join(self.work, QMP_SOCKET))
        return self.qmp

    def _answer(self, seq, status, text):
        log("%shost request %s: %s %s" % (self.label, seq, status, text))
        line = "%s %s ACK %s %s %s\n" % (MARKER, self.nonce, seq, status, text)
        try:
            if self.ctl is None:
                self.ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.ctl.connect(os.path.join(self.work, CTL_SOCKET))
            self.ctl.sendall(line.encode())
        except OSError as e:
            log("%scannot answer host request %s on the guest's ttyS2: %s"
                % (self.label, seq, e))

    def request(self, rest):
        seq, _, req = rest.partition(" ")
        log("%shost request %s: %s" % (self.label, seq, req))
        words = req.split()
        try:
            text = self._do(seq, words)
        except (QMPError, OSError, ValueError) as e:
            self._answer(seq, "error", str(e) or type(e).__name__)
            return
        if text is not None:
            self._answer(seq, "ok", text)

    def _do(self, seq, words):
        """Carry out a request: the answer's text, or None when the answer
        comes later (from poll)."""
        if len(words) == 2 and words[0] == "device_del":
            self._forget_deleted(words[1])
            self._qmp().command("device_del", {"id": words[1]})
            return "device_del %s accepted" % words[1]
        if len(words) == 2 and words[0] == "device_add":
            driver, *props = words[1].split(",")
            args = {"driver": driver}
            for p in props:
                key, eq, value = p.partition("=")
                if not eq:
                    raise ValueError("device_add: %r is not KEY=VALUE" % p)
                args[key] = value
            if "id" in args:
                self._forget_deleted(args["id"])
            self._qmp().command("device_add", args)
            return "device_add %s done" % words[1]
        if (len(words) == 3 and words[0] == "wait_deleted"
                and words[2].isdigit()):
            self._qmp()
            self.waits.append([seq, words[1],
                               time.monotonic() + int(words[2])])
            self.poll()
            return None
        raise ValueError("unknown host request %r (device_del ID, "
                         "device_add DRIVER[,KEY=VALUE...], "
                         "wait_deleted ID SECONDS)" % " ".join(words))

    def _forget_deleted(self, dev):
        """Drop the DEVICE_DELETED events of @dev so far: the deletion of an
        earlier device with that id (an earlier test's) must not answer a
        wait_deleted for the next one (with pciehp, arm64, a removal
        completes seconds after the request)."""
        qmp = self._qmp()
        qmp.poll_events()
        qmp.events = [e for e in qmp.events
                      if not (e.get("event") == "DEVICE_DELETED" and
                              e.get("data", {}).get("device") == dev)]

    def poll(self):
        """Answer the waits whose event has come or whose time is up."""
        if not self.waits:
            return
        try:
            self.qmp.poll_events()
        except QMPError as e:
            for seq, dev, _ in self.waits:
                self._answer(seq, "error", str(e))
            self.waits = []
            return
        deleted = {e.get("data", {}).get("device")
                   for e in self.qmp.events if e.get("event") == "DEVICE_DELETED"}
        now = time.monotonic()
        for w in list(self.waits):
            seq, dev, deadline = w
            if dev in deleted:
                self._answer(seq, "ok", "DEVICE_DELETED %s" % dev)
            elif now > deadline:
                self._answer(seq, "error", "no DEVICE_DELETED for %s in time"
                             % dev)
            else:
                continue
            self.waits.remove(w)


class Terminated(Exception):
    """vm.py got SIGTERM or SIGHUP (e.g. meson's timeout)."""


def on_signal(signum, frame):
    raise Terminated("vm.py got signal %d" % signum)


# ---------------------------------------------------------------- results


class Report:
    """Turns protocol lines into TAP as they arrive."""

    def __init__(self, tests, numbers, nonce, verbose, label, host=None):
        self.host = host
        self.tests = tests
        self.label = label
        self.nonce = nonce
        self.verbose = verbose
        self.pattern = re.compile(re.escape(MARKER) + r" (\S+) (\S+)(?: (.*))?$")
        self.booted = None
        self.ready = False
        self.done = False
        self.setup_failed = None
        self.setup_lines = []
        self.current = None
        self.lines = []
        self.kmsg = []
        self.results = {}  # test -> ok, skip or fail
        self.numbers = numbers
        self.boot_time = None
        self.start = time.monotonic()

    def line(self, text):
        m = self.pattern.search(text)
        if not m or m.group(1) != self.nonce:
            return
        kind, rest = m.group(2), m.group(3) or ""
        if kind == "BOOTED":
            self.booted = rest
        elif kind == "READY":
            self.ready = True
            self.boot_time = time.monotonic() - self.start
            f = rest.split()
            extra = ""
            if len(f) >= 2:
                extra = ("; guest uptime %s s, of which %s s reserving "
                         "hugepages" % (f[0], f[1]))
            log("%sguest ready after %.1f s (kernel %s%s)"
                % (self.label, self.boot_time, self.booted, extra))
        elif kind == "SETUP-FAILED":
            self.setup_failed = rest
        elif kind == "BEGIN":
            self.current, self.lines, self.kmsg = rest, [], []
            if self.verbose:
                log("%srunning %s" % (self.label, rest))
        elif kind == "|":
            (self.lines if self.current else self.setup_lines).append(rest)
        elif kind == "K":
            (self.kmsg if self.current else self.setup_lines).append(
                "kernel: " + rest)
        elif kind == "HOST" and self.host:
            self.host.request(rest)
        elif kind == "END":
            self.end(rest)
        elif kind == "DONE":
            self.done = True

    def end(self, rest):
        fields = rest.split(" ", 4)
        while len(fields) < 5:
            fields.append("")
        name, status, rc, secs, reason = fields
        if name not in self.numbers or name in self.results:
            return
        n = self.numbers[name]
        if status == "ok":
            print("ok %d - %s" % (n, name))
        elif status == "skip":
            print("ok %d - %s # SKIP %s" % (n, name, reason or "skipped"))
        else:
            print("not ok %d - %s" % (n, name))
            why = "exit status %s after %s s" % (rc, secs)
            diag("%s: %s%s" % (name, why, ("; " + reason) if reason else ""))
            diag_lines(self.lines)
            if self.kmsg:
                diag("kernel log while %s ran:" % name)
                diag_lines(self.kmsg)
        if self.verbose and status != "fail":
            diag_lines(self.lines)
        elif status != "fail":
            # Figures a test reports (report in testlib.sh), e.g. a
            # benchmark's: shown for a passing test too.
            for line in self.lines:
                if line.startswith(REPORT_PREFIX):
                    diag("  " + line)
                    log("%s%s: %s" % (self.label, name, line))
        sys.stdout.flush()
        log("%s%s: %s (%s s)" % (self.label, name, status, secs))
        self.results[name] = status
        self.current = None


# With --tap-harness, diagnostics also go to stderr: meson keeps a TAP
# test's stdout to itself and shows only stderr with --print-errorlogs.
DIAG_TO_STDERR = False


def diag(text):
    print("# " + text)
    if DIAG_TO_STDERR:
        print(text, file=sys.stderr)


def diag_lines(lines, indent="  "):
    for line in lines:
        diag(indent + line)


def tail(path, n):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    lines = data.decode("utf-8", "replace").replace("\r", "").splitlines()
    return lines[-n:]


def run_vm(args, kdir, machine, tests, numbers, work, label):
    """Boot @machine once and run @tests in it; TAP numbers from @numbers.

    With --accel auto and a /dev/kvm that opens, the first boot is under
    KVM; when QEMU dies there before the guest printed anything, one line
    quoting QEMU says so and the machine boots again under TCG (and so do
    the later ones: args.accel becomes tcg).  A guest that started under
    KVM keeps KVM for the later machines.

    Return (exit status, seconds to READY or None, seconds QEMU ran)."""
    accel = args.accel
    if args.row_data["arch"] != "x86":
        accel = "tcg"  # another architecture than the host's: TCG only
    elif accel == "auto":
        accel = "kvm" if kvm_opens() else "tcg"
    status, ready, ran, died = boot_once(args, kdir, machine, tests, numbers,
                                         work, label, accel)
    if died and args.accel == "auto":
        log("KVM not usable here (%s), using TCG" % died)
        args.accel = accel = "tcg"
        shutil.rmtree(work, ignore_errors=True)
        status, ready, ran, _ = boot_once(args, kdir, machine, tests, numbers,
                                          work, label, accel)
    elif args.accel == "auto" and accel == "kvm":
        args.accel = "kvm"  # proven: a guest started under it
    return status, ready, ran


def boot_once(args, kdir, machine, tests, numbers, work, label, accel):
    """One boot of run_vm under @accel.  The fourth value is QEMU's message
    when it died under KVM before the guest printed anything (nothing is
    reported then), else None."""
    os.makedirs(work, exist_ok=True)
    nonce = secrets.token_hex(8)
    conf = {
        "VMTEST_NONCE": nonce,
        "VMTEST_MACHINE": machine,
        "VMTEST_TESTS": " ".join(tests),
        "VMTEST_TIMEOUT": str(args.test_timeout),
        "VMTEST_HUGEPAGES": MACHINES[machine]["hugepages"],
        # need_program (testlib.sh) fails rather than skips in CI.
        "VMTEST_CI": "1" if in_ci() else "",
    }
    # The row (FPGACTL_VM_ROW, ...): init.sh exports the FPGACTL_* lines.
    conf.update(rows.guest_env(args.row_data))
    initrd = os.path.join(work, "initramfs.cpio")
    arch = args.row_data["arch"]
    conf["VMTEST_RESULTS_PORT"], conf["VMTEST_CTL_PORT"] = PORTS[arch]
    if arch == "arm64":
        # init.sh re-enumerates the bridges so that their ACS is enabled
        # (Linux 6.1 on a device-tree boot requests ACS too late).
        conf["VMTEST_ACS_RESCAN"] = "1"
    build_initramfs(initrd, kdir, args.binaries, tests, conf, arch,
                    guest_busybox(args.cache, arch))
    with open(os.path.join(work, "nvme.img"), "wb") as f:
        f.truncate(16 << 20)
    for name in ("console.log", "results.log"):
        open(os.path.join(work, name), "wb").close()
    cmd = qemu_command(args, kdir, work, machine, accel)
    try:
        load = "host load %.2f; " % os.getloadavg()[0]
    except OSError:
        load = ""
    log("%sbooting machine %s, row %s, kernel %s, with %s (%d test%s; "
        "%stimeout %d s; work dir %s)"
        % (label, machine, args.row, os.path.basename(kdir), accel, len(tests),
           "" if len(tests) == 1 else "s", load, args.timeout, work))
    host = Host(work, nonce, label)
    report = Report(tests, numbers, nonce, args.verbose, label, host)
    qemu_log = open(os.path.join(work, "qemu.log"), "wb")
    # QEMU stays in our process group, so that a harness that kills the
    # group kills it too; PR_SET_PDEATHSIG covers vm.py being killed alone.
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qemu_log,
                            stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    # The results come on ttyS1; init.sh falls back to the console when the
    # guest has no ttyS1, so both are read (the nonce tells results apart).
    streams = [LineReader(os.path.join(work, "results.log")),
               LineReader(os.path.join(work, "console.log"))]
    console_path = os.path.join(work, "console.log")
    timed_out = False
    console_pos = 0
    try:
        while True:
            exited = proc.poll() is not None
            for stream in streams:
                for line in stream.lines(final=exited):
                    report.line(line)
            host.poll()
            if args.console:
                console_pos = echo_console(console_path, console_pos)
            if exited:
                break
            if time.monotonic() - report.start > args.timeout:
                timed_out = True
                break
            time.sleep(0.1)
    finally:
        host.close()
        kill_qemu(proc)
        qemu_log.close()
    elapsed = time.monotonic() - report.start
    log("%sVM ran %.1f s%s" % (label, elapsed, " (killed at the timeout)"
                               if timed_out else ", QEMU exit status %d"
                               % proc.returncode))
    if (accel == "kvm" and args.accel == "auto"
            and kvm_died(report, proc.returncode, timed_out, work)):
        return None, None, elapsed, qemu_message(
            os.path.join(work, "qemu.log"), proc.returncode)
    status = finish(report, tests, timed_out, proc.returncode, work, args,
                    machine)
    return status, report.boot_time, elapsed, None


class LineReader:
    """Complete lines appended to a file since the last call."""

    def __init__(self, path):
        self.path = path
        self.pos = 0
        self.pending = b""

    def lines(self, final=False):
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            data = f.read()
        self.pos += len(data)
        self.pending += data
        *complete, self.pending = self.pending.split(b"\n")
        if final and self.pending:
            complete.append(self.pending)
            self.pending = b""
        return [raw.decode("utf-8", "replace").rstrip("\r") for raw in complete]


def echo_console(path, pos):
    with open(path, "rb") as f:
        f.seek(pos)
        data = f.read()
    if data:
        sys.stderr.write(data.decode("utf-8", "replace").replace("\r", ""))
        sys.stderr.flush()
    return pos + len(data)


def finish(report, tests, timed_out, qemu_rc, work, args, machine):
    console = os.path.join(work, "console.log")
    if timed_out:
        why = "the VM was killed after the %d s timeout" % args.timeout
    else:
        why = "the VM stopped (QEMU exit status %d)" % qemu_rc

    if not report.ready:
        if report.setup_failed:
            reason = "guest set-up failed: %s" % report.setup_failed
        elif report.booted:
            reason = "the guest booted but did not get ready: %s" % why
        else:
            reason = "the VM did not boot: %s" % why
        reason = "machine %s: %s" % (machine, reason)
        print("Bail out! %s" % reason)
        diag_lines(report.setup_lines, "")
        diag("QEMU output (%s):" % os.path.join(work, "qemu.log"))
        diag_lines(tail(os.path.join(work, "qemu.log"), 20))
        diag("last lines of the serial console (%s):" % console)
        diag_lines(tail(console, 40))
        sys.stdout.flush()
        return EXIT_NO_VM

    failed = False
    for t in tests:
        if t in report.results:
            failed |= report.results[t] == "fail"
            continue
        failed = True
        n = report.numbers[t]
        if t == report.current:
            print("not ok %d - %s" % (n, t))
            diag("%s did not finish: %s" % (t, why))
            diag_lines(report.lines)
            diag("last lines of the serial console (%s):" % console)
            diag_lines(tail(console, 40))
        else:
            print("not ok %d - %s" % (n, t))
            diag("%s did not run: %s" % (t, why))
    if not report.done and not failed:
        # Every test ended but the guest did not say DONE: init.sh broke.
        print("Bail out! the guest stopped after the last test without "
              "reporting DONE: %s" % why)
        sys.stdout.flush()
        return EXIT_NO_VM
    sys.stdout.flush()
    args.failed = failed
    if failed and not args.tap_harness:
        return EXIT_FAILED
    return 0


# ---------------------------------------------------------------- main


def parse_args():
    p = argparse.ArgumentParser(
        description="Run the guest tests in a QEMU VM with an emulated IOMMU "
        "and report TAP on stdout.")
    p.add_argument("binaries", nargs="*", metavar="BINARY",
                   help="programs to put in the guest's /bin (with their "
                   "shared libraries), e.g. build/tools/fpgactl; a directory "
                   "gives its executable files (build/tests/vm/progs)")
    p.add_argument("-t", "--test", dest="only", action="append", default=[],
                   metavar="NAME", help="run only this guest test (file name "
                   "without .sh, with or without its number); repeatable; "
                   "env FPGACTL_VM_TESTS=name,name")
    p.add_argument("--list", action="store_true",
                   help="list the guest tests with their machines, and the "
                   "machines")
    p.add_argument("-m", "--machine", choices=sorted(MACHINES),
                   help="run the selected tests on this machine, whatever "
                   "machine they ask for")
    p.add_argument("--cache", default=default_cache(),
                   help="kernel cache (env FPGACTL_VM_CACHE; default %(default)s)")
    p.add_argument("--timeout", type=int,
                   default=int(os.environ.get("FPGACTL_VM_TIMEOUT", "0")),
                   help="kill the VM after this many seconds "
                   "(env FPGACTL_VM_TIMEOUT; default 300, three times that "
                   "for a row of another architecture than the host's)")
    p.add_argument("--test-timeout", type=int, default=0,
                   help="kill a guest test after this many seconds "
                   "(default 60, three times that for a row of another "
                   "architecture than the host's)")
    p.add_argument("--memory", type=int, default=0,
                   help="guest MiB for every machine (default: the machine's)")
    p.add_argument("--accel", choices=("auto", "tcg", "kvm"),
                   default=os.environ.get("FPGACTL_VM_ACCEL", "auto"),
                   help="auto: KVM when /dev/kvm opens and a guest starts "
                   "under it, TCG otherwise (env FPGACTL_VM_ACCEL)")
    p.add_argument("--row", default=os.environ.get("FPGACTL_VM_ROW",
                                                   rows.DEFAULT_ROW),
                   choices=[r["name"] for r in rows.ROWS],
                   help="the matrix row: guest kernel and expected backend "
                   "(tests/vm/rows.py; env FPGACTL_VM_ROW; default "
                   "%(default)s)")
    p.add_argument("--qemu", default="",
                   help="QEMU binary (default: the row's architecture's, "
                   "qemu-system-x86_64 or qemu-system-aarch64)")
    p.add_argument("--bzimage", action="store_true",
                   default=bool(os.environ.get("FPGACTL_VM_BZIMAGE")),
                   help="boot the compressed vmlinuz instead of the ELF "
                   "vmlinux extracted from it (env FPGACTL_VM_BZIMAGE=1)")
    p.add_argument("--no-setup", action="store_true",
                   help="do not run setup.sh when something is missing")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory (initramfs, logs)")
    p.add_argument("--console", action="store_true",
                   help="copy the guest's serial console to stderr")
    p.add_argument("--tap-harness", action="store_true",
                   help="for a TAP harness such as meson's, which counts any "
                   "non-zero exit status (77 included) as an error: exit 0 "
                   "once the TAP report is complete, failures and skips "
                   "included, and non-zero only when the tests could not run")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show every test's output, not only a failing one's")
    args = p.parse_args()
    args.failed = False
    if os.environ.get("FPGACTL_VM_TESTS"):
        args.only += [t for t in os.environ["FPGACTL_VM_TESTS"].split(",") if t]
    return args


def plan(tests, forced):
    """[(machine, [test...])] in run order: the default machine first, then
    the others in MACHINES order; the tests of a machine in file order."""
    by_machine = {}
    for t in tests:
        m = forced or test_machine(t)
        if m not in MACHINES:
            raise SystemExit("vm.py: %s.sh asks for machine %r; the machines "
                             "are %s" % (t, m, ", ".join(MACHINES)))
        by_machine.setdefault(m, []).append(t)
    return [(m, by_machine[m]) for m in MACHINES if m in by_machine]


def main():
    global DIAG_TO_STDERR
    args = parse_args()
    DIAG_TO_STDERR = args.tap_harness
    args.row_data = rows.row(args.row)
    args.qemu = args.qemu or QEMU_OF_ARCH[args.row_data["arch"]]
    # TCG emulating another architecture (arm64 on x86-64) runs about three
    # times slower than x86 under TCG here (boot to READY 25-70 s on a
    # loaded 2-core machine, against 10-20 s).
    slow = 3 if args.row_data["arch"] != "x86" else 1
    args.timeout = args.timeout or 300 * slow
    args.test_timeout = args.test_timeout or 60 * slow
    tests = rows.row_tests(args.row_data, find_tests(args.only))
    runs = plan(tests, args.machine)
    if args.list:
        for machine, ts in runs:
            for t in ts:
                print("%-30s %s" % (t, machine))
        print()
        for name, m in MACHINES.items():
            print("machine %-8s %s" % (name, m["about"]))
        return 0
    binaries = []
    for b in args.binaries:
        if os.path.isdir(b):
            # A directory (build/tests/vm/progs): its executable files.
            binaries += sorted(
                os.path.join(b, f) for f in os.listdir(b)
                if os.path.isfile(os.path.join(b, f))
                and os.access(os.path.join(b, f), os.X_OK))
        elif os.path.isfile(b) and os.access(b, os.X_OK):
            binaries.append(b)
        else:
            raise SystemExit("vm.py: %s is not an executable file" % b)
    args.binaries = binaries
    order = [t for _, ts in runs for t in ts]
    numbers = {t: i + 1 for i, t in enumerate(order)}
    try:
        kdir = ensure_setup(args.cache, not args.no_setup, args.row_data,
                            args.qemu)
    except SetupError as e:
        if in_ci():
            print("1..%d" % len(order))
            print("Bail out! %s (CI=true: the VM tests may not be skipped)" % e)
            return EXIT_NO_VM
        print("1..0 # SKIP %s" % e)
        return 0 if args.tap_harness else EXIT_SKIP

    work = tempfile.mkdtemp(prefix="fpgactl-vm-")
    status = EXIT_NO_VM
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    print("1..%d" % len(order), flush=True)
    start = time.monotonic()
    times = []
    try:
        status = 0
        for machine, ts in runs:
            label = "[%s] " % machine if len(runs) > 1 else ""
            rc, ready, ran = run_vm(args, kdir, machine, ts, numbers,
                                    os.path.join(work, machine), label)
            times.append((machine, ready, ran))
            if rc == EXIT_NO_VM:
                # Bail out! ends the TAP stream: the later machines do not run.
                status = EXIT_NO_VM
                break
            status = max(status, rc)
    except SetupError as e:
        status = EXIT_NO_VM
        print("Bail out! %s" % e)
    except Terminated as e:
        status = EXIT_NO_VM
        print("Bail out! %s" % e, flush=True)
    finally:
        if len(times) > 1:
            log("%s; %.1f s in all" % ("; ".join(
                "%s: ready after %s s, ran %.1f s"
                % (m, "%.1f" % r if r is not None else "-", t)
                for m, r, t in times), time.monotonic() - start))
        if args.keep or status != 0 or args.failed:
            log("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
