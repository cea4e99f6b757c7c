// SPDX-License-Identifier: GPL-2.0
/* CUBIC's window function, RFC 9438 4.2. */
#include "cubic.h"

/* 1 / C in ms^3 per segment: (1000 ms)^3 / 0.4. */
#define CUBIC_MS3_PER_SEG	2500000000ull
/* |t - K| beyond this (35 minutes) is taken as this: its cube fits a u64. */
#define CUBIC_MAX_OFFSET_MS	2097152u	/* 2^21 */

u32 xtcp_cbrt(u64 x)
{
	u32 lo = 0, hi = 2642245;	/* cbrt(2^64) < 2642246 */

	/* The largest r with r^3 <= x, by bisection: 22 rounds. */
	while (lo < hi) {
		u32 mid = lo + (hi - lo + 1) / 2;
		u64 cube = (u64)mid * mid * mid;

		if (cube <= x)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

u32 xtcp_cubic_k_ms(u32 gap)
{
	return xtcp_cbrt((u64)gap * CUBIC_MS3_PER_SEG);
}

u32 xtcp_cubic_window(u32 origin, u32 k_ms, u32 t_ms)
{
	u32 offs = t_ms > k_ms ? t_ms - k_ms : k_ms - t_ms;
	u64 delta;

	if (offs > CUBIC_MAX_OFFSET_MS)
		offs = CUBIC_MAX_OFFSET_MS;
	delta = (u64)offs * offs * offs / CUBIC_MS3_PER_SEG;
	if (t_ms < k_ms)
		return delta < origin ? origin - (u32)delta : 0;
	if (delta > 0xffffffffull - origin)
		return 0xffffffffu;
	return origin + (u32)delta;
}
