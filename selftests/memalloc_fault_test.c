// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: fault injection on every path.
 *
 * For each command (MEMALLOC_ALLOC, INFO, ALLOCATE, CLEAR, COPY_IN, DUP,
 * FREE, and mmap() with a touch of every page) and each kind of dataspace,
 * the N-th allocation the calling thread makes in the kernel (slab and page
 * allocator, through /proc/thread-self/fail-nth) fails, for N = 1, 2, ...
 * until the call succeeds without reaching an N-th allocation. This proves:
 *
 * - A failed call answers ENOMEM, the errno of a failed allocation (EFAULT
 *   too on kernels that also fail user copies), and only when the fault was
 *   injected. Never EINTR: no signal is sent. Faults in the page-fault
 *   handler are retried by the kernel, so touching a mapping never raises
 *   SIGBUS or SIGSEGV.
 * - A failed call leaves nothing behind, checked after every step once
 *   what the step made is closed: no fd, no VmPin, no RLIMIT_MEMLOCK charge
 *   (the sweep runs without CAP_IPC_LOCK under a limit of exactly one
 *   dataspace, so a charge not given back fails the next step's allocation,
 *   and one of the whole limit must succeed at the end), no charge to the
 *   test's own memory cgroup, no free memory (within what KASAN and RCU hold
 *   back for a while), and for write-combining no caching attribute left in
 *   the kernel's direct map.
 * - A call that survived an injected fault by falling back did its work:
 *   the dataspace is what was asked for, copies and clears are exact, and a
 *   mapping reads back what was written.
 *
 * Kernels without fault injection (CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB,
 * CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS) skip.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/memalloc.h>

#include "kselftest_harness.h"
#include "util.h"

#define KIB 1024ul
#define MIB (1024ul * KIB)
#define SUPER_PAGE (2 * MIB)

/* A sweep still failing at this many steps fails the test. */
#define MAX_STEPS 2000
/* Armed this far, fail-nth fails nothing: it counts a call's sites. */
#define COUNT_SITES 1000000

#define FAIL_NTH "/proc/thread-self/fail-nth"
#define DEBUGFS "/sys/kernel/debug/"
#define KERNEL_PAGE_TABLES DEBUGFS "page_tables/kernel"
#define CG_ROOT "/sys/fs/cgroup"

/*
 * memory.current counts the charges a CPU's stock holds ahead of use (up to
 * MEMCG_CHARGE_BATCH, 64 pages, on the one CPU the test runs on) and the
 * objects that wait for an RCU grace period to be freed and uncharged.
 */
#define MEMCG_SLACK (256 * KIB + 64 * KIB)
/*
 * Free memory, counted with the slab: KASAN keeps freed objects in
 * quarantine, and their slab pages out of the free lists, for a long time
 * (the proc and cgroup files each step reads free some). What stays is the
 * stack depot, page tables and objects waiting for RCU: some, and a little
 * for each step.
 */
#define AVAIL_SLACK_KIB 2048l
#define AVAIL_SLACK_STEP_KIB 16l

/*
 * fail-nth takes precedence over each capability's generic settings
 * (probability, interval, times, space, task-filter, the stack-trace
 * filter), but not over its own filters: these are set so that every
 * allocation counts, sleeping (GFP_KERNEL) and highmem (GFP_HIGHUSER, the
 * pages of dataspaces) ones, of every order, from every slab cache. Of the
 * generic settings, probability 0 makes nothing fail but the N-th site;
 * times -1 keeps the failures fail-nth injects, which count times down,
 * from spending the shared budget; verbose 0 keeps them off the console.
 * Setup saves each value and teardown puts it back.
 */
static const struct {
	const char *path;
	const char *val;
} knobs[] = {
	{ DEBUGFS "failslab/probability", "0" },
	{ DEBUGFS "failslab/times", "-1" },
	{ DEBUGFS "failslab/verbose", "0" },
	{ DEBUGFS "failslab/ignore-gfp-wait", "N" },
	{ DEBUGFS "failslab/cache-filter", "N" },
	{ DEBUGFS "fail_page_alloc/probability", "0" },
	{ DEBUGFS "fail_page_alloc/times", "-1" },
	{ DEBUGFS "fail_page_alloc/verbose", "0" },
	{ DEBUGFS "fail_page_alloc/ignore-gfp-wait", "N" },
	{ DEBUGFS "fail_page_alloc/ignore-gfp-highmem", "N" },
	{ DEBUGFS "fail_page_alloc/min-order", "0" },
};

#define NR_KNOBS (sizeof(knobs) / sizeof(knobs[0]))

enum op {
	OP_ALLOC,
	OP_INFO,
	OP_ALLOCATE,
	OP_CLEAR,
	OP_COPY_IN,
	OP_DUP,
	OP_FREE,
	OP_MAP,
};

static const char *const op_names[] = {
	[OP_ALLOC] = "MEMALLOC_ALLOC",
	[OP_INFO] = "MEMALLOC_INFO",
	[OP_ALLOCATE] = "MEMALLOC_ALLOCATE",
	[OP_CLEAR] = "MEMALLOC_CLEAR",
	[OP_COPY_IN] = "MEMALLOC_COPY_IN",
	[OP_DUP] = "MEMALLOC_DUP",
	[OP_FREE] = "MEMALLOC_FREE",
	[OP_MAP] = "mmap() and touch",
};

/* COPY_IN: from a lazy source holding a pattern, at offsets within pages. */
#define SRC_LEN (68 * KIB)
#define COPY_SRC_OFF 10
#define COPY_DST_OFF 100
#define COPY_MAX (64 * KIB)

/* Free memory and slab in KiB: memory not lost to a leak of pages. */
static long avail_kib(void)
{
	return free_kib() + meminfo_kib("Slab");
}

static char pattern(size_t i)
{
	return (char)(i * 7 + 3);
}

/*
 * The KiB of the kernel's direct map that are not write-back (PCD, PWT or
 * PAT set), from the page-table dump, or -1 without one.
 */
static long direct_map_uncached_kib(void)
{
	FILE *f = fopen(KERNEL_PAGE_TABLES, "re");
	unsigned long lo, hi;
	bool in = false;
	char line[256];
	long kib = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "---[ ", 5)) {
			in = !strncmp(line + 5, "Low Kernel Mapping", 18);
			continue;
		}
		if (!in || sscanf(line, "0x%lx-0x%lx", &lo, &hi) != 2)
			continue;
		if (strstr(line, " PCD") || strstr(line, " PWT") || strstr(line, " PAT "))
			kib += (hi - lo) / 1024;
	}
	fclose(f);
	return kib;
}

/* The open fds of this process (the directory's own included). */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Arm (@n > 0) or disarm (0) fail-nth: 0, or -1. */
static int set_fail_nth(int nth, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(nth, buf, len, 0) == len ? 0 : -1;
}

/* The sites still to pass before the armed one fails: 0 once it failed. */
static long fail_nth_left(int nth)
{
	char buf[16];
	ssize_t n = pread(nth, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

static int ds_allocate(int dev, int fd, uint64_t off, uint64_t len)
{
	struct memalloc_allocate a = { .size = sizeof(a), .fd = fd,
				       .offset = off, .length = len };

	return ds_ioctl(dev, MEMALLOC_ALLOCATE, &a);
}

static sigjmp_buf touch_jmp;

static void on_touch_signal(int sig)
{
	siglongjmp(touch_jmp, sig);
}

/* Write to the first byte of each page: 0, or the signal that raised. */
static int touch_pages(char *p, size_t len, size_t page)
{
	volatile size_t i;
	int sig;

	sig = sigsetjmp(touch_jmp, 1);
	if (!sig)
		for (i = 0; i < len / page; i++)
			((volatile char *)p)[i * page] = (char)(i + 1);
	return sig;
}

/* The first byte of [@p, @p + @len) that is not @c, or @len. */
static size_t first_not(const char *p, size_t len, char c)
{
	size_t i;

	if (!c && all_zero(p, len))
		return len;
	for (i = 0; i < len; i++)
		if (p[i] != c)
			break;
	return i;
}

FIXTURE(fault) {
	int dev;
	int nth;		/* this thread's fail-nth */
	int src;		/* COPY_IN's source, or -1 */
	int shared;		/* the dataspace every step works on, or -1 */
	size_t page;
	size_t mappable;	/* the byte size rounded up to backing pages */
	bool efault_ok;		/* the kernel fails user copies too */
	char cg_current[96];	/* memory.current of the test's cgroup */
	/* What setup changed, for teardown to put back. */
	char saved[NR_KNOBS][32];
	bool knob_set[NR_KNOBS];
	char cg_dir[64];
	char cg_home[288];
	bool cg_moved;
	bool cg_memory_enabled;
	cpu_set_t cpus;
	bool cpu_pinned;
	struct rlimit memlock;
	bool memlock_set;
	bool cap_dropped;
};

FIXTURE_VARIANT(fault) {
	const char *name;
	uint32_t flags;
	size_t len;
};

/* An exact byte size that is no multiple of pages. */
FIXTURE_VARIANT_ADD(fault, lazy) {
	.name = "lazy",
	.flags = 0,
	.len = 64 * KIB - 100,
};

/* 273 pages: one chunk of each order PINNED takes (256, 16 and 1 pages). */
FIXTURE_VARIANT_ADD(fault, pinned) {
	.name = "pinned",
	.flags = MEMALLOC_PINNED,
	.len = MIB + 68 * KIB - 100,
};

/* One block from the page allocator. */
FIXTURE_VARIANT_ADD(fault, contiguous_64k) {
	.name = "contiguous 64 KiB",
	.flags = MEMALLOC_CONTINUOUS,
	.len = 64 * KIB,
};

/* Beyond the page allocator's largest block: a range the module finds. */
FIXTURE_VARIANT_ADD(fault, contiguous_8m) {
	.name = "contiguous 8 MiB",
	.flags = MEMALLOC_CONTINUOUS,
	.len = 8 * MIB,
};

FIXTURE_VARIANT_ADD(fault, super_pages) {
	.name = "lazy super pages",
	.flags = MEMALLOC_SUPER_PAGES,
	.len = 2 * MIB,
};

FIXTURE_VARIANT_ADD(fault, pinned_super_pages) {
	.name = "pinned super pages",
	.flags = MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES,
	.len = 2 * MIB,
};

/* 17 pages, each with a PAT memtype of its own and its direct map changed. */
FIXTURE_VARIANT_ADD(fault, pinned_write_combine) {
	.name = "pinned write-combining",
	.flags = MEMALLOC_PINNED | MEMALLOC_WRITE_COMBINE,
	.len = 68 * KIB,
};

/* Put back what fault_env_apply() changed: NULL, or a knob left changed. */
static const char *fault_env_restore(FIXTURE_DATA(fault) *self)
{
	char path[320], pid[16], now[32];
	const char *bad = NULL;
	unsigned int i;

	if (self->cap_dropped)
		set_effective_cap(CAP_IPC_LOCK, 1);
	self->cap_dropped = false;
	if (self->memlock_set)
		setrlimit(RLIMIT_MEMLOCK, &self->memlock);
	self->memlock_set = false;
	if (self->cpu_pinned)
		sched_setaffinity(0, sizeof(self->cpus), &self->cpus);
	self->cpu_pinned = false;
	if (self->cg_moved) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", self->cg_home);
		snprintf(pid, sizeof(pid), "%d", getpid());
		write_file(path, pid);
	}
	self->cg_moved = false;
	if (self->cg_dir[0]) {
		/* Emptied by the move, but the kernel may take a moment to see it. */
		for (i = 0; i < 100 && rmdir(self->cg_dir) && errno == EBUSY; i++)
			usleep(10000);
	}
	self->cg_dir[0] = 0;
	if (self->cg_memory_enabled)
		write_file(CG_ROOT "/cgroup.subtree_control", "-memory");
	self->cg_memory_enabled = false;
	for (i = NR_KNOBS; i--;) {
		if (self->knob_set[i] &&
		    (write_file(knobs[i].path, self->saved[i]) ||
		     read_str(knobs[i].path, now, sizeof(now)) ||
		     strcmp(now, self->saved[i])))
			bad = knobs[i].path;
		self->knob_set[i] = false;
	}
	return bad;
}

/*
 * Configure fault injection, move this process into a cgroup of its own
 * with the memory controller, onto one CPU, without CAP_IPC_LOCK and under
 * an RLIMIT_MEMLOCK of one dataspace: NULL, or what failed.
 */
static const char *fault_env_apply(FIXTURE_DATA(fault) *self)
{
	char path[320], line[256], ctl[256];
	struct rlimit lim;
	unsigned int i;
	cpu_set_t one;
	FILE *f;

	for (i = 0; i < NR_KNOBS; i++) {
		if (read_str(knobs[i].path, self->saved[i], sizeof(self->saved[i])) ||
		    write_file(knobs[i].path, knobs[i].val))
			return knobs[i].path;
		self->knob_set[i] = true;
	}

	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return "/proc/self/cgroup";
	while (!self->cg_home[0] && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(self->cg_home, sizeof(self->cg_home), CG_ROOT "%s",
				 line + 3);
		}
	fclose(f);
	if (!self->cg_home[0])
		return "no cgroup2 line in /proc/self/cgroup";
	if (read_str(CG_ROOT "/cgroup.subtree_control", ctl, sizeof(ctl)))
		return CG_ROOT "/cgroup.subtree_control";
	if (!strstr(ctl, "memory")) {
		if (write_file(CG_ROOT "/cgroup.subtree_control", "+memory"))
			return "enabling the memory controller";
		self->cg_memory_enabled = true;
	}
	snprintf(self->cg_dir, sizeof(self->cg_dir), CG_ROOT "/memalloc-fault-%d",
		 getpid());
	if (mkdir(self->cg_dir, 0755)) {
		self->cg_dir[0] = 0;
		return "mkdir of the test's cgroup";
	}
	snprintf(self->cg_current, sizeof(self->cg_current), "%s/memory.current",
		 self->cg_dir);
	snprintf(path, sizeof(path), "%s/cgroup.procs", self->cg_dir);
	snprintf(line, sizeof(line), "%d", getpid());
	if (write_file(path, line))
		return "moving into the test's cgroup";
	self->cg_moved = true;

	/* One CPU: one per-CPU charge stock of the cgroup, see MEMCG_SLACK. */
	if (sched_getaffinity(0, sizeof(self->cpus), &self->cpus))
		return "sched_getaffinity";
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return "sched_setaffinity";
	self->cpu_pinned = true;

	if (getrlimit(RLIMIT_MEMLOCK, &self->memlock))
		return "getrlimit";
	lim.rlim_cur = self->mappable;
	lim.rlim_max = self->memlock.rlim_max;
	if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < lim.rlim_cur)
		lim.rlim_max = lim.rlim_cur;
	if (setrlimit(RLIMIT_MEMLOCK, &lim))
		return "setrlimit";
	self->memlock_set = true;
	if (drop_effective_cap(CAP_IPC_LOCK))
		return "dropping CAP_IPC_LOCK";
	self->cap_dropped = true;
	return NULL;
}

FIXTURE_SETUP(fault)
{
	struct memalloc_version v = { .size = sizeof(v) };
	size_t unit;
	const char *err;

	self->dev = -1;
	self->nth = -1;
	self->src = -1;
	self->shared = -1;
	self->page = sysconf(_SC_PAGESIZE);
	unit = variant->flags & MEMALLOC_SUPER_PAGES ? SUPER_PAGE : self->page;
	self->mappable = (variant->len + unit - 1) / unit * unit;

	if (access(FAIL_NTH, W_OK))
		SKIP(return, "no " FAIL_NTH ": a kernel without CONFIG_FAULT_INJECTION");
	if (access(DEBUGFS "failslab", F_OK) || access(DEBUGFS "fail_page_alloc", F_OK))
		SKIP(return,
		     "no failslab or fail_page_alloc in debugfs (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS)");
	if (access(CG_ROOT "/cgroup.subtree_control", W_OK))
		SKIP(return, "no cgroup2 hierarchy at " CG_ROOT);
	self->dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, ds_ioctl(self->dev, MEMALLOC_VERSION, &v));
	if ((v.out_alloc_flags & variant->flags) != variant->flags)
		SKIP(return, "this kernel cannot honour the flags %#x", variant->flags);
	self->nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
	self->efault_ok = !access(DEBUGFS "fail_usercopy", F_OK);

	err = fault_env_apply(self);
	if (err)
		fault_env_restore(self);
	ASSERT_EQ(NULL, err) TH_LOG("setting up: %s: %s", err, strerror(errno));
}

FIXTURE_TEARDOWN(fault)
{
	const char *bad;

	if (self->nth >= 0) {
		set_fail_nth(self->nth, 0);
		close(self->nth);
	}
	if (self->src >= 0)
		close(self->src);
	if (self->shared >= 0)
		close(self->shared);
	bad = fault_env_restore(self);
	EXPECT_EQ(NULL, bad) TH_LOG("%s not restored", bad);
	if (self->dev >= 0)
		close(self->dev);
}

/* What a test is charged for and holds, after each step. */
struct acct {
	int fds;
	long vmpin;	/* KiB */
	long memcg;	/* bytes */
	long avail;	/* free memory and slab, KiB */
};

static void snapshot(FIXTURE_DATA(fault) *self, struct acct *a)
{
	a->fds = count_fds();
	a->vmpin = status_kib("VmPin");
	a->memcg = read_long(self->cg_current);
	a->avail = avail_kib();
}

/* What one step made; -1 and NULL for what it did not. */
struct step {
	int ds;			/* the dataspace the command works on */
	int out;		/* the fd MEMALLOC_ALLOC or MEMALLOC_DUP made */
	char *res;		/* address space reserved for mmap() */
	size_t res_len;
	char *map;		/* a mapping of @ds */
	struct memalloc_info info;
	struct sigaction old_bus, old_segv;
};

static size_t clear_off(FIXTURE_DATA(fault) *self)
{
	return self->page + 100;
}

static size_t clear_len(FIXTURE_DATA(fault) *self)
{
	return self->mappable - 3 * self->page;
}

static size_t copy_len(const FIXTURE_VARIANT(fault) *variant)
{
	return variant->len - COPY_DST_OFF < COPY_MAX ? variant->len - COPY_DST_OFF : COPY_MAX;
}

/* COPY_IN's source: a lazy dataspace that holds pattern(). */
static void make_source(struct __test_metadata *_metadata,
			FIXTURE_DATA(fault) *self)
{
	char *p;
	size_t i;

	self->src = ds_alloc(self->dev, SRC_LEN, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, self->src) TH_LOG("the source: %s", strerror(-self->src));
	p = mmap(NULL, SRC_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, self->src, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < SRC_LEN; i++)
		p[i] = pattern(i);
	munmap(p, SRC_LEN);
}

/* What the command needs, made before the fault is armed. */
static void prepare(struct __test_metadata *_metadata, FIXTURE_DATA(fault) *self,
		    const FIXTURE_VARIANT(fault) *variant, enum op op,
		    unsigned int n, struct step *st)
{
	struct sigaction sa = { .sa_handler = on_touch_signal };

	if (self->shared >= 0) {
		st->ds = self->shared;
	} else if (op != OP_ALLOC) {
		st->ds = ds_alloc(self->dev, variant->len, variant->flags, 0, O_CLOEXEC);
		ASSERT_LE(0, st->ds)
			TH_LOG("step %u: the %s dataspace to work on: %s%s", n,
			       variant->name, strerror(-st->ds),
			       st->ds == -ENOMEM ? " (an earlier step kept a charge?)" : "");
	}
	switch (op) {
	case OP_CLEAR:
	case OP_FREE:
		st->map = map_aligned(st->ds, self->mappable, 21, PROT_READ | PROT_WRITE);
		ASSERT_NE(MAP_FAILED, st->map);
		/* All of it to be cleared; a page to be zapped by revocation. */
		if (op == OP_CLEAR)
			memset(st->map, 0x5a, self->mappable);
		else
			st->map[0] = 1;
		break;
	case OP_MAP:
		st->res_len = self->mappable + SUPER_PAGE;
		st->res = mmap(NULL, st->res_len, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		ASSERT_NE(MAP_FAILED, st->res);
		sigaction(SIGBUS, &sa, &st->old_bus);
		sigaction(SIGSEGV, &sa, &st->old_segv);
		break;
	default:
		break;
	}
}

/* The command itself, with the fault armed: 0 or -errno (or a signal). */
static int do_op(FIXTURE_DATA(fault) *self, const FIXTURE_VARIANT(fault) *variant,
		 enum op op, struct step *st)
{
	uintptr_t at;
	int ret;

	switch (op) {
	case OP_ALLOC:
		ret = ds_alloc(self->dev, variant->len, variant->flags, 0, O_CLOEXEC);
		if (ret < 0)
			return ret;
		st->out = ret;
		return 0;
	case OP_INFO:
		return ds_info(self->dev, st->ds, &st->info);
	case OP_ALLOCATE:
		return ds_allocate(self->dev, st->ds, 0, variant->len);
	case OP_CLEAR:
		return ds_clear(self->dev, st->ds, clear_off(self), clear_len(self));
	case OP_COPY_IN:
		return ds_copy_in(self->dev, st->ds, COPY_DST_OFF, self->src,
				  COPY_SRC_OFF, copy_len(variant));
	case OP_DUP:
		ret = ds_dup(self->dev, st->ds, MEMALLOC_RIGHT_R,
			     variant->flags & MEMALLOC_CACHING_MASK);
		if (ret < 0)
			return ret;
		st->out = ret;
		return 0;
	case OP_FREE:
		return ds_free(self->dev, st->ds);
	case OP_MAP:
		/* Over the reservation, 2 MiB aligned for PMD mappings. */
		at = ((uintptr_t)st->res + SUPER_PAGE - 1) & ~(uintptr_t)(SUPER_PAGE - 1);
		st->map = mmap((void *)at, self->mappable, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED, st->ds, 0);
		if (st->map == MAP_FAILED) {
			st->map = NULL;
			return -errno;
		}
		/* A signal, told apart from -errno by its sign. */
		return touch_pages(st->map, self->mappable, self->page);
	}
	return -EINVAL;
}

/* A call that succeeded, whether or not it survived a fault, did its work. */
static void check_success(struct __test_metadata *_metadata,
			  FIXTURE_DATA(fault) *self,
			  const FIXTURE_VARIANT(fault) *variant, enum op op,
			  unsigned int n, struct step *st, long pin0)
{
	bool eager = variant->flags & (MEMALLOC_PINNED | MEMALLOC_CONTINUOUS);
	size_t i, len, off, m;
	struct memalloc_info info;
	char *p;

	switch (op) {
	case OP_ALLOC:
	case OP_INFO:
	case OP_DUP:
		if (op == OP_INFO) {
			info = st->info;
		} else {
			ASSERT_EQ(0, ds_info(self->dev, st->out, &info));
		}
		ASSERT_EQ(variant->len, info.out_length) TH_LOG("step %u", n);
		ASSERT_EQ(self->mappable, info.out_mappable) TH_LOG("step %u", n);
		ASSERT_EQ(variant->flags, info.out_flags) TH_LOG("step %u", n);
		ASSERT_EQ(variant->flags & MEMALLOC_SUPER_PAGES ? 21u : 12u,
			  info.out_page_shift) TH_LOG("step %u", n);
		ASSERT_EQ(op == OP_DUP ? MEMALLOC_RIGHT_R : MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W,
			  info.out_rights) TH_LOG("step %u", n);
		if (eager) {
			ASSERT_EQ(self->mappable, info.out_resident) TH_LOG("step %u", n);
		} else if (op == OP_ALLOC) {
			ASSERT_EQ(0u, info.out_resident) TH_LOG("step %u", n);
		}
		break;
	case OP_ALLOCATE:
		ASSERT_EQ(0, ds_info(self->dev, st->ds, &info));
		ASSERT_EQ(self->mappable, info.out_resident)
			TH_LOG("step %u: not all of it populated", n);
		break;
	case OP_CLEAR:
		off = clear_off(self);
		len = clear_len(self);
		i = first_not(st->map, off, 0x5a);
		ASSERT_EQ(off, i) TH_LOG("step %u: byte %zu before the range changed", n, i);
		i = first_not(st->map + off, len, 0);
		ASSERT_EQ(len, i) TH_LOG("step %u: byte %zu of the range not cleared", n, off + i);
		m = self->mappable - off - len;
		i = first_not(st->map + off + len, m, 0x5a);
		ASSERT_EQ(m, i) TH_LOG("step %u: byte %zu after the range changed", n,
				       off + len + i);
		break;
	case OP_COPY_IN:
		len = copy_len(variant);
		m = (COPY_DST_OFF + len + self->page - 1) / self->page * self->page;
		p = mmap(NULL, m, PROT_READ, MAP_SHARED, st->ds, 0);
		ASSERT_NE(MAP_FAILED, p);
		off = first_not(p, COPY_DST_OFF, 0);
		for (i = 0; i < len; i++)
			if (p[COPY_DST_OFF + i] != pattern(COPY_SRC_OFF + i))
				break;
		m -= COPY_DST_OFF + len;
		m -= first_not(p + COPY_DST_OFF + len, m, 0);
		munmap(p, (COPY_DST_OFF + len + self->page - 1) / self->page * self->page);
		ASSERT_EQ((size_t)COPY_DST_OFF, off) TH_LOG("step %u: byte %zu written", n, off);
		ASSERT_EQ(len, i) TH_LOG("step %u: byte %zu not copied", n, COPY_DST_OFF + i);
		ASSERT_EQ(0u, m) TH_LOG("step %u: written past the copy", n);
		break;
	case OP_FREE:
		ASSERT_EQ(-ENODEV, ds_info(self->dev, st->ds, &info)) TH_LOG("step %u", n);
		/* Revocation gives the charges back at once. */
		ASSERT_EQ(pin0, status_kib("VmPin")) TH_LOG("step %u", n);
		break;
	case OP_MAP:
		for (i = 0; i < self->mappable / self->page; i++)
			if (st->map[i * self->page] != (char)(i + 1) ||
			    st->map[(i + 1) * self->page - 1])
				break;
		ASSERT_EQ(self->mappable / self->page, i)
			TH_LOG("step %u: page %zu does not read back", n, i);
		break;
	}
}

static void cleanup(struct step *st, FIXTURE_DATA(fault) *self, enum op op)
{
	if (op == OP_MAP) {
		sigaction(SIGBUS, &st->old_bus, NULL);
		sigaction(SIGSEGV, &st->old_segv, NULL);
		munmap(st->res, st->res_len);
	} else if (st->map) {
		munmap(st->map, self->mappable);
	}
	if (st->out >= 0)
		close(st->out);
	if (st->ds >= 0 && st->ds != self->shared)
		close(st->ds);
}

static bool errno_ok(FIXTURE_DATA(fault) *self, int ret)
{
	return ret == -ENOMEM || (ret == -EFAULT && self->efault_ok);
}

/*
 * One step: the command with its @n-th allocation failing. Returns 0 or
 * -errno, and in @left the sites still to pass when the call returned (0:
 * the fault was injected). With @base, what the step left is compared with it.
 */
static int one_step(struct __test_metadata *_metadata, FIXTURE_DATA(fault) *self,
		    const FIXTURE_VARIANT(fault) *variant, enum op op,
		    unsigned int n, long *left, const struct acct *base)
{
	struct step st = { .ds = -1, .out = -1 };
	struct memalloc_info info;
	long pin0, pin1;
	struct acct now;
	int ret, fds, disarm;

	pin0 = status_kib("VmPin");
	prepare(_metadata, self, variant, op, n, &st);
	fds = count_fds();
	pin1 = status_kib("VmPin");

	ASSERT_EQ(0, set_fail_nth(self->nth, n));
	ret = do_op(self, variant, op, &st);
	*left = fail_nth_left(self->nth);
	disarm = set_fail_nth(self->nth, 0);
	ASSERT_EQ(0, disarm);
	ASSERT_LE(0, *left);

	ASSERT_GE(0, ret) TH_LOG("step %u: touching the mapping raised signal %d", n, ret);
	if (ret) {
		ASSERT_EQ(0, *left)
			TH_LOG("step %u: %s of a %s dataspace failed (%s) before the fault%s",
			       n, op_names[op], variant->name, strerror(-ret),
			       ret == -ENOMEM ? " (an earlier step kept a charge?)" : "");
		/* A wrong errno is wrong, but the sweep goes on to find more. */
		EXPECT_TRUE(errno_ok(self, ret))
			TH_LOG("step %u: %s of a %s dataspace: %s, not ENOMEM", n,
			       op_names[op], variant->name, strerror(-ret));
		ASSERT_EQ(fds, count_fds())
			TH_LOG("step %u: the failed %s left an fd", n, op_names[op]);
		ASSERT_EQ(pin1, status_kib("VmPin"))
			TH_LOG("step %u: the failed %s changed VmPin", n, op_names[op]);
		if (st.ds >= 0) {
			ASSERT_EQ(0, ds_info(self->dev, st.ds, &info))
				TH_LOG("step %u: the dataspace is gone after a failed %s",
				       n, op_names[op]);
			ASSERT_EQ(variant->len, info.out_length);
		}
	} else {
		check_success(_metadata, self, variant, op, n, &st, pin0);
	}
	cleanup(&st, self, op);
	if (!base)
		return ret;

	snapshot(self, &now);
	ASSERT_EQ(base->fds, now.fds)
		TH_LOG("step %u of %s (%s): fds", n, op_names[op], ret ? "failed" : "done");
	ASSERT_EQ(base->vmpin, now.vmpin)
		TH_LOG("step %u of %s (%s): VmPin", n, op_names[op], ret ? "failed" : "done");
	ASSERT_GE(base->memcg + (long)MEMCG_SLACK, now.memcg)
		TH_LOG("step %u of %s (%s): the cgroup is charged %ld KiB more", n,
		       op_names[op], ret ? "failed" : "done",
		       (now.memcg - base->memcg) / 1024);
	ASSERT_LE(base->avail - AVAIL_SLACK_KIB - (long)n * AVAIL_SLACK_STEP_KIB, now.avail)
		TH_LOG("step %u of %s (%s): free memory and slab dropped by %ld KiB", n,
		       op_names[op], ret ? "failed" : "done", base->avail - now.avail);
	return ret;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Whether one dataspace serves every step: commands that leave it as it
 * was, and commands that take no memory for an eager dataspace, which holds
 * all of its own. A step that kept a reference to it shows when it is
 * closed after the sweep.
 */
static bool shares_dataspace(const FIXTURE_VARIANT(fault) *variant, enum op op)
{
	bool eager = variant->flags & (MEMALLOC_PINNED | MEMALLOC_CONTINUOUS);

	return op == OP_INFO || op == OP_DUP ||
	       (eager && (op == OP_ALLOCATE || op == OP_COPY_IN || op == OP_MAP));
}

static void sweep(struct __test_metadata *_metadata, FIXTURE_DATA(fault) *self,
		  const FIXTURE_VARIANT(fault) *variant, enum op op)
{
	unsigned int n, failed = 0, survived = 0;
	long left, sites, avail1, wc0 = -1, wc1 = -1;
	struct acct pre, base, end;
	double t0 = seconds(), t1;
	int fd, ret;

	if (_metadata->skip)
		return;
	if (op == OP_COPY_IN)
		make_source(_metadata, self);
	snapshot(self, &pre);
	if (shares_dataspace(variant, op)) {
		self->shared = ds_alloc(self->dev, variant->len, variant->flags, 0,
					O_CLOEXEC);
		ASSERT_LE(0, self->shared) TH_LOG("%s", strerror(-self->shared));
	}

	/* Once with no fault: settles caches and counts the sites on the way. */
	ret = one_step(_metadata, self, variant, op, COUNT_SITES, &left, NULL);
	ASSERT_EQ(0, ret) TH_LOG("%s of a %s dataspace: %s", op_names[op],
				 variant->name, strerror(-ret));
	sites = COUNT_SITES - left;

	/*
	 * Changing the caching attribute of the kernel's own mapping of the
	 * pages can fail half-way: none of it may stay when they are freed.
	 */
	if (op == OP_ALLOC && variant->flags & MEMALLOC_CACHING_MASK) {
		t1 = seconds();
		wc0 = direct_map_uncached_kib();
		TH_LOG("direct map: %ld KiB not write-back, %.1f s", wc0, seconds() - t1);
	}
	snapshot(self, &base);
	for (n = 1;; n++) {
		ASSERT_GE(MAX_STEPS, n)
			TH_LOG("%s of a %s dataspace never got through: %ld sites",
			       op_names[op], variant->name, sites);
		ret = one_step(_metadata, self, variant, op, n, &left, &base);
		if (ret)
			failed++;
		else if (!left)
			survived++;
		else
			break;
	}
	avail1 = avail_kib();
	if (wc0 >= 0)
		wc1 = direct_map_uncached_kib();
	if (self->shared >= 0) {
		close(self->shared);
		self->shared = -1;
	}

	snapshot(self, &end);
	TH_LOG("%s, %s: %ld sites, %u steps: %u failed, %u survived a fault; cgroup %+ld KiB, free and slab %+ld KiB, %.1f s",
	       op_names[op], variant->name, sites, n, failed, survived,
	       (end.memcg - pre.memcg) / 1024, avail1 - base.avail, seconds() - t0);
	ASSERT_EQ(pre.fds, end.fds);
	ASSERT_EQ(pre.vmpin, end.vmpin) TH_LOG("a step kept the dataspace");
	ASSERT_GE(pre.memcg + (long)MEMCG_SLACK, end.memcg);
	ASSERT_EQ(wc0, wc1) TH_LOG("the direct map kept caching attributes");
	ASSERT_LE(base.avail - AVAIL_SLACK_KIB - (long)n * AVAIL_SLACK_STEP_KIB, avail1)
		TH_LOG("free memory and slab dropped by %ld KiB", base.avail - avail1);
	/* The charge of RLIMIT_MEMLOCK came back: all of it can be had again. */
	if (variant->flags & (MEMALLOC_PINNED | MEMALLOC_CONTINUOUS)) {
		fd = ds_alloc(self->dev, self->mappable, variant->flags, 0, O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("%zu bytes under an RLIMIT_MEMLOCK of as much: %s",
					self->mappable, strerror(-fd));
		close(fd);
	}
}

TEST_F_TIMEOUT(fault, alloc, 300)
{
	sweep(_metadata, self, variant, OP_ALLOC);
}

TEST_F_TIMEOUT(fault, info, 300)
{
	sweep(_metadata, self, variant, OP_INFO);
}

TEST_F_TIMEOUT(fault, allocate, 300)
{
	sweep(_metadata, self, variant, OP_ALLOCATE);
}

TEST_F_TIMEOUT(fault, clear, 300)
{
	sweep(_metadata, self, variant, OP_CLEAR);
}

TEST_F_TIMEOUT(fault, copy_in, 300)
{
	sweep(_metadata, self, variant, OP_COPY_IN);
}

TEST_F_TIMEOUT(fault, dup, 300)
{
	sweep(_metadata, self, variant, OP_DUP);
}

TEST_F_TIMEOUT(fault, free, 300)
{
	sweep(_metadata, self, variant, OP_FREE);
}

TEST_F_TIMEOUT(fault, map, 300)
{
	sweep(_metadata, self, variant, OP_MAP);
}

/* Its memory figures are to the page: no pool refilling beside them. */
POOL_OFF_WHILE_RUNNING()

TEST_HARNESS_MAIN
