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
 * always did. ICMP errors still go to native's handler.
 *
 * The handler is put in place the first time wire mode is turned on and
 * stays until the module goes, so a host that never uses wire mode runs
 * native TCP exactly as without the module.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/tcp.h>
#include <net/protocol.h>

#include "xtcp.h"

/* Both set once, under demux_mutex, before the handler is published. */
static const struct net_protocol *native_tcp;
static struct net_protocol demux_protocol __read_mostly;
static DEFINE_MUTEX(demux_mutex);
static bool demux_installed;	/* demux_mutex */

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

	if (skb->sk || skb->pkt_type != PACKET_HOST ||
	    !READ_ONCE(xtcp_net(net)->wire))
		return NULL;
	if (!pskb_may_pull(skb, sizeof(*th)))
		return NULL;
	th = (const struct tcphdr *)skb->data;
	ports.sport = ntohs(th->source);
	ports.dport = ntohs(th->dest);
	ports.hdr_len = th->doff * 4;
	return xtcp_lookup(net, skb, &ports);
}

static int demux_rcv(struct sk_buff *skb)
{
	struct sock *sk = demux_lookup(skb);

	if (!sk)
		return native_tcp->handler(skb);
	return xtcp_rcv_owned(skb, sk);
}

/*
 * Stand in front of native TCP's handler, once: with its flags and its
 * ICMP error handler. Fails if protocol 6 has no handler or someone else
 * replaced it meanwhile.
 */
int xtcp_demux_enable(void)
{
	const struct net_protocol *cur;
	int err = 0;

	mutex_lock(&demux_mutex);
	if (demux_installed)
		goto out;
	cur = rcu_dereference_protected(inet_protos[IPPROTO_TCP],
					lockdep_is_held(&demux_mutex));
	if (!cur) {
		err = -EPROTONOSUPPORT;
		goto out;
	}
	native_tcp = cur;
	demux_protocol = *cur;
	demux_protocol.handler = demux_rcv;
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
	if (!demux_installed)
		return;
	if (cmpxchg((const struct net_protocol **)&inet_protos[IPPROTO_TCP],
		    &demux_protocol, native_tcp) != &demux_protocol)
		pr_err("xtcp: TCP's handler was replaced under the demux\n");
	/* Handlers in flight are RCU readers. */
	synchronize_net();
	demux_installed = false;
}
