/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memalloc: what differs between the kernel series memalloc builds for,
 * Debian's 6.1 and 6.12, behind helpers named after what they do. Kernel
 * versions are named here and nowhere else.
 */
#ifndef _MEMALLOC_COMPAT_H
#define _MEMALLOC_COMPAT_H

#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <linux/list_lru.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/version.h>

/* Whether the kernel built against is release @major.@minor or later. */
#define MEMALLOC_KERNEL_SINCE(major, minor) \
	(KERNEL_VERSION(major, minor, 0) <= LINUX_VERSION_CODE)

/*
 * The pages of a zone's high-atomic reserve that its watermark check
 * leaves out for an allocation without access to it: 6.12 counts the
 * reserve's free pages, 6.1 the whole reserve.
 */
static inline long memalloc_zone_highatomic(const struct zone *zone)
{
#if MEMALLOC_KERNEL_SINCE(6, 12)
	return READ_ONCE(zone->nr_free_highatomic);
#else
	return READ_ONCE(zone->nr_reserved_highatomic);
#endif
}

/*
 * vm_flags became read-only in 6.3: vm_flags_set() and vm_flags_clear()
 * also take the vma's write lock.
 */
static inline void memalloc_vma_set_flags(struct vm_area_struct *vma,
					  vm_flags_t flags)
{
#if MEMALLOC_KERNEL_SINCE(6, 3)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

static inline void memalloc_vma_clear_flags(struct vm_area_struct *vma,
					    vm_flags_t flags)
{
#if MEMALLOC_KERNEL_SINCE(6, 3)
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/* Change a private inode's attributes (idmapped mounts changed it in 6.3). */
static inline int memalloc_notify_change(struct dentry *dentry,
					 struct iattr *attr)
{
#if MEMALLOC_KERNEL_SINCE(6, 3)
	return notify_change(&nop_mnt_idmap, dentry, attr, NULL);
#else
	return notify_change(&init_user_ns, dentry, attr, NULL);
#endif
}

/*
 * The largest order the page allocator hands out: MAX_ORDER was one past
 * it until 6.4, and is MAX_PAGE_ORDER, the order itself, since 6.8.
 */
#ifdef MAX_PAGE_ORDER
#define MEMALLOC_MAX_ORDER	MAX_PAGE_ORDER
#else
#define MEMALLOC_MAX_ORDER	(MAX_ORDER - 1)
#endif

/*
 * io_uring registered fixed buffers from shmem and hugetlbfs mappings only
 * until 6.5; since then it leaves the choice to get_user_pages().
 */
#define MEMALLOC_IO_URING_SHMEM_ONLY	(!MEMALLOC_KERNEL_SINCE(6, 5))

/*
 * Huge pfnmap (6.12): a VM_PFNMAP vma takes 2 MiB and 1 GiB entries from
 * its huge_fault handler, huge_fault(vmf, order), and get_user_pages()
 * refuses them cleanly. Contiguous super pages are mapped so.
 */
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
#define MEMALLOC_HUGE_PFNMAP		1
#else
#define MEMALLOC_HUGE_PFNMAP		0
#endif
#ifdef CONFIG_ARCH_SUPPORTS_PUD_PFNMAP
#define MEMALLOC_HUGE_PFNMAP_PUD	1
#else
#define MEMALLOC_HUGE_PFNMAP_PUD	0
#endif

/*
 * 6.12's mremap() looks up the old PUD with pud_none_or_clear_bad(), and
 * on x86 a leaf PUD is "bad" there: moving a vma clears its 1 GiB entries
 * without a TLB flush, and the memory could go back while a CPU still
 * reaches it. mremap() calls the vm_ops' open() on the vma's copy before
 * it moves the entries, so that open() zaps them first, properly.
 */
#define MEMALLOC_MREMAP_LOSES_PUDS	MEMALLOC_HUGE_PFNMAP_PUD

/*
 * A kernel mapping of a dma-buf, for an importer holding no lock: until
 * 6.2 dma_buf_vmap() takes the dma-buf's own mutex; since then it wants
 * the buffer's reservation lock held, which the _unlocked variants take.
 * (The test importer's; memalloc's exporter is called under either.)
 */
static inline int memalloc_dma_buf_vmap_unlocked(struct dma_buf *dmabuf,
						 struct iosys_map *map)
{
#if MEMALLOC_KERNEL_SINCE(6, 2)
	return dma_buf_vmap_unlocked(dmabuf, map);
#else
	return dma_buf_vmap(dmabuf, map);
#endif
}

static inline void memalloc_dma_buf_vunmap_unlocked(struct dma_buf *dmabuf,
						    struct iosys_map *map)
{
#if MEMALLOC_KERNEL_SINCE(6, 2)
	dma_buf_vunmap_unlocked(dmabuf, map);
#else
	dma_buf_vunmap(dmabuf, map);
#endif
}

/*
 * Shrinkers: registered from a caller's struct by register_shrinker()
 * until 6.7, allocated by shrinker_alloc() since. A memcg-aware list_lru
 * needs its shrinker's id: on 6.1 only registering assigns it, so there
 * the shrinker is live from memalloc_shrinker_new() on (its count must
 * cope), and memalloc_shrinker_register() does nothing.
 */
typedef unsigned long (*memalloc_shrink_fn)(struct shrinker *s,
					    struct shrink_control *sc);

static inline struct shrinker *memalloc_shrinker_new(const char *name,
						     memalloc_shrink_fn count,
						     memalloc_shrink_fn scan)
{
	unsigned int flags = SHRINKER_NUMA_AWARE | SHRINKER_MEMCG_AWARE;
	struct shrinker *s;

#if MEMALLOC_KERNEL_SINCE(6, 7)
	s = shrinker_alloc(flags, "%s", name);
#else
	s = kzalloc(sizeof(*s), GFP_KERNEL);
#endif
	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = 1;	/* made again at the cost of zeroing only */
#if !MEMALLOC_KERNEL_SINCE(6, 7)
	s->flags = flags;
	if (register_shrinker(s, "%s", name)) {
		kfree(s);
		return NULL;
	}
#endif
	return s;
}

static inline void memalloc_shrinker_register(struct shrinker *s)
{
#if MEMALLOC_KERNEL_SINCE(6, 7)
	shrinker_register(s);
#endif
}

static inline void memalloc_shrinker_free(struct shrinker *s)
{
#if MEMALLOC_KERNEL_SINCE(6, 7)
	shrinker_free(s);
#else
	unregister_shrinker(s);
	kfree(s);
#endif
}

/*
 * Put @item, a slab object, on the list of the memory cgroup it is
 * charged to: list_lru_add() found that cgroup itself until 6.8.
 */
static inline bool memalloc_list_lru_add_obj(struct list_lru *lru,
					     struct list_head *item)
{
#if MEMALLOC_KERNEL_SINCE(6, 8)
	return list_lru_add_obj(lru, item);
#else
	return list_lru_add(lru, item);
#endif
}

#endif /* _MEMALLOC_COMPAT_H */
