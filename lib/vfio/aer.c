// SPDX-License-Identifier: MIT
/*
 * The upstream bridge's error reporting across a reload: a link that goes
 * down while the FPGA is programmed is a "surprise down" uncorrectable
 * error, fatal by default, and on a port with DPC it triggers containment.
 * Both are switched off for the reload and restored afterwards.
 *
 * The bridge is not ours through VFIO: its config space is reached through
 * sysfs (drivers/pci/pci-sysfs.c, pci_read_config()/pci_write_config():
 * writes need CAP_SYS_ADMIN, and without it reads stop at 64 bytes).
 * Register layout: PCIe base spec, 7.8.4 (AER) and 7.9.14 (DPC).
 */
#include <endian.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "lifecycle_priv.h"

#define EXT_CAP_START 0x100
#define EXT_CAP_END 0x1000

static int cfg_open(const char *bdf, int flags)
{
	char path[PATH_MAX];
	int fd;

	if (sysfs_path(path, sizeof(path), "bus/pci/devices/%s/config", bdf))
		return -ENAMETOOLONG;
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static bool all_ones(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0xff)
			return false;
	return true;
}

int bridge_cfg_read(const char *bdf, uint32_t off, void *buf, size_t len)
{
	int fd = cfg_open(bdf, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = pread(fd, buf, len, off);
	int saved = errno;

	close(fd);
	if (n < 0)
		return -saved;
	if ((size_t)n != len)
		return -EPERM;
	return len >= 2 && all_ones(buf, len) ? -ENODEV : 0;
}

int bridge_cfg_write(const char *bdf, uint32_t off, const void *buf, size_t len)
{
	int fd = cfg_open(bdf, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = pwrite(fd, buf, len, off);
	int saved = errno;

	close(fd);
	if (n < 0)
		return -saved;
	return (size_t)n == len ? 0 : -EIO;
}

static int read32(const char *bdf, uint32_t off, uint32_t *val)
{
	int ret = bridge_cfg_read(bdf, off, val, sizeof(*val));

	*val = le32toh(*val);
	return ret;
}

static int write32(const char *bdf, uint32_t off, uint32_t val)
{
	val = htole32(val);
	return bridge_cfg_write(bdf, off, &val, sizeof(val));
}

static int read16(const char *bdf, uint32_t off, uint16_t *val)
{
	int ret = bridge_cfg_read(bdf, off, val, sizeof(*val));

	*val = le16toh(*val);
	return ret;
}

static int write16(const char *bdf, uint32_t off, uint16_t val)
{
	val = htole16(val);
	return bridge_cfg_write(bdf, off, &val, sizeof(val));
}

/*
 * Walk the extended capability list for @id (as the kernel's
 * pci_find_ext_capability(): at most (4096 - 256) / 8 entries, offsets
 * below 0x100 end the list).  Return 0 with *@off 0 when absent.
 */
static int find_ext_cap(const char *bdf, uint16_t id, uint16_t *off)
{
	uint32_t pos = EXT_CAP_START, hdr;
	int ttl = (EXT_CAP_END - EXT_CAP_START) / 8;

	*off = 0;
	while (ttl-- > 0) {
		int ret = read32(bdf, pos, &hdr);

		/* A conventional PCI bridge has 256 bytes: no extended caps. */
		if (ret == -EINVAL || ret == -EIO)
			return 0;
		if (ret == -ENODEV || !hdr)
			return ret == -ENODEV ? ret : 0;
		if (ret)
			return ret;
		if ((hdr & 0xffff) == id) {
			*off = (uint16_t)pos;
			return 0;
		}
		pos = (hdr >> 20) & 0xffc;
		if (pos < EXT_CAP_START)
			return 0;
	}
	return 0;
}

static void log_cfg_error(const char *bdf, const char *what, int ret)
{
	if (ret == -EPERM || ret == -EACCES)
		log_err("%s: mask: cannot %s the bridge's config space "
			"(/sys/bus/pci/devices/%s/config): run as root", bdf, what, bdf);
	else if (ret == -ENODEV)
		log_err("%s: mask: the bridge reads all-ones: it is gone or its "
			"link is down; check the slot (lspci -vv -s %s)", bdf, bdf);
	else
		log_err("%s: mask: cannot %s the bridge's config space: %s", bdf,
			what, strerror(-ret));
}

static int mask_aer(struct bridge_errors *e)
{
	int ret = read32(e->bdf, e->aer + AER_UNCOR_MASK, &e->uncor_mask);

	if (!ret)
		ret = read32(e->bdf, e->aer + AER_UNCOR_SEVER, &e->uncor_sever);
	if (ret)
		return ret;
	e->aer_masked = true;
	ret = write32(e->bdf, e->aer + AER_UNCOR_MASK,
		      e->uncor_mask | AER_SURPRISE_DOWN);
	if (!ret)
		ret = write32(e->bdf, e->aer + AER_UNCOR_SEVER,
			      e->uncor_sever & ~AER_SURPRISE_DOWN);
	return ret;
}

static int mask_dpc(struct bridge_errors *e)
{
	int ret = read16(e->bdf, e->dpc + DPC_CTL, &e->dpc_ctl);

	if (ret || !(e->dpc_ctl & DPC_CTL_TRIGGER_MASK))
		return ret;
	e->dpc_disabled = true;
	return write16(e->bdf, e->dpc + DPC_CTL,
		       e->dpc_ctl & (uint16_t)~DPC_CTL_TRIGGER_MASK);
}

/* Write the saved values back, and check that they read back.  The DPC
 * control is restored even when the AER registers fail: each is tried. */
static int restore_regs(struct bridge_errors *e)
{
	uint32_t mask = 0, sever = 0;
	uint16_t ctl = 0;
	int ret = 0, dpc_ret = 0;

	if (e->aer_masked) {
		/* RW1C: clear only the surprise down the reload latched. */
		write32(e->bdf, e->aer + AER_UNCOR_STATUS, AER_SURPRISE_DOWN);
		ret = write32(e->bdf, e->aer + AER_UNCOR_MASK, e->uncor_mask);
		if (!ret)
			ret = write32(e->bdf, e->aer + AER_UNCOR_SEVER, e->uncor_sever);
		if (!ret)
			ret = read32(e->bdf, e->aer + AER_UNCOR_MASK, &mask);
		if (!ret)
			ret = read32(e->bdf, e->aer + AER_UNCOR_SEVER, &sever);
		if (!ret && (mask != e->uncor_mask || sever != e->uncor_sever))
			ret = -EIO;
	}
	if (e->dpc_disabled) {
		dpc_ret = write16(e->bdf, e->dpc + DPC_CTL, e->dpc_ctl);
		if (!dpc_ret)
			dpc_ret = read16(e->bdf, e->dpc + DPC_CTL, &ctl);
		if (!dpc_ret && ctl != e->dpc_ctl)
			dpc_ret = -EIO;
	}
	return ret ? ret : dpc_ret;
}

int bridge_errors_mask(struct bridge_errors *e, const char *bdf)
{
	int ret;

	*e = (struct bridge_errors){ 0 };
	snprintf(e->bdf, sizeof(e->bdf), "%s", bdf);
	ret = find_ext_cap(bdf, PCI_EXT_CAP_AER, &e->aer);
	if (!ret)
		ret = find_ext_cap(bdf, PCI_EXT_CAP_DPC, &e->dpc);
	if (!ret && e->aer)
		ret = mask_aer(e);
	if (!ret && e->dpc)
		ret = mask_dpc(e);
	if (!ret) {
		log_debug("%s: AER %s, DPC %s", bdf,
			  e->aer ? "surprise down masked" : "absent",
			  e->dpc_disabled ? "trigger disabled" :
			  e->dpc ? "not enabled" : "absent");
		return 0;
	}
	log_cfg_error(bdf, e->aer_masked || e->dpc_disabled ? "write" : "read", ret);
	/* Put back what was changed; when even that fails, it is logged with
	 * the values to set, and the flags stay set to say so. */
	bridge_errors_restore(e);
	return ret;
}

int bridge_errors_restore(struct bridge_errors *e)
{
	char dpc[32] = "";
	int ret;

	if (!e->aer_masked && !e->dpc_disabled)
		return 0;
	ret = restore_regs(e);
	if (!ret) {
		e->aer_masked = e->dpc_disabled = false;
		return 0;
	}
	if (ret == -EIO) {
		log_err("%s: restore: the bridge's AER mask/severity or DPC control "
			"do not read back as saved (mask 0x%08x severity 0x%08x dpc "
			"0x%04x): set them again with setpci -s %s", e->bdf,
			e->uncor_mask, e->uncor_sever, e->dpc_ctl, e->bdf);
		return ret;
	}
	if (e->dpc_disabled)
		snprintf(dpc, sizeof(dpc), ", DPC control 0x%04x", e->dpc_ctl);
	log_err("%s: restore: cannot write the bridge's error reporting back "
		"(%s): set AER mask 0x%08x severity 0x%08x%s with setpci -s %s",
		e->bdf, strerror(-ret), e->uncor_mask, e->uncor_sever, dpc, e->bdf);
	return ret;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int bridge_secondary_reset(const char *bdf)
{
	uint16_t ctl;
	int ret = read16(bdf, PCI_BRIDGE_CONTROL, &ctl);

	if (!ret)
		ret = write16(bdf, PCI_BRIDGE_CONTROL, ctl | PCI_BRIDGE_CTL_BUS_RESET);
	if (ret)
		return ret;
	/* drivers/pci/pci.c, pci_reset_secondary_bus(): hold it 2 ms (the spec's
	 * Trst is 1 ms), then release; the rescans that follow wait for the
	 * link to train. */
	sleep_ms(2);
	ret = write16(bdf, PCI_BRIDGE_CONTROL, ctl & (uint16_t)~PCI_BRIDGE_CTL_BUS_RESET);
	sleep_ms(100);
	return ret;
}
