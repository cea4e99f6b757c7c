#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End-to-end test of tools/xtcp-perf on the host, over loopback: native and
# unix for real, xtcp through an LD_PRELOAD shim that turns family 22 into
# AF_INET on a shifted port (the xtcp code path differs from native only in
# the family number). Never loads a module. Short runs: well under 60 s.
#
#   tools/test-xtcp-perf.sh          (XTCP_PERF=path overrides the binary)
#
# Prints TAP-style "ok N - ..." / "not ok N - ..." ("ok N - ... # SKIP why"
# for a case this host cannot run), then "# Totals: pass:N fail:N ...
# skip:N ..." and, last, "N passed, N failed" (skips not among them);
# exits non-zero on any failure. Only a case that needs the module absent
# may be skipped (where it is loaded): python3 and a C compiler are
# scripts/setup's, and a case skipped for want of them fails.
set -u

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
perf=${XTCP_PERF:-$repo/tools/xtcp-perf}
tmp=$(mktemp -d /tmp/test-xtcp-perf.XXXXXX)
pass=0
fail=0
skipped=0
num=0
pids=()

cleanup() {
	local pid

	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() {
	num=$((num + 1))
	pass=$((pass + 1))
	echo "ok $num - $1"
}

# not_ok DESC [FILE...]: the files' tails go out as TAP diagnostics.
not_ok() {
	local desc=$1 f

	shift
	num=$((num + 1))
	fail=$((fail + 1))
	echo "not ok $num - $desc"
	for f in "$@"; do
		[ -f "$f" ] && tail -n 15 "$f" | sed "s|^|# $(basename "$f"): |"
	done
}

# skip DESC REASON: a case not run here. The one expected reason is a
# loaded module (those cases check the errors without it; selftests/
# perf_tool.sh covers the tool with it); any other skip is a failure, as
# a lane's skip is unless selftests/expected_skips lists it.
skip() {
	case $2 in
	"xtcp is loaded here")
		num=$((num + 1))
		skipped=$((skipped + 1))
		echo "ok $num - $1 # SKIP $2"
		;;
	*)
		not_ok "$1 (unexpected skip: $2; scripts/setup installs it)"
		;;
	esac
}

# The summary: skips in the "# Totals" line, then "N passed, N failed".
totals() {
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skipped error:0"
	echo "$pass passed, $fail failed"
}

# run NAME ARGS...: the client's output in $tmp/NAME.{out,err}, status in $rc.
run() {
	local name=$1

	shift
	"$perf" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
}

# field FILE STACK KEY: KEY's value on the "client stack=STACK" line.
field() {
	awk -v stack="$2" -v key="$3" '
		$1 == "client" && $2 == "stack=" stack {
			for (i = 3; i <= NF; i++)
				if (index($i, key "=") == 1) {
					print substr($i, length(key) + 2)
					exit
				}
		}' "$1"
}

# start_server LOG ARGS...: a server in the background, up when it says so.
start_server() {
	local log=$1

	shift
	"$@" >"$log" 2>&1 &
	pids+=($!)
	server_pid=$!
	for _ in $(seq 50); do
		grep -q listening "$log" && return 0
		kill -0 "$server_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# expect_ok DESC NAME ARGS...: exit status 0 and a client line.
expect_ok() {
	local desc=$1 name=$2

	shift 2
	run "$name" "$@"
	if [ "$rc" = 0 ] && grep -q '^client stack=' "$tmp/$name.out"; then
		ok "$desc"
	else
		not_ok "$desc (exit $rc)" "$tmp/$name.out" "$tmp/$name.err" "$tmp/server.log"
	fi
}

is_num() {
	[[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]]
}

# gt A B: A > B, as numbers
gt() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'
}

if [ ! -x "$perf" ]; then
	echo "not ok 1 - $perf not built (make tools)"
	fail=1
	totals
	exit 1
fi
have_python=0
command -v python3 >/dev/null && have_python=1
xtcp_loaded=0
[ -d /sys/module/xtcp ] && xtcp_loaded=1

# A port pair per run, below the ephemeral range; shifted by 1000 for xtcp.
port=""
for try in 1 2 3 4 5; do
	p=$((20000 + (($$ + try * 7919) % 4000) * 2))
	if start_server "$tmp/server.log" "$perf" -s -p "$p"; then
		port=$p
		break
	fi
done
if [ -z "$port" ]; then
	not_ok "server starts" "$tmp/server.log"
	totals
	exit 1
fi
server=$server_pid
host=127.0.0.1

# --- server -------------------------------------------------------------
if grep -q "^server stack=native listening port=$port" "$tmp/server.log" &&
   grep -q "^server stack=unix listening port=$port name=@xtcp-perf.$port" "$tmp/server.log"; then
	ok "server listens on native and unix"
else
	not_ok "server listens on native and unix" "$tmp/server.log"
fi
if [ "$xtcp_loaded" = 1 ]; then
	skip "server says once that xtcp is missing" "xtcp is loaded here"
elif [ "$(grep -c 'xtcp is not loaded (family [0-9]* not registered)' \
	   "$tmp/server.log")" = 1 ]; then
	ok "server says once that xtcp is missing, and carries on"
else
	not_ok "server says once that xtcp is missing" "$tmp/server.log"
fi

# --- stream -------------------------------------------------------------
expect_ok "stream native, client sends" s1 -c $host -p "$port" -t 0.5
b=$(field "$tmp/s1.out" native bytes)
g=$(field "$tmp/s1.out" native gbit_per_s)
srv_b=$(sed -n 's/^server stack=native test=stream .* bytes=\([0-9]*\).*/\1/p' \
	"$tmp/server.log" | tail -n 1)
if is_num "$b" && gt "$b" 0 && is_num "$g" && gt "$g" 0 && [ "$b" = "$srv_b" ]; then
	ok "stream native: client line has bytes and gbit_per_s, server received them all"
else
	not_ok "stream native: byte counts (client '$b', server '$srv_b', rate '$g')" "$tmp/s1.out"
fi

expect_ok "stream native, reverse, 4 connections" s2 -c $host -p "$port" -t 0.5 -R -P 4
if [ "$(grep -c '^  connection [0-3]: ' "$tmp/s2.out")" = 4 ] &&
   [ "$(field "$tmp/s2.out" native reverse)" = 1 ]; then
	ok "stream reverse: a line per connection"
else
	not_ok "stream reverse: a line per connection" "$tmp/s2.out"
fi

expect_ok "stream unix, 4 connections" s3 -c $host -p "$port" -t 0.5 -P 4 --stack unix
expect_ok "stream unix, reverse" s4 -c $host -p "$port" -t 0.5 -R --stack unix

run s5 -c $host -p "$port" -n 10M -P 3
run s6 -c $host -p "$port" -n 10M -P 3 -R --stack unix
if [ "$(field "$tmp/s5.out" native bytes)" = 10485760 ] &&
   [ "$(field "$tmp/s6.out" unix bytes)" = 10485760 ]; then
	ok "stream -n 10M: exactly 10485760 bytes delivered, both directions"
else
	not_ok "stream -n 10M" "$tmp/s5.out" "$tmp/s5.err" "$tmp/s6.out" "$tmp/s6.err"
fi

run s7 -c $host -p "$port" -t 1 -i 0.25 --stack unix
n_iv=$(grep -c '^\[unix ' "$tmp/s7.out")
if [ "$rc" = 0 ] && [ "$n_iv" -ge 3 ] && [ "$n_iv" -le 5 ]; then
	ok "-i 0.25 -t 1: $n_iv interval lines"
else
	not_ok "-i 0.25 -t 1: interval lines ($n_iv, exit $rc)" "$tmp/s7.out" "$tmp/s7.err"
fi

# scripts/bench's way: --stack tcp, server -1 and -l; it greps ^client and gbit_per_s=.
bport=$((port + 1))
if start_server "$tmp/bench-server.log" "$perf" -s -1 -p "$bport" --stack tcp -l 131072; then
	bench_srv=$server_pid
	run bench -c $host -p "$bport" --stack tcp -t 0.5 -l 131072
	line=$(grep '^client ' "$tmp/bench.out")
	rate=$(sed -n 's/.* gbit_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
	wait "$bench_srv"
	srv_rc=$?
	if [ "$rc" = 0 ] && [ "$srv_rc" = 0 ] && [ "$(wc -l <<<"$line")" = 1 ] && is_num "$rate" &&
	   ! grep -q 'stack=unix\|stack=xtcp' "$tmp/bench-server.log"; then
		ok "scripts/bench invocation: one client line, rate $rate, server -1 exits 0"
	else
		not_ok "scripts/bench invocation (client $rc, server $srv_rc)" \
			"$tmp/bench.out" "$tmp/bench.err" "$tmp/bench-server.log"
	fi
else
	not_ok "server -1 --stack tcp starts" "$tmp/bench-server.log"
fi

# --- rr, crr ------------------------------------------------------------
check_rr() {
	local desc=$1 file=$2 stack=$3 key=$4 rate p50 p90 p99 p999

	rate=$(field "$file" "$stack" "$key")
	p50=$(field "$file" "$stack" p50_us)
	p90=$(field "$file" "$stack" p90_us)
	p99=$(field "$file" "$stack" p99_us)
	p999=$(field "$file" "$stack" p99_9_us)
	if is_num "$rate" && gt "$rate" 0 && is_num "$p50" && is_num "$p999" &&
	   ! gt "$p50" "$p90" && ! gt "$p90" "$p99" && ! gt "$p99" "$p999"; then
		ok "$desc: $key=$rate, p50 $p50 <= p90 <= p99 <= p99.9 $p999 us"
	else
		not_ok "$desc: figures" "$file"
	fi
}

expect_ok "rr native, 1 byte" r1 -c $host -p "$port" -t 0.5 --test rr
check_rr "rr native" "$tmp/r1.out" native trans_per_s
expect_ok "rr unix, 4096 bytes, 2 connections" r2 -c $host -p "$port" -t 0.5 --test rr \
	-l 4096 -P 2 --stack unix
check_rr "rr unix" "$tmp/r2.out" unix trans_per_s
expect_ok "crr native" c1 -c $host -p "$port" -t 0.3 --test crr
check_rr "crr native" "$tmp/c1.out" native conn_per_s
expect_ok "crr unix, 2 threads, 100 bytes" c2 -c $host -p "$port" -t 0.5 --test crr \
	-P 2 -l 100 --stack unix
check_rr "crr unix" "$tmp/c2.out" unix conn_per_s
expect_ok "crr native, the server closes first" c3 -c $host -p "$port" -t 0.3 --test crr -R
check_rr "crr native -R" "$tmp/c3.out" native conn_per_s
if grep -q 'server closes first' "$tmp/c3.out" && grep -q 'client closes first' "$tmp/c1.out"; then
	ok "crr: the header says which side closes first"
else
	not_ok "crr: the header says which side closes first" "$tmp/c3.out"
fi

run rep -c $host -p "$port" -t 0.2 --test rr --repeat 3 --stack unix
if [ "$rc" = 0 ] && grep -q '^median (min-max) of 3 runs' "$tmp/rep.out" &&
   [ "$(grep -c '^unix run [1-3]/3: ' "$tmp/rep.out")" = 3 ] &&
   [ "$(field "$tmp/rep.out" unix runs)" = 3 ]; then
	ok "--repeat 3: three runs, median table, runs=3"
else
	not_ok "--repeat 3 (exit $rc)" "$tmp/rep.out" "$tmp/rep.err"
fi

# --- idle connections ---------------------------------------------------
for stack in native unix; do
	run "idle-$stack" -c $host -p "$port" --idle-conns 300 --stack $stack
	slab=$(field "$tmp/idle-$stack.out" $stack slab_bytes_per_conn)
	if [ "$rc" = 0 ] && [ "$(field "$tmp/idle-$stack.out" $stack conns)" = 300 ] &&
	   is_num "$slab" && grep -q 'both endpoints on this host' "$tmp/idle-$stack.out"; then
		ok "--idle-conns 300 $stack: Slab $slab B/conn"
	else
		not_ok "--idle-conns 300 $stack (exit $rc)" "$tmp/idle-$stack.out" \
			"$tmp/idle-$stack.err"
	fi
done
# -R: the server closes first; the client closes on each EOF, then reads.
run idle-tw -c $host -p "$port" --idle-conns 300 -R --stack native
if [ "$rc" = 0 ] && [ "$(field "$tmp/idle-tw.out" native conns)" = 300 ] &&
   grep -q '300 TIME_WAIT entries' "$tmp/idle-tw.out" &&
   is_num "$(field "$tmp/idle-tw.out" native slab_bytes_per_conn)"; then
	ok "--idle-conns 300 -R native: TIME_WAIT entries measured"
else
	not_ok "--idle-conns 300 -R (exit $rc)" "$tmp/idle-tw.out" "$tmp/idle-tw.err"
fi

# --- compare and JSON ---------------------------------------------------
run cmp -c $host -p "$port" -t 0.3 --compare
if [ "$xtcp_loaded" = 1 ]; then
	skip "--compare marks xtcp unavailable" "xtcp is loaded here"
elif [ "$rc" = 1 ] && grep -q '^xtcp  *unavailable (module not loaded)' "$tmp/cmp.out" &&
     grep -q '^native  *[0-9]' "$tmp/cmp.out" && grep -q '^unix  *[0-9]' "$tmp/cmp.out" &&
     grep -q '^xtcp/native  *n/a' "$tmp/cmp.out" &&
     grep -q 'xtcp is not loaded (family [0-9]* not registered): insmod xtcp.ko' \
	"$tmp/cmp.err"; then
	ok "--compare: native and unix rows, xtcp unavailable (module not loaded), exit 1"
else
	not_ok "--compare without xtcp (exit $rc)" "$tmp/cmp.out" "$tmp/cmp.err"
fi

run json -c $host -p "$port" -t 0.5 -i 0.2 -P 2 --compare -J
if [ "$have_python" = 0 ]; then
	skip "-J output is valid JSON" "no python3"
elif python3 - "$tmp/json.out" "$xtcp_loaded" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
loaded = sys.argv[2] == "1"
res = {r["stack"]: r for r in doc["results"]}
assert set(res) == {"native", "xtcp", "unix"}
for s in ("native", "unix"):
    run = res[s]["runs"][0]
    assert run["ok"] and run["gbit_per_s"] > 0
    assert run["bytes"] == sum(c["bytes_sent"] for c in run["client_connections"])
    assert run["bytes"] == sum(c["bytes_received"] for c in run["server_connections"])
    assert len(run["intervals"]) >= 2
    assert res[s]["summary"]["gbit_per_s"]["runs"] == 1
assert "xtcp/native" in doc["ratios"] and "xtcp/unix" in doc["ratios"]
if not loaded:
    assert res["xtcp"]["available"] is False
    assert "insmod xtcp.ko" in res["xtcp"]["error"]
    assert doc["ratios"]["xtcp/native"] is None
    assert doc["ok"] is False and doc["errors"]
EOF
then
	ok "-J --compare -i: valid JSON, byte counts agree, intervals, xtcp marked"
else
	not_ok "-J --compare -i" "$tmp/json.out" "$tmp/json.err"
fi

run json-rr -c $host -p "$port" -t 0.3 --test crr -J --stack unix --repeat 2
if [ "$have_python" = 0 ]; then
	skip "-J crr is valid JSON" "no python3"
elif [ "$rc" = 0 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = d["results"][0]
assert d["ok"] and r["ok"] and len(r["runs"]) == 2
assert r["summary"]["conn_per_s"]["median"] > 0
assert r["runs"][0]["p50_us"] <= r["runs"][0]["p99_9_us"]
' "$tmp/json-rr.out"; then
	ok "-J crr --repeat 2: valid JSON with summary"
else
	not_ok "-J crr --repeat 2 (exit $rc)" "$tmp/json-rr.out" "$tmp/json-rr.err"
fi

# --- errors -------------------------------------------------------------
dead=$((port + 3))
run noserver -c $host -p "$dead" -t 0.5
if [ "$rc" = 1 ] &&
   grep -q "server not reachable at $host:$dead (native): Connection refused" \
	"$tmp/noserver.err"; then
	ok "no server: 'server not reachable at HOST:PORT (native)', exit 1"
else
	not_ok "no server (exit $rc)" "$tmp/noserver.err"
fi
run noserver-unix -c $host -p "$dead" -t 0.5 --stack unix
if [ "$rc" = 1 ] &&
   grep -q "server not reachable at $host:$dead (unix)" "$tmp/noserver-unix.err"; then
	ok "no server, unix: not reachable, exit 1"
else
	not_ok "no server, unix (exit $rc)" "$tmp/noserver-unix.err"
fi
run noserver-json -c $host -p "$dead" -t 0.5 -J
if [ "$have_python" = 0 ]; then
	skip "no server with -J" "no python3"
elif [ "$rc" = 1 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False and "not reachable" in d["errors"][0]
' "$tmp/noserver-json.out"; then
	ok "no server with -J: a JSON document with the error, exit 1"
else
	not_ok "no server with -J (exit $rc)" "$tmp/noserver-json.out" "$tmp/noserver-json.err"
fi

if [ "$xtcp_loaded" = 1 ]; then
	skip "xtcp not loaded: clear error" "xtcp is loaded here"
	skip "server --stack xtcp without xtcp" "xtcp is loaded here"
else
	run noxtcp -c $host -p "$port" -t 0.5 --stack xtcp
	if [ "$rc" = 1 ] &&
	   grep -q '^xtcp-perf: xtcp is not loaded (family [0-9]* not registered): insmod xtcp\.ko$' \
		"$tmp/noxtcp.err"; then
		ok "client --stack xtcp without the module: 'xtcp is not loaded', exit 1"
	else
		not_ok "client --stack xtcp without the module (exit $rc)" "$tmp/noxtcp.err"
	fi
	run noxtcp-srv -s -p "$dead" --stack xtcp
	if [ "$rc" = 1 ] && grep -q 'xtcp is not loaded' "$tmp/noxtcp-srv.err"; then
		ok "server --stack xtcp without the module: exit 1"
	else
		not_ok "server --stack xtcp without the module (exit $rc)" "$tmp/noxtcp-srv.err"
	fi
fi

bad=0
for args in "-c $host -P 0" "-c $host --test foo" "-s -t 1" "" "-c $host --compare --stack unix" \
	    "-c $host -R --test rr" "-c $host -n 1M -t 1" "-c $host --stack sctp" "-c $host -l 0" \
	    "-c $host -i 0.001" "-c $host --idle-conns 10 -P 2" "-c $host -1" "-c $host extra"; do
	# shellcheck disable=SC2086 # word splitting wanted
	"$perf" $args >"$tmp/bad.out" 2>"$tmp/bad.err"
	r=$?
	if [ "$r" != 2 ] || ! grep -q '^usage: xtcp-perf' "$tmp/bad.err"; then
		echo "# '$args': exit $r"
		bad=1
	fi
done
if [ "$bad" = 0 ]; then
	ok "bad arguments: usage on stderr, exit 2"
else
	not_ok "bad arguments: usage on stderr, exit 2"
fi
run help -h
if [ "$rc" = 0 ] && grep -q -- '--idle-conns' "$tmp/help.out"; then
	ok "-h: usage on stdout, exit 0"
else
	not_ok "-h" "$tmp/help.out"
fi

# A peer that does not speak the protocol, both ways round.
if [ "$have_python" = 0 ]; then
	skip "server refuses a bad message" "no python3"
	skip "client rejects a non-xtcp-perf server" "no python3"
else
	if python3 - "$port" <<'EOF' >"$tmp/garbage.out" 2>&1
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET / HTTP/1.0\r\n\r\n" + b"x" * 40)
reply = b""
while len(reply) < 116:
    chunk = s.recv(116 - len(reply))
    if not chunk:
        break
    reply += chunk
magic, version, mtype, length, status = struct.unpack(">IHHII", reply[:16])
reason = reply[20:].rstrip(b"\0").decode()
print(status, reason)
assert magic == 0x58545046 and mtype == 2 and status == 1 and "bad message: magic" in reason
EOF
	then
		sleep 0.2
		if grep -q 'refused: bad message: magic' "$tmp/server.log"; then
			ok "server refuses a bad message on both sides, with the reason"
		else
			not_ok "server logs the bad message" "$tmp/server.log"
		fi
	else
		not_ok "server refuses a bad message" "$tmp/garbage.out"
	fi
	fport=$((port + 5))
	python3 - "$fport" <<'EOF' &
import socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1])))
l.listen()
l.settimeout(10)
c, _ = l.accept()
c.recv(100)
c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n" * 8)
time.sleep(1)
EOF
	fake=$!
	sleep 0.5
	run fake -c $host -p "$fport" -t 0.5
	wait "$fake" 2>/dev/null
	if [ "$rc" = 1 ] &&
	   grep -q 'bad message: magic .*not an xtcp-perf peer' "$tmp/fake.err"; then
		ok "client rejects a server that is not xtcp-perf, exit 1"
	else
		not_ok "client rejects a non-xtcp-perf server (exit $rc)" "$tmp/fake.err"
	fi
fi

# One session at a time: a second client is told the server is busy.
"$perf" -c $host -p "$port" -t 1.5 --stack unix >"$tmp/long.out" 2>&1 &
long=$!
sleep 0.5
run busy -c $host -p "$port" -t 0.5
wait "$long"
long_rc=$?
if [ "$rc" = 1 ] && grep -q 'busy: another session is running' "$tmp/busy.err" &&
   [ "$long_rc" = 0 ]; then
	ok "second client while a session runs: 'busy', exit 1; the first one completes"
else
	not_ok "busy server (second $rc, first $long_rc)" "$tmp/busy.err" "$tmp/long.out"
fi

if kill -0 "$server" 2>/dev/null; then
	ok "server still up after all of the above"
else
	not_ok "server still up" "$tmp/server.log"
fi

# --- xtcp code path, through a shim --------------------------------------
# socket(22, ...) becomes an AF_INET socket whose bind/connect to the shim
# port go to port+1000, so "xtcp" does not collide with native on one port.
shim_port=$((port + 7))
if ! command -v "${CC:-gcc}" >/dev/null; then
	skip "xtcp path through the shim" "no C compiler"
else
	cat >"$tmp/shim.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

static char fake_xtcp[65536];

static int shift(int fd, const struct sockaddr *a, socklen_t len, struct sockaddr_in *out)
{
	const char *p = getenv("SHIM_PORT");

	if (fd < 0 || fd >= 65536 || !fake_xtcp[fd] || !p || len < sizeof(*out) ||
	    a->sa_family != AF_INET)
		return 0;
	*out = *(const struct sockaddr_in *)a;
	if (ntohs(out->sin_port) != atoi(p))
		return 0;
	out->sin_port = htons(atoi(p) + 1000);
	return 1;
}

int socket(int domain, int type, int protocol)
{
	int (*real)(int, int, int) = dlsym(RTLD_NEXT, "socket");
	int fd = real(domain == 22 ? AF_INET : domain, type, protocol);

	if (fd >= 0 && fd < 65536)
		fake_xtcp[fd] = domain == 22;
	return fd;
}

int bind(int fd, const struct sockaddr *a, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) = dlsym(RTLD_NEXT, "bind");
	struct sockaddr_in sin;

	return shift(fd, a, len, &sin) ? real(fd, (struct sockaddr *)&sin, sizeof(sin)) :
					 real(fd, a, len);
}

int connect(int fd, const struct sockaddr *a, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) = dlsym(RTLD_NEXT, "connect");
	struct sockaddr_in sin;

	return shift(fd, a, len, &sin) ? real(fd, (struct sockaddr *)&sin, sizeof(sin)) :
					 real(fd, a, len);
}
EOF
	if ! "${CC:-gcc}" -shared -fPIC -O2 -o "$tmp/shim.so" "$tmp/shim.c" -ldl \
		2>"$tmp/shim.err"; then
		not_ok "shim builds" "$tmp/shim.err"
	elif ! SHIM_PORT=$shim_port LD_PRELOAD=$tmp/shim.so \
		start_server "$tmp/shim-server.log" "$perf" -s -p "$shim_port"; then
		not_ok "server with the shim starts" "$tmp/shim-server.log"
	else
		SHIM_PORT=$shim_port LD_PRELOAD=$tmp/shim.so \
			run shim -c $host -p "$shim_port" -t 0.3 --compare
		if [ "$rc" = 0 ] && grep -q '^server stack=xtcp listening' "$tmp/shim-server.log" &&
		   grep -q '^xtcp  *[0-9]' "$tmp/shim.out" &&
		   grep -q '^xtcp/native  *[0-9][0-9.]*  *[0-9]' "$tmp/shim.out" &&
		   grep -q '^xtcp/unix  *[0-9]' "$tmp/shim.out" &&
		   is_num "$(field "$tmp/shim.out" xtcp gbit_per_s)"; then
			ok "--compare with an xtcp (shim): three rows and both ratios, exit 0"
		else
			not_ok "--compare with an xtcp (shim) (exit $rc)" "$tmp/shim.out" \
				"$tmp/shim.err" "$tmp/shim-server.log"
		fi
		SHIM_PORT=$shim_port LD_PRELOAD=$tmp/shim.so \
			run shim-rr -c $host -p "$shim_port" -t 0.3 --compare --test rr -J
		if [ "$have_python" = 0 ]; then
			skip "--compare --test rr -J with an xtcp (shim)" "no python3"
		elif [ "$rc" = 0 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = d["ratios"]["xtcp/native"]
assert d["ok"] and r["trans_per_s"] > 0 and r["p50_us"] > 0 and r["p99_us"] > 0
assert d["ratios"]["xtcp/unix"]["trans_per_s"] > 0
' "$tmp/shim-rr.out"; then
			ok "--compare --test rr -J with an xtcp (shim): ratios of trans/s, p50, p99"
		else
			not_ok "--compare rr -J with an xtcp (shim) (exit $rc)" "$tmp/shim-rr.out" \
				"$tmp/shim-rr.err"
		fi
	fi
fi

totals
[ "$fail" = 0 ]
