// SPDX-License-Identifier: GPL-2.0
/*
 * Half-open connections (SYN_RECV): a SYN a listener takes becomes a
 * request sock (struct xtcp_request_sock, xtcp.h), the kernel's
 * request_sock with what the handshake needs, a few hundred bytes where a
 * socket took kilobytes, as native's tcp_request_sock. It sits in the
 * established table under the 4-tuple and on its listener's SYN queue,
 * resends its SYN-ACK from its own timer, and answers the segments of its
 * 4-tuple (xtcp_req_rcv) until the ACK that completes the handshake makes
 * the child socket (listen.c), which takes its place in the table.
 *
 * It ends once: whoever takes it out of the table (xtcp_unhash_req, or
 * the child taking its place) takes it off the SYN queue and drops the
 * table's reference and, if it stops the timer, the timer's
 * (xtcp_req_forget). The timer is re-armed only while the entry is in the
 * table, under the table's lock, so one that runs as the entry leaves drops
 * its own reference and never fires again. Segments are taken in softirq
 * without the listener's socket lock, as native's tcp_check_req: accept()
 * and the SYN queue do not wait for each other.
 */
#include <linux/security.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/request_sock.h>

#include "xtcp.h"

/*
 * The IP options an LSM gave it (NetLabel's CIPSO, from
 * security_inet_conn_request), as native's tcp_v4_reqsk_destructor;
 * reqsk_free drops the listener.
 */
static void req_destructor(struct request_sock *req)
{
	kfree(rcu_dereference_protected(inet_rsk(req)->ireq_opt, 1));
}

struct request_sock_ops xtcp_request_sock_ops = {
	.family = PF_INET,
	.obj_size = sizeof(struct xtcp_request_sock),
	.destructor = req_destructor,
};

/* Off its listener's SYN queue, if the queue still has it. */
static void req_unlist(struct request_sock *req)
{
	struct xtcp_request_sock *xr = xtcp_rsk(req);
	struct xtcp_sock *lxs = xtcp_sk(req->rsk_listener);

	spin_lock_bh(&lxs->queue_lock);
	if (xr->listed) {
		list_del_init(&xr->syn_node);
		xr->listed = false;
		WRITE_ONCE(lxs->syn_queue_len, lxs->syn_queue_len - 1);
		if (xr->young) {
			xr->young = false;
			WRITE_ONCE(lxs->syn_queue_young,
				   lxs->syn_queue_young - 1);
		}
	}
	spin_unlock_bh(&lxs->queue_lock);
}

/*
 * @req left the table (the caller took it out, or its child took its
 * place): off the SYN queue, the table's reference dropped, and the
 * timer's if the timer is stopped here. The caller holds a reference.
 */
void xtcp_req_forget(struct request_sock *req)
{
	req_unlist(req);
	reqsk_put(req);
	if (del_timer(&req->rsk_timer))
		reqsk_put(req);
}

/* End @req (held by the caller) unless someone else ended it first. */
void xtcp_req_drop(struct request_sock *req)
{
	if (xtcp_unhash_req(req))
		xtcp_req_forget(req);
}

/* The first SYN-ACK resent: no longer young (xtcp_synack_retries). */
static void req_aged(struct request_sock *req)
{
	struct xtcp_request_sock *xr = xtcp_rsk(req);
	struct xtcp_sock *lxs = xtcp_sk(req->rsk_listener);

	spin_lock_bh(&lxs->queue_lock);
	if (xr->young) {
		xr->young = false;
		WRITE_ONCE(lxs->syn_queue_young, lxs->syn_queue_young - 1);
	}
	spin_unlock_bh(&lxs->queue_lock);
}

/* The SYN-ACK again, counted as a retransmission once it left. */
static void req_resend_synack(struct request_sock *req)
{
	if (xtcp_send_req_synack(req))
		return;
	if (req->num_retrans < U8_MAX)
		req->num_retrans++;
	xtcp_stat_inc(sock_net(req->rsk_listener), XTCP_MIB_RETRANS_SEGS);
}

/* RFC 6298 for the SYN-ACK: 1 s, doubled at each timeout, at most 120 s. */
static unsigned long req_timeout(const struct request_sock *req)
{
	u64 us = (u64)XTCP_RTO_INITIAL_US << min_t(u8, req->num_timeout, 8);

	return usecs_to_jiffies(min_t(u64, us, XTCP_RTO_MAX_US));
}

/*
 * The SYN-ACK timer: resend, or give up after xtcp_synack_retries tries
 * (fewer while a flood fills the queue) or once the listener is closed.
 * Every expiry of an open listener's counts, as native's TCPTimeouts. The
 * timer's reference goes with the last expiry.
 */
static void req_timer_expired(struct timer_list *t)
{
	struct request_sock *req = from_timer(req, t, rsk_timer);
	struct sock *sk = req->rsk_listener;

	if (!READ_ONCE(xtcp_rsk(req)->hashed))
		goto out;
	if (READ_ONCE(sk->sk_state) != TCP_LISTEN) {
		xtcp_req_drop(req);
		goto out;
	}
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_RTO_TIMEOUTS);
	if (req->num_timeout >= xtcp_synack_retries(sk)) {
		xtcp_req_drop(req);
		goto out;
	}
	if (!req->num_timeout++)
		req_aged(req);
	req_resend_synack(req);
	if (xtcp_rearm_req(req, req_timeout(req)))
		return;
out:
	reqsk_put(req);
}

/* What the SYN @th on @skb asks for, and what we answer it with. */
static void req_init(struct request_sock *req, struct sock *sk,
		     const struct sk_buff *skb, const struct xtcp_seg_hdr *th,
		     u32 iss)
{
	struct xtcp_net *xn = xtcp_net(sock_net(sk));
	struct inet_request_sock *ireq = inet_rsk(req);
	struct xtcp_request_sock *xr = xtcp_rsk(req);
	const struct iphdr *iph = ip_hdr(skb);
	struct xtcp_syn_agreed a;

	ireq->ir_loc_addr = iph->daddr;
	ireq->ir_rmt_addr = iph->saddr;
	ireq->ir_num = inet_sk(sk)->inet_num;
	ireq->ir_rmt_port = htons(th->sport);
	ireq->ir_iif = sk->sk_bound_dev_if;
	ireq->ir_mark = READ_ONCE(sk->sk_mark);
	xtcp_syn_agree(&a, &th->opts, READ_ONCE(xn->window_scaling),
		       READ_ONCE(xn->sack), READ_ONCE(xn->timestamps));
	ireq->wscale_ok = a.wscale_ok;
	ireq->snd_wscale = a.snd_wscale;
	ireq->rcv_wscale = ireq->wscale_ok ? xtcp_choose_rcv_wscale(sk) : 0;
	ireq->sack_ok = a.sack_ok;
	ireq->tstamp_ok = a.ts_ok;
	req->ts_recent = ireq->tstamp_ok ? th->opts.tsval : 0;
	req->rsk_rcv_wnd = xtcp_syn_window(sk);
	xr->peer_mss = a.mss;
	xr->snd_wnd = th->window;
	xr->iss = iss;
	xr->irs = th->seq;
	xr->ts_offset = xtcp_ts_offset(iph->daddr, iph->saddr);
	xr->last_reply = 0;
	xr->listed = false;
	xr->young = false;
	xr->hashed = false;
	INIT_LIST_HEAD(&xr->syn_node);
	timer_setup(&req->rsk_timer, req_timer_expired, 0);
	refcount_set(&req->rsk_refcnt, 1);
}

/* Onto @sk's SYN queue, young (listener's socket lock held). */
static void req_list(struct sock *sk, struct request_sock *req)
{
	struct xtcp_request_sock *xr = xtcp_rsk(req);
	struct xtcp_sock *xs = xtcp_sk(sk);

	spin_lock_bh(&xs->queue_lock);
	list_add_tail(&xr->syn_node, &xs->syn_queue);
	xr->listed = true;
	xr->young = true;
	WRITE_ONCE(xs->syn_queue_len, xs->syn_queue_len + 1);
	WRITE_ONCE(xs->syn_queue_young, xs->syn_queue_young + 1);
	spin_unlock_bh(&xs->queue_lock);
}

/*
 * A half-open connection for the SYN @th that listener @sk takes (its
 * socket lock held), with our ISN @iss: queued, hashed, its SYN-ACK sent.
 * Listed before it is hashed, so that whoever finds it in the table finds
 * it on the queue. -EEXIST when a twin from a retransmitted SYN is there,
 * -ENOMEM, the LSM's refusal, or no route to the peer.
 */
int xtcp_req_start(struct sock *sk, struct sk_buff *skb,
		   const struct xtcp_seg_hdr *th, u32 iss)
{
	struct request_sock *req;
	int err;

	req = inet_reqsk_alloc(&xtcp_request_sock_ops, sk, true);
	if (!req)
		return -ENOMEM;
	req_init(req, sk, skb, th, iss);
	err = security_inet_conn_request(sk, skb, req);
	if (err)
		goto free;
	req_list(sk, req);
	xtcp_rsk(req)->synack_sent_us = xtcp_clock_us();
	err = xtcp_hash_req(req, req_timeout(req));
	if (err) {
		req_unlist(req);
		goto free;
	}
	/* No route to the peer: no entry, as native's tcp_conn_request. */
	err = xtcp_send_req_synack(req);
	if (err)
		xtcp_req_drop(req);
	reqsk_put(req);
	return err;

free:
	/* Never seen by anyone: ours is the only reference. */
	refcount_set(&req->rsk_refcnt, 0);
	reqsk_free(req);
	return err;
}

/*
 * End the half-open connections @sk's listen_stop took off its queue
 * (process context; each held by @reqs, which listed them).
 */
void xtcp_reqs_stop(struct sock *sk, struct list_head *reqs)
{
	struct xtcp_request_sock *xr, *tmp;

	list_for_each_entry_safe(xr, tmp, reqs, syn_node) {
		struct request_sock *req = &xr->ireq.req;

		list_del_init(&xr->syn_node);
		if (xtcp_unhash_req(req))
			reqsk_put(req);
		if (del_timer_sync(&req->rsk_timer))
			reqsk_put(req);
		reqsk_put(req);
	}
}

/* Rate limit of @req's replies, as a socket's (xtcp_oow_rate_limited). */
static bool req_reply_limited(struct request_sock *req, u32 len,
			      const struct xtcp_seg_hdr *th,
			      enum xtcp_mib_field skipped)
{
	return xtcp_oow_rate_limited(sock_net(req->rsk_listener),
				     &xtcp_rsk(req)->last_reply, len, th,
				     skipped);
}

/*
 * RFC 7323 5.3 against the SYN's timestamp, a RST included: native takes
 * a RST with an old timestamp only from a peer silent for 60 s, longer
 * than a half-open connection lives.
 */
static bool req_paws_rejects(const struct request_sock *req,
			     const struct xtcp_seg_hdr *th)
{
	return inet_rsk(req)->tstamp_ok && th->opts.has_timestamp &&
	       (s32)(READ_ONCE(req->ts_recent) - th->opts.tsval) >
	       XTCP_PAWS_WINDOW_MS;
}

/*
 * The SYN again, our SYN-ACK lost: the SYN-ACK again, within the reply
 * rate limit, and the timer restarted from now, as native's.
 */
static void req_syn_again(struct request_sock *req,
			  const struct xtcp_seg_hdr *th, u32 len)
{
	if (req_reply_limited(req, len, th, XTCP_MIB_ACK_SKIPPED_SYN_RECV))
		return;
	req_resend_synack(req);
	mod_timer_pending(&req->rsk_timer, jiffies + req_timeout(req));
}

/*
 * RFC 5961 3.2: a RST in the window but off rcv_nxt draws a challenge ACK,
 * within @req's and the namespace's limits, as native's
 * tcp_reqsk_send_challenge_ack.
 */
static void req_challenge_ack(struct request_sock *req,
			      const struct xtcp_seg_hdr *th)
{
	struct net *net = sock_net(req->rsk_listener);

	if (req_reply_limited(req, 0, th, XTCP_MIB_ACK_SKIPPED_CHALLENGE) ||
	    !xtcp_challenge_ack_allowed(xtcp_net(net)))
		return;
	xtcp_stat_inc(net, XTCP_MIB_CHALLENGE_ACKS);
	xtcp_send_req_ack(req);
}

/*
 * A RST at rcv_nxt or a new SYN in the window ends the half-open
 * connection, the SYN with a RST of ours, as native's embryonic reset.
 */
static void req_embryonic_reset(struct request_sock *req, struct sk_buff *skb,
				const struct xtcp_seg_hdr *th)
{
	struct net *net = sock_net(req->rsk_listener);

	xtcp_stat_inc(net, XTCP_MIB_ATTEMPT_FAILS);
	if (!(th->flags & XTCP_FLAG_RST))
		xtcp_send_reset_reply(net, skb, th);
	xtcp_req_drop(req);
	xtcp_stat_inc(net, XTCP_MIB_EMBRYONIC_RSTS);
}

/*
 * What a half-open connection makes of a segment, in the order of
 * native's tcp_check_req: answered and false for anything but an
 * acceptable ACK of our SYN-ACK. @len is the segment's sequence length.
 */
static bool req_segment_ok(struct request_sock *req, struct sk_buff *skb,
			   const struct xtcp_seg_hdr *th, u32 len)
{
	struct xtcp_request_sock *xr = xtcp_rsk(req);
	struct net *net = sock_net(req->rsk_listener);
	u8 flags = th->flags & (XTCP_FLAG_SYN | XTCP_FLAG_ACK | XTCP_FLAG_RST);
	bool paws = req_paws_rejects(req, th);

	if (th->seq == xr->irs && flags == XTCP_FLAG_SYN && !paws) {
		req_syn_again(req, th, len);
		return false;
	}
	/* An ACK of anything but our SYN-ACK: the RST no socket would give. */
	if ((flags & (XTCP_FLAG_ACK | XTCP_FLAG_RST)) == XTCP_FLAG_ACK &&
	    th->ack != xr->iss + 1) {
		xtcp_send_reset_reply(net, skb, th);
		return false;
	}
	if (paws || !xtcp_seq_acceptable(th->seq, len, xr->irs + 1,
					 req->rsk_rcv_wnd)) {
		if (!(flags & XTCP_FLAG_RST) &&
		    !req_reply_limited(req, len, th,
				       XTCP_MIB_ACK_SKIPPED_SYN_RECV))
			xtcp_send_req_ack(req);
		xtcp_stat_inc(net, paws ? XTCP_MIB_PAWS_REJECTED :
				    XTCP_MIB_DROP_OLD_SEQ);
		return false;
	}
	if (inet_rsk(req)->tstamp_ok && th->opts.has_timestamp &&
	    !xtcp_seq_after(th->seq, xr->irs + 1))
		WRITE_ONCE(req->ts_recent, th->opts.tsval);
	/* A SYN at the first one's number is out of the window: not new. */
	if (th->seq == xr->irs)
		flags &= ~XTCP_FLAG_SYN;
	if ((flags & XTCP_FLAG_RST) && th->seq != xr->irs + 1) {
		req_challenge_ack(req, th);
		return false;
	}
	if (flags & (XTCP_FLAG_RST | XTCP_FLAG_SYN)) {
		req_embryonic_reset(req, skb, th);
		return false;
	}
	/*
	 * A SYN-ACK at the SYN's number (crossed SYNs a third party sent
	 * both ends) acknowledges ours, but the child would take it as a
	 * SYN on a connection: dropped, the peer's ACK makes the child.
	 */
	if (th->flags & XTCP_FLAG_SYN)
		return false;
	return flags & XTCP_FLAG_ACK;
}

/*
 * A segment of @req's 4-tuple (softirq; the caller holds @req and drops
 * it), its listener's policy passed. *@consumed if the child it made kept
 * the skb. True when the caller should look the 4-tuple up again: @req
 * was gone meanwhile (its listener closed, or another CPU's child took
 * its place), and the segment is for whatever is there now.
 */
bool xtcp_req_rcv(struct request_sock *req, struct sk_buff *skb,
		  const struct xtcp_seg_hdr *th, bool *consumed)
{
	u32 len = skb->len - th->hdr_len;

	if (READ_ONCE(req->rsk_listener->sk_state) != TCP_LISTEN) {
		xtcp_req_drop(req);
		return true;
	}
	len += !!(th->flags & XTCP_FLAG_SYN) + !!(th->flags & XTCP_FLAG_FIN);
	if (!req_segment_ok(req, skb, th, len))
		return false;
	return xtcp_req_complete(req, skb, th, consumed);
}
