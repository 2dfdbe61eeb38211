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
#include <linux/memcontrol.h>
#include <linux/mount.h>
#include <linux/overflow.h>
#include <linux/pfn_t.h>
#include <linux/pseudo_fs.h>
#include <linux/scatterlist.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>

#include "compat.h"
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
 * memory goes back when the last fd, mapping and device attachment go, or
 * at once when MEMALLOC_FREE revokes the dataspace.
 *
 * Each fd is a handle (struct memalloc_handle): a dma-buf of its own, whose
 * file is opened read-write, or read-only for a read-only handle, so that
 * mmap() itself refuses PROT_WRITE on it. The dataspace lives while any
 * handle does. Every handle's file uses the dataspace's own address_space
 * (the mapping of an inode on memalloc's pseudo file system), so all
 * block-backed mappings of a dataspace, through any handle, are found
 * there: revocation zaps them with one unmap_mapping_range() and never
 * looks at a handle's file, which may be gone while its dma-buf lives on
 * (an O_PATH open of /proc/PID/fd/N keeps the dma-buf's dentry, not its
 * file).
 */

/**
 * DOC: Locking
 *
 * ds->lock guards a dataspace's memory against revocation. Whatever reads
 * ds->pages or the shmem file's pages, or tests ds->dead, holds it for
 * reading: the commands, mmap() and the fault handler of block-backed
 * mappings. memalloc_ds_revoke() holds it for writing, and so do the
 * changes of ds->attachments.
 *
 * ds->clear_lock keeps device attachments and hole punching apart: a
 * clear holds it for reading from its look at ds->attachments until its
 * punch is done, attaching holds it for writing. It ranks above the shmem
 * file's locks, which a punch takes.
 *
 * Order: mmap_lock, then ds->lock (faults, mmap()), then the dataspace's
 * i_mmap_rwsem (revocation zapping block-backed mappings). The shmem
 * file's locks (its i_rwsem, sb_writers) rank above mmap_lock, as every
 * file system's do: revocation and clear truncate or punch the shmem file
 * after dropping ds->lock, having marked or checked the dataspace under
 * it. copy_in takes two dataspaces' locks in address order. A command
 * drops ds->lock before it writes its answer to user memory, whose fault
 * may need ds->lock again.
 */

/* Private tmpfs mounts: 4 KiB pages, and transparent huge pages. */
static struct vfsmount *memalloc_mnt;
static struct vfsmount *memalloc_huge_mnt;
/* The pseudo file system of the dataspaces' inodes (see ds->inode). */
static struct vfsmount *memalloc_fs_mnt;
#define MEMALLOC_FS_MAGIC	0x6d656d61	/* "mema" */

static const struct dma_buf_ops memalloc_dma_buf_ops;

/* Pages a fault maps (or a loop handles) at once, between reschedules. */
#define MEMALLOC_FAULT_BATCH	512UL

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

/**
 * memalloc_ds_lock_live() - hold a dataspace's memory against revocation
 * @ds: the dataspace
 *
 * On success the caller holds @ds->lock for reading and drops it with
 * up_read().
 *
 * Context: process context; sleeps.
 * Return: 0, or -ENODEV when @ds was revoked (the lock is not held then).
 */
int memalloc_ds_lock_live(struct memalloc_ds *ds)
{
	down_read(&ds->lock);
	if (!ds->dead)
		return 0;
	up_read(&ds->lock);
	return -ENODEV;
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
	 * (block-backed pages are held by the dataspace already, but a
	 * reference each keeps unmapping the same for both backings).
	 */
	for (i = 0; i < npages; i++) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err_put_pages;
		}
		if (ds->pages) {
			pages[i] = ds->pages[i];
			get_page(pages[i]);
		} else {
			pages[i] = memalloc_shmem_page(ds, i);
			if (IS_ERR(pages[i])) {
				ret = PTR_ERR(pages[i]);
				goto err_put_pages;
			}
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

/*
 * Huge pages disabled for the vma (MADV_NOHUGEPAGE) or its process
 * (PR_SET_THP_DISABLE): kernels then map huge pages with 4 KiB entries,
 * which an eager SUPER_PAGES mapping never does silently: mmap() refuses
 * such a process, and faults after such a madvise() get SIGBUS.
 */
static bool memalloc_vma_thp_disabled(struct vm_area_struct *vma)
{
	return vma->vm_flags & VM_NOHUGEPAGE ||
	       test_bit(MMF_DISABLE_THP, &vma->vm_mm->flags);
}

/*
 * Map up to @n pages of @ds from @pgoff at @addr: page-backed entries, or
 * pfn entries in a VM_PFNMAP vma (see memalloc_mmap_block()). Return 0,
 * -EBUSY at the first page mapped already (page-backed only), or -ENOMEM.
 */
static int memalloc_block_insert(struct vm_area_struct *vma, unsigned long addr,
				 struct memalloc_ds *ds, pgoff_t pgoff,
				 unsigned long n)
{
	unsigned long i;
	vm_fault_t ret;

	if (!(vma->vm_flags & VM_PFNMAP))
		return vm_insert_pages(vma, addr, ds->pages + pgoff, &n);
	for (i = 0; i < n; i++) {
		ret = vmf_insert_pfn(vma, addr + (i << PAGE_SHIFT),
				     page_to_pfn(ds->pages[pgoff + i]));
		if (ret & VM_FAULT_ERROR)
			return ret & VM_FAULT_OOM ? -ENOMEM : -EFAULT;
	}
	return 0;
}

/*
 * Block-backed mappings fill on the first fault, from the faulting page to
 * the end of the mapping (page-backed) or of its 2 MiB window (pfn entries,
 * which do not tell where they meet a page mapped already), a batch at a
 * time. Filling them in mmap() instead would race with revocation: the new
 * vma is not yet on the dataspace's mapping, where memalloc_ds_revoke()
 * zaps.
 */
static vm_fault_t memalloc_block_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct dma_buf *dmabuf = vma->vm_file->private_data;
	struct memalloc_handle *h = dmabuf->priv;
	struct memalloc_ds *ds = h->ds;
	unsigned long addr = vmf->address & PAGE_MASK, left, n;
	pgoff_t pgoff = vmf->pgoff;
	vm_fault_t ret = VM_FAULT_NOPAGE;
	int err;

	if (memalloc_ds_lock_live(ds))
		return VM_FAULT_SIGBUS;
	if (pgoff >= ds->npages ||
	    (ds->flags & MEMALLOC_SUPER_PAGES && memalloc_vma_thp_disabled(vma))) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	left = min_t(unsigned long, (vma->vm_end - addr) >> PAGE_SHIFT,
		     ds->npages - pgoff);
	if (vma->vm_flags & VM_PFNMAP)
		left = min(left, MEMALLOC_FAULT_BATCH -
			   ((addr >> PAGE_SHIFT) & (MEMALLOC_FAULT_BATCH - 1)));
	for (;;) {
		n = min(left, MEMALLOC_FAULT_BATCH);
		err = memalloc_block_insert(vma, addr, ds, pgoff, n);
		left -= n;
		if (err || !left || fatal_signal_pending(current))
			break;
		addr += n << PAGE_SHIFT;
		pgoff += n;
		cond_resched();
	}
	/* The faulting page is mapped unless the first batch failed. */
	if (err == -ENOMEM)
		ret = VM_FAULT_OOM;
	else if (err && err != -EBUSY)
		ret = VM_FAULT_SIGBUS;
out:
	up_read(&ds->lock);
	return ret;
}

#if MEMALLOC_HUGE_PFNMAP
/*
 * Contiguous super pages: one 2 MiB (PMD) or 1 GiB (PUD) pfn entry where
 * the vma holds the whole aligned range and the block is aligned so; the
 * rest falls back to smaller entries (memalloc_block_fault()), as DAX does.
 */
static vm_fault_t memalloc_block_huge_fault(struct vm_fault *vmf,
					    unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct dma_buf *dmabuf = vma->vm_file->private_data;
	struct memalloc_handle *h = dmabuf->priv;
	struct memalloc_ds *ds = h->ds;
	unsigned long size = PAGE_SIZE << order, addr = vmf->address & ~(size - 1);
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	vm_fault_t ret = VM_FAULT_FALLBACK;
	pgoff_t pgoff;
	pfn_t pfn;

	if ((order != PMD_ORDER && (order != PUD_ORDER || !MEMALLOC_HUGE_PFNMAP_PUD)) ||
	    !(ds->flags & MEMALLOC_SUPER_PAGES) || ds->align < PAGE_SHIFT + order ||
	    addr < vma->vm_start || addr + size > vma->vm_end)
		return VM_FAULT_FALLBACK;
	pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	if (pgoff & ((1UL << order) - 1))
		return VM_FAULT_FALLBACK;
	if (memalloc_ds_lock_live(ds))
		return VM_FAULT_SIGBUS;
	if (pgoff + (1UL << order) <= ds->npages) {
		pfn = __pfn_to_pfn_t(page_to_pfn(ds->pages[pgoff]), PFN_DEV);
		if (order == PMD_ORDER)
			ret = vmf_insert_pfn_pmd(vmf, pfn, write);
		else if (MEMALLOC_HUGE_PFNMAP_PUD)
			ret = vmf_insert_pfn_pud(vmf, pfn, write);
	}
	up_read(&ds->lock);
	return ret;
}
#endif

#if MEMALLOC_MREMAP_LOSES_PUDS
/*
 * A new vma in the caller's own address space, from a split or a move (not
 * a fork), of a dataspace mapped with 1 GiB entries: zap every entry the
 * caller maps of this file, so that a move has none to lose (see compat.h).
 * They fault back in where they now are.
 */
static void memalloc_block_open(struct vm_area_struct *vma)
{
	struct dma_buf *dmabuf = vma->vm_file->private_data;
	struct memalloc_handle *h = dmabuf->priv;
	struct vm_area_struct *v;
	VMA_ITERATOR(vmi, vma->vm_mm, 0);

	if (vma->vm_mm != current->mm || memalloc_ds_page_shift(h->ds) != PUD_SHIFT)
		return;
	mmap_assert_locked(vma->vm_mm);
	for_each_vma(vmi, v)
		if (v != vma && v->vm_file == vma->vm_file)
			zap_vma_ptes(v, v->vm_start, v->vm_end - v->vm_start);
}
#endif

static const struct vm_operations_struct memalloc_block_vm_ops = {
#if MEMALLOC_MREMAP_LOSES_PUDS
	.open = memalloc_block_open,
#endif
	.fault = memalloc_block_fault,
#if MEMALLOC_HUGE_PFNMAP
	.huge_fault = memalloc_block_huge_fault,
#endif
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
	if (memalloc_vma_thp_disabled(vmf->vma))
		return VM_FAULT_SIGBUS;
	return READ_ONCE(memalloc_shmem_vm_ops)->fault(vmf);
}

static vm_fault_t memalloc_pinned_map_pages(struct vm_fault *vmf,
					    pgoff_t start, pgoff_t end)
{
	/* Nothing mapped around: the fault itself answers. */
	if (memalloc_vma_thp_disabled(vmf->vma))
		return 0;
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

/*
 * The file that mappings of a PINNED SUPER_PAGES dataspace map (shmem's,
 * whose own mmap memalloc calls) cannot be mapped otherwise:
 * remap_file_pages() maps a vma's file anew, which would give a plain
 * shmem vma that holds neither the pins nor the locked-memory charge.
 */
static int memalloc_map_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	return -ENODEV;
}

static const struct file_operations memalloc_pinned_map_fops = {
	.owner = THIS_MODULE,
	.mmap = memalloc_map_file_mmap,
	.fsync = noop_fsync,
	.llseek = noop_llseek,
};

static void memalloc_mmap_block(struct memalloc_handle *h,
				struct vm_area_struct *vma)
{
	u32 caching = h->ds->flags & MEMALLOC_CACHING_MASK;

	/*
	 * Page-backed, so get_user_pages() works on the mapping; but memory
	 * with a caching attribute is mapped with pfn entries, which
	 * get_user_pages() refuses: its users would map it write-back. So
	 * are contiguous super pages, whose huge entries only pfn mappings
	 * may have.
	 */
	if (caching == MEMALLOC_CACHED && !(h->ds->flags & MEMALLOC_SUPER_PAGES)) {
		memalloc_vma_set_flags(vma, VM_MIXEDMAP);
	} else {
		memalloc_vma_set_flags(vma, VM_PFNMAP);
		if (caching == MEMALLOC_WRITE_COMBINE)
			vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
		else if (caching == MEMALLOC_UNCACHED)
			vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	}
	vma->vm_ops = &memalloc_block_vm_ops;
}

static int memalloc_mmap_shmem(struct memalloc_handle *h,
			       struct vm_area_struct *vma)
{
	struct memalloc_ds *ds = h->ds;
	int ret;

	vma_set_file(vma, ds->map_file);
	ret = ds->shmem->f_op->mmap(ds->map_file, vma);
	if (ret || !ds->pages)
		return ret;
	if (!vma->vm_ops->fault || !vma->vm_ops->map_pages || vma->vm_ops->open ||
	    vma->vm_ops->close)
		return -EOPNOTSUPP;
	WRITE_ONCE(memalloc_shmem_vm_ops, vma->vm_ops);
	vma->vm_private_data = get_file(h->dmabuf->file);
	vma->vm_ops = &memalloc_pinned_vm_ops;
	return 0;
}

static int memalloc_dma_buf_mmap(struct dma_buf *dmabuf,
				 struct vm_area_struct *vma)
{
	struct memalloc_handle *h = dmabuf->priv;
	unsigned long end;
	int ret;

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
	if (!h->ds->shmem)
		memalloc_mmap_block(h, vma);
	ret = memalloc_ds_lock_live(h->ds);
	if (ret)
		return ret;
	if (h->ds->shmem)
		ret = memalloc_mmap_shmem(h, vma);
	up_read(&h->ds->lock);
	return ret;
}

static void memalloc_ds_free_backing(struct memalloc_ds *ds)
{
	memalloc_block_free(ds);
	if (ds->map_file)
		fput(ds->map_file);
	if (ds->shmem)
		fput(ds->shmem);
	if (ds->inode)
		iput(ds->inode);
	mem_cgroup_put(ds->memcg);
	kfree(ds);
}

static void memalloc_ds_release(struct kref *kref)
{
	memalloc_ds_free_backing(container_of(kref, struct memalloc_ds, kref));
}

static void memalloc_dma_buf_release(struct dma_buf *dmabuf)
{
	struct memalloc_handle *h = dmabuf->priv;
	struct memalloc_ds *ds = h->ds;

	kfree(h);
	kref_put(&ds->kref, memalloc_ds_release);
}

static const struct dma_buf_ops memalloc_dma_buf_ops = {
	.attach = memalloc_attach,
	.detach = memalloc_detach,
	.map_dma_buf = memalloc_map_dma_buf,
	.unmap_dma_buf = memalloc_unmap_dma_buf,
	.mmap = memalloc_dma_buf_mmap,
	.release = memalloc_dma_buf_release,
};

/* Pages of room memalloc_room_for_objects() makes sure of. */
#define MEMALLOC_OBJECT_ROOM	8

/*
 * The kernel's own objects behind a handle (inodes, files, dentries, the
 * dma-buf) are charged to the caller's memory cgroup as any syscall's are,
 * and at the cgroup's limit the kernel answers those with its OOM killer.
 * Make sure first that there is room for them, with charges that fail
 * cleanly (ENOMEM, after reclaim) and are given back at once: the room
 * stays in this CPU's charge stock of the cgroup for the objects.
 */
static int memalloc_room_for_objects(void)
{
	struct page *pages[MEMALLOC_OBJECT_ROOM];
	int i, n, ret = 0;

	for (n = 0; n < MEMALLOC_OBJECT_ROOM; n++) {
		pages[n] = alloc_page(MEMALLOC_OBJ_GFP);
		if (!pages[n]) {
			ret = -ENOMEM;
			break;
		}
	}
	for (i = 0; i < n; i++)
		__free_page(pages[i]);
	return ret;
}

/*
 * A new handle of @ds with a reference of its own to it, and an fd reserved
 * for it: memalloc_handle_install() answers the caller and installs it.
 */
static struct dma_buf *memalloc_handle_new(struct memalloc_ds *ds,
					   bool writable)
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

/* Answer the caller, then install the fd (see memalloc_handle_new()). */
static int memalloc_handle_install(struct memalloc_ucmd *ucmd, size_t len,
				   int fd, struct dma_buf *dmabuf)
{
	int ret = memalloc_ucmd_respond(ucmd, len);

	if (ret) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return ret;
	}
	fd_install(fd, dmabuf->file);
	return 0;
}

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
	if (IS_ENABLED(CONFIG_X86))
		flags |= MEMALLOC_WRITE_COMBINE | MEMALLOC_UNCACHED;
	return flags;
}

/**
 * memalloc_version_facts() - what this kernel gives each kind of dataspace
 * @cmd: MEMALLOC_VERSION's answer, whose per-kind facts it fills in
 *
 * Context: any.
 */
void memalloc_version_facts(struct memalloc_version *cmd)
{
	u32 kinds = MEMALLOC_KIND_LAZY | MEMALLOC_KIND_PINNED | MEMALLOC_KIND_CONTIGUOUS;

	if (memalloc_huge_mnt)
		kinds |= MEMALLOC_KIND_SUPER_PAGES | MEMALLOC_KIND_PINNED_SUPER_PAGES;
	if (memalloc_huge_mnt && MEMALLOC_HUGE_PFNMAP)
		kinds |= MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES;
	if (memalloc_alloc_flags() & MEMALLOC_CACHING_MASK)
		kinds |= MEMALLOC_KIND_CACHING;
	cmd->out_kinds = kinds;
	cmd->out_page_sizes = PAGE_SIZE;
	if (memalloc_huge_mnt)
		cmd->out_page_sizes |= PMD_SIZE;
	if (kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES && MEMALLOC_HUGE_PFNMAP_PUD)
		cmd->out_page_sizes |= PUD_SIZE;
	/* Both are mapped by pfn (memalloc_mmap_block()). */
	cmd->out_gup_kinds = kinds & ~(MEMALLOC_KIND_CACHING |
				       MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES);
	/* Lazy dataspaces map their shmem file, with shmem's own vm_ops. */
	if (MEMALLOC_IO_URING_SHMEM_ONLY)
		cmd->out_io_uring_kinds = kinds & (MEMALLOC_KIND_LAZY |
						   MEMALLOC_KIND_SUPER_PAGES);
	else
		cmd->out_io_uring_kinds = cmd->out_gup_kinds;
	cmd->out_pmd_kinds = kinds & (MEMALLOC_KIND_SUPER_PAGES |
				      MEMALLOC_KIND_PINNED_SUPER_PAGES |
				      MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES);
	cmd->out_pud_kinds = MEMALLOC_HUGE_PFNMAP_PUD ?
		kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES : 0;
}

/**
 * memalloc_ds_page_shift() - log2 of the pages a dataspace is mapped with
 * @ds: the dataspace
 *
 * Context: any.
 * Return: PAGE_SHIFT, PMD_SHIFT for super pages, or PUD_SHIFT for
 * contiguous super pages of whole 1 GiB pages where the kernel maps those.
 */
unsigned int memalloc_ds_page_shift(const struct memalloc_ds *ds)
{
	if (!(ds->flags & MEMALLOC_SUPER_PAGES))
		return PAGE_SHIFT;
	if (MEMALLOC_HUGE_PFNMAP_PUD && ds->flags & MEMALLOC_CONTINUOUS &&
	    ds->align >= PUD_SHIFT && IS_ALIGNED((u64)ds->npages << PAGE_SHIFT, PUD_SIZE))
		return PUD_SHIFT;
	return PMD_SHIFT;
}

/* A caching attribute needs memory that does not move: our own blocks. */
static bool memalloc_can_cache(u32 flags)
{
	return flags & (MEMALLOC_CONTINUOUS | MEMALLOC_PINNED) &&
	       !(flags & MEMALLOC_SUPER_PAGES);
}

static bool memalloc_caching_valid(u32 caching)
{
	return (caching & MEMALLOC_CACHING_MASK) != MEMALLOC_CACHING_MASK;
}

static int memalloc_check_alloc(struct memalloc_alloc *cmd, u64 *rounded)
{
	u64 unit, end;

	if (cmd->__reserved || cmd->flags & ~MEMALLOC_ALLOC_FLAGS_MASK ||
	    !memalloc_caching_valid(cmd->flags) || cmd->fd_flags & ~O_CLOEXEC)
		return -EINVAL;
	/* Also refuses 64 and more, which no shift can take. */
	if (cmd->align > PUD_SHIFT)
		return -EINVAL;
	if (cmd->flags & ~memalloc_alloc_flags())
		return -EOPNOTSUPP;
	/*
	 * A block the module owns is mapped with huge entries only by pfn,
	 * where the kernel lets a driver's vma have them (see the README).
	 */
	if (cmd->flags & MEMALLOC_SUPER_PAGES && cmd->flags & MEMALLOC_CONTINUOUS &&
	    !MEMALLOC_HUGE_PFNMAP)
		return -EOPNOTSUPP;
	if (cmd->flags & MEMALLOC_CACHING_MASK && !memalloc_can_cache(cmd->flags))
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

static struct memalloc_ds *memalloc_ds_new(struct memalloc_alloc *cmd,
					   u64 rounded)
{
	struct memalloc_ds *ds;
	int ret = 0;

	ds = kzalloc(sizeof(*ds), MEMALLOC_OBJ_GFP);
	if (!ds)
		return ERR_PTR(-ENOMEM);
	kref_init(&ds->kref);
	init_rwsem(&ds->lock);
	init_rwsem(&ds->clear_lock);
	ds->size = cmd->length;
	ds->flags = cmd->flags;
	ds->align = cmd->align;
	ds->npages = rounded >> PAGE_SHIFT;
	ds->memcg = get_mem_cgroup_from_mm(current->mm);
	ds->inode = alloc_anon_inode(memalloc_fs_mnt->mnt_sb);
	if (IS_ERR(ds->inode)) {
		ret = PTR_ERR(ds->inode);
		ds->inode = NULL;
		goto err_free_ds;
	}
	/* Shmem for lazy and super pages, pinned or not; pages we own else. */
	if (!(ds->flags & MEMALLOC_CONTINUOUS) &&
	    (ds->flags & MEMALLOC_SUPER_PAGES || !(ds->flags & MEMALLOC_PINNED))) {
		ds->shmem = shmem_file_setup_with_mnt(ds->flags & MEMALLOC_SUPER_PAGES ?
						      memalloc_huge_mnt : memalloc_mnt,
						      KBUILD_MODNAME, rounded,
						      VM_NORESERVE);
		ret = PTR_ERR_OR_ZERO(ds->shmem);
		if (ret) {
			ds->shmem = NULL;
			/* shmem's ENOSPC: its inode could not be had. */
			if (ret == -ENOSPC)
				ret = -ENOMEM;
			goto err_free_ds;
		}
		/* The module's own, as shmem_kernel_file_setup() makes them. */
		file_inode(ds->shmem)->i_flags |= S_PRIVATE;
		ds->map_file = dentry_open(&ds->shmem->f_path, O_RDONLY,
					   current_cred());
		ret = PTR_ERR_OR_ZERO(ds->map_file);
		if (ret) {
			ds->map_file = NULL;
			goto err_free_ds;
		}
		if (ds->flags & MEMALLOC_PINNED) {
			/* Held by the module while the file lives. */
			fops_put(ds->map_file->f_op);
			__module_get(THIS_MODULE);
			ds->map_file->f_op = &memalloc_pinned_map_fops;
		}
	}
	return ds;

err_free_ds:
	memalloc_ds_free_backing(ds);
	return ERR_PTR(ret);
}

/**
 * memalloc_ds_alloc() - MEMALLOC_ALLOC: make a dataspace and its fd
 * @ucmd: the call, holding a struct memalloc_alloc
 *
 * The fd is reserved before any memory is taken, and installed only after
 * the answer reached the caller, so a failed copy leaves no fd behind.
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_alloc(struct memalloc_ucmd *ucmd)
{
	struct memalloc_alloc *cmd = ucmd->cmd;
	struct memalloc_ds *ds;
	struct dma_buf *dmabuf;
	u64 rounded;
	int fd, ret;

	/* Reading the device tells what it offers; allocating writes. */
	if (!(ucmd->file->f_mode & FMODE_WRITE))
		return -EBADF;
	ret = memalloc_check_alloc(cmd, &rounded);
	if (!ret)
		ret = memalloc_room_for_objects();
	if (ret)
		return ret;
	fd = get_unused_fd_flags(cmd->fd_flags);
	if (fd < 0)
		return fd;

	ds = memalloc_ds_new(cmd, rounded);
	if (IS_ERR(ds)) {
		put_unused_fd(fd);
		return PTR_ERR(ds);
	}
	dmabuf = memalloc_handle_new(ds, true);
	/* The handle holds the dataspace now, or nothing does. */
	kref_put(&ds->kref, memalloc_ds_release);
	if (IS_ERR(dmabuf)) {
		put_unused_fd(fd);
		return PTR_ERR(dmabuf);
	}
	/*
	 * The memory last, after every object of the kernel's: those are
	 * charged as any syscall's, which at a memory cgroup's limit the
	 * kernel answers with its OOM killer; the memory gets ENOMEM there.
	 */
	if (ds->flags & (MEMALLOC_CONTINUOUS | MEMALLOC_PINNED)) {
		ret = memalloc_block_alloc(ds, cmd->align);
		if (ret) {
			put_unused_fd(fd);
			dma_buf_put(dmabuf);
			return ret;
		}
	}
	cmd->out_fd = fd;
	return memalloc_handle_install(ucmd, sizeof(*cmd), fd, dmabuf);
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
 * memalloc_ds_dup() - MEMALLOC_DUP: another handle, with fewer rights
 * @ucmd: the call, holding a struct memalloc_dup
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_dup(struct memalloc_ucmd *ucmd)
{
	const u32 rw = MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W;
	struct memalloc_dup *cmd = ucmd->cmd;
	struct memalloc_handle *h;
	struct dma_buf *dmabuf;
	int fd, ret = 0;

	if (!(cmd->rights & MEMALLOC_RIGHT_R) || cmd->rights & ~rw ||
	    cmd->caching & ~MEMALLOC_CACHING_MASK ||
	    !memalloc_caching_valid(cmd->caching) || cmd->fd_flags & ~O_CLOEXEC)
		return -EINVAL;
	h = memalloc_handle_get(cmd->fd);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (cmd->rights & MEMALLOC_RIGHT_W && !memalloc_handle_writable(h))
		ret = -EACCES;
	else if (cmd->caching > (h->ds->flags & MEMALLOC_CACHING_MASK))
		/*
		 * The weaker wins, and a weaker attribute than the memory's
		 * would alias the kernel's mapping of it with another type.
		 */
		ret = -EOPNOTSUPP;
	if (!ret)
		ret = memalloc_room_for_objects();
	if (ret)
		goto out;
	fd = get_unused_fd_flags(cmd->fd_flags);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	dmabuf = memalloc_handle_new(h->ds, cmd->rights & MEMALLOC_RIGHT_W);
	if (IS_ERR(dmabuf)) {
		put_unused_fd(fd);
		ret = PTR_ERR(dmabuf);
		goto out;
	}
	cmd->out_fd = fd;
	ret = memalloc_handle_install(ucmd, sizeof(*cmd), fd, dmabuf);
out:
	memalloc_handle_put(h);
	return ret;
}

/*
 * Truncate the shmem file to nothing: that zaps its mappings and frees its
 * pages, and later faults beyond its size get SIGBUS. Not under ds->lock:
 * the fs's locks rank above mmap_lock, which ranks above ds->lock.
 */
static void memalloc_truncate_shmem(struct memalloc_ds *ds)
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

/* Give the memory back: zapping mappings first, so no access reaches it. */
static int memalloc_ds_revoke(struct memalloc_ds *ds)
{
	if (down_write_killable(&ds->lock))
		return -EINTR;
	if (ds->dead || ds->attachments) {
		up_write(&ds->lock);
		return ds->dead ? -ENODEV : -EBUSY;
	}
	WRITE_ONCE(ds->dead, true);
	/* Every block-backed mapping, of every handle, is on the one mapping. */
	unmap_mapping_range(ds->inode->i_mapping, 0, 0, 1);
	memalloc_block_free(ds);
	up_write(&ds->lock);
	/* Dead now: nothing maps or fills it again but shmem's own faults. */
	if (ds->shmem)
		memalloc_truncate_shmem(ds);
	return 0;
}

/**
 * memalloc_ds_free() - MEMALLOC_FREE: revoke a dataspace
 * @ucmd: the call, holding a struct memalloc_free
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_free(struct memalloc_ucmd *ucmd)
{
	struct memalloc_free *cmd = ucmd->cmd;
	struct memalloc_handle *h;
	int ret;

	h = memalloc_handle_get(cmd->fd);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (memalloc_handle_writable(h))
		ret = memalloc_ds_revoke(h->ds);
	else
		ret = -EACCES;
	memalloc_handle_put(h);
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

static int memalloc_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, MEMALLOC_FS_MAGIC) ? 0 : -ENOMEM;
}

/* Never registered, and no module reference: its only mount is ours. */
static struct file_system_type memalloc_fs_type = {
	.name = KBUILD_MODNAME,
	.init_fs_context = memalloc_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

static int memalloc_tmpfs_init(void)
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
 * memalloc_ds_init() - mount the file systems that back dataspaces
 *
 * Context: module init.
 * Return: 0 or a negative errno.
 */
int memalloc_ds_init(void)
{
	int ret;

	memalloc_fs_mnt = kern_mount(&memalloc_fs_type);
	if (IS_ERR(memalloc_fs_mnt))
		return PTR_ERR(memalloc_fs_mnt);
	ret = memalloc_tmpfs_init();
	if (ret)
		kern_unmount(memalloc_fs_mnt);
	return ret;
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
	kern_unmount(memalloc_fs_mnt);
}
