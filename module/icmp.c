// SPDX-License-Identifier: GPL-2.0
/*
 * ICMP errors about segments xtcp sent, in both modes, taken as native's
 * tcp_v4_err takes them (RFC 1122 4.2.3.9, RFC 1191, RFC 5927):
 *
 * - Fragmentation needed: the route's PMTU is lowered (the kernel's
 *   per-destination exception, which native's connections share), the MSS
 *   follows, and when data in flight left in longer segments, everything
 *   from snd_una goes again, go-back-N as after a timeout but with cwnd
 *   kept (native resends only the segments that were too long and keeps
 *   its SACK scoreboard; ours has no per-segment loss marks to do that).
 *   When the exception expires the MSS grows back (xtcp_mss_follow_route).
 * - Other unreachables, time exceeded, parameter problems: a connection
 *   still opening fails at once (ECONNREFUSED for port unreachable,
 *   EHOSTUNREACH...); an open one keeps trying and only remembers the
 *   error, for its timeout to report instead of ETIMEDOUT, unless the user
 *   asked for IP_RECVERR: then the next call reports it.
 * - A half-open connection whose SYN-ACK could not reach its peer's host
 *   or network is dropped.
 *
 * Only an ICMP that quotes a sequence number we have sent and not seen
 * ACKed is believed (RFC 5927 4.1): anyone can send ICMP errors.
 *
 * The private protocol's handler is xtcp_icmp_err; in wire mode the demux
 * asks xtcp_icmp_err_owned before native's handler.
 */
#include <linux/icmp.h>
#include <linux/errqueue.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/route.h>

#include "xtcp.h"
#include "stats.h"

/* What an ICMP error quotes of the segment it is about. */
struct quoted_seg {
	const struct iphdr *iph;	/* the IP header we sent */
	const struct tcphdr *th;	/* its first 8 bytes: ports, seq */
	u8 type;
	u8 code;
};

static void read_quoted(struct sk_buff *skb, struct quoted_seg *q)
{
	/* icmp_socket_deliver pulled the quoted IP header and 8 bytes. */
	q->iph = (const struct iphdr *)skb->data;
	q->th = (const struct tcphdr *)(skb->data + q->iph->ihl * 4);
	q->type = icmp_hdr(skb)->type;
	q->code = icmp_hdr(skb)->code;
}

/* The entry that sent the quoted segment, held, or NULL. */
static struct sock *quoted_owner(struct sk_buff *skb,
				 const struct quoted_seg *q, u8 proto)
{
	return xtcp_lookup_connection(dev_net(skb->dev), q->iph->saddr,
				      q->th->source, q->iph->daddr,
				      q->th->dest, inet_iif(skb), proto);
}

/*
 * A copy of @skb on the error queue, for recvmsg(MSG_ERRQUEUE) and
 * EPOLLERR, in the layout ip_recv_error reads (native's ip_icmp_error,
 * which queues it for a connection still opening whether IP_RECVERR is
 * set or not, is not exported): the address is the quoted destination's,
 * the payload the quoted header.
 */
static void queue_icmp_error(struct sock *sk, struct sk_buff *skb,
			     const struct quoted_seg *q, int err, u32 info)
{
	struct sock_exterr_skb *serr;
	struct sk_buff *copy;
	unsigned int to_th;

	copy = skb_clone(skb, GFP_ATOMIC);
	if (!copy)
		return;
	/* The received ICMP's IPCB stays in front: ip_recv_error reads it. */
	serr = SKB_EXT_ERR(copy);
	memset(&serr->ee, 0, sizeof(serr->ee));
	serr->opt_stats = 0;
	serr->ee.ee_errno = err;
	serr->ee.ee_origin = SO_EE_ORIGIN_ICMP;
	serr->ee.ee_type = q->type;
	serr->ee.ee_code = q->code;
	serr->ee.ee_info = info;
	serr->addr_offset = (const u8 *)&q->iph->daddr -
			    skb_network_header(skb);
	serr->port = q->th->dest;
	to_th = (const u8 *)q->th - skb->data;
	__skb_pull(copy, to_th);
	/*
	 * IP_RECVERR_RFC4884: where the message's extensions start. Only
	 * unreachables, time exceeded and parameter problems get here, the
	 * three types RFC 4884 extends.
	 */
	if (xtcp_inet_recverr_rfc4884(sk))
		ip_icmp_error_rfc4884(copy, &serr->ee.ee_rfc4884,
				      sizeof(struct icmphdr),
				      icmp_hdr(copy)->un.reserved[1] * 4);
	skb_reset_transport_header(copy);
	if (sock_queue_err_skb(sk, copy))
		kfree_skb(copy);
}

/* Is data in flight that left in segments longer than the MSS is now? */
static bool sent_too_big(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	skb_rbtree_walk(skb, &xs->rtx_queue)
		if (skb->len > xs->mss_cache)
			return true;
	return false;
}

/*
 * The PMTU update itself, by the socket's owner or in softirq while no
 * user owns it: the route learns it, and the MSS shrinks when the route's
 * MTU is now below what it was computed for.
 */
void xtcp_mtu_reduced(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mtu = READ_ONCE(xs->mtu_info);
	struct rtable *rt;
	u16 old_mss;

	if ((1 << sk->sk_state) & (TCPF_LISTEN | TCPF_CLOSE))
		return;
	rt = xtcp_sk_route(sk);
	if (!rt)
		return;
	rt->dst.ops->update_pmtu(&rt->dst, sk, NULL, mtu, true);
	/* A lowered PMTU made the cached route stale: look it up again. */
	rt = xtcp_sk_route(sk);
	if (!rt)
		return;
	/* Below the kernel's floor: remember why, should it never recover. */
	if (mtu < dst_mtu(&rt->dst) && ip_dont_fragment(sk, &rt->dst))
		WRITE_ONCE(sk->sk_err_soft, EMSGSIZE);
	mtu = dst_mtu(&rt->dst);
	if (inet_sk(sk)->pmtudisc == IP_PMTUDISC_DONT ||
	    !ip_sk_accept_pmtu(sk) || xs->pmtu_cookie <= mtu)
		return;
	old_mss = xs->mss_cache;
	xtcp_sync_mss(sk, mtu);
	/* The MSS (the peer's, or TCP_MAXSEG) may be below both MTUs. */
	if (xs->mss_cache >= old_mss ||
	    ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) ||
	    !sent_too_big(sk))
		return;
	xtcp_cong_on_mtu_drop(sk);
	xtcp_resend_after_mtu_drop(sk);
}

/* Fragmentation needed: now, or when the user releases the socket. */
static void take_frag_needed(struct sock *sk, u32 mtu)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	WRITE_ONCE(xs->mtu_info, mtu);
	if (!sock_owned_by_user(sk))
		xtcp_mtu_reduced(sk);
	else if (!test_and_set_bit(XTCP_DEFER_MTU, &xs->deferred))
		sock_hold(sk);
}

/*
 * A redirect: the route learns the new gateway. Not while a user owns the
 * socket: checking its route may release it under the user.
 */
static void follow_redirect(struct sock *sk, struct sk_buff *skb)
{
	struct dst_entry *dst;

	if (sock_owned_by_user(sk))
		return;
	dst = __sk_dst_check(sk, 0);
	if (dst)
		dst->ops->redirect(dst, sk, skb);
}

/* A hard error while the connection is still opening: it fails now. */
static void opening_failed(struct sock *sk, int err)
{
	if (sock_owned_by_user(sk)) {
		WRITE_ONCE(sk->sk_err_soft, err);
		return;
	}
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_ATTEMPT_FAILS);
	xtcp_done_with_error(sk, err);
}

/*
 * The error an ICMP message means for a connection (a negative errno), or
 * 0: nothing to report (ignored, or a redirect or PMTU taken here).
 */
static int icmp_error_errno(struct sock *sk, struct sk_buff *skb,
			    const struct quoted_seg *q, u32 info)
{
	switch (q->type) {
	case ICMP_REDIRECT:
		follow_redirect(sk, skb);
		return 0;
	case ICMP_PARAMETERPROB:
		return -EPROTO;
	case ICMP_TIME_EXCEEDED:
		return -EHOSTUNREACH;
	case ICMP_DEST_UNREACH:
		if (q->code > NR_ICMP_UNREACH)
			return 0;
		if (q->code == ICMP_FRAG_NEEDED) {
			take_frag_needed(sk, info);
			return 0;
		}
		return -icmp_err_convert[q->code].errno;
	default:	/* source quench and the rest: ignored, as native */
		return 0;
	}
}

/* An ICMP error about a segment of connection @sk (softirq). */
static void sock_icmp_err(struct sock *sk, struct sk_buff *skb,
			  const struct quoted_seg *q, u32 info)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 seq = ntohl(q->th->seq);
	int err;

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk) &&
	    !(q->type == ICMP_DEST_UNREACH && q->code == ICMP_FRAG_NEEDED))
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_LOCK_DROPPED_ICMPS);
	if (sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_LISTEN)
		goto out;
	if (!xtcp_seq_between(seq, xs->snd_una, xs->snd_max)) {
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_OUT_OF_WINDOW_ICMPS);
		goto out;
	}
	err = -icmp_error_errno(sk, skb, q, info);
	if (!err)
		goto out;
	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		queue_icmp_error(sk, skb, q, err, info);
		opening_failed(sk, err);
		goto out;
	}
	/* RFC 1122 4.2.3.9: an open connection keeps trying. */
	if (!sock_owned_by_user(sk) && xtcp_inet_recverr(sk)) {
		WRITE_ONCE(sk->sk_err, err);
		sk_error_report(sk);
	} else {
		WRITE_ONCE(sk->sk_err_soft, err);
	}
out:
	bh_unlock_sock(sk);
}

/*
 * About our SYN-ACK: a net or host that cannot be reached, a parameter
 * problem or an expired TTL drops the half-open connection, as native.
 */
static void req_icmp_err(struct request_sock *req, const struct quoted_seg *q)
{
	struct net *net = sock_net(req->rsk_listener);
	bool fatal = q->type == ICMP_PARAMETERPROB ||
		     q->type == ICMP_TIME_EXCEEDED ||
		     (q->type == ICMP_DEST_UNREACH &&
		      (q->code == ICMP_NET_UNREACH ||
		       q->code == ICMP_HOST_UNREACH));

	if (ntohl(q->th->seq) != xtcp_rsk(req)->iss) {
		xtcp_stat_inc(net, XTCP_MIB_OUT_OF_WINDOW_ICMPS);
		return;
	}
	if (fatal) {
		xtcp_req_drop(req);
		xtcp_stat_inc(net, XTCP_MIB_LISTEN_DROPS);
	}
}

/* @sk (held, dropped here) sent the segment ICMP error @skb quotes. */
static void entry_icmp_err(struct sock *sk, struct sk_buff *skb,
			   const struct quoted_seg *q, u32 info)
{
	switch (sk->sk_state) {
	case TCP_TIME_WAIT:
		break;
	case TCP_NEW_SYN_RECV:
		req_icmp_err(inet_reqsk(sk), q);
		break;
	default:
		sock_icmp_err(sk, skb, q, info);
		break;
	}
	sock_gen_put(sk);
}

/* The private protocol's ICMP error handler. */
int xtcp_icmp_err(struct sk_buff *skb, u32 info)
{
	struct quoted_seg q;
	struct sock *sk;

	read_quoted(skb, &q);
	sk = quoted_owner(skb, &q, xtcp_ipproto);
	if (!sk) {
		__ICMP_INC_STATS(dev_net(skb->dev), ICMP_MIB_INERRORS);
		return -ENOENT;
	}
	entry_icmp_err(sk, skb, &q, info);
	return 0;
}

/*
 * Wire mode: an ICMP error about a TCP segment. True when the segment was
 * one of xtcp's, now handled; false leaves it to native's handler.
 */
bool xtcp_icmp_err_owned(struct sk_buff *skb, u32 info)
{
	struct quoted_seg q;
	struct sock *sk;

	if (!READ_ONCE(xtcp_net(dev_net(skb->dev))->wire))
		return false;
	read_quoted(skb, &q);
	sk = quoted_owner(skb, &q, IPPROTO_TCP);
	if (!sk)
		return false;
	entry_icmp_err(sk, skb, &q, info);
	return true;
}
