// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc_importer: a test-only dma-buf importer. Through its misc device
 * a test maps any dma-buf into the kernel (dma_buf_vmap()), reads and
 * writes it there between dma_buf_begin_cpu_access() and
 * dma_buf_end_cpu_access(), and unmaps it, as a driver would.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "memalloc_importer.h"

MODULE_IMPORT_NS(DMA_BUF);

/**
 * struct memalloc_importer - what one open file of the device holds
 * @lock: serializes the file's ioctls
 * @dmabuf: the dma-buf mapped, with a reference; or NULL
 * @map: its kernel mapping
 */
struct memalloc_importer {
	struct mutex lock;	/* the ioctls, one at a time */
	struct dma_buf *dmabuf;
	struct iosys_map map;
};

/**
 * memalloc_importer_open() - a new file of the device, mapping nothing
 * @inode: the device's inode
 * @file: the new file
 *
 * Return: 0 or -ENOMEM.
 */
static int memalloc_importer_open(struct inode *inode, struct file *file)
{
	struct memalloc_importer *imp;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp)
		return -ENOMEM;
	mutex_init(&imp->lock);
	file->private_data = imp;
	return 0;
}

/**
 * memalloc_importer_vmap() - take a dma-buf and map it into the kernel
 * @imp: the file's state, its lock held
 * @fd: the dma-buf's fd
 *
 * Return: 0, -EBUSY when the file maps one already, or the error of
 * dma_buf_get() or dma_buf_vmap().
 */
static int memalloc_importer_vmap(struct memalloc_importer *imp, int fd)
{
	struct dma_buf *dmabuf;
	int ret;

	if (imp->dmabuf)
		return -EBUSY;
	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	ret = memalloc_dma_buf_vmap_unlocked(dmabuf, &imp->map);
	if (ret) {
		dma_buf_put(dmabuf);
		return ret;
	}
	imp->dmabuf = dmabuf;
	return 0;
}

/**
 * memalloc_importer_vunmap() - unmap and let go of the file's dma-buf
 * @imp: the file's state, its lock held or the file gone
 *
 * Return: 0, or -EINVAL when the file maps none.
 */
static int memalloc_importer_vunmap(struct memalloc_importer *imp)
{
	if (!imp->dmabuf)
		return -EINVAL;
	memalloc_dma_buf_vunmap_unlocked(imp->dmabuf, &imp->map);
	dma_buf_put(imp->dmabuf);
	imp->dmabuf = NULL;
	return 0;
}

/**
 * memalloc_importer_rw() - copy between the caller and the kernel mapping
 * @imp: the file's state, its lock held
 * @arg: the caller's struct memalloc_importer_rw
 *
 * Through a bounce buffer, so that no fault of the caller's memory happens
 * between begin and end of the CPU access.
 *
 * A write needs a dma-buf fd opened for writing, as a careful driver
 * would check: the kernel mapping itself is writable for any dma-buf.
 *
 * Return: 0, -EINVAL (nothing mapped, a range outside the dma-buf or too
 * long, @pad set), -EBADF (a write through a dma-buf not opened for
 * writing), -EFAULT, -ENOMEM, or the error of the CPU access calls.
 */
static int memalloc_importer_rw(struct memalloc_importer *imp,
				void __user *arg)
{
	struct memalloc_importer_rw rw;
	void __user *ubuf;
	enum dma_data_direction dir;
	void *buf;
	int ret, end;

	if (copy_from_user(&rw, arg, sizeof(rw)))
		return -EFAULT;
	if (!imp->dmabuf || rw.pad || !rw.length ||
	    rw.length > MEMALLOC_IMPORTER_MAX_RW ||
	    rw.offset > imp->dmabuf->size ||
	    rw.length > imp->dmabuf->size - rw.offset)
		return -EINVAL;
	/* The file is the dma-buf's reference that dma_buf_get() took. */
	if (rw.write && !(imp->dmabuf->file->f_mode & FMODE_WRITE))
		return -EBADF;
	ubuf = u64_to_user_ptr(rw.buf);
	buf = kvmalloc(rw.length, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (rw.write && copy_from_user(buf, ubuf, rw.length)) {
		ret = -EFAULT;
		goto out;
	}
	/* The directions DMA_BUF_IOCTL_SYNC takes for a write and a read. */
	dir = rw.write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	ret = dma_buf_begin_cpu_access(imp->dmabuf, dir);
	if (ret)
		goto out;
	if (rw.write)
		iosys_map_memcpy_to(&imp->map, rw.offset, buf, rw.length);
	else
		iosys_map_memcpy_from(buf, &imp->map, rw.offset, rw.length);
	end = dma_buf_end_cpu_access(imp->dmabuf, dir);
	if (end)
		ret = end;
	else if (!rw.write && copy_to_user(ubuf, buf, rw.length))
		ret = -EFAULT;
out:
	kvfree(buf);
	return ret;
}

/**
 * memalloc_importer_ioctl() - the device's commands (memalloc_importer.h)
 * @file: the device's file
 * @cmd: MEMALLOC_IMPORTER_VMAP, _RW or _VUNMAP
 * @arg: the command's argument
 *
 * Return: 0 or a negative errno.
 */
static long memalloc_importer_ioctl(struct file *file, unsigned int cmd,
				    unsigned long arg)
{
	struct memalloc_importer *imp = file->private_data;
	int fd, ret;

	mutex_lock(&imp->lock);
	switch (cmd) {
	case MEMALLOC_IMPORTER_VMAP:
		ret = get_user(fd, (int __user *)arg);
		if (!ret)
			ret = memalloc_importer_vmap(imp, fd);
		break;
	case MEMALLOC_IMPORTER_RW:
		ret = memalloc_importer_rw(imp, (void __user *)arg);
		break;
	case MEMALLOC_IMPORTER_VUNMAP:
		ret = memalloc_importer_vunmap(imp);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&imp->lock);
	return ret;
}

/**
 * memalloc_importer_release() - the file's last close: let go of its dma-buf
 * @inode: the device's inode
 * @file: the file
 *
 * Return: 0.
 */
static int memalloc_importer_release(struct inode *inode, struct file *file)
{
	struct memalloc_importer *imp = file->private_data;

	memalloc_importer_vunmap(imp);
	mutex_destroy(&imp->lock);
	kfree(imp);
	return 0;
}

static const struct file_operations memalloc_importer_fops = {
	.owner = THIS_MODULE,
	.open = memalloc_importer_open,
	.release = memalloc_importer_release,
	.unlocked_ioctl = memalloc_importer_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice memalloc_importer_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "memalloc_importer",
	.fops = &memalloc_importer_fops,
	.mode = 0600,
};

module_misc_device(memalloc_importer_dev);

MODULE_DESCRIPTION("memalloc selftests: a dma-buf importer mapping buffers into the kernel");
MODULE_LICENSE("GPL");
