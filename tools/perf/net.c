// SPDX-License-Identifier: GPL-2.0
/*
 * Stacks and sockets. native and xtcp differ only in the family given to
 * socket(2): both take struct sockaddr_in and the native options. unix is
 * AF_UNIX SOCK_STREAM on abstract names, so nothing touches the file system.
 */
#include "perf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/xtcp.h>

static const char *const stack_names[NR_STACKS] = {
	[STACK_NATIVE] = "native",
	[STACK_XTCP] = "xtcp",
	[STACK_UNIX] = "unix",
};

const char *stack_name(enum stack s)
{
	return s < NR_STACKS ? stack_names[s] : "?";
}

/* "tcp" is what scripts/bench has always passed for native. */
int parse_stack(const char *s, enum stack *out)
{
	if (!strcmp(s, "native") || !strcmp(s, "tcp"))
		*out = STACK_NATIVE;
	else if (!strcmp(s, "xtcp"))
		*out = STACK_XTCP;
	else if (!strcmp(s, "unix"))
		*out = STACK_UNIX;
	else
		return -1;
	return 0;
}

static int xtcp_family_nr;
static pthread_once_t xtcp_family_once = PTHREAD_ONCE_INIT;

static void read_xtcp_family(void)
{
	FILE *f = fopen(XTCP_SYSFS_FAMILY, "r");
	int fam;

	xtcp_family_nr = XTCP_DEFAULT_FAMILY;
	if (!f)
		return;
	if (fscanf(f, "%d", &fam) == 1 && fam > 0)
		xtcp_family_nr = fam;
	fclose(f);
}

/* The family xtcp registered: from sysfs when loaded, else the default. */
int xtcp_family(void)
{
	pthread_once(&xtcp_family_once, read_xtcp_family);
	return xtcp_family_nr;
}

static bool wire_mode;
static pthread_once_t wire_once = PTHREAD_ONCE_INIT;

static void read_wire_mode(void)
{
	FILE *f = fopen("/proc/sys/net/xtcp/wire", "r");
	int on;

	if (!f)
		return;
	wire_mode = fscanf(f, "%d", &on) == 1 && on;
	fclose(f);
}

/*
 * The port of @s's listener for @port: in wire mode (net.xtcp.wire) xtcp
 * and native TCP share one port space, so xtcp's is the next one up.
 */
int stack_port(enum stack s, int port)
{
	pthread_once(&wire_once, read_wire_mode);
	if (s == STACK_XTCP && wire_mode && port && port < 65535)
		return port + 1;
	return port;
}

int stack_family(enum stack s)
{
	switch (s) {
	case STACK_XTCP:
		return xtcp_family();
	case STACK_UNIX:
		return AF_UNIX;
	default:
		return AF_INET;
	}
}

/* Why socket(2) failed, in the words a user can act on. */
void stack_error(enum stack s, int err, char *buf, size_t len)
{
	if (s == STACK_XTCP && err == EAFNOSUPPORT)
		snprintf(buf, len, "xtcp is not loaded (family %d not registered): insmod xtcp.ko",
			 xtcp_family());
	else
		snprintf(buf, len, "socket(%s, family %d): %s", stack_name(s),
			 stack_family(s), strerror(err));
}

/* 0 when a socket of this stack can be opened here, else the errno and why. */
int probe_stack(enum stack s, char *err, size_t errlen)
{
	int fd = socket(stack_family(s), SOCK_STREAM | SOCK_CLOEXEC, 0);
	int e = errno;

	if (fd < 0) {
		stack_error(s, e, err, errlen);
		return e ? e : EINVAL;
	}
	close(fd);
	return 0;
}

int resolve_ipv4(const char *host, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	int rc;

	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, sizeof(struct sockaddr_in));
	freeaddrinfo(res);
	return 0;
}

/*
 * The address of a listener: @ip with @port for native and xtcp (which
 * takes AF_INET addresses too; the next port up in wire mode, but a data
 * listener's port is the one the server reported); for unix the abstract name
 * "\0xtcp-perf.PORT", or "\0xtcp-perf.PORT.data" for the data listener of
 * the session in progress (the server runs one at a time).
 */
socklen_t make_addr(enum stack s, const struct sockaddr_storage *ip, int port, bool data,
		    struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (s == STACK_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)out;
		int n;

		sun->sun_family = AF_UNIX;
		n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1, PROG ".%d%s",
			     port, data ? ".data" : "");
		return offsetof(struct sockaddr_un, sun_path) + 1 + n;
	}
	memcpy(out, ip, sizeof(struct sockaddr_in));
	((struct sockaddr_in *)out)->sin_family = AF_INET;
	((struct sockaddr_in *)out)->sin_port = htons(data ? port : stack_port(s, port));
	return sizeof(struct sockaddr_in);
}

int addr_port(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port) : 0;
}

void addr_string(const struct sockaddr_storage *ss, socklen_t len, char *buf, size_t size)
{
	if (ss->ss_family == AF_UNIX) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;
		int n = (int)len - (int)offsetof(struct sockaddr_un, sun_path) - 1;

		if (n > 0 && !sun->sun_path[0])
			snprintf(buf, size, "@%.*s", n, sun->sun_path + 1);
		else
			snprintf(buf, size, "unix");
	} else {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%d", ip, ntohs(sin->sin_port));
	}
}

/* SO_RCVTIMEO and SO_SNDTIMEO: the latter also bounds a blocking connect. */
int set_io_timeout(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -1;
	return 0;
}

/* xtcp takes SOL_TCP/TCP_NODELAY like native TCP; unix has no Nagle. */
int set_nodelay(enum stack s, int fd)
{
	int one = 1;

	if (s == STACK_UNIX)
		return 0;
	return setsockopt(fd, SOL_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * Listen on @addr (port 0: any free one, written back to @addr). Native
 * and xtcp take SO_REUSEADDR so a restarted server finds its port again.
 */
int open_listener(enum stack s, struct sockaddr_storage *addr, socklen_t *addrlen,
		  int backlog, char *err, size_t errlen)
{
	int fd, one = 1;
	socklen_t len = *addrlen;

	fd = socket(stack_family(s), SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		stack_error(s, errno, err, errlen);
		return -1;
	}
	if (s != STACK_UNIX &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		fprintf(stderr, PROG ": %s: SO_REUSEADDR: %s\n", stack_name(s), strerror(errno));
	if (bind(fd, (struct sockaddr *)addr, len) || listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)addr, &len)) {
		char where[128];
		int e = errno;

		addr_string(addr, *addrlen, where, sizeof(where));
		snprintf(err, errlen, "listen on %s (%s): %s", where, stack_name(s), strerror(e));
		close(fd);
		return -1;
	}
	*addrlen = len;
	return fd;
}

/*
 * A blocking connect bounded by SO_SNDTIMEO, which stays as the socket's
 * I/O timeout with SO_RCVTIMEO. Returns the fd, or -1 with errno set
 * (a connect that timed out says ETIMEDOUT, not EINPROGRESS).
 */
int open_connection(enum stack s, const struct sockaddr_storage *addr, socklen_t addrlen,
		    bool nodelay, int timeout_ms)
{
	int fd, e;

	fd = socket(stack_family(s), SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (set_io_timeout(fd, timeout_ms) || (nodelay && set_nodelay(s, fd)))
		goto fail;
	while (connect(fd, (const struct sockaddr *)addr, addrlen)) {
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS || errno == EAGAIN)
			errno = ETIMEDOUT;
		goto fail;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Up to @len bytes: fewer only at EOF. -1 with errno on error. */
ssize_t read_full(int fd, void *buf, size_t len)
{
	return read_full_timeout(fd, buf, len, -1);
}

int write_all(int fd, const void *buf, size_t len)
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

/* 1: readable (or EOF/error pending), 0: timed out, -1: poll failed. */
int wait_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;

	for (;;) {
		int64_t left = (deadline - now_ns()) / 1000000;
		int rc = poll(&pfd, 1, left > 0 ? (int)left : 0);

		if (rc < 0 && errno == EINTR)
			continue;
		return rc < 0 ? -1 : rc > 0;
	}
}

/*
 * read_full with an overall deadline, by poll (for control connections);
 * a negative @timeout_ms waits for as long as it takes.
 */
ssize_t read_full_timeout(int fd, void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	size_t got = 0;

	while (got < len) {
		ssize_t n;

		if (timeout_ms >= 0) {
			int64_t left = (deadline - now_ns()) / 1000000;
			int rc = wait_readable(fd, left > 0 ? (int)left : 0);

			if (rc < 0)
				return -1;
			if (!rc) {
				errno = ETIMEDOUT;
				return -1;
			}
		}
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0) {
			if (errno == EINTR || (errno == EAGAIN && timeout_ms >= 0))
				continue;
			return -1;
		}
		if (!n)
			break;
		got += n;
	}
	return got;
}

/*
 * Close once the peer has closed too (or 2 s passed): closing with unread
 * data sends a reset, which can destroy what we sent last before it is read.
 */
void lingering_close(int fd)
{
	char sink[512];
	int64_t deadline = now_ns() + 2 * NS_PER_SEC;

	if (fd < 0)
		return;
	shutdown(fd, SHUT_WR);
	while (now_ns() < deadline) {
		int64_t left = (deadline - now_ns()) / 1000000;
		ssize_t n;

		if (wait_readable(fd, (int)left + 1) <= 0)
			break;
		n = read(fd, sink, sizeof(sink));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
	}
	close(fd);
}

/* A socket timeout (SO_RCVTIMEO/SO_SNDTIMEO) shows up as EAGAIN. */
const char *io_error(int err)
{
	if (err == EAGAIN || err == ETIMEDOUT)
		return "timed out (peer stuck or gone)";
	return strerror(err);
}

/* Make room for @need descriptors; root may also raise the hard limit. */
int raise_nofile(uint64_t need, char *err, size_t errlen)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		snprintf(err, errlen, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return -1;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		struct rlimit want = { .rlim_cur = need, .rlim_max = need };

		if (!setrlimit(RLIMIT_NOFILE, &want))
			return 0;
		snprintf(err, errlen, "needs %llu file descriptors, the hard limit is %llu "
			 "(raise it, e.g. ulimit -Hn, or run as root)",
			 (unsigned long long)need, (unsigned long long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		snprintf(err, errlen, "setrlimit(RLIMIT_NOFILE, %llu): %s",
			 (unsigned long long)need, strerror(errno));
		return -1;
	}
	return 0;
}

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* User plus system CPU time of the whole process, all threads. */
int64_t cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * NS_PER_SEC +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
