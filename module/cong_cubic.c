// SPDX-License-Identifier: GPL-2.0
/*
 * CUBIC (RFC 9438), the default: after a loss the window follows
 * W_cubic(t) = W_max + C (t - K)^3 from its reduced size (beta = 0.7) back
 * up to the window where the loss happened (concave), stays near it, then
 * probes beyond (convex); never slower than Reno would be on the same path
 * (the Reno-friendly estimate). The window function is lib/cubic.c.
 *
 * Slow start ends early on HyStart's delay signal (the RTT threshold of RFC
 * 9406, as Linux's HyStart): when the least RTT of a round's first eight
 * samples exceeds the previous round's by an eighth (4-16 ms), the queue
 * is building, and ssthresh becomes cwnd. Socket lock held.
 */
#include "xtcp.h"
#include "lib/cubic.h"

#define CUBIC_BETA_NUM		7	/* beta_cubic = 7/10 */
#define CUBIC_BETA_DEN		10
/* alpha_cubic = 3 (1 - beta) / (1 + beta) = 9/17 (RFC 9438 4.3) */
#define CUBIC_ALPHA_NUM		9
#define CUBIC_ALPHA_DEN		17
#define HYSTART_LOW_WINDOW	16	/* segments; below it, no HyStart */
#define HYSTART_SAMPLES		8	/* RTT samples per round */
#define HYSTART_MIN_THRESH_US	4000
#define HYSTART_MAX_THRESH_US	16000

struct cubic_state {
	u32 w_max;		/* cwnd when the last loss was detected */
	u32 origin;		/* the plateau of this epoch's curve */
	u32 k_ms;		/* time from the epoch start to the plateau */
	u32 epoch_ms;		/* when congestion avoidance began */
	u32 w_est;		/* Reno-friendly window (RFC 9438 4.3) */
	u32 est_acc;		/* ACKed segments * alpha, toward w_est + 1 */
	bool epoch_running;

	/* HyStart rounds: a round ends when the ACKs pass round_end. */
	bool round_running;
	bool hystart_done;	/* no further exits until a timeout */
	u8 round_samples;
	u32 round_end;
	u32 round_min_us;	/* least RTT of this round's samples */
	u32 last_round_min_us;	/* of the previous round; U32_MAX: none */
};

static struct cubic_state *cubic(const struct sock *sk)
{
	BUILD_BUG_ON(sizeof(struct cubic_state) >
		     sizeof(xtcp_sk(sk)->cong_priv));
	return (struct cubic_state *)xtcp_sk(sk)->cong_priv;
}

static u32 clock_ms(void)
{
	return (u32)div_u64(xtcp_clock_us(), USEC_PER_MSEC);
}

static void cubic_init(struct sock *sk)
{
	struct cubic_state *ca = cubic(sk);

	ca->round_min_us = U32_MAX;
	ca->last_round_min_us = U32_MAX;
}

static void start_epoch(struct xtcp_sock *xs, struct cubic_state *ca)
{
	ca->epoch_running = true;
	ca->epoch_ms = clock_ms();
	ca->w_est = xs->cwnd;
	ca->est_acc = 0;
	if (xs->cwnd < ca->w_max) {
		ca->k_ms = xtcp_cubic_k_ms(ca->w_max - xs->cwnd);
		ca->origin = ca->w_max;
	} else {
		/* Above the old maximum (or none yet): convex from here. */
		ca->k_ms = 0;
		ca->origin = xs->cwnd;
	}
}

/* ACKed segments per cwnd increment, so that cwnd tracks the curve. */
static u32 acks_per_increment(struct xtcp_sock *xs, struct cubic_state *ca,
			      u32 segs)
{
	u32 t_ms = clock_ms() - ca->epoch_ms + xs->rtt.srtt_us / USEC_PER_MSEC;
	u32 target = xtcp_cubic_window(ca->origin, ca->k_ms, t_ms);
	u32 alpha = CUBIC_ALPHA_NUM;
	u32 per;

	/* RFC 9438 4.4-4.5: aim one RTT ahead, at most 1.5 cwnd. */
	target = clamp(target, xs->cwnd, xs->cwnd + xs->cwnd / 2);
	per = target > xs->cwnd ? xs->cwnd / (target - xs->cwnd) :
				  100 * xs->cwnd;

	/*
	 * Reno-friendly region: W_est grows by alpha per window ACKed, and
	 * alpha becomes 1 once W_est passes the last maximum.
	 */
	if (ca->w_est >= ca->w_max)
		alpha = CUBIC_ALPHA_DEN;
	ca->est_acc += segs * alpha;
	if (ca->est_acc >= CUBIC_ALPHA_DEN * xs->cwnd) {
		u32 step = CUBIC_ALPHA_DEN * xs->cwnd;

		ca->w_est += ca->est_acc / step;
		ca->est_acc %= step;
	}
	if (ca->w_est > xs->cwnd)
		per = min(per, xs->cwnd / (ca->w_est - xs->cwnd));
	return max(per, 1u);
}

static void cubic_cong_avoid(struct sock *sk, u32 segs)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct cubic_state *ca = cubic(sk);

	if (xs->cwnd < xs->ssthresh) {
		segs = xtcp_slow_start(xs, segs);
		if (!segs)
			return;
	}
	if (!ca->epoch_running)
		start_epoch(xs, ca);
	xtcp_cong_avoid_ai(xs, acks_per_increment(xs, ca, segs), segs);
}

static u32 cubic_ssthresh(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct cubic_state *ca = cubic(sk);

	ca->epoch_running = false;
	/* RFC 9438 4.7, fast convergence: yield to newer flows. */
	if (xs->cwnd < ca->w_max)
		ca->w_max = xs->cwnd * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) /
			    (2 * CUBIC_BETA_DEN);
	else
		ca->w_max = xs->cwnd;
	return max(xs->cwnd * CUBIC_BETA_NUM / CUBIC_BETA_DEN, 2u);
}

static void hystart_update(struct sock *sk, struct cubic_state *ca,
			   u32 rtt_us)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 thresh;

	if (!ca->round_running || xtcp_seq_after(xs->snd_una, ca->round_end)) {
		ca->round_running = true;
		ca->round_end = xs->snd_nxt;
		ca->last_round_min_us = ca->round_min_us;
		ca->round_min_us = U32_MAX;
		ca->round_samples = 0;
	}
	if (ca->round_samples >= HYSTART_SAMPLES)
		return;
	ca->round_min_us = min(ca->round_min_us, rtt_us);
	if (++ca->round_samples < HYSTART_SAMPLES ||
	    ca->last_round_min_us == U32_MAX ||
	    xs->cwnd < HYSTART_LOW_WINDOW)
		return;
	thresh = clamp(ca->last_round_min_us / 8, HYSTART_MIN_THRESH_US,
		       HYSTART_MAX_THRESH_US);
	if (ca->round_min_us >= ca->last_round_min_us + thresh) {
		ca->hystart_done = true;
		xs->ssthresh = xs->cwnd;
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_HYSTART_DELAY_EXITS);
	}
}

static void cubic_rtt_sample(struct sock *sk, u32 rtt_us)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct cubic_state *ca = cubic(sk);

	if (xs->cwnd < xs->ssthresh && !ca->hystart_done)
		hystart_update(sk, ca, rtt_us);
}

static void cubic_on_timeout(struct sock *sk)
{
	struct cubic_state *ca = cubic(sk);

	/* RFC 9438 4.8: after a timeout, no memory of the old maximum. */
	ca->w_max = 0;
	ca->epoch_running = false;
	ca->round_running = false;
	ca->hystart_done = false;
	ca->round_min_us = U32_MAX;
	ca->last_round_min_us = U32_MAX;
}

const struct xtcp_cong_ops xtcp_cong_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.cong_avoid = cubic_cong_avoid,
	.ssthresh = cubic_ssthresh,
	.rtt_sample = cubic_rtt_sample,
	.on_timeout = cubic_on_timeout,
};
