// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: whether memory has room, read from the counters the page
 * allocator and memory cgroups keep.
 */
#include <linux/gfp.h>
#include <linux/memcontrol.h>
#include <linux/mempolicy.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/swap.h>
#include <linux/vmstat.h>

#include "compat.h"
#include "memalloc.h"

/**
 * DOC: room for the kernel's objects
 *
 * The kernel's objects behind a handle (the dma-buf, its file, dentry and
 * inode) are allocated as any syscall's are: without a way to fail, so at
 * the end of memory the kernel answers them with its OOM killer. Before
 * it makes them, MEMALLOC_ALLOC, MEMALLOC_DUP and MEMALLOC_FACTORY (an
 * allocator's file, dentry and inode) make sure of room, and answer
 * ENOMEM without it.
 *
 * Room is what the page allocator weighs before its OOM killer: a zone the
 * objects may come from whose free pages, with the page cache and (while
 * swap has room for them) the anonymous pages reclaim can take, stand above its min
 * watermark (boost and reserve included) by a margin. A margin, not the
 * objects' few kilobytes: the allocator's check counts only its free
 * lists, and each new slab moves a batch of pages from them to a per-CPU
 * list, where the check counts them no longer, even on the CPU that holds
 * them (6.12 doubles the batch for each order-0 refill after another); a
 * pageblock stolen for them raises the watermarks by a pageblock: a
 * pageblock and 8 batches, 4 MiB on x86-64. Pinned memory makes this
 * real: what it holds, reclaim never gets back.
 *
 * The memory cgroups' room is read from their counters; without it single
 * pages are taken and given back, charged as the objects are, so that the
 * cgroup reclaims, and ENOMEM if it cannot. Their charge usually stays in
 * this CPU's stock of the cgroup for the objects.
 */

/* The pages taken and given back: within a cgroup's charge batch (64). */
#define MEMALLOC_OBJECT_PAGES	16
/*
 * The per-CPU batches a margin covers, 8, a heuristic: a few new slabs of
 * several orders, and some of 6.12's doubling for consecutive order-0
 * refills (up to 32 batches in one).
 */
#define MEMALLOC_PCP_BATCHES_SHIFT	3

/**
 * memalloc_memcg_room() - whether memory cgroups have room
 * @memcg: the cgroup, or NULL for none
 * @pages: the room asked for
 *
 * Return: whether every cgroup from @memcg up has @pages below its
 * memory.max and memory.high.
 */
bool memalloc_memcg_room(struct mem_cgroup *memcg, unsigned long pages)
{
#ifdef CONFIG_MEMCG
	unsigned long usage;

	for (; memcg; memcg = parent_mem_cgroup(memcg)) {
		usage = page_counter_read(&memcg->memory) + pages;
		if (usage > READ_ONCE(memcg->memory.max) ||
		    usage > READ_ONCE(memcg->memory.high))
			return false;
	}
#endif
	return true;
}

/* A counter of @zone, @exact through its per-CPU drift. */
static long memalloc_zone_stat(struct zone *zone, enum zone_stat_item item, bool exact)
{
	return exact ? zone_page_state_snapshot(zone, item) : zone_page_state(zone, item);
}

/*
 * What @zone has for the objects, counted much as the page allocator
 * counts it for GFP_KERNEL before its OOM killer (should_reclaim_retry()),
 * on the cautious side: CMA pageblocks and the high-atomic reserve are not
 * theirs (nor page cache in CMA pageblocks, whose reclaim frees only
 * those), and anonymous pages count only as far as swap has room for them.
 * @exact reads the counters through their per-CPU drift.
 */
static long memalloc_zone_avail(struct zone *zone, long swap, bool exact)
{
	long free_cma = memalloc_zone_stat(zone, NR_FREE_CMA_PAGES, exact);
	long free = memalloc_zone_stat(zone, NR_FREE_PAGES, exact) - free_cma -
		    memalloc_zone_highatomic(zone);
	long lru = memalloc_zone_stat(zone, NR_ZONE_INACTIVE_FILE, exact) +
		   memalloc_zone_stat(zone, NR_ZONE_ACTIVE_FILE, exact);
	long anon = memalloc_zone_stat(zone, NR_ZONE_INACTIVE_ANON, exact) +
		    memalloc_zone_stat(zone, NR_ZONE_ACTIVE_ANON, exact);

	lru += min(anon, swap);
	lru -= min(lru, max(0L, (long)zone_cma_pages(zone) - free_cma));
	return free + lru;
}

/*
 * Whether @zone has room for the objects: what it has, above its min
 * watermark and reserve by the margin. The counters are summed over every
 * CPU only where their drift (6 counters, each up to a threshold per CPU)
 * could change the answer: that costs a read per CPU each.
 */
static bool memalloc_zone_room(struct zone *zone, long swap)
{
	long need = (long)min_wmark_pages(zone) + zone->lowmem_reserve[ZONE_NORMAL] +
		    pageblock_nr_pages +
		    ((long)READ_ONCE(zone->pageset_batch) << MEMALLOC_PCP_BATCHES_SHIFT);
	long drift = 6L * num_online_cpus() *
		     this_cpu_read(zone->per_cpu_zonestats->stat_threshold);
	long avail = memalloc_zone_avail(zone, swap, false);

	if (abs(avail - need) > drift)
		return avail > need;
	return memalloc_zone_avail(zone, swap, true) > need;
}

/*
 * Whether a zone GFP_KERNEL reaches for this task has room: on the nodes
 * an MPOL_BIND policy binds it to, where the kernel applies the policy to
 * GFP_KERNEL (nodes with memory of that kind, within the cpuset), else on
 * any. A cpuset confines GFP_KERNEL only to its nearest hardwall
 * ancestor's nodes, all of them under cgroup v2, so it is not applied.
 */
static bool memalloc_node_room(void)
{
	long swap = max(0L, get_nr_swap_pages());
	__maybe_unused struct mempolicy *pol;
	nodemask_t nodes = node_states[N_MEMORY];
	struct zone *zone;
	int nid, zi;

#ifdef CONFIG_NUMA
	task_lock(current);
	pol = current->mempolicy;
	if (pol && pol->mode == MPOL_BIND &&
	    nodes_intersects(pol->nodes, node_states[N_HIGH_MEMORY]) &&
	    nodes_intersects(pol->nodes, current->mems_allowed))
		nodes_and(nodes, nodes, pol->nodes);
	task_unlock(current);
#endif
	for_each_node_mask(nid, nodes) {
		/* In the order GFP_KERNEL tries them. */
		for (zi = ZONE_NORMAL; zi >= 0; zi--) {
			zone = &NODE_DATA(nid)->node_zones[zi];
			if (managed_zone(zone) && memalloc_zone_room(zone, swap))
				return true;
		}
	}
	return false;
}

/*
 * Whether the caller's memory cgroups have room for the objects: the
 * task's own, which __GFP_ACCOUNT charges (not its mm owner's).
 */
static bool memalloc_objects_memcg_room(void)
{
	bool room;

	rcu_read_lock();
	room = memalloc_memcg_room(mem_cgroup_from_task(current), MEMALLOC_OBJECT_PAGES);
	rcu_read_unlock();
	return room;
}

/**
 * memalloc_room_for_objects() - make sure of room for a handle's objects
 *
 * See the DOC above.
 *
 * Context: process context; sleeps.
 * Return: 0, or -ENOMEM without room.
 */
int memalloc_room_for_objects(void)
{
	struct page *pages[MEMALLOC_OBJECT_PAGES];
	int i, n, ret = 0;

	if (!memalloc_node_room())
		return -ENOMEM;
	if (memalloc_objects_memcg_room())
		return 0;
	for (n = 0; n < ARRAY_SIZE(pages); n++) {
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
 * The free pages on @zone's per-CPU lists, which NR_FREE_PAGES leaves out:
 * every possible CPU's, as a CPU going offline keeps its lists until
 * after it has left the online ones.
 */
static long memalloc_zone_pcp_pages(struct zone *zone)
{
	long pages = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		pages += READ_ONCE(per_cpu_ptr(zone->per_cpu_pageset, cpu)->count);
	return pages;
}

/**
 * memalloc_room_to_move() - the pages movable memory could be moved into
 *
 * An upper bound of what alloc_contig_range() can free a range into: every
 * zone's free pages (those on per-CPU lists, which it drains, and those of
 * CMA pageblocks included), its page cache, its anonymous pages as far as
 * swap has room for them, and what shrinkers may free (reclaimable slab,
 * and kernel memory counted as reclaimable: memalloc's own pool), zone
 * counters read through their per-CPU drift (the node-wide ones for
 * shrinkers are read as they stand). A range of n pages, f of them
 * free and the rest in use, can be had only if those n - f fit into the
 * free pages outside it and what reclaim frees: n at most this.
 *
 * Context: process context; reads each CPU's counters.
 * Return: the pages.
 */
unsigned long memalloc_room_to_move(void)
{
	long swap = max(0L, get_nr_swap_pages()), room = 0, anon = 0;
	struct zone *zone;
	int nid, zi;

	for_each_node_state(nid, N_MEMORY) {
		for (zi = 0; zi < MAX_NR_ZONES; zi++) {
			zone = &NODE_DATA(nid)->node_zones[zi];
			if (!managed_zone(zone))
				continue;
			room += memalloc_zone_stat(zone, NR_FREE_PAGES, true) +
				memalloc_zone_pcp_pages(zone) +
				memalloc_zone_stat(zone, NR_ZONE_INACTIVE_FILE, true) +
				memalloc_zone_stat(zone, NR_ZONE_ACTIVE_FILE, true);
			anon += memalloc_zone_stat(zone, NR_ZONE_INACTIVE_ANON, true) +
				memalloc_zone_stat(zone, NR_ZONE_ACTIVE_ANON, true);
		}
	}
	room += global_node_page_state_pages(NR_SLAB_RECLAIMABLE_B) +
		global_node_page_state(NR_KERNEL_MISC_RECLAIMABLE);
	return max(0L, room + min(anon, swap));
}
