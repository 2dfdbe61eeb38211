// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: unloading and reloading the module. Needs the path of
 * memalloc.ko in MEMALLOC_KO; leaves the module loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "util.h"

static int load(void)
{
	const char *ko = getenv("MEMALLOC_KO");
	int fd, ret;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

static int unload(void)
{
	return syscall(SYS_delete_module, "memalloc", O_NONBLOCK) ? -errno : 0;
}

/* Allocate, map and touch @len bytes, then let them go. */
static int use(size_t len)
{
	int dev, fd;
	char *p;

	dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	fd = ds_alloc(dev, len, 0, 0, O_CLOEXEC);
	close(dev);
	if (fd < 0)
		return fd;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	memset(p, 0xa5, len);
	munmap(p, len);
	return 0;
}

static long memfree_settled(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			perror("drop_caches");
		close(fd);
	}
	return meminfo_kib("MemFree");
}

FIXTURE(reload) {
	int unused;
};

FIXTURE_SETUP(reload)
{
	if (!getenv("MEMALLOC_KO"))
		SKIP(return, "MEMALLOC_KO does not name memalloc.ko");
}

FIXTURE_TEARDOWN(reload)
{
	/* Whatever happened, leave the module loaded. */
	if (getenv("MEMALLOC_KO") && access(MEMALLOC_DEV, F_OK))
		load();
}

TEST_F(reload, unload_refused_while_dataspace_lives)
{
	int dev, fd;

	dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	fd = ds_alloc(dev, 4096, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(dev);
	EXPECT_EQ(-EWOULDBLOCK, unload());
	EXPECT_EQ(0, access(MEMALLOC_DEV, F_OK));
	close(fd);
	ASSERT_EQ(0, unload());
	EXPECT_EQ(-1, access(MEMALLOC_DEV, F_OK));
	ASSERT_EQ(0, load());
}

TEST_F(reload, mapping_survives_unload)
{
	const size_t len = 1 << 20;
	int dev, fd;
	char *p;

	dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	fd = ds_alloc(dev, len, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(dev);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);
	p[0] = 1;
	ASSERT_EQ(0, unload());
	p[len - 1] = 2;
	EXPECT_EQ(1, p[0]);
	EXPECT_EQ(2, p[len - 1]);
	munmap(p, len);
	ASSERT_EQ(0, load());
}

TEST_F_TIMEOUT(reload, twenty_cycles_leak_nothing, 300)
{
	const size_t len = 8 << 20;
	long before, after;
	int i;

	/* One warm-up cycle, so first-use allocations are not counted. */
	ASSERT_EQ(0, use(len));
	ASSERT_EQ(0, unload());
	ASSERT_EQ(0, load());
	ASSERT_EQ(0, use(len));
	before = memfree_settled();
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, unload());
		ASSERT_EQ(0, load());
		ASSERT_EQ(0, use(len));
	}
	after = memfree_settled();
	TH_LOG("MemFree %ld KiB before, %ld KiB after", before, after);
	/*
	 * A dataspace leaked a cycle would be 160 MiB. MemFree moves by a few
	 * MiB on its own (per-CPU page lists, slab): allow 16 MiB. Smaller
	 * leaks of kernel objects are kmemleak's to find, on the debug kernel.
	 */
	EXPECT_GE(after, before - 16 * 1024);
}

TEST_HARNESS_MAIN
