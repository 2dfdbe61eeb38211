/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmemalloc: what the library's files share, not part of its API.
 */
#ifndef MEMALLOC_INTERNAL_H
#define MEMALLOC_INTERNAL_H

#include "memalloc.h"

#define MEMALLOC_EXPORT __attribute__((visibility("default")))

/* An open /dev/memalloc, held by its opener and by each dataspace handle. */
struct memalloc {
	int fd;
	unsigned int refs;	/* __atomic builtins */
};

/* One fd of a dataspace. */
struct memalloc_ds {
	struct memalloc *ma;
	int fd;
	uint64_t size;		/* the exact byte size */
	unsigned int align;	/* log2, for the addresses of mappings */
};

void memalloc_get(struct memalloc *ma);
int memalloc_check_allocator(int fd);
int memalloc_cmd(struct memalloc *ma, unsigned long cmd, void *arg);
int memalloc_alloc_raw(struct memalloc *ma, uint64_t size, unsigned int flags,
		       unsigned int align, unsigned int *raised_align);
int memalloc_ds_wrap(struct memalloc *ma, int fd, uint64_t size,
		     unsigned int align, struct memalloc_ds **out);

/* The dataspace operations on a raw fd, shared with L4Re's names. */
int memalloc_fd_info(struct memalloc *ma, int fd, struct memalloc_info *info);
int memalloc_fd_free(struct memalloc *ma, int fd);
int memalloc_fd_allocate(struct memalloc *ma, int fd, uint64_t offset,
			 uint64_t length);
int memalloc_fd_clear(struct memalloc *ma, int fd, uint64_t offset,
		      uint64_t length);
int memalloc_fd_copy_in(struct memalloc *ma, int fd, uint64_t dst_offset,
			int src_fd, uint64_t src_offset, uint64_t length);
int memalloc_fd_phys(struct memalloc *ma, int fd, uint64_t offset,
		     uint64_t *phys_addr, uint64_t *phys_length);

#endif /* MEMALLOC_INTERNAL_H */
