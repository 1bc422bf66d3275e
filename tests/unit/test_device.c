// SPDX-License-Identifier: MIT
/*
 * The device layer against the mocked kernel: both IOMMU backends' open
 * sequences, every refusal a user can cause (with its message), shared
 * contexts, regions (mapped, sparse, pread fallback), config space, IRQ
 * info and resets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <cmocka.h>
#include <linux/vfio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "compat/iommufd.h"

#define BDF "0000:03:00.0"
#define BDF2 "0000:03:00.1"

static struct fpgactl_device *open_ok(const char *bdf,
				      const struct fpgactl_open_opts *opts)
{
	int err = 0;
	struct fpgactl_device *dev = fpgactl_device_open(bdf, opts, &err);

	if (!dev)
		print_message("open %s: %d\n%s", bdf, err, fixture_log());
	assert_non_null(dev);
	return dev;
}

static int open_err(const char *bdf, const struct fpgactl_open_opts *opts)
{
	int err = 0;

	assert_null(fpgactl_device_open(bdf, opts, &err));
	return err;
}

static void add_device(const char *bdf, int group, const char *driver,
		       void (*tweak)(struct fake_dev_desc *d))
{
	struct fake_dev_desc d;

	fake_dev_default(&d, bdf);
	d.group = group;
	d.driver = driver;
	if (tweak)
		tweak(&d);
	assert_int_equal(faketree_add_device(tree, &d), 0);
}

static void test_open_legacy(void **state)
{
	struct fpgactl_device_info info;
	struct fpgactl_region_info r;
	const struct fpgactl_bar *bar;
	struct fpgactl_device *dev;
	int err;

	add_ready_device(BDF, 5, -1);
	dev = open_ok("03:00.0", NULL);
	assert_string_equal(fpgactl_device_bdf(dev), BDF);
	assert_string_equal(fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)),
			    "legacy");
	assert_int_equal(fpgactl_device_get_info(dev, &info), 0);
	assert_int_equal(info.num_regions, 9);
	assert_int_equal(info.backend, FPGACTL_IOMMU_LEGACY);
	assert_true(info.flags & FPGACTL_DEV_CAN_RESET);
	assert_int_equal(fpgactl_region_get_info(dev, 0, &r), 0);
	assert_int_equal(r.size, 0x10000);
	assert_int_equal(r.flags, FPGACTL_REGION_READ | FPGACTL_REGION_WRITE |
				  FPGACTL_REGION_MMAP | FPGACTL_REGION_MAPPED);
	bar = fpgactl_device_bar(dev, 0, &err);
	assert_non_null(bar);
	assert_int_equal(bar->size, 0x10000);
	/* The sequence: one container IOMMU selection, one device fd. */
	assert_int_equal(mock_ioctl_count(VFIO_SET_IOMMU), 1);
	assert_int_equal(mock_ioctl_count(VFIO_GROUP_GET_DEVICE_FD), 1);
	assert_int_equal(mock_device_open_count(BDF), 1);
	fpgactl_device_close(dev);
	assert_int_equal(mock_device_open_count(BDF), 0);
}

static void test_open_iommufd(void **state)
{
	struct fpgactl_open_opts legacy = { .backend = FPGACTL_IOMMU_LEGACY };
	struct fpgactl_device *dev;

	assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_ready_device(BDF, 5, 0);
	/* AUTO picks iommufd where /dev/iommu and the cdev exist. */
	dev = open_ok(BDF, NULL);
	assert_string_equal(fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)),
			    "iommufd");
	assert_int_equal(mock_ioctl_count(VFIO_DEVICE_BIND_IOMMUFD), 1);
	assert_int_equal(mock_ioctl_count(VFIO_DEVICE_ATTACH_IOMMUFD_PT), 1);
	assert_int_equal(mock_ioctl_count(VFIO_GROUP_GET_DEVICE_FD), 0);
	fpgactl_device_close(dev);
	/* The legacy backend can be forced on the same machine. */
	dev = open_ok(BDF, &legacy);
	assert_string_equal(fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)),
			    "legacy");
	fpgactl_device_close(dev);
}

/* Occurrences of @needle in the library's log. */
static int log_count(const char *needle)
{
	int n = 0;

	for (const char *p = fixture_log(); (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* FPGACTL_IOMMU chooses what AUTO stands for; an explicit backend wins. */
static void test_env_backend(void **state)
{
	struct fpgactl_open_opts fd = { .backend = FPGACTL_IOMMU_IOMMUFD };
	struct fpgactl_device *dev;
	struct fpgactl_iommu *iommu;
	int err = 0;

	assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_ready_device(BDF, 5, 0);
	setenv("FPGACTL_IOMMU", "legacy", 1);
	dev = open_ok(BDF, NULL);
	assert_string_equal(fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)),
			    "legacy");
	assert_int_equal(mock_ioctl_count(VFIO_DEVICE_BIND_IOMMUFD), 0);
	fpgactl_device_close(dev);
	/* The caller's explicit choice is not overridden. */
	dev = open_ok(BDF, &fd);
	assert_string_equal(fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)),
			    "iommufd");
	fpgactl_device_close(dev);
	/* A context opened on its own follows the variable too. */
	iommu = fpgactl_iommu_open(FPGACTL_IOMMU_AUTO, &err);
	assert_non_null(iommu);
	assert_string_equal(fpgactl_iommu_backend_name(iommu), "legacy");
	fpgactl_iommu_close(iommu);
	setenv("FPGACTL_IOMMU", "auto", 1);
	dev = open_ok(BDF, NULL);
	assert_string_equal(fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)),
			    "iommufd");
	fpgactl_device_close(dev);
	unsetenv("FPGACTL_IOMMU");
}

/* FPGACTL_IOMMU=iommufd where there is no /dev/iommu: the open fails, as
 * with FPGACTL_IOMMU_IOMMUFD, instead of falling back to legacy. */
static void test_env_iommufd_missing(void **state)
{
	add_ready_device(BDF, 5, 0);
	setenv("FPGACTL_IOMMU", "iommufd", 1);
	assert_int_equal(open_err(BDF, NULL), -ENOENT);
	assert_true(log_has("CONFIG_IOMMUFD"));
	unsetenv("FPGACTL_IOMMU");
	fpgactl_device_close(open_ok(BDF, NULL));
}

/* A bad FPGACTL_IOMMU: -EINVAL and one message naming the variable and
 * its values, nothing opened. */
static void test_env_bad(void **state)
{
	int err = 0;

	add_ready_device(BDF, 5, 0);
	setenv("FPGACTL_IOMMU", "vfio", 1);
	assert_int_equal(open_err(BDF, NULL), -EINVAL);
	assert_int_equal(log_count("FPGACTL_IOMMU=vfio"), 1);
	assert_true(log_has("auto, legacy or iommufd"));
	assert_int_equal(mock_device_open_count(BDF), 0);
	fixture_log_clear();
	assert_null(fpgactl_iommu_open(FPGACTL_IOMMU_AUTO, &err));
	assert_int_equal(err, -EINVAL);
	assert_int_equal(log_count("FPGACTL_IOMMU=vfio"), 1);
	unsetenv("FPGACTL_IOMMU");
}

static void test_iommufd_without_cdev(void **state)
{
	struct fpgactl_open_opts fd = { .backend = FPGACTL_IOMMU_IOMMUFD };

	assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_ready_device(BDF, 5, -1);
	assert_int_equal(open_err(BDF, &fd), -ENOENT);
	assert_true(log_has("CONFIG_VFIO_DEVICE_CDEV"));
}

static void test_iommufd_missing(void **state)
{
	struct fpgactl_open_opts fd = { .backend = FPGACTL_IOMMU_IOMMUFD };

	add_ready_device(BDF, 5, 0);
	assert_int_equal(open_err(BDF, &fd), -ENOENT);
	assert_true(log_has("CONFIG_IOMMUFD"));
}

/*
 * The iommufd nodes that exist but cannot be opened: a permission refusal
 * says how to grant access, another error what to try; one message each,
 * naming the node.
 */
static void test_iommufd_nodes_refused(void **state)
{
	struct fpgactl_open_opts fd = { .backend = FPGACTL_IOMMU_IOMMUFD };
	static const struct {
		const char *node;
		int err;
		const char *says;
	} cases[] = {
		{ "/dev/iommu", -EACCES, "read/write access" },
		{ "/dev/iommu", -EIO, "use the legacy backend (FPGACTL_IOMMU_LEGACY) if" },
		{ "/dev/vfio/devices/vfio0", -EPERM, "read/write access" },
		{ "/dev/vfio/devices/vfio0", -EIO, "check that the device is bound to vfio-pci" },
	};

	assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_ready_device(BDF, 5, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fixture_log_clear();
		mock_fail_open(cases[i].node, -cases[i].err);
		assert_int_equal(open_err(BDF, &fd), cases[i].err);
		assert_int_equal(log_count(cases[i].says), 1);
		assert_true(log_has(cases[i].node));
		mock_fail_open(cases[i].node, 0);
	}
	fpgactl_device_close(open_ok(BDF, &fd));
}

/*
 * A second private context on a device bound through its cdev: the kernel
 * says EINVAL (vfio_df_open(): open_count != 0 && !df->group); the library
 * says busy, -EBUSY as documented, naming the holder.
 */
static void test_iommufd_busy(void **state)
{
	struct fpgactl_open_opts fd = { .backend = FPGACTL_IOMMU_IOMMUFD };
	struct fpgactl_device *dev;

	assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_ready_device(BDF, 5, 0);
	dev = open_ok(BDF, &fd);
	fixture_log_clear();
	assert_int_equal(open_err(BDF, &fd), -EBUSY);
	assert_true(log_has(BDF " is busy: it is open in this process (pid "));
	assert_false(log_has("dmesg"));
	fpgactl_device_close(dev);
	/* Closed, it opens again. */
	dev = open_ok(BDF, &fd);
	fpgactl_device_close(dev);
}

static void with_cdev0(struct fake_dev_desc *d)
{
	d->cdev_index = 0;
}

/* Devices bound to a vfio-pci variant driver are served by VFIO too. */
static void test_variant_driver(void **state)
{
	struct fpgactl_open_opts legacy = { .backend = FPGACTL_IOMMU_LEGACY };
	struct fpgactl_pci_dev d;
	struct fpgactl_device *dev;

	assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_device(BDF, 5, "mlx5_vfio_pci", with_cdev0);
	assert_int_equal(fpgactl_pci_lookup(BDF, &d), 0);
	assert_int_equal(d.vfio_state, FPGACTL_VFIO_READY);
	dev = open_ok(BDF, &legacy);
	fpgactl_device_close(dev);
	dev = open_ok(BDF, NULL);
	assert_string_equal(fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)),
			    "iommufd");
	fpgactl_device_close(dev);
}

/*
 * The kernel's own sign of a VFIO device, whatever its driver's name:
 * vfio-dev/vfioN under the PCI device (vfio_device_add(), Linux 6.1+).
 */
static void test_vfio_dev_entry(void **state)
{
	struct fpgactl_pci_dev d;

	add_device(BDF, 5, "acme_passthru", NULL);
	assert_int_equal(fpgactl_pci_lookup(BDF, &d), 0);
	assert_int_equal(d.vfio_state, FPGACTL_VFIO_NOT_BOUND);
	assert_int_equal(mkdir(faketree_path(tree, "sys/bus/pci/devices/" BDF
					     "/vfio-dev"), 0755), 0);
	assert_int_equal(mkdir(faketree_path(tree, "sys/bus/pci/devices/" BDF
					     "/vfio-dev/vfio3"), 0755), 0);
	assert_int_equal(fpgactl_pci_lookup(BDF, &d), 0);
	assert_int_not_equal(d.vfio_state, FPGACTL_VFIO_NOT_BOUND);
}

/*
 * AUTO with a device whose cdev this user may not open (a udev rule that
 * covers the group nodes only): legacy, which works.
 */
static void test_auto_cdev_denied(void **state)
{
	struct fpgactl_device *dev;

	assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_ready_device(BDF, 5, 0);
	mock_fail_open("/dev/vfio/devices/vfio0", EACCES);
	dev = open_ok(BDF, NULL);
	assert_string_equal(fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)),
			    "legacy");
	fpgactl_device_close(dev);
}

/*
 * AUTO without a device: a user who may open /dev/iommu and a cdev gets
 * iommufd, although only root may write /dev/vfio/devices itself.
 */
static void test_auto_no_device(void **state)
{
	struct fpgactl_iommu *iommu;
	int err = 0;

	assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_ready_device(BDF, 5, 0);
	mock_fail_open("/dev/vfio/devices", EACCES);
	iommu = fpgactl_iommu_open(FPGACTL_IOMMU_AUTO, &err);
	assert_non_null(iommu);
	assert_string_equal(fpgactl_iommu_backend_name(iommu), "iommufd");
	fpgactl_iommu_close(iommu);
	/* No cdev this user may open: legacy. */
	mock_fail_open("/dev/vfio/devices/vfio0", EACCES);
	iommu = fpgactl_iommu_open(FPGACTL_IOMMU_AUTO, &err);
	assert_non_null(iommu);
	assert_string_equal(fpgactl_iommu_backend_name(iommu), "legacy");
	fpgactl_iommu_close(iommu);
}

static void test_not_bound(void **state)
{
	add_device(BDF, 5, "xdma", NULL);
	assert_int_equal(open_err(BDF, NULL), -ENODEV);
	assert_true(log_has("bound to xdma"));
	assert_true(log_has("fpgactl bind " BDF));
}

static void test_no_iommu(void **state)
{
	add_device(BDF, -1, "vfio-pci", NULL);
	assert_int_equal(open_err(BDF, NULL), -ENODEV);
	assert_true(log_has("intel_iommu=on"));
}

static void test_group_not_viable(void **state)
{
	add_ready_device(BDF, 5, -1);
	add_device(BDF2, 5, "xdma", NULL);
	assert_int_equal(open_err(BDF, NULL), -EBUSY);
	assert_true(log_has("IOMMU group 5 is not viable"));
	assert_true(log_has(BDF2 " (xdma)"));
}

/*
 * Issue 12, item 26: a second private context of the same process is told
 * that this process has the group open already, not "another process".
 */
static void test_busy_in_this_process(void **state)
{
	struct fpgactl_device *dev;
	struct fpgactl_pci_holder h[2];

	add_ready_device(BDF, 5, -1);
	dev = open_ok(BDF, NULL);
	assert_int_equal(fpgactl_pci_holders(BDF, h, 2), 1);
	assert_int_equal(h[0].pid, getpid());
	fixture_log_clear();
	assert_int_equal(open_err(BDF, NULL), -EBUSY);
	assert_true(log_has("/dev/vfio/5 is busy (VFIO group): this process already has "
			    "it open, in another IOMMU context"));
	assert_false(log_has("another process"));
	/* The same context: the device is shared, not refused. */
	fpgactl_device_close(dev);
	assert_int_equal(fpgactl_pci_holders(BDF, h, 2), 0);
}

static void test_group_node_eacces(void **state)
{
	add_ready_device(BDF, 5, -1);
	mock_fail_open("/dev/vfio/5", EACCES);
	assert_int_equal(open_err(BDF, NULL), -EACCES);
	assert_true(log_has("/dev/vfio/5"));
	assert_true(log_has("permission denied; run as root"));
}

static void test_container_missing(void **state)
{
	add_ready_device(BDF, 5, -1);
	assert_int_equal(faketree_set_vfio_pci(tree, false), 0);
	assert_int_equal(open_err(BDF, NULL), -ENOENT);
	assert_true(log_has("modprobe vfio-pci"));
}

static void test_bad_address(void **state)
{
	assert_int_equal(open_err("03:00", NULL), -EINVAL);
	assert_true(log_has("is not a PCI address"));
	assert_int_equal(open_err("0000:03:00.8", NULL), -EINVAL);
	assert_int_equal(open_err(NULL, NULL), -EINVAL);
	assert_int_equal(open_err("0000:99:00.0", NULL), -ENODEV);
	assert_true(log_has("no such PCI device"));
}

static void test_shared_context(void **state)
{
	struct fpgactl_iommu *iommu;
	struct fpgactl_device *a, *b, *c;
	int err = 0;

	add_ready_device(BDF, 5, -1);
	add_ready_device(BDF2, 5, -1);
	add_ready_device("0000:04:00.0", 6, -1);
	iommu = fpgactl_iommu_open(FPGACTL_IOMMU_LEGACY, &err);
	assert_non_null(iommu);
	struct fpgactl_open_opts opts = { .iommu = iommu };

	a = open_ok(BDF, &opts);
	b = open_ok(BDF2, &opts);
	c = open_ok("0000:04:00.0", &opts);
	/* The devices keep the context alive. */
	fpgactl_iommu_close(iommu);
	assert_ptr_equal(fpgactl_device_iommu(a), fpgactl_device_iommu(c));
	/* One container: the IOMMU type is set once; group 5 joins once. */
	assert_int_equal(mock_ioctl_count(VFIO_SET_IOMMU), 1);
	assert_int_equal(mock_ioctl_count(VFIO_GROUP_SET_CONTAINER), 2);
	fpgactl_device_close(a);
	/* b still holds group 5: its device still answers. */
	uint64_t v;

	assert_int_equal(fpgactl_reg_read(b, 0, 0, 4, &v), 0);
	fpgactl_device_close(b);
	fpgactl_device_close(c);
}

static void sparse_bar2(struct fake_dev_desc *d)
{
	d->regions[2] = (struct fake_region){
		.size = 0x4000,
		.flags = FAKE_REGION_R | FAKE_REGION_W | FAKE_REGION_M,
		.nr_areas = 2,
		.areas = { { 0, 0x1000 }, { 0x3000, 0x1000 } },
	};
}

static void test_sparse_mmap(void **state)
{
	static const uint64_t offs[] = { 0x0, 0xffc, 0x2000, 0x3000, 0x3ffc };
	struct fpgactl_region_info r;
	struct fpgactl_device *dev;
	int err = 0;

	add_device(BDF, 5, "vfio-pci", sparse_bar2);
	dev = open_ok(BDF, NULL);
	assert_int_equal(fpgactl_region_get_info(dev, 2, &r), 0);
	assert_int_equal(r.nr_areas, 2);
	assert_true(r.flags & FPGACTL_REGION_SPARSE);
	assert_true(r.flags & FPGACTL_REGION_MAPPED);
	assert_null(fpgactl_device_bar(dev, 2, &err));
	assert_int_equal(err, -ENOTSUP);
	/* Inside an area through the mapping, between areas through pwrite
	 * (the PROT_NONE gap would fault if the library used the mapping). */
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint32_t in = 0xa5000000u | (uint32_t)offs[i], back;
		uint64_t v;

		assert_int_equal(fpgactl_reg_write(dev, 2, offs[i], 4, in), 0);
		assert_int_equal(faketree_read_region(tree, BDF, 2, offs[i], &back, 4), 0);
		assert_int_equal(back, in);
		assert_int_equal(fpgactl_reg_read(dev, 2, offs[i], 4, &v), 0);
		assert_int_equal(v, in);
	}
	fpgactl_device_close(dev);
}

static void no_mmap_bar0(struct fake_dev_desc *d)
{
	d->regions[0].flags = FAKE_REGION_R | FAKE_REGION_W;
}

static void test_pread_fallback(void **state)
{
	uint8_t bytes[16], want[16];
	struct fpgactl_region_info r;
	struct fpgactl_device *dev;
	uint64_t v;
	int err = 0;

	add_device(BDF, 5, "vfio-pci", no_mmap_bar0);
	dev = open_ok(BDF, NULL);
	assert_int_equal(fpgactl_region_get_info(dev, 0, &r), 0);
	assert_false(r.flags & (FPGACTL_REGION_MMAP | FPGACTL_REGION_MAPPED));
	assert_null(fpgactl_device_bar(dev, 0, &err));
	assert_int_equal(err, -ENOTSUP);
	for (unsigned int w = 1; w <= 8; w *= 2) {
		uint64_t val = 0x8877665544332211ull >> (64 - 8 * w);

		assert_int_equal(fpgactl_reg_write(dev, 0, 0x100, w, val), 0);
		assert_int_equal(fpgactl_reg_read(dev, 0, 0x100, w, &v), 0);
		assert_int_equal(v, val);
	}
	for (int i = 0; i < 16; i++)
		want[i] = (uint8_t)(0x30 + i);
	assert_int_equal(faketree_write_region(tree, BDF, 0, 0x200, want, 16), 0);
	assert_int_equal(fpgactl_region_read(dev, 0, 0x200, bytes, 16), 0);
	assert_memory_equal(bytes, want, 16);
	fpgactl_device_close(dev);
}

static void test_open_no_mmap(void **state)
{
	struct fpgactl_open_opts opts = { .flags = FPGACTL_OPEN_NO_MMAP };
	struct fpgactl_region_info r;
	struct fpgactl_device *dev;
	uint32_t back;
	uint64_t v;

	add_ready_device(BDF, 5, -1);
	dev = open_ok(BDF, &opts);
	assert_int_equal(fpgactl_region_get_info(dev, 0, &r), 0);
	assert_true(r.flags & FPGACTL_REGION_MMAP);	/* allowed... */
	assert_false(r.flags & FPGACTL_REGION_MAPPED);	/* ...but not done */
	assert_null(fpgactl_device_bar(dev, 0, NULL));
	assert_int_equal(fpgactl_reg_write(dev, 0, 0x80, 4, 0x1234abcd), 0);
	assert_int_equal(faketree_read_region(tree, BDF, 0, 0x80, &back, 4), 0);
	assert_int_equal(back, 0x1234abcd);
	assert_int_equal(fpgactl_reg_read(dev, 0, 0x80, 4, &v), 0);
	assert_int_equal(v, 0x1234abcd);
	fpgactl_device_close(dev);
}

static void test_mapped_access(void **state)
{
	struct fpgactl_device *dev;
	const struct fpgactl_bar *bar;
	uint32_t back;

	add_ready_device(BDF, 5, -1);
	dev = open_ok(BDF, NULL);
	bar = fpgactl_device_bar(dev, 0, NULL);
	assert_non_null(bar);
	fpgactl_mmio_write32(bar, 0x40, 0xdeadbeef);
	assert_int_equal(faketree_read_region(tree, BDF, 0, 0x40, &back, 4), 0);
	assert_int_equal(back, 0xdeadbeef);
	assert_int_equal(fpgactl_mmio_read32(bar, 0x40), 0xdeadbeef);
	fpgactl_mmio_write64(bar, 0x48, 0x0123456789abcdefull);
	assert_int_equal(fpgactl_mmio_read64(bar, 0x48), 0x0123456789abcdefull);
	fpgactl_device_close(dev);
}

static void test_reg_bounds(void **state)
{
	struct fpgactl_device *dev;
	uint64_t v;
	uint8_t buf[8];

	add_ready_device(BDF, 5, -1);
	dev = open_ok(BDF, NULL);
	assert_int_equal(fpgactl_reg_read(dev, 0, 0xfffc, 4, &v), 0);
	assert_int_equal(fpgactl_reg_read(dev, 0, 0x10000, 4, &v), -ERANGE);
	assert_int_equal(fpgactl_reg_read(dev, 0, 0xfff8, 16, &v), -EINVAL);
	assert_int_equal(fpgactl_reg_read(dev, 0, UINT64_MAX - 3, 4, &v), -ERANGE);
	assert_int_equal(fpgactl_reg_read(dev, 0, 0x2, 4, &v), -EINVAL);
	assert_true(log_has("not aligned to 4 bytes"));
	assert_int_equal(fpgactl_reg_read(dev, 0, 0x0, 3, &v), -EINVAL);
	assert_int_equal(fpgactl_reg_write(dev, 0, 0x0, 2, 0x10000), -EINVAL);
	assert_true(log_has("does not fit in 2 bytes"));
	assert_int_equal(fpgactl_reg_read(dev, 6, 0x0, 4, &v), -EINVAL);
	assert_int_equal(fpgactl_reg_read(dev, 1, 0x0, 4, &v), -EINVAL);
	assert_true(log_has("BAR1 is not implemented"));
	assert_int_equal(fpgactl_region_read(dev, 0, 0xfffc, buf, 8), -ERANGE);
	assert_int_equal(fpgactl_region_read(dev, 9, 0, buf, 1), -EINVAL);
	assert_int_equal(fpgactl_config_read(dev, 4094, buf, 4), -ERANGE);
	/* Nothing was written by the refused calls. */
	assert_int_equal(faketree_read_region(tree, BDF, 0, 0, buf, 8), 0);
	assert_int_equal(buf[0] | buf[1] | buf[2] | buf[3], 0);
	fpgactl_device_close(dev);
}

/*
 * A child of fork() does not inherit the BAR mappings (MADV_DONTFORK):
 * mincore() in the child finds nothing mapped at the BAR's address.
 */
static void test_bar_not_inherited(void **state)
{
	unsigned char vec[1];
	const struct fpgactl_bar *bar;
	struct fpgactl_device *dev;
	int err, status;
	uint64_t v;
	pid_t pid;

	add_ready_device(BDF, 5, -1);
	dev = open_ok(BDF, NULL);
	bar = fpgactl_device_bar(dev, 0, &err);
	assert_non_null(bar);
	assert_int_equal(mincore((void *)bar->base, 4096, vec), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(mincore((void *)bar->base, 4096, vec) < 0 && errno == ENOMEM ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status))
		fail_msg("the child of fork() inherited BAR0's mapping at %p",
			 (void *)bar->base);
	/* The parent's mapping is untouched. */
	assert_int_equal(fpgactl_reg_read(dev, 0, 0, 4, &v), 0);
	fpgactl_device_close(dev);
}

/*
 * Access widths of fpgactl_region_read/write(): the same on both paths,
 * naturally aligned, never more than 4 bytes.
 */
static const struct { uint64_t offset; size_t len; } widths_expected[] = {
	{ 0x1, 1 }, { 0x2, 2 }, { 0x4, 4 }, { 0x8, 4 }, { 0xc, 4 }, { 0x10, 2 },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The device accesses logged by the mock from the @from-th on, into @out. */
static size_t rw_since(size_t from, struct mock_rw *out, size_t max)
{
	static struct mock_rw all[256];
	size_t n = mock_device_rw_log(all, ARRAY_LEN(all));

	assert_true(n <= ARRAY_LEN(all));
	for (size_t i = from; i < n && i - from < max; i++)
		out[i - from] = all[i];
	return n - from;
}

/* Through pread/pwrite: the mock logs each access that reaches the device. */
static void test_region_widths_pread(void **state)
{
	struct fpgactl_open_opts opts = { .flags = FPGACTL_OPEN_NO_MMAP };
	struct fpgactl_device *dev;
	struct mock_rw log[16];
	uint8_t buf[17];
	size_t n, n0;

	add_ready_device(BDF, 5, -1);
	dev = open_ok(BDF, &opts);
	n0 = mock_device_rw_log(NULL, 0);
	assert_int_equal(fpgactl_region_read(dev, 0, 0x1, buf, sizeof(buf)), 0);
	n = rw_since(n0, log, 16);
	assert_int_equal(n, ARRAY_LEN(widths_expected));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(log[i].index, 0);
		assert_false(log[i].write);
		assert_int_equal(log[i].offset, widths_expected[i].offset);
		assert_int_equal(log[i].len, widths_expected[i].len);
	}
	/* One register access of width 8 stays one access. */
	n0 = mock_device_rw_log(NULL, 0);
	assert_int_equal(fpgactl_reg_write(dev, 0, 0x18, 8, 1), 0);
	assert_int_equal(rw_since(n0, log, 16), 1);
	assert_int_equal(log[0].len, 8);
	assert_true(log[0].write);
	fpgactl_device_close(dev);
}

#if defined(__x86_64__)
/*
 * Through the mapping: the BAR's page is made PROT_NONE, so that each
 * access faults; the SIGSEGV handler records the address, opens the page
 * and single-steps the access (EFLAGS.TF), the SIGTRAP handler closes the
 * page again.  Consecutive accesses show up as consecutive addresses.
 */
#include <signal.h>
#include <ucontext.h>

static volatile uint8_t *trap_page;
static uintptr_t trap_addrs[32];
static volatile size_t trap_count;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *ctx = uc;

	(void)sig;
	if (trap_count < ARRAY_LEN(trap_addrs))
		trap_addrs[trap_count] = (uintptr_t)si->si_addr;
	trap_count++;
	mprotect((void *)trap_page, 4096, PROT_READ | PROT_WRITE);
	ctx->uc_mcontext.gregs[REG_EFL] |= 0x100;	/* TF */
}

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *ctx = uc;

	(void)sig;
	(void)si;
	mprotect((void *)trap_page, 4096, PROT_NONE);
	ctx->uc_mcontext.gregs[REG_EFL] &= ~0x100;
}

static void test_region_widths_mapped(void **state)
{
	struct sigaction segv = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	struct sigaction trap = { .sa_sigaction = on_trap, .sa_flags = SA_SIGINFO };
	struct sigaction old_segv, old_trap;
	const struct fpgactl_bar *bar;
	struct fpgactl_device *dev;
	uint8_t buf[17];
	int err;

	add_ready_device(BDF, 5, -1);
	dev = open_ok(BDF, NULL);
	bar = fpgactl_device_bar(dev, 0, &err);
	assert_non_null(bar);
	trap_page = bar->base;
	trap_count = 0;
	assert_int_equal(sigaction(SIGSEGV, &segv, &old_segv), 0);
	assert_int_equal(sigaction(SIGTRAP, &trap, &old_trap), 0);
	assert_int_equal(mprotect((void *)trap_page, 4096, PROT_NONE), 0);
	err = fpgactl_region_read(dev, 0, 0x1, buf, sizeof(buf));
	mprotect((void *)trap_page, 4096, PROT_READ | PROT_WRITE);
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGTRAP, &old_trap, NULL);
	assert_int_equal(err, 0);
	assert_int_equal(trap_count, ARRAY_LEN(widths_expected));
	for (size_t i = 0; i < trap_count; i++)
		assert_int_equal(trap_addrs[i] - (uintptr_t)bar->base,
				 widths_expected[i].offset);
	fpgactl_device_close(dev);
}
#else
static void test_region_widths_mapped(void **state)
{
	skip();	/* the single-step trap is written for x86-64 */
}
#endif

static void test_all_ones_and_removal(void **state)
{
	static const uint32_t ones = 0xffffffffu;
	struct fpgactl_device *dev;
	uint8_t gone[64];
	uint16_t vendor;
	uint64_t v;

	memset(gone, 0xff, sizeof(gone));
	add_ready_device(BDF, 5, -1);
	dev = open_ok(BDF, NULL);
	assert_int_equal(faketree_write_region(tree, BDF, 0, 0x10, &ones, 4), 0);
	/* All ones but the device answers: a real register value. */
	assert_int_equal(fpgactl_reg_check(dev, 0, 0x10, 4, &v), 0);
	assert_int_equal(v, 0xffffffffu);
	assert_int_equal(fpgactl_device_removed(dev), 0);
	/*
	 * The device is gone: config space reads all ones, except what
	 * vfio-pci virtualizes (vendor and device id, from its copy taken at
	 * open), which must not hide the removal.
	 */
	assert_int_equal(faketree_write_region(tree, BDF, 7, 0, gone, sizeof(gone)), 0);
	assert_int_equal(fpgactl_config_read(dev, 0, &vendor, 2), 0);
	assert_int_equal(vendor, 0x10ee);
	assert_int_equal(fpgactl_device_removed(dev), 1);
	assert_int_equal(fpgactl_reg_check(dev, 0, 0x10, 4, &v), -ENODEV);
	assert_int_equal(fpgactl_reg_poll(dev, 0, 0x10, 4, 1, 0, 10000000, &v),
			 -ENODEV);
	assert_true(log_has("surprise removal"));
	assert_true(fpgactl_is_all_ones(0xff, 1));
	assert_false(fpgactl_is_all_ones(0xff, 2));
	assert_true(fpgactl_is_all_ones(UINT64_MAX, 8));
	fpgactl_device_close(dev);
}

static void test_poll(void **state)
{
	static const uint32_t busy = 1, done = 0x80;
	struct fpgactl_device *dev;
	uint64_t last = 0;

	add_ready_device(BDF, 5, -1);
	dev = open_ok(BDF, NULL);
	assert_int_equal(faketree_write_region(tree, BDF, 0, 0x20, &busy, 4), 0);
	assert_int_equal(fpgactl_reg_poll(dev, 0, 0x20, 4, 0x81, 0x80, 2000, &last),
			 -ETIMEDOUT);
	assert_int_equal(last, 1);
	assert_int_equal(faketree_write_region(tree, BDF, 0, 0x20, &done, 4), 0);
	assert_int_equal(fpgactl_reg_poll(dev, 0, 0x20, 4, 0x81, 0x80, 2000, &last), 0);
	assert_int_equal(last, 0x80);
	fpgactl_device_close(dev);
}

static void no_flr(struct fake_dev_desc *d)
{
	d->can_reset = false;
}

static void no_reset_at_all(struct fake_dev_desc *d)
{
	d->can_reset = false;
	d->can_bus_reset = false;
}

static void test_reset_flr(void **state)
{
	struct fpgactl_open_opts opts = { .flags = FPGACTL_OPEN_RESET };
	struct fpgactl_device *dev;

	add_ready_device(BDF, 5, -1);
	dev = open_ok(BDF, &opts);
	assert_int_equal(mock_reset_count(BDF), 1);
	assert_int_equal(fpgactl_device_reset(dev), 0);
	assert_int_equal(mock_reset_count(BDF), 2);
	assert_int_equal(mock_hot_reset_count(BDF), 0);
	fpgactl_device_close(dev);
}

static void test_reset_falls_back_to_bus(void **state)
{
	struct fpgactl_device_info info;
	struct fpgactl_device *a, *b;
	struct fpgactl_iommu *iommu;

	/* Two functions on bus 03 in two groups; no FLR. */
	add_device(BDF, 5, "vfio-pci", no_flr);
	add_device(BDF2, 6, "vfio-pci", no_flr);
	a = open_ok(BDF, NULL);
	assert_int_equal(fpgactl_device_get_info(a, &info), 0);
	assert_false(info.flags & FPGACTL_DEV_CAN_RESET);
	assert_true(info.flags & FPGACTL_DEV_CAN_HOT_RESET);
	/* The sibling is not ours: refused, and named. */
	assert_int_equal(fpgactl_device_reset(a), -EPERM);
	assert_true(log_has("also resets " BDF2));
	assert_int_equal(mock_hot_reset_count(BDF), 0);
	/* With the sibling in the same context the bus reset goes through. */
	iommu = fpgactl_device_iommu(a);
	struct fpgactl_open_opts opts = { .iommu = iommu };

	b = open_ok(BDF2, &opts);
	assert_int_equal(fpgactl_device_reset(a), 0);
	assert_int_equal(mock_hot_reset_count(BDF), 1);
	assert_int_equal(mock_hot_reset_count(BDF2), 1);
	fpgactl_device_close(b);
	fpgactl_device_close(a);
}

static void no_flr_cdev0(struct fake_dev_desc *d)
{
	d->can_reset = false;
	d->cdev_index = 0;
}

static void no_flr_cdev1(struct fake_dev_desc *d)
{
	d->can_reset = false;
	d->cdev_index = 1;
}

static void test_reset_iommufd_bus(void **state)
{
	struct fpgactl_device *a, *b;

	assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_device(BDF, 5, "vfio-pci", no_flr_cdev0);
	add_device(BDF2, 6, "vfio-pci", no_flr_cdev1);
	a = open_ok(BDF, NULL);
	assert_string_equal(fpgactl_iommu_backend_name(fpgactl_device_iommu(a)),
			    "iommufd");
	assert_int_equal(fpgactl_device_reset(a), -EPERM);
	assert_true(log_has("also resets " BDF2));
	struct fpgactl_open_opts opts = { .iommu = fpgactl_device_iommu(a) };

	b = open_ok(BDF2, &opts);
	assert_int_equal(fpgactl_device_reset(a), 0);
	assert_int_equal(mock_hot_reset_count(BDF), 1);
	assert_int_equal(mock_hot_reset_count(BDF2), 1);
	fpgactl_device_close(b);
	fpgactl_device_close(a);
}

static void test_no_reset(void **state)
{
	struct fpgactl_device *dev;

	add_device(BDF, 5, "vfio-pci", no_reset_at_all);
	dev = open_ok(BDF, NULL);
	assert_int_equal(fpgactl_device_reset(dev), -ENOTTY);
	assert_true(log_has("no bus reset is possible"));
	fpgactl_device_close(dev);
}

static void test_bus_master(void **state)
{
	struct fpgactl_device *dev;
	uint16_t cmd;

	add_ready_device(BDF, 5, -1);
	dev = open_ok(BDF, NULL);
	assert_int_equal(fpgactl_set_bus_master(dev, true), 0);
	assert_int_equal(faketree_read_region(tree, BDF, 7, 4, &cmd, 2), 0);
	assert_int_equal(cmd & 0x4, 0x4);
	assert_int_equal(fpgactl_set_bus_master(dev, false), 0);
	assert_int_equal(faketree_read_region(tree, BDF, 7, 4, &cmd, 2), 0);
	assert_int_equal(cmd & 0x4, 0);
	fpgactl_device_close(dev);
}

static void test_irq_info(void **state)
{
	static const uint32_t want[] = { 1, 1, 8, 1, 1 };
	struct fpgactl_irq_info irq;
	struct fpgactl_device *dev;

	add_ready_device(BDF, 5, -1);
	dev = open_ok(BDF, NULL);
	for (uint32_t i = 0; i < 5; i++) {
		assert_int_equal(fpgactl_irq_get_info(dev, i, &irq), 0);
		assert_int_equal(irq.count, want[i]);
	}
	assert_int_equal(fpgactl_irq_get_info(dev, 5, &irq), -EINVAL);
	fpgactl_device_close(dev);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_legacy),
		T(test_busy_in_this_process),
		T(test_open_iommufd),
		T(test_env_backend),
		T(test_env_iommufd_missing),
		T(test_env_bad),
		T(test_iommufd_without_cdev),
		T(test_iommufd_missing),
		T(test_iommufd_nodes_refused),
		T(test_iommufd_busy),
		T(test_variant_driver),
		T(test_auto_cdev_denied),
		T(test_auto_no_device),
		T(test_vfio_dev_entry),
		T(test_not_bound),
		T(test_no_iommu),
		T(test_group_not_viable),
		T(test_group_node_eacces),
		T(test_container_missing),
		T(test_bad_address),
		T(test_shared_context),
		T(test_sparse_mmap),
		T(test_pread_fallback),
		T(test_open_no_mmap),
		T(test_mapped_access),
		T(test_reg_bounds),
		T(test_all_ones_and_removal),
		T(test_bar_not_inherited),
		T(test_region_widths_pread),
		T(test_region_widths_mapped),
		T(test_poll),
		T(test_reset_flr),
		T(test_reset_falls_back_to_bus),
		T(test_reset_iommufd_bus),
		T(test_no_reset),
		T(test_bus_master),
		T(test_irq_info),
	};

	/* QEMU 7.2's user mode does not pass madvise(MADV_DONTFORK) on to the
	 * kernel (it answers 0 and does nothing), so a child inherits the
	 * mapping there; the kernel's behaviour is checked natively. */
	static const char *const emulated_no[] = { "test_bar_not_inherited", NULL };

	return fixture_run("test_device", tests, sizeof(tests) / sizeof(tests[0]),
			   emulated_no);
}
