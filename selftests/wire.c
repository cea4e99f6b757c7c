// SPDX-License-Identifier: GPL-2.0
/*
 * Wire mode (net.xtcp.wire = 1): xtcp speaks plain TCP beside native TCP,
 * and a native peer cannot tell it from one of its own. Every case runs a
 * client of one stack against a server of the other, both ways round, in
 * the two hosts of netns.sh with wire mode on in both; native against
 * native is the oracle (its segments pass the demux too), xtcp against
 * xtcp runs beside.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tcp.h>
#include <netinet/in.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "xtcp_util.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120

#define SERVER_IP	"10.77.0.2"
#define LOOPBACK_IP	"127.0.0.1"

FIXTURE(wire) {
	char netns[32];		/* netns.sh's tag */
	int cli_family;
	int srv_family;
};

FIXTURE_VARIANT(wire) {
	bool cli_xtcp;
	bool srv_xtcp;
	const char *name;
};

FIXTURE_VARIANT_ADD(wire, tcp) {
	.name = "tcp",
};

FIXTURE_VARIANT_ADD(wire, xtcp_to_tcp) {
	.cli_xtcp = true,
	.name = "xtcp_to_tcp",
};

FIXTURE_VARIANT_ADD(wire, tcp_to_xtcp) {
	.srv_xtcp = true,
	.name = "tcp_to_xtcp",
};

FIXTURE_VARIANT_ADD(wire, xtcp) {
	.cli_xtcp = true,
	.srv_xtcp = true,
	.name = "xtcp",
};

/*
 * The debug lane (XTCP_VARIANTS="xtcp": its detectors watch xtcp's code)
 * runs the two cross-stack variants of these cases only: the demux on
 * loopback and across veth, the guards, the demux leaving native's
 * connections alone, and ICMP errors split between the stacks. A case
 * costs about 17 s there (namespaces and veth pairs set up under KASAN):
 * all of them would add 20 minutes to it. The others run in make check.
 */
static const char debug_lane_cases[] =
	"loopback_exchange veth_exchange port_in_use_for_the_other_stack "
	"connection_outlives_its_listener_beside_a_new_one "
	"icmp_frag_needed_lowers_the_path_mtu";

/*
 * XTCP_CASES and XTCP_VARIANTS as stack.h reads them; "xtcp" alone in
 * XTCP_VARIANTS (the debug lane's) takes the cross-stack variants of
 * debug_lane_cases.
 */
static bool wire_case_selected(const FIXTURE_VARIANT(wire) *v,
			       const char *test)
{
	const char *cases = getenv("XTCP_CASES");
	const char *variants = getenv("XTCP_VARIANTS");
	char want[256];

	if (variants && *variants) {
		if (word_listed(variants, "xtcp") &&
		    !word_listed(variants, "tcp")) {
			if (v->cli_xtcp == v->srv_xtcp ||
			    !word_listed(debug_lane_cases, test))
				return false;
		} else if (!word_listed(variants, v->name)) {
			return false;
		}
	}
	if (!cases || !*cases)
		return true;
	snprintf(want, sizeof(want), "%s.%s", v->name, test);
	return word_listed(cases, want);
}

/* Into TAG-1 (the client's host) or TAG-2 (the server's): 0 or -1. */
static int enter_host(FIXTURE_DATA(wire) *self, int host)
{
	char ns[48];

	snprintf(ns, sizeof(ns), "%s-%d", self->netns, host);
	return enter_netns(ns);
}

FIXTURE_SETUP(wire)
{
	if (!wire_case_selected(variant, _metadata->name))
		SKIP_NOT_SELECTED();
	signal(SIGPIPE, SIG_IGN);
	self->cli_family = variant->cli_xtcp ? xtcp_family() : AF_INET;
	self->srv_family = variant->srv_xtcp ? xtcp_family() : AF_INET;
	snprintf(self->netns, sizeof(self->netns), "xtcpw%d", getpid());
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' up %s", self_dir(), self->netns));
	/*
	 * Both hosts in wire mode, the oracle's too when the module is
	 * there: native TCP's segments then pass the demux.
	 */
	if (variant->cli_xtcp || variant->srv_xtcp ||
	    !access("/proc/sys/net/xtcp/wire", F_OK))
		ASSERT_EQ(0, run_cmd("'%s/netns.sh' sysctl %s net.xtcp.wire=1",
				     self_dir(), self->netns));
}

FIXTURE_TEARDOWN(wire)
{
	if (self->netns[0])
		run_cmd("'%s/netns.sh' down %s", self_dir(), self->netns);
}

/* A listener of the server's stack in TAG-@host on @ip, its port in *port. */
static int listen_in(FIXTURE_DATA(wire) *self, int host, const char *ip,
		     uint16_t *port)
{
	if (enter_host(self, host))
		return -1;
	*port = 0;
	return stack_listen(self->srv_family, ip, port);
}

/*
 * A connection from the client's stack in TAG-1 to @ip:@port, where
 * listener @lfd waits: the client's socket, the server's in *srv. The
 * caller is left in TAG-1.
 */
static int connect_pair(FIXTURE_DATA(wire) *self, int lfd, const char *ip,
			uint16_t port, int *srv)
{
	int cli;

	if (enter_host(self, 1))
		return -1;
	cli = stack_connect(self->cli_family, ip, port);
	if (cli < 0)
		return -1;
	*srv = accept(lfd, NULL, NULL);
	if (*srv < 0) {
		close(cli);
		return -1;
	}
	return cli;
}

/*
 * @len bytes each way, checked byte for byte: the client sends and shuts
 * its side, a child on the server's socket reads to the end and answers
 * with a stream of its own. 0, or a step that failed.
 */
static int exchange(struct __test_metadata *_metadata, int cli, int srv,
		    uint64_t len)
{
	int64_t bad = -1;
	ssize_t got;
	pid_t pid;

	pid = fork_child();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(cli);
		got = recv_pattern(srv, len + 1, 1, &bad);
		if (got != (ssize_t)len || bad >= 0)
			_exit(1);
		if (send_pattern(srv, len, 2) != (ssize_t)len)
			_exit(2);
		_exit(close(srv) ? 3 : 0);
	}
	close(srv);
	EXPECT_EQ((ssize_t)len, send_pattern(cli, len, 1));
	EXPECT_EQ(0, shutdown(cli, SHUT_WR));
	got = recv_pattern(cli, len + 1, 2, &bad);
	EXPECT_EQ((ssize_t)len, got);
	EXPECT_EQ(-1, bad);
	EXPECT_EQ(0, wait_child(pid)) {
		TH_LOG("server side: 1 wrong stream, 2 send, 3 close");
	}
	return close(cli);
}

/* Native TCP's count of RSTs sent in this namespace. */
static int64_t native_rsts(void)
{
	return stack_snmp_counter("OutRsts");
}

/*
 * Both stacks on loopback in one namespace: the bytes arrive intact both
 * ways, native's table holds exactly the native ends (it never takes an
 * xtcp connection's segments), and nobody sends a RST.
 */
TEST_F(wire, loopback_exchange)
{
	int native_ends = !variant->cli_xtcp + !variant->srv_xtcp;
	uint64_t len = xtcp_scaled(4 << 20, 256 << 10);
	int64_t rsts;
	uint16_t port;
	int lfd, cli, srv;

	lfd = listen_in(self, 1, LOOPBACK_IP, &port);
	ASSERT_LE(0, lfd);
	rsts = native_rsts();
	cli = connect_pair(self, lfd, LOOPBACK_IP, port, &srv);
	ASSERT_LE(0, cli);
	/* st 01: ESTABLISHED in /proc/net/tcp */
	EXPECT_EQ(native_ends, sockets_in_state(AF_INET, 1));
	EXPECT_EQ(0, exchange(_metadata, cli, srv, len));
	EXPECT_EQ(rsts, native_rsts());
	close(lfd);
}

/* The same across veth, between the two hosts. */
TEST_F(wire, veth_exchange)
{
	uint64_t len = xtcp_scaled(4 << 20, 256 << 10);
	int64_t cli_rsts, srv_rsts;
	uint16_t port;
	int lfd, cli, srv;

	lfd = listen_in(self, 2, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	srv_rsts = native_rsts();
	ASSERT_EQ(0, enter_host(self, 1));
	cli_rsts = native_rsts();
	cli = connect_pair(self, lfd, SERVER_IP, port, &srv);
	ASSERT_LE(0, cli);
	EXPECT_EQ(!variant->cli_xtcp, sockets_in_state(AF_INET, 1));
	EXPECT_EQ(0, exchange(_metadata, cli, srv, len));
	EXPECT_EQ(cli_rsts, native_rsts());
	ASSERT_EQ(0, enter_host(self, 2));
	EXPECT_EQ(srv_rsts, native_rsts());
	close(lfd);
}

/*
 * A port nobody listens on: native TCP answers the client's SYN with one
 * RST, as it always did, and the client (whichever stack) takes it.
 */
TEST_F(wire, closed_port_is_refused_by_native)
{
	struct sockaddr_in sin;
	int64_t rsts;
	uint16_t port;
	int lfd, fd;

	/* A port just freed: nobody's. */
	lfd = listen_in(self, 2, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	close(lfd);
	rsts = native_rsts();
	ASSERT_EQ(0, enter_host(self, 1));
	fd = stack_socket(self->cli_family);
	ASSERT_LE(0, fd);
	sin = sin_make(SERVER_IP, port);
	EXPECT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_EQ(ECONNREFUSED, errno);
	close(fd);
	ASSERT_EQ(0, enter_host(self, 2));
	EXPECT_EQ(rsts + 1, native_rsts());
}

/*
 * The server host's firewall drops SYNs to the port: the connection waits
 * as native's does, then completes on a retransmitted SYN once the rule
 * is gone. The rule counts what it dropped, xtcp's or native's alike.
 */
TEST_F(wire, server_firewall_applies)
{
	struct pollfd pfd = { .events = POLLOUT };
	struct sockaddr_in sin;
	int lfd, fd, err;
	uint16_t port;

	lfd = listen_in(self, 2, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, run_cmd("ip netns exec %s-2 nft 'add table ip xtcpw; "
			     "add chain ip xtcpw c { type filter hook input "
			     "priority 0; }; add rule ip xtcpw c tcp dport %u "
			     "counter drop'", self->netns, port));
	ASSERT_EQ(0, enter_host(self, 1));
	fd = stack_socket(self->cli_family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_nonblock(fd, 1));
	sin = sin_make(SERVER_IP, port);
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EINPROGRESS, errno);
	pfd.fd = fd;
	/* The first SYN and its retransmission a second later: dropped. */
	EXPECT_EQ(0, poll(&pfd, 1, 1500));
	EXPECT_EQ(0, run_cmd("ip netns exec %s-2 nft list chain ip xtcpw c | "
			     "grep -Eq 'packets [1-9]'", self->netns));
	ASSERT_EQ(0, run_cmd("ip netns exec %s-2 nft delete table ip xtcpw",
			     self->netns));
	/* The next retransmission, 3 s after the first SYN, gets through. */
	EXPECT_EQ(1, poll(&pfd, 1, 5000));
	EXPECT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_ERROR, &err));
	EXPECT_EQ(0, err);
	close(fd);
	close(lfd);
}

/* TCP_INFO's options and MSS at both ends of a veth connection. */
static void expect_options(struct __test_metadata *_metadata, int cli,
			   int srv, unsigned int opts, unsigned int mss)
{
	const unsigned int mask = TCPI_OPT_SACK | TCPI_OPT_TIMESTAMPS |
				  TCPI_OPT_WSCALE;
	struct tcp_info ci, si;

	ASSERT_EQ(0, get_tcp_info(cli, &ci));
	ASSERT_EQ(0, get_tcp_info(srv, &si));
	EXPECT_EQ(opts, ci.tcpi_options & mask);
	EXPECT_EQ(opts, si.tcpi_options & mask);
	EXPECT_EQ(mss, ci.tcpi_snd_mss);
	EXPECT_EQ(mss, si.tcpi_snd_mss);
}

/* Both offer everything: each end sees the other's offer taken. */
TEST_F(wire, options_negotiated)
{
	uint16_t port;
	int lfd, cli, srv;

	lfd = listen_in(self, 2, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	cli = connect_pair(self, lfd, SERVER_IP, port, &srv);
	ASSERT_LE(0, cli);
	/* 1500 - 20 - 20, less the 12 of the timestamps option */
	expect_options(_metadata, cli, srv, TCPI_OPT_SACK |
		       TCPI_OPT_TIMESTAMPS | TCPI_OPT_WSCALE, 1448);
	EXPECT_EQ(0, exchange(_metadata, cli, srv, 256 << 10));
	close(lfd);
}

/*
 * Host @host (1: the client's, 2: the server's) offers neither SACK,
 * timestamps nor window scaling: the other end, of either stack, must do
 * without all three.
 */
static void refused_by(struct __test_metadata *_metadata,
		       FIXTURE_DATA(wire) *self, int host, bool xtcp)
{
	const char *pfx = xtcp ? "net.xtcp." : "net.ipv4.tcp_";
	uint16_t port;
	int lfd, cli, srv;

	ASSERT_EQ(0, run_cmd("ip netns exec %s-%d sysctl -qw %ssack=0 "
			     "%stimestamps=0 %swindow_scaling=0", self->netns,
			     host, pfx, pfx, pfx));
	lfd = listen_in(self, 2, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	cli = connect_pair(self, lfd, SERVER_IP, port, &srv);
	ASSERT_LE(0, cli);
	expect_options(_metadata, cli, srv, 0, 1460);
	EXPECT_EQ(0, exchange(_metadata, cli, srv, 256 << 10));
	close(lfd);
}

TEST_F(wire, options_refused_by_server)
{
	refused_by(_metadata, self, 2, variant->srv_xtcp);
}

TEST_F(wire, options_refused_by_client)
{
	refused_by(_metadata, self, 1, variant->cli_xtcp);
}

/*
 * The client's TCP_MAXSEG of 1000 goes out as its MSS option: both ends
 * send at most 1000 bytes a segment, less the timestamps option.
 */
TEST_F(wire, mss_clamped_by_client)
{
	struct sockaddr_in sin = sin_make(SERVER_IP, 0);
	uint16_t port;
	int lfd, cli, srv;

	lfd = listen_in(self, 2, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, enter_host(self, 1));
	cli = stack_socket(self->cli_family);
	ASSERT_LE(0, cli);
	ASSERT_EQ(0, setsockopt_int(cli, IPPROTO_TCP, TCP_MAXSEG, 1000));
	sin.sin_port = htons(port);
	ASSERT_EQ(0, connect(cli, (struct sockaddr *)&sin, sizeof(sin)));
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	expect_options(_metadata, cli, srv, TCPI_OPT_SACK |
		       TCPI_OPT_TIMESTAMPS | TCPI_OPT_WSCALE, 988);
	EXPECT_EQ(0, exchange(_metadata, cli, srv, 256 << 10));
	close(lfd);
}

/* A socket of @family bound to 0.0.0.0:@port, SO_REUSEADDR if @reuse. */
static int bind_any(int family, uint16_t port, bool reuse, int *err)
{
	struct sockaddr_in sin = sin_make("0.0.0.0", port);
	int fd = stack_socket(family);

	*err = 0;
	if (fd < 0 || (reuse && setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)))
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		*err = errno;
		close(fd);
		return -1;
	}
	return fd;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len))
		return 0;
	return ntohs(sin.sin_port);
}

/*
 * One port space: a port the server's stack listens on is in use for the
 * client's stack until the listener closes, then free at once; native's
 * table shows native's listeners only (xtcp's hold of the port in it is
 * no listener).
 */
TEST_F(wire, port_in_use_for_the_other_stack)
{
	int a, b, err;
	uint16_t port;

	ASSERT_EQ(0, enter_host(self, 1));
	a = bind_any(self->srv_family, 0, false, &err);
	ASSERT_LE(0, a);
	port = local_port(a);
	ASSERT_NE(0, port);
	b = bind_any(self->cli_family, port, false, &err);
	EXPECT_EQ(-1, b);
	EXPECT_EQ(EADDRINUSE, err);
	ASSERT_EQ(0, listen(a, 8));
	/* st 0A: LISTEN in /proc/net/tcp */
	EXPECT_EQ(!variant->srv_xtcp, sockets_in_state(AF_INET, 10));
	b = bind_any(self->cli_family, port, true, &err);
	EXPECT_EQ(-1, b);
	EXPECT_EQ(EADDRINUSE, err);
	close(a);
	b = bind_any(self->cli_family, port, false, &err);
	EXPECT_LE(0, b) {
		TH_LOG("bind after the listener closed: %s", strerror(err));
	}
	close(b);
}

/*
 * SO_REUSEADDR across the stacks, as between two native sockets: both
 * may be bound while neither listens, one may then listen, and while it
 * does the other may not, nor may a third socket bind.
 */
TEST_F(wire, reuseaddr_rules_across_stacks)
{
	int a, b, c, err;
	uint16_t port;

	ASSERT_EQ(0, enter_host(self, 1));
	a = bind_any(self->srv_family, 0, true, &err);
	ASSERT_LE(0, a);
	port = local_port(a);
	b = bind_any(self->cli_family, port, true, &err);
	ASSERT_LE(0, b) {
		TH_LOG("second SO_REUSEADDR bind: %s", strerror(err));
	}
	EXPECT_EQ(0, listen(a, 8));
	EXPECT_EQ(-1, listen(b, 8));
	EXPECT_EQ(EADDRINUSE, errno);
	c = bind_any(self->cli_family, port, true, &err);
	EXPECT_EQ(-1, c);
	EXPECT_EQ(EADDRINUSE, err);
	close(a);
	EXPECT_EQ(0, listen(b, 8));
	close(b);
}

/*
 * Ephemeral ports: with the range down to one port that the server's
 * stack holds by bind(), the client's stack has none to connect from;
 * once it is let go the client takes it, and then holds it against a
 * bind() of the server's stack.
 */
TEST_F(wire, ephemeral_ports_never_collide)
{
	struct sockaddr_in sin;
	int lfd, a, fd, err;
	uint16_t lport, port;

	lfd = listen_in(self, 1, LOOPBACK_IP, &lport);
	ASSERT_LE(0, lfd);
	a = bind_any(self->srv_family, 0, false, &err);
	ASSERT_LE(0, a);
	port = local_port(a);
	ASSERT_EQ(0, run_cmd("ip netns exec %s-1 sysctl -qw "
			     "net.ipv4.ip_local_port_range='%u %u'",
			     self->netns, port, port));
	sin = sin_make(LOOPBACK_IP, lport);
	fd = stack_socket(self->cli_family);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_EQ(EADDRNOTAVAIL, errno);
	close(fd);
	close(a);
	fd = stack_socket(self->cli_family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		TH_LOG("connect after the port was let go: %s",
		       strerror(errno));
	}
	EXPECT_EQ(port, local_port(fd));
	a = bind_any(self->srv_family, port, false, &err);
	EXPECT_EQ(-1, a);
	EXPECT_EQ(EADDRINUSE, err);
	close(fd);
	close(lfd);
}

/*
 * Loss, reordering and delay on the veth between the stacks (netem on
 * both ends): recovery across the two stacks, both directions intact.
 */
TEST_F(wire, veth_exchange_with_loss_and_reordering)
{
	uint64_t len = xtcp_scaled(1 << 20, 128 << 10);
	uint16_t port;
	int lfd, cli, srv, r;

	r = run_cmd("'%s/netns.sh' netem %s delay 5ms reorder 10%% 50%% "
		    "loss 1%%", self_dir(), self->netns);
	if (r == 2 && !getenv("XTCP_REQUIRE_NETEM"))
		SKIP(return, "netem not available (sch_netem)");
	ASSERT_EQ(0, r);
	recv_stall_ms = 60000;
	lfd = listen_in(self, 2, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	cli = connect_pair(self, lfd, SERVER_IP, port, &srv);
	ASSERT_LE(0, cli);
	EXPECT_EQ(0, exchange(_metadata, cli, srv, len));
	close(lfd);
}

/*
 * Both ends close at once, their FINs crossing on a 20 ms link: each goes
 * through CLOSING to TIME_WAIT, in its own stack's table.
 */
TEST_F(wire, simultaneous_close)
{
	int lfd, cli, srv, tw;
	uint16_t port;
	char buf[1];

	ASSERT_EQ(0, run_cmd("'%s/netns.sh' netem %s delay 10ms", self_dir(),
			     self->netns));
	lfd = listen_in(self, 2, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	cli = connect_pair(self, lfd, SERVER_IP, port, &srv);
	ASSERT_LE(0, cli);
	ASSERT_EQ(0, shutdown(cli, SHUT_WR));
	ASSERT_EQ(0, shutdown(srv, SHUT_WR));
	EXPECT_EQ(0, recv(cli, buf, 1, 0));
	EXPECT_EQ(0, recv(srv, buf, 1, 0));
	close(cli);
	close(srv);
	close(lfd);
	msleep(200);
	/* st 06: TIME_WAIT, in /proc/net/tcp or /proc/net/xtcp */
	tw = sockets_in_state(self->cli_family, 6);
	EXPECT_EQ(1, tw);
	ASSERT_EQ(0, enter_host(self, 2));
	tw = sockets_in_state(self->srv_family, 6);
	EXPECT_EQ(1, tw);
}

/*
 * A close with SO_LINGER 0 resets the connection: the other end, of the
 * other stack, sees ECONNRESET, whichever end closes.
 */
static void reset_by(struct __test_metadata *_metadata,
		     FIXTURE_DATA(wire) *self, bool client_resets)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int lfd, cli, srv, closer, other;
	uint16_t port;
	char buf[1];

	lfd = listen_in(self, 2, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	cli = connect_pair(self, lfd, SERVER_IP, port, &srv);
	ASSERT_LE(0, cli);
	closer = client_resets ? cli : srv;
	other = client_resets ? srv : cli;
	ASSERT_EQ(0, setsockopt(closer, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	close(closer);
	EXPECT_EQ(-1, recv(other, buf, 1, 0));
	EXPECT_EQ(ECONNRESET, errno);
	close(other);
	close(lfd);
}

TEST_F(wire, reset_by_client)
{
	reset_by(_metadata, self, true);
}

TEST_F(wire, reset_by_server)
{
	reset_by(_metadata, self, false);
}

/*
 * A connection outlives its listener while a new listener of the other
 * stack takes the port (SO_REUSEADDR, as a restarted server does): the
 * old connection's segments stay with its own stack, in both directions,
 * though on loopback early demux does not find it first.
 */
TEST_F(wire, connection_outlives_its_listener_beside_a_new_one)
{
	int a, b, cli, srv, err;
	uint16_t port;
	char buf[4];

	ASSERT_EQ(0, enter_host(self, 1));
	a = bind_any(self->srv_family, 0, true, &err);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, listen(a, 8));
	port = local_port(a);
	cli = stack_connect(self->cli_family, LOOPBACK_IP, port);
	ASSERT_LE(0, cli);
	srv = accept(a, NULL, NULL);
	ASSERT_LE(0, srv);
	close(a);
	b = bind_any(self->cli_family, port, true, &err);
	ASSERT_LE(0, b) {
		TH_LOG("bind beside the connection: %s", strerror(err));
	}
	ASSERT_EQ(0, listen(b, 8));
	EXPECT_EQ(4, send(cli, "ping", 4, 0));
	EXPECT_EQ(4, recv_all(srv, buf, 4));
	EXPECT_EQ(4, send(srv, "pong", 4, 0));
	EXPECT_EQ(4, recv_all(cli, buf, 4));
	EXPECT_EQ(0, memcmp(buf, "pong", 4));
	close(cli);
	close(srv);
	close(b);
}

/* ---- ICMP errors through a router: netns.sh routed ---------------------- */

#define ROUTED_SERVER_IP	"10.77.1.2"

/*
 * The hosts again, joined through a router TAG-r (netns.sh routed), in
 * wire mode as the fixture set them up.
 */
static void hosts_routed(struct __test_metadata *_metadata,
			 FIXTURE_DATA(wire) *self,
			 const FIXTURE_VARIANT(wire) *variant)
{
	int r = run_cmd("'%s/netns.sh' routed %s 1gbit", self_dir(),
			self->netns);

	if (r == 2 && !getenv("XTCP_REQUIRE_NETEM"))
		SKIP(return, "tbf or netem not available");
	ASSERT_EQ(0, r);
	if (variant->cli_xtcp || variant->srv_xtcp ||
	    !access("/proc/sys/net/xtcp/wire", F_OK))
		ASSERT_EQ(0, run_cmd("'%s/netns.sh' sysctl %s net.xtcp.wire=1",
				     self_dir(), self->netns));
}

/*
 * The router cannot reach the server: its "host unreachable" fails the
 * client's connect() at once, whichever stack sent the SYN (the demux
 * gives the ICMP error to the stack whose connection it quotes).
 */
TEST_F(wire, icmp_host_unreachable_fails_connect)
{
	struct sockaddr_in sin = sin_make(ROUTED_SERVER_IP, 5001);
	struct pollfd pfd = { .events = POLLOUT };
	int64_t start;
	int fd, err;

	hosts_routed(_metadata, self, variant);
	if (_metadata->skip)
		return;
	ASSERT_EQ(0, run_cmd("ip netns exec %s-r ip route add unreachable "
			     ROUTED_SERVER_IP "/32", self->netns));
	ASSERT_EQ(0, enter_host(self, 1));
	fd = stack_socket(self->cli_family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_nonblock(fd, 1));
	start = mono_ms();
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EINPROGRESS, errno);
	pfd.fd = fd;
	ASSERT_EQ(1, poll(&pfd, 1, 5000));
	/* Native: within milliseconds; the SYN's first resend is at 1 s. */
	EXPECT_GT(900, mono_ms() - start);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_ERROR, &err));
	EXPECT_EQ(EHOSTUNREACH, err);
	close(fd);
}

/*
 * The link from the router to the server takes 1280 bytes: the client's
 * full-sized segments come back as "fragmentation needed", and the
 * client, of either stack, lowers its path MTU and gets its bytes across.
 */
TEST_F_TIMEOUT(wire, icmp_frag_needed_lowers_the_path_mtu, 180)
{
	uint64_t len = xtcp_scaled(4 << 20, 256 << 10);
	struct tcp_info ti;
	uint16_t port;
	int lfd, cli, srv;

	hosts_routed(_metadata, self, variant);
	if (_metadata->skip)
		return;
	ASSERT_EQ(0, run_cmd("ip netns exec %s-r ip link set vethr2 mtu 1280",
			     self->netns));
	lfd = listen_in(self, 2, ROUTED_SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	cli = connect_pair(self, lfd, ROUTED_SERVER_IP, port, &srv);
	ASSERT_LE(0, cli);
	/* One way: the server's ACKs are small enough for the link. */
	ASSERT_EQ(0, transfer_checked(cli, srv, len, 1));
	ASSERT_EQ(0, get_tcp_info(cli, &ti));
	EXPECT_EQ(1280u, ti.tcpi_pmtu);
	EXPECT_GE(1280u - 40, ti.tcpi_snd_mss);
	close(cli);
	close(srv);
	close(lfd);
}

TEST_HARNESS_MAIN
