// SPDX-License-Identifier: MIT
/*
 * SR-IOV against the mocked kernel: the VF token of an open (checked before
 * anything is opened, passed to VFIO_GROUP_GET_DEVICE_FD as "BDF
 * vf_token=UUID", to VFIO_DEVICE_BIND_IOMMUFD with the token flag, read only
 * with FPGACTL_OPEN_VF_TOKEN), fpgactl_device_set_vf_token(), and
 * sriov_numvfs.  The mock has no PF/VF pairs: it answers a token as the
 * kernel does for a device that is neither (vfio_pci_validate_vf_token():
 * EINVAL), and VFIO_DEVICE_FEATURE with ENOTTY as for a device without
 * SR-IOV (vfio_pci_core_feature_token()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <linux/vfio.h>
#include <cmocka.h>

#include "fixture.h"
#include "compat/iommufd.h"

#define BDF "0000:03:00.0"
#define TOKEN "bd8d9d2b-5a5f-4f5a-a211-f591514ba1f3"

static void test_token_checked_before_open(void **state)
{
	static const char *const bad[] = {
		"bd8d9d2b5a5f4f5aa211f591514ba1f3", "bd8d9d2b-5a5f-4f5a-a211-f591514ba1f",
		"bd8d9d2b-5a5f-4f5a-a211-f591514ba1f3x", "xd8d9d2b-5a5f-4f5a-a211-f591514ba1f3",
		"bd8d9d2b-5a5f-4f5a+a211-f591514ba1f3", "", NULL };
	int err = 0;

	add_ready_device(BDF, 5, -1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fpgactl_open_opts o = { .flags = FPGACTL_OPEN_VF_TOKEN,
					       .vf_token = bad[i] };

		fixture_log_clear();
		assert_null(fpgactl_device_open(BDF, &o, &err));
		assert_int_equal(err, -EINVAL);
		assert_true(log_has("is not a UUID"));
	}
	assert_int_equal(mock_ioctl_count(VFIO_GROUP_GET_DEVICE_FD), 0);
	assert_int_equal(mock_open_fds(), 0);
}

/* Without the flag the member is not read: programs built before it. */
static void test_token_ignored_without_flag(void **state)
{
	struct fpgactl_open_opts o = { .vf_token = "not a uuid" };
	struct fpgactl_device *dev;
	int err = 0;

	add_ready_device(BDF, 5, -1);
	dev = fpgactl_device_open(BDF, &o, &err);
	assert_non_null(dev);
	fpgactl_device_close(dev);
}

/* Legacy: the name carries the token; the kernel refuses it for a device
 * that is no VF or PF (EINVAL), which the log explains. */
static void test_token_legacy(void **state)
{
	struct fpgactl_open_opts o = { .flags = FPGACTL_OPEN_VF_TOKEN,
				       .vf_token = TOKEN };
	int err = 0;

	add_ready_device(BDF, 5, -1);
	assert_null(fpgactl_device_open(BDF, &o, &err));
	assert_int_equal(err, -EINVAL);
	assert_int_equal(mock_ioctl_count(VFIO_GROUP_GET_DEVICE_FD), 1);
	assert_true(log_has("the VF token is wrong, or the device is neither"));
	assert_int_equal(mock_open_fds(), 0);
}

/* iommufd: the token goes with VFIO_DEVICE_BIND_FLAG_TOKEN, which kernels
 * before 6.17 (and the mock, like 6.12) refuse with EINVAL. */
static void test_token_iommufd(void **state)
{
	struct fpgactl_open_opts o = { .flags = FPGACTL_OPEN_VF_TOKEN,
				       .vf_token = TOKEN,
				       .backend = FPGACTL_IOMMU_IOMMUFD };
	int err = 0;

	assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_ready_device(BDF, 5, 0);
	assert_null(fpgactl_device_open(BDF, &o, &err));
	assert_int_equal(err, -EINVAL);
	assert_true(log_has("VFIO_DEVICE_BIND_FLAG_TOKEN, Linux 6.17"));
	assert_int_equal(mock_ioctl_count(VFIO_DEVICE_BIND_IOMMUFD), 1);
	assert_int_equal(mock_open_fds(), 0);
}

static void test_set_vf_token(void **state)
{
	struct fpgactl_device *dev;
	int err = 0;

	add_ready_device(BDF, 5, -1);
	dev = fpgactl_device_open(BDF, NULL, &err);
	assert_non_null(dev);
	assert_int_equal(fpgactl_device_set_vf_token(dev, "nope"), -EINVAL);
	assert_int_equal(mock_ioctl_count(VFIO_DEVICE_FEATURE), 0);
	assert_int_equal(fpgactl_device_set_vf_token(dev, TOKEN), -ENOTTY);
	assert_int_equal(mock_ioctl_count(VFIO_DEVICE_FEATURE), 1);
	assert_true(log_has("not an SR-IOV PF driven by vfio-pci"));
	fpgactl_device_close(dev);
}

static void numvfs_is(const char *want)
{
	char buf[32] = "";

	assert_true(faketree_read_file(tree, "sys/bus/pci/devices/" BDF "/sriov_numvfs",
				       buf, sizeof(buf)) >= 0);
	buf[strcspn(buf, "\n")] = '\0';
	assert_string_equal(buf, want);
}

static void test_numvfs(void **state)
{
	add_ready_device(BDF, 5, -1);
	assert_int_equal(fpgactl_pci_sriov_set_numvfs(BDF, 1), -EOPNOTSUPP);
	assert_true(log_has("not an SR-IOV physical function"));
	assert_int_equal(fpgactl_pci_sriov_set_numvfs("0000:09:00.0", 1), -ENODEV);
	assert_int_equal(faketree_write_file(tree, "sys/bus/pci/devices/" BDF
					     "/sriov_totalvfs", "4\n"), 0);
	assert_int_equal(faketree_write_file(tree, "sys/bus/pci/devices/" BDF
					     "/sriov_numvfs", "0\n"), 0);
	assert_int_equal(fpgactl_pci_sriov_set_numvfs(BDF, 5), -ERANGE);
	assert_true(log_has("5 VFs asked for, the device offers 4"));
	numvfs_is("0");
	assert_int_equal(fpgactl_pci_sriov_set_numvfs(BDF, 2), 0);
	numvfs_is("2");
	assert_int_equal(fpgactl_pci_sriov_set_numvfs(BDF, 3), 0);
	numvfs_is("3");
	assert_int_equal(fpgactl_pci_sriov_set_numvfs(BDF, 0), 0);
	numvfs_is("0");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_token_checked_before_open),
		T(test_token_ignored_without_flag),
		T(test_token_legacy),
		T(test_token_iommufd),
		T(test_set_vf_token),
		T(test_numvfs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
