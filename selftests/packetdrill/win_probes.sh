#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The window probes this namespace's stack sent: native's TcpExt
# TCPWinProbe, or xtcp's XtcpZeroWindowProbes when $PD_SYSCTL is xtcp's
# (packetdrill.sh sets it). For packetdrill scripts.
case ${PD_SYSCTL:-} in
net.xtcp.*)
	awk '$1 == "XtcpZeroWindowProbes" { print $2 }' /proc/net/xtcp_stat ;;
*)
	awk '$1 == "TcpExt:" {
		if (!n) { for (i = 2; i <= NF; i++) name[i] = $i; n = 1 }
		else for (i = 2; i <= NF; i++)
			if (name[i] == "TCPWinProbe") print $i
	}' /proc/net/netstat ;;
esac
