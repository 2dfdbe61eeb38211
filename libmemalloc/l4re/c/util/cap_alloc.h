/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * L4Re's capability-slot allocator, in its C names: a slot is an fd that
 * l4re_ma_alloc() and l4re_ma_alloc_align() fill with a dataspace.
 */
#ifndef MEMALLOC_L4RE_C_UTIL_CAP_ALLOC_H
#define MEMALLOC_L4RE_C_UTIL_CAP_ALLOC_H

#include <l4re/c/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A free slot (an fd on /dev/null, O_CLOEXEC), or L4_INVALID_CAP. */
l4_cap_idx_t l4re_util_cap_alloc(void);
/* Give a slot back, closing what it holds. */
void l4re_util_cap_free(l4_cap_idx_t cap);

#ifdef __cplusplus
}
#endif

#endif /* MEMALLOC_L4RE_C_UTIL_CAP_ALLOC_H */
