/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memalloc: internal interfaces between the char device and the dataspaces.
 */
#ifndef _MEMALLOC_H
#define _MEMALLOC_H

#include <linux/types.h>
#include <linux/memalloc.h>

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
 * @shmem: the paged backing (lazy dataspaces), or NULL
 * @pages: the block backing (PINNED, CONTINUOUS), one entry a page, or NULL
 * @npages: the pages handed out: the byte size rounded up to (super)pages
 * @size: the exact byte size asked for
 * @flags: the MEMALLOC_* flags it was made with
 * @map_file: a read-only file of @shmem, which CPU mappings map, so that
 *            no one can punch holes into it through them (MADV_REMOVE)
 * @locked_user: the user charged for RLIMIT_MEMLOCK, or NULL
 * @pinned_mm: the mm whose pinned_vm (VmPin) shows the pages, or NULL
 */
struct memalloc_ds {
	struct file *shmem;
	struct page **pages;
	pgoff_t npages;
	u64 size;
	u32 flags;
	struct file *map_file;
	struct user_struct *locked_user;
	struct mm_struct *pinned_mm;
};

int memalloc_ucmd_respond(struct memalloc_ucmd *ucmd, size_t len);

int memalloc_block_alloc(struct memalloc_ds *ds, unsigned int align);
void memalloc_block_free(struct memalloc_ds *ds);

u32 memalloc_alloc_flags(void);
int memalloc_ds_alloc(struct memalloc_ucmd *ucmd);
int memalloc_ds_info(struct memalloc_ucmd *ucmd);
int memalloc_ds_allocate(struct memalloc_ucmd *ucmd);
int memalloc_ds_phys(struct memalloc_ucmd *ucmd);
int memalloc_ds_init(void);
void memalloc_ds_exit(void);

#endif /* _MEMALLOC_H */
