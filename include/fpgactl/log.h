/* SPDX-License-Identifier: MIT */
#ifndef FPGACTL_LOG_H
#define FPGACTL_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The library never prints.  Every diagnostic goes through one hook that the
 * application installs; with no hook installed, messages are dropped.  The
 * levels are syslog's, so an application can forward them unchanged.
 */
enum fpgactl_log_level {
	FPGACTL_LOG_ERR = 3,
	FPGACTL_LOG_WARNING = 4,
	FPGACTL_LOG_NOTICE = 5,
	FPGACTL_LOG_INFO = 6,
	FPGACTL_LOG_DEBUG = 7,
};

/**
 * typedef fpgactl_log_fn - application log hook
 * @arg: the pointer given to fpgactl_set_log()
 * @level: one of &enum fpgactl_log_level
 * @msg: one complete message, without a trailing newline
 *
 * Called synchronously from the thread that hit the condition; it may be
 * called from several threads at once.  @msg is only valid during the call.
 */
typedef void (*fpgactl_log_fn)(void *arg, int level, const char *msg);

/**
 * fpgactl_set_log() - install the log hook
 * @fn: hook, or NULL to drop every message
 * @arg: passed back to @fn unchanged
 * @max_level: messages above this level are not formatted at all
 *
 * Process-wide.  Not synchronised against concurrent library calls: install
 * the hook before opening devices.
 */
void fpgactl_set_log(fpgactl_log_fn fn, void *arg, int max_level);

#ifdef __cplusplus
}
#endif
#endif
