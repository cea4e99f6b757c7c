/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel interfaces xtcp uses that changed between Linux 6.1 and 6.12,
 * in one place: the rest of the module calls the xtcp_ names below. Each
 * is told by what the kernel's headers have, never by its version (a
 * distribution's 6.12 may carry later interfaces): a macro tested here, or
 * an XTCP_HAVE_ flag Kbuild sets from the headers.
 */
#ifndef _XTCP_COMPAT_H
#define _XTCP_COMPAT_H

#include <linux/bpf-cgroup.h>
#include <linux/net.h>
#include <linux/sysctl.h>
#include <net/inet_common.h>
#include <net/inet_sock.h>
#include <net/net_namespace.h>
#include <net/route.h>
#include <net/sock.h>

/* 6.5 moved the GSO helpers, 6.10 the protocol memory accounting. */
#ifdef XTCP_HAVE_NET_GSO_H
#include <net/gso.h>
#endif
#ifdef XTCP_HAVE_PROTO_MEMORY_H
#include <net/proto_memory.h>
#endif

/*
 * 6.6 turned inet_sock's flag bitfields into atomic bits of inet_flags,
 * read and written without the socket lock.
 */
#ifdef inet_test_bit
#define xtcp_inet_freebind(sk)		inet_test_bit(FREEBIND, sk)
#define xtcp_inet_transparent(sk)	inet_test_bit(TRANSPARENT, sk)
#define xtcp_inet_recverr(sk)		inet_test_bit(RECVERR, sk)
#define xtcp_inet_recverr_rfc4884(sk)	inet_test_bit(RECVERR_RFC4884, sk)
static inline void xtcp_inet_init_mc(struct sock *sk)
{
	inet_set_bit(MC_LOOP, sk);
	inet_set_bit(MC_ALL, sk);
}
#else
#define xtcp_inet_freebind(sk)		(inet_sk(sk)->freebind)
#define xtcp_inet_transparent(sk)	(inet_sk(sk)->transparent)
#define xtcp_inet_recverr(sk)		(inet_sk(sk)->recverr)
#define xtcp_inet_recverr_rfc4884(sk)	(inet_sk(sk)->recverr_rfc4884)
static inline void xtcp_inet_init_mc(struct sock *sk)
{
	inet_sk(sk)->mc_loop = 1;
	inet_sk(sk)->mc_all = 1;
}
#endif

/* 6.10 dropped RT_CONN_FLAGS: the scope now comes from the socket. */
static inline u8 xtcp_rt_conn_flags(const struct sock *sk)
{
#ifdef RT_CONN_FLAGS
	return RT_CONN_FLAGS(sk);
#else
	return ip_sock_rt_tos(sk);
#endif
}

/*
 * 6.4: the cgroup address hooks take the address length (and may change it).
 * Each attach type is named inside the hook's macro: a kernel without
 * CONFIG_CGROUP_BPF has neither the hooks nor the attach types.
 */
#ifdef XTCP_HAVE_CGROUP_ADDR_LEN
static inline int xtcp_cgroup_bind4(struct sock *sk, struct sockaddr_in *sin,
				    u32 *flags)
{
	int len __maybe_unused = sizeof(*sin);

	return BPF_CGROUP_RUN_PROG_INET_BIND_LOCK(sk, (struct sockaddr *)sin,
						  &len, CGROUP_INET4_BIND,
						  flags);
}

static inline int xtcp_cgroup_connect4(struct sock *sk, struct sockaddr_in *sin)
{
	int len __maybe_unused = sizeof(*sin);

	return BPF_CGROUP_RUN_PROG_INET4_CONNECT(sk, (struct sockaddr *)sin,
						 &len);
}

static inline void xtcp_cgroup_getpeername4(struct sock *sk,
					    struct sockaddr_in *sin)
{
	int len __maybe_unused = sizeof(*sin);

	BPF_CGROUP_RUN_SA_PROG(sk, (struct sockaddr *)sin, &len,
			       CGROUP_INET4_GETPEERNAME);
}

static inline void xtcp_cgroup_getsockname4(struct sock *sk,
					    struct sockaddr_in *sin)
{
	int len __maybe_unused = sizeof(*sin);

	BPF_CGROUP_RUN_SA_PROG(sk, (struct sockaddr *)sin, &len,
			       CGROUP_INET4_GETSOCKNAME);
}
#else
static inline int xtcp_cgroup_bind4(struct sock *sk, struct sockaddr_in *sin,
				    u32 *flags)
{
	return BPF_CGROUP_RUN_PROG_INET_BIND_LOCK(sk, (struct sockaddr *)sin,
						  CGROUP_INET4_BIND, flags);
}

static inline int xtcp_cgroup_connect4(struct sock *sk, struct sockaddr_in *sin)
{
	return BPF_CGROUP_RUN_PROG_INET4_CONNECT(sk, (struct sockaddr *)sin);
}

static inline void xtcp_cgroup_getpeername4(struct sock *sk,
					    struct sockaddr_in *sin)
{
	BPF_CGROUP_RUN_SA_PROG(sk, (struct sockaddr *)sin,
			       CGROUP_INET4_GETPEERNAME);
}

static inline void xtcp_cgroup_getsockname4(struct sock *sk,
					    struct sockaddr_in *sin)
{
	BPF_CGROUP_RUN_SA_PROG(sk, (struct sockaddr *)sin,
			       CGROUP_INET4_GETSOCKNAME);
}
#endif

/*
 * 6.10: accept() gets its flags in a struct proto_accept_arg. The module's
 * accept takes the O_ flags and kern as 6.1 passed them.
 */
int xtcp_accept(struct socket *sock, struct socket *newsock, int flags,
		bool kern);
#ifdef XTCP_HAVE_PROTO_ACCEPT_ARG
static inline int xtcp_accept_op(struct socket *sock, struct socket *newsock,
				 struct proto_accept_arg *arg)
{
	return xtcp_accept(sock, newsock, arg->flags, arg->kern);
}
#else
static inline int xtcp_accept_op(struct socket *sock, struct socket *newsock,
				 int flags, bool kern)
{
	return xtcp_accept(sock, newsock, flags, kern);
}
#endif

/*
 * 6.5 removed proto_ops.sendpage. Before, it must not be NULL: most callers
 * go through kernel_sendpage(), which falls back to sock_no_sendpage(),
 * but some (DRBD, Ceph's messenger) call it directly on a socket of a
 * family their configuration names.
 */
#ifdef XTCP_HAVE_SENDPAGE
#define XTCP_OPS_NO_SENDPAGE	.sendpage = sock_no_sendpage,
#else
#define XTCP_OPS_NO_SENDPAGE
#endif

/* 6.11 made the table a sysctl handler gets const. */
#ifdef XTCP_HAVE_CONST_CTL_TABLE
#define XTCP_SYSCTL_CONST const
#else
#define XTCP_SYSCTL_CONST
#endif

/*
 * 6.6 counts a table's entries (register_net_sysctl became a macro over
 * register_net_sysctl_sz); before, the table ends at an empty entry, which
 * the caller keeps after the nr_entries it registers.
 */
static inline struct ctl_table_header *
xtcp_register_net_sysctl(struct net *net, const char *path,
			 struct ctl_table *table, size_t nr_entries)
{
#ifdef register_net_sysctl
	return register_net_sysctl_sz(net, path, table, nr_entries);
#else
	return register_net_sysctl(net, path, table);
#endif
}

#endif /* _XTCP_COMPAT_H */
