/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few types the pure-logic files use, so the same source compiles in the
 * module and in the host unit tests (tests/unit) with no kernel behind it.
 */
#ifndef _XTCP_LIB_TYPES_H
#define _XTCP_LIB_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#include <asm/byteorder.h>
#else
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <endian.h>

typedef __UINT8_TYPE__ u8;
typedef __UINT16_TYPE__ u16;
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
typedef __INT32_TYPE__ s32;
typedef __INT64_TYPE__ s64;
typedef u16 __be16;
typedef u32 __be32;
typedef u16 __sum16;

#define cpu_to_be16(x) htobe16(x)
#define cpu_to_be32(x) htobe32(x)
#define be16_to_cpu(x) be16toh(x)
#define be32_to_cpu(x) be32toh(x)
#endif

#endif /* _XTCP_LIB_TYPES_H */
