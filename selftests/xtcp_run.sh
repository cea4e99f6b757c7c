#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unmodified programs on xtcp (tools/xtcp-run), with native TCP as the
# oracle: the same programs without the launcher. On each stack: a 1 MiB
# file fetched by curl from python3's http.server, byte for byte; the
# server's listener in that stack's table (/proc/net/xtcp or /proc/net/tcp)
# and not in the other's; iperf3's server sending 8 MiB to its client
# (-R), all of it received; nginx (epoll, accept4, sendfile, a master and a worker
# process) serving the 1 MiB file to curl intact and wrk's 3-second load
# of a 4 KiB page answered without an error or a non-2xx status. In wire
# mode, one end under xtcp-run and the other native: curl against
# http.server and nginx, iperf3 both ways round; and xtcp-run's choice:
# --listen puts http.server on xtcp and leaves curl native, --connect the
# other way round, --ports one listener of two, a listener keeping the
# port read back after bind(), its options and O_NONBLOCK. Under
# xtcp-run an AF_INET6 stream socket stays native TCP, and
# XTCP_RUN_VERBOSE=1 says so. TAP output.
#
# nginx is the Debian package's binary, installed or unpacked by
# scripts/setup into /var/cache/xtcp/nginx (installing it would start a
# server on the host).
#
# iperf3 runs with Nagle on (its default) and with -N (TCP_NODELAY), in
# reverse mode (-R: the server sends): the receiving client ends the test
# once it has all 8 MiB. The other way round the server stops reading when
# the client's end-of-test message arrives on the control connection, with
# whatever the sender's buffer still held unread (esnet/iperf#382): native
# TCP on the host counts 3.9 to 5.9 MiB of 8 received that way, and the
# wire case of a native client once 5,341,184 bytes in the VM.

here=$(cd "$(dirname "$0")" && pwd)
run=$(dirname "$here")/tools/xtcp-run
py=/usr/bin/python3
# shellcheck source=selftests/tap.sh
. "$here/tap.sh"

# XTCP_VARIANTS="xtcp" (the debug lane's) leaves native out.
stacks=
for s in tcp xtcp; do
	case " ${XTCP_VARIANTS:-tcp xtcp} " in *" $s "*) stacks="$stacks $s" ;; esac
done
cases=$(($(echo "$stacks" | wc -w) * 6))
case " $stacks " in *" xtcp "*) cases=$((cases + 9)) ;; esac

echo "TAP version 13"
echo "1..$cases"
work=$(mktemp -d)
pids=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${wire_ns:-}" ] && ip netns del "$wire_ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
head -c 1048576 /dev/urandom >"$work/blob"
head -c 4096 /dev/urandom >"$work/page"
want=$(sha256sum <"$work/blob")
nginx=$(command -v nginx || echo /var/cache/xtcp/nginx/usr/sbin/nginx)

# An nginx configuration serving $work on 127.0.0.1:PORT.
nginx_conf() {	# nginx_conf PORT
	"$here/nginx_conf.sh" "$work" "$1" "$work"
}

# wrk's report: requests done, and no socket error or bad status line.
# shellcheck disable=SC2317 # called through check
wrk_clean() {	# wrk_clean REPORT
	local served

	served=$(awk '/requests in/ { print $1 }' <<<"$1")
	[ "${served:-0}" -gt 0 ] &&
		! grep -q "Non-2xx or 3xx responses\|Socket errors" <<<"$1"
}

# The bytes the receiving end counted, from the client's JSON report.
iperf_received() {	# iperf_received FILE
	"$py" -c 'import json, sys
print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"])' \
		"$1" 2>/dev/null
}

# Commands in the wire-mode namespace run under "${inns[@]}".
inns=()

# The LISTEN line of 127.0.0.1:PORT in /proc/net/FILE (state 0A).
listening() {	# listening FILE PORT
	"${inns[@]}" cat "/proc/net/$1" |
		grep -q "0100007F:$(printf %04X "$2") 00000000:0000 0A"
}

# shellcheck disable=SC2317 # called through check
not_listening() { ! listening "$@"; }

wait_listening() {	# wait_listening FILE PORT
	local _
	for _ in $(seq 100); do
		listening "$1" "$2" && return 0
		sleep 0.1
	done
	return 1
}

# Below ip_local_port_range (32768-60999): wrk's many client connections
# take ephemeral ports, and one of them once held an iperf3 port.
port=20300
for stack in $stacks; do
	launch=()
	table=tcp other=xtcp
	if [ "$stack" = xtcp ]; then
		launch=("$run")
		table=xtcp other=tcp
	fi
	port=$((port + 10))

	(cd "$work" && exec "${launch[@]}" "$py" -m http.server \
		--bind 127.0.0.1 "$port") >"$work/http-$stack.log" 2>&1 &
	pids+=($!)
	if wait_listening "$table" "$port"; then
		got=$("${launch[@]}" curl -sS --max-time 60 \
		      "http://127.0.0.1:$port/blob" | sha256sum)
		check "$stack: curl fetches 1 MiB from http.server intact" \
			[ "$got" = "$want" ]
		check "$stack: the listener is in /proc/net/$table only" \
			not_listening "$other" "$port"
	else
		sed 's/^/# /' "$work/http-$stack.log"
		not_ok "$stack: http.server does not listen in /proc/net/$table"
		not_ok "$stack: no listener to look for"
	fi

	port=$((port + 1))
	conf=$(nginx_conf $port)
	"${launch[@]}" "$nginx" -e stderr -p "$work" -c "$conf" \
		>"$work/nginx-$stack.log" 2>&1 &
	pids+=($!)
	if wait_listening "$table" $port; then
		got=$("${launch[@]}" curl -sS --max-time 60 \
		      "http://127.0.0.1:$port/blob" | sha256sum)
		check "$stack: curl fetches 1 MiB from nginx intact" \
			[ "$got" = "$want" ]
		report=$("${launch[@]}" wrk -t1 -c8 -d3s \
			 "http://127.0.0.1:$port/page" 2>&1)
		echo "$report" | sed 's/^/# /'
		check "$stack: wrk's load on nginx is answered without errors" \
			wrk_clean "$report"
	else
		sed 's/^/# /' "$work/nginx-$stack.log"
		not_ok "$stack: nginx does not listen in /proc/net/$table"
		not_ok "$stack: no nginx for wrk"
	fi
	kill "${pids[-1]}" 2>/dev/null

	for nodelay in "" -N; do
		port=$((port + 1))
		"${launch[@]}" iperf3 -s -1 -B 127.0.0.1 -p $port \
			>"$work/iperf-$stack.log" 2>&1 &
		pids+=($!)
		if wait_listening "$table" $port &&
		   "${launch[@]}" iperf3 -c 127.0.0.1 -p $port -n 8M -R \
			$nodelay -J >"$work/iperf-$stack.json" 2>&1; then
			bytes=$(iperf_received "$work/iperf-$stack.json")
			check "$stack: iperf3 -R ${nodelay:-without -N} sends 8 MiB, $bytes received" \
				[ "$bytes" = 8388608 ]
		else
			sed 's/^/# /' "$work/iperf-$stack.log" \
				"$work/iperf-$stack.json"
			not_ok "$stack: iperf3 -R ${nodelay:-without -N} failed"
		fi
	done
done

# Wire mode (net.xtcp.wire = 1, in a namespace of its own): one end under
# xtcp-run, the other native, each way round: curl's fetch from
# http.server and nginx intact, iperf3's 8 MiB all received.
wire_iperf() {	# wire_iperf PORT DESCRIPTION SERVER_LAUNCH CLIENT_LAUNCH
	local port=$1 what=$2 srv=$3 cli=$4 bytes table=tcp

	[ -n "$srv" ] && table=xtcp
	# shellcheck disable=SC2086 # a launcher or nothing
	"${inns[@]}" $srv iperf3 -s -1 -B 127.0.0.1 -p "$port" \
		>"$work/iperf-wire.log" 2>&1 &
	pids+=($!)
	# shellcheck disable=SC2086
	if wait_listening "$table" "$port" &&
	   "${inns[@]}" $cli iperf3 -c 127.0.0.1 -p "$port" -n 8M -R \
		-J >"$work/iperf-wire.json" 2>&1; then
		bytes=$(iperf_received "$work/iperf-wire.json")
		check "wire: iperf3 -R, $what: 8 MiB sent, $bytes received" \
			[ "$bytes" = 8388608 ]
	else
		sed 's/^/# /' "$work/iperf-wire.log" "$work/iperf-wire.json"
		not_ok "wire: iperf3 -R, $what: failed"
	fi
}

# xtcp's connect()s so far in the wire-mode namespace.
wire_opens() {
	"${inns[@]}" awk '$1 == "XtcpActiveOpens" { print $2 }' \
		/proc/net/xtcp_stat
}

# shellcheck disable=SC2317 # called through check
fetched_on_xtcp() {	# fetched_on_xtcp SHA256 OPENS_BEFORE
	[ "$1" = "$want" ] && [ "$(wire_opens)" -gt "$2" ]
}

# xtcp's connections opened by accept() so far in the wire-mode namespace.
wire_accepts() {
	"${inns[@]}" awk '$1 == "XtcpPassiveOpens" { print $2 }' \
		/proc/net/xtcp_stat
}

# shellcheck disable=SC2317 # called through check
fetched_natively_from_xtcp() {	# SHA256 OPENS_BEFORE ACCEPTS_BEFORE
	[ "$1" = "$want" ] && [ "$(wire_opens)" -eq "$2" ] &&
		[ "$(wire_accepts)" -gt "$3" ]
}

# A listener made the way servers make theirs (SO_REUSEADDR, TCP_NODELAY,
# O_NONBLOCK, bound to port 0 and the port read back) becomes xtcp's at
# listen() under --listen: the port the program read, its options and
# O_NONBLOCK stay; the program's own connection to it stays native. Two
# listeners of an SO_REUSEPORT group both become xtcp's (at bind(): the
# second would find the first's port taken in the shared port space).
choice_probe='import fcntl, os, socket
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
l.setblocking(False)
l.bind(("127.0.0.1", 0))
port = l.getsockname()[1]
l.listen(8)
xtcp = open("/proc/net/xtcp").read()
mine = "0100007F:%04X 00000000:0000 0A" % port
print("listener on xtcp:", mine in xtcp, "port kept:",
      l.getsockname()[1] == port)
print("options kept:",
      l.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) == 1 and
      l.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1)
print("non-blocking kept:",
      fcntl.fcntl(l.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK != 0)
g = []
for _ in range(2):
    m = socket.socket()
    m.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    m.bind(("127.0.0.1", port + 1))
    m.listen(8)
    g.append(m)
print("SO_REUSEPORT group on xtcp:", open("/proc/net/xtcp").read().count(
      "0100007F:%04X 00000000:0000 0A" % (port + 1)) == 2)
c = socket.socket()
c.connect(("127.0.0.1", port))
local = "0100007F:%04X" % c.getsockname()[1]
print("client native:", any(line.split()[1] == local
                            for line in open("/proc/net/tcp")))
'

# shellcheck disable=SC2317 # called through check
choice_probe_ok() {	# OUTPUT
	[ "$(grep -o ': True' <<<"$1" | wc -l)" = 6 ] && ! grep -q False <<<"$1"
}

# http.server on PORT in the wire-mode namespace under SERVER (xtcp-run
# and its options, or nothing), listening in /proc/net/TABLE only; curl
# under CLIENT fetches the 1 MiB file, and JUDGE SHA256 OPENS ACCEPTS
# (xtcp's counters from before the fetch) decides.
wire_http() {	# wire_http PORT TABLE WHAT SERVER CLIENT JUDGE
	local port=$1 table=$2 what=$3 srv=$4 cli=$5 judge=$6 other=xtcp
	local opens accepts got

	[ "$table" = xtcp ] && other=tcp
	# shellcheck disable=SC2086 # a launcher and its options, or nothing
	(cd "$work" && exec "${inns[@]}" $srv "$py" -m http.server \
		--bind 127.0.0.1 "$port") >"$work/http-wire.log" 2>&1 &
	pids+=($!)
	if wait_listening "$table" "$port" && not_listening "$other" "$port"
	then
		opens=$(wire_opens) accepts=$(wire_accepts)
		# shellcheck disable=SC2086
		got=$("${inns[@]}" $cli curl -sS --max-time 60 \
		      "http://127.0.0.1:$port/blob" | sha256sum)
		check "wire: $what, 1 MiB intact" \
			"$judge" "$got" "$opens" "$accepts"
	else
		sed 's/^/# /' "$work/http-wire.log"
		not_ok "wire: $what: http.server not in /proc/net/$table only"
	fi
	kill "${pids[-1]}" 2>/dev/null
}

# xtcp-run --listen, --connect and --ports in wire mode: only the sockets
# chosen are xtcp's, the others talk to them natively.
wire_choice() {	# wire_choice PORT
	local p=$1 out

	wire_http "$p" xtcp "--listen: the server on xtcp, curl native" \
		"$run --listen" "$run --listen" fetched_natively_from_xtcp
	p=$((p + 1))
	wire_http "$p" tcp "--connect: the server native, curl on xtcp" \
		"$run --connect" "$run --connect" fetched_on_xtcp

	p=$((p + 1))
	"${inns[@]}" "$run" --ports "$p" "$py" -c 'import socket, sys, time
ls = [socket.create_server(("127.0.0.1", int(a))) for a in sys.argv[1:]]
time.sleep(30)' "$p" $((p + 1)) >"$work/ports.log" 2>&1 &
	pids+=($!)
	if wait_listening xtcp "$p" && wait_listening tcp $((p + 1)); then
		check "wire: --ports $p: that listener on xtcp, the next one native" \
			not_listening xtcp $((p + 1))
	else
		sed 's/^/# /' "$work/ports.log"
		not_ok "wire: --ports $p: listeners not where chosen"
	fi
	kill "${pids[-1]}" 2>/dev/null

	out=$("${inns[@]}" "$run" --listen "$py" -c "$choice_probe" 2>&1)
	echo "$out" | sed 's/^/# /'
	check "wire: --listen: a listener keeps its port, options and O_NONBLOCK; SO_REUSEPORT groups" \
		choice_probe_ok "$out"
}

case " $stacks " in *" xtcp "*)
	wire_ns=xtcprun$$-1
	ip netns add "$wire_ns"
	ip -n "$wire_ns" link set lo up
	ip netns exec "$wire_ns" sysctl -qw net.xtcp.wire=1
	inns=(ip netns exec "$wire_ns")
	port=$((port + 10))

	wire_http "$port" tcp "curl on xtcp fetches from native http.server" \
		"" "$run" fetched_on_xtcp

	port=$((port + 1))
	conf=$(nginx_conf $port)
	"${inns[@]}" "$run" "$nginx" -e stderr -p "$work" -c "$conf" \
		>"$work/nginx-wire.log" 2>&1 &
	pids+=($!)
	if wait_listening xtcp "$port"; then
		got=$("${inns[@]}" curl -sS --max-time 60 \
		      "http://127.0.0.1:$port/blob" | sha256sum)
		check "wire: native curl fetches 1 MiB from nginx on xtcp" \
			[ "$got" = "$want" ]
	else
		sed 's/^/# /' "$work/nginx-wire.log"
		not_ok "wire: nginx does not listen in /proc/net/xtcp"
	fi
	kill "${pids[-1]}" 2>/dev/null

	wire_iperf $((port + 1)) "native server to xtcp client" "" "$run"
	wire_iperf $((port + 2)) "xtcp server to native client" "$run" ""
	wire_choice $((port + 3))
	inns=()
	;;
esac

# Protocol 6 printed, and the launcher's note.
# shellcheck disable=SC2317 # called through check
inet6_native() {
	grep -q '^6$' <<<"$1" &&
		grep -q "AF_INET6 stream sockets stay native" <<<"$1"
}

case " $stacks " in *" xtcp "*)
	out=$(XTCP_RUN_VERBOSE=1 "$run" "$py" -c 'import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
print(s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL))' 2>&1)
	echo "$out" | sed 's/^/# /'
	check "xtcp: an AF_INET6 stream socket stays native, and it says so" \
		inet6_native "$out"
	;;
esac
exit $failed
