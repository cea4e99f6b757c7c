// SPDX-License-Identifier: GPL-2.0
/*
 * Ending a connection: orderly close (EOF only after every byte), half-close
 * with shutdown(SHUT_WR), and the resets: close with unread data, SO_LINGER
 * 0, a closed listener, and what recv/send/poll report after an RST.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "stack.h"

static atomic_int sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	atomic_fetch_add(&sigpipes, 1);
}

/* Poll fd for events; returns revents, 0 on timeout. */
static int wait_events(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	return poll(&pfd, 1, timeout_ms) == 1 ? pfd.revents : 0;
}

/* Everything poll reports right now. */
#define ALL_EVENTS(fd) wait_events(fd, POLLIN | POLLOUT | POLLRDHUP, 0)

/* b closes with data it never read: a must see a reset. */
static void reset_by_unread_close(struct __test_metadata *_metadata,
				  int family, int *a)
{
	int b;

	ASSERT_EQ(0, stack_pair(family, a, &b));
	ASSERT_EQ(100, send(*a, "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "01234567890123456789", 100, 0));
	ASSERT_EQ(100, wait_inq(b, 100, WAIT_MS));
	close(b);
	ASSERT_NE(0, wait_events(*a, POLLRDHUP, WAIT_MS) & POLLRDHUP);
	/* An RST ends the connection in both directions at once. */
	ASSERT_EQ(POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP,
		  ALL_EVENTS(*a));
}

TEST_F(stack, eof_after_all_data_when_closed_before_read)
{
	uint8_t buf[32 * KiB];
	int cli, srv;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	pattern_fill(buf, sizeof(buf), 0, 5);
	ASSERT_EQ((ssize_t)sizeof(buf), send_all(cli, buf, sizeof(buf)));
	close(cli);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), recv_all(srv, buf, sizeof(buf)));
	ASSERT_EQ(-1, pattern_check(buf, sizeof(buf), 0, 5));
	ASSERT_EQ(0, recv(srv, buf, 1, 0));
	ASSERT_EQ(0, recv(srv, buf, 1, 0));
	close(srv);
}

struct tx_close {
	int fd;
	ssize_t sent;
};

static void *send_then_close(void *arg)
{
	struct tx_close *t = arg;

	t->sent = send_pattern(t->fd, 8 * MiB, 6);
	close(t->fd);
	return NULL;
}

/* close() with data still queued: the kernel sends it all, then FIN. */
TEST_F_TIMEOUT(stack, eof_after_all_data_when_closed_with_queued_data, 600)
{
	struct tx_close t;
	int64_t bad;
	pthread_t th;
	int srv;
	char c;

	ASSERT_EQ(0, stack_pair(self->family, &t.fd, &srv));
	ASSERT_EQ(0, pthread_create(&th, NULL, send_then_close, &t));
	msleep(100);	/* let the sender fill the pipe first */
	ASSERT_EQ(8 * MiB, recv_pattern(srv, 8 * MiB, 6, &bad));
	ASSERT_EQ(-1, bad);
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(8 * MiB, t.sent);
	ASSERT_EQ(0, recv(srv, &c, 1, 0));
	close(srv);
}

TEST_F(stack, shutdown_wr_half_close)
{
	uint8_t buf[256 * KiB];
	int cli, srv;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(3, send(cli, "req", 3, 0));
	ASSERT_EQ(0, shutdown(cli, SHUT_WR));
	ASSERT_EQ(3, recv_all(srv, buf, 3));
	ASSERT_EQ(0, memcmp(buf, "req", 3));
	ASSERT_EQ(0, recv(srv, buf, 1, 0));
	/* Half-closed peer: readable EOF, but not hung up. */
	ASSERT_EQ(POLLIN | POLLOUT | POLLRDHUP, ALL_EVENTS(srv));

	/* The half-closed side can no longer send... */
	ASSERT_EQ(-1, send(cli, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EPIPE, errno);

	/* ...but still receives everything the other side sends. */
	pattern_fill(buf, sizeof(buf), 0, 7);
	ASSERT_EQ((ssize_t)sizeof(buf), send_all(srv, buf, sizeof(buf)));
	ASSERT_EQ(0, shutdown(srv, SHUT_WR));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), recv_all(cli, buf, sizeof(buf)));
	ASSERT_EQ(-1, pattern_check(buf, sizeof(buf), 0, 7));
	ASSERT_EQ(0, recv(cli, buf, 1, 0));
	/* Both directions shut: POLLHUP. */
	ASSERT_EQ(POLLIN | POLLOUT | POLLHUP | POLLRDHUP, ALL_EVENTS(cli));
	ASSERT_EQ(POLLIN | POLLOUT | POLLHUP | POLLRDHUP, ALL_EVENTS(srv));
	close(cli);
	close(srv);
}

TEST_F(stack, close_with_unread_data_resets_peer)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };
	int a, err;
	char c;

	reset_by_unread_close(_metadata, self->family, &a);
	ASSERT_EQ(-1, recv(a, &c, 1, 0));
	ASSERT_EQ(ECONNRESET, errno);
	/* The error is reported once; then the socket reads as closed. */
	ASSERT_EQ(0, recv(a, &c, 1, 0));
	ASSERT_EQ(0, getsockopt_int(a, SOL_SOCKET, SO_ERROR, &err));
	ASSERT_EQ(0, err);
	ASSERT_EQ(-1, send(a, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EPIPE, errno);

	/* Without MSG_NOSIGNAL the same EPIPE raises SIGPIPE. */
	ASSERT_EQ(0, sigaction(SIGPIPE, &sa, NULL));
	ASSERT_EQ(-1, send(a, "x", 1, 0));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(1, atomic_load(&sigpipes));
	ASSERT_EQ(-1, write(a, "x", 1));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(2, atomic_load(&sigpipes));
	close(a);
}

TEST_F(stack, reset_error_reported_by_first_send)
{
	int a;
	char c;

	reset_by_unread_close(_metadata, self->family, &a);
	ASSERT_EQ(-1, send(a, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(ECONNRESET, errno);
	ASSERT_EQ(-1, send(a, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(0, recv(a, &c, 1, 0));
	close(a);
}

TEST_F(stack, reset_error_reported_by_so_error)
{
	int a, err;
	char c;

	reset_by_unread_close(_metadata, self->family, &a);
	ASSERT_EQ(0, getsockopt_int(a, SOL_SOCKET, SO_ERROR, &err));
	ASSERT_EQ(ECONNRESET, err);
	ASSERT_EQ(0, recv(a, &c, 1, 0));
	close(a);
}

/*
 * Seed 001, second way out of a blocked send: the reader goes away (RST).
 * The blocked send reports the bytes it had copied; the reset itself comes
 * with the next call.
 */
TEST_F(stack, reset_ends_blocked_send_with_partial_count)
{
	struct bg_send b = { .len = 70 * KiB };
	uint16_t port;
	int lfd, rx, inq, outq;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	rx = stack_connect_opts(self->family, "127.0.0.1", port, 16 * KiB, 0);
	ASSERT_LE(0, rx);
	b.fd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, b.fd);
	ASSERT_EQ(0, setsockopt_int(b.fd, SOL_SOCKET, SO_SNDBUF, 16 * KiB));
	ASSERT_EQ(0, bg_send_start(&b));
	ASSERT_EQ(0, wait_window_closed(rx, b.fd, &inq, &outq));
	ASSERT_EQ(0, atomic_load(&b.done));
	close(rx);
	ASSERT_EQ(0, bg_send_join(&b));
	ASSERT_LT(0, b.ret);
	ASSERT_GT(70 * KiB, b.ret);
	ASSERT_EQ(-1, send(b.fd, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(ECONNRESET, errno);
	ASSERT_EQ(-1, send(b.fd, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EPIPE, errno);
	close(b.fd);
	close(lfd);
}

TEST_F(stack, linger_zero_close_sends_rst)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int a, b;
	char c;

	ASSERT_EQ(0, stack_pair(self->family, &a, &b));
	ASSERT_EQ(0, setsockopt(b, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	close(b);
	ASSERT_NE(0, wait_events(a, POLLIN, WAIT_MS) & POLLERR);
	ASSERT_EQ(-1, recv(a, &c, 1, 0));
	ASSERT_EQ(ECONNRESET, errno);
	close(a);
}

/*
 * A connection whose receiver (16 KiB of buffer) stopped reading: the
 * sender has sent what the window took and queued what its own 16 KiB
 * buffer takes, and the window is closed. *@total is what it sent.
 */
static void stalled_pair(struct __test_metadata *_metadata, int family,
			 int *rx, int *tx, uint64_t *total)
{
	uint8_t buf[4 * KiB];
	uint16_t port;
	int lfd, inq, outq;
	ssize_t n;

	lfd = stack_listen(family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	*rx = stack_connect_opts(family, "127.0.0.1", port, 16 * KiB, 0);
	ASSERT_LE(0, *rx);
	*tx = accept(lfd, NULL, NULL);
	ASSERT_LE(0, *tx);
	close(lfd);
	ASSERT_EQ(0, setsockopt_int(*tx, SOL_SOCKET, SO_SNDBUF, 16 * KiB));
	ASSERT_EQ(0, set_nonblock(*tx, 1));
	for (*total = 0;; *total += n) {
		pattern_fill(buf, sizeof(buf), *total, 8);
		n = send(*tx, buf, sizeof(buf), 0);
		if (n < 0)
			break;
	}
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, wait_window_closed(*rx, *tx, &inq, &outq));
	ASSERT_EQ(0, set_nonblock(*tx, 0));
}

struct late_reader {
	int fd;
	int delay_ms;
	ssize_t got;
	int64_t bad;
};

static void *read_late(void *arg)
{
	struct late_reader *r = arg;

	msleep(r->delay_ms);
	r->got = recv_pattern(r->fd, 1 * MiB, 8, &r->bad);
	return NULL;
}

/* close() of @fd, timed: milliseconds. */
static int timed_close(int fd)
{
	int64_t t0 = mono_ms();

	close(fd);
	return mono_ms() - t0;
}

/*
 * SO_LINGER with a time: close() of a blocking socket with data the peer
 * has not acknowledged waits until it is (and the FIN with it), as
 * native's sk_stream_wait_close. The peer starts reading 300 ms into the
 * close, of a 5 s linger time: native's close took 307 ms (the VM under
 * TCG; xtcp's 312 ms), and the peer read every byte, then EOF. Without
 * the linger the close returns at once.
 */
TEST_F(stack, linger_close_waits_for_the_peer_to_ack)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 5 };
	struct late_reader r = { .delay_ms = 300 };
	pthread_t th;
	uint64_t total;
	int tx, ms;
	char c;

	stalled_pair(_metadata, self->family, &r.fd, &tx, &total);
	ASSERT_LT(0, sock_outq(tx));
	ASSERT_EQ(0, setsockopt(tx, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_EQ(0, pthread_create(&th, NULL, read_late, &r));
	ms = timed_close(tx);
	ASSERT_EQ(0, pthread_join(th, NULL));
	TH_LOG("%llu bytes unacknowledged: close took %d ms",
	       (unsigned long long)total, ms);
	EXPECT_LE(250, ms);
	EXPECT_GT(4000, ms);
	EXPECT_EQ((ssize_t)total, r.got);
	EXPECT_EQ(-1, r.bad);
	EXPECT_EQ(0, recv(r.fd, &c, 1, 0));
	close(r.fd);
}

/*
 * The peer never reads: close() returns when the linger time (1 s) runs
 * out, with 0, and the connection goes on as an orphan in FIN_WAIT1, as
 * native's tcp_close leaves it (no RST: the linger time only bounds the
 * wait). Native's close took 1026 ms (xtcp's 1010 ms); its peer then saw
 * no error, and once it read, every byte and EOF.
 */
TEST_F(stack, linger_close_returns_after_the_linger_time)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 1 };
	uint64_t total;
	int64_t bad;
	int rx, tx, ms, err;

	stalled_pair(_metadata, self->family, &rx, &tx, &total);
	ASSERT_EQ(0, setsockopt(tx, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ms = timed_close(tx);
	TH_LOG("%llu bytes unacknowledged: close took %d ms",
	       (unsigned long long)total, ms);
	EXPECT_LE(950, ms);
	EXPECT_GT(2500, ms);
	msleep(200);
	ASSERT_EQ(0, getsockopt_int(rx, SOL_SOCKET, SO_ERROR, &err));
	EXPECT_EQ(0, err) TH_LOG("the peer saw %s", strerror(err));
	EXPECT_EQ(POLLIN | POLLOUT, ALL_EVENTS(rx));
	EXPECT_EQ((ssize_t)total, recv_pattern(rx, 1 * MiB, 8, &bad));
	EXPECT_EQ(-1, bad);
	EXPECT_EQ(0, recv(rx, &bad, 1, 0));
	close(rx);
}

#define FIN_WAIT2	5

/*
 * The orphaned FIN_WAIT2 timeout: after close(), a peer that never sends
 * its FIN is waited for net.ipv4.tcp_fin_timeout (net.xtcp.fin_timeout),
 * here 2 s in a namespace of its own. Native's orphan (a timewait socket
 * in FIN_WAIT2, listed as state 05) went after 2036 ms (xtcp's 2043 ms)
 * without a word to the peer: no RST, the peer's SO_ERROR 0. The peer's next
 * segment then finds no socket and draws a RST, which a socket in
 * CLOSE_WAIT reports as EPIPE (native's tcp_reset).
 */
TEST_F(stack, orphan_leaves_fin_wait2_after_fin_timeout)
{
	const char *knob = self->family == AF_INET ?
			   "/proc/sys/net/ipv4/tcp_fin_timeout" :
			   "/proc/sys/net/xtcp/fin_timeout";
	int cli, srv, fw2 = -1, ms, err;
	int64_t t0;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, run_cmd("ip link set lo up"));
	ASSERT_EQ(0, write_sysctl(knob, "2"));
	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	t0 = mono_ms();
	close(cli);
	ASSERT_NE(0, wait_events(srv, POLLRDHUP, WAIT_MS) & POLLRDHUP);
	for (ms = 0; ms < 1000; ms += 10) {
		fw2 = sockets_in_state(self->family, FIN_WAIT2);
		if (fw2)
			break;
		msleep(10);
	}
	ASSERT_EQ(1, fw2);
	while (mono_ms() - t0 < 10000) {
		fw2 = sockets_in_state(self->family, FIN_WAIT2);
		if (fw2 == 0)
			break;
		msleep(20);
	}
	ms = mono_ms() - t0;
	TH_LOG("the orphan left FIN_WAIT2 after %d ms", ms);
	EXPECT_EQ(0, fw2);
	EXPECT_LE(1900, ms);
	EXPECT_GE(4000, ms);
	msleep(200);
	ASSERT_EQ(0, getsockopt_int(srv, SOL_SOCKET, SO_ERROR, &err));
	EXPECT_EQ(0, err) TH_LOG("the peer saw %s", strerror(err));
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP, ALL_EVENTS(srv));

	ASSERT_EQ(1, send(srv, "x", 1, 0));
	EXPECT_NE(0, wait_events(srv, POLLIN, WAIT_MS) & POLLERR);
	ASSERT_EQ(0, getsockopt_int(srv, SOL_SOCKET, SO_ERROR, &err));
	EXPECT_EQ(EPIPE, err) TH_LOG("the peer saw %s", strerror(err));
	close(srv);
}

#define TIME_WAIT	6
#define FW2_PAIRS	4

/* TIME_WAIT entries the namespace's stack could not keep. */
static int64_t tw_overflows(int family)
{
	return stack_counter(family, "TCPTimeWaitOverflow",
			     "XtcpTimeWaitOverflow");
}

/* A namespace of its own whose stack keeps @slots TIME_WAIT entries. */
static void namespace_with_tw_slots(struct __test_metadata *_metadata,
				    int family, const char *slots)
{
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, run_cmd("ip link set lo up"));
	ASSERT_EQ(0, write_sysctl(family == AF_INET ?
				  "/proc/sys/net/ipv4/tcp_max_tw_buckets" :
				  "/proc/sys/net/xtcp/max_tw_buckets", slots));
}

/*
 * Orphans in FIN_WAIT2 are bounded as TIME_WAIT entries are: native's
 * orphan becomes a timewait socket in FIN_WAIT2 and takes one of
 * net.ipv4.tcp_max_tw_buckets' slots (xtcp's stays a full socket and takes
 * one of net.xtcp.max_tw_buckets'), so peers that never send their FIN
 * cannot pin more of them than that. With 2 slots in a namespace of its
 * own, four connections are closed in FIN_WAIT2 (shut down first, their
 * FIN ACKed): two stay, two just end (TimeWaitOverflow). The peers' FINs
 * then turn the two into TIME_WAIT entries in the slots they held, with
 * no further overflow. Native: 2 and 2 in FIN_WAIT2, 2 in TIME_WAIT.
 */
TEST_F(stack, fin_wait2_orphans_bounded_by_max_tw_buckets)
{
	int cli[FW2_PAIRS], srv[FW2_PAIRS], i, ms, tw = -1;
	int64_t over0, over1, over2;

	namespace_with_tw_slots(_metadata, self->family, "2");
	over0 = tw_overflows(self->family);
	ASSERT_LE(0, over0);
	for (i = 0; i < FW2_PAIRS; i++) {
		struct tcp_info ti = {};

		ASSERT_EQ(0, stack_pair(self->family, &cli[i], &srv[i]));
		ASSERT_EQ(0, shutdown(cli[i], SHUT_WR));
		ASSERT_NE(0, wait_events(srv[i], POLLRDHUP, WAIT_MS) &
			     POLLRDHUP);
		for (ms = 0; ms < WAIT_MS; ms += 10) {
			ASSERT_EQ(0, get_tcp_info(cli[i], &ti));
			if (ti.tcpi_state == FIN_WAIT2)
				break;
			msleep(10);
		}
		ASSERT_EQ(FIN_WAIT2, ti.tcpi_state);
		close(cli[i]);
	}
	over1 = tw_overflows(self->family);
	TH_LOG("%d closed in FIN_WAIT2: %d there, %lld overflowed",
	       FW2_PAIRS, sockets_in_state(self->family, FIN_WAIT2),
	       (long long)(over1 - over0));
	EXPECT_EQ(2, over1 - over0);
	EXPECT_EQ(2, sockets_in_state(self->family, FIN_WAIT2));
	for (i = 0; i < FW2_PAIRS; i++)
		close(srv[i]);
	for (ms = 0; ms < WAIT_MS; ms += 10) {
		tw = sockets_in_state(self->family, TIME_WAIT);
		if (tw == 2)
			break;
		msleep(10);
	}
	over2 = tw_overflows(self->family);
	TH_LOG("after the peers' FINs: %d in TIME_WAIT, %lld overflowed",
	       tw, (long long)(over2 - over0));
	EXPECT_EQ(2, tw);
	EXPECT_EQ(2, over2 - over0);
}

/*
 * The same slots when close() itself ends in FIN_WAIT2: the ACK of the
 * FIN it sent is taken from the backlog as close() lets go of the socket,
 * and the orphan must take one slot, not two. With 3 slots, two
 * connections closed straight from ESTABLISHED both reach TIME_WAIT once
 * their peers close, and nothing overflows (native: 2 in TIME_WAIT, no
 * overflow; a slot taken twice per close overflows the second).
 */
TEST_F(stack, fin_wait2_orphan_closed_at_once_takes_one_slot)
{
	int cli, srv, i, ms, tw = -1;
	int64_t over0, over1;

	namespace_with_tw_slots(_metadata, self->family, "3");
	over0 = tw_overflows(self->family);
	ASSERT_LE(0, over0);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
		close(cli);
		ASSERT_NE(0, wait_events(srv, POLLRDHUP, WAIT_MS) & POLLRDHUP);
		close(srv);
		for (ms = 0; ms < WAIT_MS; ms += 10) {
			tw = sockets_in_state(self->family, TIME_WAIT);
			if (tw == i + 1)
				break;
			msleep(10);
		}
	}
	over1 = tw_overflows(self->family);
	TH_LOG("%d in TIME_WAIT, %lld overflowed", tw,
	       (long long)(over1 - over0));
	EXPECT_EQ(2, tw);
	EXPECT_EQ(0, over1 - over0);
}

/* Connections still in the accept queue are reset when the listener goes. */
TEST_F(stack, closing_listener_resets_unaccepted)
{
	struct sockaddr_in sin;
	uint16_t port;
	int lfd, a;
	char c;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	a = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, a);
	close(lfd);
	ASSERT_NE(0, wait_events(a, POLLIN, WAIT_MS) & POLLERR);
	ASSERT_EQ(-1, recv(a, &c, 1, 0));
	ASSERT_EQ(ECONNRESET, errno);
	/* Reset connections leave nothing behind: the port is free again. */
	lfd = stack_socket(self->family);
	ASSERT_LE(0, lfd);
	sin = sin_make("127.0.0.1", port);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lfd, 1));
	close(lfd);
	close(a);
}

#define ORPHANS		5
#define FIN_WAIT1	4

/* The orphans /proc/net/sockstat counts (native's are host-wide). */
static int native_orphans(void)
{
	FILE *f = fopen("/proc/net/sockstat", "r");
	char line[256];
	int n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TCP: inuse %*d orphan %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/*
 * The host's native orphans once their count held still for 300 ms, so
 * that the count the limit is checked against (100 ms behind) is it too.
 */
static int native_orphans_settled(void)
{
	int base = native_orphans(), i;

	for (i = 0; i < 50; i++) {
		msleep(300);
		if (native_orphans() == base)
			break;
		base = native_orphans();
	}
	return base;
}

/*
 * Whether the host's native orphans are @base plus ours, those in
 * FIN_WAIT1 here: other namespaces' orphans come and go (a test's
 * children exiting, orphans of namespaces gone dying when their timers
 * fire), and the limit is checked against them all. Always for xtcp,
 * whose count and limit are the namespace's.
 */
static bool only_ours_changed(int family, int base)
{
	int before, ours, after;

	if (family != AF_INET)
		return true;
	/* One of ours may be reset between the reads: either side will do. */
	before = native_orphans();
	ours = sockets_in_state(AF_INET, FIN_WAIT1);
	after = native_orphans();
	return before == base + ours || after == base + ours;
}

/*
 * ORPHANS connections to @lfd closed 200 ms apart with their send
 * buffers full and the peers (@srv) not reading. Returns how many are
 * left in FIN_WAIT1, -1 on error; *quiet is false when other orphans of
 * the host's came or went meanwhile.
 */
static int close_loaded(int family, int lfd, uint16_t port, int *srv,
			int base, bool *quiet)
{
	char buf[4096] = { 0 };
	int cli, i;

	*quiet = true;
	for (i = 0; i < ORPHANS; i++)
		srv[i] = -1;
	for (i = 0; i < ORPHANS; i++) {
		cli = stack_connect(family, "127.0.0.1", port);
		if (cli < 0)
			return -1;
		srv[i] = accept(lfd, NULL, NULL);
		if (srv[i] < 0 || set_nonblock(cli, 1)) {
			close(cli);
			return -1;
		}
		while (send(cli, buf, sizeof(buf), MSG_NOSIGNAL) > 0)
			;
		if (errno != EAGAIN) {
			close(cli);
			return -1;
		}
		*quiet &= only_ours_changed(family, base);
		close(cli);
		msleep(200);
	}
	*quiet &= only_ours_changed(family, base);
	return sockets_in_state(family, FIN_WAIT1);
}

static void close_all(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/*
 * tcp_max_orphans (xtcp: net.xtcp.max_orphans, per namespace) bounds the
 * connections their users closed with data still to send. At 2 more than
 * exist, of five such closes 200 ms apart at most three stay in
 * FIN_WAIT1 and the others are reset, counted as TCPAbortOnMemory: at
 * close, or when a window probe is due while too many are left. xtcp
 * keeps two; native, whose count lags 100 ms behind, two or three, or one
 * when a stale count lets its probes reset one too many.
 * With the limit at 0, each left is reset when its next probe is due.
 *
 * Native's limit and count are the host's: a round during which other
 * orphans of the host's came or went says nothing and is run again in a
 * new namespace, three rounds at most (make check saw 5 kept once, 0
 * kept once). The teardown puts the limit back.
 */
TEST_F_TIMEOUT(stack, orphans_beyond_max_orphans_are_reset, 120)
{
	const char *knob = self->family == AF_INET ?
			   "/proc/sys/net/ipv4/tcp_max_orphans" :
			   "/proc/sys/net/xtcp/max_orphans";
	int srv[ORPHANS], base = 0, lfd = -1, fw1 = -1, round, i;
	int64_t before = -1, aborts = -1;
	bool quiet = false;
	char val[16];
	uint16_t port;

	for (round = 0; round < 3 && !quiet; round++) {
		if (lfd >= 0) {
			TH_LOG("round %d of 3: other orphans of the host's came or went",
			       round);
			close_all(srv, ORPHANS);
			close(lfd);
		}
		if (self->family == AF_INET)
			base = native_orphans_settled();
		ASSERT_LE(0, base);
		snprintf(val, sizeof(val), "%d", base + 2);
		/* Native's knob is the host's: opened before unshare(). */
		if (self->family == AF_INET && !self->host_setting_fd)
			ASSERT_EQ(0, set_host_setting(self, knob, val));
		if (self->family == AF_INET)
			ASSERT_EQ(0, set_setting_fd(self->host_setting_fd,
						    val));
		ASSERT_EQ(0, unshare(CLONE_NEWNET));
		ASSERT_EQ(0, run_cmd("ip link set lo up"));
		if (self->family != AF_INET)
			ASSERT_EQ(0, set_host_setting(self, knob, val));
		before = stack_counter(self->family, "TCPAbortOnMemory",
				       "XtcpAbortOnMemory");
		ASSERT_LE(0, before);
		lfd = stack_listen_opts(self->family, "127.0.0.1", &port,
					4096, 0);
		ASSERT_LE(0, lfd);
		fw1 = close_loaded(self->family, lfd, port, srv, base, &quiet);
		ASSERT_LE(0, fw1);
	}
	ASSERT_TRUE(quiet);
	/* A reset orphan leaves the table a moment before it is counted. */
	for (i = 0; i < 10; i++) {
		aborts = stack_counter(self->family, "TCPAbortOnMemory",
				       "XtcpAbortOnMemory") - before;
		if (fw1 + aborts == ORPHANS)
			break;
		msleep(100);
		fw1 = sockets_in_state(self->family, FIN_WAIT1);
	}
	TH_LOG("after %d closes: %d in FIN_WAIT1, %lld reset",
	       ORPHANS, fw1, (long long)aborts);
	EXPECT_LE(1, fw1);
	EXPECT_GE(3, fw1);
	EXPECT_EQ(ORPHANS, fw1 + aborts);

	/* No orphan allowed now: each goes when its probe is due. */
	EXPECT_EQ(0, set_setting_fd(self->host_setting_fd, "0"));
	for (i = 0; i < 100 && fw1 > 0; i++) {
		msleep(100);
		fw1 = sockets_in_state(self->family, FIN_WAIT1);
	}
	for (round = 0; round < 10; round++) {	/* as above */
		aborts = stack_counter(self->family, "TCPAbortOnMemory",
				       "XtcpAbortOnMemory") - before;
		if (aborts >= ORPHANS)
			break;
		msleep(100);
	}
	TH_LOG("limit 0: %d in FIN_WAIT1 after %d ms, %lld reset",
	       fw1, i * 100, (long long)aborts);
	if (self->family == AF_INET && aborts != ORPHANS)
		TH_LOG("TCPAbortOnTimeout %lld, TCPAbortOnData %lld",
		       (long long)stack_counter(AF_INET, "TCPAbortOnTimeout",
						"-"),
		       (long long)stack_counter(AF_INET, "TCPAbortOnData",
						"-"));
	EXPECT_EQ(0, fw1);
	EXPECT_EQ(ORPHANS, aborts);
	close_all(srv, ORPHANS);
	close(lfd);
}

/* Pages the protocol's sockets hold, from /proc/net/protocols; -1 if none. */
static long proto_memory_pages(int family)
{
	const char *want = family == AF_INET ? "TCP" : "XTCP";
	FILE *f = fopen("/proc/net/protocols", "r");
	char line[512], name[32];
	long pages = -1, mem;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%31s %*u %*d %ld", name, &mem) == 2 &&
		    !strcmp(name, want))
			pages = mem;
	fclose(f);
	return pages;
}

/*
 * A TIME_WAIT entry holds no buffer memory: native's is a small
 * inet_timewait_sock. TW_CONNS connections whose server closes first leave
 * one entry per client port (all differ: connect() walks the range), each
 * of which got the client's FIN; xtcp keeps every one. Native 6.12 once
 * listed 971 of 1000 (and 1000 in the four runs after; 6.1 always 1000),
 * cause not found: for native the count must reach nine tenths, enough
 * for the memory check to mean something. The protocol's
 * total (net.ipv4.tcp_mem's, net.xtcp.mem's count) may move only by what
 * the CPUs keep unflushed (SK_MEMORY_PCPU_RESERVE, 256 pages each) and a
 * little more. xtcp's TIME_WAIT length is native's 60 s for the case.
 */
#define TW_CONNS	1000
#define TIME_WAIT	6

TEST_F_TIMEOUT(stack, time_wait_entries_hold_no_buffer_memory, 240)
{
	long before, after, slack = sysconf(_SC_NPROCESSORS_ONLN) * 256 + 64;
	int lfd, cli, srv, i, tw = 0, distinct = 0;
	static bool port_used[65536];
	struct sockaddr_in sin;
	socklen_t len;
	struct timespec t0, t1;
	uint16_t port;
	char c;

	if (self->family != AF_INET)
		ASSERT_EQ(0, set_host_setting(self,
				"/sys/module/xtcp/parameters/tw_len_ms",
				"60000"));
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, run_cmd("ip link set lo up"));
	before = proto_memory_pages(self->family);
	ASSERT_LE(0, before);
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < TW_CONNS; i++) {
		cli = stack_connect(self->family, "127.0.0.1", port);
		ASSERT_LE(0, cli);
		len = sizeof(sin);
		ASSERT_EQ(0, getsockname(cli, (struct sockaddr *)&sin, &len));
		if (!port_used[ntohs(sin.sin_port)]) {
			port_used[ntohs(sin.sin_port)] = true;
			distinct++;
		}
		srv = accept(lfd, NULL, NULL);
		ASSERT_LE(0, srv);
		ASSERT_EQ(1, send(cli, "q", 1, 0));
		ASSERT_EQ(1, recv(srv, &c, 1, 0));
		ASSERT_EQ(1, send(srv, "a", 1, 0));
		ASSERT_EQ(1, recv(cli, &c, 1, 0));
		close(srv);
		ASSERT_EQ(0, recv(cli, &c, 1, 0));
		close(cli);
	}
	for (i = 0; i < 100; i++) {
		tw = sockets_in_state(self->family, TIME_WAIT);
		if (tw >= distinct)
			break;
		msleep(50);
	}
	after = proto_memory_pages(self->family);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("%d in TIME_WAIT (%d client ports) after %ld s; protocol memory %ld -> %ld pages (slack %ld)",
	       tw, distinct, (long)(t1.tv_sec - t0.tv_sec), before, after,
	       slack);
	EXPECT_EQ(TW_CONNS, distinct);
	if (self->family == AF_INET) {
		EXPECT_LE(distinct * 9 / 10, tw);
	} else {
		EXPECT_EQ(distinct, tw);
	}
	EXPECT_GE(slack, after - before);
	close(lfd);
}

/*
 * An orphan whose peer never answers gives up after
 * net.ipv4.tcp_orphan_retries (xtcp: net.xtcp.orphan_retries, per
 * namespace both) resends of its head, where a socket its user holds tries
 * 15 times. At 2, in a namespace whose input then drops the protocol, a
 * client closed with data unacknowledged leaves FIN_WAIT1 after the RTOs of
 * 200, 400 and 800 ms: native's limit is the time 2 resends take from
 * the minimum RTO (1.4 s), xtcp's the count. At the default (0, meaning
 * 8) it would take about 100 s.
 */
TEST_F_TIMEOUT(stack, unanswered_orphan_gives_up_after_orphan_retries, 60)
{
	const char *knob = self->family == AF_INET ?
			   "/proc/sys/net/ipv4/tcp_orphan_retries" :
			   "/proc/sys/net/xtcp/orphan_retries";
	int lfd, cli, srv, fw1 = -1, ms;
	struct timespec t0, t1;
	char buf[1000] = { 0 };
	uint16_t port;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, run_cmd("ip link set lo up"));
	ASSERT_EQ(0, write_sysctl(knob, "2"));
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	cli = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, cli);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, run_cmd("nft add table ip orphan && "
			     "nft add chain ip orphan in '{ type filter hook input priority 0; }' && "
			     "nft add rule ip orphan in ip protocol %d drop",
			     stack_ipproto(self->family)));
	ASSERT_EQ((ssize_t)sizeof(buf), send(cli, buf, sizeof(buf), 0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	close(cli);
	ASSERT_EQ(1, sockets_in_state(self->family, FIN_WAIT1));
	for (ms = 0; ms < 30000; ms += 50) {
		fw1 = sockets_in_state(self->family, FIN_WAIT1);
		if (fw1 == 0)
			break;
		msleep(50);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	TH_LOG("the orphan left FIN_WAIT1 after %d ms", ms);
	EXPECT_EQ(0, fw1);
	EXPECT_LE(1000, ms);
	EXPECT_GE(6000, ms);
	close(srv);
	close(lfd);
}

TEST_HARNESS_MAIN

/*
 * Both ends close their sending side at once: the FINs may cross
 * (FIN_WAIT1 -> CLOSING -> TIME_WAIT on both ends, RFC 9293 figure 13);
 * either way each end reads what the other sent, then EOF.
 */
TEST_F(stack, simultaneous_shutdown_both_see_eof)
{
	char buf[8];
	int cli, srv;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(3, send(cli, "cli", 3, 0));
	ASSERT_EQ(3, send(srv, "srv", 3, 0));
	ASSERT_EQ(0, shutdown(cli, SHUT_WR));
	ASSERT_EQ(0, shutdown(srv, SHUT_WR));
	ASSERT_EQ(3, recv_all(cli, buf, 3));
	ASSERT_EQ(0, memcmp(buf, "srv", 3));
	ASSERT_EQ(3, recv_all(srv, buf, 3));
	ASSERT_EQ(0, memcmp(buf, "cli", 3));
	ASSERT_EQ(0, recv(cli, buf, sizeof(buf), 0));
	ASSERT_EQ(0, recv(srv, buf, sizeof(buf), 0));
	close(cli);
	close(srv);
}
