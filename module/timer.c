// SPDX-License-Identifier: GPL-2.0
/*
 * Timers of an xtcp socket:
 * - rtx_timer, in one of four modes:
 *   RETRANSMIT: data, SYN, SYN-ACK or FIN unacknowledged for an RTO (RFC
 *     6298); resends the oldest, backs off, gives up after a retry limit;
 *   PERSIST: data waits on a closed window with nothing in flight; sends a
 *     zero-window probe (RFC 9293 3.8.6.1), backing off like the RTO;
 *   REORDER and PROBE: RACK's reorder timeout and the tail loss probe
 *     (rack.c), which stand in for the RTO while they wait.
 * - delack_timer: an ACK owed for received data goes out at the latest
 *   XTCP_DELACK_MS after the data (RFC 1122 4.2.3.2).
 * - state_timer: the orphan FIN_WAIT2 timeout after close(). (TIME_WAIT
 *   entries have their own, timewait.c.)
 * - keepalive_timer (SO_KEEPALIVE): after TCP_KEEPIDLE seconds without a
 *   word from the peer, a probe every TCP_KEEPINTVL seconds; TCP_KEEPCNT
 *   unanswered probes (or TCP_USER_TIMEOUT) end the connection with
 *   ETIMEDOUT, as RFC 1122 4.2.3.6 and native TCP do.
 *
 * TCP_USER_TIMEOUT, when set, replaces the retry count of the data states:
 * the connection gives up when the oldest unacknowledged data has waited
 * that long (RFC 5482); in SYN states whichever comes first.
 *
 * A pending timer holds a socket reference. A timer that fires while a user
 * owns the socket leaves its work in xs->deferred, with a reference, for
 * xtcp_release_cb.
 */
#include <linux/jiffies.h>
#include <linux/tcp.h>

#include "xtcp.h"

unsigned long xtcp_rto_jiffies(const struct xtcp_sock *xs)
{
	return usecs_to_jiffies(xtcp_rto_backoff(&xs->rtt, xs->backoff));
}

/* RACK's reorder timeout and TLP's probe timeout (rack.c). */
void xtcp_arm_rtx_timer(struct sock *sk, enum xtcp_rtx_mode mode,
			unsigned long delay)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->rtx_mode = mode;
	sk_reset_timer(sk, &xs->rtx_timer, jiffies + max(delay, 1UL));
}

/*
 * @when (jiffies from now), but no later than TCP_USER_TIMEOUT's end for
 * a wait that began at @since, and at least @floor once it has passed.
 */
static unsigned long clamp_to_user_timeout(const struct xtcp_sock *xs,
					   unsigned long when,
					   unsigned long since,
					   unsigned long floor)
{
	u32 user_timeout = READ_ONCE(xs->user_timeout_ms);
	unsigned long end = since + msecs_to_jiffies(user_timeout);

	if (!user_timeout)
		return when;
	return min(when, time_after(end, jiffies + floor) ?
			 end - jiffies : floor);
}

void xtcp_arm_rtx(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long when = xtcp_rto_jiffies(xs);

	/* Retransmitting under a user timeout: fire when it runs out. */
	if (xs->retries)
		when = clamp_to_user_timeout(xs, when, xs->rtx_series_start, 1);
	xs->rtx_mode = XTCP_RTX_RETRANSMIT;
	sk_reset_timer(sk, &xs->rtx_timer, jiffies + when);
}

/*
 * The next zero-window probe, an RTO away; under a user timeout no later
 * than when it runs out (counted from the first probe), as native's
 * tcp_clamp_probe0_to_user_timeout: the wait ends on time, not at the
 * next backed-off probe. Once it has run out, two jiffies: 6.1's and
 * 6.12's clamp then underflows to the full RTO, fixed upstream since.
 */
void xtcp_arm_persist(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long when = xtcp_rto_jiffies(xs);

	if (xs->probing_since)
		when = clamp_to_user_timeout(xs, when, xs->probing_since, 2);
	xs->rtx_mode = XTCP_RTX_PERSIST;
	sk_reset_timer(sk, &xs->rtx_timer, jiffies + when);
}

void xtcp_stop_rtx(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->rtx_mode = XTCP_RTX_NONE;
	sk_stop_timer(sk, &xs->rtx_timer);
}

void xtcp_schedule_delack(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->ack_now = 1;
	if (!timer_pending(&xs->delack_timer))
		sk_reset_timer(sk, &xs->delack_timer,
			       jiffies + msecs_to_jiffies(XTCP_DELACK_MS));
}

/*
 * An orphan waits in FIN_WAIT2 for the peer's FIN net.xtcp.fin_timeout,
 * but at least 3.5 RTOs, as native's tcp_fin_time.
 */
void xtcp_arm_fin_timer(struct sock *sk)
{
	int rto = xtcp_rto_jiffies(xtcp_sk(sk));	/* at most 120 s */
	int tmo = READ_ONCE(xtcp_net(sock_net(sk))->fin_timeout);

	if (tmo < (rto << 2) - (rto >> 1))
		tmo = (rto << 2) - (rto >> 1);
	sk_reset_timer(sk, &xtcp_sk(sk)->state_timer, jiffies + tmo);
}

void xtcp_clear_timers(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->rtx_mode = XTCP_RTX_NONE;
	xs->ack_now = 0;
	sk_stop_timer(sk, &xs->rtx_timer);
	sk_stop_timer(sk, &xs->delack_timer);
	sk_stop_timer(sk, &xs->state_timer);
	sk_stop_timer(sk, &xs->keepalive_timer);
}

/*
 * An orphan nobody waits for gives up sooner: net.xtcp.orphan_retries
 * times, as net.ipv4.tcp_orphan_retries, whose 0 means 8 (over 100 s at
 * the 200 ms minimum RTO). Counted in retransmissions, where native
 * counts the time they would take from the minimum RTO.
 */
static unsigned int orphan_retries(const struct sock *sk)
{
	int retries = READ_ONCE(xtcp_net(sock_net(sk))->orphan_retries);

	return retries ? retries : XTCP_ORPHAN_PROBES;
}

static unsigned int retry_limit(const struct sock *sk)
{
	switch (sk->sk_state) {
	case TCP_SYN_SENT:
		return XTCP_SYN_RETRIES;
	case TCP_SYN_RECV:	/* a simultaneous open's */
		return XTCP_SYNACK_RETRIES;
	default:
		return sock_flag(sk, SOCK_DEAD) ? orphan_retries(sk) :
						  XTCP_DATA_RETRIES;
	}
}

/* Retries exhausted: the connection times out. */
static void give_up(struct sock *sk)
{
	if (sk->sk_state == TCP_SYN_SENT)
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_ATTEMPT_FAILS);
	/* An ICMP error seen meanwhile says more than the timeout (native). */
	xtcp_done_with_error(sk, READ_ONCE(sk->sk_err_soft) ?: ETIMEDOUT);
}

/* Before resending the head once more: has it waited too long? */
static bool rtx_expired(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 user_timeout = READ_ONCE(xs->user_timeout_ms);
	bool syn = (1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV);

	if ((syn || !user_timeout) && xs->retries >= retry_limit(sk))
		return true;
	return user_timeout && xs->retries &&
	       !time_before(jiffies, xs->rtx_series_start +
				     msecs_to_jiffies(user_timeout));
}

/*
 * An orphan whose timer asks for another try while there are more
 * orphans than allowed is reset instead, as native's
 * tcp_out_of_resources (without its halved limits for an orphan silent
 * for four minutes or hit by an ICMP error).
 */
static bool orphan_over_limit(struct sock *sk)
{
	if (!xtcp_sk(sk)->orphan_counted || !xtcp_too_many_orphans(sk))
		return false;
	xtcp_abort_orphan(sk);
	return true;
}

static void persist_work(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->rtx_mode = XTCP_RTX_NONE;
	if (!xtcp_send_head(sk) || xs->snd_nxt != xs->snd_una)
		return;
	if (orphan_over_limit(sk))
		return;
	/*
	 * A user's socket waits for the window as long as the peer answers,
	 * as native TCP does; an orphan nobody waits for gives up.
	 */
	if (sock_flag(sk, SOCK_DEAD) && ++xs->probes > orphan_retries(sk)) {
		xtcp_send_active_reset(sk, GFP_ATOMIC);
		give_up(sk);
		return;
	}
	/*
	 * TCP_USER_TIMEOUT bounds the wait for a window too, answered probes
	 * or not, as native TCP's probe timer does: from the first probe.
	 */
	if (!xs->probing_since) {
		xs->probing_since = jiffies ?: 1;
	} else if (READ_ONCE(xs->user_timeout_ms) &&
		   !time_before(jiffies, xs->probing_since +
				msecs_to_jiffies(READ_ONCE(xs->user_timeout_ms)))) {
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_USER_TIMEOUTS);
		give_up(sk);
		return;
	}
	if (xs->snd_wnd) {
		xtcp_push(sk, XTCP_PUSH_PROBE);
		if (xs->snd_nxt != xs->snd_una)
			return;
	} else {
		xtcp_send_probe(sk);
	}
	if (xs->backoff < 15)
		xs->backoff++;
	xtcp_arm_persist(sk);
}

static void rtx_work(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int state = sk->sk_state;

	if (state == TCP_CLOSE || state == TCP_LISTEN ||
	    xs->rtx_mode == XTCP_RTX_NONE)
		return;
	/* Re-armed after this expiry was deferred: not yet due. */
	if (timer_pending(&xs->rtx_timer))
		return;
	if (xs->rtx_mode == XTCP_RTX_PERSIST) {
		persist_work(sk);
		return;
	}
	if (xs->snd_una == xs->snd_max &&
	    !((1 << state) & (TCPF_SYN_SENT | TCPF_SYN_RECV))) {
		xs->rtx_mode = XTCP_RTX_NONE;
		return;
	}
	if (xs->rtx_mode == XTCP_RTX_REORDER) {
		xs->rtx_mode = XTCP_RTX_NONE;
		xtcp_rack_timeout(sk);
		return;
	}
	if (xs->rtx_mode == XTCP_RTX_PROBE) {
		xs->rtx_mode = XTCP_RTX_NONE;
		xtcp_tlp_fire(sk);
		return;
	}
	if (rtx_expired(sk)) {
		if (READ_ONCE(xs->user_timeout_ms))
			xtcp_stat_inc(sock_net(sk), XTCP_MIB_USER_TIMEOUTS);
		give_up(sk);
		return;
	}
	if (orphan_over_limit(sk))
		return;
	/* The head was sent an RTO ago: its wait began then. */
	if (!xs->retries++)
		xs->rtx_series_start = jiffies - xtcp_rto_jiffies(xs);
	xtcp_stat_inc(sock_net(sk), XTCP_MIB_RTO_TIMEOUTS);
	xtcp_cong_on_rto(sk);
	if (xs->backoff < 15)
		xs->backoff++;
	xs->rtx_mode = XTCP_RTX_NONE;
	if ((1 << state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		xs->rtt_pending = false;
		xtcp_send_syn(sk);
	} else {
		xtcp_retransmit_head(sk);
	}
	if (xs->rtx_mode == XTCP_RTX_NONE)
		xtcp_arm_rtx(sk);
}

static void delack_work(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->ack_now && sk->sk_state != TCP_LISTEN) {
		/* No reply carried it: not interactive after all (native). */
		xs->pingpong = 0;
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_DELAYED_ACKS);
		xtcp_send_ack(sk);
	}
}

static void state_work(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (timer_pending(&xs->state_timer))
		return;
	/*
	 * Without a word to the peer, as native's timewait socket in
	 * FIN_WAIT2 ends: its next segment finds no socket and draws a RST.
	 */
	if (sk->sk_state == TCP_FIN_WAIT2 && sock_flag(sk, SOCK_DEAD))
		xtcp_done(sk);
}

u32 xtcp_keepidle_s(const struct xtcp_sock *xs)
{
	return READ_ONCE(xs->keepidle_s) ?: XTCP_KEEPIDLE_S;
}

u32 xtcp_keepintvl_s(const struct xtcp_sock *xs)
{
	return READ_ONCE(xs->keepintvl_s) ?: XTCP_KEEPINTVL_S;
}

u32 xtcp_keepcnt(const struct xtcp_sock *xs)
{
	return READ_ONCE(xs->keepcnt) ?: XTCP_KEEPCNT;
}

/* Since the peer last spoke: the later of its last data and last ACK. */
static unsigned long peer_silent_for(const struct xtcp_sock *xs)
{
	unsigned long last = xs->data_rcvd_at;

	if (time_after(xs->ack_rcvd_at, last))
		last = xs->ack_rcvd_at;
	return jiffies - last;
}

static bool keepalive_applies(const struct sock *sk)
{
	return sock_flag(sk, SOCK_KEEPOPEN) &&
	       ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				       TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 |
				       TCPF_CLOSING | TCPF_LAST_ACK));
}

/*
 * (Re)start the keepalive clock: the first probe is due TCP_KEEPIDLE after
 * the peer last spoke. On entering ESTABLISHED, on SO_KEEPALIVE and on a
 * new TCP_KEEPIDLE; socket lock held.
 */
void xtcp_keepalive_reset(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long idle = xtcp_keepidle_s(xs) * HZ;
	unsigned long silent = peer_silent_for(xs);

	if (!keepalive_applies(sk))
		return;
	sk_reset_timer(sk, &xs->keepalive_timer,
		       jiffies + (idle > silent ? idle - silent : 0));
}

/* struct proto's keepalive hook: SO_KEEPALIVE, before the flag changes. */
void xtcp_set_keepalive(struct sock *sk, int on)
{
	if (!on) {
		sk_stop_timer(sk, &xtcp_sk(sk)->keepalive_timer);
		return;
	}
	if (sock_flag(sk, SOCK_KEEPOPEN))
		return;
	sock_set_flag(sk, SOCK_KEEPOPEN);
	xtcp_keepalive_reset(sk);
}

static void keepalive_work(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long idle = xtcp_keepidle_s(xs) * HZ;
	unsigned long silent = peer_silent_for(xs);
	u32 user_timeout = READ_ONCE(xs->user_timeout_ms);
	unsigned long next;

	if (timer_pending(&xs->keepalive_timer) || !keepalive_applies(sk))
		return;
	if (xs->snd_una != xs->snd_max || xtcp_send_head(sk)) {
		/* Data is waiting: the retransmit or persist timer watches. */
		next = idle;
	} else if (silent >= idle) {
		if ((user_timeout && xs->ka_probes &&
		     silent >= msecs_to_jiffies(user_timeout)) ||
		    (!user_timeout && xs->ka_probes >= xtcp_keepcnt(xs))) {
			xtcp_stat_inc(sock_net(sk), XTCP_MIB_KEEPALIVE_TIMEOUTS);
			xtcp_send_active_reset(sk, GFP_ATOMIC);
			give_up(sk);
			return;
		}
		xtcp_send_keepalive_probe(sk);
		if (xs->ka_probes < U8_MAX)
			xs->ka_probes++;
		next = xtcp_keepintvl_s(xs) * HZ;
	} else {
		next = idle - silent;
	}
	sk_reset_timer(sk, &xs->keepalive_timer, jiffies + next);
}

/* Run @work now, or leave it for release_sock when a user owns the lock. */
static void run_or_defer(struct sock *sk, enum xtcp_deferred_bit bit,
			 void (*work)(struct sock *sk))
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk))
		work(sk);
	else if (!test_and_set_bit(bit, &xs->deferred))
		sock_hold(sk);
	bh_unlock_sock(sk);
	/* The pending timer's reference. */
	sock_put(sk);
}

static void rtx_timer_fn(struct timer_list *t)
{
	struct xtcp_sock *xs = from_timer(xs, t, rtx_timer);

	run_or_defer((struct sock *)xs, XTCP_DEFER_RTX, rtx_work);
}

static void delack_timer_fn(struct timer_list *t)
{
	struct xtcp_sock *xs = from_timer(xs, t, delack_timer);

	run_or_defer((struct sock *)xs, XTCP_DEFER_DELACK, delack_work);
}

static void state_timer_fn(struct timer_list *t)
{
	struct xtcp_sock *xs = from_timer(xs, t, state_timer);

	run_or_defer((struct sock *)xs, XTCP_DEFER_STATE, state_work);
}

static void keepalive_timer_fn(struct timer_list *t)
{
	struct xtcp_sock *xs = from_timer(xs, t, keepalive_timer);

	run_or_defer((struct sock *)xs, XTCP_DEFER_KEEPALIVE, keepalive_work);
}

/* From release_sock(): the socket lock is still ours. */
void xtcp_release_cb(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (test_and_clear_bit(XTCP_DEFER_RTX, &xs->deferred)) {
		rtx_work(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(XTCP_DEFER_DELACK, &xs->deferred)) {
		delack_work(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(XTCP_DEFER_STATE, &xs->deferred)) {
		state_work(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(XTCP_DEFER_KEEPALIVE, &xs->deferred)) {
		keepalive_work(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(XTCP_DEFER_MTU, &xs->deferred)) {
		xtcp_mtu_reduced(sk);
		__sock_put(sk);
	}
}

void xtcp_init_timers(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	timer_setup(&xs->rtx_timer, rtx_timer_fn, 0);
	timer_setup(&xs->delack_timer, delack_timer_fn, 0);
	timer_setup(&xs->state_timer, state_timer_fn, 0);
	timer_setup(&xs->keepalive_timer, keepalive_timer_fn, 0);
	xs->deferred = 0;
}
