// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: the dataspace operations of L4Re's Dataspace on each
 * backing: clear, copy_in, read-only handles, revocation (Mem_alloc::free)
 * and caching attributes, each errno exact.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/memalloc.h>

#include "kselftest_harness.h"
#include "util.h"

#define KIB 1024ul
#define MIB (1024ul * KIB)

FIXTURE(ops) {
	int dev;
	int fd;
	size_t len;
	size_t page;
	char *map;
};

FIXTURE_VARIANT(ops) {
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(ops, lazy) { .flags = 0 };
FIXTURE_VARIANT_ADD(ops, pinned) { .flags = MEMALLOC_PINNED };
FIXTURE_VARIANT_ADD(ops, contiguous) { .flags = MEMALLOC_CONTINUOUS };
FIXTURE_VARIANT_ADD(ops, super_pages) { .flags = MEMALLOC_SUPER_PAGES };
FIXTURE_VARIANT_ADD(ops, pinned_super_pages) {
	.flags = MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES,
};

FIXTURE_SETUP(ops)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->len = 8 * MIB;
	self->dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->fd = ds_alloc(self->dev, self->len, variant->flags, 0, O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("alloc: %s", strerror(-self->fd));
	self->map = map_aligned(self->fd, self->len, 21, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, self->map);
}

FIXTURE_TEARDOWN(ops)
{
	munmap(self->map, self->len);
	close(self->fd);
	close(self->dev);
}

TEST_F(ops, clear_zeroes_the_range_only)
{
	const size_t off = self->page + 100, len = 3 * self->page;
	size_t i;

	memset(self->map, 0xff, self->len);
	ASSERT_EQ(0, ds_clear(self->dev, self->fd, off, len));
	for (i = 0; i < self->len; i++)
		if (self->map[i] != (i >= off && i < off + len ? 0 : (char)0xff))
			break;
	EXPECT_EQ(self->len, i) TH_LOG("byte %zu is %d", i, self->map[i]);
}

TEST_F(ops, clear_gives_lazy_pages_back)
{
	struct memalloc_info before, after;

	if (variant->flags)
		SKIP(return, "eager dataspaces keep their pages");
	memset(self->map, 0x5a, self->len);
	ASSERT_EQ(0, ds_info(self->dev, self->fd, &before));
	EXPECT_EQ(self->len, before.out_resident);
	/* Pages 1 and 2 whole, the edges of pages 0 and 3 zeroed in place. */
	ASSERT_EQ(0, ds_clear(self->dev, self->fd, 100, 3 * self->page));
	ASSERT_EQ(0, ds_info(self->dev, self->fd, &after));
	EXPECT_EQ(before.out_resident - 2 * self->page, after.out_resident);
	EXPECT_TRUE(all_zero(self->map + 100, 3 * self->page));
	EXPECT_EQ(0x5a, self->map[99]);
	EXPECT_EQ(0x5a, self->map[3 * self->page + 100]);
}

TEST_F(ops, clear_clamps_the_length)
{
	memset(self->map, 0x11, self->len);
	ASSERT_EQ(0, ds_clear(self->dev, self->fd, self->len - self->page, UINT64_MAX));
	EXPECT_TRUE(all_zero(self->map + self->len - self->page, self->page));
	EXPECT_EQ(0x11, self->map[self->len - self->page - 1]);
	ASSERT_EQ(0, ds_clear(self->dev, self->fd, 0, 0));
	EXPECT_EQ(0x11, self->map[0]);
}

TEST_F(ops, clear_at_the_end_erange)
{
	EXPECT_EQ(-ERANGE, ds_clear(self->dev, self->fd, self->len, 1));
	EXPECT_EQ(-ERANGE, ds_clear(self->dev, self->fd, UINT64_MAX, 1));
}

TEST_F(ops, clear_read_only_handle_eacces)
{
	int ro = ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R, 0);

	ASSERT_LE(0, ro);
	self->map[0] = 1;
	EXPECT_EQ(-EACCES, ds_clear(self->dev, ro, 0, self->page));
	EXPECT_EQ(1, self->map[0]);
	close(ro);
}

TEST_F(ops, copy_in_from_another_dataspace)
{
	int src = ds_alloc(self->dev, 3 * self->page, 0, 0, O_CLOEXEC);
	char *s;
	size_t i;

	ASSERT_LE(0, src);
	s = mmap(NULL, 3 * self->page, PROT_READ | PROT_WRITE, MAP_SHARED, src, 0);
	ASSERT_NE(MAP_FAILED, s);
	for (i = 0; i < 3 * self->page; i++)
		s[i] = (char)(i * 7 + 1);
	/* Offsets in different places of their pages. */
	ASSERT_EQ(0, ds_copy_in(self->dev, self->fd, 5000, src, 123, 2 * self->page));
	EXPECT_EQ(0, memcmp(self->map + 5000, s + 123, 2 * self->page));
	EXPECT_EQ(0, self->map[4999]);
	EXPECT_EQ(0, self->map[5000 + 2 * self->page]);
	munmap(s, 3 * self->page);
	close(src);
}

TEST_F(ops, copy_in_overlapping_is_memmove)
{
	const size_t n = 3 * self->page + 77;
	char *want = malloc(self->len);
	size_t i;

	ASSERT_NE(NULL, want);
	for (i = 0; i < self->len; i++)
		self->map[i] = (char)(i * 13 + i / 4096);
	memcpy(want, self->map, self->len);
	/* Up: the source's tail is overwritten as it is read. */
	memmove(want + 1000, want + 10, n);
	ASSERT_EQ(0, ds_copy_in(self->dev, self->fd, 1000, self->fd, 10, n));
	EXPECT_EQ(0, memcmp(want, self->map, self->len));
	/* Down. */
	memmove(want + 3, want + 5000, n);
	ASSERT_EQ(0, ds_copy_in(self->dev, self->fd, 3, self->fd, 5000, n));
	EXPECT_EQ(0, memcmp(want, self->map, self->len));
	free(want);
}

TEST_F(ops, copy_in_clamps_to_both_ends)
{
	int src = ds_alloc(self->dev, 10000, 0, 0, O_CLOEXEC);
	char *s;

	ASSERT_LE(0, src);
	s = mmap(NULL, 3 * self->page, PROT_READ | PROT_WRITE, MAP_SHARED, src, 0);
	ASSERT_NE(MAP_FAILED, s);
	memset(s, 0x77, 3 * self->page);
	/* The source ends at its byte size (10000), not its pages. */
	ASSERT_EQ(0, ds_copy_in(self->dev, self->fd, 0, src, 9000, UINT64_MAX));
	EXPECT_EQ(0x77, self->map[999]);
	EXPECT_EQ(0, self->map[1000]);
	/* The destination ends at its byte size. */
	ASSERT_EQ(0, ds_copy_in(self->dev, self->fd, self->len - 10, src, 0, 5000));
	EXPECT_EQ(0x77, self->map[self->len - 1]);
	EXPECT_EQ(0, self->map[self->len - 11]);
	munmap(s, 3 * self->page);
	close(src);
}

TEST_F(ops, copy_in_from_holes_allocates_nothing)
{
	int src = ds_alloc(self->dev, 4 * MIB, 0, 0, O_CLOEXEC);
	struct memalloc_info info;

	ASSERT_LE(0, src);
	memset(self->map, 0x33, self->len);
	ASSERT_EQ(0, ds_copy_in(self->dev, self->fd, 0, src, 0, 4 * MIB));
	EXPECT_TRUE(all_zero(self->map, 4 * MIB));
	EXPECT_EQ(0x33, self->map[4 * MIB]);
	ASSERT_EQ(0, ds_info(self->dev, src, &info));
	EXPECT_EQ(0u, info.out_resident);
	close(src);
}

/* As L4Re's Moe: an offset at or past either end copies nothing, and is no error. */
TEST_F(ops, copy_in_offset_at_the_end_copies_nothing)
{
	memset(self->map, 0x5a, self->page);
	self->map[self->len - 1] = 0x11;
	EXPECT_EQ(0, ds_copy_in(self->dev, self->fd, self->len, self->fd, 0, 1));
	EXPECT_EQ(0, ds_copy_in(self->dev, self->fd, UINT64_MAX, self->fd, 0, 1));
	EXPECT_EQ(0, ds_copy_in(self->dev, self->fd, 0, self->fd, self->len, self->page));
	EXPECT_EQ(0, ds_copy_in(self->dev, self->fd, 0, self->fd, UINT64_MAX, self->page));
	EXPECT_EQ(0x5a, self->map[0]);
	EXPECT_EQ(0x5a, self->map[self->page - 1]);
	EXPECT_EQ(0x11, self->map[self->len - 1]);
}

TEST_F(ops, copy_in_foreign_source_einval)
{
	int memfd = memfd_create("foreign", MFD_CLOEXEC), closed = dup(0);

	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, self->len));
	close(closed);
	EXPECT_EQ(-EINVAL, ds_copy_in(self->dev, self->fd, 0, memfd, 0, 1));
	EXPECT_EQ(-EINVAL, ds_copy_in(self->dev, self->fd, 0, closed, 0, 1));
	EXPECT_EQ(-EINVAL, ds_copy_in(self->dev, self->fd, 0, -1, 0, 1));
	/* A foreign destination is not a dataspace; a closed one no fd. */
	EXPECT_EQ(-EINVAL, ds_copy_in(self->dev, memfd, 0, self->fd, 0, 1));
	EXPECT_EQ(-EBADF, ds_copy_in(self->dev, closed, 0, self->fd, 0, 1));
	close(memfd);
}

TEST_F(ops, copy_in_reserved_einval)
{
	struct memalloc_copy_in c = {
		.size = sizeof(c), .fd = self->fd, .src_fd = self->fd,
		.__reserved = 1, .length = 1,
	};

	EXPECT_EQ(-EINVAL, ds_ioctl(self->dev, MEMALLOC_COPY_IN, &c));
}

TEST_F(ops, copy_in_read_only_destination_eacces)
{
	int ro = ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R, 0);

	ASSERT_LE(0, ro);
	self->map[self->page] = 9;
	EXPECT_EQ(-EACCES, ds_copy_in(self->dev, ro, 0, self->fd, self->page, 1));
	EXPECT_EQ(0, self->map[0]);
	/* A read-only source is fine. */
	EXPECT_EQ(0, ds_copy_in(self->dev, self->fd, 0, ro, self->page, 1));
	EXPECT_EQ(9, self->map[0]);
	close(ro);
}

TEST_F(ops, read_only_handle)
{
	struct memalloc_info info;
	int ro = ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R, 0);
	char *p;

	ASSERT_LE(0, ro);
	ASSERT_EQ(0, ds_info(self->dev, ro, &info));
	EXPECT_EQ((uint32_t)MEMALLOC_RIGHT_R, info.out_rights);
	EXPECT_EQ(self->len, info.out_length);
	ASSERT_EQ(0, ds_info(self->dev, self->fd, &info));
	EXPECT_EQ((uint32_t)(MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W), info.out_rights);

	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->len, PROT_READ | PROT_WRITE,
				   MAP_SHARED, ro, 0));
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, self->len, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, p);
	self->map[42] = 42;
	EXPECT_EQ(42, p[42]);
	EXPECT_EQ(-1, mprotect(p, self->page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	/* No way back to W, and no revoking. */
	EXPECT_EQ(-EACCES, ds_dup(self->dev, ro, MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W, 0));
	EXPECT_EQ(-EACCES, ds_free(self->dev, ro));
	EXPECT_EQ(42, p[42]);
	munmap(p, self->len);
	close(ro);
}

TEST_F(ops, dup_outlives_the_first_handle)
{
	int rw = ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W, 0);
	struct memalloc_info info;

	ASSERT_LE(0, rw);
	self->map[7] = 7;
	close(self->fd);
	ASSERT_EQ(0, ds_info(self->dev, rw, &info));
	EXPECT_EQ((uint32_t)(MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W), info.out_rights);
	EXPECT_EQ(0, ds_clear(self->dev, rw, 0, 8));
	EXPECT_EQ(0, self->map[7]);
	self->fd = rw;
}

TEST_F(ops, dup_bad_arguments_einval)
{
	struct memalloc_dup d = { .size = sizeof(d), .fd = self->fd,
				  .rights = MEMALLOC_RIGHT_R, .fd_flags = O_NONBLOCK };

	EXPECT_EQ(-EINVAL, ds_dup(self->dev, self->fd, 0, 0));
	EXPECT_EQ(-EINVAL, ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_W, 0));
	EXPECT_EQ(-EINVAL, ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R | 8, 0));
	EXPECT_EQ(-EINVAL, ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R,
				  MEMALLOC_CACHING_MASK));
	EXPECT_EQ(-EINVAL, ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R, 0x400));
	EXPECT_EQ(-EINVAL, ds_ioctl(self->dev, MEMALLOC_DUP, &d));
}

TEST_F(ops, dup_weaker_caching_eopnotsupp)
{
	struct memalloc_info info;
	int fd;

	/* Two memory types at once for one page: refused. */
	EXPECT_EQ(-EOPNOTSUPP, ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R,
				      MEMALLOC_WRITE_COMBINE));
	EXPECT_EQ(-EOPNOTSUPP, ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R,
				      MEMALLOC_UNCACHED));
	fd = ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R, MEMALLOC_CACHED);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ds_info(self->dev, fd, &info));
	EXPECT_EQ((uint32_t)MEMALLOC_CACHED, info.out_caching);
	close(fd);
}

TEST_F(ops, read_only_handle_lends_no_device_writes)
{
	int ro = ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R, 0);
	struct drm_prime_handle prime = { .fd = ro };
	struct drm_gem_close gclose = { 0 };
	int vgem = open_vgem();

	ASSERT_LE(0, ro);
	if (vgem < 0) {
		close(ro);
		SKIP(return, "no vgem device");
	}
	/* vgem maps what it imports for both directions. */
	EXPECT_EQ(-1, ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime));
	EXPECT_EQ(EACCES, errno);
	prime.fd = self->fd;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime));
	gclose.handle = prime.handle;
	EXPECT_EQ(0, ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gclose));
	close(vgem);
	close(ro);
}

TEST_F(ops, free_revokes_every_mapping_and_handle)
{
	long free0, pin0 = status_kib("VmPin");
	struct memalloc_info info;
	struct memalloc_allocate a = { .size = sizeof(a), .fd = self->fd, .length = 1 };
	struct memalloc_phys ph = { .size = sizeof(ph), .fd = self->fd };
	int ro = ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R, 0);
	int other = ds_alloc(self->dev, self->page, 0, 0, O_CLOEXEC);
	char *p;

	ASSERT_LE(0, ro);
	ASSERT_LE(0, other);
	p = mmap(NULL, self->len, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(self->map, 0x66, self->len);
	EXPECT_EQ(0x66, p[self->len - 1]);
	free0 = free_kib();

	ASSERT_EQ(0, ds_free(self->dev, self->fd));
	/* The memory is back at once, while fds and mappings remain. */
	EXPECT_LE((long)(self->len / KIB) * 3 / 4, free_kib() - free0);
	if (variant->flags & MEMALLOC_PINNED)
		EXPECT_EQ(pin0 - (long)(self->len / KIB), status_kib("VmPin"));
	EXPECT_TRUE(read_gets_sigbus(self->map));
	EXPECT_TRUE(read_gets_sigbus(self->map + self->len - 1));
	EXPECT_TRUE(read_gets_sigbus(p + self->page));

	/* Every operation on any handle answers ENODEV. */
	EXPECT_EQ(-ENODEV, ds_info(self->dev, self->fd, &info));
	EXPECT_EQ(-ENODEV, ds_info(self->dev, ro, &info));
	EXPECT_EQ(-ENODEV, ds_ioctl(self->dev, MEMALLOC_ALLOCATE, &a));
	EXPECT_EQ(-ENODEV, ds_clear(self->dev, self->fd, 0, 1));
	EXPECT_EQ(-ENODEV, ds_copy_in(self->dev, self->fd, 0, other, 0, 1));
	EXPECT_EQ(-ENODEV, ds_copy_in(self->dev, other, 0, self->fd, 0, 1));
	EXPECT_EQ(-ENODEV, ds_ioctl(self->dev, MEMALLOC_PHYS, &ph));
	EXPECT_EQ(-ENODEV, ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R, 0));
	EXPECT_EQ(-ENODEV, ds_free(self->dev, self->fd));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd, 0));
	EXPECT_EQ(ENODEV, errno);
	/* Other dataspaces are untouched. */
	EXPECT_EQ(0, ds_info(self->dev, other, &info));
	munmap(p, self->len);
	close(ro);
	close(other);
}

TEST_F(ops, free_while_a_device_holds_it_ebusy)
{
	struct drm_prime_handle prime = { .fd = self->fd };
	struct drm_gem_close gclose = { 0 };
	int vgem = open_vgem();

	if (vgem < 0)
		SKIP(return, "no vgem device");
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime));
	self->map[0] = 5;
	EXPECT_EQ(-EBUSY, ds_free(self->dev, self->fd));
	/* Nothing changed. */
	EXPECT_EQ(5, self->map[0]);
	EXPECT_FALSE(read_gets_sigbus(self->map + self->len - 1));
	gclose.handle = prime.handle;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gclose));
	close(vgem);
	EXPECT_EQ(0, ds_free(self->dev, self->fd));
	EXPECT_TRUE(read_gets_sigbus(self->map));
}

TEST_F(ops, import_after_free_enodev)
{
	struct drm_prime_handle prime = { .fd = self->fd };
	int vgem = open_vgem();

	if (vgem < 0)
		SKIP(return, "no vgem device");
	ASSERT_EQ(0, ds_free(self->dev, self->fd));
	EXPECT_EQ(-1, ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime));
	EXPECT_EQ(ENODEV, errno);
	close(vgem);
}

DEV_FIXTURE(caching);

TEST_F(caching, attribute_of_dataspace_and_handles)
{
	static const uint32_t kinds[] = { MEMALLOC_PINNED, MEMALLOC_CONTINUOUS };
	struct memalloc_info info;
	unsigned int i;
	int fd, h;

	for (i = 0; i < 2; i++) {
		fd = ds_alloc(self->dev, MIB, kinds[i] | MEMALLOC_WRITE_COMBINE, 0, O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ds_info(self->dev, fd, &info));
		EXPECT_EQ(kinds[i] | MEMALLOC_WRITE_COMBINE, info.out_flags);
		EXPECT_EQ((uint32_t)MEMALLOC_WRITE_COMBINE, info.out_caching);
		/* The weaker wins: write-combine over cached... */
		h = ds_dup(self->dev, fd, MEMALLOC_RIGHT_R, MEMALLOC_CACHED);
		ASSERT_LE(0, h);
		ASSERT_EQ(0, ds_info(self->dev, h, &info));
		EXPECT_EQ((uint32_t)MEMALLOC_WRITE_COMBINE, info.out_caching);
		close(h);
		/* ...and uncached would alias the memory's own attribute. */
		EXPECT_EQ(-EOPNOTSUPP, ds_dup(self->dev, fd, MEMALLOC_RIGHT_R,
					      MEMALLOC_UNCACHED));
		close(fd);
	}
}

/*
 * The page-table dump's lines for the @n addresses in @addrs, in one pass:
 * the dump walks the whole address space, slowly under KASAN.
 */
static int pte_lines_of(void *const *addrs, char (*lines)[256], int n)
{
	unsigned long lo, hi, a;
	char line[256];
	int i, found = 0;
	FILE *f = fopen("/sys/kernel/debug/page_tables/current_kernel", "r");

	if (!f)
		return -1;
	while (found < n && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "0x%lx-0x%lx", &lo, &hi) != 2)
			continue;
		for (i = 0; i < n; i++) {
			a = (unsigned long)addrs[i];
			if (a >= lo && a < hi) {
				strcpy(lines[i], line);
				found++;
			}
		}
	}
	fclose(f);
	return found == n ? 0 : -1;
}

TEST_F_TIMEOUT(caching, mappings_carry_the_attribute, 300)
{
	static const struct { uint32_t caching; const char *pcd, *pwt; } c[] = {
		{ MEMALLOC_CACHED, NULL, NULL },
		{ MEMALLOC_WRITE_COMBINE, NULL, "PWT" },
		{ MEMALLOC_UNCACHED, "PCD", NULL },
	};
	char lines[3][256];
	void *p[3];
	int fd[3], i;

	if (access("/sys/kernel/debug/page_tables/current_kernel", R_OK))
		SKIP(return, "no page-table dump (CONFIG_PTDUMP_DEBUGFS)");
	for (i = 0; i < 3; i++) {
		fd[i] = ds_alloc(self->dev, 64 * KIB, MEMALLOC_PINNED | c[i].caching, 0,
				 O_CLOEXEC);
		ASSERT_LE(0, fd[i]);
		/* Apart, so that the dump cannot merge their lines. */
		p[i] = map_aligned(fd[i], 64 * KIB, 24, PROT_READ | PROT_WRITE);
		ASSERT_NE(MAP_FAILED, p[i]);
		memset(p[i], 0xc3, 64 * KIB);
		EXPECT_EQ((char)0xc3, ((char *)p[i])[64 * KIB - 1]);
	}
	ASSERT_EQ(0, pte_lines_of(p, lines, 3));
	for (i = 0; i < 3; i++) {
		TH_LOG("caching %#x: %s", c[i].caching, lines[i]);
		if (c[i].pcd) {
			EXPECT_NE(NULL, strstr(lines[i], c[i].pcd));
		} else {
			EXPECT_EQ(NULL, strstr(lines[i], "PCD"));
		}
		if (c[i].pwt) {
			EXPECT_NE(NULL, strstr(lines[i], c[i].pwt));
		} else {
			EXPECT_EQ(NULL, strstr(lines[i], "PWT"));
		}
		munmap(p[i], 64 * KIB);
		close(fd[i]);
	}
}

/* It counts free memory or a cgroup's: no pool refilling beside it. */
POOL_OFF_WHILE_RUNNING()

TEST_HARNESS_MAIN
