// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: allocators with quotas, as L4Re's Moe makes them, and the
 * administrator's limits on contiguous memory.
 */
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
#include <linux/overflow.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>

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

	u64 used;

	spin_lock(&a->lock);
	/* The unlimited count too, for MEMALLOC_QUOTA: ENOMEM past 2^64. */
	ok = !check_add_overflow(a->used, bytes, &used) &&
	     (a->limit == MEMALLOC_QUOTA_UNLIMITED || used <= a->limit);
	if (ok) {
		a->used = used;
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
 * Context: process context (the spinlocks are not taken with interrupts off).
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

/**
 * memalloc_parse_bytes() - a module parameter's byte count
 * @val: decimal, with an optional K, M or G, and an optional newline
 * @bytes: set to the count
 *
 * Context: any.
 * Return: 0, or -EINVAL for anything else or a count that would wrap.
 */
int memalloc_parse_bytes(const char *val, unsigned long *bytes)
{
	char buf[24], *suffix;
	unsigned int shift = 0;
	unsigned long long n;
	size_t len;
	int ret;

	len = strcspn(val, "\n");
	if (!len || len >= sizeof(buf) || (val[len] && val[len + 1]))
		return -EINVAL;
	memcpy(buf, val, len);
	buf[len] = 0;
	suffix = &buf[len - 1];
	switch (*suffix) {
	case 'G':
		shift += 10;
		fallthrough;
	case 'M':
		shift += 10;
		fallthrough;
	case 'K':
		shift += 10;
		*suffix = 0;
	}
	ret = kstrtoull(buf, 10, &n);
	if (ret || check_shl_overflow(n, shift, &n) || n > ULONG_MAX)
		return -EINVAL;
	*bytes = n;
	return 0;
}

static int memalloc_param_set_bytes(const char *val, const struct kernel_param *kp)
{
	struct memalloc_limit *limit = kp->arg;
	unsigned long bytes;
	int ret;

	ret = memalloc_parse_bytes(val, &bytes);
	if (ret)
		return ret;
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
 * The user the administrator's limits count a caller as: its uid, or in a
 * user namespace the user who made the outermost one, so that the uids a
 * namespace maps (subordinate ids) are all one user.
 */
static kuid_t memalloc_limits_uid(void)
{
	const struct user_namespace *ns = current_user_ns();

	if (ns == &init_user_ns)
		return current_uid();
	while (ns->parent != &init_user_ns)
		ns = ns->parent;
	return ns->owner;
}

/**
 * struct memalloc_charge - what one dataspace is charged
 * @ref: the dataspace, and the map file of a lazy one (whose mappings
 *       hold the memory past the dataspace: see memalloc_shmem_file())
 * @allocator: the allocator whose quota pays, held; NULL once given back
 * @allocator_id: its number, for the debugfs listing
 * @bytes: what its quota pays: the dataspace's rounded size
 * @kind: the dataspace's kind (memalloc_kind_index())
 * @uid: the user charged for the administrator's limits
 * @limit_bytes: what those limits pay; 0 when nothing
 */
struct memalloc_charge {
	struct kref ref;
	struct memalloc_allocator *allocator;
	u64 allocator_id;
	u64 bytes;
	unsigned int kind;
	kuid_t uid;
	u64 limit_bytes;
};

/*
 * Charge the administrator's limits with @c->limit_bytes. The user's entry
 * is made before the lock is taken, and freed unused when the user has one
 * already.
 */
static int memalloc_limits_charge(struct memalloc_charge *c)
{
	struct memalloc_user *fresh, *u;
	int ret = 0;

	fresh = kzalloc(sizeof(*fresh), MEMALLOC_OBJ_GFP);
	if (!fresh)
		return -ENOMEM;
	spin_lock(&memalloc_limits_lock);
	u = memalloc_user_find(c->uid);
	if (memalloc_over(c->limit_bytes, memalloc_contig_total,
			  READ_ONCE(contig_total_max.bytes)) ||
	    memalloc_over(c->limit_bytes, u ? u->bytes : 0,
			  READ_ONCE(contig_user_max.bytes))) {
		ret = -EDQUOT;
		goto out;
	}
	if (!u) {
		u = fresh;
		fresh = NULL;
		u->uid = c->uid;
		hash_add(memalloc_users, &u->node, __kuid_val(c->uid));
	}
	u->bytes += c->limit_bytes;
	memalloc_contig_total += c->limit_bytes;
out:
	spin_unlock(&memalloc_limits_lock);
	kfree(fresh);
	return ret;
}

static void memalloc_limits_uncharge(struct memalloc_charge *c)
{
	struct memalloc_user *u;

	spin_lock(&memalloc_limits_lock);
	u = memalloc_user_find(c->uid);
	if (!WARN_ON_ONCE(!u || u->bytes < c->limit_bytes)) {
		u->bytes -= c->limit_bytes;
		memalloc_contig_total -= c->limit_bytes;
		if (!u->bytes)
			hash_del(&u->node);
		else
			u = NULL;
	} else {
		u = NULL;
	}
	c->limit_bytes = 0;
	spin_unlock(&memalloc_limits_lock);
	kfree(u);
}

/*
 * What a CONTINUOUS dataspace costs the administrator's limits: its size,
 * or its alignment where that is larger, since an aligned block spoils a
 * block of that size for everyone else (one page held at each 2 MiB or
 * 1 GiB boundary would leave no free huge page anywhere).
 */
static u64 memalloc_limits_footprint(const struct memalloc_ds *ds)
{
	return max_t(u64, (u64)ds->npages << PAGE_SHIFT, 1ULL << ds->align);
}

/**
 * memalloc_charge_new() - charge a new dataspace to its allocator and limits
 * @ds: the dataspace, whose @npages, @flags and @align are set
 * @a: the allocator it is made through
 *
 * On success @ds->charge holds a reference to @a until
 * memalloc_charge_give_back(). On failure nothing is charged.
 *
 * Context: process context.
 * Return: 0, -ENOMEM past @a's quota (or without memory), or -EDQUOT past
 * an administrator's limit, which is checked first.
 */
int memalloc_charge_new(struct memalloc_ds *ds, struct memalloc_allocator *a)
{
	struct memalloc_charge *c;
	int ret;

	c = kzalloc(sizeof(*c), MEMALLOC_OBJ_GFP);
	if (!c)
		return -ENOMEM;
	kref_init(&c->ref);
	c->bytes = (u64)ds->npages << PAGE_SHIFT;
	c->kind = memalloc_kind_index(ds->flags);
	c->allocator_id = a->id;
	/* noaudit: being without the capability is the usual case here. */
	if (ds->flags & MEMALLOC_CONTINUOUS &&
	    !ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN)) {
		c->uid = memalloc_limits_uid();
		c->limit_bytes = memalloc_limits_footprint(ds);
		ret = memalloc_limits_charge(c);
		if (ret) {
			kfree(c);
			return ret;
		}
	}
	if (!memalloc_allocator_charge(a, c->bytes, c->kind)) {
		if (c->limit_bytes)
			memalloc_limits_uncharge(c);
		kfree(c);
		return -ENOMEM;
	}
	refcount_inc(&a->refs);
	c->allocator = a;
	ds->charge = c;
	return 0;
}

/**
 * memalloc_charge_give_back() - credit a dataspace's memory back
 * @c: its charge, or NULL
 *
 * Gives back what the quota and the limits pay and drops the allocator; a
 * second call does nothing. Called when the memory goes: at revocation,
 * and when the charge's last holder goes.
 *
 * Context: process context.
 */
void memalloc_charge_give_back(struct memalloc_charge *c)
{
	if (!c)
		return;
	if (c->limit_bytes)
		memalloc_limits_uncharge(c);
	if (c->allocator) {
		memalloc_allocator_uncharge(c->allocator, c->bytes, c->kind);
		memalloc_allocator_put(c->allocator);
		c->allocator = NULL;
	}
}

/**
 * memalloc_charge_get() - another holder of a charge
 * @c: the charge
 *
 * Return: @c.
 */
struct memalloc_charge *memalloc_charge_get(struct memalloc_charge *c)
{
	kref_get(&c->ref);
	return c;
}

static void memalloc_charge_release(struct kref *ref)
{
	struct memalloc_charge *c = container_of(ref, struct memalloc_charge, ref);

	memalloc_charge_give_back(c);
	kfree(c);
}

/**
 * memalloc_charge_put() - a holder of a charge lets go
 * @c: the charge, or NULL; the last holder gives it back
 *
 * Context: as memalloc_charge_give_back().
 */
void memalloc_charge_put(struct memalloc_charge *c)
{
	if (c)
		kref_put(&c->ref, memalloc_charge_release);
}

/**
 * memalloc_charge_allocator_id() - the allocator a dataspace was made through
 * @c: its charge
 *
 * Return: the allocator's number (memalloc_allocator_id()).
 */
u64 memalloc_charge_allocator_id(const struct memalloc_charge *c)
{
	return c->allocator_id;
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
	/* Its file and dentry, as a handle's objects (room.c). */
	ret = memalloc_room_for_objects();
	if (ret)
		return ret;
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
	file = memalloc_fs_file("memalloc-allocator", ucmd->file->f_op, child);
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
	cmd->out_id = a->id;
	BUILD_BUG_ON(sizeof(a->count) > sizeof(cmd->out_count));
	memset(cmd->out_count, 0, sizeof(cmd->out_count));
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
