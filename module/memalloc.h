/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memalloc: internal interfaces between the char device and the dataspaces.
 */
#ifndef _MEMALLOC_H
#define _MEMALLOC_H

#include <linux/dma-resv.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/memalloc.h>

struct dma_buf;
struct file;
struct inode;
struct mem_cgroup;
struct memalloc_allocator;
struct memalloc_charge;
struct memalloc_ds;
struct memalloc_handle;
struct page;
struct seq_file;
struct vm_area_struct;

/* Fail a charge over the memory cgroup's limit, do not OOM-kill. */
#define MEMALLOC_POPULATE_GFP (GFP_HIGHUSER_MOVABLE | __GFP_RETRY_MAYFAIL | \
			       __GFP_NOWARN)
/* The module's own objects: ENOMEM at a limit too, never the OOM killer. */
#define MEMALLOC_OBJ_GFP (GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)
/*
 * @gfp for memory that is free now: no reclaim, no warning, and not from
 * the reserves below the min watermark, which 6.12 opens to any
 * allocation that cannot reclaim unless __GFP_NOMEMALLOC says no.
 */
#define MEMALLOC_FREE_NOW(gfp) \
	(((gfp) | __GFP_NOWARN | __GFP_NOMEMALLOC) & ~(__GFP_RECLAIM | __GFP_RETRY_MAYFAIL))
/*
 * The eager backings' pages: zeroed, charged to the caller's memory cgroup,
 * ENOMEM above its limit, not the OOM killer.
 */
#define MEMALLOC_LOW_ORDER_GFP (GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT | \
				__GFP_NOWARN | __GFP_RETRY_MAYFAIL)
/* Pages a loop handles at once, between reschedules. */
#define MEMALLOC_FAULT_BATCH	512UL
/* Kinds of dataspace, as MEMALLOC_KIND_* (a caching attribute aside). */
#define MEMALLOC_NR_KINDS	6

/**
 * struct memalloc_backing - where one kind of dataspace keeps its memory
 * @name: the backing's name
 * @eager: holds every page from MEMALLOC_ALLOC on, in @ds->pages
 * @init: make what the memory lives in, before the dataspace's first
 *        handle exists; or NULL
 * @alloc: take the memory, after the first handle exists (the kernel's
 *         objects first: see memalloc_ds_alloc()); or NULL
 * @release: give the memory and its charges back: at revocation (under
 *           ds->lock held for writing) and when the dataspace goes, also
 *           after a failed @alloc; a second call does nothing
 * @revoke: at revocation, after @release and outside ds->lock, make what
 *          is left unreachable (mappings zapped, faults SIGBUS); or NULL
 * @destroy: free what @init made; or NULL
 * @mmap: set up a CPU mapping (called without ds->lock, which it takes)
 * @page: page @index with a reference of the caller's, allocated (zeroed)
 *        and charged to the caller if absent; under ds->lock for reading,
 *        or with the dataspace held against revocation instead
 *        (memalloc_ds_hold(): see memalloc_hold_pages())
 * @read: copy @n bytes at @offset, within one page, to @buf; absent
 *        pages read as zero and stay absent; under ds->lock for reading
 * @punch: give back the whole pages of a range, zeroing it at its edges;
 *         outside ds->lock; NULL: the range is zeroed in place
 * @resident: the bytes of memory it holds now
 * @phys: the physical address of @offset and the bytes contiguous from
 *        there, up to the end; NULL where memory has no fixed address
 *
 * Every operation but @release, @revoke and @destroy runs on a live
 * dataspace only, under ds->lock for reading (or held, for @page) unless
 * told otherwise.
 */
struct memalloc_backing {
	const char *name;
	bool eager;
	int (*init)(struct memalloc_ds *ds);
	int (*alloc)(struct memalloc_ds *ds);
	void (*release)(struct memalloc_ds *ds);
	void (*revoke)(struct memalloc_ds *ds);
	void (*destroy)(struct memalloc_ds *ds);
	int (*mmap)(struct memalloc_handle *h, struct vm_area_struct *vma);
	struct page *(*page)(struct memalloc_ds *ds, pgoff_t index);
	int (*read)(struct memalloc_ds *ds, u64 offset, void *buf, unsigned int n);
	int (*punch)(struct memalloc_ds *ds, u64 offset, u64 len);
	u64 (*resident)(struct memalloc_ds *ds);
	void (*phys)(struct memalloc_ds *ds, u64 offset, u64 *addr, u64 *len);
};

/* The backings, one file each. */
extern const struct memalloc_backing memalloc_shmem_backing;
extern const struct memalloc_backing memalloc_shmem_pinned_backing;
extern const struct memalloc_backing memalloc_pages_backing;
extern const struct memalloc_backing memalloc_contig_backing;

/**
 * struct memalloc_ucmd - one ioctl call, as the handlers see it
 * @file: the allocator it came through: /dev/memalloc or a child
 * @ubuf: the caller's struct
 * @user_size: the size the caller gave in the struct's leading field
 * @cmd: the kernel's copy of the struct, zero-extended to the kernel's size
 */
struct memalloc_ucmd {
	struct file *file;
	void __user *ubuf;
	u32 user_size;
	void *cmd;
};

/**
 * struct memalloc_ds_origin - where a dataspace came from, for debugfs
 * @node: on the list of live dataspaces (see observe.c), from the end of
 *        memalloc_ds_new() until memalloc_ds_release()
 * @id: its number, from 1 up, never reused while the module is loaded;
 *      0 while it is not on the list
 * @pid: the allocating process, in the initial pid namespace
 * @comm: the allocating task's command then
 * @live: counted as live in the statistics: made, and not yet revoked
 */
struct memalloc_ds_origin {
	struct list_head node;
	u64 id;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	atomic_t live;
};

/**
 * struct memalloc_ds - a dataspace
 * @kref: one reference for each handle
 * @lock: guards the memory against revocation (see "DOC: Locking" in
 *        dataspace.c); @dead is set under it
 * @hold_lock: protects @attachments, and @dead's setting, inside @lock
 * @resv: the reservation object (fences) of all its handles' dma-bufs, so
 *        that a device's fence on one handle is seen through every other
 * @punching: clears punching holes now, which memalloc_ds_hold() waits for
 * @punch_wait: where it waits
 * @dead: revoked by MEMALLOC_FREE: no memory, every operation is ENODEV
 * @attachments: the holders of its memory (memalloc_ds_hold()): the device
 *               attachments and kernel mappings of all its handles, each
 *               from the start of its hold, waiting for punches included
 * @attach_lock: protects @attach_list and the handles' kernel mappings
 * @attach_list: the device attachments of all its handles, which CPU
 *               access syncs (struct memalloc_attachment)
 * @backing: where its memory lives, chosen by its flags
 * @inode: its inode on memalloc's pseudo file system, whose mapping every
 *         handle's file uses: block-backed mappings of all handles are
 *         on it, and revocation zaps them there
 * @memcg: the memory cgroup it was allocated from, which pays for lazy
 *         pages populated for a device
 * @shmem: the shmem file of lazy and PINNED SUPER_PAGES dataspaces
 * @pages: every page of an eager dataspace, once taken
 * @npages: the pages handed out: the byte size rounded up to (super)pages
 * @size: the exact byte size asked for
 * @flags: the MEMALLOC_* flags it was made with, caching attribute included
 * @align: log2 of its alignment, as MEMALLOC_ALLOC raised it
 * @caching_pages: the pages of @pages, from the first, whose mapping in the
 *                 kernel may have the caching attribute
 * @map_file: a read-only file of @shmem, which CPU mappings map, so that
 *            no one can punch holes into it through them (MADV_REMOVE)
 * @locked_user: the user charged for RLIMIT_MEMLOCK, or NULL
 * @pinned_mm: the mm whose pinned_vm (VmPin) shows the pages, or NULL
 * @charge: what its allocator's quota and the administrator's limits pay
 *          for it, given back at revocation or when its memory goes
 * @origin: its id and maker, and its place on debugfs's list (observe.c)
 */
struct memalloc_ds {
	struct kref kref;
	struct dma_resv resv;
	struct rw_semaphore lock;
	atomic_t punching;
	wait_queue_head_t punch_wait;
	bool dead;
	spinlock_t hold_lock;	/* @attachments, and setting @dead */
	unsigned int attachments;
	struct mutex attach_lock;	/* the attachments' list, the vmaps */
	struct list_head attach_list;
	const struct memalloc_backing *backing;
	struct inode *inode;
	struct mem_cgroup *memcg;
	struct file *shmem;
	struct page **pages;
	pgoff_t npages;
	u64 size;
	u32 flags;
	u32 align;
	pgoff_t caching_pages;
	struct file *map_file;
	struct user_struct *locked_user;
	struct mm_struct *pinned_mm;
	struct memalloc_charge *charge;
	struct memalloc_ds_origin origin;
};

/**
 * struct memalloc_handle - one fd of a dataspace: a dma-buf of its own
 * @ds: the dataspace, of which the handle holds a reference
 * @dmabuf: the dma-buf; its file is writable unless the handle is read-only
 * @writable: not a read-only handle
 * @vaddr: the dma-buf's kernel mapping (vmap), or NULL; under ds->attach_lock
 * @vmap_pages: the pages it maps, a reference each
 *
 * The handle lives as long as its dma-buf, which may outlive the dma-buf's
 * file (an O_PATH open keeps the dentry): nothing but the fd's own users
 * may look at @dmabuf->file.
 */
struct memalloc_handle {
	struct memalloc_ds *ds;
	struct dma_buf *dmabuf;
	bool writable;
	void *vaddr;
	struct page **vmap_pages;
};

/* main.c */
int memalloc_ucmd_respond(struct memalloc_ucmd *ucmd, size_t len);

/* allocator.c: allocators, quotas and the administrator's limits */
int memalloc_allocator_open(struct file *file);
void memalloc_allocator_release(struct file *file);
struct memalloc_allocator *memalloc_allocator_of(struct file *file);
void memalloc_allocator_put(struct memalloc_allocator *a);
u64 memalloc_allocator_id(const struct memalloc_allocator *a);
unsigned int memalloc_kind_index(u32 flags);
int memalloc_charge_new(struct memalloc_ds *ds, struct memalloc_allocator *a);
void memalloc_charge_give_back(struct memalloc_charge *c);
struct memalloc_charge *memalloc_charge_get(struct memalloc_charge *c);
void memalloc_charge_put(struct memalloc_charge *c);
u64 memalloc_charge_allocator_id(const struct memalloc_charge *c);
int memalloc_factory(struct memalloc_ucmd *ucmd);
int memalloc_quota(struct memalloc_ucmd *ucmd);
void memalloc_limits_init(void);
int memalloc_parse_bytes(const char *val, unsigned long *bytes);

/* dataspace.c: dataspaces and their lifetime */
struct file *memalloc_fs_file(const char *name, const struct file_operations *fops,
			      void *priv);
u32 memalloc_alloc_flags(void);
void memalloc_version_facts(struct memalloc_version *cmd);
unsigned int memalloc_ds_page_shift(const struct memalloc_ds *ds);
int memalloc_ds_lock_live(struct memalloc_ds *ds);
int memalloc_ds_hold(struct memalloc_ds *ds);
void memalloc_ds_unhold(struct memalloc_ds *ds);
bool memalloc_ds_punch_begin(struct memalloc_ds *ds);
void memalloc_ds_punch_end(struct memalloc_ds *ds);
void memalloc_ds_put(struct memalloc_ds *ds);
int memalloc_ds_alloc(struct memalloc_ucmd *ucmd);
int memalloc_ds_dup(struct memalloc_ucmd *ucmd);
int memalloc_ds_free(struct memalloc_ucmd *ucmd);
int memalloc_ds_init(void);
void memalloc_ds_exit(void);

/* dmabuf.c: handles, each a dma-buf */
struct dma_buf *memalloc_handle_new(struct memalloc_ds *ds, bool writable);
struct memalloc_handle *memalloc_handle_get(int fd);
void memalloc_handle_put(struct memalloc_handle *h);
struct memalloc_handle *memalloc_handle_get_live(int fd);
void memalloc_handle_put_live(struct memalloc_handle *h);
bool memalloc_handle_writable(const struct memalloc_handle *h);
struct memalloc_handle *memalloc_vma_handle(struct vm_area_struct *vma);
bool memalloc_vma_thp_disabled(struct vm_area_struct *vma);

/* ops.c: the commands on a dataspace */
int memalloc_ds_info(struct memalloc_ucmd *ucmd);
int memalloc_ds_allocate(struct memalloc_ucmd *ucmd);
int memalloc_ds_phys(struct memalloc_ucmd *ucmd);
int memalloc_ds_clear(struct memalloc_ucmd *ucmd);
int memalloc_ds_copy_in(struct memalloc_ucmd *ucmd);

/* block.c: what the eager backings share */
int memalloc_block_prepare(struct memalloc_ds *ds);
void memalloc_block_take(struct memalloc_ds *ds, pgoff_t first,
			 struct page *page, unsigned int order);
int memalloc_block_set_caching(struct memalloc_ds *ds);
void memalloc_block_release(struct memalloc_ds *ds);
int memalloc_block_mmap(struct memalloc_handle *h, struct vm_area_struct *vma);
struct page *memalloc_block_page(struct memalloc_ds *ds, pgoff_t index);
int memalloc_block_read(struct memalloc_ds *ds, u64 offset, void *buf,
			unsigned int n);
u64 memalloc_block_resident(struct memalloc_ds *ds);
void memalloc_block_phys(struct memalloc_ds *ds, u64 offset, u64 *addr,
			 u64 *len);

/* shmem.c: the tmpfs mounts, and what both shmem backings share */
int memalloc_shmem_mount(void);
void memalloc_shmem_unmount(void);
bool memalloc_shmem_has_huge(void);
int memalloc_shmem_file(struct memalloc_ds *ds);
void memalloc_shmem_set_map_fops(struct memalloc_ds *ds,
				 const struct file_operations *fops);
int memalloc_shmem_mmap(struct memalloc_handle *h, struct vm_area_struct *vma);
void memalloc_shmem_revoke(struct memalloc_ds *ds);
void memalloc_shmem_destroy(struct memalloc_ds *ds);

/* room.c: whether memory has room */
bool memalloc_memcg_room(struct mem_cgroup *memcg, unsigned long pages);
int memalloc_room_for_objects(void);
unsigned long memalloc_room_to_move(void);

/* pool.c: memory zeroed ahead of time */
int memalloc_pool_init(void);
void memalloc_pool_exit(void);
struct page *memalloc_pool_take(unsigned int order);
void memalloc_pool_show(struct seq_file *m);

/* observe.c: debugfs, statistics and tracepoints */
void memalloc_observe_init(void);
void memalloc_observe_exit(void);
void memalloc_observe_new(struct memalloc_ds *ds);
void memalloc_observe_alloc(const struct memalloc_alloc *cmd, u64 id, int ret);
void memalloc_observe_revoke(struct memalloc_ds *ds);
void memalloc_observe_release(struct memalloc_ds *ds);
void memalloc_observe_contig(struct memalloc_ds *ds, unsigned int tries,
			     unsigned long migrated, int ret, u64 ns);
u64 memalloc_ds_allocator_id(const struct memalloc_ds *ds);

#endif /* _MEMALLOC_H */
