// SPDX-License-Identifier: GPL-2.0
/* Counters per network namespace and their /proc/net/xtcp_stat view. */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>

#include "xtcp.h"

static const char *const xtcp_mib_names[XTCP_MIB_MAX] = {
	[XTCP_MIB_IN_SEGS] = "InSegs",
	[XTCP_MIB_OUT_SEGS] = "OutSegs",
	[XTCP_MIB_RETRANS_SEGS] = "RetransSegs",
	[XTCP_MIB_IN_ERRS_SHORT] = "InErrsShort",
	[XTCP_MIB_IN_ERRS_BAD_DOFF] = "InErrsBadDoff",
	[XTCP_MIB_IN_ERRS_BAD_OPTION] = "InErrsBadOption",
	[XTCP_MIB_IN_ERRS_CHECKSUM] = "InErrsChecksum",
	[XTCP_MIB_IN_NOT_UNICAST] = "InNotUnicast",
	[XTCP_MIB_IN_POLICY_DROPS] = "InPolicyDrops",
	[XTCP_MIB_IN_FILTER_DROPS] = "InFilterDrops",
	[XTCP_MIB_IN_NO_SOCKET] = "InNoSocket",
	[XTCP_MIB_OUT_RSTS] = "OutRsts",
	[XTCP_MIB_IN_RSTS] = "InRsts",
	[XTCP_MIB_ACTIVE_OPENS] = "ActiveOpens",
	[XTCP_MIB_PASSIVE_OPENS] = "PassiveOpens",
	[XTCP_MIB_ATTEMPT_FAILS] = "AttemptFails",
	[XTCP_MIB_EMBRYONIC_RSTS] = "EmbryonicRsts",
	[XTCP_MIB_ESTAB_RESETS] = "EstabResets",
	[XTCP_MIB_LISTEN_OVERFLOWS] = "ListenOverflows",
	[XTCP_MIB_LISTEN_DROPS] = "ListenDrops",
	[XTCP_MIB_RTO_TIMEOUTS] = "RtoTimeouts",
	[XTCP_MIB_FAST_RETRANS] = "FastRetrans",
	[XTCP_MIB_ZERO_WINDOW_PROBES] = "ZeroWindowProbes",
	[XTCP_MIB_OFO_QUEUED] = "OfoQueued",
	[XTCP_MIB_OFO_PRUNED] = "OfoPruned",
	[XTCP_MIB_DROP_BEYOND_WINDOW] = "DropBeyondWindow",
	[XTCP_MIB_DROP_RCVBUF_FULL] = "DropRcvbufFull",
	[XTCP_MIB_DROP_OLD_SEQ] = "DropOldSeq",
	[XTCP_MIB_BACKLOG_DROPS] = "BacklogDrops",
	[XTCP_MIB_DELAYED_ACKS] = "DelayedAcks",
	[XTCP_MIB_TIME_WAIT_ENTERED] = "TimeWaitEntered",
	[XTCP_MIB_TIME_WAIT_OVERFLOW] = "TimeWaitOverflow",
	[XTCP_MIB_TIME_WAIT_RECYCLED] = "TWRecycled",
	[XTCP_MIB_ABORT_ON_MEMORY] = "AbortOnMemory",
	[XTCP_MIB_HYSTART_DELAY_EXITS] = "HystartDelayExits",
	[XTCP_MIB_KEEPALIVE_PROBES] = "KeepAliveProbes",
	[XTCP_MIB_KEEPALIVE_TIMEOUTS] = "KeepAliveTimeouts",
	[XTCP_MIB_USER_TIMEOUTS] = "UserTimeouts",
	[XTCP_MIB_SACK_RECOVERY] = "SackRecovery",
	[XTCP_MIB_RENO_RECOVERY] = "RenoRecovery",
	[XTCP_MIB_DSACK_OLD_SENT] = "DSACKOldSent",
	[XTCP_MIB_DSACK_OFO_SENT] = "DSACKOfoSent",
	[XTCP_MIB_DSACK_RECV] = "DSACKRecv",
	[XTCP_MIB_DSACK_DUBIOUS] = "DSACKIgnoredDubious",
	[XTCP_MIB_PAWS_REJECTED] = "PAWSEstab",
	[XTCP_MIB_LOSS_PROBES] = "LossProbes",
	[XTCP_MIB_LOSS_PROBE_RECOVERY] = "LossProbeRecovery",
	[XTCP_MIB_SACK_REORDER] = "SACKReorder",
	[XTCP_MIB_TS_REORDER] = "TSReorder",
	[XTCP_MIB_DSACK_UNDO] = "DSACKUndo",
	[XTCP_MIB_FULL_UNDO] = "FullUndo",
	[XTCP_MIB_PARTIAL_UNDO] = "PartialUndo",
	[XTCP_MIB_ACK_SKIPPED_PAWS] = "ACKSkippedPAWS",
	[XTCP_MIB_ACK_SKIPPED_SEQ] = "ACKSkippedSeq",
	[XTCP_MIB_ACK_SKIPPED_CHALLENGE] = "ACKSkippedChallenge",
	[XTCP_MIB_ACK_SKIPPED_SYN_RECV] = "ACKSkippedSynRecv",
	[XTCP_MIB_ACK_SKIPPED_TIME_WAIT] = "ACKSkippedTimeWait",
	[XTCP_MIB_CHALLENGE_ACKS] = "ChallengeACK",
	[XTCP_MIB_DROP_TOO_OLD_ACK] = "DropTooOldAck",
	[XTCP_MIB_REQQ_FULL_DO_COOKIES] = "ReqQFullDoCookies",
	[XTCP_MIB_REQQ_FULL_DROP] = "ReqQFullDrop",
	[XTCP_MIB_SYNCOOKIES_SENT] = "SyncookiesSent",
	[XTCP_MIB_SYNCOOKIES_RECV] = "SyncookiesRecv",
	[XTCP_MIB_SYNCOOKIES_FAILED] = "SyncookiesFailed",
	[XTCP_MIB_MEMORY_PRESSURES] = "MemoryPressures",
	[XTCP_MIB_DROP_MEM_LIMIT] = "DropMemLimit",
	[XTCP_MIB_WQUEUE_TOO_BIG] = "WqueueTooBig",
	[XTCP_MIB_OUT_OF_WINDOW_ICMPS] = "OutOfWindowIcmps",
	[XTCP_MIB_LOCK_DROPPED_ICMPS] = "LockDroppedIcmps",
};

void xtcp_stat_inc(const struct net *net, enum xtcp_mib_field field)
{
	this_cpu_inc(xtcp_net(net)->mib->v[field]);
}

void xtcp_stat_add(const struct net *net, enum xtcp_mib_field field,
		   unsigned long n)
{
	this_cpu_add(xtcp_net(net)->mib->v[field], n);
}

static int xtcp_stat_show(struct seq_file *seq, void *v)
{
	struct xtcp_net *xn = xtcp_net(seq_file_single_net(seq));
	int field, cpu;

	for (field = 0; field < XTCP_MIB_MAX; field++) {
		unsigned long sum = 0;

		for_each_possible_cpu(cpu)
			sum += per_cpu_ptr(xn->mib, cpu)->v[field];
		seq_printf(seq, "Xtcp%s %lu\n", xtcp_mib_names[field], sum);
	}
	return 0;
}

int xtcp_stats_net_init(struct net *net)
{
	struct xtcp_net *xn = xtcp_net(net);

	xn->mib = alloc_percpu(struct xtcp_mib);
	if (!xn->mib)
		return -ENOMEM;
	if (!proc_create_net_single("xtcp_stat", 0444, net->proc_net,
				    xtcp_stat_show, NULL)) {
		free_percpu(xn->mib);
		xn->mib = NULL;
		return -ENOMEM;
	}
	return 0;
}

void xtcp_stats_net_exit(struct net *net)
{
	struct xtcp_net *xn = xtcp_net(net);

	remove_proc_entry("xtcp_stat", net->proc_net);
	free_percpu(xn->mib);
}
