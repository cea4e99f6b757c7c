/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers the single-file tools share (xtcp-fuzz, xtcp-holes,
 * xtcp-sackcost): a monotonic clock, a number from a file (the module's
 * parameters in sysfs), big-endian fields of the headers the tools forge
 * and read, and the transport checksum of a segment.
 */
#ifndef XTCP_TOOL_UTIL_H
#define XTCP_TOOL_UTIL_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The integer in @path (a sysfs parameter), or @def. */
static inline int read_int(const char *path, int def)
{
	FILE *f = fopen(path, "r");
	int v = def;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = def;
		fclose(f);
	}
	return v;
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, v);
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)get_be16(p) << 16 | get_be16(p + 2);
}

static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; len -= 2, p += 2)
		sum += p[0] << 8 | p[1];
	if (len)
		sum += p[0] << 8;
	return sum;
}

/*
 * The transport checksum of @seg (@len bytes, header and data) over the
 * pseudo header with protocol @proto, in network order, as the module
 * and native TCP check it.
 */
static inline uint16_t seg_csum(uint32_t saddr, uint32_t daddr, int proto,
				const uint8_t *seg, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, &saddr, 4);
	memcpy(ph + 4, &daddr, 4);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = len >> 8;
	ph[11] = len & 0xff;
	return htons(csum_fold(csum_add(csum_add(0, ph, sizeof(ph)), seg,
					len)));
}

#endif
