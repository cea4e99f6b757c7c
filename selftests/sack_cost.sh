#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A peer that SACKs every other segment must not make the sender resend
# more than recovery lets out. tools/xtcp-sackcost is the peer (MSS 88,
# at the far end of a tun device), on native TCP and on xtcp in turn:
# with bulk writes (-b: many segments to an skb, split at each resend)
# 1,000 then 10,000 segments in flight, 1,000 ACKs each SACKing one more
# segment, from the front and from the back of the flight. Proportional rate reduction
# sends about what each ACK says was delivered (one segment), twice that
# while it slow-starts back: so at most 2 resent segments per ACK on
# either stack (native: 0.5), never the rest of a big skb a split would
# have cut off. TAP output.

here=$(cd "$(dirname "$0")" && pwd)
tool=$(dirname "$here")/tools/xtcp-sackcost
# shellcheck source=selftests/tap.sh
. "$here/tap.sh"
max_rtx=2

# The tool raises these for its run; the suite's later cases get them back.
saved=()
for f in /proc/sys/net/core/wmem_max /proc/sys/net/ipv4/tcp_mem \
	 /proc/sys/net/xtcp/mem /proc/sys/net/ipv4/tcp_no_metrics_save; do
	[ -w "$f" ] && saved+=("$f=$(cat "$f")")
done
# shellcheck disable=SC2317 # called by the EXIT trap
restore() {
	local kv
	for kv in "${saved[@]}"; do
		echo "${kv#*=}" >"${kv%%=*}"
	done
}
trap restore EXIT

# XTCP_VARIANTS="xtcp" (the debug lane's) leaves native out, as in the
# C tests.
stacks=
for s in tcp xtcp; do
	case " ${XTCP_VARIANTS:-tcp xtcp} " in *" $s "*) stacks="$stacks $s" ;; esac
done
cases=$(($(echo "$stacks" | wc -w) * 4))

echo "TAP version 13"
echo "1..$cases"
modprobe tun 2>/dev/null	# built in on the debug kernel
if [ ! -x "$tool" ] || [ ! -c /dev/net/tun ]; then
	echo "# $tool not built, or no tun device"
	for _ in $(seq "$cases"); do not_ok "xtcp-sackcost cannot run"; done
	exit 1
fi

for stack in $stacks; do
	flag=
	[ "$stack" = tcp ] && flag=-n
	out=$("$tool" $flag -b -q 1000,10000 -k 1000 -m both 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# /'
	for mode in front back; do
		for q in 1000 10000; do
			what="$stack $mode Q=$q"
			rtx=$(echo "$out" | sed -n \
			      "s/^sackcost: .* mode=$mode Q=$q .* rtx=\([0-9.]*\) .*/\1/p")
			if [ $rc -ne 0 ] || [ -z "$rtx" ]; then
				not_ok "$what: the tool failed (exit $rc)"
			elif awk -v r="$rtx" -v m="$max_rtx" \
				'BEGIN { exit !(r <= m) }'; then
				ok "$what: $rtx segments resent per ACK (at most $max_rtx)"
			else
				not_ok "$what: $rtx segments resent per ACK (at most $max_rtx)"
			fi
		done
	done
done
exit $failed
