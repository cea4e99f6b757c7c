// SPDX-License-Identifier: GPL-2.0
/*
 * Human output, all on stdout: a header, interval lines as they happen,
 * a line per run, the table (--compare or --repeat), and last one
 * machine-readable "client key=value ..." line per stack, which scripts
 * parse (scripts/bench takes gbit_per_s from it).
 */
#include "perf.h"

#include <math.h>
#include <string.h>

static void format_size(uint64_t n, char *buf, size_t size)
{
	if (n >= 1000000000ULL)
		snprintf(buf, size, "%.2f GB", n / 1e9);
	else if (n >= 1000000)
		snprintf(buf, size, "%.2f MB", n / 1e6);
	else if (n >= 1000)
		snprintf(buf, size, "%.2f KB", n / 1e3);
	else
		snprintf(buf, size, "%llu B", (unsigned long long)n);
}

static const char *rate_unit(enum test t)
{
	return t == TEST_STREAM ? "Gbit/s" : t == TEST_CRR ? "conn/s" : "trans/s";
}

static void run_label(const struct opts *o, const struct run_result *r, char *buf, size_t size)
{
	if (o->repeat > 1)
		snprintf(buf, size, "%s run %u/%u", stack_name(r->stack), r->run + 1, o->repeat);
	else
		snprintf(buf, size, "%s", stack_name(r->stack));
}

void report_begin(const struct opts *o, const struct stack_outcome *out, unsigned int n)
{
	const struct params *p = &o->p;
	unsigned int i;

	if (o->json)
		return;
	printf(PROG ": ");
	switch (p->test) {
	case TEST_STREAM:
		printf("stream, %u connection%s, %u-byte writes, ", p->streams,
		       p->streams > 1 ? "s" : "", p->length);
		if (p->bytes)
			printf("%llu bytes", (unsigned long long)p->bytes);
		else
			printf("%g s", o->secs);
		printf(", %s sends", p->reverse ? "server" : "client");
		break;
	case TEST_RR:
	case TEST_CRR:
		printf("%s, %u %s%s, %u-byte request and response, %g s", test_name(p->test),
		       p->streams, p->test == TEST_RR ? "connection" : "thread",
		       p->streams > 1 ? "s" : "", p->length, o->secs);
		if (p->test == TEST_CRR)
			printf(", %s closes first", p->reverse ? "server" : "client");
		break;
	default:
		printf("%u %s", p->streams,
		       p->reverse ? "TIME_WAIT entries" : "idle connections");
		break;
	}
	printf("; server %s port %d; ", o->host, o->port);
	for (i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", stack_name(out[i].stack));
	if (o->repeat > 1)
		printf("; %u runs each", o->repeat);
	printf("\n");
}

void report_interval(const struct opts *o, const struct run_result *r,
		     const struct interval *iv)
{
	char label[64], size[32];

	if (o->json)
		return;
	if (o->repeat > 1)
		snprintf(label, sizeof(label), "%s #%u", stack_name(r->stack), r->run + 1);
	else
		snprintf(label, sizeof(label), "%s", stack_name(r->stack));
	if (o->p.test == TEST_STREAM) {
		format_size(iv->amount, size, sizeof(size));
		printf("[%s %6.2f-%6.2f s] %10s %9.2f Gbit/s\n", label, iv->start_s, iv->end_s,
		       size, iv->rate);
	} else {
		printf("[%s %6.2f-%6.2f s] %10.0f %s\n", label, iv->start_s, iv->end_s, iv->rate,
		       rate_unit(o->p.test));
	}
}

void report_run(const struct opts *o, const struct run_result *r)
{
	const struct params *p = &o->p;
	char label[64], size[32];
	unsigned int i;

	if (o->json)
		return;
	run_label(o, r, label, sizeof(label));
	switch (p->test) {
	case TEST_STREAM:
		format_size(r->bytes, size, sizeof(size));
		printf("%s: %s in %.3f s = %.2f Gbit/s, sender CPU %.3f s/GB "
		       "(client %.2f s, server %.2f s)\n", label, size, r->seconds, r->fig[0],
		       r->fig[1], r->client_cpu_s, r->server_cpu_s);
		if (r->nconns < 2 || o->repeat > 1)
			break;
		/* Per connection, as its sender saw it. */
		for (i = 0; i < r->nconns; i++) {
			const struct conn_stats *c = !p->reverse ? &r->client_conns[i] :
				i < r->server_nconns ? &r->server_conns[i] : NULL;
			uint64_t bytes = c ? c->bytes_sent : 0;
			double secs = c ? c->elapsed_ns / 1e9 : 0;

			format_size(bytes, size, sizeof(size));
			printf("  connection %u: %s in %.3f s = %.2f Gbit/s\n", i, size, secs,
			       secs > 0 ? bytes * 8.0 / secs / 1e9 : 0.0);
		}
		break;
	case TEST_RR:
	case TEST_CRR:
		printf("%s: %llu %s in %.3f s = %.0f %s; latency us p50 %.1f p90 %.1f p99 %.1f "
		       "p99.9 %.1f; CPU client %.2f s, server %.2f s\n", label,
		       (unsigned long long)r->transactions,
		       p->test == TEST_RR ? "transactions" : "connections", r->seconds,
		       r->fig[0], rate_unit(p->test), r->fig[1], r->fig[2], r->fig[3], r->fig[4],
		       r->client_cpu_s, r->server_cpu_s);
		break;
	default:
		printf("%s: %u %s: Slab %+.0f B/conn, used %+.0f B/conn "
		       "(both endpoints on this host)\n", label, r->idle_conns,
		       p->reverse ? "TIME_WAIT entries" : "idle connections", r->fig[0],
		       r->fig[1]);
		break;
	}
}

/* A stack counts in the table and the ratios only if no run of it failed. */
static bool usable(const struct stack_outcome *so)
{
	return so->runs && !so->unavailable && !so->failed;
}

static const struct stack_outcome *find(const struct stack_outcome *out, unsigned int n,
					enum stack s)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (out[i].stack == s)
			return &out[i];
	return NULL;
}

/* median(num) / median(den) of figure @fig; false when either is missing. */
bool ratio(const struct opts *o, const struct stack_outcome *out, unsigned int n,
	   enum stack num, enum stack den, unsigned int fig, double *value)
{
	const struct stack_outcome *a = find(out, n, num), *b = find(out, n, den);
	struct summary sa, sb;

	if (!a || !b || !usable(a) || !usable(b))
		return false;
	summarize(a->runs, o->repeat, fig, &sa);
	summarize(b->runs, o->repeat, fig, &sb);
	if (!sa.n || !sb.n || !isfinite(sa.med) || !isfinite(sb.med) || sb.med == 0)
		return false;
	*value = sa.med / sb.med;
	return true;
}

/* The run closest to the median of the first figure (the headline one). */
static const struct run_result *median_run(const struct opts *o,
					   const struct stack_outcome *so)
{
	const struct run_result *best = NULL;
	struct summary sum;
	unsigned int i;

	if (!usable(so))
		return NULL;
	summarize(so->runs, o->repeat, 0, &sum);
	for (i = 0; i < o->repeat; i++) {
		const struct run_result *r = &so->runs[i];

		if (r->ok && (!best || fabs(r->fig[0] - sum.med) < fabs(best->fig[0] - sum.med)))
			best = r;
	}
	return best;
}

#define TABLE_ROWS	(NR_STACKS + 4)
#define TABLE_COLS	(MAX_FIGS + 1)
#define CELL_LEN	80

/* Cells aligned by column; a "span" row is its name and then free text. */
struct table {
	unsigned int rows, cols;
	char cell[TABLE_ROWS][TABLE_COLS][CELL_LEN];
	char span[TABLE_ROWS][ERR_LEN + 64];
};

static void table_print(const struct table *t)
{
	unsigned int width[TABLE_COLS] = { 0 }, r, c;

	for (r = 0; r < t->rows; r++) {
		for (c = 0; c < t->cols; c++) {
			unsigned int len = strlen(t->cell[r][c]);

			if ((c == 0 || !t->span[r][0]) && len > width[c])
				width[c] = len;
		}
	}
	for (r = 0; r < t->rows; r++) {
		printf("%-*s", (int)width[0], t->cell[r][0]);
		if (t->span[r][0]) {
			printf("  %s\n", t->span[r]);
			continue;
		}
		for (c = 1; c < t->cols; c++)
			printf("  %*s", (int)width[c], t->cell[r][c]);
		printf("\n");
	}
}

static void format_summary(const struct opts *o, const struct figure *f,
			   const struct summary *s, char *buf, size_t size)
{
	char med[24], min[24], max[24];

	if (!s->n || !isfinite(s->med)) {
		snprintf(buf, size, "-");
		return;
	}
	snprintf(med, sizeof(med), f->fmt, s->med);
	if (o->repeat < 2) {
		snprintf(buf, size, "%s", med);
		return;
	}
	snprintf(min, sizeof(min), f->fmt, s->min);
	snprintf(max, sizeof(max), f->fmt, s->max);
	snprintf(buf, size, "%s (%s-%s)", med, min, max);
}

static void report_table(const struct opts *o, const struct stack_outcome *out, unsigned int n)
{
	static const struct { enum stack num, den; } ratios[] = {
		{ STACK_XTCP, STACK_NATIVE },
		{ STACK_XTCP, STACK_UNIX },
	};
	const struct figure *figs;
	unsigned int nfigs = test_figures(o->p.test, &figs), i, f;
	struct table t;

	memset(&t, 0, sizeof(t));
	t.cols = nfigs + 1;
	snprintf(t.cell[0][0], CELL_LEN, "stack");
	for (f = 0; f < nfigs; f++)
		snprintf(t.cell[0][f + 1], CELL_LEN, "%s", figs[f].head);
	t.rows = 1;

	for (i = 0; i < n; i++) {
		const struct stack_outcome *so = &out[i];
		unsigned int row = t.rows++;

		snprintf(t.cell[row][0], CELL_LEN, "%s", stack_name(so->stack));
		if (so->unavailable) {
			if (so->not_loaded)
				snprintf(t.span[row], sizeof(t.span[row]),
					 "unavailable (module not loaded)");
			else
				snprintf(t.span[row], sizeof(t.span[row]), "unavailable: %s",
					 so->unavailable);
			continue;
		}
		if (so->failed) {
			unsigned int k;

			for (k = 0; k < o->repeat; k++)
				if (so->runs[k].done && !so->runs[k].ok)
					snprintf(t.span[row], sizeof(t.span[row]), "failed: %s",
						 so->runs[k].error);
			continue;
		}
		for (f = 0; f < nfigs; f++) {
			struct summary s;

			summarize(so->runs, o->repeat, f, &s);
			format_summary(o, &figs[f], &s, t.cell[row][f + 1], CELL_LEN);
		}
	}

	/* Ratios only mean something when all three stacks were asked for. */
	for (i = 0; o->compare && i < ARRAY_SIZE(ratios); i++) {
		unsigned int row = t.rows++;
		const struct stack_outcome *num = find(out, n, ratios[i].num);
		const struct stack_outcome *den = find(out, n, ratios[i].den);

		snprintf(t.cell[row][0], CELL_LEN, "%s/%s", stack_name(ratios[i].num),
			 stack_name(ratios[i].den));
		if (!usable(num) || !usable(den)) {
			snprintf(t.span[row], sizeof(t.span[row]), "n/a (%s %s)",
				 stack_name(usable(num) ? den->stack : num->stack),
				 (usable(num) ? den : num)->unavailable ? "unavailable" : "failed");
			continue;
		}
		for (f = 0; f < nfigs; f++) {
			double v;

			if (ratio(o, out, n, ratios[i].num, ratios[i].den, f, &v))
				snprintf(t.cell[row][f + 1], CELL_LEN, "%.3f", v);
			else
				snprintf(t.cell[row][f + 1], CELL_LEN, "-");
		}
	}

	printf("\n");
	if (o->repeat > 1)
		printf("median (min-max) of %u runs\n", o->repeat);
	table_print(&t);
}

/* The line scripts parse: key=value, "client stack=S" first. */
static void summary_line(const struct opts *o, const struct stack_outcome *so)
{
	const struct run_result *r = median_run(o, so);
	const struct figure *figs;
	unsigned int nfigs = test_figures(o->p.test, &figs), f;
	struct summary s[MAX_FIGS];

	if (!r)
		return;
	for (f = 0; f < nfigs; f++)
		summarize(so->runs, o->repeat, f, &s[f]);
	printf("client stack=%s", stack_name(so->stack));
	switch (o->p.test) {
	case TEST_STREAM:
		/* The four fields scripts/bench has always parsed come first. */
		printf(" bytes=%llu seconds=%.3f gbit_per_s=%.3f", (unsigned long long)r->bytes,
		       r->seconds, s[0].med);
		printf(" test=stream reverse=%d streams=%u len=%u sender_cpu_s_per_gb=%.3f",
		       o->p.reverse, o->p.streams, o->p.length, s[1].med);
		break;
	case TEST_RR:
	case TEST_CRR:
		printf(" test=%s streams=%u len=%u %s=%llu seconds=%.3f %s=%.0f",
		       test_name(o->p.test), o->p.streams, o->p.length,
		       o->p.test == TEST_RR ? "transactions" : "connections",
		       (unsigned long long)r->transactions, r->seconds, figs[0].key, s[0].med);
		for (f = 1; f < nfigs; f++)
			printf(" %s=%.1f", figs[f].key, s[f].med);
		break;
	default:
		printf(" test=idle conns=%u %s=%.0f %s=%.0f", r->idle_conns, figs[0].key, s[0].med,
		       figs[1].key, s[1].med);
		break;
	}
	if (o->repeat > 1)
		printf(" runs=%u %s_min=%.3f %s_max=%.3f", s[0].n, figs[0].key, s[0].min,
		       figs[0].key, s[0].max);
	printf("\n");
}

void report_end(const struct opts *o, const struct stack_outcome *out, unsigned int n)
{
	unsigned int i;

	if (o->compare || o->repeat > 1)
		report_table(o, out, n);
	if (o->p.test == TEST_IDLE)
		printf("(bytes per %s, both endpoints on this host: "
		       "change of /proc/meminfo Slab and of MemTotal-MemFree-Buffers-Cached "
		       "over %u connections)\n",
		       o->p.reverse ? "TIME_WAIT entry left after the server closed first"
				    : "idle established connection", o->p.streams);
	for (i = 0; i < n; i++)
		summary_line(o, &out[i]);
}
