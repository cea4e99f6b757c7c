#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# xtcp-run [--listen | --connect] [--ports LIST] CMD [ARGS...]: run CMD with
# its TCP stream sockets on xtcp (libxtcp-run.so, tools/run/preload.c). The
# module must be loaded. --listen: only listeners (and the connections
# they accept); --connect: only the sockets CMD connects; --ports: only
# listeners on, or connections to, the ports in LIST (e.g. 80,8000-8099).
# The same through the environment: XTCP_RUN_ROLE=listen|connect|all,
# XTCP_RUN_PORTS=LIST. XTCP_RUN_VERBOSE=1 says what the library does;
# XTCP_RUN_FAMILY sets the family number when /sys/module/xtcp is not
# readable.
here=$(cd "$(dirname "$0")" && pwd)
lib=$here/libxtcp-run.so
usage() {
	echo "usage: xtcp-run [--listen | --connect] [--ports LIST] CMD [ARGS...]" >&2
	exit 2
}
# Each a port or a range within 1-65535, comma separated.
bad_ports() {
	echo "xtcp-run: --ports (XTCP_RUN_PORTS) takes ports and ranges, e.g. 80,8000-8099" >&2
	exit 2
}
role= ports= ports_given=
while [ $# -gt 0 ]; do
	case $1 in
	--listen|--connect)
		[ -z "$role" ] || usage
		role=${1#--} ;;
	--ports) [ $# -ge 2 ] || usage; ports=$2 ports_given=1; shift ;;
	--ports=*) ports=${1#--ports=} ports_given=1 ;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 0 ] && usage
[ -n "$role" ] && XTCP_RUN_ROLE=$role
if [ -n "$ports_given" ]; then
	[ -n "$ports" ] || bad_ports
	XTCP_RUN_PORTS=$ports
fi
case ${XTCP_RUN_ROLE:-all} in
listen|connect|all) ;;
*) echo "xtcp-run: XTCP_RUN_ROLE must be listen, connect or all" >&2; exit 2 ;;
esac
if [ -n "${XTCP_RUN_PORTS:-}" ]; then
	echo "$XTCP_RUN_PORTS" |
		grep -Eqx '[0-9]{1,5}(-[0-9]{1,5})?(,[0-9]{1,5}(-[0-9]{1,5})?)*' ||
		bad_ports
	for range in $(echo "$XTCP_RUN_PORTS" | tr , ' '); do
		lo=${range%-*} hi=${range#*-}
		[ "$lo" -ge 1 ] && [ "$hi" -le 65535 ] && [ "$lo" -le "$hi" ] ||
			bad_ports
	done
fi
if [ ! -r "$lib" ]; then
	echo "xtcp-run: $lib not built (make tools)" >&2
	exit 1
fi
if [ ! -d /sys/module/xtcp ] && [ -z "${XTCP_RUN_FAMILY:-}" ]; then
	echo "xtcp-run: the xtcp module is not loaded" >&2
	exit 1
fi
[ -n "${XTCP_RUN_ROLE:-}" ] && export XTCP_RUN_ROLE
[ -n "${XTCP_RUN_PORTS:-}" ] && export XTCP_RUN_PORTS
LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}"
export LD_PRELOAD
exec "$@"
