// SPDX-License-Identifier: GPL-2.0
/*
 * Latency samples (exact percentiles from sorted samples), the figures
 * each test reports, and medians over --repeat runs.
 */
#include "perf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int samples_add(struct samples *s, uint64_t ns)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			s->oom = true;
			return -1;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ns;
	return 0;
}

void samples_free(struct samples *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* All threads' samples in one sorted array. */
int samples_merge_sorted(struct worker *w, unsigned int n, struct samples *out)
{
	size_t total = 0, at = 0;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		total += w[i].lat.n;
	if (!total)
		return 0;
	out->v = malloc(total * sizeof(*out->v));
	if (!out->v)
		return -1;
	for (i = 0; i < n; i++) {
		memcpy(out->v + at, w[i].lat.v, w[i].lat.n * sizeof(*out->v));
		at += w[i].lat.n;
	}
	out->n = out->cap = total;
	qsort(out->v, total, sizeof(*out->v), cmp_u64);
	return 0;
}

/* Nearest rank: the smallest sample with at least pct% of them at or below. */
double percentile(const struct samples *sorted, double pct)
{
	double exact = pct / 100.0 * sorted->n;
	size_t rank;

	if (!sorted->n)
		return NAN;
	rank = (size_t)exact;
	if (rank < exact)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > sorted->n)
		rank = sorted->n;
	return (double)sorted->v[rank - 1];
}

static const char *const test_names[NR_TESTS] = {
	[TEST_STREAM] = "stream",
	[TEST_RR] = "rr",
	[TEST_CRR] = "crr",
	[TEST_IDLE] = "idle",
};

const char *test_name(enum test t)
{
	return t < NR_TESTS ? test_names[t] : "?";
}

/* idle is chosen by --idle-conns, not by name. */
int parse_test(const char *s, enum test *out)
{
	enum test t;

	for (t = 0; t < TEST_IDLE; t++) {
		if (!strcmp(s, test_names[t])) {
			*out = t;
			return 0;
		}
	}
	return -1;
}

static const struct figure stream_figs[] = {
	{ "gbit_per_s", "Gbit/s", "%.2f" },
	{ "sender_cpu_s_per_gb", "sender CPU s/GB", "%.3f" },
};

static const struct figure rr_figs[] = {
	{ "trans_per_s", "trans/s", "%.0f" },
	{ "p50_us", "p50 us", "%.1f" },
	{ "p90_us", "p90 us", "%.1f" },
	{ "p99_us", "p99 us", "%.1f" },
	{ "p99_9_us", "p99.9 us", "%.1f" },
};

static const struct figure crr_figs[] = {
	{ "conn_per_s", "conn/s", "%.0f" },
	{ "p50_us", "p50 us", "%.1f" },
	{ "p90_us", "p90 us", "%.1f" },
	{ "p99_us", "p99 us", "%.1f" },
	{ "p99_9_us", "p99.9 us", "%.1f" },
};

static const struct figure idle_figs[] = {
	{ "slab_bytes_per_conn", "Slab B/conn", "%.0f" },
	{ "used_bytes_per_conn", "used B/conn", "%.0f" },
};

unsigned int test_figures(enum test t, const struct figure **figs)
{
	switch (t) {
	case TEST_RR:
		*figs = rr_figs;
		return ARRAY_SIZE(rr_figs);
	case TEST_CRR:
		*figs = crr_figs;
		return ARRAY_SIZE(crr_figs);
	case TEST_IDLE:
		*figs = idle_figs;
		return ARRAY_SIZE(idle_figs);
	default:
		*figs = stream_figs;
		return ARRAY_SIZE(stream_figs);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median (mean of the middle two for an even count), min and max of good runs. */
void summarize(const struct run_result *runs, unsigned int n, unsigned int fig,
	       struct summary *out)
{
	double v[MAX_REPEAT];
	unsigned int i, k = 0;

	for (i = 0; i < n && k < MAX_REPEAT; i++)
		if (runs[i].ok && isfinite(runs[i].fig[fig]))
			v[k++] = runs[i].fig[fig];
	out->n = k;
	if (!k) {
		out->med = out->min = out->max = NAN;
		return;
	}
	qsort(v, k, sizeof(v[0]), cmp_double);
	out->min = v[0];
	out->max = v[k - 1];
	out->med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

int interval_add(struct run_result *r, const struct interval *iv)
{
	if (r->niv == r->iv_cap) {
		size_t cap = r->iv_cap ? r->iv_cap * 2 : 64;
		struct interval *p = realloc(r->iv, cap * sizeof(*p));

		if (!p)
			return -1;
		r->iv = p;
		r->iv_cap = cap;
	}
	r->iv[r->niv++] = *iv;
	return 0;
}

void run_result_free(struct run_result *r)
{
	free(r->iv);
	free(r->client_conns);
	free(r->server_conns);
	r->iv = NULL;
	r->client_conns = r->server_conns = NULL;
}
