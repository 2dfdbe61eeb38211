// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: what root sees of the module: debugfs's list of
 * dataspaces and its counters, the tracepoints, and the tool's list and
 * stats commands, each checked against what the test itself did. The
 * selftests run one program at a time, so the counters move only by what
 * this test does.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-heap.h>

#include "kselftest_harness.h"
#include "util.h"

#define DEBUGFS "/sys/kernel/debug"
#define DATASPACES DEBUGFS "/memalloc/dataspaces"
#define POOL DEBUGFS "/memalloc/pool"
#define STATS DEBUGFS "/memalloc/stats"
#define DEBUGFS_MAGIC 0x64626720
#define PAGE 4096UL
#define MIB (1024UL * 1024)
#define BUF_MAX (1 << 20)

/* A count the file shows as "?": it was not looked at (a busy dataspace). */
#define UNKNOWN UINT_MAX

/* One line of the dataspaces file. */
struct ds_line {
	uint64_t id;
	long pid;
	char comm[64];
	char kind[32];
	uint64_t size;
	long long resident;		/* -1 for "-", -2 for "?" */
	uint64_t phys_start, phys_end;	/* 0, 0 for "-" or "?" */
	unsigned int handles, mappings, attachments;	/* UNKNOWN for "?" */
	uint64_t allocator;
};

/* The counters of one kind in the stats file. */
struct kind_stats {
	long long live, bytes, allocations, enomem, eintr, edquot, eopnotsupp, other,
		revocations, searches, tries, found, migrated, search_ns;
};

enum { LAZY, SUPER, PINNED, PINNED_SUPER, CONTIG, CONTIG_SUPER, NR_KINDS };
static const char *const kind_names[NR_KINDS] = {
	"lazy", "super", "pinned", "pinned+super", "contig", "contig+super",
};

/* A whole file in a malloc'ed, NUL-terminated buffer, or NULL (errno set). */
static char *slurp(const char *path)
{
	char *buf = malloc(BUF_MAX);
	size_t len = 0;
	ssize_t n;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while ((n = read(fd, buf + len, BUF_MAX - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return buf;
}

/* Root, and debugfs mounted: otherwise the test cannot look. */
#define NEED_DEBUGFS() do {						\
	struct statfs fs;						\
	if (geteuid())							\
		SKIP(return, "debugfs is root's: run as root");		\
	if (statfs(DEBUGFS, &fs) || fs.f_type != DEBUGFS_MAGIC)		\
		SKIP(return, "debugfs is not mounted on " DEBUGFS);	\
} while (0)

/* An allocator's number (MEMALLOC_QUOTA), or 0. */
static uint64_t allocator_id(int a)
{
	struct memalloc_quota q = { .size = sizeof(q) };

	return ioctl(a, MEMALLOC_QUOTA, &q) ? 0 : q.out_id;
}

/* A count of the dataspaces file: 0, or -1 when it is neither a number nor "?". */
static int parse_count(const char *s, unsigned int *out)
{
	char *end;

	if (!strcmp(s, "?")) {
		*out = UNKNOWN;
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	*out = strtoul(s, &end, 10);
	return *end ? -1 : 0;
}

/* Parse one line of the dataspaces file: 0, or -1 when it is not one. */
static int parse_ds_line(const char *line, struct ds_line *d)
{
	char resident[32], phys[64], mappings[16], attachments[16];
	int n = 0;

	memset(d, 0, sizeof(*d));
	if (sscanf(line, "%" SCNu64 " %ld %63s %31s %" SCNu64 " %31s %63s %u %15s %15s %" SCNu64 "%n",
		   &d->id, &d->pid, d->comm, d->kind, &d->size, resident, phys, &d->handles,
		   mappings, attachments, &d->allocator, &n) != 11)
		return -1;
	if (line[n] && line[n] != '\n')
		return -1;
	if (parse_count(mappings, &d->mappings) || parse_count(attachments, &d->attachments))
		return -1;
	d->resident = !strcmp(resident, "-") ? -1 : !strcmp(resident, "?") ? -2 :
		      strtoll(resident, NULL, 10);
	if (strcmp(phys, "-") && strcmp(phys, "?") &&
	    sscanf(phys, "0x%" SCNx64 "-0x%" SCNx64, &d->phys_start, &d->phys_end) != 2)
		return -1;
	return 0;
}

/*
 * The line of this process's dataspace of @size bytes: 1 found, 0 not
 * there, -1 the file cannot be read or has a line that is not one.
 */
static int find_ds(uint64_t size, struct ds_line *out)
{
	char *buf = slurp(DATASPACES), *line, *save;
	struct ds_line d;
	int found = 0;

	if (!buf)
		return -1;
	line = strtok_r(buf, "\n", &save);
	if (!line || strcmp(line, "id pid comm kind size resident phys handles mappings "
			    "attachments allocator")) {
		free(buf);
		return -1;
	}
	while ((line = strtok_r(NULL, "\n", &save))) {
		if (parse_ds_line(line, &d)) {
			found = -1;
			break;
		}
		if (d.pid == getpid() && d.size == size) {
			*out = d;
			found = 1;
		}
	}
	free(buf);
	return found;
}

/* The stats file's counters by kind: 0, or -1. */
static int read_stats(struct kind_stats st[NR_KINDS])
{
	char *buf = slurp(STATS), *line, *save, name[32];
	int k, seen = 0;

	if (!buf)
		return -1;
	line = strtok_r(buf, "\n", &save);
	if (!line || strcmp(line, "kind live bytes allocations ENOMEM EINTR EDQUOT EOPNOTSUPP "
			    "other revocations searches tries found migrated search_ns")) {
		free(buf);
		return -1;
	}
	while ((line = strtok_r(NULL, "\n", &save))) {
		struct kind_stats s;

		if (sscanf(line, "%31s %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld "
			   "%lld %lld", name, &s.live, &s.bytes, &s.allocations, &s.enomem,
			   &s.eintr, &s.edquot, &s.eopnotsupp, &s.other, &s.revocations,
			   &s.searches, &s.tries, &s.found, &s.migrated, &s.search_ns) != 15)
			break;
		for (k = 0; k < NR_KINDS; k++)
			if (!strcmp(name, kind_names[k])) {
				st[k] = s;
				seen |= 1 << k;
			}
	}
	free(buf);
	return seen == (1 << NR_KINDS) - 1 ? 0 : -1;
}

/* This process's command, as the kernel keeps it (15 bytes at most). */
static void own_comm(char *buf, size_t len)
{
	if (read_str("/proc/self/comm", buf, len))
		buf[0] = 0;
}

#define ASSERT_LISTED(size, d) do {					\
	int found_ = find_ds(size, d);					\
	ASSERT_EQ(1, found_) {						\
		TH_LOG("no line for a dataspace of %lu bytes of pid %d in " DATASPACES, \
		       (unsigned long)(size), getpid());		\
	}								\
} while (0)

DEV_FIXTURE(observe);

TEST_F(observe, lazy_dataspace_listed_until_closed)
{
	const uint64_t size = 3 * PAGE + 123;
	struct ds_line d;
	char comm[32];
	int fd, dup_fd;
	char *p;

	NEED_DEBUGFS();
	fd = ds_alloc(self->dev, size, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LISTED(size, &d);
	own_comm(comm, sizeof(comm));
	EXPECT_LT(0, d.id);
	EXPECT_STREQ(comm, d.comm);
	EXPECT_STREQ("lazy", d.kind);
	EXPECT_EQ(0, d.resident);
	EXPECT_EQ(0, d.phys_start);
	EXPECT_EQ(1, d.handles);
	EXPECT_EQ(0, d.mappings);
	EXPECT_EQ(0, d.attachments);
	/* The allocator it was made through: this open of the device. */
	EXPECT_EQ(allocator_id(self->dev), d.allocator);

	/* Touching one page makes it resident; the mapping is counted. */
	p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[PAGE] = 1;
	ASSERT_LISTED(size, &d);
	EXPECT_EQ((long long)PAGE, d.resident);
	EXPECT_EQ(1, d.mappings);

	/* A second handle. */
	dup_fd = ds_dup(self->dev, fd, MEMALLOC_RIGHT_R, 0);
	ASSERT_LE(0, dup_fd);
	ASSERT_LISTED(size, &d);
	EXPECT_EQ(2, d.handles);
	close(dup_fd);
	ASSERT_LISTED(size, &d);
	EXPECT_EQ(1, d.handles);

	munmap(p, 4 * PAGE);
	ASSERT_LISTED(size, &d);
	EXPECT_EQ(0, d.mappings);
	close(fd);
	EXPECT_EQ(0, find_ds(size, &d));
}

TEST_F(observe, the_allocator_column_names_the_one_used)
{
	struct memalloc_factory f = { .size = sizeof(f), .quota = 1 << 20 };
	const uint64_t size = 5 * PAGE + 7;
	struct ds_line d;
	int fd;

	NEED_DEBUGFS();
	ASSERT_EQ(0, ioctl(self->dev, MEMALLOC_FACTORY, &f));
	ASSERT_NE(0, allocator_id(f.out_fd));
	ASSERT_NE(allocator_id(self->dev), allocator_id(f.out_fd));
	fd = ds_alloc(f.out_fd, size, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LISTED(size, &d);
	EXPECT_EQ(allocator_id(f.out_fd), d.allocator);
	/* Revoked, and the child closed: the number stays on the line. */
	EXPECT_EQ(0, ds_free(self->dev, fd));
	close(f.out_fd);
	ASSERT_LISTED(size, &d);
	EXPECT_NE(0, d.allocator);
	EXPECT_EQ(-1, d.resident);
	close(fd);
}

TEST_F(observe, contiguous_shows_its_physical_range)
{
	const uint64_t size = MIB + 5 * PAGE + 7, rounded = MIB + 6 * PAGE;
	struct memalloc_phys ph = { .size = sizeof(ph) };
	struct ds_line d;
	int fd;
	char *p;

	NEED_DEBUGFS();
	fd = ds_alloc(self->dev, size, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ph.fd = fd;
	ASSERT_EQ(0, ds_ioctl(self->dev, MEMALLOC_PHYS, &ph));
	ASSERT_LISTED(size, &d);
	EXPECT_STREQ("contig", d.kind);
	EXPECT_EQ((long long)rounded, d.resident);
	EXPECT_EQ(ph.out_addr, d.phys_start);
	EXPECT_EQ(ph.out_addr + rounded - 1, d.phys_end);

	/* Block mappings are on the dataspace's own inode. */
	p = mmap(NULL, rounded, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_LISTED(size, &d);
	EXPECT_EQ(1, d.mappings);
	munmap(p, rounded);

	/* Revoked: listed while the fd lives, without memory. */
	ASSERT_EQ(0, ds_free(self->dev, fd));
	ASSERT_LISTED(size, &d);
	EXPECT_EQ(-1, d.resident);
	EXPECT_EQ(0, d.phys_start);
	close(fd);
	EXPECT_EQ(0, find_ds(size, &d));
}

TEST_F(observe, kinds_are_named)
{
	static const struct {
		uint32_t flags;
		const char *kind;
	} kinds[] = {
		{ MEMALLOC_PINNED, "pinned" },
		{ MEMALLOC_SUPER_PAGES, "super" },
		{ MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES, "pinned+super" },
		{ MEMALLOC_PINNED | MEMALLOC_WRITE_COMBINE, "pinned+wc" },
		{ MEMALLOC_CONTINUOUS | MEMALLOC_UNCACHED, "contig+uc" },
	};
	struct memalloc_version v;
	struct ds_line d;
	uint64_t size;
	size_t i;
	int fd;

	NEED_DEBUGFS();
	ASSERT_EQ(0, kernel_facts(self->dev, &v));
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		if ((kinds[i].flags & v.out_alloc_flags) != kinds[i].flags)
			continue;
		size = 2 * MIB + 11 * (i + 1);
		fd = ds_alloc(self->dev, size, kinds[i].flags, 0, O_CLOEXEC);
		ASSERT_LE(0, fd) {
			TH_LOG("allocating %s: %s", kinds[i].kind, strerror(-fd));
		}
		ASSERT_LISTED(size, &d);
		EXPECT_STREQ(kinds[i].kind, d.kind);
		close(fd);
	}
}

TEST_F(observe, device_attachment_counted)
{
	struct drm_prime_handle prime = { .flags = O_CLOEXEC };
	struct drm_gem_close gem_close = { 0 };
	const uint64_t size = 2 * PAGE + 1;
	struct ds_line d;
	int vgem, fd;

	NEED_DEBUGFS();
	vgem = open_vgem();
	if (vgem < 0)
		SKIP(return, "no vgem device to import the dataspace");
	fd = ds_alloc(self->dev, size, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	prime.fd = fd;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime));
	ASSERT_LISTED(size, &d);
	EXPECT_EQ(1, d.attachments);
	gem_close.handle = prime.handle;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gem_close));
	ASSERT_LISTED(size, &d);
	EXPECT_EQ(0, d.attachments);
	close(fd);
	close(vgem);
}

TEST_F(observe, stats_move_by_what_was_done)
{
	const uint64_t a = 5 * PAGE + 3, b = 7 * PAGE + 9;
	struct kind_stats before[NR_KINDS], after[NR_KINDS];
	int fa, fb, ret;

	NEED_DEBUGFS();
	ASSERT_EQ(0, read_stats(before)) {
		TH_LOG("cannot read " STATS);
	}
	fa = ds_alloc(self->dev, a, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fa);
	fb = ds_alloc(self->dev, b, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fb);
	/* Refused: no size; and no caching attribute for lazy memory. */
	EXPECT_EQ(-ERANGE, ds_alloc(self->dev, 0, 0, 0, O_CLOEXEC));
	ret = ds_alloc(self->dev, PAGE, MEMALLOC_WRITE_COMBINE, 0, O_CLOEXEC);
	EXPECT_EQ(-EOPNOTSUPP, ret);
	if (ret >= 0)
		close(ret);
	ASSERT_EQ(0, ds_free(self->dev, fa));

	ASSERT_EQ(0, read_stats(after));
	EXPECT_EQ(before[LAZY].allocations + 2, after[LAZY].allocations);
	EXPECT_EQ(before[LAZY].live + 1, after[LAZY].live);
	EXPECT_EQ(before[LAZY].bytes + (long long)b, after[LAZY].bytes);
	EXPECT_EQ(before[LAZY].revocations + 1, after[LAZY].revocations);
	EXPECT_EQ(before[LAZY].other + 1, after[LAZY].other);
	EXPECT_EQ(before[LAZY].eopnotsupp + 1, after[LAZY].eopnotsupp);
	EXPECT_EQ(before[LAZY].enomem, after[LAZY].enomem);

	close(fa);
	close(fb);
	ASSERT_EQ(0, read_stats(after));
	EXPECT_EQ(before[LAZY].live, after[LAZY].live);
	EXPECT_EQ(before[LAZY].bytes, after[LAZY].bytes);
	EXPECT_EQ(before[LAZY].revocations + 1, after[LAZY].revocations);
}

TEST_F(observe, stats_count_contiguous_searches)
{
	struct kind_stats before[NR_KINDS], after[NR_KINDS];
	const uint64_t size = 6 * MIB;
	int fd;

	NEED_DEBUGFS();
	ASSERT_EQ(0, read_stats(before));
	/* Beyond the page allocator's 4 MiB: a range search. */
	fd = ds_alloc(self->dev, size, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	if (fd == -ENOMEM)
		SKIP(return, "no 6 MiB of contiguous memory to be had");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, read_stats(after));
	EXPECT_EQ(before[CONTIG].allocations + 1, after[CONTIG].allocations);
	EXPECT_EQ(before[CONTIG].live + 1, after[CONTIG].live);
	EXPECT_EQ(before[CONTIG].bytes + (long long)size, after[CONTIG].bytes);
	EXPECT_EQ(before[CONTIG].searches + 1, after[CONTIG].searches);
	EXPECT_EQ(before[CONTIG].found + 1, after[CONTIG].found);
	EXPECT_LT(before[CONTIG].tries, after[CONTIG].tries);
	EXPECT_LT(before[CONTIG].search_ns, after[CONTIG].search_ns);
	EXPECT_LE(before[CONTIG].migrated, after[CONTIG].migrated);
	close(fd);
	ASSERT_EQ(0, read_stats(after));
	EXPECT_EQ(before[CONTIG].live, after[CONTIG].live);
}

/*
 * Where the CMA area lies: the first pfn of the boot log's "cma: Reserved
 * N MiB at 0x..." (mm/cma.c, 6.1 and 6.12), else of a page of the CMA heap
 * (which takes the lowest free one; 6.12's heap maps pfns, which pagemap
 * does not show); 0 if neither tells.
 */
static uint64_t cma_area_pfn(void)
{
	struct dma_heap_allocation_data d = { .len = PAGE, .fd_flags = O_RDWR | O_CLOEXEC };
	int heap, len = klogctl(10, NULL, 0);	/* SYSLOG_ACTION_SIZE_BUFFER */
	uint64_t pfn = 0, addr;
	char *log, *at;
	long mib;

	log = len > 0 ? malloc(len + 1) : NULL;
	if (log) {
		len = klogctl(3, log, len);	/* SYSLOG_ACTION_READ_ALL */
		log[len > 0 ? len : 0] = 0;
		at = strstr(log, "cma: Reserved ");
		if (at && sscanf(at, "cma: Reserved %ld MiB at %" SCNx64, &mib, &addr) == 2)
			pfn = addr / PAGE;
		free(log);
	}
	heap = pfn ? -1 : open("/dev/dma_heap/reserved", O_RDONLY | O_CLOEXEC);
	if (heap >= 0 && !ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d)) {
		at = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, d.fd, 0);
		if (at != MAP_FAILED) {
			pfn = pfn_of(at);
			munmap(at, PAGE);
		}
		close(d.fd);
	}
	if (heap >= 0)
		close(heap);
	return pfn;
}

/*
 * The first pfn the contiguous search looks at: the start of ZONE_NORMAL,
 * or of ZONE_DMA32 without it (/proc/zoneinfo); 0 if neither is there.
 */
static uint64_t search_start_pfn(void)
{
	char line[256], zone[32] = "";
	uint64_t normal = 0, dma32 = 0, v;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %*d, zone %31s", zone) == 1)
			continue;
		if (sscanf(line, " start_pfn: %" SCNu64, &v) != 1)
			continue;
		/* The first node's: the search begins there. */
		if (!strcmp(zone, "Normal") && !normal)
			normal = v;
		else if (!strcmp(zone, "DMA32") && !dma32)
			dma32 = v;
	}
	fclose(f);
	return normal ? normal : dma32;
}

/*
 * A CMA area whose pageblocks all hold pages in use costs the search no
 * try. Those pages are movable, yet alloc_contig_range() cannot isolate a
 * CMA pageblock for a block: a search that spent a try on each 16 MiB
 * range of the area (8 in 128 MiB, as many tries as it has for ranges in
 * use) had none left past it where the area came first, and failed in
 * memory with no free 16 MiB elsewhere. Anonymous memory is filled until
 * the page allocator has put it in the CMA area too, leaving no range of
 * the area free; the search's tries are read from the stats. Only where the
 * area lies where the search begins (the start of ZONE_NORMAL: so on x86
 * where memory reaches past 4 GiB and the area's size) can that tell.
 */
TEST_F_TIMEOUT(observe, contiguous_search_spends_no_try_in_a_cma_area, 300)
{
	struct kind_stats before[NR_KINDS], after[NR_KINDS];
	const size_t len = 16 * MIB, step = 64 * MIB;
	long total = meminfo_kib("CmaTotal"), avail = meminfo_kib("MemAvailable");
	long cma_free = meminfo_kib("CmaFree");
	size_t cap, filled = 0;
	uint64_t first, cma;
	char *fill;
	int fd;

	NEED_DEBUGFS();
	if (total <= 0)
		SKIP(return, "no CMA area in this kernel");
	/* At least 4 ranges, so that the tries tell whether any was spent there. */
	if (total * 1024 < 4 * (long long)len)
		SKIP(return, "a CMA area of %ld KiB is too small to tell", total);
	first = search_start_pfn();
	cma = cma_area_pfn();
	TH_LOG("the search begins at pfn %#" PRIx64 ", the CMA area at %#" PRIx64, first, cma);
	if (!first || cma < first || cma >= first + total / 4)
		SKIP(return, "the CMA area is not where the search begins");
	ASSERT_LT(0, avail);
	cap = (size_t)avail * 1024 > 768 * MIB ? (size_t)avail * 1024 - 768 * MIB : 0;
	fill = mmap(NULL, cap + step, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, fill);
	while (filled + step <= cap && cma_free >= total / 16) {
		ASSERT_EQ(0, madvise(fill + filled, step, MADV_POPULATE_WRITE));
		filled += step;
		cma_free = meminfo_kib("CmaFree");
	}
	TH_LOG("%zu MiB filled, CmaFree %ld of %ld KiB", filled / MIB, cma_free, total);
	if (cma_free >= total / 16) {
		munmap(fill, cap + step);
		SKIP(return, "the page allocator left the CMA area free");
	}
	ASSERT_EQ(0, read_stats(before));
	fd = ds_alloc(self->dev, len, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	ASSERT_EQ(0, read_stats(after));
	EXPECT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	EXPECT_EQ(before[CONTIG].searches + 1, after[CONTIG].searches);
	/*
	 * None spent there: one for the first range past the area, one more
	 * should that fail; a try for each of the area's ranges before.
	 */
	EXPECT_GE(2, after[CONTIG].tries - before[CONTIG].tries);
	TH_LOG("%lld tries", after[CONTIG].tries - before[CONTIG].tries);
	if (fd >= 0)
		close(fd);
	munmap(fill, cap + step);
}

/* The pages of the largest zone (/proc/zoneinfo's present), or 0. */
static long largest_zone_pages(void)
{
	char line[256];
	long v, max = 0;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " present %ld", &v) == 1 && v > max)
			max = v;
	fclose(f);
	return max;
}

/*
 * A block larger than free memory and what reclaim could free together
 * cannot be had: the pages in use in any range of it would have nowhere
 * to go. The search does not begin: ENOMEM without a try, where each try
 * would have migrated a range's worth of pages for nothing. Anonymous
 * memory fills all but 1 GiB; the block is 256 MiB more than that room,
 * as the module counts it (free pages, per-CPU lists included; page cache;
 * reclaimable kernel memory; anonymous pages swap has room for), and no
 * larger than a zone, so that a search would have ranges to try. Root
 * passes the contiguous limits.
 */
TEST_F_TIMEOUT(observe, contiguous_beyond_room_to_move_tries_nothing, 300)
{
	struct kind_stats before[NR_KINDS], after[NR_KINDS];
	long avail = meminfo_kib("MemAvailable"), anon, swap, room;
	size_t fill_len, len;
	char *fill;
	int fd;

	NEED_DEBUGFS();
	ASSERT_LT(0, avail);
	if (avail < 2 * 1024 * 1024)
		SKIP(return, "less than 2 GiB available");
	fill_len = ((size_t)avail - 1024 * 1024) * 1024;
	fill = mmap(NULL, fill_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, fill);
	ASSERT_EQ(0, madvise(fill, fill_len, MADV_POPULATE_WRITE));
	anon = meminfo_kib("Active(anon)") + meminfo_kib("Inactive(anon)");
	swap = meminfo_kib("SwapFree");
	room = free_kib() + meminfo_kib("Active(file)") + meminfo_kib("Inactive(file)") +
	       meminfo_kib("KReclaimable") + (anon < swap ? anon : swap);
	len = ((size_t)room * 1024 + 256 * MIB + 2 * MIB - 1) / (2 * MIB) * (2 * MIB);
	if (len / PAGE > (size_t)largest_zone_pages()) {
		munmap(fill, fill_len);
		SKIP(return, "a block of %zu MiB is larger than any zone", len / MIB);
	}
	ASSERT_EQ(0, read_stats(before));
	fd = ds_alloc(self->dev, len, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	ASSERT_EQ(0, read_stats(after));
	TH_LOG("room %ld MiB, block %zu MiB: %d, %lld tries", room / 1024, len / MIB, fd,
	       after[CONTIG].tries - before[CONTIG].tries);
	EXPECT_EQ(-ENOMEM, fd);
	EXPECT_EQ(before[CONTIG].searches + 1, after[CONTIG].searches);
	EXPECT_EQ(before[CONTIG].tries, after[CONTIG].tries);
	if (fd >= 0)
		close(fd);
	munmap(fill, fill_len);
}

/* The tracefs directory, mounted if need be: 0, or -1 with none. */
static int tracefs(char *dir, size_t len)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", DEBUGFS "/tracing" };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/trace", dirs[i]);
		if (!access(path, F_OK)) {
			snprintf(dir, len, "%s", dirs[i]);
			return 0;
		}
	}
	if (mount("nodev", dirs[0], "tracefs", 0, NULL))
		return -1;
	snprintf(dir, len, "%s", dirs[0]);
	return 0;
}

static int trace_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

/* A line of @trace holding @a and @b, or NULL. */
static const char *trace_line(const char *trace, const char *a, const char *b)
{
	const char *p, *end;

	for (p = strstr(trace, a); p; p = strstr(p + 1, a)) {
		end = strchr(p, '\n');
		if (!b || (strstr(p, b) && (!end || strstr(p, b) < end)))
			return p;
	}
	return NULL;
}

TEST_F(observe, tracepoints_fire)
{
	const uint64_t size = 9 * PAGE + 17, csize = 6 * MIB;
	char dir[64], path[PATH_MAX], want[128], by[64], *trace;
	struct ds_line d;
	const char *line;
	uint64_t id;
	int fd, cfd;

	NEED_DEBUGFS();
	if (tracefs(dir, sizeof(dir)))
		SKIP(return, "no tracefs in this kernel");
	snprintf(path, sizeof(path), "%s/events/memalloc/enable", dir);
	ASSERT_EQ(0, access(path, F_OK)) {
		TH_LOG("no memalloc events in %s/events", dir);
	}
	ASSERT_EQ(0, trace_write(dir, "trace", ""));
	ASSERT_EQ(0, trace_write(dir, "events/memalloc/enable", "1"));

	fd = ds_alloc(self->dev, size, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LISTED(size, &d);
	id = d.id;
	EXPECT_EQ(0, ds_free(self->dev, fd));
	close(fd);
	cfd = ds_alloc(self->dev, csize, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	if (cfd >= 0)
		close(cfd);
	trace_write(dir, "events/memalloc/enable", "0");

	snprintf(path, sizeof(path), "%s/trace", dir);
	trace = slurp(path);
	ASSERT_NE(NULL, trace);
	snprintf(want, sizeof(want), "memalloc_alloc: id=%" PRIu64 " kind=lazy size=%" PRIu64 " ",
		 id, size);
	EXPECT_NE(NULL, trace_line(trace, want, "ret=0\n")) {
		TH_LOG("no \"%s... ret=0\" in the trace:\n%s", want, trace);
	}
	snprintf(want, sizeof(want), "memalloc_free: id=%" PRIu64 " ", id);
	snprintf(by, sizeof(by), "size=%" PRIu64 " by=revoke", size);
	EXPECT_NE(NULL, trace_line(trace, want, by)) {
		TH_LOG("no revocation of dataspace %" PRIu64 " in the trace:\n%s", id, trace);
	}
	snprintf(by, sizeof(by), "size=%" PRIu64 " by=close", size);
	EXPECT_NE(NULL, trace_line(trace, want, by)) {
		TH_LOG("no last close of dataspace %" PRIu64 " in the trace:\n%s", id, trace);
	}
	if (cfd == -ENOMEM) {
		free(trace);
		SKIP(return, "no 6 MiB of contiguous memory for the search's event");
	}
	ASSERT_LE(0, cfd);
	/* Only the search's event has "size=N align=". */
	snprintf(want, sizeof(want), " size=%" PRIu64 " align=", csize);
	line = trace_line(trace, want, " ret=0 ");
	EXPECT_NE(NULL, line) {
		TH_LOG("no memalloc_contig_search of%s... ret=0 in the trace:\n%s", want, trace);
	}
	/* Beyond the page allocator: at least one alloc_contig_range() try. */
	if (line) {
		unsigned int tries = 0;

		EXPECT_EQ(1, sscanf(strstr(line, "tries="), "tries=%u", &tries));
		EXPECT_LT(0, tries);
	}
	free(trace);
}

/* A strict JSON checker (RFC 8259), enough for the tool's output. */
static const char *json_value(const char *p, int depth);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *json_string(const char *p)
{
	int i;

	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p != '\\')
			continue;
		p++;
		if (*p == 'u') {
			for (i = 1; i <= 4; i++)
				if (!isxdigit((unsigned char)p[i]))
					return NULL;
			p += 4;
		} else if (!strchr("\"\\/bfnrt", *p) || !*p) {
			return NULL;
		}
	}
	return p + 1;
}

static const char *json_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (isdigit((unsigned char)*p))
		while (isdigit((unsigned char)*p))
			p++;
	else
		return NULL;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return p;
}

/* Members or elements up to @close: the end, or NULL. */
static const char *json_list(const char *p, char close, int depth)
{
	p = json_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			p = json_string(p);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		p = json_value(p, depth + 1);
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *json_value(const char *p, int depth)
{
	p = json_ws(p);
	if (depth > 32)
		return NULL;
	switch (*p) {
	case '{':
		return json_list(p, '}', depth);
	case '[':
		return json_list(p, ']', depth);
	case '"':
		return json_string(p);
	case 't':
		return strncmp(p, "true", 4) ? NULL : p + 4;
	case 'f':
		return strncmp(p, "false", 5) ? NULL : p + 5;
	case 'n':
		return strncmp(p, "null", 4) ? NULL : p + 4;
	default:
		return json_number(p);
	}
}

static bool json_valid(const char *text)
{
	const char *end = json_value(text, 0);

	return end && !*json_ws(end);
}

TEST(json_checker_is_strict)
{
	EXPECT_TRUE(json_valid("{\"a\":[1,-2.5e3,null,true,\"x\\\"\\u00e9\"]}\n"));
	EXPECT_FALSE(json_valid("{\"a\":[1,]}"));
	EXPECT_FALSE(json_valid("{\"a\":01}"));
	EXPECT_FALSE(json_valid("{\"a\":-}"));
	EXPECT_FALSE(json_valid("{a:1}"));
	EXPECT_FALSE(json_valid("{\"a\":1} x"));
	EXPECT_FALSE(json_valid("{\"a\":\"\t\"}"));
	EXPECT_FALSE(json_valid("{\"a\":0x10}"));
}

/*
 * Run the tool beside this test with @arg1 and @arg2 (or NULL), as user
 * @uid (or unchanged for -1): its exit status, or -1; its stdout in @out.
 */
static int run_tool(const char *arg1, const char *arg2, uid_t uid, char *out, size_t len)
{
	char path[PATH_MAX], *slash;
	size_t got = 0;
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

	n = readlink("/proc/self/exe", path, sizeof(path) - sizeof("/memalloc"));
	if (n <= 0)
		return -1;
	path[n] = 0;
	slash = strrchr(path, '/');
	if (!slash)
		return -1;
	strcpy(slash, "/memalloc");
	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (!pid) {
		dup2(pipefd[1], STDOUT_FILENO);
		if (uid != (uid_t)-1 && (setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
			_exit(126);
		execl(path, path, arg1, arg2, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	while (pid > 0 && (n = read(pipefd[0], out + got, len - 1 - got)) > 0)
		got += n;
	out[got] = 0;
	close(pipefd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST_F(observe, tool_lists_them)
{
	const uint64_t size = 13 * PAGE + 5;
	char *out = malloc(BUF_MAX), want[128];
	struct ds_line d;
	int fd;

	NEED_DEBUGFS();
	ASSERT_NE(NULL, out);
	fd = ds_alloc(self->dev, size, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LISTED(size, &d);

	ASSERT_EQ(0, run_tool("list", NULL, -1, out, BUF_MAX)) {
		TH_LOG("memalloc list:\n%s", out);
	}
	EXPECT_NE(NULL, strstr(out, "SIZE")) {
		TH_LOG("memalloc list:\n%s", out);
	}
	snprintf(want, sizeof(want), "%" PRIu64 "  %d  ", d.id, getpid());
	EXPECT_NE(NULL, strstr(out, want)) {
		TH_LOG("no \"%s\" in memalloc list:\n%s", want, out);
	}
	EXPECT_NE(NULL, strstr(out, "52.0K")) {
		TH_LOG("no size 52.0K in memalloc list:\n%s", out);
	}

	ASSERT_EQ(0, run_tool("list", "--json", -1, out, BUF_MAX));
	EXPECT_TRUE(json_valid(out)) {
		TH_LOG("memalloc list --json is no JSON:\n%s", out);
	}
	snprintf(want, sizeof(want), "{\"id\":%" PRIu64 ",\"pid\":%d,", d.id, getpid());
	EXPECT_NE(NULL, strstr(out, want)) {
		TH_LOG("no \"%s\" in memalloc list --json:\n%s", want, out);
	}
	snprintf(want, sizeof(want), "\"kind\":\"lazy\",\"size\":%" PRIu64 ",", size);
	EXPECT_NE(NULL, strstr(out, want)) {
		TH_LOG("no \"%s\" in memalloc list --json:\n%s", want, out);
	}

	ASSERT_EQ(0, run_tool("stats", "--json", -1, out, BUF_MAX));
	EXPECT_TRUE(json_valid(out)) {
		TH_LOG("memalloc stats --json is no JSON:\n%s", out);
	}
	EXPECT_NE(NULL, strstr(out, "{\"kind\":\"lazy\",\"live\":")) {
		TH_LOG("memalloc stats --json:\n%s", out);
	}
	/* The pool of zeroed memory, after the kinds. */
	EXPECT_NE(NULL, strstr(out, "],\"pool\":[{\"bytes\":")) {
		TH_LOG("memalloc stats --json:\n%s", out);
	}
	ASSERT_EQ(0, run_tool("stats", NULL, -1, out, BUF_MAX));
	EXPECT_NE(NULL, strstr(out, "ALLOCATIONS")) {
		TH_LOG("memalloc stats:\n%s", out);
	}
	EXPECT_NE(NULL, strstr(out, "pool of zeroed memory\nBYTES")) {
		TH_LOG("memalloc stats:\n%s", out);
	}
	close(fd);
	free(out);
}

/* nobody: no debugfs file opens, and the tool says it needs root. */
TEST(others_cannot_read)
{
	static const char *const files[] = { DATASPACES, STATS, POOL };
	char out[4096];
	int status, ret;
	size_t i;
	pid_t pid;

	NEED_DEBUGFS();
	ASSERT_EQ(0, access(DATASPACES, R_OK));
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
				_exit(2);
			ret = open(files[i], O_RDONLY);
			_exit(ret < 0 && errno == EACCES ? 0 : 1);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_EQ(0, WEXITSTATUS(status)) {
			TH_LOG("nobody could open %s (or had another error)", files[i]);
		}
	}
	EXPECT_EQ(1, run_tool("list", NULL, 65534, out, sizeof(out)));
	/* Not only debugfs's own 0700 directory: the files themselves. */
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		struct stat st;

		ASSERT_EQ(0, stat(files[i], &st));
		EXPECT_EQ(0400, st.st_mode & 07777) {
			TH_LOG("%s has mode %04o", files[i], st.st_mode & 07777);
		}
		EXPECT_EQ(0, st.st_uid);
		EXPECT_EQ(0, st.st_gid);
	}
}

/* The first byte of @s that a terminal would act on (< 0x20 but '\n', or 0x7f and up), or NULL. */
static const char *control_byte(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\n') || (unsigned char)*s >= 0x7f)
			return s;
	return NULL;
}

/*
 * Decode the JSON string at @p (after its opening quote) into @buf, each
 * \u00XX a byte: the end of the string, or NULL.
 */
static const char *json_decode(const char *p, char *buf, size_t len)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	unsigned int u;
	size_t n = 0;
	const char *e;

	for (; *p != '"'; p++) {
		if (!*p || n + 1 >= len)
			return NULL;
		if (*p != '\\') {
			buf[n++] = *p;
			continue;
		}
		p++;
		if (*p == 'u') {
			if (sscanf(p + 1, "%4x", &u) != 1 || u > 0xff)
				return NULL;
			buf[n++] = u;
			p += 4;
		} else if ((e = strchr(from, *p)) && *p) {
			buf[n++] = to[e - from];
		} else {
			return NULL;
		}
	}
	buf[n] = 0;
	return p;
}

/* Whether a line of the table @out has @pid for its second field. */
static bool table_has_pid(const char *out, pid_t pid)
{
	const char *line;
	long id, p;
	int n;

	for (line = out; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (sscanf(line, "%ld %ld%n", &id, &p, &n) == 2 && p == pid && line[n] == ' ')
			return true;
	return false;
}

/*
 * Command names are the allocating user's to choose: empty, with escape
 * sequences, carriage returns, separators, bytes past ASCII. Neither the
 * file nor the tool passes a control byte on to root's terminal, each row
 * keeps its fields, and the JSON gives the names back exactly.
 */
TEST_F(observe, hostile_command_names)
{
	static const char *const names[] = {
		"", "\033[8m", "\r1 1 root", "a b\tc", "-", "\\101\x7f\xe9",
	};
	char *out = malloc(BUF_MAX), *file, want[64], comm[64];
	pid_t pids[ARRAY_SIZE(names)];
	int ready[2], hold[2], status;
	const char *p, *bad;
	unsigned int found = 0;
	struct ds_line d;
	size_t i;
	char c;

	NEED_DEBUGFS();
	ASSERT_NE(NULL, out);
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(hold, O_CLOEXEC));
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			int fd;

			close(hold[1]);
			if (prctl(PR_SET_NAME, names[i]))
				_exit(1);
			fd = ds_alloc(self->dev, 29 * PAGE + i, 0, 0, O_CLOEXEC);
			c = fd < 0 ? 'n' : 'y';
			if (write(ready[1], &c, 1) != 1)
				_exit(1);
			/* Hold it until the test closes the pipe. */
			while (read(hold[0], &c, 1) > 0)
				;
			_exit(0);
		}
		ASSERT_EQ(1, read(ready[0], &c, 1));
		ASSERT_EQ('y', c);
	}
	close(hold[0]);

	/* The file: a row of 11 fields each, and no control byte. */
	file = slurp(DATASPACES);
	ASSERT_NE(NULL, file);
	bad = control_byte(file);
	EXPECT_EQ(NULL, bad) {
		TH_LOG("byte 0x%02x at %zd of " DATASPACES ":\n%s", (unsigned char)*bad,
		       bad - file, file);
	}
	for (p = strchr(file, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
		EXPECT_EQ(0, parse_ds_line(p + 1, &d)) {
			TH_LOG("not a row: %.*s", (int)strcspn(p + 1, "\n"), p + 1);
		}
		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (d.pid == pids[i] && d.size == 29 * PAGE + i)
				found |= 1 << i;
	}
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		EXPECT_TRUE(found & 1 << i) {
			TH_LOG("no row of pid %d:\n%s", pids[i], file);
		}
	}
	free(file);

	/* The table: every child's row, nothing for a terminal to act on. */
	EXPECT_EQ(0, run_tool("list", NULL, -1, out, BUF_MAX)) {
		TH_LOG("memalloc list:\n%s", out);
	}
	bad = control_byte(out);
	EXPECT_EQ(NULL, bad) {
		TH_LOG("byte 0x%02x at %zd of memalloc list", (unsigned char)*bad, bad - out);
	}
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		EXPECT_TRUE(table_has_pid(out, pids[i])) {
			TH_LOG("no row of pid %d in memalloc list:\n%s", pids[i], out);
		}
	}

	/* JSON: valid, ASCII, and each command exactly as it was set. */
	EXPECT_EQ(0, run_tool("list", "--json", -1, out, BUF_MAX));
	EXPECT_TRUE(json_valid(out)) {
		TH_LOG("memalloc list --json is no JSON:\n%s", out);
	}
	bad = control_byte(out);
	EXPECT_EQ(NULL, bad) {
		TH_LOG("byte 0x%02x at %zd of memalloc list --json", (unsigned char)*bad,
		       bad - out);
	}
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(want, sizeof(want), "\"pid\":%d,\"comm\":\"", pids[i]);
		p = strstr(out, want);
		EXPECT_NE(NULL, p) {
			TH_LOG("no \"%s\" in memalloc list --json:\n%s", want, out);
		}
		if (!p)
			continue;
		EXPECT_NE(NULL, json_decode(p + strlen(want), comm, sizeof(comm)));
		EXPECT_STREQ(names[i], comm);
	}

	close(hold[1]);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_EQ(0, status);
	}
	close(ready[0]);
	close(ready[1]);
	free(out);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Whether the child @pid has ended, within @seconds: its status, or -1. */
static int wait_within(pid_t pid, double seconds)
{
	double end = now_s() + seconds;
	int status;

	do {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	} while (now_s() < end);
	return -1;
}

/*
 * A reader of the list never waits for a busy dataspace: one whose lock a
 * long MEMALLOC_ALLOCATE holds, with a MEMALLOC_FREE queued behind it,
 * which a reader's down_read would queue behind in turn. Were the reader
 * to wait while it holds the list, every MEMALLOC_ALLOC and every last
 * close in the system would wait with it.
 */
TEST_F(observe, busy_dataspace_blocks_no_one)
{
	const uint64_t size = 1UL << 30;
	struct memalloc_allocate al = { .size = sizeof(al), .length = size };
	pid_t filler, freer, reader;
	int fd, f, i, rd[2], status, freed, read_status;
	double t, worst = 0;
	char *out = malloc(BUF_MAX), *p;
	bool freed_meanwhile;
	ssize_t n, len = 0;
	struct ds_line d;
	bool found = false;

	NEED_DEBUGFS();
	ASSERT_NE(NULL, out);
	fd = ds_alloc(self->dev, size, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	al.fd = fd;
	/* Populating 1 GiB, again and again until revoked: ds->lock held for reading. */
	filler = fork();
	ASSERT_LE(0, filler);
	if (!filler) {
		while (!ioctl(self->dev, MEMALLOC_ALLOCATE, &al))
			;
		_exit(errno == ENODEV ? 0 : 1);
	}
	usleep(300000);
	/* A writer queued behind it. */
	freer = fork();
	ASSERT_LE(0, freer);
	if (!freer)
		_exit(ds_free(self->dev, fd) ? 1 : 0);
	usleep(200000);
	ASSERT_EQ(0, pipe2(rd, O_CLOEXEC));
	reader = fork();
	ASSERT_LE(0, reader);
	if (!reader) {
		char *buf = slurp(DATASPACES);

		if (!buf || write(rd[1], buf, strlen(buf)) != (ssize_t)strlen(buf))
			_exit(1);
		_exit(0);
	}
	close(rd[1]);
	usleep(200000);

	/* Others allocate and close meanwhile, each at once. */
	for (i = 0; i < 50; i++) {
		t = now_s();
		f = ds_alloc(self->dev, PAGE, 0, 0, O_CLOEXEC);
		ASSERT_LE(0, f);
		close(f);
		t = now_s() - t;
		if (t > worst)
			worst = t;
	}
	freed_meanwhile = waitpid(freer, &freed, WNOHANG) == freer;
	/* The reader is done too, without waiting for the dataspace. */
	read_status = wait_within(reader, 1);
	EXPECT_EQ(0, read_status) {
		TH_LOG("the reader of " DATASPACES " still waits");
	}
	kill(filler, SIGKILL);
	ASSERT_EQ(filler, waitpid(filler, &status, 0));
	if (!freed_meanwhile)
		ASSERT_EQ(freer, waitpid(freer, &freed, 0));
	EXPECT_EQ(0, freed);
	if (read_status < 0)
		ASSERT_EQ(reader, waitpid(reader, &read_status, 0));
	TH_LOG("slowest alloc and close: %.3f s; the FREE %s", worst,
	       freed_meanwhile ? "was done before the loop ended (no contention seen)" :
				 "waited throughout");
	EXPECT_GT(1.0, worst);

	/* The busy dataspace's row is there, "?" where its lock guards. */
	while ((n = read(rd[0], out + len, BUF_MAX - 1 - len)) > 0)
		len += n;
	out[len] = 0;
	close(rd[0]);
	for (p = strchr(out, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
		ASSERT_EQ(0, parse_ds_line(p + 1, &d)) {
			TH_LOG("not a row: %.*s", (int)strcspn(p + 1, "\n"), p + 1);
		}
		if (d.pid == getpid() && d.size == size)
			found = true;
	}
	EXPECT_TRUE(found) {
		TH_LOG("no row of the busy dataspace in:\n%s", out);
	}
	close(fd);
	free(out);
}

TEST_HARNESS_MAIN
