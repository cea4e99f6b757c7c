// SPDX-License-Identifier: GPL-2.0
/*
 * Misbehaves on demand so that scripts/tests/vm-selftest can prove the VM
 * bench catches kernel problems. Loaded only inside the test VM.
 *   what=none  load and unload cleanly
 *   what=warn  WARN() at load
 *   what=oops  NULL pointer write at load
 */
#include <linux/module.h>
#include <linux/string.h>

static char *what = "none";
module_param(what, charp, 0444);
MODULE_PARM_DESC(what, "none, warn or oops");

static int __init xtcp_vmtest_init(void)
{
	int *volatile p = NULL;

	if (!strcmp(what, "warn"))
		WARN(1, "xtcp_vmtest: deliberate warning\n");
	else if (!strcmp(what, "oops"))
		*p = 1;
	return 0;
}

static void __exit xtcp_vmtest_exit(void)
{
}

module_init(xtcp_vmtest_init);
module_exit(xtcp_vmtest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xtcp VM test bench self-test");
