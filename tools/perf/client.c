// SPDX-License-Identifier: GPL-2.0
/*
 * The client. Each measurement is one session with the server on the
 * stack being measured: control connection, PARAMS, REPLY, the data
 * connections and their threads, RESULTS. --repeat runs it N times per
 * stack, --compare on native, xtcp and unix, interleaved (native, xtcp,
 * unix, native, ...) so slow drift of the machine spreads over all three.
 */
#include "perf.h"
#include "proto.h"
#include "session.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void set_error(struct run_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int client_fatal(const struct opts *o, struct stack_outcome *out, unsigned int n,
			const char *err);

static void set_error(struct run_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

/* Errors say which stack they are about, once. */
static void name_stack(struct run_result *r)
{
	char tag[32], msg[ERR_LEN];

	snprintf(tag, sizeof(tag), "(%s)", stack_name(r->stack));
	if (strstr(r->error, tag) || (r->stack == STACK_XTCP && strstr(r->error, "xtcp ")))
		return;
	snprintf(msg, sizeof(msg), "%s", r->error);
	snprintf(r->error, sizeof(r->error), "%s: %.*s", stack_name(r->stack),
		 (int)(sizeof(r->error) - 16), msg);
}

/* Interval reports: progress summed over the threads at each tick. */
struct ticker {
	const struct opts *o;
	struct run_result *r;
	struct worker *w;
	unsigned int n;
	int64_t start_ns, last_ns, tick_ns;
	uint64_t last_amount;
};

static void on_tick(void *arg, int64_t now, bool last)
{
	struct ticker *t = arg;
	int64_t span = now - t->last_ns;
	uint64_t total = 0;
	struct interval iv;
	unsigned int i;

	for (i = 0; i < t->n; i++)
		total += atomic_load_explicit(&t->w[i].progress, memory_order_relaxed);
	/* A sliver after the last full interval says nothing useful. */
	if (span <= 0 || (last && span < t->tick_ns / 10))
		return;
	iv.start_s = (t->last_ns - t->start_ns) / 1e9;
	iv.end_s = (now - t->start_ns) / 1e9;
	iv.amount = total - t->last_amount;
	/* bits per ns are Gbit/s */
	iv.rate = t->o->p.test == TEST_STREAM ? iv.amount * 8.0 / span : iv.amount * 1e9 / span;
	t->last_ns = now;
	t->last_amount = total;
	if (interval_add(t->r, &iv))
		return;
	report_interval(t->o, t->r, &iv);
}

static double max_elapsed_s(const struct conn_stats *c, unsigned int n)
{
	int64_t max = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (c[i].elapsed_ns > max)
			max = c[i].elapsed_ns;
	return max / 1e9;
}

/*
 * Delivered bytes must agree, seen from both ends. The figure is the
 * sender's: its bytes over its time until the receiver's count arrived,
 * and its CPU time (the client's own, or what the server measured).
 */
static int stream_figures(const struct params *p, struct run_result *r,
			  const struct results_msg *res)
{
	uint64_t client_bytes = 0, server_bytes = 0;
	double sender_cpu_s;
	unsigned int i;

	for (i = 0; i < r->nconns; i++)
		client_bytes += p->reverse ? r->client_conns[i].bytes_rcvd :
				r->client_conns[i].bytes_sent;
	for (i = 0; i < res->nconns; i++)
		server_bytes += p->reverse ? res->conns[i].bytes_sent : res->conns[i].bytes_rcvd;
	if (client_bytes != server_bytes) {
		set_error(r, "byte counts differ: client %s %llu, server %s %llu",
			  p->reverse ? "received" : "sent", (unsigned long long)client_bytes,
			  p->reverse ? "sent" : "received", (unsigned long long)server_bytes);
		return -1;
	}
	r->bytes = client_bytes;
	if (p->reverse) {
		r->seconds = max_elapsed_s(res->conns, res->nconns);
		sender_cpu_s = r->server_cpu_s;
	} else {
		r->seconds = max_elapsed_s(r->client_conns, r->nconns);
		sender_cpu_s = r->client_cpu_s;
	}
	r->fig[0] = r->seconds > 0 ? r->bytes * 8.0 / r->seconds / 1e9 : NAN;
	r->fig[1] = r->bytes ? sender_cpu_s / (r->bytes / 1e9) : NAN;
	return 0;
}

/* Transactions must agree; latencies are the client's, per transaction. */
static int rr_figures(struct run_result *r, const struct results_msg *res, struct worker *w,
		      unsigned int n)
{
	static const double pct[] = { 50, 90, 99, 99.9 };
	uint64_t client_trans = 0, server_trans = 0;
	struct samples all;
	unsigned int i;

	for (i = 0; i < n; i++)
		client_trans += w[i].st.transactions;
	for (i = 0; i < res->nconns; i++)
		server_trans += res->conns[i].transactions;
	if (client_trans != server_trans) {
		set_error(r, "transaction counts differ: client %llu, server %llu",
			  (unsigned long long)client_trans, (unsigned long long)server_trans);
		return -1;
	}
	if (samples_merge_sorted(w, n, &all)) {
		set_error(r, "out of memory sorting latency samples");
		return -1;
	}
	r->transactions = client_trans;
	r->seconds = max_elapsed_s(r->client_conns, r->nconns);
	r->fig[0] = r->seconds > 0 ? client_trans / r->seconds : NAN;
	for (i = 0; i < 4; i++)
		r->fig[1 + i] = percentile(&all, pct[i]) / 1000.0;
	samples_free(&all);
	return 0;
}

static int copy_conns(struct run_result *r, struct worker *w, unsigned int n,
		      const struct results_msg *res)
{
	unsigned int i;

	r->client_conns = calloc(n, sizeof(*r->client_conns));
	r->server_conns = calloc(res->nconns ? res->nconns : 1, sizeof(*r->server_conns));
	if (!r->client_conns || !r->server_conns) {
		set_error(r, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		r->client_conns[i] = w[i].st;
	r->nconns = n;
	memcpy(r->server_conns, res->conns, res->nconns * sizeof(*r->server_conns));
	r->server_nconns = res->nconns;
	return 0;
}

/* stream, rr, crr: threads over the data connections, then RESULTS. */
static int run_data(const struct opts *o, const struct data_target *t, int ctrl,
		    struct run_result *r, struct results_msg *res)
{
	const struct params *p = t->p;
	unsigned int n = p->streams, i;
	uint8_t msg[MAX_MSG_LEN];
	char err[ERR_LEN];
	struct run_ctx ctx;
	struct ticker tk;
	struct worker *w;
	int64_t cpu0;
	worker_fn fn;
	size_t len;
	int rc = -1;

	w = workers_alloc(n, p->length);
	if (!w) {
		set_error(r, "out of memory for %u buffers of %u bytes", n, p->length);
		return -1;
	}
	run_ctx_init(&ctx, p, t->stack);
	cpu0 = cpu_ns();
	if (p->test == TEST_CRR) {
		ctx.addr = t->addr;
		ctx.addrlen = t->addrlen;
		fn = crr_client;
	} else {
		for (i = 0; i < n; i++) {
			w[i].fd = open_connection(t->stack, &t->addr, t->addrlen,
						  p->test == TEST_RR, IO_TIMEOUT_MS);
			if (w[i].fd < 0) {
				set_error(r, "data connection %u: %s", i, io_error(errno));
				goto out;
			}
		}
		if (p->test == TEST_RR) {
			fn = rr_client;
		} else if (p->reverse) {
			fn = stream_recv;
		} else {
			fn = stream_send;
			/* -n: split as evenly as possible (check_params: bytes >= n) */
			for (i = 0; p->bytes && i < n; i++)
				w[i].quota = p->bytes / n + (i < p->bytes % n);
		}
	}

	workers_start(&ctx, w, n, fn);
	tk = (struct ticker){
		.o = o, .r = r, .w = w, .n = n,
		.start_ns = ctx.start_ns, .last_ns = ctx.start_ns,
		.tick_ns = (int64_t)(o->interval * NS_PER_SEC),
	};
	workers_wait(&ctx, tk.tick_ns, o->interval > 0 ? on_tick : NULL, &tk);
	if (workers_join(&ctx, w, n, err, sizeof(err))) {
		set_error(r, "%s", err);
		goto out;
	}
	r->client_cpu_s = (cpu_ns() - cpu0) / 1e9;
	for (i = 0; i < n; i++) {
		if (w[i].fd >= 0)
			close(w[i].fd);
		w[i].fd = -1;
	}

	if (p->test == TEST_CRR && send_done(ctrl)) {
		set_error(r, "control connection: %s", strerror(errno));
		goto out;
	}
	if (recv_expect(ctrl, IO_TIMEOUT_MS, MSG_RESULTS, 0, msg, &len, err, sizeof(err)) ||
	    decode_results(msg, len, res, err, sizeof(err))) {
		set_error(r, "results: %s", err);
		goto out;
	}
	if (res->status != STATUS_OK) {
		set_error(r, "server: %s", res->reason);
		goto out;
	}
	r->server_cpu_s = res->cpu_ns / 1e9;
	if (copy_conns(r, w, n, res))
		goto out;
	if (p->test == TEST_STREAM)
		rc = stream_figures(p, r, res);
	else
		rc = rr_figures(r, res, w, n);
out:
	for (i = 0; i < n; i++)
		if (w[i].fd >= 0)
			close(w[i].fd);
	workers_free(w, n);
	run_ctx_destroy(&ctx);
	return rc;
}

/* One measurement on one stack: a whole session. 0 when r->ok. */
static int run_once(const struct opts *o, enum stack s, const struct sockaddr_storage *ip,
		    struct run_result *r)
{
	struct sockaddr_storage ctrl_addr;
	struct data_target t = { .p = &o->p, .stack = s };
	struct results_msg *res;
	struct reply_msg reply;
	uint8_t msg[MAX_MSG_LEN];
	char err[ERR_LEN];
	socklen_t alen;
	int ctrl, rc = -1;

	r->stack = s;
	r->done = true;
	res = calloc(1, sizeof(*res));
	if (!res) {
		set_error(r, "out of memory");
		return -1;
	}
	alen = make_addr(s, ip, o->port, false, &ctrl_addr);
	ctrl = open_connection(s, &ctrl_addr, alen, true, CONNECT_TIMEOUT_MS);
	if (ctrl < 0) {
		int e = errno;

		if (s == STACK_XTCP && e == EAFNOSUPPORT)
			stack_error(s, e, r->error, sizeof(r->error));
		else
			set_error(r, "server not reachable at %s:%d (%s): %s", o->host, o->port,
				  stack_name(s), io_error(e));
		free(res);
		return -1;
	}
	if (send_params(ctrl, &o->p)) {
		set_error(r, "sending parameters to %s:%d (%s): %s", o->host, o->port,
			  stack_name(s), strerror(errno));
		goto out;
	}
	if (recv_expect(ctrl, CTRL_TIMEOUT_MS, MSG_REPLY, REPLY_LEN, msg, NULL, err,
			sizeof(err))) {
		set_error(r, "server at %s:%d (%s): %s", o->host, o->port, stack_name(s), err);
		goto out;
	}
	decode_reply(msg, &reply);
	if (reply.status != STATUS_OK) {
		set_error(r, "server refused: %s", reply.reason);
		goto out;
	}
	if (s != STACK_UNIX && (!reply.data_port || reply.data_port > 65535)) {
		set_error(r, "server sent a bad data port %u", reply.data_port);
		goto out;
	}
	t.addrlen = make_addr(s, ip, (int)reply.data_port, true, &t.addr);
	if (s == STACK_UNIX)
		t.addrlen = make_addr(s, ip, o->port, true, &t.addr);

	if (o->p.test == TEST_IDLE) {
		int64_t cpu0 = cpu_ns();

		rc = idle_client(&t, ctrl, r, res);
		r->client_cpu_s = (cpu_ns() - cpu0) / 1e9;
	} else {
		rc = run_data(o, &t, ctrl, r, res);
	}
	if (!rc && o->p.test == TEST_IDLE) {
		r->server_cpu_s = res->cpu_ns / 1e9;
		r->fig[0] = (double)r->slab_delta / r->idle_conns;
		r->fig[1] = (double)r->used_delta / r->idle_conns;
	}
out:
	close(ctrl);
	free(res);
	r->ok = !rc;
	if (rc)
		name_stack(r);
	return rc;
}

int run_client(const struct opts *o)
{
	struct stack_outcome out[NR_STACKS];
	char why[NR_STACKS][ERR_LEN], err[ERR_LEN];
	struct sockaddr_storage ip;
	bool need_ip = false, failed = false;
	unsigned int n = 0, i, rep;

	memset(out, 0, sizeof(out));
	if (o->compare) {
		for (i = 0; i < NR_STACKS; i++)
			out[n++].stack = i;
	} else {
		out[n++].stack = o->stack;
	}
	for (i = 0; i < n; i++)
		need_ip |= out[i].stack != STACK_UNIX;

	memset(&ip, 0, sizeof(ip));
	if (need_ip && resolve_ipv4(o->host, &ip, err, sizeof(err)))
		return client_fatal(o, out, n, err);
	if (o->p.test == TEST_IDLE && raise_nofile(o->p.streams + 64ULL, err, sizeof(err)))
		return client_fatal(o, out, n, err);

	for (i = 0; i < n; i++) {
		int e = probe_stack(out[i].stack, why[i], sizeof(why[i]));

		if (!e)
			continue;
		out[i].unavailable = why[i];
		out[i].not_loaded = out[i].stack == STACK_XTCP && e == EAFNOSUPPORT;
		fprintf(stderr, PROG ": %s\n", why[i]);
		failed = true;
	}
	if (!o->compare && out[0].unavailable)
		return client_fatal(o, out, n, NULL);

	for (i = 0; i < n; i++) {
		out[i].runs = calloc(o->repeat, sizeof(*out[i].runs));
		if (!out[i].runs) {
			snprintf(err, sizeof(err), "out of memory");
			failed = true;
			goto done;
		}
	}

	report_begin(o, out, n);
	for (rep = 0; rep < o->repeat; rep++) {
		for (i = 0; i < n; i++) {
			struct run_result *r = &out[i].runs[rep];

			/* After a failure a stack is not tried again. */
			if (out[i].unavailable || out[i].failed)
				continue;
			r->run = rep;
			if (run_once(o, out[i].stack, &ip, r)) {
				fprintf(stderr, PROG ": %s\n", r->error);
				out[i].failed = true;
				failed = true;
				continue;
			}
			report_run(o, r);
		}
	}
	if (o->json)
		json_report(o, out, n, NULL);
	else
		report_end(o, out, n);
done:
	for (i = 0; i < n; i++) {
		for (rep = 0; out[i].runs && rep < o->repeat; rep++)
			run_result_free(&out[i].runs[rep]);
		free(out[i].runs);
	}
	return failed ? 1 : 0;
}

/* An error before any measurement: say it (in JSON too, with -J) and fail. */
static int client_fatal(const struct opts *o, struct stack_outcome *out, unsigned int n,
			const char *err)
{
	if (err)
		fprintf(stderr, PROG ": %s\n", err);
	if (o->json)
		json_report(o, out, n, err);
	return 1;
}
