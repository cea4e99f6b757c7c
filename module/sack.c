// SPDX-License-Identifier: GPL-2.0
/*
 * Selective acknowledgment, both ends (socket lock held throughout).
 *
 * Receiver (RFC 2018, RFC 2883): every ACK carries the out-of-order runs it
 * holds, the run that changed last first, and a segment that arrives twice
 * is reported once in front of them as a D-SACK block.
 *
 * Sender (RFC 6675): SACK blocks fill a scoreboard (lib/sack_blocks.c).
 * With RACK (rack.c, the default as native's net.ipv4.tcp_recovery = 1)
 * what RACK marks is lost; without it a hole is lost once more than two
 * segments' worth of data, or three separate ranges, above it are SACKed
 * (RFC 6675 IsLost), and three duplicate ACKs count too. A loss starts
 * recovery: cwnd falls to the algorithm's ssthresh at once,
 * and on every ACK lost holes are resent, lowest first, while the data in
 * the network (pipe) leaves room in cwnd; new data may follow (output.c
 * measures cwnd against pipe during recovery). Recovery ends when the
 * cumulative ACK passes what was outstanding when it began. Without SACK
 * the NewReno recovery of cong.c runs instead.
 */
#include <linux/tcp.h>

#include "xtcp.h"

/* ---- receiver ----------------------------------------------------------- */

/* [@start, @end) was queued out of order. */
void xtcp_sack_rcv_ooo(struct sock *sk, u32 start, u32 end)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->sack_ok)
		xtcp_sack_note_ooo(xs->sack_runs, &xs->num_sack_runs,
				   XTCP_MAX_SACK_BLOCKS, start, end);
}

/*
 * [@start, @end) arrived again: below rcv_nxt, or (@ofo) already queued out
 * of order. The next ACK reports it, and goes at once.
 */
void xtcp_sack_rcv_duplicate(struct sock *sk, u32 start, u32 end, bool ofo)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->sack_ok || !xtcp_seq_after(end, start))
		return;
	xs->dsack.start = start;
	xs->dsack.end = end;
	xs->dsack_pending = true;
	xs->dsack_ofo = ofo;
	xs->ack_now = 1;
	/* RFC 2883: the block after a D-SACK is the run that holds it. */
	if (ofo)
		xtcp_sack_note_ooo(xs->sack_runs, &xs->num_sack_runs,
				   XTCP_MAX_SACK_BLOCKS, start, end);
}

/* rcv_nxt moved: runs it reached were delivered. */
void xtcp_sack_rcv_delivered(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (skb_queue_empty(&xs->ooo_queue))
		xs->num_sack_runs = 0;
	else
		xtcp_sack_drop_delivered(xs->sack_runs, &xs->num_sack_runs,
					 xs->rcv_nxt);
}

/*
 * Out-of-order data was dropped to make room (input.c): the runs may name
 * data we no longer hold, so none are reported until new ones form, as
 * native's tcp_sack_reset after pruning. The sender finds out by its RTO.
 */
void xtcp_sack_rcv_pruned(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->num_sack_runs = 0;
	xs->dsack_pending = false;
}

/*
 * The blocks for an ACK carrying @payload bytes: the segment with its
 * options must still fit one MSS, and a GSO packet's segments all share
 * its header, so they carry none.
 */
void xtcp_sack_fill_opts(struct sock *sk, struct xtcp_opts *opts,
			 u32 payload, bool gso)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 room = XTCP_MAX_SACK_BLOCKS, i;
	u8 n = 0;

	if (!xs->sack_ok || gso || (!xs->dsack_pending && !xs->num_sack_runs))
		return;
	if (payload) {
		u32 space = xs->mss_cache > payload ? xs->mss_cache - payload : 0;

		room = space >= 4 + 8 ? (space - 4) / 8 : 0;
		room = min_t(u32, room, XTCP_MAX_SACK_BLOCKS);
	}
	if (!room)
		return;
	if (xs->dsack_pending) {
		opts->sacks[n++] = xs->dsack;
		xs->dsack_pending = false;
		xtcp_stat_inc(sock_net(sk), xs->dsack_ofo ?
			      XTCP_MIB_DSACK_OFO_SENT : XTCP_MIB_DSACK_OLD_SENT);
	}
	for (i = 0; i < xs->num_sack_runs && n < room; i++)
		opts->sacks[n++] = xs->sack_runs[i];
	opts->num_sacks = n;
}

/* ---- sender ------------------------------------------------------------- */

/* Forget the scoreboard and recovery state (new connection, timeout). */
void xtcp_sack_reset(struct xtcp_sock *xs)
{
	xtcp_sb_clear(&xs->scoreboard);
	xs->high_rxt = xs->snd_una;
}

/*
 * RFC 2883 section 4: the first block is a D-SACK when it lies below the
 * cumulative ACK or inside the second block.
 */
static bool is_dsack(const struct xtcp_seg_hdr *th)
{
	const struct xtcp_sack_block *b = th->opts.sacks;

	if (xtcp_seq_before_eq(b[0].end, th->ack))
		return true;
	return th->opts.num_sacks > 1 &&
	       xtcp_seq_after_eq(b[0].start, b[1].start) &&
	       xtcp_seq_before_eq(b[0].end, b[1].end);
}

/*
 * A D-SACK of [@start, @end) (RFC 2883), judged as Linux's tcp_dsack_seen
 * does: a range wider than any window the peer offered is dubious, and
 * so are more D-SACKed segments than were ever resent (the network
 * duplicated a segment). Only the others can prove a resend spurious,
 * for the undo and for RACK's reordering window.
 */
static void dsack_rcv(struct sock *sk, u32 start, u32 end)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 len = end - start;

	xtcp_stat_inc(sock_net(sk), XTCP_MIB_DSACK_RECV);
	if (!xtcp_seq_after(end, start) || len > xs->max_window)
		goto dubious;
	xs->dsack_dups += len > xs->mss_cache ?
			  DIV_ROUND_UP(len, xs->mss_cache) : 1;
	if (xs->dsack_dups > xs->total_retrans)
		goto dubious;
	xtcp_rack_dsack(sk, start, end);
	xtcp_undo_dsack(sk, start, end);
	return;
dubious:
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_DSACK_DUBIOUS);
}

/*
 * Take the SACK blocks of an acceptable ACK (@th->ack within snd_una ..
 * snd_max). Blocks outside what was sent, or backwards, are ignored.
 * RACK hears of what is new on the scoreboard. Returns the bytes newly
 * SACKed.
 */
u32 xtcp_sack_update(struct sock *sk, const struct xtcp_seg_hdr *th)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_scoreboard before;
	u32 newly = 0;
	u8 i = 0;

	if (!xs->sack_ok || !th->opts.num_sacks)
		return 0;
	if (is_dsack(th)) {
		dsack_rcv(sk, th->opts.sacks[0].start, th->opts.sacks[0].end);
		i = 1;
	}
	for (; i < th->opts.num_sacks; i++) {
		u32 start = th->opts.sacks[i].start;
		u32 end = th->opts.sacks[i].end;

		if (!xtcp_seq_after(end, start) ||
		    xtcp_seq_after(end, xs->snd_max) ||
		    xtcp_seq_before_eq(end, th->ack))
			continue;
		if (xtcp_seq_before(start, th->ack))
			start = th->ack;
		if (!newly && xs->rack.on)
			before = xs->scoreboard;
		newly += xtcp_sb_add(&xs->scoreboard, start, end);
	}
	if (newly && xs->rack.on)
		xtcp_rack_sacked(sk, &before);
	return newly;
}

/*
 * Walk the holes between snd_una and snd_max, lowest first: @fn sees each
 * hole [start, end) and whether it is lost, and returns true to stop.
 */
struct hole_walk {
	u32 pipe;
	u32 lost;
	u32 retrans;
	u32 next_seq;
	bool found;
};

typedef bool (*hole_fn)(const struct xtcp_sock *xs, u32 start, u32 end,
			bool lost, struct hole_walk *w);

/*
 * Without RACK, RFC 6675 IsLost decides for the whole hole at once
 * (@is_lost, from the walk). With RACK, a hole is lost below
 * rack.lost_high, the part above is not: report the two parts apart.
 */
static bool visit_hole(const struct xtcp_sock *xs, u32 start, u32 end,
		       bool is_lost, hole_fn fn, struct hole_walk *w)
{
	u32 lost_high = xs->rack.lost_high;

	if (!xs->rack.on)
		return fn(xs, start, end, is_lost, w);
	if (xtcp_seq_after(lost_high, start)) {
		u32 cut = xtcp_seq_min(end, lost_high);

		if (fn(xs, start, cut, true, w))
			return true;
		start = cut;
	}
	return xtcp_seq_after(end, start) && fn(xs, start, end, false, w);
}

static void walk_holes(const struct xtcp_sock *xs, hole_fn fn,
		       struct hole_walk *w)
{
	const struct xtcp_scoreboard *sb = &xs->scoreboard;
	struct xtcp_sb_walk holes;
	u32 start, end;
	bool is_lost;

	xtcp_sb_walk_start(sb, &holes, xs->snd_una, xs->snd_max,
			   xs->mss_cache);
	while (xtcp_sb_walk_next(sb, &holes, &start, &end, &is_lost))
		if (visit_hole(xs, start, end, is_lost, fn, w))
			return;
}

/* Resent and not yet ACKed or SACKed: the part of a hole below high_rxt. */
static u32 resent_part(const struct xtcp_sock *xs, u32 start, u32 end)
{
	u32 high = xtcp_seq_max(xs->high_rxt, xs->snd_una);

	if (!xtcp_in_sack_recovery(xs) || !xtcp_seq_after(high, start))
		return 0;
	return xtcp_seq_min(end, high) - start;
}

static bool count_pipe(const struct xtcp_sock *xs, u32 start, u32 end,
		       bool lost, struct hole_walk *w)
{
	if (!lost)
		w->pipe += end - start;
	w->pipe += resent_part(xs, start, end);
	return false;
}

/* RFC 6675 SetPipe, in bytes: what the network still holds of ours. */
u32 xtcp_sack_pipe(const struct xtcp_sock *xs)
{
	struct hole_walk w = {};

	walk_holes(xs, count_pipe, &w);
	return w.pipe;
}

static bool count_loss(const struct xtcp_sock *xs, u32 start, u32 end,
		       bool lost, struct hole_walk *w)
{
	if (lost)
		w->lost += end - start;
	w->retrans += resent_part(xs, start, end);
	return false;
}

/* Bytes presumed lost, and resent ones outstanding, for TCP_INFO. */
void xtcp_sack_loss_counts(const struct xtcp_sock *xs, u32 *lost,
			   u32 *retrans)
{
	struct hole_walk w = {};

	walk_holes(xs, count_loss, &w);
	*lost = w.lost;
	*retrans = w.retrans;
}

/* RFC 6675 NextSeg rule 1: the lowest lost byte not yet resent. */
static bool find_next_lost(const struct xtcp_sock *xs, u32 start, u32 end,
			   bool lost, struct hole_walk *w)
{
	u32 from = xtcp_seq_max(start, xs->high_rxt);

	if (!lost)
		return true;	/* lost holes all lie below the others */
	if (!xtcp_seq_after(end, from))
		return false;
	w->next_seq = from;
	w->found = true;
	return true;
}

/*
 * Resend lost holes while cwnd has room over pipe; @first sends one even
 * without room (RFC 6675 (4.3): the retransmission that starts recovery).
 */
static void resend_lost(struct sock *sk, bool first)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u64 cwnd_bytes = (u64)xs->cwnd * xs->mss_cache;

	/* Retransmissions RACK found lost again go first: they are oldest. */
	if (xs->rack.relost) {
		xtcp_rack_resend_relost(sk, first ? U64_MAX : cwnd_bytes);
		first = false;
	}
	for (;;) {
		struct hole_walk w = {};
		u32 end;

		if (!first && (u64)xtcp_sack_pipe(xs) + xs->mss_cache >
			      cwnd_bytes)
			break;
		walk_holes(xs, find_next_lost, &w);
		if (!w.found && first && !xs->rack.on) {
			/* Three duplicates, too little SACKed: the head. */
			const struct xtcp_scoreboard *sb = &xs->scoreboard;
			u32 hole_end = sb->count ? sb->r[0].start :
						   xs->snd_max;

			w.next_seq = xs->snd_una;
			w.found = xtcp_seq_after(hole_end, xs->snd_una);
		}
		if (!w.found)
			break;
		if (xtcp_retransmit_range(sk, w.next_seq, &end))
			break;
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_FAST_RETRANS);
		/* What left: it may end short of or beyond the hole. */
		xs->high_rxt = xtcp_seq_max(xs->high_rxt, end);
		first = false;
	}
}

/*
 * Proportional Rate Reduction (RFC 6937), as native's tcp_cwnd_reduction:
 * through a SACK recovery cwnd follows what the ACKs say the peer got
 * (@delivered bytes by this one), so repairs leave at the pace data
 * leaves the network. RFC 6675 alone would send cwnd - pipe at once: a
 * burst the size of the window when RACK takes a delayed flight for lost.
 * Above ssthresh, sending falls to ssthresh/RecoverFS of what is
 * delivered; below it, slow start back up to ssthresh (PRR-SSRB).
 */
static void prr_update(struct sock *sk, u32 delivered, bool starting)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u64 ssthresh = (u64)xs->ssthresh * xs->mss_cache;
	u32 pipe = xtcp_sack_pipe(xs);
	s64 sndcnt;

	if (starting) {
		xs->prr_delivered = 0;
		xs->prr_out = 0;
		xs->prr_recover_fs = max(xs->snd_max - xs->snd_una, 1U);
	} else if (!delivered) {
		return;		/* a timer: cwnd stays */
	}
	xs->prr_delivered += delivered;
	if (pipe > ssthresh) {
		sndcnt = div_u64((u64)xs->prr_delivered * ssthresh +
				 xs->prr_recover_fs - 1, xs->prr_recover_fs);
		sndcnt -= xs->prr_out;
	} else {
		sndcnt = max_t(s64, (s64)xs->prr_delivered - xs->prr_out,
			       delivered) + xs->mss_cache;
		sndcnt = min_t(s64, sndcnt, ssthresh - pipe);
	}
	/* The retransmission that starts recovery goes in any case. */
	if (!xs->prr_out)
		sndcnt = max_t(s64, sndcnt, xs->mss_cache);
	sndcnt = max_t(s64, sndcnt, 0);
	xs->cwnd = max(DIV_ROUND_UP(pipe, xs->mss_cache) +
		       (u32)sndcnt / xs->mss_cache, 1U);
}

/*
 * After an ACK moved snd_una (or not) and its blocks are on the scoreboard:
 * start, continue or end SACK recovery. @delivered: the bytes the ACK told
 * of, cumulatively or by SACK, 0 from a timer.
 */
void xtcp_sack_ack(struct sock *sk, u32 delivered)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	const struct xtcp_scoreboard *sb = &xs->scoreboard;

	if (!xs->sack_ok)
		return;
	if (xtcp_in_sack_recovery(xs)) {
		if (xtcp_seq_after_eq(xs->snd_una, xs->recover)) {
			xs->cwnd = xs->ssthresh;
			xs->in_recovery = false;
			xs->dupacks = 0;
			xs->ca_state = TCP_CA_Open;
			xtcp_rack_recovery_ended(xs);
			return;
		}
		prr_update(sk, delivered, false);
		resend_lost(sk, false);
		return;
	}
	if (xs->ca_state == TCP_CA_Loss || xs->snd_una == xs->snd_max)
		return;
	if (xs->rack.on) {
		/* RACK decides alone (RFC 8985 replaces the DupThresh rule). */
		if (!xtcp_seq_after(xs->rack.lost_high, xs->snd_una) &&
		    !xs->rack.relost)
			return;
	} else if (xs->dupacks < XTCP_DUPTHRESH &&
		   !xtcp_sb_is_lost(sb, xs->snd_una, xs->mss_cache)) {
		/* RFC 6675 (3): too few duplicates, not IsLost(HighACK + 1). */
		return;
	}
	xtcp_cong_enter_recovery(sk);
	xs->high_rxt = xs->snd_una;
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_SACK_RECOVERY);
	prr_update(sk, delivered, true);
	resend_lost(sk, true);
}
