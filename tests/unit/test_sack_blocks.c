// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for module/lib/sack_blocks.c: the receiver's list of runs to
 * report and the sender's scoreboard, across the sequence wrap too.
 */
#include "harness.h"
#include "sack_blocks.h"

#define BLK(i) blocks[i].start, blocks[i].end

TEST(sack_note_newest_first_and_merges)
{
	struct xtcp_sack_block blocks[XTCP_MAX_SACK_BLOCKS];
	u8 n = 0;

	xtcp_sack_note_ooo(blocks, &n, 4, 2000, 3000);
	xtcp_sack_note_ooo(blocks, &n, 4, 5000, 6000);
	CHECK_EQ(n, 2);
	CHECK_EQ(blocks[0].start, 5000);
	CHECK_EQ(blocks[1].start, 2000);
	/* Touching the older run: it grows and moves to the front. */
	xtcp_sack_note_ooo(blocks, &n, 4, 3000, 4000);
	CHECK_EQ(n, 2);
	CHECK_EQ(blocks[0].start, 2000);
	CHECK_EQ(blocks[0].end, 4000);
	CHECK_EQ(blocks[1].start, 5000);
	/* Filling the gap joins both runs into one. */
	xtcp_sack_note_ooo(blocks, &n, 4, 4000, 5000);
	CHECK_EQ(n, 1);
	CHECK_EQ(blocks[0].start, 2000);
	CHECK_EQ(blocks[0].end, 6000);
	/* An empty range changes nothing. */
	xtcp_sack_note_ooo(blocks, &n, 4, 9000, 9000);
	CHECK_EQ(n, 1);
}

TEST(sack_note_oldest_falls_off)
{
	struct xtcp_sack_block blocks[XTCP_MAX_SACK_BLOCKS];
	u8 n = 0;
	u32 i;

	for (i = 0; i < 6; i++)
		xtcp_sack_note_ooo(blocks, &n, 3, 1000 * (2 * i + 1),
				   1000 * (2 * i + 2));
	CHECK_EQ(n, 3);
	CHECK_EQ(blocks[0].start, 11000);
	CHECK_EQ(blocks[1].start, 9000);
	CHECK_EQ(blocks[2].start, 7000);
}

TEST(sack_drop_delivered_runs)
{
	struct xtcp_sack_block blocks[XTCP_MAX_SACK_BLOCKS];
	u8 n = 0;

	xtcp_sack_note_ooo(blocks, &n, 4, 3000, 4000);
	xtcp_sack_note_ooo(blocks, &n, 4, 1000, 2000);
	xtcp_sack_note_ooo(blocks, &n, 4, 5000, 6000);
	xtcp_sack_drop_delivered(blocks, &n, 4000);
	CHECK_EQ(n, 1);
	CHECK_EQ(blocks[0].start, 5000);
	xtcp_sack_drop_delivered(blocks, &n, 4500);
	CHECK_EQ(n, 1);
	xtcp_sack_drop_delivered(blocks, &n, 6000);
	CHECK_EQ(n, 0);
}

TEST(sack_note_across_wrap)
{
	struct xtcp_sack_block blocks[XTCP_MAX_SACK_BLOCKS];
	u8 n = 0;

	xtcp_sack_note_ooo(blocks, &n, 4, 0xfffffc00u, 0xfffffe00u);
	xtcp_sack_note_ooo(blocks, &n, 4, 0xfffffe00u, 0x200);
	CHECK_EQ(n, 1);
	CHECK_EQ(blocks[0].start, 0xfffffc00u);
	CHECK_EQ(blocks[0].end, 0x200);
	xtcp_sack_drop_delivered(blocks, &n, 0xfffffb00u);
	CHECK_EQ(n, 1);
	xtcp_sack_drop_delivered(blocks, &n, 0x100);
	CHECK_EQ(n, 0);
}

TEST(scoreboard_add_merge_and_new_bytes)
{
	struct xtcp_scoreboard sb;
	u32 edge;

	xtcp_sb_clear(&sb);
	CHECK_EQ(xtcp_sb_add(&sb, 3000, 4000), 1000);
	CHECK_EQ(xtcp_sb_add(&sb, 6000, 7000), 1000);
	CHECK_EQ(xtcp_sb_add(&sb, 1000, 2000), 1000);
	CHECK_EQ(sb.count, 3);
	CHECK_EQ(sb.bytes, 3000);
	/* Repeated: nothing new. */
	CHECK_EQ(xtcp_sb_add(&sb, 3000, 4000), 0);
	/* Overlaps two ranges: only the gap between them is new. */
	CHECK_EQ(xtcp_sb_add(&sb, 3500, 6500), 2000);
	CHECK_EQ(sb.count, 2);
	CHECK_EQ(sb.bytes, 5000);
	CHECK_EQ(sb.r[1].start, 3000);
	CHECK_EQ(sb.r[1].end, 7000);
	/* Touching joins too. */
	CHECK_EQ(xtcp_sb_add(&sb, 2000, 3000), 1000);
	CHECK_EQ(sb.count, 1);
	CHECK_EQ(sb.bytes, 6000);
	/* Backwards or empty ranges are ignored. */
	CHECK_EQ(xtcp_sb_add(&sb, 9000, 8000), 0);
	CHECK_EQ(xtcp_sb_add(&sb, 9000, 9000), 0);
	CHECK_EQ(sb.count, 1);
	CHECK_TRUE(xtcp_sb_sacked(&sb, 1000, 99999, &edge));
	CHECK_EQ(edge, 7000);
	CHECK_FALSE(xtcp_sb_sacked(&sb, 7000, 99999, &edge));
	CHECK_EQ(edge, 99999);
	CHECK_FALSE(xtcp_sb_sacked(&sb, 500, 99999, &edge));
	CHECK_EQ(edge, 1000);
}

TEST(scoreboard_ack_trims_and_counts_above)
{
	struct xtcp_scoreboard sb;

	xtcp_sb_clear(&sb);
	xtcp_sb_add(&sb, 2000, 3000);
	xtcp_sb_add(&sb, 4000, 5000);
	xtcp_sb_add(&sb, 6000, 8000);
	CHECK_EQ(xtcp_sb_bytes_above(&sb, 0), 4000);
	CHECK_EQ(xtcp_sb_bytes_above(&sb, 4500), 2500);
	CHECK_EQ(xtcp_sb_ranges_above(&sb, 1000), 3);
	CHECK_EQ(xtcp_sb_ranges_above(&sb, 4500), 2);
	CHECK_EQ(xtcp_sb_ranges_above(&sb, 8000), 0);
	xtcp_sb_ack(&sb, 4500);
	CHECK_EQ(sb.count, 2);
	CHECK_EQ(sb.r[0].start, 4500);
	CHECK_EQ(sb.bytes, 2500);
	xtcp_sb_ack(&sb, 9000);
	CHECK_EQ(sb.count, 0);
	CHECK_EQ(sb.bytes, 0);
}

TEST(scoreboard_full_keeps_lowest)
{
	struct xtcp_scoreboard sb;
	u32 i;

	xtcp_sb_clear(&sb);
	for (i = 0; i < XTCP_SCOREBOARD_RANGES; i++)
		xtcp_sb_add(&sb, 1000 + 200 * i, 1100 + 200 * i);
	CHECK_EQ(sb.count, XTCP_SCOREBOARD_RANGES);
	/* Above all: left off. */
	CHECK_EQ(xtcp_sb_add(&sb, 100000, 100100), 0);
	CHECK_EQ(sb.count, XTCP_SCOREBOARD_RANGES);
	/* Below: the highest range makes room. */
	CHECK_EQ(xtcp_sb_add(&sb, 100, 200), 100);
	CHECK_EQ(sb.count, XTCP_SCOREBOARD_RANGES);
	CHECK_EQ(sb.r[0].start, 100);
	CHECK_EQ(sb.r[XTCP_SCOREBOARD_RANGES - 1].start,
		 1000 + 200 * (XTCP_SCOREBOARD_RANGES - 2));
	CHECK_EQ(sb.bytes, 100 * XTCP_SCOREBOARD_RANGES);
}

TEST(scoreboard_across_wrap)
{
	struct xtcp_scoreboard sb;

	xtcp_sb_clear(&sb);
	xtcp_sb_add(&sb, 0x100, 0x300);
	xtcp_sb_add(&sb, 0xffffff00u, 0x50);
	CHECK_EQ(sb.count, 2);
	CHECK_EQ(sb.r[0].start, 0xffffff00u);
	CHECK_EQ(xtcp_sb_bytes_above(&sb, 0xfffffe00u), 0x150 + 0x200);
	xtcp_sb_add(&sb, 0x50, 0x100);
	CHECK_EQ(sb.count, 1);
	CHECK_EQ(sb.bytes, 0x400);
	xtcp_sb_ack(&sb, 0x10);
	CHECK_EQ(sb.bytes, 0x2f0);
}

TH_SUITE_BEGIN(sack_blocks)
TH_CASE(sack_note_newest_first_and_merges)
TH_CASE(sack_note_oldest_falls_off)
TH_CASE(sack_drop_delivered_runs)
TH_CASE(sack_note_across_wrap)
TH_CASE(scoreboard_add_merge_and_new_bytes)
TH_CASE(scoreboard_ack_trims_and_counts_above)
TH_CASE(scoreboard_full_keeps_lowest)
TH_CASE(scoreboard_across_wrap)
TH_SUITE_END(sack_blocks);
