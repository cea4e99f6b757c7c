#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unit test of scripts/kernels on a fake /boot, /lib/modules and cache:
# the newest release of each series, only kernels with headers (and, in the
# cache, only those fully unpacked), a series or a release picked, an
# unknown one refused. No VM, no root.
set -uo pipefail

kernels=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/kernels
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0

host() {	# host KVER [noheaders]
	touch "$tmp/boot/vmlinuz-$1"
	[ "${2:-}" = noheaders ] && return
	mkdir -p "$tmp/modules/$1/build"
	touch "$tmp/modules/$1/build/Makefile"
}
unpacked() {	# unpacked KVER [partial]
	local r=$tmp/cache/kernel-$1
	mkdir -p "$r/boot" "$r/lib/modules/$1/build"
	touch "$r/boot/vmlinuz-$1" "$r/lib/modules/$1/build/Makefile"
	[ "${2:-}" = partial ] || touch "$r/.unpacked"
}
mkdir -p "$tmp/boot" "$tmp/modules" "$tmp/cache"
host 6.1.0-50-amd64
host 6.1.0-57-amd64
host 6.1.0-60-amd64 noheaders
touch "$tmp/boot/vmlinuz-6.1.0-57-amd64.old"
unpacked 6.12.95+deb12-amd64
unpacked 6.12.118+deb12-amd64
unpacked 6.12.200+deb12-amd64 partial

# expect STATUS "RELEASES" NAME [SPEC...]: the releases printed, in order.
expect() {
	local want=$1 rels=$2 name=$3 got out
	shift 3
	n=$((n + 1))
	out=$(XTCP_KERNEL_BOOT=$tmp/boot XTCP_KERNEL_MODULES=$tmp/modules \
		XTCP_KERNEL_CACHE=$tmp/cache "$kernels" "$@" 2>"$tmp/err")
	got=$?
	out=$(echo "$out" | awk '{ printf "%s%s", sep, $1; sep = " " }')
	if [ "$got" -eq "$want" ] && [ "$out" = "$rels" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name: status $got (want $want), '$out' (want '$rels')"
		sed 's/^/#   /' "$tmp/err"
		fails=$((fails + 1))
	fi
}

echo "TAP version 13"
echo "1..9"
expect 0 "6.1.0-57-amd64 6.12.118+deb12-amd64" "all: newest of each series, 6.1 first"
expect 0 "6.12.118+deb12-amd64" "a series" 6.12
expect 0 "6.1.0-57-amd64" "6.1 is not 6.12" 6.1
expect 0 "6.1.0-57-amd64 6.12.118+deb12-amd64" "two series in one word" "6.1 6.12"
expect 0 "6.12.95+deb12-amd64" "an older release by name" 6.12.95+deb12-amd64
expect 1 "" "a release without headers" 6.1.0-60-amd64
expect 1 "" "a partly unpacked release" 6.12.200+deb12-amd64
expect 1 "" "an unknown series" 5.10
expect 1 "" "a major alone is not a series" 6
echo "$((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
