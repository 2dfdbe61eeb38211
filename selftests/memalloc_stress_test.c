// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: 2 processes x 4 threads allocating, mapping,
 * touching, importing and freeing dataspaces of every kind at once, for
 * MEMALLOC_STRESS_SECONDS (default 10); and revocation racing mappings,
 * the dataspace operations and handles coming and going. Run on the debug
 * kernel, KASAN, lockdep and kmemleak judge it; here every operation must
 * succeed (or, once revoked, answer ENODEV) and the memory must come back.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "util.h"

#define THREADS 4
#define PROCS 2

static const uint32_t kinds[] = {
	0, MEMALLOC_PINNED, MEMALLOC_CONTINUOUS, MEMALLOC_SUPER_PAGES,
	MEMALLOC_PINNED | MEMALLOC_CONTINUOUS,
	MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES,
};

struct worker {
	int dev;
	time_t until;
	unsigned int seed;
	long ops;
	int failed;
	char why[128];
};

/* A dataspace handed from one thread to another. */
static pthread_mutex_t handoff_lock = PTHREAD_MUTEX_INITIALIZER;
static int handoff_fd = -1;

static int one_round(struct worker *w)
{
	uint32_t flags = kinds[rand_r(&w->seed) % (sizeof(kinds) / sizeof(kinds[0]))];
	size_t unit = flags & MEMALLOC_SUPER_PAGES ? 2 << 20 : 4096;
	size_t size = 1 + rand_r(&w->seed) % (6 << 20), len, i;
	unsigned char *p, tag = (unsigned char)rand_r(&w->seed);
	int fd, other;

	fd = ds_alloc(w->dev, size, flags, 0, O_CLOEXEC);
	if (fd < 0) {
		snprintf(w->why, sizeof(w->why), "alloc %zu flags %#x: %s",
			 size, flags, strerror(-fd));
		return -1;
	}
	len = (size + unit - 1) / unit * unit;
	p = map_aligned(fd, len, 21, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED) {
		snprintf(w->why, sizeof(w->why), "mmap: %s", strerror(errno));
		close(fd);
		return -1;
	}
	for (i = 0; i < len; i += 4096) {
		if (p[i]) {
			snprintf(w->why, sizeof(w->why), "stale byte at %zu", i);
			return -1;
		}
		p[i] = tag;
	}
	/* Swap with whatever another thread left, so frees cross threads. */
	pthread_mutex_lock(&handoff_lock);
	other = handoff_fd;
	handoff_fd = rand_r(&w->seed) % 2 ? dup(fd) : -1;
	pthread_mutex_unlock(&handoff_lock);
	if (other >= 0)
		close(other);
	/* Close before or after the unmap: either order must work. */
	if (rand_r(&w->seed) % 2) {
		close(fd);
		fd = -1;
	}
	for (i = 0; i < len; i += 4096)
		if (p[i] != tag) {
			snprintf(w->why, sizeof(w->why), "lost a write at %zu", i);
			return -1;
		}
	munmap(p, len);
	if (fd >= 0)
		close(fd);
	return 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;

	while (time(NULL) < w->until && !w->failed) {
		if (one_round(w))
			w->failed = 1;
		w->ops++;
	}
	return NULL;
}

static int run_process(int seconds, unsigned int seed)
{
	struct worker w[THREADS];
	pthread_t t[THREADS];
	int dev, i, failed = 0;
	long ops = 0;

	dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return 1;
	for (i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].dev = dev;
		w[i].until = time(NULL) + seconds;
		w[i].seed = seed * 31 + i;
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ops += w[i].ops;
		if (w[i].failed) {
			fprintf(stderr, "# thread %d: %s\n", i, w[i].why);
			failed = 1;
		}
	}
	if (handoff_fd >= 0)
		close(handoff_fd);
	fprintf(stderr, "# process %u: %ld rounds\n", seed, ops);
	close(dev);
	return failed;
}

FIXTURE(stress) {
	int seconds;
};

FIXTURE_SETUP(stress)
{
	const char *env = getenv("MEMALLOC_STRESS_SECONDS");

	self->seconds = env ? atoi(env) : 10;
}

FIXTURE_TEARDOWN(stress)
{
}

TEST_F_TIMEOUT(stress, mixed_kinds_from_many_threads, 600)
{
	pid_t pids[PROCS];
	long before, after;
	int i, status;

	/* Free memory with the per-CPU lists, which some kernels grow and shrink. */
	before = free_kib();
	for (i = 0; i < PROCS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i])
			_exit(run_process(self->seconds, i + 1));
	}
	for (i = 0; i < PROCS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status));
	}
	after = free_kib();
	TH_LOG("%d s; free %ld KiB before, %ld KiB after", self->seconds, before, after);
	EXPECT_GT(64 * 1024, before - after);
}

/* One dataspace, shared by the racers of one round. */
struct race {
	int dev;
	int fd;
	char *map;
	size_t len;
	int failed;
	char why[128];
};

static __thread sigjmp_buf race_jmp;

static void race_sigbus(int sig)
{
	(void)sig;
	siglongjmp(race_jmp, 1);
}

static void race_fail(struct race *r, const char *what, int err)
{
	if (!r->failed)
		snprintf(r->why, sizeof(r->why), "%s: %s", what, strerror(-err));
	r->failed = 1;
}

/* Write every page until revocation turns the mapping into SIGBUS. */
static void *race_touch(void *arg)
{
	struct race *r = arg;
	volatile char *p = (volatile char *)r->map;
	size_t i;
	int n;

	if (sigsetjmp(race_jmp, 1))
		return NULL;
	for (n = 0; n < 50; n++)
		for (i = 0; i < r->len; i += 4096)
			p[i] = (char)n;
	return NULL;
}

/* The dataspace operations; once revoked, each must answer ENODEV. */
static void *race_ops(void *arg)
{
	struct race *r = arg;
	struct memalloc_info info = { .size = sizeof(info), .fd = r->fd };
	struct memalloc_clear c = { .size = sizeof(c), .fd = r->fd, .length = 8192 };
	struct memalloc_copy_in cp = {
		.size = sizeof(cp), .fd = r->fd, .src_fd = r->fd,
		.dst_offset = 4096, .length = 4096,
	};
	struct memalloc_allocate a = { .size = sizeof(a), .fd = r->fd, .length = r->len };
	struct memalloc_dup d = { .size = sizeof(d), .fd = r->fd,
				  .rights = MEMALLOC_RIGHT_R, .fd_flags = O_CLOEXEC };
	struct { unsigned long cmd; void *arg; const char *name; } op[] = {
		{ MEMALLOC_INFO, &info, "info" }, { MEMALLOC_CLEAR, &c, "clear" },
		{ MEMALLOC_COPY_IN, &cp, "copy_in" }, { MEMALLOC_ALLOCATE, &a, "allocate" },
		{ MEMALLOC_DUP, &d, "dup" },
	};
	unsigned int i;
	int n, err;
	char *q;

	for (n = 0; n < 200; n++) {
		i = n % (sizeof(op) / sizeof(op[0]));
		err = ioctl(r->dev, op[i].cmd, op[i].arg) ? -errno : 0;
		if (err == -ENODEV)
			return NULL;
		if (err) {
			race_fail(r, op[i].name, err);
			return NULL;
		}
		if (op[i].cmd != MEMALLOC_DUP)
			continue;
		/* A read-only handle, mapped and dropped. */
		q = mmap(NULL, r->len, PROT_READ, MAP_SHARED, d.out_fd, 0);
		if (q != MAP_FAILED)
			munmap(q, r->len);
		else if (errno != ENODEV)
			race_fail(r, "mmap of a dup", -errno);
		close(d.out_fd);
	}
	return NULL;
}

/* Handles made and released: their last close meets the revocation. */
static void *race_handles(void *arg)
{
	struct race *r = arg;
	struct memalloc_dup d = { .size = sizeof(d), .fd = r->fd,
				  .rights = MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W,
				  .fd_flags = O_CLOEXEC };
	int n, err;

	for (n = 0; n < 200; n++) {
		err = ioctl(r->dev, MEMALLOC_DUP, &d) ? -errno : 0;
		if (err == -ENODEV)
			return NULL;
		if (err) {
			race_fail(r, "dup", err);
			return NULL;
		}
		close(d.out_fd);
	}
	return NULL;
}

TEST_F_TIMEOUT(stress, revocation_races_everything, 600)
{
	void *(*racers[])(void *) = { race_touch, race_ops, race_handles };
	struct sigaction sa = { .sa_handler = race_sigbus };
	struct memalloc_free f = { .size = sizeof(f) };
	pthread_t t[3];
	struct race r;
	unsigned int seed = 7, i;
	time_t until = time(NULL) + self->seconds / 2;
	long rounds = 0;
	uint32_t flags;

	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	memset(&r, 0, sizeof(r));
	r.dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, r.dev);
	while (time(NULL) < until && !r.failed) {
		flags = kinds[rand_r(&seed) % (sizeof(kinds) / sizeof(kinds[0]))];
		r.len = (flags & MEMALLOC_SUPER_PAGES ? 2 : 1) << 21;
		r.fd = ds_alloc(r.dev, r.len, flags, 0, O_CLOEXEC);
		ASSERT_LE(0, r.fd) TH_LOG("alloc flags %#x: %s", flags, strerror(-r.fd));
		r.map = map_aligned(r.fd, r.len, 21, PROT_READ | PROT_WRITE);
		ASSERT_NE(MAP_FAILED, r.map);
		for (i = 0; i < 3; i++)
			ASSERT_EQ(0, pthread_create(&t[i], NULL, racers[i], &r));
		usleep(rand_r(&seed) % 3000);
		f.fd = r.fd;
		EXPECT_EQ(0, ioctl(r.dev, MEMALLOC_FREE, &f)) TH_LOG("free: %s", strerror(errno));
		for (i = 0; i < 3; i++)
			pthread_join(t[i], NULL);
		munmap(r.map, r.len);
		close(r.fd);
		rounds++;
	}
	TH_LOG("%ld rounds", rounds);
	EXPECT_FALSE(r.failed) TH_LOG("%s", r.why);
	close(r.dev);
}

/* It counts free memory or a cgroup's: no pool refilling beside it. */
POOL_OFF_WHILE_RUNNING()

TEST_HARNESS_MAIN
