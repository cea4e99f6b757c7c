// SPDX-License-Identifier: GPL-2.0
/*
 * send() copies and returns; the peer's receive window, not the peer's
 * reads, decides how far data goes (seed 001). A receiver that never reads
 * closes its window, the sender's buffer fills, and send blocks, times out
 * (SO_SNDTIMEO) or returns a partial count / EAGAIN (non-blocking).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
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
 * shut past the timeout and the sender's connection ends with ETIMEDOUT.
 */
TEST_F(stack, user_timeout_ends_wait_on_zero_window)
{
	struct pollfd pfd = { .events = POLLOUT };
	static uint8_t buf[64 * KiB];
	int tx, rx, err = 0;

	small_pair(_metadata, self->family, &tx, &rx);
	ASSERT_EQ(0, setsockopt_int(tx, IPPROTO_TCP, TCP_USER_TIMEOUT, 2000));
	ASSERT_EQ(0, set_nonblock(tx, 1));
	while (send(tx, buf, sizeof(buf), 0) > 0)
		;
	ASSERT_EQ(EAGAIN, errno);
	pfd.fd = tx;
	/* POLLERR is reported whatever the events asked for. */
	while (poll(&pfd, 1, 4 * WAIT_MS) == 1 && !(pfd.revents & POLLERR))
		usleep(100000);
	ASSERT_TRUE(pfd.revents & POLLERR);
	ASSERT_EQ(0, getsockopt_int(tx, SOL_SOCKET, SO_ERROR, &err));
	ASSERT_EQ(ETIMEDOUT, err);
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

TEST_HARNESS_MAIN
