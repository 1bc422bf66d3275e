/* SPDX-License-Identifier: MIT */
/*
 * The device a command works on: validating the address the user typed and
 * opening it through the library.
 */
#ifndef FPGACTL_TOOL_DEVICE_ARG_H
#define FPGACTL_TOOL_DEVICE_ARG_H

#include <fpgactl.h>

#include "commands.h"

/**
 * parse_bdf_arg() - validate a PCI address typed by the user
 * @cmd: command name for the message
 * @text: the address as typed
 * @bdf: receives the canonical address
 *
 * Return: STATUS_OK, or STATUS_USAGE after one error line.
 */
int parse_bdf_arg(const char *cmd, const char *text, char bdf[FPGACTL_BDF_LEN]);

/**
 * require_device() - the -d device of a command that needs one
 * @inv: the invocation
 * @bdf: receives the canonical address
 *
 * Return: STATUS_OK, or STATUS_USAGE (no -d, or not a PCI address).
 */
int require_device(const struct invocation *inv, char bdf[FPGACTL_BDF_LEN]);

/**
 * open_device() - fpgactl_device_open() with an error line on failure
 * @inv: the invocation
 * @bdf: canonical address
 *
 * Return: the device, or NULL after an error line (the library's log hook
 * has already explained the cause).
 */
struct fpgactl_device *open_device(const struct invocation *inv,
				   const char *bdf);

#endif
