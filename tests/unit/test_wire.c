// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for module/lib/wire.c: TCP header and option parsing and
 * building. Every buffer handed to xtcp_parse_hdr is a heap block of exactly
 * the length passed, so AddressSanitizer (KASAN in the kernel) catches any
 * read past the end.
 */
#include "harness.h"
#include "wire.h"

/* Parse a copy of @bytes in a heap block of exactly @len bytes. */
static enum xtcp_parse_result parse_exact(const void *bytes, size_t len,
					  struct xtcp_seg_hdr *out)
{
	enum xtcp_parse_result r;
	void *p = th_alloc(len);

	if (len)
		memcpy(p, bytes, len);
	r = xtcp_parse_hdr(p, len, out);
	th_free(p);
	return r;
}

/*
 * A bare 20-byte header followed by @optlen option bytes; doff is set to
 * cover them (so @optlen must be a multiple of four).
 */
static size_t mkhdr(uint8_t *buf, uint8_t flags, const uint8_t *opts,
		    size_t optlen)
{
	static const uint8_t base[20] = {
		0x30, 0x39, 0x00, 0x50,		/* 12345 -> 80 */
		0x01, 0x02, 0x03, 0x04,		/* seq */
		0x00, 0x00, 0x00, 0x00,		/* ack */
		0x50, 0x00, 0x72, 0x10,		/* doff 5, flags, window 29200 */
		0x00, 0x00, 0x00, 0x00,		/* check, urg */
	};

	memcpy(buf, base, 20);
	if (optlen)
		memcpy(buf + 20, opts, optlen);
	buf[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	buf[13] = flags;
	return 20 + optlen;
}

/* ---- handcrafted segments ------------------------------------------- */

TEST(wire_parse_syn_all_options)
{
	/* SYN, MSS 1460, NOP, wscale 7, SACK-permitted, timestamp. */
	static const uint8_t syn[40] = {
		0x30, 0x39, 0x00, 0x50,
		0x01, 0x02, 0x03, 0x04,
		0x00, 0x00, 0x00, 0x00,
		0xa0, 0x02, 0xff, 0xff,
		0x00, 0x00, 0x00, 0x00,
		0x02, 0x04, 0x05, 0xb4,			/* MSS 1460 */
		0x01,					/* NOP */
		0x03, 0x03, 0x07,			/* wscale 7 */
		0x04, 0x02,				/* SACK-perm */
		0x08, 0x0a, 0x00, 0x01, 0x02, 0x03,	/* TSval 66051 */
		0x00, 0x00, 0x00, 0x00,			/* TSecr 0 */
	};
	struct xtcp_seg_hdr h;

	CHECK_EQ(parse_exact(syn, sizeof(syn), &h), XTCP_PARSE_OK);
	CHECK_EQ(h.sport, 12345);
	CHECK_EQ(h.dport, 80);
	CHECK_EQ(h.seq, 0x01020304u);
	CHECK_EQ(h.ack, 0);
	CHECK_EQ(h.window, 65535);
	CHECK_EQ(h.flags, XTCP_FLAG_SYN);
	CHECK_EQ(h.hdr_len, 40);
	CHECK_TRUE(h.opts.has_mss);
	CHECK_EQ(h.opts.mss, 1460);
	CHECK_TRUE(h.opts.has_wscale);
	CHECK_EQ(h.opts.wscale, 7);
	CHECK_TRUE(h.opts.sack_permitted);
	CHECK_TRUE(h.opts.has_timestamp);
	CHECK_EQ(h.opts.tsval, 66051);
	CHECK_EQ(h.opts.tsecr, 0);
}

TEST(wire_parse_linux_synack_layout)
{
	/* The order Linux puts them in: MSS, SACK-perm, TS, NOP, wscale. */
	static const uint8_t sa[40] = {
		0x00, 0x50, 0xd4, 0x31,			/* 80 -> 54321 */
		0xde, 0xad, 0xbe, 0xef,
		0x01, 0x02, 0x03, 0x05,
		0xa0, 0x12, 0xfe, 0x88,			/* SYN|ACK, 65160 */
		0x12, 0x34, 0x00, 0x00,
		0x02, 0x04, 0x22, 0x38,			/* MSS 8760 */
		0x04, 0x02,
		0x08, 0x0a, 0xff, 0xff, 0xff, 0xfe,
		0x80, 0x00, 0x00, 0x01,
		0x01, 0x03, 0x03, 0x0e,			/* wscale 14 */
	};
	struct xtcp_seg_hdr h;

	CHECK_EQ(parse_exact(sa, sizeof(sa), &h), XTCP_PARSE_OK);
	CHECK_EQ(h.sport, 80);
	CHECK_EQ(h.dport, 54321);
	CHECK_EQ(h.seq, 0xdeadbeefu);
	CHECK_EQ(h.ack, 0x01020305u);
	CHECK_EQ(h.window, 65160);
	CHECK_EQ(h.flags, XTCP_FLAG_SYN | XTCP_FLAG_ACK);
	CHECK_EQ(h.hdr_len, 40);
	CHECK_TRUE(h.opts.has_mss);
	CHECK_EQ(h.opts.mss, 8760);
	CHECK_TRUE(h.opts.sack_permitted);
	CHECK_TRUE(h.opts.has_timestamp);
	CHECK_EQ(h.opts.tsval, 0xfffffffeu);
	CHECK_EQ(h.opts.tsecr, 0x80000001u);
	CHECK_TRUE(h.opts.has_wscale);
	CHECK_EQ(h.opts.wscale, 14);
}

TEST(wire_parse_bare_header_with_payload)
{
	uint8_t b[20 + 7];
	struct xtcp_seg_hdr h;

	mkhdr(b, XTCP_FLAG_ACK | XTCP_FLAG_PSH | XTCP_FLAG_FIN, NULL, 0);
	memcpy(b + 20, "payload", 7);
	CHECK_EQ(parse_exact(b, sizeof(b), &h), XTCP_PARSE_OK);
	CHECK_EQ(h.hdr_len, 20);
	CHECK_EQ(h.flags, 0x19);
	CHECK_EQ(h.window, 29200);
	CHECK_FALSE(h.opts.has_mss);
	CHECK_FALSE(h.opts.has_wscale);
	CHECK_FALSE(h.opts.sack_permitted);
	CHECK_FALSE(h.opts.has_timestamp);
	/* Exactly 20 bytes and nothing else is a valid header too. */
	CHECK_EQ(parse_exact(b, 20, &h), XTCP_PARSE_OK);
	CHECK_EQ(h.hdr_len, 20);
}

TEST(wire_parse_all_flags_and_max_fields)
{
	uint8_t b[20];
	struct xtcp_seg_hdr h;

	mkhdr(b, 0xff, NULL, 0);
	memset(b, 0xff, 12);
	b[14] = b[15] = 0xff;
	b[12] |= 0x0f;			/* reserved bits set: ignored */
	CHECK_EQ(parse_exact(b, sizeof(b), &h), XTCP_PARSE_OK);
	CHECK_EQ(h.sport, 0xffff);
	CHECK_EQ(h.dport, 0xffff);
	CHECK_EQ(h.seq, 0xffffffffu);
	CHECK_EQ(h.ack, 0xffffffffu);
	CHECK_EQ(h.flags, 0xff);
	CHECK_EQ(h.window, 0xffff);
	CHECK_EQ(h.hdr_len, 20);
}

TEST(wire_parse_60_byte_header_of_nops)
{
	uint8_t opts[40], b[60];
	struct xtcp_seg_hdr h;

	memset(opts, XTCP_OPT_NOP, sizeof(opts));
	mkhdr(b, XTCP_FLAG_SYN, opts, sizeof(opts));
	CHECK_EQ(b[12], 0xf0);
	CHECK_EQ(parse_exact(b, sizeof(b), &h), XTCP_PARSE_OK);
	CHECK_EQ(h.hdr_len, 60);
	CHECK_FALSE(h.opts.has_mss);
}

TEST(wire_parse_unknown_option_skipped)
{
	/* Unknown kind 30 (MPTCP) with length 6, then MSS 536, then NOPs. */
	static const uint8_t opts[12] = {
		0x1e, 0x06, 0xaa, 0xbb, 0xcc, 0xdd,
		0x02, 0x04, 0x02, 0x18,
		0x01, 0x01,
	};
	uint8_t b[32];
	struct xtcp_seg_hdr h;

	mkhdr(b, XTCP_FLAG_SYN, opts, sizeof(opts));
	CHECK_EQ(parse_exact(b, sizeof(b), &h), XTCP_PARSE_OK);
	CHECK_TRUE(h.opts.has_mss);
	CHECK_EQ(h.opts.mss, 536);
}

/* ---- malformed input ------------------------------------------------ */

TEST(wire_short_below_20)
{
	uint8_t b[20];
	struct xtcp_seg_hdr h;
	size_t len;

	mkhdr(b, XTCP_FLAG_ACK, NULL, 0);
	for (len = 0; len < 20; len++)
		CHECK_EQ(parse_exact(b, len, &h), XTCP_PARSE_SHORT);
	CHECK_EQ(xtcp_parse_hdr(NULL, 0, &h), XTCP_PARSE_SHORT);
}

TEST(wire_bad_doff_below_5)
{
	uint8_t b[60];
	struct xtcp_seg_hdr h;
	unsigned int doff;

	memset(b, 0, sizeof(b));
	mkhdr(b, XTCP_FLAG_ACK, NULL, 0);
	for (doff = 0; doff < 5; doff++) {
		b[12] = (uint8_t)(doff << 4);
		CHECK_EQ(parse_exact(b, 20, &h), XTCP_PARSE_BAD_DOFF);
		CHECK_EQ(parse_exact(b, 60, &h), XTCP_PARSE_BAD_DOFF);
	}
}

TEST(wire_short_doff_past_len)
{
	uint8_t b[60];
	struct xtcp_seg_hdr h;
	unsigned int doff;

	memset(b, XTCP_OPT_NOP, sizeof(b));
	mkhdr(b, XTCP_FLAG_ACK, NULL, 0);
	for (doff = 6; doff <= 15; doff++) {
		b[12] = (uint8_t)(doff << 4);
		/* One byte short of the header doff announces. */
		CHECK_EQ(parse_exact(b, doff * 4 - 1, &h), XTCP_PARSE_SHORT);
		CHECK_EQ(parse_exact(b, 20, &h), XTCP_PARSE_SHORT);
		CHECK_EQ(parse_exact(b, doff * 4, &h), XTCP_PARSE_OK);
		CHECK_EQ(h.hdr_len, doff * 4);
	}
}

TEST(wire_bad_option_len_0_or_1)
{
	static const uint8_t kinds[] = { XTCP_OPT_MSS, XTCP_OPT_WSCALE,
					 XTCP_OPT_SACK_PERM, XTCP_OPT_SACK,
					 XTCP_OPT_TIMESTAMP, 30, 0xff };
	uint8_t opts[4], b[24];
	struct xtcp_seg_hdr h;
	size_t i;
	uint8_t l;

	for (i = 0; i < sizeof(kinds); i++) {
		for (l = 0; l <= 1; l++) {
			opts[0] = kinds[i];
			opts[1] = l;
			opts[2] = opts[3] = XTCP_OPT_NOP;
			mkhdr(b, XTCP_FLAG_SYN, opts, 4);
			CHECK_EQ(parse_exact(b, sizeof(b), &h),
				 XTCP_PARSE_BAD_OPTION);
			/* Also after a valid option and some NOPs. */
			{
				uint8_t o2[8] = { 0x02, 0x04, 0x05, 0xb4,
						  0x01, 0x01, kinds[i], l };
				uint8_t b2[28];

				mkhdr(b2, XTCP_FLAG_SYN, o2, 8);
				CHECK_EQ(parse_exact(b2, sizeof(b2), &h),
					 XTCP_PARSE_BAD_OPTION);
			}
		}
	}
}

TEST(wire_bad_option_past_header_end)
{
	/* Timestamp needs 10 bytes, only 4 option bytes in the header. */
	static const uint8_t ts4[4] = { 0x08, 0x0a, 0x00, 0x00 };
	/* MSS whose length is one more than what is left. */
	static const uint8_t mss5[4] = { 0x01, 0x02, 0x04, 0x05 };
	/* Length 255. */
	static const uint8_t big[8] = { 0x01, 0x01, 0x01, 0x01,
					0x1e, 0xff, 0x00, 0x00 };
	uint8_t b[64];
	struct xtcp_seg_hdr h;

	mkhdr(b, XTCP_FLAG_SYN, ts4, 4);
	CHECK_EQ(parse_exact(b, 24, &h), XTCP_PARSE_BAD_OPTION);
	/*
	 * Payload after the header must not be taken for the rest of the
	 * option: the option list ends where doff says.
	 */
	memset(b + 24, 0, 40);
	CHECK_EQ(parse_exact(b, 64, &h), XTCP_PARSE_BAD_OPTION);

	mkhdr(b, XTCP_FLAG_SYN, mss5, 4);
	CHECK_EQ(parse_exact(b, 24, &h), XTCP_PARSE_BAD_OPTION);
	CHECK_EQ(parse_exact(b, 64, &h), XTCP_PARSE_BAD_OPTION);

	mkhdr(b, XTCP_FLAG_SYN, big, 8);
	CHECK_EQ(parse_exact(b, 28, &h), XTCP_PARSE_BAD_OPTION);

	/* An option ending exactly at the header end is fine. */
	{
		static const uint8_t fit[4] = { 0x1e, 0x04, 0x00, 0x00 };

		mkhdr(b, XTCP_FLAG_SYN, fit, 4);
		CHECK_EQ(parse_exact(b, 24, &h), XTCP_PARSE_OK);
	}
}

TEST(wire_bad_option_lone_kind_at_end)
{
	static const uint8_t kinds[] = { XTCP_OPT_MSS, XTCP_OPT_WSCALE,
					 XTCP_OPT_SACK_PERM,
					 XTCP_OPT_TIMESTAMP, 30, 0xff };
	uint8_t opts[8], b[28];
	struct xtcp_seg_hdr h;
	size_t i;

	for (i = 0; i < sizeof(kinds); i++) {
		memset(opts, XTCP_OPT_NOP, sizeof(opts));
		opts[3] = kinds[i];
		mkhdr(b, XTCP_FLAG_SYN, opts, 4);
		CHECK_EQ(parse_exact(b, 24, &h), XTCP_PARSE_BAD_OPTION);
		/* With payload behind it, still only the header counts. */
		b[24] = 4;
		CHECK_EQ(parse_exact(b, 25, &h), XTCP_PARSE_BAD_OPTION);

		memset(opts, XTCP_OPT_NOP, sizeof(opts));
		opts[0] = 0x02;
		opts[1] = 0x04;
		opts[2] = 0x05;
		opts[3] = 0xb4;
		opts[7] = kinds[i];
		mkhdr(b, XTCP_FLAG_SYN, opts, 8);
		CHECK_EQ(parse_exact(b, 28, &h), XTCP_PARSE_BAD_OPTION);
	}
}

TEST(wire_eol_stops_parsing)
{
	/* MSS, EOL, then bytes that would be malformed if read as options. */
	static const uint8_t o1[8] = { 0x02, 0x04, 0x05, 0xb4,
				       0x00, 0x08, 0x00, 0x03 };
	/* EOL first: nothing after it counts, not even a good MSS. */
	static const uint8_t o2[8] = { 0x00, 0x02, 0x04, 0x05,
				       0xb4, 0x01, 0x01, 0x01 };
	/* NOPs then EOL then a lone kind at the very end. */
	static const uint8_t o3[4] = { 0x01, 0x01, 0x00, 0x02 };
	uint8_t b[28];
	struct xtcp_seg_hdr h;

	mkhdr(b, XTCP_FLAG_SYN, o1, 8);
	CHECK_EQ(parse_exact(b, 28, &h), XTCP_PARSE_OK);
	CHECK_TRUE(h.opts.has_mss);
	CHECK_EQ(h.opts.mss, 1460);
	CHECK_FALSE(h.opts.has_timestamp);
	CHECK_EQ(h.hdr_len, 28);

	mkhdr(b, XTCP_FLAG_SYN, o2, 8);
	CHECK_EQ(parse_exact(b, 28, &h), XTCP_PARSE_OK);
	CHECK_FALSE(h.opts.has_mss);

	mkhdr(b, XTCP_FLAG_SYN, o3, 4);
	CHECK_EQ(parse_exact(b, 24, &h), XTCP_PARSE_OK);
}

TEST(wire_wscale_clamped_to_14)
{
	static const struct { uint8_t in, want; } v[] = {
		{ 0, 0 }, { 1, 1 }, { 13, 13 }, { 14, 14 },
		{ 15, 14 }, { 16, 14 }, { 0x7f, 14 }, { 0xff, 14 },
	};
	uint8_t opts[4] = { 0x01, 0x03, 0x03, 0x00 }, b[24];
	struct xtcp_seg_hdr h;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		opts[3] = v[i].in;
		mkhdr(b, XTCP_FLAG_SYN, opts, 4);
		CHECK_EQ(parse_exact(b, 24, &h), XTCP_PARSE_OK);
		CHECK_TRUE(h.opts.has_wscale);
		CHECK_EQ(h.opts.wscale, v[i].want);
	}
}

TEST(wire_syn_only_options_ignored_without_syn)
{
	/* MSS, wscale, SACK-perm and a timestamp on a plain ACK. */
	static const uint8_t opts[24] = {
		0x02, 0x04, 0x05, 0xb4,
		0x01, 0x03, 0x03, 0x07,
		0x01, 0x01, 0x04, 0x02,
		0x01, 0x01, 0x08, 0x0a,
		0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x06,
	};
	static const uint8_t flagsets[] = {
		XTCP_FLAG_ACK, 0, XTCP_FLAG_ACK | XTCP_FLAG_FIN,
		XTCP_FLAG_RST, 0xff & ~XTCP_FLAG_SYN,
	};
	uint8_t b[44];
	struct xtcp_seg_hdr h;
	size_t i;

	for (i = 0; i < sizeof(flagsets); i++) {
		mkhdr(b, flagsets[i], opts, sizeof(opts));
		CHECK_EQ(parse_exact(b, sizeof(b), &h), XTCP_PARSE_OK);
		CHECK_FALSE(h.opts.has_mss);
		CHECK_EQ(h.opts.mss, 0);
		CHECK_FALSE(h.opts.has_wscale);
		CHECK_FALSE(h.opts.sack_permitted);
		/* Timestamps belong on every segment (RFC 7323). */
		CHECK_TRUE(h.opts.has_timestamp);
		CHECK_EQ(h.opts.tsval, 5);
		CHECK_EQ(h.opts.tsecr, 6);
	}
	/* The same options with SYN set are all taken. */
	mkhdr(b, XTCP_FLAG_SYN | XTCP_FLAG_ACK, opts, sizeof(opts));
	CHECK_EQ(parse_exact(b, sizeof(b), &h), XTCP_PARSE_OK);
	CHECK_TRUE(h.opts.has_mss);
	CHECK_TRUE(h.opts.has_wscale);
	CHECK_TRUE(h.opts.sack_permitted);
	CHECK_TRUE(h.opts.has_timestamp);
}

TEST(wire_wrong_length_known_options_ignored)
{
	/* MSS with length 3 (one value byte), padded with NOP. */
	static const uint8_t mss3[4] = { 0x02, 0x03, 0x05, 0x01 };
	/* MSS with length 6. */
	static const uint8_t mss6[8] = { 0x02, 0x06, 0x05, 0xb4, 0x00, 0x00,
					 0x01, 0x01 };
	/* MSS with length 2 (no value at all). */
	static const uint8_t mss2[4] = { 0x02, 0x02, 0x01, 0x01 };
	/* Window scale with length 4, SACK-perm with length 3. */
	static const uint8_t ws4[8] = { 0x03, 0x04, 0x07, 0x00,
					0x04, 0x03, 0x00, 0x01 };
	/* Timestamp with length 8 and 12. */
	static const uint8_t ts8[8] = { 0x08, 0x08, 1, 2, 3, 4, 5, 6 };
	static const uint8_t ts12[12] = { 0x08, 0x0c, 0, 0, 0, 1, 0, 0, 0, 2,
					  0, 0 };
	uint8_t b[32];
	struct xtcp_seg_hdr h;

	mkhdr(b, XTCP_FLAG_SYN, mss3, 4);
	CHECK_EQ(parse_exact(b, 24, &h), XTCP_PARSE_OK);
	CHECK_FALSE(h.opts.has_mss);

	mkhdr(b, XTCP_FLAG_SYN, mss6, 8);
	CHECK_EQ(parse_exact(b, 28, &h), XTCP_PARSE_OK);
	CHECK_FALSE(h.opts.has_mss);

	mkhdr(b, XTCP_FLAG_SYN, mss2, 4);
	CHECK_EQ(parse_exact(b, 24, &h), XTCP_PARSE_OK);
	CHECK_FALSE(h.opts.has_mss);

	mkhdr(b, XTCP_FLAG_SYN, ws4, 8);
	CHECK_EQ(parse_exact(b, 28, &h), XTCP_PARSE_OK);
	CHECK_FALSE(h.opts.has_wscale);
	CHECK_FALSE(h.opts.sack_permitted);

	mkhdr(b, XTCP_FLAG_SYN | XTCP_FLAG_ACK, ts8, 8);
	CHECK_EQ(parse_exact(b, 28, &h), XTCP_PARSE_OK);
	CHECK_FALSE(h.opts.has_timestamp);

	mkhdr(b, XTCP_FLAG_ACK, ts12, 12);
	CHECK_EQ(parse_exact(b, 32, &h), XTCP_PARSE_OK);
	CHECK_FALSE(h.opts.has_timestamp);
}

/* ---- building ------------------------------------------------------- */

TEST(wire_opts_len)
{
	struct xtcp_opts o;

	memset(&o, 0, sizeof(o));
	CHECK_EQ(xtcp_opts_len(&o), 0);
	o.has_mss = true;
	CHECK_EQ(xtcp_opts_len(&o), 4);
	memset(&o, 0, sizeof(o));
	o.has_wscale = true;
	CHECK_EQ(xtcp_opts_len(&o), 4);
	memset(&o, 0, sizeof(o));
	o.sack_permitted = true;
	CHECK_EQ(xtcp_opts_len(&o), 4);
	memset(&o, 0, sizeof(o));
	o.has_timestamp = true;
	CHECK_EQ(xtcp_opts_len(&o), 12);
	/* SACK-permitted takes the timestamps' two NOPs, as native's. */
	o.sack_permitted = true;
	CHECK_EQ(xtcp_opts_len(&o), 12);
	o.has_mss = o.has_wscale = true;
	CHECK_EQ(xtcp_opts_len(&o), 24 - 4);
	CHECK(xtcp_opts_len(&o) <= XTCP_MAX_OPT_LEN);
}

TEST(wire_build_exact_bytes_full_syn)
{
	/* Native TCP's SYN-ACK layout, byte for byte. */
	static const uint8_t want[40] = {
		0xfe, 0xdc, 0x01, 0x02,
		0xff, 0xff, 0xff, 0xfe,
		0x80, 0x00, 0x00, 0x01,
		0xa0, 0x12, 0xab, 0xcd,		/* doff 10, SYN|ACK */
		0x00, 0x00, 0x00, 0x00,		/* check left zero, urg 0 */
		0x02, 0x04, 0x05, 0xb4,		/* MSS 1460 */
		0x04, 0x02, 0x08, 0x0a,		/* SACK-permitted, TS */
		0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04,
		0x01, 0x03, 0x03, 0x0e,		/* NOP, window scale 14 */
	};
	struct xtcp_hdr_fields f;
	uint8_t *buf = th_alloc(XTCP_MAX_HDR_LEN);
	unsigned int n, i;

	memset(&f, 0, sizeof(f));
	f.sport = 0xfedc;
	f.dport = 0x0102;
	f.seq = 0xfffffffeu;
	f.ack = 0x80000001u;
	f.window = 0xabcd;
	f.flags = XTCP_FLAG_SYN | XTCP_FLAG_ACK;
	f.opts.has_mss = true;
	f.opts.mss = 1460;
	f.opts.has_wscale = true;
	f.opts.wscale = 14;
	f.opts.sack_permitted = true;
	f.opts.has_timestamp = true;
	f.opts.tsval = 0xdeadbeefu;
	f.opts.tsecr = 0x01020304u;

	memset(buf, 0xaa, XTCP_MAX_HDR_LEN);
	n = xtcp_build_hdr(buf, &f);
	CHECK_EQ(n, 40);
	CHECK_MEM(buf, want, 40);
	for (i = 40; i < XTCP_MAX_HDR_LEN; i++)
		CHECK_EQ(buf[i], 0xaa);
	th_free(buf);
}

TEST(wire_build_bare_header)
{
	static const uint8_t want[20] = {
		0x00, 0x16, 0xc3, 0x50,
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,
		0x50, 0x04, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,
	};
	struct xtcp_hdr_fields f;
	uint8_t *buf = th_alloc(XTCP_MAX_HDR_LEN);

	memset(&f, 0, sizeof(f));
	f.sport = 22;
	f.dport = 50000;
	f.flags = XTCP_FLAG_RST;
	memset(buf, 0x55, XTCP_MAX_HDR_LEN);
	CHECK_EQ(xtcp_build_hdr(buf, &f), 20);
	CHECK_MEM(buf, want, 20);
	CHECK_EQ(buf[20], 0x55);
	th_free(buf);
}

static void roundtrip(unsigned int mask, uint8_t flags, uint16_t mss,
		      uint8_t wscale, uint32_t tsval, uint32_t tsecr,
		      size_t payload)
{
	struct xtcp_hdr_fields f;
	struct xtcp_seg_hdr h;
	uint8_t *buf = th_alloc(XTCP_MAX_HDR_LEN + payload);
	unsigned int want_len, n, i;
	bool syn = flags & XTCP_FLAG_SYN;

	memset(&f, 0, sizeof(f));
	f.sport = 0x8001;
	f.dport = 443;
	f.seq = 0xfffffff0u + mask;
	f.ack = 0x7fffffffu ^ mask;
	f.window = (uint16_t)(0x1000 * mask + 1);
	f.flags = flags;
	f.opts.has_mss = mask & 1;
	f.opts.mss = mss;
	f.opts.has_wscale = mask & 2;
	f.opts.wscale = wscale;
	f.opts.sack_permitted = mask & 4;
	f.opts.has_timestamp = mask & 8;
	f.opts.tsval = tsval;
	f.opts.tsecr = tsecr;

	/* SACK-permitted beside timestamps costs nothing (their NOPs). */
	want_len = 20 + (mask & 1 ? 4 : 0) + (mask & 2 ? 4 : 0) +
		   (mask & 8 ? 12 : mask & 4 ? 4 : 0);

	memset(buf, 0xa5, XTCP_MAX_HDR_LEN + payload);
	n = xtcp_build_hdr(buf, &f);
	CHECK_EQ(n, want_len);
	CHECK_EQ(xtcp_opts_len(&f.opts), want_len - 20);
	CHECK_EQ(n % 4, 0);
	CHECK_EQ(buf[12] >> 4, want_len / 4);
	CHECK_EQ(buf[12] & 0x0f, 0);
	CHECK_EQ(buf[16], 0);
	CHECK_EQ(buf[17], 0);
	CHECK_EQ(buf[18], 0);
	CHECK_EQ(buf[19], 0);
	for (i = n; i < XTCP_MAX_HDR_LEN; i++)
		CHECK_EQ(buf[i], 0xa5);

	/* Parse just the header, then the header with a payload behind. */
	for (i = 0; i < 2; i++) {
		size_t len = n + (i ? payload : 0);

		memset(&h, 0x5a, sizeof(h));
		CHECK_EQ(parse_exact(buf, len, &h), XTCP_PARSE_OK);
		CHECK_EQ(h.sport, f.sport);
		CHECK_EQ(h.dport, f.dport);
		CHECK_EQ(h.seq, f.seq);
		CHECK_EQ(h.ack, f.ack);
		CHECK_EQ(h.window, f.window);
		CHECK_EQ(h.flags, f.flags);
		CHECK_EQ(h.hdr_len, n);
		CHECK_EQ(h.opts.has_mss, syn && (mask & 1));
		if (syn && (mask & 1))
			CHECK_EQ(h.opts.mss, mss);
		CHECK_EQ(h.opts.has_wscale, syn && (mask & 2));
		if (syn && (mask & 2))
			CHECK_EQ(h.opts.wscale, wscale > 14 ? 14 : wscale);
		CHECK_EQ(h.opts.sack_permitted, syn && (mask & 4));
		CHECK_EQ(h.opts.has_timestamp, !!(mask & 8));
		if (mask & 8) {
			CHECK_EQ(h.opts.tsval, tsval);
			CHECK_EQ(h.opts.tsecr, tsecr);
		}
	}
	th_free(buf);
}

TEST(wire_build_parse_roundtrip_syn)
{
	unsigned int mask;

	for (mask = 0; mask < 16; mask++) {
		roundtrip(mask, XTCP_FLAG_SYN, 1460, 7, 1, 0, 0);
		roundtrip(mask, XTCP_FLAG_SYN | XTCP_FLAG_ACK, 65535, 14,
			  0xffffffffu, 0x80000000u, 100);
		roundtrip(mask, XTCP_FLAG_SYN | XTCP_FLAG_ECE | XTCP_FLAG_CWR,
			  0, 0, 0, 0xffffffffu, 1);
		/* Shift 15 goes on the wire as is and is read back as 14. */
		roundtrip(mask, XTCP_FLAG_SYN, 536, 15, 12345, 67890, 3);
	}
}

TEST(wire_build_parse_roundtrip_non_syn)
{
	unsigned int mask;

	for (mask = 0; mask < 16; mask++) {
		roundtrip(mask, XTCP_FLAG_ACK, 1460, 7, 0x01020304u,
			  0x05060708u, 0);
		roundtrip(mask, XTCP_FLAG_ACK | XTCP_FLAG_PSH, 1460, 7, 0, 0,
			  1460);
		roundtrip(mask, XTCP_FLAG_FIN | XTCP_FLAG_ACK, 1, 1, 2, 3, 1);
	}
}

static bool same_sacks(const struct xtcp_opts *a, const struct xtcp_opts *b)
{
	unsigned int i;

	if (a->num_sacks != b->num_sacks)
		return false;
	for (i = 0; i < a->num_sacks; i++)
		if (a->sacks[i].start != b->sacks[i].start ||
		    a->sacks[i].end != b->sacks[i].end)
			return false;
	return true;
}

TEST(wire_sack_blocks_roundtrip_and_limits)
{
	struct xtcp_hdr_fields f = {
		.sport = 1, .dport = 2, .seq = 3, .ack = 4,
		.flags = XTCP_FLAG_ACK, .window = 5,
	};
	struct xtcp_seg_hdr h;
	uint8_t buf[XTCP_MAX_HDR_LEN];
	unsigned int n, i;

	for (i = 0; i < XTCP_MAX_SACK_BLOCKS; i++) {
		f.opts.sacks[i].start = 0x10000000u * (i + 1);
		f.opts.sacks[i].end = 0x10000000u * (i + 1) + 1448;
	}
	for (i = 1; i <= XTCP_MAX_SACK_BLOCKS; i++) {
		f.opts.num_sacks = (uint8_t)i;
		CHECK_EQ(xtcp_opts_len(&f.opts), 4 + 8 * i);
		n = xtcp_build_hdr(buf, &f);
		CHECK_EQ(n, 24 + 8 * i);
		CHECK_EQ(buf[22], XTCP_OPT_SACK);
		CHECK_EQ(buf[23], 2 + 8 * i);
		CHECK_EQ(parse_exact(buf, n, &h), XTCP_PARSE_OK);
		CHECK(same_sacks(&h.opts, &f.opts));
	}
	/* Beside a timestamp only three blocks fit the 40 bytes. */
	f.opts.has_timestamp = true;
	f.opts.num_sacks = 4;
	CHECK_EQ(xtcp_opts_len(&f.opts), 12 + 4 + 24);
	n = xtcp_build_hdr(buf, &f);
	CHECK_EQ(n, 60);
	CHECK_EQ(parse_exact(buf, n, &h), XTCP_PARSE_OK);
	CHECK_EQ(h.opts.num_sacks, 3);
	/* On a SYN a SACK option is ignored. */
	buf[13] = XTCP_FLAG_SYN;
	CHECK_EQ(parse_exact(buf, n, &h), XTCP_PARSE_OK);
	CHECK_EQ(h.opts.num_sacks, 0);
}

TEST(wire_sack_bad_lengths_ignored)
{
	/* Lengths 2, 9, 11 and 42 (five blocks) are not SACK options. */
	static const uint8_t lens[] = { 2, 9, 11, 18 + 24 };
	uint8_t opts[40], buf[60];
	struct xtcp_seg_hdr h;
	unsigned int i;
	size_t n;

	for (i = 0; i < sizeof(lens); i++) {
		memset(opts, 0, sizeof(opts));
		opts[0] = XTCP_OPT_SACK;
		opts[1] = lens[i];
		if (lens[i] > 40)
			continue;
		n = mkhdr(buf, XTCP_FLAG_ACK, opts, 40);
		CHECK_EQ(parse_exact(buf, n, &h), XTCP_PARSE_OK);
		CHECK_EQ(h.opts.num_sacks, 0);
	}
}

/* ---- hostile input: differential fuzzing ---------------------------- */

/*
 * An independent reading of RFC 9293 section 3.1/3.2 and the wire.h
 * contract, to compare xtcp_parse_hdr against on arbitrary bytes.
 */
static enum xtcp_parse_result ref_parse(const uint8_t *b, size_t len,
					struct xtcp_seg_hdr *o)
{
	size_t hl, pos;
	bool syn;

	if (len < 20)
		return XTCP_PARSE_SHORT;
	hl = (size_t)(b[12] >> 4) * 4;
	if (hl < 20)
		return XTCP_PARSE_BAD_DOFF;
	if (hl > len)
		return XTCP_PARSE_SHORT;
	memset(o, 0, sizeof(*o));
	o->sport = (uint16_t)(b[0] * 256 + b[1]);
	o->dport = (uint16_t)(b[2] * 256 + b[3]);
	o->seq = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 |
		 (uint32_t)b[6] << 8 | b[7];
	o->ack = (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 |
		 (uint32_t)b[10] << 8 | b[11];
	o->flags = b[13];
	o->window = (uint16_t)(b[14] * 256 + b[15]);
	o->hdr_len = (uint8_t)hl;
	syn = b[13] & 0x02;

	pos = 20;
	while (pos < hl) {
		uint8_t kind = b[pos], olen;
		const uint8_t *v;

		if (kind == 0)
			break;
		if (kind == 1) {
			pos += 1;
			continue;
		}
		if (hl - pos < 2)
			return XTCP_PARSE_BAD_OPTION;
		olen = b[pos + 1];
		if (olen < 2 || olen > hl - pos)
			return XTCP_PARSE_BAD_OPTION;
		v = b + pos + 2;
		if (kind == 2 && olen == 4 && syn) {
			o->opts.has_mss = true;
			o->opts.mss = (uint16_t)(v[0] * 256 + v[1]);
		} else if (kind == 3 && olen == 3 && syn) {
			o->opts.has_wscale = true;
			o->opts.wscale = v[0] < 14 ? v[0] : 14;
		} else if (kind == 4 && olen == 2 && syn) {
			o->opts.sack_permitted = true;
		} else if (kind == 5 && !syn && olen >= 10 && olen <= 34 &&
			   (olen - 2) % 8 == 0) {
			unsigned int i;

			o->opts.num_sacks = (uint8_t)((olen - 2) / 8);
			for (i = 0; i < o->opts.num_sacks; i++) {
				const uint8_t *q = v + 8 * i;

				o->opts.sacks[i].start = (uint32_t)q[0] << 24 |
					(uint32_t)q[1] << 16 |
					(uint32_t)q[2] << 8 | q[3];
				o->opts.sacks[i].end = (uint32_t)q[4] << 24 |
					(uint32_t)q[5] << 16 |
					(uint32_t)q[6] << 8 | q[7];
			}
		} else if (kind == 8 && olen == 10) {
			o->opts.has_timestamp = true;
			o->opts.tsval = (uint32_t)v[0] << 24 |
					(uint32_t)v[1] << 16 |
					(uint32_t)v[2] << 8 | v[3];
			o->opts.tsecr = (uint32_t)v[4] << 24 |
					(uint32_t)v[5] << 16 |
					(uint32_t)v[6] << 8 | v[7];
		}
		pos += olen;
	}
	return XTCP_PARSE_OK;
}

static bool same_hdr(const struct xtcp_seg_hdr *a,
		     const struct xtcp_seg_hdr *b)
{
	return same_sacks(&a->opts, &b->opts) && a->sport == b->sport && a->dport == b->dport &&
	       a->seq == b->seq && a->ack == b->ack &&
	       a->window == b->window && a->flags == b->flags &&
	       a->hdr_len == b->hdr_len &&
	       a->opts.has_mss == b->opts.has_mss &&
	       (!a->opts.has_mss || a->opts.mss == b->opts.mss) &&
	       a->opts.has_wscale == b->opts.has_wscale &&
	       (!a->opts.has_wscale || a->opts.wscale == b->opts.wscale) &&
	       a->opts.sack_permitted == b->opts.sack_permitted &&
	       a->opts.has_timestamp == b->opts.has_timestamp &&
	       (!a->opts.has_timestamp ||
		(a->opts.tsval == b->opts.tsval &&
		 a->opts.tsecr == b->opts.tsecr));
}

/* Returns false (and reports) on the first disagreement. */
static bool check_against_ref(const uint8_t *bytes, size_t len)
{
	struct xtcp_seg_hdr got, want;
	enum xtcp_parse_result rg, rw;
	uint8_t *p = th_alloc(len);

	if (len)
		memcpy(p, bytes, len);
	rg = xtcp_parse_hdr(len ? p : NULL, len, &got);
	th_free(p);
	rw = ref_parse(bytes, len, &want);
	if (rg != rw || (rg == XTCP_PARSE_OK && !same_hdr(&got, &want))) {
		CHECK_EQ(rg, rw);
		CHECK(rg != XTCP_PARSE_OK || same_hdr(&got, &want));
		th_dump("input", bytes, len);
		return false;
	}
	if (rg == XTCP_PARSE_OK) {
		CHECK(got.hdr_len >= 20 && got.hdr_len <= len &&
		      got.hdr_len <= 60 && got.hdr_len % 4 == 0);
		CHECK(got.opts.wscale <= XTCP_MAX_WSCALE);
		CHECK(!got.opts.has_mss || (got.flags & XTCP_FLAG_SYN));
	}
	return true;
}

/* Option bytes likely to hit the interesting paths. */
static uint8_t interesting_byte(void)
{
	static const uint8_t v[] = { 0, 1, 2, 3, 4, 5, 8, 10, 0x1e, 0xff,
				     0x0a, 0x02, 0x03, 0x04, 0x09, 0x0b };

	if (th_rand() % 4 == 0)
		return (uint8_t)th_rand();
	return v[th_rand() % sizeof(v)];
}

TEST(wire_fuzz_random_bytes)
{
	/* Pure noise of every length from 0 to 80 bytes. */
	uint8_t b[80];
	unsigned int iter;

	for (iter = 0; iter < 100000; iter++) {
		size_t len = th_rand() % (sizeof(b) + 1), i;

		for (i = 0; i < len; i++)
			b[i] = (uint8_t)th_rand();
		if (!check_against_ref(b, len))
			return;
	}
}

TEST(wire_fuzz_structured_options)
{
	/* Valid doff, option area full of kinds and lengths that matter. */
	uint8_t b[80];
	unsigned int iter;

	for (iter = 0; iter < 200000; iter++) {
		size_t len = 20 + th_rand() % 61, i, doff_max;
		unsigned int doff;

		for (i = 0; i < len; i++)
			b[i] = (i >= 20) ? interesting_byte() :
					   (uint8_t)th_rand();
		doff_max = len / 4 > 15 ? 15 : len / 4;
		doff = 5 + th_rand() % (unsigned int)(doff_max - 4);
		/* Now and then one word too many, to hit SHORT. */
		if (th_rand() % 16 == 0 && doff < 15)
			doff++;
		b[12] = (uint8_t)((doff << 4) | (b[12] & 0x0f));
		if (th_rand() % 2)
			b[13] |= XTCP_FLAG_SYN;
		if (!check_against_ref(b, len))
			return;
	}
}

TEST(wire_exhaustive_one_option_word)
{
	/* Every 4-byte option area over a small alphabet, SYN and not. */
	static const uint8_t alpha[] = { 0, 1, 2, 3, 4, 5, 8, 10, 0x1e, 0xff };
	const size_t n = sizeof(alpha);
	uint8_t b[24];
	size_t a0, a1, a2, a3;
	int syn;

	for (syn = 0; syn < 2; syn++)
	for (a0 = 0; a0 < n; a0++)
	for (a1 = 0; a1 < n; a1++)
	for (a2 = 0; a2 < n; a2++)
	for (a3 = 0; a3 < n; a3++) {
		uint8_t o[4] = { alpha[a0], alpha[a1], alpha[a2], alpha[a3] };

		mkhdr(b, syn ? XTCP_FLAG_SYN : XTCP_FLAG_ACK, o, 4);
		if (!check_against_ref(b, sizeof(b)))
			return;
	}
}

TH_SUITE_BEGIN(wire)
TH_CASE(wire_parse_syn_all_options)
TH_CASE(wire_parse_linux_synack_layout)
TH_CASE(wire_parse_bare_header_with_payload)
TH_CASE(wire_parse_all_flags_and_max_fields)
TH_CASE(wire_parse_60_byte_header_of_nops)
TH_CASE(wire_parse_unknown_option_skipped)
TH_CASE(wire_short_below_20)
TH_CASE(wire_bad_doff_below_5)
TH_CASE(wire_short_doff_past_len)
TH_CASE(wire_bad_option_len_0_or_1)
TH_CASE(wire_bad_option_past_header_end)
TH_CASE(wire_bad_option_lone_kind_at_end)
TH_CASE(wire_eol_stops_parsing)
TH_CASE(wire_wscale_clamped_to_14)
TH_CASE(wire_syn_only_options_ignored_without_syn)
TH_CASE(wire_wrong_length_known_options_ignored)
TH_CASE(wire_opts_len)
TH_CASE(wire_build_exact_bytes_full_syn)
TH_CASE(wire_build_bare_header)
TH_CASE(wire_build_parse_roundtrip_syn)
TH_CASE(wire_build_parse_roundtrip_non_syn)
TH_CASE(wire_sack_blocks_roundtrip_and_limits)
TH_CASE(wire_sack_bad_lengths_ignored)
TH_CASE(wire_fuzz_random_bytes)
TH_CASE(wire_fuzz_structured_options)
TH_CASE(wire_exhaustive_one_option_word)
TH_SUITE_END(wire);
