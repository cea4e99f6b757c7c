// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for module/lib/sack_blocks.c: the receiver's list of runs to
 * report, the sender's scoreboard and RFC 6675 IsLost on it, across the
 * sequence wrap too.
 */
#include "harness.h"
#include "sack_blocks.h"
#include "seq.h"

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

TEST(scoreboard_is_lost_dupthresh)
{
	struct xtcp_scoreboard sb;

	xtcp_sb_clear(&sb);
	CHECK_FALSE(xtcp_sb_is_lost(&sb, 1000, 1000));
	/* (DupThresh - 1) * MSS SACKed above is not yet "more than". */
	xtcp_sb_add(&sb, 5000, 7000);
	CHECK_FALSE(xtcp_sb_is_lost(&sb, 4000, 1000));
	CHECK_TRUE(xtcp_sb_is_lost(&sb, 4000, 999));
	/* One byte more is, though in only two ranges. */
	xtcp_sb_add(&sb, 8000, 8001);
	CHECK_TRUE(xtcp_sb_is_lost(&sb, 4000, 1000));
	/* Only what lies above @seq counts. */
	CHECK_FALSE(xtcp_sb_is_lost(&sb, 5001, 1000));
	CHECK_FALSE(xtcp_sb_is_lost(&sb, 7000, 1000));
	/* DupThresh separate ranges mean loss however small they are. */
	xtcp_sb_clear(&sb);
	xtcp_sb_add(&sb, 2000, 2001);
	xtcp_sb_add(&sb, 3000, 3001);
	CHECK_FALSE(xtcp_sb_is_lost(&sb, 1000, 1000));
	xtcp_sb_add(&sb, 4000, 4001);
	CHECK_TRUE(xtcp_sb_is_lost(&sb, 1000, 1000));
	CHECK_TRUE(xtcp_sb_is_lost(&sb, 2000, 1000));
	CHECK_FALSE(xtcp_sb_is_lost(&sb, 2001, 1000));
}

TEST(scoreboard_is_lost_across_wrap)
{
	struct xtcp_scoreboard sb;

	xtcp_sb_clear(&sb);
	xtcp_sb_add(&sb, 0xfffff000u, 0xfffff800u);
	xtcp_sb_add(&sb, 0xfffffc00u, 0x400);
	CHECK_EQ(xtcp_sb_bytes_above(&sb, 0xffffe000u), 0x1000);
	CHECK_EQ(xtcp_sb_ranges_above(&sb, 0xffffe000u), 2);
	CHECK_TRUE(xtcp_sb_is_lost(&sb, 0xffffe000u, 1460));
	/* The hole before the range across 0: 2048 bytes in one range. */
	CHECK_FALSE(xtcp_sb_is_lost(&sb, 0xfffff800u, 1460));
	CHECK_TRUE(xtcp_sb_is_lost(&sb, 0xfffff800u, 1000));
	/* Ranges below @seq, as on a board not yet trimmed, do not count. */
	CHECK_EQ(xtcp_sb_bytes_above(&sb, 0x200), 0x200);
	CHECK_EQ(xtcp_sb_ranges_above(&sb, 0x200), 1);
	CHECK_EQ(xtcp_sb_ranges_above(&sb, 0x400), 0);
	CHECK_FALSE(xtcp_sb_is_lost(&sb, 0x400, 1));
}

struct walk_stats {
	u32 holes;
	u32 lost;
	u32 bad;
};

/* Does [@start, @end) meet any range of @sb? */
static bool hole_meets_range(const struct xtcp_scoreboard *sb, u32 start,
			     u32 end)
{
	u8 i;

	for (i = 0; i < sb->count; i++)
		if (xtcp_seq_before(sb->r[i].start, end) &&
		    xtcp_seq_after(sb->r[i].end, start))
			return true;
	return false;
}

/*
 * xtcp_sb_walk from @una to @snd_max, checked hole by hole against the
 * board itself: holes ascend without gaps but the SACKed ranges between
 * them, no hole meets a range, and each hole's IsLost is
 * xtcp_sb_is_lost() of its first byte, which counts what lies above it
 * afresh. The holes and the SACKed bytes inside [@una, @snd_max) together
 * cover it exactly. Each disagreement counts as bad.
 */
static void check_walk(const struct xtcp_scoreboard *sb, u32 una,
		       u32 snd_max, u32 mss, struct walk_stats *st)
{
	u32 start, end, covered = 0, prev_end = una, sacked_inside;
	struct xtcp_sb_walk w;
	bool lost;

	xtcp_sb_walk_start(sb, &w, una, snd_max, mss);
	while (xtcp_sb_walk_next(sb, &w, &start, &end, &lost)) {
		st->holes++;
		st->lost += lost;
		if (!xtcp_seq_after(end, start) ||
		    xtcp_seq_before(start, prev_end) ||
		    xtcp_seq_after(end, snd_max) ||
		    hole_meets_range(sb, start, end) ||
		    (start != prev_end &&
		     !hole_meets_range(sb, prev_end, start)) ||
		    lost != xtcp_sb_is_lost(sb, start, mss))
			st->bad++;
		covered += end - start;
		prev_end = end;
	}
	sacked_inside = xtcp_sb_bytes_above(sb, una) -
			xtcp_sb_bytes_above(sb, snd_max);
	if (covered + sacked_inside != snd_max - una)
		st->bad++;
}

/*
 * Random boards, some across the wrap, some still holding ranges below
 * snd_una (untrimmed), some full: the walk's running totals give the same
 * IsLost as the per-hole count at every hole, and after the trim the
 * board's own totals are IsLost of snd_una.
 */
TEST(scoreboard_walk_holes_matches_is_lost)
{
	struct walk_stats st = {};
	u32 iter, untrimmed_bad = 0, trimmed_bad = 0;

	for (iter = 0; iter < 5000; iter++) {
		u32 span = 1000 + th_rand() % (1u << 20);
		u32 base = iter % 4 ? th_rand() : 0u - span / 2;
		u32 mss = 1 + th_rand() % 9000, una, n, j;
		struct xtcp_scoreboard sb;

		xtcp_sb_clear(&sb);
		n = th_rand() % 48;
		for (j = 0; j < n; j++) {
			u32 start = base + th_rand() % span;
			u32 len = 1 + th_rand() % (iter % 3 ? 3000 : 30);

			if (len > base + span - start)
				len = base + span - start;
			xtcp_sb_add(&sb, start, start + len);
		}
		una = iter % 5 ? base + th_rand() % span : base;
		check_walk(&sb, una, base + span, mss, &st);
		untrimmed_bad += st.bad;
		st.bad = 0;
		xtcp_sb_ack(&sb, una);
		check_walk(&sb, una, base + span, mss, &st);
		if (xtcp_sb_is_lost(&sb, una, mss) !=
		    xtcp_sack_is_lost(sb.bytes, sb.count, mss))
			st.bad++;
		trimmed_bad += st.bad;
		st.bad = 0;
	}
	CHECK_EQ(untrimmed_bad, 0);
	CHECK_EQ(trimmed_bad, 0);
	/* The walk saw many holes, lost and not. */
	CHECK(st.holes > 50000);
	CHECK(st.lost > st.holes / 10);
	CHECK(st.holes - st.lost > st.holes / 10);
}

TEST(scoreboard_walk_small_board)
{
	struct xtcp_scoreboard sb;
	struct xtcp_sb_walk w;
	u32 start, end;
	bool lost;

	xtcp_sb_clear(&sb);
	xtcp_sb_add(&sb, 2000, 3000);
	xtcp_sb_add(&sb, 4000, 5000);
	xtcp_sb_add(&sb, 6000, 6001);
	xtcp_sb_walk_start(&sb, &w, 1000, 8000, 1000);
	/* Three ranges above: lost by count. */
	CHECK_TRUE(xtcp_sb_walk_next(&sb, &w, &start, &end, &lost));
	CHECK_EQ(start, 1000);
	CHECK_EQ(end, 2000);
	CHECK_TRUE(lost);
	/* 1001 bytes in two ranges above: lost by bytes at MSS 500 only. */
	CHECK_TRUE(xtcp_sb_walk_next(&sb, &w, &start, &end, &lost));
	CHECK_EQ(start, 3000);
	CHECK_EQ(end, 4000);
	CHECK_FALSE(lost);
	CHECK_TRUE(xtcp_sb_walk_next(&sb, &w, &start, &end, &lost));
	CHECK_EQ(start, 5000);
	CHECK_EQ(end, 6000);
	CHECK_FALSE(lost);
	CHECK_TRUE(xtcp_sb_walk_next(&sb, &w, &start, &end, &lost));
	CHECK_EQ(start, 6001);
	CHECK_EQ(end, 8000);
	CHECK_FALSE(lost);
	CHECK_FALSE(xtcp_sb_walk_next(&sb, &w, &start, &end, &lost));
	xtcp_sb_walk_start(&sb, &w, 3000, 8000, 500);
	CHECK_TRUE(xtcp_sb_walk_next(&sb, &w, &start, &end, &lost));
	CHECK_EQ(start, 3000);
	CHECK_TRUE(lost);
	/* snd_una inside a range: the walk starts past it. */
	xtcp_sb_walk_start(&sb, &w, 4500, 8000, 500);
	CHECK_TRUE(xtcp_sb_walk_next(&sb, &w, &start, &end, &lost));
	CHECK_EQ(start, 5000);
	CHECK_FALSE(lost);
	CHECK_TRUE(xtcp_sack_is_lost(1001, 2, 500));
	CHECK_FALSE(xtcp_sack_is_lost(1000, 2, 500));
	CHECK_TRUE(xtcp_sack_is_lost(3, 3, 500));
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
TH_CASE(scoreboard_is_lost_dupthresh)
TH_CASE(scoreboard_is_lost_across_wrap)
TH_CASE(scoreboard_walk_holes_matches_is_lost)
TH_CASE(scoreboard_walk_small_board)
TH_SUITE_END(sack_blocks);
