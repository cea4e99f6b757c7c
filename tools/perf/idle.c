// SPDX-License-Identifier: GPL-2.0
/*
 * --idle-conns N: what an idle established connection costs in kernel
 * memory. The client waits for earlier frees to settle, reads /proc/meminfo,
 * opens N connections that the server accepts and holds, waits for things
 * to settle again, reads it again.
 * Both endpoints live on this host (over loopback), so a connection's
 * figure counts both of its sockets. /proc/slabinfo is root-only and per
 * cache; meminfo's Slab and the used total are enough here.
 *
 * With -R, what a TIME_WAIT entry costs: the server closes the N
 * connections first, the client closes each on its EOF, and the second
 * reading is taken once they are all closed, when only the server's N
 * TIME_WAIT entries are left of them (for 60 s at the default length).
 */
#include "perf.h"
#include "proto.h"
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int read_meminfo(struct meminfo *m, char *err, size_t errlen)
{
	long long total = -1, free_kb = -1, buffers = -1, cached = -1, slab = -1;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f) {
		snprintf(err, errlen, "/proc/meminfo: %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		long long v;
		char key[64];

		if (sscanf(line, "%63[^:]: %lld", key, &v) != 2)
			continue;
		if (!strcmp(key, "MemTotal"))
			total = v;
		else if (!strcmp(key, "MemFree"))
			free_kb = v;
		else if (!strcmp(key, "Buffers"))
			buffers = v;
		else if (!strcmp(key, "Cached"))
			cached = v;
		else if (!strcmp(key, "Slab"))
			slab = v;
	}
	fclose(f);
	if (total < 0 || free_kb < 0 || buffers < 0 || cached < 0 || slab < 0) {
		snprintf(err, errlen, "/proc/meminfo: missing MemTotal, MemFree, Buffers, "
			 "Cached or Slab");
		return -1;
	}
	m->slab = slab * 1024;
	m->used = (total - free_kb - buffers - cached) * 1024;
	return 0;
}

static void close_all(int *fds, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* -R: wait for the server's FIN on each connection, then close it. */
static int close_on_eof(int *fds, uint32_t n, struct run_result *r)
{
	uint32_t i;
	char byte;

	for (i = 0; i < n; i++) {
		struct pollfd pfd = { .fd = fds[i], .events = POLLIN };
		ssize_t got;

		if (poll(&pfd, 1, IO_TIMEOUT_MS) != 1 ||
		    (got = read(fds[i], &byte, 1)) != 0) {
			snprintf(r->error, sizeof(r->error),
				 "connection %u of %u: no EOF from the server", i + 1, n);
			return -1;
		}
		close(fds[i]);
		fds[i] = -1;
	}
	return 0;
}

/* DONE to the server (which closes its side now), then its RESULTS. */
static int finish_session(int ctrl, struct run_result *r, struct results_msg *res)
{
	uint8_t msg[MAX_MSG_LEN];
	size_t len;

	if (send_done(ctrl)) {
		snprintf(r->error, sizeof(r->error), "control connection: %s", strerror(errno));
		return -1;
	}
	return recv_expect(ctrl, IO_TIMEOUT_MS, MSG_RESULTS, 0, msg, &len, r->error,
			   sizeof(r->error)) ||
	       decode_results(msg, len, res, r->error, sizeof(r->error));
}

int idle_client(const struct data_target *t, int ctrl, struct run_result *r,
		struct results_msg *res)
{
	uint32_t n = t->p->streams, i, opened = 0;
	struct meminfo before, after;
	uint8_t msg[MAX_MSG_LEN];
	int *fds, rc = -1;

	fds = calloc(n, sizeof(*fds));
	if (!fds) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		return -1;
	}
	/*
	 * Let the frees of what ran before (sockets go through RCU) land first:
	 * they would show up as a negative cost of ours.
	 */
	sleep_ms(IDLE_SETTLE_MS);
	if (read_meminfo(&before, r->error, sizeof(r->error)))
		goto out;
	for (i = 0; i < n; i++) {
		fds[i] = open_connection(t->stack, &t->addr, t->addrlen, false, IO_TIMEOUT_MS);
		if (fds[i] < 0) {
			snprintf(r->error, sizeof(r->error), "idle connection %u of %u: %s",
				 i + 1, n, io_error(errno));
			goto out;
		}
		opened++;
	}
	/* Allow 1 ms per connection on top, for a slow (emulated) machine. */
	if (recv_expect(ctrl, CTRL_TIMEOUT_MS + n, MSG_HELD, HELD_LEN, msg, NULL, r->error,
			sizeof(r->error)))
		goto out;
	if (decode_held(msg) != n) {
		snprintf(r->error, sizeof(r->error), "the server holds %u of %u connections",
			 decode_held(msg), n);
		goto out;
	}
	if (t->p->reverse &&
	    (finish_session(ctrl, r, res) || close_on_eof(fds, n, r)))
		goto out;
	sleep_ms(IDLE_SETTLE_MS);
	if (read_meminfo(&after, r->error, sizeof(r->error)))
		goto out;
	if (!t->p->reverse && finish_session(ctrl, r, res))
		goto out;
	r->idle_conns = n;
	r->slab_delta = after.slab - before.slab;
	r->used_delta = after.used - before.used;
	rc = 0;
out:
	close_all(fds, opened);
	free(fds);
	return rc;
}

/*
 * Accept and hold the client's connections until it says DONE. Watching
 * the control connection too: a client that goes away ends the session.
 */
int idle_server(int ctrl, int lfd, const struct params *p, char *err, size_t errlen)
{
	uint32_t n = p->streams, held = 0;
	uint8_t msg[MAX_MSG_LEN];
	int *fds, rc = -1;

	fds = calloc(n, sizeof(*fds));
	if (!fds) {
		snprintf(err, errlen, "out of memory for %u connections", n);
		return -1;
	}
	while (held < n) {
		struct pollfd pfd[2] = {
			{ .fd = lfd, .events = POLLIN },
			{ .fd = ctrl, .events = POLLIN },
		};
		int fd, ready = poll(pfd, 2, IO_TIMEOUT_MS);

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0) {
			snprintf(err, errlen, "%u of %u idle connections after %d s: %s", held, n,
				 IO_TIMEOUT_MS / 1000, ready ? strerror(errno) : "timed out");
			goto out;
		}
		if (pfd[1].revents) {
			snprintf(err, errlen, "client went away with %u of %u connections open",
				 held, n);
			goto out;
		}
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
				continue;
			snprintf(err, errlen, "accept: %s", strerror(errno));
			goto out;
		}
		fds[held++] = fd;
	}
	if (send_held(ctrl, held)) {
		snprintf(err, errlen, "control connection: %s", strerror(errno));
		goto out;
	}
	/* The client measures for about IDLE_SETTLE_MS now. */
	if (recv_expect(ctrl, IDLE_SETTLE_MS + IO_TIMEOUT_MS, MSG_DONE, DONE_LEN, msg, NULL, err,
			errlen))
		goto out;
	rc = 0;
out:
	close_all(fds, held);
	free(fds);
	return rc;
}
