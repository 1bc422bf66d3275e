/* SPDX-License-Identifier: MIT */
/*
 * The log hook the programs of the VM suite give fpgactl_set_log(): each
 * message of the library on a line of stderr, after a prefix.
 */
#ifndef VM_PROGS_PROG_LOG_H
#define VM_PROGS_PROG_LOG_H

#include <stdio.h>

/* The prefixes the programs use: "lib: MSG" and "libfpgactl: MSG". */
#define PROG_LOG_LIB ((void *)"lib")
#define PROG_LOG_LIBFPGACTL ((void *)"libfpgactl")

/**
 * prog_log_stderr() - log hook: "PREFIX: MSG" on stderr, at every level
 * @prefix: the string given to fpgactl_set_log() (PROG_LOG_LIB or
 *	    PROG_LOG_LIBFPGACTL)
 * @level: unused (fpgactl_set_log()'s max_level filters)
 * @msg: the library's message
 */
static inline void prog_log_stderr(void *prefix, int level, const char *msg)
{
	(void)level;
	fprintf(stderr, "%s: %s\n", (const char *)prefix, msg);
}

#endif
