// SPDX-License-Identifier: GPL-2.0
/*
 * RACK-TLP loss detection, RFC 8985 (socket lock held throughout: the
 * receive hook, the backlog and the retransmission timer call in with it).
 *
 * RACK: a segment is lost once a segment sent after it has been delivered
 * (cumulatively ACKed or SACKed) and one RTT of that delivery plus a
 * reordering window has passed since it was sent. Time, not a count of
 * duplicates: data reordered by any degree costs a wait of the window, not
 * a spurious retransmission, and a lost retransmission is found as a first
 * transmission is. The window is min_rtt/4; it is 0 while no reordering has
 * been seen and either recovery is under way or DupThresh segments are
 * SACKed (so RACK is then as quick as the duplicate-ACK rule); D-SACKs
 * widen it by min_rtt/4 per round trip, up to SRTT, until 16 recoveries
 * pass without one. Segments RACK cannot yet call lost set the reorder
 * timer (XTCP_RTX_REORDER) for when they could be.
 *
 * The unit is a sent skb (rtxq.c; a GSO skb counts as one segment, as a TSO
 * skb does in Linux); sent_us is its last transmission. First transmissions
 * leave in sequence order, so those RACK finds lost are a prefix of what is
 * not SACKed: rack.lost_high ends it, and sack.c's hole walk takes every
 * unSACKed byte below it as lost. A retransmission found lost is marked on
 * its skb (XTCP_RACK_RELOST) and sent again first.
 *
 * TLP: with SACK agreed and no loss being repaired, the retransmission
 * timer first waits a probe timeout (XTCP_RTX_PROBE) of two SRTT, plus
 * 200 ms for a lone segment whose ACK may be delayed, never beyond the RTO.
 * Then one new segment, or else the last one sent, goes out, so that a lost
 * tail draws SACKs and recovery repairs it instead of the RTO. When the
 * ACKs show the probe repaired a loss (it was not a duplicate: no D-SACK),
 * cwnd is reduced as for any loss.
 */
#include <linux/tcp.h>

#include "xtcp.h"

#define XTCP_REO_PERSIST	16	/* recoveries a widened window lasts */
#define XTCP_REO_MULT_MAX	64	/* SRTT caps the window long before */
#define XTCP_TLP_SLACK_US	2000	/* as Linux's TCP_TIMEOUT_MIN_US */
#define XTCP_TLP_DELACK_US	XTCP_RTO_MIN_US	/* worst delayed ACK */

/* RACK on for a connection whose SYN exchange just agreed (or not) SACK. */
void xtcp_rack_start(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_rack *r = &xs->rack;

	xtcp_rack_init(xs);
	r->on = xs->sack_ok &&
		(READ_ONCE(xtcp_net(sock_net(sk))->recovery) &
		 XTCP_RECOVERY_RACK);
	r->end_seq = xs->snd_una;
	r->fack = xs->snd_una;
	r->lost_high = xs->snd_una;
}

void xtcp_rack_init(struct xtcp_sock *xs)
{
	memset(&xs->rack, 0, sizeof(xs->rack));
	xs->rack.reo_wnd_mult = 1;
}

/* (@a_us, @a_end) was sent after (@b_us, @b_end): RFC 8985's tie rule. */
static bool sent_after(u64 a_us, u32 a_end, u64 b_us, u32 b_end)
{
	return a_us > b_us || (a_us == b_us && xtcp_seq_after(a_end, b_end));
}

/*
 * RFC 8985 6.2 steps 1 and 2 for one skb delivered up to @end_seq: the
 * latest-sent delivery sets RACK's time and RTT; a first transmission
 * delivered below one delivered before is reordering.
 */
static void delivered(struct sock *sk, struct xtcp_skb_cb *cb, u32 end_seq,
		      u64 now_us)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_rack *r = &xs->rack;

	if (!cb->retransmitted && xtcp_seq_before(end_seq, r->fack)) {
		r->reord_seen++;
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_SACK_REORDER);
	}
	r->fack = xtcp_seq_max(r->fack, end_seq);
	/* Too soon for the retransmission: the ACK was for an earlier copy. */
	if (cb->retransmitted && now_us - cb->sent_us < xs->min_rtt_us)
		return;
	if (!sent_after(cb->sent_us, end_seq, r->xmit_us, r->end_seq))
		return;
	r->xmit_us = cb->sent_us;
	r->end_seq = end_seq;
	r->rtt_us = (u32)min_t(u64, now_us - cb->sent_us, U32_MAX);
	r->advanced = true;
}

/*
 * The cumulative ACK covers @cb up to @end_seq (send.c): delivered now,
 * unless SACKs told RACK of it before.
 *
 * A resent skb whose ACK echoes a timestamp from before the resend was
 * delivered by its first copy, which was late, not lost (RFC 3522's
 * detection, Linux's tcp_packet_delayed): reordering, and no RTT of the
 * resend to learn from.
 */
void xtcp_rack_acked(struct sock *sk, struct xtcp_skb_cb *cb, u32 end_seq,
		     u64 now_us)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_rack *r = &xs->rack;

	if (!r->on || (cb->rack & XTCP_RACK_SACKED) ||
	    ((cb->rack & XTCP_RACK_PART) &&
	     xtcp_seq_before_eq(end_seq, cb->sacked_end)))
		return;
	if (cb->retransmitted && r->ack_ts_valid &&
	    (s32)(r->ack_echo_ms - (u32)div_u64(cb->sent_us, USEC_PER_MSEC)) < 0) {
		if (!r->ack_ts_reorder) {	/* one event per ACK */
			r->ack_ts_reorder = true;
			r->reord_seen++;
			xtcp_stat_inc(sock_net(sk), XTCP_MIB_TS_REORDER);
		}
		r->fack = xtcp_seq_max(r->fack, end_seq);
		return;
	}
	delivered(sk, cb, end_seq, now_us);
}

/* The ACK about to be taken: what its timestamp echo says (or nothing). */
void xtcp_rack_ack_echo(struct sock *sk, const struct xtcp_seg_hdr *th)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->rack.ack_ts_valid = xs->ts_ok && th->opts.has_timestamp &&
				th->opts.tsecr;
	xs->rack.ack_echo_ms = th->opts.tsecr - xs->ts_offset;
	xs->rack.ack_ts_reorder = false;
}

/*
 * @skb is wholly SACKed: delivered, and off resent_list (a loss of it can
 * no longer be found).
 */
static void mark_sacked(struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	cb->rack |= XTCP_RACK_SACKED;
	list_del_init(&cb->resent_node);
}

/*
 * Does one scoreboard range cover all of @cb? *@edge is then where that
 * range ends.
 */
static bool board_covers(const struct xtcp_sock *xs,
			 const struct xtcp_skb_cb *cb, u32 *edge)
{
	return xtcp_sb_sacked(&xs->scoreboard, cb->seq, cb->seq, edge) &&
	       xtcp_seq_after_eq(*edge, cb->end_seq);
}

/*
 * [@start, @end) is newly on the scoreboard: tell RACK of every sent skb
 * with data in it, up to the highest SACKed byte in that skb. A GSO
 * skb's segments share its send time, and the tie rule orders them by
 * sequence, so the SACKed tail of a train marks the holes before it in
 * the same train. Only the new part is visited (rtxq.c's lookup): a peer
 * that repeats its blocks costs nothing more per ACK.
 */
static void sacked_range(struct sock *sk, u32 start, u32 end, u64 now_us)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	for (skb = xtcp_rtx_find(sk, start);
	     skb && xtcp_seq_before(XTCP_SKB_CB(skb)->seq, end);
	     skb = xtcp_rtx_next(skb)) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
		u32 high = xtcp_seq_min(end, cb->end_seq);
		u32 edge;

		if (cb->rack & XTCP_RACK_SACKED)
			continue;
		/* A later range of this skb may be on the board already. */
		if (board_covers(xs, cb, &edge))
			mark_sacked(skb);
		if ((cb->rack & XTCP_RACK_PART) &&
		    xtcp_seq_before_eq(high, cb->sacked_end))
			continue;	/* told before */
		cb->rack |= XTCP_RACK_PART;
		cb->sacked_end = high;
		delivered(sk, cb, high, now_us);
	}
}

/*
 * The scoreboard grew from @old: every range of it not on @old, lowest
 * first, goes to RACK.
 */
void xtcp_rack_sacked(struct sock *sk, const struct xtcp_scoreboard *old)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	const struct xtcp_scoreboard *sb = &xs->scoreboard;
	u64 now_us = xtcp_clock_us();
	u8 i, j = 0;

	if (!xs->rack.on)
		return;
	for (i = 0; i < sb->count; i++) {
		u32 start = sb->r[i].start, end = sb->r[i].end;

		/* Old ranges lie inside new ones: subtract those in this. */
		while (j < old->count && xtcp_seq_before_eq(old->r[j].end, start))
			j++;
		while (j < old->count && xtcp_seq_before(old->r[j].start, end)) {
			if (xtcp_seq_after(old->r[j].start, start))
				sacked_range(sk, start, old->r[j].start, now_us);
			start = xtcp_seq_max(start, old->r[j].end);
			j++;
		}
		if (xtcp_seq_after(end, start))
			sacked_range(sk, start, end, now_us);
	}
}

/*
 * @skb was split off, or left, by a split: what its parent knew of SACKs
 * it knows; if that is all of it, it is delivered.
 */
void xtcp_rack_split(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	u32 edge;

	if (!(cb->rack & XTCP_RACK_SACKED) &&
	    board_covers(xtcp_sk(sk), cb, &edge))
		mark_sacked(skb);
}

/*
 * A D-SACK of [@start, @end) proved a resend spurious: widen the window,
 * once per round trip. Only if reordering was seen, which may have made
 * RACK resend too soon; not for a loss probe's copy (one segment ending
 * where the probe did), which a timer sent.
 */
void xtcp_rack_dsack(struct sock *sk, u32 start, u32 end)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_rack *r = &xs->rack;
	bool probe_copy = r->tlp_on && end == r->tlp_high_seq &&
			  end - start <= xs->mss_cache;

	if (!r->on || (READ_ONCE(xtcp_net(sock_net(sk))->recovery) &
		       XTCP_RECOVERY_STATIC_REO))
		return;
	if (!r->reord_seen || probe_copy)
		return;
	if (r->dsack_round_on && xtcp_seq_before(xs->snd_una, r->dsack_round))
		return;
	r->dsack_round = xs->snd_max;
	r->dsack_round_on = true;
	if (r->reo_wnd_mult < XTCP_REO_MULT_MAX)
		r->reo_wnd_mult++;
	r->reo_wnd_persist = XTCP_REO_PERSIST;
}

/* A recovery ended: a widened window lasts XTCP_REO_PERSIST of them. */
void xtcp_rack_recovery_ended(struct xtcp_sock *xs)
{
	struct xtcp_rack *r = &xs->rack;

	if (r->reo_wnd_persist && !--r->reo_wnd_persist)
		r->reo_wnd_mult = 1;
}

/* RFC 8985 6.2 step 4, as Linux reads it: the reordering window, in us. */
static u32 reo_wnd_us(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	const struct xtcp_rack *r = &xs->rack;
	int recovery = READ_ONCE(xtcp_net(sock_net(sk))->recovery);
	u64 wnd;

	if (!r->reord_seen) {
		if (xs->in_recovery)
			return 0;
		if (!(recovery & XTCP_RECOVERY_NO_DUPTHRESH) &&
		    xs->scoreboard.bytes >= XTCP_DUPTHRESH * xs->mss_cache)
			return 0;
	}
	wnd = (u64)(xs->min_rtt_us / 4) * r->reo_wnd_mult;
	return (u32)min_t(u64, wnd, xs->rtt.srtt_us);
}

/* Loss detection's running state across the skbs it looks at. */
struct loss_walk {
	u64 now_us;
	u32 reo_us;
	bool recovering;
	u64 wait_us;		/* longest wait for one not yet lost */
};

/*
 * What of @cb was sent before the latest delivery: all, or (same train)
 * the part below the delivered end; its end, or cb->seq for none.
 */
static u32 sent_before_edge(const struct xtcp_rack *r,
			    const struct xtcp_skb_cb *cb)
{
	u32 edge = cb->end_seq;

	if (cb->sent_us > r->xmit_us)
		return cb->seq;
	if (cb->sent_us == r->xmit_us)
		edge = xtcp_seq_min(edge, r->end_seq);
	return xtcp_seq_after(edge, cb->seq) ? edge : cb->seq;
}

/* RFC 8985 6.2 step 5 for one skb sent before the latest delivery. */
static void check_lost(struct sock *sk, struct xtcp_skb_cb *cb, u32 edge,
		       struct loss_walk *w)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_rack *r = &xs->rack;
	/* Below lost_high: lost already; resent in this recovery? */
	bool resent = w->recovering && xtcp_seq_before(cb->seq, xs->high_rxt);
	s64 left;

	if (xtcp_seq_before_eq(edge, r->lost_high) &&
	    (!resent || (cb->rack & XTCP_RACK_RELOST)))
		return;
	left = (s64)(cb->sent_us + r->rtt_us + w->reo_us) - (s64)w->now_us;
	if (left > 0) {
		w->wait_us = max_t(u64, w->wait_us, left);
		return;
	}
	if (resent && xtcp_seq_before_eq(edge, r->lost_high)) {
		cb->rack |= XTCP_RACK_RELOST;
		r->relost = true;
	} else {
		r->lost_high = xtcp_seq_max(r->lost_high, edge);
	}
}

/*
 * RFC 8985 6.2 step 5: mark what is lost. Returns how long until the
 * next not-yet-lost segment could be (us), 0 for none.
 *
 * Only skbs sent before the latest delivery can be lost. Retransmissions
 * are read from resent_list, in the order they left; first transmissions
 * left in sequence order, and those below lost_high are lost already, so
 * their walk starts there and jumps over each range the scoreboard holds
 * (32 at most). Neither walk goes past the first skb sent after the
 * delivery: the work per ACK follows what is in flight and unSACKed
 * within a reordering window, and the retransmissions outstanding, not
 * the length of the queue.
 */
static u32 detect_loss(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_rack *r = &xs->rack;
	struct loss_walk w = {
		.now_us = xtcp_clock_us(),
		.reo_us = reo_wnd_us(sk),
		.recovering = xtcp_in_sack_recovery(xs),
	};
	struct xtcp_skb_cb *cb;
	struct sk_buff *skb;

	r->advanced = false;
	list_for_each_entry(cb, &xs->resent_list, resent_node) {
		u32 edge;

		if (cb->sent_us > r->xmit_us)
			break;
		edge = sent_before_edge(r, cb);
		if (edge != cb->seq && !(cb->rack & XTCP_RACK_SACKED))
			check_lost(sk, cb, edge, &w);
	}
	skb = xtcp_rtx_find(sk, r->lost_high);
	while (skb) {
		u32 edge;

		cb = XTCP_SKB_CB(skb);
		/* SACKed data: past the board's range at once, not skb by skb. */
		if (board_covers(xs, cb, &edge)) {
			skb = xtcp_rtx_find(sk, edge);
			continue;
		}
		skb = xtcp_rtx_next(skb);
		/* Resent ones not SACKed are on resent_list: done above. */
		if ((cb->rack & XTCP_RACK_SACKED) ||
		    !list_empty(&cb->resent_node))
			continue;
		edge = sent_before_edge(r, cb);
		if (edge == cb->seq)
			break;	/* first sends after it were sent later still */
		check_lost(sk, cb, edge, &w);
	}
	return (u32)min_t(u64, w.wait_us, U32_MAX);
}

/*
 * After an ACK: keep sequence marks from falling behind snd_una (where
 * they would wrap round ahead of it), and look for losses if a delivery
 * moved RACK's clock.
 */
u32 xtcp_rack_detect(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_rack *r = &xs->rack;

	if (!r->on)
		return 0;
	if (xtcp_seq_before(r->lost_high, xs->snd_una))
		r->lost_high = xs->snd_una;
	if (xtcp_seq_before(r->fack, xs->snd_una))
		r->fack = xs->snd_una;
	if (xtcp_seq_before(r->end_seq, xs->snd_una))
		r->end_seq = xs->snd_una;
	if (r->dsack_round_on && xtcp_seq_after_eq(xs->snd_una, r->dsack_round))
		r->dsack_round_on = false;
	if (!r->advanced || xs->ca_state == TCP_CA_Loss)
		return 0;
	return detect_loss(sk);
}

/* The reorder timer fired: what it waited for may be lost now. */
void xtcp_rack_timeout(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 wait_us = 0;

	if (xs->rack.on && xs->ca_state != TCP_CA_Loss)
		wait_us = detect_loss(sk);
	xtcp_sack_ack(sk, 0);
	xtcp_rearm_after_ack(sk, wait_us);
}

/*
 * Send the retransmissions RACK found lost again, oldest first, while
 * pipe stays within @cwnd_bytes; the marks of those that must wait stay.
 * One whose split the queue's memory refuses (-ENOMEM) keeps its mark and
 * the next is tried: the head of the queue, never refused, must not wait
 * behind it for the RTO.
 */
void xtcp_rack_resend_relost(struct sock *sk, u64 cwnd_bytes)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct list_head *list = &xs->resent_list;
	struct xtcp_skb_cb *cb;
	bool refused = false;

	cb = list_first_entry(list, struct xtcp_skb_cb, resent_node);
	for (;;) {
		struct xtcp_skb_cb *found = NULL;
		u32 end;
		int err;

		list_for_each_entry_from(cb, list, resent_node) {
			if (cb->rack & XTCP_RACK_RELOST) {
				found = cb;
				break;
			}
		}
		xs->rack.relost = found || refused;
		if (!found ||
		    (u64)xtcp_sack_pipe(xs) + xs->mss_cache > cwnd_bytes)
			return;
		/*
		 * All of it goes again: a split leaves the mark on the rest,
		 * which the next turn finds.
		 */
		found->rack &= ~XTCP_RACK_RELOST;
		err = xtcp_retransmit_range(sk, found->seq, &end);
		if (err) {
			found->rack |= XTCP_RACK_RELOST;
			if (err != -ENOMEM)
				return;
			refused = true;
			cb = list_next_entry(found, resent_node);
			continue;
		}
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_FAST_RETRANS);
		if (cwnd_bytes == U64_MAX)
			cwnd_bytes = (u64)xs->cwnd * xs->mss_cache;
		/* It moved to the list's tail: start over from the oldest. */
		cb = list_first_entry(list, struct xtcp_skb_cb, resent_node);
	}
}

/* A timeout: go-back-N resends all, SACKed or not; RACK starts over. */
void xtcp_rack_on_rto(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_rack *r = &xs->rack;
	struct sk_buff *skb;

	skb_rbtree_walk(skb, &xs->rtx_queue) {
		XTCP_SKB_CB(skb)->rack = 0;
		list_del_init(&XTCP_SKB_CB(skb)->resent_node);
	}
	skb_queue_walk(&sk->sk_write_queue, skb)
		XTCP_SKB_CB(skb)->rack = 0;
	r->lost_high = xs->snd_una;
	r->relost = false;
	r->tlp_on = false;
}

/* ---- tail loss probe ----------------------------------------------------- */

static bool tlp_may_arm(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	int early_retrans = READ_ONCE(xtcp_net(sock_net(sk))->early_retrans);

	return xs->sack_ok && (early_retrans == 3 || early_retrans == 4) &&
	       xs->ca_state == TCP_CA_Open && !xs->rack.tlp_on &&
	       xs->snd_una != xs->snd_max &&
	       ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				       TCPF_FIN_WAIT1 | TCPF_CLOSING |
				       TCPF_LAST_ACK));
}

/* A loss probe's timeout where one may be sent (RFC 8985 7.2), else the RTO. */
static void arm_probe_or_rto(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 srtt = xs->rtt.srtt_us;
	unsigned long pto, rto;
	u64 pto_us;

	if (!tlp_may_arm(sk)) {
		xtcp_arm_rtx(sk);
		return;
	}
	rto = xtcp_rto_jiffies(xs);
	if (!srtt)
		pto_us = XTCP_RTO_INITIAL_US;
	else if (xtcp_in_flight(xs) <= xs->mss_cache)
		pto_us = 2ULL * srtt + XTCP_TLP_DELACK_US;
	else
		pto_us = 2ULL * srtt + XTCP_TLP_SLACK_US;
	pto = usecs_to_jiffies((u32)min_t(u64, pto_us, XTCP_RTO_MAX_US));
	xtcp_arm_rtx_timer(sk, XTCP_RTX_PROBE, min(pto, rto));
}

/*
 * Choose what the retransmission timer waits for after an ACK: the
 * reorder timeout RACK asked for (@reo_us), else a loss probe, else the
 * RTO; nothing with everything acknowledged.
 */
void xtcp_rearm_after_ack(struct sock *sk, u32 reo_us)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->snd_una == xs->snd_max) {
		xtcp_stop_rtx(sk);
		return;
	}
	if (reo_us) {
		unsigned long when = min(usecs_to_jiffies(reo_us),
					 xtcp_rto_jiffies(xs));

		xtcp_arm_rtx_timer(sk, XTCP_RTX_REORDER, when);
		return;
	}
	arm_probe_or_rto(sk);
}

/*
 * New data just left: a loss probe restarts from it (RFC 8985 7.2); an
 * RTO or reorder timeout already running stays.
 */
void xtcp_rearm_after_send(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->rtx_mode == XTCP_RTX_RETRANSMIT ||
	    xs->rtx_mode == XTCP_RTX_REORDER)
		return;
	arm_probe_or_rto(sk);
}

/* The probe timeout fired (RFC 8985 7.3). */
void xtcp_tlp_fire(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_rack *r = &xs->rack;
	u32 end;

	if (xs->snd_una == xs->snd_max)
		return;
	if (!tlp_may_arm(sk)) {
		xtcp_arm_rtx(sk);
		return;
	}
	r->tlp_on = true;
	r->tlp_dsacks = xs->dsack_dups;
	if (!xtcp_send_new_segment(sk)) {
		r->tlp_retrans = false;
	} else if (!xtcp_retransmit_range(sk, xs->snd_nxt - 1, &end)) {
		r->tlp_retrans = true;
	} else {
		r->tlp_on = false;	/* no memory: the RTO comes next */
		xtcp_arm_rtx(sk);
		return;
	}
	r->tlp_high_seq = xs->snd_nxt;
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_LOSS_PROBES);
	xtcp_arm_rtx(sk);
}

/*
 * An acceptable ACK while a probe is out (RFC 8985 7.4): new data probed,
 * or a D-SACK of the probe, means nothing was lost; an ACK beyond what
 * was sent with the probe, without one, means the probe repaired a loss:
 * reduce cwnd as for a loss found by recovery.
 */
void xtcp_tlp_ack(struct sock *sk, u32 ack)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_rack *r = &xs->rack;

	if (!r->tlp_on || xtcp_seq_before(ack, r->tlp_high_seq))
		return;
	if (!r->tlp_retrans || xs->dsack_dups != r->tlp_dsacks) {
		r->tlp_on = false;
		return;
	}
	if (!xtcp_seq_after(ack, r->tlp_high_seq))
		return;		/* the probe's own ACK: wait for a D-SACK */
	r->tlp_on = false;
	if (xs->in_recovery || xs->ca_state == TCP_CA_Loss)
		return;
	xs->ssthresh = xs->cong_ops->ssthresh(sk);
	xs->cwnd = max_t(u32, xs->ssthresh, 2);
	xs->cwnd_cnt = 0;
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_LOSS_PROBE_RECOVERY);
}
