/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The unit tests' harness, with two back ends for the same test sources:
 *
 * - On the host (the default), each test_*.c is a program: TEST(name)
 *   defines a case, the TH_SUITE_BEGIN/TH_CASE/TH_SUITE_END list at the end
 *   becomes main(). Every case prints one TAP-like line, "ok N - name" or
 *   "not ok N - name", with failed checks as "# ..." comment lines before
 *   it. N starts at $XTCP_TEST_BASE + 1 so that run.sh can number the cases
 *   of all binaries as one sequence. The last line is "# cases: P passed,
 *   F failed" for run.sh to add up; the exit status is non-zero when any
 *   case failed. Built with ASan and UBSan (Makefile).
 *
 * - In the kernel (__KERNEL__, tests/kunit), the same list becomes a KUnit
 *   suite named xtcp_<suite>, run when xtcp_kunit.ko is loaded into the
 *   debug kernel, under KASAN, UBSAN and kmemleak.
 *
 * Checks: CHECK(cond), CHECK_EQ(got, want) for unsigned values (both are
 * printed on failure), CHECK_TRUE/FALSE, CHECK_MEM(got, want, n). A failed
 * check fails the case, which goes on to report the rest. th_alloc() gives
 * a heap block of exactly the size asked for (so the sanitizers see reads
 * past its end) and never returns NULL: the case stops instead.
 */
#ifndef XTCP_TEST_HARNESS_H
#define XTCP_TEST_HARNESS_H

#ifdef __KERNEL__

#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/slab.h>
#include <linux/string.h>

/*
 * The case running now. KUnit runs a module's cases one at a time, each in
 * its own kthread, and the wrapper TEST() defines sets this first.
 */
static struct kunit *th_kunit;

static inline void th_fail(const char *file, int line, const char *what)
{
	KUNIT_FAIL(th_kunit, "%s:%d: check failed: %s", file, line, what);
}

static inline void th_fail_u(const char *file, int line, const char *a,
			     const char *b, u64 va, u64 vb)
{
	KUNIT_FAIL(th_kunit,
		   "%s:%d: %s == %s: got %llu (0x%llx), expected %llu (0x%llx)",
		   file, line, a, b, va, va, vb, vb);
}

#define th_note(fmt, ...) kunit_info(th_kunit, fmt, ##__VA_ARGS__)

static inline void th_dump(const char *label, const void *buf, size_t n)
{
	size_t off;

	for (off = 0; off < n; off += 32)
		kunit_info(th_kunit, "%s +%zu: %*ph", label, off,
			   (int)min_t(size_t, n - off, 32),
			   (const u8 *)buf + off);
}

static inline void *th_alloc(size_t n)
{
	void *p = kmalloc(n, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL_MSG(th_kunit, p, "kmalloc(%zu)", n);
	return p;
}

static inline void th_free(void *p)
{
	kfree(p);
}

/* The case body keeps the host signature; KUnit calls the wrapper. */
#define TEST(name)							\
	static void name(void);						\
	static void name##_kunit(struct kunit *test)			\
	{								\
		th_kunit = test;					\
		name();							\
	}								\
	static void name(void)

#define TH_SUITE_BEGIN(suite)						\
	static struct kunit_case suite##_kunit_cases[] = {
#define TH_CASE(fn) { .run_case = fn##_kunit, .name = #fn },
#define TH_SUITE_END(suite)						\
		{}							\
	};								\
	static struct kunit_suite suite##_kunit_suite = {		\
		.name = "xtcp_" #suite,					\
		.test_cases = suite##_kunit_cases,			\
	};								\
	kunit_test_suite(suite##_kunit_suite)

#else /* host */

#include <inttypes.h>
#include "types.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned int th_base, th_num, th_passed, th_failed;
static unsigned int th_case_failures;

static inline void th_fail(const char *file, int line, const char *what)
{
	th_case_failures++;
	printf("#   %s:%d: check failed: %s\n", file, line, what);
}

static inline void th_fail_u(const char *file, int line, const char *a,
			     const char *b, uint64_t va, uint64_t vb)
{
	th_case_failures++;
	printf("#   %s:%d: %s == %s: got %" PRIu64 " (0x%" PRIx64
	       "), expected %" PRIu64 " (0x%" PRIx64 ")\n",
	       file, line, a, b, va, va, vb, vb);
}

#define th_note(fmt, ...) printf("#   " fmt "\n", ##__VA_ARGS__)

static inline void th_dump(const char *label, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	size_t i;

	printf("#     %s:", label);
	for (i = 0; i < n; i++)
		printf(" %02x", p[i]);
	printf("\n");
}

static inline void *th_alloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		printf("# out of memory allocating %zu bytes\n", n);
		abort();
	}
	return p;
}

static inline void th_free(void *p)
{
	free(p);
}

#define TEST(name) static void name(void)

static inline void th_run(void (*fn)(void), const char *name)
{
	if (!th_num) {
		const char *b = getenv("XTCP_TEST_BASE");

		th_base = b ? (unsigned int)strtoul(b, NULL, 10) : 0;
	}
	th_case_failures = 0;
	fn();
	th_num++;
	if (th_case_failures) {
		th_failed++;
		printf("not ok %u - %s\n", th_base + th_num, name);
	} else {
		th_passed++;
		printf("ok %u - %s\n", th_base + th_num, name);
	}
	fflush(stdout);
}

static inline int th_done(void)
{
	printf("# cases: %u passed, %u failed\n", th_passed, th_failed);
	fflush(stdout);
	return th_failed ? 1 : 0;
}

#define TH_SUITE_BEGIN(suite)	int main(void) {
#define TH_CASE(name)		th_run(name, #name);
#define TH_SUITE_END(suite)	return th_done(); }

#endif /* __KERNEL__ */

/* Any failed check fails the case; the case goes on to report the rest. */
#define CHECK(cond)							\
	do {								\
		if (!(cond))						\
			th_fail(__FILE__, __LINE__, #cond);		\
	} while (0)

/* Unsigned (or bool/enum) equality, printing both values on failure. */
#define CHECK_EQ(got, want)						\
	do {								\
		u64 th_g_ = (u64)(got);					\
		u64 th_w_ = (u64)(want);				\
		if (th_g_ != th_w_)					\
			th_fail_u(__FILE__, __LINE__, #got, #want,	\
				  th_g_, th_w_);			\
	} while (0)

#define CHECK_TRUE(x)	CHECK_EQ(!!(x), 1)
#define CHECK_FALSE(x)	CHECK_EQ(!!(x), 0)

#define CHECK_MEM(got, want, n)						\
	do {								\
		if (memcmp((got), (want), (n)) != 0) {			\
			th_fail(__FILE__, __LINE__,			\
				"memcmp(" #got ", " #want ", " #n ") == 0"); \
			th_dump("got ", (got), (n));			\
			th_dump("want", (want), (n));			\
		}							\
	} while (0)

/* Deterministic xorshift64* generator for the fuzz-style loops. */
static u64 th_rng_state = 0x9e3779b97f4a7c15ull;

static inline u32 th_rand(void)
{
	u64 x = th_rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	th_rng_state = x;
	return (u32)((x * 0x2545f4914f6cdd1dull) >> 32);
}

#endif /* XTCP_TEST_HARNESS_H */
