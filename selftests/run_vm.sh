#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of `make check`: runs as root inside the VM started by
# scripts/vm (host root read-only; /tmp, /run and $XTCP_VM_OUT writable).
# Loads xtcp.ko, runs every selftest binary and shell test, checks that the
# module unloads, then prints kselftest-style TAP and, last, the line
# "N passed, N failed" counted over individual test cases (skips are in the
# "# Totals" line above it). Kernel warnings are scripts/vm's to catch.
#
# Environment (all optional):
#   XTCP_KO         module to load (default: <repo>/xtcp.ko)
#   XTCP_KO_ARGS    module parameters (default none: the suite runs what a
#                   user gets, TIME_WAIT at native's 60 s included)
#   XTCP_TESTS      names of the tests to run (default: all, from Makefile)
#   XTCP_VM_OUT     directory that receives a copy of the log (selftests.log)
#   XTCP_TEST_TIMEOUT  outer limit per test program, seconds (default 3600)
#   XTCP_LANE       the lane this run is (default "stock"; check-debug's:
#                   "debug"): a case it skips must be listed for it in
#                   selftests/expected_skips, or it counts as failed
#   XTCP_NO_MODULES=1  load/unload nothing (native-only dry run on a dev
#                   host: the module steps are skipped, xtcp variants fail).
#                   Implied outside the VM (XTCP_VM=1 is set by scripts/vm):
#                   kernel modules are only ever loaded in the VM.

set -u

outside_vm=
if [[ ${XTCP_VM:-} != 1 && -z ${XTCP_NO_MODULES:-} ]]; then
	outside_vm=1
	export XTCP_NO_MODULES=1
fi

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
ko=${XTCP_KO:-$repo/xtcp.ko}
ko_args=${XTCP_KO_ARGS-}
prog_timeout=${XTCP_TEST_TIMEOUT:-3600}
# In the VM the lossy veth test must really run: no netem is a failure.
[[ -z ${XTCP_NO_MODULES:-} ]] && export XTCP_REQUIRE_NETEM=${XTCP_REQUIRE_NETEM:-1}

pass=0 fail=0 skip=0	# test cases
top=0			# top-level TAP results
lane=${XTCP_LANE:-stock}

result() {	# result ok|fail|skip DESCRIPTION [REASON]
	top=$((top + 1))
	case $1 in
	ok) pass=$((pass + 1)); echo "ok $top selftests: xtcp: $2" ;;
	skip) skip=$((skip + 1)); echo "ok $top selftests: xtcp: $2 # SKIP ${3:-}" ;;
	*) fail=$((fail + 1)); echo "not ok $top selftests: xtcp: $2${3:+ # $3}" ;;
	esac
}

# The skipped cases of program $2's TAP log $1, one "CASE<TAB>REASON" line
# each: the name on the result line, or (the kselftest harness of 6.1
# prints none for a skip) the one its "RUN" line announced, or the
# program's.
skipped_cases() {
	awk -v run="$2" '/^#  RUN / { run = $3 }
	     /^ok [0-9]+ .*# SKIP/ {
		line = $0
		sub(/^ok [0-9]+ */, "", line)
		i = index(line, "# SKIP")
		name = substr(line, 1, i - 1)
		sub(/ +$/, "", name)
		reason = substr(line, i + 6)
		sub(/^ +/, "", reason)
		print (name == "" ? run : name) "\t" reason
	     }' "$1"
}

# Whether this lane expects case $1 to skip for reason $2: a line
# "LANE | CASE | REASON | why" of selftests/expected_skips whose lane is
# this one or "any" and whose CASE and REASON (shell patterns) match.
# (No process substitution: the guest has no /dev/fd.)
skip_expected() {
	local l c r _ list
	# A case left out by a narrowing nobody asked for is lost.
	[[ $2 == "not selected (XTCP_CASES, XTCP_VARIANTS)" &&
	   -z ${XTCP_CASES:-}${XTCP_VARIANTS:-} ]] && return 1
	list=$(grep -v -e '^#' -e '^[[:space:]]*$' "$here/expected_skips")
	while IFS='|' read -r l c r _; do
		# LANE has no blanks; CASE and REASON may hold some inside.
		l=${l// /}
		c=${c#"${c%%[! ]*}"} c=${c%"${c##*[! ]}"}
		r=${r#"${r%%[! ]*}"} r=${r%"${r##*[! ]}"}
		[[ $l == "$lane" || $l == any ]] || continue
		# shellcheck disable=SC2053 # the list holds patterns
		[[ $1 == $c && $2 == $r ]] && return 0
	done <<<"$list"
	return 1
}

# A line for each skip in program $2's log $1 that this lane does not
# expect.
unexpected_skips() {
	local c r skips
	skips=$(skipped_cases "$1" "$2")
	[[ -n $skips ]] || return 0
	while IFS=$'\t' read -r c r; do
		skip_expected "$c" "$r" ||
			echo "# unexpected SKIP in lane $lane: $c: $r (not in selftests/expected_skips)"
	done <<<"$skips"
}

# Count the case results of one program's TAP output (file $1, exit code $2)
# and report the program as one top-level result. A skip the lane does not
# expect counts as a failure.
account() {
	local log=$1 rc=$2 name=$3 p f s u=0 plan seen unexpected
	p=$(grep -cE '^ok [0-9]+' "$log")
	s=$(grep -cE '^ok [0-9]+.*# SKIP' "$log")
	f=$(grep -cE '^not ok [0-9]+' "$log")
	p=$((p - s))
	unexpected=$(unexpected_skips "$log" "$name")
	if [[ -n $unexpected ]]; then
		echo "$unexpected"
		u=$(wc -l <<<"$unexpected")
	fi
	s=$((s - u)) f=$((f + u))
	plan=$(sed -n 's/^1\.\.\([0-9]\+\).*/\1/p' "$log" | head -n1)
	seen=$((p + s + f))
	# A crash or timeout loses the cases that never reported.
	if [[ -n $plan && $seen -lt $plan ]]; then
		f=$((f + plan - seen))
		echo "# $name: only $seen of $plan cases reported"
	fi
	if [[ $rc != 0 && $f == 0 ]]; then
		f=1
		echo "# $name: exit code $rc without a failed case"
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	top=$((top + 1))
	if [[ $f == 0 ]]; then
		echo "ok $top selftests: xtcp: $name"
	else
		echo "not ok $top selftests: xtcp: $name # exit=$rc"
	fi
}

# Stream a program's output as TAP comments, with each case's time after
# its result line (where a long VM run spends its time); cases under a
# second (those XTCP_CASES leaves out among them) get none.
stream_timed() {
	local line start=$SECONDS
	while IFS= read -r line; do
		printf '# %s\n' "$line"
		case $line in
		'#  RUN '*) start=$SECONDS ;;
		'ok '* | 'not ok '*)
			((SECONDS > start)) &&
				printf '# case time: %d s\n' $((SECONDS - start))
			start=$SECONDS
			;;
		esac
	done
}

# The VM's time limit ends the run with TERM (scripts/vm's guest gives
# 5 s): count the program that was running as its log stands, then print
# the totals, so that a run cut short still says "N passed, N failed".
cur_name='' cur_log='' cur_pid='' cur_stream=''
on_time_limit() {
	trap - TERM
	[[ -n $cur_pid ]] && kill -TERM "$cur_pid" 2>/dev/null
	[[ -n $cur_stream ]] && kill -TERM "$cur_stream" 2>/dev/null
	echo "# the VM's time limit: stopped during ${cur_name:-no program}"
	[[ -n $cur_name ]] && account "$cur_log" 124 "$cur_name"
	result fail "time limit" "stopped during ${cur_name:-no program}"
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
	echo "$pass passed, $fail failed"
	finish 124
}

# Exit with STATUS once tee (below) has written our last lines: the guest
# powers off as soon as we exit. At most 2 s, should a leftover process
# still hold the FIFO.
tee_pid=''
finish() {
	local i
	if [[ -n $tee_pid ]]; then
		exec >/dev/null 2>&1
		for i in $(seq 20); do
			kill -0 "$tee_pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	exit "$1"
}

run_prog() {	# run_prog NAME COMMAND...
	local name=$1 log=/tmp/xtcp-selftest-$1.tap rc
	shift
	echo "# selftests: xtcp: $name"
	: >"$log"
	(cd "$here" && timeout -k 30 "$prog_timeout" "$@") >"$log" 2>&1 &
	local pid=$!
	cur_name=$name cur_log=$log cur_pid=$pid
	# Stream the output while it runs (TCG runs are long), in the
	# background: a trap runs during wait, not during a foreground pipe.
	local t0=$SECONDS
	tail -n +1 -f --pid=$pid "$log" 2>/dev/null | stream_timed &
	cur_stream=$!
	wait $!
	wait $pid
	rc=$?
	cur_name='' cur_pid='' cur_stream=''
	[[ $rc == 124 ]] && echo "# $name: timed out after ${prog_timeout}s"
	echo "# $name: $((SECONDS - t0)) s"
	account "$log" $rc "$name"
}

main() {
	local t tests name

	trap on_time_limit TERM

	echo "TAP version 13"
	[[ -n $outside_vm ]] && echo "# not in the VM (XTCP_VM unset): no module is loaded"
	ulimit -c 0
	ip link set lo up
	if [[ -z ${XTCP_NO_MODULES:-} ]]; then
		modprobe -q veth 2>/dev/null
		modprobe -q sch_netem 2>/dev/null
	fi

	tests=${XTCP_TESTS:-$(make -s --no-print-directory -C "$here" list)}
	# module load + programs + refused unload + unload
	echo "1..$(($(wc -w <<<"$tests") + 3))"

	echo "# selftests: xtcp: insmod"
	if [[ -n ${XTCP_NO_MODULES:-} ]]; then
		result skip "insmod xtcp.ko" "XTCP_NO_MODULES set"
	elif [[ -d /sys/module/xtcp ]]; then
		result ok "insmod xtcp.ko (already loaded)"
	elif [[ ! -f $ko ]]; then
		echo "# $ko: no such file (build the module first)"
		result fail "insmod xtcp.ko" "module not built"
	elif out=$(insmod "$ko" $ko_args 2>&1); then
		result ok "insmod xtcp.ko $ko_args"
		echo "# family $(cat /sys/module/xtcp/parameters/family 2>/dev/null)" \
		     "ipproto $(cat /sys/module/xtcp/parameters/ipproto 2>/dev/null)"
	else
		echo "# $out"
		# The xtcp variants will fail on their own: no silent skips.
		result fail "insmod xtcp.ko $ko_args" "cannot load"
	fi

	for t in $tests; do
		name=${t%.sh}
		if [[ $t == *.sh ]]; then
			run_prog "$name" bash "./$t"
		elif [[ -x $here/$t ]]; then
			run_prog "$name" "./$t"
		else
			echo "# $here/$t: not built"
			result fail "$name" "not built"
		fi
	done

	# Leftovers of a killed test would hold sockets and block rmmod.
	ip netns list 2>/dev/null | awk '/^xtcp[a-z]*[0-9]+-[12]/ {print $1}' |
		xargs -r -n1 ip netns del 2>/dev/null

	# An open xtcp socket pins the module, as for any socket family. Wait
	# for the tests' TIME_WAIT sockets to go first, so only ours holds it.
	echo "# selftests: xtcp: rmmod refused while a socket is open"
	if [[ -n ${XTCP_NO_MODULES:-} || ! -d /sys/module/xtcp ]]; then
		result skip "rmmod refused while a socket is open" "module not loaded"
	else
		# The last cases' TIME_WAIT entries: 60 s at most.
		for _ in $(seq 750); do
			[[ $(cat /sys/module/xtcp/refcnt) == 0 ]] && break
			sleep 0.1
		done
		local before
		before=$(cat /sys/module/xtcp/refcnt)
		echo "# refcount before the listener: $before"
		"$repo/tools/xtcp-perf" -s --stack xtcp -p 5999 -1 >/dev/null 2>&1 &
		local holder=$!
		for _ in $(seq 50); do
			[[ $(cat /sys/module/xtcp/refcnt) != 0 ]] && break
			sleep 0.1
		done
		echo "# refcount with a listener open: $(cat /sys/module/xtcp/refcnt)"
		if [[ $before != 0 ]]; then
			# Refused for the entries, not the listener: proves nothing.
			result fail "rmmod refused while a socket is open" \
				"refcount $before after 75 s: something else holds it"
		elif rmmod xtcp 2>/dev/null; then
			result fail "rmmod refused while a socket is open" "rmmod succeeded"
		else
			result ok "rmmod refused while a socket is open"
		fi
		kill "$holder" 2>/dev/null
		wait "$holder" 2>/dev/null
	fi

	# TIME_WAIT entries hold the module, 60 s at most.
	echo "# selftests: xtcp: rmmod"
	if [[ -n ${XTCP_NO_MODULES:-} ]]; then
		result skip "rmmod xtcp" "XTCP_NO_MODULES set"
	elif [[ ! -d /sys/module/xtcp ]]; then
		result fail "rmmod xtcp" "module not loaded"
	else
		# The last cases' TIME_WAIT entries hold the module until
		# they end, 60 s after at most.
		for _ in $(seq 75); do
			rmmod xtcp 2>/dev/null && break
			sleep 1
		done
		if [[ -d /sys/module/xtcp ]]; then
			echo "# $(rmmod xtcp 2>&1)"
			echo "# refcount $(cat /sys/module/xtcp/refcnt 2>/dev/null)"
			result fail "rmmod xtcp" "still loaded after 75 s"
		else
			result ok "rmmod xtcp"
		fi
	fi

	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
	echo "$pass passed, $fail failed"
	[[ $fail == 0 ]]
}

if [[ -n ${XTCP_VM_OUT:-} ]]; then
	mkdir -p "$XTCP_VM_OUT"
	# main runs in this shell, not in a pipeline's subshell: the VM's
	# TERM must reach its trap. tee reads a FIFO (the guest's /dev has
	# no fd links for a process substitution).
	fifo=$(mktemp -u /tmp/run_vm.XXXXXX)
	mkfifo "$fifo" || exit 1
	tee "$XTCP_VM_OUT/selftests.log" <"$fifo" &
	tee_pid=$!
	# No other descriptor: the tests inherit ours, and packetdrill's
	# scripts expect their first socket to be descriptor 3.
	exec >"$fifo" 2>&1
	rm -f "$fifo"
	main
	finish $?
fi
main
