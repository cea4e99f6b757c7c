// SPDX-License-Identifier: GPL-2.0
/*
 * Reno (RFC 5681): in congestion avoidance one segment more per window of
 * ACKed segments; a loss halves the flight. Socket lock held.
 */
#include "xtcp.h"

static void reno_init(struct sock *sk)
{
}

static void reno_cong_avoid(struct sock *sk, u32 segs)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->cwnd < xs->ssthresh)
		segs = xtcp_slow_start(xs, segs);
	if (segs)
		xtcp_cong_avoid_ai(xs, xs->cwnd, segs);
}

static u32 reno_ssthresh(struct sock *sk)
{
	return xtcp_flight_half(xtcp_sk(sk));
}

const struct xtcp_cong_ops xtcp_cong_reno = {
	.name = "reno",
	.init = reno_init,
	.cong_avoid = reno_cong_avoid,
	.ssthresh = reno_ssthresh,
};
