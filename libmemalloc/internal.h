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
int memalloc_ds_new(struct memalloc *ma, int fd, struct memalloc_ds **out);
int memalloc_ds_ioctl_info(struct memalloc *ma, int fd,
			   struct memalloc_info *info);

#endif /* MEMALLOC_INTERNAL_H */
