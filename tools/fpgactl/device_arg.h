/* SPDX-License-Identifier: MIT */
/*
 * The device a command works on: validating the name the user typed (a PCI
 * address, or the built-in software model) and opening it through the
 * library.
 */
#ifndef FPGACTL_TOOL_DEVICE_ARG_H
#define FPGACTL_TOOL_DEVICE_ARG_H

#include <stdbool.h>
#include <stddef.h>

#include <fpgactl.h>

#include "commands.h"

#ifndef FPGACTL_DEVICE_NAME_MAX
/*
 * Bytes of a device name buffer, the terminating NUL included: a device
 * name is a canonical PCI address or "model[:OPTIONS]" of at most
 * FPGACTL_DEVICE_NAME_MAX - 1 characters.
 */
#define FPGACTL_DEVICE_NAME_MAX 128
#endif

/* The software model's name, as fpgactl_device_open() knows it. */
#define MODEL_NAME "model"
/* A simulated device plugin: "sim:/path/plugin.so[:OPTIONS]". */
#define SIM_PREFIX "sim:"

/* True for "model" and "model:..." (the software model of docs/model.md). */
bool is_model_name(const char *text);

/**
 * refuse_model() - the usage error of a PCI-only command given the model
 * @cmd: command name for the message
 * @text: the device as typed, or NULL
 *
 * Return: STATUS_OK when @text is not a model name, else STATUS_USAGE
 * after one error line.
 */
int refuse_model(const char *cmd, const char *text);

/**
 * parse_bdf_arg() - validate a PCI address typed by the user
 * @cmd: command name for the message
 * @text: the address as typed
 * @bdf: receives the canonical address
 *
 * For a PCI-only command: the model is refused with its own message.
 *
 * Return: STATUS_OK, or STATUS_USAGE after one error line.
 */
int parse_bdf_arg(const char *cmd, const char *text, char bdf[FPGACTL_BDF_LEN]);

/**
 * require_device() - the -d device of a command that needs a PCI device
 * @inv: the invocation
 * @bdf: receives the canonical address
 *
 * Return: STATUS_OK, or STATUS_USAGE (no -d, the model, or not a PCI
 * address).
 */
int require_device(const struct invocation *inv, char bdf[FPGACTL_BDF_LEN]);

/**
 * parse_device_or_model() - validate a PCI address or a model name
 * @cmd: command name for the message
 * @text: the name as typed
 * @name: receives the canonical PCI address, or @text unchanged for
 *	"model" and "model:OPTIONS" (the library checks the options)
 * @size: size of @name, at most FPGACTL_DEVICE_NAME_MAX
 *
 * Return: STATUS_OK, or STATUS_USAGE after one error line (not a PCI
 * address nor a model name, or too long for @name).
 */
int parse_device_or_model(const char *cmd, const char *text, char *name, size_t size);

/**
 * require_device_or_model() - the -d device of a command that also works
 *	on the software model
 * @inv: the invocation
 * @name: receives the device name (see parse_device_or_model())
 * @size: size of @name
 *
 * Return: STATUS_OK, or STATUS_USAGE (no -d, or a bad name).
 */
int require_device_or_model(const struct invocation *inv, char *name, size_t size);

/**
 * open_device() - fpgactl_device_open() with an error line on failure
 * @inv: the invocation
 * @name: canonical PCI address or model name
 * @dev: receives the device, NULL on failure
 *
 * Return: STATUS_OK; STATUS_USAGE when @name is a model spec the library
 * refuses (the library's log line, the only one, names the option);
 * STATUS_FAILED after one line otherwise.
 */
int open_device(const struct invocation *inv, const char *name, struct fpgactl_device **dev);

/**
 * vf_token_valid() - whether @s is written as a UUID
 * @s: the --vf-token argument
 *
 * Return: true for "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" in hex digits.
 */
bool vf_token_valid(const char *s);

#endif
