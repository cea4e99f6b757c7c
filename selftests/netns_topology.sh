#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The two-host topology that veth.c builds with netns.sh works: namespaces,
# addresses, static neighbours, native TCP across the veth (iperf3), netem
# loss, and a clean teardown. When this fails, veth.c's failures are about
# the bench, not about xtcp. TAP output.

here=$(cd "$(dirname "$0")" && pwd)
netns=$here/netns.sh
tag=xtcptopo$$
# shellcheck source=selftests/tap.sh
. "$here/tap.sh"

n1() { ip netns exec "$tag-1" "$@"; }
n2() { ip netns exec "$tag-2" "$@"; }

echo "TAP version 13"
echo "1..5"
trap '"$netns" down "$tag"' EXIT

check "netns.sh up creates both namespaces" \
	bash -c "'$netns' up $tag && ip netns list | grep -q '^$tag-1' &&
		 ip netns list | grep -q '^$tag-2'"

check "addresses and static neighbours in place" \
	bash -c "ip -n $tag-1 -br addr show veth1 | grep -q 10.77.0.1/24 &&
		 ip -n $tag-2 -br addr show veth2 | grep -q 10.77.0.2/24 &&
		 ip -n $tag-1 neigh show 10.77.0.2 | grep -q PERMANENT &&
		 ip -n $tag-2 neigh show 10.77.0.1 | grep -q PERMANENT"

if command -v iperf3 >/dev/null; then
	n2 iperf3 -s -1 -B 10.77.0.2 -p 5201 >/dev/null 2>&1 &
	srv=$!
	for _ in $(seq 50); do
		n2 ss -ltn 2>/dev/null | grep -q '10.77.0.2:5201' && break
		sleep 0.2
	done
	iperf_client() { n1 iperf3 -c 10.77.0.2 -p 5201 -n 1M >/dev/null; }
	check "native TCP crosses the veth (iperf3, 1 MiB)" iperf_client
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
else
	skip "iperf3 not installed"
fi

"$netns" loss "$tag" 5
rc=$?
if [[ $rc == 2 && -z ${XTCP_REQUIRE_NETEM:-} ]]; then
	skip "netem not available (sch_netem)"
else
	check "netem 5% loss on both veth ends" \
		bash -c "[[ $rc == 0 ]] &&
			 tc -n $tag-1 qdisc show dev veth1 | grep -q 'netem.*loss 5%' &&
			 tc -n $tag-2 qdisc show dev veth2 | grep -q 'netem.*loss 5%'"
fi

check "netns.sh down removes both namespaces" \
	bash -c "'$netns' down $tag && ! ip netns list | grep -q '^$tag-'"

exit $failed
