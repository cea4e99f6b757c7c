// SPDX-License-Identifier: GPL-2.0
/*
 * Per-namespace socket tables: established connections by 4-tuple,
 * listeners by local port, and every bound socket by port (for bind
 * conflicts and ephemeral port choice). One spinlock per namespace guards
 * all three (see xtcp.h); each table entry holds a socket reference.
 */
#include <linux/jhash.h>
#include <linux/random.h>
#include <net/inet_connection_sock.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "xtcp.h"

static unsigned int xtcp_net_id __read_mostly;
static u32 xtcp_hash_seed __read_mostly;

struct xtcp_net *xtcp_net(const struct net *net)
{
	return net_generic(net, xtcp_net_id);
}

static u32 ehash_bucket(__be32 laddr, __be16 lport, __be32 raddr,
			__be16 rport)
{
	u32 ports = ((u32)(__force u16)lport << 16) | (__force u16)rport;

	return jhash_3words((__force u32)laddr, (__force u32)raddr, ports,
			    xtcp_hash_seed) & ((1 << XTCP_EHASH_BITS) - 1);
}

static u32 lhash_bucket(u16 port)
{
	return port & ((1 << XTCP_LHASH_BITS) - 1);
}

static u32 bhash_bucket(u16 port)
{
	return port & ((1 << XTCP_BHASH_BITS) - 1);
}

static bool addrs_overlap(__be32 a, __be32 b)
{
	return !a || !b || a == b;
}

static bool devs_overlap(const struct sock *a, const struct sock *b)
{
	return !a->sk_bound_dev_if || !b->sk_bound_dev_if ||
	       a->sk_bound_dev_if == b->sk_bound_dev_if;
}

/*
 * Native TCP's rule: two sockets may share a port on overlapping addresses
 * only if both set SO_REUSEADDR and the one already there is not listening.
 * listen() asks again, so two such sockets cannot both listen.
 */
static bool bind_conflict(const struct sock *sk, const struct sock *other,
			  __be32 addr)
{
	if (other == sk)
		return false;
	if (!addrs_overlap(addr, other->sk_rcv_saddr) ||
	    !devs_overlap(sk, other))
		return false;
	if (sk->sk_reuse && other->sk_reuse && other->sk_state != TCP_LISTEN)
		return false;
	return true;
}

static bool port_in_use(struct xtcp_net *xn, const struct sock *sk,
			__be32 addr, u16 port)
{
	struct xtcp_sock *other;

	hlist_for_each_entry(other, &xn->bhash[bhash_bucket(port)], bind_node) {
		struct sock *osk = (struct sock *)other;

		if (other->inet.inet_num == port &&
		    bind_conflict(sk, osk, addr))
			return true;
	}
	return false;
}

static bool port_has_any(struct xtcp_net *xn, u16 port)
{
	struct xtcp_sock *other;

	hlist_for_each_entry(other, &xn->bhash[bhash_bucket(port)], bind_node)
		if (other->inet.inet_num == port)
			return true;
	return false;
}

static void add_bound(struct xtcp_net *xn, struct sock *sk, u16 port)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	inet_sk(sk)->inet_num = port;
	inet_sk(sk)->inet_sport = htons(port);
	hlist_add_head(&xs->bind_node, &xn->bhash[bhash_bucket(port)]);
	xs->bound = true;
	sock_hold(sk);
}

/*
 * Bind @sk to @addr:@port; port 0 picks a free ephemeral port from
 * ip_local_port_range, starting at a random point.
 */
int xtcp_bind_port(struct sock *sk, __be32 addr, u16 port)
{
	struct net *net = sock_net(sk);
	struct xtcp_net *xn = xtcp_net(net);
	int low, high, range, i, err = 0;
	u32 start;

	if (port) {
		spin_lock_bh(&xn->lock);
		if (port_in_use(xn, sk, addr, port))
			err = -EADDRINUSE;
		else
			add_bound(xn, sk, port);
		spin_unlock_bh(&xn->lock);
		return err;
	}

	inet_get_local_port_range(net, &low, &high);
	range = high - low + 1;
	if (range <= 0)
		return -EADDRNOTAVAIL;
	start = get_random_u32_below(range);
	err = -EADDRNOTAVAIL;
	spin_lock_bh(&xn->lock);
	for (i = 0; i < range; i++) {
		u16 candidate = low + (start + i) % range;

		if (inet_is_local_reserved_port(net, candidate) ||
		    port_has_any(xn, candidate))
			continue;
		add_bound(xn, sk, candidate);
		err = 0;
		break;
	}
	spin_unlock_bh(&xn->lock);
	return err;
}

void xtcp_unbind_port(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_net(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool was_bound;

	spin_lock_bh(&xn->lock);
	was_bound = xs->bound;
	if (was_bound) {
		hlist_del_init(&xs->bind_node);
		xs->bound = false;
	}
	spin_unlock_bh(&xn->lock);
	if (was_bound) {
		/* The port is given back: bind() and listen() start afresh. */
		inet_sk(sk)->inet_num = 0;
		inet_sk(sk)->inet_sport = 0;
		__sock_put(sk);
	}
}

/* Bind a child to its listener's port (it shares it, as native TCP does). */
static void inherit_bound(struct xtcp_net *xn, struct sock *sk)
{
	if (!xtcp_sk(sk)->bound)
		add_bound(xn, sk, inet_sk(sk)->inet_num);
}

static bool tuple_matches(const struct sock *sk, __be32 raddr, __be16 rport,
			  __be32 laddr, __be16 lport, int dif)
{
	const struct inet_sock *inet = inet_sk(sk);

	return inet->inet_daddr == raddr && inet->inet_dport == rport &&
	       inet->inet_rcv_saddr == laddr && inet->inet_sport == lport &&
	       (!sk->sk_bound_dev_if || sk->sk_bound_dev_if == dif);
}

int xtcp_hash_established(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_net(sock_net(sk));
	struct inet_sock *inet = inet_sk(sk);
	struct hlist_head *head;
	struct sock *other;
	int err = 0;

	head = &xn->ehash[ehash_bucket(inet->inet_rcv_saddr, inet->inet_sport,
				       inet->inet_daddr, inet->inet_dport)];
	spin_lock_bh(&xn->lock);
	sk_for_each(other, head) {
		if (tuple_matches(other, inet->inet_daddr, inet->inet_dport,
				  inet->inet_rcv_saddr, inet->inet_sport,
				  sk->sk_bound_dev_if)) {
			err = -EADDRNOTAVAIL;
			goto out;
		}
	}
	inherit_bound(xn, sk);
	sk_add_node(sk, head);
	xtcp_sk(sk)->hashed = true;
out:
	spin_unlock_bh(&xn->lock);
	return err;
}

void xtcp_unhash_established(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_net(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);

	spin_lock_bh(&xn->lock);
	if (xs->hashed) {
		/* sk_del_node_init drops the table's reference. */
		sk_del_node_init(sk);
		xs->hashed = false;
	}
	spin_unlock_bh(&xn->lock);
}

int xtcp_hash_listener(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_net(sock_net(sk));
	struct inet_sock *inet = inet_sk(sk);
	int err = 0;

	spin_lock_bh(&xn->lock);
	if (port_in_use(xn, sk, inet->inet_rcv_saddr, inet->inet_num)) {
		err = -EADDRINUSE;
	} else {
		sk_add_node(sk, &xn->lhash[lhash_bucket(inet->inet_num)]);
		xtcp_sk(sk)->listening_hashed = true;
	}
	spin_unlock_bh(&xn->lock);
	return err;
}

void xtcp_unhash_listener(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_net(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);

	spin_lock_bh(&xn->lock);
	if (xs->listening_hashed) {
		sk_del_node_init(sk);
		xs->listening_hashed = false;
	}
	spin_unlock_bh(&xn->lock);
}

static struct sock *lookup_listener(struct xtcp_net *xn, __be32 laddr,
				    u16 lport, int dif)
{
	struct sock *sk, *best = NULL;

	sk_for_each(sk, &xn->lhash[lhash_bucket(lport)]) {
		if (inet_sk(sk)->inet_num != lport)
			continue;
		if (sk->sk_bound_dev_if && sk->sk_bound_dev_if != dif)
			continue;
		if (sk->sk_rcv_saddr == laddr)
			return sk;
		if (!sk->sk_rcv_saddr && !best)
			best = sk;
	}
	return best;
}

/*
 * Find the socket for a segment from @saddr:@sport to @daddr:@dport that
 * arrived on device @dif: an exact connection first, else a listener.
 * Runs in softirq. Returns a held socket or NULL.
 */
struct sock *xtcp_lookup(struct net *net, __be32 saddr, __be16 sport,
			 __be32 daddr, __be16 dport, int dif)
{
	struct xtcp_net *xn = xtcp_net(net);
	struct sock *sk;

	spin_lock(&xn->lock);
	sk_for_each(sk, &xn->ehash[ehash_bucket(daddr, dport, saddr, sport)]) {
		if (tuple_matches(sk, saddr, sport, daddr, dport, dif))
			goto found;
	}
	sk = lookup_listener(xn, daddr, ntohs(dport), dif);
	if (!sk)
		goto out;
found:
	sock_hold(sk);
out:
	spin_unlock(&xn->lock);
	return sk;
}

/* The listener for a SYN to @daddr:@dport on @dif (softirq), held, or NULL. */
struct sock *xtcp_lookup_listener(struct net *net, __be32 daddr, __be16 dport,
				  int dif)
{
	struct xtcp_net *xn = xtcp_net(net);
	struct sock *sk;

	spin_lock(&xn->lock);
	sk = lookup_listener(xn, daddr, ntohs(dport), dif);
	if (sk)
		sock_hold(sk);
	spin_unlock(&xn->lock);
	return sk;
}

static int __net_init xtcp_net_init(struct net *net)
{
	struct xtcp_net *xn = xtcp_net(net);
	int i, err;

	spin_lock_init(&xn->lock);
	for (i = 0; i < ARRAY_SIZE(xn->ehash); i++)
		INIT_HLIST_HEAD(&xn->ehash[i]);
	for (i = 0; i < ARRAY_SIZE(xn->lhash); i++)
		INIT_HLIST_HEAD(&xn->lhash[i]);
	for (i = 0; i < ARRAY_SIZE(xn->bhash); i++)
		INIT_HLIST_HEAD(&xn->bhash[i]);
	err = xtcp_stats_net_init(net);
	if (err)
		return err;
	err = xtcp_sysctl_net_init(net);
	if (err)
		goto stats;
	err = xtcp_proc_net_init(net);
	if (err)
		goto sysctl;
	return 0;

sysctl:
	xtcp_sysctl_net_exit(net);
stats:
	xtcp_stats_net_exit(net);
	return err;
}

static void __net_exit xtcp_net_exit(struct net *net)
{
	xtcp_proc_net_exit(net);
	xtcp_sysctl_net_exit(net);
	xtcp_stats_net_exit(net);
}

static struct pernet_operations xtcp_net_ops = {
	.init = xtcp_net_init,
	.exit = xtcp_net_exit,
	.id = &xtcp_net_id,
	.size = sizeof(struct xtcp_net),
};

int xtcp_hash_init(void)
{
	xtcp_hash_seed = get_random_u32();
	return register_pernet_subsys(&xtcp_net_ops);
}

void xtcp_hash_exit(void)
{
	unregister_pernet_subsys(&xtcp_net_ops);
}
