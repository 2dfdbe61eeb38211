// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: the ioctl ABI rules, one failing case per rule with
 * its exact errno, and proof that a refused call changes nothing.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/memalloc.h>

#include "kselftest_harness.h"
#include "util.h"

#ifndef offsetofend
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#endif

/* A memalloc_alloc with room for a longer, future struct behind it. */
struct alloc_ext {
	struct memalloc_alloc a;
	uint64_t tail[4];
};

FIXTURE(abi) {
	int fd;
	struct alloc_ext ext;
	int next_fd;
};

FIXTURE_SETUP(abi)
{
	self->fd = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	memset(&self->ext, 0, sizeof(self->ext));
	self->ext.a.size = sizeof(self->ext.a);
	self->ext.a.length = 4096;
	self->ext.a.fd_flags = O_CLOEXEC;
	self->ext.a.out_fd = -1;
	/* The lowest free fd: a refused call must not have taken it. */
	self->next_fd = dup(0);
	ASSERT_LE(0, self->next_fd);
	close(self->next_fd);
}

FIXTURE_TEARDOWN(abi)
{
	close(self->fd);
}

/* Issue MEMALLOC_ALLOC and expect it to fail with @err, leaving no fd. */
#define EXPECT_ALLOC_ERRNO(err)						\
	do {								\
		int _fd;						\
		EXPECT_EQ(-1, ioctl(self->fd, MEMALLOC_ALLOC, &self->ext)); \
		EXPECT_EQ(err, errno);					\
		EXPECT_EQ(-1, self->ext.a.out_fd);			\
		_fd = dup(0);						\
		EXPECT_EQ(self->next_fd, _fd);				\
		close(_fd);						\
	} while (0)

TEST_F(abi, valid_call_succeeds)
{
	ASSERT_EQ(0, ioctl(self->fd, MEMALLOC_ALLOC, &self->ext));
	EXPECT_LE(0, self->ext.a.out_fd);
	close(self->ext.a.out_fd);
}

TEST_F(abi, size_below_first_version_einval)
{
	self->ext.a.size = sizeof(self->ext.a) - 1;
	EXPECT_ALLOC_ERRNO(EINVAL);
}

TEST_F(abi, size_zero_einval)
{
	self->ext.a.size = 0;
	EXPECT_ALLOC_ERRNO(EINVAL);
}

TEST_F(abi, longer_struct_nonzero_tail_e2big)
{
	self->ext.a.size = sizeof(self->ext);
	self->ext.tail[3] = 1;
	EXPECT_ALLOC_ERRNO(E2BIG);
}

TEST_F(abi, longer_struct_zero_tail_accepted)
{
	self->ext.a.size = sizeof(self->ext);
	ASSERT_EQ(0, ioctl(self->fd, MEMALLOC_ALLOC, &self->ext));
	EXPECT_LE(0, self->ext.a.out_fd);
	/* Nothing is written past the struct the kernel knows. */
	EXPECT_EQ(0u, self->ext.tail[0] | self->ext.tail[1] |
		      self->ext.tail[2] | self->ext.tail[3]);
	close(self->ext.a.out_fd);
}

TEST_F(abi, reserved_nonzero_einval)
{
	self->ext.a.__reserved = 1;
	EXPECT_ALLOC_ERRNO(EINVAL);
}

TEST_F(abi, unknown_flag_einval)
{
	self->ext.a.flags = 0x08;
	EXPECT_ALLOC_ERRNO(EINVAL);
}

TEST_F(abi, caching_value_3_einval)
{
	self->ext.a.flags = MEMALLOC_PINNED | MEMALLOC_CACHING_MASK;
	EXPECT_ALLOC_ERRNO(EINVAL);
}

TEST_F(abi, caching_on_lazy_eopnotsupp)
{
	self->ext.a.flags = MEMALLOC_WRITE_COMBINE;
	EXPECT_ALLOC_ERRNO(EOPNOTSUPP);
}

TEST_F(abi, caching_on_super_pages_eopnotsupp)
{
	self->ext.a.flags = MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES | MEMALLOC_UNCACHED;
	EXPECT_ALLOC_ERRNO(EOPNOTSUPP);
}

TEST_F(abi, top_flag_einval)
{
	self->ext.a.flags = 0x80000000u;
	EXPECT_ALLOC_ERRNO(EINVAL);
}

TEST_F(abi, unknown_fd_flag_einval)
{
	self->ext.a.fd_flags = O_NONBLOCK;
	EXPECT_ALLOC_ERRNO(EINVAL);
}

TEST_F(abi, length_zero_erange)
{
	self->ext.a.length = 0;
	EXPECT_ALLOC_ERRNO(ERANGE);
}

TEST_F(abi, length_rounding_overflow_erange)
{
	self->ext.a.length = UINT64_MAX;
	EXPECT_ALLOC_ERRNO(ERANGE);
}

TEST_F(abi, length_beyond_machine_enomem)
{
	/* Rounds without overflow, but no machine has it. */
	self->ext.a.length = UINT64_MAX - 2 * 4096 + 1;
	EXPECT_ALLOC_ERRNO(ENOMEM);
}

TEST_F(abi, align_64_einval)
{
	self->ext.a.align = 64;
	EXPECT_ALLOC_ERRNO(EINVAL);
}

TEST_F(abi, align_above_pud_einval)
{
	self->ext.a.align = 31;
	EXPECT_ALLOC_ERRNO(EINVAL);
}

TEST_F(abi, align_pud_accepted)
{
	self->ext.a.align = 30;
	ASSERT_EQ(0, ioctl(self->fd, MEMALLOC_ALLOC, &self->ext));
	close(self->ext.a.out_fd);
}

TEST_F(abi, align_raised_and_written_back)
{
	ASSERT_EQ(0, ioctl(self->fd, MEMALLOC_ALLOC, &self->ext));
	EXPECT_EQ(12u, self->ext.a.align);
	close(self->ext.a.out_fd);
	self->ext.a.flags = MEMALLOC_SUPER_PAGES;
	self->ext.a.align = 13;
	ASSERT_EQ(0, ioctl(self->fd, MEMALLOC_ALLOC, &self->ext));
	EXPECT_EQ(21u, self->ext.a.align);
	close(self->ext.a.out_fd);
}

/*
 * The size rules hold for every command on a dataspace: one byte short of
 * the first version is EINVAL, a non-zero byte past the struct is E2BIG,
 * and neither does anything (a FREE that did would leave INFO ENODEV).
 */
TEST_F(abi, every_dataspace_command_checks_its_size)
{
	struct {
		unsigned long cmd;
		uint32_t min;
		const char *name;
	} cmds[] = {
		{ MEMALLOC_INFO, offsetofend(struct memalloc_info, out_info_flags), "info" },
		{ MEMALLOC_ALLOCATE, sizeof(struct memalloc_allocate), "allocate" },
		{ MEMALLOC_PHYS, sizeof(struct memalloc_phys), "phys" },
		{ MEMALLOC_DUP, sizeof(struct memalloc_dup), "dup" },
		{ MEMALLOC_FREE, sizeof(struct memalloc_free), "free" },
		{ MEMALLOC_CLEAR, sizeof(struct memalloc_clear), "clear" },
		{ MEMALLOC_COPY_IN, sizeof(struct memalloc_copy_in), "copy_in" },
	};
	struct memalloc_info info = { .size = sizeof(info) };
	union {
		uint32_t size;
		uint32_t word[32];
	} buf;
	unsigned int i;
	int fd;

	ASSERT_EQ(0, ioctl(self->fd, MEMALLOC_ALLOC, &self->ext));
	fd = self->ext.a.out_fd;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		/* Every struct has the dataspace fd right after the size. */
		memset(&buf, 0, sizeof(buf));
		buf.word[1] = fd;
		buf.size = cmds[i].min - 1;
		EXPECT_EQ(-1, ioctl(self->fd, cmds[i].cmd, &buf)) TH_LOG("%s", cmds[i].name);
		EXPECT_EQ(EINVAL, errno) TH_LOG("%s", cmds[i].name);
		buf.size = sizeof(buf);
		buf.word[31] = 1;
		EXPECT_EQ(-1, ioctl(self->fd, cmds[i].cmd, &buf)) TH_LOG("%s", cmds[i].name);
		EXPECT_EQ(E2BIG, errno) TH_LOG("%s", cmds[i].name);
	}
	info.fd = fd;
	EXPECT_EQ(0, ioctl(self->fd, MEMALLOC_INFO, &info));
	close(fd);
}

TEST_F(abi, unsupported_flag_eopnotsupp)
{
	struct memalloc_version v = { .size = sizeof(v) };
	uint32_t flag;

	ASSERT_EQ(0, ioctl(self->fd, MEMALLOC_VERSION, &v));
	for (flag = 1; flag & MEMALLOC_ALLOC_FLAGS_MASK; flag <<= 1) {
		if (v.out_alloc_flags & flag)
			continue;
		self->ext.a.flags = flag;
		EXPECT_ALLOC_ERRNO(EOPNOTSUPP);
	}
	if (v.out_alloc_flags == MEMALLOC_ALLOC_FLAGS_MASK)
		SKIP(return, "this kernel honours every flag");
}

TEST_F(abi, unreadable_struct_efault)
{
	EXPECT_EQ(-1, ioctl(self->fd, MEMALLOC_ALLOC, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(abi, unknown_command_enotty)
{
	EXPECT_EQ(-1, ioctl(self->fd, _IO(MEMALLOC_TYPE, 0x7f), &self->ext));
	EXPECT_EQ(ENOTTY, errno);
	/* A known number with another type or direction is unknown too. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(MEMALLOC_TYPE, MEMALLOC_CMD_ALLOC,
					    struct memalloc_alloc), &self->ext));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO('b', MEMALLOC_CMD_ALLOC), &self->ext));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(abi, version_reserved_einval)
{
	struct memalloc_version v = { .size = sizeof(v), .__reserved = 1 };

	EXPECT_EQ(-1, ioctl(self->fd, MEMALLOC_VERSION, &v));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0u, v.out_api_version);
}

TEST_F(abi, version_reserved2_einval)
{
	struct memalloc_version v = { .size = sizeof(v), .__reserved2 = 1 };

	EXPECT_EQ(-1, ioctl(self->fd, MEMALLOC_VERSION, &v));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0u, v.out_api_version);
}

TEST_F(abi, version_short_size_einval)
{
	struct memalloc_version v = { .size = MEMALLOC_VERSION_SIZE_VER0 - 8 };

	EXPECT_EQ(-1, ioctl(self->fd, MEMALLOC_VERSION, &v));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0u, v.out_api_version);
}

/* A caller of API 1 gets its struct filled, and nothing written past it. */
TEST_F(abi, version_first_size_answered_alone)
{
	struct memalloc_version v;

	memset(&v, 0x5a, sizeof(v));
	v.size = MEMALLOC_VERSION_SIZE_VER0;
	v.__reserved = 0;
	ASSERT_EQ(0, ioctl(self->fd, MEMALLOC_VERSION, &v));
	EXPECT_EQ((uint32_t)MEMALLOC_API_VERSION, v.out_api_version);
	EXPECT_EQ(0x5a5a5a5au, v.out_kinds);
	EXPECT_EQ(0x5a5a5a5au, v.__reserved2);
}

TEST_F(abi, version_nonzero_tail_e2big)
{
	struct {
		struct memalloc_version v;
		uint64_t tail;
	} ext = { .v.size = sizeof(ext), .tail = 1 };

	EXPECT_EQ(-1, ioctl(self->fd, MEMALLOC_VERSION, &ext));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(0u, ext.v.out_api_version);
}

TEST_HARNESS_MAIN
