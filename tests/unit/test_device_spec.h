/* SPDX-License-Identifier: MIT */
/*
 * The device the end-to-end tests drive: the software model by default, or
 * the simulated device named by FPGACTL_TEST_DEVICE (e.g. the RTL
 * co-simulation, "sim:/path/libsoftcore-sim.so": tests/rtl/meson.build), so
 * that the same cases check both.  Cases that need the model's own options
 * (fault injection, counters) are skipped on another device.
 */
#ifndef TEST_DEVICE_SPEC_H
#define TEST_DEVICE_SPEC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FPGACTL_TEST_DEVICE, or NULL for the model. */
static inline const char *test_device_other(void)
{
	const char *s = getenv("FPGACTL_TEST_DEVICE");

	return s && *s ? s : NULL;
}

/*
 * The spec to open: @model_spec on the model; on another device that
 * device, with @sim_opts appended when not NULL ("" for none), or NULL when
 * the case is model-only (@sim_opts NULL): the caller skips.
 */
static inline const char *test_device_spec(const char *model_spec, const char *sim_opts)
{
	static char buf[4096];
	const char *other = test_device_other();

	if (!other)
		return model_spec;
	if (!sim_opts)
		return NULL;
	snprintf(buf, sizeof(buf), "%s%s%s", other,
		 *sim_opts ? (strchr(other + 4, ':') ? "," : ":") : "", sim_opts);
	return buf;
}

#endif
