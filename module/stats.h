/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-namespace counters, shown in /proc/net/xtcp_stat as "XtcpName value"
 * lines (nstat style). Per-CPU, so the receive hook counts without a shared
 * cache line.
 */
#ifndef _XTCP_STATS_H
#define _XTCP_STATS_H

#include <linux/percpu.h>

enum xtcp_mib_field {
	XTCP_MIB_IN_SEGS,
	XTCP_MIB_OUT_SEGS,
	XTCP_MIB_RETRANS_SEGS,
	XTCP_MIB_IN_ERRS_SHORT,
	XTCP_MIB_IN_ERRS_BAD_DOFF,
	XTCP_MIB_IN_ERRS_BAD_OPTION,
	XTCP_MIB_IN_ERRS_CHECKSUM,
	XTCP_MIB_IN_ERRS_FRAGMENT,
	XTCP_MIB_IN_ERRS_NO_MEMORY,
	XTCP_MIB_IN_NO_SOCKET,
	XTCP_MIB_OUT_RSTS,
	XTCP_MIB_IN_RSTS,
	XTCP_MIB_ACTIVE_OPENS,
	XTCP_MIB_PASSIVE_OPENS,
	XTCP_MIB_ATTEMPT_FAILS,
	XTCP_MIB_ESTAB_RESETS,
	XTCP_MIB_LISTEN_OVERFLOWS,
	XTCP_MIB_LISTEN_DROPS,
	XTCP_MIB_RTO_TIMEOUTS,
	XTCP_MIB_FAST_RETRANS,
	XTCP_MIB_ZERO_WINDOW_PROBES,
	XTCP_MIB_OFO_QUEUED,
	XTCP_MIB_DROP_BEYOND_WINDOW,
	XTCP_MIB_DROP_RCVBUF_FULL,
	XTCP_MIB_DROP_OLD_SEQ,
	XTCP_MIB_BACKLOG_DROPS,
	XTCP_MIB_DELAYED_ACKS,
	XTCP_MIB_TIME_WAIT_ENTERED,
	XTCP_MIB_HYSTART_DELAY_EXITS,
	XTCP_MIB_KEEPALIVE_PROBES,
	XTCP_MIB_KEEPALIVE_TIMEOUTS,
	XTCP_MIB_USER_TIMEOUTS,
	XTCP_MIB_SACK_RECOVERY,
	XTCP_MIB_RENO_RECOVERY,
	XTCP_MIB_DSACK_OLD_SENT,
	XTCP_MIB_DSACK_OFO_SENT,
	XTCP_MIB_DSACK_RECV,
	XTCP_MIB_PAWS_REJECTED,
	XTCP_MIB_LOSS_PROBES,
	XTCP_MIB_LOSS_PROBE_RECOVERY,
	XTCP_MIB_SACK_REORDER,
	XTCP_MIB_TS_REORDER,
	XTCP_MIB_MAX
};

struct xtcp_mib {
	unsigned long v[XTCP_MIB_MAX];
};

struct net;
void xtcp_stat_inc(const struct net *net, enum xtcp_mib_field field);
void xtcp_stat_add(const struct net *net, enum xtcp_mib_field field,
		   unsigned long n);
int xtcp_stats_net_init(struct net *net);
void xtcp_stats_net_exit(struct net *net);

#endif /* _XTCP_STATS_H */
