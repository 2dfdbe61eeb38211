// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: a sequence fuzzer. Threads run random programs over
 * every operation a user has on dataspaces: each ioctl, with valid and
 * invalid arguments; mappings and everything done to them (reads and
 * writes, munmap of all or part, mremap, mprotect, madvise,
 * remap_file_pages); fds passed on with dup, dup2, SCM_RIGHTS, fork and
 * /proc/self/fd; and the rest of the kernel using the memory (O_DIRECT from
 * /dev/ram0, vmsplice, io_uring fixed buffers, vgem imports). The threads
 * share one table of fds and mappings, locked for its bookkeeping only:
 * the calls themselves race, revocation (MEMALLOC_FREE) above all.
 *
 * What it proves: every call succeeds or fails with an errno from the set
 * the interface allows for it in the state the table knows (a revoked
 * dataspace answers ENODEV and its mappings SIGBUS, a read-only handle
 * EACCES, a closed fd EBADF, an fd of something else EINVAL, ...); a
 * mapping of a revoked dataspace never reaches memory again; and once every
 * fd and mapping is gone nothing is left: no fd, no mapping, VmPin back to
 * 0. On the debug kernel, KASAN, lockdep and kmemleak judge the rest.
 *
 * MEMALLOC_FUZZ_SEED seeds a run (default: from the clock; printed first);
 * each thread's generator derives from it and the thread's index.
 * MEMALLOC_FUZZ_SECONDS (default 60) and MEMALLOC_FUZZ_OPS (default no
 * bound) end it, MEMALLOC_FUZZ_THREADS (default 4) sets the threads. With
 * one thread and MEMALLOC_FUZZ_OPS, a seed replays the same program;
 * MEMALLOC_FUZZ_VERBOSE=1 prints every operation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm/drm.h>
#include <linux/dma-buf.h>
#include <linux/io_uring.h>

#include "kselftest_harness.h"
#include "util.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define KIB 1024ul
#define MIB (1024 * KIB)
#define SUPER (2 * MIB)
#define BLOCK_DEV "/dev/ram0"
#define DEFAULT_SECONDS 60

#define MAX_THREADS 16
#define MAX_ENTRIES 64		/* fds in the table */
#define MAX_MAPS 96		/* mappings in the table */
#define MAX_DS 48		/* dataspaces the table keeps alive */
#define MAX_BYTES (256 * MIB)	/* and their memory */
#define POOL_DS (MAX_DS + 16)
#define MAX_IMPORTS 8		/* vgem imports per thread */
#define MAX_PATHS 4		/* O_PATH fds kept per thread */
#define MAX_FOREIGN 6
#define TRAIL 16
#define NOTE_LEN 200

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The operations: name and weight. */
#define FZ_OPS(X)					\
	X(alloc, 60)					\
	X(alloc_invalid, 8)				\
	X(version, 3)					\
	X(info, 40)					\
	X(allocate, 30)					\
	X(clear, 30)					\
	X(copy_in, 30)					\
	X(phys, 20)					\
	X(dup_handle, 35)				\
	X(free, 12)					\
	X(close, 55)					\
	X(foreign_fd, 12)				\
	X(fd_dup, 20)					\
	X(o_path, 8)					\
	X(scm_rights, 15)				\
	X(fd_misc, 20)					\
	X(mmap, 70)					\
	X(mmap_invalid, 10)				\
	X(munmap, 40)					\
	X(munmap_part, 15)				\
	X(mremap, 20)					\
	X(mprotect, 25)					\
	X(madvise, 45)					\
	X(touch, 140)					\
	X(remap_file_pages, 8)				\
	X(o_direct, 25)					\
	X(io_uring, 15)					\
	X(vgem, 20)					\
	X(vmsplice, 20)					\
	X(fork, 3)

#define FZ_ENUM(name, weight) OP_##name,
enum { FZ_OPS(FZ_ENUM) OP_COUNT };

/* A set of results: bit n for errno n, bit 0 for success. */
typedef uint64_t eset;

#define EB_OTHER 62		/* an errno no set holds */
#define EB_EOPNOTSUPP 63

static eset eb(int err)
{
	if (err == EOPNOTSUPP)
		return 1ull << EB_EOPNOTSUPP;
	if (err >= 0 && err < EB_OTHER)
		return 1ull << err;
	return 1ull << EB_OTHER;
}

#define OK eb(0)

static const struct { int err; const char *name; } errnames[] = {
	{ 0, "success" }, { EPERM, "EPERM" }, { ENOENT, "ENOENT" },
	{ EINTR, "EINTR" }, { EIO, "EIO" }, { ENXIO, "ENXIO" },
	{ E2BIG, "E2BIG" }, { EBADF, "EBADF" }, { EAGAIN, "EAGAIN" },
	{ ENOMEM, "ENOMEM" }, { EACCES, "EACCES" }, { EFAULT, "EFAULT" },
	{ EBUSY, "EBUSY" }, { EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
	{ EINVAL, "EINVAL" }, { EMFILE, "EMFILE" }, { ENOTTY, "ENOTTY" },
	{ ENOSPC, "ENOSPC" }, { ESPIPE, "ESPIPE" }, { EPIPE, "EPIPE" },
	{ ERANGE, "ERANGE" }, { EOPNOTSUPP, "EOPNOTSUPP" },
	{ EOVERFLOW, "EOVERFLOW" },
};

static const char *ename(int err)
{
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(errnames); i++)
		if (errnames[i].err == err)
			return errnames[i].name;
	return "an unknown errno";
}

static void eset_str(eset s, char *buf, size_t len)
{
	unsigned int i;
	size_t n = 0;

	buf[0] = 0;
	for (i = 0; i < ARRAY_LEN(errnames) && n < len; i++)
		if (s & eb(errnames[i].err))
			n += snprintf(buf + n, len - n, "%s%s", n ? " " : "",
				      errnames[i].name);
}

/* Our view of a dataspace. Only the counters change after allocation. */
struct fz_ds {
	int used;
	uint32_t flags;
	uint32_t align;		/* as MEMALLOC_ALLOC raised it */
	uint64_t size;
	uint64_t mappable;
	int refs;		/* entries, mappings, imports, holders */
	int freeing;		/* MEMALLOC_FREE calls in flight, a child's too */
	int dead;		/* a MEMALLOC_FREE of it returned 0 */
	int imports;		/* vgem imports holding an attachment */
	int attaching;		/* vgem imports and their closes in flight */
	unsigned int att_events; /* vgem imports and closes begun */
};

/* An fd of a dataspace. */
struct fz_entry {
	int used;
	int fd;
	struct fz_ds *ds;
	int writable;		/* a handle with MEMALLOC_RIGHT_W */
	int refs;		/* operations in flight on it */
	int closed;		/* out of the table; the last holder closes it */
	int racy;		/* its number was pointed at /dev/null in use */
};

/* A mapping of a dataspace: always exactly one vma. */
struct fz_map {
	int used;
	char *addr;
	size_t len;
	uint64_t off;
	int prot;
	int shared;		/* VM_SHARED: mapped from a writable handle */
	struct fz_ds *ds;
	int refs;		/* operations using it */
	int busy;		/* an operation that changes it holds it alone */
	int replaced;		/* an anonymous PROT_NONE mapping took its place */
	int pbusy;		/* an mprotect() or MADV_(NO)HUGEPAGE in flight */
	unsigned int epoch;	/* counts their starts and ends */
	int nohuge;		/* MADV_NOHUGEPAGE is in force */
};

struct fz_import {
	uint32_t handle;
	ino_t ino;
	struct fz_ds *ds;
};

struct fz_thread {
	int idx;
	uint64_t rng;
	pthread_t tid;
	long count[OP_COUNT];
	eset seen[OP_COUNT];	/* the results each operation had */
	long sigbus, sigsegv;	/* faults its accesses took, as allowed */
	long ops;
	int did;		/* the operation run, which may stand in for another */
	int vgem;
	struct fz_import imp[MAX_IMPORTS];
	int nimp;
	int ring;
	int ring_bufs;
	struct fz_ds *ring_ds[2];
	int pipe[2];
	int blk;
	uint64_t blk_size;
	int path[MAX_PATHS];
	struct fz_ds *path_ds[MAX_PATHS];
	int npaths;
	char note[NOTE_LEN];		/* the operation running */
	char trail[TRAIL][NOTE_LEN];	/* the ones before it */
	unsigned int ntrail;
};

static struct {
	pthread_mutex_t lock;	/* the table's bookkeeping */
	/*
	 * Held for writing across the only sequence that may leave a hole
	 * inside a mapping of the table (remap_file_pages() failing after it
	 * unmapped the range), for reading by whatever lets the kernel choose
	 * an address: nothing can land in such a hole then.
	 */
	pthread_rwlock_t va;
	struct fz_ds ds[POOL_DS];
	struct fz_entry ent[MAX_ENTRIES];
	struct fz_map map[MAX_MAPS];
	int nds;
	uint64_t bytes;
	int dev, dev_ro, devnull, hole;
	int foreign[MAX_FOREIGN];	/* fds that are no dataspace */
	int foreign_err[MAX_FOREIGN];	/* what a command answers for them */
	int foreign_mmap[MAX_FOREIGN];	/* what mmap() does, 0: not tried */
	int nforeign;
	int opath_fd, vgem_fd;
	uint32_t supported;
	uint32_t kinds, gup_kinds, io_uring_kinds;	/* MEMALLOC_VERSION's facts */
	int sys_admin;		/* CAP_SYS_ADMIN, which can be dropped and raised */
	size_t page;
	uint64_t seed;
	int threads;
	long max_ops;
	long total;
	struct timespec until;
	int verbose;
	volatile int stop;
	int failed;
	char why[1024];
	char trail[TRAIL][NOTE_LEN];
	int ntrail;
	struct fz_thread th[MAX_THREADS];
} fz = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.va = PTHREAD_RWLOCK_INITIALIZER,
};

static const uint32_t kinds[] = {
	0, MEMALLOC_PINNED, MEMALLOC_CONTINUOUS,
	MEMALLOC_PINNED | MEMALLOC_CONTINUOUS,
	MEMALLOC_SUPER_PAGES, MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES,
	MEMALLOC_PINNED | MEMALLOC_WRITE_COMBINE,
	MEMALLOC_CONTINUOUS | MEMALLOC_WRITE_COMBINE,
	MEMALLOC_PINNED | MEMALLOC_UNCACHED,
};

/* Memory taken at allocation (block-backed, or pinned super pages). */
static int ds_eager(uint32_t f)
{
	return !!(f & (MEMALLOC_PINNED | MEMALLOC_CONTINUOUS));
}

/* Mappings of the shmem file: lazy dataspaces and every SUPER_PAGES one. */
static int ds_shmem(uint32_t f)
{
	return (f & MEMALLOC_SUPER_PAGES) || !ds_eager(f);
}

/*
 * PINNED SUPER_PAGES: where MADV_NOHUGEPAGE is in force, its faults may get
 * SIGBUS rather than map the huge pages with 4 KiB entries.
 */
static int ds_pinned_super(uint32_t f)
{
	return ds_shmem(f) && ds_eager(f);
}

/*
 * Mappings that get_user_pages() users (O_DIRECT, vmsplice, io_uring) and
 * MADV_POPULATE_* cannot take pages from: EFAULT (EINVAL for the madvise).
 */
static int ds_gup_refused(uint32_t f)
{
	return !(fz.gup_kinds & kind_of(f));
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(struct fz_thread *t)
{
	return splitmix(&t->rng);
}

static uint64_t below(struct fz_thread *t, uint64_t n)
{
	return n ? rnd(t) % n : 0;
}

static int chance(struct fz_thread *t, unsigned int percent)
{
	return below(t, 100) < percent;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void fz_note(struct fz_thread *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->note, sizeof(t->note), fmt, ap);
	va_end(ap);
}

/* The first failure ends the run: it keeps the seed, the op and the trail. */
static void fz_fail(struct fz_thread *t, const char *fmt, ...)
{
	char msg[512];
	unsigned int i, n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&fz.lock);
	if (!fz.failed) {
		fz.failed = 1;
		snprintf(fz.why, sizeof(fz.why),
			 "seed %" PRIu64 ", thread %d, its operation %ld: %s: %s",
			 fz.seed, t->idx, t->ops, t->note, msg);
		n = t->ntrail < TRAIL ? t->ntrail : TRAIL;
		for (i = 0; i < n; i++)
			memcpy(fz.trail[i], t->trail[(t->ntrail - n + i) % TRAIL],
			       NOTE_LEN);
		fz.ntrail = n;
	}
	fz.stop = 1;
	pthread_mutex_unlock(&fz.lock);
}

/* 0 when @err (0 or an errno) is in @allowed; else the run fails. */
static int fz_check(struct fz_thread *t, const char *what, int err, eset allowed)
{
	char set[256];

	t->seen[t->did] |= eb(err);
	if (eb(err) & allowed)
		return 0;
	eset_str(allowed, set, sizeof(set));
	fz_fail(t, "%s returned %s (%d), allowed: %s", what, ename(err), err, set);
	return -1;
}

static int sys_err(int ret)
{
	return ret < 0 ? errno : 0;
}

static int mioc(unsigned long cmd, void *arg)
{
	return ioctl(fz.dev, cmd, arg) ? errno : 0;
}

/*
 * Faults in the threads: a SIGBUS or SIGSEGV while an access is armed
 * returns to it; anywhere else it kills the process as ever.
 */
static __thread sigjmp_buf fz_jmp;
static __thread volatile sig_atomic_t fz_armed;

static void fz_fault(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (fz_armed) {
		fz_armed = 0;
		siglongjmp(fz_jmp, sig);
	}
	signal(sig, SIG_DFL);
}

/* One read or write of a byte: 0, or the signal it took. */
static int fz_access(char *p, int write, char val)
{
	volatile char *q = p;
	int sig;

	fz_armed = 1;
	sig = sigsetjmp(fz_jmp, 1);
	if (!sig) {
		if (write)
			*q = val;
		else
			(void)*q;
	}
	fz_armed = 0;
	return sig;
}

/* Dataspaces, entries and mappings: bookkeeping under fz.lock. */

static int ds_mayd(const struct fz_ds *d)
{
	return d->dead || d->freeing;
}

static void ds_put_locked(struct fz_ds *d)
{
	if (--d->refs)
		return;
	fz.nds--;
	fz.bytes -= d->mappable;
	memset(d, 0, sizeof(*d));
}

static void ds_put(struct fz_ds *d)
{
	pthread_mutex_lock(&fz.lock);
	ds_put_locked(d);
	pthread_mutex_unlock(&fz.lock);
}

static void ds_get(struct fz_ds *d)
{
	pthread_mutex_lock(&fz.lock);
	d->refs++;
	pthread_mutex_unlock(&fz.lock);
}

/* A new dataspace, one reference held, or NULL over the table's budget. */
static struct fz_ds *ds_new(uint32_t flags, uint64_t size, uint32_t align)
{
	uint64_t unit = flags & MEMALLOC_SUPER_PAGES ? SUPER : fz.page;
	uint64_t mappable = (size + unit - 1) / unit * unit;
	struct fz_ds *d = NULL;
	int i;

	pthread_mutex_lock(&fz.lock);
	if (fz.nds < MAX_DS && fz.bytes + mappable <= MAX_BYTES)
		for (i = 0; i < POOL_DS && !d; i++)
			if (!fz.ds[i].used)
				d = &fz.ds[i];
	if (d) {
		memset(d, 0, sizeof(*d));
		d->used = 1;
		d->flags = flags;
		d->size = size;
		d->mappable = mappable;
		d->align = align;
		d->refs = 1;
		fz.nds++;
		fz.bytes += mappable;
	}
	pthread_mutex_unlock(&fz.lock);
	return d;
}

/* An entry an operation holds (a reference), as it was when taken. */
struct ectx {
	int i;
	int fd;
	struct fz_ds *d;
	int writable;
	int dead0;		/* revoked before the operation began */
};

static int ent_take(struct fz_thread *t, struct ectx *c)
{
	int idx[MAX_ENTRIES], n = 0, i;
	struct fz_entry *e;

	pthread_mutex_lock(&fz.lock);
	for (i = 0; i < MAX_ENTRIES; i++)
		if (fz.ent[i].used && !fz.ent[i].closed)
			idx[n++] = i;
	if (!n) {
		pthread_mutex_unlock(&fz.lock);
		return -1;
	}
	c->i = idx[below(t, n)];
	e = &fz.ent[c->i];
	e->refs++;
	c->fd = e->fd;
	c->d = e->ds;
	c->writable = e->writable;
	c->dead0 = e->ds->dead;
	pthread_mutex_unlock(&fz.lock);
	return 0;
}

/* After the call: may the dataspace be revoked, was the fd pointed away. */
static void ent_state(const struct ectx *c, int *mayd, int *racy)
{
	pthread_mutex_lock(&fz.lock);
	*mayd = ds_mayd(c->d);
	*racy = fz.ent[c->i].racy;
	pthread_mutex_unlock(&fz.lock);
}

static void ent_release(struct fz_entry *e)
{
	ds_put_locked(e->ds);
	memset(e, 0, sizeof(*e));
}

static void ent_put(struct fz_thread *t, const struct ectx *c)
{
	struct fz_entry *e = &fz.ent[c->i];
	int fd = -1;

	pthread_mutex_lock(&fz.lock);
	if (!--e->refs && e->closed) {
		fd = e->fd;
		ent_release(e);
	}
	pthread_mutex_unlock(&fz.lock);
	if (fd >= 0)
		fz_check(t, "close", sys_err(close(fd)), OK);
}

/* A new fd of @d in the table, or closed when the table is full. */
static void ent_add(struct fz_thread *t, int fd, struct fz_ds *d, int writable)
{
	struct fz_entry *e = NULL;
	int i;

	pthread_mutex_lock(&fz.lock);
	for (i = 0; i < MAX_ENTRIES && !e; i++)
		if (!fz.ent[i].used)
			e = &fz.ent[i];
	if (e) {
		memset(e, 0, sizeof(*e));
		e->used = 1;
		e->fd = fd;
		e->ds = d;
		e->writable = writable;
		d->refs++;
		fd = -1;
	}
	pthread_mutex_unlock(&fz.lock);
	if (fd >= 0)
		fz_check(t, "close of an fd the table has no room for",
			 sys_err(close(fd)), OK);
}

/* The set a command on an entry allows. */
static eset ds_allowed(const struct ectx *c, eset live, int dead_err, int mayd,
		       int racy)
{
	eset s = c->dead0 ? eb(dead_err) : live | (mayd ? eb(dead_err) : 0);

	/* /dev/null in its place: no dma-buf. */
	return racy ? s | eb(EINVAL) : s;
}

/* A mapping an operation holds, shared or alone, as it was when taken. */
struct mctx {
	int i;
	char *addr;
	size_t len;
	uint64_t off;
	int prot;
	int shared;
	struct fz_ds *d;
	int dead0;
	int stable0;		/* no mprotect() in flight when taken */
	unsigned int epoch0;
	int nohuge;
};

static void map_snap(struct mctx *c, int i)
{
	struct fz_map *m = &fz.map[i];

	c->i = i;
	c->addr = m->addr;
	c->len = m->len;
	c->off = m->off;
	c->prot = m->prot;
	c->shared = m->shared;
	c->d = m->ds;
	c->dead0 = m->ds->dead;
	c->stable0 = !m->pbusy;
	c->epoch0 = m->epoch;
	c->nohuge = m->nohuge;
}

/* Faults may get SIGBUS without a revocation (see ds_pinned_super()). */
static int map_thp_sigbus(const struct mctx *c, int stable)
{
	return ds_pinned_super(c->d->flags) && (c->nohuge || !stable);
}

static int map_take(struct fz_thread *t, struct mctx *c, int alone)
{
	int idx[MAX_MAPS], n = 0, i;
	struct fz_map *m;

	pthread_mutex_lock(&fz.lock);
	for (i = 0; i < MAX_MAPS; i++) {
		m = &fz.map[i];
		if (m->used && !m->replaced && !m->busy && (!alone || !m->refs))
			idx[n++] = i;
	}
	if (!n) {
		pthread_mutex_unlock(&fz.lock);
		return -1;
	}
	i = idx[below(t, n)];
	if (alone)
		fz.map[i].busy = 1;
	else
		fz.map[i].refs++;
	map_snap(c, i);
	pthread_mutex_unlock(&fz.lock);
	return 0;
}

/*
 * After the operation: may the dataspace be revoked, was the mapping
 * replaced, did its protection stay what it was when taken.
 */
static void map_state(const struct mctx *c, int *mayd, int *replaced, int *stable)
{
	struct fz_map *m = &fz.map[c->i];

	pthread_mutex_lock(&fz.lock);
	*mayd = ds_mayd(m->ds);
	*replaced = m->replaced;
	*stable = c->stable0 && !m->replaced && m->epoch == c->epoch0;
	pthread_mutex_unlock(&fz.lock);
}

static void map_release(struct fz_map *m)
{
	ds_put_locked(m->ds);
	memset(m, 0, sizeof(*m));
}

static void map_put(struct fz_thread *t, const struct mctx *c)
{
	struct fz_map *m = &fz.map[c->i];
	size_t len = 0;
	char *addr = NULL;

	pthread_mutex_lock(&fz.lock);
	if (!--m->refs && m->replaced) {
		addr = m->addr;
		len = m->len;
		map_release(m);
	}
	pthread_mutex_unlock(&fz.lock);
	if (addr)
		fz_check(t, "munmap of a replaced mapping", sys_err(munmap(addr, len)), OK);
}

static void map_done_alone(const struct mctx *c, int gone)
{
	pthread_mutex_lock(&fz.lock);
	if (gone)
		map_release(&fz.map[c->i]);
	else
		fz.map[c->i].busy = 0;
	pthread_mutex_unlock(&fz.lock);
}

/* A new mapping in the table, or unmapped when the table is full. */
static int map_add(struct fz_thread *t, char *addr, size_t len, uint64_t off,
		   int prot, int shared, struct fz_ds *d)
{
	struct fz_map *m = NULL;
	int i;

	pthread_mutex_lock(&fz.lock);
	for (i = 0; i < MAX_MAPS && !m; i++)
		if (!fz.map[i].used)
			m = &fz.map[i];
	if (m) {
		memset(m, 0, sizeof(*m));
		m->used = 1;
		m->addr = addr;
		m->len = len;
		m->off = off;
		m->prot = prot;
		m->shared = shared;
		m->ds = d;
		d->refs++;
	}
	pthread_mutex_unlock(&fz.lock);
	if (!m)
		fz_check(t, "munmap of a mapping the table has no room for",
			 sys_err(munmap(addr, len)), OK);
	return m ? (int)(m - fz.map) : -1;
}

/* Where a mapping goes. */
enum { PLACE_ANY, PLACE_ALIGNED, PLACE_SKEWED };

/*
 * mmap() of @fd at an address of @place's kind: anywhere, 2 MiB aligned,
 * or a page past that. A dma-buf has no get_unmapped_area: reserve room,
 * give back all but a hole of the right place, and map into the hole
 * without replacing anything, in case another thread took it meanwhile.
 */
static char *fz_mmap(int fd, size_t len, int prot, uint64_t off, int place)
{
	size_t span = len + SUPER;
	char *res, *at, *p;

	if (place != PLACE_ANY) {
		pthread_rwlock_rdlock(&fz.va);
		res = mmap(NULL, span, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		pthread_rwlock_unlock(&fz.va);
		if (res == MAP_FAILED)
			return MAP_FAILED;
		at = (char *)(((uintptr_t)res + SUPER - 1) & ~(uintptr_t)(SUPER - 1));
		if (place == PLACE_SKEWED)
			at += fz.page;
		if (at > res)
			munmap(res, at - res);
		if (at + len < res + span)
			munmap(at + len, res + span - (at + len));
		munmap(at, len);
		p = mmap(at, len, prot, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, off);
		if (p != MAP_FAILED || errno != EEXIST)
			return p;
	}
	pthread_rwlock_rdlock(&fz.va);
	p = mmap(NULL, len, prot, MAP_SHARED, fd, off);
	pthread_rwlock_unlock(&fz.va);
	return p;
}

/* The ioctls. */

static uint64_t gen_size(struct fz_thread *t, uint32_t flags)
{
	unsigned int r = below(t, 100);

	if (flags & MEMALLOC_SUPER_PAGES)
		return 1 + below(t, r < 70 ? 2 * MIB : 8 * MIB);
	if (r < 50)
		return 1 + below(t, 64 * KIB);
	if (r < 90)
		return 1 + below(t, MIB);
	return 1 + below(t, 6 * MIB);
}

static int op_close(struct fz_thread *t);
static int op_munmap(struct fz_thread *t);

/* Every byte of a new dataspace reads as zero, the padding too. */
static void check_zeroed(struct fz_thread *t, int fd, struct fz_ds *d)
{
	size_t len = d->mappable, step, i;
	char *p;
	int sig;

	p = fz_mmap(fd, len, PROT_READ, 0, PLACE_ANY);
	if (p == MAP_FAILED) {
		fz_check(t, "mmap of a new dataspace", errno, OK);
		return;
	}
	step = len <= 256 * KIB ? 1 : fz.page + 64;
	for (i = 0; i < len; i += step) {
		if (step == 1 && i + 64 <= len) {
			sig = fz_access(p + i, 0, 0);
			if (!sig && !all_zero(p + i, 64)) {
				fz_fail(t, "a new dataspace reads non-zero at %zu", i);
				break;
			}
			i += 63;
		} else {
			sig = fz_access(p + i, 0, 0);
			if (!sig && p[i]) {
				fz_fail(t, "a new dataspace reads non-zero at %zu", i);
				break;
			}
		}
		if (sig) {
			fz_fail(t, "a new dataspace's mapping got signal %d at %zu", sig, i);
			break;
		}
	}
	munmap(p, len);
}

static int op_alloc(struct fz_thread *t)
{
	uint32_t flags = kinds[below(t, ARRAY_LEN(kinds))];
	uint32_t shift = flags & MEMALLOC_SUPER_PAGES ? 21 : 12, align = 0, raised;
	struct memalloc_alloc a = { .size = sizeof(a) };
	uint64_t size = gen_size(t, flags);
	int ro = chance(t, 10), cloexec = chance(t, 50), err, fdf;
	struct fz_ds *d;
	eset allowed;

	if (chance(t, 30))
		align = 12 + below(t, flags & MEMALLOC_CONTINUOUS ? 12 : 14);
	raised = align > shift ? align : shift;
	d = ds_new(flags, size, raised);
	if (!d) {
		/* Over the budget: give something back instead. */
		t->did = chance(t, 50) ? OP_munmap : OP_close;
		return t->did == OP_close ? op_close(t) : op_munmap(t);
	}
	a.flags = flags;
	a.length = size;
	a.align = align;
	a.fd_flags = cloexec ? O_CLOEXEC : 0;
	fz_note(t, "MEMALLOC_ALLOC flags %#x length %" PRIu64 " align %u%s%s",
		flags, size, align, cloexec ? " O_CLOEXEC" : "",
		ro ? " on an O_RDONLY /dev/memalloc" : "");
	err = ioctl(ro ? fz.dev_ro : fz.dev, MEMALLOC_ALLOC, &a) ? errno : 0;
	allowed = flags & ~fz.supported ? eb(EOPNOTSUPP) : OK | eb(ENOMEM);
	/* Allocating through a read-only open is being refused (EBADF). */
	if (ro)
		allowed |= eb(EBADF);
	if (fz_check(t, "MEMALLOC_ALLOC", err, allowed) || err) {
		ds_put(d);
		return 1;
	}
	if (a.align != raised)
		fz_fail(t, "MEMALLOC_ALLOC wrote back align %u, not %u", a.align, raised);
	fdf = fcntl(a.out_fd, F_GETFD);
	if (fdf < 0 || !(fdf & FD_CLOEXEC) != !cloexec)
		fz_fail(t, "the new fd's flags are %d", fdf);
	if (chance(t, 15))
		check_zeroed(t, a.out_fd, d);
	ent_add(t, a.out_fd, d, 1);
	ds_put(d);
	return 1;
}

static int op_alloc_invalid(struct fz_thread *t)
{
	struct memalloc_alloc a = {
		.size = sizeof(a), .length = 1 + below(t, 64 * KIB),
		.flags = chance(t, 50) ? MEMALLOC_PINNED : 0,
	};
	const char *what;
	int want, err;

	switch (below(t, 10)) {
	case 0:
		a.flags |= 0x8u << below(t, 5);
		what = "an unknown flag";
		want = EINVAL;
		break;
	case 1:
		a.flags = MEMALLOC_PINNED | MEMALLOC_CACHING_MASK;
		what = "the caching value 0x300";
		want = EINVAL;
		break;
	case 2:
		a.align = 31 + below(t, 40);
		what = "an align above PUD_SHIFT";
		want = EINVAL;
		break;
	case 3:
		a.fd_flags = O_NONBLOCK;
		what = "fd_flags O_NONBLOCK";
		want = EINVAL;
		break;
	case 4:
		a.length = 0;
		what = "length 0";
		want = ERANGE;
		break;
	case 5:
		a.flags = 0;
		a.length = ~0ull - below(t, 4095);
		what = "a length that overflows when rounded";
		want = ERANGE;
		break;
	case 6:
		a.length = 1ull << 40;
		what = "1 TiB";
		want = ENOMEM;
		break;
	case 7:
		a.flags |= MEMALLOC_SUPER_PAGES | MEMALLOC_CONTINUOUS;
		what = "SUPER_PAGES with CONTINUOUS";
		/* Where the kernel maps them, only with a caching attribute. */
		if (fz.kinds & MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES) {
			a.flags |= MEMALLOC_WRITE_COMBINE;
			what = "SUPER_PAGES with CONTINUOUS and write-combining";
		}
		want = EOPNOTSUPP;
		break;
	case 8:
		a.flags = chance(t, 50) ? MEMALLOC_WRITE_COMBINE :
			  MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES | MEMALLOC_UNCACHED;
		what = "a caching attribute for memory that moves";
		want = EOPNOTSUPP;
		break;
	default:
		a.__reserved = 1;
		what = "a non-zero __reserved";
		want = EINVAL;
		break;
	}
	fz_note(t, "MEMALLOC_ALLOC with %s (flags %#x length %#" PRIx64 " align %u)",
		what, a.flags, (uint64_t)a.length, a.align);
	err = mioc(MEMALLOC_ALLOC, &a);
	if (!err)
		close(a.out_fd);
	fz_check(t, "MEMALLOC_ALLOC", err, eb(want));
	return 1;
}

static int op_version(struct fz_thread *t)
{
	struct memalloc_version v = { .size = sizeof(v) };

	fz_note(t, "MEMALLOC_VERSION");
	if (fz_check(t, "MEMALLOC_VERSION", mioc(MEMALLOC_VERSION, &v), OK))
		return 1;
	if (v.out_api_version != MEMALLOC_API_VERSION ||
	    v.out_alloc_flags != fz.supported || !(v.out_page_sizes & fz.page) ||
	    v.out_gup_kinds != fz.gup_kinds || v.out_io_uring_kinds != fz.io_uring_kinds)
		fz_fail(t, "MEMALLOC_VERSION says api %u flags %#x page sizes %#llx kinds %#x %#x",
			v.out_api_version, v.out_alloc_flags,
			(unsigned long long)v.out_page_sizes, v.out_gup_kinds,
			v.out_io_uring_kinds);
	return 1;
}

static void info_verify(struct fz_thread *t, const struct ectx *c,
			const struct memalloc_info *in)
{
	const struct fz_ds *d = c->d;
	uint32_t rights = MEMALLOC_RIGHT_R | (c->writable ? MEMALLOC_RIGHT_W : 0);
	uint32_t shift = d->flags & MEMALLOC_SUPER_PAGES ? 21 : 12;
	uint32_t contig = d->flags & MEMALLOC_CONTINUOUS ? MEMALLOC_INFO_CONTIGUOUS : 0;

	if (in->out_length == d->size && in->out_mappable == d->mappable &&
	    in->out_flags == d->flags && in->out_rights == rights &&
	    in->out_page_shift == shift && in->out_info_flags == contig &&
	    in->out_caching == (d->flags & MEMALLOC_CACHING_MASK) &&
	    in->out_align == d->align && in->out_resident <= d->mappable &&
	    (!ds_eager(d->flags) || in->out_resident == d->mappable))
		return;
	fz_fail(t, "MEMALLOC_INFO says length %llu mappable %llu resident %llu flags %#x rights %#x shift %u info %#x caching %#x align %u",
		(unsigned long long)in->out_length, (unsigned long long)in->out_mappable,
		(unsigned long long)in->out_resident, in->out_flags, in->out_rights,
		in->out_page_shift, in->out_info_flags, in->out_caching, in->out_align);
}

#define ENT_NOTE(t, c, fmt, ...)						\
	fz_note(t, fmt " on fd %d (flags %#x length %" PRIu64 "%s%s)",		\
		##__VA_ARGS__, (c)->fd, (c)->d->flags, (c)->d->size,		\
		(c)->writable ? "" : ", read-only", (c)->dead0 ? ", revoked" : "")

static int op_info(struct fz_thread *t)
{
	struct memalloc_info in = { .size = sizeof(in) };
	int err, mayd, racy;
	struct ectx c;

	if (ent_take(t, &c))
		return 0;
	in.fd = c.fd;
	ENT_NOTE(t, &c, "MEMALLOC_INFO");
	err = mioc(MEMALLOC_INFO, &in);
	ent_state(&c, &mayd, &racy);
	if (!fz_check(t, "MEMALLOC_INFO", err, ds_allowed(&c, OK, ENODEV, mayd, racy)) &&
	    !err)
		info_verify(t, &c, &in);
	ent_put(t, &c);
	return 1;
}

static int op_allocate(struct fz_thread *t)
{
	struct memalloc_allocate a = { .size = sizeof(a) };
	int err, mayd, racy, bad;
	uint64_t size, end;
	struct ectx c;
	eset live;

	if (ent_take(t, &c))
		return 0;
	size = c.d->size;
	a.fd = c.fd;
	a.offset = chance(t, 85) ? below(t, size) : size + below(t, fz.page);
	switch (below(t, 10)) {
	case 0:
		a.length = 0;
		break;
	case 1:
		a.length = ~0ull;
		break;
	default:
		a.length = 1 + below(t, min64(size, 2 * MIB));
	}
	bad = __builtin_add_overflow((uint64_t)a.offset, (uint64_t)a.length, &end) ||
	      end > size;
	live = bad ? eb(ERANGE) : OK | (!ds_eager(c.d->flags) && a.length ? eb(ENOMEM) : 0);
	ENT_NOTE(t, &c, "MEMALLOC_ALLOCATE offset %llu length %#llx",
		 (unsigned long long)a.offset, (unsigned long long)a.length);
	err = mioc(MEMALLOC_ALLOCATE, &a);
	ent_state(&c, &mayd, &racy);
	fz_check(t, "MEMALLOC_ALLOCATE", err, ds_allowed(&c, live, ENODEV, mayd, racy));
	ent_put(t, &c);
	return 1;
}

static int op_clear(struct fz_thread *t)
{
	struct memalloc_clear cl = { .size = sizeof(cl) };
	int err, mayd, racy;
	uint64_t mappable;
	struct ectx c;
	eset live;

	if (ent_take(t, &c))
		return 0;
	mappable = c.d->mappable;
	cl.fd = c.fd;
	cl.offset = chance(t, 85) ? below(t, mappable) : mappable + below(t, 3 * fz.page);
	switch (below(t, 10)) {
	case 0:
		cl.length = 0;
		break;
	case 1:
	case 2:
		cl.length = ~0ull;
		break;
	default:
		cl.length = 1 + below(t, min64(mappable, 2 * MIB));
	}
	if (!c.writable)
		live = eb(EACCES);
	else if (cl.offset >= mappable)
		live = eb(ERANGE);
	else
		live = OK;
	ENT_NOTE(t, &c, "MEMALLOC_CLEAR offset %llu length %#llx",
		 (unsigned long long)cl.offset, (unsigned long long)cl.length);
	err = mioc(MEMALLOC_CLEAR, &cl);
	ent_state(&c, &mayd, &racy);
	fz_check(t, "MEMALLOC_CLEAR", err, ds_allowed(&c, live, ENODEV, mayd, racy));
	ent_put(t, &c);
	return 1;
}

static int op_copy_in(struct fz_thread *t)
{
	struct memalloc_copy_in cp = { .size = sizeof(cp) };
	int foreign = chance(t, 8), err, mayd, racy, smayd = 0, sracy = 0;
	uint64_t dsize, ssize;
	struct ectx c, s;
	eset allowed;

	if (ent_take(t, &c))
		return 0;
	if (!foreign && ent_take(t, &s)) {
		ent_put(t, &c);
		return 0;
	}
	dsize = c.d->size;
	ssize = foreign ? 4096 : s.d->size;
	cp.fd = c.fd;
	cp.src_fd = foreign ? fz.foreign[below(t, fz.nforeign)] : s.fd;
	cp.dst_offset = chance(t, 88) ? below(t, dsize) : dsize + below(t, fz.page);
	cp.src_offset = chance(t, 88) ? below(t, ssize) : ssize + below(t, fz.page);
	cp.length = chance(t, 10) ? ~0ull : 1 + below(t, min64(MIB, dsize > ssize ? dsize : ssize));
	ENT_NOTE(t, &c, "MEMALLOC_COPY_IN dst_offset %llu from fd %d src_offset %llu length %#llx",
		 (unsigned long long)cp.dst_offset, cp.src_fd,
		 (unsigned long long)cp.src_offset, (unsigned long long)cp.length);
	err = mioc(MEMALLOC_COPY_IN, &cp);
	ent_state(&c, &mayd, &racy);
	if (!foreign)
		ent_state(&s, &smayd, &sracy);
	if (foreign) {
		/* Whatever is wrong with the source is EINVAL. */
		allowed = eb(EINVAL);
	} else if (!c.writable) {
		allowed = eb(EACCES);
	} else if (c.dead0 || s.dead0) {
		allowed = eb(ENODEV);
	} else {
		/* An offset past the end is ERANGE, or (being changed) copies nothing. */
		if (cp.dst_offset >= dsize || cp.src_offset >= ssize)
			allowed = OK | eb(ERANGE);
		else
			allowed = OK | (ds_eager(c.d->flags) ? 0 : eb(ENOMEM));
		if (mayd || smayd)
			allowed |= eb(ENODEV);
	}
	if (racy || sracy)
		allowed |= eb(EINVAL);
	fz_check(t, "MEMALLOC_COPY_IN", err, allowed);
	if (!foreign)
		ent_put(t, &s);
	ent_put(t, &c);
	return 1;
}

static void phys_verify(struct fz_thread *t, const struct ectx *c,
			const struct memalloc_phys *ph)
{
	const struct fz_ds *d = c->d;
	uint64_t off = ph->offset, page_end, min_len;
	int bad;

	page_end = (off / fz.page + 1) * fz.page;
	min_len = min64(page_end, d->size) - off;
	bad = (ph->out_addr & (fz.page - 1)) != (off & (fz.page - 1)) ||
	      ph->out_length < min_len || ph->out_length > d->size - off;
	if (d->flags & MEMALLOC_CONTINUOUS)
		bad |= ph->out_length != d->size - off ||
		       ((ph->out_addr - off) & ((1ull << d->align) - 1));
	if (bad)
		fz_fail(t, "MEMALLOC_PHYS of offset %llu says address %#llx length %llu",
			(unsigned long long)off, (unsigned long long)ph->out_addr,
			(unsigned long long)ph->out_length);
}

static int op_phys(struct fz_thread *t)
{
	struct memalloc_phys ph = { .size = sizeof(ph) };
	int nocap = fz.sys_admin && chance(t, 20), err, mayd, racy;
	struct ectx c;
	eset allowed, live;

	if (ent_take(t, &c))
		return 0;
	ph.fd = c.fd;
	ph.offset = chance(t, 85) ? below(t, c.d->size) : c.d->size + below(t, fz.page);
	ENT_NOTE(t, &c, "MEMALLOC_PHYS offset %llu%s", (unsigned long long)ph.offset,
		 nocap ? " without CAP_SYS_ADMIN" : "");
	if (nocap && drop_effective_cap(CAP_SYS_ADMIN))
		fz_fail(t, "cannot drop CAP_SYS_ADMIN");
	err = mioc(MEMALLOC_PHYS, &ph);
	if (nocap && set_effective_cap(CAP_SYS_ADMIN, 1))
		fz_fail(t, "cannot raise CAP_SYS_ADMIN again");
	ent_state(&c, &mayd, &racy);
	if (nocap || !fz.sys_admin) {
		allowed = eb(EPERM);
	} else {
		if (!ds_eager(c.d->flags))
			live = eb(EINVAL);
		else if (ph.offset >= c.d->size)
			live = eb(ERANGE);
		else
			live = OK;
		allowed = ds_allowed(&c, live, ENODEV, mayd, racy);
	}
	if (!fz_check(t, "MEMALLOC_PHYS", err, allowed) && !err)
		phys_verify(t, &c, &ph);
	ent_put(t, &c);
	return 1;
}

static int op_dup_handle(struct fz_thread *t)
{
	static const uint32_t bad_rights[] = {
		0, MEMALLOC_RIGHT_W, MEMALLOC_RIGHT_R | 8,
		MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W | MEMALLOC_RIGHT_X,
	};
	static const uint32_t bad_caching[] = { MEMALLOC_CACHING_MASK, 0x400, 1 };
	struct memalloc_dup du = { .size = sizeof(du) };
	int bad = 0, err, mayd, racy, fdf, dead_err, live;
	uint32_t own;
	unsigned int r;
	struct ectx c;
	eset allowed;

	if (ent_take(t, &c))
		return 0;
	own = c.d->flags & MEMALLOC_CACHING_MASK;
	du.fd = c.fd;
	r = below(t, 100);
	if (r < 45) {
		du.rights = MEMALLOC_RIGHT_R;
	} else if (r < 92) {
		du.rights = MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W;
	} else {
		du.rights = bad_rights[below(t, ARRAY_LEN(bad_rights))];
		bad = 1;
	}
	r = below(t, 100);
	if (r < 70) {
		du.caching = own;
	} else if (r < 85) {
		du.caching = MEMALLOC_CACHED;
	} else if (r < 95 && own != MEMALLOC_UNCACHED) {
		du.caching = own == MEMALLOC_CACHED && chance(t, 50) ?
			     MEMALLOC_WRITE_COMBINE : MEMALLOC_UNCACHED;
	} else {
		du.caching = bad_caching[below(t, ARRAY_LEN(bad_caching))];
		bad = 1;
	}
	r = below(t, 100);
	du.fd_flags = r < 47 ? 0 : r < 95 ? O_CLOEXEC : O_NONBLOCK;
	bad |= du.fd_flags == O_NONBLOCK;
	ENT_NOTE(t, &c, "MEMALLOC_DUP rights %#x caching %#x fd_flags %#x",
		 du.rights, du.caching, du.fd_flags);
	err = mioc(MEMALLOC_DUP, &du);
	ent_state(&c, &mayd, &racy);
	if (bad) {
		/* Arguments are checked before the fd. */
		allowed = eb(EINVAL);
	} else {
		if (du.rights & MEMALLOC_RIGHT_W && !c.writable)
			live = EACCES;
		else if (du.caching > own)
			live = EOPNOTSUPP;
		else
			live = 0;
		dead_err = live ? live : ENODEV;
		allowed = ds_allowed(&c, eb(live), dead_err, mayd, racy);
	}
	if (!fz_check(t, "MEMALLOC_DUP", err, allowed) && !err) {
		fdf = fcntl(du.out_fd, F_GETFD);
		if (fdf < 0 || !(fdf & FD_CLOEXEC) != !(du.fd_flags & O_CLOEXEC))
			fz_fail(t, "the new handle's fd flags are %d", fdf);
		ent_add(t, du.out_fd, c.d, !!(du.rights & MEMALLOC_RIGHT_W));
	}
	ent_put(t, &c);
	return 1;
}

static int op_free(struct fz_thread *t)
{
	struct memalloc_free f = { .size = sizeof(f) };
	int err, imp0, busy0, others, possible, sure, racy;
	unsigned int ev0;
	struct fz_ds *d;
	struct ectx c;
	eset allowed;

	if (ent_take(t, &c))
		return 0;
	d = c.d;
	f.fd = c.fd;
	pthread_mutex_lock(&fz.lock);
	imp0 = d->imports;
	busy0 = d->attaching;
	ev0 = d->att_events;
	if (c.writable)
		d->freeing++;
	pthread_mutex_unlock(&fz.lock);
	ENT_NOTE(t, &c, "MEMALLOC_FREE (vgem imports %d)", imp0);
	err = mioc(MEMALLOC_FREE, &f);
	pthread_mutex_lock(&fz.lock);
	if (c.writable) {
		d->freeing--;
		if (!err)
			d->dead = 1;
	}
	/* ENODEV needs another revocation, done or in flight. */
	others = d->freeing || (d->dead && err);
	/* EBUSY needs an attachment; one held throughout demands it. */
	possible = imp0 || busy0 || d->imports || d->attaching || d->att_events != ev0;
	sure = imp0 && d->att_events == ev0;
	racy = fz.ent[c.i].racy;
	pthread_mutex_unlock(&fz.lock);
	if (!c.writable) {
		allowed = eb(EACCES);
	} else if (c.dead0) {
		allowed = eb(ENODEV);
	} else {
		allowed = sure ? eb(EBUSY) : OK | (possible ? eb(EBUSY) : 0);
		if (others)
			allowed |= eb(ENODEV);
	}
	if (racy)
		allowed |= eb(EINVAL);
	fz_check(t, "MEMALLOC_FREE", err, allowed);
	ent_put(t, &c);
	return 1;
}

/*
 * Close an fd. One in use by another thread is pointed at /dev/null
 * instead (the file goes as with close(), while no other open can take the
 * number), and its last user closes it.
 */
static int op_close(struct fz_thread *t)
{
	int idx[MAX_ENTRIES], n = 0, i, fd;
	struct fz_entry *e;
	struct ectx c;

	pthread_mutex_lock(&fz.lock);
	for (i = 0; i < MAX_ENTRIES; i++)
		if (fz.ent[i].used && !fz.ent[i].closed)
			idx[n++] = i;
	if (!n) {
		pthread_mutex_unlock(&fz.lock);
		return 0;
	}
	c.i = idx[below(t, n)];
	e = &fz.ent[c.i];
	fd = e->fd;
	e->closed = 1;
	if (!e->refs) {
		ent_release(e);
		pthread_mutex_unlock(&fz.lock);
		fz_note(t, "close of fd %d", fd);
		fz_check(t, "close", sys_err(close(fd)), OK);
		return 1;
	}
	e->refs++;
	e->racy = 1;
	pthread_mutex_unlock(&fz.lock);
	fz_note(t, "dup2 of /dev/null onto fd %d in use", fd);
	if (dup2(fz.devnull, fd) != fd)
		fz_fail(t, "dup2 of /dev/null onto fd %d: %s", fd, ename(errno));
	ent_put(t, &c);
	return 1;
}

/* Commands on fds that are no dataspace: EBADF, or EINVAL. */
static int op_foreign_fd(struct fz_thread *t)
{
	struct memalloc_allocate al = { .size = sizeof(al), .length = 1 };
	struct memalloc_info in = { .size = sizeof(in) };
	struct memalloc_clear cl = { .size = sizeof(cl), .length = 1 };
	struct memalloc_phys ph = { .size = sizeof(ph) };
	struct memalloc_dup du = { .size = sizeof(du), .rights = MEMALLOC_RIGHT_R };
	struct memalloc_free f = { .size = sizeof(f) };
	struct memalloc_copy_in cp = { .size = sizeof(cp), .length = 1 };
	struct drm_prime_handle prime = { 0 };
	int k = below(t, fz.nforeign), fd = fz.foreign[k], want = fz.foreign_err[k];
	int err;
	void *p;

	in.fd = al.fd = cl.fd = ph.fd = du.fd = f.fd = cp.fd = cp.src_fd = fd;
	prime.fd = fd;
	switch (below(t, 9)) {
	case 0:
		fz_note(t, "MEMALLOC_INFO on foreign fd %d", fd);
		err = mioc(MEMALLOC_INFO, &in);
		break;
	case 1:
		fz_note(t, "MEMALLOC_ALLOCATE on foreign fd %d", fd);
		err = mioc(MEMALLOC_ALLOCATE, &al);
		break;
	case 2:
		fz_note(t, "MEMALLOC_CLEAR on foreign fd %d", fd);
		err = mioc(MEMALLOC_CLEAR, &cl);
		break;
	case 3:
		fz_note(t, "MEMALLOC_PHYS on foreign fd %d", fd);
		err = mioc(MEMALLOC_PHYS, &ph);
		if (!fz.sys_admin)
			want = EPERM;
		break;
	case 4:
		fz_note(t, "MEMALLOC_DUP of foreign fd %d", fd);
		err = mioc(MEMALLOC_DUP, &du);
		if (!err)
			close(du.out_fd);
		break;
	case 5:
		fz_note(t, "MEMALLOC_FREE of foreign fd %d", fd);
		err = mioc(MEMALLOC_FREE, &f);
		break;
	case 6:
		fz_note(t, "MEMALLOC_COPY_IN between foreign fds %d", fd);
		err = mioc(MEMALLOC_COPY_IN, &cp);
		break;
	case 7:
		if (!fz.foreign_mmap[k])
			return 0;
		fz_note(t, "mmap of foreign fd %d", fd);
		want = fz.foreign_mmap[k];
		pthread_rwlock_rdlock(&fz.va);
		p = mmap(NULL, fz.page, PROT_READ, MAP_SHARED, fd, 0);
		pthread_rwlock_unlock(&fz.va);
		err = p == MAP_FAILED ? errno : 0;
		if (!err)
			munmap(p, fz.page);
		break;
	default:
		if (fz.vgem_fd < 0 || fd == fz.vgem_fd)
			return 0;
		fz_note(t, "vgem import of foreign fd %d", fd);
		err = ioctl(t->vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime) ? errno : 0;
		break;
	}
	fz_check(t, "a command on a foreign fd", err, eb(want));
	return 1;
}

static int op_fd_dup(struct fz_thread *t)
{
	int v = below(t, 10), fd = -1, vfd = -1, i, n = 0, mayd, racy;
	int idx[MAX_ENTRIES];
	struct ectx c;

	if (v == 9) {
		fz_note(t, "dup of closed fd %d", fz.hole);
		fd = dup(fz.hole);
		if (fd >= 0)
			close(fd);
		fz_check(t, "dup of a closed fd", fd < 0 ? errno : 0, eb(EBADF));
		return 1;
	}
	if (ent_take(t, &c))
		return 0;
	if (v >= 6) {
		/* Onto a number of the table nothing uses. */
		pthread_mutex_lock(&fz.lock);
		for (i = 0; i < MAX_ENTRIES; i++)
			if (i != c.i && fz.ent[i].used && !fz.ent[i].closed &&
			    !fz.ent[i].refs)
				idx[n++] = i;
		if (n) {
			i = idx[below(t, n)];
			vfd = fz.ent[i].fd;
			ent_release(&fz.ent[i]);
		}
		pthread_mutex_unlock(&fz.lock);
	}
	if (vfd >= 0) {
		ENT_NOTE(t, &c, "dup2 onto fd %d", vfd);
		fd = dup2(c.fd, vfd);
		if (fd != vfd)
			close(vfd);
	} else if (v >= 4) {
		ENT_NOTE(t, &c, "F_DUPFD");
		fd = fcntl(c.fd, chance(t, 50) ? F_DUPFD_CLOEXEC : F_DUPFD,
			   64 + below(t, 64));
	} else {
		ENT_NOTE(t, &c, "dup");
		fd = dup(c.fd);
	}
	ent_state(&c, &mayd, &racy);
	if (!fz_check(t, "dup", fd < 0 ? errno : 0, OK)) {
		/* Pointed at /dev/null meanwhile: the copy may be of that. */
		if (racy)
			close(fd);
		else
			ent_add(t, fd, c.d, c.writable);
	}
	ent_put(t, &c);
	return 1;
}

/* An fd of @fd's file read from /proc, through a path: 0 or an errno. */
static int reopen(int fd, int flags)
{
	char path[64];
	int nfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, flags | O_CLOEXEC);
	if (nfd < 0)
		return errno;
	close(nfd);
	return 0;
}

/*
 * O_PATH opens of /proc/self/fd/N: they hold the dma-buf's dentry, and with
 * it the dataspace, past the last close of its fds. Commands and mmap() see
 * no fd in them (EBADF), and the dma-buf's inode cannot be opened (ENXIO).
 */
static int op_o_path(struct fz_thread *t)
{
	struct memalloc_info in = { .size = sizeof(in) };
	int pfd, mayd, racy, kept, err, err2;
	struct stat a, b;
	char path[64];
	struct ectx c;
	void *p;

	if (t->npaths && (chance(t, 50) || t->npaths == MAX_PATHS)) {
		t->npaths--;
		fz_note(t, "close of O_PATH fd %d", t->path[t->npaths]);
		fz_check(t, "close of an O_PATH fd", sys_err(close(t->path[t->npaths])), OK);
		ds_put(t->path_ds[t->npaths]);
		return 1;
	}
	if (ent_take(t, &c))
		return 0;
	ENT_NOTE(t, &c, "O_PATH open");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", c.fd);
	pfd = open(path, O_PATH | O_CLOEXEC);
	if (fz_check(t, "O_PATH open", pfd < 0 ? errno : 0, OK)) {
		ent_put(t, &c);
		return 1;
	}
	in.fd = pfd;
	fz_check(t, "MEMALLOC_INFO on an O_PATH fd", mioc(MEMALLOC_INFO, &in), eb(EBADF));
	p = mmap(NULL, fz.page, PROT_READ, MAP_SHARED, pfd, 0);
	if (p != MAP_FAILED)
		munmap(p, fz.page);
	fz_check(t, "mmap of an O_PATH fd", p == MAP_FAILED ? errno : 0, eb(EBADF));
	if (fstat(c.fd, &a) || fstat(pfd, &b))
		fz_fail(t, "fstat: %s", ename(errno));
	err = reopen(pfd, O_RDWR);
	err2 = reopen(c.fd, O_RDONLY);
	/* After the calls: /dev/null may have taken the number meanwhile. */
	ent_state(&c, &mayd, &racy);
	if (!racy && (a.st_ino != b.st_ino || a.st_dev != b.st_dev))
		fz_fail(t, "the O_PATH fd is of another inode");
	fz_check(t, "open of the O_PATH fd's /proc link", err, eb(ENXIO) | (racy ? OK : 0));
	fz_check(t, "open of the fd's /proc link", err2, eb(ENXIO) | (racy ? OK : 0));
	kept = t->npaths < MAX_PATHS && chance(t, 50);
	if (kept) {
		ds_get(c.d);
		t->path_ds[t->npaths] = c.d;
		t->path[t->npaths++] = pfd;
	} else {
		fz_check(t, "close of an O_PATH fd", sys_err(close(pfd)), OK);
	}
	ent_put(t, &c);
	return 1;
}

static int fz_socketpair(struct fz_thread *t, int *sv)
{
	int err = sys_err(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));

	return fz_check(t, "socketpair", err, OK);
}

/* SCM_RIGHTS: send up to 4 fds at once. */
static int send_fds(int sock, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))] = { 0 }, byte = 0;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : errno;
}

static int recv_fds(int sock, int *fds, int n)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))], byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(n * sizeof(int)) || msg.msg_flags & MSG_CTRUNC)
		return -1;
	memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
	return 0;
}

/*
 * Pass fds over a socketpair: received again as new fds, dropped with the
 * sockets while in flight, or left in a garbage cycle for the unix socket
 * collector.
 */
static int op_scm_rights(struct fz_thread *t)
{
	int n = 1 + below(t, 3), v = below(t, 100), fds[4], got[4], sv[2];
	int i, k, mayd, racy;
	struct ectx c[3];

	for (k = 0; k < n; k++)
		if (ent_take(t, &c[k]))
			break;
	if (!k)
		return 0;
	n = k;
	if (fz_socketpair(t, sv))
		goto out;
	for (i = 0; i < n; i++)
		fds[i] = c[i].fd;
	if (v >= 85)
		fds[n] = sv[1];
	fz_note(t, "SCM_RIGHTS of %d fds from %d, %s", n, fds[0],
		v < 60 ? "received" : v < 85 ? "dropped in flight" : "in a garbage cycle");
	if (!fz_check(t, "sendmsg SCM_RIGHTS", send_fds(sv[0], fds, n + (v >= 85)), OK) &&
	    v < 60) {
		if (recv_fds(sv[1], got, n)) {
			fz_fail(t, "recvmsg SCM_RIGHTS: %s", ename(errno));
		} else {
			for (i = 0; i < n; i++) {
				ent_state(&c[i], &mayd, &racy);
				if (racy)
					close(got[i]);
				else
					ent_add(t, got[i], c[i].d, c[i].writable);
			}
		}
	}
	fz_check(t, "close of a socket", sys_err(close(sv[0])), OK);
	fz_check(t, "close of a socket", sys_err(close(sv[1])), OK);
out:
	for (i = 0; i < n; i++)
		ent_put(t, &c[i]);
	return 1;
}

/* The dma-buf file's own calls: sync, name, seek, fdinfo, stat, poll. */
static int op_fd_misc(struct fz_thread *t)
{
	static const uint64_t syncs[] = {
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE,
	};
	struct dma_buf_sync sync = { 0 };
	struct pollfd pfd = { .events = POLLIN | POLLOUT };
	int v = below(t, 6), err = 0, mayd, racy, fd, n;
	char name[32], buf[512], path[64], *s;
	unsigned long long size;
	struct ectx c;
	struct stat st;
	off_t end;
	eset allowed = OK;

	if (ent_take(t, &c))
		return 0;
	switch (v) {
	case 0:
		sync.flags = chance(t, 90) ? syncs[below(t, ARRAY_LEN(syncs))] : 0x80;
		ENT_NOTE(t, &c, "DMA_BUF_IOCTL_SYNC %#llx", (unsigned long long)sync.flags);
		err = ioctl(c.fd, DMA_BUF_IOCTL_SYNC, &sync) ? errno : 0;
		allowed = sync.flags == 0x80 ? eb(EINVAL) : OK;
		break;
	case 1:
		snprintf(name, sizeof(name), "fuzz-%d-%ld", t->idx, t->ops);
		ENT_NOTE(t, &c, "DMA_BUF_SET_NAME %s", name);
		err = ioctl(c.fd, DMA_BUF_SET_NAME_B, name) ? errno : 0;
		break;
	case 2:
		ENT_NOTE(t, &c, "lseek");
		end = lseek(c.fd, 0, SEEK_END);
		ent_state(&c, &mayd, &racy);
		if (end < 0)
			fz_fail(t, "lseek SEEK_END: %s", ename(errno));
		else if (!racy && (uint64_t)end != c.d->mappable)
			fz_fail(t, "lseek SEEK_END gives %lld", (long long)end);
		/* Only the end can be asked for, and the start. */
		err = lseek(c.fd, 0, SEEK_CUR) < 0 ? errno : 0;
		allowed = eb(EINVAL);
		break;
	case 3:
		ENT_NOTE(t, &c, "fdinfo");
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", c.fd);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		err = n < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		ent_state(&c, &mayd, &racy);
		if (n < 0 || racy)
			break;
		buf[n] = 0;
		s = strstr(buf, "\nsize:\t");
		if (!s || sscanf(s, "\nsize:\t%llu", &size) != 1 || size != c.d->mappable ||
		    !strstr(buf, "\nexp_name:\tmemalloc\n"))
			fz_fail(t, "fdinfo of fd %d: %s", c.fd, buf);
		break;
	case 4:
		ENT_NOTE(t, &c, "fstat");
		err = sys_err(fstat(c.fd, &st));
		ent_state(&c, &mayd, &racy);
		if (!err && !racy && (uint64_t)st.st_size != c.d->mappable)
			fz_fail(t, "fstat says size %lld", (long long)st.st_size);
		break;
	default:
		ENT_NOTE(t, &c, "poll");
		pfd.fd = c.fd;
		n = poll(&pfd, 1, 0);
		err = n < 0 ? errno : 0;
		if (n == 0 || (n == 1 && (pfd.revents & (POLLIN | POLLOUT)) != (POLLIN | POLLOUT)))
			fz_fail(t, "poll says %d, revents %#x", n, pfd.revents);
		break;
	}
	ent_state(&c, &mayd, &racy);
	/* /dev/null in its place has no ioctls, and seeks anywhere. */
	if (racy)
		allowed |= eb(ENOTTY) | OK;
	fz_check(t, "a dma-buf file call", err, allowed);
	ent_put(t, &c);
	return 1;
}

/* Mappings. */

static int op_mmap(struct fz_thread *t)
{
	int prot, place, err, mayd, racy;
	size_t npg, o, len;
	struct ectx c;
	eset allowed;
	uint64_t off;
	char *p;

	if (ent_take(t, &c))
		return 0;
	npg = c.d->mappable / fz.page;
	if (chance(t, 65)) {
		off = 0;
		len = c.d->mappable;
	} else {
		o = below(t, npg);
		off = o * fz.page;
		len = (1 + below(t, npg - o)) * fz.page;
	}
	if (c.writable)
		prot = chance(t, 55) ? PROT_READ | PROT_WRITE :
		       chance(t, 80) ? PROT_READ : PROT_NONE;
	else
		prot = chance(t, 90) ? PROT_READ : PROT_NONE;
	place = below(t, 10);
	place = place < 4 ? PLACE_ALIGNED : place < 6 ? PLACE_SKEWED : PLACE_ANY;
	ENT_NOTE(t, &c, "mmap offset %llu length %zu prot %d place %d",
		 (unsigned long long)off, len, prot, place);
	p = fz_mmap(c.fd, len, prot, off, place);
	err = p == MAP_FAILED ? errno : 0;
	ent_state(&c, &mayd, &racy);
	allowed = c.dead0 ? eb(ENODEV) : OK | (mayd ? eb(ENODEV) : 0);
	/* /dev/null cannot be mapped. */
	if (racy)
		allowed |= eb(ENODEV);
	if (!fz_check(t, "mmap", err, allowed) && !err)
		map_add(t, p, len, off, prot, c.writable, c.d);
	ent_put(t, &c);
	return 1;
}

static int op_mmap_invalid(struct fz_thread *t)
{
	int flags = MAP_SHARED, prot = PROT_READ, want = EINVAL, early = 0;
	int err, mayd, racy;
	size_t len = fz.page;
	uint64_t off = 0;
	struct ectx c;
	eset allowed;
	void *p;

	if (ent_take(t, &c))
		return 0;
	switch (below(t, 5)) {
	case 0:
		flags = MAP_PRIVATE;
		break;
	case 1:
		if (chance(t, 50))
			off = chance(t, 50) ? c.d->mappable : 1ull << 40;
		else
			len = c.d->mappable + fz.page;
		break;
	case 2:
		off = 1 + below(t, fz.page - 1);
		early = 1;
		break;
	case 3:
		if (!c.writable) {
			prot |= PROT_WRITE;
			want = EACCES;
			break;
		}
		/* fall through */
	default:
		len = 0;
		early = 1;
		break;
	}
	ENT_NOTE(t, &c, "invalid mmap offset %llu length %zu prot %d flags %#x",
		 (unsigned long long)off, len, prot, flags);
	pthread_rwlock_rdlock(&fz.va);
	p = mmap(NULL, len, prot, flags, c.fd, off);
	pthread_rwlock_unlock(&fz.va);
	err = p == MAP_FAILED ? errno : 0;
	if (!err)
		munmap(p, len);
	ent_state(&c, &mayd, &racy);
	allowed = eb(want);
	if (racy && !early)
		allowed |= eb(ENODEV);
	fz_check(t, "an invalid mmap", err, allowed);
	ent_put(t, &c);
	return 1;
}

/*
 * munmap() of a whole mapping no one uses; or, used or not, an anonymous
 * PROT_NONE mapping put in its place (the same unmap for the dataspace,
 * while the range stays reserved for the users that still hold it).
 */
static int op_munmap(struct fz_thread *t)
{
	int idx[MAX_MAPS], n = 0, i;
	struct fz_map *m;
	struct mctx c;
	char *p;

	if (chance(t, 65)) {
		if (map_take(t, &c, 1))
			return 0;
		fz_note(t, "munmap of %p length %zu", c.addr, c.len);
		fz_check(t, "munmap", sys_err(munmap(c.addr, c.len)), OK);
		map_done_alone(&c, 1);
		return 1;
	}
	pthread_mutex_lock(&fz.lock);
	for (i = 0; i < MAX_MAPS; i++) {
		m = &fz.map[i];
		if (m->used && !m->replaced && !m->busy)
			idx[n++] = i;
	}
	if (!n) {
		pthread_mutex_unlock(&fz.lock);
		return 0;
	}
	i = idx[below(t, n)];
	fz.map[i].replaced = 1;
	fz.map[i].refs++;
	map_snap(&c, i);
	pthread_mutex_unlock(&fz.lock);
	fz_note(t, "mmap over %p length %zu (in use)", c.addr, c.len);
	p = mmap(c.addr, c.len, PROT_NONE,
		 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p != c.addr)
		fz_fail(t, "mmap MAP_FIXED over a mapping: %s", ename(errno));
	map_put(t, &c);
	return 1;
}

static int op_munmap_part(struct fz_thread *t)
{
	size_t npg, a, k;
	struct fz_map *m;
	struct mctx c;
	int v, j;

	if (map_take(t, &c, 1))
		return 0;
	npg = c.len / fz.page;
	if (npg < 2) {
		map_done_alone(&c, 0);
		return 0;
	}
	v = npg >= 3 ? below(t, 3) : below(t, 2);
	m = &fz.map[c.i];
	if (v == 2) {
		a = 1 + below(t, npg - 2);
		k = 1 + below(t, npg - 1 - a);
		fz_note(t, "munmap of pages %zu+%zu of %p length %zu", a, k, c.addr, c.len);
		if (fz_check(t, "munmap of a middle part",
			     sys_err(munmap(c.addr + a * fz.page, k * fz.page)), OK))
			return 1;
		/* The tail is a mapping of its own now. */
		j = map_add(t, c.addr + (a + k) * fz.page, (npg - a - k) * fz.page,
			    c.off + (a + k) * fz.page, c.prot, c.shared, c.d);
		pthread_mutex_lock(&fz.lock);
		m->len = a * fz.page;
		if (j >= 0)
			fz.map[j].nohuge = c.nohuge;
		pthread_mutex_unlock(&fz.lock);
	} else {
		k = 1 + below(t, npg - 1);
		fz_note(t, "munmap of the %s %zu pages of %p length %zu",
			v ? "last" : "first", k, c.addr, c.len);
		if (fz_check(t, "munmap of a part", sys_err(munmap(v ? c.addr + (npg - k) *
								   fz.page : c.addr,
								   k * fz.page)), OK))
			return 1;
		pthread_mutex_lock(&fz.lock);
		if (!v) {
			m->addr += k * fz.page;
			m->off += k * fz.page;
		}
		m->len -= k * fz.page;
		pthread_mutex_unlock(&fz.lock);
	}
	map_done_alone(&c, 0);
	return 1;
}

static int op_mremap(struct fz_thread *t)
{
	int v = below(t, 10), flags;
	size_t span, npg, nl;
	char *res, *at, *p;
	struct mctx c;

	if (map_take(t, &c, 1))
		return 0;
	npg = c.len / fz.page;
	if (v < 7 && v >= 4 && npg < 2)
		v = 0;
	if (v < 4) {
		span = c.len + SUPER;
		pthread_rwlock_rdlock(&fz.va);
		res = mmap(NULL, span, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		pthread_rwlock_unlock(&fz.va);
		if (res == MAP_FAILED) {
			fz_fail(t, "mmap of a reservation: %s", ename(errno));
			map_done_alone(&c, 0);
			return 1;
		}
		at = (char *)(((uintptr_t)res + SUPER - 1) & ~(uintptr_t)(SUPER - 1));
		if (chance(t, 30))
			at += fz.page;
		fz_note(t, "mremap move of %p length %zu to %p", c.addr, c.len, at);
		p = mremap(c.addr, c.len, c.len, MREMAP_MAYMOVE | MREMAP_FIXED, at);
		if (p != at) {
			fz_fail(t, "mremap move: %s", ename(errno));
			map_done_alone(&c, 0);
			return 1;
		}
		if (at > res)
			munmap(res, at - res);
		if (at + c.len < res + span)
			munmap(at + c.len, res + span - (at + c.len));
		pthread_mutex_lock(&fz.lock);
		fz.map[c.i].addr = at;
		pthread_mutex_unlock(&fz.lock);
	} else if (v < 7) {
		nl = (1 + below(t, npg - 1)) * fz.page;
		flags = chance(t, 50) ? MREMAP_MAYMOVE : 0;
		fz_note(t, "mremap shrink of %p length %zu to %zu", c.addr, c.len, nl);
		p = mremap(c.addr, c.len, nl, flags);
		if (p != c.addr) {
			fz_fail(t, "mremap shrink: %s", p == MAP_FAILED ? ename(errno) : "moved");
		} else {
			pthread_mutex_lock(&fz.lock);
			fz.map[c.i].len = nl;
			pthread_mutex_unlock(&fz.lock);
		}
	} else if (v < 9) {
		nl = c.len + (1 + below(t, 4)) * fz.page;
		flags = chance(t, 50) ? MREMAP_MAYMOVE : 0;
		fz_note(t, "mremap grow of %p length %zu to %zu", c.addr, c.len, nl);
		p = mremap(c.addr, c.len, nl, flags);
		if (p != MAP_FAILED) {
			fz_fail(t, "mremap grew a mapping to %p", p);
			munmap(p, nl);
			map_done_alone(&c, 1);
			return 1;
		}
		fz_check(t, "mremap grow", errno, eb(EFAULT));
	} else {
		fz_note(t, "mremap MREMAP_DONTUNMAP of %p length %zu", c.addr, c.len);
		p = mremap(c.addr, c.len, c.len, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
		if (p != MAP_FAILED) {
			fz_fail(t, "mremap MREMAP_DONTUNMAP moved a mapping to %p", p);
			munmap(p, c.len);
		} else {
			fz_check(t, "mremap MREMAP_DONTUNMAP", errno, eb(EINVAL));
		}
	}
	map_done_alone(&c, 0);
	return 1;
}

static int op_mprotect(struct fz_thread *t)
{
	static const int prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE };
	int prot = prots[below(t, 3)], err, mayd, replaced, stable, busy;
	struct fz_map *m;
	struct mctx c;
	eset allowed;

	if (map_take(t, &c, 0))
		return 0;
	m = &fz.map[c.i];
	pthread_mutex_lock(&fz.lock);
	busy = m->pbusy;
	if (!busy) {
		m->pbusy = 1;
		m->epoch++;
	}
	pthread_mutex_unlock(&fz.lock);
	if (busy) {
		map_put(t, &c);
		return 0;
	}
	fz_note(t, "mprotect of %p length %zu from %d to %d%s", c.addr, c.len,
		c.prot, prot, c.shared ? "" : " (read-only handle)");
	err = sys_err(mprotect(c.addr, c.len, prot));
	map_state(&c, &mayd, &replaced, &stable);
	/* A read-only handle's mapping may not become writable. */
	allowed = prot & PROT_WRITE && !c.shared ? eb(EACCES) : OK;
	if (replaced)
		allowed |= OK;
	fz_check(t, "mprotect", err, allowed);
	pthread_mutex_lock(&fz.lock);
	if (!err)
		m->prot = prot;
	m->pbusy = 0;
	m->epoch++;
	pthread_mutex_unlock(&fz.lock);
	map_put(t, &c);
	return 1;
}

static int op_madvise(struct fz_thread *t)
{
	static const struct { int advice; const char *name; } advs[] = {
		{ MADV_DONTNEED, "MADV_DONTNEED" }, { MADV_REMOVE, "MADV_REMOVE" },
		{ MADV_WILLNEED, "MADV_WILLNEED" }, { MADV_HUGEPAGE, "MADV_HUGEPAGE" },
		{ MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE" }, { MADV_COLD, "MADV_COLD" },
		{ MADV_PAGEOUT, "MADV_PAGEOUT" },
		{ MADV_POPULATE_READ, "MADV_POPULATE_READ" },
		{ MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE" },
	};
	int k = below(t, ARRAY_LEN(advs) + 1), adv, err, mayd, replaced, stable, need;
	size_t npg, o = 0, n, skew = 0;
	int huge = 0, busy = 0;
	struct fz_map *m;
	uint32_t flags;
	struct mctx c;
	eset allowed;

	if (map_take(t, &c, 0))
		return 0;
	m = &fz.map[c.i];
	flags = c.d->flags;
	npg = c.len / fz.page;
	n = npg;
	if (k == ARRAY_LEN(advs)) {
		/* A start that is no page boundary. */
		adv = MADV_DONTNEED;
		skew = 1 + below(t, fz.page - 1);
	} else {
		adv = advs[k].advice;
	}
	/*
	 * Whole mappings only where the vma's flags change: it stays one vma.
	 * Changes of them are tracked as mprotect()'s are.
	 */
	if (!skew && (adv == MADV_HUGEPAGE || adv == MADV_NOHUGEPAGE)) {
		huge = 1;
		pthread_mutex_lock(&fz.lock);
		busy = m->pbusy;
		if (!busy) {
			m->pbusy = 1;
			m->epoch++;
		}
		pthread_mutex_unlock(&fz.lock);
		if (busy) {
			map_put(t, &c);
			return 0;
		}
	} else {
		o = below(t, npg);
		n = 1 + below(t, npg - o);
	}
	fz_note(t, "madvise %s%s of pages %zu+%zu of %p length %zu prot %d",
		k == ARRAY_LEN(advs) ? "misaligned " : "", advs[k % ARRAY_LEN(advs)].name,
		o, n, c.addr, c.len, c.prot);
	err = sys_err(madvise(c.addr + o * fz.page + skew, n * fz.page, adv));
	map_state(&c, &mayd, &replaced, &stable);
	switch (skew ? -1 : adv) {
	case -1:
		allowed = eb(EINVAL);
		break;
	case MADV_REMOVE:
		/* Holes are punched through the dataspace, never a mapping. */
		if (!c.shared)
			allowed = eb(EACCES);
		else if (ds_shmem(flags))
			allowed = eb(EBADF);
		else
			allowed = eb(ENODEV);
		break;
	case MADV_POPULATE_READ:
	case MADV_POPULATE_WRITE:
		need = adv == MADV_POPULATE_READ ? PROT_READ : PROT_WRITE;
		if (!(c.prot & need))
			allowed = eb(EINVAL);
		else if (c.dead0)
			allowed = eb(EFAULT);
		else
			allowed = OK | (mayd ? eb(EFAULT) : 0);
		if (!stable)
			allowed |= OK | eb(EINVAL) | eb(EFAULT);
		/* A pfn mapping: the populate and the zap/reclaim advice refuse it. */
		if (ds_gup_refused(flags))
			allowed = eb(EINVAL) | (allowed & ~OK);
		if (map_thp_sigbus(&c, stable))
			allowed |= eb(EFAULT);
		break;
	case MADV_DONTNEED:
	case MADV_COLD:
	case MADV_PAGEOUT:
		allowed = ds_gup_refused(flags) ? eb(EINVAL) : OK;
		break;
	default:
		allowed = OK;
	}
	/* An anonymous PROT_NONE mapping in its place. */
	if (replaced && !skew)
		allowed |= OK | eb(EINVAL);
	fz_check(t, "madvise", err, allowed);
	if (huge) {
		pthread_mutex_lock(&fz.lock);
		if (!err)
			m->nohuge = adv == MADV_NOHUGEPAGE;
		m->pbusy = 0;
		m->epoch++;
		pthread_mutex_unlock(&fz.lock);
	}
	map_put(t, &c);
	return 1;
}

/*
 * Reads and writes. A mapping faults with SIGSEGV where its protection
 * forbids the access and with SIGBUS once its dataspace is revoked; it
 * never reaches the memory of a revoked dataspace.
 */
static int op_touch(struct fz_thread *t)
{
	int n = 1 + below(t, 32), k, write = 0, perm = 1, sig = 0, noperm_ok = 0;
	int mayd, replaced, stable, done = 0;
	size_t o, stride;
	struct mctx c;

	if (map_take(t, &c, 0))
		return 0;
	o = below(t, c.len);
	stride = chance(t, 50) ? fz.page : 1 + below(t, c.len / n + 1);
	fz_note(t, "%d accesses from byte %zu by %zu of %p length %zu prot %d%s",
		n, o, stride, c.addr, c.len, c.prot, c.dead0 ? " (revoked)" : "");
	for (k = 0; k < n; k++, o = (o + stride) % c.len) {
		write = c.prot & PROT_WRITE ? chance(t, 70) : chance(t, 5);
		perm = c.prot & (write ? PROT_WRITE : PROT_READ);
		sig = fz_access(c.addr + o, write, (char)rnd(t));
		if (sig)
			break;
		done++;
		if (!perm)
			noperm_ok = 1;
	}
	map_state(&c, &mayd, &replaced, &stable);
	if (sig == SIGSEGV && stable && perm)
		fz_fail(t, "SIGSEGV on a %s of byte %zu that its protection allows",
			write ? "write" : "read", o);
	else if (sig == SIGBUS && !mayd && !map_thp_sigbus(&c, stable))
		fz_fail(t, "SIGBUS on a %s of byte %zu of a live dataspace",
			write ? "write" : "read", o);
	else if (sig && sig != SIGSEGV && sig != SIGBUS)
		fz_fail(t, "signal %d", sig);
	else if (stable && noperm_ok)
		fz_fail(t, "an access its protection forbids did not fault");
	else if (stable && c.dead0 && done)
		fz_fail(t, "a mapping of a revoked dataspace reached memory (%d accesses)",
			done);
	t->sigbus += sig == SIGBUS;
	t->sigsegv += sig == SIGSEGV;
	map_put(t, &c);
	return 1;
}

/*
 * remap_file_pages() of part of a mapping: the kernel maps the vma's file
 * again there. It is the end of the mapping here: it is unmapped whole
 * after, holes included, before anyone can place a mapping into one.
 */
static int op_remap_file_pages(struct fz_thread *t)
{
	size_t npg, dpg, s, n, pg;
	int beyond, err, mayd, replaced, stable, sig;
	uint32_t flags;
	struct mctx c;
	eset allowed;

	if (map_take(t, &c, 1))
		return 0;
	flags = c.d->flags;
	npg = c.len / fz.page;
	dpg = c.d->mappable / fz.page;
	s = below(t, npg);
	n = 1 + below(t, npg - s);
	beyond = !ds_shmem(flags) && chance(t, 15);
	pg = beyond ? dpg - n + 1 + below(t, 4) : below(t, dpg - n + 1);
	fz_note(t, "remap_file_pages of pages %zu+%zu of %p length %zu prot %d to page %zu",
		s, n, c.addr, c.len, c.prot, pg);
	pthread_rwlock_wrlock(&fz.va);
	err = sys_err(syscall(SYS_remap_file_pages, c.addr + s * fz.page, n * fz.page,
			      0, pg, 0));
	map_state(&c, &mayd, &replaced, &stable);
	if (!c.shared) {
		allowed = eb(EINVAL);
	} else if (ds_shmem(flags) && ds_eager(flags)) {
		/* Pinned super pages: being refused. */
		allowed = OK | eb(EINVAL) | eb(EPERM) | eb(EACCES) | eb(ENODEV);
	} else if (ds_shmem(flags)) {
		/* Mapped again from the read-only shmem file behind the mapping. */
		allowed = c.prot & PROT_WRITE ? eb(EACCES) : OK;
	} else if (beyond) {
		allowed = eb(EINVAL);
	} else {
		allowed = c.dead0 ? eb(ENODEV) : OK | (mayd ? eb(ENODEV) : 0);
	}
	if (!fz_check(t, "remap_file_pages", err, allowed) && !err &&
	    c.prot & PROT_READ) {
		sig = fz_access(c.addr + s * fz.page, 0, 0);
		map_state(&c, &mayd, &replaced, &stable);
		if (sig ? sig != SIGBUS || !(mayd || map_thp_sigbus(&c, stable)) : c.dead0)
			fz_fail(t, "a read of the remapped range got signal %d", sig);
	}
	fz_check(t, "munmap after remap_file_pages", sys_err(munmap(c.addr, c.len)), OK);
	pthread_rwlock_unlock(&fz.va);
	map_done_alone(&c, 1);
	return 1;
}

/*
 * The result of a get_user_pages() user of @c's mapping that needs @need
 * protection: @r bytes of @len, or -1 with errno. It fails with EFAULT
 * where the mapping cannot give it the pages, and may stop early there.
 */
static void gup_check(struct fz_thread *t, const struct mctx *c, const char *what,
		      int need, ssize_t r, size_t len, int partial, int gup)
{
	int mayd, replaced, stable, must, may;

	map_state(c, &mayd, &replaced, &stable);
	if (r >= 0)
		t->seen[t->did] |= OK;
	must = stable && (!(c->prot & need) || c->dead0 ||
			  (gup && ds_gup_refused(c->d->flags)));
	may = must || !stable || mayd || !(c->prot & need) || map_thp_sigbus(c, stable);
	if (r < 0)
		fz_check(t, what, errno, may ? eb(EFAULT) : OK);
	else if (must)
		fz_fail(t, "%s of a mapping that cannot give its pages moved %zd bytes",
			what, r);
	else if ((size_t)r > len || (!may && !partial && (size_t)r != len) || !r)
		fz_fail(t, "%s moved %zd of %zu bytes", what, r, len);
}

static int op_o_direct(struct fz_thread *t)
{
	size_t o, n, pos;
	int into = chance(t, 60);
	struct mctx c;
	ssize_t r;

	if (t->blk < 0 || map_take(t, &c, 0))
		return 0;
	o = below(t, c.len / 512) * 512;
	n = (1 + below(t, min64((c.len - o) / 512, 512))) * 512;
	pos = below(t, (min64(t->blk_size, 8 * MIB) - n) / 512 + 1) * 512;
	fz_note(t, "O_DIRECT %s %zu bytes at %zu of %p length %zu prot %d, device offset %zu",
		into ? "read into" : "write from", n, o, c.addr, c.len, c.prot, pos);
	if (into)
		r = pread(t->blk, c.addr + o, n, pos);
	else
		r = pwrite(t->blk, c.addr + o, n, pos);
	gup_check(t, &c, into ? "O_DIRECT read" : "O_DIRECT write",
		  into ? PROT_WRITE : PROT_READ, r, n, 0, 1);
	map_put(t, &c);
	return 1;
}

static int op_vmsplice(struct fz_thread *t)
{
	static char buf[MAX_THREADS][64 * 1024];
	int to_pipe = chance(t, 60);
	struct iovec iov;
	size_t o, n;
	struct mctx c;
	ssize_t r, got;

	if (map_take(t, &c, 0))
		return 0;
	o = below(t, c.len);
	n = 1 + below(t, min64(c.len - o, 64 * KIB));
	iov.iov_base = c.addr + o;
	iov.iov_len = n;
	fz_note(t, "vmsplice %s %zu bytes at %zu of %p length %zu prot %d",
		to_pipe ? "to a pipe from" : "from a pipe into", n, o, c.addr, c.len, c.prot);
	if (to_pipe) {
		r = vmsplice(t->pipe[1], &iov, 1, 0);
		/* A pipe holds 16 pages: an unaligned 64 KiB spans 17. */
		gup_check(t, &c, "vmsplice to a pipe", PROT_READ, r, n, 1, 1);
	} else {
		if (write(t->pipe[1], buf[t->idx], n) != (ssize_t)n)
			fz_fail(t, "write to the pipe: %s", ename(errno));
		r = vmsplice(t->pipe[0], &iov, 1, 0);
		/* A copy to user memory: no get_user_pages(). */
		gup_check(t, &c, "vmsplice from a pipe", PROT_WRITE, r, n, 0, 0);
	}
	/* Drain the pipe: what it took from the mapping is read here. */
	do
		got = read(t->pipe[0], buf[t->idx], sizeof(buf[0]));
	while (got > 0);
	if (got < 0 && errno != EAGAIN)
		fz_fail(t, "read from the pipe: %s", ename(errno));
	map_put(t, &c);
	return 1;
}

/*
 * io_uring fixed buffers over one or two mappings: registered, and
 * unregistered by the thread's next io_uring operation. The pins outlive
 * unmapping and revocation.
 */
static int op_io_uring(struct fz_thread *t)
{
	int n = 1 + below(t, 2), i, k, err, mayd, replaced, stable, fail_first;
	eset allowed = 0, one;
	uint32_t flags;
	struct iovec iov[2];
	struct mctx c[2];
	size_t o;

	if (t->ring < 0)
		return 0;
	if (t->ring_bufs) {
		fz_note(t, "IORING_UNREGISTER_BUFFERS");
		fz_check(t, "IORING_UNREGISTER_BUFFERS",
			 sys_err(syscall(__NR_io_uring_register, t->ring,
					 IORING_UNREGISTER_BUFFERS, NULL, 0)), OK);
		for (i = 0; i < t->ring_bufs; i++)
			ds_put(t->ring_ds[i]);
		t->ring_bufs = 0;
		return 1;
	}
	for (k = 0; k < n; k++)
		if (map_take(t, &c[k], 0))
			break;
	if (!k)
		return 0;
	n = k;
	for (i = 0; i < n; i++) {
		o = below(t, c[i].len / fz.page);
		iov[i].iov_base = c[i].addr + o * fz.page;
		iov[i].iov_len = (1 + below(t, c[i].len / fz.page - o)) * fz.page;
	}
	fz_note(t, "IORING_REGISTER_BUFFERS of %d buffers, %zu bytes at %p (flags %#x prot %d)",
		n, iov[0].iov_len, iov[0].iov_base, c[0].d->flags, c[0].prot);
	err = sys_err(syscall(__NR_io_uring_register, t->ring, IORING_REGISTER_BUFFERS,
			      iov, n));
	/* Each buffer's set, in order: a failing buffer ends the call. */
	fail_first = 1;
	for (i = 0; i < n && fail_first; i++) {
		map_state(&c[i], &mayd, &replaced, &stable);
		flags = c[i].d->flags;
		if (ds_gup_refused(flags)) {
			/* No pages to pin: a pfn mapping. */
			one = eb(EFAULT);
		} else if (!(fz.io_uring_kinds & kind_of(flags))) {
			/* 6.1 takes shmem mappings only: not memalloc's pinned ones. */
			one = eb(EOPNOTSUPP);
		} else {
			/*
			 * A long-term pin migrates movable pages (CMA) first,
			 * which fails while others hold them (a device's
			 * import, I/O in flight); and io_uring's own tables
			 * for the buffer, of any kind, can find no memory
			 * while the other threads hold much: ENOMEM.
			 */
			one = OK | eb(ENOMEM);
		}
		if (!stable)
			one |= OK | eb(EFAULT);
		else if (!(c[i].prot & PROT_WRITE) || c[i].dead0)
			one = eb(EFAULT);
		else if (mayd || map_thp_sigbus(&c[i], stable))
			one |= eb(EFAULT);
		allowed |= one & ~OK;
		fail_first = !!(one & OK);
	}
	if (fail_first)
		allowed |= OK;
	if (!fz_check(t, "IORING_REGISTER_BUFFERS", err, allowed) && !err) {
		for (i = 0; i < n; i++) {
			ds_get(c[i].d);
			t->ring_ds[i] = c[i].d;
		}
		t->ring_bufs = n;
		/* Registered already: EBUSY. */
		if (chance(t, 20))
			fz_check(t, "IORING_REGISTER_BUFFERS again",
				 sys_err(syscall(__NR_io_uring_register, t->ring,
						 IORING_REGISTER_BUFFERS, iov, 1)),
				 eb(EBUSY));
	}
	for (i = 0; i < n; i++)
		map_put(t, &c[i]);
	return 1;
}

/*
 * vgem imports: each holds a device attachment (MEMALLOC_FREE answers
 * EBUSY meanwhile) until the thread closes its GEM handle again.
 */
static void vgem_close(struct fz_thread *t, int j)
{
	struct drm_gem_close gc = { .handle = t->imp[j].handle };
	struct fz_ds *d = t->imp[j].ds;

	pthread_mutex_lock(&fz.lock);
	d->imports--;
	d->attaching++;
	d->att_events++;
	pthread_mutex_unlock(&fz.lock);
	fz_note(t, "DRM_IOCTL_GEM_CLOSE of handle %u", gc.handle);
	fz_check(t, "DRM_IOCTL_GEM_CLOSE",
		 ioctl(t->vgem, DRM_IOCTL_GEM_CLOSE, &gc) ? errno : 0, OK);
	pthread_mutex_lock(&fz.lock);
	d->attaching--;
	ds_put_locked(d);
	pthread_mutex_unlock(&fz.lock);
	t->imp[j] = t->imp[--t->nimp];
}

static int op_vgem(struct fz_thread *t)
{
	struct drm_prime_handle prime = { 0 };
	int j, known = -1, err, mayd, racy;
	struct stat st;
	struct ectx c;
	eset allowed;

	if (t->vgem < 0)
		return 0;
	if (t->nimp && (t->nimp == MAX_IMPORTS || chance(t, 45))) {
		vgem_close(t, below(t, t->nimp));
		return 1;
	}
	if (ent_take(t, &c))
		return 0;
	if (fstat(c.fd, &st))
		fz_fail(t, "fstat: %s", ename(errno));
	for (j = 0; j < t->nimp; j++)
		if (t->imp[j].ino == st.st_ino)
			known = j;
	prime.fd = c.fd;
	pthread_mutex_lock(&fz.lock);
	c.d->attaching++;
	c.d->att_events++;
	pthread_mutex_unlock(&fz.lock);
	ENT_NOTE(t, &c, "DRM_IOCTL_PRIME_FD_TO_HANDLE%s", known >= 0 ? " (imported)" : "");
	err = ioctl(t->vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime) ? errno : 0;
	pthread_mutex_lock(&fz.lock);
	c.d->attaching--;
	pthread_mutex_unlock(&fz.lock);
	ent_state(&c, &mayd, &racy);
	if (known >= 0 && !racy) {
		/* The same dma-buf again: vgem's handle for it, no new attachment. */
		allowed = OK;
	} else if (c.dead0) {
		allowed = eb(ENODEV);
	} else {
		/* vgem maps for both directions: a read-only handle refuses. */
		allowed = c.writable ? OK : eb(EACCES);
		if (mayd)
			allowed |= eb(ENODEV);
	}
	if (racy)
		allowed |= eb(EINVAL);
	if (!fz_check(t, "DRM_IOCTL_PRIME_FD_TO_HANDLE", err, allowed) && !err) {
		for (j = 0; j < t->nimp; j++)
			if (t->imp[j].handle == prime.handle)
				break;
		if (known >= 0 && !racy && j != known)
			fz_fail(t, "a second import of a dma-buf gave handle %u", prime.handle);
		else if (known < 0 && j < t->nimp && !racy)
			fz_fail(t, "a new import gave handle %u again", prime.handle);
		if (j == t->nimp) {
			pthread_mutex_lock(&fz.lock);
			c.d->imports++;
			c.d->refs++;
			pthread_mutex_unlock(&fz.lock);
			t->imp[t->nimp].handle = prime.handle;
			t->imp[t->nimp].ino = st.st_ino;
			t->imp[t->nimp++].ds = c.d;
			if (t->nimp == MAX_IMPORTS)
				vgem_close(t, 0);
		}
	}
	ent_put(t, &c);
	return 1;
}

/* fork(): a child uses what it inherited and what it is passed, and exits. */
struct fz_child {
	int sock;
	int have_a;		/* it is passed an fd over the socket */
	uint64_t a_mappable;
	int a_free;		/* and revokes it */
	int have_m;		/* it reads or writes an inherited mapping */
	char *m_addr;
	size_t m_len;
	int m_prot;
	int m_dead;
	uint32_t flags;		/* it allocates a dataspace of its own */
	uint64_t size;
	int send_back;		/* and passes it back */
	uint64_t rng;
};

static void __attribute__((format(printf, 1, 2), noreturn)) child_fail(const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "# fuzz child of seed %" PRIu64 ": ", fz.seed);
	va_start(ap, fmt);
	n += vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(msg) - 2)
		n = sizeof(msg) - 2;
	msg[n++] = '\n';
	if (write(STDERR_FILENO, msg, n) < 0)
		_exit(1);
	_exit(1);
}

static int fz_child_run(struct fz_child *ch)
{
	struct fz_thread self = { .rng = ch->rng };
	struct memalloc_info in = { .size = sizeof(in) };
	struct memalloc_free f = { .size = sizeof(f) };
	int fd = -1, own, err, sig, code = 0, write;
	uint64_t unit, len, o;
	char *p;

	if (ch->have_a) {
		fd = recv_fd(ch->sock);
		if (fd < 0)
			child_fail("no fd received");
		in.fd = fd;
		err = mioc(MEMALLOC_INFO, &in);
		if (err && err != ENODEV && err != EINVAL)
			child_fail("MEMALLOC_INFO of the received fd: %s", ename(err));
		if (!err && in.out_mappable != ch->a_mappable)
			child_fail("MEMALLOC_INFO of the received fd says %llu bytes",
				   (unsigned long long)in.out_mappable);
		p = mmap(NULL, ch->a_mappable, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			if (errno != ENODEV)
				child_fail("mmap of the received fd: %s", ename(errno));
		} else {
			sig = fz_access(p + below(&self, ch->a_mappable), 0, 0);
			if (sig && sig != SIGBUS)
				child_fail("a read of the received fd's mapping: signal %d", sig);
			munmap(p, ch->a_mappable);
		}
	}
	if (ch->have_m) {
		o = below(&self, ch->m_len);
		write = ch->m_prot & PROT_WRITE && chance(&self, 50);
		sig = fz_access(ch->m_addr + o, write, 1);
		/*
		 * The parent's threads may have changed its protection or
		 * replaced it before the fork: any fault may be right, but a
		 * mapping of a dataspace revoked before must fault.
		 */
		if ((sig && sig != SIGSEGV && sig != SIGBUS) || (!sig && ch->m_dead))
			child_fail("a %s of an inherited mapping (prot %d%s): signal %d",
				   write ? "write" : "read", ch->m_prot,
				   ch->m_dead ? ", revoked" : "", sig);
	}
	if (ch->size) {
		own = ds_alloc(fz.dev, ch->size, ch->flags, 0, O_CLOEXEC);
		if (own < 0 && own != -ENOMEM)
			child_fail("MEMALLOC_ALLOC flags %#x: %s", ch->flags, ename(-own));
		if (own >= 0) {
			unit = ch->flags & MEMALLOC_SUPER_PAGES ? SUPER : fz.page;
			len = (ch->size + unit - 1) / unit * unit;
			p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, own, 0);
			if (p == MAP_FAILED)
				child_fail("mmap of its own dataspace: %s", ename(errno));
			if (p[0] || p[len - 1])
				child_fail("its own new dataspace is not zero");
			p[0] = 1;
			p[len - 1] = 2;
			if (p[0] != 1 || p[len - 1] != 2)
				child_fail("its own dataspace lost a write");
			if (ch->send_back) {
				if (send_fd(ch->sock, own))
					child_fail("sendmsg: %s", ename(errno));
			} else {
				f.fd = own;
				err = mioc(MEMALLOC_FREE, &f);
				if (err)
					child_fail("MEMALLOC_FREE of its own: %s", ename(err));
				sig = fz_access(p, 0, 0);
				if (sig != SIGBUS)
					child_fail("a read after MEMALLOC_FREE: signal %d", sig);
			}
			munmap(p, len);
			close(own);
		}
	}
	if (ch->a_free) {
		f.fd = fd;
		err = mioc(MEMALLOC_FREE, &f);
		if (!err)
			code = 10;
		else if (err != ENODEV && err != EBUSY && err != EINVAL)
			child_fail("MEMALLOC_FREE of the received fd: %s", ename(err));
	}
	if (fd >= 0)
		close(fd);
	return code;
}

static int op_fork(struct fz_thread *t)
{
	struct fz_child ch = { 0 };
	struct fz_ds *own = NULL;
	int sv[2], status = 0, rfd, sent = 0;
	struct ectx a;
	struct mctx m;
	pid_t pid;

	memset(&a, 0, sizeof(a));
	ch.have_a = !ent_take(t, &a);
	ch.have_m = !map_take(t, &m, 0);
	if (ch.have_a) {
		ch.a_mappable = a.d->mappable;
		ch.a_free = a.writable && chance(t, 30);
	}
	if (ch.have_m) {
		ch.m_addr = m.addr;
		ch.m_len = m.len;
		ch.m_prot = m.prot;
		ch.m_dead = m.dead0;
	}
	if (chance(t, 70)) {
		ch.flags = kinds[below(t, ARRAY_LEN(kinds))];
		if (ch.flags & ~fz.supported)
			ch.flags = 0;
		ch.size = 1 + below(t, ch.flags & MEMALLOC_SUPER_PAGES ? SUPER : 256 * KIB);
		ch.send_back = chance(t, 50);
		if (ch.send_back) {
			own = ds_new(ch.flags, ch.size,
				     ch.flags & MEMALLOC_SUPER_PAGES ? 21 : 12);
			ch.send_back = !!own;
		}
	}
	ch.rng = rnd(t);
	fz_note(t, "fork: child gets fd %d%s, reads %p, allocates flags %#x size %llu%s",
		ch.have_a ? a.fd : -1, ch.a_free ? " to revoke" : "",
		ch.have_m ? m.addr : NULL, ch.flags, (unsigned long long)ch.size,
		ch.send_back ? " to pass back" : "");
	if (fz_socketpair(t, sv))
		goto out;
	pthread_mutex_lock(&fz.lock);
	if (ch.a_free)
		a.d->freeing++;
	pthread_mutex_unlock(&fz.lock);
	pid = fork();
	if (!pid) {
		close(sv[0]);
		ch.sock = sv[1];
		_exit(fz_child_run(&ch));
	}
	close(sv[1]);
	if (pid < 0) {
		fz_fail(t, "fork: %s", ename(errno));
		close(sv[0]);
		goto out_free;
	}
	if (ch.have_a)
		sent = !send_fd(sv[0], a.fd);
	if (ch.send_back) {
		rfd = recv_fd(sv[0]);
		if (rfd >= 0)
			ent_add(t, rfd, own, 1);
	}
	close(sv[0]);
	if (waitpid(pid, &status, 0) != pid)
		fz_fail(t, "waitpid: %s", ename(errno));
	else if (!WIFEXITED(status) || (WEXITSTATUS(status) && WEXITSTATUS(status) != 10))
		fz_fail(t, "the child ended with status %#x", status);
	else if (ch.have_a && !sent)
		fz_fail(t, "sendmsg to the child: %s", ename(errno));
out_free:
	pthread_mutex_lock(&fz.lock);
	if (ch.a_free) {
		a.d->freeing--;
		if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 10)
			a.d->dead = 1;
	}
	pthread_mutex_unlock(&fz.lock);
out:
	if (own)
		ds_put(own);
	if (ch.have_m)
		map_put(t, &m);
	if (ch.have_a)
		ent_put(t, &a);
	return 1;
}

#define FZ_NAME(name, weight) #name,
#define FZ_WEIGHT(name, weight) weight,
#define FZ_FN(name, weight) op_##name,
static const char *const op_names[] = { FZ_OPS(FZ_NAME) };
static const unsigned int op_weights[] = { FZ_OPS(FZ_WEIGHT) };
static int (*const op_fns[])(struct fz_thread *) = { FZ_OPS(FZ_FN) };

static int time_up(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > fz.until.tv_sec ||
	       (now.tv_sec == fz.until.tv_sec && now.tv_nsec >= fz.until.tv_nsec);
}

static void fz_thread_setup(struct fz_thread *t)
{
	struct io_uring_params params;

	t->vgem = open_vgem();
	memset(&params, 0, sizeof(params));
	t->ring = syscall(__NR_io_uring_setup, 4, &params);
	if (pipe2(t->pipe, O_NONBLOCK | O_CLOEXEC))
		t->pipe[0] = t->pipe[1] = -1;
	t->blk = open(BLOCK_DEV, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (t->blk >= 0 && (ioctl(t->blk, BLKGETSIZE64, &t->blk_size) ||
			    t->blk_size < 1 * MIB)) {
		close(t->blk);
		t->blk = -1;
	}
}

static void fz_thread_teardown(struct fz_thread *t)
{
	int i;

	if (t->ring_bufs)
		fz_check(t, "IORING_UNREGISTER_BUFFERS at the end",
			 sys_err(syscall(__NR_io_uring_register, t->ring,
					 IORING_UNREGISTER_BUFFERS, NULL, 0)), OK);
	for (i = 0; i < t->ring_bufs; i++)
		ds_put(t->ring_ds[i]);
	t->ring_bufs = 0;
	while (t->nimp)
		vgem_close(t, t->nimp - 1);
	while (t->npaths) {
		t->npaths--;
		close(t->path[t->npaths]);
		ds_put(t->path_ds[t->npaths]);
	}
	if (t->ring >= 0)
		close(t->ring);
	if (t->vgem >= 0)
		close(t->vgem);
	if (t->blk >= 0)
		close(t->blk);
	if (t->pipe[0] >= 0) {
		close(t->pipe[0]);
		close(t->pipe[1]);
	}
}

static void *fz_thread_run(void *arg)
{
	struct fz_thread *t = arg;
	unsigned int total = 0, r, op;
	long limit = fz.max_ops ? (fz.max_ops + fz.threads - 1) / fz.threads : 0;

	for (op = 0; op < OP_COUNT; op++)
		total += op_weights[op];
	fz_thread_setup(t);
	while (!fz.stop && !time_up() && (!limit || t->ops < limit)) {
		r = below(t, total);
		for (op = 0; r >= op_weights[op]; op++)
			r -= op_weights[op];
		t->note[0] = 0;
		t->did = op;
		if (!op_fns[op](t))
			continue;
		t->count[t->did]++;
		t->ops++;
		memcpy(t->trail[t->ntrail++ % TRAIL], t->note, NOTE_LEN);
		if (fz.verbose)
			fprintf(stderr, "# [%d] %s\n", t->idx, t->note);
	}
	fz_thread_teardown(t);
	return NULL;
}

static int count_fds(void)
{
	struct dirent *de;
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		n += de->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* Mappings of dataspaces in /proc/self/maps: dma-bufs, or their shmem files. */
static int count_ds_maps(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "dmabuf") || strstr(line, " /memalloc");
	fclose(f);
	return n;
}

/* The fds that are no dataspace, and what commands answer for them. */
static void add_foreign(int fd, int err, int mmap_err)
{
	if (fd < 0 || fz.nforeign == MAX_FOREIGN)
		return;
	fz.foreign[fz.nforeign] = fd;
	fz.foreign_err[fz.nforeign] = err;
	fz.foreign_mmap[fz.nforeign++] = mmap_err;
}

/* A dma-buf of vgem's, or -1. */
static int vgem_dma_buf(int vgem)
{
	struct drm_mode_create_dumb dumb = { .width = 64, .height = 64, .bpp = 32 };
	struct drm_prime_handle prime = { .flags = O_CLOEXEC | O_RDWR };
	struct drm_gem_close gc = { 0 };

	if (ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &dumb))
		return -1;
	prime.handle = gc.handle = dumb.handle;
	if (ioctl(vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime))
		prime.fd = -1;
	ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gc);
	return prime.fd;
}

static void fz_setup(struct __test_metadata *_metadata)
{
	struct memalloc_version v = { .size = sizeof(v) };
	struct sigaction sa = { .sa_sigaction = fz_fault, .sa_flags = SA_SIGINFO };
	const char *env;
	char path[64];
	int fd, vgem;
	long secs;

	fz.page = sysconf(_SC_PAGESIZE);
	env = getenv("MEMALLOC_FUZZ_SEED");
	fz.seed = env && *env ? strtoull(env, NULL, 0) :
		  (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
	env = getenv("MEMALLOC_FUZZ_SECONDS");
	secs = env && *env ? atol(env) : DEFAULT_SECONDS;
	env = getenv("MEMALLOC_FUZZ_OPS");
	fz.max_ops = env && *env ? atol(env) : 0;
	env = getenv("MEMALLOC_FUZZ_THREADS");
	fz.threads = env && *env ? atoi(env) : 4;
	if (fz.threads < 1 || fz.threads > MAX_THREADS)
		fz.threads = 4;
	env = getenv("MEMALLOC_FUZZ_VERBOSE");
	fz.verbose = env && *env == '1';
	fprintf(stderr, "# seed %" PRIu64 "\n", fz.seed);
	fprintf(stderr, "# %d threads, %ld s%s%ld operations\n", fz.threads, secs,
		fz.max_ops ? " or " : ", no bound on ", fz.max_ops);
	clock_gettime(CLOCK_MONOTONIC, &fz.until);
	fz.until.tv_sec += secs;

	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	signal(SIGPIPE, SIG_IGN);
	fz.dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fz.dev);
	fz.dev_ro = open(MEMALLOC_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fz.dev_ro);
	fz.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fz.devnull);
	ASSERT_EQ(0, ioctl(fz.dev, MEMALLOC_VERSION, &v));
	fz.supported = v.out_alloc_flags;
	if (v.out_api_version >= 2) {
		fz.kinds = v.out_kinds;
		fz.gup_kinds = v.out_gup_kinds;
		fz.io_uring_kinds = v.out_io_uring_kinds;
	} else {
		/* Before the facts: 6.1's, as the header of API 1 told. */
		fz.gup_kinds = ~0u;
		fz.io_uring_kinds = MEMALLOC_KIND_LAZY | MEMALLOC_KIND_SUPER_PAGES;
	}
	fprintf(stderr, "# kinds: get_user_pages %#x, io_uring %#x\n", fz.gup_kinds,
		fz.io_uring_kinds);
	fz.sys_admin = !drop_effective_cap(CAP_SYS_ADMIN) &&
		       !set_effective_cap(CAP_SYS_ADMIN, 1);
	if (fz.sys_admin) {
		/* Whether this thread had it, with a PHYS that gets past EPERM. */
		struct memalloc_phys ph = { .size = sizeof(ph), .fd = -1 };

		fz.sys_admin = ioctl(fz.dev, MEMALLOC_PHYS, &ph) && errno == EBADF;
	}

	/* A number no fd has: the last one the limit allows. */
	fz.hole = sysconf(_SC_OPEN_MAX) - 1;
	ASSERT_LT(256, fz.hole);
	ASSERT_EQ(-1, fcntl(fz.hole, F_GETFD));
	add_foreign(fz.hole, EBADF, EBADF);
	add_foreign(fz.devnull, EINVAL, ENODEV);
	add_foreign(fz.dev, EINVAL, ENODEV);
	/*
	 * An O_PATH fd of a dataspace whose own fd is closed: it still holds
	 * the dma-buf, until it is closed at the end.
	 */
	fd = ds_alloc(fz.dev, fz.page, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fz.opath_fd = open(path, O_PATH | O_CLOEXEC);
	ASSERT_LE(0, fz.opath_fd);
	close(fd);
	add_foreign(fz.opath_fd, EBADF, EBADF);
	fz.vgem_fd = -1;
	vgem = open_vgem();
	if (vgem >= 0) {
		fz.vgem_fd = vgem_dma_buf(vgem);
		add_foreign(fz.vgem_fd, EINVAL, 0);
		close(vgem);
	}
}

/* With the threads gone: give everything back, and find nothing left. */
static void fz_teardown(struct __test_metadata *_metadata, int fds0)
{
	long pin = -1;
	int i, sv[2];

	for (i = 0; i < MAX_MAPS; i++) {
		struct fz_map *m = &fz.map[i];

		if (!m->used)
			continue;
		EXPECT_EQ(0, m->refs);
		EXPECT_EQ(0, m->busy);
		EXPECT_EQ(0, munmap(m->addr, m->len));
		map_release(m);
	}
	for (i = 0; i < MAX_ENTRIES; i++) {
		struct fz_entry *e = &fz.ent[i];

		if (!e->used)
			continue;
		EXPECT_EQ(0, e->refs);
		EXPECT_EQ(0, close(e->fd));
		ent_release(e);
	}
	EXPECT_EQ(0, fz.nds);
	EXPECT_EQ(0ull, (unsigned long long)fz.bytes);
	for (i = 0; i < fz.nforeign; i++)
		if (fz.foreign[i] != fz.hole && fz.foreign[i] != fz.dev &&
		    fz.foreign[i] != fz.devnull)
			close(fz.foreign[i]);
	close(fz.dev_ro);
	close(fz.devnull);
	close(fz.dev);
	EXPECT_EQ(fds0, count_fds());
	EXPECT_EQ(0, count_ds_maps());
	/*
	 * Fds in flight in a garbage cycle go with the next collection (a
	 * unix socket's release runs it); a ring's pins with its exit work.
	 */
	for (i = 0; i < 100 && pin; i++) {
		if (!socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
			close(sv[0]);
			close(sv[1]);
		}
		pin = status_kib("VmPin");
		if (pin)
			usleep(100 * 1000);
	}
	EXPECT_EQ(0, pin) TH_LOG("VmPin is %ld KiB after everything was closed", pin);
}

FIXTURE(fuzz) {
	int fds0;
};

FIXTURE_SETUP(fuzz)
{
	self->fds0 = count_fds();
	ASSERT_LT(0, self->fds0);
	ASSERT_EQ(0, status_kib("VmPin"));
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, random_programs, DEFAULT_SECONDS + 300)
{
	long total = 0, sigbus = 0, sigsegv = 0, secs;
	struct timespec start, end;
	char set[256];
	eset seen;
	int i, op;

	fz_setup(_metadata);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < fz.threads; i++) {
		fz.th[i].idx = i;
		fz.th[i].rng = fz.seed ^ (0x632be59bd9b4e019ull * (i + 1));
		fz.th[i].vgem = fz.th[i].ring = fz.th[i].blk = -1;
		ASSERT_EQ(0, pthread_create(&fz.th[i].tid, NULL, fz_thread_run, &fz.th[i]));
	}
	for (i = 0; i < fz.threads; i++)
		pthread_join(fz.th[i].tid, NULL);
	clock_gettime(CLOCK_MONOTONIC, &end);
	secs = end.tv_sec - start.tv_sec;
	fz_teardown(_metadata, self->fds0);

	for (i = 0; i < fz.threads; i++) {
		total += fz.th[i].ops;
		sigbus += fz.th[i].sigbus;
		sigsegv += fz.th[i].sigsegv;
	}
	fprintf(stderr, "# ran %ld s\n", secs);
	fprintf(stderr, "# %ld operations, seed %" PRIu64 "\n", total, fz.seed);
	/* Each operation's count, and the results its calls had. */
	for (op = 0; op < OP_COUNT; op++) {
		long n = 0;

		seen = 0;
		for (i = 0; i < fz.threads; i++) {
			n += fz.th[i].count[op];
			seen |= fz.th[i].seen[op];
		}
		eset_str(seen, set, sizeof(set));
		fprintf(stderr, "#   %-18s %7ld  %s\n", op_names[op], n, set);
	}
	fprintf(stderr, "# accesses that faulted: %ld SIGBUS, %ld SIGSEGV\n", sigbus, sigsegv);
	if (fz.failed) {
		fprintf(stderr, "# the operations before it, oldest first:\n");
		for (i = 0; i < fz.ntrail; i++)
			fprintf(stderr, "#   %s\n", fz.trail[i]);
	}
	EXPECT_FALSE(fz.failed) TH_LOG("%s", fz.why);
}

/* The harness's time limit follows MEMALLOC_FUZZ_SECONDS. */
static void __attribute__((constructor)) fuzz_time_limit(void)
{
	const char *env = getenv("MEMALLOC_FUZZ_SECONDS");
	long secs = env && *env ? atol(env) : DEFAULT_SECONDS;

	if (secs > 0 && secs < 30 * 24 * 3600)
		_fuzz_random_programs_object.timeout = secs + 300;
}

TEST_HARNESS_MAIN
