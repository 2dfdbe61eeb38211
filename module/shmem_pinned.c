// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: the backing of PINNED SUPER_PAGES dataspaces, shmem files
 * populated at once with 2 MiB pages and held.
 */
#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/swap.h>

#include "memalloc.h"

/**
 * DOC: pinned super pages
 *
 * A PINNED SUPER_PAGES dataspace is a shmem file on the huge mount (see
 * shmem.c), made unevictable, then populated at once with unmovable 2 MiB
 * pages, which it holds in ds->pages: resident, never swapped or migrated,
 * PMD-mapped, and usable by get_user_pages(), which a block the module
 * owns is not. It is charged as the other eager backings are (block.c).
 * When it goes, its pages become ordinary shmem pages again: evictable, as
 * drm_gem_put_pages() leaves GEM objects' pages, and freed with the file.
 */

static int memalloc_pin_shmem(struct memalloc_ds *ds)
{
	struct address_space *mapping = ds->shmem->f_mapping;
	/* Unmovable (out of ZONE_MOVABLE and CMA); ENOMEM over the memcg limit. */
	gfp_t gfp = GFP_HIGHUSER | __GFP_RETRY_MAYFAIL | __GFP_NOWARN;
	struct page *page;
	pgoff_t i;

	/* Before the pages exist: it has no effect on pages already there. */
	mapping_set_unevictable(mapping);
	mapping_set_gfp_mask(mapping, gfp);
	for (i = 0; i < ds->npages; i++) {
		page = shmem_read_mapping_page_gfp(mapping, i, gfp);
		/* shmem's ENOSPC is the machine's commit limit: out of memory. */
		if (PTR_ERR(page) == -ENOSPC)
			return -ENOMEM;
		if (IS_ERR(page))
			return PTR_ERR(page);
		ds->pages[i] = page;
		/* Super pages are a guarantee: no 4 KiB fallback. */
		if (!PageTransCompound(page))
			return -ENOMEM;
		if (!(i % 512)) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}

/*
 * Pinned shmem pages become ordinary shmem pages again: evictable, as
 * drm_gem_put_pages() leaves GEM objects' pages.
 */
static void memalloc_unpin_shmem(struct memalloc_ds *ds)
{
	struct folio *folio, *last = NULL;
	struct folio_batch fbatch;
	pgoff_t i;

	mapping_clear_unevictable(ds->shmem->f_mapping);
	folio_batch_init(&fbatch);
	for (i = 0; i < ds->npages && ds->pages[i]; i++) {
		folio = page_folio(ds->pages[i]);
		if (folio == last)
			continue;
		last = folio;
		if (!folio_batch_add(&fbatch, folio)) {
			check_move_unevictable_folios(&fbatch);
			folio_batch_init(&fbatch);
			cond_resched();
		}
	}
	if (folio_batch_count(&fbatch))
		check_move_unevictable_folios(&fbatch);
}

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

static int memalloc_shmem_pinned_init(struct memalloc_ds *ds)
{
	int ret = memalloc_shmem_file(ds);

	if (ret)
		return ret;
	memalloc_shmem_set_map_fops(ds, &memalloc_pinned_map_fops);
	return 0;
}

static int memalloc_shmem_pinned_alloc(struct memalloc_ds *ds)
{
	int ret = memalloc_block_prepare(ds);

	return ret ?: memalloc_pin_shmem(ds);
}

static void memalloc_shmem_pinned_release(struct memalloc_ds *ds)
{
	if (ds->pages)
		memalloc_unpin_shmem(ds);
	memalloc_block_release(ds);
}

static int memalloc_shmem_pinned_mmap(struct memalloc_handle *h,
				      struct vm_area_struct *vma)
{
	int ret = memalloc_shmem_mmap(h, vma);

	if (ret)
		return ret;
	if (!vma->vm_ops->fault || !vma->vm_ops->map_pages || vma->vm_ops->open ||
	    vma->vm_ops->close)
		return -EOPNOTSUPP;
	WRITE_ONCE(memalloc_shmem_vm_ops, vma->vm_ops);
	vma->vm_private_data = get_file(h->dmabuf->file);
	vma->vm_ops = &memalloc_pinned_vm_ops;
	return 0;
}

const struct memalloc_backing memalloc_shmem_pinned_backing = {
	.name = "shmem-pinned",
	.eager = true,
	.init = memalloc_shmem_pinned_init,
	.alloc = memalloc_shmem_pinned_alloc,
	.release = memalloc_shmem_pinned_release,
	.revoke = memalloc_shmem_revoke,
	.destroy = memalloc_shmem_destroy,
	.mmap = memalloc_shmem_pinned_mmap,
	.page = memalloc_block_page,
	.read = memalloc_block_read,
	.resident = memalloc_block_resident,
	.phys = memalloc_block_phys,
};
