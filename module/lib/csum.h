/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Internet checksum (RFC 1071) over the IPv4 pseudo-header and segment.
 * Partial sums are 32-bit accumulators of 16-bit words loaded in host order,
 * the same convention as the kernel's __wsum, so a sum from skb_checksum()
 * can be added to the pseudo-header sum computed here.
 */
#ifndef _XTCP_LIB_CSUM_H
#define _XTCP_LIB_CSUM_H

#include "types.h"

/* Add @len bytes at @buf to the partial sum @sum. */
u32 xtcp_csum_partial(const void *buf, size_t len, u32 sum);

/* Add two partial sums with end-around carry. */
u32 xtcp_csum_add(u32 a, u32 b);

/* Partial sum of the pseudo-header: addresses, protocol, segment length. */
u32 xtcp_csum_pseudo(__be32 saddr, __be32 daddr, u8 proto, u16 seg_len);

/* Fold to 16 bits and complement: the value for the checksum field. */
__sum16 xtcp_csum_fold(u32 sum);

/* True when a received segment's sum (pseudo-header included) is valid. */
static inline bool xtcp_csum_ok(u32 sum)
{
	return xtcp_csum_fold(sum) == 0;
}

#endif /* _XTCP_LIB_CSUM_H */
