/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmemalloc: dataspaces with guarantees from /dev/memalloc, after L4Re's
 * Mem_alloc and Dataspace interfaces.
 *
 * Policy, once for every function here:
 *
 * - Errors: every function that can fail returns 0 (or a non-negative
 *   value where its man page says so) on success and a negative errno on
 *   failure. None sets errno for the caller, none prints. memalloc_strerror()
 *   turns an error into a sentence a person can act on.
 * - Handles are opaque. A dataspace handle holds a reference to the
 *   allocator it came from, so memalloc_close() may come before the last
 *   memalloc_ds_close(). Closing a handle does not unmap its mappings: a
 *   mapping keeps the memory until it is unmapped.
 * - Threads: the library has no global state but the default allocator of
 *   the L4Re names (made once, thread-safely). Different handles may be
 *   used from different threads at once; calls on one handle may run
 *   concurrently too, except that the close of a handle must be the last
 *   call on it.
 * - Every fd the library makes is O_CLOEXEC.
 *
 * API version 1 (MEMALLOC_LIB_API_VERSION); the ABI is the SONAME
 * libmemalloc.so.1 and its symbol versions (LIBMEMALLOC_1.0, ...). The
 * release is MEMALLOC_LIB_VERSION_MAJOR, _MINOR and _PATCH (from
 * <memalloc/version.h>) at build time, memalloc_version_string() at run
 * time.
 */
#ifndef MEMALLOC_LIB_H
#define MEMALLOC_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The ioctl ABI, uapi/linux/memalloc.h in the source tree, which the module
 * and the selftests include as <linux/memalloc.h>. It is installed as
 * <memalloc/linux-memalloc.h>, since <linux/...> belongs to the kernel's
 * headers; in the tree, libmemalloc/memalloc/ holds a link to it, and the
 * generated version.h, as they are installed.
 */
#include <memalloc/version.h>		/* MEMALLOC_LIB_VERSION_MAJOR, ... */
#include <memalloc/linux-memalloc.h>	/* MEMALLOC_CONTINUOUS, ... */
#include <linux/dma-buf.h>	/* DMA_BUF_SYNC_* for memalloc_ds_sync() */

#ifdef __cplusplus
extern "C" {
#endif

#define MEMALLOC_LIB_API_VERSION 1

/** An allocator: an open /dev/memalloc (L4Re's Mem_alloc). */
struct memalloc;

/** A handle of a dataspace: one fd (L4Re's Dataspace capability). */
struct memalloc_ds;

/**
 * What the kernel module offers (MEMALLOC_VERSION). The caller sets @size
 * to sizeof(struct memalloc_features); fields past it are left alone, so
 * the struct can grow.
 */
struct memalloc_features {
	uint32_t size;		/* sizeof(struct memalloc_features), by the caller */
	uint32_t api_version;	/* the module's MEMALLOC_API_VERSION */
	uint32_t alloc_flags;	/* the MEMALLOC_* flags it honours */
	uint32_t kinds;		/* the MEMALLOC_KIND_* it can allocate */
	uint64_t page_sizes;	/* bit n set: pages of 2^n bytes */
	uint32_t gup_kinds;	/* kinds whose mappings get_user_pages() takes */
	uint32_t io_uring_kinds; /* kinds io_uring takes fixed buffers from */
	uint32_t pmd_kinds;	/* kinds mapped with 2 MiB entries */
	uint32_t pud_kinds;	/* kinds mapped with 1 GiB entries */
};

/**
 * What a dataspace is and holds, through one handle (MEMALLOC_INFO). The
 * caller sets @size to sizeof(struct memalloc_ds_info); fields past it are
 * left alone, so the struct can grow. Its first version is 56 bytes, tail
 * padding included: fields added later start at offset 56, never inside it.
 */
struct memalloc_ds_info {
	uint32_t size;		/* sizeof(struct memalloc_ds_info), by the caller */
	uint32_t flags;		/* the MEMALLOC_* flags it was made with */
	uint64_t length;	/* the exact byte size */
	uint64_t mappable;	/* the length rounded up to backing pages */
	uint64_t resident;	/* the bytes of memory it holds now */
	uint32_t rights;	/* MEMALLOC_RIGHT_R, and _W unless read-only */
	uint32_t caching;	/* of this handle's mappings: MEMALLOC_CACHED, ... */
	uint32_t page_shift;	/* log2 of the backing page size */
	uint32_t align;		/* log2 of its alignment */
	bool contiguous;	/* one physically contiguous block */
};

/**
 * An allocator's quota and use (MEMALLOC_QUOTA). The caller sets @size to
 * sizeof(struct memalloc_quota_info); fields past it are left alone.
 */
struct memalloc_quota_info {
	uint32_t size;		/* sizeof(struct memalloc_quota_info), by the caller */
	uint64_t limit;		/* bytes, or MEMALLOC_QUOTA_UNLIMITED */
	uint64_t used;		/* dataspaces' rounded sizes and children's quotas */
	uint64_t available;	/* limit - used, or MEMALLOC_QUOTA_UNLIMITED */
	uint64_t peak;		/* the most used has been */
	uint64_t children;	/* the part of used reserved by child allocators */
	uint32_t count[8];	/* live dataspaces by kind: [n] for MEMALLOC_KIND_* 1 << n */
	uint64_t id;		/* its number, as memalloc list shows it */
};

/* Since 1.0: the allocator. */
int memalloc_open(struct memalloc **ma);
void memalloc_close(struct memalloc *ma);
int memalloc_fd(const struct memalloc *ma);
int memalloc_features(struct memalloc *ma, struct memalloc_features *out);
int memalloc_alloc(struct memalloc *ma, uint64_t size, unsigned int flags,
		   unsigned int align, struct memalloc_ds **ds);
int memalloc_alloc_fd(struct memalloc *ma, uint64_t size, unsigned int flags,
		      unsigned int align);
int memalloc_free(struct memalloc *ma, struct memalloc_ds *ds);
const char *memalloc_strerror(int err);
const char *memalloc_version_string(void);

/* Since 1.1: allocators with quotas (L4Re's Factory on Mem_alloc). */
int memalloc_factory_create(struct memalloc *ma, uint64_t quota,
			    struct memalloc **child);
int memalloc_import(int fd, struct memalloc **ma);
int memalloc_quota(struct memalloc *ma, struct memalloc_quota_info *info);

/* Since 1.0: dataspaces. */
int memalloc_ds_import(struct memalloc *ma, int fd, struct memalloc_ds **ds);
void memalloc_ds_close(struct memalloc_ds *ds);
int memalloc_ds_fd(const struct memalloc_ds *ds);
uint64_t memalloc_ds_size(const struct memalloc_ds *ds);
int memalloc_ds_info(struct memalloc_ds *ds, struct memalloc_ds_info *info);
int memalloc_ds_map(struct memalloc_ds *ds, uint64_t offset, size_t length,
		    int prot, void **addr);
int memalloc_ds_unmap(struct memalloc_ds *ds, void *addr, size_t length);
int memalloc_ds_allocate(struct memalloc_ds *ds, uint64_t offset,
			 uint64_t length);
int memalloc_ds_clear(struct memalloc_ds *ds, uint64_t offset,
		      uint64_t length);
int memalloc_ds_copy_in(struct memalloc_ds *ds, uint64_t dst_offset,
			struct memalloc_ds *src, uint64_t src_offset,
			uint64_t length);
int memalloc_ds_phys(struct memalloc_ds *ds, uint64_t offset,
		     uint64_t *phys_addr, uint64_t *phys_length);
int memalloc_ds_dup(struct memalloc_ds *ds, unsigned int rights,
		    unsigned int caching, struct memalloc_ds **dup);
int memalloc_ds_sync(struct memalloc_ds *ds, uint64_t flags);

#ifdef __cplusplus
}
#endif

#endif /* MEMALLOC_LIB_H */
