// SPDX-License-Identifier: GPL-2.0
/*
 * Allocators with quotas (MEMALLOC_FACTORY, MEMALLOC_QUOTA), as L4Re's Moe
 * makes them, and the administrator's limits on CONTINUOUS memory.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "util.h"

#include <memalloc.h>
#include <l4re/c/mem_alloc.h>
#include <l4re/c/util/cap_alloc.h>

#define KIB 1024ULL
#define MIB (1024 * KIB)
#define PAGE 4096ULL
#define PARAMS "/sys/module/memalloc/parameters/"
#define NOBODY 65534

/* A child allocator of @parent with @quota bytes: its fd, or -errno. */
static int factory(int parent, uint64_t quota)
{
	struct memalloc_factory f = {
		.size = sizeof(f),
		.fd_flags = O_CLOEXEC,
		.quota = quota,
	};

	return ioctl(parent, MEMALLOC_FACTORY, &f) ? -errno : f.out_fd;
}

static struct memalloc_quota quota_of(int a)
{
	struct memalloc_quota q = { .size = sizeof(q) };

	if (ioctl(a, MEMALLOC_QUOTA, &q))
		q.out_limit = q.out_used = ~0ULL - 1;	/* no allocator's */
	return q;
}

#define used_of(a) (quota_of(a).out_used)

DEV_FIXTURE(quota);

TEST_F(quota, an_open_of_the_device_is_unlimited_and_counts_its_own)
{
	struct memalloc_quota q = quota_of(self->dev);
	int ds;

	EXPECT_EQ(MEMALLOC_QUOTA_UNLIMITED, q.out_limit);
	EXPECT_EQ(MEMALLOC_QUOTA_UNLIMITED, q.out_available);
	EXPECT_EQ(0, q.out_used);
	ds = ds_alloc(self->dev, 5000, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, ds);
	q = quota_of(self->dev);
	/* At the rounded size, untouched lazy memory too. */
	EXPECT_EQ(2 * PAGE, q.out_used);
	EXPECT_EQ(2 * PAGE, q.out_peak);
	EXPECT_EQ(1u, q.out_count[0]);
	close(ds);
	q = quota_of(self->dev);
	EXPECT_EQ(0, q.out_used);
	EXPECT_EQ(0u, q.out_count[0]);
	EXPECT_EQ(2 * PAGE, q.out_peak);
}

TEST_F(quota, a_quota_of_zero_or_negative_is_einval)
{
	struct memalloc_factory f = { .size = sizeof(f), .quota = 1 };

	EXPECT_EQ(-EINVAL, factory(self->dev, 0));
	EXPECT_EQ(-EINVAL, factory(self->dev, 1ULL << 63));
	EXPECT_EQ(-EINVAL, factory(self->dev, ~0ULL));
	f.fd_flags = O_NONBLOCK;
	EXPECT_EQ(-EINVAL, ds_ioctl(self->dev, MEMALLOC_FACTORY, &f));
	f.fd_flags = 0;
	f.__reserved = 1;
	EXPECT_EQ(-EINVAL, ds_ioctl(self->dev, MEMALLOC_FACTORY, &f));
	/* Nothing was reserved by the refusals. */
	EXPECT_EQ(0, used_of(self->dev));
}

TEST_F(quota, quota_rejects_reserved_and_short_structs)
{
	struct memalloc_quota q = { .size = sizeof(q), .__reserved = 1 };

	EXPECT_EQ(-EINVAL, ds_ioctl(self->dev, MEMALLOC_QUOTA, &q));
	q.__reserved = 0;
	q.size = offsetof(struct memalloc_quota, out_count);
	EXPECT_EQ(-EINVAL, ds_ioctl(self->dev, MEMALLOC_QUOTA, &q));
}

TEST_F(quota, quota_answers_every_count_it_has)
{
	struct memalloc_quota q = { .size = sizeof(q) };

	/* Counts of kinds that do not exist are 0, not the caller's bytes. */
	q.out_count[6] = 0xdeadbeef;
	q.out_count[7] = 0xdeadbeef;
	ASSERT_EQ(0, ds_ioctl(self->dev, MEMALLOC_QUOTA, &q));
	EXPECT_EQ(0u, q.out_count[6]);
	EXPECT_EQ(0u, q.out_count[7]);
}

TEST_F(quota, the_largest_quota_is_taken_and_the_root_never_wraps)
{
	int a = factory(self->dev, INT64_MAX), b = factory(self->dev, INT64_MAX);

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	/* A third would take the unlimited count past 2^64. */
	EXPECT_EQ(-ENOMEM, factory(self->dev, INT64_MAX));
	EXPECT_EQ(2ULL * INT64_MAX, used_of(self->dev));
	close(a);
	close(b);
	EXPECT_EQ(0, used_of(self->dev));
}

TEST_F(quota, a_child_is_known_by_its_file_system)
{
	struct statfs sfs;
	int a = factory(self->dev, MIB);

	ASSERT_LE(0, a);
	ASSERT_EQ(0, fstatfs(a, &sfs));
	EXPECT_EQ(MEMALLOC_ALLOCATOR_MAGIC, (unsigned long)sfs.f_type);
	close(a);
}

TEST_F(quota, no_free_fd_reserves_nothing)
{
	struct rlimit old, none = { 0, 0 };

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	none.rlim_max = old.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &none));
	EXPECT_EQ(-EMFILE, factory(self->dev, MIB));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	EXPECT_EQ(0, used_of(self->dev));
	EXPECT_EQ(0, quota_of(self->dev).out_children);
}

TEST_F(quota, exact_fit_then_one_byte_over)
{
	int a = factory(self->dev, MIB), ds, over;
	struct memalloc_quota q;

	ASSERT_LE(0, a);
	EXPECT_EQ(MIB, used_of(self->dev));
	/* 100 bytes short of the quota, charged at its rounded size: all of it. */
	ds = ds_alloc(a, MIB - 100, MEMALLOC_PINNED, 0, O_CLOEXEC);
	ASSERT_LE(0, ds);
	q = quota_of(a);
	EXPECT_EQ(MIB, q.out_limit);
	EXPECT_EQ(MIB, q.out_used);
	EXPECT_EQ(0, q.out_available);
	EXPECT_EQ(1u, q.out_count[2]);
	over = ds_alloc(a, 1, 0, 0, O_CLOEXEC);
	EXPECT_EQ(-ENOMEM, over);
	EXPECT_EQ(MIB, used_of(a));
	close(ds);
	EXPECT_EQ(0, used_of(a));
	EXPECT_EQ(MIB, quota_of(a).out_peak);
	close(a);
	EXPECT_EQ(0, used_of(self->dev));
}

TEST_F(quota, one_page_over_is_enomem_and_charges_nothing)
{
	int a = factory(self->dev, MIB), ds;

	ASSERT_LE(0, a);
	EXPECT_EQ(-ENOMEM, ds_alloc(a, MIB + 1, 0, 0, O_CLOEXEC));
	EXPECT_EQ(-ENOMEM, ds_alloc(a, MIB + PAGE, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC));
	EXPECT_EQ(0, used_of(a));
	EXPECT_EQ(0, quota_of(a).out_peak);
	ds = ds_alloc(a, MIB, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	EXPECT_LE(0, ds);
	close(ds);
	close(a);
}

TEST_F(quota, a_child_is_reserved_from_its_parent)
{
	int a = factory(self->dev, 4 * MIB), b, c, ds;
	struct memalloc_quota q;

	ASSERT_LE(0, a);
	b = factory(a, 3 * MIB);
	ASSERT_LE(0, b);
	q = quota_of(a);
	EXPECT_EQ(3 * MIB, q.out_used);
	EXPECT_EQ(3 * MIB, q.out_children);
	EXPECT_EQ(MIB, q.out_available);
	/* The parent cannot cover another 2 MiB child. */
	EXPECT_EQ(-ENOMEM, factory(a, 2 * MIB));
	EXPECT_EQ(3 * MIB, used_of(a));
	c = factory(a, MIB);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, quota_of(a).out_available);
	EXPECT_EQ(-ENOMEM, ds_alloc(a, PAGE, 0, 0, O_CLOEXEC));
	close(c);
	ds = ds_alloc(a, MIB, 0, 0, O_CLOEXEC);
	EXPECT_LE(0, ds);
	close(ds);
	close(b);
	EXPECT_EQ(0, used_of(a));
	EXPECT_EQ(0, quota_of(a).out_children);
	close(a);
}

TEST_F(quota, three_deep_and_the_parent_closed_first)
{
	int a = factory(self->dev, 8 * MIB), b, c, ds;
	char *p;

	ASSERT_LE(0, a);
	b = factory(a, 4 * MIB);
	ASSERT_LE(0, b);
	c = factory(b, 2 * MIB);
	ASSERT_LE(0, c);
	/* The parents' fds go first: the child works on. */
	close(a);
	close(b);
	ds = ds_alloc(c, 2 * MIB, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, ds);
	EXPECT_EQ(-ENOMEM, ds_alloc(c, PAGE, 0, 0, O_CLOEXEC));
	EXPECT_EQ(8 * MIB, used_of(self->dev));
	/* The child's fd goes: its dataspace lives on, still charged. */
	close(c);
	p = mmap(NULL, 2 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED, ds, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x5a, 2 * MIB);
	EXPECT_EQ(0x5a, p[2 * MIB - 1]);
	EXPECT_EQ(8 * MIB, used_of(self->dev));
	munmap(p, 2 * MIB);
	/* Its last holder gone, the whole chain goes back. */
	close(ds);
	EXPECT_EQ(0, used_of(self->dev));
	EXPECT_EQ(0, quota_of(self->dev).out_children);
}

/* A mapping holds the memory past the fd: the charge stays with it. */
static void mapping_holds_charge(struct __test_metadata *_metadata, int dev,
				      uint32_t flags, uint64_t len)
{
	int a = factory(dev, len), ds;
	char *p;

	ASSERT_LE(0, a);
	ds = ds_alloc(a, len, flags, 0, O_CLOEXEC);
	ASSERT_LE(0, ds);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ds, 0);
	ASSERT_NE(MAP_FAILED, p);
	close(ds);
	EXPECT_EQ(len, used_of(a));
	EXPECT_EQ(-ENOMEM, ds_alloc(a, PAGE, 0, 0, O_CLOEXEC));
	memset(p, 0x77, len);
	EXPECT_EQ(0x77, p[len - 1]);
	munmap(p, len);
	EXPECT_EQ(0, used_of(a));
	close(a);
}

TEST_F(quota, a_mapping_holds_the_charge_until_it_goes)
{
	mapping_holds_charge(_metadata, self->dev, MEMALLOC_PINNED, MIB);
}

TEST_F(quota, a_lazy_mapping_holds_the_charge_until_it_goes)
{
	mapping_holds_charge(_metadata, self->dev, 0, MIB);
}

TEST_F(quota, a_lazy_super_pages_mapping_holds_the_charge_until_it_goes)
{
	struct memalloc_version v = { .size = sizeof(v) };

	ASSERT_EQ(0, ds_ioctl(self->dev, MEMALLOC_VERSION, &v));
	if (!(v.out_kinds & MEMALLOC_KIND_SUPER_PAGES))
		SKIP(return, "no SUPER_PAGES on this kernel");
	mapping_holds_charge(_metadata, self->dev, MEMALLOC_SUPER_PAGES, 4 * MIB);
}

TEST_F(quota, a_revoked_dataspace_lets_its_allocator_go)
{
	int p = factory(self->dev, 2 * MIB), c, d;

	ASSERT_LE(0, p);
	c = factory(p, MIB);
	ASSERT_LE(0, c);
	d = ds_alloc(c, PAGE, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, d);
	close(c);
	EXPECT_EQ(MIB, used_of(p));
	/* Revoked through another allocator: its own one is credited. */
	EXPECT_EQ(0, ds_free(self->dev, d));
	/* The dead fd is still open; the child and its reservation are gone. */
	EXPECT_EQ(0, used_of(p));
	EXPECT_EQ(0, quota_of(p).out_children);
	close(d);
	close(p);
}

TEST_F(quota, free_credits_back_at_once)
{
	int a = factory(self->dev, MIB), ds, again;

	ASSERT_LE(0, a);
	ds = ds_alloc(a, MIB, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	ASSERT_LE(0, ds);
	EXPECT_EQ(1u, quota_of(a).out_count[4]);
	EXPECT_EQ(0, ds_free(a, ds));
	/* The revoked fd is still open; its memory, and charge, are gone. */
	EXPECT_EQ(0, used_of(a));
	EXPECT_EQ(0u, quota_of(a).out_count[4]);
	again = ds_alloc(a, MIB, 0, 0, O_CLOEXEC);
	EXPECT_LE(0, again);
	close(again);
	close(ds);
	EXPECT_EQ(0, used_of(a));
	close(a);
}

TEST_F(quota, children_nest_only_so_deep)
{
	int fds[MEMALLOC_FACTORY_MAX_DEPTH + 1], i, parent = self->dev;

	for (i = 0; i < MEMALLOC_FACTORY_MAX_DEPTH; i++) {
		fds[i] = factory(parent, MIB);
		ASSERT_LE(0, fds[i]) TH_LOG("depth %d", i + 1);
		parent = fds[i];
	}
	EXPECT_EQ(-ENOSPC, factory(parent, PAGE));
	for (i = 0; i < MEMALLOC_FACTORY_MAX_DEPTH; i++)
		close(fds[i]);
	EXPECT_EQ(0, used_of(self->dev));
}

TEST(a_read_only_open_reports_but_makes_no_child)
{
	int dev = open(MEMALLOC_DEV, O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, dev);
	EXPECT_EQ(-EBADF, factory(dev, MIB));
	EXPECT_EQ(MEMALLOC_QUOTA_UNLIMITED, quota_of(dev).out_limit);
	close(dev);
}

/*
 * A process that may not open /dev/memalloc (nobody) gets an allocator fd
 * over a socket and allocates through it with the library, within its
 * quota and not past it.
 */
TEST_F(quota, an_allocator_fd_works_in_another_process)
{
	int sv[2], a, status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct memalloc_quota_info qi = { .size = sizeof(qi) };
		struct memalloc *ma;
		struct memalloc_ds *ds;
		int fd;

		close(sv[0]);
		close(self->dev);
		if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(10);
		if (open(MEMALLOC_DEV, O_RDWR) >= 0 || errno != EACCES)
			_exit(11);
		fd = recv_fd(sv[1]);
		if (fd < 0 || memalloc_import(fd, &ma))
			_exit(12);
		close(fd);
		if (memalloc_alloc(ma, MIB, 0, 0, &ds))
			_exit(13);
		if (memalloc_alloc(ma, MIB, 0, 0, &ds) != -ENOMEM)
			_exit(14);
		if (memalloc_quota(ma, &qi) || qi.limit != 2 * MIB - PAGE ||
		    qi.used != MIB || qi.count[0] != 1)
			_exit(15);
		/* Hand the result to the parent, which checks the charge. */
		if (write(sv[1], "k", 1) != 1 || read(sv[1], &status, 1) != 1)
			_exit(16);
		_exit(0);
	}
	close(sv[1]);
	a = factory(self->dev, 2 * MIB - PAGE);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, send_fd(sv[0], a));
	ASSERT_EQ(1, read(sv[0], &status, 1));
	EXPECT_EQ(MIB, used_of(a));
	ASSERT_EQ(1, write(sv[0], "k", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The child's exit closed its dataspace. */
	EXPECT_EQ(0, used_of(a));
	close(a);
	close(sv[0]);
}

TEST_F(quota, the_library_and_l4re_names_use_an_allocator)
{
	struct memalloc_quota_info qi = { .size = sizeof(qi) };
	struct memalloc *root, *child, *not_one;
	struct memalloc_ds *ds;
	l4re_ds_t slot;
	int fd;

	ASSERT_EQ(0, memalloc_import(self->dev, &root));
	ASSERT_EQ(0, memalloc_factory_create(root, 3 * PAGE, &child));
	EXPECT_EQ(-EINVAL, memalloc_factory_create(root, 0, &not_one));
	ASSERT_EQ(0, memalloc_quota(root, &qi));
	EXPECT_EQ(3 * PAGE, qi.used);
	EXPECT_EQ(3 * PAGE, qi.children);
	ASSERT_EQ(0, memalloc_alloc(child, PAGE, MEMALLOC_PINNED, 0, &ds));
	slot = l4re_util_cap_alloc();
	ASSERT_LE(0, slot);
	EXPECT_EQ(0, l4re_ma_alloc_srv(memalloc_fd(child), 2 * PAGE, slot, 0));
	EXPECT_EQ(-ENOMEM, l4re_ma_alloc_align_srv(memalloc_fd(child), 1, slot, 0, 0));
	ASSERT_EQ(0, memalloc_quota(child, &qi));
	EXPECT_EQ(3 * PAGE, qi.used);
	EXPECT_EQ(0, qi.available);
	EXPECT_EQ(0, l4re_ma_free_srv(memalloc_fd(child), slot));
	ASSERT_EQ(0, memalloc_quota(child, &qi));
	EXPECT_EQ(PAGE, qi.used);
	l4re_util_cap_free(slot);
	memalloc_ds_close(ds);
	/* Only allocators are allocators: a dataspace, /dev/null. */
	fd = ds_alloc(self->dev, PAGE, 0, 0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, memalloc_import(fd, &not_one));
	close(fd);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	EXPECT_EQ(-EINVAL, memalloc_import(fd, &not_one));
	EXPECT_EQ(-EINVAL, l4re_ma_alloc_srv(fd, PAGE, fd, 0));
	close(fd);
	fd = eventfd(0, EFD_CLOEXEC);
	EXPECT_EQ(-EINVAL, memalloc_import(fd, &not_one));
	close(fd);
	memalloc_close(child);
	memalloc_close(root);
	EXPECT_EQ(0, used_of(self->dev));
}

/* Threads racing for one quota never take more than it. */
struct race {
	int a;
	int held[256];
	int n;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;
	int fd;

	while (r->n < 256) {
		fd = ds_alloc(r->a, PAGE, 0, 0, O_CLOEXEC);
		if (fd == -ENOMEM)
			break;
		if (fd < 0)
			return (void *)1;
		r->held[r->n++] = fd;
	}
	return NULL;
}

/* Allocate and close at once, at the quota's edge; a sampler watches. */
struct churn {
	int a;
	int stop;
	uint64_t worst;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	int i, fd;

	for (i = 0; i < 400; i++) {
		fd = ds_alloc(c->a, PAGE, i % 2 ? MEMALLOC_PINNED : 0, 0, O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		else if (fd != -ENOMEM)
			return (void *)1;
	}
	return NULL;
}

static void *sample_thread(void *arg)
{
	struct churn *c = arg;
	uint64_t used;

	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		used = used_of(c->a);
		if (used > c->worst)
			c->worst = used;
	}
	return NULL;
}

TEST_F(quota, eight_threads_never_exceed_the_limit)
{
	struct race r[8] = {};
	pthread_t t[8];
	int a = factory(self->dev, 64 * PAGE), i, j, total = 0;
	void *ret;

	ASSERT_LE(0, a);
	for (i = 0; i < 8; i++) {
		r[i].a = a;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, race_thread, &r[i]));
	}
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, pthread_join(t[i], &ret));
		EXPECT_EQ(NULL, ret);
		total += r[i].n;
	}
	/* Exactly the quota, not a page more or less. */
	EXPECT_EQ(64, total);
	EXPECT_EQ(64 * PAGE, quota_of(a).out_peak);
	EXPECT_EQ(64u, quota_of(a).out_count[0]);
	for (i = 0; i < 8; i++)
		for (j = 0; j < r[i].n; j++)
			close(r[i].held[j]);
	EXPECT_EQ(0, used_of(a));

	close(a);
}

TEST_F(quota, eight_threads_at_the_edge_stay_within)
{
	struct churn c = { .a = factory(self->dev, 4 * PAGE) };
	pthread_t t[8], sampler;
	void *ret;
	int i;

	ASSERT_LE(0, c.a);
	/* Eight threads for four pages: most tries meet a full quota. */
	ASSERT_EQ(0, pthread_create(&sampler, NULL, sample_thread, &c));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, churn_thread, &c));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, pthread_join(t[i], &ret));
		EXPECT_EQ(NULL, ret);
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(sampler, NULL));
	EXPECT_GE(4 * PAGE, c.worst);
	EXPECT_EQ(4 * PAGE, quota_of(c.a).out_peak);
	EXPECT_EQ(0, used_of(c.a));
	close(c.a);
}

/* The administrator's limits on CONTINUOUS memory. */
FIXTURE(limits) {
	int dev;
	char total[32], user[32];
};

FIXTURE_SETUP(limits)
{
	self->dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, read_str(PARAMS "contig_total_max", self->total, sizeof(self->total)));
	ASSERT_EQ(0, read_str(PARAMS "contig_user_max", self->user, sizeof(self->user)));
}

FIXTURE_TEARDOWN(limits)
{
	write_file(PARAMS "contig_total_max", self->total);
	write_file(PARAMS "contig_user_max", self->user);
	close(self->dev);
}

/*
 * Allocate @n dataspaces of @sizes[i] and @flags[i] as @uid without
 * CAP_SYS_ADMIN (through @dev, opened by root), in a child, which then
 * holds them until a byte arrives on @sock (if @sock >= 0). The child's
 * exit code is the index of the first result that differs from @want[i],
 * plus one; 0 when all matched.
 */
static pid_t as_user(int dev, uid_t uid, int n, const uint64_t *sizes,
		     const uint32_t *flags, const int *want, int sock)
{
	pid_t pid = fork();
	int i, fd;
	char c;

	if (pid)
		return pid;
	if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		_exit(100);
	for (i = 0; i < n; i++) {
		fd = ds_alloc(dev, sizes[i], flags[i], 0, O_CLOEXEC);
		if (fd >= 0 ? want[i] != 0 : fd != want[i])
			_exit(i + 1);
	}
	if (sock >= 0) {
		if (write(sock, "k", 1) != 1 || read(sock, &c, 1) != 1)
			_exit(101);
	}
	_exit(0);
}

static int wait_code(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST_F(limits, the_parameters_have_their_defaults)
{
	struct sysinfo si;
	unsigned long long ram;

	ASSERT_EQ(0, sysinfo(&si));
	ram = (unsigned long long)si.totalram * si.mem_unit;
	/* Unless the module was loaded with other values. */
	EXPECT_EQ((long)(ram / 4), read_long(PARAMS "contig_total_max"));
	EXPECT_EQ((long)(ram / 16), read_long(PARAMS "contig_user_max"));
}

TEST_F(limits, the_parameters_take_sizes_and_refuse_junk)
{
	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "3M"));
	EXPECT_EQ(3 * MIB, (uint64_t)read_long(PARAMS "contig_user_max"));
	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "65536"));
	EXPECT_EQ(64 * KIB, (uint64_t)read_long(PARAMS "contig_user_max"));
	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "2G\n"));
	EXPECT_EQ(2048 * MIB, (uint64_t)read_long(PARAMS "contig_user_max"));
	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "64K"));
	EXPECT_EQ(-EINVAL, write_file(PARAMS "contig_user_max", "lots"));
	EXPECT_EQ(-EINVAL, write_file(PARAMS "contig_user_max", "12X"));
	EXPECT_EQ(-EINVAL, write_file(PARAMS "contig_user_max", "1T"));
	EXPECT_EQ(-EINVAL, write_file(PARAMS "contig_user_max", "16E"));
	EXPECT_EQ(-EINVAL, write_file(PARAMS "contig_user_max", "-1"));
	EXPECT_EQ(-EINVAL, write_file(PARAMS "contig_user_max", "1m"));
	/* Past 2^64, never wrapped to a small limit. */
	EXPECT_EQ(-EINVAL, write_file(PARAMS "contig_user_max", "99999999999999999999"));
	EXPECT_EQ(-EINVAL, write_file(PARAMS "contig_user_max", "17179869184G"));
	EXPECT_EQ(64 * KIB, (uint64_t)read_long(PARAMS "contig_user_max"));
}

TEST_F(limits, a_user_gets_edquot_past_its_limit_and_nothing_else_changes)
{
	const uint64_t sizes[] = { MIB, PAGE, MIB, 2 * MIB };
	const uint32_t flags[] = { MEMALLOC_CONTINUOUS, MEMALLOC_CONTINUOUS, 0,
				   MEMALLOC_CONTINUOUS };
	const int want[] = { 0, -EDQUOT, 0, -EDQUOT };

	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "1M"));
	/* The rest of its kinds are not the limit's business. */
	EXPECT_EQ(0, wait_code(as_user(self->dev, NOBODY, 4, sizes, flags, want, -1)));
	/* The refusals charged nothing to the allocator. */
	EXPECT_EQ(0, used_of(self->dev));
	EXPECT_EQ(0, quota_of(self->dev).out_count[4]);
}

TEST_F(limits, a_user_is_one_user_across_processes_and_frees_give_back)
{
	const uint64_t sizes[] = { MIB };
	const uint32_t flags[] = { MEMALLOC_CONTINUOUS };
	const int ok[] = { 0 }, over[] = { -EDQUOT };
	int sv[2];
	pid_t holder;
	char c;

	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "1M"));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	holder = as_user(self->dev, NOBODY, 1, sizes, flags, ok, sv[1]);
	ASSERT_EQ(1, read(sv[0], &c, 1));
	/* Another process of the same user: over. Another user: within. */
	EXPECT_EQ(0, wait_code(as_user(self->dev, NOBODY, 1, sizes, flags, over, -1)));
	EXPECT_EQ(0, wait_code(as_user(self->dev, NOBODY - 1, 1, sizes, flags, ok, -1)));
	ASSERT_EQ(1, write(sv[0], "k", 1));
	EXPECT_EQ(0, wait_code(holder));
	/* The holder's exit gave its megabyte back. */
	EXPECT_EQ(0, wait_code(as_user(self->dev, NOBODY, 1, sizes, flags, ok, -1)));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(limits, the_total_binds_all_users_together)
{
	const uint64_t sizes[] = { MIB };
	const uint32_t flags[] = { MEMALLOC_CONTINUOUS };
	const int ok[] = { 0 }, over[] = { -EDQUOT };
	int sv[2];
	pid_t holder;
	char c;

	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "8M"));
	ASSERT_EQ(0, write_file(PARAMS "contig_total_max", "1M"));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	holder = as_user(self->dev, NOBODY, 1, sizes, flags, ok, sv[1]);
	ASSERT_EQ(1, read(sv[0], &c, 1));
	EXPECT_EQ(0, wait_code(as_user(self->dev, NOBODY - 1, 1, sizes, flags, over, -1)));
	ASSERT_EQ(1, write(sv[0], "k", 1));
	EXPECT_EQ(0, wait_code(holder));
	EXPECT_EQ(0, wait_code(as_user(self->dev, NOBODY - 1, 1, sizes, flags, ok, -1)));
	close(sv[0]);
	close(sv[1]);
}

/* Root without CAP_SYS_ADMIN: an ordinary user, uid 0. */
static int as_root_without_admin(int dev, uint64_t size)
{
	int fd;

	if (drop_effective_cap(CAP_SYS_ADMIN))
		return -EPERM;
	fd = ds_alloc(dev, size, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	set_effective_cap(CAP_SYS_ADMIN, 1);
	return fd;
}

TEST_F(limits, cap_sys_admin_is_exempt_and_not_counted)
{
	const uint64_t sizes[] = { MIB };
	const uint32_t flags[] = { MEMALLOC_CONTINUOUS };
	const int ok[] = { 0 };
	int ds, held;

	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "1M"));
	ASSERT_EQ(0, write_file(PARAMS "contig_total_max", "8M"));
	ds = ds_alloc(self->dev, 16 * MIB, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
	ASSERT_LE(0, ds);
	/* Root's 16 MiB left the unprivileged all of theirs. */
	held = as_root_without_admin(self->dev, 512 * KIB);
	ASSERT_LE(0, held);
	/* uid 0 holds 512 KiB: nobody is another user, with its megabyte. */
	EXPECT_EQ(0, wait_code(as_user(self->dev, NOBODY, 1, sizes, flags, ok, -1)));
	EXPECT_EQ(-EDQUOT, as_root_without_admin(self->dev, 768 * KIB));
	close(held);
	EXPECT_LE(0, held = as_root_without_admin(self->dev, MIB));
	close(held);
	close(ds);
}

/* A dataspace of 4 KiB aligned to 2 MiB spoils 2 MiB: it counts so. */
TEST_F(limits, an_aligned_block_counts_its_alignment)
{
	pid_t pid;

	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "1M"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(100);
		_exit(ds_alloc(self->dev, PAGE, MEMALLOC_CONTINUOUS, 21, O_CLOEXEC) == -EDQUOT ?
		      0 : 1);
	}
	EXPECT_EQ(0, wait_code(pid));
	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "2M"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(100);
		_exit(ds_alloc(self->dev, PAGE, MEMALLOC_CONTINUOUS, 21, O_CLOEXEC) >= 0 ?
		      0 : 1);
	}
	EXPECT_EQ(0, wait_code(pid));
}

/*
 * In a user namespace of its own, a user is neither exempt (its
 * CAP_SYS_ADMIN there is not the machine's) nor another user for each uid
 * the namespace maps: the namespace's owner is charged.
 */
TEST_F(limits, a_user_namespace_is_its_owner)
{
	const uint64_t sizes[] = { MIB };
	const uint32_t flags[] = { MEMALLOC_CONTINUOUS };
	const int ok[] = { 0 };
	int sv[2], go[2], holder_sock[2], code;
	char c, path[64];
	pid_t holder, pid;
	ssize_t ret;

	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "1M"));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, holder_sock));
	holder = as_user(self->dev, NOBODY, 1, sizes, flags, ok, holder_sock[1]);
	ASSERT_EQ(1, read(holder_sock[0], &c, 1));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd;

		close(sv[0]);
		close(go[1]);
		if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(100);
		if (unshare(CLONE_NEWUSER))
			_exit(errno == EINVAL || errno == EPERM ? 101 : 102);
		/* Root maps uid 0 here to another uid, 65533. */
		if (write(sv[1], "u", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(103);
		if (setresuid(0, 0, 0))
			_exit(104);
		fd = ds_alloc(self->dev, MIB, MEMALLOC_CONTINUOUS, 0, O_CLOEXEC);
		/* Owner nobody holds its megabyte already: over. */
		_exit(fd == -EDQUOT ? 0 : 1);
	}
	close(sv[1]);
	close(go[0]);
	ret = read(sv[0], &c, 1);
	if (ret == 1) {
		snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
		EXPECT_EQ(0, write_file(path, "0 65533 1"));
		EXPECT_EQ(1, write(go[1], "g", 1));
	}
	close(go[1]);
	code = wait_code(pid);
	ASSERT_EQ(1, write(holder_sock[0], "k", 1));
	EXPECT_EQ(0, wait_code(holder));
	close(sv[0]);
	close(holder_sock[0]);
	close(holder_sock[1]);
	/*
	 * A kernel built without user namespaces (the debug guests': EPERM
	 * from Debian's unprivileged_userns_clone check, EINVAL elsewhere), or
	 * one whose administrator turned them off for the unprivileged.
	 */
	if (ret != 1 && code == 101)
		SKIP(return, "no user namespaces for an unprivileged user here");
	EXPECT_EQ(1, ret);
	EXPECT_EQ(0, code);
}

TEST_F(limits, a_lower_limit_refuses_new_and_keeps_old)
{
	const uint64_t sizes[] = { MIB };
	const uint32_t flags[] = { MEMALLOC_CONTINUOUS };
	const uint64_t small[] = { 512 * KIB };
	const int ok[] = { 0 }, over[] = { -EDQUOT };
	int sv[2];
	pid_t holder;
	char c;

	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "1M"));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	holder = as_user(self->dev, NOBODY, 1, sizes, flags, ok, sv[1]);
	ASSERT_EQ(1, read(sv[0], &c, 1));
	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "512K"));
	EXPECT_EQ(0, wait_code(as_user(self->dev, NOBODY, 1, small, flags, over, -1)));
	ASSERT_EQ(1, write(sv[0], "k", 1));
	EXPECT_EQ(0, wait_code(holder));
	EXPECT_EQ(0, wait_code(as_user(self->dev, NOBODY, 1, small, flags, ok, -1)));
	/* 0: no contiguous memory for the unprivileged at all. */
	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "0"));
	EXPECT_EQ(0, wait_code(as_user(self->dev, NOBODY, 1, small, flags, over, -1)));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(limits, the_quota_comes_after_the_limit)
{
	int a = factory(self->dev, MIB);
	const uint64_t sizes[] = { 2 * MIB, 2 * MIB };
	const uint32_t flags[] = { MEMALLOC_CONTINUOUS, 0 };
	const int want[] = { -EDQUOT, -ENOMEM };

	ASSERT_LE(0, a);
	ASSERT_EQ(0, write_file(PARAMS "contig_user_max", "1M"));
	/* Over both: the administrator's limit answers. */
	EXPECT_EQ(0, wait_code(as_user(a, NOBODY, 2, sizes, flags, want, -1)));
	EXPECT_EQ(0, used_of(a));
	close(a);
}

TEST_HARNESS_MAIN
