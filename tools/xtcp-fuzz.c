// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp-fuzz: a fuzz and fault campaign against a loaded xtcp module, run
 * in a throwaway VM (scripts/fuzz-guest on the debug kernel: KASAN, UBSAN,
 * lockdep and kmemleak watch). For SECONDS it runs at once, on loopback:
 *
 *  - verified flows: connections carrying a known byte pattern end to end,
 *    checked on arrival; the segment fuzzer hits them only with segments
 *    that can carry no data (bad checksums, data-less segments, RSTs and
 *    SYNs whose numbers are never exact), so a wrong, lost or reset byte
 *    is the stack's fault;
 *  - victim flows: connections opened, fed and closed at random (half-open
 *    ones too), which the segment fuzzer hits with anything, numbers read
 *    off the wire included;
 *  - a segment fuzzer: raw IPv4 packets of xtcp's protocol, mutated flags,
 *    sequence and acknowledgment numbers around the live ones, windows,
 *    options of every kind and length, data offsets, truncated headers,
 *    bad checksums, IP options and fragments;
 *  - a syscall fuzzer: threads calling every socket call on a shared set
 *    of AF_XTCP sockets with random arguments, flags, lengths and bad
 *    pointers, closing and shutting down under each other, forking;
 *  - namespace churn: namespaces made, filled with connections in every
 *    state (listeners, established with data queued both ways, orphans
 *    with unsent data) and deleted;
 *  - module unload attempts, which must fail while sockets exist.
 * With -F the guest injects allocation failures meanwhile (failslab,
 * fail_page_alloc): a verified flow cut short with an error is then
 * counted but not a failure; a wrong byte, or a flow that stalls (no byte
 * for 20 s: the stack resends what it could not send), still is.
 * It prints what it tried and what it saw; the guest script judges the
 * kernel's reports and the final unload.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/xtcp.h>

#include "tool_util.h"

#define VER_PORT	7001	/* verified flows' listener */
#define VIC_PORT	7002	/* victim flows' listener */
#define VER_FLOWS	4
#define CHUNK		16384
#define MAX_FDS		64
#define SNIFFED		64
/* The TTL of forged packets: the sniffer skips them. */
#define FORGED_TTL	37

static int family, ipproto;
static atomic_int stopping;
/* -F: allocations fail at random; flows may end early, never wrong. */
static bool faults;

/* Shared between the processes (MAP_SHARED): what each part did. */
struct stats {
	atomic_ullong segments, syscalls, namespaces, unload_refused;
	atomic_ullong verified_bytes, verified_bad, verified_resets;
	atomic_ullong verified_stalls;
	atomic_ullong victim_conns, forks, unloaded_while_busy;
};
static struct stats *st;

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static uint32_t rnd(uint64_t *s, uint32_t n)
{
	return n ? rng_next(s) % n : 0;
}

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 2654435761u >> 13);
}

static void set_timeouts(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static struct sockaddr_in lo_addr(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	return sin;
}

static int listen_on(uint16_t port)
{
	struct sockaddr_in sin = lo_addr(port);
	int one = 1, fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 128)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_to(uint16_t port, int timeout_ms)
{
	struct sockaddr_in sin = lo_addr(port);
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	set_timeouts(fd, timeout_ms);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- verified flows ---- */

static bool verified_port(uint16_t port)
{
	return port >= VER_PORT && port < VER_PORT + 100 * VER_FLOWS &&
	       (port - VER_PORT) % 100 == 0;
}

struct flow {
	int lfd;
	uint16_t port;
	uint64_t seed;
};

/*
 * The child of @lfd that is @cli's peer: another's (a fuzzer reached the
 * port) is closed and the wait goes on, for at most 5 s.
 */
static int accept_peer_of(int lfd, int cli)
{
	struct sockaddr_in want, got;
	socklen_t len = sizeof(want);
	int64_t end = now_ms() + 5000;

	if (getsockname(cli, (struct sockaddr *)&want, &len))
		return -1;
	while (now_ms() < end) {
		int srv;

		len = sizeof(got);
		srv = accept(lfd, (struct sockaddr *)&got, &len);
		if (srv < 0)
			continue;
		if (got.sin_port == want.sin_port &&
		    got.sin_addr.s_addr == want.sin_addr.s_addr)
			return srv;
		close(srv);
	}
	return -1;
}

/* Stop a flow, counted, when it moved no byte for this long. */
#define STALL_MS	20000

/* One connection at a time per flow: a pattern sent, checked, again. */
static void *verified_flow(void *arg)
{
	struct flow *fl = arg;
	uint8_t *buf = malloc(CHUNK);

	while (buf && !stopping) {
		uint64_t sent = 0, got = 0;
		uint64_t want = 256 * 1024 + rnd(&fl->seed, 1 << 20);
		int cli = connect_to(fl->port, 5000), srv;
		const char *why = "closed";
		int64_t moved = now_ms();

		if (cli < 0) {
			fprintf(stderr, "xtcp-fuzz: verified connect to port %u: %s\n",
				fl->port, strerror(errno));
			atomic_fetch_add(&st->verified_resets, 1);
			usleep(100000);
			continue;
		}
		srv = accept_peer_of(fl->lfd, cli);
		if (srv < 0) {
			fprintf(stderr, "xtcp-fuzz: verified accept on port %u: none in 5 s\n",
				fl->port);
			atomic_fetch_add(&st->verified_resets, 1);
			close(cli);
			continue;
		}
		set_timeouts(srv, 1000);
		while (got < want && !stopping) {
			size_t n = want - sent < CHUNK ? want - sent : CHUNK;
			ssize_t r;

			if (n) {
				for (size_t i = 0; i < n; i++)
					buf[i] = pattern(sent + i);
				r = send(cli, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
				if (r > 0)
					sent += r;
				else if (r < 0 && errno != EAGAIN) {
					why = strerror(errno);
					break;
				}
			}
			r = recv(srv, buf, CHUNK, sent > got ? 0 : MSG_DONTWAIT);
			if (r > 0) {
				for (ssize_t i = 0; i < r; i++)
					if (buf[i] != pattern(got + i)) {
						atomic_fetch_add(&st->verified_bad, 1);
						break;
					}
				got += r;
				atomic_fetch_add(&st->verified_bytes, r);
				moved = now_ms();
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				why = r ? strerror(errno) : "end of stream";
				break;
			} else if (now_ms() - moved > STALL_MS) {
				why = "stalled";
				atomic_fetch_add(&st->verified_stalls, 1);
				break;
			}
		}
		if (got < want && !stopping) {
			fprintf(stderr, "xtcp-fuzz: verified flow on port %u ended at %llu of %llu bytes (%llu sent): %s\n",
				fl->port, (unsigned long long)got,
				(unsigned long long)want,
				(unsigned long long)sent, why);
			atomic_fetch_add(&st->verified_resets, 1);
		}
		close(cli);
		close(srv);
	}
	free(buf);
	return NULL;
}

static void run_verified(void)
{
	pthread_t th[VER_FLOWS];
	struct flow fl[VER_FLOWS];
	int i;

	for (i = 0; i < VER_FLOWS; i++) {
		fl[i].port = VER_PORT + 100 * i;
		fl[i].lfd = listen_on(fl[i].port);
		set_timeouts(fl[i].lfd, 500);
		fl[i].seed = 0x9e3779b97f4a7c15ULL * (i + 1);
		if (fl[i].lfd < 0) {
			perror("xtcp-fuzz: verified listener");
			exit(1);
		}
		pthread_create(&th[i], NULL, verified_flow, &fl[i]);
	}
	for (i = 0; i < VER_FLOWS; i++)
		pthread_join(th[i], NULL);
	exit(0);
}

/* ---- victim flows ---- */

/*
 * Connections opened to the victim listener, fed a little each way, and
 * closed at random: some with data unread or unsent (reset or orphaned),
 * some half-closed, some left half-open for a while.
 */
static void run_victims(uint64_t seed)
{
	int lfd = listen_on(VIC_PORT), fds[MAX_FDS], n = 0, i;
	char buf[4096];

	if (lfd < 0) {
		perror("xtcp-fuzz: victim listener");
		exit(1);
	}
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	memset(buf, 'v', sizeof(buf));
	while (!stopping) {
		int fd, op = rnd(&seed, 8);

		if (n < MAX_FDS - 2 && op < 2) {
			fd = connect_to(VIC_PORT, 500);
			if (fd >= 0) {
				fcntl(fd, F_SETFL, O_NONBLOCK);
				fds[n++] = fd;
				atomic_fetch_add(&st->victim_conns, 1);
			}
		}
		while (n < MAX_FDS && (fd = accept4(lfd, NULL, NULL,
						    SOCK_NONBLOCK)) >= 0)
			fds[n++] = fd;
		if (!n) {
			usleep(1000);
			continue;
		}
		i = rnd(&seed, n);
		switch (op) {
		case 2:
		case 3:
			send(fds[i], buf, 1 + rnd(&seed, sizeof(buf)),
			     MSG_DONTWAIT | MSG_NOSIGNAL);
			break;
		case 4:
			recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
			break;
		case 5:
			shutdown(fds[i], rnd(&seed, 3));
			break;
		default:
			if (rnd(&seed, 4))
				break;
			if (rnd(&seed, 2)) {
				struct linger lg = { 1, 0 };

				setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg,
					   sizeof(lg));
			}
			close(fds[i]);
			fds[i] = fds[--n];
			break;
		}
		usleep(200);
	}
	exit(0);
}

/* ---- segment fuzzer ---- */

struct seen {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t win;
	bool used;
};

/* Learn live connections' numbers from what the sniffer saw. */
static void sniff(int sfd, struct seen *tab)
{
	uint8_t pkt[2048];
	ssize_t n;

	while ((n = recv(sfd, pkt, sizeof(pkt), MSG_DONTWAIT)) > 0) {
		unsigned int ihl = (pkt[0] & 15) * 4;
		struct tcphdr th;
		struct seen *e;

		if (n < ihl + 20 || pkt[8] == FORGED_TTL)
			continue;
		memcpy(&th, pkt + ihl, sizeof(th));
		e = &tab[(ntohs(th.source) ^ ntohs(th.dest)) % SNIFFED];
		memcpy(&e->saddr, pkt + 12, 4);
		memcpy(&e->daddr, pkt + 16, 4);
		e->sport = th.source;
		e->dport = th.dest;
		e->seq = ntohl(th.seq);
		e->ack = ntohl(th.ack_seq);
		e->win = ntohs(th.window);
		e->used = true;
	}
}

/* Options of every kind and length, well formed or not. */
static size_t fuzz_options(uint64_t *s, uint8_t *opt, size_t room)
{
	size_t len = 0;

	while (len < room) {
		size_t left = room - len;
		uint8_t kind;

		switch (rnd(s, 10)) {
		case 0:
			kind = 0;
			break;
		case 1:
			kind = 1;
			break;
		case 2:
			kind = 2;
			break;
		case 3:
			kind = 3;
			break;
		case 4:
			kind = 4;
			break;
		case 5:
			kind = 5;
			break;
		case 6:
		case 7:
			kind = 8;
			break;
		default:
			kind = rnd(s, 256);
			break;
		}
		opt[len++] = kind;
		if (kind <= 1 || len >= room)
			continue;
		/* A length that fits, or any length at all. */
		opt[len] = rnd(s, 4) ? 2 + rnd(s, left - 1) : rnd(s, 256);
		if (kind == 2 && rnd(s, 2))
			opt[len] = 4;
		else if (kind == 3 && rnd(s, 2))
			opt[len] = 3;
		else if (kind == 8 && rnd(s, 2))
			opt[len] = 10;
		else if (kind == 5 && rnd(s, 2))
			opt[len] = 2 + 8 * (1 + rnd(s, 4));
		len++;
		while (len < room && rnd(s, 8))
			opt[len++] = rng_next(s);
	}
	return room;
}

/*
 * A segment that a correct TCP must drop without a change to a verified
 * flow: no payload, no FIN, no SYN (one starts a simultaneous open in
 * SYN_SENT, or resets an embryonic connection in SYN_RECV, whatever its
 * number), a RST far outside any window (an exact one would rightly end
 * the flow), an acknowledgment of data never sent (one of data sent but
 * not yet received would rightly free it at the sender, and a forged
 * window or urgent pointer on an acceptable ACK would rightly be taken),
 * and no timestamp option (RFC 7323 lets a segment in the window update
 * TS.Recent before its ACK is checked: see the closing note of the
 * session that added this). Native TCP, run with -n, keeps its verified
 * flows intact under these.
 */
static void tame_for_verified(uint64_t *s, struct tcphdr *th, size_t opts,
			      size_t *payload)
{
	uint8_t *opt = (uint8_t *)(th + 1);

	*payload = 0;
	th->fin = 0;
	th->syn = 0;
	if (th->rst)
		th->seq = htonl(ntohl(th->seq) + (1U << 31) + rnd(s, 1 << 24));
	th->ack_seq = htonl(ntohl(th->ack_seq) + (1U << 30) + rnd(s, 1 << 24));
	for (size_t i = 0; i < opts; i++)
		if (opt[i] == 8)
			opt[i] = 1;
}

static void run_segments(uint64_t seed)
{
	int raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	int sfd = socket(AF_INET, SOCK_RAW, ipproto);
	struct seen *tab = calloc(SNIFFED, sizeof(*tab));
	uint8_t pkt[1600];

	if (raw < 0 || sfd < 0 || !tab) {
		perror("xtcp-fuzz: raw sockets");
		exit(1);
	}
	while (!stopping) {
		struct iphdr *iph = (struct iphdr *)pkt;
		size_t ihl = 20, hdr, opts, payload, seglen;
		struct seen *e = &tab[rnd(&seed, SNIFFED)];
		struct sockaddr_in dst = { .sin_family = AF_INET };
		bool verified = false, good_csum = rnd(&seed, 8) != 0;
		struct tcphdr *th;
		uint8_t *seg;

		sniff(sfd, tab);
		memset(pkt, 0, 60);
		/* IP options now and then: NOPs, an end, or garbage. */
		if (!rnd(&seed, 16)) {
			ihl += 4 * (1 + rnd(&seed, 10));
			for (size_t i = 20; i < ihl; i++)
				pkt[i] = rnd(&seed, 2) ? 1 : rng_next(&seed);
		}
		seg = pkt + ihl;
		th = (struct tcphdr *)seg;
		iph->version = 4;
		iph->ihl = ihl / 4;
		iph->ttl = FORGED_TTL;
		iph->protocol = ipproto;
		iph->saddr = htonl(INADDR_LOOPBACK);
		iph->daddr = htonl(INADDR_LOOPBACK);
		if (e->used && rnd(&seed, 4)) {
			/* A live connection, from either end. */
			bool rev = rnd(&seed, 2);

			iph->saddr = rev ? e->daddr : e->saddr;
			iph->daddr = rev ? e->saddr : e->daddr;
			th->source = rev ? e->dport : e->sport;
			th->dest = rev ? e->sport : e->dport;
			th->seq = htonl(rev ? e->ack : e->seq);
			th->ack_seq = htonl(rev ? e->seq : e->ack);
			verified = verified_port(ntohs(th->source)) ||
				   verified_port(ntohs(th->dest));
			if (rnd(&seed, 2))
				th->seq = htonl(ntohl(th->seq) +
						(int32_t)(rnd(&seed, 1 << 18) -
							  (1 << 17)));
			if (rnd(&seed, 2))
				th->ack_seq = htonl(ntohl(th->ack_seq) +
						    (int32_t)(rnd(&seed, 1 << 18) -
							      (1 << 17)));
		} else {
			static const uint16_t ports[] = {
				VER_PORT, VIC_PORT, 1, 65535
			};

			th->source = htons(1024 + rnd(&seed, 64000));
			th->dest = htons(rnd(&seed, 2) ? ports[rnd(&seed, 4)] :
						     rnd(&seed, 65536));
			verified = verified_port(ntohs(th->source)) ||
				   verified_port(ntohs(th->dest));
			th->seq = htonl(rng_next(&seed));
			th->ack_seq = htonl(rng_next(&seed));
		}
		((uint8_t *)th)[13] = rnd(&seed, 3) ? rnd(&seed, 64) :
				      rng_next(&seed);
		if (!rnd(&seed, 3))
			th->syn = 1, th->ack = 0;
		th->window = htons(rnd(&seed, 4) ? rnd(&seed, 65536) : 0);
		th->urg_ptr = rnd(&seed, 8) ? 0 : rng_next(&seed);
		opts = rnd(&seed, 3) ? 0 : 4 * rnd(&seed, 11);
		hdr = 20 + opts;
		fuzz_options(&seed, seg + 20, opts);
		payload = rnd(&seed, 2) ? 0 : rnd(&seed, 1400 - ihl - hdr);
		if (verified && good_csum)
			tame_for_verified(&seed, th, opts, &payload);
		for (size_t i = 0; i < payload; i++)
			seg[hdr + i] = rng_next(&seed);
		/* The data offset as built, or anything. */
		th->doff = rnd(&seed, 8) ? hdr / 4 : rnd(&seed, 16);
		seglen = hdr + payload;
		/* A header cut short. */
		if (!rnd(&seed, 32))
			seglen = rnd(&seed, 20);
		th->check = 0;
		if (seglen >= 18)
			th->check = seg_csum(iph->saddr, iph->daddr, ipproto, seg,
					     seglen);
		if (!good_csum && seglen >= 18)
			th->check ^= htons(1 + rnd(&seed, 65535));
		/* A fragment now and then (reassembly may wait for ever). */
		if (!verified && !rnd(&seed, 64))
			iph->frag_off = htons((rnd(&seed, 2) ? IP_MF : 0) |
					      rnd(&seed, 64));
		dst.sin_addr.s_addr = iph->daddr;
		if (sendto(raw, pkt, ihl + seglen, 0, (struct sockaddr *)&dst,
			   sizeof(dst)) >= 0)
			atomic_fetch_add(&st->segments, 1);
		if (!rnd(&seed, 64))
			usleep(100);
	}
	exit(0);
}

/* ---- syscall fuzzer ---- */

struct sys_state {
	int fds[MAX_FDS];
	pthread_mutex_t lock;	/* only for picking slots, never held in a call */
};

static struct sys_state sys;

static int pick_fd(uint64_t *s)
{
	return sys.fds[rnd(s, MAX_FDS)];
}

/*
 * Put @fd (-1: none) in a random slot and close what was there, as
 * another thread may still be using it: the races are the point.
 */
static void put_fd(uint64_t *s, int fd)
{
	int slot = rnd(s, MAX_FDS), old;

	pthread_mutex_lock(&sys.lock);
	old = sys.fds[slot];
	sys.fds[slot] = fd;
	pthread_mutex_unlock(&sys.lock);
	if (old >= 0) {
		if (fd < 0 && rnd(s, 2)) {
			struct linger lg = { 1, rnd(s, 2) };

			setsockopt(old, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		close(old);
	}
}

/* An address: loopback to a live port or any, odd families and lengths. */
static socklen_t fuzz_addr(uint64_t *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	/* Not the verified flows' ports: their accepts must find them. */
	static const uint16_t ports[] = { VIC_PORT + 1, VIC_PORT, 0, 1, 80 };

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = rnd(s, 8) ? AF_INET :
			  rnd(s, 2) ? AF_UNSPEC : rnd(s, 64);
	if (rnd(s, 6) == 0)
		sin->sin_family = family;
	sin->sin_port = htons(rnd(s, 2) ? ports[rnd(s, 5)] :
				      rnd(s, 65536));
	if (verified_port(ntohs(sin->sin_port)))
		sin->sin_port = htons(VIC_PORT);
	switch (rnd(s, 6)) {
	case 0:
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		break;
	case 1:
		sin->sin_addr.s_addr = rng_next(s);
		break;
	case 2:
		sin->sin_addr.s_addr = htonl(0xe0000001);	/* multicast */
		break;
	case 3:
		sin->sin_addr.s_addr = htonl(INADDR_BROADCAST);
		break;
	default:
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		break;
	}
	return rnd(s, 8) ? sizeof(*sin) : rnd(s, sizeof(*ss) + 1);
}

/* Option values are ints mostly, sometimes more or less, or a bad pointer. */
static void fuzz_sockopt(uint64_t *s, int fd, bool set)
{
	static const int levels[] = { SOL_SOCKET, SOL_TCP, SOL_IP, 0, 255 };
	int level = rnd(s, 8) ? levels[rnd(s, 3)] : levels[rnd(s, 5)];
	int name = rnd(s, 80);
	uint8_t val[256];
	socklen_t len = rnd(s, 4) ? sizeof(int) : rnd(s, sizeof(val) + 1);
	void *ptr = rnd(s, 32) ? (void *)val : (void *)(uintptr_t)8;

	for (size_t i = 0; i < sizeof(val); i++)
		val[i] = rnd(s, 4) ? 0 : rng_next(s);
	if (len >= sizeof(int) && rnd(s, 2)) {
		int v = rnd(s, 2) ? (int)rnd(s, 3) : (int)rng_next(s);

		memcpy(val, &v, sizeof(v));
	}
	/* Long timeouts and lingers would only make the run wait. */
	/*
	 * Long timeouts and lingers would only make the run wait; forced
	 * buffers would fill the protocol's memory and slow every flow.
	 */
	if (level == SOL_SOCKET &&
	    (name == SO_RCVTIMEO || name == SO_SNDTIMEO || name == SO_LINGER ||
	     name == 66 || name == 67 ||	/* SO_{RCV,SND}TIMEO_NEW */
	     name == SO_SNDBUFFORCE || name == SO_RCVBUFFORCE))
		return;
	if (set) {
		setsockopt(fd, level, name, ptr, len);
	} else {
		socklen_t l = len;

		getsockopt(fd, level, name, ptr, rnd(s, 16) ? &l : NULL);
	}
}

static void fuzz_call(uint64_t *s, char *buf, size_t bufsz)
{
	struct sockaddr_storage ss;
	int fd = pick_fd(s), nfd;
	socklen_t alen;
	struct msghdr msg = { 0 };
	struct iovec iov[2];
	int flags = 0;

	if (rnd(s, 2))
		flags |= MSG_DONTWAIT;
	if (!rnd(s, 4))
		flags |= 1 << rnd(s, 31);
	flags |= MSG_NOSIGNAL;
	switch (rnd(s, 20)) {
	case 0:
	case 1:
		nfd = socket(family, SOCK_STREAM |
			     (rnd(s, 2) ? SOCK_NONBLOCK : 0) |
			     (rnd(s, 2) ? SOCK_CLOEXEC : 0),
			     rnd(s, 4) ? 0 : rnd(s, 2) ? ipproto : (int)rnd(s, 300));
		if (nfd < 0)
			break;
		set_timeouts(nfd, 200);
		put_fd(s, nfd);
		break;
	case 2:
		alen = fuzz_addr(s, &ss);
		bind(fd, (struct sockaddr *)&ss, alen);
		break;
	case 3:
		alen = fuzz_addr(s, &ss);
		connect(fd, (struct sockaddr *)&ss, alen);
		break;
	case 4:
		listen(fd, rnd(s, 3) ? (int)rnd(s, 16) : (int)rng_next(s));
		break;
	case 5:
		alen = sizeof(ss);
		nfd = accept4(fd, rnd(s, 2) ? (struct sockaddr *)&ss : NULL,
			      rnd(s, 2) ? &alen : NULL,
			      SOCK_NONBLOCK | (rnd(s, 2) ? SOCK_CLOEXEC : 0));
		if (nfd >= 0)
			put_fd(s, nfd);
		break;
	case 6:
	case 7:
		send(fd, rnd(s, 32) ? buf : (void *)(uintptr_t)16,
		     rnd(s, 4) ? rnd(s, bufsz) : bufsz, flags);
		break;
	case 8:
		iov[0].iov_base = buf;
		iov[0].iov_len = rnd(s, bufsz / 2);
		iov[1].iov_base = rnd(s, 8) ? buf + bufsz / 2 : (void *)(uintptr_t)4096;
		iov[1].iov_len = rnd(s, bufsz / 2);
		msg.msg_iov = iov;
		msg.msg_iovlen = 1 + rnd(s, 2);
		if (rnd(s, 4) == 0) {
			alen = fuzz_addr(s, &ss);
			msg.msg_name = &ss;
			msg.msg_namelen = alen;
		}
		if (rnd(s, 2))
			sendmsg(fd, &msg, flags);
		else
			recvmsg(fd, &msg, flags | MSG_DONTWAIT);
		break;
	case 9:
	case 10:
		recv(fd, rnd(s, 32) ? buf : (void *)(uintptr_t)16,
		     rnd(s, bufsz), flags | MSG_DONTWAIT |
		     (rnd(s, 4) ? 0 : MSG_PEEK) | (rnd(s, 8) ? 0 : MSG_TRUNC) |
		     (rnd(s, 8) ? 0 : MSG_WAITALL));
		break;
	case 11:
	case 12:
		fuzz_sockopt(s, fd, true);
		break;
	case 13:
		fuzz_sockopt(s, fd, false);
		break;
	case 14:
		shutdown(fd, rnd(s, 4));
		break;
	case 15: {
		static const unsigned long reqs[] = {
			SIOCINQ, SIOCOUTQ, SIOCOUTQNSD, FIONBIO, SIOCATMARK,
			SIOCGSTAMP_OLD, 0x89ff,
		};
		long v[4] = { rnd(s, 2) };

		ioctl(fd, reqs[rnd(s, 7)], rnd(s, 16) ? (void *)v : NULL);
		break;
	}
	case 16: {
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT |
					       POLLRDHUP | POLLPRI };

		poll(&p, 1, 0);
		alen = rnd(s, 2) ? sizeof(ss) : rnd(s, 8);
		if (rnd(s, 2))
			getsockname(fd, (struct sockaddr *)&ss, &alen);
		else
			getpeername(fd, (struct sockaddr *)&ss, &alen);
		break;
	}
	case 17:
		put_fd(s, -1);
		break;
	case 18:
		fcntl(fd, F_SETFL, rnd(s, 2) ? O_NONBLOCK : 0);
		break;
	default:
		/* A child with copies of every socket, which it uses and drops. */
		if (rnd(s, 16))
			break;
		nfd = fork();
		if (nfd == 0) {
			uint64_t cs = *s ^ getpid();

			for (int i = 0; i < 50; i++)
				send(pick_fd(&cs), buf, rnd(&cs, bufsz),
				     MSG_DONTWAIT | MSG_NOSIGNAL);
			_exit(0);
		}
		if (nfd > 0) {
			waitpid(nfd, NULL, 0);
			atomic_fetch_add(&st->forks, 1);
		}
		break;
	}
	atomic_fetch_add(&st->syscalls, 1);
}

static void *syscall_thread(void *arg)
{
	uint64_t seed = (uintptr_t)arg;
	char *buf = malloc(65536);

	while (buf && !stopping)
		fuzz_call(&seed, buf, 65536);
	free(buf);
	return NULL;
}

static void run_syscalls(uint64_t seed, int threads)
{
	pthread_t th[16];
	int i;

	pthread_mutex_init(&sys.lock, NULL);
	for (i = 0; i < MAX_FDS; i++)
		sys.fds[i] = -1;
	/* A listener among them, so accepts and connects find one. */
	sys.fds[0] = listen_on(VIC_PORT + 1);
	set_timeouts(sys.fds[0], 200);
	for (i = 0; i < threads && i < 16; i++)
		if (pthread_create(&th[i], NULL, syscall_thread,
				   (void *)(uintptr_t)(seed * (i + 3) | 1)))
			exit(1);
	/* A thread blocked in a call must not hold the run: no join. */
	while (!stopping)
		usleep(100000);
	_exit(0);
}

/* ---- namespace churn ---- */

static void lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	strcpy(ifr.ifr_name, "lo");
	if (fd < 0)
		return;
	if (!ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
}

/*
 * A namespace with connections in every state, deleted with them: the
 * last process in it exits without closing anything.
 */
static void one_namespace(uint64_t seed)
{
	char buf[65536];
	int lfd, i;

	if (unshare(CLONE_NEWNET))
		_exit(1);
	lo_up();
	lfd = listen_on(9000);
	if (lfd < 0)
		_exit(1);
	memset(buf, 'n', sizeof(buf));
	for (i = 0; i < 8; i++) {
		int cli = connect_to(9000, 500), srv;

		if (cli < 0)
			continue;
		srv = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		fcntl(cli, F_SETFL, O_NONBLOCK);
		/* Queued both ways, unread: the windows close. */
		while (send(cli, buf, sizeof(buf), MSG_NOSIGNAL) > 0)
			;
		if (srv >= 0)
			send(srv, buf, rnd(&seed, sizeof(buf)), MSG_NOSIGNAL);
		switch (rnd(&seed, 4)) {
		case 0:
			close(cli);	/* an orphan with data to send */
			break;
		case 1:
			shutdown(cli, SHUT_WR);
			break;
		case 2:
			if (srv >= 0)
				close(srv);	/* unread data: a RST */
			break;
		default:
			break;
		}
	}
	/* A half-open one too: a connect in progress. */
	i = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (i >= 0) {
		struct sockaddr_in sin = lo_addr(9000);

		sin.sin_addr.s_addr = htonl(0x0a000001);
		connect(i, (struct sockaddr *)&sin, sizeof(sin));
	}
	_exit(0);
}

static void run_namespaces(uint64_t seed)
{
	while (!stopping) {
		pid_t pid = fork();

		if (pid == 0)
			one_namespace(rng_next(&seed));
		if (pid > 0 && waitpid(pid, NULL, 0) == pid)
			atomic_fetch_add(&st->namespaces, 1);
		usleep(50000);
	}
	exit(0);
}

/* ---- the campaign ---- */

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

int main(int argc, char **argv)
{
	int secs = 60, threads = 4, opt, i, bad_parts = 0;
	uint64_t seed = time(NULL);
	pid_t kids[5];
	struct sigaction sa = { .sa_handler = on_term };

	bool native = false;

	while ((opt = getopt(argc, argv, "t:s:j:nF")) != -1) {
		switch (opt) {
		case 't':
			secs = atoi(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'j':
			threads = atoi(optarg);
			break;
		case 'n':
			native = true;
			break;
		case 'F':
			faults = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-n] [-F] [-t SECONDS] [-s SEED] [-j THREADS]\n",
				argv[0]);
			return 2;
		}
	}
	seed |= 1;
	/* -n: the same campaign against native TCP, the oracle. */
	family = native ? AF_INET : read_int(XTCP_SYSFS_FAMILY, AF_XTCP);
	ipproto = native ? IPPROTO_TCP :
		  read_int(XTCP_SYSFS_IPPROTO, XTCP_DEFAULT_IPPROTO);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		return 1;
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	printf("xtcp-fuzz: %s, %d s, seed %llu, %d syscall threads, family %d, protocol %d%s\n",
	       native ? "native TCP" : "xtcp", secs, (unsigned long long)seed,
	       threads, family, ipproto,
	       faults ? ", allocation failures injected" : "");
	fflush(stdout);
	for (i = 0; i < 5; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			perror("xtcp-fuzz: fork");
			return 1;
		}
		if (kids[i])
			continue;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		switch (i) {
		case 0:
			run_verified();
			break;
		case 1:
			run_victims(seed * 3);
			break;
		case 2:
			run_segments(seed * 5);
			break;
		case 3:
			run_syscalls(seed * 7, threads);
			break;
		default:
			run_namespaces(seed * 11);
			break;
		}
	}
	/* Unload attempts: while sockets exist they must be refused. */
	for (i = 0; i < secs; i++) {
		sleep(1);
		if (native)
			continue;
		if (syscall(SYS_delete_module, "xtcp", O_NONBLOCK) == 0) {
			atomic_fetch_add(&st->unloaded_while_busy, 1);
			break;
		}
		if (errno == EBUSY || errno == EWOULDBLOCK)
			atomic_fetch_add(&st->unload_refused, 1);
	}
	for (i = 0; i < 5; i++)
		kill(kids[i], SIGTERM);
	/* Each part stops within 30 s, with status 0, or the run fails. */
	for (int waited = 0, left = 5; left && waited < 300; waited++) {
		for (i = 0; i < 5; i++) {
			int status;

			if (kids[i] <= 0 || waitpid(kids[i], &status, WNOHANG) != kids[i])
				continue;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				fprintf(stderr, "xtcp-fuzz: part %d ended with status %#x\n",
					i, status);
				bad_parts++;
			}
			kids[i] = 0;
			left--;
		}
		usleep(100000);
	}
	for (i = 0; i < 5; i++)
		if (kids[i] > 0) {
			fprintf(stderr, "xtcp-fuzz: part %d did not stop\n", i);
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			bad_parts++;
		}
	printf("xtcp-fuzz: segments %llu, syscalls %llu (forks %llu), namespaces deleted %llu, victim connections %llu\n",
	       (unsigned long long)st->segments,
	       (unsigned long long)st->syscalls,
	       (unsigned long long)st->forks,
	       (unsigned long long)st->namespaces,
	       (unsigned long long)st->victim_conns);
	printf("xtcp-fuzz: verified bytes %llu, wrong %llu, flows cut short %llu (stalled %llu); unload refused %llu, unloaded while busy %llu\n",
	       (unsigned long long)st->verified_bytes,
	       (unsigned long long)st->verified_bad,
	       (unsigned long long)st->verified_resets,
	       (unsigned long long)st->verified_stalls,
	       (unsigned long long)st->unload_refused,
	       (unsigned long long)st->unloaded_while_busy);
	return bad_parts || st->verified_bad || st->verified_stalls ||
	       (st->verified_resets && !faults) ||
	       st->unloaded_while_busy || !st->verified_bytes ||
	       !st->segments || !st->syscalls ||
	       (!native && !st->unload_refused);
}
