// SPDX-License-Identifier: GPL-2.0
/*
 * The send path, after tcp_sendmsg: user data is copied into skbs of one
 * size goal (an MSS, or whole MSS for one GSO packet: xtcp_size_goal)
 * appended to the write queue, and send() returns once it is copied. With
 * the send buffer full (sk_wmem_queued >= sk_sndbuf) a blocking send waits
 * for ACKs to free memory; a non-blocking one returns what it copied, or
 * EAGAIN. Sent skbs wait on the retransmission queue (rtxq.c) and are
 * freed only when acknowledged.
 */
#include <linux/net.h>
#include <linux/tcp.h>
#include <linux/uio.h>

#include "xtcp.h"

/*
 * Room to append to the queue's last skb, up to the size goal @goal: only
 * if it never left.
 */
static u32 tail_room(const struct sock *sk, struct sk_buff **tailp, u32 goal)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);

	*tailp = skb;
	if (!skb || skb_cloned(skb) ||
	    (XTCP_SKB_CB(skb)->flags & XTCP_FLAG_FIN) ||
	    xtcp_seq_before(XTCP_SKB_CB(skb)->seq, xs->snd_max) ||
	    skb->len >= goal)
		return 0;
	return min_t(u32, goal - skb->len, skb_tailroom(skb));
}

/*
 * Will @want bytes queued now leave at once? Not behind unsent data, not
 * into windows without room for them, not when Nagle or TCP_CORK holds a
 * short segment back.
 */
static bool leaves_at_once(const struct sock *sk, size_t want, u32 goal)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = xs->mss_cache;
	u64 cwnd_bytes = (u64)xs->cwnd * mss;

	if (xtcp_send_head(sk))
		return false;
	if (want < mss && (xs->cork ||
			   (!xs->nodelay && xs->snd_nxt != xs->snd_una)))
		return false;
	return xtcp_send_allowance(xs->snd_una, xs->snd_nxt, xs->snd_wnd,
				   (u32)min_t(u64, cwnd_bytes, U32_MAX)) >=
	       min_t(size_t, want, goal);
}

/*
 * An skb for @size bytes of payload. A 64 KiB block only if one is free
 * now: no compaction inside sendmsg for it, the 32 KiB one does nearly as
 * well (native's page frags ask the same way).
 */
static struct sk_buff *alloc_write_skb(struct sock *sk, u32 size)
{
	gfp_t gfp = sk->sk_allocation | __GFP_NOWARN;
	struct sk_buff *skb;

	if (size > XTCP_MAX_SKB_PAYLOAD) {
		skb = alloc_skb(size + XTCP_MAX_HEADER,
				(gfp & ~__GFP_DIRECT_RECLAIM) | __GFP_NORETRY);
		if (skb)
			return skb;
		size = XTCP_MAX_SKB_PAYLOAD;
	}
	return alloc_skb(size + XTCP_MAX_HEADER, gfp);
}

/*
 * A new skb sized for @want bytes when they leave at once, else for a
 * whole size goal (@goal): this one will wait (Nagle, the windows) and later
 * small writes should fill it rather than each become a segment of its
 * own. A goal-sized buffer for a segment that leaves at once would charge
 * the send buffer up to 64 KiB for one MSS, and a stream of full-MSS
 * writes would then wait on its own memory.
 */
static struct sk_buff *new_write_skb(struct sock *sk, size_t want, u32 goal)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 size = clamp_t(u32, want, XTCP_MIN_SKB_PAYLOAD, goal);
	bool holds_nothing = !xtcp_send_head(sk) && !xtcp_rtx_first(sk);
	struct sk_buff *skb;

	if (!leaves_at_once(sk, want, goal))
		size = goal;
	skb = alloc_write_skb(sk, size);
	if (!skb)
		return NULL;
	if (!sk_wmem_schedule(sk, skb->truesize)) {
		__kfree_skb(skb);
		/*
		 * Past net.xtcp.mem[2] the sender waits, as native's does,
		 * but a connection that holds nothing would wait for an ACK
		 * that never comes: it gets a small skb charged anyway (the
		 * forward allocation runs negative; the next schedule pays
		 * it back), as native forces about tcp_wmem[0].
		 */
		if (!holds_nothing)
			return NULL;
		skb = alloc_write_skb(sk, XTCP_MIN_SKB_PAYLOAD);
		if (!skb)
			return NULL;
		sk_wmem_schedule(sk, skb->truesize);
	}
	skb_reserve(skb, XTCP_MAX_HEADER);
	XTCP_SKB_CB(skb)->seq = xs->write_seq;
	XTCP_SKB_CB(skb)->end_seq = xs->write_seq;
	XTCP_SKB_CB(skb)->flags = 0;
	XTCP_SKB_CB(skb)->retransmitted = 0;
	XTCP_SKB_CB(skb)->rack = 0;
	XTCP_SKB_CB(skb)->in_rtx_queue = 0;
	INIT_LIST_HEAD(&XTCP_SKB_CB(skb)->resent_node);
	__skb_queue_tail(&sk->sk_write_queue, skb);
	xtcp_wmem_queue(sk, skb);
	return skb;
}

/*
 * A copy from user space failed: a tail skb that got no byte (new_write_skb
 * made it for this copy) must not stay queued, or it would leave as a
 * segment of no length and everything queued behind it would wait.
 */
static void remove_empty_tail(struct sock *sk, struct sk_buff *skb)
{
	if (skb->len || XTCP_SKB_CB(skb)->flags ||
	    skb != skb_peek_tail(&sk->sk_write_queue))
		return;
	__skb_unlink(skb, &sk->sk_write_queue);
	xtcp_wmem_free_skb(sk, skb);
}

int xtcp_sendmsg(struct socket *sock, struct msghdr *msg, size_t size)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	int flags = msg->msg_flags;
	size_t copied = 0;
	long timeo;
	int err;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;

	lock_sock(sk);
	timeo = sock_sndtimeo(sk, flags & MSG_DONTWAIT);
	if (!((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))) {
		err = sk_stream_wait_connect(sk, &timeo);
		if (err)
			goto do_error;
	}

	err = -EPIPE;
	if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN))
		goto do_error;

	while (msg_data_left(msg)) {
		/* Per skb: a wait for memory lets ACKs change cwnd and SRTT. */
		u32 goal = xtcp_size_goal(sk);
		struct sk_buff *skb;
		u32 copy = tail_room(sk, &skb, goal);

		if (!copy) {
			if (!sk_stream_memory_free(sk))
				goto wait_for_space;
			skb = new_write_skb(sk, msg_data_left(msg), goal);
			if (!skb)
				goto wait_for_space;
			copy = min_t(u32, goal, skb_tailroom(skb));
		}
		copy = min_t(size_t, copy, msg_data_left(msg));
		if (!copy_from_iter_full(skb_put(skb, copy), copy,
					 &msg->msg_iter)) {
			__skb_trim(skb, skb->len - copy);
			remove_empty_tail(sk, skb);
			err = -EFAULT;
			goto do_error;
		}
		XTCP_SKB_CB(skb)->end_seq += copy;
		WRITE_ONCE(xs->write_seq, xs->write_seq + copy);
		copied += copy;
		continue;

wait_for_space:
		set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		if (copied)
			xtcp_push(sk, XTCP_PUSH_NOW);
		err = sk_stream_wait_memory(sk, &timeo);
		if (err)
			goto do_error;
	}

	xtcp_push(sk, XTCP_PUSH_NAGLE);
	release_sock(sk);
	return copied;

do_error:
	if (copied) {
		xtcp_push(sk, XTCP_PUSH_NAGLE);
		release_sock(sk);
		return copied;
	}
	/* EPIPE becomes a pending error (ECONNRESET) or SIGPIPE. */
	err = sk_stream_error(sk, flags, err);
	release_sock(sk);
	return err;
}

/*
 * Free what @ack covers (socket lock held): whole skbs from the head, and
 * the acknowledged front of a partly covered one. Returns the RTT of the
 * newest data @ack covers, 0 when none or any of it was sent twice.
 */
u32 xtcp_free_acked(struct sock *sk, u32 ack)
{
	bool freed = false, karn = false;
	u64 sent_us = 0, now_us = xtcp_clock_us();
	struct sk_buff *skb;

	/* Sent skbs first; after an RTO's rewind, unsent ones may be too. */
	while ((skb = xtcp_rtx_first(sk)) || (skb = xtcp_send_head(sk))) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (xtcp_seq_after(ack, cb->seq)) {
			/* Karn: a retransmission makes the ACK's time moot. */
			karn |= cb->retransmitted;
			sent_us = cb->sent_us;
			xtcp_rack_acked(sk, cb, xtcp_seq_min(cb->end_seq, ack),
					now_us);
		}
		if (xtcp_seq_before_eq(cb->end_seq, ack)) {
			xtcp_rtx_unlink(sk, skb);
			xtcp_wmem_free_skb(sk, skb);
			freed = true;
			continue;
		}
		if (xtcp_seq_after(ack, cb->seq)) {
			/* Only data can be covered in part; FIN is last. */
			skb_pull(skb, ack - cb->seq);
			cb->seq = ack;
		}
		break;
	}
	if (freed && sk->sk_socket &&
	    test_bit(SOCK_NOSPACE, &sk->sk_socket->flags))
		sk->sk_write_space(sk);
	if (karn || !sent_us)
		return 0;
	return (u32)min_t(u64, now_us - sent_us, U32_MAX) ?: 1;
}

void xtcp_purge_write_queue(struct sock *sk)
{
	xtcp_rtx_purge(sk);
}

/* close() or shutdown(SHUT_WR): the FIN follows the queued data. */
void xtcp_queue_fin(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	skb = skb_peek_tail(&sk->sk_write_queue);
	if (skb && !skb_cloned(skb) &&
	    !(XTCP_SKB_CB(skb)->flags & XTCP_FLAG_FIN) &&
	    xtcp_seq_after_eq(XTCP_SKB_CB(skb)->seq, xs->snd_max)) {
		XTCP_SKB_CB(skb)->flags |= XTCP_FLAG_FIN;
		XTCP_SKB_CB(skb)->end_seq++;
	} else {
		/* The FIN must go out: wait for memory rather than lose it. */
		skb = alloc_skb(XTCP_MAX_HEADER, GFP_KERNEL | __GFP_NOFAIL);
		skb_reserve(skb, XTCP_MAX_HEADER);
		XTCP_SKB_CB(skb)->seq = xs->write_seq;
		XTCP_SKB_CB(skb)->end_seq = xs->write_seq + 1;
		XTCP_SKB_CB(skb)->flags = XTCP_FLAG_FIN;
		XTCP_SKB_CB(skb)->retransmitted = 0;
		XTCP_SKB_CB(skb)->rack = 0;
		XTCP_SKB_CB(skb)->in_rtx_queue = 0;
		INIT_LIST_HEAD(&XTCP_SKB_CB(skb)->resent_node);
		__skb_queue_tail(&sk->sk_write_queue, skb);
		xtcp_wmem_queue_forced(sk, skb);
	}
	WRITE_ONCE(xs->write_seq, xs->write_seq + 1);
	xtcp_push(sk, XTCP_PUSH_NOW);
}
