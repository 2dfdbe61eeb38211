// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: the allocation guarantees (lazy, pinned, contiguous,
 * super pages, alignment, zeroing), each checked through what the kernel
 * shows (pagemap, kpageflags, smaps, meminfo, status), not what memalloc
 * claims.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include "kselftest_harness.h"
#include "util.h"

#define KIB 1024ul
#define MIB (1024ul * KIB)
#define KPF_LRU 5

static int dev_open(void)
{
	return open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
}

static size_t round_up(size_t v, size_t unit)
{
	return (v + unit - 1) / unit * unit;
}

/* 0 when @p's @len bytes sit on consecutive frames starting 2^@align aligned. */
static int check_contiguous(const char *p, size_t len, unsigned int align,
			    uint64_t *first)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t align_pages = (1ull << align) / page, *pfns;
	size_t i, n = len / page;
	int ret = 0;

	pfns = calloc(n, sizeof(*pfns));
	if (!pfns || pfns_of(p, n, pfns)) {
		free(pfns);
		return -4;
	}
	*first = pfns[0];
	if (!pfns[0])
		ret = -1;
	else if (align_pages > 1 && pfns[0] % align_pages)
		ret = -2;
	for (i = 1; i < n && !ret; i++)
		if (pfns[i] != pfns[0] + i)
			ret = -3;
	free(pfns);
	return ret;
}

DEV_FIXTURE(contig);

FIXTURE_VARIANT(contig) {
	size_t size;
};

FIXTURE_VARIANT_ADD(contig, 4k) { .size = 4 * KIB };
FIXTURE_VARIANT_ADD(contig, 2m) { .size = 2 * MIB };
FIXTURE_VARIANT_ADD(contig, 4m) { .size = 4 * MIB };
FIXTURE_VARIANT_ADD(contig, 6m_beyond_max_order) { .size = 6 * MIB };
FIXTURE_VARIANT_ADD(contig, 64m) { .size = 64 * MIB };
FIXTURE_VARIANT_ADD(contig, 256m) { .size = 256 * MIB };

TEST_F_TIMEOUT(contig, physically_contiguous_and_zero, 120)
{
	size_t len = variant->size;
	uint64_t pfn;
	char *p;
	int fd;

	fd = ds_alloc(self->dev, len, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_TRUE(all_zero(p, len));
	EXPECT_EQ(0, check_contiguous(p, len, 12, &pfn));
	TH_LOG("%zu KiB at pfn %#llx", len / KIB, (unsigned long long)pfn);
	munmap(p, len);
	close(fd);
}

/* With a CMA area in the kernel (the debug kernel: cma=128M). */
FIXTURE(cma) {
	int dev;
	long total;
};

FIXTURE_SETUP(cma)
{
	self->dev = dev_open();
	ASSERT_LE(0, self->dev);
	self->total = meminfo_kib("CmaTotal");
	if (self->total <= 0)
		SKIP(return, "no CMA area in this kernel");
}

FIXTURE_TEARDOWN(cma)
{
	close(self->dev);
}

/*
 * Not from the CMA area: on 6.1 a long-term pin (io_uring, RDMA, VFIO) of
 * a CMA page off the LRU retries forever. Blocks come from elsewhere.
 */
TEST_F(cma, contiguous_not_taken_from_cma)
{
	const size_t len = 16 * MIB;
	long before, during;
	int fd;

	before = meminfo_kib("CmaFree");
	fd = ds_alloc(self->dev, len, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	during = meminfo_kib("CmaFree");
	EXPECT_GT((long)(len / KIB) / 2, before - during);
	close(fd);
}

TEST_F_TIMEOUT(cma, contiguous_beyond_the_cma_area, 120)
{
	size_t len = (self->total + 64 * 1024) * KIB;
	uint64_t pfn;
	char *p;
	int fd;

	fd = ds_alloc(self->dev, len, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, check_contiguous(p, len, 12, &pfn));
	TH_LOG("%zu MiB at pfn %#llx", len / MIB, (unsigned long long)pfn);
	munmap(p, len);
	close(fd);
}

DEV_FIXTURE(pinned);

/* Every alignment from a page to a PUD, at sizes below and at MAX_ORDER. */
TEST_F_TIMEOUT(pinned, contiguous_every_alignment, 300)
{
	const size_t sizes[] = { 4 * KIB, 2 * MIB, 4 * MIB };
	unsigned int align, i;
	uint64_t pfn;
	char *p;
	int fd;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (align = 12; align <= 30; align++) {
			fd = ds_alloc(self->dev, sizes[i], MEMALLOC_CONTINUOUS, align, O_CLOEXEC);
			ASSERT_LE(0, fd) TH_LOG("align %u: %s", align, strerror(-fd));
			p = mmap(NULL, sizes[i], PROT_READ, MAP_SHARED, fd, 0);
			ASSERT_NE(MAP_FAILED, p);
			EXPECT_EQ(0, check_contiguous(p, sizes[i], align, &pfn))
				TH_LOG("%zu KiB, align %u: pfn %#llx", sizes[i] / KIB, align,
				       (unsigned long long)pfn);
			munmap(p, sizes[i]);
			close(fd);
		}
	}
}

/* Resident at allocation, before any mapping or touch. */
TEST_F(pinned, eager)
{
	const size_t len = 128 * MIB;
	long before, after;
	int fd;

	/* Counting the per-CPU lists, which some kernels grow and shrink. */
	before = free_kib();
	fd = ds_alloc(self->dev, len, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	after = free_kib();
	EXPECT_LE((long)(len / KIB) - 8192, before - after);
	close(fd);
	EXPECT_GE(free_kib(), after + (long)(len / KIB) - 8192);
}

/* Counted as pinned memory (VmPin), and not on any LRU list. */
TEST_F_TIMEOUT(pinned, locked_and_off_lru, 120)
{
	const size_t len = 16 * MIB;
	long page = sysconf(_SC_PAGESIZE);
	long lck0, lck1;
	uint64_t *pfns;
	size_t off;
	char *p;
	int fd;

	lck0 = status_kib("VmPin");
	fd = ds_alloc(self->dev, len, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	lck1 = status_kib("VmPin");
	EXPECT_EQ(lck0 + (long)(len / KIB), lck1);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	pfns = calloc(len / page, sizeof(*pfns));
	ASSERT_NE(NULL, pfns);
	/* One pagemap read for all: per-page reads are slow under KASAN. */
	ASSERT_EQ(0, pfns_of(p, len / page, pfns));
	for (off = 0; off < len / page; off++) {
		uint64_t flags = kpageflags_of(pfns[off]);

		ASSERT_NE(~0ull, flags);
		ASSERT_EQ(0, flags & (1ull << KPF_LRU));
	}
	free(pfns);
	munmap(p, len);
	close(fd);
	EXPECT_EQ(lck0, status_kib("VmPin"));
}

/* Frames stay where they are through compaction. */
TEST_F_TIMEOUT(pinned, not_migrated_by_compaction, 120)
{
	const size_t len = 32 * MIB;
	long page = sysconf(_SC_PAGESIZE);
	size_t n = len / page, i;
	uint64_t *pfns;
	char *p;
	int fd, c;

	fd = ds_alloc(self->dev, len, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	pfns = calloc(2 * n, sizeof(*pfns));
	ASSERT_NE(NULL, pfns);
	ASSERT_EQ(0, pfns_of(p, n, pfns));
	for (i = 0; i < n; i++)
		ASSERT_NE(0, pfns[i]);
	c = open("/proc/sys/vm/compact_memory", O_WRONLY);
	if (c >= 0) {
		EXPECT_EQ(1, write(c, "1", 1));
		close(c);
	}
	ASSERT_EQ(0, pfns_of(p, n, pfns + n));
	for (i = 0; i < n; i++)
		ASSERT_EQ(pfns[i], pfns[n + i]);
	free(pfns);
	munmap(p, len);
	close(fd);
}

/* Without CAP_IPC_LOCK, RLIMIT_MEMLOCK bounds pinned memory: ENOMEM past it. */
TEST_F(pinned, rlimit_memlock_enforced)
{
	struct rlimit lim = { 4 * MIB, 4 * MIB };
	int fd;

	ASSERT_EQ(0, drop_effective_cap(CAP_IPC_LOCK));
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &lim));
	fd = ds_alloc(self->dev, 2 * MIB, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOMEM, ds_alloc(self->dev, 3 * MIB, MEMALLOC_PINNED, 0, O_CLOEXEC));
	EXPECT_EQ(-ENOMEM, ds_alloc(self->dev, 3 * MIB, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC));
	close(fd);
	/* Closing gave the charge back. */
	fd = ds_alloc(self->dev, 3 * MIB, MEMALLOC_PINNED, 0, O_CLOEXEC);
	EXPECT_LE(0, fd);
	close(fd);
}

/* The charge belongs to the user: a child cannot take it away when it exits. */
TEST_F(pinned, rlimit_memlock_outlives_the_allocating_child)
{
	struct rlimit lim = { 4 * MIB, 4 * MIB };
	int sv[2], status, fd;
	pid_t pid;

	ASSERT_EQ(0, drop_effective_cap(CAP_IPC_LOCK));
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &lim));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		fd = ds_alloc(self->dev, 3 * MIB, MEMALLOC_PINNED, 0, O_CLOEXEC);
		_exit(fd < 0 || send_fd(sv[1], fd) ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	fd = recv_fd(sv[0]);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOMEM, ds_alloc(self->dev, 3 * MIB, MEMALLOC_PINNED, 0, O_CLOEXEC));
	close(fd);
	fd = ds_alloc(self->dev, 3 * MIB, MEMALLOC_PINNED, 0, O_CLOEXEC);
	EXPECT_LE(0, fd);
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

FIXTURE(super) {
	int dev;
};

FIXTURE_SETUP(super)
{
	struct memalloc_version v = { .size = sizeof(v) };

	self->dev = dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, ioctl(self->dev, MEMALLOC_VERSION, &v));
	if (!(v.out_alloc_flags & MEMALLOC_SUPER_PAGES))
		SKIP(return, "no transparent huge pages in this kernel");
	ASSERT_TRUE(v.out_page_sizes & (2 * MIB));
}

FIXTURE_TEARDOWN(super)
{
	close(self->dev);
}

TEST_F(super, rounded_to_2m)
{
	int fd = ds_alloc(self->dev, 1, MEMALLOC_SUPER_PAGES, 0, O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ((off_t)(2 * MIB), lseek(fd, 0, SEEK_END));
	close(fd);
}

TEST_F(super, lazy_and_pmd_mapped)
{
	const size_t len = 16 * MIB;
	long before, pmd;
	char *p;
	int fd;

	before = meminfo_kib("Shmem");
	fd = ds_alloc(self->dev, len, MEMALLOC_SUPER_PAGES, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = map_aligned(fd, len, 21, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_GT(before + 4096, meminfo_kib("Shmem"));
	memset(p, 1, len);
	pmd = smaps_kib(p, "ShmemPmdMapped");
	EXPECT_EQ((long)(len / KIB), pmd);
	EXPECT_LE((long)(len / KIB), meminfo_kib("ShmemHugePages"));
	munmap(p, len);
	close(fd);
}

/* munmap of one 4 KiB page inside a PMD mapping splits it; the rest stays. */
TEST_F(super, unaligned_munmap_inside_pmd_mapping)
{
	const uint32_t kinds[] = { MEMALLOC_SUPER_PAGES,
				   MEMALLOC_SUPER_PAGES | MEMALLOC_PINNED };
	const size_t len = 4 * MIB, hole = 2 * MIB + 3 * 4096;
	unsigned int i;
	char *p;
	int fd;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		fd = ds_alloc(self->dev, len, kinds[i], 0, O_CLOEXEC);
		ASSERT_LE(0, fd);
		p = map_aligned(fd, len, 21, PROT_READ | PROT_WRITE);
		ASSERT_NE(MAP_FAILED, p);
		memset(p, 9, len);
		ASSERT_EQ((long)(len / KIB), smaps_kib(p, "ShmemPmdMapped"));
		ASSERT_EQ(0, munmap(p + hole, 4096));
		EXPECT_EQ(9, p[hole - 1]);
		EXPECT_EQ(9, p[hole + 4096]);
		EXPECT_EQ(9, p[len - 1]);
		/* The first 2 MiB keep their PMD. */
		EXPECT_EQ(2048, smaps_kib(p, "ShmemPmdMapped"));
		munmap(p, hole);
		munmap(p + hole + 4096, len - hole - 4096);
		close(fd);
	}
}

/* A mapping holds a pinned dataspace whole: pins and charge included. */
TEST_F(super, pinned_mapping_keeps_the_pin_after_close)
{
	const size_t len = 4 * MIB;
	long pin0 = status_kib("VmPin");
	char *p;
	int fd;

	fd = ds_alloc(self->dev, len, MEMALLOC_SUPER_PAGES | MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = map_aligned(fd, len, 21, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);
	EXPECT_EQ(pin0 + (long)(len / KIB), status_kib("VmPin"));
	memset(p, 1, len);
	EXPECT_EQ((long)(len / KIB), smaps_kib(p, "ShmemPmdMapped"));
	munmap(p, len);
	EXPECT_EQ(pin0, status_kib("VmPin"));
}

/* Holes cannot be punched through a mapping: memory only goes with the dataspace. */
TEST_F(super, madv_remove_refused)
{
	const uint32_t kinds[] = { 0, MEMALLOC_SUPER_PAGES,
				   MEMALLOC_SUPER_PAGES | MEMALLOC_PINNED };
	const size_t len = 2 * MIB;
	unsigned int i;
	char *p;
	int fd;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		fd = ds_alloc(self->dev, len, kinds[i], 0, O_CLOEXEC);
		ASSERT_LE(0, fd);
		p = map_aligned(fd, len, 21, PROT_READ | PROT_WRITE);
		ASSERT_NE(MAP_FAILED, p);
		memset(p, 7, len);
		EXPECT_EQ(-1, madvise(p, len, MADV_REMOVE));
		EXPECT_EQ(EBADF, errno);
		EXPECT_EQ(7, p[len - 1]);
		munmap(p, len);
		close(fd);
	}
}

/*
 * Where huge pages are disabled some kernels map a file's huge pages with
 * 4 KiB entries: a PINNED SUPER_PAGES mapping never does so silently. A
 * process with PR_SET_THP_DISABLE cannot map it (EINVAL); after
 * MADV_NOHUGEPAGE, what is mapped stays and new faults get SIGBUS.
 */
TEST_F(super, pinned_refused_where_huge_pages_are_disabled)
{
	const size_t len = 4 * MIB;
	int fd, status;
	pid_t pid;
	char *p;

	fd = ds_alloc(self->dev, len, MEMALLOC_SUPER_PAGES | MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = map_aligned(fd, len, 21, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 5, 2 * MIB);
	ASSERT_EQ(0, madvise(p, len, MADV_NOHUGEPAGE));
	EXPECT_EQ(5, p[2 * MIB - 1]);
	EXPECT_EQ(2048, smaps_kib(p, "ShmemPmdMapped"));
	EXPECT_TRUE(read_gets_sigbus(p + 2 * MIB));
	EXPECT_EQ(2048, smaps_kib(p, "ShmemPmdMapped"));
	munmap(p, len);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
			_exit(2);
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		_exit(p == MAP_FAILED && errno == EINVAL ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	close(fd);
}

#define SHMEM_2M_KNOB "/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/shmem_enabled"

/* The word in brackets of a sysfs choice ("always [inherit] never"). */
static int knob_choice(const char *path, char *out, size_t len)
{
	char buf[256], *a, *b;

	if (read_str(path, buf, sizeof(buf)))
		return -1;
	a = strchr(buf, '[');
	b = a ? strchr(a, ']') : NULL;
	if (!b || (size_t)(b - a) > len)
		return -1;
	snprintf(out, len, "%.*s", (int)(b - a - 1), a + 1);
	return 0;
}

/*
 * Kernels with per-size shmem THP settings apply them to lazy SUPER_PAGES
 * too, as to any THP: with 2 MiB shmem pages set to never, first touches
 * take 4 KiB pages. PINNED SUPER_PAGES, taken by memalloc itself, keep
 * their 2 MiB pages and entries.
 */
TEST_F(super, follow_the_per_size_shmem_setting)
{
	const size_t len = 4 * MIB;
	char old[32];
	char *p;
	int fd;

	if (knob_choice(SHMEM_2M_KNOB, old, sizeof(old)))
		SKIP(return, "no per-size shmem THP setting in this kernel");
	ASSERT_EQ(0, write_file(SHMEM_2M_KNOB, "never"));
	fd = ds_alloc(self->dev, len, MEMALLOC_SUPER_PAGES, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = map_aligned(fd, len, 21, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 1, len);
	EXPECT_EQ(0, smaps_kib(p, "ShmemPmdMapped"));
	munmap(p, len);
	close(fd);
	fd = ds_alloc(self->dev, len, MEMALLOC_SUPER_PAGES | MEMALLOC_PINNED, 0, O_CLOEXEC);
	EXPECT_LE(0, fd);
	if (fd >= 0) {
		p = map_aligned(fd, len, 21, PROT_READ | PROT_WRITE);
		EXPECT_NE(MAP_FAILED, p);
		if (p != MAP_FAILED) {
			memset(p, 1, len);
			EXPECT_EQ((long)(len / KIB), smaps_kib(p, "ShmemPmdMapped"));
			munmap(p, len);
		}
		close(fd);
	}
	ASSERT_EQ(0, write_file(SHMEM_2M_KNOB, old));

	fd = ds_alloc(self->dev, len, MEMALLOC_SUPER_PAGES, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = map_aligned(fd, len, 21, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 1, len);
	EXPECT_EQ((long)(len / KIB), smaps_kib(p, "ShmemPmdMapped"));
	munmap(p, len);
	close(fd);
}

/*
 * A contiguous block is mapped with huge entries only where the kernel lets
 * a driver's pfn mapping have them: MEMALLOC_VERSION says whether it does,
 * and where it does not, the combination is EOPNOTSUPP.
 */
TEST_F(super, with_contiguous_as_the_kernel_reports)
{
	static const uint32_t flags[] = {
		MEMALLOC_SUPER_PAGES | MEMALLOC_CONTINUOUS,
		MEMALLOC_SUPER_PAGES | MEMALLOC_CONTINUOUS | MEMALLOC_PINNED,
	};
	struct memalloc_version v;
	int i, fd;

	ASSERT_EQ(0, kernel_facts(self->dev, &v));
	for (i = 0; i < 2; i++) {
		fd = ds_alloc(self->dev, 2 * MIB, flags[i], 0, O_CLOEXEC);
		if (v.out_kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES) {
			EXPECT_LE(0, fd);
			EXPECT_TRUE(v.out_pmd_kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES);
			EXPECT_FALSE(v.out_gup_kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES);
			close(fd);
		} else {
			EXPECT_EQ(-EOPNOTSUPP, fd);
		}
	}
}

#define KPF_UNEVICTABLE 18
#define KPF_THP 22

/* Pinned super pages: eager, locked, unevictable huge pages, PMD-mapped, staying put. */
TEST_F_TIMEOUT(super, pinned_resident_unevictable_pmd_mapped, 120)
{
	const size_t len = 16 * MIB;
	long page = sysconf(_SC_PAGESIZE);
	long before, lck0, c;
	size_t n = len / page, i;
	uint64_t *pfns, flags;
	char *p;
	int fd;

	/*
	 * Eager: the huge pages are there before any mapping. Counted as
	 * shmem huge pages, which nothing else in the guest makes meanwhile;
	 * free memory would also count whatever the kernel frees beside.
	 */
	before = meminfo_kib("ShmemHugePages");
	lck0 = status_kib("VmPin");
	fd = ds_alloc(self->dev, len, MEMALLOC_SUPER_PAGES | MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ((long)(len / KIB), meminfo_kib("ShmemHugePages") - before);
	EXPECT_EQ(lck0 + (long)(len / KIB), status_kib("VmPin"));
	p = map_aligned(fd, len, 21, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 3, len);
	EXPECT_EQ((long)(len / KIB), smaps_kib(p, "ShmemPmdMapped"));
	pfns = calloc(2 * n, sizeof(*pfns));
	ASSERT_NE(NULL, pfns);
	ASSERT_EQ(0, pfns_of(p, n, pfns));
	for (i = 0; i < n; i += 512) {
		flags = kpageflags_of(pfns[i]);
		ASSERT_NE(~0ull, flags);
		ASSERT_TRUE(flags & (1ull << KPF_UNEVICTABLE));
		ASSERT_TRUE(flags & (1ull << KPF_THP));
	}
	c = open("/proc/sys/vm/compact_memory", O_WRONLY);
	if (c >= 0) {
		EXPECT_EQ(1, write(c, "1", 1));
		close(c);
	}
	ASSERT_EQ(0, pfns_of(p, n, pfns + n));
	for (i = 0; i < n; i++)
		ASSERT_EQ(pfns[i], pfns[n + i]);
	free(pfns);
	munmap(p, len);
	close(fd);
	EXPECT_EQ(lck0, status_kib("VmPin"));
}

/*
 * Memory cgroups: a child process in a cgroup with memory.max = 64 MiB.
 * Eager allocations beyond the limit fail with ENOMEM and the caller lives
 * on; what it holds is charged and given back with the dataspace.
 */
#define CG_ROOT "/sys/fs/cgroup"

FIXTURE(memcg) {
	char dir[64];
	char current[96];
	int dev;
};

FIXTURE_SETUP(memcg)
{
	char path[96];

	self->dev = dev_open();
	ASSERT_LE(0, self->dev);
	if (access(CG_ROOT "/cgroup.subtree_control", W_OK) ||
	    write_file(CG_ROOT "/cgroup.subtree_control", "+memory"))
		SKIP(return, "no cgroup2 memory controller at " CG_ROOT);
	snprintf(self->dir, sizeof(self->dir), CG_ROOT "/memalloc-%d", getpid());
	ASSERT_EQ(0, mkdir(self->dir, 0755));
	snprintf(path, sizeof(path), "%s/memory.max", self->dir);
	ASSERT_EQ(0, write_file(path, "64M"));
	snprintf(path, sizeof(path), "%s/memory.swap.max", self->dir);
	write_file(path, "0");
	snprintf(self->current, sizeof(self->current), "%s/memory.current", self->dir);
}

FIXTURE_TEARDOWN(memcg)
{
	close(self->dev);
	if (self->dir[0])
		rmdir(self->dir);
}

/* Fork a child into the cgroup; it exits with what @fn returns. */
static pid_t run_in_cgroup(const char *dir, int (*fn)(int dev, const char *current),
			   int dev, const char *current)
{
	char path[96], pid[16];
	pid_t child = fork();

	if (child)
		return child;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_file(path, pid))
		_exit(100);
	_exit(fn(dev, current));
}

static int cg_wait(pid_t child)
{
	int status;

	if (waitpid(child, &status, 0) != child)
		return -1;
	if (WIFSIGNALED(status))
		return 200 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* 1: over-limit pinned allocation not refused with ENOMEM, ... */
static int pinned_over_limit(int dev, const char *current)
{
	long before;
	int fd;

	fd = ds_alloc(dev, 128 * MIB, MEMALLOC_PINNED, 0, O_CLOEXEC);
	if (fd != -ENOMEM)
		return 1;
	if (read_long(current) > 64 * (long)MIB)
		return 2;
	/* Within the limit it works, and is charged (the slab it uses too). */
	before = read_long(current);
	fd = ds_alloc(dev, 32 * MIB, MEMALLOC_PINNED, 0, O_CLOEXEC);
	if (fd < 0)
		return 3;
	if (read_long(current) < before + 31 * (long)MIB)
		return 4;
	close(fd);
	if (read_long(current) > before + 4 * (long)MIB)
		return 5;
	return 0;
}

TEST_F(memcg, pinned_beyond_limit_enomem_and_charged)
{
	EXPECT_EQ(0, cg_wait(run_in_cgroup(self->dir, pinned_over_limit,
					   self->dev, self->current)));
}

static int contiguous_over_limit(int dev, const char *current)
{
	long before = read_long(current);
	int fd;

	/* From the page allocator: charged. */
	fd = ds_alloc(dev, 2 * MIB, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	if (fd < 0)
		return 1;
	if (read_long(current) < before + 2 * (long)MIB)
		return 2;
	close(fd);
	if (ds_alloc(dev, 128 * MIB, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC) != -ENOMEM)
		return 3;
	/* Beyond the page allocator's largest block: cannot be charged, refused. */
	if (ds_alloc(dev, 8 * MIB, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC) != -ENOMEM)
		return 4;
	if (read_long(current) > 64 * (long)MIB)
		return 5;
	return 0;
}

TEST_F(memcg, contiguous_beyond_limit_enomem)
{
	EXPECT_EQ(0, cg_wait(run_in_cgroup(self->dir, contiguous_over_limit,
					   self->dev, self->current)));
}

/* Lazy: the cgroup is charged for touched pages only. */
static int lazy_charged_on_touch(int dev, const char *current)
{
	const size_t len = 32 * MIB;
	long base, untouched;
	char *p;
	int fd;

	base = read_long(current);
	fd = ds_alloc(dev, len, 0, 0, O_CLOEXEC);
	if (fd < 0)
		return 1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	untouched = read_long(current);
	if (untouched > base + 2 * (long)MIB)
		return 3;
	memset(p, 1, len / 4);
	if (read_long(current) < untouched + (long)(len / 4) - (long)MIB ||
	    read_long(current) > untouched + (long)(len / 4) + 2 * (long)MIB)
		return 4;
	munmap(p, len);
	close(fd);
	if (read_long(current) > base + 2 * (long)MIB)
		return 5;
	return 0;
}

TEST_F(memcg, lazy_charged_for_touched_pages_only)
{
	EXPECT_EQ(0, cg_wait(run_in_cgroup(self->dir, lazy_charged_on_touch,
					   self->dev, self->current)));
}

/* allocate() beyond the limit: ENOMEM, and the caller lives on. */
static int lazy_allocate_over_limit(int dev, const char *current)
{
	struct memalloc_allocate a = { .size = sizeof(a), .length = 128 * MIB };
	int fd;

	fd = ds_alloc(dev, 128 * MIB, 0, 0, O_CLOEXEC);
	if (fd < 0)
		return 1;
	a.fd = fd;
	if (!ioctl(dev, MEMALLOC_ALLOCATE, &a) || errno != ENOMEM)
		return 2;
	/*
	 * What was taken stays with the dataspace and fills the cgroup:
	 * let it go before anything else is charged.
	 */
	close(fd);
	if (read_long(current) > 4 * (long)MIB)
		return 3;
	return 0;
}

TEST_F(memcg, lazy_allocate_beyond_limit_enomem)
{
	EXPECT_EQ(0, cg_wait(run_in_cgroup(self->dir, lazy_allocate_over_limit,
					   self->dev, self->current)));
}

/* Touching a lazy dataspace beyond the limit: the memcg OOM killer, as tmpfs. */
static int lazy_touch_over_limit(int dev, const char *current)
{
	size_t len = 128 * MIB;
	char *p;
	int fd;

	(void)current;
	fd = ds_alloc(dev, len, 0, 0, O_CLOEXEC);
	if (fd < 0)
		return 1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	memset(p, 1, len);
	return 3;
}

TEST_F(memcg, lazy_touch_beyond_limit_oom_killed)
{
	EXPECT_EQ(200 + SIGKILL, cg_wait(run_in_cgroup(self->dir, lazy_touch_over_limit,
							self->dev, self->current)));
	/* The dataspace died with its only holder: the charge is gone. */
	EXPECT_GT(4 * (long)MIB, read_long(self->current));
}

/*
 * Pinned memory under memory pressure with swap: the cgroup swaps its
 * anonymous memory out, the pinned pages stay resident on the same frames.
 */
#define SWAP_DEV "/dev/ram1"

static int pinned_under_swap(int dev, const char *current)
{
	const size_t len = 16 * MIB, anon_len = 40 * MIB;
	long page = sysconf(_SC_PAGESIZE);
	size_t n = len / page, i;
	char path[96], *anon;
	unsigned char *p;
	uint64_t *pfns;
	int fd;

	fd = ds_alloc(dev, len, MEMALLOC_PINNED, 0, O_CLOEXEC);
	if (fd < 0)
		return 1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	pfns = calloc(2 * n, sizeof(*pfns));
	if (p == MAP_FAILED || !pfns)
		return 2;
	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 13);
	if (pfns_of(p, n, pfns))
		return 7;

	/* 16 MiB pinned + 40 MiB anonymous in 48 MiB: something must go. */
	anon = mmap(NULL, anon_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		return 3;
	memset(anon, 0x11, anon_len);
	snprintf(path, sizeof(path), "%.*s/memory.swap.current",
		 (int)(strrchr(current, '/') - current), current);
	if (read_long(path) <= 0)
		return 4;

	if (pfns_of(p, n, pfns + n))
		return 7;
	for (i = 0; i < n; i++)
		if (pfns[n + i] != pfns[i])
			return 5;
	for (i = 0; i < len; i++)
		if (p[i] != (unsigned char)(i * 13))
			return 6;
	return 0;
}

TEST_F_TIMEOUT(memcg, pinned_never_swapped, 180)
{
	char path[96];
	int ret;

	if (system("mkswap " SWAP_DEV " >/dev/null 2>&1 && swapon " SWAP_DEV))
		SKIP(return, "cannot swap on %s", SWAP_DEV);
	snprintf(path, sizeof(path), "%s/memory.max", self->dir);
	ASSERT_EQ(0, write_file(path, "48M"));
	snprintf(path, sizeof(path), "%s/memory.swap.max", self->dir);
	ASSERT_EQ(0, write_file(path, "max"));
	ret = cg_wait(run_in_cgroup(self->dir, pinned_under_swap, self->dev, self->current));
	EXPECT_EQ(0, system("swapoff " SWAP_DEV));
	EXPECT_EQ(0, ret);
}

/* Every kind, reallocated 32 times after being dirtied: never a stale byte. */
DEV_FIXTURE(zero);

FIXTURE_VARIANT(zero) {
	uint32_t flags;
	size_t size;
};

FIXTURE_VARIANT_ADD(zero, lazy) { .flags = 0, .size = 3 * MIB + 123 };
FIXTURE_VARIANT_ADD(zero, pinned) { .flags = MEMALLOC_PINNED, .size = 3 * MIB + 123 };
FIXTURE_VARIANT_ADD(zero, contiguous) { .flags = MEMALLOC_CONTINUOUS, .size = 3 * MIB + 123 };
FIXTURE_VARIANT_ADD(zero, contiguous_big) { .flags = MEMALLOC_CONTINUOUS, .size = 9 * MIB + 5 };
FIXTURE_VARIANT_ADD(zero, pinned_contiguous) {
	.flags = MEMALLOC_PINNED | MEMALLOC_CONTINUOUS, .size = 1 * MIB + 1 };
FIXTURE_VARIANT_ADD(zero, super) { .flags = MEMALLOC_SUPER_PAGES, .size = 4 * MIB + 7 };
FIXTURE_VARIANT_ADD(zero, pinned_super) {
	.flags = MEMALLOC_SUPER_PAGES | MEMALLOC_PINNED, .size = 2 * MIB + 3 };

TEST_F_TIMEOUT(zero, thirty_two_reallocations, 300)
{
	size_t unit = variant->flags & MEMALLOC_SUPER_PAGES ? 2 * MIB : 4 * KIB;
	size_t len = round_up(variant->size, unit);
	unsigned long *p;
	int round, fd;

	for (round = 0; round < 32; round++) {
		fd = ds_alloc(self->dev, variant->size, variant->flags, 0, O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("round %d: %s", round, strerror(-fd));
		/* The whole rounded size, padding past the byte size included. */
		p = map_aligned(fd, len, 21, PROT_READ | PROT_WRITE);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_TRUE(all_zero(p, len)) TH_LOG("round %d", round);
		memset(p, 0xa5, len);
		munmap(p, len);
		close(fd);
	}
}

TEST_HARNESS_MAIN
