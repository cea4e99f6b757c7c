#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/xtcp-perf against the loaded module: one server on all three
# stacks, the client's --compare runs each test on native TCP, xtcp and
# AF_UNIX in turn and must get a result from every one (a comparison that
# cannot reach xtcp is a failure). Short runs: this proves the tool and the
# socket API it leans on (timeouts, poll on a listener, non-blocking
# accept, port 0, shutdown), not speed. tools/test-xtcp-perf.sh covers the
# tool's own options on the host. TAP output.

here=$(cd "$(dirname "$0")" && pwd)
perf=$(dirname "$here")/tools/xtcp-perf
port=5411
# shellcheck source=selftests/tap.sh
. "$here/tap.sh"
tmp=$(mktemp -d)

echo "TAP version 13"
echo "1..7"
if [ ! -x "$perf" ]; then
	echo "# $perf: not built"
	for _ in $(seq 7); do not_ok "xtcp-perf not built"; done
	exit 1
fi

"$perf" -s -p "$port" >"$tmp/server.log" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do
	[ "$(grep -c ' listening ' "$tmp/server.log")" -ge 3 ] && break
	sleep 0.1
done
if grep -q '^server stack=xtcp listening' "$tmp/server.log"; then
	ok "server listens on native, xtcp and unix"
else
	sed 's/^/# /' "$tmp/server.log"
	not_ok "server listens on native, xtcp and unix"
fi

# compare NAME ARGS...: --compare must exit 0 with a result per stack.
compare() {
	local name=$1 s rc
	shift
	"$perf" -c 127.0.0.1 -p "$port" --compare "$@" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" = 0 ]; then
		for s in native xtcp unix; do
			grep -q "^client stack=$s " "$tmp/out" || {
				sed 's/^/# /' "$tmp/out"
				not_ok "$name: no result for $s"
				return
			}
		done
		sed 's/^/# /' "$tmp/out" | grep -v '^# client '
		ok "$name"
	else
		sed 's/^/# /' "$tmp/out"
		not_ok "$name: exit status $rc"
	fi
}

compare "stream, one connection" -t 1
compare "stream reversed, two connections, small writes" -t 1 -R -P 2 -l 1448
compare "rr of 1 byte" --test rr -t 1
compare "rr of 4 KiB on two connections" --test rr -t 1 -l 4096 -P 2
compare "crr" --test crr -t 1
compare "idle connections: memory per connection" --idle-conns 200

exit $failed
