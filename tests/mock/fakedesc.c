// SPDX-License-Identifier: MIT
/*
 * mock-vfio: the text description of a fake device (format in
 * docs/mock-kernel.md).  One record per line, '#' starts a comment:
 *
 *	reset 1			FLR works (VFIO_DEVICE_FLAGS_RESET)
 *	bus-reset 1		secondary bus reset possible
 *	pcie 1			PCI Express
 *	vga 0			VGA region present
 *	msix-dyn 0		MSI-X vectors can be added while enabled (6.5+)
 *	cdev 0			vfio cdev index while bound to vfio-pci (-1: none)
 *	region 0 0x10000 rwm	index, size, flags [, sparse OFFSET+SIZE ...]
 *	irq 2 8			index, vector count
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fakedesc.h"

void fake_dev_default(struct fake_dev_desc *d, const char *bdf)
{
	memset(d, 0, sizeof(*d));
	d->bdf = bdf;
	d->vendor = 0x10ee;
	d->device = 0x9038;
	d->subsystem_vendor = 0x10ee;
	d->subsystem_device = 0x0007;
	d->class_code = 0x120000;
	d->numa_node = -1;
	d->group = -1;
	d->cdev_index = -1;
	d->can_reset = true;
	d->can_bus_reset = true;
	d->pcie = true;
	d->regions[0] = (struct fake_region){
		.size = 0x10000,
		.flags = FAKE_REGION_R | FAKE_REGION_W | FAKE_REGION_M,
	};
	d->regions[FAKE_REGION_CONFIG] = (struct fake_region){
		.size = 4096,
		.flags = FAKE_REGION_R | FAKE_REGION_W,
	};
	d->irq_count[0] = 1;	/* INTx: interrupt pin A */
	d->irq_count[1] = 1;	/* MSI */
	d->irq_count[2] = 8;	/* MSI-X */
	d->irq_count[3] = 1;	/* ERR: PCIe only */
	d->irq_count[4] = 1;	/* REQ: always one */
}

int fake_parse_region_flags(const char *s, unsigned int *flags)
{
	*flags = 0;
	if (!strcmp(s, "-"))
		return 0;
	for (; *s; s++) {
		const char *p = strchr("rwm", *s);

		if (!p)
			return -EINVAL;
		*flags |= 1u << (p - "rwm");
	}
	return 0;
}

static int parse_u64(const char *s, uint64_t *val)
{
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*val = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

int fake_parse_area(const char *s, struct fake_area *a)
{
	char buf[64], *plus;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	plus = strchr(buf, '+');
	if (!plus)
		return -EINVAL;
	*plus = '\0';
	if (parse_u64(buf, &a->offset) || parse_u64(plus + 1, &a->size))
		return -EINVAL;
	return 0;
}

static void flags_text(unsigned int flags, char out[4])
{
	int n = 0;

	for (int i = 0; i < 3; i++)
		if (flags & (1u << i))
			out[n++] = "rwm"[i];
	if (!n)
		out[n++] = '-';
	out[n] = '\0';
}

static void write_region(FILE *f, unsigned int index, const struct fake_region *r)
{
	char flags[4];

	flags_text(r->flags, flags);
	fprintf(f, "region %u 0x%" PRIx64 " %s", index, r->size, flags);
	for (unsigned int i = 0; i < r->nr_areas; i++)
		fprintf(f, " 0x%" PRIx64 "+0x%" PRIx64, r->areas[i].offset,
			r->areas[i].size);
	fputc('\n', f);
}

int fake_desc_write(FILE *f, const struct fake_dev_desc *d)
{
	fprintf(f, "# mock-vfio 1: fake device for the VFIO ioctl mock "
		"(docs/mock-kernel.md)\n");
	fprintf(f, "reset %d\nbus-reset %d\npcie %d\nvga %d\ncdev %d\n",
		d->can_reset, d->can_bus_reset, d->pcie, d->vga, d->cdev_index);
	for (unsigned int i = 0; i < FAKE_NUM_REGIONS; i++)
		if (d->regions[i].size || i == FAKE_REGION_CONFIG)
			write_region(f, i, &d->regions[i]);
	fprintf(f, "msix-dyn %d\n", d->msix_dyn);
	for (unsigned int i = 0; i < FAKE_NUM_IRQS; i++)
		fprintf(f, "irq %u %u\n", i, d->irq_count[i]);
	return ferror(f) ? -EIO : 0;
}

/* "region INDEX SIZE FLAGS [OFF+SIZE ...]", the words after "region". */
static int read_region(struct fake_dev_desc *d, char **save)
{
	char *idx = strtok_r(NULL, " \t", save);
	char *size = strtok_r(NULL, " \t", save);
	char *flags = strtok_r(NULL, " \t", save);
	uint64_t index;
	struct fake_region r = { 0 };
	char *area;

	if (!flags || parse_u64(idx, &index) || index >= FAKE_NUM_REGIONS ||
	    parse_u64(size, &r.size) || fake_parse_region_flags(flags, &r.flags))
		return -EINVAL;
	while ((area = strtok_r(NULL, " \t", save))) {
		if (r.nr_areas == FAKE_MAX_AREAS ||
		    fake_parse_area(area, &r.areas[r.nr_areas]))
			return -EINVAL;
		r.nr_areas++;
	}
	d->regions[index] = r;
	return 0;
}

/* "irq INDEX COUNT". */
static int read_irq(struct fake_dev_desc *d, char **save)
{
	char *idx = strtok_r(NULL, " \t", save);
	char *count = strtok_r(NULL, " \t", save);
	uint64_t index, n;

	if (!count || parse_u64(idx, &index) || index >= FAKE_NUM_IRQS ||
	    parse_u64(count, &n) || n > 2048 || strtok_r(NULL, " \t", save))
		return -EINVAL;
	d->irq_count[index] = (uint32_t)n;
	return 0;
}

/* "KEY VALUE" with an integer value. */
static int read_scalar(struct fake_dev_desc *d, const char *key, char **save)
{
	char *val = strtok_r(NULL, " \t", save), *end;
	long v;

	if (!val || strtok_r(NULL, " \t", save))
		return -EINVAL;
	v = strtol(val, &end, 0);
	if (*end)
		return -EINVAL;
	if (!strcmp(key, "reset"))
		d->can_reset = v;
	else if (!strcmp(key, "bus-reset"))
		d->can_bus_reset = v;
	else if (!strcmp(key, "pcie"))
		d->pcie = v;
	else if (!strcmp(key, "vga"))
		d->vga = v;
	else if (!strcmp(key, "msix-dyn"))
		d->msix_dyn = v;
	else if (!strcmp(key, "cdev"))
		d->cdev_index = (int)v;
	else
		return -EINVAL;
	return 0;
}

static int read_line(struct fake_dev_desc *d, char *line)
{
	char *save, *key;

	line[strcspn(line, "#\n")] = '\0';
	key = strtok_r(line, " \t", &save);
	if (!key)
		return 0;
	if (!strcmp(key, "region"))
		return read_region(d, &save);
	if (!strcmp(key, "irq"))
		return read_irq(d, &save);
	return read_scalar(d, key, &save);
}

int fake_desc_read(const char *path, struct fake_dev_desc *d)
{
	char line[512];
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	fake_dev_default(d, NULL);
	/* Only what the file lists exists. */
	memset(d->regions, 0, sizeof(d->regions));
	memset(d->irq_count, 0, sizeof(d->irq_count));
	while (!ret && fgets(line, sizeof(line), f))
		ret = read_line(d, line);
	fclose(f);
	return ret ? ret : fake_desc_check(d);
}

static int check_region(const struct fake_region *r)
{
	if (r->size > FAKE_REGION_MAX || r->nr_areas > FAKE_MAX_AREAS)
		return -EINVAL;
	for (unsigned int i = 0; i < r->nr_areas; i++) {
		const struct fake_area *a = &r->areas[i];

		if (a->offset > r->size || a->size > r->size - a->offset)
			return -EINVAL;
	}
	return 0;
}

int fake_desc_check(const struct fake_dev_desc *d)
{
	for (unsigned int i = 0; i < FAKE_NUM_REGIONS; i++)
		if (check_region(&d->regions[i]))
			return -EINVAL;
	if (d->regions[FAKE_REGION_CONFIG].size < 64 || d->irq_count[0] > 1)
		return -EINVAL;
	return 0;
}
