/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The L4 types of L4Re's C interface that libmemalloc's compatibility
 * headers use. A capability index is a file descriptor here.
 */
#ifndef MEMALLOC_L4RE_C_TYPES_H
#define MEMALLOC_L4RE_C_TYPES_H

typedef unsigned long l4_addr_t;
typedef unsigned long l4_size_t;
typedef int l4_cap_idx_t;

#define L4_INVALID_CAP ((l4_cap_idx_t)-1)

static inline int l4_is_invalid_cap(l4_cap_idx_t c)
{
	return c < 0;
}

#endif /* MEMALLOC_L4RE_C_TYPES_H */
