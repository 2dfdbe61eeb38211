// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: dataspaces, exported as dma-bufs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fcntl.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/overflow.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>

#include "memalloc.h"

MODULE_IMPORT_NS(DMA_BUF);

/**
 * DOC: dataspaces
 *
 * A dataspace is a dma-buf whose memory lives in a shmem file on a private
 * tmpfs mount, as DRM drivers back their GEM objects: pages are allocated
 * on first touch, zeroed, charged to the memory cgroup of the task that
 * touches them, and mapped page-backed, so get_user_pages() users (O_DIRECT,
 * io_uring) work on the mappings.
 *
 * SUPER_PAGES dataspaces use a second mount with huge=always: their memory
 * comes in 2 MiB pages, mapped with PMD entries where the mapping's address
 * is 2 MiB aligned, and still page-backed. PINNED SUPER_PAGES dataspaces
 * are such files populated at once and held (see block.c).
 *
 * A CPU mapping of a lazy dataspace is a mapping of the shmem file itself
 * (vma_set_file()), so it keeps the memory alive after the dataspace's last
 * fd is closed. PINNED and CONTINUOUS dataspaces are block-backed (see
 * block.c); their mappings are of the dma-buf, which they keep alive. The
 * memory goes back when the last fd, mapping and device attachment go.
 */

/* Private tmpfs mounts: 4 KiB pages, and transparent huge pages. */
static struct vfsmount *memalloc_mnt;
static struct vfsmount *memalloc_huge_mnt;

static void memalloc_put_sgt_pages(struct sg_table *sgt)
{
	struct sg_page_iter iter;

	for_each_sgtable_page(sgt, &iter, 0)
		put_page(sg_page_iter_page(&iter));
}

static struct sg_table *memalloc_map_dma_buf(struct dma_buf_attachment *attach,
					     enum dma_data_direction dir)
{
	struct memalloc_ds *ds = attach->dmabuf->priv;
	pgoff_t i, npages = attach->dmabuf->size >> PAGE_SHIFT;
	struct sg_table *sgt;
	struct page **pages;
	int ret;

	pages = kvmalloc_array(npages, sizeof(*pages), GFP_KERNEL | __GFP_NOWARN);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	/*
	 * A device needs every page: populate them and hold a reference
	 * (block-backed pages are held by the dataspace already, but a
	 * reference each keeps unmapping the same for both backings).
	 */
	for (i = 0; i < npages; i++) {
		if (ds->pages) {
			pages[i] = ds->pages[i];
			get_page(pages[i]);
			continue;
		}
		pages[i] = shmem_read_mapping_page(ds->shmem->f_mapping, i);
		if (IS_ERR(pages[i])) {
			ret = PTR_ERR(pages[i]);
			goto err_put_pages;
		}
	}

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt) {
		ret = -ENOMEM;
		goto err_put_pages;
	}
	ret = sg_alloc_table_from_pages(sgt, pages, npages, 0,
					npages << PAGE_SHIFT, GFP_KERNEL);
	if (ret)
		goto err_free_sgt;
	ret = dma_map_sgtable(attach->dev, sgt, dir, 0);
	if (ret)
		goto err_free_table;
	kvfree(pages);
	return sgt;

err_free_table:
	sg_free_table(sgt);
err_free_sgt:
	kfree(sgt);
err_put_pages:
	while (i--)
		put_page(pages[i]);
	kvfree(pages);
	return ERR_PTR(ret);
}

static void memalloc_unmap_dma_buf(struct dma_buf_attachment *attach,
				   struct sg_table *sgt,
				   enum dma_data_direction dir)
{
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	memalloc_put_sgt_pages(sgt);
	sg_free_table(sgt);
	kfree(sgt);
}

/*
 * Block-backed mappings are filled at mmap(); a fault comes only after
 * something zapped a page (madvise(MADV_DONTNEED), say).
 */
static vm_fault_t memalloc_block_fault(struct vm_fault *vmf)
{
	struct dma_buf *dmabuf = vmf->vma->vm_file->private_data;
	struct memalloc_ds *ds = dmabuf->priv;
	int ret;

	if (vmf->pgoff >= ds->npages)
		return VM_FAULT_SIGBUS;
	ret = vm_insert_page(vmf->vma, vmf->address, ds->pages[vmf->pgoff]);
	if (ret == -ENOMEM)
		return VM_FAULT_OOM;
	if (ret && ret != -EBUSY)
		return VM_FAULT_SIGBUS;
	return VM_FAULT_NOPAGE;
}

static const struct vm_operations_struct memalloc_block_vm_ops = {
	.fault = memalloc_block_fault,
};

/*
 * A mapping of a PINNED SUPER_PAGES dataspace is a shmem mapping that also
 * holds the dataspace (its dma-buf file, in vm_private_data): the pins and
 * the locked-memory charge last as long as any mapping. Its faults are
 * shmem's, learnt from the first such mapping (shmem_vm_ops is not
 * exported), so its huge pages are still PMD-mapped.
 */
static const struct vm_operations_struct *memalloc_shmem_vm_ops;

static vm_fault_t memalloc_pinned_fault(struct vm_fault *vmf)
{
	return READ_ONCE(memalloc_shmem_vm_ops)->fault(vmf);
}

static vm_fault_t memalloc_pinned_map_pages(struct vm_fault *vmf,
					    pgoff_t start, pgoff_t end)
{
	return READ_ONCE(memalloc_shmem_vm_ops)->map_pages(vmf, start, end);
}

static void memalloc_pinned_open(struct vm_area_struct *vma)
{
	get_file(vma->vm_private_data);
}

static void memalloc_pinned_close(struct vm_area_struct *vma)
{
	fput(vma->vm_private_data);
}

static const struct vm_operations_struct memalloc_pinned_vm_ops = {
	.open = memalloc_pinned_open,
	.close = memalloc_pinned_close,
	.fault = memalloc_pinned_fault,
	.map_pages = memalloc_pinned_map_pages,
};

static int memalloc_dma_buf_mmap(struct dma_buf *dmabuf,
				 struct vm_area_struct *vma)
{
	int ret;

	struct memalloc_ds *ds = dmabuf->priv;
	unsigned long end;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (check_add_overflow(vma->vm_pgoff, vma_pages(vma), &end) ||
	    end > dmabuf->size >> PAGE_SHIFT)
		return -EINVAL;

	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
	if (!ds->shmem) {
		unsigned long n = vma_pages(vma);

		/* Page-backed, so get_user_pages() works on the mapping. */
		vma->vm_flags |= VM_MIXEDMAP;
		vma->vm_ops = &memalloc_block_vm_ops;
		return vm_insert_pages(vma, vma->vm_start,
				       ds->pages + vma->vm_pgoff, &n);
	}
	vma_set_file(vma, ds->map_file);
	ret = call_mmap(ds->map_file, vma);
	if (ret || !ds->pages)
		return ret;
	if (!vma->vm_ops->fault || !vma->vm_ops->map_pages || vma->vm_ops->open ||
	    vma->vm_ops->close)
		return -EOPNOTSUPP;
	WRITE_ONCE(memalloc_shmem_vm_ops, vma->vm_ops);
	vma->vm_private_data = get_file(dmabuf->file);
	vma->vm_ops = &memalloc_pinned_vm_ops;
	return 0;
}

static void memalloc_ds_free(struct memalloc_ds *ds)
{
	if (ds->map_file)
		fput(ds->map_file);
	if (ds->shmem)
		fput(ds->shmem);
	memalloc_block_free(ds);
	kfree(ds);
}

static void memalloc_dma_buf_release(struct dma_buf *dmabuf)
{
	memalloc_ds_free(dmabuf->priv);
}

static const struct dma_buf_ops memalloc_dma_buf_ops = {
	.map_dma_buf = memalloc_map_dma_buf,
	.unmap_dma_buf = memalloc_unmap_dma_buf,
	.mmap = memalloc_dma_buf_mmap,
	.release = memalloc_dma_buf_release,
};

/**
 * memalloc_alloc_flags() - the allocation flags this kernel can honour
 *
 * Return: a mask of MEMALLOC_* flags.
 */
u32 memalloc_alloc_flags(void)
{
	u32 flags = MEMALLOC_CONTINUOUS | MEMALLOC_PINNED;

	if (memalloc_huge_mnt)
		flags |= MEMALLOC_SUPER_PAGES;
	return flags;
}

static int memalloc_check_alloc(struct memalloc_alloc *cmd, u64 *rounded)
{
	u64 unit, end;

	if (cmd->__reserved || cmd->flags & ~MEMALLOC_ALLOC_FLAGS_MASK ||
	    cmd->fd_flags & ~O_CLOEXEC)
		return -EINVAL;
	/* Also refuses 64 and more, which no shift can take. */
	if (cmd->align > PUD_SHIFT)
		return -EINVAL;
	if (cmd->flags & ~memalloc_alloc_flags())
		return -EOPNOTSUPP;
	/*
	 * On 6.1 a block the module owns cannot be both PMD-mapped and
	 * usable by get_user_pages() (see the README).
	 */
	if (cmd->flags & MEMALLOC_SUPER_PAGES && cmd->flags & MEMALLOC_CONTINUOUS)
		return -EOPNOTSUPP;

	cmd->align = max_t(u32, cmd->align,
			   cmd->flags & MEMALLOC_SUPER_PAGES ? PMD_SHIFT : PAGE_SHIFT);
	unit = cmd->flags & MEMALLOC_SUPER_PAGES ? PMD_SIZE : PAGE_SIZE;
	if (!cmd->length || check_add_overflow(cmd->length, unit - 1, &end))
		return -ERANGE;
	*rounded = end & ~(unit - 1);
	if (*rounded > (u64)totalram_pages() << PAGE_SHIFT)
		return -ENOMEM;
	return 0;
}

/**
 * memalloc_ds_alloc() - MEMALLOC_ALLOC: make a dataspace and its fd
 * @ucmd: the call, holding a struct memalloc_alloc
 *
 * The fd is installed only after the answer reached the caller, so a
 * failed copy leaves no fd behind.
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_alloc(struct memalloc_ucmd *ucmd)
{
	struct memalloc_alloc *cmd = ucmd->cmd;
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct memalloc_ds *ds;
	struct dma_buf *dmabuf;
	u64 rounded;
	int fd, ret;

	ret = memalloc_check_alloc(cmd, &rounded);
	if (ret)
		return ret;

	ds = kzalloc(sizeof(*ds), GFP_KERNEL_ACCOUNT);
	if (!ds)
		return -ENOMEM;
	ds->size = cmd->length;
	ds->flags = cmd->flags;
	ds->npages = rounded >> PAGE_SHIFT;
	/* Shmem for lazy and super pages, pinned or not; pages we own else. */
	if (ds->flags & MEMALLOC_SUPER_PAGES ||
	    !(ds->flags & (MEMALLOC_CONTINUOUS | MEMALLOC_PINNED))) {
		ds->shmem = shmem_file_setup_with_mnt(ds->flags & MEMALLOC_SUPER_PAGES ?
						      memalloc_huge_mnt : memalloc_mnt,
						      KBUILD_MODNAME, rounded,
						      VM_NORESERVE);
		ret = PTR_ERR_OR_ZERO(ds->shmem);
		if (ret) {
			ds->shmem = NULL;
			goto err_free_ds;
		}
		ds->map_file = dentry_open(&ds->shmem->f_path, O_RDONLY,
					   current_cred());
		ret = PTR_ERR_OR_ZERO(ds->map_file);
		if (ret)
			ds->map_file = NULL;
	}
	if (!ret && ds->flags & (MEMALLOC_CONTINUOUS | MEMALLOC_PINNED))
		ret = memalloc_block_alloc(ds, cmd->align);
	if (ret)
		goto err_free_ds;

	fd = get_unused_fd_flags(cmd->fd_flags);
	if (fd < 0) {
		ret = fd;
		goto err_free_ds;
	}

	exp_info.ops = &memalloc_dma_buf_ops;
	exp_info.size = rounded;
	exp_info.flags = O_RDWR;
	exp_info.priv = ds;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_put_fd;
	}

	cmd->out_fd = fd;
	ret = memalloc_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		put_unused_fd(fd);
		/* The dma-buf owns the dataspace now; its release frees it. */
		dma_buf_put(dmabuf);
		return ret;
	}
	fd_install(fd, dmabuf->file);
	return 0;

err_put_fd:
	put_unused_fd(fd);
err_free_ds:
	memalloc_ds_free(ds);
	return ret;
}

/*
 * The dataspace behind @fd, with a reference to its dma-buf that the caller
 * drops with dma_buf_put(); the dma-buf ops double as the type tag.
 */
static struct dma_buf *memalloc_ds_get(int fd)
{
	struct dma_buf *dmabuf = dma_buf_get(fd);

	if (IS_ERR(dmabuf))
		return dmabuf;
	if (dmabuf->ops != &memalloc_dma_buf_ops) {
		dma_buf_put(dmabuf);
		return ERR_PTR(-EINVAL);
	}
	return dmabuf;
}

static u64 memalloc_ds_resident(struct memalloc_ds *ds)
{
	struct shmem_inode_info *info;
	unsigned long pages;

	/* Block-backed and pinned dataspaces hold all their pages. */
	if (ds->pages)
		return (u64)ds->npages << PAGE_SHIFT;
	info = SHMEM_I(file_inode(ds->shmem));
	spin_lock(&info->lock);
	pages = info->alloced - info->swapped;
	spin_unlock(&info->lock);
	return (u64)pages << PAGE_SHIFT;
}

/**
 * memalloc_ds_info() - MEMALLOC_INFO: describe a dataspace
 * @ucmd: the call, holding a struct memalloc_info
 *
 * Context: process context.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_info(struct memalloc_ucmd *ucmd)
{
	struct memalloc_info *cmd = ucmd->cmd;
	struct dma_buf *dmabuf;
	struct memalloc_ds *ds;

	dmabuf = memalloc_ds_get(cmd->fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	ds = dmabuf->priv;
	cmd->out_length = ds->size;
	cmd->out_mappable = dmabuf->size;
	cmd->out_resident = memalloc_ds_resident(ds);
	cmd->out_flags = ds->flags;
	cmd->out_rights = MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W;
	cmd->out_page_shift = ds->flags & MEMALLOC_SUPER_PAGES ? PMD_SHIFT : PAGE_SHIFT;
	cmd->out_info_flags = ds->flags & MEMALLOC_CONTINUOUS ? MEMALLOC_INFO_CONTIGUOUS : 0;
	dma_buf_put(dmabuf);
	return memalloc_ucmd_respond(ucmd, sizeof(*cmd));
}

/**
 * memalloc_ds_allocate() - MEMALLOC_ALLOCATE: populate a range
 * @ucmd: the call, holding a struct memalloc_allocate
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_allocate(struct memalloc_ucmd *ucmd)
{
	/* Fail a charge over the memory cgroup's limit, do not OOM-kill. */
	const gfp_t gfp = GFP_HIGHUSER_MOVABLE | __GFP_RETRY_MAYFAIL | __GFP_NOWARN;
	struct memalloc_allocate *cmd = ucmd->cmd;
	struct dma_buf *dmabuf;
	struct memalloc_ds *ds;
	struct page *page;
	pgoff_t i, last;
	u64 end;
	int ret = 0;

	dmabuf = memalloc_ds_get(cmd->fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	ds = dmabuf->priv;
	if (check_add_overflow(cmd->offset, cmd->length, &end) || end > ds->size) {
		ret = -ERANGE;
		goto out;
	}
	/* Eager dataspaces hold all their pages already. */
	if (!cmd->length || ds->pages)
		goto out;
	last = (end - 1) >> PAGE_SHIFT;
	for (i = cmd->offset >> PAGE_SHIFT; i <= last; i++) {
		page = shmem_read_mapping_page_gfp(ds->shmem->f_mapping, i, gfp);
		if (IS_ERR(page)) {
			ret = PTR_ERR(page);
			break;
		}
		put_page(page);
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
out:
	dma_buf_put(dmabuf);
	return ret;
}

/**
 * memalloc_ds_phys() - MEMALLOC_PHYS: the physical address of an offset
 * @ucmd: the call, holding a struct memalloc_phys
 *
 * Context: process context.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_phys(struct memalloc_ucmd *ucmd)
{
	struct memalloc_phys *cmd = ucmd->cmd;
	struct dma_buf *dmabuf;
	struct memalloc_ds *ds;
	pgoff_t first, i;
	int ret = 0;

	/* Before anything else: physical addresses are for the admin only. */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	dmabuf = memalloc_ds_get(cmd->fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	ds = dmabuf->priv;
	if (!ds->pages) {
		ret = -EINVAL;
		goto out;
	}
	if (cmd->offset >= ds->size) {
		ret = -ERANGE;
		goto out;
	}
	first = cmd->offset >> PAGE_SHIFT;
	for (i = first + 1; i < ds->npages; i++)
		if (page_to_pfn(ds->pages[i]) != page_to_pfn(ds->pages[first]) + i - first)
			break;
	cmd->out_addr = page_to_phys(ds->pages[first]) + offset_in_page(cmd->offset);
	cmd->out_length = min_t(u64, (u64)i << PAGE_SHIFT, ds->size) - cmd->offset;
	ret = memalloc_ucmd_respond(ucmd, sizeof(*cmd));
out:
	dma_buf_put(dmabuf);
	return ret;
}

static struct vfsmount *memalloc_mount(struct file_system_type *type,
				       const char *huge)
{
	char opts[16];

	/* tmpfs edits its options in place: they must be writable. */
	strscpy(opts, huge, sizeof(opts));
	return vfs_kern_mount(type, SB_KERNMOUNT, KBUILD_MODNAME, opts);
}

/**
 * memalloc_ds_init() - mount the private tmpfs instances that back dataspaces
 *
 * Context: module init.
 * Return: 0 or a negative errno.
 */
int memalloc_ds_init(void)
{
	struct file_system_type *type = get_fs_type("tmpfs");

	if (!type)
		return -ENODEV;
	memalloc_mnt = memalloc_mount(type, "huge=never");
	if (IS_ERR(memalloc_mnt))
		return PTR_ERR(memalloc_mnt);
	/* Without transparent huge pages, no SUPER_PAGES: the rest works. */
	if (!has_transparent_hugepage())
		return 0;
	memalloc_huge_mnt = memalloc_mount(type, "huge=always");
	if (IS_ERR(memalloc_huge_mnt)) {
		kern_unmount(memalloc_mnt);
		return PTR_ERR(memalloc_huge_mnt);
	}
	return 0;
}

/**
 * memalloc_ds_exit() - drop the private tmpfs
 *
 * Files still mapped keep their superblock alive until their last unmap.
 *
 * Context: module exit.
 */
void memalloc_ds_exit(void)
{
	if (memalloc_huge_mnt)
		kern_unmount(memalloc_huge_mnt);
	kern_unmount(memalloc_mnt);
}
