// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc selftests: memory pressure, with swap on scratch ram disks.
 *
 * In a memory cgroup with memory.max = 32 MiB and swap:
 * - lazy dataspaces (4 KiB and super-page backed) written beyond
 *   memory.max swap out and come back intact; memory.swap.current rises,
 *   MEMALLOC_INFO's resident bytes leave out what is in swap;
 * - PINNED, CONTINUOUS and PINNED|SUPER_PAGES dataspaces are taken in
 *   ever smaller pieces until the cgroup is full: swap makes room by
 *   taking lazy memory out, the last call gets ENOMEM, the caller is not
 *   OOM-killed (memory.events oom_kill stays 0), and the eager pages never
 *   leave their frames (pagemap) nor lose a byte;
 * - MEMALLOC_ALLOCATE of a lazy range larger than memory.max and
 *   memory.swap.max together gets ENOMEM; what it takes within them goes
 *   to swap under pressure, it is not dropped (mincore and swap account
 *   for all of it).
 * Each time memory.current, memory.swap.current and VmPin come back to
 * where they began. The child that allocates locks its own memory first,
 * so that nothing but memalloc meets the limit.
 *
 * Under global pressure (no limit; most of the free memory held in
 * surplus huge pages, so that a round takes seconds): PINNED dataspaces
 * are taken until the machine has no more, round after round. The caller
 * gets ENOMEM, nobody is OOM-killed (/proc/vmstat oom_kill), and after
 * every round all of it comes back: free memory (free_kib(), so that a
 * leak adds up over the rounds), VmPin and the fd count.
 *
 * Needs root, a cgroup2 memory controller, /dev/ram1 (and /dev/ram2 where
 * the ram disks are small) and mkswap and swapon; skips without. What it
 * changes (swap, the memory controller of the root cgroup, its cgroup,
 * vm.nr_overcommit_hugepages) it puts back as it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "util.h"

#define KIB 1024l
#define MIB (1024l * KIB)
#define PAGE 4096l

#define CG_ROOT "/sys/fs/cgroup"
#define CG_MAX (32 * MIB)
/* Swap wanted on the scratch ram disks, and how many of them to use. */
#define SWAP_WANT (32 * MIB)
#define RAM_DISKS 4
/* What the cgroup may hold besides what a test put there. */
#define CG_SLACK (6 * MIB)
/* The global test runs rounds for about this long, at least two. */
#define GLOBAL_SECONDS 20
#define GLOBAL_MAX_ROUNDS 8
/* Free memory the global test leaves outside its huge pages. */
#define GLOBAL_LEAVE (320 * MIB)
#define HUGE_MAP (64 * MIB)
#define OVERCOMMIT "/proc/sys/vm/nr_overcommit_hugepages"
/* Free memory after a round may be this much below where it was before. */
#define GLOBAL_TOLERANCE (24 * MIB)
#define MAX_FDS 1024

/* What a child in the cgroup tells its parent, in shared memory. */
struct report {
	long val[12];
	char msg[256];
};

struct env {
	char why[160];
	int ready;
	int dev;
	/* Swap devices turned on here, and the swap there is. */
	char swaps[RAM_DISKS][16];
	int nswaps;
	long swap_bytes;
	/* The cgroup, and whether memory was enabled in its parent here. */
	char cg[96];
	int enabled_memory;
	struct report *rep;
	/* Surplus huge pages held by the global test, and the old setting. */
	void *huge[128];
	int nhuge;
	int overcommit_set;
	long overcommit;
};

/* The value of "@key N" in a file of such lines, or -1. */
static long read_key(const char *path, const char *key)
{
	return file_field(path, key, ' ');
}

static long cg_num(const struct env *e, const char *file)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", e->cg, file);
	return read_long(path);
}

static long cg_event(const struct env *e, const char *key)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/memory.events", e->cg);
	return read_key(path, key);
}

static int cg_set(const struct env *e, const char *file, const char *val)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", e->cg, file);
	return write_file(path, val);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Whether the file at @path mentions @word as a whole word. */
static int file_has_word(const char *path, const char *word)
{
	char buf[512] = { 0 }, *s;
	size_t n = strlen(word);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	for (s = strstr(buf, word); s; s = strstr(s + 1, word))
		if ((s == buf || s[-1] == ' ') &&
		    (s[n] == ' ' || s[n] == '\n' || !s[n]))
			return 1;
	return 0;
}

static long swap_total(void)
{
	long kib = meminfo_kib("SwapTotal");

	return kib < 0 ? 0 : kib * KIB;
}

/*
 * Write a ram disk full, so that it holds all its memory from now on and
 * swapping to it later takes none: free memory then means the same before
 * and after the swap is used.
 */
static int fill_ram_disk(const char *dev)
{
	static char zero[MIB];
	int fd = open(dev, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	do
		n = write(fd, zero, sizeof(zero));
	while (n > 0);
	fsync(fd);
	close(fd);
	return n < 0 && errno != ENOSPC ? -1 : 0;
}

/*
 * Swap on /dev/ram1 and the next ram disks (not /dev/ram0, the block
 * device of the I/O tests) until SWAP_WANT is there; those already in
 * use as swap are left alone. 0, or -1 with @e->why set.
 */
static int swap_up(struct env *e, int fill)
{
	char dev[16], cmd[96];
	struct stat st;
	int i;

	for (i = 1; i <= RAM_DISKS && swap_total() < SWAP_WANT; i++) {
		snprintf(dev, sizeof(dev), "/dev/ram%d", i);
		if (stat(dev, &st) || !S_ISBLK(st.st_mode))
			break;
		if (file_has_word("/proc/swaps", dev))
			continue;
		if (fill && fill_ram_disk(dev)) {
			snprintf(e->why, sizeof(e->why), "cannot write %s", dev);
			return -1;
		}
		snprintf(cmd, sizeof(cmd),
			 "mkswap %s >/dev/null 2>&1 && swapon %s 2>/dev/null",
			 dev, dev);
		if (system(cmd)) {
			snprintf(e->why, sizeof(e->why),
				 "cannot swap on %s (mkswap and swapon?)", dev);
			return -1;
		}
		strcpy(e->swaps[e->nswaps++], dev);
	}
	e->swap_bytes = swap_total();
	if (e->swap_bytes < SWAP_WANT / 2) {
		snprintf(e->why, sizeof(e->why),
			 "%ld KiB of swap; no /dev/ram1 for more",
			 e->swap_bytes / KIB);
		return -1;
	}
	return 0;
}

static void swap_down(struct env *e)
{
	char cmd[64];

	while (e->nswaps > 0) {
		snprintf(cmd, sizeof(cmd), "swapoff %s", e->swaps[--e->nswaps]);
		if (system(cmd))
			fprintf(stderr, "# cannot %s\n", cmd);
	}
}

/* A child cgroup with memory.max = CG_MAX and unlimited swap. */
static int cg_up(struct env *e)
{
	const char *ctl = CG_ROOT "/cgroup.subtree_control";
	char max[32];

	if (!file_has_word(CG_ROOT "/cgroup.controllers", "memory")) {
		snprintf(e->why, sizeof(e->why),
			 "no cgroup2 memory controller at " CG_ROOT);
		return -1;
	}
	if (!file_has_word(ctl, "memory")) {
		if (write_file(ctl, "+memory")) {
			snprintf(e->why, sizeof(e->why),
				 "cannot enable the memory controller");
			return -1;
		}
		e->enabled_memory = 1;
	}
	snprintf(e->cg, sizeof(e->cg), CG_ROOT "/memalloc-pressure-%d", getpid());
	if (mkdir(e->cg, 0755)) {
		snprintf(e->why, sizeof(e->why), "mkdir %s: %s", e->cg,
			 strerror(errno));
		e->cg[0] = 0;
		return -1;
	}
	snprintf(max, sizeof(max), "%ld", CG_MAX);
	if (cg_set(e, "memory.max", max) || cg_set(e, "memory.swap.max", "max")) {
		snprintf(e->why, sizeof(e->why), "no memory.max or memory.swap.max");
		return -1;
	}
	return 0;
}

static void cg_down(struct env *e)
{
	int i;

	if (e->cg[0]) {
		/* A child just reaped may still be leaving the cgroup. */
		for (i = 0; i < 50 && rmdir(e->cg) && errno == EBUSY; i++)
			usleep(100 * 1000);
		e->cg[0] = 0;
	}
	if (e->enabled_memory && write_file(CG_ROOT "/cgroup.subtree_control", "-memory"))
		fprintf(stderr, "# the memory controller stays enabled\n");
	e->enabled_memory = 0;
}

/*
 * Set up what every test needs, a cgroup too unless @global; @e->ready
 * tells whether it could.
 */
static void env_up(struct env *e, int global)
{
	e->rep = mmap(NULL, sizeof(*e->rep), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	e->dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	if (e->rep == MAP_FAILED || e->dev < 0) {
		snprintf(e->why, sizeof(e->why), "cannot open " MEMALLOC_DEV);
		return;
	}
	memset(e->rep, 0, sizeof(*e->rep));
	if (geteuid()) {
		snprintf(e->why, sizeof(e->why), "not root");
		return;
	}
	if (!global && cg_up(e))
		return;
	if (swap_up(e, global))
		return;
	e->ready = 1;
}

static void huge_down(struct env *e);

static void env_down(struct env *e)
{
	huge_down(e);
	cg_down(e);
	swap_down(e);
	if (e->dev >= 0)
		close(e->dev);
	if (e->rep && e->rep != MAP_FAILED)
		munmap(e->rep, sizeof(*e->rep));
}

/* The bytes by which a test may go beyond memory.max: half the swap. */
static long swap_share(const struct env *e)
{
	return e->swap_bytes / 2 < CG_MAX / 2 ? e->swap_bytes / 2 : CG_MAX / 2;
}

/*
 * Fault in and lock all of this process's memory, a deep stack included,
 * and make room in the fd table, so that nothing but memalloc charges the
 * cgroup (or the machine) when it is full.
 */
static void __attribute__((noinline)) grow_stack(void)
{
	volatile char buf[256 * KIB];
	size_t i;

	for (i = 0; i < sizeof(buf); i += PAGE)
		buf[i] = 0;
}

static int lock_self(int dev)
{
	grow_stack();
	if (dup2(dev, MAX_FDS - 1) < 0)
		return -1;
	close(MAX_FDS - 1);
	errno = 0;
	return mlockall(MCL_CURRENT);
}

/* A child's failure: a message for the parent, and its distinct exit code. */
static int __attribute__((format(printf, 3, 4)))
child_fail(struct env *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->rep->msg, sizeof(e->rep->msg), fmt, ap);
	va_end(ap);
	return code;
}

/*
 * Run @fn in a child in the cgroup (none when @e->cg is empty); the child
 * stops itself (SIGSTOP) when its cgroup is full, and @at_full is called
 * then. Returns the child's exit code, or 200 + the signal that killed it.
 */
static int run_child(struct env *e, int (*fn)(struct env *e, const void *arg),
		     const void *arg, void (*at_full)(struct env *e))
{
	char pid[16], path[160];
	pid_t child;
	int status;

	memset(e->rep, 0, sizeof(*e->rep));
	child = fork();
	if (child < 0)
		return -1;
	if (!child) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (e->cg[0]) {
			snprintf(path, sizeof(path), "%s/cgroup.procs", e->cg);
			snprintf(pid, sizeof(pid), "%d", getpid());
			if (write_file(path, pid))
				_exit(100);
		}
		_exit(fn(e, arg));
	}
	for (;;) {
		if (waitpid(child, &status, WUNTRACED) != child)
			return -1;
		if (!WIFSTOPPED(status))
			break;
		if (at_full)
			at_full(e);
		kill(child, SIGCONT);
	}
	if (WIFSIGNALED(status))
		return 200 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* What became of a child that did not succeed, for the log. */
static const char *child_said(const struct env *e, int ret)
{
	static char buf[320];

	if (ret >= 200)
		snprintf(buf, sizeof(buf), "killed by signal %d%s", ret - 200,
			 e->cg[0] && cg_event(e, "oom_kill") > 0 ?
			 ", by the cgroup's OOM killer" : "");
	else
		snprintf(buf, sizeof(buf), "%s", e->rep->msg);
	return buf;
}

/* memory.current back within @slack of @base, allowing for deferred frees. */
static long settle(const struct env *e, long base, long slack)
{
	long cur = cg_num(e, "memory.current");
	int i;

	for (i = 0; i < 20 && cur > base + slack; i++) {
		usleep(100 * 1000);
		cur = cg_num(e, "memory.current");
	}
	return cur;
}

/* A pattern no page of another offset or round has. */
static uint64_t word_at(size_t i, uint64_t seed)
{
	return (i + 1) * 0x9e3779b97f4a7c15ull ^ seed;
}

static void fill(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		w[i] = word_at(i, seed);
}

/* The byte offset of the first word that is not as filled, or -1. */
static long check(const void *p, size_t len, uint64_t seed)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		if (w[i] != word_at(i, seed))
			return i * sizeof(*w);
	return -1;
}

/* The frames of @n pages from @addr, through an open pagemap; 0 or -1. */
static int frames(int pagemap, const void *addr, size_t n, uint64_t *pfns)
{
	ssize_t want = n * sizeof(*pfns);
	size_t i;

	if (pread(pagemap, pfns, want, (uintptr_t)addr / PAGE * sizeof(*pfns)) != want)
		return -1;
	for (i = 0; i < n; i++)
		pfns[i] = pfns[i] & (1ull << 63) ? pfns[i] & ((1ull << 55) - 1) : 0;
	return 0;
}

/* MEMALLOC_INFO's resident bytes of the dataspace @fd, or -1. */
static long resident(int dev, int fd)
{
	struct memalloc_info info = { .size = sizeof(info), .fd = fd };

	return ioctl(dev, MEMALLOC_INFO, &info) ? -1 : (long)info.out_resident;
}

/*
 * Lazy dataspaces beyond memory.max: they swap out, and back in intact.
 */
FIXTURE(lazy_swap) {
	struct env e;
};

FIXTURE_VARIANT(lazy_swap) {
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(lazy_swap, small_pages) { .flags = 0 };
FIXTURE_VARIANT_ADD(lazy_swap, super_pages) { .flags = MEMALLOC_SUPER_PAGES };

FIXTURE_SETUP(lazy_swap)
{
	env_up(&self->e, 0);
}

FIXTURE_TEARDOWN(lazy_swap)
{
	env_down(&self->e);
}

/* val: 0 swap peak, 1 resident when swapped, 2 start, 3 end, 4 swap at end, 5 PMD KiB */
static int lazy_touch_beyond_max(struct env *e, const void *arg)
{
	const FIXTURE_VARIANT(lazy_swap) *v = arg;
	size_t len = CG_MAX + swap_share(e);
	long *val = e->rep->val, off, res;
	uint64_t seed = 0x5eed0001;
	char *p;
	int fd;

	if (lock_self(e->dev))
		return child_fail(e, 1, "cannot lock the child's memory: %s", strerror(errno));
	val[2] = cg_num(e, "memory.current");
	fd = ds_alloc(e->dev, len, v->flags, 0, O_CLOEXEC);
	if (fd < 0)
		return child_fail(e, 2, "alloc %zu MiB: %s", len / MIB, strerror(-fd));
	p = map_aligned(fd, len, 21, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		return child_fail(e, 3, "mmap: %s", strerror(errno));
	fill(p, len, seed);
	val[5] = smaps_kib(p, "ShmemPmdMapped");
	val[0] = cg_num(e, "memory.swap.current");
	res = resident(e->dev, fd);
	val[1] = res;
	if (val[0] < swap_share(e) - CG_SLACK)
		return child_fail(e, 4, "%zu MiB written in a %ld MiB cgroup, %ld KiB in swap",
				  len / MIB, CG_MAX / MIB, val[0] / KIB);
	if (res < 0 || res > CG_MAX)
		return child_fail(e, 5, "resident %ld KiB with %ld KiB in swap",
				  res / KIB, val[0] / KIB);
	off = check(p, len, seed);
	if (off >= 0)
		return child_fail(e, 6, "byte %ld differs after swap-in", off);
	munmap(p, len);
	close(fd);
	val[3] = settle(e, val[2], MIB);
	val[4] = cg_num(e, "memory.swap.current");
	if (val[3] > val[2] + MIB)
		return child_fail(e, 7, "memory.current %ld KiB after close, %ld KiB before",
				  val[3] / KIB, val[2] / KIB);
	if (val[4] > MIB)
		return child_fail(e, 8, "memory.swap.current %ld KiB after close", val[4] / KIB);
	return 0;
}

TEST_F_TIMEOUT(lazy_swap, touched_beyond_max_swaps_out_and_back, 180)
{
	struct env *e = &self->e;
	long *val = e->rep->val;
	int ret;

	if (!e->ready)
		SKIP(return, "%s", e->why);
	ret = run_child(e, lazy_touch_beyond_max, variant, NULL);
	EXPECT_EQ(0, ret) TH_LOG("child: %s", child_said(e, ret));
	EXPECT_EQ(0, cg_event(e, "oom_kill"));
	TH_LOG("swap peak %ld KiB, resident then %ld KiB, PMD-mapped before pressure %ld KiB",
	       val[0] / KIB, val[1] / KIB, val[5]);
	TH_LOG("memory.current %ld KiB at start, %ld KiB after close; swap %ld KiB",
	       val[2] / KIB, val[3] / KIB, val[4] / KIB);
}

/*
 * Eager dataspaces to exhaustion: swap makes room, then ENOMEM, and the
 * eager pages stay on their frames.
 */
FIXTURE(fill) {
	struct env e;
};

FIXTURE_VARIANT(fill) {
	uint32_t flags;
	/*
	 * Not for 2 MiB pages: 6.12 charges a huge page without reclaim, so
	 * they get ENOMEM before the cgroup's other memory is swapped out.
	 */
	bool huge_pages;
	/* Piece sizes, largest first, 0-terminated. */
	long sizes[5];
};

FIXTURE_VARIANT_ADD(fill, pinned) {
	.flags = MEMALLOC_PINNED,
	.sizes = { 4 * MIB, 256 * KIB, 16 * KIB, 4 * KIB },
};

FIXTURE_VARIANT_ADD(fill, contiguous) {
	.flags = MEMALLOC_CONTINUOUS,
	.sizes = { 4 * MIB, 256 * KIB, 16 * KIB, 4 * KIB },
};

FIXTURE_VARIANT_ADD(fill, pinned_super) {
	.flags = MEMALLOC_PINNED | MEMALLOC_SUPER_PAGES,
	.huge_pages = true,
	.sizes = { 2 * MIB },
};

FIXTURE_SETUP(fill)
{
	env_up(&self->e, 0);
}

FIXTURE_TEARDOWN(fill)
{
	env_down(&self->e);
}

/* Locked in by lock_self(): nothing here is faulted in when the cgroup is full. */
static int fill_fds[MAX_FDS];
static uint64_t pfns_before[1024], pfns_after[1024];

static void read_at_full(struct env *e)
{
	e->rep->val[4] = cg_num(e, "memory.current");
	e->rep->val[5] = cg_num(e, "memory.swap.current");
}

/*
 * val: 0 bytes taken at the limit, 1 pieces, 2 start, 3 end,
 * 4 memory.current and 5 swap when full, 6 VmPin at start, 7 at end,
 * 8 the size of the piece being taken
 */
static int fill_to_enomem(struct env *e, const void *arg)
{
	const FIXTURE_VARIANT(fill) *v = arg;
	size_t first = v->sizes[0], ballast = swap_share(e), npfn = first / PAGE;
	long *val = e->rep->val, off, cur;
	int pagemap, fd0, lazy, n = 0, i, err = 0;
	char *p0, *lp;

	pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap < 0)
		return child_fail(e, 1, "pagemap: %s", strerror(errno));
	if (lock_self(e->dev))
		return child_fail(e, 1, "cannot lock the child's memory: %s", strerror(errno));
	val[2] = cg_num(e, "memory.current");
	val[6] = status_kib("VmPin");

	/* The first piece, mapped and written before any pressure. */
	fd0 = ds_alloc(e->dev, first, v->flags, 0, O_CLOEXEC);
	if (fd0 < 0)
		return child_fail(e, 2, "first piece: %s", strerror(-fd0));
	p0 = map_aligned(fd0, first, 21, PROT_READ | PROT_WRITE);
	if (p0 == MAP_FAILED)
		return child_fail(e, 3, "mmap: %s", strerror(errno));
	fill(p0, first, 0xe0);
	if (frames(pagemap, p0, npfn, pfns_before) || !pfns_before[0])
		return child_fail(e, 4, "no frames in pagemap");

	/* Lazy memory that swap can take out of the cgroup. */
	lazy = ds_alloc(e->dev, ballast, 0, 0, O_CLOEXEC);
	if (lazy < 0)
		return child_fail(e, 5, "lazy: %s", strerror(-lazy));
	lp = mmap(NULL, ballast, PROT_READ | PROT_WRITE, MAP_SHARED, lazy, 0);
	if (lp == MAP_FAILED)
		return child_fail(e, 5, "mmap lazy: %s", strerror(errno));
	fill(lp, ballast, 0x1a2e);

	/* Smaller and smaller pieces until not even the smallest fits. */
	val[0] = first;
	for (i = 0; i < 5 && v->sizes[i]; i++) {
		for (;;) {
			if (n == MAX_FDS - 64) {
				err = -E2BIG;
				break;
			}
			val[8] = v->sizes[i];
			fill_fds[n] = ds_alloc(e->dev, v->sizes[i], v->flags, 0, O_CLOEXEC);
			if (fill_fds[n] < 0) {
				err = fill_fds[n];
				break;
			}
			val[0] += v->sizes[i];
			val[1] = ++n;
		}
		if (err != -ENOMEM)
			break;
	}
	/* Full: the parent reads the cgroup now. */
	raise(SIGSTOP);
	for (i = 0; i < n; i++)
		close(fill_fds[i]);
	if (err != -ENOMEM)
		return child_fail(e, 6, "piece %d of the fill: %s, not ENOMEM", n, strerror(-err));
	if (val[0] < CG_MAX - CG_SLACK && !v->huge_pages)
		return child_fail(e, 7, "ENOMEM at %ld KiB in a %ld MiB cgroup with"
				  " %zu MiB lazy and swap",
				  val[0] / KIB, CG_MAX / MIB, ballast / MIB);

	/* Read first: a page that left would be faulted back in elsewhere. */
	off = check(p0, first, 0xe0);
	if (off >= 0)
		return child_fail(e, 9, "byte %ld of the first piece changed", off);
	if (frames(pagemap, p0, npfn, pfns_after))
		return child_fail(e, 4, "no frames in pagemap");
	for (i = 0; i < (int)npfn; i++)
		if (pfns_after[i] != pfns_before[i])
			return child_fail(e, 8, "page %d moved from frame %#llx to %#llx", i,
					  (unsigned long long)pfns_before[i],
					  (unsigned long long)pfns_after[i]);
	off = check(lp, ballast, 0x1a2e);
	if (off >= 0)
		return child_fail(e, 10, "byte %ld of the lazy dataspace differs after swap-in",
				  off);

	munmap(lp, ballast);
	munmap(p0, first);
	close(lazy);
	close(fd0);
	close(pagemap);
	cur = settle(e, val[2], MIB);
	val[3] = cur;
	val[7] = status_kib("VmPin");
	if (cur > val[2] + MIB)
		return child_fail(e, 11, "memory.current %ld KiB after close, %ld KiB before",
				  cur / KIB, val[2] / KIB);
	if (val[7] != val[6])
		return child_fail(e, 12, "VmPin %ld KiB after close, %ld KiB before",
				  val[7], val[6]);
	if (cg_num(e, "memory.swap.current") > MIB)
		return child_fail(e, 13, "memory.swap.current %ld KiB after close",
				  cg_num(e, "memory.swap.current") / KIB);
	return 0;
}

TEST_F_TIMEOUT(fill, to_enomem_swapping_lazy_out_not_oom_killed, 180)
{
	struct env *e = &self->e;
	long *val = e->rep->val;
	int ret;

	if (!e->ready)
		SKIP(return, "%s", e->why);
	ret = run_child(e, fill_to_enomem, variant, read_at_full);
	/* The contract: ENOMEM beyond the limit, not the OOM killer. */
	ASSERT_GT(200, ret) TH_LOG("%s, with %ld KiB taken in %ld pieces, asking for %ld KiB more",
				   child_said(e, ret), val[0] / KIB, val[1] + 1, val[8] / KIB);
	EXPECT_EQ(0, ret) TH_LOG("child: %s", child_said(e, ret));
	EXPECT_EQ(0, cg_event(e, "oom_kill"));
	/* Full means full: the limit reached, the lazy memory in swap. */
	if (!variant->huge_pages) {
		EXPECT_LE(CG_MAX - CG_SLACK, val[4]);
		EXPECT_LE(swap_share(e) / 2, val[5]);
	}
	TH_LOG("%ld KiB in %ld pieces at ENOMEM; memory.current %ld KiB, swap %ld KiB then",
	       val[0] / KIB, val[1] + 1, val[4] / KIB, val[5] / KIB);
	TH_LOG("memory.current %ld KiB at start, %ld KiB after close; VmPin %ld, %ld KiB",
	       val[2] / KIB, val[3] / KIB, val[6], val[7]);
}

/*
 * MEMALLOC_ALLOCATE of more than memory.max and memory.swap.max hold.
 */
FIXTURE(allocate) {
	struct env e;
};

FIXTURE_SETUP(allocate)
{
	env_up(&self->e, 0);
}

FIXTURE_TEARDOWN(allocate)
{
	env_down(&self->e);
}

/* val: 0 swap after, 1 resident after, 2 start, 3 end, 4 errno */
/* val 0: the cgroup's swap, read by the parent while the child is stopped. */
static void read_swap_at_full(struct env *e)
{
	e->rep->val[0] = cg_num(e, "memory.swap.current");
}

static int allocate_beyond(struct env *e, const void *arg)
{
	struct memalloc_allocate a = { .size = sizeof(a), .length = 2 * CG_MAX };
	long *val = e->rep->val, swap_max = *(const long *)arg;
	int fd;

	if (lock_self(e->dev))
		return child_fail(e, 1, "cannot lock the child's memory: %s", strerror(errno));
	val[2] = cg_num(e, "memory.current");
	fd = ds_alloc(e->dev, a.length, 0, 0, O_CLOEXEC);
	if (fd < 0)
		return child_fail(e, 2, "alloc: %s", strerror(-fd));
	a.fd = fd;
	errno = 0;
	ioctl(e->dev, MEMALLOC_ALLOCATE, &a);
	val[4] = errno;
	val[1] = resident(e->dev, fd);
	/*
	 * The cgroup is full: any syscall that allocates (an open() of its
	 * files) would meet the OOM killer. The parent reads them.
	 */
	raise(SIGSTOP);
	if (!val[4])
		return child_fail(e, 3, "allocate of %ld MiB in %ld MiB and %ld MiB of swap worked,"
				  " then %ld KiB resident and %ld KiB in swap",
				  (long)a.length / MIB, CG_MAX / MIB, swap_max / MIB,
				  val[1] / KIB, val[0] / KIB);
	if (val[4] != ENOMEM)
		return child_fail(e, 3, "allocate: %s, not ENOMEM", strerror(val[4]));
	/* It went as far as memory and swap let it. */
	if (val[0] < swap_max / 2 || val[0] > swap_max)
		return child_fail(e, 4, "%ld KiB in swap, %ld KiB allowed", val[0] / KIB,
				  swap_max / KIB);
	if (val[1] < 0 || val[1] > CG_MAX)
		return child_fail(e, 5, "resident %ld KiB", val[1] / KIB);
	close(fd);
	val[3] = settle(e, val[2], MIB);
	if (val[3] > val[2] + MIB)
		return child_fail(e, 6, "memory.current %ld KiB after close, %ld KiB before",
				  val[3] / KIB, val[2] / KIB);
	if (cg_num(e, "memory.swap.current") > MIB)
		return child_fail(e, 7, "memory.swap.current %ld KiB after close",
				  cg_num(e, "memory.swap.current") / KIB);
	return 0;
}

TEST_F_TIMEOUT(allocate, beyond_memory_and_swap_max_enomem, 180)
{
	struct env *e = &self->e;
	long swap_max = swap_share(e) / 2, *val = e->rep->val;
	char buf[32];
	int ret;

	if (!e->ready)
		SKIP(return, "%s", e->why);
	snprintf(buf, sizeof(buf), "%ld", swap_max);
	ASSERT_EQ(0, cg_set(e, "memory.swap.max", buf));
	ret = run_child(e, allocate_beyond, &swap_max, read_swap_at_full);
	EXPECT_EQ(0, ret) TH_LOG("child: %s", child_said(e, ret));
	EXPECT_EQ(0, cg_event(e, "oom_kill"));
	TH_LOG("at ENOMEM: %ld KiB in swap, %ld KiB resident; memory.current %ld then %ld KiB",
	       val[0] / KIB, val[1] / KIB, val[2] / KIB, val[3] / KIB);
}

/*
 * What MEMALLOC_ALLOCATE took stays taken: under pressure it goes to swap
 * as written memory does, it is not dropped as clean page cache is (that
 * would give back the memory and its charge behind the caller's back,
 * and the pages would fault in anew).
 */
static long mincore_bytes(void *p, size_t len)
{
	static unsigned char vec[CG_MAX / PAGE];
	long n = 0;
	size_t i;

	if (len > sizeof(vec) * PAGE || mincore(p, len, vec))
		return -1;
	for (i = 0; i < len / PAGE; i++)
		n += vec[i] & 1;
	return n * PAGE;
}

/*
 * val: 0 resident after allocate, 1 in memory under pressure (mincore),
 * 2 swap then, 3 MEMALLOC_INFO's resident then, 4 start, 5 end
 */
static int allocated_stays(struct env *e, const void *arg)
{
	struct memalloc_allocate a = { .size = sizeof(a), .length = CG_MAX / 4 * 3 };
	long *val = e->rep->val, pinned_len = CG_MAX / 2;
	int fd, pin;
	char *p;

	(void)arg;
	if (lock_self(e->dev))
		return child_fail(e, 1, "cannot lock the child's memory: %s", strerror(errno));
	val[4] = cg_num(e, "memory.current");
	fd = ds_alloc(e->dev, a.length, 0, 0, O_CLOEXEC);
	if (fd < 0)
		return child_fail(e, 2, "alloc: %s", strerror(-fd));
	/* Mapped, not touched: mincore looks at the dataspace's pages. */
	p = mmap(NULL, a.length, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return child_fail(e, 2, "mmap: %s", strerror(errno));
	a.fd = fd;
	if (ioctl(e->dev, MEMALLOC_ALLOCATE, &a))
		return child_fail(e, 3, "allocate of %ld MiB in a %ld MiB cgroup: %s",
				  (long)a.length / MIB, CG_MAX / MIB, strerror(errno));
	val[0] = mincore_bytes(p, a.length);
	if (val[0] != (long)a.length)
		return child_fail(e, 4, "%ld KiB in memory after allocate of %ld KiB",
				  val[0] / KIB, (long)a.length / KIB);
	/* Pinned beside it, more than the cgroup holds: some of it must go. */
	pin = ds_alloc(e->dev, pinned_len, MEMALLOC_PINNED, 0, O_CLOEXEC);
	if (pin < 0)
		return child_fail(e, 5, "pinned %ld MiB beside %ld MiB of swappable memory: %s",
				  pinned_len / MIB, (long)a.length / MIB, strerror(-pin));
	val[1] = mincore_bytes(p, a.length);
	val[2] = cg_num(e, "memory.swap.current");
	val[3] = resident(e->dev, fd);
	if (val[1] + val[2] < (long)a.length - MIB)
		return child_fail(e, 6, "of %ld KiB allocated, %ld KiB in memory and"
				  " %ld KiB in swap (MEMALLOC_INFO: %ld KiB resident):"
				  " the rest was dropped",
				  (long)a.length / KIB, val[1] / KIB, val[2] / KIB, val[3] / KIB);
	if (val[3] > val[1] + MIB)
		return child_fail(e, 7, "MEMALLOC_INFO: %ld KiB resident, %ld KiB in memory",
				  val[3] / KIB, val[1] / KIB);
	close(pin);
	if (!all_zero(p, a.length))
		return child_fail(e, 8, "allocated memory not zero after swap-in");
	munmap(p, a.length);
	close(fd);
	val[5] = settle(e, val[4], MIB);
	if (val[5] > val[4] + MIB)
		return child_fail(e, 9, "memory.current %ld KiB after close, %ld KiB before",
				  val[5] / KIB, val[4] / KIB);
	return 0;
}

TEST_F_TIMEOUT(allocate, allocated_range_swapped_not_dropped, 180)
{
	struct env *e = &self->e;
	long *val = e->rep->val;
	int ret;

	if (!e->ready)
		SKIP(return, "%s", e->why);
	ret = run_child(e, allocated_stays, NULL, NULL);
	EXPECT_EQ(0, ret) TH_LOG("child: %s", child_said(e, ret));
	EXPECT_EQ(0, cg_event(e, "oom_kill"));
	TH_LOG("%ld KiB in memory after allocate; beside pinned memory %ld KiB, swap %ld KiB,"
	       " MEMALLOC_INFO %ld KiB", val[0] / KIB, val[1] / KIB, val[2] / KIB, val[3] / KIB);
}

/*
 * Global pressure: PINNED until the machine has no more, round after
 * round, by a child that volunteers as the OOM killer's victim: should
 * the killer come, it takes the child (and all it pinned), and the test
 * fails instead of the machine. Surplus huge pages, reserved by
 * mappings of them, hold all but GLOBAL_LEAVE of the free memory
 * meanwhile, so that a round is short; they go back to the page
 * allocator when unmapped, or when this process dies.
 */
static void huge_up(struct env *e)
{
	long want = free_kib() * KIB - GLOBAL_LEAVE, huge = meminfo_kib("Hugepagesize") * KIB;
	char buf[32];
	void *p;

	e->overcommit = read_long(OVERCOMMIT);
	if (e->overcommit < 0 || huge <= 0 || want < HUGE_MAP)
		return;
	snprintf(buf, sizeof(buf), "%ld", e->overcommit + want / huge);
	if (write_file(OVERCOMMIT, buf))
		return;
	e->overcommit_set = 1;
	while ((e->nhuge + 1) * HUGE_MAP <= want && e->nhuge < 128) {
		/* The reservation takes the surplus pages; nothing is zeroed. */
		p = mmap(NULL, HUGE_MAP, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED)
			break;
		madvise(p, HUGE_MAP, MADV_DONTFORK);
		e->huge[e->nhuge++] = p;
	}
}

static void huge_down(struct env *e)
{
	char buf[32];

	while (e->nhuge > 0)
		munmap(e->huge[--e->nhuge], HUGE_MAP);
	if (e->overcommit_set) {
		snprintf(buf, sizeof(buf), "%ld", e->overcommit);
		if (write_file(OVERCOMMIT, buf))
			fprintf(stderr, "# cannot restore " OVERCOMMIT "\n");
		e->overcommit_set = 0;
	}
}

FIXTURE(global) {
	struct env e;
};

FIXTURE_SETUP(global)
{
	env_up(&self->e, 1);
}

FIXTURE_TEARDOWN(global)
{
	env_down(&self->e);
}

/*
 * val: 0 bytes pinned at ENOMEM, 1 pieces, 2 VmPin at end, 3 fds at start,
 * 4 at end, 5 the size of the piece being taken
 */
static int pin_to_enomem(struct env *e, const void *arg)
{
	static const long sizes[] = { 64 * MIB, 2 * MIB };
	long *val = e->rep->val, total = *(const long *)arg;
	int n = 0, i, err = 0;

	if (write_file("/proc/self/oom_score_adj", "1000"))
		return child_fail(e, 1, "oom_score_adj: %s", strerror(errno));
	val[3] = count_fds();
	if (lock_self(e->dev))
		return child_fail(e, 1, "cannot lock the child's memory: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		for (;;) {
			if (val[0] > total) {
				err = -E2BIG;
				break;
			}
			if (n == MAX_FDS - 64) {
				err = -EMFILE;
				break;
			}
			val[5] = sizes[i];
			fill_fds[n] = ds_alloc(e->dev, sizes[i], MEMALLOC_PINNED, 0, O_CLOEXEC);
			if (fill_fds[n] < 0) {
				err = fill_fds[n];
				break;
			}
			val[0] += sizes[i];
			val[1] = ++n;
			/*
			 * Near memory's end, a handle without memory (DUP):
			 * one, or ENOMEM, but not the OOM killer.
			 */
			if (i) {
				int fd = ds_dup(e->dev, fill_fds[n - 1], MEMALLOC_RIGHT_R, 0);

				if (fd >= 0) {
					close(fd);
				} else if (fd != -ENOMEM) {
					err = fd;
					break;
				}
			}
		}
		if (err != -ENOMEM)
			break;
	}
	for (i = 0; i < n; i++)
		close(fill_fds[i]);
	if (err == -E2BIG)
		return child_fail(e, 2, "%ld MiB pinned, more than the %ld MiB of RAM",
				  val[0] / MIB, total / MIB);
	if (err != -ENOMEM)
		return child_fail(e, 3, "piece %d or its DUP: %s, not ENOMEM", n, strerror(-err));
	val[2] = status_kib("VmPin");
	val[4] = count_fds();
	if (val[2])
		return child_fail(e, 4, "VmPin %ld KiB after close", val[2]);
	if (val[4] != val[3])
		return child_fail(e, 5, "%ld fds after close, %ld before", val[4], val[3]);
	return 0;
}

static long settled_free(void)
{
	sync();
	write_file("/proc/sys/vm/drop_caches", "3");
	return free_kib() * KIB;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST_F_TIMEOUT(global, pinned_until_enomem_and_all_back, 400)
{
	struct env *e = &self->e;
	long total = meminfo_kib("MemTotal") * KIB, *val = e->rep->val;
	long free0, freen, least = 0, most = 0, oom0, oom;
	long fds0 = count_fds(), pin0 = status_kib("VmPin");
	double t0 = now(), t;
	int round, rounds = 0, ret;

	if (!e->ready)
		SKIP(return, "%s", e->why);
	huge_up(e);
	TH_LOG("huge pages taken in %.1f s", now() - t0);
	t0 = now();
	free0 = settled_free();
	oom0 = read_key("/proc/vmstat", "oom_kill");
	TH_LOG("%d MiB held in huge pages, %ld MiB free, %ld MiB of swap",
	       e->nhuge * (int)(HUGE_MAP / MIB), free0 / MIB, e->swap_bytes / MIB);
	for (round = 0; round < GLOBAL_MAX_ROUNDS; round++) {
		t = now();
		ret = run_child(e, pin_to_enomem, &total, NULL);
		rounds++;
		/* The contract: ENOMEM when the machine has no more, no OOM killer. */
		oom = read_key("/proc/vmstat", "oom_kill");
		ASSERT_EQ(oom0, oom)
			TH_LOG("round %d: the OOM killer came; the child %s, with %ld MiB pinned,"
			       " asking for %ld MiB more", round, child_said(e, ret),
			       val[0] / MIB, val[5] / MIB);
		ASSERT_EQ(0, ret) TH_LOG("round %d: %s", round, child_said(e, ret));
		freen = settled_free();
		TH_LOG("round %d: %ld MiB pinned in %ld pieces in %.1f s, then %ld MiB free",
		       round, val[0] / MIB, val[1], now() - t, freen / MIB);
		/* Exhaustion, not an early refusal: most of what was free was had. */
		EXPECT_LE(free0 / 2, val[0]);
		/*
		 * Everything came back (the ram disks hold their memory from the
		 * start); pages left in swap may leave more free.
		 */
		EXPECT_LE(free0 - GLOBAL_TOLERANCE, freen)
			TH_LOG("round %d: %ld KiB free, %ld KiB before", round,
			       freen / KIB, free0 / KIB);
		if (!round)
			least = val[0];
		least = val[0] < least ? val[0] : least;
		most = val[0] > most ? val[0] : most;
		if (round >= 1 && now() - t0 + (now() - t) > GLOBAL_SECONDS)
			break;
	}
	TH_LOG("%ld MiB free before; pinned %ld to %ld MiB in %d rounds",
	       free0 / MIB, least / MIB, most / MIB, rounds);
	EXPECT_EQ(fds0, count_fds());
	EXPECT_EQ(pin0, status_kib("VmPin"));
}

TEST_HARNESS_MAIN
