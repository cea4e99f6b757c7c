// SPDX-License-Identifier: GPL-2.0
/*
 * getsockopt(TCP_INFO), the choice of congestion control (TCP_CONGESTION,
 * the default's sysctl), the SACK and timestamps sysctls and TCP_CORK, seen
 * through TCP_INFO's counters, and the socket table in /proc/net (tcp, or
 * xtcp in the same format), read the same way from both stacks: native TCP
 * says what the fields and the errors must be.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <linux/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stack.h"

#define TRANSFER	(256 * KiB)
#define SOL_TCP		IPPROTO_TCP	/* <linux/tcp.h> has no SOL_ names */
/* Socket states as tcpi_state gives them (<netinet/tcp.h> clashes). */
#define ST_ESTABLISHED	1
#define ST_LISTEN	10

static const char *cong_sysctl(int family)
{
	return family == AF_INET ?
	       "/proc/sys/net/ipv4/tcp_congestion_control" :
	       "/proc/sys/net/xtcp/congestion_control";
}

/* First word of a sysctl file into buf; 0 or -1. */
static int read_sysctl(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%15s", buf) == 1;
	fclose(f);
	(void)size;
	return ok ? 0 : -1;
}

static int get_cong(int fd, char name[16])
{
	socklen_t len = 16;

	memset(name, 0, 16);
	return getsockopt(fd, SOL_TCP, TCP_CONGESTION, name, &len);
}

static int set_cong(int fd, const char *name)
{
	return setsockopt(fd, SOL_TCP, TCP_CONGESTION, name, strlen(name));
}

TEST_F(stack, tcp_info_after_transfer)
{
	struct tcp_info ci, si;
	uint8_t *buf;
	int cli, srv, mss;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	buf = calloc(1, TRANSFER);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ((ssize_t)TRANSFER, send_all(cli, buf, TRANSFER));
	ASSERT_EQ((ssize_t)TRANSFER, recv_all(srv, buf, TRANSFER));
	free(buf);
	ASSERT_EQ(0, wait_outq(cli, 0, WAIT_MS));
	ASSERT_EQ(0, get_tcp_info(cli, &ci));
	ASSERT_EQ(0, get_tcp_info(srv, &si));
	ASSERT_EQ(0, getsockopt_int(cli, SOL_TCP, TCP_MAXSEG, &mss));

	ASSERT_EQ(ST_ESTABLISHED, ci.tcpi_state);
	ASSERT_EQ(ST_ESTABLISHED, si.tcpi_state);
	ASSERT_EQ(TCP_CA_Open, ci.tcpi_ca_state);
	ASSERT_EQ((uint32_t)mss, ci.tcpi_snd_mss);
	ASSERT_LT(0U, si.tcpi_rcv_mss);
	ASSERT_GE(ci.tcpi_snd_mss, si.tcpi_rcv_mss);
	/* The window scale option went both ways. */
	ASSERT_TRUE(ci.tcpi_options & TCPI_OPT_WSCALE);
	ASSERT_TRUE(si.tcpi_options & TCPI_OPT_WSCALE);
	ASSERT_EQ((int)ci.tcpi_snd_wscale, (int)si.tcpi_rcv_wscale);
	ASSERT_EQ((int)ci.tcpi_rcv_wscale, (int)si.tcpi_snd_wscale);
	/* SACK-permitted and timestamps went both ways; nothing was SACKed. */
	ASSERT_TRUE(ci.tcpi_options & TCPI_OPT_SACK);
	ASSERT_TRUE(si.tcpi_options & TCPI_OPT_SACK);
	ASSERT_TRUE(ci.tcpi_options & TCPI_OPT_TIMESTAMPS);
	ASSERT_TRUE(si.tcpi_options & TCPI_OPT_TIMESTAMPS);
	ASSERT_EQ(0U, ci.tcpi_sacked);
	ASSERT_EQ(0U, ci.tcpi_dsack_dups);
	/* RFC 6298 with Linux's 200 ms floor; nothing in flight. */
	ASSERT_LE(200000U, ci.tcpi_rto);
	ASSERT_LT(0U, ci.tcpi_rtt);
	ASSERT_NE(0U, ci.tcpi_min_rtt);
	ASSERT_NE(~0U, ci.tcpi_min_rtt);
	ASSERT_EQ(0U, ci.tcpi_unacked);
	ASSERT_EQ(0U, ci.tcpi_lost);
	ASSERT_EQ(0U, ci.tcpi_retrans);
	ASSERT_EQ(0U, ci.tcpi_total_retrans);
	ASSERT_EQ(0U, ci.tcpi_notsent_bytes);
	ASSERT_LE(10U, ci.tcpi_snd_cwnd);	/* RFC 6928 initial window */
	ASSERT_LT(0U, ci.tcpi_snd_wnd);
	/* Byte counts: the SYN takes one sequence number. */
	ASSERT_EQ((uint64_t)TRANSFER + 1, ci.tcpi_bytes_acked);
	ASSERT_EQ((uint64_t)TRANSFER, si.tcpi_bytes_received);
	ASSERT_EQ(0ULL, ci.tcpi_bytes_received);
	ASSERT_LE((uint64_t)TRANSFER, ci.tcpi_bytes_sent);
	ASSERT_EQ(0ULL, ci.tcpi_bytes_retrans);
	ASSERT_LE(1U, ci.tcpi_data_segs_out);
	ASSERT_LE(ci.tcpi_data_segs_out, ci.tcpi_segs_out);
	ASSERT_LE(1U, si.tcpi_data_segs_in);
	ASSERT_LE(si.tcpi_data_segs_in, si.tcpi_segs_in);
	ASSERT_EQ(0U, ci.tcpi_data_segs_in);
	close(cli);
	close(srv);
}

TEST_F(stack, tcp_info_listener_and_lengths)
{
	struct pollfd pfd = { .events = POLLIN };
	char big[sizeof(struct tcp_info) + 64];
	struct tcp_info ti;
	socklen_t len;
	uint16_t port;
	int lfd, cli;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	pfd.fd = lfd;
	cli = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, cli);
	/* A listener reports its accept queue and the queue's bound. */
	ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS));
	ASSERT_EQ(0, get_tcp_info(lfd, &ti));
	ASSERT_EQ(ST_LISTEN, ti.tcpi_state);
	ASSERT_EQ(1U, ti.tcpi_unacked);
	ASSERT_EQ(16U, ti.tcpi_sacked);	/* stack_listen's backlog */

	/* A short buffer gets the struct's head and the shortened length. */
	memset(&ti, 0x7f, sizeof(ti));
	len = 1;
	ASSERT_EQ(0, getsockopt(cli, SOL_TCP, TCP_INFO, &ti, &len));
	ASSERT_EQ(1U, len);
	ASSERT_EQ(ST_ESTABLISHED, ti.tcpi_state);
	ASSERT_EQ(0x7f, ti.tcpi_ca_state);
	/* A longer one is cut to the struct (the kernel's: it grows). */
	len = sizeof(big);
	ASSERT_EQ(0, getsockopt(cli, SOL_TCP, TCP_INFO, big, &len));
	ASSERT_LE(offsetof(struct tcp_info, tcpi_snd_wnd) + 4, len);
	ASSERT_GT(sizeof(big), len);
	len = -1;
	ASSERT_EQ(-1, getsockopt(cli, SOL_TCP, TCP_INFO, &ti, &len));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, getsockopt(cli, SOL_TCP, TCP_INFO, &ti, NULL));
	ASSERT_EQ(EFAULT, errno);
	close(cli);
	close(lfd);
}

TEST_F(stack, tcp_congestion_get_set)
{
	char name[16], def[16], big[64];
	socklen_t len;
	int fd;

	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	/* A new socket takes the default, cubic unless changed. */
	ASSERT_EQ(0, read_sysctl(cong_sysctl(self->family), def, sizeof(def)));
	ASSERT_EQ(0, get_cong(fd, name));
	ASSERT_STREQ(def, name);

	ASSERT_EQ(0, set_cong(fd, "reno"));
	ASSERT_EQ(0, get_cong(fd, name));
	ASSERT_STREQ("reno", name);
	ASSERT_EQ(0, set_cong(fd, "cubic"));
	ASSERT_EQ(0, get_cong(fd, name));
	ASSERT_STREQ("cubic", name);

	/* The name is optlen bytes, with or without a NUL. */
	ASSERT_EQ(0, setsockopt(fd, SOL_TCP, TCP_CONGESTION, "renoXYZ", 4));
	ASSERT_EQ(0, get_cong(fd, name));
	ASSERT_STREQ("reno", name);

	ASSERT_EQ(-1, set_cong(fd, "no-such-cc"));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(-1, setsockopt(fd, SOL_TCP, TCP_CONGESTION, "reno", 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, get_cong(fd, name));
	ASSERT_STREQ("reno", name);

	/* Reads are cut to the buffer, and to 16 bytes. */
	memset(name, 'x', sizeof(name));
	len = 2;
	ASSERT_EQ(0, getsockopt(fd, SOL_TCP, TCP_CONGESTION, name, &len));
	ASSERT_EQ(2U, len);
	ASSERT_EQ(0, memcmp(name, "rex", 3));
	len = sizeof(big);
	ASSERT_EQ(0, getsockopt(fd, SOL_TCP, TCP_CONGESTION, big, &len));
	ASSERT_EQ(16U, len);
	ASSERT_STREQ("reno", big);
	close(fd);
}

/* A listener's choice passes to the connections it accepts. */
TEST_F(stack, tcp_congestion_inherited_by_accepted)
{
	char name[16];
	uint16_t port;
	int lfd, cli, srv;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, set_cong(lfd, "reno"));
	cli = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, cli);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, get_cong(srv, name));
	ASSERT_STREQ("reno", name);
	/* The switch mid-connection keeps the data flowing. */
	ASSERT_EQ(0, set_cong(cli, "reno"));
	ASSERT_EQ(3, send(cli, "abc", 3, 0));
	ASSERT_EQ(0, set_cong(cli, "cubic"));
	ASSERT_EQ(3, send(cli, "def", 3, 0));
	ASSERT_EQ(6, recv(srv, name, 6, MSG_WAITALL));
	ASSERT_EQ(0, memcmp(name, "abcdef", 6));
	close(cli);
	close(srv);
	close(lfd);
}

/* The sysctl picks the algorithm of new sockets and refuses unknown names. */
TEST_F(stack, tcp_congestion_default_sysctl)
{
	const char *path = cong_sysctl(self->family);
	char def[16], name[16];
	int fd;

	ASSERT_EQ(0, read_sysctl(path, def, sizeof(def)));
	ASSERT_EQ(ENOENT, write_sysctl(path, "no-such-cc"));
	ASSERT_EQ(0, write_sysctl(path, "reno"));
	fd = stack_socket(self->family);
	ASSERT_EQ(0, write_sysctl(path, def));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, get_cong(fd, name));
	ASSERT_STREQ("reno", name);
	close(fd);
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, get_cong(fd, name));
	ASSERT_STREQ(def, name);
	close(fd);
}

static const char *option_sysctl(int family, const char *name)
{
	static char path[64];

	snprintf(path, sizeof(path), family == AF_INET ?
		 "/proc/sys/net/ipv4/tcp_%s" : "/proc/sys/net/xtcp/%s", name);
	return path;
}

/*
 * With the sysctl @name at 0 the SYN does not offer the option @bit, and
 * neither end uses it; at its default again, both do.
 */
static void option_off_not_negotiated(struct __test_metadata *_metadata,
				      int family, const char *name,
				      uint8_t bit)
{
	const char *path = option_sysctl(family, name);
	struct tcp_info ci, si;
	int cli, srv, r;
	char def[16];

	ASSERT_EQ(0, read_sysctl(path, def, sizeof(def)));
	ASSERT_EQ(0, write_sysctl(path, "0"));
	r = stack_pair(family, &cli, &srv);
	ASSERT_EQ(0, write_sysctl(path, def));
	ASSERT_EQ(0, r);
	ASSERT_EQ(0, get_tcp_info(cli, &ci));
	ASSERT_EQ(0, get_tcp_info(srv, &si));
	ASSERT_FALSE(ci.tcpi_options & bit);
	ASSERT_FALSE(si.tcpi_options & bit);
	ASSERT_TRUE(ci.tcpi_options & TCPI_OPT_WSCALE);
	close(cli);
	close(srv);
	ASSERT_EQ(0, stack_pair(family, &cli, &srv));
	ASSERT_EQ(0, get_tcp_info(cli, &ci));
	ASSERT_EQ(0, get_tcp_info(srv, &si));
	ASSERT_TRUE(ci.tcpi_options & bit);
	ASSERT_TRUE(si.tcpi_options & bit);
	close(cli);
	close(srv);
}

TEST_F(stack, tcp_sack_sysctl_off_not_negotiated)
{
	option_off_not_negotiated(_metadata, self->family, "sack",
				  TCPI_OPT_SACK);
}

/* RFC 7323: without timestamps every segment has 12 bytes more room. */
TEST_F(stack, tcp_timestamps_sysctl_off_not_negotiated)
{
	option_off_not_negotiated(_metadata, self->family, "timestamps",
				  TCPI_OPT_TIMESTAMPS);
}

/* Data segments @fd has sent (TCP_INFO), -1 on error. */
static int64_t data_segs_out(int fd)
{
	struct tcp_info ti;

	if (get_tcp_info(fd, &ti))
		return -1;
	return ti.tcpi_data_segs_out;
}

/*
 * TCP_CORK holds partial segments, even with TCP_NODELAY, until the cork
 * comes off: ten small writes leave as one segment.
 */
TEST_F(stack, tcp_cork_coalesces_small_writes)
{
	char buf[1000];
	int64_t segs0, segs1;
	int cli, srv, v, i;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(0, getsockopt_int(cli, SOL_TCP, TCP_CORK, &v));
	ASSERT_EQ(0, v);
	ASSERT_EQ(0, setsockopt_int(cli, SOL_TCP, TCP_NODELAY, 1));
	ASSERT_EQ(0, setsockopt_int(cli, SOL_TCP, TCP_CORK, 5));
	ASSERT_EQ(0, getsockopt_int(cli, SOL_TCP, TCP_CORK, &v));
	ASSERT_EQ(1, v);
	memset(buf, 'c', sizeof(buf));
	segs0 = data_segs_out(cli);
	ASSERT_LE(0, segs0);
	for (i = 0; i < 10; i++)
		ASSERT_EQ(100, send(cli, buf + 100 * i, 100, 0));
	ASSERT_EQ(0, setsockopt_int(cli, SOL_TCP, TCP_CORK, 0));
	ASSERT_EQ((ssize_t)sizeof(buf), recv(srv, buf, sizeof(buf), MSG_WAITALL));
	segs1 = data_segs_out(cli);
	TH_LOG("%lld data segments for ten corked writes",
	       (long long)(segs1 - segs0));
	ASSERT_LE(1, segs1 - segs0);
	ASSERT_GE(2, segs1 - segs0);
	close(cli);
	close(srv);
}

/* States as /proc/net/tcp writes them. */
#define PROC_ESTABLISHED	0x01U
#define PROC_FIN_WAIT2		0x05U
#define PROC_TIME_WAIT		0x06U
#define PROC_CLOSE_WAIT		0x08U
#define PROC_LISTEN		0x0AU

struct proc_sock {
	unsigned int laddr, lport, raddr, rport, state, tx, rx, timer, uid;
	unsigned long ino;
};

/*
 * The socket table's line (/proc/net/tcp, or /proc/net/xtcp) of the
 * socket on 127.0.0.1 with local port @lport and remote port @rport: 0,
 * or -1 if there is none.
 */
static int proc_sock_find(int family, unsigned int lport, unsigned int rport,
			  struct proc_sock *ps)
{
	FILE *f = fopen(family == AF_INET ? "/proc/net/tcp" : "/proc/net/xtcp",
			"r");
	char line[512];
	int ret = -1;

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f))	/* the header */
		goto out;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*d: %X:%X %X:%X %X %X:%X %X:%*X %*X %u %*d %lu",
			   &ps->laddr, &ps->lport, &ps->raddr, &ps->rport,
			   &ps->state, &ps->tx, &ps->rx, &ps->timer, &ps->uid,
			   &ps->ino) != 10)
			continue;
		if (ps->laddr == inet_addr("127.0.0.1") &&
		    ps->lport == lport && ps->rport == rport) {
			ret = 0;
			break;
		}
	}
out:
	fclose(f);
	return ret;
}

/* Wait (WAIT_MS at most) for that line to show @state. */
static int proc_sock_wait(int family, unsigned int lport, unsigned int rport,
			  unsigned int state, struct proc_sock *ps)
{
	int i;

	for (i = 0; i < WAIT_MS / 10; i++) {
		if (!proc_sock_find(family, lport, rport, ps) &&
		    ps->state == state)
			return 0;
		msleep(10);
	}
	return -1;
}

static unsigned int local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len))
		return 0;
	return ntohs(sin.sin_port);
}

static unsigned long inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/*
 * The socket table lists a listener (its accept queue as rx_queue), both
 * ends of a connection (unread bytes as rx_queue), and the states of a
 * close: FIN_WAIT2 and CLOSE_WAIT, then TIME_WAIT on the side that closed
 * first; addresses, owner and inode as the sockets have them.
 */
TEST_F(stack, proc_net_lists_sockets_by_state)
{
	struct pollfd pfd = { .events = POLLIN };
	unsigned int lo = inet_addr("127.0.0.1");
	unsigned int port, cport;
	struct proc_sock ps;
	char buf[1000];
	uint16_t p16;
	int lfd, cli, srv;

	lfd = stack_listen(self->family, "127.0.0.1", &p16);
	ASSERT_LE(0, lfd);
	port = p16;
	ASSERT_EQ(0, proc_sock_find(self->family, port, 0, &ps));
	EXPECT_EQ(PROC_LISTEN, ps.state);
	EXPECT_EQ(lo, ps.laddr);
	EXPECT_EQ(0U, ps.raddr);
	EXPECT_EQ(0U, ps.rx);
	EXPECT_EQ(getuid(), ps.uid);
	EXPECT_EQ(inode_of(lfd), ps.ino);

	cli = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, cli);
	cport = local_port(cli);
	pfd.fd = lfd;
	ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS));
	ASSERT_EQ(0, proc_sock_find(self->family, port, 0, &ps));
	EXPECT_EQ(1U, ps.rx);		/* one connection to accept */
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);

	ASSERT_EQ(0, proc_sock_find(self->family, cport, port, &ps));
	EXPECT_EQ(PROC_ESTABLISHED, ps.state);
	EXPECT_EQ(lo, ps.laddr);
	EXPECT_EQ(lo, ps.raddr);
	EXPECT_EQ(inode_of(cli), ps.ino);
	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), send(cli, buf, sizeof(buf), 0));
	ASSERT_EQ((int)sizeof(buf), wait_inq(srv, sizeof(buf), WAIT_MS));
	ASSERT_EQ(0, proc_sock_find(self->family, port, cport, &ps));
	EXPECT_EQ(PROC_ESTABLISHED, ps.state);
	EXPECT_EQ(sizeof(buf), ps.rx);
	EXPECT_EQ(inode_of(srv), ps.ino);
	ASSERT_EQ((ssize_t)sizeof(buf), recv_all(srv, buf, sizeof(buf)));

	/* The client closes first. */
	close(cli);
	ASSERT_EQ(0, recv(srv, buf, 1, 0));
	EXPECT_EQ(0, proc_sock_wait(self->family, cport, port, PROC_FIN_WAIT2,
				    &ps));
	EXPECT_EQ(0, proc_sock_wait(self->family, port, cport,
				    PROC_CLOSE_WAIT, &ps));
	close(srv);
	EXPECT_EQ(0, proc_sock_wait(self->family, cport, port, PROC_TIME_WAIT,
				    &ps));
	EXPECT_EQ(3U, ps.timer);	/* the TIME_WAIT timer */
	close(lfd);
}

TEST_HARNESS_MAIN
