// SPDX-License-Identifier: GPL-2.0
/*
 * Congestion control: what every algorithm shares, and the choice among
 * them. RFC 5681 slow start and the NewReno loss recovery of RFC 6582
 * (fast retransmit, fast recovery, partial ACKs) are here; how the window
 * grows in congestion avoidance and how far it falls on a loss is the
 * algorithm's (struct xtcp_cong_ops: cong_reno.c, cong_cubic.c).
 *
 * The algorithm of a new socket is its namespace's sysctl
 * net.xtcp.congestion_control (sysctl.c; cubic unless changed);
 * TCP_CONGESTION picks another per socket, and a listener's choice passes
 * to its children. Windows are in segments. Socket lock held throughout.
 */
#include <linux/tcp.h>

#include "xtcp.h"

#define XTCP_MAX_CWND	65535u

static const struct xtcp_cong_ops *const cong_algorithms[] = {
	&xtcp_cong_cubic,
	&xtcp_cong_reno,
};

const struct xtcp_cong_ops *xtcp_cong_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cong_algorithms); i++)
		if (!strcmp(cong_algorithms[i]->name, name))
			return cong_algorithms[i];
	return NULL;
}

const struct xtcp_cong_ops *xtcp_cong_default(const struct net *net)
{
	return READ_ONCE(xtcp_net(net)->cong_default);
}

/* The names, space-separated, as net.ipv4.tcp_available_congestion_control. */
void xtcp_cong_names(char *buf, size_t size)
{
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(cong_algorithms); i++) {
		if (i)
			strlcat(buf, " ", size);
		strlcat(buf, cong_algorithms[i]->name, size);
	}
}

/* The connection (re)starts: the initial window, and a fresh algorithm. */
void xtcp_cong_init(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->cwnd = XTCP_INIT_CWND;
	xs->ssthresh = XTCP_INFINITE_SSTHRESH;
	xs->cwnd_cnt = 0;
	xs->dupacks = 0;
	xs->recover = xs->snd_una;
	xs->in_recovery = false;
	xs->ca_state = TCP_CA_Open;
	xs->acked_partial = 0;
	xs->cwnd_limited = 0;
	memset(xs->cong_priv, 0, sizeof(xs->cong_priv));
	xs->cong_ops->init(sk);
}

/*
 * TCP_CONGESTION. The windows stay as they are; the new algorithm starts
 * from its initial state, as native TCP's reinitialisation does.
 */
int xtcp_cong_select(struct sock *sk, const char *name)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	const struct xtcp_cong_ops *ops = xtcp_cong_find(name);

	if (!ops)
		return -ENOENT;
	if (ops == xs->cong_ops)
		return 0;
	xs->cong_ops = ops;
	memset(xs->cong_priv, 0, sizeof(xs->cong_priv));
	ops->init(sk);
	return 0;
}

/*
 * Slow start (RFC 5681 3.1): one segment per segment ACKed, up to ssthresh.
 * No RFC 3465 limit of two per ACK: a receiver ACKs a whole GSO packet at
 * once, and the limit would make slow start linear (Linux has none
 * either). Returns the ACKed segments left for congestion avoidance.
 */
u32 xtcp_slow_start(struct xtcp_sock *xs, u32 segs)
{
	u32 grow = min(segs, xs->ssthresh - xs->cwnd);

	xs->cwnd = min(xs->cwnd + grow, XTCP_MAX_CWND);
	return segs - grow;
}

/* Additive increase: one segment each time @per segments are ACKed. */
void xtcp_cong_avoid_ai(struct xtcp_sock *xs, u32 per, u32 segs)
{
	per = max(per, 1u);
	/* A window that shrank under a big count starts counting anew. */
	if (xs->cwnd_cnt >= per)
		xs->cwnd_cnt = 0;
	xs->cwnd_cnt += segs;
	if (xs->cwnd_cnt >= per) {
		xs->cwnd += xs->cwnd_cnt / per;
		xs->cwnd_cnt %= per;
	}
	xs->cwnd = min(xs->cwnd, XTCP_MAX_CWND);
}

/* RFC 5681 (4): FlightSize / 2, at least two segments. */
u32 xtcp_flight_half(const struct xtcp_sock *xs)
{
	u32 segs = DIV_ROUND_UP(xtcp_in_flight(xs), xs->mss_cache);

	return max(segs / 2, 2u);
}

/*
 * Whole segments ACKed: bytes carry over between ACKs, so a receiver that
 * ACKs in small pieces does not make each piece count as a segment.
 */
static u32 acked_segments(struct xtcp_sock *xs, u32 acked_bytes)
{
	u64 bytes = (u64)xs->acked_partial + acked_bytes;
	u32 mss = max_t(u32, xs->mss_cache, 1);
	u32 segs = (u32)min_t(u64, div_u64(bytes, mss), U32_MAX);

	xs->acked_partial = bytes - (u64)segs * mss;
	return segs;
}

/*
 * RFC 7661: the window grows only while it is what holds data back, not
 * while the application (or the peer's window) does. The send path marks
 * the socket cwnd-limited; slow start also counts an ACK of more than half
 * the window in flight, as Linux does.
 */
static bool cwnd_limited(const struct xtcp_sock *xs, u32 acked_bytes)
{
	u32 flight = xtcp_in_flight(xs) + acked_bytes;
	u32 flight_segs = DIV_ROUND_UP(flight, max_t(u32, xs->mss_cache, 1));

	if (xs->cwnd_limited)
		return true;
	return xs->cwnd < xs->ssthresh && xs->cwnd < 2 * flight_segs;
}

/*
 * An ACK of new data (snd_una already moved). @rtt_us is the sample of the
 * newest segment it covers that was sent only once, 0 if none.
 */
void xtcp_cong_on_ack(struct sock *sk, u32 acked_bytes, u32 rtt_us)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	const struct xtcp_cong_ops *ops = xs->cong_ops;
	u32 segs = acked_segments(xs, acked_bytes);
	bool limited = cwnd_limited(xs, acked_bytes);

	if (rtt_us && ops->rtt_sample)
		ops->rtt_sample(sk, rtt_us);
	if (xs->ca_state == TCP_CA_Loss &&
	    xtcp_seq_after_eq(xs->snd_una, xs->recover))
		xs->ca_state = TCP_CA_Open;
	if (xs->ca_state == TCP_CA_Disorder)
		xs->ca_state = TCP_CA_Open;
	xs->dupacks = 0;
	/* The mark lasts until what was sent under it is ACKed. */
	if (xs->cwnd_limited &&
	    xtcp_seq_after_eq(xs->snd_una, xs->cwnd_limited_seq))
		xs->cwnd_limited = 0;
	if (segs && limited)
		ops->cong_avoid(sk, segs);
}

/*
 * A duplicate ACK outside recovery. True on the third: retransmit. Not
 * after a timeout until what was in flight then is ACKed (RFC 6582 4.1):
 * the go-back-N resends make duplicates of their own.
 */
bool xtcp_cong_dupack(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->ca_state == TCP_CA_Loss)
		return false;
	xs->dupacks++;
	if (xs->ca_state == TCP_CA_Open)
		xs->ca_state = TCP_CA_Disorder;
	return xs->dupacks == 3;
}

/*
 * Loss detected: the caller retransmits. NewReno inflates cwnd by the three
 * segments the duplicates say have left; SACK recovery counts what is in
 * the network (pipe) instead and starts from ssthresh (RFC 6675 (4.2)).
 */
void xtcp_cong_enter_recovery(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->sack_ok) {
		xs->undo_on = true;
		xs->undo_rtx_seen = false;
		/*
		 * A loss probe's copy still out may come back D-SACKed too:
		 * that proves nothing of this episode's resends (Linux's
		 * tcp_init_undo counts it among them).
		 */
		xs->undo_retrans = xs->rack.tlp_on && xs->rack.tlp_retrans;
		xs->undo_start = xs->snd_una;
		xs->undo_end = xs->snd_max;
		xs->prior_cwnd = xs->cwnd;
		xs->prior_ssthresh = xs->ssthresh;
	}
	xs->ssthresh = xs->cong_ops->ssthresh(sk);
	xs->cwnd = xs->sack_ok ? xs->ssthresh : xs->ssthresh + 3;
	xs->cwnd_cnt = 0;
	xs->recover = xs->snd_max;
	xs->in_recovery = true;
	xs->ca_state = TCP_CA_Recovery;
	/* This reduction answers for what a loss probe out may repair. */
	xs->rack.tlp_on = false;
}

/*
 * An ACK of new data during recovery. Returns true on a partial ACK (RFC
 * 6582 3.2 step 5): the caller retransmits the next hole.
 */
bool xtcp_cong_recovery_ack(struct sock *sk, u32 ack, u32 acked_bytes)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 segs = acked_segments(xs, acked_bytes);

	if (xtcp_seq_after_eq(ack, xs->recover)) {
		/* Full ACK: deflate to ssthresh and leave recovery. */
		xs->cwnd = xs->ssthresh;
		xs->in_recovery = false;
		xs->dupacks = 0;
		xs->ca_state = TCP_CA_Open;
		return false;
	}
	/* Deflate by what left the network, inflate by the one resent. */
	xs->cwnd = xs->cwnd > segs ? xs->cwnd - segs + 1 : 1;
	return true;
}

void xtcp_cong_on_rto(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	/*
	 * RFC 5681 (4): only the first timeout of a series lowers ssthresh,
	 * and not one during fast recovery, which lowered it already (and
	 * whose inflated cwnd says nothing about the path).
	 */
	if (!xs->backoff && !xs->in_recovery)
		xs->ssthresh = xs->cong_ops->ssthresh(sk);
	xs->cwnd = 1;
	xs->cwnd_cnt = 0;
	xs->dupacks = 0;
	xs->in_recovery = false;
	xs->undo_on = false;	/* a timeout is not undone */
	/*
	 * The go-back-N that follows resends SACKed data too: forget the
	 * scoreboard, as RFC 2018 section 8 advises after a timeout.
	 */
	xtcp_sack_reset(xs);
	xtcp_rack_on_rto(sk);
	/* Everything sent so far counts as lost until it is ACKed. */
	xs->ca_state = TCP_CA_Loss;
	xs->recover = xs->snd_max;
	if (xs->cong_ops->on_timeout)
		xs->cong_ops->on_timeout(sk);
}

/*
 * The path MTU fell and what was sent at the old MSS is lost: a loss
 * episode to repair as after a timeout, but the path did not congest, so
 * cwnd keeps its segments (now smaller, so fewer bytes) and ssthresh is
 * kept at no less than 3/4 of it, as native's tcp_simple_retransmit.
 */
void xtcp_cong_on_mtu_drop(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->ca_state != TCP_CA_Loss) {
		if (!xs->in_recovery)
			xs->ssthresh = max(xs->ssthresh,
					   xs->cwnd - xs->cwnd / 4);
		xs->recover = xs->snd_max;
	}
	/* NewReno's duplicates inflated cwnd: deflate, as a full ACK would. */
	if (xs->in_recovery && !xs->sack_ok)
		xs->cwnd = min(xs->cwnd, xs->ssthresh);
	xs->dupacks = 0;
	xs->in_recovery = false;
	xs->undo_on = false;
	/* The resend from snd_una goes over SACKed data too (timeout's rule). */
	xtcp_sack_reset(xs);
	xtcp_rack_on_rto(sk);
	xs->ca_state = TCP_CA_Loss;
}

/*
 * Undoing a SACK recovery that was not needed (as Linux's undo): the
 * "lost" segments were only late, reordered. Either D-SACKs come back for
 * every segment it resent (RFC 2883: both copies arrived), or the ACK
 * that moves snd_una echoes a timestamp from before its first resend
 * (RFC 3522: what filled the hole was the original). Then cwnd and
 * ssthresh return to what they were; RACK, which saw the reordering,
 * waits longer before it calls the next segment lost.
 */
void xtcp_undo_note_rtx(struct xtcp_sock *xs, u16 segs, u64 sent_us)
{
	if (!xs->undo_on || !xs->in_recovery)
		return;
	if (!xs->undo_rtx_seen) {
		xs->undo_rtx_seen = true;
		/*
		 * The send time, read before the segment's TSval: the clock
		 * after the send may be a millisecond on, and an echo of the
		 * resend itself would then look older than it.
		 */
		xs->undo_first_rtx_ms = (u32)div_u64(sent_us, USEC_PER_MSEC);
	}
	xs->undo_retrans += segs;
}

/* A D-SACK for [@start, @end): a resend of the episode's came back twice? */
void xtcp_undo_dsack(struct sock *sk, u32 start, u32 end)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->undo_on || !xs->undo_rtx_seen ||
	    xtcp_seq_before(start, xs->undo_start) ||
	    xtcp_seq_after(end, xs->undo_end))
		return;
	xs->undo_retrans -= DIV_ROUND_UP(end - start, xs->mss_cache);
}

/* After an ACK that moved snd_una by @acked bytes (or none). */
void xtcp_undo_check(struct sock *sk, u32 acked)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	const struct xtcp_rack *r = &xs->rack;
	enum xtcp_mib_field why;

	if (!xs->undo_on || !xs->undo_rtx_seen)
		return;
	if (xs->undo_retrans <= 0)
		why = XTCP_MIB_DSACK_UNDO;
	else if (acked && r->ack_ts_valid &&
		 (s32)(r->ack_echo_ms - xs->undo_first_rtx_ms) < 0)
		why = xtcp_seq_after_eq(xs->snd_una, xs->undo_end) ?
		      XTCP_MIB_FULL_UNDO : XTCP_MIB_PARTIAL_UNDO;
	else
		return;
	xs->cwnd = max(xs->cwnd, xs->prior_cwnd);
	xs->ssthresh = max(xs->ssthresh, xs->prior_ssthresh);
	xs->cwnd_cnt = 0;
	xs->undo_on = false;
	if (xs->in_recovery) {
		xs->in_recovery = false;
		xs->dupacks = 0;
		xs->ca_state = TCP_CA_Open;
		/* RACK judges what is still out afresh. */
		xs->rack.lost_high = xs->snd_una;
		xtcp_rack_recovery_ended(xs);
	}
	xtcp_stat_inc(sock_net(sk), why);
}
