/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmemalloc: allocate dataspaces from /dev/memalloc.
 *
 * Error and thread policy: every function returns 0 (or a non-negative
 * value where documented) on success and a negative errno on failure; none
 * sets errno for the caller. Handles are not locked: use one handle from one
 * thread at a time, or lock around it. Every fd the library makes is
 * O_CLOEXEC.
 */
#ifndef MEMALLOC_LIB_H
#define MEMALLOC_LIB_H

#include <stddef.h>
#include <stdint.h>

#include <linux/memalloc.h>	/* MEMALLOC_CONTINUOUS, ... */

#ifdef __cplusplus
extern "C" {
#endif

/** An allocator: an open /dev/memalloc. */
struct memalloc;

/** What the kernel module offers (MEMALLOC_VERSION). */
struct memalloc_features {
	uint32_t api_version;
	uint32_t alloc_flags;
	uint64_t page_sizes;
};

int memalloc_open(struct memalloc **ma);
void memalloc_close(struct memalloc *ma);
int memalloc_fd(const struct memalloc *ma);
int memalloc_features(struct memalloc *ma, struct memalloc_features *out);
int memalloc_alloc_fd(struct memalloc *ma, uint64_t size, unsigned int flags,
		      unsigned int align);

#ifdef __cplusplus
}
#endif

#endif /* MEMALLOC_LIB_H */
