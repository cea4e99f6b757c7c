// SPDX-License-Identifier: GPL-2.0
/*
 * Per-namespace socket tables: established connections by 4-tuple,
 * listeners by local port, and every bound socket by port (for bind
 * conflicts and ephemeral port choice). One spinlock per namespace guards
 * all three (see xtcp.h); each table entry holds a socket reference.
 * TIME_WAIT entries (timewait.c) sit in the established and bind tables
 * beside sockets, half-open request socks (request.c) in the established
 * table: code that walks those tables reads only the sock_common of what it
 * finds until it has checked the state. SO_REUSEPORT listeners also belong
 * to a sock_reuseport group (its own lock); they join and leave it, and
 * lookups pick from it, under the namespace's lock, so a member picked is
 * still hashed.
 */
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/siphash.h>
#include <net/inet_connection_sock.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock_reuseport.h>

#include "xtcp.h"

static unsigned int xtcp_net_id __read_mostly;
static u32 xtcp_hash_seed __read_mostly;

/*
 * Where connect()'s search for a local port starts (RFC 6056 3.3.4, as
 * native's __inet_hash_connect): a keyed hash of the destination plus a
 * counter, one per hash bucket, that each search moves past the ports it
 * tried. Connections to one peer take consecutive ports, so a 4-tuple
 * comes back only after the whole range has been used (its TIME_WAIT
 * entry usually gone), and no one can tell another peer's ports from
 * theirs; 65,536 counters, as native's since CVE-2022-32296, so that
 * colliding destinations cannot be found to track a host by. The
 * counters are shared by all namespaces, read and written without a
 * lock: a lost update only moves a start.
 */
#define XTCP_PORT_PERTURB_BITS	16
static u32 *port_perturb;
static siphash_key_t port_key __read_mostly;

/*
 * A search over the local port range from offset @start: first the
 * offsets of one parity, then the others. connect() takes even offsets
 * first and bind(0) odd ones, as native, so that many connections leave
 * bind() and listen() half the range.
 */
struct port_walk {
	int low;
	int range;
	u32 start;
	int parity;
	int pass;
	int i;
	int tried;
};

static void port_walk_init(struct port_walk *w, struct net *net, u32 start,
			   int parity)
{
	int high;

	inet_get_local_port_range(net, &w->low, &high);
	w->range = max(high - w->low + 1, 0);
	w->start = w->range ? start % w->range : 0;
	w->parity = parity;
	w->pass = 0;
	w->i = 0;
	w->tried = 0;
}

/*
 * The next port to try, or false when none is left. Every 64 ports the
 * table lock (held, @xn's) is let go a moment: a search of the whole
 * range must not keep receive processing waiting.
 */
static bool port_walk_next(struct port_walk *w, struct xtcp_net *xn,
			   u16 *port)
{
	while (w->pass < 2) {
		while (w->i < w->range) {
			u32 off = (w->start + w->i++) % w->range;

			if ((off & 1) != (w->parity ^ w->pass))
				continue;
			if (++w->tried % 64 == 0) {
				spin_unlock_bh(&xn->lock);
				cond_resched();
				spin_lock_bh(&xn->lock);
			}
			*port = w->low + off;
			return true;
		}
		w->pass++;
		w->i = 0;
	}
	return false;
}

struct xtcp_net *xtcp_net(const struct net *net)
{
	return net_generic(net, xtcp_net_id);
}

static u32 tuple_hash(__be32 laddr, __be16 lport, __be32 raddr, __be16 rport)
{
	u32 ports = ((u32)(__force u16)lport << 16) | (__force u16)rport;

	return jhash_3words((__force u32)laddr, (__force u32)raddr, ports,
			    xtcp_hash_seed);
}

static struct hlist_head *ehash_head(struct xtcp_net *xn, __be32 laddr,
				     __be16 lport, __be32 raddr, __be16 rport)
{
	return &xn->ehash[tuple_hash(laddr, lport, raddr, rport) &
			  xn->ehash_mask];
}

static u32 lhash_bucket(u16 port)
{
	return port & ((1 << XTCP_LHASH_BITS) - 1);
}

static struct hlist_head *bhash_head(struct xtcp_net *xn, u16 port)
{
	return &xn->bhash[port & xn->bhash_mask];
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
 * Native TCP's rule for a port asked for by number: two sockets may share
 * it on overlapping addresses if both set SO_REUSEADDR and the one already
 * there is not listening (listen() asks again, so two such sockets cannot
 * both listen), or if both set SO_REUSEPORT and one user owns them (any
 * TIME_WAIT entry's owner is gone: it does not count).
 */
static bool bind_conflict(struct sock *sk, struct sock *other, __be32 addr)
{
	if (other == sk)
		return false;
	if (!addrs_overlap(addr, other->sk_rcv_saddr) ||
	    !devs_overlap(sk, other))
		return false;
	if (sk->sk_reuse && other->sk_reuse && other->sk_state != TCP_LISTEN)
		return false;
	if (sk->sk_reuseport && other->sk_reuseport &&
	    (other->sk_state == TCP_TIME_WAIT ||
	     uid_eq(sock_i_uid(sk), sock_i_uid(other))))
		return false;
	return true;
}

/*
 * The bind table links sockets and TIME_WAIT entries alike by their
 * sock_common's sk_bind_node; the rest of them is read after the state.
 */
static bool port_in_use(struct xtcp_net *xn, struct sock *sk, __be32 addr,
			u16 port)
{
	struct sock *other;

	sk_for_each_bound(other, bhash_head(xn, port))
		if (other->sk_num == port && bind_conflict(sk, other, addr))
			return true;
	return false;
}

static bool port_has_any(struct xtcp_net *xn, u16 port)
{
	struct sock *other;

	sk_for_each_bound(other, bhash_head(xn, port))
		if (other->sk_num == port)
			return true;
	return false;
}

static bool bound_by_connect(const struct sock *sk)
{
	return sk->sk_state == TCP_TIME_WAIT ? xtcp_tw(sk)->connect_bound :
					       xtcp_sk(sk)->connect_bound;
}

static void add_bound(struct xtcp_net *xn, struct sock *sk, u16 port)
{
	inet_sk(sk)->inet_num = port;
	inet_sk(sk)->inet_sport = htons(port);
	sk_add_bind_node(sk, bhash_head(xn, port));
	sock_hold(sk);
	xtcp_sk(sk)->bound = true;
}

static struct xtcp_guard *entry_guard(const struct sock *sk)
{
	return sk->sk_state == TCP_TIME_WAIT ? xtcp_tw(sk)->guard :
					       xtcp_sk(sk)->guard;
}

/*
 * The guard an entry bound to @addr:@port on device @dev shares (children
 * and connections), or NULL: of a listener on that address, else on any
 * address (a child's own listener), else of an entry on that address.
 * Entries of our own protocol have none.
 */
static struct xtcp_guard *port_guard(struct xtcp_net *xn, u16 port,
				     __be32 addr, int dev)
{
	struct xtcp_guard *found = NULL;
	struct sock *other;
	int score, best = 0;

	sk_for_each_bound(other, bhash_head(xn, port)) {
		if (other->sk_num != port || other->sk_bound_dev_if != dev ||
		    !entry_guard(other))
			continue;
		if (other->sk_rcv_saddr == addr)
			score = 2;
		else if (!other->sk_rcv_saddr)
			score = 1;
		else
			continue;
		if (other->sk_state == TCP_LISTEN)
			score += 2;
		else if (score == 1)
			continue;
		if (score > best) {
			best = score;
			found = entry_guard(other);
		}
	}
	return found;
}

/*
 * The guard of @sk's SO_REUSEPORT siblings on @addr:@port and its device,
 * which @sk shares: a guard never sets SO_REUSEPORT itself.
 */
static struct xtcp_guard *reuseport_guard(struct xtcp_net *xn,
					  struct sock *sk, __be32 addr,
					  u16 port)
{
	struct sock *other;

	if (!sk->sk_reuseport)
		return NULL;
	sk_for_each_bound(other, bhash_head(xn, port))
		if (other->sk_num == port && other->sk_state != TCP_TIME_WAIT &&
		    other->sk_reuseport && other->sk_rcv_saddr == addr &&
		    other->sk_bound_dev_if == sk->sk_bound_dev_if &&
		    xtcp_sk(other)->guard)
			return xtcp_sk(other)->guard;
	return NULL;
}

/*
 * @sk takes @port through guard @g (NULL in our own protocol): shared
 * with @shared's entries, else bound in native's tables, which may refuse.
 */
static int take_port(struct xtcp_net *xn, struct sock *sk, __be32 addr,
		     u16 port, struct xtcp_guard *g, struct xtcp_guard *shared)
{
	if (g && !shared && xtcp_guard_bind(g, addr, port))
		return -EADDRINUSE;
	if (g)
		xtcp_sk(sk)->guard = xtcp_guard_get(shared ?: g);
	add_bound(xn, sk, port);
	return 0;
}

/*
 * Bind @sk to @addr:@port; port 0 picks a port no socket holds from
 * ip_local_port_range, starting at a random point, odd offsets first. In
 * wire mode native TCP must have the port free too (guard.c).
 */
int xtcp_bind_port(struct sock *sk, __be32 addr, u16 port)
{
	struct net *net = sock_net(sk);
	struct xtcp_net *xn = xtcp_net(net);
	struct xtcp_guard *g;
	struct port_walk walk;
	u16 candidate;
	int err = 0;

	g = xtcp_guard_alloc(sk);
	if (IS_ERR(g))
		return PTR_ERR(g);
	if (port) {
		spin_lock_bh(&xn->lock);
		if (port_in_use(xn, sk, addr, port))
			err = -EADDRINUSE;
		else
			err = take_port(xn, sk, addr, port, g,
					reuseport_guard(xn, sk, addr, port));
		spin_unlock_bh(&xn->lock);
		xtcp_guard_put(g);
		return err;
	}

	port_walk_init(&walk, net, get_random_u32(), 1);
	err = -EADDRNOTAVAIL;
	spin_lock_bh(&xn->lock);
	while (port_walk_next(&walk, xn, &candidate)) {
		if (inet_is_local_reserved_port(net, candidate) ||
		    port_has_any(xn, candidate))
			continue;
		if (!take_port(xn, sk, addr, candidate, g, NULL)) {
			err = 0;
			break;
		}
	}
	spin_unlock_bh(&xn->lock);
	xtcp_guard_put(g);
	return err;
}

static bool tuple_matches(const struct sock *sk, __be32 raddr, __be16 rport,
			  __be32 laddr, __be16 lport, int dif);

/* The entry for @sk's addresses with local port @lport, if any. */
static struct sock *tuple_owner(struct xtcp_net *xn, const struct sock *sk,
				__be16 lport, struct hlist_head **head)
{
	const struct inet_sock *inet = inet_sk(sk);
	struct sock *other;

	*head = ehash_head(xn, inet->inet_rcv_saddr, lport, inet->inet_daddr,
			   inet->inet_dport);
	sk_for_each(other, *head)
		if (tuple_matches(other, inet->inet_daddr, inet->inet_dport,
				  inet->inet_rcv_saddr, lport,
				  sk->sk_bound_dev_if))
			return other;
	return NULL;
}

/* Only sock_common: @sk is a TIME_WAIT entry. */
static bool on_loopback(const struct sock *sk)
{
	return sk->sk_bound_dev_if == LOOPBACK_IFINDEX ||
	       ipv4_is_loopback(sk->sk_daddr) ||
	       ipv4_is_loopback(sk->sk_rcv_saddr);
}

/*
 * May a connect() take the 4-tuple of @tw over, as native's
 * tcp_twsk_unique? Only where the old connection used timestamps: the
 * new one's are newer (the same offset, a later clock), so the peer's
 * PAWS tells the two incarnations' segments apart. A port the search
 * chose needs net.xtcp.tw_reuse (2: loopback only) and a second since the
 * peer's last timestamp; a port the user bound is taken at once.
 */
static bool tw_reusable(struct xtcp_net *xn, const struct sock *tw,
			bool searched)
{
	int reuse = READ_ONCE(xn->time_wait_reuse);
	u32 stamp;

	if (READ_ONCE(tw->sk_state) != TCP_TIME_WAIT)
		return false;
	stamp = READ_ONCE(xtcp_tw(tw)->ts_recent_stamp);
	if (!stamp)
		return false;
	if (!searched)
		return true;
	if (reuse == 2 && !on_loopback(tw))
		reuse = 0;
	return reuse && (s32)((u32)ktime_get_seconds() - stamp) > 0;
}

/*
 * @sk takes @head's place for its 4-tuple (xn->lock held). A TIME_WAIT
 * entry @tw there leaves the table now; its timer cannot be stopped
 * under this lock, so xtcp_hash_connect ends it after, and *tw_isn is
 * where the new connection's sequence space starts, past the old one's
 * as native's. Returns @tw, held.
 */
static struct sock *take_tuple(struct xtcp_net *xn, struct sock *sk,
			       struct hlist_head *head, struct sock *tw,
			       u32 *tw_isn)
{
	if (tw) {
		*tw_isn = xtcp_isn_after_time_wait(tw);
		xtcp_stat_inc(sock_net(sk), XTCP_MIB_TIME_WAIT_RECYCLED);
		sock_hold(tw);
		/* sk_del_node_init drops the table's reference. */
		sk_del_node_init(tw);
		xtcp_tw(tw)->hashed = false;
	}
	sk_add_node(sk, head);
	xtcp_sk(sk)->hashed = true;
	return tw;
}

/* Every socket on @port got it from connect(): 4-tuples tell them apart. */
static bool port_shared_by_connects(struct xtcp_net *xn, u16 port)
{
	struct sock *other;

	sk_for_each_bound(other, bhash_head(xn, port))
		if (other->sk_num == port && !bound_by_connect(other))
			return false;
	return true;
}

/*
 * A local port for connect() (xn->lock held): from the RFC 6056 start
 * for the destination, the first one not reserved, not taken by bind() or
 * a listener, and whose 4-tuple is free or a reusable TIME_WAIT entry; in
 * wire mode one free in native's tables too, or held by our guard (@g,
 * else NULL) for other connections from it.
 */
static int search_port(struct xtcp_net *xn, struct sock *sk, u32 *tw_isn,
		       struct sock **tw, struct xtcp_guard *g)
{
	const struct inet_sock *inet = inet_sk(sk);
	struct net *net = sock_net(sk);
	struct port_walk walk;
	struct hlist_head *head;
	struct sock *other;
	u32 *perturb;
	u16 port;
	u64 hash;

	hash = siphash_3u32((__force u32)inet->inet_rcv_saddr,
			    (__force u32)inet->inet_daddr,
			    (__force u16)inet->inet_dport, &port_key);
	perturb = &port_perturb[hash & (BIT(XTCP_PORT_PERTURB_BITS) - 1)];
	port_walk_init(&walk, net, READ_ONCE(*perturb) + (u32)(hash >> 32), 0);
	while (port_walk_next(&walk, xn, &port)) {
		if (inet_is_local_reserved_port(net, port) ||
		    !port_shared_by_connects(xn, port))
			continue;
		other = tuple_owner(xn, sk, htons(port), &head);
		if (other && !tw_reusable(xn, other, true))
			continue;
		if (take_port(xn, sk, inet->inet_rcv_saddr, port, g,
			      g ? port_guard(xn, port, inet->inet_rcv_saddr,
					     sk->sk_bound_dev_if) : NULL))
			continue;
		xtcp_sk(sk)->connect_bound = true;
		*tw = take_tuple(xn, sk, head, other, tw_isn);
		/*
		 * The bucket's next search starts past the ports this one
		 * tried (two offsets each: one parity), and when that is
		 * only a few, a random few further: the next port is not
		 * quite predictable.
		 */
		WRITE_ONCE(*perturb, READ_ONCE(*perturb) + 2 *
			   (max_t(u32, walk.tried - 1,
				  get_random_u32_below(8)) + 1));
		return 0;
	}
	return -EADDRNOTAVAIL;
}

/*
 * connect(): a local port if @sk has none, and @sk in the established
 * table under its 4-tuple, in one step so that no other connect() takes
 * the same 4-tuple meanwhile. *tw_isn is 0, or the initial sequence
 * number to use when a TIME_WAIT entry of the 4-tuple gave way.
 */
int xtcp_hash_connect(struct sock *sk, u32 *tw_isn)
{
	struct xtcp_net *xn = xtcp_net(sock_net(sk));
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_guard *g = NULL;
	struct sock *tw = NULL, *other;
	struct hlist_head *head;
	int err = 0;

	*tw_isn = 0;
	if (!inet->inet_num) {
		g = xtcp_guard_alloc(sk);
		if (IS_ERR(g))
			return PTR_ERR(g);
	}
	spin_lock_bh(&xn->lock);
	if (!inet->inet_num) {
		err = search_port(xn, sk, tw_isn, &tw, g);
	} else {
		other = tuple_owner(xn, sk, inet->inet_sport, &head);
		if (other && !tw_reusable(xn, other, false))
			err = -EADDRNOTAVAIL;
		else
			tw = take_tuple(xn, sk, head, other, tw_isn);
	}
	spin_unlock_bh(&xn->lock);
	xtcp_guard_put(g);
	if (tw) {
		/* Out of the table already; its port goes too. */
		xtcp_time_wait_end(tw);
		sock_gen_put(tw);
	}
	return err;
}

void xtcp_unbind_port(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_net(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_guard *g;
	bool was_bound;

	spin_lock_bh(&xn->lock);
	was_bound = xs->bound;
	if (was_bound) {
		__sk_del_bind_node(sk);
		xs->bound = false;
		xs->connect_bound = false;
	}
	g = xs->guard;
	xs->guard = NULL;
	spin_unlock_bh(&xn->lock);
	xtcp_guard_put(g);
	if (was_bound) {
		/* The port is given back: bind() and listen() start afresh. */
		inet_sk(sk)->inet_num = 0;
		inet_sk(sk)->inet_sport = 0;
		__sock_put(sk);
	}
}

/*
 * Bind a child to its listener's port (it shares it, as native TCP does),
 * through the listener's guard in wire mode.
 */
static void inherit_bound(struct xtcp_net *xn, struct sock *sk)
{
	u16 port = inet_sk(sk)->inet_num;

	if (xtcp_sk(sk)->bound)
		return;
	if (xtcp_sk(sk)->wire)
		xtcp_sk(sk)->guard = xtcp_guard_get(port_guard(xn, port,
							       sk->sk_rcv_saddr,
							       sk->sk_bound_dev_if));
	add_bound(xn, sk, port);
}

/* Only sock_common: @sk may be a TIME_WAIT entry. */
static bool tuple_matches(const struct sock *sk, __be32 raddr, __be16 rport,
			  __be32 laddr, __be16 lport, int dif)
{
	return sk->sk_daddr == raddr && sk->sk_dport == rport &&
	       sk->sk_rcv_saddr == laddr && sk->sk_num == ntohs(lport) &&
	       (!sk->sk_bound_dev_if || sk->sk_bound_dev_if == dif);
}

int xtcp_hash_established(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_net(sock_net(sk));
	struct hlist_head *head;
	int err = -EADDRNOTAVAIL;

	spin_lock_bh(&xn->lock);
	if (!tuple_owner(xn, sk, inet_sk(sk)->inet_sport, &head)) {
		inherit_bound(xn, sk);
		sk_add_node(sk, head);
		xtcp_sk(sk)->hashed = true;
		err = 0;
	}
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

/*
 * Half-open @req into the established table, with the table's and the
 * timer's references; the timer is armed here, under the lock, as a
 * TIME_WAIT entry's. Request socks are not in the bind table: their
 * listener holds the port. -EEXIST when the 4-tuple is taken (a twin
 * from a retransmitted SYN got there first).
 */
int xtcp_hash_req(struct request_sock *req, unsigned long timeout)
{
	struct sock *rsk = req_to_sk(req);
	struct xtcp_net *xn = xtcp_net(sock_net(rsk));
	__be16 lport = htons(rsk->sk_num);
	struct hlist_head *head;
	struct sock *other;
	int err = 0;

	head = ehash_head(xn, rsk->sk_rcv_saddr, lport, rsk->sk_daddr,
			  rsk->sk_dport);
	spin_lock_bh(&xn->lock);
	sk_for_each(other, head) {
		if (tuple_matches(other, rsk->sk_daddr, rsk->sk_dport,
				  rsk->sk_rcv_saddr, lport,
				  rsk->sk_bound_dev_if)) {
			err = -EEXIST;
			goto out;
		}
	}
	refcount_add(2, &req->rsk_refcnt);
	__sk_add_node(rsk, head);
	WRITE_ONCE(xtcp_rsk(req)->hashed, true);
	mod_timer(&req->rsk_timer, jiffies + timeout);
out:
	spin_unlock_bh(&xn->lock);
	return err;
}

/*
 * @req leaves the established table. True for the one caller that took it
 * out: the table's reference is now that caller's to drop.
 */
bool xtcp_unhash_req(struct request_sock *req)
{
	struct sock *rsk = req_to_sk(req);
	struct xtcp_net *xn = xtcp_net(sock_net(rsk));
	bool was_hashed;

	spin_lock_bh(&xn->lock);
	was_hashed = xtcp_rsk(req)->hashed;
	if (was_hashed) {
		__sk_del_node_init(rsk);
		WRITE_ONCE(xtcp_rsk(req)->hashed, false);
	}
	spin_unlock_bh(&xn->lock);
	return was_hashed;
}

/*
 * @req's SYN-ACK timer again, from its handler: only while @req is in the
 * table, under the lock that takes it out, so that once out (and the
 * timer stopped or run) it never fires again. False: not re-armed.
 */
bool xtcp_rearm_req(struct request_sock *req, unsigned long timeout)
{
	struct xtcp_net *xn = xtcp_net(sock_net(req_to_sk(req)));
	bool hashed;

	spin_lock_bh(&xn->lock);
	hashed = xtcp_rsk(req)->hashed;
	if (hashed)
		mod_timer(&req->rsk_timer, jiffies + timeout);
	spin_unlock_bh(&xn->lock);
	return hashed;
}

/*
 * @child takes @req's place in the established table, in one step, so that
 * no segment of the 4-tuple finds neither, and shares its listener's port
 * in the bind table. False when @req is gone already (dropped, or another
 * CPU's child took it): the caller's child must not be used. On success
 * the table's reference on @req is the caller's to drop.
 */
bool xtcp_hash_req_child(struct request_sock *req, struct sock *child)
{
	struct sock *rsk = req_to_sk(req);
	struct xtcp_net *xn = xtcp_net(sock_net(rsk));
	bool taken;

	spin_lock_bh(&xn->lock);
	taken = xtcp_rsk(req)->hashed;
	if (taken) {
		hlist_add_before(&child->sk_node, &rsk->sk_node);
		sock_hold(child);
		xtcp_sk(child)->hashed = true;
		inherit_bound(xn, child);
		__sk_del_node_init(rsk);
		WRITE_ONCE(xtcp_rsk(req)->hashed, false);
	}
	spin_unlock_bh(&xn->lock);
	return taken;
}

/*
 * TIME_WAIT entry @tw takes @sk's places in the tables, in one step, so
 * that no segment of the 4-tuple finds neither (sk's lock held). @tw
 * holds the port as long as it lasts, as native's does. Its timer is
 * armed here, under the lock: whoever finds the entry finds it armed, so
 * that a timer stopped (xtcp_time_wait_end) means an entry ended, and a
 * timer that fires at once waits for the lock to unhash it.
 */
void xtcp_hash_time_wait(struct sock *sk, struct xtcp_tw_sock *tw,
			 unsigned long timeout)
{
	struct xtcp_net *xn = xtcp_net(sock_net(sk));
	struct sock *twsk = (struct sock *)tw;
	struct xtcp_sock *xs = xtcp_sk(sk);

	spin_lock_bh(&xn->lock);
	if (xs->hashed) {
		hlist_add_before(&twsk->sk_node, &sk->sk_node);
		sock_hold(twsk);
		tw->hashed = true;
		sk_del_node_init(sk);
		xs->hashed = false;
	}
	tw->connect_bound = xs->connect_bound;
	tw->guard = xtcp_guard_get(xs->guard);
	sk_add_bind_node(twsk, bhash_head(xn, twsk->sk_num));
	sock_hold(twsk);
	mod_timer(&tw->tw.tw_timer, jiffies + timeout);
	spin_unlock_bh(&xn->lock);
}

/*
 * @tw leaves both tables, once (end_entry, its timer stopped); the caller
 * holds a reference of its own.
 */
void xtcp_unhash_time_wait(struct xtcp_tw_sock *tw)
{
	struct sock *twsk = (struct sock *)tw;
	struct xtcp_net *xn = xtcp_net(sock_net(twsk));
	struct xtcp_guard *g;

	spin_lock_bh(&xn->lock);
	if (tw->hashed) {
		sk_del_node_init(twsk);
		tw->hashed = false;
	}
	__sk_del_bind_node(twsk);
	__sock_put(twsk);
	g = tw->guard;
	tw->guard = NULL;
	spin_unlock_bh(&xn->lock);
	xtcp_guard_put(g);
}

/*
 * A listener with SO_REUSEPORT joins the group of the one already
 * listening on the same address, port and device for the same user, or
 * starts one (the kernel's sock_reuseport, as native's listeners).
 */
static int join_reuseport_group(struct xtcp_net *xn, struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	kuid_t uid = sock_i_uid(sk);
	struct sock *other;

	sk_for_each(other, &xn->lhash[lhash_bucket(inet->inet_num)]) {
		if (other != sk && other->sk_reuseport &&
		    inet_sk(other)->inet_num == inet->inet_num &&
		    other->sk_rcv_saddr == sk->sk_rcv_saddr &&
		    other->sk_bound_dev_if == sk->sk_bound_dev_if &&
		    xtcp_sk(other)->wire == xtcp_sk(sk)->wire &&
		    uid_eq(uid, sock_i_uid(other)))
			return reuseport_add_sock(sk, other,
						  !sk->sk_rcv_saddr);
	}
	return reuseport_alloc(sk, !sk->sk_rcv_saddr);
}

int xtcp_hash_listener(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_net(sock_net(sk));
	struct inet_sock *inet = inet_sk(sk);
	int err = 0;

	spin_lock_bh(&xn->lock);
	if (port_in_use(xn, sk, inet->inet_rcv_saddr, inet->inet_num))
		err = -EADDRINUSE;
	else
		err = xtcp_guard_listen(xtcp_sk(sk)->guard);
	if (!err && sk->sk_reuseport) {
		err = join_reuseport_group(xn, sk);
		if (err)
			xtcp_guard_unlisten(xtcp_sk(sk)->guard);
	}
	if (!err) {
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
		xtcp_guard_unlisten(xs->guard);
		/*
		 * Lookups pick group members under xn->lock: none picks it
		 * now. A group made before listen() (a BPF program attached)
		 * stays until sk_destruct, as native's.
		 */
		if (rcu_access_pointer(sk->sk_reuseport_cb))
			reuseport_detach_sock(sk);
	}
	spin_unlock_bh(&xn->lock);
}

/*
 * How well listener @sk fits a segment of IP protocol @proto to
 * @laddr:@lport that came in on @dif, as native's compute_score ranks
 * them: bound to the address before bound to any, then bound to the device
 * before not. -1: not at all.
 */
static int listener_score(const struct sock *sk, __be32 laddr, u16 lport,
			  int dif, u8 proto)
{
	if (inet_sk(sk)->inet_num != lport || xtcp_wire_proto(sk) != proto)
		return -1;
	if (sk->sk_bound_dev_if && sk->sk_bound_dev_if != dif)
		return -1;
	if (sk->sk_rcv_saddr && sk->sk_rcv_saddr != laddr)
		return -1;
	return (sk->sk_rcv_saddr ? 2 : 0) + (sk->sk_bound_dev_if ? 1 : 0);
}

/*
 * The listener for @skb (skb->data at its header @th), which came in on
 * @dif. In an SO_REUSEPORT
 * group, the group's BPF program or the 4-tuple's hash picks the member,
 * so every segment of a connection finds the same one.
 */
static struct sock *lookup_listener(struct xtcp_net *xn, struct sk_buff *skb,
				    const struct xtcp_seg_hdr *th, int dif)
{
	__be32 laddr = ip_hdr(skb)->daddr;
	struct sock *sk, *best = NULL, *member;
	int score, hiscore = -1;

	sk_for_each(sk, &xn->lhash[lhash_bucket(th->dport)]) {
		score = listener_score(sk, laddr, th->dport, dif,
				       ip_hdr(skb)->protocol);
		if (score > hiscore) {
			best = sk;
			hiscore = score;
		}
	}
	if (!best || !best->sk_reuseport ||
	    !rcu_access_pointer(best->sk_reuseport_cb))
		return best;
	member = reuseport_select_sock(best,
				       tuple_hash(laddr, htons(th->dport),
						  ip_hdr(skb)->saddr,
						  htons(th->sport)),
				       skb, th->hdr_len);
	if (IS_ERR(member))	/* the group's program refused it */
		return NULL;
	return member ?: best;
}

/*
 * The IP protocol an entry of the established table speaks: its own, its
 * listener's for a request sock, what its socket spoke for a TIME_WAIT
 * entry. A private-protocol segment never finds a wire-mode entry, nor
 * the other way round.
 */
static u8 entry_protocol(const struct sock *sk)
{
	switch (sk->sk_state) {
	case TCP_TIME_WAIT:
		return xtcp_tw(sk)->protocol;
	case TCP_NEW_SYN_RECV:
		return xtcp_wire_proto(inet_reqsk((struct sock *)sk)->rsk_listener);
	default:
		return xtcp_wire_proto(sk);
	}
}

/* The established-table entry of IP protocol @proto for a 4-tuple (xn->lock). */
static struct sock *ehash_find(struct xtcp_net *xn, __be32 laddr, __be16 lport,
			       __be32 raddr, __be16 rport, int dif, u8 proto)
{
	struct sock *sk;

	sk_for_each(sk, ehash_head(xn, laddr, lport, raddr, rport)) {
		if (tuple_matches(sk, raddr, rport, laddr, lport, dif) &&
		    entry_protocol(sk) == proto)
			return sk;
	}
	return NULL;
}

/*
 * Find the socket for @skb (skb->data at its header @th), which arrived
 * on inet_iif(): an exact connection first (maybe a TIME_WAIT entry or a
 * request sock: sk_state says, sock_gen_put() drops it), else a listener.
 * Runs in softirq. Returns a held socket or NULL.
 */
struct sock *xtcp_lookup(struct net *net, struct sk_buff *skb,
			 const struct xtcp_seg_hdr *th)
{
	const struct iphdr *iph = ip_hdr(skb);
	struct xtcp_net *xn = xtcp_net(net);
	int dif = inet_iif(skb);
	struct sock *sk;

	spin_lock(&xn->lock);
	sk = ehash_find(xn, iph->daddr, htons(th->dport), iph->saddr,
			htons(th->sport), dif, iph->protocol);
	if (!sk)
		sk = lookup_listener(xn, skb, th, dif);
	if (sk)
		sock_hold(sk);
	spin_unlock(&xn->lock);
	return sk;
}

/*
 * The connection, request sock or TIME_WAIT entry of IP protocol @proto
 * with this 4-tuple (softirq), held, or NULL. For ICMP errors, which
 * concern connections only, as native's.
 */
struct sock *xtcp_lookup_connection(struct net *net, __be32 laddr,
				    __be16 lport, __be32 raddr, __be16 rport,
				    int dif, u8 proto)
{
	struct xtcp_net *xn = xtcp_net(net);
	struct sock *sk;

	spin_lock(&xn->lock);
	sk = ehash_find(xn, laddr, lport, raddr, rport, dif, proto);
	if (sk)
		sock_hold(sk);
	spin_unlock(&xn->lock);
	return sk;
}

/* The listener for SYN @skb with header @th (softirq), held, or NULL. */
struct sock *xtcp_lookup_listener(struct net *net, struct sk_buff *skb,
				  const struct xtcp_seg_hdr *th)
{
	struct xtcp_net *xn = xtcp_net(net);
	struct sock *sk;

	spin_lock(&xn->lock);
	sk = lookup_listener(xn, skb, th, inet_iif(skb));
	if (sk)
		sock_hold(sk);
	spin_unlock(&xn->lock);
	return sk;
}

static int xtcp_tables_init(struct net *net, struct xtcp_net *xn)
{
	unsigned int shift = net_eq(net, &init_net) ? 0 : XTCP_CHILD_NET_SHIFT;
	u32 ehash_size = 1U << (XTCP_EHASH_BITS - shift);
	u32 bhash_size = 1U << (XTCP_BHASH_BITS - shift);
	int i;

	spin_lock_init(&xn->lock);
	/* Zeroed heads are empty lists. */
	/* Charged to whoever makes the namespace, as native's. */
	xn->ehash = kvcalloc(ehash_size, sizeof(*xn->ehash),
			     GFP_KERNEL_ACCOUNT);
	xn->bhash = kvcalloc(bhash_size, sizeof(*xn->bhash),
			     GFP_KERNEL_ACCOUNT);
	if (!xn->ehash || !xn->bhash) {
		kvfree(xn->ehash);
		kvfree(xn->bhash);
		return -ENOMEM;
	}
	xn->ehash_mask = ehash_size - 1;
	xn->bhash_mask = bhash_size - 1;
	for (i = 0; i < ARRAY_SIZE(xn->lhash); i++)
		INIT_HLIST_HEAD(&xn->lhash[i]);
	return 0;
}

/* The first TIME_WAIT entry bound in @head, held, or NULL. */
static struct sock *first_time_wait(struct xtcp_net *xn,
				    struct hlist_head *head)
{
	struct sock *sk;

	spin_lock_bh(&xn->lock);
	sk_for_each_bound(sk, head) {
		if (sk->sk_state == TCP_TIME_WAIT) {
			sock_hold(sk);
			goto out;
		}
	}
	sk = NULL;
out:
	spin_unlock_bh(&xn->lock);
	return sk;
}

/*
 * The namespace is being dismantled, its devices are gone, no segment
 * reaches it: its TIME_WAIT entries, which hold no reference on it, end
 * now, as native's inet_twsk_purge. Each is in the bind table.
 */
static void purge_time_wait(struct xtcp_net *xn)
{
	struct sock *sk;
	u32 i;

	for (i = 0; i <= xn->bhash_mask; i++) {
		/* A listener's port may hold tens of thousands of them. */
		while ((sk = first_time_wait(xn, &xn->bhash[i]))) {
			/* Ended here, or by its timer, which this waits for. */
			xtcp_time_wait_end(sk);
			sock_gen_put(sk);
			cond_resched();
		}
	}
}

/*
 * The namespace's sockets are gone (a user's holds a reference on it), its
 * TIME_WAIT entries too.
 */
static void xtcp_tables_exit(struct xtcp_net *xn)
{
	kvfree(xn->ehash);
	kvfree(xn->bhash);
}

static int __net_init xtcp_net_init(struct net *net)
{
	struct xtcp_net *xn = xtcp_net(net);
	int err;

	err = xtcp_tables_init(net, xn);
	if (err)
		return err;
	err = xtcp_stats_net_init(net);
	if (err)
		goto tables;
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
tables:
	xtcp_tables_exit(xn);
	return err;
}

static void __net_exit xtcp_net_exit(struct net *net)
{
	xtcp_proc_net_exit(net);
	purge_time_wait(xtcp_net(net));
	/* Guards are native sockets of @net: released before it goes. */
	xtcp_guard_flush();
	xtcp_sysctl_net_exit(net);
	xtcp_stats_net_exit(net);
	xtcp_tables_exit(xtcp_net(net));
}

static struct pernet_operations xtcp_net_ops = {
	.init = xtcp_net_init,
	.exit = xtcp_net_exit,
	.id = &xtcp_net_id,
	.size = sizeof(struct xtcp_net),
};

int xtcp_hash_init(void)
{
	int err;

	xtcp_hash_seed = get_random_u32();
	get_random_bytes(&port_key, sizeof(port_key));
	port_perturb = kvmalloc_array(BIT(XTCP_PORT_PERTURB_BITS),
				      sizeof(*port_perturb), GFP_KERNEL);
	if (!port_perturb)
		return -ENOMEM;
	get_random_bytes(port_perturb,
			 BIT(XTCP_PORT_PERTURB_BITS) * sizeof(*port_perturb));
	err = register_pernet_subsys(&xtcp_net_ops);
	if (err)
		kvfree(port_perturb);
	return err;
}

void xtcp_hash_exit(void)
{
	unregister_pernet_subsys(&xtcp_net_ops);
	kvfree(port_perturb);
}
