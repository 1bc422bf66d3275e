#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tests of the fpgactl command-line tool against a fake sysfs/dev tree.

Every test builds its own tree with mkfaketree and runs fpgactl with the
VFIO ioctl mock preloaded (docs/mock-kernel.md).  Environment:

    FPGACTL     the fpgactl executable
    MKFAKETREE  the mkfaketree executable
    MOCKVFIO    libmockvfio.so
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
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

    def fpgactl(self, *args, env=None):
        return subprocess.run([FPGACTL, *args], env=self.tool_env(env),
                              capture_output=True, text=True, timeout=60)

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
                "reset", "doctor", "help"]

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
                     ["dump", "0", "16"], ["reset"], ["bind"], ["unbind"]):
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

    def doctor(self, *args, env=None):
        before = self.snapshot()
        result = self.fpgactl(*args, "doctor", env=env)
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
