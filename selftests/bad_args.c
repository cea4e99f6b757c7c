// SPDX-License-Identifier: GPL-2.0
/*
 * Misuse of the socket API: every case must fail with exactly the errno
 * native TCP gives (and succeed where native quietly accepts).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stack.h"

static int bind_to(int fd, const char *ip, uint16_t port, sa_family_t fam,
		   socklen_t len)
{
	struct sockaddr_in sin = sin_make(ip, port);

	sin.sin_family = fam;
	return bind(fd, (struct sockaddr *)&sin, len);
}

static int connect_to(int fd, const char *ip, uint16_t port, sa_family_t fam,
		      socklen_t len)
{
	struct sockaddr_in sin = sin_make(ip, port);

	sin.sin_family = fam;
	return connect(fd, (struct sockaddr *)&sin, len);
}

TEST_F(stack, bind_addrlen_too_short)
{
	int fd = stack_socket(self->family);

	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, bind_to(fd, "127.0.0.1", 0, AF_INET,
			      sizeof(struct sockaddr_in) - 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, bind_to(fd, "127.0.0.1", 0, AF_INET, 2));
	ASSERT_EQ(EINVAL, errno);
	close(fd);
}

TEST_F(stack, connect_addrlen_too_short)
{
	uint16_t port;
	int lfd, fd;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, connect_to(fd, "127.0.0.1", port, AF_INET,
				 sizeof(struct sockaddr_in) - 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, connect_to(fd, "127.0.0.1", port, AF_INET, 1));
	ASSERT_EQ(EINVAL, errno);
	/* The socket is still usable. */
	ASSERT_EQ(0, connect_to(fd, "127.0.0.1", port, AF_INET,
				sizeof(struct sockaddr_in)));
	close(fd);
	close(lfd);
}

TEST_F(stack, bind_wrong_family)
{
	int fd = stack_socket(self->family);

	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, bind_to(fd, "127.0.0.1", 0, AF_UNIX,
			      sizeof(struct sockaddr_in)));
	ASSERT_EQ(EAFNOSUPPORT, errno);
	ASSERT_EQ(-1, bind_to(fd, "127.0.0.1", 0, AF_INET6,
			      sizeof(struct sockaddr_in)));
	ASSERT_EQ(EAFNOSUPPORT, errno);
	/* AF_UNSPEC is refused unless the address is INADDR_ANY... */
	ASSERT_EQ(-1, bind_to(fd, "127.0.0.1", 0, AF_UNSPEC,
			      sizeof(struct sockaddr_in)));
	ASSERT_EQ(EAFNOSUPPORT, errno);
	/* ...which old programs rely on, so it binds. */
	ASSERT_EQ(0, bind_to(fd, "0.0.0.0", 0, AF_UNSPEC,
			     sizeof(struct sockaddr_in)));
	close(fd);
}

TEST_F(stack, connect_wrong_family)
{
	uint16_t port;
	int lfd, fd;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, connect_to(fd, "127.0.0.1", port, AF_UNIX,
				 sizeof(struct sockaddr_in)));
	ASSERT_EQ(EAFNOSUPPORT, errno);
	ASSERT_EQ(-1, connect_to(fd, "127.0.0.1", port, AF_INET6,
				 sizeof(struct sockaddr_in)));
	ASSERT_EQ(EAFNOSUPPORT, errno);
	close(fd);
	close(lfd);
}

TEST_F(stack, bind_nonlocal_address)
{
	int fd = stack_socket(self->family);

	ASSERT_LE(0, fd);
	/* TEST-NET-1: never configured here; bind sends nothing. */
	ASSERT_EQ(-1, bind_to(fd, "192.0.2.1", 0, AF_INET,
			      sizeof(struct sockaddr_in)));
	ASSERT_EQ(EADDRNOTAVAIL, errno);
	close(fd);
}

TEST_F(stack, bind_twice)
{
	int fd = stack_socket(self->family);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind_to(fd, "127.0.0.1", 0, AF_INET,
			     sizeof(struct sockaddr_in)));
	ASSERT_EQ(-1, bind_to(fd, "127.0.0.1", 0, AF_INET,
			      sizeof(struct sockaddr_in)));
	ASSERT_EQ(EINVAL, errno);
	close(fd);
}

TEST_F(stack, bind_port_in_use)
{
	uint16_t port;
	int lfd, fd;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, bind_to(fd, "127.0.0.1", port, AF_INET,
			      sizeof(struct sockaddr_in)));
	ASSERT_EQ(EADDRINUSE, errno);
	/* The wildcard address overlaps 127.0.0.1 too. */
	ASSERT_EQ(-1, bind_to(fd, "0.0.0.0", port, AF_INET,
			      sizeof(struct sockaddr_in)));
	ASSERT_EQ(EADDRINUSE, errno);
	/* Even SO_REUSEADDR does not share a listening port. */
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1));
	ASSERT_EQ(-1, bind_to(fd, "127.0.0.1", port, AF_INET,
			      sizeof(struct sockaddr_in)));
	ASSERT_EQ(EADDRINUSE, errno);
	close(fd);
	close(lfd);
}

TEST_F(stack, listen_unbound_autobinds)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = stack_socket(self->family), cli, srv;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, listen(fd, 4));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sin, &len));
	ASSERT_EQ(AF_INET, sin.sin_family);
	ASSERT_EQ(htonl(INADDR_ANY), sin.sin_addr.s_addr);
	ASSERT_NE(0, sin.sin_port);
	cli = stack_connect(self->family, "127.0.0.1", ntohs(sin.sin_port));
	ASSERT_LE(0, cli);
	srv = accept(fd, NULL, NULL);
	ASSERT_LE(0, srv);
	close(srv);
	close(cli);
	close(fd);
}

TEST_F(stack, listen_on_connected_socket)
{
	int cli, srv;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(-1, listen(cli, 4));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, listen(srv, 4));
	ASSERT_EQ(EINVAL, errno);
	close(cli);
	close(srv);
}

TEST_F(stack, accept_on_non_listening_socket)
{
	int fd = stack_socket(self->family), cli, srv;

	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, accept(fd, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, bind_to(fd, "127.0.0.1", 0, AF_INET,
			     sizeof(struct sockaddr_in)));
	ASSERT_EQ(-1, accept(fd, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
	close(fd);

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(-1, accept(cli, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
	close(cli);
	close(srv);
}

TEST_F(stack, connect_twice)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	int cli, srv;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(0, getpeername(cli, (struct sockaddr *)&peer, &len));
	ASSERT_EQ(-1, connect(cli, (struct sockaddr *)&peer, sizeof(peer)));
	ASSERT_EQ(EISCONN, errno);
	close(cli);
	close(srv);
}

TEST_F(stack, connect_on_listener)
{
	uint16_t port;
	int lfd;

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(-1, connect_to(lfd, "127.0.0.1", port, AF_INET,
				 sizeof(struct sockaddr_in)));
	ASSERT_EQ(EISCONN, errno);
	close(lfd);
}

TEST_F(stack, sockopt_unknown_level_or_name)
{
	int fd = stack_socket(self->family), v = 1;
	socklen_t len = sizeof(v);

	ASSERT_LE(0, fd);
	/* Unknown levels fall through to the IP layer, which is asymmetric. */
	ASSERT_EQ(-1, setsockopt_int(fd, 12345, 1, 1));
	ASSERT_EQ(ENOPROTOOPT, errno);
	ASSERT_EQ(-1, getsockopt(fd, 12345, 1, &v, &len));
	ASSERT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(-1, setsockopt_int(fd, SOL_TCP, 9999, 1));
	ASSERT_EQ(ENOPROTOOPT, errno);
	ASSERT_EQ(-1, getsockopt(fd, SOL_TCP, 9999, &v, &len));
	ASSERT_EQ(ENOPROTOOPT, errno);
	ASSERT_EQ(-1, setsockopt_int(fd, SOL_SOCKET, 9999, 1));
	ASSERT_EQ(ENOPROTOOPT, errno);
	ASSERT_EQ(-1, getsockopt(fd, SOL_SOCKET, 9999, &v, &len));
	ASSERT_EQ(ENOPROTOOPT, errno);
	close(fd);
}

TEST_F(stack, sockopt_bad_optlen)
{
	int fd = stack_socket(self->family), v = 0x12345678;
	long long big = -1;
	socklen_t len;

	ASSERT_LE(0, fd);
	/* An int option needs a whole int. */
	ASSERT_EQ(-1, setsockopt(fd, SOL_TCP, TCP_NODELAY, &v, 2));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, 2));
	ASSERT_EQ(EINVAL, errno);

	ASSERT_EQ(-1, getsockopt(fd, SOL_TCP, TCP_NODELAY, &v, NULL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, NULL));
	ASSERT_EQ(EFAULT, errno);
	len = -1;
	ASSERT_EQ(-1, getsockopt(fd, SOL_TCP, TCP_NODELAY, &v, &len));
	ASSERT_EQ(EINVAL, errno);
	len = -1;
	ASSERT_EQ(-1, getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len));
	ASSERT_EQ(EINVAL, errno);

	/* A short buffer gets the low bytes and the shortened length. */
	ASSERT_EQ(0, setsockopt_int(fd, SOL_TCP, TCP_MAXSEG, 0x0505));
	v = 0x7f7f7f7f;
	len = 1;
	ASSERT_EQ(0, getsockopt(fd, SOL_TCP, TCP_MAXSEG, &v, &len));
	ASSERT_EQ(1U, len);
	ASSERT_EQ(0x7f7f7f05, v);
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, 0x10000));
	v = 0x7f7f7f7f;
	len = 2;
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len));
	ASSERT_EQ(2U, len);
	ASSERT_EQ(0x7f7f0000, v);
	/* A larger buffer is cut to the int. */
	len = sizeof(big);
	ASSERT_EQ(0, getsockopt(fd, SOL_TCP, TCP_MAXSEG, &big, &len));
	ASSERT_EQ(sizeof(int), len);
	close(fd);
}

TEST_F(stack, send_recv_null_buffer)
{
	int cli, srv;
	char buf[4];

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(-1, send(cli, NULL, 10, MSG_NOSIGNAL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(4, send(cli, "data", 4, 0));
	ASSERT_EQ(4, wait_inq(srv, 4, WAIT_MS));
	ASSERT_EQ(-1, recv(srv, NULL, 10, 0));
	ASSERT_EQ(EFAULT, errno);
	/* The failed copy consumed nothing. */
	ASSERT_EQ(4, sock_inq(srv));
	ASSERT_EQ(4, recv(srv, buf, sizeof(buf), 0));
	ASSERT_EQ(0, memcmp(buf, "data", 4));
	/* Zero length is no error, even with no buffer. */
	ASSERT_EQ(0, send(cli, NULL, 0, 0));
	close(cli);
	close(srv);
}

TEST_F(stack, io_on_unconnected_socket)
{
	int fd = stack_socket(self->family);
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char c;

	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, send(fd, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(-1, recv(fd, &c, 1, 0));
	ASSERT_EQ(ENOTCONN, errno);
	ASSERT_EQ(-1, getpeername(fd, (struct sockaddr *)&sin, &len));
	ASSERT_EQ(ENOTCONN, errno);
	ASSERT_EQ(-1, shutdown(fd, SHUT_RDWR));
	ASSERT_EQ(ENOTCONN, errno);
	close(fd);
}

TEST_F(stack, shutdown_bad_how)
{
	int cli, srv;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(-1, shutdown(cli, 3));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, shutdown(cli, -1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, shutdown(cli, SHUT_RDWR));
	close(cli);
	close(srv);
}

TEST_F(stack, socket_protocol_argument)
{
	int fd;

	fd = socket(self->family, SOCK_STREAM, IPPROTO_TCP);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(-1, socket(self->family, SOCK_STREAM, IPPROTO_UDP));
	ASSERT_EQ(EPROTONOSUPPORT, errno);
}

/* A send, recv or connect asleep on a socket in a thread of its own. */
struct sleeper {
	int fd;
	char call;		/* 's'end, 'r'ecv or 'c'onnect */
	struct sockaddr_in to;	/* for connect */
	pid_t tid;
	ssize_t ret;
	int err;
};

static void *sleeper_run(void *arg)
{
	static char buf[64 * 1024];
	struct sleeper *s = arg;

	__atomic_store_n(&s->tid, gettid(), __ATOMIC_RELEASE);
	if (s->call == 's')
		s->ret = send(s->fd, buf, sizeof(buf), MSG_NOSIGNAL);
	else if (s->call == 'r')
		s->ret = recv(s->fd, buf, sizeof(buf), 0);
	else
		s->ret = connect(s->fd, (struct sockaddr *)&s->to,
				 sizeof(s->to));
	s->err = errno;
	return NULL;
}

/* 0 once the thread is seen asleep ("S") twice, 100 ms apart. */
static int wait_asleep(struct sleeper *s)
{
	char path[64], line[512], *p;
	int i, seen = 0;
	pid_t tid;
	FILE *f;

	for (i = 0; i < WAIT_MS / 100 && seen < 2; i++) {
		msleep(100);
		tid = __atomic_load_n(&s->tid, __ATOMIC_ACQUIRE);
		if (!tid)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
		f = fopen(path, "r");
		if (!f)
			return -1;	/* it returned already */
		p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
		fclose(f);
		seen = p && p[1] && p[2] == 'S' ? seen + 1 : 0;
	}
	return seen < 2 ? -1 : 0;
}

/*
 * connect(AF_UNSPEC) from another thread fails the call asleep on the
 * socket, as native's sk_disconnects does (Linux 6.6, and 6.1.57 on),
 * rather than let it go on with a connection that is gone: EPIPE, and a
 * send the reset's ECONNRESET (sk_stream_error).
 */
static void disconnect_under(struct __test_metadata *_metadata,
			     struct sleeper *s)
{
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, sleeper_run, s));
	ASSERT_EQ(0, wait_asleep(s))
		TH_LOG("the %c call never slept: %zd, %s", s->call, s->ret,
		       strerror(s->err));
	ASSERT_EQ(0, connect(s->fd, &unspec, sizeof(unspec)));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(-1, s->ret) TH_LOG("the %c call returned %zd", s->call, s->ret);
	EXPECT_EQ(s->call == 's' ? ECONNRESET : EPIPE, s->err)
		TH_LOG("%s", strerror(s->err));
}

/*
 * The send waits for memory behind a full send buffer. Nothing of it is
 * left queued: the socket's next connection carries only its own data.
 */
TEST_F(stack, disconnect_fails_a_send_asleep_for_memory)
{
	struct sleeper s = { .call = 's' };
	char buf[4096] = { 0 };
	uint16_t port;
	int srv, lfd, acc, i;

	/* Small buffers, filled twice: the blocking send copies nothing. */
	lfd = stack_listen_opts(self->family, "127.0.0.1", &port, 4096, 0);
	ASSERT_LE(0, lfd);
	s.fd = stack_connect_opts(self->family, "127.0.0.1", port, 0, 16384);
	ASSERT_LE(0, s.fd);
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	close(lfd);
	ASSERT_EQ(0, set_nonblock(s.fd, 1));
	for (i = 0; i < 2; i++) {
		while (send(s.fd, buf, sizeof(buf), MSG_NOSIGNAL) > 0)
			;
		ASSERT_EQ(EAGAIN, errno);
		msleep(200);
	}
	ASSERT_EQ(0, set_nonblock(s.fd, 0));
	disconnect_under(_metadata, &s);

	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, connect_to(s.fd, "127.0.0.1", port, AF_INET,
				sizeof(struct sockaddr_in)));
	acc = accept(lfd, NULL, NULL);
	ASSERT_LE(0, acc);
	ASSERT_EQ(5, send(s.fd, "fresh", 5, 0));
	ASSERT_EQ(0, shutdown(s.fd, SHUT_WR));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(5, recv_all(acc, buf, sizeof(buf)));
	EXPECT_STREQ("fresh", buf);
	close(acc);
	close(lfd);
	close(srv);
	close(s.fd);
}

TEST_F(stack, disconnect_fails_a_recv_asleep_for_data)
{
	struct sleeper s = { .call = 'r' };
	int srv;

	ASSERT_EQ(0, stack_pair(self->family, &s.fd, &srv));
	disconnect_under(_metadata, &s);
	close(srv);
	close(s.fd);
}

/*
 * The connect waits for a SYN-ACK that never comes: in a namespace of its
 * own 198.51.100.0/24 is on a veth whose peer is down, so the SYN is
 * dropped (the debug kernel has no dummy device); a static neighbour
 * entry keeps ARP out of it.
 */
TEST_F(stack, disconnect_fails_a_connect_asleep_for_the_syn_ack)
{
	struct sleeper s = { .call = 'c' };

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, run_cmd("ip link set lo up && "
			     "ip link add xd0 type veth peer name xd1 && "
			     "ip link set xd0 up && "
			     "ip addr add 198.51.100.1/24 dev xd0 && "
			     "ip neigh add 198.51.100.2 "
			     "lladdr 02:00:00:00:00:02 dev xd0"));
	s.fd = stack_socket(self->family);
	ASSERT_LE(0, s.fd);
	s.to = sin_make("198.51.100.2", 9);
	disconnect_under(_metadata, &s);
	close(s.fd);
}

TEST_HARNESS_MAIN

#define LOW_PORT	900

/*
 * In a child that became nobody (no CAP_NET_BIND_SERVICE): bind() to
 * 127.0.0.1:@port. Exit code 0 if it worked, the errno if it failed (255
 * if the child could not be made nobody or make a socket).
 */
static int bind_as_nobody(int family, uint16_t port)
{
	pid_t pid = fork_child();
	int fd;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534))
			_exit(255);
		fd = stack_socket(family);
		if (fd < 0)
			_exit(255);
		if (bind_to(fd, "127.0.0.1", port, AF_INET,
			    sizeof(struct sockaddr_in)))
			_exit(errno);
		_exit(0);
	}
	return wait_child(pid);
}

/*
 * Ports below net.ipv4.ip_unprivileged_port_start (1024) need
 * CAP_NET_BIND_SERVICE: without it bind() fails with EACCES, as native's
 * inet_bind; the capability is not needed once the namespace lowers the
 * start to the port, and a port above it never needed it.
 */
TEST_F(stack, bind_privileged_port_needs_cap_net_bind_service)
{
	const char *knob = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
	int fd;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, run_cmd("ip link set lo up"));
	ASSERT_EQ(0, write_sysctl_int(knob, 1024));
	EXPECT_EQ(EACCES, bind_as_nobody(self->family, LOW_PORT));
	EXPECT_EQ(0, bind_as_nobody(self->family, 1024));
	/* Root (the capability) binds it. */
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, bind_to(fd, "127.0.0.1", LOW_PORT, AF_INET,
			     sizeof(struct sockaddr_in)));
	close(fd);

	ASSERT_EQ(0, write_sysctl_int(knob, LOW_PORT));
	EXPECT_EQ(0, bind_as_nobody(self->family, LOW_PORT));
	EXPECT_EQ(EACCES, bind_as_nobody(self->family, LOW_PORT - 1));
}

/* Multicast group membership is refused on stream sockets with EPROTO. */
TEST_F(stack, ip_add_membership_eproto)
{
	struct ip_mreq mreq = {
		.imr_multiaddr.s_addr = htonl(0xe0000101),	/* 224.0.1.1 */
		.imr_interface.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = stack_socket(self->family);

	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, setsockopt(fd, SOL_IP, IP_ADD_MEMBERSHIP, &mreq,
				 sizeof(mreq)));
	ASSERT_EQ(EPROTO, errno);
	close(fd);
}

/*
 * connect(AF_UNSPEC) drops the connection and, for a port the kernel chose,
 * the port: the socket can bind anew and listen.
 */
TEST_F(stack, disconnect_then_bind_and_listen)
{
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	struct sockaddr_in sin = sin_make("127.0.0.1", 0);
	int cli, srv;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(0, connect(cli, &unspec, sizeof(unspec)));
	ASSERT_EQ(0, bind(cli, (struct sockaddr *)&sin, sizeof(sin)))
		TH_LOG("bind after disconnect: %s", strerror(errno));
	ASSERT_EQ(0, listen(cli, 1));
	close(cli);
	close(srv);
}
