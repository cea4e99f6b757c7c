/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the xtcp selftests. Nothing here knows the test
 * harness: functions return -1 with errno set (or a status) and the tests
 * assert. Every helper takes the address family so the same test code runs
 * on native TCP (AF_INET, the oracle) and on xtcp (AF_XTCP).
 */
#ifndef XTCP_UTIL_H
#define XTCP_UTIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <netinet/in.h>

#include <linux/xtcp.h>

#define KiB 1024
#define MiB (1024 * 1024)

/*
 * Bound on waiting for the kernel to move data (poll, queue polling): long
 * for the slowest VM, shorter than a test case's timeout so a stuck wait
 * fails with a message rather than a kill.
 */
#define WAIT_MS 30000

/* Is @want one of the space-separated words of @list? */
bool word_listed(const char *list, const char *want);

/*
 * What kselftest_harness.h's SKIP() does to mark a case skipped, with
 * the reason, for the macros below and stack.h's SKIP().
 */
#define XTCP_HARNESS_SKIP_MARK(fmt, ...) do {				\
	snprintf(_metadata->results->reason,				\
		 sizeof(_metadata->results->reason), fmt, ##__VA_ARGS__); \
	if (TH_LOG_ENABLED)						\
		fprintf(TH_LOG_STREAM, "#      SKIP      %s\n",		\
			_metadata->results->reason);			\
	_metadata->skip = 1;						\
	_metadata->trigger = 0;						\
} while (0)

/*
 * In a FIXTURE_SETUP: skip a case XTCP_CASES or XTCP_VARIANTS leave out,
 * with a reason that run_vm.sh's list of expected skips names (the
 * harness of 6.1 would say "unknown").
 */
#define SKIP_NOT_SELECTED() do {					\
	XTCP_HARNESS_SKIP_MARK("not selected (XTCP_CASES, XTCP_VARIANTS)"); \
	longjmp(_metadata->env, 1);					\
} while (0)

/* The AF_XTCP number in force: sysfs, else the header default. */
int xtcp_family(void);
/* First integer in a sysfs/procfs file (index picks among several). */
int read_int_file(const char *path, int index, int *val);
/* write() of @val to a sysctl or sysfs file: 0, or the write's errno. */
int write_sysctl(const char *path, const char *val);
/* The same with an integer. */
int write_sysctl_int(const char *path, int val);

struct sockaddr_in sin_make(const char *ip, uint16_t port);

/* socket(family, SOCK_STREAM, 0) */
int stack_socket(int family);
/*
 * Listener on ip:0 (the kernel picks the port, returned in *port).
 * rcvbuf/sndbuf > 0 are set before listen() so accepted sockets inherit them.
 */
int stack_listen_opts(int family, const char *ip, uint16_t *port,
		      int rcvbuf, int sndbuf);
int stack_listen(int family, const char *ip, uint16_t *port);
/* Blocking connect; rcvbuf/sndbuf > 0 are set before connect(). */
int stack_connect_opts(int family, const char *ip, uint16_t port,
		       int rcvbuf, int sndbuf);
int stack_connect(int family, const char *ip, uint16_t port);
/* A connected pair over loopback: *cli from connect, *srv from accept. */
int stack_pair(int family, int *cli, int *srv);

/* Position-dependent pattern: byte i of the stream depends on i and seed. */
void pattern_fill(uint8_t *buf, size_t len, uint64_t off, uint32_t seed);
/* Offset of the first wrong byte within buf, or -1 if all match. */
ssize_t pattern_check(const uint8_t *buf, size_t len, uint64_t off,
		      uint32_t seed);

/*
 * Send total bytes of the pattern in chunks that vary in size, so segment
 * boundaries never line up with writes. Returns bytes sent or -1.
 */
ssize_t send_pattern(int fd, uint64_t total, uint32_t seed);
/*
 * Receive until EOF, checking each byte against the pattern. Returns the
 * number of bytes received; *bad is the stream offset of the first wrong
 * byte or -1. Returns -1 on a recv error. A stall (nothing for WAIT_MS)
 * ends it early with errno ETIMEDOUT, so a stuck stream fails with its
 * byte count rather than a killed test; recv_all does the same.
 */
ssize_t recv_pattern(int fd, uint64_t limit, uint32_t seed, int64_t *bad);
/*
 * How long recv_pattern and recv_all wait for the next byte before they
 * call the stream stalled (default WAIT_MS). Heavy loss backs the RTO off
 * to many seconds: tests of it raise this.
 */
extern int recv_stall_ms;

ssize_t send_all(int fd, const void *buf, size_t len);
ssize_t recv_all(int fd, void *buf, size_t len);

/*
 * One send() of len pattern bytes in a thread, to watch it block: done
 * turns 1 when send returns, with its result in ret (errno in err).
 */
struct bg_send {
	int fd;
	size_t len;
	uint32_t seed;
	ssize_t ret;
	int err;
	atomic_int done;
	pthread_t thread;
};
int bg_send_start(struct bg_send *b);
int bg_send_join(struct bg_send *b);
/*
 * @len bytes of pattern @seed sent on @tx_fd (by a thread) and received
 * on @rx_fd, checked byte for byte: 0, or -1 (short, wrong or failed).
 */
int transfer_checked(int tx_fd, int rx_fd, size_t len, uint32_t seed);

/*
 * Segments the stack of @family has sent in this network namespace (the
 * OutSegs counter: /proc/net/snmp for TCP, /proc/net/xtcp_stat for xtcp),
 * or -1 when it cannot be read.
 */
int64_t stack_out_segs(int family);
/*
 * A counter of this namespace: TcpExt @tcpext_name of /proc/net/netstat
 * for TCP, Xtcp@xtcp_name ("XtcpFastRetrans") for xtcp; -1 if unreadable.
 */
/* SO_MEMINFO field @field of @fd (SK_MEMINFO_*), or -1. */
int64_t sock_meminfo(int fd, int field);
int64_t stack_counter(int family, const char *tcpext_name,
		      const char *xtcp_name);

/* Tcp @tcp_name of /proc/net/snmp (native TCP), -1 if unreadable. */
int64_t stack_snmp_counter(const char *tcp_name);
/* Ip @ip_name of /proc/net/snmp ("ReasmOKs"), -1 if unreadable. */
int64_t ip_snmp_counter(const char *ip_name);

/* The stack's IP protocol number: 6, or xtcp's (sysfs); -1 if unknown. */
int stack_ipproto(int family);

/*
 * One IPv4 packet of one segment, built by hand for raw and packet sockets:
 * a TCP header from @sport to @dport (host order) with @seq, @ack and
 * @flags (an MSS option of 1460 on a SYN), window 65535, then @len bytes
 * of @data (at most SEG_DATA_MAX), under IP protocol @proto from @saddr to
 * @daddr (network order), DF, TTL 64, both checksums set. @pkt holds
 * SEG_PKT_MAX bytes; returns the packet's length.
 */
#define SEG_DATA_MAX	64
#define SEG_PKT_MAX	(20 + 36 + SEG_DATA_MAX)
#define SEG_FIN		0x01
#define SEG_SYN		0x02
#define SEG_RST		0x04
#define SEG_PSH		0x08
#define SEG_ACK		0x10
size_t build_segment(uint8_t *pkt, int proto, uint32_t saddr, uint32_t daddr,
		     uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		     uint8_t flags, const void *data, size_t len);
/* The same with a timestamps option: @ts is TSval, TSecr (or NULL). */
size_t build_segment_ts(uint8_t *pkt, int proto, uint32_t saddr,
			uint32_t daddr, uint16_t sport, uint16_t dport,
			uint32_t seq, uint32_t ack, uint8_t flags,
			const void *data, size_t len, const uint32_t *ts);

struct tcp_info;
/* getsockopt(SOL_TCP, TCP_INFO), the whole struct. */
int get_tcp_info(int fd, struct tcp_info *info);

/*
 * Sockets of the namespace in TCP state @state (/proc/net/tcp's hex "st",
 * 4 FIN_WAIT1, 6 TIME_WAIT) on @family's table, -1 on error.
 */
int sockets_in_state(int family, unsigned int state);

/* SIOCINQ / SIOCOUTQ as an int, -1 on error. */
int sock_inq(int fd);
int sock_outq(int fd);
/*
 * Poll the queue until it equals want (or timeout_ms passes); returns the
 * last value seen. For waiting on the kernel, never for timing assertions.
 */
int wait_inq(int fd, int want, int timeout_ms);
int wait_outq(int fd, int want, int timeout_ms);

/*
 * Wait until the receiver rx_fd holds data, the sender tx_fd has data
 * queued, and neither count has moved for a second: the receive window is
 * closed. Returns 0, or -1 after WAIT_MS; *inq and *outq are the last seen.
 */
int wait_window_closed(int rx_fd, int tx_fd, int *inq, int *outq);

int getsockopt_int(int fd, int level, int name, int *val);
int setsockopt_int(int fd, int level, int name, int val);
int set_nonblock(int fd, int on);

/* fork() whose child dies with the test (PR_SET_PDEATHSIG). */
pid_t fork_child(void);
/* Exit code of the child, or 128+signal, or -1. */
int wait_child(pid_t pid);

/* One entry of an IP_RECVERR error queue (recvmsg MSG_ERRQUEUE). */
struct icmp_err_seen {
	int err;			/* ee_errno */
	int origin;			/* ee_origin: SO_EE_ORIGIN_ICMP */
	int type, code;			/* the ICMP message's */
	uint32_t info;			/* ee_info: the MTU for "frag needed" */
	struct sockaddr_in offender;	/* SO_EE_OFFENDER: who sent it */
	struct sockaddr_in dest;	/* msg_name: where our segment went */
};

/* The oldest entry of @fd's error queue, without waiting: 0 or -1. */
int read_icmp_error(int fd, struct icmp_err_seen *seen);

/*
 * Send an ICMP error of @type/@code (next-hop MTU @mtu for "fragmentation
 * needed") from this thread's namespace to @to, as a router on the path
 * would: it quotes a segment of IP protocol @proto from @src:@sport to
 * @dst:@dport with sequence number @seq. 0, or -1.
 */
int send_icmp_error(const char *to, int type, int code, uint16_t mtu,
		    int proto, const char *src, uint16_t sport,
		    const char *dst, uint16_t dport, uint32_t seq);

/* A packet socket on device @dev of this thread's namespace, or -1. */
int sniff_open(const char *dev);
/*
 * The next segment of IP protocol @proto from port @sport that packet
 * socket @pfd sees within @timeout_ms, with data unless @any: 0, its
 * sequence number in *@seq and data length in *@len; or -1.
 */
int sniff_segment(int pfd, int proto, uint16_t sport, bool any,
		  uint32_t *seq, uint32_t *len, int timeout_ms);

/*
 * Wait up to @timeout_ms for non-blocking connect() @fd to end: its
 * SO_ERROR (0: connected), with the time taken in *@ms; -1 if it has not
 * ended by then.
 */
int connect_result(int fd, int timeout_ms, int64_t *ms);

/* Network namespace /run/netns/name entered by this thread. */
int enter_netns(const char *name);
/* Run a shell command line; returns its exit status or -1. */
int run_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Directory of the running test binary (to find netns.sh). */
const char *self_dir(void);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t mono_ms(void);
void msleep(int ms);

/*
 * Suite-wide size factor for slow kernels: XTCP_SCALE=N in the environment
 * (read once; default 1) divides bulk transfer sizes by N, never below min,
 * so a debug kernel crosses the same paths with less data.
 */
uint64_t xtcp_scaled(uint64_t len, uint64_t min);

#endif /* XTCP_UTIL_H */
