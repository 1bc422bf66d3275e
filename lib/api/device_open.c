// SPDX-License-Identifier: MIT
/*
 * fpgactl_device_open(): which layer opens a device name.  The top of lib/
 * (docs/architecture.md, "Source layout and layering"), so that the VFIO
 * layer below never names the simulated devices: they plug in here, through
 * the same entry point as a PCI address.
 */
#include <string.h>

#include "core/core.h"
#include "vfio/vfio.h"
#include "sim/model.h"
#include "sim/sim.h"

/**
 * struct device_provider - one kind of device name
 * @matches: whether @name (not NULL) is this provider's
 * @open: open @name with @opts.  The contract of fpgactl_device_open(): the
 *	device with one reference (the application's), or NULL with *@err set
 *	to -errno when @err is not NULL, having logged the cause.
 */
struct device_provider {
	bool (*matches)(const char *name);
	struct fpgactl_device *(*open)(const char *name,
				       const struct fpgactl_open_opts *opts, int *err);
};

/* "model" or "model:OPTIONS": the built-in software model (lib/sim/model.c). */
static bool is_model(const char *name)
{
	return !strncmp(name, "model", 5) && (!name[5] || name[5] == ':');
}

/* "sim:/path/plugin.so[:OPTIONS]": a simulated-device plugin (lib/sim/plugin.c). */
static bool is_sim_plugin(const char *name)
{
	return !strncmp(name, "sim:", 4);
}

static const struct device_provider providers[] = {
	{ is_model, model_device_open },
	{ is_sim_plugin, sim_plugin_open },
};

FPGACTL_EXPORT struct fpgactl_device *
fpgactl_device_open(const char *bdf, const struct fpgactl_open_opts *opts,
		    int *err)
{
	for (size_t i = 0; bdf && i < ARRAY_SIZE(providers); i++)
		if (providers[i].matches(bdf))
			return providers[i].open(bdf, opts, err);
	/* Anything else is a PCI address, or refused as not one (logged). */
	return vfio_device_open(bdf, opts, err);
}
