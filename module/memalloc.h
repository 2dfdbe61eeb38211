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

int memalloc_ucmd_respond(struct memalloc_ucmd *ucmd, size_t len);

int memalloc_ds_alloc(struct memalloc_ucmd *ucmd);
int memalloc_ds_init(void);
void memalloc_ds_exit(void);

#endif /* _MEMALLOC_H */
