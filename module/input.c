// SPDX-License-Identifier: GPL-2.0
/*
 * Input: IPv4 hands us the segments of our protocol number after its own
 * checks, routing and netfilter (netif_receive_skb, ip_rcv,
 * ip_local_deliver, xtcp_v4_rcv); we validate the header and the checksum,
 * find the socket, apply its policy and filter, and run the RFC 9293
 * segment arrival rules (section 3.10.7) under the socket lock, or leave the
 * segment on the socket backlog while a user holds the lock.
 */
#include <linux/filter.h>
#include <linux/ip.h>
#include <linux/log2.h>
#include <linux/tcp.h>
#include <net/ip.h>
#include <net/protocol.h>
#include <net/route.h>
#include <net/tcp.h>
#include <net/xfrm.h>

#include "xtcp.h"

/* Sequence space a segment takes: payload, SYN and FIN. */
static u32 seg_seq_len(const struct sk_buff *skb,
		       const struct xtcp_seg_hdr *th)
{
	return skb->len - th->hdr_len + !!(th->flags & XTCP_FLAG_SYN) +
	       !!(th->flags & XTCP_FLAG_FIN);
}

/*
 * Grow the send buffer with the congestion window, as native TCP does: room
 * for twice the window (the initial one at least) of full segments, each
 * charged as its allocation rounded up to a power of two. The same figure
 * as native's tcp_sndbuf_expand, so SO_SNDBUF reads as native's once the
 * handshake is done, and small writes (an skb each) have the room they
 * have there.
 */
static void sndbuf_expand(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = xs->peer_mss, per_seg, want;

	if ((sk->sk_userlocks & SOCK_SNDBUF_LOCK) || !xtcp_buffers_may_grow(sk))
		return;
	if (xs->user_mss)
		mss = min(mss, xs->user_mss);
	mss = max_t(u32, mss, xs->mss_cache);
	per_seg = roundup_pow_of_two(mss + MAX_TCP_HEADER +
				     SKB_DATA_ALIGN(sizeof(struct skb_shared_info))) +
		  SKB_DATA_ALIGN(sizeof(struct sk_buff));
	want = 2 * max_t(u32, xs->cwnd, XTCP_INIT_CWND) * per_seg;
	want = min_t(u32, want, READ_ONCE(sysctl_xtcp_wmem[2]));
	if (want > READ_ONCE(sk->sk_sndbuf))
		WRITE_ONCE(sk->sk_sndbuf, want);
}

static u32 route_mtu(struct sock *sk)
{
	struct dst_entry *dst = __sk_dst_get(sk);

	return dst ? dst_mtu(dst) : 576;
}

/* The handshake is done on this side: ESTABLISHED and wake the user. */
static void become_established(struct sock *sk)
{
	xtcp_set_state(sk, TCP_ESTABLISHED);
	sndbuf_expand(sk);
	xtcp_keepalive_reset(sk);
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		sk_wake_async(sk, SOCK_WAKE_IO, POLL_OUT);
	}
}

/* Our SYN is acknowledged by @th, whose window is @wnd bytes. */
static void handshake_acked(struct sock *sk, const struct xtcp_seg_hdr *th,
			    u32 wnd)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->rtt_pending && xtcp_seq_after_eq(th->ack, xs->rtt_seq))
		xtcp_rtt_sample_sk(sk, (u32)min_t(u64, xtcp_clock_us() -
						   xs->rtt_start_us, U32_MAX));
	xs->rtt_pending = false;
	xs->bytes_acked += th->ack - xs->snd_una;	/* our SYN: 1 */
	xs->ack_rcvd_at = jiffies;
	xs->snd_una = th->ack;
	xs->snd_wnd = wnd;
	xs->max_window = wnd;
	xs->snd_wl1 = th->seq;
	xs->snd_wl2 = th->ack;
	xs->backoff = 0;
	xs->retries = 0;
	xtcp_stop_rtx(sk);
	become_established(sk);
}

/* RFC 9293 3.10.7.3: SYN-SENT. */
static void syn_sent_rcv(struct sock *sk, struct sk_buff *skb,
			 const struct xtcp_seg_hdr *th)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool has_ack = th->flags & XTCP_FLAG_ACK;

	if (has_ack && (xtcp_seq_before_eq(th->ack, xs->iss) ||
			xtcp_seq_after(th->ack, xs->snd_max))) {
		if (!(th->flags & XTCP_FLAG_RST))
			xtcp_send_reset_reply(sock_net(sk), skb, th);
		return;
	}
	if (th->flags & XTCP_FLAG_RST) {
		if (has_ack) {
			xtcp_stat_inc(sock_net(sk), XTCP_MIB_ATTEMPT_FAILS);
			xtcp_reset(sk);
		}
		return;
	}
	if (!(th->flags & XTCP_FLAG_SYN))
		return;

	xs->irs = th->seq;
	xs->rcv_nxt = th->seq + 1;
	xs->rcv_wup = xs->rcv_nxt;
	xs->copied_seq = xs->rcv_nxt;
	xtcp_take_syn_options(sk, th, route_mtu(sk), false);
	xs->snd_wnd = th->window;
	xs->max_window = xs->snd_wnd;
	xs->snd_wl1 = th->seq;

	if (!has_ack) {
		/* Simultaneous open: answer with a SYN-ACK. */
		xtcp_set_state(sk, TCP_SYN_RECV);
		xtcp_stop_rtx(sk);
		xtcp_send_syn(sk);
		return;
	}
	handshake_acked(sk, th, th->window);
	xtcp_send_ack(sk);
}

/*
 * RFC 9293 3.10.7.2: LISTEN. An ACK that brings back a SYN cookie goes to
 * the child it stands for (*@consumed if that keeps the skb).
 */
static void listen_rcv(struct sock *sk, struct sk_buff *skb,
		       const struct xtcp_seg_hdr *th, bool *consumed)
{
	if (th->flags & XTCP_FLAG_RST)
		return;
	if (th->flags & XTCP_FLAG_ACK) {
		if (xtcp_cookie_ack(sk, skb, th, consumed) == -ENOENT)
			xtcp_send_reset_reply(sock_net(sk), skb, th);
		return;
	}
	if (th->flags & XTCP_FLAG_SYN)
		xtcp_conn_request(sk, skb, th);
}

/* The peer's FIN is in order (socket lock held): RFC 9293 step eight. */
static void fin_received(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	sk->sk_shutdown |= RCV_SHUTDOWN;
	sock_set_flag(sk, SOCK_DONE);
	skb_queue_purge(&xs->ooo_queue);
	xs->num_sack_runs = 0;
	switch (sk->sk_state) {
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
		xtcp_set_state(sk, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT1:
		xtcp_set_state(sk, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		/* The FIN's ACK leaves before the socket closes. */
		xtcp_send_ack(sk);
		xtcp_enter_time_wait(sk);
		break;
	default:
		break;
	}
	xs->ack_now = 1;
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		if (sk->sk_shutdown == SHUTDOWN_MASK ||
		    sk->sk_state == TCP_CLOSE)
			sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_HUP);
		else
			sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_IN);
	}
}

/*
 * Small segments in large buffers would eat the receive buffer by truesize:
 * copy such a payload into a compact skb that later ones can join.
 */
static struct sk_buff *compact_skb(struct sk_buff *skb)
{
	unsigned int cap = max_t(unsigned int, skb->len, XTCP_MIN_SKB_PAYLOAD);
	struct sk_buff *nskb;

	if (skb->truesize <= 2 * SKB_TRUESIZE(skb->len))
		return skb;
	nskb = alloc_skb(cap, GFP_ATOMIC);
	if (!nskb)
		return skb;
	if (skb_copy_bits(skb, 0, skb_put(nskb, skb->len), skb->len)) {
		kfree_skb(nskb);
		return skb;
	}
	memcpy(nskb->cb, skb->cb, sizeof(skb->cb));
	consume_skb(skb);
	return nskb;
}

/* Append @skb's payload to the receive queue's tail if it has room. */
static bool coalesce_into_tail(struct sock *sk, struct sk_buff *skb)
{
	struct sk_buff *tail = skb_peek_tail(&sk->sk_receive_queue);
	struct xtcp_skb_cb *tcb;

	if (!tail || skb_cloned(tail) || skb_is_nonlinear(tail))
		return false;
	tcb = XTCP_SKB_CB(tail);
	if ((tcb->flags & XTCP_FLAG_FIN) ||
	    tcb->end_seq != XTCP_SKB_CB(skb)->seq ||
	    skb_tailroom(tail) < skb->len)
		return false;
	if (skb_copy_bits(skb, 0, skb_put(tail, skb->len), skb->len)) {
		__skb_trim(tail, tail->len - skb->len);
		return false;
	}
	tcb->end_seq = XTCP_SKB_CB(skb)->end_seq;
	tcb->flags |= XTCP_SKB_CB(skb)->flags & XTCP_FLAG_FIN;
	consume_skb(skb);
	return true;
}

/*
 * The advertised window (at most half of sk_rcvbuf in payload) is the
 * contract; this only bounds what buffer overhead may add on top of it, as
 * compact_skb keeps truesize within about twice the payload.
 */
static bool rmem_admits(struct sock *sk, const struct sk_buff *skb)
{
	return atomic_read(&sk->sk_rmem_alloc) <=
	       2 * (u64)READ_ONCE(sk->sk_rcvbuf);
}

/*
 * Out-of-order data after @seq goes, newest first, as in native's
 * tcp_prune_ofo_queue, while the buffer holds more than SO_RCVBUF (room
 * for a while, not a prune per segment) or the protocol is under memory
 * pressure. A peer (or an attacker) that leaves a hole and fills the
 * buffer behind it must not keep out for ever the data that fills the
 * hole; an out-of-order segment never displaces older data.
 */
static void prune_ooo(struct sock *sk, u32 seq)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *victim;
	bool pruned = false;

	while ((atomic_read(&sk->sk_rmem_alloc) > READ_ONCE(sk->sk_rcvbuf) ||
		sk_under_memory_pressure(sk)) &&
	       (victim = skb_peek_tail(&xs->ooo_queue)) &&
	       !xtcp_seq_after(seq, XTCP_SKB_CB(victim)->seq)) {
		__skb_unlink(victim, &xs->ooo_queue);
		kfree_skb(victim);
		pruned = true;
	}
	if (pruned) {
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_OFO_PRUNED);
		xtcp_sack_rcv_pruned(sk);
	}
}

/*
 * May @skb be charged to @sk: within the socket's bound (rmem_admits) and
 * the protocol's (net.xtcp.mem, through the kernel's sk_rmem_schedule)?
 */
static bool rmem_schedule(struct sock *sk, struct sk_buff *skb)
{
	return rmem_admits(sk, skb) && sk_rmem_schedule(sk, skb, skb->truesize);
}

/*
 * Room for @skb, pruning out-of-order data when the receive buffer or the
 * protocol's memory is full. True when @skb may be queued. In-order data
 * for a receive queue its reader has drained is taken past the protocol's
 * limit, as native's sk_forced_mem_schedule in tcp_data_queue: else a
 * connection that holds nothing could not get a byte (or its FIN) while
 * others fill net.xtcp.mem. Its charge then runs the forward allocation
 * negative, paid back by the socket's next schedule.
 */
static bool make_room(struct sock *sk, struct sk_buff *skb, bool in_order)
{
	if (rmem_schedule(sk, skb))
		return true;
	prune_ooo(sk, XTCP_SKB_CB(skb)->seq);
	if (rmem_schedule(sk, skb))
		return true;
	if (in_order && skb_queue_empty(&sk->sk_receive_queue) &&
	    rmem_admits(sk, skb))
		return true;
	xtcp_stat_inc(sock_net(sk), rmem_admits(sk, skb) ?
		      XTCP_MIB_DROP_MEM_LIMIT : XTCP_MIB_DROP_RCVBUF_FULL);
	return false;
}

/* In-order data (its seq is rcv_nxt) joins the receive queue. */
static void queue_in_order(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool fin = XTCP_SKB_CB(skb)->flags & XTCP_FLAG_FIN;

	xs->bytes_received += XTCP_SKB_CB(skb)->end_seq - xs->rcv_nxt;
	xs->rcv_nxt = XTCP_SKB_CB(skb)->end_seq;
	xs->data_queued_at = jiffies;
	if (!coalesce_into_tail(sk, skb)) {
		skb_set_owner_r(skb, sk);
		__skb_queue_tail(&sk->sk_receive_queue, skb);
	}
	if (fin)
		fin_received(sk);
}

/* Move what the new data made contiguous from the out-of-order queue. */
static void drain_ooo(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	while ((skb = skb_peek(&xs->ooo_queue))) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (xtcp_seq_after(cb->seq, xs->rcv_nxt))
			break;
		__skb_unlink(skb, &xs->ooo_queue);
		if (xtcp_seq_before_eq(cb->end_seq, xs->rcv_nxt) &&
		    !(cb->flags & XTCP_FLAG_FIN && cb->end_seq == xs->rcv_nxt + 1)) {
			kfree_skb(skb);
			continue;
		}
		if (xtcp_seq_before(cb->seq, xs->rcv_nxt)) {
			u32 dup = min(xs->rcv_nxt - cb->seq, skb->len);

			if (!pskb_pull(skb, dup)) {
				kfree_skb(skb);
				continue;
			}
			cb->seq += dup;
		}
		/* Already charged to the socket: requeue as is. */
		xs->bytes_received += cb->end_seq - xs->rcv_nxt;
		xs->rcv_nxt = cb->end_seq;
		__skb_queue_tail(&sk->sk_receive_queue, skb);
		if (cb->flags & XTCP_FLAG_FIN) {
			fin_received(sk);
			break;
		}
	}
}

/*
 * Hold a segment beyond rcv_nxt until the hole before it fills. Returns
 * false when it was a duplicate of one already held (and freed).
 */
static bool queue_out_of_order(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct sk_buff *pos;

	skb_queue_reverse_walk(&xs->ooo_queue, pos) {
		struct xtcp_skb_cb *pcb = XTCP_SKB_CB(pos);

		if (pcb->seq == cb->seq &&
		    !xtcp_seq_before(pcb->end_seq, cb->end_seq)) {
			kfree_skb(skb);	/* a duplicate */
			return false;
		}
		if (xtcp_seq_before_eq(pcb->seq, cb->seq)) {
			skb_set_owner_r(skb, sk);
			__skb_queue_after(&xs->ooo_queue, pos, skb);
			goto queued;
		}
	}
	skb_set_owner_r(skb, sk);
	__skb_queue_head(&xs->ooo_queue, skb);
queued:
	xs->rcv_ooopack++;
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_OFO_QUEUED);
	return true;
}

/*
 * In-order data short of the largest segment seen, or a full one with
 * PSH, likely ends a write: once the reader empties the queue it is ACKed
 * at once (recv.c), as native's ICSK_ACK_PUSHED; two of them before an
 * ACK left are ACKed so even in ping-pong mode.
 */
static void note_pushed(struct xtcp_sock *xs, u32 payload, u8 flags)
{
	if (payload >= xs->rcv_mss) {
		if (flags & XTCP_FLAG_PSH)
			xs->ack_pushed = 1;
		return;
	}
	if (xs->ack_pushed)
		xs->ack_pushed2 = 1;
	xs->ack_pushed = 1;
}

/*
 * Step seven begins: @skb's header goes, its payload and FIN become
 * sequence space in its control block, and what lies beyond the window
 * we offered is cut off (RFC 9293 3.10.7.4). False when nothing is left.
 */
static bool trim_to_window(struct sock *sk, struct sk_buff *skb,
			   const struct xtcp_seg_hdr *th)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	u32 edge = xs->rcv_wup + xs->rcv_wnd;
	u32 keep;

	__skb_pull(skb, th->hdr_len);
	cb->seq = th->seq;
	cb->end_seq = th->seq + skb->len + !!(th->flags & XTCP_FLAG_FIN);
	cb->flags = th->flags & XTCP_FLAG_FIN;
	if (cb->end_seq == cb->seq)
		return false;
	if (!xtcp_seq_after(cb->seq + skb->len, edge))
		return true;
	keep = xtcp_seq_after(edge, cb->seq) ? edge - cb->seq : 0;
	if (pskb_trim(skb, keep))
		return false;
	cb->end_seq = cb->seq + keep;
	cb->flags = 0;
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_DROP_BEYOND_WINDOW);
	return cb->end_seq != cb->seq;
}

/*
 * Data beyond rcv_nxt waits in the out-of-order queue for the hole before
 * it to fill. Consumes @skb.
 */
static void ooo_data_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 start = XTCP_SKB_CB(skb)->seq, end = XTCP_SKB_CB(skb)->end_seq;

	skb = compact_skb(skb);
	if (!make_room(sk, skb, false)) {
		kfree_skb(skb);
		return;
	}
	if (queue_out_of_order(sk, skb))
		xtcp_sack_rcv_ooo(sk, start, end);
	else
		xtcp_sack_rcv_duplicate(sk, start, end, true);
	/* A duplicate ACK tells the sender about the hole at once. */
	xs->ack_now = 1;
	xtcp_send_ack(sk);
}

/*
 * In-order data that starts below rcv_nxt loses what we hold already,
 * reported in a D-SACK. False when nothing new is left.
 */
static bool trim_old_data(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	u32 dup;

	if (!xtcp_seq_before(cb->seq, xs->rcv_nxt))
		return true;
	dup = xs->rcv_nxt - cb->seq;
	/* Only an old FIN is left: nothing new. */
	if (dup > skb->len)
		return false;
	xtcp_sack_rcv_duplicate(sk, cb->seq, xs->rcv_nxt, false);
	/* The payload may sit in page frags: pskb_pull, never BUG. */
	if (!pskb_pull(skb, dup))
		return false;
	cb->seq = xs->rcv_nxt;
	return true;
}

/*
 * In-order data was queued: ACK it now or delay the ACK. RFC 1122
 * 4.2.3.2: ACK at least every second full segment.
 */
static void ack_snd_check(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->ack_now || (xs->quickacks && !xs->pingpong) ||
	    xs->rcv_nxt - xs->rcv_wup > xs->rcv_mss) {
		if (xs->quickacks && !xs->pingpong)
			xs->quickacks--;
		xtcp_send_ack(sk);
	} else {
		xtcp_schedule_delack(sk);
	}
}

/*
 * Step seven, the segment text (socket lock held). Consumes @skb (returns
 * true) when it carries data or a FIN to keep.
 */
static bool data_rcv(struct sock *sk, struct sk_buff *skb,
		     const struct xtcp_seg_hdr *th)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool had_ooo = !skb_queue_empty(&xs->ooo_queue);
	u32 seg_len;

	if (!trim_to_window(sk, skb, th))
		return false;
	/* A GRO or local GSO packet counts by the segments it holds. */
	seg_len = skb_shinfo(skb)->gso_size ?: skb->len;
	if (skb->len && !xtcp_seq_after(XTCP_SKB_CB(skb)->seq, xs->rcv_nxt))
		note_pushed(xs, seg_len, th->flags);
	if (seg_len > xs->rcv_mss)
		xs->rcv_mss = min_t(u32, seg_len, xs->adv_mss);

	if (xtcp_seq_after(XTCP_SKB_CB(skb)->seq, xs->rcv_nxt)) {
		ooo_data_rcv(sk, skb);
		return true;
	}
	if (!trim_old_data(sk, skb))
		return false;
	skb = compact_skb(skb);
	if (!make_room(sk, skb, true)) {
		kfree_skb(skb);
		xs->ack_now = 1;
		xtcp_send_ack(sk);
		return true;
	}
	queue_in_order(sk, skb);
	xtcp_rcv_rtt_measure(sk);
	if (had_ooo && sk->sk_state != TCP_CLOSE) {
		drain_ooo(sk);
		xtcp_sack_rcv_delivered(sk);
		xs->ack_now = 1;
	}
	/*
	 * The FIN ended FIN_WAIT2: its ACK left, an entry answers for the
	 * socket now.
	 */
	if (sk->sk_state != TCP_CLOSE)
		ack_snd_check(sk);
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_data_ready(sk);
	return true;
}

/*
 * RFC 5681: a duplicate ACK acknowledges nothing new, carries no data or
 * FIN, and arrives while data is outstanding. Without SACK it must also
 * repeat the window; with SACK it must SACK new data (RFC 6675 section 2).
 */
static bool is_dupack(const struct xtcp_sock *xs, const struct sk_buff *skb,
		      const struct xtcp_seg_hdr *th, u32 wnd, u32 newly_sacked)
{
	if (th->ack != xs->snd_una || skb->len != th->hdr_len ||
	    (th->flags & XTCP_FLAG_FIN) || xs->snd_una == xs->snd_max)
		return false;
	return xs->sack_ok ? newly_sacked > 0 : wnd == xs->snd_wnd;
}

/* A duplicate ACK: count it, and without SACK run NewReno (cong.c). */
static void dupack_rcv(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->in_recovery) {
		if (!xtcp_in_sack_recovery(xs))
			xs->cwnd++;	/* RFC 6582 3.2 step 4 */
		return;
	}
	if (xtcp_cong_dupack(sk) && !xs->sack_ok) {
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_RENO_RECOVERY);
		xtcp_cong_enter_recovery(sk);
		xtcp_retransmit_one(sk);
	}
}

/*
 * A reply to a segment rejected by PAWS, by its sequence number, or a RST
 * that asks for a challenge ACK: at most one per invalid_ratelimit ms when
 * the segment has no data (as native TCP's tcp_oow_rate_limited, RFC 5961
 * section 7), so that stale or forged ACKs cannot make us answer each one,
 * or two peers answer each other's. Segments with data, a SYN or a FIN
 * (@len) are always answered: their sender waits for the ACK. *@last is
 * the jiffies of the last reply, 0: none. True: skip the reply, counted in
 * @skipped.
 */
bool xtcp_oow_rate_limited(struct net *net, unsigned long *last, u32 len,
			   const struct xtcp_seg_hdr *th,
			   enum xtcp_mib_field skipped)
{
	unsigned long limit;

	if (len && !(th->flags & XTCP_FLAG_SYN))
		return false;
	limit = msecs_to_jiffies(READ_ONCE(xtcp_net(net)->invalid_ratelimit_ms));
	if (limit && *last && time_before(jiffies, *last + limit)) {
		xtcp_stat_inc(net, skipped);
		return true;
	}
	*last = jiffies ?: 1;
	return false;
}

static bool reply_rate_limited(struct sock *sk, u32 len,
			       const struct xtcp_seg_hdr *th,
			       enum xtcp_mib_field skipped)
{
	return xtcp_oow_rate_limited(sock_net(sk),
				     &xtcp_sk(sk)->last_invalid_reply, len, th,
				     skipped);
}

/*
 * RFC 5961 7 across the namespace, as native's tcp_challenge_ack_allowed:
 * about challenge_ack_limit a second, the budget of each second drawn at
 * random between half and one and a half of it so that an off-path
 * attacker cannot count our replies; INT_MAX (native's default) is none.
 */
bool xtcp_challenge_ack_allowed(struct xtcp_net *xn)
{
	u32 limit = READ_ONCE(xn->challenge_ack_limit);
	u32 now = jiffies / HZ;
	u32 count;

	if (limit == INT_MAX)
		return true;
	if (now != READ_ONCE(xn->challenge_stamp)) {
		WRITE_ONCE(xn->challenge_stamp, now);
		WRITE_ONCE(xn->challenge_count, (limit + 1) / 2 +
			   (u32)(((u64)get_random_u32() * limit) >> 32));
	}
	count = READ_ONCE(xn->challenge_count);
	if (!count)
		return false;
	WRITE_ONCE(xn->challenge_count, count - 1);
	return true;
}

/*
 * A challenge ACK (RFC 5961: an in-window RST or SYN, an ACK older than
 * any window): within the socket's and the namespace's rate limits, as
 * native's tcp_send_challenge_ack.
 */
static void send_challenge_ack(struct sock *sk, const struct xtcp_seg_hdr *th)
{
	struct net *net = sock_net(sk);

	if (reply_rate_limited(sk, 0, th, XTCP_MIB_ACK_SKIPPED_CHALLENGE) ||
	    !xtcp_challenge_ack_allowed(xtcp_net(net)))
		return;
	xtcp_stat_inc(net, XTCP_MIB_CHALLENGE_ACKS);
	xtcp_send_ack(sk);
}

/*
 * RFC 5961 5.2: an ACK below snd_una by more than the peer's largest
 * window (or than all we ever had ACKed) cannot come from the peer: a
 * blind injection. Its segment is dropped, data and all.
 */
static bool ack_too_old(const struct xtcp_sock *xs, u32 ack)
{
	u32 reach = (u32)min_t(u64, xs->max_window, xs->bytes_acked);

	return xtcp_seq_before(ack, xs->snd_una - reach);
}

/*
 * RFC 6937 DeliveredData of an ACK that moved snd_una by @acked: that,
 * plus the change of the SACKed bytes (@sacked_before), so that SACKed
 * data now cumulatively ACKed counts once, and ranges a full scoreboard
 * let go count as the change they make.
 */
static u32 delivered_bytes(const struct xtcp_sock *xs, u32 acked,
			   u32 sacked_before)
{
	return (u32)max_t(s64, 0, (s64)acked + xs->scoreboard.bytes -
				  sacked_before);
}

/* Step five for synchronized states: returns false to drop the segment. */
/*
 * RFC 7323 4.3: the timestamp to echo, from a segment at the left edge,
 * taken only once its ACK proved acceptable (up to snd_max, and no more
 * than a window below snd_una), as native's tcp_ack does: a forged
 * segment in the window with a far TSval and an ACK for data never sent
 * would otherwise move TS.Recent ahead, and PAWS drop all that the peer
 * sends next.
 */
static void update_ts_recent(struct xtcp_sock *xs,
			     const struct xtcp_seg_hdr *th)
{
	if (xs->ts_ok && th->opts.has_timestamp &&
	    xtcp_seq_before_eq(th->seq, xs->rcv_wup) &&
	    (!xs->ts_recent_stamp ||
	     xtcp_seq_after_eq(th->opts.tsval, xs->ts_recent))) {
		xs->ts_recent = th->opts.tsval;
		xs->ts_recent_stamp = (u32)ktime_get_seconds() ?: 1;
	}
}

static bool ack_rcv(struct sock *sk, const struct sk_buff *skb,
		    const struct xtcp_seg_hdr *th)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 ack = th->ack;
	u32 wnd = (u32)th->window << xs->snd_wscale;
	u32 sacked_before = xs->scoreboard.bytes;
	u32 acked, rtt_us, newly_sacked, reo_us;

	if (xtcp_seq_after(ack, xs->snd_max)) {
		/* ACKs something not yet sent. */
		xtcp_send_ack(sk);
		return false;
	}
	if (xtcp_seq_before(ack, xs->snd_una)) {
		if (!ack_too_old(xs, ack)) {
			/* An old duplicate: the text may count. */
			update_ts_recent(xs, th);
			return true;
		}
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_DROP_TOO_OLD_ACK);
		send_challenge_ack(sk, th);
		return false;
	}
	update_ts_recent(xs, th);
	/* The peer is there: keepalive starts counting afresh ... */
	xs->ack_rcvd_at = jiffies;
	xs->ka_probes = 0;
	/* ... and an ICMP's soft error no longer stands (native). */
	WRITE_ONCE(sk->sk_err_soft, 0);

	acked = ack - xs->snd_una;
	newly_sacked = xtcp_sack_update(sk, th);
	if (xtcp_seq_before(xs->snd_wl1, th->seq) ||
	    (xs->snd_wl1 == th->seq && xtcp_seq_before_eq(xs->snd_wl2, ack))) {
		if (is_dupack(xs, skb, th, wnd, newly_sacked))
			dupack_rcv(sk);
		xs->snd_wnd = wnd;
		xs->snd_wl1 = th->seq;
		xs->snd_wl2 = ack;
		if (wnd > xs->max_window)
			xs->max_window = wnd;
		if (wnd)
			xs->probing_since = 0;	/* the window opened */
	}
	if (!acked) {
		xtcp_undo_check(sk, 0);
		xtcp_tlp_ack(sk, ack);
		reo_us = xtcp_rack_detect(sk);
		xtcp_sack_ack(sk, delivered_bytes(xs, 0, sacked_before));
		/* RFC 6298 (5.3): no new data ACKed, the RTO runs on. */
		if (reo_us)
			xtcp_rearm_after_ack(sk, reo_us);
		return true;
	}

	if (xs->rtt_pending && xtcp_seq_after_eq(ack, xs->rtt_seq)) {
		xtcp_rtt_sample_sk(sk, (u32)min_t(u64, xtcp_clock_us() -
						   xs->rtt_start_us, U32_MAX));
		xs->rtt_pending = false;
	}
	xtcp_rack_ack_echo(sk, th);
	rtt_us = xtcp_free_acked(sk, ack);
	if (rtt_us && (!xs->min_rtt_us || rtt_us < xs->min_rtt_us))
		xs->min_rtt_us = rtt_us;
	xs->bytes_acked += acked;
	xs->snd_una = ack;
	xtcp_sb_ack(&xs->scoreboard, ack);
	if (xtcp_seq_before(xs->snd_nxt, ack))
		xs->snd_nxt = ack;
	xs->backoff = 0;
	xs->retries = 0;
	xs->probes = 0;
	if (xtcp_in_sack_recovery(xs)) {
		/* sack.c resends, or ends recovery, below. */
	} else if (xs->in_recovery) {
		if (xtcp_cong_recovery_ack(sk, ack, acked))
			xtcp_retransmit_one(sk);
	} else {
		xtcp_cong_on_ack(sk, acked, rtt_us);
		sndbuf_expand(sk);
	}
	xtcp_undo_check(sk, acked);
	xtcp_tlp_ack(sk, ack);
	reo_us = xtcp_rack_detect(sk);
	xtcp_sack_ack(sk, delivered_bytes(xs, acked, sacked_before));
	xtcp_rearm_after_ack(sk, reo_us);
	return true;
}

/* Our FIN is acknowledged once everything up to it is. */
static bool fin_acked(const struct xtcp_sock *xs)
{
	return xs->fin_sent && xs->snd_una == xs->snd_max;
}

/*
 * PAWS (RFC 7323 5.3): the segment's TSval is older than TS.Recent, which
 * is valid (taken within 24 days). Two allowances, as native TCP makes:
 * a clock tick of slack, since segments sent in one millisecond can be
 * reordered on the way (by the CPUs of a multi-queue path too); and a pure
 * duplicate ACK at rcv_nxt that is less than an RTO late, which only
 * reordering explains and whose SACK blocks are news.
 */
static bool paws_rejects(const struct xtcp_sock *xs, const struct sk_buff *skb,
			 const struct xtcp_seg_hdr *th)
{
	u32 late;

	if (!xs->ts_ok || !th->opts.has_timestamp || !xs->ts_recent_stamp ||
	    (u32)ktime_get_seconds() - xs->ts_recent_stamp > XTCP_PAWS_IDLE_S)
		return false;
	late = xs->ts_recent - th->opts.tsval;
	if ((s32)late <= XTCP_PAWS_WINDOW_MS)
		return false;
	return !(skb->len == th->hdr_len && th->seq == xs->rcv_nxt &&
		 (th->flags & XTCP_FLAG_ACK) && th->ack == xs->snd_una &&
		 !(th->flags & (XTCP_FLAG_SYN | XTCP_FLAG_FIN)) &&
		 late <= xtcp_rto_backoff(&xs->rtt, 0) / USEC_PER_MSEC);
}

/*
 * Our SYN-ACK was lost: the peer's SYN comes again (its sequence number
 * is behind rcv_nxt by now) and gets the SYN-ACK again, at the rate
 * native's tcp_check_req allows, as a retransmission (counted, no RTT
 * sample from it, one try of the SYN-ACK's budget). True if @th was it.
 */
static bool syn_recv_syn_again(struct sock *sk, const struct xtcp_seg_hdr *th,
			       u32 len)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (sk->sk_state != TCP_SYN_RECV || th->seq != xs->irs ||
	    (th->flags & (XTCP_FLAG_SYN | XTCP_FLAG_ACK | XTCP_FLAG_RST)) !=
	    XTCP_FLAG_SYN)
		return false;
	if (!reply_rate_limited(sk, len, th, XTCP_MIB_ACK_SKIPPED_SYN_RECV)) {
		xs->retries++;
		xtcp_send_syn(sk);
	}
	return true;
}

/*
 * First, the sequence number: a segment outside the window is answered,
 * unless it is a RST, and dropped. True if it was.
 */
static bool seq_rejected(struct sock *sk, const struct sk_buff *skb,
			 const struct xtcp_seg_hdr *th, u32 len)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 payload = skb->len - th->hdr_len;

	if (xtcp_seq_acceptable(th->seq, len, xs->rcv_nxt,
				xtcp_rcv_wnd_remaining(xs)))
		return false;
	/* Data we hold already: a D-SACK in the ACK (RFC 2883). */
	if (payload && !(th->flags & XTCP_FLAG_RST) &&
	    xtcp_seq_before_eq(th->seq + payload, xs->rcv_nxt))
		xtcp_sack_rcv_duplicate(sk, th->seq, th->seq + payload, false);
	if ((th->flags & (XTCP_FLAG_SYN | XTCP_FLAG_RST)) == XTCP_FLAG_SYN) {
		/* RFC 5961 4.2, in the window or not. */
		send_challenge_ack(sk, th);
	} else if (!(th->flags & XTCP_FLAG_RST)) {
		if (!reply_rate_limited(sk, len, th, XTCP_MIB_ACK_SKIPPED_SEQ))
			xtcp_send_ack(sk);
	}
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_DROP_OLD_SEQ);
	return true;
}

/* Second: a RST in the window, taken at rcv_nxt only (RFC 5961 3.2). */
static void rst_rcv(struct sock *sk, const struct xtcp_seg_hdr *th)
{
	struct net *net = sock_net(sk);

	if (th->seq != xtcp_sk(sk)->rcv_nxt) {
		/* A challenge ACK: only the true peer can answer it. */
		send_challenge_ack(sk, th);
		return;
	}
	xtcp_stat_inc(net, XTCP_MIB_IN_RSTS);
	if ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))
		xtcp_stat_inc(net, XTCP_MIB_ESTAB_RESETS);
	xtcp_reset(sk);
}

/*
 * Steps one to four of RFC 9293 3.10.7.4 in the order of native's
 * tcp_validate_incoming (PAWS, sequence number, RST, SYN), SYN_RECV's
 * SYN again after PAWS: each answers and drops what fails. True when the
 * segment goes on to step five, its ACK field.
 */
static bool validate_incoming(struct sock *sk, const struct sk_buff *skb,
			      const struct xtcp_seg_hdr *th)
{
	u32 len = seg_seq_len(skb, th);

	/* RFC 7323 5.3: an older timestamp than the peer's last is a stale
	 * duplicate (PAWS); a RST is taken anyway, as native TCP does.
	 */
	if (paws_rejects(xtcp_sk(sk), skb, th) &&
	    !(th->flags & XTCP_FLAG_RST)) {
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_PAWS_REJECTED);
		if (!reply_rate_limited(sk, len, th, XTCP_MIB_ACK_SKIPPED_PAWS))
			xtcp_send_ack(sk);
		return false;
	}
	if (syn_recv_syn_again(sk, th, len))
		return false;
	if (seq_rejected(sk, skb, th, len))
		return false;
	if (th->flags & XTCP_FLAG_RST) {
		rst_rcv(sk, th);
		return false;
	}
	/* Fourth: a SYN here is a retransmission or an attack (RFC 5961 4). */
	if (th->flags & XTCP_FLAG_SYN) {
		send_challenge_ack(sk, th);
		return false;
	}
	/* Fifth: the ACK field, without which the segment goes. */
	return th->flags & XTCP_FLAG_ACK;
}

/*
 * Step five in SYN_RECV: the ACK of our SYN-ACK establishes the
 * connection, a child's on its listener's accept queue. False when the
 * segment goes no further: the ACK was refused, or the child dropped.
 */
static bool syn_recv_ack(struct sock *sk, struct sk_buff *skb,
			 const struct xtcp_seg_hdr *th)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	int err;

	if (!xtcp_seq_after(th->ack, xs->snd_una) ||
	    xtcp_seq_after(th->ack, xs->snd_max)) {
		xtcp_send_reset_reply(net, skb, th);
		return false;
	}
	update_ts_recent(xs, th);
	err = xtcp_child_established(sk);
	/* Its listener closed meanwhile: reset, as native's. */
	if (err && xs->parent) {
		xtcp_send_reset_reply(net, skb, th);
		xtcp_child_drop(sk);
		return false;
	}
	/* RFC 7323 2.2: a SYN's window is never scaled. */
	handshake_acked(sk, th, (u32)th->window <<
			(th->flags & XTCP_FLAG_SYN ? 0 : xs->snd_wscale));
	return true;
}

/*
 * Step five, end: our FIN acknowledged moves FIN_WAIT1, CLOSING and
 * LAST_ACK on. False when that ended the connection.
 */
static bool fin_ack_rcv(struct sock *sk, const struct xtcp_seg_hdr *th)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	switch (sk->sk_state) {
	case TCP_FIN_WAIT1:
		if (fin_acked(xs)) {
			xtcp_set_state(sk, TCP_FIN_WAIT2);
			sk->sk_shutdown |= SEND_SHUTDOWN;
			/*
			 * An orphan's FIN that came with this ACK is ACKed
			 * and judged at TIME_WAIT's limit, as native's.
			 */
			if (!sock_flag(sk, SOCK_DEAD)) {
				sk->sk_state_change(sk);
			} else if ((th->flags & XTCP_FLAG_FIN) ||
				   xtcp_fin_wait2_orphan_hold(sk)) {
				xtcp_arm_fin_timer(sk);
			} else {
				xtcp_done(sk);
				return false;
			}
		}
		break;
	case TCP_CLOSING:
		if (fin_acked(xs))
			xtcp_enter_time_wait(sk);
		break;
	case TCP_LAST_ACK:
		if (fin_acked(xs)) {
			xtcp_done(sk);
			return false;
		}
		break;
	default:
		break;
	}
	return true;
}

/*
 * Steps seven and eight, the text and the FIN, in the states that still
 * take them. False when new data for a socket nobody reads aborted it.
 */
static bool text_rcv(struct sock *sk, struct sk_buff *skb,
		     const struct xtcp_seg_hdr *th, bool *consumed)
{
	if (!((1 << sk->sk_state) &
	      (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2)))
		return true;
	if ((sk->sk_shutdown & RCV_SHUTDOWN) && sock_flag(sk, SOCK_DEAD) &&
	    xtcp_seq_after(th->seq + skb->len - th->hdr_len,
			   xtcp_sk(sk)->rcv_nxt)) {
		/* New data for a socket nobody reads: abort. */
		xtcp_send_reset_reply(sock_net(sk), skb, th);
		xtcp_reset(sk);
		return false;
	}
	*consumed = data_rcv(sk, skb, th);
	return true;
}

/* RFC 9293 3.10.7.4: every state from SYN-RECEIVED on (socket lock held). */
static void rcv_state_process(struct sock *sk, struct sk_buff *skb,
			      const struct xtcp_seg_hdr *th, bool *consumed)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	/*
	 * Simultaneous open (RFC 9293 figure 7): the peer's SYN-ACK repeats
	 * the SYN we already took; its ACK completes our side. One with RST
	 * set too is validated as any RST is.
	 */
	bool crossed_synack = sk->sk_state == TCP_SYN_RECV && !xs->parent &&
			      (th->flags & (XTCP_FLAG_SYN | XTCP_FLAG_ACK |
					    XTCP_FLAG_RST)) ==
			      (XTCP_FLAG_SYN | XTCP_FLAG_ACK) &&
			      th->seq == xs->irs && th->ack == xs->snd_max;

	if (!crossed_synack && !validate_incoming(sk, skb, th))
		return;
	if (sk->sk_state == TCP_SYN_RECV) {
		if (!syn_recv_ack(sk, skb, th))
			return;
	} else if (!ack_rcv(sk, skb, th)) {
		return;
	}
	if (!fin_ack_rcv(sk, th))
		return;
	/*
	 * Text on a crossed SYN-ACK would start at the SYN's number: skip
	 * it, the peer sends it again. Its SYN is a duplicate, below
	 * RCV.NXT, and is ACKed as such (RFC 9293 3.10.7.4, first check),
	 * as native TCP does: a peer that lost our SYN-ACK is established
	 * by it, without waiting to send its own again.
	 */
	if (crossed_synack)
		xs->ack_now = 1;
	else if (!text_rcv(sk, skb, th, consumed))
		return;

	if ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				   TCPF_FIN_WAIT1 | TCPF_CLOSING |
				   TCPF_LAST_ACK))
		xtcp_push(sk, XTCP_PUSH_NAGLE);
	if (xs->ack_now && !timer_pending(&xs->delack_timer))
		xtcp_send_ack(sk);
}

/*
 * The ACK that made a child from a request sock or a SYN cookie (listen.c),
 * taken as any socket in SYN_RECV takes it (child's lock held).
 */
void xtcp_child_rcv(struct sock *child, struct sk_buff *skb,
		    const struct xtcp_seg_hdr *th, bool *consumed)
{
	rcv_state_process(child, skb, th, consumed);
}

/* One segment for @sk, whose lock we hold (softirq or release_sock). */
static void xtcp_do_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u16 segs = max_t(u16, skb_shinfo(skb)->gso_segs, 1);
	struct xtcp_seg_hdr th;
	bool consumed = false;

	/* Validated by xtcp_v4_rcv already; parsing again cannot fail. */
	if (xtcp_parse_hdr(skb->data, skb_headlen(skb), &th) != XTCP_PARSE_OK)
		goto drop;
	xs->segs_in += segs;
	if (skb->len > th.hdr_len) {
		xs->data_segs_in += segs;
		xs->data_rcvd_at = jiffies;
	}

	switch (sk->sk_state) {
	case TCP_LISTEN:
		listen_rcv(sk, skb, &th, &consumed);
		break;
	case TCP_SYN_SENT:
		syn_sent_rcv(sk, skb, &th);
		break;
	case TCP_CLOSE:
		/*
		 * Found before the socket closed, or queued behind the FIN
		 * that closed it: the TIME_WAIT entry or the RST answers
		 * from now on, as native's drop in CLOSE leaves them to.
		 */
		break;
	default:
		rcv_state_process(sk, skb, &th, &consumed);
		break;
	}
drop:
	if (!consumed)
		consume_skb(skb);
}

/*
 * release_sock() runs the backlog in process context with BH enabled. The
 * input path takes spinlocks that softirq takes too (a new child's socket
 * lock, the tables), so it runs with BH off, as in softirq.
 */
int xtcp_backlog_rcv(struct sock *sk, struct sk_buff *skb)
{
	local_bh_disable();
	xtcp_do_rcv(sk, skb);
	local_bh_enable();
	return 0;
}

static void count_parse_error(struct net *net, enum xtcp_parse_result res)
{
	switch (res) {
	case XTCP_PARSE_SHORT:
		xtcp_stat_inc(net, XTCP_MIB_IN_ERRS_SHORT);
		break;
	case XTCP_PARSE_BAD_DOFF:
		xtcp_stat_inc(net, XTCP_MIB_IN_ERRS_BAD_DOFF);
		break;
	default:
		xtcp_stat_inc(net, XTCP_MIB_IN_ERRS_BAD_OPTION);
		break;
	}
}

/*
 * The kernel's checksum helpers with the segment's protocol number (ours
 * or, in wire mode, TCP's) in the pseudo header: a device's
 * CHECKSUM_COMPLETE sum or a local sender's CHECKSUM_PARTIAL is taken as it
 * is, anything else summed here.
 */
static bool checksum_ok(struct sk_buff *skb)
{
	return !skb_checksum_init(skb, ip_hdr(skb)->protocol,
				  inet_compute_pseudo) &&
	       !skb_checksum_complete(skb);
}

/*
 * A short segment can arrive in a large buffer (a clone of the sender's
 * write-queue skb, on veth or loopback) and would charge the backlog and
 * the receive buffer with that buffer's whole truesize: copy it, from the
 * IP header on, into a buffer of its own size. Without memory it stays as
 * it is.
 */
static struct sk_buff *condense(struct sk_buff *skb)
{
	unsigned int nhlen = skb->data - skb_network_header(skb);
	unsigned int total = nhlen + skb->len;
	struct sk_buff *nskb;

	if (skb->truesize <= 2 * SKB_TRUESIZE(total))
		return skb;
	nskb = alloc_skb(total, GFP_ATOMIC);
	if (!nskb)
		return skb;
	if (skb_copy_bits(skb, -(int)nhlen, skb_put(nskb, total), total)) {
		kfree_skb(nskb);
		return skb;
	}
	/* Device, cb and gso fields; offsets are redone. */
	skb_copy_header(nskb, skb);
	/* The sum was checked; csum_start would point into the old. */
	nskb->ip_summed = CHECKSUM_UNNECESSARY;
	skb_reset_network_header(nskb);
	skb_reset_mac_header(nskb);
	nskb->mac_len = 0;
	__skb_pull(nskb, nhlen);
	skb_reset_transport_header(nskb);
	consume_skb(skb);
	return nskb;
}

/*
 * Bytes (truesize) the backlog and receive queue may hold together while a
 * user owns the socket. The backlog's count only drops when release_sock
 * has emptied it, so segments that arrive while it runs (answers to the
 * ACKs it sends) add to what it already handed on. Allow the receive
 * queue's own bound (rmem_admits, 2 x rcvbuf), a whole window (rcvbuf / 2
 * of payload) of condensed segments at up to twice their size, and the
 * send buffer, as ACKs land here. Less, and a window of small segments
 * queued out of order behind a loss overflows it: every drop is one more
 * hole to recover. At the largest buffers (6 MB, 4 MB) that is 22 MB per
 * socket, where native TCP allows about 10 MB but coalesces its backlog.
 */
static u32 backlog_limit(const struct sock *sk)
{
	u64 limit = 3 * (u64)READ_ONCE(sk->sk_rcvbuf) +
		    READ_ONCE(sk->sk_sndbuf);

	return min_t(u64, limit, U32_MAX);
}

/*
 * Header checks of a segment IPv4 hands us: the fixed header and the
 * options in the linear part, the options well formed, the checksum right.
 * Every failure is counted; false means drop.
 */
static bool segment_valid(struct net *net, struct sk_buff *skb,
			  struct xtcp_seg_hdr *th)
{
	enum xtcp_parse_result res;

	if (!pskb_may_pull(skb, XTCP_HDR_LEN) ||
	    !pskb_may_pull(skb, min_t(unsigned int, skb->len,
				      (skb->data[12] >> 4) * 4))) {
		xtcp_stat_inc(net, XTCP_MIB_IN_ERRS_SHORT);
		return false;
	}
	res = xtcp_parse_hdr(skb->data, skb_headlen(skb), th);
	if (res != XTCP_PARSE_OK) {
		count_parse_error(net, res);
		return false;
	}
	if (!checksum_ok(skb)) {
		xtcp_stat_inc(net, XTCP_MIB_IN_ERRS_CHECKSUM);
		return false;
	}
	return true;
}

/*
 * The host's policy for a segment of @sk, as native TCP applies it: the
 * socket's IPsec policy, then sk_filter_trim_cap: the LSM's sock_rcv_skb
 * hook, the cgroup's ingress programs and the socket filter
 * (SO_ATTACH_FILTER), which may trim the payload but never the header.
 * Conntrack's reference is dropped before the segment is queued. False
 * means drop, counted.
 */
static bool socket_policy_admits(struct sock *sk, struct sk_buff *skb,
				 const struct xtcp_seg_hdr *th)
{
	struct net *net = sock_net(sk);

	nf_reset_ct(skb);
	if (!xfrm4_policy_check(sk, XFRM_POLICY_IN, skb)) {
		xtcp_stat_inc(net, XTCP_MIB_IN_POLICY_DROPS);
		return false;
	}
	if (sk_filter_trim_cap(sk, skb, th->hdr_len)) {
		xtcp_stat_inc(net, XTCP_MIB_IN_FILTER_DROPS);
		atomic_inc(&sk->sk_drops);
		return false;
	}
	return true;
}

/* A segment no socket wants: answered with a RST where policy allows. */
static void no_socket_rcv(struct net *net, struct sk_buff *skb,
			  const struct xtcp_seg_hdr *th)
{
	if (!xfrm4_policy_check(NULL, XFRM_POLICY_IN, skb)) {
		xtcp_stat_inc(net, XTCP_MIB_IN_POLICY_DROPS);
		return;
	}
	xtcp_stat_inc(net, XTCP_MIB_IN_NO_SOCKET);
	xtcp_send_reset_reply(net, skb, th);
}

/*
 * Hand @skb to @sk (referenced, not locked): run it now, or leave it on
 * the backlog while a user holds the lock. Routes and devices are not
 * kept past softirq: a queued segment holds neither.
 */
static void socket_rcv(struct sock *sk, struct sk_buff *skb)
{
	skb_dst_drop(skb);
	skb->dev = NULL;
	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk)) {
		xtcp_do_rcv(sk, skb);
	} else {
		skb = condense(skb);
		if (sk_add_backlog(sk, skb, backlog_limit(sk))) {
			xtcp_stat_inc(sock_net(sk), XTCP_MIB_BACKLOG_DROPS);
			atomic_inc(&sk->sk_drops);
			kfree_skb(skb);
		}
	}
	bh_unlock_sock(sk);
}

enum xtcp_req_verdict {
	XTCP_REQ_DROP,		/* the skb is the caller's to free */
	XTCP_REQ_CONSUMED,	/* a child kept it */
	XTCP_REQ_AGAIN,		/* look the 4-tuple up again */
};

/*
 * A segment for half-open @req (held; dropped here): its listener's
 * policy applies, as native's tcp_v4_rcv applies it for a request sock.
 */
static enum xtcp_req_verdict request_rcv(struct request_sock *req,
					 struct sk_buff *skb,
					 const struct xtcp_seg_hdr *th)
{
	enum xtcp_req_verdict verdict = XTCP_REQ_DROP;
	bool consumed = false;

	if (socket_policy_admits(req->rsk_listener, skb, th)) {
		if (xtcp_req_rcv(req, skb, th, &consumed))
			verdict = XTCP_REQ_AGAIN;
		else if (consumed)
			verdict = XTCP_REQ_CONSUMED;
	}
	reqsk_put(req);
	return verdict;
}

/*
 * A segment the IPv4 layer delivered (ip_local_deliver: softirq, RCU read
 * side), for @sk (held) if the wire-mode demux already found its owner,
 * else looked up here. The segment got here as a native TCP segment does:
 * IPv4's header checks, routing (martian sources and destinations,
 * rp_filter), netfilter PREROUTING and INPUT with conntrack, reassembly of
 * fragments. skb->data is at our header. Returns 0: the skb is ours.
 */
static int segment_rcv(struct sk_buff *skb, struct sock *sk)
{
	struct net *net = dev_net(skb->dev);
	const struct rtable *rt = skb_rtable(skb);
	struct xtcp_seg_hdr th;

	/* Frames for another host's link address, as native drops them. */
	if (skb->pkt_type != PACKET_HOST)
		goto drop_held;
	if (!segment_valid(net, skb, &th))
		goto drop_held;
	/* A GSO packet from a local sender counts as its segments. */
	xtcp_stat_add(net, XTCP_MIB_IN_SEGS,
		      max_t(u16, skb_shinfo(skb)->gso_segs, 1));
	/*
	 * Routing delivers broadcast and multicast destinations locally
	 * too; no connection or listener takes those (a SYN-ACK or a RST
	 * would go to the whole link).
	 */
	if (!rt || rt->rt_type != RTN_LOCAL) {
		xtcp_stat_inc(net, XTCP_MIB_IN_NOT_UNICAST);
		goto drop_held;
	}

	/* skb->cb is ours from here (IPv4's IPCB is done with). */
	XTCP_SKB_CB(skb)->tw_isn = 0;
	if (sk)
		goto found;
lookup:
	sk = xtcp_lookup(net, skb, &th);
	if (!sk) {
		no_socket_rcv(net, skb, &th);
		goto drop;
	}
found:
	if (sk->sk_state == TCP_NEW_SYN_RECV) {
		switch (request_rcv(inet_reqsk(sk), skb, &th)) {
		case XTCP_REQ_AGAIN:
			goto lookup;
		case XTCP_REQ_CONSUMED:
			return 0;
		default:
			goto drop;
		}
	}
	if (sk->sk_state == TCP_TIME_WAIT) {
		/*
		 * The policy first: a SYN it refuses must not end the entry.
		 * No socket filter applies to an entry, as to native's.
		 */
		if (!xfrm4_policy_check(NULL, XFRM_POLICY_IN, skb)) {
			xtcp_stat_inc(net, XTCP_MIB_IN_POLICY_DROPS);
			sock_gen_put(sk);
			goto drop;
		}
		sk = xtcp_time_wait_rcv(net, sk, skb, &th);
		if (!sk)
			goto drop;
	}
	if (!socket_policy_admits(sk, skb, &th)) {
		sock_put(sk);
		goto drop;
	}
	socket_rcv(sk, skb);
	sock_put(sk);
	return 0;

drop_held:
	if (sk)
		sock_gen_put(sk);
drop:
	kfree_skb(skb);
	return 0;
}

/* Our protocol number's handler. */
static int xtcp_v4_rcv(struct sk_buff *skb)
{
	return segment_rcv(skb, NULL);
}

/* A TCP segment the wire-mode demux found @sk (held) owns (demux.c). */
int xtcp_rcv_owned(struct sk_buff *skb, struct sock *sk)
{
	return segment_rcv(skb, sk);
}

static const struct net_protocol xtcp_protocol = {
	.handler = xtcp_v4_rcv,
	.err_handler = xtcp_icmp_err,
	/* The policy check is per socket, in socket_policy_admits. */
	.no_policy = 1,
};

int xtcp_input_init(void)
{
	if (inet_add_protocol(&xtcp_protocol, xtcp_ipproto) < 0) {
		pr_err("xtcp: IP protocol %d is taken\n", xtcp_ipproto);
		return -EBUSY;
	}
	return 0;
}

void xtcp_input_exit(void)
{
	inet_del_protocol(&xtcp_protocol, xtcp_ipproto);
	/* Handlers in flight are RCU readers. */
	synchronize_net();
}
