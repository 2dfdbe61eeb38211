// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: what each kind of dataspace gives on this kernel,
 * measured, against what MEMALLOC_VERSION says it gives. A row a kind: the
 * page-table entries its mapping gets (from VmPTE), and whether
 * get_user_pages() users (O_DIRECT on a real block device, vmsplice),
 * io_uring fixed buffers and a real dma-buf importer (vgem) take it. Each
 * row is logged; every cell must agree with the kernel's report.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <drm/drm.h>
#include <linux/io_uring.h>
#include <linux/memalloc.h>

#include "kselftest_harness.h"
#include "util.h"

#define MIB (1024ul * 1024)
#define GIB (1024ul * MIB)
#define PROBE (64 * 1024ul)

FIXTURE(kind) {
	int dev;
	int fd;
	size_t len;
	char *map;
	struct memalloc_version v;
};

FIXTURE_VARIANT(kind) {
	const char *name;
	uint32_t flags;
	size_t len;
	uint32_t align;
};

FIXTURE_VARIANT_ADD(kind, lazy) { "lazy", 0, 8 * MIB, 21 };
FIXTURE_VARIANT_ADD(kind, super_pages) { "SUPER_PAGES", MEMALLOC_SUPER_PAGES, 8 * MIB, 21 };
FIXTURE_VARIANT_ADD(kind, pinned) { "PINNED", MEMALLOC_PINNED, 8 * MIB, 21 };
FIXTURE_VARIANT_ADD(kind, pinned_super_pages) {
	"PINNED|SUPER_PAGES", MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES, 8 * MIB, 21 };
FIXTURE_VARIANT_ADD(kind, continuous) { "CONTINUOUS", MEMALLOC_CONTINUOUS, 8 * MIB, 21 };
FIXTURE_VARIANT_ADD(kind, continuous_super_pages) {
	"CONTINUOUS|SUPER_PAGES", MEMALLOC_CONTINUOUS | MEMALLOC_SUPER_PAGES, 8 * MIB, 21 };
FIXTURE_VARIANT_ADD(kind, continuous_super_pages_gib) {
	"CONTINUOUS|SUPER_PAGES 1G", MEMALLOC_CONTINUOUS | MEMALLOC_SUPER_PAGES, GIB, 30 };
FIXTURE_VARIANT_ADD(kind, write_combine) {
	"PINNED|WRITE_COMBINE", MEMALLOC_PINNED | MEMALLOC_WRITE_COMBINE, 8 * MIB, 21 };

FIXTURE_SETUP(kind)
{
	self->fd = -1;
	self->map = MAP_FAILED;
	self->len = variant->len;
	self->dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, kernel_facts(self->dev, &self->v));
	if (!(self->v.out_kinds & kind_of(variant->flags))) {
		/* Not offered: refused, never downgraded. */
		ASSERT_EQ(-EOPNOTSUPP, ds_alloc(self->dev, self->len, variant->flags,
						variant->align, O_CLOEXEC));
		SKIP(return, "%s: not offered by this kernel", variant->name);
	}
	self->fd = ds_alloc(self->dev, self->len, variant->flags, variant->align, O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", variant->name, strerror(-self->fd));
	self->map = map_aligned(self->fd, self->len, variant->align, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, self->map);
}

FIXTURE_TEARDOWN(kind)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->len);
	if (self->fd >= 0)
		close(self->fd);
	close(self->dev);
}

/* "ok", or the errno's name, of a call that returned @ret. */
static const char *outcome(long ret, int err, char *buf, size_t size)
{
	if (ret >= 0)
		return "ok";
	snprintf(buf, size, "%s", err == EFAULT ? "EFAULT" : err == EOPNOTSUPP ?
		 "EOPNOTSUPP" : strerror(err));
	return buf;
}

/*
 * The entry size the mapping got: 4 KiB entries take a 4 KiB table per
 * 2 MiB mapped, 2 MiB entries a table per 1 GiB, 1 GiB entries none.
 */
static size_t entry_measured(long tables_kib, size_t len)
{
	if (tables_kib >= (long)(len / (2 * MIB)) * 4)
		return 4096;
	if (len >= GIB && tables_kib < 4)
		return GIB;
	return 2 * MIB;
}

static size_t entry_reported(const struct memalloc_version *v, uint32_t kind,
			     size_t len, uint32_t align)
{
	if (v->out_pud_kinds & kind && len % GIB == 0 && align >= 30)
		return GIB;
	return v->out_pmd_kinds & kind ? 2 * MIB : 4096;
}

TEST_F_TIMEOUT(kind, measured_as_reported, 300)
{
	struct io_uring_params params = { 0 };
	uint32_t kind = kind_of(variant->flags);
	char e1[32], e2[32], e3[32], e4[32];
	const char *odirect = "n/a", *splice, *uring = "n/a", *vgem_import = "n/a";
	struct iovec iov;
	bool gup = self->v.out_gup_kinds & kind;
	long pte0, ret;
	size_t entry, i;
	int pipefd[2], blk, ring, vgem, err;

	if (self->map == MAP_FAILED)
		return;
	/* Entries: every page touched, then the page tables counted. */
	pte0 = status_kib("VmPTE");
	for (i = 0; i < self->len; i += 4096)
		self->map[i] = 1;
	entry = entry_measured(status_kib("VmPTE") - pte0, self->len);
	EXPECT_EQ(entry_reported(&self->v, kind, self->len, variant->align), entry);

	/* get_user_pages() users: O_DIRECT on a real block device, vmsplice. */
	blk = open("/dev/ram0", O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (blk >= 0) {
		ret = pread(blk, self->map, PROBE, 0);
		err = errno;
		odirect = outcome(ret, err, e1, sizeof(e1));
		EXPECT_EQ(gup ? (long)PROBE : -1, ret) TH_LOG("O_DIRECT: %s", odirect);
		if (!gup)
			EXPECT_EQ(EFAULT, err);
		/* What the device holds, read through the page cache: the same. */
		if (ret == (long)PROBE) {
			int cached = open("/dev/ram0", O_RDONLY | O_CLOEXEC);
			char *buf = malloc(PROBE);

			ASSERT_LE(0, cached);
			ASSERT_NE(NULL, buf);
			ASSERT_EQ((ssize_t)PROBE, pread(cached, buf, PROBE, 0));
			EXPECT_EQ(0, memcmp(buf, self->map, PROBE));
			free(buf);
			close(cached);
		}
		close(blk);
	}
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	iov.iov_base = self->map;
	iov.iov_len = 4096;
	ret = vmsplice(pipefd[1], &iov, 1, 0);
	err = errno;
	splice = outcome(ret, err, e2, sizeof(e2));
	EXPECT_EQ(gup ? 4096 : -1, ret) TH_LOG("vmsplice: %s", splice);
	if (!gup)
		EXPECT_EQ(EFAULT, err);
	close(pipefd[0]);
	close(pipefd[1]);

	/* io_uring fixed buffers. */
	ring = syscall(__NR_io_uring_setup, 4, &params);
	if (ring >= 0) {
		iov.iov_len = 2 * MIB;
		ret = syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, &iov, 1);
		uring = outcome(ret, errno, e3, sizeof(e3));
		EXPECT_EQ(self->v.out_io_uring_kinds & kind ? 0 : -1, ret)
			TH_LOG("io_uring: %s", uring);
		close(ring);
	}

	/* A real importer: every kind is a dma-buf a device can take. */
	vgem = open_vgem();
	if (vgem >= 0) {
		struct drm_prime_handle prime = { .fd = self->fd };
		struct drm_gem_close gclose = { 0 };

		ret = ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime);
		vgem_import = outcome(ret, errno, e4, sizeof(e4));
		EXPECT_EQ(0, ret) TH_LOG("vgem import: %s", vgem_import);
		if (!ret) {
			gclose.handle = prime.handle;
			EXPECT_EQ(0, ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gclose));
		}
		close(vgem);
	}
	TH_LOG("kind %-26s entries %-5s O_DIRECT %-6s vmsplice %-6s io_uring %-10s vgem %s",
	       variant->name, entry == GIB ? "1G" : entry == 2 * MIB ? "2M" : "4K",
	       odirect, splice, uring, vgem_import);
}

TEST_HARNESS_MAIN
