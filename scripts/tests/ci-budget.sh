#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unit test of scripts/ci-budget (the CI's time budget, .ci/run): a lane
# gets its own limit when time is plenty, what is left when it is not,
# and fails, saying so, when less is left than it needs. Then .ci/run's
# own figures: on a run that started on time every lane gets its limit,
# and a run already late fails before its first VM.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/ci-budget
. "$here/ci-budget"
# shellcheck source=selftests/tap.sh
. "$here/../selftests/tap.sh"
limit_is() {	# limit_is EXPECTED LEFT OWN NEED LATER
	local want=$1 got
	shift
	got=$(ci_lane_limit "$@" 2>/dev/null) && [ "$got" = "$want" ]
}
fails_saying() {	# fails_saying LEFT OWN NEED LATER
	local msg
	! msg=$(ci_lane_limit "$@" 2>&1 >/dev/null) &&
		[[ $msg == *"left for a lane that needs about $3 s"* ]]
}
# The figures .ci/run passes, from its own text.
ci_var() { sed -n "s/^$1=\([0-9]*\).*/\1/p" "$here/../.ci/run"; }

echo "TAP version 13"
echo "1..6"
check "plenty of time: the lane's own limit" limit_is 1700 5000 1700 1100 1300
check "little time: what is left after the later lanes" limit_is 1200 2500 1700 1100 1300
check "exactly its need left: runs" limit_is 1100 2400 1700 1100 1300
check "less than its need left: fails, saying so" fails_saying 2399 1700 1100 1300

deadline=$(ci_var CI_DEADLINE)
host=$(ci_var CHECK_HOST_NEED)
check_own=$(ci_var CHECK_VM_TIMEOUT)
check_need=$(ci_var CHECK_VM_NEED)
later=$(($(ci_var DKMS_NEED) + $(ci_var DEBUG_NEED) + $(ci_var FUZZ_NEED)))
# Two test kernels, the stock lane's VMs starting 3 minutes in.
on_time() {
	limit_is $((2 * check_own)) $((deadline - 180 - host)) \
		$((2 * check_own)) $((2 * check_need)) "$later"
}
late() {
	fails_saying $((deadline - 40 * 60 - host)) $((2 * check_own)) \
		$((2 * check_need)) "$later"
}
check ".ci/run on time: the stock lane keeps its limits" on_time
check ".ci/run 40 minutes late: fails before the stock lane" late
[ "$failed" -eq 0 ]
