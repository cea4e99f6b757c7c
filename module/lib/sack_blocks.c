// SPDX-License-Identifier: GPL-2.0
/*
 * SACK ranges: the receiver's runs to report and the sender's scoreboard.
 * Both lists are short (4 and 32 entries), so plain arrays and linear
 * walks serve; every change keeps them consistent, whatever the peer sends.
 */
#include "sack_blocks.h"
#include "seq.h"

/* Do [a) and [b) overlap or touch? */
static bool ranges_meet(u32 a_start, u32 a_end, u32 b_start, u32 b_end)
{
	return xtcp_seq_before_eq(a_start, b_end) &&
	       xtcp_seq_after_eq(a_end, b_start);
}

static u32 overlap_len(u32 a_start, u32 a_end, u32 b_start, u32 b_end)
{
	u32 s = xtcp_seq_max(a_start, b_start);
	u32 e = xtcp_seq_min(a_end, b_end);

	return xtcp_seq_after(e, s) ? e - s : 0;
}

static void remove_block(struct xtcp_sack_block *b, u8 *count, u8 i)
{
	memmove(&b[i], &b[i + 1], (*count - i - 1) * sizeof(*b));
	(*count)--;
}

void xtcp_sack_note_ooo(struct xtcp_sack_block *blocks, u8 *count, u8 max,
			u32 start, u32 end)
{
	u8 i = 0;

	if (!max || !xtcp_seq_after(end, start))
		return;
	while (i < *count) {
		struct xtcp_sack_block *b = &blocks[i];

		if (!ranges_meet(b->start, b->end, start, end)) {
			i++;
			continue;
		}
		start = xtcp_seq_min(start, b->start);
		end = xtcp_seq_max(end, b->end);
		remove_block(blocks, count, i);
		/* The wider run may now meet one already passed. */
		i = 0;
	}
	if (*count >= max)
		*count = max - 1;
	memmove(&blocks[1], &blocks[0], *count * sizeof(*blocks));
	blocks[0].start = start;
	blocks[0].end = end;
	(*count)++;
}

void xtcp_sack_drop_delivered(struct xtcp_sack_block *blocks, u8 *count,
			      u32 rcv_nxt)
{
	u8 i = 0;

	while (i < *count) {
		if (xtcp_seq_before_eq(blocks[i].start, rcv_nxt))
			remove_block(blocks, count, i);
		else
			i++;
	}
}

void xtcp_sb_clear(struct xtcp_scoreboard *sb)
{
	sb->count = 0;
	sb->bytes = 0;
}

u32 xtcp_sb_add(struct xtcp_scoreboard *sb, u32 start, u32 end)
{
	u32 s = start, e = end, covered = 0, merged_bytes = 0;
	u8 i = 0, j;

	if (!xtcp_seq_after(end, start))
		return 0;
	/* First range that ends at or above start: it may meet the new one. */
	while (i < sb->count && xtcp_seq_before(sb->r[i].end, start))
		i++;
	for (j = i; j < sb->count &&
	     xtcp_seq_before_eq(sb->r[j].start, end); j++) {
		covered += overlap_len(sb->r[j].start, sb->r[j].end, start, end);
		merged_bytes += sb->r[j].end - sb->r[j].start;
		s = xtcp_seq_min(s, sb->r[j].start);
		e = xtcp_seq_max(e, sb->r[j].end);
	}
	if (j > i) {
		/* Ranges i..j-1 become one. */
		sb->r[i].start = s;
		sb->r[i].end = e;
		memmove(&sb->r[i + 1], &sb->r[j],
			(sb->count - j) * sizeof(sb->r[0]));
		sb->count -= j - i - 1;
		sb->bytes += (e - s) - merged_bytes;
		return (end - start) - covered;
	}
	if (sb->count == XTCP_SCOREBOARD_RANGES) {
		if (i == XTCP_SCOREBOARD_RANGES)
			return 0;	/* above everything: left off */
		sb->count--;
		sb->bytes -= sb->r[sb->count].end - sb->r[sb->count].start;
	}
	memmove(&sb->r[i + 1], &sb->r[i], (sb->count - i) * sizeof(sb->r[0]));
	sb->r[i].start = start;
	sb->r[i].end = end;
	sb->count++;
	sb->bytes += end - start;
	return end - start;
}

void xtcp_sb_ack(struct xtcp_scoreboard *sb, u32 una)
{
	u8 gone = 0;

	while (gone < sb->count &&
	       xtcp_seq_before_eq(sb->r[gone].end, una)) {
		sb->bytes -= sb->r[gone].end - sb->r[gone].start;
		gone++;
	}
	if (gone) {
		memmove(&sb->r[0], &sb->r[gone],
			(sb->count - gone) * sizeof(sb->r[0]));
		sb->count -= gone;
	}
	if (sb->count && xtcp_seq_before(sb->r[0].start, una)) {
		sb->bytes -= una - sb->r[0].start;
		sb->r[0].start = una;
	}
}

u32 xtcp_sb_bytes_above(const struct xtcp_scoreboard *sb, u32 seq)
{
	u32 bytes = 0;
	int i;

	for (i = sb->count - 1; i >= 0; i--) {
		const struct xtcp_sack_block *r = &sb->r[i];

		if (xtcp_seq_after_eq(r->start, seq)) {
			bytes += r->end - r->start;
		} else {
			if (xtcp_seq_after(r->end, seq))
				bytes += r->end - seq;
			break;
		}
	}
	return bytes;
}

u32 xtcp_sb_ranges_above(const struct xtcp_scoreboard *sb, u32 seq)
{
	u32 n = 0;
	int i;

	for (i = sb->count - 1; i >= 0 && xtcp_seq_after(sb->r[i].end, seq);
	     i--)
		n++;
	return n;
}

bool xtcp_sack_is_lost(u32 bytes, u32 ranges, u32 mss)
{
	return bytes > (XTCP_DUPTHRESH - 1) * mss || ranges >= XTCP_DUPTHRESH;
}

bool xtcp_sb_is_lost(const struct xtcp_scoreboard *sb, u32 seq, u32 mss)
{
	return xtcp_sack_is_lost(xtcp_sb_bytes_above(sb, seq),
				 xtcp_sb_ranges_above(sb, seq), mss);
}

void xtcp_sb_walk_start(const struct xtcp_scoreboard *sb,
			struct xtcp_sb_walk *w, u32 una, u32 max, u32 mss)
{
	w->seq = una;
	w->max = max;
	w->mss = mss;
	w->above = sb->bytes;
	w->next = 0;
}

/*
 * Ranges wholly below the walk's start (a board not yet trimmed) are
 * passed before any hole is reported, so the running total is right by
 * the first hole.
 */
bool xtcp_sb_walk_next(const struct xtcp_scoreboard *sb,
		       struct xtcp_sb_walk *w, u32 *start, u32 *end,
		       bool *lost)
{
	while (w->next <= sb->count) {
		u8 i = w->next++;
		u32 hole_start = w->seq;
		u32 hole_end = i < sb->count ? sb->r[i].start : w->max;
		bool hole_lost = xtcp_sack_is_lost(w->above, sb->count - i,
						   w->mss);

		if (i < sb->count) {
			w->above -= sb->r[i].end - sb->r[i].start;
			w->seq = xtcp_seq_max(w->seq, sb->r[i].end);
		}
		if (xtcp_seq_after(hole_end, hole_start)) {
			*start = hole_start;
			*end = hole_end;
			*lost = hole_lost;
			return true;
		}
	}
	return false;
}

bool xtcp_sb_sacked(const struct xtcp_scoreboard *sb, u32 seq, u32 high,
		    u32 *edge)
{
	u8 i;

	for (i = 0; i < sb->count; i++) {
		if (xtcp_seq_before(seq, sb->r[i].start)) {
			*edge = sb->r[i].start;
			return false;
		}
		if (xtcp_seq_before(seq, sb->r[i].end)) {
			*edge = sb->r[i].end;
			return true;
		}
	}
	*edge = high;
	return false;
}
