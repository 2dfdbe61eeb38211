// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: contiguous super pages, where the kernel offers them
 * (MEMALLOC_VERSION's MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES). One physically
 * contiguous block mapped with 2 MiB (PMD) entries, or 1 GiB (PUD) entries
 * for whole aligned gigabytes: page tables stay flat, the mapping is the
 * block, and every path that meets such a mapping either works or fails
 * with a clean errno (the debug kernel's DEBUG_VM, KASAN and lockdep judge
 * the rest): pagemap and smaps, O_DIRECT, vmsplice, io_uring registration,
 * fork, mremap, mprotect, munmap of part of a huge entry, revocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/io_uring.h>
#include <linux/memalloc.h>

#include "kselftest_harness.h"
#include "util.h"

#define KIB 1024ul
#define MIB (1024ul * KIB)
#define GIB (1024ul * MIB)
#define SUPER_CONTIG (MEMALLOC_SUPER_PAGES | MEMALLOC_CONTINUOUS)

FIXTURE(huge) {
	int dev;
	int fd;
	size_t len;
	size_t entry;		/* the entry size the kernel reports */
	char *map;
};

FIXTURE_VARIANT(huge) {
	size_t len;
	uint32_t align;
	size_t entry;		/* the page-table entry size expected */
};

FIXTURE_VARIANT_ADD(huge, pmd_32m) { .len = 32 * MIB, .align = 21, .entry = 2 * MIB };
/* 1 GiB aligned: 1 GiB entries where the kernel reports them, else 2 MiB ones. */
FIXTURE_VARIANT_ADD(huge, gib_aligned) { .len = GIB, .align = 30, .entry = GIB };

/* The largest entry the kernel reports for contiguous super pages, up to @entry. */
static size_t entry_offered(const struct memalloc_version *v, size_t entry)
{
	if (entry == GIB && v->out_pud_kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES)
		return GIB;
	if (v->out_pmd_kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES)
		return 2 * MIB;
	return 0;
}

FIXTURE_SETUP(huge)
{
	struct memalloc_version v;

	self->fd = -1;
	self->map = MAP_FAILED;
	self->len = variant->len;
	self->dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, kernel_facts(self->dev, &v));
	self->entry = entry_offered(&v, variant->entry);
	if (!self->entry) {
		/* Not offered: refused, never downgraded. */
		ASSERT_EQ(-EOPNOTSUPP, ds_alloc(self->dev, self->len, SUPER_CONTIG,
						variant->align, O_CLOEXEC));
		SKIP(return, "this kernel maps no contiguous super pages");
	}
	ASSERT_TRUE(v.out_page_sizes & self->entry);
	self->fd = ds_alloc(self->dev, self->len, SUPER_CONTIG, variant->align, O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("%s", strerror(-self->fd));
	self->map = map_aligned(self->fd, self->len, variant->align, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, self->map);
}

/* The 6.1 harness runs a test's body after its setup skipped: return at once. */
#define NEED_BLOCK()				\
	do {					\
		if (self->map == MAP_FAILED)	\
			return;			\
	} while (0)

FIXTURE_TEARDOWN(huge)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->len);
	if (self->fd >= 0)
		close(self->fd);
	close(self->dev);
}

/* Write every page, then check: the block reads back, zero elsewhere. */
static void fill(char *p, size_t len, char c)
{
	size_t i;

	for (i = 0; i < len; i += 4096)
		p[i] = c + (char)(i >> 12);
}

static int filled(const char *p, size_t len, char c)
{
	size_t i;

	for (i = 0; i < len; i += 4096)
		if (p[i] != (char)(c + (char)(i >> 12)))
			return 0;
	return 1;
}

/*
 * Fault a page in another gigabyte of the 512 GiB that @map lies in, so the
 * page directory pointer table above it exists before VmPTE is read: the
 * first fault there would otherwise add that 4 KiB table to the count
 * wherever the mapping's address happened to fall. Returns the page to
 * unmap, or MAP_FAILED.
 */
static void *prime_upper_table(const char *map, size_t len)
{
	uintptr_t base = (uintptr_t)map & ~(512 * GIB - 1);
	uintptr_t at;
	char *p;

	if (map == MAP_FAILED)
		return MAP_FAILED;
	for (at = base; at < base + 512 * GIB; at += GIB) {
		if (at + GIB > (uintptr_t)map && at < (uintptr_t)map + len)
			continue;
		p = mmap((void *)at, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			continue;
		if ((uintptr_t)p != at) {	/* a kernel without NOREPLACE */
			munmap(p, 4096);
			continue;
		}
		*p = 1;
		return p;
	}
	return MAP_FAILED;
}

TEST_F_TIMEOUT(huge, mapped_with_huge_entries_page_tables_flat, 300)
{
	void *primed = prime_upper_table(self->map, self->len);
	struct memalloc_info info;
	struct memalloc_phys phys = { .size = sizeof(phys), .fd = self->fd };
	long pte0 = status_kib("VmPTE"), pte;
	size_t n = self->len / 4096;
	uint64_t *pfns;
	char *copy;
	int lazy;

	NEED_BLOCK();
	ASSERT_EQ(0, ds_info(self->dev, self->fd, &info));
	EXPECT_EQ((uint32_t)MEMALLOC_INFO_CONTIGUOUS, info.out_info_flags);
	EXPECT_EQ(self->entry, 1ul << info.out_page_shift);
	EXPECT_TRUE(all_zero(self->map, self->len));
	fill(self->map, self->len, 3);
	pte = status_kib("VmPTE");
	/*
	 * 4 KiB entries take a 4 KiB table per 2 MiB, 2 MiB entries one per
	 * 1 GiB; 1 GiB entries none.
	 */
	ASSERT_NE(MAP_FAILED, primed);
	EXPECT_GT(self->entry == GIB ? 4 : (long)(self->len / (2 * MIB)) * 4 / 2, pte - pte0)
		TH_LOG("VmPTE %ld -> %ld KiB", pte0, pte);
	munmap(primed, 4096);
	/* One block, aligned to the entry size. */
	ASSERT_EQ(0, ds_ioctl(self->dev, MEMALLOC_PHYS, &phys));
	EXPECT_EQ(0ull, phys.out_addr % ((size_t)1 << variant->align));
	EXPECT_EQ((uint64_t)self->len, phys.out_length);
	/* The mapping is the dataspace's memory: a copy in the kernel reads the same. */
	lazy = ds_alloc(self->dev, self->len, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, lazy);
	ASSERT_EQ(0, ds_copy_in(self->dev, lazy, 0, self->fd, 0, self->len));
	copy = mmap(NULL, self->len, PROT_READ, MAP_SHARED, lazy, 0);
	ASSERT_NE(MAP_FAILED, copy);
	EXPECT_TRUE(filled(copy, self->len, 3));
	munmap(copy, self->len);
	close(lazy);
	/* Page walkers meet the entries without harm: pagemap (pfn mappings read as holes), smaps. */
	pfns = calloc(n, sizeof(*pfns));
	ASSERT_NE(NULL, pfns);
	EXPECT_EQ(0, pfns_of(self->map, n, pfns));
	free(pfns);
	EXPECT_LE(0, smaps_kib(self->map, "Rss"));
	EXPECT_TRUE(filled(self->map, self->len, 3));
}

/* get_user_pages() users cannot take pfn mappings: EFAULT, nothing else. */
TEST_F(huge, gup_users_get_efault)
{
	struct io_uring_params params = { 0 };
	struct iovec iov = { self->map, 2 * MIB };
	int pipefd[2], blk, ring;
	char *buf;

	NEED_BLOCK();
	self->map[0] = 1;
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	iov.iov_len = 4096;
	EXPECT_EQ(-1, vmsplice(pipefd[1], &iov, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	close(pipefd[0]);
	close(pipefd[1]);

	blk = open("/dev/ram0", O_RDWR | O_DIRECT | O_CLOEXEC);
	if (blk >= 0) {
		ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, 64 * KIB));
		memset(buf, 7, 64 * KIB);
		ASSERT_EQ((ssize_t)(64 * KIB), pwrite(blk, buf, 64 * KIB, 0));
		EXPECT_EQ(-1, pread(blk, self->map, 64 * KIB, 0));
		EXPECT_EQ(EFAULT, errno);
		EXPECT_EQ(-1, pwrite(blk, self->map, 64 * KIB, 0));
		EXPECT_EQ(EFAULT, errno);
		free(buf);
		close(blk);
	}
	ring = syscall(__NR_io_uring_setup, 4, &params);
	if (ring >= 0) {
		iov.iov_len = 2 * MIB;
		EXPECT_EQ(-1, syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
				      &iov, 1));
		EXPECT_EQ(EFAULT, errno);
		close(ring);
	}
	EXPECT_EQ(1, self->map[0]);
}

/* A child sees the same block; the parent's mapping is untouched by its exit. */
TEST_F(huge, fork_shares_the_block)
{
	int status;
	pid_t pid;

	NEED_BLOCK();
	fill(self->map, self->len, 9);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (!filled(self->map, self->len, 9))
			_exit(1);
		self->map[self->len - 1] = 42;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_EQ(42, self->map[self->len - 1]);
}

/* Moved to another aligned address, shrunk, never grown (VM_DONTEXPAND). */
TEST_F(huge, mremap_moves_and_shrinks_never_grows)
{
	size_t align = (size_t)1 << variant->align;
	char *res, *to, *p;

	NEED_BLOCK();
	fill(self->map, self->len, 5);
	res = mmap(NULL, self->len + align, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	to = (char *)(((uintptr_t)res + align - 1) & ~(uintptr_t)(align - 1));
	p = mremap(self->map, self->len, self->len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	ASSERT_EQ(to, p);
	self->map = p;
	munmap(res, to - res);
	munmap(to + self->len, res + self->len + align - (to + self->len));
	EXPECT_TRUE(filled(self->map, self->len, 5));
	EXPECT_EQ(MAP_FAILED, mremap(self->map, self->len, self->len + align, 0));
	p = mremap(self->map, self->len, self->len / 2, 0);
	ASSERT_EQ(self->map, p);
	EXPECT_TRUE(filled(self->map, self->len / 2, 5));
	munmap(self->map, self->len / 2);
	self->map = MAP_FAILED;
}

static sigjmp_buf segv_jmp;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(segv_jmp, 1);
}

/* Read-only now: reads work, a write gets SIGSEGV; and back. */
TEST_F(huge, mprotect_read_only_and_back)
{
	struct sigaction sa = { .sa_handler = on_segv }, old;
	volatile bool faulted = false;

	NEED_BLOCK();
	self->map[4096] = 11;
	ASSERT_EQ(0, mprotect(self->map, self->len, PROT_READ));
	EXPECT_EQ(11, self->map[4096]);
	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(segv_jmp, 1))
		faulted = true;
	else
		self->map[8192] = 1;
	sigaction(SIGSEGV, &old, NULL);
	EXPECT_TRUE(faulted);
	ASSERT_EQ(0, mprotect(self->map, self->len, PROT_READ | PROT_WRITE));
	self->map[8192] = 12;
	EXPECT_EQ(12, self->map[8192]);
}

/* munmap of one 4 KiB page inside a huge entry: the rest stays, data intact. */
TEST_F(huge, munmap_inside_a_huge_entry)
{
	size_t hole = self->entry / 2 + 3 * 4096;

	NEED_BLOCK();
	fill(self->map, self->len, 1);
	ASSERT_EQ(0, munmap(self->map + hole, 4096));
	EXPECT_TRUE(filled(self->map, hole, 1));
	EXPECT_EQ((char)(1 + (char)((hole + 4096) >> 12)), self->map[hole + 4096]);
	EXPECT_EQ((char)(1 + (char)((self->len - 4096) >> 12)), self->map[self->len - 4096]);
	munmap(self->map, hole);
	munmap(self->map + hole + 4096, self->len - hole - 4096);
	self->map = MAP_FAILED;
}

/* Revocation zaps huge entries too: SIGBUS after, ENODEV for the commands. */
TEST_F(huge, free_zaps_huge_entries)
{
	struct memalloc_info info;

	NEED_BLOCK();
	fill(self->map, self->len, 2);
	ASSERT_EQ(0, ds_free(self->dev, self->fd));
	EXPECT_TRUE(read_gets_sigbus(self->map));
	EXPECT_TRUE(read_gets_sigbus(self->map + self->len - 1));
	EXPECT_EQ(-ENODEV, ds_info(self->dev, self->fd, &info));
}

/* Where huge entries are disabled, no mapping at all: never 4 KiB entries. */
TEST_F(huge, refused_where_huge_pages_are_disabled)
{
	char *p;

	NEED_BLOCK();
	p = map_aligned(self->fd, 4 * MIB, 21, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	ASSERT_EQ(0, madvise(p, 4 * MIB, MADV_NOHUGEPAGE));
	EXPECT_EQ(1, p[0]);
	EXPECT_TRUE(read_gets_sigbus(p + 2 * MIB));
	munmap(p, 4 * MIB);
}

DEV_FIXTURE(gigantic);

/*
 * 1 GiB blocks until none can be had: each one whole and 1 GiB aligned,
 * then ENOMEM, never a smaller page or a split block.
 */
TEST_F_TIMEOUT(gigantic, until_none_can_be_had_then_enomem, 600)
{
	struct memalloc_phys phys = { .size = sizeof(phys) };
	struct memalloc_info info;
	struct memalloc_version v;
	int fd[3], n, ret = 0;

	ASSERT_EQ(0, kernel_facts(self->dev, &v));
	if (!(v.out_kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES))
		SKIP(return, "this kernel maps no contiguous super pages");
	for (n = 0; n < 3; n++) {
		ret = fd[n] = ds_alloc(self->dev, GIB, SUPER_CONTIG, 30, O_CLOEXEC);
		if (ret < 0)
			break;
		ASSERT_EQ(0, ds_info(self->dev, fd[n], &info));
		EXPECT_EQ(v.out_pud_kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES ? 30u : 21u,
			  info.out_page_shift);
		phys.fd = fd[n];
		ASSERT_EQ(0, ds_ioctl(self->dev, MEMALLOC_PHYS, &phys));
		EXPECT_EQ(0ull, phys.out_addr % GIB);
		EXPECT_EQ((uint64_t)GIB, phys.out_length);
	}
	TH_LOG("%d blocks of 1 GiB, then %s", n, n < 3 ? strerror(-ret) : "no more tried");
	while (n--)
		close(fd[n]);
	if (ret >= 0)
		SKIP(return, "room for three 1 GiB blocks: none refused");
	EXPECT_EQ(-ENOMEM, ret);
}

/*
 * 1 GiB entries only where MEMALLOC_INFO says so: a CONTINUOUS|SUPER_PAGES
 * dataspace aligned to 1 GiB but not of whole GiBs reports 2 MiB pages,
 * and its first GiB must never get a 1 GiB entry, which mremap() would
 * lose without a TLB flush ("bad pud" in the kernel log). VmPTE tells:
 * the first GiB, touched after the second one's page tables exist, costs
 * a PMD table (4 KiB) with 2 MiB entries and nothing with a 1 GiB entry.
 */
FIXTURE(gib_plus) {
	int dev;
	int fd;
	size_t len;
	char *map;
};

FIXTURE_SETUP(gib_plus)
{
	struct memalloc_version v;

	self->fd = -1;
	self->map = MAP_FAILED;
	self->len = GIB + 2 * MIB;
	self->dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, kernel_facts(self->dev, &v));
	if (!(v.out_pud_kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES))
		SKIP(return, "no 1 GiB entries on this kernel");
	self->fd = ds_alloc(self->dev, self->len, SUPER_CONTIG, 30, O_CLOEXEC);
	if (self->fd == -ENOMEM)
		SKIP(return, "no free GiB-aligned block of 1 GiB + 2 MiB");
	ASSERT_LE(0, self->fd) TH_LOG("%s", strerror(-self->fd));
	self->map = map_aligned(self->fd, self->len, 30, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, self->map);
}

FIXTURE_TEARDOWN(gib_plus)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->len);
	if (self->fd >= 0)
		close(self->fd);
	close(self->dev);
}

/* The kernel log's records from now on, or -1 where it cannot be read. */
static int kmsg_from_now(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Whether a record read from @fd contains @what. */
static bool kmsg_has(int fd, const char *what)
{
	char rec[2048];
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			return false;
		rec[n] = '\0';
		if (strstr(rec, what))
			return true;
	}
}

TEST_F_TIMEOUT(gib_plus, no_gib_entry_where_info_says_2m, 120)
{
	struct memalloc_info info;
	long pte0, pte1;
	size_t i;

	if (self->map == MAP_FAILED)
		return;
	ASSERT_EQ(0, ds_info(self->dev, self->fd, &info));
	ASSERT_EQ(21u, info.out_page_shift);
	/* The second GiB first: its PUD and PMD tables exist from here on. */
	self->map[GIB] = 1;
	status_kib("VmPTE");
	pte0 = status_kib("VmPTE");
	for (i = 0; i < GIB; i += 2 * MIB)
		self->map[i] = 2;
	pte1 = status_kib("VmPTE");
	/* 2 MiB entries need the first GiB's PMD table; a 1 GiB entry does not. */
	EXPECT_LE(4, pte1 - pte0)
		TH_LOG("VmPTE %ld -> %ld KiB: the first GiB got a 1 GiB entry", pte0, pte1);
}

TEST_F_TIMEOUT(gib_plus, mremap_clears_no_bad_pud, 120)
{
	char *res, *to, *p;
	int kmsg;
	size_t i;

	if (self->map == MAP_FAILED)
		return;
	for (i = 0; i < self->len; i += 2 * MIB)
		self->map[i] = (char)(i >> 21);
	res = mmap(NULL, self->len + GIB, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	to = (char *)(((uintptr_t)res + GIB - 1) & ~(uintptr_t)(GIB - 1));
	kmsg = kmsg_from_now();
	p = mremap(self->map, self->len, self->len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	ASSERT_EQ(to, p);
	self->map = p;
	if (to > res)
		munmap(res, to - res);
	munmap(to + self->len, res + self->len + GIB - (to + self->len));
	for (i = 0; i < self->len; i += 2 * MIB)
		ASSERT_EQ((char)(i >> 21), self->map[i]);
	if (kmsg < 0)
		SKIP(return, "cannot read /dev/kmsg: the data moved intact");
	EXPECT_FALSE(kmsg_has(kmsg, "bad pud"))
		TH_LOG("mremap() cleared a 1 GiB entry without a TLB flush");
	close(kmsg);
}

/*
 * No 1 GiB entry outlives a split of its vma: a fault in another thread
 * while a vma is split must not map the whole GiB again across the new
 * boundary. With MADV_DONTFORK on the upper half, fork() would then copy
 * the whole entry into a child that maps nothing there (and DEBUG_VM
 * kernels BUG). Many other mappings of the file widen the window.
 */
#define HALF (GIB / 2)
#define OTHERS 64
#define RACE_SECONDS 20

struct toucher {
	volatile char *p;
	volatile int stop;
};

static void *touch_loop(void *arg)
{
	struct toucher *t = arg;
	unsigned long sum = 0;

	while (!t->stop)
		sum += t->p[0];
	return (void *)sum;
}

/* In a child: does reading @p get SIGSEGV, as it must where nothing is mapped? */
static int child_read_faults(const volatile char *p)
{
	struct sigaction sa = { .sa_handler = on_segv };
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (!pid) {
		sigaction(SIGSEGV, &sa, NULL);
		if (sigsetjmp(segv_jmp, 1))
			_exit(0);
		(void)p[0];
		_exit(1);	/* read memory it has no vma for */
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) == 0;
}

DEV_FIXTURE(split);

TEST_F_TIMEOUT(split, leaves_no_gib_entry_across_vmas, 120)
{
	struct memalloc_version v;
	struct toucher t;
	pthread_t thr;
	char *others[OTHERS], *map;
	time_t end;
	int dev = self->dev, fd, i, n = 0, r;

	ASSERT_EQ(0, kernel_facts(dev, &v));
	if (!(v.out_pud_kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES))
		SKIP(return, "no 1 GiB entries on this kernel");
	fd = ds_alloc(dev, GIB, SUPER_CONTIG, 30, O_CLOEXEC);
	if (fd == -ENOMEM)
		SKIP(return, "no free GiB-aligned GiB");
	ASSERT_LE(0, fd);
	/* Other mappings of the file, each a vma of its own, above the raced one. */
	for (i = 0; i < OTHERS; i++) {
		others[i] = mmap(NULL, 2 * MIB, PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, others[i]);
		(void)others[i][0];
	}
	end = time(NULL) + RACE_SECONDS;
	while (time(NULL) < end) {
		map = map_aligned(fd, GIB, 30, PROT_READ | PROT_WRITE);
		ASSERT_NE(MAP_FAILED, map);
		map[0] = 1;	/* one 1 GiB entry */
		t.p = map;
		t.stop = 0;
		ASSERT_EQ(0, pthread_create(&thr, NULL, touch_loop, &t));
		usleep(100);
		/* A split at 512 MiB: open() zaps, the toucher faults the GiB back. */
		r = madvise(map + HALF, HALF, MADV_DONTFORK);
		t.stop = 1;
		pthread_join(thr, NULL);
		ASSERT_EQ(0, r) TH_LOG("madvise: %s", strerror(errno));
		n++;
		/* The lower vma ends at 512 MiB: the child has nothing above. */
		r = child_read_faults(map + HALF + 4096);
		munmap(map, GIB);
		if (r != 1) {
			EXPECT_EQ(1, r)
				TH_LOG("try %d: a child reads the dataspace where it has no vma", n);
			break;
		}
	}
	TH_LOG("%d splits raced", n);
	for (i = 0; i < OTHERS; i++)
		munmap(others[i], 2 * MIB);
	close(fd);
}

TEST_HARNESS_MAIN
