/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Round-trip time estimation and the retransmission timeout, RFC 6298.
 * All times in microseconds.
 */
#ifndef _XTCP_LIB_RTT_H
#define _XTCP_LIB_RTT_H

#include "types.h"

#define XTCP_RTO_INITIAL_US	1000000u	/* RFC 6298 (2.1) */
#define XTCP_RTO_MIN_US		200000u		/* Linux's floor, not RFC's 1 s */
#define XTCP_RTO_MAX_US		120000000u	/* Linux's TCP_RTO_MAX */
#define XTCP_CLOCK_GRANULARITY_US 1000u

struct xtcp_rtt_est {
	u32 srtt_us;		/* smoothed RTT; 0 until the first sample */
	u32 rttvar_us;		/* RTT variation */
	u32 rto_us;		/* current timeout, before backoff */
	u32 min_rto_us;
	u32 max_rto_us;
};

void xtcp_rtt_init(struct xtcp_rtt_est *est, u32 min_rto_us, u32 max_rto_us);

/*
 * Change the floor (a route's rto_min metric) and recompute the timeout from
 * the samples so far; a floor above the cap is taken as the cap.
 */
void xtcp_rtt_set_min(struct xtcp_rtt_est *est, u32 min_rto_us);

/* Feed one RTT measurement (never from a retransmitted segment: Karn). */
void xtcp_rtt_sample(struct xtcp_rtt_est *est, u32 rtt_us);

/* The timeout after @backoff consecutive expiries: doubled each time, capped. */
u32 xtcp_rto_backoff(const struct xtcp_rtt_est *est, unsigned int backoff);

#endif /* _XTCP_LIB_RTT_H */
