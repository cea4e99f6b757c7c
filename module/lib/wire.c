// SPDX-License-Identifier: GPL-2.0
/*
 * TCP header and option parsing and building. Input comes straight from the
 * network, so every length is checked against the bytes really there.
 */
#include "wire.h"

static u16 get_be16(const u8 *p)
{
	return (u16)((p[0] << 8) | p[1]);
}

static u32 get_be32(const u8 *p)
{
	return ((u32)p[0] << 24) | ((u32)p[1] << 16) | ((u32)p[2] << 8) | p[3];
}

static void put_be16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put_be32(u8 *p, u32 v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/*
 * Known options with the wrong length are ignored rather than rejected, as
 * RFC 9293 section 3.2 lets a receiver do; only a length that breaks the
 * option list itself makes the segment malformed.
 */
static void parse_sack(const u8 *val, u8 len, struct xtcp_opts *opts)
{
	u8 n = (len - XTCP_OPTLEN_SACK_BASE) / 8, i;

	if (len < XTCP_OPTLEN_SACK_BASE + 8 ||
	    (len - XTCP_OPTLEN_SACK_BASE) % 8 || n > XTCP_MAX_SACK_BLOCKS)
		return;
	for (i = 0; i < n; i++) {
		opts->sacks[i].start = get_be32(val + 8 * i);
		opts->sacks[i].end = get_be32(val + 8 * i + 4);
	}
	opts->num_sacks = n;
}

static void parse_one_option(u8 kind, const u8 *val, u8 len,
			     struct xtcp_opts *opts, bool syn)
{
	switch (kind) {
	case XTCP_OPT_SACK:
		if (!syn)
			parse_sack(val, len, opts);
		break;
	case XTCP_OPT_MSS:
		if (len == XTCP_OPTLEN_MSS && syn) {
			opts->has_mss = true;
			opts->mss = get_be16(val);
		}
		break;
	case XTCP_OPT_WSCALE:
		if (len == XTCP_OPTLEN_WSCALE && syn) {
			opts->has_wscale = true;
			opts->wscale = val[0] > XTCP_MAX_WSCALE ?
				       XTCP_MAX_WSCALE : val[0];
		}
		break;
	case XTCP_OPT_SACK_PERM:
		if (len == XTCP_OPTLEN_SACK_PERM && syn)
			opts->sack_permitted = true;
		break;
	case XTCP_OPT_TIMESTAMP:
		if (len == XTCP_OPTLEN_TIMESTAMP) {
			opts->has_timestamp = true;
			opts->tsval = get_be32(val);
			opts->tsecr = get_be32(val + 4);
		}
		break;
	default:
		break;
	}
}

static enum xtcp_parse_result parse_options(const u8 *p, unsigned int len,
					    struct xtcp_opts *opts, bool syn)
{
	unsigned int i = 0;

	while (i < len) {
		u8 kind = p[i];
		u8 olen;

		if (kind == XTCP_OPT_EOL)
			break;
		if (kind == XTCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return XTCP_PARSE_BAD_OPTION;
		olen = p[i + 1];
		if (olen < 2 || olen > len - i)
			return XTCP_PARSE_BAD_OPTION;
		parse_one_option(kind, p + i + 2, olen, opts, syn);
		i += olen;
	}
	return XTCP_PARSE_OK;
}

enum xtcp_parse_result xtcp_parse_hdr(const void *buf, size_t len,
				      struct xtcp_seg_hdr *out)
{
	const u8 *p = buf;
	unsigned int hdr_len;

	if (len < XTCP_HDR_LEN)
		return XTCP_PARSE_SHORT;
	hdr_len = (p[12] >> 4) * 4;
	if (hdr_len < XTCP_HDR_LEN)
		return XTCP_PARSE_BAD_DOFF;
	if (hdr_len > len)
		return XTCP_PARSE_SHORT;

	memset(out, 0, sizeof(*out));
	out->sport = get_be16(p);
	out->dport = get_be16(p + 2);
	out->seq = get_be32(p + 4);
	out->ack = get_be32(p + 8);
	out->flags = p[13];
	out->window = get_be16(p + 14);
	out->hdr_len = hdr_len;
	return parse_options(p + XTCP_HDR_LEN, hdr_len - XTCP_HDR_LEN,
			     &out->opts, out->flags & XTCP_FLAG_SYN);
}

static unsigned int fixed_opts_len(const struct xtcp_opts *opts)
{
	unsigned int len = 0;

	if (opts->has_mss)
		len += XTCP_OPTLEN_MSS;
	/*
	 * Native's layout (build_hdr): SACK-permitted takes the two NOPs
	 * before the timestamps, else a NOP-padded word; window scale one.
	 */
	if (opts->has_timestamp)
		len += 12;
	else if (opts->sack_permitted)
		len += 4;
	if (opts->has_wscale)
		len += 4;
	return len;
}

/* SACK blocks that fit beside the other options: two NOPs, kind, length. */
static unsigned int sacks_fitting(const struct xtcp_opts *opts)
{
	unsigned int room = XTCP_MAX_OPT_LEN - fixed_opts_len(opts);
	unsigned int n = opts->num_sacks;

	if (n > XTCP_MAX_SACK_BLOCKS)
		n = XTCP_MAX_SACK_BLOCKS;
	if (room < 4 + 8)
		return 0;
	if (n > (room - 4) / 8)
		n = (room - 4) / 8;
	return n;
}

unsigned int xtcp_opts_len(const struct xtcp_opts *opts)
{
	unsigned int n = sacks_fitting(opts);

	return fixed_opts_len(opts) + (n ? 4 + 8 * n : 0);
}

unsigned int xtcp_build_hdr(void *buf, const struct xtcp_hdr_fields *f)
{
	unsigned int hdr_len = XTCP_HDR_LEN + xtcp_opts_len(&f->opts);
	u8 *p = buf;
	u8 *o = p + XTCP_HDR_LEN;
	unsigned int n, i;

	put_be16(p, f->sport);
	put_be16(p + 2, f->dport);
	put_be32(p + 4, f->seq);
	put_be32(p + 8, f->ack);
	p[12] = (hdr_len / 4) << 4;
	p[13] = f->flags;
	put_be16(p + 14, f->window);
	put_be16(p + 16, 0);
	put_be16(p + 18, 0);

	if (f->opts.has_mss) {
		o[0] = XTCP_OPT_MSS;
		o[1] = XTCP_OPTLEN_MSS;
		put_be16(o + 2, f->opts.mss);
		o += 4;
	}
	/*
	 * Options in native TCP's order and padding (tcp_options_write): on
	 * a SYN with all of them, MSS, SACK-permitted, timestamps, NOP,
	 * window scale, 20 bytes; tools and middleboxes see what they know.
	 */
	if (f->opts.has_timestamp) {
		if (f->opts.sack_permitted) {
			o[0] = XTCP_OPT_SACK_PERM;
			o[1] = XTCP_OPTLEN_SACK_PERM;
		} else {
			o[0] = XTCP_OPT_NOP;
			o[1] = XTCP_OPT_NOP;
		}
		o[2] = XTCP_OPT_TIMESTAMP;
		o[3] = XTCP_OPTLEN_TIMESTAMP;
		put_be32(o + 4, f->opts.tsval);
		put_be32(o + 8, f->opts.tsecr);
		o += 12;
	} else if (f->opts.sack_permitted) {
		o[0] = XTCP_OPT_NOP;
		o[1] = XTCP_OPT_NOP;
		o[2] = XTCP_OPT_SACK_PERM;
		o[3] = XTCP_OPTLEN_SACK_PERM;
		o += 4;
	}
	if (f->opts.has_wscale) {
		o[0] = XTCP_OPT_NOP;
		o[1] = XTCP_OPT_WSCALE;
		o[2] = XTCP_OPTLEN_WSCALE;
		o[3] = f->opts.wscale;
		o += 4;
	}
	n = sacks_fitting(&f->opts);
	if (n) {
		o[0] = XTCP_OPT_NOP;
		o[1] = XTCP_OPT_NOP;
		o[2] = XTCP_OPT_SACK;
		o[3] = XTCP_OPTLEN_SACK_BASE + 8 * n;
		o += 4;
		for (i = 0; i < n; i++) {
			put_be32(o, f->opts.sacks[i].start);
			put_be32(o + 4, f->opts.sacks[i].end);
			o += 8;
		}
	}
	return hdr_len;
}
