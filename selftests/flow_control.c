// SPDX-License-Identifier: GPL-2.0
/*
 * send() copies and returns; the peer's receive window, not the peer's
 * reads, decides how far data goes (seed 001). A receiver that never reads
 * closes its window, the sender's buffer fills, and send blocks, times out
 * (SO_SNDTIMEO) or returns a partial count / EAGAIN (non-blocking).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "stack.h"

TEST_F(stack, send_returns_while_peer_not_reading)
{
	uint8_t buf[1024], got[1024];
	int cli, srv;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	pattern_fill(buf, sizeof(buf), 0, 1);
	/* Returns with the full count: copied, not delivered. */
	ASSERT_EQ(1024, send(cli, buf, sizeof(buf), 0));
	/* The peer's kernel takes and ACKs it without any recv(). */
	ASSERT_EQ(1024, wait_inq(srv, 1024, WAIT_MS));
	ASSERT_EQ(0, wait_outq(cli, 0, WAIT_MS));
	ASSERT_EQ(1024, recv_all(srv, got, sizeof(got)));
	ASSERT_EQ(-1, pattern_check(got, sizeof(got), 0, 1));
	ASSERT_EQ(0, sock_inq(srv));
	close(cli);
	close(srv);
}

/*
 * Both ends' SO_SNDBUF once the handshake is done, on loopback; with
 * @maxseg the client sets TCP_MAXSEG first. -1 on a failed call.
 */
static int handshake_sndbufs(int family, int maxseg, int *cli_buf,
			     int *srv_buf)
{
	struct sockaddr_in sin = sin_make("127.0.0.1", 0);
	int lfd, cli = -1, srv = -1, ret = -1;
	uint16_t port;

	lfd = stack_listen(family, "127.0.0.1", &port);
	if (lfd < 0)
		return -1;
	sin.sin_port = htons(port);
	cli = stack_socket(family);
	if (cli < 0 ||
	    (maxseg && setsockopt_int(cli, IPPROTO_TCP, TCP_MAXSEG, maxseg)) ||
	    connect(cli, (struct sockaddr *)&sin, sizeof(sin)))
		goto out;
	srv = accept(lfd, NULL, NULL);
	if (srv >= 0 && !getsockopt_int(cli, SOL_SOCKET, SO_SNDBUF, cli_buf) &&
	    !getsockopt_int(srv, SOL_SOCKET, SO_SNDBUF, srv_buf))
		ret = 0;
out:
	if (srv >= 0)
		close(srv);
	if (cli >= 0)
		close(cli);
	close(lfd);
	return ret;
}

/*
 * The send buffer grows at the handshake from tcp_wmem[1] to room for twice
 * the initial window of full segments, as native's tcp_sndbuf_expand
 * reckons it, on both ends: so SO_SNDBUF reads as native's on the same
 * path, native's pair being the oracle in both variants. Native read
 * 2626560 on loopback (MSS 65483), 46080 with TCP_MAXSEG 1000 and 87040
 * with 1420 (where a segment's charge rounds up to 4 KiB) at both ends. Ten writes of 1000 bytes right after accept() then do not block,
 * as on native (packetdrill's sack_recovery_two_holes_no_rack.pkt).
 */
TEST_F(stack, send_buffer_after_handshake_as_natives)
{
	static const int maxsegs[] = { 0, 1000, 1420 };
	int i;

	for (i = 0; i < 3; i++) {
		int ncli, nsrv, cli, srv;

		ASSERT_EQ(0, handshake_sndbufs(AF_INET, maxsegs[i], &ncli,
					       &nsrv));
		ASSERT_EQ(0, handshake_sndbufs(self->family, maxsegs[i], &cli,
					       &srv));
		TH_LOG("TCP_MAXSEG %d: native %d/%d, this stack %d/%d",
		       maxsegs[i], ncli, nsrv, cli, srv);
		EXPECT_EQ(ncli, cli);
		EXPECT_EQ(nsrv, srv);
	}
}

#define SEED_SEND	(70 * KiB)
#define SEED_SNDBUF	(16 * KiB)
#define SEED_RCVBUF	(16 * KiB)

/*
 * Seed 001: the receiver connects with a small receive buffer and never
 * reads; the sender (accepted side, SO_SNDBUF 16 KiB) sends 70 KiB in one
 * blocking send(). The window closes, send blocks with data queued on both
 * sides; once the receiver reads, send returns the full count.
 */
TEST_F(stack, zero_window_blocks_send_until_read)
{
	struct bg_send b = { .len = SEED_SEND, .seed = 70 };
	int lfd, rx, tx, inq, outq, rcvbuf, sndbuf;
	uint8_t *got = malloc(SEED_SEND);
	uint16_t port;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	rx = stack_connect_opts(self->family, "127.0.0.1", port,
				SEED_RCVBUF, 0);
	ASSERT_LE(0, rx);
	tx = accept(lfd, NULL, NULL);
	ASSERT_LE(0, tx);
	ASSERT_EQ(0, setsockopt_int(tx, SOL_SOCKET, SO_SNDBUF, SEED_SNDBUF));
	ASSERT_EQ(0, getsockopt_int(rx, SOL_SOCKET, SO_RCVBUF, &rcvbuf));
	ASSERT_EQ(2 * SEED_RCVBUF, rcvbuf);
	ASSERT_EQ(0, getsockopt_int(tx, SOL_SOCKET, SO_SNDBUF, &sndbuf));
	ASSERT_EQ(2 * SEED_SNDBUF, sndbuf);

	b.fd = tx;
	ASSERT_EQ(0, bg_send_start(&b));
	ASSERT_EQ(0, wait_window_closed(rx, tx, &inq, &outq)) {
		TH_LOG("queues never settled: inq %d outq %d send %s", inq,
		       outq, atomic_load(&b.done) ? "returned" : "blocked");
	}
	TH_LOG("window closed: receiver holds %d, sender queues %d of %d",
	       inq, outq, SEED_SEND);
	ASSERT_EQ(0, atomic_load(&b.done)) {
		TH_LOG("send returned %zd (%s) while the peer read nothing",
		       b.ret, strerror(b.err));
	}
	ASSERT_LT(0, inq);
	ASSERT_GE(rcvbuf, inq);
	ASSERT_LT(0, outq);
	/* All that was copied is acked into inq or queued in outq. */
	ASSERT_GT(SEED_SEND, inq + outq);

	/* Reading opens the window; the rest flows and send completes. */
	ASSERT_EQ(SEED_SEND, recv_all(rx, got, SEED_SEND));
	ASSERT_EQ(-1, pattern_check(got, SEED_SEND, 0, 70));
	ASSERT_EQ(0, bg_send_join(&b));
	ASSERT_EQ(SEED_SEND, b.ret);
	ASSERT_EQ(0, wait_outq(tx, 0, WAIT_MS));
	ASSERT_EQ(0, sock_inq(rx));
	free(got);
	close(rx);
	close(tx);
	close(lfd);
}

/* Small buffers on both ends so a few hundred KiB fill everything. */
static void small_pair(struct __test_metadata *_metadata, int family,
		       int *tx, int *rx)
{
	uint16_t port;
	int lfd;

	lfd = stack_listen_opts(family, "127.0.0.1", &port, 16 * KiB, 0);
	ASSERT_LE(0, lfd);
	*tx = stack_connect_opts(family, "127.0.0.1", port, 0, 16 * KiB);
	ASSERT_LE(0, *tx);
	*rx = accept(lfd, NULL, NULL);
	ASSERT_LE(0, *rx);
	close(lfd);
}

/* Drain rx and check it got exactly the sent bytes of the pattern. */
static void drain_verify(struct __test_metadata *_metadata, int tx, int rx,
			 size_t sent, uint32_t seed)
{
	uint8_t *got = malloc(sent);

	ASSERT_EQ(0, shutdown(tx, SHUT_WR));
	ASSERT_EQ((ssize_t)sent, recv_all(rx, got, sent));
	ASSERT_EQ(-1, pattern_check(got, sent, 0, seed));
	ASSERT_EQ(0, recv(rx, got, 1, 0));
	free(got);
}

#define BIG	(1 * MiB)

/*
 * TCP_USER_TIMEOUT bounds a wait on a zero window too, as native TCP's
 * probe timer does: the peer answers every probe, but its window stays
 * shut past the timeout and the sender's connection ends with ETIMEDOUT,
 * the timeout after the first probe (an RTO, about 250 ms here, after the
 * window shut), not at the next backed-off probe after it. Native, TCG:
 * 2268-2276 ms after the window shut.
 */
#define ZW_UT_MS	2000
#define ZW_LATE_MS	600	/* the first probe, and a timer's slack */
TEST_F(stack, user_timeout_ends_wait_on_zero_window)
{
	struct pollfd pfd = { .events = POLLOUT };
	static uint8_t buf[64 * KiB];
	int tx, rx, err = 0;
	int64_t t0, t1;

	small_pair(_metadata, self->family, &tx, &rx);
	ASSERT_EQ(0, setsockopt_int(tx, IPPROTO_TCP, TCP_USER_TIMEOUT,
				    ZW_UT_MS));
	ASSERT_EQ(0, set_nonblock(tx, 1));
	while (send(tx, buf, sizeof(buf), 0) > 0)
		;
	ASSERT_EQ(EAGAIN, errno);
	t0 = mono_ms();
	pfd.fd = tx;
	/* POLLERR is reported whatever the events asked for. */
	while (poll(&pfd, 1, 4 * WAIT_MS) == 1 && !(pfd.revents & POLLERR))
		usleep(1000);
	t1 = mono_ms();
	TH_LOG("ETIMEDOUT %lld ms after the window shut", (long long)(t1 - t0));
	ASSERT_TRUE(pfd.revents & POLLERR);
	ASSERT_EQ(0, getsockopt_int(tx, SOL_SOCKET, SO_ERROR, &err));
	ASSERT_EQ(ETIMEDOUT, err);
	ASSERT_LE(ZW_UT_MS, t1 - t0);
	ASSERT_GE(ZW_UT_MS + ZW_LATE_MS, t1 - t0);
	/* What the window took is there to read. */
	ASSERT_LT(0, sock_inq(rx));
	close(tx);
	close(rx);
}

TEST_F(stack, nonblocking_send_partial_then_eagain)
{
	uint8_t *buf = malloc(BIG);
	struct pollfd pfd;
	size_t sent = 0;
	ssize_t r;
	int tx, rx, i;

	small_pair(_metadata, self->family, &tx, &rx);
	ASSERT_EQ(0, set_nonblock(tx, 1));

	/* More than both buffers hold: a partial count, never all of it. */
	pattern_fill(buf, BIG, 0, 3);
	r = send(tx, buf, BIG, 0);
	ASSERT_LT(0, r);
	ASSERT_GT(BIG, r);
	sent = r;
	/* Keep pushing: maybe more partials while in flight, then EAGAIN. */
	for (i = 0; i < 100000; i++) {
		pattern_fill(buf, BIG, sent, 3);
		r = send(tx, buf, BIG, 0);
		if (r < 0)
			break;
		ASSERT_GT(BIG, r);
		sent += r;
	}
	ASSERT_EQ(-1, r);
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_GT((size_t)BIG, sent);

	drain_verify(_metadata, tx, rx, sent, 3);
	/* Everything acked: room again. */
	ASSERT_EQ(0, wait_outq(tx, 0, WAIT_MS));
	pfd = (struct pollfd){ .fd = tx, .events = POLLOUT };
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(POLLOUT, pfd.revents);
	free(buf);
	close(tx);
	close(rx);
}

TEST_F(stack, sndtimeo_full_buffer_partial_then_eagain)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 300000 }, got;
	socklen_t len = sizeof(got);
	uint8_t *buf = malloc(BIG);
	size_t sent = 0;
	ssize_t r;
	int tx, rx, i;

	small_pair(_metadata, self->family, &tx, &rx);
	ASSERT_EQ(0, setsockopt(tx, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	ASSERT_EQ(0, getsockopt(tx, SOL_SOCKET, SO_SNDTIMEO, &got, &len));
	ASSERT_EQ(sizeof(got), len);
	ASSERT_EQ(0, got.tv_sec);
	ASSERT_EQ(300000, got.tv_usec);

	/* Blocks until the timeout, then reports what it did copy. */
	pattern_fill(buf, BIG, 0, 4);
	r = send(tx, buf, BIG, 0);
	ASSERT_LT(0, r);
	ASSERT_GT(BIG, r);
	sent = r;
	/* Nothing drains any more: a timed-out send with no copy is EAGAIN. */
	for (i = 0; i < 50; i++) {
		pattern_fill(buf, BIG, sent, 4);
		r = send(tx, buf, BIG, 0);
		if (r < 0)
			break;
		sent += r;
	}
	ASSERT_EQ(-1, r);
	ASSERT_EQ(EAGAIN, errno);

	drain_verify(_metadata, tx, rx, sent, 4);
	free(buf);
	close(tx);
	close(rx);
}

/*
 * net.ipv4.tcp_mem / net.xtcp.mem (pages, host-wide) bound what all of the
 * protocol's sockets hold together. Eight pairs whose receivers do not read
 * first fill their windows and send buffers with no limit (more than the
 * bound below: the case can tell), drain, then fill again under a limit of
 * MEM_LIMIT_PAGES. Past it the kernel refuses new charges: senders wait
 * with their send buffers shrunk, receivers drop what they cannot charge.
 * The bound adds what the kernel lets through by design: each CPU's
 * unflushed reserve (1 MiB, SK_MEMORY_PCPU_RESERVE) and, per socket, the
 * minimum it may always hold plus one forced skb. Then the receivers read
 * and every pair delivers another MiB, intact.
 */
#define MEM_PAIRS	8
#define MEM_LIMIT_PAGES	1024
#define MEM_RCVBUF	(8 << 20)
#define MEM_CHUNK	65536

struct mem_pair {
	int tx, rx;
	uint64_t sent, got, target;
};

/* Bytes the pairs' sockets have charged: receive and write queues. */
static int64_t pairs_charged(const struct mem_pair *p)
{
	int64_t sum = 0;
	int i;

	for (i = 0; i < MEM_PAIRS; i++)
		sum += sock_meminfo(p[i].rx, SK_MEMINFO_RMEM_ALLOC) +
		       sock_meminfo(p[i].rx, SK_MEMINFO_WMEM_QUEUED) +
		       sock_meminfo(p[i].tx, SK_MEMINFO_RMEM_ALLOC) +
		       sock_meminfo(p[i].tx, SK_MEMINFO_WMEM_QUEUED);
	return sum;
}

/* Each pair's target: @extra past its sender's, or UINT64_MAX. */
static void set_targets(struct mem_pair *p, uint64_t extra)
{
	int i;

	for (i = 0; i < MEM_PAIRS; i++)
		p[i].target = extra == UINT64_MAX ? UINT64_MAX :
			      p[i].sent + extra;
}

static int pairs_sndbuf(const struct mem_pair *p)
{
	int i, val, sum = 0;

	for (i = 0; i < MEM_PAIRS; i++)
		if (!getsockopt_int(p[i].tx, SOL_SOCKET, SO_SNDBUF, &val))
			sum += val;
	return sum;
}

/* Send without blocking up to the pair's target; true if a byte went. */
static bool pump_send(struct mem_pair *p, uint8_t *buf)
{
	bool moved = false;

	while (p->sent < p->target) {
		size_t n = p->target - p->sent < MEM_CHUNK ?
			   p->target - p->sent : MEM_CHUNK;
		ssize_t r;

		pattern_fill(buf, n, p->sent, 11);
		r = send(p->tx, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r <= 0)
			break;
		p->sent += r;
		moved = true;
	}
	return moved;
}

/* Read what is there; -1 at a wrong byte, else whether a byte came. */
static int pump_recv(struct mem_pair *p, uint8_t *buf)
{
	int moved = 0;
	ssize_t r;

	while ((r = recv(p->rx, buf, MEM_CHUNK, MSG_DONTWAIT)) > 0) {
		if (pattern_check(buf, r, p->got, 11) >= 0)
			return -1;
		p->got += r;
		moved = 1;
	}
	return moved;
}

/*
 * Senders send up to their targets (UINT64_MAX: all they can); receivers
 * read if @reading. Ends when every pair has its target sent (received,
 * if @reading), or when nothing moved for @idle_ms; false at a wrong
 * byte, after @max_ms, or when reading stalls.
 */
static bool pump_pairs(struct mem_pair *p, bool reading, int idle_ms,
		       int max_ms, uint8_t *buf)
{
	int64_t start = mono_ms(), last = start;
	int i, r;

	for (;;) {
		bool moved = false, done = true;

		for (i = 0; i < MEM_PAIRS; i++) {
			moved |= pump_send(&p[i], buf);
			if (reading) {
				r = pump_recv(&p[i], buf);
				if (r < 0)
					return false;
				moved |= r;
			}
			done &= reading ? p[i].got >= p[i].target :
					  p[i].sent >= p[i].target;
		}
		if (done)
			return true;
		if (moved)
			last = mono_ms();
		else if (mono_ms() - last >= idle_ms)
			return !reading;
		if (mono_ms() - start >= max_ms)
			return false;
		msleep(moved ? 0 : 10);
	}
}

TEST_F_TIMEOUT(stack, protocol_memory_limit_bounds_queues_and_recovers, 600)
{
	const char *knob = self->family == AF_INET ?
			   "/proc/sys/net/ipv4/tcp_mem" :
			   "/proc/sys/net/xtcp/mem";
	int64_t unlimited, limited, bound, pressures;
	int sndbuf_unlimited, sndbuf_limited, lfd, i;
	struct mem_pair p[MEM_PAIRS], extra;
	uint8_t *buf = malloc(MEM_CHUNK);
	int64_t start;
	char val[64];
	uint16_t port;

	ASSERT_NE(NULL, buf);
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	/* Room for the windows past net.core.rmem_max; children inherit. */
	ASSERT_EQ(0, setsockopt_int(lfd, SOL_SOCKET, SO_RCVBUFFORCE,
				    MEM_RCVBUF));
	for (i = 0; i < MEM_PAIRS; i++) {
		p[i].tx = stack_connect(self->family, "127.0.0.1", port);
		ASSERT_LE(0, p[i].tx);
		p[i].rx = accept(lfd, NULL, NULL);
		ASSERT_LE(0, p[i].rx);
		p[i].sent = p[i].got = 0;
	}

	bound = MEM_LIMIT_PAGES * 4096LL +
		sysconf(_SC_NPROCESSORS_ONLN) * (1LL << 20) +
		2 * MEM_PAIRS * (128LL << 10);
	/*
	 * No limit: the pairs hold twice the bound, all they send (their
	 * windows and send buffers would take ten times more).
	 */
	set_targets(p, 2 * bound / MEM_PAIRS);
	ASSERT_TRUE(pump_pairs(p, false, 1000, 60000, buf));
	unlimited = pairs_charged(p);
	sndbuf_unlimited = pairs_sndbuf(p);
	set_targets(p, 0);
	ASSERT_TRUE(pump_pairs(p, true, 5000, 60000, buf));

	pressures = stack_counter(self->family, "TCPMemoryPressures",
				  "XtcpMemoryPressures");
	snprintf(val, sizeof(val), "%d %d %d", MEM_LIMIT_PAGES,
		 MEM_LIMIT_PAGES, MEM_LIMIT_PAGES);
	ASSERT_EQ(0, set_host_setting(self, knob, val));
	set_targets(p, UINT64_MAX);
	pump_pairs(p, false, 1000, 20000, buf);
	limited = pairs_charged(p);
	sndbuf_limited = pairs_sndbuf(p);
	pressures = stack_counter(self->family, "TCPMemoryPressures",
				  "XtcpMemoryPressures") - pressures;
	TH_LOG("held: %lld KiB without a limit, %lld KiB under %d pages (bound %lld KiB); send buffers %d -> %d KiB; %lld pressure episodes",
	       (long long)unlimited >> 10, (long long)limited >> 10,
	       MEM_LIMIT_PAGES, (long long)bound >> 10,
	       sndbuf_unlimited >> 10, sndbuf_limited >> 10,
	       (long long)pressures);
	EXPECT_LT(bound, unlimited);
	EXPECT_GE(bound, limited);
	EXPECT_GT(sndbuf_unlimited, sndbuf_limited);
	EXPECT_LE(1, pressures);

	/*
	 * Past the limit, a connection that holds nothing still gets its
	 * data and its FIN: its sender's first skb is charged, and in-order
	 * data for an empty receive queue is always taken (native's forced
	 * charges in tcp_sendmsg and tcp_data_queue).
	 */
	extra.tx = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, extra.tx);
	extra.rx = accept(lfd, NULL, NULL);
	ASSERT_LE(0, extra.rx);
	extra.sent = extra.got = 0;
	/* A small write first: its skb alone is under a minimal sndbuf. */
	extra.target = 100;
	start = mono_ms();
	while (extra.got < extra.target && mono_ms() - start < 5000) {
		pump_send(&extra, buf);
		ASSERT_LE(0, pump_recv(&extra, buf));
		msleep(1);
	}
	EXPECT_EQ(extra.target, extra.got)
		TH_LOG("a small write past the limit: %llu of 100 bytes",
		       (unsigned long long)extra.got);
	extra.target = 256 << 10;
	start = mono_ms();
	while (extra.got < extra.target && mono_ms() - start < 20000) {
		pump_send(&extra, buf);
		ASSERT_LE(0, pump_recv(&extra, buf));
		msleep(1);
	}
	ASSERT_EQ(0, shutdown(extra.tx, SHUT_WR));
	while (mono_ms() - start < 20000 &&
	       recv(extra.rx, buf, MEM_CHUNK, MSG_DONTWAIT) < 0)
		msleep(10);
	TH_LOG("a new connection past the limit: %llu of %llu bytes and its FIN in %lld ms",
	       (unsigned long long)extra.got,
	       (unsigned long long)extra.target,
	       (long long)(mono_ms() - start));
	EXPECT_EQ(extra.target, extra.got);
	EXPECT_EQ(0, recv(extra.rx, buf, MEM_CHUNK, MSG_DONTWAIT));
	close(extra.tx);
	close(extra.rx);

	/* The readers come back: every pair moves another MiB, intact. */
	set_targets(p, 1 << 20);
	EXPECT_TRUE(pump_pairs(p, true, 30000, 120000, buf));
	for (i = 0; i < MEM_PAIRS; i++) {
		EXPECT_EQ(p[i].target, p[i].got);
		close(p[i].tx);
		close(p[i].rx);
	}
	close(lfd);
	free(buf);
}

/*
 * Under memory pressure a receiver whose reader fell behind offers at most
 * 4 MSS until the pressure ends (native's rcv_ssthresh cut in
 * __tcp_select_window): once the reader has drained a full buffer, the
 * window the sender sees stays that small, where without pressure it
 * opens to most of the buffer. Pressure for the whole protocol comes from
 * a threshold of one page (net.ipv4.tcp_mem / net.xtcp.mem "1 1 N": none
 * is refused) and a ballast connection holding PRESSURE_BALLAST unread:
 * the protocol's total moves in steps of each CPU's 1 MiB reserve, so a
 * smaller charge would leave it at 0. The receiver's MSS is set to
 * PRESSURE_MSS so that 4 MSS is far below its buffer.
 */
#define PRESSURE_MSS	1000
#define PRESSURE_RCVBUF	65536
#define PRESSURE_SNDBUF	8192
#define PRESSURE_BALLAST	(4 << 20)

/*
 * The window the sender sees once a full receive buffer was drained, and
 * in @unit the receiver's window unit (1 << its scale).
 */
static int window_after_drain(int family, int *unit)
{
	struct tcp_info ti, rti;
	uint16_t port;
	int lfd, tx, rx, stalled = 0;
	char buf[4096];
	ssize_t n;

	lfd = stack_listen_opts(family, "127.0.0.1", &port, PRESSURE_RCVBUF, 0);
	if (lfd < 0 || setsockopt_int(lfd, IPPROTO_TCP, TCP_MAXSEG,
				      PRESSURE_MSS))
		return -1;
	tx = stack_connect_opts(family, "127.0.0.1", port, 0, PRESSURE_SNDBUF);
	rx = accept(lfd, NULL, NULL);
	close(lfd);
	if (tx < 0 || rx < 0)
		return -1;
	/* Fill: until nothing more goes for half a second. */
	memset(buf, 'p', sizeof(buf));
	while (stalled < 50) {
		n = send(tx, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			stalled = 0;
			continue;
		}
		msleep(10);
		stalled++;
	}
	while (recv(rx, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	/* The window update, then what the sender still had arrives. */
	msleep(500);
	if (get_tcp_info(tx, &ti) || get_tcp_info(rx, &rti))
		return -1;
	*unit = 1 << rti.tcpi_rcv_wscale;
	close(tx);
	close(rx);
	return (int)ti.tcpi_snd_wnd;
}

TEST_F(stack, memory_pressure_holds_window_at_4_mss)
{
	const char *knob = self->family == AF_INET ?
			   "/proc/sys/net/ipv4/tcp_mem" :
			   "/proc/sys/net/xtcp/mem";
	int free_wnd, held_wnd, unit, lfd, ballast_tx, ballast_rx;
	int64_t pressures;
	uint16_t port;

	free_wnd = window_after_drain(self->family, &unit);
	ASSERT_LE(0, free_wnd);
	pressures = stack_counter(self->family, "TCPMemoryPressures",
				  "XtcpMemoryPressures");
	ASSERT_EQ(0, set_host_setting(self, knob, "1 1 10000000"));
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, setsockopt_int(lfd, SOL_SOCKET, SO_RCVBUFFORCE,
				    2 * PRESSURE_BALLAST));
	ballast_tx = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, ballast_tx);
	ballast_rx = accept(lfd, NULL, NULL);
	ASSERT_LE(0, ballast_rx);
	close(lfd);
	ASSERT_EQ(PRESSURE_BALLAST,
		  send_pattern(ballast_tx, PRESSURE_BALLAST, 3));
	EXPECT_EQ(PRESSURE_BALLAST,
		  wait_inq(ballast_rx, PRESSURE_BALLAST, 20000));
	held_wnd = window_after_drain(self->family, &unit);
	ASSERT_LE(0, held_wnd);
	pressures = stack_counter(self->family, "TCPMemoryPressures",
				  "XtcpMemoryPressures") - pressures;
	TH_LOG("window after the drain: %d bytes, %d under pressure (%lld episodes, unit %d)",
	       free_wnd, held_wnd, (long long)pressures, unit);
	EXPECT_LE(1, pressures);
	/* Most of the buffer, less what was still in the send buffer. */
	EXPECT_LE(8 * PRESSURE_MSS, free_wnd);
	/* 4 MSS, rounded up to the window scale's unit. */
	EXPECT_GE(4 * PRESSURE_MSS + unit, held_wnd);
	EXPECT_LE(1, held_wnd);
	close(ballast_rx);
	close(ballast_tx);
}

TEST_HARNESS_MAIN
