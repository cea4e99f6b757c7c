// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/sys/net/xtcp, per network namespace as native TCP's net.ipv4.tcp_*
 * knobs are:
 *   congestion_control            the algorithm of new sockets (cong.c)
 *   available_congestion_control  the algorithms built in (read only)
 *   sack                          offer and accept SACK (RFC 2018): 0 off
 *   timestamps                    offer and accept timestamps (RFC 7323):
 *                                 0 off, 1 or 2 on (native's 2, no random
 *                                 offset, is taken as 1)
 *   window_scaling                as net.ipv4.tcp_window_scaling: offer
 *                                 and accept window scaling (RFC 7323):
 *                                 0 neither
 *   recovery                      as net.ipv4.tcp_recovery: bit 1 RACK loss
 *                                 detection (RFC 8985), 2 a static
 *                                 reordering window, 4 no DupThresh
 *                                 shortcut to a zero window (rack.c)
 *   early_retrans                 as net.ipv4.tcp_early_retrans: 3 or 4
 *                                 send tail loss probes, 0..2 do not
 *   invalid_ratelimit             as net.ipv4.tcp_invalid_ratelimit: ms
 *                                 between replies of a socket to segments
 *                                 without data that it rejects (input.c)
 *   syncookies                    as net.ipv4.tcp_syncookies: 0 a full
 *                                 SYN queue drops SYNs, 1 answers them
 *                                 with SYN cookies, 2 every SYN gets a
 *                                 cookie (listen.c, syncookie.c)
 *   abort_on_overflow             as net.ipv4.tcp_abort_on_overflow: 0
 *                                 the ACK that finds the accept queue full
 *                                 is dropped (the SYN-ACK comes again),
 *                                 non-zero it is answered with a RST
 *   challenge_ack_limit           as net.ipv4.tcp_challenge_ack_limit:
 *                                 challenge ACKs (RFC 5961) the namespace
 *                                 sends per second, INT_MAX no limit
 *   max_tw_buckets                as net.ipv4.tcp_max_tw_buckets: TIME_WAIT
 *                                 entries (and orphans in FIN_WAIT2) the
 *                                 namespace keeps; a connection past it
 *                                 closes without one
 *   limit_output_bytes            as net.ipv4.tcp_limit_output_bytes: the
 *                                 most a socket keeps in qdiscs, devices
 *                                 and the peer's backlog before it waits
 *                                 for them to drain (output.c)
 *   tw_reuse                      as net.ipv4.tcp_tw_reuse: connect() may
 *                                 take over a TIME_WAIT entry's 4-tuple a
 *                                 second after its last timestamp: 0 never,
 *                                 1 always, 2 on loopback only (hash.c)
 *   max_orphans                   as net.ipv4.tcp_max_orphans: connections
 *                                 closed by their user with data still to
 *                                 send kept at most, in the namespace (at
 *                                 most the initial namespace's) and, by
 *                                 the initial namespace's, on the host;
 *                                 past it an orphan is reset when closed
 *                                 or when its timer asks for another try
 *                                 (sock.c, timer.c)
 *   orphan_retries                as net.ipv4.tcp_orphan_retries: how
 *                                 often an orphan resends its head before
 *                                 it gives up; 0 means 8 (timer.c)
 *   fin_timeout                   as net.ipv4.tcp_fin_timeout: seconds an
 *                                 orphan waits in FIN_WAIT2 for the peer's
 *                                 FIN, at least 3.5 RTOs (timer.c)
 *   wire                          1: sockets created from now on speak
 *                                 TCP (IP protocol 6) beside native TCP,
 *                                 and the namespace's TCP segments that
 *                                 belong to xtcp go to xtcp (demux.c); 0:
 *                                 our own protocol number, and every TCP
 *                                 segment to native TCP, those of wire
 *                                 connections still open too
 *   mem, rmem, wmem               as net.ipv4.tcp_mem, tcp_rmem and
 *                                 tcp_wmem, but for the whole host and
 *                                 only in the initial namespace (mem.c)
 * A new namespace starts with the initial namespace's algorithm, as native
 * TCP's does, and with SACK, timestamps, window scaling, RACK and TLP on (recovery 1,
 * early_retrans 3), invalid_ratelimit 500 ms, syncookies 1,
 * abort_on_overflow 0, challenge_ack_limit INT_MAX, fin_timeout 60 s:
 * native's defaults;
 * limit_output_bytes 1 MiB, tw_reuse 2 (native's), and max_orphans and
 * max_tw_buckets half the initial namespace's established table's
 * chains, 32768, as native's are half its table (12 MiB of entries at
 * most, where 262144 let a namespace keep 96 MiB); wire as the module's
 * wire= parameter says.
 * The values are read without a lock: each is one word, written whole.
 */
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>

#include "xtcp.h"

static int cong_default_handler(XTCP_SYSCTL_CONST struct ctl_table *table,
				int write, void *buffer, size_t *lenp,
				loff_t *ppos)
{
	struct xtcp_net *xn = table->data;
	char name[XTCP_CONG_NAME_MAX];
	struct ctl_table tmp = {
		.data = name,
		.maxlen = sizeof(name),
	};
	const struct xtcp_cong_ops *ops;
	int err;

	strscpy(name, READ_ONCE(xn->cong_default)->name, sizeof(name));
	err = proc_dostring(&tmp, write, buffer, lenp, ppos);
	if (err || !write)
		return err;
	ops = xtcp_cong_find(name);
	if (!ops)
		return -ENOENT;	/* as net.ipv4.tcp_congestion_control */
	WRITE_ONCE(xn->cong_default, ops);
	return 0;
}

static int cong_available_handler(XTCP_SYSCTL_CONST struct ctl_table *table,
				  int write, void *buffer, size_t *lenp,
				  loff_t *ppos)
{
	char names[4 * XTCP_CONG_NAME_MAX];
	struct ctl_table tmp = {
		.data = names,
		.maxlen = sizeof(names),
	};

	xtcp_cong_names(names, sizeof(names));
	return proc_dostring(&tmp, write, buffer, lenp, ppos);
}

/* Turning wire mode on puts the demux in front of native TCP first. */
static int wire_handler(XTCP_SYSCTL_CONST struct ctl_table *table, int write,
			void *buffer, size_t *lenp, loff_t *ppos)
{
	int *wire = table->data;
	int val = READ_ONCE(*wire);
	struct ctl_table tmp = {
		.data = &val,
		.maxlen = sizeof(val),
		.extra1 = SYSCTL_ZERO,
		.extra2 = SYSCTL_ONE,
	};
	int err;

	err = proc_dointvec_minmax(&tmp, write, buffer, lenp, ppos);
	if (err || !write)
		return err;
	if (val) {
		err = xtcp_demux_enable();
		if (err)
			return err;
	}
	WRITE_ONCE(*wire, val);
	return 0;
}

/* As net.ipv4.tcp_sack and tcp_abort_on_overflow, u8s: non-zero is on. */
static int u8_max = 255;
/* As net.ipv4.tcp_timestamps: 0, 1 or 2. */
static int timestamps_max = 2;
/* As net.ipv4.tcp_recovery's three bits and tcp_early_retrans' 0..4. */
static int recovery_max = 7;
static int early_retrans_max = 4;
/* As net.ipv4.tcp_syncookies: 0, 1 or 2. */
static int syncookies_max = 2;
/* As net.ipv4.tcp_tw_reuse: 0, 1 or 2. */
static int tw_reuse_max = 2;

enum {
	SYSCTL_CONG,
	SYSCTL_CONG_AVAILABLE,
	SYSCTL_SACK,
	SYSCTL_TIMESTAMPS,
	SYSCTL_WINDOW_SCALING,
	SYSCTL_RECOVERY,
	SYSCTL_EARLY_RETRANS,
	SYSCTL_INVALID_RATELIMIT,
	SYSCTL_SYNCOOKIES,
	SYSCTL_ABORT_ON_OVERFLOW,
	SYSCTL_CHALLENGE_ACK_LIMIT,
	SYSCTL_MAX_TW_BUCKETS,
	SYSCTL_LIMIT_OUTPUT_BYTES,
	SYSCTL_TW_REUSE,
	SYSCTL_MAX_ORPHANS,
	SYSCTL_ORPHAN_RETRIES,
	SYSCTL_FIN_TIMEOUT,
	SYSCTL_WIRE,
	/* Host-wide, in the initial namespace only: mem.c. */
	SYSCTL_MEM,
	SYSCTL_RMEM,
	SYSCTL_WMEM,
};

static const struct ctl_table xtcp_sysctl_template[] = {
	[SYSCTL_CONG] = {
		.procname = "congestion_control",
		.maxlen = XTCP_CONG_NAME_MAX,
		.mode = 0644,
		.proc_handler = cong_default_handler,
	},
	[SYSCTL_CONG_AVAILABLE] = {
		.procname = "available_congestion_control",
		.maxlen = 4 * XTCP_CONG_NAME_MAX,
		.mode = 0444,
		.proc_handler = cong_available_handler,
	},
	[SYSCTL_SACK] = {
		.procname = "sack",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = &u8_max,
	},
	[SYSCTL_TIMESTAMPS] = {
		.procname = "timestamps",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = &timestamps_max,
	},
	[SYSCTL_WINDOW_SCALING] = {
		.procname = "window_scaling",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = SYSCTL_ONE,
	},
	[SYSCTL_RECOVERY] = {
		.procname = "recovery",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = &recovery_max,
	},
	[SYSCTL_EARLY_RETRANS] = {
		.procname = "early_retrans",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = &early_retrans_max,
	},
	[SYSCTL_INVALID_RATELIMIT] = {
		.procname = "invalid_ratelimit",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = SYSCTL_INT_MAX,
	},
	[SYSCTL_SYNCOOKIES] = {
		.procname = "syncookies",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = &syncookies_max,
	},
	[SYSCTL_ABORT_ON_OVERFLOW] = {
		.procname = "abort_on_overflow",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = &u8_max,
	},
	[SYSCTL_CHALLENGE_ACK_LIMIT] = {
		.procname = "challenge_ack_limit",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = SYSCTL_INT_MAX,
	},
	[SYSCTL_MAX_TW_BUCKETS] = {
		.procname = "max_tw_buckets",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = SYSCTL_INT_MAX,
	},
	[SYSCTL_LIMIT_OUTPUT_BYTES] = {
		.procname = "limit_output_bytes",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = SYSCTL_INT_MAX,
	},
	[SYSCTL_TW_REUSE] = {
		.procname = "tw_reuse",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = &tw_reuse_max,
	},
	[SYSCTL_MAX_ORPHANS] = {
		.procname = "max_orphans",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = SYSCTL_INT_MAX,
	},
	[SYSCTL_ORPHAN_RETRIES] = {
		.procname = "orphan_retries",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = &u8_max,
	},
	[SYSCTL_FIN_TIMEOUT] = {
		.procname = "fin_timeout",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_jiffies,
	},
	[SYSCTL_WIRE] = {
		.procname = "wire",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = wire_handler,
	},
	[SYSCTL_MEM] = {
		.procname = "mem",
		.data = sysctl_xtcp_mem,
		.maxlen = sizeof(sysctl_xtcp_mem),
		.mode = 0644,
		.proc_handler = proc_doulongvec_minmax,
	},
	[SYSCTL_RMEM] = {
		.procname = "rmem",
		.data = sysctl_xtcp_rmem,
		.maxlen = sizeof(sysctl_xtcp_rmem),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ONE,
	},
	[SYSCTL_WMEM] = {
		.procname = "wmem",
		.data = sysctl_xtcp_wmem,
		.maxlen = sizeof(sysctl_xtcp_wmem),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ONE,
	},
	{ }
};

int xtcp_sysctl_net_init(struct net *net)
{
	/* All but the empty entry that ends the table for 6.1. */
	size_t nr_entries = ARRAY_SIZE(xtcp_sysctl_template) - 1;
	struct xtcp_net *xn = xtcp_net(net);
	struct ctl_table *table;

	BUILD_BUG_ON(ARRAY_SIZE(xtcp_sysctl_template) != SYSCTL_WMEM + 2);
	xn->cong_default = net_eq(net, &init_net) ? xtcp_cong_find("cubic") :
			   READ_ONCE(xtcp_net(&init_net)->cong_default);
	xn->sack = 1;
	xn->timestamps = 1;
	xn->window_scaling = 1;
	xn->recovery = XTCP_RECOVERY_RACK;
	xn->early_retrans = 3;
	xn->invalid_ratelimit_ms = 500;
	xn->syncookies = 1;
	xn->abort_on_overflow = 0;
	xn->challenge_ack_limit = INT_MAX;
	xn->limit_output_bytes = SZ_1M;
	xn->time_wait_reuse = 2;
	/*
	 * As native's: half the established table's chains; a new
	 * namespace starts with the initial namespace's, its ceiling.
	 */
	xn->max_orphans = net_eq(net, &init_net) ? (xn->ehash_mask + 1) / 2 :
			  READ_ONCE(xtcp_net(&init_net)->max_orphans);
	/* A new namespace starts with the initial one's, not capped by it. */
	xn->max_tw_buckets = net_eq(net, &init_net) ?
			     (xn->ehash_mask + 1) / 2 :
			     READ_ONCE(xtcp_net(&init_net)->max_tw_buckets);
	xn->orphan_retries = 0;
	xn->fin_timeout = XTCP_FIN_TIMEOUT;
	xn->wire = xtcp_wire_default;
	atomic_set(&xn->orphan_count, 0);
	atomic_set(&xn->tw_count, 0);
	table = kmemdup(xtcp_sysctl_template, sizeof(xtcp_sysctl_template),
			GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	table[SYSCTL_CONG].data = xn;
	table[SYSCTL_SACK].data = &xn->sack;
	table[SYSCTL_TIMESTAMPS].data = &xn->timestamps;
	table[SYSCTL_WINDOW_SCALING].data = &xn->window_scaling;
	table[SYSCTL_RECOVERY].data = &xn->recovery;
	table[SYSCTL_EARLY_RETRANS].data = &xn->early_retrans;
	table[SYSCTL_INVALID_RATELIMIT].data = &xn->invalid_ratelimit_ms;
	table[SYSCTL_SYNCOOKIES].data = &xn->syncookies;
	table[SYSCTL_ABORT_ON_OVERFLOW].data = &xn->abort_on_overflow;
	table[SYSCTL_CHALLENGE_ACK_LIMIT].data = &xn->challenge_ack_limit;
	table[SYSCTL_MAX_TW_BUCKETS].data = &xn->max_tw_buckets;
	table[SYSCTL_LIMIT_OUTPUT_BYTES].data = &xn->limit_output_bytes;
	table[SYSCTL_TW_REUSE].data = &xn->time_wait_reuse;
	table[SYSCTL_MAX_ORPHANS].data = &xn->max_orphans;
	table[SYSCTL_ORPHAN_RETRIES].data = &xn->orphan_retries;
	table[SYSCTL_FIN_TIMEOUT].data = &xn->fin_timeout;
	table[SYSCTL_WIRE].data = &xn->wire;
	if (!net_eq(net, &init_net)) {
		/* Lower than the host's, never higher. */
		table[SYSCTL_MAX_ORPHANS].extra2 =
			&xtcp_net(&init_net)->max_orphans;
		/*
		 * The host's memory is not a namespace's to set: the table
		 * ends before mem, rmem and wmem (an empty entry for 6.1).
		 */
		nr_entries = SYSCTL_MEM;
		memset(&table[SYSCTL_MEM], 0, sizeof(table[SYSCTL_MEM]));
	}
	xn->sysctl = xtcp_register_net_sysctl(net, "net/xtcp", table,
					      nr_entries);
	if (!xn->sysctl) {
		kfree(table);
		return -ENOMEM;
	}
	return 0;
}

void xtcp_sysctl_net_exit(struct net *net)
{
	struct xtcp_net *xn = xtcp_net(net);
	const struct ctl_table *table = xn->sysctl->ctl_table_arg;

	unregister_net_sysctl_table(xn->sysctl);
	kfree(table);
}
