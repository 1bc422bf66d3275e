/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the fpgactl commands: exit statuses, error messages,
 * strict number parsing, hex dump and JSON strings.
 */
#ifndef FPGACTL_TOOL_UTIL_H
#define FPGACTL_TOOL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses of the tool. */
enum exit_status {
	STATUS_OK = 0,
	STATUS_FAILED = 1, /* the operation was attempted and failed */
	STATUS_USAGE = 2,  /* bad command line: nothing was touched */
};

/*
 * Error lines: "fpgactl: CMD: MESSAGE" (or "fpgactl: MESSAGE" when @cmd is
 * NULL) on stderr.
 */

/* Print the error line, then return STATUS_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print the error line, then return STATUS_FAILED. */
int failure(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Text for a negative (or positive) errno value. */
const char *errno_text(int err);

/* Base argument of parse_uint(): decimal, or hexadecimal after "0x". */
#define PARSE_DEC_OR_HEX 0
/* Base argument of parse_uint(): hexadecimal, "0x" prefix optional. */
#define PARSE_HEX 16

/**
 * parse_uint() - the one strict parser for unsigned numbers
 * @s: the text; no sign, no blanks, no trailing characters
 * @base: PARSE_DEC_OR_HEX or PARSE_HEX (a leading 0 never means octal)
 * @max: largest accepted value
 * @out: receives the value on success
 *
 * Return: 0, -EINVAL (not a number), -EDOM (negative), -ERANGE (above @max).
 */
int parse_uint(const char *s, unsigned int base, uint64_t max, uint64_t *out);

/**
 * parse_number_arg() - parse_uint() for a command-line argument
 * @cmd: command name for the message
 * @what: what the number is ("offset", "COUNT", ...) for the message
 * @s: the argument
 * @max: largest accepted value
 * @out: receives the value
 *
 * Return: STATUS_OK, or STATUS_USAGE after one error line on stderr.
 */
int parse_number_arg(const char *cmd, const char *what, const char *s,
		     uint64_t max, uint64_t *out);

/* Bytes per line of hexdump_line(). */
#define HEXDUMP_LINE_BYTES 16

/**
 * hexdump_line() - one line of an xxd-style dump
 * @out: stream
 * @offset: offset printed at the start of the line
 * @bytes: up to HEXDUMP_LINE_BYTES bytes
 * @n: number of bytes; a short line is padded so the ASCII column aligns
 */
void hexdump_line(FILE *out, uint64_t offset, const uint8_t *bytes, size_t n);

/* Print @s as a JSON string literal, quotes included. */
void json_string(FILE *out, const char *s);

/* json_string(), or null when @s is empty. */
void json_string_or_null(FILE *out, const char *s);

/* Format @bytes as "4 KiB", "256 MiB", or "100 bytes" when not a round unit. */
void format_size(char *buf, size_t size, uint64_t bytes);

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t mono_ns(void);

/* Sort @n values in place, ascending. */
void sort_u64(uint64_t *v, size_t n);

/* Sort @n (at least 1) values in place and return their median. */
double median(double *v, size_t n);

#endif
