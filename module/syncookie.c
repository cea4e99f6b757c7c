// SPDX-License-Identifier: GPL-2.0
/*
 * SYN cookies, the keyed part: the MAC a cookie carries and the timestamp
 * offset of a connection that opened with one. The layout and the options
 * code are in lib/syncookie.c; listen.c decides when to use them.
 *
 * A cookie is good for a SYN from one peer address and port to one local
 * address and port, with one initial sequence number, in one 64-second
 * slot, for one MSS index and one options code: all of them are under the
 * MAC, whose key is drawn once per boot.
 */
#include <linux/siphash.h>
#include <linux/ktime.h>
#include <net/ip.h>

#include "xtcp.h"

static siphash_aligned_key_t cookie_key;

static u32 cookie_mac(const struct iphdr *iph, const struct xtcp_seg_hdr *th,
		      u32 peer_isn, u32 slot, u8 mss_index, u8 code)
{
	u64 addrs = (u64)(__force u32)iph->saddr << 32 |
		    (__force u32)iph->daddr;
	u64 ports = (u64)th->sport << 48 | (u64)th->dport << 32 | peer_isn;
	u64 rest = (u64)slot << 32 | (u32)mss_index << 8 | code;

	net_get_random_once(&cookie_key, sizeof(cookie_key));
	return (u32)siphash_3u64(addrs, ports, rest, &cookie_key);
}

static u32 now_slot(void)
{
	return xtcp_cookie_slot(ktime_get_seconds());
}

/* The cookie (our ISN) for the SYN @th that came in @iph. */
u32 xtcp_cookie_make(const struct iphdr *iph, const struct xtcp_seg_hdr *th,
		     u8 mss_index, u8 code)
{
	u32 slot = now_slot();

	return xtcp_cookie_pack(slot, mss_index,
				cookie_mac(iph, th, th->seq, slot, mss_index,
					   code));
}

/*
 * Is the ACK @th (in @iph) the answer to a cookie SYN-ACK of ours, made
 * at most two slots ago? Then its MSS index and options code.
 */
bool xtcp_cookie_check(const struct iphdr *iph, const struct xtcp_seg_hdr *th,
		       u8 *mss_index, u8 *code)
{
	u32 cookie = th->ack - 1;
	u32 peer_isn = th->seq - 1;
	u8 idx = xtcp_cookie_mss_field(cookie);
	u8 c = xtcp_cookie_code_of_ack(th->opts.has_timestamp,
				       th->opts.tsecr);
	u32 slot;

	if (!xtcp_cookie_slot_of(cookie, now_slot(), &slot))
		return false;
	/* The SYN's ports: the ACK comes the same way. */
	if ((cookie_mac(iph, th, peer_isn, slot, idx, c) &
	     XTCP_COOKIE_MAC_MASK) != xtcp_cookie_mac_field(cookie))
		return false;
	*mss_index = idx;
	*code = c;
	return true;
}
