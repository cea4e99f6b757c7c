/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TCP header on the wire (RFC 9293 section 3.1) and its options: parsing
 * untrusted bytes into host-order fields, and building headers to send.
 */
#ifndef _XTCP_LIB_WIRE_H
#define _XTCP_LIB_WIRE_H

#include "types.h"
#include "sack_blocks.h"

struct xtcp_wire_hdr {
	__be16 source;
	__be16 dest;
	__be32 seq;
	__be32 ack_seq;
	u8 doff_rsvd;		/* data offset in 32-bit words, high nibble */
	u8 flags;
	__be16 window;
	__sum16 check;
	__be16 urg_ptr;
};

#define XTCP_HDR_LEN		20
#define XTCP_MAX_HDR_LEN	60
#define XTCP_MAX_OPT_LEN	(XTCP_MAX_HDR_LEN - XTCP_HDR_LEN)

#define XTCP_FLAG_FIN	0x01
#define XTCP_FLAG_SYN	0x02
#define XTCP_FLAG_RST	0x04
#define XTCP_FLAG_PSH	0x08
#define XTCP_FLAG_ACK	0x10
#define XTCP_FLAG_URG	0x20
#define XTCP_FLAG_ECE	0x40
#define XTCP_FLAG_CWR	0x80

#define XTCP_OPT_EOL		0
#define XTCP_OPT_NOP		1
#define XTCP_OPT_MSS		2
#define XTCP_OPT_WSCALE		3
#define XTCP_OPT_SACK_PERM	4
#define XTCP_OPT_SACK		5
#define XTCP_OPT_TIMESTAMP	8

#define XTCP_OPTLEN_MSS		4
#define XTCP_OPTLEN_WSCALE	3
#define XTCP_OPTLEN_SACK_PERM	2
#define XTCP_OPTLEN_TIMESTAMP	10
#define XTCP_OPTLEN_SACK_BASE	2	/* plus 8 per block */
/* The timestamp option as written: two NOPs, then its ten bytes. */
#define XTCP_TS_OPT_LEN		12

/* RFC 7323 section 2.3: shifts above 14 are treated as 14. */
#define XTCP_MAX_WSCALE		14

/* Options seen in (or to be written into) one segment, host order. */
struct xtcp_opts {
	bool has_mss;
	bool has_wscale;
	bool sack_permitted;
	bool has_timestamp;
	u16 mss;
	u8 wscale;
	u32 tsval;
	u32 tsecr;
	/*
	 * SACK blocks (RFC 2018), never on a SYN. Building writes as many as
	 * fit the option space beside the other options, in order.
	 */
	u8 num_sacks;
	struct xtcp_sack_block sacks[XTCP_MAX_SACK_BLOCKS];
};

/* One parsed header, host order. */
struct xtcp_seg_hdr {
	u16 sport;
	u16 dport;
	u32 seq;
	u32 ack;
	u16 window;		/* raw field, not yet scaled */
	u8 flags;
	u8 hdr_len;		/* bytes, options included */
	struct xtcp_opts opts;
};

enum xtcp_parse_result {
	XTCP_PARSE_OK = 0,
	XTCP_PARSE_SHORT,	/* fewer bytes than a header, or than doff says */
	XTCP_PARSE_BAD_DOFF,	/* data offset below 5 words */
	XTCP_PARSE_BAD_OPTION,	/* option length 0/1 or running past the header */
};

enum xtcp_parse_result xtcp_parse_hdr(const void *buf, size_t len,
				      struct xtcp_seg_hdr *out);

/* What xtcp_build_hdr writes; options are written only where set. */
struct xtcp_hdr_fields {
	u16 sport;
	u16 dport;
	u32 seq;
	u32 ack;
	u16 window;		/* already scaled down for the field */
	u8 flags;
	struct xtcp_opts opts;
};

/* Bytes the options of @opts take, padded to a multiple of four. */
unsigned int xtcp_opts_len(const struct xtcp_opts *opts);

/*
 * Write the header with its options into @buf (at least XTCP_MAX_HDR_LEN
 * bytes); the checksum field is left zero. Returns the header length.
 */
unsigned int xtcp_build_hdr(void *buf, const struct xtcp_hdr_fields *f);

#endif /* _XTCP_LIB_WIRE_H */
