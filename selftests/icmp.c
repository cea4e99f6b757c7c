// SPDX-License-Identifier: GPL-2.0
/*
 * ICMP errors about a connection's segments (RFC 1122 4.2.3.9, RFC 1191,
 * RFC 5927), on native TCP and on xtcp: a router between the hosts
 * (netns.sh routed) answers with "time exceeded", "host unreachable" or
 * "fragmentation needed", or a forged error arrives from it; with DF
 * clear it fragments instead, and the receiver reassembles.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>

#include "stack.h"

#define CLIENT_IP	"10.77.0.1"
#define ROUTER_IP	"10.77.0.254"
#define SERVER_IP	"10.77.1.2"
/* tcpi_state of an open connection: the kernel's TCP_ESTABLISHED. */
#define STATE_ESTABLISHED	1u

/* Client, router and server of netns.sh routed; the teardown removes them. */
static void routed_up(struct __test_metadata *_metadata,
		      FIXTURE_DATA(stack) *self)
{
	int r;

	snprintf(self->netns, sizeof(self->netns), "xtcp%d", getpid());
	/* The router's rate limit far above what the cases send. */
	r = run_cmd("'%s/netns.sh' routed %s 1gbit", self_dir(), self->netns);
	if (r == 2 && !getenv("XTCP_REQUIRE_NETEM"))
		SKIP(return, "tbf or netem not available");
	ASSERT_EQ(0, r);
}

/* A command in the router's namespace: its exit status. */
static int on_router(FIXTURE_DATA(stack) *self, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return run_cmd("ip netns exec %s-r %s", self->netns, cmd);
}

static int enter_router(FIXTURE_DATA(stack) *self)
{
	char ns[48];

	snprintf(ns, sizeof(ns), "%s-r", self->netns);
	return enter_netns(ns);
}

/* A listener on the server, its port in *port; the caller stays there. */
static int server_listen(FIXTURE_DATA(stack) *self, uint16_t *port)
{
	if (enter_host(self, 2))
		return -1;
	*port = 0;
	return stack_listen(self->family, SERVER_IP, port);
}

/* A connection from the client to listener @lfd; the caller ends there. */
static int client_connect(FIXTURE_DATA(stack) *self, int lfd, uint16_t port,
			  int *srv)
{
	int cli;

	if (enter_host(self, 1))
		return -1;
	cli = stack_connect(self->family, SERVER_IP, port);
	if (cli < 0)
		return -1;
	*srv = accept(lfd, NULL, NULL);
	return *srv < 0 ? -1 : cli;
}

/*
 * A connection from the client to a listener on the server (*@lfd, on
 * *@port): the client's socket, the server's in *@srv. The caller ends in
 * the client's namespace.
 */
static int routed_connection(FIXTURE_DATA(stack) *self, int *lfd, int *srv,
			     uint16_t *port)
{
	*lfd = server_listen(self, port);
	if (*lfd < 0)
		return -1;
	return client_connect(self, *lfd, *port, srv);
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len))
		return 0;
	return ntohs(sin.sin_port);
}

static void expect_icmp_entry(struct __test_metadata *_metadata, int fd,
			      int type, int code, int err, uint16_t port)
{
	struct icmp_err_seen seen;

	ASSERT_EQ(0, read_icmp_error(fd, &seen)) {
		TH_LOG("error queue: %s", strerror(errno));
	}
	EXPECT_EQ(SO_EE_ORIGIN_ICMP, seen.origin);
	EXPECT_EQ(type, seen.type);
	EXPECT_EQ(code, seen.code);
	EXPECT_EQ(err, seen.err);
	EXPECT_STREQ(ROUTER_IP, inet_ntoa(seen.offender.sin_addr));
	EXPECT_STREQ(SERVER_IP, inet_ntoa(seen.dest.sin_addr));
	EXPECT_EQ(port, ntohs(seen.dest.sin_port));
}

/*
 * A connect() the router answers with an ICMP error fails with @err at
 * once, not after the SYN's retries, and with IP_RECVERR the error queue
 * holds the message. @ttl: the SYN's TTL (0: the default).
 */
static void connect_fails_at_once(struct __test_metadata *_metadata,
				  FIXTURE_DATA(stack) *self, int ttl,
				  int type, int code, int err)
{
	struct sockaddr_in sin;
	uint16_t port;
	int lfd, fd;
	int64_t ms;

	lfd = server_listen(self, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, enter_host(self, 1));
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	if (ttl)
		ASSERT_EQ(0, setsockopt_int(fd, SOL_IP, IP_TTL, ttl));
	ASSERT_EQ(0, setsockopt_int(fd, SOL_IP, IP_RECVERR, 1));
	ASSERT_EQ(0, set_nonblock(fd, 1));
	sin = sin_make(SERVER_IP, port);
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EINPROGRESS, errno);
	/* Native fails within milliseconds; the SYN's first resend is at 1 s. */
	ASSERT_EQ(err, connect_result(fd, 5000, &ms));
	TH_LOG("connect failed after %lld ms", (long long)ms);
	EXPECT_GT(900, ms);
	expect_icmp_entry(_metadata, fd, type, code, err, port);
	/* Read once: the queue is empty now. */
	EXPECT_EQ(-1, read_icmp_error(fd, &(struct icmp_err_seen){}));
	close(fd);
	close(lfd);
}

/* The router answers a SYN sent with TTL 1: time exceeded. */
TEST_F(stack, icmp_time_exceeded_fails_connect)
{
	routed_up(_metadata, self);
	if (_metadata->skip)
		return;
	connect_fails_at_once(_metadata, self, 1, ICMP_TIME_EXCEEDED,
			      ICMP_EXC_TTL, EHOSTUNREACH);
}

/* The router has no way to the server: host unreachable. */
TEST_F(stack, icmp_host_unreachable_fails_connect)
{
	routed_up(_metadata, self);
	if (_metadata->skip)
		return;
	ASSERT_EQ(0, on_router(self, "ip route add unreachable %s/32",
			       SERVER_IP));
	connect_fails_at_once(_metadata, self, 0, ICMP_DEST_UNREACH,
			      ICMP_HOST_UNREACH, EHOSTUNREACH);
}

/*
 * "Port unreachable" for our SYN (which the router sends, as a firewall
 * rule's reject would, quoting the SYN it saw) refuses the connection.
 */
TEST_F(stack, icmp_port_unreachable_refuses_connect)
{
	struct sockaddr_in sin = sin_make(SERVER_IP, 5001), any = {
		.sin_family = AF_INET,
	};
	int fd, pfd, proto = stack_ipproto(self->family);
	uint32_t seq, len;
	uint16_t cport;
	int64_t ms;

	routed_up(_metadata, self);
	if (_metadata->skip)
		return;
	ASSERT_LT(0, proto);
	/* The SYN goes no further than the router. */
	ASSERT_EQ(0, on_router(self, "ip route add blackhole %s/32",
			       SERVER_IP));
	ASSERT_EQ(0, enter_router(self));
	pfd = sniff_open("vethr1");
	ASSERT_LE(0, pfd);
	ASSERT_EQ(0, enter_host(self, 1));
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&any, sizeof(any)));
	cport = local_port(fd);
	ASSERT_EQ(0, setsockopt_int(fd, SOL_IP, IP_RECVERR, 1));
	ASSERT_EQ(0, set_nonblock(fd, 1));
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EINPROGRESS, errno);
	ASSERT_EQ(0, sniff_segment(pfd, proto, cport, true, &seq, &len, 2000));
	close(pfd);
	ASSERT_EQ(0, enter_router(self));
	ASSERT_EQ(0, send_icmp_error(CLIENT_IP, ICMP_DEST_UNREACH,
				     ICMP_PORT_UNREACH, 0, proto, CLIENT_IP,
				     cport, SERVER_IP, 5001, seq));
	ASSERT_EQ(ECONNREFUSED, connect_result(fd, 900, &ms));
	expect_icmp_entry(_metadata, fd, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH,
			  ECONNREFUSED, 5001);
	close(fd);
}

/*
 * An open connection whose peer the router cannot reach any more keeps
 * trying (RFC 1122 4.2.3.9: unreachables are soft errors): sends still
 * succeed, and only its timeout reports the error, EHOSTUNREACH instead
 * of ETIMEDOUT. The TCP_USER_TIMEOUT of 3 s ends it; native reports it
 * between 3.0 and 3.3 s.
 */
TEST_F_TIMEOUT(stack, icmp_unreachable_is_soft_on_a_connection, 120)
{
	struct pollfd pfd = { .events = POLLIN };
	static char buf[1000];
	struct tcp_info ti;
	int lfd, cli, srv;
	int64_t start, ms;
	uint16_t port;

	routed_up(_metadata, self);
	if (_metadata->skip)
		return;
	cli = routed_connection(self, &lfd, &srv, &port);
	ASSERT_LE(0, cli);
	ASSERT_EQ(0, setsockopt_int(cli, IPPROTO_TCP, TCP_USER_TIMEOUT,
				    3000));
	ASSERT_EQ(0, on_router(self, "ip route add unreachable %s/32",
			       SERVER_IP));
	start = mono_ms();
	ASSERT_EQ((ssize_t)sizeof(buf), send(cli, buf, sizeof(buf), 0));
	msleep(1500);
	/* Unreachables came back for the data and its resends by now. */
	ASSERT_EQ(0, get_tcp_info(cli, &ti));
	EXPECT_EQ(STATE_ESTABLISHED, ti.tcpi_state);
	EXPECT_EQ(1, send(cli, buf, 1, 0)) TH_LOG("%s", strerror(errno));
	pfd.fd = cli;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ms = mono_ms() - start;
	EXPECT_EQ(-1, recv(cli, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EHOSTUNREACH, errno) TH_LOG("%s", strerror(errno));
	TH_LOG("the error came after %lld ms", (long long)ms);
	EXPECT_LE(2900, ms);
	EXPECT_GT(4500, ms);
	close(cli);
	close(srv);
	close(lfd);
}

/*
 * With IP_RECVERR the next call reports the unreachable at once, and the
 * connection goes on: once the route is back, everything sent arrives.
 * Errors of an open connection do not go to the error queue (native).
 */
TEST_F_TIMEOUT(stack, icmp_recverr_reports_unreachable_at_once, 120)
{
	struct pollfd pfd = { .events = POLLERR };
	static uint8_t buf[3000], got[3000];
	struct tcp_info ti;
	int lfd, cli, srv;
	uint16_t port;
	int64_t start;

	routed_up(_metadata, self);
	if (_metadata->skip)
		return;
	cli = routed_connection(self, &lfd, &srv, &port);
	ASSERT_LE(0, cli);
	ASSERT_EQ(0, setsockopt_int(cli, SOL_IP, IP_RECVERR, 1));
	pattern_fill(buf, sizeof(buf), 0, 7);
	ASSERT_EQ(0, on_router(self, "ip route add unreachable %s/32",
			       SERVER_IP));
	start = mono_ms();
	ASSERT_EQ(1000, send(cli, buf, 1000, 0));
	pfd.fd = cli;
	/* The first unreachable answers the first transmission. */
	ASSERT_EQ(1, poll(&pfd, 1, 3000));
	TH_LOG("POLLERR after %lld ms", (long long)(mono_ms() - start));
	EXPECT_GT(900, mono_ms() - start);
	EXPECT_EQ(-1, send(cli, buf + 1000, 1000, 0));
	EXPECT_EQ(EHOSTUNREACH, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, read_icmp_error(cli, &(struct icmp_err_seen){}));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, get_tcp_info(cli, &ti));
	EXPECT_EQ(STATE_ESTABLISHED, ti.tcpi_state);
	ASSERT_EQ(0, on_router(self, "ip route del unreachable %s/32",
			       SERVER_IP));
	/* A later ICMP may be reported once more: send until it takes. */
	while (send(cli, buf + 1000, 2000, 0) < 0)
		ASSERT_EQ(EHOSTUNREACH, errno);
	ASSERT_EQ(0, shutdown(cli, SHUT_WR));
	ASSERT_EQ((ssize_t)sizeof(got), recv_all(srv, got, sizeof(got)));
	EXPECT_EQ(-1, pattern_check(got, sizeof(got), 0, 7));
	close(cli);
	close(srv);
	close(lfd);
}

/*
 * The link from the router to the server takes 1280 bytes: full-sized
 * segments are dropped there with "fragmentation needed" (DF is set), the
 * sender learns the path MTU (RFC 1191) and resends at the smaller MSS.
 * Native: 4 MiB in about a second under TCG; a sender that ignores the
 * ICMP never gets one full segment through. Once the link is whole again
 * and the learned MTU has expired (net.ipv4.route.mtu_expires: 10 min by
 * default, 3 s here), the MSS grows back with the next send.
 */
TEST_F_TIMEOUT(stack, icmp_frag_needed_lowers_the_path_mtu, 120)
{
	struct tcp_info ti;
	int lfd, cli, srv, mtu;
	uint16_t port;

	routed_up(_metadata, self);
	if (_metadata->skip)
		return;
	ASSERT_EQ(0, on_router(self, "ip link set vethr2 mtu 1280"));
	ASSERT_EQ(0, run_cmd("ip netns exec %s-1 sysctl -qw "
			     "net.ipv4.route.mtu_expires=3", self->netns));
	cli = routed_connection(self, &lfd, &srv, &port);
	ASSERT_LE(0, cli);
	ASSERT_EQ(0, get_tcp_info(cli, &ti));
	EXPECT_EQ(1500u, ti.tcpi_pmtu);
	ASSERT_EQ(0, transfer_checked(cli, srv, xtcp_scaled(4 * MiB, 512 * KiB),
				      3));
	ASSERT_EQ(0, get_tcp_info(cli, &ti));
	EXPECT_EQ(1280u, ti.tcpi_pmtu);
	EXPECT_GE(1280u - 40, ti.tcpi_snd_mss);
	ASSERT_EQ(0, getsockopt_int(cli, SOL_IP, IP_MTU, &mtu));
	EXPECT_EQ(1280, mtu);

	ASSERT_EQ(0, on_router(self, "ip link set vethr2 mtu 1500"));
	msleep(3500);
	ASSERT_EQ(0, transfer_checked(cli, srv, 64 * KiB, 4));
	ASSERT_EQ(0, get_tcp_info(cli, &ti));
	EXPECT_EQ(1500u, ti.tcpi_pmtu);
	EXPECT_LT(1280u - 40, ti.tcpi_snd_mss);
	close(cli);
	close(srv);
	close(lfd);
}

/*
 * The same smaller link (1000 bytes from the router to the server, 1500 at
 * the server's own end, which advertises an MSS of 1460), but the client
 * clears DF (IP_MTU_DISCOVER, IP_PMTUDISC_DONT): the router fragments
 * every full segment instead of answering, and IPv4 on the server puts
 * the fragments together (its Ip ReasmOKs) before either stack sees a
 * segment. The data arrives byte for byte and the client keeps its path
 * MTU and MSS. For 4 MiB (2897 segments of 1448 bytes) the server
 * reassembled 2912 packets on native, 2966 on xtcp: nine tenths at least.
 */
TEST_F_TIMEOUT(stack, fragments_reach_the_receiver_reassembled, 120)
{
	uint64_t len = xtcp_scaled(4 * MiB, 512 * KiB);
	int64_t reasm, frags;
	struct sockaddr_in sin;
	struct tcp_info ti;
	int lfd, cli, srv;
	uint16_t port;

	routed_up(_metadata, self);
	if (_metadata->skip)
		return;
	ASSERT_EQ(0, on_router(self, "ip link set vethr2 mtu 1000"));
	lfd = server_listen(self, &port);
	ASSERT_LE(0, lfd);
	reasm = ip_snmp_counter("ReasmOKs");
	ASSERT_LE(0, reasm);
	ASSERT_EQ(0, enter_router(self));
	frags = ip_snmp_counter("FragOKs");
	ASSERT_LE(0, frags);
	ASSERT_EQ(0, enter_host(self, 1));
	cli = stack_socket(self->family);
	ASSERT_LE(0, cli);
	ASSERT_EQ(0, setsockopt_int(cli, SOL_IP, IP_MTU_DISCOVER,
				    IP_PMTUDISC_DONT));
	sin = sin_make(SERVER_IP, port);
	ASSERT_EQ(0, connect(cli, (struct sockaddr *)&sin, sizeof(sin)))
		TH_LOG("connect: %s", strerror(errno));
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, transfer_checked(cli, srv, len, 5));
	ASSERT_EQ(0, get_tcp_info(cli, &ti));
	ASSERT_EQ(0, enter_router(self));
	frags = ip_snmp_counter("FragOKs") - frags;
	ASSERT_EQ(0, enter_host(self, 2));
	reasm = ip_snmp_counter("ReasmOKs") - reasm;
	TH_LOG("%llu bytes: the router fragmented %lld packets, the server reassembled %lld; client MSS %u, path MTU %u",
	       (unsigned long long)len, (long long)frags, (long long)reasm,
	       ti.tcpi_snd_mss, ti.tcpi_pmtu);
	EXPECT_EQ(1500u, ti.tcpi_pmtu);
	EXPECT_LT(1000u - 40, ti.tcpi_snd_mss);
	EXPECT_LE((int64_t)(len / 1448 * 9 / 10), reasm);
	close(cli);
	close(srv);
	close(lfd);
}

/*
 * Anyone can send ICMP errors (RFC 5927): one that quotes a sequence
 * number the connection has not sent, or has had ACKed, is ignored and
 * counted; one that quotes snd_una is believed. The router sends both,
 * "fragmentation needed" with an MTU of 1000, after seeing where the
 * client's sequence is.
 */
TEST_F(stack, icmp_must_quote_a_sequence_in_flight)
{
	int lfd, cli, srv, pfd, proto = stack_ipproto(self->family);
	int64_t ignored_before, ignored;
	uint16_t port, cport;
	uint32_t next, len;
	struct tcp_info ti;
	char c;

	routed_up(_metadata, self);
	if (_metadata->skip)
		return;
	ASSERT_LT(0, proto);
	cli = routed_connection(self, &lfd, &srv, &port);
	ASSERT_LE(0, cli);
	cport = local_port(cli);
	ignored_before = stack_counter(self->family, "OutOfWindowIcmps",
				       "XtcpOutOfWindowIcmps");
	ASSERT_LE(0, ignored_before);
	ASSERT_EQ(0, enter_router(self));
	pfd = sniff_open("vethr1");
	ASSERT_LE(0, pfd);
	ASSERT_EQ(1, send(cli, "x", 1, 0));
	ASSERT_EQ(1, recv(srv, &c, 1, 0));
	ASSERT_EQ(0, sniff_segment(pfd, proto, cport, false, &next, &len,
				   2000));
	close(pfd);
	next += len;
	/* Half the sequence space away: never sent. */
	ASSERT_EQ(0, send_icmp_error(CLIENT_IP, ICMP_DEST_UNREACH,
				     ICMP_FRAG_NEEDED, 1000, proto, CLIENT_IP,
				     cport, SERVER_IP, port,
				     next + 0x80000000u));
	msleep(300);
	ASSERT_EQ(0, enter_host(self, 1));
	ignored = stack_counter(self->family, "OutOfWindowIcmps",
				"XtcpOutOfWindowIcmps");
	EXPECT_EQ(ignored_before + 1, ignored);
	ASSERT_EQ(0, get_tcp_info(cli, &ti));
	EXPECT_EQ(1500u, ti.tcpi_pmtu);
	ASSERT_EQ(0, enter_router(self));
	ASSERT_EQ(0, send_icmp_error(CLIENT_IP, ICMP_DEST_UNREACH,
				     ICMP_FRAG_NEEDED, 1000, proto, CLIENT_IP,
				     cport, SERVER_IP, port, next));
	msleep(300);
	ASSERT_EQ(0, enter_host(self, 1));
	EXPECT_EQ(ignored, stack_counter(self->family, "OutOfWindowIcmps",
					 "XtcpOutOfWindowIcmps"));
	ASSERT_EQ(0, get_tcp_info(cli, &ti));
	EXPECT_EQ(1000u, ti.tcpi_pmtu);
	EXPECT_GE(1000u - 40, ti.tcpi_snd_mss);
	close(cli);
	close(srv);
	close(lfd);
}

TEST_HARNESS_MAIN
