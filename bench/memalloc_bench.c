// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc benchmarks: memalloc against its peers, side by side in one
 * boot. Every comparison is a ratio to a baseline measured in the same
 * boot, from per-operation samples: each subject (memalloc or a peer) runs
 * one operation in turn, round after round, so that a slow spell of the
 * host falls on subjects and baselines alike. Prints CSV on stdout, one
 * row per (case, size, subject, baseline):
 *
 *   kernel,case,size,subject,baseline,unit,n,p50,p90,p99,min,max,
 *   base_n,base_p50,base_p90,base_p99,base_min,base_max,ratio,ratio_p99,
 *   target,met,job
 *
 * n is the number of samples, p50, p90 and p99 nearest-rank percentiles
 * (of 30 samples, p99 is the largest). For times (unit s) the percentiles
 * are the slow tail; for rates (ops/s) too: p99 is the rate that 99% of
 * the runs reached. ratio is p50 over base_p50, ratio_p99 p99 over
 * base_p99. target says which way is better ("<=1.0": at most, "<1.0":
 * below, ">=1.0": at least), met is yes, no or -. A row without a baseline
 * has "-" there and empty base fields. job is set on the rows that the
 * report's summary picks from: the best peer of each job, and its targets.
 * Unit "success": n attempts, p50 of them succeeded.
 *
 * The pool of zeroed chunks (module/pool.c) is measured in three states:
 *   pool-warm:    before each operation the pool is full (waited for, up
 *                 to 2 s), and its thread idle.
 *   pool-drained: before each operation the pool is emptied (pool_size
 *                 set to 0 until it holds nothing, then back), so the
 *                 allocation finds no chunk, pays the look-up and queues
 *                 the refill, whose thread then runs beside it: what a
 *                 caller meets after a burst emptied the pool.
 *   pool-off:     pool_size=0.
 * Every other subject, memalloc's and the peers', runs with the pool warm,
 * so that no refill runs during its operation unless the operation takes
 * a chunk (a refill then runs beside the rest of it). The pool is set up
 * outside the timed part, and the waits for it spin (see spin()). A
 * module without the pool gives one "pinned" subject. Case 8 has more
 * states of its own (see bench_phases()).
 *
 * Peers the kernel lacks (dma-buf heaps, udmabuf, hugetlb pages, memalloc
 * kinds) give no row. stderr gets notes: what failed, and the pool's hits
 * and misses of each pooled subject.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "memalloc.h"

#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << MAP_HUGE_SHIFT)
#endif

#define KIB 1024ul
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define PMD (2 * MIB)

static struct memalloc *ma;
static struct memalloc_features feat = { .size = sizeof(feat) };
static int system_heap = -1, cma_heap = -1, udmabuf_dev = -1;
static size_t cma_size;
static size_t page;
static const char *kernel_name;
/* BENCH_QUICK: a few samples of everything, to see that it runs. */
static bool quick;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static size_t round_up(size_t v, size_t to)
{
	return (v + to - 1) / to * to;
}

/* An address range aligned to @align for @len bytes, reserved PROT_NONE. */
static void *reserve(size_t len, size_t align)
{
	char *p = mmap(NULL, len + align, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t at;

	if (p == MAP_FAILED)
		return NULL;
	at = round_up((uintptr_t)p, align);
	if (at > (uintptr_t)p)
		munmap(p, at - (uintptr_t)p);
	munmap((char *)at + len, (uintptr_t)p + len + align - at - len);
	return (void *)at;
}

static void touch(char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += page)
		((volatile char *)p)[i] = 1;
}

/* Map @fd shared at an address aligned to @align. */
static char *map_fd_at(int fd, size_t len, size_t align)
{
	void *at = reserve(len, align);
	char *p;

	if (!at)
		return NULL;
	p = mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		munmap(at, len);
		return NULL;
	}
	return p;
}

/*
 * Map @fd at a PMD-aligned address, where 2 MiB pages can be mapped
 * whole, and close it: the mapping holds the memory from then on.
 */
static char *map_fd(int fd, size_t len)
{
	char *p = map_fd_at(fd, len, PMD);

	close(fd);
	return p;
}

/* ---- Samples, percentiles and rows ---- */

struct stats {
	int n;
	double p50, p90, p99, min, max;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least @q% of them at or below. */
static double pct(const double *v, int n, int q)
{
	int k = (q * n + 99) / 100;

	return v[k < 1 ? 0 : k - 1];
}

/* Sorts @v. */
static struct stats summarize(double *v, int n)
{
	struct stats s = { .n = n };

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), cmp_double);
	s.min = v[0];
	s.max = v[n - 1];
	s.p50 = pct(v, n, 50);
	s.p90 = pct(v, n, 90);
	s.p99 = pct(v, n, 99);
	return s;
}

/* Of rates, where the slow tail is the low end. Sorts @v. */
static struct stats summarize_rate(double *v, int n)
{
	struct stats s;
	double min;
	int i;

	for (i = 0; i < n; i++)
		v[i] = -v[i];
	s = summarize(v, n);
	min = -s.max;
	s.max = -s.min;
	s.min = min;
	s.p50 = -s.p50;
	s.p90 = -s.p90;
	s.p99 = -s.p99;
	return s;
}

static const char *met_of(double ratio, const char *target)
{
	if (!strncmp(target, "<=", 2))
		return ratio <= atof(target + 2) ? "yes" : "no";
	if (!strncmp(target, ">=", 2))
		return ratio >= atof(target + 2) ? "yes" : "no";
	if (target[0] == '<')
		return ratio < atof(target + 1) ? "yes" : "no";
	if (target[0] == '>')
		return ratio > atof(target + 1) ? "yes" : "no";
	return "-";
}

static void print_stats(struct stats s)
{
	printf(",%d,%.6g,%.6g,%.6g,%.6g,%.6g", s.n, s.p50, s.p90, s.p99, s.min, s.max);
}

/*
 * One row: @s against @b (baseline "-": none). No row when a side has no
 * samples: that peer is missing, or its operation failed.
 */
static void row(const char *kase, size_t size, const char *subject,
		const char *baseline, const char *unit, struct stats s,
		struct stats b, const char *target, const char *job)
{
	bool base = strcmp(baseline, "-");
	double ratio;

	if (!s.n || (base && !b.n))
		return;
	printf("%s,%s,%zu,%s,%s,%s", kernel_name, kase, size, subject, baseline, unit);
	print_stats(s);
	if (base && !strcmp(unit, "success")) {
		print_stats(b);
		printf(",,,,-");
	} else if (base) {
		ratio = s.p50 / b.p50;
		print_stats(b);
		printf(",%.4g,%.4g,%s,%s", ratio, s.p99 / b.p99, target,
		       target[0] ? met_of(ratio, target) : "-");
	} else {
		printf(",,,,,,,,,,-");
	}
	printf(",%s\n", job ? job : "");
	fflush(stdout);
}

static const struct stats none;

/* ---- The pool (module/pool.c) ---- */

#define POOL_STATS "/sys/kernel/debug/memalloc/pool"
#define POOL_PARAM "/sys/module/memalloc/parameters/pool_size"
/* How long to wait for the pool to fill or empty. */
#define POOL_WAIT 2.0

/* pool_size as loaded; 0 when the module has no pool. */
static unsigned long pool_default;
static int pool_timeouts;

struct pool {
	unsigned long bytes, size;
	unsigned long long hits, misses;
};

static bool pool_read(struct pool *p)
{
	FILE *f = fopen(POOL_STATS, "r");
	bool ok;

	if (!f)
		return false;
	/*
	 * A header line, then: bytes size chunks_1M chunks_64K hits misses
	 * filled shrunk evicted.
	 */
	ok = fscanf(f, "%*[^\n] %lu %lu %*u %*u %llu %llu", &p->bytes, &p->size,
		    &p->hits, &p->misses) == 4;
	fclose(f);
	return ok;
}

static unsigned long pool_param(void)
{
	unsigned long v = 0;
	FILE *f = fopen(POOL_PARAM, "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static void pool_set(unsigned long bytes)
{
	FILE *f = fopen(POOL_PARAM, "w");

	if (!f)
		return;
	fprintf(f, "%lu\n", bytes);
	fclose(f);
}

/*
 * Spin for @seconds. The waits between operations spin rather than sleep:
 * an operation that follows a sleep, which lets the guest's CPU go idle,
 * takes up to three times as long under emulation (case 8 shows it), and a
 * subject whose setup slept would be measured apart from one whose setup
 * did not.
 */
static void spin(double seconds)
{
	double end = now() + seconds;

	while (now() < end)
		;
}

/* Wait until the pool holds at least (@full) or at most (!@full) @bytes. */
static bool pool_wait(unsigned long bytes, bool full, double seconds)
{
	double end = now() + seconds;
	struct pool p;

	for (;;) {
		if (!pool_read(&p))
			return false;
		if (full ? p.bytes >= bytes : p.bytes <= bytes)
			return true;
		if (now() > end)
			return false;
		spin(0.0002);
	}
}

/* What a full pool holds: 3/4 of pool_size in 1 MiB chunks, 1/4 in 64 KiB. */
static unsigned long pool_full(void)
{
	unsigned long quarter = pool_default / 4;

	return 3 * quarter / MIB * MIB + quarter / (64 * KIB) * (64 * KIB);
}

/*
 * Full, and so its thread idle. The thread refills only after an
 * allocation took a chunk or found none: after pool_size was 0, or when
 * no refill comes, one allocation of a chunk of each order asks for it.
 */
static void pool_warm(void)
{
	unsigned long full = pool_full();
	struct pool p;
	int fd;

	if (!pool_default || !pool_read(&p))
		return;
	if (p.size != pool_default) {
		pool_set(pool_default);
	} else if (p.bytes >= full || pool_wait(full, true, 0.05)) {
		return;
	}
	fd = memalloc_alloc_fd(ma, MIB + 64 * KIB, MEMALLOC_PINNED, 0);
	if (fd >= 0)
		close(fd);
	if (!pool_wait(full, true, POOL_WAIT))
		pool_timeouts++;
}

/*
 * pool_size 0. From warm, so that no refill already queued, nor one still
 * under way, adds a chunk after the pool was seen empty.
 */
static void pool_off(void)
{
	if (!pool_default)
		return;
	pool_warm();
	pool_set(0);
	if (!pool_wait(0, false, POOL_WAIT))
		pool_timeouts++;
}

/*
 * Empty, with pool_size as it was: lowering pool_size empties the pool,
 * raising it back fills nothing until an allocation asks.
 */
static void pool_drain(void)
{
	if (!pool_default)
		return;
	pool_off();
	spin(0.002);	/* the thread back asleep, past its queue */
	pool_set(pool_default);
	if (!pool_wait(0, false, 0))
		pool_timeouts++;
}

enum pool_state { POOL_WARM, POOL_DRAINED, POOL_OFF };

static void pool_prepare(enum pool_state state)
{
	switch (state) {
	case POOL_DRAINED:
		pool_drain();
		break;
	case POOL_OFF:
		pool_off();
		break;
	default:
		pool_warm();
	}
}

/* ---- The subjects' operations ---- */

/*
 * The rest of a cycle of @fd, just allocated, of @len bytes: map it, touch
 * every page, unmap and free it. @t, if set, gets the time of each of the
 * three (case 8).
 */
static int fd_cycle_parts(int fd, size_t len, double t[3])
{
	double t0 = t ? now() : 0, t1 = 0, t2 = 0;
	char *p;

	if (fd < 0)
		return fd;
	p = map_fd(fd, len);
	if (!p)
		return -ENOMEM;
	if (t)
		t1 = now();
	touch(p, len);
	if (t)
		t2 = now();
	munmap(p, len);
	if (t) {
		t[0] = t1 - t0;
		t[1] = t2 - t1;
		t[2] = now() - t2;
	}
	return 0;
}

/* Allocate @len, map it, touch every page, unmap and free it. */
static int fd_cycle(int fd, size_t len)
{
	return fd_cycle_parts(fd, len, NULL);
}

static int memalloc_cycle(size_t len, unsigned int flags)
{
	if (flags & MEMALLOC_SUPER_PAGES)
		len = round_up(len, PMD);
	return fd_cycle(memalloc_alloc_fd(ma, len, flags, 0), len);
}

static int ma_lazy(size_t len) { return memalloc_cycle(len, 0); }
static int ma_pinned(size_t len) { return memalloc_cycle(len, MEMALLOC_PINNED); }
static int ma_contig(size_t len) { return memalloc_cycle(len, MEMALLOC_CONTINUOUS); }
static int ma_super(size_t len) { return memalloc_cycle(len, MEMALLOC_SUPER_PAGES); }

static int ma_contig_super(size_t len)
{
	return memalloc_cycle(len, MEMALLOC_CONTINUOUS | MEMALLOC_SUPER_PAGES);
}

static int heap_alloc(int heap, size_t len)
{
	struct dma_heap_allocation_data d = {
		.len = len, .fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (heap < 0)
		return -ENODEV;
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d))
		return -errno;
	return d.fd;
}

static int system_cycle(size_t len) { return fd_cycle(heap_alloc(system_heap, len), len); }
static int cma_cycle(size_t len) { return fd_cycle(heap_alloc(cma_heap, len), len); }

static int memfd_new(size_t len, unsigned int flags)
{
	int fd = memfd_create("bench", MFD_CLOEXEC | flags);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, len)) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int memfd_cycle(size_t len) { return fd_cycle(memfd_new(len, 0), len); }

static int memfd_huge_cycle(size_t len)
{
	len = round_up(len, PMD);
	return fd_cycle(memfd_new(len, MFD_HUGETLB), len);
}

/* udmabuf: a sealed memfd's pages, pinned, as a dma-buf. */
static int udmabuf_new(size_t len)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = len };
	int memfd, fd;

	if (udmabuf_dev < 0)
		return -ENODEV;
	memfd = memfd_new(len, MFD_ALLOW_SEALING);
	if (memfd < 0)
		return memfd;
	if (fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		close(memfd);
		return -errno;
	}
	c.memfd = memfd;
	fd = ioctl(udmabuf_dev, UDMABUF_CREATE, &c);
	if (fd < 0)
		fd = -errno;
	close(memfd);
	return fd;
}

static int udmabuf_cycle(size_t len) { return fd_cycle(udmabuf_new(len), len); }

static int hugetlb_cycle(size_t len)
{
	char *p;

	len = round_up(len, PMD);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	touch(p, len);
	munmap(p, len);
	return 0;
}

/* Anonymous memory, with or without transparent huge pages. */
static char *anon_map(size_t len, bool huge)
{
	char *p = reserve(len, PMD);

	if (!p)
		return NULL;
	p = mmap(p, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return p;
}

static int thp_cycle(size_t len)
{
	char *p;

	len = round_up(len, PMD);
	p = anon_map(len, true);
	if (!p)
		return -ENOMEM;
	touch(p, len);
	munmap(p, len);
	return 0;
}

/* Allocation alone: only the allocation is timed, its free is not. */
static double alloc_time(int fd, double t)
{
	t = now() - t;
	if (fd < 0)
		return fd;
	close(fd);
	return t;
}

static double pinned_alloc(size_t len)
{
	double t = now();

	return alloc_time(memalloc_alloc_fd(ma, len, MEMALLOC_PINNED, 0), t);
}

static double system_alloc(size_t len)
{
	double t = now();

	return alloc_time(heap_alloc(system_heap, len), t);
}

/* The floor: a memset of @len bytes already mapped and touched. */
static char *floor_buf;

static double memset_time(size_t len)
{
	double t;

	if (!floor_buf)
		return -ENOMEM;
	t = now();
	memset(floor_buf, 0, len);
	__asm__ volatile("" : : "r"(floor_buf) : "memory");
	return now() - t;
}

/* ---- Taking samples in turn ---- */

struct subject {
	const char *name;
	int (*cycle)(size_t len);	/* timed whole, or: */
	double (*op)(size_t len);	/* times its part; < 0: -errno */
	enum pool_state pool;
	/* Filled in by sample(): */
	struct stats st;
	unsigned long long hits, misses;
};

static struct subject cycle_subject(const char *name, int (*cycle)(size_t))
{
	return (struct subject){ .name = name, .cycle = cycle };
}

static double run_op(const struct subject *s, size_t len)
{
	double t;
	int ret;

	if (s->op)
		return s->op(len);
	t = now();
	ret = s->cycle(len);
	return ret < 0 ? ret : now() - t;
}

static const char *size_name(size_t len)
{
	static char buf[4][24];
	static int i;
	char *b = buf[i++ % 4];

	if (len >= GIB && !(len % GIB))
		snprintf(b, 24, "%zuG", len / GIB);
	else if (len >= MIB && !(len % MIB))
		snprintf(b, 24, "%zuM", len / MIB);
	else
		snprintf(b, 24, "%zuK", len / KIB);
	return b;
}

/*
 * @ops operations of each of @n subjects at @len, one of each in turn,
 * after one of each that is not counted (a warm-up, and a test that the
 * subject works at all). A subject without an operation, or whose
 * operation fails, gets no samples.
 */
static void sample(const char *kase, struct subject *s, int n, size_t len, int ops)
{
	double *v = calloc((size_t)n * ops, sizeof(*v)), t, start = now();
	struct pool before, after;
	bool counted;
	int cnt[n], k, r;
	bool ok[n];

	if (!v)
		return;
	for (k = 0; k < n; k++) {
		s[k].st = none;
		s[k].hits = s[k].misses = 0;
		cnt[k] = 0;
		ok[k] = s[k].cycle || s[k].op;
		if (!ok[k])
			continue;
		pool_prepare(s[k].pool);
		t = run_op(&s[k], len);
		if (t < 0) {
			ok[k] = false;
			if (t != -ENODEV)
				fprintf(stderr, "%s %s %s: %s\n", kase, size_name(len),
					s[k].name, strerror((int)-t));
		}
	}
	for (r = 0; r < ops; r++) {
		for (k = 0; k < n; k++) {
			if (!ok[k])
				continue;
			pool_prepare(s[k].pool);
			counted = pool_default && pool_read(&before);
			t = run_op(&s[k], len);
			if (counted && pool_read(&after)) {
				s[k].hits += after.hits - before.hits;
				s[k].misses += after.misses - before.misses;
			}
			if (t < 0) {
				fprintf(stderr, "%s %s %s: %s in operation %d\n", kase,
					size_name(len), s[k].name, strerror((int)-t), r);
				ok[k] = false;
				cnt[k] = 0;
				continue;
			}
			v[k * ops + cnt[k]++] = t;
		}
	}
	for (k = 0; k < n; k++) {
		s[k].st = summarize(v + k * ops, cnt[k]);
		if (s[k].hits || s[k].misses)
			fprintf(stderr, "%s %s %s: pool hits %llu, misses %llu\n", kase,
				size_name(len), s[k].name, s[k].hits, s[k].misses);
	}
	fprintf(stderr, "%s %s: %d rounds in %.0f s\n", kase, size_name(len), ops,
		now() - start);
	free(v);
}

/* Samples per subject: fewer of the large sizes, whose operations are long. */
static int ops_for(size_t len)
{
	if (quick)
		return len >= 256 * MIB ? 2 : 5;
	if (len >= 256 * MIB)
		return 30;
	if (len >= 16 * MIB)
		return 100;
	if (len >= MIB)
		return 300;
	return 400;
}

/* The floor buffer of @len bytes, mapped and touched; NULL frees it. */
static void floor_set(size_t len, size_t old)
{
	if (floor_buf)
		munmap(floor_buf, old);
	floor_buf = len ? anon_map(len, false) : NULL;
	if (floor_buf)
		memset(floor_buf, 1, len);
}

/* The pinned subjects: one per pool state, or one without a pool. */
static int pinned_subjects(struct subject *s, int (*cycle)(size_t), double (*op)(size_t))
{
	static const char *const names[] = {
		"pinned-pool-warm", "pinned-pool-drained", "pinned-pool-off",
	};
	int k;

	if (!pool_default) {
		s[0] = (struct subject){ .name = "pinned", .cycle = cycle, .op = op };
		return 1;
	}
	for (k = 0; k < 3; k++)
		s[k] = (struct subject){ .name = names[k], .cycle = cycle, .op = op,
					 .pool = (enum pool_state)k };
	return 3;
}

/*
 * Case 1: a PINNED allocation alone (MEMALLOC_ALLOC), against the system
 * heap's (DMA_HEAP_IOCTL_ALLOC) and a memset of as many bytes already
 * mapped and touched. The free is not timed.
 */
static void bench_alloc_only(void)
{
	static const size_t lens[] = { 64 * KIB, MIB, 16 * MIB };
	struct subject s[5];
	unsigned int i;
	int np, k;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i];
		bool one = len == MIB;
		const char *job = one ? "allocation alone" : NULL;

		np = pinned_subjects(s, NULL, pinned_alloc);
		s[np] = (struct subject){ .name = "dma-heap-system",
					  .op = system_heap < 0 ? NULL : system_alloc };
		s[np + 1] = (struct subject){ .name = "memset", .op = memset_time };
		floor_set(len, 0);
		sample("1-alloc-only", s, np + 2, len, ops_for(len));
		floor_set(0, len);
		for (k = 0; k < np; k++) {
			/* The targets are the warm pool's (or, without one, pinned's). */
			bool t = one && k == 0;

			row("1-alloc-only", len, s[k].name, "memset", "s", s[k].st,
			    s[np + 1].st, t ? "<1.0" : "", job);
			row("1-alloc-only", len, s[k].name, "dma-heap-system", "s", s[k].st,
			    s[np].st, t ? "<=0.5" : "", job);
		}
	}
}

/* Case 2: allocate + map + touch every page + unmap + free, against the peers. */
static void bench_cycles(void)
{
	static const size_t sizes[] = { 4 * KIB, 64 * KIB, MIB, 16 * MIB, 256 * MIB };
	enum { SYSTEM, UDMABUF, CMA, MEMFD, HUGETLB, MEMFD_HUGE, THP, MEMSET,
	       CONTIG, LAZY, SUPER, CONTIG_SUPER, NSUB };
	static const char *const pinned_peers[] = { "dma-heap-system", "udmabuf" };
	static const char *const huge_peers[] = {
		"MAP_HUGETLB", "memfd-MFD_HUGETLB", "anon-THP",
	};
	bool contig_super = feat.kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES;
	struct subject s[NSUB + 3], *o;
	unsigned int i, j;
	int np, k;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i];
		bool sum = len >= 64 * KIB;	/* the summary's sizes */
		bool mid = len == 16 * MIB;

		np = pinned_subjects(s, ma_pinned, NULL);
		o = s + np;
		o[SYSTEM] = cycle_subject("dma-heap-system", system_heap < 0 ? NULL : system_cycle);
		o[UDMABUF] = cycle_subject("udmabuf", udmabuf_dev < 0 ? NULL : udmabuf_cycle);
		o[CMA] = cycle_subject("dma-heap-cma",
				       cma_heap < 0 || len > cma_size ? NULL : cma_cycle);
		o[MEMFD] = cycle_subject("memfd", memfd_cycle);
		o[HUGETLB] = cycle_subject("MAP_HUGETLB", hugetlb_cycle);
		o[MEMFD_HUGE] = cycle_subject("memfd-MFD_HUGETLB", memfd_huge_cycle);
		o[THP] = cycle_subject("anon-THP", thp_cycle);
		o[MEMSET] = (struct subject){ .name = "memset", .op = memset_time };
		o[CONTIG] = cycle_subject("contiguous", ma_contig);
		o[LAZY] = cycle_subject("lazy", ma_lazy);
		o[SUPER] = cycle_subject("super-pages", ma_super);
		o[CONTIG_SUPER] = cycle_subject("contiguous-super-pages",
						contig_super ? ma_contig_super : NULL);
		floor_set(len, 0);
		sample("2-cycle", s, np + NSUB, len, ops_for(len));
		floor_set(0, len);

		for (k = 0; k < np; k++) {
			/* Warm and off have the target; drained is shown beside them. */
			const char *t = sum && k != POOL_DRAINED ? "<=1.0" : "";
			const char *job = sum ? "pinned dma-buf cycle" : NULL;

			for (j = 0; j < 2; j++)
				row("2-cycle", len, s[k].name, pinned_peers[j], "s", s[k].st,
				    o[SYSTEM + j].st, j ? "" : t, job);
			if (!k)
				row("2-cycle", len, s[k].name, "memset", "s", s[k].st,
				    o[MEMSET].st, "", NULL);
		}
		row("2-cycle", len, "contiguous", "dma-heap-cma", "s", o[CONTIG].st,
		    o[CMA].st, "<=1.2", len >= MIB ? "contiguous cycle" : NULL);
		/* What contiguity costs over pages from anywhere; the peer without CMA. */
		row("2-cycle", len, "contiguous", "dma-heap-system", "s", o[CONTIG].st,
		    o[SYSTEM].st, "", len >= MIB && o[CMA].st.n == 0 ? "contiguous cycle" : NULL);
		row("2-cycle", len, "lazy", "memfd", "s", o[LAZY].st, o[MEMFD].st, "",
		    mid ? "lazy cycle" : NULL);
		for (j = 0; j < 3; j++)
			row("2-cycle", len, "super-pages", huge_peers[j], "s", o[SUPER].st,
			    o[HUGETLB + j].st, "", mid ? "2 MiB pages cycle" : NULL);
		for (j = 0; j < 3; j++)
			row("2-cycle", len, "contiguous-super-pages", huge_peers[j], "s",
			    o[CONTIG_SUPER].st, o[HUGETLB + j].st, "",
			    len >= 16 * MIB ? "contiguous 2 MiB pages cycle" : NULL);
		row("2-cycle", len, "contiguous-super-pages", "dma-heap-cma", "s",
		    o[CONTIG_SUPER].st, o[CMA].st, "",
		    len >= 16 * MIB ? "contiguous 2 MiB pages cycle" : NULL);
	}
}

/* Case 3: the first touch (a memset) of a fresh mapping of 64 MiB. */
enum backing { B_LAZY, B_SUPER, B_ANON, B_ANON_THP, B_MEMFD };

static double first_touch(enum backing b, size_t len)
{
	double t;
	int fd = -1;
	char *p;

	if (b == B_ANON || b == B_ANON_THP) {
		p = anon_map(len, b == B_ANON_THP);
		if (!p)
			return -ENOMEM;
	} else {
		if (b == B_MEMFD)
			fd = memfd_new(len, 0);
		else
			fd = memalloc_alloc_fd(ma, len, b == B_SUPER ? MEMALLOC_SUPER_PAGES : 0, 0);
		if (fd < 0)
			return fd;
		p = map_fd(fd, len);
		if (!p)
			return -ENOMEM;
	}
	t = now();
	memset(p, 1, len);
	t = now() - t;
	munmap(p, len);
	return t;
}

static double ft_lazy(size_t len) { return first_touch(B_LAZY, len); }
static double ft_super(size_t len) { return first_touch(B_SUPER, len); }
static double ft_anon(size_t len) { return first_touch(B_ANON, len); }
static double ft_thp(size_t len) { return first_touch(B_ANON_THP, len); }
static double ft_memfd(size_t len) { return first_touch(B_MEMFD, len); }

static void bench_first_touch(void)
{
	const size_t len = 64 * MIB;
	struct subject s[] = {
		{ .name = "lazy", .op = ft_lazy },
		{ .name = "super-pages", .op = ft_super },
		{ .name = "anon-4K", .op = ft_anon },
		{ .name = "anon-THP", .op = ft_thp },
		{ .name = "memfd", .op = ft_memfd },
	};

	sample("3-first-touch", s, 5, len, quick ? 2 : 20);
	row("3-first-touch", len, "lazy", "memfd", "s", s[0].st, s[4].st, "<=1.0",
	    "first touch");
	row("3-first-touch", len, "lazy", "anon-4K", "s", s[0].st, s[2].st, "", NULL);
	row("3-first-touch", len, "super-pages", "memfd", "s", s[1].st, s[4].st, "", NULL);
	row("3-first-touch", len, "super-pages", "anon-THP", "s", s[1].st, s[3].st, "", NULL);
}

/*
 * Case 4: map and touch 1 GiB; page faults from getrusage(). A lazy
 * dataspace allocates and zeroes on the touch; a pinned one was filled
 * when it was allocated, so its map and touch is the mapping alone. A
 * second touch of the mapped pages (@again) costs no fault: it is the floor
 * that the TLB, or an emulator's, puts under the first.
 */
static double minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static double map_touch(int fd, size_t len, size_t align, double *faults, double *again)
{
	double t, f = minor_faults();
	char *p;

	t = now();
	p = map_fd_at(fd, len, align);
	if (!p)
		return -ENOMEM;
	touch(p, len);
	t = now() - t;
	*faults = minor_faults() - f;
	if (again) {
		*again = now();
		touch(p, len);
		*again = now() - *again;
	}
	munmap(p, len);
	return t;
}

static void map_1g(const char *kase, const char *job, unsigned int flags, bool again, int n)
{
	double v[2][n], f[2][n], a[2][n];
	int r, k, fd, cnt = 0;

	for (r = 0; r < n; r++) {
		for (k = 0; k < 2; k++) {
			fd = memalloc_alloc_fd(ma, GIB, flags | (k ? MEMALLOC_SUPER_PAGES : 0), 0);
			if (fd < 0)
				goto out;
			v[k][r] = map_touch(fd, GIB, PMD, &f[k][r], &a[k][r]);
			close(fd);
			if (v[k][r] < 0)
				goto out;
		}
		cnt++;
	}
out:
	if (cnt < n)
		fprintf(stderr, "%s: %d of %d runs\n", kase, cnt, n);
	/* 4 KiB over super pages: how many times faster super pages are. */
	row(kase, GIB, "4K-pages", "super-pages", "s", summarize(v[0], cnt),
	    summarize(v[1], cnt), ">=5", job);
	row(kase, GIB, "4K-pages", "super-pages", "faults", summarize(f[0], cnt),
	    summarize(f[1], cnt), "", NULL);
	if (again)
		row("4-touch-again-1G", GIB, "4K-pages", "super-pages", "s",
		    summarize(a[0], cnt), summarize(a[1], cnt), "", NULL);
}

/* A 1 GiB page of hugetlb's, reserved at boot: mmap and touch it. */
static char *huge_1g(void)
{
	char *p = mmap(NULL, GIB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	touch(p, GIB);
	return p;
}

static long sysfs_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * 1 GiB mappings: a contiguous super-page dataspace of 1 GiB aligned to
 * 1 GiB, mapped with one PUD entry, against a 1 GiB hugetlb page
 * (MAP_HUGE_1GB). Map + touch takes the dataspace allocated beforehand,
 * while hugetlb takes its page from the boot-time reserve and zeroes it
 * on the first touch; the whole cycle (allocate, map, touch, unmap, free)
 * compares like with like.
 */
static void bench_1g_pages(int n)
{
	const unsigned int flags = MEMALLOC_CONTINUOUS | MEMALLOC_SUPER_PAGES;
	double mt[2][n], cy[2][n], f[2][n], t;
	int r, fd, cnt = 0;
	char *p;

	if (!(feat.pud_kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES) ||
	    sysfs_long("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages") < 1)
		return;
	for (r = 0; r < n; r++) {
		fd = memalloc_alloc_fd(ma, GIB, flags, 30);
		if (fd < 0)
			break;
		mt[0][r] = map_touch(fd, GIB, GIB, &f[0][r], NULL);
		close(fd);

		f[1][r] = minor_faults();
		t = now();
		p = huge_1g();
		mt[1][r] = now() - t;
		f[1][r] = minor_faults() - f[1][r];
		if (!p)
			break;
		munmap(p, GIB);

		t = now();
		fd = memalloc_alloc_fd(ma, GIB, flags, 30);
		if (fd >= 0) {
			p = map_fd_at(fd, GIB, GIB);
			close(fd);
			if (p) {
				touch(p, GIB);
				munmap(p, GIB);
			}
		}
		cy[0][r] = now() - t;
		if (fd < 0 || !p)
			break;

		t = now();
		p = huge_1g();
		if (!p)
			break;
		munmap(p, GIB);
		cy[1][r] = now() - t;
		if (mt[0][r] < 0)
			break;
		cnt++;
	}
	if (cnt < n)
		fprintf(stderr, "4-1G-pages: %d of %d runs\n", cnt, n);
	row("4-map-touch-1G", GIB, "contiguous-super-pages", "MAP_HUGE_1GB", "s",
	    summarize(mt[0], cnt), summarize(mt[1], cnt), "", "1 GiB page: map + touch");
	row("4-map-touch-1G", GIB, "contiguous-super-pages", "MAP_HUGE_1GB", "faults",
	    summarize(f[0], cnt), summarize(f[1], cnt), "", NULL);
	row("4-alloc-map-touch-free-1G", GIB, "contiguous-super-pages", "MAP_HUGE_1GB",
	    "s", summarize(cy[0], cnt), summarize(cy[1], cnt), "", "1 GiB page: whole cycle");
}

static void bench_map_1g(void)
{
	int n = quick ? 1 : 5;

	map_1g("4-map-touch-1G-lazy", "1 GiB lazy: map + touch", 0, false, n);
	map_1g("4-map-touch-1G-pinned", "1 GiB pinned: map + touch", MEMALLOC_PINNED, true, n);
	bench_1g_pages(n);
}

/* Case 5: contiguous blocks out of fragmented memory. */
static long meminfo(const char *field)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = atol(line + strlen(field) + 1);
	fclose(f);
	return v;
}

/* One attempt at a contiguous block: seconds, or < 0 if it failed. */
static double contig_attempt(size_t len, bool cma)
{
	double t = now();
	int fd = cma ? heap_alloc(cma_heap, len) :
		       memalloc_alloc_fd(ma, len, MEMALLOC_CONTINUOUS, 0);

	return alloc_time(fd, t);
}

/*
 * Free memory (less some room) filled with 4 KiB pages of which every
 * other one is freed: no free block above 4 KiB but in the room. The
 * attempts, memalloc's and the CMA heap's in turn, each free their block
 * before the next, so later attempts find memory as the earlier ones left
 * it: the first is the search through fragmented memory (the max, as a
 * rule), the rest show how it goes from there.
 */
static void bench_fragmented(void)
{
	static const size_t lens[] = { 2 * MIB, 16 * MIB, 256 * MIB };
	const int n = quick ? 3 : 30;
	long avail = meminfo("MemAvailable");
	double v[2][n], t;
	int cnt[2], r, k;
	size_t fill, i;
	char *p;

	if (avail < 0)
		return;
	fill = (avail * KIB > 768 * MIB ? avail * KIB - 768 * MIB : 0) / page * page;
	p = anon_map(fill, false);
	if (!p)
		return;
	touch(p, fill);
	for (i = 0; i < fill; i += 2 * page)
		madvise(p + i, page, MADV_DONTNEED);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i];
		bool cma = cma_heap >= 0 && len <= cma_size;
		struct stats ok[2] = { { .n = n }, { .n = cma ? n : 0 } };

		cnt[0] = cnt[1] = 0;
		for (r = 0; r < n; r++) {
			for (k = 0; k < 1 + cma; k++) {
				t = contig_attempt(len, k);
				if (t >= 0)
					v[k][cnt[k]++] = t;
				else
					fprintf(stderr, "5-fragmented %s %s: attempt %d: %s\n",
						size_name(len), k ? "dma-heap-cma" : "contiguous",
						r, strerror((int)-t));
			}
		}
		ok[0].p50 = cnt[0];
		ok[1].p50 = cnt[1];
		row("5-fragmented-success", len, "contiguous", cma ? "dma-heap-cma" : "-",
		    "success", ok[0], ok[1], "", "fragmented: successes");
		if (cma)
			row("5-fragmented", len, "contiguous", "dma-heap-cma", "s",
			    summarize(v[0], cnt[0]), summarize(v[1], cnt[1]), "<=1.2",
			    "fragmented: contiguous");
		else
			row("5-fragmented", len, "contiguous", "-", "s",
			    summarize(v[0], cnt[0]), none, "", "fragmented: contiguous");
	}
	munmap(p, fill);
}

/*
 * Case 6: 1 or 2 processes allocating and freeing 1 MiB at once for a
 * while: operations per second of them all, and the time of each
 * operation. memalloc's runs start with the pool warm; during a run it
 * empties, and refills only where a CPU is idle.
 */
#define OPS_CAP 4096

static int pinned_fd(size_t len) { return memalloc_alloc_fd(ma, len, MEMALLOC_PINNED, 0); }
static int system_fd(size_t len) { return heap_alloc(system_heap, len); }

/* One run of @nproc processes for @seconds: ops/s; their times into @lat. */
static double procs_run(int nproc, int (*alloc)(size_t), double seconds,
			double *lat, int *nlat)
{
	size_t bytes = (size_t)nproc * (OPS_CAP + 1) * sizeof(double);
	double *shm = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double start, total = 0;
	int c, i;

	if (shm == MAP_FAILED)
		return -ENOMEM;
	/* A start time after every fork, so that they run side by side. */
	start = now() + 0.1 * nproc;
	for (c = 0; c < nproc; c++) {
		if (fork() == 0) {
			double *mine = shm + c * (OPS_CAP + 1), t, n = 0;
			int fd;

			while (now() < start)
				;
			while ((t = now()) < start + seconds) {
				fd = alloc(MIB);
				if (fd < 0)
					_exit(1);
				close(fd);
				if (n < OPS_CAP)
					mine[1 + (int)n] = now() - t;
				n++;
			}
			mine[0] = n;
			_exit(0);
		}
	}
	for (c = 0; c < nproc; c++)
		wait(NULL);
	for (c = 0; c < nproc; c++) {
		double *theirs = shm + c * (OPS_CAP + 1);

		total += theirs[0];
		for (i = 0; i < theirs[0] && i < OPS_CAP; i++)
			lat[(*nlat)++] = theirs[1 + i];
	}
	munmap(shm, bytes);
	return total / seconds;
}

static void bench_processes(void)
{
	const int runs = quick ? 2 : 10;
	const double seconds = quick ? 0.3 : 1;
	size_t cap = (size_t)runs * 2 * OPS_CAP;
	double *lat[2], rate[2][runs];
	char rkase[32], okase[32], job[48];
	unsigned long long hits, misses;
	struct pool before, after;
	bool counted;
	int nproc, r, k, nlat[2];

	if (system_heap < 0)
		return;
	lat[0] = malloc(cap * sizeof(double));
	lat[1] = malloc(cap * sizeof(double));
	if (!lat[0] || !lat[1])
		goto out;
	for (nproc = 1; nproc <= 2; nproc++) {
		nlat[0] = nlat[1] = 0;
		hits = misses = 0;
		for (r = 0; r < runs; r++) {
			for (k = 0; k < 2; k++) {
				pool_warm();
				counted = !k && pool_default && pool_read(&before);
				rate[k][r] = procs_run(nproc, k ? system_fd : pinned_fd,
						       seconds, lat[k], &nlat[k]);
				if (counted && pool_read(&after)) {
					hits += after.hits - before.hits;
					misses += after.misses - before.misses;
				}
			}
		}
		snprintf(rkase, sizeof(rkase), "6-rate-%d-process%s", nproc,
			 nproc > 1 ? "es" : "");
		snprintf(okase, sizeof(okase), "6-op-%d-process%s", nproc,
			 nproc > 1 ? "es" : "");
		snprintf(job, sizeof(job), "%d process%s allocating 1 MiB", nproc,
			 nproc > 1 ? "es" : "");
		/* Whether the pool kept up, or each allocation zeroed its memory. */
		if (hits || misses)
			fprintf(stderr, "%s: pool hits %llu, misses %llu\n", rkase, hits, misses);
		row(rkase, MIB, "pinned", "dma-heap-system", "ops/s",
		    summarize_rate(rate[0], runs), summarize_rate(rate[1], runs), ">=1.0", job);
		row(okase, MIB, "pinned", "dma-heap-system", "s", summarize(lat[0], nlat[0]),
		    summarize(lat[1], nlat[1]), "", NULL);
	}
out:
	free(lat[0]);
	free(lat[1]);
}

/*
 * Case 8: the PINNED cycle of case 2 in its parts, against the system
 * heap's: the allocation; mmap() (of an address reserved PROT_NONE first,
 * as case 2 maps) and close(); a touch of every page (for memalloc the one
 * fault that maps the whole vma; the heap maps its pages in mmap());
 * munmap(), which unmaps and, the fd being closed, frees. Where a whole
 * cycle is slower, this shows in which part. With the pool warm, the
 * allocation takes a chunk and the pool's thread refills it beside the
 * parts that follow; pinned-pool-refilled waits (spinning, untimed) for
 * that refill before them, and is compared with pinned-pool-warm too.
 * The "-after-idle" subjects sleep 5 ms before each cycle, so that it
 * begins on a CPU that was idle; they are compared with the heap after
 * idle. The subjects take their turns in an order shuffled each round, so
 * that none always follows the same one's setup; a first round is not
 * counted. A sample during which a wait for the pool timed out is dropped
 * and counted in the notes.
 */
enum { PHASE_ALLOC, PHASE_MAP, PHASE_TOUCH, PHASE_UNMAP, NPHASE };

/*
 * One cycle of PINNED (@pinned) or of the system heap, its parts in @t;
 * @refilled: wait until the pool is full again after the allocation;
 * @idle: sleep first.
 */
static int phase_cycle(bool pinned, bool refilled, bool idle, size_t len,
		       double t[NPHASE])
{
	double t0;
	int fd;

	if (idle)
		usleep(5000);
	t0 = now();
	fd = pinned ? memalloc_alloc_fd(ma, len, MEMALLOC_PINNED, 0) :
		      heap_alloc(system_heap, len);
	if (fd < 0)
		return fd;
	t[PHASE_ALLOC] = now() - t0;
	if (refilled && !pool_wait(pool_full(), true, POOL_WAIT))
		pool_timeouts++;
	return fd_cycle_parts(fd, len, t + PHASE_MAP);
}

static void bench_phases(void)
{
	static const size_t lens[] = { 64 * KIB, MIB, 16 * MIB, 256 * MIB };
	static const char *const kases[NPHASE] = {
		"8-phase-alloc", "8-phase-mmap", "8-phase-touch", "8-phase-munmap-free",
	};
	enum { HEAP, OFF, WARM, REFILLED, HEAP_IDLE, OFF_IDLE, WARM_IDLE, NSUB };
	static const struct {
		const char *name, *alone;	/* its name; without a pool */
		enum pool_state pool;
		bool pinned, refilled, idle;
		int base, base2;		/* compared with; -1: none */
	} sub[NSUB] = {
		[HEAP] = { "dma-heap-system", NULL, POOL_WARM, false, false, false, -1, -1 },
		[OFF] = { "pinned-pool-off", "pinned", POOL_OFF, true, false, false, HEAP, -1 },
		[WARM] = { "pinned-pool-warm", NULL, POOL_WARM, true, false, false, HEAP, -1 },
		[REFILLED] = { "pinned-pool-refilled", NULL, POOL_WARM, true, true, false,
			       HEAP, WARM },
		[HEAP_IDLE] = { "dma-heap-system-after-idle", NULL, POOL_WARM, false, false,
				true, HEAP, -1 },
		[OFF_IDLE] = { "pinned-pool-off-after-idle", "pinned-after-idle", POOL_OFF,
			       true, false, true, HEAP_IDLE, -1 },
		[WARM_IDLE] = { "pinned-pool-warm-after-idle", NULL, POOL_WARM, true, false,
				true, HEAP_IDLE, -1 },
	};
	unsigned int seed = 8, i;
	int ops, r, k, j, x, order[NSUB], cnt[NSUB], dropped[NSUB], err[NSUB], timeouts;
	double t[NPHASE], *v;

	if (system_heap < 0)
		return;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		ops = ops_for(lens[i]);
		v = calloc((size_t)NSUB * NPHASE * ops, sizeof(*v));
		if (!v)
			return;
		for (k = 0; k < NSUB; k++) {
			cnt[k] = dropped[k] = err[k] = 0;
			order[k] = k;
		}
		/* Round -1 is the uncounted first one. */
		for (r = -1; r < ops; r++) {
			for (k = NSUB - 1; k > 0; k--) {
				j = rand_r(&seed) % (k + 1);
				x = order[k];
				order[k] = order[j];
				order[j] = x;
			}
			for (x = 0; x < NSUB; x++) {
				k = order[x];
				/* Without a pool, pinned is measured as pool-off only. */
				if (err[k] || (!pool_default && sub[k].pool == POOL_WARM &&
					       sub[k].pinned))
					continue;
				timeouts = pool_timeouts;
				pool_prepare(sub[k].pool);
				err[k] = phase_cycle(sub[k].pinned, sub[k].refilled,
						     sub[k].idle, lens[i], t);
				if (err[k]) {
					/* A subject that fails gives no row, as in sample(). */
					fprintf(stderr, "8-phase %s %s: %s\n", size_name(lens[i]),
						sub[k].name, strerror(-err[k]));
					cnt[k] = 0;
					continue;
				}
				if (pool_timeouts != timeouts) {
					dropped[k]++;
					continue;
				}
				if (r < 0)
					continue;
				for (j = 0; j < NPHASE; j++)
					v[(k * NPHASE + j) * ops + cnt[k]] = t[j];
				cnt[k]++;
			}
		}
		for (k = 0; k < NSUB; k++) {
			const char *name = pool_default || !sub[k].alone ? sub[k].name :
					   sub[k].alone;

			if (dropped[k])
				fprintf(stderr, "8-phase %s %s: %d samples dropped, %s\n",
					size_name(lens[i]), name, dropped[k],
					"a wait for the pool timed out");
			for (x = 0; x < 2; x++) {
				int b = x ? sub[k].base2 : sub[k].base;

				if (b < 0)
					continue;
				for (j = 0; j < NPHASE; j++)
					row(kases[j], lens[i], name,
					    pool_default || !sub[b].alone ? sub[b].name :
					    sub[b].alone, "s",
					    summarize(v + (k * NPHASE + j) * ops, cnt[k]),
					    summarize(v + (b * NPHASE + j) * ops, cnt[b]),
					    "", NULL);
			}
		}
		free(v);
	}
}

/*
 * Case 7: a contiguous request that cannot be met: 1 GiB while movable
 * pages of another process leave less than that free, with nothing for
 * reclaim to free. Such a search would isolate range after range and
 * migrate pages out of each until there was nowhere left to put them;
 * the module sees there is no room to move them into and does not begin
 * it. Seconds until the request fails (in a child killed after
 * CONTIG_WORST_LIMIT seconds, whose kill a search must notice), against a
 * memset of the same bytes.
 */
#define CONTIG_WORST_LIMIT 120

static double contig_fail_time(size_t len, int *err)
{
	double t = now();
	int status;
	pid_t child = fork();

	if (!child) {
		alarm(CONTIG_WORST_LIMIT);
		_exit(-memalloc_alloc_fd(ma, len, MEMALLOC_CONTINUOUS, 0) & 0xff);
	}
	if (child < 0 || waitpid(child, &status, 0) != child)
		return -1;
	*err = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
	return now() - t;
}

static void bench_contig_worst(void)
{
	const size_t len = GIB;
	const int n = quick ? 1 : 3;
	struct stats e = { .n = 1 };
	double v[n], m[n];
	long avail;
	size_t fill;
	char *p;
	int r, err = 0;

	floor_set(len, 0);
	for (r = 0; r < n; r++)
		m[r] = memset_time(len);
	floor_set(0, len);
	avail = meminfo("MemAvailable");
	if (m[0] < 0 || avail < 0 || (size_t)avail * KIB < len)
		return;
	fill = ((size_t)avail * KIB - len / 2) / page * page;
	p = anon_map(fill, false);
	if (!p)
		return;
	touch(p, fill);
	for (r = 0; r < n; r++)
		v[r] = contig_fail_time(len, &err);
	munmap(p, fill);
	/* The request must have failed (ENOMEM, or the kill), or it says nothing. */
	if (err == 0)
		return;
	e.p50 = e.p90 = e.p99 = e.min = e.max = err;
	row("7-contig-worst-errno", len, "contiguous-fails", "-", "errno", e, none, "", NULL);
	row("7-contig-worst", len, "contiguous-fails", "memset", "s", summarize(v, n),
	    summarize(m, n), "", "contiguous request that cannot be met");
}

/* The dma-buf heaps: "system", and the CMA one (any other name); udmabuf. */
static void open_peers(void)
{
	struct dirent *d;
	char path[300];
	DIR *dir = opendir("/dev/dma_heap");
	long cma = meminfo("CmaTotal");

	udmabuf_dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	cma_size = cma > 0 ? cma * KIB : 0;
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/dev/dma_heap/%s", d->d_name);
		if (!strcmp(d->d_name, "system"))
			system_heap = open(path, O_RDONLY | O_CLOEXEC);
		else if (cma_heap < 0)
			cma_heap = open(path, O_RDONLY | O_CLOEXEC);
	}
	closedir(dir);
}

/* In this order: case 5 last, as it leaves memory fragmented. */
static const struct {
	char digit;
	void (*fn)(void);
} cases[] = {
	{ '1', bench_alloc_only }, { '2', bench_cycles }, { '3', bench_first_touch },
	{ '4', bench_map_1g }, { '6', bench_processes }, { '7', bench_contig_worst },
	{ '8', bench_phases }, { '5', bench_fragmented },
};

int main(int argc, char **argv)
{
	const char *only = argc > 2 ? argv[2] : "12345678";
	const char *q = getenv("BENCH_QUICK");
	struct pool p;
	unsigned int i;
	double t;
	int ret;

	kernel_name = argc > 1 ? argv[1] : "guest";
	quick = q && *q && strcmp(q, "0");
	page = sysconf(_SC_PAGESIZE);
	ret = memalloc_open(&ma);
	if (!ret)
		ret = memalloc_features(ma, &feat);
	if (ret) {
		fprintf(stderr, "memalloc_bench: %s\n", memalloc_strerror(ret));
		return 1;
	}
	open_peers();
	pool_default = pool_read(&p) ? pool_param() : 0;
	fprintf(stderr, "pool_size %lu; kinds %#x, pud kinds %#x; system heap %s, "
		"CMA heap %zu MiB, udmabuf %s\n", pool_default, feat.kinds,
		feat.pud_kinds, system_heap < 0 ? "no" : "yes", cma_heap < 0 ? 0 : cma_size / MIB,
		udmabuf_dev < 0 ? "no" : "yes");
	printf("kernel,case,size,subject,baseline,unit,n,p50,p90,p99,min,max,"
	       "base_n,base_p50,base_p90,base_p99,base_min,base_max,ratio,ratio_p99,"
	       "target,met,job\n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!strchr(only, cases[i].digit))
			continue;
		t = now();
		cases[i].fn();
		fprintf(stderr, "case %c: %.0f s\n", cases[i].digit, now() - t);
	}
	if (pool_default)
		pool_set(pool_default);
	if (pool_timeouts)
		fprintf(stderr, "the pool did not fill or empty within %.0f s %d times\n",
			POOL_WAIT, pool_timeouts);
	memalloc_close(ma);
	return 0;
}
