// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for module/lib/rtt.c: the RFC 6298 estimator.
 *
 * Expected values are worked out by hand with the RFC's formulas in integer
 * microseconds, each term truncated separately:
 *   first:  SRTT = R, RTTVAR = R/2
 *   later:  RTTVAR = RTTVAR - RTTVAR/4 + |SRTT - R|/4   (old SRTT)
 *           SRTT   = SRTT - SRTT/8 + R/8
 *   RTO = SRTT + max(G, 4*RTTVAR), G = 1000 us, then clamped to [min, max].
 */
#include "harness.h"
#include "rtt.h"

#define MIN_US	XTCP_RTO_MIN_US		/* 200 ms */
#define MAX_US	XTCP_RTO_MAX_US		/* 120 s */

static void check_est(const struct xtcp_rtt_est *e, u32 srtt, u32 rttvar,
		      u32 rto, int line)
{
	if (e->srtt_us != srtt || e->rttvar_us != rttvar || e->rto_us != rto) {
		th_note("line %d: want srtt %u rttvar %u rto %u",
			line, srtt, rttvar, rto);
		CHECK_EQ(e->srtt_us, srtt);
		CHECK_EQ(e->rttvar_us, rttvar);
		CHECK_EQ(e->rto_us, rto);
	}
}

#define CHECK_EST(e, s, v, r) check_est((e), (s), (v), (r), __LINE__)

TEST(rtt_init)
{
	struct xtcp_rtt_est e;

	CHECK_EQ(XTCP_RTO_INITIAL_US, 1000000);	/* RFC 6298 (2.1): 1 s */
	memset(&e, 0xff, sizeof(e));
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	CHECK_EST(&e, 0, 0, 1000000);
	CHECK_EQ(e.min_rto_us, MIN_US);
	CHECK_EQ(e.max_rto_us, MAX_US);
	/* The initial RTO is clamped like any other. */
	xtcp_rtt_init(&e, 3000000, MAX_US);
	CHECK_EQ(e.rto_us, 3000000);
	xtcp_rtt_init(&e, MIN_US, 500000);
	CHECK_EQ(e.rto_us, 500000);
}

TEST(rtt_first_sample)
{
	struct xtcp_rtt_est e;

	/* (2.2): SRTT = R, RTTVAR = R/2, RTO = R + 4 * R/2. */
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 100000);
	CHECK_EST(&e, 100000, 50000, 300000);

	/* Odd R: R/2 truncates, 100001 + 4 * 50000. */
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 100001);
	CHECK_EST(&e, 100001, 50000, 300001);

	/* 1 s: 1000000 + 2000000. */
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 1000000);
	CHECK_EST(&e, 1000000, 500000, 3000000);
}

TEST(rtt_subsequent_samples_exact)
{
	struct xtcp_rtt_est e;

	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 100000);
	CHECK_EST(&e, 100000, 50000, 300000);

	/*
	 * R = 120000: |100000 - 120000| = 20000;
	 * RTTVAR = 50000 - 12500 + 5000 = 42500;
	 * SRTT = 100000 - 12500 + 15000 = 102500;
	 * RTO = 102500 + 170000 = 272500.
	 */
	xtcp_rtt_sample(&e, 120000);
	CHECK_EST(&e, 102500, 42500, 272500);

	/*
	 * R = 80000: |102500 - 80000| = 22500;
	 * RTTVAR = 42500 - 10625 + 5625 = 37500;
	 * SRTT = 102500 - 12812 + 10000 = 99688;
	 * RTO = 99688 + 150000 = 249688.
	 */
	xtcp_rtt_sample(&e, 80000);
	CHECK_EST(&e, 99688, 37500, 249688);

	/*
	 * R = 500000 (a spike): |99688 - 500000| = 400312;
	 * RTTVAR = 37500 - 9375 + 100078 = 128203;
	 * SRTT = 99688 - 12461 + 62500 = 149727;
	 * RTO = 149727 + 512812 = 662539.
	 */
	xtcp_rtt_sample(&e, 500000);
	CHECK_EST(&e, 149727, 128203, 662539);
}

TEST(rtt_rttvar_uses_old_srtt)
{
	struct xtcp_rtt_est e;

	/*
	 * SRTT 800000, RTTVAR 400000, then R = 8000:
	 * with the old SRTT the deviation is 792000 -> RTTVAR = 300000 +
	 * 198000 = 498000. Had the new SRTT (800000 - 100000 + 1000 = 701000)
	 * been used it would be 300000 + 173250.
	 */
	xtcp_rtt_init(&e, 0, MAX_US);
	xtcp_rtt_sample(&e, 800000);
	CHECK_EST(&e, 800000, 400000, 2400000);
	xtcp_rtt_sample(&e, 8000);
	CHECK_EST(&e, 701000, 498000, 701000 + 1992000);
}

TEST(rtt_steady_state_and_granularity)
{
	struct xtcp_rtt_est e;
	int i;

	/*
	 * Constant R = 50000: SRTT stays put, RTTVAR decays by 1/4 each time
	 * (25000, 18750, 14063, ...) and gets stuck at 3, where 3/4 = 0.
	 * 4 * RTTVAR is then below G, so RTO = SRTT + G.
	 */
	xtcp_rtt_init(&e, 0, MAX_US);
	xtcp_rtt_sample(&e, 50000);
	CHECK_EST(&e, 50000, 25000, 150000);
	xtcp_rtt_sample(&e, 50000);
	CHECK_EST(&e, 50000, 18750, 125000);
	xtcp_rtt_sample(&e, 50000);
	CHECK_EST(&e, 50000, 14063, 50000 + 56252);
	for (i = 0; i < 100; i++)
		xtcp_rtt_sample(&e, 50000);
	CHECK_EST(&e, 50000, 3, 51000);

	/* First sample 300: 4 * 150 = 600 < G, RTO = 300 + 1000. */
	xtcp_rtt_init(&e, 0, MAX_US);
	xtcp_rtt_sample(&e, 300);
	CHECK_EST(&e, 300, 150, 1300);

	/* 4 * RTTVAR exactly G: 500 + 1000 either way. */
	xtcp_rtt_init(&e, 0, MAX_US);
	xtcp_rtt_sample(&e, 500);
	CHECK_EST(&e, 500, 250, 1500);
}

TEST(rtt_min_clamp)
{
	struct xtcp_rtt_est e;
	int i;

	/* 1000 + 2000 = 3000 is below the 200 ms floor. */
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 1000);
	CHECK_EST(&e, 1000, 500, MIN_US);
	/*
	 * Either side of the floor: 66666 + 133332 = 199998 and
	 * 66667 + 133332 = 199999 are raised to 200000;
	 * 66668 + 133336 = 200004 is kept.
	 */
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 66666);
	CHECK_EST(&e, 66666, 33333, 200000);
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 66667);
	CHECK_EST(&e, 66667, 33333, 200000);
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 66668);
	CHECK_EST(&e, 66668, 33334, 200004);

	/* RFC 6298's own 1 s floor (2.4), if the caller asks for it. */
	xtcp_rtt_init(&e, 1000000, 60000000);
	xtcp_rtt_sample(&e, 100000);
	CHECK_EST(&e, 100000, 50000, 1000000);
	for (i = 0; i < 50; i++)
		xtcp_rtt_sample(&e, 100);
	CHECK_EQ(e.rto_us, 1000000);
}

TEST(rtt_max_clamp)
{
	struct xtcp_rtt_est e;

	/* 100 s + 4 * 50 s = 300 s, capped at 120 s. */
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 100000000);
	CHECK_EST(&e, 100000000, 50000000, MAX_US);
	/* Exactly at the cap: 40 s + 4 * 20 s = 120 s. */
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 40000000);
	CHECK_EST(&e, 40000000, 20000000, 120000000);
}

TEST(rtt_extreme_samples_no_overflow)
{
	struct xtcp_rtt_est e;

	/* SRTT + 4 * RTTVAR would be ~1.3e10: must clamp, not wrap. */
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 0xffffffffu);
	CHECK_EST(&e, 0xffffffffu, 0x7fffffffu, MAX_US);
	/* Same again: deviation 0, RTTVAR = 2147483647 - 536870911. */
	xtcp_rtt_sample(&e, 0xffffffffu);
	CHECK_EST(&e, 0xffffffffu, 1610612736u, MAX_US);
	/*
	 * Then 0 (taken as 1): deviation 4294967294, /4 = 1073741823;
	 * RTTVAR = 1610612736 - 402653184 + 1073741823 = 2281701375;
	 * SRTT = 4294967295 - 536870911 + 0 = 3758096384.
	 */
	xtcp_rtt_sample(&e, 0);
	CHECK_EST(&e, 3758096384u, 2281701375u, MAX_US);

	/* With no cap to hide behind: max = 2^32 - 1. */
	xtcp_rtt_init(&e, 0, 0xffffffffu);
	xtcp_rtt_sample(&e, 0xffffffffu);
	CHECK_EQ(e.rto_us, 0xffffffffu);
}

TEST(rtt_zero_sample)
{
	struct xtcp_rtt_est e;

	/*
	 * A 0 us measurement (a coarse clock) counts as 1 us, so that SRTT
	 * is non-zero afterwards and the next sample is not mistaken for
	 * the first: SRTT 1, RTTVAR 0, RTO = 1 + G.
	 */
	xtcp_rtt_init(&e, 0, MAX_US);
	xtcp_rtt_sample(&e, 0);
	CHECK_EST(&e, 1, 0, 1001);
	/*
	 * R = 100000 goes through (2.3): deviation 99999;
	 * RTTVAR = 0 + 24999; SRTT = 1 - 0 + 12500 = 12501;
	 * RTO = 12501 + 99996 = 112497.
	 */
	xtcp_rtt_sample(&e, 100000);
	CHECK_EST(&e, 12501, 24999, 112497);

	/* Under the 200 ms floor the first zero sample gives the floor. */
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 0);
	CHECK_EST(&e, 1, 0, MIN_US);

	/*
	 * A zero sample on an established estimate: deviation 99999;
	 * RTTVAR = 50000 - 12500 + 24999 = 62499;
	 * SRTT = 100000 - 12500 + 0 = 87500; RTO = 87500 + 249996.
	 */
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 100000);
	xtcp_rtt_sample(&e, 0);
	CHECK_EST(&e, 87500, 62499, 337496);

	/* Many zero samples: SRTT never returns to 0 ("no sample yet"). */
	{
		int i;

		for (i = 0; i < 200; i++)
			xtcp_rtt_sample(&e, 0);
		CHECK(e.srtt_us >= 1);
		CHECK_EQ(e.rto_us, MIN_US);
	}
}

TEST(rtt_backoff_doubling)
{
	struct xtcp_rtt_est e;

	xtcp_rtt_init(&e, MIN_US, MAX_US);
	/* Before any sample: 1 s, 2 s, 4 s, ... (RFC 6298 5.5). */
	CHECK_EQ(xtcp_rto_backoff(&e, 0), 1000000);
	CHECK_EQ(xtcp_rto_backoff(&e, 1), 2000000);
	CHECK_EQ(xtcp_rto_backoff(&e, 2), 4000000);
	CHECK_EQ(xtcp_rto_backoff(&e, 6), 64000000);

	xtcp_rtt_sample(&e, 100000);	/* RTO 300 ms */
	CHECK_EQ(xtcp_rto_backoff(&e, 0), 300000);
	CHECK_EQ(xtcp_rto_backoff(&e, 1), 600000);
	CHECK_EQ(xtcp_rto_backoff(&e, 2), 1200000);
	CHECK_EQ(xtcp_rto_backoff(&e, 3), 2400000);
	CHECK_EQ(xtcp_rto_backoff(&e, 8), 76800000);
	/* The estimator itself is untouched by backing off. */
	CHECK_EST(&e, 100000, 50000, 300000);
}

TEST(rtt_backoff_cap)
{
	struct xtcp_rtt_est e;

	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 100000);	/* RTO 300 ms */
	/* 300 ms * 512 = 153.6 s > 120 s. */
	CHECK_EQ(xtcp_rto_backoff(&e, 9), MAX_US);
	CHECK_EQ(xtcp_rto_backoff(&e, 10), MAX_US);
	CHECK_EQ(xtcp_rto_backoff(&e, 31), MAX_US);
	CHECK_EQ(xtcp_rto_backoff(&e, 32), MAX_US);
	CHECK_EQ(xtcp_rto_backoff(&e, 64), MAX_US);
	CHECK_EQ(xtcp_rto_backoff(&e, UINT_MAX), MAX_US);

	/* Already at the cap: stays there. */
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_sample(&e, 100000000);
	CHECK_EQ(xtcp_rto_backoff(&e, 0), MAX_US);
	CHECK_EQ(xtcp_rto_backoff(&e, 1), MAX_US);

	/* A cap near 2^32: doubling must not wrap in 32 bits. */
	xtcp_rtt_init(&e, 0, 0xffffffffu);
	CHECK_EQ(xtcp_rto_backoff(&e, 12), 4096000000u);
	CHECK_EQ(xtcp_rto_backoff(&e, 13), 0xffffffffu);
	CHECK_EQ(xtcp_rto_backoff(&e, 100), 0xffffffffu);
	CHECK_EQ(xtcp_rto_backoff(&e, UINT_MAX), 0xffffffffu);
}

TEST(rtt_set_min_from_route)
{
	struct xtcp_rtt_est e;

	/* Before any sample the initial 1 s stands under a lower floor. */
	xtcp_rtt_init(&e, MIN_US, MAX_US);
	xtcp_rtt_set_min(&e, 10000);
	CHECK_EQ(e.min_rto_us, 10000);
	CHECK_EST(&e, 0, 0, 1000000);
	/* A 2 ms RTT: SRTT 2000 + 4 * 1000 = 6 ms, floored at 10 ms, not 200. */
	xtcp_rtt_sample(&e, 2000);
	CHECK_EST(&e, 2000, 1000, 10000);
	/* Lowering the floor further re-derives the timeout from the samples. */
	xtcp_rtt_set_min(&e, 1000);
	CHECK_EST(&e, 2000, 1000, 6000);
	/* Raising it lifts the timeout at once. */
	xtcp_rtt_set_min(&e, 300000);
	CHECK_EST(&e, 2000, 1000, 300000);
	/* Backoff doubles from the floored value. */
	CHECK_EQ(xtcp_rto_backoff(&e, 1), 600000);
	/* A floor above the cap is taken as the cap. */
	xtcp_rtt_set_min(&e, MAX_US + 1);
	CHECK_EQ(e.min_rto_us, MAX_US);
	CHECK_EQ(e.rto_us, MAX_US);
	/* Zero: only the granularity term keeps the timeout above SRTT. */
	xtcp_rtt_set_min(&e, 0);
	CHECK_EST(&e, 2000, 1000, 6000);
}

TH_SUITE_BEGIN(rtt)
TH_CASE(rtt_init)
TH_CASE(rtt_first_sample)
TH_CASE(rtt_subsequent_samples_exact)
TH_CASE(rtt_rttvar_uses_old_srtt)
TH_CASE(rtt_steady_state_and_granularity)
TH_CASE(rtt_min_clamp)
TH_CASE(rtt_max_clamp)
TH_CASE(rtt_extreme_samples_no_overflow)
TH_CASE(rtt_zero_sample)
TH_CASE(rtt_backoff_doubling)
TH_CASE(rtt_backoff_cap)
TH_CASE(rtt_set_min_from_route)
TH_SUITE_END(rtt);
