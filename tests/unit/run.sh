#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the unit test binaries given as arguments, numbering their cases as one
# TAP-like sequence, and finish with "P passed, F failed". A binary that dies
# (a sanitizer report, a signal) counts as one more failed case.
# Exit status is non-zero when anything failed.

passed=0
failed=0
base=0

for bin in "$@"; do
	out=$(mktemp)
	XTCP_TEST_BASE=$base \
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
		"$bin" >"$out" 2>&1
	rc=$?
	grep -v '^# cases: ' "$out"
	p=$(sed -n 's/^# cases: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$out")
	f=$(sed -n 's/^# cases: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$out")
	finished=yes
	if [ -z "$p" ]; then
		# Died before its summary: count the cases it did report.
		finished=no
		p=$(grep -c '^ok ' "$out")
		f=$(grep -c '^not ok ' "$out")
	fi
	rm -f "$out"
	passed=$((passed + p))
	failed=$((failed + f))
	base=$((base + p + f))
	# A crash, or a non-zero exit no failed case accounts for (a leak
	# report at exit), is one more failure.
	if [ "$finished" = no ] || { [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; }; then
		base=$((base + 1))
		failed=$((failed + 1))
		echo "not ok $base - $(basename "$bin"): exited with status $rc"
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
