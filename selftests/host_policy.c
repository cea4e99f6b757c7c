// SPDX-License-Identifier: GPL-2.0
/*
 * The host's policy applies to xtcp as to native TCP: netfilter rules in
 * PREROUTING, INPUT and OUTPUT, conntrack, the IPsec policy, rp_filter,
 * routing's martian checks, and socket filters. Two hosts (the veth
 * topology of netns.sh): the server in TAG-2, the client in TAG-1; the test
 * process moves between them with setns(), each socket staying in the
 * namespace it was made in.
 *
 * Hand-made segments leave TAG-1 through a packet socket on veth1, so that
 * no routing or check of the sender's stands between them and TAG-2:
 * sources and destinations no real host would send from or to.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stack.h"

#define CLIENT_IP	"10.77.0.1"
#define SERVER_IP	"10.77.0.2"
#define NFT_TABLE	"xtcp_policy"
/* How long a blocked connect is watched, and how long it may then take. */
#define BLOCKED_MS	2500
#define UNBLOCKED_MS	10000

/* Segments the stack took in, in the caller's namespace. */
static int64_t stack_in_segs(int family)
{
	if (family == AF_INET)
		return stack_snmp_counter("InSegs");
	return stack_counter(family, NULL, "XtcpInSegs");
}

/*
 * The packets counted by the rule of chain "c" of our nft table in TAG-@host
 * that mentions @what, or -1 when it cannot be read. (Anonymous counters:
 * named ones need nft_objref, which not every kernel has.)
 */
static int64_t nft_rule_packets(FIXTURE_DATA(stack) *self, int host,
				const char *what)
{
	char cmd[256], line[512], *p;
	int64_t v = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "ip netns exec %s-%d nft list chain ip " NFT_TABLE " c",
		 self->netns, host);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, what) && (p = strstr(line, "packets ")))
			v = strtoll(p + 8, NULL, 10);
	pclose(f);
	return v;
}

/*
 * Our nft table in TAG-@host with a chain "c" of @chain_spec (hook and
 * priority) whose one rule counts and drops what @match matches.
 */
static int nft_drop_rule(FIXTURE_DATA(stack) *self, int host,
			 const char *chain_spec, const char *match)
{
	return run_cmd("ip netns exec %s-%d nft 'add table ip " NFT_TABLE
		       "; add chain ip " NFT_TABLE " c { %s ; }; add rule ip "
		       NFT_TABLE " c %s counter drop'", self->netns, host,
		       chain_spec, match);
}

static int nft_flush(FIXTURE_DATA(stack) *self, int host)
{
	return run_cmd("ip netns exec %s-%d nft flush chain ip " NFT_TABLE " c",
		       self->netns, host);
}

/* A listener on SERVER_IP in TAG-2 and its port; the caller is left there. */
static int server_listen(FIXTURE_DATA(stack) *self, const char *ip,
			 uint16_t *port)
{
	if (enter_host(self, 2))
		return -1;
	return stack_listen(self->family, ip, port);
}

/*
 * Wait up to @ms for @fd's connect: 1 connected, 0 still in progress, -1
 * failed (errno from SO_ERROR).
 */
static int connect_wait(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err;

	if (poll(&p, 1, ms) == 0)
		return 0;
	if (getsockopt_int(fd, SOL_SOCKET, SO_ERROR, &err))
		return -1;
	if (err) {
		errno = err;
		return -1;
	}
	return 1;
}

/*
 * With @block in force (a rule or policy for the stack's protocol and the
 * listener's port) a client's connect stays unanswered; once @unblock
 * lifts it, the SYN sent again gets through and the server accepts.
 */
static void connect_blocked_then_not(struct __test_metadata *_metadata,
				     FIXTURE_DATA(stack) *self,
				     int (*block)(FIXTURE_DATA(stack) *self,
						  int proto, uint16_t port),
				     int (*unblock)(FIXTURE_DATA(stack) *self))
{
	int proto = stack_ipproto(self->family);
	struct pollfd pfd = { .events = POLLIN };
	uint16_t port;
	int lfd, fd, srv;

	hosts_up(_metadata, self);
	ASSERT_LT(0, proto);
	lfd = server_listen(self, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, block(self, proto, port));
	fd = connect_from_client(self, SERVER_IP, port);
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(errno));
	EXPECT_EQ(0, connect_wait(fd, BLOCKED_MS))
		TH_LOG("connected through the block: %s", strerror(errno));
	ASSERT_EQ(0, unblock(self));
	ASSERT_EQ(1, connect_wait(fd, UNBLOCKED_MS))
		TH_LOG("no connection once unblocked: %s", strerror(errno));
	/* The server may take the client's last ACK a moment later. */
	pfd.fd = lfd;
	ASSERT_EQ(1, poll(&pfd, 1, UNBLOCKED_MS));
	srv = accept(lfd, NULL, NULL);
	EXPECT_LE(0, srv) TH_LOG("accept: %s", strerror(errno));
	close(srv);
	close(fd);
	close(lfd);
}

static int block_input_proto(FIXTURE_DATA(stack) *self, int proto,
			     uint16_t port)
{
	char match[64];

	(void)port;
	snprintf(match, sizeof(match), "ip protocol %d", proto);
	return nft_drop_rule(self, 2,
			     "type filter hook input priority 0", match);
}

/* The port by raw payload offset: nft knows no ports of protocol 253. */
static int block_input_port(FIXTURE_DATA(stack) *self, int proto,
			    uint16_t port)
{
	char match[64];

	snprintf(match, sizeof(match), "ip protocol %d @th,16,16 %u", proto,
		 port);
	return nft_drop_rule(self, 2,
			     "type filter hook input priority 0", match);
}

static int block_prerouting(FIXTURE_DATA(stack) *self, int proto,
			    uint16_t port)
{
	char match[64];

	(void)port;
	snprintf(match, sizeof(match), "ip protocol %d", proto);
	return nft_drop_rule(self, 2,
			     "type filter hook prerouting priority -300",
			     match);
}

/* The client's own OUTPUT chain: its SYN never leaves. */
static int block_output(FIXTURE_DATA(stack) *self, int proto,
			uint16_t port)
{
	char match[64];

	(void)port;
	snprintf(match, sizeof(match), "ip protocol %d", proto);
	return nft_drop_rule(self, 1,
			     "type filter hook output priority 0", match);
}

static int unblock_server(FIXTURE_DATA(stack) *self)
{
	return nft_flush(self, 2);
}

static int unblock_client(FIXTURE_DATA(stack) *self)
{
	return nft_flush(self, 1);
}

/* An IPsec policy on the server that blocks what the client sends. */
static int block_xfrm(FIXTURE_DATA(stack) *self, int proto, uint16_t port)
{
	(void)port;
	return run_cmd("ip -n %s-2 xfrm policy add src " CLIENT_IP "/32 dst "
		       SERVER_IP "/32 proto %d dir in action block",
		       self->netns, proto);
}

static int unblock_xfrm(FIXTURE_DATA(stack) *self)
{
	return run_cmd("ip -n %s-2 xfrm policy flush", self->netns);
}

TEST_F(stack, nft_input_drop_of_protocol_stops_connect)
{
	connect_blocked_then_not(_metadata, self, block_input_proto,
				 unblock_server);
}

TEST_F(stack, nft_input_drop_of_port_stops_connect)
{
	connect_blocked_then_not(_metadata, self, block_input_port,
				 unblock_server);
}

TEST_F(stack, nft_prerouting_drop_stops_connect)
{
	connect_blocked_then_not(_metadata, self, block_prerouting,
				 unblock_server);
}

TEST_F(stack, nft_output_drop_stops_connect)
{
	connect_blocked_then_not(_metadata, self, block_output,
				 unblock_client);
}

TEST_F(stack, xfrm_block_policy_stops_connect)
{
	connect_blocked_then_not(_metadata, self, block_xfrm, unblock_xfrm);
}

/* The drop rules above saw the segments they dropped. */
TEST_F(stack, nft_drop_rule_counts_the_syn)
{
	int proto = stack_ipproto(self->family);
	uint16_t port;
	int lfd, fd;

	hosts_up(_metadata, self);
	lfd = server_listen(self, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, block_input_port(self, proto, port));
	fd = connect_from_client(self, SERVER_IP, port);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, connect_wait(fd, 1500));
	EXPECT_LE(1, nft_rule_packets(self, 2, "drop"));
	close(fd);
	close(lfd);
}

/*
 * A connection from TAG-1 to a listener on SERVER_IP in TAG-2 that carries
 * 1000 bytes, client to server; *@fd and *@srv are its two ends, *@lfd
 * the listener. The caller is left in TAG-1.
 */
static void connect_and_send(struct __test_metadata *_metadata,
			     FIXTURE_DATA(stack) *self, int *lfd, int *fd,
			     int *srv)
{
	char buf[1000];
	uint16_t port;

	*lfd = server_listen(self, SERVER_IP, &port);
	ASSERT_LE(0, *lfd);
	ASSERT_EQ(0, enter_host(self, 1));
	*fd = stack_connect(self->family, SERVER_IP, port);
	ASSERT_LE(0, *fd) TH_LOG("connect: %s", strerror(errno));
	*srv = accept(*lfd, NULL, NULL);
	ASSERT_LE(0, *srv);
	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), send_all(*fd, buf, sizeof(buf)));
	ASSERT_EQ((ssize_t)sizeof(buf), recv_all(*srv, buf, sizeof(buf)));
}

/*
 * Conntrack follows the connection: its first segment is NEW at the
 * server's INPUT hook, the rest (the ACK, the data) ESTABLISHED.
 */
TEST_F(stack, conntrack_tracks_the_connection)
{
	int proto = stack_ipproto(self->family);
	int lfd, fd, srv;

	hosts_up(_metadata, self);
	ASSERT_EQ(0, run_cmd("ip netns exec %s-2 nft 'add table ip " NFT_TABLE
			     "; add chain ip " NFT_TABLE
			     " c { type filter hook input priority 0 ; }; "
			     "add rule ip " NFT_TABLE " c ip protocol %d ct state"
			     " new counter; add rule ip " NFT_TABLE
			     " c ip protocol %d ct state established counter'",
			     self->netns, proto, proto));
	connect_and_send(_metadata, self, &lfd, &fd, &srv);
	EXPECT_EQ(1, nft_rule_packets(self, 2, "ct state new"));
	EXPECT_LE(2, nft_rule_packets(self, 2, "ct state established"));
	close(srv);
	close(fd);
	close(lfd);
}

/*
 * Segments leave charged to the socket that sent them: netfilter's owner
 * match (meta skuid) sees every one the client's socket sent, as it sees
 * native TCP's. Without an owner it matches none.
 */
TEST_F(stack, nft_output_owner_match_sees_the_sender)
{
	int proto = stack_ipproto(self->family);
	int64_t all, owned;
	int lfd, fd, srv;

	hosts_up(_metadata, self);
	ASSERT_EQ(0, run_cmd("ip netns exec %s-1 nft 'add table ip " NFT_TABLE
			     "; add chain ip " NFT_TABLE
			     " c { type filter hook output priority 0 ; }; "
			     "add rule ip " NFT_TABLE " c ip protocol %d counter"
			     " comment \"all\"; add rule ip " NFT_TABLE
			     " c ip protocol %d meta skuid %u counter'",
			     self->netns, proto, proto, getuid()));
	connect_and_send(_metadata, self, &lfd, &fd, &srv);
	all = nft_rule_packets(self, 1, "all");
	owned = nft_rule_packets(self, 1, "skuid");
	TH_LOG("client segments %lld, matched by owner %lld", (long long)all,
	       (long long)owned);
	EXPECT_LE(3, owned);	/* SYN, ACK, data at least */
	EXPECT_EQ(all, owned);
	close(srv);
	close(fd);
	close(lfd);
}

/* veth2's link address, read in TAG-2; the caller is left there. */
static int server_mac(FIXTURE_DATA(stack) *self, uint8_t mac[ETH_ALEN])
{
	struct ifreq ifr;
	int fd, ret;

	if (enter_host(self, 2))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "veth2");
	ret = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	return ret;
}

/*
 * One hand-made segment from @src to @dst:@dport, as a frame from veth1 to
 * veth2's link address (the caller ends in TAG-2). 0 or -1.
 */
static int send_frame(FIXTURE_DATA(stack) *self, const char *src,
		      const char *dst, uint16_t dport, uint8_t flags)
{
	struct sockaddr_in s = sin_make(src, 0), d = sin_make(dst, 0);
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_halen = ETH_ALEN,
	};
	uint8_t pkt[SEG_PKT_MAX];
	ssize_t sent;
	size_t len;
	int fd;

	if (server_mac(self, ll.sll_addr) || enter_host(self, 1))
		return -1;
	ll.sll_ifindex = if_nametoindex("veth1");
	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	if (fd < 0 || !ll.sll_ifindex)
		return -1;
	len = build_segment(pkt, stack_ipproto(self->family),
			    s.sin_addr.s_addr, d.sin_addr.s_addr, 40000, dport,
			    0x1000, 0, flags, NULL, 0);
	sent = sendto(fd, pkt, len, 0, (struct sockaddr *)&ll, sizeof(ll));
	close(fd);
	if (sent != (ssize_t)len)
		return -1;
	return enter_host(self, 2);
}

/*
 * The sum over CPUs of column @col (from 0) of /proc/net/stat/rt_cache:
 * routing's own counters (6 in_martian_dst, 7 in_martian_src), -1 if
 * unreadable.
 */
static int64_t rt_cache_stat(int col)
{
	FILE *f = fopen("/proc/net/stat/rt_cache", "r");
	char line[512];
	int64_t sum = 0;

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		int i;

		for (i = 0; i < col; i++)
			strtoul(p, &p, 16);
		sum += strtoul(p, NULL, 16);
	}
	fclose(f);
	return sum;
}

#define MARTIAN_DST	6
#define MARTIAN_SRC	7

/* Poll (up to 2 s) until the server's InSegs passes @from; the last value. */
static int64_t wait_in_segs(int family, int64_t from)
{
	int64_t v = stack_in_segs(family);
	int i;

	for (i = 0; i < 200 && v <= from; i++) {
		msleep(10);
		v = stack_in_segs(family);
	}
	return v;
}

/*
 * SYNs from sources no host may have (the limited broadcast, multicast,
 * "this" network, the server's own address) never reach the stack: routing
 * drops them and counts each in in_martian_src. (A subnet's broadcast
 * address as a source is rp_filter's to catch, as for native TCP.) A bare
 * ACK from the client's real address, sent the same way, does reach it and
 * draws a RST that the client's stack ignores: one segment in.
 */
TEST_F(stack, martian_sources_dropped_by_routing)
{
	static const char * const sources[] = {
		"255.255.255.255", "224.0.0.5", "0.0.0.0", SERVER_IP,
	};
	int64_t segs, martians;
	uint16_t port;
	unsigned int i;
	int lfd;

	hosts_up(_metadata, self);
	lfd = server_listen(self, "0.0.0.0", &port);
	ASSERT_LE(0, lfd);
	segs = stack_in_segs(self->family);
	martians = rt_cache_stat(MARTIAN_SRC);
	ASSERT_LE(0, martians);
	for (i = 0; i < ARRAY_SIZE(sources); i++)
		ASSERT_EQ(0, send_frame(self, sources[i], SERVER_IP, port,
					SEG_SYN));
	msleep(300);
	EXPECT_EQ(segs, stack_in_segs(self->family));
	EXPECT_LE(martians + (int64_t)ARRAY_SIZE(sources),
		  rt_cache_stat(MARTIAN_SRC));
	ASSERT_EQ(0, send_frame(self, CLIENT_IP, SERVER_IP, port, SEG_ACK));
	EXPECT_EQ(segs + 1, wait_in_segs(self->family, segs));
	close(lfd);
}

/*
 * A segment for 127.0.0.1 arriving on veth2 is a martian destination
 * (route_localnet is off): a listener on the wildcard address never sees
 * it. With route_localnet on, the same frame reaches the stack.
 */
TEST_F(stack, loopback_destination_on_device_dropped)
{
	int64_t segs, martians;
	uint16_t port;
	int lfd;

	hosts_up(_metadata, self);
	lfd = server_listen(self, "0.0.0.0", &port);
	ASSERT_LE(0, lfd);
	segs = stack_in_segs(self->family);
	martians = rt_cache_stat(MARTIAN_DST);
	ASSERT_EQ(0, send_frame(self, CLIENT_IP, "127.0.0.1", port, SEG_SYN));
	msleep(300);
	EXPECT_EQ(segs, stack_in_segs(self->family));
	EXPECT_LT(martians, rt_cache_stat(MARTIAN_DST));
	ASSERT_EQ(0, run_cmd("ip netns exec %s-2 sysctl -qw "
			     "net.ipv4.conf.veth2.route_localnet=1",
			     self->netns));
	ASSERT_EQ(0, send_frame(self, CLIENT_IP, "127.0.0.1", port, SEG_SYN));
	EXPECT_EQ(segs + 1, wait_in_segs(self->family, segs));
	close(lfd);
}

/* Native's listener drops counted where a broadcast SYN ends; xtcp's. */
static int64_t broadcast_drops(int family)
{
	return stack_counter(family, "ListenDrops", "XtcpInNotUnicast");
}

/*
 * A SYN to the link's broadcast address reaches the stack (routing
 * delivers broadcasts locally) but a listener on the wildcard address
 * answers nothing: a SYN-ACK or a RST would go to the whole link. It is
 * dropped before any connection is made for it (native: in its
 * conn_request, ListenDrops; xtcp: before the lookup, InNotUnicast), not
 * just left unanswered because no route leaves from a broadcast address.
 */
TEST_F(stack, broadcast_destination_not_answered)
{
	int64_t segs, out, drops;
	uint16_t port;
	int lfd;

	hosts_up(_metadata, self);
	lfd = server_listen(self, "0.0.0.0", &port);
	ASSERT_LE(0, lfd);
	segs = stack_in_segs(self->family);
	out = stack_out_segs(self->family);
	drops = broadcast_drops(self->family);
	ASSERT_LE(0, drops);
	ASSERT_EQ(0, send_frame(self, CLIENT_IP, "10.77.0.255", port,
				SEG_SYN));
	EXPECT_EQ(segs + 1, wait_in_segs(self->family, segs));
	msleep(300);
	EXPECT_EQ(out, stack_out_segs(self->family));
	EXPECT_EQ(drops + 1, broadcast_drops(self->family));
	/*
	 * The same SYN to the server's address is answered (and the
	 * client's stack may answer the SYN-ACK with a RST).
	 */
	ASSERT_EQ(0, send_frame(self, CLIENT_IP, SERVER_IP, port, SEG_SYN));
	EXPECT_LE(segs + 2, wait_in_segs(self->family, segs + 1));
	msleep(300);
	EXPECT_LT(out, stack_out_segs(self->family));
	close(lfd);
}

/*
 * rp_filter=1 (strict): a SYN whose source the server would not route back
 * through veth2 is dropped before the stack and counted in
 * IPReversePathFilter; with rp_filter=0 the same SYN reaches the stack.
 */
TEST_F(stack, rp_filter_drops_spoofed_source)
{
	int64_t segs, rpf;
	uint16_t port;
	int lfd;

	hosts_up(_metadata, self);
	ASSERT_EQ(0, run_cmd("ip netns exec %s-2 sysctl -qw "
			     "net.ipv4.conf.all.rp_filter=1 "
			     "net.ipv4.conf.veth2.rp_filter=1", self->netns));
	lfd = server_listen(self, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	segs = stack_in_segs(self->family);
	rpf = stack_counter(AF_INET, "IPReversePathFilter", NULL);
	ASSERT_LE(0, rpf);
	ASSERT_EQ(0, send_frame(self, "10.88.0.5", SERVER_IP, port, SEG_SYN));
	msleep(300);
	EXPECT_EQ(segs, stack_in_segs(self->family));
	EXPECT_EQ(rpf + 1, stack_counter(AF_INET, "IPReversePathFilter",
					 NULL));
	ASSERT_EQ(0, run_cmd("ip netns exec %s-2 sysctl -qw "
			     "net.ipv4.conf.all.rp_filter=0 "
			     "net.ipv4.conf.veth2.rp_filter=0", self->netns));
	ASSERT_EQ(0, send_frame(self, "10.88.0.5", SERVER_IP, port, SEG_SYN));
	EXPECT_EQ(segs + 1, wait_in_segs(self->family, segs));
	close(lfd);
}

/*
 * A socket filter that drops everything (SO_ATTACH_FILTER) stops delivery:
 * the peer's data is dropped and counted in the socket's drops. Detached,
 * the peer's retransmission is delivered.
 */
TEST_F(stack, socket_filter_drop_all_stops_delivery)
{
	struct sock_filter drop_all[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 1, .filter = drop_all };
	char buf[100];
	int cli, srv, dummy = 0;

	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(0, setsockopt(srv, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
				sizeof(prog)));
	ASSERT_EQ(0, sock_meminfo(srv, SK_MEMINFO_DROPS));
	memset(buf, 'f', sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), send(cli, buf, sizeof(buf), 0));
	EXPECT_EQ(0, wait_inq(srv, (int)sizeof(buf), 1500));
	EXPECT_LE(1, sock_meminfo(srv, SK_MEMINFO_DROPS));
	ASSERT_EQ(0, setsockopt(srv, SOL_SOCKET, SO_DETACH_FILTER, &dummy,
				sizeof(dummy)));
	EXPECT_EQ((int)sizeof(buf), wait_inq(srv, (int)sizeof(buf), 10000));
	close(cli);
	close(srv);
}

/*
 * cgroup-BPF. The programs are a few instructions each, loaded with the
 * bpf() syscall (no libbpf); they attach to a cgroup of the case's own
 * (cgroup_enter), so that nothing else on the host is filtered.
 */
#define INSN(c, d, s, o, i) ((struct bpf_insn) {			\
	.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV_IMM(d, i)		INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define LDX_W(d, s, o)		INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define STX_W(d, s, o)		INSN(BPF_STX | BPF_MEM | BPF_W, d, s, o, 0)
#define ST_MEM(size, d, o, i)	INSN(BPF_ST | BPF_MEM | (size), d, 0, o, i)
#define JMP32_IMM(op, d, i, o)	INSN(BPF_JMP32 | (op) | BPF_K, d, 0, o, i)
#define EXIT_INSN		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

struct cg_prog {
	int fd;
	int cgroup_fd;
	enum bpf_attach_type type;
};

/*
 * Load @insns as a @ptype program for @type and attach it to the case's
 * cgroup. 0, or -1 with errno (ENOSYS: a kernel without bpf()).
 */
static int cg_attach(FIXTURE_DATA(stack) *self, struct cg_prog *p,
		     enum bpf_prog_type ptype, enum bpf_attach_type type,
		     const struct bpf_insn *insns, int n)
{
	static char log[4096];
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = ptype;
	a.expected_attach_type = type;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = n;
	a.license = (uintptr_t)"GPL";
	a.log_buf = (uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	p->fd = syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (p->fd < 0) {
		if (errno != ENOSYS)
			fprintf(stderr, "# verifier: %s\n", log);
		return -1;
	}
	p->cgroup_fd = open(self->cgroup, O_RDONLY | O_DIRECTORY);
	if (p->cgroup_fd < 0)
		return -1;
	p->type = type;
	memset(&a, 0, sizeof(a));
	a.target_fd = p->cgroup_fd;
	a.attach_bpf_fd = p->fd;
	a.attach_type = type;
	return syscall(__NR_bpf, BPF_PROG_ATTACH, &a, sizeof(a)) ? -1 : 0;
}

static int cg_detach(struct cg_prog *p)
{
	union bpf_attr a;
	int err;

	memset(&a, 0, sizeof(a));
	a.target_fd = p->cgroup_fd;
	a.attach_bpf_fd = p->fd;
	a.attach_type = p->type;
	err = syscall(__NR_bpf, BPF_PROG_DETACH, &a, sizeof(a));
	close(p->fd);
	close(p->cgroup_fd);
	return err ? -1 : 0;
}

/* Into a cgroup of the case's own, or SKIP when the kernel has no bpf(). */
#define CGROUP_BPF_READY(self) do {					\
	if (syscall(__NR_bpf, -1, NULL, 0) < 0 && errno == ENOSYS)	\
		SKIP(return, "this kernel has no bpf() (CONFIG_BPF_SYSCALL)"); \
	ASSERT_EQ(0, cgroup_enter(self))				\
		TH_LOG("cgroup2 at " CGROUP2_ROOT ": %s", strerror(errno)); \
} while (0)

/* A sock_addr program: refuse (0) when the 32-bit field at @off is @val. */
static int cg_refuse_field(FIXTURE_DATA(stack) *self, struct cg_prog *p,
			   enum bpf_attach_type type, int off, uint32_t val)
{
	const struct bpf_insn insns[] = {
		LDX_W(BPF_REG_2, BPF_REG_1, off),
		MOV_IMM(BPF_REG_0, 1),
		JMP32_IMM(BPF_JNE, BPF_REG_2, (int32_t)val, 1),
		MOV_IMM(BPF_REG_0, 0),
		EXIT_INSN,
	};

	return cg_attach(self, p, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, type, insns,
			 sizeof(insns) / sizeof(insns[0]));
}

/* A program that returns @verdict for everything (0: drop or refuse). */
static int cg_verdict(FIXTURE_DATA(stack) *self, struct cg_prog *p,
		      enum bpf_prog_type ptype, enum bpf_attach_type type,
		      int verdict)
{
	const struct bpf_insn insns[] = {
		MOV_IMM(BPF_REG_0, verdict),
		EXIT_INSN,
	};

	return cg_attach(self, p, ptype, type, insns, 2);
}

/*
 * A connect4 program that refuses the server's address fails connect()
 * with EPERM at once, sending nothing; another destination still works,
 * and so does the server's once the program is gone.
 */
TEST_F(stack, cgroup_connect4_program_refuses_address)
{
	struct sockaddr_in sin = sin_make("127.0.0.1", 0);
	struct cg_prog prog;
	uint16_t port, lo_port;
	int lfd, lo_lfd, fd;

	CGROUP_BPF_READY(self);
	hosts_up(_metadata, self);
	lfd = server_listen(self, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, cg_refuse_field(self, &prog, BPF_CGROUP_INET4_CONNECT,
				     offsetof(struct bpf_sock_addr, user_ip4),
				     inet_addr(SERVER_IP)));
	fd = connect_from_client(self, SERVER_IP, port);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EPERM, errno);

	/* Loopback in TAG-1 is another destination: allowed. */
	lo_lfd = stack_listen(self->family, "127.0.0.1", &lo_port);
	ASSERT_LE(0, lo_lfd);
	sin.sin_port = htons(lo_port);
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		TH_LOG("connect to 127.0.0.1: %s", strerror(errno));
	close(fd);
	close(lo_lfd);

	ASSERT_EQ(0, cg_detach(&prog));
	fd = connect_from_client(self, SERVER_IP, port);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, connect_wait(fd, UNBLOCKED_MS));
	close(fd);
	close(lfd);
}

/*
 * bind4 programs run before the bind (one refusing a port fails it with
 * EPERM) and post_bind4 programs after it: one refusing everything fails
 * the bind with EPERM and gives the port back.
 */
TEST_F(stack, cgroup_bind4_and_post_bind4_programs_refuse)
{
	struct sockaddr_in sin = sin_make("127.0.0.1", 0);
	struct cg_prog prog;
	int lfd, fd, fd2;
	uint16_t port;

	CGROUP_BPF_READY(self);
	/* A free port: taken, then given back. */
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	close(lfd);
	sin.sin_port = htons(port);

	ASSERT_EQ(0, cg_refuse_field(self, &prog, BPF_CGROUP_INET4_BIND,
				     offsetof(struct bpf_sock_addr, user_port),
				     htons(port)));
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_EQ(EPERM, errno);
	close(fd);
	ASSERT_EQ(0, cg_detach(&prog));

	ASSERT_EQ(0, cg_verdict(self, &prog, BPF_PROG_TYPE_CGROUP_SOCK,
				BPF_CGROUP_INET4_POST_BIND, 0));
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_EQ(EPERM, errno);
	ASSERT_EQ(0, cg_detach(&prog));

	/* The refused socket, still open, did not keep the port. */
	fd2 = stack_socket(self->family);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, bind(fd2, (struct sockaddr *)&sin, sizeof(sin)))
		TH_LOG("bind beside the refused socket: %s", strerror(errno));
	close(fd2);
	close(fd);
}

/* A sock_create program refusing everything fails socket() with EPERM. */
TEST_F(stack, cgroup_sock_create_program_refuses_socket)
{
	struct cg_prog prog;
	int fd;

	CGROUP_BPF_READY(self);
	ASSERT_EQ(0, cg_verdict(self, &prog, BPF_PROG_TYPE_CGROUP_SOCK,
				BPF_CGROUP_INET_SOCK_CREATE, 0));
	fd = stack_socket(self->family);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EPERM, errno);
	ASSERT_EQ(0, cg_detach(&prog));
	fd = stack_socket(self->family);
	EXPECT_LE(0, fd);
	close(fd);
}

/* A sock_addr program that writes @port into user_port and allows. */
static int cg_set_port(FIXTURE_DATA(stack) *self, struct cg_prog *p,
		       enum bpf_attach_type type, uint16_t port)
{
	const struct bpf_insn insns[] = {
		MOV_IMM(BPF_REG_2, htons(port)),
		STX_W(BPF_REG_1, BPF_REG_2,
		      offsetof(struct bpf_sock_addr, user_port)),
		MOV_IMM(BPF_REG_0, 1),
		EXIT_INSN,
	};

	return cg_attach(self, p, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, type, insns,
			 4);
}

/*
 * getsockname and getpeername programs may rewrite what the calls report
 * (a proxy's transparent redirect is undone so): each here puts a port of
 * its own that the socket does not have.
 */
TEST_F(stack, cgroup_getname_programs_rewrite_port)
{
	struct cg_prog sockname, peername;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	uint16_t lport, pport;
	int cli, srv;

	CGROUP_BPF_READY(self);
	ASSERT_EQ(0, stack_pair(self->family, &cli, &srv));
	ASSERT_EQ(0, getsockname(cli, (struct sockaddr *)&sin, &len));
	lport = ntohs(sin.sin_port);
	ASSERT_EQ(0, getpeername(cli, (struct sockaddr *)&sin, &len));
	pport = ntohs(sin.sin_port);
	ASSERT_NE(4242, lport);
	ASSERT_NE(4343, pport);
	ASSERT_EQ(0, cg_set_port(self, &sockname,
				 BPF_CGROUP_INET4_GETSOCKNAME, 4242));
	ASSERT_EQ(0, cg_set_port(self, &peername,
				 BPF_CGROUP_INET4_GETPEERNAME, 4343));
	ASSERT_EQ(0, getsockname(cli, (struct sockaddr *)&sin, &len));
	EXPECT_EQ(4242, ntohs(sin.sin_port));
	ASSERT_EQ(0, getpeername(cli, (struct sockaddr *)&sin, &len));
	EXPECT_EQ(4343, ntohs(sin.sin_port));
	ASSERT_EQ(0, cg_detach(&sockname));
	ASSERT_EQ(0, cg_detach(&peername));
	ASSERT_EQ(0, getsockname(cli, (struct sockaddr *)&sin, &len));
	EXPECT_EQ(lport, ntohs(sin.sin_port));
	ASSERT_EQ(0, getpeername(cli, (struct sockaddr *)&sin, &len));
	EXPECT_EQ(pport, ntohs(sin.sin_port));
	close(cli);
	close(srv);
}

/*
 * A connect4 program may bind the socket itself (bpf_bind, as a service
 * pinning its source port does): the connection then leaves from that
 * port. The kernel's __inet_bind does the bind, through the protocol's
 * get_port.
 */
TEST_F(stack, cgroup_connect4_program_binds_source_port)
{
	struct sockaddr_in sin = sin_make("127.0.0.1", 0);
	socklen_t len = sizeof(sin);
	struct cg_prog prog;
	uint16_t port, pin;
	int lfd, fd;

	CGROUP_BPF_READY(self);
	/* A free port to pin: taken, then given back. */
	lfd = stack_listen(self->family, "127.0.0.1", &pin);
	ASSERT_LE(0, lfd);
	close(lfd);
	{
		const struct bpf_insn insns[] = {
			ST_MEM(BPF_DW, BPF_REG_10, -16, 0),
			ST_MEM(BPF_DW, BPF_REG_10, -8, 0),
			ST_MEM(BPF_H, BPF_REG_10, -16, AF_INET),
			ST_MEM(BPF_H, BPF_REG_10, -14, htons(pin)),
			INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2,
			     BPF_REG_10, 0, 0),
			INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0,
			     -16),
			MOV_IMM(BPF_REG_3, 16),
			INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_bind),
			MOV_IMM(BPF_REG_0, 1),
			EXIT_INSN,
		};

		ASSERT_EQ(0, cg_attach(self, &prog,
				       BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
				       BPF_CGROUP_INET4_CONNECT, insns,
				       sizeof(insns) / sizeof(insns[0])));
	}
	lfd = stack_listen(self->family, "127.0.0.1", &port);
	ASSERT_LE(0, lfd);
	fd = stack_connect(self->family, "127.0.0.1", port);
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(errno));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sin, &len));
	EXPECT_EQ(pin, ntohs(sin.sin_port));
	ASSERT_EQ(0, cg_detach(&prog));
	close(fd);
	close(lfd);
}

static struct cg_prog blocking_prog;

/* Egress (or ingress) programs dropping every packet of the case's cgroup. */
static int block_cgroup_egress(FIXTURE_DATA(stack) *self, int proto,
			       uint16_t port)
{
	(void)proto;
	(void)port;
	return cg_verdict(self, &blocking_prog, BPF_PROG_TYPE_CGROUP_SKB,
			  BPF_CGROUP_INET_EGRESS, 0);
}

static int block_cgroup_ingress(FIXTURE_DATA(stack) *self, int proto,
				uint16_t port)
{
	(void)proto;
	(void)port;
	return cg_verdict(self, &blocking_prog, BPF_PROG_TYPE_CGROUP_SKB,
			  BPF_CGROUP_INET_INGRESS, 0);
}

static int unblock_cgroup(FIXTURE_DATA(stack) *self)
{
	(void)self;
	return cg_detach(&blocking_prog);
}

/*
 * The case's sockets, client and listener, in its cgroup: an egress
 * program dropping everything keeps the SYN from leaving (systemd's
 * IPAddressDeny= works so), an ingress one keeps it from being taken.
 */
TEST_F(stack, cgroup_egress_program_stops_connect)
{
	CGROUP_BPF_READY(self);
	connect_blocked_then_not(_metadata, self, block_cgroup_egress,
				 unblock_cgroup);
}

TEST_F(stack, cgroup_ingress_program_stops_connect)
{
	CGROUP_BPF_READY(self);
	connect_blocked_then_not(_metadata, self, block_cgroup_ingress,
				 unblock_cgroup);
}

/*
 * An accepted connection belongs to its listener's cgroup, whichever
 * context made it: the listener is made in the case's cgroup, the client
 * outside it, and an egress program there dropping packets above 200
 * bytes stops the server's data but not the client's, until detached.
 */
TEST_F(stack, cgroup_accepted_connection_in_listener_cgroup)
{
	const struct bpf_insn drop_big[] = {
		LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct __sk_buff, len)),
		MOV_IMM(BPF_REG_0, 1),
		JMP32_IMM(BPF_JLE, BPF_REG_2, 200, 1),
		MOV_IMM(BPF_REG_0, 0),
		EXIT_INSN,
	};
	struct pollfd pfd = { .events = POLLIN };
	struct cg_prog prog;
	char buf[1000];
	int lfd, fd, srv;
	uint16_t port;

	CGROUP_BPF_READY(self);
	hosts_up(_metadata, self);
	lfd = server_listen(self, SERVER_IP, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, cgroup_leave(self));
	fd = connect_from_client(self, SERVER_IP, port);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, connect_wait(fd, UNBLOCKED_MS));
	pfd.fd = lfd;
	ASSERT_EQ(1, poll(&pfd, 1, UNBLOCKED_MS));
	srv = accept(lfd, NULL, NULL);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, cg_attach(self, &prog, BPF_PROG_TYPE_CGROUP_SKB,
			       BPF_CGROUP_INET_EGRESS, drop_big, 5));

	memset(buf, 'c', sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), send(fd, buf, sizeof(buf), 0));
	EXPECT_EQ((int)sizeof(buf), wait_inq(srv, (int)sizeof(buf), UNBLOCKED_MS))
		TH_LOG("the client, outside the cgroup, was filtered");
	ASSERT_EQ((ssize_t)sizeof(buf), send(srv, buf, sizeof(buf), 0));
	EXPECT_EQ(0, wait_inq(fd, (int)sizeof(buf), BLOCKED_MS))
		TH_LOG("the accepted connection's data left the cgroup's filter");
	ASSERT_EQ(0, cg_detach(&prog));
	EXPECT_EQ((int)sizeof(buf), wait_inq(fd, (int)sizeof(buf), UNBLOCKED_MS));
	close(srv);
	close(fd);
	close(lfd);
}

TEST_HARNESS_MAIN
