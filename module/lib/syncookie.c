// SPDX-License-Identifier: GPL-2.0
/* SYN cookie arithmetic: see syncookie.h. */
#include "syncookie.h"

/*
 * MSS values a cookie can name, smallest first: the RFC 9293 default, an
 * IPv6 tunnel's, common VPN and PPPoE paths, Ethernet (1460) and a 9000
 * byte jumbo frame. A peer gets the largest not above what it offered.
 */
static const u16 cookie_mss_table[1 << XTCP_COOKIE_MSS_BITS] = {
	536, 1220, 1300, 1400, 1440, 1452, 1460, 8960,
};

u8 xtcp_cookie_mss_index(u32 peer_mss)
{
	u8 i;

	for (i = (1 << XTCP_COOKIE_MSS_BITS) - 1; i > 0; i--)
		if (cookie_mss_table[i] <= peer_mss)
			break;
	return i;
}

u16 xtcp_cookie_mss(u8 index)
{
	return cookie_mss_table[index & ((1 << XTCP_COOKIE_MSS_BITS) - 1)];
}

u32 xtcp_cookie_pack(u32 slot, u8 mss_index, u32 mac)
{
	u32 slot_bits = slot & ((1u << XTCP_COOKIE_SLOT_BITS) - 1);
	u32 mss_bits = mss_index & ((1u << XTCP_COOKIE_MSS_BITS) - 1);

	return slot_bits << (XTCP_COOKIE_MSS_BITS + XTCP_COOKIE_MAC_BITS) |
	       mss_bits << XTCP_COOKIE_MAC_BITS | (mac & XTCP_COOKIE_MAC_MASK);
}

bool xtcp_cookie_slot_of(u32 cookie, u32 now_slot, u32 *slot)
{
	u32 mask = (1u << XTCP_COOKIE_SLOT_BITS) - 1;
	u32 carried = cookie >> (XTCP_COOKIE_MSS_BITS + XTCP_COOKIE_MAC_BITS);
	/* Slots back from now, modulo the 32 the field can tell apart. */
	u32 age = (now_slot - carried) & mask;

	if (age > XTCP_COOKIE_MAX_AGE)
		return false;
	*slot = now_slot - age;
	return true;
}

u8 xtcp_cookie_opt_code(bool ts, bool sack, bool has_wscale, u8 wscale)
{
	u8 code;

	if (!ts)
		return 0;
	code = XTCP_COOKIE_OPT_TS;
	if (sack)
		code |= XTCP_COOKIE_OPT_SACK;
	code |= has_wscale && wscale < XTCP_COOKIE_OPT_NO_WS ?
		wscale : XTCP_COOKIE_OPT_NO_WS;
	return code;
}

bool xtcp_cookie_opt_decode(u8 code, struct xtcp_cookie_opts *opts)
{
	u8 ws = code & XTCP_COOKIE_OPT_WS_MASK;

	memset(opts, 0, sizeof(*opts));
	if (!(code & XTCP_COOKIE_OPT_TS))
		return code == 0;
	if (code & ~(XTCP_COOKIE_OPT_TS | XTCP_COOKIE_TS_MASK))
		return false;
	opts->ts = true;
	opts->sack = code & XTCP_COOKIE_OPT_SACK;
	/* 4 bits: 0..14 are RFC 7323's shifts, 15 is none. */
	if (ws == XTCP_COOKIE_OPT_NO_WS)
		return true;
	opts->has_wscale = true;
	opts->wscale = ws;
	return true;
}

u32 xtcp_cookie_tsval(u32 now, u8 code)
{
	u32 ts = (now & ~(u32)XTCP_COOKIE_TS_MASK) |
		 (code & XTCP_COOKIE_TS_MASK);

	/* Ahead of now (by less than 32): take the same bits a step back. */
	if ((s32)(ts - now) > 0)
		ts -= XTCP_COOKIE_TS_MASK + 1;
	return ts;
}
