// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: dataspaces, their lifetime and their backings.
 */
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/overflow.h>
#include <linux/pseudo_fs.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "compat.h"
#include "memalloc.h"

/**
 * DOC: dataspaces
 *
 * A dataspace is memory with the properties its flags ask for, handed out
 * as dma-buf fds (handles: see dmabuf.c). Its flags choose its backing
 * (struct memalloc_backing), which keeps the memory and answers for it:
 *
 * - lazy and SUPER_PAGES: shmem files, pages taken on first touch (shmem.c);
 * - PINNED: pages the module owns (pages.c);
 * - PINNED SUPER_PAGES: shmem files populated at once and held
 *   (shmem_pinned.c);
 * - CONTINUOUS, with or without SUPER_PAGES: one physically contiguous
 *   block the module owns (contig.c).
 *
 * The eager ones share block.c. The memory goes back when the last fd,
 * mapping and device attachment go, or at once when MEMALLOC_FREE revokes
 * the dataspace: its block mappings, through any handle, are zapped on the
 * dataspace's own inode (an inode on memalloc's pseudo file system, whose
 * mapping every handle's file uses), and its backing releases the memory.
 */

/**
 * DOC: Locking
 *
 * ds->lock guards a dataspace's memory against revocation. Whatever reads
 * ds->pages or the shmem file's pages, or tests ds->dead, holds it for
 * reading: the commands, mmap() and the fault handler of block-backed
 * mappings. memalloc_ds_revoke() holds it for writing. ds->hold_lock, a
 * spinlock inside it, guards ds->attachments and the setting of ds->dead,
 * so that a holder (memalloc_ds_hold()) never waits on ds->lock, which a
 * user's command may hold for reading as long as the user likes.
 *
 * Holders (device attachments, kernel mappings) and hole punching stay
 * apart without a lock between them: a clear that punches counts itself in
 * ds->punching under ds->lock, having seen no holder there, until its
 * punch is done; memalloc_ds_hold() counts itself in ds->attachments
 * first, so that no punch begins after it, then waits for
 * ds->punching to drop to zero: for the punches already in flight, one
 * each, so that clears in a loop cannot starve it. A lock would not do:
 * the dma-buf core calls the exporter's vmap under the buffer's
 * reservation lock (6.12), which ranks below mmap_lock and so below the
 * shmem file's locks a punch takes. Waiting is safe where that lock would
 * not be, as a punch waits for nothing a holder's caller may hold: the
 * shmem file is the module's own, written by no one. Nor does a lockdep
 * map stand for the wait, for the same reason: lockdep knows the shmem
 * file's locks only by the class every tmpfs file shares, and would chain
 * the reservation lock through the punch to other files' writers, which
 * fault (mmap_lock), and back, a cycle no punch can close.
 *
 * ds->attach_lock, innermost, guards the list of device attachments and
 * each handle's kernel mapping, which CPU access syncs.
 *
 * Order: mmap_lock, then ds->lock (faults, mmap()), then the dataspace's
 * i_mmap_rwsem (revocation zapping block-backed mappings). The shmem
 * file's locks (its i_rwsem, sb_writers) rank above mmap_lock, as every
 * file system's do: revocation and clear truncate or punch the shmem file
 * after dropping ds->lock, having marked or checked the dataspace under
 * it. copy_in takes two dataspaces' locks in address order. A command
 * drops ds->lock before it writes its answer to user memory, whose fault
 * may need ds->lock again.
 */

/* The pseudo file system of the dataspaces' inodes (see ds->inode). */
static struct vfsmount *memalloc_fs_mnt;
#define MEMALLOC_FS_MAGIC	MEMALLOC_ALLOCATOR_MAGIC

/**
 * memalloc_fs_file() - a file of an inode of its own on memalloc's pseudo fs
 * @name: the name its dentry shows (in /proc/PID/fd)
 * @fops: its file operations, of this module, which it holds
 * @priv: its private data
 *
 * So that fstatfs() tells its files (MEMALLOC_ALLOCATOR_MAGIC) from any
 * other, as anon_inode files could not be told apart.
 *
 * Context: process context; sleeps.
 * Return: the file, opened read-write, or an ERR_PTR().
 */
struct file *memalloc_fs_file(const char *name, const struct file_operations *fops,
			      void *priv)
{
	struct inode *inode;
	struct file *file;

	inode = alloc_anon_inode(memalloc_fs_mnt->mnt_sb);
	if (IS_ERR(inode))
		return ERR_CAST(inode);
	/* __fput() drops what fops_get() takes; alloc_file_pseudo() takes none. */
	fops = fops_get(fops);
	if (!fops) {
		iput(inode);
		return ERR_PTR(-ENOENT);
	}
	file = alloc_file_pseudo(inode, memalloc_fs_mnt, name, O_RDWR, fops);
	if (IS_ERR(file)) {
		fops_put(fops);
		iput(inode);
		return file;
	}
	file->private_data = priv;
	return file;
}

/**
 * memalloc_ds_lock_live() - hold a dataspace's memory against revocation
 * @ds: the dataspace
 *
 * On success the caller holds @ds->lock for reading and drops it with
 * up_read().
 *
 * Context: process context; sleeps.
 * Return: 0, or -ENODEV when @ds was revoked (the lock is not held then).
 */
int memalloc_ds_lock_live(struct memalloc_ds *ds)
{
	down_read(&ds->lock);
	if (!ds->dead)
		return 0;
	up_read(&ds->lock);
	return -ENODEV;
}

static void memalloc_ds_release(struct kref *kref)
{
	struct memalloc_ds *ds = container_of(kref, struct memalloc_ds, kref);

	memalloc_observe_release(ds);
	if (ds->backing) {
		ds->backing->release(ds);
		if (ds->backing->destroy)
			ds->backing->destroy(ds);
	}
	memalloc_charge_put(ds->charge);
	if (ds->inode)
		iput(ds->inode);
	mem_cgroup_put(ds->memcg);
	/* Its dma-bufs are all gone: their core let go of it, not freed it. */
	dma_resv_fini(&ds->resv);
	kfree(ds);
}

/**
 * memalloc_ds_hold() - hold a dataspace's memory for a device or the kernel
 * @ds: the dataspace
 *
 * What a device attachment and a kernel mapping (vmap) take: until
 * memalloc_ds_unhold(), MEMALLOC_FREE fails with EBUSY, and MEMALLOC_CLEAR
 * zeroes in place rather than punching out pages the holder would go on
 * seeing. The holder counts from the start: no punch begins while it
 * waits for those in flight, one each at most (see "DOC: Locking"), so
 * clears cannot starve it, and the wait is not interruptible. The dma-buf
 * core takes any failure of a vmap for an exporter's bug.
 *
 * Context: process context; sleeps; also under a dma-buf's reservation lock.
 * Return: 0, or -ENODEV when @ds was revoked.
 */
int memalloc_ds_hold(struct memalloc_ds *ds)
{
	/*
	 * Not ds->lock, which a user's command may hold for reading as long
	 * as it likes: a holder never waits for a user.
	 */
	spin_lock(&ds->hold_lock);
	if (ds->dead) {
		spin_unlock(&ds->hold_lock);
		return -ENODEV;
	}
	ds->attachments++;
	spin_unlock(&ds->hold_lock);
	/* Seen by every punch_begin() from now on: none begins. */
	wait_event(ds->punch_wait, !atomic_read(&ds->punching));
	return 0;
}

/**
 * memalloc_ds_unhold() - drop what memalloc_ds_hold() took
 * @ds: the dataspace
 *
 * Context: process context.
 */
void memalloc_ds_unhold(struct memalloc_ds *ds)
{
	spin_lock(&ds->hold_lock);
	ds->attachments--;
	spin_unlock(&ds->hold_lock);
}

/**
 * memalloc_ds_punch_begin() - may a clear punch holes now
 * @ds: the dataspace, its lock held
 *
 * Context: under ds->lock.
 * Return: true when nothing holds @ds or waits to (memalloc_ds_hold());
 * then the caller punches, after dropping ds->lock, and calls
 * memalloc_ds_punch_end() when done.
 */
bool memalloc_ds_punch_begin(struct memalloc_ds *ds)
{
	bool ok;

	lockdep_assert_held(&ds->lock);
	spin_lock(&ds->hold_lock);
	ok = !ds->attachments;
	if (ok)
		atomic_inc(&ds->punching);
	spin_unlock(&ds->hold_lock);
	return ok;
}

/**
 * memalloc_ds_punch_end() - a punch is done
 * @ds: the dataspace
 *
 * Context: any.
 */
void memalloc_ds_punch_end(struct memalloc_ds *ds)
{
	if (atomic_dec_and_test(&ds->punching))
		wake_up_all(&ds->punch_wait);
}

/**
 * memalloc_ds_put() - drop a reference to a dataspace
 * @ds: the dataspace, which goes with its last reference
 *
 * Context: process context.
 */
void memalloc_ds_put(struct memalloc_ds *ds)
{
	kref_put(&ds->kref, memalloc_ds_release);
}

/* Answer the caller, then install the fd (see memalloc_handle_new()). */
static int memalloc_handle_install(struct memalloc_ucmd *ucmd, size_t len,
				   int fd, struct dma_buf *dmabuf)
{
	int ret = memalloc_ucmd_respond(ucmd, len);

	if (ret) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return ret;
	}
	fd_install(fd, dmabuf->file);
	return 0;
}

/**
 * memalloc_alloc_flags() - the allocation flags this kernel can honour
 *
 * Return: a mask of MEMALLOC_* flags.
 */
u32 memalloc_alloc_flags(void)
{
	u32 flags = MEMALLOC_CONTINUOUS | MEMALLOC_PINNED;

	if (memalloc_shmem_has_huge())
		flags |= MEMALLOC_SUPER_PAGES;
	if (IS_ENABLED(CONFIG_X86))
		flags |= MEMALLOC_WRITE_COMBINE | MEMALLOC_UNCACHED;
	return flags;
}

/**
 * memalloc_version_facts() - what this kernel gives each kind of dataspace
 * @cmd: MEMALLOC_VERSION's answer, whose per-kind facts it fills in
 *
 * Context: any.
 */
void memalloc_version_facts(struct memalloc_version *cmd)
{
	u32 kinds = MEMALLOC_KIND_LAZY | MEMALLOC_KIND_PINNED | MEMALLOC_KIND_CONTIGUOUS;

	if (memalloc_shmem_has_huge())
		kinds |= MEMALLOC_KIND_SUPER_PAGES | MEMALLOC_KIND_PINNED_SUPER_PAGES;
	if (memalloc_shmem_has_huge() && MEMALLOC_HUGE_PFNMAP)
		kinds |= MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES;
	if (memalloc_alloc_flags() & MEMALLOC_CACHING_MASK)
		kinds |= MEMALLOC_KIND_CACHING;
	cmd->out_kinds = kinds;
	cmd->out_page_sizes = PAGE_SIZE;
	if (memalloc_shmem_has_huge())
		cmd->out_page_sizes |= PMD_SIZE;
	if (kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES && MEMALLOC_HUGE_PFNMAP_PUD)
		cmd->out_page_sizes |= PUD_SIZE;
	/* Both are mapped by pfn (memalloc_block_mmap()). */
	cmd->out_gup_kinds = kinds & ~(MEMALLOC_KIND_CACHING |
				       MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES);
	/* Lazy dataspaces map their shmem file, with shmem's own vm_ops. */
	if (MEMALLOC_IO_URING_SHMEM_ONLY)
		cmd->out_io_uring_kinds = kinds & (MEMALLOC_KIND_LAZY |
						   MEMALLOC_KIND_SUPER_PAGES);
	else
		cmd->out_io_uring_kinds = cmd->out_gup_kinds;
	cmd->out_pmd_kinds = kinds & (MEMALLOC_KIND_SUPER_PAGES |
				      MEMALLOC_KIND_PINNED_SUPER_PAGES |
				      MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES);
	cmd->out_pud_kinds = MEMALLOC_HUGE_PFNMAP_PUD ?
		kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES : 0;
}

/**
 * memalloc_ds_page_shift() - log2 of the pages a dataspace is mapped with
 * @ds: the dataspace
 *
 * Context: any.
 * Return: PAGE_SHIFT, PMD_SHIFT for super pages, or PUD_SHIFT for
 * contiguous super pages of whole 1 GiB pages where the kernel maps those.
 */
unsigned int memalloc_ds_page_shift(const struct memalloc_ds *ds)
{
	if (!(ds->flags & MEMALLOC_SUPER_PAGES))
		return PAGE_SHIFT;
	if (MEMALLOC_HUGE_PFNMAP_PUD && ds->flags & MEMALLOC_CONTINUOUS &&
	    ds->align >= PUD_SHIFT && IS_ALIGNED((u64)ds->npages << PAGE_SHIFT, PUD_SIZE))
		return PUD_SHIFT;
	return PMD_SHIFT;
}

/* A caching attribute needs memory that does not move: our own blocks. */
static bool memalloc_can_cache(u32 flags)
{
	return flags & (MEMALLOC_CONTINUOUS | MEMALLOC_PINNED) &&
	       !(flags & MEMALLOC_SUPER_PAGES);
}

static bool memalloc_caching_valid(u32 caching)
{
	return (caching & MEMALLOC_CACHING_MASK) != MEMALLOC_CACHING_MASK;
}

static int memalloc_check_alloc(struct memalloc_alloc *cmd, u64 *rounded)
{
	u64 unit, end;

	if (cmd->__reserved || cmd->flags & ~MEMALLOC_ALLOC_FLAGS_MASK ||
	    !memalloc_caching_valid(cmd->flags) || cmd->fd_flags & ~O_CLOEXEC)
		return -EINVAL;
	/* Also refuses 64 and more, which no shift can take. */
	if (cmd->align > PUD_SHIFT)
		return -EINVAL;
	if (cmd->flags & ~memalloc_alloc_flags())
		return -EOPNOTSUPP;
	/*
	 * A block the module owns is mapped with huge entries only by pfn,
	 * where the kernel lets a driver's vma have them (see memalloc(7)).
	 */
	if (cmd->flags & MEMALLOC_SUPER_PAGES && cmd->flags & MEMALLOC_CONTINUOUS &&
	    !MEMALLOC_HUGE_PFNMAP)
		return -EOPNOTSUPP;
	if (cmd->flags & MEMALLOC_CACHING_MASK && !memalloc_can_cache(cmd->flags))
		return -EOPNOTSUPP;

	cmd->align = max_t(u32, cmd->align,
			   cmd->flags & MEMALLOC_SUPER_PAGES ? PMD_SHIFT : PAGE_SHIFT);
	unit = cmd->flags & MEMALLOC_SUPER_PAGES ? PMD_SIZE : PAGE_SIZE;
	if (!cmd->length || check_add_overflow(cmd->length, unit - 1, &end))
		return -ERANGE;
	*rounded = end & ~(unit - 1);
	if (*rounded > (u64)totalram_pages() << PAGE_SHIFT)
		return -ENOMEM;
	return 0;
}

/* The backing that gives a dataspace the properties of @flags. */
static const struct memalloc_backing *memalloc_backing_of(u32 flags)
{
	if (flags & MEMALLOC_CONTINUOUS)
		return &memalloc_contig_backing;
	if (!(flags & MEMALLOC_PINNED))
		return &memalloc_shmem_backing;
	if (flags & MEMALLOC_SUPER_PAGES)
		return &memalloc_shmem_pinned_backing;
	return &memalloc_pages_backing;
}

static struct memalloc_ds *memalloc_ds_new(struct memalloc_alloc *cmd,
					   u64 rounded,
					   struct memalloc_allocator *allocator)
{
	const struct memalloc_backing *backing = memalloc_backing_of(cmd->flags);
	struct memalloc_ds *ds;
	int ret = 0;

	ds = kzalloc(sizeof(*ds), MEMALLOC_OBJ_GFP);
	if (!ds)
		return ERR_PTR(-ENOMEM);
	kref_init(&ds->kref);
	dma_resv_init(&ds->resv);
	init_rwsem(&ds->lock);
	spin_lock_init(&ds->hold_lock);
	init_waitqueue_head(&ds->punch_wait);
	mutex_init(&ds->attach_lock);
	INIT_LIST_HEAD(&ds->attach_list);
	ds->size = cmd->length;
	ds->flags = cmd->flags;
	ds->align = cmd->align;
	ds->npages = rounded >> PAGE_SHIFT;
	ds->memcg = get_mem_cgroup_from_mm(current->mm);
	/* The quota and limits first: a caller past them costs nothing. */
	ret = memalloc_charge_new(ds, allocator);
	if (ret)
		goto err_put_ds;
	ds->inode = alloc_anon_inode(memalloc_fs_mnt->mnt_sb);
	if (IS_ERR(ds->inode)) {
		ret = PTR_ERR(ds->inode);
		ds->inode = NULL;
		goto err_put_ds;
	}
	ds->backing = backing;
	if (backing->init)
		ret = backing->init(ds);
	if (ret)
		goto err_put_ds;
	memalloc_observe_new(ds);
	return ds;

err_put_ds:
	memalloc_ds_put(ds);
	return ERR_PTR(ret);
}

/*
 * MEMALLOC_ALLOC's work: *@id is the id of the dataspace it made, if any.
 * The fd is reserved before any memory is taken, and installed only after
 * the answer reached the caller, so a failed copy leaves no fd behind.
 */
static int memalloc_ds_make(struct memalloc_ucmd *ucmd, u64 *id)
{
	struct memalloc_alloc *cmd = ucmd->cmd;
	struct memalloc_ds *ds;
	struct dma_buf *dmabuf;
	u64 rounded;
	int fd, ret;

	/* Reading the device tells what it offers; allocating writes. */
	if (!(ucmd->file->f_mode & FMODE_WRITE))
		return -EBADF;
	ret = memalloc_check_alloc(cmd, &rounded);
	if (!ret)
		ret = memalloc_room_for_objects();
	if (ret)
		return ret;
	fd = get_unused_fd_flags(cmd->fd_flags);
	if (fd < 0)
		return fd;

	ds = memalloc_ds_new(cmd, rounded, memalloc_allocator_of(ucmd->file));
	if (IS_ERR(ds)) {
		put_unused_fd(fd);
		return PTR_ERR(ds);
	}
	*id = ds->origin.id;
	dmabuf = memalloc_handle_new(ds, true);
	/* The handle holds the dataspace now, or nothing does. */
	memalloc_ds_put(ds);
	if (IS_ERR(dmabuf)) {
		put_unused_fd(fd);
		return PTR_ERR(dmabuf);
	}
	/*
	 * The memory last, after every object of the kernel's: those are
	 * charged as any syscall's, which at a memory cgroup's limit the
	 * kernel answers with its OOM killer; the memory gets ENOMEM there.
	 */
	if (ds->backing->alloc) {
		ret = ds->backing->alloc(ds);
		if (ret) {
			put_unused_fd(fd);
			dma_buf_put(dmabuf);
			return ret;
		}
	}
	cmd->out_fd = fd;
	return memalloc_handle_install(ucmd, sizeof(*cmd), fd, dmabuf);
}

/**
 * memalloc_ds_alloc() - MEMALLOC_ALLOC: make a dataspace and its fd
 * @ucmd: the call, holding a struct memalloc_alloc
 *
 * Every outcome is counted and traced (observe.c), refusals included.
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_alloc(struct memalloc_ucmd *ucmd)
{
	u64 id = 0;
	int ret = memalloc_ds_make(ucmd, &id);

	memalloc_observe_alloc(ucmd->cmd, id, ret);
	return ret;
}

/**
 * memalloc_ds_dup() - MEMALLOC_DUP: another handle, with fewer rights
 * @ucmd: the call, holding a struct memalloc_dup
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_dup(struct memalloc_ucmd *ucmd)
{
	const u32 rw = MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W;
	struct memalloc_dup *cmd = ucmd->cmd;
	struct memalloc_handle *h;
	struct dma_buf *dmabuf;
	int fd, ret = 0;

	if (!(cmd->rights & MEMALLOC_RIGHT_R) || cmd->rights & ~rw ||
	    cmd->caching & ~MEMALLOC_CACHING_MASK ||
	    !memalloc_caching_valid(cmd->caching) || cmd->fd_flags & ~O_CLOEXEC)
		return -EINVAL;
	h = memalloc_handle_get(cmd->fd);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (cmd->rights & MEMALLOC_RIGHT_W && !memalloc_handle_writable(h))
		ret = -EACCES;
	else if (cmd->caching > (h->ds->flags & MEMALLOC_CACHING_MASK))
		/*
		 * The weaker wins, and a weaker attribute than the memory's
		 * would alias the kernel's mapping of it with another type.
		 */
		ret = -EOPNOTSUPP;
	if (!ret)
		ret = memalloc_room_for_objects();
	if (ret)
		goto out;
	fd = get_unused_fd_flags(cmd->fd_flags);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	dmabuf = memalloc_handle_new(h->ds, cmd->rights & MEMALLOC_RIGHT_W);
	if (IS_ERR(dmabuf)) {
		put_unused_fd(fd);
		ret = PTR_ERR(dmabuf);
		goto out;
	}
	cmd->out_fd = fd;
	ret = memalloc_handle_install(ucmd, sizeof(*cmd), fd, dmabuf);
out:
	memalloc_handle_put(h);
	return ret;
}

/* Give the memory back: zapping mappings first, so no access reaches it. */
static int memalloc_ds_revoke(struct memalloc_ds *ds)
{
	int ret = 0;

	if (down_write_killable(&ds->lock))
		return -EINTR;
	spin_lock(&ds->hold_lock);
	if (ds->dead)
		ret = -ENODEV;
	else if (ds->attachments)
		ret = -EBUSY;
	else
		WRITE_ONCE(ds->dead, true);
	spin_unlock(&ds->hold_lock);
	if (ret) {
		up_write(&ds->lock);
		return ret;
	}
	/* Every block-backed mapping, of every handle, is on the one mapping. */
	unmap_mapping_range(ds->inode->i_mapping, 0, 0, 1);
	ds->backing->release(ds);
	memalloc_charge_give_back(ds->charge);
	memalloc_observe_revoke(ds);
	up_write(&ds->lock);
	/* Dead now: nothing maps or fills it again but shmem's own faults. */
	if (ds->backing->revoke)
		ds->backing->revoke(ds);
	return 0;
}

/**
 * memalloc_ds_free() - MEMALLOC_FREE: revoke a dataspace
 * @ucmd: the call, holding a struct memalloc_free
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_free(struct memalloc_ucmd *ucmd)
{
	struct memalloc_free *cmd = ucmd->cmd;
	struct memalloc_handle *h;
	int ret;

	h = memalloc_handle_get(cmd->fd);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (memalloc_handle_writable(h))
		ret = memalloc_ds_revoke(h->ds);
	else
		ret = -EACCES;
	memalloc_handle_put(h);
	return ret;
}

static int memalloc_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, MEMALLOC_FS_MAGIC) ? 0 : -ENOMEM;
}

/* Never registered, and no module reference: its only mount is ours. */
static struct file_system_type memalloc_fs_type = {
	.name = KBUILD_MODNAME,
	.init_fs_context = memalloc_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

/**
 * memalloc_ds_init() - mount the file systems that back dataspaces
 *
 * Context: module init.
 * Return: 0 or a negative errno.
 */
int memalloc_ds_init(void)
{
	int ret;

	memalloc_fs_mnt = kern_mount(&memalloc_fs_type);
	if (IS_ERR(memalloc_fs_mnt))
		return PTR_ERR(memalloc_fs_mnt);
	ret = memalloc_shmem_mount();
	if (ret)
		kern_unmount(memalloc_fs_mnt);
	return ret;
}

/**
 * memalloc_ds_exit() - unmount them
 *
 * Context: module exit.
 */
void memalloc_ds_exit(void)
{
	memalloc_shmem_unmount();
	kern_unmount(memalloc_fs_mnt);
}
