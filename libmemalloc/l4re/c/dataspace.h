/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * L4Re's dataspace, in the C names of L4Re's own interface, on
 * libmemalloc. A dataspace is an fd in a slot from l4re_util_cap_alloc().
 * Every call returns 0 (or the value it names) or a negative L4 error
 * code, which equals -errno.
 */
#ifndef MEMALLOC_L4RE_C_DATASPACE_H
#define MEMALLOC_L4RE_C_DATASPACE_H

#include <l4re/c/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef l4_cap_idx_t l4re_ds_t;

enum l4re_ds_map_flags {
	L4RE_DS_MAP_FLAG_RO = 0,
	L4RE_DS_MAP_FLAG_RW = 1,
};

typedef struct {
	unsigned long size;	/* the exact byte size */
	unsigned long flags;	/* L4RE_DS_MAP_FLAG_RO or L4RE_DS_MAP_FLAG_RW */
} l4re_ds_stats_t;

long l4re_ds_size(l4re_ds_t ds);
long l4re_ds_flags(l4re_ds_t ds);
int l4re_ds_info(l4re_ds_t ds, l4re_ds_stats_t *stats);
long l4re_ds_clear(l4re_ds_t ds, l4_addr_t offset, unsigned long size);
long l4re_ds_allocate(l4re_ds_t ds, l4_addr_t offset, l4_size_t size);
int l4re_ds_copy_in(l4re_ds_t ds, l4_addr_t dst_offs, l4re_ds_t src,
		    l4_addr_t src_offs, unsigned long size);
int l4re_ds_phys(l4re_ds_t ds, l4_addr_t offset, l4_addr_t *phys_addr,
		 l4_size_t *phys_size);

#ifdef __cplusplus
}
#endif

#endif /* MEMALLOC_L4RE_C_DATASPACE_H */
