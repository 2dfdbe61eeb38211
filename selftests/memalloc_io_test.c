// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: dataspaces with the rest of the kernel. O_DIRECT on a
 * real block device (brd), io_uring fixed buffers, a real dma-buf importer
 * (vgem), CPU sync, fork, SCM_RIGHTS, and a fatal signal mid-allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm/drm.h>
#include <linux/dma-buf.h>
#include <linux/io_uring.h>

#include "kselftest_harness.h"
#include "util.h"

#define MIB (1024ul * 1024)
#define BLOCK_DEV "/dev/ram0"

FIXTURE(io) {
	int dev;
	int fd;
	size_t len;
	unsigned char *map;
};

FIXTURE_VARIANT(io) {
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(io, lazy) { .flags = 0 };
FIXTURE_VARIANT_ADD(io, super_pages) { .flags = MEMALLOC_SUPER_PAGES };
FIXTURE_VARIANT_ADD(io, pinned_super_pages) {
	.flags = MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES };
FIXTURE_VARIANT_ADD(io, pinned) { .flags = MEMALLOC_PINNED };
FIXTURE_VARIANT_ADD(io, contiguous) { .flags = MEMALLOC_CONTINUOUS };

FIXTURE_SETUP(io)
{
	self->len = 4 * MIB;
	self->dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->fd = ds_alloc(self->dev, self->len, variant->flags, 0, O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->map = map_aligned(self->fd, self->len, 21, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, self->map);
}

FIXTURE_TEARDOWN(io)
{
	munmap(self->map, self->len);
	close(self->fd);
	close(self->dev);
}

static void pattern(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)((i >> 9) * 31 + i + seed);
}

TEST_F(io, o_direct_read_into_and_write_from_mapping)
{
	unsigned char *buf;
	int blk;

	blk = open(BLOCK_DEV, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (blk < 0)
		SKIP(return, "no %s: %s", BLOCK_DEV, strerror(errno));
	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, self->len));

	/* Device -> mapping. */
	pattern(buf, self->len, 1);
	ASSERT_EQ((ssize_t)self->len, pwrite(blk, buf, self->len, 0));
	ASSERT_EQ((ssize_t)self->len, pread(blk, self->map, self->len, 0));
	EXPECT_EQ(0, memcmp(buf, self->map, self->len));

	/* Mapping -> device. */
	pattern(self->map, self->len, 7);
	ASSERT_EQ((ssize_t)self->len, pwrite(blk, self->map, self->len, 0));
	memset(buf, 0, self->len);
	ASSERT_EQ((ssize_t)self->len, pread(blk, buf, self->len, 0));
	EXPECT_EQ(0, memcmp(buf, self->map, self->len));
	free(buf);
	close(blk);
}

/*
 * io_uring registers fixed buffers from the kinds MEMALLOC_VERSION names
 * for it; the others are refused (EOPNOTSUPP from a kernel whose io_uring
 * takes shmem mappings only, EFAULT from get_user_pages()).
 */
TEST_F(io, io_uring_fixed_buffer)
{
	struct io_uring_params params = { 0 };
	struct iovec iov = { self->map, self->len };
	struct memalloc_version v;
	int ring, ret;

	ASSERT_EQ(0, kernel_facts(self->dev, &v));
	ring = syscall(__NR_io_uring_setup, 4, &params);
	if (ring < 0)
		SKIP(return, "io_uring_setup: %s", strerror(errno));
	ret = syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, &iov, 1);
	if (v.out_io_uring_kinds & kind_of(variant->flags)) {
		EXPECT_EQ(0, ret) TH_LOG("register: %s", strerror(errno));
	} else {
		EXPECT_EQ(-1, ret);
		EXPECT_TRUE(errno == EOPNOTSUPP || errno == EFAULT) TH_LOG("%s", strerror(errno));
	}
	close(ring);
}

TEST_F(io, vgem_imports_the_dma_buf)
{
	struct drm_prime_handle prime = { .fd = self->fd };
	struct drm_gem_close gclose = { 0 };
	int vgem = open_vgem();

	if (vgem < 0)
		SKIP(return, "no vgem device");
	self->map[0] = 0x42;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime))
		TH_LOG("import: %s", strerror(errno));
	EXPECT_NE(0u, prime.handle);
	/* The CPU mapping is untouched by the import. */
	EXPECT_EQ(0x42, self->map[0]);
	gclose.handle = prime.handle;
	EXPECT_EQ(0, ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gclose));
	close(vgem);
}

TEST_F(io, dma_buf_cpu_sync)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };

	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	self->map[1] = 1;
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	sync.flags = 0x80;
	EXPECT_EQ(-1, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(io, fork_shares_the_mapping)
{
	pid_t pid;
	int status;

	self->map[0] = 1;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (self->map[0] != 1)
			_exit(1);
		self->map[self->len - 1] = 2;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(2, self->map[self->len - 1]);
}

/* The fd passed to a process that never had it reaches the same memory. */
TEST_F(io, scm_rights_passes_the_dataspace)
{
	int sv[2], status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	self->map[5] = 5;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		unsigned char *p;
		int fd;

		/* Forget what fork gave: only the passed fd may be used. */
		munmap(self->map, self->len);
		close(self->fd);
		fd = recv_fd(sv[1]);
		if (fd < 0)
			_exit(1);
		p = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED || p[5] != 5)
			_exit(2);
		p[6] = 6;
		_exit(0);
	}
	ASSERT_EQ(0, send_fd(sv[0], self->fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(6, self->map[6]);
	close(sv[0]);
	close(sv[1]);
}

/* A process killed in the middle of a 1 GiB allocation leaves nothing. */
FIXTURE(killed) {
	int unused;
};

FIXTURE_VARIANT(killed) {
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(killed, pinned) { .flags = MEMALLOC_PINNED };
FIXTURE_VARIANT_ADD(killed, contiguous) { .flags = MEMALLOC_CONTINUOUS };

FIXTURE_SETUP(killed)
{
}

FIXTURE_TEARDOWN(killed)
{
}

TEST_F_TIMEOUT(killed, memory_back_after_sigkill, 240)
{
	const struct timespec wait = { 0, 20 * 1000 * 1000 };
	const long taken = 256 * 1024;
	long before, after, low, cached = meminfo_kib("Cached");
	int status, i, ended = 0;
	pid_t pid;

	/* Free memory, the pages on per-CPU lists counted (6.12 keeps many). */
	before = free_kib();
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
		int fd = ds_alloc(dev, 1024 * MIB, variant->flags, 0, O_CLOEXEC);

		/* Only a failure ends it: the exit status says which. */
		if (fd >= 0)
			pause();
		_exit(fd < 0 ? -fd : 255);
	}
	/* Kill it once it has taken 256 MiB: mid-way, unless it is quick. */
	low = before;
	for (i = 0; i < 3000 && before - low < taken && !ended; i++) {
		nanosleep(&wait, NULL);
		low = free_kib();
		ended = waitpid(pid, &status, WNOHANG) == pid;
	}
	if (!ended) {
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	}
	if (ended)
		TH_LOG("after %d polls the child ended by itself: %s %d", i,
		       WIFSIGNALED(status) ? "signal" : "errno",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	/* This test's SIGKILL, not the OOM killer's or its own end. */
	EXPECT_FALSE(ended);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	after = free_kib();
	TH_LOG("free %ld KiB before, %ld at the kill, %ld after; Cached %+ld KiB",
	       before, low, after, meminfo_kib("Cached") - cached);
	ASSERT_LE(taken, before - low);
	EXPECT_GT(64 * 1024, before - after);
}

/* It counts free memory or a cgroup's: no pool refilling beside it. */
POOL_OFF_WHILE_RUNNING()

TEST_HARNESS_MAIN
