// SPDX-License-Identifier: GPL-2.0
/*
 * Internet checksum arithmetic. The one's complement sum does not care about
 * byte order as long as the words are loaded and stored the same way, which is
 * why host-order loads give the right bytes in the field (RFC 1071 section 2).
 */
#include "csum.h"

u32 xtcp_csum_add(u32 a, u32 b)
{
	u32 r = a + b;

	return r + (r < a);
}

u32 xtcp_csum_partial(const void *buf, size_t len, u32 sum)
{
	const u8 *p = buf;
	u64 acc = sum;
	u16 word;

	while (len >= 2) {
		memcpy(&word, p, 2);
		acc += word;
		p += 2;
		len -= 2;
	}
	if (len) {
		u8 tail[2] = { p[0], 0 };

		memcpy(&word, tail, 2);
		acc += word;
	}
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (u32)acc;
}

u32 xtcp_csum_pseudo(__be32 saddr, __be32 daddr, u8 proto, u16 seg_len)
{
	struct {
		__be32 saddr;
		__be32 daddr;
		u8 zero;
		u8 proto;
		__be16 len;
	} ph = {
		.saddr = saddr,
		.daddr = daddr,
		.zero = 0,
		.proto = proto,
		.len = cpu_to_be16(seg_len),
	};

	return xtcp_csum_partial(&ph, 12, 0);
}

__sum16 xtcp_csum_fold(u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__force __sum16)(u16)~sum;
}
