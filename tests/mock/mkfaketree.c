// SPDX-License-Identifier: MIT
/*
 * mkfaketree: build or change a fake sysfs + /dev tree from the command
 * line, for shell and Python tests of the CLI (syntax in
 * docs/mock-kernel.md and in usage() below).  Prints nothing on success.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faketree.h"

static void usage(FILE *f)
{
	fputs("usage: mkfaketree DIR [OPTION]...\n"
	      "Create the fake tree DIR (or change the one there), in order:\n"
	      "  --device BDF[,KEY=VALUE]...  add a PCI function; keys:\n"
	      "      vendor device subvendor subdevice class rev (hex),\n"
	      "      numa group cdev (decimal, -1 for none), driver (NAME),\n"
	      "      reset bus-reset pcie vga msix-dyn (0/1),\n"
	      "      region=INDEX:SIZE:FLAGS[:OFFSET+SIZE]... (FLAGS: rwm or -),\n"
	      "      irq=INDEX:COUNT\n"
	      "  --bind BDF=DRIVER          bind (DRIVER empty: unbind)\n"
	      "  --iommufd | --no-iommufd   /dev/iommu present or not\n"
	      "  --type1 | --no-type1       vfio_iommu_type1 loaded or not\n"
	      "  --vfio-pci | --no-vfio-pci vfio-pci loaded or not\n"
	      "  --mode REL=OCTAL           chmod DIR/REL\n"
	      "Then run with FPGACTL_SYSFS_ROOT=DIR/sys FPGACTL_DEV_ROOT=DIR/dev.\n",
	      f);
}

static int parse_ulong(const char *s, int base, unsigned long max, unsigned long *v)
{
	char *end;

	if (!*s)
		return -EINVAL;
	errno = 0;
	*v = strtoul(s, &end, base);
	return errno || *end || *v > max ? -EINVAL : 0;
}

static int parse_int(const char *s, int *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (!*s || errno || *end || n < -1 || n > 1000000)
		return -EINVAL;
	*v = (int)n;
	return 0;
}

static int parse_bool(const char *s, bool *v)
{
	if (strcmp(s, "0") && strcmp(s, "1"))
		return -EINVAL;
	*v = *s == '1';
	return 0;
}

/* "INDEX:SIZE:FLAGS[:OFF+LEN]..." */
static int parse_region(char *s, struct fake_dev_desc *d)
{
	char *save, *idx = strtok_r(s, ":", &save);
	char *size = strtok_r(NULL, ":", &save), *flags = strtok_r(NULL, ":", &save);
	unsigned long index, bytes;
	struct fake_region r = { 0 };
	char *area;

	if (!flags || parse_ulong(idx, 0, FAKE_NUM_REGIONS - 1, &index) ||
	    parse_ulong(size, 0, FAKE_REGION_MAX, &bytes) ||
	    fake_parse_region_flags(flags, &r.flags))
		return -EINVAL;
	r.size = bytes;
	while ((area = strtok_r(NULL, ":", &save))) {
		if (r.nr_areas == FAKE_MAX_AREAS ||
		    fake_parse_area(area, &r.areas[r.nr_areas++]))
			return -EINVAL;
	}
	d->regions[index] = r;
	return 0;
}

/* "INDEX:COUNT" */
static int parse_irq(const char *s, struct fake_dev_desc *d)
{
	unsigned long index, count;
	char idx[16];
	const char *colon = strchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(idx))
		return -EINVAL;
	snprintf(idx, sizeof(idx), "%.*s", (int)(colon - s), s);
	if (parse_ulong(idx, 0, FAKE_NUM_IRQS - 1, &index) ||
	    parse_ulong(colon + 1, 0, 2048, &count))
		return -EINVAL;
	d->irq_count[index] = (uint32_t)count;
	return 0;
}

static int parse_hex16(const char *s, uint16_t *v)
{
	unsigned long n = 0;
	int ret = parse_ulong(s, 16, 0xffff, &n);

	*v = (uint16_t)n;
	return ret;
}

/* An identification KEY=VALUE (hex); -ENOENT when @key is not one. */
static int parse_id_key(const char *key, const char *val, struct fake_dev_desc *d)
{
	unsigned long n = 0;
	int ret;

	if (!strcmp(key, "vendor"))
		return parse_hex16(val, &d->vendor);
	if (!strcmp(key, "device"))
		return parse_hex16(val, &d->device);
	if (!strcmp(key, "subvendor"))
		return parse_hex16(val, &d->subsystem_vendor);
	if (!strcmp(key, "subdevice"))
		return parse_hex16(val, &d->subsystem_device);
	if (!strcmp(key, "class")) {
		ret = parse_ulong(val, 16, 0xffffff, &n);
		d->class_code = (uint32_t)n;
		return ret;
	}
	if (!strcmp(key, "rev")) {
		ret = parse_ulong(val, 16, 0xff, &n);
		d->revision = (uint8_t)n;
		return ret;
	}
	return -ENOENT;
}

/* One KEY=VALUE of --device; @val must outlive @d (driver=). */
static int parse_key(const char *key, char *val, struct fake_dev_desc *d)
{
	int ret = parse_id_key(key, val, d);

	if (ret != -ENOENT)
		return ret;
	if (!strcmp(key, "numa"))
		return parse_int(val, &d->numa_node);
	if (!strcmp(key, "group"))
		return parse_int(val, &d->group);
	if (!strcmp(key, "cdev"))
		return parse_int(val, &d->cdev_index);
	if (!strcmp(key, "driver")) {
		d->driver = *val ? val : NULL;
		return 0;
	}
	if (!strcmp(key, "reset"))
		return parse_bool(val, &d->can_reset);
	if (!strcmp(key, "bus-reset"))
		return parse_bool(val, &d->can_bus_reset);
	if (!strcmp(key, "pcie"))
		return parse_bool(val, &d->pcie);
	if (!strcmp(key, "vga"))
		return parse_bool(val, &d->vga);
	if (!strcmp(key, "msix-dyn"))
		return parse_bool(val, &d->msix_dyn);
	if (!strcmp(key, "region"))
		return parse_region(val, d);
	if (!strcmp(key, "irq"))
		return parse_irq(val, d);
	return -EINVAL;
}

/* --device BDF[,KEY=VALUE]...; @spec is modified and must outlive @d. */
static int parse_device(char *spec, struct fake_dev_desc *d)
{
	char *save, *item = strtok_r(spec, ",", &save);

	if (!item)
		return -EINVAL;
	fake_dev_default(d, item);
	while ((item = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(item, '=');

		if (!eq) {
			fprintf(stderr, "mkfaketree: '%s' is not KEY=VALUE\n", item);
			return -EINVAL;
		}
		*eq = '\0';
		if (parse_key(item, eq + 1, d)) {
			fprintf(stderr, "mkfaketree: bad value for '%s': '%s'\n",
				item, eq + 1);
			return -EINVAL;
		}
	}
	return 0;
}

static int do_device(struct faketree *t, const char *arg)
{
	struct fake_dev_desc d;
	char *spec = strdup(arg);
	int ret = spec ? parse_device(spec, &d) : -ENOMEM;

	if (!ret)
		ret = faketree_add_device(t, &d);
	free(spec);
	return ret;
}

/* "LEFT=RIGHT" split into @left (a copy) and a pointer to RIGHT. */
static int split(const char *arg, char *left, size_t size, const char **right)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg || (size_t)(eq - arg) >= size)
		return -EINVAL;
	snprintf(left, size, "%.*s", (int)(eq - arg), arg);
	*right = eq + 1;
	return 0;
}

static int do_bind(struct faketree *t, const char *arg)
{
	char bdf[32];
	const char *driver;

	if (split(arg, bdf, sizeof(bdf), &driver))
		return -EINVAL;
	return faketree_bind(t, bdf, *driver ? driver : NULL);
}

static int do_mode(struct faketree *t, const char *arg)
{
	char rel[1024];
	const char *mode;
	unsigned long m;

	if (split(arg, rel, sizeof(rel), &mode) || parse_ulong(mode, 8, 07777, &m))
		return -EINVAL;
	return faketree_set_mode(t, rel, (mode_t)m);
}

enum { OPT_DEVICE = 256, OPT_BIND, OPT_IOMMUFD, OPT_NO_IOMMUFD, OPT_TYPE1,
       OPT_NO_TYPE1, OPT_VFIO_PCI, OPT_NO_VFIO_PCI, OPT_MODE, OPT_HELP };

static const struct option options[] = {
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "iommufd", no_argument, NULL, OPT_IOMMUFD },
	{ "no-iommufd", no_argument, NULL, OPT_NO_IOMMUFD },
	{ "type1", no_argument, NULL, OPT_TYPE1 },
	{ "no-type1", no_argument, NULL, OPT_NO_TYPE1 },
	{ "vfio-pci", no_argument, NULL, OPT_VFIO_PCI },
	{ "no-vfio-pci", no_argument, NULL, OPT_NO_VFIO_PCI },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int apply(struct faketree *t, int opt, const char *arg)
{
	switch (opt) {
	case OPT_DEVICE:
		return do_device(t, arg);
	case OPT_BIND:
		return do_bind(t, arg);
	case OPT_IOMMUFD:
	case OPT_NO_IOMMUFD:
		return faketree_set_iommufd(t, opt == OPT_IOMMUFD);
	case OPT_TYPE1:
	case OPT_NO_TYPE1:
		return faketree_set_type1(t, opt == OPT_TYPE1);
	case OPT_VFIO_PCI:
	case OPT_NO_VFIO_PCI:
		return faketree_set_vfio_pci(t, opt == OPT_VFIO_PCI);
	case OPT_MODE:
		return do_mode(t, arg);
	default:
		return -EINVAL;
	}
}

int main(int argc, char **argv)
{
	struct faketree *t;
	int opt, ret = 0;

	if (argc > 1 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (argc < 2 || argv[1][0] == '-') {
		usage(stderr);
		return 2;
	}
	t = faketree_open_at(argv[1]);
	if (!t) {
		fprintf(stderr, "mkfaketree: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	optind = 2;
	while (!ret && (opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == '?' || opt == OPT_HELP) {
			usage(stderr);
			faketree_close(t);
			return 2;
		}
		ret = apply(t, opt, optarg);
		if (ret)
			fprintf(stderr, "mkfaketree: --%s %s: %s\n",
				options[opt - OPT_DEVICE].name, optarg ? optarg : "",
				strerror(-ret));
	}
	if (!ret && optind < argc) {
		fprintf(stderr, "mkfaketree: unexpected argument '%s'\n", argv[optind]);
		ret = -EINVAL;
	}
	faketree_close(t);
	return ret ? 1 : 0;
}
