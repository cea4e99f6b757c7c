// SPDX-License-Identifier: GPL-2.0
/*
 * Segmentation offload (GSO): a write-queue skb of several MSS leaves as
 * one large packet carrying gso_size = MSS, and goes through IPv4, the
 * qdisc and the device queue once instead of once per segment. Devices
 * that pass packets on whole (loopback, veth) deliver it to the receiver as
 * it is; for every other device the stack calls xtcp_gso_segment, which we
 * register for our IP protocol number, just before the driver.
 *
 * The kernel has no GSO type for "another transport protocol", so the
 * packets say SKB_GSO_SCTP. Outside SCTP's own segmentation callback the
 * type only decides which devices take the packet whole, and only software
 * devices (NETIF_F_GSO_SOFTWARE) claim NETIF_F_GSO_SCTP: no hardware ever
 * parses our header. IPv4 fixes up the IP header of each segment itself.
 * One cost of the borrowed type: the stack's estimate of a segment's size
 * (skb_gso_transport_seglen) counts SCTP's 12-byte header where ours has
 * 20 or more, so a GSO packet forwarded onto a path whose MTU is less than
 * 8 bytes below ours passes the MTU check and its segments are dropped
 * further on (our MSS comes from our own route's MTU; there is no PMTU
 * discovery yet).
 *
 * xtcp_gso_segment may see packets from untrusted sources (a guest's GSO
 * packet through tun/virtio), so it checks what it reads.
 */
#include <linux/ip.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/checksum.h>
#include <net/protocol.h>

#include "xtcp.h"

/* Set once at load: whether the offload slot for our protocol is ours. */
static bool xtcp_gso_registered __read_mostly;

/* Rewrite the header of one segment cut from a GSO packet. */
static void fix_segment(struct sk_buff *seg, u32 seq, bool last,
			u8 last_flags)
{
	struct xtcp_wire_hdr *th = (struct xtcp_wire_hdr *)
				   skb_transport_header(seg);
	const struct iphdr *iph = ip_hdr(seg);
	unsigned int l4_len = seg->len - skb_transport_offset(seg);
	/* The checksum the segment would have if header and payload were 0. */
	__sum16 pseudo_check = csum_tcpudp_magic(iph->saddr, iph->daddr,
						 l4_len, xtcp_ipproto, 0);
	/* What the header and payload must sum to, for outer tunnels. */
	__wsum rest = (__force __wsum)(u32)(__force u16)pseudo_check;

	th->seq = htonl(seq);
	/* FIN and PSH belong to the last byte: only the last segment. */
	th->flags = last ? last_flags :
		    last_flags & ~(XTCP_FLAG_FIN | XTCP_FLAG_PSH);
	/*
	 * The check field holds the folded pseudo-header sum: the device or
	 * gso_make_checksum adds the header and payload to it.
	 */
	th->check = ~pseudo_check;
	if (seg->ip_summed == CHECKSUM_PARTIAL)
		gso_reset_checksum(seg, rest);
	else
		th->check = gso_make_checksum(seg, rest);
}

static struct sk_buff *xtcp_gso_segment(struct sk_buff *skb,
					netdev_features_t features)
{
	struct xtcp_wire_hdr *th;
	struct sk_buff *segs, *seg;
	unsigned int hdr_len, mss;
	u8 flags;
	u32 seq;

	if (!(skb_shinfo(skb)->gso_type & XTCP_GSO_TYPE) ||
	    skb->ip_summed != CHECKSUM_PARTIAL ||
	    !pskb_may_pull(skb, XTCP_HDR_LEN))
		return ERR_PTR(-EINVAL);
	th = (struct xtcp_wire_hdr *)skb->data;
	hdr_len = (th->doff_rsvd >> 4) * 4;
	if (hdr_len < XTCP_HDR_LEN || !pskb_may_pull(skb, hdr_len))
		return ERR_PTR(-EINVAL);
	mss = skb_shinfo(skb)->gso_size;
	if (!mss || skb->len - hdr_len <= mss)
		return ERR_PTR(-EINVAL);

	th = (struct xtcp_wire_hdr *)skb->data;
	seq = ntohl(th->seq);
	flags = th->flags;
	/*
	 * A device that cannot sum any protocol (HW_CSUM) would take our
	 * segments for TCP or UDP: sum them here instead.
	 */
	if (!(features & NETIF_F_HW_CSUM))
		features &= ~NETIF_F_CSUM_MASK;

	__skb_pull(skb, hdr_len);
	segs = skb_segment(skb, features);
	if (IS_ERR_OR_NULL(segs))
		return segs;

	for (seg = segs; seg; seg = seg->next) {
		fix_segment(seg, seq, !seg->next, flags);
		seq += seg->len - skb_transport_offset(seg) - hdr_len;
	}
	xtcp_gso_own_segments(skb, segs);
	return segs;
}

static const struct net_offload xtcp_offload = {
	.callbacks = {
		.gso_segment = xtcp_gso_segment,
	},
};

int xtcp_offload_init(void)
{
	if (inet_add_offload(&xtcp_offload, xtcp_ipproto)) {
		/* Someone else segments this protocol: send MSS-sized. */
		pr_warn("xtcp: IP protocol %d has an offload already; no GSO\n",
			xtcp_ipproto);
		return 0;
	}
	xtcp_gso_registered = true;
	return 0;
}

void xtcp_offload_exit(void)
{
	if (xtcp_gso_registered)
		inet_del_offload(&xtcp_offload, xtcp_ipproto);
}

/*
 * A connection's route is known (socket lock held, or the socket is not yet
 * visible): record the device's abilities for the output path.
 */
void xtcp_setup_caps(struct sock *sk, struct dst_entry *dst)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	/*
	 * In wire mode the packets are TCP's: native's offload cuts them and
	 * devices with TSO take them whole, as native TCP's.
	 */
	if (xs->wire) {
		sk->sk_gso_type = SKB_GSO_TCPV4;
		sk_setup_caps(sk, dst);
		xs->gso_ok = sk_can_gso(sk);
		return;
	}
	sk->sk_gso_type = XTCP_GSO_TYPE;
	sk_setup_caps(sk, dst);
	xs->gso_ok = xtcp_gso_registered && sk_can_gso(sk);
}
