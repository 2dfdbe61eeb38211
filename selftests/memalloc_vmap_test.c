// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: the dma-buf exporter as a kernel importer sees it.
 * The test importer (importer/memalloc_importer.ko, which the test bed
 * loads; missing, every test fails) maps a dataspace into the kernel with
 * dma_buf_vmap() and reads and writes it there. For every kind this kernel
 * offers: what user space writes the kernel reads and back, a kernel
 * mapping holds the dataspace as a device does (MEMALLOC_FREE is EBUSY,
 * MEMALLOC_CLEAR zeroes what it sees), it populates lazy memory, a
 * read-only handle is mapped too, CPU access syncs with vgem attached and
 * with a kernel mapping, each dma-buf is named after its kind and size,
 * and the memory goes back after the last close.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/vgem_drm.h>
#include <linux/dma-buf.h>
#include <linux/memalloc.h>

#include "kselftest_harness.h"
#include "util.h"
#include "importer/memalloc_importer.h"

#define MIB (1024ul * 1024)
#define LEN (4 * MIB)
/* The leak check's dataspace: well above the noise of free memory. */
#define LEAK_LEN (32 * MIB)

/* The test importer's device: -1 (and a log line) when it is not there. */
static int importer_open(struct __test_metadata *_metadata)
{
	int fd = open(MEMALLOC_IMPORTER_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		TH_LOG("%s: %s: load memalloc_importer.ko (selftests/importer)",
		       MEMALLOC_IMPORTER_DEV, strerror(errno));
	return fd;
}

static int importer_vmap(int imp, int fd)
{
	return ioctl(imp, MEMALLOC_IMPORTER_VMAP, &fd) ? -errno : 0;
}

static int importer_vunmap(int imp)
{
	return ioctl(imp, MEMALLOC_IMPORTER_VUNMAP) ? -errno : 0;
}

/* Copy @len bytes at @off through the kernel mapping, in chunks it takes. */
static int importer_rw(int imp, uint64_t off, void *buf, size_t len, int write)
{
	struct memalloc_importer_rw rw = { .write = write };
	size_t n;

	for (; len; len -= n, off += n, buf = (char *)buf + n) {
		n = len < MEMALLOC_IMPORTER_MAX_RW ? len : MEMALLOC_IMPORTER_MAX_RW;
		rw.offset = off;
		rw.length = n;
		rw.buf = (uintptr_t)buf;
		if (ioctl(imp, MEMALLOC_IMPORTER_RW, &rw))
			return -errno;
	}
	return 0;
}

/* A pattern that differs from page to page and with @seed. */
static void fill(void *p, size_t len, uint64_t from, unsigned int seed)
{
	unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		c[i] = (unsigned char)((from + i) * 31 + ((from + i) >> 12) + seed);
}

/*
 * The kernel's TAINT_WARN bit: the dma-buf core WARNs on any failure of an
 * exporter's vmap, so a vmap that should work must leave it as it was.
 */
#define TAINT_WARN_BIT (1L << 9)

static long taint_warn(void)
{
	return read_long("/proc/sys/kernel/tainted") & TAINT_WARN_BIT;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dma_buf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
}

FIXTURE(kind) {
	int dev;
	int imp;
	int fd;
	char *map;
	char *buf;
	char *want;
	long taint;
	struct memalloc_version v;
};

FIXTURE_VARIANT(kind) {
	const char *kind;	/* the first part of its dma-buf's name */
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(kind, lazy) { "lazy", 0 };
FIXTURE_VARIANT_ADD(kind, super_pages) { "super", MEMALLOC_SUPER_PAGES };
FIXTURE_VARIANT_ADD(kind, pinned) { "pinned", MEMALLOC_PINNED };
FIXTURE_VARIANT_ADD(kind, pinned_super_pages) {
	"pinned+super", MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES };
FIXTURE_VARIANT_ADD(kind, continuous) { "contig", MEMALLOC_CONTINUOUS };
FIXTURE_VARIANT_ADD(kind, continuous_super_pages) {
	"contig+super", MEMALLOC_CONTINUOUS | MEMALLOC_SUPER_PAGES };
FIXTURE_VARIANT_ADD(kind, pinned_wc) { "pinned+wc", MEMALLOC_PINNED | MEMALLOC_WRITE_COMBINE };
FIXTURE_VARIANT_ADD(kind, pinned_uc) { "pinned+uc", MEMALLOC_PINNED | MEMALLOC_UNCACHED };
FIXTURE_VARIANT_ADD(kind, continuous_wc) {
	"contig+wc", MEMALLOC_CONTINUOUS | MEMALLOC_WRITE_COMBINE };

FIXTURE_SETUP(kind)
{
	self->fd = -1;
	self->map = MAP_FAILED;
	self->taint = taint_warn();
	self->buf = malloc(LEN);
	self->want = malloc(LEN);
	ASSERT_NE(NULL, self->buf);
	ASSERT_NE(NULL, self->want);
	self->imp = importer_open(_metadata);
	ASSERT_LE(0, self->imp);
	self->dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, kernel_facts(self->dev, &self->v));
	if (!(self->v.out_kinds & kind_of(variant->flags)))
		SKIP(return, "%s: not offered by this kernel", variant->kind);
	self->fd = ds_alloc(self->dev, LEN, variant->flags, 21, O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", variant->kind, strerror(-self->fd));
	self->map = map_aligned(self->fd, LEN, 21, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, self->map);
}

FIXTURE_TEARDOWN(kind)
{
	/* Every vmap here is meant to work: none set off the core's WARN. */
	EXPECT_EQ(self->taint, taint_warn());
	if (self->map != MAP_FAILED)
		munmap(self->map, LEN);
	if (self->fd >= 0)
		close(self->fd);
	if (self->imp >= 0)
		close(self->imp);
	close(self->dev);
	free(self->buf);
	free(self->want);
}

/*
 * A kind this kernel does not offer was skipped in the setup, which older
 * harnesses (6.1's) follow with the test all the same: return at once.
 */
#define OFFERED_OR_RETURN()		\
	do {				\
		if (self->fd < 0)	\
			return;		\
	} while (0)

TEST_F(kind, user_writes_kernel_reads_and_back)
{
	static const uint64_t offs[] = { 0, LEN / 2 - 100, LEN - 8192 };
	uint64_t off;
	size_t i;

	OFFERED_OR_RETURN();
	fill(self->map, LEN, 0, 1);
	ASSERT_EQ(0, importer_vmap(self->imp, self->fd));
	ASSERT_EQ(0, importer_rw(self->imp, 0, self->buf, LEN, 0));
	fill(self->want, LEN, 0, 1);
	EXPECT_EQ(0, memcmp(self->buf, self->want, LEN));

	/* The kernel writes: the first pages, across pages, the last. */
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		off = offs[i];
		fill(self->buf, 8192, off, 2);
		ASSERT_EQ(0, importer_rw(self->imp, off, self->buf, 8192, 1));
		EXPECT_EQ(0, memcmp(self->map + off, self->buf, 8192))
			TH_LOG("offset %llu", (unsigned long long)off);
	}
	/* Nothing past the end. */
	EXPECT_EQ(-EINVAL, importer_rw(self->imp, LEN - 1, self->buf, 2, 0));
	EXPECT_EQ(0, importer_vunmap(self->imp));
}

TEST_F(kind, free_is_ebusy_while_vmapped)
{
	OFFERED_OR_RETURN();
	ASSERT_EQ(0, importer_vmap(self->imp, self->fd));
	EXPECT_EQ(-EBUSY, ds_free(self->dev, self->fd));
	/* Still there, for both sides. */
	self->map[0] = 0x5a;
	ASSERT_EQ(0, importer_rw(self->imp, 0, self->buf, 1, 0));
	EXPECT_EQ(0x5a, self->buf[0]);
	EXPECT_EQ(0, importer_vunmap(self->imp));
	EXPECT_EQ(0, ds_free(self->dev, self->fd));
	/* Revoked: nothing more to map. */
	EXPECT_EQ(-ENODEV, ds_free(self->dev, self->fd));
}

TEST_F(kind, clear_while_vmapped_zeroes_what_it_sees)
{
	OFFERED_OR_RETURN();
	fill(self->map, LEN, 0, 4);
	ASSERT_EQ(0, importer_vmap(self->imp, self->fd));
	/* Part of a page to beyond the middle, then the rest. */
	ASSERT_EQ(0, ds_clear(self->dev, self->fd, 100, LEN / 2));
	ASSERT_EQ(0, importer_rw(self->imp, 0, self->buf, LEN, 0));
	fill(self->want, LEN, 0, 4);
	memset(self->want + 100, 0, LEN / 2);
	EXPECT_EQ(0, memcmp(self->buf, self->want, LEN));
	EXPECT_EQ(0, memcmp(self->map, self->want, LEN));
	ASSERT_EQ(0, ds_clear(self->dev, self->fd, 0, LEN));
	ASSERT_EQ(0, importer_rw(self->imp, 0, self->buf, LEN, 0));
	EXPECT_TRUE(all_zero(self->buf, LEN));
	/* Writes after the clear still reach the same memory. */
	self->map[LEN - 1] = 7;
	ASSERT_EQ(0, importer_rw(self->imp, LEN - 1, self->buf, 1, 0));
	EXPECT_EQ(7, self->buf[0]);
	EXPECT_EQ(0, importer_vunmap(self->imp));
}

TEST_F(kind, read_only_handle_is_vmapped_writable)
{
	int ro;

	OFFERED_OR_RETURN();
	ro = ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R,
		    variant->flags & MEMALLOC_CACHING_MASK);
	ASSERT_LE(0, ro) TH_LOG("%s", strerror(-ro));
	fill(self->map, 8192, 0, 5);
	/*
	 * Documented: a kernel importer maps a read-only handle, writably;
	 * an importer that honours the fd's mode (as the test importer does)
	 * reads through it and refuses to write.
	 */
	ASSERT_EQ(0, importer_vmap(self->imp, ro));
	ASSERT_EQ(0, importer_rw(self->imp, 0, self->buf, 8192, 0));
	EXPECT_EQ(0, memcmp(self->buf, self->map, 8192));
	fill(self->buf, 4096, 0, 6);
	EXPECT_EQ(-EBADF, importer_rw(self->imp, 0, self->buf, 4096, 1));
	fill(self->want, 8192, 0, 5);
	EXPECT_EQ(0, memcmp(self->want, self->map, 8192));
	/* It holds the dataspace as any kernel mapping does. */
	EXPECT_EQ(-EBUSY, ds_free(self->dev, self->fd));
	/* User space still cannot write through the handle. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, ro, 0));
	EXPECT_EQ(0, importer_vunmap(self->imp));
	close(ro);
	EXPECT_EQ(0, ds_free(self->dev, self->fd));
}

TEST_F(kind, names_its_dma_buf)
{
	char want[32], *name, *exp;
	int ro;

	OFFERED_OR_RETURN();
	snprintf(want, sizeof(want), "%s:4M", variant->kind);
	name = fdinfo_field(self->fd, "name");
	exp = fdinfo_field(self->fd, "exp_name");
	ASSERT_NE(NULL, name);
	ASSERT_NE(NULL, exp);
	EXPECT_STREQ(want, name);
	EXPECT_STREQ("memalloc", exp);
	free(name);
	free(exp);
	/* Every handle of it. */
	ro = ds_dup(self->dev, self->fd, MEMALLOC_RIGHT_R,
		    variant->flags & MEMALLOC_CACHING_MASK);
	ASSERT_LE(0, ro);
	name = fdinfo_field(ro, "name");
	ASSERT_NE(NULL, name);
	EXPECT_STREQ(want, name);
	free(name);
	close(ro);
}

TEST_F(kind, cpu_sync_with_vgem_attached_and_vmapped)
{
	struct drm_prime_handle prime = { .fd = self->fd };
	struct drm_gem_close gclose = { 0 };
	int vgem;

	OFFERED_OR_RETURN();
	vgem = open_vgem();
	ASSERT_LE(0, vgem) TH_LOG("no vgem device (modprobe vgem)");
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime))
		TH_LOG("import: %s", strerror(errno));
	EXPECT_EQ(0, dma_buf_sync(self->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
	self->map[0] = 0x11;
	EXPECT_EQ(0, dma_buf_sync(self->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
	EXPECT_EQ(0, dma_buf_sync(self->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(0, dma_buf_sync(self->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	/* And with a kernel mapping besides. */
	ASSERT_EQ(0, importer_vmap(self->imp, self->fd));
	EXPECT_EQ(0, dma_buf_sync(self->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	self->map[1] = 0x22;
	EXPECT_EQ(0, dma_buf_sync(self->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
	ASSERT_EQ(0, importer_rw(self->imp, 0, self->buf, 2, 0));
	EXPECT_EQ(0x11, self->buf[0]);
	EXPECT_EQ(0x22, self->buf[1]);
	EXPECT_EQ(0, importer_vunmap(self->imp));
	/* Attached, still held; let go with the GEM handle. */
	EXPECT_EQ(-EBUSY, ds_free(self->dev, self->fd));
	gclose.handle = prime.handle;
	EXPECT_EQ(0, ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gclose));
	close(vgem);
	EXPECT_EQ(0, ds_free(self->dev, self->fd));
}

/*
 * Populated by the kernel mapping, written there, unmapped, closed: the
 * memory and the module's references are back. Free memory is measured
 * with the dataspace alive too, so that the check can fail.
 */
TEST_F(kind, memory_goes_back_after_close)
{
	long before, during, after, refs;
	int fd;

	OFFERED_OR_RETURN();
	munmap(self->map, LEN);
	self->map = MAP_FAILED;
	close(self->fd);
	self->fd = -1;
	refs = read_long("/sys/module/memalloc/refcnt");
	before = free_kib();
	ASSERT_LT(0, before);
	fd = ds_alloc(self->dev, LEAK_LEN, variant->flags, 21, O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	ASSERT_EQ(0, importer_vmap(self->imp, fd));
	fill(self->buf, 4096, 0, 7);
	ASSERT_EQ(0, importer_rw(self->imp, LEAK_LEN - 4096, self->buf, 4096, 1));
	during = free_kib();
	EXPECT_EQ(0, importer_vunmap(self->imp));
	close(fd);
	after = free_kib();
	TH_LOG("free KiB: %ld before, %ld mapped, %ld after", before, during, after);
	EXPECT_LT(during, before - (long)(LEAK_LEN / 1024) * 3 / 4);
	EXPECT_GT(after, before - (long)(LEAK_LEN / 1024) / 4);
	EXPECT_EQ(refs, read_long("/sys/module/memalloc/refcnt"));
}

/* Lazy memory is populated by the kernel mapping, and charged. */
DEV_FIXTURE(lazy);

TEST_F(lazy, vmap_populates)
{
	struct memalloc_info info;
	int imp = importer_open(_metadata);
	int fd = ds_alloc(self->dev, LEN, 0, 0, O_CLOEXEC);

	ASSERT_LE(0, imp);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ds_info(self->dev, fd, &info));
	EXPECT_EQ(0, info.out_resident);
	ASSERT_EQ(0, importer_vmap(imp, fd));
	ASSERT_EQ(0, ds_info(self->dev, fd, &info));
	EXPECT_EQ(LEN, info.out_resident);
	EXPECT_EQ(0, importer_vunmap(imp));
	/* Clear punches again once nothing holds it. */
	EXPECT_EQ(0, ds_clear(self->dev, fd, 0, LEN));
	ASSERT_EQ(0, ds_info(self->dev, fd, &info));
	EXPECT_EQ(0, info.out_resident);
	close(fd);
	close(imp);
}

/*
 * A fatal signal while a vmap populates a lazy dataspace: the vmap goes on
 * to the end rather than fail (the core would WARN), and the process dies
 * after it; its importer file lets go of the mapping.
 */
#define KILL_LEN (256 * MIB)

TEST_F_TIMEOUT(lazy, vmap_outlives_a_fatal_signal, 120)
{
	long taint = taint_warn();
	int fd, imp, status;
	pid_t pid;

	fd = ds_alloc(self->dev, KILL_LEN, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	imp = importer_open(_metadata);
	ASSERT_LE(0, imp);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		importer_vmap(imp, fd);
		_exit(0);
	}
	usleep(100 * 1000);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	close(imp);
	EXPECT_EQ(taint, taint_warn());
	/* Nothing holds it now: clear punches, free revokes. */
	EXPECT_EQ(0, ds_clear(self->dev, fd, 0, KILL_LEN));
	EXPECT_EQ(0, ds_free(self->dev, fd));
	close(fd);
}

/* A name is its kind and its size: bytes, or the largest unit dividing it. */
DEV_FIXTURE(names);

TEST_F(names, sizes)
{
	static const struct {
		uint64_t len;
		const char *name;
	} sizes[] = {
		{ 1, "lazy:1" },
		{ 4095, "lazy:4095" },
		{ 4096, "lazy:4K" },
		{ 4097, "lazy:4097" },
		{ 3 * 1024, "lazy:3K" },
		{ MIB, "lazy:1M" },
		{ 3 * MIB + 4096, "lazy:3076K" },
		{ 1024 * MIB, "lazy:1G" },
		{ 1024 * MIB + MIB, "lazy:1025M" },
		{ 1024 * MIB + 1, "lazy:1073741825" },
	};
	char *name;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fd = ds_alloc(self->dev, sizes[i].len, 0, 0, O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("%llu: %s", (unsigned long long)sizes[i].len,
					strerror(-fd));
		name = fdinfo_field(fd, "name");
		ASSERT_NE(NULL, name);
		EXPECT_STREQ(sizes[i].name, name);
		free(name);
		close(fd);
	}
	/* Renamed: the core frees the exporter's name. */
	fd = ds_alloc(self->dev, 4096, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, DMA_BUF_SET_NAME, "renamed"));
	name = fdinfo_field(fd, "name");
	ASSERT_NE(NULL, name);
	EXPECT_STREQ("renamed", name);
	free(name);
	close(fd);
}

/*
 * All handles of a dataspace share one reservation object: a device's
 * write fence on one handle is seen through every other, read-only dups
 * included, by poll() and by DMA_BUF_IOCTL_SYNC.
 */
DEV_FIXTURE(fences);

struct sync_waiter {
	int fd;
	int ret;
	volatile int done;
};

static void *sync_read_start(void *arg)
{
	struct sync_waiter *w = arg;

	w->ret = dma_buf_sync(w->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	if (!w->ret)
		dma_buf_sync(w->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	return NULL;
}

TEST_F(fences, write_fence_on_one_handle_is_seen_on_all)
{
	struct drm_prime_handle prime = { 0 };
	struct drm_vgem_fence_attach attach = { .flags = VGEM_FENCE_WRITE };
	struct drm_vgem_fence_signal signal = { 0 };
	struct drm_gem_close gclose = { 0 };
	struct sync_waiter w = { 0 };
	struct pollfd pfd = { .events = POLLIN };
	int fd, other, ro, vgem, i;
	pthread_t thread;

	fd = ds_alloc(self->dev, MIB, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	other = ds_dup(self->dev, fd, MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W, 0);
	ASSERT_LE(0, other);
	ro = ds_dup(self->dev, fd, MEMALLOC_RIGHT_R, 0);
	ASSERT_LE(0, ro);
	vgem = open_vgem();
	ASSERT_LE(0, vgem) TH_LOG("no vgem device (modprobe vgem)");
	prime.fd = fd;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime))
		TH_LOG("import: %s", strerror(errno));
	attach.handle = prime.handle;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_VGEM_FENCE_ATTACH, &attach))
		TH_LOG("fence: %s", strerror(errno));

	/* Unsignalled: the read-only dup is not ready to read. */
	pfd.fd = ro;
	EXPECT_EQ(0, poll(&pfd, 1, 100));
	/* Nor is CPU access through the other writable handle. */
	w.fd = other;
	ASSERT_EQ(0, pthread_create(&thread, NULL, sync_read_start, &w));
	usleep(100 * 1000);
	EXPECT_EQ(0, __atomic_load_n(&w.done, __ATOMIC_SEQ_CST));

	signal.fence = attach.out_fence;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_VGEM_FENCE_SIGNAL, &signal))
		TH_LOG("signal: %s", strerror(errno));
	pfd.revents = 0;
	EXPECT_EQ(1, poll(&pfd, 1, 1000));
	EXPECT_EQ(POLLIN, pfd.revents & POLLIN);
	for (i = 0; i < 100 && !__atomic_load_n(&w.done, __ATOMIC_SEQ_CST); i++)
		usleep(10 * 1000);
	EXPECT_EQ(1, __atomic_load_n(&w.done, __ATOMIC_SEQ_CST));
	pthread_join(thread, NULL);
	EXPECT_EQ(0, w.ret);

	gclose.handle = prime.handle;
	EXPECT_EQ(0, ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gclose));
	close(vgem);
	close(ro);
	close(other);
	close(fd);
}

/*
 * Clears that keep punching do not starve a kernel mapping (or a device's
 * attachment): once it waits, clears zero in place, and it waits for one
 * punch at most. It does not fail either (the core would WARN). The clears
 * go on until the holder is through, or RACE_SECONDS: a starved holder
 * gets through only once they are over, one that is not while they still
 * run. The times (alone, with a punch, and among the clears) are logged,
 * not judged: a loaded machine makes them anything.
 */
#define RACE_LEN (64 * MIB)
#define RACE_SECONDS 30

struct clear_loop {
	int dev;
	int fd;
	uint64_t len;
	double until;
	volatile int *stop;
	long clears;
	int err;
	int ended;	/* the loop is over: its time is up, or stop was set */
};

static void *clear_loop(void *arg)
{
	struct clear_loop *c = arg;
	int ret;

	while (now_s() < c->until && !__atomic_load_n(c->stop, __ATOMIC_SEQ_CST)) {
		ret = ds_clear(c->dev, c->fd, 0, c->len);
		if (ret && !c->err)
			c->err = ret;
		c->clears++;
	}
	__atomic_store_n(&c->ended, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Reads the cleared half page by page: each punch has pages to give back. */
struct toucher {
	const volatile char *map;
	uint64_t len;
	double until;
	volatile int *stop;
};

static void *touch_loop(void *arg)
{
	struct toucher *t = arg;
	uint64_t i;

	while (now_s() < t->until && !__atomic_load_n(t->stop, __ATOMIC_SEQ_CST))
		for (i = 0; i < t->len; i += 4096)
			(void)t->map[i];
	return NULL;
}

DEV_FIXTURE(race);

/* Take hold of @fd as an importer: 0 or -errno. */
static int race_take(int vmap, int imp, int vgem, int fd, uint32_t *gem)
{
	struct drm_prime_handle prime = { .fd = fd };

	if (vmap)
		return importer_vmap(imp, fd);
	if (ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime))
		return -errno;
	*gem = prime.handle;
	return 0;
}

static int race_let_go(int vmap, int imp, int vgem, uint32_t gem)
{
	struct drm_gem_close gclose = { .handle = gem };

	if (vmap)
		return importer_vunmap(imp);
	return ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gclose) ? -errno : 0;
}

static void race_holder(struct __test_metadata *_metadata, int dev, int vmap)
{
	struct clear_loop c[2];
	struct toucher touch;
	long taint = taint_warn();
	int fd, imp = -1, vgem = -1, i, ret, ended;
	volatile int stop = 0;
	double t0, took, alone, punch;
	uint32_t gem = 0;
	char *map, *buf;
	pthread_t t[3];

	fd = ds_alloc(dev, RACE_LEN, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	if (vmap) {
		imp = importer_open(_metadata);
		ASSERT_LE(0, imp);
	} else {
		vgem = open_vgem();
		ASSERT_LE(0, vgem) TH_LOG("no vgem device (modprobe vgem)");
	}
	map = mmap(NULL, RACE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	buf = malloc(MEMALLOC_IMPORTER_MAX_RW);
	ASSERT_NE(NULL, buf);
	memset(map, 0xa5, RACE_LEN);
	t0 = now_s();
	ASSERT_EQ(0, race_take(vmap, imp, vgem, fd, &gem));
	alone = now_s() - t0;
	ASSERT_EQ(0, race_let_go(vmap, imp, vgem, gem));
	/* And one punch of the populated half, which a holder may wait for. */
	t0 = now_s();
	ASSERT_EQ(0, ds_clear(dev, fd, 0, RACE_LEN / 2));
	punch = now_s() - t0;
	memset(map, 0xa5, RACE_LEN / 2);

	/* The first half is cleared over and over, the second never. */
	for (i = 0; i < 2; i++) {
		c[i] = (struct clear_loop){ .dev = dev, .fd = fd, .len = RACE_LEN / 2,
					    .until = now_s() + RACE_SECONDS, .stop = &stop };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, clear_loop, &c[i]));
	}
	touch = (struct toucher){ .map = map, .len = RACE_LEN / 2,
				  .until = now_s() + RACE_SECONDS, .stop = &stop };
	ASSERT_EQ(0, pthread_create(&t[2], NULL, touch_loop, &touch));
	usleep(300 * 1000);
	alarm(2 * RACE_SECONDS);
	t0 = now_s();
	ret = race_take(vmap, imp, vgem, fd, &gem);
	took = now_s() - t0;
	/* A starved holder gets through only once the clears are over. */
	ended = __atomic_load_n(&c[0].ended, __ATOMIC_SEQ_CST) +
		__atomic_load_n(&c[1].ended, __ATOMIC_SEQ_CST);
	__atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	alarm(0);
	EXPECT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	TH_LOG("%s after %.3f s (%.3f s alone, a punch %.3f s), clears %ld and %ld",
	       vmap ? "vmap" : "attach", took, alone, punch, c[0].clears, c[1].clears);
	/*
	 * It got through while both clear loops still ran: not after them,
	 * however slow the machine (no bound on the time itself).
	 */
	EXPECT_EQ(0, ended);
	EXPECT_EQ(0, c[0].err);
	EXPECT_EQ(0, c[1].err);

	/* Cleared where cleared, the rest as written, on both sides. */
	EXPECT_TRUE(all_zero(map, RACE_LEN / 2));
	for (i = RACE_LEN / 2; i < (int)RACE_LEN; i += 4096)
		if (map[i] != (char)0xa5 || map[i + 4095] != (char)0xa5)
			break;
	EXPECT_EQ((int)RACE_LEN, i);
	if (vmap) {
		ASSERT_EQ(0, importer_rw(imp, 0, buf, MEMALLOC_IMPORTER_MAX_RW, 0));
		EXPECT_TRUE(all_zero(buf, MEMALLOC_IMPORTER_MAX_RW));
		ASSERT_EQ(0, importer_rw(imp, RACE_LEN - MEMALLOC_IMPORTER_MAX_RW, buf,
					 MEMALLOC_IMPORTER_MAX_RW, 0));
		EXPECT_EQ((char)0xa5, buf[0]);
		EXPECT_EQ((char)0xa5, buf[MEMALLOC_IMPORTER_MAX_RW - 1]);
	}
	if (!ret)
		EXPECT_EQ(0, race_let_go(vmap, imp, vgem, gem));
	if (vmap)
		close(imp);
	else
		close(vgem);
	EXPECT_EQ(taint, taint_warn());
	free(buf);
	munmap(map, RACE_LEN);
	close(fd);
}

TEST_F_TIMEOUT(race, vmap_is_not_starved_by_clears, 4 * RACE_SECONDS)
{
	race_holder(_metadata, self->dev, 1);
}

TEST_F_TIMEOUT(race, attach_is_not_starved_by_clears, 4 * RACE_SECONDS)
{
	race_holder(_metadata, self->dev, 0);
}

/*
 * A device's attachment waits for no user's command: a long copy out of
 * the dataspace (which holds it for reading) runs while vgem imports it.
 */
struct long_copy {
	int dev, dst, src;
	int started, done, ret;
};

static void *long_copy_thread(void *arg)
{
	struct long_copy *c = arg;

	__atomic_store_n(&c->started, 1, __ATOMIC_RELEASE);
	c->ret = ds_copy_in(c->dev, c->dst, 0, c->src, 0, 256 * MIB);
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

TEST(attach_waits_for_no_command)
{
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC };
	struct long_copy c = { .dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC) };
	struct drm_gem_close gclose = { 0 };
	int vgem = open_vgem(), done;
	pthread_t t;

	ASSERT_LE(0, c.dev);
	ASSERT_LE(0, vgem) TH_LOG("no vgem device (modprobe vgem)");
	c.src = ds_alloc(c.dev, 256 * MIB, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, c.src);
	c.dst = ds_alloc(c.dev, 256 * MIB, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, c.dst);
	ASSERT_EQ(0, pthread_create(&t, NULL, long_copy_thread, &c));
	while (!__atomic_load_n(&c.started, __ATOMIC_ACQUIRE))
		usleep(1000);
	usleep(20000);
	if (__atomic_load_n(&c.done, __ATOMIC_ACQUIRE)) {
		pthread_join(t, NULL);
		SKIP(return, "the copy ended before the import began");
	}
	prime.fd = c.src;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime))
		TH_LOG("import: %s", strerror(errno));
	done = __atomic_load_n(&c.done, __ATOMIC_ACQUIRE);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, c.ret);
	/* The import did not wait for the copy to end. */
	EXPECT_EQ(0, done);
	gclose.handle = prime.handle;
	EXPECT_EQ(0, ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gclose));
	close(vgem);
	close(c.src);
	close(c.dst);
	close(c.dev);
}

/* The importer works for any dma-buf: vgem's own. */
TEST(importer_maps_vgem_buffers)
{
	struct drm_mode_create_dumb dumb = { .width = 1024, .height = 4, .bpp = 8 };
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_gem_close gclose = { 0 };
	int vgem = open_vgem(), imp = importer_open(_metadata);
	char buf[16] = "vgem's memory";
	char back[16] = { 0 };

	ASSERT_LE(0, imp);
	ASSERT_LE(0, vgem) TH_LOG("no vgem device (modprobe vgem)");
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &dumb))
		TH_LOG("create: %s", strerror(errno));
	prime.handle = dumb.handle;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime))
		TH_LOG("export: %s", strerror(errno));
	ASSERT_EQ(0, importer_vmap(imp, prime.fd));
	ASSERT_EQ(0, importer_rw(imp, 100, buf, sizeof(buf), 1));
	ASSERT_EQ(0, importer_rw(imp, 100, back, sizeof(back), 0));
	EXPECT_EQ(0, memcmp(buf, back, sizeof(buf)));
	EXPECT_EQ(0, importer_vunmap(imp));
	close(prime.fd);
	gclose.handle = dumb.handle;
	EXPECT_EQ(0, ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gclose));
	close(vgem);
	close(imp);
}

TEST_HARNESS_MAIN
