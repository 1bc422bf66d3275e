// SPDX-License-Identifier: MIT
/*
 * The software model of the soft-core (docs/softcore.md, docs/model.md):
 * an in-process PCI function, the built-in client of the simulated-device
 * layer (lib/sim/, docs/simdev.md).  BAR0 (registers and doorbells) and
 * BAR2 (local memory) are plain memory the layer maps as a whole, so the
 * application drives them exactly as a real device's mapped BARs, without
 * a system call; the layer serves config space, routes MSI-X vectors to
 * eventfds and translates DMA.  The device itself is a thread
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
/* The spec's deadlines times this: the model's thread is not real time. */
#define MODEL_DEFAULT_DEADLINE_SCALE 10

static struct model *to_model(const struct fpgactl_device *dev)
{
	return sim_state(dev, &model_sim_ops);
}

bool model_is(const struct fpgactl_device *dev)
{
	return to_model(dev) != NULL;
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
		/* 0: a broken soft-core that takes no data command, for
		 * the tests of what the host makes of it. */
		if (!ret && v && v < 4)
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
	} else if (!strcmp(key, "deadline_scale")) {
		ret = parse_num(val, false, 1000, &v);
		c->deadline_scale = (uint32_t)v;
		if (!ret && !v)
			ret = -EINVAL;
	} else if (!strcmp(key, "spin")) {
		ret = parse_num(val, false, 1000000, &v);
		c->spin_ns = v * 1000;
	} else if (!strcmp(key, "idle")) {
		ret = parse_num(val, false, 1000000, &v);
		c->idle_ns = v * 1000;
	} else {
		log_err("model: unknown option '%s' (see docs/model.md: queues, "
			"depth, lmem, lmem_fill, max_xfer, fault, every, count, after, "
			"queue, slow, qen_delay, deadline_scale, spin, idle)", key);
		return -ENOENT;
	}
	return ret;
}

/* "" or "KEY=VALUE,KEY=VALUE...", what followed "model:" */
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
		.deadline_scale = MODEL_DEFAULT_DEADLINE_SCALE,
	};
	if (!*spec)
		return 0;
	copy = strdup(spec);
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

/* ---- the simulated-device operations ---------------------------------------- */

/* Function reset: the device thread does it at its next poll; wait for it. */
static int model_reset(void *state)
{
	struct model *m = state;
	unsigned int req;
	int ret = 0;

	pthread_mutex_lock(&m->lock);
	req = __atomic_add_fetch(&m->reset_req, 1, __ATOMIC_ACQ_REL);
	while (m->reset_done != req && !__atomic_load_n(&m->removed, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&m->cond, &m->lock);
	if (m->reset_done != req)
		ret = -ENODEV;
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/* Every BAR is memory the library maps: nothing comes this way. */
static int model_bar_read(void *state, uint32_t bar, uint64_t off, void *buf, size_t len)
{
	return -EINVAL;
}

static int model_bar_write(void *state, uint32_t bar, uint64_t off, const void *buf,
			   size_t len)
{
	return -EINVAL;
}

static void model_close(void *state)
{
	struct model *m = state;

	if (m->thread_started) {
		__atomic_store_n(&m->stop, true, __ATOMIC_RELEASE);
		pthread_join(m->thread, NULL);
	}
	if (m->bar0)
		munmap(m->bar0, MODEL_BAR0_SIZE);
	if (m->lmem)
		munmap(m->lmem, m->cfg.lmem_size);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
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

/* What the library presents: ids, BAR0 and BAR2 as memory, MSI-X. */
static void model_info(const struct model *m, struct fpgactl_sim_info *info)
{
	*info = (struct fpgactl_sim_info){
		.vendor = MODEL_VENDOR_ID, .device = MODEL_DEVICE_ID,
		.subsystem_vendor = MODEL_VENDOR_ID, .subsystem_device = 0x0001,
		.class_code = MODEL_CLASS, .revision = MODEL_REVISION,
		.msix_vectors = m->cfg.nr_queues,
		.msix_table = 0x8000, .msix_pba = 0x9000,
		.deadline_scale = m->cfg.deadline_scale,
	};
	info->bar_size[0] = MODEL_BAR0_SIZE;
	info->bar_mem[0] = m->bar0;
	info->bar_size[FPGACTL_SC_LMEM_BAR] = m->cfg.lmem_size;
	info->bar_mem[FPGACTL_SC_LMEM_BAR] = m->lmem;
}

static int model_start(struct model *m)
{
	sigset_t all, old;
	int ret;

	m->bar0 = map_zeroed(MODEL_BAR0_SIZE, true);
	/* Local memory is faulted in as used: it may be large. */
	m->lmem = map_zeroed(m->cfg.lmem_size, false);
	if (!m->bar0 || !m->lmem)
		return -ENOMEM;
	if (m->cfg.lmem_pattern)
		fill_pattern(m->lmem, m->cfg.lmem_size);
	model_regs_init(m);
	/* The device thread takes none of the application's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&m->thread, NULL, model_thread, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		log_err("model: cannot start the device thread: %s", strerror(-ret));
		return ret;
	}
	pthread_setname_np(m->thread, "fpgactl-model");
	m->thread_started = true;
	return 0;
}

static int model_open(const char *options, const struct fpgactl_sim_host *host,
		      struct fpgactl_sim_info *info, void **state)
{
	struct model_cfg cfg;
	struct model *m;
	int ret = parse_spec(options, &cfg);

	if (ret)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->host = host;
	m->cfg = cfg;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	ret = model_start(m);
	if (ret) {
		model_close(m);
		return ret;
	}
	model_info(m, info);
	*state = m;
	log_debug("model: opened (%u queues of up to %u entries, %u KiB local "
		  "memory, fault %s)", cfg.nr_queues, cfg.max_entries,
		  cfg.lmem_size >> 10, fault_names[cfg.fault]);
	return 0;
}

const struct fpgactl_sim_ops model_sim_ops = {
	.abi = FPGACTL_SIM_ABI,
	.name = "model",
	.open = model_open,
	.close = model_close,
	.reset = model_reset,
	.bar_read = model_bar_read,
	.bar_write = model_bar_write,
};

struct fpgactl_device *model_device_open(const char *spec,
					 const struct fpgactl_open_opts *opts,
					 int *err)
{
	return sim_open_ops(&model_sim_ops, NULL, "model", spec[5] ? spec + 6 : "",
			    opts, err);
}

int model_stats(struct fpgactl_device *dev, struct model_stats *out)
{
	struct model *m = to_model(dev);
	struct model_stats *s;

	if (!m)
		return -EINVAL;
	s = &m->stats;
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
