/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the memalloc selftests.
 */
#ifndef MEMALLOC_SELFTEST_UTIL_H
#define MEMALLOC_SELFTEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <drm/drm.h>
#include <linux/capability.h>
#include <linux/memalloc.h>

#define MEMALLOC_DEV "/dev/memalloc"

/* madvise() advice of 5.14, for C libraries older than the kernel. */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Allocate through the raw ioctl: the fd, or -errno. */
static inline int ds_alloc(int dev, uint64_t length, uint32_t flags,
			   uint32_t align, uint32_t fd_flags)
{
	struct memalloc_alloc a = {
		.size = sizeof(a),
		.flags = flags,
		.length = length,
		.align = align,
		.fd_flags = fd_flags,
	};

	if (ioctl(dev, MEMALLOC_ALLOC, &a))
		return -errno;
	return a.out_fd;
}

static inline int ds_ioctl(int dev, unsigned long cmd, void *arg)
{
	return ioctl(dev, cmd, arg) ? -errno : 0;
}

/* The MEMALLOC_KIND_* of a dataspace made with @flags. */
static inline uint32_t kind_of(uint32_t flags)
{
	if (flags & MEMALLOC_CACHING_MASK)
		return MEMALLOC_KIND_CACHING;
	if (flags & MEMALLOC_CONTINUOUS)
		return flags & MEMALLOC_SUPER_PAGES ? MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES :
						      MEMALLOC_KIND_CONTIGUOUS;
	if (flags & MEMALLOC_PINNED)
		return flags & MEMALLOC_SUPER_PAGES ? MEMALLOC_KIND_PINNED_SUPER_PAGES :
						      MEMALLOC_KIND_PINNED;
	return flags & MEMALLOC_SUPER_PAGES ? MEMALLOC_KIND_SUPER_PAGES : MEMALLOC_KIND_LAZY;
}

/* What this kernel offers (MEMALLOC_VERSION): 0 or -errno. */
static inline int kernel_facts(int dev, struct memalloc_version *v)
{
	*v = (struct memalloc_version){ .size = sizeof(*v) };
	return ds_ioctl(dev, MEMALLOC_VERSION, v);
}

static inline int ds_info(int dev, int fd, struct memalloc_info *info)
{
	*info = (struct memalloc_info){ .size = sizeof(*info), .fd = fd };
	return ds_ioctl(dev, MEMALLOC_INFO, info);
}

static inline int ds_clear(int dev, int fd, uint64_t off, uint64_t len)
{
	struct memalloc_clear c = { .size = sizeof(c), .fd = fd,
				    .offset = off, .length = len };

	return ds_ioctl(dev, MEMALLOC_CLEAR, &c);
}

static inline int ds_copy_in(int dev, int dst, uint64_t dst_off, int src,
			     uint64_t src_off, uint64_t len)
{
	struct memalloc_copy_in c = {
		.size = sizeof(c), .fd = dst, .dst_offset = dst_off,
		.src_fd = src, .src_offset = src_off, .length = len,
	};

	return ds_ioctl(dev, MEMALLOC_COPY_IN, &c);
}

/* A new handle of @fd's dataspace: the fd, or -errno. */
static inline int ds_dup(int dev, int fd, uint32_t rights, uint32_t caching)
{
	struct memalloc_dup d = { .size = sizeof(d), .fd = fd, .rights = rights,
				  .caching = caching, .fd_flags = O_CLOEXEC };
	int ret = ds_ioctl(dev, MEMALLOC_DUP, &d);

	return ret ? ret : d.out_fd;
}

static inline int ds_free(int dev, int fd)
{
	struct memalloc_free f = { .size = sizeof(f), .fd = fd };

	return ds_ioctl(dev, MEMALLOC_FREE, &f);
}

static sigjmp_buf sigbus_jmp;

static inline void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(sigbus_jmp, 1);
}

/* Does reading @p raise SIGBUS? */
static inline bool read_gets_sigbus(const volatile char *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	bool bus = false;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(sigbus_jmp, 1))
		bus = true;
	else
		(void)*p;
	sigaction(SIGBUS, &old, NULL);
	return bus;
}

/* The stored value of a file, without its newline: 0 or -errno. */
static inline int read_str(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* Write @val to the file @path: 0 or -errno. */
static inline int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

/* The number a file holds, or -1. */
static inline long read_long(const char *path)
{
	char buf[64];

	return read_str(path, buf, sizeof(buf)) || !buf[0] ? -1 : strtol(buf, NULL, 10);
}

/* A field of a file's fdinfo (malloc'ed), or NULL. */
static inline char *fdinfo_field(int fd, const char *field)
{
	char path[64], line[256], *val = NULL;
	size_t n = strlen(field);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	while (!val && fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, n) || line[n] != ':')
			continue;
		val = line + n + 1;
		val += strspn(val, " \t");
		val[strcspn(val, "\n")] = 0;
		val = strdup(val);
	}
	fclose(f);
	return val;
}

/* The number after "@field" and @sep on a line of @path, or -1. */
static inline long file_field(const char *path, const char *field, char sep)
{
	size_t n = strlen(field);
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == sep) {
			val = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

/* A "Field: value" of a /proc file, as a number (KiB for sizes), or -1. */
static inline long proc_kib(const char *path, const char *field)
{
	return file_field(path, field, ':');
}

/*
 * Free memory in KiB, counting the pages on per-CPU free lists, which
 * MemFree leaves out until they are drained: from /proc/zoneinfo.
 */
static inline long free_kib(void)
{
	long pages = 0, n, page_kib = sysconf(_SC_PAGESIZE) / 1024;
	char line[256];
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " pages free %ld", &n) == 1 ||
		    sscanf(line, " count: %ld", &n) == 1)
			pages += n;
	fclose(f);
	return pages * page_kib;
}

/* A /proc/meminfo value in KiB, or -1. */
static inline long meminfo_kib(const char *field)
{
	return proc_kib("/proc/meminfo", field);
}

/*
 * The page frame numbers behind the @n pages from @addr (root only), 0 for
 * a page not present. Returns 0, or -1 when pagemap cannot be read.
 */
static inline int pfns_of(const void *addr, size_t n, uint64_t *pfns)
{
	long page = sysconf(_SC_PAGESIZE);
	ssize_t want = n * sizeof(*pfns);
	size_t i;
	int fd;

	/* Mappings fill on first touch: read one byte of each page. */
	for (i = 0; i < n; i++)
		(void)*(volatile const char *)((const char *)addr + i * page);
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (pread(fd, pfns, want, (uintptr_t)addr / page * sizeof(*pfns)) != want) {
		close(fd);
		return -1;
	}
	close(fd);
	for (i = 0; i < n; i++)
		pfns[i] = pfns[i] & (1ull << 63) ? pfns[i] & ((1ull << 55) - 1) : 0;
	return 0;
}

/* The page frame number behind @addr (root only), or 0 when not present. */
static inline uint64_t pfn_of(const void *addr)
{
	uint64_t pfn;

	return pfns_of(addr, 1, &pfn) ? 0 : pfn;
}

/* Whether @len bytes from @p are all zero. */
static inline int all_zero(const void *p, size_t len)
{
	const unsigned long *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		if (w[i])
			return 0;
	for (i = len / sizeof(*w) * sizeof(*w); i < len; i++)
		if (((const unsigned char *)p)[i])
			return 0;
	return 1;
}

/* The kernel's page flags (/proc/kpageflags) of @pfn, or ~0 on error. */
static inline uint64_t kpageflags_of(uint64_t pfn)
{
	uint64_t flags = ~0ull;
	FILE *f;

	f = fopen("/proc/kpageflags", "r");
	if (!f)
		return flags;
	if (fseek(f, pfn * sizeof(flags), SEEK_SET) ||
	    fread(&flags, sizeof(flags), 1, f) != 1)
		flags = ~0ull;
	fclose(f);
	return flags;
}

/* A field of /proc/self/status in KiB, or -1. */
static inline long status_kib(const char *field)
{
	return proc_kib("/proc/self/status", field);
}

/*
 * Map @len bytes of @fd shared at an address aligned to 2^@align_log2
 * (a dma-buf has no get_unmapped_area: reserve, then map over it).
 */
static inline void *map_aligned(int fd, size_t len, unsigned int align_log2,
				int prot)
{
	size_t align = (size_t)1 << align_log2;
	char *res, *p;
	uintptr_t at;

	res = mmap(NULL, len + align, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return MAP_FAILED;
	at = ((uintptr_t)res + align - 1) & ~(uintptr_t)(align - 1);
	p = mmap((void *)at, len, prot, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		munmap(res, len + align);
		return MAP_FAILED;
	}
	if ((char *)at > res)
		munmap(res, (char *)at - res);
	if ((char *)at + len < res + len + align)
		munmap((char *)at + len, res + len + align - ((char *)at + len));
	return p;
}

/* The sum of an smaps field (KiB) over the mapping that holds @addr. */
static inline long smaps_kib(const void *addr, const char *field)
{
	unsigned long lo, hi, a = (uintptr_t)addr;
	size_t n = strlen(field);
	char line[512];
	int in = 0;
	long val = -1;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = a >= lo && a < hi;
			continue;
		}
		if (in && !strncmp(line, field, n) && line[n] == ':') {
			val = strtol(line + n + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/* Pass @fd over the unix socket @sock (SCM_RIGHTS). */
static inline int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 0;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/* Receive an fd from the unix socket @sock, or -1. */
static inline int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* The vgem DRM device (a real dma-buf importer and exporter), or -1. */
static inline int open_vgem(void)
{
	char name[16], path[32];
	struct drm_version v;
	int i, fd;

	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(name, 0, sizeof(name));
		v.name = name;
		v.name_len = sizeof(name) - 1;
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	return -1;
}

/* Drop or raise @cap in this thread's effective capabilities: 0, or -1. */
static inline int set_effective_cap(int cap, int on)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
	if (on)
		data[CAP_TO_INDEX(cap)].effective |= CAP_TO_MASK(cap);
	return syscall(SYS_capset, &hdr, data);
}

static inline int drop_effective_cap(int cap)
{
	return set_effective_cap(cap, 0);
}

/*
 * A kselftest fixture that only holds an open /dev/memalloc in self->dev;
 * variants may still be added to it.
 */
#define DEV_FIXTURE(name)						\
	FIXTURE(name) {							\
		int dev;						\
	};								\
	FIXTURE_SETUP(name)						\
	{								\
		self->dev = open(MEMALLOC_DEV, O_RDWR | O_CLOEXEC);	\
		ASSERT_LE(0, self->dev);				\
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		close(self->dev);					\
	}

/*
 * For a test program that measures memory to the page (free memory, a
 * cgroup's memory.current): the pool of zeroed memory (module/pool.c)
 * off while it runs, as its thread refills in the background and the
 * cgroup it refills for pays. Set to 0 when the program starts, restored
 * when its first process exits; silently nothing where the module has no
 * pool or the caller may not write its parameter.
 */
#define POOL_SIZE_PARAM "/sys/module/memalloc/parameters/pool_size"
#define POOL_OFF_WHILE_RUNNING()					\
	static char pool_size_saved[32];				\
	static pid_t pool_size_saver;					\
	__attribute__((constructor)) static void pool_off(void)	\
	{								\
		if (!read_str(POOL_SIZE_PARAM, pool_size_saved,		\
			      sizeof(pool_size_saved)) &&		\
		    !write_file(POOL_SIZE_PARAM, "0"))			\
			pool_size_saver = getpid();			\
	}								\
	__attribute__((destructor)) static void pool_back(void)	\
	{								\
		if (pool_size_saver == getpid())			\
			write_file(POOL_SIZE_PARAM, pool_size_saved);	\
	}

#endif /* MEMALLOC_SELFTEST_UTIL_H */
