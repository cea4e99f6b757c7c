/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sequence number arithmetic modulo 2^32 (RFC 9293 section 3.4): a is
 * "before" b when the signed distance from b to a is negative, which stays
 * right across the wrap as long as the two are less than 2^31 apart.
 */
#ifndef _XTCP_LIB_SEQ_H
#define _XTCP_LIB_SEQ_H

#include "types.h"

static inline bool xtcp_seq_before(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

static inline bool xtcp_seq_after(u32 a, u32 b)
{
	return xtcp_seq_before(b, a);
}

static inline bool xtcp_seq_before_eq(u32 a, u32 b)
{
	return !xtcp_seq_after(a, b);
}

static inline bool xtcp_seq_after_eq(u32 a, u32 b)
{
	return !xtcp_seq_before(a, b);
}

/* low <= seq <= high, all modulo 2^32. */
static inline bool xtcp_seq_between(u32 seq, u32 low, u32 high)
{
	return high - low >= seq - low;
}

static inline u32 xtcp_seq_max(u32 a, u32 b)
{
	return xtcp_seq_after(a, b) ? a : b;
}

static inline u32 xtcp_seq_min(u32 a, u32 b)
{
	return xtcp_seq_before(a, b) ? a : b;
}

#endif /* _XTCP_LIB_SEQ_H */
