/* SPDX-License-Identifier: MIT */
/*
 * The simulated-device layer (docs/simdev.md): one device_ops
 * implementation for every software device, the built-in model and the
 * plugins loaded at run time, both behind the versioned tables of
 * <fpgactl/simdev.h>.  Internal to lib/.
 */
#ifndef FPGACTL_SIM_H
#define FPGACTL_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "vfio/vfio.h"
#include "fpgactl/simdev.h"

#define SIM_CONFIG_SIZE 256
#define SIM_NUM_REGIONS 9	/* BAR0..5, ROM, config, VGA */
#define SIM_NUM_IRQS 5		/* INTx, MSI, MSI-X, error, request */
#define SIM_MAX_VECTORS 2048
/* Bound on fpgactl_sim_info.deadline_scale (100 ms becomes at most 100 s). */
#define SIM_MAX_DEADLINE_SCALE 1000
#define SIM_MSIX_CAP 0x40

/**
 * struct sim_dev - a simulated device's state in the library (dev->priv)
 * @dev: the device
 * @ops: the plugin's operations
 * @state: what @ops->open stored
 * @dl: dlopen() handle, NULL for the built-in model
 * @info: what the plugin presented
 * @host: the services given to the plugin
 * @cfg_lock: protects @config
 * @config: config space
 * @config_wmask: writable bits of @config
 * @irq_lock: protects @irq_fds
 * @irq_fds: per MSI-X vector, the library's duplicate of the routed
 *	eventfd, or -1
 * @removed: the plugin reported a surprise removal (atomic)
 * @opened: @ops->open succeeded
 * @attached: attached to dev->iommu
 */
struct sim_dev {
	struct fpgactl_device *dev;
	const struct fpgactl_sim_ops *ops;
	void *state;
	void *dl;
	struct fpgactl_sim_info info;
	struct fpgactl_sim_host host;
	pthread_mutex_t cfg_lock;
	uint8_t config[SIM_CONFIG_SIZE];
	uint8_t config_wmask[SIM_CONFIG_SIZE];
	pthread_mutex_t irq_lock;
	int *irq_fds;
	bool removed;
	bool opened;
	bool attached;
};

/* Open a device behind @ops with @options; @name becomes its bdf. */
struct fpgactl_device *sim_open_ops(const struct fpgactl_sim_ops *ops, void *dl,
				    const char *name, const char *options,
				    const struct fpgactl_open_opts *opts, int *err);

/* "sim:/path/plugin.so[:OPTIONS]": load the plugin and open it. */
struct fpgactl_device *sim_plugin_open(const char *spec,
				       const struct fpgactl_open_opts *opts, int *err);

/* plugin.c: dlclose() a plugin's handle. */
void dlclose_plugin(void *dl);

/* Is @dev a simulated device (model or plugin)? */
bool sim_is(const struct fpgactl_device *dev);
/* The plugin state of @dev when it is a simulated device behind @ops. */
void *sim_state(const struct fpgactl_device *dev, const struct fpgactl_sim_ops *ops);

/* config.c: config space of a type-0 function with the plugin's BARs and
 * an MSI-X capability; a function reset's effect on it. */
void sim_config_init(struct sim_dev *s);
void sim_config_reset(struct sim_dev *s);

/* The built-in software model's operations (lib/sim/model.c). */
extern const struct fpgactl_sim_ops model_sim_ops;

#endif
