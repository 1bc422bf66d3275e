// SPDX-License-Identifier: MIT
/* fpgactl list: the PCI devices and whether VFIO can open them. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "util.h"

/* "VENDOR:DEVICE" given on the command line. */
struct id_filter {
	bool active;
	uint16_t vendor;
	uint16_t device;
};

static int parse_hex_id(const char *text, uint16_t *id)
{
	uint64_t val;

	if (parse_uint(text, PARSE_HEX, UINT16_MAX, &val))
		return -1;
	*id = (uint16_t)val;
	return 0;
}

static int parse_id_filter(const char *text, struct id_filter *filter)
{
	char vendor[8];
	const char *colon = strchr(text, ':');
	size_t vendor_len = colon ? (size_t)(colon - text) : 0;

	if (!colon || vendor_len >= sizeof(vendor))
		goto bad;
	memcpy(vendor, text, vendor_len);
	vendor[vendor_len] = '\0';
	if (parse_hex_id(vendor, &filter->vendor) ||
	    parse_hex_id(colon + 1, &filter->device))
		goto bad;
	filter->active = true;
	return STATUS_OK;
bad:
	return usage_error("list", "'%s' is not VENDOR:DEVICE in hex (e.g. 10ee:9038)",
			   text);
}

static bool filter_matches(const struct id_filter *filter,
			   const struct fpgactl_pci_dev *dev)
{
	return !filter->active ||
	       (dev->vendor == filter->vendor && dev->device == filter->device);
}

/* A number column: "-" when the platform gives none (-1). */
static void format_optional(char *buf, size_t size, int val)
{
	if (val < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%d", val);
}

static const char *driver_or_dash(const struct fpgactl_pci_dev *dev)
{
	return *dev->driver ? dev->driver : "-";
}

static int driver_column_width(const struct fpgactl_pci_dev *devs, size_t count,
			       const struct id_filter *filter)
{
	size_t width = strlen("DRIVER");

	for (size_t i = 0; i < count; i++) {
		size_t len = strlen(driver_or_dash(&devs[i]));

		if (filter_matches(filter, &devs[i]) && len > width)
			width = len;
	}
	return (int)width;
}

static void print_text_row(const struct fpgactl_pci_dev *dev, int driver_width)
{
	char group[16], numa[16];

	format_optional(group, sizeof(group), dev->iommu_group);
	format_optional(numa, sizeof(numa), dev->numa_node);
	printf("%-12s  %04x:%04x  %06x  %-*s  %-5s  %-4s  %s", dev->bdf,
	       dev->vendor, dev->device, dev->class_code, driver_width,
	       driver_or_dash(dev), group, numa,
	       fpgactl_vfio_state_name(dev->vfio_state));
	if (*dev->vfio_reason)
		printf(": %s", dev->vfio_reason);
	putchar('\n');
}

static void print_text(const struct fpgactl_pci_dev *devs, size_t count,
		       const struct id_filter *filter)
{
	int driver_width = driver_column_width(devs, count, filter);

	printf("%-12s  %-9s  %-6s  %-*s  %-5s  %-4s  %s\n", "BDF", "ID", "CLASS",
	       driver_width, "DRIVER", "GROUP", "NUMA", "VFIO");
	for (size_t i = 0; i < count; i++)
		if (filter_matches(filter, &devs[i]))
			print_text_row(&devs[i], driver_width);
}

/* A JSON number, or null for -1. */
static void json_optional(const char *key, int val)
{
	if (val < 0)
		printf(", \"%s\": null", key);
	else
		printf(", \"%s\": %d", key, val);
}

static void print_json_object(const struct fpgactl_pci_dev *dev)
{
	printf("{\"bdf\": ");
	json_string(stdout, dev->bdf);
	printf(", \"vendor\": \"%04x\", \"device\": \"%04x\", \"class\": \"%06x\"",
	       dev->vendor, dev->device, dev->class_code);
	printf(", \"driver\": ");
	json_string_or_null(stdout, dev->driver);
	json_optional("iommu_group", dev->iommu_group);
	json_optional("numa_node", dev->numa_node);
	printf(", \"vfio_state\": ");
	json_string(stdout, fpgactl_vfio_state_name(dev->vfio_state));
	printf(", \"vfio_reason\": ");
	json_string_or_null(stdout, dev->vfio_reason);
	putchar('}');
}

static void print_json(const struct fpgactl_pci_dev *devs, size_t count,
		       const struct id_filter *filter)
{
	size_t shown = 0;

	putchar('[');
	for (size_t i = 0; i < count; i++) {
		if (!filter_matches(filter, &devs[i]))
			continue;
		fputs(shown++ ? ",\n  " : "\n  ", stdout);
		print_json_object(&devs[i]);
	}
	puts(shown ? "\n]" : "]");
}

static int run_list(const struct invocation *inv)
{
	struct id_filter filter = { 0 };
	struct fpgactl_pci_dev *devs;
	size_t count;
	int err;

	if (inv->argc && parse_id_filter(inv->argv[0], &filter))
		return STATUS_USAGE;
	err = fpgactl_pci_scan(&devs, &count);
	if (err)
		return failure("list", "cannot list PCI devices: %s", errno_text(err));
	if (inv->json)
		print_json(devs, count, &filter);
	else
		print_text(devs, count, &filter);
	free(devs);
	return STATUS_OK;
}

const struct command cmd_list = {
	.name = "list",
	.args = "[VENDOR:DEVICE]",
	.summary = "list the PCI devices and whether VFIO can open them",
	.details = "VENDOR:DEVICE (hexadecimal, e.g. 10ee:9038) shows only those devices.\n"
		   "The VFIO column is the state (ready, no-iommu, not-bound, ...) and,\n"
		   "when the device is not ready, the reason.\n",
	.options = OPT_JSON,
	.min_args = 0,
	.max_args = 1,
	.run = run_list,
};
