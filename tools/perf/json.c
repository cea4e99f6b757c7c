// SPDX-License-Identifier: GPL-2.0
/*
 * -J: one JSON document on stdout, written at the end: the parameters,
 * per stack every run (with intervals when -i) and the summary, the
 * ratios for --compare, and the errors. Numbers that are not finite
 * become null.
 */
#include "perf.h"
#include "proto.h"

#include <math.h>
#include <string.h>

#define JSON_MAX_DEPTH	16

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];
};

static void json_string_body(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			/* Control characters, and bytes that may not be valid UTF-8. */
			if (*p < 0x20 || *p >= 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* Separator, indentation and "key": for the next value. */
static void json_key(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (j->depth)
		fprintf(j->f, "\n%*s", j->depth * 2, "");
	if (key) {
		json_string_body(j->f, key);
		fputs(": ", j->f);
	}
}

static void json_open(struct json *j, const char *key, char bracket)
{
	json_key(j, key);
	fputc(bracket, j->f);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct json *j, char bracket)
{
	bool empty = j->first[j->depth];

	j->depth--;
	if (!empty)
		fprintf(j->f, "\n%*s", j->depth * 2, "");
	fputc(bracket, j->f);
}

static void json_str(struct json *j, const char *key, const char *v)
{
	json_key(j, key);
	if (v)
		json_string_body(j->f, v);
	else
		fputs("null", j->f);
}

static void json_num(struct json *j, const char *key, double v)
{
	json_key(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.10g", v);
	else
		fputs("null", j->f);
}

static void json_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

static void json_i64(struct json *j, const char *key, long long v)
{
	json_key(j, key);
	fprintf(j->f, "%lld", v);
}

static void json_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

static void json_params(struct json *j, const struct opts *o)
{
	const struct params *p = &o->p;

	json_open(j, "params", '{');
	json_str(j, "host", o->host);
	json_i64(j, "port", o->port);
	json_str(j, "test", test_name(p->test));
	json_bool(j, "reverse", p->reverse);
	json_u64(j, "length", p->length);
	json_u64(j, p->test == TEST_IDLE ? "idle_conns" : "streams", p->streams);
	if (p->bytes)
		json_u64(j, "bytes", p->bytes);
	else
		json_num(j, "duration_s", p->duration_ms / 1000.0);
	json_num(j, "interval_s", o->interval);
	json_u64(j, "repeat", o->repeat);
	json_bool(j, "compare", o->compare);
	json_u64(j, "protocol_version", MSG_VERSION);
	json_close(j, '}');
}

static void json_conns(struct json *j, const char *key, const struct conn_stats *c,
		       unsigned int n)
{
	unsigned int i;

	json_open(j, key, '[');
	for (i = 0; c && i < n; i++) {
		json_open(j, NULL, '{');
		json_u64(j, "bytes_sent", c[i].bytes_sent);
		json_u64(j, "bytes_received", c[i].bytes_rcvd);
		json_u64(j, "transactions", c[i].transactions);
		json_num(j, "seconds", c[i].elapsed_ns / 1e9);
		json_close(j, '}');
	}
	json_close(j, ']');
}

static void json_run(struct json *j, const struct opts *o, const struct run_result *r)
{
	const struct figure *figs;
	unsigned int nfigs = test_figures(o->p.test, &figs), f;
	size_t i;

	json_open(j, NULL, '{');
	json_u64(j, "run", r->run + 1);
	json_bool(j, "ok", r->ok);
	json_str(j, "error", r->ok ? NULL : r->error);
	if (r->ok) {
		for (f = 0; f < nfigs; f++)
			json_num(j, figs[f].key, r->fig[f]);
		switch (o->p.test) {
		case TEST_STREAM:
			json_u64(j, "bytes", r->bytes);
			json_num(j, "seconds", r->seconds);
			break;
		case TEST_RR:
		case TEST_CRR:
			json_u64(j, "transactions", r->transactions);
			json_num(j, "seconds", r->seconds);
			break;
		default:
			json_u64(j, "conns", r->idle_conns);
			json_i64(j, "slab_delta_bytes", r->slab_delta);
			json_i64(j, "used_delta_bytes", r->used_delta);
			break;
		}
		json_num(j, "client_cpu_s", r->client_cpu_s);
		json_num(j, "server_cpu_s", r->server_cpu_s);
		if (o->p.test != TEST_IDLE) {
			json_conns(j, "client_connections", r->client_conns, r->nconns);
			json_conns(j, "server_connections", r->server_conns, r->server_nconns);
		}
	}
	if (r->niv) {
		json_open(j, "intervals", '[');
		for (i = 0; i < r->niv; i++) {
			const struct interval *iv = &r->iv[i];

			json_open(j, NULL, '{');
			json_num(j, "start", iv->start_s);
			json_num(j, "end", iv->end_s);
			if (o->p.test == TEST_STREAM) {
				json_u64(j, "bytes", iv->amount);
				json_num(j, "gbit_per_s", iv->rate);
			} else {
				json_u64(j, "transactions", iv->amount);
				json_num(j, "per_s", iv->rate);
			}
			json_close(j, '}');
		}
		json_close(j, ']');
	}
	json_close(j, '}');
}

static void json_stack(struct json *j, const struct opts *o, const struct stack_outcome *so)
{
	const struct figure *figs;
	unsigned int nfigs = test_figures(o->p.test, &figs), f, i;
	bool ok = so->runs && !so->unavailable && !so->failed;

	json_open(j, NULL, '{');
	json_str(j, "stack", stack_name(so->stack));
	json_bool(j, "available", !so->unavailable);
	json_bool(j, "ok", ok);
	if (so->unavailable) {
		json_str(j, "error", so->unavailable);
	} else {
		const char *err = NULL;

		for (i = 0; so->runs && i < o->repeat; i++)
			if (so->runs[i].done && !so->runs[i].ok)
				err = so->runs[i].error;
		json_str(j, "error", err);
	}
	if (so->runs && !so->unavailable) {
		json_open(j, "runs", '[');
		for (i = 0; i < o->repeat; i++)
			if (so->runs[i].done)
				json_run(j, o, &so->runs[i]);
		json_close(j, ']');
		json_open(j, "summary", '{');
		for (f = 0; f < nfigs; f++) {
			struct summary s;

			summarize(so->runs, o->repeat, f, &s);
			json_open(j, figs[f].key, '{');
			json_num(j, "median", s.med);
			json_num(j, "min", s.min);
			json_num(j, "max", s.max);
			json_u64(j, "runs", s.n);
			json_close(j, '}');
		}
		json_close(j, '}');
	}
	if (o->p.test == TEST_IDLE)
		json_str(j, "note", o->p.reverse ?
			 "bytes per TIME_WAIT entry left after the server closed first" :
			 "bytes per idle established connection, both endpoints on this host");
	json_close(j, '}');
}

static void json_ratios(struct json *j, const struct opts *o, const struct stack_outcome *out,
			unsigned int n)
{
	static const enum stack dens[] = { STACK_NATIVE, STACK_UNIX };
	const struct figure *figs;
	unsigned int nfigs = test_figures(o->p.test, &figs), i, f;

	json_open(j, "ratios", '{');
	for (i = 0; i < ARRAY_SIZE(dens); i++) {
		char key[32];
		double v;

		snprintf(key, sizeof(key), "xtcp/%s", stack_name(dens[i]));
		if (!ratio(o, out, n, STACK_XTCP, dens[i], 0, &v)) {
			json_str(j, key, NULL);
			continue;
		}
		json_open(j, key, '{');
		for (f = 0; f < nfigs; f++) {
			if (ratio(o, out, n, STACK_XTCP, dens[i], f, &v))
				json_num(j, figs[f].key, v);
			else
				json_str(j, figs[f].key, NULL);
		}
		json_close(j, '}');
	}
	json_close(j, '}');
}

void json_report(const struct opts *o, const struct stack_outcome *out, unsigned int n,
		 const char *fatal)
{
	struct json j = { .f = stdout, .first = { true } };
	bool ok = !fatal;
	unsigned int i, k;

	json_open(&j, NULL, '{');
	json_str(&j, "tool", PROG);
	json_params(&j, o);
	json_open(&j, "results", '[');
	for (i = 0; i < n; i++)
		json_stack(&j, o, &out[i]);
	json_close(&j, ']');
	if (o->compare)
		json_ratios(&j, o, out, n);

	json_open(&j, "errors", '[');
	if (fatal)
		json_str(&j, NULL, fatal);
	for (i = 0; i < n; i++) {
		if (out[i].unavailable) {
			json_str(&j, NULL, out[i].unavailable);
			ok = false;
		}
		for (k = 0; out[i].runs && k < o->repeat; k++) {
			const struct run_result *r = &out[i].runs[k];

			if (!r->done || r->ok)
				continue;
			json_str(&j, NULL, r->error);
			ok = false;
		}
	}
	json_close(&j, ']');
	json_bool(&j, "ok", ok);
	json_close(&j, '}');
	fputc('\n', j.f);
	fflush(j.f);
}
