# SPDX-License-Identifier: MIT
"""The rows of the VM test matrix: architecture x guest kernel x backend.

A row is data: every guest test (tests/vm/guest/*.sh) runs once per row it
applies to, as the meson test "ROW/TEST" (e.g. x86-6.12-iommufd/81-dma-test)
in suite vm, with one VM session per row (vm_one.py).  vm.py boots the
row's kernel and exports into every guest test's environment:

    FPGACTL_VM_ROW      the row's name, e.g. x86-6.12-iommufd
    FPGACTL_VM_ARCH     x86 or arm64
    FPGACTL_VM_KERNEL   6.1 or 6.12
    FPGACTL_VM_BACKEND  the backend fpgactl must end up using there:
                        legacy (VFIO container + group, type1) or iommufd
                        (/dev/iommu + the device cdev)
and the row's "env" (FPGACTL_IOMMU=legacy forces the legacy backend on a
kernel that has iommufd; without it the library's auto choice runs, and
the guest tests check what it chose: expect_backend in testlib.sh).

Fields:
    name     "ARCH-KERNEL-BACKEND", the prefix of the meson test names
    arch     guest architecture (QEMU binary, console, ...: see vm.py);
             meson registers a row only in a build for its architecture
             (arm64 rows in the aarch64 cross build, build-aarch64)
    kernel   guest kernel version, major.minor
    source   where the kernel comes from: "debian" (Debian's package,
             fetched by setup.sh, VFIO as modules), "built" (built by
             build-kernel.sh from linux-source-6.12, everything built in)
             or "debian-16k" (trixie's arm64 kernel with 16 KiB pages,
             fetched by fetch-kernel-16k.sh, VFIO as modules)
    backend  the backend expected in the guest
    env      extra environment for the guest tests
    exclude  {test: reason}: guest tests not registered for this row, with
             why they cannot apply there (docs/vm-tests.md lists them)
    only     (optional) the guest tests registered for this row, none
             other; "only_why" says why the rest are left out
    about    one line for people

To add a row, add a dict to ROWS; vm.py, vm_one.py and meson.build take
every row from here.
"""

ROWS = [
    {
        "name": "x86-6.1-legacy",
        "arch": "x86",
        "kernel": "6.1",
        "source": "debian",
        "backend": "legacy",
        "env": {},
        # The long benchmarks run in the 6.12 rows, where both backends
        # meet one kernel; here they would only repeat the legacy figures
        # on an older kernel, for 50 s of the CI budget.
        "exclude": {
            "95-bench-map": "a benchmark: the 6.12 rows give both backends' figures on one kernel",
            "97-bench-nvme": "a benchmark: the 6.12 rows give both backends' figures on one kernel",
        },
        "about": "Debian 12's kernel 6.1 (no iommufd): the legacy backend, "
                 "chosen by auto",
    },
    {
        "name": "x86-6.12-iommufd",
        "arch": "x86",
        "kernel": "6.12",
        "source": "built",
        "backend": "iommufd",
        "env": {},
        "exclude": {},
        "about": "6.12 built from Debian's linux-source-6.12 with IOMMUFD "
                 "and VFIO_DEVICE_CDEV: iommufd, chosen by auto",
    },
    {
        "name": "x86-6.12-legacy",
        "arch": "x86",
        "kernel": "6.12",
        "source": "built",
        "backend": "legacy",
        "env": {"FPGACTL_IOMMU": "legacy"},
        "exclude": {},
        "about": "the same 6.12 kernel with FPGACTL_IOMMU=legacy: the "
                 "VFIO container on a kernel that also has iommufd",
    },
]

# Guest tests of machines only x86 has (q35 topologies; vm.py's MACHINES
# and ARM64_MACHINES): not registered for arm64 rows.  The hotplug machine
# (92-94: hot-unplug, recover, unplug during a poll, reprogram) has an arm64
# layout: a pcie-root-port on virt, hot-plugged by the guest's pciehp, host
# requests over virtio-serial (vm.py's qemu_command_arm64).
_Q35_ONLY = "needs the %s machine, a q35 topology (%s) the arm64 row has no counterpart of"
ARM64_EXCLUDE = {
    "90-numa-env": _Q35_ONLY % ("numa", "pxb-pcie expander on NUMA node 1 through ACPI _PXM"),
    "91-numa-dma": _Q35_ONLY % ("numa", "pxb-pcie expander on NUMA node 1 through ACPI _PXM"),
    "98-sriov": _Q35_ONLY % ("sriov", "NVMe with SR-IOV behind a pcie-root-port; vm.py builds it for q35 only"),
    "95-bench-map": "a benchmark (bench machine); figures under TCG emulating another architecture would compare nothing",
    "96-bench-mmio": "a benchmark (bench machine); figures under TCG emulating another architecture would compare nothing",
    "97-bench-nvme": "a benchmark (bench machine); figures under TCG emulating another architecture would compare nothing",
}

ROWS.append({
    "name": "arm64-6.1-legacy",
    "arch": "arm64",
    "kernel": "6.1",
    "source": "debian",
    "backend": "legacy",
    "env": {},
    "exclude": ARM64_EXCLUDE,
    "about": "Debian 12's arm64 kernel 6.1 on QEMU's virt machine with an "
             "SMMUv3 (TCG), the aarch64 cross build's binaries: legacy, "
             "chosen by auto",
})

# 16 KiB pages (issue 12 item 3: buffers sized and aligned to the host page
# and the IOMMU's smallest page, here both 16 KiB).  Only the environment
# and DMA tests: the rest are the 6.1 row's on the same machine, and the
# README command's time budget allows one short boot (docs/vm-tests.md,
# "16 KiB pages").
ROWS.append({
    "name": "arm64-6.12-16k-legacy",
    "arch": "arm64",
    "kernel": "6.12",
    "source": "debian-16k",
    "backend": "legacy",
    "env": {},
    "exclude": {},
    "only": ["10-guest-env", "80-dma-plan", "81-dma-test", "82-dma-negative"],
    "only_why": "the page-size rules are the DMA tests'; the others run in "
                "arm64-6.1-legacy on the same machine, and this row must stay "
                "one short boot (time budget of the README test command)",
    "about": "Debian trixie's arm64 kernel 6.12 with 16 KiB pages "
             "(linux-image-*-arm64-16k) on virt with an SMMUv3 (TCG): "
             "type1 with iova_pgsizes 16 KiB | 32 MiB, legacy chosen by auto",
})

DEFAULT_ROW = "x86-6.1-legacy"


def row(name):
    """The row called @name; KeyError naming the rows when there is none."""
    for r in ROWS:
        if r["name"] == name:
            return r
    raise KeyError("no VM matrix row %r (rows: %s)"
                   % (name, ", ".join(r["name"] for r in ROWS)))


def row_tests(r, tests):
    """The guest tests of @tests (names) that run in row @r."""
    return [t for t in tests if t not in r["exclude"]
            and ("only" not in r or t in r["only"])]


def guest_env(r):
    """The variables vm.py exports to the guest tests of row @r."""
    env = {
        "FPGACTL_VM_ROW": r["name"],
        "FPGACTL_VM_ARCH": r["arch"],
        "FPGACTL_VM_KERNEL": r["kernel"],
        "FPGACTL_VM_BACKEND": r["backend"],
    }
    env.update(r["env"])
    return env
