// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: libmemalloc, its native API and L4Re's C names, each
 * function's success and its errors; and the L4Re-style example program.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <l4re/c/mem_alloc.h>
#include <l4re/c/util/cap_alloc.h>

#include "memalloc.h"
#include "kselftest_harness.h"
#include "util.h"

#define KIB 1024ul
#define MIB (1024ul * KIB)

FIXTURE(lib) {
	struct memalloc *ma;
	size_t page;
};

FIXTURE_SETUP(lib)
{
	self->page = sysconf(_SC_PAGESIZE);
	ASSERT_EQ(0, memalloc_open(&self->ma));
}

FIXTURE_TEARDOWN(lib)
{
	memalloc_close(self->ma);
}

static bool fd_cloexec(int fd)
{
	return fcntl(fd, F_GETFD) & FD_CLOEXEC;
}

TEST_F(lib, open_features_and_fd)
{
	struct memalloc_features f = { .size = sizeof(f) }, old;
	struct memalloc_version v;

	EXPECT_LE(0, memalloc_fd(self->ma));
	EXPECT_TRUE(fd_cloexec(memalloc_fd(self->ma)));
	ASSERT_EQ(0, memalloc_features(self->ma, &f));
	EXPECT_EQ((uint32_t)MEMALLOC_API_VERSION, f.api_version);
	EXPECT_TRUE(f.alloc_flags & MEMALLOC_PINNED);
	EXPECT_TRUE(f.page_sizes & self->page);
	ASSERT_EQ(0, kernel_facts(memalloc_fd(self->ma), &v));
	EXPECT_EQ(v.out_kinds, f.kinds);
	EXPECT_EQ(v.out_gup_kinds, f.gup_kinds);
	EXPECT_EQ(v.out_io_uring_kinds, f.io_uring_kinds);
	EXPECT_EQ(v.out_pmd_kinds, f.pmd_kinds);
	EXPECT_EQ(v.out_pud_kinds, f.pud_kinds);
	/* A caller built when the struct ended at page_sizes: nothing past it. */
	memset(&old, 0x5a, sizeof(old));
	old.size = offsetof(struct memalloc_features, gup_kinds);
	ASSERT_EQ(0, memalloc_features(self->ma, &old));
	EXPECT_EQ(f.page_sizes, old.page_sizes);
	EXPECT_EQ(0x5a5a5a5au, old.gup_kinds);
	old.size = offsetof(struct memalloc_features, page_sizes);
	EXPECT_EQ(-EINVAL, memalloc_features(self->ma, &old));
	memalloc_close(NULL);
}

TEST_F(lib, alloc_gives_a_handle)
{
	struct memalloc_ds_info info = { .size = sizeof(info) };
	struct memalloc_ds *ds;

	ASSERT_EQ(0, memalloc_alloc(self->ma, 1000, MEMALLOC_PINNED, 0, &ds));
	EXPECT_EQ(1000u, memalloc_ds_size(ds));
	EXPECT_TRUE(fd_cloexec(memalloc_ds_fd(ds)));
	ASSERT_EQ(0, memalloc_ds_info(ds, &info));
	EXPECT_EQ(1000u, info.length);
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(self->page, info.mappable);
	EXPECT_EQ(self->page, info.resident);
	EXPECT_EQ((uint32_t)MEMALLOC_PINNED, info.flags);
	EXPECT_EQ((uint32_t)(MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W), info.rights);
	EXPECT_EQ((uint32_t)MEMALLOC_CACHED, info.caching);
	EXPECT_EQ(12u, info.page_shift);
	EXPECT_EQ(12u, info.align);
	EXPECT_FALSE(info.contiguous);
	memalloc_ds_close(ds);
	memalloc_ds_close(NULL);
}

TEST_F(lib, alloc_errors)
{
	struct memalloc_ds *ds = NULL;

	EXPECT_EQ(-ERANGE, memalloc_alloc(self->ma, 0, 0, 0, &ds));
	EXPECT_EQ(-EINVAL, memalloc_alloc(self->ma, 4096, 0x08, 0, &ds));
	EXPECT_EQ(-EINVAL, memalloc_alloc(self->ma, 4096, 0, 64, &ds));
	EXPECT_EQ(-EOPNOTSUPP, memalloc_alloc(self->ma, 4096, MEMALLOC_SUPER_PAGES |
					      MEMALLOC_WRITE_COMBINE, 0, &ds));
	EXPECT_EQ(-ENOMEM, memalloc_alloc(self->ma, UINT64_MAX / 2, 0, 0, &ds));
	EXPECT_EQ(NULL, ds);
	EXPECT_EQ(-ERANGE, memalloc_alloc_fd(self->ma, 0, 0, 0));
}

TEST_F(lib, alloc_fd_and_import)
{
	struct memalloc_ds *ds;
	int fd = memalloc_alloc_fd(self->ma, 3 * MIB, 0, 0);
	int memfd = memfd_create("not-a-dataspace", MFD_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_TRUE(fd_cloexec(fd));
	ASSERT_EQ(0, memalloc_ds_import(self->ma, fd, &ds));
	/* The handle owns a duplicate: the caller's fd stays the caller's. */
	EXPECT_NE(fd, memalloc_ds_fd(ds));
	EXPECT_TRUE(fd_cloexec(memalloc_ds_fd(ds)));
	EXPECT_EQ(3 * MIB, memalloc_ds_size(ds));
	close(fd);
	EXPECT_EQ(3 * MIB, memalloc_ds_size(ds));
	memalloc_ds_close(ds);

	ASSERT_LE(0, memfd);
	EXPECT_EQ(-EINVAL, memalloc_ds_import(self->ma, memfd, &ds));
	close(memfd);
	EXPECT_EQ(-EBADF, memalloc_ds_import(self->ma, fd, &ds));
}

/* Size-first: too small is refused; a larger struct gets what the library knows. */
TEST_F(lib, ds_info_takes_the_size_first)
{
	struct {
		struct memalloc_ds_info info;
		unsigned char after[16];
	} big;
	struct memalloc_ds_info small = { .size = offsetof(struct memalloc_ds_info, contiguous) };
	struct memalloc_ds *ds;

	ASSERT_EQ(0, memalloc_alloc(self->ma, 1000, 0, 0, &ds));
	EXPECT_EQ(-EINVAL, memalloc_ds_info(ds, &small));
	EXPECT_EQ(offsetof(struct memalloc_ds_info, contiguous), small.size);
	memset(&big, 0x5a, sizeof(big));
	big.info.size = sizeof(big);
	ASSERT_EQ(0, memalloc_ds_info(ds, &big.info));
	EXPECT_EQ(sizeof(big.info), big.info.size);
	EXPECT_EQ(1000u, big.info.length);
	EXPECT_FALSE(big.info.contiguous);
	EXPECT_EQ(0x5a, big.after[0]);
	EXPECT_EQ(0x5a, big.after[sizeof(big.after) - 1]);
	memalloc_ds_close(ds);
}

TEST_F(lib, handle_outlives_its_allocator)
{
	struct memalloc *ma;
	struct memalloc_ds *ds;
	struct memalloc_ds_info info = { .size = sizeof(info) };

	ASSERT_EQ(0, memalloc_open(&ma));
	ASSERT_EQ(0, memalloc_alloc(ma, MIB, 0, 0, &ds));
	memalloc_close(ma);
	EXPECT_EQ(0, memalloc_ds_info(ds, &info));
	EXPECT_EQ(0, memalloc_ds_allocate(ds, 0, MIB));
	memalloc_ds_close(ds);
}

TEST_F(lib, map_aligns_super_pages)
{
	struct memalloc_ds *ds;
	char *p;

	ASSERT_EQ(0, memalloc_alloc(self->ma, 8 * MIB, MEMALLOC_SUPER_PAGES, 0, &ds));
	ASSERT_EQ(0, memalloc_ds_map(ds, 0, 0, PROT_READ | PROT_WRITE, (void **)&p));
	EXPECT_EQ(0u, (uintptr_t)p % (2 * MIB));
	EXPECT_TRUE(all_zero(p, 8 * MIB));
	memset(p, 1, 8 * MIB);
	EXPECT_EQ(8192, smaps_kib(p, "ShmemPmdMapped"));
	EXPECT_EQ(0, memalloc_ds_unmap(ds, p, 8 * MIB));
	/* An offset into it keeps the address congruent to it. */
	ASSERT_EQ(0, memalloc_ds_map(ds, 2 * MIB, 4 * MIB, PROT_READ, (void **)&p));
	EXPECT_EQ(0u, (uintptr_t)p % (2 * MIB));
	EXPECT_EQ(1, p[0]);
	EXPECT_EQ(0, memalloc_ds_unmap(ds, p, 4 * MIB));
	memalloc_ds_close(ds);
}

TEST_F(lib, map_aligns_to_the_asked_alignment)
{
	struct memalloc_ds *ds;
	void *p;

	ASSERT_EQ(0, memalloc_alloc(self->ma, 64 * KIB, 0, 20, &ds));
	ASSERT_EQ(0, memalloc_ds_map(ds, 0, 0, PROT_READ, &p));
	EXPECT_EQ(0u, (uintptr_t)p % MIB);
	EXPECT_EQ(0, memalloc_ds_unmap(ds, p, 64 * KIB));
	memalloc_ds_close(ds);
}

TEST_F(lib, map_errors)
{
	struct memalloc_ds *ds, *ro;
	void *p;

	ASSERT_EQ(0, memalloc_alloc(self->ma, 64 * KIB, 0, 0, &ds));
	EXPECT_EQ(-EINVAL, memalloc_ds_map(ds, 64 * KIB, 0, PROT_READ, &p));
	EXPECT_EQ(-EINVAL, memalloc_ds_map(ds, 0, 128 * KIB, PROT_READ, &p));
	EXPECT_EQ(-EINVAL, memalloc_ds_map(ds, 1, self->page, PROT_READ, &p));
	ASSERT_EQ(0, memalloc_ds_dup(ds, MEMALLOC_RIGHT_R, 0, &ro));
	EXPECT_EQ(-EACCES, memalloc_ds_map(ro, 0, 0, PROT_READ | PROT_WRITE, &p));
	EXPECT_EQ(-EINVAL, memalloc_ds_unmap(ds, (void *)1, self->page));
	memalloc_ds_close(ro);
	memalloc_ds_close(ds);
}

TEST_F(lib, allocate_clear_and_copy_in)
{
	struct memalloc_ds *a, *b;
	struct memalloc_ds_info info = { .size = sizeof(info) };
	char *pa, *pb;

	ASSERT_EQ(0, memalloc_alloc(self->ma, MIB, 0, 0, &a));
	ASSERT_EQ(0, memalloc_alloc(self->ma, MIB, 0, 0, &b));
	EXPECT_EQ(0, memalloc_ds_allocate(a, 0, 0));
	ASSERT_EQ(0, memalloc_ds_allocate(a, 0, MIB));
	ASSERT_EQ(0, memalloc_ds_info(a, &info));
	EXPECT_EQ(MIB, info.resident);
	EXPECT_EQ(-ERANGE, memalloc_ds_allocate(a, MIB, 1));

	ASSERT_EQ(0, memalloc_ds_map(a, 0, 0, PROT_READ | PROT_WRITE, (void **)&pa));
	ASSERT_EQ(0, memalloc_ds_map(b, 0, 0, PROT_READ | PROT_WRITE, (void **)&pb));
	memset(pa, 0x21, MIB);
	ASSERT_EQ(0, memalloc_ds_copy_in(b, 10, a, 20, 1000));
	EXPECT_EQ(0x21, pb[10]);
	EXPECT_EQ(0x21, pb[1009]);
	EXPECT_EQ(0, pb[1010]);
	EXPECT_EQ(-EINVAL, memalloc_ds_copy_in(b, 0, NULL, 0, 1));
	EXPECT_EQ(0, memalloc_ds_copy_in(b, MIB, a, 0, 1));
	EXPECT_EQ(0, memalloc_ds_copy_in(b, 0, a, MIB, 1));

	ASSERT_EQ(0, memalloc_ds_clear(a, 0, MIB / 2));
	ASSERT_EQ(0, memalloc_ds_info(a, &info));
	EXPECT_EQ(MIB / 2, info.resident);
	EXPECT_TRUE(all_zero(pa, MIB / 2));
	EXPECT_EQ(-ERANGE, memalloc_ds_clear(a, MIB, 1));
	memalloc_ds_unmap(a, pa, MIB);
	memalloc_ds_unmap(b, pb, MIB);
	memalloc_ds_close(a);
	memalloc_ds_close(b);
}

TEST_F(lib, phys_of_contiguous_memory)
{
	struct memalloc_ds *ds;
	uint64_t addr, len, addr2;

	ASSERT_EQ(0, memalloc_alloc(self->ma, 1024, MEMALLOC_CONTINUOUS, 0, &ds));
	ASSERT_EQ(0, memalloc_ds_phys(ds, 123, &addr, &len));
	EXPECT_EQ(901u, len);
	EXPECT_EQ(123u, addr % self->page);
	ASSERT_EQ(0, memalloc_ds_phys(ds, 0, &addr2, NULL));
	EXPECT_EQ(addr - 123, addr2);
	EXPECT_EQ(-ERANGE, memalloc_ds_phys(ds, 1024, &addr, &len));
	ASSERT_EQ(0, drop_effective_cap(CAP_SYS_ADMIN));
	EXPECT_EQ(-EPERM, memalloc_ds_phys(ds, 0, &addr, &len));
	memalloc_ds_close(ds);
}

TEST_F(lib, phys_of_lazy_memory_einval)
{
	struct memalloc_ds *ds;
	uint64_t addr, len;

	ASSERT_EQ(0, memalloc_alloc(self->ma, MIB, 0, 0, &ds));
	EXPECT_EQ(-EINVAL, memalloc_ds_phys(ds, 0, &addr, &len));
	memalloc_ds_close(ds);
}

TEST_F(lib, dup_and_free)
{
	struct memalloc_ds *ds, *ro, *wc;
	struct memalloc_ds_info info = { .size = sizeof(info) };

	ASSERT_EQ(0, memalloc_alloc(self->ma, MIB, MEMALLOC_PINNED, 0, &ds));
	ASSERT_EQ(0, memalloc_ds_dup(ds, MEMALLOC_RIGHT_R, 0, &ro));
	ASSERT_EQ(0, memalloc_ds_info(ro, &info));
	EXPECT_EQ((uint32_t)MEMALLOC_RIGHT_R, info.rights);
	EXPECT_TRUE(fd_cloexec(memalloc_ds_fd(ro)));
	EXPECT_EQ(-EACCES, memalloc_ds_clear(ro, 0, 1));
	EXPECT_EQ(-EACCES, memalloc_ds_dup(ro, MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W, 0, &wc));
	EXPECT_EQ(-EINVAL, memalloc_ds_dup(ds, 0, 0, &wc));
	EXPECT_EQ(-EOPNOTSUPP, memalloc_ds_dup(ds, MEMALLOC_RIGHT_R,
					       MEMALLOC_WRITE_COMBINE, &wc));
	ASSERT_EQ(0, memalloc_ds_dup(ds, MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W, 0, &wc));
	ASSERT_EQ(0, memalloc_ds_info(wc, &info));
	EXPECT_EQ((uint32_t)(MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W), info.rights);

	EXPECT_EQ(-EACCES, memalloc_free(self->ma, ro));
	ASSERT_EQ(0, memalloc_free(self->ma, ds));
	EXPECT_EQ(-ENODEV, memalloc_ds_info(ro, &info));
	EXPECT_EQ(-ENODEV, memalloc_free(self->ma, wc));
	memalloc_ds_close(wc);
	memalloc_ds_close(ro);
	memalloc_ds_close(ds);
}

TEST_F(lib, cpu_sync)
{
	struct memalloc_ds *ds;

	ASSERT_EQ(0, memalloc_alloc(self->ma, MIB, MEMALLOC_PINNED, 0, &ds));
	EXPECT_EQ(0, memalloc_ds_sync(ds, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
	EXPECT_EQ(0, memalloc_ds_sync(ds, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
	EXPECT_EQ(-EINVAL, memalloc_ds_sync(ds, 0x100));
	memalloc_ds_close(ds);
}

TEST_F(lib, strerror_says_what_to_do)
{
	EXPECT_NE(NULL, strstr(memalloc_strerror(-ENOENT), "modules_install"));
	EXPECT_NE(NULL, strstr(memalloc_strerror(-EPERM), "CAP_SYS_MODULE"));
	EXPECT_NE(NULL, strstr(memalloc_strerror(-EACCES), "memalloc group"));
	EXPECT_NE(NULL, strstr(memalloc_strerror(-ENOMEM), "RLIMIT_MEMLOCK"));
	EXPECT_NE(NULL, strstr(memalloc_strerror(-ENODEV), "revoked"));
	EXPECT_STREQ(strerror(EIO), memalloc_strerror(-EIO));
}

FIXTURE(l4re) {
	l4re_ds_t ds;
	size_t page;
};

FIXTURE_SETUP(l4re)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->ds = l4re_util_cap_alloc();
	ASSERT_FALSE(l4_is_invalid_cap(self->ds));
}

FIXTURE_TEARDOWN(l4re)
{
	l4re_util_cap_free(self->ds);
}

TEST_F(l4re, alloc_fills_the_slot)
{
	l4re_ds_stats_t st;
	int slot = self->ds;

	ASSERT_EQ(0, l4re_ma_alloc(1000, self->ds, 0));
	/* The slot is the dataspace now, close-on-exec as every fd. */
	EXPECT_EQ(slot, self->ds);
	EXPECT_TRUE(fd_cloexec(self->ds));
	EXPECT_EQ(1000, l4re_ds_size(self->ds));
	EXPECT_EQ(L4RE_DS_MAP_FLAG_RW, l4re_ds_flags(self->ds));
	ASSERT_EQ(0, l4re_ds_info(self->ds, &st));
	EXPECT_EQ(1000u, st.size);
	EXPECT_EQ((unsigned long)L4RE_DS_MAP_FLAG_RW, st.flags);
}

TEST_F(l4re, alloc_errors)
{
	EXPECT_EQ(-ERANGE, l4re_ma_alloc(0, self->ds, 0));
	EXPECT_EQ(-EINVAL, l4re_ma_alloc(4096, self->ds, 0x10));
	EXPECT_EQ(-EINVAL, l4re_ma_alloc_align(4096, self->ds, 0, 64));
	EXPECT_EQ(-EINVAL, l4re_ma_alloc(4096, L4_INVALID_CAP, 0));
	/* memalloc's own caching bits, on memory that moves: no kernel does it. */
	EXPECT_EQ(-EOPNOTSUPP, l4re_ma_alloc(4096, self->ds, L4RE_MA_SUPER_PAGES |
					     MEMALLOC_WRITE_COMBINE));
	/* The slot holds no dataspace still. */
	EXPECT_EQ(-EINVAL, l4re_ds_size(self->ds));
}

TEST_F(l4re, phys_of_an_aligned_contiguous_block)
{
	l4_addr_t phys;
	l4_size_t len;

	ASSERT_EQ(0, l4re_ma_alloc_align(1024, self->ds, L4RE_MA_CONTINUOUS, 16));
	ASSERT_EQ(0, l4re_ds_phys(self->ds, 123, &phys, &len));
	EXPECT_EQ(901u, len);
	EXPECT_EQ(123u, phys % 65536);
	EXPECT_EQ(-ERANGE, l4re_ds_phys(self->ds, 1024, &phys, &len));
}

TEST_F(l4re, allocate_clear_copy_in)
{
	l4re_ds_t src = l4re_util_cap_alloc();
	struct memalloc_info info = { .size = sizeof(info) };
	int dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, dev);
	ASSERT_EQ(0, l4re_ma_alloc(MIB, self->ds, L4RE_MA_PINNED));
	ASSERT_EQ(0, l4re_ma_alloc(MIB, src, 0));
	EXPECT_EQ(0, l4re_ds_allocate(src, 0, 0));
	EXPECT_EQ(0, l4re_ds_allocate(src, 0, MIB));
	info.fd = src;
	ASSERT_EQ(0, ioctl(dev, MEMALLOC_INFO, &info));
	EXPECT_EQ(MIB, info.out_resident);
	EXPECT_EQ(-ERANGE, l4re_ds_allocate(src, MIB, 1));
	EXPECT_EQ(0, l4re_ds_clear(src, 0, MIB + 12345));
	ASSERT_EQ(0, ioctl(dev, MEMALLOC_INFO, &info));
	EXPECT_EQ(0u, info.out_resident);
	EXPECT_EQ(-ERANGE, l4re_ds_clear(src, MIB, 1));
	EXPECT_EQ(0, l4re_ds_copy_in(self->ds, 0, src, 0, MIB));
	EXPECT_EQ(-EINVAL, l4re_ds_copy_in(self->ds, 0, dev, 0, 1));
	EXPECT_EQ(0, l4re_ds_copy_in(self->ds, MIB, src, 0, 1));
	EXPECT_EQ(0, l4re_ds_copy_in(self->ds, 0, src, MIB, 1));
	l4re_util_cap_free(src);
	close(dev);
}

TEST_F(l4re, free_revokes)
{
	ASSERT_EQ(0, l4re_ma_alloc(MIB, self->ds, L4RE_MA_PINNED));
	ASSERT_EQ(0, l4re_ma_free(self->ds));
	EXPECT_EQ(-ENODEV, l4re_ds_size(self->ds));
	EXPECT_EQ(-ENODEV, l4re_ma_free(self->ds));
}

/* Run a program next to this one; its exit status, or -1. */
static int run_beside(const char *name, char *out, size_t outlen)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	int pipefd[2], status;
	pid_t pid;

	if (n < 0)
		return -1;
	path[n] = 0;
	snprintf(strrchr(path, '/') + 1, sizeof(path) - (strrchr(path, '/') + 1 - path),
		 "%s", name);
	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (!pid) {
		dup2(pipefd[1], 1);
		execl(path, name, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	n = read(pipefd[0], out, outlen - 1);
	out[n > 0 ? n : 0] = 0;
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST(l4re_example_program_runs)
{
	char out[4096];

	EXPECT_EQ(0, run_beside("l4re_example", out, sizeof(out)));
	TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "ok"));
}

TEST_HARNESS_MAIN
