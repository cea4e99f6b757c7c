#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unit test of scripts/kunit-results on KUnit results files written the
# way the 6.1 kernel writes /sys/kernel/debug/kunit/SUITE/results: passes,
# a failed case with its log, a skipped case and a short run must each
# come out right. No VM needed.
set -uo pipefail

parse=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/kunit-results
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0

# results PLAN CASE_LINE...: a results file for suite s.
results() {
	local plan=$1 suite_ok=ok line
	shift
	printf 'KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: s\n'
	printf '    1..%s\n' "$plan"
	for line in "$@"; do
		printf '%s\n' "$line"
		case $line in "    not ok "*) suite_ok="not ok" ;; esac
	done
	printf '%s 1 s\n' "$suite_ok"
}

# expect STATUS "LAST LINE" NAME PATTERN...: each PATTERN must be a line.
expect() {
	local want=$1 last=$2 name=$3 got pat
	shift 3
	n=$((n + 1))
	"$parse" s "$tmp/results" >"$tmp/out" 2>&1
	got=$?
	for pat in "$@" "$last"; do
		if ! grep -qxF -- "$pat" "$tmp/out"; then
			got="$got, no line '$pat'"
		fi
	done
	if [ "$got" = "$want" ] && [ "$(tail -n 1 "$tmp/out")" = "$last" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name: status $got, want $want"
		sed 's/^/#   /' "$tmp/out"
		fails=$((fails + 1))
	fi
}

results 2 '    ok 1 a' '    ok 2 b' >"$tmp/results"
expect 0 "cases 2 failed 0" "all cases pass" "ok - kunit s.a" "ok - kunit s.b"

results 2 '    ok 1 a' \
	'    # b: EXPECTATION FAILED at harness.h:49' \
	'x.c:7: 1 + 1 == 3: got 2 (0x2), expected 3 (0x3)' \
	'    not ok 2 b' >"$tmp/results"
expect 1 "cases 2 failed 1" "a failed case fails, with its log" \
	"ok - kunit s.a" "not ok - kunit s.b" \
	"# x.c:7: 1 + 1 == 3: got 2 (0x2), expected 3 (0x3)"

results 1 '    ok 1 a # SKIP not here' >"$tmp/results"
expect 1 "cases 1 failed 1" "a skipped case counts as failed" \
	"not ok - kunit s.a (skipped)"

results 3 '    ok 1 a' '    ok 2 b' >"$tmp/results"
expect 1 "cases 2 failed 1" "fewer cases than planned fails" \
	"not ok - kunit s: ran 2 of 3 planned cases"

: >"$tmp/results"
expect 1 "cases 0 failed 1" "an empty results file fails" \
	"not ok - kunit s: no results"

echo "$((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
