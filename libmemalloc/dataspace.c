// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libmemalloc: dataspace handles, L4Re's Dataspace.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* Mappings are aligned to at most this (1 GiB): address space is cheap. */
#define MEMALLOC_MAX_MAP_ALIGN 30

int memalloc_fd_info(struct memalloc *ma, int fd, struct memalloc_info *info)
{
	*info = (struct memalloc_info){ .size = sizeof(*info), .fd = fd };
	return memalloc_cmd(ma, MEMALLOC_INFO, info);
}

int memalloc_fd_free(struct memalloc *ma, int fd)
{
	struct memalloc_free f = { .size = sizeof(f), .fd = fd };

	return memalloc_cmd(ma, MEMALLOC_FREE, &f);
}

int memalloc_fd_allocate(struct memalloc *ma, int fd, uint64_t offset,
			 uint64_t length)
{
	struct memalloc_allocate a = {
		.size = sizeof(a), .fd = fd, .offset = offset, .length = length,
	};

	return memalloc_cmd(ma, MEMALLOC_ALLOCATE, &a);
}

int memalloc_fd_clear(struct memalloc *ma, int fd, uint64_t offset,
		      uint64_t length)
{
	struct memalloc_clear c = {
		.size = sizeof(c), .fd = fd, .offset = offset, .length = length,
	};

	return memalloc_cmd(ma, MEMALLOC_CLEAR, &c);
}

int memalloc_fd_copy_in(struct memalloc *ma, int fd, uint64_t dst_offset,
			int src_fd, uint64_t src_offset, uint64_t length)
{
	struct memalloc_copy_in c = {
		.size = sizeof(c),
		.fd = fd,
		.dst_offset = dst_offset,
		.src_fd = src_fd,
		.src_offset = src_offset,
		.length = length,
	};

	return memalloc_cmd(ma, MEMALLOC_COPY_IN, &c);
}

int memalloc_fd_phys(struct memalloc *ma, int fd, uint64_t offset,
		     uint64_t *phys_addr, uint64_t *phys_length)
{
	struct memalloc_phys p = { .size = sizeof(p), .fd = fd, .offset = offset };
	int ret = memalloc_cmd(ma, MEMALLOC_PHYS, &p);

	if (ret)
		return ret;
	*phys_addr = p.out_addr;
	if (phys_length)
		*phys_length = p.out_length;
	return 0;
}

/* A handle owning @fd, a dataspace of @size bytes aligned to 2^@align. */
int memalloc_ds_wrap(struct memalloc *ma, int fd, uint64_t size,
		     unsigned int align, struct memalloc_ds **out)
{
	struct memalloc_ds *ds = calloc(1, sizeof(*ds));

	if (!ds)
		return -ENOMEM;
	memalloc_get(ma);
	ds->ma = ma;
	ds->fd = fd;
	ds->size = size;
	ds->align = align;
	*out = ds;
	return 0;
}

MEMALLOC_EXPORT int memalloc_ds_import(struct memalloc *ma, int fd,
				       struct memalloc_ds **ds)
{
	struct memalloc_info info;
	int own, ret;

	/* Also what tells a dataspace of this device from any other fd. */
	ret = memalloc_fd_info(ma, fd, &info);
	if (ret)
		return ret;
	own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (own < 0)
		return -errno;
	ret = memalloc_ds_wrap(ma, own, info.out_length, info.out_align, ds);
	if (ret)
		close(own);
	return ret;
}

MEMALLOC_EXPORT void memalloc_ds_close(struct memalloc_ds *ds)
{
	if (!ds)
		return;
	close(ds->fd);
	memalloc_close(ds->ma);
	free(ds);
}

MEMALLOC_EXPORT int memalloc_ds_fd(const struct memalloc_ds *ds)
{
	return ds->fd;
}

MEMALLOC_EXPORT uint64_t memalloc_ds_size(const struct memalloc_ds *ds)
{
	return ds->size;
}

/* The size of struct memalloc_ds_info's first version, the least a caller may pass. */
#define DS_INFO_SIZE_VER0 56
_Static_assert(sizeof(struct memalloc_ds_info) >= DS_INFO_SIZE_VER0,
	       "struct memalloc_ds_info only grows");

MEMALLOC_EXPORT int memalloc_ds_info(struct memalloc_ds *ds,
				     struct memalloc_ds_info *info)
{
	struct memalloc_ds_info out;
	struct memalloc_info i;
	int ret;

	if (info->size < DS_INFO_SIZE_VER0)
		return -EINVAL;
	ret = memalloc_fd_info(ds->ma, ds->fd, &i);
	if (ret)
		return ret;
	/* Padding too is zero, in what the caller gets. */
	memset(&out, 0, sizeof(out));
	out.size = info->size < sizeof(out) ? info->size : sizeof(out);
	out.flags = i.out_flags;
	out.length = i.out_length;
	out.mappable = i.out_mappable;
	out.resident = i.out_resident;
	out.rights = i.out_rights;
	out.caching = i.out_caching;
	out.page_shift = i.out_page_shift;
	out.align = i.out_align;
	out.contiguous = i.out_info_flags & MEMALLOC_INFO_CONTIGUOUS;
	memcpy(info, &out, out.size);
	return 0;
}

/*
 * Reserve address space for @length plus the alignment, then map over it
 * with MAP_FIXED so that the address is congruent to @offset modulo the
 * alignment: a super page then lands on a PMD (the dma-buf file offers no
 * get_unmapped_area to do it for us). The slack is given back.
 */
MEMALLOC_EXPORT int memalloc_ds_map(struct memalloc_ds *ds, uint64_t offset,
				    size_t length, int prot, void **addr)
{
	unsigned int shift = ds->align;
	uintptr_t base, at, align;
	size_t span, page = sysconf(_SC_PAGESIZE);
	void *p;

	if (!length) {
		struct memalloc_info info;
		int ret = memalloc_fd_info(ds->ma, ds->fd, &info);

		if (ret)
			return ret;
		if (offset >= info.out_mappable)
			return -EINVAL;
		length = info.out_mappable - offset;
	}
	if (shift > MEMALLOC_MAX_MAP_ALIGN)
		shift = MEMALLOC_MAX_MAP_ALIGN;
	align = (uintptr_t)1 << shift;
	if (align < page)
		align = page;
	if (__builtin_add_overflow(length, align, &span))
		return -ENOMEM;
	p = mmap(NULL, span, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	base = (uintptr_t)p;
	at = base + ((offset - base) & (align - 1));
	p = mmap((void *)at, length, prot, MAP_SHARED | MAP_FIXED, ds->fd, offset);
	if (p == MAP_FAILED) {
		int err = -errno;

		munmap((void *)base, span);
		return err;
	}
	if (at > base)
		munmap((void *)base, at - base);
	at += (length + page - 1) & ~(page - 1);
	if (base + span > at)
		munmap((void *)at, base + span - at);
	*addr = p;
	return 0;
}

MEMALLOC_EXPORT int memalloc_ds_unmap(struct memalloc_ds *ds, void *addr,
				      size_t length)
{
	(void)ds;
	if (munmap(addr, length))
		return -errno;
	return 0;
}

MEMALLOC_EXPORT int memalloc_ds_allocate(struct memalloc_ds *ds,
					 uint64_t offset, uint64_t length)
{
	return memalloc_fd_allocate(ds->ma, ds->fd, offset, length);
}

MEMALLOC_EXPORT int memalloc_ds_clear(struct memalloc_ds *ds, uint64_t offset,
				      uint64_t length)
{
	return memalloc_fd_clear(ds->ma, ds->fd, offset, length);
}

MEMALLOC_EXPORT int memalloc_ds_copy_in(struct memalloc_ds *ds,
					uint64_t dst_offset,
					struct memalloc_ds *src,
					uint64_t src_offset, uint64_t length)
{
	return memalloc_fd_copy_in(ds->ma, ds->fd, dst_offset, src ? src->fd : -1,
				   src_offset, length);
}

MEMALLOC_EXPORT int memalloc_ds_phys(struct memalloc_ds *ds, uint64_t offset,
				     uint64_t *phys_addr, uint64_t *phys_length)
{
	return memalloc_fd_phys(ds->ma, ds->fd, offset, phys_addr, phys_length);
}

MEMALLOC_EXPORT int memalloc_ds_dup(struct memalloc_ds *ds,
				    unsigned int rights, unsigned int caching,
				    struct memalloc_ds **dup)
{
	struct memalloc_dup d = {
		.size = sizeof(d),
		.fd = ds->fd,
		.rights = rights,
		.caching = caching,
		.fd_flags = O_CLOEXEC,
	};
	int ret = memalloc_cmd(ds->ma, MEMALLOC_DUP, &d);

	if (ret)
		return ret;
	/* The same dataspace: its size and alignment are the same too. */
	ret = memalloc_ds_wrap(ds->ma, d.out_fd, ds->size, ds->align, dup);
	if (ret)
		close(d.out_fd);
	return ret;
}

MEMALLOC_EXPORT int memalloc_ds_sync(struct memalloc_ds *ds, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	if (ioctl(ds->fd, DMA_BUF_IOCTL_SYNC, &s))
		return -errno;
	return 0;
}
