/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Window arithmetic: how much the sender may put on the wire, which receive
 * window to advertise, and whether a segment falls inside the receive window.
 */
#ifndef _XTCP_LIB_WINDOW_H
#define _XTCP_LIB_WINDOW_H

#include "types.h"

/*
 * Bytes beyond snd_nxt the sender may send now: the right edge is the lower
 * of the peer's window (snd_una + snd_wnd) and the congestion window
 * (snd_una + cwnd_bytes). Zero when snd_nxt is already at or past it.
 */
u32 xtcp_send_allowance(u32 snd_una, u32 snd_nxt, u32 snd_wnd, u32 cwnd_bytes);

/* The 16-bit window field for @window bytes with shift @wscale. */
u16 xtcp_window_field(u32 window, u8 wscale);

/*
 * The receive window to advertise, in bytes, given @free bytes of buffer,
 * @remaining bytes of the window already promised (rcv_wup + rcv_wnd -
 * rcv_nxt), the peer's @mss and the buffer's total @space.
 * - never shrink below what was promised (RFC 9293 section 3.8.6);
 * - receiver-side silly window avoidance (RFC 1122 4.2.3.3): open the window
 *   only by at least min(mss, space / 2);
 * - round down to what the window scale can express.
 */
u32 xtcp_rcv_window_choose(u32 free, u32 remaining, u32 mss, u32 space,
			   u8 wscale);

/*
 * RFC 9293 section 3.10.7.4 acceptability test for a segment of @len bytes
 * (SYN and FIN counted) starting at @seq against the window [rcv_nxt,
 * rcv_nxt + rcv_wnd).
 */
bool xtcp_seq_acceptable(u32 seq, u32 len, u32 rcv_nxt, u32 rcv_wnd);

#endif /* _XTCP_LIB_WINDOW_H */
