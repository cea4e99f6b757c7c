// SPDX-License-Identifier: GPL-2.0
/*
 * Passive open: listen(), the accept queue (children ESTABLISHED, waiting
 * for accept()), accept() itself, and the child a handshake's last ACK
 * makes, from a request sock (request.c: the SYN queue) or a SYN cookie.
 *
 * A child is made, hashed and takes that ACK under its own socket lock
 * before anyone else can use it, as one about to be established
 * (XTCP_Q_SYN, on no list); the normal input path's SYN_RECV step moves
 * it to the accept queue. Queue membership and the child's queue_state
 * are guarded by the listener's queue_lock; see xtcp.h for the reference
 * and lock rules.
 */
#include <linux/cgroup.h>
#include <linux/net.h>
#include <linux/security.h>
#include <linux/tcp.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/route.h>

#include "xtcp.h"

int xtcp_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	struct inet_sock *inet = inet_sk(sk);
	bool auto_bound = false;
	int old_state, err;

	lock_sock(sk);
	err = -EINVAL;
	if (sock->state != SS_UNCONNECTED || sock->type != SOCK_STREAM)
		goto out;
	old_state = sk->sk_state;
	if (!((1 << old_state) & (TCPF_CLOSE | TCPF_LISTEN)))
		goto out;

	WRITE_ONCE(sk->sk_max_ack_backlog, backlog);
	if (old_state != TCP_LISTEN) {
		if (!inet->inet_num) {
			err = xtcp_bind_port(sk, inet->inet_rcv_saddr, 0);
			if (err)
				goto out;
			auto_bound = true;
		}
		err = xtcp_hash_listener(sk);
		if (err) {
			if (auto_bound)
				xtcp_unbind_port(sk);
			goto out;
		}
		spin_lock_bh(&xtcp_sk(sk)->queue_lock);
		xtcp_sk(sk)->queues_closed = false;
		spin_unlock_bh(&xtcp_sk(sk)->queue_lock);
		xtcp_set_state(sk, TCP_LISTEN);
	}
	err = 0;
out:
	release_sock(sk);
	return err;
}

static struct sock *pop_accept_queue(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_sock *cxs;

	spin_lock_bh(&xs->queue_lock);
	cxs = list_first_entry_or_null(&xs->accept_queue, struct xtcp_sock,
				       queue_node);
	if (cxs) {
		list_del_init(&cxs->queue_node);
		cxs->queue_state = XTCP_Q_NONE;
		WRITE_ONCE(xs->accept_queue_len, xs->accept_queue_len - 1);
		sk_acceptq_removed(sk);
	}
	spin_unlock_bh(&xs->queue_lock);
	return (struct sock *)cxs;
}

/* Drop the child's link to its listener: child's socket lock held. */
static void forget_parent(struct sock *child)
{
	struct xtcp_sock *cxs = xtcp_sk(child);
	struct sock *parent = cxs->parent;

	if (parent) {
		cxs->parent = NULL;
		sock_put(parent);
	}
}

int xtcp_accept(struct socket *sock, struct socket *newsock, int flags,
		bool kern)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk;
	struct sock *child = NULL;
	long timeo;
	int err;

	lock_sock(sk);
	timeo = sock_rcvtimeo(sk, flags & O_NONBLOCK);
	add_wait_queue_exclusive(sk_sleep(sk), &wait);
	for (;;) {
		err = -EINVAL;
		if (sk->sk_state != TCP_LISTEN)
			break;
		child = pop_accept_queue(sk);
		if (child)
			break;
		err = -EAGAIN;
		if (!timeo)
			break;
		err = sock_intr_errno(timeo);
		if (signal_pending(current))
			break;
		release_sock(sk);
		timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
		lock_sock(sk);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	release_sock(sk);
	if (!child)
		return err;

	/* The accept queue's reference on the child is now the user's. */
	lock_sock(child);
	sock_graft(child, newsock);
	newsock->state = SS_CONNECTED;
	forget_parent(child);
	release_sock(child);
	return 0;
}

/*
 * The listener closes (its socket lock held by the user): half-open
 * connections and children not yet accepted go, established ones with a
 * RST as native TCP sends. A child being made meanwhile finds the queues
 * closed and goes too (xtcp_child_established).
 */
void xtcp_listen_stop(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_request_sock *xr;
	struct xtcp_sock *cxs, *tmp;
	LIST_HEAD(victims);
	LIST_HEAD(reqs);

	spin_lock_bh(&xs->queue_lock);
	xs->queues_closed = true;
	/* Listed, a request sock is still hashed: it has a reference. */
	list_for_each_entry(xr, &xs->syn_queue, syn_node) {
		xr->listed = false;
		xr->young = false;
		refcount_inc(&xr->ireq.req.rsk_refcnt);
	}
	list_splice_init(&xs->syn_queue, &reqs);
	list_splice_init(&xs->accept_queue, &victims);
	list_for_each_entry(cxs, &victims, queue_node)
		cxs->queue_state = XTCP_Q_NONE;
	WRITE_ONCE(xs->syn_queue_len, 0);
	WRITE_ONCE(xs->syn_queue_young, 0);
	WRITE_ONCE(xs->accept_queue_len, 0);
	WRITE_ONCE(sk->sk_ack_backlog, 0);
	spin_unlock_bh(&xs->queue_lock);

	xtcp_unhash_listener(sk);
	xtcp_reqs_stop(sk, &reqs);

	list_for_each_entry_safe(cxs, tmp, &victims, queue_node) {
		struct sock *child = (struct sock *)cxs;

		list_del_init(&cxs->queue_node);
		lock_sock_nested(child, SINGLE_DEPTH_NESTING);
		if ((1 << child->sk_state) &
		    (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))
			xtcp_send_active_reset(child, GFP_KERNEL);
		xtcp_child_drop(child);
		release_sock(child);
		/* The queue's reference. */
		sock_put(child);
	}
}

/*
 * SYN-ACKs a half-open connection of listener @sk sends before it gives
 * up. A SYN flood leaves the SYN queue full of entries whose SYN-ACK
 * nobody answers; once the queue is over half full, the fewer young ones
 * (not yet resent) among them, the fewer tries the old ones get: one less
 * for each doubling the young ones would need to make half the queue, down
 * to two tries, so that flood entries leave after 1 + 2 + 4 s and make
 * room for new SYNs. Native TCP's SYN-ACK timer does the same.
 */
u32 xtcp_synack_retries(const struct sock *sk)
{
	u32 limit = XTCP_SYNACK_RETRIES;
	u32 qlen, young, scale;

	qlen = READ_ONCE(xtcp_sk(sk)->syn_queue_len);
	young = READ_ONCE(xtcp_sk(sk)->syn_queue_young);
	if (2 * qlen <= max_t(u32, 8, READ_ONCE(sk->sk_max_ack_backlog)))
		return limit;
	for (scale = 2; limit > 2 && young * scale <= qlen; scale *= 2)
		limit--;
	return limit;
}

/* Full past the backlog, as native's sk_acceptq_is_full. */
bool xtcp_accept_queue_full(const struct sock *sk)
{
	return READ_ONCE(xtcp_sk(sk)->accept_queue_len) >
	       READ_ONCE(sk->sk_max_ack_backlog);
}

/*
 * A child finished its handshake (child's socket lock held): move it to the
 * accept queue, whose room its maker checked before making it (a race
 * may overshoot the backlog by a few, as native's inet_csk_reqsk_queue_add
 * does, where a refusal would lose a connection the peer thinks made).
 * -ENOENT when the listener is gone or closed.
 */
int xtcp_child_established(struct sock *child)
{
	struct xtcp_sock *cxs = xtcp_sk(child);
	struct sock *parent = cxs->parent;
	struct xtcp_sock *pxs;
	int err = 0;

	if (!parent)
		return -ENOENT;
	pxs = xtcp_sk(parent);
	spin_lock_bh(&pxs->queue_lock);
	if (cxs->queue_state != XTCP_Q_SYN || pxs->queues_closed) {
		err = -ENOENT;
	} else {
		list_add_tail(&cxs->queue_node, &pxs->accept_queue);
		cxs->queue_state = XTCP_Q_ACCEPT;
		WRITE_ONCE(pxs->accept_queue_len, pxs->accept_queue_len + 1);
		sk_acceptq_added(parent);
	}
	spin_unlock_bh(&pxs->queue_lock);
	if (!err)
		parent->sk_data_ready(parent);
	return err;
}

/*
 * A child dies before accept() (child's socket lock held, caller holds a
 * reference): out of its queue, and its link to the listener dropped.
 */
static void child_unlink(struct sock *child)
{
	struct xtcp_sock *cxs = xtcp_sk(child);
	struct sock *parent = cxs->parent;
	bool was_queued = false;

	if (!parent)
		return;
	spin_lock_bh(&xtcp_sk(parent)->queue_lock);
	if (cxs->queue_state != XTCP_Q_NONE) {
		struct xtcp_sock *pxs = xtcp_sk(parent);

		if (cxs->queue_state == XTCP_Q_ACCEPT) {
			list_del_init(&cxs->queue_node);
			WRITE_ONCE(pxs->accept_queue_len,
				   pxs->accept_queue_len - 1);
			sk_acceptq_removed(parent);
		}
		cxs->queue_state = XTCP_Q_NONE;
		was_queued = true;
	}
	spin_unlock_bh(&xtcp_sk(parent)->queue_lock);
	forget_parent(child);
	if (was_queued)
		__sock_put(child);
}

/*
 * A child that accept() will never see goes, however far it got (hashed,
 * adopted, queued or none of these): child's socket lock held, and a
 * reference of the caller's, dropped once it unlocks the child; a queue
 * still holding the child drops its own here.
 */
void xtcp_child_drop(struct sock *child)
{
	child_unlink(child);
	sock_set_flag(child, SOCK_DEAD);
	xtcp_done(child);
}

/* What a child takes over from its listener, as native accept() shows. */
static void inherit_settings(struct sock *child, const struct sock *sk)
{
	struct inet_sock *cinet = inet_sk(child);
	const struct inet_sock *inet = inet_sk(sk);

	child->sk_sndbuf = sk->sk_sndbuf;
	child->sk_rcvbuf = sk->sk_rcvbuf;
	child->sk_userlocks = sk->sk_userlocks & ~SOCK_BINDPORT_LOCK;
	child->sk_reuse = sk->sk_reuse;
	child->sk_reuseport = sk->sk_reuseport;
	child->sk_bound_dev_if = sk->sk_bound_dev_if;
	child->sk_mark = sk->sk_mark;
	child->sk_priority = sk->sk_priority;
	child->sk_rcvlowat = sk->sk_rcvlowat;
	child->sk_rcvtimeo = sk->sk_rcvtimeo;
	child->sk_sndtimeo = sk->sk_sndtimeo;
	child->sk_lingertime = sk->sk_lingertime;
	if (sock_flag(sk, SOCK_LINGER))
		sock_set_flag(child, SOCK_LINGER);
	if (sock_flag(sk, SOCK_KEEPOPEN))
		sock_set_flag(child, SOCK_KEEPOPEN);
	cinet->uc_ttl = inet->uc_ttl;
	cinet->tos = inet->tos;
	cinet->pmtudisc = inet->pmtudisc;
	xtcp_inet_init_mc(child);
	cinet->mc_ttl = 1;
	xtcp_sk(child)->nodelay = xtcp_sk(sk)->nodelay;
	xtcp_sk(child)->cork = xtcp_sk(sk)->cork;
	xtcp_sk(child)->user_mss = xtcp_sk(sk)->user_mss;
	xtcp_sk(child)->keepidle_s = xtcp_sk(sk)->keepidle_s;
	xtcp_sk(child)->keepintvl_s = xtcp_sk(sk)->keepintvl_s;
	xtcp_sk(child)->keepcnt = xtcp_sk(sk)->keepcnt;
	xtcp_sk(child)->user_timeout_ms = xtcp_sk(sk)->user_timeout_ms;
	/* The listener's TCP_CONGESTION, started afresh. */
	xtcp_sk(child)->cong_ops = xtcp_sk(sk)->cong_ops;
	xtcp_cong_init(child);
}

/*
 * The listener's cgroup for @child, as a native child cloned from its
 * listener has: sk_alloc in softirq gave it the root cgroup, so the
 * cgroup-BPF programs of the listener's service (ingress, egress) would
 * pass over its connections. The references move as cgroup_sk_clone's.
 */
static void inherit_cgroup(struct sock *child, struct sock *sk)
{
#ifdef CONFIG_SOCK_CGROUP_DATA
	struct cgroup *was = sock_cgroup_ptr(&child->sk_cgrp_data);
	struct cgroup *cgrp = sock_cgroup_ptr(&sk->sk_cgrp_data);

	cgroup_get(cgrp);
	cgroup_bpf_get(cgrp);
	child->sk_cgrp_data = sk->sk_cgrp_data;
	cgroup_bpf_put(was);
	cgroup_put(was);
#endif
}

/*
 * A child in SYN_RECV for the SYN @th (as a request sock or a cookie
 * remembers it) on the handshake's last ACK @skb, with our ISN @iss, as if
 * its SYN-ACK had left from it: the caller sets what that SYN-ACK offered.
 */
static struct sock *new_child(struct sock *sk, struct sk_buff *skb,
			      const struct xtcp_seg_hdr *th, u32 iss)
{
	const struct iphdr *iph = ip_hdr(skb);
	struct net *net = sock_net(sk);
	struct inet_sock *cinet;
	struct xtcp_sock *cxs;
	struct sock *child;
	struct rtable *rt;

	child = xtcp_sk_alloc(net, GFP_ATOMIC, 0);
	if (!child)
		return NULL;
	sock_init_data(NULL, child);
	/* The LSM's label, as a native child cloned from its listener has. */
	security_sk_clone(sk, child);
	/* No struct socket to take it from until accept() grafts one. */
	child->sk_type = SOCK_STREAM;
	child->sk_protocol = xtcp_ipproto;
	child->sk_backlog_rcv = xtcp_backlog_rcv;
	xtcp_init_sock(child);
	xtcp_sk(child)->wire = xtcp_sk(sk)->wire;
	inherit_settings(child, sk);
	inherit_cgroup(child, sk);

	cinet = inet_sk(child);
	cinet->inet_num = inet_sk(sk)->inet_num;
	cinet->inet_sport = inet_sk(sk)->inet_sport;
	cinet->inet_rcv_saddr = iph->daddr;
	cinet->inet_saddr = iph->daddr;
	cinet->inet_daddr = iph->saddr;
	cinet->inet_dport = htons(th->sport);
	atomic_set(&cinet->inet_id, get_random_u16());

	rt = ip_route_output_ports(net, &cinet->cork.fl.u.ip4, child,
				   cinet->inet_daddr, cinet->inet_saddr,
				   cinet->inet_dport, cinet->inet_sport,
				   xtcp_wire_proto(child), xtcp_rt_conn_flags(child),
				   child->sk_bound_dev_if);
	if (IS_ERR(rt)) {
		/* Not yet anywhere: no RST, no tables, just free it. */
		sock_set_flag(child, SOCK_DEAD);
		sk_free(child);
		return NULL;
	}
	xtcp_setup_caps(child, &rt->dst);

	cxs = xtcp_sk(child);
	xtcp_init_connection(child, iss, &rt->dst);
	/* The SYN as the request or cookie agreed to it. */
	xtcp_take_syn_options(child, th, dst_mtu(&rt->dst), true);
	cxs->irs = th->seq;
	cxs->rcv_nxt = th->seq + 1;
	cxs->rcv_wup = cxs->rcv_nxt;
	cxs->copied_seq = cxs->rcv_nxt;
	cxs->snd_wnd = th->window;	/* never scaled in a SYN */
	cxs->max_window = cxs->snd_wnd;
	cxs->snd_wl1 = th->seq;
	cxs->snd_wl2 = cxs->iss;
	cxs->snd_nxt = cxs->iss + 1;
	cxs->snd_max = cxs->iss + 1;
	xtcp_set_state(child, TCP_SYN_RECV);
	return child;
}

/*
 * @child (locked, hashed) joins listener @sk as one about to be
 * established; sk_alloc's reference belongs to the queue from now on.
 */
static void adopt_child(struct sock *sk, struct sock *child)
{
	struct xtcp_sock *cxs = xtcp_sk(child);

	sock_hold(sk);
	cxs->parent = sk;
	spin_lock_bh(&xtcp_sk(sk)->queue_lock);
	cxs->queue_state = XTCP_Q_SYN;
	spin_unlock_bh(&xtcp_sk(sk)->queue_lock);
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_PASSIVE_OPENS);
}

/*
 * @child (locked, adopted) takes the handshake's last ACK before anyone
 * else can see it unlocked, and is unlocked. Not established by it (the
 * listener closed meanwhile, or the ACK was refused), it goes. As any
 * queued segment, the ACK keeps no route or device past softirq.
 */
static void child_takes_ack(struct sock *child, struct sk_buff *skb,
			    const struct xtcp_seg_hdr *th, bool *consumed)
	__releases(&child->sk_lock.slock)
{
	struct xtcp_sock *cxs = xtcp_sk(child);

	skb_dst_drop(skb);
	skb->dev = NULL;
	/* The SYN and this ACK, as native counts a child's first two. */
	cxs->segs_in = 2;
	if (skb->len > th->hdr_len) {
		cxs->data_segs_in = 1;
		cxs->data_rcvd_at = jiffies;
	}
	sock_hold(child);
	xtcp_child_rcv(child, skb, th, consumed);
	if (child->sk_state == TCP_SYN_RECV)
		xtcp_child_drop(child);
	bh_unlock_sock(child);
	sock_put(child);
}

/* How long after its last cookie SYN-ACK a listener checks ACKs for one. */
#define XTCP_COOKIE_ACK_WINDOW	(((XTCP_COOKIE_MAX_AGE + 1) << \
				  XTCP_COOKIE_SLOT_SHIFT) * HZ)

/*
 * Answer the SYN @th with a SYN cookie (listener's socket lock held): the
 * peer's MSS rounded down to the table's, and with timestamps, its window
 * scale and SACK in our timestamp (lib/syncookie.h).
 */
static void send_cookie(struct sock *sk, struct sk_buff *skb,
			const struct xtcp_seg_hdr *th)
{
	struct xtcp_net *xn = xtcp_net(sock_net(sk));
	struct xtcp_syn_agreed a;
	u8 code, mss_index;

	xtcp_syn_agree(&a, &th->opts, READ_ONCE(xn->window_scaling),
		       READ_ONCE(xn->sack), READ_ONCE(xn->timestamps));
	code = xtcp_cookie_opt_code(a.ts_ok, a.sack_ok, a.wscale_ok,
				    a.snd_wscale);
	mss_index = xtcp_cookie_mss_index(a.mss);
	xtcp_send_cookie_synack(sk, skb, th,
				xtcp_cookie_make(ip_hdr(skb), th, mss_index,
						 code), code);
	xtcp_sk(sk)->cookie_sent_at = jiffies ?: 1;
}

/*
 * The SYN queue is full: a cookie when the syncookies sysctl allows, else
 * the SYN is dropped. The log says so once
 * per listener, as native TCP's "Possible SYN flooding".
 */
static bool syn_flood_wants_cookie(struct sock *sk, int syncookies)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_stat_inc(sock_net(sk), syncookies ?
		      XTCP_MIB_REQQ_FULL_DO_COOKIES : XTCP_MIB_REQQ_FULL_DROP);
	if (syncookies != 2 && !xs->synflood_warned) {
		xs->synflood_warned = true;
		net_info_ratelimited("xtcp: possible SYN flooding on port %pI4:%u. %s.\n",
				     &inet_sk(sk)->inet_rcv_saddr,
				     inet_sk(sk)->inet_num,
				     syncookies ? "Sending cookies" :
						  "Dropping request");
	}
	return syncookies != 0;
}

/* A SYN reached a listener (listener's socket lock held). */
void xtcp_conn_request(struct sock *sk, struct sk_buff *skb,
		       const struct xtcp_seg_hdr *th)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	int syncookies = READ_ONCE(xtcp_net(net)->syncookies);
	const struct iphdr *iph = ip_hdr(skb);
	bool want_cookie = false;
	u32 iss;

	/*
	 * Full past the backlog, as native's inet_csk_reqsk_queue_is_full;
	 * a SYN that ended a TIME_WAIT entry is taken all the same.
	 */
	if (!XTCP_SKB_CB(skb)->tw_isn &&
	    (syncookies == 2 || READ_ONCE(xs->syn_queue_len) >
	     READ_ONCE(sk->sk_max_ack_backlog))) {
		want_cookie = syn_flood_wants_cookie(sk, syncookies);
		if (!want_cookie)
			goto drop;
	}
	/* Native TCP drops the SYN while the accept queue is full. */
	if (xtcp_accept_queue_full(sk)) {
		xtcp_stat_inc(net, XTCP_MIB_LISTEN_OVERFLOWS);
		goto drop;
	}
	if (want_cookie) {
		send_cookie(sk, skb, th);
		return;
	}

	iss = XTCP_SKB_CB(skb)->tw_isn ?:
	      xtcp_new_isn(iph->daddr, iph->saddr, htons(th->dport),
			   htons(th->sport));
	/* Fails without memory, or when a twin SYN's entry got there first. */
	if (!xtcp_req_start(sk, skb, th, iss))
		return;

drop:
	xtcp_stat_inc(net, XTCP_MIB_LISTEN_DROPS);
}

/*
 * The options cookie @co kept, as this namespace's sysctls now take them
 * (false: refused), as native's cookie_timestamp_decode judges: our
 * SYN-ACK offered them and the peer now uses them, so a cookie whose SACK
 * or window scaling was turned off since is refused rather than the
 * connection made without it. With timestamps turned off, native's
 * option parser no longer sees the ACK's timestamp, which is where the
 * options were kept: the cookie then stands for a SYN without options
 * and the connection is made without any (@co cleared), window scaling
 * included.
 */
static bool cookie_opts_now(struct xtcp_net *xn, struct xtcp_cookie_opts *co)
{
	if (co->ts && !READ_ONCE(xn->timestamps)) {
		memset(co, 0, sizeof(*co));
		return true;
	}
	return (!co->sack || READ_ONCE(xn->sack)) &&
	       (!co->has_wscale || READ_ONCE(xn->window_scaling));
}

/*
 * An ACK reached a listener (listener's socket lock held): is it the end
 * of a handshake whose SYN got a cookie? Checked only while cookies are on
 * and the listener sent one lately, as native TCP does. 0 when a child
 * was made and took the ACK as any child in SYN_RECV does (*@consumed if
 * it kept the skb); -ENOENT when it is no cookie, or one whose options
 * this namespace turned off since (the caller resets);
 * -EAGAIN when it is dropped (accept queue full).
 */
int xtcp_cookie_ack(struct sock *sk, struct sk_buff *skb,
		    const struct xtcp_seg_hdr *th, bool *consumed)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	struct xtcp_seg_hdr syn = *th;
	struct xtcp_cookie_opts co;
	struct sock *child;
	u8 mss_index, code;

	if (!READ_ONCE(xtcp_net(net)->syncookies) || !xs->cookie_sent_at ||
	    time_after(jiffies, xs->cookie_sent_at + XTCP_COOKIE_ACK_WINDOW) ||
	    (th->flags & (XTCP_FLAG_SYN | XTCP_FLAG_RST)))
		return -ENOENT;
	if (!xtcp_cookie_check(ip_hdr(skb), th, &mss_index, &code) ||
	    !xtcp_cookie_opt_decode(code, &co)) {
		xtcp_stat_inc(net, XTCP_MIB_SYNCOOKIES_FAILED);
		return -ENOENT;
	}
	xtcp_stat_inc(net, XTCP_MIB_SYNCOOKIES_RECV);
	if (!cookie_opts_now(xtcp_net(net), &co))
		return -ENOENT;
	if (xtcp_accept_queue_full(sk)) {
		xtcp_stat_inc(net, XTCP_MIB_LISTEN_OVERFLOWS);
		goto drop;
	}

	/* The SYN as the cookie remembers it. */
	syn.seq = th->seq - 1;
	syn.flags = XTCP_FLAG_SYN;
	memset(&syn.opts, 0, sizeof(syn.opts));
	syn.opts.has_mss = true;
	syn.opts.mss = xtcp_cookie_mss(mss_index);
	syn.opts.has_wscale = co.has_wscale;
	syn.opts.wscale = co.wscale;
	syn.opts.sack_permitted = co.sack;
	syn.opts.has_timestamp = co.ts;
	syn.opts.tsval = th->opts.tsval;
	child = new_child(sk, skb, &syn, th->ack - 1);
	if (!child)
		goto drop;
	/* What the cookie SYN-ACK offered (its TSval offset is ours). */
	xtcp_sk(child)->rcv_wnd = xtcp_syn_window(child);
	bh_lock_sock_nested(child);
	if (xtcp_hash_established(child)) {
		xtcp_child_drop(child);
		bh_unlock_sock(child);
		sock_put(child);
		goto drop;
	}
	adopt_child(sk, child);
	/* No SYN-ACK timer would bring it back if its ACK is refused. */
	child_takes_ack(child, skb, th, consumed);
	return 0;

drop:
	xtcp_stat_inc(net, XTCP_MIB_LISTEN_DROPS);
	return -EAGAIN;
}

/*
 * The child of half-open @req, from the handshake's last ACK @skb: the SYN
 * as @req remembers it, and what @req's SYN-ACK offered.
 */
static struct sock *child_from_req(struct request_sock *req,
				   struct sk_buff *skb,
				   const struct xtcp_seg_hdr *th)
{
	const struct inet_request_sock *ireq = inet_rsk(req);
	const struct xtcp_request_sock *xr = xtcp_rsk(req);
	struct xtcp_seg_hdr syn = *th;
	struct xtcp_sock *cxs;
	struct sock *child;

	syn.seq = xr->irs;
	syn.flags = XTCP_FLAG_SYN;
	syn.window = xr->snd_wnd;
	memset(&syn.opts, 0, sizeof(syn.opts));
	syn.opts.has_mss = true;
	syn.opts.mss = xr->peer_mss;
	syn.opts.has_wscale = ireq->wscale_ok;
	syn.opts.wscale = ireq->snd_wscale;
	syn.opts.sack_permitted = ireq->sack_ok;
	syn.opts.has_timestamp = ireq->tstamp_ok;
	syn.opts.tsval = READ_ONCE(req->ts_recent);
	child = new_child(req->rsk_listener, skb, &syn, xr->iss);
	if (!child)
		return NULL;
	cxs = xtcp_sk(child);
	cxs->rcv_wnd = req->rsk_rcv_wnd;
	if (ireq->wscale_ok)
		cxs->rcv_wscale = ireq->rcv_wscale;
	cxs->total_retrans = req->num_retrans;
	/* The handshake's RTT; Karn: not when the SYN-ACK was resent. */
	cxs->rtt_pending = !req->num_retrans;
	cxs->rtt_seq = xr->iss + 1;
	cxs->rtt_start_us = xr->synack_sent_us;
	return child;
}

/*
 * The ACK @th completes half-open @req's handshake (softirq, no lock held;
 * the caller holds @req): its child takes @req's place and the ACK. With
 * the accept queue full the ACK is dropped and @req stays, its SYN-ACK
 * timer to try again, or with abort_on_overflow both are reset, as
 * native's tcp_check_req. *@consumed if the child kept the skb. True when
 * another CPU's child took @req's place first: the caller looks again.
 */
bool xtcp_req_complete(struct request_sock *req, struct sk_buff *skb,
		       const struct xtcp_seg_hdr *th, bool *consumed)
{
	struct sock *sk = req->rsk_listener;
	struct net *net = sock_net(sk);
	struct sock *child;

	if (xtcp_accept_queue_full(sk)) {
		xtcp_stat_inc(net, XTCP_MIB_LISTEN_OVERFLOWS);
		xtcp_stat_inc(net, XTCP_MIB_LISTEN_DROPS);
		if (READ_ONCE(xtcp_net(net)->abort_on_overflow)) {
			xtcp_send_reset_reply(net, skb, th);
			xtcp_req_drop(req);
		}
		return false;
	}
	child = child_from_req(req, skb, th);
	if (!child) {
		xtcp_stat_inc(net, XTCP_MIB_LISTEN_DROPS);
		return false;
	}
	bh_lock_sock(child);
	if (!xtcp_hash_req_child(req, child)) {
		xtcp_child_drop(child);
		bh_unlock_sock(child);
		sock_put(child);
		return true;
	}
	xtcp_req_forget(req);
	adopt_child(sk, child);
	child_takes_ack(child, skb, th, consumed);
	return false;
}
