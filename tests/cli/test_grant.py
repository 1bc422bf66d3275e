#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""fpgactl grant and sriov against fake trees: argument errors (exit 2, nothing
touched, owners included), the nodes it gives the user with each backend,
the memlock advice, a bind it asks for, and doctor run as that user
before (fails) and after (passes) the grant.  Environment as test_cli.py.
"""
import os
import pwd
import unittest

from test_cli import FakeTreeCase, READY, READY_DEVICE

USER = "nobody"


def owners(root):
    """(uid, mode) of every path of the tree, links not followed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            out[path] = (st.st_uid, st.st_mode)
    return out


def as_user(uid, gid):
    def drop():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    return drop


@unittest.skipUnless(os.geteuid() == 0, "grant changes owners: needs root")
class GrantTest(FakeTreeCase):
    def setUp(self):
        super().setUp()
        self.pw = pwd.getpwnam(USER)

    def node_uid(self, rel):
        return os.stat(self.path("dev/" + rel)).st_uid

    def test_argument_errors_touch_nothing(self):
        self.make_tree("--iommufd", f"--device={READY_DEVICE},cdev=0")
        before = owners(self.root)
        cases = [
            (["-d", READY, "grant"], "missing arguments"),
            (["-d", READY, "grant", "no-such-user-fpgactl"], "no user 'no-such-user-fpgactl'"),
            (["-d", READY, "grant", USER, "--memlock", "12X"], "--memlock '12X'"),
            (["-d", READY, "grant", USER, "--memlock", "0"], "--memlock '0'"),
            (["-d", READY, "grant", USER, "--memlock", "2T"], "--memlock '2T'"),
            (["-d", READY, "grant", USER, "--memlock", "-1"], "--memlock '-1'"),
            (["-d", READY, "grant", USER, "extra"], "unexpected argument 'extra'"),
            (["grant", USER], "no device given"),
            (["-d", "model", "grant", USER], "model"),
            (["-d", "zz:00.0", "grant", USER], "zz:00.0"),
        ]
        for args, message in cases:
            self.assert_usage_error(args, message)
        self.assertEqual(owners(self.root), before)

    def test_legacy(self):
        self.make_tree(f"--device={READY_DEVICE}")
        self.assertEqual(self.node_uid("vfio/5"), 0)
        result = self.fpgactl("-d", READY, "grant", USER, "--memlock", "63M")
        self.assert_ok(result)
        self.assertEqual(self.node_uid("vfio/5"), self.pw.pw_uid)
        self.assertTrue(os.stat(self.path("dev/vfio/5")).st_mode & 0o600 == 0o600)
        # 63 MiB rounded up to 2 MiB pages: 64 MiB, in KiB for limits.conf.
        self.assertIn(f"\n{USER} - memlock 65536\n", result.stdout)
        self.assertIn("in each process", result.stdout)
        self.assertNotIn("/dev/iommu", result.stdout)

    def test_iommufd(self):
        self.make_tree("--iommufd", f"--device={READY_DEVICE},cdev=0")
        result = self.fpgactl("-d", READY, "grant", USER, "--memlock", "1G")
        self.assert_ok(result)
        for rel in ("vfio/5", "iommu", "vfio/devices/vfio0"):
            self.assertEqual(self.node_uid(rel), self.pw.pw_uid, rel)
        self.assertIn(f"\n{USER} - memlock 1048576\n", result.stdout)
        self.assertIn("all of nobody's processes together", result.stdout)

    def test_without_memlock_says_how(self):
        self.make_tree(f"--device={READY_DEVICE}")
        result = self.fpgactl("-d", READY, "grant", USER)
        self.assert_ok(result)
        self.assertIn("give --memlock SIZE", result.stdout)
        self.assertNotIn("memlock ", result.stdout.split("give --memlock")[0])

    def test_binds_an_unbound_device(self):
        # The fake kernel does not react to the bind: the request is seen
        # in driver_override, and grant stops there (exit 1).
        self.make_tree("--device=0000:03:00.0,group=5,driver=nvme")
        result = self.fpgactl("-d", READY, "grant", USER)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(self.read(self.device_file(READY, "driver_override")).strip(),
                         "vfio-pci")
        self.assertIn("cannot bind it to vfio-pci", result.stderr)

    def test_doctor_passes_as_the_user_after_grant(self):
        self.make_tree(f"--device={READY_DEVICE}")
        # The user must reach the tree; the device file stands in for the
        # kernel's anonymous inode, which needs no permission of its own.
        os.chmod(self.tmp, 0o755)
        os.chmod(self.path(self.device_file(READY, "mock-regions")), 0o666)
        drop = as_user(self.pw.pw_uid, self.pw.pw_gid)
        before = self.fpgactl("doctor", "-d", READY, preexec=drop)
        self.assertEqual(before.returncode, 1, before.stdout)
        self.assertRegex(before.stdout, r"FAIL +0000:03:00.0 +no-access")
        self.assert_ok(self.fpgactl("-d", READY, "grant", USER))
        after = self.fpgactl("doctor", "-d", READY, preexec=drop)
        self.assertEqual(after.returncode, 0, after.stdout + after.stderr)
        self.assertRegex(after.stdout, r"ok +0000:03:00.0 +ready for VFIO")
        self.assertNotIn("FAIL", after.stdout)


TOKEN = "bd8d9d2b-5a5f-4f5a-a211-f591514ba1f3"


class SriovTest(FakeTreeCase):
    """fpgactl sriov: the fake kernel has no PF/VF pairs; sriov_numvfs is a
    file, and VFIO_DEVICE_FEATURE is ENOTTY as for a device without SR-IOV."""

    def setUp(self):
        super().setUp()
        self.make_tree(f"--device={READY_DEVICE}")
        self.write_file(self.device_file(READY, "sriov_totalvfs"), "4\n")
        self.write_file(self.device_file(READY, "sriov_numvfs"), "0\n")

    def test_argument_errors_touch_nothing(self):
        for args, message in [
                (["-d", READY, "sriov"], "missing arguments"),
                (["-d", READY, "sriov", "two"], "two"),
                (["-d", READY, "sriov", "70000"], "70000"),
                (["-d", READY, "sriov", "2", "--vf-token", "abc"], "not a UUID"),
                (["-d", READY, "sriov", "2", "--vf-token", TOKEN + "0"], "not a UUID"),
                (["-d", READY, "info", "--vf-token", "abc"], "not a UUID"),
                (["sriov", "2"], "no device given")]:
            self.assert_usage_error(args, message)

    def test_numvfs(self):
        result = self.fpgactl("-d", READY, "sriov", "3")
        self.assert_ok(result)
        self.assertEqual(self.read(self.device_file(READY, "sriov_numvfs")).strip(), "3")
        self.assertIn(f"{READY}: 3 VFs", result.stdout)
        result = self.fpgactl("-d", READY, "sriov", "5")
        self.assert_failed(result, r"5 VFs asked for, the device offers 4")
        self.assertEqual(self.read(self.device_file(READY, "sriov_numvfs")).strip(), "3")

    def test_not_a_pf(self):
        os.unlink(self.path(self.device_file(READY, "sriov_totalvfs")))
        self.assert_failed(self.fpgactl("-d", READY, "sriov", "1"),
                           r"not an SR-IOV physical function")

    def test_token_refused_by_a_device_without_sriov(self):
        result = self.fpgactl("-d", READY, "sriov", "1", "--vf-token", TOKEN)
        self.assert_failed(result, r"not an SR-IOV PF driven by vfio-pci")
        # info with a token: the kernel's EINVAL for a device neither VF nor PF.
        result = self.fpgactl("-d", READY, "info", "--vf-token", TOKEN)
        self.assert_failed(result, r"VF token is wrong, or the device is neither")


if __name__ == "__main__":
    unittest.main(verbosity=2)
