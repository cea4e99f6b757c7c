// SPDX-License-Identifier: GPL-2.0
/*
 * rr: on one connection, the client sends N bytes and the server answers N
 * bytes, again and again. crr: the same, but each transaction is a whole
 * connection: connect, request, response, close. The client times every
 * transaction on CLOCK_MONOTONIC; the server counts them, and the two
 * counts must agree.
 */
#include "perf.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

/* 0 when the peer closed its side, as it does after the last transaction. */
static int expect_eof(int fd, char *buf)
{
	ssize_t n;

	do
		n = read(fd, buf, 1);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		errno = EPROTO;
	return n ? -1 : 0;
}

/* One request out on @fd and its response back; -1 (reported) on failure. */
static int exchange(struct worker *w, int fd, size_t len)
{
	ssize_t n;

	if (write_all(fd, w->buf, len)) {
		worker_fail(w, "write: %s", io_error(errno));
		return -1;
	}
	n = read_full(fd, w->buf, len);
	if (n != (ssize_t)len) {
		worker_fail(w, "reading the response: %s",
			    n < 0 ? io_error(errno) : "connection closed by the server");
		return -1;
	}
	return 0;
}

static int record(struct worker *w, int64_t t0, int64_t t1)
{
	if (samples_add(&w->lat, t1 - t0)) {
		worker_fail(w, "out of memory for latency samples");
		return -1;
	}
	w->st.transactions++;
	w->st.elapsed_ns = t1 - w->ctx->start_ns;
	atomic_store_explicit(&w->progress, w->st.transactions, memory_order_relaxed);
	return 0;
}

void rr_client(struct worker *w)
{
	struct run_ctx *ctx = w->ctx;
	size_t len = ctx->p->length;

	while (!worker_should_stop(w)) {
		int64_t t0 = now_ns();

		if (t0 >= ctx->deadline_ns)
			break;
		if (exchange(w, w->fd, len))
			break;
		if (record(w, t0, now_ns()))
			break;
	}
	w->st.bytes_sent = w->st.transactions * len;
	w->st.bytes_rcvd = w->st.transactions * len;
	if (worker_should_stop(w))
		return;
	/* The server ends when it sees our EOF; its close tells us it saw it. */
	if (shutdown(w->fd, SHUT_WR) || expect_eof(w->fd, w->buf))
		worker_fail(w, "closing: %s", io_error(errno));
}

void rr_server(struct worker *w)
{
	struct run_ctx *ctx = w->ctx;
	size_t len = ctx->p->length;

	for (;;) {
		ssize_t n = read_full(w->fd, w->buf, len);

		if (!n)
			break;
		if (n != (ssize_t)len) {
			worker_fail(w, "reading a request: %s",
				    n < 0 ? io_error(errno) : "client closed mid-request");
			break;
		}
		if (write_all(w->fd, w->buf, len)) {
			worker_fail(w, "write: %s", io_error(errno));
			break;
		}
		w->st.transactions++;
		atomic_store_explicit(&w->progress, w->st.transactions, memory_order_relaxed);
	}
	w->st.bytes_sent = w->st.transactions * len;
	w->st.bytes_rcvd = w->st.transactions * len;
	w->st.elapsed_ns = now_ns() - ctx->start_ns;
}

void crr_client(struct worker *w)
{
	struct run_ctx *ctx = w->ctx;
	size_t len = ctx->p->length;

	while (!worker_should_stop(w)) {
		int64_t t0 = now_ns();
		int fd, err;

		if (t0 >= ctx->deadline_ns)
			break;
		fd = open_connection(ctx->stack, &ctx->addr, ctx->addrlen, true, IO_TIMEOUT_MS);
		if (fd < 0) {
			int e = errno;

			worker_fail(w, "connect: %s%s", io_error(e),
				    e == EADDRNOTAVAIL ?
				    " (no local port left: TIME_WAIT? try a shorter -t)" : "");
			break;
		}
		err = exchange(w, fd, len);
		/* -R: the server closes first (TIME_WAIT on its side). */
		if (!err && ctx->p->reverse && expect_eof(fd, w->buf)) {
			worker_fail(w, "waiting for the server's close: %s", io_error(errno));
			err = -1;
		}
		close(fd);
		if (err)
			break;
		if (record(w, t0, now_ns()))
			break;
	}
	w->st.bytes_sent = w->st.transactions * len;
	w->st.bytes_rcvd = w->st.transactions * len;
}

/* One connection of a crr client: request, response, then its close. */
static int crr_serve_one(struct worker *w, int fd)
{
	size_t len = w->ctx->p->length;
	ssize_t n;

	if (set_io_timeout(fd, IO_TIMEOUT_MS) || set_nodelay(w->ctx->stack, fd)) {
		worker_fail(w, "setsockopt: %s", io_error(errno));
		return -1;
	}
	n = read_full(fd, w->buf, len);
	if (n != (ssize_t)len) {
		worker_fail(w, "reading a request: %s",
			    n < 0 ? io_error(errno) : "client closed mid-request");
		return -1;
	}
	if (write_all(fd, w->buf, len)) {
		worker_fail(w, "write: %s", io_error(errno));
		return -1;
	}
	/* -R: we close first, and TIME_WAIT stays on our side. */
	if (w->ctx->p->reverse)
		return 0;
	/* The client closes first (TIME_WAIT stays on its side). */
	if (expect_eof(fd, w->buf)) {
		worker_fail(w, "waiting for the client's close: %s", io_error(errno));
		return -1;
	}
	return 0;
}

/*
 * The data listener is shared and non-blocking: a thread that loses the
 * race for a connection goes back to poll. The session closes the write
 * end of a pipe (ctx->wake_fd is its read end) when the client is done.
 */
void crr_server(struct worker *w)
{
	struct run_ctx *ctx = w->ctx;
	struct pollfd pfd[2] = {
		{ .fd = ctx->listen_fd, .events = POLLIN },
		{ .fd = ctx->wake_fd, .events = POLLIN },
	};

	for (;;) {
		int fd, rc;

		rc = poll(pfd, 2, -1);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			worker_fail(w, "poll: %s", io_error(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		if (!pfd[0].revents)
			continue;
		fd = accept4(ctx->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				continue;
			worker_fail(w, "accept: %s", io_error(errno));
			break;
		}
		rc = crr_serve_one(w, fd);
		close(fd);
		if (rc)
			break;
		w->st.transactions++;
		atomic_store_explicit(&w->progress, w->st.transactions, memory_order_relaxed);
	}
	w->st.bytes_sent = w->st.transactions * ctx->p->length;
	w->st.bytes_rcvd = w->st.transactions * ctx->p->length;
	w->st.elapsed_ns = now_ns() - ctx->start_ns;
}
