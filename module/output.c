// SPDX-License-Identifier: GPL-2.0
/*
 * Output: segments leave from the write queue as the peer's window and the
 * congestion window allow (with Nagle and sender-side silly window
 * avoidance), each as a clone of the queued skb, which stays until ACKed.
 * Control segments (ACK, SYN, RST, probes) are built here too, and the two
 * that leave without a socket of their own: the RST answer to a segment no
 * socket wants, and a listener's SYN-ACK with a SYN cookie.
 *
 * Everything here runs with the socket lock held, in process context or in
 * softirq, except xtcp_send_reset_reply, which needs no socket.
 */
#include <linux/ip.h>
#include <linux/tcp.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/route.h>

#include "xtcp.h"

/*
 * Is the window held? Under memory pressure (the protocol's or the memory
 * cgroup's), once the reader has fallen behind by half the buffer, until
 * the pressure ends: native's rcv_ssthresh cut in __tcp_select_window.
 */
static bool rcv_window_held(struct sock *sk, u32 free, u32 space)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!sk_under_memory_pressure(sk))
		xs->rcv_wnd_held = 0;
	else if (free < space / 2)
		xs->rcv_wnd_held = 1;
	return xs->rcv_wnd_held;
}

/*
 * The window we would offer now (bytes, a multiple of the scale), and in
 * @remaining what the peer was last promised beyond rcv_nxt. A held window
 * offers at most 4 MSS, rounded up to the scale's unit as native's, so
 * that a small MSS or a large scale never makes it 0; the silly-window
 * rule has already judged the real free space. Senders then stop filling
 * buffers the host is short of; what was promised is never taken back.
 */
u32 xtcp_window_to_offer(struct sock *sk, u32 *remaining)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 space = xtcp_rcv_space(sk);
	u32 promised = xs->rcv_wup + xs->rcv_wnd;
	u32 used = xs->rcv_nxt - xs->copied_seq;
	u32 free = space > used ? space - used : 0;
	bool held = rcv_window_held(sk, free, space);
	u32 wnd;

	*remaining = xtcp_seq_after(promised, xs->rcv_nxt) ?
		     promised - xs->rcv_nxt : 0;
	wnd = xtcp_rcv_window_choose(free, *remaining, xs->rcv_mss, space,
				     xs->rcv_wscale);
	if (held && wnd > *remaining) {
		u32 cap = ALIGN(4U * xs->adv_mss, 1U << xs->rcv_wscale);

		wnd = max(*remaining, min(wnd, cap));
	}
	return wnd;
}

/* Record and return the window field for the next segment. */
u16 xtcp_select_window(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 remaining;
	u32 wnd = xtcp_window_to_offer(sk, &remaining);
	/* Round up: truncating by the scale would shrink a promised window. */
	u16 field = xtcp_window_field(wnd + (1u << xs->rcv_wscale) - 1,
				      xs->rcv_wscale);

	xs->rcv_wnd = (u32)field << xs->rcv_wscale;
	xs->rcv_wup = xs->rcv_nxt;
	return field;
}

/*
 * The checksum. A GSO packet leaves it partial: whoever cuts it sums each
 * segment (offload.c), with the features of the device that sends them.
 * Anything else is summed here unless it stays on this host (loopback):
 * a bridge, vlan or veth claims NETIF_F_HW_CSUM even when the NIC behind
 * it only sums TCP and UDP, and that NIC would take our partial checksum
 * at the TCP offset for a TCP one.
 */
static bool checksum_offloaded(struct sock *sk, struct sk_buff *skb)
{
	struct dst_entry *dst = __sk_dst_get(sk);

	return skb_is_gso(skb) || (dst && (dst->dev->flags & IFF_LOOPBACK));
}

static void set_checksum(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_wire_hdr *th = (struct xtcp_wire_hdr *)skb->data;
	struct inet_sock *inet = inet_sk(sk);
	__be32 saddr = inet->inet_saddr, daddr = inet->inet_daddr;
	u8 proto = xtcp_wire_proto(sk);
	u32 len = skb->len;

	if (checksum_offloaded(sk, skb)) {
		skb->ip_summed = CHECKSUM_PARTIAL;
		skb->csum_start = skb_transport_header(skb) - skb->head;
		skb->csum_offset = offsetof(struct xtcp_wire_hdr, check);
		/*
		 * The pseudo-header's sum, folded, not complemented: the
		 * device (or skb_checksum_help) adds header and payload to
		 * it and complements the result.
		 */
		th->check = ~csum_tcpudp_magic(saddr, daddr, len, proto, 0);
	} else {
		__wsum sum = skb_checksum(skb, 0, len, 0);

		skb->ip_summed = CHECKSUM_NONE;
		th->check = csum_tcpudp_magic(saddr, daddr, len, proto, sum);
	}
}

#define XTCP_TSQ_THROTTLED	0

static struct workqueue_struct *xtcp_tsq_wq;

/*
 * The skb left the host or reached the peer's IP layer (ip_rcv orphans).
 * As native's tcp_wfree: uncharge first, then look at the flag (pairs with
 * small_queue_full's set_bit and second read), and keep one unit of the
 * charge for the push queued, which tsq_work_fn gives back. A unit of
 * sk_wmem_alloc, not a socket reference: the socket may be closed and
 * released already (sk_free waits only for sk_wmem_alloc).
 */
static void xtcp_wfree(struct sk_buff *skb)
{
	struct sock *sk = skb->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);

	WARN_ON(refcount_sub_and_test(skb->truesize - 1, &sk->sk_wmem_alloc));
	if (test_and_clear_bit(XTCP_TSQ_THROTTLED, &xs->tsq_flags) &&
	    queue_work(xtcp_tsq_wq, &xs->tsq_work))
		return;
	sk_free(sk);
}

/*
 * Every segment leaves charged to its socket, as native's: netfilter's
 * owner and cgroup matches and the cgroup's egress programs see who sent
 * it, and sk_wmem_alloc counts
 * what sits below the socket for small_queue_full. (TIME_WAIT entries
 * answer without a socket: send_reply.)
 */
static void own_skb(struct sock *sk, struct sk_buff *skb)
{
	skb_set_owner_w(skb, sk);
	skb->destructor = xtcp_wfree;
}

/*
 * Software GSO cut @gso_skb into @segs: they take over its charge, as
 * tcp_gso_segment does, so that the small-queue limit still sees them
 * until the last is freed, not only until the cut.
 */
void xtcp_gso_own_segments(struct sk_buff *gso_skb, struct sk_buff *segs)
{
	struct sock *sk = gso_skb->sk;
	unsigned int sum = 0;
	struct sk_buff *seg;
	int delta;

	if (gso_skb->destructor != xtcp_wfree)
		return;
	for (seg = segs; seg; seg = seg->next) {
		seg->sk = sk;
		seg->destructor = xtcp_wfree;
		sum += seg->truesize;
	}
	gso_skb->sk = NULL;
	gso_skb->destructor = NULL;
	delta = sum - gso_skb->truesize;
	if (delta >= 0)
		refcount_add(delta, &sk->sk_wmem_alloc);
	else
		/* The segments hold a charge still: never the last. */
		WARN_ON_ONCE(refcount_sub_and_test(-delta, &sk->sk_wmem_alloc));
}

/*
 * A throttled push, again, where the socket lock may be taken; then the
 * unit of sk_wmem_alloc xtcp_wfree kept goes back (the socket's last, if
 * it was closed meanwhile).
 *
 * That unit keeps the memory, not the socket: an orphan's only references
 * may be the tables', and a segment release_sock() takes from the backlog
 * may end the connection and drop them. So the work holds one of its own
 * while it owns the socket, as a user's file or a timer does; none can be
 * taken once the last is gone, and then nothing is left to push.
 */
static void tsq_work_fn(struct work_struct *work)
{
	struct xtcp_sock *xs = container_of(work, struct xtcp_sock, tsq_work);
	struct sock *sk = &xs->inet.sk;

	if (refcount_inc_not_zero(&sk->sk_refcnt)) {
		lock_sock(sk);
		if ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
					   TCPF_FIN_WAIT1 | TCPF_CLOSING |
					   TCPF_LAST_ACK))
			xtcp_push(sk, XTCP_PUSH_NAGLE);
		release_sock(sk);
		sock_put(sk);
	}
	sk_free(sk);
}

void xtcp_tsq_init(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->tsq_flags = 0;
	INIT_WORK(&xs->tsq_work, tsq_work_fn);
	/* Our destructor, not sock_wfree, decides when a writer wakes. */
	sock_set_flag(sk, SOCK_USE_WRITE_QUEUE);
}

int xtcp_output_init(void)
{
	xtcp_tsq_wq = alloc_workqueue("xtcp_tsq", WQ_HIGHPRI, 0);
	return xtcp_tsq_wq ? 0 : -ENOMEM;
}

/* After the last socket: the pushes queued ran and released them. */
void xtcp_output_exit(void)
{
	destroy_workqueue(xtcp_tsq_wq);
}

/*
 * @sk's route (socket lock or bh_lock_sock held, no reference taken): the
 * cached one while valid, else one looked up again for the socket's IP
 * protocol and cached, as ip_queue_xmit does; NULL when there is none.
 */
struct rtable *xtcp_sk_route(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct flowi4 *fl4 = &inet->cork.fl.u.ip4;
	struct ip_options_rcu *opt;
	struct rtable *rt;
	__be32 daddr;

	rt = (struct rtable *)__sk_dst_check(sk, 0);
	if (rt)
		return rt;
	rcu_read_lock();
	opt = rcu_dereference(inet->inet_opt);
	/* A source route goes to its first hop (private mode only). */
	daddr = opt && opt->opt.srr ? opt->opt.faddr : inet->inet_daddr;
	rt = ip_route_output_ports(sock_net(sk), fl4, sk, daddr,
				   inet->inet_saddr, inet->inet_dport,
				   inet->inet_sport, xtcp_wire_proto(sk),
				   xtcp_rt_conn_flags(sk), sk->sk_bound_dev_if);
	rcu_read_unlock();
	if (IS_ERR(rt))
		return NULL;
	xtcp_setup_caps(sk, &rt->dst);
	return rt;
}

/*
 * Wire mode's ip_queue_xmit: the same route (cached on the socket, looked
 * up for TCP's protocol number), header and ident, but IP protocol 6 in
 * the header, where the kernel's writes sk_protocol, ours (xtcp.h says
 * why). No IP options: af.c refuses them in wire mode.
 */
static int wire_queue_xmit(struct sock *sk, struct sk_buff *skb,
			   struct flowi4 *fl4)
{
	struct inet_sock *inet = inet_sk(sk);
	struct net *net = sock_net(sk);
	struct rtable *rt;
	struct iphdr *iph;
	int err;

	rcu_read_lock();
	rt = xtcp_sk_route(sk);
	if (!rt) {
		rcu_read_unlock();
		IP_INC_STATS(net, IPSTATS_MIB_OUTNOROUTES);
		kfree_skb(skb);
		return -EHOSTUNREACH;
	}
	skb_dst_set_noref(skb, &rt->dst);
	skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	iph = ip_hdr(skb);
	iph->version = 4;
	iph->ihl = 5;
	iph->tos = inet->tos;
	iph->frag_off = ip_dont_fragment(sk, &rt->dst) && !skb->ignore_df ?
			htons(IP_DF) : 0;
	iph->ttl = inet->uc_ttl < 0 ? ip4_dst_hoplimit(&rt->dst) : inet->uc_ttl;
	iph->protocol = IPPROTO_TCP;
	iph->saddr = fl4->saddr;
	iph->daddr = fl4->daddr;
	ip_select_ident_segs(net, skb, sk, skb_shinfo(skb)->gso_segs ?: 1);
	skb->priority = READ_ONCE(sk->sk_priority);
	skb->mark = READ_ONCE(sk->sk_mark);
	err = ip_local_out(net, sk, skb);
	rcu_read_unlock();
	return err;
}

/*
 * Put our header on @skb (payload already in it, or none) and hand it to
 * IPv4. Every segment but a SYN carries the current ACK and window, which
 * settles any ACK we owed.
 */
static int send_segment(struct sock *sk, struct sk_buff *skb, u32 seq,
			u8 flags, const struct xtcp_opts *opts)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_hdr_fields f = {
		.sport = ntohs(inet->inet_sport),
		.dport = ntohs(inet->inet_dport),
		.seq = seq,
		.flags = flags,
	};
	unsigned int hdr_len;
	u16 segs;
	int err;

	if (opts)
		f.opts = *opts;
	if (flags & XTCP_FLAG_ACK)
		f.ack = xs->rcv_nxt;
	if ((flags & XTCP_FLAG_ACK) &&
	    !(flags & (XTCP_FLAG_SYN | XTCP_FLAG_RST)))
		xtcp_sack_fill_opts(sk, &f.opts, skb->len, skb_is_gso(skb));
	/*
	 * RFC 7323: once agreed (or offered, on our SYN) every segment but a
	 * RST carries our clock and echoes the peer's.
	 */
	if (xs->ts_ok && !(flags & XTCP_FLAG_RST)) {
		f.opts.has_timestamp = true;
		f.opts.tsval = xtcp_ts_now(xs);
		f.opts.tsecr = (flags & XTCP_FLAG_ACK) ? xs->ts_recent : 0;
	}
	if (flags & XTCP_FLAG_SYN) {
		u32 wnd = xtcp_syn_window(sk);

		f.window = wnd;
		xs->rcv_wnd = wnd;
		xs->rcv_wup = xs->rcv_nxt;
	} else if (!(flags & XTCP_FLAG_RST)) {
		f.window = xtcp_select_window(sk);
	}

	hdr_len = XTCP_HDR_LEN + xtcp_opts_len(&f.opts);
	skb_push(skb, hdr_len);
	skb_reset_transport_header(skb);
	xtcp_build_hdr(skb->data, &f);
	set_checksum(sk, skb);
	skb->protocol = htons(ETH_P_IP);
	skb->priority = READ_ONCE(sk->sk_priority);

	/* skb->cb held our per-skb state; IPv4 reads it as its IPCB. */
	memset(skb->cb, 0, sizeof(struct inet_skb_parm));
	own_skb(sk, skb);
	if (flags & XTCP_FLAG_ACK) {
		xs->ack_now = 0;
		xs->ack_pushed = 0;
		xs->ack_pushed2 = 0;
		sk_stop_timer(sk, &xs->delack_timer);
	}
	segs = max_t(u16, skb_shinfo(skb)->gso_segs, 1);
	xtcp_stat_add(sock_net(sk), XTCP_MIB_OUT_SEGS, segs);
	xs->segs_out += segs;
	if (skb->len > hdr_len) {
		xs->data_segs_out += segs;
		xs->bytes_sent += skb->len - hdr_len;
		xs->data_sent_at = jiffies;
		/* A reply within the delayed-ACK time: interactive, as native. */
		if (time_before(jiffies, xs->data_queued_at +
				msecs_to_jiffies(XTCP_DELACK_MS)))
			xs->pingpong = 1;
	}
	if (xs->wire)
		err = wire_queue_xmit(sk, skb, &inet->cork.fl.u.ip4);
	else
		err = ip_queue_xmit(sk, skb, &inet->cork.fl);
	return net_xmit_eval(err);
}

/* A millisecond of the sending rate, as native's pacing rate; U64_MAX: none. */
static u64 bytes_per_ms(const struct xtcp_sock *xs, u32 mss)
{
	u32 srtt = xs->rtt.srtt_us;
	u64 bytes;

	if (!srtt)
		return U64_MAX;
	bytes = div_u64((u64)xs->cwnd * mss * USEC_PER_MSEC, srtt);
	return xs->cwnd < xs->ssthresh ? 2 * bytes : div_u64(bytes * 6, 5);
}

/*
 * Segments per GSO packet for about a millisecond of the sending rate (cwnd
 * per SRTT, doubled in slow start, 1.2 times after), at least two, as
 * native TCP's TSO autosizing: on a slow path packets stay small, so a
 * queue, netem or a router that drops one drops a few segments, not a
 * 64 KiB train, and the flow's packets interleave with others'.
 */
static u32 autosize_segs(const struct xtcp_sock *xs, u32 mss)
{
	u64 bytes = bytes_per_ms(xs, mss);

	if (bytes == U64_MAX)
		return U32_MAX;
	return (u32)clamp_t(u64, div_u64(bytes, mss), 2, U32_MAX);
}

/*
 * TCP small queues, as native's tcp_small_queue_check: new data waits
 * while more than a millisecond of the rate (two skbs at least,
 * net.xtcp.limit_output_bytes at most) of the socket's segments sits in
 * qdiscs, devices and (on veth) the peer's backlog. Unbounded, a flight
 * queued on one CPU's backlog lets later segments sent from another CPU
 * overtake it by milliseconds: RACK calls the flight lost. With nothing
 * in flight it never waits (the destructor that would wake it may have
 * run). Retransmissions do not wait.
 */
static bool small_queue_full(struct sock *sk, const struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u64 limit = max_t(u64, 2 * skb->truesize,
			  bytes_per_ms(xs, xs->mss_cache));

	limit = min_t(u64, limit,
		      READ_ONCE(xtcp_net(sock_net(sk))->limit_output_bytes));
	if (refcount_read(&sk->sk_wmem_alloc) <= limit ||
	    xs->snd_una == xs->snd_nxt)
		return false;
	set_bit(XTCP_TSQ_THROTTLED, &xs->tsq_flags);
	/* Pairs with the destructor's test_and_clear_bit. */
	smp_mb__after_atomic();
	return refcount_read(&sk->sk_wmem_alloc) > limit;
}

/*
 * Payload one write-queue skb takes, and one transmission at most: an MSS,
 * or as many whole MSS as one GSO packet and one skb allocation (up to 64
 * KiB) hold when the route takes GSO, fewer on a slow path. On loopback
 * one MSS is a little larger than a 64 KiB allocation holds: its skbs
 * carry what that holds.
 */
u32 xtcp_size_goal(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = xs->mss_cache;
	u32 limit = XTCP_MAX_GSO_PAYLOAD;
	u32 segs;

	if (mss >= limit)
		return limit;
	if (!xs->gso_ok)
		return mss;
	limit = min_t(u32, limit, READ_ONCE(sk->sk_gso_max_size));
	segs = clamp_t(u32, limit / mss, 1, READ_ONCE(sk->sk_gso_max_segs));
	segs = min(segs, autosize_segs(xs, mss));
	return segs * mss;
}

/* One packet for the whole skb; the stack or the device cuts it by MSS. */
static void set_gso(struct sock *sk, struct sk_buff *skb)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);
	u32 mss = xtcp_sk(sk)->mss_cache;

	if (skb->len > mss) {
		shinfo->gso_size = mss;
		shinfo->gso_segs = DIV_ROUND_UP(skb->len, mss);
		shinfo->gso_type = sk->sk_gso_type;
	} else {
		shinfo->gso_size = 0;
		shinfo->gso_segs = 1;
		shinfo->gso_type = 0;
	}
}

/*
 * Send one write-queue skb; the queued original stays for retransmission.
 * Its gso fields live in the shared info it shares with the clone: nobody
 * else reads them, since an skb with a clone still out is copied instead.
 */
int xtcp_transmit_skb(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	/* Sent before: a retransmission (fast, RTO or go-back-N). */
	bool again = xtcp_seq_before(cb->seq, xs->snd_max);
	u8 flags = XTCP_FLAG_ACK | (cb->flags & XTCP_FLAG_FIN);
	struct sk_buff *clone;
	u16 segs;
	int err;

	/*
	 * A clone still in flight shares our headroom; headers for a second
	 * transmission then go on a private copy of the head.
	 */
	if (skb_cloned(skb))
		clone = pskb_copy(skb, GFP_ATOMIC);
	else
		clone = skb_clone(skb, GFP_ATOMIC);
	if (!clone)
		return -ENOBUFS;
	/*
	 * On rtx_queue, and after an RTO's rewind, skb->dev holds part of an
	 * rbtree node (the union with next/prev): not a device.
	 */
	clone->dev = NULL;
	set_gso(sk, clone);
	/*
	 * PSH on the data that was last queued when it first left; kept
	 * for its retransmissions, as native's skb keeps its flags.
	 */
	if ((!again && skb->len && xtcp_skb_is_last(sk, skb)) ||
	    (cb->flags & XTCP_FLAG_PSH))
		flags |= XTCP_FLAG_PSH;
	cb->sent_us = xtcp_clock_us();
	if (again) {
		cb->retransmitted = 1;	/* Karn: no RTT sample from it */
		/* RACK: this copy's delivery is news again. */
		cb->rack &= ~XTCP_RACK_PART;
		if (cb->in_rtx_queue && !(cb->rack & XTCP_RACK_SACKED))
			xtcp_rtx_note_resent(sk, skb);
	}
	segs = skb_shinfo(clone)->gso_segs;
	err = send_segment(sk, clone, cb->seq, flags, NULL);
	if (!err)
		cb->flags |= flags & XTCP_FLAG_PSH;
	if (!err && again) {
		xtcp_undo_note_rtx(xs, segs, cb->sent_us);
		xs->total_retrans += segs;
		xs->bytes_retrans += skb->len;
		xtcp_stat_add(sock_net(sk), XTCP_MIB_RETRANS_SEGS, segs);
	}
	/* A FIN alone counts too: it is the resend that starts recovery. */
	if (!err && xtcp_in_sack_recovery(xs))
		xs->prr_out += max(skb->len, 1U);
	return err;
}

/*
 * @part, split off @skb (before it when @before), takes its place beside
 * it: on the same queue and, for sent data, next to it on resent_list,
 * which orders pieces sent together by sequence as RACK's tie rule does.
 * What the peer SACKed of a sent piece is on the scoreboard; a piece
 * wholly covered is delivered (rack.c). Unsent data has neither.
 */
static void queue_split_part(struct sock *sk, struct sk_buff *skb,
			     struct sk_buff *part, bool before)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_skb_cb *pcb = XTCP_SKB_CB(part);

	if (!cb->in_rtx_queue) {
		if (before)
			__skb_queue_before(&sk->sk_write_queue, skb, part);
		else
			__skb_queue_after(&sk->sk_write_queue, skb, part);
		return;
	}
	xtcp_rtx_queue_insert(sk, part);
	if (!list_empty(&cb->resent_node)) {
		if (before)
			list_add_tail(&pcb->resent_node, &cb->resent_node);
		else
			list_add(&pcb->resent_node, &cb->resent_node);
	}
	xtcp_rack_split(sk, skb);
	xtcp_rack_split(sk, part);
}

/*
 * Cut @skb after @len bytes into two skbs, in queue order; returns the one
 * with the first @len bytes, NULL without memory. The smaller part is
 * copied into a new skb, so a small piece that leaves now does not carry
 * (and charge the receiver for) the whole buffer. Write-queue skbs are
 * linear; trimming or pulling one whose data a clone in flight shares
 * changes only this skb's own pointers.
 */
static struct sk_buff *split_skb(struct sock *sk, struct sk_buff *skb,
				 u32 len)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	u32 rest = skb->len - len;
	bool copy_head = len < rest;
	struct sk_buff *part;
	struct xtcp_skb_cb *pcb;

	part = alloc_skb(XTCP_MAX_HEADER + (copy_head ? len : rest),
			 GFP_ATOMIC);
	if (!part)
		return NULL;
	skb_reserve(part, XTCP_MAX_HEADER);
	pcb = XTCP_SKB_CB(part);
	*pcb = *cb;
	INIT_LIST_HEAD(&pcb->resent_node);
	xtcp_wmem_queue_forced(sk, part);
	if (copy_head) {
		skb_put_data(part, skb->data, len);
		pcb->end_seq = cb->seq + len;
		/* FIN and PSH end the data: they stay with its tail. */
		pcb->flags &= ~(XTCP_FLAG_FIN | XTCP_FLAG_PSH);
		__skb_pull(skb, len);
		cb->seq += len;
	} else {
		skb_put_data(part, skb->data + len, rest);
		pcb->seq = cb->seq + len;
		cb->end_seq = cb->seq + len;
		cb->flags &= ~(XTCP_FLAG_FIN | XTCP_FLAG_PSH);
		__skb_trim(skb, len);
	}
	queue_split_part(sk, skb, part, copy_head);
	return copy_head ? part : skb;
}

/*
 * Does @skb end in a segment shorter than the MSS? With GSO the unit is
 * the packet: one that ends in a partial segment and is short of the size
 * goal @goal is still filling. One of @goal is whole even when the MSS is
 * larger (an skb's payload is bounded below the loopback MSS).
 */
static bool skb_is_partial(const struct xtcp_sock *xs,
			   const struct sk_buff *skb, u32 goal)
{
	return skb->len % xs->mss_cache && skb->len < goal;
}

/* @skb just left: if it ends short, Minshall's rule waits for its ACK. */
static void note_sent_partial(struct xtcp_sock *xs, const struct sk_buff *skb,
			      u32 goal)
{
	if (skb_is_partial(xs, skb, goal))
		xs->snd_sml = XTCP_SKB_CB(skb)->end_seq;
}

/*
 * Nagle (RFC 896, RFC 1122 4.2.3.4) with Minshall's rule, as Linux: hold a
 * partial segment back while an earlier partial segment is unacknowledged
 * (not merely any data: else a write of an odd number of whole segments
 * and a tail waits for the peer's delayed ACK), unless it is not the last
 * one queued or carries the FIN. Sending the whole segments of a filling
 * skb alone would cut a copy off it for every MSS that small writes add.
 */
static bool nagle_holds(const struct sock *sk, const struct sk_buff *skb,
			u32 goal)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);

	return !xs->nodelay && skb_is_partial(xs, skb, goal) &&
	       !(XTCP_SKB_CB(skb)->flags & XTCP_FLAG_FIN) &&
	       xtcp_skb_is_last(sk, skb) &&
	       xtcp_seq_after(xs->snd_sml, xs->snd_una) &&
	       !xtcp_seq_after(xs->snd_sml, xs->snd_nxt);
}

/*
 * TCP_CORK: the last skb's partial segment waits for more data or for the
 * cork to come off (or for the persist timer, after an RTO, as native
 * TCP's probe timer flushes it too); its whole segments may go. True: hold
 * all of it; else *@cut is at most the whole segments.
 */
static bool corked(const struct sock *sk, const struct sk_buff *skb,
		   u32 goal, u32 *cut)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 whole = skb->len - skb->len % xs->mss_cache;

	if (!xs->cork || !skb_is_partial(xs, skb, goal) ||
	    (XTCP_SKB_CB(skb)->flags & XTCP_FLAG_FIN) ||
	    !xtcp_skb_is_last(sk, skb))
		return false;
	if (!whole)
		return true;
	*cut = min(*cut, whole);
	return false;
}

/*
 * How much of @skb to send now (*@lenp; false: nothing): what the windows
 * allow (@allowance), in whole MSS when it is more than one, so the rest
 * leaves in full segments later; at most the size goal @goal (one MSS
 * without GSO).
 */
static bool send_cut(const struct sock *sk, const struct sk_buff *skb,
		     u32 allowance, u32 goal, enum xtcp_push_mode mode,
		     u32 *lenp)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = xs->mss_cache;
	u32 len = skb->len;

	if (len > allowance && mode != XTCP_PUSH_PROBE && !xs->in_recovery &&
	    xtcp_in_flight(xs) && (u64)xs->cwnd * mss >= 2 * (u64)len &&
	    xtcp_send_allowance(xs->snd_una, xs->snd_nxt, xs->snd_wnd,
				U32_MAX) >= len) {
		/*
		 * Only the congestion window is short, and the ACKs on their
		 * way will open it for the whole skb: wait for them rather
		 * than cut a copy off it (as Linux defers TSO packets).
		 */
		return false;
	}
	if (len > allowance) {
		/*
		 * Sender SWS avoidance (RFC 1122 4.2.3.4); the persist timer's
		 * @mode sends what fits regardless.
		 */
		if (!allowance || (mode != XTCP_PUSH_PROBE && allowance < mss &&
				   allowance < xs->max_window / 2))
			return false;
		len = allowance < mss ? allowance : allowance - allowance % mss;
	}
	if (len > mss)
		/* Built when the rate was higher, or without GSO: cut it. */
		len = min(len, goal);
	*lenp = len;
	return true;
}

/* Start an RTT sample on the first transmission of new data (Karn). */
static void maybe_start_rtt_sample(struct xtcp_sock *xs, struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	if (xs->rtt_pending || cb->retransmitted ||
	    xtcp_seq_before(cb->seq, xs->snd_max))
		return;
	xs->rtt_pending = true;
	xs->rtt_seq = cb->end_seq;
	xs->rtt_start_us = cb->sent_us;
}

/* Account for @skb having just left: it joins the sent ones. */
static void advance_send_head(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	maybe_start_rtt_sample(xs, skb);
	xs->snd_nxt = cb->end_seq;
	if (xtcp_seq_after(xs->snd_nxt, xs->snd_max))
		xs->snd_max = xs->snd_nxt;
	if (cb->flags & XTCP_FLAG_FIN)
		xs->fin_sent = 1;
	xtcp_rtx_queue_sent(sk, skb);
	xtcp_rearm_after_send(sk);
}

/*
 * Data is left unsent: if the congestion window is what holds the next
 * skb back (not the peer's window, not Nagle), cwnd may grow on the ACKs
 * of what is in flight now (cong.c, RFC 7661).
 */
static void note_cwnd_limited(struct xtcp_sock *xs, const struct sk_buff *skb)
{
	u64 cwnd_bytes = (u64)xs->cwnd * xs->mss_cache;
	u32 flight = xtcp_in_flight(xs);
	u32 cwnd_room = cwnd_bytes > flight ? (u32)min_t(u64, cwnd_bytes - flight,
							 U32_MAX) : 0;
	u32 rwnd_room = xtcp_send_allowance(xs->snd_una, xs->snd_nxt,
					    xs->snd_wnd, U32_MAX);

	if (cwnd_room < min(skb->len, rwnd_room)) {
		xs->cwnd_limited = 1;
		xs->cwnd_limited_seq = xs->snd_nxt;
	}
}

/*
 * The congestion window as xtcp_send_allowance takes it (measured from
 * snd_una). In SACK recovery what counts against cwnd is pipe, not all
 * that lies between snd_una and snd_nxt (RFC 6675). New data adds as much
 * to pipe as to snd_nxt - snd_una, so one value serves a whole push.
 */
static u32 cwnd_bytes_for_push(const struct xtcp_sock *xs)
{
	u64 cwnd = (u64)xs->cwnd * xs->mss_cache;
	u32 pipe;

	if (!xtcp_in_sack_recovery(xs))
		return (u32)min_t(u64, cwnd, U32_MAX);
	pipe = xtcp_sack_pipe(xs);
	cwnd = cwnd > pipe ? cwnd - pipe : 0;
	return (u32)min_t(u64, cwnd + xtcp_in_flight(xs), U32_MAX);
}

/*
 * Send what the windows allow. XTCP_PUSH_NOW pushes small segments out too
 * (a blocked write, TCP_NODELAY turned on, FIN); XTCP_PUSH_PROBE also sends
 * into a window smaller than silly window avoidance would wait for.
 */
void xtcp_push(struct sock *sk, enum xtcp_push_mode mode)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;
	u32 cwnd_bytes;
	u32 goal;

	xtcp_mss_follow_route(sk);
	cwnd_bytes = cwnd_bytes_for_push(xs);
	/* cwnd and SRTT, which it follows, stay as they are for a push. */
	goal = xtcp_size_goal(sk);

	while ((skb = xtcp_send_head(sk))) {
		u32 allowance = xtcp_send_allowance(xs->snd_una, xs->snd_nxt,
						    xs->snd_wnd, cwnd_bytes);
		u32 cut;

		if (!send_cut(sk, skb, allowance, goal, mode, &cut))
			break;
		if (mode == XTCP_PUSH_NAGLE && corked(sk, skb, goal, &cut))
			break;
		if (cut < skb->len) {
			skb = split_skb(sk, skb, cut);
			if (!skb)
				break;
		}
		if (mode == XTCP_PUSH_NAGLE && nagle_holds(sk, skb, goal))
			break;
		if (small_queue_full(sk, skb))
			break;
		if (xtcp_transmit_skb(sk, skb))
			break;
		note_sent_partial(xs, skb, goal);
		advance_send_head(sk, skb);
	}

	skb = xtcp_send_head(sk);
	if (skb)
		note_cwnd_limited(xs, skb);
	/* Data waits on a closed window with nothing in flight: probe it. */
	if (skb && xs->snd_nxt == xs->snd_una &&
	    xs->rtx_mode == XTCP_RTX_NONE)
		xtcp_arm_persist(sk);
}

/*
 * A retransmission repairs one lost segment, not a whole GSO packet: cut the
 * head to one MSS. Out of memory, it goes again whole.
 */
static struct sk_buff *cut_to_one_segment(struct sock *sk,
					  struct sk_buff *skb)
{
	u32 mss = xtcp_sk(sk)->mss_cache;
	struct sk_buff *first;

	if (skb->len <= mss)
		return skb;
	first = split_skb(sk, skb, mss);
	return first ?: skb;
}

/*
 * A tail loss probe of new data (rack.c): one segment of the first unsent
 * skb if the peer's window takes it, whatever cwnd says (RFC 8985 7.3).
 */
int xtcp_send_new_segment(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = xtcp_send_head(sk);
	u32 room;

	if (!skb)
		return -EAGAIN;
	room = xtcp_send_allowance(xs->snd_una, xs->snd_nxt, xs->snd_wnd,
				   U32_MAX);
	if (room < min_t(u32, skb->len, xs->mss_cache))
		return -EAGAIN;
	skb = cut_to_one_segment(sk, skb);
	if (xtcp_transmit_skb(sk, skb))
		return -ENOBUFS;
	note_sent_partial(xs, skb, xtcp_size_goal(sk));
	advance_send_head(sk, skb);
	return 0;
}

/*
 * Every sent skb back in front of the unsent ones, snd_nxt at snd_una's:
 * the go-back-N of a timeout. The next skb to send, or NULL.
 */
static struct sk_buff *rewind_to_una(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	xtcp_rtx_rewind(sk);
	skb = xtcp_send_head(sk);
	if (!skb)
		return NULL;
	xs->snd_nxt = XTCP_SKB_CB(skb)->seq;
	/* Karn: nothing resent gives an RTT sample. */
	xs->rtt_pending = false;
	return skb;
}

/* RTO: go back to the oldest unacknowledged skb and send it again. */
void xtcp_retransmit_head(struct sock *sk)
{
	struct sk_buff *skb = rewind_to_una(sk);

	if (!skb)
		return;
	xtcp_mss_follow_route(sk);
	skb = cut_to_one_segment(sk, skb);
	XTCP_SKB_CB(skb)->retransmitted = 1;
	if (xtcp_transmit_skb(sk, skb))
		return;
	advance_send_head(sk, skb);
}

/*
 * The path MTU fell below what full segments were sent with (RFC 1191):
 * those were dropped on the way. Send everything from snd_una again, cut
 * to the new MSS, as far as cwnd (unchanged: the same bytes in smaller
 * units) allows; the ACKs clock out the rest, as after a timeout. Native
 * resends only the segments that were too long; we have no per-segment
 * loss marks to pick them by.
 */
void xtcp_resend_after_mtu_drop(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!rewind_to_una(sk))
		return;
	xtcp_push(sk, XTCP_PUSH_NOW);
	/* The head's timeout starts again from its resend, as native's. */
	if (xs->snd_nxt != xs->snd_una)
		xtcp_arm_rtx(sk);
}

/* Fast retransmit: the oldest unacknowledged skb once more, nothing else. */
void xtcp_retransmit_one(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = xtcp_rtx_first(sk);

	if (!skb)
		return;
	skb = cut_to_one_segment(sk, skb);
	XTCP_SKB_CB(skb)->retransmitted = 1;
	xs->rtt_pending = false;
	if (!xtcp_transmit_skb(sk, skb))
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_FAST_RETRANS);
}

/*
 * May a retransmission split @skb? Each split costs an skb, and a peer's
 * SACK pattern decides how many there are: not once the queue holds twice
 * the send buffer and two full-size skbs, except the first and the last
 * skb, as native's tcp_fragment: the head must stay resendable, or
 * nothing would be acknowledged again to free memory.
 */
static bool retransmit_may_split(const struct sock *sk,
				 const struct sk_buff *skb)
{
	u64 limit = (u64)READ_ONCE(sk->sk_sndbuf) +
		    2 * SKB_TRUESIZE(GSO_LEGACY_MAX_SIZE);

	return (u64)READ_ONCE(sk->sk_wmem_queued) / 2 <= limit ||
	       skb == xtcp_rtx_first(sk) || !xtcp_rtx_next(skb);
}

/*
 * SACK recovery: send the segment holding @seq again, at most one MSS from
 * a segment boundary of its skb; *@end is where what left ends. Splits
 * fall only on the boundaries the data was first sent with, whatever the
 * peer's SACK blocks say, so a peer cannot make the queue hold more skbs
 * than segments. When the split is refused, nothing goes (-ENOMEM): the
 * whole skb would be more than the window lets out.
 */
int xtcp_retransmit_range(struct sock *sk, u32 seq, u32 *end)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = xs->mss_cache;
	struct sk_buff *skb = xtcp_rtx_find(sk, seq);
	struct xtcp_skb_cb *cb;
	struct sk_buff *part;
	u32 off;
	int err;

	if (!skb)
		return -EINVAL;		/* never sent: not a hole */
	cb = XTCP_SKB_CB(skb);
	off = xtcp_seq_after(seq, cb->seq) ? seq - cb->seq : 0;
	/*
	 * @seq at the FIN (a loss probe's snd_nxt - 1 when the last skb ends
	 * in one): the FIN goes with the segment before it, the last, as
	 * native's loss probe sends the tail MSS.
	 */
	if (off && off == skb->len)
		off--;
	off -= off % mss;
	if ((off || skb->len > mss) && !retransmit_may_split(sk, skb)) {
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_WQUEUE_TOO_BIG);
		return -ENOMEM;
	}
	if (off) {
		/* The piece starts after the first part split_skb gives. */
		part = split_skb(sk, skb, off);
		if (!part)
			return -ENOBUFS;
		skb = xtcp_rtx_next(part);
	}
	if (skb->len > mss) {
		part = split_skb(sk, skb, mss);
		if (!part)
			return -ENOBUFS;
		skb = part;
	}
	XTCP_SKB_CB(skb)->retransmitted = 1;
	xs->rtt_pending = false;
	err = xtcp_transmit_skb(sk, skb);
	if (!err)
		*end = XTCP_SKB_CB(skb)->end_seq;
	return err;
}

static struct sk_buff *alloc_control_skb(gfp_t gfp)
{
	struct sk_buff *skb = alloc_skb(XTCP_MAX_HEADER, gfp);

	if (skb)
		skb_reserve(skb, XTCP_MAX_HEADER);
	return skb;
}

int xtcp_send_control(struct sock *sk, u8 flags, u32 seq)
{
	struct sk_buff *skb = alloc_control_skb(GFP_ATOMIC);

	if (!skb)
		return -ENOBUFS;
	return send_segment(sk, skb, seq, flags, NULL);
}

void xtcp_send_ack(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (sk->sk_state == TCP_CLOSE)
		return;
	/* Out of memory: the delayed-ACK timer tries again. */
	if (xtcp_send_control(sk, XTCP_FLAG_ACK, xs->snd_nxt))
		xtcp_schedule_delack(sk);
}

/* SYN (active open) or SYN-ACK (passive), first time or again. */
void xtcp_send_syn(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_opts opts = {
		.has_mss = true,
		.mss = xs->adv_mss,
	};
	u8 flags = XTCP_FLAG_SYN;
	struct sk_buff *skb;

	if (sk->sk_state == TCP_SYN_RECV)
		flags |= XTCP_FLAG_ACK;
	if (xs->wscale_ok) {
		opts.has_wscale = true;
		opts.wscale = xs->rcv_wscale;
	}
	opts.sack_permitted = xs->sack_ok;
	xs->snd_nxt = xs->iss + 1;
	xs->snd_max = xs->iss + 1;
	/* The handshake's RTT sample; Karn: not from a SYN sent again. */
	xs->rtt_pending = !xs->retries;
	xs->rtt_seq = xs->iss + 1;
	xs->rtt_start_us = xtcp_clock_us();
	skb = alloc_control_skb(GFP_ATOMIC);
	if (skb && !send_segment(sk, skb, xs->iss, flags, &opts) &&
	    xs->retries) {
		xs->total_retrans++;
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_RETRANS_SEGS);
	}
	/* Sent or not, the retransmit timer brings it back. */
	if (xs->rtx_mode != XTCP_RTX_RETRANSMIT)
		xtcp_arm_rtx(sk);
}

/* Abort: RST from a socket (close with unread data, linger 0, ...). */
void xtcp_send_active_reset(struct sock *sk, gfp_t gfp)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = alloc_control_skb(gfp);

	if (!skb)
		return;
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_OUT_RSTS);
	send_segment(sk, skb, xs->snd_nxt, XTCP_FLAG_RST | XTCP_FLAG_ACK,
		     NULL);
}

/* Zero-window probe: an old sequence number makes the peer ACK. */
void xtcp_send_probe(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_stat_inc(sock_net(sk), XTCP_MIB_ZERO_WINDOW_PROBES);
	xtcp_send_control(sk, XTCP_FLAG_ACK, xs->snd_una - 1);
}

/*
 * Keepalive (RFC 1122 4.2.3.6): the same old sequence number, which the
 * peer must answer with an ACK if it is still there.
 */
void xtcp_send_keepalive_probe(struct sock *sk)
{
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_KEEPALIVE_PROBES);
	xtcp_send_control(sk, XTCP_FLAG_ACK, xtcp_sk(sk)->snd_una - 1);
}

/*
 * What an answer without a socket keeps of the one it speaks for: a
 * TIME_WAIT entry's or a request sock's listener's mark, TOS, priority,
 * TTL and device, as native's tcp_v4_timewait_ack and SYN-ACKs; all 0 for
 * a segment nobody owns.
 */
struct reply_meta {
	u32 mark;
	u32 priority;
	int oif;	/* 0: the device the segment answered came on */
	u8 tos;
	u8 ttl;		/* 0: the namespace's default */
};

static const struct reply_meta no_socket;

/*
 * The route from @saddr to @daddr for an answer of IP protocol @proto
 * without a socket.
 */
static struct rtable *route_to(struct net *net, __be32 daddr, __be32 saddr,
			       int oif, const struct reply_meta *meta, u8 proto)
{
	struct flowi4 fl4 = {
		.flowi4_oif = oif,
		.flowi4_mark = meta->mark,
		.flowi4_tos = RT_TOS(meta->tos),
		.flowi4_proto = proto,
		.daddr = daddr,
		.saddr = saddr,
	};

	return ip_route_output_key(net, &fl4);
}

/* The route back to the sender of @in. */
static struct rtable *reply_route(struct net *net, const struct sk_buff *in,
				  const struct reply_meta *meta)
{
	const struct iphdr *iph = ip_hdr(in);

	return route_to(net, iph->saddr, iph->daddr, meta->oif ?: inet_iif(in),
			meta, iph->protocol);
}

/*
 * Send @f from @saddr to @daddr on @rt, which it takes over: a segment no
 * socket sends, so built by hand. With an @owner (a request sock), the
 * skb holds it, as native's SYN-ACKs do: the host's egress policy finds
 * its listener (sk_to_full_sk) and applies the listener's cgroup's, and
 * the listener's write space is neither charged nor woken.
 */
static void send_to(struct net *net, __be32 saddr, __be32 daddr,
		    struct rtable *rt, const struct xtcp_hdr_fields *f,
		    const struct reply_meta *meta, struct sock *owner, u8 proto)
{
	unsigned int hdr_len = XTCP_HDR_LEN + xtcp_opts_len(&f->opts);
	struct sk_buff *skb;
	struct iphdr *rip;

	skb = alloc_skb(XTCP_MAX_HEADER, GFP_ATOMIC);
	if (!skb) {
		ip_rt_put(rt);
		return;
	}
	skb_reserve(skb, XTCP_MAX_HEADER);
	skb_push(skb, hdr_len);
	skb_reset_transport_header(skb);
	xtcp_build_hdr(skb->data, f);
	((struct xtcp_wire_hdr *)skb->data)->check =
		csum_tcpudp_magic(saddr, daddr, hdr_len, proto,
				  csum_partial(skb->data, hdr_len, 0));

	skb_push(skb, sizeof(*rip));
	skb_reset_network_header(skb);
	rip = ip_hdr(skb);
	rip->version = 4;
	rip->ihl = 5;
	rip->tos = meta->tos;
	rip->tot_len = htons(skb->len);
	rip->frag_off = htons(IP_DF);
	rip->ttl = meta->ttl ?: READ_ONCE(net->ipv4.sysctl_ip_default_ttl);
	rip->protocol = proto;
	rip->saddr = saddr;
	rip->daddr = daddr;
	skb_dst_set(skb, &rt->dst);
	ip_select_ident(net, skb, NULL);
	ip_send_check(rip);
	skb->protocol = htons(ETH_P_IP);
	skb->mark = meta->mark;
	skb->priority = meta->priority;
	if (owner)
		skb_set_owner_w(skb, owner);
	xtcp_stat_inc(net, XTCP_MIB_OUT_SEGS);
	ip_local_out(net, owner, skb);
}

/* Send @f back to the sender of @in on @rt, which it takes over. */
static void send_reply(struct net *net, const struct sk_buff *in,
		       struct rtable *rt, const struct xtcp_hdr_fields *f,
		       const struct reply_meta *meta)
{
	send_to(net, ip_hdr(in)->daddr, ip_hdr(in)->saddr, rt, f, meta, NULL,
		ip_hdr(in)->protocol);
}

/* RFC 9293 3.10.7.1: the answer to a segment no socket wants. */
void xtcp_send_reset_reply(struct net *net, struct sk_buff *in,
			   const struct xtcp_seg_hdr *th)
{
	const struct iphdr *iph = ip_hdr(in);
	struct xtcp_hdr_fields f = {
		.sport = th->dport,
		.dport = th->sport,
		.flags = XTCP_FLAG_RST,
	};
	struct rtable *rt;
	u32 seg_len;

	if (th->flags & XTCP_FLAG_RST)
		return;
	if (th->flags & XTCP_FLAG_ACK) {
		f.seq = th->ack;
	} else {
		seg_len = ntohs(iph->tot_len) - iph->ihl * 4 - th->hdr_len;
		seg_len += !!(th->flags & XTCP_FLAG_SYN);
		seg_len += !!(th->flags & XTCP_FLAG_FIN);
		f.ack = th->seq + seg_len;
		f.flags |= XTCP_FLAG_ACK;
	}
	rt = reply_route(net, in, &no_socket);
	if (IS_ERR(rt))
		return;
	xtcp_stat_inc(net, XTCP_MIB_OUT_RSTS);
	send_reply(net, in, rt, &f, &no_socket);
}

/*
 * The ACK of TIME_WAIT entry @tw to @in: its last numbers, window and
 * timestamps, as native's tcp_v4_timewait_ack.
 */
void xtcp_send_time_wait_ack(struct sock *tw, struct sk_buff *in,
			     const struct xtcp_seg_hdr *th)
{
	const struct xtcp_tw_sock *tws = xtcp_tw(tw);
	const struct reply_meta meta = {
		.mark = tws->tw.tw_mark,
		.priority = tws->tw.tw_priority,
		.oif = tws->tw.tw_bound_dev_if,
		.tos = tws->tw.tw_tos,
	};
	struct xtcp_hdr_fields f = {
		.sport = th->dport,
		.dport = th->sport,
		.seq = tws->snd_nxt,
		.ack = tws->rcv_nxt,
		.flags = XTCP_FLAG_ACK,
		.window = min_t(u32, tws->rcv_wnd >> tws->rcv_wscale, U16_MAX),
	};
	struct net *net = sock_net(tw);
	struct rtable *rt;

	if (tws->ts_ok) {
		f.opts.has_timestamp = true;
		f.opts.tsval = xtcp_ts_clock_ms() + tws->ts_offset;
		f.opts.tsecr = READ_ONCE(tws->ts_recent);
	}
	rt = reply_route(net, in, &meta);
	if (IS_ERR(rt))
		return;
	send_reply(net, in, rt, &f, &meta);
}

/*
 * A SYN-ACK that leaves no state behind (listener's socket lock held): its
 * ISN is @cookie, and it offers what the options code @code says the SYN
 * had (see lib/syncookie.h), with the MSS and window a child would have.
 */
void xtcp_send_cookie_synack(struct sock *sk, struct sk_buff *in,
			     const struct xtcp_seg_hdr *th, u32 cookie,
			     u8 code)
{
	struct xtcp_hdr_fields f = {
		.sport = th->dport,
		.dport = th->sport,
		.seq = cookie,
		.ack = th->seq + 1,
		.flags = XTCP_FLAG_SYN | XTCP_FLAG_ACK,
		.window = xtcp_syn_window(sk),
	};
	struct net *net = sock_net(sk);
	struct xtcp_cookie_opts co;
	struct rtable *rt;

	if (!xtcp_cookie_opt_decode(code, &co))
		return;
	rt = reply_route(net, in, &no_socket);
	if (IS_ERR(rt))
		return;
	f.opts.has_mss = true;
	f.opts.mss = xtcp_adv_mss(dst_mtu(&rt->dst), xtcp_sk(sk)->user_mss);
	if (co.has_wscale) {
		f.opts.has_wscale = true;
		f.opts.wscale = xtcp_choose_rcv_wscale(sk);
	}
	f.opts.sack_permitted = co.sack;
	if (co.ts) {
		f.opts.has_timestamp = true;
		/* The offset the child will have (xtcp_init_connection). */
		f.opts.tsval = xtcp_cookie_tsval(xtcp_ts_clock_ms() +
						 xtcp_ts_offset(ip_hdr(in)->daddr,
								ip_hdr(in)->saddr),
						 code);
		f.opts.tsecr = th->opts.tsval;
	}
	xtcp_stat_inc(net, XTCP_MIB_SYNCOOKIES_SENT);
	send_reply(net, in, rt, &f, &no_socket);
}

/* What @req's answers keep of its listener, as native's SYN-ACKs do. */
static void req_meta(const struct request_sock *req, struct reply_meta *meta)
{
	const struct sock *sk = req->rsk_listener;
	int ttl = READ_ONCE(inet_sk(sk)->uc_ttl);

	meta->mark = inet_rsk(req)->ir_mark;
	meta->priority = READ_ONCE(sk->sk_priority);
	meta->oif = inet_rsk(req)->ir_iif;
	meta->tos = READ_ONCE(inet_sk(sk)->tos);
	meta->ttl = ttl > 0 ? ttl : 0;
}

/*
 * Send @f (its flags and, for a SYN-ACK, its options set) for @req: the
 * numbers, window, timestamps and (a SYN-ACK) MSS come from @req. 0, or
 * the error of a route that cannot reach the peer.
 */
static int send_for_req(struct request_sock *req, struct xtcp_hdr_fields *f)
{
	const struct inet_request_sock *ireq = inet_rsk(req);
	const struct xtcp_request_sock *xr = xtcp_rsk(req);
	struct sock *sk = req->rsk_listener;
	bool syn = f->flags & XTCP_FLAG_SYN;
	struct net *net = sock_net(sk);
	struct reply_meta meta;
	struct rtable *rt;

	req_meta(req, &meta);
	rt = route_to(net, ireq->ir_rmt_addr, ireq->ir_loc_addr, meta.oif,
		      &meta, xtcp_wire_proto(sk));
	if (IS_ERR(rt))
		return PTR_ERR(rt);
	f->sport = ireq->ir_num;
	f->dport = ntohs(ireq->ir_rmt_port);
	f->seq = syn ? xr->iss : xr->iss + 1;
	f->ack = xr->irs + 1;
	/* RFC 7323 2.2: a SYN's window is never scaled. */
	f->window = min_t(u32, req->rsk_rcv_wnd >>
			  (syn ? 0 : ireq->rcv_wscale), U16_MAX);
	if (syn) {
		f->opts.has_mss = true;
		f->opts.mss = xtcp_adv_mss(dst_mtu(&rt->dst),
					   READ_ONCE(xtcp_sk(sk)->user_mss));
	}
	if (ireq->tstamp_ok) {
		f->opts.has_timestamp = true;
		f->opts.tsval = xtcp_ts_clock_ms() + xr->ts_offset;
		f->opts.tsecr = READ_ONCE(req->ts_recent);
	}
	send_to(net, ireq->ir_loc_addr, ireq->ir_rmt_addr, rt, f, &meta,
		req_to_sk(req), xtcp_wire_proto(sk));
	return 0;
}

/*
 * @req's SYN-ACK, first time or again: the options the SYN agreed to and
 * the window, scale and MSS its child will have (listen.c).
 */
int xtcp_send_req_synack(struct request_sock *req)
{
	const struct inet_request_sock *ireq = inet_rsk(req);
	struct xtcp_hdr_fields f = {
		.flags = XTCP_FLAG_SYN | XTCP_FLAG_ACK,
	};

	if (ireq->wscale_ok) {
		f.opts.has_wscale = true;
		f.opts.wscale = ireq->rcv_wscale;
	}
	f.opts.sack_permitted = ireq->sack_ok;
	return send_for_req(req, &f);
}

/* An ACK from @req: an out-of-window segment's or a challenge ACK. */
void xtcp_send_req_ack(struct request_sock *req)
{
	struct xtcp_hdr_fields f = { .flags = XTCP_FLAG_ACK };

	send_for_req(req, &f);
}
