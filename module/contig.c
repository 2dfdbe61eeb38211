// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: the backing of CONTINUOUS dataspaces, one physically
 * contiguous block the module owns.
 */
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/page-isolation.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/timekeeping.h>

#include "compat.h"
#include "memalloc.h"

/**
 * DOC: contiguous blocks
 *
 * A CONTINUOUS dataspace takes one block, aligned as asked: from the page
 * allocator up to its largest order, otherwise (or when that fails) with
 * alloc_contig_range() over a range of a zone that the module finds
 * itself, migrating movable pages out of it.
 *
 * The search is bounded: it passes over ranges holding a page that is
 * neither free nor movable, or a pageblock isolation refuses (CMA, or
 * isolated already), without touching them; past a failed try it
 * goes on after the first page still in use (one the try could not move,
 * such as a page of a file system that cannot migrate), or by the block's
 * aligned size; it makes at most MEMALLOC_CONTIG_TRIES tries over ranges
 * with pages in use (each isolates and migrates pages and drains every
 * CPU's lists) and MEMALLOC_CONTIG_FREE_TRIES over ranges found free (which
 * fail only at isolation), rescheduling and stopping for a fatal signal
 * as it goes. Each pfn is looked at about once. It does not begin where
 * the block is larger than free memory and what reclaim could free
 * together: no range's pages in use would have anywhere to go.
 * No kernel lets a module charge such a range to a memory cgroup, so
 * callers in a memory-limited cgroup get ENOMEM instead.
 *
 * The CMA area is not used: a long-term pin (io_uring buffer
 * registration, RDMA, VFIO) of a CMA page that is not on an LRU list
 * retries its migration forever, and the pinning task hangs until killed.
 * alloc_contig_range() with MIGRATE_MOVABLE refuses CMA pageblocks (EBUSY),
 * so blocks never come from there, and the search passes over them as over
 * unusable pages, spending no try: a CMA area full of movable pages would
 * otherwise use up the tries before the search got past it.
 */

/*
 * alloc_contig_range() calls one allocation may make over ranges holding
 * pages in use, each of which it isolates, migrates and drains every CPU
 * for; and over ranges found all free, which fail only where isolation
 * fails, at once.
 */
#define MEMALLOC_CONTIG_TRIES		8
#define MEMALLOC_CONTIG_FREE_TRIES	256
/* Pages looked at between reschedules while searching a range. */
#define MEMALLOC_SCAN_BATCH	SZ_32K

/*
 * Whether alloc_contig_range() refuses @pfn's pageblock, of an online
 * section, at isolation whatever its pages: a CMA pageblock (for
 * MIGRATE_MOVABLE), or one isolated already (a CMA allocation's, say). Its
 * migratetype is read from the section's pageblock bits as the page
 * allocator's get_pageblock_migratetype() reads them, which no kernel
 * exports; under RCU, as pfn_valid() reads them, since memory hot-remove
 * frees them so. A hint without locks, as the rest of the search is.
 */
static bool memalloc_pageblock_refused(unsigned long pfn)
{
#ifdef CONFIG_SPARSEMEM
	unsigned long bit = ((pfn & (PAGES_PER_SECTION - 1)) >> pageblock_order) *
			    NR_PAGEBLOCK_BITS;
	struct mem_section_usage *usage;
	unsigned long mt = MIGRATE_MOVABLE;

	BUILD_BUG_ON(NR_PAGEBLOCK_BITS != 4 || PB_migrate);
	BUILD_BUG_ON(MIGRATETYPE_MASK & ~(BIT(NR_PAGEBLOCK_BITS) - 1));
	rcu_read_lock();
	usage = READ_ONCE(__pfn_to_section(pfn)->usage);
	if (usage)
		mt = (READ_ONCE(usage->pageblock_flags[bit / BITS_PER_LONG]) >>
		      (bit % BITS_PER_LONG)) & MIGRATETYPE_MASK;
	rcu_read_unlock();
	if (!usage)
		return true;
	return is_migrate_cma(mt) || is_migrate_isolate(mt);
#else
	return false;
#endif
}

/*
 * The first pfn in [@start, @start + @nr) that alloc_contig_range() could
 * not take: a page outside @zone, reserved, in a pageblock it refuses (see
 * memalloc_pageblock_refused()), or neither free nor movable;
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
		/* @start is pageblock aligned: see memalloc_contig_find(). */
		if (!(pfn & (pageblock_nr_pages - 1)) && memalloc_pageblock_refused(pfn))
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

/*
 * The tries left to one allocation: see MEMALLOC_CONTIG_TRIES. @migrated:
 * the pages in use that the successful try's range held (see
 * memalloc_observe_contig()).
 */
struct memalloc_contig_tries {
	unsigned int busy;
	unsigned int free;
	unsigned long migrated;
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
 * moved nothing (it failed isolating). @tries counts
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
			tries->migrated = busy;
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

static int memalloc_contig_find(struct memalloc_ds *ds, unsigned int align,
				struct memalloc_contig_tries *tries)
{
	/* Whole pageblocks, which alloc_contig_range() isolates. */
	unsigned long stride = max(1UL << (align - PAGE_SHIFT), pageblock_nr_pages);
	unsigned int order = max_t(unsigned int, get_order(ds->npages << PAGE_SHIFT),
				   align - PAGE_SHIFT);
	struct page *page;
	int nid, zi, ret;

	if (order <= MEMALLOC_MAX_ORDER) {
		page = memalloc_pool_take(order);
		if (!page)
			page = alloc_pages(MEMALLOC_LOW_ORDER_GFP, order);
		if (page) {
			memalloc_block_take(ds, 0, page, order);
			return 0;
		}
	}
	if (memalloc_memcg_limited())
		return -ENOMEM;
	/* No range can be had: its pages in use have nowhere to go. */
	if (ds->npages > memalloc_room_to_move())
		return -ENOMEM;
	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);

		/* Highest zone first, and never ZONE_MOVABLE or ZONE_DMA. */
		for (zi = ZONE_NORMAL; zi >= ZONE_DMA32; zi--) {
			if (!populated_zone(&pgdat->node_zones[zi]))
				continue;
			ret = memalloc_contig_in_zone(ds, &pgdat->node_zones[zi],
						      stride, tries);
			if (ret != -ENOMEM)
				return ret;
		}
	}
	return -ENOMEM;
}

/* Find the block, counting the tries it took and the time (observe.c). */
static int memalloc_contig_search(struct memalloc_ds *ds, unsigned int align)
{
	struct memalloc_contig_tries tries = {
		.busy = MEMALLOC_CONTIG_TRIES,
		.free = MEMALLOC_CONTIG_FREE_TRIES,
	};
	u64 start = ktime_get_ns();
	int ret = memalloc_contig_find(ds, align, &tries);

	memalloc_observe_contig(ds, MEMALLOC_CONTIG_TRIES - tries.busy +
				MEMALLOC_CONTIG_FREE_TRIES - tries.free,
				tries.migrated, ret, ktime_get_ns() - start);
	return ret;
}

static int memalloc_contig_alloc(struct memalloc_ds *ds)
{
	int ret;

	ret = memalloc_block_prepare(ds);
	if (!ret)
		ret = memalloc_contig_search(ds, ds->align);
	if (!ret)
		ret = memalloc_block_set_caching(ds);
	return ret;
}

const struct memalloc_backing memalloc_contig_backing = {
	.name = "contig",
	.eager = true,
	.alloc = memalloc_contig_alloc,
	.release = memalloc_block_release,
	.mmap = memalloc_block_mmap,
	.page = memalloc_block_page,
	.read = memalloc_block_read,
	.resident = memalloc_block_resident,
	.phys = memalloc_block_phys,
};
