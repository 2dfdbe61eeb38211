/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memalloc: internal interfaces between the char device and the dataspaces.
 */
#ifndef _MEMALLOC_H
#define _MEMALLOC_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/memalloc.h>

struct dma_buf;

/**
 * struct memalloc_ucmd - one ioctl call, as the handlers see it
 * @ubuf: the caller's struct
 * @user_size: the size the caller gave in the struct's leading field
 * @cmd: the kernel's copy of the struct, zero-extended to the kernel's size
 */
struct memalloc_ucmd {
	void __user *ubuf;
	u32 user_size;
	void *cmd;
};

/**
 * struct memalloc_ds - a dataspace
 * @kref: one reference for each handle
 * @lock: guards the memory against revocation (see "DOC: Locking" in
 *        dataspace.c); protects @dead, @handles and @attachments
 * @dead: revoked by MEMALLOC_FREE: no memory, every operation is ENODEV
 * @handles: its handles, struct memalloc_handle.node
 * @attachments: the device attachments of all its handles
 * @shmem: the paged backing (lazy dataspaces), or NULL
 * @pages: the block backing (PINNED, CONTINUOUS), one entry a page, or NULL
 * @npages: the pages handed out: the byte size rounded up to (super)pages
 * @size: the exact byte size asked for
 * @flags: the MEMALLOC_* flags it was made with, caching attribute included
 * @align: log2 of its alignment, as MEMALLOC_ALLOC raised it
 * @caching_set: the kernel's mapping of @pages has the caching attribute
 * @map_file: a read-only file of @shmem, which CPU mappings map, so that
 *            no one can punch holes into it through them (MADV_REMOVE)
 * @locked_user: the user charged for RLIMIT_MEMLOCK, or NULL
 * @pinned_mm: the mm whose pinned_vm (VmPin) shows the pages, or NULL
 */
struct memalloc_ds {
	struct kref kref;
	struct rw_semaphore lock;
	bool dead;
	struct list_head handles;
	unsigned int attachments;
	struct file *shmem;
	struct page **pages;
	pgoff_t npages;
	u64 size;
	u32 flags;
	u32 align;
	bool caching_set;
	struct file *map_file;
	struct user_struct *locked_user;
	struct mm_struct *pinned_mm;
};

/**
 * struct memalloc_handle - one fd of a dataspace: a dma-buf of its own
 * @ds: the dataspace, of which the handle holds a reference
 * @dmabuf: the dma-buf; its file is writable unless the handle is read-only
 * @node: in @ds->handles
 */
struct memalloc_handle {
	struct memalloc_ds *ds;
	struct dma_buf *dmabuf;
	struct list_head node;
};

int memalloc_ucmd_respond(struct memalloc_ucmd *ucmd, size_t len);

int memalloc_block_alloc(struct memalloc_ds *ds, unsigned int align);
void memalloc_block_free(struct memalloc_ds *ds);

u32 memalloc_alloc_flags(void);
int memalloc_ds_alloc(struct memalloc_ucmd *ucmd);
int memalloc_ds_dup(struct memalloc_ucmd *ucmd);
int memalloc_ds_free(struct memalloc_ucmd *ucmd);
struct memalloc_handle *memalloc_handle_get(int fd);
void memalloc_handle_put(struct memalloc_handle *h);
struct memalloc_handle *memalloc_handle_get_live(int fd);
void memalloc_handle_put_live(struct memalloc_handle *h);
bool memalloc_handle_writable(const struct memalloc_handle *h);
int memalloc_ds_lock_live(struct memalloc_ds *ds);

int memalloc_ds_info(struct memalloc_ucmd *ucmd);
int memalloc_ds_allocate(struct memalloc_ucmd *ucmd);
int memalloc_ds_phys(struct memalloc_ucmd *ucmd);
int memalloc_ds_clear(struct memalloc_ucmd *ucmd);
int memalloc_ds_copy_in(struct memalloc_ucmd *ucmd);
int memalloc_ds_init(void);
void memalloc_ds_exit(void);

#endif /* _MEMALLOC_H */
