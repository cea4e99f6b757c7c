// SPDX-License-Identifier: GPL-2.0
/*
 * The receive path seen from user space: recvmsg copies in-order data from
 * the socket's receive queue (filled by input.c), frees it, and when that
 * opens the window enough, tells the peer at once (window update ACK).
 */
#include <linux/net.h>
#include <linux/tcp.h>

#include "xtcp.h"

/*
 * After the reader freed space (socket lock held): if the window we could
 * offer now is at least twice what the peer still sees, say so, so a
 * sender stopped by a zero window resumes without waiting for a probe.
 */
void xtcp_rcv_window_update(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 space, used, free, promised, remaining, wnd;

	if (!((1 << sk->sk_state) &
	      (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2)))
		return;
	space = xtcp_rcv_space(sk);
	used = xs->rcv_nxt - xs->copied_seq;
	free = space > used ? space - used : 0;
	promised = xs->rcv_wup + xs->rcv_wnd;
	remaining = xtcp_seq_after(promised, xs->rcv_nxt) ?
		    promised - xs->rcv_nxt : 0;
	wnd = xtcp_rcv_window_choose(free, remaining, xs->rcv_mss, space,
				     xs->rcv_wscale);
	if (wnd > remaining && wnd >= 2 * remaining)
		xtcp_send_ack(sk);
}

/*
 * Receive buffer autotuning, crudely: a reader that takes half the buffer
 * in one call keeps up with the sender, so the window limits the flow;
 * double the buffer (unless SO_RCVBUF fixed it), up to tcp_rmem[2].
 */
static void rcvbuf_autotune(struct sock *sk, int copied)
{
	int rcvbuf = READ_ONCE(sk->sk_rcvbuf);

	if (sk->sk_userlocks & SOCK_RCVBUF_LOCK || rcvbuf >= XTCP_MAX_RCVBUF)
		return;
	if (copied >= (int)(xtcp_rcv_space(sk) / 2))
		WRITE_ONCE(sk->sk_rcvbuf, min(2 * rcvbuf, XTCP_MAX_RCVBUF));
}

/* Consume an skb the reader is done with (not with MSG_PEEK). */
static void eat_skb(struct sock *sk, struct sk_buff *skb)
{
	__skb_unlink(skb, &sk->sk_receive_queue);
	consume_skb(skb);
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

	if (flags & (MSG_OOB | MSG_ERRQUEUE))
		return flags & MSG_OOB ? -EINVAL : -EAGAIN;

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
		xtcp_rcv_window_update(sk);
		last = skb_peek_tail(&sk->sk_receive_queue);
		sk_wait_data(sk, &timeo, last);
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
		rcvbuf_autotune(sk, copied);
		xtcp_rcv_window_update(sk);
	}
	release_sock(sk);
	return copied;
}
