// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: handles, each a dma-buf of its own, and the dma-buf exporter.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "compat.h"
#include "memalloc.h"

MODULE_IMPORT_NS(DMA_BUF);

/**
 * DOC: handles
 *
 * Each fd of a dataspace is a handle (struct memalloc_handle): a dma-buf
 * of its own, whose file is opened read-write, or read-only for a
 * read-only handle, so that mmap() itself refuses PROT_WRITE on it. The
 * dataspace lives while any handle does. Every handle's file uses the
 * dataspace's own address_space (the mapping of an inode on memalloc's
 * pseudo file system), so all block mappings of a dataspace, through any
 * handle, are found there: revocation zaps them with one
 * unmap_mapping_range() and never looks at a handle's file, which may be
 * gone while its dma-buf lives on (an O_PATH open of /proc/PID/fd/N keeps
 * the dma-buf's dentry, not its file).
 *
 * Devices import a handle as any dma-buf. A mapping for a device holds
 * every page, populated for a lazy dataspace and charged to the
 * dataspace's own memory cgroup; an attachment holds the dataspace
 * against revocation.
 */

static const struct dma_buf_ops memalloc_dma_buf_ops;

/**
 * memalloc_handle_writable() - may a handle change the dataspace's memory
 * @h: the handle
 *
 * Return: true unless @h is a read-only handle.
 */
bool memalloc_handle_writable(const struct memalloc_handle *h)
{
	return h->writable;
}

static int memalloc_attach(struct dma_buf *dmabuf,
			   struct dma_buf_attachment *attach)
{
	struct memalloc_handle *h = dmabuf->priv;
	struct memalloc_ds *ds = h->ds;
	int ret = 0;

	/* Not while a clear punches holes the device would not see. */
	if (down_write_killable(&ds->clear_lock))
		return -EINTR;
	if (down_write_killable(&ds->lock)) {
		up_write(&ds->clear_lock);
		return -EINTR;
	}
	if (ds->dead)
		ret = -ENODEV;
	else
		ds->attachments++;
	up_write(&ds->lock);
	up_write(&ds->clear_lock);
	return ret;
}

static void memalloc_detach(struct dma_buf *dmabuf,
			    struct dma_buf_attachment *attach)
{
	struct memalloc_handle *h = dmabuf->priv;

	down_write(&h->ds->lock);
	h->ds->attachments--;
	up_write(&h->ds->lock);
}

static void memalloc_put_sgt_pages(struct sg_table *sgt)
{
	struct sg_page_iter iter;
	unsigned long n = 0;

	for_each_sgtable_page(sgt, &iter, 0) {
		put_page(sg_page_iter_page(&iter));
		if (!(++n % MEMALLOC_FAULT_BATCH))
			cond_resched();
	}
}

/* An attachment holds the dataspace against revocation: no lock needed. */
static struct sg_table *memalloc_map_dma_buf(struct dma_buf_attachment *attach,
					     enum dma_data_direction dir)
{
	struct memalloc_handle *h = attach->dmabuf->priv;
	struct memalloc_ds *ds = h->ds;
	pgoff_t i = 0, npages = attach->dmabuf->size >> PAGE_SHIFT;
	struct mem_cgroup *old;
	struct sg_table *sgt;
	struct page **pages;
	int ret;

	/* A read-only handle lends the memory to devices to read only. */
	if (!memalloc_handle_writable(h) && dir != DMA_TO_DEVICE)
		return ERR_PTR(-EACCES);
	/*
	 * What a device's mapping costs (missing pages, the page array, the
	 * scatterlist), the dataspace's own memory cgroup pays, whoever
	 * imports it.
	 */
	old = set_active_memcg(ds->memcg);
	pages = kvmalloc_array(npages, sizeof(*pages), MEMALLOC_OBJ_GFP);
	if (!pages) {
		ret = -ENOMEM;
		goto out;
	}
	/*
	 * A device needs every page: populate them and hold a reference
	 * (an eager dataspace holds its pages already, but a reference each
	 * keeps unmapping the same for every backing).
	 */
	for (i = 0; i < npages; i++) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err_put_pages;
		}
		pages[i] = ds->backing->page(ds, i);
		if (IS_ERR(pages[i])) {
			ret = PTR_ERR(pages[i]);
			goto err_put_pages;
		}
		cond_resched();
	}

	sgt = kzalloc(sizeof(*sgt), MEMALLOC_OBJ_GFP);
	if (!sgt) {
		ret = -ENOMEM;
		goto err_put_pages;
	}
	ret = sg_alloc_table_from_pages(sgt, pages, npages, 0,
					npages << PAGE_SHIFT, MEMALLOC_OBJ_GFP);
	if (ret)
		goto err_free_sgt;
	ret = dma_map_sgtable(attach->dev, sgt, dir, 0);
	if (ret)
		goto err_free_table;
	kvfree(pages);
	set_active_memcg(old);
	return sgt;

err_free_table:
	sg_free_table(sgt);
err_free_sgt:
	kfree(sgt);
err_put_pages:
	while (i--)
		put_page(pages[i]);
	kvfree(pages);
out:
	set_active_memcg(old);
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

/**
 * memalloc_vma_thp_disabled() - are huge pages disabled for a vma
 * @vma: the vma
 *
 * Disabled for the vma (MADV_NOHUGEPAGE) or its process
 * (PR_SET_THP_DISABLE), kernels map huge pages with 4 KiB entries, which
 * an eager SUPER_PAGES mapping never does silently: mmap() refuses such a
 * process, and faults after such a madvise() get SIGBUS.
 *
 * Context: any, with the vma held.
 * Return: whether they are.
 */
bool memalloc_vma_thp_disabled(struct vm_area_struct *vma)
{
	return vma->vm_flags & VM_NOHUGEPAGE ||
	       test_bit(MMF_DISABLE_THP, &vma->vm_mm->flags);
}

static int memalloc_dma_buf_mmap(struct dma_buf *dmabuf,
				 struct vm_area_struct *vma)
{
	struct memalloc_handle *h = dmabuf->priv;
	unsigned long end;

	/* MAP_SHARED (of a read-only handle, mmap() drops VM_SHARED). */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (check_add_overflow(vma->vm_pgoff, vma_pages(vma), &end) ||
	    end > dmabuf->size >> PAGE_SHIFT)
		return -EINVAL;
	/*
	 * mmap() checks the file's mode; an importer's dma_buf_mmap() does
	 * not, so a read-only handle checks for itself.
	 */
	if (!memalloc_handle_writable(h)) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		memalloc_vma_clear_flags(vma, VM_MAYWRITE);
	}

	/* Eager super pages are mapped huge, or not at all. */
	if (h->ds->flags & MEMALLOC_SUPER_PAGES &&
	    h->ds->flags & (MEMALLOC_PINNED | MEMALLOC_CONTINUOUS) &&
	    memalloc_vma_thp_disabled(vma))
		return -EINVAL;

	/*
	 * The vma's flags change outside ds->lock: setting them takes the
	 * vma's own lock, which faults hold around ds->lock.
	 */
	memalloc_vma_set_flags(vma, VM_DONTEXPAND | VM_DONTDUMP);
	return h->ds->backing->mmap(h, vma);
}

static void memalloc_dma_buf_release(struct dma_buf *dmabuf)
{
	struct memalloc_handle *h = dmabuf->priv;
	struct memalloc_ds *ds = h->ds;

	kfree(h);
	memalloc_ds_put(ds);
}

static const struct dma_buf_ops memalloc_dma_buf_ops = {
	.attach = memalloc_attach,
	.detach = memalloc_detach,
	.map_dma_buf = memalloc_map_dma_buf,
	.unmap_dma_buf = memalloc_unmap_dma_buf,
	.mmap = memalloc_dma_buf_mmap,
	.release = memalloc_dma_buf_release,
};

/**
 * memalloc_handle_new() - a new handle of a dataspace
 * @ds: the dataspace, of which the handle takes a reference of its own
 * @writable: whether the handle may change the memory
 *
 * Context: process context; sleeps.
 * Return: the handle's dma-buf, or ERR_PTR(-ENOMEM) or ERR_PTR(-ENODEV)
 * when @ds is being revoked.
 */
struct dma_buf *memalloc_handle_new(struct memalloc_ds *ds, bool writable)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct memalloc_handle *h;
	struct dma_buf *dmabuf;

	h = kzalloc(sizeof(*h), MEMALLOC_OBJ_GFP);
	if (!h)
		return ERR_PTR(-ENOMEM);
	h->ds = ds;
	h->writable = writable;

	exp_info.ops = &memalloc_dma_buf_ops;
	exp_info.size = ds->npages << PAGE_SHIFT;
	exp_info.flags = writable ? O_RDWR : O_RDONLY;
	exp_info.priv = h;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		kfree(h);
		return dmabuf;
	}
	h->dmabuf = dmabuf;
	kref_get(&ds->kref);
	/* Before anyone can map it: see "DOC: dataspaces". */
	dmabuf->file->f_mapping = ds->inode->i_mapping;

	/* A handle made while revoking has nothing to map: let it go. */
	if (READ_ONCE(ds->dead)) {
		dma_buf_put(dmabuf);
		return ERR_PTR(-ENODEV);
	}
	return dmabuf;
}

/**
 * memalloc_handle_get() - the handle behind an fd
 * @fd: an fd of the caller's
 *
 * The dma-buf ops double as the type tag.
 *
 * Context: process context.
 * Return: the handle, with a reference to its dma-buf that the caller
 * drops with memalloc_handle_put(); ERR_PTR(-EBADF) or ERR_PTR(-EINVAL)
 * when @fd is not an open fd or not a dataspace of memalloc.
 */
struct memalloc_handle *memalloc_handle_get(int fd)
{
	struct dma_buf *dmabuf = dma_buf_get(fd);

	if (IS_ERR(dmabuf))
		return ERR_CAST(dmabuf);
	if (dmabuf->ops != &memalloc_dma_buf_ops) {
		dma_buf_put(dmabuf);
		return ERR_PTR(-EINVAL);
	}
	return dmabuf->priv;
}

/**
 * memalloc_handle_put() - drop what memalloc_handle_get() took
 * @h: the handle
 *
 * Context: process context.
 */
void memalloc_handle_put(struct memalloc_handle *h)
{
	dma_buf_put(h->dmabuf);
}

/**
 * memalloc_handle_get_live() - the handle behind an fd, its memory held
 * @fd: an fd of the caller's
 *
 * memalloc_handle_get() and memalloc_ds_lock_live() in one: the caller
 * holds the dataspace's lock for reading until memalloc_handle_put_live().
 *
 * Context: process context; sleeps.
 * Return: the handle, or ERR_PTR(-EBADF), ERR_PTR(-EINVAL) or
 * ERR_PTR(-ENODEV) when the dataspace was revoked.
 */
struct memalloc_handle *memalloc_handle_get_live(int fd)
{
	struct memalloc_handle *h = memalloc_handle_get(fd);
	int ret;

	if (IS_ERR(h))
		return h;
	ret = memalloc_ds_lock_live(h->ds);
	if (ret) {
		memalloc_handle_put(h);
		return ERR_PTR(ret);
	}
	return h;
}

/**
 * memalloc_handle_put_live() - drop what memalloc_handle_get_live() took
 * @h: the handle
 *
 * Context: process context.
 */
void memalloc_handle_put_live(struct memalloc_handle *h)
{
	up_read(&h->ds->lock);
	memalloc_handle_put(h);
}

/**
 * memalloc_vma_handle() - the handle a block mapping maps
 * @vma: a vma whose file is a handle's (see memalloc_block_mmap())
 *
 * Context: with the vma held.
 * Return: the handle.
 */
struct memalloc_handle *memalloc_vma_handle(struct vm_area_struct *vma)
{
	struct dma_buf *dmabuf = vma->vm_file->private_data;

	return dmabuf->priv;
}
