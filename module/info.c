// SPDX-License-Identifier: GPL-2.0
/*
 * getsockopt(SOL_TCP, TCP_INFO): the connection's state in native TCP's
 * struct tcp_info, so that one program (ss, a test) reads both stacks.
 *
 * Fields xtcp has no counterpart for yet stay 0: fackets, delivery_rate
 * and delivered (no rate sampling), the busy, rwnd- and sndbuf-limited
 * times. Pacing rates are ~0 (xtcp does not pace), as
 * native TCP reports an unlimited rate.
 */
#include <linux/tcp.h>
#include <net/route.h>

#include "xtcp.h"

static u32 ms_since(unsigned long then)
{
	return jiffies_to_msecs(jiffies - then);
}

static u32 segments(const struct xtcp_sock *xs, u32 bytes)
{
	return DIV_ROUND_UP(bytes, max_t(u32, xs->mss_cache, 1));
}

/*
 * Lost and retransmitted segments in flight, as native TCP counts them
 * without SACK: in fast recovery the head is lost (and resent); after a
 * timeout all that was in flight is lost, and what was resent since then
 * is in flight again.
 */
static void fill_loss(const struct xtcp_sock *xs, struct tcp_info *info)
{
	if (xs->sack_ok && xs->ca_state != TCP_CA_Loss) {
		u32 lost, retrans;

		/* The scoreboard's view (sack.c), as native TCP's with SACK. */
		xtcp_sack_loss_counts(xs, &lost, &retrans);
		info->tcpi_sacked = segments(xs, xs->scoreboard.bytes);
		info->tcpi_lost = segments(xs, lost);
		info->tcpi_retrans = segments(xs, retrans);
		return;
	}
	switch (xs->ca_state) {
	case TCP_CA_Recovery:
		info->tcpi_lost = 1;
		info->tcpi_retrans = 1;
		break;
	case TCP_CA_Loss:
		info->tcpi_lost = segments(xs, xs->snd_max - xs->snd_una);
		info->tcpi_retrans = segments(xs, xs->snd_nxt - xs->snd_una);
		break;
	default:
		break;
	}
}

/* Socket lock held. */
static void fill_info(struct sock *sk, struct tcp_info *info)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u8 state = sk->sk_state;

	memset(info, 0, sizeof(*info));
	info->tcpi_state = state;
	info->tcpi_pacing_rate = ~0ULL;
	info->tcpi_max_pacing_rate = ~0ULL;
	if (state == TCP_LISTEN) {
		/* As native TCP: the accept queue and its bound. */
		info->tcpi_unacked = READ_ONCE(xs->accept_queue_len);
		info->tcpi_sacked = READ_ONCE(sk->sk_max_ack_backlog);
		info->tcpi_snd_cwnd = xs->cwnd;
		info->tcpi_reordering = 3;
		return;
	}

	info->tcpi_ca_state = xs->ca_state;
	info->tcpi_retransmits = xs->retries;
	info->tcpi_probes = xs->probes;
	info->tcpi_backoff = xs->backoff;
	if (xs->sack_ok)
		info->tcpi_options |= TCPI_OPT_SACK;
	if (xs->ts_ok)
		info->tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (xs->wscale_ok) {
		info->tcpi_options |= TCPI_OPT_WSCALE;
		info->tcpi_snd_wscale = xs->snd_wscale;
		info->tcpi_rcv_wscale = xs->rcv_wscale;
	}
	info->tcpi_rto = xtcp_rto_backoff(&xs->rtt, xs->backoff);
	info->tcpi_ato = XTCP_DELACK_MS * USEC_PER_MSEC;
	info->tcpi_snd_mss = xs->mss_cache;
	info->tcpi_rcv_mss = xs->rcv_mss;
	info->tcpi_unacked = segments(xs, xs->snd_max - xs->snd_una);
	fill_loss(xs, info);

	info->tcpi_last_data_sent = ms_since(xs->data_sent_at);
	info->tcpi_last_data_recv = ms_since(xs->data_rcvd_at);
	info->tcpi_last_ack_recv = ms_since(xs->ack_rcvd_at);
	/* The path MTU the MSS follows, as native's icsk_pmtu_cookie. */
	info->tcpi_pmtu = xs->pmtu_cookie;
	info->tcpi_rcv_ssthresh = xs->rcv_wnd;
	info->tcpi_rtt = xs->rtt.srtt_us;
	info->tcpi_rttvar = xs->rtt.rttvar_us;
	info->tcpi_snd_ssthresh = xs->ssthresh;
	info->tcpi_snd_cwnd = xs->cwnd;
	info->tcpi_advmss = xs->adv_mss;
	info->tcpi_reordering = 3;	/* the duplicate-ACK threshold */
	info->tcpi_rcv_rtt = xs->rcv_rtt_us;
	info->tcpi_rcv_space = xtcp_rcv_space(sk);
	info->tcpi_total_retrans = xs->total_retrans;
	info->tcpi_reord_seen = xs->rack.reord_seen;

	info->tcpi_bytes_acked = xs->bytes_acked;
	info->tcpi_bytes_received = xs->bytes_received;
	info->tcpi_segs_out = xs->segs_out;
	info->tcpi_segs_in = xs->segs_in;
	if (xtcp_seq_after(xs->write_seq, xs->snd_nxt))
		info->tcpi_notsent_bytes = xs->write_seq - xs->snd_nxt;
	info->tcpi_min_rtt = xs->min_rtt_us ?: ~0U;
	info->tcpi_data_segs_in = xs->data_segs_in;
	info->tcpi_data_segs_out = xs->data_segs_out;
	info->tcpi_bytes_sent = xs->bytes_sent;
	info->tcpi_bytes_retrans = xs->bytes_retrans;
	info->tcpi_rcv_ooopack = xs->rcv_ooopack;
	info->tcpi_snd_wnd = xs->snd_wnd;
	info->tcpi_dsack_dups = xs->dsack_dups;
}

/* Native TCP's length rules: cut to the struct (af.c refused < 0). */
int xtcp_get_info(struct sock *sk, char __user *optval, int __user *optlen)
{
	struct tcp_info info;
	int len;

	if (get_user(len, optlen))
		return -EFAULT;
	lock_sock(sk);
	fill_info(sk, &info);
	release_sock(sk);
	len = min_t(unsigned int, len, sizeof(info));
	if (put_user(len, optlen))
		return -EFAULT;
	if (copy_to_user(optval, &info, len))
		return -EFAULT;
	return 0;
}
