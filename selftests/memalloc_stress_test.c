// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: 2 processes x 4 threads allocating, mapping,
 * touching, importing and freeing dataspaces of every kind at once, for
 * MEMALLOC_STRESS_SECONDS (default 10). Run on the debug kernel, KASAN,
 * lockdep and kmemleak judge it; here every operation must succeed and the
 * memory must come back.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

	before = meminfo_kib("MemFree");
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
	after = meminfo_kib("MemFree");
	TH_LOG("%d s; MemFree %ld KiB before, %ld KiB after", self->seconds, before, after);
	EXPECT_GT(64 * 1024, before - after);
}

TEST_HARNESS_MAIN
