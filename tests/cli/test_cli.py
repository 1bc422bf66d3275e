#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tests of the fpgactl command-line tool against a fake sysfs/dev tree.

Every test builds its own tree with mkfaketree and runs fpgactl with the
VFIO ioctl mock preloaded (docs/mock-kernel.md).  Environment:

    FPGACTL     the fpgactl executable
    MKFAKETREE  the mkfaketree executable
    MOCKVFIO    libmockvfio.so
"""

import ctypes
import json
import os
import re
import resource
import shutil
import struct
import subprocess
import tempfile
import time
import unittest

FPGACTL = os.environ.get("FPGACTL", "fpgactl")
MKFAKETREE = os.environ.get("MKFAKETREE", "mkfaketree")
MOCKVFIO = os.environ.get("MOCKVFIO", "")

READY = "0000:03:00.0"      # bound to vfio-pci, group 5: can be opened
BAR0_SIZE = 0x1000
BAR2_SIZE = 0x100
REGION_SHIFT = 28           # region i lives at i << 28 of mock-regions

READY_DEVICE = (f"{READY},group=5,driver=vfio-pci,numa=0,"
                f"region=0:{BAR0_SIZE:#x}:rwm,region=2:{BAR2_SIZE:#x}:rw")

EDU = "0000:00:04.0"        # QEMU's edu device, bound to vfio-pci
EDU_DEVICE = (f"{EDU},vendor=1234,device=11e8,class=00ff00,pcie=0,group=6,"
              "driver=vfio-pci,region=0:0x100000:rwm")

# The mock's usable IOVA ranges (docs/mock-kernel.md) and the library's
# reserve below 1 MiB, where it never places a buffer.
MOCK_IOVA_RANGES = [(0, 0xfedfffff), (0xfef00000, (1 << 48) - 1)]
IOVA_LOW_RESERVE = 1 << 20
MOCK_DMA_ENTRY_LIMIT = 65535
PR_CAPBSET_DROP = 24        # <linux/prctl.h>
CAP_IPC_LOCK = 14           # <linux/capability.h>
CAP_SYS_ADMIN = 21


def mock_iova_free(limit):
    """Free IOVA bytes at or below @limit in a context without buffers."""
    free = 0
    for start, last in MOCK_IOVA_RANGES:
        start, last = max(start, IOVA_LOW_RESERVE), min(last, limit)
        if start <= last:
            free += last - start + 1
    return free


def memlock_limited(memlock):
    """A preexec_fn: RLIMIT_MEMLOCK @memlock, and CAP_IPC_LOCK (which lifts
    the limit) gone from the bounding set, so that not even root keeps it
    across the exec."""
    def limit():
        resource.setrlimit(resource.RLIMIT_MEMLOCK, (memlock, memlock))
        if os.geteuid() == 0:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK, 0, 0, 0):
                raise OSError(ctypes.get_errno(), "PR_CAPBSET_DROP")
    return limit


def dash(value):
    """How the list table shows a value: "-" for none."""
    return "-" if value is None else str(value)


def column_starts(line, count):
    """Where the first @count blank-separated fields of @line start."""
    return [m.start() for m in re.finditer(r"\S+", line)][:count]


def sparse_content(path):
    """The data extents of a (sparse) file, as [(offset, bytes)]."""
    extents = []
    with open(path, "rb") as f:
        fd, offset = f.fileno(), 0
        while True:
            try:
                start = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError:
                break
            end = os.lseek(fd, start, os.SEEK_HOLE)
            extents.append((start, os.pread(fd, end - start, start)))
            offset = end
    return os.path.getsize(path), extents


class FakeTreeCase(unittest.TestCase):
    """A fresh fake tree per test, and helpers to run the tool on it."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fpgactl-cli-")
        self.root = os.path.join(self.tmp, "tree")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def make_tree(self, *options):
        subprocess.run([MKFAKETREE, self.root, *options], check=True)

    def tool_env(self, extra=None):
        env = dict(os.environ)
        env.pop("FPGACTL_MOCK_FAIL", None)
        env.pop("FPGACTL_IOMMU", None)
        env["FPGACTL_SYSFS_ROOT"] = os.path.join(self.root, "sys")
        env["FPGACTL_DEV_ROOT"] = os.path.join(self.root, "dev")
        if MOCKVFIO:
            env["LD_PRELOAD"] = MOCKVFIO
        # A preloaded module comes before the ASan runtime (ASan builds).
        asan = env.get("ASAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = ":".join(
            filter(None, [asan, "verify_asan_link_order=0"]))
        env.update(extra or {})
        return env

    def fpgactl(self, *args, env=None, preexec=None):
        return subprocess.run([FPGACTL, *args], env=self.tool_env(env),
                              capture_output=True, text=True, timeout=60,
                              preexec_fn=preexec)

    def write_file(self, rel, text):
        """Create a file of the tree (parents too), e.g. a sysfs counter."""
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="ascii") as f:
            f.write(text)

    def add_hugepages(self, kb, total, free_by_node):
        """Fake hugepage counters: global ones, and per NUMA node."""
        self.write_file(f"sys/kernel/mm/hugepages/hugepages-{kb}kB/nr_hugepages",
                        f"{total}\n")
        self.write_file(f"sys/kernel/mm/hugepages/hugepages-{kb}kB/free_hugepages",
                        f"{sum(free_by_node.values())}\n")
        for node, free in free_by_node.items():
            self.write_file(f"sys/devices/system/node/node{node}/hugepages/"
                            f"hugepages-{kb}kB/free_hugepages", f"{free}\n")

    def path(self, rel):
        return os.path.join(self.root, rel)

    def read(self, rel):
        with open(self.path(rel), encoding="ascii") as f:
            return f.read()

    def device_file(self, bdf, name):
        return f"sys/bus/pci/devices/{bdf}/{name}"

    def read_region(self, bdf, region, offset, length):
        with open(self.path(self.device_file(bdf, "mock-regions")), "rb") as f:
            f.seek((region << REGION_SHIFT) + offset)
            return f.read(length)

    def write_region(self, bdf, region, offset, data):
        with open(self.path(self.device_file(bdf, "mock-regions")), "r+b") as f:
            f.seek((region << REGION_SHIFT) + offset)
            f.write(data)

    def snapshot(self):
        """Everything in the tree: types, modes, link targets, contents."""
        state = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                st = os.lstat(path)
                if os.path.islink(path):
                    state[path] = ("link", os.readlink(path))
                elif os.path.isdir(path):
                    state[path] = ("dir", st.st_mode)
                else:
                    state[path] = ("file", st.st_mode, sparse_content(path))
        return state

    def assert_ok(self, result):
        self.assertEqual(result.returncode, 0,
                         f"stdout: {result.stdout}\nstderr: {result.stderr}")

    def assert_failed(self, result, stderr_pattern):
        self.assertEqual(result.returncode, 1,
                         f"stdout: {result.stdout}\nstderr: {result.stderr}")
        self.assertRegex(result.stderr, stderr_pattern)

    def assert_usage_error(self, args, message, env=None):
        """Exit 2, one stderr line naming the problem, tree unchanged."""
        before = self.snapshot()
        result = self.fpgactl(*args, env=env)
        self.assertEqual(result.returncode, 2, f"{args}: {result.stderr}")
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, f"{args}: {result.stderr!r}")
        self.assertTrue(lines[0].startswith("fpgactl: "), lines[0])
        self.assertIn(message, lines[0], f"{args}")
        self.assertEqual(result.stdout, "", f"{args}")
        self.assertEqual(self.snapshot(), before, f"{args} changed the tree")


class GeneralTest(FakeTreeCase):
    COMMANDS = ["list", "bind", "unbind", "info", "peek", "poke", "dump",
                "reset", "doctor", "dma-plan", "dma-test", "grant", "sriov", "selftest", "load", "save",
                "irq-wait", "reprogram", "remove", "rescan", "bench", "help"]

    def setUp(self):
        super().setUp()
        self.make_tree(f"--device={READY_DEVICE}")

    def test_version(self):
        result = self.fpgactl("--version")
        self.assert_ok(result)
        self.assertRegex(result.stdout,
                         r"^fpgactl \d+\.\d+\.\d+ \(libfpgactl \d+\.\d+\.\d+\)\n$")

    def test_help_lists_every_command(self):
        for flag in ("--help", "-h"):
            result = self.fpgactl(flag)
            self.assert_ok(result)
            self.assertTrue(result.stdout.startswith("usage: fpgactl"))
            for cmd in self.COMMANDS:
                self.assertRegex(result.stdout, rf"\n  {cmd} ")
            self.assertEqual(result.stderr, "")

    def test_every_command_has_help(self):
        for cmd in self.COMMANDS:
            for args in ([cmd, "--help"], [cmd, "-h"], ["help", cmd]):
                result = self.fpgactl(*args)
                self.assert_ok(result)
                self.assertTrue(result.stdout.startswith(f"usage: fpgactl [-v] {cmd}"),
                                result.stdout)
                self.assertIn("Options:", result.stdout)
                self.assertEqual(result.stderr, "")

    def test_help_wins_over_missing_arguments(self):
        result = self.fpgactl("poke", "--help")
        self.assert_ok(result)
        self.assertIn("OFFSET VALUE", result.stdout)

    def test_bad_command_lines(self):
        cases = [
            ([], "no command given"),
            (["frobnicate"], "unknown command 'frobnicate'"),
            (["-q", "list"], "unknown option '-q'"),
            (["--bogus", "list"], "unknown option '--bogus'"),
            (["-d"], "option '-d' needs an argument"),
            (["list", "--bogus"], "list: unknown option '--bogus'"),
            (["info", "--width", "8"], "info: unknown option '--width'"),
            (["list", "-w", "8"], "list: unknown option '-w'"),
            (["-d", "garbage", "list"], "list: takes no device (-d garbage)"),
            (["-d", READY, "help"], f"help: takes no device (-d {READY})"),
            (["peek", "-d", READY, "-w"], "peek: option '-w' needs an argument"),
            (["peek", "-d", READY], "peek: missing arguments"),
            (["peek", "-d", READY, "0", "1", "2"], "peek: unexpected argument '2'"),
            (["reset", "-d", READY, "now"], "reset: unexpected argument 'now'"),
            (["help", "frobnicate"], "help: unknown command 'frobnicate'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(args, message)

    def test_device_is_required(self):
        for args in (["info"], ["peek", "0"], ["poke", "0", "1"],
                     ["dump", "0", "16"], ["reset"], ["bind"], ["unbind"],
                     ["dma-plan"], ["dma-test"], ["bench", "map"], ["selftest"],
                     ["load", "file"], ["save", "file", "--size", "1"], ["irq-wait"]):
            with self.subTest(args=args):
                self.assert_usage_error(args, "no device given")

    def test_malformed_pci_address(self):
        for bdf in ("03:00", "0000:03:00.8", "zz:00.0", "0000:03:00.0x",
                    "0000:03:20.0", "1:2:3:4.0", ""):
            for args in (["-d", bdf, "info"], ["info", "-d", bdf],
                         ["-d", bdf, "peek", "0"], ["-d", bdf, "doctor"],
                         ["bind", bdf], ["unbind", bdf]):
                with self.subTest(args=args):
                    self.assert_usage_error(args, f"'{bdf}' is not a PCI address")

    def test_library_messages_go_to_stderr(self):
        quiet = self.fpgactl("-d", READY, "info")
        self.assert_ok(quiet)
        self.assertEqual(quiet.stderr, "")
        verbose = self.fpgactl("-v", "-d", READY, "info")
        self.assert_ok(verbose)
        self.assertEqual(verbose.stdout, quiet.stdout)
        lines = verbose.stderr.splitlines()
        self.assertTrue(lines)
        for line in lines:
            self.assertTrue(line.startswith("fpgactl: "), line)
        self.assertIn(READY, verbose.stderr)

    def test_verbose_after_the_command(self):
        result = self.fpgactl("info", "-d", READY, "-v")
        self.assert_ok(result)
        self.assertTrue(result.stderr)


class ListTest(FakeTreeCase):
    def setUp(self):
        super().setUp()
        self.make_tree(
            f"--device={READY_DEVICE}",
            "--device=0000:04:00.0,group=6,driver=xdma,numa=1",
            "--device=0000:05:00.0,vendor=8086,device=1533,class=020000",
            "--device=0000:06:00.0,group=7,driver=vfio-pci",
            "--device=0000:06:00.1,group=7,driver=xdma",
        )

    EXPECTED = {
        "0000:03:00.0": ("10ee", "9038", "120000", "vfio-pci", 5, 0, "ready"),
        "0000:04:00.0": ("10ee", "9038", "120000", "xdma", 6, 1, "not-bound"),
        "0000:05:00.0": ("8086", "1533", "020000", None, None, None, "no-iommu"),
        "0000:06:00.0": ("10ee", "9038", "120000", "vfio-pci", 7, None,
                         "group-not-viable"),
        "0000:06:00.1": ("10ee", "9038", "120000", "xdma", 7, None, "not-bound"),
    }

    def table_rows(self, stdout):
        lines = stdout.splitlines()
        self.assertEqual(lines[0].split(),
                         ["BDF", "ID", "CLASS", "DRIVER", "GROUP", "NUMA", "VFIO"])
        return lines

    def hold(self, rel):
        """A process that holds node @rel of the tree open until killed."""
        proc = subprocess.Popen(
            ["python3", "-c", "import sys, time\nf = open(sys.argv[1], 'rb')\n"
             "print('open', flush=True)\ntime.sleep(600)", self.path(rel)],
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        self.assertEqual(proc.stdout.readline(), "open\n")
        return proc

    def test_busy(self):
        # Issue 12, item 24: a device whose group another process holds is
        # "busy", naming the process, not "ready" (an open would fail EBUSY).
        holder = self.hold("dev/vfio/5")
        result = self.fpgactl("list")
        self.assert_ok(result)
        row = [line for line in result.stdout.splitlines() if line.startswith(READY)]
        self.assertEqual(len(row), 1, result.stdout)
        self.assertTrue(row[0].endswith(f" busy: in use by pid {holder.pid} (python3): it "
                                        "holds the VFIO group or cdev open"), row[0])
        result = self.fpgactl("list", "10ee:9038", "--json")
        self.assert_ok(result)
        dev = [d for d in json.loads(result.stdout) if d["bdf"] == READY][0]
        self.assertEqual(dev["vfio_state"], "busy")
        self.assertIn(f"pid {holder.pid} (python3)", dev["vfio_reason"])
        holder.kill()
        holder.wait()
        result = self.fpgactl("list", "--json")
        dev = [d for d in json.loads(result.stdout) if d["bdf"] == READY][0]
        self.assertEqual(dev["vfio_state"], "ready")

    def test_table(self):
        result = self.fpgactl("list")
        self.assert_ok(result)
        lines = self.table_rows(result.stdout)
        self.assertEqual([line.split()[0] for line in lines[1:]], sorted(self.EXPECTED))
        for line in lines[1:]:
            fields = line.split()
            vendor, device, klass, driver, group, numa, state = self.EXPECTED[fields[0]]
            self.assertEqual(fields[1:6], [f"{vendor}:{device}", klass, dash(driver),
                                           dash(group), dash(numa)])
            self.assertEqual(fields[6], state if state == "ready" else state + ":")
        # Every column starts where its header does.
        for line in lines[1:]:
            self.assertEqual(column_starts(line, 7), column_starts(lines[0], 7),
                             result.stdout)

    def test_table_gives_reasons(self):
        lines = self.fpgactl("list").stdout.splitlines()
        by_bdf = {line.split()[0]: line for line in lines[1:]}
        self.assertTrue(by_bdf[READY].endswith("ready"))
        self.assertIn("xdma", by_bdf["0000:04:00.0"].split("not-bound:")[1])
        self.assertIn("0000:06:00.1", by_bdf["0000:06:00.0"].split("group-not-viable:")[1])
        self.assertIn("IOMMU", by_bdf["0000:05:00.0"].split("no-iommu:")[1])

    def test_groupless_unbound_device_with_an_iommu(self):
        # arm64 (SMMUv3, device tree or IORT): a device joins its IOMMU group
        # only when a driver probes it, so an unbound one has no group while
        # the IOMMU is on.  Bindable, not "the IOMMU is off" (seen in the
        # arm64 guest: 20-list-bind).
        os.makedirs(self.path("sys/class/iommu/smmu3.0x0000000009050000"))
        by_bdf = {line.split()[0]: line
                  for line in self.fpgactl("list").stdout.splitlines()[1:]}
        reason = by_bdf["0000:05:00.0"].split("not-bound:")[1]
        self.assertIn("fpgactl bind 0000:05:00.0", reason)
        # A device bound to another driver has its group there too; only the
        # unbound, groupless one changes.
        self.assertIn("not-bound:", by_bdf["0000:04:00.0"])

    def test_json(self):
        result = self.fpgactl("list", "--json")
        self.assert_ok(result)
        devices = json.loads(result.stdout)
        self.assertEqual([d["bdf"] for d in devices], sorted(self.EXPECTED))
        for d in devices:
            vendor, device, klass, driver, group, numa, state = self.EXPECTED[d["bdf"]]
            self.assertEqual(
                (d["vendor"], d["device"], d["class"], d["driver"], d["iommu_group"],
                 d["numa_node"], d["vfio_state"]),
                (vendor, device, klass, driver, group, numa, state))
            if state == "ready":
                self.assertIsNone(d["vfio_reason"])
            else:
                self.assertTrue(d["vfio_reason"])

    def test_filter(self):
        result = self.fpgactl("list", "8086:1533")
        self.assert_ok(result)
        lines = self.table_rows(result.stdout)
        self.assertEqual([line.split()[0] for line in lines[1:]], ["0000:05:00.0"])
        result = self.fpgactl("list", "10EE:9038", "--json")
        self.assert_ok(result)
        self.assertEqual([d["bdf"] for d in json.loads(result.stdout)],
                         [b for b in sorted(self.EXPECTED) if b != "0000:05:00.0"])

    def test_filter_without_match(self):
        result = self.fpgactl("list", "dead:beef")
        self.assert_ok(result)
        self.assertEqual(len(result.stdout.splitlines()), 1)
        result = self.fpgactl("--verbose", "list", "--json", "dead:beef")
        self.assert_ok(result)
        self.assertEqual(json.loads(result.stdout), [])

    def test_empty_tree(self):
        shutil.rmtree(self.root)
        self.make_tree()
        self.assertEqual(json.loads(self.fpgactl("list", "--json").stdout), [])

    def test_json_escapes_strings(self):
        # A driver name with characters JSON must escape.
        self.make_tree('--device=0000:07:00.0,driver=we"ird\\drv')
        devices = json.loads(self.fpgactl("list", "--json", "10ee:9038").stdout)
        self.assertIn('we"ird\\drv', [d["driver"] for d in devices])

    def test_bad_filter(self):
        for text in ("10ee", "10ee:", ":9038", "10ee:zz", "10ee:9038:1", "-1:2",
                     "1ffff:1", "10ee:9038x", "*:9038"):
            with self.subTest(text=text):
                self.assert_usage_error(["list", "--", text],
                                        f"'{text}' is not VENDOR:DEVICE")

    def test_list_changes_nothing(self):
        before = self.snapshot()
        self.assert_ok(self.fpgactl("list"))
        self.assert_ok(self.fpgactl("list", "--json"))
        self.assertEqual(self.snapshot(), before)


class BindTest(FakeTreeCase):
    HOSTED = "0000:04:00.0"

    def setUp(self):
        super().setUp()
        self.make_tree(f"--device={READY_DEVICE}",
                       f"--device={self.HOSTED},group=6,driver=xdma")

    def test_bind_writes_sysfs(self):
        result = self.fpgactl("bind", "04:00.0")
        # driver_override, unbind from xdma, then a probe.
        self.assertEqual(self.read(self.device_file(self.HOSTED, "driver_override")).strip(),
                         "vfio-pci")
        self.assertEqual(self.read("sys/bus/pci/drivers/xdma/unbind").strip(), self.HOSTED)
        self.assertEqual(self.read("sys/bus/pci/drivers_probe").strip(), self.HOSTED)
        # The fake kernel does not move the driver link, so the library
        # sees that vfio-pci did not take the device.
        self.assert_failed(result, r"bind: 0000:04:00\.0: failed")

    def test_bind_with_device_option(self):
        self.fpgactl("-d", "04:00.0", "bind")
        self.assertEqual(self.read("sys/bus/pci/drivers_probe").strip(), self.HOSTED)

    def test_bind_already_bound(self):
        before = self.snapshot()
        for args in (["bind", READY], ["-d", READY, "bind"], ["-d", READY, "bind", "03:00.0"]):
            result = self.fpgactl(*args)
            self.assert_ok(result)
            self.assertEqual(result.stdout, f"{READY}: already bound to vfio-pci\n")
        self.assertEqual(self.snapshot(), before)

    def test_bind_without_vfio_pci_module(self):
        self.make_tree("--no-vfio-pci")
        before = self.snapshot()
        self.assert_failed(self.fpgactl("bind", self.HOSTED), "modprobe vfio-pci")
        self.assertEqual(self.snapshot(), before)

    def test_bind_missing_device(self):
        before = self.snapshot()
        self.assert_failed(self.fpgactl("bind", "0000:09:00.0"), "0000:09:00.0")
        self.assertEqual(self.snapshot(), before)

    def hold(self, rel):
        """A process that holds node @rel of the tree open until a line
        arrives on its stdin (or it is killed)."""
        proc = subprocess.Popen(
            ["python3", "-c", "import sys\nf = open(sys.argv[1], 'rb')\n"
             "print('open', flush=True)\nsys.stdin.readline()", self.path(rel)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(proc.communicate)
        self.addCleanup(proc.kill)
        self.assertEqual(proc.stdout.readline(), "open\n")
        return proc

    def test_unbind_held_device_times_out(self):
        # Issue 12, item 25: the kernel's unbind would wait for the holder,
        # silently; fpgactl names it and, with --timeout-ms, gives up with
        # nothing changed.
        holder = self.hold("dev/vfio/5")
        before = self.snapshot()
        result = self.fpgactl("unbind", READY, "--timeout-ms", "300")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stderr.splitlines(), [
            f"fpgactl: unbind: {READY} is in use by pid {holder.pid} (python3): waiting up "
            "to 300 ms for it to close the device",
            f"fpgactl: unbind: {READY} is still in use by pid {holder.pid} (python3) after "
            "300 ms: nothing was changed; stop it (or have it close the device) and try "
            "again"])
        self.assertEqual(self.snapshot(), before)

    def test_unbind_waits_for_the_holder(self):
        holder = self.hold("dev/vfio/5")
        unbind = subprocess.Popen([FPGACTL, "unbind", READY, "--timeout-ms", "60000"],
                                  env=self.tool_env(), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        line = unbind.stderr.readline()
        # The holder lets go only once fpgactl has said it is waiting.
        holder.communicate("\n", timeout=30)
        out, err = unbind.communicate(timeout=60)
        self.assertEqual(line, f"fpgactl: unbind: {READY} is in use by pid {holder.pid} "
                               "(python3): waiting up to 60000 ms for it to close the "
                               "device\n", line + err)
        self.assertNotIn("still in use", err)
        # Then the unbind itself.
        self.assertEqual(self.read("sys/bus/pci/drivers/vfio-pci/unbind").strip(), READY)
        # Without --timeout-ms: said, then the kernel's wait.
        holder = self.hold("dev/vfio/5")
        result = self.fpgactl("unbind", READY)
        self.assertTrue(result.stderr.startswith(
            f"fpgactl: unbind: {READY} is in use by pid {holder.pid} (python3): waiting "
            "until it closes the device (the kernel asks it to; --timeout-ms N gives up "
            "instead)\n"), result.stderr)

    def test_unbind_bad_timeout(self):
        for value, message in (("x", "unbind: timeout-ms 'x' is not a number"),
                               ("-1", "unbind: timeout-ms '-1'")):
            with self.subTest(value=value):
                self.assert_usage_error(["unbind", READY, "--timeout-ms", value], message)

    def test_unbind_to_named_driver(self):
        result = self.fpgactl("unbind", "03:00.0", "xdma")
        self.assertEqual(self.read("sys/bus/pci/drivers/vfio-pci/unbind").strip(), READY)
        self.assertEqual(self.read("sys/bus/pci/drivers_probe").strip(), READY)
        # The override named xdma for the probe and was cleared afterwards.
        self.assertEqual(self.read(self.device_file(READY, "driver_override")).strip(), "")
        # The fake kernel does not move the driver link: the library sees
        # that xdma did not take the device.
        self.assert_failed(result, r"unbind: 0000:03:00\.0: failed")

    def test_unbind_to_any_driver(self):
        result = self.fpgactl("-d", READY, "unbind")
        self.assert_ok(result)
        self.assertEqual(result.stdout,
                         f"{READY}: unbound from vfio-pci (probed for any driver)\n")
        self.assertEqual(self.read("sys/bus/pci/drivers/vfio-pci/unbind").strip(), READY)
        self.assertEqual(self.read("sys/bus/pci/drivers_probe").strip(), READY)
        self.assertEqual(self.read(self.device_file(READY, "driver_override")).strip(), "")

    def test_unbind_with_device_option_and_driver(self):
        self.fpgactl("-d", READY, "unbind", "xdma")
        self.assertEqual(self.read("sys/bus/pci/drivers/vfio-pci/unbind").strip(), READY)

    def test_unbind_not_bound_to_vfio(self):
        before = self.snapshot()
        self.assert_failed(self.fpgactl("unbind", self.HOSTED), "not bound to vfio-pci")
        self.assertEqual(self.snapshot(), before)

    def test_bad_bind_arguments(self):
        cases = [
            (["bind", READY, "extra"], "bind: unexpected argument 'extra'"),
            (["-d", READY, "bind", "0000:04:00.0"], "two devices given"),
            (["unbind", READY, "../evil"], "unbind: '../evil' is not a driver name"),
            (["unbind", READY, "x y"], "'x y' is not a driver name"),
            (["unbind", READY, "xdma", "more"], "unbind: unexpected argument 'more'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(args, message)


class InfoTest(FakeTreeCase):
    def test_text(self):
        self.make_tree(f"--device={READY_DEVICE},irq=2:32")
        result = self.fpgactl("-d", "03:00.0", "info")
        self.assert_ok(result)
        out = result.stdout
        self.assertIn(f"device:   {READY} (10ee:9038, class 120000)", out)
        self.assertIn("iommu:    group 5, legacy backend", out)
        self.assertIn("reset:    device reset yes, hot reset yes", out)
        regions = {line.split()[1]: line.split() for line in out.splitlines()
                   if re.match(r"  \d+ +(BAR|ROM|CONFIG|VGA)", line)}
        self.assertEqual(sorted(regions), ["BAR0", "BAR2", "CONFIG"])
        self.assertEqual(regions["BAR0"], ["0", "BAR0", "0x1000", "4", "KiB",
                                           "r", "w", "mmap", "mapped"])
        self.assertEqual(regions["BAR2"], ["2", "BAR2", "0x100", "256", "bytes", "r", "w"])
        self.assertEqual(regions["CONFIG"][:3], ["7", "CONFIG", "0x1000"])
        irqs = dict(re.findall(r"^  \d+ +(INTx|MSI|MSI-X|ERR|REQ) +(\d+)$", out, re.M))
        self.assertEqual(irqs, {"INTx": "1", "MSI": "1", "MSI-X": "32", "ERR": "1",
                                "REQ": "1"})

    def test_json(self):
        self.make_tree(f"--device={READY_DEVICE},reset=0")
        result = self.fpgactl("info", "--json", "-d", READY)
        self.assert_ok(result)
        info = json.loads(result.stdout)
        self.assertEqual((info["bdf"], info["vendor"], info["device"], info["class"],
                          info["driver"], info["iommu_group"], info["iommu_backend"]),
                         (READY, "10ee", "9038", "120000", "vfio-pci", 5, "legacy"))
        self.assertIs(info["device_reset"], False)
        self.assertIs(info["hot_reset"], True)
        regions = {r["name"]: r for r in info["regions"]}
        self.assertEqual(regions["BAR0"], {"index": 0, "name": "BAR0", "size": BAR0_SIZE,
                                           "flags": ["r", "w", "mmap", "mapped"]})
        self.assertEqual(regions["BAR2"]["flags"], ["r", "w"])
        self.assertNotIn("BAR1", regions)
        self.assertEqual([(i["name"], i["count"]) for i in info["irqs"]],
                         [("INTx", 1), ("MSI", 1), ("MSI-X", 8), ("ERR", 1), ("REQ", 1)])

    def test_sparse_region(self):
        self.make_tree(f"--device={READY},group=5,driver=vfio-pci,"
                       "region=0:0x4000:rwm:0+0x1000:0x2000+0x1000")
        info = json.loads(self.fpgactl("-d", READY, "info", "--json").stdout)
        self.assertIn("sparse", info["regions"][0]["flags"])

    def test_iommufd_backend(self):
        self.make_tree(f"--device={READY_DEVICE},cdev=0", "--iommufd")
        info = json.loads(self.fpgactl("-d", READY, "info", "--json").stdout)
        self.assertEqual(info["iommu_backend"], "iommufd")

    def backend(self, *args, env=None):
        result = self.fpgactl(*args, "-d", READY, "info", "--json", env=env)
        self.assert_ok(result)
        return json.loads(result.stdout)["iommu_backend"]

    def test_iommu_option(self):
        """--iommu and FPGACTL_IOMMU choose the backend; the option wins."""
        self.make_tree(f"--device={READY_DEVICE},cdev=0", "--iommufd")
        self.assertEqual(self.backend(), "iommufd")
        self.assertEqual(self.backend("--iommu", "legacy"), "legacy")
        self.assertEqual(self.backend("--iommu", "iommufd"), "iommufd")
        self.assertEqual(self.backend(env={"FPGACTL_IOMMU": "legacy"}), "legacy")
        self.assertEqual(self.backend("--iommu", "auto",
                                      env={"FPGACTL_IOMMU": "legacy"}), "iommufd")
        self.assertEqual(self.backend("--iommu=legacy",
                                      env={"FPGACTL_IOMMU": "iommufd"}), "legacy")

    def test_iommu_option_forces(self):
        """--iommu iommufd where there is no iommufd: fails, no fallback."""
        self.make_tree(f"--device={READY_DEVICE},cdev=0")
        result = self.fpgactl("--iommu", "iommufd", "-d", READY, "info")
        self.assert_failed(result, "CONFIG_IOMMUFD")

    def test_bad_iommu(self):
        self.make_tree(f"--device={READY_DEVICE},cdev=0", "--iommufd")
        for value in ("vfio", "", "LEGACY", "iommufd "):
            with self.subTest(value=value):
                self.assert_usage_error(
                    ["--iommu", value, "-d", READY, "info"],
                    f"--iommu '{value}': the backends are auto, legacy and iommufd")
        self.assert_usage_error(["--iommu"], "option '--iommu' needs an argument")
        # A bad FPGACTL_IOMMU: the library refuses to open, one message.
        result = self.fpgactl("-d", READY, "info", env={"FPGACTL_IOMMU": "vfio"})
        self.assert_failed(result, r"FPGACTL_IOMMU=vfio is not a backend: set it "
                           r"to auto, legacy or iommufd")
        self.assertEqual(result.stderr.count("FPGACTL_IOMMU=vfio"), 1, result.stderr)

    def test_device_not_usable(self):
        self.make_tree(f"--device={READY_DEVICE}", "--device=0000:04:00.0,group=6,driver=xdma")
        before = self.snapshot()
        result = self.fpgactl("-d", "04:00.0", "info")
        self.assert_failed(result, r"info: cannot open 0000:04:00\.0")
        self.assertIn("xdma", result.stderr)  # the library's explanation
        self.assertEqual(result.stdout, "")
        self.assertEqual(self.snapshot(), before)

    def test_info_changes_nothing(self):
        self.make_tree(f"--device={READY_DEVICE}")
        before = self.snapshot()
        self.assert_ok(self.fpgactl("-d", READY, "info"))
        self.assertEqual(self.snapshot(), before)


class RegisterTest(FakeTreeCase):
    def setUp(self):
        super().setUp()
        self.make_tree(f"--device={READY_DEVICE}")

    def tool(self, *args):
        return self.fpgactl("-d", READY, *args)

    def test_poke_then_peek(self):
        self.assert_ok(self.tool("poke", "0x10", "0xcafef00d"))
        self.assertEqual(self.read_region(READY, 0, 0x10, 4), bytes.fromhex("0df0feca"))
        result = self.tool("peek", "0x10")
        self.assert_ok(result)
        self.assertEqual(result.stdout, "0xcafef00d\n")

    def test_poke_is_silent(self):
        result = self.tool("poke", "16", "1")
        self.assert_ok(result)
        self.assertEqual((result.stdout, result.stderr), ("", ""))

    def test_widths(self):
        cases = [("8", "0x21", "0x5a", "5a"), ("16", "0x22", "0xbeef", "efbe"),
                 ("32", "0x24", "4294967295", "ffffffff"),
                 ("64", "0x28", "0x0123456789abcdef", "efcdab8967452301")]
        for bits, offset, value, stored in cases:
            with self.subTest(bits=bits):
                self.assert_ok(self.tool("poke", "-w", bits, offset, value))
                self.assertEqual(self.read_region(READY, 0, int(offset, 16), len(stored) // 2),
                                 bytes.fromhex(stored))
                result = self.tool("peek", "--width", bits, offset)
                self.assert_ok(result)
                expected = int(value, 0)
                self.assertEqual(result.stdout,
                                 f"0x{expected:0{int(bits) // 4}x}\n")

    def test_peek_count(self):
        self.write_region(READY, 0, 0x40, bytes.fromhex("0100020003000400"))
        result = self.tool("peek", "-w", "16", "0x40", "4")
        self.assert_ok(result)
        self.assertEqual(result.stdout, "0x00000040: 0x0001\n0x00000042: 0x0002\n"
                                        "0x00000044: 0x0003\n0x00000046: 0x0004\n")

    def test_other_bar(self):
        self.assert_ok(self.tool("poke", "-b", "2", "0xfc", "0x12345678"))
        self.assertEqual(self.read_region(READY, 2, 0xfc, 4), bytes.fromhex("78563412"))
        self.assertEqual(self.read_region(READY, 0, 0xfc, 4), bytes(4))
        self.assertEqual(self.tool("peek", "--bar", "2", "0xfc").stdout, "0x12345678\n")

    def test_last_register_of_the_bar(self):
        self.assert_ok(self.tool("poke", "-w", "64", hex(BAR0_SIZE - 8), "7"))
        self.assertEqual(self.tool("peek", "-w", "64", hex(BAR0_SIZE - 8)).stdout,
                         "0x0000000000000007\n")

    def test_dump(self):
        data = b"FPGA" + bytes(range(0x20, 0x2c)) + bytes.fromhex("0df0feca") + b"\x7f\x80"
        self.write_region(READY, 0, 0x100, data)
        result = self.tool("dump", "0x100", "24")
        self.assert_ok(result)
        self.assertEqual(result.stdout,
                         "00000100: 4650 4741 2021 2223 2425 2627 2829 2a2b  FPGA !\"#$%&'()*+\n"
                         "00000110: 0df0 feca 7f80 0000                      ........\n")

    def test_dump_widths_read_the_same_bytes(self):
        self.write_region(READY, 0, 0x200, bytes(range(32)))
        outputs = {bits: self.tool("dump", "-w", bits, "0x200", "32").stdout
                   for bits in ("8", "16", "32", "64")}
        self.assertEqual(len(set(outputs.values())), 1, outputs)
        self.assertTrue(outputs["8"].startswith("00000200: 0001 0203 0405 0607"))

    def test_dump_unaligned_start(self):
        self.write_region(READY, 2, 0x4, b"abcd")
        result = self.tool("dump", "-b", "2", "-w", "32", "4", "4")
        self.assert_ok(result)
        self.assertEqual(result.stdout, "00000004: 6162 6364" + " " * 32 + "abcd\n")

    def test_reads_change_nothing(self):
        self.write_region(READY, 0, 0, b"\x01\x02\x03\x04")
        before = self.snapshot()
        self.assert_ok(self.tool("peek", "0"))
        self.assert_ok(self.tool("dump", "0", "64"))
        self.assertEqual(self.snapshot(), before)

    def test_reset(self):
        result = self.tool("reset")
        self.assert_ok(result)
        self.assertEqual(result.stdout, f"{READY}: reset\n")

    def test_reset_through_the_bus(self):
        shutil.rmtree(self.root)
        self.make_tree(f"--device={READY_DEVICE},reset=0,bus-reset=1")
        result = self.tool("reset")
        self.assert_ok(result)
        self.assertEqual(result.stdout, f"{READY}: reset\n")

    def test_reset_unsupported(self):
        shutil.rmtree(self.root)
        self.make_tree(f"--device={READY_DEVICE},reset=0,bus-reset=0")
        self.assert_failed(self.tool("reset"), "reset: 0000:03:00.0: the device cannot be reset")

    def test_reset_failure(self):
        result = self.fpgactl("-d", READY, "reset",
                              env={"FPGACTL_MOCK_FAIL": "ioctl:VFIO_DEVICE_RESET=EIO"})
        self.assert_failed(result, "reset failed")

    def test_bad_numbers(self):
        cases = [
            (["peek", "0x10zz"], "offset '0x10zz' is not a number"),
            (["peek", "abc"], "offset 'abc' is not a number"),
            (["peek", ""], "offset '' is not a number"),
            (["peek", "0x"], "offset '0x' is not a number"),
            (["peek", " 16"], "offset ' 16' is not a number"),
            (["peek", "+16"], "offset '+16' is not a number"),
            (["peek", "16 "], "offset '16 ' is not a number"),
            (["peek", "--", "-4"], "offset '-4' is negative"),
            (["peek", "-4"], "unknown option '-4'"),
            (["peek", "0x10000000000000000"], "offset '0x10000000000000000' is too large"),
            (["peek", "18446744073709551616"], "is too large"),
            (["peek", "0", "x"], "count 'x' is not a number"),
            (["peek", "0", "0"], "count must be at least 1"),
            (["peek", "-w", "abc", "0"], "width 'abc' is not a number"),
            (["peek", "-w", "12", "0"], "width '12' is not 8, 16, 32 or 64"),
            (["peek", "-w", "4", "0"], "width '4' is not 8, 16, 32 or 64"),
            (["peek", "-w", "0x20x", "0"], "width '0x20x' is not a number"),
            (["peek", "-b", "6", "0"], "BAR '6' is too large (max 5)"),
            (["peek", "-b", "one", "0"], "BAR 'one' is not a number"),
            (["poke", "0", "0x1g"], "value '0x1g' is not a number"),
            (["poke", "0", "--", "-1"], "value '-1' is negative"),
            (["dump", "0", "0"], "length must be at least 1"),
            (["dump", "0", "1k"], "length '1k' is not a number"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(["-d", READY, *args], message)

    def test_value_too_wide(self):
        cases = [("8", "0x100"), ("16", "0x10000"), ("32", "0x100000000"),
                 ("32", "4294967296"), ("64", "0x10000000000000000")]
        for bits, value in cases:
            with self.subTest(bits=bits, value=value):
                message = (f"value '{value}' does not fit in {bits} bits" if bits != "64"
                           else "is too large")
                self.assert_usage_error(["-d", READY, "poke", "-w", bits, "0", value],
                                        message)

    def test_unaligned(self):
        cases = [(["peek", "0x1002"], "peek: offset 0x1002 is not aligned to 4 bytes"),
                 (["peek", "-w", "16", "1"], "offset 0x1 is not aligned to 2 bytes"),
                 (["poke", "-w", "64", "0x14", "1"], "poke: offset 0x14 is not aligned to 8 bytes"),
                 (["dump", "2", "4"], "dump: offset 0x2 is not aligned to 4 bytes"),
                 (["dump", "0", "6"], "dump: length 6 is not a multiple of 4 bytes"),
                 (["dump", "-w", "64", "0", "12"], "length 12 is not a multiple of 8 bytes")]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(["-d", READY, *args], message)

    def test_outside_the_bar(self):
        cases = [
            (["poke", hex(BAR0_SIZE), "1"], "poke: offset 0x1000 is outside BAR0 (size 0x1000)"),
            (["poke", "0x100000000", "1"], "offset 0x100000000 is outside BAR0"),
            (["poke", "-w", "64", "0xfffffffffffffff8", "1"], "is outside BAR0"),
            (["poke", "-b", "2", "0x100", "1"], "offset 0x100 is outside BAR2 (size 0x100)"),
            (["poke", "-b", "1", "0", "1"], "0000:03:00.0 has no BAR1"),
            (["peek", "0xffc", "2"], "access at offset 0xffc runs past the end of BAR0"),
            (["peek", "0", "0x401"], "runs past the end of BAR0"),
            (["peek", "0", "0xffffffffffffffff"], "runs past the end of BAR0"),
            (["dump", "0xff0", "0x20"], "access at offset 0xff0 runs past the end of BAR0"),
            (["dump", "-b", "5", "0", "4"], "has no BAR5"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(["-d", READY, *args], message)


class DoctorTest(FakeTreeCase):
    def verdicts(self, stdout):
        """{topic: (verdict, rest of the line)}"""
        result = {}
        for line in stdout.splitlines():
            verdict, topic, rest = line.split(None, 2)
            self.assertIn(verdict, ("ok", "info", "warn", "FAIL"), line)
            result[topic] = (verdict, rest)
        return result

    def doctor(self, *args, env=None, preexec=None):
        before = self.snapshot()
        result = self.fpgactl(*args, "doctor", env=env, preexec=preexec)
        self.assertEqual(self.snapshot(), before)
        return result, self.verdicts(result.stdout)

    def test_all_good(self):
        self.make_tree(f"--device={READY_DEVICE}")
        result, checks = self.doctor()
        self.assert_ok(result)
        self.assertEqual(checks["iommu"], ("ok", "enabled (IOMMU groups: 1)"))
        self.assertEqual(checks["vfio-pci"][0], "ok")
        self.assertEqual(checks["/dev/vfio"][0], "ok")
        self.assertEqual(checks["iommufd"][0], "info")
        self.assertIn("no /dev/iommu", checks["iommufd"][1])
        self.assertIn("RLIMIT_MEMLOCK", checks["memlock"][1])
        self.assertNotIn(READY, checks)

    def test_iommu_off(self):
        self.make_tree(f"--device={READY},driver=xdma")
        result, checks = self.doctor()
        self.assertEqual(result.returncode, 1)
        verdict, text = checks["iommu"]
        self.assertEqual(verdict, "FAIL")
        self.assertIn("intel_iommu=on", text)
        self.assertIn("amd_iommu=on", text)
        self.assertIn("iommu=pt", text)

    def test_vfio_pci_not_loaded(self):
        self.make_tree(f"--device={READY},group=5", "--no-vfio-pci")
        result, checks = self.doctor()
        self.assertEqual(result.returncode, 1)
        self.assertEqual(checks["vfio-pci"],
                         ("FAIL", "module not loaded; fix: modprobe vfio-pci"))
        self.assertEqual(checks["/dev/vfio"][0], "FAIL")

    def test_container_not_accessible(self):
        self.make_tree(f"--device={READY_DEVICE}")
        result, checks = self.doctor(env={"FPGACTL_MOCK_FAIL": "open:/dev/vfio/vfio=EACCES"})
        self.assertEqual(result.returncode, 1)
        verdict, text = checks["/dev/vfio"]
        self.assertEqual(verdict, "FAIL")
        self.assertIn("Permission denied", text)
        self.assertIn("fix:", text)

    def test_iommufd_present(self):
        self.make_tree(f"--device={READY_DEVICE}", "--iommufd")
        result, checks = self.doctor()
        self.assert_ok(result)
        self.assertEqual(checks["iommufd"][0], "info")
        self.assertIn("/dev/iommu present", checks["iommufd"][1])

    def test_ready_device(self):
        self.make_tree(f"--device={READY_DEVICE}")
        result, checks = self.doctor("-d", "03:00.0")
        self.assert_ok(result)
        self.assertEqual(checks[READY], ("ok", "ready for VFIO"))

    def test_device_not_bound(self):
        self.make_tree(f"--device={READY_DEVICE}", "--device=0000:04:00.0,group=6,driver=xdma")
        result, checks = self.doctor("-d", "0000:04:00.0")
        self.assertEqual(result.returncode, 1)
        verdict, text = checks["0000:04:00.0"]
        self.assertEqual(verdict, "FAIL")
        self.assertTrue(text.startswith("not-bound: "), text)
        self.assertIn("fpgactl bind", text)

    def test_group_not_viable(self):
        self.make_tree(f"--device={READY},group=5,driver=vfio-pci",
                       "--device=0000:03:00.1,group=5,driver=xdma")
        result, checks = self.doctor("-d", READY)
        self.assertEqual(result.returncode, 1)
        self.assertTrue(checks[READY][1].startswith("group-not-viable: "))

    def test_missing_device(self):
        self.make_tree(f"--device={READY_DEVICE}")
        result, checks = self.doctor("-d", "0000:0a:00.0")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(checks["0000:0a:00.0"][0], "FAIL")
        self.assertIn("no such PCI device", checks["0000:0a:00.0"][1])

    def mounts_file(self, *lines):
        """A /proc/mounts stand-in for FPGACTL_PROC_MOUNTS, outside the tree."""
        path = os.path.join(self.tmp, "mounts")
        with open(path, "w", encoding="ascii") as f:
            f.write("proc /proc proc rw,nosuid 0 0\n")
            f.write("".join(line + "\n" for line in lines))
        return {"FPGACTL_PROC_MOUNTS": path}

    def test_hugepages_per_size_and_node(self):
        self.make_tree(f"--device={READY_DEVICE}")
        self.add_hugepages(2048, 512, {0: 300, 1: 12})
        self.add_hugepages(1048576, 0, {0: 0, 1: 0})
        result, checks = self.doctor(env=self.mounts_file())
        self.assert_ok(result)
        self.assertEqual(checks["hugepages-2M"],
                         ("ok", "2 MiB pages: 312 free of 512 (node0: 300, node1: 12)"))
        verdict, text = checks["hugepages-1G"]
        self.assertEqual(verdict, "info")
        self.assertTrue(text.startswith("1 GiB pages: 0 free of 0 (node0: 0, node1: 0): "
                                        "none reserved"), text)
        self.assertIn("hugepagesz=1G", text)

    def test_no_free_hugepages_is_a_warning(self):
        self.make_tree(f"--device={READY_DEVICE}")
        self.add_hugepages(2048, 0, {0: 0})
        result, checks = self.doctor(env=self.mounts_file())
        self.assert_ok(result)  # 4 KiB pages still work: not a failure
        verdict, text = checks["hugepages-2M"]
        self.assertEqual(verdict, "warn")
        self.assertIn("--small-pages", text)
        self.assertIn(f"; fix: echo 512 > {self.path('sys')}/kernel/mm/hugepages/"
                      "hugepages-2048kB/nr_hugepages", text)

    def test_no_hugepages_on_the_device_node(self):
        self.make_tree(f"--device={READY_DEVICE},numa=1")
        self.add_hugepages(2048, 512, {0: 512, 1: 0})
        result, checks = self.doctor("-d", READY, env=self.mounts_file())
        self.assert_ok(result)
        verdict, text = checks["hugepages-2M"]
        self.assertEqual(verdict, "warn")
        self.assertIn("none free on node 1, the device's node", text)
        self.assertIn(f"fix: echo 512 > {self.path('sys')}/devices/system/node/node1/"
                      "hugepages/hugepages-2048kB/nr_hugepages", text)
        # Without -d no node is preferred: the free pages on node 0 do.
        result, checks = self.doctor(env=self.mounts_file())
        self.assertEqual(checks["hugepages-2M"][0], "ok")

    def test_kernel_without_hugepages(self):
        self.make_tree(f"--device={READY_DEVICE}")
        result, checks = self.doctor(env=self.mounts_file())
        self.assert_ok(result)
        verdict, text = checks["hugepages"]
        self.assertEqual(verdict, "warn")
        self.assertIn("the kernel offers no hugepages", text)
        self.assertIn("CONFIG_HUGETLBFS", text)

    def test_hugetlbfs_mounts(self):
        self.make_tree(f"--device={READY_DEVICE}")
        mount = os.path.join(self.tmp, "huge 2M")
        os.mkdir(mount)
        escaped = mount.replace(" ", "\\040")
        env = self.mounts_file(f"hugetlbfs {escaped} hugetlbfs rw,relatime,pagesize=2M 0 0",
                               "none /nonexistent/huge1G hugetlbfs rw,pagesize=1024M 0 0")
        result, checks = self.doctor(env=env)
        self.assert_ok(result)
        self.assertEqual(checks["hugetlbfs"],
                         ("ok", f"{mount} (pagesize=2M), /nonexistent/huge1G "
                                "(pagesize=1024M, missing)"))
        os.chmod(mount, 0o555)
        result, checks = self.doctor(env=self.mounts_file(
            f"hugetlbfs {escaped} hugetlbfs rw 0 0"))
        self.assert_ok(result)
        if os.geteuid() == 0:   # root writes anyway
            self.assertEqual(checks["hugetlbfs"], ("ok", f"{mount} (default page size)"))
        else:
            self.assertEqual(checks["hugetlbfs"],
                             ("info", f"{mount} (default page size, not writable by you): "
                                      "memfd_create(MFD_HUGETLB) is used instead"))

    def test_no_hugetlbfs_mount(self):
        self.make_tree(f"--device={READY_DEVICE}")
        result, checks = self.doctor(env=self.mounts_file("tmpfs /tmp tmpfs rw 0 0"))
        self.assert_ok(result)
        self.assertEqual(checks["hugetlbfs"][0], "info")
        self.assertIn("memfd_create(MFD_HUGETLB)", checks["hugetlbfs"][1])
        result, checks = self.doctor(
            env={"FPGACTL_PROC_MOUNTS": os.path.join(self.tmp, "missing")})
        self.assert_ok(result)
        self.assertEqual(checks["hugetlbfs"][0], "warn")
        self.assertIn("No such file or directory", checks["hugetlbfs"][1])

    def test_dma_plan_of_the_device(self):
        self.make_tree(f"--device={READY_DEVICE}")
        self.add_hugepages(2048, 512, {0: 512})
        result, checks = self.doctor("-d", READY, env=self.mounts_file())
        self.assert_ok(result)
        verdict, text = checks["dma"]
        self.assertEqual(verdict, "ok")
        self.assertRegex(text, r"^2 MiB pages on node 0 from (memfd|hugetlbfs:\S+); "
                               r"IOVA 0x100000\.\.0xffffffffffff; "
                               rf"IOMMU mappings left: {MOCK_DMA_ENTRY_LIMIT}$")
        self.assertEqual(checks["cdev"][0], "info")
        self.assertIn("legacy container", checks["cdev"][1])
        self.assertIn("RLIMIT_MEMLOCK", checks["memlock"][1])

    def test_dma_plan_without_hugepages(self):
        self.make_tree(f"--device={READY_DEVICE}")
        result, checks = self.doctor("-d", READY, env=self.mounts_file())
        self.assert_ok(result)
        verdict, text = checks["dma"]
        self.assertEqual(verdict, "warn")
        self.assertTrue(text.startswith("no hugepages to back buffers: "), text)

    def test_cdev_with_iommufd(self):
        self.make_tree(f"--device={READY_DEVICE},cdev=3", "--iommufd")
        result, checks = self.doctor("-d", READY, env=self.mounts_file())
        self.assert_ok(result)
        self.assertEqual(checks["cdev"],
                         ("ok", f"{READY}: {self.path('dev')}/vfio/devices/vfio3, "
                                "the iommufd backend is used"))
        self.assertIn("IOMMU mappings left: unlimited", checks["dma"][1])

    def test_cdev_without_iommufd(self):
        self.make_tree(f"--device={READY_DEVICE},cdev=0")
        result, checks = self.doctor("-d", READY, env=self.mounts_file())
        self.assert_ok(result)
        verdict, text = checks["cdev"]
        self.assertEqual(verdict, "info")
        self.assertIn("vfio-dev/vfio0", text)
        self.assertIn("legacy container", text)

    def test_backend_forced_legacy(self):
        """FPGACTL_IOMMU=legacy (or --iommu legacy): doctor says the legacy
        container is used, not iommufd."""
        self.make_tree(f"--device={READY_DEVICE},cdev=3", "--iommufd")
        for args, env in ((["--iommu", "legacy"], {}), ([], {"FPGACTL_IOMMU": "legacy"})):
            with self.subTest(args=args, env=env):
                result, checks = self.doctor(*args, "-d", READY,
                                             env={**self.mounts_file(), **env})
                self.assert_ok(result)
                self.assertEqual(checks["iommufd"], (
                    "info", "FPGACTL_IOMMU=legacy: the legacy VFIO container is used"))
                self.assertEqual(checks["cdev"], (
                    "info", f"{READY} has vfio-dev/vfio3, but FPGACTL_IOMMU=legacy: "
                    "the legacy container is used"))
                self.assertIn(f"IOMMU mappings left: {MOCK_DMA_ENTRY_LIMIT}", checks["dma"][1])

    def test_backend_forced_iommufd_missing(self):
        self.make_tree(f"--device={READY_DEVICE},cdev=3")
        result, checks = self.doctor("--iommu", "iommufd", env=self.mounts_file())
        self.assertEqual(result.returncode, 1, result.stdout)
        verdict, text = checks["iommufd"]
        self.assertEqual(verdict, "FAIL")
        self.assertIn("FPGACTL_IOMMU=iommufd, but there is no /dev/iommu", text)

    def test_iommufd_not_accessible(self):
        self.make_tree(f"--device={READY_DEVICE}", "--iommufd")
        result, checks = self.doctor(env={"FPGACTL_MOCK_FAIL": "open:/dev/iommu=EACCES"})
        self.assert_ok(result)
        verdict, text = checks["iommufd"]
        self.assertEqual(verdict, "info")
        self.assertIn("not accessible (Permission denied)", text)
        self.assertIn("fix:", text)

    def test_low_memlock_is_a_warning(self):
        self.make_tree(f"--device={READY_DEVICE}")
        for args in ((), ("-d", READY)):
            with self.subTest(args=args):
                result, checks = self.doctor(*args, preexec=memlock_limited(8 << 20))
                self.assert_ok(result)
                verdict, text = checks["memlock"]
                self.assertEqual(verdict, "warn")
                self.assertIn("RLIMIT_MEMLOCK is 8 MiB", text)
                self.assertIn("fix: ulimit -l unlimited", text)

    def test_device_cannot_be_opened(self):
        self.make_tree(f"--device={READY_DEVICE}")
        result, checks = self.doctor(
            "-d", READY, env={"FPGACTL_MOCK_FAIL": "ioctl:VFIO_GROUP_GET_STATUS=EIO"})
        self.assertEqual(result.returncode, 1)
        self.assertEqual(checks[READY][0], "ok")  # sysfs says ready ...
        verdict, text = checks["open"]           # ... but VFIO refuses
        self.assertEqual(verdict, "FAIL")
        self.assertIn(f"{READY} cannot be opened through VFIO: Input/output error", text)
        self.assertNotIn("dma", checks)


def plan_fields(stdout):
    """{key: value} of the text output of dma-plan."""
    fields = {}
    for line in stdout.splitlines():
        key, value = line.split(":", 1)
        fields[key] = value.strip()
    return fields


class DmaPlanTest(FakeTreeCase):
    def setUp(self):
        super().setUp()
        self.make_tree(f"--device={READY_DEVICE}")

    def plan(self, *args, **kwargs):
        result = self.fpgactl("-d", READY, "dma-plan", *args, **kwargs)
        self.assert_ok(result)
        return result

    def test_text(self):
        result = self.plan()
        fields = plan_fields(result.stdout)
        self.assertEqual(list(fields), ["device", "page size", "numa node", "backing",
                                        "dma mask", "iova range", "iova free",
                                        "iommu mappings", "memlock", "hugepages free"])
        self.assertEqual(fields["device"], READY)
        self.assertEqual(fields["page size"], "2 MiB")
        self.assertEqual(fields["numa node"], "0")
        self.assertEqual(fields["dma mask"], "64 bits")
        # The lowest usable IOVA above the library's reserve, the top of the
        # mock's aperture; the MSI window in between is not free.
        self.assertEqual(fields["iova range"], f"{IOVA_LOW_RESERVE:#x}..0xffffffffffff")
        free = mock_iova_free((1 << 64) - 1)
        self.assertEqual(fields["iova free"], f"{free} bytes (256.0 TiB)")
        self.assertEqual(fields["iommu mappings"], f"{MOCK_DMA_ENTRY_LIMIT} more allowed")
        self.assertRegex(fields["memlock"], r"^(unlimited|\d+ \w+) \(0 bytes used by this process\)$")
        # No hugepage counters in the fake sysfs.
        self.assertEqual(fields["backing"], "none")
        self.assertTrue(fields["hugepages free"].startswith("unknown"))
        self.assertEqual(result.stderr, "")

    def test_dma_bits_caps_the_range(self):
        fields = plan_fields(self.plan("--dma-bits", "28").stdout)
        self.assertEqual(fields["dma mask"], "28 bits")
        self.assertEqual(fields["iova range"], "0x100000..0xfffffff")
        self.assertEqual(fields["iova free"],
                         f"{mock_iova_free(0xfffffff)} bytes (255.0 MiB)")
        fields = plan_fields(self.plan("--dma-bits", "32").stdout)
        self.assertEqual(fields["iova range"], "0x100000..0xffffffff")
        self.assertEqual(fields["iova free"].split()[0], str(mock_iova_free(0xffffffff)))

    def test_json(self):
        plan = json.loads(self.plan("--dma-bits", "28", "--json").stdout)
        self.assertEqual(plan, {
            "bdf": READY, "page_size": 2 << 20, "node": 0, "backing": "none",
            "dma_bits": 28, "iova_first": IOVA_LOW_RESERVE, "iova_last": 0xfffffff,
            "iova_free": mock_iova_free(0xfffffff),
            "mappings_avail": MOCK_DMA_ENTRY_LIMIT,
            "memlock_limit": plan["memlock_limit"], "memlock_used": 0,
            "hugepages_free": None})
        self.assertTrue(plan["memlock_limit"] is None or plan["memlock_limit"] > 0)
        plan = json.loads(self.plan("--json").stdout)
        self.assertEqual((plan["iova_first"], plan["iova_last"], plan["iova_free"]),
                         (IOVA_LOW_RESERVE, (1 << 48) - 1, mock_iova_free((1 << 64) - 1)))

    def test_hugepages_on_the_device_node(self):
        self.add_hugepages(2048, 512, {0: 42, 1: 100})
        self.add_hugepages(1048576, 2, {0: 0, 1: 1})
        fields = plan_fields(self.plan().stdout)
        self.assertEqual(fields["hugepages free"], "42")
        # libhugetlbfs looks for a mount in the real /proc/mounts.
        self.assertTrue(fields["backing"] == "memfd" or fields["backing"].startswith("hugetlbfs:"),
                        fields["backing"])
        plan = json.loads(self.plan("--node", "1", "--page-size", "1G", "--json").stdout)
        self.assertEqual((plan["node"], plan["page_size"], plan["hugepages_free"]),
                         (1, 1 << 30, 1))

    def test_small_pages(self):
        fields = plan_fields(self.plan("--page-size", "4k").stdout)
        self.assertEqual(fields["page size"], "4 KiB")
        self.assertEqual(fields["backing"], "anonymous")
        self.assertEqual(fields["hugepages free"], "n/a (4 KiB pages)")
        self.assertIsNone(json.loads(self.plan("--page-size", "4K", "--json").stdout)
                          ["hugepages_free"])

    def test_device_without_numa_node(self):
        shutil.rmtree(self.root)
        self.make_tree(f"--device={READY_DEVICE},numa=-1")
        self.assertEqual(plan_fields(self.plan().stdout)["numa node"], "any")
        self.assertIsNone(json.loads(self.plan("--json").stdout)["node"])

    def test_iommufd(self):
        shutil.rmtree(self.root)
        self.make_tree(f"--device={READY_DEVICE},cdev=0", "--iommufd")
        fields = plan_fields(self.plan().stdout)
        self.assertEqual(fields["iommu mappings"], "unlimited")
        self.assertEqual(fields["iova range"], f"{IOVA_LOW_RESERVE:#x}..0xffffffffffff")
        self.assertIsNone(json.loads(self.plan("--json").stdout)["mappings_avail"])

    def test_memlock_limit(self):
        limit = memlock_limited(8 << 20)
        fields = plan_fields(self.plan(preexec=limit).stdout)
        self.assertEqual(fields["memlock"], "8 MiB (0 bytes used by this process)")
        plan = json.loads(self.plan("--json", preexec=limit).stdout)
        self.assertEqual(plan["memlock_limit"], 8 << 20)

    def test_changes_nothing(self):
        before = self.snapshot()
        self.plan()
        self.plan("--json", "--page-size", "1g", "--dma-bits", "40")
        self.assertEqual(self.snapshot(), before)

    def test_device_not_usable(self):
        self.make_tree("--device=0000:04:00.0,group=6,driver=xdma")
        result = self.fpgactl("-d", "04:00.0", "dma-plan")
        self.assert_failed(result, r"dma-plan: cannot open 0000:04:00\.0")
        self.assertEqual(result.stdout, "")

    def test_bad_input(self):
        cases = [
            (["--dma-bits", "8"], "dma-plan: dma-bits '8' is too small (min 12)"),
            (["--dma-bits", "65"], "dma-bits '65' is too large (max 64)"),
            (["--dma-bits", "0x1g"], "dma-bits '0x1g' is not a number"),
            (["--dma-bits", "-1"], "dma-bits '-1' is negative"),
            (["--page-size", "3m"], "page size '3m' is not 4k, 2m or 1g"),
            (["--page-size", "2097152"], "page size '2097152' is not 4k, 2m or 1g"),
            (["--node", "one"], "node 'one' is not a number"),
            (["--node", "-1"], "node '-1' is negative"),
            (["--node", "4096"], "node '4096' is too large"),
            (["--size", "4096"], "dma-plan: unknown option '--size'"),
            (["--negative"], "dma-plan: unknown option '--negative'"),
            (["extra"], "dma-plan: unexpected argument 'extra'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(["-d", READY, "dma-plan", *args], message)


class DmaTestTest(FakeTreeCase):
    """Only the refusals: the transfers need a real edu device (tests/vm)."""

    def setUp(self):
        super().setUp()
        self.make_tree(f"--device={READY_DEVICE}", f"--device={EDU_DEVICE}")

    def test_only_the_edu_device(self):
        self.assert_usage_error(
            ["-d", READY, "dma-test"],
            "dma-test: dma-test drives QEMU's edu device (1234:11e8); "
            f"{READY} is 10ee:9038")

    def test_transfer_size(self):
        for size in ("4096", "0x1000", "1000000"):
            with self.subTest(size=size):
                self.assert_usage_error(
                    ["-d", EDU, "dma-test", "--size", size],
                    "(max 4095): the edu buffer is 4096 bytes and QEMU 7.2 aborts")
        self.assert_usage_error(["-d", EDU, "dma-test", "--size", "0"],
                                "size must be at least 1")

    def test_bad_numbers(self):
        cases = [
            (["--size", "4k"], "size '4k' is not a number"),
            (["--size", "-1"], "size '-1' is negative"),
            (["--size", "0x"], "size '0x' is not a number"),
            (["--rounds", "0"], "rounds must be at least 1"),
            (["--rounds", "1.5"], "rounds '1.5' is not a number"),
            (["--rounds", "1001"], "rounds '1001' is too large (max 1000)"),
            (["--node", "x"], "node 'x' is not a number"),
            (["--page-size", "64k"], "page size '64k' is not 4k, 2m or 1g"),
            (["--dma-bits", "28"], "dma-test: unknown option '--dma-bits'"),
            (["--json"], "dma-test: unknown option '--json'"),
            (["now"], "dma-test: unexpected argument 'now'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(["-d", EDU, "dma-test", *args], message)

    def test_missing_device(self):
        before = self.snapshot()
        result = self.fpgactl("-d", "0000:0a:00.0", "dma-test")
        self.assert_failed(result, "dma-test: 0000:0a:00.0: no such PCI device")
        self.assertEqual(self.snapshot(), before)


class BenchTest(FakeTreeCase):
    def setUp(self):
        super().setUp()
        self.make_tree(f"--device={READY_DEVICE}")

    def test_help(self):
        for args in (["bench", "map", "--help"], ["bench", "--help"], ["help", "bench"]):
            with self.subTest(args=args):
                result = self.fpgactl(*args)
                self.assert_ok(result)
                self.assertTrue(result.stdout.startswith(
                    "usage: fpgactl [-v] bench [-d DEVICE] [--size BYTES] [--rounds N] "
                    "[--depth N] [--batch N] [--count N] [--file PATH] [--engine NAME] "
                    "map|queue|wakeup|stream\n"), result.stdout)
                self.assertIn("baseline", result.stdout)
                self.assertIn("'model:OPTIONS'", result.stdout)
                self.assertEqual(result.stderr, "")

    def test_bad_input(self):
        cases = [
            (["bench"],
             "bench: missing arguments (usage: fpgactl bench map|queue|wakeup|stream)"),
            (["bench", "unmap"],
             "bench: unknown benchmark 'unmap' (available: map, queue, wakeup, stream)"),
            (["bench", "map", "map"], "bench: unexpected argument 'map'"),
            (["bench", "map", "--size", "1000"],
             "size 1000 is not a multiple of 2 MiB (both runs must map the same bytes)"),
            (["bench", "map", "--size", "0"], "size must be at least 1"),
            (["bench", "map", "--size", "1G"], "size '1G' is not a number"),
            (["bench", "map", "--size", "0x20000000000"], "size '0x20000000000' is too large"),
            (["bench", "map", "--rounds", "0"], "rounds must be at least 1"),
            (["bench", "map", "--page-size", "4k"], "bench: unknown option '--page-size'"),
            (["bench", "map", "--depth", "64"],
             "bench: --depth is not an option of bench map"),
            (["bench", "map", "--count", "10"],
             "bench: --count is not an option of bench map"),
            (["bench", "map", "--file", "/etc/hostname"],
             "bench: --file is not an option of bench map"),
            (["bench", "queue", "--file", "/etc/hostname"],
             "bench: --file is not an option of bench queue"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(["-d", READY, *args], message)

    def test_memlock_too_low(self):
        result = self.fpgactl("-d", READY, "bench", "map", "--size", "0x200000",
                              "--rounds", "1", preexec=memlock_limited(1 << 20))
        # The library's message (limit, need, fix), then the command's line.
        self.assert_failed(result, r"RLIMIT_MEMLOCK is 1024 KiB but DMA needs 2048 KiB")
        self.assertIn("ulimit -l", result.stderr)
        self.assertRegex(result.stderr.splitlines()[-1],
                         r"^fpgactl: bench: 0000:03:00\.0: cannot map 2 MiB with 2 MiB "
                         r"pages: Disk quota exceeded$")
        self.assertEqual(result.stdout, "")

    def test_small_run(self):
        # Whether 2 MiB pages can be had depends on the machine running the
        # tests: either both runs happen, or the library explains why not.
        result = self.fpgactl("-d", READY, "bench", "map", "--size", "0x200000",
                              "--rounds", "2")
        if result.returncode == 1:
            self.assertIn("hugepages", result.stderr)
            self.assertIn("bench: 0000:03:00.0: cannot map 2 MiB with 2 MiB pages",
                          result.stderr)
            return
        self.assert_ok(result)
        lines = result.stdout.splitlines()
        self.assertTrue(lines[0].startswith("bench map: 2 MiB per buffer, 2 round(s)"))
        rows = {line.split()[0] + " " + line.split()[1]: line.split() for line in lines
                if re.match(r"^\d+ (KiB|MiB) ", line)}
        self.assertEqual(rows["2 MiB"][2], "baseline")
        self.assertEqual(rows["4 KiB"][2], "compared")
        self.assertEqual(rows["2 MiB"][-2:], ["1", "512"])
        self.assertEqual(rows["4 KiB"][-2:], ["1", "262144"])
        self.assertRegex(lines[-1], r"^ratio: 4 KiB pages take \d+\.\d\dx the map\+unmap "
                                    r"time of 2 MiB pages \(baseline\)$")


MODEL_NAME_MAX = 127        # characters of a device name (FPGACTL_DEVICE_NAME_MAX - 1)
BENCH_COLUMNS = ["engine", "batch", "ops/s", "e2e_ns/op", "host_ns/op", "p50_ns", "p99_ns",
                 "p99.9_ns", "sq_db/op", "cq_db/op", "bad"]
BENCH_SUMMARY = ["batch", "fpgactl_e2e", "fpgactl_host", "inline_e2e", "io_uring_e2e",
                 "io_uring_host", "uring_inline", "io_uring/e2e", "io_uring/host",
                 "uring_inline/inline"]
BENCH_ENGINES = ["fpgactl", "io_uring", "inline", "uring_inline"]
URING_ENGINES = ("io_uring", "uring_inline")
# Engines timed as a whole only: no host figure, no latency.
WHOLE_RUN_ENGINES = ("inline", "uring_inline")


def long_model_name(length):
    """A valid model spec of exactly @length characters: idle=50 in padded hex."""
    name = "model:idle=0x" + "0" * (length - len("model:idle=0x32")) + "32"
    assert len(name) == length, len(name)
    return name


class ModelTest(FakeTreeCase):
    """The commands that also work on the software model (docs/model.md).

    A fake tree without devices: the model needs no sysfs, no /dev/vfio."""

    def setUp(self):
        super().setUp()
        self.make_tree()

    def selftest(self, device, timeout=60):
        return subprocess.run([FPGACTL, "-d", device, "selftest"], env=self.tool_env(),
                              capture_output=True, text=True, timeout=timeout)

    def test_selftest_passes(self):
        result = self.selftest("model")
        self.assert_ok(result)
        lines = result.stdout.splitlines()
        summary = re.fullmatch(r"selftest: (\d+) passed, 0 failed", lines[-1])
        self.assertTrue(summary, lines[-1])
        passed = int(summary.group(1))
        self.assertGreaterEqual(passed, 14)
        checks = lines[:-1]
        self.assertEqual(len(checks), passed)
        for line in checks:
            self.assertTrue(line.startswith("ok   "), line)
        for what in ("NOP", "COPY", "FILL", "CRC32C", "WRITE then READ", "BAD_OPCODE",
                     "BAD_LENGTH", "DMA_FAULT", "CRC_MISMATCH", "BAD_FIELD", "ERR_COUNT"):
            self.assertIn(what, result.stdout)

    def test_selftest_on_a_stalled_device_fails(self):
        # docs/model.md: fault=stall never completes the first command; the
        # selftest must give up on it (one 2 s timeout), not hang.
        result = self.selftest("model:fault=stall", timeout=30)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        summary = re.fullmatch(r"selftest: (\d+) passed, (\d+) failed",
                               result.stdout.splitlines()[-1])
        self.assertTrue(summary, result.stdout)
        self.assertGreater(int(summary.group(2)), 0)
        self.assertIn("FAIL NOP: no completion", result.stdout)

    def test_selftest_catches_bad_completions(self):
        for fault in ("corrupt", "duplicate", "bad-sq-head"):
            with self.subTest(fault=fault):
                result = self.selftest(f"model:fault={fault},after=2", timeout=30)
                self.assertEqual(result.returncode, 1, result.stdout)
                self.assertRegex(result.stdout.splitlines()[-1],
                                 r"^selftest: \d+ passed, [1-9]\d* failed$")

    def test_bad_model_option(self):
        # A model spec is user input: status 2 and the library's one line
        # naming the option, nothing else, whatever the command.
        cases = [
            ("selftest", "model:bogus=1", "fpgactl: model: unknown option 'bogus'"),
            ("info", "model:lmem=3", "fpgactl: model: bad value '3' for option 'lmem'"),
            ("peek", "model:queues=0", "fpgactl: model: bad value '0' for option 'queues'"),
        ]
        for command, spec, line in cases:
            with self.subTest(spec=spec):
                args = ["-d", spec, command] + (["0"] if command == "peek" else [])
                result = self.fpgactl(*args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
                self.assertTrue(result.stderr.startswith(line), result.stderr)
                self.assertEqual(result.stdout, "")

    def test_info(self):
        result = self.fpgactl("-d", "model", "info")
        self.assert_ok(result)
        self.assertIn("device:   model (5c0f:c0de, class 120000)", result.stdout)
        self.assertIn("iommu:    no group, model backend", result.stdout)
        info = json.loads(self.fpgactl("-d", "model", "info", "--json").stdout)
        self.assertEqual((info["bdf"], info["vendor"], info["device"], info["iommu_group"]),
                         ("model", "5c0f", "c0de", None))
        self.assertEqual([r["name"] for r in info["regions"]], ["BAR0", "BAR2", "CONFIG"])

    def test_registers(self):
        self.assertEqual(self.fpgactl("-d", "model", "peek", "0").stdout, "0x5c0fc0de\n")
        self.assertEqual(self.fpgactl("peek", "-d", "model:lmem=64K", "0xc").stdout,
                         "0x00010000\n")
        self.assert_ok(self.fpgactl("-d", "model", "poke", "0x18", "0x1234"))
        dump = self.fpgactl("-d", "model", "dump", "0", "16")
        self.assert_ok(dump)
        self.assertTrue(dump.stdout.startswith("00000000: dec0 0f5c 0000 0100"), dump.stdout)
        self.assertEqual(self.fpgactl("-d", "model", "reset").stdout, "model: reset\n")

    def test_model_on_pci_only_commands(self):
        cases = [
            (["-d", "model", "list"], "list: takes no device (-d model)"),
            (["bind", "model"], "bind: 'model' is the software model, not a PCI device"),
            (["-d", "model", "bind"], "bind: 'model' is the software model"),
            (["unbind", "model:queues=1"], "unbind: 'model:queues=1' is the software model"),
            (["-d", "model", "doctor"], "doctor: 'model' is the software model"),
            (["-d", "model", "dma-plan"], "dma-plan: 'model' is the software model"),
            (["-d", "model", "dma-test"], "dma-test: 'model' is the software model"),
            (["-d", "model", "bench", "map"],
             "bench: 'model' is the software model, not a PCI device: bench map works on "
             "PCI devices only"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(args, message)

    def test_device_names(self):
        longest = long_model_name(MODEL_NAME_MAX)
        too_long = long_model_name(MODEL_NAME_MAX + 1)
        for cmd in (["selftest"], ["info"], ["peek", "0"], ["reset"], ["bench", "queue"]):
            with self.subTest(cmd=cmd):
                self.assert_usage_error(
                    ["-d", too_long, *cmd],
                    f"device name too long ({MODEL_NAME_MAX + 1} characters, at most "
                    f"{MODEL_NAME_MAX})")
                self.assert_usage_error(["-d", "modelx", *cmd],
                                        "'modelx' is not a PCI address")
        # The longest name is passed to the library unchanged.
        self.assertEqual(self.fpgactl("-d", longest, "peek", "0").stdout, "0x5c0fc0de\n")


class BenchQueueTest(FakeTreeCase):
    """bench queue on the model: the table's structure, never its numbers."""

    def setUp(self):
        super().setUp()
        self.make_tree()

    def bench(self, *args):
        result = self.fpgactl("bench", "queue", *args)
        self.assert_ok(result)
        self.assertNotIn("\r", result.stdout)  # no progress line off a terminal
        lines = result.stdout.splitlines()
        self.assertRegex(lines[0], r"^bench queue: model, 1 queue of depth \d+ ")
        header = [i for i, line in enumerate(lines) if line.startswith("engine ")]
        self.assertEqual(len(header), 1, result.stdout)
        self.assertEqual(lines[header[0]].split(), BENCH_COLUMNS)
        # The engine table, a blank line, then the summary table.
        blank = lines.index("", header[0])
        rows = [dict(zip(BENCH_COLUMNS, line.split())) for line in lines[header[0] + 1:blank]]
        for row in rows:
            self.assertEqual(len(row), len(BENCH_COLUMNS), row)
        top = [i for i, line in enumerate(lines) if line.startswith("batch ")]
        self.assertEqual(len(top), 1, result.stdout)
        self.assertEqual(lines[top[0]].split(), BENCH_SUMMARY)
        summary = [dict(zip(BENCH_SUMMARY, line.split())) for line in lines[top[0] + 1:]]
        uring = "io_uring unavailable" not in result.stderr
        for row in rows:
            engine = row["engine"]
            self.assertIn(engine, BENCH_ENGINES, row)
            if engine in URING_ENGINES and not uring:
                self.assertEqual(set(row.values()) - {engine, row["batch"]}, {"-"}, row)
                continue
            for key in ("ops/s", "e2e_ns/op"):
                self.assertGreater(float(row[key]), 0, row)
            self.assertEqual(row["bad"], "0")
            if engine in WHOLE_RUN_ENGINES:
                self.assertEqual((row["host_ns/op"], row["p50_ns"]), ("-", "-"), row)
            else:
                self.assertGreater(float(row["host_ns/op"]), 0, row)
                for key in ("p50_ns", "p99_ns", "p99.9_ns"):
                    self.assertRegex(row[key], r"^\d+$", row)
                self.assertLessEqual(int(row["p50_ns"]), int(row["p99_ns"]))
                self.assertLessEqual(int(row["p99_ns"]), int(row["p99.9_ns"]))
            if engine in URING_ENGINES:
                self.assertEqual((row["sq_db/op"], row["cq_db/op"]), ("-", "-"))
            else:
                self.assertRegex(row["sq_db/op"], r"^\d+\.\d{4}$")
                self.assertRegex(row["cq_db/op"], r"^\d+\.\d{4}$")
        self.assertEqual([r["batch"] for r in summary],
                         [r["batch"] for r in rows if r["engine"] == "fpgactl"])
        by_engine = {(r["engine"], r["batch"]): r for r in rows}
        for row in summary:
            self.assertEqual(len(row), len(BENCH_SUMMARY), row)
            b = row["batch"]
            # The summary repeats the engine rows' figures ...
            self.assertEqual(row["fpgactl_e2e"], by_engine[("fpgactl", b)]["e2e_ns/op"])
            self.assertEqual(row["fpgactl_host"], by_engine[("fpgactl", b)]["host_ns/op"])
            self.assertEqual(row["inline_e2e"], by_engine[("inline", b)]["e2e_ns/op"])
            if not uring:
                for key in BENCH_SUMMARY[4:]:
                    self.assertEqual(row[key], "-", row)
                continue
            self.assertEqual(row["io_uring_e2e"], by_engine[("io_uring", b)]["e2e_ns/op"])
            self.assertEqual(row["io_uring_host"], by_engine[("io_uring", b)]["host_ns/op"])
            self.assertEqual(row["uring_inline"], by_engine[("uring_inline", b)]["e2e_ns/op"])
            # ... and divides like by like.
            for ratio, num, den in (("io_uring/e2e", "io_uring_e2e", "fpgactl_e2e"),
                                    ("io_uring/host", "io_uring_host", "fpgactl_host"),
                                    ("uring_inline/inline", "uring_inline", "inline_e2e")):
                self.assertAlmostEqual(float(row[ratio]), float(row[num]) / float(row[den]),
                                       delta=0.02 * float(row[ratio]) + 0.01, msg=row)
        return result, rows

    def test_one_batch_size(self):
        result, rows = self.bench("--count", "2000", "--batch", "8")
        self.assertIn("2000 NOPs per run", result.stdout)
        self.assertEqual([(r["engine"], r["batch"]) for r in rows],
                         [(e, "8") for e in BENCH_ENGINES])
        # One tail doorbell per batch of 8: a count, not a timing.  The
        # inline engine reaps each batch in one pass: one head doorbell too.
        self.assertEqual(rows[0]["sq_db/op"], "0.1250")
        self.assertEqual((rows[2]["sq_db/op"], rows[2]["cq_db/op"]), ("0.1250", "0.1250"))

    def test_default_batch_sizes(self):
        _, rows = self.bench("--count", "2000", "-d", "model")
        self.assertEqual([(r["engine"], r["batch"]) for r in rows],
                         [(e, b) for b in ("1", "8", "32") for e in BENCH_ENGINES])
        self.assertEqual(rows[0]["sq_db/op"], "1.0000")

    def test_small_depth_keeps_the_batches_that_fit(self):
        result, rows = self.bench("--count", "500", "--depth", "8")
        self.assertIn("depth 8 (up to 7 in flight)", result.stdout)
        self.assertEqual([r["batch"] for r in rows], ["1"] * len(BENCH_ENGINES))

    def test_engine_subset(self):
        # --engine: only the engines named run; the stalled soft-core -d is
        # not even opened when the fpgactl engine does not run.
        result = self.fpgactl("bench", "queue", "-d", "model:fault=stall", "--count", "500",
                              "--batch", "8", "--engine", "inline,uring_inline")
        self.assert_ok(result)
        lines = result.stdout.splitlines()
        header = [i for i, line in enumerate(lines) if line.startswith("engine ")][0]
        blank = lines.index("", header)
        engines = [line.split()[0] for line in lines[header + 1:blank]]
        self.assertEqual(engines, ["inline", "uring_inline"], result.stdout)
        inline = lines[header + 1].split()
        self.assertGreater(float(inline[3]), 0, inline)
        self.assertEqual(inline[-1], "0", inline)

    def test_stalled_device(self):
        result = self.fpgactl("bench", "queue", "-d", "model:fault=stall", "--count", "100")
        self.assert_failed(result, r"bench: model:fault=stall: no completion for 2 s")

    def test_bad_input(self):
        cases = [
            (["--depth", "3"], "bench: depth 3 is not a power of two from 2 to 4096"),
            (["--depth", "1"], "bench: depth 1 is not a power of two from 2 to 4096"),
            (["--depth", "8192"], "bench: depth '8192' is too large (max 4096)"),
            (["--batch", "0"], "bench: batch must be at least 1"),
            (["--batch", "64"],
             "bench: batch 64 is more than the 63 commands a queue of depth 64 keeps in flight"),
            (["--depth", "16", "--batch", "16"], "bench: batch 16 is more than the 15"),
            (["--batch", "x"], "bench: batch 'x' is not a number"),
            (["--count", "0"], "bench: count must be at least 1"),
            (["--count", "-5"], "bench: count '-5' is negative"),
            (["--size", "4096"], "bench: --size is not an option of bench queue"),
            (["--rounds", "2"], "bench: --rounds is not an option of bench queue"),
            (["-d", "03:00"], "bench: '03:00' is not a PCI address"),
            (["--engine", "inlin"], "bench: unknown engine 'inlin' in 'inlin' (available: "
             "fpgactl, io_uring, inline, uring_inline)"),
            (["--engine", "inline,"], "bench: unknown engine '' in 'inline,'"),
            (["--engine", ""], "bench: unknown engine '' in ''"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(["bench", "queue", *args], message)


LMEM_SIZE = 1 << 20         # the model's local memory by default (docs/model.md)
MB_S = r"\d+\.\d MB/s"


class LoadSaveTest(FakeTreeCase):
    """load and save on the model (docs/cli.md).  Each command opens a new
    model, so local memory does not outlive one invocation: load checks
    itself with --verify, save of a fresh model gives zeros."""

    def setUp(self):
        super().setUp()
        self.make_tree(f"--device={READY_DEVICE}")

    def data_file(self, name, size):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        return path

    def test_load_verify(self):
        path = self.data_file("random.bin", 300 * 1024)
        result = self.fpgactl("-d", "model", "load", path, "--verify")
        self.assert_ok(result)
        self.assertNotIn("\r", result.stdout)  # no progress bar off a terminal
        lines = result.stdout.splitlines()
        self.assertEqual(len(lines), 2, result.stdout)
        self.assertRegex(lines[0], rf"^load: 307200 bytes from '{re.escape(path)}' into local "
                                   rf"memory 0x0\.\.0x4afff in \d+\.\d{{3}} ms, {MB_S} "
                                   r"\(file read with (O_DIRECT|buffered I/O); 1 WRITE "
                                   r"command, 1 doorbell\)$")
        self.assertEqual(lines[1], "verify: 307200 bytes read back with READ commands and "
                                   f"through BAR2: identical to '{path}'")
        self.assertEqual(result.stderr, "")

    def test_load_in_pieces_at_an_odd_offset(self):
        # 2.5 MiB + 5 bytes: two buffers of 2 MiB and a partial last block;
        # commands of 64 KiB, so several per buffer.
        size = 5 * (1 << 19) + 5
        path = self.data_file("odd.bin", size)
        result = self.fpgactl("-d", "model:lmem=4M,max_xfer=64K", "load", path,
                              "--offset", "0x1003", "--verify")
        self.assert_ok(result)
        self.assertIn(f"load: {size} bytes from '{path}' into local memory "
                      f"0x1003..{0x1003 + size - 1:#x} in ", result.stdout)
        self.assertIn(f"; {(size + 0xffff) // 0x10000} WRITE commands, ", result.stdout)
        self.assertIn(f"verify: {size} bytes read back with READ commands and through BAR2: "
                      "identical", result.stdout)

    def test_load_fills_local_memory_to_the_end(self):
        path = self.data_file("full.bin", 64 * 1024 - 16)
        result = self.fpgactl("-d", "model:lmem=64K", "load", path, "--offset", "16",
                              "--verify")
        self.assert_ok(result)
        self.assertIn("into local memory 0x10..0xffff in ", result.stdout)

    def test_save_of_a_fresh_model_is_zeros(self):
        out = os.path.join(self.tmp, "saved.bin")
        with open(out, "wb") as f:       # longer than what is saved: truncated
            f.write(b"\xff" * (1 << 20))
        result = self.fpgactl("-d", "model", "save", out, "--size", "300001",
                              "--offset", "0x100")
        self.assert_ok(result)
        self.assertNotIn("\r", result.stdout)
        self.assertRegex(result.stdout,
                         rf"^save: 300001 bytes to '{re.escape(out)}' from local memory "
                         rf"0x100\.\.0x494e0 in \d+\.\d{{3}} ms, {MB_S} \(file written with "
                         r"(O_DIRECT|buffered I/O); 1 READ command, 1 doorbell\)\n$")
        with open(out, "rb") as f:
            self.assertEqual(f.read(), bytes(300001))

    @staticmethod
    def lmem_pattern(offset, size):
        """Local memory of model:lmem_fill=pattern (docs/model.md)."""
        first = offset & ~3
        words = b"".join(struct.pack("<I", o ^ 0xa5a5a5a5)
                         for o in range(first, offset + size + 3, 4))
        return words[offset - first:offset - first + size]

    def test_save_reads_what_local_memory_holds(self):
        # Every word different and none zero: a save that ignored --offset,
        # reordered chunks or wrote zeros would not match.
        for offset, size in ((0, 4096), (0x1235, 300001), (0, LMEM_SIZE * 3 - 7)):
            with self.subTest(offset=offset, size=size):
                out = os.path.join(self.tmp, "pattern.bin")
                lmem = "4M" if size > LMEM_SIZE else "1M"
                result = self.fpgactl("-d", f"model:lmem={lmem},lmem_fill=pattern", "save",
                                      out, "--size", str(size), "--offset", hex(offset))
                self.assert_ok(result)
                with open(out, "rb") as f:
                    data = f.read()
                self.assertEqual(len(data), size)
                self.assertTrue(data == self.lmem_pattern(offset, size),
                                "saved bytes differ from local memory")

    def test_shallow_soft_core(self):
        # A soft-core whose queues are shallower than load/save's 64, or not
        # a power of two deep: the deepest power of two it takes.
        path = self.data_file("shallow.bin", 300000)
        for spec in ("model:depth=48,max_xfer=4K", "model:depth=2,max_xfer=4K"):
            with self.subTest(spec=spec):
                result = self.fpgactl("-d", spec, "load", path, "--verify")
                self.assert_ok(result)
                self.assertIn("identical to", result.stdout)
                out = os.path.join(self.tmp, "shallow.out")
                result = self.fpgactl("-d", f"{spec},lmem_fill=pattern", "save", out,
                                      "--size", "300000")
                self.assert_ok(result)
                with open(out, "rb") as f:
                    self.assertTrue(f.read() == self.lmem_pattern(0, 300000))

    def test_save_in_pieces(self):
        out = os.path.join(self.tmp, "big.bin")
        size = LMEM_SIZE * 3 - 7
        result = self.fpgactl("-d", "model:lmem=4M", "save", out, "--size", str(size))
        self.assert_ok(result)
        self.assertEqual(os.path.getsize(out), size)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), bytes(size))

    def test_stalled_device(self):
        path = self.data_file("small.bin", 4096)
        result = self.fpgactl("-d", "model:fault=stall", "load", path)
        self.assert_failed(result, r"load: model:fault=stall: no completion for 2 s")
        out = os.path.join(self.tmp, "out.bin")
        result = self.fpgactl("-d", "model:fault=stall", "save", out, "--size", "4096")
        self.assert_failed(result, r"save: model:fault=stall: no completion for 2 s")

    def test_broken_max_xfer(self):
        # Issue 12, item 27: a soft-core whose MAX_XFER reads 0 cannot move a
        # byte; load and save say so, naming the register, before any
        # bring-up, instead of sending commands that move nothing.
        src = self.data_file("some.bin", 1000)
        out = os.path.join(self.tmp, "saved.bin")
        for args in (["load", src], ["save", out, "--size", "1000"]):
            with self.subTest(args=args):
                result = self.fpgactl("-d", "model:max_xfer=0", *args)
                self.assert_failed(result, rf"^fpgactl: {args[0]}: model:max_xfer=0: the "
                                           r"soft-core's MAX_XFER register \(0x01c\) reads "
                                           r"0x0: no command could move data")
                self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
                self.assertFalse(os.path.exists(out))

    def test_bad_input(self):
        small = self.data_file("small.bin", 1000)
        big = self.data_file("big.bin", LMEM_SIZE + 1)
        empty = self.data_file("empty.bin", 0)
        missing = os.path.join(self.tmp, "missing.bin")
        out = os.path.join(self.tmp, "out.bin")
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo)
        # Issue 12, item 27: links that point nowhere, into an existing
        # directory (open(O_CREAT) would create the target) and into none.
        dangling_target = os.path.join(self.tmp, "target.bin")
        dangling = os.path.join(self.tmp, "dangling")
        os.symlink(dangling_target, dangling)
        dangling_dir = os.path.join(self.tmp, "dangling-dir")
        os.symlink(os.path.join(missing, "x"), dangling_dir)
        cases = [
            (["load", missing], f"load: cannot read '{missing}': No such file or directory"),
            (["load", self.tmp], f"load: '{self.tmp}' is a directory"),
            (["load", fifo], f"load: '{fifo}' is not a regular file"),
            (["load", empty], f"load: '{empty}' is empty: nothing to load"),
            (["load", big], f"load: '{big}' ({LMEM_SIZE + 1} bytes) does not fit in local "
                            f"memory at offset 0x0 (LMEM_SIZE {LMEM_SIZE} bytes)"),
            (["load", small, "--offset", str(LMEM_SIZE - 999)],
             f"load: '{small}' (1000 bytes) does not fit in local memory at offset 0xffc19"),
            (["load", small, "--offset", hex(LMEM_SIZE)],
             f"load: offset 0x100000 is outside local memory (LMEM_SIZE {LMEM_SIZE} bytes)"),
            (["load", small, "--offset", "x"], "load: offset 'x' is not a number"),
            (["load", small, "--offset", "0x100000000"], "load: offset '0x100000000' is too large"),
            (["load", small, "--size", "10"], "load: unknown option '--size'"),
            (["load"], "load: missing arguments (usage: fpgactl load FILE)"),
            (["load", small, small], f"load: unexpected argument '{small}'"),
            (["save", out], "save: --size is required (bytes to save)"),
            (["save", out, "--size", "0"], "save: size must be at least 1"),
            (["save", out, "--size", "-1"], "save: size '-1' is negative"),
            (["save", out, "--size", str(LMEM_SIZE + 1)],
             f"save: {LMEM_SIZE + 1} bytes at offset 0x0 run past the end of local memory "
             f"(LMEM_SIZE {LMEM_SIZE} bytes)"),
            (["save", out, "--size", "16", "--offset", str(LMEM_SIZE - 8)],
             "save: 16 bytes at offset 0xffff8 run past the end of local memory"),
            (["save", self.tmp, "--size", "16"], f"save: '{self.tmp}' is a directory"),
            (["save", fifo, "--size", "16"],
             f"save: '{fifo}' is a FIFO: save writes regular files and devices"),
            (["save", os.path.join(missing, "x"), "--size", "16"],
             f"save: cannot create '{missing}/x': directory '{missing}': No such file or "
             "directory"),
            (["save", out, "--size", "16", "--verify"], "save: unknown option '--verify'"),
            (["save", "", "--size", "16"], "save: empty file name"),
            (["save", missing + "/", "--size", "16"],
             f"save: '{missing}/' names a directory, not a file"),
            (["save", dangling, "--size", "16"],
             f"save: '{dangling}' is a dangling symbolic link: save does not create files "
             "through it (remove it, or name its target)"),
            (["save", dangling_dir, "--size", "16"],
             f"save: '{dangling_dir}' is a dangling symbolic link"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(["-d", "model", *args], message)
                self.assertFalse(os.path.exists(out))
                self.assertFalse(os.path.lexists(dangling_target))
        # A PCI device that is not the soft-core: refused before anything is
        # written, as by every command that brings the soft-core up.
        for args in (["load", small], ["save", out, "--size", "16"], ["selftest"],
                     ["bench", "queue", "--count", "10"]):
            with self.subTest(args=args):
                self.assert_usage_error(
                    ["-d", READY, *args], f"{args[0]}: {READY} is not the soft-core of "
                    "docs/softcore.md (ID reads 0x00000000, not 0x5c0fc0de)")
                self.assertFalse(os.path.exists(out))
        # Queues deeper than the soft-core takes: refused before bring-up.
        self.assert_usage_error(["-d", "model:depth=16", "bench", "queue", "--depth", "64"],
                                "bench: queue depth 64 does not fit model:depth=16: it takes "
                                "at most 16 (CAP.MQES + 1)")


IRQ_LINE = r"^interrupt (\d+): MSI-X vector (\d+), \d+\.\d us after the NOP's doorbell$"


class IrqWaitTest(FakeTreeCase):
    """irq-wait: on the model, whose NOPs raise MSI-X; on the mock kernel,
    which cannot raise an interrupt from another process, bad input and
    timeouts only."""

    def setUp(self):
        super().setUp()
        self.make_tree(f"--device={READY_DEVICE}")

    def test_model(self):
        result = self.fpgactl("-d", "model", "irq-wait", "--count", "3")
        self.assert_ok(result)
        lines = result.stdout.splitlines()
        self.assertEqual(lines[0], "irq-wait: MSI-X vector 0 of model, eventfd watched by an "
                                   "io_uring event engine; trigger: a NOP on queue 0 "
                                   "(soft-core interrupts on)")
        for i, line in enumerate(lines[1:4], 1):
            m = re.match(IRQ_LINE, line)
            self.assertTrue(m, line)
            self.assertEqual(m.groups(), (str(i), "0"))
        self.assertRegex(lines[4], r"^irq-wait: 3 of 3 interrupts on MSI-X vector 0; latency "
                                   r"min \d+\.\d us, median \d+\.\d us, max \d+\.\d us$")
        self.assertEqual(len(lines), 5)
        self.assertEqual(result.stderr, "")

    def test_model_other_vector(self):
        result = self.fpgactl("-d", "model:queues=8", "irq-wait", "--type", "msix",
                              "--vector", "7")
        self.assert_ok(result)
        self.assertRegex(result.stdout.splitlines()[1], IRQ_LINE.replace(r"(\d+), \d", r"(7), \d"))

    def test_model_stalled(self):
        result = self.fpgactl("-d", "model:fault=stall", "irq-wait", "--timeout-ms", "100")
        self.assert_failed(result, r"irq-wait: model:fault=stall: 0 of 1 interrupt arrived")
        self.assertIn("interrupt 1: none within 100 ms\n", result.stdout)
        self.assertTrue(result.stdout.endswith("irq-wait: 0 of 1 interrupt on MSI-X vector 0\n"))

    def test_mock_times_out(self):
        # The trigger is written (the mock's BAR0 is a file), no interrupt comes.
        before = self.read_region(READY, 7, 4, 2)   # PCI command register
        result = self.fpgactl("-d", READY, "irq-wait", "--type", "msi", "--trigger",
                              "0x60=0xabcd", "--timeout-ms", "50")
        self.assert_failed(result, rf"irq-wait: {READY}: 0 of 1 interrupt arrived")
        self.assertIn("trigger: BAR0 0x60 = 0x0000abcd", result.stdout)
        self.assertEqual(self.read_region(READY, 0, 0x60, 4), (0xabcd).to_bytes(4, "little"))
        # Bus mastering (MSI is a memory write) is switched off again.
        self.assertEqual(self.read_region(READY, 7, 4, 2), before)

    def test_bad_input(self):
        cases = [
            (["--type", "msx"], "irq-wait: type 'msx' is not msix, msi or intx"),
            (["--type", "intx", "--vector", "1"], "irq-wait: INTx has one vector: --vector must be 0"),
            (["--vector", "2048"], "irq-wait: vector '2048' is too large (max 2047)"),
            (["--count", "0"], "irq-wait: count must be at least 1"),
            (["--timeout-ms", "0"], "irq-wait: timeout-ms must be at least 1"),
            (["--timeout-ms", "1s"], "irq-wait: timeout-ms '1s' is not a number"),
            (["--trigger", "0x60"], "irq-wait: trigger '0x60' is not OFFSET=VALUE"),
            (["--trigger", "=1"], "irq-wait: trigger '=1' is not OFFSET=VALUE"),
            (["--trigger", "0x62=1"], "irq-wait: trigger offset 0x62 is not aligned to 4 bytes"),
            (["--trigger", "0x60=0x100000000"],
             "irq-wait: trigger value '0x100000000' is too large (max 0xffffffff)"),
            (["--ack", "0x64=x"], "irq-wait: ack value 'x' is not a number"),
            (["--width", "8"], "irq-wait: unknown option '--width'"),
            (["now"], "irq-wait: unexpected argument 'now'"),
        ]
        for device in ("model", READY):
            for args, message in cases:
                with self.subTest(device=device, args=args):
                    self.assert_usage_error(["-d", device, "irq-wait", *args], message)
        # What only the open device can tell, still before anything is touched.
        device_cases = [
            ("model", ["--type", "msi"],
             "irq-wait: model has no MSI interrupt (INTx: 0, MSI: 0, MSI-X: 4)"),
            ("model", ["--type", "intx"], "irq-wait: model has no INTx interrupt"),
            ("model", ["--vector", "4"], "irq-wait: model has no interrupt vector 4"),
            ("model", ["--trigger", "0x10000=1"],
             "irq-wait: trigger offset 0x10000 is outside BAR0 (size 0x10000)"),
            (READY, ["--type", "msi", "--vector", "1"],
             f"irq-wait: {READY} has no MSI vector 1 (INTx: 1, MSI: 1, MSI-X: 8)"),
            (READY, ["--vector", "8"], f"irq-wait: {READY} has no interrupt vector 8"),
            (READY, ["--ack", "0x1000=1"],
             "irq-wait: ack offset 0x1000 is outside BAR0 (size 0x1000)"),
        ]
        for device, args, message in device_cases:
            with self.subTest(device=device, args=args):
                self.assert_usage_error(["-d", device, "irq-wait", *args], message)


class BenchWakeupStreamTest(FakeTreeCase):
    """bench wakeup and bench stream on the model: they run and print their
    rows; no number is judged."""

    def setUp(self):
        super().setUp()
        self.make_tree()

    def test_wakeup(self):
        result = self.fpgactl("bench", "wakeup", "--count", "200")
        self.assert_ok(result)
        self.assertNotIn("\r", result.stdout)
        lines = result.stdout.splitlines()
        self.assertTrue(lines[0].startswith("bench wakeup: model:idle=0, 1 queue, interrupts "
                                            "on (MSI-X vector 0); 200 NOPs per method"),
                        lines[0])
        header = [i for i, line in enumerate(lines) if line.startswith("method ")]
        self.assertEqual(len(header), 1, result.stdout)
        self.assertEqual(lines[header[0]].split(),
                         ["method", "p50_ns", "p99_ns", "p50_ratio", "p99_ratio"])
        rows = lines[header[0] + 1:header[0] + 4]
        names = ["fpgactl_queue_wait(INTERRUPT)", "read() on the eventfd *",
                 "epoll_wait() on the eventfd"]
        for name, row in zip(names, rows):
            self.assertTrue(row.startswith(name), row)
            fields = row[len(name):].split()
            self.assertEqual(len(fields), 4, row)
            self.assertLessEqual(int(fields[0]), int(fields[1]), row)
            self.assertRegex(fields[2], r"^\d+\.\d\d$")
        self.assertEqual(rows[1].split()[-2:], ["1.00", "1.00"])
        self.assertTrue(lines[-1].startswith("* baseline"))

    def test_stream(self):
        data = os.path.join(self.tmp, "data.bin")
        with open(data, "wb") as f:
            f.write(os.urandom(3 * 65536 + 100))
        for args, size in ((["--file", data, "--rounds", "2"], "196708 bytes"),
                           (["--size", str(1 << 20), "--rounds", "1", "-d", "model"], "1 MiB")):
            with self.subTest(args=args):
                result = self.fpgactl("bench", "stream", *args)
                self.assert_ok(result)
                lines = result.stdout.splitlines()
                self.assertTrue(lines[0].startswith(f"bench stream: {size} from "), lines[0])
                header = [i for i, line in enumerate(lines) if line.startswith("dir ")]
                self.assertEqual(len(header), 1, result.stdout)
                self.assertEqual(lines[header[0]].split(),
                                 ["dir", "chunk", "cache", "method", "MB/s", "min", "max",
                                  "ratio", "cpu_s/GiB", "cpu_ratio"])
                rows = [line.split() for line in lines[header[0] + 1:header[0] + 49]]
                methods = {"file>buf": ("read+memcpy", "io_uring", "uring-cached",
                                        "uring-buffer"),
                           "buf>file": ("memcpy+write", "io_uring", "uring-cached",
                                        "uring-buffer")}
                self.assertEqual([r[:5] for r in rows],
                                 [[d, n, unit, cache, method]
                                  for d in ("file>buf", "buf>file")
                                  for cache in ("cold", "warm")
                                  for n, unit in (("4", "KiB"), ("128", "KiB"), ("1", "MiB"))
                                  for method in methods[d]])
                for i, r in enumerate(rows):
                    self.assertEqual(len(r), 11, r)
                    mbs, low, high = (float(x) for x in r[5:8])
                    self.assertGreater(low, 0, r)
                    self.assertLessEqual(low, mbs, r)
                    self.assertLessEqual(mbs, high, r)
                    self.assertRegex(r[9], r"^\d+\.\d{3}$")
                    if i % 4 == 0:
                        self.assertEqual((r[8], r[10]), ("-", "-"), r)
                    else:
                        self.assertRegex(r[8], r"^\d+\.\d\d$")
                        self.assertRegex(r[10], r"^\d+\.\d\d$")
        # The temporary file is gone.
        self.assertFalse([n for n in os.listdir(self.tmp) if n.startswith("fpgactl-bench")])

    def test_stream_temporary_file_in_tmpdir(self):
        result = self.fpgactl("bench", "stream", "--size", "65536", "--rounds", "1",
                              env={"TMPDIR": self.tmp})
        self.assert_ok(result)
        self.assertIn(f"64 KiB from a temporary file in {self.tmp} (unlinked, ",
                      result.stdout)
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith("fpgactl-bench")], [])

    def test_stream_killed_leaves_no_file(self):
        # Issue 12, item 28: SIGKILL mid-run (no handler runs) leaves no
        # temporary file: it has no name from the start.
        tmpdir = os.path.join(self.tmp, "tmpdir")
        os.mkdir(tmpdir)
        proc = subprocess.Popen([FPGACTL, "bench", "stream", "--size", str(8 << 20),
                                 "--rounds", "100"], env=self.tool_env({"TMPDIR": tmpdir}),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            seen = self.wait_for_temp_file(proc.pid, tmpdir)
        finally:
            proc.kill()
            proc.communicate()
        self.assertTrue(seen, "the benchmark never had its temporary file open")
        self.assertEqual(proc.returncode, -9)
        self.assertEqual(os.listdir(tmpdir), [])

    @staticmethod
    def wait_for_temp_file(pid, tmpdir, timeout=30.0):
        """Wait until process @pid has a file of @tmpdir open (or a file
        exists there): its temporary file is being written or read."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.listdir(tmpdir):
                return True
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except FileNotFoundError:
                return False
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(tmpdir + "/"):
                        return True
                except OSError:
                    pass
            time.sleep(0.01)
        return False

    def test_bad_input(self):
        missing = os.path.join(self.tmp, "missing")
        small = os.path.join(self.tmp, "small")
        with open(small, "wb") as f:
            f.write(b"x" * 100)
        cases = [
            (["wakeup", "--count", "0"], "bench: count must be at least 1"),
            (["wakeup", "--size", "10"], "bench: --size is not an option of bench wakeup"),
            (["wakeup", "--file", small], "bench: --file is not an option of bench wakeup"),
            (["wakeup", "-d", "03:00"], "bench: '03:00' is not a PCI address"),
            (["stream", "--count", "10"], "bench: --count is not an option of bench stream"),
            (["stream", "--size", "0"], "bench: size must be at least 1"),
            (["stream", "--rounds", "0"], "bench: rounds must be at least 1"),
            (["stream", "--file", missing],
             f"bench: cannot read '{missing}': No such file or directory"),
            (["stream", "--file", self.tmp], f"bench: '{self.tmp}' is not a regular file"),
            (["stream", "--file", small, "--size", "101"],
             f"bench: '{small}' has 100 bytes, fewer than --size 101"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(["bench", *args], message)



def without_sys_admin():
    """A preexec_fn: CAP_SYS_ADMIN gone from the bounding set, so that even
    root runs the tool without it, as an unprivileged user would."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0):
            raise OSError(ctypes.get_errno(), "PR_CAPBSET_DROP")


class LifecycleTest(FakeTreeCase):
    """reprogram, remove, rescan (docs/lifecycle.md): bad input is refused
    before anything is touched, and so is a user without root."""

    def setUp(self):
        super().setUp()
        self.make_tree(f"--device={READY_DEVICE}")

    def test_usage_errors(self):
        cases = [
            (["reprogram", "--", "true"], "reprogram: no device given"),
            (["-d", READY, "reprogram"], "reprogram: missing arguments"),
            (["-d", "model", "reprogram", "--", "true"], "model"),
            (["-d", "03:00", "reprogram", "--", "true"], "not a PCI address"),
            (["-d", READY, "reprogram", "--expect", "zz:1", "--", "true"],
             "--expect 'zz:1' is not VENDOR:DEVICE in hex"),
            (["-d", READY, "reprogram", "--expect", "10ee", "--", "true"],
             "--expect '10ee' is not VENDOR:DEVICE"),
            (["-d", READY, "reprogram", "--expect", "ffff:1", "--", "true"],
             "--expect 'ffff:1' is not VENDOR:DEVICE"),
            (["-d", READY, "reprogram", "--expect", "1:12345", "--", "true"],
             "--expect '1:12345' is not VENDOR:DEVICE"),
            (["-d", READY, "reprogram", "--deadline", "0", "--", "true"],
             "--deadline must be at least 1 second"),
            (["-d", READY, "reprogram", "--deadline", "-1", "--", "true"],
             "reprogram: "),
            (["-d", READY, "reprogram", "--deadline", "3601", "--", "true"],
             "--deadline"),
            (["-d", READY, "reprogram", "--", "no-such-programmer-xyz"],
             "PROGRAMMER 'no-such-programmer-xyz' not found in PATH"),
            (["-d", READY, "reprogram", "--", "/etc/hostname-not-here/x"],
             "is not an executable file"),
            (["-d", READY, "reprogram", "--", ""], "PROGRAMMER is empty"),
            (["remove"], "remove: no device given"),
            (["-d", "model", "remove"], "model"),
            (["-d", READY, "remove", "extra"], "remove: unexpected argument 'extra'"),
            (["rescan", "zz"], "rescan: 'zz' is not a PCI address"),
            (["rescan", READY, "extra"], "rescan: unexpected argument 'extra'"),
            (["-d", READY, "rescan"], "rescan: takes no device"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(args, message)

    def test_programmer_args_after_double_dash_are_its_own(self):
        """Options after "--" belong to PROGRAMMER: without root the tool
        gets as far as the root check, not to a usage error."""
        before = self.snapshot()
        result = self.fpgactl("-d", READY, "reprogram", "--", "true", "--bogus",
                              preexec=without_sys_admin)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("needs root", result.stderr)
        self.assertEqual(self.snapshot(), before)

    def test_refused_without_root(self):
        for args in (["-d", READY, "reprogram", "--", "true"],
                     ["-d", READY, "reprogram", "--expect", "1234:11e8", "--", "true"],
                     ["-d", READY, "remove"],
                     ["rescan"], ["rescan", READY]):
            with self.subTest(args=args):
                before = self.snapshot()
                result = self.fpgactl(*args, preexec=without_sys_admin)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertEqual(result.stderr.splitlines(), [
                    f"fpgactl: {args[2] if args[0] == '-d' else args[0]}: needs root "
                    "(CAP_SYS_ADMIN): it writes to /sys/bus/pci (remove, rescan) "
                    "and to the bridge's config space; run it with sudo"])
                self.assertEqual(result.stdout, "")
                self.assertEqual(self.snapshot(), before)

    def test_reprogram_refuses_a_device_on_a_root_bus(self):
        """The fake device sits on a root bus (no bridge above it): refused
        at the first step, the device untouched, PROGRAMMER not run."""
        if not has_sys_admin():
            self.skipTest("needs CAP_SYS_ADMIN to get past the root check")
        marker = os.path.join(self.tmp, "ran")
        before = self.snapshot()
        result = self.fpgactl("-d", READY, "reprogram", "--", "touch", marker)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(f"{READY}: prepare: no PCI bridge above the device", result.stderr)
        self.assertIn(f"reprogram: {READY}: failed at step 'prepare'", result.stderr)
        self.assertFalse(os.path.exists(marker))
        self.assertEqual(self.snapshot(), before)


def has_sys_admin():
    """CAP_SYS_ADMIN in this process's effective set (/proc/self/status)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << CAP_SYS_ADMIN))
    return False

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs")


def doc_example(page, command):
    """The output lines shown under "$ COMMAND" in docs/PAGE, and the
    paragraph before the example."""
    with open(os.path.join(DOCS, page), encoding="utf-8") as f:
        lines = f.read().splitlines()
    at = lines.index("    $ " + command)
    out = []
    for line in lines[at + 1:]:
        if not line.startswith("    ") or line.startswith("    $ "):
            break
        out.append(line[4:])
    start = at - 1
    while start > 0 and lines[start - 1].strip():
        start -= 1
    return out, " ".join(lines[start:at])


class DocsTest(FakeTreeCase):
    """Examples of docs/cli.md run as they are written (issue 12, item 29)."""

    def setUp(self):
        super().setUp()
        self.make_tree()

    def test_bad_model_option_example(self):
        shown, text = doc_example("cli.md", "fpgactl -d model:bogus=1 info")
        result = self.fpgactl("-d", "model:bogus=1", "info")
        self.assertEqual(result.stderr.splitlines(), shown)
        self.assertEqual(result.stdout, "")
        self.assertIn(f"status {result.returncode}", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
