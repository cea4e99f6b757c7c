// SPDX-License-Identifier: GPL-2.0
/*
 * Two hosts: network namespaces joined by veth (topology in netns.sh). The
 * client runs in the test process inside TAG-1, the server in a child inside
 * TAG-2, so packets cross a real device path instead of loopback. With netem
 * loss on both ends, transfers must still arrive intact.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <linux/gen_stats.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include "stack.h"

#define SERVER_IP	"10.77.0.2"

/* Server exit codes, reported back through wait_child(). */
enum {
	SRV_OK = 0,
	SRV_SETUP = 10,		/* netns, listen or accept failed */
	SRV_IO,			/* recv/send failed */
	SRV_COUNT,		/* wrong number of bytes */
	SRV_CORRUPT,		/* wrong byte */
	SRV_RCVBUF,		/* the receive buffer grew less than 4x */
	SRV_RTO,		/* the RTO ignored the route's rto_min */
};

static const char * const srv_errors[] = {
	[SRV_SETUP] = "setup", [SRV_IO] = "recv/send", [SRV_COUNT] = "count",
	[SRV_CORRUPT] = "corrupt data",
	[SRV_RCVBUF] = "receive buffer grew less than four times",
	[SRV_RTO] = "RTO off the route's floor",
};

typedef int (*serve_fn)(int fd, uint64_t len);

static void topology_up(struct __test_metadata *_metadata,
			FIXTURE_DATA(stack) *self, int loss)
{
	int r;

	snprintf(self->netns, sizeof(self->netns), "xtcp%d", getpid());
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' up %s", self_dir(), self->netns));
	if (!loss)
		return;
	r = run_cmd("'%s/netns.sh' loss %s %d", self_dir(), self->netns, loss);
	if (r == 2 && !getenv("XTCP_REQUIRE_NETEM"))
		SKIP(return, "netem not available (sch_netem)");
	ASSERT_EQ(0, r);
}

/*
 * Fork the server into TAG-2; it listens on @ip, sends the port through a
 * pipe, serves one connection with fn and exits with its code.
 */
static pid_t start_server_on(struct __test_metadata *_metadata,
			     FIXTURE_DATA(stack) *self, const char *ip,
			     serve_fn fn, uint64_t len, uint16_t *port)
{
	char ns[48];
	int p[2];
	pid_t pid;

	ASSERT_EQ(0, pipe(p));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int lfd, fd;

		close(p[0]);
		snprintf(ns, sizeof(ns), "%s-2", self->netns);
		if (enter_netns(ns))
			_exit(SRV_SETUP);
		lfd = stack_listen(self->family, ip, port);
		if (lfd < 0 || write(p[1], port, sizeof(*port)) != sizeof(*port))
			_exit(SRV_SETUP);
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			_exit(SRV_SETUP);
		_exit(fn(fd, len));
	}
	close(p[1]);
	ASSERT_EQ((ssize_t)sizeof(*port), read(p[0], port, sizeof(*port)));
	close(p[0]);
	return pid;
}

static pid_t start_server(struct __test_metadata *_metadata,
			  FIXTURE_DATA(stack) *self, serve_fn fn, uint64_t len,
			  uint16_t *port)
{
	return start_server_on(_metadata, self, SERVER_IP, fn, len, port);
}

static int client_connect_to(struct __test_metadata *_metadata,
			     FIXTURE_DATA(stack) *self, const char *ip,
			     uint16_t port)
{
	char ns[48];
	int fd;

	snprintf(ns, sizeof(ns), "%s-1", self->netns);
	ASSERT_EQ(0, enter_netns(ns));
	fd = stack_connect(self->family, ip, port);
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(errno));
	return fd;
}

static int client_connect(struct __test_metadata *_metadata,
			  FIXTURE_DATA(stack) *self, uint16_t port)
{
	return client_connect_to(_metadata, self, SERVER_IP, port);
}

#define ASSERT_SERVER_OK(pid) do {						\
	int st_ = wait_child(pid);						\
	ASSERT_EQ(SRV_OK, st_)							\
		TH_LOG("server failed: %s (%d)", st_ >= SRV_SETUP &&		\
		       st_ < (int)ARRAY_SIZE(srv_errors) ?			\
		       srv_errors[st_] : "?", st_);				\
} while (0)

static int serve_echo(int fd, uint64_t len)
{
	char buf[4096];
	ssize_t n;

	(void)len;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		if (send_all(fd, buf, n) != n)
			return SRV_IO;
	return n < 0 ? SRV_IO : SRV_OK;
}

/* Check len bytes of pattern 1 up to EOF, then send len of pattern 2. */
static int serve_verify_and_reply(int fd, uint64_t len)
{
	int64_t bad;
	ssize_t n = recv_pattern(fd, len, 1, &bad);

	if (n < 0)
		return SRV_IO;
	if ((uint64_t)n != len)
		return SRV_COUNT;
	if (bad >= 0)
		return SRV_CORRUPT;
	if (send_pattern(fd, len, 2) != (ssize_t)len)
		return SRV_IO;
	return close(fd) ? SRV_IO : SRV_OK;
}

/* Check len bytes of pattern 1 up to EOF; the client sends, only ACKs return. */
static int serve_verify(int fd, uint64_t len)
{
	int64_t bad;
	ssize_t n = recv_pattern(fd, len, 1, &bad);

	if (n < 0)
		return SRV_IO;
	if ((uint64_t)n != len)
		return SRV_COUNT;
	if (bad >= 0)
		return SRV_CORRUPT;
	return close(fd) ? SRV_IO : SRV_OK;
}

/* As serve_verify, and the receive buffer must have grown meanwhile. */
static int serve_verify_rcvbuf_grows(int fd, uint64_t len)
{
	int before, after, rc;

	if (getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, &before))
		return SRV_IO;
	rc = serve_verify(dup(fd), len);
	if (rc != SRV_OK)
		return rc;
	if (getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, &after))
		return SRV_IO;
	fprintf(stderr, "# SO_RCVBUF %d -> %d (x%.1f)\n", before, after,
		(double)after / before);
	/*
	 * Native, TCG: 131072 -> 6291456 (tcp_rmem's maximum), 48 times;
	 * at least four times, not a byte.
	 */
	return after >= 4 * before ? SRV_OK : SRV_RCVBUF;
}

/* veth1's transmit counters, from /proc/net/dev of our namespace (TAG-1). */
static int veth1_tx(uint64_t *packets, uint64_t *bytes)
{
	char line[512];
	FILE *f = fopen("/proc/net/dev", "r");
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[10];
		char *p = strstr(line, "veth1:");

		if (!p)
			continue;
		if (sscanf(p + 6, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7], &v[8], &v[9]) == 10) {
			*bytes = v[8];
			*packets = v[9];
			found = 0;
		}
	}
	fclose(f);
	return found;
}

/*
 * Send len bytes one way and return the mean size of the frames veth1 sent
 * meanwhile (data, SYN and FIN: the ACKs come the other way).
 */
static uint64_t send_one_way_mean_frame(struct __test_metadata *_metadata,
					FIXTURE_DATA(stack) *self,
					uint64_t len)
{
	uint64_t pk0, by0, pk1, by1;
	uint16_t port;
	pid_t pid;
	int fd;

	pid = start_server(_metadata, self, serve_verify, len, &port);
	fd = client_connect(_metadata, self, port);
	ASSERT_EQ(0, veth1_tx(&pk0, &by0));
	ASSERT_EQ((ssize_t)len, send_pattern(fd, len, 1));
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_SERVER_OK(pid);
	close(fd);
	ASSERT_EQ(0, veth1_tx(&pk1, &by1));
	ASSERT_LT(pk0, pk1);
	return (by1 - by0) / (pk1 - pk0);
}

/* len bytes each way, verified; the client's TCP_INFO at the end in *ti. */
static void transfer_both_ways_info(struct __test_metadata *_metadata,
				    FIXTURE_DATA(stack) *self, uint64_t len,
				    struct tcp_info *ti)
{
	uint16_t port;
	int64_t bad;
	pid_t pid;
	int fd;

	pid = start_server(_metadata, self, serve_verify_and_reply, len, &port);
	fd = client_connect(_metadata, self, port);
	ASSERT_EQ((ssize_t)len, send_pattern(fd, len, 1));
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_EQ((ssize_t)len, recv_pattern(fd, len, 2, &bad));
	ASSERT_EQ(-1, bad);
	ASSERT_SERVER_OK(pid);
	if (ti)
		ASSERT_EQ(0, get_tcp_info(fd, ti));
	close(fd);
}

static void transfer_both_ways(struct __test_metadata *_metadata,
			       FIXTURE_DATA(stack) *self, uint64_t len)
{
	transfer_both_ways_info(_metadata, self, len, NULL);
}

/* One message to serve_echo on @fd and back, unchanged. */
static void echo_message(struct __test_metadata *_metadata, int fd,
			 const char *msg)
{
	size_t len = strlen(msg) + 1;
	char buf[64];

	ASSERT_GE(sizeof(buf), len);
	ASSERT_EQ((ssize_t)len, send_all(fd, msg, len));
	ASSERT_EQ((ssize_t)len, recv_all(fd, buf, len));
	ASSERT_EQ(0, memcmp(msg, buf, len));
}

/* Our FIN, the server's EOF and FIN back, the server's exit status. */
static void echo_close(struct __test_metadata *_metadata, int fd, pid_t pid)
{
	char c;

	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_EQ(0, recv(fd, &c, 1, 0));
	ASSERT_SERVER_OK(pid);
	close(fd);
}

TEST_F_TIMEOUT(stack, veth_echo, 120)
{
	uint16_t port;
	pid_t pid;
	int fd;

	topology_up(_metadata, self, 0);
	pid = start_server(_metadata, self, serve_echo, 0, &port);
	fd = client_connect(_metadata, self, port);
	echo_message(_metadata, fd, "across the veth");
	echo_close(_metadata, fd, pid);
}

/*
 * IP options (IP_OPTIONS, 40 bytes of NOPs: the most an IPv4 header takes)
 * ride in every segment the client sends, so its MSS leaves room for them
 * (native: 1500 - 20 - 40 - 20 - 12 of timestamps = 1408), whether they
 * were set before connect() or (@after_connect) on the connection. A
 * segment sized for a bare header would exceed the MTU with DF set and
 * never arrive.
 */
static void ip_options_transfer(struct __test_metadata *_metadata,
				FIXTURE_DATA(stack) *self, bool after_connect)
{
	uint64_t len = xtcp_scaled(4 * MiB, 256 * KiB);
	struct sockaddr_in sin;
	uint8_t opts[40];
	struct tcp_info ti;
	int64_t bad;
	uint16_t port;
	pid_t pid;
	int fd;

	topology_up(_metadata, self, 0);
	pid = start_server(_metadata, self, serve_verify_and_reply, len, &port);
	ASSERT_EQ(0, enter_host(self, 1));
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	memset(opts, 1, sizeof(opts));		/* IPOPT_NOOP */
	if (!after_connect)
		ASSERT_EQ(0, setsockopt(fd, IPPROTO_IP, IP_OPTIONS, opts,
					sizeof(opts)));
	sin = sin_make(SERVER_IP, port);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		TH_LOG("connect: %s", strerror(errno));
	if (after_connect)
		ASSERT_EQ(0, setsockopt(fd, IPPROTO_IP, IP_OPTIONS, opts,
					sizeof(opts)));
	ASSERT_EQ(0, get_tcp_info(fd, &ti));
	TH_LOG("send MSS with 40 bytes of IP options: %u", ti.tcpi_snd_mss);
	EXPECT_GE(1500U - 20 - 40 - 20, ti.tcpi_snd_mss);
	EXPECT_LE(1500U - 20 - 40 - 20 - 12, ti.tcpi_snd_mss);
	ASSERT_EQ((ssize_t)len, send_pattern(fd, len, 1));
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_EQ((ssize_t)len, recv_pattern(fd, len, 2, &bad))
		TH_LOG("reply: %s", strerror(errno));
	EXPECT_EQ(-1, bad);
	close(fd);
	ASSERT_SERVER_OK(pid);
}

TEST_F_TIMEOUT(stack, veth_ip_options_shrink_the_mss, 300)
{
	ip_options_transfer(_metadata, self, false);
}

TEST_F_TIMEOUT(stack, veth_ip_options_set_on_a_connection_shrink_its_mss, 300)
{
	ip_options_transfer(_metadata, self, true);
}

TEST_F_TIMEOUT(stack, veth_transfer_16MiB_each_way, 900)
{
	topology_up(_metadata, self, 0);
	transfer_both_ways(_metadata, self, xtcp_scaled(16 * MiB, 1 * MiB));
}

/*
 * veth takes packets larger than its MTU whole (GSO) and hands them to the
 * peer as they are: a bulk sender uses that rather than one pass through
 * the stack per MSS.
 */
TEST_F_TIMEOUT(stack, veth_bulk_leaves_in_packets_above_mtu, 600)
{
	uint64_t mean;

	topology_up(_metadata, self, 0);
	mean = send_one_way_mean_frame(_metadata, self,
				       xtcp_scaled(8 * MiB, 1 * MiB));
	TH_LOG("mean frame on veth1: %llu bytes", (unsigned long long)mean);
	ASSERT_LT((uint64_t)1514, mean);
}

/*
 * The backlog in bytes of @ifindex's root qdisc, asked over rtnetlink
 * socket @nl (TCA_STATS2's queue stats, what tc -s shows): -1 if none.
 */
static long long root_qdisc_backlog(int nl, int ifindex)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {
		.nh.nlmsg_len = sizeof(req),
		.nh.nlmsg_type = RTM_GETQDISC,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.tc.tcm_family = AF_UNSPEC,
	};
	static char buf[16384] __attribute__((aligned(4)));
	long long backlog = -1;
	struct nlmsghdr *nh;
	ssize_t n;

	if (send(nl, &req, sizeof(req), 0) != sizeof(req))
		return -1;
	while ((n = recv(nl, buf, sizeof(buf), 0)) > 0) {
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
		     nh = NLMSG_NEXT(nh, n)) {
			struct tcmsg *tc = NLMSG_DATA(nh);
			struct rtattr *rta = TCA_RTA(tc), *q;
			int len = TCA_PAYLOAD(nh), qlen;

			if (nh->nlmsg_type == NLMSG_DONE ||
			    nh->nlmsg_type == NLMSG_ERROR)
				return backlog;
			if (nh->nlmsg_type != RTM_NEWQDISC ||
			    tc->tcm_ifindex != ifindex ||
			    tc->tcm_parent != TC_H_ROOT)
				continue;
			for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
				if (rta->rta_type != TCA_STATS2)
					continue;
				q = RTA_DATA(rta);
				qlen = RTA_PAYLOAD(rta);
				for (; RTA_OK(q, qlen); q = RTA_NEXT(q, qlen))
					if (q->rta_type == TCA_STATS_QUEUE &&
					    RTA_PAYLOAD(q) >=
					    sizeof(struct gnet_stats_queue))
						backlog = ((struct gnet_stats_queue *)
							   RTA_DATA(q))->backlog;
			}
		}
	}
	return backlog;
}

/*
 * The backlog of veth1's root qdisc in TAG-1, sampled every 20 ms by a
 * child until the parent kills it; lines on @out. Over rtnetlink, not
 * tc(8): a process costs about a second on the debug kernel under TCG,
 * and samples a second apart missed a short transfer's queue.
 */
static void sample_qdisc_backlog(FIXTURE_DATA(stack) *self, int out)
{
	int nl, ifindex;
	long long v;

	if (enter_host(self, 1))
		_exit(1);
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ifindex = if_nametoindex("veth1");
	if (nl < 0 || !ifindex)
		_exit(1);
	for (;;) {
		v = root_qdisc_backlog(nl, ifindex);
		if (v >= 0)
			dprintf(out, "%lld\n", v);
		usleep(20000);
	}
}

/*
 * TCP small queues: behind a slow qdisc (tbf at 20 Mbit/s with room for
 * 4 MB) a bulk sender keeps at most tcp_limit_output_bytes (xtcp:
 * net.xtcp.limit_output_bytes), here 64 KiB, of its data there, plus the
 * one skb the check let through: the queue stays near 128 KiB instead of
 * growing with cwnd, and the link stays busy (native: 96% of the rate).
 * A slow kernel (XTCP_SCALE) gets a slower link, so that the sender and
 * not the kernel is what fills the queue.
 */
TEST_F_TIMEOUT(stack, veth_small_queues_bound_the_qdisc_backlog, 300)
{
	uint64_t len = xtcp_scaled(4 * MiB, 512 * 1024);
	uint64_t kbit = xtcp_scaled(20000, 1250);
	long long v, ms, most = 0;
	struct timespec t0, t1;
	int pipefd[2], fd;
	uint16_t port;
	pid_t pid, sampler;
	FILE *f;

	topology_up(_metadata, self, 0);
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' sysctl %s %s=65536", self_dir(),
			     self->netns, self->family == AF_INET ?
			     "net.ipv4.tcp_limit_output_bytes" :
			     "net.xtcp.limit_output_bytes"));
	ASSERT_EQ(0, run_cmd("ip netns exec %s-1 tc qdisc replace dev veth1 "
			     "root tbf rate %llukbit burst 32kb limit 4mb",
			     self->netns, (unsigned long long)kbit));
	pid = start_server(_metadata, self, serve_verify, len, &port);
	fd = client_connect(_metadata, self, port);
	ASSERT_EQ(0, pipe(pipefd));
	sampler = fork();
	ASSERT_LE(0, sampler);
	if (!sampler) {
		close(pipefd[0]);
		sample_qdisc_backlog(self, pipefd[1]);
	}
	close(pipefd[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ((ssize_t)len, send_pattern(fd, len, 1));
	EXPECT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_SERVER_OK(pid);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	kill(sampler, SIGKILL);
	waitpid(sampler, NULL, 0);
	f = fdopen(pipefd[0], "r");
	ASSERT_NE(NULL, f);
	while (fscanf(f, "%lld", &v) == 1)
		most = v > most ? v : most;
	fclose(f);
	close(fd);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	TH_LOG("%llu KiB through %llu kbit/s: %lld ms (%lld kbit/s), largest qdisc backlog %lld bytes",
	       (unsigned long long)len / 1024, (unsigned long long)kbit, ms,
	       ms ? (long long)len * 8 / ms : 0, most);
	EXPECT_LT(0, most);	/* the sampler saw the queue */
	EXPECT_GE(160 * 1024, most);
	/* At 80% of the rate or more: waiting never starves the link. */
	EXPECT_LE((long long)kbit * 8 / 10, ms ? (long long)len * 8 / ms : 0);
}

/*
 * With segmentation offload off on the device the stack cuts the large
 * packets itself, before the driver: frames fit the MTU and the data and
 * checksums still arrive intact. "tx off" makes the stack sum them too.
 */
static void segmented_by_stack(struct __test_metadata *_metadata,
			       FIXTURE_DATA(stack) *self, const char *features)
{
	uint64_t mean;

	topology_up(_metadata, self, 0);
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' offload %s %s", self_dir(),
			     self->netns, features));
	mean = send_one_way_mean_frame(_metadata, self,
				       xtcp_scaled(4 * MiB, 512 * KiB));
	TH_LOG("mean frame on veth1: %llu bytes", (unsigned long long)mean);
	ASSERT_GE((uint64_t)1514, mean);
}

TEST_F_TIMEOUT(stack, veth_segmentation_offload_off_stack_cuts, 600)
{
	segmented_by_stack(_metadata, self,
			   "tso off tx-sctp-segmentation off");
}

TEST_F_TIMEOUT(stack, veth_checksum_offload_off_stack_cuts_and_sums, 600)
{
	segmented_by_stack(_metadata, self,
			   "tx off tso off tx-sctp-segmentation off");
}

/*
 * Receive buffer autotuning: on a path with a 20 ms round trip the default
 * window would cap a bulk transfer at a few MB/s; the receiver grows its
 * buffer (and so its window) as the reader keeps up.
 */
TEST_F_TIMEOUT(stack, veth_delay_20ms_rcvbuf_grows, 600)
{
	uint64_t len = xtcp_scaled(8 * MiB, 1 * MiB);
	uint16_t port;
	pid_t pid;
	int fd, r;

	topology_up(_metadata, self, 0);
	r = run_cmd("'%s/netns.sh' netem %s delay 10ms", self_dir(),
		    self->netns);
	if (r == 2 && !getenv("XTCP_REQUIRE_NETEM"))
		SKIP(return, "netem not available (sch_netem)");
	ASSERT_EQ(0, r);
	pid = start_server(_metadata, self, serve_verify_rcvbuf_grows, len,
			   &port);
	fd = client_connect(_metadata, self, port);
	ASSERT_EQ((ssize_t)len, send_pattern(fd, len, 1));
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_SERVER_OK(pid);
	close(fd);
}

/* Offload off: the stack or veth1 cuts segments, so a drop takes one. */
#define SEGMENTED "tso off tx-sctp-segmentation off"

/* The topology with offload off: one segment per packet both ways. */
static void segmented_up(struct __test_metadata *_metadata,
			 FIXTURE_DATA(stack) *self)
{
	topology_up(_metadata, self, 0);
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' offload %s " SEGMENTED,
			     self_dir(), self->netns));
}

/* Drop the @burst packets up to every @nth from TAG-1 (netns.sh dropnth). */
static void drop_every(struct __test_metadata *_metadata,
		       FIXTURE_DATA(stack) *self, int nth, int burst)
{
	int r = run_cmd("'%s/netns.sh' dropnth %s %d %d", self_dir(),
			self->netns, nth, burst);

	if (r == 2 && !getenv("XTCP_REQUIRE_NETEM"))
		SKIP(return, "tc ingress with gact not available");
	ASSERT_EQ(0, r);
}

/*
 * The topology with segmentation offload off, so that one drop takes one
 * segment, and the drops of netns.sh dropnth.
 */
static void segmented_with_drops(struct __test_metadata *_metadata,
				 FIXTURE_DATA(stack) *self, int nth, int burst)
{
	segmented_up(_metadata, self);
	drop_every(_metadata, self, nth, burst);
}

/*
 * One segment lost in the middle of a bulk transfer: the duplicate ACKs
 * that follow trigger a fast retransmit; no retransmission timeout fires.
 * Returns the transfer's tcpi_total_retrans.
 */
static unsigned int one_loss_transfer(struct __test_metadata *_metadata,
				      FIXTURE_DATA(stack) *self)
{
	uint64_t len = 2 * MiB;	/* 1449 segments: the 1000th packet is lost */
	int64_t fast0, fast1, rto0, rto1;
	struct tcp_info ti = {};
	uint16_t port;
	pid_t pid;
	int fd;

	/* A fresh filter counts from this transfer's SYN. */
	drop_every(_metadata, self, 1000, 1);
	pid = start_server(_metadata, self, serve_verify, len, &port);
	fd = client_connect(_metadata, self, port);
	fast0 = stack_counter(self->family, "TCPFastRetrans", "XtcpFastRetrans");
	rto0 = stack_counter(self->family, "TCPTimeouts", "XtcpRtoTimeouts");
	EXPECT_LE(0, fast0);
	EXPECT_LE(0, rto0);
	EXPECT_EQ((ssize_t)len, send_pattern(fd, len, 1));
	EXPECT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_SERVER_OK(pid);
	EXPECT_EQ(0, get_tcp_info(fd, &ti));
	fast1 = stack_counter(self->family, "TCPFastRetrans", "XtcpFastRetrans");
	rto1 = stack_counter(self->family, "TCPTimeouts", "XtcpRtoTimeouts");
	TH_LOG("fast retransmits %lld, timeouts %lld, total_retrans %u",
	       (long long)(fast1 - fast0), (long long)(rto1 - rto0),
	       ti.tcpi_total_retrans);
	EXPECT_LE(1U, ti.tcpi_total_retrans);
	EXPECT_LT(fast0, fast1);
	EXPECT_EQ(rto0, rto1);
	EXPECT_EQ(0, ti.tcpi_backoff);
	close(fd);
	return ti.tcpi_total_retrans;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

/*
 * Three times: the 1000th packet of each transfer is lost, one segment.
 * What the loss costs is a few retransmissions, not a flight: the median
 * transfer resends at most 64 segments. It resent 150 to 3896 in most
 * transfers before xtcp bounded what sits below the socket (small queues)
 * and paced its repairs (PRR).
 * Client and server run on one CPU: with two, under TCG a stalled vCPU
 * holds its backlog while segments queued on the other overtake it, and
 * RACK takes the late flight for lost. That reordering is not this case's
 * (veth_netem_reorder_25pct has its own): unpinned, in the full suite,
 * native resent 1-2 and xtcp's median reached 22-101, which this bound
 * would fail a third of the time.
 */
TEST_F_TIMEOUT(stack, veth_single_loss_fast_retransmit_without_rto, 600)
{
	unsigned int retrans[3];
	cpu_set_t one;
	int i;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	/* The server, forked later, inherits it. */
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	segmented_up(_metadata, self);
	for (i = 0; i < 3; i++)
		retrans[i] = one_loss_transfer(_metadata, self);
	qsort(retrans, 3, sizeof(retrans[0]), cmp_uint);
	TH_LOG("segments resent per transfer: %u, %u, %u", retrans[0],
	       retrans[1], retrans[2]);
	ASSERT_GE(64U, retrans[1]);
}

/* Until everything sent on @fd is acknowledged (tcpi_unacked 0). */
static int wait_all_acked(int fd, int timeout_ms)
{
	struct tcp_info ti;
	int waited;

	for (waited = 0; waited < timeout_ms; waited += 10) {
		if (get_tcp_info(fd, &ti))
			return -1;
		if (!ti.tcpi_unacked)
			return 0;
		usleep(10000);
	}
	return -1;
}

/* The MSS on the veth with timestamps: 1500 - 20 - 20 - 12. */
#define VETH_MSS 1448U

/*
 * Delayed ACKs (RFC 1122 4.2.3.2, RFC 5681 4.2): the receiver of a bulk
 * transfer ACKs at most every second full-sized segment, not each one. With
 * offload off (one segment per packet, none merged on the way in), the
 * client sends 2 MiB, then takes the server's 2 MiB reply: the segments
 * it sends without data while the reply comes in (its ACKs, and window
 * updates as it reads) must stay under 0.75 per segment. Native under
 * TCG sent 0.14 per segment: it holds an ACK while the reader lags and the
 * window would not move (__tcp_ack_snd_check), which xtcp does not, at
 * 0.51. An ACK for each segment would make it 1.
 */
TEST_F_TIMEOUT(stack, veth_receiver_acks_every_second_segment, 300)
{
	uint64_t len = xtcp_scaled(2 * MiB, 512 * KiB);
	unsigned int acks, in;
	struct tcp_info ti;

	segmented_up(_metadata, self);
	transfer_both_ways_info(_metadata, self, len, &ti);
	/* Less the SYN and the FIN, which carry no data either. */
	acks = ti.tcpi_segs_out - ti.tcpi_data_segs_out - 2;
	in = ti.tcpi_data_segs_in;
	TH_LOG("%u data segments in, %u segments out without data: %.2f per segment",
	       in, acks, (double)acks / in);
	ASSERT_LE(len / VETH_MSS, in);
	EXPECT_LE(acks * 4, in * 3U);
}

/*
 * @segs full segments in one write, the client's @nth packet lost (SYN and
 * the handshake's ACK are the first two); returns once all is ACKed, with
 * the loss-probe, SACK-recovery and timeout counters' growth in @grew.
 * With @knob (a "native=xtcp" sysctl pair) at 0 in both namespaces first.
 */
struct loss_growth {
	int64_t probes, sack_recoveries, timeouts;
};

static void lose_one_of_burst(struct __test_metadata *_metadata,
			      FIXTURE_DATA(stack) *self, int segs, int nth,
			      const char *native_knob, const char *xtcp_knob,
			      struct loss_growth *grew)
{
	uint64_t len = (uint64_t)segs * VETH_MSS;
	int64_t p0, s0, t0;
	struct tcp_info ti;
	uint16_t port;
	pid_t pid;
	int fd;

	segmented_with_drops(_metadata, self, nth, 1);
	if (_metadata->skip)
		return;
	if (native_knob)
		ASSERT_EQ(0, run_cmd("'%s/netns.sh' sysctl %s %s=0", self_dir(),
				     self->netns, self->family == AF_INET ?
				     native_knob : xtcp_knob));
	pid = start_server(_metadata, self, serve_verify, len, &port);
	fd = client_connect(_metadata, self, port);
	ASSERT_EQ(0, get_tcp_info(fd, &ti));
	ASSERT_EQ(VETH_MSS, ti.tcpi_snd_mss);
	p0 = stack_counter(self->family, "TCPLossProbes", "XtcpLossProbes");
	s0 = stack_counter(self->family, "TCPSackRecovery",
			   "XtcpSackRecovery");
	t0 = stack_counter(self->family, "TCPTimeouts", "XtcpRtoTimeouts");
	ASSERT_LE(0, p0);
	ASSERT_LE(0, s0);
	ASSERT_LE(0, t0);
	ASSERT_EQ((ssize_t)len, send_pattern(fd, len, 1));
	ASSERT_EQ(0, wait_all_acked(fd, 20000));
	grew->probes = stack_counter(self->family, "TCPLossProbes",
				     "XtcpLossProbes") - p0;
	grew->sack_recoveries = stack_counter(self->family, "TCPSackRecovery",
					      "XtcpSackRecovery") - s0;
	grew->timeouts = stack_counter(self->family, "TCPTimeouts",
				       "XtcpRtoTimeouts") - t0;
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_SERVER_OK(pid);
	ASSERT_EQ(0, get_tcp_info(fd, &ti));
	close(fd);
	TH_LOG("loss probes %lld, SACK recoveries %lld, timeouts %lld, total_retrans %u",
	       (long long)grew->probes, (long long)grew->sack_recoveries,
	       (long long)grew->timeouts, ti.tcpi_total_retrans);
	ASSERT_LE(1U, ti.tcpi_total_retrans);
}

/*
 * The last of 8 segments is lost and nothing follows it: no SACK can tell.
 * A tail loss probe (RFC 8985 7) sends it again after about two RTTs,
 * before the RTO would.
 */
TEST_F_TIMEOUT(stack, veth_tail_loss_repaired_by_loss_probe, 300)
{
	struct loss_growth grew;

	lose_one_of_burst(_metadata, self, 8, 10, NULL, NULL, &grew);
	if (_metadata->skip)
		return;
	ASSERT_LE(1, grew.probes);
	ASSERT_EQ(0, grew.timeouts);
}

/* ... and with loss probes off (early_retrans 0), only the RTO repairs it. */
TEST_F_TIMEOUT(stack, veth_tail_loss_without_probes_waits_for_rto, 300)
{
	struct loss_growth grew;

	lose_one_of_burst(_metadata, self, 8, 10, "net.ipv4.tcp_early_retrans",
			  "net.xtcp.early_retrans", &grew);
	if (_metadata->skip)
		return;
	ASSERT_EQ(0, grew.probes);
	ASSERT_LE(1, grew.timeouts);
}

/*
 * The 10th of 12 segments is lost: two SACKed segments after it are too
 * few for three duplicate ACKs (RFC 6675), enough for RACK (RFC 8985): a
 * segment sent after it was delivered, so once an RTT and the reordering
 * window have passed it is lost, and SACK recovery resends it; no RTO.
 */
TEST_F_TIMEOUT(stack, veth_rack_repairs_loss_two_segments_from_tail, 300)
{
	struct loss_growth grew;

	lose_one_of_burst(_metadata, self, 12, 12, NULL, NULL, &grew);
	if (_metadata->skip)
		return;
	ASSERT_LE(1, grew.sack_recoveries);
	ASSERT_EQ(0, grew.timeouts);
}

/* ... and with RACK off (recovery 0), only the RTO repairs it. */
TEST_F_TIMEOUT(stack, veth_loss_two_segments_from_tail_without_rack_waits_for_rto,
	       300)
{
	struct loss_growth grew;

	lose_one_of_burst(_metadata, self, 12, 12, "net.ipv4.tcp_recovery",
			  "net.xtcp.recovery", &grew);
	if (_metadata->skip)
		return;
	ASSERT_EQ(0, grew.sack_recoveries);
	ASSERT_LE(1, grew.timeouts);
}

#define ISN_WRAP_PARAM "/sys/module/xtcp/parameters/isn_wrap_after"
/* 2^32 falls half way through data segment WRAP_SEG (the SYN takes one). */
#define WRAP_SEG 19
#define WRAP_AFTER (1 + WRAP_SEG * VETH_MSS + VETH_MSS / 2)

/*
 * Loss around the wrap of sequence numbers at 2^32. On xtcp the
 * isn_wrap_after parameter puts the client's ISN so that 2^32 falls in
 * data segment 19 (from 0); the SYN seen on veth2 must show it. The first
 * copies of segments 16, 18, 20 and 22 are lost (netns.sh dropseq, at the
 * sequence numbers the SYN gives): one flight holds holes both sides of
 * the wrap and a SACKed segment across it, and more scoreboard ranges
 * than a SACK option carries; the cumulative ACK crosses the wrap in
 * recovery. All arrive byte for byte, repaired by SACK recovery without
 * an RTO. Native TCP's ISN is random, so the check of the SYN is xtcp's
 * only: native loses the same segments and is the oracle of the repair.
 */
TEST_F_TIMEOUT(stack, veth_sack_recovery_across_sequence_wrap, 300)
{
	static const int lost[] = { 16, 18, 20, 22 };
	static uint8_t buf[48 * VETH_MSS];
	size_t len = sizeof(buf);
	struct sockaddr_in me;
	socklen_t me_len = sizeof(me);
	uint32_t isn, syn_len, wrap_at;
	int64_t s0, t0, sacks, timeouts;
	struct tcp_info ti;
	char ns[48], wrap_after[16];
	uint16_t port;
	pid_t pid;
	int fd, pfd, r;

	topology_up(_metadata, self, 0);
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' offload %s " SEGMENTED,
			     self_dir(), self->netns));
	if (self->family != AF_INET) {
		snprintf(wrap_after, sizeof(wrap_after), "%u", WRAP_AFTER);
		ASSERT_EQ(0, set_host_setting(self, ISN_WRAP_PARAM,
					      wrap_after));
	}
	pid = start_server(_metadata, self, serve_verify, len, &port);
	/*
	 * On the server's side: a packet socket of one protocol sees what
	 * the device receives, not what it sends.
	 */
	snprintf(ns, sizeof(ns), "%s-2", self->netns);
	ASSERT_EQ(0, enter_netns(ns));
	pfd = sniff_open("veth2");
	ASSERT_LE(0, pfd);
	snprintf(ns, sizeof(ns), "%s-1", self->netns);
	ASSERT_EQ(0, enter_netns(ns));
	fd = stack_connect(self->family, SERVER_IP, port);
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(errno));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&me, &me_len));
	/* The first segment from the client's port: its SYN. */
	ASSERT_EQ(0, sniff_segment(pfd, stack_ipproto(self->family),
				   ntohs(me.sin_port), true, &isn, &syn_len,
				   5000));
	close(pfd);
	wrap_at = 0u - (isn + 1);	/* data offset of sequence number 0 */
	TH_LOG("ISN %u: 2^32 at data byte %u", isn, wrap_at);
	if (self->family != AF_INET) {
		ASSERT_LT(WRAP_SEG * VETH_MSS, wrap_at);
		ASSERT_GT((WRAP_SEG + 1) * VETH_MSS, wrap_at);
	}
	r = run_cmd("'%s/netns.sh' dropseq %s %u %u %u %u", self_dir(),
		    self->netns, isn + 1 + lost[0] * VETH_MSS,
		    isn + 1 + lost[1] * VETH_MSS, isn + 1 + lost[2] * VETH_MSS,
		    isn + 1 + lost[3] * VETH_MSS);
	if (r == 2 && !getenv("XTCP_REQUIRE_NETEM"))
		SKIP(return, "tc ingress with u32 and gact not available");
	ASSERT_EQ(0, r);
	ASSERT_EQ(0, get_tcp_info(fd, &ti));
	ASSERT_EQ(VETH_MSS, ti.tcpi_snd_mss);
	/*
	 * All of it queued by one write, none left waiting for room: every
	 * segment but the last is a full one, where the drops expect it.
	 */
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, 1 << 20));
	pattern_fill(buf, len, 0, 1);
	s0 = stack_counter(self->family, "TCPSackRecovery", "XtcpSackRecovery");
	t0 = stack_counter(self->family, "TCPTimeouts", "XtcpRtoTimeouts");
	ASSERT_LE(0, s0);
	ASSERT_LE(0, t0);
	ASSERT_EQ((ssize_t)len, send_all(fd, buf, len));
	ASSERT_EQ(0, wait_all_acked(fd, 20000));
	sacks = stack_counter(self->family, "TCPSackRecovery",
			      "XtcpSackRecovery") - s0;
	timeouts = stack_counter(self->family, "TCPTimeouts",
				 "XtcpRtoTimeouts") - t0;
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_SERVER_OK(pid);
	ASSERT_EQ(0, get_tcp_info(fd, &ti));
	close(fd);
	TH_LOG("SACK recoveries %lld, timeouts %lld, total_retrans %u",
	       (long long)sacks, (long long)timeouts, ti.tcpi_total_retrans);
	/* Each drop took (not only some with spare resends) and went again. */
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' dropseq-hit %s", self_dir(),
			     self->netns));
	ASSERT_LE(ARRAY_SIZE(lost), ti.tcpi_total_retrans);
	ASSERT_LE(1, sacks);
	ASSERT_EQ(0, timeouts);
}

struct cwnd_sample {
	uint32_t cwnd, ssthresh, mss;
	uint32_t unacked;	/* segments in flight */
	uint8_t ca_state;
	uint64_t acked;		/* bytes */
};

struct sender {
	int fd;
	uint64_t len;
	atomic_int done;
	ssize_t sent;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;

	s->sent = send_pattern(s->fd, s->len, 1);
	shutdown(s->fd, SHUT_WR);
	atomic_store(&s->done, 1);
	return NULL;
}

#define INFINITE_SSTHRESH 0x7fffffffU

static bool in_avoidance(const struct cwnd_sample *s)
{
	return s->ssthresh < INFINITE_SSTHRESH && s->ca_state == 0 &&
	       s->cwnd >= s->ssthresh;
}

typedef void (*sample_fn)(void *ctx, const struct cwnd_sample *s);

/*
 * The window's shape needs a sender that cwnd holds back; on a slow
 * (debug, XTCP_SCALE > 1) kernel the receiver may not keep a 20 ms path
 * busy, and the peer's window would hold it back instead.
 */
static bool kernel_too_slow_for_shapes(void)
{
	return xtcp_scaled(16, 1) < 16;
}

/*
 * Send len bytes with congestion control @cc over a 20 ms path that loses
 * every @nth segment, calling @fn with the sender's TCP_INFO about once a
 * millisecond until the last byte is ACKed.
 */
static void sampled_transfer(struct __test_metadata *_metadata,
			     FIXTURE_DATA(stack) *self, const char *cc,
			     int nth, uint64_t len, sample_fn fn, void *ctx)
{
	struct sender snd = { .len = len };
	struct cwnd_sample s;
	struct tcp_info ti;
	pthread_t thread;
	uint16_t port;
	pid_t pid;
	int r;

	segmented_up(_metadata, self);
	r = run_cmd("'%s/netns.sh' netem %s delay 10ms", self_dir(),
		    self->netns);
	if (r == 2 && !getenv("XTCP_REQUIRE_NETEM"))
		SKIP(return, "netem not available (sch_netem)");
	ASSERT_EQ(0, r);
	drop_every(_metadata, self, nth, 1);
	pid = start_server(_metadata, self, serve_verify, snd.len, &port);
	snd.fd = client_connect(_metadata, self, port);
	ASSERT_EQ(0, setsockopt(snd.fd, IPPROTO_TCP, TCP_CONGESTION, cc,
				strlen(cc)));
	ASSERT_EQ(0, pthread_create(&thread, NULL, send_thread, &snd));
	/* Until all is ACKed, not just written: the send buffer holds MBs. */
	for (;;) {
		if (get_tcp_info(snd.fd, &ti) || ti.tcpi_state == 7 ||
		    (atomic_load(&snd.done) && ti.tcpi_bytes_acked > len))
			break;	/* 7: TCP_CLOSE, the connection failed */
		s.cwnd = ti.tcpi_snd_cwnd;
		s.ssthresh = ti.tcpi_snd_ssthresh;
		s.mss = ti.tcpi_snd_mss;
		s.ca_state = ti.tcpi_ca_state;
		s.unacked = ti.tcpi_unacked;
		s.acked = ti.tcpi_bytes_acked;
		fn(ctx, &s);
		msleep(1);
	}
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ((ssize_t)snd.len, snd.sent);
	ASSERT_SERVER_OK(pid);
	close(snd.fd);
}

struct reno_shape {
	struct cwnd_sample first_ss, last_ss, prev;
	bool have_ss, have_prev;
	uint64_t ca_segs;
	int64_t ca_grow, full_grow;
	double ca_bound, full_bound;
	int epochs;
};

static void reno_sample(void *ctx, const struct cwnd_sample *s)
{
	struct reno_shape *r = ctx;

	if (s->ssthresh >= INFINITE_SSTHRESH) {
		/* Slow start, before any loss. */
		if (!r->have_ss)
			r->first_ss = *s;
		r->last_ss = *s;
		r->have_ss = true;
	} else if (in_avoidance(s) && r->have_prev &&
		   in_avoidance(&r->prev) && s->ssthresh == r->prev.ssthresh) {
		/* Congestion avoidance, between two losses. */
		uint64_t segs = (s->acked - r->prev.acked) / s->mss;

		r->ca_segs += segs;
		r->ca_grow += (int64_t)s->cwnd - r->prev.cwnd;
		r->ca_bound += (double)segs / r->prev.cwnd;
		/*
		 * Native grows cwnd only while the sender fills it
		 * (tcp_is_cwnd_limited): a window in flight at the last
		 * sample.
		 */
		if (r->prev.unacked >= r->prev.cwnd) {
			r->full_grow += (int64_t)s->cwnd - r->prev.cwnd;
			r->full_bound += (double)segs / r->prev.cwnd;
		}
	} else if (in_avoidance(s)) {
		r->epochs++;
	}
	r->prev = *s;
	r->have_prev = true;
}

/*
 * Reno's window, sampled through TCP_INFO while it sends over a 20 ms
 * path that loses every 300th segment: before the first loss cwnd grows
 * by one segment per segment ACKed (doubling each round trip); between
 * losses, by one segment per window ACKed (one per round trip). Growth is
 * measured against ACKed data, not time, so a slow VM cannot fail it.
 */
TEST_F_TIMEOUT(stack, veth_reno_cwnd_exponential_then_linear, 900)
{
	struct reno_shape r = {};
	uint64_t ss_segs;

	if (kernel_too_slow_for_shapes())
		SKIP(return, "XTCP_SCALE > 1: a slow kernel, see above");
	/* Not scaled down on slow kernels: it needs a dozen losses. */
	sampled_transfer(_metadata, self, "reno", 300, 8 * MiB, reno_sample,
			 &r);
	ASSERT_TRUE(r.have_ss);
	ss_segs = (r.last_ss.acked - r.first_ss.acked) / r.last_ss.mss;
	TH_LOG("slow start: cwnd %u -> %u over %llu segments ACKed",
	       r.first_ss.cwnd, r.last_ss.cwnd, (unsigned long long)ss_segs);
	TH_LOG("avoidance: %d epochs, cwnd +%lld over %llu segments ACKed, one per window: %.1f",
	       r.epochs, (long long)r.ca_grow, (unsigned long long)r.ca_segs,
	       r.ca_bound);
	TH_LOG("with a window in flight: cwnd +%lld, one per window: %.1f",
	       (long long)r.full_grow, r.full_bound);
	/* Exponential: at least doubled, about one segment per segment. */
	ASSERT_LE(2 * r.first_ss.cwnd, r.last_ss.cwnd);
	ASSERT_LE(ss_segs, 2 * (uint64_t)(r.last_ss.cwnd - r.first_ss.cwnd) + 10);
	/*
	 * Linear: grew, by one segment per window, give or take rounding
	 * (a segment an epoch): no more than that overall, and at least
	 * three quarters of it while a window was in flight (a sender short
	 * of it is not held back by cwnd: native once grew +37 overall where
	 * one per window would have been +191). Judged over at least two
	 * windows' growth an epoch, so that the rounding cannot pass it
	 * alone. Native grew +200 of 204.4 over 19 epochs, xtcp +96 of
	 * 103.4; growth by one segment per two windows (per delayed ACK, not
	 * per segment ACKed) would be about half.
	 */
	ASSERT_LE(1, r.epochs);
	ASSERT_LE(1, r.ca_grow);
	ASSERT_GE(r.ca_bound + r.epochs + 1, (double)r.ca_grow);
	ASSERT_LE(2.0 * (r.epochs + 1), r.full_bound);
	ASSERT_LE(0.75 * r.full_bound - r.epochs - 1, (double)r.full_grow);
}

#define MAX_LOSSES 32

/* ssthresh / cwnd at each fast recovery entered from congestion avoidance. */
struct loss_response {
	struct cwnd_sample prev;
	bool have_prev;
	double ratio[MAX_LOSSES];
	int n;
};

static void loss_sample(void *ctx, const struct cwnd_sample *s)
{
	struct loss_response *l = ctx;

	/* Native TCP may pass through Disorder (SACKs seen) on the way. */
	if (l->have_prev && l->n < MAX_LOSSES &&
	    s->ca_state == TCP_CA_Recovery &&
	    l->prev.ca_state <= TCP_CA_Disorder &&
	    l->prev.ssthresh < INFINITE_SSTHRESH &&
	    l->prev.cwnd >= l->prev.ssthresh)
		l->ratio[l->n++] = (double)s->ssthresh / l->prev.cwnd;
	l->prev = *s;
	l->have_prev = true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * How far the window falls at a loss: CUBIC keeps beta = 0.7 of it (RFC
 * 9438 4.6), Reno half. Measured at losses in congestion avoidance, where
 * cwnd moves slowly enough for the last sample before the recovery to be
 * the window at the loss; the median of at least five of them (native
 * and xtcp: 13-15 a run, each within 0.03 of the median), within 0.07
 * of the rule: ranges that a stack following the other rule misses.
 */
#define MIN_LOSSES 5

static void loss_backoff(struct __test_metadata *_metadata,
			 FIXTURE_DATA(stack) *self, const char *cc,
			 double lo, double hi)
{
	struct loss_response l = {};
	double median;

	if (kernel_too_slow_for_shapes())
		SKIP(return, "XTCP_SCALE > 1: a slow kernel, see above");
	/* Not scaled down on slow kernels: it needs a dozen losses. */
	sampled_transfer(_metadata, self, cc, 400, 8 * MiB, loss_sample, &l);
	TH_LOG("%s: %d losses in congestion avoidance", cc, l.n);
	ASSERT_LE(MIN_LOSSES, l.n);
	qsort(l.ratio, l.n, sizeof(l.ratio[0]), cmp_double);
	median = l.ratio[l.n / 2];
	TH_LOG("%s: ssthresh/cwnd %.2f (%.2f-%.2f)", cc, median, l.ratio[0],
	       l.ratio[l.n - 1]);
	ASSERT_LE(lo, median);
	ASSERT_GE(hi, median);
}

TEST_F_TIMEOUT(stack, veth_cubic_keeps_seven_tenths_at_loss, 600)
{
	loss_backoff(_metadata, self, "cubic", 0.63, 0.77);
}

TEST_F_TIMEOUT(stack, veth_reno_halves_at_loss, 600)
{
	loss_backoff(_metadata, self, "reno", 0.43, 0.57);
}

/*
 * When a connection to a peer cut off ends: keepalive's ETIMEDOUT at least
 * 3 s after the cut began and at most 4 s (plus scheduling) after it
 * ended; TCP_USER_TIMEOUT's (3 s) from the first resend that left.
 */
#define KA_MIN_MS	3000
#define KA_MAX_MS	4800
#define UT_MS		3000
#define UT_EARLY_MS	100	/* ticks, and the poll seeing the resend late */
#define UT_LATE_MS	300	/* a timer's slack under TCG */
/*
 * The carrier's loss fails resends for about a second after the cut.
 * Native tries again every 500 ms; xtcp backs off on such a failure (its
 * tries at 200, 600, 1400, 3000 ms), so its first resend may be the
 * fourth try.
 */
#define UT_FIRST_RESEND_MS 3500

/* Hold the connection open without a word until the peer goes or 120 s. */
static int serve_silent(int fd, uint64_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	(void)len;
	poll(&pfd, 1, 120000);
	return SRV_OK;
}

static void stop_server(pid_t pid)
{
	kill(pid, SIGKILL);
	wait_child(pid);
}

/*
 * Wait for the error that ends @fd's connection; returns it (SO_ERROR, or
 * the errno of a read) or 0 if none came within WAIT_MS.
 */
static int wait_conn_error(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int err = 0;
	char c;

	if (poll(&pfd, 1, 4 * WAIT_MS) != 1)
		return 0;
	if (getsockopt_int(fd, SOL_SOCKET, SO_ERROR, &err) || err)
		return err;
	return recv(fd, &c, 1, MSG_DONTWAIT) < 0 ? errno : 0;
}

/* An idle connection to a silent server in TAG-2; the server's pid. */
static int silent_connection(struct __test_metadata *_metadata,
			     FIXTURE_DATA(stack) *self, pid_t *pid)
{
	uint16_t port;

	topology_up(_metadata, self, 0);
	*pid = start_server(_metadata, self, serve_silent, 0, &port);
	return client_connect(_metadata, self, port);
}

/*
 * SO_KEEPALIVE with a 1 s idle time: an idle peer that answers keeps the
 * connection; once its link is cut, three unanswered probes end the
 * connection with ETIMEDOUT.
 */
TEST_F_TIMEOUT(stack, veth_keepalive_ends_connection_to_cut_peer, 300)
{
	int64_t probes0, probes1, t0, t1, t2;
	struct tcp_info ti;
	pid_t pid;
	int fd;

	fd = silent_connection(_metadata, self, &pid);
	ASSERT_EQ(0, setsockopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, 1));
	ASSERT_EQ(0, setsockopt_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, 1));
	ASSERT_EQ(0, setsockopt_int(fd, IPPROTO_TCP, TCP_KEEPCNT, 3));
	probes0 = stack_counter(self->family, "TCPKeepAlive",
				"XtcpKeepAliveProbes");
	ASSERT_LE(0, probes0);
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1));
	msleep(5000);
	probes1 = stack_counter(self->family, "TCPKeepAlive",
				"XtcpKeepAliveProbes");
	TH_LOG("%lld keepalive probes in 5 s idle", (long long)(probes1 - probes0));
	ASSERT_LT(probes0, probes1);
	ASSERT_EQ(0, get_tcp_info(fd, &ti));
	ASSERT_EQ(1, ti.tcpi_state);	/* answered: still ESTABLISHED */

	probes0 = stack_counter(self->family, "TCPKeepAlive",
				"XtcpKeepAliveProbes");
	t0 = mono_ms();
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' cut %s", self_dir(), self->netns));
	t1 = mono_ms();
	ASSERT_EQ(ETIMEDOUT, wait_conn_error(fd));
	t2 = mono_ms();
	probes1 = stack_counter(self->family, "TCPKeepAlive",
				"XtcpKeepAliveProbes");
	TH_LOG("cut in %lld ms; ETIMEDOUT %lld ms after the cut began, %lld probes",
	       (long long)(t1 - t0), (long long)(t2 - t0),
	       (long long)(probes1 - probes0));
	/*
	 * TCP_KEEPCNT unanswered probes, and one more if a probe left while
	 * the cut was still being made and was answered.
	 */
	ASSERT_LE(3, probes1 - probes0);
	ASSERT_GE(4, probes1 - probes0);
	/*
	 * The link goes down during the cut; the first probe after it
	 * comes within TCP_KEEPINTVL (1 s), and TCP_KEEPCNT (3) of them
	 * unanswered end the connection at the next tick: 3-4 s after the
	 * link went down (native, TCG: 4207 ms after the cut began, 3846
	 * after it ended).
	 */
	ASSERT_LE(KA_MIN_MS, t2 - t0);
	ASSERT_GE(KA_MAX_MS, t2 - t1);
	close(fd);
	stop_server(pid);
}

/*
 * TCP_USER_TIMEOUT: data sent to a peer whose link is cut is given up
 * 3 s after the first resend that left, not after the retry count's
 * quarter of an hour. The clock starts there (native's retrans_stamp,
 * as measured): for about a second after the cut the sender's device is
 * losing its carrier and what is sent fails locally. That second
 * is why the end came some 940 ms later than 3 s after the send (native,
 * TCG: first resend 954-968 ms after the send, ETIMEDOUT 3005-3014 ms
 * after it; xtcp 637-1459 ms, 3024-3037 ms). xtcp backs off on a resend
 * that fails locally, where native tries again every 500 ms: noted, not
 * matched yet.
 */
TEST_F_TIMEOUT(stack, veth_user_timeout_gives_up_on_unacked_data, 300)
{
	int64_t t0, t1, first = -1, end = -1;
	char buf[4096] = { 0 };
	struct tcp_info ti;
	pid_t pid;
	int fd;

	fd = silent_connection(_metadata, self, &pid);
	ASSERT_EQ(0, setsockopt_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, UT_MS));
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' cut %s", self_dir(), self->netns));
	t0 = mono_ms();
	ASSERT_EQ((ssize_t)sizeof(buf), send(fd, buf, sizeof(buf), 0));
	/* TCP_INFO every 2 ms: when the first resend left, and the end. */
	while (end < 0 && mono_ms() - t0 < 4 * WAIT_MS) {
		ASSERT_EQ(0, get_tcp_info(fd, &ti));
		if (first < 0 && ti.tcpi_total_retrans)
			first = mono_ms();
		if (ti.tcpi_state == 7)		/* TCP_CLOSE */
			end = mono_ms();
		usleep(2000);
	}
	ASSERT_EQ(ETIMEDOUT, wait_conn_error(fd));
	t1 = mono_ms();
	TH_LOG("first resend %lld ms after the send, the end %lld ms after it; ETIMEDOUT %lld ms after the send",
	       (long long)(first - t0), (long long)(end - first),
	       (long long)(t1 - t0));
	ASSERT_LE(0, first);
	ASSERT_LE(0, end);
	ASSERT_GE(UT_FIRST_RESEND_MS, first - t0);
	ASSERT_LE(UT_MS - UT_EARLY_MS, end - first);
	ASSERT_GE(UT_MS + UT_LATE_MS, end - first);
	close(fd);
	stop_server(pid);
}

TEST_F_TIMEOUT(stack, veth_netem_loss_5pct_16MiB_each_way, 1800)
{
	topology_up(_metadata, self, 5);
	transfer_both_ways(_metadata, self, xtcp_scaled(16 * MiB, 1 * MiB));
}

/*
 * The two hosts with netem ARGS on the veth ends that netns.sh @cmd names
 * ("netem": both, "netem1": TAG-1's only), and segmentation offload off, so
 * that netem's unit is a segment, not a 64 KiB GSO packet.
 */
static void netem_setup_cmd(struct __test_metadata *_metadata,
			    FIXTURE_DATA(stack) *self, const char *cmd,
			    const char *args)
{
	int r;

	segmented_up(_metadata, self);
	r = run_cmd("'%s/netns.sh' %s %s %s", self_dir(), cmd, self->netns,
		    args);
	if (r == 2 && !getenv("XTCP_REQUIRE_NETEM"))
		SKIP(return, "netem not available (sch_netem)");
	ASSERT_EQ(0, r);
}

static void netem_setup(struct __test_metadata *_metadata,
			FIXTURE_DATA(stack) *self, const char *args)
{
	netem_setup_cmd(_metadata, self, "netem", args);
}

/* netem ARGS on both veth ends, then len bytes each way, verified. */
static void netem_transfer(struct __test_metadata *_metadata,
			   FIXTURE_DATA(stack) *self, const char *args,
			   uint64_t len)
{
	netem_setup(_metadata, self, args);
	if (_metadata->skip)
		return;
	transfer_both_ways(_metadata, self, len);
}

TEST_F_TIMEOUT(stack, veth_netem_loss_1pct_16MiB_each_way, 1800)
{
	netem_transfer(_metadata, self, "loss 1%",
		       xtcp_scaled(16 * MiB, 1 * MiB));
}

#define DEFAULT_RTO_MIN_US	200000	/* Linux's TCP_RTO_MIN */

/*
 * With no rto_min on the route the RTO is at least 200 ms; with one, the
 * route's value is the floor instead, and on a sub-millisecond veth the
 * RTO sits just above it.
 */
static bool rto_on_floor(uint32_t rto_us, uint64_t route_rto_min_ms)
{
	if (!route_rto_min_ms)
		return rto_us >= DEFAULT_RTO_MIN_US;
	return rto_us >= route_rto_min_ms * 1000 && rto_us < DEFAULT_RTO_MIN_US;
}

/* serve_echo, then the accepted connection's RTO; len is the route's rto_min. */
static int serve_echo_check_rto(int fd, uint64_t route_rto_min_ms)
{
	struct tcp_info ti;
	int rc = serve_echo(fd, 0);

	if (rc != SRV_OK)
		return rc;
	if (get_tcp_info(fd, &ti))
		return SRV_IO;
	fprintf(stderr, "# accepted: rto %u us, rtt %u us\n", ti.tcpi_rto,
		ti.tcpi_rtt);
	return rto_on_floor(ti.tcpi_rto, route_rto_min_ms) ? SRV_OK : SRV_RTO;
}

static void echo_check_rto(struct __test_metadata *_metadata,
			   FIXTURE_DATA(stack) *self, uint64_t route_rto_min_ms)
{
	struct tcp_info ti;
	uint16_t port;
	pid_t pid;
	int fd;

	pid = start_server(_metadata, self, serve_echo_check_rto,
			   route_rto_min_ms, &port);
	fd = client_connect(_metadata, self, port);
	echo_message(_metadata, fd, "timed");
	ASSERT_EQ(0, get_tcp_info(fd, &ti));
	TH_LOG("connected: rto %u us, rtt %u us", ti.tcpi_rto, ti.tcpi_rtt);
	EXPECT_TRUE(rto_on_floor(ti.tcpi_rto, route_rto_min_ms));
	echo_close(_metadata, fd, pid);
}

/*
 * "ip route ... rto_min 30ms" lowers the RTO floor of connections opened
 * afterwards, connecting and accepted alike (native: tcp_rto_min()).
 */
TEST_F_TIMEOUT(stack, veth_route_rto_min_is_the_rto_floor, 300)
{
	topology_up(_metadata, self, 0);
	echo_check_rto(_metadata, self, 0);
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' rtomin %s 30", self_dir(),
			     self->netns));
	echo_check_rto(_metadata, self, 30);
}

/*
 * A route changed under an open connection: both ends take the new floor
 * once they send on the new route and sample the RTT again (native reads
 * tcp_rto_min() at each RTO update; its RTTVAR comes down a quarter of the
 * way per round trip, so a few echoes).
 */
TEST_F_TIMEOUT(stack, veth_route_rto_min_change_reaches_open_connection, 300)
{
	struct tcp_info ti;
	uint16_t port;
	pid_t pid;
	int fd, i;

	topology_up(_metadata, self, 0);
	pid = start_server(_metadata, self, serve_echo_check_rto, 30, &port);
	fd = client_connect(_metadata, self, port);
	echo_message(_metadata, fd, "before");
	ASSERT_EQ(0, get_tcp_info(fd, &ti));
	TH_LOG("before: rto %u us", ti.tcpi_rto);
	EXPECT_TRUE(rto_on_floor(ti.tcpi_rto, 0));
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' rtomin %s 30", self_dir(),
			     self->netns));
	for (i = 0; i < 10; i++)
		echo_message(_metadata, fd, "after");
	ASSERT_EQ(0, get_tcp_info(fd, &ti));
	TH_LOG("after: rto %u us, rtt %u us", ti.tcpi_rto, ti.tcpi_rtt);
	EXPECT_TRUE(rto_on_floor(ti.tcpi_rto, 30));
	echo_close(_metadata, fd, pid);
}

/*
 * A fifth of the packets from client to server lost: the client's data
 * and the ACKs of the server's data, so each flow loses a fifth of one of
 * its two directions. A 10 ms rto_min on the route (as on a data-centre
 * link) scales the timeouts to the veth's RTT. Not on both veth ends: a
 * resend and its ACK then fail together a third of the time, and native
 * TCP's backed-off RTOs grow a heavy tail (2 MiB each way took it 86 s in
 * one run and 839 s in another). Here 16 MiB each way took native TCP 34 s
 * in each of two runs, xtcp 18-19 s.
 */
TEST_F_TIMEOUT(stack, veth_netem_loss_20pct_client_to_server_16MiB_each_way,
	       1800)
{
	uint64_t len = xtcp_scaled(16 * MiB, 1 * MiB);
	struct tcp_info ti;

	netem_setup_cmd(_metadata, self, "netem1", "loss 20%");
	if (_metadata->skip)
		return;
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' rtomin %s 10", self_dir(),
			     self->netns));
	/* Lost retransmissions still back the RTO off to seconds. */
	recv_stall_ms = 600000;
	transfer_both_ways_info(_metadata, self, len, &ti);
	TH_LOG("client: %u segments resent, mss %u", ti.tcpi_total_retrans,
	       ti.tcpi_snd_mss);
	/* A fifth of its segments lost: surely a tenth resent. */
	ASSERT_LT(0U, ti.tcpi_snd_mss);
	EXPECT_LE(len / ti.tcpi_snd_mss / 10, ti.tcpi_total_retrans);
}

/*
 * Every duplicated data segment is reported back as a D-SACK (RFC 2883):
 * the client's namespace counts those it sent (as receiver) and those it
 * got (as sender).
 */
TEST_F_TIMEOUT(stack, veth_netem_duplicate_5pct_16MiB_each_way, 1800)
{
	int64_t sent, got;
	struct tcp_info ti;

	netem_setup(_metadata, self, "duplicate 5%");
	if (_metadata->skip)
		return;
	transfer_both_ways_info(_metadata, self,
				xtcp_scaled(16 * MiB, 1 * MiB), &ti);
	sent = stack_counter(self->family, "TCPDSACKOldSent",
			     "XtcpDSACKOldSent");
	got = stack_counter(self->family, "TCPDSACKRecv", "XtcpDSACKRecv");
	TH_LOG("D-SACKs sent %lld, received %lld, tcpi_dsack_dups %u",
	       (long long)sent, (long long)got, ti.tcpi_dsack_dups);
	ASSERT_LT(0, sent);
	ASSERT_LT(0, got);
	ASSERT_LT(0U, ti.tcpi_dsack_dups);
}

/*
 * PAWS (RFC 7323): duplicates that netem's jitter (10 ms +- 5 ms) delivers
 * after newer segments carry an older timestamp than the one the receiver
 * last took, and are dropped for it. Counted in the client's namespace
 * (it receives the second half): native's PAWSEstab.
 */
TEST_F_TIMEOUT(stack, veth_paws_drops_late_duplicates, 1800)
{
	int64_t paws;

	netem_transfer(_metadata, self, "delay 10ms 5ms duplicate 10%",
		       xtcp_scaled(4 * MiB, 1 * MiB));
	if (_metadata->skip)
		return;
	paws = stack_counter(self->family, "PAWSEstab", "XtcpPAWSEstab");
	TH_LOG("%lld segments dropped by PAWS", (long long)paws);
	ASSERT_LT(0, paws);
}

/* Recoveries undone in this namespace: D-SACK, full and partial undos. */
static int64_t undos(int family)
{
	static const char *const native[] = {
		"TCPDSACKUndo", "TCPFullUndo", "TCPPartialUndo",
	};
	static const char *const ours[] = {
		"XtcpDSACKUndo", "XtcpFullUndo", "XtcpPartialUndo",
	};
	int64_t sum = 0, v;
	size_t i;

	for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		v = stack_counter(family, native[i], ours[i]);
		if (v < 0)
			return -1;
		sum += v;
	}
	return sum;
}

/*
 * Replies to stale segments left out for the rate limit: in the
 * connection (PAWS) and once it is in TIME_WAIT, whose PAWS drops count
 * under PAWSEstab too.
 */
static int64_t stale_ack_skips(int family)
{
	int64_t est = stack_counter(family, "TCPACKSkippedPAWS",
				    "XtcpACKSkippedPAWS");
	int64_t tw = stack_counter(family, "TCPACKSkippedTimeWait",
				   "XtcpACKSkippedTimeWait");

	return est < 0 || tw < 0 ? -1 : est + tw;
}

/*
 * Jitter reorders the server's pure ACKs: a stale one (its TSval older
 * than the last, its ACK behind snd_una) fails PAWS at the client, which
 * answers such segments without data at most once per
 * net.ipv4.tcp_invalid_ratelimit (500 ms) and counts the replies it skips
 * (RFC 5961 section 7: no ACK for every stale or forged segment).
 */
TEST_F_TIMEOUT(stack, veth_replies_to_stale_acks_rate_limited, 1800)
{
	uint64_t len = xtcp_scaled(8 * MiB, 1 * MiB);
	int64_t paws0, paws1, skip0, skip1, t0, ms, replies;
	uint16_t port;
	pid_t pid;
	int fd;

	netem_setup(_metadata, self, "delay 10ms 5ms");
	if (_metadata->skip)
		return;
	pid = start_server(_metadata, self, serve_verify, len, &port);
	fd = client_connect(_metadata, self, port);
	paws0 = stack_counter(self->family, "PAWSEstab", "XtcpPAWSEstab");
	skip0 = stale_ack_skips(self->family);
	ASSERT_LE(0, paws0);
	ASSERT_LE(0, skip0);
	t0 = mono_ms();
	ASSERT_EQ((ssize_t)len, send_pattern(fd, len, 1));
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_SERVER_OK(pid);
	close(fd);
	/*
	 * Stale ACKs still in netem's queue (10 +- 5 ms) arrive and are
	 * judged before the counters are read, and the time counts up to
	 * the reads, so no reply falls outside it.
	 */
	msleep(200);
	skip1 = stale_ack_skips(self->family);
	paws1 = stack_counter(self->family, "PAWSEstab", "XtcpPAWSEstab");
	ms = mono_ms() - t0;
	replies = (paws1 - paws0) - (skip1 - skip0);
	TH_LOG("ACKs dropped by PAWS %lld, replies skipped %lld: %lld answered in %lld ms",
	       (long long)(paws1 - paws0), (long long)(skip1 - skip0),
	       (long long)replies, (long long)ms);
	ASSERT_LT(paws0, paws1);
	/*
	 * At most one answer per 500 ms. How many there are depends on how
	 * the drops fall in time: native TCP answered 3 of 1282 in one run,
	 * none of 1592 in another, 4 of 836 in 378 ms in a third (counted
	 * then without the wait above). Two more for segments that carry
	 * sequence space (the peer's FIN, and it again if it is resent),
	 * which native's tcp_oow_rate_limited answers without the limit.
	 */
	ASSERT_GE(1 + ms / 500 + 2, replies);
	ASSERT_LT(skip0, skip1);
}

/*
 * Three segments in a row lost out of every hundred: several holes in one
 * window. With SACK (the default) the sender repairs them in SACK
 * recovery (RFC 6675); with SACK off in both namespaces, in NewReno's (RFC
 * 6582). Recovery episodes are counted by kind in the client's namespace
 * (native: TCPSackRecovery, TCPRenoRecovery). Every loss is real: a
 * recovery undone (timestamps said the original filled the hole) means
 * that original arrived, and the resend came back D-SACKed, so with SACK
 * there are no more undos than D-SACKs.
 */
static void burst_loss_transfer(struct __test_metadata *_metadata,
				FIXTURE_DATA(stack) *self, bool sack)
{
	uint64_t len = 4 * MiB;	/* 2897 segments: 28 bursts */
	int64_t sack0, sack1, reno0, reno1, rto0, rto1;
	int64_t undo0, undo1, dsack0, dsack1;
	struct tcp_info ti;
	uint16_t port;
	pid_t pid;
	int fd;

	segmented_with_drops(_metadata, self, 100, 3);
	if (_metadata->skip)
		return;
	if (!sack)
		ASSERT_EQ(0, run_cmd("'%s/netns.sh' sysctl %s %s=0", self_dir(),
				     self->netns, self->family == AF_INET ?
				     "net.ipv4.tcp_sack" : "net.xtcp.sack"));
	pid = start_server(_metadata, self, serve_verify, len, &port);
	fd = client_connect(_metadata, self, port);
	sack0 = stack_counter(self->family, "TCPSackRecovery",
			      "XtcpSackRecovery");
	reno0 = stack_counter(self->family, "TCPRenoRecovery",
			      "XtcpRenoRecovery");
	rto0 = stack_counter(self->family, "TCPTimeouts", "XtcpRtoTimeouts");
	undo0 = undos(self->family);
	dsack0 = stack_counter(self->family, "TCPDSACKRecv", "XtcpDSACKRecv");
	ASSERT_LE(0, sack0);
	ASSERT_LE(0, reno0);
	ASSERT_LE(0, undo0);
	ASSERT_LE(0, dsack0);
	ASSERT_EQ((ssize_t)len, send_pattern(fd, len, 1));
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_SERVER_OK(pid);
	ASSERT_EQ(0, get_tcp_info(fd, &ti));
	close(fd);
	sack1 = stack_counter(self->family, "TCPSackRecovery",
			      "XtcpSackRecovery");
	reno1 = stack_counter(self->family, "TCPRenoRecovery",
			      "XtcpRenoRecovery");
	rto1 = stack_counter(self->family, "TCPTimeouts", "XtcpRtoTimeouts");
	undo1 = undos(self->family);
	dsack1 = stack_counter(self->family, "TCPDSACKRecv", "XtcpDSACKRecv");
	TH_LOG("SACK recoveries %lld, NewReno recoveries %lld, timeouts %lld, total_retrans %u, undone %lld, D-SACKs %lld",
	       (long long)(sack1 - sack0), (long long)(reno1 - reno0),
	       (long long)(rto1 - rto0), ti.tcpi_total_retrans,
	       (long long)(undo1 - undo0), (long long)(dsack1 - dsack0));
	ASSERT_EQ(sack, !!(ti.tcpi_options & TCPI_OPT_SACK));
	ASSERT_LT(0, sack ? sack1 - sack0 : reno1 - reno0);
	ASSERT_EQ(0, sack ? reno1 - reno0 : sack1 - sack0);
	/*
	 * A recovery undone was found spurious, and a spurious resend comes
	 * back as a D-SACK, unless the drop pattern takes the resend too:
	 * then its timestamp alone undoes it. So not an invariant: on the
	 * stock kernel spurious recoveries are rare and this guards against
	 * wrong undos (once about one in eight); on a slow kernel there are
	 * many (xtcp under the debug kernel: 11 undone, 7 D-SACKs in 41
	 * recoveries), and it is not judged there: the case reports a skip
	 * after the other checks. Native TCP, the oracle,
	 * once undid 2 of 31 with 1 D-SACK (the other proved by its
	 * timestamp): one such undo is allowed; the wrong undos this guards
	 * against came at about one in eight recoveries, 3 or more a run.
	 */
	if (sack && kernel_too_slow_for_shapes())
		SKIP(return, "XTCP_SCALE > 1: a slow kernel, undos not judged");
	if (sack)
		ASSERT_LE(undo1 - undo0, dsack1 - dsack0 + 1);
}

TEST_F_TIMEOUT(stack, veth_burst_loss_sack_recovery, 1800)
{
	burst_loss_transfer(_metadata, self, true);
}

TEST_F_TIMEOUT(stack, veth_burst_loss_without_sack_newreno_recovery, 1800)
{
	burst_loss_transfer(_metadata, self, false);
}

/*
 * A quarter of the packets overtake the others' 10 ms delay. The client
 * sees the reordering (tcpi_reord_seen: from SACKs and timestamp echoes),
 * and undoes recoveries it proves needless (D-SACKs, timestamps).
 */
TEST_F_TIMEOUT(stack, veth_netem_reorder_25pct_16MiB_each_way, 1800)
{
	int64_t undo0, undo1;
	struct tcp_info ti;
	char ns[48];

	netem_setup(_metadata, self, "delay 10ms reorder 25% 50%");
	if (_metadata->skip)
		return;
	/* The counters of the client's namespace (client_connect enters it). */
	snprintf(ns, sizeof(ns), "%s-1", self->netns);
	ASSERT_EQ(0, enter_netns(ns));
	undo0 = undos(self->family);
	ASSERT_LE(0, undo0);
	transfer_both_ways_info(_metadata, self,
				xtcp_scaled(16 * MiB, 1 * MiB), &ti);
	undo1 = undos(self->family);
	TH_LOG("reord_seen %u, total_retrans %u, recoveries undone %lld",
	       ti.tcpi_reord_seen, ti.tcpi_total_retrans,
	       (long long)(undo1 - undo0));
	ASSERT_LT(0U, ti.tcpi_reord_seen);
	ASSERT_LT(undo0, undo1);
}

TEST_F_TIMEOUT(stack, veth_netem_delay_50ms_jitter_10ms_16MiB_each_way, 1800)
{
	netem_transfer(_metadata, self, "delay 50ms 10ms",
		       xtcp_scaled(16 * MiB, 1 * MiB));
}

/* Checksum errors counted in this namespace: TCP's InCsumErrors, ours. */
static int64_t csum_errors(int family)
{
	if (family == AF_INET)
		return stack_snmp_counter("InCsumErrors");
	return stack_counter(family, NULL, "XtcpInErrsChecksum");
}

/*
 * Checksum errors counted in TAG-<end> (1: the client, 2: the server):
 * each host counts what it receives, in its own namespace. Leaves this
 * process in that namespace.
 */
static int64_t csum_errors_in(FIXTURE_DATA(stack) *self, int end)
{
	char ns[48];

	snprintf(ns, sizeof(ns), "%s-%d", self->netns, end);
	if (enter_netns(ns))
		return -1;
	return csum_errors(self->family);
}

/*
 * One packet in a hundred has a bit flipped: the checksum must catch them
 * (counted as such at both receivers, each in its own namespace), and the
 * data arrives intact.
 */
TEST_F_TIMEOUT(stack, veth_netem_corrupt_1pct_16MiB_each_way, 1800)
{
	int64_t before[3], after[3];
	int end;

	netem_setup(_metadata, self, "corrupt 1%");
	if (_metadata->skip)
		return;
	for (end = 1; end <= 2; end++) {
		before[end] = csum_errors_in(self, end);
		ASSERT_LE(0, before[end]);
	}
	transfer_both_ways(_metadata, self, xtcp_scaled(16 * MiB, 4 * MiB));
	for (end = 1; end <= 2; end++) {
		after[end] = csum_errors_in(self, end);
		TH_LOG("TAG-%d: %lld checksum errors", end,
		       (long long)(after[end] - before[end]));
		/* Some thousand segments each way: tens of them corrupted. */
		EXPECT_LT(before[end], after[end]);
	}
}

/* ---- fairness: flows that share one bottleneck ------------------------ */

#define MAX_FLOWS	2
#define ROUTED_SERVER_IP	"10.77.1.2"	/* netns.sh routed */
/*
 * The bottleneck: 40 Mbit/s with a 20 ms queue, the 100 KB of make
 * bench's 20 Mbit/s and 40 ms. A Reno epoch lasts as many round trips as
 * the window holds segments, so with the queue's bytes kept the epochs
 * per byte stay the same and a measurement takes half the time.
 */
#define SHARED_LINK_RATE	"40mbit"
#define SHARED_LINK_QUEUE_MS	20

struct endless_sender {
	int fd;
	pthread_t thread;
};

/* Send pattern bytes until the connection fails (the receiver closes it). */
static void *endless_send_thread(void *arg)
{
	struct endless_sender *e = arg;
	static uint8_t buf[64 * KiB];

	while (send(e->fd, buf, sizeof(buf), 0) > 0)
		;
	return NULL;
}

/*
 * The senders: a child in TAG-1 connects flow i with families[i] (and
 * TCP_CONGESTION @cong unless NULL) to ports[i] and sends on every flow
 * until all have failed.
 */
static pid_t start_senders(const char *netns, const int *families,
			   const uint16_t *ports, int n, const char *cong)
{
	struct endless_sender e[MAX_FLOWS];
	char ns[48];
	pid_t pid;
	int i;

	pid = fork_child();
	if (pid)
		return pid;
	snprintf(ns, sizeof(ns), "%s-1", netns);
	if (enter_netns(ns))
		_exit(SRV_SETUP);
	for (i = 0; i < n; i++) {
		struct sockaddr_in sin = sin_make(ROUTED_SERVER_IP, ports[i]);

		e[i].fd = stack_socket(families[i]);
		if (e[i].fd < 0 || (cong &&
		    setsockopt(e[i].fd, IPPROTO_TCP, TCP_CONGESTION, cong,
			       strlen(cong))) ||
		    connect(e[i].fd, (struct sockaddr *)&sin, sizeof(sin)) ||
		    pthread_create(&e[i].thread, NULL, endless_send_thread, &e[i]))
			_exit(SRV_SETUP);
	}
	for (i = 0; i < n; i++)
		pthread_join(e[i].thread, NULL);
	_exit(SRV_OK);
}

/*
 * n flows (flow i on families[i]) from TAG-1 share the bottleneck of
 * netns.sh routed (SHARED_LINK_RATE at the router) into TAG-2, where this
 * process receives them. Once every
 * flow has delivered @warmup bytes (slow start is over), count what each
 * delivers until together they have delivered @measure more: *got.
 * Shares are counted in bytes delivered over the same stretch, not timed.
 */
static void shared_link_shares(struct __test_metadata *_metadata,
			       FIXTURE_DATA(stack) *self, const int *families,
			       int n, const char *cong, uint64_t warmup,
			       uint64_t measure, uint64_t *got)
{
	uint64_t total[MAX_FLOWS] = {}, base[MAX_FLOWS] = {}, sum = 0;
	int lfd[MAX_FLOWS], fd[MAX_FLOWS], i, r;
	struct pollfd pfd[MAX_FLOWS];
	uint16_t ports[MAX_FLOWS];
	static uint8_t buf[256 * KiB];
	bool measuring = false;
	char ns[48];
	pid_t pid;

	ASSERT_GE(MAX_FLOWS, n);
	if (!self->netns[0]) {	/* a repeated measurement keeps the link */
		snprintf(self->netns, sizeof(self->netns), "xtcp%d",
			 getpid());
		r = run_cmd("'%s/netns.sh' routed %s %s %d", self_dir(),
			    self->netns, SHARED_LINK_RATE,
			    SHARED_LINK_QUEUE_MS);
		if (r == 2 && !getenv("XTCP_REQUIRE_NETEM"))
			SKIP(return, "tbf not available (sch_tbf)");
		ASSERT_EQ(0, r);
	}
	snprintf(ns, sizeof(ns), "%s-2", self->netns);
	ASSERT_EQ(0, enter_netns(ns));
	for (i = 0; i < n; i++) {
		lfd[i] = stack_listen(families[i], ROUTED_SERVER_IP, &ports[i]);
		ASSERT_LE(0, lfd[i]);
	}
	pid = start_senders(self->netns, families, ports, n, cong);
	ASSERT_LE(0, pid);
	for (i = 0; i < n; i++) {
		fd[i] = accept(lfd[i], NULL, NULL);
		ASSERT_LE(0, fd[i]);
		ASSERT_EQ(0, set_nonblock(fd[i], 1));
		pfd[i].fd = fd[i];
		pfd[i].events = POLLIN;
		close(lfd[i]);
	}
	while (!measuring || sum < measure) {
		ASSERT_LT(0, poll(pfd, n, 60000)) TH_LOG("no data for 60 s");
		for (i = 0; i < n; i++) {
			ssize_t got_now = recv(fd[i], buf, sizeof(buf), 0);

			if (got_now < 0 && errno == EAGAIN)
				continue;
			ASSERT_LT(0, got_now) TH_LOG("flow %d: %s", i,
						     strerror(errno));
			total[i] += got_now;
			if (measuring)
				sum += got_now;
		}
		if (!measuring) {
			for (i = 0; i < n && total[i] >= warmup; i++)
				;
			if (i == n) {
				measuring = true;
				memcpy(base, total, sizeof(base));
			}
		}
	}
	for (i = 0; i < n; i++) {
		got[i] = total[i] - base[i];
		close(fd[i]);	/* unread data: an RST ends the sender */
	}
	kill(pid, SIGKILL);
	wait_child(pid);
}

/*
 * Bytes the flows deliver together while one measurement counts their
 * shares: 27 s at 40 Mbit/s, some hundred Reno loss epochs.
 */
#define SHARE_MEASURE	(128 * MiB)

/* Smaller over larger of two shares. */
static double share_ratio(const uint64_t *got)
{
	uint64_t lo = got[0] < got[1] ? got[0] : got[1];
	uint64_t hi = got[0] < got[1] ? got[1] : got[0];

	return hi ? (double)lo / hi : 0;
}

/*
 * Whether the median of @runs share measurements (1 or 3) reaches
 * @min_ratio. Once they agree on it, the rest do not run. Each
 * measurement's figures are logged.
 */
static bool median_share_reaches(struct __test_metadata *_metadata,
				 FIXTURE_DATA(stack) *self,
				 const int *families, const char *cong,
				 int runs, double min_ratio)
{
	int run, met = 0, need = runs / 2 + 1;

	for (run = 0; run < runs && met < need && run - met < need; run++) {
		uint64_t got[MAX_FLOWS];

		shared_link_shares(_metadata, self, families, MAX_FLOWS, cong,
				   xtcp_scaled(2 * MiB, 512 * KiB),
				   xtcp_scaled(SHARE_MEASURE, 8 * MiB), got);
		if (_metadata->skip)
			return false;
		TH_LOG("run %d: %s %llu bytes, %s %llu: ratio %.2f", run + 1,
		       families[0] == AF_INET ? "tcp" : "xtcp",
		       (unsigned long long)got[0],
		       families[1] == AF_INET ? "tcp" : "xtcp",
		       (unsigned long long)got[1], share_ratio(got));
		met += share_ratio(got) >= min_ratio;
		/* A slow kernel measures a few epochs only, and the CPU. */
		if (kernel_too_slow_for_shapes())
			SKIP(return false,
			     "XTCP_SCALE > 1: a slow kernel, shares not judged");
	}
	return met >= need;
}

/*
 * Two Reno flows of one stack through the shared bottleneck: additive
 * increase and multiplicative decrease bring them within 20% of each other
 * (at 20 Mbit/s: native 0.92, 0.88 and 0.95, xtcp 0.98, 0.97 and 0.94 over
 * 128 MiB; at 40 Mbit/s: native 0.99 and 1.00, xtcp 0.93 and 0.96). One
 * measurement is noisy whatever the stack: native came to 0.71 once over
 * 64 MiB and below 0.8 over 128 MiB in stop 30's CI (drop-tail phase
 * effects, the CPU under TCG), and over 64 MiB both stacks came near 0.8
 * (native 0.89 and 0.86, xtcp 0.79 and 0.84): the median of three of
 * 128 MiB judges. Not CUBIC, whose epochs last seconds: two native CUBIC
 * flows came to 0.78-0.84 over 20 s before the ACK path had jitter;
 * BENCHMARKS.md has CUBIC's figures.
 */
TEST_F_TIMEOUT(stack, veth_two_reno_flows_share_link_within_20pct, 900)
{
	int families[MAX_FLOWS] = { self->family, self->family };
	bool fair = median_share_reaches(_metadata, self, families, "reno",
					 3, 0.8);

	if (_metadata->skip)
		return;
	ASSERT_TRUE(fair) TH_LOG("median share ratio below 0.8");
}

/*
 * One flow of the stack under test against one native TCP flow (CUBIC,
 * the default) on the same bottleneck; on native TCP two native flows.
 * Neither gets less than half the other's share (native against native:
 * 0.88 and 0.93 in two runs at 20 Mbit/s, 0.82 at 40; xtcp against native
 * 1.00 and 0.93, 0.83 at 40); the ratio is also in BENCHMARKS.md.
 */
TEST_F_TIMEOUT(stack, veth_flow_against_native_cubic_within_2x, 900)
{
	int families[MAX_FLOWS] = { self->family, AF_INET };
	/* Far from the bound (0.82 to 1.00): one measurement judges. */
	bool fair = median_share_reaches(_metadata, self, families, NULL,
					 1, 0.5);

	if (_metadata->skip)
		return;
	ASSERT_TRUE(fair) TH_LOG("median share ratio below 0.5");
}

/* ---- HyStart: slow start ends on the queue's delay ------------------- */

/*
 * The bottleneck for HyStart: 20 Mbit/s with a queue of 200 ms (500 KB),
 * some 350 segments with the path's 5-6 ms: the 4 ms of delay HyStart
 * waits for is a small part of it.
 */
#define HYSTART_LINK_MBIT	20
#define HYSTART_QUEUE_MS	200
#define HYSTART_DETECT	"/sys/module/tcp_cubic/parameters/hystart_detect"

/*
 * The sender when slow start ended (ssthresh fell below "infinite" for
 * good), and the counters.
 */
struct slow_start_exit {
	struct tcp_info exit;
	bool ended;
	int64_t exits_before, exits_after;	/* HyStart's delay exits */
	int64_t undos;		/* recoveries undone by the exit */
};

/*
 * Send @len bytes with CUBIC from TAG-1 into the bottleneck of netns.sh
 * routed, sampling the sender's TCP_INFO about once a millisecond. Both
 * stacks report native's 0x7fffffff as ssthresh in slow start, and again
 * after a recovery undone (a reordering taken for a loss): slow start
 * ended at the first sample after the last such one.
 */
static void cubic_slow_start(struct __test_metadata *_metadata,
			     FIXTURE_DATA(stack) *self, uint64_t len,
			     struct slow_start_exit *se)
{
	struct sender snd = { .len = len };
	struct tcp_info ti;
	pthread_t thread;
	uint16_t port;
	pid_t pid;
	int r;

	snprintf(self->netns, sizeof(self->netns), "xtcp%d", getpid());
	r = run_cmd("'%s/netns.sh' routed %s %dmbit %d", self_dir(),
		    self->netns, HYSTART_LINK_MBIT, HYSTART_QUEUE_MS);
	if (r == 2 && !getenv("XTCP_REQUIRE_NETEM"))
		SKIP(return, "tbf not available (sch_tbf)");
	ASSERT_EQ(0, r);
	pid = start_server_on(_metadata, self, ROUTED_SERVER_IP, serve_verify,
			      len, &port);
	snd.fd = client_connect_to(_metadata, self, ROUTED_SERVER_IP, port);
	ASSERT_EQ(0, setsockopt(snd.fd, IPPROTO_TCP, TCP_CONGESTION, "cubic",
				strlen("cubic")));
	/* TAG-1's counters, where the sender is. */
	se->exits_before = stack_counter(self->family, "TCPHystartDelayDetect",
					 "XtcpHystartDelayExits");
	ASSERT_LE(0, se->exits_before);
	ASSERT_EQ(0, pthread_create(&thread, NULL, send_thread, &snd));
	for (;;) {
		if (get_tcp_info(snd.fd, &ti) || ti.tcpi_state == 7 ||
		    (atomic_load(&snd.done) && ti.tcpi_bytes_acked > len))
			break;	/* 7: TCP_CLOSE, the connection failed */
		if (ti.tcpi_snd_ssthresh >= INFINITE_SSTHRESH) {
			se->ended = false;
		} else if (!se->ended) {
			se->exit = ti;
			se->ended = true;
			se->undos = undos(self->family);
		}
		msleep(1);
	}
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ((ssize_t)snd.len, snd.sent);
	ASSERT_SERVER_OK(pid);
	close(snd.fd);
	se->exits_after = stack_counter(self->family, "TCPHystartDelayDetect",
					"XtcpHystartDelayExits");
}

/*
 * HyStart's delay exit (RFC 9406; Linux's tcp_cubic): CUBIC leaves slow
 * start once the round trip has grown by max(4 ms, min RTT / 8) over the
 * queue its window builds, before the queue overflows. One flow into a
 * queue far larger than that: the delay exit is counted, and when
 * ssthresh is first set no loss is being repaired (the state is Open) and
 * the window, which ssthresh is at the exit, fits into the path's BDP and
 * queue: nothing can have been dropped. Exit windows in fourteen runs, of
 * some 350 segments the path holds: native 123 to 230 (median 128), xtcp
 * 95 to 128 (median 112).
 *
 * Not "nothing retransmitted": by its exit at 214 native had resent 3
 * segments, and xtcp 2 by its at 95, each with ssthresh the window and no
 * recovery under way, so not for a loss the queue made (a reordering
 * taken for one and undone would do it).
 *
 * Native also ends slow start on a train of ACKs spanning half the min
 * RTT (TCPHystartTrainDetect), which xtcp does not do: native is set to
 * the delay rule alone (hystart_detect 2) for the case, so that both are
 * judged by the one rule.
 */
TEST_F_TIMEOUT(stack, veth_cubic_hystart_leaves_slow_start_on_delay, 300)
{
	struct slow_start_exit se = {};
	uint64_t path_segs;

	if (kernel_too_slow_for_shapes())
		SKIP(return, "XTCP_SCALE > 1: a slow kernel, see above");
	if (self->family == AF_INET)
		ASSERT_EQ(0, set_host_setting(self, HYSTART_DETECT, "2"));
	cubic_slow_start(_metadata, self, 2 * MiB, &se);
	if (_metadata->skip)
		return;
	ASSERT_TRUE(se.ended) TH_LOG("slow start never ended");
	/* Bytes at the link's rate over the min RTT and the queue. */
	path_segs = (uint64_t)HYSTART_LINK_MBIT * 1000000 / 8 *
		    (se.exit.tcpi_min_rtt + HYSTART_QUEUE_MS * 1000) /
		    1000000 / se.exit.tcpi_snd_mss;
	TH_LOG("exit: ssthresh %u cwnd %u (path %llu segments), %u in flight, state %u",
	       se.exit.tcpi_snd_ssthresh, se.exit.tcpi_snd_cwnd,
	       (unsigned long long)path_segs, se.exit.tcpi_unacked,
	       se.exit.tcpi_ca_state);
	TH_LOG("srtt %u us, min RTT %u us, %u retransmitted, %lld undone recoveries; delay exits %lld",
	       se.exit.tcpi_rtt, se.exit.tcpi_min_rtt,
	       se.exit.tcpi_total_retrans, (long long)se.undos,
	       (long long)(se.exits_after - se.exits_before));
	ASSERT_LT(se.exits_before, se.exits_after)
		TH_LOG("no HyStart delay exit counted");
	/* Disorder: native's state on SACKs alone, no recovery begun. */
	ASSERT_GE(TCP_CA_Disorder, se.exit.tcpi_ca_state)
		TH_LOG("slow start ended by a loss");
	ASSERT_GE(path_segs, se.exit.tcpi_snd_ssthresh)
		TH_LOG("the window at the exit overflows the queue");
}

struct range_sender {
	int fd;
	uint64_t off, len;
	bool fin;		/* shutdown(SHUT_WR) after the range */
	atomic_int done;
	int ok;
};

/* Bytes [off, off + len) of pattern 1. */
static void *send_range_thread(void *arg)
{
	struct range_sender *r = arg;
	static uint8_t buf[64 * KiB];
	uint64_t done = 0;

	r->ok = 1;
	while (done < r->len) {
		size_t n = r->len - done < sizeof(buf) ? r->len - done :
							 sizeof(buf);

		pattern_fill(buf, n, r->off + done, 1);
		if (send_all(r->fd, buf, n) != (ssize_t)n) {
			r->ok = 0;
			break;
		}
		done += n;
	}
	if (r->fin)
		shutdown(r->fd, SHUT_WR);
	atomic_store(&r->done, 1);
	return NULL;
}

/*
 * The link goes down for 3 s in the middle of a transfer, then back up:
 * the retransmission timer carries the connection over the gap. The
 * first half is through before the cut, the second is sent into it.
 */
TEST_F_TIMEOUT(stack, veth_link_down_3s_mid_transfer, 1800)
{
	uint64_t len = xtcp_scaled(16 * MiB, 2 * MiB);
	struct range_sender first = { .off = 0, .len = len / 2 };
	struct range_sender second = { .off = len / 2, .len = len / 2,
				       .fin = true };
	struct tcp_info ti;
	pthread_t thread;
	uint16_t port;
	pid_t pid;
	int fd, i;

	topology_up(_metadata, self, 0);
	pid = start_server(_metadata, self, serve_verify, len, &port);
	fd = client_connect(_metadata, self, port);
	first.fd = second.fd = fd;
	/* First half, then wait until it is all ACKed. */
	ASSERT_EQ(0, pthread_create(&thread, NULL, send_range_thread, &first));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_TRUE(first.ok);
	for (i = 0; i < WAIT_MS; i++) {
		ASSERT_EQ(0, get_tcp_info(fd, &ti));
		if (ti.tcpi_bytes_acked > len / 2)
			break;
		msleep(1);
	}
	/* A first half still in flight would blur what the outage did. */
	ASSERT_EQ(len / 2, ti.tcpi_bytes_acked - 1);
	ASSERT_EQ(0, run_cmd("ip -n %s-2 link set veth2 down", self->netns));
	ASSERT_EQ(0, pthread_create(&thread, NULL, send_range_thread, &second));
	msleep(3000);
	ASSERT_EQ(0, get_tcp_info(fd, &ti));
	TH_LOG("%llu of %llu bytes ACKed while the link was down; retransmits %u, backoff %u",
	       (unsigned long long)ti.tcpi_bytes_acked - 1,
	       (unsigned long long)len, ti.tcpi_retransmits, ti.tcpi_backoff);
	/* The first half (and the SYN), not a byte of the second. */
	ASSERT_EQ(len / 2, ti.tcpi_bytes_acked - 1);
	/*
	 * 3 s without an ACK: the timer (200 ms and up) fired and backed
	 * off at least twice (native, TCG: backoff 3).
	 */
	ASSERT_LE(2, ti.tcpi_backoff);
	ASSERT_EQ(0, run_cmd("ip -n %s-2 link set veth2 up", self->netns));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_TRUE(second.ok);
	ASSERT_SERVER_OK(pid);
	close(fd);
}

/* Send one byte, then close first: the connection's TIME_WAIT is ours. */
static int serve_close_first(int fd, uint64_t len)
{
	(void)len;
	if (send(fd, "x", 1, 0) != 1)
		return SRV_IO;
	return close(fd) ? SRV_IO : SRV_OK;
}

/*
 * A namespace is deleted while it holds a TIME_WAIT entry (the server's
 * there closed first). The entry must not keep the namespace: it is
 * dismantled at once, and with it the veth pair, whose end in TAG-1 (our
 * namespace) goes. Native's entries hold no reference and are purged;
 * xtcp's held one for their 60 s. Native takes well under a second.
 */
TEST_F_TIMEOUT(stack, veth_deleted_namespace_not_kept_by_time_wait, 120)
{
	struct tcp_info ti;
	char c;
	int64_t start, waited;
	uint16_t port;
	pid_t pid;
	int fd, i;

	topology_up(_metadata, self, 0);
	pid = start_server(_metadata, self, serve_close_first, 0, &port);
	fd = client_connect(_metadata, self, port);
	ASSERT_EQ(1, recv(fd, &c, 1, MSG_WAITALL));
	ASSERT_EQ(0, recv(fd, &c, 1, 0));
	ASSERT_SERVER_OK(pid);
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	/* Our LAST_ACK is answered: the server's side is in TIME_WAIT. */
	for (i = 0; i < WAIT_MS; i++) {
		ASSERT_EQ(0, get_tcp_info(fd, &ti));
		if (ti.tcpi_state == 7)
			break;
		msleep(1);
	}
	ASSERT_EQ(7, ti.tcpi_state);
	close(fd);
	ASSERT_EQ(0, enter_host(self, 2));
	EXPECT_EQ(1, sockets_in_state(self->family, 6));	/* TIME_WAIT */
	ASSERT_EQ(0, enter_host(self, 1));
	ASSERT_NE(0U, if_nametoindex("veth1"));

	ASSERT_EQ(0, run_cmd("ip netns del %s-2", self->netns));
	start = mono_ms();
	while (if_nametoindex("veth1") && mono_ms() - start < 90000)
		msleep(10);
	waited = mono_ms() - start;
	TH_LOG("the deleted namespace's veth went after %lld ms",
	       (long long)waited);
	ASSERT_GE(5000, waited);
}

/*
 * An orphan reset while its queue drains is gone at once. The client
 * closes with its send buffer full (SO_SNDBUF 1 MiB, to net.core.wmem_max:
 * 400 KiB or more queued; FIN_WAIT1, its kernel still sending through
 * veth1's qdisc), the server reads 64 to 256 KiB of it and closes with the
 * rest unread. Its RST may find the orphan owned by whatever sends for it
 * (xtcp: the small-queue work) and wait in the orphan's backlog, which
 * that owner then runs: ending the connection there must not drop the
 * orphan's last reference under it. Both stacks, every round: no
 * FIN_WAIT1 socket left in TAG-1 1 s after the server's close. 200
 * rounds (40 on the debug kernel), 25 ms each on the stock kernel.
 */
TEST_F_TIMEOUT(stack, veth_orphan_reset_while_draining_is_gone_at_once, 600)
{
	int rounds = xtcp_scaled(200, 40), i, lfd, cli, srv, ms, left = -1;
	static char sink[256 * KiB];
	char buf[16 * KiB] = { 0 };
	uint16_t port = 0;
	ssize_t got;

	topology_up(_metadata, self, 0);
	ASSERT_EQ(0, enter_host(self, 2));
	lfd = stack_listen(self->family, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, enter_host(self, 1));
	for (i = 0; i < rounds; i++) {
		cli = stack_connect(self->family, SERVER_IP, port);
		ASSERT_LE(0, cli);
		srv = accept(lfd, NULL, NULL);
		ASSERT_LE(0, srv);
		ASSERT_EQ(0, setsockopt_int(cli, SOL_SOCKET, SO_SNDBUF, MiB));
		ASSERT_EQ(0, set_nonblock(cli, 1));
		while (send(cli, buf, sizeof(buf), MSG_NOSIGNAL) > 0)
			;
		ASSERT_EQ(EAGAIN, errno);
		close(cli);
		got = recv_all(srv, sink, (i % 4 + 1) * 64 * KiB);
		ASSERT_EQ((ssize_t)(i % 4 + 1) * 64 * KiB, got);
		close(srv);
		for (ms = 0; ms <= 1000; ms += 10) {
			left = sockets_in_state(self->family, 4);
			if (left == 0)
				break;
			msleep(10);
		}
		ASSERT_EQ(0, left) {
			TH_LOG("round %d: the orphan outlived its reset", i);
		}
	}
	close(lfd);
}

TEST_HARNESS_MAIN
