// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp-sackcost: what one ACK costs a sender, as a function of the
 * segments it has in flight, when its peer advertises an MSS of 88 and
 * SACKs every other segment (the CVE-2018-5390 / CVE-2019-11478 class;
 * issue 18 item 6). Run as root, in a throwaway VM (it changes sysctls and
 * adds a tun device and a route):
 *
 *   xtcp-sackcost [-n] [-b] [-q LIST] [-k ACKS] [-m front|back|both]
 *                 [-c CC] [-p PORT]
 *
 * The peer is this program, at the far end of a tun device (IFF_TUN, no
 * packet information, no virtio header: the stack cuts every packet into
 * segments before the device, so each read() is one segment). The sender
 * is a real socket in this same process, native TCP with -n (the oracle),
 * else xtcp (the family and IP protocol number in force, from sysfs),
 * connected to 10.77.0.2, which routes into the tun device. The program
 * answers its SYN with MSS 88, SACK permitted, window scale 14, a 1 GiB
 * window, and timestamps if the SYN had them (every ACK echoes the TSval
 * of the last segment it acknowledges in sequence, RFC 7323), then ACKs
 * every other segment in order, so that the sender slow starts until Q
 * segments (of the comma-separated LIST, default 100,1000,10000,65000)
 * are in flight: snd_nxt - snd_una as the segments on the wire show it.
 * A segment that comes twice (a loss probe) is answered at once with a
 * D-SACK, as a receiver does, so that the sender keeps its cwnd.
 *
 * The application writes one MSS per send(), only as much as cwnd lets
 * leave at once (TCP_INFO), so that each segment is an skb of its own on
 * both stacks: a flight of Q segments is a queue of Q skbs, the worst
 * case for the sender's bookkeeping. With -b it writes ahead in 256 KiB
 * chunks instead, and the stacks pack many segments into each skb (GSO),
 * which hides a cost that grows with the number of skbs.
 *
 * Then the cumulative ACK stops. The program writes ACKS ACKs (default
 * 2000) for snd_una, each SACKing one more segment, every other one, with
 * holes between them; each carries the newest block first and then the
 * older ones as a receiver reports them (3 blocks with timestamps, 4
 * without). Two patterns, both by default (-m):
 *   front  SACKs segments 1, 3, 5, ... counted from snd_una: what a
 *          receiver that lost every other segment says;
 *   back   SACKs the newest segment in flight, then the one two below it,
 *          and so on down: every ACK tells of a segment about Q segments
 *          past snd_una, as a hostile receiver may.
 * A sender whose work per ACK grows with the distance of the SACKed data
 * from snd_una shows it in "back" only: "front" never SACKs past segment
 * 2 * ACKS, whatever Q is. A connection takes at most Q/4 of the ACKs, so
 * that the pattern stays inside its flight; smaller Q take the ACKS over
 * as many fresh connections as needed (each one closed by a reset).
 *
 * What is timed is each write() of an ACK to the tun device
 * (CLOCK_MONOTONIC around it): on Linux 6.1 tun hands the packet to
 * netif_receive_skb() in the writer's context (no NAPI, no RPS), so the
 * sender's whole processing of the ACK, SACK scoreboard, loss detection
 * and the retransmissions it sends into the tun queue included, runs in
 * that system call. The program checks that it did, ACK by ACK: the
 * sender's tcpi_segs_in (TCP_INFO) must have counted the ACK when write()
 * returns; the count of ACKs that were is the "sync" column. What the
 * sender sends meanwhile is read off the tun device and not answered.
 * "base" is the same path without the protocol: the median cost of the
 * same ACK with a wrong checksum, which the stack drops before any socket
 * sees it.
 *
 * Set for the run, and printed: net.core.wmem_max and the socket's
 * SO_SNDBUF so that a flight of Q segments fits; net.ipv4.tcp_mem or
 * net.xtcp.mem, so that neither stack runs into its memory limit;
 * net.ipv4.tcp_no_metrics_save, so that a connection does not start with
 * the ssthresh the previous one ended with; the route to the peer gets an
 * rto_min of 60 s (both stacks honour a locked rto_min metric): the
 * measurement is seconds without cumulative progress, and a
 * retransmission timeout half way would put the sender into another
 * state. Congestion control is Reno (-c), so that slow start runs up to
 * Q: CUBIC's HyStart leaves it as soon as the ACKs come late, which under
 * TCG they do (-c cubic: native's slow start ended at ssthresh 38, xtcp's
 * at 534, and neither reached 10,000 in flight). SACK, timestamps and
 * RACK stay as the stacks have them (on).
 *
 * Q is at most 65,000 by default: xtcp's cwnd stops at 65,535 segments
 * (XTCP_MAX_CWND), so no xtcp connection has 100,000 in flight; native
 * TCP takes -q ...,100000.
 *
 * One line per pattern and Q:
 *   sackcost: STACK mode=M Q=... acks=... conns=... flight=... seg=...
 *   med_us=... p90_us=... mean_us=... base_us=... ratio=... rtx=...
 *   sync=N/N wmem=... ramp_s=... time_s=...
 * where flight is the smallest flight (segments) a measurement started
 * with, seg the largest segment payload seen, ratio the median over the
 * median at the smallest Q, rtx the segments the sender resent per ACK,
 * wmem the sender's queued bytes (SO_MEMINFO) per segment queued when the
 * measurement began, ramp_s the slow starts' time. Per pattern, last:
 *   sackcost: STACK M per-ACK median us at Q=a,b,...: x y ... (ratio
 *   max/min R) in T s
 * It is a benchmark, not a test of flatness: exit 0 when every Q reached
 * its flight, every ACK was written and the sender took each one in the
 * write's context; 1 otherwise, with the reason on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/xtcp.h>

#include "tool_util.h"

#define TUN_NAME	"xsack0"
#define TUN_ADDR	0x0a4d0001	/* 10.77.0.1: the sender's side */
#define PEER_ADDR	0x0a4d0002	/* 10.77.0.2: us */
#define TUN_TXQLEN	20000
#define PEER_MSS	88
#define PEER_WSCALE	14
#define RTO_MIN_MS	60000
#define MAX_Q		16
#define PKT_MAX		65600
#define WAIT_MS		5000		/* for a packet that must come */
#define BASE_ACKS	300
#define SEND_CHUNK	(256 * 1024)

#define TH_SYN		0x02
#define TH_RST		0x04
#define TH_ACK		0x10

static int family, ipproto;
static const char *stack;
static int tun_fd;
static uint16_t port = 7411;
static bool mode_back, bulk;
static const char *cc = "reno";
static int64_t t0_ms;
static uint8_t rbuf[PKT_MAX];

/* One segment of the sender's, as read off the tun device. */
struct seg {
	uint32_t saddr, seq, ack, tsval;
	uint16_t sport, dport, len;
	uint8_t flags;
	bool ts, sack_ok;
	int wscale;
};

/* The sender's data segments of one connection, in sequence order. */
struct conn {
	int fd;
	uint32_t saddr, iss, irs;	/* iss ours, irs the sender's */
	uint16_t sport;
	uint16_t ip_id;
	bool ts;
	uint32_t *seq, *end, *tsval;	/* per segment */
	size_t seen, cap;		/* segments seen, room */
	size_t acked;			/* segments ACKed in sequence */
	uint32_t nxt;			/* the sender's snd_nxt */
	uint32_t tsecr;
	long rtx;			/* resent segments seen */
	uint32_t dup_seq, dup_end;	/* the last one, for a D-SACK */
	bool dup;
	long gaps;			/* new data past a gap: a loss */
	uint16_t max_len;
	uint64_t written, to_write;
	int mss;			/* the sender's */
};

/* What one Q measured. */
struct result {
	int q;
	long acks, conns, rtx, sync, base_n;
	long flight;		/* the smallest at a phase start */
	double *ns, *base_ns;
	double ramp_s, time_s, wmem_seg;
	uint16_t seg;
	bool ok;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint32_t ts_now(void)
{
	return (uint32_t)(now_ms() - t0_ms) + 1;
}

/* ---- setup --------------------------------------------------------------- */

/* Write @val into the sysctl at @path, saying what it was. */
static int set_sysctl(const char *path, const char *val)
{
	char old[128] = "?";
	FILE *f = fopen(path, "r");

	if (f) {
		if (!fgets(old, sizeof(old), f))
			strcpy(old, "?");
		old[strcspn(old, "\n")] = 0;
		fclose(f);
	}
	f = fopen(path, "w");
	if (!f || fprintf(f, "%s\n", val) < 0 || fclose(f)) {
		fprintf(stderr, "xtcp-sackcost: cannot set %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	printf("sackcost: set %s = %s (was %s)\n", path, val, old);
	return 0;
}

static int tune(void)
{
	const char *mem = "400000 450000 500000";	/* pages: no limit */
	int err = 0;

	err |= set_sysctl("/proc/sys/net/core/wmem_max", "536870912");
	if (family == AF_INET) {
		err |= set_sysctl("/proc/sys/net/ipv4/tcp_mem", mem);
		err |= set_sysctl("/proc/sys/net/ipv4/tcp_no_metrics_save", "1");
	} else {
		err |= set_sysctl("/proc/sys/net/xtcp/mem", mem);
	}
	return err ? -1 : 0;
}

static int ifreq_ioctl(int s, unsigned long req, struct ifreq *ifr,
		       const char *what)
{
	if (ioctl(s, req, ifr) < 0) {
		fprintf(stderr, "xtcp-sackcost: %s: %s\n", what,
			strerror(errno));
		return -1;
	}
	return 0;
}

static struct sockaddr ip_sockaddr(uint32_t addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr sa;

	sin.sin_addr.s_addr = htonl(addr);
	memcpy(&sa, &sin, sizeof(sa));
	return sa;
}

/* The tun device, 10.77.0.1/24, up, with a queue for a whole burst. */
static int tun_open(void)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int s, err = 0;

	tun_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tun_fd < 0) {
		perror("xtcp-sackcost: /dev/net/tun");
		return -1;
	}
	strcpy(ifr.ifr_name, TUN_NAME);
	if (ifreq_ioctl(tun_fd, TUNSETIFF, &ifr, "TUNSETIFF"))
		return -1;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	ifr.ifr_addr = ip_sockaddr(TUN_ADDR);
	err |= ifreq_ioctl(s, SIOCSIFADDR, &ifr, "SIOCSIFADDR");
	ifr.ifr_netmask = ip_sockaddr(0xffffff00);
	err |= ifreq_ioctl(s, SIOCSIFNETMASK, &ifr, "SIOCSIFNETMASK");
	ifr.ifr_mtu = 1500;
	err |= ifreq_ioctl(s, SIOCSIFMTU, &ifr, "SIOCSIFMTU");
	ifr.ifr_qlen = TUN_TXQLEN;
	err |= ifreq_ioctl(s, SIOCSIFTXQLEN, &ifr, "SIOCSIFTXQLEN");
	err |= ifreq_ioctl(s, SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS");
	ifr.ifr_flags |= IFF_UP;
	err |= ifreq_ioctl(s, SIOCSIFFLAGS, &ifr, "SIOCSIFFLAGS");
	close(s);
	return err ? -1 : 0;
}

static struct rtattr *nl_put(struct nlmsghdr *nh, int type, const void *data,
			     int len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh +
					       NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

/*
 * The route to the peer, 10.77.0.2/32 on the tun device, with a locked
 * rto_min metric (what "ip route ... rto_min 60s" adds).
 */
static int route_rto_min(void)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[256];
	} req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
		.nh.nlmsg_type = RTM_NEWROUTE,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE |
				  NLM_F_REPLACE | NLM_F_ACK,
		.rt.rtm_family = AF_INET,
		.rt.rtm_dst_len = 32,
		.rt.rtm_table = RT_TABLE_MAIN,
		.rt.rtm_protocol = RTPROT_BOOT,
		.rt.rtm_scope = RT_SCOPE_LINK,
		.rt.rtm_type = RTN_UNICAST,
	};
	uint32_t dst = htonl(PEER_ADDR), lock = 1 << RTAX_RTO_MIN;
	uint32_t ms = RTO_MIN_MS;
	int oif = if_nametoindex(TUN_NAME), s;
	uint32_t buf[256];	/* the answer, aligned for its header */
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct nlmsgerr *e = NLMSG_DATA(nh);
	struct rtattr *metrics;
	ssize_t n = -1;

	nl_put(&req.nh, RTA_DST, &dst, 4);
	nl_put(&req.nh, RTA_OIF, &oif, 4);
	metrics = nl_put(&req.nh, RTA_METRICS, NULL, 0);
	nl_put(&req.nh, RTAX_LOCK, &lock, 4);
	nl_put(&req.nh, RTAX_RTO_MIN, &ms, 4);
	metrics->rta_len = (char *)&req + req.nh.nlmsg_len - (char *)metrics;

	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s >= 0 && send(s, &req, req.nh.nlmsg_len, 0) >= 0)
		n = recv(s, buf, sizeof(buf), 0);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(*e))) {
		perror("xtcp-sackcost: netlink");
		return -1;
	}
	close(s);
	if (nh->nlmsg_type == NLMSG_ERROR && e->error) {
		fprintf(stderr, "xtcp-sackcost: route: %s\n",
			strerror(-e->error));
		return -1;
	}
	printf("sackcost: route 10.77.0.2/32 dev %s rto_min %d ms (locked)\n",
	       TUN_NAME, RTO_MIN_MS);
	return 0;
}

/* ---- segments ------------------------------------------------------------ */

/* Parse one packet: an IPv4 segment of our protocol from the sender. */
static bool parse(const uint8_t *p, ssize_t n, struct seg *s)
{
	const uint8_t *th, *o, *oend;
	size_t ihl, doff, tot;

	if (n < 40 || (p[0] >> 4) != 4 || p[9] != ipproto)
		return false;
	ihl = (p[0] & 15) * 4;
	tot = get_be16(p + 2);
	if (ihl < 20 || tot > (size_t)n || tot < ihl + 20)
		return false;
	th = p + ihl;
	doff = (th[12] >> 4) * 4;
	if (doff < 20 || ihl + doff > tot)
		return false;
	memset(s, 0, sizeof(*s));
	memcpy(&s->saddr, p + 12, 4);
	s->sport = get_be16(th);
	s->dport = get_be16(th + 2);
	s->seq = get_be32(th + 4);
	s->ack = get_be32(th + 8);
	s->flags = th[13];
	s->len = tot - ihl - doff;
	s->wscale = -1;
	for (o = th + 20, oend = th + doff; o < oend;) {
		if (*o == 0)
			break;
		if (*o == 1) {
			o++;
			continue;
		}
		if (o + 2 > oend || o[1] < 2 || o + o[1] > oend)
			break;
		if (o[0] == 3 && o[1] == 3) {
			s->wscale = o[2];
		} else if (o[0] == 4 && o[1] == 2) {
			s->sack_ok = true;
		} else if (o[0] == 8 && o[1] == 10) {
			s->ts = true;
			s->tsval = get_be32(o + 2);
		}
		o += o[1];
	}
	return s->dport == port;
}

/*
 * A segment from us (10.77.0.2:port) to the sender: @flags, @nsack SACK
 * blocks [@sack[2i], @sack[2i+1]), options as the connection agreed; the
 * SYN-ACK carries the handshake's. Returns its length.
 */
static size_t forge(uint8_t *pkt, struct conn *c, uint8_t flags, uint32_t ack,
		    const uint32_t *sack, int nsack)
{
	uint32_t src = htonl(PEER_ADDR);
	uint8_t *th = pkt + 20, *o = th + 20;
	uint16_t sum;
	size_t tcplen;
	int i;

	if (flags & TH_SYN) {
		o[0] = 2;			/* MSS */
		o[1] = 4;
		put_be16(o + 2, PEER_MSS);
		o += 4;
		if (!c->ts) {
			*o++ = 1;
			*o++ = 1;
		}
		o[0] = 4;			/* SACK permitted */
		o[1] = 2;
		o += 2;
	}
	if (c->ts) {
		if (!(flags & TH_SYN)) {
			*o++ = 1;
			*o++ = 1;
		}
		o[0] = 8;
		o[1] = 10;
		put_be32(o + 2, ts_now());
		put_be32(o + 6, c->tsecr);
		o += 10;
	}
	if (flags & TH_SYN) {
		o[0] = 1;
		o[1] = 3;			/* window scale */
		o[2] = 3;
		o[3] = PEER_WSCALE;
		o += 4;
	}
	if (nsack) {
		*o++ = 1;
		*o++ = 1;
		o[0] = 5;
		o[1] = 2 + 8 * nsack;
		o += 2;
		for (i = 0; i < nsack; i++, o += 8) {
			put_be32(o, sack[2 * i]);
			put_be32(o + 4, sack[2 * i + 1]);
		}
	}
	tcplen = o - th;
	memset(pkt, 0, 20);
	pkt[0] = 0x45;
	put_be16(pkt + 2, 20 + tcplen);
	put_be16(pkt + 4, c->ip_id++);
	put_be16(pkt + 6, 0x4000);
	pkt[8] = 64;
	pkt[9] = ipproto;
	memcpy(pkt + 12, &src, 4);
	memcpy(pkt + 16, &c->saddr, 4);
	put_be16(pkt + 10, csum_fold(csum_add(0, pkt, 20)));
	put_be16(th, port);
	put_be16(th + 2, c->sport);
	put_be32(th + 4, c->iss + !(flags & TH_SYN));
	put_be32(th + 8, ack);
	th[12] = (tcplen / 4) << 4;
	th[13] = flags;
	put_be16(th + 14, 0xffff);		/* << 14: 1 GiB */
	put_be16(th + 16, 0);
	put_be16(th + 18, 0);
	sum = seg_csum(c->saddr, src, ipproto, th, tcplen);
	memcpy(th + 16, &sum, 2);
	return 20 + tcplen;
}

static int tun_write(const uint8_t *pkt, size_t len)
{
	ssize_t n = write(tun_fd, pkt, len);

	if (n != (ssize_t)len) {
		fprintf(stderr, "xtcp-sackcost: write to tun: %s\n",
			n < 0 ? strerror(errno) : "short");
		return -1;
	}
	return 0;
}

static int grow(struct conn *c)
{
	size_t cap = c->cap ? c->cap * 2 : 4096;
	uint32_t *seq = realloc(c->seq, cap * sizeof(*seq));
	uint32_t *end, *tsval;

	if (!seq)
		return -1;
	c->seq = seq;
	end = realloc(c->end, cap * sizeof(*end));
	if (!end)
		return -1;
	c->end = end;
	tsval = realloc(c->tsval, cap * sizeof(*tsval));
	if (!tsval)
		return -1;
	c->tsval = tsval;
	c->cap = cap;
	return 0;
}

/* Take one segment of @c's: new data goes on the list, resends counted. */
static int take(struct conn *c, const struct seg *s)
{
	uint32_t end = s->seq + s->len;

	if (!s->len || (int32_t)(end - c->nxt) <= 0) {
		if (s->len) {
			c->rtx++;
			c->dup = true;
			c->dup_seq = s->seq;
			c->dup_end = end;
		}
		return 0;
	}
	if (s->seq != c->nxt)
		c->gaps++;		/* a segment we never saw */
	if (c->seen == c->cap && grow(c))
		return -1;
	c->seq[c->seen] = s->seq;
	c->end[c->seen] = end;
	c->tsval[c->seen] = s->tsval;
	c->seen++;
	c->nxt = end;
	if (s->len > c->max_len)
		c->max_len = s->len;
	return 0;
}

/* Read all the tun device holds; @c's segments are taken, others dropped. */
static int drain(struct conn *c)
{
	struct seg s;
	ssize_t n;

	while ((n = read(tun_fd, rbuf, sizeof(rbuf))) > 0) {
		if (c && parse(rbuf, n, &s) && s.sport == c->sport &&
		    s.saddr == c->saddr && !(s.flags & (TH_SYN | TH_RST)) &&
		    take(c, &s))
			return -1;
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		perror("xtcp-sackcost: read tun");
		return -1;
	}
	return 0;
}

static bool tun_wait(int ms)
{
	struct pollfd p = { .fd = tun_fd, .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

/* ---- one connection -------------------------------------------------------- */

static int sender_info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len);
}

/* The queued bytes of @fd (SO_MEMINFO), or -1. */
static long wmem_queued(int fd)
{
	uint32_t mi[SK_MEMINFO_VARS] = {};
	socklen_t len = sizeof(mi);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len))
		return -1;
	return mi[SK_MEMINFO_WMEM_QUEUED];
}

/*
 * The application's side. By default it writes one MSS per send() and
 * only what cwnd lets leave at once (TCP_INFO), so that every segment
 * goes out as an skb of its own: a queue of Q segments is then Q skbs on
 * both stacks, the worst case for the sender's bookkeeping. With -b
 * (bulk) it writes ahead in large chunks, and the stacks pack many
 * segments into each skb.
 */
static int feed(struct conn *c)
{
	static const uint8_t zero[SEND_CHUNK];
	long room = LONG_MAX;

	if (!bulk) {
		struct tcp_info ti;

		if (sender_info(c->fd, &ti))
			return -1;
		room = (long)ti.tcpi_snd_cwnd - ti.tcpi_unacked -
		       (ti.tcpi_notsent_bytes + c->mss - 1) / c->mss;
	}
	while (c->written < c->to_write && room-- > 0) {
		size_t k = bulk ? sizeof(zero) : (size_t)c->mss;
		ssize_t n;

		if (k > c->to_write - c->written)
			k = c->to_write - c->written;
		n = send(c->fd, zero, k, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			perror("xtcp-sackcost: send");
			return -1;
		}
		c->written += n;
	}
	return 0;
}

/* Why a ramp stopped: the sender's side of it. */
static void stalled(struct conn *c, int q)
{
	struct tcp_info ti;

	sender_info(c->fd, &ti);
	if (c->written == c->to_write && ti.tcpi_snd_cwnd < (uint32_t)q)
		fprintf(stderr, "xtcp-sackcost: Q=%d: the data ran out with cwnd at %u segments, below Q\n",
			q, ti.tcpi_snd_cwnd);
	fprintf(stderr, "xtcp-sackcost: Q=%d: the sender stopped: %zu segments seen, %zu ACKed; wrote %llu of %llu bytes\n",
		q, c->seen, c->acked, (unsigned long long)c->written,
		(unsigned long long)c->to_write);
	fprintf(stderr, "xtcp-sackcost: Q=%d: cwnd %u ssthresh %u unacked %u notsent %u ca_state %u wmem_queued %ld\n",
		q, ti.tcpi_snd_cwnd, ti.tcpi_snd_ssthresh, ti.tcpi_unacked,
		ti.tcpi_notsent_bytes, ti.tcpi_ca_state, wmem_queued(c->fd));
}

/* Connect and answer the SYN; 0 once established. */
static int handshake(struct conn *c, int q)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int one = 1, sndbuf = 536870912;
	uint8_t pkt[128];
	struct pollfd p;
	struct seg s;
	int64_t end;
	socklen_t len = sizeof(one);
	int err = 0;
	ssize_t n;

	sin.sin_addr.s_addr = htonl(PEER_ADDR);
	sin.sin_port = htons(port);
	c->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		perror("xtcp-sackcost: socket");
		return -1;
	}
	if (setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) ||
	    setsockopt(c->fd, IPPROTO_TCP, TCP_CONGESTION, cc, strlen(cc))) {
		perror("xtcp-sackcost: SO_SNDBUF / TCP_CONGESTION");
		return -1;
	}
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) &&
	    errno != EINPROGRESS) {
		perror("xtcp-sackcost: connect");
		return -1;
	}
	for (end = now_ms() + WAIT_MS; now_ms() < end;) {
		n = read(tun_fd, rbuf, sizeof(rbuf));
		if (n < 0) {
			tun_wait(100);
			continue;
		}
		if (parse(rbuf, n, &s) && (s.flags & (TH_SYN | TH_ACK)) == TH_SYN)
			break;
	}
	if (now_ms() >= end) {
		fprintf(stderr, "xtcp-sackcost: Q=%d: no SYN on %s\n", q,
			TUN_NAME);
		return -1;
	}
	if (!s.sack_ok || s.wscale < 0) {
		fprintf(stderr, "xtcp-sackcost: the SYN offers no SACK or no window scale\n");
		return -1;
	}
	c->saddr = s.saddr;
	c->sport = s.sport;
	c->irs = s.seq;
	c->nxt = s.seq + 1;
	c->ts = s.ts;
	c->tsecr = s.tsval;
	c->iss = (uint32_t)now_ns() * 2654435761u;
	if (tun_write(pkt, forge(pkt, c, TH_SYN | TH_ACK, s.seq + 1, NULL, 0)))
		return -1;
	p.fd = c->fd;
	p.events = POLLOUT;
	if (poll(&p, 1, WAIT_MS) != 1 ||
	    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		fprintf(stderr, "xtcp-sackcost: Q=%d: not established: %s\n",
			q, strerror(err ? err : ETIMEDOUT));
		return -1;
	}
	len = sizeof(c->mss);
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    getsockopt(c->fd, IPPROTO_TCP, TCP_MAXSEG, &c->mss, &len) ||
	    c->mss < 1 || c->mss > PEER_MSS) {
		fprintf(stderr, "xtcp-sackcost: TCP_NODELAY / TCP_MAXSEG: %s (MSS %d)\n",
			strerror(errno), c->mss);
		return -1;
	}
	return 0;
}

/* ACK segments up to @upto (exclusive) in sequence. */
static int ack_upto(struct conn *c, size_t upto)
{
	uint8_t pkt[128];

	c->acked = upto;
	c->tsecr = c->tsval[upto - 1];
	return tun_write(pkt, forge(pkt, c, TH_ACK, c->end[upto - 1], NULL, 0));
}

/*
 * A segment came twice (a loss probe with no new data to send): as a
 * receiver does (RFC 2883), ACK all that arrived in order, at once, with
 * a D-SACK of the copy, so that the sender knows its probe was needless
 * and keeps its cwnd.
 */
static int dsack(struct conn *c)
{
	uint32_t blk[2] = { c->dup_seq, c->dup_end };
	uint8_t pkt[128];

	c->dup = false;
	c->acked = c->seen;
	c->tsecr = c->tsval[c->seen - 1];
	return tun_write(pkt, forge(pkt, c, TH_ACK, c->end[c->seen - 1],
				    blk, 1));
}

/*
 * Slow start to @q segments in flight: ACK every other segment in order,
 * reading what each ACK lets the sender send, until snd_nxt - snd_una
 * (the segments seen but not ACKed) reaches @q.
 */
static int ramp(struct conn *c, int q)
{
	int64_t idle_since = now_ms();

	for (;;) {
		size_t unacked, i;

		if (feed(c) || drain(c))
			return -1;
		if (c->gaps) {
			fprintf(stderr, "xtcp-sackcost: Q=%d: a segment was lost before the tun device (%ld gaps)\n",
				q, c->gaps);
			return -1;
		}
		if (c->dup && c->seen && dsack(c))
			return -1;
		unacked = c->seen - c->acked;
		if (unacked >= (size_t)q)
			return 0;
		if (!unacked) {
			if (now_ms() - idle_since > WAIT_MS) {
				stalled(c, q);
				return -1;
			}
			tun_wait(10);
			continue;
		}
		idle_since = now_ms();
		/* A few ACKs, then read what they let out. */
		for (i = 0; i < 8 && c->seen - c->acked >= 1; i++) {
			size_t upto = c->acked + 2;

			if (c->seen - c->acked >= (size_t)q)
				break;
			if (upto > c->seen)
				upto = c->seen;
			if (ack_upto(c, upto))
				return -1;
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double mean(const double *v, long n)
{
	double sum = 0;
	long i;

	for (i = 0; i < n; i++)
		sum += v[i];
	return n ? sum / n : 0;
}

static double quantile(double *v, long n, double f)
{
	long i = (long)(f * n);

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return v[i < n ? i : n - 1];
}

/*
 * The measurement: @n duplicate ACKs for snd_una, the i-th SACKing one
 * more segment (every other one), each write() timed; then BASE_ACKS of
 * them with a wrong checksum for the path's own cost.
 */
static int measure(struct conn *c, int n, struct result *r)
{
	size_t base = c->acked, flight = c->seen - c->acked;
	uint32_t una = c->seq[base], sack[8];
	int i, j, nblk, maxblk = c->ts ? 3 : 4, nb = 0;
	struct tcp_info ti;
	long wq, rtx = c->rtx;
	uint32_t segs_in;
	uint8_t pkt[128];
	size_t len = 0;

	if (flight < (size_t)r->flight || !r->flight)
		r->flight = flight;
	/* Queued: from snd_una to what the application wrote. */
	wq = wmem_queued(c->fd);
	if (wq > 0 && !r->wmem_seg)
		r->wmem_seg = (double)wq * c->mss /
			      (c->written - (una - c->irs - 1));
	if (sender_info(c->fd, &ti))
		return -1;
	segs_in = ti.tcpi_segs_in;
	for (i = 0; i < n; i++) {
		int64_t t0, t1;

		nblk = i + 1 < maxblk ? i + 1 : maxblk;
		for (j = 0; j < nblk; j++) {
			size_t k = mode_back ? base + flight - 1 - 2 * (i - j) :
				   base + 2 * (i - j) + 1;

			sack[2 * j] = c->seq[k];
			sack[2 * j + 1] = c->end[k];
		}
		len = forge(pkt, c, TH_ACK, una, sack, nblk);
		t0 = now_ns();
		if (tun_write(pkt, len))
			return -1;
		t1 = now_ns();
		r->ns[r->acks++] = t1 - t0;
		if (sender_info(c->fd, &ti))
			return -1;
		if (ti.tcpi_segs_in == segs_in + 1)
			r->sync++;
		segs_in = ti.tcpi_segs_in;
		if (drain(c))
			return -1;
	}
	r->rtx += c->rtx - rtx;
	/* The same ACK again, with a checksum no stack accepts. */
	pkt[36] ^= 0x5a;
	for (i = 0; i < BASE_ACKS; i++) {
		int64_t t0 = now_ns();

		if (tun_write(pkt, len))
			return -1;
		r->base_ns[nb++] = now_ns() - t0;
	}
	r->base_n = nb;
	if (drain(c))
		return -1;
	return 0;
}

static void conn_close(struct conn *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (c->fd >= 0) {
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c->fd);
	}
	drain(NULL);
	free(c->seq);
	free(c->end);
	free(c->tsval);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Everything for one Q: connections until @k ACKs are measured. */
static int run_q(int q, int k, struct result *r)
{
	int per_conn = q / 4 > 0 ? q / 4 : 1;
	int64_t start = now_ns(), ramp_ns = 0;
	struct conn c = { .fd = -1 };

	memset(r, 0, sizeof(*r));
	r->q = q;
	r->ns = calloc(k, sizeof(*r->ns));
	r->base_ns = calloc(BASE_ACKS, sizeof(*r->base_ns));
	if (!r->ns || !r->base_ns)
		return -1;
	while (r->acks < k) {
		int n = k - r->acks < per_conn ? k - r->acks : per_conn;
		int64_t t;

		drain(NULL);
		if (handshake(&c, q))
			goto fail;
		/* Enough for the flight, what slow start ACKed and more. */
		c.to_write = ((uint64_t)q * 3 + 4096) * PEER_MSS;
		t = now_ns();
		if (ramp(&c, q))
			goto fail;
		ramp_ns += now_ns() - t;
		if (measure(&c, n, r))
			goto fail;
		if (c.max_len > r->seg)
			r->seg = c.max_len;
		r->conns++;
		conn_close(&c);
	}
	r->ramp_s = ramp_ns / 1e9;
	r->time_s = (now_ns() - start) / 1e9;
	r->ok = r->sync == r->acks;
	if (!r->ok)
		fprintf(stderr, "xtcp-sackcost: Q=%d: only %ld of %ld ACKs were taken within the write\n",
			q, r->sync, r->acks);
	return 0;
fail:
	conn_close(&c);
	r->time_s = (now_ns() - start) / 1e9;
	return -1;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The Q values of @s, smallest first. */
static int parse_list(char *s, int *q)
{
	int n = 0;
	char *tok;

	for (tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (n == MAX_Q || atoi(tok) < 4)
			return -1;
		q[n++] = atoi(tok);
	}
	qsort(q, n, sizeof(*q), cmp_int);
	return n;
}

/* Every Q in one mode; the lines, and the summary. Returns 0 when all ran. */
static int run_mode(bool back, const int *qs, int nq, int k)
{
	const char *mode = back ? "back" : "front";
	double med[MAX_Q] = {}, first = 0, lo = 0, hi = 0;
	int64_t start = now_ns();
	int i, failed = 0;

	mode_back = back;
	for (i = 0; i < nq; i++) {
		struct result x;
		double avg;

		if (run_q(qs[i], k, &x)) {
			fprintf(stderr, "xtcp-sackcost: %s Q=%d failed after %.1f s\n",
				mode, qs[i], x.time_s);
			failed = 1;
			goto next;
		}
		failed |= !x.ok;
		avg = mean(x.ns, x.acks) / 1000;
		med[i] = quantile(x.ns, x.acks, 0.5) / 1000;
		if (!first)
			first = med[i];		/* the smallest Q's */
		printf("sackcost: %s mode=%s Q=%d acks=%ld conns=%ld flight=%ld seg=%u ",
		       stack, mode, x.q, x.acks, x.conns, x.flight, x.seg);
		printf("med_us=%.1f p90_us=%.1f mean_us=%.1f base_us=%.1f ratio=%.2f ",
		       med[i], quantile(x.ns, x.acks, 0.9) / 1000, avg,
		       quantile(x.base_ns, x.base_n, 0.5) / 1000,
		       med[i] / first);
		printf("rtx=%.2f sync=%ld/%ld wmem=%.0f ramp_s=%.1f time_s=%.1f\n",
		       (double)x.rtx / x.acks, x.sync, x.acks, x.wmem_seg,
		       x.ramp_s, x.time_s);
next:
		free(x.ns);
		free(x.base_ns);
	}
	printf("sackcost: %s %s per-ACK median us at Q=", stack, mode);
	for (i = 0; i < nq; i++)
		printf("%s%d", i ? "," : "", qs[i]);
	printf(":");
	for (i = 0; i < nq; i++) {
		printf(" %.1f", med[i]);
		if (med[i] && (!lo || med[i] < lo))
			lo = med[i];
		if (med[i] > hi)
			hi = med[i];
	}
	printf(" (ratio max/min %.2f) in %.0f s\n", lo ? hi / lo : 0,
	       (now_ns() - start) / 1e9);
	return failed;
}

int main(int argc, char **argv)
{
	char qlist[] = "100,1000,10000,65000";
	int qs[MAX_Q], nq, k = 2000, opt, failed = 0;
	const char *modes = "both";
	bool native = false;

	nq = parse_list(qlist, qs);
	while ((opt = getopt(argc, argv, "nbq:k:m:c:p:")) != -1) {
		switch (opt) {
		case 'n':
			native = true;
			break;
		case 'b':
			bulk = true;
			break;
		case 'q':
			nq = parse_list(optarg, qs);
			break;
		case 'k':
			k = atoi(optarg);
			break;
		case 'm':
			modes = optarg;
			if (strcmp(modes, "front") && strcmp(modes, "back") &&
			    strcmp(modes, "both"))
				nq = -1;
			break;
		case 'c':
			cc = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		default:
			nq = -1;
		}
	}
	if (nq < 1 || k < 1 || !port) {
		fprintf(stderr, "usage: %s [-n] [-b] [-q Q,Q,...] [-k ACKS] [-m front|back|both] [-c CC] [-p PORT]\n",
			argv[0]);
		return 2;
	}
	family = native ? AF_INET : read_int(XTCP_SYSFS_FAMILY, AF_XTCP);
	ipproto = native ? IPPROTO_TCP :
		  read_int(XTCP_SYSFS_IPPROTO, XTCP_DEFAULT_IPPROTO);
	stack = native ? "native" : "xtcp";
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	t0_ms = now_ms();
	if (tune() || tun_open() || route_rto_min())
		return 1;
	printf("sackcost: %s (family %d, IP protocol %d), peer MSS %d, %s writes, %s, %d ACKs per Q\n",
	       stack, family, ipproto, PEER_MSS, bulk ? "bulk" : "one-MSS",
	       cc, k);
	if (strcmp(modes, "back"))
		failed |= run_mode(false, qs, nq, k);
	if (strcmp(modes, "front"))
		failed |= run_mode(true, qs, nq, k);
	return failed;
}
