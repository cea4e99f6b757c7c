// SPDX-License-Identifier: GPL-2.0
/*
 * libxtcp-run.so, loaded by tools/xtcp-run through LD_PRELOAD: the TCP
 * stream sockets a program opens (socket(AF_INET, SOCK_STREAM, 0 or
 * IPPROTO_TCP), with SOCK_NONBLOCK and SOCK_CLOEXEC as given) are opened
 * as xtcp sockets instead; every other socket is left alone. xtcp takes
 * the same struct sockaddr_in addresses and SOL_TCP options, and reports
 * itself as AF_INET (SO_DOMAIN, getsockname), so the program's later calls
 * need no change. The environment carries the library across fork() and
 * exec().
 *
 * XTCP_RUN_FAMILY: the family number, else the module's
 * (/sys/module/xtcp/parameters/family), else AF_XTCP.
 * XTCP_RUN_VERBOSE=1: say on stderr, once, that xtcp is in use and that
 * AF_INET6 stream sockets stay native.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <linux/xtcp.h>

typedef int (*socket_fn)(int domain, int type, int protocol);

static int xtcp_family(void)
{
	const char *env = getenv("XTCP_RUN_FAMILY");
	int family = AF_XTCP;
	FILE *f;

	if (env && *env)
		return atoi(env);
	f = fopen("/sys/module/xtcp/parameters/family", "r");
	if (f) {
		if (fscanf(f, "%d", &family) != 1)
			family = AF_XTCP;
		fclose(f);
	}
	return family;
}

static bool verbose(void)
{
	const char *env = getenv("XTCP_RUN_VERBOSE");

	return env && *env && *env != '0';
}

/* Once per process: a racing second thread may say it twice. */
static void say_once(bool *said, const char *what)
{
	if (*said || !verbose())
		return;
	*said = true;
	fprintf(stderr, "xtcp-run: %s\n", what);
}

static bool tcp_stream(int type, int protocol)
{
	return (type & 0xf) == SOCK_STREAM &&
	       (protocol == 0 || protocol == IPPROTO_TCP);
}

int socket(int domain, int type, int protocol)
{
	static bool said_xtcp, said_inet6;
	static socket_fn real_socket;
	static int family;

	if (!real_socket) {
		real_socket = (socket_fn)dlsym(RTLD_NEXT, "socket");
		if (!real_socket) {
			errno = ENOSYS;
			return -1;
		}
	}
	if (domain == AF_INET && tcp_stream(type, protocol)) {
		if (!family)
			family = xtcp_family();
		say_once(&said_xtcp, "TCP stream sockets are xtcp sockets");
		return real_socket(family, type, 0);
	}
	if (domain == AF_INET6 && tcp_stream(type, protocol))
		say_once(&said_inet6, "AF_INET6 stream sockets stay native TCP");
	return real_socket(domain, type, protocol);
}
