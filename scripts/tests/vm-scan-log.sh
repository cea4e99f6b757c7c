#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unit test of scripts/vm-scan-log on fake console logs: every report kind
# must be caught, a clean boot and look-alikes must not be. No VM needed.
set -uo pipefail

scan=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/vm-scan-log
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0

# expect STATUS NAME [LINE...]: a log of the clean boot plus LINEs.
expect() {
	local want=$1 name=$2 got
	shift 2
	n=$((n + 1))
	{
		cat "$tmp/boot"
		printf '%s\r\n' "$@"
	} >"$tmp/log"
	"$scan" "$tmp/log" >"$tmp/out" 2>&1
	got=$?
	if [ "$got" -eq "$want" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name: status $got, want $want"
		sed 's/^/#   /' "$tmp/out"
		fails=$((fails + 1))
	fi
}

# A real clean boot of the test VM (loglevel=5), with CRLF line ends.
sed 's/$/\r/' >"$tmp/boot" <<'LOG'
[    0.113445] **********************************************************
[    0.113458] **   NOTICE NOTICE NOTICE NOTICE NOTICE NOTICE NOTICE   **
[    0.113474] ** This system shows unhashed kernel memory addresses   **
[    0.952569] mtrr: your CPUs had inconsistent fixed MTRR settings
[    2.570557] Unstable clock detected, switching default tracing clock to "global"
xtcp-vm: command starts at uptime 3.61
[    3.700000] xtcp: module verification failed: signature and/or required key missing - tainting kernel
[    3.800000] DEBUG xtcp: state SYN_SENT -> ESTABLISHED
xtcp-vm: command exit status 0 at uptime 4.04
[    4.097344] reboot: Restarting system
LOG

expect 0 "clean boot"
expect 0 "look-alikes: DEBUG, debug words" \
	"[ 5.0] xtcp: DEBUG_BUGVERBOSE not set" "[ 5.1] hello DEBUG: x"
expect 1 "WARN" \
	"[ 5.0] ------------[ cut here ]------------" \
	"[ 5.0] WARNING: CPU: 1 PID: 230 at module/input.c:120 xtcp_rcv+0x5/0x10 [xtcp]" \
	"[ 5.0] Call Trace:" "[ 5.0] Kernel panic - not syncing: panic_on_warn set ..."
expect 1 "NULL dereference oops" \
	"[ 6.0] BUG: kernel NULL pointer dereference, address: 0000000000000008" \
	"[ 6.0] Oops: 0000 [#1] PREEMPT SMP NOPTI"
expect 1 "BUG_ON" "[ 6.0] kernel BUG at module/sock.c:77!" \
	"[ 6.0] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI"
expect 1 "general protection fault" \
	"[ 6.0] general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] SMP"
expect 1 "panic" "[ 6.0] Kernel panic - not syncing: Fatal exception in interrupt"
expect 1 "slub_debug redzone" \
	"[ 6.0] =============================================================================" \
	"[ 6.0] BUG kmalloc-128 (Tainted: G           OE     ): Redzone overwritten"
expect 1 "KASAN" "[ 6.0] ==================================================================" \
	"[ 6.0] BUG: KASAN: use-after-free in xtcp_close+0x1/0x2 [xtcp]"
expect 1 "UBSAN" "[ 6.0] UBSAN: shift-out-of-bounds in module/lib/window.c:40:12"
expect 1 "lockdep" "[ 6.0] WARNING: possible circular locking dependency detected" \
	"[ 6.0] ======================================================"
expect 1 "lockdep off" "[ 6.0] INFO: lockdep is turned off."
expect 1 "refcount" "[ 6.0] refcount_t: underflow; use-after-free."
expect 1 "kmemleak" "[ 6.0] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)"
expect 1 "soft lockup" "[ 6.0] watchdog: BUG: soft lockup - CPU#1 stuck for 122s! [xtcp-perf:300]"
expect 1 "RCU stall" "[ 6.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"
expect 1 "hung task" "[ 6.0] INFO: task xtcp-perf:231 blocked for more than 120 seconds."
expect 1 "netdev refcount leak" \
	"[ 6.0] unregister_netdevice: waiting for veth0 to become free. Usage count = 2"
expect 1 "list corruption" "[ 6.0] list_add corruption. prev->next should be next"
expect 1 "sleeping in atomic" \
	"[ 6.0] BUG: sleeping function called from invalid context at mm/slab.h:1"
XTCP_VM_SCAN_IGNORE='UBSAN: shift' expect 0 "XTCP_VM_SCAN_IGNORE drops a line" \
	"[ 6.0] UBSAN: shift-out-of-bounds in module/lib/window.c:40:12"

# The report shows the hit with its context.
{ cat "$tmp/boot"; printf '%s\n' "[ 7.0] before" \
	"[ 7.0] WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0/0x1" "[ 7.0] RIP: 0010:f+0x0/0x1"; } >"$tmp/log"
n=$((n + 1))
"$scan" "$tmp/log" >"$tmp/out" 2>&1
if grep -q '^>> \[ 7.0\] WARNING: CPU' "$tmp/out" && grep -q 'RIP: 0010' "$tmp/out"; then
	echo "ok $n - report shows the hit and its trace"
else
	echo "not ok $n - report shows the hit and its trace"
	fails=$((fails + 1))
fi

# The digest: the case then running, the first report's lines, the
# callers from its first trace (not the panic's second), in a test log
# whose report lines carry the scan's markers.
{ printf '%s\n' "# #  RUN           stack.tcp.echo ..." \
	"# #            OK  stack.tcp.echo" \
	"# #  RUN           stack.xtcp.veth_drain ..." \
	">> [ 8.0] refcount_t: decrement hit 0; leaking memory." \
	">> [ 8.0] WARNING: CPU: 0 PID: 44 at lib/refcount.c:31 refcount_warn_saturate+0xfb/0x110" \
	"   [ 8.0] Workqueue: xtcp_tsq tsq_work_fn [xtcp]" \
	"   [ 8.0] RIP: 0010:refcount_warn_saturate+0xfb/0x110" \
	"   [ 8.0] Call Trace:" "   [ 8.0]  <TASK>" \
	"   [ 8.0]  xtcp_done+0x1c/0x40 [xtcp]" "   [ 8.0]  ? printk+0x1/0x2" \
	"   [ 8.0]  release_sock+0x2b/0x90" "   [ 8.0]  </TASK>" \
	">> [ 8.1] Kernel panic - not syncing: kernel: panic_on_warn set ..." \
	"   [ 8.1] Call Trace:" "   [ 8.1]  panic+0x1/0x2" \
	"   [ 8.2] BUG: a later report"; } >"$tmp/log"
n=$((n + 1))
"$scan" --digest "$tmp/log" >"$tmp/out" 2>&1
if [ "$(head -n 1 "$tmp/out")" = \
     "first kernel problem, during stack.xtcp.veth_drain:" ] &&
   grep -qx '  WARNING: CPU: 0 PID: 44 at lib/refcount.c:31 refcount_warn_saturate+0xfb/0x110' "$tmp/out" &&
   grep -qx '  Workqueue: xtcp_tsq tsq_work_fn \[xtcp\]' "$tmp/out" &&
   grep -qx '  called from xtcp_done+0x1c/0x40 \[xtcp\] < release_sock+0x2b/0x90' "$tmp/out" &&
   ! grep -q 'later report\|panic+0x1' "$tmp/out"; then
	echo "ok $n - digest: case, first lines, callers"
else
	echo "not ok $n - digest: case, first lines, callers"
	sed 's/^/#   /' "$tmp/out"
	fails=$((fails + 1))
fi
n=$((n + 1))
if "$scan" --digest "$tmp/boot" >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ]; then
	echo "ok $n - digest of a clean log is empty"
else
	echo "not ok $n - digest of a clean log is empty"
	fails=$((fails + 1))
fi

n=$((n + 1))
if "$scan" "$tmp/missing" >/dev/null 2>&1; [ $? -eq 2 ]; then
	echo "ok $n - unreadable log is status 2"
else
	echo "not ok $n - unreadable log is status 2"
	fails=$((fails + 1))
fi

echo "$((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
