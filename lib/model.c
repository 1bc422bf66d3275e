// SPDX-License-Identifier: MIT
/*
 * The software model of the soft-core (docs/softcore.md, docs/model.md):
 * an in-process PCI function.  BAR0 (registers and doorbells) and BAR2
 * (local memory) are plain memory, mapped as a whole, so the application
 * drives them exactly as a real device's mapped BARs, without a system
 * call; config space is served from memory through device_ops.region_rw;
 * MSI-X vectors are eventfds.  The device itself is a thread
 * (model_core.c) started at open and joined at close.
 */
#include <endian.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model_priv.h"

#define MODEL_DEFAULT_QUEUES 4
#define MODEL_DEFAULT_ENTRIES 4096
#define MODEL_DEFAULT_LMEM ((uint32_t)1 << 20)
#define MODEL_DEFAULT_MAX_XFER ((uint32_t)1 << 20)
#define MODEL_DEFAULT_SPIN_US 50
#define MODEL_DEFAULT_IDLE_US 50

/* Where the fake BARs claim to live (config space only; nothing uses it). */
#define MODEL_BAR0_ADDR 0xFE000000u
#define MODEL_BAR2_ADDR 0x4000000000ull

extern const struct device_ops model_device_ops;

static struct model *to_model(struct fpgactl_device *dev)
{
	return dev->priv;
}

bool model_is(const struct fpgactl_device *dev)
{
	return dev && dev->ops == &model_device_ops;
}

/* ---- options -------------------------------------------------------------- */

static const char *const fault_names[MODEL_FAULT_NR] = {
	[MODEL_FAULT_NONE] = "none",
	[MODEL_FAULT_CORRUPT] = "corrupt",
	[MODEL_FAULT_DUPLICATE] = "duplicate",
	[MODEL_FAULT_STALE] = "stale",
	[MODEL_FAULT_BAD_SQ_HEAD] = "bad-sq-head",
	[MODEL_FAULT_STALL] = "stall",
	[MODEL_FAULT_REMOVAL] = "removal",
};

/* A number in C notation with an optional k/K, m/M or g/G suffix. */
static int parse_num(const char *s, bool suffix, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	/* Decimal, or hexadecimal after 0x: a leading 0 is not octal. */
	const char *digits = s + ((s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 2 : 0);

	if (!isxdigit((unsigned char)*digits))
		return -EINVAL;
	v = strtoull(digits, &end, digits == s ? 10 : 16);
	if (end == digits)
		return -EINVAL;
	if (errno)
		return -EINVAL;
	if (suffix && *end) {
		switch (*end++) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return -EINVAL;
		}
	}
	if (*end || v > (max >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_fault(const char *s, enum model_fault *out)
{
	for (int i = MODEL_FAULT_NONE; i < MODEL_FAULT_NR; i++) {
		if (!strcmp(s, fault_names[i])) {
			*out = (enum model_fault)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_option(struct model_cfg *c, const char *key, const char *val,
			unsigned int *seen)
{
	uint64_t v = 0;
	int ret = -EINVAL;

	if (!strcmp(key, "fault"))
		return parse_fault(val, &c->fault);
	if (!strcmp(key, "queues")) {
		ret = parse_num(val, false, MODEL_MAX_QUEUES, &v);
		if (!ret && !v)
			ret = -EINVAL;
		c->nr_queues = (unsigned int)v;
	} else if (!strcmp(key, "depth")) {
		ret = parse_num(val, false, 32768, &v);
		if (!ret && v < 2)
			ret = -EINVAL;
		c->max_entries = (uint32_t)v;
	} else if (!strcmp(key, "lmem")) {
		ret = parse_num(val, true, (uint64_t)1 << 30, &v);
		if (!ret && (v < 4096 || (v & (v - 1))))
			ret = -EINVAL;
		c->lmem_size = (uint32_t)v;
	} else if (!strcmp(key, "lmem_fill")) {
		c->lmem_pattern = !strcmp(val, "pattern");
		ret = c->lmem_pattern || !strcmp(val, "zero") ? 0 : -EINVAL;
	} else if (!strcmp(key, "max_xfer")) {
		ret = parse_num(val, true, (uint64_t)64 << 20, &v);
		if (!ret && v < 4)
			ret = -EINVAL;
		c->max_xfer = (uint32_t)v;
	} else if (!strcmp(key, "every")) {
		ret = parse_num(val, false, UINT32_MAX, &c->every);
		if (!ret && !c->every)
			ret = -EINVAL;
		*seen |= 1;
	} else if (!strcmp(key, "count")) {
		ret = parse_num(val, false, UINT32_MAX, &c->count);
		*seen |= 1;
	} else if (!strcmp(key, "after")) {
		ret = parse_num(val, false, UINT32_MAX, &c->after);
		*seen |= 1;
	} else if (!strcmp(key, "queue")) {
		ret = parse_num(val, false, MODEL_MAX_QUEUES - 1, &v);
		c->queue = (int)v;
		*seen |= 1;
	} else if (!strcmp(key, "slow")) {
		ret = parse_num(val, false, 10000000, &v);
		c->slow_ns = v * 1000;
	} else if (!strcmp(key, "qen_delay")) {
		ret = parse_num(val, false, 10000000, &v);
		c->qen_delay_ns = v * 1000;
	} else if (!strcmp(key, "spin")) {
		ret = parse_num(val, false, 1000000, &v);
		c->spin_ns = v * 1000;
	} else if (!strcmp(key, "idle")) {
		ret = parse_num(val, false, 1000000, &v);
		c->idle_ns = v * 1000;
	} else {
		log_err("model: unknown option '%s' (see docs/model.md: queues, "
			"depth, lmem, lmem_fill, max_xfer, fault, every, count, after, "
			"queue, slow, qen_delay, spin, idle)", key);
		return -ENOENT;
	}
	return ret;
}

/* "model" or "model:KEY=VALUE,KEY=VALUE..." */
static int parse_spec(const char *spec, struct model_cfg *c)
{
	unsigned int seen = 0;
	char *copy, *tok, *save = NULL;
	int ret = 0;

	*c = (struct model_cfg){
		.nr_queues = MODEL_DEFAULT_QUEUES,
		.max_entries = MODEL_DEFAULT_ENTRIES,
		.lmem_size = MODEL_DEFAULT_LMEM,
		.max_xfer = MODEL_DEFAULT_MAX_XFER,
		.every = 1,
		.queue = -1,
		.spin_ns = MODEL_DEFAULT_SPIN_US * 1000,
		.idle_ns = MODEL_DEFAULT_IDLE_US * 1000,
	};
	if (!spec[5])
		return 0;
	copy = strdup(spec + 6);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq) {
			log_err("model: option '%s' needs a value (KEY=VALUE)", tok);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		ret = parse_option(c, tok, eq + 1, &seen);
		if (ret == -EINVAL)
			log_err("model: bad value '%s' for option '%s' (see "
				"docs/model.md)", eq + 1, tok);
		if (ret)
			ret = -EINVAL;
	}
	free(copy);
	if (!ret && seen && c->fault == MODEL_FAULT_NONE) {
		log_err("model: every=, count=, after= and queue= need fault=MODE");
		ret = -EINVAL;
	}
	if (!ret && c->queue >= (int)c->nr_queues) {
		log_err("model: queue=%d but the model has %u queues", c->queue,
			c->nr_queues);
		ret = -EINVAL;
	}
	if (!ret && c->fault == MODEL_FAULT_REMOVAL)
		c->count = 1;
	return ret;
}

/* ---- config space ----------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* A type-0 header: two 64-bit memory BARs, an MSI-X capability. */
static void config_init(struct model *m)
{
	uint8_t *c = m->config, *w = m->config_wmask;
	uint64_t bar0_mask = ~(uint64_t)(MODEL_BAR0_SIZE - 1);
	uint64_t bar2_mask = ~(uint64_t)(m->cfg.lmem_size - 1);

	memset(c, 0, MODEL_CONFIG_SIZE);
	memset(w, 0, MODEL_CONFIG_SIZE);
	put16(c + 0x00, MODEL_VENDOR_ID);
	put16(c + 0x02, MODEL_DEVICE_ID);
	put16(c + 0x06, 0x0010);		/* status: capabilities list */
	put32(c + 0x08, MODEL_CLASS << 8 | MODEL_REVISION);
	c[0x0e] = 0x00;				/* header type 0 */
	/* BAR0: 64-bit memory, non-prefetchable; BAR2: 64-bit prefetchable. */
	put32(c + 0x10, MODEL_BAR0_ADDR | 0x4);
	put32(c + 0x14, 0);
	put32(c + 0x18, (uint32_t)MODEL_BAR2_ADDR | 0xc);
	put32(c + 0x1c, (uint32_t)(MODEL_BAR2_ADDR >> 32));
	put16(c + 0x2c, MODEL_VENDOR_ID);	/* subsystem */
	put16(c + 0x2e, 0x0001);
	c[0x34] = MODEL_MSIX_CAP;
	c[0x3d] = 0;				/* no INTx pin */
	/* MSI-X: one vector per queue; table at BAR0 0x8000, PBA at 0x9000. */
	c[MODEL_MSIX_CAP] = 0x11;
	c[MODEL_MSIX_CAP + 1] = 0;
	put16(c + MODEL_MSIX_CAP + 2, (uint16_t)(m->cfg.nr_queues - 1));
	put32(c + MODEL_MSIX_CAP + 4, 0x8000 | 0);
	put32(c + MODEL_MSIX_CAP + 8, 0x9000 | 0);

	/* Writable: command (memory, bus master, SERR, INTx disable), the BAR
	 * address bits (so sizing works), MSI-X enable and function mask. */
	put16(w + 0x04, 0x0506);
	put32(w + 0x10, (uint32_t)bar0_mask & ~0xfu);
	put32(w + 0x14, (uint32_t)(bar0_mask >> 32));
	put32(w + 0x18, (uint32_t)bar2_mask & ~0xfu);
	put32(w + 0x1c, (uint32_t)(bar2_mask >> 32));
	w[MODEL_MSIX_CAP + 3] = 0xc0;
}

void model_config_reset(struct model *m)
{
	pthread_mutex_lock(&m->cfg_lock);
	if (!__atomic_load_n(&m->removed, __ATOMIC_ACQUIRE)) {
		put16(m->config + 0x04, 0);
		m->config[MODEL_MSIX_CAP + 3] &= 0x3f;
	}
	pthread_mutex_unlock(&m->cfg_lock);
}

/* ---- device_ops --------------------------------------------------------------- */

static int model_region_rw(struct fpgactl_device *dev, struct region *r,
			   uint64_t off, void *buf, size_t len, bool write)
{
	struct model *m = to_model(dev);
	uint8_t *b = buf;

	if (r->info.index != VFIO_PCI_CONFIG_REGION_INDEX || off > MODEL_CONFIG_SIZE ||
	    len > MODEL_CONFIG_SIZE - off) {
		log_err("%s: region %u [0x%llx, +0x%zx) cannot be accessed", dev->bdf,
			r->info.index, (unsigned long long)off, len);
		return -EINVAL;
	}
	pthread_mutex_lock(&m->cfg_lock);
	if (!write) {
		memcpy(buf, m->config + off, len);
	} else if (!__atomic_load_n(&m->removed, __ATOMIC_ACQUIRE)) {
		for (size_t i = 0; i < len; i++) {
			uint8_t mask = m->config_wmask[off + i];

			m->config[off + i] = (uint8_t)((m->config[off + i] & ~mask) |
						       (b[i] & mask));
		}
	}
	pthread_mutex_unlock(&m->cfg_lock);
	return 0;
}

static int model_irq_info(struct fpgactl_device *dev, uint32_t index,
			  struct fpgactl_irq_info *info)
{
	info->index = index;
	info->count = 0;
	info->flags = 0;
	if (index == VFIO_PCI_MSIX_IRQ_INDEX) {
		info->count = to_model(dev)->cfg.nr_queues;
		info->flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
	}
	return 0;
}

/* Function reset: the device thread does it at its next poll; wait for it. */
static int model_reset(struct fpgactl_device *dev)
{
	struct model *m = to_model(dev);
	unsigned int req;
	int ret = 0;

	pthread_mutex_lock(&m->lock);
	req = __atomic_add_fetch(&m->reset_req, 1, __ATOMIC_ACQ_REL);
	while (m->reset_done != req && !__atomic_load_n(&m->removed, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&m->cond, &m->lock);
	if (m->reset_done != req)
		ret = -ENODEV;
	pthread_mutex_unlock(&m->lock);
	if (ret)
		log_err("%s: the model was removed: it can no longer be reset",
			dev->bdf);
	return ret;
}

static int model_hot_reset(struct fpgactl_device *dev)
{
	return -ENOTTY;
}

static bool model_hot_reset_possible(struct fpgactl_device *dev)
{
	return false;
}

static int model_set_irqs(struct fpgactl_device *dev, uint32_t index, uint32_t start,
			  uint32_t count, const int *fds)
{
	struct model *m = to_model(dev);
	unsigned int nr = m->cfg.nr_queues;
	int dups[MODEL_MAX_QUEUES], old[MODEL_MAX_QUEUES];
	uint32_t first = start, n = count;

	if (index != VFIO_PCI_MSIX_IRQ_INDEX) {
		if (!count)
			return 0;	/* nothing to disable */
		log_err("%s: the model has MSI-X interrupts only (index %u asked)",
			dev->bdf, index);
		return -EINVAL;
	}
	if (!count) {
		first = 0;
		n = nr;
	} else if (start >= nr || count > nr - start) {
		log_err("%s: MSI-X vectors %u..%u asked; the model has %u", dev->bdf,
			start, start + count - 1, nr);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n; i++) {
		dups[i] = -1;
		if (!count || fds[i] < 0)
			continue;
		dups[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
		if (dups[i] < 0) {
			int ret = -errno;

			log_err("%s: eventfd %d for MSI-X vector %u: %s", dev->bdf,
				fds[i], first + i, strerror(-ret));
			while (i--)
				if (dups[i] >= 0)
					close(dups[i]);
			return ret;
		}
	}
	pthread_mutex_lock(&m->irq_lock);
	for (uint32_t i = 0; i < n; i++) {
		old[i] = m->irq_fds[first + i];
		m->irq_fds[first + i] = dups[i];
	}
	pthread_mutex_unlock(&m->irq_lock);
	for (uint32_t i = 0; i < n; i++)
		if (old[i] >= 0)
			close(old[i]);
	return 0;
}

static void model_close(struct fpgactl_device *dev)
{
	struct model *m = to_model(dev);

	if (!m)
		return;
	if (m->thread_started) {
		__atomic_store_n(&m->stop, true, __ATOMIC_RELEASE);
		pthread_join(m->thread, NULL);
	}
	for (unsigned int i = 0; i < MODEL_MAX_QUEUES; i++)
		if (m->irq_fds[i] >= 0)
			close(m->irq_fds[i]);
	if (dev->regions) {
		for (uint32_t i = 0; i < dev->num_regions; i++)
			free(dev->regions[i].areas);
		free(dev->regions);
		dev->regions = NULL;
	}
	memset(dev->bars, 0, sizeof(dev->bars));
	if (m->bar0)
		munmap(m->bar0, MODEL_BAR0_SIZE);
	if (m->lmem)
		munmap(m->lmem, m->cfg.lmem_size);
	if (m->attached)
		iommu_detach(dev->iommu, dev);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->irq_lock);
	pthread_mutex_destroy(&m->cfg_lock);
	free(m);
	dev->priv = NULL;
}

const struct device_ops model_device_ops = {
	.region_rw = model_region_rw,
	.irq_info = model_irq_info,
	.reset = model_reset,
	.hot_reset = model_hot_reset,
	.hot_reset_possible = model_hot_reset_possible,
	.set_irqs = model_set_irqs,
	.close = model_close,
};

/* ---- open ------------------------------------------------------------------- */

static int bar_setup(struct fpgactl_device *dev, uint32_t index, uint8_t *mem,
		     uint64_t size)
{
	struct region *r = &dev->regions[index];

	r->areas = calloc(1, sizeof(*r->areas));
	if (!r->areas)
		return -ENOMEM;
	r->areas[0] = (struct region_area){ 0, size };
	r->info.size = size;
	r->info.nr_areas = 1;
	r->info.flags = FPGACTL_REGION_READ | FPGACTL_REGION_WRITE |
			FPGACTL_REGION_MMAP | FPGACTL_REGION_MAPPED;
	r->map = mem;
	dev->bars[index] = (struct fpgactl_bar){ .base = mem, .size = size,
						 .index = index };
	return 0;
}

static void *map_zeroed(size_t len, bool populate)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0),
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* lmem_fill=pattern: each 32-bit word holds its offset ^ 0xa5a5a5a5. */
static void fill_pattern(uint8_t *mem, uint32_t size)
{
	for (uint32_t off = 0; off < size; off += 4) {
		uint32_t v = htole32(off ^ 0xa5a5a5a5u);

		memcpy(mem + off, &v, sizeof(v));
	}
}

static int regions_create(struct fpgactl_device *dev, struct model *m)
{
	int ret;

	m->bar0 = map_zeroed(MODEL_BAR0_SIZE, true);
	/* Local memory is faulted in as used: it may be large. */
	m->lmem = map_zeroed(m->cfg.lmem_size, false);
	if (m->lmem && m->cfg.lmem_pattern)
		fill_pattern(m->lmem, m->cfg.lmem_size);
	dev->regions = calloc(MODEL_NUM_REGIONS, sizeof(*dev->regions));
	if (!m->bar0 || !m->lmem || !dev->regions)
		return -ENOMEM;
	for (uint32_t i = 0; i < MODEL_NUM_REGIONS; i++)
		dev->regions[i].info.index = i;
	ret = bar_setup(dev, 0, m->bar0, MODEL_BAR0_SIZE);
	if (!ret)
		ret = bar_setup(dev, FPGACTL_SC_LMEM_BAR, m->lmem, m->cfg.lmem_size);
	if (ret)
		return ret;
	dev->regions[VFIO_PCI_CONFIG_REGION_INDEX].info.size = MODEL_CONFIG_SIZE;
	dev->regions[VFIO_PCI_CONFIG_REGION_INDEX].info.flags =
		FPGACTL_REGION_READ | FPGACTL_REGION_WRITE;
	return 0;
}

static int model_join_iommu(struct fpgactl_device *dev,
			    const struct fpgactl_open_opts *opts)
{
	int ret = 0;

	if (opts && opts->iommu) {
		if (opts->iommu->backend != &iommu_backend_model) {
			log_err("model: cannot join a %s IOMMU context; the model needs "
				"its own (open it with no context, or share another "
				"model's)", opts->iommu->backend->name);
			return -EINVAL;
		}
		iommu_get(opts->iommu);
		dev->iommu = opts->iommu;
		return 0;
	}
	dev->iommu = iommu_open(FPGACTL_IOMMU_MODEL, &ret);
	return ret;
}

static int model_setup(struct fpgactl_device *dev, struct model *m,
		       const struct fpgactl_open_opts *opts)
{
	sigset_t all, old;
	int ret = regions_create(dev, m);

	if (ret)
		return ret;
	config_init(m);
	model_regs_init(m);
	ret = model_join_iommu(dev, opts);
	if (ret)
		return ret;
	ret = iommu_attach(dev->iommu, dev);
	if (ret)
		return ret;
	m->attached = true;
	/* The device thread takes none of the application's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&m->thread, NULL, model_thread, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ret)
		pthread_setname_np(m->thread, "fpgactl-model");
	if (ret) {
		log_err("model: cannot start the device thread: %s", strerror(-ret));
		return ret;
	}
	m->thread_started = true;
	if (opts && (opts->flags & FPGACTL_OPEN_RESET))
		ret = fpgactl_device_reset(dev);
	return ret;
}

struct fpgactl_device *model_device_open(const char *spec,
					 const struct fpgactl_open_opts *opts,
					 int *err)
{
	struct fpgactl_device *dev = NULL;
	struct model_cfg cfg;
	struct model *m;
	int ret = parse_spec(spec, &cfg);

	if (ret)
		goto fail;
	dev = device_alloc();
	m = dev ? calloc(1, sizeof(*m)) : NULL;
	if (!m) {
		free(dev);
		dev = NULL;
		ret = -ENOMEM;
		goto fail;
	}
	m->dev = dev;
	m->cfg = cfg;
	pthread_mutex_init(&m->cfg_lock, NULL);
	pthread_mutex_init(&m->irq_lock, NULL);
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	for (unsigned int i = 0; i < MODEL_MAX_QUEUES; i++)
		m->irq_fds[i] = -1;
	dev->priv = m;
	dev->ops = &model_device_ops;
	snprintf(dev->bdf, sizeof(dev->bdf), "model");
	dev->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	dev->num_regions = MODEL_NUM_REGIONS;
	dev->num_irqs = MODEL_NUM_IRQS;
	ret = model_setup(dev, m, opts);
	if (!ret) {
		log_debug("model: opened (%u queues of up to %u entries, %u KiB local "
			  "memory, fault %s)", cfg.nr_queues, cfg.max_entries,
			  cfg.lmem_size >> 10, fault_names[cfg.fault]);
		return dev;
	}
fail:
	if (dev) {
		dev->ops->close(dev);
		fpgactl_iommu_close(dev->iommu);
		free(dev);
	}
	if (err)
		*err = ret;
	return NULL;
}

int model_stats(struct fpgactl_device *dev, struct model_stats *out)
{
	struct model_stats *s;

	if (!model_is(dev))
		return -EINVAL;
	s = &to_model(dev)->stats;
#define LOAD(f) __atomic_load_n(&s->f, __ATOMIC_RELAXED)
	out->commands = LOAD(commands);
	out->completions = LOAD(completions);
	out->errors = LOAD(errors);
	out->interrupts = LOAD(interrupts);
	for (int i = 0; i < MODEL_FAULT_NR; i++)
		out->injected[i] = LOAD(injected[i]);
	out->fatal = LOAD(fatal);
	out->sleeps = LOAD(sleeps);
	out->removed = LOAD(removed);
#undef LOAD
	return 0;
}
