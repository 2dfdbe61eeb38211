// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: what the eager backings share: their page array, the
 * locked-memory charge, caching attributes, and block mappings.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pfn_t.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#ifdef CONFIG_X86
#include <asm/set_memory.h>
#endif

#include "compat.h"
#include "memalloc.h"

/**
 * DOC: eager backings
 *
 * PINNED and CONTINUOUS dataspaces hold all their memory from the start:
 * taken eagerly and zeroed once, charged to the caller's memory cgroup
 * (__GFP_ACCOUNT) and to its user's RLIMIT_MEMLOCK (unless it has
 * CAP_IPC_LOCK), and never swapped, reclaimed or migrated. Three backings
 * do so, each in its own file:
 *
 * - PINNED (pages.c): pages the module owns, from the page allocator;
 * - CONTINUOUS (contig.c): one physically contiguous block the module owns;
 * - PINNED SUPER_PAGES (shmem_pinned.c): a shmem file on the huge mount,
 *   populated at once with unmovable 2 MiB pages and held, so that it is
 *   both PMD-mapped and usable by get_user_pages(), which a block the
 *   module owns is not.
 *
 * All three keep their pages in ds->pages, one entry a page, and share
 * this file's page lookup, copy, residency and physical addresses. The
 * module's own pages carry a reference each (high-order blocks are split),
 * so a mapping inserts them as ordinary pages (VM_MIXEDMAP, page-backed)
 * and get_user_pages() users hold them safely past the dataspace's end;
 * memory with a caching attribute, and contiguous super pages, are mapped
 * by pfn instead (memalloc_block_mmap()).
 */

/* Pages given back to release_pages() at once, between reschedules. */
#define MEMALLOC_RELEASE_BATCH	SZ_4K
/*
 * Pages whose caching attribute changes at once, between checks for a
 * fatal signal: each change flushes every CPU's TLB, so not too few.
 */
#define MEMALLOC_CACHING_BATCH	SZ_32K

/*
 * Locked memory is charged to the user, as io_uring charges its buffers: a
 * charge to the mm would be escaped by a child that allocates, passes the
 * fd on and exits. The pages show as VmPin of the allocating process.
 */
static int memalloc_charge_locked(struct memalloc_ds *ds)
{
	struct user_struct *user = current_user();
	unsigned long limit, cur, new;

	if (!capable(CAP_IPC_LOCK)) {
		limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
		cur = atomic_long_read(&user->locked_vm);
		do {
			new = cur + ds->npages;
			if (new > limit || new < cur)
				return -ENOMEM;
		} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur, new));
		ds->locked_user = get_uid(user);
	}
	ds->pinned_mm = current->mm;
	mmgrab(ds->pinned_mm);
	atomic64_add(ds->npages, &ds->pinned_mm->pinned_vm);
	return 0;
}

/**
 * memalloc_block_prepare() - charge an eager dataspace and make its page array
 * @ds: the dataspace; @ds->npages is set
 *
 * The charge first: a caller over its limit costs nothing. On failure the
 * backing's release still gives back whatever was taken.
 *
 * Context: process context; sleeps.
 * Return: 0, -EINVAL for a caller without an mm, or -ENOMEM.
 */
int memalloc_block_prepare(struct memalloc_ds *ds)
{
	int ret;

	if (!current->mm)
		return -EINVAL;
	ret = memalloc_charge_locked(ds);
	if (ret)
		return ret;
	ds->pages = kvcalloc(ds->npages, sizeof(*ds->pages), MEMALLOC_OBJ_GFP);
	return ds->pages ? 0 : -ENOMEM;
}

/**
 * memalloc_block_take() - record the pages of a block from the page allocator
 * @ds: the dataspace
 * @first: the index of the block's first page in @ds->pages
 * @page: the block
 * @order: its order
 *
 * The block is split so that each page carries its own reference; pages
 * past @ds->npages go back at once.
 *
 * Context: any.
 */
void memalloc_block_take(struct memalloc_ds *ds, pgoff_t first,
			 struct page *page, unsigned int order)
{
	unsigned long i, n = 1UL << order;

	split_page(page, order);
	for (i = 0; i < n; i++) {
		if (first + i < ds->npages)
			ds->pages[first + i] = page + i;
		else
			__free_page(page + i);
	}
}

/**
 * memalloc_block_set_caching() - give the kernel's mapping the caching attribute
 * @ds: the dataspace, whose pages are all taken
 *
 * The kernel's own mapping of the pages takes the dataspace's caching
 * attribute, so that it does not alias the user mappings' with another; a
 * batch at a time. ds->caching_pages counts the pages from the first on
 * that may carry it, a failed batch included.
 *
 * Context: process context; sleeps.
 * Return: 0, -ENOMEM when the attribute cannot be had, or -EINTR.
 */
int memalloc_block_set_caching(struct memalloc_ds *ds)
{
#ifdef CONFIG_X86
	int (*set)(struct page **pages, int numpages);
	pgoff_t n;
	int ret;

	switch (ds->flags & MEMALLOC_CACHING_MASK) {
	case MEMALLOC_WRITE_COMBINE:
		set = set_pages_array_wc;
		break;
	case MEMALLOC_UNCACHED:
		set = set_pages_array_uc;
		break;
	default:
		return 0;
	}
	while (ds->caching_pages < ds->npages) {
		if (fatal_signal_pending(current))
			return -EINTR;
		n = min_t(pgoff_t, ds->npages - ds->caching_pages, MEMALLOC_CACHING_BATCH);
		ret = set(ds->pages + ds->caching_pages, n);
		ds->caching_pages += n;
		/* The attribute could not be had for this memory. */
		if (ret)
			return -ENOMEM;
		cond_resched();
	}
#endif
	return 0;
}

/*
 * Give the pages back their write-back attribute before they go back. A
 * page that cannot have it back is never freed: it is left out of
 * ds->pages, and so leaks, rather than reach another user uncached.
 */
static void memalloc_undo_caching(struct memalloc_ds *ds)
{
#ifdef CONFIG_X86
	pgoff_t i, n;

	for (i = 0; i < ds->caching_pages; i += n) {
		n = min_t(pgoff_t, ds->caching_pages - i, MEMALLOC_CACHING_BATCH);
		if (set_pages_array_wb(ds->pages + i, n)) {
			pr_err_ratelimited("cannot make %lu pages write-back again: leaking them\n",
					   n);
			memset(ds->pages + i, 0, n * sizeof(*ds->pages));
		}
		cond_resched();
	}
	ds->caching_pages = 0;
#endif
}

/**
 * memalloc_block_release() - give back the pages of an eager dataspace
 * @ds: the dataspace
 *
 * Drops the dataspace's reference to each page: a page still held by
 * get_user_pages() goes back when its holder lets go. Pages get their
 * write-back attribute back first. Gives back the locked-memory charge
 * too. Calling it again does nothing.
 *
 * Context: process context.
 */
void memalloc_block_release(struct memalloc_ds *ds)
{
	pgoff_t i, n;

	if (ds->pages) {
		memalloc_undo_caching(ds);
		/* In batches, as the page cache does; a failed allocation leaves NULLs. */
		for (i = 0; i < ds->npages; i += n) {
			for (n = 0; i + n < ds->npages && ds->pages[i + n] &&
			     n < MEMALLOC_RELEASE_BATCH; n++)
				;
			if (n)
				release_pages(ds->pages + i, n);
			else
				n = 1;
			cond_resched();
		}
		kvfree(ds->pages);
		ds->pages = NULL;
	}
	if (ds->locked_user) {
		atomic_long_sub(ds->npages, &ds->locked_user->locked_vm);
		free_uid(ds->locked_user);
		ds->locked_user = NULL;
	}
	if (ds->pinned_mm) {
		atomic64_sub(ds->npages, &ds->pinned_mm->pinned_vm);
		mmdrop(ds->pinned_mm);
		ds->pinned_mm = NULL;
	}
}

/**
 * memalloc_block_page() - a page of an eager dataspace
 * @ds: the dataspace
 * @index: the page's index
 *
 * Context: under ds->lock, or with @ds held against revocation
 * (memalloc_ds_hold()), which keeps ds->pages as well.
 * Return: the page, with a reference of the caller's.
 */
struct page *memalloc_block_page(struct memalloc_ds *ds, pgoff_t index)
{
	get_page(ds->pages[index]);
	return ds->pages[index];
}

/**
 * memalloc_block_read() - copy from an eager dataspace
 * @ds: the dataspace
 * @offset: where, in bytes
 * @buf: where to
 * @n: how many bytes, within one page
 *
 * Context: under ds->lock.
 * Return: 0.
 */
int memalloc_block_read(struct memalloc_ds *ds, u64 offset, void *buf,
			unsigned int n)
{
	memcpy_from_page(buf, ds->pages[offset >> PAGE_SHIFT],
			 offset_in_page(offset), n);
	return 0;
}

/**
 * memalloc_block_resident() - the bytes an eager dataspace holds: all
 * @ds: the dataspace
 *
 * Context: any.
 * Return: its page count in bytes.
 */
u64 memalloc_block_resident(struct memalloc_ds *ds)
{
	return (u64)ds->npages << PAGE_SHIFT;
}

/**
 * memalloc_block_phys() - where an offset of an eager dataspace is
 * @ds: the dataspace
 * @offset: the offset, below its size
 * @addr: its physical address
 * @len: the bytes physically contiguous from there, up to the size
 *
 * Context: under ds->lock; sleeps.
 */
void memalloc_block_phys(struct memalloc_ds *ds, u64 offset, u64 *addr,
			 u64 *len)
{
	pgoff_t first = offset >> PAGE_SHIFT, i;
	unsigned long pfn = page_to_pfn(ds->pages[first]);

	for (i = first + 1; i < ds->npages; i++) {
		if (page_to_pfn(ds->pages[i]) != pfn + i - first)
			break;
		if (!(i % SZ_32K))
			cond_resched();
	}
	*addr = page_to_phys(ds->pages[first]) + offset_in_page(offset);
	*len = min_t(u64, (u64)i << PAGE_SHIFT, ds->size) - offset;
}

/*
 * Map up to @n pages of @ds from @pgoff at @addr: page-backed entries, or
 * pfn entries in a VM_PFNMAP vma (see memalloc_block_mmap()). Return 0,
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
	struct memalloc_ds *ds = memalloc_vma_handle(vma)->ds;
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
	struct memalloc_ds *ds = memalloc_vma_handle(vma)->ds;
	unsigned long size = PAGE_SIZE << order, addr = vmf->address & ~(size - 1);
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	vm_fault_t ret = VM_FAULT_FALLBACK;
	pgoff_t pgoff;
	pfn_t pfn;

	/*
	 * One rule for the entry size: the one MEMALLOC_INFO reports, and
	 * the one memalloc_block_open() protects from mremap().
	 */
	if ((order != PMD_ORDER && order != PUD_ORDER) ||
	    PAGE_SHIFT + order > memalloc_ds_page_shift(ds) ||
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
 * caller maps of this file, so that a move has none to lose (see compat.h)
 * and a split leaves none across two vmas. They fault back in where they
 * now are. Every such caller holds mmap_lock for writing, which
 * vma_start_write() asserts.
 */
static void memalloc_block_open(struct vm_area_struct *vma)
{
	VMA_ITERATOR(vmi, vma->vm_mm, 0);
	struct memalloc_ds *ds = memalloc_vma_handle(vma)->ds;
	struct vm_area_struct *v;

	if (vma->vm_mm != current->mm || memalloc_ds_page_shift(ds) != PUD_SHIFT)
		return;
	for_each_vma(vmi, v) {
		if (v == vma || v->vm_file != vma->vm_file)
			continue;
		/*
		 * Faults run under the vma's own lock, not mmap_lock: lock
		 * each vma for writing before zapping it, so that no fault
		 * maps a GiB again until mmap_lock is dropped (a split locks
		 * the vma only after open()) or races the zap.
		 */
		vma_start_write(v);
		zap_vma_ptes(v, v->vm_start, v->vm_end - v->vm_start);
	}
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

/**
 * memalloc_block_mmap() - map an eager dataspace of the module's own pages
 * @h: the handle mapped
 * @vma: the new vma
 *
 * Nothing is mapped until the first fault: see memalloc_block_fault().
 *
 * Context: mmap(), mmap_lock held for writing; sleeps.
 * Return: 0, or -ENODEV for a revoked dataspace.
 */
int memalloc_block_mmap(struct memalloc_handle *h, struct vm_area_struct *vma)
{
	u32 caching = h->ds->flags & MEMALLOC_CACHING_MASK;
	int ret;

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
	/*
	 * The flags change outside ds->lock: setting them takes the vma's
	 * own lock, which faults hold around ds->lock.
	 */
	ret = memalloc_ds_lock_live(h->ds);
	if (!ret)
		up_read(&h->ds->lock);
	return ret;
}
