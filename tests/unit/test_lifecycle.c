// SPDX-License-Identifier: MIT
/*
 * fpgactl_device_reprogram() / fpgactl_device_recover() against the mocked
 * kernel: the order of the steps, and the rollback of every failure path
 * (the bridge's AER registers read back as saved, the handle reopened or
 * left without a device, never half-open).
 *
 * The fake sysfs does not react to writes, so the bus-changing writes go
 * through the lc_kernel seam (lib/vfio/lifecycle_priv.h) to a model here:
 * remove takes the device's directory and bus link away, as
 * drivers/pci/pci-sysfs.c remove_store() -> pci_stop_and_remove_bus_device()
 * does; a rescan (pci_rescan_bus()) brings back what the test "plugged"
 * into the slot.  The bridge 0000:00:1c.0 is a directory with a config file
 * (4 KiB, AER at 0x100); the endpoint's bus directory pci0000:03 is a link
 * to it, so that the endpoint's sysfs path is .../0000:00:1c.0/0000:03:00.0
 * as below a real root port.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "core/core.h"
#include "pci/pci.h"
#include "iommu/iommu.h"
#include "vfio/vfio.h"
#include "vfio/lifecycle_priv.h"

#define BRIDGE "0000:00:1c.0"
#define EP "0000:03:00.0"
#define AER 0x100
#define MASK0 0x00400000u	/* a bit the reload must not touch */
#define SEV0 0x00462030u	/* surprise down (bit 5) fatal, as by default */
#define DPC 0x140
#define DPC_CTL0 0x0041u	/* trigger on fatal errors, and an interrupt enable */

static const struct fpgactl_dma_opts small = {
	.page_size = FPGACTL_PAGE_4K,
	.flags = FPGACTL_DMA_ALLOW_SMALL_PAGES,
};

enum plug { PLUG_NONE, PLUG_SAME, PLUG_OTHER_IDS, PLUG_NO_BAR0 };

static struct {
	enum plug plug;		/* what a rescan finds in the slot */
	int program_ret;
	int remove_ret;
	int reset_ret;
	unsigned int removes, rescans, resets, programs;
	uint32_t mid_mask, mid_sev;	/* the bridge during the programming step */
	uint16_t mid_dpc;
	char parked[8][FPGACTL_BDF_LEN];	/* removed functions, in order */
	unsigned int nr_parked;
} k;

static void cfg_rw(uint32_t off, void *buf, size_t len, bool write)
{
	int fd = open(faketree_path(tree, "sys/devices/" BRIDGE "/config"), O_RDWR);

	assert_true(fd >= 0);
	if (write)
		assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
	else
		assert_int_equal(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

static uint32_t cfg32(uint32_t off)
{
	uint32_t v;

	cfg_rw(off, &v, 4, false);
	return v;
}

static void park(const char *bdf, bool out)
{
	char rel[128], dir[512], parked[512], link[512], target[128];

	snprintf(rel, sizeof(rel), "sys/devices/" BRIDGE "/%s", bdf);
	snprintf(dir, sizeof(dir), "%s", faketree_path(tree, rel));
	snprintf(rel, sizeof(rel), "parked-%s", bdf);
	snprintf(parked, sizeof(parked), "%s", faketree_path(tree, rel));
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", bdf);
	snprintf(link, sizeof(link), "%s", faketree_path(tree, rel));
	snprintf(target, sizeof(target), "../../../devices/pci0000:03/%s", bdf);
	if (out) {
		assert_int_equal(rename(dir, parked), 0);
		assert_int_equal(unlink(link), 0);
	} else {
		assert_int_equal(rename(parked, dir), 0);
		assert_int_equal(symlink(target, link), 0);
	}
}

/* remove_store(): the function leaves sysfs at once. */
static int model_remove(const char *bdf)
{
	k.removes++;
	if (k.remove_ret)
		return k.remove_ret;
	assert_true(k.nr_parked < 8);
	park(bdf, true);
	snprintf(k.parked[k.nr_parked++], FPGACTL_BDF_LEN, "%s", bdf);
	return 0;
}

static void unpark_all(void)
{
	while (k.nr_parked)
		park(k.parked[--k.nr_parked], false);
}

/* pci_rescan_bus(): what is in the slot appears, with what it reports. */
static int model_rescan(const char *bridge)
{
	k.rescans++;
	assert_string_equal(bridge, BRIDGE);
	if (!k.nr_parked || k.plug == PLUG_NONE)
		return 0;
	unpark_all();
	if (k.plug == PLUG_OTHER_IDS) {
		faketree_write_file(tree, "sys/bus/pci/devices/" EP "/vendor", "0x1b36\n");
		faketree_write_file(tree, "sys/bus/pci/devices/" EP "/device", "0x0005\n");
	} else if (k.plug == PLUG_NO_BAR0) {
		/* __assign_resources_sorted() failing: reset_resource(). */
		faketree_write_file(tree, "sys/bus/pci/devices/" EP "/resource",
				    "0x0 0x0 0x0\n");
	}
	return 0;
}

static int model_bus_reset(const char *bridge)
{
	assert_string_equal(bridge, BRIDGE);
	k.resets++;
	return k.reset_ret;
}

static const struct lc_kernel_ops model_ops = {
	.remove = model_remove,
	.rescan = model_rescan,
	.bus_reset = model_bus_reset,
};

static int program(void *arg)
{
	(void)arg;
	k.programs++;
	k.mid_mask = cfg32(AER + AER_UNCOR_MASK);
	k.mid_sev = cfg32(AER + AER_UNCOR_SEVER);
	k.mid_dpc = (uint16_t)cfg32(DPC + DPC_CTL);
	return k.program_ret;
}

static void make_bridge(void)
{
	char path[512];
	uint8_t cfg[4096] = { 0 };
	FILE *f;

	snprintf(path, sizeof(path), "%s", faketree_path(tree, "sys/devices/" BRIDGE));
	assert_int_equal(mkdir(path, 0755), 0);
	cfg[0x0e] = 1;	/* type 1 header */
	/* AER, version 1, next DPC; DPC, version 1, last capability. */
	memcpy(cfg + AER, &(uint32_t){ 0x00010001 | (DPC << 20) }, 4);
	memcpy(cfg + DPC, &(uint32_t){ 0x0001001d }, 4);
	memcpy(cfg + DPC + DPC_CTL, &(uint16_t){ DPC_CTL0 }, 2);
	memcpy(cfg + AER + AER_UNCOR_MASK, &(uint32_t){ MASK0 }, 4);
	memcpy(cfg + AER + AER_UNCOR_SEVER, &(uint32_t){ SEV0 }, 4);
	f = fopen(faketree_path(tree, "sys/devices/" BRIDGE "/config"), "w");
	assert_non_null(f);
	assert_int_equal(fwrite(cfg, 1, sizeof(cfg), f), sizeof(cfg));
	fclose(f);
	assert_int_equal(symlink("../../../devices/" BRIDGE,
				 faketree_path(tree, "sys/bus/pci/devices/" BRIDGE)), 0);
	assert_int_equal(symlink(BRIDGE, faketree_path(tree, "sys/devices/pci0000:03")), 0);
	/* The bridge's secondary bus, which stays when the endpoint leaves. */
	snprintf(path, sizeof(path), "%s", faketree_path(tree, "sys/class/pci_bus/0000:03"));
	assert_int_equal(mkdir(faketree_path(tree, "sys/class"), 0755), 0);
	assert_int_equal(mkdir(faketree_path(tree, "sys/class/pci_bus"), 0755), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(symlink("../../../devices/" BRIDGE,
				 faketree_path(tree, "sys/class/pci_bus/0000:03/device")), 0);
}

static int setup(void **state)
{
	fixture_setup(state);
	memset(&k, 0, sizeof(k));
	k.plug = PLUG_SAME;
	lc_kernel = &model_ops;
	make_bridge();
	add_ready_device(EP, 5, -1);
	return 0;
}

static int teardown(void **state)
{
	lc_kernel = &lc_kernel_sysfs;
	unpark_all();
	return fixture_teardown(state);
}

static struct fpgactl_device *open_ep(void)
{
	int err = 0;
	struct fpgactl_device *dev = fpgactl_device_open(EP, NULL, &err);

	assert_non_null(dev);
	return dev;
}

static struct fpgactl_lc_opts opts(void)
{
	return (struct fpgactl_lc_opts){ .program = program, .timeout_ms = 300 };
}

/* The bridge reads back as it was, and was masked during the program. */
static void assert_restored(void)
{
	assert_int_equal(cfg32(AER + AER_UNCOR_MASK), MASK0);
	assert_int_equal(cfg32(AER + AER_UNCOR_SEVER), SEV0);
	assert_int_equal((uint16_t)cfg32(DPC + DPC_CTL), DPC_CTL0);
}

static void assert_masked_mid_reload(void)
{
	assert_int_equal(k.mid_mask, MASK0 | AER_SURPRISE_DOWN);
	assert_int_equal(k.mid_sev, SEV0 & ~AER_SURPRISE_DOWN);
	assert_int_equal(k.mid_dpc, DPC_CTL0 & ~DPC_CTL_TRIGGER_MASK);
}

static void assert_usable(struct fpgactl_device *dev)
{
	uint32_t id;

	assert_true(dev->fd >= 0);
	assert_int_equal(fpgactl_config_read(dev, 0, &id, 4), 0);
	assert_int_equal(id, 0x903810ee);
}

static void test_same_device_keeps_iova(void **state)
{
	struct fpgactl_device *dev = open_ep();
	struct fpgactl_lc_opts o = opts();
	struct fpgactl_lc_result r;
	struct mock_dma_mapping m[4];
	struct fpgactl_dma_buf *buf;
	int err;

	(void)state;
	buf = fpgactl_dma_alloc(dev, 4096, &small, &err);
	assert_non_null(buf);
	assert_int_equal(fpgactl_device_reprogram(dev, &o, &r), 0);
	assert_int_equal(r.failed_step, FPGACTL_LC_NONE);
	assert_string_equal(r.bridge, BRIDGE);
	assert_true(r.aer_masked);
	assert_true(r.dpc_disabled);
	assert_true(r.masks_restored);
	assert_false(r.ids_changed);
	assert_false(r.bars_changed);
	assert_int_equal(r.old_bar_size[0], 0x10000);
	assert_int_equal(k.removes, 1);
	assert_int_equal(k.programs, 1);
	assert_int_equal(k.resets, 1);
	assert_int_equal(r.functions, 1);
	assert_masked_mid_reload();
	assert_restored();
	assert_usable(dev);
	/* The buffer is mapped at the same IOVA in the reopened context. */
	assert_int_equal(mock_mappings(m, 4), 1);
	assert_int_equal(m[0].iova, buf->iova);
	assert_int_equal(m[0].vaddr, (uintptr_t)buf->vaddr);
	fpgactl_dma_free(buf);
	fpgactl_device_close(dev);
}

/* iommufd: the IOAS keeps its mappings while no device is attached. */
static void test_same_device_iommufd(void **state)
{
	const struct fpgactl_open_opts oo = { .backend = FPGACTL_IOMMU_IOMMUFD };
	struct fpgactl_lc_opts o = opts();
	struct fpgactl_lc_result r;
	struct mock_dma_mapping m[4];
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *buf;
	int err = 0;

	(void)state;
	assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_ready_device("0000:03:00.1", 6, 1);
	dev = fpgactl_device_open("0000:03:00.1", &oo, &err);
	assert_non_null(dev);
	assert_string_equal(fpgactl_iommu_backend_name(dev->iommu), "iommufd");
	buf = fpgactl_dma_alloc(dev, 4096, &small, &err);
	assert_non_null(buf);
	/* Function 1 of the slot: both functions leave and come back. */
	k.plug = PLUG_SAME;
	assert_int_equal(fpgactl_device_reprogram(dev, &o, &r), 0);
	assert_int_equal(r.functions, 2);
	assert_restored();
	assert_true(dev->fd >= 0);
	assert_int_equal(mock_mappings(m, 4), 1);
	assert_true(m[0].iommufd);
	assert_int_equal(m[0].iova, buf->iova);
	fpgactl_dma_free(buf);
	fpgactl_device_close(dev);
}

/*
 * Another function of the slot open elsewhere (its group file held, as by
 * another process: drivers/vfio/group.c, vfio_group_fops_open() refuses a
 * second open with EBUSY): refused before anything is touched, because
 * vfio-pci's remove of that function would wait for its user forever.
 */
static void test_other_function_in_use(void **state)
{
	struct fpgactl_lc_opts o = opts();
	struct fpgactl_lc_result r;
	struct fpgactl_device *dev;
	int err = 0, held;

	(void)state;
	add_ready_device("0000:03:00.1", 6, -1);
	held = open(faketree_path(tree, "dev/vfio/5"), O_RDWR);
	assert_true(held >= 0);
	dev = fpgactl_device_open("0000:03:00.1", NULL, &err);
	assert_non_null(dev);
	assert_int_equal(fpgactl_device_reprogram(dev, &o, &r), -EBUSY);
	assert_int_equal(r.failed_step, FPGACTL_LC_PREPARE);
	assert_true(log_has("prepare: function 0000:03:00.0 of the same slot is in use "
			    "by another process"));
	assert_int_equal(k.removes + k.programs, 0);
	assert_restored();
	assert_true(dev->fd >= 0);
	fpgactl_device_close(dev);
	close(held);
}

static void test_program_failure_rolls_back(void **state)
{
	struct fpgactl_device *dev = open_ep();
	struct fpgactl_lc_opts o = opts();
	struct fpgactl_lc_result r;

	(void)state;
	k.program_ret = -EIO;
	assert_int_equal(fpgactl_device_reprogram(dev, &o, &r), -EIO);
	assert_int_equal(r.failed_step, FPGACTL_LC_PROGRAM);
	assert_true(log_has(EP ": program: the programming step failed"));
	assert_int_equal(k.resets, 0);
	assert_masked_mid_reload();
	assert_restored();
	assert_true(r.masks_restored);
	/* The old image answered the rescan: reopened. */
	assert_usable(dev);
	fpgactl_device_close(dev);
}

static void test_never_back_then_recover(void **state)
{
	struct fpgactl_device *dev = open_ep();
	struct fpgactl_lc_opts o = opts();
	struct fpgactl_lc_result r;
	uint32_t id;

	(void)state;
	k.plug = PLUG_NONE;
	assert_int_equal(fpgactl_device_reprogram(dev, &o, &r), -ETIMEDOUT);
	assert_int_equal(r.failed_step, FPGACTL_LC_RESCAN);
	assert_true(log_has("rescan: the device did not come back within 300 ms"));
	assert_true(k.rescans >= 2);
	assert_restored();
	assert_true(r.masks_restored);
	/* A handle without a device: accesses fail, nothing is open. */
	assert_int_equal(dev->fd, -1);
	assert_int_not_equal(fpgactl_config_read(dev, 0, &id, 4), 0);
	assert_int_equal(mock_device_open_count(EP), 0);
	/* The device is plugged in again: recover (as root, it rescans)
	 * reopens it. */
	if (geteuid()) {
		fpgactl_device_close(dev);
		skip();
	}
	k.plug = PLUG_SAME;
	o.program = NULL;
	assert_int_equal(fpgactl_device_recover(dev, &o, &r), 0);
	assert_int_equal(r.failed_step, FPGACTL_LC_NONE);
	assert_usable(dev);
	fpgactl_device_close(dev);
}

/*
 * A device lost while open (the application saw -ENODEV) comes back as
 * another one: recover knows the old ids from the handle and refuses it.
 */
static void test_recover_refuses_another_device(void **state)
{
	struct fpgactl_device *dev = open_ep();
	struct fpgactl_lc_opts o = { .timeout_ms = 300 };
	struct fpgactl_lc_result r;

	(void)state;
	if (geteuid())
		skip();	/* recover rescans only as root: this model needs it */
	/* The kernel's removal, then the slot re-populated by a rescan. */
	model_remove(EP);
	k.plug = PLUG_OTHER_IDS;
	assert_int_equal(fpgactl_device_recover(dev, &o, &r), -ENODEV);
	assert_int_equal(r.failed_step, FPGACTL_LC_CHECK);
	assert_int_equal(r.old_vendor, 0x10ee);
	assert_true(log_has("check: came back as 1b36:0005, expected 10ee:9038"));
	assert_int_equal(dev->fd, -1);
	fpgactl_device_close(dev);
}

static void test_other_ids_refused_unless_expected(void **state)
{
	struct fpgactl_device *dev = open_ep();
	struct fpgactl_lc_opts o = opts();
	struct fpgactl_lc_result r;

	(void)state;
	k.plug = PLUG_OTHER_IDS;
	assert_int_equal(fpgactl_device_reprogram(dev, &o, &r), -ENODEV);
	assert_int_equal(r.failed_step, FPGACTL_LC_CHECK);
	assert_true(r.ids_changed);
	assert_true(log_has("check: came back as 1b36:0005, expected 10ee:9038"));
	assert_restored();
	assert_int_equal(dev->fd, -1);
	fpgactl_device_close(dev);
}

static void test_other_ids_expected(void **state)
{
	struct fpgactl_device *dev = open_ep();
	struct fpgactl_lc_opts o = opts();
	struct fpgactl_lc_result r;

	(void)state;
	k.plug = PLUG_OTHER_IDS;
	o.expect_vendor = 0x1b36;
	o.expect_device = 0x0005;
	assert_int_equal(fpgactl_device_reprogram(dev, &o, &r), 0);
	assert_true(r.ids_changed);
	assert_int_equal(r.vendor, 0x1b36);
	assert_restored();
	assert_true(dev->fd >= 0);
	fpgactl_device_close(dev);
}

static void test_bar_not_assigned(void **state)
{
	struct fpgactl_device *dev = open_ep();
	struct fpgactl_lc_opts o = opts();
	struct fpgactl_lc_result r;

	(void)state;
	k.plug = PLUG_NO_BAR0;
	assert_int_equal(fpgactl_device_reprogram(dev, &o, &r), -ENOSPC);
	assert_int_equal(r.failed_step, FPGACTL_LC_CHECK);
	assert_true(r.bars_changed);
	assert_true(log_has("check: BAR0 has no address (BAR0 65536 -> 0): the bridge's window is too small"));
	assert_true(log_has("pci=realloc"));
	assert_restored();
	fpgactl_device_close(dev);
}

static void test_remove_failure_reopens_in_place(void **state)
{
	struct fpgactl_device *dev = open_ep();
	struct fpgactl_lc_opts o = opts();
	struct fpgactl_lc_result r;

	(void)state;
	k.remove_ret = -EACCES;
	assert_int_equal(fpgactl_device_reprogram(dev, &o, &r), -EACCES);
	assert_int_equal(r.failed_step, FPGACTL_LC_REMOVE);
	assert_true(log_has("remove: writing 1 to /sys/bus/pci/devices/" EP
			    "/remove failed: Permission denied (run as root)"));
	assert_int_equal(k.programs, 0);
	assert_restored();
	assert_usable(dev);
	fpgactl_device_close(dev);
}

static void test_bus_reset_failure_still_restores(void **state)
{
	struct fpgactl_device *dev = open_ep();
	struct fpgactl_lc_opts o = opts();
	struct fpgactl_lc_result r;

	(void)state;
	k.reset_ret = -EIO;
	assert_int_equal(fpgactl_device_reprogram(dev, &o, &r), -EIO);
	assert_int_equal(r.failed_step, FPGACTL_LC_BUS_RESET);
	assert_restored();
	/* It came back anyway: reopened, but the failure is reported. */
	assert_usable(dev);
	fpgactl_device_close(dev);
}

/*
 * A bridge whose AER registers cannot be written back must still get its
 * DPC trigger back: each register block is restored on its own.  Here DPC
 * comes first in the capability list (0x100) and AER after it (0x140); the
 * programming step cuts the config file at 0x140 and a file size limit makes
 * the AER writes fail (EFBIG) while the DPC control stays writable.
 */
#define DPC_FIRST 0x100
#define AER_AFTER 0x140

static void rewrite_bridge_dpc_first(void)
{
	uint8_t cfg[4096] = { 0 };
	FILE *f;

	cfg[0x0e] = 1;
	memcpy(cfg + DPC_FIRST, &(uint32_t){ 0x0001001d | (AER_AFTER << 20) }, 4);
	memcpy(cfg + DPC_FIRST + DPC_CTL, &(uint16_t){ DPC_CTL0 }, 2);
	memcpy(cfg + AER_AFTER, &(uint32_t){ 0x00010001 }, 4);
	memcpy(cfg + AER_AFTER + AER_UNCOR_MASK, &(uint32_t){ MASK0 }, 4);
	memcpy(cfg + AER_AFTER + AER_UNCOR_SEVER, &(uint32_t){ SEV0 }, 4);
	f = fopen(faketree_path(tree, "sys/devices/" BRIDGE "/config"), "w");
	assert_non_null(f);
	assert_int_equal(fwrite(cfg, 1, sizeof(cfg), f), sizeof(cfg));
	fclose(f);
}

static struct rlimit saved_fsize;

static int program_cut_aer(void *arg)
{
	struct rlimit lim = { .rlim_cur = AER_AFTER, .rlim_max = saved_fsize.rlim_max };

	(void)arg;
	k.programs++;
	k.mid_dpc = (uint16_t)cfg32(DPC_FIRST + DPC_CTL);
	assert_int_equal(truncate(faketree_path(tree, "sys/devices/" BRIDGE "/config"),
				  AER_AFTER), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	return 0;
}

static void test_dpc_restored_when_aer_restore_fails(void **state)
{
	struct fpgactl_device *dev = open_ep();
	struct fpgactl_lc_opts o = opts();
	struct fpgactl_lc_result r;
	void (*old_xfsz)(int) = signal(SIGXFSZ, SIG_IGN);
	uint16_t dpc_ctl;
	int ret;

	(void)state;
	rewrite_bridge_dpc_first();
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved_fsize), 0);
	o.program = program_cut_aer;
	k.plug = PLUG_NONE;
	ret = fpgactl_device_reprogram(dev, &o, &r);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved_fsize), 0);
	signal(SIGXFSZ, old_xfsz);
	assert_int_equal(ret, -ETIMEDOUT);
	assert_int_equal(k.programs, 1);
	assert_true(r.dpc_disabled);
	assert_int_equal(k.mid_dpc, DPC_CTL0 & ~DPC_CTL_TRIGGER_MASK);
	assert_false(r.masks_restored);
	assert_true(log_has("restore: cannot write the bridge's error reporting back"));
	assert_true(log_has("severity 0x00462030, DPC control 0x0041 with setpci"));
	cfg_rw(DPC_FIRST + DPC_CTL, &dpc_ctl, 2, false);
	assert_int_equal(dpc_ctl, DPC_CTL0);
	fpgactl_device_close(dev);
}

/*
 * The mask step fails half-way (the DPC control write) and the bridge does
 * not take the AER values back either: the caller must not be told that
 * the bridge's error reporting was restored, and the values to set back
 * are named.  Opens of the bridge's config file before the DPC write:
 * AER found (1), DPC found (2), AER mask and severity read (2) and
 * written (2), DPC control read (1).
 */
static void test_mask_rollback_failure_reported(void **state)
{
	struct fpgactl_device *dev = open_ep();
	struct fpgactl_lc_opts o = opts();
	struct fpgactl_lc_result r;

	(void)state;
	mock_fail_open_after(BRIDGE "/config", ENXIO, 8);
	assert_int_equal(fpgactl_device_reprogram(dev, &o, &r), -ENXIO);
	mock_clear_failures();
	assert_int_equal(r.failed_step, FPGACTL_LC_MASK);
	assert_true(log_has("mask: cannot write the bridge's config space"));
	assert_int_equal(k.removes + k.programs, 0);
	/* Left masked, and said so. */
	assert_int_equal(cfg32(AER + AER_UNCOR_MASK), MASK0 | AER_SURPRISE_DOWN);
	assert_false(r.masks_restored);
	assert_true(log_has("set AER mask 0x00400000 severity 0x00462030, DPC control "
			    "0x0041 with setpci -s " BRIDGE));
	assert_usable(dev);
	fpgactl_device_close(dev);
}

static void test_no_bridge_touches_nothing(void **state)
{
	struct fpgactl_device *dev;
	struct fpgactl_lc_opts o = opts();
	struct fpgactl_lc_result r;
	int err;

	(void)state;
	add_ready_device("0000:07:00.0", 7, -1);
	dev = fpgactl_device_open("0000:07:00.0", NULL, &err);
	assert_non_null(dev);
	assert_int_equal(fpgactl_device_reprogram(dev, &o, &r), -ENODEV);
	assert_int_equal(r.failed_step, FPGACTL_LC_PREPARE);
	assert_true(log_has("prepare: no PCI bridge above the device"));
	assert_int_equal(k.removes + k.programs + k.rescans, 0);
	assert_true(dev->fd >= 0);
	fpgactl_device_close(dev);
}

static void test_model_refused(void **state)
{
	struct fpgactl_device *dev;
	struct fpgactl_lc_result r;
	int err;

	(void)state;
	dev = fpgactl_device_open("model", NULL, &err);
	assert_non_null(dev);
	assert_int_equal(fpgactl_device_reprogram(dev, NULL, &r), -EINVAL);
	assert_int_equal(r.failed_step, FPGACTL_LC_PREPARE);
	fpgactl_device_close(dev);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_same_device_keeps_iova),
		T(test_same_device_iommufd),
		T(test_other_function_in_use),
		T(test_program_failure_rolls_back),
		T(test_never_back_then_recover),
		T(test_recover_refuses_another_device),
		T(test_other_ids_refused_unless_expected),
		T(test_other_ids_expected),
		T(test_bar_not_assigned),
		T(test_remove_failure_reopens_in_place),
		T(test_bus_reset_failure_still_restores),
		T(test_dpc_restored_when_aer_restore_fails),
		T(test_mask_rollback_failure_reported),
		T(test_no_bridge_touches_nothing),
		T(test_model_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
