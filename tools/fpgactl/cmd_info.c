// SPDX-License-Identifier: MIT
/* fpgactl info: what VFIO reports about an open device. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "util.h"

/* Everything info prints, gathered before printing. */
struct device_report {
	struct fpgactl_pci_dev pci;
	struct fpgactl_device_info info;
	const char *backend;
	struct fpgactl_region_info *regions; /* implemented ones only */
	uint32_t nr_regions;
	struct fpgactl_irq_info *irqs;
};

static const struct {
	uint32_t flag;
	const char *name;
} region_flags[] = {
	{ FPGACTL_REGION_READ, "r" },	    { FPGACTL_REGION_WRITE, "w" },
	{ FPGACTL_REGION_MMAP, "mmap" },    { FPGACTL_REGION_SPARSE, "sparse" },
	{ FPGACTL_REGION_MAPPED, "mapped" },
};

static const char *const irq_names[] = { "INTx", "MSI", "MSI-X", "ERR", "REQ" };

static void region_name(char *buf, size_t size, uint32_t index)
{
	if (index <= FPGACTL_REGION_BAR5)
		snprintf(buf, size, "BAR%" PRIu32, index);
	else if (index == FPGACTL_REGION_ROM)
		snprintf(buf, size, "ROM");
	else if (index == FPGACTL_REGION_CONFIG)
		snprintf(buf, size, "CONFIG");
	else if (index == FPGACTL_REGION_VGA)
		snprintf(buf, size, "VGA");
	else
		snprintf(buf, size, "REGION%" PRIu32, index);
}

static const char *irq_name(uint32_t index)
{
	return index < ARRAY_SIZE(irq_names) ? irq_names[index] : "OTHER";
}

static int gather_regions(struct fpgactl_device *dev, struct device_report *rep)
{
	rep->regions = calloc(rep->info.num_regions + 1, sizeof(*rep->regions));
	if (!rep->regions)
		return -ENOMEM;
	for (uint32_t i = 0; i < rep->info.num_regions; i++) {
		struct fpgactl_region_info *region = &rep->regions[rep->nr_regions];
		int err = fpgactl_region_get_info(dev, i, region);

		if (err)
			return err;
		if (region->size)
			rep->nr_regions++;
	}
	return 0;
}

static int gather_irqs(struct fpgactl_device *dev, struct device_report *rep)
{
	rep->irqs = calloc(rep->info.num_irqs + 1, sizeof(*rep->irqs));
	if (!rep->irqs)
		return -ENOMEM;
	for (uint32_t i = 0; i < rep->info.num_irqs; i++) {
		int err = fpgactl_irq_get_info(dev, i, &rep->irqs[i]);

		if (err)
			return err;
	}
	return 0;
}

/*
 * A simulated device is on no bus: its identity comes from its config
 * space, and it has no driver, IOMMU group or NUMA node.
 */
static int gather_model_identity(struct fpgactl_device *dev, struct fpgactl_pci_dev *pci)
{
	uint8_t cfg[12];
	int err = fpgactl_config_read(dev, 0, cfg, sizeof(cfg));

	if (err)
		return err;
	snprintf(pci->bdf, sizeof(pci->bdf), "%s", fpgactl_device_bdf(dev));
	pci->vendor = (uint16_t)(cfg[0] | cfg[1] << 8);
	pci->device = (uint16_t)(cfg[2] | cfg[3] << 8);
	pci->class_code = (uint32_t)cfg[9] | (uint32_t)cfg[10] << 8 | (uint32_t)cfg[11] << 16;
	pci->numa_node = -1;
	pci->iommu_group = -1;
	pci->driver[0] = '\0';
	return 0;
}

static int gather_report(struct fpgactl_device *dev, struct device_report *rep)
{
	const char *name = fpgactl_device_bdf(dev);
	char bdf[FPGACTL_BDF_LEN];
	/* A simulated device (the model, a sim: plugin) has no PCI address. */
	bool simulated = is_model_name(name) || fpgactl_pci_parse_bdf(name, bdf);
	int err = simulated ? gather_model_identity(dev, &rep->pci)
			    : fpgactl_pci_lookup(name, &rep->pci);

	if (!err)
		err = fpgactl_device_get_info(dev, &rep->info);
	if (!err)
		err = gather_regions(dev, rep);
	if (!err)
		err = gather_irqs(dev, rep);
	rep->backend = fpgactl_iommu_backend_name(fpgactl_device_iommu(dev));
	return err;
}

static const char *yes_no(uint32_t flags, uint32_t flag)
{
	return flags & flag ? "yes" : "no";
}

static void print_text_region(const struct fpgactl_region_info *region)
{
	char name[24], hex[24], human[32];

	region_name(name, sizeof(name), region->index);
	snprintf(hex, sizeof(hex), "0x%" PRIx64, region->size);
	format_size(human, sizeof(human), region->size);
	printf("  %-2" PRIu32 " %-8s %-12s %-12s", region->index, name, hex, human);
	for (size_t i = 0; i < ARRAY_SIZE(region_flags); i++)
		if (region->flags & region_flags[i].flag)
			printf(" %s", region_flags[i].name);
	putchar('\n');
}

static void print_text(const struct device_report *rep)
{
	const struct fpgactl_pci_dev *pci = &rep->pci;

	printf("device:   %s (%04x:%04x, class %06x)\n", pci->bdf, pci->vendor,
	       pci->device, pci->class_code);
	printf("driver:   %s\n", *pci->driver ? pci->driver : "-");
	if (pci->iommu_group >= 0)
		printf("iommu:    group %d, %s backend\n", pci->iommu_group, rep->backend);
	else
		printf("iommu:    no group, %s backend\n", rep->backend);
	printf("reset:    device reset %s, hot reset %s\n",
	       yes_no(rep->info.flags, FPGACTL_DEV_CAN_RESET),
	       yes_no(rep->info.flags, FPGACTL_DEV_CAN_HOT_RESET));
	printf("regions:\n");
	for (uint32_t i = 0; i < rep->nr_regions; i++)
		print_text_region(&rep->regions[i]);
	printf("irqs:\n");
	for (uint32_t i = 0; i < rep->info.num_irqs; i++)
		printf("  %-2" PRIu32 " %-8s %" PRIu32 "\n", rep->irqs[i].index,
		       irq_name(rep->irqs[i].index), rep->irqs[i].count);
}

static void print_json_region(const struct fpgactl_region_info *region)
{
	char name[24];
	const char *separator = "";

	region_name(name, sizeof(name), region->index);
	printf("{\"index\": %" PRIu32 ", \"name\": \"%s\", \"size\": %" PRIu64
	       ", \"flags\": [",
	       region->index, name, region->size);
	for (size_t i = 0; i < ARRAY_SIZE(region_flags); i++) {
		if (!(region->flags & region_flags[i].flag))
			continue;
		printf("%s\"%s\"", separator, region_flags[i].name);
		separator = ", ";
	}
	printf("]}");
}

static void print_json_regions(const struct device_report *rep)
{
	printf("  \"regions\": [");
	for (uint32_t i = 0; i < rep->nr_regions; i++) {
		printf(i ? ",\n    " : "\n    ");
		print_json_region(&rep->regions[i]);
	}
	printf("\n  ],\n");
}

static void print_json_irqs(const struct device_report *rep)
{
	printf("  \"irqs\": [");
	for (uint32_t i = 0; i < rep->info.num_irqs; i++)
		printf("%s\n    {\"index\": %" PRIu32 ", \"name\": \"%s\", \"count\": %" PRIu32 "}",
		       i ? "," : "", rep->irqs[i].index,
		       irq_name(rep->irqs[i].index), rep->irqs[i].count);
	printf("\n  ]\n");
}

static void print_json(const struct device_report *rep)
{
	const struct fpgactl_pci_dev *pci = &rep->pci;

	printf("{\n  \"bdf\": ");
	json_string(stdout, pci->bdf);
	printf(",\n  \"vendor\": \"%04x\",\n  \"device\": \"%04x\",\n"
	       "  \"class\": \"%06x\",\n  \"driver\": ",
	       pci->vendor, pci->device, pci->class_code);
	json_string_or_null(stdout, pci->driver);
	if (pci->iommu_group >= 0)
		printf(",\n  \"iommu_group\": %d,\n  \"iommu_backend\": ", pci->iommu_group);
	else
		printf(",\n  \"iommu_group\": null,\n  \"iommu_backend\": ");
	json_string(stdout, rep->backend);
	printf(",\n  \"device_reset\": %s,\n  \"hot_reset\": %s,\n",
	       rep->info.flags & FPGACTL_DEV_CAN_RESET ? "true" : "false",
	       rep->info.flags & FPGACTL_DEV_CAN_HOT_RESET ? "true" : "false");
	print_json_regions(rep);
	print_json_irqs(rep);
	printf("}\n");
}

static int run_info(const struct invocation *inv)
{
	struct device_report rep = { 0 };
	struct fpgactl_device *dev;
	char bdf[FPGACTL_DEVICE_NAME_MAX];
	int err, status = require_device_or_model(inv, bdf, sizeof(bdf));

	if (status)
		return status;
	status = open_device(inv, bdf, &dev);
	if (status)
		return status;
	err = gather_report(dev, &rep);
	if (err)
		status = failure("info", "%s: %s", bdf, errno_text(err));
	else if (inv->json)
		print_json(&rep);
	else
		print_text(&rep);
	free(rep.regions);
	free(rep.irqs);
	fpgactl_device_close(dev);
	return status;
}

const struct command cmd_info = {
	.name = "info",
	.args = "",
	.summary = "show the regions, IRQs and reset methods of a device",
	.details = "Opens the device (-d) through VFIO.  Regions the device does not\n"
		   "implement are not shown.  Region flags: r, w (readable, writable),\n"
		   "mmap (the kernel allows mapping it), sparse (only some areas can be\n"
		   "mapped), mapped (the library has mapped it).  DEVICE may be 'model'\n"
		   "(the built-in software model, docs/model.md).\n",
	.options = OPT_DEVICE | OPT_JSON | OPT_VF_TOKEN,
	.model = true,
	.min_args = 0,
	.max_args = 0,
	.run = run_info,
};
