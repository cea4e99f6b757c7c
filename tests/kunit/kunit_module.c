// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_kunit.ko: KUnit runs the suites the test_*.c files register
 * (xtcp_seq, xtcp_wire, xtcp_rtt, xtcp_window, xtcp_cubic,
 * xtcp_sack_blocks, xtcp_syncookie) when the module
 * is loaded; results are in dmesg and /sys/kernel/debug/kunit/<suite>/.
 */
#include <linux/module.h>

#ifdef XTCP_KUNIT_SELFTEST
/*
 * Only in the copy scripts/tests/debug-selftest builds: a failing case
 * proves that the lane sees a failure, so that all "ok" means something.
 */
#include "harness.h"

TEST(harness_failed_check_fails)
{
	CHECK_EQ(1 + 1, 3);
}

TEST(harness_passed_check_passes)
{
	CHECK_EQ(1 + 1, 2);
}

TH_SUITE_BEGIN(harness_selftest)
TH_CASE(harness_failed_check_fails)
TH_CASE(harness_passed_check_passes)
TH_SUITE_END(harness_selftest);
#endif

MODULE_DESCRIPTION("KUnit suites for xtcp's pure logic (module/lib)");
MODULE_LICENSE("GPL");
