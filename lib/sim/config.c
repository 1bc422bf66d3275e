// SPDX-License-Identifier: MIT
/*
 * Config space of a simulated device: a type-0 header with the plugin's
 * ids, 64-bit memory BARs of the plugin's sizes and an MSI-X capability,
 * served from memory.  Writable: the command register (memory, bus master,
 * SERR, INTx disable), the BAR address bits (so sizing works), MSI-X
 * enable and function mask.
 */
#include <string.h>

#include "sim.h"

/* Where the BARs claim to live (config space only; nothing uses it). */
#define SIM_BAR0_ADDR 0xFE000000ull
#define SIM_BARN_ADDR 0x4000000000ull

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

/* BAR @i: 64-bit; BAR0 non-prefetchable (registers), the others
 * prefetchable (memory). */
static void bar_init(struct sim_dev *s, unsigned int i)
{
	uint64_t size = s->info.bar_size[i];
	uint64_t mask = ~(size - 1);
	uint64_t addr = i == 0 ? SIM_BAR0_ADDR : SIM_BARN_ADDR * (i / 2);
	uint32_t flags = i == 0 ? 0x4 : 0xc;
	uint8_t *c = s->config + 0x10 + 4 * i, *w = s->config_wmask + 0x10 + 4 * i;

	put32(c, (uint32_t)addr | flags);
	put32(c + 4, (uint32_t)(addr >> 32));
	put32(w, (uint32_t)mask & ~0xfu);
	put32(w + 4, (uint32_t)(mask >> 32));
}

void sim_config_init(struct sim_dev *s)
{
	const struct fpgactl_sim_info *in = &s->info;
	uint8_t *c = s->config, *w = s->config_wmask;

	memset(c, 0, SIM_CONFIG_SIZE);
	memset(w, 0, SIM_CONFIG_SIZE);
	put16(c + 0x00, in->vendor);
	put16(c + 0x02, in->device);
	put16(c + 0x06, 0x0010);		/* status: capabilities list */
	put32(c + 0x08, in->class_code << 8 | in->revision);
	for (unsigned int i = 0; i < FPGACTL_SIM_NR_BARS; i += 2)
		if (in->bar_size[i])
			bar_init(s, i);
	put16(c + 0x2c, in->subsystem_vendor);
	put16(c + 0x2e, in->subsystem_device);
	c[0x34] = SIM_MSIX_CAP;
	c[SIM_MSIX_CAP] = 0x11;
	put16(c + SIM_MSIX_CAP + 2, (uint16_t)(in->msix_vectors - 1));
	put32(c + SIM_MSIX_CAP + 4, in->msix_table);	/* BIR 0 */
	put32(c + SIM_MSIX_CAP + 8, in->msix_pba);
	put16(w + 0x04, 0x0506);
	w[SIM_MSIX_CAP + 3] = 0xc0;
}

void sim_config_reset(struct sim_dev *s)
{
	pthread_mutex_lock(&s->cfg_lock);
	if (!__atomic_load_n(&s->removed, __ATOMIC_ACQUIRE)) {
		put16(s->config + 0x04, 0);
		s->config[SIM_MSIX_CAP + 3] &= 0x3f;
	}
	pthread_mutex_unlock(&s->cfg_lock);
}
