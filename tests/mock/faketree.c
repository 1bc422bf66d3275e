// SPDX-License-Identifier: MIT
/*
 * The fake sysfs + /dev tree.  Everything is an ordinary file, directory or
 * symbolic link, laid out as the kernel lays out the real ones, so that the
 * library's sysfs code runs unchanged against it.  See docs/mock-kernel.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faketree.h"

struct pathlist {
	struct pathlist *next;
	char path[];
};

struct faketree {
	char *root;
	bool set_env;		/* created by faketree_create() */
	struct pathlist *paths;	/* strings handed out by faketree_path() */
};

#define SYS_PCI "sys/bus/pci"
#define CONFIG_SIZE_PCIE 4096
#define CONFIG_SIZE_PCI 256

/* ---- small file helpers ---------------------------------------------- */

/* Format "R/fmt..." into @buf (PATH_MAX).  Return 0 or -ENAMETOOLONG. */
static int tpath(const struct faketree *t, char *buf, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int tpath(const struct faketree *t, char *buf, const char *fmt, ...)
{
	int n = snprintf(buf, PATH_MAX, "%s/", t->root), m;
	va_list ap;

	va_start(ap, fmt);
	m = vsnprintf(buf + n, PATH_MAX - n, fmt, ap);
	va_end(ap);
	return m < 0 || m >= PATH_MAX - n ? -ENAMETOOLONG : 0;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0755) && errno != EEXIST ? -errno : 0;
}

/*
 * The tree does its own file I/O through stdio, whose opens and closes stay
 * inside libc: the ioctl mock, which replaces open() and close() and may
 * have failures injected, never sees the tree being built.
 */
static FILE *open_file(const char *path, const char *mode)
{
	return fopen(path, mode);
}

/* Finish with @f; return 0, or -errno if writing it failed. */
static int close_file(FILE *f, int ret)
{
	if (ferror(f) && !ret)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

/* Write @len bytes to @path (created 0644, truncated). */
static int write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = open_file(path, "we");

	if (!f)
		return -errno;
	return close_file(f, len && fwrite(data, len, 1, f) != 1 ? -EIO : 0);
}

static int write_text(const char *path, const char *text)
{
	return write_bytes(path, text, strlen(text));
}

/* "@dir/@name" into @out (PATH_MAX). */
static int join(char *out, const char *dir, const char *name)
{
	return snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Write a formatted attribute R/dir/name. */
static int write_attr(const char *dir, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int write_attr(const char *dir, const char *name, const char *fmt, ...)
{
	char path[PATH_MAX], text[256];
	va_list ap;

	if (join(path, dir, name))
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return write_text(path, text);
}

/* Create (or replace) the symbolic link @path -> @target. */
static int relink(const char *target, const char *path)
{
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return symlink(target, path) ? -errno : 0;
}

static int rm_entry(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int rm_rf(const char *path)
{
	int ret = nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);

	return ret && errno != ENOENT ? -errno : 0;
}

static bool exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

/* ---- tree skeleton ------------------------------------------------------ */

/* R/sys/bus/pci/drivers/NAME with the attributes a PCI driver has. */
static int ensure_driver(struct faketree *t, const char *name)
{
	static const char *const attrs[] = { "bind", "unbind", "new_id",
					     "remove_id" };
	char dir[PATH_MAX], path[PATH_MAX];
	int ret = tpath(t, dir, SYS_PCI "/drivers/%s", name);

	if (!ret)
		ret = mkdir_p(dir);
	for (size_t i = 0; !ret && i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		if (join(path, dir, attrs[i]))
			return -ENAMETOOLONG;
		if (!exists(path))
			ret = write_text(path, "");
	}
	return ret;
}

static int make_skeleton(struct faketree *t)
{
	static const char *const dirs[] = {
		SYS_PCI "/devices", SYS_PCI "/drivers", "sys/devices",
		"sys/kernel/iommu_groups", "sys/module/vfio", "dev/vfio",
	};
	char path[PATH_MAX];
	int ret = 0;

	for (size_t i = 0; !ret && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		ret = tpath(t, path, "%s", dirs[i]);
		if (!ret)
			ret = mkdir_p(path);
	}
	if (!ret)
		ret = tpath(t, path, SYS_PCI "/drivers_probe");
	if (!ret)
		ret = write_text(path, "");
	if (!ret)
		ret = tpath(t, path, SYS_PCI "/rescan");
	if (!ret)
		ret = write_text(path, "");
	if (!ret)
		ret = faketree_set_vfio_pci(t, true);
	if (!ret)
		ret = faketree_set_type1(t, true);
	return ret;
}

static struct faketree *tree_new(const char *root)
{
	struct faketree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->root = strdup(root);
	if (!t->root) {
		free(t);
		return NULL;
	}
	return t;
}

struct faketree *faketree_create(void)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[PATH_MAX], path[PATH_MAX];
	struct faketree *t;

	snprintf(tmpl, sizeof(tmpl), "%s/faketree.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl))
		return NULL;
	t = tree_new(tmpl);
	if (!t || make_skeleton(t)) {
		int err = errno;

		rm_rf(tmpl);
		faketree_close(t);
		errno = err ? err : EIO;
		return NULL;
	}
	t->set_env = true;
	tpath(t, path, "sys");
	setenv("FPGACTL_SYSFS_ROOT", path, 1);
	tpath(t, path, "dev");
	setenv("FPGACTL_DEV_ROOT", path, 1);
	return t;
}

struct faketree *faketree_open_at(const char *dir)
{
	char path[PATH_MAX];
	struct faketree *t;
	int ret;

	if (mkdir_p(dir))
		return NULL;
	t = tree_new(dir);
	if (!t)
		return NULL;
	ret = tpath(t, path, "sys");
	if (!ret && !exists(path))
		ret = make_skeleton(t);
	if (ret) {
		faketree_close(t);
		errno = -ret;
		return NULL;
	}
	return t;
}

void faketree_close(struct faketree *t)
{
	if (!t)
		return;
	while (t->paths) {
		struct pathlist *p = t->paths;

		t->paths = p->next;
		free(p);
	}
	free(t->root);
	free(t);
}

void faketree_destroy(struct faketree *t)
{
	if (!t)
		return;
	rm_rf(t->root);
	if (t->set_env) {
		unsetenv("FPGACTL_SYSFS_ROOT");
		unsetenv("FPGACTL_DEV_ROOT");
	}
	faketree_close(t);
}

const char *faketree_root(const struct faketree *t)
{
	return t->root;
}

const char *faketree_path(struct faketree *t, const char *rel)
{
	size_t len = strlen(t->root) + 1 + strlen(rel) + 1;
	struct pathlist *p = malloc(sizeof(*p) + len);

	if (!p)
		return NULL;
	snprintf(p->path, len, "%s/%s", t->root, rel);
	p->next = t->paths;
	t->paths = p;
	return p->path;
}

/* ---- global switches ---------------------------------------------------- */

/* Create (empty file or directory) or remove R/@rel. */
static int toggle(struct faketree *t, const char *rel, bool on, bool dir)
{
	char path[PATH_MAX];
	int ret = tpath(t, path, "%s", rel);

	if (ret)
		return ret;
	if (!on)
		return rm_rf(path);
	if (exists(path))
		return 0;
	return dir ? mkdir_p(path) : write_text(path, "");
}

int faketree_set_iommufd(struct faketree *t, bool on)
{
	return toggle(t, "dev/iommu", on, false);
}

int faketree_set_type1(struct faketree *t, bool on)
{
	return toggle(t, "sys/module/vfio_iommu_type1", on, true);
}

int faketree_set_vfio_pci(struct faketree *t, bool on)
{
	int ret = toggle(t, "sys/module/vfio_pci", on, true);

	if (!ret)
		ret = toggle(t, "dev/vfio/vfio", on, false);
	if (!ret && on)
		return ensure_driver(t, "vfio-pci");
	return ret ? ret : toggle(t, SYS_PCI "/drivers/vfio-pci", false, true);
}

int faketree_set_mode(struct faketree *t, const char *rel, mode_t mode)
{
	char path[PATH_MAX];
	int ret = tpath(t, path, "%s", rel);

	return ret ? ret : chmod(path, mode) ? -errno : 0;
}

int faketree_read_file(struct faketree *t, const char *rel, char *buf,
		       size_t size)
{
	char path[PATH_MAX];
	int ret = tpath(t, path, "%s", rel);
	size_t n;
	FILE *f;

	if (ret)
		return ret;
	if (!size)
		return -EINVAL;
	f = open_file(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	ret = close_file(f, 0);
	return ret ? ret : (int)n;
}

int faketree_write_file(struct faketree *t, const char *rel, const char *text)
{
	char path[PATH_MAX];
	int ret = tpath(t, path, "%s", rel);

	return ret ? ret : write_text(path, text);
}

/* ---- devices ------------------------------------------------------------ */

static int parse_bdf(const char *bdf, unsigned int *dom, unsigned int *bus)
{
	unsigned int dev, fn;
	char tail;

	if (!bdf || strlen(bdf) != 12 ||
	    sscanf(bdf, "%4x:%2x:%2x.%1x%c", dom, bus, &dev, &fn, &tail) != 4 ||
	    dev > 0x1f || fn > 7)
		return -EINVAL;
	return 0;
}

/* "devices/pciDDDD:BB/BDF", the device's real directory below R/sys. */
static int device_rel(const char *bdf, char *buf, size_t size)
{
	unsigned int dom, bus;

	if (parse_bdf(bdf, &dom, &bus))
		return -EINVAL;
	snprintf(buf, size, "devices/pci%04x:%02x/%s", dom, bus, bdf);
	return 0;
}

/* Standard type-0 config header for @d, @size bytes. */
static void build_config(const struct fake_dev_desc *d, uint8_t *cfg, size_t size)
{
	memset(cfg, 0, size);
	cfg[0x00] = d->vendor & 0xff;
	cfg[0x01] = d->vendor >> 8;
	cfg[0x02] = d->device & 0xff;
	cfg[0x03] = d->device >> 8;
	/* 0x04 command: 0, decoding and bus mastering off */
	cfg[0x08] = d->revision;
	cfg[0x09] = d->class_code & 0xff;		/* programming interface */
	cfg[0x0a] = (d->class_code >> 8) & 0xff;	/* subclass */
	cfg[0x0b] = (d->class_code >> 16) & 0xff;	/* base class */
	cfg[0x0e] = 0x00;				/* header type 0 */
	cfg[0x2c] = d->subsystem_vendor & 0xff;
	cfg[0x2d] = d->subsystem_vendor >> 8;
	cfg[0x2e] = d->subsystem_device & 0xff;
	cfg[0x2f] = d->subsystem_device >> 8;
	cfg[0x3d] = d->irq_count[0] ? 1 : 0;		/* interrupt pin INTA */
}

/*
 * Move bytes to or from region @index of an open mock-regions file, with
 * lseek() and read()/write(): the ioctl mock polices pread()/pwrite() on
 * device files as the kernel would, and leaves these alone.
 */
static int region_io(int fd, unsigned int index, uint64_t off, void *buf,
		     size_t len, bool write_it)
{
	off_t pos = (off_t)(((uint64_t)index << FAKE_REGION_SHIFT) + off);
	ssize_t n;

	if (lseek(fd, pos, SEEK_SET) != pos)
		return -errno;
	n = write_it ? write(fd, buf, len) : read(fd, buf, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* mock-regions: sparse, 9 regions at i << 28, config space filled in. */
static int write_regions(const char *dir, const struct fake_dev_desc *d)
{
	uint8_t cfg[CONFIG_SIZE_PCIE];
	size_t cfg_size = d->regions[FAKE_REGION_CONFIG].size;
	char path[PATH_MAX];
	int ret = 0;
	FILE *f;

	build_config(d, cfg, sizeof(cfg));
	ret = join(path, dir, "config");
	if (!ret)
		ret = write_bytes(path, cfg, cfg_size);
	if (!ret)
		ret = join(path, dir, "mock-regions");
	if (ret)
		return ret;
	f = open_file(path, "w+e");
	if (!f)
		return -errno;
	if (ftruncate(fileno(f), (off_t)FAKE_NUM_REGIONS << FAKE_REGION_SHIFT))
		ret = -errno;
	if (!ret)
		ret = region_io(fileno(f), FAKE_REGION_CONFIG, 0, cfg, cfg_size, true);
	return close_file(f, ret);
}

/* "resource": start end flags of BAR0-5 and the ROM, at fake addresses. */
static int write_resource(const char *dir, const struct fake_dev_desc *d)
{
	char text[7 * 60] = "", path[PATH_MAX];
	size_t len = 0;

	for (unsigned int i = 0; i < 7; i++) {
		uint64_t size = d->regions[i].size;
		uint64_t start = size ? 0xe0000000ull + ((uint64_t)i << 28) : 0;

		len += snprintf(text + len, sizeof(text) - len,
				"0x%016llx 0x%016llx 0x%016llx\n",
				(unsigned long long)start,
				(unsigned long long)(size ? start + size - 1 : 0),
				size ? 0x40200ull : 0ull);
	}
	return join(path, dir, "resource") ?: write_text(path, text);
}

static int write_desc(const char *dir, const struct fake_dev_desc *d)
{
	char path[PATH_MAX];
	FILE *f;
	int ret;

	if (join(path, dir, "mock-vfio"))
		return -ENAMETOOLONG;
	f = fopen(path, "we");
	if (!f)
		return -errno;
	ret = fake_desc_write(f, d);
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

static int write_attrs(const char *dir, const struct fake_dev_desc *d)
{
	int ret = write_attr(dir, "vendor", "0x%04x\n", d->vendor);

	if (!ret)
		ret = write_attr(dir, "device", "0x%04x\n", d->device);
	if (!ret)
		ret = write_attr(dir, "subsystem_vendor", "0x%04x\n", d->subsystem_vendor);
	if (!ret)
		ret = write_attr(dir, "subsystem_device", "0x%04x\n", d->subsystem_device);
	if (!ret)
		ret = write_attr(dir, "class", "0x%06x\n", d->class_code);
	if (!ret)
		ret = write_attr(dir, "revision", "0x%02x\n", d->revision);
	if (!ret)
		ret = write_attr(dir, "numa_node", "%d\n", d->numa_node);
	if (!ret)
		ret = write_attr(dir, "driver_override", "(null)\n");
	if (!ret && d->can_reset)
		ret = write_attr(dir, "reset", "%s", "");
	if (!ret)
		ret = write_resource(dir, d);
	if (!ret)
		ret = write_desc(dir, d);
	return ret ? ret : write_regions(dir, d);
}

/* The links of a new device: bus entry, subsystem, IOMMU group. */
static int link_device(struct faketree *t, const char *rel,
		       const struct fake_dev_desc *d)
{
	char path[PATH_MAX], target[PATH_MAX];
	int ret;

	snprintf(target, sizeof(target), "../../../%s", rel);
	ret = tpath(t, path, SYS_PCI "/devices/%s", d->bdf);
	if (!ret)
		ret = relink(target, path);
	if (!ret)
		ret = tpath(t, path, "sys/%s/subsystem", rel);
	if (!ret)
		ret = relink("../../../bus/pci", path);
	if (ret || d->group < 0)
		return ret;
	ret = tpath(t, path, "sys/kernel/iommu_groups/%d/devices", d->group);
	if (!ret)
		ret = mkdir_p(path);
	if (!ret)
		ret = tpath(t, path, "sys/%s/iommu_group", rel);
	snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d", d->group);
	if (!ret)
		ret = relink(target, path);
	if (!ret)
		ret = tpath(t, path, "sys/kernel/iommu_groups/%d/devices/%s",
			    d->group, d->bdf);
	snprintf(target, sizeof(target), "../../../../%s", rel);
	return ret ? ret : relink(target, path);
}

/*
 * The kernel decides some of what VFIO reports: config space size and the
 * ERR index follow from PCIe, REQ always has one vector.
 */
static void normalise(struct fake_dev_desc *d)
{
	d->regions[FAKE_REGION_CONFIG].size = d->pcie ? CONFIG_SIZE_PCIE : CONFIG_SIZE_PCI;
	d->regions[FAKE_REGION_CONFIG].flags = FAKE_REGION_R | FAKE_REGION_W;
	d->regions[FAKE_REGION_CONFIG].nr_areas = 0;
	d->irq_count[3] = d->pcie ? 1 : 0;
	d->irq_count[4] = 1;
}

int faketree_add_device(struct faketree *t, const struct fake_dev_desc *desc)
{
	struct fake_dev_desc d = *desc;
	char rel[64], dir[PATH_MAX];
	int ret;

	normalise(&d);
	if (device_rel(d.bdf, rel, sizeof(rel)) || fake_desc_check(&d))
		return -EINVAL;
	ret = tpath(t, dir, "sys/%s", rel);
	if (ret)
		return ret;
	if (exists(dir))
		return -EEXIST;
	ret = mkdir_p(dir);
	if (!ret)
		ret = write_attrs(dir, &d);
	if (!ret)
		ret = link_device(t, rel, &d);
	return ret ? ret : faketree_bind(t, d.bdf, d.driver);
}

/* ---- binding ------------------------------------------------------------ */

/* The group of @bdf from its iommu_group link, -1 when none. */
static int device_group(struct faketree *t, const char *bdf)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	if (tpath(t, path, SYS_PCI "/devices/%s/iommu_group", bdf))
		return -1;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	return atoi(strrchr(target, '/') + 1);
}

/* The driver of @bdf into @buf, "" when unbound. */
static void device_driver(struct faketree *t, const char *bdf, char *buf,
			  size_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	buf[0] = '\0';
	if (tpath(t, path, SYS_PCI "/devices/%s/driver", bdf))
		return;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return;
	target[n] = '\0';
	snprintf(buf, size, "%s", strrchr(target, '/') + 1);
}

/*
 * vfio-pci and its variant drivers (mlx5_vfio_pci, ...; all named with
 * "vfio", as the mock's ioctl side assumes too) register a vfio_device:
 * group node, vfio-dev entry and cdev (drivers/vfio/vfio_main.c:
 * vfio_device_add(); group.c: vfio_device_set_group()).
 */
static bool is_vfio_driver(const char *driver)
{
	return strstr(driver, "vfio") != NULL;
}

/*
 * /dev/vfio/N exists while a device of group N is bound to vfio-pci (the
 * kernel creates the group node when vfio-pci registers the first one).
 */
static int refresh_group_node(struct faketree *t, int group)
{
	char path[PATH_MAX], driver[64];
	struct dirent *de;
	bool wanted = false;
	DIR *dir;
	int ret;

	if (group < 0)
		return 0;
	ret = tpath(t, path, "sys/kernel/iommu_groups/%d/devices", group);
	dir = ret ? NULL : opendir(path);
	if (!dir)
		return ret ? ret : -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		device_driver(t, de->d_name, driver, sizeof(driver));
		wanted |= is_vfio_driver(driver);
	}
	closedir(dir);
	ret = tpath(t, path, "dev/vfio/%d", group);
	if (ret || wanted == exists(path))
		return ret;
	return wanted ? write_text(path, "") : (unlink(path) ? -errno : 0);
}

/* vfio-pci's cdev: sysfs vfio-dev/vfioK and /dev/vfio/devices/vfioK. */
static int set_cdev(struct faketree *t, const char *bdf, bool on)
{
	char path[PATH_MAX], rel[64], target[PATH_MAX];
	struct fake_dev_desc d;
	int ret;

	ret = tpath(t, path, SYS_PCI "/devices/%s/mock-vfio", bdf);
	if (!ret)
		ret = fake_desc_read(path, &d);
	if (ret || d.cdev_index < 0)
		return ret;
	ret = tpath(t, path, SYS_PCI "/devices/%s/vfio-dev", bdf);
	if (!ret)
		ret = on ? mkdir_p(path) : rm_rf(path);
	if (!ret && on) {
		ret = tpath(t, path, SYS_PCI "/devices/%s/vfio-dev/vfio%d",
			    bdf, d.cdev_index);
		if (!ret)
			ret = mkdir_p(path);
		if (!ret)
			ret = write_attr(path, "dev", "511:%d\n", d.cdev_index);
	}
	if (!ret)
		ret = tpath(t, path, "dev/vfio/devices/vfio%d", d.cdev_index);
	if (ret || !on)
		return ret ? ret : (unlink(path) && errno != ENOENT ? -errno : 0);
	ret = tpath(t, target, "dev/vfio/devices");
	if (!ret)
		ret = mkdir_p(target);
	if (!ret)
		ret = device_rel(bdf, rel, sizeof(rel));
	snprintf(target, sizeof(target), "../../../sys/%s/mock-regions", rel);
	return ret ? ret : relink(target, path);
}

static int unbind(struct faketree *t, const char *bdf, const char *old)
{
	char path[PATH_MAX];
	int ret = tpath(t, path, SYS_PCI "/drivers/%s/%s", old, bdf);

	if (!ret && unlink(path) && errno != ENOENT)
		ret = -errno;
	if (!ret)
		ret = tpath(t, path, SYS_PCI "/devices/%s/driver", bdf);
	if (!ret && unlink(path))
		ret = -errno;
	if (!ret && is_vfio_driver(old))
		ret = set_cdev(t, bdf, false);
	return ret;
}

static int bind(struct faketree *t, const char *bdf, const char *driver)
{
	char path[PATH_MAX], target[PATH_MAX], rel[64];
	int ret = ensure_driver(t, driver);

	if (!ret)
		ret = tpath(t, path, SYS_PCI "/devices/%s/driver", bdf);
	snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
	if (!ret)
		ret = relink(target, path);
	if (!ret)
		ret = device_rel(bdf, rel, sizeof(rel));
	if (!ret)
		ret = tpath(t, path, SYS_PCI "/drivers/%s/%s", driver, bdf);
	snprintf(target, sizeof(target), "../../../../%s", rel);
	if (!ret)
		ret = relink(target, path);
	if (!ret && is_vfio_driver(driver))
		ret = set_cdev(t, bdf, true);
	return ret;
}

int faketree_bind(struct faketree *t, const char *bdf, const char *driver)
{
	char path[PATH_MAX], old[64];
	int ret = tpath(t, path, SYS_PCI "/devices/%s", bdf);

	if (ret)
		return ret;
	if (!exists(path))
		return -ENODEV;
	device_driver(t, bdf, old, sizeof(old));
	if (*old)
		ret = unbind(t, bdf, old);
	if (!ret && driver && *driver)
		ret = bind(t, bdf, driver);
	return ret ? ret : refresh_group_node(t, device_group(t, bdf));
}

/* ---- device memory ------------------------------------------------------------ */

static int region_access(struct faketree *t, const char *bdf, unsigned int index,
			 uint64_t off, void *buf, size_t len, bool write_it)
{
	char path[PATH_MAX];
	FILE *f;
	int ret;

	if (index >= FAKE_NUM_REGIONS || off > FAKE_REGION_MAX ||
	    len > FAKE_REGION_MAX - off)
		return -EINVAL;
	ret = tpath(t, path, SYS_PCI "/devices/%s/mock-regions", bdf);
	if (ret)
		return ret;
	f = open_file(path, write_it ? "r+e" : "re");
	if (!f)
		return -errno;
	ret = region_io(fileno(f), index, off, buf, len, write_it);
	return close_file(f, ret);
}

int faketree_read_region(struct faketree *t, const char *bdf, unsigned int index,
			 uint64_t off, void *buf, size_t len)
{
	return region_access(t, bdf, index, off, buf, len, false);
}

int faketree_write_region(struct faketree *t, const char *bdf, unsigned int index,
			  uint64_t off, const void *buf, size_t len)
{
	return region_access(t, bdf, index, off, (void *)buf, len, true);
}
