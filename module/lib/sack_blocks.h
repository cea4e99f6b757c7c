/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SACK bookkeeping as sequence-number ranges (RFC 2018, RFC 2883,
 * RFC 6675), without sockets or buffers:
 * - the receiver's list of out-of-order runs to report, the most recently
 *   changed first (RFC 2018 section 4);
 * - the sender's scoreboard: the ranges above the cumulative ACK that the
 *   peer has SACKed, kept sorted and disjoint.
 * A range is [start, end) modulo 2^32; all ranges of one connection lie
 * within 2^31 of each other, as the windows do.
 */
#ifndef _XTCP_LIB_SACK_BLOCKS_H
#define _XTCP_LIB_SACK_BLOCKS_H

#include "types.h"

struct xtcp_sack_block {
	u32 start;
	u32 end;
};

/* Blocks one segment can carry: 4 in the 40 bytes of option space. */
#define XTCP_MAX_SACK_BLOCKS	4

/*
 * Receiver: the segment [@start, @end) was queued out of order. Its run
 * (merged with every listed run it overlaps or touches) moves to the front
 * of @blocks; the oldest falls off when all @max are in use.
 */
void xtcp_sack_note_ooo(struct xtcp_sack_block *blocks, u8 *count, u8 max,
			u32 start, u32 end);

/* Receiver: rcv_nxt reached @rcv_nxt; runs that start at or below it left. */
void xtcp_sack_drop_delivered(struct xtcp_sack_block *blocks, u8 *count,
			      u32 rcv_nxt);

/*
 * Sender's scoreboard. A full board keeps its lowest ranges: those are the
 * ones loss recovery acts on, and the receiver repeats the newer ones.
 */
#define XTCP_SCOREBOARD_RANGES	32

struct xtcp_scoreboard {
	u8 count;
	u32 bytes;		/* total SACKed bytes on the board */
	struct xtcp_sack_block r[XTCP_SCOREBOARD_RANGES];	/* ascending */
};

void xtcp_sb_clear(struct xtcp_scoreboard *sb);
/* Add [@start, @end); returns the bytes not SACKed before. */
u32 xtcp_sb_add(struct xtcp_scoreboard *sb, u32 start, u32 end);
/* The cumulative ACK reached @una: forget what lies below it. */
void xtcp_sb_ack(struct xtcp_scoreboard *sb, u32 una);
/* SACKed bytes, and separate ranges, at or above @seq. */
u32 xtcp_sb_bytes_above(const struct xtcp_scoreboard *sb, u32 seq);
u32 xtcp_sb_ranges_above(const struct xtcp_scoreboard *sb, u32 seq);

/* RFC 6675 DupThresh: duplicate ACKs, or SACKed segments, that mean loss. */
#define XTCP_DUPTHRESH	3

/*
 * RFC 6675 IsLost(@seq): more than (DupThresh - 1) * @mss bytes, or
 * DupThresh separate ranges, above @seq are SACKed.
 */
bool xtcp_sb_is_lost(const struct xtcp_scoreboard *sb, u32 seq, u32 mss);
/* The same rule on totals already known: @bytes in @ranges above. */
bool xtcp_sack_is_lost(u32 bytes, u32 ranges, u32 mss);

/*
 * A walk over the holes of a scoreboard between snd_una and snd_max,
 * lowest first, each with IsLost of its first byte. No byte of a hole is
 * SACKed, so the answer holds for the whole hole (RFC 6675). The SACKed
 * bytes above each hole are kept as a running total, so a whole walk costs
 * O(ranges), where asking xtcp_sb_is_lost() per hole would cost O(ranges^2).
 */
struct xtcp_sb_walk {
	u32 seq;	/* the next hole starts here or above */
	u32 max;	/* the last hole ends here (snd_max) */
	u32 mss;
	u32 above;	/* SACKed bytes in r[next] and above */
	u8 next;	/* the range just above the next hole */
};

void xtcp_sb_walk_start(const struct xtcp_scoreboard *sb,
			struct xtcp_sb_walk *w, u32 una, u32 max, u32 mss);
/* The next hole [*@start, *@end), or false when there is none. */
bool xtcp_sb_walk_next(const struct xtcp_scoreboard *sb,
		       struct xtcp_sb_walk *w, u32 *start, u32 *end,
		       bool *lost);
/*
 * Is @seq SACKed? If so *@edge is the end of its range; if not, the start
 * of the next range above it, or @high when there is none.
 */
bool xtcp_sb_sacked(const struct xtcp_scoreboard *sb, u32 seq, u32 high,
		    u32 *edge);

#endif /* _XTCP_LIB_SACK_BLOCKS_H */
