// SPDX-License-Identifier: MIT
/*
 * The sysfs side of a reload: where the device sits (its upstream bridge,
 * the functions of its slot, its BARs), and the writes that take it off
 * the bus and bring it back (drivers/pci/pci-sysfs.c: remove_store(),
 * dev_rescan_store(), and rescan_store() of a pci_bus, which rescans below
 * the bridge and resizes its windows: pci_rescan_bus_bridge_resize()).
 */
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "lifecycle_priv.h"

/*
 * A device that left sysfs: its bus stays while the bridge does, and
 * /sys/class/pci_bus/DDDD:BB/device links to the bridge (drivers/pci/probe.c,
 * pci_add_new_bus(): the bus's parent device is the bridge).
 */
static int bridge_of_bus(const char *bdf, char bridge[FPGACTL_BDF_LEN])
{
	char name[64];
	int ret = sysfs_link_name(name, sizeof(name), "class/pci_bus/%.7s/device", bdf);

	if (ret < 0)
		return -ENODEV;
	if (fpgactl_pci_parse_bdf(name, bridge) || strcmp(bridge, name))
		return -ENODEV;
	return 0;
}

int lc_upstream_bridge(const char *bdf, char bridge[FPGACTL_BDF_LEN])
{
	char path[PATH_MAX], real[PATH_MAX], *slash;

	if (sysfs_path(path, sizeof(path), "bus/pci/devices/%s", bdf))
		return -ENAMETOOLONG;
	if (!realpath(path, real))
		return errno == ENOENT ? bridge_of_bus(bdf, bridge) : -errno;
	slash = strrchr(real, '/');
	if (!slash)
		return -ENODEV;
	*slash = '\0';
	slash = strrchr(real, '/');
	/* The parent is a bridge's directory, or a root bus ("pci0000:00"). */
	if (!slash || fpgactl_pci_parse_bdf(slash + 1, bridge) ||
	    strcmp(bridge, slash + 1))
		return -ENODEV;
	return 0;
}

int lc_slot_functions(const char *bdf, char fns[][FPGACTL_BDF_LEN], unsigned int *n)
{
	char path[PATH_MAX], name[FPGACTL_BDF_LEN];

	*n = 0;
	for (unsigned int fn = 0; fn < LC_MAX_FUNCTIONS; fn++) {
		snprintf(name, sizeof(name), "%.11s%u", bdf, fn);
		if (sysfs_path(path, sizeof(path), "bus/pci/devices/%s", name))
			return -ENAMETOOLONG;
		if (access(path, F_OK))
			continue;
		snprintf(fns[(*n)++], FPGACTL_BDF_LEN, "%s", name);
	}
	return *n ? 0 : -ENODEV;
}

int lc_bar_sizes(const char *bdf, uint64_t sizes[6], unsigned int *unassigned)
{
	char buf[1024], *line, *save = NULL;
	int ret = sysfs_read(buf, sizeof(buf), "bus/pci/devices/%s/resource", bdf);
	unsigned int i = 0;

	memset(sizes, 0, 6 * sizeof(*sizes));
	if (unassigned)
		*unassigned = 0;
	if (ret < 0)
		return ret;
	/* One "start end flags" line per resource, BAR0 first
	 * (pci-sysfs.c, resource_show()).  A BAR the kernel could not place
	 * is all zero (setup-bus.c, reset_resource()) or keeps its size at
	 * start 0 (IORESOURCE_UNSET): no BAR is ever placed at 0. */
	for (line = strtok_r(buf, "\n", &save); line && i < 6;
	     line = strtok_r(NULL, "\n", &save), i++) {
		uint64_t start, end, flags;

		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64, &start, &end,
			   &flags) != 3)
			return -EPROTO;
		sizes[i] = end > start ? end - start + 1 : 0;
		if (sizes[i] && !start && unassigned)
			*unassigned |= 1u << i;
	}
	return 0;
}

int lc_read_ids(const char *bdf, uint16_t *vendor, uint16_t *device)
{
	long v, d;

	if (sysfs_read_long(&v, "bus/pci/devices/%s/vendor", bdf) ||
	    sysfs_read_long(&d, "bus/pci/devices/%s/device", bdf))
		return -ENODEV;
	if (v < 0 || v >= 0xffff || d < 0 || d > 0xffff)
		return -ENODEV;
	*vendor = (uint16_t)v;
	*device = (uint16_t)d;
	return 0;
}

static int sysfs_remove(const char *bdf)
{
	return sysfs_write("1", "bus/pci/devices/%s/remove", bdf);
}

/* The bridge's secondary bus, as the name of its pci_bus directory. */
static int secondary_bus(const char *bridge, char *name, size_t size)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int ret = -ENOENT;

	if (sysfs_path(path, sizeof(path), "bus/pci/devices/%s/pci_bus", bridge))
		return -ENAMETOOLONG;
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.' && strlen(de->d_name) < size) {
			snprintf(name, size, "%s", de->d_name);
			ret = 0;
			break;
		}
	closedir(dir);
	return ret;
}

static int sysfs_rescan(const char *bridge)
{
	char bus[32];

	if (!bridge)
		return sysfs_write("1", "bus/pci/rescan");
	if (!secondary_bus(bridge, bus, sizeof(bus)))
		return sysfs_write("1", "bus/pci/devices/%s/pci_bus/%s/rescan",
				   bridge, bus);
	return sysfs_write("1", "bus/pci/devices/%s/rescan", bridge);
}

const struct lc_kernel_ops lc_kernel_sysfs = {
	.remove = sysfs_remove,
	.rescan = sysfs_rescan,
	.bus_reset = bridge_secondary_reset,
};

const struct lc_kernel_ops *lc_kernel = &lc_kernel_sysfs;
