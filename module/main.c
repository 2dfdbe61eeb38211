// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: the /dev/memalloc char device and its ioctl dispatcher.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/uaccess.h>

#include "memalloc.h"

/**
 * DOC: ioctl dispatch
 *
 * Every command is a row of memalloc_ioctl_ops, made by MEMALLOC_IOCTL_OP():
 * the smallest struct size it accepts (the first version of its struct),
 * the size the kernel knows, and the handler. memalloc_ioctl() reads the
 * caller's leading size field, checks it against the minimum (EINVAL) and
 * against a page (E2BIG: no caller makes the kernel check a longer tail),
 * copies the struct with copy_struct_from_user() (E2BIG for a non-zero
 * unknown tail) and hands the handler a kernel copy. Handlers write their
 * answer back with memalloc_ucmd_respond().
 */

/**
 * memalloc_ucmd_respond() - copy a command's answer back to the caller
 * @ucmd: the call
 * @len: the size of the kernel's struct
 *
 * Copies no more than the caller's struct holds.
 *
 * Context: process context, from an ioctl handler.
 * Return: 0, or -EFAULT when the caller's struct is not writable.
 */
int memalloc_ucmd_respond(struct memalloc_ucmd *ucmd, size_t len)
{
	if (copy_to_user(ucmd->ubuf, ucmd->cmd, min_t(size_t, ucmd->user_size, len)))
		return -EFAULT;
	return 0;
}

static int memalloc_version(struct memalloc_ucmd *ucmd)
{
	struct memalloc_version *cmd = ucmd->cmd;

	if (cmd->__reserved || cmd->__reserved2)
		return -EINVAL;
	cmd->out_api_version = MEMALLOC_API_VERSION;
	cmd->out_alloc_flags = memalloc_alloc_flags();
	memalloc_version_facts(cmd);
	return memalloc_ucmd_respond(ucmd, sizeof(*cmd));
}

union memalloc_cmd_buffer {
	struct memalloc_version version;
	struct memalloc_alloc alloc;
	struct memalloc_info info;
	struct memalloc_allocate allocate;
	struct memalloc_phys phys;
	struct memalloc_dup dup;
	struct memalloc_free free;
	struct memalloc_clear clear;
	struct memalloc_copy_in copy_in;
	struct memalloc_factory factory;
	struct memalloc_quota quota;
};

struct memalloc_ioctl_op {
	unsigned int ioctl_num;
	u32 min_size;
	u32 size;
	int (*execute)(struct memalloc_ucmd *ucmd);
};

/*
 * A row of the table: the command's number and ioctl, its handler, its
 * struct (type) and the last field of the struct's first version.
 */
#define MEMALLOC_IOCTL_OP(_cmd, _ioctl, _fn, type, _last)		\
	[_cmd] = {							\
		.ioctl_num = _ioctl,					\
		.min_size = offsetofend(struct type, _last),		\
		.size = sizeof(struct type),				\
		.execute = _fn,						\
	}

static const struct memalloc_ioctl_op memalloc_ioctl_ops[] = {
	MEMALLOC_IOCTL_OP(MEMALLOC_CMD_VERSION, MEMALLOC_VERSION, memalloc_version,
			  memalloc_version, out_page_sizes),
	MEMALLOC_IOCTL_OP(MEMALLOC_CMD_ALLOC, MEMALLOC_ALLOC, memalloc_ds_alloc,
			  memalloc_alloc, out_fd),
	MEMALLOC_IOCTL_OP(MEMALLOC_CMD_INFO, MEMALLOC_INFO, memalloc_ds_info,
			  memalloc_info, out_info_flags),
	MEMALLOC_IOCTL_OP(MEMALLOC_CMD_ALLOCATE, MEMALLOC_ALLOCATE, memalloc_ds_allocate,
			  memalloc_allocate, length),
	MEMALLOC_IOCTL_OP(MEMALLOC_CMD_PHYS, MEMALLOC_PHYS, memalloc_ds_phys,
			  memalloc_phys, out_length),
	MEMALLOC_IOCTL_OP(MEMALLOC_CMD_DUP, MEMALLOC_DUP, memalloc_ds_dup,
			  memalloc_dup, out_fd),
	MEMALLOC_IOCTL_OP(MEMALLOC_CMD_FREE, MEMALLOC_FREE, memalloc_ds_free,
			  memalloc_free, fd),
	MEMALLOC_IOCTL_OP(MEMALLOC_CMD_CLEAR, MEMALLOC_CLEAR, memalloc_ds_clear,
			  memalloc_clear, length),
	MEMALLOC_IOCTL_OP(MEMALLOC_CMD_COPY_IN, MEMALLOC_COPY_IN, memalloc_ds_copy_in,
			  memalloc_copy_in, length),
	MEMALLOC_IOCTL_OP(MEMALLOC_CMD_FACTORY, MEMALLOC_FACTORY, memalloc_factory,
			  memalloc_factory, __reserved),
	MEMALLOC_IOCTL_OP(MEMALLOC_CMD_QUOTA, MEMALLOC_QUOTA, memalloc_quota,
			  memalloc_quota, out_count),
};

static long memalloc_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	const struct memalloc_ioctl_op *op;
	union memalloc_cmd_buffer buf;
	struct memalloc_ucmd ucmd = {
		.file = file,
		.ubuf = (void __user *)arg,
		.cmd = &buf,
	};
	unsigned int nr = _IOC_NR(cmd);
	int ret;

	if (nr >= ARRAY_SIZE(memalloc_ioctl_ops))
		return -ENOTTY;
	op = &memalloc_ioctl_ops[array_index_nospec(nr, ARRAY_SIZE(memalloc_ioctl_ops))];
	if (op->ioctl_num != cmd)
		return -ENOTTY;

	if (get_user(ucmd.user_size, (u32 __user *)ucmd.ubuf))
		return -EFAULT;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	if (ucmd.user_size > PAGE_SIZE)
		return -E2BIG;
	ret = copy_struct_from_user(&buf, op->size, ucmd.ubuf, ucmd.user_size);
	if (ret)
		return ret;
	return op->execute(&ucmd);
}

static int memalloc_open(struct inode *inode, struct file *file)
{
	return memalloc_allocator_open(file);
}

static int memalloc_release(struct inode *inode, struct file *file)
{
	memalloc_allocator_release(file);
	return 0;
}

/* /dev/memalloc's, and every child allocator's (see allocator.c). */
static const struct file_operations memalloc_fops = {
	.owner = THIS_MODULE,
	.open = memalloc_open,
	.release = memalloc_release,
	.unlocked_ioctl = memalloc_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice memalloc_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "memalloc",
	.fops = &memalloc_fops,
	.mode = 0600,
};

static int __init memalloc_init(void)
{
	int ret;

	BUILD_BUG_ON(sizeof(struct memalloc_version) != 48);
	/* The table's first version of MEMALLOC_VERSION is the UAPI's. */
	BUILD_BUG_ON(offsetofend(struct memalloc_version, out_page_sizes) !=
		     MEMALLOC_VERSION_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct memalloc_alloc) != 32);
	BUILD_BUG_ON(sizeof(struct memalloc_info) != 56);
	BUILD_BUG_ON(sizeof(struct memalloc_allocate) != 24);
	BUILD_BUG_ON(sizeof(struct memalloc_phys) != 32);
	BUILD_BUG_ON(sizeof(struct memalloc_dup) != 24);
	BUILD_BUG_ON(sizeof(struct memalloc_free) != 8);
	BUILD_BUG_ON(sizeof(struct memalloc_clear) != 24);
	BUILD_BUG_ON(sizeof(struct memalloc_copy_in) != 40);
	BUILD_BUG_ON(sizeof(struct memalloc_factory) != 24);
	BUILD_BUG_ON(sizeof(struct memalloc_quota) != 88);

	memalloc_limits_init();

	ret = memalloc_pool_init();
	if (ret)
		return ret;
	ret = memalloc_ds_init();
	if (ret) {
		memalloc_pool_exit();
		return ret;
	}
	memalloc_observe_init();
	ret = misc_register(&memalloc_misc);
	if (ret) {
		memalloc_observe_exit();
		memalloc_ds_exit();
		memalloc_pool_exit();
		return ret;
	}
	return 0;
}

static void __exit memalloc_exit(void)
{
	misc_deregister(&memalloc_misc);
	memalloc_observe_exit();
	memalloc_ds_exit();
	memalloc_pool_exit();
}

module_init(memalloc_init);
module_exit(memalloc_exit);

MODULE_DESCRIPTION("Memory allocator handing out dataspaces as dma-buf fds");
MODULE_LICENSE("GPL");
#ifdef MEMALLOC_VERSION_STRING
MODULE_VERSION(MEMALLOC_VERSION_STRING);
#endif
