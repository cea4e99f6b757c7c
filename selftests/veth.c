// SPDX-License-Identifier: GPL-2.0
/*
 * Two hosts: network namespaces joined by veth (topology in netns.sh). The
 * client runs in the test process inside TAG-1, the server in a child inside
 * TAG-2, so packets cross a real device path instead of loopback. With netem
 * loss on both ends, transfers must still arrive intact.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tcp.h>

#include "stack.h"

#define SERVER_IP	"10.77.0.2"

/* Server exit codes, reported back through wait_child(). */
enum {
	SRV_OK = 0,
	SRV_SETUP = 10,		/* netns, listen or accept failed */
	SRV_IO,			/* recv/send failed */
	SRV_COUNT,		/* wrong number of bytes */
	SRV_CORRUPT,		/* wrong byte */
	SRV_RCVBUF,		/* the receive buffer did not grow */
};

static const char * const srv_errors[] = {
	[SRV_SETUP] = "setup", [SRV_IO] = "recv/send", [SRV_COUNT] = "count",
	[SRV_CORRUPT] = "corrupt data",
	[SRV_RCVBUF] = "receive buffer did not grow",
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
 * Fork the server into TAG-2; it listens on SERVER_IP, sends the port
 * through a pipe, serves one connection with fn and exits with its code.
 */
static pid_t start_server(struct __test_metadata *_metadata,
			  FIXTURE_DATA(stack) *self, serve_fn fn, uint64_t len,
			  uint16_t *port)
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
		lfd = stack_listen(self->family, SERVER_IP, port);
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

static int client_connect(struct __test_metadata *_metadata,
			  FIXTURE_DATA(stack) *self, uint16_t port)
{
	char ns[48];
	int fd;

	snprintf(ns, sizeof(ns), "%s-1", self->netns);
	ASSERT_EQ(0, enter_netns(ns));
	fd = stack_connect(self->family, SERVER_IP, port);
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(errno));
	return fd;
}

#define ASSERT_SERVER_OK(pid) do {						\
	int st_ = wait_child(pid);						\
	ASSERT_EQ(SRV_OK, st_)							\
		TH_LOG("server failed: %s (%d)", st_ >= SRV_SETUP &&		\
		       st_ <= SRV_RCVBUF ? srv_errors[st_] : "?", st_);	\
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
	fprintf(stderr, "# SO_RCVBUF %d -> %d\n", before, after);
	return after > before ? SRV_OK : SRV_RCVBUF;
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

static void transfer_both_ways(struct __test_metadata *_metadata,
			       FIXTURE_DATA(stack) *self, uint64_t len)
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
	close(fd);
}

TEST_F_TIMEOUT(stack, veth_echo, 120)
{
	char msg[] = "across the veth", buf[sizeof(msg)];
	uint16_t port;
	pid_t pid;
	int fd;

	topology_up(_metadata, self, 0);
	pid = start_server(_metadata, self, serve_echo, 0, &port);
	fd = client_connect(_metadata, self, port);
	ASSERT_EQ((ssize_t)sizeof(msg), send_all(fd, msg, sizeof(msg)));
	ASSERT_EQ((ssize_t)sizeof(msg), recv_all(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(msg, buf, sizeof(msg)));
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_EQ(0, recv(fd, buf, 1, 0));
	ASSERT_SERVER_OK(pid);
	close(fd);
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

static void drop_every(struct __test_metadata *_metadata,
		       FIXTURE_DATA(stack) *self, int nth)
{
	int r = run_cmd("'%s/netns.sh' dropnth %s %d", self_dir(),
			self->netns, nth);

	if (r == 2 && !getenv("XTCP_REQUIRE_NETEM"))
		SKIP(return, "tc ingress with gact not available");
	ASSERT_EQ(0, r);
}

/*
 * One segment lost in the middle of a bulk transfer: the duplicate ACKs
 * that follow trigger a fast retransmit; no retransmission timeout fires.
 */
TEST_F_TIMEOUT(stack, veth_single_loss_fast_retransmit_without_rto, 600)
{
	uint64_t len = 2 * MiB;	/* 1449 segments: only the 1000th is lost */
	int64_t fast0, fast1, rto0, rto1;
	struct tcp_info ti;
	uint16_t port;
	pid_t pid;
	int fd;

	topology_up(_metadata, self, 0);
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' offload %s " SEGMENTED,
			     self_dir(), self->netns));
	drop_every(_metadata, self, 1000);
	pid = start_server(_metadata, self, serve_verify, len, &port);
	fd = client_connect(_metadata, self, port);
	fast0 = stack_counter(self->family, "TCPFastRetrans", "XtcpFastRetrans");
	rto0 = stack_counter(self->family, "TCPTimeouts", "XtcpRtoTimeouts");
	ASSERT_LE(0, fast0);
	ASSERT_LE(0, rto0);
	ASSERT_EQ((ssize_t)len, send_pattern(fd, len, 1));
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_SERVER_OK(pid);
	ASSERT_EQ(0, get_tcp_info(fd, &ti));
	fast1 = stack_counter(self->family, "TCPFastRetrans", "XtcpFastRetrans");
	rto1 = stack_counter(self->family, "TCPTimeouts", "XtcpRtoTimeouts");
	TH_LOG("fast retransmits %lld, timeouts %lld, total_retrans %u",
	       (long long)(fast1 - fast0), (long long)(rto1 - rto0),
	       ti.tcpi_total_retrans);
	ASSERT_LE(1U, ti.tcpi_total_retrans);
	ASSERT_LT(fast0, fast1);
	ASSERT_EQ(rto0, rto1);
	ASSERT_EQ(0, ti.tcpi_backoff);
	close(fd);
}

struct cwnd_sample {
	uint32_t cwnd, ssthresh, mss;
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

/*
 * Reno's window, sampled through TCP_INFO while it sends over a 20 ms
 * path that loses every 300th segment: before the first loss cwnd grows
 * by one segment per segment ACKed (doubling each round trip); between
 * losses, by one segment per window ACKed (one per round trip). Growth is
 * measured against ACKed data, not time, so a slow VM cannot fail it.
 */
TEST_F_TIMEOUT(stack, veth_reno_cwnd_exponential_then_linear, 900)
{
	struct cwnd_sample first_ss = {}, last_ss = {}, prev = {}, s;
	struct sender snd = { .len = xtcp_scaled(8 * MiB, 2 * MiB) };
	uint64_t ss_segs, ca_segs = 0;
	int64_t ca_grow = 0;
	double ca_bound = 0;
	bool have_ss = false, have_prev = false;
	int epochs = 0, r;
	struct tcp_info ti;
	pthread_t thread;
	uint16_t port;
	pid_t pid;

	topology_up(_metadata, self, 0);
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' offload %s " SEGMENTED,
			     self_dir(), self->netns));
	r = run_cmd("'%s/netns.sh' netem %s delay 10ms", self_dir(),
		    self->netns);
	if (r == 2 && !getenv("XTCP_REQUIRE_NETEM"))
		SKIP(return, "netem not available (sch_netem)");
	ASSERT_EQ(0, r);
	drop_every(_metadata, self, 300);
	pid = start_server(_metadata, self, serve_verify, snd.len, &port);
	snd.fd = client_connect(_metadata, self, port);
	ASSERT_EQ(0, setsockopt(snd.fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4));
	ASSERT_EQ(0, pthread_create(&thread, NULL, send_thread, &snd));
	while (!atomic_load(&snd.done)) {
		if (get_tcp_info(snd.fd, &ti))
			break;
		s.cwnd = ti.tcpi_snd_cwnd;
		s.ssthresh = ti.tcpi_snd_ssthresh;
		s.mss = ti.tcpi_snd_mss;
		s.ca_state = ti.tcpi_ca_state;
		s.acked = ti.tcpi_bytes_acked;
		if (s.ssthresh >= INFINITE_SSTHRESH) {
			/* Slow start, before any loss. */
			if (!have_ss)
				first_ss = s;
			last_ss = s;
			have_ss = true;
		} else if (in_avoidance(&s) && have_prev && in_avoidance(&prev) &&
			   s.ssthresh == prev.ssthresh) {
			/* Congestion avoidance, between two losses. */
			uint64_t segs = (s.acked - prev.acked) / s.mss;

			ca_segs += segs;
			ca_grow += (int64_t)s.cwnd - prev.cwnd;
			ca_bound += (double)segs / prev.cwnd;
		} else if (in_avoidance(&s)) {
			epochs++;
		}
		prev = s;
		have_prev = true;
		msleep(1);
	}
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ((ssize_t)snd.len, snd.sent);
	ASSERT_SERVER_OK(pid);
	close(snd.fd);

	ASSERT_TRUE(have_ss);
	ss_segs = (last_ss.acked - first_ss.acked) / last_ss.mss;
	TH_LOG("slow start: cwnd %u -> %u over %llu segments ACKed",
	       first_ss.cwnd, last_ss.cwnd, (unsigned long long)ss_segs);
	TH_LOG("avoidance: %d epochs, cwnd +%lld over %llu segments ACKed, one per window: %.1f",
	       epochs, (long long)ca_grow, (unsigned long long)ca_segs,
	       ca_bound);
	/* Exponential: at least doubled, about one segment per segment. */
	ASSERT_LE(2 * first_ss.cwnd, last_ss.cwnd);
	ASSERT_LE(ss_segs, 2 * (uint64_t)(last_ss.cwnd - first_ss.cwnd) + 10);
	/* Linear: grew, by one segment per window, give or take rounding. */
	ASSERT_LE(1, epochs);
	ASSERT_LE(1, ca_grow);
	ASSERT_GE(ca_bound + epochs + 1, (double)ca_grow);
	ASSERT_LE(ca_bound / 2 - epochs - 1, (double)ca_grow);
}

TEST_F_TIMEOUT(stack, veth_netem_loss_5pct_4MiB_each_way, 1200)
{
	topology_up(_metadata, self, 5);
	transfer_both_ways(_metadata, self, xtcp_scaled(4 * MiB, 512 * KiB));
}

TEST_HARNESS_MAIN
