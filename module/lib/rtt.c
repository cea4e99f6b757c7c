// SPDX-License-Identifier: GPL-2.0
/* RFC 6298 estimator: SRTT and RTTVAR with gains 1/8 and 1/4. */
#include "rtt.h"

static u32 clamp_rto(const struct xtcp_rtt_est *est, u64 rto)
{
	if (rto < est->min_rto_us)
		return est->min_rto_us;
	if (rto > est->max_rto_us)
		return est->max_rto_us;
	return (u32)rto;
}

/* (2.1) before the first sample, (2.2)/(2.3) after: SRTT + max(G, 4*RTTVAR) */
static u64 unclamped_rto(const struct xtcp_rtt_est *est)
{
	u64 var4 = (u64)est->rttvar_us * 4;

	if (!est->srtt_us)
		return XTCP_RTO_INITIAL_US;
	if (var4 < XTCP_CLOCK_GRANULARITY_US)
		var4 = XTCP_CLOCK_GRANULARITY_US;
	return est->srtt_us + var4;
}

void xtcp_rtt_init(struct xtcp_rtt_est *est, u32 min_rto_us, u32 max_rto_us)
{
	est->srtt_us = 0;
	est->rttvar_us = 0;
	est->min_rto_us = min_rto_us;
	est->max_rto_us = max_rto_us;
	est->rto_us = clamp_rto(est, unclamped_rto(est));
}

void xtcp_rtt_set_min(struct xtcp_rtt_est *est, u32 min_rto_us)
{
	est->min_rto_us = min_rto_us < est->max_rto_us ? min_rto_us :
							 est->max_rto_us;
	est->rto_us = clamp_rto(est, unclamped_rto(est));
}

void xtcp_rtt_sample(struct xtcp_rtt_est *est, u32 rtt_us)
{
	if (!rtt_us)
		rtt_us = 1;
	if (!est->srtt_us) {
		/* (2.2): first measurement */
		est->srtt_us = rtt_us;
		est->rttvar_us = rtt_us / 2;
	} else {
		/* (2.3): RTTVAR first, using the old SRTT */
		u32 delta = est->srtt_us > rtt_us ? est->srtt_us - rtt_us :
						    rtt_us - est->srtt_us;

		est->rttvar_us = est->rttvar_us - est->rttvar_us / 4 + delta / 4;
		est->srtt_us = est->srtt_us - est->srtt_us / 8 + rtt_us / 8;
		if (!est->srtt_us)
			est->srtt_us = 1;
	}
	est->rto_us = clamp_rto(est, unclamped_rto(est));
}

u32 xtcp_rto_backoff(const struct xtcp_rtt_est *est, unsigned int backoff)
{
	u64 rto = est->rto_us;

	while (backoff-- && rto < est->max_rto_us)
		rto <<= 1;
	return clamp_rto(est, rto);
}
