// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc benchmarks: memalloc against its peers, side by side in one
 * boot. Every figure is the median of RUNS runs (with min and max), and
 * every comparison a ratio to a baseline measured in the same boot.
 * Prints CSV on stdout:
 *
 *   case,size,subject,baseline,unit,median,min,max,base_median,base_min,
 *   base_max,ratio,target,met
 *
 * ratio is subject/baseline for times and rates alike; target says which
 * way is better ("<=1.0": at most, ">=5": at least), met is yes, no or -.
 * Peers the kernel lacks (dma-buf heaps, hugetlb pages) give no row.
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

#include "memalloc.h"

#define KIB 1024ul
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define PMD (2 * MIB)
#define RUNS 5

static struct memalloc *ma;
static int system_heap = -1, cma_heap = -1;
static size_t cma_size;
static size_t page;

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

/* Map @fd shared at a PMD-aligned address. */
static char *map_fd(int fd, size_t len)
{
	void *at = reserve(len, PMD);
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

/* One subject: allocate @len, map it, touch every page, free it. */
typedef int (*cycle_fn)(size_t len);

static int fd_cycle(int fd, size_t len)
{
	char *p;

	if (fd < 0)
		return fd;
	p = map_fd(fd, len);
	close(fd);
	if (!p)
		return -ENOMEM;
	touch(p, len);
	munmap(p, len);
	return 0;
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

/* Allocate and free only, without mapping: what zeroing and bookkeeping cost. */
static int close_fd(int fd)
{
	return fd < 0 ? fd : close(fd);
}

static int ma_pinned_only(size_t len) { return close_fd(memalloc_alloc_fd(ma, len, MEMALLOC_PINNED, 0)); }
static int system_only(size_t len) { return close_fd(heap_alloc(system_heap, len)); }
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

struct stats {
	double med, min, max;
	bool ok;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct stats summarize(double *v, int n)
{
	struct stats s = { .ok = n > 0 };

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), cmp_double);
	s.min = v[0];
	s.max = v[n - 1];
	s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

/* Cycles per run: 16 MiB worth, 1 to 256 of them. */
static int iterations(size_t len)
{
	size_t n = 16 * MIB / len;

	return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

/*
 * Seconds per cycle of each of @n subjects at @len: RUNS runs of enough
 * cycles each, taken in turn (run 1 of every subject, then run 2, ...), so
 * that a slow spell of the host falls on subjects and baselines alike. A
 * subject without a function, or whose cycle fails, has no figure.
 */
static void time_cycles(const cycle_fn *fn, struct stats *st, int n, size_t len)
{
	double v[n][RUNS], t;
	bool ok[n];
	int iters = iterations(len), k, r, i;

	for (k = 0; k < n; k++)	/* warm up, and see that it works at all */
		ok[k] = fn[k] && !fn[k](len);
	for (r = 0; r < RUNS; r++)
		for (k = 0; k < n; k++) {
			if (!ok[k])
				continue;
			t = now();
			for (i = 0; i < iters && ok[k]; i++)
				ok[k] = !fn[k](len);
			v[k][r] = (now() - t) / iters;
		}
	for (k = 0; k < n; k++)
		st[k] = ok[k] ? summarize(v[k], RUNS) : (struct stats){ .ok = false };
}

static const char *kernel_name;

static void row(const char *kase, size_t size, const char *subject,
		const char *baseline, const char *unit, struct stats s,
		struct stats b, const char *target)
{
	double ratio = s.med / b.med;
	const char *met = "-";

	if (!s.ok || !b.ok)
		return;
	if (target[0] == '<')
		met = ratio <= atof(target + 2) ? "yes" : "no";
	else if (target[0] == '>')
		met = ratio >= atof(target + 2) ? "yes" : "no";
	printf("%s,%s,%zu,%s,%s,%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.3f,%s,%s\n",
	       kernel_name, kase, size, subject, baseline, unit, s.med, s.min, s.max,
	       b.med, b.min, b.max, ratio, target, met);
	fflush(stdout);
}

static const size_t sizes[] = { 4 * KIB, 64 * KIB, MIB, 16 * MIB, 256 * MIB };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* The floor: a memset of @len bytes already mapped and touched. */
static char *floor_buf;

static int memset_cycle(size_t len)
{
	if (!floor_buf)
		return -ENOMEM;
	memset(floor_buf, 0, len);
	__asm__ volatile("" : : "r"(floor_buf) : "memory");
	return 0;
}

/* Cases 1 and 2: allocate + map + touch + free; and the memset floor. */
static void bench_cycles(void)
{
	static const char *const peer[] = {
		"dma-heap-system", "dma-heap-cma", "memfd", "MAP_HUGETLB",
		"memfd-MFD_HUGETLB", "anon-THP",
	};
	enum { PINNED, CONTIG, LAZY, SUPER, PEERS, PINNED_ONLY = PEERS + 6,
	       SYSTEM_ONLY, FLOOR, N };
	cycle_fn fn[N] = {
		ma_pinned, ma_contig, ma_lazy, ma_super,
		system_cycle, cma_cycle, memfd_cycle, hugetlb_cycle,
		memfd_huge_cycle, thp_cycle, ma_pinned_only, system_only,
		memset_cycle,
	};
	struct stats st[N], floor;
	unsigned int i, k;
	size_t len;

	for (i = 0; i < NSIZES; i++) {
		len = sizes[i];
		fn[PEERS + 1] = len > cma_size ? NULL : cma_cycle;
		floor_buf = anon_map(len, false);
		if (floor_buf)
			memset(floor_buf, 1, len);
		time_cycles(fn, st, N, len);
		if (floor_buf)
			munmap(floor_buf, len);
		floor = st[FLOOR];
		row("1-alloc-free-only", len, "pinned", peer[0], "s", st[PINNED_ONLY],
		    st[SYSTEM_ONLY], "");
		/* The floor target is the allocation's; the full cycle is shown too. */
		row("2-floor-alloc-free-only", len, "pinned", "memset", "s", st[PINNED_ONLY],
		    floor, len >= MIB ? "<=1.25" : "");
		row("1-alloc-map-touch-free", len, "pinned", peer[0], "s", st[PINNED],
		    st[PEERS], len >= 64 * KIB ? "<=1.0" : "");
		row("1-alloc-map-touch-free", len, "contiguous", peer[1], "s", st[CONTIG],
		    st[PEERS + 1], "<=1.2");
		row("1-alloc-map-touch-free", len, "lazy", peer[2], "s", st[LAZY],
		    st[PEERS + 2], "");
		for (k = 3; k < 6; k++)
			row("1-alloc-map-touch-free", len, "super-pages", peer[k], "s",
			    st[SUPER], st[PEERS + k], "");
		row("2-floor", len, "pinned", "memset", "s", st[PINNED], floor,
		    len >= MIB ? "<=1.25" : "");
		row("2-floor", len, "contiguous", "memset", "s", st[CONTIG], floor,
		    len >= MIB ? "<=1.25" : "");
		row("2-floor", len, "lazy", "memset", "s", st[LAZY], floor, "");
		row("2-floor", len, "super-pages", "memset", "s", st[SUPER], floor, "");
	}
}

/* Case 3: GiB/s of first touch (a memset of a fresh mapping). */
enum backing { B_LAZY, B_SUPER, B_ANON, B_ANON_THP, B_MEMFD };

static char *fresh(enum backing b, size_t len, int *fd)
{
	*fd = -1;
	switch (b) {
	case B_LAZY:
		*fd = memalloc_alloc_fd(ma, len, 0, 0);
		break;
	case B_SUPER:
		*fd = memalloc_alloc_fd(ma, len, MEMALLOC_SUPER_PAGES, 0);
		break;
	case B_MEMFD:
		*fd = memfd_new(len, 0);
		break;
	default:
		return anon_map(len, b == B_ANON_THP);
	}
	return *fd < 0 ? NULL : map_fd(*fd, len);
}

static struct stats touch_rate(enum backing b, size_t len)
{
	double v[RUNS], t;
	int r, fd;
	char *p;

	for (r = 0; r < RUNS; r++) {
		p = fresh(b, len, &fd);
		if (!p)
			return (struct stats){ .ok = false };
		t = now();
		memset(p, 1, len);
		v[r] = len / (now() - t) / GIB;
		munmap(p, len);
		if (fd >= 0)
			close(fd);
	}
	return summarize(v, RUNS);
}

static void bench_first_touch(void)
{
	const size_t len = 64 * MIB;
	struct stats lazy = touch_rate(B_LAZY, len), super = touch_rate(B_SUPER, len);
	struct stats anon = touch_rate(B_ANON, len), thp = touch_rate(B_ANON_THP, len);
	struct stats memfd = touch_rate(B_MEMFD, len);

	row("3-first-touch", len, "lazy", "memfd", "GiB/s", lazy, memfd, ">=1.0");
	row("3-first-touch", len, "lazy", "anon-4K", "GiB/s", lazy, anon, "");
	row("3-first-touch", len, "super-pages", "memfd", "GiB/s", super, memfd, "");
	row("3-first-touch", len, "super-pages", "anon-THP", "GiB/s", super, thp, "");
}

/*
 * Case 4: map and touch 1 GiB; page faults from getrusage(). A lazy
 * dataspace allocates and zeroes on the touch; a pinned one was filled
 * when it was allocated, so its map and touch is the mapping alone. A
 * second touch of the mapped pages (@again) costs no fault: it is the floor
 * that the TLB, or an emulator's, puts under the first.
 */
static struct stats map_touch(unsigned int flags, size_t len, struct stats *faults,
			      struct stats *again)
{
	double v[RUNS], f[RUNS], a2[RUNS], t;
	struct rusage a, b;
	int r, fd;
	char *p;

	for (r = 0; r < RUNS; r++) {
		fd = memalloc_alloc_fd(ma, len, flags, 0);
		if (fd < 0)
			return (struct stats){ .ok = false };
		getrusage(RUSAGE_SELF, &a);
		t = now();
		p = map_fd(fd, len);
		if (!p)
			return (struct stats){ .ok = false };
		touch(p, len);
		v[r] = now() - t;
		getrusage(RUSAGE_SELF, &b);
		f[r] = b.ru_minflt - a.ru_minflt + b.ru_majflt - a.ru_majflt;
		t = now();
		touch(p, len);
		a2[r] = now() - t;
		munmap(p, len);
		close(fd);
	}
	*faults = summarize(f, RUNS);
	*again = summarize(a2, RUNS);
	return summarize(v, RUNS);
}

static void map_1g(const char *kase, unsigned int flags, bool again)
{
	struct stats f4k, fsup, t4k, tsup, a4k, asup;

	t4k = map_touch(flags, GIB, &f4k, &a4k);
	tsup = map_touch(flags | MEMALLOC_SUPER_PAGES, GIB, &fsup, &asup);
	/* 4 KiB over super pages: how many times faster super pages are. */
	row(kase, GIB, "4K-pages", "super-pages", "s", t4k, tsup, ">=5");
	row(kase, GIB, "4K-pages", "super-pages", "faults", f4k, fsup, "");
	if (again)
		row("4-touch-again-1G", GIB, "4K-pages", "super-pages", "s", a4k, asup, "");
}

static void bench_map_1g(void)
{
	map_1g("4-map-touch-1G-lazy", 0, false);
	map_1g("4-map-touch-1G-pinned", MEMALLOC_PINNED, true);
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

static void contig_attempts(size_t len, bool cma, struct stats *lat, struct stats *rate)
{
	double v[RUNS], ok[RUNS], t;
	int r, n = 0, fd;

	for (r = 0; r < RUNS; r++) {
		t = now();
		fd = cma ? heap_alloc(cma_heap, len) : memalloc_alloc_fd(ma, len, MEMALLOC_CONTINUOUS, 0);
		t = now() - t;
		ok[r] = fd >= 0;
		if (fd >= 0) {
			v[n++] = t;
			close(fd);
		}
	}
	*lat = summarize(v, n);
	*rate = summarize(ok, RUNS);
	rate->med = 0;
	for (r = 0; r < RUNS; r++)
		rate->med += ok[r] / RUNS;
}

static void bench_fragmented(void)
{
	static const size_t lens[] = { 16 * MIB, 64 * MIB, 256 * MIB };
	long avail = meminfo("MemAvailable");
	size_t fill, i;
	char *p;

	if (avail < 0)
		return;
	/* Fill free memory (less some room) with 4 KiB pages, free every other. */
	fill = (avail * KIB > 768 * MIB ? avail * KIB - 768 * MIB : 0) / page * page;
	p = anon_map(fill, false);
	if (!p)
		return;
	touch(p, fill);
	for (i = 0; i < fill; i += 2 * page)
		madvise(p + i, page, MADV_DONTNEED);
	for (i = 0; i < 3; i++) {
		struct stats ml, mr, cl = { 0 }, cr = { 0 };

		contig_attempts(lens[i], false, &ml, &mr);
		if (cma_heap >= 0 && lens[i] <= cma_size)
			contig_attempts(lens[i], true, &cl, &cr);
		else
			cr.ok = cl.ok = false;
		printf("%s,5-fragmented,%zu,contiguous,-,success,%.0f/%d,,,,,,,,\n", kernel_name,
		       lens[i], mr.med * RUNS, RUNS);
		if (cr.ok)
			printf("%s,5-fragmented,%zu,dma-heap-cma,-,success,%.0f/%d,,,,,,,,\n",
			       kernel_name, lens[i], cr.med * RUNS, RUNS);
		row("5-fragmented", lens[i], "contiguous", "dma-heap-cma", "s", ml, cl, "<=1.2");
		if (ml.ok && !cl.ok)
			printf("%s,5-fragmented,%zu,contiguous,-,s,%.6g,%.6g,%.6g,,,,,,\n",
			       kernel_name, lens[i], ml.med, ml.min, ml.max);
	}
	munmap(p, fill);
}

/*
 * Case 7: the worst case of the contiguous search, a request that cannot
 * be met: 1 GiB while movable pages of another process leave less than
 * that free, so every try isolates a range and migrates pages out of it
 * until there is nowhere left to put them. Seconds until the request fails
 * (in a child killed after CONTIG_WORST_LIMIT seconds, whose kill the
 * search must notice), against a memset of the same bytes.
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
	double v[3], m[3], t;
	long avail;
	size_t fill;
	char *p;
	int r, err = 0;

	floor_buf = anon_map(len, false);
	if (!floor_buf)
		return;
	memset(floor_buf, 1, len);
	for (r = 0; r < 3; r++) {
		t = now();
		memset_cycle(len);
		m[r] = now() - t;
	}
	munmap(floor_buf, len);
	floor_buf = NULL;
	avail = meminfo("MemAvailable");
	if (avail < 0 || (size_t)avail * KIB < len)
		return;
	fill = ((size_t)avail * KIB - len / 2) / page * page;
	p = anon_map(fill, false);
	if (!p)
		return;
	touch(p, fill);
	for (r = 0; r < 3; r++)
		v[r] = contig_fail_time(len, &err);
	munmap(p, fill);
	/* The request must have failed (ENOMEM, or the kill), or it says nothing. */
	if (err == 0)
		return;
	printf("%s,7-contig-worst,%zu,contiguous-fails,-,errno,%d,,,,,,,,\n",
	       kernel_name, len, err);
	row("7-contig-worst", len, "contiguous-fails", "memset", "s", summarize(v, 3),
	    summarize(m, 3), "-");
}

/* Case 6: two processes allocating and freeing 1 MiB, operations per second. */
static double ops_for(int (*alloc)(size_t), double seconds)
{
	int pipefd[2], c;
	double total = 0;

	if (pipe(pipefd))
		return 0;
	for (c = 0; c < 2; c++) {
		if (fork() == 0) {
			double end = now() + seconds, n = 0;
			int fd;

			while (now() < end) {
				fd = alloc(MIB);
				if (fd < 0)
					_exit(1);
				close(fd);
				n++;
			}
			if (write(pipefd[1], &n, sizeof(n)) != sizeof(n))
				_exit(1);
			_exit(0);
		}
	}
	for (c = 0; c < 2; c++) {
		double n = 0;

		if (read(pipefd[0], &n, sizeof(n)) == sizeof(n))
			total += n;
		wait(NULL);
	}
	close(pipefd[0]);
	close(pipefd[1]);
	return total / seconds;
}

static int pinned_fd(size_t len) { return memalloc_alloc_fd(ma, len, MEMALLOC_PINNED, 0); }
static int system_fd(size_t len) { return heap_alloc(system_heap, len); }

static void bench_concurrent(void)
{
	double m[RUNS], s[RUNS];
	int r;

	if (system_heap < 0)
		return;
	for (r = 0; r < RUNS; r++) {
		m[r] = ops_for(pinned_fd, 2);
		s[r] = ops_for(system_fd, 2);
	}
	row("6-two-processes-1M", MIB, "pinned", "dma-heap-system", "ops/s",
	    summarize(m, RUNS), summarize(s, RUNS), ">=1.0");
}

/* The dma-buf heaps: "system", and the CMA one (any other name). */
static void open_heaps(void)
{
	struct dirent *d;
	char path[300];
	DIR *dir = opendir("/dev/dma_heap");
	long cma = meminfo("CmaTotal");

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
	cma_size = cma > 0 ? cma * KIB : 0;
}

int main(int argc, char **argv)
{
	const char *only = argc > 2 ? argv[2] : "1234567";
	int ret;

	kernel_name = argc > 1 ? argv[1] : "guest";
	page = sysconf(_SC_PAGESIZE);
	ret = memalloc_open(&ma);
	if (ret) {
		fprintf(stderr, "memalloc_bench: %s\n", memalloc_strerror(ret));
		return 1;
	}
	open_heaps();
	printf("kernel,case,size,subject,baseline,unit,median,min,max,base_median,"
	       "base_min,base_max,ratio,target,met\n");
	if (strchr(only, '1') || strchr(only, '2'))
		bench_cycles();
	if (strchr(only, '3'))
		bench_first_touch();
	if (strchr(only, '4'))
		bench_map_1g();
	if (strchr(only, '6'))
		bench_concurrent();
	if (strchr(only, '7'))
		bench_contig_worst();
	/* Last: it leaves memory fragmented. */
	if (strchr(only, '5'))
		bench_fragmented();
	memalloc_close(ma);
	return 0;
}
