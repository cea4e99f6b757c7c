// SPDX-License-Identifier: GPL-2.0
/*
 * Misuse of the socket API: every case must fail with exactly the errno
 * native TCP gives (and succeed where native quietly accepts).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
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

TEST_HARNESS_MAIN

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
