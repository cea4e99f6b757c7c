// SPDX-License-Identifier: GPL-2.0
/*
 * The receive path seen from user space: recvmsg copies in-order data from
 * the socket's receive queue (filled by input.c), frees it, and when that
 * opens the window enough, tells the peer at once (window update ACK).
 */
#include <linux/net.h>
#include <linux/tcp.h>
#include <net/inet_common.h>

#include "xtcp.h"

/*
 * After the reader freed space (socket lock held): if the window we could
 * offer now is at least twice what the peer still sees, say so, so a
 * sender stopped by a zero window resumes without waiting for a probe.
 */
void xtcp_rcv_window_update(struct sock *sk)
{
	u32 remaining, wnd;

	if (!((1 << sk->sk_state) &
	      (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2)))
		return;
	wnd = xtcp_window_to_offer(sk, &remaining);
	if (wnd > remaining && wnd >= 2 * remaining)
		xtcp_send_ack(sk);
}

/*
 * The reader took @copied bytes (socket lock held), as native's
 * tcp_cleanup_rbuf: an ACK owed goes now if more than a segment is
 * unacknowledged, or if the reader emptied the queue of a segment that
 * likely ended a write (note_pushed; in ping-pong mode only after two,
 * the reply carries it otherwise). A sender held by Nagle or its window
 * then does not wait for the delayed-ACK timer. Else a window update.
 */
static void cleanup_rbuf(struct sock *sk, int copied)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool pushed = xs->ack_pushed2 || (xs->ack_pushed && !xs->pingpong);
	bool emptied = copied > 0 && !atomic_read(&sk->sk_rmem_alloc);

	if (xs->ack_now && (xs->rcv_nxt - xs->rcv_wup > xs->rcv_mss ||
			    (pushed && emptied))) {
		xtcp_send_ack(sk);
		return;
	}
	xtcp_rcv_window_update(sk);
}

/*
 * The receiver's own RTT sample (in-order data arrived, socket lock held):
 * a window's worth beyond rcv_nxt lies past any edge the peer has heard
 * of, so the time until rcv_nxt gets there is at least one round trip:
 * about one when the window limits the sender, more when the sender is
 * slow. Hence the estimate follows lower samples at once and higher ones
 * only by an eighth.
 */
void xtcp_rcv_rtt_measure(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u64 now = xtcp_clock_us();

	if (xs->rcv_rtt_start_us) {
		u32 sample;

		if (xtcp_seq_before(xs->rcv_nxt, xs->rcv_rtt_seq))
			return;
		sample = (u32)min_t(u64, now - xs->rcv_rtt_start_us, U32_MAX);
		sample = max_t(u32, sample, 1);
		if (!xs->rcv_rtt_us || sample < xs->rcv_rtt_us)
			xs->rcv_rtt_us = sample;
		else
			xs->rcv_rtt_us += (sample - xs->rcv_rtt_us) / 8;
	}
	xs->rcv_rtt_seq = xs->rcv_nxt + max(xs->rcv_wnd, xs->rcv_mss);
	xs->rcv_rtt_start_us = now;
}

/*
 * What a round of the reader lasts: the receiver's estimate, which follows
 * the path; the sender side's (perhaps just the handshake) until then.
 */
static u32 reader_round_us(const struct xtcp_sock *xs)
{
	return xs->rcv_rtt_us ?: xs->rtt.srtt_us;
}

/*
 * Receive buffer autotuning, once per round trip of the reader: the window
 * must carry what the reader took in the last round, and twice that while
 * the sender is still growing its own window, plus a few segments of
 * slack. The window is half the buffer (xtcp_rcv_space). The buffer only
 * grows, and never where SO_RCVBUF fixed it; tcp_rmem[2] bounds it.
 */
static void rcvbuf_autotune(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u64 now = xtcp_clock_us();
	u32 round = reader_round_us(xs);
	u32 copied, want, max;

	if (!xs->rcvq_start_us) {
		xs->rcvq_start_us = now;
		xs->rcvq_seq = xs->copied_seq;
		return;
	}
	if (!round || now - xs->rcvq_start_us < round)
		return;
	copied = xs->copied_seq - xs->rcvq_seq;
	xs->rcvq_seq = xs->copied_seq;
	xs->rcvq_start_us = now;
	if (sk->sk_userlocks & SOCK_RCVBUF_LOCK)
		return;
	max = READ_ONCE(sysctl_xtcp_rmem[2]);
	want = 2 * (2 * min_t(u32, copied, max) + 16 * xs->rcv_mss);
	want = min_t(u32, want, max);
	if (want > (u32)READ_ONCE(sk->sk_rcvbuf))
		WRITE_ONCE(sk->sk_rcvbuf, want);
}

/* Consume an skb the reader is done with (not with MSG_PEEK). */
static void eat_skb(struct sock *sk, struct sk_buff *skb)
{
	__skb_unlink(skb, &sk->sk_receive_queue);
	consume_skb(skb);
}

static int recv_error(struct sock *sk, struct msghdr *msg, size_t len)
{
	int addr_len = 0;
	int err = inet_recv_error(sk, msg, len, &addr_len);

	if (err >= 0)
		msg->msg_namelen = addr_len;
	return err;
}

int xtcp_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		 int flags)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 peek_seq, *seq;
	int copied = 0;
	long timeo;
	int target;

	if (flags & MSG_OOB)
		return -EINVAL;
	/* IP_RECVERR's queue: ICMP errors of a connect (icmp.c). */
	if (flags & MSG_ERRQUEUE)
		return recv_error(sk, msg, len);

	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		release_sock(sk);
		return -ENOTCONN;
	}
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	peek_seq = xs->copied_seq;
	seq = (flags & MSG_PEEK) ? &peek_seq : &xs->copied_seq;

	while (copied < len) {
		struct sk_buff *skb, *last;
		u32 offset, used;
		int err;

		skb_queue_walk(&sk->sk_receive_queue, skb) {
			offset = *seq - XTCP_SKB_CB(skb)->seq;
			if (offset < skb->len)
				goto found_data;
			if (XTCP_SKB_CB(skb)->flags & XTCP_FLAG_FIN)
				goto found_fin;
		}

		if (copied >= target && !READ_ONCE(sk->sk_backlog.tail))
			break;
		if (copied) {
			if (sk->sk_err || sk->sk_state == TCP_CLOSE ||
			    (sk->sk_shutdown & RCV_SHUTDOWN) || !timeo ||
			    signal_pending(current))
				break;
		} else {
			if (sock_flag(sk, SOCK_DONE))
				break;
			if (sk->sk_err) {
				copied = sock_error(sk);
				break;
			}
			if (sk->sk_shutdown & RCV_SHUTDOWN)
				break;
			if (sk->sk_state == TCP_CLOSE) {
				/* Never connected. */
				copied = -ENOTCONN;
				break;
			}
			if (!timeo) {
				copied = -EAGAIN;
				break;
			}
			if (signal_pending(current)) {
				copied = sock_intr_errno(timeo);
				break;
			}
		}
		cleanup_rbuf(sk, copied);
		last = skb_peek_tail(&sk->sk_receive_queue);
		err = sk_wait_data(sk, &timeo, last);
		if (err < 0) {
			/* connect(AF_UNSPEC) by another thread meanwhile. */
			copied = copied ? : err;
			break;
		}
		continue;

found_data:
		used = min_t(u32, skb->len - offset, len - copied);
		err = skb_copy_datagram_msg(skb, offset, msg, used);
		if (err) {
			if (!copied)
				copied = -EFAULT;
			break;
		}
		WRITE_ONCE(*seq, *seq + used);
		copied += used;
		if (!(flags & MSG_PEEK) && offset + used == skb->len &&
		    !(XTCP_SKB_CB(skb)->flags & XTCP_FLAG_FIN))
			eat_skb(sk, skb);
		continue;

found_fin:
		/* The FIN takes a sequence number of its own. */
		WRITE_ONCE(*seq, *seq + 1);
		if (!(flags & MSG_PEEK))
			eat_skb(sk, skb);
		break;
	}

	if (copied > 0 && !(flags & MSG_PEEK)) {
		rcvbuf_autotune(sk);
		cleanup_rbuf(sk, copied);
	}
	release_sock(sk);
	return copied;
}
