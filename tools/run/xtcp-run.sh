#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# xtcp-run CMD [ARGS...]: run CMD with its TCP stream sockets on xtcp
# (libxtcp-run.so, tools/run/preload.c). The module must be loaded.
# XTCP_RUN_VERBOSE=1 says what the library does; XTCP_RUN_FAMILY sets the
# family number when /sys/module/xtcp is not readable.
here=$(cd "$(dirname "$0")" && pwd)
lib=$here/libxtcp-run.so
if [ $# -eq 0 ]; then
	echo "usage: xtcp-run CMD [ARGS...]" >&2
	exit 2
fi
if [ ! -r "$lib" ]; then
	echo "xtcp-run: $lib not built (make tools)" >&2
	exit 1
fi
if [ ! -d /sys/module/xtcp ] && [ -z "${XTCP_RUN_FAMILY:-}" ]; then
	echo "xtcp-run: the xtcp module is not loaded" >&2
	exit 1
fi
LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}"
export LD_PRELOAD
exec "$@"
