// SPDX-License-Identifier: MIT
/*
 * Simulated devices (docs/simdev.md): the device_ops every software device
 * goes through, whether it is the built-in model or a plugin loaded at run
 * time.  The library keeps config space, interrupt routing and the IOMMU
 * context; the plugin keeps the device, reaching host memory only through
 * the host services below, which translate IOVAs through the context's
 * DMA mappings.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommu/iommu.h"
#include "model.h"
#include "sim.h"

extern const struct device_ops sim_device_ops;

static struct sim_dev *to_sim(struct fpgactl_device *dev)
{
	return dev->priv;
}

bool sim_is(const struct fpgactl_device *dev)
{
	return dev && dev->ops == &sim_device_ops;
}

void *sim_state(const struct fpgactl_device *dev, const struct fpgactl_sim_ops *ops)
{
	const struct sim_dev *s;

	if (!sim_is(dev))
		return NULL;
	s = dev->priv;
	return s->ops == ops ? s->state : NULL;
}

/* ---- host services ------------------------------------------------------------- */

/* [iova, iova + len) inside one mapping: its address; NULL otherwise.
 * Called with iommu->lock held. */
static uint8_t *dma_va(struct fpgactl_iommu *iommu, uint64_t iova, uint64_t len)
{
	for (size_t i = 0; i < iommu->nr_maps; i++) {
		const struct dma_mapping *d = iommu->maps[i];

		if (iova >= d->iova && len <= d->size && iova - d->iova <= d->size - len)
			return (uint8_t *)(d->vaddr + (iova - d->iova));
	}
	return NULL;
}

static void host_dma_lock(void *ctx)
{
	struct sim_dev *s = ctx;

	pthread_mutex_lock(&s->dev->iommu->lock);
}

static void host_dma_unlock(void *ctx)
{
	struct sim_dev *s = ctx;

	pthread_mutex_unlock(&s->dev->iommu->lock);
}

static void *host_dma_ptr(void *ctx, uint64_t iova, uint64_t len)
{
	struct sim_dev *s = ctx;

	return dma_va(s->dev->iommu, iova, len);
}

static int host_dma_read(void *ctx, uint64_t iova, void *buf, size_t len)
{
	struct sim_dev *s = ctx;
	uint8_t *p;

	host_dma_lock(s);
	p = dma_va(s->dev->iommu, iova, len);
	if (p)
		memcpy(buf, p, len);
	host_dma_unlock(s);
	return p ? 0 : -EFAULT;
}

/* The last 8 bytes of [@p, @p + @len): one release store when aligned
 * (a completion entry), else release stores in ascending order. */
static void store_tail(uint8_t *p, const uint8_t *src, size_t len)
{
	uint64_t v;

	if (len == 8 && !((uintptr_t)p & 7)) {
		memcpy(&v, src, 8);
		__atomic_store_n((uint64_t *)(void *)p, v, __ATOMIC_RELEASE);
		return;
	}
	for (size_t i = 0; i < len; i++)
		__atomic_store_n(p + i, src[i], __ATOMIC_RELEASE);
}

/* Ascending order, the last 8 bytes with release stores: a completion
 * entry's phase tag (in its last bytes) is never seen before the rest. */
static int host_dma_write(void *ctx, uint64_t iova, const void *buf, size_t len)
{
	struct sim_dev *s = ctx;
	size_t head = len > 8 ? len - 8 : 0;
	uint8_t *p;

	host_dma_lock(s);
	p = dma_va(s->dev->iommu, iova, len);
	if (p) {
		memcpy(p, buf, head);
		store_tail(p + head, (const uint8_t *)buf + head, len - head);
	}
	host_dma_unlock(s);
	return p ? 0 : -EFAULT;
}

static int host_irq(void *ctx, uint32_t vector)
{
	static const uint64_t one = 1;
	struct sim_dev *s = ctx;
	int ret = 0;

	if (vector >= s->info.msix_vectors)
		return 0;
	pthread_mutex_lock(&s->irq_lock);
	if (s->irq_fds[vector] >= 0)
		/* An eventfd write fails only when its counter would overflow. */
		ret = write(s->irq_fds[vector], &one, sizeof(one)) == sizeof(one);
	pthread_mutex_unlock(&s->irq_lock);
	return ret;
}

static void host_log(void *ctx, int level, const char *msg)
{
	struct sim_dev *s = ctx;

	fpgactl_log(level, "%s: %s", s->dev->bdf, msg);
}

static void host_removed(void *ctx)
{
	struct sim_dev *s = ctx;

	pthread_mutex_lock(&s->cfg_lock);
	memset(s->config, 0xff, sizeof(s->config));
	__atomic_store_n(&s->removed, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->cfg_lock);
}

/* ---- device_ops ------------------------------------------------------------------ */

/* A BAR the plugin does not back with memory: naturally aligned accesses
 * of at most 8 bytes through its bar_read/bar_write. */
static int sim_bar_rw(struct sim_dev *s, uint32_t bar, uint64_t off, uint8_t *buf,
		      size_t len, bool write)
{
	while (len) {
		size_t w = 8;
		int ret;

		while (w > len || (off & (w - 1)))
			w >>= 1;
		ret = write ? s->ops->bar_write(s->state, bar, off, buf, w)
			    : s->ops->bar_read(s->state, bar, off, buf, w);
		if (ret) {
			log_err("%s: BAR%u %s of %zu bytes at 0x%llx failed: %s",
				s->dev->bdf, bar, write ? "write" : "read", w,
				(unsigned long long)off, strerror(-ret));
			return ret;
		}
		off += w;
		buf += w;
		len -= w;
	}
	return 0;
}

static int sim_region_rw(struct fpgactl_device *dev, struct region *r,
			 uint64_t off, void *buf, size_t len, bool write)
{
	struct sim_dev *s = to_sim(dev);
	uint32_t index = r->info.index;
	uint8_t *b = buf;

	if (index < FPGACTL_SIM_NR_BARS && s->info.bar_size[index] && !s->info.bar_mem[index] &&
	    off <= r->info.size && len <= r->info.size - off)
		return sim_bar_rw(s, index, off, buf, len, write);
	if (index != VFIO_PCI_CONFIG_REGION_INDEX || off > SIM_CONFIG_SIZE ||
	    len > SIM_CONFIG_SIZE - off) {
		log_err("%s: region %u [0x%llx, +0x%zx) cannot be accessed", dev->bdf,
			index, (unsigned long long)off, len);
		return -EINVAL;
	}
	pthread_mutex_lock(&s->cfg_lock);
	if (!write) {
		memcpy(buf, s->config + off, len);
	} else if (!__atomic_load_n(&s->removed, __ATOMIC_ACQUIRE)) {
		for (size_t i = 0; i < len; i++) {
			uint8_t mask = s->config_wmask[off + i];

			s->config[off + i] = (uint8_t)((s->config[off + i] & ~mask) |
						       (b[i] & mask));
		}
	}
	pthread_mutex_unlock(&s->cfg_lock);
	return 0;
}

static int sim_irq_info(struct fpgactl_device *dev, uint32_t index,
			struct fpgactl_irq_info *info)
{
	info->index = index;
	info->count = 0;
	info->flags = 0;
	if (index == VFIO_PCI_MSIX_IRQ_INDEX) {
		info->count = to_sim(dev)->info.msix_vectors;
		info->flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
	}
	return 0;
}

static int sim_reset(struct fpgactl_device *dev)
{
	struct sim_dev *s = to_sim(dev);
	int ret = -ENODEV;

	if (!__atomic_load_n(&s->removed, __ATOMIC_ACQUIRE))
		ret = s->ops->reset(s->state);
	if (ret == -ENODEV || __atomic_load_n(&s->removed, __ATOMIC_ACQUIRE)) {
		log_err("%s: the device was removed: it can no longer be reset", dev->bdf);
		return -ENODEV;
	}
	if (ret) {
		log_err("%s: reset failed: %s", dev->bdf, strerror(-ret));
		return ret;
	}
	sim_config_reset(s);
	return 0;
}

static int sim_hot_reset(struct fpgactl_device *dev)
{
	return -ENOTTY;
}

static bool sim_hot_reset_possible(struct fpgactl_device *dev)
{
	return false;
}

static void close_fds(int *fds, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int sim_set_irqs(struct fpgactl_device *dev, uint32_t index, uint32_t start,
			uint32_t count, const int *fds)
{
	struct sim_dev *s = to_sim(dev);
	uint32_t nr = s->info.msix_vectors, first = start, n = count;
	int *dups, ret = 0;

	if (index != VFIO_PCI_MSIX_IRQ_INDEX) {
		if (!count)
			return 0;	/* nothing to disable */
		log_err("%s: the device has MSI-X interrupts only (index %u asked)",
			dev->bdf, index);
		return -EINVAL;
	}
	if (!count) {
		first = 0;
		n = nr;
	} else if (start >= nr || count > nr - start) {
		log_err("%s: MSI-X vectors %u..%u asked; the device has %u", dev->bdf,
			start, start + count - 1, nr);
		return -EINVAL;
	}
	dups = malloc(n * sizeof(*dups));
	if (!dups)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		dups[i] = -1;
		if (!count || fds[i] < 0)
			continue;
		dups[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
		if (dups[i] < 0) {
			ret = -errno;
			log_err("%s: eventfd %d for MSI-X vector %u: %s", dev->bdf,
				fds[i], first + i, strerror(-ret));
			close_fds(dups, i);
			free(dups);
			return ret;
		}
	}
	pthread_mutex_lock(&s->irq_lock);
	for (uint32_t i = 0; i < n; i++) {
		int old = s->irq_fds[first + i];

		s->irq_fds[first + i] = dups[i];
		dups[i] = old;
	}
	pthread_mutex_unlock(&s->irq_lock);
	close_fds(dups, n);
	free(dups);
	return 0;
}

static void sim_close(struct fpgactl_device *dev)
{
	struct sim_dev *s = to_sim(dev);

	if (!s)
		return;
	if (s->opened)
		s->ops->close(s->state);
	if (s->irq_fds)
		close_fds(s->irq_fds, s->info.msix_vectors);
	free(s->irq_fds);
	if (dev->regions) {
		for (uint32_t i = 0; i < dev->num_regions; i++)
			free(dev->regions[i].areas);
		free(dev->regions);
		dev->regions = NULL;
	}
	memset(dev->bars, 0, sizeof(dev->bars));
	if (s->attached)
		device_detach(dev);
	if (s->dl)
		dlclose_plugin(s->dl);
	pthread_mutex_destroy(&s->irq_lock);
	pthread_mutex_destroy(&s->cfg_lock);
	free(s);
	dev->priv = NULL;
}

const struct device_ops sim_device_ops = {
	.region_rw = sim_region_rw,
	.irq_info = sim_irq_info,
	.reset = sim_reset,
	.hot_reset = sim_hot_reset,
	.hot_reset_possible = sim_hot_reset_possible,
	.set_irqs = sim_set_irqs,
	.close = sim_close,
};

/* ---- open ------------------------------------------------------------------------ */

static int info_check(struct sim_dev *s)
{
	const struct fpgactl_sim_info *in = &s->info;

	if (!in->msix_vectors || in->msix_vectors > SIM_MAX_VECTORS) {
		log_err("%s: the plugin presents %u MSI-X vectors (1..%u)", s->dev->bdf,
			in->msix_vectors, SIM_MAX_VECTORS);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < FPGACTL_SIM_NR_BARS; i++) {
		uint64_t sz = in->bar_size[i];

		if (sz && ((i & 1) || sz < 4096 || (sz & (sz - 1)))) {
			log_err("%s: the plugin presents BAR%u of 0x%llx bytes (64-bit "
				"BARs at even indexes, powers of two from 4 KiB)",
				s->dev->bdf, i, (unsigned long long)sz);
			return -EINVAL;
		}
	}
	if (in->deadline_scale > SIM_MAX_DEADLINE_SCALE) {
		log_err("%s: the plugin asks for %u times the spec's deadlines (at most %u)",
			s->dev->bdf, in->deadline_scale, SIM_MAX_DEADLINE_SCALE);
		return -EINVAL;
	}
	s->dev->deadline_scale = in->deadline_scale ? in->deadline_scale : 1;
	return 0;
}

static int regions_create(struct fpgactl_device *dev, struct sim_dev *s)
{
	dev->regions = calloc(SIM_NUM_REGIONS, sizeof(*dev->regions));
	if (!dev->regions)
		return -ENOMEM;
	for (uint32_t i = 0; i < SIM_NUM_REGIONS; i++)
		dev->regions[i].info.index = i;
	for (uint32_t i = 0; i < FPGACTL_SIM_NR_BARS; i++) {
		struct region *r = &dev->regions[i];
		uint64_t size = s->info.bar_size[i];
		uint8_t *mem = s->info.bar_mem[i];

		if (!size)
			continue;
		r->info.size = size;
		r->info.flags = FPGACTL_REGION_READ | FPGACTL_REGION_WRITE;
		if (!mem)
			continue;
		r->areas = calloc(1, sizeof(*r->areas));
		if (!r->areas)
			return -ENOMEM;
		r->areas[0] = (struct region_area){ 0, size };
		r->info.nr_areas = 1;
		r->info.flags |= FPGACTL_REGION_MMAP | FPGACTL_REGION_MAPPED;
		r->map = mem;
		dev->bars[i] = (struct fpgactl_bar){ .base = mem, .size = size, .index = i };
	}
	dev->regions[VFIO_PCI_CONFIG_REGION_INDEX].info.size = SIM_CONFIG_SIZE;
	dev->regions[VFIO_PCI_CONFIG_REGION_INDEX].info.flags =
		FPGACTL_REGION_READ | FPGACTL_REGION_WRITE;
	return 0;
}

static int sim_join_iommu(struct fpgactl_device *dev,
			  const struct fpgactl_open_opts *opts)
{
	int ret = 0;

	if (opts && opts->iommu) {
		if (opts->iommu->backend != &iommu_backend_model) {
			log_err("%s: cannot join a %s IOMMU context; a simulated device "
				"needs its own (open it with no context, or share another "
				"simulated device's)", dev->bdf, opts->iommu->backend->name);
			return -EINVAL;
		}
		iommu_get(opts->iommu);
		dev->iommu = opts->iommu;
		return 0;
	}
	dev->iommu = iommu_open_backend(&iommu_backend_model, &ret);
	return ret;
}

static int sim_setup(struct fpgactl_device *dev, struct sim_dev *s, const char *options,
		     const struct fpgactl_open_opts *opts)
{
	int ret = sim_join_iommu(dev, opts);

	if (ret)
		return ret;
	ret = device_attach(dev);
	if (ret)
		return ret;
	s->attached = true;
	ret = s->ops->open(options, &s->host, &s->info, &s->state);
	if (ret)
		return ret;
	s->opened = true;
	ret = info_check(s);
	if (ret)
		return ret;
	s->irq_fds = malloc(s->info.msix_vectors * sizeof(*s->irq_fds));
	if (!s->irq_fds)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->info.msix_vectors; i++)
		s->irq_fds[i] = -1;
	sim_config_init(s);
	ret = regions_create(dev, s);
	if (!ret && opts && (opts->flags & FPGACTL_OPEN_RESET))
		ret = fpgactl_device_reset(dev);
	return ret;
}

struct fpgactl_device *sim_open_ops(const struct fpgactl_sim_ops *ops, void *dl,
				    const char *name, const char *options,
				    const struct fpgactl_open_opts *opts, int *err)
{
	struct fpgactl_device *dev = device_alloc();
	struct sim_dev *s = dev ? calloc(1, sizeof(*s)) : NULL;
	int ret;

	if (!s) {
		free(dev);
		if (dl)
			dlclose_plugin(dl);
		if (err)
			*err = -ENOMEM;
		return NULL;
	}
	s->dev = dev;
	s->ops = ops;
	s->dl = dl;
	s->host = (struct fpgactl_sim_host){
		.abi = FPGACTL_SIM_ABI, .ctx = s,
		.dma_read = host_dma_read, .dma_write = host_dma_write,
		.irq = host_irq, .log = host_log,
		.dma_lock = host_dma_lock, .dma_unlock = host_dma_unlock,
		.dma_ptr = host_dma_ptr, .removed = host_removed,
	};
	pthread_mutex_init(&s->cfg_lock, NULL);
	pthread_mutex_init(&s->irq_lock, NULL);
	dev->priv = s;
	dev->ops = &sim_device_ops;
	snprintf(dev->bdf, sizeof(dev->bdf), "%s", name);
	dev->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	dev->num_regions = SIM_NUM_REGIONS;
	dev->num_irqs = SIM_NUM_IRQS;
	ret = sim_setup(dev, s, options, opts);
	if (!ret)
		return dev;
	dev->ops->close(dev);
	fpgactl_iommu_close(dev->iommu);
	free(dev);
	if (err)
		*err = ret;
	return NULL;
}
