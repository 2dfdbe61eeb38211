// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: the findings of a security review, each proven
 * fixed. A handle's dma-buf outliving its file (O_PATH) cannot make
 * revocation touch freed memory; remap_file_pages() cannot turn a pinned
 * mapping into a plain one that escapes RLIMIT_MEMLOCK; pins that go let
 * their pages be evicted again; clear and free agree about device
 * attachments; oversized structs, cost before permission, caching
 * attributes and GUP, and the decisions about read-only fds and handles.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/memalloc.h>

#include "kselftest_harness.h"
#include "util.h"

#define KIB 1024ul
#define MIB (1024ul * KIB)

/* Is the page at @p present in this process's page tables? */
static int present(const void *p)
{
	uint64_t e = 0;
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (pm < 0)
		return -1;
	if (pread(pm, &e, sizeof(e), (uintptr_t)p / 4096 * sizeof(e)) != sizeof(e))
		e = 0;
	close(pm);
	return (e >> 63) & 1;
}

DEV_FIXTURE(review);

FIXTURE(kinds) {
	int dev;
};

FIXTURE_VARIANT(kinds) {
	uint32_t flags;
	size_t len;
};

FIXTURE_VARIANT_ADD(kinds, lazy) { .flags = 0, .len = 64 * KIB };
FIXTURE_VARIANT_ADD(kinds, pinned) { .flags = MEMALLOC_PINNED, .len = 64 * KIB };
FIXTURE_VARIANT_ADD(kinds, contiguous) { .flags = MEMALLOC_CONTINUOUS, .len = 64 * KIB };
FIXTURE_VARIANT_ADD(kinds, pinned_super_pages) {
	.flags = MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES, .len = 2 * MIB
};
FIXTURE_VARIANT_ADD(kinds, write_combine) {
	.flags = MEMALLOC_PINNED | MEMALLOC_WRITE_COMBINE, .len = 64 * KIB
};

FIXTURE_SETUP(kinds)
{
	self->dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(kinds)
{
	close(self->dev);
}

#define VICTIMS 32

/*
 * A read-only handle is closed while an O_PATH open of /proc/self/fd/N
 * keeps its dma-buf (and so its dentry) alive; its struct file is freed,
 * and memfds of this process take its place. Revocation must not reach
 * them: before the fix it zapped their mappings (and KASAN saw a
 * use-after-free of the file).
 */
TEST_F_TIMEOUT(kinds, revoke_after_o_path_touches_no_freed_file, 300)
{
	int round, i, a, b, p, m[VICTIMS], hits = 0;
	char path[64], *map[VICTIMS], *mine;
	cpu_set_t cpu;

	/* One CPU: the freed file is reused from this CPU's slab. */
	CPU_ZERO(&cpu);
	CPU_SET(0, &cpu);
	sched_setaffinity(0, sizeof(cpu), &cpu);
	for (round = 0; round < 8; round++) {
		a = ds_alloc(self->dev, variant->len, variant->flags, 0, O_CLOEXEC);
		ASSERT_LE(0, a);
		b = ds_dup(self->dev, a, MEMALLOC_RIGHT_R, MEMALLOC_CACHED);
		ASSERT_LE(0, b);
		mine = mmap(NULL, variant->len, PROT_READ, MAP_SHARED, b, 0);
		ASSERT_NE(MAP_FAILED, mine);
		EXPECT_EQ(0, mine[0]);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", b);
		p = open(path, O_PATH | O_CLOEXEC);
		ASSERT_LE(0, p);
		munmap(mine, variant->len);
		close(b);
		/* Past an RCU grace period, which frees the file. */
		usleep(100000);
		for (i = 0; i < VICTIMS; i++) {
			m[i] = memfd_create("victim", MFD_CLOEXEC);
			ASSERT_LE(0, m[i]);
			ASSERT_EQ(0, ftruncate(m[i], 4096));
			map[i] = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m[i], 0);
			ASSERT_NE(MAP_FAILED, map[i]);
			map[i][0] = 1;
		}
		ASSERT_EQ(0, ds_free(self->dev, a));
		for (i = 0; i < VICTIMS; i++) {
			hits += present(map[i]) != 1;
			munmap(map[i], 4096);
			close(m[i]);
		}
		/* The O_PATH holder reaches no operation either. */
		EXPECT_EQ(-EBADF, ds_free(self->dev, p));
		close(p);
		close(a);
	}
	EXPECT_EQ(0, hits);
}

/* Every block-backed mapping, through any handle, goes with revocation. */
TEST_F(kinds, revoke_zaps_the_mappings_of_every_handle)
{
	int a, rw, ro;
	char *pa, *prw, *pro;

	a = ds_alloc(self->dev, variant->len, variant->flags, 0, O_CLOEXEC);
	ASSERT_LE(0, a);
	rw = ds_dup(self->dev, a, MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W, MEMALLOC_CACHED);
	ro = ds_dup(self->dev, a, MEMALLOC_RIGHT_R, MEMALLOC_CACHED);
	ASSERT_LE(0, rw);
	ASSERT_LE(0, ro);
	pa = mmap(NULL, variant->len, PROT_READ | PROT_WRITE, MAP_SHARED, a, 0);
	prw = mmap(NULL, variant->len, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
	pro = mmap(NULL, variant->len, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, pa);
	ASSERT_NE(MAP_FAILED, prw);
	ASSERT_NE(MAP_FAILED, pro);
	pa[0] = 7;
	EXPECT_EQ(7, prw[0]);
	EXPECT_EQ(7, pro[0]);
	close(rw);
	ASSERT_EQ(0, ds_free(self->dev, a));
	EXPECT_TRUE(read_gets_sigbus(pa));
	EXPECT_TRUE(read_gets_sigbus(prw + variant->len - 1));
	EXPECT_TRUE(read_gets_sigbus(pro));
	munmap(pa, variant->len);
	munmap(prw, variant->len);
	munmap(pro, variant->len);
	close(ro);
	close(a);
}

/*
 * remap_file_pages() re-mmaps a vma's file. For a PINNED SUPER_PAGES
 * mapping that file is the shmem file behind it: the plain vma it made
 * held neither the pins nor the charge, so closing the fd let an
 * unprivileged caller keep unevictable memory past RLIMIT_MEMLOCK. The
 * file refuses to be mapped but by memalloc now: a read-only mapping is
 * gone (ENODEV), a writable one stays (EACCES from the read-only file).
 */
TEST_F_TIMEOUT(review, remap_file_pages_cannot_escape_memlock, 300)
{
	const size_t len = 4 * MIB;
	struct rlimit old, rl = { len, len };
	long unev0, unev;
	int i, fd;
	char *p;

	ASSERT_EQ(0, getrlimit(RLIMIT_MEMLOCK, &old));
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	ASSERT_EQ(0, drop_effective_cap(CAP_IPC_LOCK));
	unev0 = meminfo_kib("Unevictable");
	for (i = 0; i < 6; i++) {
		fd = ds_alloc(self->dev, len, MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES, 0,
			      O_CLOEXEC);
		/* Each dataspace's charge came back with the last: never ENOMEM. */
		ASSERT_LE(0, fd) TH_LOG("round %d: %s", i, strerror(-fd));
		p = map_aligned(fd, len, 21, PROT_READ);
		ASSERT_NE(MAP_FAILED, p);
		EXPECT_EQ(-1, remap_file_pages(p, len, 0, 0, 0));
		EXPECT_EQ(ENODEV, errno);
		munmap(p, len);
		p = map_aligned(fd, len, 21, PROT_READ | PROT_WRITE);
		ASSERT_NE(MAP_FAILED, p);
		p[0] = 1;
		EXPECT_EQ(-1, remap_file_pages(p, len, 0, 0, 0));
		EXPECT_EQ(EACCES, errno);
		EXPECT_EQ(1, p[0]);
		munmap(p, len);
		close(fd);
	}
	unev = meminfo_kib("Unevictable");
	EXPECT_GT((long)(len / KIB), unev - unev0) TH_LOG("Unevictable +%ld KiB", unev - unev0);
	EXPECT_EQ(0, set_effective_cap(CAP_IPC_LOCK, 1));
	EXPECT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &old));
}

/*
 * Pinned pages held on past their dataspace (here by a pipe, through
 * vmsplice()) are ordinary shmem pages again once the dataspace is gone:
 * evictable, no longer counted as Unevictable.
 */
TEST_F_TIMEOUT(review, pins_that_go_leave_pages_evictable, 300)
{
	const size_t len = 4 * MIB;
	int fd, pipefd[2];
	long unev0, held, after;
	struct iovec iov;
	ssize_t n;
	char *p;

	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC | O_NONBLOCK));
	if (fcntl(pipefd[1], F_SETPIPE_SZ, (int)len) < (int)len)
		SKIP(goto out, "cannot make a pipe of 4 MiB");
	unev0 = meminfo_kib("Unevictable");
	fd = ds_alloc(self->dev, len, MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = map_aligned(fd, len, 21, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x3c, len);
	iov.iov_base = p;
	iov.iov_len = len;
	while (iov.iov_len) {
		n = vmsplice(pipefd[1], &iov, 1, 0);
		ASSERT_LT(0, n);
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= n;
	}
	held = meminfo_kib("Unevictable");
	EXPECT_LE((long)(len / KIB), held - unev0);
	munmap(p, len);
	close(fd);
	after = meminfo_kib("Unevictable");
	EXPECT_GT((long)(len / KIB), after - unev0) TH_LOG("Unevictable +%ld KiB", after - unev0);
out:
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * While a device holds a lazy dataspace, clear zeroes in place, as free
 * refuses: the pages the device was given stay the dataspace's. Once the
 * device lets go, clear gives them back.
 */
TEST_F_TIMEOUT(review, clear_under_an_attachment_keeps_the_device_pages, 120)
{
	const size_t len = 256 * KIB;
	struct drm_prime_handle prime = { 0 };
	struct drm_gem_close gclose = { 0 };
	struct memalloc_info info;
	uint64_t pfn0;
	int vgem, fd;
	char *p;

	vgem = open_vgem();
	if (vgem < 0)
		SKIP(return, "no vgem device");
	fd = ds_alloc(self->dev, len, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x77, len);
	prime.fd = fd;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime));
	pfn0 = pfn_of(p);
	ASSERT_NE(0ull, pfn0);
	EXPECT_EQ(-EBUSY, ds_free(self->dev, fd));
	ASSERT_EQ(0, ds_clear(self->dev, fd, 0, len));
	EXPECT_TRUE(all_zero(p, len));
	ASSERT_EQ(0, ds_info(self->dev, fd, &info));
	EXPECT_EQ((uint64_t)len, info.out_resident);
	EXPECT_EQ(pfn0, pfn_of(p));

	gclose.handle = prime.handle;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gclose));
	ASSERT_EQ(0, ds_clear(self->dev, fd, 0, len));
	ASSERT_EQ(0, ds_info(self->dev, fd, &info));
	EXPECT_EQ(0ull, info.out_resident);
	munmap(p, len);
	close(fd);
	close(vgem);
}

/*
 * An attachment vetoes revocation whoever made it (memory cannot be taken
 * from under a device): free is EBUSY until the device lets go. A
 * read-only handle lends the memory to devices to read only; vgem maps
 * read-write, so through vgem a read-only holder attaches nothing.
 */
TEST_F(review, attachment_vetoes_free_until_detached)
{
	struct drm_prime_handle prime = { 0 };
	struct drm_gem_close gclose = { 0 };
	int vgem, fd, ro;

	vgem = open_vgem();
	if (vgem < 0)
		SKIP(return, "no vgem device");
	fd = ds_alloc(self->dev, 64 * KIB, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ro = ds_dup(self->dev, fd, MEMALLOC_RIGHT_R, MEMALLOC_CACHED);
	ASSERT_LE(0, ro);
	prime.fd = ro;
	/* vgem asks for a read-write mapping: refused to a read-only handle. */
	EXPECT_EQ(-1, ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, ds_free(self->dev, fd));
	close(ro);
	close(fd);

	fd = ds_alloc(self->dev, 64 * KIB, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	prime.fd = fd;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime));
	EXPECT_EQ(-EBUSY, ds_free(self->dev, fd));
	gclose.handle = prime.handle;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gclose));
	EXPECT_EQ(0, ds_free(self->dev, fd));
	close(fd);
	close(vgem);
}

/* A struct larger than a page: E2BIG, even with a zero tail. */
TEST_F(review, struct_larger_than_a_page_e2big)
{
	long page = sysconf(_SC_PAGESIZE);
	struct memalloc_version *v;
	char *buf;

	buf = calloc(1, 2 * page);
	ASSERT_NE(NULL, buf);
	v = (struct memalloc_version *)buf;
	v->size = page;
	EXPECT_EQ(0, ds_ioctl(self->dev, MEMALLOC_VERSION, v));
	EXPECT_EQ((uint32_t)MEMALLOC_API_VERSION, v->out_api_version);
	memset(buf, 0, 2 * page);
	v->size = page + 8;
	EXPECT_EQ(-E2BIG, ds_ioctl(self->dev, MEMALLOC_VERSION, v));
	v->size = UINT32_MAX;
	EXPECT_EQ(-E2BIG, ds_ioctl(self->dev, MEMALLOC_VERSION, v));
	free(buf);
}

#define CG "/sys/fs/cgroup/memalloc_review"

/*
 * An allocation refused by RLIMIT_MEMLOCK costs nothing first: its
 * cgroup's memory.peak does not rise by the page array (8 bytes a page,
 * 4 MiB for 2 GiB) that used to be allocated before the check.
 */
TEST_F_TIMEOUT(review, refused_pinned_allocation_costs_nothing_first, 120)
{
	struct rlimit old, rl = { 0, 0 };
	long before, peak;
	char pid[32];
	int status;
	pid_t child;

	write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
	if (mkdir(CG, 0755) && errno != EEXIST)
		SKIP(return, "no cgroup2 hierarchy");
	if (access(CG "/memory.peak", R_OK)) {
		rmdir(CG);
		SKIP(return, "no memory.peak");
	}
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (write_file(CG "/cgroup.procs", pid))
			_exit(2);
		getrlimit(RLIMIT_MEMLOCK, &old);
		if (setrlimit(RLIMIT_MEMLOCK, &rl) || drop_effective_cap(CAP_IPC_LOCK))
			_exit(3);
		before = read_long(CG "/memory.peak");
		if (ds_alloc(self->dev, 2048 * MIB, MEMALLOC_PINNED, 0, O_CLOEXEC) != -ENOMEM)
			_exit(4);
		if (ds_alloc(self->dev, 2048 * MIB, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC) != -ENOMEM)
			_exit(5);
		peak = read_long(CG "/memory.peak");
		_exit(peak - before < 1024 * 1024 ? 0 : 6);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	rmdir(CG);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

#define CG_OWNER "/sys/fs/cgroup/memalloc_review_owner"

/*
 * What a device's mapping costs (its scatterlist: 32 bytes a page of a
 * lazy dataspace) is charged to the dataspace's memory cgroup, whoever
 * imports it: here a process outside it, importing eight handles into
 * vgem. It was charged to no one.
 */
TEST_F_TIMEOUT(review, device_mappings_charged_to_the_dataspace_cgroup, 180)
{
	const size_t len = 64 * MIB;
	struct drm_prime_handle prime = { 0 };
	int vgem, fd, other, h, i, sv[2], status;
	char *p, *q;
	size_t off;
	long before, after;
	char pid[32], c;
	pid_t child;

	vgem = open_vgem();
	if (vgem < 0)
		SKIP(return, "no vgem device");
	write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
	if (mkdir(CG_OWNER, 0755) && errno != EEXIST)
		SKIP(return, "no cgroup2 hierarchy");
	/* The dataspace is made, and populated, from within the owner's cgroup. */
	snprintf(pid, sizeof(pid), "%d", getpid());
	ASSERT_EQ(0, write_file(CG_OWNER "/cgroup.procs", pid));
	fd = ds_alloc(self->dev, len, 0, 0, O_CLOEXEC);
	other = ds_alloc(self->dev, len, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, other);
	/* Touched in turn, so that no two pages of @fd are neighbours. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, other, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_NE(MAP_FAILED, q);
	for (off = 0; off < len; off += 4096) {
		p[off] = 1;
		q[off] = 1;
	}
	munmap(p, len);
	munmap(q, len);
	ASSERT_EQ(0, write_file("/sys/fs/cgroup/cgroup.procs", pid));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	before = read_long(CG_OWNER "/memory.current");
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		for (i = 0; i < 8; i++) {
			h = ds_dup(self->dev, fd, MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W,
				   MEMALLOC_CACHED);
			prime.fd = h;
			if (h < 0 || ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime))
				_exit(2);
			close(h);
		}
		/* Imported: the parent reads the cgroup, then it lets go. */
		if (write(sv[1], "i", 1) != 1 || read(sv[1], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(1, read(sv[0], &c, 1));
	after = read_long(CG_OWNER "/memory.current");
	ASSERT_EQ(1, write(sv[0], "d", 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	TH_LOG("owner's cgroup %ld KiB before the imports, %ld KiB with them", before / 1024,
	       after / 1024);
	/* 8 x 16 Ki pages x 32 bytes: 4 MiB of scatterlists. */
	EXPECT_LE(before + 2 * (long)MIB, after);
	close(fd);
	close(other);
	close(vgem);
	close(sv[0]);
	close(sv[1]);
	rmdir(CG_OWNER);
}

/*
 * Past the machine's commit limit (vm.overcommit_memory 2), shmem answers
 * ENOSPC; memalloc's callers get ENOMEM, as the header lists, for eager
 * super pages and lazy pages alike.
 */
TEST_F(review, commit_limit_enomem_not_enospc)
{
	struct memalloc_allocate a = { .size = sizeof(a), .length = 4 * MIB };
	char mode[16] = "", kbytes[32] = "", ratio[16] = "";
	int fd, lazy, ret_pinned, ret_lazy;

	if (read_str("/proc/sys/vm/overcommit_memory", mode, sizeof(mode)) ||
	    read_str("/proc/sys/vm/overcommit_kbytes", kbytes, sizeof(kbytes)) ||
	    read_str("/proc/sys/vm/overcommit_ratio", ratio, sizeof(ratio)))
		SKIP(return, "no overcommit settings");
	lazy = ds_alloc(self->dev, 4 * MIB, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, lazy);
	a.fd = lazy;
	/* A commit limit of 1 MiB (and swap): far below what is committed. */
	ASSERT_EQ(0, write_file("/proc/sys/vm/overcommit_kbytes", "1024"));
	ASSERT_EQ(0, write_file("/proc/sys/vm/overcommit_memory", "2"));
	fd = ds_alloc(self->dev, 4 * MIB, MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES, 0, O_CLOEXEC);
	ret_pinned = fd < 0 ? fd : 0;
	ret_lazy = ds_ioctl(self->dev, MEMALLOC_ALLOCATE, &a);
	/* Setting either of kbytes and ratio clears the other: both back. */
	write_file("/proc/sys/vm/overcommit_memory", mode);
	if (strcmp(kbytes, "0"))
		write_file("/proc/sys/vm/overcommit_kbytes", kbytes);
	else
		write_file("/proc/sys/vm/overcommit_ratio", ratio);
	if (fd >= 0)
		close(fd);
	close(lazy);
	EXPECT_EQ(-ENOMEM, ret_pinned);
	EXPECT_EQ(-ENOMEM, ret_lazy);
}

#define CG_HIGH "/sys/fs/cgroup/memalloc_review_high"

/*
 * A contiguous block beyond the page allocator's cannot be charged to a
 * memory cgroup: refused where memory.high bounds the caller's cgroup, as
 * where memory.max does (it was had, charged nowhere); had where neither.
 */
TEST_F_TIMEOUT(review, contiguous_beyond_the_allocator_refused_under_memory_high, 120)
{
	int status, fd;
	char pid[32];
	pid_t child;

	write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
	if (mkdir(CG_HIGH, 0755) && errno != EEXIST)
		SKIP(return, "no cgroup2 hierarchy");
	if (write_file(CG_HIGH "/memory.high", "268435456")) {
		rmdir(CG_HIGH);
		SKIP(return, "no memory.high");
	}
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (write_file(CG_HIGH "/cgroup.procs", pid))
			_exit(2);
		_exit(ds_alloc(self->dev, 16 * MIB, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC) ==
		      -ENOMEM ? 0 : 3);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	rmdir(CG_HIGH);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	fd = ds_alloc(self->dev, 16 * MIB, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	EXPECT_LE(0, fd);
	close(fd);
}

/*
 * Memory with a caching attribute is mapped by pfn, which get_user_pages()
 * refuses: no O_DIRECT, vmsplice or other GUP user maps it write-back.
 */
TEST_F(review, caching_attribute_mappings_refuse_gup)
{
	static const uint32_t caching[] = { MEMALLOC_WRITE_COMBINE, MEMALLOC_UNCACHED };
	const size_t len = 64 * KIB;
	int i, fd, pipefd[2];
	struct iovec iov;
	char *p;

	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	for (i = 0; i < 2; i++) {
		fd = ds_alloc(self->dev, len, MEMALLOC_PINNED | caching[i], 0, O_CLOEXEC);
		ASSERT_LE(0, fd);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		memset(p, 0x42, len);
		EXPECT_EQ(0x42, p[len - 1]);
		iov.iov_base = p;
		iov.iov_len = 4096;
		EXPECT_EQ(-1, vmsplice(pipefd[1], &iov, 1, 0));
		EXPECT_EQ(EFAULT, errno);
		munmap(p, len);
		close(fd);
	}
	/* Cached block memory stays page-backed. */
	fd = ds_alloc(self->dev, len, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	iov.iov_base = p;
	iov.iov_len = 4096;
	EXPECT_EQ(4096, vmsplice(pipefd[1], &iov, 1, 0));
	munmap(p, len);
	close(fd);
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * Reading /dev/memalloc tells what it offers; allocating needs it open for
 * writing (EBADF otherwise, as write(2) on such an fd). The other commands
 * act on dataspace fds, whose own rights decide.
 */
TEST_F(review, read_only_device_fd_cannot_allocate)
{
	struct memalloc_version v = { .size = sizeof(v) };
	struct memalloc_info info;
	int ro, fd;

	ro = open(MEMALLOC_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	EXPECT_EQ(0, ds_ioctl(ro, MEMALLOC_VERSION, &v));
	EXPECT_EQ(-EBADF, ds_alloc(ro, 4096, 0, 0, O_CLOEXEC));
	EXPECT_EQ(-EBADF, ds_alloc(ro, 4096, MEMALLOC_PINNED, 0, O_CLOEXEC));
	fd = ds_alloc(self->dev, 4096, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, ds_info(ro, fd, &info));
	close(fd);
	close(ro);
}

/*
 * ALLOCATE through a read-only handle populates, as a read fault through
 * its mapping would: allowed, charged to the caller.
 */
TEST_F(review, allocate_through_a_read_only_handle_populates)
{
	struct memalloc_allocate a = { .size = sizeof(a), .length = 64 * KIB };
	struct memalloc_info info;
	int fd, ro;

	fd = ds_alloc(self->dev, 64 * KIB, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ro = ds_dup(self->dev, fd, MEMALLOC_RIGHT_R, MEMALLOC_CACHED);
	ASSERT_LE(0, ro);
	a.fd = ro;
	EXPECT_EQ(0, ds_ioctl(self->dev, MEMALLOC_ALLOCATE, &a));
	ASSERT_EQ(0, ds_info(self->dev, fd, &info));
	EXPECT_EQ(64 * KIB, info.out_resident);
	close(ro);
	close(fd);
}

/* It counts free memory or a cgroup's: no pool refilling beside it. */
POOL_OFF_WHILE_RUNNING()

TEST_HARNESS_MAIN
