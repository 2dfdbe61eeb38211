// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: allocators with quotas, as L4Re's Moe makes them, and the
 * administrator's limits on contiguous memory.
 */
#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>

#include "memalloc.h"

/**
 * DOC: allocators
 *
 * Every open of /dev/memalloc is an allocator without a limit; each
 * MEMALLOC_FACTORY makes a child with a quota reserved from its parent's
 * (see "allocators and quotas" in the UAPI header). An allocator lives as
 * long as anything refers to it: its fds, each dataspace charged to it, and
 * each child, which holds its parent. Its reservation goes back to the
 * parent when it goes.
 *
 * Counts live under the allocator's spinlock; a charge checks and adds in
 * one step there, so threads racing for the last bytes of a quota never
 * take more than it. A child's quota was charged to its parent once, when
 * it was made: a charge touches one allocator only, never a chain.
 */

/**
 * struct memalloc_allocator - an allocator (L4Re's Mem_alloc)
 * @refs: its fds, the dataspaces charged to it and its children
 * @parent: the allocator its quota was reserved from, or NULL
 * @lock: protects the counts below
 * @depth: 0 for an open of /dev/memalloc, a parent's plus one for a child
 * @limit: its quota in bytes, or MEMALLOC_QUOTA_UNLIMITED
 * @used: bytes charged: dataspaces' rounded sizes and children's quotas
 * @peak: the most @used has been
 * @children: the part of @used that children reserved
 * @count: live dataspaces charged to it, by kind (memalloc_kind_index())
 * @id: a number for the debugfs listing, unique while the module is loaded
 */
struct memalloc_allocator {
	refcount_t refs;
	struct memalloc_allocator *parent;
	spinlock_t lock;	/* protects the counts below */
	unsigned int depth;
	u64 limit;
	u64 used;
	u64 peak;
	u64 children;
	u32 count[MEMALLOC_NR_KINDS];
	u64 id;
};

static atomic64_t memalloc_allocator_ids = ATOMIC64_INIT(0);

static struct memalloc_allocator *memalloc_allocator_new(struct memalloc_allocator *parent,
							 u64 limit)
{
	struct memalloc_allocator *a;

	a = kzalloc(sizeof(*a), MEMALLOC_OBJ_GFP);
	if (!a)
		return NULL;
	refcount_set(&a->refs, 1);
	spin_lock_init(&a->lock);
	a->limit = limit;
	a->parent = parent;
	a->depth = parent ? parent->depth + 1 : 0;
	a->id = atomic64_inc_return(&memalloc_allocator_ids);
	return a;
}

/*
 * Take @bytes of @a's quota, for a dataspace of kind @kind or, with
 * @kind < 0, for a child: false, and nothing taken, past its limit.
 */
static bool memalloc_allocator_charge(struct memalloc_allocator *a, u64 bytes,
				      int kind)
{
	bool ok;

	spin_lock(&a->lock);
	ok = a->limit == MEMALLOC_QUOTA_UNLIMITED ||
	     (bytes <= a->limit && a->used <= a->limit - bytes);
	if (ok) {
		a->used += bytes;
		a->peak = max(a->peak, a->used);
		if (kind < 0)
			a->children += bytes;
		else
			a->count[kind]++;
	}
	spin_unlock(&a->lock);
	return ok;
}

/* Give back what memalloc_allocator_charge() took. */
static void memalloc_allocator_uncharge(struct memalloc_allocator *a, u64 bytes,
					int kind)
{
	spin_lock(&a->lock);
	a->used -= bytes;
	if (kind < 0)
		a->children -= bytes;
	else
		a->count[kind]--;
	spin_unlock(&a->lock);
}

/**
 * memalloc_allocator_put() - drop a reference to an allocator
 * @a: the allocator, or NULL
 *
 * The last reference gives its quota back to its parent and drops the
 * parent's reference in turn: a loop, not a recursion, however deep.
 *
 * Context: any context that may take a spinlock.
 */
void memalloc_allocator_put(struct memalloc_allocator *a)
{
	struct memalloc_allocator *parent;

	while (a && refcount_dec_and_test(&a->refs)) {
		parent = a->parent;
		if (parent)
			memalloc_allocator_uncharge(parent, a->limit, -1);
		kfree(a);
		a = parent;
	}
}

/**
 * memalloc_allocator_open() - an allocator for an open of /dev/memalloc
 * @file: the file being opened
 *
 * Context: process context.
 * Return: 0, or -ENOMEM.
 */
int memalloc_allocator_open(struct file *file)
{
	struct memalloc_allocator *a;

	a = memalloc_allocator_new(NULL, MEMALLOC_QUOTA_UNLIMITED);
	if (!a)
		return -ENOMEM;
	file->private_data = a;
	return 0;
}

/**
 * memalloc_allocator_release() - an allocator's fd is closed
 * @file: the file of /dev/memalloc or of a child allocator
 *
 * Context: process context.
 */
void memalloc_allocator_release(struct file *file)
{
	memalloc_allocator_put(file->private_data);
}

/**
 * memalloc_allocator_id() - an allocator's number
 * @a: the allocator
 *
 * Return: a number no other allocator has while the module is loaded.
 */
u64 memalloc_allocator_id(const struct memalloc_allocator *a)
{
	return a->id;
}

/**
 * memalloc_kind_index() - the kind of a dataspace, as a count's index
 * @flags: the MEMALLOC_* flags it was made with
 *
 * Return: n where MEMALLOC_KIND_* is 1 << n; a caching attribute aside.
 */
unsigned int memalloc_kind_index(u32 flags)
{
	bool super = flags & MEMALLOC_SUPER_PAGES;

	if (flags & MEMALLOC_CONTINUOUS)
		return super ? 5 : 4;
	if (flags & MEMALLOC_PINNED)
		return super ? 3 : 2;
	return super ? 1 : 0;
}

/*
 * The administrator's limits on CONTINUOUS memory held by callers without
 * CAP_SYS_ADMIN: all of them together, and each user. Those insmod does
 * not set take their defaults when the module is loaded
 * (memalloc_limits_init()).
 */
struct memalloc_limit {
	unsigned long bytes;	/* first: param_get_ulong() reads it */
	bool set;
};

static struct memalloc_limit contig_total_max;
static struct memalloc_limit contig_user_max;

static int memalloc_param_set_bytes(const char *val, const struct kernel_param *kp)
{
	struct memalloc_limit *limit = kp->arg;
	unsigned long long bytes;
	char *end;

	bytes = memparse(val, &end);
	if (end == val || (*end && *end != '\n') || bytes > ULONG_MAX)
		return -EINVAL;
	WRITE_ONCE(limit->bytes, bytes);
	limit->set = true;
	return 0;
}

static const struct kernel_param_ops memalloc_param_bytes_ops = {
	.set = memalloc_param_set_bytes,
	.get = param_get_ulong,
};

module_param_cb(contig_total_max, &memalloc_param_bytes_ops, &contig_total_max, 0644);
MODULE_PARM_DESC(contig_total_max,
		 "Bytes of CONTINUOUS memory all callers without CAP_SYS_ADMIN may hold together (default: a quarter of RAM)");
module_param_cb(contig_user_max, &memalloc_param_bytes_ops, &contig_user_max, 0644);
MODULE_PARM_DESC(contig_user_max,
		 "Bytes of CONTINUOUS memory each user without CAP_SYS_ADMIN may hold (default: a sixteenth of RAM)");

/* Is @bytes more than is left of @max past @held. */
static bool memalloc_over(u64 bytes, u64 held, unsigned long max)
{
	return held > max || bytes > max - held;
}

/* What one user holds of CONTINUOUS memory, while it holds any. */
struct memalloc_user {
	struct hlist_node node;
	kuid_t uid;
	u64 bytes;
};

static DEFINE_SPINLOCK(memalloc_limits_lock);
static DEFINE_HASHTABLE(memalloc_users, 6);
static u64 memalloc_contig_total;

static struct memalloc_user *memalloc_user_find(kuid_t uid)
{
	struct memalloc_user *u;

	hash_for_each_possible(memalloc_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/*
 * Charge the administrator's limits for @ds, a CONTINUOUS dataspace of a
 * caller without CAP_SYS_ADMIN. The user's entry is made before the lock
 * is taken, and freed unused when the user has one already.
 */
static int memalloc_limits_charge(struct memalloc_ds *ds, u64 bytes)
{
	struct memalloc_user *fresh, *u;
	kuid_t uid = current_uid();
	int ret = 0;

	fresh = kzalloc(sizeof(*fresh), MEMALLOC_OBJ_GFP);
	if (!fresh)
		return -ENOMEM;
	spin_lock(&memalloc_limits_lock);
	u = memalloc_user_find(uid);
	if (memalloc_over(bytes, memalloc_contig_total, READ_ONCE(contig_total_max.bytes)) ||
	    memalloc_over(bytes, u ? u->bytes : 0, READ_ONCE(contig_user_max.bytes))) {
		ret = -EDQUOT;
		goto out;
	}
	if (!u) {
		u = fresh;
		fresh = NULL;
		u->uid = uid;
		hash_add(memalloc_users, &u->node, __kuid_val(uid));
	}
	u->bytes += bytes;
	memalloc_contig_total += bytes;
	ds->limit_uid = uid;
	ds->limit_bytes = bytes;
out:
	spin_unlock(&memalloc_limits_lock);
	kfree(fresh);
	return ret;
}

static void memalloc_limits_uncharge(struct memalloc_ds *ds)
{
	struct memalloc_user *u;

	spin_lock(&memalloc_limits_lock);
	u = memalloc_user_find(ds->limit_uid);
	if (!WARN_ON_ONCE(!u || u->bytes < ds->limit_bytes)) {
		u->bytes -= ds->limit_bytes;
		memalloc_contig_total -= ds->limit_bytes;
		if (!u->bytes)
			hash_del(&u->node);
		else
			u = NULL;
	} else {
		u = NULL;
	}
	ds->limit_bytes = 0;
	spin_unlock(&memalloc_limits_lock);
	kfree(u);
}

/**
 * memalloc_quota_charge() - charge a new dataspace to its allocator and limits
 * @ds: the dataspace, whose @npages and @flags are set
 * @a: the allocator it is made through
 *
 * On success @ds holds a reference to @a; memalloc_quota_uncharge() gives
 * back what was charged. On failure nothing is charged.
 *
 * Context: process context.
 * Return: 0, -ENOMEM past @a's quota (or without memory), or -EDQUOT past
 * an administrator's limit.
 */
int memalloc_quota_charge(struct memalloc_ds *ds, struct memalloc_allocator *a)
{
	u64 bytes = (u64)ds->npages << PAGE_SHIFT;
	int ret;

	if (ds->flags & MEMALLOC_CONTINUOUS && !capable(CAP_SYS_ADMIN)) {
		ret = memalloc_limits_charge(ds, bytes);
		if (ret)
			return ret;
	}
	if (!memalloc_allocator_charge(a, bytes, memalloc_kind_index(ds->flags))) {
		if (ds->limit_bytes)
			memalloc_limits_uncharge(ds);
		return -ENOMEM;
	}
	refcount_inc(&a->refs);
	ds->allocator = a;
	ds->quota_bytes = bytes;
	return 0;
}

/**
 * memalloc_quota_uncharge() - credit a dataspace's memory back
 * @ds: the dataspace, whose memory went back
 *
 * A second call does nothing. The dataspace keeps its reference to the
 * allocator until it goes (memalloc_quota_put()).
 *
 * Context: process context.
 */
void memalloc_quota_uncharge(struct memalloc_ds *ds)
{
	struct memalloc_allocator *a = ds->allocator;

	if (ds->limit_bytes)
		memalloc_limits_uncharge(ds);
	if (!a || !ds->quota_bytes)
		return;
	memalloc_allocator_uncharge(a, ds->quota_bytes, memalloc_kind_index(ds->flags));
	ds->quota_bytes = 0;
}

/**
 * memalloc_allocator_of() - the allocator behind an ioctl's file
 * @file: /dev/memalloc or a child allocator
 *
 * Return: the allocator, held by @file.
 */
struct memalloc_allocator *memalloc_allocator_of(struct file *file)
{
	return file->private_data;
}

/**
 * memalloc_factory() - MEMALLOC_FACTORY: a child allocator with a quota
 * @ucmd: the call, holding a struct memalloc_factory
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_factory(struct memalloc_ucmd *ucmd)
{
	struct memalloc_allocator *parent = memalloc_allocator_of(ucmd->file);
	struct memalloc_factory *cmd = ucmd->cmd;
	struct memalloc_allocator *child;
	struct file *file;
	int fd, ret;

	if (cmd->__reserved || cmd->fd_flags & ~O_CLOEXEC ||
	    !cmd->quota || cmd->quota > S64_MAX)
		return -EINVAL;
	if (!(ucmd->file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (parent->depth >= MEMALLOC_FACTORY_MAX_DEPTH)
		return -ENOSPC;
	child = memalloc_allocator_new(parent, cmd->quota);
	if (!child)
		return -ENOMEM;
	if (!memalloc_allocator_charge(parent, cmd->quota, -1)) {
		kfree(child);
		return -ENOMEM;
	}
	/* From here on, putting the child gives all of it back. */
	refcount_inc(&parent->refs);
	fd = get_unused_fd_flags(cmd->fd_flags);
	if (fd < 0) {
		memalloc_allocator_put(child);
		return fd;
	}
	file = anon_inode_getfile("[memalloc]", ucmd->file->f_op, child,
				  O_RDWR | cmd->fd_flags);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		memalloc_allocator_put(child);
		return PTR_ERR(file);
	}
	cmd->out_fd = fd;
	ret = memalloc_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		put_unused_fd(fd);
		fput(file);
		return ret;
	}
	fd_install(fd, file);
	return 0;
}

/**
 * memalloc_quota() - MEMALLOC_QUOTA: an allocator's limit and use
 * @ucmd: the call, holding a struct memalloc_quota
 *
 * Context: process context.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_quota(struct memalloc_ucmd *ucmd)
{
	struct memalloc_allocator *a = memalloc_allocator_of(ucmd->file);
	struct memalloc_quota *cmd = ucmd->cmd;

	if (cmd->__reserved)
		return -EINVAL;
	spin_lock(&a->lock);
	cmd->out_limit = a->limit;
	cmd->out_used = a->used;
	cmd->out_peak = a->peak;
	cmd->out_children = a->children;
	BUILD_BUG_ON(sizeof(a->count) > sizeof(cmd->out_count));
	memcpy(cmd->out_count, a->count, sizeof(a->count));
	spin_unlock(&a->lock);
	cmd->out_available = cmd->out_limit == MEMALLOC_QUOTA_UNLIMITED ?
			     MEMALLOC_QUOTA_UNLIMITED : cmd->out_limit - cmd->out_used;
	return memalloc_ucmd_respond(ucmd, sizeof(*cmd));
}

/**
 * memalloc_limits_init() - the administrator's limits' defaults
 *
 * A quarter of RAM for all callers without CAP_SYS_ADMIN together, a
 * sixteenth for each user, where insmod set no other value.
 *
 * Context: module init.
 */
void memalloc_limits_init(void)
{
	unsigned long ram = totalram_pages() << PAGE_SHIFT;

	if (!contig_total_max.set)
		contig_total_max.bytes = ram / 4;
	if (!contig_user_max.set)
		contig_user_max.bytes = ram / 16;
}
