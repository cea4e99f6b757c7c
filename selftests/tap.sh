# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# TAP output for the shell tests, sourced by each (after it sets $here):
# $n counts the cases so far, $failed is 1 once one failed.

n=0
# shellcheck disable=SC2034 # read by the test that sources this
failed=0

ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n $*"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
check() {	# check DESCRIPTION COMMAND...
	local what=$1

	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
