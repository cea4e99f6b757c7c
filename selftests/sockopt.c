// SPDX-License-Identifier: GPL-2.0
/*
 * recv flags (MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT), timeouts and low-water
 * marks, SIOCINQ/SIOCOUTQ, TCP_NODELAY, TCP_MAXSEG and the SO_SNDBUF /
 * SO_RCVBUF bookkeeping, all as native TCP reports them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "stack.h"

/* What a native TCP socket reports for the same query: the oracle. */
static int native_opt_after_set(int level, int name, int set)
{
	int fd = stack_socket(AF_INET), v = -1;

	if (fd < 0)
		return -1;
	if (setsockopt_int(fd, level, name, set) ||
	    getsockopt_int(fd, level, name, &v))
		v = -1;
	close(fd);
	return v;
}

TEST_F(stack, msg_peek_leaves_data_queued)
{
	char buf[16];
	int cli, srv;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(6, send(cli, "abcdef", 6, 0));
	ASSERT_EQ(6, wait_inq(srv, 6, WAIT_MS));
	ASSERT_EQ(3, recv(srv, buf, 3, MSG_PEEK));
	ASSERT_EQ(0, memcmp(buf, "abc", 3));
	ASSERT_EQ(6, recv(srv, buf, sizeof(buf), MSG_PEEK));
	ASSERT_EQ(0, memcmp(buf, "abcdef", 6));
	ASSERT_EQ(6, sock_inq(srv));
	ASSERT_EQ(2, recv(srv, buf, 2, 0));
	ASSERT_EQ(0, memcmp(buf, "ab", 2));
	ASSERT_EQ(4, recv(srv, buf, sizeof(buf), MSG_PEEK));
	ASSERT_EQ(0, memcmp(buf, "cdef", 4));
	ASSERT_EQ(4, recv(srv, buf, sizeof(buf), 0));
	ASSERT_EQ(0, memcmp(buf, "cdef", 4));
	ASSERT_EQ(0, sock_inq(srv));
	ASSERT_EQ(-1, recv(srv, buf, 1, MSG_PEEK | MSG_DONTWAIT));
	ASSERT_EQ(EAGAIN, errno);
	close(cli);
	close(srv);
}

struct dribble {
	int fd;
	int pieces;
	int size;
};

/* Send pieces with pauses so the receiver sees them arrive separately. */
static void *dribble(void *arg)
{
	struct dribble *d = arg;
	uint8_t buf[4096];
	int i;

	for (i = 0; i < d->pieces; i++) {
		msleep(50);
		pattern_fill(buf, d->size, (uint64_t)i * d->size, 9);
		if (send_all(d->fd, buf, d->size) != d->size)
			break;
	}
	return NULL;
}

TEST_F(stack, msg_waitall_waits_for_full_count)
{
	struct dribble d = { .pieces = 4, .size = 1000 };
	uint8_t buf[4000];
	int cli, srv;
	pthread_t t;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	d.fd = cli;
	ASSERT_EQ(0, pthread_create(&t, NULL, dribble, &d));
	ASSERT_EQ(4000, recv(srv, buf, sizeof(buf), MSG_WAITALL));
	ASSERT_EQ(-1, pattern_check(buf, sizeof(buf), 0, 9));
	ASSERT_EQ(0, pthread_join(t, NULL));

	/* EOF ends a WAITALL read early with what there is. */
	ASSERT_EQ(10, send(cli, buf, 10, 0));
	ASSERT_EQ(0, shutdown(cli, SHUT_WR));
	ASSERT_EQ(10, recv(srv, buf, sizeof(buf), MSG_WAITALL));
	close(cli);
	close(srv);
}

TEST_F(stack, msg_dontwait_on_empty_is_eagain)
{
	int cli, srv;
	char c;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(-1, recv(srv, &c, 1, MSG_DONTWAIT));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(1, send(cli, "z", 1, MSG_DONTWAIT));
	ASSERT_EQ(1, wait_inq(srv, 1, WAIT_MS));
	ASSERT_EQ(1, recv(srv, &c, 1, MSG_DONTWAIT));
	ASSERT_EQ('z', c);
	ASSERT_EQ(-1, recv(srv, &c, 1, MSG_DONTWAIT));
	ASSERT_EQ(EAGAIN, errno);
	close(cli);
	close(srv);
}

TEST_F(stack, rcvtimeo_expires_with_eagain)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 }, got;
	socklen_t len = sizeof(got);
	int cli, srv;
	char c;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(0, setsockopt(srv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	ASSERT_EQ(0, getsockopt(srv, SOL_SOCKET, SO_RCVTIMEO, &got, &len));
	ASSERT_EQ(sizeof(got), len);
	ASSERT_EQ(0, got.tv_sec);
	ASSERT_EQ(200000, got.tv_usec);
	ASSERT_EQ(-1, recv(srv, &c, 1, 0));
	ASSERT_EQ(EAGAIN, errno);
	/* Data already queued is returned normally. */
	ASSERT_EQ(1, send(cli, "q", 1, 0));
	ASSERT_EQ(1, wait_inq(srv, 1, WAIT_MS));
	ASSERT_EQ(1, recv(srv, &c, 1, 0));
	ASSERT_EQ('q', c);
	/* An out-of-range timeval is refused. */
	tv.tv_usec = 1000000;
	ASSERT_EQ(-1, setsockopt(srv, SOL_SOCKET, SO_RCVTIMEO, &tv,
				 sizeof(tv)));
	ASSERT_EQ(EDOM, errno);
	close(cli);
	close(srv);
}

TEST_F(stack, rcvlowat_gates_poll_and_recv)
{
	struct pollfd pfd;
	uint8_t buf[2000];
	int cli, srv, v;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(0, getsockopt_int(srv, SOL_SOCKET, SO_RCVLOWAT, &v));
	ASSERT_EQ(1, v);
	ASSERT_EQ(0, setsockopt_int(srv, SOL_SOCKET, SO_RCVLOWAT, 1000));
	ASSERT_EQ(0, getsockopt_int(srv, SOL_SOCKET, SO_RCVLOWAT, &v));
	ASSERT_EQ(1000, v);

	pattern_fill(buf, sizeof(buf), 0, 11);
	ASSERT_EQ(500, send(cli, buf, 500, 0));
	ASSERT_EQ(500, wait_inq(srv, 500, WAIT_MS));
	/* 500 bytes queued, below the mark: not readable. */
	pfd = (struct pollfd){ .fd = srv, .events = POLLIN };
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(500, send(cli, buf + 500, 500, 0));
	ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS));
	ASSERT_EQ(POLLIN, pfd.revents);
	ASSERT_EQ(1000, recv(srv, buf + 1000, 1000, 0));
	ASSERT_EQ(-1, pattern_check(buf + 1000, 1000, 0, 11));

	/* Zero means one byte. */
	ASSERT_EQ(0, setsockopt_int(srv, SOL_SOCKET, SO_RCVLOWAT, 0));
	ASSERT_EQ(0, getsockopt_int(srv, SOL_SOCKET, SO_RCVLOWAT, &v));
	ASSERT_EQ(1, v);
	close(cli);
	close(srv);
}

TEST_F(stack, siocinq_siocoutq_track_queues)
{
	struct pollfd pfd;
	uint16_t port;
	int lfd, cli, srv, v;
	char buf[100];

	/* A listener has no queues to report. */
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(-1, ioctl(lfd, SIOCINQ, &v));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(lfd, SIOCOUTQ, &v));
	ASSERT_EQ(EINVAL, errno);

	cli = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, cli);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, sock_inq(srv));
	ASSERT_EQ(0, sock_outq(cli));

	memset(buf, 'i', sizeof(buf));
	ASSERT_EQ(100, send(cli, buf, 100, 0));
	ASSERT_EQ(100, wait_inq(srv, 100, WAIT_MS));
	/* SIOCOUTQ counts unacknowledged bytes, not unread ones. */
	ASSERT_EQ(0, wait_outq(cli, 0, WAIT_MS));
	ASSERT_EQ(40, recv(srv, buf, 40, 0));
	ASSERT_EQ(60, sock_inq(srv));

	/* The FIN takes a sequence number but is not counted as data. */
	ASSERT_EQ(0, shutdown(cli, SHUT_WR));
	pfd = (struct pollfd){ .fd = srv, .events = POLLRDHUP };
	ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS));
	ASSERT_EQ(60, sock_inq(srv));
	/* ...while on the sender it counts until acknowledged. */
	ASSERT_EQ(0, wait_outq(cli, 0, WAIT_MS));
	ASSERT_EQ(60, recv(srv, buf, sizeof(buf), 0));
	ASSERT_EQ(0, sock_inq(srv));
	ASSERT_EQ(0, recv(srv, buf, sizeof(buf), 0));
	close(cli);
	close(srv);
	close(lfd);
}

TEST_F(stack, siocinq_siocoutq_unconnected_zero)
{
	int fd = stack_socket(self->family);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sock_inq(fd));
	ASSERT_EQ(0, sock_outq(fd));
	close(fd);
}

/* The first 4 KiB sends of @fd (non-blocking) until EAGAIN: the total. */
static ssize_t send_until_full(int fd)
{
	char buf[4 * KiB] = { 0 };
	ssize_t total = 0, n;

	while ((n = send(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += n;
	return errno == EAGAIN ? total : -1;
}

static int sock_outq_nsd(int fd)
{
	int v;

	return ioctl(fd, SIOCOUTQNSD, &v) ? -1 : v;
}

/*
 * SIOCOUTQNSD counts the bytes not yet sent, SIOCOUTQ those not yet
 * acknowledged. Against a receiver that stopped reading, the window
 * closed, every byte sent is acknowledged and both count what is left
 * unsent (native: 36864 bytes queued, 20480 received, both 16384, after
 * a second of stillness; xtcp took 81304, and both count 64920). In a
 * namespace whose input then drops the stack's segments, 1000 bytes sent
 * are unacknowledged but no longer unsent: 1000 and 0, as native's.
 * A listener has neither: EINVAL.
 */
TEST_F(stack, siocoutqnsd_counts_unsent_bytes)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[1000] = { 0 };
	int lfd, cli, srv, v, inq, outq;
	uint16_t port;
	ssize_t queued;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, run_cmd("ip link set lo up"));
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(-1, ioctl(lfd, SIOCOUTQNSD, &v));
	ASSERT_EQ(EINVAL, errno);

	/* Window closed: everything sent is acknowledged. */
	cli = stack_connect_opts(self->family, "127.0.0.1", port, 16 * KiB, 0);
	ASSERT_LE(0, cli);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, sock_outq_nsd(srv));
	ASSERT_EQ(0, setsockopt_int(srv, SOL_SOCKET, SO_SNDBUF, 16 * KiB));
	queued = send_until_full(srv);
	ASSERT_LT(0, queued);
	ASSERT_EQ(0, wait_window_closed(cli, srv, &inq, &outq));
	v = sock_outq_nsd(srv);
	TH_LOG("%zd queued, %d received: SIOCOUTQ %d, SIOCOUTQNSD %d",
	       queued, inq, outq, v);
	EXPECT_LT(0, v);
	EXPECT_EQ(outq, v);
	EXPECT_EQ(queued - inq, v);
	close(cli);
	close(srv);

	/* Sent but never acknowledged: unsent no more. */
	cli = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, cli);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, run_cmd("nft add table ip nsd && "
			     "nft add chain ip nsd in '{ type filter hook input priority 0; }' && "
			     "nft add rule ip nsd in ip protocol %d drop",
			     stack_ipproto(self->family)));
	ASSERT_EQ((ssize_t)sizeof(buf), send(cli, buf, sizeof(buf), 0));
	outq = sock_outq(cli);
	v = sock_outq_nsd(cli);
	TH_LOG("no ACK: SIOCOUTQ %d, SIOCOUTQNSD %d", outq, v);
	EXPECT_EQ((int)sizeof(buf), outq);
	EXPECT_EQ(0, v);
	/* Reset, not left to retransmit. */
	setsockopt(cli, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	setsockopt(srv, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(cli);
	close(srv);
	close(lfd);
}

/* The events of the one socket epoll @ep watches, 0 if none (*@n: 0). */
static int epoll_events(int ep, int timeout_ms, int *n)
{
	struct epoll_event ev[2];

	*n = epoll_wait(ep, ev, 2, timeout_ms);
	return *n == 1 ? (int)ev[0].events : 0;
}

/*
 * Edge-triggered epoll (EPOLLET) of a connection's reader: one wakeup for
 * each arrival of data, whether the earlier data was read or not, and
 * none in between; EPOLLRDHUP once the peer's FIN came. As native's,
 * where each wakeup also reports EPOLLOUT (the socket is writable). And
 * level-triggered, on a sender whose reader stopped: no EPOLLOUT while
 * its buffer is full, EPOLLOUT once the reader made room.
 */
TEST_F(stack, epoll_edge_triggered_in_out_and_rdhup)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP |
					    EPOLLET };
	int ep, lfd, cli, srv, n, e, i, inq, outq;
	char buf[64 * KiB];
	uint16_t port;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev));
	/* Writable from the start: reported once. */
	EXPECT_EQ(EPOLLOUT, epoll_events(ep, 0, &n));
	EXPECT_EQ(0, epoll_events(ep, 0, &n));
	EXPECT_EQ(0, n);

	ASSERT_EQ(10, send(cli, "0123456789", 10, 0));
	e = epoll_events(ep, WAIT_MS, &n);
	EXPECT_EQ(EPOLLIN, e & (EPOLLIN | EPOLLRDHUP)) TH_LOG("events %#x", e);
	EXPECT_EQ(0, epoll_events(ep, 100, &n));
	/* Nothing read: the next data wakes it again, once. */
	ASSERT_EQ(10, send(cli, "0123456789", 10, 0));
	e = epoll_events(ep, WAIT_MS, &n);
	EXPECT_EQ(EPOLLIN, e & (EPOLLIN | EPOLLRDHUP)) TH_LOG("events %#x", e);
	EXPECT_EQ(0, epoll_events(ep, 100, &n));
	EXPECT_EQ(20, recv(srv, buf, sizeof(buf), 0));
	EXPECT_EQ(0, epoll_events(ep, 0, &n));

	ASSERT_EQ(0, shutdown(cli, SHUT_WR));
	e = epoll_events(ep, WAIT_MS, &n);
	EXPECT_EQ(EPOLLIN | EPOLLRDHUP, e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
					     EPOLLERR))
		TH_LOG("events %#x", e);
	EXPECT_EQ(0, epoll_events(ep, 100, &n));
	close(ep);
	close(cli);
	close(srv);

	/*
	 * The sender (accepted, 16 KiB of send buffer) to a reader of 16 KiB
	 * that stopped, level-triggered: no EPOLLOUT while its buffer is
	 * full, EPOLLOUT once the reader made room.
	 */
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	cli = stack_connect_opts(self->family, "127.0.0.1", port, 16 * KiB, 0);
	ASSERT_LE(0, cli);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	close(lfd);
	ASSERT_EQ(0, setsockopt_int(srv, SOL_SOCKET, SO_SNDBUF, 16 * KiB));
	ASSERT_LT(0, send_until_full(srv));
	ASSERT_EQ(0, wait_window_closed(cli, srv, &inq, &outq));
	ASSERT_LE(0, send_until_full(srv));
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ev.events = EPOLLOUT;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev));
	EXPECT_EQ(0, epoll_events(ep, 200, &n));
	EXPECT_EQ(0, n);
	for (i = e = 0; i < WAIT_MS / 10 && !e; i++) {
		while (recv(cli, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
		e = epoll_events(ep, 10, &n);
	}
	EXPECT_EQ(EPOLLOUT, e);
	close(ep);
	close(cli);
	close(srv);
}

/*
 * A RST (the peer closed with SO_LINGER 0) wakes an epoll waiter with
 * EPOLLERR and EPOLLHUP, EPOLLIN and EPOLLRDHUP too (the reset ends both
 * directions), as native's.
 */
TEST_F(stack, epoll_reports_hup_and_err_on_reset)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int ep, cli, srv, n, e;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev));
	EXPECT_EQ(0, epoll_events(ep, 0, &n));
	ASSERT_EQ(0, setsockopt(cli, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	close(cli);
	e = epoll_events(ep, WAIT_MS, &n);
	EXPECT_EQ(EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR,
		  e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		TH_LOG("events %#x", e);
	close(ep);
	close(srv);
}

TEST_F(stack, tcp_nodelay_get_set)
{
	int fd, v, cli, srv;

	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_TCP, TCP_NODELAY, &v));
	ASSERT_EQ(0, v);
	ASSERT_EQ(0, setsockopt_int(fd, SOL_TCP, TCP_NODELAY, 1));
	ASSERT_EQ(0, getsockopt_int(fd, SOL_TCP, TCP_NODELAY, &v));
	ASSERT_EQ(1, v);
	/* Any non-zero value reads back as 1. */
	ASSERT_EQ(0, setsockopt_int(fd, SOL_TCP, TCP_NODELAY, 7));
	ASSERT_EQ(0, getsockopt_int(fd, SOL_TCP, TCP_NODELAY, &v));
	ASSERT_EQ(1, v);
	ASSERT_EQ(0, setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 0));
	ASSERT_EQ(0, getsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, &v));
	ASSERT_EQ(0, v);
	close(fd);

	/* Small writes with NODELAY still arrive whole and in order. */
	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(0, setsockopt_int(cli, SOL_TCP, TCP_NODELAY, 1));
	for (v = 0; v < 100; v++) {
		uint8_t b = v;

		ASSERT_EQ(1, send(cli, &b, 1, 0));
	}
	for (v = 0; v < 100; v++) {
		uint8_t b;

		ASSERT_EQ(1, recv(srv, &b, 1, 0));
		ASSERT_EQ(v, b);
	}
	close(cli);
	close(srv);
}

static void check_int_opt(struct __test_metadata *_metadata, int fd,
			  int name, int want)
{
	int v = -1;

	ASSERT_EQ(0, getsockopt_int(fd, SOL_TCP, name, &v));
	ASSERT_EQ(want, v) TH_LOG("option %d", name);
}

static void check_einval(struct __test_metadata *_metadata, int fd,
			 int name, int val)
{
	ASSERT_EQ(-1, setsockopt_int(fd, SOL_TCP, name, val))
		TH_LOG("option %d value %d accepted", name, val);
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(stack, tcp_keepalive_and_user_timeout_options)
{
	uint16_t port;
	int fd, lfd, cli, srv, v;

	/* Defaults: 2 hours idle, 75 s apart, 9 probes; no user timeout. */
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	check_int_opt(_metadata, fd, TCP_KEEPIDLE, 7200);
	check_int_opt(_metadata, fd, TCP_KEEPINTVL, 75);
	check_int_opt(_metadata, fd, TCP_KEEPCNT, 9);
	check_int_opt(_metadata, fd, TCP_USER_TIMEOUT, 0);
	check_einval(_metadata, fd, TCP_KEEPIDLE, 0);
	check_einval(_metadata, fd, TCP_KEEPIDLE, 32768);
	check_einval(_metadata, fd, TCP_KEEPINTVL, 0);
	check_einval(_metadata, fd, TCP_KEEPINTVL, 32768);
	check_einval(_metadata, fd, TCP_KEEPCNT, 0);
	check_einval(_metadata, fd, TCP_KEEPCNT, 128);
	check_einval(_metadata, fd, TCP_USER_TIMEOUT, -1);
	ASSERT_EQ(0, setsockopt_int(fd, SOL_TCP, TCP_KEEPIDLE, 32767));
	ASSERT_EQ(0, setsockopt_int(fd, SOL_TCP, TCP_KEEPINTVL, 32767));
	ASSERT_EQ(0, setsockopt_int(fd, SOL_TCP, TCP_KEEPCNT, 127));
	ASSERT_EQ(0, setsockopt_int(fd, SOL_TCP, TCP_USER_TIMEOUT, 5000));
	check_int_opt(_metadata, fd, TCP_KEEPIDLE, 32767);
	check_int_opt(_metadata, fd, TCP_KEEPINTVL, 32767);
	check_int_opt(_metadata, fd, TCP_KEEPCNT, 127);
	check_int_opt(_metadata, fd, TCP_USER_TIMEOUT, 5000);
	close(fd);

	/* An accepted socket takes its listener's settings. */
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, setsockopt_int(lfd, SOL_SOCKET, SO_KEEPALIVE, 1));
	ASSERT_EQ(0, setsockopt_int(lfd, SOL_TCP, TCP_KEEPIDLE, 30));
	ASSERT_EQ(0, setsockopt_int(lfd, SOL_TCP, TCP_KEEPINTVL, 5));
	ASSERT_EQ(0, setsockopt_int(lfd, SOL_TCP, TCP_KEEPCNT, 4));
	ASSERT_EQ(0, setsockopt_int(lfd, SOL_TCP, TCP_USER_TIMEOUT, 1234));
	cli = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, cli);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, getsockopt_int(srv, SOL_SOCKET, SO_KEEPALIVE, &v));
	ASSERT_EQ(1, v);
	check_int_opt(_metadata, srv, TCP_KEEPIDLE, 30);
	check_int_opt(_metadata, srv, TCP_KEEPINTVL, 5);
	check_int_opt(_metadata, srv, TCP_KEEPCNT, 4);
	check_int_opt(_metadata, srv, TCP_USER_TIMEOUT, 1234);
	/* Turning keepalive on and off on a live connection is harmless. */
	ASSERT_EQ(0, setsockopt_int(cli, SOL_SOCKET, SO_KEEPALIVE, 1));
	ASSERT_EQ(0, setsockopt_int(cli, SOL_TCP, TCP_KEEPIDLE, 1));
	ASSERT_EQ(0, setsockopt_int(cli, SOL_SOCKET, SO_KEEPALIVE, 0));
	ASSERT_EQ(2, send(cli, "ok", 2, 0));
	ASSERT_EQ(2, recv(srv, &v, 2, MSG_WAITALL));
	close(cli);
	close(srv);
	close(lfd);
}

TEST_F(stack, tcp_maxseg_get_set)
{
	struct sockaddr_in sin;
	uint16_t port;
	int fd, lfd, cli, srv, v;

	/* Before a connection: the RFC default MSS, 536. */
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_TCP, TCP_MAXSEG, &v));
	ASSERT_EQ(536, v);
	ASSERT_EQ(-1, setsockopt_int(fd, SOL_TCP, TCP_MAXSEG, 87));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, setsockopt_int(fd, SOL_TCP, TCP_MAXSEG, 32768));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, setsockopt_int(fd, SOL_TCP, TCP_MAXSEG, 1000));
	ASSERT_EQ(0, getsockopt_int(fd, SOL_TCP, TCP_MAXSEG, &v));
	ASSERT_EQ(1000, v);
	close(fd);

	/*
	 * Loopback (MTU 65536) allows at most 65536 - 20 (IP) - 20 (TCP); the
	 * timestamp option takes 12 more, and native also cuts the MSS to
	 * half the peer's largest window (32741 and 32768 on 6.1), so only
	 * the bound is fixed.
	 */
	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(0, getsockopt_int(cli, SOL_TCP, TCP_MAXSEG, &v));
	ASSERT_GE(65495, v);
	ASSERT_LT(1000, v);
	ASSERT_EQ(0, getsockopt_int(srv, SOL_TCP, TCP_MAXSEG, &v));
	ASSERT_GE(65495, v);
	ASSERT_LT(1000, v);
	close(cli);
	close(srv);

	/*
	 * A clamp set before connect is announced in the SYN and honoured by
	 * both ends: 1000, less 12 when timestamps are on (native: 988).
	 */
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	cli = stack_socket(self->family);
	ASSERT_LE(0, cli);
	ASSERT_EQ(0, setsockopt_int(cli, SOL_TCP, TCP_MAXSEG, 1000));
	sin = sin_make("127.0.0.1", port);
	ASSERT_EQ(0, connect(cli, (struct sockaddr *)&sin, sizeof(sin)));
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, getsockopt_int(cli, SOL_TCP, TCP_MAXSEG, &v));
	ASSERT_TRUE(v == 988 || v == 1000) TH_LOG("client MSS %d", v);
	ASSERT_EQ(0, getsockopt_int(srv, SOL_TCP, TCP_MAXSEG, &fd));
	ASSERT_EQ(v, fd);
	close(cli);
	close(srv);
	close(lfd);
}

/*
 * A peer's MSS bounds whole segments, options included (RFC 9293 3.7.1,
 * RFC 6691): against a listener announcing 88, the smallest TCP_MAXSEG,
 * a client with timestamps sends 76 bytes of data a segment, as native
 * does; and 64 KiB goes through intact in those small segments.
 */
TEST_F(stack, peer_mss_counts_the_timestamp_option)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct tcp_info ti;
	int lfd, cli, srv, v;
	int64_t bad;

	lfd = stack_socket(self->family);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, setsockopt_int(lfd, SOL_TCP, TCP_MAXSEG, 88));
	sin = sin_make("127.0.0.1", 0);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lfd, 4));
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&sin, &len));
	cli = stack_connect(self->family, "127.0.0.1", ntohs(sin.sin_port));
	ASSERT_LE(0, cli);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, get_tcp_info(cli, &ti));
	ASSERT_TRUE(ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
	EXPECT_EQ(76U, ti.tcpi_snd_mss);
	ASSERT_EQ(0, getsockopt_int(cli, SOL_TCP, TCP_MAXSEG, &v));
	EXPECT_EQ(76, v);
	ASSERT_EQ(65536, send_pattern(cli, 65536, 7));
	ASSERT_EQ(0, shutdown(cli, SHUT_WR));
	EXPECT_EQ(65536, recv_pattern(srv, 65536, 7, &bad));
	EXPECT_EQ(-1, bad);
	close(cli);
	close(srv);
	close(lfd);
}

TEST_F(stack, sndbuf_rcvbuf_defaults_from_tcp_sysctls)
{
	int fd, v, wmem, rmem;

	ASSERT_EQ(0, read_int_file("/proc/sys/net/ipv4/tcp_wmem", 1, &wmem));
	ASSERT_EQ(0, read_int_file("/proc/sys/net/ipv4/tcp_rmem", 1, &rmem));
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, &v));
	ASSERT_EQ(wmem, v);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, &v));
	ASSERT_EQ(rmem, v);
	close(fd);
}

TEST_F(stack, sndbuf_rcvbuf_doubled_and_clamped)
{
	int fd, v, wmax, rmax, cli, srv;

	ASSERT_EQ(0, read_int_file("/proc/sys/net/core/wmem_max", 0, &wmax));
	ASSERT_EQ(0, read_int_file("/proc/sys/net/core/rmem_max", 0, &rmax));
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);

	/* The kernel doubles the request for bookkeeping overhead. */
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, 65536));
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, &v));
	ASSERT_EQ(131072, v);
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, 65536));
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, &v));
	ASSERT_EQ(131072, v);

	/* Large requests are capped at core.{w,r}mem_max, then doubled. */
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, 0x7fffffff));
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, &v));
	ASSERT_EQ(2 * wmax, v);
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, 0x7fffffff));
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, &v));
	ASSERT_EQ(2 * rmax, v);

	/* Tiny requests are raised to the kernel's minimum, as native. */
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, 1));
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, &v));
	ASSERT_EQ(native_opt_after_set(SOL_SOCKET, SO_SNDBUF, 1), v);
	ASSERT_LT(2, v);
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, 1));
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, &v));
	ASSERT_EQ(native_opt_after_set(SOL_SOCKET, SO_RCVBUF, 1), v);
	ASSERT_LT(2, v);
	close(fd);

	/* Same on a connected socket. */
	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(0, setsockopt_int(cli, SOL_SOCKET, SO_SNDBUF, 20000));
	ASSERT_EQ(0, getsockopt_int(cli, SOL_SOCKET, SO_SNDBUF, &v));
	ASSERT_EQ(40000, v);
	ASSERT_EQ(0, setsockopt_int(srv, SOL_SOCKET, SO_RCVBUF, 20000));
	ASSERT_EQ(0, getsockopt_int(srv, SOL_SOCKET, SO_RCVBUF, &v));
	ASSERT_EQ(40000, v);
	close(cli);
	close(srv);
}

/* Accepted sockets inherit buffer sizes set on the listener. */
TEST_F(stack, accepted_socket_inherits_buffers)
{
	uint16_t port;
	int lfd, cli, srv, v;

	lfd = stack_listen_opts(self->family, "127.0.0.1", &port,
				24 * KiB, 12 * KiB);
	ASSERT_LE(0, lfd);
	cli = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, cli);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, getsockopt_int(srv, SOL_SOCKET, SO_RCVBUF, &v));
	ASSERT_EQ(48 * KiB, v);
	ASSERT_EQ(0, getsockopt_int(srv, SOL_SOCKET, SO_SNDBUF, &v));
	ASSERT_EQ(24 * KiB, v);
	close(cli);
	close(srv);
	close(lfd);
}

/*
 * SO_DOMAIN is AF_INET on both: an xtcp socket is an IPv4 socket inside
 * the kernel, whatever family opened it. SO_PROTOCOL is left out on
 * purpose: xtcp reports its own IP protocol number there.
 */
TEST_F(stack, so_type_domain_and_acceptconn)
{
	uint16_t port;
	int fd, lfd, v;

	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_TYPE, &v));
	ASSERT_EQ(SOCK_STREAM, v);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &v));
	ASSERT_EQ(AF_INET, v);
	ASSERT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN, &v));
	ASSERT_EQ(0, v);
	close(fd);
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, getsockopt_int(lfd, SOL_SOCKET, SO_ACCEPTCONN, &v));
	ASSERT_EQ(1, v);
	close(lfd);

	/* An accepted socket is a stream socket too. */
	ASSERT_EQ(0, stack_pair(self->family, &fd, &lfd));
	ASSERT_EQ(0, getsockopt_int(lfd, SOL_SOCKET, SO_TYPE, &v));
	ASSERT_EQ(SOCK_STREAM, v);
	ASSERT_EQ(0, getsockopt_int(lfd, SOL_SOCKET, SO_DOMAIN, &v));
	ASSERT_EQ(AF_INET, v);
	ASSERT_EQ(0, getsockopt_int(lfd, SOL_SOCKET, SO_ACCEPTCONN, &v));
	ASSERT_EQ(0, v);
	close(fd);
	close(lfd);
}

TEST_F(stack, so_reuseaddr_rebinds_after_close)
{
	struct sockaddr_in sin = sin_make("127.0.0.1", 0);
	socklen_t len = sizeof(sin);
	int lfd, cli, srv, fd;
	char c;

	/*
	 * The server closes first and leaves a TIME_WAIT on its port. Both
	 * the old and the new socket need SO_REUSEADDR to share it.
	 */
	lfd = stack_socket(self->family);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, setsockopt_int(lfd, SOL_SOCKET, SO_REUSEADDR, 1));
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lfd, 1));
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&sin, &len));
	cli = stack_connect(self->family, "127.0.0.1", ntohs(sin.sin_port));
	ASSERT_LE(0, cli);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	close(lfd);
	close(srv);
	ASSERT_EQ(0, recv(cli, &c, 1, 0));
	close(cli);

	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1));
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(fd, 1));
	close(fd);
}

TEST_HARNESS_MAIN
