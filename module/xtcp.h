/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp internals: the socket, the per-namespace tables and the functions the
 * files of the module call in each other.
 *
 * Locking, in one place:
 * - Every field of struct xtcp_sock below "connection state" is guarded by
 *   the socket lock. Process context takes it with lock_sock(); softirq
 *   (the receive hook, timers) takes bh_lock_sock() and, when a user owns the
 *   socket, defers: segments go to the socket backlog (sk_add_backlog) and
 *   timer work to xs->deferred, both run by release_sock().
 * - The per-namespace tables (struct xtcp_net) have their own spinlock, taken
 *   with _bh from process context and plain from softirq; a socket in a table
 *   holds a reference for it. Lookups return a held socket.
 * - A listener's queues (syn_queue of half-open request socks, accept_queue
 *   of children, their lengths, each child's queue_state and each request's
 *   listed/young) are guarded by the listener's queue_lock, a plain spinlock
 *   (_bh in process context) that is never held while taking a socket lock
 *   or the table lock. A child holds a reference on its listener (parent)
 *   that is dropped only with the child's own socket lock held; a request
 *   sock holds one (rsk_listener) until it is freed.
 */
#ifndef _XTCP_H
#define _XTCP_H

#include <linux/ip.h>
#include <linux/skbuff.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/timer.h>
#include <net/inet_sock.h>
#include <net/inet_timewait_sock.h>
#include <net/request_sock.h>
#include <net/sock.h>

#include "compat.h"
#include "lib/seq.h"
#include "lib/wire.h"
#include "lib/rtt.h"
#include "lib/window.h"
#include "lib/sack_blocks.h"
#include "lib/syncookie.h"
#include "stats.h"

extern int xtcp_family;
extern int xtcp_ipproto;
extern unsigned int xtcp_tw_len_ms;
extern unsigned int xtcp_isn_wrap_after;

#define XTCP_MSS_DEFAULT	536	/* RFC 9293 3.7.1, no MSS option */
#define XTCP_MIN_MSS		88	/* as Linux's TCP_MIN_MSS */
/*
 * The lowest send MSS before the timestamp option, whatever the peer
 * announces: native's tcp_min_snd_mss default, room for the options and
 * 8 bytes of data.
 */
#define XTCP_MIN_SND_MSS	48
#define XTCP_MAX_USER_MSS	32767	/* as Linux's MAX_TCP_WINDOW */
#define XTCP_INIT_CWND		10	/* RFC 6928 */
#define XTCP_DELACK_MS		40
#define XTCP_QUICKACKS		16	/* ACK every segment at the start */
#define XTCP_SYN_RETRIES	6
#define XTCP_SYNACK_RETRIES	5
#define XTCP_DATA_RETRIES	15
#define XTCP_ORPHAN_PROBES	8	/* as tcp_orphan_retries' default */
#define XTCP_FIN_TIMEOUT	(60 * HZ)	/* orphaned FIN_WAIT2, as native's */
#define XTCP_DEFAULT_SNDBUF	16384	/* as tcp_wmem[1] */
#define XTCP_DEFAULT_RCVBUF	131072	/* as tcp_rmem[1] */
#define XTCP_MAX_SNDBUF		(4 << 20)	/* as tcp_wmem[2] */
#define XTCP_MAX_RCVBUF		(6 << 20)	/* as tcp_rmem[2] */
#define XTCP_INFINITE_SSTHRESH	0x7fffffff	/* no loss seen yet */
/* Keepalive defaults and bounds: native TCP's (net.ipv4.tcp_keepalive_*). */
#define XTCP_KEEPIDLE_S		7200
#define XTCP_KEEPINTVL_S	75
#define XTCP_KEEPCNT		9
#define XTCP_MAX_KEEPIDLE_S	32767
#define XTCP_MAX_KEEPINTVL_S	32767
#define XTCP_MAX_KEEPCNT	127
#define XTCP_CONG_NAME_MAX	16		/* as TCP_CA_NAME_MAX */

/*
 * The payload of an skb whose linear buffer is a 32 KiB allocation (order
 * 3): what new_write_skb falls back to when no 64 KiB block is free.
 */
#define XTCP_MAX_SKB_PAYLOAD	(SKB_WITH_OVERHEAD(32768) - XTCP_MAX_HEADER)
/* The GSO type our multi-segment packets carry: see offload.c. */
#define XTCP_GSO_TYPE		SKB_GSO_SCTP

/*
 * Largest payload one skb carries: a 64 KiB allocation (order 4), as a GSO
 * packet of native TCP carries 64 KiB. A segment bigger than that (the
 * loopback MSS, 65,483 bytes) is sent a little short, never from an order
 * 5 block; new_write_skb falls back to XTCP_MAX_SKB_PAYLOAD when memory is
 * fragmented.
 */
#define XTCP_MAX_GSO_PAYLOAD	(SKB_WITH_OVERHEAD(65536) - XTCP_MAX_HEADER)

/* Smallest buffer for a new skb, so small writes can share one. */
#define XTCP_MIN_SKB_PAYLOAD	2048

/*
 * Room for the IPv4 header with up to 40 bytes of options (IP_OPTIONS), our
 * header with options, and the link layer.
 */
#define XTCP_MAX_HEADER		(XTCP_MAX_HDR_LEN + MAX_HEADER + 60)

/*
 * Per-skb state on the write, retransmission, receive and out-of-order
 * queues.
 */
struct xtcp_skb_cb {
	u32 seq;		/* first sequence number */
	u32 end_seq;		/* seq + payload + SYN + FIN */
	u8 flags;		/* XTCP_FLAG_FIN, XTCP_FLAG_PSH (once sent) */
	u8 retransmitted;	/* Karn: no RTT sample from it */
	u8 rack;		/* enum xtcp_rack_skb_bits (rack.c) */
	u8 in_rtx_queue;	/* sent: on rtx_queue, not sk_write_queue */
	u32 sacked_end;		/* XTCP_RACK_PART: highest SACKed byte + 1 */
	u64 sent_us;		/* last transmission: RTT samples, RACK */
	/*
	 * A received SYN that ended a TIME_WAIT entry: the ISN its
	 * connection takes (past the old one's sequence space), else 0.
	 */
	u32 tw_isn;
	/*
	 * On the socket's resent_list while a retransmission of it is
	 * outstanding (rtxq.c), else empty.
	 */
	struct list_head resent_node;
};

/* What RACK (rack.c) knows of a sent skb. */
enum xtcp_rack_skb_bits {
	XTCP_RACK_SACKED = 1,	/* all of it SACKed: delivered */
	XTCP_RACK_RELOST = 2,	/* a retransmission of it was lost too */
	XTCP_RACK_PART = 4,	/* SACKed up to sacked_end, told to RACK */
};

#define XTCP_SKB_CB(skb) ((struct xtcp_skb_cb *)&((skb)->cb[0]))

/* Timer work a timer could not do while a user owned the socket. */
enum xtcp_deferred_bit {
	XTCP_DEFER_RTX,
	XTCP_DEFER_DELACK,
	XTCP_DEFER_STATE,
	XTCP_DEFER_KEEPALIVE,
	XTCP_DEFER_MTU,		/* an ICMP lowered the path MTU (icmp.c) */
};

/* What the retransmit timer is doing. */
enum xtcp_rtx_mode {
	XTCP_RTX_NONE,
	XTCP_RTX_RETRANSMIT,	/* data, SYN, SYN-ACK or FIN awaiting ACK */
	XTCP_RTX_PERSIST,	/* zero window: probe it */
	XTCP_RTX_REORDER,	/* RACK: data may be lost once this fires */
	XTCP_RTX_PROBE,		/* tail loss probe (TLP) before the RTO */
};

/*
 * RACK-TLP sender state, RFC 8985 (socket lock), rack.c. Times in us, on
 * the xtcp_clock_us() clock of xtcp_skb_cb.sent_us.
 */
struct xtcp_rack {
	u64 xmit_us;		/* sent time of the latest-sent delivered skb */
	u32 end_seq;		/* ... its end (ties of xmit_us) */
	u32 rtt_us;		/* RTT of that delivery */
	u32 fack;		/* highest end of a delivered skb */
	u32 lost_high;		/* first sends below it, not SACKed: lost */
	u32 dsack_round;	/* no reo_wnd growth until snd_una passes it */
	u32 reord_seen;		/* reorderings seen (tcpi_reord_seen) */
	bool on;		/* SACK agreed and net.xtcp.recovery has RACK */
	bool advanced;		/* xmit_us moved: look for losses */
	bool relost;		/* some skb is marked XTCP_RACK_RELOST */
	u8 reo_wnd_mult;	/* reo_wnd in min_rtt/4 steps (DSACK grows it) */
	u8 reo_wnd_persist;	/* recoveries left before mult falls to 1 */
	bool ack_ts_valid;	/* the ACK being taken echoes our clock: */
	bool ack_ts_reorder;	/* ... and showed reordering already */
	u32 ack_echo_ms;	/* ... the send time (ms) of what it answers */
	bool dsack_round_on;	/* dsack_round is valid */
	/* tail loss probe */
	bool tlp_on;		/* a probe is out: tlp_high_seq is valid */
	bool tlp_retrans;	/* ... and it resent data (not new data) */
	u32 tlp_high_seq;	/* snd_nxt when the probe left */
	u32 tlp_dsacks;		/* dsack_dups when the probe left */
};

struct xtcp_sock {
	struct inet_sock inet;	/* first: inet_sk() and sk are casts */

	/* connection state (socket lock) */
	u32 iss;		/* our initial sequence number */
	u32 snd_una;		/* oldest unacknowledged */
	u32 snd_nxt;		/* next to send (moves back after an RTO) */
	u32 snd_max;		/* highest ever sent + 1 */
	u32 snd_sml;		/* end of the last partial segment sent */
	u32 write_seq;		/* next byte sendmsg appends */
	u32 snd_wnd;		/* peer's window, scaled, bytes */
	u32 max_window;		/* largest window the peer offered */
	u32 snd_wl1;		/* seq of the segment that set snd_wnd */
	u32 snd_wl2;		/* ack of the segment that set snd_wnd */
	u32 irs;		/* peer's initial sequence number */
	u32 rcv_nxt;		/* next byte expected */
	u32 rcv_wnd;		/* window advertised at rcv_wup */
	u32 rcv_wup;		/* rcv_nxt when the window was last sent */
	u32 copied_seq;		/* next byte recvmsg hands to the user */
	u32 rcv_mss;		/* largest segment seen: when to ACK */

	u32 pmtu_cookie;	/* the path MTU mss_cache was computed for */
	u32 mtu_info;		/* next-hop MTU of the last ICMP (icmp.c) */
	u16 mss_cache;		/* effective send MSS (payload per segment) */
	u16 peer_mss;		/* MSS option from the peer */
	u16 user_mss;		/* TCP_MAXSEG, 0 when unset */
	u16 adv_mss;		/* what we announce: route MTU - 40 */
	u8 snd_wscale;		/* peer's shift for windows it sends us */
	u8 rcv_wscale;		/* our shift for windows we send */
	u8 nodelay:1,		/* TCP_NODELAY: Nagle off */
	   ack_now:1,		/* an ACK is owed (delayed-ACK timer) */
	   fin_sent:1,		/* FIN on the wire (snd_max covers it) */
	   cork:1,		/* TCP_CORK: only whole segments leave */
	   wscale_ok:1,		/* both sides sent the window scale option */
	   gso_ok:1,		/* the route takes GSO packets (offload.c) */
	   sack_ok:1,		/* SACK offered (SYN sent), then agreed */
	   ts_ok:1;		/* timestamps offered (SYN sent), then agreed */
	u8 quickacks;		/* segments still ACKed at once */
	u8 deferred_state;	/* state-timer work pending while owned */
	u8 rcv_wnd_held:1,	/* window held at 4 MSS: memory pressure */
	   ack_pushed:1,	/* a segment that likely ended a write ... */
	   ack_pushed2:1,	/* ... and another, since the last ACK */
	   pingpong:1;		/* replies carry our ACKs (interactive) */

	/* congestion control (socket lock), cong*.c */
	const struct xtcp_cong_ops *cong_ops;
	u64 cong_priv[8];	/* the algorithm's own state */
	u32 cwnd;		/* segments */
	u32 cwnd_cnt;		/* congestion avoidance: ACKed segments */
	u32 ssthresh;		/* segments */
	u32 dupacks;
	u32 recover;		/* snd_max when loss was detected */
	bool in_recovery;	/* NewReno fast recovery */
	u8 ca_state;		/* enum tcp_ca_state, for TCP_INFO */
	u8 cwnd_limited;	/* cwnd held data back (output.c) ... */
	u32 cwnd_limited_seq;	/* ... when snd_nxt was here */
	u32 acked_partial;	/* ACKed bytes short of a whole segment */
	/* a SACK recovery's reduction, until it proves spurious (cong.c) */
	bool undo_on;		/* the fields below describe one */
	bool undo_rtx_seen;	/* it has retransmitted */
	s32 undo_retrans;	/* segments resent and not D-SACKed back */
	u32 undo_first_rtx_ms;	/* when its first resend left (our clock) */
	u32 undo_start;		/* snd_una when it began */
	u32 undo_end;		/* snd_max then */
	u32 prior_cwnd;		/* cwnd and ssthresh before it */
	u32 prior_ssthresh;
	/* a SACK recovery's sending budget, RFC 6937 PRR (sack.c) */
	u32 prr_delivered;	/* bytes the peer got since it began */
	u32 prr_out;		/* bytes sent since it began */
	u32 prr_recover_fs;	/* snd_max - snd_una when it began */

	/* SACK (socket lock), sack.c */
	u8 num_sack_runs;	/* receiver: valid entries of sack_runs */
	bool dsack_pending;	/* receiver: dsack goes in the next ACK */
	bool dsack_ofo;		/* receiver: ... and was out-of-order data */
	struct xtcp_sack_block sack_runs[XTCP_MAX_SACK_BLOCKS];
				/* receiver: out-of-order runs, newest first */
	struct xtcp_sack_block dsack;	/* receiver: a duplicate (RFC 2883) */
	struct xtcp_scoreboard scoreboard;	/* sender: what the peer SACKed */
	struct xtcp_rack rack;	/* sender: time-based loss detection */
	u32 high_rxt;		/* sender: recovery resent all below this */
	u32 dsack_dups;		/* sender: DSACKs received */

	/* timestamps, RFC 7323 (socket lock), input.c and output.c */
	u32 ts_offset;		/* added to our millisecond clock: TSval */
	u32 ts_recent;		/* the peer's TSval we echo (TS.Recent) */
	u32 ts_recent_stamp;	/* seconds when ts_recent was taken, 0: none */
	/*
	 * jiffies of the last reply to a rejected segment without data, 0:
	 * none (socket lock), input.c
	 */
	unsigned long last_invalid_reply;

	/* per-connection counters for TCP_INFO (socket lock), info.c */
	u64 bytes_sent;		/* payload sent, retransmissions included */
	u64 bytes_retrans;
	u64 bytes_acked;
	u64 bytes_received;
	u32 segs_out;		/* segments sent, control ones included */
	u32 segs_in;
	u32 data_segs_out;
	u32 data_segs_in;
	u32 total_retrans;	/* segments retransmitted */
	u32 rcv_ooopack;	/* segments queued out of order */
	u32 min_rtt_us;		/* lowest RTT sample, 0: none */
	unsigned long data_sent_at;	/* jiffies: last data sent */
	unsigned long data_queued_at;	/* jiffies: in-order data last taken */
	unsigned long data_rcvd_at;	/* jiffies: last data received */
	unsigned long ack_rcvd_at;	/* jiffies: last ACK received */

	/* retransmission (socket lock) */
	struct xtcp_rtt_est rtt;
	enum xtcp_rtx_mode rtx_mode;
	u8 backoff;		/* consecutive RTO expiries */
	u8 retries;		/* consecutive retransmissions of the head */
	u8 probes;		/* zero-window probes since data was last ACKed */
	unsigned long probing_since;	/* jiffies: first probe of a closed
					 * window (TCP_USER_TIMEOUT), 0: none
					 */
	u32 rtt_seq;		/* sample in flight: ACK beyond this ends it */
	u64 rtt_start_us;
	bool rtt_pending;
	unsigned long rtx_series_start;	/* jiffies: the head's wait began */

	/* keepalive and user timeout (socket lock), timer.c */
	u32 keepidle_s;		/* TCP_KEEPIDLE, 0: XTCP_KEEPIDLE_S */
	u32 keepintvl_s;	/* TCP_KEEPINTVL, 0: XTCP_KEEPINTVL_S */
	u8 keepcnt;		/* TCP_KEEPCNT, 0: XTCP_KEEPCNT */
	u8 ka_probes;		/* keepalive probes since the peer last spoke */
	u32 user_timeout_ms;	/* TCP_USER_TIMEOUT, 0: retry counts rule */

	/* receive buffer autotuning (socket lock), recv.c */
	u32 rcv_rtt_us;		/* receiver's RTT estimate, 0: none yet */
	u32 rcv_rtt_seq;	/* the running sample ends at this rcv_nxt */
	u64 rcv_rtt_start_us;	/* 0: no sample running */
	u32 rcvq_seq;		/* copied_seq when this round began */
	u64 rcvq_start_us;	/* 0: no round yet */

	/*
	 * queues (socket lock), rtxq.c: skbs not yet (re)sent are on
	 * sk_write_queue, in sequence order; once sent they move to
	 * rtx_queue, by sequence, until acknowledged (an RTO moves them all
	 * back). resent_list links those of rtx_queue whose last
	 * transmission was a retransmission, oldest transmission first, for
	 * RACK: per-ACK work then does not walk the whole queue.
	 */
	struct rb_root rtx_queue;
	struct list_head resent_list;
	struct sk_buff_head ooo_queue;	/* out-of-order segments, by seq */

	/*
	 * Small queues (output.c): a push that finds too much of the
	 * socket's data below it sets XTCP_TSQ_THROTTLED (atomic bit ops);
	 * the destructor of the next such skb freed clears it and queues
	 * tsq_work, which keeps a unit of sk_wmem_alloc (the memory) and
	 * takes a socket reference while it pushes again under the lock.
	 */
	unsigned long tsq_flags;
	struct work_struct tsq_work;

	/* timers: each holds a socket reference while pending */
	struct timer_list rtx_timer;	/* RTO, persist, SYN/SYN-ACK resend */
	struct timer_list delack_timer;
	struct timer_list state_timer;	/* orphan FIN_WAIT2 */
	struct timer_list keepalive_timer;
	unsigned long deferred;		/* enum xtcp_deferred_bit */

	/* listener (queue_lock) */
	spinlock_t queue_lock;		/* guards the six fields below */
	struct list_head syn_queue;	/* request socks (SYN_RECV) */
	struct list_head accept_queue;	/* children ESTABLISHED, not accepted */
	u32 syn_queue_len;
	u32 syn_queue_young;		/* ... of them not yet sent twice */
	u32 accept_queue_len;
	bool queues_closed;		/* listen stopped: no child joins */
	/* listener, SYN cookies (socket lock), listen.c */
	unsigned long cookie_sent_at;	/* jiffies of the last one, 0: none */
	bool synflood_warned;		/* the log has said so once */

	/* child of a listener, until accept() */
	struct sock *parent;		/* child's socket lock */
	struct list_head queue_node;	/* parent's queue_lock */
	u8 queue_state;			/* parent's queue_lock */

	/* tables (xtcp_net lock); sk_bind_node: the bind table's */
	bool hashed;			/* in the established table */
	bool listening_hashed;		/* in the listener table */
	bool bound;			/* in the bind table */
	struct xtcp_guard *guard;	/* wire mode: its port in native's */
	bool wire;			/* set at creation: speaks TCP (demux.c) */
	bool connect_bound;		/* the port is connect()'s choice */
	bool orphan_counted;		/* socket lock: in orphan_count */
	bool fin_wait2_slot;		/* socket lock: FIN_WAIT2 orphan's slot */
};

static inline struct xtcp_sock *xtcp_sk(const struct sock *sk)
{
	return (struct xtcp_sock *)sk;
}

/*
 * A connection in TIME_WAIT (timewait.c): not the socket, which is closed
 * and freed, but what answering the peer for 2MSL takes, as native's
 * tcp_timewait_sock. The kernel's inet_timewait_sock is its head, so that
 * it shares the established table with sockets (sock_common), takes
 * references as they do, and sock_gen_put() frees it to its own slab
 * (xtcp_prot.twsk_prot). Its fields are set before it is hashed and then
 * read and written without a lock, as native's: segments of one entry
 * racing on two CPUs may lose a TS.Recent update or a timer restart.
 */
struct xtcp_tw_sock {
	struct inet_timewait_sock tw;	/* first: a sock_common */
	/* xtcp_net lock; sk_bind_node: the bind table's, while it lasts */
	bool hashed;			/* in the established table */
	bool connect_bound;		/* the port was connect()'s choice */
	bool ts_ok;
	u8 rcv_wscale;
	u8 protocol;			/* its socket's sk_protocol */
	struct xtcp_guard *guard;	/* its socket's, while it lasts */
	u32 snd_nxt;
	u32 rcv_nxt;
	u32 rcv_wnd;			/* what was left of our window */
	u32 ts_offset;
	u32 ts_recent;
	u32 ts_recent_stamp;		/* seconds, 0: none */
	unsigned long last_invalid_reply;	/* jiffies, 0: none */
};

/*
 * A half-open connection of a listener (SYN_RECV, request.c): not a socket
 * but what its handshake takes, as native's tcp_request_sock. The kernel's
 * request_sock is its head, so that it shares the established table with
 * sockets (sock_common, state TCP_NEW_SYN_RECV), takes references as they
 * do, and sock_gen_put() frees it to its own slab (xtcp_prot.rsk_prot);
 * it holds its listener (rsk_listener). References: the table's, the
 * pending timer's, and finders' own. Its fields are set before it is
 * hashed; then only the timer and segments of the 4-tuple write
 * num_timeout, num_retrans, ts_recent and last_reply, without a lock, as
 * native's: two CPUs racing may lose an update.
 */
struct xtcp_request_sock {
	struct inet_request_sock ireq;	/* first: a sock_common */
	struct list_head syn_node;	/* listener's queue_lock: syn_queue */
	bool listed;			/* listener's queue_lock: on it */
	bool young;			/* listener's queue_lock: not resent */
	bool hashed;			/* xtcp_net lock: in the table */
	u16 snd_wnd;			/* the SYN's window, never scaled */
	u16 peer_mss;			/* the SYN's MSS option or 536 */
	u32 iss;
	u32 irs;
	u32 ts_offset;
	u64 synack_sent_us;		/* the first SYN-ACK, for the RTT */
	unsigned long last_reply;	/* jiffies, 0: none */
};

static inline struct xtcp_request_sock *
xtcp_rsk(const struct request_sock *req)
{
	return (struct xtcp_request_sock *)req;
}

/* What is left of the window we last offered, past rcv_nxt. */
static inline u32 xtcp_rcv_wnd_remaining(const struct xtcp_sock *xs)
{
	u32 edge = xs->rcv_wup + xs->rcv_wnd;

	return xtcp_seq_after(edge, xs->rcv_nxt) ? edge - xs->rcv_nxt : 0;
}

static inline struct xtcp_tw_sock *xtcp_tw(const struct sock *sk)
{
	return (struct xtcp_tw_sock *)sk;
}

/*
 * The ISN of a connection that replaces TIME_WAIT entry @tw: two windows'
 * worth past what the old one sent, as native's, never 0 (0 means none).
 */
static inline u32 xtcp_isn_after_time_wait(const struct sock *tw)
{
	return xtcp_tw(tw)->snd_nxt + 65535 + 2 ?: 1;
}

/* RFC 7323's 24 days: an older TS.Recent no longer guards (PAWS). */
#define XTCP_PAWS_IDLE_S	(24 * 24 * 3600)
/* PAWS takes a TSval this many milliseconds behind TS.Recent as current. */
#define XTCP_PAWS_WINDOW_MS	1

/* The millisecond clock under every TSval. */
static inline u32 xtcp_ts_clock_ms(void)
{
	return (u32)div_u64(ktime_get_ns(), NSEC_PER_MSEC);
}

/* Our TSval now: the clock, offset per pair of hosts (xtcp_ts_offset). */
static inline u32 xtcp_ts_now(const struct xtcp_sock *xs)
{
	return xtcp_ts_clock_ms() + xs->ts_offset;
}

/* The clock of RTT samples and send times. */
static inline u64 xtcp_clock_us(void)
{
	return div_u64(ktime_get_ns(), NSEC_PER_USEC);
}

/*
 * A congestion control algorithm (cong.c has the shared parts). Every
 * hook runs under the socket lock; state of its own goes in cong_priv.
 */
struct xtcp_cong_ops {
	char name[XTCP_CONG_NAME_MAX];
	/* Chosen, or the connection (re)starts: cong_priv is zeroed. */
	void (*init)(struct sock *sk);
	/* New data ACKed outside recovery: grow cwnd (slow start too). */
	void (*cong_avoid)(struct sock *sk, u32 acked_segs);
	/* A loss: three duplicate ACKs or a first timeout. New ssthresh. */
	u32 (*ssthresh)(struct sock *sk);
	/* Optional: RTT of new data sent once, from an ACK (us). */
	void (*rtt_sample)(struct sock *sk, u32 rtt_us);
	/* Optional: a retransmission timeout (after ssthresh). */
	void (*on_timeout)(struct sock *sk);
};

/* Unread bytes in the receive queue (a received FIN is not one). */
static inline u32 xtcp_inq(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 n = READ_ONCE(xs->rcv_nxt) - READ_ONCE(xs->copied_seq);

	if (n && sock_flag(sk, SOCK_DONE))
		n--;
	return n;
}

/* Payload bytes the receive buffer may hold: half goes to overhead. */
static inline u32 xtcp_rcv_space(const struct sock *sk)
{
	return READ_ONCE(sk->sk_rcvbuf) / 2;
}

/* The window a SYN or SYN-ACK offers: never scaled (RFC 7323 2.2). */
static inline u32 xtcp_syn_window(const struct sock *sk)
{
	return min_t(u32, xtcp_rcv_space(sk), 0xffff);
}

/* The MSS we announce on a path of @mtu: TCP_MAXSEG's if lower. */
static inline u16 xtcp_adv_mss(u32 mtu, u16 user_mss)
{
	u32 mss = mtu - sizeof(struct iphdr) - XTCP_HDR_LEN;

	return user_mss && user_mss < mss ? user_mss : mss;
}

/*
 * In RFC 6675's loss recovery, not NewReno's: with SACK agreed, only
 * sack.c starts recoveries.
 */
static inline bool xtcp_in_sack_recovery(const struct xtcp_sock *xs)
{
	return xs->in_recovery && xs->sack_ok;
}

/* Bytes sent but not acknowledged. */
static inline u32 xtcp_in_flight(const struct xtcp_sock *xs)
{
	return xs->snd_nxt - xs->snd_una;
}

enum xtcp_queue_state {
	XTCP_Q_NONE,
	XTCP_Q_SYN,
	XTCP_Q_ACCEPT,
};

/* Per-namespace socket tables (struct xtcp_net lock, see top). */
/*
 * Established and bind table sizes: the initial namespace's as native's
 * tables on a small host (its established one grows with memory), other
 * namespaces', usually a container's few connections, a sixteenth.
 */
#define XTCP_EHASH_BITS		16
#define XTCP_BHASH_BITS		12
#define XTCP_CHILD_NET_SHIFT	4
#define XTCP_LHASH_BITS		6

struct xtcp_net {
	spinlock_t lock;	/* the three tables below */
	struct hlist_head *ehash;	/* by 4-tuple, ehash_mask + 1 heads */
	struct hlist_head *bhash;	/* bound ports, bhash_mask + 1 heads */
	u32 ehash_mask;
	u32 bhash_mask;
	struct hlist_head lhash[1 << XTCP_LHASH_BITS];	/* by local port */
	struct xtcp_mib __percpu *mib;
	/* net.xtcp.* (sysctl.c): one word each, read without a lock */
	const struct xtcp_cong_ops *cong_default;
	int sack;
	int timestamps;
	int window_scaling;	/* offer and accept RFC 7323 window scaling */
	int recovery;		/* XTCP_RECOVERY_* bits (rack.c) */
	int early_retrans;	/* 3 or 4: tail loss probes on (rack.c) */
	int invalid_ratelimit_ms;	/* replies to rejected segments */
	int syncookies;		/* 0, 1 or 2: when SYNs get cookies */
	int abort_on_overflow;	/* RST an ACK the accept queue has no room for */
	int challenge_ack_limit;	/* per second, INT_MAX: none */
	int max_tw_buckets;	/* TIME_WAIT entries kept, at most */
	int limit_output_bytes;	/* a socket's bytes below it, at most */
	int time_wait_reuse;	/* connect() may take TIME_WAIT 4-tuples */
	int max_orphans;	/* orphans kept, at most (sock.c) */
	int wire;		/* new sockets speak TCP, IP protocol 6 (demux.c) */
	int orphan_retries;	/* an orphan's retransmissions; 0: 8 (timer.c) */
	int fin_timeout;	/* an orphan's FIN_WAIT2, jiffies (timer.c) */
	atomic_t orphan_count;	/* orphans now (sock.c) */
	atomic_t tw_count;	/* TIME_WAIT entries now (timewait.c) */
	/*
	 * The namespace's challenge ACK budget (input.c): the second it is
	 * for and what is left of it. Racy by design, as native's: a lost
	 * update lets one ACK more or fewer through.
	 */
	u32 challenge_stamp;
	u32 challenge_count;
	struct ctl_table_header *sysctl;
};

struct xtcp_net *xtcp_net(const struct net *net);

/* af.c */
/* mem.c: protocol memory accounting (net.xtcp.mem, rmem, wmem). */
extern atomic_long_t xtcp_memory_allocated;
DECLARE_PER_CPU(int, xtcp_memory_per_cpu_fw_alloc);
extern struct percpu_counter xtcp_sockets_allocated;
extern unsigned long xtcp_memory_pressure;
extern long sysctl_xtcp_mem[3];
extern int sysctl_xtcp_rmem[3];
extern int sysctl_xtcp_wmem[3];
int xtcp_mem_init(void);
void xtcp_mem_exit(void);
void xtcp_enter_memory_pressure(struct sock *sk);
void xtcp_leave_memory_pressure(struct sock *sk);
void xtcp_sock_destruct(struct sock *sk);
bool xtcp_buffers_may_grow(const struct sock *sk);
void xtcp_wmem_queue(struct sock *sk, struct sk_buff *skb);
void xtcp_wmem_queue_forced(struct sock *sk, struct sk_buff *skb);
void xtcp_wmem_free_skb(struct sock *sk, struct sk_buff *skb);

extern struct proto xtcp_prot;
struct sock *xtcp_sk_alloc(struct net *net, gfp_t gfp, int kern);
void xtcp_copy_sockaddr(struct sockaddr_in *sin, const struct sockaddr *uaddr);
int xtcp_af_init(void);
void xtcp_af_exit(void);

/* hash.c */
int xtcp_hash_init(void);
void xtcp_hash_exit(void);
int xtcp_bind_port(struct sock *sk, __be32 addr, u16 port);
void xtcp_unbind_port(struct sock *sk);
int xtcp_hash_established(struct sock *sk);
int xtcp_hash_connect(struct sock *sk, u32 *tw_isn);
void xtcp_unhash_established(struct sock *sk);
int xtcp_hash_listener(struct sock *sk);
void xtcp_unhash_listener(struct sock *sk);
struct sock *xtcp_lookup(struct net *net, struct sk_buff *skb,
			 const struct xtcp_seg_hdr *th);
struct sock *xtcp_lookup_listener(struct net *net, struct sk_buff *skb,
				  const struct xtcp_seg_hdr *th);
struct sock *xtcp_lookup_connection(struct net *net, __be32 laddr,
				    __be16 lport, __be32 raddr, __be16 rport,
				    int dif, u8 proto);
int xtcp_hash_req(struct request_sock *req, unsigned long timeout);
bool xtcp_unhash_req(struct request_sock *req);
bool xtcp_rearm_req(struct request_sock *req, unsigned long timeout);
bool xtcp_hash_req_child(struct request_sock *req, struct sock *child);
void xtcp_hash_time_wait(struct sock *sk, struct xtcp_tw_sock *tw,
			 unsigned long timeout);
void xtcp_unhash_time_wait(struct xtcp_tw_sock *tw);

/* timewait.c: TIME_WAIT entries */
extern struct timewait_sock_ops xtcp_timewait_sock_ops;
void xtcp_time_wait_start(struct sock *sk);
bool xtcp_fin_wait2_orphan_hold(struct sock *sk);
void xtcp_fin_wait2_orphan_release(struct sock *sk);
void xtcp_time_wait_end(struct sock *tw);
struct sock *xtcp_time_wait_rcv(struct net *net, struct sock *sk,
				struct sk_buff *skb,
				const struct xtcp_seg_hdr *th);

/* What a handshake agreed on (xtcp_syn_agree). */
struct xtcp_syn_agreed {
	u16 mss;		/* the peer's MSS option, or 536 */
	u8 snd_wscale;		/* the peer's shift, 0 unless wscale_ok */
	bool wscale_ok;
	bool sack_ok;
	bool ts_ok;
};

/* sock.c: connection life cycle */
void xtcp_init_sock(struct sock *sk);
void xtcp_init_sock_state(struct sock *sk);
void xtcp_init_connection(struct sock *sk, u32 iss,
			  const struct dst_entry *dst);
void xtcp_syn_agree(struct xtcp_syn_agreed *a, const struct xtcp_opts *peer,
		    bool wscale, bool sack, bool ts);
void xtcp_take_syn_options(struct sock *sk, const struct xtcp_seg_hdr *th,
			   u32 mtu, bool agreed);
u32 xtcp_ts_offset(__be32 saddr, __be32 daddr);
void xtcp_rtt_sample_sk(struct sock *sk, u32 rtt_us);
void xtcp_set_state(struct sock *sk, int state);
void xtcp_done(struct sock *sk);
void xtcp_orphan_uncount(struct sock *sk);
bool xtcp_too_many_orphans(const struct sock *sk);
void xtcp_abort_orphan(struct sock *sk);
void xtcp_reset(struct sock *sk);
void xtcp_done_with_error(struct sock *sk, int err);
void xtcp_enter_time_wait(struct sock *sk);
void xtcp_destroy_sock(struct sock *sk);
u32 xtcp_new_isn(__be32 saddr, __be32 daddr, __be16 sport, __be16 dport);
u8 xtcp_choose_rcv_wscale(const struct sock *sk);
void xtcp_sync_mss(struct sock *sk, u32 mtu);
void xtcp_mss_follow_route(struct sock *sk);
void xtcp_write_space(struct sock *sk);
int xtcp_connect(struct socket *sock, struct sockaddr *uaddr, int len,
		 int flags);
int xtcp_shutdown(struct socket *sock, int how);
void xtcp_close(struct sock *sk, long timeout);

/* listen.c */
int xtcp_listen(struct socket *sock, int backlog);
void xtcp_listen_stop(struct sock *sk);
void xtcp_conn_request(struct sock *sk, struct sk_buff *skb,
		       const struct xtcp_seg_hdr *th);
int xtcp_child_established(struct sock *child);
void xtcp_child_drop(struct sock *child);
int xtcp_cookie_ack(struct sock *sk, struct sk_buff *skb,
		    const struct xtcp_seg_hdr *th, bool *consumed);
u32 xtcp_synack_retries(const struct sock *sk);
bool xtcp_accept_queue_full(const struct sock *sk);
bool xtcp_req_complete(struct request_sock *req, struct sk_buff *skb,
		       const struct xtcp_seg_hdr *th, bool *consumed);

/* request.c: half-open connections */
extern struct request_sock_ops xtcp_request_sock_ops;
int xtcp_req_start(struct sock *sk, struct sk_buff *skb,
		   const struct xtcp_seg_hdr *th, u32 iss);
bool xtcp_req_rcv(struct request_sock *req, struct sk_buff *skb,
		  const struct xtcp_seg_hdr *th, bool *consumed);
void xtcp_req_drop(struct request_sock *req);
void xtcp_req_forget(struct request_sock *req);
void xtcp_reqs_stop(struct sock *sk, struct list_head *reqs);

/* proc.c: /proc/net/xtcp */
int xtcp_proc_net_init(struct net *net);
void xtcp_proc_net_exit(struct net *net);

/* syncookie.c */
u32 xtcp_cookie_make(const struct iphdr *iph, const struct xtcp_seg_hdr *th,
		     u8 mss_index, u8 code);
bool xtcp_cookie_check(const struct iphdr *iph, const struct xtcp_seg_hdr *th,
		       u8 *mss_index, u8 *code);

/* rtxq.c: the retransmission queue */
static inline struct sk_buff *xtcp_send_head(const struct sock *sk)
{
	return skb_peek(&sk->sk_write_queue);
}

static inline struct sk_buff *xtcp_rtx_first(const struct sock *sk)
{
	return skb_rb_first(&xtcp_sk(sk)->rtx_queue);
}

static inline struct sk_buff *xtcp_rtx_next(const struct sk_buff *skb)
{
	return skb_rb_next(skb);
}

void xtcp_rtx_queue_init(struct sock *sk);
void xtcp_rtx_queue_sent(struct sock *sk, struct sk_buff *skb);
void xtcp_rtx_queue_insert(struct sock *sk, struct sk_buff *skb);
struct sk_buff *xtcp_rtx_find(const struct sock *sk, u32 seq);
void xtcp_rtx_unlink(struct sock *sk, struct sk_buff *skb);
void xtcp_rtx_rewind(struct sock *sk);
void xtcp_rtx_note_resent(struct sock *sk, struct sk_buff *skb);
bool xtcp_skb_is_last(const struct sock *sk, const struct sk_buff *skb);
void xtcp_rtx_purge(struct sock *sk);

/* send.c */
int xtcp_sendmsg(struct socket *sock, struct msghdr *msg, size_t size);
u32 xtcp_free_acked(struct sock *sk, u32 ack);
void xtcp_purge_write_queue(struct sock *sk);
void xtcp_queue_fin(struct sock *sk);

/* recv.c */
int xtcp_recvmsg(struct socket *sock, struct msghdr *msg, size_t size,
		 int flags);
void xtcp_rcv_window_update(struct sock *sk);
void xtcp_rcv_rtt_measure(struct sock *sk);

/* output.c */
enum xtcp_push_mode {
	XTCP_PUSH_NAGLE,	/* small segments wait for outstanding ACKs */
	XTCP_PUSH_NOW,		/* everything the windows allow */
	XTCP_PUSH_PROBE,	/* and into a window too small for SWS rules */
};

void xtcp_push(struct sock *sk, enum xtcp_push_mode mode);
void xtcp_tsq_init(struct sock *sk);
void xtcp_gso_own_segments(struct sk_buff *gso_skb, struct sk_buff *segs);
int xtcp_output_init(void);
void xtcp_output_exit(void);
int xtcp_transmit_skb(struct sock *sk, struct sk_buff *skb);
int xtcp_send_control(struct sock *sk, u8 flags, u32 seq);
void xtcp_send_ack(struct sock *sk);
void xtcp_send_syn(struct sock *sk);
void xtcp_send_active_reset(struct sock *sk, gfp_t gfp);
void xtcp_send_reset_reply(struct net *net, struct sk_buff *skb,
			   const struct xtcp_seg_hdr *th);
void xtcp_send_time_wait_ack(struct sock *tw, struct sk_buff *in,
			     const struct xtcp_seg_hdr *th);
void xtcp_send_cookie_synack(struct sock *sk, struct sk_buff *in,
			     const struct xtcp_seg_hdr *th, u32 cookie,
			     u8 code);
int xtcp_send_req_synack(struct request_sock *req);
void xtcp_send_req_ack(struct request_sock *req);
void xtcp_send_probe(struct sock *sk);
void xtcp_send_keepalive_probe(struct sock *sk);
void xtcp_retransmit_head(struct sock *sk);
void xtcp_resend_after_mtu_drop(struct sock *sk);
struct rtable *xtcp_sk_route(struct sock *sk);
void xtcp_retransmit_one(struct sock *sk);
int xtcp_retransmit_range(struct sock *sk, u32 seq, u32 *end);
int xtcp_send_new_segment(struct sock *sk);
u32 xtcp_window_to_offer(struct sock *sk, u32 *remaining);
u16 xtcp_select_window(struct sock *sk);
u32 xtcp_size_goal(const struct sock *sk);

/* offload.c */
int xtcp_offload_init(void);
void xtcp_offload_exit(void);
void xtcp_setup_caps(struct sock *sk, struct dst_entry *dst);

/* input.c */
int xtcp_input_init(void);
void xtcp_input_exit(void);
int xtcp_rcv_owned(struct sk_buff *skb, struct sock *sk);

/* icmp.c */
int xtcp_icmp_err(struct sk_buff *skb, u32 info);
bool xtcp_icmp_err_owned(struct sk_buff *skb, u32 info);
void xtcp_mtu_reduced(struct sock *sk);

/*
 * The IP protocol @sk's segments carry: TCP's in wire mode, else ours.
 * sk_protocol stays ours either way: the kernel takes a socket whose
 * sk_protocol is TCP's for a struct tcp_sock (sk_is_tcp, sock_diag,
 * BPF's tcp_sock helpers), which ours is not.
 */
static inline u8 xtcp_wire_proto(const struct sock *sk)
{
	return xtcp_sk(sk)->wire ? IPPROTO_TCP : xtcp_ipproto;
}

/* guard.c: wire mode's ports held in native TCP's tables */
struct xtcp_guard;
struct xtcp_guard *xtcp_guard_alloc(struct sock *sk);
int xtcp_guard_bind(struct xtcp_guard *g, __be32 addr, u16 port);
struct xtcp_guard *xtcp_guard_get(struct xtcp_guard *g);
void xtcp_guard_put(struct xtcp_guard *g);
int xtcp_guard_listen(struct xtcp_guard *g);
void xtcp_guard_unlisten(struct xtcp_guard *g);
void xtcp_guard_flush(void);
int xtcp_guard_init(void);
void xtcp_guard_exit(void);

/* demux.c: wire mode's split of TCP segments between xtcp and native */
extern bool xtcp_wire_default;
int xtcp_demux_enable(void);
void xtcp_demux_exit(void);
int xtcp_backlog_rcv(struct sock *sk, struct sk_buff *skb);
void xtcp_child_rcv(struct sock *child, struct sk_buff *skb,
		    const struct xtcp_seg_hdr *th, bool *consumed);
bool xtcp_oow_rate_limited(struct net *net, unsigned long *last, u32 len,
			   const struct xtcp_seg_hdr *th,
			   enum xtcp_mib_field skipped);
bool xtcp_challenge_ack_allowed(struct xtcp_net *xn);

/* timer.c */
void xtcp_init_timers(struct sock *sk);
void xtcp_clear_timers(struct sock *sk);
unsigned long xtcp_rto_jiffies(const struct xtcp_sock *xs);
void xtcp_arm_rtx(struct sock *sk);
void xtcp_arm_rtx_timer(struct sock *sk, enum xtcp_rtx_mode mode,
			unsigned long delay);
void xtcp_arm_persist(struct sock *sk);
void xtcp_stop_rtx(struct sock *sk);
void xtcp_schedule_delack(struct sock *sk);
void xtcp_arm_fin_timer(struct sock *sk);
void xtcp_keepalive_reset(struct sock *sk);
void xtcp_set_keepalive(struct sock *sk, int on);
u32 xtcp_keepidle_s(const struct xtcp_sock *xs);
u32 xtcp_keepintvl_s(const struct xtcp_sock *xs);
u32 xtcp_keepcnt(const struct xtcp_sock *xs);
void xtcp_release_cb(struct sock *sk);

/* cong.c */
extern const struct xtcp_cong_ops xtcp_cong_reno;
extern const struct xtcp_cong_ops xtcp_cong_cubic;
const struct xtcp_cong_ops *xtcp_cong_find(const char *name);
const struct xtcp_cong_ops *xtcp_cong_default(const struct net *net);
void xtcp_cong_names(char *buf, size_t size);
int xtcp_cong_select(struct sock *sk, const char *name);
void xtcp_cong_init(struct sock *sk);
u32 xtcp_slow_start(struct xtcp_sock *xs, u32 segs);
void xtcp_cong_avoid_ai(struct xtcp_sock *xs, u32 per, u32 segs);
u32 xtcp_flight_half(const struct xtcp_sock *xs);
void xtcp_cong_on_ack(struct sock *sk, u32 acked_bytes, u32 rtt_us);
bool xtcp_cong_dupack(struct sock *sk);
void xtcp_cong_enter_recovery(struct sock *sk);
bool xtcp_cong_recovery_ack(struct sock *sk, u32 ack, u32 acked_bytes);
void xtcp_cong_on_rto(struct sock *sk);
void xtcp_cong_on_mtu_drop(struct sock *sk);
void xtcp_undo_note_rtx(struct xtcp_sock *xs, u16 segs, u64 sent_us);
void xtcp_undo_dsack(struct sock *sk, u32 start, u32 end);
void xtcp_undo_check(struct sock *sk, u32 acked);

/* sysctl.c */
int xtcp_sysctl_net_init(struct net *net);
void xtcp_sysctl_net_exit(struct net *net);

/* sack.c */
void xtcp_sack_rcv_ooo(struct sock *sk, u32 start, u32 end);
void xtcp_sack_rcv_duplicate(struct sock *sk, u32 start, u32 end, bool ofo);
void xtcp_sack_rcv_delivered(struct sock *sk);
void xtcp_sack_rcv_pruned(struct sock *sk);
void xtcp_sack_fill_opts(struct sock *sk, struct xtcp_opts *opts,
			 u32 payload, bool gso);
u32 xtcp_sack_update(struct sock *sk, const struct xtcp_seg_hdr *th);
void xtcp_sack_ack(struct sock *sk, u32 delivered);
u32 xtcp_sack_pipe(const struct xtcp_sock *xs);
void xtcp_sack_loss_counts(const struct xtcp_sock *xs, u32 *lost,
			   u32 *retrans);
void xtcp_sack_reset(struct xtcp_sock *xs);

/* rack.c: RACK-TLP, RFC 8985 */
#define XTCP_RECOVERY_RACK		1	/* as native's tcp_recovery bits */
#define XTCP_RECOVERY_STATIC_REO	2
#define XTCP_RECOVERY_NO_DUPTHRESH	4

void xtcp_rack_init(struct xtcp_sock *xs);
void xtcp_rack_start(struct sock *sk);
void xtcp_rack_acked(struct sock *sk, struct xtcp_skb_cb *cb, u32 end_seq,
		     u64 now_us);
void xtcp_rack_sacked(struct sock *sk, const struct xtcp_scoreboard *old);
void xtcp_rack_split(struct sock *sk, struct sk_buff *skb);
void xtcp_rack_ack_echo(struct sock *sk, const struct xtcp_seg_hdr *th);
void xtcp_rack_dsack(struct sock *sk, u32 start, u32 end);
u32 xtcp_rack_detect(struct sock *sk);
void xtcp_rack_timeout(struct sock *sk);
void xtcp_rack_recovery_ended(struct xtcp_sock *xs);
void xtcp_rack_resend_relost(struct sock *sk, u64 cwnd_bytes);
void xtcp_rack_on_rto(struct sock *sk);
void xtcp_rearm_after_ack(struct sock *sk, u32 reo_us);
void xtcp_rearm_after_send(struct sock *sk);
void xtcp_tlp_fire(struct sock *sk);
void xtcp_tlp_ack(struct sock *sk, u32 ack);

/* info.c */
int xtcp_get_info(struct sock *sk, char __user *optval, int __user *optlen);

#endif /* _XTCP_H */
