// SPDX-License-Identifier: MIT
/*
 * fpgactl peek / poke / dump: checked register access to a BAR.
 *
 * Everything that can be checked without the device (numbers, width, BAR
 * number, alignment, value range) is checked before it is opened; the range
 * against the BAR size is checked before the first access.
 */
#include <inttypes.h>
#include <stdbool.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "util.h"

/**
 * struct reg_access - one validated register access request
 * @cmd: command name, for messages
 * @width: bytes per access: 1, 2, 4 or 8
 * @bar: BAR number
 * @offset: first byte, a multiple of @width
 * @count: number of accesses, at least 1
 * @value: value to write (poke)
 */
struct reg_access {
	const char *cmd;
	unsigned int width;
	uint32_t bar;
	uint64_t offset;
	uint64_t count;
	uint64_t value;
};

static int parse_width(const struct invocation *inv, struct reg_access *acc)
{
	uint64_t bits = 32;
	int status;

	if (inv->width) {
		status = parse_number_arg(acc->cmd, "width", inv->width, UINT64_MAX, &bits);
		if (status)
			return status;
	}
	if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
		return usage_error(acc->cmd, "width '%s' is not 8, 16, 32 or 64", inv->width);
	acc->width = (unsigned int)bits / 8;
	return STATUS_OK;
}

static int parse_bar(const struct invocation *inv, struct reg_access *acc)
{
	uint64_t bar = FPGACTL_REGION_BAR0;
	int status;

	if (inv->bar) {
		status = parse_number_arg(acc->cmd, "BAR", inv->bar, FPGACTL_REGION_BAR5, &bar);
		if (status)
			return status;
	}
	acc->bar = (uint32_t)bar;
	return STATUS_OK;
}

static int parse_offset(const char *text, struct reg_access *acc)
{
	int status = parse_number_arg(acc->cmd, "offset", text, UINT64_MAX, &acc->offset);

	if (status)
		return status;
	if (acc->offset % acc->width)
		return usage_error(acc->cmd, "offset 0x%" PRIx64 " is not aligned to %u bytes",
				   acc->offset, acc->width);
	return STATUS_OK;
}

/* The checks every register command starts with: device, -w, -b, OFFSET. */
static int parse_common(const struct invocation *inv, struct reg_access *acc,
			char bdf[FPGACTL_DEVICE_NAME_MAX])
{
	int status;

	acc->cmd = inv->cmd->name;
	acc->count = 1;
	status = require_device_or_model(inv, bdf, FPGACTL_DEVICE_NAME_MAX);
	if (!status)
		status = parse_width(inv, acc);
	if (!status)
		status = parse_bar(inv, acc);
	if (!status)
		status = parse_offset(inv->argv[0], acc);
	return status;
}

/* Usage error unless the whole access lies inside the BAR. */
static int check_inside_bar(struct fpgactl_device *dev, const char *bdf,
			    const struct reg_access *acc)
{
	struct fpgactl_region_info region;
	int err = fpgactl_region_get_info(dev, acc->bar, &region);

	if (err)
		return failure(acc->cmd, "%s: cannot describe BAR%" PRIu32 ": %s", bdf,
			       acc->bar, errno_text(err));
	if (!region.size)
		return usage_error(acc->cmd, "%s has no BAR%" PRIu32, bdf, acc->bar);
	if (acc->offset >= region.size)
		return usage_error(acc->cmd, "offset 0x%" PRIx64 " is outside BAR%" PRIu32
				   " (size 0x%" PRIx64 ")",
				   acc->offset, acc->bar, region.size);
	if (acc->count > (region.size - acc->offset) / acc->width)
		return usage_error(acc->cmd, "access at offset 0x%" PRIx64
				   " runs past the end of BAR%" PRIu32 " (size 0x%" PRIx64 ")",
				   acc->offset, acc->bar, region.size);
	return STATUS_OK;
}

static int read_register(struct fpgactl_device *dev, const struct reg_access *acc,
			 uint64_t offset, uint64_t *val)
{
	int err = fpgactl_reg_read(dev, acc->bar, offset, acc->width, val);

	if (err)
		return failure(acc->cmd, "read of BAR%" PRIu32 " at 0x%" PRIx64 " failed: %s",
			       acc->bar, offset, errno_text(err));
	return STATUS_OK;
}

typedef int (*register_op)(struct fpgactl_device *dev,
			   const struct reg_access *acc);

/* Open the device, check the range against the BAR, then run @op. */
static int run_on_device(const struct invocation *inv, const char *bdf,
			 const struct reg_access *acc, register_op op)
{
	struct fpgactl_device *dev;
	int status = open_device(inv, bdf, &dev);

	if (status)
		return status;
	status = check_inside_bar(dev, bdf, acc);
	if (!status)
		status = op(dev, acc);
	fpgactl_device_close(dev);
	return status;
}

static int print_one_value(struct fpgactl_device *dev, const struct reg_access *acc)
{
	uint64_t val;
	int status = read_register(dev, acc, acc->offset, &val);

	if (!status)
		printf("0x%0*" PRIx64 "\n", (int)acc->width * 2, val);
	return status;
}

static int print_values(struct fpgactl_device *dev, const struct reg_access *acc)
{
	for (uint64_t i = 0; i < acc->count; i++) {
		uint64_t offset = acc->offset + i * acc->width, val;
		int status = read_register(dev, acc, offset, &val);

		if (status)
			return status;
		printf("0x%08" PRIx64 ": 0x%0*" PRIx64 "\n", offset,
		       (int)acc->width * 2, val);
	}
	return STATUS_OK;
}

static int parse_positive(const struct reg_access *acc, const char *what,
			  const char *text, uint64_t *out)
{
	int status = parse_number_arg(acc->cmd, what, text, UINT64_MAX, out);

	if (!status && !*out)
		return usage_error(acc->cmd, "%s must be at least 1", what);
	return status;
}

static int run_peek(const struct invocation *inv)
{
	struct reg_access acc = { 0 };
	char bdf[FPGACTL_DEVICE_NAME_MAX];
	int status = parse_common(inv, &acc, bdf);

	if (!status && inv->argc > 1)
		status = parse_positive(&acc, "count", inv->argv[1], &acc.count);
	if (status)
		return status;
	return run_on_device(inv, bdf, &acc,
			     inv->argc > 1 ? print_values : print_one_value);
}

const struct command cmd_peek = {
	.name = "peek",
	.args = "OFFSET [COUNT]",
	.summary = "read registers of a BAR",
	.details = "Without COUNT prints the value alone (0x12345678); with COUNT prints\n"
		   "COUNT lines \"OFFSET: VALUE\" for consecutive registers.\n",
	.options = OPT_DEVICE | OPT_WIDTH | OPT_BAR,
	.model = true,
	.min_args = 1,
	.max_args = 2,
	.run = run_peek,
};

static int parse_value(const char *text, struct reg_access *acc)
{
	unsigned int bits = acc->width * 8;
	int status = parse_number_arg(acc->cmd, "value", text, UINT64_MAX, &acc->value);

	if (!status && bits < 64 && acc->value >> bits)
		return usage_error(acc->cmd, "value '%s' does not fit in %u bits", text, bits);
	return status;
}

static int write_value(struct fpgactl_device *dev, const struct reg_access *acc)
{
	int err = fpgactl_reg_write(dev, acc->bar, acc->offset, acc->width, acc->value);

	if (err)
		return failure(acc->cmd, "write of BAR%" PRIu32 " at 0x%" PRIx64 " failed: %s",
			       acc->bar, acc->offset, errno_text(err));
	return STATUS_OK;
}

static int run_poke(const struct invocation *inv)
{
	struct reg_access acc = { 0 };
	char bdf[FPGACTL_DEVICE_NAME_MAX];
	int status = parse_common(inv, &acc, bdf);

	if (!status)
		status = parse_value(inv->argv[1], &acc);
	if (status)
		return status;
	return run_on_device(inv, bdf, &acc, write_value);
}

const struct command cmd_poke = {
	.name = "poke",
	.args = "OFFSET VALUE",
	.summary = "write one register of a BAR",
	.details = "VALUE must fit in the access width.  Prints nothing on success.\n",
	.options = OPT_DEVICE | OPT_WIDTH | OPT_BAR,
	.model = true,
	.min_args = 2,
	.max_args = 2,
	.run = run_poke,
};

/* Store @val into @bytes in little-endian order, as PCI lays it out. */
static void store_le(uint8_t *bytes, uint64_t val, unsigned int width)
{
	for (unsigned int i = 0; i < width; i++)
		bytes[i] = (uint8_t)(val >> (8 * i));
}

static int dump_line(struct fpgactl_device *dev, const struct reg_access *acc,
		     uint64_t offset, size_t len)
{
	uint8_t bytes[HEXDUMP_LINE_BYTES];

	for (size_t i = 0; i < len; i += acc->width) {
		uint64_t val;
		int status = read_register(dev, acc, offset + i, &val);

		if (status)
			return status;
		store_le(bytes + i, val, acc->width);
	}
	hexdump_line(stdout, offset, bytes, len);
	return STATUS_OK;
}

static int dump_range(struct fpgactl_device *dev, const struct reg_access *acc)
{
	uint64_t left = acc->count * acc->width, offset = acc->offset;

	while (left) {
		size_t len = left < HEXDUMP_LINE_BYTES ? (size_t)left : HEXDUMP_LINE_BYTES;
		int status = dump_line(dev, acc, offset, len);

		if (status)
			return status;
		offset += len;
		left -= len;
	}
	return STATUS_OK;
}

static int parse_length(const char *text, struct reg_access *acc)
{
	uint64_t len;
	int status = parse_positive(acc, "length", text, &len);

	if (status)
		return status;
	if (len % acc->width)
		return usage_error(acc->cmd, "length %" PRIu64 " is not a multiple of %u bytes",
				   len, acc->width);
	acc->count = len / acc->width;
	return STATUS_OK;
}

static int run_dump(const struct invocation *inv)
{
	struct reg_access acc = { 0 };
	char bdf[FPGACTL_DEVICE_NAME_MAX];
	int status = parse_common(inv, &acc, bdf);

	if (!status)
		status = parse_length(inv->argv[1], &acc);
	if (status)
		return status;
	return run_on_device(inv, bdf, &acc, dump_range);
}

const struct command cmd_dump = {
	.name = "dump",
	.args = "OFFSET LENGTH",
	.summary = "hex dump LENGTH bytes of a BAR",
	.details = "Reads with accesses of the given width (-w) and prints the bytes in\n"
		   "memory (little-endian) order, 16 per line, with an ASCII column.\n",
	.options = OPT_DEVICE | OPT_WIDTH | OPT_BAR,
	.model = true,
	.min_args = 2,
	.max_args = 2,
	.run = run_dump,
};
