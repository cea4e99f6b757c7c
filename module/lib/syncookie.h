/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SYN cookies: when a listener's SYN queue is full, the state of a half-open
 * connection travels in the SYN-ACK instead of in memory, and comes back in
 * the ACK that completes the handshake.
 *
 * Our initial sequence number (the cookie) is laid out as Bernstein's
 * original: 5 bits of a 64-second time slot, 3 bits of an MSS table index,
 * 24 bits of a keyed MAC (module/syncookie.c) over the addresses, ports, the
 * peer's ISN, the whole slot, the MSS index and the options code below.
 *
 * The options of the SYN that a cookie cannot hold (window scale and SACK)
 * ride in the low bits of our timestamp, which the peer echoes; without
 * timestamps they are not offered at all. They are covered by the MAC, so a
 * forged echo fails the check like a forged cookie.
 *
 * This file is the pure arithmetic: layout, slot age, MSS table, options
 * code and its place in the timestamp.
 */
#ifndef _XTCP_LIB_SYNCOOKIE_H
#define _XTCP_LIB_SYNCOOKIE_H

#include "types.h"

#define XTCP_COOKIE_SLOT_SHIFT	6	/* a slot is 64 seconds */
#define XTCP_COOKIE_SLOT_BITS	5
#define XTCP_COOKIE_MSS_BITS	3
#define XTCP_COOKIE_MAC_BITS	24
#define XTCP_COOKIE_MAC_MASK	((1u << XTCP_COOKIE_MAC_BITS) - 1)
/* A cookie is good in the slot it was made in and the two after it. */
#define XTCP_COOKIE_MAX_AGE	2

/* The options code: which options the SYN had, in 6 bits. */
#define XTCP_COOKIE_OPT_TS	0x20	/* timestamps: the other bits valid */
#define XTCP_COOKIE_OPT_SACK	0x10
#define XTCP_COOKIE_OPT_WS_MASK	0x0f	/* window shift, or ... */
#define XTCP_COOKIE_OPT_NO_WS	0x0f	/* ... no window scale option */
/* The bits of the code that ride in our timestamp value. */
#define XTCP_COOKIE_TS_MASK	0x1f

/* Time slot of a clock in seconds. */
static inline u32 xtcp_cookie_slot(u64 seconds)
{
	return (u32)(seconds >> XTCP_COOKIE_SLOT_SHIFT);
}

/* The largest table MSS not above @peer_mss; index 0 (536) at least. */
u8 xtcp_cookie_mss_index(u32 peer_mss);
/* The MSS of table entry @index (only the low 3 bits are used). */
u16 xtcp_cookie_mss(u8 index);

/* The cookie from its three fields (@mac: its low 24 bits). */
u32 xtcp_cookie_pack(u32 slot, u8 mss_index, u32 mac);
static inline u8 xtcp_cookie_mss_field(u32 cookie)
{
	return (cookie >> XTCP_COOKIE_MAC_BITS) &
	       ((1u << XTCP_COOKIE_MSS_BITS) - 1);
}

static inline u32 xtcp_cookie_mac_field(u32 cookie)
{
	return cookie & XTCP_COOKIE_MAC_MASK;
}

/*
 * The whole slot a cookie made at most XTCP_COOKIE_MAX_AGE slots before
 * @now_slot was made in, from the 5 bits it carries: true and *@slot, or
 * false when it is older (or from the future).
 */
bool xtcp_cookie_slot_of(u32 cookie, u32 now_slot, u32 *slot);

/*
 * The options code of a SYN: 0 without timestamps (no window scale, no
 * SACK then: nothing would bring them back); @wscale <= 14.
 */
u8 xtcp_cookie_opt_code(bool ts, bool sack, bool has_wscale, u8 wscale);

struct xtcp_cookie_opts {
	bool ts;
	bool sack;
	bool has_wscale;
	u8 wscale;
};

/* The options a code stands for; false for a code no SYN makes. */
bool xtcp_cookie_opt_decode(u8 code, struct xtcp_cookie_opts *opts);

/*
 * Our timestamp value @now with the code's low bits in its own low bits,
 * never ahead of @now (a timestamp must not run backwards after it).
 */
u32 xtcp_cookie_tsval(u32 now, u8 code);

/* The code an ACK brings back: from its echo if it has timestamps. */
static inline u8 xtcp_cookie_code_of_ack(bool has_ts, u32 tsecr)
{
	return has_ts ? XTCP_COOKIE_OPT_TS | (tsecr & XTCP_COOKIE_TS_MASK) : 0;
}

#endif /* _XTCP_LIB_SYNCOOKIE_H */
