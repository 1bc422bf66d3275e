// SPDX-License-Identifier: MIT
/*
 * Test control: injected failures (from the API or FPGACTL_MOCK_FAIL),
 * counters, the reset hook, and small helpers the ioctl handlers share
 * (capability chains, mapping lists, user memory checks).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mock_internal.h"

void mock_parse_env_failures(void);
void mock_control_reset(void);

struct ioctl_rule {
	unsigned long request;
	int err;
	int times;		/* <= 0: forever */
	int skip;		/* matching calls let through first */
	struct ioctl_rule *next;
};

struct open_rule {
	int err;
	int skip;		/* matching opens let through first */
	struct open_rule *next;
	char suffix[];
};

struct ioctl_counter {
	unsigned long request;
	unsigned int count;
};

static struct ioctl_rule *ioctl_rules;
static struct open_rule *open_rules;
static struct ioctl_counter counters[64];
static unsigned int dma_limit = MOCK_DMA_LIMIT_DEFAULT;
static void (*reset_hook)(const char *, enum mock_reset_kind, void *);
static void *reset_hook_arg;

/* ---- injected failures ------------------------------------------------------ */

static void add_ioctl_rule(unsigned long request, int err, int times, int skip)
{
	struct ioctl_rule *r = calloc(1, sizeof(*r)), **pp;

	if (!r)
		return;
	*r = (struct ioctl_rule){ request, err, times, skip, NULL };
	for (pp = &ioctl_rules; *pp; pp = &(*pp)->next)
		;
	*pp = r;
}

static void add_open_rule(const char *suffix, int err, int skip)
{
	struct open_rule *r = calloc(1, sizeof(*r) + strlen(suffix) + 1);

	if (!r)
		return;
	r->err = err;
	r->skip = skip;
	strcpy(r->suffix, suffix);
	r->next = open_rules;
	open_rules = r;
}

void mock_fail_ioctl(unsigned long request, int err, int times)
{
	mock_init();
	mock_lock();
	add_ioctl_rule(request, err, times, 0);
	mock_unlock();
}

void mock_fail_ioctl_after(unsigned long request, int err, int skip, int times)
{
	mock_init();
	mock_lock();
	add_ioctl_rule(request, err, times, skip);
	mock_unlock();
}

void mock_fail_next(unsigned long request, int err)
{
	mock_fail_ioctl(request, err, 1);
}

void mock_fail_open(const char *path_suffix, int err)
{
	mock_init();
	mock_lock();
	add_open_rule(path_suffix, err, 0);
	mock_unlock();
}

void mock_fail_open_after(const char *path_suffix, int err, int skip)
{
	mock_init();
	mock_lock();
	add_open_rule(path_suffix, err, skip);
	mock_unlock();
}

static void clear_failures(void)
{
	while (ioctl_rules) {
		struct ioctl_rule *r = ioctl_rules;

		ioctl_rules = r->next;
		free(r);
	}
	while (open_rules) {
		struct open_rule *r = open_rules;

		open_rules = r->next;
		free(r);
	}
}

void mock_clear_failures(void)
{
	mock_init();
	mock_lock();
	clear_failures();
	mock_unlock();
}

int mock_injected_ioctl(unsigned long request)
{
	for (struct ioctl_rule **pp = &ioctl_rules; *pp; pp = &(*pp)->next) {
		struct ioctl_rule *r = *pp;
		int err = r->err;

		if (r->request != request)
			continue;
		if (r->skip > 0) {
			r->skip--;
			continue;
		}
		if (r->times > 0 && !--r->times) {
			*pp = r->next;
			free(r);
		}
		return -err;
	}
	return 0;
}

int mock_injected_open(const char *abspath, bool exist_only)
{
	size_t len = strlen(abspath);

	for (struct open_rule *r = open_rules; r; r = r->next) {
		size_t n = strlen(r->suffix);

		if (n > len || strcmp(abspath + len - n, r->suffix))
			continue;
		if (exist_only && r->err != ENOENT)
			continue;
		if (r->skip > 0) {
			r->skip--;
			continue;
		}
		return r->err;
	}
	return 0;
}

/* ---- FPGACTL_MOCK_FAIL ---------------------------------------------------------- */

#define NAME(x) { #x, x }

static const struct {
	const char *name;
	unsigned long value;
} ioctl_names[] = {
	NAME(VFIO_GET_API_VERSION), NAME(VFIO_CHECK_EXTENSION),
	NAME(VFIO_SET_IOMMU), NAME(VFIO_GROUP_GET_STATUS),
	NAME(VFIO_GROUP_SET_CONTAINER), NAME(VFIO_GROUP_UNSET_CONTAINER),
	NAME(VFIO_GROUP_GET_DEVICE_FD), NAME(VFIO_DEVICE_GET_INFO),
	NAME(VFIO_DEVICE_GET_REGION_INFO), NAME(VFIO_DEVICE_GET_IRQ_INFO),
	NAME(VFIO_DEVICE_SET_IRQS), NAME(VFIO_DEVICE_RESET),
	NAME(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO),
	NAME(VFIO_DEVICE_PCI_HOT_RESET), NAME(VFIO_IOMMU_GET_INFO),
	NAME(VFIO_IOMMU_MAP_DMA), NAME(VFIO_IOMMU_UNMAP_DMA),
	NAME(VFIO_DEVICE_BIND_IOMMUFD), NAME(VFIO_DEVICE_ATTACH_IOMMUFD_PT),
	NAME(VFIO_DEVICE_DETACH_IOMMUFD_PT), NAME(IOMMU_DESTROY),
	NAME(IOMMU_IOAS_ALLOC), NAME(IOMMU_IOAS_IOVA_RANGES),
	NAME(IOMMU_IOAS_MAP), NAME(IOMMU_IOAS_UNMAP),
};

static const struct {
	const char *name;
	int value;
} errno_names[] = {
	NAME(EPERM), NAME(ENOENT), NAME(EINTR), NAME(EIO), NAME(ENXIO),
	NAME(E2BIG), NAME(EBADF), NAME(EAGAIN), NAME(ENOMEM), NAME(EACCES),
	NAME(EFAULT), NAME(EBUSY), NAME(EEXIST), NAME(ENODEV), NAME(EINVAL),
	NAME(ENOSPC), NAME(ENOTTY), NAME(ERANGE), NAME(ENOSYS),
	NAME(EOPNOTSUPP), NAME(ETIMEDOUT), NAME(EBADFD), NAME(EOVERFLOW),
	NAME(EMSGSIZE), NAME(EROFS), NAME(ENAMETOOLONG),
};

static bool parse_number(const char *s, unsigned long *val)
{
	char *end;

	*val = strtoul(s, &end, 0);
	return *s && !*end;
}

static bool parse_request(const char *s, unsigned long *req)
{
	for (size_t i = 0; i < sizeof(ioctl_names) / sizeof(ioctl_names[0]); i++) {
		if (!strcmp(s, ioctl_names[i].name)) {
			*req = ioctl_names[i].value;
			return true;
		}
	}
	return parse_number(s, req);
}

static bool parse_errno(const char *s, int *err)
{
	unsigned long v;

	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++) {
		if (!strcmp(s, errno_names[i].name)) {
			*err = errno_names[i].value;
			return true;
		}
	}
	if (!parse_number(s, &v) || !v || v > 4095)
		return false;
	*err = (int)v;
	return true;
}

/* One "open:SUFFIX=ERR" or "ioctl:NAME=ERR[*TIMES]" item. */
static bool parse_rule(char *item)
{
	char *eq = strrchr(item, '='), *star;
	unsigned long req, times = 0;
	int err;

	if (!eq)
		return false;
	*eq++ = '\0';
	star = strchr(eq, '*');
	if (star) {
		*star++ = '\0';
		if (!parse_number(star, &times))
			return false;
	}
	if (!parse_errno(eq, &err))
		return false;
	if (!strncmp(item, "open:", 5) && item[5]) {
		add_open_rule(item + 5, err, 0);
		return true;
	}
	if (!strncmp(item, "ioctl:", 6) && parse_request(item + 6, &req)) {
		add_ioctl_rule(req, err, (int)times, 0);
		return true;
	}
	return false;
}

/* Add the rules of @spec; false when an item was malformed. */
static bool parse_spec(const char *spec, bool report)
{
	char *copy = strdup(spec), *item, *save;
	bool ok = true;

	if (!copy)
		return false;
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (parse_rule(item))
			continue;
		ok = false;
		if (report)
			fprintf(stderr, "mock_kernel: FPGACTL_MOCK_FAIL: cannot "
				"parse '%s'\n", item);
	}
	free(copy);
	return ok;
}

int mock_fail_parse(const char *spec)
{
	bool ok;

	mock_init();
	mock_lock();
	ok = parse_spec(spec, false);
	mock_unlock();
	return ok ? 0 : -EINVAL;
}

/*
 * FPGACTL_MOCK_FAIL="open:/dev/vfio/12=EACCES,ioctl:VFIO_DEVICE_RESET=EIO*1",
 * for LD_PRELOAD users, who cannot call the API.  Bad items are reported on
 * stderr and skipped.
 */
void mock_parse_env_failures(void)
{
	const char *env = getenv("FPGACTL_MOCK_FAIL");

	if (env && *env)
		parse_spec(env, true);
}

/* ---- counters, limits, hooks --------------------------------------------------- */

void mock_count_ioctl(unsigned long request)
{
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		if (counters[i].count && counters[i].request != request)
			continue;
		counters[i].request = request;
		counters[i].count++;
		return;
	}
}

unsigned int mock_ioctl_count(unsigned long request)
{
	unsigned int n = 0;

	mock_init();
	mock_lock();
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if (counters[i].count && counters[i].request == request)
			n = counters[i].count;
	mock_unlock();
	return n;
}

void mock_set_dma_limit(unsigned int limit)
{
	mock_init();
	mock_lock();
	dma_limit = limit;
	mock_unlock();
}

unsigned int mock_dma_limit(void)
{
	return dma_limit;
}

void mock_on_reset(void (*fn)(const char *, enum mock_reset_kind, void *),
		   void *arg)
{
	mock_init();
	mock_lock();
	reset_hook = fn;
	reset_hook_arg = arg;
	mock_unlock();
}

void mock_note_reset(struct mock_device *dev, enum mock_reset_kind kind)
{
	if (kind == MOCK_RESET_FUNCTION || kind == MOCK_RESET_BUS)
		dev->resets++;
	if (kind == MOCK_RESET_BUS)
		dev->hot_resets++;
	if (reset_hook)
		reset_hook(dev->bdf, kind, reset_hook_arg);
}

/* ---- the IOMMU's page sizes and type1's capabilities ------------------------------ */

static uint64_t iommu_pgsize = MOCK_PAGE_SIZE;
static bool type1_iova_cap = true;

void mock_set_iommu_pgsize(uint64_t pgsize)
{
	mock_init();
	mock_lock();
	iommu_pgsize = pgsize && !(pgsize & (pgsize - 1)) ? pgsize : MOCK_PAGE_SIZE;
	mock_unlock();
}

uint64_t mock_iommu_pgsize(void)
{
	return iommu_pgsize;
}

uint64_t mock_iommu_pgsizes(void)
{
	/* The smallest page, and the larger ones of the default set. */
	return iommu_pgsize | (MOCK_PGSIZES & ~(2 * iommu_pgsize - 1));
}

void mock_set_type1_iova_ranges(bool reported)
{
	mock_init();
	mock_lock();
	type1_iova_cap = reported;
	mock_unlock();
}

bool mock_type1_iova_ranges(void)
{
	return type1_iova_cap;
}

/* ---- madvise failures ------------------------------------------------------------ */

static struct { int advice, err, times; } madvise_rule;

void mock_fail_madvise(int advice, int err, int times)
{
	mock_init();
	mock_lock();
	madvise_rule.advice = advice;
	madvise_rule.err = err;
	madvise_rule.times = times;
	mock_unlock();
}

int mock_madvise_failure(int advice)
{
	int err = 0;

	mock_lock();
	if (madvise_rule.err && madvise_rule.advice == advice) {
		err = madvise_rule.err;
		if (madvise_rule.times > 0 && !--madvise_rule.times)
			madvise_rule.err = 0;
	}
	mock_unlock();
	return err;
}

/* ---- the log of device reads and writes ---------------------------------------- */

#define RW_LOG_MAX 256
static struct mock_rw rw_log[RW_LOG_MAX];
static size_t rw_count;

/* Called under the lock by the pread/pwrite checks for each device access. */
void mock_note_rw(uint32_t index, uint64_t offset, size_t len, bool write)
{
	if (rw_count < RW_LOG_MAX)
		rw_log[rw_count] = (struct mock_rw){ index, offset, len, write };
	rw_count++;
}

size_t mock_device_rw_log(struct mock_rw *out, size_t max)
{
	size_t n;

	mock_init();
	mock_lock();
	n = rw_count;
	for (size_t i = 0; i < n && i < max && i < RW_LOG_MAX; i++)
		out[i] = rw_log[i];
	mock_unlock();
	return n;
}

void mock_control_reset(void)
{
	clear_failures();
	rw_count = 0;
	madvise_rule.err = 0;
	iommu_pgsize = MOCK_PAGE_SIZE;
	type1_iova_cap = true;
	memset(counters, 0, sizeof(counters));
	dma_limit = MOCK_DMA_LIMIT_DEFAULT;
	reset_hook = NULL;
	reset_hook_arg = NULL;
}

/* ---- capability chains -------------------------------------------------------- */

void *mock_cap_add(struct mock_caps *caps, size_t size, uint16_t id,
		   uint16_t version)
{
	struct vfio_info_cap_header *h, *tail;

	size = (size + 7) & ~(size_t)7;		/* the next one stays aligned */
	if (caps->size + size > sizeof(caps->buf))
		abort();
	h = (void *)(caps->buf + caps->size);
	memset(h, 0, size);
	h->id = id;
	h->version = version;
	/* Link from the current tail; offsets are from the chain's start. */
	if (caps->size) {
		for (tail = (void *)caps->buf; tail->next;
		     tail = (void *)(caps->buf + tail->next))
			;
		tail->next = (uint32_t)caps->size;
	}
	caps->size += size;
	return h;
}

uint32_t mock_caps_copy(const struct mock_caps *caps, void *arg,
			size_t info_size, uint32_t *argsz)
{
	struct mock_caps shifted = *caps;
	struct vfio_info_cap_header *h = (void *)shifted.buf;

	if (*argsz < info_size + caps->size) {
		*argsz = (uint32_t)(info_size + caps->size);
		return 0;
	}
	/* vfio_info_cap_shift(): make offsets relative to the info struct. */
	while (h->next) {
		uint32_t next = h->next;

		h->next += (uint32_t)info_size;
		h = (void *)(shifted.buf + next);
	}
	memcpy((uint8_t *)arg + info_size, shifted.buf, caps->size);
	return (uint32_t)info_size;
}

/* ---- DMA helpers ---------------------------------------------------------------- */

/*
 * Pinning fails with -EFAULT on addresses the process has not mapped; ask
 * mincore(), which fails with ENOMEM on such a hole, page by page.
 */
bool mock_user_range_valid(uint64_t vaddr, uint64_t size)
{
	unsigned char vec[256];
	uint64_t start = vaddr & ~(MOCK_PAGE_SIZE - 1);
	uint64_t end = vaddr + size;

	if (!size || end < vaddr)
		return false;
	while (start < end) {
		uint64_t chunk = end - start;

		if (chunk > sizeof(vec) * MOCK_PAGE_SIZE)
			chunk = sizeof(vec) * MOCK_PAGE_SIZE;
		if (mincore((void *)(uintptr_t)start, (size_t)chunk, vec))
			return false;
		start += chunk;
	}
	return true;
}

void mock_maps_insert(struct mock_map **maps, struct mock_map *m)
{
	while (*maps && (*maps)->iova < m->iova)
		maps = &(*maps)->next;
	m->next = *maps;
	*maps = m;
}

struct mock_map *mock_maps_overlap(struct mock_map *maps, uint64_t iova,
				   uint64_t size)
{
	uint64_t last = iova + size - 1;

	for (struct mock_map *m = maps; m; m = m->next)
		if (m->iova <= last && iova <= m->iova + m->size - 1)
			return m;
	return NULL;
}
