// SPDX-License-Identifier: GPL-2.0
/*
 * The retransmission queue (socket lock held throughout).
 *
 * Data waits on sk_write_queue until it first leaves, then sits on an
 * rbtree by sequence number until acknowledged, as native TCP keeps its
 * tcp_rtx_queue (since 4.15; CVE-2019-11478 showed why): a peer that
 * fragments the queue into small skbs (MSS 88, SACKs far from snd_una)
 * must not make each ACK walk all of it. Finding the skb that holds a sequence number
 * (a SACK block, a hole to resend) is then O(log n).
 *
 * RACK looks at skbs in the order they were sent. First transmissions
 * leave in sequence order, so the rbtree gives that order for them;
 * retransmissions are also linked on resent_list, oldest transmission
 * first, so loss detection reads them without a walk from the head.
 *
 * An RTO's go-back-N moves every sent skb back to the front of
 * sk_write_queue (O(n) once per timeout, as native's tcp_enter_loss marks
 * every skb), and the push sends them again in order.
 */
#include "xtcp.h"

void xtcp_rtx_queue_init(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	BUILD_BUG_ON(sizeof(struct xtcp_skb_cb) >
		     sizeof_field(struct sk_buff, cb));
	xs->rtx_queue = RB_ROOT;
	INIT_LIST_HEAD(&xs->resent_list);
}

/* Put @skb, off every queue, on the rbtree at its sequence number. */
void xtcp_rtx_queue_insert(struct sock *sk, struct sk_buff *skb)
{
	struct rb_node **link = &xtcp_sk(sk)->rtx_queue.rb_node;
	struct rb_node *parent = NULL;
	u32 seq = XTCP_SKB_CB(skb)->seq;

	while (*link) {
		parent = *link;
		if (xtcp_seq_before(seq, XTCP_SKB_CB(rb_to_skb(parent))->seq))
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&skb->rbnode, parent, link);
	rb_insert_color(&skb->rbnode, &xtcp_sk(sk)->rtx_queue);
	XTCP_SKB_CB(skb)->in_rtx_queue = 1;
}

/*
 * @skb, the head of sk_write_queue, has left: it joins the sent ones, and
 * resent_list too if that was a retransmission (go-back-N after an RTO).
 */
void xtcp_rtx_queue_sent(struct sock *sk, struct sk_buff *skb)
{
	__skb_unlink(skb, &sk->sk_write_queue);
	xtcp_rtx_queue_insert(sk, skb);
	if (XTCP_SKB_CB(skb)->retransmitted &&
	    !(XTCP_SKB_CB(skb)->rack & XTCP_RACK_SACKED))
		xtcp_rtx_note_resent(sk, skb);
}

/*
 * The sent skb holding @seq, or else the first one above it; NULL when
 * none ends above @seq.
 */
struct sk_buff *xtcp_rtx_find(const struct sock *sk, u32 seq)
{
	struct rb_node *node = xtcp_sk(sk)->rtx_queue.rb_node;
	struct sk_buff *found = NULL;

	while (node) {
		struct sk_buff *skb = rb_to_skb(node);

		if (xtcp_seq_after(XTCP_SKB_CB(skb)->end_seq, seq)) {
			found = skb;	/* a candidate; a lower one may hold it */
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}
	return found;
}

/* Take @skb off whichever queue holds it (it is about to be freed). */
void xtcp_rtx_unlink(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	list_del_init(&cb->resent_node);
	if (cb->in_rtx_queue) {
		rb_erase(&skb->rbnode, &xtcp_sk(sk)->rtx_queue);
		cb->in_rtx_queue = 0;
	} else {
		__skb_unlink(skb, &sk->sk_write_queue);
	}
}

/* RTO: every sent skb goes back in front of the unsent ones, in order. */
void xtcp_rtx_rewind(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff_head sent;
	struct sk_buff *skb, *next;

	__skb_queue_head_init(&sent);
	for (skb = xtcp_rtx_first(sk); skb; skb = next) {
		next = xtcp_rtx_next(skb);
		rb_erase(&skb->rbnode, &xs->rtx_queue);
		XTCP_SKB_CB(skb)->in_rtx_queue = 0;
		list_del_init(&XTCP_SKB_CB(skb)->resent_node);
		__skb_queue_tail(&sent, skb);
	}
	skb_queue_splice(&sent, &sk->sk_write_queue);
}

/* @skb (on rtx_queue) was just sent again: it is the newest resend. */
void xtcp_rtx_note_resent(struct sock *sk, struct sk_buff *skb)
{
	list_move_tail(&XTCP_SKB_CB(skb)->resent_node,
		       &xtcp_sk(sk)->resent_list);
}

/* Does @skb hold the last data queued (PSH, Nagle, cork)? */
bool xtcp_skb_is_last(const struct sock *sk, const struct sk_buff *skb)
{
	if (!XTCP_SKB_CB(skb)->in_rtx_queue)
		return skb_queue_is_last(&sk->sk_write_queue, skb);
	return skb_queue_empty(&sk->sk_write_queue) && !xtcp_rtx_next(skb);
}

/* Free everything queued, sent or not. */
void xtcp_rtx_purge(struct sock *sk)
{
	struct sk_buff *skb;

	while ((skb = xtcp_rtx_first(sk)) ||
	       (skb = xtcp_send_head(sk))) {
		xtcp_rtx_unlink(sk, skb);
		xtcp_wmem_free_skb(sk, skb);
	}
}
