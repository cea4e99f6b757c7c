// SPDX-License-Identifier: GPL-2.0
/*
 * Misbehaves on demand so that scripts/tests/vm-selftest can prove the VM
 * bench catches kernel problems. Loaded only inside the test VM.
 *   what=none  load and unload cleanly
 *   what=warn  WARN() at load
 *   what=oops  NULL pointer write at load
 *   what=kasan read after kfree at load (debug kernel: a KASAN report)
 *   what=leak  lose kmalloc'ed blocks at load (debug kernel: kmemleak)
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *what = "none";
module_param(what, charp, 0444);
MODULE_PARM_DESC(what, "none, warn, oops, kasan or leak");

static char *xtcp_vmtest_sink;

static int __init xtcp_vmtest_init(void)
{
	int *volatile p = NULL;

	if (!strcmp(what, "warn")) {
		WARN(1, "xtcp_vmtest: deliberate warning\n");
	} else if (!strcmp(what, "oops")) {
		*p = 1;
	} else if (!strcmp(what, "kasan")) {
		char *b = kmalloc(64, GFP_KERNEL);

		if (!b)
			return -ENOMEM;
		kfree(b);
		pr_info("xtcp_vmtest: read after free: %d\n", READ_ONCE(b[8]));
	} else if (!strcmp(what, "leak")) {
		int i;

		/*
		 * Each block's only pointer, overwritten: unreferenced. A
		 * stale copy of one (a spilled register) can hide it from
		 * kmemleak's scans; sixteen, not all of them.
		 */
		for (i = 0; i < 16; i++) {
			WRITE_ONCE(xtcp_vmtest_sink, kmalloc(256, GFP_KERNEL));
			WRITE_ONCE(xtcp_vmtest_sink, NULL);
		}
	}
	return 0;
}

static void __exit xtcp_vmtest_exit(void)
{
}

module_init(xtcp_vmtest_init);
module_exit(xtcp_vmtest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xtcp VM test bench self-test");
