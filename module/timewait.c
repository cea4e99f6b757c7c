// SPDX-License-Identifier: GPL-2.0
/*
 * TIME_WAIT (RFC 9293 3.6): for 2MSL after a connection closed on our side
 * first, its 4-tuple stays taken, a retransmitted FIN is ACKed again and
 * old duplicates are kept from a new incarnation. The socket itself is
 * closed at once and freed with its buffers and timers; what is left is a
 * struct xtcp_tw_sock (xtcp.h), the kernel's inet_timewait_sock with the
 * few numbers answering the peer needs, as native's tcp_timewait_sock:
 * a few hundred bytes where a socket took kilobytes.
 *
 * References: the established table's, the bind table's and the pending
 * timer's. Whoever stops the timer (its handler, or del_timer_sync
 * succeeding) takes the entry out of the tables and drops all three
 * (end_entry); finders hold their own and drop it with sock_gen_put().
 * The entry holds our module but not its namespace, as native's: a
 * namespace being dismantled ends its entries at once (hash.c), where a
 * reference would keep the whole namespace, devices and all, for 2MSL.
 */
#include <linux/module.h>
#include <net/inet_timewait_sock.h>
#include <net/ip.h>
#include <net/net_namespace.h>

#include "xtcp.h"

struct timewait_sock_ops xtcp_timewait_sock_ops = {
	.twsk_obj_size = sizeof(struct xtcp_tw_sock),
};

/* Out of the tables, its count and its timer's reference (timer stopped). */
static void end_entry(struct xtcp_tw_sock *tw)
{
	struct sock *sk = (struct sock *)tw;

	xtcp_unhash_time_wait(tw);
	atomic_dec(&xtcp_net(sock_net(sk))->tw_count);
	sock_gen_put(sk);
}

static void tw_expired(struct timer_list *t)
{
	struct inet_timewait_sock *itw = from_timer(itw, t, tw_timer);

	end_entry((struct xtcp_tw_sock *)itw);
}

/*
 * End @sk (a TIME_WAIT entry, held by the caller) before its time: a RST,
 * a new connection's SYN, connect() taking the 4-tuple. Not under the
 * table lock: the timer handler takes it.
 */
void xtcp_time_wait_end(struct sock *sk)
{
	struct xtcp_tw_sock *tw = xtcp_tw(sk);

	if (del_timer_sync(&tw->tw.tw_timer))
		end_entry(tw);
}

/* 2MSL from now again, unless the entry is ending. */
static void restart_timer(struct xtcp_tw_sock *tw)
{
	mod_timer_pending(&tw->tw.tw_timer,
			  jiffies + msecs_to_jiffies(READ_ONCE(xtcp_tw_len_ms)));
}

/* The numbers of @sk (socket lock held) that the entry answers with. */
static void copy_connection(struct xtcp_tw_sock *tw, const struct sock *sk,
			    struct net *net)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	struct inet_timewait_sock *itw = &tw->tw;

	itw->tw_daddr = sk->sk_daddr;
	itw->tw_rcv_saddr = sk->sk_rcv_saddr;
	itw->tw_bound_dev_if = sk->sk_bound_dev_if;
	itw->tw_num = sk->sk_num;
	itw->tw_dport = sk->sk_dport;
	itw->tw_sport = inet_sk(sk)->inet_sport;
	itw->tw_family = sk->sk_family;
	itw->tw_reuse = sk->sk_reuse;
	itw->tw_reuseport = sk->sk_reuseport;
	itw->tw_prot = sk->sk_prot_creator;
	itw->tw_state = TCP_TIME_WAIT;
	itw->tw_substate = TCP_TIME_WAIT;
	itw->tw_tos = inet_sk(sk)->tos;
	itw->tw_mark = sk->sk_mark;
	itw->tw_priority = sk->sk_priority;
	twsk_net_set(itw, net);

	tw->snd_nxt = xs->snd_nxt;
	tw->rcv_nxt = xs->rcv_nxt;
	tw->rcv_wnd = xtcp_rcv_wnd_remaining(xs);
	tw->rcv_wscale = xs->wscale_ok ? xs->rcv_wscale : 0;
	tw->ts_ok = xs->ts_ok;
	tw->protocol = xtcp_wire_proto(sk);
	tw->ts_offset = xs->ts_offset;
	tw->ts_recent = xs->ts_recent;
	tw->ts_recent_stamp = xs->ts_recent_stamp;
	tw->last_invalid_reply = xs->last_invalid_reply;
}

/*
 * An orphan in FIN_WAIT2 (socket lock held) waits fin_timeout for the
 * peer's FIN. Native's turns into a timewait socket there and so counts
 * against max_tw_buckets; ours stays a full socket but takes one of those
 * slots all the same, so that peers that never send their FIN cannot pin
 * more of them than the namespace allows. False when none is free: the
 * connection just ends (the caller closes it), as native's does.
 */
bool xtcp_fin_wait2_orphan_hold(struct sock *sk)
{
	struct net *net = sock_net(sk);
	struct xtcp_net *xn = xtcp_net(net);

	/*
	 * Once per socket: close() can find its orphan already in FIN_WAIT2,
	 * the ACK of its FIN taken from the backlog as it released the lock.
	 */
	if (xtcp_sk(sk)->fin_wait2_slot)
		return true;
	if (atomic_read(&xn->tw_count) >= READ_ONCE(xn->max_tw_buckets)) {
		xtcp_stat_inc(net, XTCP_MIB_TIME_WAIT_OVERFLOW);
		return false;
	}
	atomic_inc(&xn->tw_count);
	xtcp_sk(sk)->fin_wait2_slot = true;
	return true;
}

/* The slot such an orphan held is free again (socket lock held). */
void xtcp_fin_wait2_orphan_release(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->fin_wait2_slot)
		return;
	xs->fin_wait2_slot = false;
	atomic_dec(&xtcp_net(sock_net(sk))->tw_count);
}

/*
 * @sk (socket lock held) goes from FIN_WAIT2 or CLOSING to TIME_WAIT: an
 * entry takes its place in the tables, then the caller closes it. Past
 * net.xtcp.max_tw_buckets, as native's, or out of memory, none is made:
 * the connection just ends. An orphan's FIN_WAIT2 slot is handed to the
 * entry, never freed first for another CPU to take, as native's timewait
 * socket moves on from FIN_WAIT2 in its own bucket.
 */
void xtcp_time_wait_start(struct sock *sk)
{
	struct net *net = sock_net(sk);
	struct xtcp_net *xn = xtcp_net(net);
	bool has_slot = xtcp_sk(sk)->fin_wait2_slot;
	struct xtcp_tw_sock *tw;

	/*
	 * A kernel socket's namespace may be past its purge: no entry then.
	 * A user's socket holds its namespace.
	 */
	if (!check_net(net))
		return;
	if (!has_slot &&
	    atomic_read(&xn->tw_count) >= READ_ONCE(xn->max_tw_buckets)) {
		xtcp_stat_inc(net, XTCP_MIB_TIME_WAIT_OVERFLOW);
		return;
	}
	tw = kmem_cache_zalloc(xtcp_timewait_sock_ops.twsk_slab, GFP_ATOMIC);
	if (!tw) {
		xtcp_stat_inc(net, XTCP_MIB_TIME_WAIT_OVERFLOW);
		return;
	}
	copy_connection(tw, sk, net);
	/* inet_twsk_free() puts it (tw_prot->owner). */
	__module_get(THIS_MODULE);
	/* An orphan's FIN_WAIT2 slot passes to the entry, none taken anew. */
	if (has_slot)
		xtcp_sk(sk)->fin_wait2_slot = false;
	else
		atomic_inc(&xn->tw_count);
	/* The timer's reference; the tables take theirs. */
	refcount_set(&tw->tw.tw_refcnt, 1);
	timer_setup(&tw->tw.tw_timer, tw_expired, 0);
	xtcp_hash_time_wait(sk, tw,
			    msecs_to_jiffies(READ_ONCE(xtcp_tw_len_ms)));
	xtcp_stat_inc(net, XTCP_MIB_TIME_WAIT_ENTERED);
}

/*
 * RFC 7323 5.3 for an entry, as native's tcp_paws_reject from there: the
 * TSval is older than TS.Recent, which is less than 24 days old. A RST is
 * taken when TS.Recent is over a minute old (the peer may have rebooted).
 */
static bool tw_paws_rejects(const struct xtcp_tw_sock *tw,
			    const struct xtcp_seg_hdr *th)
{
	u32 stamp = READ_ONCE(tw->ts_recent_stamp);
	u32 age = (u32)ktime_get_seconds() - stamp;
	u32 recent = READ_ONCE(tw->ts_recent);

	/* A TS.Recent of 0 is some peers' SYN's: it guards nothing. */
	if (!stamp || !recent || !th->opts.has_timestamp ||
	    age >= XTCP_PAWS_IDLE_S || (s32)(recent - th->opts.tsval) <= 0)
		return false;
	return !((th->flags & XTCP_FLAG_RST) && age >= 60);
}

/*
 * A bare SYN that can only be a new connection's: its sequence number is
 * past the old connection's, or its timestamp is newer (RFC 6191).
 */
static bool syn_opens_anew(const struct xtcp_tw_sock *tw,
			   const struct xtcp_seg_hdr *th, bool paws_reject)
{
	if ((th->flags & (XTCP_FLAG_SYN | XTCP_FLAG_ACK | XTCP_FLAG_RST)) !=
	    XTCP_FLAG_SYN || paws_reject)
		return false;
	return xtcp_seq_after(th->seq, tw->rcv_nxt) ||
	       (READ_ONCE(tw->ts_recent_stamp) && th->opts.has_timestamp &&
		(s32)(READ_ONCE(tw->ts_recent) - th->opts.tsval) < 0);
}

/*
 * A new connection's SYN ends the entry when a listener takes it
 * (RFC 9293 3.10.7.4, RFC 6191), as native's: the listener, held, gets
 * the SYN with an ISN past the old sequence space. NULL: no listener.
 */
static struct sock *hand_syn_to_listener(struct net *net, struct sock *sk,
					 struct sk_buff *skb,
					 const struct xtcp_seg_hdr *th)
{
	struct sock *listener;

	listener = xtcp_lookup_listener(net, skb, th);
	if (!listener)
		return NULL;
	XTCP_SKB_CB(skb)->tw_isn = xtcp_isn_after_time_wait(sk);
	xtcp_time_wait_end(sk);
	return listener;
}

/*
 * A segment for TIME_WAIT entry @sk (held; the host's policy passed), as
 * native's tcp_timewait_state_process: a RST at rcv_nxt ends the entry
 * (RFC 1337's hazard, native's default); a bare ACK there restarts 2MSL;
 * a new connection's SYN goes to the listener; anything else is ACKed
 * (a retransmitted FIN, the peer missed our ACK), at the rate limit when
 * it has no data. Returns the listener to take @skb, held, or NULL when
 * the segment is done with. The caller's reference to @sk is dropped.
 */
struct sock *xtcp_time_wait_rcv(struct net *net, struct sock *sk,
				struct sk_buff *skb,
				const struct xtcp_seg_hdr *th)
{
	struct xtcp_tw_sock *tw = xtcp_tw(sk);
	u32 len = skb->len - th->hdr_len + !!(th->flags & XTCP_FLAG_SYN) +
		  !!(th->flags & XTCP_FLAG_FIN);
	bool paws_reject = tw_paws_rejects(tw, th);
	struct sock *listener = NULL;

	if (!paws_reject && th->seq == tw->rcv_nxt &&
	    (!len || (th->flags & XTCP_FLAG_RST))) {
		if (th->flags & XTCP_FLAG_RST) {
			xtcp_stat_inc(net, XTCP_MIB_IN_RSTS);
			xtcp_time_wait_end(sk);
			goto out;
		}
		restart_timer(tw);
		if (th->opts.has_timestamp && READ_ONCE(tw->ts_recent_stamp)) {
			WRITE_ONCE(tw->ts_recent, th->opts.tsval);
			WRITE_ONCE(tw->ts_recent_stamp,
				   (u32)ktime_get_seconds() ?: 1);
		}
		goto out;
	}
	if (syn_opens_anew(tw, th, paws_reject)) {
		listener = hand_syn_to_listener(net, sk, skb, th);
		/* No listener: the ACK, without the rate limit, as native. */
		if (!listener)
			xtcp_send_time_wait_ack(sk, skb, th);
		goto out;
	}
	if (paws_reject)
		xtcp_stat_inc(net, XTCP_MIB_PAWS_REJECTED);
	if (th->flags & XTCP_FLAG_RST)
		goto out;
	/* A SYN without ACK may be a new connection's: 2MSL is not renewed. */
	if (paws_reject || (th->flags & XTCP_FLAG_ACK))
		restart_timer(tw);
	if (!xtcp_oow_rate_limited(net, &tw->last_invalid_reply, len, th,
				   XTCP_MIB_ACK_SKIPPED_TIME_WAIT))
		xtcp_send_time_wait_ack(sk, skb, th);
out:
	sock_gen_put(sk);
	return listener;
}
