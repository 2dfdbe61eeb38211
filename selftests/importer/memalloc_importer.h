/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * memalloc_importer: a test-only dma-buf importer that reads and writes any
 * dma-buf through the kernel's mapping of it (dma_buf_vmap()). Its device,
 * /dev/memalloc_importer, holds one mapping per open file.
 */
#ifndef _MEMALLOC_IMPORTER_H
#define _MEMALLOC_IMPORTER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define MEMALLOC_IMPORTER_DEV	"/dev/memalloc_importer"
/* The most one MEMALLOC_IMPORTER_RW copies. */
#define MEMALLOC_IMPORTER_MAX_RW	0x100000

/**
 * struct memalloc_importer_rw - MEMALLOC_IMPORTER_RW: copy through the mapping
 * @offset: where in the dma-buf
 * @length: how many bytes, at most MEMALLOC_IMPORTER_MAX_RW
 * @buf: the caller's buffer
 * @write: nonzero: copy @buf into the dma-buf; zero: the other way
 * @pad: zero
 *
 * Bracketed by dma_buf_begin_cpu_access() and dma_buf_end_cpu_access().
 * A write is EBADF unless the dma-buf fd was opened for writing.
 */
struct memalloc_importer_rw {
	__u64 offset;
	__u64 length;
	__u64 buf;
	__u32 write;
	__u32 pad;
};

#define MEMALLOC_IMPORTER_TYPE	0xB7
/* dma_buf_get() and dma_buf_vmap() the dma-buf fd passed (an int). */
#define MEMALLOC_IMPORTER_VMAP	_IOW(MEMALLOC_IMPORTER_TYPE, 1, __s32)
#define MEMALLOC_IMPORTER_RW	_IOW(MEMALLOC_IMPORTER_TYPE, 2, \
				     struct memalloc_importer_rw)
/* dma_buf_vunmap() and dma_buf_put() what MEMALLOC_IMPORTER_VMAP took. */
#define MEMALLOC_IMPORTER_VUNMAP _IO(MEMALLOC_IMPORTER_TYPE, 3)

#endif /* _MEMALLOC_IMPORTER_H */
