// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: what an administrator can see of the dataspaces: a list of the
 * live ones and counters in debugfs, and tracepoints.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/string_helpers.h>

#include "memalloc.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/**
 * DOC: observability
 *
 * debugfs holds a directory memalloc/ with two files, both readable by
 * root only (0400): debugfs itself is root's, and "dataspaces" shows
 * physical addresses, which no one without CAP_SYS_ADMIN may read.
 *
 * "dataspaces": a header line, then one line per live dataspace, from the
 * end of memalloc_ds_new() until memalloc_ds_release(), revoked ones
 * included, fields separated by one space:
 *
 *   id pid comm kind size resident phys handles mappings attachments allocator
 *
 * The command is "-" when empty; any other byte than printable ASCII, and
 * space and backslash, is an octal escape (\033, \040), and a command "-"
 * is "\055": whatever name a task gave itself, the row keeps its fields and
 * sends no control byte to a terminal. resident is "-" for a revoked
 * dataspace; phys is the first and the last byte of a contiguous block, in
 * hex ("-" for other kinds, while the block is being found, and once
 * revoked). handles are the dataspace's references: one a handle, and one
 * more while MEMALLOC_ALLOC is making it. mappings are the vmas mapping
 * it, in every process. resident, phys, mappings and attachments are "?"
 * while the dataspace's lock is held for writing or awaited for it (a
 * revocation), and mappings also while a mapping is being made or removed,
 * or past MEMALLOC_COUNT_VMAS_MAX vmas of one file.
 *
 * A lazy dataspace (lazy, super) whose handles are all closed goes from the
 * list and from the live count even while CPU mappings remain: they hold
 * its memory, on the shmem file, and its allocator's quota charge until
 * unmapped, which the processes' Shmem and RSS and the allocator's
 * MEMALLOC_QUOTA show. An eager dataspace's mappings hold the dataspace,
 * which stays listed until they go.
 *
 * "stats": a header line, then one line per kind (the caching attribute
 * counts with its kind): live and bytes (dataspaces made and neither
 * revoked nor gone, and their byte sizes), allocations (MEMALLOC_ALLOC
 * calls that made one), failed calls by errno, revocations, and for the
 * contiguous kinds the searches for a block, the alloc_contig_range()
 * tries they made, the searches that found one, the pages in use in the
 * ranges found (see memalloc_observe_contig()) and the time searching.
 *
 * "pool": the pool of zeroed memory (pool.c): a header line, then its
 * line (memalloc_pool_show()).
 *
 * The list is guarded by memalloc_ds_list_lock, a mutex: a reader holds it
 * through its walk, and memalloc_ds_release() takes the dataspace off the
 * list before anything else, so no dataspace goes while a reader looks at
 * it. MEMALLOC_ALLOC and every release wait for the mutex, so a reader
 * never sleeps on anything a user controls while it holds it: it only tries
 * ds->lock and the mappings' i_mmap locks, bounds the vmas it counts, and
 * yields between rows. The release runs
 * at the last reference's put: a handle's dma-buf release, which is in
 * process context (the dentry's last dput(), from __fput(), which
 * interrupts and kernel threads defer to a work item), or the failure path
 * of MEMALLOC_ALLOC.
 */

/* A kind's index, for the statistics and tracepoints (see trace.h). */
#define MEMALLOC_KIND_SUPER	0x01
#define MEMALLOC_KIND_PINNED_BLOCK	0x02
#define MEMALLOC_KIND_CONTIG	0x04
#define MEMALLOC_KIND_WC	0x10
#define MEMALLOC_KIND_UC	0x20

/* Failed allocations, counted by errno. */
enum memalloc_failure {
	MEMALLOC_FAIL_ENOMEM,
	MEMALLOC_FAIL_EINTR,
	MEMALLOC_FAIL_EDQUOT,
	MEMALLOC_FAIL_EOPNOTSUPP,
	MEMALLOC_FAIL_OTHER,
	MEMALLOC_NR_FAILURES,
};

/*
 * The counters of one kind; searches and what follows only count for the
 * contiguous kinds.
 */
struct memalloc_kind_stats {
	atomic64_t live;
	atomic64_t bytes;
	atomic64_t allocations;
	atomic64_t failures[MEMALLOC_NR_FAILURES];
	atomic64_t revocations;
	atomic64_t searches;
	atomic64_t tries;
	atomic64_t found;
	atomic64_t migrated;
	atomic64_t search_ns;
};

static const char *const memalloc_kind_names[MEMALLOC_NR_KINDS] = {
	"lazy", "super", "pinned", "pinned+super", "contig", "contig+super",
};

static struct memalloc_kind_stats memalloc_stats[MEMALLOC_NR_KINDS];
static atomic64_t memalloc_last_id = ATOMIC64_INIT(0);
/* The live dataspaces, by their origin.node; see "DOC: observability". */
static LIST_HEAD(memalloc_ds_list);
static DEFINE_MUTEX(memalloc_ds_list_lock);
static struct dentry *memalloc_debugfs;

/* The kind of a dataspace made with @flags: an index of trace.h's names. */
static u32 memalloc_observe_kind(u32 flags)
{
	u32 kind = flags & MEMALLOC_SUPER_PAGES ? MEMALLOC_KIND_SUPER : 0;

	if (flags & MEMALLOC_CONTINUOUS)
		kind |= MEMALLOC_KIND_CONTIG;
	else if (flags & MEMALLOC_PINNED)
		kind |= MEMALLOC_KIND_PINNED_BLOCK;
	if (flags & MEMALLOC_WRITE_COMBINE)
		kind |= MEMALLOC_KIND_WC;
	else if (flags & MEMALLOC_UNCACHED)
		kind |= MEMALLOC_KIND_UC;
	return kind;
}

static struct memalloc_kind_stats *memalloc_stats_of(u32 flags)
{
	return &memalloc_stats[memalloc_observe_kind(flags) & 0x7];
}

/**
 * memalloc_ds_allocator_id() - the allocator a dataspace was made through
 * @ds: the dataspace
 *
 * Context: any.
 * Return: the allocator's number (memalloc_allocator_id()), which stays
 * with the dataspace after revocation lets the allocator go.
 */
u64 memalloc_ds_allocator_id(const struct memalloc_ds *ds)
{
	return ds->charge ? memalloc_charge_allocator_id(ds->charge) : 0;
}

/**
 * memalloc_observe_new() - put a new dataspace on the list, as live
 * @ds: the dataspace, whose size and flags are set
 *
 * Context: process context, the allocating task's; sleeps.
 */
void memalloc_observe_new(struct memalloc_ds *ds)
{
	struct memalloc_kind_stats *st = memalloc_stats_of(ds->flags);

	ds->origin.id = atomic64_inc_return(&memalloc_last_id);
	ds->origin.pid = task_tgid_nr(current);
	get_task_comm(ds->origin.comm, current);
	atomic_set(&ds->origin.live, 1);
	atomic64_inc(&st->live);
	atomic64_add(ds->size, &st->bytes);
	mutex_lock(&memalloc_ds_list_lock);
	list_add_tail(&ds->origin.node, &memalloc_ds_list);
	mutex_unlock(&memalloc_ds_list_lock);
}

/* No longer live, once: at revocation or when it goes. */
static void memalloc_observe_dead(struct memalloc_ds *ds)
{
	struct memalloc_kind_stats *st = memalloc_stats_of(ds->flags);

	if (atomic_xchg(&ds->origin.live, 0)) {
		atomic64_dec(&st->live);
		atomic64_sub(ds->size, &st->bytes);
	}
}

/**
 * memalloc_observe_alloc() - count and trace what MEMALLOC_ALLOC did
 * @cmd: the call's struct
 * @id: the id of the dataspace it made, or 0 if it made none
 * @ret: its result, 0 or a negative errno
 *
 * Context: process context.
 */
void memalloc_observe_alloc(const struct memalloc_alloc *cmd, u64 id, int ret)
{
	struct memalloc_kind_stats *st = memalloc_stats_of(cmd->flags);
	enum memalloc_failure why;

	trace_memalloc_alloc(id, memalloc_observe_kind(cmd->flags), cmd->length,
			     cmd->flags, cmd->align, ret);
	if (!ret) {
		atomic64_inc(&st->allocations);
		return;
	}
	switch (ret) {
	case -ENOMEM:
		why = MEMALLOC_FAIL_ENOMEM;
		break;
	case -EINTR:
		why = MEMALLOC_FAIL_EINTR;
		break;
	case -EDQUOT:
		why = MEMALLOC_FAIL_EDQUOT;
		break;
	case -EOPNOTSUPP:
		why = MEMALLOC_FAIL_EOPNOTSUPP;
		break;
	default:
		why = MEMALLOC_FAIL_OTHER;
		break;
	}
	atomic64_inc(&st->failures[why]);
}

/**
 * memalloc_observe_revoke() - count and trace a revocation
 * @ds: the dataspace, whose memory just went back
 *
 * Context: under ds->lock held for writing.
 */
void memalloc_observe_revoke(struct memalloc_ds *ds)
{
	lockdep_assert_held_write(&ds->lock);
	trace_memalloc_free(ds->origin.id, memalloc_observe_kind(ds->flags),
			    ds->size, true);
	atomic64_inc(&memalloc_stats_of(ds->flags)->revocations);
	memalloc_observe_dead(ds);
}

/**
 * memalloc_observe_release() - take a dataspace that goes off the list
 * @ds: the dataspace, at its last reference's put, still whole
 *
 * First in the release: a reader of the list may look at @ds until then.
 *
 * Context: process context; sleeps.
 */
void memalloc_observe_release(struct memalloc_ds *ds)
{
	/* Never listed: memalloc_ds_new() failed. */
	if (!ds->origin.id)
		return;
	mutex_lock(&memalloc_ds_list_lock);
	list_del(&ds->origin.node);
	mutex_unlock(&memalloc_ds_list_lock);
	trace_memalloc_free(ds->origin.id, memalloc_observe_kind(ds->flags),
			    ds->size, false);
	memalloc_observe_dead(ds);
}

/**
 * memalloc_observe_contig() - count and trace a search for a contiguous block
 * @ds: the dataspace the block is for
 * @tries: the alloc_contig_range() calls it made
 * @migrated: the pages in use, free neither in the buddy allocator nor as
 *            an unused page, in the range of the try that succeeded, as
 *            counted just before it (a hint without locks: alloc_contig_range()
 *            migrated them unless they were freed meanwhile; a large folio
 *            counts once); 0 when the page allocator had the block
 * @ret: the result, 0 or a negative errno
 * @ns: the time it took, in nanoseconds
 *
 * Context: process context.
 */
void memalloc_observe_contig(struct memalloc_ds *ds, unsigned int tries,
			     unsigned long migrated, int ret, u64 ns)
{
	struct memalloc_kind_stats *st = memalloc_stats_of(ds->flags);

	trace_memalloc_contig_search(ds->origin.id, (u64)ds->npages << PAGE_SHIFT,
				     ds->align, tries, migrated, ret, ns);
	atomic64_inc(&st->searches);
	atomic64_add(tries, &st->tries);
	if (!ret) {
		atomic64_inc(&st->found);
		atomic64_add(migrated, &st->migrated);
	}
	atomic64_add(ns, &st->search_ns);
}

/*
 * Past this many vmas mapping one file, a reader of the list stops counting
 * them: the walk holds the list, which MEMALLOC_ALLOC waits for.
 */
#define MEMALLOC_COUNT_VMAS_MAX	1024

/*
 * Add the vmas mapping @mapping, its i_mmap tree's nodes, to *@n: false,
 * with *@n as it was, when the tree is locked for writing or is longer
 * than MEMALLOC_COUNT_VMAS_MAX.
 */
static bool memalloc_count_vmas(struct address_space *mapping, unsigned int *n)
{
	struct rb_node *node;
	unsigned int i = 0;

	if (!i_mmap_trylock_read(mapping))
		return false;
	for (node = rb_first_cached(&mapping->i_mmap);
	     node && i <= MEMALLOC_COUNT_VMAS_MAX; node = rb_next(node))
		i++;
	i_mmap_unlock_read(mapping);
	if (i > MEMALLOC_COUNT_VMAS_MAX)
		return false;
	*n += i;
	return true;
}

/*
 * The first and last byte of a contiguous block, once it is found: the
 * allocation fills ds->pages without ds->lock, so only a last entry set
 * tells that the first is.
 */
static void memalloc_phys_range(struct memalloc_ds *ds, char *buf, size_t len)
{
	struct page **pages = READ_ONCE(ds->pages);
	struct page *first, *last;

	if (!(ds->flags & MEMALLOC_CONTINUOUS) || !pages)
		return;
	last = READ_ONCE(pages[ds->npages - 1]);
	first = READ_ONCE(pages[0]);
	if (!first || !last)
		return;
	snprintf(buf, len, "0x%llx-0x%llx", (u64)page_to_phys(first),
		 (u64)page_to_phys(last) + PAGE_SIZE - 1);
}

/*
 * The command, which its task chose: "-" for none, every byte but printable
 * ASCII, and space and backslash, as an octal escape (\033), and "\055"
 * for a command "-".
 */
static void memalloc_show_comm(struct seq_file *m, const char *comm)
{
	if (!comm[0])
		seq_putc(m, '-');
	else if (!strcmp(comm, "-"))
		seq_puts(m, "\\055");
	else
		seq_escape_str(m, comm, ESCAPE_OCTAL | ESCAPE_NAP | ESCAPE_APPEND, " \\");
}

/*
 * One row. The fields that ds->lock guards are "?" while someone holds it
 * for writing or waits to (a revocation), and the mappings also while a
 * mapping's tree is being changed or has more than MEMALLOC_COUNT_VMAS_MAX
 * vmas: a reader holds the list, and waits for no dataspace.
 */
static int memalloc_ds_show_one(struct seq_file *m, struct memalloc_ds *ds)
{
	char resident[24] = "?", phys[40] = "?", mappings[12] = "?", attachments[12] = "?";
	u32 kind = memalloc_observe_kind(ds->flags);
	unsigned int n = 0;

	if (down_read_trylock(&ds->lock)) {
		strscpy(resident, "-", sizeof(resident));
		strscpy(phys, "-", sizeof(phys));
		if (!ds->dead) {
			snprintf(resident, sizeof(resident), "%llu",
				 ds->backing->resident(ds));
			memalloc_phys_range(ds, phys, sizeof(phys));
		}
		snprintf(attachments, sizeof(attachments), "%u", READ_ONCE(ds->attachments));
		/* Block mappings are on the dataspace's inode, lazy ones on the map file. */
		if (memalloc_count_vmas(ds->inode->i_mapping, &n) &&
		    (!ds->map_file || memalloc_count_vmas(ds->map_file->f_mapping, &n)))
			snprintf(mappings, sizeof(mappings), "%u", n);
		up_read(&ds->lock);
	}

	seq_printf(m, "%llu %d ", ds->origin.id, ds->origin.pid);
	memalloc_show_comm(m, ds->origin.comm);
	seq_printf(m, " %s%s %llu %s %s %u %s %s %llu\n",
		   memalloc_kind_names[kind & 0x7],
		   kind & MEMALLOC_KIND_WC ? "+wc" : kind & MEMALLOC_KIND_UC ? "+uc" : "",
		   ds->size, resident, phys, kref_read(&ds->kref), mappings,
		   attachments, memalloc_ds_allocator_id(ds));
	/* The walk holds the list: one row at a time, yielding between them. */
	cond_resched();
	return 0;
}

static void *memalloc_ds_seq_start(struct seq_file *m, loff_t *pos)
{
	mutex_lock(&memalloc_ds_list_lock);
	return seq_list_start_head(&memalloc_ds_list, *pos);
}

static void *memalloc_ds_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	return seq_list_next(v, &memalloc_ds_list, pos);
}

static void memalloc_ds_seq_stop(struct seq_file *m, void *v)
{
	mutex_unlock(&memalloc_ds_list_lock);
}

static int memalloc_ds_seq_show(struct seq_file *m, void *v)
{
	if (v == &memalloc_ds_list) {
		seq_puts(m, "id pid comm kind size resident phys handles mappings attachments allocator\n");
		return 0;
	}
	return memalloc_ds_show_one(m, list_entry(v, struct memalloc_ds, origin.node));
}

static const struct seq_operations memalloc_dataspaces_sops = {
	.start = memalloc_ds_seq_start,
	.next = memalloc_ds_seq_next,
	.stop = memalloc_ds_seq_stop,
	.show = memalloc_ds_seq_show,
};
DEFINE_SEQ_ATTRIBUTE(memalloc_dataspaces);

static int memalloc_stats_show(struct seq_file *m, void *v)
{
	const struct memalloc_kind_stats *st;
	int k, f;

	seq_puts(m, "kind live bytes allocations ENOMEM EINTR EDQUOT EOPNOTSUPP other revocations searches tries found migrated search_ns\n");
	for (k = 0; k < MEMALLOC_NR_KINDS; k++) {
		st = &memalloc_stats[k];
		seq_printf(m, "%s %lld %lld %lld", memalloc_kind_names[k],
			   atomic64_read(&st->live), atomic64_read(&st->bytes),
			   atomic64_read(&st->allocations));
		for (f = 0; f < MEMALLOC_NR_FAILURES; f++)
			seq_printf(m, " %lld", atomic64_read(&st->failures[f]));
		seq_printf(m, " %lld %lld %lld %lld %lld %lld\n",
			   atomic64_read(&st->revocations), atomic64_read(&st->searches),
			   atomic64_read(&st->tries), atomic64_read(&st->found),
			   atomic64_read(&st->migrated), atomic64_read(&st->search_ns));
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(memalloc_stats);

static int memalloc_pool_stats_show(struct seq_file *m, void *v)
{
	memalloc_pool_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(memalloc_pool_stats);

/**
 * memalloc_observe_init() - make memalloc's debugfs files
 *
 * Without debugfs the module works on, unobserved: debugfs's own errors
 * are not the module's.
 *
 * Context: module init.
 */
void memalloc_observe_init(void)
{
	memalloc_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("dataspaces", 0400, memalloc_debugfs, NULL,
			    &memalloc_dataspaces_fops);
	debugfs_create_file("stats", 0400, memalloc_debugfs, NULL,
			    &memalloc_stats_fops);
	debugfs_create_file("pool", 0400, memalloc_debugfs, NULL,
			    &memalloc_pool_stats_fops);
}

/**
 * memalloc_observe_exit() - remove them
 *
 * Context: module exit.
 */
void memalloc_observe_exit(void)
{
	debugfs_remove_recursive(memalloc_debugfs);
}
