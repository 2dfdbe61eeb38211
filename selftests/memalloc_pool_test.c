// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: the pool of memory zeroed ahead of time (pool.c).
 * It fills while a CPU is idle and hands out 1 MiB and 64 KiB chunks that
 * read as zero; pool_size bounds and empties it; each memory cgroup pays
 * for its own chunks and gets only those; the shrinker gives them back.
 * A cgroup taking one size gets chunks of that size; two cgroups stay
 * within pool_size together; a task with its own memory policy gets none.
 * And the guarantee the pool must keep: several processes filling,
 * freeing and reallocating every kind never read a byte that is not zero
 * (the debug kernels run it with init_on_alloc and init_on_free off, so
 * that only the pool's own zeroing keeps it, and with init_on_free on).
 *
 * Needs root and debugfs; the cgroup tests a cgroup2 memory controller.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <linux/memalloc.h>
#include <linux/mempolicy.h>

#include "kselftest_harness.h"
#include "util.h"

#define KIB 1024ul
#define MIB (1024ul * KIB)
#define PARAM POOL_SIZE_PARAM
#define POOL "/sys/kernel/debug/memalloc/pool"
#define CG_ROOT "/sys/fs/cgroup"

struct pool_stats {
	long bytes, size, mib, kib64, hits, misses, filled, shrunk, evicted;
};

static int pool_read(struct pool_stats *s)
{
	int fd = open(POOL, O_RDONLY | O_CLOEXEC);
	char buf[256], *line;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* The header, then the numbers. */
	line = strchr(buf, '\n');
	if (!line || sscanf(line + 1, "%ld %ld %ld %ld %ld %ld %ld %ld %ld", &s->bytes,
			    &s->size, &s->mib, &s->kib64, &s->hits, &s->misses,
			    &s->filled, &s->shrunk, &s->evicted) != 9)
		return -1;
	return 0;
}

/* A counter of /proc/vmstat, or -1. */
static long vmstat(const char *name)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char key[64];
	long v, ret = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &v) == 2)
		if (!strcmp(key, name)) {
			ret = v;
			break;
		}
	fclose(f);
	return ret;
}

/* What pool_until() waits for. */
enum pool_cond { HAS_1M, HAS_64K, AT_LEAST, EMPTY };

/* Wait up to @secs for @cond (@bytes for AT_LEAST); @s is the last reading. */
static int pool_until(enum pool_cond cond, long bytes, int secs, struct pool_stats *s)
{
	int i;

	for (i = 0; i < secs * 20; i++) {
		if (pool_read(s))
			return -1;
		if ((cond == HAS_1M && s->mib) || (cond == HAS_64K && s->kib64) ||
		    (cond == AT_LEAST && s->bytes >= bytes) || (cond == EMPTY && !s->bytes))
			return 0;
		usleep(50 * 1000);
	}
	return -1;
}

/*
 * Wait up to 40 s until the thread has taken no chunk for 3 s, thrice
 * the back-off after a shrink: it is done with what was asked of it.
 */
static int pool_quiet(struct pool_stats *s)
{
	struct pool_stats t;
	int i, still = 0;

	if (pool_read(s))
		return -1;
	for (i = 0; i < 40; i++) {
		sleep(1);
		if (pool_read(&t))
			return -1;
		still = t.filled == s->filled ? still + 1 : 0;
		*s = t;
		if (still == 3)
			return 0;
	}
	return -1;
}

/* Allocate and free one 1 MiB PINNED dataspace: the pool refills after it. */
static int poke(int dev, uint32_t flags, size_t len)
{
	int fd = ds_alloc(dev, len, flags, 0, O_CLOEXEC);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/*
 * Map @fd, check every byte is zero, write @c over all of it, yield, and
 * check it still reads @c: memory handed to two at once would not.
 * Return: 0, -EIO for a byte not zero, -EEXIST for one another wrote.
 */
static int zero_then_dirty(int fd, size_t len, char c)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int ret = 0;
	size_t i;

	if (p == MAP_FAILED)
		return -errno;
	if (!all_zero(p, len))
		ret = -EIO;
	memset(p, c, len);
	sched_yield();
	for (i = 0; !ret && i < len; i++)
		if (p[i] != c)
			ret = -EEXIST;
	munmap(p, len);
	return ret;
}

/* Empty the pool and set its size: 0 or -errno. */
static int pool_reset(const char *size)
{
	return write_file(PARAM, "0") ?: write_file(PARAM, size);
}

FIXTURE(pool) {
	int dev;
	char old[32];
};

FIXTURE_SETUP(pool)
{
	struct pool_stats s;

	self->dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	if (access(PARAM, F_OK) || pool_read(&s))
		SKIP(return, "no pool here (module parameter or debugfs missing)");
	ASSERT_EQ(0, read_str(PARAM, self->old, sizeof(self->old)));
	ASSERT_EQ(0, pool_reset("16M"));
}

FIXTURE_TEARDOWN(pool)
{
	if (self->old[0])
		write_file(PARAM, self->old);
	close(self->dev);
}

#define NEED_POOL()				\
	do {					\
		if (!self->old[0])		\
			return;			\
	} while (0)

/* An allocation queues a refill; the idle CPU fills; the next one takes a chunk. */
TEST_F(pool, fills_when_idle_and_hands_out_zero)
{
	struct pool_stats a, b;
	int fd;

	NEED_POOL();
	ASSERT_EQ(0, pool_read(&a));
	EXPECT_EQ(16 * MIB, (unsigned long)a.size);
	ASSERT_EQ(0, poke(self->dev, MEMALLOC_PINNED, MIB));
	ASSERT_EQ(0, pool_until(HAS_1M, 0, 30, &a)) TH_LOG("pool holds %ld bytes", a.bytes);
	fd = ds_alloc(self->dev, MIB, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pool_read(&b));
	EXPECT_EQ(a.hits + 1, b.hits);
	EXPECT_EQ(0, zero_then_dirty(fd, MIB, 0x5a));
	close(fd);
	/* 64 KiB chunks too, for PINNED and CONTINUOUS (the thread done filling). */
	ASSERT_EQ(0, poke(self->dev, MEMALLOC_PINNED, 64 * KIB));
	ASSERT_EQ(0, pool_until(HAS_64K, 0, 30, &a));
	ASSERT_EQ(0, pool_quiet(&a));
	fd = ds_alloc(self->dev, 64 * KIB, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pool_read(&b));
	EXPECT_EQ(a.hits + 1, b.hits);
	EXPECT_EQ(0, zero_then_dirty(fd, 64 * KIB, 0x5a));
	close(fd);
	/* The pool counts as reclaimable kernel memory (KReclaimable). */
	ASSERT_EQ(0, pool_quiet(&b));
	EXPECT_LE(b.bytes / 4096, vmstat("nr_kernel_misc_reclaimable"));
}

/* 0 empties the pool at once and turns it off; allocations go on, from the page allocator. */
TEST_F(pool, size_zero_empties_it)
{
	struct pool_stats a, b, q;
	long r0, r1;
	int fd, i;

	NEED_POOL();
	ASSERT_EQ(0, poke(self->dev, MEMALLOC_PINNED, MIB));
	ASSERT_EQ(0, pool_until(HAS_1M, 0, 30, &a));
	ASSERT_EQ(0, pool_quiet(&q));
	/* The counters folded first: exactly the pool's pages leave KReclaimable. */
	ASSERT_EQ(0, write_file("/proc/sys/vm/stat_refresh", "1"));
	r0 = vmstat("nr_kernel_misc_reclaimable");
	ASSERT_EQ(0, write_file(PARAM, "0"));
	ASSERT_EQ(0, pool_read(&a));
	EXPECT_EQ(0, a.bytes);
	EXPECT_EQ(0, a.mib + a.kib64);
	ASSERT_EQ(0, write_file("/proc/sys/vm/stat_refresh", "1"));
	r1 = vmstat("nr_kernel_misc_reclaimable");
	EXPECT_EQ(q.bytes / 4096, r0 - r1) TH_LOG("pool %ld bytes, counter %ld -> %ld",
						 q.bytes, r0, r1);
	fd = ds_alloc(self->dev, MIB, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, zero_then_dirty(fd, MIB, 1));
	close(fd);
	/* Nothing comes back into it, for as long as anyone looks. */
	for (i = 0; i < 20; i++) {
		usleep(50 * 1000);
		ASSERT_EQ(0, pool_read(&b));
		ASSERT_EQ(0, b.bytes);
	}
	EXPECT_EQ(a.hits, b.hits);
	EXPECT_EQ(a.filled, b.filled);
}

/* A lower size frees chunks down to it at once; refills stay within it. */
TEST_F(pool, lower_size_bounds_it)
{
	struct pool_stats s, t;
	int i;

	NEED_POOL();
	ASSERT_EQ(0, poke(self->dev, MEMALLOC_PINNED, MIB));
	ASSERT_EQ(0, poke(self->dev, MEMALLOC_PINNED, 64 * KIB));
	ASSERT_EQ(0, pool_until(AT_LEAST, 4 * MIB, 30, &s));
	ASSERT_EQ(0, pool_quiet(&t));
	ASSERT_EQ(0, write_file(PARAM, "2M"));
	ASSERT_EQ(0, pool_read(&s));
	EXPECT_GE(2 * MIB, (unsigned long)s.bytes);
	EXPECT_LT(t.evicted, s.evicted);
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, poke(self->dev, MEMALLOC_PINNED, MIB));
		ASSERT_EQ(0, poke(self->dev, MEMALLOC_PINNED, 64 * KIB));
		usleep(100 * 1000);
		ASSERT_EQ(0, pool_read(&s));
		EXPECT_GE(2 * MIB, (unsigned long)s.bytes);
	}
	EXPECT_EQ(2 * MIB, (unsigned long)s.size);
}

/* The parameter takes bytes with K, M or G, up to half of RAM; else EINVAL, unchanged. */
TEST_F(pool, size_rejects_bad_values)
{
	char now[32], big[32];

	NEED_POOL();
	EXPECT_EQ(-EINVAL, write_file(PARAM, "lots"));
	EXPECT_EQ(-EINVAL, write_file(PARAM, "-1"));
	EXPECT_EQ(-EINVAL, write_file(PARAM, "99999999999999999999G"));
	snprintf(big, sizeof(big), "%ld", sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE));
	EXPECT_EQ(-EINVAL, write_file(PARAM, big));
	ASSERT_EQ(0, read_str(PARAM, now, sizeof(now)));
	EXPECT_STREQ("16777216", now);
	EXPECT_EQ(0, write_file(PARAM, "4096K\n"));
	ASSERT_EQ(0, read_str(PARAM, now, sizeof(now)));
	EXPECT_STREQ("4194304", now);
}

/* Under memory pressure the shrinker gives every chunk back, the last one too. */
TEST_F(pool, shrinker_gives_it_back)
{
	struct pool_stats a, b;

	NEED_POOL();
	/* One 64 KiB chunk at most: a pool the shrinker once left alone. */
	ASSERT_EQ(0, write_file(PARAM, "256K"));
	ASSERT_EQ(0, poke(self->dev, MEMALLOC_PINNED, 64 * KIB));
	ASSERT_EQ(0, pool_until(HAS_64K, 0, 30, &a));
	ASSERT_EQ(0, pool_quiet(&a));
	/* drop_caches shrinks every shrinker, ours too. */
	ASSERT_EQ(0, write_file("/proc/sys/vm/drop_caches", "2"));
	ASSERT_EQ(0, pool_read(&b));
	EXPECT_EQ(0, b.bytes);
	EXPECT_EQ(a.shrunk + 16, b.shrunk);
	/* A full pool, all of it. */
	ASSERT_EQ(0, write_file(PARAM, "16M"));
	ASSERT_EQ(0, poke(self->dev, MEMALLOC_PINNED, MIB));
	ASSERT_EQ(0, pool_until(AT_LEAST, 8 * MIB, 30, &a));
	ASSERT_EQ(0, pool_quiet(&a));
	ASSERT_EQ(0, write_file("/proc/sys/vm/drop_caches", "2"));
	ASSERT_EQ(0, pool_read(&b));
	EXPECT_EQ(0, b.bytes);
}

/* A child cgroup of the root's: its path in @path, the memory controller on. */
static int cg_make(char *path, size_t len, const char *name)
{
	char buf[256];

	if (read_str(CG_ROOT "/cgroup.controllers", buf, sizeof(buf)) ||
	    !strstr(buf, "memory"))
		return -1;
	if (read_str(CG_ROOT "/cgroup.subtree_control", buf, sizeof(buf)) ||
	    !strstr(buf, "memory"))
		if (write_file(CG_ROOT "/cgroup.subtree_control", "+memory"))
			return -1;
	snprintf(path, len, CG_ROOT "/%s-%d", name, getpid());
	return mkdir(path, 0755) ? -1 : 0;
}

static void cg_remove(const char *path)
{
	int i;

	for (i = 0; i < 50 && rmdir(path) && errno == EBUSY; i++)
		usleep(100 * 1000);
}

/*
 * In a child moved into @cg: allocate @len bytes of kind @flags @n times,
 * a pause between, and exit with the first that was a hit of the pool's
 * (100 + its index; 0: none; 255: an error).
 */
static int in_cgroup_of(const char *cg, int dev, int n, int pause_ms,
			uint32_t flags, size_t len)
{
	struct pool_stats a, b;
	char procs[300], pid[16];
	pid_t child = fork();
	int status, i, fd;

	if (child < 0)
		return -1;
	if (!child) {
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (write_file(procs, pid))
			_exit(255);
		for (i = 0; i < n; i++) {
			if (pool_read(&a))
				_exit(255);
			fd = ds_alloc(dev, len, flags, 0, O_CLOEXEC);
			if (fd < 0 || pool_read(&b))
				_exit(255);
			close(fd);
			if (b.hits != a.hits)
				_exit(100 + i);	/* the first hit */
			usleep(pause_ms * 1000);
		}
		_exit(0);
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* in_cgroup_of() with 1 MiB PINNED dataspaces. */
static int in_cgroup(const char *cg, int dev, int n, int pause_ms)
{
	return in_cgroup_of(cg, dev, n, pause_ms, MEMALLOC_PINNED, MIB);
}

/*
 * A cgroup pays for its chunks (memory.current) and only its tasks get
 * them; another cgroup evicts them when the pool is full, so no cgroup
 * keeps it; a cgroup without room for the pool gets none of its own.
 */
TEST_F(pool, each_cgroup_pays_for_its_own)
{
	char a[128], b[128], c[128], path[160];
	struct pool_stats s, t;
	long cur0, cur;
	int ret;

	NEED_POOL();
	if (cg_make(a, sizeof(a), "memalloc-pool-a"))
		SKIP(return, "no cgroup2 memory controller");
	ASSERT_EQ(0, cg_make(b, sizeof(b), "memalloc-pool-b"));
	ASSERT_EQ(0, cg_make(c, sizeof(c), "memalloc-pool-c"));
	snprintf(path, sizeof(path), "%s/memory.current", a);
	cur0 = read_long(path);
	/* a's first allocation misses and queues a's refill; a later one hits. */
	ret = in_cgroup(a, self->dev, 20, 300);
	EXPECT_LE(101, ret) TH_LOG("a: %d (0: never a hit, 100: a hit at once)", ret);
	EXPECT_GT(120, ret);
	/* a's chunks, most of the pool by now, are charged to a. */
	ASSERT_EQ(0, pool_until(AT_LEAST, 8 * MIB, 30, &s));
	ASSERT_EQ(0, pool_quiet(&s));
	cur = read_long(path);
	EXPECT_LE(cur0 + s.bytes, cur) TH_LOG("a's memory.current %ld -> %ld, pool %ld",
					      cur0, cur, s.bytes);
	/* b gets none of a's, but evicts them for its own. */
	ASSERT_EQ(0, pool_read(&t));
	ret = in_cgroup(b, self->dev, 20, 300);
	EXPECT_LE(101, ret) TH_LOG("b: %d (100: one of a's chunks)", ret);
	EXPECT_GT(120, ret);
	ASSERT_EQ(0, pool_read(&s));
	EXPECT_LT(t.evicted, s.evicted);
	/*
	 * c, with memory.max below pool_size, gets no chunks, though the
	 * pool has room: the thread, done with b, takes none for c.
	 */
	ASSERT_EQ(0, pool_quiet(&s));
	ASSERT_EQ(0, pool_reset("16M"));
	snprintf(path, sizeof(path), "%s/memory.max", c);
	ASSERT_EQ(0, write_file(path, "8388608"));
	ret = in_cgroup(c, self->dev, 10, 200);
	EXPECT_EQ(0, ret);
	ASSERT_EQ(0, pool_quiet(&t));
	EXPECT_EQ(s.filled, t.filled);
	EXPECT_EQ(0, t.bytes);
	cg_remove(a);
	cg_remove(b);
	cg_remove(c);
}

/*
 * A cgroup that takes only 64 KiB chunks, while another's fill the pool,
 * evicts one 64 KiB chunk a refill and gets its own soon: not 1 MiB ones
 * it never takes.
 */
TEST_F(pool, a_cgroup_gets_the_size_it_takes)
{
	char a[128], b[128];
	struct pool_stats s, t;
	int ret;

	NEED_POOL();
	if (cg_make(a, sizeof(a), "memalloc-pool-a"))
		SKIP(return, "no cgroup2 memory controller");
	ASSERT_EQ(0, cg_make(b, sizeof(b), "memalloc-pool-b"));
	/* a's chunks fill all of it: three 1 MiB and sixteen 64 KiB. */
	ASSERT_EQ(0, write_file(PARAM, "4M"));
	ret = in_cgroup_of(a, self->dev, 1, 0, MEMALLOC_PINNED, 64 * KIB);
	EXPECT_TRUE(ret == 0 || ret == 100) TH_LOG("a: %d", ret);
	ASSERT_EQ(0, pool_until(AT_LEAST, 4 * MIB, 30, &s)) TH_LOG("pool %ld", s.bytes);
	ASSERT_EQ(0, pool_quiet(&t));
	ret = in_cgroup_of(b, self->dev, 10, 300, MEMALLOC_CONTINUOUS, 64 * KIB);
	ASSERT_EQ(0, pool_quiet(&s));
	EXPECT_LE(101, ret);
	EXPECT_GE(103, ret) TH_LOG("b's first hit: %d (100 + its allocation)", ret);
	/* In 64 KiB units: one a refill, not sixteen. */
	EXPECT_LT(t.evicted, s.evicted);
	EXPECT_GE(t.evicted + 10, s.evicted) TH_LOG("evicted %ld -> %ld", t.evicted,
						    s.evicted);
	EXPECT_GE(4 * MIB, (unsigned long)s.bytes);
	/*
	 * Room for b's 64 KiB share, not for one more 1 MiB chunk: b fills
	 * its 64 KiB chunks into it and evicts none of a's 1 MiB ones for a
	 * size its tasks never took.
	 */
	ASSERT_EQ(0, write_file(PARAM, "3M"));
	ASSERT_EQ(0, write_file(PARAM, "4M"));
	ASSERT_EQ(0, pool_read(&t));
	ret = in_cgroup_of(b, self->dev, 1, 0, MEMALLOC_CONTINUOUS, 64 * KIB);
	EXPECT_TRUE(ret == 0 || ret == 100) TH_LOG("b: %d", ret);
	ASSERT_EQ(0, pool_quiet(&s));
	EXPECT_LT(t.bytes, s.bytes);
	EXPECT_EQ(t.evicted, s.evicted);
	EXPECT_EQ(t.mib, s.mib);
	cg_remove(a);
	cg_remove(b);
}

/*
 * Two cgroups whose shares together exceed pool_size take in turn: the
 * pool never holds more than pool_size, as anyone looking sees.
 */
TEST_F(pool, two_cgroups_stay_within_the_size)
{
	char a[128], b[128];
	const char *cg[2] = { a, b };
	struct pool_stats s;
	long most = 0;
	int i, k;

	NEED_POOL();
	if (cg_make(a, sizeof(a), "memalloc-pool-a"))
		SKIP(return, "no cgroup2 memory controller");
	ASSERT_EQ(0, cg_make(b, sizeof(b), "memalloc-pool-b"));
	/* Each cgroup's shares: one 1 MiB chunk and eight of 64 KiB, 1.5 MiB. */
	ASSERT_EQ(0, write_file(PARAM, "2M"));
	for (i = 0; i < 8; i++) {
		k = in_cgroup_of(cg[i % 2], self->dev, 1, 0, MEMALLOC_PINNED,
				 (i / 2) % 2 ? MIB : 64 * KIB);
		EXPECT_TRUE(k == 0 || k == 100) TH_LOG("round %d: %d", i, k);
		for (k = 0; k < 30; k++) {
			ASSERT_EQ(0, pool_read(&s));
			ASSERT_GE(2 * MIB, (unsigned long)s.bytes) TH_LOG("round %d", i);
			if (s.bytes > most)
				most = s.bytes;
			usleep(20 * 1000);
		}
	}
	/* Both asked for more than fits: the bound is what held it. */
	EXPECT_LE(3 * MIB / 2, (unsigned long)most);
	cg_remove(a);
	cg_remove(b);
}

/*
 * A task with a memory policy of its own gets no chunk, which may be on
 * any node: the page allocator places its pages. With the default policy
 * again it takes one.
 */
TEST_F(pool, a_task_with_a_memory_policy_gets_none)
{
	unsigned long node0 = 1;
	struct pool_stats a, b;
	int fd;

	NEED_POOL();
	ASSERT_EQ(0, poke(self->dev, MEMALLOC_PINNED, MIB));
	ASSERT_EQ(0, pool_until(HAS_1M, 0, 30, &a));
	ASSERT_EQ(0, pool_quiet(&a));
	if (syscall(SYS_set_mempolicy, MPOL_PREFERRED, &node0, 8 * sizeof(node0)))
		SKIP(return, "no memory policies here: %s", strerror(errno));
	fd = ds_alloc(self->dev, MIB, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, zero_then_dirty(fd, MIB, 7));
	close(fd);
	ASSERT_EQ(0, pool_read(&b));
	EXPECT_EQ(a.hits, b.hits);
	EXPECT_NE(0, b.mib);
	ASSERT_EQ(0, syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0));
	fd = ds_alloc(self->dev, MIB, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, pool_read(&b));
	EXPECT_EQ(a.hits + 1, b.hits);
}

/* The kinds the stress test cycles through, and their sizes. */
static const struct {
	uint32_t flags;
	size_t len;
} kinds[] = {
	{ MEMALLOC_PINNED, MIB },
	{ MEMALLOC_PINNED, 64 * KIB },
	{ MEMALLOC_PINNED, 3 * MIB + 68 * KIB },
	{ MEMALLOC_CONTINUOUS, MIB },
	{ MEMALLOC_CONTINUOUS, 64 * KIB },
	{ MEMALLOC_CONTINUOUS, 4 * MIB },
	{ MEMALLOC_PINNED | MEMALLOC_WRITE_COMBINE, MIB },
	{ 0, MIB },
	{ MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES, 2 * MIB },
};

#define STRESS_PROCS 4

/* Shrink, lower and raise the pool until *@arg is set. */
static void *chaos_loop(void *arg)
{
	static const char *const sizes[] = { "16M", "4M", "16M", "16M", "0", "16M" };
	int *stop = arg;
	unsigned int n = 0;

	while (!__atomic_load_n(stop, __ATOMIC_SEQ_CST)) {
		usleep(700 * 1000);
		if (n % 4 == 3)
			write_file("/proc/sys/vm/drop_caches", "2");
		write_file(PARAM, sizes[n++ % (sizeof(sizes) / sizeof(sizes[0]))]);
	}
	write_file(PARAM, "16M");
	return NULL;
}

/*
 * Several processes fill, free and reallocate every kind, checking every
 * byte of each new dataspace, and pausing now and then so that the pool's
 * thread gets an idle CPU to refill on.
 */
TEST_F_TIMEOUT(pool, never_hands_out_a_nonzero_byte, 600)
{
	long secs = getenv("MEMALLOC_STRESS_SECONDS") ?
		    atol(getenv("MEMALLOC_STRESS_SECONDS")) : 10;
	struct pool_stats a, b;
	char cmdline[1024] = "";
	pid_t pids[STRESS_PROCS];
	int i, status, bad = 0, stop = 0;
	pthread_t chaos;
	char *dirt;

	NEED_POOL();
	if (secs > 30)
		secs = 30;
	read_str("/proc/cmdline", cmdline, sizeof(cmdline));
	TH_LOG("init_on_alloc %s, init_on_free %s, %ld s",
	       strstr(cmdline, "init_on_alloc=0") ? "off" : "as configured",
	       strstr(cmdline, "init_on_free=1") ? "on" : "off", secs);
	/* Free memory that is not zero, for a chunk not zeroed to be found out. */
	dirt = mmap(NULL, 64 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dirt);
	memset(dirt, 0xa5, 64 * MIB);
	munmap(dirt, 64 * MIB);
	ASSERT_EQ(0, pool_read(&a));
	for (i = 0; i < STRESS_PROCS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			time_t end = time(NULL) + secs;
			unsigned int k = i, round = 0;
			int fd, ret;

			while (time(NULL) < end) {
				k = (k + 1) % (sizeof(kinds) / sizeof(kinds[0]));
				fd = ds_alloc(self->dev, kinds[k].len, kinds[k].flags, 0,
					      O_CLOEXEC);
				if (fd == -EOPNOTSUPP || fd == -ENOMEM)
					continue;
				if (fd < 0)
					_exit(2);
				ret = zero_then_dirty(fd, kinds[k].len, (char)(0xa0 + i));
				close(fd);
				if (ret == -EIO)
					_exit(1);
				if (ret == -EEXIST)
					_exit(4);
				if (ret)
					_exit(3);
				if (!(++round % 8))
					usleep(20 * 1000);
			}
			_exit(0);
		}
	}
	/*
	 * Meanwhile the pool is shrunk, lowered and raised under them, so
	 * that hand-outs race the shrinker and the trims.
	 */
	ASSERT_EQ(0, pthread_create(&chaos, NULL, chaos_loop, &stop));
	for (i = 0; i < STRESS_PROCS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("process %d: status %#x (exit 1: a byte not zero, 4: memory"
			       " another wrote)", i, status);
		bad += !WIFEXITED(status) || WEXITSTATUS(status);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(chaos, NULL);
	ASSERT_EQ(0, pool_read(&b));
	/* The pool took part, or the test proved nothing of it. */
	EXPECT_LT(a.hits, b.hits) TH_LOG("hits %ld -> %ld, misses %ld -> %ld",
					 a.hits, b.hits, a.misses, b.misses);
	EXPECT_EQ(0, bad);
}

TEST_HARNESS_MAIN
