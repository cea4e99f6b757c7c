// SPDX-License-Identifier: GPL-2.0
/*
 * The server: listens on the port on every stack it can open (native, xtcp
 * if its family is registered, unix) or on the one --stack names, and runs
 * sessions one at a time in a session thread. The main thread keeps
 * accepting control connections meanwhile, to tell other clients "busy"
 * instead of leaving them waiting.
 *
 * Each session opens its own data listener on the session's stack (a free
 * port on the address the client reached, or the ".data" unix name), so
 * nothing but the client's data connections ever arrives there.
 */
#include "perf.h"
#include "proto.h"
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct listener {
	enum stack stack;
	int fd;
};

struct server {
	const struct opts *o;
	struct listener l[NR_STACKS];
	unsigned int nl;
	int port;
	int done_pipe[2];	/* the session thread writes a byte when it ends */
	bool busy;
	atomic_bool wrapping_up;	/* the session sent its last word */
	pthread_t thread;
	unsigned long sessions;
};

struct session {
	struct server *srv;
	unsigned long id;
	enum stack stack;
	int ctrl;
	char peer[64];
	int rc;
	struct params p;
	struct results_msg res;
};

/*
 * Called before the session's last message (a refusal or RESULTS): the
 * client may connect for its next session the moment it has read it, and
 * must not be told "busy" by a session that is only closing down.
 */
static void last_word(struct session *s)
{
	atomic_store(&s->srv->wrapping_up, true);
}

static void session_log(const struct session *s, const char *what, const char *err)
{
	fprintf(stderr, PROG ": session %lu from %s (%s): %s%s\n", s->id, s->peer,
		stack_name(s->stack), what, err);
}

static void log_results(const struct session *s)
{
	const struct params *p = &s->p;
	const struct results_msg *res = &s->res;
	uint64_t bytes = 0, trans = 0;
	int64_t max_ns = 0;
	unsigned int i;
	double secs;

	for (i = 0; i < res->nconns; i++) {
		bytes += p->reverse ? res->conns[i].bytes_sent : res->conns[i].bytes_rcvd;
		trans += res->conns[i].transactions;
		if (res->conns[i].elapsed_ns > max_ns)
			max_ns = res->conns[i].elapsed_ns;
	}
	secs = max_ns / 1e9;
	printf("server stack=%s test=%s peer=%s", stack_name(s->stack), test_name(p->test),
	       s->peer);
	switch (p->test) {
	case TEST_STREAM:
		printf(" streams=%u reverse=%d bytes=%llu seconds=%.3f gbit_per_s=%.3f",
		       p->streams, p->reverse, (unsigned long long)bytes, secs,
		       secs > 0 ? bytes * 8.0 / secs / 1e9 : 0.0);
		break;
	case TEST_RR:
	case TEST_CRR:
		printf(" streams=%u len=%u transactions=%llu seconds=%.3f per_s=%.0f", p->streams,
		       p->length, (unsigned long long)trans, secs, secs > 0 ? trans / secs : 0.0);
		break;
	default:
		printf(" conns=%u", p->streams);
		break;
	}
	printf(" cpu_s=%.3f\n", res->cpu_ns / 1e9);
}

/* Accept one data connection, unless the client's control connection ends. */
static int accept_data(int lfd, int ctrl, char *err, size_t errlen)
{
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = lfd, .events = POLLIN },
			{ .fd = ctrl, .events = POLLIN },
		};
		int fd, rc = poll(pfd, 2, CTRL_TIMEOUT_MS);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0) {
			snprintf(err, errlen, "waiting for data connections: %s",
				 rc ? strerror(errno) : "timed out");
			return -1;
		}
		if (pfd[1].revents) {
			snprintf(err, errlen, "client went away before its data connections");
			return -1;
		}
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN) {
			snprintf(err, errlen, "accept: %s", strerror(errno));
			return -1;
		}
	}
}

/* stream, rr, crr: the server's half of the threads. */
static int serve_data(struct session *s, int lfd, char *err, size_t errlen)
{
	const struct params *p = &s->p;
	unsigned int n = p->streams, i;
	int wake[2] = { -1, -1 };
	struct run_ctx ctx;
	struct worker *w;
	int rc = -1;

	w = workers_alloc(n, p->length);
	if (!w) {
		snprintf(err, errlen, "out of memory for %u buffers of %u bytes", n, p->length);
		return -1;
	}
	run_ctx_init(&ctx, p, s->stack);
	if (p->test == TEST_CRR) {
		uint8_t msg[MAX_MSG_LEN];
		int64_t wait_ms = p->duration_ms + (int64_t)IO_TIMEOUT_MS;

		if (pipe2(wake, O_CLOEXEC) ||
		    fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK)) {
			snprintf(err, errlen, "crr setup: %s", strerror(errno));
			goto out;
		}
		ctx.listen_fd = lfd;
		ctx.wake_fd = wake[0];
		workers_start(&ctx, w, n, crr_server);
		/* Until the client says it is done (or is gone): then wake all. */
		if (recv_expect(s->ctrl, (int)wait_ms, MSG_DONE, DONE_LEN, msg, NULL, err, errlen))
			atomic_store(&ctx.stop, true);
		close(wake[1]);
		wake[1] = -1;
		if (workers_join(&ctx, w, n, err[0] ? NULL : err, errlen) || atomic_load(&ctx.stop))
			goto out;
	} else {
		for (i = 0; i < n; i++) {
			w[i].fd = accept_data(lfd, s->ctrl, err, errlen);
			if (w[i].fd < 0)
				goto out;
			if (set_io_timeout(w[i].fd, IO_TIMEOUT_MS) ||
			    (p->test == TEST_RR && set_nodelay(s->stack, w[i].fd))) {
				snprintf(err, errlen, "setsockopt: %s", strerror(errno));
				goto out;
			}
			if (p->test == TEST_STREAM && p->reverse && p->bytes)
				w[i].quota = p->bytes / n + (i < p->bytes % n);
		}
		workers_start(&ctx, w, n, p->test == TEST_RR ? rr_server :
				  p->reverse ? stream_send : stream_recv);
		if (workers_join(&ctx, w, n, err, errlen))
			goto out;
	}
	for (i = 0; i < n; i++)
		s->res.conns[i] = w[i].st;
	s->res.nconns = n;
	rc = 0;
out:
	for (i = 0; i < n; i++)
		if (w[i].fd >= 0)
			close(w[i].fd);
	if (wake[0] >= 0)
		close(wake[0]);
	if (wake[1] >= 0)
		close(wake[1]);
	workers_free(w, n);
	run_ctx_destroy(&ctx);
	return rc;
}

/* A data listener for this session only, on the session's stack. */
static int open_data_listener(struct session *s, uint32_t *port, char *err, size_t errlen)
{
	struct sockaddr_storage local, addr;
	socklen_t len = sizeof(local);
	int backlog, fd;

	memset(&local, 0, sizeof(local));
	/* The address the client reached, any free port; unix: the .data name. */
	if (s->stack != STACK_UNIX && getsockname(s->ctrl, (struct sockaddr *)&local, &len)) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		return -1;
	}
	len = make_addr(s->stack, &local, s->stack == STACK_UNIX ? s->srv->port : 0, true, &addr);
	/* Room for all at once: a dropped SYN costs a 1 s retransmission. */
	backlog = s->p.test == TEST_IDLE && s->p.streams > 1024 ?
		  (int)(s->p.streams < 65535 ? s->p.streams : 65535) : 1024;
	fd = open_listener(s->stack, &addr, &len, backlog, err, errlen);
	if (fd >= 0)
		*port = addr_port(&addr);
	return fd;
}

static int serve_session(struct session *s)
{
	uint8_t msg[MAX_MSG_LEN];
	char err[ERR_LEN] = "";
	uint32_t port = 0;
	int64_t cpu0;
	int lfd, rc;
	size_t len;

	if (recv_expect(s->ctrl, CTRL_TIMEOUT_MS, MSG_PARAMS, 0, msg, &len, err, sizeof(err))) {
		session_log(s, "refused: ", err);
		/* If it is a client of another version, it may still read this. */
		last_word(s);
		send_reply(s->ctrl, STATUS_REFUSED, 0, err);
		return -1;
	}
	if (decode_params(msg, len, &s->p, err, sizeof(err))) {
		session_log(s, "refused: bad parameters: ", err);
		last_word(s);
		send_reply(s->ctrl, STATUS_REFUSED, 0, err);
		return -1;
	}
	if (s->p.test == TEST_IDLE &&
	    raise_nofile(s->p.streams + 64ULL, err, sizeof(err))) {
		session_log(s, "refused: ", err);
		last_word(s);
		send_reply(s->ctrl, STATUS_REFUSED, 0, err);
		return -1;
	}
	lfd = open_data_listener(s, &port, err, sizeof(err));
	if (lfd < 0) {
		session_log(s, "refused: ", err);
		last_word(s);
		send_reply(s->ctrl, STATUS_REFUSED, 0, err);
		return -1;
	}
	cpu0 = cpu_ns();
	if (send_reply(s->ctrl, STATUS_OK, port, "")) {
		session_log(s, "control connection: ", strerror(errno));
		close(lfd);
		return -1;
	}

	if (s->p.test == TEST_IDLE)
		rc = idle_server(s->ctrl, lfd, &s->p, err, sizeof(err));
	else
		rc = serve_data(s, lfd, err, sizeof(err));
	close(lfd);

	s->res.cpu_ns = cpu_ns() - cpu0;
	s->res.status = rc ? STATUS_FAILED : STATUS_OK;
	/* Cut to the wire's REASON_LEN here; the log below has it whole. */
	memcpy(s->res.reason, err, strnlen(err, sizeof(s->res.reason) - 1));
	if (rc)
		session_log(s, "", err);
	last_word(s);
	if (send_results(s->ctrl, &s->res)) {
		if (!rc)
			session_log(s, "sending results: ", strerror(errno));
		return -1;
	}
	if (!rc)
		log_results(s);
	return rc;
}

static void *session_main(void *arg)
{
	struct session *s = arg;
	char byte = 0;

	s->rc = serve_session(s);
	last_word(s);
	lingering_close(s->ctrl);
	while (write(s->srv->done_pipe[1], &byte, 1) < 0 && errno == EINTR)
		;
	return s;
}

/* Another client while a session runs: read its PARAMS, answer busy. */
static void refuse_busy(int fd)
{
	uint8_t msg[MAX_MSG_LEN];
	unsigned int type;
	char err[ERR_LEN];
	size_t len;

	if (!recv_msg(fd, 2000, msg, &type, &len, err, sizeof(err)))
		send_reply(fd, STATUS_REFUSED, 0,
			   "busy: another session is running, try again later");
	lingering_close(fd);
}

static int start_session(struct server *srv, int fd, enum stack stack,
			 const struct sockaddr_storage *peer, socklen_t plen)
{
	struct session *s = calloc(1, sizeof(*s));
	int err;

	if (!s) {
		close(fd);
		return -1;
	}
	s->srv = srv;
	s->id = ++srv->sessions;
	s->stack = stack;
	s->ctrl = fd;
	if (stack == STACK_UNIX)
		snprintf(s->peer, sizeof(s->peer), "unix");
	else
		addr_string(peer, plen, s->peer, sizeof(s->peer));
	err = pthread_create(&srv->thread, NULL, session_main, s);
	if (err) {
		fprintf(stderr, PROG ": pthread_create: %s\n", strerror(err));
		send_reply(fd, STATUS_REFUSED, 0, "server out of threads");
		lingering_close(fd);
		free(s);
		return -1;
	}
	srv->busy = true;
	return 0;
}

/* Wait for the session thread to end (its byte on done_pipe); its status. */
static int reap_session(struct server *srv)
{
	struct session *s;
	char byte;
	int rc;

	while (read(srv->done_pipe[0], &byte, 1) < 0 && errno == EINTR)
		;
	pthread_join(srv->thread, (void **)&s);
	srv->busy = false;
	atomic_store(&srv->wrapping_up, false);
	rc = s->rc ? 1 : 0;
	free(s);
	return rc;
}

/* Listen on the port on each stack; xtcp is optional unless asked for. */
static int open_listeners(struct server *srv)
{
	const struct opts *o = srv->o;
	struct sockaddr_storage ip;
	char err[ERR_LEN];
	enum stack s;

	memset(&ip, 0, sizeof(ip));
	ip.ss_family = AF_INET;
	((struct sockaddr_in *)&ip)->sin_addr.s_addr = htonl(INADDR_ANY);
	if (o->bind_addr && resolve_ipv4(o->bind_addr, &ip, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	srv->port = o->port;
	for (s = 0; s < NR_STACKS; s++) {
		struct sockaddr_storage addr;
		socklen_t len;
		int fd;

		if (o->stack_set && s != o->stack)
			continue;
		if (s == STACK_UNIX && !srv->port) {
			fprintf(stderr, PROG ": unix needs a port number (-p 0 works with "
				"native or xtcp only)\n");
			return -1;
		}
		if (!o->stack_set && s == STACK_XTCP &&
		    probe_stack(s, err, sizeof(err)) == EAFNOSUPPORT) {
			fprintf(stderr, PROG ": %s; serving without it\n", err);
			continue;
		}
		len = make_addr(s, &ip, srv->port, false, &addr);
		fd = open_listener(s, &addr, &len, 64, err, sizeof(err));
		if (fd < 0) {
			fprintf(stderr, PROG ": %s\n", err);
			return -1;
		}
		if (!srv->port)
			srv->port = addr_port(&addr);
		srv->l[srv->nl].stack = s;
		srv->l[srv->nl].fd = fd;
		srv->nl++;
	}
	return 0;
}

int run_server(const struct opts *o)
{
	struct server srv = { .o = o, .done_pipe = { -1, -1 } };
	unsigned int i;
	int rc = 1;

	if (open_listeners(&srv))
		goto out;
	if (pipe2(srv.done_pipe, O_CLOEXEC)) {
		fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
		goto out;
	}
	/* Scripts wait for "listening": printed once every listener is up. */
	for (i = 0; i < srv.nl; i++) {
		printf("server stack=%s listening port=%d", stack_name(srv.l[i].stack),
		       stack_port(srv.l[i].stack, srv.port));
		if (srv.l[i].stack == STACK_UNIX)
			printf(" name=@" PROG ".%d", srv.port);
		printf("\n");
	}

	for (;;) {
		struct pollfd pfd[NR_STACKS + 1];
		int n;

		for (i = 0; i < srv.nl; i++)
			pfd[i] = (struct pollfd){ .fd = srv.l[i].fd, .events = POLLIN };
		pfd[srv.nl] = (struct pollfd){ .fd = srv.done_pipe[0], .events = POLLIN };
		n = poll(pfd, srv.nl + 1, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
			goto out;
		}
		if (pfd[srv.nl].revents) {
			rc = reap_session(&srv);
			if (o->once)
				goto out;
			continue;
		}
		for (i = 0; i < srv.nl; i++) {
			struct sockaddr_storage peer;
			socklen_t plen = sizeof(peer);
			int fd;

			if (!pfd[i].revents)
				continue;
			fd = accept4(srv.l[i].fd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
			if (fd < 0) {
				if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
					fprintf(stderr, PROG ": accept (%s): %s\n",
						stack_name(srv.l[i].stack), strerror(errno));
				continue;
			}
			/* A session that is only closing down is as good as over. */
			if (srv.busy && atomic_load(&srv.wrapping_up)) {
				rc = reap_session(&srv);
				if (o->once) {
					close(fd);
					goto out;
				}
			}
			if (srv.busy)
				refuse_busy(fd);
			else
				start_session(&srv, fd, srv.l[i].stack, &peer, plen);
		}
	}
out:
	for (i = 0; i < srv.nl; i++)
		close(srv.l[i].fd);
	if (srv.done_pipe[0] >= 0) {
		close(srv.done_pipe[0]);
		close(srv.done_pipe[1]);
	}
	return rc;
}
