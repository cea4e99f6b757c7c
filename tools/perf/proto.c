// SPDX-License-Identifier: GPL-2.0
/*
 * Control messages. Every one starts with the same 12-byte header and has
 * a fixed layout, all integers big-endian:
 *
 *   header   magic "XTPF" u32, version u16, type u16, total length u32
 *   PARAMS   client -> server: test u8, reverse u8 (stream: the server
 *            sends; crr: the server closes first), flags u16 (0),
 *            length u32, streams u32, duration_ms u32, bytes u64
 *   REPLY    server -> client: status u32 (0 accept, 1 refuse),
 *            data_port u32, reason char[96] (NUL padded)
 *   HELD     server -> client, --idle-conns: connections held u32
 *   DONE     client -> server: crr and idle, the client has finished
 *   RESULTS  server -> client: status u32, conns u32, cpu_ns u64,
 *            reason char[96], then per connection bytes_sent u64,
 *            bytes_rcvd u64, transactions u64, elapsed_ns u64
 *
 * A session: PARAMS, REPLY, data connections to data_port (unix: the
 * ".data" name), [HELD], [DONE], RESULTS. A version bump changes layouts.
 */
#include "perf.h"
#include "proto.h"

#include <errno.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put_header(uint8_t *p, uint16_t type, uint32_t len)
{
	put32(p, MSG_MAGIC);
	put16(p + 4, MSG_VERSION);
	put16(p + 6, type);
	put32(p + 8, len);
}

/* Printable ASCII only: a reason comes from the peer and goes to a terminal. */
static void get_reason(const uint8_t *p, char *out)
{
	size_t i;

	for (i = 0; i < REASON_LEN - 1 && p[i]; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[i] = '\0';
}

static void put_reason(uint8_t *p, const char *reason)
{
	size_t len = reason ? strnlen(reason, REASON_LEN - 1) : 0;

	memset(p, 0, REASON_LEN);
	if (len)
		memcpy(p, reason, len);
}

static int send_msg(int fd, const uint8_t *buf, size_t len)
{
	return write_all(fd, buf, len);
}

const char *msg_type_name(unsigned int type)
{
	static const char *const names[] = {
		[MSG_PARAMS] = "PARAMS", [MSG_REPLY] = "REPLY", [MSG_HELD] = "HELD",
		[MSG_DONE] = "DONE", [MSG_RESULTS] = "RESULTS",
	};

	return type < ARRAY_SIZE(names) && names[type] ? names[type] : "unknown";
}

int send_params(int fd, const struct params *p)
{
	uint8_t m[PARAMS_LEN];

	put_header(m, MSG_PARAMS, sizeof(m));
	m[12] = p->test;
	m[13] = p->reverse;
	put16(m + 14, 0);
	put32(m + 16, p->length);
	put32(m + 20, p->streams);
	put32(m + 24, p->duration_ms);
	put64(m + 28, p->bytes);
	return send_msg(fd, m, sizeof(m));
}

int send_reply(int fd, uint32_t status, uint32_t data_port, const char *reason)
{
	uint8_t m[REPLY_LEN];

	put_header(m, MSG_REPLY, sizeof(m));
	put32(m + 12, status);
	put32(m + 16, data_port);
	put_reason(m + 20, reason);
	return send_msg(fd, m, sizeof(m));
}

int send_held(int fd, uint32_t count)
{
	uint8_t m[HELD_LEN];

	put_header(m, MSG_HELD, sizeof(m));
	put32(m + 12, count);
	return send_msg(fd, m, sizeof(m));
}

int send_done(int fd)
{
	uint8_t m[DONE_LEN];

	put_header(m, MSG_DONE, sizeof(m));
	return send_msg(fd, m, sizeof(m));
}

int send_results(int fd, const struct results_msg *r)
{
	uint8_t m[MAX_MSG_LEN], *c;
	size_t len = RESULTS_FIXED_LEN + (size_t)r->nconns * RESULTS_CONN_LEN;
	unsigned int i;

	if (r->nconns > MAX_STREAMS) {
		errno = EINVAL;
		return -1;
	}
	put_header(m, MSG_RESULTS, len);
	put32(m + 12, r->status);
	put32(m + 16, r->nconns);
	put64(m + 20, (uint64_t)r->cpu_ns);
	put_reason(m + 28, r->reason);
	c = m + RESULTS_FIXED_LEN;
	for (i = 0; i < r->nconns; i++, c += RESULTS_CONN_LEN) {
		put64(c, r->conns[i].bytes_sent);
		put64(c + 8, r->conns[i].bytes_rcvd);
		put64(c + 16, r->conns[i].transactions);
		put64(c + 24, (uint64_t)r->conns[i].elapsed_ns);
	}
	return send_msg(fd, m, len);
}

/*
 * One whole message into @buf (MAX_MSG_LEN bytes). On error, @err says
 * what went wrong in terms of the peer: gone, silent, or not speaking
 * this protocol.
 */
int recv_msg(int fd, int timeout_ms, uint8_t *buf, unsigned int *type, size_t *len,
	     char *err, size_t errlen)
{
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	uint32_t magic, total;
	uint16_t version;
	ssize_t n;

	n = read_full_timeout(fd, buf, MSG_HDR_LEN, timeout_ms);
	if (n != MSG_HDR_LEN) {
		if (n < 0 && errno == ETIMEDOUT)
			snprintf(err, errlen, "no message within %d s", timeout_ms / 1000);
		else if (n < 0)
			snprintf(err, errlen, "control connection: %s", strerror(errno));
		else
			snprintf(err, errlen, "control connection closed by the peer");
		return -1;
	}
	magic = get32(buf);
	version = get16(buf + 4);
	*type = get16(buf + 6);
	total = get32(buf + 8);
	if (magic != MSG_MAGIC) {
		snprintf(err, errlen, "bad message: magic 0x%08x, expected 0x%08x "
			 "(not an xtcp-perf peer?)", magic, MSG_MAGIC);
		return -1;
	}
	if (version != MSG_VERSION) {
		snprintf(err, errlen, "bad message: protocol version %u, this side speaks %u "
			 "(use the same xtcp-perf on both sides)", version,
			 (unsigned int)MSG_VERSION);
		return -1;
	}
	if (total < MSG_HDR_LEN || total > MAX_MSG_LEN) {
		snprintf(err, errlen, "bad message: length %u", total);
		return -1;
	}
	if (total > MSG_HDR_LEN) {
		int64_t left = (deadline - now_ns()) / 1000000;

		n = read_full_timeout(fd, buf + MSG_HDR_LEN, total - MSG_HDR_LEN,
				      left > 0 ? (int)left : 0);
		if (n != (ssize_t)(total - MSG_HDR_LEN)) {
			snprintf(err, errlen, "truncated %s message", msg_type_name(*type));
			return -1;
		}
	}
	*len = total;
	return 0;
}

/* recv_msg, and the message must be of @want type and @want_len long. */
int recv_expect(int fd, int timeout_ms, unsigned int want, size_t want_len, uint8_t *buf,
		size_t *len, char *err, size_t errlen)
{
	unsigned int type;
	size_t got;

	if (recv_msg(fd, timeout_ms, buf, &type, &got, err, errlen))
		return -1;
	if (type != want) {
		snprintf(err, errlen, "bad message: got %s (type %u), expected %s",
			 msg_type_name(type), type, msg_type_name(want));
		return -1;
	}
	if (want_len && got != want_len) {
		snprintf(err, errlen, "bad message: %s of %zu bytes, expected %zu",
			 msg_type_name(type), got, want_len);
		return -1;
	}
	if (len)
		*len = got;
	return 0;
}

/* What both sides accept; the server refuses anything else with this text. */
int check_params(const struct params *p, char *err, size_t errlen)
{
	uint32_t max_conns = p->test == TEST_IDLE ? MAX_IDLE_CONNS : MAX_STREAMS;

	if (p->test >= NR_TESTS)
		snprintf(err, errlen, "unknown test %u", (unsigned int)p->test);
	else if (p->reverse && p->test == TEST_RR)
		snprintf(err, errlen, "reverse is for the stream, crr and idle tests only");
	else if (!p->length || p->length > MAX_LEN)
		snprintf(err, errlen, "length %u out of range 1..%u", p->length, MAX_LEN);
	else if (!p->streams || p->streams > max_conns)
		snprintf(err, errlen, "%u connections out of range 1..%u", p->streams,
			 max_conns);
	else if (p->duration_ms > MAX_SECS * 1000)
		snprintf(err, errlen, "duration %u ms too long", p->duration_ms);
	else if (p->test == TEST_STREAM && !p->duration_ms == !p->bytes)
		snprintf(err, errlen, "stream needs a duration or a byte count, not both");
	else if (p->test == TEST_STREAM && p->bytes && p->bytes < p->streams)
		snprintf(err, errlen, "byte count %llu below the number of streams",
			 (unsigned long long)p->bytes);
	else if ((p->test == TEST_RR || p->test == TEST_CRR) && (!p->duration_ms || p->bytes))
		snprintf(err, errlen, "%s needs a duration and no byte count", test_name(p->test));
	else if (p->test == TEST_IDLE && p->bytes)
		snprintf(err, errlen, "idle takes no byte count");
	else
		return 0;
	return -1;
}

int decode_params(const uint8_t *m, size_t len, struct params *p, char *err, size_t errlen)
{
	if (len != PARAMS_LEN) {
		snprintf(err, errlen, "bad PARAMS length %zu, expected %d", len, PARAMS_LEN);
		return -1;
	}
	if (get16(m + 14)) {
		snprintf(err, errlen, "unknown flags 0x%x", get16(m + 14));
		return -1;
	}
	if (m[13] > 1) {
		snprintf(err, errlen, "bad direction %u", m[13]);
		return -1;
	}
	p->test = m[12];
	p->reverse = m[13];
	p->length = get32(m + 16);
	p->streams = get32(m + 20);
	p->duration_ms = get32(m + 24);
	p->bytes = get64(m + 28);
	return check_params(p, err, errlen);
}

void decode_reply(const uint8_t *m, struct reply_msg *r)
{
	r->status = get32(m + 12);
	r->data_port = get32(m + 16);
	get_reason(m + 20, r->reason);
}

uint32_t decode_held(const uint8_t *m)
{
	return get32(m + 12);
}

int decode_results(const uint8_t *m, size_t len, struct results_msg *r, char *err,
		   size_t errlen)
{
	const uint8_t *c = m + RESULTS_FIXED_LEN;
	unsigned int i;

	if (len < RESULTS_FIXED_LEN) {
		snprintf(err, errlen, "bad RESULTS length %zu", len);
		return -1;
	}
	r->status = get32(m + 12);
	r->nconns = get32(m + 16);
	r->cpu_ns = (int64_t)get64(m + 20);
	get_reason(m + 28, r->reason);
	if (r->nconns > MAX_STREAMS ||
	    len != RESULTS_FIXED_LEN + (size_t)r->nconns * RESULTS_CONN_LEN) {
		snprintf(err, errlen, "bad RESULTS: %u connections in %zu bytes", r->nconns, len);
		return -1;
	}
	for (i = 0; i < r->nconns; i++, c += RESULTS_CONN_LEN) {
		r->conns[i].bytes_sent = get64(c);
		r->conns[i].bytes_rcvd = get64(c + 8);
		r->conns[i].transactions = get64(c + 16);
		r->conns[i].elapsed_ns = (int64_t)get64(c + 24);
	}
	return 0;
}

/* The 8-byte count a stream receiver sends back once it has seen EOF. */
void put_count(uint8_t *p, uint64_t v)
{
	put64(p, v);
}

uint64_t get_count(const uint8_t *p)
{
	return get64(p);
}
