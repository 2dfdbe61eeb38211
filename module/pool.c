// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: memory zeroed ahead of time, for the eager backings.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuset.h>
#include <linux/freezer.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/list_lru.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/nodemask.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/vmstat.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <uapi/linux/sched/types.h>

#include "compat.h"
#include "memalloc.h"

/**
 * DOC: the pool
 *
 * Zeroing is most of what taking memory costs. PINNED dataspaces take
 * 1 MiB and 64 KiB chunks (pages.c), CONTINUOUS ones of those orders one
 * block (contig.c); the pool keeps chunks of both sizes that are zero
 * already, so that an allocation finding one does not zero it on the
 * caller's time.
 *
 * - **Zero, once.** The page allocator zeroes a chunk when the pool takes
 *   it (__GFP_ZERO: once, whether init_on_alloc is on or not). From then
 *   on the chunk is the module's alone, mapped nowhere but in the kernel's
 *   linear map and written by nobody, until it is handed out.
 * - **Filled when a CPU is idle, politely.** A kernel thread of SCHED_IDLE
 *   policy fills it, so a CPU with other work zeroes for it only at
 *   SCHED_IDLE's small weight. It never reclaims, nor wakes kswapd, and
 *   takes a chunk only while the zones it can come from keep twice their
 *   high watermarks free besides it.
 * - **Paid for by the caller.** No exported interface moves a page's
 *   charge to another memory cgroup, so the pool charges a chunk when it
 *   takes it, to the cgroup of the callers it refills for
 *   (set_active_memcg() and __GFP_ACCOUNT), keeps it on that cgroup's
 *   list (a memcg-aware list_lru) and hands it to the tasks of that
 *   cgroup only. A cgroup pays for its own pool then, as for its page
 *   cache: it sees it in memory.current, its own reclaim takes it back
 *   (the shrinker is memcg aware), and the pool fills a cgroup's list
 *   only while every cgroup from it up has pool_size bytes of room left
 *   below memory.high and memory.max besides the chunk. The node counts
 *   the pool as reclaimable kernel memory (KReclaimable, MemAvailable).
 *   RLIMIT_MEMLOCK is charged when a chunk is handed out, as for any page
 *   (memalloc_block_prepare()).
 * - **Bounded, and shared.** The module parameter pool_size bounds the
 *   bytes in the pool, all cgroups' lists together; each cgroup's list
 *   may hold three quarters of it in 1 MiB chunks and a quarter in 64 KiB
 *   ones. A cgroup refilled when the pool is full evicts other cgroups'
 *   chunks, one chunk's worth a refill, of the size its tasks asked for
 *   first, so no cgroup keeps the pool from the others (nor does a
 *   removed one, whose chunks its parent inherits), and cgroups taking in
 *   turn share it by what they take. A lower pool_size frees chunks down
 *   to it at once; 0 turns it off.
 * - **Refilled on demand.** A cgroup is queued for the thread when one of
 *   its tasks took a chunk or found none and its list is short; up to
 *   MEMALLOC_POOL_QUEUE cgroups wait, first come first served, and the
 *   sizes they asked for are filled first.
 * - **Placed as the page allocator would.** A chunk comes from one node,
 *   as does the object that lists it (so a node's reclaim finds the
 *   node's chunks), only while that node has memory plainly spare; a
 *   task takes its own node's chunks first. A task with a memory policy
 *   of its own or a cpuset short of some nodes takes none: its pages come
 *   from the page allocator, which applies them.
 * - **Given back** by the shrinker under memory pressure, the machine's
 *   or a cgroup's; after the machine's (as the shrinker tells it: a call
 *   for the root cgroup, or one while the node is short of free memory),
 *   the thread waits MEMALLOC_POOL_BACKOFF before it takes more. And when
 *   the module goes.
 *
 * An allocation that finds no chunk takes memory from the page allocator
 * as before, and pays only the look at the cgroup's list.
 */

/* The chunks' orders, and the quarters of pool_size each may fill. */
static const unsigned int memalloc_pool_orders[] = { 8, 4 };
static const unsigned int memalloc_pool_quarters[] = { 3, 1 };
#define MEMALLOC_POOL_NR_ORDERS	ARRAY_SIZE(memalloc_pool_orders)
/* Cgroups waiting for the thread to fill their lists, served in order. */
#define MEMALLOC_POOL_QUEUE	8
/* How long after a shrink the thread takes no memory. */
#define MEMALLOC_POOL_BACKOFF	HZ
/* Chunks freed at once, between reschedules. */
#define MEMALLOC_POOL_BATCH	64UL
/* What the thread asks the page allocator for: free memory, zeroed. */
#define MEMALLOC_POOL_GFP \
	MEMALLOC_FREE_NOW(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT | __GFP_NORETRY)
/* Evict any cgroup's chunks (memalloc_pool_evict()). */
#define MEMALLOC_POOL_ANY	((const void *)1)

/**
 * struct memalloc_pool_chunk - a chunk in the pool
 * @lru: on its cgroup's list of its order; the object is charged to that
 *       cgroup, which is how list_lru_add() knows the list
 * @page: the chunk, not split, zero
 * @order: its order
 * @owner: the cgroup it was taken for, only ever compared: a cgroup does
 *         not evict its own chunks to make room for itself
 */
struct memalloc_pool_chunk {
	struct list_head lru;
	struct page *page;
	unsigned int order;
	const void *owner;
};

static unsigned long pool_size = 16UL << 20;

static struct kmem_cache *memalloc_pool_cache;
static struct list_lru memalloc_pool_lru[MEMALLOC_POOL_NR_ORDERS];
static struct shrinker *memalloc_pool_shrinker;
static struct task_struct *memalloc_pool_thread;
/*
 * Set once the lists and the thread exist, cleared when the module goes
 * (under kernel_param_lock(), as pool_size's writes): the shrinker and
 * the parameter look at the lists only while it is set.
 */
static bool memalloc_pool_ready;

static DECLARE_WAIT_QUEUE_HEAD(memalloc_pool_wait);
static DEFINE_SPINLOCK(memalloc_pool_queue_lock);
/*
 * The cgroups to refill for (NULL: no memory cgroups), a reference each,
 * and the order indexes their tasks asked for, a bit each.
 */
static struct memalloc_pool_request {
	struct mem_cgroup *memcg;
	unsigned int orders;
} memalloc_pool_queue[MEMALLOC_POOL_QUEUE];
static unsigned int memalloc_pool_queued;	/* under the queue lock */
static unsigned long memalloc_pool_shrunk_at;	/* jiffies */

/* Pages in the pool, by order, and what the statistics show. */
static atomic_long_t memalloc_pool_pages = ATOMIC_LONG_INIT(0);
static atomic_long_t memalloc_pool_chunks[MEMALLOC_POOL_NR_ORDERS];
static atomic64_t memalloc_pool_hits = ATOMIC64_INIT(0);
static atomic64_t memalloc_pool_misses = ATOMIC64_INIT(0);
static atomic64_t memalloc_pool_filled = ATOMIC64_INIT(0);
static atomic64_t memalloc_pool_shrunk = ATOMIC64_INIT(0);
static atomic64_t memalloc_pool_evicted = ATOMIC64_INIT(0);

static int memalloc_pool_index(unsigned int order)
{
	unsigned int i;

	for (i = 0; i < MEMALLOC_POOL_NR_ORDERS; i++)
		if (memalloc_pool_orders[i] == order)
			return i;
	return -1;
}

/*
 * A chunk comes into the pool or leaves it: the pool's counts, and the
 * node's reclaimable kernel memory (KReclaimable, and so MemAvailable, in
 * /proc/meminfo), which the shrinker makes true.
 */
static void memalloc_pool_account(struct memalloc_pool_chunk *chunk, long sign)
{
	long n = sign << chunk->order;

	atomic_long_add(n, &memalloc_pool_pages);
	atomic_long_add(sign, &memalloc_pool_chunks[memalloc_pool_index(chunk->order)]);
	mod_node_page_state(page_pgdat(chunk->page), NR_KERNEL_MISC_RECLAIMABLE, n);
}

static enum lru_status memalloc_pool_isolate(struct list_head *item,
					     struct list_lru_one *list,
					     spinlock_t *lock, void *dispose)
{
	list_lru_isolate_move(list, item, dispose);
	return LRU_REMOVED;
}

/* Free chunks taken off the lists, rescheduling if @may_sleep: the pages freed. */
static unsigned long memalloc_pool_dispose(struct list_head *dispose, bool may_sleep)
{
	struct memalloc_pool_chunk *chunk, *next;
	unsigned long n = 0, k = 0;

	list_for_each_entry_safe(chunk, next, dispose, lru) {
		memalloc_pool_account(chunk, -1);
		n += 1UL << chunk->order;
		__free_pages(chunk->page, chunk->order);
		kmem_cache_free(memalloc_pool_cache, chunk);
		if (may_sleep && !(++k % MEMALLOC_POOL_BATCH))
			cond_resched();
	}
	INIT_LIST_HEAD(dispose);
	return n;
}

/* What memalloc_pool_evict() takes, and from whom. */
struct memalloc_pool_eviction {
	struct list_head dispose;
	const void *spare;	/* whose chunks stay, or MEMALLOC_POOL_ANY */
	unsigned long want;	/* pages */
	unsigned long got;
	unsigned long walk;	/* the walk's budget, 0 once @want is had */
};

static enum lru_status memalloc_pool_isolate_other(struct list_head *item,
						   struct list_lru_one *list,
						   spinlock_t *lock, void *arg)
{
	struct memalloc_pool_chunk *chunk =
		container_of(item, struct memalloc_pool_chunk, lru);
	struct memalloc_pool_eviction *ev = arg;

	if (chunk->owner == ev->spare)
		return LRU_SKIP;
	list_lru_isolate_move(list, item, &ev->dispose);
	ev->got += 1UL << chunk->order;
	/* Enough: the walker looks at its budget before the next item. */
	if (ev->got >= ev->want)
		ev->walk = 0;
	return LRU_REMOVED;
}

/*
 * Free at least @want pages of chunks of every cgroup but @spare's (all
 * with MEMALLOC_POOL_ANY), chunks of order index @first first, then the
 * others.
 * Context: process context; sleeps.
 * Return: the pages freed.
 */
static unsigned long memalloc_pool_evict(const void *spare, unsigned long want,
					 unsigned int first)
{
	struct memalloc_pool_eviction ev = {
		.dispose = LIST_HEAD_INIT(ev.dispose),
		.spare = spare,
		.want = want,
	};
	unsigned long freed = 0;
	unsigned int i, k;
	int nid;

	for (k = 0; k < MEMALLOC_POOL_NR_ORDERS; k++) {
		i = (first + k) % MEMALLOC_POOL_NR_ORDERS;
		for_each_node(nid) {
			ev.walk = ULONG_MAX;
			list_lru_walk_node(&memalloc_pool_lru[i], nid,
					   memalloc_pool_isolate_other, &ev, &ev.walk);
			freed += memalloc_pool_dispose(&ev.dispose, true);
			if (ev.got >= want)
				return freed;
		}
	}
	return freed;
}

static int memalloc_pool_set_size(const char *val, const struct kernel_param *kp)
{
	unsigned long bytes, pages;
	int ret;

	ret = memalloc_parse_bytes(val, &bytes);
	if (ret)
		return ret;
	/* At most half of RAM: the rest is the machine's. */
	if (bytes > (totalram_pages() << PAGE_SHIFT) / 2)
		return -EINVAL;
	WRITE_ONCE(pool_size, bytes);
	/*
	 * Down to the new size at once (the writer holds kernel_param_lock()).
	 * Pairs with memalloc_pool_add()'s barrier: either this sees the
	 * thread's new chunk, or the thread sees the new size.
	 */
	smp_mb();
	pages = atomic_long_read(&memalloc_pool_pages);
	if (READ_ONCE(memalloc_pool_ready) && pages > bytes >> PAGE_SHIFT)
		atomic64_add(memalloc_pool_evict(MEMALLOC_POOL_ANY,
						 pages - (bytes >> PAGE_SHIFT), 0) >> 4,
			     &memalloc_pool_evicted);
	return 0;
}

static const struct kernel_param_ops memalloc_pool_size_ops = {
	.set = memalloc_pool_set_size,
	.get = param_get_ulong,
};

module_param_cb(pool_size, &memalloc_pool_size_ops, &pool_size, 0644);
MODULE_PARM_DESC(pool_size,
		 "Bytes of memory kept zeroed ahead of time for PINNED and CONTINUOUS dataspaces (default 16M; 0: none)");

/* The calling task's memory cgroup, which __GFP_ACCOUNT charges, held. */
static struct mem_cgroup *memalloc_pool_memcg(void)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *memcg;

	rcu_read_lock();
	do {
		memcg = mem_cgroup_from_task(current);
	} while (memcg && !css_tryget(&memcg->css));
	rcu_read_unlock();
	return memcg;
#else
	return NULL;
#endif
}

/* The chunks of order index @i on @memcg's lists, on every node. */
static unsigned long memalloc_pool_count_of(unsigned int i, struct mem_cgroup *memcg)
{
	unsigned long n = 0;
	int nid;

	for_each_node(nid)
		n += list_lru_count_one(&memalloc_pool_lru[i], nid, memcg);
	return n;
}

/* Whether @memcg's list of order index @i is below its share of the pool. */
static bool memalloc_pool_short(unsigned int i, struct mem_cgroup *memcg)
{
	unsigned long share = (READ_ONCE(pool_size) >> PAGE_SHIFT) / 4 *
			      memalloc_pool_quarters[i];

	return (memalloc_pool_count_of(i, memcg) + 1) << memalloc_pool_orders[i] <= share;
}

/*
 * Queue @memcg for a refill of the order indexes @orders (a bit each),
 * taking over the caller's reference.
 */
static void memalloc_pool_want(struct mem_cgroup *memcg, unsigned int orders)
{
	bool queued = false;
	unsigned int i;

	spin_lock(&memalloc_pool_queue_lock);
	for (i = 0; i < memalloc_pool_queued; i++)
		if (memalloc_pool_queue[i].memcg == memcg)
			break;
	if (i < memalloc_pool_queued) {
		memalloc_pool_queue[i].orders |= orders;
	} else if (i < MEMALLOC_POOL_QUEUE) {
		memalloc_pool_queue[i].memcg = memcg;
		memalloc_pool_queue[i].orders = orders;
		memalloc_pool_queued++;
		queued = true;
	}
	spin_unlock(&memalloc_pool_queue_lock);
	if (queued)
		wake_up(&memalloc_pool_wait);
	else
		mem_cgroup_put(memcg);
}

/*
 * Whether the calling task lets the page allocator place its memory
 * anywhere: no memory policy of its own (set_mempolicy()), and a cpuset
 * with every node that has memory below ZONE_MOVABLE, where the pool's
 * chunks may be.
 */
static bool memalloc_pool_may_place(void)
{
#ifdef CONFIG_NUMA
	if (current->mempolicy)
		return false;
#endif
	return nodes_subset(node_states[N_NORMAL_MEMORY], cpuset_current_mems_allowed);
}

/**
 * memalloc_pool_take() - a zeroed chunk for the caller, if the pool has one
 * @order: the chunk's order
 *
 * The chunk is charged to the calling task's memory cgroup already (see
 * "DOC: the pool"); it is not split. The cgroup is queued for a refill if
 * its list is short. A task with a memory policy or a cpuset that keeps
 * its memory to some nodes gets none: the page allocator places its pages.
 *
 * Context: process context.
 * Return: the chunk, zero, or NULL.
 */
struct page *memalloc_pool_take(unsigned int order)
{
	int i = memalloc_pool_index(order), nid, start, k;
	struct memalloc_pool_chunk *chunk;
	struct page *page = NULL;
	struct mem_cgroup *memcg;
	unsigned long walk;
	LIST_HEAD(taken);

	if (i < 0 || !READ_ONCE(memalloc_pool_ready) || !READ_ONCE(pool_size) ||
	    !memalloc_pool_may_place())
		return NULL;
	memcg = memalloc_pool_memcg();
	/* This CPU's node first. */
	start = numa_node_id();
	for (k = 0; k < nr_node_ids && list_empty(&taken); k++) {
		nid = (start + k) % nr_node_ids;
		if (!node_online(nid))
			continue;
		walk = 1;
		list_lru_walk_one(&memalloc_pool_lru[i], nid, memcg,
				  memalloc_pool_isolate, &taken, &walk);
	}
	chunk = list_first_entry_or_null(&taken, struct memalloc_pool_chunk, lru);
	if (chunk) {
		page = chunk->page;
		memalloc_pool_account(chunk, -1);
		kmem_cache_free(memalloc_pool_cache, chunk);
		atomic64_inc(&memalloc_pool_hits);
	} else {
		atomic64_inc(&memalloc_pool_misses);
	}
	if (memalloc_pool_short(i, memcg))
		memalloc_pool_want(memcg, BIT(i));
	else
		mem_cgroup_put(memcg);
	return page;
}

/*
 * Whether the zones of node @nid these chunks can come from (not
 * ZONE_MOVABLE, not CMA pageblocks) keep twice their high watermarks free
 * besides @chunk pages: kswapd is not woken for the pool, so it takes only
 * what is plainly spare.
 */
static bool memalloc_pool_free_enough(int nid, unsigned long chunk)
{
	long free = 0, high = 0;
	struct zone *zone;
	int zi;

	for (zi = 0; zi <= ZONE_NORMAL; zi++) {
		zone = &NODE_DATA(nid)->node_zones[zi];
		if (!populated_zone(zone))
			continue;
		/* Per-CPU drift can make the difference negative for a while. */
		free += max(0L, (long)zone_page_state(zone, NR_FREE_PAGES) -
				(long)zone_page_state(zone, NR_FREE_CMA_PAGES));
		high += high_wmark_pages(zone);
	}
	return free > 2 * high + (long)chunk;
}

/*
 * Whether the thread may take another chunk of order index @i for
 * @memcg: its list is short, no shrink came within the back-off (else
 * *@backed_off), the cgroups have room, and the pool stays within
 * pool_size, other cgroups' chunks evicted if need be (of the same order
 * first), once a fill (*@evicted). Only this thread adds chunks: the
 * bound holds. memalloc_pool_add() looks again at the free memory of
 * the node the chunk is taken from.
 */
static bool memalloc_pool_may_add(unsigned int i, struct mem_cgroup *memcg,
				  bool *evicted, bool *backed_off)
{
	unsigned long size = READ_ONCE(pool_size) >> PAGE_SHIFT;
	unsigned long chunk = 1UL << memalloc_pool_orders[i], pages;

	if (!memalloc_pool_short(i, memcg))
		return false;
	/* A shrink while filling stops the fill too; it goes on later. */
	if (time_before(jiffies, READ_ONCE(memalloc_pool_shrunk_at) + MEMALLOC_POOL_BACKOFF)) {
		*backed_off = true;
		return false;
	}
	if (!memalloc_memcg_room(memcg, chunk + size))
		return false;
	/* No eviction for a chunk this node has no spare memory for. */
	if (!memalloc_pool_free_enough(numa_node_id(), chunk))
		return false;
	pages = atomic_long_read(&memalloc_pool_pages);
	if (pages + chunk > size) {
		/*
		 * One eviction a fill: a cgroup's share grows by what its
		 * tasks take, so two cgroups taking in turn do not zero the
		 * whole pool for each other at every turn.
		 */
		if (*evicted)
			return false;
		*evicted = true;
		pages = memalloc_pool_evict(memcg, pages + chunk - size, i);
		atomic64_add(pages >> 4, &memalloc_pool_evicted);
	}
	return atomic_long_read(&memalloc_pool_pages) + chunk <= size;
}

/*
 * One more chunk of order index @i, for the active memory cgroup @memcg,
 * from the node of its tracking object: list_lru_add() files an item
 * under the node its object is on, and the shrinker of a node must find
 * that node's chunks there.
 */
static bool memalloc_pool_add(unsigned int i, struct mem_cgroup *memcg)
{
	unsigned int order = memalloc_pool_orders[i];
	unsigned long size, pages;
	struct memalloc_pool_chunk *chunk;
	struct page *page = NULL;
	int nid;

	chunk = kmem_cache_alloc_lru(memalloc_pool_cache, &memalloc_pool_lru[i],
				     MEMALLOC_FREE_NOW(GFP_KERNEL_ACCOUNT));
	if (!chunk)
		return false;
	nid = page_to_nid(virt_to_page(chunk));
	if (memalloc_pool_free_enough(nid, 1UL << order))
		page = alloc_pages_node(nid, MEMALLOC_POOL_GFP | __GFP_THISNODE, order);
	if (!page) {
		kmem_cache_free(memalloc_pool_cache, chunk);
		return false;
	}
	chunk->page = page;
	chunk->order = order;
	chunk->owner = memcg;
	INIT_LIST_HEAD(&chunk->lru);
	memalloc_pool_account(chunk, 1);
	memalloc_list_lru_add_obj(&memalloc_pool_lru[i], &chunk->lru);
	atomic64_inc(&memalloc_pool_filled);
	/*
	 * pool_size may have been lowered since memalloc_pool_may_add() read
	 * it, its writer's trim done before this chunk was listed: pairs with
	 * the barrier in memalloc_pool_set_size().
	 */
	smp_mb();
	size = READ_ONCE(pool_size) >> PAGE_SHIFT;
	pages = atomic_long_read(&memalloc_pool_pages);
	if (pages > size) {
		pages = memalloc_pool_evict(MEMALLOC_POOL_ANY, pages - size, 0);
		atomic64_add(pages >> 4, &memalloc_pool_evicted);
		return false;
	}
	return true;
}

/*
 * Fill @memcg's lists, those of the order indexes in @orders first: only
 * they may evict. Return: whether a shrink's back-off cut it short.
 */
static bool memalloc_pool_fill(struct mem_cgroup *memcg, unsigned int orders)
{
	bool evicted = false, backed_off = false, second;
	struct mem_cgroup *old;
	unsigned int i, k;

	if (memcg && !mem_cgroup_online(memcg))
		return false;
	old = set_active_memcg(memcg);
	/* The orders asked for in the first round, the others in the second. */
	for (k = 0; k < 2 * MEMALLOC_POOL_NR_ORDERS; k++) {
		i = k % MEMALLOC_POOL_NR_ORDERS;
		second = k >= MEMALLOC_POOL_NR_ORDERS;
		if (!!(orders & BIT(i)) == second)
			continue;
		if (second)
			evicted = true;
		while (!kthread_should_stop() &&
		       memalloc_pool_may_add(i, memcg, &evicted, &backed_off) &&
		       memalloc_pool_add(i, memcg)) {
			cond_resched();
			try_to_freeze();
		}
	}
	set_active_memcg(old);
	return backed_off;
}

static bool memalloc_pool_work(void)
{
	return READ_ONCE(memalloc_pool_queued) || kthread_should_stop();
}

static int memalloc_pool_fn(void *unused)
{
	struct sched_attr attr = {
		.size = sizeof(attr),
		.sched_policy = SCHED_IDLE,
	};
	struct memalloc_pool_request req;
	long left;
	bool got;

	sched_setattr_nocheck(current, &attr);
	set_freezable();
	while (!kthread_should_stop()) {
		wait_event_freezable(memalloc_pool_wait, memalloc_pool_work());
		/* After a shrink, the requests wait out the back-off. */
		left = (long)(READ_ONCE(memalloc_pool_shrunk_at) +
			      MEMALLOC_POOL_BACKOFF - jiffies);
		if (left > 0) {
			wait_event_freezable_timeout(memalloc_pool_wait,
						     kthread_should_stop(), left);
			continue;
		}
		/* First come, first served. */
		spin_lock(&memalloc_pool_queue_lock);
		got = memalloc_pool_queued;
		if (got) {
			req = memalloc_pool_queue[0];
			memmove(memalloc_pool_queue, memalloc_pool_queue + 1,
				--memalloc_pool_queued * sizeof(*memalloc_pool_queue));
		}
		spin_unlock(&memalloc_pool_queue_lock);
		if (!got)
			continue;
		/* A fill the back-off cut short goes on after it. */
		if (memalloc_pool_fill(req.memcg, req.orders))
			memalloc_pool_want(req.memcg, req.orders);
		else
			mem_cgroup_put(req.memcg);
	}
	return 0;
}

/* The pages in the pool of sc's cgroup and node. */
static unsigned long memalloc_pool_count(struct shrinker *s, struct shrink_control *sc)
{
	unsigned long n = 0;
	unsigned int i;

	/* Pairs with memalloc_pool_init()'s release: the lists are made. */
	if (!smp_load_acquire(&memalloc_pool_ready))
		return 0;
	for (i = 0; i < MEMALLOC_POOL_NR_ORDERS; i++)
		n += list_lru_shrink_count(&memalloc_pool_lru[i], sc) <<
		     memalloc_pool_orders[i];
	return n ?: SHRINK_EMPTY;
}

/* Free sc->nr_to_scan pages or more of sc's cgroup and node, small chunks first. */
static unsigned long memalloc_pool_scan(struct shrinker *s, struct shrink_control *sc)
{
	unsigned long freed = 0, walk;
	LIST_HEAD(dispose);
	int i;

	/*
	 * The machine's reclaim holds every refill back for a while; a
	 * cgroup's own holds back no one else's (its room check keeps the
	 * pool from refilling into its pressure). The shrinker is not told
	 * which one calls it: the machine's is a call for the root cgroup
	 * (and any without cgroups), or one where the node is short of
	 * free memory.
	 */
	if (!sc->memcg || !parent_mem_cgroup(sc->memcg) ||
	    !memalloc_pool_free_enough(sc->nid, 0))
		WRITE_ONCE(memalloc_pool_shrunk_at, jiffies);
	for (i = MEMALLOC_POOL_NR_ORDERS - 1; i >= 0 && freed < sc->nr_to_scan; i--) {
		walk = DIV_ROUND_UP(sc->nr_to_scan - freed,
				    1UL << memalloc_pool_orders[i]);
		list_lru_walk_one(&memalloc_pool_lru[i], sc->nid, sc->memcg,
				  memalloc_pool_isolate, &dispose, &walk);
		freed += memalloc_pool_dispose(&dispose, false);
	}
	atomic64_add(freed, &memalloc_pool_shrunk);
	return freed ?: SHRINK_STOP;
}

/**
 * memalloc_pool_show() - the pool's lines of debugfs's "pool"
 * @m: the file
 *
 * A header, then: the bytes in the pool, pool_size, its 1 MiB and 64 KiB
 * chunks, the chunks handed out (hits), the allocations of a chunk's order
 * that found none (misses), the chunks the thread took (filled), the
 * pages the shrinker gave back (shrunk), and the 64 KiB units evicted for
 * another cgroup or a lower pool_size (evicted).
 *
 * Context: process context.
 */
void memalloc_pool_show(struct seq_file *m)
{
	seq_puts(m, "bytes size chunks_1M chunks_64K hits misses filled shrunk evicted\n");
	seq_printf(m, "%lu %lu %ld %ld %lld %lld %lld %lld %lld\n",
		   atomic_long_read(&memalloc_pool_pages) << PAGE_SHIFT,
		   READ_ONCE(pool_size), atomic_long_read(&memalloc_pool_chunks[0]),
		   atomic_long_read(&memalloc_pool_chunks[1]),
		   atomic64_read(&memalloc_pool_hits),
		   atomic64_read(&memalloc_pool_misses),
		   atomic64_read(&memalloc_pool_filled),
		   atomic64_read(&memalloc_pool_shrunk),
		   atomic64_read(&memalloc_pool_evicted));
}

/**
 * memalloc_pool_init() - make the pool's lists, shrinker and thread
 *
 * Context: module init.
 * Return: 0 or a negative errno.
 */
int memalloc_pool_init(void)
{
	unsigned int i;
	int ret = -ENOMEM;

	memalloc_pool_shrunk_at = jiffies - MEMALLOC_POOL_BACKOFF;
	memalloc_pool_cache = KMEM_CACHE(memalloc_pool_chunk, SLAB_ACCOUNT);
	if (!memalloc_pool_cache)
		return -ENOMEM;
	memalloc_pool_shrinker = memalloc_shrinker_new("memalloc-pool",
						       memalloc_pool_count,
						       memalloc_pool_scan);
	if (!memalloc_pool_shrinker)
		goto out_cache;
	for (i = 0; i < MEMALLOC_POOL_NR_ORDERS; i++) {
		ret = list_lru_init_memcg(&memalloc_pool_lru[i], memalloc_pool_shrinker);
		if (ret)
			goto out_lru;
	}
	memalloc_shrinker_register(memalloc_pool_shrinker);
	/* The lists are made before a shrinker or a caller looks at them. */
	smp_store_release(&memalloc_pool_ready, true);
	memalloc_pool_thread = kthread_run(memalloc_pool_fn, NULL, "memalloc_pool");
	if (IS_ERR(memalloc_pool_thread)) {
		ret = PTR_ERR(memalloc_pool_thread);
		memalloc_pool_thread = NULL;
		memalloc_pool_exit();
		return ret;
	}
	return 0;

out_lru:
	while (i--)
		list_lru_destroy(&memalloc_pool_lru[i]);
	memalloc_shrinker_free(memalloc_pool_shrinker);
out_cache:
	kmem_cache_destroy(memalloc_pool_cache);
	return ret;
}

/**
 * memalloc_pool_exit() - give every chunk back and remove the pool
 *
 * Context: module exit, after the last dataspace went (no caller takes
 * chunks any more).
 */
void memalloc_pool_exit(void)
{
	unsigned int i;

	if (memalloc_pool_thread)
		kthread_stop(memalloc_pool_thread);
	while (memalloc_pool_queued)
		mem_cgroup_put(memalloc_pool_queue[--memalloc_pool_queued].memcg);
	/* No pool_size write looks at the lists from here on. */
	kernel_param_lock(THIS_MODULE);
	WRITE_ONCE(memalloc_pool_ready, false);
	kernel_param_unlock(THIS_MODULE);
	memalloc_shrinker_free(memalloc_pool_shrinker);
	memalloc_pool_evict(MEMALLOC_POOL_ANY, ULONG_MAX, 0);
	for (i = 0; i < MEMALLOC_POOL_NR_ORDERS; i++)
		list_lru_destroy(&memalloc_pool_lru[i]);
	kmem_cache_destroy(memalloc_pool_cache);
}
