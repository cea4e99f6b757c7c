/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The window function of CUBIC (RFC 9438 4.2) in integers: windows in
 * segments, times in milliseconds, C = 0.4 segments/s^3.
 */
#ifndef _XTCP_LIB_CUBIC_H
#define _XTCP_LIB_CUBIC_H

#include "types.h"

/* floor(cbrt(x)) */
u32 xtcp_cbrt(u64 x);

/*
 * K (RFC 9438 figure 2): the time, in ms, that W_cubic takes to climb back
 * by @gap segments to W_max: cbrt(gap / C).
 */
u32 xtcp_cubic_k_ms(u32 gap);

/*
 * W_cubic(t) = origin + C (t - K)^3 (RFC 9438 figure 1), t and K in ms since
 * the congestion avoidance epoch began; floored at 0, capped at U32_MAX.
 */
u32 xtcp_cubic_window(u32 origin, u32 k_ms, u32 t_ms);

#endif /* _XTCP_LIB_CUBIC_H */
