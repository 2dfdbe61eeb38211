// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libmemalloc: L4Re's C names, on the process's default allocator.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <l4re/c/mem_alloc.h>
#include <l4re/c/util/cap_alloc.h>

#include "internal.h"

static struct memalloc *memalloc_default;
static pthread_mutex_t memalloc_default_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The default allocator: opened on first use, and tried again on the next
 * call after a failure (the module may have been loaded since).
 */
static int memalloc_default_get(struct memalloc **out)
{
	struct memalloc *ma = __atomic_load_n(&memalloc_default, __ATOMIC_ACQUIRE);
	int ret = 0;

	if (!ma) {
		pthread_mutex_lock(&memalloc_default_lock);
		ma = memalloc_default;
		if (!ma) {
			ret = memalloc_open(&ma);
			if (!ret)
				__atomic_store_n(&memalloc_default, ma, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&memalloc_default_lock);
	}
	*out = ma;
	return ret;
}

static long memalloc_l4re_info(l4re_ds_t ds, struct memalloc_info *info)
{
	struct memalloc *ma;
	int ret = memalloc_default_get(&ma);

	return ret ? ret : memalloc_fd_info(ma, ds, info);
}

MEMALLOC_EXPORT l4_cap_idx_t l4re_util_cap_alloc(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? L4_INVALID_CAP : fd;
}

MEMALLOC_EXPORT void l4re_util_cap_free(l4_cap_idx_t cap)
{
	if (!l4_is_invalid_cap(cap))
		close(cap);
}

/* Allocate through @ma into the slot @mem. */
static long memalloc_l4re_alloc(struct memalloc *ma, unsigned long size,
				l4re_ds_t mem, unsigned long flags,
				unsigned long align)
{
	long ret;
	int fd;

	if (l4_is_invalid_cap(mem) || align > UINT32_MAX || flags > UINT32_MAX)
		return -EINVAL;
	fd = memalloc_alloc_fd(ma, size, flags, align);
	if (fd < 0)
		return fd;
	/* A slot that was not open may have been given to it already. */
	if (fd == mem)
		return 0;
	/* Fill the slot: it now names the dataspace. */
	ret = dup3(fd, mem, O_CLOEXEC) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/* An allocator fd of the caller's (L4Re's server cap), not owned. */
static struct memalloc memalloc_l4re_srv(l4_cap_idx_t srv)
{
	return (struct memalloc){ .fd = srv, .refs = 1 };
}

MEMALLOC_EXPORT long l4re_ma_alloc_align(unsigned long size, l4re_ds_t mem,
					 unsigned long flags, unsigned long align)
{
	struct memalloc *ma;
	long ret;

	if (l4_is_invalid_cap(mem) || align > UINT32_MAX || flags > UINT32_MAX)
		return -EINVAL;
	ret = memalloc_default_get(&ma);
	return ret ? ret : memalloc_l4re_alloc(ma, size, mem, flags, align);
}

MEMALLOC_EXPORT long l4re_ma_alloc(unsigned long size, l4re_ds_t mem,
				   unsigned long flags)
{
	return l4re_ma_alloc_align(size, mem, flags, 0);
}

MEMALLOC_EXPORT long l4re_ma_free(l4re_ds_t mem)
{
	struct memalloc *ma;
	int ret = memalloc_default_get(&ma);

	return ret ? ret : memalloc_fd_free(ma, mem);
}

MEMALLOC_EXPORT long l4re_ma_alloc_align_srv(l4_cap_idx_t srv, unsigned long size,
					     l4re_ds_t mem, unsigned long flags,
					     unsigned long align)
{
	struct memalloc ma = memalloc_l4re_srv(srv);

	if (l4_is_invalid_cap(srv) || memalloc_check_allocator(srv))
		return -EINVAL;
	return memalloc_l4re_alloc(&ma, size, mem, flags, align);
}

MEMALLOC_EXPORT long l4re_ma_alloc_srv(l4_cap_idx_t srv, unsigned long size,
				       l4re_ds_t mem, unsigned long flags)
{
	return l4re_ma_alloc_align_srv(srv, size, mem, flags, 0);
}

MEMALLOC_EXPORT long l4re_ma_free_srv(l4_cap_idx_t srv, l4re_ds_t mem)
{
	struct memalloc ma = memalloc_l4re_srv(srv);

	if (l4_is_invalid_cap(srv) || memalloc_check_allocator(srv))
		return -EINVAL;
	return memalloc_fd_free(&ma, mem);
}

/* L4Re's flags of a handle: whether it may be mapped writable. */
static long memalloc_l4re_map_flags(const struct memalloc_info *info)
{
	return info->out_rights & MEMALLOC_RIGHT_W ? L4RE_DS_MAP_FLAG_RW :
						     L4RE_DS_MAP_FLAG_RO;
}

MEMALLOC_EXPORT long l4re_ds_size(l4re_ds_t ds)
{
	struct memalloc_info info;
	long ret = memalloc_l4re_info(ds, &info);

	return ret ? ret : (long)info.out_length;
}

MEMALLOC_EXPORT long l4re_ds_flags(l4re_ds_t ds)
{
	struct memalloc_info info;
	long ret = memalloc_l4re_info(ds, &info);

	return ret ? ret : memalloc_l4re_map_flags(&info);
}

MEMALLOC_EXPORT int l4re_ds_info(l4re_ds_t ds, l4re_ds_stats_t *stats)
{
	struct memalloc_info info;
	long ret = memalloc_l4re_info(ds, &info);

	if (ret)
		return ret;
	stats->size = info.out_length;
	stats->flags = memalloc_l4re_map_flags(&info);
	return 0;
}

MEMALLOC_EXPORT long l4re_ds_clear(l4re_ds_t ds, l4_addr_t offset,
				   unsigned long size)
{
	struct memalloc *ma;
	int ret = memalloc_default_get(&ma);

	return ret ? ret : memalloc_fd_clear(ma, ds, offset, size);
}

MEMALLOC_EXPORT long l4re_ds_allocate(l4re_ds_t ds, l4_addr_t offset,
				      l4_size_t size)
{
	struct memalloc *ma;
	int ret = memalloc_default_get(&ma);

	return ret ? ret : memalloc_fd_allocate(ma, ds, offset, size);
}

MEMALLOC_EXPORT int l4re_ds_copy_in(l4re_ds_t ds, l4_addr_t dst_offs,
				    l4re_ds_t src, l4_addr_t src_offs,
				    unsigned long size)
{
	struct memalloc *ma;
	int ret = memalloc_default_get(&ma);

	return ret ? ret : memalloc_fd_copy_in(ma, ds, dst_offs, src, src_offs, size);
}

MEMALLOC_EXPORT int l4re_ds_phys(l4re_ds_t ds, l4_addr_t offset,
				 l4_addr_t *phys_addr, l4_size_t *phys_size)
{
	uint64_t addr, len;
	struct memalloc *ma;
	int ret = memalloc_default_get(&ma);

	if (!ret)
		ret = memalloc_fd_phys(ma, ds, offset, &addr, &len);
	if (ret)
		return ret;
	*phys_addr = addr;
	if (phys_size)
		*phys_size = len;
	return 0;
}
