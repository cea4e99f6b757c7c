/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture every behaviour test runs on: once on native TCP, the oracle,
 * and once on xtcp. Test files include this instead of the harness.
 *
 * The xtcp variant fails (never skips) when the family cannot make sockets,
 * so a missing module shows up as failures.
 */
#ifndef XTCP_STACK_H
#define XTCP_STACK_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* The harness itself is not -Wextra clean (an unused handler argument). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

/*
 * Per-case limit, only to end a hang: a TCG guest runs 10-30x slower than
 * native. Bulk cases set their own with TEST_F_TIMEOUT.
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 60

/*
 * The harness's SKIP() marks the case passed, so an EXPECT that failed
 * before it would vanish from the results: a case that has already failed
 * ends there as a failed ASSERT does, saying what it would have skipped
 * for. XTCP_HARNESS_SKIP_MARK (xtcp_util.h) is the harness's own marking.
 */
#undef SKIP
#define SKIP(statement, fmt, ...) do {					\
	if (!_metadata->passed) {					\
		TH_LOG("failed before a skip: " fmt, ##__VA_ARGS__);	\
		_metadata->aborted = true;				\
		longjmp(_metadata->env, 1);				\
	}								\
	XTCP_HARNESS_SKIP_MARK(fmt, ##__VA_ARGS__);			\
	statement;							\
} while (0)

#include "xtcp_util.h"

FIXTURE(stack) {
	int family;
	char netns[32];		/* topology tag for netns.sh, "" if none */
	int host_setting_fd;	/* see set_host_setting, 0 if none */
	char host_setting_old[32];
	char cgroup[64];	/* a cgroup the case made (cgroup_enter), or "" */
	char cgroup_was[320];	/* the one the case was in before */
};

FIXTURE_VARIANT(stack) {
	int family;		/* 0: AF_XTCP, resolved at setup */
	const char *name;
};

FIXTURE_VARIANT_ADD(stack, tcp) {
	.family = AF_INET,
	.name = "tcp",
};

FIXTURE_VARIANT_ADD(stack, xtcp) {
	.family = 0,
	.name = "xtcp",
};

/*
 * Narrowing a run: XTCP_CASES="xtcp.veth_echo tcp.veth_echo" runs only the
 * cases named (variant.test), XTCP_VARIANTS="xtcp" only the variants named
 * (the debug lane's: its detectors watch xtcp's code, not native TCP's);
 * the others are reported as skipped. The harness of Linux 6.1 has no
 * filter of its own.
 */
static inline bool case_selected(const char *variant, const char *test)
{
	const char *cases = getenv("XTCP_CASES");
	const char *variants = getenv("XTCP_VARIANTS");
	char want[256];

	if (variants && *variants && !word_listed(variants, variant))
		return false;
	if (!cases || !*cases)
		return true;
	snprintf(want, sizeof(want), "%s.%s", variant, test);
	return word_listed(cases, want);
}

FIXTURE_SETUP(stack)
{
	int fd;

	if (!case_selected(variant->name, _metadata->name))
		SKIP_NOT_SELECTED();

	self->family = variant->family ? variant->family : xtcp_family();
	self->netns[0] = '\0';
	/* Tests report EPIPE through errno; a stray SIGPIPE would hide it. */
	signal(SIGPIPE, SIG_IGN);
	fd = stack_socket(self->family);
	ASSERT_LE(0, fd) {
		TH_LOG("socket(%d, SOCK_STREAM, 0) for %s: %s%s",
		       self->family, variant->name, strerror(errno),
		       variant->family ? "" : " (is xtcp.ko loaded?)");
	}
	close(fd);
}

/*
 * The two hosts of netns.sh (TAG-1 the client's, TAG-2 the server's),
 * tagged with the test's pid; the teardown deletes them.
 */
static inline void hosts_up(struct __test_metadata *_metadata,
			    FIXTURE_DATA(stack) *self)
{
	snprintf(self->netns, sizeof(self->netns), "xtcp%d", getpid());
	ASSERT_EQ(0, run_cmd("'%s/netns.sh' up %s", self_dir(), self->netns));
}

/* Into TAG-1 (the client's host) or TAG-2 (the server's): 0 or -1. */
static inline int enter_host(FIXTURE_DATA(stack) *self, int host)
{
	char ns[48];

	snprintf(ns, sizeof(ns), "%s-%d", self->netns, host);
	return enter_netns(ns);
}

/*
 * A non-blocking connect() from TAG-1 to @ip:@port, in progress or done;
 * the caller is left in TAG-1. The socket, or -1.
 */
static inline int connect_from_client(FIXTURE_DATA(stack) *self,
				      const char *ip, uint16_t port)
{
	struct sockaddr_in sin = sin_make(ip, port);
	int fd;

	if (enter_host(self, 1))
		return -1;
	fd = stack_socket(self->family);
	if (fd < 0)
		return -1;
	if (set_nonblock(fd, 1) ||
	    (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) &&
	     errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Write @val to a setting of the host (a sysctl or a module parameter) for
 * this case only: the teardown puts the old value back, whether the case
 * passed or not. The file stays open, so the case may move to another
 * namespace and write through self->host_setting_fd (set_setting_fd).
 * One setting per case. 0, or -1.
 */
static inline int set_setting_fd(int fd, const char *val)
{
	size_t len = strlen(val);

	return pwrite(fd, val, len, 0) == (ssize_t)len ? 0 : -1;
}

static inline int set_host_setting(FIXTURE_DATA(stack) *self,
				   const char *path, const char *val)
{
	int fd = open(path, O_RDWR);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, self->host_setting_old,
		  sizeof(self->host_setting_old) - 1, 0);
	if (n <= 0) {
		close(fd);
		return -1;
	}
	self->host_setting_old[n] = 0;
	self->host_setting_fd = fd;
	return set_setting_fd(fd, val);
}

#define CGROUP2_ROOT "/sys/fs/cgroup"

/* The calling process into the cgroup directory @dir: 0, or -1. */
static inline int cgroup_move_self(const char *dir)
{
	char procs[352];

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	errno = write_sysctl(procs, "0");
	return errno ? -1 : 0;
}

/*
 * Into a new cgroup (v2) of this case's, made for it: sockets made from
 * now on belong to it. The teardown moves the case back and removes it.
 * 0, or -1 (errno set; ENOENT: no cgroup2 mounted).
 */
static inline int cgroup_enter(FIXTURE_DATA(stack) *self)
{
	char line[288] = "", *nl;
	FILE *f;

	if (access(CGROUP2_ROOT "/cgroup.procs", W_OK))
		return -1;
	f = fopen("/proc/self/cgroup", "r");
	if (!f)
		return -1;
	/* The v2 line: "0::/path". */
	while (fgets(line, sizeof(line), f) && strncmp(line, "0::", 3))
		line[0] = 0;
	fclose(f);
	nl = strchr(line, '\n');
	if (nl)
		*nl = 0;
	snprintf(self->cgroup_was, sizeof(self->cgroup_was), "%s%s",
		 CGROUP2_ROOT, line[0] ? line + 3 : "");
	snprintf(self->cgroup, sizeof(self->cgroup), CGROUP2_ROOT "/xtcp%d",
		 getpid());
	if (mkdir(self->cgroup, 0755) && errno != EEXIST) {
		self->cgroup[0] = 0;
		return -1;
	}
	return cgroup_move_self(self->cgroup);
}

/* Back to the cgroup the case was in: 0 or -1. */
static inline int cgroup_leave(FIXTURE_DATA(stack) *self)
{
	return cgroup_move_self(self->cgroup_was);
}

FIXTURE_TEARDOWN(stack)
{
	if (self->cgroup[0]) {
		cgroup_leave(self);
		rmdir(self->cgroup);
	}
	if (self->host_setting_fd > 0) {
		set_setting_fd(self->host_setting_fd, self->host_setting_old);
		close(self->host_setting_fd);
	}
	if (self->netns[0])
		run_cmd("'%s/netns.sh' down %s", self_dir(), self->netns);
}

#endif /* XTCP_STACK_H */
