// SPDX-License-Identifier: MIT
/*
 * Reprogram and recover (docs/lifecycle.md): the device handle and its
 * IOMMU context survive while the PCI function behind it is removed,
 * reloaded and found again.  Each step logs its own failure, once, with
 * the step's name and the fix.
 */
#include <endian.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "pci/pci.h"
#include "vfio/vfio.h"
#include "lifecycle_priv.h"

#define DEFAULT_TIMEOUT_MS 30000u
#define RESCAN_PERIOD_MS 250u

/**
 * struct lc - one reprogram or recovery in progress
 * @dev: the handle
 * @o: the caller's options (defaults filled in)
 * @res: the result being filled in
 * @errs: the bridge's saved error reporting
 * @fns: the slot's functions
 * @nr_fns: their number
 * @map: the BARs were mapped (reopen maps them again)
 * @t0: when the device left (remove, or the start of a recovery)
 */
struct lc {
	struct fpgactl_device *dev;
	struct fpgactl_lc_opts o;
	struct fpgactl_lc_result *res;
	struct bridge_errors errs;
	char fns[LC_MAX_FUNCTIONS][FPGACTL_BDF_LEN];
	unsigned int nr_fns;
	bool map;
	uint64_t t0;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

FPGACTL_EXPORT const char *fpgactl_lc_step_name(enum fpgactl_lc_step step)
{
	static const char *const names[] = {
		[FPGACTL_LC_NONE] = "none",	  [FPGACTL_LC_PREPARE] = "prepare",
		[FPGACTL_LC_QUIESCE] = "quiesce", [FPGACTL_LC_MASK] = "mask",
		[FPGACTL_LC_REMOVE] = "remove",	  [FPGACTL_LC_PROGRAM] = "program",
		[FPGACTL_LC_BUS_RESET] = "bus-reset", [FPGACTL_LC_RESCAN] = "rescan",
		[FPGACTL_LC_CHECK] = "check",	  [FPGACTL_LC_BIND] = "bind",
		[FPGACTL_LC_REOPEN] = "reopen",	  [FPGACTL_LC_RESTORE] = "restore",
	};

	return (unsigned int)step < ARRAY_SIZE(names) ? names[step] : "unknown";
}

static void step(struct lc *c, enum fpgactl_lc_step s)
{
	log_debug("%s: step %s", c->dev->bdf, fpgactl_lc_step_name(s));
	if (c->o.progress)
		c->o.progress(c->o.arg, s);
}

/* Record the first failing step; log its one line unless @fmt is NULL
 * (the failing call logged it already). */
static int fail(struct lc *c, enum fpgactl_lc_step s, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct lc *c, enum fpgactl_lc_step s, int ret, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (c->res->failed_step == FPGACTL_LC_NONE)
		c->res->failed_step = s;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		log_err("%s: %s: %s", c->dev->bdf, fpgactl_lc_step_name(s), msg);
	}
	return ret;
}

static const char *root_hint(int ret)
{
	return ret == -EACCES || ret == -EPERM ? " (run as root)" : "";
}

/* ---- the handle without its device, and back ------------------------------ */

/* Close everything of the old function; the handle and context stay. */
static void detach(struct fpgactl_device *dev)
{
	fpgactl_irq_disable_all(dev);
	regions_teardown(dev);
	if (dev->fd >= 0)
		device_detach(dev);
	dev->num_regions = 0;
	dev->num_irqs = 0;
	dev->flags = 0;
}

static bool bars_were_mapped(struct fpgactl_device *dev)
{
	bool mmap_offered = false;

	for (uint32_t i = 0; dev->regions && i < dev->num_regions && i < 6; i++) {
		if (dev->regions[i].info.flags & FPGACTL_REGION_MAPPED)
			return true;
		if (dev->regions[i].info.flags & FPGACTL_REGION_MMAP)
			mmap_offered = true;
	}
	/* Offered and not mapped: the device was opened with NO_MMAP. */
	return !mmap_offered;
}

/* Open the function at dev->bdf into the handle's context again. */
static int reattach(struct fpgactl_device *dev, bool map)
{
	int ret = device_attach(dev);

	if (!ret)
		ret = query_device_info(dev);
	if (!ret)
		ret = regions_setup(dev, map);
	if (ret)
		detach(dev);
	return ret;
}

/* ---- steps ---------------------------------------------------------------- */

/* Another function of the slot open elsewhere would block its removal
 * (vfio-pci's remove waits for the user): refuse it. */
static int check_function_free(struct lc *c, const char *fn)
{
	char rel[32];
	int group = pci_iommu_group(fn), fd;
	struct fpgactl_pci_dev d;

	/* Ours is open here; its group too when the legacy backend holds it. */
	if (!strcmp(fn, c->dev->bdf) || fpgactl_pci_lookup(fn, &d) ||
	    strcmp(d.driver, "vfio-pci") || group < 0 || group == c->dev->group)
		return 0;
	snprintf(rel, sizeof(rel), "vfio/%d", group);
	char path[64];

	if (dev_path(path, sizeof(path), "%s", rel))
		return 0;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno != EBUSY)
		return 0;
	return fail(c, FPGACTL_LC_PREPARE, -EBUSY,
		    "function %s of the same slot is in use by another process "
		    "(%s busy): close it first (fuser -v %s)", fn, path, path);
}

static int prepare(struct lc *c)
{
	struct fpgactl_lc_result *r = c->res;
	int ret;

	step(c, FPGACTL_LC_PREPARE);
	ret = lc_upstream_bridge(c->dev->bdf, r->bridge);
	if (ret)
		return fail(c, FPGACTL_LC_PREPARE, -ENODEV,
			    "no PCI bridge above the device (it sits on a root bus, "
			    "where its link cannot be reset or rescanned alone): "
			    "put the card in a slot behind a root port");
	ret = lc_slot_functions(c->dev->bdf, c->fns, &c->nr_fns);
	if (!ret)
		ret = lc_read_ids(c->dev->bdf, &r->old_vendor, &r->old_device);
	if (!ret)
		ret = lc_bar_sizes(c->dev->bdf, r->old_bar_size, NULL);
	if (ret)
		return fail(c, FPGACTL_LC_PREPARE, ret,
			    "cannot read the device in sysfs (%s): is it still there? "
			    "(fpgactl list)", strerror(-ret));
	for (unsigned int i = 0; i < c->nr_fns; i++) {
		ret = check_function_free(c, c->fns[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static void quiesce(struct lc *c, bool present)
{
	step(c, FPGACTL_LC_QUIESCE);
	for (unsigned int i = 0; i < c->o.nr_queues; i++)
		if (c->o.queues[i])
			fpgactl_queue_abort(c->o.queues[i]);
	c->map = bars_were_mapped(c->dev);
	fpgactl_irq_disable_all(c->dev);
	/* The device must not write into buffers that stay mapped. */
	if (present && c->dev->fd >= 0 && c->dev->regions)
		fpgactl_set_bus_master(c->dev, false);
	detach(c->dev);
}

static int mask(struct lc *c)
{
	int ret;

	if (c->o.flags & FPGACTL_LC_NO_MASK)
		return 0;
	step(c, FPGACTL_LC_MASK);
	ret = bridge_errors_mask(&c->errs, c->res->bridge);
	c->res->aer_masked = c->errs.aer_masked;
	c->res->dpc_disabled = c->errs.dpc_disabled;
	if (!ret)
		return 0;
	/* Rolled back by bridge_errors_mask(), unless it could not. */
	c->res->masks_restored = !c->errs.aer_masked && !c->errs.dpc_disabled;
	return fail(c, FPGACTL_LC_MASK, ret, NULL);
}

static int restore(struct lc *c)
{
	int ret;

	step(c, FPGACTL_LC_RESTORE);
	ret = bridge_errors_restore(&c->errs);
	c->res->masks_restored = !ret;
	return ret ? fail(c, FPGACTL_LC_RESTORE, ret, NULL) : 0;
}

/* Remove the functions, the last first (function 0 goes last, as
 * pci_stop_and_remove_bus_device() of a multi-function slot would). */
static int remove_functions(struct lc *c)
{
	step(c, FPGACTL_LC_REMOVE);
	c->t0 = now_ns();
	for (unsigned int i = c->nr_fns; i-- > 0;) {
		int ret = lc_kernel->remove(c->fns[i]);

		if (ret && ret != -ENOENT && ret != -ENODEV)
			return fail(c, FPGACTL_LC_REMOVE, ret,
				    "writing 1 to /sys/bus/pci/devices/%s/remove failed: "
				    "%s%s", c->fns[i], strerror(-ret), root_hint(ret));
		c->res->functions++;
	}
	return 0;
}

static int program(struct lc *c)
{
	uint64_t t;
	int ret;

	if (!c->o.program)
		return 0;
	step(c, FPGACTL_LC_PROGRAM);
	t = now_ns();
	ret = c->o.program(c->o.arg);
	c->res->program_ns = now_ns() - t;
	if (!ret)
		return 0;
	if (ret > 0)
		ret = -EIO;
	return fail(c, FPGACTL_LC_PROGRAM, ret,
		    "the programming step failed (%s): the bus is rescanned and "
		    "the device reopened if it answers; check the programmer's "
		    "output and the image, then run it again", strerror(-ret));
}

static int bus_reset(struct lc *c)
{
	int ret;

	if (c->o.flags & FPGACTL_LC_NO_BUS_RESET)
		return 0;
	step(c, FPGACTL_LC_BUS_RESET);
	/* Hot-added during the programming step (the port's hotplug driver
	 * enumerated it): a reset now would undo the BARs the kernel assigned. */
	for (unsigned int i = 0; i < c->nr_fns; i++) {
		uint16_t v, d;

		if (!lc_read_ids(c->fns[i], &v, &d)) {
			log_info("%s: bus-reset: skipped, %s is back already (hot-add)",
				 c->dev->bdf, c->fns[i]);
			return 0;
		}
	}
	ret = lc_kernel->bus_reset(c->res->bridge);
	if (ret)
		return fail(c, FPGACTL_LC_BUS_RESET, ret,
			    "secondary bus reset through %s's bridge control "
			    "failed: %s%s", c->res->bridge, strerror(-ret),
			    root_hint(ret));
	return 0;
}

/* Rescan (when @rescan) every RESCAN_PERIOD_MS until the device is back. */
static int wait_back(struct lc *c, bool rescan, bool log_timeout)
{
	uint64_t deadline = now_ns() + (uint64_t)c->o.timeout_ms * 1000000u;
	struct fpgactl_lc_result *r = c->res;
	int ret;

	step(c, FPGACTL_LC_RESCAN);
	for (;;) {
		if (rescan) {
			ret = lc_kernel->rescan(r->bridge[0] ? r->bridge : NULL);
			if (ret)
				return fail(c, FPGACTL_LC_RESCAN, ret,
					    "writing to the rescan attribute of %s failed: "
					    "%s%s", r->bridge[0] ? r->bridge : "the PCI bus",
					    strerror(-ret), root_hint(ret));
			r->rescans++;
		}
		if (!lc_read_ids(c->dev->bdf, &r->vendor, &r->device))
			return 0;
		if (now_ns() >= deadline)
			break;
		sleep_ms(RESCAN_PERIOD_MS);
	}
	if (!log_timeout)
		return -ETIMEDOUT;
	return fail(c, FPGACTL_LC_RESCAN, -ETIMEDOUT,
		    "the device did not come back within %u ms (%u rescans): the "
		    "image may not have loaded or its link does not train; check "
		    "the programmer and 'dmesg', then 'fpgactl rescan %s'; a kernel "
		    "without PCI hotplug may need a reboot", c->o.timeout_ms,
		    r->rescans, r->bridge[0] ? r->bridge : "");
}

static void format_bars(char *buf, size_t size, const uint64_t *a, const uint64_t *b)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < 6 && n < size; i++)
		if (a[i] != b[i])
			n += (size_t)snprintf(buf + n, size - n, "%sBAR%u %llu -> %llu",
					      n ? ", " : "", i, (unsigned long long)a[i],
					      (unsigned long long)b[i]);
}

static int check(struct lc *c)
{
	struct fpgactl_lc_result *r = c->res;
	uint16_t want_v = c->o.expect_vendor ? c->o.expect_vendor : r->old_vendor;
	uint16_t want_d = c->o.expect_device ? c->o.expect_device : r->old_device;
	unsigned int unassigned;
	char bars[256];
	int ret;

	step(c, FPGACTL_LC_CHECK);
	ret = lc_bar_sizes(c->dev->bdf, r->bar_size, &unassigned);
	if (ret)
		return fail(c, FPGACTL_LC_CHECK, ret, "cannot read its BARs: %s",
			    strerror(-ret));
	format_bars(bars, sizeof(bars), r->old_bar_size, r->bar_size);
	r->bars_changed = bars[0] != '\0';
	r->ids_changed = r->vendor != r->old_vendor || r->device != r->old_device;
	if (r->vendor != want_v || r->device != want_d)
		return fail(c, FPGACTL_LC_CHECK, -ENODEV,
			    "came back as %04x:%04x, expected %04x:%04x: another image "
			    "was loaded; if that is intended, give its ids (--expect "
			    "%04x:%04x); the device is left unbound", r->vendor,
			    r->device, want_v, want_d, r->vendor, r->device);
	/* The same image must have the same BARs: one that lost its address
	 * did not fit in the bridge's window. */
	for (unsigned int i = 0; i < 6 && !r->ids_changed; i++)
		if (r->old_bar_size[i] && !r->bar_size[i])
			unassigned |= 1u << i;
	for (unsigned int i = 0; i < 6; i++)
		if (unassigned & (1u << i))
			return fail(c, FPGACTL_LC_CHECK, -ENOSPC,
				    "BAR%u has no address (%s): the bridge's window is "
				    "too small for it; rescan the bridge's parent "
				    "('fpgactl rescan') or boot with pci=realloc (or "
				    "pci=hpmemsize=SIZE)", i, bars[0] ? bars : "size unchanged");
	if (r->bars_changed)
		log_warn("%s: check: BAR sizes changed (%s): the BARs were "
			 "reassigned; if the kernel cannot fit them after a rescan, "
			 "boot with pci=realloc", c->dev->bdf, bars);
	if (r->ids_changed)
		log_info("%s: check: the device changed from %04x:%04x to %04x:%04x",
			 c->dev->bdf, r->old_vendor, r->old_device, r->vendor, r->device);
	return 0;
}

static int bind_and_reopen(struct lc *c)
{
	int ret;

	step(c, FPGACTL_LC_BIND);
	ret = fpgactl_pci_bind_vfio(c->dev->bdf, NULL);
	if (ret)
		return fail(c, FPGACTL_LC_BIND, ret, NULL);
	step(c, FPGACTL_LC_REOPEN);
	ret = reattach(c->dev, c->map);
	if (ret)
		return fail(c, FPGACTL_LC_REOPEN, ret, NULL);
	c->res->remove_to_reopen_ns = now_ns() - c->t0;
	log_info("%s: reopened %.1f ms after it left the bus", c->dev->bdf,
		 (double)c->res->remove_to_reopen_ns / 1e6);
	return 0;
}

/* The device never left: open it again where it is. */
static void reopen_in_place(struct lc *c)
{
	if (reattach(c->dev, c->map))
		log_err("%s: the device could not be opened again after the failed "
			"step; close the handle and open the device anew", c->dev->bdf);
}

/*
 * Recovery: with the old fds closed the kernel finishes a removal that was
 * waiting for them (vfio-pci's remove blocks until the user lets go).  Give
 * it GONE_WAIT_MS to leave, so that the old function is not taken for the
 * new one; a device that stays was never removed.
 */
#define GONE_WAIT_MS 2000u

static void wait_gone(struct lc *c)
{
	uint16_t v, d;

	for (unsigned int ms = 0; ms < GONE_WAIT_MS; ms += 20) {
		if (lc_read_ids(c->dev->bdf, &v, &d))
			return;
		sleep_ms(20);
	}
}

/*
 * What the handle still knows of the lost device: vfio-pci answers the ids
 * from the copy of config space it took at open (vfio_pci_config.c, the
 * ALL_VIRT vendor and device fields), even after a surprise removal, and
 * the region sizes were queried at open.
 */
static void ids_from_handle(struct lc *c)
{
	struct fpgactl_device *dev = c->dev;
	uint32_t id;

	if (dev->fd < 0 || !dev->regions)
		return;
	for (uint32_t i = 0; i < 6 && i < dev->num_regions; i++)
		c->res->old_bar_size[i] = dev->regions[i].info.size;
	if (fpgactl_config_read(dev, 0, &id, sizeof(id)) || id == UINT32_MAX)
		return;
	id = le32toh(id);
	c->res->old_vendor = (uint16_t)id;
	c->res->old_device = (uint16_t)(id >> 16);
}

/* ---- the calls -------------------------------------------------------------- */

static int lc_init(struct lc *c, struct fpgactl_device *dev,
		   const struct fpgactl_lc_opts *opts, struct fpgactl_lc_result *res)
{
	*c = (struct lc){ .dev = dev, .res = res };
	if (opts)
		c->o = *opts;
	if (!c->o.timeout_ms)
		c->o.timeout_ms = DEFAULT_TIMEOUT_MS;
	*res = (struct fpgactl_lc_result){ .masks_restored = true };
	if (!dev || dev->ops != &vfio_device_ops) {
		log_err("%s: reprogram, remove and recover need a PCI device opened "
			"through VFIO, not the model", dev ? dev->bdf : "(null)");
		res->failed_step = FPGACTL_LC_PREPARE;
		return -EINVAL;
	}
	if (c->o.nr_queues && !c->o.queues) {
		log_err("%s: %u queues to stop but no array of them", dev->bdf,
			c->o.nr_queues);
		res->failed_step = FPGACTL_LC_PREPARE;
		return -EINVAL;
	}
	return 0;
}

/* After the functions left: program, reset, rescan, restore, reopen. */
static int reload(struct lc *c)
{
	int prog = program(c), ret;
	int reset = prog ? 0 : bus_reset(c);

	int rest;

	ret = wait_back(c, true, true);
	/* A bridge that does not take its values back is reported, but the
	 * device that came back is still checked and reopened. */
	rest = restore(c);
	if (!ret)
		ret = check(c);
	if (!ret)
		ret = bind_and_reopen(c);
	return prog ? prog : reset ? reset : ret ? ret : rest;
}

FPGACTL_EXPORT int fpgactl_device_reprogram(struct fpgactl_device *dev,
					    const struct fpgactl_lc_opts *opts,
					    struct fpgactl_lc_result *res)
{
	struct fpgactl_lc_result local;
	struct lc c;
	int ret = lc_init(&c, dev, opts, res ? res : &local);

	if (!ret)
		ret = prepare(&c);
	if (ret)
		return ret;
	quiesce(&c, true);
	ret = mask(&c);
	if (ret) {
		reopen_in_place(&c);
		return ret;
	}
	ret = remove_functions(&c);
	if (ret && !c.res->functions) {
		restore(&c);
		reopen_in_place(&c);
		return ret;
	}
	if (ret) {
		/* Some functions left: bring them all back. */
		wait_back(&c, true, false);
		restore(&c);
		if (!lc_read_ids(dev->bdf, &c.res->vendor, &c.res->device))
			reopen_in_place(&c);
		return ret;
	}
	return reload(&c);
}

FPGACTL_EXPORT int fpgactl_device_recover(struct fpgactl_device *dev,
					  const struct fpgactl_lc_opts *opts,
					  struct fpgactl_lc_result *res)
{
	struct fpgactl_lc_result local;
	struct lc c;
	int ret = lc_init(&c, dev, opts, res ? res : &local);
	bool rescan;

	if (ret)
		return ret;
	c.t0 = now_ns();
	lc_upstream_bridge(dev->bdf, c.res->bridge);
	ids_from_handle(&c);
	quiesce(&c, false);
	wait_gone(&c);
	rescan = !(c.o.flags & FPGACTL_LC_NO_RESCAN) && geteuid() == 0;
	ret = wait_back(&c, rescan, true);
	if (ret)
		return ret;
	/* A handle left without its device: whatever comes back is expected,
	 * unless the caller names it. */
	if (!c.res->old_vendor) {
		c.res->old_vendor = c.res->vendor;
		c.res->old_device = c.res->device;
		lc_bar_sizes(dev->bdf, c.res->old_bar_size, NULL);
	}
	ret = check(&c);
	return ret ? ret : bind_and_reopen(&c);
}

FPGACTL_EXPORT int fpgactl_device_remove(struct fpgactl_device *dev)
{
	struct fpgactl_lc_result res;
	struct lc c;
	int ret = lc_init(&c, dev, NULL, &res);

	if (!ret)
		ret = prepare(&c);
	if (!ret) {
		quiesce(&c, true);
		ret = remove_functions(&c);
	}
	fpgactl_device_close(dev);
	return ret;
}

FPGACTL_EXPORT int fpgactl_pci_rescan(const char *bridge)
{
	char hdr = 0;
	int ret;

	if (bridge) {
		ret = bridge_cfg_read(bridge, PCI_HEADER_TYPE, &hdr, 1);
		if (ret == -ENOENT || ret == -ENODEV) {
			log_err("%s: no such PCI device (see fpgactl list)", bridge);
			return -ENODEV;
		}
		if (!ret && (hdr & 0x7f) != 1) {
			log_err("%s: not a PCI bridge (header type %u): give the port "
				"above the device (fpgactl list), or nothing to rescan "
				"every bus", bridge, hdr & 0x7f);
			return -ENODEV;
		}
	}
	ret = lc_kernel->rescan(bridge);
	if (ret)
		log_err("rescan of %s failed: %s%s", bridge ? bridge : "the PCI bus",
			strerror(-ret), root_hint(ret));
	return ret;
}
