// SPDX-License-Identifier: MIT
/*
 * The mock's view of the process: which fds are fake, what kernel object
 * each one holds, and when those objects die.  Lifetimes follow the kernel's
 * (drivers/vfio/container.c, group.c, iommufd): a container lives while its
 * fd or an attached group refers to it; a group while its fd or a device fd
 * obtained from it is open; an iommufd context while its fd or a bound
 * device holds it.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock_internal.h"

struct mock_libc mock_real;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static struct mock_fd *fds;
static struct mock_container *containers;
static struct mock_group *groups;
static struct mock_ictx *ictxs;
static struct mock_device *devices;

void mock_parse_env_failures(void);	/* mock_control.c */
void mock_control_reset(void);		/* mock_control.c */

static void *next_symbol(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p) {
		fprintf(stderr, "mock_kernel: libc has no %s\n", name);
		abort();
	}
	return p;
}

/*
 * Set while this thread resolves the real functions: dlsym() and the
 * sanitizer runtimes may call back into open(), mmap() or close() then, and
 * those calls must go straight to the kernel.
 */
static __thread bool initialising;

static void init_once(void)
{
	initialising = true;
	mock_real.ioctl = next_symbol("ioctl");
	mock_real.close = next_symbol("close");
	mock_real.openat = next_symbol("openat");
	mock_real.mmap = next_symbol("mmap");
	mock_real.pread = next_symbol("pread");
	mock_real.pwrite = next_symbol("pwrite");
	mock_real.faccessat = next_symbol("faccessat");
	initialising = false;
}

/*
 * FPGACTL_MOCK_FAIL is read when the program starts: the first call into
 * the mock can come earlier (from a sanitizer runtime), before the
 * environment is set up.
 */
__attribute__((constructor)) static void read_env_failures(void)
{
	mock_init();
	mock_lock();
	mock_parse_env_failures();
	mock_unlock();
}

bool mock_init(void)
{
	if (initialising)
		return false;
	pthread_once(&once, init_once);
	return true;
}

void mock_lock(void)
{
	pthread_mutex_lock(&lock);
}

void mock_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

/* ---- roots and classification -------------------------------------------- */

struct root_cache {
	char env[PATH_MAX];
	char real[PATH_MAX];
	bool ok;
};

/* realpath() of $@var, recomputed when the variable changes. */
static bool root_get(struct root_cache *rc, const char *var, char *buf)
{
	const char *v = getenv(var);

	if (!v || !*v || strlen(v) >= sizeof(rc->env))
		return false;
	if (!rc->ok || strcmp(v, rc->env)) {
		strcpy(rc->env, v);
		rc->ok = realpath(v, rc->real) != NULL;
	}
	if (rc->ok)
		strcpy(buf, rc->real);
	return rc->ok;
}

bool mock_sys_root(char *buf)
{
	static struct root_cache rc;

	return root_get(&rc, "FPGACTL_SYSFS_ROOT", buf);
}

bool mock_dev_root(char *buf)
{
	static struct root_cache rc;

	return root_get(&rc, "FPGACTL_DEV_ROOT", buf);
}

/* @path is @root/@rel exactly?  Return the rest after "@root/", or NULL. */
static const char *under(const char *path, const char *root)
{
	size_t n = strlen(root);

	return !strncmp(path, root, n) && path[n] == '/' ? path + n + 1 : NULL;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void classify_dev(const char *rel, struct mock_target *t)
{
	if (!strcmp(rel, "vfio/vfio")) {
		t->kind = MOCK_CONTAINER;
	} else if (!strcmp(rel, "iommu")) {
		t->kind = MOCK_IOMMUFD;
	} else if (!strncmp(rel, "vfio/", 5) && all_digits(rel + 5)) {
		t->kind = MOCK_GROUP;
		t->group = atoi(rel + 5);
	}
}

/* ".../BDF/mock-regions" below the sysfs root is a device file. */
static void classify_sys(const char *rel, struct mock_target *t)
{
	const char *leaf = strrchr(rel, '/'), *dir;
	size_t n;

	if (!leaf || strcmp(leaf, "/mock-regions"))
		return;
	for (dir = leaf; dir > rel && dir[-1] != '/'; dir--)
		;
	n = (size_t)(leaf - dir);
	if (n >= sizeof(t->bdf))
		return;
	memcpy(t->bdf, dir, n);
	t->bdf[n] = '\0';
	t->kind = MOCK_DEVICE;
}

/*
 * A text sysfs attribute shows the last value stored, whatever its length;
 * an ordinary file keeps the tail of a longer old content.  Files of the
 * tree opened for writing below the sysfs root are therefore truncated,
 * except binary attributes (config, rom, resourceN: positional) and the
 * mock's own files.
 */
bool mock_is_sysfs_attr(const char *path)
{
	static const char *const keep[] = { "mock-regions", "mock-vfio", "config",
					    "rom", "resource" };
	char root[PATH_MAX];
	const char *rel, *leaf;

	if (!mock_sys_root(root) || !(rel = under(path, root)))
		return false;
	leaf = strrchr(rel, '/');
	leaf = leaf ? leaf + 1 : rel;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (!strncmp(leaf, keep[i], strlen(keep[i])))
			return false;
	return true;
}

void mock_classify(const char *path, struct mock_target *t)
{
	char root[PATH_MAX];
	const char *rel;

	memset(t, 0, sizeof(*t));
	t->kind = MOCK_NONE;
	if (mock_dev_root(root) && (rel = under(path, root)))
		classify_dev(rel, t);
	else if (mock_sys_root(root) && (rel = under(path, root)))
		classify_sys(rel, t);
}

/* ---- objects --------------------------------------------------------------- */

#define LIST_REMOVE(head, type, item)                                   \
	do {                                                            \
		for (type **pp_ = &(head); *pp_; pp_ = &(*pp_)->next) { \
			if (*pp_ == (item)) {                           \
				*pp_ = (item)->next;                    \
				break;                                  \
			}                                               \
		}                                                       \
	} while (0)

void mock_maps_free(struct mock_map **maps)
{
	while (*maps) {
		struct mock_map *m = *maps;

		*maps = m->next;
		free(m);
	}
}

static struct mock_container *container_new(void)
{
	struct mock_container *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->refs = 1;
	c->dma_avail = mock_dma_limit();
	c->next = containers;
	containers = c;
	return c;
}

void mock_container_put(struct mock_container *c)
{
	if (--c->refs)
		return;
	mock_maps_free(&c->maps);
	LIST_REMOVE(containers, struct mock_container, c);
	free(c);
}

static struct mock_group *group_get(int number)
{
	struct mock_group *g;

	for (g = groups; g; g = g->next)
		if (g->number == number)
			return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->number = number;
	g->next = groups;
	groups = g;
	return g;
}

struct mock_group *mock_group_find(int number)
{
	for (struct mock_group *g = groups; g; g = g->next)
		if (g->number == number && g->fd_open)
			return g;
	return NULL;
}

/*
 * Detaching the last group deprivileges the container: the IOMMU driver is
 * released with its mappings (vfio_group_detach_container()).
 */
void mock_group_detach(struct mock_group *g)
{
	struct mock_container *c = g->container;

	if (!c)
		return;
	g->container = NULL;
	if (!--c->nr_groups) {
		c->iommu_type = 0;
		mock_maps_free(&c->maps);
		c->dma_avail = mock_dma_limit();
	}
	mock_container_put(c);
}

void mock_group_put(struct mock_group *g)
{
	if (g->fd_open || g->device_users)
		return;
	mock_group_detach(g);
	LIST_REMOVE(groups, struct mock_group, g);
	free(g);
}

static struct mock_ictx *ictx_new(void)
{
	struct mock_ictx *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->refs = 1;
	x->next_id = 1;		/* the kernel's xarray allocates ids from 1 */
	x->next = ictxs;
	ictxs = x;
	return x;
}

void mock_ictx_put(struct mock_ictx *x)
{
	if (--x->refs)
		return;
	while (x->objects) {
		struct mock_ioas *o = x->objects;

		x->objects = o->next;
		mock_maps_free(&o->maps);
		free(o);
	}
	LIST_REMOVE(ictxs, struct mock_ictx, x);
	free(x);
}

struct mock_device *mock_device_find(const char *bdf)
{
	for (struct mock_device *d = devices; d; d = d->next)
		if (!strcmp(d->bdf, bdf))
			return d;
	return NULL;
}

struct mock_device *mock_device_get(const char *bdf)
{
	struct mock_device *d = mock_device_find(bdf);

	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->irqs.type = -1;
	d->irqs.err_efd = -1;
	d->irqs.req_efd = -1;
	d->next = devices;
	devices = d;
	return d;
}

/* The last device file of @dev closed: vfio_pci_core_close_device(). */
static void device_closed(struct mock_device *dev)
{
	struct fake_dev_desc d;

	mock_irqs_release(&dev->irqs);
	if (!mock_read_desc(dev->bdf, &d) && d.can_reset)
		mock_note_reset(dev, MOCK_RESET_CLOSE);
}

/* ---- fd records ------------------------------------------------------------- */

static struct mock_fd *fd_find(int fd)
{
	for (struct mock_fd *f = fds; f; f = f->next)
		if (f->fd == fd)
			return f;
	return NULL;
}

static bool fd_path(int fd, char *buf)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, PATH_MAX - 1);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* Fill in what a new record of kind @t->kind holds. */
static int fd_init(struct mock_fd *f, const struct mock_target *t)
{
	switch (t->kind) {
	case MOCK_CONTAINER:
		f->container = container_new();
		return f->container ? 0 : -ENOMEM;
	case MOCK_GROUP:
		f->group = group_get(t->group);
		if (!f->group)
			return -ENOMEM;
		f->group->fd_open = true;
		return 0;
	case MOCK_DEVICE:
		/* Not handed out by GET_DEVICE_FD: a cdev, until BIND. */
		f->devfile.dev = mock_device_get(t->bdf);
		return f->devfile.dev ? 0 : -ENOMEM;
	case MOCK_IOMMUFD:
		f->ictx = ictx_new();
		return f->ictx ? 0 : -ENOMEM;
	default:
		return -EINVAL;
	}
}

struct mock_fd *mock_fd_add(int fd, const char *path, const struct mock_target *t)
{
	struct mock_fd *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->fd = fd;
	f->kind = t->kind;
	snprintf(f->path, sizeof(f->path), "%s", path);
	if (fd_init(f, t)) {
		free(f);
		return NULL;
	}
	f->next = fds;
	fds = f;
	return f;
}

struct mock_fd *mock_fd_get(int fd)
{
	char path[PATH_MAX];
	struct mock_target t;
	struct mock_fd *f;

	if (fd < 0 || !fd_path(fd, path)) {
		mock_fd_forget(fd);
		return NULL;
	}
	f = fd_find(fd);
	if (f && !strcmp(f->path, path))
		return f;
	if (f)
		mock_fd_forget(fd);	/* closed behind our back, number reused */
	mock_classify(path, &t);
	return t.kind == MOCK_NONE ? NULL : mock_fd_add(fd, path, &t);
}

static void devfile_release(struct mock_devfile *df)
{
	struct mock_device *dev = df->dev;

	if (df->group) {
		dev->open_count--;
		df->group->device_users--;
		mock_group_put(df->group);
	} else if (df->granted) {
		mock_cdev_release(df);
	}
	if (df->granted && !dev->open_count)
		device_closed(dev);
}

static void fd_release(struct mock_fd *f)
{
	switch (f->kind) {
	case MOCK_CONTAINER:
		mock_container_put(f->container);
		break;
	case MOCK_GROUP:
		f->group->fd_open = false;
		mock_group_put(f->group);
		break;
	case MOCK_DEVICE:
		devfile_release(&f->devfile);
		break;
	case MOCK_IOMMUFD:
		mock_ictx_put(f->ictx);
		break;
	default:
		break;
	}
}

void mock_fd_forget(int fd)
{
	struct mock_fd *f = fd_find(fd);

	if (!f)
		return;
	LIST_REMOVE(fds, struct mock_fd, f);
	fd_release(f);
	free(f);
}

unsigned int mock_open_fds(void)
{
	unsigned int n = 0;

	mock_lock();
	for (struct mock_fd *f = fds; f; f = f->next)
		n++;
	mock_unlock();
	return n;
}

unsigned int mock_device_open_count(const char *bdf)
{
	struct mock_device *d;
	unsigned int n;

	mock_lock();
	d = mock_device_find(bdf);
	n = d ? d->open_count : 0;
	mock_unlock();
	return n;
}

size_t mock_mappings(struct mock_dma_mapping *out, size_t max)
{
	size_t n = 0;

	mock_lock();
	for (struct mock_container *c = containers; c; c = c->next)
		for (struct mock_map *m = c->maps; m; m = m->next, n++)
			if (n < max)
				out[n] = (struct mock_dma_mapping){
					m->iova, m->size, m->vaddr,
					m->readable, m->writable, false, 0 };
	for (struct mock_ictx *x = ictxs; x; x = x->next)
		for (struct mock_ioas *o = x->objects; o; o = o->next)
			for (struct mock_map *m = o->maps; m; m = m->next, n++)
				if (n < max)
					out[n] = (struct mock_dma_mapping){
						m->iova, m->size, m->vaddr,
						m->readable, m->writable, true,
						o->id };
	mock_unlock();
	return n;
}

/* ---- counters --------------------------------------------------------------- */

unsigned int mock_reset_count(const char *bdf)
{
	struct mock_device *d;
	unsigned int n;

	mock_lock();
	d = mock_device_find(bdf);
	n = d ? d->resets : 0;
	mock_unlock();
	return n;
}

unsigned int mock_hot_reset_count(const char *bdf)
{
	struct mock_device *d;
	unsigned int n;

	mock_lock();
	d = mock_device_find(bdf);
	n = d ? d->hot_resets : 0;
	mock_unlock();
	return n;
}

/* Drop every record and object, closing only the mock's own eventfd dups. */
void mock_reset_state(void)
{
	mock_init();
	mock_lock();
	while (fds) {
		struct mock_fd *f = fds;

		fds = f->next;
		free(f);
	}
	while (devices) {
		struct mock_device *d = devices;

		devices = d->next;
		mock_irqs_release(&d->irqs);
		free(d);
	}
	while (groups) {
		struct mock_group *g = groups;

		groups = g->next;
		free(g);
	}
	while (containers) {
		containers->refs = 1;
		mock_container_put(containers);
	}
	while (ictxs) {
		ictxs->refs = 1;
		mock_ictx_put(ictxs);
	}
	mock_control_reset();
	mock_unlock();
}

/* ---- the fake sysfs ---------------------------------------------------------- */

/* "<sysfs root>/<fmt...>" into @buf (PATH_MAX).  Return 0 or -errno. */
static int sys_path(char *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int sys_path(char *buf, const char *fmt, ...)
{
	char root[PATH_MAX];
	va_list ap;
	size_t n;
	int m;

	if (!mock_sys_root(root))
		return -ENOENT;
	n = strlen(root);
	memcpy(buf, root, n);
	buf[n++] = '/';
	va_start(ap, fmt);
	m = vsnprintf(buf + n, PATH_MAX - n, fmt, ap);
	va_end(ap);
	return m < 0 || (size_t)m >= PATH_MAX - n ? -ENAMETOOLONG : 0;
}

int mock_read_desc(const char *bdf, struct fake_dev_desc *d)
{
	char path[PATH_MAX];
	int ret = sys_path(path, "bus/pci/devices/%s/mock-vfio", bdf);

	return ret ? ret : fake_desc_read(path, d);
}

/* Last component of the target of link bus/pci/devices/@bdf/@name. */
static bool link_leaf(const char *bdf, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	buf[0] = '\0';
	if (sys_path(path, "bus/pci/devices/%s/%s", bdf, name))
		return false;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	snprintf(buf, size, "%s", strrchr(target, '/') ? strrchr(target, '/') + 1 : target);
	return true;
}

void mock_sysfs_driver(const char *bdf, char *buf, size_t size)
{
	link_leaf(bdf, "driver", buf, size);
}

int mock_sysfs_group(const char *bdf)
{
	char name[32];

	return link_leaf(bdf, "iommu_group", name, sizeof(name)) && all_digits(name) ?
		       atoi(name) : -1;
}

int mock_for_each_device(int group, int (*fn)(const char *bdf, void *arg),
			 void *arg)
{
	char path[PATH_MAX];
	struct dirent *de;
	int ret = 0;
	DIR *dir;

	if (group >= 0 ? sys_path(path, "kernel/iommu_groups/%d/devices", group)
		       : sys_path(path, "bus/pci/devices"))
		return 0;
	dir = opendir(path);
	if (!dir)
		return 0;
	while (!ret && (de = readdir(dir)))
		if (de->d_name[0] != '.')
			ret = fn(de->d_name, arg);
	closedir(dir);
	return ret;
}

/*
 * Drivers with driver_managed_dma (the vfio drivers, pci-stub, pcieport) or
 * no driver leave the group's DMA ownership unclaimed; any other driver
 * claims the default domain and the group is not viable.
 */
static int claims_dma(const char *bdf, void *arg)
{
	char driver[64];

	(void)arg;
	mock_sysfs_driver(bdf, driver, sizeof(driver));
	/* vfio drivers: vfio-pci and its variants (mlx5_vfio_pci, ...). */
	return *driver && !strstr(driver, "vfio") && strcmp(driver, "pci-stub") &&
	       strcmp(driver, "pcieport");
}

bool mock_group_viable(int group)
{
	return !mock_for_each_device(group, claims_dma, NULL);
}
