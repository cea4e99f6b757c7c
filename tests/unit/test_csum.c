// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for module/lib/csum.c: the Internet checksum (RFC 1071)
 * and the TCP/IPv4 pseudo-header.
 *
 * xtcp's partial sums are in host order (like the kernel's __wsum); the
 * folded value is meant to be stored into the field as is. So expected
 * checksums here are given as the two bytes that land in the header, which
 * holds on either byte order, and a reference written the textbook way
 * (big-endian 16-bit words) is used to cross-check.
 */
#include "harness.h"
#include "csum.h"

/* Textbook RFC 1071: big-endian words, odd byte padded, fold, complement. */
static uint16_t ref_csum(const uint8_t *const *parts, const size_t *lens,
			 size_t nparts)
{
	uint64_t sum = 0;
	size_t i, j, k = 0;
	uint8_t hi = 0;

	/* Concatenate all parts as one byte stream. */
	for (i = 0; i < nparts; i++) {
		for (j = 0; j < lens[i]; j++, k++) {
			if (k % 2 == 0)
				hi = parts[i][j];
			else
				sum += (uint32_t)hi << 8 | parts[i][j];
		}
	}
	if (k % 2)
		sum += (uint32_t)hi << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t ref_csum1(const uint8_t *buf, size_t len)
{
	return ref_csum(&buf, &len, 1);
}

/* The field bytes xtcp's folded value would put on the wire, as a number. */
static uint16_t wire16(__sum16 v)
{
	uint8_t b[2];

	memcpy(b, &v, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* A TCP segment with its checksum, computed by hand with an independent tool
 * (a Python one-liner over the same bytes) and cross-checked by ref_csum:
 * 192.0.2.1:49152 -> 198.51.100.2:80, PSH|ACK, NOP NOP TS, "GET /\r\n".
 * 39 bytes, so odd-length handling is in play too.
 */
static const uint8_t seg_saddr[4] = { 192, 0, 2, 1 };
static const uint8_t seg_daddr[4] = { 198, 51, 100, 2 };
static const uint8_t seg[39] = {
	0xc0, 0x00, 0x00, 0x50, 0x12, 0x34, 0x56, 0x78,
	0x9a, 0xbc, 0xde, 0xf0, 0x80, 0x18, 0x01, 0xf6,
	0x9e, 0xdb, 0x00, 0x00,				/* check 0x9edb */
	0x01, 0x01, 0x08, 0x0a, 0x00, 0x0f, 0x42, 0x40,
	0x00, 0x00, 0x30, 0x39,
	0x47, 0x45, 0x54, 0x20, 0x2f, 0x0d, 0x0a,	/* "GET /\r\n" */
};
#define SEG_CHECK 0x9edbu

static __be32 be32_of(const uint8_t a[4])
{
	__be32 v;

	memcpy(&v, a, 4);
	return v;
}

/* Full sum of pseudo-header plus @len bytes at @p, the way the module does. */
static u32 seg_sum(const uint8_t *saddr, const uint8_t *daddr,
		   const uint8_t *p, size_t len)
{
	return xtcp_csum_add(xtcp_csum_pseudo(be32_of(saddr), be32_of(daddr),
					      6, (u16)len),
			     xtcp_csum_partial(p, len, 0));
}

TEST(csum_rfc1071_example)
{
	/*
	 * RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to 2ddf0, folds
	 * to ddf2; the checksum is its complement, 220d.
	 */
	static const uint8_t b[8] = { 0x00, 0x01, 0xf2, 0x03,
				      0xf4, 0xf5, 0xf6, 0xf7 };
	u32 s = xtcp_csum_partial(b, sizeof(b), 0);

	CHECK_EQ(wire16(xtcp_csum_fold(s)), 0x220d);
	CHECK_EQ(ref_csum1(b, sizeof(b)), 0x220d);
	/* The folded (uncomplemented) sum, in wire order, is ddf2. */
	CHECK_EQ(wire16((__sum16)~xtcp_csum_fold(s)), 0xddf2);
	/* Putting the checksum after the data makes the whole sum ok. */
	{
		uint8_t b2[10];
		__sum16 c = xtcp_csum_fold(s);

		memcpy(b2, b, 8);
		memcpy(b2 + 8, &c, 2);
		CHECK_TRUE(xtcp_csum_ok(xtcp_csum_partial(b2, 10, 0)));
	}
}

TEST(csum_rfc1071_byte_order_independence)
{
	/*
	 * RFC 1071 section 2(B): swapping the bytes of every word swaps the
	 * bytes of the sum. Check by loading the example swapped.
	 */
	static const uint8_t sw[8] = { 0x01, 0x00, 0x03, 0xf2,
				       0xf5, 0xf4, 0xf7, 0xf6 };

	CHECK_EQ(wire16(xtcp_csum_fold(xtcp_csum_partial(sw, 8, 0))), 0x0d22);
}

TEST(csum_odd_lengths)
{
	/* One byte: ab -> word ab00 -> ~ = 54ff. */
	static const uint8_t one[1] = { 0xab };
	/* 01 02 03 -> 0102 + 0300 = 0402 -> fbfd. */
	static const uint8_t three[3] = { 0x01, 0x02, 0x03 };
	/* ff ff ff -> ffff + ff00 = 1feff -> feff + 1 = ff00 -> 00ff. */
	static const uint8_t ffs[3] = { 0xff, 0xff, 0xff };
	uint8_t *p;

	/* Heap copies of exact length: the tail byte read must stay inside. */
	p = th_alloc(1);
	memcpy(p, one, 1);
	CHECK_EQ(wire16(xtcp_csum_fold(xtcp_csum_partial(p, 1, 0))), 0x54ff);
	th_free(p);

	p = th_alloc(3);
	memcpy(p, three, 3);
	CHECK_EQ(wire16(xtcp_csum_fold(xtcp_csum_partial(p, 3, 0))), 0xfbfd);
	memcpy(p, ffs, 3);
	CHECK_EQ(wire16(xtcp_csum_fold(xtcp_csum_partial(p, 3, 0))), 0x00ff);
	th_free(p);

	CHECK_EQ(ref_csum1(one, 1), 0x54ff);
	CHECK_EQ(ref_csum1(three, 3), 0xfbfd);
	CHECK_EQ(ref_csum1(ffs, 3), 0x00ff);
}

TEST(csum_empty_and_zero)
{
	/* Nothing summed: partial is the seed, fold(0) = ~0 = ffff. */
	CHECK_EQ(xtcp_csum_partial(NULL, 0, 0), 0);
	CHECK_EQ(xtcp_csum_partial(NULL, 0, 0x12345678u), 0x12345678u);
	CHECK_EQ(xtcp_csum_fold(0), 0xffff);
	/* All-zero data is not "ok": its sum is +0, not -0 (ffff). */
	{
		static const uint8_t z[20];

		CHECK_FALSE(xtcp_csum_ok(xtcp_csum_partial(z, 20, 0)));
		CHECK_EQ(xtcp_csum_fold(xtcp_csum_partial(z, 20, 0)), 0xffff);
	}
}

TEST(csum_fold_values)
{
	/* Byte-order-neutral values, so these hold on any host. */
	CHECK_EQ(xtcp_csum_fold(0xffff), 0);
	CHECK_EQ(xtcp_csum_fold(0xffffffffu), 0);	/* ffff+ffff=1fffe->ffff */
	CHECK_EQ(xtcp_csum_fold(0x0001fffeu), 0);	/* fffe+1 */
	CHECK_EQ(xtcp_csum_fold(0x0001ffffu), 0xfffe);	/* ffff+1=10000->1 */
	CHECK_EQ(xtcp_csum_fold(0x00010000u), 0xfffe);	/* 0+1 */
	CHECK_EQ(xtcp_csum_fold(0x12345678u), (u16)~(0x1234 + 0x5678));
	CHECK_EQ(xtcp_csum_fold(0xfffe0001u), 0);	/* 1+fffe=ffff */
	CHECK_EQ(xtcp_csum_fold(0x80008000u), 0xfffe);	/* 10000->1 */
	CHECK_TRUE(xtcp_csum_ok(0xffff));
	CHECK_TRUE(xtcp_csum_ok(0xffffffffu));
	CHECK_FALSE(xtcp_csum_ok(0));
	CHECK_FALSE(xtcp_csum_ok(0xfffe));
}

TEST(csum_add_end_around_carry)
{
	CHECK_EQ(xtcp_csum_add(0, 0), 0);
	CHECK_EQ(xtcp_csum_add(1, 2), 3);
	CHECK_EQ(xtcp_csum_add(0xffffffffu, 1), 1);
	CHECK_EQ(xtcp_csum_add(0x80000000u, 0x80000000u), 1);
	CHECK_EQ(xtcp_csum_add(0xffffffffu, 0xffffffffu), 0xffffffffu);
	CHECK_EQ(xtcp_csum_add(0xfffffffeu, 1), 0xffffffffu);
	CHECK_EQ(xtcp_csum_add(0x12345678u, 0xedcba988u), 1);
}

TEST(csum_split_and_add_matches_whole)
{
	uint8_t b[256];
	size_t i, cut;

	for (i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 37 + 11);
	/* Even cuts: partial over the pieces, chained or added, is the same. */
	for (cut = 0; cut <= sizeof(b); cut += 2) {
		u32 whole = xtcp_csum_partial(b, sizeof(b), 0);
		u32 chained = xtcp_csum_partial(b + cut, sizeof(b) - cut,
						xtcp_csum_partial(b, cut, 0));
		u32 added = xtcp_csum_add(xtcp_csum_partial(b, cut, 0),
					  xtcp_csum_partial(b + cut,
							    sizeof(b) - cut,
							    0));

		CHECK_EQ(xtcp_csum_fold(chained), xtcp_csum_fold(whole));
		CHECK_EQ(xtcp_csum_fold(added), xtcp_csum_fold(whole));
	}
}

TEST(csum_matches_reference_random)
{
	uint8_t *p;
	unsigned int iter;

	for (iter = 0; iter < 3000; iter++) {
		size_t len = th_rand() % 1600, i;

		p = th_alloc(len);
		for (i = 0; i < len; i++)
			p[i] = (uint8_t)th_rand();
		CHECK_EQ(wire16(xtcp_csum_fold(xtcp_csum_partial(p, len, 0))),
			 ref_csum1(p, len));
		th_free(p);
	}
}

TEST(csum_large_buffer_carries)
{
	/* 64 KiB of ff and a seed of ffffffff: the 32-bit carry path. */
	size_t len = 65536 + 1;
	uint8_t *p = th_alloc(len);
	u32 s;

	memset(p, 0xff, len);
	s = xtcp_csum_partial(p, len, 0xffffffffu);
	/* Every word is -0, the odd ff00 tail and the seed: fold ~ ff00. */
	CHECK_EQ(wire16(xtcp_csum_fold(s)), ref_csum1(p, len));
	CHECK_EQ(wire16(xtcp_csum_fold(s)), 0x00ff);
	th_free(p);
}

TEST(csum_partial_carry_out_of_carry)
{
	/*
	 * Seed 0xffff0001 plus 65538 words of ffff is 0x1ffffffff: folding
	 * the top once gives 0x100000000, which needs a second fold to 1.
	 * In 16-bit terms: ffff words are -0, the seed is ffff + 0001 = 1,
	 * so the checksum is ~1 = fffe (byte-order neutral).
	 */
	size_t len = 65538 * 2;
	uint8_t *p = th_alloc(len);
	u32 s;

	memset(p, 0xff, len);
	s = xtcp_csum_partial(p, len, 0xffff0001u);
	CHECK_EQ(xtcp_csum_fold(s), 0xfffe);
	th_free(p);
}

TEST(csum_pseudo_header)
{
	/*
	 * 192.0.2.1 -> 198.51.100.2, proto 6, length 39:
	 * c000+0201+c633+6402+0006+0027 = 1ec63 -> ec64, checksum 139b.
	 */
	static const uint8_t ph[12] = { 192, 0, 2, 1, 198, 51, 100, 2,
					0, 6, 0, 39 };
	u32 s = xtcp_csum_pseudo(be32_of(seg_saddr), be32_of(seg_daddr), 6, 39);

	CHECK_EQ(wire16(xtcp_csum_fold(s)), 0x139b);
	CHECK_EQ(ref_csum1(ph, 12), 0x139b);
	CHECK_EQ(xtcp_csum_fold(s),
		 xtcp_csum_fold(xtcp_csum_partial(ph, 12, 0)));
	/* Lengths above 255 land in both bytes of the length word. */
	{
		static const uint8_t ph2[12] = { 10, 0, 0, 1, 10, 0, 0, 2,
						 0, 6, 0x05, 0xdc };
		static const uint8_t a[4] = { 10, 0, 0, 1 }, d[4] = { 10, 0, 0, 2 };

		CHECK_EQ(wire16(xtcp_csum_fold(xtcp_csum_pseudo(be32_of(a),
								be32_of(d), 6,
								1500))),
			 ref_csum1(ph2, 12));
	}
}

TEST(csum_real_segment_compute)
{
	uint8_t *p = th_alloc(sizeof(seg));
	const uint8_t *parts[2];
	size_t lens[2];
	static const uint8_t ph[12] = { 192, 0, 2, 1, 198, 51, 100, 2,
					0, 6, 0, 39 };
	__sum16 c;

	memcpy(p, seg, sizeof(seg));
	p[16] = p[17] = 0;
	parts[0] = ph;
	lens[0] = sizeof(ph);
	parts[1] = p;
	lens[1] = sizeof(seg);
	CHECK_EQ(ref_csum(parts, lens, 2), SEG_CHECK);

	c = xtcp_csum_fold(seg_sum(seg_saddr, seg_daddr, p, sizeof(seg)));
	CHECK_EQ(wire16(c), SEG_CHECK);
	/* Stored as is, the field holds the right bytes. */
	memcpy(p + 16, &c, 2);
	CHECK_MEM(p, seg, sizeof(seg));
	th_free(p);
}

TEST(csum_real_segment_verifies_ok)
{
	uint8_t *p = th_alloc(sizeof(seg));

	memcpy(p, seg, sizeof(seg));
	CHECK_TRUE(xtcp_csum_ok(seg_sum(seg_saddr, seg_daddr, p, sizeof(seg))));
	/* Pseudo-header sum first, then the segment chained onto it. */
	CHECK_TRUE(xtcp_csum_ok(xtcp_csum_partial(p, sizeof(seg),
		xtcp_csum_pseudo(be32_of(seg_saddr), be32_of(seg_daddr), 6,
				 sizeof(seg)))));
	th_free(p);
}

TEST(csum_real_segment_any_bit_flip_fails)
{
	uint8_t *p = th_alloc(sizeof(seg));
	uint8_t sa[4], da[4];
	size_t i;
	int bit;

	memcpy(p, seg, sizeof(seg));
	for (i = 0; i < sizeof(seg); i++) {
		for (bit = 0; bit < 8; bit++) {
			p[i] ^= (uint8_t)(1u << bit);
			CHECK_FALSE(xtcp_csum_ok(seg_sum(seg_saddr, seg_daddr,
							 p, sizeof(seg))));
			p[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* A flipped bit in either address or a different protocol too. */
	for (i = 0; i < 4; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(sa, seg_saddr, 4);
			memcpy(da, seg_daddr, 4);
			sa[i] ^= (uint8_t)(1u << bit);
			CHECK_FALSE(xtcp_csum_ok(seg_sum(sa, seg_daddr, p,
							 sizeof(seg))));
			da[i] ^= (uint8_t)(1u << bit);
			CHECK_FALSE(xtcp_csum_ok(seg_sum(seg_saddr, da, p,
							 sizeof(seg))));
		}
	}
	CHECK_FALSE(xtcp_csum_ok(xtcp_csum_add(
		xtcp_csum_pseudo(be32_of(seg_saddr), be32_of(seg_daddr), 17,
				 sizeof(seg)),
		xtcp_csum_partial(p, sizeof(seg), 0))));
	/* A wrong length in the pseudo-header as well. */
	CHECK_FALSE(xtcp_csum_ok(xtcp_csum_add(
		xtcp_csum_pseudo(be32_of(seg_saddr), be32_of(seg_daddr), 6,
				 sizeof(seg) + 1),
		xtcp_csum_partial(p, sizeof(seg), 0))));
	/* Truncating the odd last byte is caught. */
	CHECK_FALSE(xtcp_csum_ok(seg_sum(seg_saddr, seg_daddr, p,
					 sizeof(seg) - 1)));
	/* And the untouched segment still passes. */
	CHECK_TRUE(xtcp_csum_ok(seg_sum(seg_saddr, seg_daddr, p, sizeof(seg))));
	th_free(p);
}

TEST(csum_roundtrip_random_segments)
{
	/* Fill in the checksum of random segments, verify, flip, verify. */
	unsigned int iter;

	for (iter = 0; iter < 2000; iter++) {
		size_t len = 20 + th_rand() % 1480;
		uint8_t *p = th_alloc(len), sa[4], da[4];
		size_t i;
		__sum16 c;
		uint32_t r;

		for (i = 0; i < len; i++)
			p[i] = (uint8_t)th_rand();
		r = th_rand();
		memcpy(sa, &r, 4);
		r = th_rand();
		memcpy(da, &r, 4);
		p[16] = p[17] = 0;
		c = xtcp_csum_fold(seg_sum(sa, da, p, len));
		memcpy(p + 16, &c, 2);
		CHECK_TRUE(xtcp_csum_ok(seg_sum(sa, da, p, len)));
		i = th_rand() % len;
		p[i] ^= (uint8_t)(1u << (th_rand() % 8));
		CHECK_FALSE(xtcp_csum_ok(seg_sum(sa, da, p, len)));
		th_free(p);
	}
}

TH_SUITE_BEGIN(csum)
TH_CASE(csum_rfc1071_example)
TH_CASE(csum_rfc1071_byte_order_independence)
TH_CASE(csum_odd_lengths)
TH_CASE(csum_empty_and_zero)
TH_CASE(csum_fold_values)
TH_CASE(csum_add_end_around_carry)
TH_CASE(csum_split_and_add_matches_whole)
TH_CASE(csum_matches_reference_random)
TH_CASE(csum_large_buffer_carries)
TH_CASE(csum_partial_carry_out_of_carry)
TH_CASE(csum_pseudo_header)
TH_CASE(csum_real_segment_compute)
TH_CASE(csum_real_segment_verifies_ok)
TH_CASE(csum_real_segment_any_bit_flip_fails)
TH_CASE(csum_roundtrip_random_segments)
TH_SUITE_END(csum);
