// SPDX-License-Identifier: GPL-2.0
/*
 * Blind injection (RFC 5961): segments forged with a connection's
 * addresses and ports, as an attacker who guessed them would send, must
 * not reset it, tear it down or slip data into it unless they carry the
 * exact numbers; the in-window ones draw a challenge ACK, within the
 * socket's and the namespace's rate limits. Two hosts (the veth topology
 * of netns.sh): the server in TAG-2, the client in TAG-1. The test reads
 * the connection's sequence numbers off veth1 with a packet socket and
 * sends its forgeries from TAG-1 through a raw socket.
 *
 * Counters (the server's namespace): native's TcpExt TCPChallengeACK and
 * TCPACKSkippedChallenge, xtcp's XtcpChallengeACK and
 * XtcpACKSkippedChallenge.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stack.h"

#define CLIENT_IP	"10.77.0.1"
#define SERVER_IP	"10.77.0.2"
/* The mark of forged segments, which the RST filter lets through. */
#define FORGE_MARK	0x7e

struct conn {
	int cli, srv;
	int lfd;		/* the server's listener, still listening */
	int pfd;		/* packet socket on veth1, still reading */
	uint16_t cport, sport;
	uint32_t srv_snd_nxt;	/* the server's next sequence number */
	uint32_t srv_rcv_nxt;	/* what the server expects next */
	uint32_t srv_tsecr;	/* the client's TSval it echoes, 0: none */
	uint8_t srv_flags;	/* flags of the server's last segment */
	uint8_t srv_flags_seen;	/* ... of all those the last read took */
};

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* The TSecr of the timestamps option of TCP header @th, or 0. */
static uint32_t segment_tsecr(const uint8_t *th, unsigned int doff, size_t len)
{
	unsigned int i = 20;

	if (doff > len)
		return 0;
	while (i < doff) {
		if (th[i] == 0)
			break;
		if (th[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= doff || th[i + 1] < 2 || i + th[i + 1] > doff)
			break;
		if (th[i] == 8 && th[i + 1] == 10)
			return get_be32(th + i + 6);
		i += th[i + 1];
	}
	return 0;
}

/* One segment of a connection's server side, as read off veth1. */
struct server_seg {
	const uint8_t *th;	/* its TCP header */
	unsigned int doff;	/* the header's length */
	unsigned int payload;	/* data bytes */
	size_t tcp_len;		/* bytes from the TCP header on */
};

/*
 * The next segment of @c the server sent on veth1 (packet socket @pfd, IP
 * protocol @proto), read into @buf: true, or false when none is left.
 */
static bool next_server_seg(int pfd, int proto, const struct conn *c,
			    uint8_t *buf, size_t size, struct server_seg *s)
{
	struct in_addr srv;
	ssize_t n;

	inet_pton(AF_INET, SERVER_IP, &srv);
	while ((n = recv(pfd, buf, size, MSG_DONTWAIT)) > 20) {
		unsigned int ihl = (buf[0] & 15) * 4;
		const uint8_t *th = buf + ihl;

		if (buf[9] != proto || memcmp(buf + 12, &srv, 4) ||
		    n < ihl + 20 || (th[0] << 8 | th[1]) != c->sport ||
		    (th[2] << 8 | th[3]) != c->cport)
			continue;
		s->th = th;
		s->doff = (th[12] >> 4) * 4;
		s->payload = (buf[2] << 8 | buf[3]) - ihl - s->doff;
		s->tcp_len = n - ihl;
		return true;
	}
	return false;
}

/*
 * The server's sequence state as the last of its segments on veth1 (read
 * from the packet socket @pfd) shows it: where its data ends, what it
 * acknowledges, its flags. 0, or -1 when none was seen.
 */
static int read_server_state(int pfd, int proto, struct conn *c)
{
	struct server_seg seg;
	uint8_t buf[70000];
	bool seen = false;

	c->srv_flags_seen = 0;
	while (next_server_seg(pfd, proto, c, buf, sizeof(buf), &seg)) {
		c->srv_snd_nxt = get_be32(seg.th + 4) + seg.payload;
		c->srv_rcv_nxt = get_be32(seg.th + 8);
		c->srv_flags = seg.th[13];
		c->srv_flags_seen |= seg.th[13];
		c->srv_tsecr = segment_tsecr(seg.th, seg.doff, seg.tcp_len);
		seen = true;
	}
	return seen ? 0 : -1;
}

/*
 * A connection from TAG-1 to TAG-2 that has carried 1000 bytes each way
 * and gone quiet, with the server's sequence state read off the wire. The
 * caller is left in TAG-2.
 */
static void conn_open(struct __test_metadata *_metadata,
		      FIXTURE_DATA(stack) *self, struct conn *c, int rcvbuf)
{
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
	};
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char buf[1000];
	int lfd, pfd;

	ASSERT_EQ(0, enter_host(self, 2));
	lfd = stack_listen_opts(self->family, SERVER_IP, &c->sport, rcvbuf, 0);
	c->lfd = lfd;
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, enter_host(self, 1));
	pfd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	ASSERT_LE(0, pfd);
	ll.sll_ifindex = if_nametoindex("veth1");
	ASSERT_EQ(0, bind(pfd, (struct sockaddr *)&ll, sizeof(ll)));
	c->cli = stack_connect(self->family, SERVER_IP, c->sport);
	ASSERT_LE(0, c->cli);
	ASSERT_EQ(0, getsockname(c->cli, (struct sockaddr *)&sin, &len));
	c->cport = ntohs(sin.sin_port);
	c->srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, c->srv);
	memset(buf, 'a', sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), send_all(c->cli, buf, sizeof(buf)));
	ASSERT_EQ((ssize_t)sizeof(buf), recv_all(c->srv, buf, sizeof(buf)));
	ASSERT_EQ((ssize_t)sizeof(buf), send_all(c->srv, buf, sizeof(buf)));
	ASSERT_EQ((ssize_t)sizeof(buf), recv_all(c->cli, buf, sizeof(buf)));
	/* Delayed ACKs are out by now. */
	msleep(300);
	ASSERT_EQ(0, read_server_state(pfd, stack_ipproto(self->family), c));
	c->pfd = pfd;
	ASSERT_EQ(0, enter_host(self, 2));
}

/* The two hosts and one connection between them. */
static void conn_setup(struct __test_metadata *_metadata,
		       FIXTURE_DATA(stack) *self, struct conn *c)
{
	hosts_up(_metadata, self);
	conn_open(_metadata, self, c, 0);
}

/*
 * A forged segment to the server from the client's address and port (the
 * caller ends in TAG-2). 0 or -1.
 */
static int forge_ts(FIXTURE_DATA(stack) *self, const struct conn *c,
		    uint32_t seq, uint32_t ack, uint8_t flags, const char *data,
		    const uint32_t *ts)
{
	struct sockaddr_in src = sin_make(CLIENT_IP, c->cport);
	struct sockaddr_in dst = sin_make(SERVER_IP, c->sport);
	uint8_t pkt[SEG_PKT_MAX];
	size_t len;
	ssize_t sent;
	int fd;

	if (enter_host(self, 1))
		return -1;
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &(int){ FORGE_MARK },
		       sizeof(int))) {
		close(fd);
		return -1;
	}
	len = build_segment_ts(pkt, stack_ipproto(self->family),
			       src.sin_addr.s_addr, dst.sin_addr.s_addr,
			       c->cport, c->sport, seq, ack, flags, data,
			       data ? strlen(data) : 0, ts);
	sent = sendto(fd, pkt, len, 0, (struct sockaddr *)&dst, sizeof(dst));
	close(fd);
	if (sent != (ssize_t)len)
		return -1;
	return enter_host(self, 2);
}

static int forge(FIXTURE_DATA(stack) *self, const struct conn *c,
		 uint32_t seq, uint32_t ack, uint8_t flags, const char *data)
{
	return forge_ts(self, c, seq, ack, flags, data, NULL);
}

static int64_t challenge_acks(int family)
{
	return stack_counter(family, "TCPChallengeACK", "XtcpChallengeACK");
}

/* Wait (up to 2 s) until the challenge ACK count passes @from. */
static int64_t wait_challenge(int family, int64_t from)
{
	int64_t v = challenge_acks(family);
	int i;

	for (i = 0; i < 200 && v <= from; i++) {
		msleep(10);
		v = challenge_acks(family);
	}
	return v;
}

/* Close both ends with a RST (SO_LINGER 0): nothing lingers. */
static void conn_abort(struct conn *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(c->cli, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	setsockopt(c->srv, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c->cli);
	close(c->srv);
}

/* The connection still carries data both ways. */
static void conn_works(struct __test_metadata *_metadata, struct conn *c)
{
	char buf[16] = "still here";

	ASSERT_EQ((ssize_t)sizeof(buf), send_all(c->cli, buf, sizeof(buf)))
		TH_LOG("client send: %s", strerror(errno));
	ASSERT_EQ((ssize_t)sizeof(buf), recv_all(c->srv, buf, sizeof(buf)))
		TH_LOG("server recv: %s", strerror(errno));
	EXPECT_STREQ("still here", buf);
	ASSERT_EQ((ssize_t)sizeof(buf), send_all(c->srv, buf, sizeof(buf)))
		TH_LOG("server send: %s", strerror(errno));
	ASSERT_EQ((ssize_t)sizeof(buf), recv_all(c->cli, buf, sizeof(buf)))
		TH_LOG("client recv: %s", strerror(errno));
}

/*
 * RFC 5961 5.2: data whose ACK lies further below snd_una than any window
 * the peer offered is a blind injection: not delivered, and answered with
 * one challenge ACK. The same data with the ACK at snd_una (the numbers a
 * real peer would use) is delivered: the forgery itself works.
 */
TEST_F(stack, old_ack_with_data_dropped_with_challenge_ack)
{
	int64_t before;
	struct conn c;
	char buf[8];

	conn_setup(_metadata, self, &c);
	before = challenge_acks(self->family);
	ASSERT_LE(0, before);
	ASSERT_EQ(0, forge(self, &c, c.srv_rcv_nxt,
			   c.srv_snd_nxt - 0x40000000u, SEG_ACK | SEG_PSH,
			   "forged!"));
	EXPECT_EQ(before + 1, wait_challenge(self->family, before));
	msleep(200);
	EXPECT_EQ(0, sock_inq(c.srv));
	EXPECT_EQ(before + 1, challenge_acks(self->family));
	ASSERT_EQ(0, forge(self, &c, c.srv_rcv_nxt, c.srv_snd_nxt,
			   SEG_ACK | SEG_PSH, "forged!"));
	ASSERT_EQ(7, wait_inq(c.srv, 7, 2000));
	ASSERT_EQ(7, recv(c.srv, buf, sizeof(buf), 0));
	/*
	 * The two ends no longer agree on the stream: a FIN exchange would
	 * retransmit for minutes. Both go at once, with a RST.
	 */
	conn_abort(&c);
}

/*
 * RFC 5961 3.2: a RST inside the window but not at rcv_nxt draws a
 * challenge ACK and leaves the connection up; one at rcv_nxt resets it.
 */
TEST_F(stack, in_window_rst_draws_challenge_ack)
{
	int64_t before;
	struct conn c;
	char b;

	conn_setup(_metadata, self, &c);
	before = challenge_acks(self->family);
	ASSERT_LE(0, before);
	ASSERT_EQ(0, forge(self, &c, c.srv_rcv_nxt + 100, 0, SEG_RST, NULL));
	EXPECT_EQ(before + 1, wait_challenge(self->family, before));
	conn_works(_metadata, &c);
	ASSERT_EQ(0, forge(self, &c, c.srv_rcv_nxt + 16, 0, SEG_RST, NULL));
	ASSERT_EQ(0, set_nonblock(c.srv, 0));
	EXPECT_EQ(-1, recv(c.srv, &b, 1, 0));
	EXPECT_EQ(ECONNRESET, errno);
	close(c.cli);
	close(c.srv);
}

/*
 * RFC 5961 4.2: a SYN on an established connection, in the window or
 * not, draws a challenge ACK and changes nothing.
 */
TEST_F(stack, syn_on_connection_draws_challenge_ack)
{
	int64_t before;
	struct conn c;

	conn_setup(_metadata, self, &c);
	before = challenge_acks(self->family);
	ASSERT_LE(0, before);
	ASSERT_EQ(0, forge(self, &c, c.srv_rcv_nxt + 100, 0, SEG_SYN, NULL));
	EXPECT_EQ(before + 1, wait_challenge(self->family, before));
	/* Past the socket's own limit (invalid_ratelimit, 500 ms). */
	msleep(700);
	ASSERT_EQ(0, forge(self, &c, c.srv_rcv_nxt - 100000, 0, SEG_SYN,
			   NULL));
	EXPECT_EQ(before + 2, wait_challenge(self->family, before + 1));
	conn_works(_metadata, &c);
	close(c.cli);
	close(c.srv);
}

/*
 * The connection closed by the server first: its entry in TIME_WAIT there,
 * with the numbers its last segment (the ACK of the client's FIN) shows.
 * xtcp's TIME_WAIT is made as long as native's, 60 s.
 */
static void time_wait_setup(struct __test_metadata *_metadata,
			    FIXTURE_DATA(stack) *self, struct conn *c)
{
	int proto = stack_ipproto(self->family);
	char b;

	if (self->family != AF_INET)
		ASSERT_EQ(0, set_host_setting(self,
				"/sys/module/xtcp/parameters/tw_len_ms",
				"60000"));
	conn_setup(_metadata, self, c);
	/*
	 * The client's host would answer the server's replies with RSTs
	 * (its socket is gone), and a RST ends a TIME_WAIT entry: they are
	 * dropped on the way out, but for the test's own.
	 */
	ASSERT_EQ(0, run_cmd("ip netns exec %s-1 nft 'add table ip inj; "
			     "add chain ip inj out { type filter hook output "
			     "priority 0 ; }; add rule ip inj out meta mark != %d "
			     "ip protocol %d @th,109,1 1 drop'", self->netns,
			     FORGE_MARK, proto));
	close(c->srv);
	ASSERT_EQ(0, recv(c->cli, &b, 1, 0));
	close(c->cli);
	msleep(200);
	ASSERT_EQ(0, read_server_state(c->pfd, proto, c));
	ASSERT_EQ(SEG_ACK, c->srv_flags & (SEG_SYN | SEG_ACK | SEG_FIN));
}

/*
 * The server's TIME_WAIT entry of @c (this namespace's socket table): the
 * milliseconds its timer has left, or -1 when there is none.
 */
static long time_wait_left_ms(int family, const struct conn *c)
{
	FILE *f = fopen(family == AF_INET ? "/proc/net/tcp" : "/proc/net/xtcp",
			"r");
	unsigned int lport, rport, state, timer;
	unsigned long when;
	char line[512];
	long left = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*d: %*X:%X %*X:%X %X %*X:%*X %X:%lX",
			   &lport, &rport, &state, &timer, &when) != 5)
			continue;
		if (lport == c->sport && rport == c->cport && state == 6) {
			left = when * 1000 / sysconf(_SC_CLK_TCK);
			break;
		}
	}
	fclose(f);
	return left;
}

/*
 * A connection the server closed first sits in TIME_WAIT there. A SYN
 * from the client's address and port with an older sequence number (and
 * no timestamp) is an old duplicate: it draws an ACK. One with a newer
 * sequence number opens a new connection at once: a SYN-ACK (RFC 6191).
 */
TEST_F(stack, time_wait_takes_newer_syn_not_older)
{
	int proto = stack_ipproto(self->family);
	struct conn c;

	time_wait_setup(_metadata, self, &c);

	ASSERT_EQ(0, forge(self, &c, c.srv_rcv_nxt - 100000, 0, SEG_SYN, NULL));
	msleep(300);
	ASSERT_EQ(0, read_server_state(c.pfd, proto, &c));
	EXPECT_EQ(SEG_ACK, c.srv_flags & (SEG_SYN | SEG_ACK));

	ASSERT_EQ(0, forge(self, &c, c.srv_rcv_nxt + 100000, 0, SEG_SYN, NULL));
	msleep(300);
	ASSERT_EQ(0, read_server_state(c.pfd, proto, &c));
	EXPECT_EQ(SEG_SYN | SEG_ACK, c.srv_flags & (SEG_SYN | SEG_ACK));
}

/*
 * A forged segment in the window, with data and a TSval far ahead of the
 * client's, whose ACK is for data never sent, is dropped, and must leave
 * TS.Recent alone (RFC 7323 4.3, as native's tcp_ack updates it only for
 * an acceptable ACK): taken, it would have PAWS drop everything the real
 * client sends next. The client's next data is delivered.
 */
TEST_F(stack, forged_segment_with_bad_ack_leaves_ts_recent)
{
	uint32_t ts[2];
	struct conn c;
	char buf[16];

	conn_setup(_metadata, self, &c);
	ASSERT_NE(0U, c.srv_tsecr) TH_LOG("no timestamps on the connection");
	ts[0] = c.srv_tsecr + 0x40000000U;
	ts[1] = 0;
	ASSERT_EQ(0, forge_ts(self, &c, c.srv_rcv_nxt, c.srv_snd_nxt + 100000,
			      SEG_ACK, "poison", ts));
	msleep(200);
	ASSERT_EQ(0, sock_inq(c.srv));
	ASSERT_EQ(11, send(c.cli, "still here", 11, 0));
	EXPECT_EQ(11, wait_inq(c.srv, 11, 3000))
		TH_LOG("the client's data did not arrive after the forgery");
	ASSERT_EQ(11, recv(c.srv, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_STREQ("still here", buf);
	conn_abort(&c);
}

/*
 * TIME_WAIT answers for the closed connection (RFC 9293 3.6, native's
 * tcp_timewait_state_process): the client's FIN sent again draws the ACK
 * of it once more; a RST off rcv_nxt is ignored, without the challenge
 * ACK a connection would send; a RST at rcv_nxt ends the entry (RFC
 * 1337's hazard, taken as net.ipv4.tcp_rfc1337's default does).
 */
TEST_F(stack, time_wait_acks_fin_again_and_ends_on_exact_rst)
{
	int proto = stack_ipproto(self->family);
	uint32_t rcv_nxt, snd_nxt;
	struct conn c;
	long left;

	time_wait_setup(_metadata, self, &c);
	rcv_nxt = c.srv_rcv_nxt;
	snd_nxt = c.srv_snd_nxt;
	/*
	 * 60 s from the server's ACK of the FIN, some 300 ms ago: native's
	 * TCP_TIMEWAIT_LEN, and xtcp's tw_len_ms as time_wait_setup set it
	 * (its default, module_params.sh checks).
	 */
	left = time_wait_left_ms(self->family, &c);
	TH_LOG("TIME_WAIT left: %ld ms", left);
	ASSERT_LE(58000, left);
	ASSERT_GE(60000, left);

	ASSERT_EQ(0, forge(self, &c, rcv_nxt - 1, snd_nxt,
			   SEG_FIN | SEG_ACK, NULL));
	msleep(300);
	ASSERT_EQ(0, read_server_state(c.pfd, proto, &c))
		TH_LOG("the FIN sent again drew no ACK");
	EXPECT_EQ(SEG_ACK, c.srv_flags & (SEG_SYN | SEG_ACK | SEG_RST | SEG_FIN));
	EXPECT_EQ(rcv_nxt, c.srv_rcv_nxt);
	EXPECT_EQ(snd_nxt, c.srv_snd_nxt);

	ASSERT_EQ(0, forge(self, &c, rcv_nxt + 5000, 0, SEG_RST, NULL));
	msleep(300);
	EXPECT_EQ(-1, read_server_state(c.pfd, proto, &c))
		TH_LOG("TIME_WAIT answered a RST off rcv_nxt");
	EXPECT_LT(0, time_wait_left_ms(self->family, &c))
		TH_LOG("a RST off rcv_nxt ended TIME_WAIT");

	ASSERT_EQ(0, forge(self, &c, rcv_nxt, 0, SEG_RST, NULL));
	msleep(300);
	EXPECT_EQ(-1, time_wait_left_ms(self->family, &c))
		TH_LOG("TIME_WAIT outlived a RST at rcv_nxt");
}

/*
 * An ACK at rcv_nxt (the peer's ACK of our FIN, come again) is taken
 * without a reply and starts 2MSL over, as native's inet_twsk_reschedule:
 * the timer /proc shows goes back up to the full length.
 */
TEST_F(stack, time_wait_bare_ack_restarts_its_timer)
{
	int proto = stack_ipproto(self->family);
	long before, after;
	struct conn c;

	time_wait_setup(_metadata, self, &c);
	msleep(2500);
	before = time_wait_left_ms(self->family, &c);
	ASSERT_LT(0, before);
	ASSERT_EQ(0, forge(self, &c, c.srv_rcv_nxt, c.srv_snd_nxt, SEG_ACK,
			   NULL));
	msleep(100);
	after = time_wait_left_ms(self->family, &c);
	TH_LOG("TIME_WAIT left: %ld ms before the ACK, %ld ms after", before,
	       after);
	EXPECT_EQ(-1, read_server_state(c.pfd, proto, &c))
		TH_LOG("TIME_WAIT answered a bare ACK at rcv_nxt");
	EXPECT_LT(before + 1500, after);
}

/*
 * The entry holds its port as a socket does: a bind() to it without
 * SO_REUSEADDR fails with EADDRINUSE while it lasts, and works once a RST
 * ended it.
 */
TEST_F(stack, bind_refused_while_time_wait_holds_the_port)
{
	struct sockaddr_in sin;
	struct conn c;
	int fd;

	time_wait_setup(_metadata, self, &c);
	sin = sin_make(SERVER_IP, c.sport);
	close(c.lfd);
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_EQ(EADDRINUSE, errno);
	close(fd);

	ASSERT_EQ(0, forge(self, &c, c.srv_rcv_nxt, 0, SEG_RST, NULL));
	msleep(300);
	ASSERT_EQ(-1, time_wait_left_ms(self->family, &c));
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		TH_LOG("bind after TIME_WAIT ended: %s", strerror(errno));
	close(fd);
}

#define TINY_SEGS	300

/*
 * A hole at rcv_nxt and hundreds of 1-byte segments behind it (the
 * attack of CVE-2018-5390's family): the receiver holds at most about
 * twice its buffer of them, and when the real data that fills the hole
 * comes it is taken at once, out-of-order data giving way (native's
 * tcp_prune_ofo_queue). Without that the buffer stays full and the
 * connection never moves again.
 */
TEST_F(stack, tiny_out_of_order_segments_give_way_to_in_order_data)
{
	char buf[100];
	int64_t held;
	struct conn c;
	int rcvbuf, i;

	hosts_up(_metadata, self);
	conn_open(_metadata, self, &c, 8192);
	ASSERT_EQ(0, getsockopt_int(c.srv, SOL_SOCKET, SO_RCVBUF, &rcvbuf));
	for (i = 0; i < TINY_SEGS; i++)
		ASSERT_EQ(0, forge(self, &c, c.srv_rcv_nxt + 1000 + 2 * i,
				   c.srv_snd_nxt, SEG_ACK, "x"));
	msleep(300);
	held = sock_meminfo(c.srv, SK_MEMINFO_RMEM_ALLOC);
	TH_LOG("SO_RCVBUF %d; %d tiny segments: %lld bytes held", rcvbuf,
	       TINY_SEGS, (long long)held);
	/*
	 * Native holds about SO_RCVBUF (16128 of 16384); xtcp lets buffer
	 * overhead reach twice it (rmem_admits), plus the skb that crossed.
	 */
	EXPECT_GE(2 * (int64_t)rcvbuf + 4096, held);
	memset(buf, 'r', sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), send(c.cli, buf, sizeof(buf), 0));
	EXPECT_EQ((int)sizeof(buf), wait_inq(c.srv, sizeof(buf), 2000));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), recv(c.srv, buf, sizeof(buf), 0));
	EXPECT_EQ('r', buf[0]);
	EXPECT_EQ('r', buf[sizeof(buf) - 1]);
	conn_abort(&c);
}

/*
 * Half-open connections: the client's side is forged, from CLIENT_IP and
 * a port no socket there has, whose host would answer the server's
 * SYN-ACKs with RSTs: those are dropped on the way out, but for the
 * test's own. The server's listener, and a packet socket on veth1 that
 * reads its segments; the caller is left in TAG-2.
 */
static void half_open_setup(struct __test_metadata *_metadata,
			    FIXTURE_DATA(stack) *self, struct conn *c)
{
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
	};

	hosts_up(_metadata, self);
	ASSERT_EQ(0, run_cmd("ip netns exec %s-1 nft 'add table ip inj; "
			     "add chain ip inj out { type filter hook output "
			     "priority 0 ; }; add rule ip inj out meta mark != %d "
			     "ip protocol %d @th,109,1 1 drop'", self->netns,
			     FORGE_MARK, stack_ipproto(self->family)));
	memset(c, 0, sizeof(*c));
	ASSERT_EQ(0, enter_host(self, 2));
	c->lfd = stack_listen(self->family, SERVER_IP, &c->sport);
	ASSERT_LE(0, c->lfd);
	ASSERT_EQ(0, enter_host(self, 1));
	c->pfd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	ASSERT_LE(0, c->pfd);
	ll.sll_ifindex = if_nametoindex("veth1");
	ASSERT_EQ(0, bind(c->pfd, (struct sockaddr *)&ll, sizeof(ll)));
	ASSERT_EQ(0, enter_host(self, 2));
}

/* The server's half-open entries of @c (this namespace's table). */
static int half_open_entries(int family, const struct conn *c)
{
	FILE *f = fopen(family == AF_INET ? "/proc/net/tcp" : "/proc/net/xtcp",
			"r");
	unsigned int lport, rport, state;
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %*X:%X %*X:%X %X", &lport, &rport,
			   &state) == 3 &&
		    lport == c->sport && rport == c->cport && state == 3)
			n++;
	fclose(f);
	return n;
}

/*
 * A forged SYN from port @cport with ISN @isn: a half-open entry on the
 * server, whose SYN-ACK's numbers are read into @c.
 */
static void half_open(struct __test_metadata *_metadata,
		      FIXTURE_DATA(stack) *self, struct conn *c,
		      uint16_t cport, uint32_t isn)
{
	int proto = stack_ipproto(self->family);

	c->cport = cport;
	ASSERT_EQ(0, forge(self, c, isn, 0, SEG_SYN, NULL));
	msleep(200);
	ASSERT_EQ(0, read_server_state(c->pfd, proto, c));
	ASSERT_EQ(SEG_SYN | SEG_ACK, c->srv_flags & (SEG_SYN | SEG_ACK));
	ASSERT_EQ(isn + 1, c->srv_rcv_nxt);
	ASSERT_EQ(1, half_open_entries(self->family, c));
}

/*
 * What a half-open connection does with the segments of its 4-tuple, as
 * native's tcp_check_req: the SYN again draws the SYN-ACK again; an ACK
 * of anything but the SYN-ACK a RST, the entry kept; a RST in the window
 * off rcv_nxt a challenge ACK (RFC 5961 3.2), the entry kept; a RST at
 * rcv_nxt, and a new SYN in the window (with a RST), end it, counted as
 * EmbryonicRsts. The ACK of the SYN-ACK, with data, makes the connection
 * accept() returns, the data in it and the SYN and ACK counted in its
 * segs_in.
 */
TEST_F(stack, half_open_answers_as_native)
{
	int proto = stack_ipproto(self->family);
	uint32_t isn = 0x12345678;
	int64_t resets, challenges;
	struct tcp_info ti;
	struct conn c;
	char buf[8];
	int srv;

	half_open_setup(_metadata, self, &c);
	resets = stack_counter(self->family, "EmbryonicRsts",
			       "XtcpEmbryonicRsts");
	ASSERT_LE(0, resets);

	half_open(_metadata, self, &c, 45001, isn);
	ASSERT_EQ(0, forge(self, &c, isn, 0, SEG_SYN, NULL));
	msleep(200);
	ASSERT_EQ(0, read_server_state(c.pfd, proto, &c));
	EXPECT_EQ(SEG_SYN | SEG_ACK, c.srv_flags & (SEG_SYN | SEG_ACK));
	ASSERT_EQ(0, forge(self, &c, isn + 1, c.srv_snd_nxt + 1000, SEG_ACK,
			   NULL));
	msleep(200);
	ASSERT_EQ(0, read_server_state(c.pfd, proto, &c));
	/* Of all it sent: a SYN-ACK resent meanwhile may come after. */
	EXPECT_EQ(SEG_RST, c.srv_flags_seen & SEG_RST);
	EXPECT_EQ(1, half_open_entries(self->family, &c));
	/* Past the entry's reply limit (invalid_ratelimit, 500 ms). */
	msleep(600);
	challenges = challenge_acks(self->family);
	ASSERT_EQ(0, forge(self, &c, isn + 101, 0, SEG_RST, NULL));
	EXPECT_EQ(challenges + 1, wait_challenge(self->family, challenges));
	EXPECT_EQ(1, half_open_entries(self->family, &c));
	ASSERT_EQ(0, forge(self, &c, isn + 1, 0, SEG_RST, NULL));
	msleep(200);
	EXPECT_EQ(0, half_open_entries(self->family, &c));

	half_open(_metadata, self, &c, 45002, isn);
	ASSERT_EQ(0, forge(self, &c, isn + 101, 0, SEG_SYN, NULL));
	msleep(200);
	ASSERT_EQ(0, read_server_state(c.pfd, proto, &c));
	EXPECT_EQ(SEG_RST, c.srv_flags_seen & SEG_RST);
	EXPECT_EQ(0, half_open_entries(self->family, &c));
	EXPECT_EQ(resets + 2, stack_counter(self->family, "EmbryonicRsts",
					    "XtcpEmbryonicRsts"));

	half_open(_metadata, self, &c, 45003, isn);
	ASSERT_EQ(0, forge(self, &c, isn + 1, c.srv_snd_nxt + 1,
			   SEG_ACK | SEG_PSH, "hello"));
	ASSERT_EQ(0, set_nonblock(c.lfd, 0));
	srv = accept(c.lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	EXPECT_EQ(0, half_open_entries(self->family, &c));
	ASSERT_EQ(5, wait_inq(srv, 5, 2000));
	ASSERT_EQ(5, recv(srv, buf, sizeof(buf), 0));
	ASSERT_EQ(0, get_tcp_info(srv, &ti));
	EXPECT_EQ(2U, ti.tcpi_segs_in);
	EXPECT_EQ(1U, ti.tcpi_data_segs_in);
	/* A RST: a FIN would wait for the forged client's ACK for minutes. */
	ASSERT_EQ(0, setsockopt(srv, SOL_SOCKET, SO_LINGER,
				&(struct linger){ .l_onoff = 1 },
				sizeof(struct linger)));
	close(srv);
	close(c.lfd);
	close(c.pfd);
}

/*
 * The pure ACKs (no data, SYN, FIN or RST) the server sent on veth1 since
 * the last read of @c's packet socket.
 */
static int count_server_acks(int pfd, int proto, const struct conn *c)
{
	struct server_seg seg;
	uint8_t buf[70000];
	int acks = 0;

	while (next_server_seg(pfd, proto, c, buf, sizeof(buf), &seg))
		if (!seg.payload &&
		    (seg.th[13] & (SEG_SYN | SEG_FIN | SEG_RST | SEG_ACK)) ==
		    SEG_ACK)
			acks++;
	return acks;
}

#define OOW_SEGS	8

/*
 * OOW_SEGS pure ACKs far outside the server's window, back to back; the
 * server's replies (duplicate ACKs) in *@replies, the skips counted
 * meanwhile (TCPACKSkippedSeq) returned, the burst's length in *@ms.
 */
static int64_t oow_burst(FIXTURE_DATA(stack) *self, struct conn *c,
			 int *replies, int64_t *ms)
{
	int64_t skip0, t0;
	int i;

	skip0 = stack_counter(self->family, "TCPACKSkippedSeq",
			      "XtcpACKSkippedSeq");
	if (skip0 < 0)
		return -1;
	count_server_acks(c->pfd, stack_ipproto(self->family), c);
	t0 = mono_ms();
	for (i = 0; i < OOW_SEGS; i++)
		if (forge(self, c, c->srv_rcv_nxt + 0x40000000u, c->srv_snd_nxt,
			  SEG_ACK, NULL))
			return -1;
	*ms = mono_ms() - t0;
	msleep(300);
	*replies = count_server_acks(c->pfd, stack_ipproto(self->family), c);
	return stack_counter(self->family, "TCPACKSkippedSeq",
			     "XtcpACKSkippedSeq") - skip0;
}

/*
 * Segments without data outside the window are answered with a duplicate
 * ACK at most once per net.ipv4.tcp_invalid_ratelimit ms (RFC 5961
 * section 7), the others counted as skipped (native's TCPACKSkippedSeq);
 * with the limit at 0 each one is answered.
 */
TEST_F(stack, invalid_ratelimit_bounds_replies_to_out_of_window_acks)
{
	const char *knob = self->family == AF_INET ?
			   "net.ipv4.tcp_invalid_ratelimit" :
			   "net.xtcp.invalid_ratelimit";
	int64_t skipped, ms;
	struct conn c;
	int replies;

	conn_setup(_metadata, self, &c);
	skipped = oow_burst(self, &c, &replies, &ms);
	TH_LOG("limit 500 ms: %d segments in %lld ms, %d replies, %lld skipped",
	       OOW_SEGS, (long long)ms, replies, (long long)skipped);
	ASSERT_LE(0, skipped);
	EXPECT_LE(1, replies);
	EXPECT_GE(1 + ms / 500, replies);
	EXPECT_EQ(OOW_SEGS - replies, skipped);

	ASSERT_EQ(0, run_cmd("ip netns exec %s-2 sysctl -qw %s=0",
			     self->netns, knob));
	skipped = oow_burst(self, &c, &replies, &ms);
	TH_LOG("limit 0: %d segments in %lld ms, %d replies, %lld skipped",
	       OOW_SEGS, (long long)ms, replies, (long long)skipped);
	EXPECT_EQ(OOW_SEGS, replies);
	EXPECT_EQ(0, skipped);
	conn_works(_metadata, &c);
	conn_abort(&c);
}

#define CONNS	4

/* A RST inside the window of each connection, at once. */
static void forge_rsts(struct __test_metadata *_metadata,
		       FIXTURE_DATA(stack) *self, const struct conn *c)
{
	int i;

	for (i = 0; i < CONNS; i++)
		ASSERT_EQ(0, forge(self, &c[i], c[i].srv_rcv_nxt + 100, 0,
				   SEG_RST, NULL));
}

/*
 * The namespace's budget (challenge_ack_limit, per second): with a limit
 * of 1, in-window RSTs on four connections within a second draw one
 * challenge ACK (two if a second boundary falls between them); with no
 * limit (INT_MAX, the default), each draws its own.
 */
TEST_F_TIMEOUT(stack, challenge_acks_limited_per_namespace, 120)
{
	const char *knob = self->family == AF_INET ?
			   "net.ipv4.tcp_challenge_ack_limit" :
			   "net.xtcp.challenge_ack_limit";
	struct conn c[CONNS];
	int64_t before, sent;
	int i;

	hosts_up(_metadata, self);
	ASSERT_EQ(0, run_cmd("ip netns exec %s-2 sysctl -qw %s=1",
			     self->netns, knob));
	for (i = 0; i < CONNS; i++)
		conn_open(_metadata, self, &c[i], 0);
	before = challenge_acks(self->family);
	ASSERT_LE(0, before);
	forge_rsts(_metadata, self, c);
	wait_challenge(self->family, before);
	msleep(300);
	sent = challenge_acks(self->family) - before;
	EXPECT_LE(1, sent);
	EXPECT_GE(2, sent);

	ASSERT_EQ(0, run_cmd("ip netns exec %s-2 sysctl -qw %s=2147483647",
			     self->netns, knob));
	/* Past each socket's own limit (invalid_ratelimit, 500 ms). */
	msleep(700);
	before = challenge_acks(self->family);
	forge_rsts(_metadata, self, c);
	for (i = 0; i < 200 && challenge_acks(self->family) < before + CONNS;
	     i++)
		msleep(10);
	EXPECT_EQ(before + CONNS, challenge_acks(self->family));
	for (i = 0; i < CONNS; i++) {
		conn_works(_metadata, &c[i]);
		close(c[i].cli);
		close(c[i].srv);
	}
}

TEST_HARNESS_MAIN
