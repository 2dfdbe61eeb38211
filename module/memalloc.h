/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memalloc: internal interfaces between the char device and the dataspaces.
 */
#ifndef _MEMALLOC_H
#define _MEMALLOC_H

#include <linux/gfp.h>
#include <linux/kref.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/memalloc.h>

struct dma_buf;
struct file;
struct inode;
struct mem_cgroup;

/* Fail a charge over the memory cgroup's limit, do not OOM-kill. */
#define MEMALLOC_POPULATE_GFP (GFP_HIGHUSER_MOVABLE | __GFP_RETRY_MAYFAIL | \
			       __GFP_NOWARN)
/* The module's own objects: ENOMEM at a limit too, never the OOM killer. */
#define MEMALLOC_OBJ_GFP (GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

/**
 * struct memalloc_ucmd - one ioctl call, as the handlers see it
 * @file: the open /dev/memalloc it came through
 * @ubuf: the caller's struct
 * @user_size: the size the caller gave in the struct's leading field
 * @cmd: the kernel's copy of the struct, zero-extended to the kernel's size
 */
struct memalloc_ucmd {
	struct file *file;
	void __user *ubuf;
	u32 user_size;
	void *cmd;
};

/**
 * struct memalloc_ds - a dataspace
 * @kref: one reference for each handle
 * @lock: guards the memory against revocation (see "DOC: Locking" in
 *        dataspace.c); protects @dead and @attachments
 * @clear_lock: keeps hole punching and device attachments apart
 * @dead: revoked by MEMALLOC_FREE: no memory, every operation is ENODEV
 * @attachments: the device attachments of all its handles
 * @inode: its inode on memalloc's pseudo file system, whose mapping every
 *         handle's file uses: block-backed mappings of all handles are
 *         on it, and revocation zaps them there
 * @memcg: the memory cgroup it was allocated from, which pays for lazy
 *         pages populated for a device
 * @shmem: the paged backing (lazy dataspaces), or NULL
 * @pages: the block backing (PINNED, CONTINUOUS), one entry a page, or NULL
 * @npages: the pages handed out: the byte size rounded up to (super)pages
 * @size: the exact byte size asked for
 * @flags: the MEMALLOC_* flags it was made with, caching attribute included
 * @align: log2 of its alignment, as MEMALLOC_ALLOC raised it
 * @caching_pages: the pages of @pages, from the first, whose mapping in the
 *                 kernel may have the caching attribute
 * @map_file: a read-only file of @shmem, which CPU mappings map, so that
 *            no one can punch holes into it through them (MADV_REMOVE)
 * @locked_user: the user charged for RLIMIT_MEMLOCK, or NULL
 * @pinned_mm: the mm whose pinned_vm (VmPin) shows the pages, or NULL
 */
struct memalloc_ds {
	struct kref kref;
	struct rw_semaphore lock;
	struct rw_semaphore clear_lock;
	bool dead;
	unsigned int attachments;
	struct inode *inode;
	struct mem_cgroup *memcg;
	struct file *shmem;
	struct page **pages;
	pgoff_t npages;
	u64 size;
	u32 flags;
	u32 align;
	pgoff_t caching_pages;
	struct file *map_file;
	struct user_struct *locked_user;
	struct mm_struct *pinned_mm;
};

/**
 * struct memalloc_handle - one fd of a dataspace: a dma-buf of its own
 * @ds: the dataspace, of which the handle holds a reference
 * @dmabuf: the dma-buf; its file is writable unless the handle is read-only
 * @writable: not a read-only handle
 *
 * The handle lives as long as its dma-buf, which may outlive the dma-buf's
 * file (an O_PATH open keeps the dentry): nothing but the fd's own users
 * may look at @dmabuf->file.
 */
struct memalloc_handle {
	struct memalloc_ds *ds;
	struct dma_buf *dmabuf;
	bool writable;
};

int memalloc_ucmd_respond(struct memalloc_ucmd *ucmd, size_t len);
unsigned int memalloc_ds_page_shift(const struct memalloc_ds *ds);

int memalloc_block_alloc(struct memalloc_ds *ds, unsigned int align);
void memalloc_block_free(struct memalloc_ds *ds);

u32 memalloc_alloc_flags(void);
void memalloc_version_facts(struct memalloc_version *cmd);
int memalloc_ds_alloc(struct memalloc_ucmd *ucmd);
int memalloc_ds_dup(struct memalloc_ucmd *ucmd);
int memalloc_ds_free(struct memalloc_ucmd *ucmd);
struct memalloc_handle *memalloc_handle_get(int fd);
void memalloc_handle_put(struct memalloc_handle *h);
struct memalloc_handle *memalloc_handle_get_live(int fd);
void memalloc_handle_put_live(struct memalloc_handle *h);
bool memalloc_handle_writable(const struct memalloc_handle *h);
int memalloc_ds_lock_live(struct memalloc_ds *ds);

struct page *memalloc_shmem_page(struct memalloc_ds *ds, pgoff_t index);
int memalloc_ds_info(struct memalloc_ucmd *ucmd);
int memalloc_ds_allocate(struct memalloc_ucmd *ucmd);
int memalloc_ds_phys(struct memalloc_ucmd *ucmd);
int memalloc_ds_clear(struct memalloc_ucmd *ucmd);
int memalloc_ds_copy_in(struct memalloc_ucmd *ucmd);
int memalloc_ds_init(void);
void memalloc_ds_exit(void);

#endif /* _MEMALLOC_H */
