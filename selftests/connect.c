// SPDX-License-Identifier: GPL-2.0
/*
 * Connection setup over loopback: connect/accept/echo, the addresses the
 * socket reports, accept4 flags, non-blocking accept and connect, and
 * connecting to a port nobody listens on.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/filter.h>

#include "stack.h"

/* A port of this family that is bound but not listening: nobody answers. */
static int closed_port(int family, uint16_t *port)
{
	struct sockaddr_in sin = sin_make("127.0.0.1", 0);
	socklen_t len = sizeof(sin);
	int fd = stack_socket(family);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;	/* kept open so the port stays ours */
}

TEST_F(stack, echo_blocking)
{
	char buf[64];
	int cli, srv;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(5, send(cli, "hello", 5, 0));
	ASSERT_EQ(5, recv_all(srv, buf, 5));
	ASSERT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(5, send(srv, buf, 5, 0));
	ASSERT_EQ(5, recv_all(cli, buf, 5));
	ASSERT_EQ(0, memcmp(buf, "hello", 5));
	close(cli);
	close(srv);
}

TEST_F(stack, sockname_and_peername)
{
	struct sockaddr_in lsin, csin, cpeer, ssin, speer, acc;
	socklen_t len;
	uint16_t port;
	int lfd, cli, srv;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	ASSERT_NE(0, port);

	len = sizeof(lsin);
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&lsin, &len));
	ASSERT_EQ(sizeof(lsin), len);
	ASSERT_EQ(AF_INET, lsin.sin_family);
	ASSERT_EQ(htonl(INADDR_LOOPBACK), lsin.sin_addr.s_addr);
	ASSERT_EQ(port, ntohs(lsin.sin_port));
	len = sizeof(lsin);
	ASSERT_EQ(-1, getpeername(lfd, (struct sockaddr *)&lsin, &len));
	ASSERT_EQ(ENOTCONN, errno);

	cli = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, cli);
	len = sizeof(acc);
	memset(&acc, 0xaa, sizeof(acc));
	srv = accept(lfd, (struct sockaddr *)&acc, &len);
	ASSERT_LE(0, srv);
	ASSERT_EQ(sizeof(acc), len);

	len = sizeof(csin);
	ASSERT_EQ(0, getsockname(cli, (struct sockaddr *)&csin, &len));
	ASSERT_EQ(sizeof(csin), len);
	ASSERT_EQ(AF_INET, csin.sin_family);
	ASSERT_EQ(htonl(INADDR_LOOPBACK), csin.sin_addr.s_addr);
	ASSERT_NE(0, csin.sin_port);
	ASSERT_NE(port, ntohs(csin.sin_port));

	len = sizeof(cpeer);
	ASSERT_EQ(0, getpeername(cli, (struct sockaddr *)&cpeer, &len));
	ASSERT_EQ(sizeof(cpeer), len);
	ASSERT_EQ(AF_INET, cpeer.sin_family);
	ASSERT_EQ(htonl(INADDR_LOOPBACK), cpeer.sin_addr.s_addr);
	ASSERT_EQ(port, ntohs(cpeer.sin_port));

	/* The accepted socket mirrors the client's view. */
	len = sizeof(ssin);
	ASSERT_EQ(0, getsockname(srv, (struct sockaddr *)&ssin, &len));
	ASSERT_EQ(AF_INET, ssin.sin_family);
	ASSERT_EQ(htonl(INADDR_LOOPBACK), ssin.sin_addr.s_addr);
	ASSERT_EQ(port, ntohs(ssin.sin_port));
	len = sizeof(speer);
	ASSERT_EQ(0, getpeername(srv, (struct sockaddr *)&speer, &len));
	ASSERT_EQ(AF_INET, speer.sin_family);
	ASSERT_EQ(csin.sin_addr.s_addr, speer.sin_addr.s_addr);
	ASSERT_EQ(csin.sin_port, speer.sin_port);

	ASSERT_EQ(AF_INET, acc.sin_family);
	ASSERT_EQ(csin.sin_addr.s_addr, acc.sin_addr.s_addr);
	ASSERT_EQ(csin.sin_port, acc.sin_port);

	/* A short buffer is truncated, the true length still reported. */
	len = 4;
	memset(&csin, 0, sizeof(csin));
	ASSERT_EQ(0, getpeername(cli, (struct sockaddr *)&csin, &len));
	ASSERT_EQ(sizeof(csin), len);
	ASSERT_EQ(AF_INET, csin.sin_family);
	ASSERT_EQ(cpeer.sin_port, csin.sin_port);
	ASSERT_EQ(0U, csin.sin_addr.s_addr);

	close(cli);
	close(srv);
	close(lfd);
}

TEST_F(stack, accept4_nonblock_cloexec)
{
	uint16_t port;
	int lfd, c1, c2, s1, s2, fl;
	char b;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	c1 = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, c1);
	c2 = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, c2);

	s1 = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ASSERT_LE(0, s1);
	fl = fcntl(s1, F_GETFL);
	ASSERT_NE(0, fl & O_NONBLOCK);
	ASSERT_EQ(FD_CLOEXEC, fcntl(s1, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(-1, recv(s1, &b, 1, 0));
	ASSERT_EQ(EAGAIN, errno);

	/* Flags are per accept call, not inherited from the listener. */
	s2 = accept(lfd, NULL, NULL);
	ASSERT_LE(0, s2);
	ASSERT_EQ(0, fcntl(s2, F_GETFL) & O_NONBLOCK);
	ASSERT_EQ(0, fcntl(s2, F_GETFD) & FD_CLOEXEC);

	ASSERT_EQ(-1, accept4(lfd, NULL, NULL, 0x40000000));
	ASSERT_EQ(EINVAL, errno);

	close(c1);
	close(c2);
	close(s1);
	close(s2);
	close(lfd);
}

TEST_F(stack, accept_nonblocking_empty_eagain)
{
	struct pollfd pfd;
	uint16_t port;
	int lfd, cli, srv;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, set_nonblock(lfd, 1));
	ASSERT_EQ(-1, accept(lfd, NULL, NULL));
	ASSERT_EQ(EAGAIN, errno);
	pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
	ASSERT_EQ(0, poll(&pfd, 1, 0));

	/* A pending connection makes the listener readable. */
	cli = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, cli);
	ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS));
	ASSERT_EQ(POLLIN, pfd.revents);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(-1, accept(lfd, NULL, NULL));
	ASSERT_EQ(EAGAIN, errno);

	close(cli);
	close(srv);
	close(lfd);
}

TEST_F(stack, accept_order_is_connect_order)
{
	struct sockaddr_in a;
	socklen_t len;
	uint16_t port, cport[4];
	int lfd, c[4], s, i;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	for (i = 0; i < 4; i++) {
		c[i] = stack_connect(self->family, "127.0.0.1", port);
		ASSERT_LE(0, c[i]);
		len = sizeof(a);
		ASSERT_EQ(0, getsockname(c[i], (struct sockaddr *)&a, &len));
		cport[i] = a.sin_port;
		ASSERT_EQ(1, send(c[i], &"0123"[i], 1, 0));
	}
	for (i = 0; i < 4; i++) {
		char b;

		len = sizeof(a);
		s = accept(lfd, (struct sockaddr *)&a, &len);
		ASSERT_LE(0, s);
		ASSERT_EQ(cport[i], a.sin_port);
		ASSERT_EQ(1, recv(s, &b, 1, 0));
		ASSERT_EQ("0123"[i], b);
		close(s);
	}
	for (i = 0; i < 4; i++)
		close(c[i]);
	close(lfd);
}

/*
 * A listener on 127.0.0.1:*@port (0: any) with SO_REUSEPORT set to
 * @reuseport; *@port is the port it got. -1 with errno on failure.
 */
static int reuseport_listener(int family, uint16_t *port, int reuseport)
{
	struct sockaddr_in sin = sin_make("127.0.0.1", *port);
	socklen_t len = sizeof(sin);
	int fd = stack_socket(family), err;

	if (fd < 0)
		return -1;
	if (setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, reuseport) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Accept and close what waits on listener @lfd; how many, or -1. */
static int accept_waiting(int lfd)
{
	int n = 0, fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		close(fd);
		n++;
	}
	return errno == EAGAIN ? n : -1;
}

/*
 * Accept from listeners @l1 (-1: none) and @l2 until @want connections
 * came (or 10 s passed: a handshake's last ACK may still be on its way);
 * the counts in *@n1 and *@n2.
 */
static void accept_both(int l1, int l2, int want, int *n1, int *n2)
{
	int64_t end = mono_ms() + 10000;
	int a, b;

	*n1 = 0;
	*n2 = 0;
	do {
		a = l1 < 0 ? 0 : accept_waiting(l1);
		b = accept_waiting(l2);
		if (a < 0 || b < 0)
			return;
		*n1 += a;
		*n2 += b;
		if (*n1 + *n2 >= want)
			return;
		msleep(10);
	} while (mono_ms() < end);
}

/* @n connections to 127.0.0.1:@port, closed once the handshake is done. */
static int connect_n(int family, uint16_t port, int n)
{
	int i, fd;

	for (i = 0; i < n; i++) {
		fd = stack_connect(family, "127.0.0.1", port);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return 0;
}

#define REUSEPORT_CONNS	32

/*
 * SO_REUSEPORT: listeners of one user on one address and port form a
 * group; each new connection goes to one of them by its 4-tuple's hash
 * (32 connections all to one of two: 2^-31). Closing one leaves the
 * others taking every connection.
 */
TEST_F(stack, so_reuseport_listeners_share_connections)
{
	uint16_t port = 0;
	int l1, l2, n1, n2;

	l1 = reuseport_listener(self->family, &port, 1);
	ASSERT_LE(0, l1) TH_LOG("first listener: %s", strerror(errno));
	l2 = reuseport_listener(self->family, &port, 1);
	ASSERT_LE(0, l2) TH_LOG("second listener: %s", strerror(errno));
	ASSERT_EQ(0, set_nonblock(l1, 1));
	ASSERT_EQ(0, set_nonblock(l2, 1));

	ASSERT_EQ(0, connect_n(self->family, port, REUSEPORT_CONNS));
	accept_both(l1, l2, REUSEPORT_CONNS, &n1, &n2);
	TH_LOG("%d connections: %d to the first listener, %d to the second",
	       REUSEPORT_CONNS, n1, n2);
	EXPECT_EQ(REUSEPORT_CONNS, n1 + n2);
	EXPECT_LT(0, n1);
	EXPECT_LT(0, n2);

	close(l1);
	ASSERT_EQ(0, connect_n(self->family, port, 8));
	accept_both(-1, l2, 8, &n1, &n2);
	EXPECT_EQ(8, n2);
	close(l2);
}

/*
 * A port shared by SO_REUSEPORT: every socket on it must set the option,
 * and all must belong to one user (a second user's socket would steal
 * connections), as native's bind rule.
 */
TEST_F(stack, so_reuseport_needs_every_socket_and_one_user)
{
	uint16_t port = 0, plain_port = 0, p;
	int l1, plain, fd;
	pid_t pid;

	l1 = reuseport_listener(self->family, &port, 1);
	ASSERT_LE(0, l1);
	p = port;
	EXPECT_EQ(-1, reuseport_listener(self->family, &p, 0));
	EXPECT_EQ(EADDRINUSE, errno);

	plain = reuseport_listener(self->family, &plain_port, 0);
	ASSERT_LE(0, plain);
	p = plain_port;
	EXPECT_EQ(-1, reuseport_listener(self->family, &p, 1));
	EXPECT_EQ(EADDRINUSE, errno);

	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		p = port;
		if (setresuid(65534, 65534, 65534))
			_exit(2);
		fd = reuseport_listener(self->family, &p, 1);
		if (fd >= 0)
			_exit(1);
		_exit(errno == EADDRINUSE ? 0 : 3);
	}
	EXPECT_EQ(0, wait_child(pid))
		TH_LOG("another user's SO_REUSEPORT socket: got the port (1), could not change user (2), other error (3)");
	close(plain);
	close(l1);
}

/*
 * Accepted connections keep SO_REUSEPORT (as native's children, cloned
 * from their listener), and so do their TIME_WAIT entries: a new member
 * may join the group while the port has connections in either state (a
 * server restarting one worker at a time).
 */
TEST_F(stack, so_reuseport_group_grows_beside_its_connections)
{
	uint16_t port = 0;
	int l1, l2, l3, cli, srv, v = 0;

	l1 = reuseport_listener(self->family, &port, 1);
	ASSERT_LE(0, l1);
	cli = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, cli);
	srv = accept(l1, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, getsockopt_int(srv, SOL_SOCKET, SO_REUSEPORT, &v));
	EXPECT_EQ(1, v);
	l2 = reuseport_listener(self->family, &port, 1);
	EXPECT_LE(0, l2) TH_LOG("beside an accepted connection: %s",
				strerror(errno));

	/* The server closes first: its side of the port is in TIME_WAIT. */
	close(srv);
	ASSERT_EQ(0, recv(cli, &v, 1, 0));
	close(cli);
	close(l1);
	if (l2 >= 0)
		close(l2);
	ASSERT_LT(0, sockets_in_state(self->family, 6));	/* TIME_WAIT */
	l3 = reuseport_listener(self->family, &port, 1);
	EXPECT_LE(0, l3) TH_LOG("beside a TIME_WAIT entry: %s",
				strerror(errno));
	if (l3 >= 0)
		close(l3);
}

/* A classic BPF program that returns @index: the group member it picks. */
static int attach_reuseport_pick(int fd, unsigned int index)
{
	struct sock_filter code[] = { BPF_STMT(BPF_RET | BPF_K, index) };
	struct sock_fprog prog = { .len = 1, .filter = code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
			  sizeof(prog));
}

/*
 * SO_ATTACH_REUSEPORT_CBPF: the group's program chooses the listener for
 * each new connection (the index of the member, in joining order).
 */
TEST_F(stack, so_reuseport_bpf_program_picks_the_listener)
{
	uint16_t port = 0;
	int l1, l2, n1, n2;

	l1 = reuseport_listener(self->family, &port, 1);
	ASSERT_LE(0, l1);
	l2 = reuseport_listener(self->family, &port, 1);
	ASSERT_LE(0, l2);
	ASSERT_EQ(0, set_nonblock(l1, 1));
	ASSERT_EQ(0, set_nonblock(l2, 1));

	ASSERT_EQ(0, attach_reuseport_pick(l1, 1))
		TH_LOG("SO_ATTACH_REUSEPORT_CBPF: %s", strerror(errno));
	ASSERT_EQ(0, connect_n(self->family, port, 8));
	accept_both(l1, l2, 8, &n1, &n2);
	EXPECT_EQ(0, n1);
	EXPECT_EQ(8, n2);

	ASSERT_EQ(0, attach_reuseport_pick(l2, 0));
	ASSERT_EQ(0, connect_n(self->family, port, 8));
	accept_both(l1, l2, 8, &n1, &n2);
	EXPECT_EQ(8, n1);
	EXPECT_EQ(0, n2);
	close(l1);
	close(l2);
}

TEST_F(stack, connect_closed_port_refused)
{
	uint16_t port;
	int hold, fd;

	hold = closed_port(self->family, &port);
	ASSERT_LE(0, hold);
	fd = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_EQ(-1, fd);
	ASSERT_EQ(ECONNREFUSED, errno);
	close(hold);
}

/*
 * A refused connect leaves a socket that connects afresh: the second
 * connect() on the same descriptor, once a listener is there, makes a
 * connection that carries data both ways (no shutdown, backoff or error
 * left over from the first).
 */
TEST_F(stack, connect_again_after_refused)
{
	struct sockaddr_in sin;
	char buf[64] = "again";
	uint16_t port;
	int hold, fd, lfd, srv;

	hold = closed_port(self->family, &port);
	ASSERT_LE(0, hold);
	sin = sin_make("127.0.0.1", port);
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(ECONNREFUSED, errno);
	ASSERT_EQ(0, listen(hold, 4));
	lfd = hold;
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		TH_LOG("second connect: %s", strerror(errno));
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ((ssize_t)sizeof(buf), send_all(fd, buf, sizeof(buf)))
		TH_LOG("send: %s", strerror(errno));
	ASSERT_EQ((ssize_t)sizeof(buf), recv_all(srv, buf, sizeof(buf)));
	ASSERT_EQ((ssize_t)sizeof(buf), send_all(srv, buf, sizeof(buf)));
	ASSERT_EQ((ssize_t)sizeof(buf), recv_all(fd, buf, sizeof(buf)))
		TH_LOG("recv: %s", strerror(errno));
	EXPECT_STREQ("again", buf);
	close(srv);
	close(fd);
	close(lfd);
}


/*
 * @first closes, @second reads the FIN and closes too: the TIME_WAIT
 * entry is @first's, there 100 ms later.
 */
static void close_first(struct __test_metadata *_metadata, int first,
			int second)
{
	char b;

	close(first);
	ASSERT_EQ(0, recv(second, &b, 1, 0));
	close(second);
	msleep(100);
}
/* Is a socket on local port @port in TIME_WAIT (/proc/net/tcp's columns)? */
static bool time_wait_on(int family, uint16_t port)
{
	FILE *f = fopen(family == AF_INET ? "/proc/net/tcp" : "/proc/net/xtcp",
			"r");
	unsigned int lport, state;
	bool found = false;
	char line[256];

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %*x:%x %*x:%*x %x", &lport, &state) == 2 &&
		    lport == port && state == 6)
			found = true;
	fclose(f);
	return found;
}

/* A socket bound to 127.0.0.1:*@port with SO_REUSEADDR (0: any port). */
static int bound_socket(int family, uint16_t *port)
{
	struct sockaddr_in sin = sin_make("127.0.0.1", *port);
	socklen_t len = sizeof(sin);
	int fd = stack_socket(family);

	if (fd < 0)
		return -1;
	if (setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/*
 * The server closes first and holds the connection in TIME_WAIT; the
 * client's next connection from the same port is taken at once, since its
 * SYN is newer (sequence number, timestamp) than the old connection's
 * (RFC 6191). Without that the SYN draws an ACK, the client answers with a
 * RST, and its SYN comes again a second later.
 */
TEST_F(stack, connect_to_time_wait_peer_at_once)
{
	struct timespec t0, t1;
	uint16_t port, cport = 0;
	struct sockaddr_in sin;
	int lfd, cli, srv;
	long ms;
	char b;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	sin = sin_make("127.0.0.1", port);
	cli = bound_socket(self->family, &cport);
	ASSERT_LE(0, cli);
	ASSERT_EQ(0, connect(cli, (struct sockaddr *)&sin, sizeof(sin)));
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	close_first(_metadata, srv, cli);
	ASSERT_TRUE(time_wait_on(self->family, port));

	cli = bound_socket(self->family, &cport);
	ASSERT_LE(0, cli) TH_LOG("bind to port %u again: %s", cport,
				 strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, connect(cli, (struct sockaddr *)&sin, sizeof(sin)))
		TH_LOG("connect: %s", strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	TH_LOG("connect to the TIME_WAIT peer took %ld ms", ms);
	EXPECT_GT(500, ms);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(1, send(cli, "x", 1, 0));
	ASSERT_EQ(1, recv(srv, &b, 1, 0));
	close(srv);
	close(cli);
	close(lfd);
}

/* TIME_WAIT entries of this namespace (/proc/net/tcp's state 06). */
#define TW_CONNS	5

/*
 * tcp_max_tw_buckets / net.xtcp.max_tw_buckets: in a namespace of its own
 * set to 2, five connections the client closes first leave two TIME_WAIT
 * entries, and the other three are counted as overflows.
 */
TEST_F(stack, time_wait_beyond_max_tw_buckets_not_kept)
{
	const char *knob = self->family == AF_INET ?
			   "/proc/sys/net/ipv4/tcp_max_tw_buckets" :
			   "/proc/sys/net/xtcp/max_tw_buckets";
	int64_t before;
	uint16_t port;
	int lfd, i;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, run_cmd("ip link set lo up"));
	ASSERT_EQ(0, write_sysctl(knob, "2"));
	before = stack_counter(self->family, "TCPTimeWaitOverflow",
			       "XtcpTimeWaitOverflow");
	ASSERT_LE(0, before);
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	for (i = 0; i < TW_CONNS; i++) {
		int cli = stack_connect(self->family, "127.0.0.1", port);
		int srv = accept(lfd, NULL, NULL);

		ASSERT_LE(0, cli);
		ASSERT_LE(0, srv);
		close_first(_metadata, cli, srv);
	}
	msleep(200);
	EXPECT_EQ(2, sockets_in_state(self->family, 6));
	EXPECT_EQ(before + TW_CONNS - 2,
		  stack_counter(self->family, "TCPTimeWaitOverflow",
				"XtcpTimeWaitOverflow"));
	close(lfd);
}

/*
 * A namespace of its own whose ephemeral range is the one port 40000,
 * set after the listeners there took theirs.
 */
static void one_ephemeral_port(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, write_sysctl("/proc/sys/net/ipv4/ip_local_port_range",
				  "40000 40000"));
}

static int local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len))
		return -1;
	return ntohs(sin.sin_port);
}

/*
 * connect()'s local port is unique per 4-tuple, not per host (RFC 6056,
 * native's __inet_hash_connect): with one ephemeral port, connections to
 * two listeners both take it, and a second to the first listener finds
 * no port.
 */
TEST_F(stack, connect_shares_a_local_port_between_destinations)
{
	uint16_t p1, p2;
	int l1, l2, a, b, c;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, run_cmd("ip link set lo up"));
	l1 = stack_listen(self->family, "127.0.0.1", &p1);
	l2 = stack_listen(self->family, "127.0.0.1", &p2);
	ASSERT_LE(0, l1);
	ASSERT_LE(0, l2);
	one_ephemeral_port(_metadata);
	a = stack_connect(self->family, "127.0.0.1", p1);
	ASSERT_LE(0, a) TH_LOG("first connect: %s", strerror(errno));
	b = stack_connect(self->family, "127.0.0.1", p2);
	ASSERT_LE(0, b) TH_LOG("other destination: %s", strerror(errno));
	EXPECT_EQ(40000, local_port(a));
	EXPECT_EQ(40000, local_port(b));
	c = stack_connect(self->family, "127.0.0.1", p1);
	EXPECT_EQ(-1, c);
	EXPECT_EQ(EADDRNOTAVAIL, errno);
	close(a);
	close(b);
	close(l1);
	close(l2);
}

/*
 * The client closed first and its one port's 4-tuple is in TIME_WAIT. A
 * second after the peer's last timestamp, tcp_tw_reuse (xtcp: tw_reuse)
 * 2, the loopback default, lets the next connect() take the 4-tuple over:
 * the entry goes and the new connection carries data. With 0 the connect
 * finds no port.
 */
static void reconnect_over_time_wait(struct __test_metadata *_metadata,
				     FIXTURE_DATA(stack) *self, int reuse)
{
	const char *knob = self->family == AF_INET ?
			   "/proc/sys/net/ipv4/tcp_tw_reuse" :
			   "/proc/sys/net/xtcp/tw_reuse";
	int64_t before, after;
	int lfd, cli, srv;
	uint16_t port;
	char b = 0;

	/* Native's 60 s, whatever XTCP_KO_ARGS says: the entry must last. */
	if (self->family != AF_INET)
		ASSERT_EQ(0, set_host_setting(self,
				"/sys/module/xtcp/parameters/tw_len_ms",
				"60000"));
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, run_cmd("ip link set lo up"));
	ASSERT_EQ(0, write_sysctl_int(knob, reuse));
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	one_ephemeral_port(_metadata);
	cli = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, cli);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	close_first(_metadata, cli, srv);
	ASSERT_EQ(1, sockets_in_state(self->family, 6));
	before = stack_counter(self->family, "TWRecycled", "XtcpTWRecycled");
	ASSERT_LE(0, before);
	msleep(1100);
	ASSERT_EQ(1, sockets_in_state(self->family, 6));

	cli = stack_connect(self->family, "127.0.0.1", port);
	after = stack_counter(self->family, "TWRecycled", "XtcpTWRecycled");
	if (!reuse) {
		EXPECT_EQ(-1, cli);
		EXPECT_EQ(EADDRNOTAVAIL, errno);
		EXPECT_EQ(before, after);
		EXPECT_EQ(1, sockets_in_state(self->family, 6));
		close(lfd);
		return;
	}
	ASSERT_LE(0, cli) TH_LOG("connect over TIME_WAIT: %s", strerror(errno));
	EXPECT_EQ(40000, local_port(cli));
	EXPECT_EQ(before + 1, after);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(1, send(cli, "q", 1, 0));
	ASSERT_EQ(1, recv(srv, &b, 1, 0));
	ASSERT_EQ(1, send(srv, "r", 1, 0));
	ASSERT_EQ(1, recv(cli, &b, 1, 0));
	EXPECT_EQ('r', b);
	msleep(100);
	EXPECT_EQ(0, sockets_in_state(self->family, 6));
	close(cli);
	close(srv);
	close(lfd);
}

TEST_F(stack, connect_reuses_a_time_wait_tuple_after_a_second)
{
	reconnect_over_time_wait(_metadata, self, 2);
}

TEST_F(stack, connect_over_time_wait_refused_without_tw_reuse)
{
	reconnect_over_time_wait(_metadata, self, 0);
}

/*
 * How long the TIME_WAIT entry of a connection to listener @lfd (on
 * @port) that the client closes first lasts: from the server's close, the
 * FIN that starts it, to the client's port leaving TIME_WAIT in this
 * namespace's table, polled every 10 ms; -1 if still there after
 * @limit_ms.
 */
static int64_t time_wait_lasts_ms(struct __test_metadata *_metadata,
				  int family, int lfd, uint16_t port,
				  int64_t limit_ms)
{
	int64_t start, ms;
	int cli, srv, cport;
	char b;

	cli = stack_connect(family, "127.0.0.1", port);
	ASSERT_LE(0, cli);
	cport = local_port(cli);
	ASSERT_LT(0, cport);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	close(cli);
	ASSERT_EQ(0, recv(srv, &b, 1, 0));
	close(srv);
	start = mono_ms();
	do {
		ms = mono_ms() - start;
		if (!time_wait_on(family, cport))
			return ms;
		msleep(10);
	} while (ms <= limit_ms);
	return -1;
}

/*
 * xtcp's tw_len_ms written at run time is the length of every TIME_WAIT
 * entry made after the write (timewait.c reads it as an entry starts),
 * not the one the module was loaded with: at 1000 ms and then at 2500 ms,
 * each entry lasts that long (xtcp under TCG: 1021 and 2745 ms), give or
 * take the timer wheel's granularity (a timer this long fires up to an
 * eighth late) and the polling. Native's TIME_WAIT is TCP_TIMEWAIT_LEN,
 * 60 s, with no setting: its entries outlast both watches.
 */
TEST_F(stack, time_wait_lasts_tw_len_ms_written_at_run_time)
{
	static const struct {
		const char *len;
		int64_t lo, hi;		/* ms, the bounds of xtcp's entry */
	} step[] = { { "1000", 900, 1600 }, { "2500", 2400, 3400 } };
	int64_t ms;
	uint16_t port;
	unsigned int i;
	int lfd;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, run_cmd("ip link set lo up"));
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	for (i = 0; i < ARRAY_SIZE(step); i++) {
		if (self->family != AF_INET && !i) {
			ASSERT_EQ(0, set_host_setting(self,
				"/sys/module/xtcp/parameters/tw_len_ms",
				step[i].len));
		} else if (self->family != AF_INET) {
			ASSERT_EQ(0, set_setting_fd(self->host_setting_fd,
						    step[i].len));
		}
		ms = time_wait_lasts_ms(_metadata, self->family, lfd, port,
					step[i].hi);
		TH_LOG("tw_len_ms %s: the entry lasted %lld ms (-1: past %lld)",
		       step[i].len, (long long)ms, (long long)step[i].hi);
		if (self->family == AF_INET) {
			EXPECT_EQ(-1, ms);
		} else {
			EXPECT_LE(step[i].lo, ms);
			EXPECT_NE(-1, ms);
		}
	}
	close(lfd);
}

TEST_F(stack, connect_nonblocking_einprogress)
{
	struct sockaddr_in sin, peer;
	struct pollfd pfd;
	socklen_t len;
	uint16_t port;
	int lfd, fd, err, srv;
	char b;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_nonblock(fd, 1));
	sin = sin_make("127.0.0.1", port);
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EINPROGRESS, errno);

	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS));
	ASSERT_EQ(POLLOUT, pfd.revents);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_ERROR, &err));
	ASSERT_EQ(0, err);
	len = sizeof(peer);
	ASSERT_EQ(0, getpeername(fd, (struct sockaddr *)&peer, &len));
	ASSERT_EQ(port, ntohs(peer.sin_port));
	/*
	 * The next connect() completes the non-blocking one and returns 0;
	 * only the one after it says EISCONN.
	 */
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EISCONN, errno);

	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(1, send(fd, "x", 1, 0));
	ASSERT_EQ(1, recv(srv, &b, 1, 0));
	ASSERT_EQ('x', b);
	close(srv);
	close(fd);
	close(lfd);
}

TEST_F(stack, connect_nonblocking_refused_so_error)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	uint16_t port;
	int hold, fd, err;

	hold = closed_port(self->family, &port);
	ASSERT_LE(0, hold);
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_nonblock(fd, 1));
	sin = sin_make("127.0.0.1", port);
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT | POLLIN };

	/* The pending error is reported by whichever call comes first... */
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EINPROGRESS, errno);
	ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS));
	ASSERT_EQ(POLLOUT | POLLIN | POLLERR | POLLHUP, pfd.revents);
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(ECONNREFUSED, errno);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_ERROR, &err));
	ASSERT_EQ(0, err);

	/* ...here SO_ERROR, and then connect() has only ECONNABORTED left. */
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EINPROGRESS, errno);
	ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS));
	ASSERT_EQ(POLLOUT | POLLIN | POLLERR | POLLHUP, pfd.revents);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_ERROR, &err));
	ASSERT_EQ(ECONNREFUSED, err);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_ERROR, &err));
	ASSERT_EQ(0, err);
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(ECONNABORTED, errno);

	/* The socket is closed again: a third connect starts over. */
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EINPROGRESS, errno);
	close(fd);
	close(hold);
}

TEST_HARNESS_MAIN

/*
 * A socket connecting to its own address meets its own SYN: the
 * simultaneous open of RFC 9293 3.5 (SYN-SENT -> SYN-RECEIVED ->
 * ESTABLISHED), which native TCP completes; data then loops back to it.
 */
TEST_F(stack, self_connect_simultaneous_open)
{
	struct sockaddr_in sin = sin_make("127.0.0.1", 0);
	socklen_t len = sizeof(sin);
	char buf[8];
	int fd;

	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sin, &len));
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		TH_LOG("connect to self: %s", strerror(errno));
	ASSERT_EQ(4, send(fd, "self", 4, 0));
	ASSERT_EQ(4, recv_all(fd, buf, 4));
	ASSERT_EQ(0, memcmp(buf, "self", 4));
	close(fd);
}
