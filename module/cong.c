// SPDX-License-Identifier: GPL-2.0
/*
 * Congestion control, Reno with NewReno recovery (RFC 5681, RFC 6582):
 * slow start, congestion avoidance, fast retransmit and fast recovery, and
 * the collapse to one segment after a retransmission timeout. The window is
 * counted in segments. Socket lock held throughout.
 */
#include "xtcp.h"

#define XTCP_MAX_CWND	65535u

void xtcp_cong_init(struct xtcp_sock *xs)
{
	xs->cwnd = XTCP_INIT_CWND;
	xs->ssthresh = XTCP_MAX_CWND;
	xs->cwnd_cnt = 0;
	xs->dupacks = 0;
	xs->in_recovery = false;
}

static u32 flight_half(const struct xtcp_sock *xs)
{
	u32 segs = DIV_ROUND_UP(xtcp_in_flight(xs), xs->mss_cache);

	return max(segs / 2, 2u);
}

/* New data ACKed outside recovery. */
void xtcp_cong_on_ack(struct xtcp_sock *xs, u32 acked_bytes)
{
	u32 segs = DIV_ROUND_UP(acked_bytes, xs->mss_cache);

	if (xs->cwnd < xs->ssthresh) {
		/*
		 * Slow start: one segment per segment ACKed, up to ssthresh.
		 * No RFC 3465 limit of two per ACK: a receiver ACKs a whole
		 * GSO packet at once, and the limit would make slow start
		 * linear (Linux has none either).
		 */
		u32 grow = min(segs, xs->ssthresh - xs->cwnd);

		xs->cwnd += grow;
		segs -= grow;
	}
	if (segs && xs->cwnd >= xs->ssthresh) {
		/* Congestion avoidance: one segment per window ACKed. */
		xs->cwnd_cnt += segs;
		if (xs->cwnd_cnt >= xs->cwnd) {
			xs->cwnd += xs->cwnd_cnt / xs->cwnd;
			xs->cwnd_cnt %= xs->cwnd;
		}
	}
	if (xs->cwnd > XTCP_MAX_CWND)
		xs->cwnd = XTCP_MAX_CWND;
}

/* Third duplicate ACK: the caller retransmits the oldest segment. */
void xtcp_cong_enter_recovery(struct xtcp_sock *xs)
{
	xs->ssthresh = flight_half(xs);
	xs->cwnd = xs->ssthresh + 3;
	xs->cwnd_cnt = 0;
	xs->recover = xs->snd_max;
	xs->in_recovery = true;
}

/*
 * An ACK of new data during recovery. Returns true on a partial ACK (RFC
 * 6582 3.2 step 5): the caller retransmits the next hole.
 */
bool xtcp_cong_recovery_ack(struct xtcp_sock *xs, u32 ack, u32 acked_bytes)
{
	u32 segs = DIV_ROUND_UP(acked_bytes, xs->mss_cache);

	if (xtcp_seq_after_eq(ack, xs->recover)) {
		/* Full ACK: deflate to ssthresh and leave recovery. */
		xs->cwnd = xs->ssthresh;
		xs->in_recovery = false;
		xs->dupacks = 0;
		return false;
	}
	xs->cwnd = xs->cwnd > segs ? xs->cwnd - segs + 1 : 1;
	return true;
}

void xtcp_cong_on_rto(struct xtcp_sock *xs)
{
	/* RFC 5681 (4): only the first timeout of a series halves. */
	if (!xs->backoff)
		xs->ssthresh = flight_half(xs);
	xs->cwnd = 1;
	xs->cwnd_cnt = 0;
	xs->dupacks = 0;
	xs->in_recovery = false;
}
