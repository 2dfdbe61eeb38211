// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: unloading and reloading the module. Needs the path of
 * memalloc.ko in MEMALLOC_KO; leaves the module loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memalloc.h"
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

static long free_settled(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			perror("drop_caches");
		close(fd);
	}
	return free_kib();
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

/*
 * A lazy dataspace's mapping keeps its memory, and the allocator's charge
 * for it, after its last fd: the module, which gives the charge back when
 * the mapping goes, stays loaded until then.
 */
TEST_F(reload, a_mapping_holds_the_module)
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
	EXPECT_EQ(-EWOULDBLOCK, unload());
	p[len - 1] = 2;
	EXPECT_EQ(1, p[0]);
	EXPECT_EQ(2, p[len - 1]);
	munmap(p, len);
	ASSERT_EQ(0, unload());
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
	before = free_settled();
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, unload());
		ASSERT_EQ(0, load());
		ASSERT_EQ(0, use(len));
	}
	after = free_settled();
	TH_LOG("free %ld KiB before, %ld KiB after", before, after);
	/*
	 * A dataspace leaked a cycle would be 160 MiB. Free memory (per-CPU
	 * lists counted) moves by a few MiB on its own: allow 16 MiB. Smaller
	 * leaks of kernel objects are kmemleak's to find, on the debug kernel.
	 */
	EXPECT_GE(after, before - 16 * 1024);
}

/* Where modprobe finds memalloc.ko on this machine, if it does. */
static int installed_ko(char *path, size_t len)
{
	struct utsname u;

	if (uname(&u))
		return -1;
	snprintf(path, len, "/lib/modules/%s/extra/memalloc.ko", u.release);
	return access(path, R_OK);
}

TEST_F(reload, library_loads_the_module_through_kmod)
{
	struct memalloc *ma;
	char ko[256];

	if (installed_ko(ko, sizeof(ko)))
		SKIP(return, "memalloc.ko is not installed for modprobe");
	ASSERT_EQ(0, unload());
	ASSERT_EQ(-1, access(MEMALLOC_DEV, F_OK));
	ASSERT_EQ(0, memalloc_open(&ma));
	EXPECT_EQ(0, access(MEMALLOC_DEV, F_OK));
	memalloc_close(ma);
}

TEST_F(reload, library_may_not_load_without_cap_sys_module)
{
	struct memalloc *ma;
	char ko[256];

	if (installed_ko(ko, sizeof(ko)))
		SKIP(return, "memalloc.ko is not installed for modprobe");
	ASSERT_EQ(0, unload());
	ASSERT_EQ(0, drop_effective_cap(CAP_SYS_MODULE));
	EXPECT_EQ(-EPERM, memalloc_open(&ma));
	EXPECT_EQ(-1, access(MEMALLOC_DEV, F_OK));
	ASSERT_EQ(0, set_effective_cap(CAP_SYS_MODULE, 1));
}

TEST_F(reload, library_without_an_installed_module_enoent)
{
	struct memalloc *ma;
	char ko[256], moved[300];

	if (installed_ko(ko, sizeof(ko)))
		SKIP(return, "memalloc.ko is not installed for modprobe");
	snprintf(moved, sizeof(moved), "%s.away", ko);
	ASSERT_EQ(0, unload());
	ASSERT_EQ(0, rename(ko, moved));
	EXPECT_EQ(-ENOENT, memalloc_open(&ma));
	ASSERT_EQ(0, rename(moved, ko));
	EXPECT_NE(NULL, strstr(memalloc_strerror(-ENOENT), "insmod"));
}

/* Run the memalloc tool beside this program: its exit status, or -1. */
static int tool(const char *arg1, const char *arg2)
{
	char path[512];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 16);
	int status;
	pid_t pid;

	if (n < 0)
		return -1;
	path[n] = 0;
	strcpy(strrchr(path, '/') + 1, "memalloc");
	pid = fork();
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execl(path, "memalloc", arg1, arg2, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST_F(reload, tool_unloads_and_loads)
{
	int dev, fd;

	dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	fd = ds_alloc(dev, 4096, 0, 0, O_CLOEXEC);
	close(dev);
	ASSERT_LE(0, fd);
	/* In use: refused, and says so. */
	EXPECT_EQ(1, tool("unload", NULL));
	EXPECT_EQ(0, access(MEMALLOC_DEV, F_OK));
	close(fd);
	ASSERT_EQ(0, tool("unload", NULL));
	EXPECT_EQ(-1, access(MEMALLOC_DEV, F_OK));
	EXPECT_EQ(1, tool("unload", NULL));
	ASSERT_EQ(0, tool("load", getenv("MEMALLOC_KO")));
	EXPECT_EQ(0, access(MEMALLOC_DEV, F_OK));
	/* Loaded already: nothing to do. */
	EXPECT_EQ(0, tool("load", getenv("MEMALLOC_KO")));
	EXPECT_EQ(2, tool("load", "--no-such-option"));
}

TEST_F(reload, tool_loads_by_name)
{
	char ko[256];

	if (installed_ko(ko, sizeof(ko)))
		SKIP(return, "memalloc.ko is not installed for modprobe");
	ASSERT_EQ(0, unload());
	ASSERT_EQ(0, tool("load", NULL));
	EXPECT_EQ(0, access(MEMALLOC_DEV, F_OK));
}

TEST_HARNESS_MAIN
