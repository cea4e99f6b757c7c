// SPDX-License-Identifier: GPL-2.0
/*
 * The socket family: socket(AF_XTCP, SOCK_STREAM, 0), and the proto_ops
 * entry points that are plain glue (bind, getname, poll, ioctl, socket
 * options). Connection life cycle is in sock.c, data in send.c and recv.c.
 */
#include <linux/bpf-cgroup.h>
#include <linux/capability.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/sockios.h>
#include <asm/ioctls.h>
#include <linux/tcp.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/route.h>
#include <uapi/linux/xtcp.h>

#include "xtcp.h"

/* Process context, socket unlocked: inet_sock fields are read once each. */
static int xtcp_bind(struct socket *sock, struct sockaddr *uaddr, int addr_len)
{
	struct sockaddr_in sin, *addr = &sin;
	struct sock *sk = sock->sk;
	struct inet_sock *inet = inet_sk(sk);
	struct net *net = sock_net(sk);
	u32 bpf_flags = 0;
	__be32 saddr;
	u16 port;
	int err;

	if (addr_len < (int)sizeof(struct sockaddr_in))
		return -EINVAL;
	xtcp_copy_sockaddr(&sin, uaddr);
	/* The cgroup's bind4 programs first, as inet_bind runs them. */
	err = xtcp_cgroup_bind4(sk, &sin, &bpf_flags);
	if (err)
		return err;
	if (addr->sin_family != AF_INET) {
		/* Native compatibility: AF_UNSPEC only with INADDR_ANY. */
		if (addr->sin_family != AF_UNSPEC ||
		    addr->sin_addr.s_addr != htonl(INADDR_ANY))
			return -EAFNOSUPPORT;
	}
	saddr = addr->sin_addr.s_addr;
	if (saddr != htonl(INADDR_ANY) && !xtcp_inet_freebind(sk) &&
	    !xtcp_inet_transparent(sk) &&
	    inet_addr_type(net, saddr) != RTN_LOCAL)
		return -EADDRNOTAVAIL;
	port = ntohs(addr->sin_port);
	if (port && !(bpf_flags & BIND_NO_CAP_NET_BIND_SERVICE) &&
	    inet_port_requires_bind_service(net, port) &&
	    !ns_capable(net->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;

	lock_sock(sk);
	err = -EINVAL;
	if (sk->sk_state != TCP_CLOSE || inet->inet_num)
		goto out;
	err = xtcp_bind_port(sk, saddr, port);
	if (err)
		goto out;
	inet->inet_rcv_saddr = saddr;
	inet->inet_saddr = saddr;
	/* post_bind4 programs see the address and port taken, and may undo. */
	err = BPF_CGROUP_RUN_PROG_INET4_POST_BIND(sk);
	if (err) {
		inet->inet_rcv_saddr = 0;
		inet->inet_saddr = 0;
		xtcp_unbind_port(sk);
		goto out;
	}
	if (saddr)
		sk->sk_userlocks |= SOCK_BINDADDR_LOCK;
	if (port)
		sk->sk_userlocks |= SOCK_BINDPORT_LOCK;
	inet->inet_daddr = 0;
	inet->inet_dport = 0;
	sk_dst_reset(sk);
out:
	release_sock(sk);
	return err;
}

static int xtcp_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	DECLARE_SOCKADDR(struct sockaddr_in *, sin, uaddr);
	struct sock *sk = sock->sk;
	struct inet_sock *inet = inet_sk(sk);

	sin->sin_family = AF_INET;
	lock_sock(sk);
	if (peer) {
		if (!inet->inet_dport ||
		    ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_SYN_SENT) &&
		     peer == 1)) {
			release_sock(sk);
			return -ENOTCONN;
		}
		sin->sin_port = inet->inet_dport;
		sin->sin_addr.s_addr = inet->inet_daddr;
		xtcp_cgroup_getpeername4(sk, sin);
	} else {
		sin->sin_port = inet->inet_sport;
		sin->sin_addr.s_addr = inet->inet_rcv_saddr ?: inet->inet_saddr;
		xtcp_cgroup_getsockname4(sk, sin);
	}
	release_sock(sk);
	memset(sin->sin_zero, 0, sizeof(sin->sin_zero));
	return sizeof(*sin);
}

/* Lockless, like tcp_poll: each field is read once. */
static __poll_t xtcp_poll(struct file *file, struct socket *sock,
			  poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	__poll_t mask = 0;
	u8 shutdown;
	int state;

	sock_poll_wait(file, sock, wait);
	state = inet_sk_state_load(sk);
	if (state == TCP_LISTEN)
		return READ_ONCE(xs->accept_queue_len) ?
		       EPOLLIN | EPOLLRDNORM : 0;

	shutdown = READ_ONCE(sk->sk_shutdown);
	if (shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;

	if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
		int target = sock_rcvlowat(sk, 0, INT_MAX);

		if (xtcp_inq(sk) >= target)
			mask |= EPOLLIN | EPOLLRDNORM;
		if (!(shutdown & SEND_SHUTDOWN)) {
			if (sk_stream_is_writeable(sk)) {
				mask |= EPOLLOUT | EPOLLWRNORM;
			} else {
				sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
				set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
				/* Pairs with the barrier in xtcp_write_space. */
				smp_mb__after_atomic();
				if (sk_stream_is_writeable(sk))
					mask |= EPOLLOUT | EPOLLWRNORM;
			}
		} else {
			mask |= EPOLLOUT | EPOLLWRNORM;
		}
	}
	/* Pairs with the smp_wmb() after sk_err is set on reset. */
	smp_rmb();
	if (READ_ONCE(sk->sk_err) ||
	    !skb_queue_empty_lockless(&sk->sk_error_queue))
		mask |= EPOLLERR;
	return mask;
}

static int xtcp_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	int answ;

	switch (cmd) {
	case SIOCINQ:
	case SIOCOUTQ:
	case SIOCOUTQNSD:
		break;
	default:
		return -ENOIOCTLCMD;
	}
	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		release_sock(sk);
		return -EINVAL;
	}
	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV))
		answ = 0;
	else if (cmd == SIOCINQ)
		answ = xtcp_inq(sk);
	else if (cmd == SIOCOUTQ)
		answ = xs->write_seq - xs->snd_una;
	else
		answ = xs->write_seq - xs->snd_nxt;
	release_sock(sk);
	return put_user(answ, (int __user *)arg);
}

static bool ip_mc_option(int optname)
{
	switch (optname) {
	case IP_ADD_MEMBERSHIP:
	case IP_DROP_MEMBERSHIP:
	case IP_ADD_SOURCE_MEMBERSHIP:
	case IP_DROP_SOURCE_MEMBERSHIP:
	case IP_BLOCK_SOURCE:
	case IP_UNBLOCK_SOURCE:
	case IP_MSFILTER:
	case MCAST_JOIN_GROUP:
	case MCAST_LEAVE_GROUP:
	case MCAST_JOIN_SOURCE_GROUP:
	case MCAST_LEAVE_SOURCE_GROUP:
	case MCAST_BLOCK_SOURCE:
	case MCAST_UNBLOCK_SOURCE:
	case MCAST_MSFILTER:
		return true;
	default:
		return false;
	}
}

/* TCP_CONGESTION: a name, NUL-terminated or not, as native TCP takes it. */
static int set_congestion(struct sock *sk, sockptr_t optval,
			  unsigned int optlen)
{
	char name[XTCP_CONG_NAME_MAX];
	long n;
	int err;

	if (optlen < 1)
		return -EINVAL;
	n = strncpy_from_sockptr(name, optval,
				 min_t(long, sizeof(name) - 1, optlen));
	if (n < 0)
		return -EFAULT;
	name[n] = '\0';
	lock_sock(sk);
	err = xtcp_cong_select(sk, name);
	release_sock(sk);
	return err;
}

static int get_congestion(struct sock *sk, char __user *optval,
			  int __user *optlen, int len)
{
	char name[XTCP_CONG_NAME_MAX] = {};

	len = min_t(unsigned int, len, sizeof(name));
	if (put_user(len, optlen))
		return -EFAULT;
	lock_sock(sk);
	memcpy(name, xtcp_sk(sk)->cong_ops->name, sizeof(name));
	release_sock(sk);
	if (copy_to_user(optval, name, len))
		return -EFAULT;
	return 0;
}

/*
 * IP_OPTIONS changed the IPv4 header every segment carries: the MSS of a
 * connection follows, as native's do_ip_setsockopt resyncs a TCP socket.
 */
static void resync_mss(struct sock *sk)
{
	struct dst_entry *dst;

	lock_sock(sk);
	dst = __sk_dst_get(sk);
	if (dst && !((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)))
		xtcp_sync_mss(sk, dst_mtu(dst));
	release_sock(sk);
}

static int xtcp_setsockopt(struct socket *sock, int level, int optname,
			   sockptr_t optval, unsigned int optlen)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	int val, err = 0;

	if (level != SOL_TCP) {
		/*
		 * Group membership needs ip_mc_drop_socket() at close, which a
		 * module cannot call; native TCP refuses these with EPROTO too.
		 */
		if (level == SOL_IP && ip_mc_option(optname))
			return -EPROTO;
		/*
		 * A per-socket IPsec policy must be freed at close and cloned
		 * into accepted children (native's sk_common_release and
		 * sk_clone_lock); the clone is not exported to modules, and a
		 * listener's policy its children lacked would be a silent
		 * downgrade. Refused, as before sockets became AF_INET.
		 */
		if (level == SOL_IP &&
		    (optname == IP_XFRM_POLICY || optname == IP_IPSEC_POLICY))
			return -ENOPROTOOPT;
		/*
		 * Wire mode builds its own IPv4 headers (output.c), without
		 * options: the kernel's builder of them is not exported.
		 */
		if (level == SOL_IP && optname == IP_OPTIONS &&
		    xtcp_sk(sk)->wire)
			return -ENOPROTOOPT;
		err = ip_setsockopt(sk, level, optname, optval, optlen);
		if (!err && level == SOL_IP && optname == IP_OPTIONS)
			resync_mss(sk);
		return err;
	}
	if (optname == TCP_CONGESTION)
		return set_congestion(sk, optval, optlen);
	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	lock_sock(sk);
	switch (optname) {
	case TCP_NODELAY:
		xs->nodelay = !!val;
		/* Turning Nagle off sends what it was holding back. */
		if (val && (1 << sk->sk_state) &
		    (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))
			xtcp_push(sk, XTCP_PUSH_NOW);
		break;
	case TCP_MAXSEG:
		if (val && (val < XTCP_MIN_MSS || val > XTCP_MAX_USER_MSS)) {
			err = -EINVAL;
			break;
		}
		xs->user_mss = val;
		break;
	case TCP_CORK:
		xs->cork = !!val;
		/* Uncorked: what waited goes, by Nagle's rules unless off. */
		if (!val && (1 << sk->sk_state) &
		    (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))
			xtcp_push(sk, xs->nodelay ? XTCP_PUSH_NOW :
					       XTCP_PUSH_NAGLE);
		break;
	case TCP_KEEPIDLE:
		if (val < 1 || val > XTCP_MAX_KEEPIDLE_S) {
			err = -EINVAL;
			break;
		}
		WRITE_ONCE(xs->keepidle_s, val);
		xtcp_keepalive_reset(sk);
		break;
	case TCP_KEEPINTVL:
		if (val < 1 || val > XTCP_MAX_KEEPINTVL_S)
			err = -EINVAL;
		else
			WRITE_ONCE(xs->keepintvl_s, val);
		break;
	case TCP_KEEPCNT:
		if (val < 1 || val > XTCP_MAX_KEEPCNT)
			err = -EINVAL;
		else
			WRITE_ONCE(xs->keepcnt, val);
		break;
	case TCP_USER_TIMEOUT:
		if (val < 0)
			err = -EINVAL;
		else
			WRITE_ONCE(xs->user_timeout_ms, val);
		break;
	default:
		err = -ENOPROTOOPT;
		break;
	}
	release_sock(sk);
	return err;
}

static int xtcp_getsockopt(struct socket *sock, int level, int optname,
			   char __user *optval, int __user *optlen)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	int val, len;

	if (level != SOL_TCP)
		return ip_getsockopt(sk, level, optname, optval, optlen);
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	if (optname == TCP_INFO)
		return xtcp_get_info(sk, optval, optlen);
	if (optname == TCP_CONGESTION)
		return get_congestion(sk, optval, optlen, len);
	len = min_t(unsigned int, len, sizeof(int));

	lock_sock(sk);
	switch (optname) {
	case TCP_NODELAY:
		val = xs->nodelay;
		break;
	case TCP_MAXSEG:
		val = xs->mss_cache;
		if (xs->user_mss &&
		    (1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))
			val = xs->user_mss;
		break;
	case TCP_CORK:
		val = xs->cork;
		break;
	case TCP_KEEPIDLE:
		val = xtcp_keepidle_s(xs);
		break;
	case TCP_KEEPINTVL:
		val = xtcp_keepintvl_s(xs);
		break;
	case TCP_KEEPCNT:
		val = xtcp_keepcnt(xs);
		break;
	case TCP_USER_TIMEOUT:
		val = READ_ONCE(xs->user_timeout_ms);
		break;
	default:
		release_sock(sk);
		return -ENOPROTOOPT;
	}
	release_sock(sk);
	if (put_user(len, optlen))
		return -EFAULT;
	if (copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
}

static int xtcp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	long timeout = 0;

	if (!sk)
		return 0;
	if (!sk->sk_kern_sock)
		BPF_CGROUP_RUN_PROG_INET_SOCK_RELEASE(sk);
	if (sock_flag(sk, SOCK_LINGER) && !(current->flags & PF_EXITING))
		timeout = sk->sk_lingertime;
	xtcp_close(sk, timeout);
	sock->sk = NULL;
	return 0;
}

static const struct proto_ops xtcp_stream_ops = {
	/* Informational only: the core looks the family up in xtcp_family_ops. */
	.family = XTCP_DEFAULT_FAMILY,
	.owner = THIS_MODULE,
	.release = xtcp_release,
	.bind = xtcp_bind,
	.connect = xtcp_connect,
	.socketpair = sock_no_socketpair,
	.accept = xtcp_accept_op,
	.getname = xtcp_getname,
	.poll = xtcp_poll,
	.ioctl = xtcp_ioctl,
	.listen = xtcp_listen,
	.shutdown = xtcp_shutdown,
	.setsockopt = xtcp_setsockopt,
	.getsockopt = xtcp_getsockopt,
	.sendmsg = xtcp_sendmsg,
	.recvmsg = xtcp_recvmsg,
	.mmap = sock_no_mmap,
	XTCP_OPS_NO_SENDPAGE
};

/*
 * The kernel's __inet_bind binds an xtcp socket too when a cgroup
 * program calls bpf_bind() from its connect4 hook; the address is set.
 * That runs under rcu_read_lock, where a wire-mode socket cannot make the
 * guard its port needs (guard.c): refused, which bpf_bind reports as
 * EADDRINUSE.
 */
static int xtcp_get_port(struct sock *sk, unsigned short snum)
{
	if (xtcp_sk(sk)->wire)
		return -EOPNOTSUPP;
	return xtcp_bind_port(sk, inet_sk(sk)->inet_rcv_saddr, snum);
}

struct proto xtcp_prot = {
	.name = "XTCP",
	.owner = THIS_MODULE,
	.obj_size = sizeof(struct xtcp_sock),
	.backlog_rcv = xtcp_backlog_rcv,
	.release_cb = xtcp_release_cb,
	.keepalive = xtcp_set_keepalive,
	.get_port = xtcp_get_port,
	.put_port = xtcp_unbind_port,
	/* TIME_WAIT entries: their slab, and what frees them (timewait.c). */
	.twsk_prot = &xtcp_timewait_sock_ops,
	/* Half-open connections: their slab (request.c). */
	.rsk_prot = &xtcp_request_sock_ops,
	/* Memory accounting and its limits: mem.c. */
	.enter_memory_pressure = xtcp_enter_memory_pressure,
	.leave_memory_pressure = xtcp_leave_memory_pressure,
	.memory_allocated = &xtcp_memory_allocated,
	.per_cpu_fw_alloc = &xtcp_memory_per_cpu_fw_alloc,
	.memory_pressure = &xtcp_memory_pressure,
	.sockets_allocated = &xtcp_sockets_allocated,
	.sysctl_mem = sysctl_xtcp_mem,
	.sysctl_wmem = sysctl_xtcp_wmem,
	.sysctl_rmem = sysctl_xtcp_rmem,
};

/*
 * The socket lock's own lockdep classes (user and kernel sockets apart, as
 * sock_lock_init keeps them): sk_alloc gives an AF_INET socket native
 * TCP's and UDP's, but the owner lock of an xtcp socket nests in xtcp's
 * order, not theirs.
 */
static struct lock_class_key xtcp_slock_keys[2];
static struct lock_class_key xtcp_sk_lock_keys[2];
static const char *const xtcp_slock_names[2] = {
	"slock-AF_XTCP", "k-slock-AF_XTCP"
};

static const char *const xtcp_sk_lock_names[2] = {
	"sk_lock-AF_XTCP", "k-sk_lock-AF_XTCP"
};

/*
 * An xtcp socket is an IPv4 socket inside the kernel (sk_family AF_INET)
 * whatever family opened it: the host's per-family machinery then applies
 * to it as to native TCP's, cgroup-BPF's ingress and egress programs and
 * the LSMs' network checks among it.
 */
struct sock *xtcp_sk_alloc(struct net *net, gfp_t gfp, int kern)
{
	struct sock *sk = sk_alloc(net, PF_INET, gfp, &xtcp_prot, kern);
	int k = !!kern;

	if (sk)
		sock_lock_init_class_and_name(sk, xtcp_slock_names[k],
					      &xtcp_slock_keys[k],
					      xtcp_sk_lock_names[k],
					      &xtcp_sk_lock_keys[k]);
	return sk;
}

/*
 * The caller's address (its length checked) as bind and connect use it:
 * sin_family AF_XTCP, which our sockets take too, reads as AF_INET, so
 * the cgroup's programs see what they would see of a native socket, and
 * may rewrite it. A copy: a kernel_bind or kernel_connect caller's
 * buffer stays as it was.
 */
void xtcp_copy_sockaddr(struct sockaddr_in *sin, const struct sockaddr *uaddr)
{
	memcpy(sin, uaddr, sizeof(*sin));
	if (sin->sin_family == xtcp_family)
		sin->sin_family = AF_INET;
}

static int xtcp_create(struct net *net, struct socket *sock, int protocol,
		       int kern)
{
	struct inet_sock *inet;
	struct sock *sk;
	int err;

	if (sock->type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (protocol && protocol != IPPROTO_TCP && protocol != xtcp_ipproto)
		return -EPROTONOSUPPORT;

	sk = xtcp_sk_alloc(net, GFP_KERNEL, kern);
	if (!sk)
		return -ENOBUFS;

	sock->state = SS_UNCONNECTED;
	sock->ops = &xtcp_stream_ops;
	sock_init_data(sock, sk);

	inet = inet_sk(sk);
	inet->pmtudisc = READ_ONCE(net->ipv4.sysctl_ip_no_pmtu_disc) ?
			 IP_PMTUDISC_DONT : IP_PMTUDISC_WANT;
	atomic_set(&inet->inet_id, 0);
	inet->uc_ttl = -1;
	xtcp_inet_init_mc(sk);
	inet->mc_ttl = 1;
	inet->mc_index = 0;
	inet->mc_list = NULL;
	inet->rcv_tos = 0;

	sk->sk_protocol = xtcp_ipproto;
	sk->sk_backlog_rcv = xtcp_backlog_rcv;
	xtcp_init_sock(sk);
	/* Our number asked for is ours; else the namespace's mode says. */
	xtcp_sk(sk)->wire = protocol != xtcp_ipproto &&
			    READ_ONCE(xtcp_net(net)->wire);

	/* The cgroup's sock_create programs may refuse it, as inet_create. */
	if (!kern) {
		err = BPF_CGROUP_RUN_PROG_INET_SOCK(sk);
		if (err) {
			/* The core frees @sock without our release: do it here. */
			xtcp_close(sk, 0);
			sock->sk = NULL;
			return err;
		}
	}
	return 0;
}

static struct net_proto_family xtcp_family_ops = {
	.create = xtcp_create,
	.owner = THIS_MODULE,
};

int xtcp_af_init(void)
{
	int err;

	xtcp_family_ops.family = xtcp_family;

	err = proto_register(&xtcp_prot, 1);
	if (err)
		return err;
	err = sock_register(&xtcp_family_ops);
	if (err) {
		pr_err("xtcp: family %d is taken\n", xtcp_family);
		proto_unregister(&xtcp_prot);
	}
	return err;
}

void xtcp_af_exit(void)
{
	sock_unregister(xtcp_family);
	proto_unregister(&xtcp_prot);
}
