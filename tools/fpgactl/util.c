// SPDX-License-Identifier: MIT
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void vprint_error(const char *cmd, const char *fmt, va_list ap)
{
	fputs("fpgactl: ", stderr);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_error(cmd, fmt, ap);
	va_end(ap);
	return STATUS_USAGE;
}

int failure(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_error(cmd, fmt, ap);
	va_end(ap);
	return STATUS_FAILED;
}

const char *errno_text(int err)
{
	return strerror(err < 0 ? -err : err);
}

/* Value of one digit in base 16, or 16 when @c is not a hex digit. */
static unsigned int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (unsigned int)(c - 'A' + 10);
	return 16;
}

static bool has_hex_prefix(const char *s)
{
	return s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

int parse_uint(const char *s, unsigned int base, uint64_t max, uint64_t *out)
{
	uint64_t val = 0;

	if (s[0] == '-')
		return -EDOM;
	if (has_hex_prefix(s)) {
		base = 16;
		s += 2;
	} else if (base == PARSE_DEC_OR_HEX) {
		base = 10;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned int d = digit_value(*s);

		if (d >= base)
			return -EINVAL;
		if (val > (UINT64_MAX - d) / base)
			return -ERANGE;
		val = val * base + d;
	}
	if (val > max)
		return -ERANGE;
	*out = val;
	return 0;
}

int parse_number_arg(const char *cmd, const char *what, const char *s,
		     uint64_t max, uint64_t *out)
{
	switch (parse_uint(s, PARSE_DEC_OR_HEX, max, out)) {
	case 0:
		return STATUS_OK;
	case -EDOM:
		return usage_error(cmd, "%s '%s' is negative", what, s);
	case -ERANGE:
		/* Hex for register-shaped limits (0xffffffff), else decimal. */
		if (max < 10000 || ((max & (max + 1)) && (max & (max - 1))))
			return usage_error(cmd, "%s '%s' is too large (max %" PRIu64 ")",
					   what, s, max);
		return usage_error(cmd, "%s '%s' is too large (max 0x%" PRIx64 ")",
				   what, s, max);
	default:
		return usage_error(cmd, "%s '%s' is not a number", what, s);
	}
}

static void hexdump_bytes(FILE *out, const uint8_t *bytes, size_t n)
{
	for (size_t i = 0; i < HEXDUMP_LINE_BYTES; i++) {
		if (i < n)
			fprintf(out, "%02x", bytes[i]);
		else
			fputs("  ", out);
		if (i % 2)
			fputc(' ', out);
	}
}

static void hexdump_ascii(FILE *out, const uint8_t *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputc(isprint(bytes[i]) ? bytes[i] : '.', out);
}

void hexdump_line(FILE *out, uint64_t offset, const uint8_t *bytes, size_t n)
{
	fprintf(out, "%08" PRIx64 ": ", offset);
	hexdump_bytes(out, bytes, n);
	fputc(' ', out);
	hexdump_ascii(out, bytes, n);
	fputc('\n', out);
}

void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void json_string_or_null(FILE *out, const char *s)
{
	if (*s)
		json_string(out, s);
	else
		fputs("null", out);
}

void format_size(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	size_t unit = 0;

	while (unit + 1 < ARRAY_SIZE(units) && bytes >= 1024 && bytes % 1024 == 0) {
		bytes /= 1024;
		unit++;
	}
	snprintf(buf, size, "%" PRIu64 " %s", bytes, units[unit]);
}

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void sort_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), compare_u64);
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), compare_doubles);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
