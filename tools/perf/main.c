// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp-perf: iperf-style measurements of native TCP, xtcp and AF_UNIX
 * (the two-copy ceiling with no protocol at all), alone or side by side.
 * Command line here; see perf.h for where the rest lives.
 */
#include "perf.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
"usage: xtcp-perf -s [-p PORT] [-B ADDR] [-1] [--stack S]\n"
"       xtcp-perf -c HOST [-p PORT] [--stack S | --compare] [--test T] [-t SECS | -n BYTES]\n"
"                 [-l LEN] [-P N] [-R] [-i SECS] [-J] [--repeat N] [--idle-conns N]\n"
"\n"
"Server:\n"
"  -s, --server          serve sessions one at a time, on every stack it can open:\n"
"                        native, xtcp (if loaded), unix; --stack restricts to one\n"
"  -B, --bind ADDR       IPv4 address to listen on (default all)\n"
"  -1, --one-off         handle one session, then exit with its status\n"
"                        (-l is accepted and ignored: the client decides)\n"
"\n"
"Client:\n"
"  -c, --client HOST     server to measure against (ignored for unix)\n"
"      --test T          stream: bulk throughput (default)\n"
"                        rr: request/response of LEN bytes on each connection\n"
"                        crr: connect, request, response, close, over and over\n"
"  -t, --time SECS       duration of each measurement (default %g)\n"
"  -n, --bytes N[KMG]    stream: send N bytes in total instead of -t\n"
"  -l, --len N[KMG]      stream: bytes per write (default %dK);\n"
"                        rr, crr: request and response size (default %d)\n"
"  -P, --parallel N      connections (crr: threads), one thread each (default 1, max %d)\n"
"  -R, --reverse         stream: the server sends, the client receives;\n"
"                        crr: the server closes first (TIME_WAIT on its side)\n"
"                        idle: the server closes first; memory per TIME_WAIT entry\n"
"  -i, --interval SECS   progress every SECS (0: off; default 1 on a terminal, else 0)\n"
"  -J, --json            one JSON document on stdout\n"
"      --compare         run on native, xtcp and unix in turn; one table with ratios\n"
"      --repeat N        run each measurement N times, report median and min-max\n"
"      --idle-conns N    open N idle connections, report kernel memory per\n"
"                        connection (both endpoints on this host)\n"
"\n"
"Both:\n"
"  -p, --port PORT       port (default %d; unix: abstract name @xtcp-perf.PORT;\n"
"                        xtcp in wire mode, net.xtcp.wire = 1: PORT + 1, as the\n"
"                        two stacks share one port space; server -p 0 picks a\n"
"                        free one)\n"
"      --stack S         native (alias tcp), xtcp or unix (client default native)\n"
"  -h, --help            this text\n"
"\n"
"Exit status: 0 success, 1 failure (server not reachable, xtcp not loaded, a\n"
"transfer that went wrong, ...), 2 bad arguments.\n",
		DEFAULT_SECS, DEFAULT_STREAM_LEN / 1024, DEFAULT_RR_LEN, MAX_STREAMS,
		DEFAULT_PORT);
}

/* N with an optional K/M/G suffix (powers of 1024, as iperf3). */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K':
		shift = 10;
		end++;
		break;
	case 'm': case 'M':
		shift = 20;
		end++;
		break;
	case 'g': case 'G':
		shift = 30;
		end++;
		break;
	}
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_secs(const char *s, double min, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v > MAX_SECS)
		return -1;
	*out = v;
	return 0;
}

enum {
	OPT_STACK = 256,
	OPT_TEST,
	OPT_COMPARE,
	OPT_REPEAT,
	OPT_IDLE,
};

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n\n");
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server",     no_argument,       NULL, 's' },
		{ "client",     required_argument, NULL, 'c' },
		{ "port",       required_argument, NULL, 'p' },
		{ "bind",       required_argument, NULL, 'B' },
		{ "one-off",    no_argument,       NULL, '1' },
		{ "time",       required_argument, NULL, 't' },
		{ "bytes",      required_argument, NULL, 'n' },
		{ "len",        required_argument, NULL, 'l' },
		{ "parallel",   required_argument, NULL, 'P' },
		{ "reverse",    no_argument,       NULL, 'R' },
		{ "interval",   required_argument, NULL, 'i' },
		{ "json",       no_argument,       NULL, 'J' },
		{ "stack",      required_argument, NULL, OPT_STACK },
		{ "test",       required_argument, NULL, OPT_TEST },
		{ "compare",    no_argument,       NULL, OPT_COMPARE },
		{ "repeat",     required_argument, NULL, OPT_REPEAT },
		{ "idle-conns", required_argument, NULL, OPT_IDLE },
		{ "help",       no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = {
		.port = DEFAULT_PORT,
		.secs = DEFAULT_SECS,
		.repeat = 1,
		.stack = STACK_NATIVE,
		.p = { .test = TEST_STREAM, .streams = 1 },
	};
	/* Client-only options given, to refuse them on a server. */
	const char *client_opt = NULL, *server_opt = NULL;
	bool time_set = false, len_set = false, test_set = false, interval_set = false;
	unsigned long idle_conns = 0, v;
	uint64_t size;
	int c;

	while ((c = getopt_long(argc, argv, "sc:p:B:1t:n:l:P:Ri:Jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.server = true;
			break;
		case 'c':
			o.host = optarg;
			break;
		case 'p':
			if (parse_uint(optarg, 0, 65535, &v))
				return bad_usage("bad port '%s'", optarg);
			o.port = (int)v;
			break;
		case 'B':
			o.bind_addr = optarg;
			server_opt = "-B";
			break;
		case '1':
			o.once = true;
			server_opt = "-1";
			break;
		case 't':
			if (parse_secs(optarg, 0.001, &o.secs))
				return bad_usage("bad duration '%s' (seconds, > 0)", optarg);
			time_set = true;
			client_opt = "-t";
			break;
		case 'n':
			if (parse_size(optarg, &o.p.bytes) || !o.p.bytes)
				return bad_usage("bad byte count '%s'", optarg);
			client_opt = "-n";
			break;
		case 'l':
			/* Also accepted (and ignored) by the server: the client decides. */
			if (parse_size(optarg, &size) || !size || size > MAX_LEN)
				return bad_usage("bad length '%s' (1 to 64M)", optarg);
			o.p.length = (uint32_t)size;
			len_set = true;
			break;
		case 'P':
			if (parse_uint(optarg, 1, MAX_STREAMS, &v))
				return bad_usage("bad number of connections '%s' (1 to 128)",
						 optarg);
			o.p.streams = (uint32_t)v;
			client_opt = "-P";
			break;
		case 'R':
			o.p.reverse = true;
			client_opt = "-R";
			break;
		case 'i':
			if (parse_secs(optarg, 0, &o.interval) ||
			    (o.interval > 0 && o.interval < 0.01))
				return bad_usage("bad interval '%s' (0, or at least 0.01 s)",
						 optarg);
			interval_set = true;
			client_opt = "-i";
			break;
		case 'J':
			o.json = true;
			client_opt = "-J";
			break;
		case OPT_STACK:
			if (parse_stack(optarg, &o.stack))
				return bad_usage("bad stack '%s' (native, tcp, xtcp or unix)",
						 optarg);
			o.stack_set = true;
			break;
		case OPT_TEST:
			if (parse_test(optarg, &o.p.test))
				return bad_usage("bad test '%s' (stream, rr or crr)", optarg);
			test_set = true;
			client_opt = "--test";
			break;
		case OPT_COMPARE:
			o.compare = true;
			client_opt = "--compare";
			break;
		case OPT_REPEAT:
			if (parse_uint(optarg, 1, MAX_REPEAT, &v))
				return bad_usage("bad repeat count '%s' (1 to 100)", optarg);
			o.repeat = (unsigned int)v;
			client_opt = "--repeat";
			break;
		case OPT_IDLE:
			if (parse_uint(optarg, 1, MAX_IDLE_CONNS, &idle_conns))
				return bad_usage("bad number of idle connections '%s' "
						 "(1 to 1000000)", optarg);
			client_opt = "--idle-conns";
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	if (o.server == !!o.host)
		return bad_usage("%s", "give either -s or -c HOST");
	if (o.server && client_opt)
		return bad_usage("%s is a client option", client_opt);
	if (!o.server && server_opt)
		return bad_usage("%s is a server option", server_opt);

	if (!o.server) {
		if (!o.port)
			return bad_usage("%s", "the client needs a port other than 0");
		if (o.compare && o.stack_set)
			return bad_usage("%s", "--compare runs on all stacks: no --stack");
		if (idle_conns) {
			if (test_set || time_set || o.p.bytes || len_set || o.p.streams > 1 ||
			    interval_set)
				return bad_usage("%s", "--idle-conns takes none of --test, -t, -n, "
						 "-l, -P, -i");
			o.p.test = TEST_IDLE;
			o.p.streams = (uint32_t)idle_conns;
			o.p.length = 1;
		}
		if (o.p.reverse && o.p.test == TEST_RR)
			return bad_usage("%s", "-R is for the stream, crr and idle tests");
		if (o.p.bytes && (o.p.test != TEST_STREAM || time_set))
			return bad_usage("%s", "-n is for the stream test, instead of -t");
		if (o.p.bytes && o.p.bytes < o.p.streams)
			return bad_usage("%s", "-n must be at least one byte per connection");
		if (!len_set)
			o.p.length = o.p.test == TEST_STREAM ? DEFAULT_STREAM_LEN : DEFAULT_RR_LEN;
		if ((o.p.test == TEST_STREAM && !o.p.bytes) || o.p.test == TEST_RR ||
		    o.p.test == TEST_CRR)
			o.p.duration_ms = (uint32_t)(o.secs * 1000 + 0.5);
		if (!interval_set)
			o.interval = isatty(STDOUT_FILENO) && o.p.test != TEST_IDLE ? 1 : 0;
	}

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return o.server ? run_server(&o) : run_client(&o);
}
