// SPDX-License-Identifier: MIT
/*
 * The library's only output channel: a hook the application installs.
 */
#include <stdio.h>

#include "core/core.h"

static fpgactl_log_fn log_hook;
static void *log_arg;
static int log_max_level = FPGACTL_LOG_WARNING;

FPGACTL_EXPORT void fpgactl_set_log(fpgactl_log_fn fn, void *arg, int max_level)
{
	log_hook = fn;
	log_arg = arg;
	log_max_level = max_level;
}

void fpgactl_log(int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!log_hook || level > log_max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_hook(log_arg, level, msg);
}
