// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for module/lib/syncookie.c: the cookie's layout, the age of
 * its time slot across the 5-bit wrap, the MSS table and the options code
 * carried in the timestamp.
 */
#include "harness.h"
#include "syncookie.h"

TEST(cookie_pack_fields_round_trip)
{
	u32 c = xtcp_cookie_pack(0x12345, 5, 0xabcdef);

	CHECK_EQ(xtcp_cookie_mss_field(c), 5);
	CHECK_EQ(xtcp_cookie_mac_field(c), 0xabcdef);
	/* Slot 0x12345: its low 5 bits are 5, in the top of the cookie. */
	CHECK_EQ(c >> 27, 0x05);
	/* Extra bits of the MAC and the index do not spill over. */
	c = xtcp_cookie_pack(0, 0xff, 0xffffffff);
	CHECK_EQ(c, 0x07ffffff);
}

TEST(cookie_slot_age_within_limit)
{
	u32 c = xtcp_cookie_pack(100, 0, 0);
	u32 slot = 0;

	CHECK_TRUE(xtcp_cookie_slot_of(c, 100, &slot));
	CHECK_EQ(slot, 100);
	CHECK_TRUE(xtcp_cookie_slot_of(c, 101, &slot));
	CHECK_EQ(slot, 100);
	CHECK_TRUE(xtcp_cookie_slot_of(c, 102, &slot));
	CHECK_EQ(slot, 100);
	/* Three slots on: too old. */
	CHECK_FALSE(xtcp_cookie_slot_of(c, 103, &slot));
	/* From a later slot than now: never made here. */
	CHECK_FALSE(xtcp_cookie_slot_of(c, 99, &slot));
	/* 32 slots on, the 5 bits match again but the MAC's slot will not. */
	CHECK_TRUE(xtcp_cookie_slot_of(c, 132, &slot));
	CHECK_EQ(slot, 132);
}

TEST(cookie_slot_across_field_wrap)
{
	/* Made in slot 31 (bits 11111), checked in slot 33 (bits 00001). */
	u32 c = xtcp_cookie_pack(31, 0, 0);
	u32 slot = 0;

	CHECK_TRUE(xtcp_cookie_slot_of(c, 33, &slot));
	CHECK_EQ(slot, 31);
	/* And across the 32-bit slot counter's own wrap. */
	c = xtcp_cookie_pack(0xffffffffu, 0, 0);
	CHECK_TRUE(xtcp_cookie_slot_of(c, 1, &slot));
	CHECK_EQ(slot, 0xffffffffu);
	CHECK_FALSE(xtcp_cookie_slot_of(c, 2, &slot));
}

TEST(cookie_slot_is_64_seconds)
{
	CHECK_EQ(xtcp_cookie_slot(0), 0);
	CHECK_EQ(xtcp_cookie_slot(63), 0);
	CHECK_EQ(xtcp_cookie_slot(64), 1);
	CHECK_EQ(xtcp_cookie_slot(6400), 100);
}

TEST(cookie_mss_largest_not_above_offer)
{
	CHECK_EQ(xtcp_cookie_mss(xtcp_cookie_mss_index(1460)), 1460);
	CHECK_EQ(xtcp_cookie_mss(xtcp_cookie_mss_index(1459)), 1452);
	CHECK_EQ(xtcp_cookie_mss(xtcp_cookie_mss_index(1448)), 1440);
	CHECK_EQ(xtcp_cookie_mss(xtcp_cookie_mss_index(1300)), 1300);
	CHECK_EQ(xtcp_cookie_mss(xtcp_cookie_mss_index(8960)), 8960);
	/* Loopback's 65483: the jumbo entry. */
	CHECK_EQ(xtcp_cookie_mss(xtcp_cookie_mss_index(65483)), 8960);
	/* Below the table, and no MSS option at all (536): the default. */
	CHECK_EQ(xtcp_cookie_mss_index(536), 0);
	CHECK_EQ(xtcp_cookie_mss_index(88), 0);
	CHECK_EQ(xtcp_cookie_mss_index(0), 0);
	CHECK_EQ(xtcp_cookie_mss(0), 536);
}

TEST(cookie_mss_table_ascending)
{
	u8 i;

	for (i = 1; i < 8; i++)
		CHECK(xtcp_cookie_mss(i - 1) < xtcp_cookie_mss(i));
	/* Each entry names itself. */
	for (i = 0; i < 8; i++)
		CHECK_EQ(xtcp_cookie_mss_index(xtcp_cookie_mss(i)), i);
}

TEST(cookie_opt_code_round_trip)
{
	struct xtcp_cookie_opts o;
	u8 ws;

	for (ws = 0; ws <= 14; ws++) {
		u8 code = xtcp_cookie_opt_code(true, ws & 1, true, ws);

		CHECK_TRUE(xtcp_cookie_opt_decode(code, &o));
		CHECK_TRUE(o.ts);
		CHECK_EQ(o.sack, ws & 1);
		CHECK_TRUE(o.has_wscale);
		CHECK_EQ(o.wscale, ws);
		/* What comes back in the echo decodes the same. */
		CHECK_EQ(xtcp_cookie_code_of_ack(true,
						 xtcp_cookie_tsval(12345, code)),
			 code);
	}
	CHECK_TRUE(xtcp_cookie_opt_decode(xtcp_cookie_opt_code(true, true,
							       false, 0), &o));
	CHECK_TRUE(o.ts && o.sack);
	CHECK_FALSE(o.has_wscale);
}

TEST(cookie_opt_code_without_timestamps_is_empty)
{
	struct xtcp_cookie_opts o;

	/* Nothing would bring wscale or SACK back: neither is kept. */
	CHECK_EQ(xtcp_cookie_opt_code(false, true, true, 7), 0);
	CHECK_TRUE(xtcp_cookie_opt_decode(0, &o));
	CHECK_FALSE(o.ts || o.sack || o.has_wscale);
	CHECK_EQ(xtcp_cookie_code_of_ack(false, 0xffffffff), 0);
	/* Codes no SYN makes. */
	CHECK_FALSE(xtcp_cookie_opt_decode(0x05, &o));
	CHECK_FALSE(xtcp_cookie_opt_decode(0x40, &o));
	CHECK_FALSE(xtcp_cookie_opt_decode(0xff, &o));
}

TEST(cookie_tsval_never_ahead_of_now)
{
	u32 now;
	u8 code;

	for (now = 1000; now < 1100; now++) {
		for (code = 0; code < 32; code++) {
			u32 ts = xtcp_cookie_tsval(now, code);

			CHECK_EQ(ts & 31, code);
			CHECK((s32)(now - ts) >= 0);
			CHECK(now - ts < 32);
		}
	}
	/* Across the 32-bit wrap of the clock. */
	CHECK_EQ(xtcp_cookie_tsval(3, 0x1f), 0xffffffffu);
	CHECK_EQ(xtcp_cookie_tsval(0xffffffffu, 0x1f), 0xffffffffu);
}

TH_SUITE_BEGIN(syncookie)
TH_CASE(cookie_pack_fields_round_trip)
TH_CASE(cookie_slot_age_within_limit)
TH_CASE(cookie_slot_across_field_wrap)
TH_CASE(cookie_slot_is_64_seconds)
TH_CASE(cookie_mss_largest_not_above_offer)
TH_CASE(cookie_mss_table_ascending)
TH_CASE(cookie_opt_code_round_trip)
TH_CASE(cookie_opt_code_without_timestamps_is_empty)
TH_CASE(cookie_tsval_never_ahead_of_now)
TH_SUITE_END(syncookie);
