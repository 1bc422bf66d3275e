// SPDX-License-Identifier: MIT
/*
 * CRC-32C (slicing-by-8, or the SSE4.2 instruction where the CPU has it)
 * and CRC-16/CCITT-FALSE (bytewise table).
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "crc.h"

#define CRC32C_POLY 0x82F63B78u	/* 0x1EDC6F41 reflected */
#define CRC16_POLY 0x1021u

static uint32_t crc32c_table[8][256];
static uint16_t crc16_table[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
#if defined(__x86_64__)
static bool have_sse42;
#endif

static void tables_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		uint16_t h = (uint16_t)(i << 8);

		for (int k = 0; k < 8; k++) {
			c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY : 0);
			h = (uint16_t)((h << 1) ^ ((h & 0x8000) ? CRC16_POLY : 0));
		}
		crc32c_table[0][i] = c;
		crc16_table[i] = h;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc32c_table[t][i] = (crc32c_table[t - 1][i] >> 8) ^
					     crc32c_table[0][crc32c_table[t - 1][i] & 0xff];
#if defined(__x86_64__)
	__builtin_cpu_init();
	have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t crc32c_sw(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		uint32_t lo, hi;

		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
		lo ^= crc;	/* little-endian hosts */
		crc = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
		      crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
		      crc32c_table[3][hi & 0xff] ^ crc32c_table[2][(hi >> 8) & 0xff] ^
		      crc32c_table[1][(hi >> 16) & 0xff] ^ crc32c_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc;

	while (len && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		len--;
	}
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}
#endif

uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&tables_once, tables_init);
#if defined(__x86_64__)
	if (have_sse42)
		return crc32c_hw(crc, buf, len);
#endif
	return crc32c_sw(crc, buf, len);
}

uint32_t crc32c_update_soft(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&tables_once, tables_init);
	return crc32c_sw(crc, buf, len);
}

uint16_t crc16_ccitt_false(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint16_t crc = 0xFFFF;

	pthread_once(&tables_once, tables_init);
	while (len--)
		crc = (uint16_t)((crc << 8) ^ crc16_table[(crc >> 8) ^ *p++]);
	return crc;
}
