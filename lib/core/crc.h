/* SPDX-License-Identifier: MIT */
/*
 * Checksums of the soft-core protocol (docs/softcore.md), shared by the
 * host-side driver and the software model.  Internal.
 */
#ifndef FPGACTL_CRC_H
#define FPGACTL_CRC_H

#include <stddef.h>
#include <stdint.h>

/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), raw register
 * update: no initial value or final XOR applied.  Chain calls with the
 * previous return value.
 */
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);

/* The table-driven implementation crc32c_update() uses when the CPU has no
 * CRC32 instruction; exposed for the unit tests. */
uint32_t crc32c_update_soft(uint32_t crc, const void *buf, size_t len);

/* CRC-32C as the CRC32C command computes it: init and final XOR 0xFFFFFFFF.
 * crc32c("123456789", 9) == 0xE3069283. */
static inline uint32_t crc32c(const void *buf, size_t len)
{
	return ~crc32c_update(0xFFFFFFFFu, buf, len);
}

/* CRC-16/CCITT-FALSE: polynomial 0x1021, init 0xFFFF, no reflection, no
 * final XOR.  crc16_ccitt_false("123456789", 9) == 0x29B1. */
uint16_t crc16_ccitt_false(const void *buf, size_t len);

#endif
