// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: an alternative TCP, loaded as a module. It registers its own socket
 * family and speaks RFC 9293 TCP over IPv4 under its own IP protocol number,
 * or in wire mode (demux.c) as plain TCP, so it runs beside the native
 * stack on the same host.
 */
#include <linux/module.h>
#include <linux/net.h>
#include <uapi/linux/xtcp.h>

#include "xtcp.h"

int xtcp_family = XTCP_DEFAULT_FAMILY;
module_param_named(family, xtcp_family, int, 0444);
MODULE_PARM_DESC(family, "socket address family number (below AF_MAX, unused by the kernel)");

int xtcp_ipproto = XTCP_DEFAULT_IPPROTO;
module_param_named(ipproto, xtcp_ipproto, int, 0444);
MODULE_PARM_DESC(ipproto, "IP protocol number on the wire (RFC 3692: 253 or 254)");

static char *wire = "xtcp";
module_param(wire, charp, 0444);
MODULE_PARM_DESC(wire, "what new namespaces' sockets speak: xtcp (our IP protocol number) or tcp (TCP beside native TCP); net.xtcp.wire per namespace");
bool xtcp_wire_default;

unsigned int xtcp_isn_wrap_after;
module_param_named(isn_wrap_after, xtcp_isn_wrap_after, uint, 0644);
MODULE_PARM_DESC(isn_wrap_after, "debug: 0 (RFC 6528 ISNs), or N so that every ISN is 2^32 - N and sequence numbers wrap after N bytes");

unsigned int xtcp_tw_len_ms = 60000;
module_param_named(tw_len_ms, xtcp_tw_len_ms, uint, 0644);
MODULE_PARM_DESC(tw_len_ms, "TIME_WAIT length in milliseconds (2MSL; native TCP uses 60000)");

static int __init xtcp_init(void)
{
	int err;

	if (xtcp_family <= AF_UNSPEC || xtcp_family >= NPROTO ||
	    xtcp_family == AF_INET || xtcp_family == AF_INET6) {
		pr_err("xtcp: family %d out of range\n", xtcp_family);
		return -EINVAL;
	}
	if (xtcp_ipproto <= 0 || xtcp_ipproto > 255 ||
	    xtcp_ipproto == IPPROTO_TCP) {
		pr_err("xtcp: ipproto %d out of range\n", xtcp_ipproto);
		return -EINVAL;
	}
	if (!strcmp(wire, "tcp")) {
		xtcp_wire_default = true;
	} else if (strcmp(wire, "xtcp")) {
		pr_err("xtcp: wire=%s: xtcp or tcp\n", wire);
		return -EINVAL;
	}

	err = xtcp_guard_init();
	if (err)
		goto out;
	err = xtcp_mem_init();
	if (err)
		goto out_guard;
	err = xtcp_output_init();
	if (err)
		goto out_mem;
	err = xtcp_hash_init();
	if (err)
		goto out_output;
	err = xtcp_af_init();
	if (err)
		goto out_hash;
	err = xtcp_offload_init();
	if (err)
		goto out_af;
	err = xtcp_input_init();
	if (err)
		goto out_offload;
	if (xtcp_wire_default) {
		err = xtcp_demux_enable();
		if (err)
			goto out_input;
	}
	pr_info("xtcp: family %d, IP protocol %d, wire=%s\n", xtcp_family,
		xtcp_ipproto, wire);
	return 0;

out_input:
	xtcp_input_exit();
out_offload:
	xtcp_offload_exit();
out_af:
	xtcp_af_exit();
out_hash:
	/* net.xtcp.wire may have put the demux in place meanwhile. */
	xtcp_demux_exit();
	xtcp_hash_exit();
out_output:
	xtcp_output_exit();
out_mem:
	xtcp_mem_exit();
out_guard:
	xtcp_guard_exit();
out:
	return err;
}

static void __exit xtcp_exit(void)
{
	xtcp_demux_exit();
	xtcp_input_exit();
	xtcp_offload_exit();
	xtcp_af_exit();
	xtcp_hash_exit();
	xtcp_output_exit();
	xtcp_mem_exit();
	xtcp_guard_exit();
}

module_init(xtcp_init);
module_exit(xtcp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xtcp: an alternative TCP in its own socket family");
MODULE_AUTHOR("The xtcp developers");
MODULE_VERSION(XTCP_VERSION);
