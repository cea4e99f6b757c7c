// SPDX-License-Identifier: GPL-2.0
/*
 * Wire mode (net.xtcp.wire, the wire= parameter): xtcp's sockets speak
 * plain TCP, IP protocol 6, beside native TCP on the same host.
 *
 * IPv4 hands a TCP segment to the one handler registered for protocol 6
 * once the whole input path is behind it: reassembly, netfilter's INPUT
 * chains and conntrack's confirmation, raw sockets. That handler is where
 * the segment is split between the two stacks, so both see the host's
 * firewall and conntrack alike: we stand in front of native TCP's handler
 * and take the segments of xtcp's connections, listeners, half-open
 * connections and TIME_WAIT entries in a wire-mode namespace; native TCP
 * gets everything else, untouched, and answers what nobody owns as it
 * always did. ICMP errors about TCP segments are split the same way.
 *
 * The handler is put in place the first time wire mode is turned on and
 * stays until the module goes, so a host that never uses wire mode runs
 * native TCP exactly as without the module.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/tcp.h>
#include <net/inet_hashtables.h>
#include <net/protocol.h>

#include "xtcp.h"

/* Both set once, under demux_mutex, before the handler is published. */
static const struct net_protocol *native_tcp;
static struct net_protocol demux_protocol __read_mostly;
static DEFINE_MUTEX(demux_mutex);
static bool demux_installed;	/* demux_mutex */
static bool demux_closing;	/* demux_mutex: the module is going */

/*
 * Whether a native connection or TIME_WAIT entry owns @skb's 4-tuple. An
 * xtcp listener may share its port with them (SO_REUSEADDR: children of a
 * native listener that has gone), and native looks its connections up
 * before its listeners; early demux found them already unless it did not
 * run (loopback, fragments, net.ipv4.tcp_early_demux 0).
 */
static bool native_connection(struct net *net, struct sk_buff *skb)
{
	const struct tcphdr *th = (const struct tcphdr *)skb->data;
	const struct iphdr *iph = ip_hdr(skb);
	struct sock *sk;

	sk = __inet_lookup_established(net, net->ipv4.tcp_death_row.hashinfo,
				       iph->saddr, th->source, iph->daddr,
				       ntohs(th->dest), inet_iif(skb),
				       inet_sdif(skb));
	if (!sk)
		return false;
	sock_gen_put(sk);
	return true;
}

/*
 * The xtcp entry that owns TCP segment @skb (skb->data at its header),
 * held, or NULL: then it is native's. A segment early demux already gave
 * a native connection, or not for this host, is native's too, as is one
 * too short to carry ports (native counts and drops it).
 */
static struct sock *demux_lookup(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);
	struct xtcp_seg_hdr ports = {};
	const struct tcphdr *th;
	struct sock *sk;

	if (skb->sk || skb->pkt_type != PACKET_HOST ||
	    !READ_ONCE(xtcp_net(net)->wire))
		return NULL;
	if (!pskb_may_pull(skb, sizeof(*th)))
		return NULL;
	th = (const struct tcphdr *)skb->data;
	ports.sport = ntohs(th->source);
	ports.dport = ntohs(th->dest);
	ports.hdr_len = th->doff * 4;
	sk = xtcp_lookup(net, skb, &ports);
	if (sk && sk->sk_state == TCP_LISTEN && native_connection(net, skb)) {
		sock_put(sk);
		return NULL;
	}
	return sk;
}

static int demux_rcv(struct sk_buff *skb)
{
	struct sock *sk = demux_lookup(skb);

	if (!sk)
		return native_tcp->handler(skb);
	return xtcp_rcv_owned(skb, sk);
}

/* ICMP errors about TCP segments: xtcp's connections first (icmp.c). */
static int demux_err(struct sk_buff *skb, u32 info)
{
	if (xtcp_icmp_err_owned(skb, info))
		return 0;
	return native_tcp->err_handler(skb, info);
}

/*
 * Stand in front of native TCP's handlers, once, with its flags. Fails if
 * protocol 6 has no handler or someone else replaced it meanwhile.
 */
int xtcp_demux_enable(void)
{
	const struct net_protocol *cur;
	int err = 0;

	mutex_lock(&demux_mutex);
	if (demux_installed)
		goto out;
	err = -EPERM;
	/* A hook on the host's TCP: its admin's to put there, not a container's. */
	if (!capable(CAP_NET_ADMIN))
		goto out;
	err = -ENOENT;
	if (demux_closing)
		goto out;
	err = 0;
	cur = rcu_dereference_protected(inet_protos[IPPROTO_TCP],
					lockdep_is_held(&demux_mutex));
	if (!cur) {
		err = -EPROTONOSUPPORT;
		goto out;
	}
	native_tcp = cur;
	demux_protocol = *cur;
	demux_protocol.handler = demux_rcv;
	demux_protocol.err_handler = demux_err;
	if (cmpxchg((const struct net_protocol **)&inet_protos[IPPROTO_TCP],
		    cur, &demux_protocol) != cur) {
		err = -EBUSY;
		goto out;
	}
	demux_installed = true;
	pr_info("xtcp: wire mode: TCP segments pass xtcp's demux\n");
out:
	mutex_unlock(&demux_mutex);
	return err;
}

void xtcp_demux_exit(void)
{
	mutex_lock(&demux_mutex);
	demux_closing = true;
	mutex_unlock(&demux_mutex);
	if (!demux_installed)
		return;
	if (cmpxchg((const struct net_protocol **)&inet_protos[IPPROTO_TCP],
		    &demux_protocol, native_tcp) != &demux_protocol)
		pr_err("xtcp: TCP's handler was replaced under the demux\n");
	/* Handlers in flight are RCU readers. */
	synchronize_net();
	demux_installed = false;
}
