// SPDX-License-Identifier: GPL-2.0
/*
 * Bulk transfer. The sender writes for the duration (or its share of -n),
 * shuts down its sending side and waits for the receiver's 8-byte count
 * of what arrived: its time runs until that count is back, so it covers
 * delivery, not just handing bytes to the kernel. A count that differs
 * from what was sent is an error.
 */
#include "perf.h"
#include "proto.h"

#include <errno.h>
#include <unistd.h>

void stream_send(struct worker *w)
{
	struct run_ctx *ctx = w->ctx;
	size_t len = ctx->p->length;
	uint8_t count[COUNT_LEN];
	uint64_t sent = 0, got;
	ssize_t n;

	while (!worker_should_stop(w)) {
		size_t chunk = len;

		if (w->quota) {
			if (sent >= w->quota)
				break;
			if (w->quota - sent < chunk)
				chunk = w->quota - sent;
		} else if (now_ns() >= ctx->deadline_ns) {
			break;
		}
		n = write(w->fd, w->buf, chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			worker_fail(w, "write: %s", io_error(errno));
			break;
		}
		sent += n;
		atomic_store_explicit(&w->progress, sent, memory_order_relaxed);
	}
	w->st.bytes_sent = sent;
	if (worker_should_stop(w))
		return;
	if (shutdown(w->fd, SHUT_WR)) {
		worker_fail(w, "shutdown: %s", io_error(errno));
		return;
	}
	n = read_full(w->fd, count, sizeof(count));
	w->st.elapsed_ns = now_ns() - ctx->start_ns;
	if (n != sizeof(count)) {
		worker_fail(w, "no byte count from the receiver: %s",
			    n < 0 ? io_error(errno) : "connection closed");
		return;
	}
	got = get_count(count);
	if (got != sent)
		worker_fail(w, "the receiver got %llu of %llu bytes sent",
			    (unsigned long long)got, (unsigned long long)sent);
}

void stream_recv(struct worker *w)
{
	struct run_ctx *ctx = w->ctx;
	size_t len = ctx->p->length;
	uint8_t count[COUNT_LEN];
	uint64_t got = 0;

	for (;;) {
		ssize_t n = read(w->fd, w->buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			w->st.bytes_rcvd = got;
			worker_fail(w, "read: %s", io_error(errno));
			return;
		}
		if (!n)
			break;
		got += n;
		atomic_store_explicit(&w->progress, got, memory_order_relaxed);
	}
	w->st.bytes_rcvd = got;
	w->st.elapsed_ns = now_ns() - ctx->start_ns;
	put_count(count, got);
	if (write_all(w->fd, count, sizeof(count)))
		worker_fail(w, "sending the byte count: %s", io_error(errno));
}
