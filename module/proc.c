// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/xtcp: every socket of the namespace's tables, one line each,
 * in the columns of /proc/net/tcp, so that what reads that file (netstat
 * -t, awk) reads this one: listeners first, then connections of every
 * state, SYN_RECV and TIME_WAIT included (with the shorter lines native
 * gives those).
 *
 * Columns: slot, local and remote address:port (the address as the raw
 * 32-bit word, the port in host order), state, write queue:read queue
 * bytes (a listener: children waiting for accept()), timer kind:time left
 * in clock ticks (1 retransmission, 2 keepalive or orphaned FIN_WAIT2's
 * end, 3 TIME_WAIT, 4 window probe), consecutive retransmissions, uid, probes, inode, refcount,
 * socket address, RTO and delayed-ACK timeout in ticks, quick ACKs left
 * (shifted left by one), cwnd, ssthresh (-1 before the first loss).
 *
 * The namespace's table lock (hash.c) is held per bucket, not for the
 * whole listing, and only to find and hold the next socket; its fields
 * are read without the socket lock, as native's file does: a line is a
 * snapshot, not a consistent one, and a socket that comes or goes during
 * a read may be missed or shown twice.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>

#include "xtcp.h"

/* The pending timer a line shows: its kind, and its expiry in *expires. */
static int timer_kind(const struct sock *sk, unsigned long *expires)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);

	if (timer_pending(&xs->rtx_timer)) {
		*expires = READ_ONCE(xs->rtx_timer.expires);
		return READ_ONCE(xs->rtx_mode) == XTCP_RTX_PERSIST ? 4 : 1;
	}
	/* Native's keepalive timer also ends an orphaned FIN_WAIT2. */
	if (timer_pending(&xs->keepalive_timer)) {
		*expires = READ_ONCE(xs->keepalive_timer.expires);
		return 2;
	}
	if (timer_pending(&xs->state_timer)) {
		*expires = READ_ONCE(xs->state_timer.expires);
		return 2;
	}
	*expires = jiffies;
	return 0;
}

/*
 * Only sock_common before the state says: @sk may be a TIME_WAIT entry or
 * a request sock.
 */
static void show_sock(struct seq_file *seq, struct sock *sk, int slot)
{
	int state = READ_ONCE(sk->sk_state);
	const struct xtcp_sock *xs;
	unsigned long expires;
	int timer, rx, tx;
	u32 ssthresh;

	seq_printf(seq, "%4d: %08X:%04X %08X:%04X %02X ", slot,
		   (__force u32)sk->sk_rcv_saddr, sk->sk_num,
		   (__force u32)sk->sk_daddr, ntohs(sk->sk_dport),
		   state == TCP_NEW_SYN_RECV ? TCP_SYN_RECV : state);
	if (state == TCP_NEW_SYN_RECV) {
		/* Native's line for a request sock: SYN_RECV, its timer. */
		const struct request_sock *req = inet_reqsk(sk);

		expires = READ_ONCE(req->rsk_timer.expires);
		seq_printf(seq, "%08X:%08X %02X:%08lX %08X %5u %8d %d %d %pK",
			   0, 0, 1, jiffies_delta_to_clock_t(expires - jiffies),
			   req->num_timeout,
			   from_kuid_munged(seq_user_ns(seq),
					    sock_i_uid(req->rsk_listener)),
			   0, 0, 0, req);
		return;
	}
	if (state == TCP_TIME_WAIT) {
		expires = READ_ONCE(xtcp_tw(sk)->tw.tw_timer.expires);
		seq_printf(seq, "%08X:%08X %02X:%08lX %08X %5d %8d %d %d %pK",
			   0, 0, 3,
			   jiffies_delta_to_clock_t(expires - jiffies), 0, 0,
			   0, 0, refcount_read(&sk->sk_refcnt), sk);
		return;
	}
	xs = xtcp_sk(sk);
	if (state == TCP_LISTEN) {
		rx = READ_ONCE(sk->sk_ack_backlog);
		tx = 0;
	} else {
		rx = max_t(int, READ_ONCE(xs->rcv_nxt) -
				READ_ONCE(xs->copied_seq), 0);
		tx = max_t(int, READ_ONCE(xs->write_seq) -
				READ_ONCE(xs->snd_una), 0);
	}
	timer = timer_kind(sk, &expires);
	ssthresh = READ_ONCE(xs->ssthresh);
	seq_printf(seq, "%08X:%08X %02X:%08lX %08X %5u %8d %lu %d %pK %lu %lu %u %u %d",
		   tx, rx, timer, jiffies_delta_to_clock_t(expires - jiffies),
		   READ_ONCE(xs->retries),
		   from_kuid_munged(seq_user_ns(seq), sock_i_uid(sk)),
		   max(READ_ONCE(xs->probes), READ_ONCE(xs->ka_probes)),
		   sock_i_ino(sk), refcount_read(&sk->sk_refcnt), sk,
		   jiffies_to_clock_t(usecs_to_jiffies(READ_ONCE(xs->rtt.rto_us))),
		   jiffies_to_clock_t(msecs_to_jiffies(XTCP_DELACK_MS)),
		   (u32)READ_ONCE(xs->quickacks) << 1, READ_ONCE(xs->cwnd),
		   state == TCP_LISTEN ? 0 :
		   ssthresh >= XTCP_INFINITE_SSTHRESH ? -1 : (int)ssthresh);
}

/*
 * Where the listing is: a bucket of the two tables (the listeners' first)
 * and a place in it. The table lock is taken per bucket, long enough to
 * take a reference on the socket to show.
 */
struct xtcp_proc_iter {
	struct seq_net_private p;	/* first: seq_file_net() */
	int bucket;
	int offset;
	loff_t pos;		/* the position of the socket there */
};

#define XTCP_PROC_WIDTH		149
#define XTCP_PROC_LBUCKETS	BIT(XTCP_LHASH_BITS)

static struct hlist_head *proc_bucket(struct xtcp_net *xn, int bucket)
{
	if (bucket < XTCP_PROC_LBUCKETS)
		return &xn->lhash[bucket];
	return &xn->ehash[bucket - XTCP_PROC_LBUCKETS];
}

/* The socket at the iterator's place or the next one after it, held. */
static struct sock *proc_find(struct seq_file *seq)
{
	struct xtcp_net *xn = xtcp_net(seq_file_net(seq));
	struct xtcp_proc_iter *it = seq->private;

	int buckets = XTCP_PROC_LBUCKETS + xn->ehash_mask + 1;

	for (; it->bucket < buckets; it->bucket++, it->offset = 0) {
		struct hlist_head *head = proc_bucket(xn, it->bucket);
		struct sock *sk;
		int i = 0;

		/* Most are empty: no need to take the lock to see that. */
		if (hlist_empty(head))
			continue;
		spin_lock_bh(&xn->lock);
		sk_for_each(sk, head) {
			if (i++ == it->offset) {
				sock_hold(sk);
				spin_unlock_bh(&xn->lock);
				return sk;
			}
		}
		spin_unlock_bh(&xn->lock);
	}
	return NULL;
}

static void *xtcp_proc_start(struct seq_file *seq, loff_t *pos)
{
	struct xtcp_proc_iter *it = seq->private;
	struct sock *sk;
	loff_t n;

	if (!*pos)
		return SEQ_START_TOKEN;
	/* Going on where the last read stopped, or from the top. */
	if (*pos == it->pos)
		return proc_find(seq);
	it->bucket = 0;
	it->offset = 0;
	for (n = 1; (sk = proc_find(seq)); n++) {
		if (n == *pos) {
			it->pos = n;
			return sk;
		}
		sock_gen_put(sk);
		it->offset++;
	}
	return NULL;
}

static void *xtcp_proc_next(struct seq_file *seq, void *v, loff_t *pos)
{
	struct xtcp_proc_iter *it = seq->private;

	++*pos;
	if (v == SEQ_START_TOKEN) {
		it->bucket = 0;
		it->offset = 0;
	} else {
		sock_gen_put(v);
		it->offset++;
	}
	it->pos = *pos;
	return proc_find(seq);
}

static void xtcp_proc_stop(struct seq_file *seq, void *v)
{
	if (v && v != SEQ_START_TOKEN)
		sock_gen_put(v);
}

static int xtcp_proc_show(struct seq_file *seq, void *v)
{
	/* Every line padded to the same width, as /proc/net/tcp's. */
	if (v == SEQ_START_TOKEN) {
		seq_printf(seq, "%-*s\n", XTCP_PROC_WIDTH,
			   "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode");
		return 0;
	}
	seq_setwidth(seq, XTCP_PROC_WIDTH);
	show_sock(seq, v, seq->index - 1);
	seq_pad(seq, '\n');
	return 0;
}

static const struct seq_operations xtcp_proc_ops = {
	.start = xtcp_proc_start,
	.next = xtcp_proc_next,
	.stop = xtcp_proc_stop,
	.show = xtcp_proc_show,
};

int xtcp_proc_net_init(struct net *net)
{
	if (!proc_create_net("xtcp", 0444, net->proc_net, &xtcp_proc_ops,
			     sizeof(struct xtcp_proc_iter)))
		return -ENOMEM;
	return 0;
}

void xtcp_proc_net_exit(struct net *net)
{
	remove_proc_entry("xtcp", net->proc_net);
}
