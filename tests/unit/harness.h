/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny self-contained test harness for the host unit tests.
 *
 * Each test binary defines cases with TEST(name) and runs them from main()
 * with RUN(name); main() ends with "return th_done();". Every case prints one
 * TAP-like line, "ok N - name" or "not ok N - name", with failed checks as
 * "# ..." comment lines before it. N starts at $XTCP_TEST_BASE + 1 so that
 * run.sh can number the cases of all binaries as one sequence. The last line
 * is "# cases: P passed, F failed" for run.sh to add up; the exit status is
 * non-zero when any case failed.
 */
#ifndef XTCP_TEST_HARNESS_H
#define XTCP_TEST_HARNESS_H

#include <inttypes.h>
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

/* Any failed check fails the case; the case goes on to report the rest. */
#define CHECK(cond)							\
	do {								\
		if (!(cond))						\
			th_fail(__FILE__, __LINE__, #cond);		\
	} while (0)

/* Unsigned (or bool/enum) equality, printing both values on failure. */
#define CHECK_EQ(got, want)						\
	do {								\
		uint64_t th_g_ = (uint64_t)(got);			\
		uint64_t th_w_ = (uint64_t)(want);			\
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

static inline void th_dump(const char *label, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	size_t i;

	printf("#     %s:", label);
	for (i = 0; i < n; i++)
		printf(" %02x", p[i]);
	printf("\n");
}

#define TEST(name) static void name(void)

#define RUN(name) th_run(name, #name)

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

/* Deterministic xorshift64* generator for the fuzz-style loops. */
static uint64_t th_rng_state = 0x9e3779b97f4a7c15ull;

static inline uint32_t th_rand(void)
{
	uint64_t x = th_rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	th_rng_state = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

#endif /* XTCP_TEST_HARNESS_H */
