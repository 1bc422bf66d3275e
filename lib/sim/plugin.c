// SPDX-License-Identifier: MIT
/*
 * Loading a simulated device from a shared object at run time:
 * "sim:/path/to/plugin.so[:OPTIONS]" (docs/simdev.md).  The plugin exports
 * FPGACTL_SIM_ENTRY, which returns its operations table; the table's ABI
 * version must be the library's.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

void dlclose_plugin(void *dl)
{
	dlclose(dl);
}

static void *plugin_load(const char *path, const struct fpgactl_sim_ops **ops, int *ret)
{
	fpgactl_sim_entry_fn entry;
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	*ret = -ENOENT;
	if (!dl) {
		log_err("sim: cannot load plugin %s: %s (build it first; see "
			"docs/simdev.md)", path, dlerror());
		return NULL;
	}
	*(void **)&entry = dlsym(dl, FPGACTL_SIM_ENTRY);
	*ops = entry ? entry() : NULL;
	*ret = -EINVAL;
	if (!entry || !*ops) {
		log_err("sim: %s exports no %s() returning an operations table: not "
			"a libfpgactl device plugin", path, FPGACTL_SIM_ENTRY);
	} else if ((*ops)->abi != FPGACTL_SIM_ABI) {
		log_err("sim: %s was built for simulated-device ABI %u, this library "
			"speaks %u: rebuild it against this <fpgactl/simdev.h>", path,
			(*ops)->abi, FPGACTL_SIM_ABI);
	} else if (!(*ops)->open || !(*ops)->close || !(*ops)->reset ||
		   !(*ops)->bar_read || !(*ops)->bar_write || !(*ops)->name) {
		log_err("sim: %s leaves operations of its table empty", path);
	} else {
		*ret = 0;
		return dl;
	}
	dlclose(dl);
	return NULL;
}

struct fpgactl_device *sim_plugin_open(const char *spec,
				       const struct fpgactl_open_opts *opts, int *err)
{
	const struct fpgactl_sim_ops *ops = NULL;
	const char *colon = strchr(spec + 4, ':');
	size_t len = colon ? (size_t)(colon - (spec + 4)) : strlen(spec + 4);
	char *path = strndup(spec + 4, len);
	void *dl;
	int ret = -ENOMEM;

	if (path && !*path) {
		log_err("sim: no plugin path (expected sim:/path/to/plugin.so[:OPTIONS])");
		ret = -EINVAL;
	}
	dl = path && *path ? plugin_load(path, &ops, &ret) : NULL;
	free(path);
	if (!dl) {
		if (err)
			*err = ret;
		return NULL;
	}
	return sim_open_ops(ops, dl, ops->name, colon ? colon + 1 : "", opts, err);
}
