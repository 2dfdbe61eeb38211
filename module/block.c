// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: the block backing, pages the module owns, for PINNED and
 * CONTINUOUS dataspaces.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/pagevec.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/shmem_fs.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#ifdef CONFIG_X86
#include <asm/set_memory.h>
#endif

#include "compat.h"
#include "memalloc.h"

/**
 * DOC: block backing
 *
 * PINNED and CONTINUOUS dataspaces own their pages. The pages are taken
 * eagerly and zeroed once (by the page allocator, which zeroes on
 * allocation when asked with __GFP_ZERO or booted with init_on_alloc),
 * charged to the caller's memory cgroup (__GFP_ACCOUNT) and to its user's
 * RLIMIT_MEMLOCK (unless it has CAP_IPC_LOCK), and never put on an LRU
 * list: they are never swapped, reclaimed or migrated. They are unmovable
 * allocations, so they stay out of ZONE_MOVABLE and CMA pageblocks.
 *
 * PINNED SUPER_PAGES dataspaces are shmem files on the huge mount instead,
 * populated at once with unmovable 2 MiB pages, made unevictable before
 * that, and held: resident, never swapped or migrated, and both PMD-mapped
 * and usable by get_user_pages(), which a block the module owns is not.
 *
 * Each page carries its own reference (high-order blocks are split), so a
 * mapping inserts them as ordinary pages (VM_MIXEDMAP, page-backed) and
 * get_user_pages() users hold them safely past the dataspace's end.
 *
 * PINNED takes the largest chunks the page allocator gives without reclaim,
 * as the dma-buf system heap does, then smaller ones. CONTINUOUS takes one
 * block: from the page allocator up to its largest order, otherwise (or when that
 * fails) with alloc_contig_range() over a range of a zone that the module
 * finds itself, aligned as asked and migrating movable pages out of it.
 * The search is bounded: it passes over ranges holding a page that is
 * neither free nor movable without touching them; past a failed try it
 * goes on after the first page still in use (one the try could not move,
 * such as a page of a file system that cannot migrate), or by the block's
 * aligned size; it makes at most MEMALLOC_CONTIG_TRIES tries over ranges
 * with pages in use (each isolates and migrates pages and drains every
 * CPU's lists) and MEMALLOC_CONTIG_FREE_TRIES over ranges found free (which
 * fail at isolation, as in a CMA area), rescheduling and stopping for a
 * fatal signal as it goes. Each pfn is looked at about once.
 * No kernel lets a module charge such a range to a memory cgroup, so
 * callers in a memory-limited cgroup get ENOMEM instead.
 *
 * The CMA area is not used: a long-term pin (io_uring buffer
 * registration, RDMA, VFIO) of a CMA page that is not on an LRU list
 * retries its migration forever, and the pinning task hangs until killed.
 * alloc_contig_range() with MIGRATE_MOVABLE refuses CMA pageblocks (EBUSY),
 * so blocks never come from there.
 */

#define MEMALLOC_HIGH_ORDER_GFP ((GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT | \
				  __GFP_NOWARN | __GFP_NORETRY) & ~__GFP_RECLAIM)
/* Pages given back to release_pages() at once, between reschedules. */
#define MEMALLOC_RELEASE_BATCH	SZ_4K
/*
 * Pages whose caching attribute changes at once, between checks for a
 * fatal signal: each change flushes every CPU's TLB, so not too few.
 */
#define MEMALLOC_CACHING_BATCH	SZ_32K
/*
 * alloc_contig_range() calls one allocation may make over ranges holding
 * pages in use, each of which it isolates, migrates and drains every CPU
 * for; and over ranges found all free, which fail only where isolation
 * fails, at once (CMA pageblocks, say, which the module cannot tell).
 */
#define MEMALLOC_CONTIG_TRIES		8
#define MEMALLOC_CONTIG_FREE_TRIES	256
/* Pages looked at between reschedules while searching a range. */
#define MEMALLOC_SCAN_BATCH	SZ_32K

/* Fail a charge above the cgroup's limit with ENOMEM, not the OOM killer. */
#define MEMALLOC_LOW_ORDER_GFP (GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT | \
				__GFP_NOWARN | __GFP_RETRY_MAYFAIL)

static const unsigned int memalloc_chunk_orders[] = { 8, 4, 0 };

/* Record the split pages of a block of 2^@order pages from @first on. */
static void memalloc_take_block(struct memalloc_ds *ds, pgoff_t first,
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

static int memalloc_alloc_chunks(struct memalloc_ds *ds)
{
	unsigned int i = 0, order;
	pgoff_t done = 0;
	struct page *page;

	while (done < ds->npages) {
		if (fatal_signal_pending(current))
			return -EINTR;
		order = memalloc_chunk_orders[i];
		if (ds->npages - done < 1UL << order) {
			i++;
			continue;
		}
		page = alloc_pages(order ? MEMALLOC_HIGH_ORDER_GFP :
				   MEMALLOC_LOW_ORDER_GFP, order);
		if (!page) {
			if (!order)
				return -ENOMEM;
			i++;
			continue;
		}
		memalloc_take_block(ds, done, page, order);
		done += 1UL << order;
		cond_resched();
	}
	return 0;
}

/*
 * The first pfn in [@start, @start + @nr) that alloc_contig_range() could
 * not take: a page outside @zone, reserved, or neither free nor movable;
 * with @in_use, any page that is not free. *@busy counts the pages in use
 * (movable) seen before it. A look without locks, so only a hint; it saves
 * isolating, migrating and draining for ranges that cannot be had.
 */
static unsigned long memalloc_first_unusable(struct zone *zone,
					     unsigned long start,
					     unsigned long nr, bool in_use,
					     unsigned long *busy)
{
	unsigned long pfn;
	struct page *page;

	*busy = 0;
	for (pfn = start; pfn < start + nr; pfn++) {
		if (!((pfn - start + 1) % MEMALLOC_SCAN_BATCH))
			cond_resched();
		page = pfn_to_online_page(pfn);
		if (!page || page_zone(page) != zone || PageReserved(page))
			return pfn;
		/* Free: a buddy's head, or a page inside one. */
		if (PageBuddy(page) || !page_count(page))
			continue;
		if (in_use || (!PageLRU(page) && !__folio_test_movable(page_folio(page))))
			return pfn;
		++*busy;
	}
	return pfn;
}

/* The tries left to one allocation: see MEMALLOC_CONTIG_TRIES. */
struct memalloc_contig_tries {
	unsigned int busy;
	unsigned int free;
};

static int memalloc_zero_block(struct memalloc_ds *ds)
{
	pgoff_t i;

	if (want_init_on_alloc(GFP_KERNEL))
		return 0;
	for (i = 0; i < ds->npages; i++) {
		clear_highpage(ds->pages[i]);
		if (!(i % 512)) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}

/*
 * Search @zone for an aligned range of @ds->npages pages: past an unusable
 * page, the next aligned start; past a failed try, the next aligned start
 * after the first page it left in use, or the next aligned range where it
 * moved nothing (it failed isolating, as in a CMA area). @tries counts
 * down the tries left.
 */
static int memalloc_contig_in_zone(struct memalloc_ds *ds, struct zone *zone,
				   unsigned long stride,
				   struct memalloc_contig_tries *tries)
{
	unsigned long nr = ds->npages, end = zone_end_pfn(zone);
	unsigned long start = ALIGN(zone->zone_start_pfn, stride), bad, i;
	unsigned long busy, still;
	unsigned int *left;
	int ret;

	while (start >= zone->zone_start_pfn && start + nr <= end &&
	       start + nr > start) {
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
		bad = memalloc_first_unusable(zone, start, nr, false, &busy);
		if (bad < start + nr) {
			start = ALIGN(bad + 1, stride);
			continue;
		}
		left = busy ? &tries->busy : &tries->free;
		if (!*left)
			return -ENOMEM;
		--*left;
		ret = alloc_contig_range(start, start + nr, MIGRATE_MOVABLE,
					 GFP_KERNEL | __GFP_NOWARN);
		if (!ret) {
			for (i = 0; i < nr; i++) {
				ds->pages[i] = pfn_to_page(start + i);
				if (!(i % MEMALLOC_SCAN_BATCH))
					cond_resched();
			}
			return memalloc_zero_block(ds);
		}
		/*
		 * Past a page that cannot move now; past the first page still
		 * in use where the try moved some; past the whole range where
		 * it moved none.
		 */
		bad = memalloc_first_unusable(zone, start, nr, false, &still);
		if (bad == start + nr && still < busy)
			bad = memalloc_first_unusable(zone, start, nr, true, &still);
		start = bad < start + nr ? ALIGN(bad + 1, stride) : start + ALIGN(nr, stride);
	}
	return -ENOMEM;
}

/*
 * No kernel gives a module a way to charge a memory cgroup for pages it
 * did not take from the page allocator (alloc_contig_range()): refuse them
 * to a caller whose cgroup, or an ancestor, has a memory.max, so memalloc
 * is no way around the limit.
 */
static bool memalloc_memcg_limited(void)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *memcg, *pos;
	bool limited = false;

	memcg = get_mem_cgroup_from_mm(current->mm);
	for (pos = memcg; pos && !limited; pos = parent_mem_cgroup(pos))
		limited = READ_ONCE(pos->memory.max) != PAGE_COUNTER_MAX ||
			  READ_ONCE(pos->memory.high) != PAGE_COUNTER_MAX;
	mem_cgroup_put(memcg);
	return limited;
#else
	return false;
#endif
}

static int memalloc_alloc_contig(struct memalloc_ds *ds, unsigned int align)
{
	/* Whole pageblocks, which alloc_contig_range() isolates. */
	unsigned long stride = max(1UL << (align - PAGE_SHIFT), pageblock_nr_pages);
	unsigned int order = max_t(unsigned int, get_order(ds->npages << PAGE_SHIFT),
				   align - PAGE_SHIFT);
	struct memalloc_contig_tries tries = {
		.busy = MEMALLOC_CONTIG_TRIES,
		.free = MEMALLOC_CONTIG_FREE_TRIES,
	};
	struct page *page;
	int nid, zi, ret;

	if (order <= MEMALLOC_MAX_ORDER) {
		page = alloc_pages(MEMALLOC_LOW_ORDER_GFP, order);
		if (page) {
			memalloc_take_block(ds, 0, page, order);
			return 0;
		}
	}
	if (memalloc_memcg_limited())
		return -ENOMEM;
	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);

		/* Highest zone first, and never ZONE_MOVABLE or ZONE_DMA. */
		for (zi = ZONE_NORMAL; zi >= ZONE_DMA32; zi--) {
			if (!populated_zone(&pgdat->node_zones[zi]))
				continue;
			ret = memalloc_contig_in_zone(ds, &pgdat->node_zones[zi],
						      stride, &tries);
			if (ret != -ENOMEM)
				return ret;
		}
	}
	return -ENOMEM;
}

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

/*
 * The kernel's own mapping of the pages takes the dataspace's caching
 * attribute, so that it does not alias the user mappings' with another; a
 * batch at a time. ds->caching_pages counts the pages from the first on
 * that may carry it, a failed batch included.
 */
static int memalloc_set_caching(struct memalloc_ds *ds)
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

/**
 * memalloc_block_alloc() - take the pages of a block-backed dataspace
 * @ds: the dataspace; @ds->npages and @ds->flags are set, and @ds->shmem
 *      for PINNED SUPER_PAGES
 * @align: log2 of the physical alignment, for CONTINUOUS
 *
 * On failure the caller still calls memalloc_block_free(), which gives back
 * whatever was taken.
 *
 * Context: process context; sleeps.
 * Return: 0, -ENOMEM (no memory, or over RLIMIT_MEMLOCK) or -EINTR (a
 * fatal signal arrived).
 */
int memalloc_block_alloc(struct memalloc_ds *ds, unsigned int align)
{
	int ret;

	if (!current->mm)
		return -EINVAL;
	/* The charge first: a caller over its limit costs nothing. */
	ret = memalloc_charge_locked(ds);
	if (ret)
		return ret;
	ds->pages = kvcalloc(ds->npages, sizeof(*ds->pages), MEMALLOC_OBJ_GFP);
	if (!ds->pages)
		return -ENOMEM;

	if (ds->shmem)
		return memalloc_pin_shmem(ds);
	if (ds->flags & MEMALLOC_CONTINUOUS)
		ret = memalloc_alloc_contig(ds, align);
	else
		ret = memalloc_alloc_chunks(ds);
	if (ret)
		return ret;
	return memalloc_set_caching(ds);
}

/**
 * memalloc_block_free() - give back the pages of a block-backed dataspace
 * @ds: the dataspace
 *
 * Drops the dataspace's reference to each page: a page still held by
 * get_user_pages() goes back when its holder lets go. Pages get their
 * write-back attribute back first, and pinned shmem pages become evictable.
 * Gives back the locked-memory charge too. Calling it again does nothing.
 *
 * Context: process context.
 */
void memalloc_block_free(struct memalloc_ds *ds)
{
	pgoff_t i, n;

	if (ds->pages) {
		memalloc_undo_caching(ds);
		if (ds->shmem)
			memalloc_unpin_shmem(ds);
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
