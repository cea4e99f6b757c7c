// SPDX-License-Identifier: GPL-2.0
/* Unit tests for module/lib/seq.h: sequence arithmetic modulo 2^32. */
#include "harness.h"
#include "seq.h"

TEST(seq_before_after_plain)
{
	CHECK_TRUE(xtcp_seq_before(1, 2));
	CHECK_FALSE(xtcp_seq_before(2, 1));
	CHECK_TRUE(xtcp_seq_after(2, 1));
	CHECK_FALSE(xtcp_seq_after(1, 2));
	CHECK_TRUE(xtcp_seq_before(0, 1));
	CHECK_TRUE(xtcp_seq_before(1000, 1000000));
	CHECK_TRUE(xtcp_seq_before_eq(1, 2));
	CHECK_FALSE(xtcp_seq_before_eq(2, 1));
	CHECK_TRUE(xtcp_seq_after_eq(2, 1));
	CHECK_FALSE(xtcp_seq_after_eq(1, 2));
}

TEST(seq_before_after_across_wrap)
{
	/* 0xfffffff0 + 0x20 = 0x10 (mod 2^32): 0xfffffff0 comes first. */
	CHECK_TRUE(xtcp_seq_before(0xfffffff0u, 0x10u));
	CHECK_FALSE(xtcp_seq_after(0xfffffff0u, 0x10u));
	CHECK_TRUE(xtcp_seq_after(0x10u, 0xfffffff0u));
	CHECK_FALSE(xtcp_seq_before(0x10u, 0xfffffff0u));
	CHECK_TRUE(xtcp_seq_before(0xffffffffu, 0u));
	CHECK_TRUE(xtcp_seq_after(0u, 0xffffffffu));
	CHECK_TRUE(xtcp_seq_before_eq(0xffffffffu, 0u));
	CHECK_TRUE(xtcp_seq_after_eq(0u, 0xffffffffu));
	CHECK_FALSE(xtcp_seq_after_eq(0xffffffffu, 0u));
	CHECK_FALSE(xtcp_seq_before_eq(0u, 0xffffffffu));
	/* Around the signed boundary 2^31 as well, which is no wrap at all. */
	CHECK_TRUE(xtcp_seq_before(0x7fffffffu, 0x80000000u));
	CHECK_TRUE(xtcp_seq_after(0x80000000u, 0x7fffffffu));
}

TEST(seq_equal_values)
{
	static const uint32_t v[] = { 0, 1, 0x7fffffffu, 0x80000000u,
				      0xfffffff0u, 0xffffffffu };
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK_FALSE(xtcp_seq_before(v[i], v[i]));
		CHECK_FALSE(xtcp_seq_after(v[i], v[i]));
		CHECK_TRUE(xtcp_seq_before_eq(v[i], v[i]));
		CHECK_TRUE(xtcp_seq_after_eq(v[i], v[i]));
		CHECK_EQ(xtcp_seq_min(v[i], v[i]), v[i]);
		CHECK_EQ(xtcp_seq_max(v[i], v[i]), v[i]);
		CHECK_TRUE(xtcp_seq_between(v[i], v[i], v[i]));
	}
}

TEST(seq_distance_2_31_minus_1)
{
	/* The largest distance the comparison is defined for (RFC 9293 3.4). */
	CHECK_TRUE(xtcp_seq_before(0u, 0x7fffffffu));
	CHECK_TRUE(xtcp_seq_after(0x7fffffffu, 0u));
	CHECK_FALSE(xtcp_seq_before(0x7fffffffu, 0u));
	/* Same distance, straddling the wrap: 0x80000010 + 0x7fffffff = 0xf. */
	CHECK_TRUE(xtcp_seq_before(0x80000010u, 0x0000000fu));
	CHECK_TRUE(xtcp_seq_after(0x0000000fu, 0x80000010u));
	CHECK_FALSE(xtcp_seq_after(0x80000010u, 0x0000000fu));
	/* One more than that, 2^31, is ambiguous and deliberately not pinned. */
	/* 2^31 + 1 apart: the far one now counts as behind. */
	CHECK_TRUE(xtcp_seq_after(0u, 0x80000001u));
	CHECK_TRUE(xtcp_seq_before(0x80000001u, 0u));
}

TEST(seq_between_inclusive)
{
	CHECK_TRUE(xtcp_seq_between(5, 1, 10));
	CHECK_TRUE(xtcp_seq_between(1, 1, 10));
	CHECK_TRUE(xtcp_seq_between(10, 1, 10));
	CHECK_FALSE(xtcp_seq_between(0, 1, 10));
	CHECK_FALSE(xtcp_seq_between(11, 1, 10));
	CHECK_FALSE(xtcp_seq_between(0xffffffffu, 1, 10));
	/* Empty range low == high only holds that one value. */
	CHECK_TRUE(xtcp_seq_between(7, 7, 7));
	CHECK_FALSE(xtcp_seq_between(8, 7, 7));
	CHECK_FALSE(xtcp_seq_between(6, 7, 7));
}

TEST(seq_between_across_wrap)
{
	const uint32_t lo = 0xfffffff0u, hi = 0x10u;

	CHECK_TRUE(xtcp_seq_between(0xfffffff0u, lo, hi));
	CHECK_TRUE(xtcp_seq_between(0xffffffffu, lo, hi));
	CHECK_TRUE(xtcp_seq_between(0u, lo, hi));
	CHECK_TRUE(xtcp_seq_between(0x5u, lo, hi));
	CHECK_TRUE(xtcp_seq_between(0x10u, lo, hi));
	CHECK_FALSE(xtcp_seq_between(0x11u, lo, hi));
	CHECK_FALSE(xtcp_seq_between(0xffffffefu, lo, hi));
	CHECK_FALSE(xtcp_seq_between(0x80000000u, lo, hi));
	/* The range runs from low up to high, so swapping them is another range. */
	CHECK_FALSE(xtcp_seq_between(0u, hi, lo));
	CHECK_TRUE(xtcp_seq_between(0x80000000u, hi, lo));
}

TEST(seq_min_max)
{
	CHECK_EQ(xtcp_seq_max(1, 2), 2);
	CHECK_EQ(xtcp_seq_max(2, 1), 2);
	CHECK_EQ(xtcp_seq_min(1, 2), 1);
	CHECK_EQ(xtcp_seq_min(2, 1), 1);
	/* Across the wrap the numerically smaller one is the later one. */
	CHECK_EQ(xtcp_seq_max(0xfffffff0u, 0x10u), 0x10u);
	CHECK_EQ(xtcp_seq_max(0x10u, 0xfffffff0u), 0x10u);
	CHECK_EQ(xtcp_seq_min(0xfffffff0u, 0x10u), 0xfffffff0u);
	CHECK_EQ(xtcp_seq_min(0x10u, 0xfffffff0u), 0xfffffff0u);
	CHECK_EQ(xtcp_seq_max(0xffffffffu, 0u), 0u);
	CHECK_EQ(xtcp_seq_min(0xffffffffu, 0u), 0xffffffffu);
}

TEST(seq_consistency_sweep)
{
	/* For every distance d in (0, 2^31), a+d is after a, wherever a is. */
	static const uint32_t bases[] = { 0, 1, 0x7fffffffu, 0x80000000u,
					  0xfffffff0u, 0xffffffffu,
					  0x12345678u };
	static const uint32_t dists[] = { 1, 2, 0xff, 0x10000, 0x3fffffffu,
					  0x40000000u, 0x7ffffffeu,
					  0x7fffffffu };
	size_t i, j;

	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		for (j = 0; j < sizeof(dists) / sizeof(dists[0]); j++) {
			uint32_t a = bases[i], b = a + dists[j];

			CHECK_TRUE(xtcp_seq_before(a, b));
			CHECK_TRUE(xtcp_seq_after(b, a));
			CHECK_FALSE(xtcp_seq_before(b, a));
			CHECK_FALSE(xtcp_seq_after(a, b));
			CHECK_EQ(xtcp_seq_min(a, b), a);
			CHECK_EQ(xtcp_seq_max(a, b), b);
			CHECK_TRUE(xtcp_seq_between(a, a, b));
			CHECK_TRUE(xtcp_seq_between(b, a, b));
			CHECK_TRUE(xtcp_seq_between(a + dists[j] / 2, a, b));
			CHECK_FALSE(xtcp_seq_between(a - 1, a, b));
			CHECK_FALSE(xtcp_seq_between(b + 1, a, b));
		}
	}
}

TH_SUITE_BEGIN(seq)
TH_CASE(seq_before_after_plain)
TH_CASE(seq_before_after_across_wrap)
TH_CASE(seq_equal_values)
TH_CASE(seq_distance_2_31_minus_1)
TH_CASE(seq_between_inclusive)
TH_CASE(seq_between_across_wrap)
TH_CASE(seq_min_max)
TH_CASE(seq_consistency_sweep)
TH_SUITE_END(seq);
