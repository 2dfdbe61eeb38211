// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: the device, the handshake, lazy dataspaces and the
 * ioctl ABI rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <drm/drm.h>
#include <linux/capability.h>
#include <drm/drm_mode.h>
#include <linux/memalloc.h>

#include "kselftest_harness.h"
#include "memalloc.h"
#include "util.h"

/*
 * The module makes it 0600; the packages' udev rule gives it to the group
 * memalloc, 0660. Either way root owns it and other users have no access.
 */
TEST(device_node_is_never_world_accessible)
{
	struct stat st;

	ASSERT_EQ(0, stat(MEMALLOC_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0, st.st_mode & (S_IRWXO | S_ISUID | S_ISGID | S_ISVTX));
	EXPECT_EQ(0600, st.st_mode & S_IRWXU);
	EXPECT_EQ(0u, st.st_uid);
}

FIXTURE(dev) {
	int fd;
	long page;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->page = sysconf(_SC_PAGESIZE);
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST_F(dev, version_handshake)
{
	struct memalloc_version v = { .size = sizeof(v) };

	ASSERT_EQ(0, ioctl(self->fd, MEMALLOC_VERSION, &v));
	EXPECT_EQ(MEMALLOC_API_VERSION, v.out_api_version);
	EXPECT_EQ(0u, v.out_alloc_flags & ~MEMALLOC_ALLOC_FLAGS_MASK);
	EXPECT_TRUE(v.out_page_sizes & self->page);
	EXPECT_EQ(0u, v.out_page_sizes & (self->page - 1));
}

TEST_F(dev, lazy_alloc_is_a_dma_buf)
{
	char *name;
	int fd;

	fd = ds_alloc(self->fd, 3 * self->page + 1, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	name = fdinfo_field(fd, "exp_name");
	ASSERT_NE(NULL, name);
	EXPECT_STREQ("memalloc", name);
	free(name);
	/* A dma-buf is as large as its pages: the byte size is rounded up. */
	EXPECT_EQ(4 * self->page, lseek(fd, 0, SEEK_END));
	close(fd);
}

TEST_F(dev, cloexec_honoured)
{
	int fd;

	fd = ds_alloc(self->fd, self->page, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	fd = ds_alloc(self->fd, self->page, 0, 0, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

TEST_F(dev, map_reads_zero_and_keeps_writes)
{
	size_t len = 16 * self->page;
	unsigned char *a, *b;
	size_t i;
	int fd;

	fd = ds_alloc(self->fd, len, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, a);
	for (i = 0; i < len; i++)
		ASSERT_EQ(0, a[i]);
	for (i = 0; i < len; i++)
		a[i] = (unsigned char)(i * 7 + 1);
	/* A second mapping sees the same memory. */
	b = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, b);
	EXPECT_EQ(0, memcmp(a, b, len));
	munmap(b, len);
	munmap(a, len);
	/* And a mapping made after every other one went away. */
	b = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, b);
	for (i = 0; i < len; i++)
		ASSERT_EQ((unsigned char)(i * 7 + 1), b[i]);
	munmap(b, len);
	close(fd);
}

TEST_F(dev, map_private_refused)
{
	void *p;
	int fd;

	fd = ds_alloc(self->fd, self->page, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, self->page, PROT_READ, MAP_PRIVATE, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST_F(dev, map_past_end_refused)
{
	void *p;
	int fd;

	fd = ds_alloc(self->fd, 2 * self->page, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 3 * self->page, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, fd, 2 * self->page);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* The last page is still mappable. */
	p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, fd, self->page);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, self->page);
	close(fd);
}

TEST_F(dev, mremap_growth_refused)
{
	void *p, *q;
	int fd;

	fd = ds_alloc(self->fd, 4 * self->page, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	q = mremap(p, self->page, 2 * self->page, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_EQ(EFAULT, errno);
	munmap(p, self->page);
	close(fd);
}

/* The VmFlags line of the mapping at @addr in smaps, or "". */
static const char *vmflags_of(const void *addr)
{
	static char line[256], found[256];
	unsigned long lo, hi, a = (unsigned long)addr;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	found[0] = 0;
	if (!f)
		return found;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = a >= lo && a < hi;
		else if (in && !strncmp(line, "VmFlags:", 8))
			strcpy(found, line);
	}
	fclose(f);
	return found;
}

/* Every backing: no growth (dontexpand) and no core dump (dontdump). */
TEST_F(dev, mappings_do_not_expand_or_dump)
{
	static const uint32_t kinds[] = {
		0, MEMALLOC_PINNED, MEMALLOC_CONTINUOUS, MEMALLOC_SUPER_PAGES,
		MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES,
	};
	const size_t len = 2 << 20;
	unsigned int i;
	const char *flags;
	void *p;
	int fd;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		fd = ds_alloc(self->fd, len, kinds[i], 0, O_CLOEXEC);
		ASSERT_LE(0, fd);
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		flags = vmflags_of(p);
		EXPECT_NE(NULL, strstr(flags, " de")) TH_LOG("flags %#x: %s", kinds[i], flags);
		EXPECT_NE(NULL, strstr(flags, " dd")) TH_LOG("flags %#x: %s", kinds[i], flags);
		munmap(p, len);
		close(fd);
	}
}

/* Lazy: nothing taken until touched; all of it back when fd and mapping go. */
TEST_F(dev, lazy_memory_taken_on_touch_and_given_back)
{
	const long len = 64 << 20, slack = 8 << 20;
	long base, untouched, touched, mapped, gone;
	char *p;
	int fd;

	base = meminfo_kib("Shmem") << 10;
	fd = ds_alloc(self->fd, len, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	untouched = meminfo_kib("Shmem") << 10;
	EXPECT_GT(base + slack, untouched);

	memset(p, 0x5a, len);
	touched = meminfo_kib("Shmem") << 10;
	EXPECT_LE(base + len - slack, touched);

	/* The mapping alone keeps the memory. */
	close(fd);
	mapped = meminfo_kib("Shmem") << 10;
	EXPECT_LE(base + len - slack, mapped);
	EXPECT_EQ(0x5a, p[len - 1]);

	munmap(p, len);
	gone = meminfo_kib("Shmem") << 10;
	EXPECT_GT(base + slack, gone);
}

/*
 * A lazy dataspace beyond 2 GiB: its map file is a large file, mapped and
 * used at its far end, where only what is touched is taken.
 */
TEST_F(dev, lazy_beyond_2_gib)
{
	const uint64_t len = 3ULL << 30, far = len - (1ULL << 20);
	struct memalloc_info info = { .size = sizeof(info) };
	char *p;
	int fd;

	fd = ds_alloc(self->fd, len, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p + far, 0x3c, self->page);
	EXPECT_EQ(0x3c, p[far + self->page - 1]);
	ASSERT_EQ(0, ds_info(self->fd, fd, &info));
	EXPECT_EQ((uint64_t)self->page, info.out_resident);
	/* Read, the next page is zero (and taken: shmem fills holes read). */
	EXPECT_EQ(0, p[far + self->page]);
	munmap(p, len);
	close(fd);
}

/* The dataspace outlives the allocator fd it came from. */
TEST(outlives_device_fd)
{
	int dev, fd;
	char *p;

	dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	fd = ds_alloc(dev, 4096, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(dev);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	EXPECT_EQ(1, p[0]);
	munmap(p, 4096);
	close(fd);
}

TEST_F(dev, info_of_a_lazy_dataspace_follows_its_pages)
{
	struct memalloc_info info;
	char *p;
	int fd;

	fd = ds_alloc(self->fd, 3 * self->page + 1, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ds_info(self->fd, fd, &info));
	EXPECT_EQ(3 * self->page + 1, (long)info.out_length);
	EXPECT_EQ(4 * self->page, (long)info.out_mappable);
	EXPECT_EQ(0u, info.out_resident);
	EXPECT_EQ(0u, info.out_flags);
	EXPECT_EQ(MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W, info.out_rights);
	EXPECT_EQ(12u, info.out_page_shift);
	EXPECT_EQ(0u, info.out_info_flags);
	p = mmap(NULL, 4 * self->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	p[2 * self->page] = 1;
	ASSERT_EQ(0, ds_info(self->fd, fd, &info));
	EXPECT_EQ(2 * self->page, (long)info.out_resident);
	munmap(p, 4 * self->page);
	close(fd);
}

TEST_F(dev, info_of_each_kind)
{
	const struct {
		uint32_t flags;
		unsigned int shift;
		uint32_t info_flags;
	} kinds[] = {
		{ MEMALLOC_PINNED, 12, 0 },
		{ MEMALLOC_CONTINUOUS, 12, MEMALLOC_INFO_CONTIGUOUS },
		{ MEMALLOC_CONTINUOUS | MEMALLOC_PINNED, 12, MEMALLOC_INFO_CONTIGUOUS },
		{ MEMALLOC_SUPER_PAGES, 21, 0 },
		{ MEMALLOC_SUPER_PAGES | MEMALLOC_PINNED, 21, 0 },
	};
	struct memalloc_info info;
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		uint64_t mappable = kinds[i].shift == 21 ? 2 << 20 : 2 * self->page;

		fd = ds_alloc(self->fd, self->page + 5, kinds[i].flags, 0, O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ds_info(self->fd, fd, &info));
		EXPECT_EQ(self->page + 5, (long)info.out_length);
		EXPECT_EQ(mappable, info.out_mappable);
		EXPECT_EQ(kinds[i].flags, info.out_flags);
		EXPECT_EQ(kinds[i].shift, info.out_page_shift);
		EXPECT_EQ(kinds[i].info_flags, info.out_info_flags);
		/* Eager kinds hold everything from the start, lazy ones nothing. */
		EXPECT_EQ(kinds[i].flags & (MEMALLOC_PINNED | MEMALLOC_CONTINUOUS) ?
			  mappable : 0, info.out_resident);
		close(fd);
	}
}

TEST_F(dev, info_of_a_closed_fd_ebadf)
{
	struct memalloc_info info;
	int fd = ds_alloc(self->fd, self->page, 0, 0, O_CLOEXEC);

	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(-EBADF, ds_info(self->fd, fd, &info));
	EXPECT_EQ(-EBADF, ds_info(self->fd, -1, &info));
}

TEST_F(dev, info_of_a_file_not_a_dataspace_einval)
{
	struct memalloc_info info;

	EXPECT_EQ(-EINVAL, ds_info(self->fd, self->fd, &info));
	EXPECT_EQ(0u, info.out_length);
}

/* Another exporter's dma-buf (vgem's) is not a dataspace. */
TEST_F(dev, info_of_a_foreign_dma_buf_einval)
{
	struct drm_mode_create_dumb dumb = { .height = 1, .width = 1024, .bpp = 32 };
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC };
	struct memalloc_info info;
	int vgem = open_vgem();

	if (vgem < 0)
		SKIP(return, "no vgem device");
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &dumb));
	prime.handle = dumb.handle;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime));
	EXPECT_EQ(-EINVAL, ds_info(self->fd, prime.fd, &info));
	close(prime.fd);
	close(vgem);
}

static int ds_allocate(int dev, int fd, uint64_t offset, uint64_t length)
{
	struct memalloc_allocate a = {
		.size = sizeof(a), .fd = fd, .offset = offset, .length = length,
	};

	return ioctl(dev, MEMALLOC_ALLOCATE, &a) ? -errno : 0;
}

TEST_F(dev, allocate_populates_the_pages_of_the_range)
{
	struct memalloc_info info;
	size_t len = 16 * self->page;
	char *p;
	int fd;

	fd = ds_alloc(self->fd, len, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, ds_allocate(self->fd, fd, 0, 0));
	ASSERT_EQ(0, ds_info(self->fd, fd, &info));
	EXPECT_EQ(0u, info.out_resident);
	/* Bytes 2p+1 .. 5p: pages 2, 3, 4 and 5. */
	EXPECT_EQ(0, ds_allocate(self->fd, fd, 2 * self->page + 1, 3 * self->page));
	ASSERT_EQ(0, ds_info(self->fd, fd, &info));
	EXPECT_EQ(4 * self->page, (long)info.out_resident);
	/* Populated pages read as zero. */
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(all_zero(p + 2 * self->page, 4 * self->page));
	munmap(p, len);
	EXPECT_EQ(0, ds_allocate(self->fd, fd, 0, len));
	ASSERT_EQ(0, ds_info(self->fd, fd, &info));
	EXPECT_EQ((long)len, (long)info.out_resident);
	close(fd);
}

TEST_F(dev, allocate_past_the_byte_size_erange)
{
	size_t size = 3 * self->page + 10;
	struct memalloc_info info;
	int fd;

	fd = ds_alloc(self->fd, size, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ERANGE, ds_allocate(self->fd, fd, 0, size + 1));
	EXPECT_EQ(-ERANGE, ds_allocate(self->fd, fd, size, 1));
	EXPECT_EQ(-ERANGE, ds_allocate(self->fd, fd, UINT64_MAX, 2));
	ASSERT_EQ(0, ds_info(self->fd, fd, &info));
	EXPECT_EQ(0u, info.out_resident);
	/* Up to the last byte is fine. */
	EXPECT_EQ(0, ds_allocate(self->fd, fd, size - 1, 1));
	close(fd);
}

TEST_F(dev, allocate_of_an_eager_dataspace_is_a_no_op)
{
	struct memalloc_info info;
	int fd;

	fd = ds_alloc(self->fd, 4 * self->page, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, ds_allocate(self->fd, fd, 0, 4 * self->page));
	ASSERT_EQ(0, ds_info(self->fd, fd, &info));
	EXPECT_EQ(4 * self->page, (long)info.out_resident);
	EXPECT_EQ(-ERANGE, ds_allocate(self->fd, fd, 0, 4 * self->page + 1));
	close(fd);
}

TEST_F(dev, allocate_of_a_bad_fd)
{
	EXPECT_EQ(-EBADF, ds_allocate(self->fd, -1, 0, 1));
	EXPECT_EQ(-EINVAL, ds_allocate(self->fd, self->fd, 0, 1));
}

static int ds_phys(int dev, int fd, uint64_t offset, struct memalloc_phys *phys)
{
	memset(phys, 0, sizeof(*phys));
	phys->size = sizeof(*phys);
	phys->fd = fd;
	phys->offset = offset;
	return ioctl(dev, MEMALLOC_PHYS, phys) ? -errno : 0;
}

/* L4Re's example: phys(123) of a 1024-byte contiguous dataspace, 901 bytes. */
TEST_F(dev, phys_keeps_the_page_offset_and_ends_at_the_byte_size)
{
	struct memalloc_phys phys;
	char *p;
	int fd;

	fd = ds_alloc(self->fd, 1024, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ds_phys(self->fd, fd, 123, &phys));
	EXPECT_EQ(901u, phys.out_length);
	p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(pfn_of(p) * self->page + 123, phys.out_addr);
	munmap(p, self->page);
	EXPECT_EQ(-ERANGE, ds_phys(self->fd, fd, 1024, &phys));
	EXPECT_EQ(-ERANGE, ds_phys(self->fd, fd, UINT64_MAX, &phys));
	close(fd);
}

TEST_F(dev, phys_matches_pagemap)
{
	const uint32_t kinds[] = { MEMALLOC_CONTINUOUS, MEMALLOC_PINNED,
				   MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES };
	const size_t len = 4 << 20, offs[] = { 0, 5000, (2 << 20) + 77, len - 1 };
	struct memalloc_phys phys;
	unsigned int k, o;
	char *p;
	int fd;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		fd = ds_alloc(self->fd, len, kinds[k], 0, O_CLOEXEC);
		ASSERT_LE(0, fd);
		p = map_aligned(fd, len, 21, PROT_READ);
		ASSERT_NE(MAP_FAILED, p);
		/* Fault everything in, for pagemap to show it. */
		for (o = 0; o < len; o += self->page)
			ASSERT_EQ(0, ((volatile char *)p)[o]);
		for (o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
			size_t off = offs[o], end;
			uint64_t pfn0;

			ASSERT_EQ(0, ds_phys(self->fd, fd, off, &phys));
			pfn0 = pfn_of(p + off);
			EXPECT_EQ(pfn0 * self->page + off % self->page, phys.out_addr);
			end = off + phys.out_length;
			ASSERT_LE(end, len);
			/* The run is contiguous, and ends where contiguity does. */
			EXPECT_EQ(pfn0 + (end - 1) / self->page - off / self->page,
				  pfn_of(p + end - 1));
			if (end < len)
				EXPECT_NE(pfn0 + end / self->page - off / self->page,
					  pfn_of(p + end));
			if (kinds[k] & MEMALLOC_CONTINUOUS)
				EXPECT_EQ(len - off, phys.out_length);
		}
		munmap(p, len);
		close(fd);
	}
}

TEST_F(dev, phys_of_a_lazy_dataspace_einval)
{
	struct memalloc_phys phys;
	int fd = ds_alloc(self->fd, self->page, 0, 0, O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, ds_phys(self->fd, fd, 0, &phys));
	EXPECT_EQ(0u, phys.out_addr);
	close(fd);
}

TEST_F(dev, phys_without_cap_sys_admin_eperm)
{
	struct memalloc_phys phys;
	int fd = ds_alloc(self->fd, self->page, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, drop_effective_cap(CAP_SYS_ADMIN));
	EXPECT_EQ(-EPERM, ds_phys(self->fd, fd, 0, &phys));
	EXPECT_EQ(0u, phys.out_addr);
	close(fd);
}

TEST(library_alloc)
{
	struct memalloc_features f;
	struct memalloc *ma;
	int fd;

	ASSERT_EQ(0, memalloc_open(&ma));
	ASSERT_EQ(0, memalloc_features(ma, &f));
	EXPECT_EQ(MEMALLOC_API_VERSION, f.api_version);
	fd = memalloc_alloc_fd(ma, 8192, 0, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	EXPECT_EQ(-ERANGE, memalloc_alloc_fd(ma, 0, 0, 0));
	memalloc_close(ma);
}

TEST_HARNESS_MAIN
