// SPDX-License-Identifier: GPL-2.0
/*
 * Connection life cycle: socket setup, active open (connect), shutdown and
 * close, reset, TIME_WAIT and the final teardown. The RFC 9293 state
 * transitions driven by arriving segments are in input.c.
 */
#include <linux/bpf-cgroup.h>
#include <linux/net.h>
#include <linux/random.h>
#include <linux/siphash.h>
#include <linux/tcp.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/route.h>

#include "xtcp.h"

void xtcp_write_space(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	struct socket_wq *wq;

	if (!sock || !sk_stream_is_writeable(sk))
		return;
	clear_bit(SOCK_NOSPACE, &sock->flags);
	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLOUT | EPOLLWRNORM |
					   EPOLLWRBAND);
	if (wq && wq->fasync_list && !(sk->sk_shutdown & SEND_SHUTDOWN))
		sock_wake_async(wq, SOCK_WAKE_SPACE, POLL_OUT);
	rcu_read_unlock();
}

/* Sequence, timing and congestion state of a connection not yet opened. */
void xtcp_init_sock_state(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->iss = 0;
	xs->snd_una = 0;
	xs->snd_nxt = 0;
	xs->snd_max = 0;
	xs->snd_sml = 0;
	xs->write_seq = 0;
	xs->snd_wnd = 0;
	xs->max_window = 0;
	xs->rcv_nxt = 0;
	xs->rcv_wnd = 0;
	xs->rcv_wup = 0;
	xs->copied_seq = 0;
	xs->rcv_wnd_held = 0;
	xs->peer_mss = 0;
	xs->fin_sent = 0;
	xs->ack_now = 0;
	xs->ack_pushed = 0;
	xs->ack_pushed2 = 0;
	xs->pingpong = 0;
	xs->backoff = 0;
	xs->retries = 0;
	xs->probes = 0;
	xs->probing_since = 0;
	xs->rtt_pending = false;
	xs->rtx_series_start = jiffies;
	xs->ka_probes = 0;
	xs->rcv_rtt_us = 0;
	xs->rcv_rtt_start_us = 0;
	xs->rcvq_start_us = 0;
	xs->rtx_mode = XTCP_RTX_NONE;
	xtcp_rtt_init(&xs->rtt, XTCP_RTO_MIN_US, XTCP_RTO_MAX_US);
	xtcp_cong_init(sk);
	xs->bytes_sent = 0;
	xs->bytes_retrans = 0;
	xs->bytes_acked = 0;
	xs->bytes_received = 0;
	xs->segs_out = 0;
	xs->segs_in = 0;
	xs->data_segs_out = 0;
	xs->data_segs_in = 0;
	xs->total_retrans = 0;
	xs->rcv_ooopack = 0;
	xs->min_rtt_us = 0;
	xs->data_sent_at = jiffies;
	xs->data_rcvd_at = jiffies;
	/*
	 * Nothing taken yet: a send now answers nothing, so it does not make
	 * the connection interactive (native's ato is 0 until data comes).
	 */
	xs->data_queued_at = jiffies - msecs_to_jiffies(XTCP_DELACK_MS);
	xs->ack_rcvd_at = jiffies;
	xs->mss_cache = XTCP_MSS_DEFAULT;
	xs->rcv_mss = XTCP_MSS_DEFAULT;
	xs->quickacks = XTCP_QUICKACKS;
	xs->sack_ok = 0;
	xs->ts_ok = 0;
	xs->ts_recent = 0;
	xs->ts_recent_stamp = 0;
	xs->last_invalid_reply = 0;
	xs->num_sack_runs = 0;
	xs->dsack_pending = false;
	xs->dsack_dups = 0;
	xtcp_sack_reset(xs);
	xtcp_rack_init(xs);
}

/* Once per socket: new ones and listener children. */
void xtcp_init_sock(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	skb_queue_head_init(&xs->ooo_queue);
	xtcp_rtx_queue_init(sk);
	spin_lock_init(&xs->queue_lock);
	INIT_LIST_HEAD(&xs->syn_queue);
	INIT_LIST_HEAD(&xs->accept_queue);
	INIT_LIST_HEAD(&xs->queue_node);
	xtcp_init_timers(sk);
	xs->cong_ops = xtcp_cong_default(sock_net(sk));
	xs->keepidle_s = 0;
	xs->keepintvl_s = 0;
	xs->keepcnt = 0;
	xs->user_timeout_ms = 0;
	xtcp_init_sock_state(sk);
	sk->sk_sndbuf = READ_ONCE(sysctl_xtcp_wmem[1]);
	sk->sk_rcvbuf = READ_ONCE(sysctl_xtcp_rmem[1]);
	sk->sk_write_space = xtcp_write_space;
	sk->sk_destruct = xtcp_sock_destruct;
	sk_sockets_allocated_inc(sk);
	xtcp_tsq_init(sk);
	sk->sk_state = TCP_CLOSE;
}

void xtcp_set_state(struct sock *sk, int state)
{
	/*
	 * An orphan in FIN_WAIT2 or CLOSE is no longer one: it has nothing
	 * left to send (native's turns into a timewait socket in FIN_WAIT2).
	 */
	if (state == TCP_FIN_WAIT2 || state == TCP_CLOSE)
		xtcp_orphan_uncount(sk);
	if (state == TCP_CLOSE)
		xtcp_fin_wait2_orphan_release(sk);
	/* Release: lockless readers (poll) see the state after its effects. */
	smp_store_release(&sk->sk_state, state);
}

/*
 * Orphans: connections whose user closed them and that still have
 * something to send (FIN_WAIT1, CLOSING, LAST_ACK). Counted per
 * namespace, so that one container's orphans do not get another's
 * reset, and on the host, against the initial namespace's limit, so that
 * many namespaces cannot pin more than it allows. The socket lock guards
 * the socket's flag.
 */
static atomic_t orphans_on_host = ATOMIC_INIT(0);

static void orphan_count(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->orphan_counted)
		return;
	xs->orphan_counted = true;
	atomic_inc(&xtcp_net(sock_net(sk))->orphan_count);
	atomic_inc(&orphans_on_host);
}

void xtcp_orphan_uncount(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->orphan_counted)
		return;
	xs->orphan_counted = false;
	atomic_dec(&xtcp_net(sock_net(sk))->orphan_count);
	atomic_dec(&orphans_on_host);
}

/*
 * More orphans than net.xtcp.max_orphans allows, the namespace's or the
 * host's (the initial namespace's, over all): an orphan that asks for
 * more time is reset, as native's tcp_too_many_orphans.
 */
bool xtcp_too_many_orphans(const struct sock *sk)
{
	struct xtcp_net *xn = xtcp_net(sock_net(sk));

	if (atomic_read(&xn->orphan_count) <= READ_ONCE(xn->max_orphans) &&
	    atomic_read(&orphans_on_host) <=
	    READ_ONCE(xtcp_net(&init_net)->max_orphans))
		return false;
	net_info_ratelimited("xtcp: too many orphaned sockets\n");
	return true;
}

/* Reset @sk (an orphan, lock held) for want of room, as tcp_check_oom. */
void xtcp_abort_orphan(struct sock *sk)
{
	xtcp_send_active_reset(sk, GFP_ATOMIC);
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_ABORT_ON_MEMORY);
	xtcp_done(sk);
}

/*
 * RFC 6528: ISN = M + F(4-tuple, secret key), M a clock ticking every 64 ns,
 * F a keyed hash so that off-path attackers cannot predict it.
 */
u32 xtcp_new_isn(__be32 saddr, __be32 daddr, __be16 sport, __be16 dport)
{
	static siphash_aligned_key_t isn_key;
	u32 hash;

	/* Debugging: every connection's sequence numbers wrap early on. */
	if (READ_ONCE(xtcp_isn_wrap_after))
		return 0u - READ_ONCE(xtcp_isn_wrap_after);
	net_get_random_once(&isn_key, sizeof(isn_key));
	hash = siphash_3u32((__force u32)saddr, (__force u32)daddr,
			    ((u32)(__force u16)sport << 16) | (__force u16)dport,
			    &isn_key);
	return hash + (u32)(ktime_get_real_ns() >> 6);
}

/* Bytes of IP options (IP_OPTIONS) in every IPv4 header the socket sends. */
static u32 ip_options_len(const struct sock *sk)
{
	const struct ip_options_rcu *opt;
	u32 len = 0;

	rcu_read_lock();
	opt = rcu_dereference(inet_sk(sk)->inet_opt);
	if (opt)
		len = opt->opt.optlen;
	rcu_read_unlock();
	return len;
}

/*
 * Send MSS: what the path carries (MTU less IPv4 and TCP headers), what the
 * peer accepts, and what the user asked for with TCP_MAXSEG; then less the
 * IP options, floored at XTCP_MIN_SND_MSS, then less the timestamp option
 * every segment carries once agreed: in native's order (__tcp_mtu_to_mss),
 * so that no segment, options included, exceeds the peer's MSS (RFC 9293
 * 3.7.1, RFC 6691).
 */
void xtcp_sync_mss(struct sock *sk, u32 mtu)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = mtu - sizeof(struct iphdr) - XTCP_HDR_LEN;
	u32 ip_opts;

	if (xs->peer_mss && xs->peer_mss < mss)
		mss = xs->peer_mss;
	if (xs->user_mss && xs->user_mss < mss)
		mss = xs->user_mss;
	ip_opts = ip_options_len(sk);
	mss = mss > XTCP_MIN_SND_MSS + ip_opts ? mss - ip_opts :
						 XTCP_MIN_SND_MSS;
	if (xs->ts_ok)
		mss -= XTCP_TS_OPT_LEN;
	xs->mss_cache = mss;
	xs->pmtu_cookie = mtu;
}

/*
 * The route's MTU moved since the MSS was computed (a path MTU learned,
 * here or by a native connection to the same host, or one that expired):
 * the MSS follows, as native's tcp_current_mss before each send.
 */
void xtcp_mss_follow_route(struct sock *sk)
{
	const struct dst_entry *dst = __sk_dst_get(sk);

	if (dst && dst_mtu(dst) != xtcp_sk(sk)->pmtu_cookie)
		xtcp_sync_mss(sk, dst_mtu(dst));
}

/*
 * The window shift we offer, as native's tcp_select_initial_window (6.1):
 * the bits above 15 of the largest window the socket may offer: half its
 * buffer when its user fixed it (SO_RCVBUF, SO_RCVBUFFORCE beyond the
 * limits too), else the most of that and the protocol's and the host's
 * limits. Native TCP's shift for the same settings (7 at the defaults),
 * so that a peer or a script that knows native sees no difference. A
 * listener's is its children's (they take its buffer sizes).
 */
u8 xtcp_choose_rcv_wscale(const struct sock *sk)
{
	u32 space = READ_ONCE(sk->sk_rcvbuf) / 2;

	if (!(sk->sk_userlocks & SOCK_RCVBUF_LOCK))
		space = max3(space, (u32)READ_ONCE(sysctl_xtcp_rmem[2]),
			     READ_ONCE(sysctl_rmem_max));
	return clamp_t(int, ilog2(max_t(u32, space, 1)) - 15, 0,
		       XTCP_MAX_WSCALE);
}

/*
 * The route's rto_min metric ("ip route ... rto_min T", which iproute2 always
 * locks) is the RTO floor, as native's tcp_rto_min(); else Linux's 200 ms.
 * Read when the connection opens and again at each RTT sample
 * (xtcp_rtt_sample_sk), on the route the socket holds then.
 */
static u32 route_rto_min_us(const struct dst_entry *dst)
{
	if (!dst_metric_locked(dst, RTAX_RTO_MIN))
		return XTCP_RTO_MIN_US;
	return min_t(u64, (u64)dst_metric(dst, RTAX_RTO_MIN) * USEC_PER_MSEC,
		     XTCP_RTO_MAX_US);
}

/*
 * An RTT sample of @sk's connection, after the RTO floor of the route it
 * holds now: a route changed since the connection opened (ip_queue_xmit
 * takes the new one on the next send) sets the floor from this sample on,
 * as native reads tcp_rto_min() at each RTO update. Socket lock held.
 */
void xtcp_rtt_sample_sk(struct sock *sk, u32 rtt_us)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	const struct dst_entry *dst = __sk_dst_get(sk);

	if (dst) {
		u32 floor_us = route_rto_min_us(dst);

		if (floor_us != xs->rtt.min_rto_us)
			xtcp_rtt_set_min(&xs->rtt, floor_us);
	}
	xtcp_rtt_sample(&xs->rtt, rtt_us);
}

/*
 * Our TSval offset towards a peer (RFC 7323 5.4), as native's
 * secure_tcp_ts_off: a keyed hash of the two addresses, random to anyone
 * else but the same for every connection between them, so that the SYN of
 * the next connection carries a newer timestamp than the last one, which
 * a TIME_WAIT entry at the peer takes as proof that it is new (RFC 6191).
 */
u32 xtcp_ts_offset(__be32 saddr, __be32 daddr)
{
	static siphash_aligned_key_t ts_key;

	net_get_random_once(&ts_key, sizeof(ts_key));
	return (u32)siphash_2u32((__force u32)saddr, (__force u32)daddr,
				 &ts_key);
}

/* Sequence state and RTO floor of a connection about to send SYN or SYN-ACK. */
void xtcp_init_connection(struct sock *sk, u32 iss,
			  const struct dst_entry *dst)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mtu = dst_mtu(dst);

	xs->iss = iss;
	xs->snd_una = iss;
	xs->snd_nxt = iss;
	xs->snd_max = iss;
	xs->snd_sml = iss;
	xs->write_seq = iss + 1;
	xs->adv_mss = xtcp_adv_mss(mtu, xs->user_mss);
	xs->rcv_wscale = xtcp_choose_rcv_wscale(sk);
	xs->snd_wscale = 0;
	/* Offered on our SYN; the peer's decide (xtcp_take_syn_options). */
	xs->wscale_ok = !!READ_ONCE(xtcp_net(sock_net(sk))->window_scaling);
	if (!xs->wscale_ok)
		xs->rcv_wscale = 0;
	xs->sack_ok = !!READ_ONCE(xtcp_net(sock_net(sk))->sack);
	xs->ts_ok = !!READ_ONCE(xtcp_net(sock_net(sk))->timestamps);
	xs->ts_offset = xtcp_ts_offset(inet_sk(sk)->inet_saddr,
				       inet_sk(sk)->inet_daddr);
	xs->rcv_wnd = 0;
	xs->quickacks = XTCP_QUICKACKS;
	xtcp_rtt_set_min(&xs->rtt, route_rto_min_us(dst));
	xtcp_sync_mss(sk, mtu);
}

/*
 * What a handshake agrees on from the peer's SYN options @peer and what
 * our side offers (@wscale, @sack, @ts): an option only when both sides
 * have it (RFC 7323 2.2 and 3.2, RFC 2018 2), the peer's MSS or RFC 9293's
 * default. The one place that decides, for sockets and request socks.
 */
void xtcp_syn_agree(struct xtcp_syn_agreed *a, const struct xtcp_opts *peer,
		    bool wscale, bool sack, bool ts)
{
	a->mss = peer->has_mss ? peer->mss : XTCP_MSS_DEFAULT;
	a->wscale_ok = wscale && peer->has_wscale;
	a->snd_wscale = a->wscale_ok ? peer->wscale : 0;
	a->sack_ok = sack && peer->sack_permitted;
	a->ts_ok = ts && peer->has_timestamp;
}

/*
 * @sk takes the SYN options of @th against those it offered (its
 * wscale_ok, sack_ok and ts_ok), and its MSS for @mtu. @agreed: a passive
 * open's child, whose @th holds what its request or cookie agreed and
 * whose SYN-ACK offered: that stands whatever the sysctls say now, as
 * native's child takes its request's options; an active opener takes
 * nothing it did not offer (RFC 7323 2.2).
 */
void xtcp_take_syn_options(struct sock *sk, const struct xtcp_seg_hdr *th,
			   u32 mtu, bool agreed)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_syn_agreed a;

	xtcp_syn_agree(&a, &th->opts, agreed || xs->wscale_ok,
		       agreed || xs->sack_ok, agreed || xs->ts_ok);
	xs->peer_mss = a.mss;
	xs->sack_ok = a.sack_ok;
	xtcp_rack_start(sk);
	xs->ts_ok = a.ts_ok;
	if (xs->ts_ok) {
		xs->ts_recent = th->opts.tsval;
		xs->ts_recent_stamp = (u32)ktime_get_seconds() ?: 1;
	}
	xs->wscale_ok = a.wscale_ok;
	xs->snd_wscale = a.snd_wscale;
	if (!xs->wscale_ok)
		xs->rcv_wscale = 0;
	/* The options in use decide the room left for data. */
	xtcp_sync_mss(sk, mtu);
}

/* @usin: the caller's address, its length checked (xtcp_copy_sockaddr). */
static int do_connect(struct sock *sk, const struct sockaddr_in *usin)
{
	struct inet_sock *inet = inet_sk(sk);
	struct flowi4 *fl4 = &inet->cork.fl.u.ip4;
	bool auto_bound;
	struct rtable *rt;
	__be32 daddr;
	u32 isn;
	int err;

	if (usin->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	daddr = usin->sin_addr.s_addr;

	rt = ip_route_connect(fl4, daddr, inet->inet_saddr,
			      sk->sk_bound_dev_if, xtcp_wire_proto(sk),
			      inet->inet_sport, usin->sin_port, sk);
	if (IS_ERR(rt))
		return PTR_ERR(rt) == -ENETUNREACH ? -ENETUNREACH :
		       PTR_ERR(rt);
	if (rt->rt_flags & (RTCF_MULTICAST | RTCF_BROADCAST)) {
		ip_rt_put(rt);
		return -ENETUNREACH;
	}
	if (!inet->inet_saddr)
		inet->inet_saddr = fl4->saddr;
	inet->inet_rcv_saddr = inet->inet_saddr;
	inet->inet_daddr = daddr;
	inet->inet_dport = usin->sin_port;

	auto_bound = !inet->inet_num;
	err = xtcp_hash_connect(sk, &isn);
	if (err) {
		auto_bound = false;
		goto failure;
	}
	rt = ip_route_newports(fl4, rt, 0, 0, inet->inet_sport,
			       inet->inet_dport, sk);
	if (IS_ERR(rt)) {
		err = PTR_ERR(rt);
		rt = NULL;
		xtcp_unhash_established(sk);
		goto failure;
	}
	xtcp_setup_caps(sk, &rt->dst);
	rt = NULL;

	/* The ISN debugging parameter wins over a TIME_WAIT's. */
	if (!isn || READ_ONCE(xtcp_isn_wrap_after))
		isn = xtcp_new_isn(inet->inet_saddr, daddr, inet->inet_sport,
				   inet->inet_dport);
	xtcp_init_connection(sk, isn, __sk_dst_get(sk));
	/* A disconnect's error is for the calls that saw it, not this. */
	WRITE_ONCE(sk->sk_err, 0);
	xtcp_set_state(sk, TCP_SYN_SENT);
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_ACTIVE_OPENS);
	xtcp_send_syn(sk);
	return 0;

failure:
	if (rt)
		ip_rt_put(rt);
	sk_dst_reset(sk);
	if (auto_bound)
		xtcp_unbind_port(sk);
	inet->inet_dport = 0;
	inet->inet_daddr = 0;
	if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK)) {
		inet->inet_saddr = 0;
		inet->inet_rcv_saddr = 0;
	}
	return err;
}

/*
 * The cgroup's connect4 programs may refuse the connection or rewrite its
 * destination, before anything else, as tcp_v4_pre_connect runs them.
 */
static int pre_connect(struct sock *sk, struct sockaddr_in *sin)
{
	return xtcp_cgroup_connect4(sk, sin);
}

/* Called with the socket locked; returns the time left. */
static long wait_for_connect(struct sock *sk, long timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	add_wait_queue(sk_sleep(sk), &wait);
	while ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		release_sock(sk);
		timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
		lock_sock(sk);
		if (signal_pending(current) || !timeo)
			break;
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return timeo;
}

/* connect(AF_UNSPEC): drop the connection, back to a fresh CLOSE. */
static int xtcp_disconnect(struct sock *sk)
{
	int old_state = sk->sk_state;

	if (old_state == TCP_LISTEN) {
		xtcp_listen_stop(sk);
	} else if ((1 << old_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				       TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 |
				       TCPF_CLOSING | TCPF_LAST_ACK |
				       TCPF_SYN_RECV)) {
		xtcp_send_active_reset(sk, GFP_KERNEL);
		/* What a send asleep on it meanwhile reports, as native. */
		WRITE_ONCE(sk->sk_err, ECONNRESET);
	} else if (old_state == TCP_SYN_SENT) {
		WRITE_ONCE(sk->sk_err, ECONNRESET);
	}
	xtcp_done(sk);
	xtcp_destroy_sock(sk);
	if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK)) {
		inet_sk(sk)->inet_saddr = 0;
		inet_sk(sk)->inet_rcv_saddr = 0;
	}
	inet_sk(sk)->inet_dport = 0;
	inet_sk(sk)->inet_daddr = 0;
	sk->sk_shutdown = 0;
	sock_reset_flag(sk, SOCK_DONE);
	xtcp_init_sock_state(sk);
	return 0;
}

int xtcp_connect(struct socket *sock, struct sockaddr *uaddr, int addr_len,
		 int flags)
{
	struct sock *sk = sock->sk;
	struct sockaddr_in sin;
	long timeo;
	int err;

	if (addr_len < (int)sizeof(uaddr->sa_family))
		return -EINVAL;

	lock_sock(sk);
	if (uaddr->sa_family == AF_UNSPEC) {
		/* Fails the calls asleep on the socket with EPIPE. */
		sk->sk_disconnects++;
		err = xtcp_disconnect(sk);
		sock->state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
		goto out;
	}

	switch (sock->state) {
	default:
		err = -EINVAL;
		goto out;
	case SS_CONNECTED:
		err = -EISCONN;
		goto out;
	case SS_CONNECTING:
		err = -EALREADY;
		break;
	case SS_UNCONNECTED:
		err = -EISCONN;
		if (sk->sk_state != TCP_CLOSE)
			goto out;
		err = -EINVAL;
		if (addr_len < (int)sizeof(sin))
			goto out;
		xtcp_copy_sockaddr(&sin, uaddr);
		err = pre_connect(sk, &sin);
		if (err)
			goto out;
		err = do_connect(sk, &sin);
		if (err < 0)
			goto out;
		sock->state = SS_CONNECTING;
		err = -EINPROGRESS;
		break;
	}

	timeo = sock_sndtimeo(sk, flags & O_NONBLOCK);
	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		int disconnects = sk->sk_disconnects;

		if (!timeo)
			goto out;
		timeo = wait_for_connect(sk, timeo);
		/* In native's order: a timeout, a signal, a disconnect. */
		if (!timeo)
			goto out;
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			goto out;
		}
		if (disconnects != sk->sk_disconnects) {
			/* Another thread's connect(AF_UNSPEC) ended it. */
			err = -EPIPE;
			goto out;
		}
		if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV))
			goto out;
	}

	if (sk->sk_state == TCP_CLOSE) {
		/*
		 * The attempt failed: report it once and start afresh, as
		 * native's inet_stream_connect disconnects, so that the next
		 * connect() inherits no shutdown, backoff or port.
		 */
		err = sock_error(sk) ? : -ECONNABORTED;
		sk->sk_disconnects++;
		xtcp_disconnect(sk);
		sock->state = SS_UNCONNECTED;
		goto out;
	}
	sock->state = SS_CONNECTED;
	err = 0;
out:
	release_sock(sk);
	return err;
}

/* RFC 9293 section 3.10.4: the state a close or shutdown(SHUT_WR) moves to. */
static bool close_state(struct sock *sk)
{
	switch (sk->sk_state) {
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
		xtcp_set_state(sk, TCP_FIN_WAIT1);
		return true;
	case TCP_CLOSE_WAIT:
		xtcp_set_state(sk, TCP_LAST_ACK);
		return true;
	default:
		return false;
	}
}

int xtcp_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	int err = 0;

	/* SHUT_RD=0 .. SHUT_RDWR=2 become RCV_SHUTDOWN|SEND_SHUTDOWN bits. */
	how++;
	if ((how & ~SHUTDOWN_MASK) || !how)
		return -EINVAL;

	lock_sock(sk);
	if (sock->state == SS_CONNECTING) {
		if ((1 << sk->sk_state) &
		    (TCPF_SYN_SENT | TCPF_SYN_RECV | TCPF_CLOSE))
			sock->state = SS_DISCONNECTING;
		else
			sock->state = SS_CONNECTED;
	}

	switch (sk->sk_state) {
	case TCP_CLOSE:
		err = -ENOTCONN;
		/* Native still records the shutdown bits here. */
		sk->sk_shutdown |= how;
		break;
	case TCP_LISTEN:
		if (!(how & RCV_SHUTDOWN)) {
			err = -ENOTCONN;
			break;
		}
		fallthrough;
	case TCP_SYN_SENT:
		sk->sk_shutdown |= how;
		err = xtcp_disconnect(sk);
		sock->state = SS_UNCONNECTED;
		break;
	default:
		sk->sk_shutdown |= how;
		if ((how & SEND_SHUTDOWN) && close_state(sk))
			xtcp_queue_fin(sk);
		break;
	}
	sk->sk_state_change(sk);
	release_sock(sk);
	return err;
}

/* Socket lock held. Free everything still queued on a closed socket. */
void xtcp_destroy_sock(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_clear_timers(sk);
	xtcp_purge_write_queue(sk);
	skb_queue_purge(&sk->sk_receive_queue);
	skb_queue_purge(&xs->ooo_queue);
	xtcp_unhash_established(sk);
	xtcp_unhash_listener(sk);
	if (sock_flag(sk, SOCK_DEAD) ||
	    !(sk->sk_userlocks & SOCK_BINDPORT_LOCK))
		xtcp_unbind_port(sk);
}

/*
 * The connection is over (socket lock held, any context): CLOSE, out of
 * the tables, timers stopped. An orphan is torn down here; a socket a user
 * still holds is woken and torn down by close().
 */
void xtcp_done(struct sock *sk)
{
	xtcp_set_state(sk, TCP_CLOSE);
	xtcp_clear_timers(sk);
	xtcp_unhash_established(sk);
	xtcp_unhash_listener(sk);
	sk->sk_shutdown = SHUTDOWN_MASK;
	if (sock_flag(sk, SOCK_DEAD))
		xtcp_destroy_sock(sk);
	else
		sk->sk_state_change(sk);
}

/* A RST was accepted (socket lock held): report it and end. */
void xtcp_reset(struct sock *sk)
{
	int err;

	switch (sk->sk_state) {
	case TCP_SYN_SENT:
		err = ECONNREFUSED;
		break;
	case TCP_CLOSE_WAIT:
		err = EPIPE;
		break;
	case TCP_CLOSE:
		return;
	default:
		err = ECONNRESET;
		break;
	}
	xtcp_done_with_error(sk, err);
}

/*
 * End @sk with @err (socket lock or bh_lock_sock held): a RST, a timeout,
 * an ICMP hard error. What was queued goes; the user hears of it.
 */
void xtcp_done_with_error(struct sock *sk, int err)
{
	WRITE_ONCE(sk->sk_err, err);
	/* Error before state: pairs with smp_rmb() in xtcp_poll. */
	smp_wmb();
	xtcp_purge_write_queue(sk);
	xtcp_done(sk);
	if (!sock_flag(sk, SOCK_DEAD))
		sk_error_report(sk);
}

/*
 * FIN_WAIT2 got the peer's FIN, or CLOSING the ACK of ours (socket lock
 * held): a TIME_WAIT entry (timewait.c) takes the 4-tuple over for 2MSL
 * and the socket closes now, as native's tcp_time_wait; a user still
 * holding it reads what is queued and sees CLOSE.
 */
void xtcp_enter_time_wait(struct sock *sk)
{
	xtcp_time_wait_start(sk);
	xtcp_done(sk);
}

/* Drop what the user never read; returns how many bytes that was. */
static u32 discard_unread(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 unread = xtcp_inq(sk);

	skb_queue_purge(&sk->sk_receive_queue);
	skb_queue_purge(&xs->ooo_queue);
	xs->copied_seq = xs->rcv_nxt;
	return unread;
}

void xtcp_close(struct sock *sk, long timeout)
{
	int state;

	lock_sock(sk);
	sk->sk_shutdown = SHUTDOWN_MASK;

	if (sk->sk_state == TCP_LISTEN) {
		xtcp_listen_stop(sk);
		xtcp_set_state(sk, TCP_CLOSE);
	} else if (sk->sk_state == TCP_CLOSE) {
		discard_unread(sk);
	} else if (discard_unread(sk)) {
		/* RFC 2525 2.17: closing with unread data aborts. */
		xtcp_send_active_reset(sk, sk->sk_allocation);
		xtcp_set_state(sk, TCP_CLOSE);
	} else if (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime) {
		xtcp_send_active_reset(sk, sk->sk_allocation);
		xtcp_set_state(sk, TCP_CLOSE);
	} else if (sk->sk_state == TCP_SYN_SENT) {
		xtcp_set_state(sk, TCP_CLOSE);
	} else if (close_state(sk)) {
		xtcp_queue_fin(sk);
	}

	if (timeout)
		sk_stream_wait_close(sk, timeout);

	state = sk->sk_state;
	sock_hold(sk);
	sock_orphan(sk);
	/* Segments that waited in the backlog are processed here. */
	release_sock(sk);

	/*
	 * Owned again, not only bh-locked: the TSQ work (output.c) may
	 * have been waiting in lock_sock and own the socket now, pushing
	 * its write queue; what follows may purge that queue.
	 */
	lock_sock(sk);
	local_bh_disable();
	if (state != TCP_CLOSE && sk->sk_state == TCP_CLOSE)
		goto out;	/* the backlog already finished it */
	if ((1 << sk->sk_state) &
	    (TCPF_FIN_WAIT1 | TCPF_CLOSING | TCPF_LAST_ACK)) {
		orphan_count(sk);
		if (xtcp_too_many_orphans(sk)) {
			xtcp_abort_orphan(sk);
			goto out;
		}
	}
	if (sk->sk_state == TCP_FIN_WAIT2) {
		if (xtcp_fin_wait2_orphan_hold(sk))
			xtcp_arm_fin_timer(sk);
		else
			xtcp_done(sk);
	} else if (sk->sk_state == TCP_CLOSE) {
		xtcp_done(sk);
	}
out:
	local_bh_enable();
	release_sock(sk);
	sock_put(sk);
	/* The reference the user's socket held. */
	sock_put(sk);
}
