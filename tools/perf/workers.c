// SPDX-License-Identifier: GPL-2.0
/*
 * One thread per data connection. The threads are created first and held
 * at a gate, so all of them start on the same clock reading; the caller
 * may then wake up at interval ticks to report progress while they run.
 */
#include "perf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void run_ctx_init(struct run_ctx *ctx, const struct params *p, enum stack s)
{
	pthread_condattr_t attr;

	memset(ctx, 0, sizeof(*ctx));
	ctx->p = p;
	ctx->stack = s;
	ctx->listen_fd = -1;
	ctx->wake_fd = -1;
	atomic_init(&ctx->stop, false);
	pthread_mutex_init(&ctx->lock, NULL);
	/* Ticks are absolute CLOCK_MONOTONIC times, like everything else here. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&ctx->cond, &attr);
	pthread_condattr_destroy(&attr);
}

void run_ctx_destroy(struct run_ctx *ctx)
{
	pthread_cond_destroy(&ctx->cond);
	pthread_mutex_destroy(&ctx->lock);
}

/* The pattern is arbitrary; it just should not be all zeroes. */
struct worker *workers_alloc(unsigned int n, size_t buflen)
{
	struct worker *w = calloc(n, sizeof(*w));
	unsigned int i;
	size_t j;

	if (!w)
		return NULL;
	for (i = 0; i < n; i++) {
		w[i].fd = -1;
		w[i].index = i;
		atomic_init(&w[i].progress, 0);
		w[i].buf = malloc(buflen);
		if (!w[i].buf) {
			workers_free(w, i);
			return NULL;
		}
		for (j = 0; j < buflen; j++)
			w[i].buf[j] = (char)(j * 131 % 251);
	}
	return w;
}

void workers_free(struct worker *w, unsigned int n)
{
	unsigned int i;

	if (!w)
		return;
	for (i = 0; i < n; i++) {
		free(w[i].buf);
		samples_free(&w[i].lat);
	}
	free(w);
}

bool worker_should_stop(struct worker *w)
{
	return atomic_load_explicit(&w->ctx->stop, memory_order_relaxed);
}

/* Record the first error of this thread and make the others end early. */
void worker_fail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->err[0]) {
		va_start(ap, fmt);
		vsnprintf(w->err, sizeof(w->err), fmt, ap);
		va_end(ap);
	}
	atomic_store(&w->ctx->stop, true);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run_ctx *ctx = w->ctx;

	pthread_mutex_lock(&ctx->lock);
	while (!ctx->go)
		pthread_cond_wait(&ctx->cond, &ctx->lock);
	pthread_mutex_unlock(&ctx->lock);

	if (!atomic_load(&ctx->stop))
		ctx->fn(w);

	pthread_mutex_lock(&ctx->lock);
	ctx->running--;
	pthread_cond_broadcast(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);
	return NULL;
}

/*
 * Start @n threads running @fn, all released together; the common start
 * time and the deadline (params' duration) are set just before release.
 * -1 if a thread could not be created: the others are released at once
 * with ctx->stop set, so workers_join() still finds them.
 */
int workers_start(struct run_ctx *ctx, struct worker *w, unsigned int n, worker_fn fn)
{
	unsigned int i;
	int rc = 0;

	ctx->fn = fn;
	ctx->go = false;
	ctx->running = 0;
	for (i = 0; i < n; i++) {
		int err;

		w[i].ctx = ctx;
		err = pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
		if (err) {
			snprintf(w[i].err, sizeof(w[i].err), "pthread_create: %s", strerror(err));
			atomic_store(&ctx->stop, true);
			rc = -1;
			break;
		}
		w[i].started = true;
		pthread_mutex_lock(&ctx->lock);
		ctx->running++;
		pthread_mutex_unlock(&ctx->lock);
	}

	pthread_mutex_lock(&ctx->lock);
	ctx->start_ns = now_ns();
	ctx->deadline_ns = ctx->p->duration_ms ?
			   ctx->start_ns + (int64_t)ctx->p->duration_ms * 1000000 : 0;
	ctx->go = true;
	pthread_cond_broadcast(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);
	return rc;
}

/*
 * Wait for all threads, calling @tick every @tick_ns from the start (the
 * last periodic tick falls on the deadline, if there is one) and once
 * more with @last set when all are done. Without @tick, just return:
 * workers_join() waits.
 */
void workers_wait(struct run_ctx *ctx, int64_t tick_ns, tick_fn tick, void *arg)
{
	bool ticking = tick_ns > 0;
	int64_t next;

	if (!tick)
		return;
	next = ctx->start_ns + tick_ns;
	pthread_mutex_lock(&ctx->lock);
	while (ctx->running) {
		int64_t at = next;
		struct timespec ts;

		if (!ticking) {
			pthread_cond_wait(&ctx->cond, &ctx->lock);
			continue;
		}
		if (ctx->deadline_ns && at >= ctx->deadline_ns)
			at = ctx->deadline_ns;
		ts.tv_sec = at / NS_PER_SEC;
		ts.tv_nsec = at % NS_PER_SEC;
		pthread_cond_timedwait(&ctx->cond, &ctx->lock, &ts);
		if (!ctx->running || now_ns() < at)
			continue;
		pthread_mutex_unlock(&ctx->lock);
		tick(arg, now_ns(), false);
		pthread_mutex_lock(&ctx->lock);
		if (ctx->deadline_ns && at == ctx->deadline_ns)
			ticking = false;
		next += tick_ns;
	}
	pthread_mutex_unlock(&ctx->lock);
	tick(arg, now_ns(), true);
}

/* Join every started thread; the first error, if any, goes to @err. */
int workers_join(struct run_ctx *ctx, struct worker *w, unsigned int n, char *err,
		 size_t errlen)
{
	unsigned int i, failed = 0;

	(void)ctx;
	for (i = 0; i < n; i++) {
		if (w[i].started) {
			pthread_join(w[i].thread, NULL);
			w[i].started = false;
		}
		if (w[i].err[0]) {
			if (!failed && err)
				snprintf(err, errlen, "connection %u: %s", i, w[i].err);
			failed++;
		}
	}
	return failed;
}
