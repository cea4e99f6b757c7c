#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two network namespaces joined by a veth pair: the "two hosts" of the xtcp
# selftests (veth.c creates one per test case and runs the client in $ns1,
# the server in $ns2). All addresses live inside the namespaces only.
#
#  ┌──────────────────────────────┐        ┌──────────────────────────────┐
#  │ $ns1 (TAG-1)                 │        │ $ns2 (TAG-2)                 │
#  │                              │        │                              │
#  │  lo     127.0.0.1            │        │  lo     127.0.0.1            │
#  │  veth1  10.77.0.1/24 ────────┼────────┼──────── veth2  10.77.0.2/24  │
#  │         [netem loss N%]      │        │         [netem loss N%]      │
#  └──────────────────────────────┘        └──────────────────────────────┘
#
# usage: netns.sh up TAG          create TAG-1 and TAG-2, wired and up
#        netns.sh loss TAG PCT    netem PCT% loss on both veth ends (0: none)
#        netns.sh netem TAG ARGS  netem ARGS (e.g. delay 10ms loss 1%) on both
#                                 veth ends
#        netns.sh netem1 TAG ARGS netem ARGS on veth1 only: on the packets
#                                 from TAG-1 to TAG-2, not on those back
#        netns.sh mtu TAG BYTES   MTU of both veth ends
#        netns.sh offload TAG ARGS ethtool -K ARGS (e.g. tso off) on both
#                                 veth ends
#        netns.sh dropnth TAG N [K]
#                                 drop every Nth IPv4 packet that veth2
#                                 receives (from TAG-1), the others pass:
#                                 a loss at a known place; with K, the K
#                                 packets up to every Nth (a burst)
#        netns.sh dropseq TAG SEQ...
#                                 drop the first packet that veth2 receives
#                                 (from TAG-1) with sequence number SEQ,
#                                 for each SEQ; the copies sent again pass
#        netns.sh dropseq-hit TAG exit 0 when each of dropseq's filters
#                                 dropped a packet, 1 otherwise (a missed
#                                 drop); prints the counts to stderr
#        netns.sh sysctl TAG K=V  set sysctl K to V in both namespaces
#        netns.sh rtomin TAG MS   the veth subnet's route in both namespaces
#                                 gets rto_min MS ms (iproute2 locks the
#                                 metric): the RTO floor both stacks take
#                                 for connections opened afterwards
#        netns.sh routed TAG RATE [QUEUE_MS]
#                                 instead of "up": TAG-1 (10.77.0.1) and
#                                 TAG-2 (10.77.1.2) joined through a router
#                                 namespace TAG-r whose link to TAG-2 is a
#                                 bottleneck: tbf at RATE (tc units) with a
#                                 queue of QUEUE_MS (default 40) ms at that
#                                 rate, and 5 +- 2 ms on the way back.
#                                 Away from the senders' own qdiscs,
#                                 where native TCP's small-queue limit
#                                 would keep its packets out.
#        netns.sh cut TAG         set veth2 down: TAG-2 is cut off
#        netns.sh down TAG        delete both namespaces
#
# Exit status 0 on success; "loss", "netem", "netem1", "routed", "dropnth"
# and "dropseq" exit 2 when the qdisc, filter or action is not available.

set -e

cmd=${1:-}
tag=${2:-}
[[ -n $cmd && -n $tag ]] || { sed -n '/^# usage/,/^# Exit/p' "$0" >&2; exit 1; }

netns1="$tag-1"
netns2="$tag-2"
netnsr="$tag-r"
n1() { ip netns exec "$netns1" "$@"; }
n2() { ip netns exec "$netns2" "$@"; }
ip1() { ip -n "$netns1" "$@"; }
ip2() { ip -n "$netns2" "$@"; }

# Fixed, locally administered: each pair is alone on its link.
mac1=02:00:0a:4d:00:01
mac2=02:00:0a:4d:00:02

# One ip(8) per namespace rather than one per command: on the debug kernel
# under TCG each process costs the better part of a second.
# Static neighbours: no ARP to lose once netem drops packets.
up() {
	printf 'netns add %s\n' "$netns1" "$netns2" | ip -b -
	ip1 -b - <<-EOF
	link set lo up
	link add veth1 address $mac1 type veth peer name veth2 address $mac2 netns $netns2
	addr add 10.77.0.1/24 dev veth1
	link set veth1 up
	neigh replace 10.77.0.2 lladdr $mac2 dev veth1 nud permanent
	EOF
	ip2 -b - <<-EOF
	link set lo up
	addr add 10.77.0.2/24 dev veth2
	link set veth2 up
	neigh replace 10.77.0.1 lladdr $mac1 dev veth2 nud permanent
	EOF
}

loss() {
	local pct=$1
	if [[ $pct == 0 ]]; then
		tc -n "$netns1" qdisc del dev veth1 root 2>/dev/null || true
		tc -n "$netns2" qdisc del dev veth2 root 2>/dev/null || true
		return 0
	fi
	tc -n "$netns1" qdisc replace dev veth1 root netem loss "$pct%" 2>/dev/null || exit 2
	tc -n "$netns2" qdisc replace dev veth2 root netem loss "$pct%" 2>/dev/null || exit 2
}

netem() {
	tc -n "$netns1" qdisc replace dev veth1 root netem "$@" 2>/dev/null || exit 2
	tc -n "$netns2" qdisc replace dev veth2 root netem "$@" 2>/dev/null || exit 2
}

netem1() {
	tc -n "$netns1" qdisc replace dev veth1 root netem "$@" 2>/dev/null || exit 2
}

mtu() {
	ip1 link set veth1 mtu "$1"
	ip2 link set veth2 mtu "$1"
}

offload() {
	n1 ethtool -K veth1 "$@" >/dev/null
	n2 ethtool -K veth2 "$@" >/dev/null
}

dropnth() {
	# tc ingress runs before any protocol handler, xtcp's hook included;
	# gact's "determ" mode counts packets, no randomness. For a burst of
	# K, filter i drops every (N - i)th packet of those the filters
	# before it let through: packets N-K+1 .. N of every N are lost.
	local n=$1 k=${2:-1} i ctl
	# Afresh, so the count starts again (matchall filters cannot be
	# replaced in place).
	tc -n "$netns2" qdisc del dev veth2 ingress 2>/dev/null || true
	tc -n "$netns2" qdisc add dev veth2 ingress 2>/dev/null || exit 2
	for ((i = 0; i < k; i++)); do
		ctl=continue
		((i == k - 1)) && ctl=ok
		tc -n "$netns2" filter replace dev veth2 ingress protocol ip \
			pref $((i + 1)) matchall action gact $ctl \
			random determ drop $((n - i)) 2>/dev/null || exit 2
	done
}

dropseq() {
	local seq pref=1
	tc -n "$netns2" qdisc del dev veth2 ingress 2>/dev/null || true
	tc -n "$netns2" qdisc add dev veth2 ingress 2>/dev/null || exit 2
	for seq in "$@"; do
		# The sequence number after a 20-byte IP header, in both
		# stacks' segments. gact counts the matches: the 1st, 3rd, ...
		# are dropped, the 2nd (the resend), 4th, ... pass.
		tc -n "$netns2" filter add dev veth2 ingress protocol ip \
			pref $((pref++)) u32 match u32 "$seq" 0xffffffff at 24 \
			action gact drop random determ ok 2 2>/dev/null || exit 2
	done
}

dropseq_hit() {
	local drops

	drops=$(tc -s -n "$netns2" filter show dev veth2 ingress |
		sed -n 's/.*(dropped \([0-9]*\),.*/\1/p')
	echo "dropseq: packets dropped per filter:" $drops >&2
	[[ -n $drops ]] && ! grep -qx 0 <<<"$drops"
}

routed() {
	printf 'netns add %s\n' "$netns1" "$netnsr" "$netns2" | ip -b -
	ip1 -b - <<-EOF
	link set lo up
	link add veth1 type veth peer name vethr1 netns $netnsr
	addr add 10.77.0.1/24 dev veth1
	link set veth1 up
	route add default via 10.77.0.254
	EOF
	ip -n "$netnsr" -b - <<-EOF
	link set lo up
	link add vethr2 type veth peer name veth2 netns $netns2
	addr add 10.77.0.254/24 dev vethr1
	addr add 10.77.1.254/24 dev vethr2
	link set vethr1 up
	link set vethr2 up
	EOF
	ip2 -b - <<-EOF
	link set lo up
	addr add 10.77.1.2/24 dev veth2
	link set veth2 up
	route add default via 10.77.1.254
	EOF
	ip netns exec "$netnsr" sysctl -qw net.ipv4.ip_forward=1
	tc -n "$netnsr" qdisc replace dev vethr2 root tbf \
		rate "$1" burst 32kb latency "${2:-40}ms" 2>/dev/null || exit 2
	# ACKs back to TAG-1 take 5 +- 2 ms: real paths are not clockwork,
	# and flows in lockstep with a drop-tail queue lose by phase, not by
	# their congestion control.
	tc -n "$netnsr" qdisc replace dev vethr1 root netem \
		delay 5ms 2ms 2>/dev/null || exit 2
}

rtomin() {
	ip1 route replace 10.77.0.0/24 dev veth1 proto kernel scope link \
		src 10.77.0.1 rto_min "$1ms"
	ip2 route replace 10.77.0.0/24 dev veth2 proto kernel scope link \
		src 10.77.0.2 rto_min "$1ms"
}

down() {
	printf 'netns del %s\n' "$netns1" "$netns2" "$netnsr" |
		ip -force -b - 2>/dev/null || true
}

case $cmd in
up) down; up ;;
loss) loss "${3:?loss needs a percentage}" ;;
netem) shift 2; netem "$@" ;;
netem1) shift 2; netem1 "$@" ;;
mtu) mtu "${3:?mtu needs a size}" ;;
offload) shift 2; offload "$@" ;;
dropseq-hit) dropseq_hit ;;
dropnth) dropnth "${3:?dropnth needs a count}" "${4:-1}" ;;
dropseq) shift 2; dropseq "${@:?dropseq needs sequence numbers}" ;;
routed) down; routed "${3:?routed needs a rate}" "${4:-}" ;;
sysctl) n1 sysctl -qw "${3:?sysctl needs KEY=VALUE}"
	n2 sysctl -qw "$3" ;;
rtomin) rtomin "${3:?rtomin needs milliseconds}" ;;
cut) ip2 link set veth2 down ;;
down) down ;;
*) echo "netns.sh: unknown command $cmd" >&2; exit 1 ;;
esac
