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
 * XTCP_RUN_ROLE=listen or connect, XTCP_RUN_PORTS=LIST (e.g.
 * "80,8000-8099"): only some of them. A socket's role and port are not
 * known at socket(): it starts as a native socket and becomes an xtcp one
 * at listen() (a listener's port is its own) or connect() (the peer's),
 * if chosen; at bind() already when it has SO_REUSEPORT, so that the
 * rest of its group binds beside an xtcp socket. The options set on it
 * so far go along, its O_NONBLOCK and FD_CLOEXEC too, and a bound socket
 * is bound again to the same address once the native one has let it go;
 * if that fails the socket is made native again. Where xtcp refuses one
 * of those options (or one holds a filter program: SO_ATTACH_*) the
 * socket stays native, and the library says so on stderr. Not carried
 * along: O_ASYNC and F_SETOWN, an epoll registration made before the
 * listen() or connect(), IP_BIND_ADDRESS_NO_PORT (xtcp picks the port at
 * bind). A copy of the socket made before then (dup(), fork()) keeps the
 * native socket, and with it the port: the listen() or connect() then
 * fails with EADDRINUSE.
 *
 * close(), dup2(), dup3() and accept() stay async-signal-safe: the table
 * of undecided sockets is a fixed array of atomic pointers, and what
 * they drop is freed later by the others, which allocate.
 *
 * XTCP_RUN_FAMILY: the family number, else the module's
 * (/sys/module/xtcp/parameters/family), else AF_XTCP.
 * XTCP_RUN_VERBOSE=1: say on stderr, once, that xtcp is in use and that
 * AF_INET6 stream sockets stay native.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/xtcp.h>

#define MAX_PORT_RANGES	32
#define MAX_OPTLEN	1024	/* longer options (none of TCP's) stay native */

typedef int (*socket_fn)(int domain, int type, int protocol);
typedef int (*setsockopt_fn)(int fd, int level, int name, const void *val,
			     socklen_t len);
typedef int (*bind_fn)(int fd, const struct sockaddr *addr, socklen_t len);
typedef int (*listen_fn)(int fd, int backlog);
typedef int (*connect_fn)(int fd, const struct sockaddr *addr,
			  socklen_t len);
typedef int (*close_fn)(int fd);
typedef int (*accept4_fn)(int fd, struct sockaddr *addr, socklen_t *len,
			  int flags);

enum role { ROLE_ALL, ROLE_LISTEN, ROLE_CONNECT };

static struct {
	bool parsed, valid, deferred;	/* deferred: decided per socket */
	enum role role;
	int nranges;
	unsigned short lo[MAX_PORT_RANGES], hi[MAX_PORT_RANGES];
} choice;

#define MAX_TRACKED_FDS	(1 << 20)

/* An option set on a native socket that may yet become xtcp. */
struct saved_opt {
	struct saved_opt *next;	/* the one set before */
	int level, name;
	socklen_t len;
	bool unreplayable;	/* too long, or a filter program's pointer */
	unsigned char val[];
};

/* A TCP stream socket still native and undecided. */
struct pending {
	struct pending *next_garbage;
	ino_t ino;			/* which socket, should its fd be reused */
	int lost;		/* errno: the socket lost its address (fd kept) */
	struct saved_opt *opts;		/* newest first */
};

/*
 * pending_table[fd]: the undecided socket at @fd, or NULL. Entries are
 * read, swapped and cleared with atomics only, so close() may run in a
 * signal handler; records taken out by the async-signal-safe calls go on
 * the garbage stack and are freed by the next socket(), listen() or
 * connect(). A setsockopt() racing with close() of the same fd in another
 * thread is the program's race, and may touch a record being freed.
 */
static struct pending **pending_table;
static size_t pending_slots;
static struct pending *garbage;

static void *real(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (!fn)
		errno = ENOSYS;
	return fn;
}

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

/* "80,8000-8099" into choice's ranges: false if malformed. */
static bool parse_ports(const char *s)
{
	while (*s) {
		char *end;
		long lo = strtol(s, &end, 10), hi = lo;

		if (end == s || choice.nranges == MAX_PORT_RANGES)
			return false;
		if (*end == '-') {
			s = end + 1;
			hi = strtol(s, &end, 10);
			if (end == s)
				return false;
		}
		if (lo < 1 || hi > 65535 || lo > hi || (*end && *end != ','))
			return false;
		choice.lo[choice.nranges] = lo;
		choice.hi[choice.nranges++] = hi;
		s = *end ? end + 1 : end;
	}
	return choice.nranges > 0;
}

/* XTCP_RUN_ROLE and XTCP_RUN_PORTS, read once. */
static void parse_choice(void)
{
	const char *role = getenv("XTCP_RUN_ROLE");
	const char *ports = getenv("XTCP_RUN_PORTS");

	if (choice.parsed)
		return;
	choice.valid = true;
	if (!role || !*role || !strcmp(role, "all"))
		choice.role = ROLE_ALL;
	else if (!strcmp(role, "listen"))
		choice.role = ROLE_LISTEN;
	else if (!strcmp(role, "connect"))
		choice.role = ROLE_CONNECT;
	else
		choice.valid = false;
	if (ports && *ports && !parse_ports(ports))
		choice.valid = false;
	if (!choice.valid)
		fprintf(stderr,
			"xtcp-run: XTCP_RUN_ROLE \"%s\" or XTCP_RUN_PORTS \"%s\" not understood: every socket stays native\n",
			role ? role : "", ports ? ports : "");
	choice.deferred = choice.role != ROLE_ALL || choice.nranges;
	choice.parsed = true;
}

static bool port_chosen(unsigned short port)
{
	int i;

	if (!choice.nranges)
		return true;
	for (i = 0; i < choice.nranges; i++)
		if (port >= choice.lo[i] && port <= choice.hi[i])
			return true;
	return false;
}

static void free_pending(struct pending *p)
{
	struct saved_opt *o, *next;

	for (o = p->opts; o; o = next) {
		next = o->next;
		free(o);
	}
	free(p);
}

/* Async-signal-safe: onto the garbage stack. */
static void discard(struct pending *p)
{
	struct pending *top = __atomic_load_n(&garbage, __ATOMIC_RELAXED);

	do {
		p->next_garbage = top;
	} while (!__atomic_compare_exchange_n(&garbage, &top, p, true,
					      __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
}

/* Not in a signal handler: frees what discard() left. */
static void reap(void)
{
	struct pending *p = __atomic_exchange_n(&garbage, NULL,
						__ATOMIC_ACQUIRE), *next;

	for (; p; p = next) {
		next = p->next_garbage;
		free_pending(p);
	}
}

static struct pending *peek_pending(int fd)
{
	if (fd < 0 || (size_t)fd >= pending_slots)
		return NULL;
	return __atomic_load_n(&pending_table[fd], __ATOMIC_ACQUIRE);
}

/* The record of @fd, taken out of the table; NULL if none. */
static struct pending *take_pending(int fd)
{
	if (fd < 0 || (size_t)fd >= pending_slots)
		return NULL;
	return __atomic_exchange_n(&pending_table[fd], NULL, __ATOMIC_ACQ_REL);
}

/* Async-signal-safe: @fd no longer holds what its record describes. */
static void forget(int fd)
{
	struct pending *p;

	if (!peek_pending(fd))
		return;
	p = take_pending(fd);
	if (p)
		discard(p);
}

/* @fd, a native socket just opened, waits for its listen() or connect(). */
static void add_pending(int fd)
{
	static bool said;
	struct pending *p, *old;
	struct stat st;

	if ((size_t)fd >= pending_slots || fstat(fd, &st)) {
		if (!said)
			fprintf(stderr,
				"xtcp-run: fd %d past the %zu followed: it stays native\n",
				fd, pending_slots);
		said = true;
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return;		/* it stays native */
	p->ino = st.st_ino;
	old = __atomic_exchange_n(&pending_table[fd], p, __ATOMIC_ACQ_REL);
	if (old)
		free_pending(old);
}

/* Whether replaying the option on another socket would do the same. */
static bool replayable(int level, int name, socklen_t len)
{
	if (len > MAX_OPTLEN)
		return false;
	/* These hold a user pointer or an fd: gone or reused by then. */
	return level != SOL_SOCKET ||
	       (name != SO_ATTACH_FILTER && name != SO_ATTACH_BPF &&
		name != SO_ATTACH_REUSEPORT_CBPF &&
		name != SO_ATTACH_REUSEPORT_EBPF);
}

/* An option the native socket @fd took, kept for its xtcp successor. */
static void save_opt(int fd, int level, int name, const void *val,
		     socklen_t len)
{
	struct pending *p = peek_pending(fd);
	struct saved_opt *o;
	bool ok;

	if (!p)
		return;
	ok = replayable(level, name, len);
	o = malloc(sizeof(*o) + (ok ? len : 0));
	if (!o)
		return;
	o->level = level;
	o->name = name;
	o->len = len;
	o->unreplayable = !ok;
	if (ok && len)
		memcpy(o->val, val, len);
	o->next = __atomic_load_n(&p->opts, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&p->opts, &o->next, o, true,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

/* Whether the latest SO_REUSEPORT set on the socket turned it on. */
static bool reuseport_on(const struct pending *p)
{
	const struct saved_opt *o;
	int on = 0;

	for (o = __atomic_load_n(&p->opts, __ATOMIC_ACQUIRE); o; o = o->next)
		if (o->level == SOL_SOCKET && o->name == SO_REUSEPORT) {
			if (o->len >= sizeof(int))
				memcpy(&on, o->val, sizeof(int));
			break;
		}
	return on;
}

static int tcp_socket(int family, int type)
{
	static socket_fn real_socket;

	if (!real_socket)
		real_socket = (socket_fn)real("socket");
	if (!real_socket)
		return -1;
	return real_socket(family, type, 0);
}

static int xtcp_socket(int type)
{
	static int family;

	if (!family)
		family = xtcp_family();
	return tcp_socket(family, type);
}

/* The native socket's options onto @x, oldest first: 0, or an errno. */
static int replay_opts(int x, struct saved_opt *o, const char *stack)
{
	static setsockopt_fn real_setsockopt;
	int err;

	if (!o)
		return 0;
	err = replay_opts(x, o->next, stack);
	if (err)
		return err;
	if (!real_setsockopt)
		real_setsockopt = (setsockopt_fn)real("setsockopt");
	if (!real_setsockopt)
		return ENOSYS;
	if (o->unreplayable) {
		fprintf(stderr, "xtcp-run: option %d/%d cannot be carried over\n",
			o->level, o->name);
		return EOPNOTSUPP;
	}
	if (real_setsockopt(x, o->level, o->name, o->val, o->len)) {
		err = errno;
		fprintf(stderr, "xtcp-run: option %d/%d not taken by %s (%s)\n",
			o->level, o->name, stack, strerror(err));
		return err;
	}
	return 0;
}

/* Whether @fd is still the unconnected TCP socket @p was made for. */
static bool still_that_socket(int fd, const struct pending *p)
{
	int type = 0, proto = 0;
	socklen_t len = sizeof(int);
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	struct stat st;

	if (fstat(fd, &st) || st.st_ino != p->ino)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) ||
	    type != SOCK_STREAM)
		return false;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) ||
	    proto != IPPROTO_TCP)
		return false;
	return getpeername(fd, (struct sockaddr *)&peer, &plen) &&
	       errno == ENOTCONN;
}

/*
 * A socket of @family in place of the one at @fd (dup3 closes that one
 * first), with @p's options, @fl's O_NONBLOCK and @fdfl's FD_CLOEXEC,
 * bound to @local if @bound. 0; 1 with errno if @fd was left as it was;
 * -1 with errno if @fd now holds the new socket, unbound.
 */
static int replace_socket(int fd, int family, const struct pending *p,
			  int fl, int fdfl, const struct sockaddr_in *local,
			  bool bound)
{
	int type = SOCK_STREAM | SOCK_CLOEXEC |
		   (fl & O_NONBLOCK ? SOCK_NONBLOCK : 0), x, err;

	x = family == AF_INET ? tcp_socket(AF_INET, type) : xtcp_socket(type);
	if (x < 0)
		return 1;
	err = replay_opts(x, p->opts, family == AF_INET ? "TCP" : "xtcp");
	if (err || dup3(x, fd, fdfl & FD_CLOEXEC ? O_CLOEXEC : 0) < 0) {
		err = err ?: errno;
		close(x);
		errno = err;
		return 1;
	}
	close(x);
	if (bound && bind(fd, (const struct sockaddr *)local, sizeof(*local)))
		return -1;
	return 0;
}

/*
 * The native socket @fd replaced by an xtcp one. 0 done (or nothing to
 * do); 1 still native, errno saying why; -1 with errno when @fd lost its
 * address: xtcp could not bind it, nor a native socket again.
 */
static int become_xtcp(int fd, const struct pending *p)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD), ret, err;
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	bool bound;

	if (fl < 0 || fdfl < 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &len))
		return 1;
	/* A record outliving its socket (closed behind our back) is no use. */
	if (local.sin_family != AF_INET || !still_that_socket(fd, p))
		return 0;
	bound = local.sin_port || local.sin_addr.s_addr != htonl(INADDR_ANY);
	ret = replace_socket(fd, 0, p, fl, fdfl, &local, bound);
	if (ret >= 0)
		return ret;
	/* Native again, on the address the program bound. */
	err = errno;
	if (!replace_socket(fd, AF_INET, p, fl, fdfl, &local, bound)) {
		errno = err;
		return 1;
	}
	fprintf(stderr, "xtcp-run: fd %d lost its address %s:%u: %s\n", fd,
		inet_ntoa(local.sin_addr), ntohs(local.sin_port),
		strerror(err));
	errno = err;
	return -1;
}

/*
 * At bind(), listen() or connect() of an undecided socket: xtcp if @role
 * and @port are chosen. 0 to go on, -1 with errno when the socket is
 * lost.
 */
static int decide(int fd, enum role role, unsigned short port)
{
	struct pending *p = take_pending(fd);
	int ret = 0;

	reap();
	if (!p)
		return 0;
	if (p->lost) {
		/* Until closed: no later call may use a port it did not bind. */
		__atomic_store_n(&pending_table[fd], p, __ATOMIC_RELEASE);
		errno = p->lost;
		return -1;
	}
	if ((choice.role == ROLE_ALL || choice.role == role) &&
	    port_chosen(port)) {
		ret = become_xtcp(fd, p);
		if (ret > 0) {
			fprintf(stderr,
				"xtcp-run: fd %d stays native TCP: %s\n", fd,
				strerror(errno));
			ret = 0;
		} else if (ret < 0) {
			struct stat st;

			p->lost = errno;
			if (!fstat(fd, &st)) {
				p->ino = st.st_ino;
				__atomic_store_n(&pending_table[fd], p,
						 __ATOMIC_RELEASE);
				return -1;
			}
		}
	}
	free_pending(p);
	return ret;
}

int socket(int domain, int type, int protocol)
{
	static bool said_xtcp, said_inet6;
	static socket_fn real_socket;
	int fd;

	if (!real_socket)
		real_socket = (socket_fn)real("socket");
	if (!real_socket)
		return -1;
	parse_choice();
	if (domain == AF_INET && tcp_stream(type, protocol) && choice.valid &&
	    !choice.deferred) {
		say_once(&said_xtcp, "TCP stream sockets are xtcp sockets");
		return xtcp_socket(type);
	}
	if (domain == AF_INET6 && tcp_stream(type, protocol))
		say_once(&said_inet6, "AF_INET6 stream sockets stay native TCP");
	fd = real_socket(domain, type, protocol);
	if (fd < 0 || !choice.deferred)
		return fd;
	reap();
	forget(fd);
	if (domain == AF_INET && tcp_stream(type, protocol) && choice.valid) {
		say_once(&said_xtcp,
			 "TCP stream sockets chosen by XTCP_RUN_ROLE and XTCP_RUN_PORTS are xtcp sockets");
		add_pending(fd);
	}
	return fd;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static setsockopt_fn real_setsockopt;
	int ret;

	if (!real_setsockopt)
		real_setsockopt = (setsockopt_fn)real("setsockopt");
	if (!real_setsockopt)
		return -1;
	ret = real_setsockopt(fd, level, name, val, len);
	if (!ret && choice.deferred)
		save_opt(fd, level, name, val, len);
	return ret;
}

/*
 * A member of an SO_REUSEPORT group is decided at bind(): the next
 * member's bind() must find an xtcp socket on the port, or it is refused
 * in wire mode, the two stacks sharing one port space.
 */
int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	static bind_fn real_bind;
	struct pending *p;

	if (!real_bind)
		real_bind = (bind_fn)real("bind");
	if (!real_bind)
		return -1;
	p = choice.deferred ? peek_pending(fd) : NULL;
	if (p && p->lost)
		return decide(fd, ROLE_LISTEN, 0);
	if (p && choice.role != ROLE_CONNECT && addr &&
	    len >= sizeof(struct sockaddr_in) && addr->sa_family == AF_INET &&
	    reuseport_on(p) &&
	    decide(fd, ROLE_LISTEN,
		   ntohs(((const struct sockaddr_in *)addr)->sin_port)))
		return -1;
	return real_bind(fd, addr, len);
}

int listen(int fd, int backlog)
{
	static listen_fn real_listen;
	struct sockaddr_in sin = { 0 };
	socklen_t len = sizeof(sin);

	if (!real_listen)
		real_listen = (listen_fn)real("listen");
	if (!real_listen)
		return -1;
	if (choice.deferred && peek_pending(fd)) {
		if (getsockname(fd, (struct sockaddr *)&sin, &len))
			sin.sin_port = 0;
		if (decide(fd, ROLE_LISTEN, ntohs(sin.sin_port)))
			return -1;
	}
	return real_listen(fd, backlog);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	static connect_fn real_connect;

	if (!real_connect)
		real_connect = (connect_fn)real("connect");
	if (!real_connect)
		return -1;
	if (choice.deferred && peek_pending(fd) && addr &&
	    len >= sizeof(struct sockaddr_in) && addr->sa_family == AF_INET &&
	    decide(fd, ROLE_CONNECT,
		   ntohs(((const struct sockaddr_in *)addr)->sin_port)))
		return -1;
	return real_connect(fd, addr, len);
}

/* These take an fd number that may have been an undecided socket's. */
int close(int fd)
{
	static close_fn real_close;

	if (!real_close)
		real_close = (close_fn)real("close");
	if (!real_close)
		return -1;
	forget(fd);
	return real_close(fd);
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	static accept4_fn real_accept4;
	int ret;

	if (!real_accept4)
		real_accept4 = (accept4_fn)real("accept4");
	if (!real_accept4)
		return -1;
	ret = real_accept4(fd, addr, len, flags);
	if (ret >= 0)
		forget(ret);
	return ret;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return accept4(fd, addr, len, 0);
}

int dup2(int oldfd, int newfd)
{
	static int (*real_dup2)(int, int);
	int ret;

	if (!real_dup2)
		real_dup2 = (int (*)(int, int))real("dup2");
	if (!real_dup2)
		return -1;
	ret = real_dup2(oldfd, newfd);
	if (ret >= 0 && oldfd != newfd)
		forget(newfd);
	return ret;
}

int dup3(int oldfd, int newfd, int flags)
{
	static int (*real_dup3)(int, int, int);
	int ret;

	if (!real_dup3)
		real_dup3 = (int (*)(int, int, int))real("dup3");
	if (!real_dup3)
		return -1;
	ret = real_dup3(oldfd, newfd, flags);
	if (ret >= 0)
		forget(newfd);
	return ret;
}

/*
 * The table, once, for as many fds as the process may ever open (up to
 * MAX_TRACKED_FDS): its pages cost nothing until an fd that high is used.
 */
__attribute__((constructor)) static void preload_init(void)
{
	struct rlimit rl;
	size_t slots = MAX_TRACKED_FDS;
	void *t;

	parse_choice();
	if (!choice.deferred)
		return;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_max < slots)
		slots = rl.rlim_max;
	t = mmap(NULL, slots * sizeof(*pending_table), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t == MAP_FAILED)
		return;		/* pending_slots 0: every socket stays native */
	pending_table = t;
	pending_slots = slots;
}
