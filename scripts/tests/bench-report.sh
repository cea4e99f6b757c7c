#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unit test of scripts/bench-report's placement of a kernel series' tables
# in BENCHMARKS.md: a new series gets its markers after the last series,
# a re-run replaces its own section only, the hand-written text around
# them stays. One rr cell per run, no VM.
set -uo pipefail

report=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bench-report
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0

# run KERNEL TRANS: a results directory of KERNEL whose xtcp rr figure is
# TRANS, reported into $tmp/B.md.
run() {
	local d=$tmp/out-$1
	mkdir -p "$d"
	cat >"$d/meta.json" <<META
{"date": "2026-12-07T00:00:00Z", "kernel": "$1", "cpus": 2, "seconds": 3,
 "repeat": 1, "modparams": "", "nets": {"loopback": "loopback"},
 "tests": {"rr1": "--test rr -l 1"}}
META
	cat >"$d/loopback--rr1.json" <<CELL
{"params": {"test": "rr"}, "results": [
 {"stack": "native", "ok": true, "summary": {"trans_per_s": {"median": 1000, "min": 1000, "max": 1000}}},
 {"stack": "xtcp", "ok": true, "summary": {"trans_per_s": {"median": $2, "min": $2, "max": $2}}}]}
CELL
	"$report" "$d" "$tmp/B.md" "$tmp/chart.png" "make bench" \
		>"$tmp/log" 2>&1
}

check() {	# check NAME COMMAND...
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/#   /' "$tmp/B.md" "$tmp/log"
		fails=$((fails + 1))
	fi
}
count() { grep -c -- "$1" "$tmp/B.md"; }
between() {	# the lines between series $1's markers
	sed -n "/<!-- bench:begin $1 -->/,/<!-- bench:end $1 -->/p" "$tmp/B.md"
}

printf '# Benchmarks\n\nintro\n\n<!-- bench:begin 6.1 -->\nold 6.1\n<!-- bench:end 6.1 -->\n\n## Notes\n\nby hand\n' \
	>"$tmp/B.md"
echo "TAP version 13"
echo "1..7"
run 6.12.118+deb12-amd64 777
check "a new series is written" [ "$(count 'bench:begin 6.12 -->')" = 1 ]
check "after the last series, before the notes" \
	[ "$(grep -n -e 'bench:end 6.1 -->' -e 'bench:begin 6.12' -e '^## Notes' \
	     "$tmp/B.md" | cut -d: -f2- | tr -d '\n')" = \
	  "<!-- bench:end 6.1 --><!-- bench:begin 6.12 -->## Notes" ]
check "the other series is untouched" [ "$(between 6.1 | grep -c 'old 6.1')" = 1 ]
check "its kernel and figure are in its section" \
	[ "$(between 6.12 | grep -c -e '6.12.118+deb12-amd64' -e '| xtcp | 777')" = 2 ]
run 6.12.200+deb12-amd64 888
check "a re-run replaces its section only" \
	[ "$(count 'bench:begin 6.12 -->')/$(count "| xtcp | 777")/$(count "| xtcp | 888")/$(count 'old 6.1')/$(count 'by hand')" = "1/0/1/1/1" ]
run 6.1.0-57-amd64 555
check "6.1 is not 6.12" [ "$(count 'old 6.1')/$(count "| xtcp | 888")/$(between 6.1 | grep -c "| xtcp | 555")" = "0/1/1" ]
check "the notes keep their blank line" \
	[ "$(grep -B1 '^## Notes' "$tmp/B.md" | head -1)" = "" ]
echo "$((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
