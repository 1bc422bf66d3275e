// SPDX-License-Identifier: MIT
/*
 * PCI devices through sysfs: addresses, enumeration, IOMMU groups, and
 * handing devices to and from vfio-pci.
 */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "pci/pci.h"

#define PCI_DEV "bus/pci/devices/%s"

static int parse_hex(const char **p, unsigned int digits_max, unsigned long max,
		     unsigned long *val)
{
	const char *s = *p;
	unsigned int n = 0;

	*val = 0;
	while (isxdigit((unsigned char)s[n]) && n < digits_max) {
		int c = tolower((unsigned char)s[n]);

		*val = *val * 16 + (unsigned long)(isdigit(c) ? c - '0' : c - 'a' + 10);
		n++;
	}
	if (!n || *val > max || isxdigit((unsigned char)s[n]))
		return -EINVAL;
	*p = s + n;
	return 0;
}

static int expect(const char **p, char c)
{
	if (**p != c)
		return -EINVAL;
	(*p)++;
	return 0;
}

FPGACTL_EXPORT int fpgactl_pci_parse_bdf(const char *in, char out[FPGACTL_BDF_LEN])
{
	unsigned long dom = 0, bus, dev, fn;
	const char *p = in;

	if (!in)
		return -EINVAL;
	/* "dddd:bb:dd.f" has two colons, "bb:dd.f" one. */
	const char *first = strchr(in, ':');

	if (first && strchr(first + 1, ':')) {
		if (parse_hex(&p, 4, 0xffff, &dom) || expect(&p, ':'))
			return -EINVAL;
	}
	if (parse_hex(&p, 2, 0xff, &bus) || expect(&p, ':') ||
	    parse_hex(&p, 2, 0x1f, &dev) || expect(&p, '.') ||
	    parse_hex(&p, 1, 0x7, &fn) || *p)
		return -EINVAL;
	snprintf(out, FPGACTL_BDF_LEN, "%04lx:%02lx:%02lx.%lx", dom, bus, dev, fn);
	return 0;
}

int pci_iommu_group(const char *bdf)
{
	char name[32], *end;
	long group;
	int ret = sysfs_link_name(name, sizeof(name), PCI_DEV "/iommu_group", bdf);

	if (ret < 0)
		return ret == -ENOENT ? -ENODEV : ret;
	group = strtol(name, &end, 10);
	if (*end || group < 0 || group > INT_MAX)
		return -EINVAL;
	return (int)group;
}

static bool cdev_has_node(const char *bdf, const char *name)
{
	char path[PATH_MAX];

	return !sysfs_path(path, sizeof(path), PCI_DEV "/vfio-dev/%s/dev", bdf, name) &&
	       !access(path, F_OK);
}

int pci_vfio_cdev_index(const char *bdf)
{
	char path[PATH_MAX];
	struct dirent *de;
	int index = -ENOENT;
	DIR *dir;

	if (sysfs_path(path, sizeof(path), PCI_DEV "/vfio-dev", bdf))
		return -ENAMETOOLONG;
	dir = opendir(path);
	if (!dir)
		return -ENOENT;
	while ((de = readdir(dir))) {
		char *end;
		long n;

		if (strncmp(de->d_name, "vfio", 4))
			continue;
		n = strtol(de->d_name + 4, &end, 10);
		if (*end || end == de->d_name + 4 || n < 0 || n > INT_MAX)
			continue;
		/* Kernels 6.1-6.5 create the sysfs entry but no character
		 * device: only a "dev" attribute means a /dev node exists. */
		if (!cdev_has_node(bdf, de->d_name))
			continue;
		index = (int)n;
		break;
	}
	closedir(dir);
	return index;
}

/* The driver bound to @bdf, "" when none.  Return 0 or -errno. */
static int pci_driver(const char *bdf, char *buf, size_t size)
{
	int ret = sysfs_link_name(buf, size, PCI_DEV "/driver", bdf);

	if (ret == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	return ret < 0 ? ret : 0;
}

/*
 * Drivers that leave a group viable for VFIO: vfio drivers themselves, and
 * drivers that do no DMA of their own (pci-stub, the PCIe port driver).
 */
static bool pci_driver_is_vfio(const char *bdf, const char *driver);

static bool driver_keeps_group_viable(const char *bdf, const char *driver)
{
	return !*driver || pci_driver_is_vfio(bdf, driver) ||
	       !strcmp(driver, "pci-stub") || !strcmp(driver, "pcieport");
}

static void append(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len >= size - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

int pci_group_viable(int group, char *culprits, size_t size)
{
	char path[PATH_MAX], driver[64];
	struct dirent *de;
	int ret = 0;
	DIR *dir;

	culprits[0] = '\0';
	if (sysfs_path(path, sizeof(path), "kernel/iommu_groups/%d/devices", group))
		return -ENAMETOOLONG;
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (pci_driver(de->d_name, driver, sizeof(driver)) ||
		    driver_keeps_group_viable(de->d_name, driver))
			continue;
		append(culprits, size, "%s%s (%s)", ret ? ", " : "", de->d_name,
		       driver);
		ret = -EBUSY;
	}
	closedir(dir);
	return ret;
}

static int read_id(const char *bdf, const char *attr, long *val)
{
	return sysfs_read_long(val, PCI_DEV "/%s", bdf, attr);
}

/* The VFIO device node this device would be opened through. */
static int vfio_node(const char *bdf, int group, char *path, size_t size)
{
	int cdev = pci_vfio_cdev_index(bdf);
	char iommu[PATH_MAX];

	/* FPGACTL_IOMMU=legacy: the group node is the one that will be opened. */
	if (cdev >= 0 && !iommu_env_forces_legacy() &&
	    !dev_path(iommu, sizeof(iommu), "iommu") &&
	    !access(iommu, F_OK))
		return dev_path(path, size, "vfio/devices/vfio%d", cdev);
	return dev_path(path, size, "vfio/%d", group);
}

static void set_reason(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reasons are one line for a user; truncating a long path is acceptable. */
static void set_reason(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

/*
 * Does VFIO serve @bdf?  vfio-pci itself, or a vfio-pci variant driver
 * (mlx5_vfio_pci, hisi_acc_vfio_pci, virtio_vfio_pci, ...: drivers built on
 * vfio-pci-core, served by the same group and cdev nodes).  The kernel's own
 * sign is the vfio-dev/vfioN entry that vfio_device_add()
 * (drivers/vfio/vfio_main.c) creates under the PCI device for every VFIO
 * device since Linux 6.1, whatever the driver's name; before 6.1 there is
 * none, and the name is all there is (the in-tree variants all have "vfio"
 * in it).
 */
static bool pci_driver_is_vfio(const char *bdf, const char *driver)
{
	char path[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *dir;

	if (!*driver)
		return false;
	if (!strcmp(driver, "vfio-pci") || strstr(driver, "vfio"))
		return true;
	if (sysfs_path(path, sizeof(path), PCI_DEV "/vfio-dev", bdf))
		return false;
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (de = readdir(dir)))
		found = !strncmp(de->d_name, "vfio", 4);
	closedir(dir);
	return found;
}

/* READY, or BUSY with who holds it (holders.c). */
static enum fpgactl_vfio_state busy_state(const char *bdf, char *why, size_t size)
{
	struct fpgactl_pci_holder h[3];
	char text[160];
	bool partial;
	int n = pci_holders(bdf, h, ARRAY_SIZE(h), &partial);

	if (n <= 0)
		return FPGACTL_VFIO_READY;
	holders_text(h, n, ARRAY_SIZE(h), text, sizeof(text));
	set_reason(why, size, "in use by %s: it holds the VFIO group or cdev open", text);
	return FPGACTL_VFIO_BUSY;
}

/*
 * Whether an IOMMU driver has registered (an entry in /sys/class/iommu).
 * On arm64 and other device-tree or IORT platforms (SMMUv3), a PCI device
 * joins its IOMMU group only when a driver probes it (of_dma_configure() /
 * acpi_dma_configure() from really_probe(), drivers/base/dd.c), so an
 * unbound device there has no group although the IOMMU is on; x86's
 * IOMMUs group every device when it is added.
 */
static bool iommu_registered(void)
{
	char path[PATH_MAX];
	struct dirent *e;
	bool found = false;
	DIR *dir;

	if (sysfs_path(path, sizeof(path), "class/iommu"))
		return false;
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (e = readdir(dir)))
		found = e->d_name[0] != '.';
	closedir(dir);
	return found;
}

static enum fpgactl_vfio_state vfio_state(const struct fpgactl_pci_dev *d,
					  char *why, size_t size)
{
	char culprits[200], node[PATH_MAX];

	if (d->iommu_group < 0 && !*d->driver && iommu_registered()) {
		set_reason(why, size, "not bound to any driver (its IOMMU group "
			 "appears when a driver binds); run: fpgactl bind %s", d->bdf);
		return FPGACTL_VFIO_NOT_BOUND;
	}
	if (d->iommu_group < 0) {
		set_reason(why, size, "no IOMMU group: the IOMMU is off "
			 "(boot with intel_iommu=on or amd_iommu=on)");
		return FPGACTL_VFIO_NO_IOMMU;
	}
	if (!pci_driver_is_vfio(d->bdf, d->driver)) {
		set_reason(why, size, "%s%s; run: fpgactl bind %s",
			 *d->driver ? "bound to " : "not bound to any driver",
			 d->driver, d->bdf);
		return FPGACTL_VFIO_NOT_BOUND;
	}
	if (pci_group_viable(d->iommu_group, culprits, sizeof(culprits)) == -EBUSY) {
		set_reason(why, size, "IOMMU group %d not viable: %s must be bound "
			 "to vfio-pci or unbound", d->iommu_group, culprits);
		return FPGACTL_VFIO_GROUP_NOT_VIABLE;
	}
	if (vfio_node(d->bdf, d->iommu_group, node, sizeof(node)) ||
	    access(node, F_OK)) {
		set_reason(why, size, "%s does not exist (modprobe vfio-pci)", node);
		return FPGACTL_VFIO_NO_NODE;
	}
	if (access(node, R_OK | W_OK)) {
		set_reason(why, size, "no read/write access to %s (run as root, or "
			 "give this user the node: chown or a udev rule)", node);
		return FPGACTL_VFIO_NO_ACCESS;
	}
	return busy_state(d->bdf, why, size);
}

FPGACTL_EXPORT int fpgactl_pci_lookup(const char *bdf, struct fpgactl_pci_dev *out)
{
	long vendor, device, cls, node;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = read_id(bdf, "vendor", &vendor);
	if (ret)
		return ret == -ENOENT ? -ENODEV : ret;
	if (read_id(bdf, "device", &device) || read_id(bdf, "class", &cls))
		return -EIO;
	if (read_id(bdf, "numa_node", &node))
		node = -1;
	snprintf(out->bdf, sizeof(out->bdf), "%s", bdf);
	out->vendor = (uint16_t)vendor;
	out->device = (uint16_t)device;
	out->class_code = (uint32_t)cls & 0xffffff;
	out->numa_node = (int)node;
	ret = pci_iommu_group(bdf);
	out->iommu_group = ret < 0 ? -1 : ret;
	ret = pci_driver(bdf, out->driver, sizeof(out->driver));
	if (ret)
		return ret;
	out->vfio_state = vfio_state(out, out->vfio_reason, sizeof(out->vfio_reason));
	return 0;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct fpgactl_pci_dev *)a)->bdf,
		      ((const struct fpgactl_pci_dev *)b)->bdf);
}

FPGACTL_EXPORT int fpgactl_pci_scan(struct fpgactl_pci_dev **devs, size_t *count)
{
	struct fpgactl_pci_dev *arr = NULL;
	size_t n = 0, cap = 0;
	char path[PATH_MAX], bdf[FPGACTL_BDF_LEN];
	struct dirent *de;
	DIR *dir;

	*devs = NULL;
	*count = 0;
	if (sysfs_path(path, sizeof(path), "bus/pci/devices"))
		return -ENAMETOOLONG;
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		if (fpgactl_pci_parse_bdf(de->d_name, bdf) || strcmp(bdf, de->d_name))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			void *p = realloc(arr, ncap * sizeof(*arr));

			if (!p) {
				free(arr);
				closedir(dir);
				return -ENOMEM;
			}
			arr = p;
			cap = ncap;
		}
		if (!fpgactl_pci_lookup(bdf, &arr[n]))
			n++;
	}
	closedir(dir);
	if (n)
		qsort(arr, n, sizeof(*arr), cmp_dev);
	*devs = arr;
	*count = n;
	return 0;
}

/* Write @val to the device attribute @attr, logging a failure. */
static int dev_attr_write(const char *bdf, const char *attr, const char *val,
			  const char *what)
{
	char path[PATH_MAX];
	int ret = sysfs_write(val, PCI_DEV "/%s", bdf, attr);

	if (ret) {
		sysfs_path(path, sizeof(path), PCI_DEV "/%s", bdf, attr);
		log_err("%s: %s: writing '%s' to %s failed: %s%s", bdf, what, val,
			path, strerror(-ret),
			ret == -EACCES || ret == -EPERM ? " (run as root)" : "");
	}
	return ret;
}

static int unbind_current(const char *bdf)
{
	return dev_attr_write(bdf, "driver/unbind", bdf, "unbind");
}

static int probe(const char *bdf)
{
	/* The bus-wide attribute takes the address, not a device path. */
	char path[PATH_MAX];
	int ret = sysfs_write(bdf, "bus/pci/drivers_probe");

	if (ret) {
		sysfs_path(path, sizeof(path), "bus/pci/drivers_probe");
		log_err("%s: writing to %s failed: %s", bdf, path, strerror(-ret));
	}
	return ret;
}

FPGACTL_EXPORT int fpgactl_pci_bind_vfio(const char *bdf, char *prev_driver)
{
	char driver[64], path[PATH_MAX];
	struct fpgactl_pci_dev d;
	int ret = fpgactl_pci_lookup(bdf, &d);

	if (ret) {
		log_err("%s: no such PCI device (see fpgactl list)", bdf);
		return ret;
	}
	if (prev_driver)
		snprintf(prev_driver, 64, "%s", d.driver);
	if (!strcmp(d.driver, "vfio-pci"))
		return 0;
	if (sysfs_path(path, sizeof(path), "bus/pci/drivers/vfio-pci") ||
	    access(path, F_OK)) {
		log_err("%s: the vfio-pci driver is not loaded: run 'modprobe vfio-pci'",
			bdf);
		return -ENOENT;
	}
	ret = dev_attr_write(bdf, "driver_override", "vfio-pci", "bind");
	if (!ret && *d.driver)
		ret = unbind_current(bdf);
	if (!ret)
		ret = probe(bdf);
	if (ret)
		return ret;
	if (pci_driver(bdf, driver, sizeof(driver)) || strcmp(driver, "vfio-pci")) {
		log_err("%s: vfio-pci did not take the device (driver now '%s'); "
			"see the kernel log (dmesg): a device without an IOMMU "
			"group is refused", bdf, driver);
		return -EIO;
	}
	return 0;
}

/* A driver to hand the device to must be loaded and must not be vfio-pci. */
static int check_target_driver(const char *bdf, const char *driver)
{
	char path[PATH_MAX];

	if (!driver)
		return 0;
	if (!strcmp(driver, "vfio-pci") || strchr(driver, '/') || !*driver) {
		log_err("%s: '%s' is not a driver to give the device back to", bdf,
			driver);
		return -EINVAL;
	}
	if (sysfs_path(path, sizeof(path), "bus/pci/drivers/%s", driver) ||
	    access(path, F_OK)) {
		log_err("%s: no driver named '%s' is loaded (see /sys/bus/pci/"
			"drivers; modprobe it first)", bdf, driver);
		return -ENOENT;
	}
	return 0;
}

static int check_bound_to(const char *bdf, const char *driver)
{
	char now[64] = "";

	if (!pci_driver(bdf, now, sizeof(now)) && !strcmp(now, driver))
		return 0;
	log_err("%s: %s did not take the device (driver now '%s'); see the "
		"kernel log (dmesg)", bdf, driver, now);
	return -EIO;
}

FPGACTL_EXPORT int fpgactl_pci_unbind_vfio(const char *bdf, const char *driver)
{
	struct fpgactl_pci_dev d;
	int ret = fpgactl_pci_lookup(bdf, &d);

	if (ret) {
		log_err("%s: no such PCI device (see fpgactl list)", bdf);
		return ret;
	}
	if (strcmp(d.driver, "vfio-pci")) {
		log_err("%s: not bound to vfio-pci (driver: '%s'); nothing to do",
			bdf, d.driver);
		return -EINVAL;
	}
	ret = check_target_driver(bdf, driver);
	if (ret)
		return ret;
	/* An override names the driver to probe; an empty one clears it. */
	ret = dev_attr_write(bdf, "driver_override", driver ? driver : "\n",
			     "unbind");
	if (!ret)
		ret = unbind_current(bdf);
	if (!ret)
		ret = probe(bdf);
	if (!ret && driver)
		ret = dev_attr_write(bdf, "driver_override", "\n", "unbind");
	if (!ret && driver)
		ret = check_bound_to(bdf, driver);
	return ret;
}

FPGACTL_EXPORT const char *fpgactl_vfio_state_name(enum fpgactl_vfio_state state)
{
	static const char *const names[] = {
		[FPGACTL_VFIO_READY] = "ready",
		[FPGACTL_VFIO_NO_IOMMU] = "no-iommu",
		[FPGACTL_VFIO_NOT_BOUND] = "not-bound",
		[FPGACTL_VFIO_GROUP_NOT_VIABLE] = "group-not-viable",
		[FPGACTL_VFIO_NO_NODE] = "no-vfio-node",
		[FPGACTL_VFIO_NO_ACCESS] = "no-access",
		[FPGACTL_VFIO_BUSY] = "busy",
	};

	return (unsigned int)state < ARRAY_SIZE(names) ? names[state] : "unknown";
}

int pci_explain_unusable(const char *bdf)
{
	struct fpgactl_pci_dev d;
	int ret = fpgactl_pci_lookup(bdf, &d);

	if (ret) {
		log_err("%s: no such PCI device (see fpgactl list)", bdf);
		return ret;
	}
	if (d.vfio_state == FPGACTL_VFIO_READY)
		return 0;
	log_err("%s: %s", bdf, d.vfio_reason);
	switch (d.vfio_state) {
	case FPGACTL_VFIO_NO_IOMMU:
		return -ENODEV;
	case FPGACTL_VFIO_NOT_BOUND:
		return -ENODEV;
	case FPGACTL_VFIO_GROUP_NOT_VIABLE:
		return -EBUSY;
	case FPGACTL_VFIO_NO_NODE:
		return -ENOENT;
	default:
		return -EACCES;
	}
}
