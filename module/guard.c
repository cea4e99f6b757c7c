// SPDX-License-Identifier: GPL-2.0
/*
 * One port space with native TCP in wire mode. A port an xtcp socket
 * binds, listens on or connects from must be in use for native TCP too,
 * and the other way round, with native's rules between the two (the
 * SO_REUSEADDR ones included); native TCP only looks in its own tables.
 * So every wire-mode xtcp port is held in native's tables by a guard: a
 * kernel TCP socket, never connected and never hashed for lookups, bound
 * through native's own get_port to the same address and port with the
 * xtcp socket's SO_REUSEADDR and device. Binding the guard asks native
 * whether the port is free for us; holding it tells native the port is
 * taken. A guard whose xtcp sockets listen says TCP_LISTEN, as a native
 * listener does in its bind bucket, so the listener rules apply; it is not
 * in native's listener table, so it never takes a connection.
 *
 * xtcp entries share a guard where they share a port the way native's
 * sockets do: a listener's children and TIME_WAIT entries take its guard,
 * connections from one port share one, as do the members of an
 * SO_REUSEPORT group on one address; a guard never sets SO_REUSEPORT, so
 * no native socket joins an xtcp group. When the last entry lets go the
 * port is given back at once and the socket freed from a work item.
 */
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/inet_connection_sock.h>
#include <net/inet_hashtables.h>
#include <net/inet_sock.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "xtcp.h"

struct xtcp_guard {
	struct socket *sock;	/* native's, bound to the port */
	refcount_t ref;		/* xtcp entries holding the port through it */
	int listeners;		/* xtcp_net lock: of them, listening */
	struct work_struct release_work;
};

static struct workqueue_struct *guard_wq;

/*
 * The state native's bind rules read (inet_sk_state_store is not
 * exported); nothing else looks at a guard's.
 */
static void guard_set_state(struct sock *gsk, int state)
{
	/* Paired with the readers' acquire, as inet_sk_state_store's. */
	smp_store_release(&gsk->sk_state, state);
}

/*
 * A guard for wire-mode socket @sk (process context), not yet bound; NULL
 * for a socket of our own protocol, which needs none.
 */
struct xtcp_guard *xtcp_guard_alloc(struct sock *sk)
{
	struct xtcp_guard *g;
	struct sock *gsk;
	int err;

	if (!xtcp_sk(sk)->wire)
		return NULL;
	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g)
		return ERR_PTR(-ENOBUFS);
	err = sock_create_kern(sock_net(sk), AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &g->sock);
	if (err) {
		kfree(g);
		return ERR_PTR(err);
	}
	gsk = g->sock->sk;
	gsk->sk_reuse = sk->sk_reuse;
	gsk->sk_bound_dev_if = sk->sk_bound_dev_if;
	refcount_set(&g->ref, 1);
	return g;
}

/*
 * Bind @g to @addr:@port through native's get_port, which applies its
 * rules against native's sockets and the other guards (any context; no
 * cgroup program or LSM hook runs again: the xtcp socket's bind ran them).
 */
int xtcp_guard_bind(struct xtcp_guard *g, __be32 addr, u16 port)
{
	struct sock *gsk = g->sock->sk;
	struct inet_sock *inet = inet_sk(gsk);

	inet->inet_rcv_saddr = addr;
	inet->inet_saddr = addr;
	if (gsk->sk_prot->get_port(gsk, port)) {
		inet->inet_rcv_saddr = 0;
		inet->inet_saddr = 0;
		return -EADDRINUSE;
	}
	inet->inet_sport = htons(inet->inet_num);
	gsk->sk_userlocks |= SOCK_BINDPORT_LOCK;
	if (addr)
		gsk->sk_userlocks |= SOCK_BINDADDR_LOCK;
	return 0;
}

struct xtcp_guard *xtcp_guard_get(struct xtcp_guard *g)
{
	if (g)
		refcount_inc(&g->ref);
	return g;
}

static void guard_release(struct xtcp_guard *g)
{
	struct sock *gsk = g->sock->sk;

	/* Never a listener to native's close: it has no queues. */
	lock_sock(gsk);
	guard_set_state(gsk, TCP_CLOSE);
	release_sock(gsk);
	sock_release(g->sock);
	kfree(g);
}

static void guard_release_work(struct work_struct *work)
{
	guard_release(container_of(work, struct xtcp_guard, release_work));
}

void xtcp_guard_put(struct xtcp_guard *g)
{
	if (!g || !refcount_dec_and_test(&g->ref))
		return;
	/*
	 * The port is native's to give again now, as a closed native
	 * socket's is, whatever the context; freeing the socket sleeps, and
	 * no context test can tell an RCU reader: always a work item.
	 */
	if (inet_csk(g->sock->sk)->icsk_bind_hash)
		inet_put_port(g->sock->sk);
	INIT_WORK(&g->release_work, guard_release_work);
	queue_work(guard_wq, &g->release_work);
}

/*
 * An xtcp socket holding @g starts to listen (xtcp_net lock held): the
 * first makes the guard a listener for native's rules and asks them
 * again, as native's listen() asks its get_port again.
 */
int xtcp_guard_listen(struct xtcp_guard *g)
{
	struct sock *gsk;

	if (!g || g->listeners++)
		return 0;
	gsk = g->sock->sk;
	guard_set_state(gsk, TCP_LISTEN);
	if (gsk->sk_prot->get_port(gsk, inet_sk(gsk)->inet_num)) {
		guard_set_state(gsk, TCP_CLOSE);
		g->listeners = 0;
		return -EADDRINUSE;
	}
	return 0;
}

/* One listener of @g fewer (xtcp_net lock held). */
void xtcp_guard_unlisten(struct xtcp_guard *g)
{
	if (g && g->listeners && !--g->listeners)
		guard_set_state(g->sock->sk, TCP_CLOSE);
}

/* Releases still queued are done (a namespace or the module going). */
void xtcp_guard_flush(void)
{
	flush_workqueue(guard_wq);
}

int xtcp_guard_init(void)
{
	guard_wq = alloc_workqueue("xtcp_guard", 0, 0);
	return guard_wq ? 0 : -ENOMEM;
}

void xtcp_guard_exit(void)
{
	destroy_workqueue(guard_wq);
}
