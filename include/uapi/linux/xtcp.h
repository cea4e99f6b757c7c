/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xtcp: an alternative TCP loaded as a module, reached through its own
 * protocol family. What user space needs to open and tune xtcp sockets.
 *
 * Addresses are plain struct sockaddr_in (sin_family AF_INET or AF_XTCP),
 * socket options are the native ones (SOL_SOCKET, SOL_TCP with TCP_NODELAY,
 * TCP_MAXSEG, ...), so code written for TCP works unchanged once it asks
 * for AF_XTCP in socket(2).
 */
#ifndef _UAPI_LINUX_XTCP_H
#define _UAPI_LINUX_XTCP_H

/*
 * Default address family number. sock_register() only takes numbers below
 * AF_MAX, so xtcp borrows one that no Linux kernel implements: 22 is AF_SNA,
 * reserved but never registered. The module parameter "family" moves it;
 * the number in force is in /sys/module/xtcp/parameters/family.
 */
#define XTCP_DEFAULT_FAMILY	22
#ifndef AF_XTCP
#define AF_XTCP			XTCP_DEFAULT_FAMILY
#define PF_XTCP			AF_XTCP
#endif

/*
 * Default IP protocol number carried in the IPv4 header: 253 is reserved
 * for experimentation (RFC 3692). Module parameter "ipproto"; the number in
 * force is in /sys/module/xtcp/parameters/ipproto.
 */
#define XTCP_DEFAULT_IPPROTO	253

/* Where the numbers in force can be read at run time. */
#define XTCP_SYSFS_FAMILY	"/sys/module/xtcp/parameters/family"
#define XTCP_SYSFS_IPPROTO	"/sys/module/xtcp/parameters/ipproto"

#endif /* _UAPI_LINUX_XTCP_H */
