/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * L4Re's memory allocator, in the C names of L4Re's own interface, on
 * libmemalloc: the allocator is the process's /dev/memalloc, opened on
 * first use. Every call returns 0 or a negative L4 error code, which
 * equals -errno.
 */
#ifndef MEMALLOC_L4RE_C_MEM_ALLOC_H
#define MEMALLOC_L4RE_C_MEM_ALLOC_H

#include <l4re/c/dataspace.h>

#ifdef __cplusplus
extern "C" {
#endif

enum l4re_ma_flags {
	L4RE_MA_CONTINUOUS = 0x01,	/* physically contiguous */
	L4RE_MA_PINNED = 0x02,		/* eager, never swapped or migrated */
	L4RE_MA_SUPER_PAGES = 0x04,	/* backed by super (2 MiB) pages */
};

/* Allocate @size bytes into the slot @mem (from l4re_util_cap_alloc()). */
long l4re_ma_alloc(unsigned long size, l4re_ds_t mem, unsigned long flags);
/* The same, aligned to 2^@align bytes. */
long l4re_ma_alloc_align(unsigned long size, l4re_ds_t mem,
			 unsigned long flags, unsigned long align);
/* Free (revoke) the dataspace in @mem; the slot stays allocated. */
long l4re_ma_free(l4re_ds_t mem);

/*
 * The same through the allocator @srv instead of the default one: an fd
 * of /dev/memalloc or of a child allocator with a quota (since 1.1; see
 * memalloc_factory_create()).
 */
long l4re_ma_alloc_srv(l4_cap_idx_t srv, unsigned long size, l4re_ds_t mem,
		       unsigned long flags);
long l4re_ma_alloc_align_srv(l4_cap_idx_t srv, unsigned long size,
			     l4re_ds_t mem, unsigned long flags,
			     unsigned long align);
long l4re_ma_free_srv(l4_cap_idx_t srv, l4re_ds_t mem);

#ifdef __cplusplus
}
#endif

#endif /* MEMALLOC_L4RE_C_MEM_ALLOC_H */
