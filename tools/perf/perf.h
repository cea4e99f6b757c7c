/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp-perf: iperf-style comparison of native TCP, xtcp and AF_UNIX.
 *
 * main.c	command line
 * net.c	stacks, addresses, sockets, timed I/O, clocks
 * proto.[ch]	control messages (fixed layouts, big-endian)
 * session.h	what client, server and idle share about a session
 * workers.c	one thread per data connection, start gate, interval ticks
 * stream.c	bulk transfer
 * rr.c		request/response and connect/request/response/close
 * idle.c	memory per idle connection (/proc/meminfo)
 * stats.c	latency samples, percentiles, medians, the figures per test
 * client.c	client sessions, --repeat and --compare
 * server.c	listeners and server sessions
 * report.c	human output and the table
 * json.c	JSON document
 */
#ifndef XTCP_PERF_H
#define XTCP_PERF_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#define PROG			"xtcp-perf"
#define DEFAULT_PORT		5301
#define DEFAULT_STREAM_LEN	(128 * 1024)
#define DEFAULT_RR_LEN		1
#define DEFAULT_SECS		10.0
#define MAX_LEN			(64u << 20)
#define MAX_STREAMS		128
#define MAX_IDLE_CONNS		1000000
#define MAX_REPEAT		100
#define MAX_SECS		1000000.0
#define ERR_LEN			256

/* Generous: they only stop a dead or stuck peer from hanging us forever. */
#define CONNECT_TIMEOUT_MS	10000	/* control connection */
#define CTRL_TIMEOUT_MS		10000	/* an answer on the control connection */
#define IO_TIMEOUT_MS		30000	/* no progress at all on a data connection */
#define IDLE_SETTLE_MS		1000	/* --idle-conns: wait before each meminfo read */

#define NS_PER_SEC		1000000000LL
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

enum stack { STACK_NATIVE, STACK_XTCP, STACK_UNIX, NR_STACKS };
enum test { TEST_STREAM, TEST_RR, TEST_CRR, TEST_IDLE, NR_TESTS };

/* What the client asks the server for: the body of the PARAMS message. */
struct params {
	enum test test;
	bool reverse;		/* stream: the server sends; crr: closes first */
	uint32_t length;	/* stream: bytes per write; rr, crr: message size */
	uint32_t streams;	/* connections (idle: connections to hold) */
	uint32_t duration_ms;	/* 0 when bytes is set */
	uint64_t bytes;		/* stream: total to send, split over streams */
};

/* One data connection (or one crr thread) as one side saw it. */
struct conn_stats {
	uint64_t bytes_sent;
	uint64_t bytes_rcvd;
	uint64_t transactions;
	int64_t elapsed_ns;	/* from the common start to this one's end */
};

/* Latency samples in ns, one array per thread, merged at the end. */
struct samples {
	uint64_t *v;
	size_t n, cap;
	bool oom;
};

struct run_ctx;

struct worker {
	struct run_ctx *ctx;
	unsigned int index;
	int fd;			/* stream, rr: the data connection; -1 otherwise */
	uint64_t quota;		/* stream sender: bytes to send, 0 = until deadline */
	char *buf;
	_Atomic uint64_t progress;	/* bytes or transactions, for intervals */
	struct conn_stats st;
	struct samples lat;
	char err[ERR_LEN];
	pthread_t thread;
	bool started;
};

typedef void (*worker_fn)(struct worker *w);

/* What the threads of one side of one measurement share. */
struct run_ctx {
	const struct params *p;
	enum stack stack;
	worker_fn fn;
	struct sockaddr_storage addr;	/* crr client: where to connect */
	socklen_t addrlen;
	int listen_fd;		/* crr server: non-blocking data listener */
	int wake_fd;		/* crr server: becomes readable when to stop */
	int64_t start_ns;
	int64_t deadline_ns;	/* 0: none (-n) */
	atomic_bool stop;	/* a thread failed: the others end early */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool go;
	unsigned int running;
};

/* Figures per test; a run stores them in run_result.fig[] in this order. */
#define MAX_FIGS	6
struct figure {
	const char *key;	/* JSON */
	const char *head;	/* table */
	const char *fmt;	/* printf format of one value */
};

struct interval {
	double start_s, end_s;
	uint64_t amount;	/* bytes or transactions */
	double rate;		/* Gbit/s or transactions/s */
};

/* One measurement on one stack, as the client reports it. */
struct run_result {
	enum stack stack;
	unsigned int run;
	bool done;		/* attempted */
	bool ok;
	char error[ERR_LEN];
	double fig[MAX_FIGS];
	double seconds;
	uint64_t bytes;		/* stream: delivered bytes */
	uint64_t transactions;	/* rr, crr */
	double client_cpu_s, server_cpu_s;
	unsigned int nconns;
	struct conn_stats *client_conns, *server_conns;
	unsigned int server_nconns;
	struct interval *iv;
	size_t niv, iv_cap;
	/* --idle-conns */
	uint32_t idle_conns;
	long long slab_delta, used_delta;	/* bytes */
};

/* Everything the client measured on one stack. */
struct stack_outcome {
	enum stack stack;
	const char *unavailable;	/* why no socket of this stack opens here */
	bool not_loaded;		/* ... because xtcp.ko is not loaded */
	bool failed;			/* a run failed: the stack was not tried again */
	struct run_result *runs;	/* opts.repeat of them */
};

struct summary {
	double med, min, max;
	unsigned int n;
};

struct opts {
	bool server;
	bool once;
	bool json;
	bool compare;
	bool stack_set;
	const char *host;
	const char *bind_addr;
	int port;
	enum stack stack;
	struct params p;
	double secs;
	double interval;	/* seconds, 0 = off */
	unsigned int repeat;
};

/* net.c */
const char *stack_name(enum stack s);
int parse_stack(const char *s, enum stack *out);
int xtcp_family(void);
int stack_port(enum stack s, int port);
int stack_family(enum stack s);
void stack_error(enum stack s, int err, char *buf, size_t len);
int probe_stack(enum stack s, char *err, size_t errlen);
int resolve_ipv4(const char *host, struct sockaddr_storage *ss, char *err, size_t errlen);
socklen_t make_addr(enum stack s, const struct sockaddr_storage *ip, int port, bool data,
		    struct sockaddr_storage *out);
int open_listener(enum stack s, struct sockaddr_storage *addr, socklen_t *addrlen,
		  int backlog, char *err, size_t errlen);
int open_connection(enum stack s, const struct sockaddr_storage *addr, socklen_t addrlen,
		    bool nodelay, int timeout_ms);
int set_io_timeout(int fd, int ms);
int set_nodelay(enum stack s, int fd);
int addr_port(const struct sockaddr_storage *ss);
void addr_string(const struct sockaddr_storage *ss, socklen_t len, char *buf, size_t size);
ssize_t read_full(int fd, void *buf, size_t len);
int write_all(int fd, const void *buf, size_t len);
ssize_t read_full_timeout(int fd, void *buf, size_t len, int timeout_ms);
int wait_readable(int fd, int timeout_ms);
void lingering_close(int fd);
const char *io_error(int err);
int raise_nofile(uint64_t need, char *err, size_t errlen);
int64_t now_ns(void);
int64_t cpu_ns(void);
void sleep_ms(int ms);

/* workers.c */
typedef void (*tick_fn)(void *arg, int64_t now, bool last);
int workers_start(struct run_ctx *ctx, struct worker *w, unsigned int n, worker_fn fn);
void workers_wait(struct run_ctx *ctx, int64_t tick_ns, tick_fn tick, void *arg);
int workers_join(struct run_ctx *ctx, struct worker *w, unsigned int n, char *err,
		 size_t errlen);
bool worker_should_stop(struct worker *w);
void worker_fail(struct worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void run_ctx_init(struct run_ctx *ctx, const struct params *p, enum stack s);
void run_ctx_destroy(struct run_ctx *ctx);
struct worker *workers_alloc(unsigned int n, size_t buflen);
void workers_free(struct worker *w, unsigned int n);

/* stream.c, rr.c */
void stream_send(struct worker *w);
void stream_recv(struct worker *w);
void rr_client(struct worker *w);
void rr_server(struct worker *w);
void crr_client(struct worker *w);
void crr_server(struct worker *w);

/* idle.c */
struct meminfo {
	long long slab, used;	/* bytes */
};
int read_meminfo(struct meminfo *m, char *err, size_t errlen);

/* stats.c */
int samples_add(struct samples *s, uint64_t ns);
void samples_free(struct samples *s);
int samples_merge_sorted(struct worker *w, unsigned int n, struct samples *out);
double percentile(const struct samples *sorted, double pct);
const char *test_name(enum test t);
int parse_test(const char *s, enum test *out);
unsigned int test_figures(enum test t, const struct figure **figs);
void summarize(const struct run_result *runs, unsigned int n, unsigned int fig,
	       struct summary *out);
int interval_add(struct run_result *r, const struct interval *iv);
void run_result_free(struct run_result *r);

/* client.c, server.c */
int run_client(const struct opts *o);
int run_server(const struct opts *o);

/* report.c */
void report_begin(const struct opts *o, const struct stack_outcome *out, unsigned int n);
void report_interval(const struct opts *o, const struct run_result *r,
		     const struct interval *iv);
void report_run(const struct opts *o, const struct run_result *r);
void report_end(const struct opts *o, const struct stack_outcome *out, unsigned int n);
bool ratio(const struct opts *o, const struct stack_outcome *out, unsigned int n,
	   enum stack num, enum stack den, unsigned int fig, double *value);

/* json.c */
void json_report(const struct opts *o, const struct stack_outcome *out, unsigned int n,
		 const char *fatal);

#endif /* XTCP_PERF_H */
