// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for module/lib/cubic.c: the integer cube root and CUBIC's
 * window function. Expected values worked out with RFC 9438's formulas,
 * C = 0.4, beta = 0.7, in ms and whole segments (floors).
 */
#include "harness.h"
#include "cubic.h"

TEST(cubic_cbrt_exact_and_floor)
{
	CHECK_EQ(xtcp_cbrt(0), 0);
	CHECK_EQ(xtcp_cbrt(1), 1);
	CHECK_EQ(xtcp_cbrt(7), 1);
	CHECK_EQ(xtcp_cbrt(8), 2);
	CHECK_EQ(xtcp_cbrt(26), 2);
	CHECK_EQ(xtcp_cbrt(27), 3);
	CHECK_EQ(xtcp_cbrt(999999999999ull), 9999);
	CHECK_EQ(xtcp_cbrt(1000000000000ull), 10000);
	/* The largest input: 2642245^3 <= 2^64 - 1 < 2642246^3. */
	CHECK_EQ(xtcp_cbrt(~0ull), 2642245);
}

TEST(cubic_k_after_loss)
{
	/* No gap: W_max is where the epoch starts, K = 0. */
	CHECK_EQ(xtcp_cubic_k_ms(0), 0);
	/* One segment: cbrt(1 / 0.4) s = 1.357 s. */
	CHECK_EQ(xtcp_cubic_k_ms(1), 1357);
	/* W_max 100, cwnd 70 after beta: cbrt(30 / 0.4) s = 4.217 s. */
	CHECK_EQ(xtcp_cubic_k_ms(30), 4217);
	/* The largest window's gap stays within u64. */
	CHECK_EQ(xtcp_cubic_k_ms(65535), 54718);
}

TEST(cubic_window_concave_then_convex)
{
	/* At t = 0 the curve is back at the reduced window (70, floor 71). */
	CHECK_EQ(xtcp_cubic_window(100, 4217, 0), 71);
	/* Plateau at W_max when t = K, and flat around it. */
	CHECK_EQ(xtcp_cubic_window(100, 4217, 4217), 100);
	CHECK_EQ(xtcp_cubic_window(100, 4217, 3217), 100);
	CHECK_EQ(xtcp_cubic_window(100, 4217, 5217), 100);
	/* Convex beyond: 10 s past K adds 0.4 * 1000 = 400 segments. */
	CHECK_EQ(xtcp_cubic_window(100, 4217, 14217), 500);
	/* 2 s before K: 100 - 0.4 * 8 = 96.8. */
	CHECK_EQ(xtcp_cubic_window(100, 4217, 2217), 97);
}

TEST(cubic_window_saturates)
{
	/* Far before K the curve would go negative: floored at 0. */
	CHECK_EQ(xtcp_cubic_window(5, 1000000, 0), 0);
	/* Far after K it would overflow: capped. */
	CHECK_EQ(xtcp_cubic_window(0xfffffff0u, 0, 4000000000u), 0xffffffffu);
	/* Offsets beyond 2^21 ms are taken as 2^21: 2^63 / 2.5e9. */
	CHECK_EQ(xtcp_cubic_window(0, 0, 4000000000u), 3689348814u);
}

TH_SUITE_BEGIN(cubic)
TH_CASE(cubic_cbrt_exact_and_floor)
TH_CASE(cubic_k_after_loss)
TH_CASE(cubic_window_concave_then_convex)
TH_CASE(cubic_window_saturates)
TH_SUITE_END(cubic);
