// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: the memalloc command-line tool, run as a person would
 * run it. The tool is the "memalloc" beside this test's binary.
 *
 * The usage tests need nothing; the others need /dev/memalloc (the module
 * loaded, as in the test guest) and skip without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "memalloc.h"
#include "util.h"

#define TOOL_NAME "memalloc"
#define OUT_MAX 65536
#define RUN_TIMEOUT_MS 20000
#define MIB (1024 * 1024)

/* One run of the tool: what it printed and how it ended. */
struct run {
	char out[OUT_MAX];
	char err[OUT_MAX];
	size_t out_len;
	size_t err_len;
	int status;		/* as waitpid() gives it */
	bool timed_out;
};

/* The tool beside this test's binary, in @path: 0, or -1. */
static int tool_path(char *path, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", path, len - sizeof("/" TOOL_NAME));
	char *slash;

	if (n <= 0 || (size_t)n >= len - sizeof("/" TOOL_NAME))
		return -1;
	path[n] = 0;
	slash = strrchr(path, '/');
	if (!slash)
		return -1;
	strcpy(slash, "/" TOOL_NAME);
	return access(path, X_OK);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Append what @fd has to @buf (dropping what does not fit): bytes read, 0 at EOF. */
static ssize_t drain(int fd, char *buf, size_t *len)
{
	char scratch[4096];
	size_t room = OUT_MAX - 1 - *len;
	ssize_t n;

	n = read(fd, room ? buf + *len : scratch, room ? room : sizeof(scratch));
	if (n > 0 && room) {
		*len += n;
		buf[*len] = 0;
	}
	return n < 0 && errno == EINTR ? 1 : n;
}

/*
 * Read the tool's stdout and stderr until both end; once stdout holds
 * @until, send it @sig. Past the timeout it is killed.
 */
static void collect(struct run *r, pid_t pid, int out, int err, const char *until, int sig)
{
	struct pollfd fds[2] = { { .fd = out, .events = POLLIN }, { .fd = err, .events = POLLIN } };
	int64_t deadline = now_ms() + RUN_TIMEOUT_MS;
	bool sent = !until;
	ssize_t n;
	int i;

	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			r->timed_out = true;
			return;
		}
		if (poll(fds, 2, 100) < 0 && errno != EINTR)
			return;
		for (i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			n = i ? drain(err, r->err, &r->err_len) : drain(out, r->out, &r->out_len);
			if (n <= 0)
				fds[i].fd = -1;
		}
		if (!sent && strstr(r->out, until)) {
			kill(pid, sig);
			sent = true;
		}
	}
}

/*
 * Run the tool with the NULL-terminated @args, collect its output and its
 * exit; with @until, send @sig once stdout holds it. 0, or -1 when the tool
 * could not be run.
 */
static int run_tool(struct run *r, const char *until, int sig, const char *const *args)
{
	char path[PATH_MAX];
	const char *argv[16];
	int out[2], err[2];
	size_t i;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (tool_path(path, sizeof(path)))
		return -1;
	argv[0] = path;
	for (i = 0; args[i] && i + 2 < ARRAY_SIZE(argv); i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (pipe2(out, O_CLOEXEC))
		return -1;
	if (pipe2(err, O_CLOEXEC)) {
		close(out[0]);
		close(out[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	if (pid > 0)
		collect(r, pid, out[0], err[0], until, sig);
	close(out[0]);
	close(err[0]);
	if (pid < 0 || waitpid(pid, &r->status, 0) != pid)
		return -1;
	return 0;
}

#define RUN(r, ...) run_tool(r, NULL, 0, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_UNTIL(r, until, sig, ...) \
	run_tool(r, until, sig, (const char *const[]){ __VA_ARGS__, NULL })

/* The exit status, 128 + the signal for a kill, or -1. */
static int exit_code(const struct run *r)
{
	if (r->timed_out)
		return -1;
	if (WIFEXITED(r->status))
		return WEXITSTATUS(r->status);
	if (WIFSIGNALED(r->status))
		return 128 + WTERMSIG(r->status);
	return -1;
}

#define LOG_RUN(r) \
	TH_LOG("stdout:\n%s\nstderr:\n%s%s", (r)->out, (r)->err, \
	       (r)->timed_out ? "\n(timed out)" : "")

#define ASSERT_RAN(ret) do { \
	ASSERT_EQ(0, ret) { \
		TH_LOG("cannot run the " TOOL_NAME " tool beside this test"); \
	} \
} while (0)

#define EXPECT_EXIT(code, r) do { \
	EXPECT_EQ(code, exit_code(r)) { \
		LOG_RUN(r); \
	} \
} while (0)

#define EXPECT_IN(needle, haystack, r) do { \
	EXPECT_NE(NULL, strstr(haystack, needle)) { \
		TH_LOG("no \"%s\" in the output", needle); \
		LOG_RUN(r); \
	} \
} while (0)

/* The tests that allocate need the module, loaded in the test guest. */
#define NEED_DEV() do { \
	if (access(MEMALLOC_DEV, F_OK)) \
		SKIP(return, "no " MEMALLOC_DEV ": the memalloc module is not loaded"); \
} while (0)

/* The "phys: 0xADDR +LENGTH" lines of @out: their count, and their lengths' sum. */
static int phys_runs(const char *out, uint64_t *sum)
{
	const char *p = out;
	uint64_t addr, len;
	int count = 0;

	*sum = 0;
	for (; (p = strstr(p, "phys: 0x")); p++) {
		if (p != out && p[-1] != '\n')
			continue;
		if (sscanf(p, "phys: 0x%" SCNx64 " +%" SCNu64, &addr, &len) != 2)
			return -1;
		*sum += len;
		count++;
	}
	return count;
}

TEST(help_exits_0_with_usage)
{
	static const char *const helps[][2] = {
		{ "--help" }, { "-h" }, { "help" }, { "alloc", "--help" }, { "info", "--help" },
		{ "load", "--help" }, { "unload", "--help" },
	};
	struct run r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(helps); i++) {
		ASSERT_RAN(RUN(&r, helps[i][0], helps[i][1]));
		EXPECT_EXIT(0, &r);
		EXPECT_IN("usage: memalloc", r.out, &r);
		EXPECT_IN("alloc SIZE", r.out, &r);
		EXPECT_EQ(0u, r.err_len) {
			LOG_RUN(&r);
		}
	}
}

TEST(version_names_the_release)
{
	char line[64];
	struct run r;

	snprintf(line, sizeof(line), "memalloc %s\nlibmemalloc %s\n",
		 MEMALLOC_LIB_VERSION_STRING, memalloc_version_string());
	ASSERT_RAN(RUN(&r, "--version"));
	EXPECT_EXIT(0, &r);
	EXPECT_STREQ(line, r.out) {
		LOG_RUN(&r);
	}
	EXPECT_EQ(0u, r.err_len) {
		LOG_RUN(&r);
	}
}

/* Usage errors: exit 2, one line naming the problem, then the usage, on stderr only. */
FIXTURE(usage) {
	struct run r;
};

FIXTURE_VARIANT(usage) {
	const char *args[6];
	const char *names;	/* what the message must name */
};

FIXTURE_SETUP(usage)
{
}

FIXTURE_TEARDOWN(usage)
{
}

FIXTURE_VARIANT_ADD(usage, no_command) {
	.args = { NULL }, .names = "missing command",
};

FIXTURE_VARIANT_ADD(usage, unknown_command) {
	.args = { "frobnicate" }, .names = "frobnicate",
};

FIXTURE_VARIANT_ADD(usage, alloc_without_size) {
	.args = { "alloc" }, .names = "SIZE",
};

FIXTURE_VARIANT_ADD(usage, alloc_bad_suffix) {
	.args = { "alloc", "12Q" }, .names = "12Q",
};

FIXTURE_VARIANT_ADD(usage, alloc_not_a_number) {
	.args = { "alloc", "lots" }, .names = "lots",
};

FIXTURE_VARIANT_ADD(usage, alloc_overflow_by_suffix) {
	.args = { "alloc", "99999999999G" }, .names = "99999999999G",
};

FIXTURE_VARIANT_ADD(usage, alloc_overflow_decimal) {
	.args = { "alloc", "18446744073709551616" }, .names = "18446744073709551616",
};

FIXTURE_VARIANT_ADD(usage, alloc_overflow_hex) {
	.args = { "alloc", "0x10000000000000000" }, .names = "0x10000000000000000",
};

FIXTURE_VARIANT_ADD(usage, alloc_negative) {
	.args = { "alloc", "-1" }, .names = "-1",
};

FIXTURE_VARIANT_ADD(usage, alloc_two_sizes) {
	.args = { "alloc", "1M", "2M" }, .names = "2M",
};

FIXTURE_VARIANT_ADD(usage, alloc_unknown_option) {
	.args = { "alloc", "1M", "--frobnicate" }, .names = "--frobnicate",
};

FIXTURE_VARIANT_ADD(usage, alloc_align_missing) {
	.args = { "alloc", "1M", "--align" }, .names = "--align",
};

FIXTURE_VARIANT_ADD(usage, alloc_align_64) {
	.args = { "alloc", "1M", "--align", "64" }, .names = "64",
};

FIXTURE_VARIANT_ADD(usage, alloc_two_caching_attributes) {
	.args = { "alloc", "1M", "--pinned", "--write-combine", "--uncached" },
	.names = "--uncached",
};

FIXTURE_VARIANT_ADD(usage, alloc_quota_zero) {
	.args = { "alloc", "1M", "--quota", "0" }, .names = "0",
};

FIXTURE_VARIANT_ADD(usage, alloc_quota_junk) {
	.args = { "alloc", "1M", "--quota", "lots" }, .names = "lots",
};

FIXTURE_VARIANT_ADD(usage, info_with_argument) {
	.args = { "info", "extra" }, .names = "extra",
};

FIXTURE_VARIANT_ADD(usage, load_with_two_files) {
	.args = { "load", "a.ko", "b.ko" }, .names = "b.ko",
};

TEST_F(usage, exits_2_naming_the_problem)
{
	struct run *r = &self->r;
	const char *at;

	ASSERT_RAN(run_tool(r, NULL, 0, variant->args));
	EXPECT_EXIT(2, r);
	EXPECT_EQ(0, strncmp(r->err, "memalloc: ", 10)) {
		LOG_RUN(r);
	}
	/* The first line names the problem; the usage follows. */
	at = strstr(r->err, variant->names);
	EXPECT_TRUE(at && at < strchr(r->err, '\n')) {
		TH_LOG("\"%s\" not on the first line", variant->names);
		LOG_RUN(r);
	}
	EXPECT_IN("usage: memalloc", r->err, r);
	EXPECT_EQ(0u, r->out_len) {
		LOG_RUN(r);
	}
}

#define MEMALLOC_STR_(x) #x
#define MEMALLOC_STR(x) MEMALLOC_STR_(x)

TEST(info_shows_version_and_flags)
{
	struct run r;

	NEED_DEV();
	ASSERT_RAN(RUN(&r, "info"));
	EXPECT_EXIT(0, &r);
	/* The module's, which is this header's. */
	EXPECT_IN("api version: " MEMALLOC_STR(MEMALLOC_API_VERSION) "\n", r.out, &r);
	EXPECT_IN("flags: ", r.out, &r);
	EXPECT_IN("pinned", r.out, &r);
	EXPECT_IN("contiguous", r.out, &r);
	EXPECT_IN("page sizes: 4096", r.out, &r);
	/* The per-kind facts, as the kernel reports them. */
	EXPECT_IN("\nkinds: lazy", r.out, &r);
	EXPECT_IN("\nget_user_pages (O_DIRECT, vmsplice): lazy", r.out, &r);
	EXPECT_IN("\nio_uring fixed buffers: lazy", r.out, &r);
	EXPECT_IN("\n1 GiB mappings: ", r.out, &r);
	EXPECT_IN("mem total: ", r.out, &r);
	EXPECT_IN("mem free: ", r.out, &r);
}

TEST(alloc_1M_reads_zero)
{
	struct run r;

	NEED_DEV();
	ASSERT_RAN(RUN(&r, "alloc", "1M"));
	EXPECT_EXIT(0, &r);
	EXPECT_IN("size: 1048576\n", r.out, &r);
	EXPECT_IN("mappable: 1048576\n", r.out, &r);
	EXPECT_IN("flags: lazy\n", r.out, &r);
	EXPECT_IN("rights: rw\n", r.out, &r);
	EXPECT_IN("caching: cached\n", r.out, &r);
	EXPECT_IN("mapped at: 0x", r.out, &r);
	EXPECT_IN("reads as zero", r.out, &r);
	EXPECT_IN("pattern: written and read back\n", r.out, &r);
	/* Every page was touched by the check. */
	EXPECT_IN("resident: 1048576\n", r.out, &r);
	/* A lazy dataspace's memory may move: it has no physical address. */
	if (geteuid() == 0)
		EXPECT_IN("phys: (lazy: no fixed physical address)\n", r.out, &r);
}

TEST(alloc_size_forms)
{
	static const char *const forms[] = { "1048576", "0x100000", "1024K", "1024KiB", "1MiB" };
	struct run r;
	size_t i;

	NEED_DEV();
	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		ASSERT_RAN(RUN(&r, "alloc", forms[i]));
		EXPECT_EXIT(0, &r);
		EXPECT_IN("size: 1048576\n", r.out, &r);
	}
	ASSERT_RAN(RUN(&r, "alloc", "10000001"));
	EXPECT_EXIT(0, &r);
	EXPECT_IN("size: 10000001\n", r.out, &r);
}

TEST(alloc_4M_contiguous_shows_its_block)
{
	uint64_t sum;
	struct run r;
	int runs;

	NEED_DEV();
	ASSERT_RAN(RUN(&r, "alloc", "4M", "--contiguous"));
	EXPECT_EXIT(0, &r);
	EXPECT_IN("size: 4194304\n", r.out, &r);
	EXPECT_IN("resident: 4194304\n", r.out, &r);
	EXPECT_IN("flags: contiguous\n", r.out, &r);
	EXPECT_IN("contiguous: yes\n", r.out, &r);
	EXPECT_IN("reads as zero", r.out, &r);
	if (geteuid() != 0) {
		EXPECT_IN("phys: (needs CAP_SYS_ADMIN)\n", r.out, &r);
		return;
	}
	runs = phys_runs(r.out, &sum);
	EXPECT_LE(1, runs) {
		LOG_RUN(&r);
	}
	/* One block: one run, and it covers the whole dataspace. */
	EXPECT_EQ(1, runs);
	EXPECT_EQ(4ull * MIB, sum) {
		LOG_RUN(&r);
	}
}

TEST(alloc_pinned_runs_cover_it)
{
	uint64_t sum;
	struct run r;

	NEED_DEV();
	if (geteuid() != 0)
		SKIP(return, "physical addresses need root");
	ASSERT_RAN(RUN(&r, "alloc", "3M", "--pinned"));
	EXPECT_EXIT(0, &r);
	EXPECT_LE(1, phys_runs(r.out, &sum)) {
		LOG_RUN(&r);
	}
	EXPECT_EQ(3ull * MIB, sum) {
		LOG_RUN(&r);
	}
}

/* A combination no kernel honours: a caching attribute on memory that moves. */
TEST(alloc_super_pages_write_combine_refused)
{
	struct run r;

	NEED_DEV();
	ASSERT_RAN(RUN(&r, "alloc", "64K", "--pinned", "--super-pages", "--write-combine"));
	EXPECT_EXIT(1, &r);
	EXPECT_IN("memalloc: alloc", r.err, &r);
	EXPECT_IN(memalloc_strerror(-EOPNOTSUPP), r.err, &r);
	EXPECT_EQ(0u, r.out_len) {
		LOG_RUN(&r);
	}
}

TEST(alloc_through_a_quota_shows_it)
{
	struct run r;

	NEED_DEV();
	ASSERT_RAN(RUN(&r, "alloc", "1000K", "--quota", "1M"));
	EXPECT_EXIT(0, &r);
	EXPECT_IN("quota limit: 1048576\n", r.out, &r);
	/* 1000 KiB, charged as the 250 pages it takes. */
	EXPECT_IN("quota used: 1024000\n", r.out, &r);
	EXPECT_IN("quota available: 24576\n", r.out, &r);
	EXPECT_IN("zero check: every byte reads as zero", r.out, &r);
}

TEST(alloc_over_its_quota_fails)
{
	struct run r;

	NEED_DEV();
	ASSERT_RAN(RUN(&r, "alloc", "2M", "--quota", "1M"));
	EXPECT_EXIT(1, &r);
	EXPECT_IN(memalloc_strerror(-ENOMEM), r.err, &r);
	EXPECT_EQ(0u, r.out_len) {
		LOG_RUN(&r);
	}
}

TEST(alloc_align_above_pud_refused)
{
	struct run r;

	NEED_DEV();
	ASSERT_RAN(RUN(&r, "alloc", "4K", "--align", "31"));
	EXPECT_EXIT(1, &r);
	EXPECT_IN("alignment 2^31 is more than the kernel aligns to", r.err, &r);
	EXPECT_IN(memalloc_strerror(-EINVAL), r.err, &r);
	EXPECT_EQ(0u, r.out_len) {
		LOG_RUN(&r);
	}
}

TEST(alloc_hold_frees_on_sigint)
{
	struct run r;

	NEED_DEV();
	ASSERT_RAN(RUN_UNTIL(&r, "holding; interrupt to free\n", SIGINT, "alloc", "1M", "--hold"));
	EXPECT_EXIT(0, &r);
	EXPECT_IN("size: 1048576\n", r.out, &r);
	EXPECT_IN("holding; interrupt to free\n", r.out, &r);
}

TEST(alloc_hold_frees_on_sigterm)
{
	struct run r;

	NEED_DEV();
	ASSERT_RAN(RUN_UNTIL(&r, "holding; interrupt to free\n", SIGTERM, "alloc", "64K",
			     "--pinned", "--hold"));
	EXPECT_EXIT(0, &r);
	EXPECT_IN("holding; interrupt to free\n", r.out, &r);
}

TEST_HARNESS_MAIN
