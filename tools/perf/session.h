/* SPDX-License-Identifier: GPL-2.0 */
/* What client.c, server.c and idle.c share about a session. */
#ifndef XTCP_PERF_SESSION_H
#define XTCP_PERF_SESSION_H

#include "perf.h"
#include "proto.h"

/* Where the client opens its data connections, and for what. */
struct data_target {
	const struct params *p;
	enum stack stack;
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

int idle_client(const struct data_target *t, int ctrl, struct run_result *r,
		struct results_msg *res);
int idle_server(int ctrl, int lfd, const struct params *p, char *err, size_t errlen);

#endif /* XTCP_PERF_SESSION_H */
