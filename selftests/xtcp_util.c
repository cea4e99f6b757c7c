// SPDX-License-Identifier: GPL-2.0
/* Helpers shared by the xtcp selftests; see xtcp_util.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xtcp_util.h"

int read_int_file(const char *path, int index, int *val)
{
	FILE *f = fopen(path, "r");
	int i, ret = -1;

	if (!f)
		return -1;
	for (i = 0; i <= index; i++) {
		if (fscanf(f, "%d", val) != 1)
			break;
		if (i == index)
			ret = 0;
	}
	fclose(f);
	return ret;
}

int write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, val, strlen(val)) < 0)
		err = errno;
	close(fd);
	return err;
}

int write_sysctl_int(const char *path, int val)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d\n", val);
	return write_sysctl(path, buf);
}

int xtcp_family(void)
{
	int fam;

	if (read_int_file(XTCP_SYSFS_FAMILY, 0, &fam) == 0 && fam > 0)
		return fam;
	return XTCP_DEFAULT_FAMILY;
}

/*
 * The value under @name in the @prefix header/value line pair of an snmp
 * style file (/proc/net/snmp "Tcp:", /proc/net/netstat "TcpExt:").
 */
static int64_t snmp_field(const char *path, const char *prefix,
			  const char *name)
{
	char head[4096], vals[4096], *hs, *vs, *h, *v;
	FILE *f = fopen(path, "r");
	int64_t ret = -1;

	if (!f)
		return -1;
	while (fgets(head, sizeof(head), f)) {
		if (strncmp(head, prefix, strlen(prefix)) ||
		    !fgets(vals, sizeof(vals), f))
			continue;
		h = strtok_r(head, " \n", &hs);
		v = strtok_r(vals, " \n", &vs);
		while (h && v) {
			if (!strcmp(h, name)) {
				ret = strtoll(v, NULL, 10);
				break;
			}
			h = strtok_r(NULL, " \n", &hs);
			v = strtok_r(NULL, " \n", &vs);
		}
		break;
	}
	fclose(f);
	return ret;
}

/* "XtcpNAME value" lines of /proc/net/xtcp_stat. */
static int64_t xtcp_stat_field(const char *want)
{
	char name[64];
	long long val;
	int64_t ret = -1;
	FILE *f;

	f = fopen("/proc/net/xtcp_stat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", name, &val) == 2) {
		if (!strcmp(name, want)) {
			ret = val;
			break;
		}
	}
	fclose(f);
	return ret;
}

bool word_listed(const char *list, const char *want)
{
	size_t n = strlen(want);
	const char *p;

	for (p = list; (p = strstr(p, want)); p += n)
		if ((p == list || p[-1] == ' ') && (!p[n] || p[n] == ' '))
			return true;
	return false;
}

int64_t stack_out_segs(int family)
{
	if (family == AF_INET)
		return snmp_field("/proc/net/snmp", "Tcp:", "OutSegs");
	return xtcp_stat_field("XtcpOutSegs");
}

int64_t stack_snmp_counter(const char *tcp_name)
{
	return snmp_field("/proc/net/snmp", "Tcp:", tcp_name);
}

int64_t ip_snmp_counter(const char *ip_name)
{
	return snmp_field("/proc/net/snmp", "Ip:", ip_name);
}

int64_t sock_meminfo(int fd, int field)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len))
		return -1;
	return mem[field];
}

int sockets_in_state(int family, unsigned int state)
{
	FILE *f = fopen(family == AF_INET ? "/proc/net/tcp" : "/proc/net/xtcp",
			"r");
	unsigned int st;
	char line[256];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %*x:%*x %*x:%*x %x", &st) == 1 &&
		    st == state)
			n++;
	fclose(f);
	return n;
}

int64_t stack_counter(int family, const char *tcpext_name,
		      const char *xtcp_name)
{
	if (family == AF_INET)
		return snmp_field("/proc/net/netstat", "TcpExt:", tcpext_name);
	return xtcp_stat_field(xtcp_name);
}

int stack_ipproto(int family)
{
	int proto;

	if (family == AF_INET)
		return IPPROTO_TCP;
	if (read_int_file("/sys/module/xtcp/parameters/ipproto", 0, &proto))
		return -1;
	return proto;
}

static uint16_t csum_fold32(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add_bytes(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, v & 0xffff);
}

size_t build_segment(uint8_t *pkt, int proto, uint32_t saddr, uint32_t daddr,
		     uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		     uint8_t flags, const void *data, size_t len)
{
	return build_segment_ts(pkt, proto, saddr, daddr, sport, dport, seq,
				ack, flags, data, len, NULL);
}

size_t build_segment_ts(uint8_t *pkt, int proto, uint32_t saddr,
			uint32_t daddr, uint16_t sport, uint16_t dport,
			uint32_t seq, uint32_t ack, uint8_t flags,
			const void *data, size_t len, const uint32_t *ts)
{
	size_t hdr_len = (flags & SEG_SYN ? 24 : 20) + (ts ? 12 : 0);
	size_t th_len;
	uint8_t *th = pkt + 20;
	uint8_t pseudo[12];
	uint32_t sum;

	if (len > SEG_DATA_MAX)
		len = SEG_DATA_MAX;
	th_len = hdr_len + len;
	memset(pkt, 0, SEG_PKT_MAX);
	pkt[0] = 0x45;				/* IPv4, 20-byte header */
	put_be16(pkt + 2, 20 + th_len);
	put_be16(pkt + 6, 0x4000);		/* DF */
	pkt[8] = 64;
	pkt[9] = proto;
	memcpy(pkt + 12, &saddr, 4);
	memcpy(pkt + 16, &daddr, 4);
	put_be16(pkt + 10, csum_fold32(csum_add_bytes(0, pkt, 20)));

	put_be16(th, sport);
	put_be16(th + 2, dport);
	put_be32(th + 4, seq);
	put_be32(th + 8, ack);
	th[12] = (hdr_len / 4) << 4;
	th[13] = flags;
	put_be16(th + 14, 0xffff);
	if (flags & SEG_SYN) {
		th[20] = 2;			/* MSS 1460 */
		th[21] = 4;
		put_be16(th + 22, 1460);
	}
	if (ts) {
		uint8_t *o = th + hdr_len - 12;

		o[0] = 1;			/* NOP, NOP, timestamps */
		o[1] = 1;
		o[2] = 8;
		o[3] = 10;
		put_be32(o + 4, ts[0]);
		put_be32(o + 8, ts[1]);
	}
	if (len)
		memcpy(th + hdr_len, data, len);
	memcpy(pseudo, &saddr, 4);
	memcpy(pseudo + 4, &daddr, 4);
	pseudo[8] = 0;
	pseudo[9] = proto;
	put_be16(pseudo + 10, th_len);
	sum = csum_add_bytes(csum_add_bytes(0, pseudo, sizeof(pseudo)),
			     th, th_len);
	put_be16(th + 16, csum_fold32(sum));
	return 20 + th_len;
}

int get_tcp_info(int fd, struct tcp_info *info)
{
	socklen_t len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, &len);
}

struct sockaddr_in sin_make(const char *ip, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

int stack_socket(int family)
{
	return socket(family, SOCK_STREAM, 0);
}

static int set_bufs(int fd, int rcvbuf, int sndbuf)
{
	if (rcvbuf > 0 && setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf))
		return -1;
	if (sndbuf > 0 && setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, sndbuf))
		return -1;
	return 0;
}

int stack_listen_opts(int family, const char *ip, uint16_t *port,
		      int rcvbuf, int sndbuf)
{
	struct sockaddr_in sin = sin_make(ip, 0);
	socklen_t len = sizeof(sin);
	int fd, err;

	fd = stack_socket(family);
	if (fd < 0)
		return -1;
	if (set_bufs(fd, rcvbuf, sndbuf) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len))
		goto fail;
	*port = ntohs(sin.sin_port);
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

int stack_listen(int family, const char *ip, uint16_t *port)
{
	return stack_listen_opts(family, ip, port, 0, 0);
}

int stack_connect_opts(int family, const char *ip, uint16_t port,
		       int rcvbuf, int sndbuf)
{
	struct sockaddr_in sin = sin_make(ip, port);
	int fd, err;

	fd = stack_socket(family);
	if (fd < 0)
		return -1;
	if (set_bufs(fd, rcvbuf, sndbuf) ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int stack_connect(int family, const char *ip, uint16_t port)
{
	return stack_connect_opts(family, ip, port, 0, 0);
}

int stack_pair(int family, int *cli, int *srv)
{
	uint16_t port;
	int lfd, err;

	lfd = stack_listen(family, "127.0.0.1", &port);
	if (lfd < 0)
		return -1;
	*cli = stack_connect(family, "127.0.0.1", port);
	if (*cli < 0)
		goto fail;
	*srv = accept(lfd, NULL, NULL);
	if (*srv < 0) {
		err = errno;
		close(*cli);
		errno = err;
		goto fail;
	}
	close(lfd);
	return 0;
fail:
	err = errno;
	close(lfd);
	errno = err;
	return -1;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint8_t pattern_byte(uint64_t pos, uint32_t seed)
{
	return splitmix64((pos >> 3) ^ ((uint64_t)seed << 40)) >> ((pos & 7) * 8);
}

void pattern_fill(uint8_t *buf, size_t len, uint64_t off, uint32_t seed)
{
	size_t i = 0;

	for (; i < len && ((off + i) & 7); i++)
		buf[i] = pattern_byte(off + i, seed);
	for (; i + 8 <= len; i += 8) {
		uint64_t w = splitmix64(((off + i) >> 3) ^ ((uint64_t)seed << 40));

		memcpy(buf + i, &w, 8);	/* little endian, as pattern_byte */
	}
	for (; i < len; i++)
		buf[i] = pattern_byte(off + i, seed);
}

ssize_t pattern_check(const uint8_t *buf, size_t len, uint64_t off,
		      uint32_t seed)
{
	uint8_t want[4096];
	size_t done, n, i;

	for (done = 0; done < len; done += n) {
		n = len - done < sizeof(want) ? len - done : sizeof(want);
		pattern_fill(want, n, off + done, seed);
		if (memcmp(want, buf + done, n) == 0)
			continue;
		for (i = 0; i < n; i++)
			if (want[i] != buf[done + i])
				return done + i;
	}
	return -1;
}

int recv_stall_ms = WAIT_MS;

/* False, with errno ETIMEDOUT, when nothing arrives within recv_stall_ms. */
static int readable_soon(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int r;

	do {
		r = poll(&pfd, 1, recv_stall_ms);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		errno = ETIMEDOUT;
	return r != 0;
}

/* Sizes that straddle MSS and page boundaries; cycled by send/recv. */
static const size_t chunk_sizes[] = {
	65536, 1, 1448, 4096, 200000, 7, 32768 + 3, 131072, 1000, 500000,
};
#define NCHUNKS (sizeof(chunk_sizes) / sizeof(chunk_sizes[0]))
#define MAX_CHUNK 500000

ssize_t send_pattern(int fd, uint64_t total, uint32_t seed)
{
	uint8_t *buf = malloc(MAX_CHUNK);
	uint64_t off = 0;
	unsigned int k = 0;

	if (!buf)
		return -1;
	while (off < total) {
		size_t n = chunk_sizes[k++ % NCHUNKS];
		ssize_t r;

		if (n > total - off)
			n = total - off;
		pattern_fill(buf, n, off, seed);
		r = send_all(fd, buf, n);
		if (r < 0) {
			free(buf);
			return -1;
		}
		off += r;
	}
	free(buf);
	return off;
}

ssize_t recv_pattern(int fd, uint64_t limit, uint32_t seed, int64_t *bad)
{
	uint8_t *buf = malloc(MAX_CHUNK);
	uint64_t off = 0;
	unsigned int k = 3;	/* out of step with the sender's sizes */

	*bad = -1;
	if (!buf)
		return -1;
	for (;;) {
		size_t n = chunk_sizes[k++ % NCHUNKS];
		ssize_t r, at;

		if (!readable_soon(fd))
			break;	/* stalled: the short count tells */
		r = recv(fd, buf, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		at = pattern_check(buf, r, off, seed);
		if (at >= 0 && *bad < 0)
			*bad = off + at;
		off += r;
		if (off > limit)
			break;
	}
	free(buf);
	return off;
}

ssize_t send_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = send(fd, (const char *)buf + done, len - done,
				 MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		done += r;
	}
	return done;
}

ssize_t recv_all(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r;

		if (!readable_soon(fd))
			break;
		r = recv(fd, (char *)buf + done, len - done, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += r;
	}
	return done;
}

static void *bg_send_run(void *arg)
{
	struct bg_send *b = arg;
	uint8_t *buf = malloc(b->len);

	if (buf) {
		pattern_fill(buf, b->len, 0, b->seed);
		b->ret = send(b->fd, buf, b->len, MSG_NOSIGNAL);
		b->err = errno;
		free(buf);
	} else {
		b->ret = -1;
		b->err = ENOMEM;
	}
	atomic_store(&b->done, 1);
	return NULL;
}

int bg_send_start(struct bg_send *b)
{
	atomic_store(&b->done, 0);
	return pthread_create(&b->thread, NULL, bg_send_run, b);
}

int bg_send_join(struct bg_send *b)
{
	return pthread_join(b->thread, NULL);
}

int transfer_checked(int tx_fd, int rx_fd, size_t len, uint32_t seed)
{
	struct bg_send tx = { .fd = tx_fd, .len = len, .seed = seed };
	uint8_t *got = malloc(len);
	ssize_t n = -1;
	ssize_t bad = 0;

	if (!got || bg_send_start(&tx)) {
		free(got);
		return -1;
	}
	n = recv_all(rx_fd, got, len);
	if (n == (ssize_t)len)
		bad = pattern_check(got, len, 0, seed);
	else	/* a stalled sender would never return */
		shutdown(tx_fd, SHUT_RDWR);
	bg_send_join(&tx);
	free(got);
	return n == (ssize_t)len && bad < 0 && tx.ret == (ssize_t)len ? 0 : -1;
}

int sock_inq(int fd)
{
	int v;

	return ioctl(fd, SIOCINQ, &v) ? -1 : v;
}

int sock_outq(int fd)
{
	int v;

	return ioctl(fd, SIOCOUTQ, &v) ? -1 : v;
}

static int wait_q(int (*q)(int), int fd, int want, int timeout_ms)
{
	int v, waited = 0;

	for (;;) {
		v = q(fd);
		if (v == want || v < 0 || waited >= timeout_ms)
			return v;
		msleep(5);
		waited += 5;
	}
}

int wait_inq(int fd, int want, int timeout_ms)
{
	return wait_q(sock_inq, fd, want, timeout_ms);
}

int wait_outq(int fd, int want, int timeout_ms)
{
	return wait_q(sock_outq, fd, want, timeout_ms);
}

int wait_window_closed(int rx_fd, int tx_fd, int *inq, int *outq)
{
	int waited, same = 0;

	*inq = sock_inq(rx_fd);
	*outq = sock_outq(tx_fd);
	for (waited = 0; waited < WAIT_MS; waited += 20) {
		int i, o;

		msleep(20);
		i = sock_inq(rx_fd);
		o = sock_outq(tx_fd);
		/* a second of stillness outlasts any delayed ACK */
		if (i == *inq && o == *outq && i > 0 && o > 0) {
			if (++same >= 50)
				return 0;
		} else {
			same = 0;
		}
		*inq = i;
		*outq = o;
	}
	return -1;
}

int getsockopt_int(int fd, int level, int name, int *val)
{
	socklen_t len = sizeof(*val);

	return getsockopt(fd, level, name, val, &len);
}

int setsockopt_int(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val));
}

int set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl);
}

pid_t fork_child(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0) {
		/* A failed test must not leave a child holding sockets. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
	}
	return pid;
}

int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

int enter_netns(const char *name)
{
	char path[PATH_MAX];
	int fd, ret;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = setns(fd, CLONE_NEWNET);
	close(fd);
	return ret;
}

int run_cmd(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(NULL);
	st = system(cmd);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

const char *self_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0)
		return ".";
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	return dir;
}

int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

uint64_t xtcp_scaled(uint64_t len, uint64_t min)
{
	static unsigned long scale;
	const char *e;

	if (!scale) {
		e = getenv("XTCP_SCALE");
		scale = e ? strtoul(e, NULL, 10) : 1;
		if (!scale)
			scale = 1;
	}
	return len / scale < min ? min : len / scale;
}

int read_icmp_error(int fd, struct icmp_err_seen *seen)
{
	char control[512], payload[64];
	struct iovec iov = { .iov_base = payload, .iov_len = sizeof(payload) };
	struct msghdr msg = {
		.msg_name = &seen->dest,
		.msg_namelen = sizeof(seen->dest),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cm;

	memset(seen, 0, sizeof(*seen));
	if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return -1;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		const struct sock_extended_err *ee;

		if (cm->cmsg_level != SOL_IP || cm->cmsg_type != IP_RECVERR)
			continue;
		ee = (const struct sock_extended_err *)CMSG_DATA(cm);
		seen->err = ee->ee_errno;
		seen->origin = ee->ee_origin;
		seen->type = ee->ee_type;
		seen->code = ee->ee_code;
		seen->info = ee->ee_info;
		memcpy(&seen->offender, SO_EE_OFFENDER(ee),
		       sizeof(seen->offender));
		return 0;
	}
	errno = ENOMSG;
	return -1;
}

int send_icmp_error(const char *to, int type, int code, uint16_t mtu,
		    int proto, const char *src, uint16_t sport,
		    const char *dst, uint16_t dport, uint32_t seq)
{
	uint8_t msg[8 + 20 + 8] = {};
	uint8_t *ip = msg + 8, *th = ip + 20;
	struct sockaddr_in sin = sin_make(to, 0);
	struct in_addr a;
	ssize_t sent;
	int fd;

	msg[0] = type;
	msg[1] = code;
	put_be16(msg + 6, mtu);
	/* The quoted header: what we would have sent, and 8 bytes of TCP's. */
	ip[0] = 0x45;
	put_be16(ip + 2, 20 + 20 + 1000);
	put_be16(ip + 6, 0x4000);	/* DF */
	ip[8] = 63;
	ip[9] = proto;
	if (!inet_aton(src, &a))
		return -1;
	memcpy(ip + 12, &a, 4);
	if (!inet_aton(dst, &a))
		return -1;
	memcpy(ip + 16, &a, 4);
	put_be16(ip + 10, csum_fold32(csum_add_bytes(0, ip, 20)));
	put_be16(th, sport);
	put_be16(th + 2, dport);
	put_be32(th + 4, seq);
	put_be16(msg + 2, csum_fold32(csum_add_bytes(0, msg, sizeof(msg))));
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (fd < 0)
		return -1;
	sent = sendto(fd, msg, sizeof(msg), 0, (struct sockaddr *)&sin,
		      sizeof(sin));
	close(fd);
	return sent == (ssize_t)sizeof(msg) ? 0 : -1;
}

int sniff_open(const char *dev)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = (int)if_nametoindex(dev),
	};
	int fd;

	if (!sll.sll_ifindex)
		return -1;
	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int sniff_segment(int pfd, int proto, uint16_t sport, bool any,
		  uint32_t *seq, uint32_t *len, int timeout_ms)
{
	int64_t end = mono_ms() + timeout_ms;
	uint8_t pkt[2048];

	for (;;) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int left = (int)(end - mono_ms());
		unsigned int ihl, doff, tot;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		n = recv(pfd, pkt, sizeof(pkt), 0);
		if (n < 40)
			continue;
		ihl = (pkt[0] & 0xf) * 4;
		tot = (unsigned int)pkt[2] << 8 | pkt[3];
		if (pkt[9] != proto || (size_t)n < ihl + 20)
			continue;
		doff = (pkt[ihl + 12] >> 4) * 4;
		if (((unsigned int)pkt[ihl] << 8 | pkt[ihl + 1]) != sport ||
		    tot < ihl + doff || (!any && tot == ihl + doff))
			continue;
		*seq = get_be32(pkt + ihl + 4);
		*len = tot - ihl - doff;
		return 0;
	}
}

int connect_result(int fd, int timeout_ms, int64_t *ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int64_t start = mono_ms();
	int err;

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	*ms = mono_ms() - start;
	if (getsockopt_int(fd, SOL_SOCKET, SO_ERROR, &err))
		return -1;
	return err;
}
