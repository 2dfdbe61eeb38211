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
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
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

TEST_F_TIMEOUT(huge, mapped_with_huge_entries_page_tables_flat, 300)
{
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
	EXPECT_GT(self->entry == GIB ? 4 : (long)(self->len / (2 * MIB)) * 4 / 2, pte - pte0)
		TH_LOG("VmPTE %ld -> %ld KiB", pte0, pte);
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

TEST_HARNESS_MAIN
