// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp-perf: a minimal iperf-style bulk throughput tool for native TCP and
 * xtcp. The same code drives both stacks; only the socket(2) family differs.
 *
 *   xtcp-perf -s [-p PORT] [-B ADDR] [-1] [--stack tcp|xtcp]
 *   xtcp-perf -c HOST [-p PORT] [-t SECS | -n BYTES] [-l LEN] [--stack tcp|xtcp]
 *
 * The client writes for -t seconds (or -n bytes), shuts down its sending
 * side and waits for the server's 8-byte big-endian count of what it
 * received; it fails when the count differs from what it sent. So the
 * client's time covers delivery, not just handing bytes to the kernel.
 * Each side prints one line of key=value fields:
 *   client stack=tcp bytes=N seconds=S gbit_per_s=R
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/xtcp.h>

#define DEFAULT_PORT	5301
#define DEFAULT_LEN	(128 * 1024)
#define MAX_LEN		(64 * 1024 * 1024)
#define DEFAULT_SECS	10.0

struct opts {
	bool server;
	bool once;
	const char *host;
	const char *bind_addr;
	int port;
	double secs;
	uint64_t bytes;		/* 0: run for secs */
	size_t len;
	bool xtcp;
};

static const char *stack_name(const struct opts *o)
{
	return o->xtcp ? "xtcp" : "tcp";
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xtcp-perf -s [-p PORT] [-B ADDR] [-1] [--stack tcp|xtcp]\n"
		"       xtcp-perf -c HOST [-p PORT] [-t SECS | -n BYTES] [-l LEN] [--stack tcp|xtcp]\n"
		"  -s, --server       receive: count bytes until EOF, reply with the count\n"
		"  -c, --client HOST  send to HOST (IPv4 address or name)\n"
		"  -p, --port PORT    port (default %d; server -p 0 picks a free one)\n"
		"  -B, --bind ADDR    server address to bind (default any)\n"
		"  -1, --one-off      server: handle one connection, then exit\n"
		"  -t, --time SECS    client: send for SECS seconds (default %.0f)\n"
		"  -n, --bytes N[KMG] client: send N bytes instead\n"
		"  -l, --len N[KMG]   bytes per write/read (default %d)\n"
		"      --stack S      tcp (native) or xtcp (default tcp)\n",
		DEFAULT_PORT, DEFAULT_SECS, DEFAULT_LEN);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* N with an optional K/M/G suffix (powers of 1024, as iperf3). */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* The family xtcp registered: from sysfs when loaded, else the default. */
static int xtcp_family(void)
{
	FILE *f = fopen(XTCP_SYSFS_FAMILY, "r");
	int fam;

	if (!f)
		return XTCP_DEFAULT_FAMILY;
	if (fscanf(f, "%d", &fam) != 1 || fam <= 0)
		fam = XTCP_DEFAULT_FAMILY;
	fclose(f);
	return fam;
}

static int open_socket(const struct opts *o)
{
	int fam = o->xtcp ? xtcp_family() : AF_INET;
	int fd = socket(fam, SOCK_STREAM, 0);

	if (fd < 0) {
		if (o->xtcp && errno == EAFNOSUPPORT)
			fprintf(stderr, "xtcp-perf: socket(family %d): %s (is xtcp.ko loaded?)\n",
				fam, strerror(errno));
		else
			fprintf(stderr, "xtcp-perf: socket(family %d): %s\n",
				fam, strerror(errno));
	}
	return fd;
}

static int resolve(const char *host, int port, struct sockaddr_in *sin)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	int err;

	err = getaddrinfo(host, NULL, &hints, &res);
	if (err) {
		fprintf(stderr, "xtcp-perf: %s: %s\n", host, gai_strerror(err));
		return -1;
	}
	memcpy(sin, res->ai_addr, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	freeaddrinfo(res);
	return 0;
}

static void report(const char *role, const struct opts *o, uint64_t bytes,
		   double secs)
{
	printf("%s stack=%s bytes=%" PRIu64 " seconds=%.3f gbit_per_s=%.3f\n",
	       role, stack_name(o), bytes, secs,
	       secs > 0 ? bytes * 8.0 / secs / 1e9 : 0.0);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* Receive until EOF, then tell the client how much arrived. */
static int serve_one(int cfd, const struct opts *o, char *buf)
{
	uint64_t total = 0, be;
	uint32_t reply[2];
	double start = now(), secs;
	ssize_t n;

	for (;;) {
		n = read(cfd, buf, o->len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "xtcp-perf: server read: %s\n", strerror(errno));
			return -1;
		}
		total += n;
	}
	secs = now() - start;
	be = total;
	reply[0] = htonl(be >> 32);
	reply[1] = htonl(be & 0xffffffffu);
	if (write_all(cfd, reply, sizeof(reply))) {
		fprintf(stderr, "xtcp-perf: server reply: %s\n", strerror(errno));
		return -1;
	}
	report("server", o, total, secs);
	return 0;
}

static int run_server(const struct opts *o, char *buf)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	int fd, one = 1, rc = 0;

	if (o->bind_addr) {
		if (resolve(o->bind_addr, o->port, &sin))
			return 1;
	} else {
		sin.sin_addr.s_addr = htonl(INADDR_ANY);
		sin.sin_port = htons(o->port);
	}
	fd = open_socket(o);
	if (fd < 0)
		return 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		fprintf(stderr, "xtcp-perf: SO_REUSEADDR: %s\n", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&sin, &slen)) {
		fprintf(stderr, "xtcp-perf: server port %d: %s\n", o->port,
			strerror(errno));
		close(fd);
		return 1;
	}
	/* Scripts wait for this line before starting the client. */
	printf("server stack=%s listening port=%d\n", stack_name(o),
	       ntohs(sin.sin_port));

	do {
		int cfd = accept(fd, NULL, NULL);

		if (cfd < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "xtcp-perf: accept: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		if (serve_one(cfd, o, buf))
			rc = 1;
		close(cfd);
	} while (!o->once);
	close(fd);
	return rc;
}

static int run_client(const struct opts *o, char *buf)
{
	struct sockaddr_in sin;
	uint64_t sent = 0, got;
	uint32_t reply[2];
	size_t have = 0;
	double start, deadline, secs;
	int fd, rc = 1;

	if (resolve(o->host, o->port, &sin))
		return 1;
	fd = open_socket(o);
	if (fd < 0)
		return 1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		fprintf(stderr, "xtcp-perf: connect %s:%d: %s\n", o->host,
			o->port, strerror(errno));
		goto out;
	}
	start = now();
	deadline = start + o->secs;
	for (;;) {
		size_t len = o->len;
		ssize_t n;

		if (o->bytes) {
			if (sent >= o->bytes)
				break;
			if (o->bytes - sent < len)
				len = o->bytes - sent;
		} else if (now() >= deadline) {
			break;
		}
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "xtcp-perf: write: %s\n", strerror(errno));
			goto out;
		}
		sent += n;
	}
	if (shutdown(fd, SHUT_WR)) {
		fprintf(stderr, "xtcp-perf: shutdown: %s\n", strerror(errno));
		goto out;
	}
	while (have < sizeof(reply)) {
		ssize_t n = read(fd, (char *)reply + have, sizeof(reply) - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "xtcp-perf: no byte count from the server: %s\n",
				n ? strerror(errno) : "connection closed");
			goto out;
		}
		have += n;
	}
	secs = now() - start;
	got = (uint64_t)ntohl(reply[0]) << 32 | ntohl(reply[1]);
	if (got != sent) {
		fprintf(stderr, "xtcp-perf: server received %" PRIu64 " of %" PRIu64
			" bytes\n", got, sent);
		goto out;
	}
	report("client", o, sent, secs);
	rc = 0;
out:
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server",  no_argument,       NULL, 's' },
		{ "client",  required_argument, NULL, 'c' },
		{ "port",    required_argument, NULL, 'p' },
		{ "bind",    required_argument, NULL, 'B' },
		{ "one-off", no_argument,       NULL, '1' },
		{ "time",    required_argument, NULL, 't' },
		{ "bytes",   required_argument, NULL, 'n' },
		{ "len",     required_argument, NULL, 'l' },
		{ "stack",   required_argument, NULL, 'S' },
		{ "help",    no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .port = DEFAULT_PORT, .secs = DEFAULT_SECS,
			  .len = DEFAULT_LEN };
	bool time_set = false;
	uint64_t v;
	char *end, *buf;
	long port;
	size_t i;
	int c, rc;

	while ((c = getopt_long(argc, argv, "sc:p:B:1t:n:l:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.server = true;
			break;
		case 'c':
			o.host = optarg;
			break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end || end == optarg || port < 0 || port > 65535)
				goto bad;
			o.port = port;
			break;
		case 'B':
			o.bind_addr = optarg;
			break;
		case '1':
			o.once = true;
			break;
		case 't':
			o.secs = strtod(optarg, &end);
			if (*end || end == optarg || !(o.secs > 0) || o.secs > 1e6)
				goto bad;
			time_set = true;
			break;
		case 'n':
			if (parse_size(optarg, &o.bytes) || !o.bytes)
				goto bad;
			break;
		case 'l':
			if (parse_size(optarg, &v) || !v || v > MAX_LEN)
				goto bad;
			o.len = v;
			break;
		case 'S':
			if (!strcmp(optarg, "xtcp"))
				o.xtcp = true;
			else if (!strcmp(optarg, "tcp"))
				o.xtcp = false;
			else
				goto bad;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || o.server == !!o.host ||
	    (o.bytes && time_set) || (!o.server && !o.port)) {
		usage(stderr);
		return 2;
	}

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	buf = malloc(o.len);
	if (!buf) {
		fprintf(stderr, "xtcp-perf: out of memory\n");
		return 1;
	}
	for (i = 0; i < o.len; i++)
		buf[i] = (char)(i * 131 % 251);

	rc = o.server ? run_server(&o, buf) : run_client(&o, buf);
	free(buf);
	return rc;

bad:
	if (c == 'S')
		fprintf(stderr, "xtcp-perf: bad value '%s' for --stack\n", optarg);
	else
		fprintf(stderr, "xtcp-perf: bad value '%s' for -%c\n", optarg, c);
	usage(stderr);
	return 2;
}
