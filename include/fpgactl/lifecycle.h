/* SPDX-License-Identifier: MIT */
#ifndef FPGACTL_LIFECYCLE_H
#define FPGACTL_LIFECYCLE_H

/*
 * The life cycle of an FPGA behind a PCIe port: load a new image while the
 * host runs (remove, program, bus reset, rescan, reopen), and get a device
 * back after its link was lost.  The steps, what each protects against, and
 * what the kernel and firmware must offer: docs/lifecycle.md.
 *
 * Both calls keep the device handle and its IOMMU context: DMA buffers stay
 * allocated and mapped at the same IOVAs.  Everything bound to the old
 * device's registers is gone: BAR pointers (fetch them again with
 * fpgactl_device_bar()), interrupts (enable them again), queues (the device
 * forgot them: re-create them, or fpgactl_sc_reinit() for the soft-core).
 */

#include <stdbool.h>
#include <stdint.h>

#include <fpgactl/device.h>
#include <fpgactl/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fpgactl_queue;

/**
 * enum fpgactl_lc_step - the steps of a reprogram or a recovery, in order
 * @FPGACTL_LC_NONE: no step (success)
 * @FPGACTL_LC_PREPARE: find the upstream bridge and the device's functions
 * @FPGACTL_LC_QUIESCE: abort queues, interrupts off, bus master off, fds closed
 * @FPGACTL_LC_MASK: save and mask the bridge's AER surprise-down / DPC
 * @FPGACTL_LC_REMOVE: sysfs remove of every function of the device
 * @FPGACTL_LC_PROGRAM: the caller's programming step
 * @FPGACTL_LC_BUS_RESET: secondary bus reset on the upstream bridge
 * @FPGACTL_LC_RESCAN: rescan until the device is back or the deadline passes
 * @FPGACTL_LC_CHECK: vendor/device ids and BAR sizes of what came back
 * @FPGACTL_LC_BIND: hand the new device to vfio-pci
 * @FPGACTL_LC_REOPEN: open it again in the same IOMMU context
 * @FPGACTL_LC_RESTORE: restore the bridge's error reporting
 */
enum fpgactl_lc_step {
	FPGACTL_LC_NONE,
	FPGACTL_LC_PREPARE,
	FPGACTL_LC_QUIESCE,
	FPGACTL_LC_MASK,
	FPGACTL_LC_REMOVE,
	FPGACTL_LC_PROGRAM,
	FPGACTL_LC_BUS_RESET,
	FPGACTL_LC_RESCAN,
	FPGACTL_LC_CHECK,
	FPGACTL_LC_BIND,
	FPGACTL_LC_REOPEN,
	FPGACTL_LC_RESTORE,
};

/** Skip the secondary bus reset (the programmer retrains the link itself). */
#define FPGACTL_LC_NO_BUS_RESET (1u << 0)
/** Leave the bridge's error reporting alone (not recommended: docs/lifecycle.md). */
#define FPGACTL_LC_NO_MASK (1u << 1)
/** fpgactl_device_recover(): do not write to sysfs rescan (wait for hot-add only). */
#define FPGACTL_LC_NO_RESCAN (1u << 2)

/**
 * struct fpgactl_lc_opts - options of fpgactl_device_reprogram() and
 *	fpgactl_device_recover()
 * @program: the programming step, called once the device is off the bus;
 *	return 0, or a negative errno to roll back.  NULL: no programming
 *	(remove, reset, rescan and reopen only).  Ignored by recover.
 * @arg: passed to @program and @progress
 * @progress: called at the start of every step; may be NULL
 * @expect_vendor: vendor id the device must come back with; 0: the old one
 * @expect_device: device id the device must come back with; 0: the old one
 * @timeout_ms: how long to wait for the device to come back; 0: 30000
 * @flags: FPGACTL_LC_* flags
 * @queues: queues to stop first: their commands in flight complete with
 *	-ECANCELED (fpgactl_queue_abort()); may be NULL
 * @nr_queues: number of @queues
 */
struct fpgactl_lc_opts {
	int (*program)(void *arg);
	void *arg;
	void (*progress)(void *arg, enum fpgactl_lc_step step);
	uint16_t expect_vendor;
	uint16_t expect_device;
	unsigned int timeout_ms;
	unsigned int flags;
	struct fpgactl_queue *const *queues;
	unsigned int nr_queues;
};

/**
 * struct fpgactl_lc_result - what a reprogram or a recovery did
 * @failed_step: the step that failed, FPGACTL_LC_NONE on success
 * @bridge: the upstream bridge (root or switch downstream port)
 * @aer_masked: surprise down was masked in the bridge's AER capability
 * @dpc_disabled: the bridge's DPC trigger was disabled
 * @masks_restored: the bridge's registers read back as saved (or nothing
 *	was masked)
 * @old_vendor, @old_device: ids before
 * @vendor, @device: ids of what came back (0 when nothing did)
 * @old_bar_size: BAR sizes before (sysfs resource)
 * @bar_size: BAR sizes after
 * @ids_changed: the ids differ from the old ones
 * @bars_changed: a BAR size differs from the old one
 * @functions: functions removed
 * @rescans: rescans written before the device was back
 * @remove_to_reopen_ns: from the sysfs remove (recover: from the call) to
 *	the device open again, 0 when it was not reopened
 * @program_ns: time spent in the programming step
 */
struct fpgactl_lc_result {
	enum fpgactl_lc_step failed_step;
	char bridge[FPGACTL_BDF_LEN];
	bool aer_masked;
	bool dpc_disabled;
	bool masks_restored;
	uint16_t old_vendor, old_device;
	uint16_t vendor, device;
	uint64_t old_bar_size[6];
	uint64_t bar_size[6];
	bool ids_changed;
	bool bars_changed;
	unsigned int functions;
	unsigned int rescans;
	uint64_t remove_to_reopen_ns;
	uint64_t program_ns;
};

/**
 * fpgactl_device_reprogram() - load a new FPGA image with the host running
 * @dev: an open VFIO device (not the model)
 * @opts: options; may be NULL (no programming step, same ids, 30 s)
 * @res: filled in; may be NULL
 *
 * Steps (enum fpgactl_lc_step): quiesce the device (abort @opts->queues,
 * interrupts off, bus master off, fds closed; the IOMMU context and its DMA
 * buffers stay mapped), mask surprise down in the upstream bridge's AER (or
 * disable its DPC trigger), sysfs remove of every function of the slot,
 * @opts->program, a secondary bus reset on the bridge, rescans until the
 * device is back or the deadline passes, check its ids and BAR sizes, bind
 * it to vfio-pci, reopen it in the same context.  The bridge's registers are
 * restored on every path.  Needs root (sysfs remove and the bridge's config
 * space).
 *
 * No other thread may use @dev (or queues on it) during the call.
 *
 * On failure the log gets one line naming the step and the fix, and the
 * programming step's failure still brings the device back (rescan and
 * reopen) when it can.  When the device could not be reopened, @dev stays a
 * valid handle without a device: every access fails with -ENODEV until
 * fpgactl_device_recover() succeeds; fpgactl_device_close() works.
 *
 * Return: 0; -EINVAL (bad options, the model); -EPERM (not root);
 * -ENODEV (no upstream bridge, or a device that did not come back as
 * expected); -EBUSY (another function is in use); -ETIMEDOUT (not back by
 * the deadline); -ENOSPC (a BAR could not be assigned); the programming
 * step's error; or another -errno.  @res->failed_step names the step.
 */
int fpgactl_device_reprogram(struct fpgactl_device *dev,
			     const struct fpgactl_lc_opts *opts,
			     struct fpgactl_lc_result *res);

/**
 * fpgactl_device_recover() - reopen a device that was lost and came back
 * @dev: a device that reported -ENODEV (removal request, all-ones reads),
 *	or a handle left without a device by fpgactl_device_reprogram()
 * @opts: options (@expect_*, @timeout_ms, @flags, @progress, @queues); may
 *	be NULL
 * @res: filled in; may be NULL
 *
 * Closes what is left of the old device (so that the kernel can finish its
 * removal), waits until a device is at the same address again (hot-add, a
 * rescan, or the same slot after a manual reload; as root, a rescan of the
 * bridge is written every 250 ms unless FPGACTL_LC_NO_RESCAN), checks its
 * ids and BARs, binds it to vfio-pci and reopens it in the same IOMMU
 * context: DMA buffers keep their IOVAs.
 *
 * Return: 0, -ETIMEDOUT (not back by the deadline), -ENODEV (came back
 * different), -ENOSPC, or another -errno (logged with the step).
 */
int fpgactl_device_recover(struct fpgactl_device *dev,
			   const struct fpgactl_lc_opts *opts,
			   struct fpgactl_lc_result *res);

/**
 * fpgactl_device_remove() - take a device off the bus (sysfs remove)
 * @dev: an open VFIO device; closed by this call, whatever the outcome
 *
 * Quiesces the device and removes every function of its slot.  Nothing is
 * masked: a link that goes down afterwards is reported by the bridge as
 * usual (use fpgactl_device_reprogram() to load an image).  Needs root.
 *
 * Return: 0 or -errno (logged).
 */
int fpgactl_device_remove(struct fpgactl_device *dev);

/**
 * fpgactl_pci_rescan() - rescan below a bridge, or the whole PCI tree
 * @bridge: canonical address of a bridge, or NULL for every bus
 *
 * Return: 0, -ENODEV (no such device, or not a bridge), -EPERM (not root),
 * or -errno (logged).
 */
int fpgactl_pci_rescan(const char *bridge);

/**
 * fpgactl_lc_step_name() - short name of a step
 * @step: the step
 *
 * Return: "quiesce", "mask", "remove", ... or "unknown".
 */
const char *fpgactl_lc_step_name(enum fpgactl_lc_step step);

#ifdef __cplusplus
}
#endif
#endif
