// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: the backing of PINNED dataspaces, pages the module owns.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>

#include "memalloc.h"

/**
 * DOC: pinned pages
 *
 * A PINNED dataspace takes the largest chunks the page allocator gives
 * without reclaim, as the dma-buf system heap does, then smaller ones:
 * 1 MiB, 64 KiB, then single pages, which may reclaim; chunks of 1 MiB and
 * 64 KiB come zeroed from the pool (pool.c) while it has them. They are unmovable
 * allocations, so they stay out of ZONE_MOVABLE and CMA pageblocks, and
 * are never put on an LRU list. The rest is block.c's.
 */

/* The large chunks: only what is free now. */
#define MEMALLOC_HIGH_ORDER_GFP \
	MEMALLOC_FREE_NOW(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT | __GFP_NORETRY)

static const unsigned int memalloc_chunk_orders[] = { 8, 4, 0 };

static int memalloc_pages_alloc(struct memalloc_ds *ds)
{
	unsigned int i = 0, order;
	pgoff_t done = 0;
	struct page *page;
	int ret;

	ret = memalloc_block_prepare(ds);
	if (ret)
		return ret;

	while (done < ds->npages) {
		if (fatal_signal_pending(current))
			return -EINTR;
		order = memalloc_chunk_orders[i];
		if (ds->npages - done < 1UL << order) {
			i++;
			continue;
		}
		page = order ? memalloc_pool_take(order) : NULL;
		if (!page)
			page = alloc_pages(order ? MEMALLOC_HIGH_ORDER_GFP :
					   MEMALLOC_LOW_ORDER_GFP, order);
		if (!page) {
			if (!order)
				return -ENOMEM;
			i++;
			continue;
		}
		memalloc_block_take(ds, done, page, order);
		done += 1UL << order;
		cond_resched();
	}
	return memalloc_block_set_caching(ds);
}

const struct memalloc_backing memalloc_pages_backing = {
	.name = "pages",
	.eager = true,
	.alloc = memalloc_pages_alloc,
	.release = memalloc_block_release,
	.mmap = memalloc_block_mmap,
	.page = memalloc_block_page,
	.read = memalloc_block_read,
	.resident = memalloc_block_resident,
	.phys = memalloc_block_phys,
};
