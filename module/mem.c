// SPDX-License-Identifier: GPL-2.0
/*
 * Protocol memory accounting, the kernel's (sk_mem_*, __sk_mem_schedule) as
 * native TCP uses it: every skb on a socket's write, receive and
 * out-of-order queues is charged by truesize to the socket's forward
 * allocation and, in pages, to xtcp_memory_allocated and the socket's
 * memory cgroup. net.xtcp.mem's three values (pages, host-wide, as
 * net.ipv4.tcp_mem) are the limits the kernel applies:
 *   below [0]   no pressure;
 *   above [1]   memory pressure: send buffers stop growing
 *               (sndbuf_expand) and out-of-order data is pruned first when
 *               a charge is refused, until the total drops below [0];
 *   above [2]   a new charge is refused, but a socket may always hold
 *               net.xtcp.rmem[0] / wmem[0] bytes, and in-order data for
 *               an empty receive queue is always taken: a sender then
 *               waits (its send buffer shrunk to half its queue), a
 *               receiver drops the segment, pruning its out-of-order queue
 *               first.
 * Under pressure, a receiver whose reader is behind offers at most 4 MSS
 * (output.c, rcv_free_space), as native's.
 * net.xtcp.rmem and wmem (bytes: minimum, default, autotuning maximum) are
 * host-wide, unlike native's per-namespace tcp_rmem / tcp_wmem, because the
 * kernel reads a protocol's minimum from struct proto, not from a
 * namespace; the three limits and the two triples are shown and set only in
 * the initial namespace.
 */
#include <linux/mm.h>
#include <linux/percpu_counter.h>
#include <net/inet_common.h>
#include <net/sock.h>

#include "xtcp.h"

/* Pages charged to all xtcp sockets; the kernel's helpers update it. */
atomic_long_t xtcp_memory_allocated ____cacheline_aligned_in_smp;
/* Per-CPU pages not yet folded into xtcp_memory_allocated. */
DEFINE_PER_CPU(int, xtcp_memory_per_cpu_fw_alloc);
/* Sockets alive, for the per-socket fair share under pressure. */
struct percpu_counter xtcp_sockets_allocated;
/* 0, or the jiffies (never 0) at which memory pressure began. */
unsigned long xtcp_memory_pressure __read_mostly;

long sysctl_xtcp_mem[3] __read_mostly;
int sysctl_xtcp_rmem[3] __read_mostly = {
	4096, XTCP_DEFAULT_RCVBUF, XTCP_MAX_RCVBUF
};

int sysctl_xtcp_wmem[3] __read_mostly = {
	4096, XTCP_DEFAULT_SNDBUF, XTCP_MAX_SNDBUF
};

void xtcp_enter_memory_pressure(struct sock *sk)
{
	unsigned long now = jiffies ?: 1;

	if (READ_ONCE(xtcp_memory_pressure))
		return;
	if (!cmpxchg(&xtcp_memory_pressure, 0, now))
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_MEMORY_PRESSURES);
}

/*
 * Every xtcp socket's destructor: the kernel's for an inet socket, which
 * gives back what the socket still has charged, then our count of sockets.
 */
void xtcp_sock_destruct(struct sock *sk)
{
	inet_sock_destruct(sk);
	sk_sockets_allocated_dec(sk);
}

void xtcp_leave_memory_pressure(struct sock *sk)
{
	if (READ_ONCE(xtcp_memory_pressure))
		xchg(&xtcp_memory_pressure, 0);
}

/*
 * May @sk's buffers grow? Not under pressure (the protocol's or its memory
 * cgroup's), nor above net.xtcp.mem[0], as native's tcp_should_expand_sndbuf.
 */
bool xtcp_buffers_may_grow(const struct sock *sk)
{
	return !sk_under_memory_pressure(sk) &&
	       sk_memory_allocated(sk) < sk_prot_mem_limits(sk, 0);
}

/* Charge @skb, new on the write queue and scheduled, to @sk. */
void xtcp_wmem_queue(struct sock *sk, struct sk_buff *skb)
{
	sk_wmem_queued_add(sk, skb->truesize);
	sk_mem_charge(sk, skb->truesize);
}

/*
 * What the connection cannot do without (a FIN, the part of a split
 * segment) is charged even when the limit refuses it, as native's
 * sk_forced_mem_schedule: the forward allocation then runs negative and
 * the socket's next schedule pays it back.
 */
void xtcp_wmem_queue_forced(struct sock *sk, struct sk_buff *skb)
{
	sk_wmem_schedule(sk, skb->truesize);
	xtcp_wmem_queue(sk, skb);
}

/* A write-queue skb leaves the queue: sent and acknowledged, or purged. */
void xtcp_wmem_free_skb(struct sock *sk, struct sk_buff *skb)
{
	sk_wmem_queued_add(sk, -skb->truesize);
	sk_mem_uncharge(sk, skb->truesize);
	__kfree_skb(skb);
}

/*
 * Native's defaults for tcp_mem: of the pages a buffer may use, 1/16 is
 * the pressure threshold, 3/4 of that the low mark and twice the low mark
 * the limit.
 */
int xtcp_mem_init(void)
{
	unsigned long limit = max(nr_free_buffer_pages() / 16, 128UL);

	sysctl_xtcp_mem[0] = limit / 4 * 3;
	sysctl_xtcp_mem[1] = limit;
	sysctl_xtcp_mem[2] = sysctl_xtcp_mem[0] * 2;
	return percpu_counter_init(&xtcp_sockets_allocated, 0, GFP_KERNEL);
}

void xtcp_mem_exit(void)
{
	percpu_counter_destroy(&xtcp_sockets_allocated);
}
