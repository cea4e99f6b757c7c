// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp-holes: what a peer that leaves holes can make a receiver hold, and
 * whether its connections recover (the attack of CVE-2018-5390's family,
 * at scale). Run as root, in a throwaway VM, on loopback:
 *
 *   xtcp-holes [-n] [-c CONNS] [-s SEGS] [-b BYTES]
 *
 * A server process accepts CONNS connections (default 1000) and reads
 * nothing yet. The client learns each connection's sequence numbers from
 * its SYN-ACK (a packet socket on lo) and, from a raw socket, sends SEGS
 * one-byte segments (default 256) into each, every other byte from the
 * second on: the first byte is a hole, so none of it can be delivered.
 * The protocol's memory (/proc/net/protocols, pages) is read before, once
 * established, once the segments are held and at the end; it must stay
 * within the stack's hard limit (net.ipv4.tcp_mem or net.xtcp.mem [2]);
 * the growth of the kernel's memory in use (/proc/meminfo) is shown
 * beside it, to check that count.
 * Then each client socket sends BYTES (default 64 KiB) for real, which
 * fills the holes: the server must read every byte, right, on every
 * connection within 120 s. -n runs the same against native TCP (the
 * oracle). Exit 0 when all holds; the last line says what was measured.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/xtcp.h>

#include "tool_util.h"

#define SRV_PORT	7401
#define DEADLINE_MS	120000
#define PKT_MAX		64

static int family, ipproto;
static const char *proto_name;

/* What the server saw, shared with the client (MAP_SHARED). */
struct result {
	int accepted, recovered, wrong;
	int64_t done_ms;
};

static uint8_t pattern(uint32_t off)
{
	return (uint8_t)(off * 2654435761u >> 13);
}

/* The protocol's memory in pages (/proc/net/protocols), or -1. */
static long proto_pages(void)
{
	FILE *f = fopen("/proc/net/protocols", "r");
	char line[512], name[32];
	long size, sockets, pages, found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%31s %ld %ld %ld", name, &size, &sockets,
			   &pages) == 4 && !strcmp(name, proto_name))
			found = pages;
	fclose(f);
	return found;
}

/*
 * Kernel memory in use (/proc/meminfo: MemTotal - MemFree - Buffers -
 * Cached), in KiB, or -1: what the stack's own count should agree with.
 */
static long used_kib(void)
{
	long total = -1, free_kb = -1, buffers = -1, cached = -1, v;
	FILE *f = fopen("/proc/meminfo", "r");
	char key[64];

	if (!f)
		return -1;
	while (fscanf(f, "%63[^:]: %ld kB ", key, &v) == 2) {
		if (!strcmp(key, "MemTotal"))
			total = v;
		else if (!strcmp(key, "MemFree"))
			free_kb = v;
		else if (!strcmp(key, "Buffers"))
			buffers = v;
		else if (!strcmp(key, "Cached"))
			cached = v;
	}
	fclose(f);
	if (total < 0 || free_kb < 0 || buffers < 0 || cached < 0)
		return -1;
	return total - free_kb - buffers - cached;
}

/* The hard limit, net.*.mem [2], in pages, or -1. */
static long proto_limit(void)
{
	const char *path = family == AF_INET ? "/proc/sys/net/ipv4/tcp_mem" :
			   "/proc/sys/net/xtcp/mem";
	FILE *f = fopen(path, "r");
	long lo, mid, hi = -1;

	if (f) {
		if (fscanf(f, "%ld %ld %ld", &lo, &mid, &hi) != 3)
			hi = -1;
		fclose(f);
	}
	return hi;
}

/* Packets dropped at the input backlogs (/proc/net/softnet_stat). */
static long backlog_drops(void)
{
	FILE *f = fopen("/proc/net/softnet_stat", "r");
	unsigned int done, dropped;
	long sum = 0;

	if (!f)
		return -1;
	while (fscanf(f, "%x %x%*[^\n]", &done, &dropped) == 2)
		sum += dropped;
	fclose(f);
	return sum;
}

static struct sockaddr_in lo_addr(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	return sin;
}

static void more_files(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Reads on @fds until each gave @bytes, checking each byte. */
static void serve_reads(int *fds, int n, uint32_t bytes, struct result *r)
{
	struct pollfd *p = calloc(n, sizeof(*p));
	uint32_t *got = calloc(n, sizeof(*got));
	int64_t end = now_ms() + DEADLINE_MS, start = now_ms();
	uint8_t buf[16384];
	int i, left = n;

	if (!p || !got)
		exit(1);
	for (i = 0; i < n; i++) {
		p[i].fd = fds[i];
		p[i].events = POLLIN;
	}
	while (left && now_ms() < end) {
		if (poll(p, n, 1000) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			ssize_t k;

			if (!(p[i].revents & (POLLIN | POLLERR | POLLHUP)))
				continue;
			k = recv(p[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (k <= 0) {
				if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
					p[i].fd = -1;	/* cut short */
					left--;
				}
				continue;
			}
			for (ssize_t j = 0; j < k; j++)
				if (buf[j] != pattern(got[i] + j))
					r->wrong++;
			got[i] += k;
			if (got[i] >= bytes) {
				r->recovered++;
				p[i].fd = -1;
				left--;
			}
		}
	}
	r->done_ms = now_ms() - start;
}

/*
 * The server: accept @n connections, tell the client (@ready), wait for
 * its word (@go), read them all. Its sockets close when it exits.
 */
static void run_server(int lfd, int n, uint32_t bytes, int ready, int go,
		       struct result *r)
{
	int *fds = calloc(n, sizeof(*fds));
	char c = 0;

	if (!fds)
		exit(1);
	while (r->accepted < n) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			exit(1);
		fds[r->accepted++] = fd;
	}
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
		exit(1);
	serve_reads(fds, n, bytes, r);
	exit(0);
}

/* An IPv4 packet from @cport to the server: ACK, one byte at @seq. */
static size_t forge(uint8_t *pkt, uint16_t cport, uint32_t seq, uint32_t ack,
		    uint8_t byte)
{
	uint32_t lo = htonl(INADDR_LOOPBACK);
	uint8_t *th = pkt + 20;
	uint16_t sum;

	memset(pkt, 0, PKT_MAX);
	pkt[0] = 0x45;
	put_be16(pkt + 2, 20 + 21);
	put_be16(pkt + 6, 0x4000);
	pkt[8] = 64;
	pkt[9] = ipproto;
	memcpy(pkt + 12, &lo, 4);
	memcpy(pkt + 16, &lo, 4);
	put_be16(pkt + 10, csum_fold(csum_add(0, pkt, 20)));
	put_be16(th, cport);
	put_be16(th + 2, SRV_PORT);
	put_be32(th + 4, seq);
	put_be32(th + 8, ack);
	th[12] = 5 << 4;
	th[13] = 0x10;				/* ACK */
	put_be16(th + 14, 0xffff);
	th[20] = byte;
	sum = seg_csum(lo, lo, ipproto, th, 21);	/* network order */
	memcpy(th + 16, &sum, 2);
	return 41;
}

/* Sequence numbers, by client port, from the SYN-ACKs on lo. */
struct isns {
	uint32_t cli, srv;
	bool seen;
};

static void sniff(int ps, struct isns *by_port)
{
	uint8_t buf[256];
	ssize_t k;

	while ((k = recv(ps, buf, sizeof(buf), MSG_DONTWAIT)) >= 40) {
		const uint8_t *th = buf + (buf[0] & 15) * 4;
		uint16_t sport, dport;

		if (buf[9] != ipproto || th + 14 > buf + k)
			continue;
		sport = th[0] << 8 | th[1];
		dport = th[2] << 8 | th[3];
		if (sport != SRV_PORT || (th[13] & 0x12) != 0x12)
			continue;
		by_port[dport].srv = (uint32_t)th[4] << 24 | th[5] << 16 |
				     th[6] << 8 | th[7];
		by_port[dport].cli = ((uint32_t)th[8] << 24 | th[9] << 16 |
				      th[10] << 8 | th[11]) - 1;
		by_port[dport].seen = true;
	}
}

static int packet_socket(void)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = if_nametoindex("lo"),
	};
	int ps = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP)), sz = 1 << 22;

	if (ps < 0 || bind(ps, (struct sockaddr *)&sll, sizeof(sll)))
		return -1;
	setsockopt(ps, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return ps;
}

/* Connect @n sockets, each with its SYN-ACK seen; 0 or -1. */
static int connect_all(int *fds, uint16_t *ports, int n, int ps,
		       struct isns *by_port)
{
	struct sockaddr_in sin = lo_addr(SRV_PORT), me;
	int i;

	for (i = 0; i < n; i++) {
		socklen_t len = sizeof(me);
		int64_t end;

		fds[i] = socket(family, SOCK_STREAM, 0);
		if (fds[i] < 0 ||
		    connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)) ||
		    getsockname(fds[i], (struct sockaddr *)&me, &len)) {
			perror("xtcp-holes: connect");
			return -1;
		}
		ports[i] = ntohs(me.sin_port);
		for (end = now_ms() + 2000; !by_port[ports[i]].seen &&
		     now_ms() < end; usleep(1000))
			sniff(ps, by_port);
		if (!by_port[ports[i]].seen) {
			fprintf(stderr, "xtcp-holes: no SYN-ACK seen for port %u\n",
				ports[i]);
			return -1;
		}
	}
	return 0;
}

/* @segs one-byte segments into each connection, behind its first byte. */
static long forge_all(const uint16_t *ports, int n, int segs,
		      const struct isns *by_port)
{
	struct sockaddr_in dst = lo_addr(0);
	int raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	uint8_t pkt[PKT_MAX];
	long sent = 0;
	int i, j;

	if (raw < 0) {
		perror("xtcp-holes: raw socket");
		return -1;
	}
	for (j = 0; j < segs; j++)
		for (i = 0; i < n; i++) {
			const struct isns *s = &by_port[ports[i]];
			uint32_t off = 1 + 2 * j;
			size_t len = forge(pkt, ports[i], s->cli + 1 + off,
					   s->srv + 1, pattern(off));

			if (sendto(raw, pkt, len, 0, (struct sockaddr *)&dst,
				   sizeof(dst)) == (ssize_t)len)
				sent++;
			/* Let softirq take them: the backlog holds 1000. */
			if (!(sent % 64))
				sched_yield();
		}
	close(raw);
	return sent;
}

/* Each client socket sends @bytes of the pattern: the holes fill. */
static int send_all(const int *fds, int n, uint32_t bytes)
{
	uint32_t *sent = calloc(n, sizeof(*sent));
	int64_t end = now_ms() + DEADLINE_MS;
	uint8_t buf[16384];
	int i, left = n;

	if (!sent)
		return -1;
	while (left && now_ms() < end) {
		for (i = 0; i < n; i++) {
			uint32_t k = bytes - sent[i], j;
			ssize_t w;

			if (!k)
				continue;
			if (k > sizeof(buf))
				k = sizeof(buf);
			for (j = 0; j < k; j++)
				buf[j] = pattern(sent[i] + j);
			w = send(fds[i], buf, k, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w > 0) {
				sent[i] += w;
				if (sent[i] == bytes)
					left--;
			} else if (errno != EAGAIN && errno != EINTR) {
				free(sent);
				return -1;
			}
		}
		if (left)
			usleep(1000);
	}
	free(sent);
	return left ? -1 : 0;
}

int main(int argc, char **argv)
{
	int conns = 1000, segs = 256, opt, lfd, ps, up[2], go[2], one = 1;
	long before, established, held, after, limit, drops, sent;
	long used_established, used_held;
	int64_t forged_ms;
	uint32_t bytes = 64 * 1024;
	struct sockaddr_in sin = lo_addr(SRV_PORT);
	struct isns *by_port;
	struct result *r;
	uint16_t *ports;
	bool native = false, ok;
	int *fds, status;
	pid_t pid;
	char c;

	while ((opt = getopt(argc, argv, "nc:s:b:")) != -1) {
		switch (opt) {
		case 'n':
			native = true;
			break;
		case 'c':
			conns = atoi(optarg);
			break;
		case 's':
			segs = atoi(optarg);
			break;
		case 'b':
			bytes = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-n] [-c CONNS] [-s SEGS] [-b BYTES]\n",
				argv[0]);
			return 2;
		}
	}
	if (conns < 1 || segs < 1 || bytes < 2 * (uint32_t)segs + 1) {
		fprintf(stderr, "xtcp-holes: need CONNS, SEGS >= 1 and BYTES > 2 * SEGS\n");
		return 2;
	}
	family = native ? AF_INET : read_int(XTCP_SYSFS_FAMILY, AF_XTCP);
	ipproto = native ? IPPROTO_TCP :
		  read_int(XTCP_SYSFS_IPPROTO, XTCP_DEFAULT_IPPROTO);
	proto_name = native ? "TCP" : "XTCP";
	more_files();
	signal(SIGPIPE, SIG_IGN);
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	by_port = calloc(65536, sizeof(*by_port));
	fds = calloc(conns, sizeof(*fds));
	ports = calloc(conns, sizeof(*ports));
	if (r == MAP_FAILED || !by_port || !fds || !ports || pipe(up) ||
	    pipe(go))
		return 1;
	lfd = socket(family, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one,
				  sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(lfd, conns)) {
		perror("xtcp-holes: listener");
		return 1;
	}
	ps = packet_socket();
	if (ps < 0) {
		perror("xtcp-holes: packet socket on lo");
		return 1;
	}
	before = proto_pages();
	limit = proto_limit();
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		close(up[0]);
		close(go[1]);
		run_server(lfd, conns, bytes, up[1], go[0], r);
	}
	/* A server that dies early then reads as EOF, not a hang. */
	close(up[1]);
	close(go[0]);
	close(lfd);
	if (connect_all(fds, ports, conns, ps, by_port) ||
	    read(up[0], &c, 1) != 1) {
		kill(pid, SIGKILL);
		return 1;
	}
	close(ps);
	established = proto_pages();
	used_established = used_kib();
	drops = backlog_drops();
	forged_ms = now_ms();
	sent = forge_all(ports, conns, segs, by_port);
	forged_ms = now_ms() - forged_ms;
	drops = backlog_drops() - drops;
	usleep(500000);
	held = proto_pages();
	used_held = used_kib();
	if (write(go[1], &c, 1) != 1 || send_all(fds, conns, bytes))
		fprintf(stderr, "xtcp-holes: the client could not send it all\n");
	waitpid(pid, &status, 0);
	after = proto_pages();
	/* Every forged segment sent, and held: else nothing was measured. */
	ok = sent == (long)conns * segs && held > established &&
	     limit > 0 && held <= limit && r->recovered == conns && !r->wrong;
	printf("xtcp-holes: %s, %d connections, %d one-byte segments each behind a hole: %ld sent in %lld ms, %ld dropped at the backlog\n",
	       native ? "native TCP" : "xtcp", conns, segs, sent,
	       (long long)forged_ms, drops);
	printf("xtcp-holes: protocol memory (pages): before %ld, established %ld, holes held %ld (%.0f bytes a connection), limit %ld, after %ld\n",
	       before, established, held,
	       (double)(held - established) * 4096 / conns, limit, after);
	printf("xtcp-holes: kernel memory in use (/proc/meminfo) grew by %.0f bytes a connection while the holes were held\n",
	       (double)(used_held - used_established) * 1024 / conns);
	printf("xtcp-holes: %d of %d connections recovered, %u bytes each, in %lld ms, %d wrong bytes: %s\n",
	       r->recovered, conns, bytes, (long long)r->done_ms, r->wrong,
	       ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}
