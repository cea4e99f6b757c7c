// SPDX-License-Identifier: GPL-2.0
/* Send allowance, advertised window, and the segment acceptability test. */
#include "window.h"
#include "seq.h"

u32 xtcp_send_allowance(u32 snd_una, u32 snd_nxt, u32 snd_wnd, u32 cwnd_bytes)
{
	u32 limit = snd_wnd < cwnd_bytes ? snd_wnd : cwnd_bytes;
	u32 edge = snd_una + limit;

	if (!xtcp_seq_after(edge, snd_nxt))
		return 0;
	return edge - snd_nxt;
}

u16 xtcp_window_field(u32 window, u8 wscale)
{
	window >>= wscale;
	return window > 0xffff ? 0xffff : (u16)window;
}

u32 xtcp_rcv_window_choose(u32 free, u32 remaining, u32 mss, u32 space,
			   u8 wscale)
{
	u32 step = mss < space / 2 ? mss : space / 2;
	u32 max_wnd = (u32)0xffff << wscale;
	u32 wnd;

	if (free <= remaining)
		return remaining;
	if (free - remaining < step)
		return remaining;
	wnd = free > max_wnd ? max_wnd : free;
	wnd &= ~((1u << wscale) - 1);
	return wnd > remaining ? wnd : remaining;
}

bool xtcp_seq_acceptable(u32 seq, u32 len, u32 rcv_nxt, u32 rcv_wnd)
{
	u32 end = seq + len - 1;

	if (!len) {
		if (!rcv_wnd)
			return seq == rcv_nxt;
		return xtcp_seq_after_eq(seq, rcv_nxt) &&
		       xtcp_seq_before(seq, rcv_nxt + rcv_wnd);
	}
	if (!rcv_wnd)
		return false;
	return (xtcp_seq_after_eq(seq, rcv_nxt) &&
		xtcp_seq_before(seq, rcv_nxt + rcv_wnd)) ||
	       (xtcp_seq_after_eq(end, rcv_nxt) &&
		xtcp_seq_before(end, rcv_nxt + rcv_wnd));
}
