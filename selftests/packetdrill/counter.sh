#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# counter.sh NATIVE XTCP: this namespace's stack's counter, native's
# TcpExt NATIVE or, when $PD_SYSCTL is xtcp's (packetdrill.sh sets it),
# xtcp's XTCP from /proc/net/xtcp_stat. For packetdrill scripts.
case ${PD_SYSCTL:-} in
net.xtcp.*)
	awk -v n="$2" '$1 == n { print $2 }' /proc/net/xtcp_stat ;;
*)
	awk -v c="$1" '$1 == "TcpExt:" {
		if (!n) { for (i = 2; i <= NF; i++) name[i] = $i; n = 1 }
		else for (i = 2; i <= NF; i++)
			if (name[i] == c) print $i
	}' /proc/net/netstat ;;
esac
