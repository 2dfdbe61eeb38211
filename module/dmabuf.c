// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: handles, each a dma-buf of its own, and the dma-buf exporter.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include <uapi/linux/dma-buf.h>

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
 * Devices import a handle as any dma-buf. A mapping for a device, and the
 * kernel's mapping (vmap), hold every page, populated for a lazy dataspace
 * and charged to the dataspace's own memory cgroup; an attachment and a
 * kernel mapping hold the dataspace against revocation. CPU access
 * (DMA_BUF_IOCTL_SYNC, dma_buf_begin_cpu_access()) syncs every device
 * mapping of the dataspace. Each dma-buf is named after its dataspace's
 * kind and size, "pinned:1M" say, as /proc/PID/fdinfo and the dma-buf
 * debugfs show it; its exporter name is "memalloc".
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

/**
 * struct memalloc_attachment - a device's attachment to a dataspace
 * @node: on ds->attach_list
 * @dev: the device
 * @sgt: its mapping while mapped, else NULL; under ds->attach_lock
 * @dir: the direction @sgt was mapped for, which CPU access syncs it with
 */
struct memalloc_attachment {
	struct list_head node;
	struct device *dev;
	struct sg_table *sgt;
	enum dma_data_direction dir;
};

/* An attachment holds the dataspace as a kernel mapping does. */
static int memalloc_attach(struct dma_buf *dmabuf,
			   struct dma_buf_attachment *attach)
{
	struct memalloc_handle *h = dmabuf->priv;
	struct memalloc_ds *ds = h->ds;
	struct memalloc_attachment *a;
	int ret;

	a = kzalloc(sizeof(*a), MEMALLOC_OBJ_GFP);
	if (!a)
		return -ENOMEM;
	ret = memalloc_ds_hold(ds);
	if (ret) {
		kfree(a);
		return ret;
	}
	a->dev = attach->dev;
	attach->priv = a;
	mutex_lock(&ds->attach_lock);
	list_add(&a->node, &ds->attach_list);
	mutex_unlock(&ds->attach_lock);
	return 0;
}

static void memalloc_detach(struct dma_buf *dmabuf,
			    struct dma_buf_attachment *attach)
{
	struct memalloc_handle *h = dmabuf->priv;
	struct memalloc_attachment *a = attach->priv;

	mutex_lock(&h->ds->attach_lock);
	list_del(&a->node);
	mutex_unlock(&h->ds->attach_lock);
	kfree(a);
	memalloc_ds_unhold(h->ds);
}

/* Drop the references of @n pages, rescheduling now and then. */
static void memalloc_put_pages(struct page **pages, pgoff_t n)
{
	pgoff_t i;

	for (i = 0; i < n; i++) {
		put_page(pages[i]);
		if (!((i + 1) % MEMALLOC_FAULT_BATCH))
			cond_resched();
	}
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

/**
 * memalloc_hold_pages() - every page of a held dataspace, a reference each
 * @ds: the dataspace, held (memalloc_ds_hold()) against revocation, so
 *      that its pages may be looked up without ds->lock
 * @killable: give up on a fatal signal; a vmap may not (the dma-buf core
 *            WARNs on any failure of it), a device mapping may
 *
 * A device's or the kernel's mapping needs every page: they are populated
 * where absent, and, with the page array, charged to the dataspace's own
 * memory cgroup, whoever maps it (an eager dataspace holds its pages
 * already, but a reference each keeps unmapping the same for every
 * backing).
 *
 * Context: process context; sleeps.
 * Return: an array of ds->npages pages, which the caller gives back with
 * memalloc_put_pages() and kvfree(); or ERR_PTR(-ENOMEM) (a lazy
 * dataspace over its memory cgroup's limit), or ERR_PTR(-EINTR) on a fatal
 * signal when @killable.
 */
static struct page **memalloc_hold_pages(struct memalloc_ds *ds, bool killable)
{
	struct mem_cgroup *old;
	struct page **pages;
	pgoff_t i;
	int ret = 0;

	old = set_active_memcg(ds->memcg);
	pages = kvmalloc_array(ds->npages, sizeof(*pages), MEMALLOC_OBJ_GFP);
	if (!pages) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < ds->npages; i++) {
		if (killable && fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		pages[i] = ds->backing->page(ds, i);
		if (IS_ERR(pages[i])) {
			ret = PTR_ERR(pages[i]);
			break;
		}
		cond_resched();
	}
	if (ret) {
		memalloc_put_pages(pages, i);
		kvfree(pages);
	}
out:
	set_active_memcg(old);
	return ret ? ERR_PTR(ret) : pages;
}

/* An attachment holds the dataspace against revocation: no lock needed. */
static struct sg_table *memalloc_map_dma_buf(struct dma_buf_attachment *attach,
					     enum dma_data_direction dir)
{
	struct memalloc_handle *h = attach->dmabuf->priv;
	struct memalloc_attachment *a = attach->priv;
	struct memalloc_ds *ds = h->ds;
	pgoff_t npages = ds->npages;
	struct mem_cgroup *old;
	struct sg_table *sgt;
	struct page **pages;
	int ret;

	/* A read-only handle lends the memory to devices to read only. */
	if (!memalloc_handle_writable(h) && dir != DMA_TO_DEVICE)
		return ERR_PTR(-EACCES);
	pages = memalloc_hold_pages(ds, true);
	if (IS_ERR(pages))
		return ERR_CAST(pages);
	/* The scatterlist too is the dataspace's memory cgroup's to pay. */
	old = set_active_memcg(ds->memcg);
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
	set_active_memcg(old);
	kvfree(pages);
	mutex_lock(&ds->attach_lock);
	a->sgt = sgt;
	a->dir = dir;
	mutex_unlock(&ds->attach_lock);
	return sgt;

err_free_table:
	sg_free_table(sgt);
err_free_sgt:
	kfree(sgt);
err_put_pages:
	set_active_memcg(old);
	memalloc_put_pages(pages, npages);
	kvfree(pages);
	return ERR_PTR(ret);
}

static void memalloc_unmap_dma_buf(struct dma_buf_attachment *attach,
				   struct sg_table *sgt,
				   enum dma_data_direction dir)
{
	struct memalloc_handle *h = attach->dmabuf->priv;
	struct memalloc_attachment *a = attach->priv;

	mutex_lock(&h->ds->attach_lock);
	a->sgt = NULL;
	mutex_unlock(&h->ds->attach_lock);
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	memalloc_put_sgt_pages(sgt);
	sg_free_table(sgt);
	kfree(sgt);
}

/*
 * CPU access, through any handle's user mapping or this dma-buf's kernel
 * mapping, syncs every device mapping of the dataspace: the handles share
 * the memory. Each is synced with the direction it was mapped for, not
 * the caller's: a read-only handle's device mapping is DMA_TO_DEVICE
 * whatever another handle's caller does, and the DMA API wants the
 * direction of the mapping (a bounce buffer is copied by it). Begin and
 * end sync the same mappings, one way each.
 */
static void memalloc_sync_cpu_access(struct dma_buf *dmabuf, bool for_cpu)
{
	struct memalloc_handle *h = dmabuf->priv;
	struct memalloc_ds *ds = h->ds;
	struct memalloc_attachment *a;

	mutex_lock(&ds->attach_lock);
	if (h->vaddr) {
		if (for_cpu)
			invalidate_kernel_vmap_range(h->vaddr, dmabuf->size);
		else
			flush_kernel_vmap_range(h->vaddr, dmabuf->size);
	}
	list_for_each_entry(a, &ds->attach_list, node) {
		if (!a->sgt)
			continue;
		if (for_cpu)
			dma_sync_sgtable_for_cpu(a->dev, a->sgt, a->dir);
		else
			dma_sync_sgtable_for_device(a->dev, a->sgt, a->dir);
	}
	mutex_unlock(&ds->attach_lock);
}

static int memalloc_begin_cpu_access(struct dma_buf *dmabuf,
				     enum dma_data_direction dir)
{
	memalloc_sync_cpu_access(dmabuf, true);
	return 0;
}

static int memalloc_end_cpu_access(struct dma_buf *dmabuf,
				   enum dma_data_direction dir)
{
	memalloc_sync_cpu_access(dmabuf, false);
	return 0;
}

/*
 * The kernel's mapping of the whole dataspace, for the dma-buf core, which
 * counts a dma-buf's vmaps and calls this for the first only (under the
 * buffer's reservation lock on 6.12, its own mutex on 6.1). It holds the
 * dataspace as an attachment does, and maps the memory with its caching
 * attribute, the kernel's linear mapping's too (memalloc_block_set_caching()).
 *
 * A read-only handle is mapped writable all the same: a vmap has no
 * direction to refuse, and the core takes any failure here for an
 * exporter's bug (WARN_ON_ONCE), which a user could then set off by
 * passing a read-only handle to a driver. The handle's mode binds user
 * space and device mappings; a kernel importer is trusted with the
 * memory as with the rest of the kernel.
 *
 * For the same reason it fails for as little as it can: the hold does not
 * give up on a signal, waits for no user's command, and clears cannot
 * starve it (memalloc_ds_hold()); population goes on past a fatal signal,
 * up to the dataspace's size. What is left, and a user can bring about:
 * -ENODEV for a revoked dataspace (only through an importer that never
 * attached, as an attachment holds it against revocation), and -ENOMEM
 * for a lazy one over its memory cgroup's limit (a delegated cgroup's
 * memory.max) or no room for the mapping. The core warns of those.
 */
static int memalloc_dma_buf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct memalloc_handle *h = dmabuf->priv;
	struct memalloc_ds *ds = h->ds;
	pgprot_t prot = PAGE_KERNEL;
	struct page **pages;
	void *vaddr;
	int ret;

	ret = memalloc_ds_hold(ds);
	if (ret)
		return ret;
	pages = memalloc_hold_pages(ds, false);
	if (IS_ERR(pages)) {
		ret = PTR_ERR(pages);
		goto err_unhold;
	}
	switch (ds->flags & MEMALLOC_CACHING_MASK) {
	case MEMALLOC_WRITE_COMBINE:
		prot = pgprot_writecombine(prot);
		break;
	case MEMALLOC_UNCACHED:
		prot = pgprot_noncached(prot);
		break;
	}
	vaddr = vmap(pages, ds->npages, VM_MAP, prot);
	if (!vaddr) {
		ret = -ENOMEM;
		goto err_put_pages;
	}
	mutex_lock(&ds->attach_lock);
	h->vaddr = vaddr;
	h->vmap_pages = pages;
	mutex_unlock(&ds->attach_lock);
	iosys_map_set_vaddr(map, vaddr);
	return 0;

err_put_pages:
	memalloc_put_pages(pages, ds->npages);
	kvfree(pages);
err_unhold:
	memalloc_ds_unhold(ds);
	return ret;
}

static void memalloc_dma_buf_vunmap(struct dma_buf *dmabuf,
				    struct iosys_map *map)
{
	struct memalloc_handle *h = dmabuf->priv;
	struct memalloc_ds *ds = h->ds;
	struct page **pages;
	void *vaddr;

	mutex_lock(&ds->attach_lock);
	vaddr = h->vaddr;
	pages = h->vmap_pages;
	h->vaddr = NULL;
	h->vmap_pages = NULL;
	mutex_unlock(&ds->attach_lock);
	vunmap(vaddr);
	memalloc_put_pages(pages, ds->npages);
	kvfree(pages);
	memalloc_ds_unhold(ds);
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
	.begin_cpu_access = memalloc_begin_cpu_access,
	.end_cpu_access = memalloc_end_cpu_access,
	.mmap = memalloc_dma_buf_mmap,
	.vmap = memalloc_dma_buf_vmap,
	.vunmap = memalloc_dma_buf_vunmap,
	.release = memalloc_dma_buf_release,
};

/**
 * memalloc_handle_name() - the name of a dataspace's dma-bufs
 * @ds: the dataspace
 *
 * Its kind (lazy, super, pinned, pinned+super, contig, contig+super, and
 * +wc or +uc for a caching attribute) and its size: in bytes unless a
 * whole number of KiB, else in the largest of K, M and G that divides it.
 * Cut to DMA_BUF_NAME_LEN, which only a size no machine has would reach.
 *
 * Context: process context.
 * Return: the name, which the dma-buf core frees; or NULL.
 */
static char *memalloc_handle_name(const struct memalloc_ds *ds)
{
	static const char * const kinds[2][3] = {
		{ "lazy", "pinned", "contig" },
		{ "super", "pinned+super", "contig+super" },
	};
	static const char units[][2] = { "", "K", "M", "G" };
	u32 caching = ds->flags & MEMALLOC_CACHING_MASK;
	char name[DMA_BUF_NAME_LEN];
	u64 size = ds->size;
	int kind = ds->flags & MEMALLOC_CONTINUOUS ? 2 :
		   ds->flags & MEMALLOC_PINNED ? 1 : 0;
	unsigned int u = 0;

	while (size && !(size % SZ_1K) && u < ARRAY_SIZE(units) - 1) {
		size /= SZ_1K;
		u++;
	}
	snprintf(name, sizeof(name), "%s%s:%llu%s",
		 kinds[!!(ds->flags & MEMALLOC_SUPER_PAGES)][kind],
		 caching == MEMALLOC_WRITE_COMBINE ? "+wc" :
		 caching == MEMALLOC_UNCACHED ? "+uc" : "", size, units[u]);
	return kstrdup(name, MEMALLOC_OBJ_GFP);
}

/**
 * memalloc_handle_new() - a new handle of a dataspace
 * @ds: the dataspace, of which the handle takes a reference of its own
 * @writable: whether the handle may change the memory
 *
 * Context: process context; sleeps.
 * Every handle's dma-buf shares the dataspace's reservation object
 * (ds->resv), so that fences are seen through all of them.
 *
 * Return: the handle's dma-buf; ERR_PTR(-ENOMEM), ERR_PTR(-ENODEV) when
 * @ds is being revoked, or another error of dma_buf_export() passed on.
 */
struct dma_buf *memalloc_handle_new(struct memalloc_ds *ds, bool writable)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct memalloc_handle *h;
	struct dma_buf *dmabuf;
	char *name;

	h = kzalloc(sizeof(*h), MEMALLOC_OBJ_GFP);
	name = memalloc_handle_name(ds);
	if (!h || !name) {
		kfree(name);
		kfree(h);
		return ERR_PTR(-ENOMEM);
	}
	h->ds = ds;
	h->writable = writable;

	exp_info.ops = &memalloc_dma_buf_ops;
	exp_info.size = ds->npages << PAGE_SHIFT;
	exp_info.flags = writable ? O_RDWR : O_RDONLY;
	exp_info.priv = h;
	/* Given, the core neither initialises nor frees it (ds->resv). */
	exp_info.resv = &ds->resv;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		kfree(name);
		kfree(h);
		return dmabuf;
	}
	h->dmabuf = dmabuf;
	kref_get(&ds->kref);
	/*
	 * The debugfs list has it already, and DMA_BUF_SET_NAME may rename
	 * it: the name changes under the core's lock, which frees it.
	 */
	spin_lock(&dmabuf->name_lock);
	dmabuf->name = name;
	spin_unlock(&dmabuf->name_lock);
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
