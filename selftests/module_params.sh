#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module parameters family and ipproto moved off their defaults (22,
# 253): xtcp.ko reloaded with family=25 (AF_WANPIPE, never implemented by
# Linux) ipproto=254 (RFC 3692's other experimental number). sysfs reports
# both; socket(25, SOCK_STREAM, 0) is xtcp's and socket(22, ...) is
# refused; a connection over lo in a namespace of its own (under
# tools/xtcp-run, which takes the family from sysfs) carries its echo, and
# the wire, as nftables counts it on the way out, carries IP protocol 254
# and neither 253 nor TCP. The module is then loaded again as run_vm.sh
# left it, $XTCP_KO with $XTCP_KO_ARGS, and every parameter must read as
# it did before. Loaded without the others, tw_len_ms reads its default,
# 60000. TAP output.

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
ko=${XTCP_KO:-$repo/xtcp.ko}
run=$repo/tools/xtcp-run
fam=25 proto=254
# shellcheck source=selftests/tap.sh
. "$here/tap.sh"

cases=7
echo "TAP version 13"
echo "1..$cases"
if [[ -n ${XTCP_NO_MODULES:-} || ! -d /sys/module/xtcp ]]; then
	for _ in $(seq $cases); do
		ok "module parameters # SKIP the module is not loaded (run_vm.sh loads it)"
	done
	exit 0
fi
if [[ ${XTCP_VARIANTS:-tcp xtcp} != *xtcp* ]]; then
	for _ in $(seq $cases); do
		ok "module parameters # SKIP not selected (XTCP_CASES, XTCP_VARIANTS)"
	done
	exit 0
fi

# rmmod once the last tests' sockets are gone: TIME_WAIT entries (60 s)
# and packetdrill's connections, whose FINs go on to a TUN device that is
# no more (the module was held 93 s after packetdrill.sh once).
unload() {
	local _
	for _ in $(seq 180); do
		[[ -d /sys/module/xtcp ]] || return 0
		rmmod xtcp 2>/dev/null && return 0
		sleep 1
	done
	echo "# $(rmmod xtcp 2>&1); refcount $(cat /sys/module/xtcp/refcnt)"
	return 1
}

# The family's socket() in Python: 0 when it opens, its errno otherwise.
socket_errno() {	# socket_errno FAMILY
	python3 -c 'import socket, sys
try:
	socket.socket(int(sys.argv[1]), socket.SOCK_STREAM, 0).close()
	print(0)
except OSError as e:
	print(e.errno)' "$1"
}

# In a namespace of its own: an echo over lo under xtcp-run, with nftables
# counting the IPv4 packets that leave by protocol; prints
# "echo OK|FAIL <ours> <253> <tcp>".
# shellcheck disable=SC2317 # run by name in the new namespace
wire_check() {
	ip link set lo up
	nft -f - <<-EOF || return 1
	table ip mp {
		counter c_ours {}
		counter c_dflt {}
		counter c_tcp {}
		chain out {
			type filter hook output priority 0;
			ip protocol $proto counter name c_ours
			ip protocol 253 counter name c_dflt
			ip protocol 6 counter name c_tcp
		}
	}
	EOF
	"$run" python3 -c 'import socket
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.bind(("127.0.0.1", 0))
l.listen(1)
c = socket.create_connection(l.getsockname(), timeout=10)
s, _ = l.accept()
c.sendall(b"moved off the defaults")
s.sendall(s.recv(100))
print("echo", "OK" if c.recv(100) == b"moved off the defaults" else "FAIL",
      end=" ")' || echo -n "echo FAIL "
	for c in c_ours c_dflt c_tcp; do
		nft list counter ip mp "$c" |
			awk '/packets/ { printf "%s ", $2 }'
	done
	echo
}

# Every parameter as run_vm.sh loaded the module: "name=value" lines.
params() {
	grep -r . /sys/module/xtcp/parameters/ 2>/dev/null |
		sed 's|.*/||; s|:|=|' | sort
}

params0=$(params)
if ! unload; then
	not_ok "rmmod xtcp for the reload"
	exit 1
fi
if out=$(insmod "$ko" family=$fam ipproto=$proto 2>&1); then
	ok "insmod xtcp.ko family=$fam ipproto=$proto"
else
	echo "# $out"
	not_ok "insmod xtcp.ko family=$fam ipproto=$proto"
fi
check "sysfs: family $fam, ipproto $proto" \
	[ "$(cat /sys/module/xtcp/parameters/family 2>/dev/null)" = $fam -a \
	  "$(cat /sys/module/xtcp/parameters/ipproto 2>/dev/null)" = $proto ]
# Loaded without them, the others read their defaults: TIME_WAIT's
# length is native's TCP_TIMEWAIT_LEN (injection.c times an entry).
check "tw_len_ms defaults to 60000 (TIME_WAIT 60 s, as native's)" \
	[ "$(cat /sys/module/xtcp/parameters/tw_len_ms 2>/dev/null)" = 60000 ]
f_new=$(socket_errno $fam) f_old=$(socket_errno 22)
echo "# socket($fam): errno $f_new; socket(22): errno $f_old"
check "socket($fam) opens, socket(22) is refused (EAFNOSUPPORT)" \
	[ "$f_new" = 0 -a "$f_old" = 97 ]
res=$(unshare -n bash -c "proto=$proto run=$run; $(declare -f wire_check); wire_check" 2>&1)
echo "# $res"
read -r _ echo_ok p_ours p_dflt p_tcp <<<"$(grep '^echo' <<<"$res" | tail -n 1)"
check "an echo over lo on the moved module" [ "$echo_ok" = OK ]
check "the wire carries protocol $proto (packets: $p_ours), not 253 ($p_dflt) or TCP ($p_tcp)" \
	[ "${p_ours:-0}" -gt 0 -a "${p_dflt:-1}" = 0 -a "${p_tcp:-1}" = 0 ]

# As run_vm.sh left it.
# shellcheck disable=SC2086 # the arguments are words
if unload && out=$(insmod "$ko" ${XTCP_KO_ARGS-} 2>&1) &&
   [ "$(params)" = "$params0" ]; then
	ok "xtcp.ko loaded again as run_vm.sh loaded it, every parameter"
else
	echo "# ${out:-}"
	# What reads otherwise now (the guest has no /dev/fd for diff <(...)).
	params | grep -vxF -e "$params0" | sed 's/^/# now /'
	not_ok "xtcp.ko loaded again as run_vm.sh loaded it, every parameter"
fi
exit $failed
