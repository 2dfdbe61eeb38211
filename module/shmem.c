// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: the backing of lazy dataspaces, shmem files on private tmpfs
 * mounts; and what it shares with PINNED SUPER_PAGES (shmem_pinned.c).
 */
#include <linux/dma-buf.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/shmem_fs.h>
#include <linux/string.h>

#include "compat.h"
#include "memalloc.h"

/**
 * DOC: lazy dataspaces
 *
 * A lazy dataspace's memory lives in a shmem file on a private tmpfs
 * mount, as DRM drivers back their GEM objects: pages are allocated on
 * first touch, zeroed, charged to the memory cgroup of the task that
 * touches them, and mapped page-backed, so get_user_pages() users
 * (O_DIRECT, io_uring) work on the mappings. The commands reach the memory
 * through the file: pages are allocated where written, and read as zero
 * where absent without being allocated.
 *
 * SUPER_PAGES dataspaces use a second mount with huge=always: their memory
 * comes in 2 MiB pages, mapped with PMD entries where the mapping's address
 * is 2 MiB aligned, and still page-backed.
 *
 * A CPU mapping of a lazy dataspace is a mapping of a read-only file of the
 * shmem file (vma_set_file()), so it keeps the memory alive after the
 * dataspace's last fd is closed, and no one can punch holes through it
 * (MADV_REMOVE). Revocation truncates the file to nothing: that zaps its
 * mappings and frees its pages, and later faults beyond its size get
 * SIGBUS.
 */

/* Private tmpfs mounts: 4 KiB pages, and transparent huge pages. */
static struct vfsmount *memalloc_mnt;
static struct vfsmount *memalloc_huge_mnt;

/**
 * memalloc_shmem_has_huge() - can dataspaces have 2 MiB pages
 *
 * Context: any.
 * Return: whether the kernel has transparent huge pages for shmem.
 */
bool memalloc_shmem_has_huge(void)
{
	return memalloc_huge_mnt;
}

/**
 * memalloc_shmem_file() - make a dataspace's shmem file, and its map file
 * @ds: the dataspace; @ds->npages and @ds->flags are set
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno; memalloc_shmem_destroy() undoes it,
 * failed or not.
 */
int memalloc_shmem_file(struct memalloc_ds *ds)
{
	int ret;

	ds->shmem = shmem_file_setup_with_mnt(ds->flags & MEMALLOC_SUPER_PAGES ?
					      memalloc_huge_mnt : memalloc_mnt,
					      KBUILD_MODNAME,
					      (loff_t)ds->npages << PAGE_SHIFT,
					      VM_NORESERVE);
	ret = PTR_ERR_OR_ZERO(ds->shmem);
	if (ret) {
		ds->shmem = NULL;
		/* shmem's ENOSPC: its inode could not be had. */
		return ret == -ENOSPC ? -ENOMEM : ret;
	}
	/* The module's own, as shmem_kernel_file_setup() makes them. */
	file_inode(ds->shmem)->i_flags |= S_PRIVATE;
	/* A large file: dataspaces may be larger than 2 GiB. */
	ds->map_file = dentry_open(&ds->shmem->f_path, O_RDONLY | O_LARGEFILE,
				   current_cred());
	ret = PTR_ERR_OR_ZERO(ds->map_file);
	if (ret)
		ds->map_file = NULL;
	return ret;
}

/**
 * memalloc_shmem_set_map_fops() - give a dataspace's map file memalloc's fops
 * @ds: the dataspace, whose map file is made
 * @fops: the file operations, of this module
 *
 * The map file is what mappings hold; its fops decide what happens to it
 * when a vma's file is used again (remap_file_pages()) and when the last
 * mapping goes. The module stays loaded while it lives.
 *
 * Context: process context, before the map file is mapped.
 */
void memalloc_shmem_set_map_fops(struct memalloc_ds *ds,
				 const struct file_operations *fops)
{
	fops_put(ds->map_file->f_op);
	__module_get(THIS_MODULE);
	ds->map_file->f_op = fops;
}

/**
 * memalloc_shmem_destroy() - drop a dataspace's shmem files
 * @ds: the dataspace
 *
 * Context: process context.
 */
void memalloc_shmem_destroy(struct memalloc_ds *ds)
{
	if (ds->map_file)
		fput(ds->map_file);
	if (ds->shmem)
		fput(ds->shmem);
}

/**
 * memalloc_shmem_mmap() - map a dataspace's shmem file
 * @h: the handle mapped
 * @vma: the new vma, which maps the read-only map file from now on
 *
 * Context: mmap(), mmap_lock held for writing; sleeps.
 * Return: 0, -ENODEV for a revoked dataspace, or shmem's errno.
 */
int memalloc_shmem_mmap(struct memalloc_handle *h, struct vm_area_struct *vma)
{
	struct memalloc_ds *ds = h->ds;
	int ret;

	ret = memalloc_ds_lock_live(ds);
	if (ret)
		return ret;
	vma_set_file(vma, ds->map_file);
	ret = ds->shmem->f_op->mmap(ds->map_file, vma);
	up_read(&ds->lock);
	return ret;
}

/**
 * memalloc_shmem_revoke() - truncate a revoked dataspace's file to nothing
 * @ds: the dataspace
 *
 * That zaps its mappings and frees its pages, and later faults beyond its
 * size get SIGBUS. Not under ds->lock: the file system's locks rank above
 * mmap_lock, which ranks above ds->lock.
 *
 * Context: process context; sleeps.
 */
void memalloc_shmem_revoke(struct memalloc_ds *ds)
{
	struct iattr attr = { .ia_valid = ATTR_SIZE, .ia_size = 0 };
	struct inode *inode = file_inode(ds->shmem);
	int ret;

	inode_lock(inode);
	ret = memalloc_notify_change(ds->shmem->f_path.dentry, &attr);
	inode_unlock(inode);
	/* A private inode: no LSM and no seal can refuse it. */
	WARN_ON_ONCE(ret);
}

/*
 * Page @index of a lazy dataspace, taken if absent.
 * A new page is zeroed and charged to the caller's memory cgroup (or the
 * one set_active_memcg() chose), and fails with ENOMEM over its limit, not
 * the OOM killer. The page is dirty, as shmem_fallocate() leaves
 * the pages it allocates: reclaim swaps it out then, where it would drop a
 * clean one (and devices may write it).
 */
static struct page *memalloc_shmem_page(struct memalloc_ds *ds, pgoff_t index)
{
	struct page *page;

	page = shmem_read_mapping_page_gfp(ds->shmem->f_mapping, index,
					   MEMALLOC_POPULATE_GFP);
	/* shmem's ENOSPC is the machine's commit limit: out of memory. */
	if (PTR_ERR(page) == -ENOSPC)
		return ERR_PTR(-ENOMEM);
	if (!IS_ERR(page))
		set_page_dirty(page);
	return page;
}

static int memalloc_shmem_read(struct memalloc_ds *ds, u64 offset,
			       void *buf, unsigned int n)
{
	loff_t pos = offset;
	ssize_t done;

	/* Holes read as zero, and stay holes. */
	done = kernel_read(ds->shmem, buf, n, &pos);
	if (done < 0)
		return done;
	return done == n ? 0 : -EIO;
}

static int memalloc_shmem_punch(struct memalloc_ds *ds, u64 offset, u64 len)
{
	return vfs_fallocate(ds->shmem, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     offset, len);
}

static u64 memalloc_shmem_resident(struct memalloc_ds *ds)
{
	/* The page cache's own count: pages swapped out are not in it. */
	return (u64)READ_ONCE(ds->shmem->f_mapping->nrpages) << PAGE_SHIFT;
}

/* Nothing to give back: truncating the file does, in memalloc_shmem_revoke(). */
static void memalloc_shmem_release(struct memalloc_ds *ds)
{
}

/* remap_file_pages() maps a vma's file anew: shmem's mmap, as at first. */
static int memalloc_lazy_map_mmap(struct file *file, struct vm_area_struct *vma)
{
	return file_inode(file)->i_fop->mmap(file, vma);
}

/* The last mapping, or the dataspace, let go of the memory: credit it. */
static int memalloc_lazy_map_release(struct inode *inode, struct file *file)
{
	memalloc_charge_put(file->private_data);
	return 0;
}

static const struct file_operations memalloc_lazy_map_fops = {
	.owner = THIS_MODULE,
	.mmap = memalloc_lazy_map_mmap,
	.release = memalloc_lazy_map_release,
	.fsync = noop_fsync,
	.llseek = noop_llseek,
};

/*
 * Mappings of a lazy dataspace hold its map file, not the dataspace, and
 * keep the memory past the dataspace's last fd: the map file holds the
 * charge too, so the allocator's quota pays until the last of them goes.
 */
static int memalloc_shmem_init(struct memalloc_ds *ds)
{
	int ret = memalloc_shmem_file(ds);

	if (ret)
		return ret;
	memalloc_shmem_set_map_fops(ds, &memalloc_lazy_map_fops);
	ds->map_file->private_data = memalloc_charge_get(ds->charge);
	return 0;
}

const struct memalloc_backing memalloc_shmem_backing = {
	.name = "shmem",
	.init = memalloc_shmem_init,
	.release = memalloc_shmem_release,
	.revoke = memalloc_shmem_revoke,
	.destroy = memalloc_shmem_destroy,
	.mmap = memalloc_shmem_mmap,
	.page = memalloc_shmem_page,
	.read = memalloc_shmem_read,
	.punch = memalloc_shmem_punch,
	.resident = memalloc_shmem_resident,
};

static struct vfsmount *memalloc_mount(struct file_system_type *type,
				       const char *huge)
{
	char opts[16];

	/* tmpfs edits its options in place: they must be writable. */
	strscpy(opts, huge, sizeof(opts));
	return vfs_kern_mount(type, SB_KERNMOUNT, KBUILD_MODNAME, opts);
}

/**
 * memalloc_shmem_mount() - mount the private tmpfs
 *
 * Context: module init.
 * Return: 0 or a negative errno.
 */
int memalloc_shmem_mount(void)
{
	struct file_system_type *type = get_fs_type("tmpfs");
	int ret = 0;

	if (!type)
		return -ENODEV;
	memalloc_mnt = memalloc_mount(type, "huge=never");
	if (IS_ERR(memalloc_mnt)) {
		ret = PTR_ERR(memalloc_mnt);
		goto out;
	}
	/* Without transparent huge pages, no SUPER_PAGES: the rest works. */
	if (!has_transparent_hugepage())
		goto out;
	memalloc_huge_mnt = memalloc_mount(type, "huge=always");
	if (IS_ERR(memalloc_huge_mnt)) {
		ret = PTR_ERR(memalloc_huge_mnt);
		memalloc_huge_mnt = NULL;
		kern_unmount(memalloc_mnt);
	}
out:
	/* put_filesystem(), which modules cannot call. */
	module_put(type->owner);
	return ret;
}

/**
 * memalloc_shmem_unmount() - drop the private tmpfs
 *
 * Files still mapped keep their superblock alive until their last unmap.
 *
 * Context: module exit.
 */
void memalloc_shmem_unmount(void)
{
	if (memalloc_huge_mnt)
		kern_unmount(memalloc_huge_mnt);
	kern_unmount(memalloc_mnt);
}
