// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libmemalloc: the allocator handle, L4Re's Mem_alloc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <libkmod.h>

#include "internal.h"

#ifndef MEMALLOC_DEVICE
#define MEMALLOC_DEVICE "/dev/memalloc"
#endif

/*
 * Load the module through libkmod, as modprobe would: ENOENT when it is
 * not installed where modprobe looks, EPERM when the caller may not load
 * modules.
 */
static int memalloc_load_module(void)
{
	struct kmod_list *list = NULL, *l;
	struct kmod_ctx *ctx;
	int ret = -ENOENT;

	ctx = kmod_new(NULL, NULL);
	if (!ctx)
		return -ENOMEM;
	kmod_set_log_priority(ctx, 0);
	if (kmod_module_new_from_lookup(ctx, "memalloc", &list) < 0)
		list = NULL;
	kmod_list_foreach(l, list) {
		struct kmod_module *mod = kmod_module_get_module(l);

		ret = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
		kmod_module_unref(mod);
		if (ret == -EEXIST)
			ret = 0;
		if (!ret)
			break;
	}
	kmod_module_unref_list(list);
	kmod_unref(ctx);
	return ret;
}

MEMALLOC_EXPORT int memalloc_open(struct memalloc **ma)
{
	struct memalloc *m;
	int ret;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->refs = 1;
	m->fd = open(MEMALLOC_DEVICE, O_RDWR | O_CLOEXEC);
	if (m->fd < 0 && errno == ENOENT) {
		ret = memalloc_load_module();
		if (ret) {
			free(m);
			return ret;
		}
		m->fd = open(MEMALLOC_DEVICE, O_RDWR | O_CLOEXEC);
	}
	if (m->fd < 0) {
		ret = -errno;
		free(m);
		return ret;
	}
	*ma = m;
	return 0;
}

/*
 * Is @fd an allocator: a child allocator (its own file system's magic) or
 * /dev/memalloc (the device number of the node): 0, or -EINVAL for any
 * other file, which is never sent an ioctl.
 */
int memalloc_check_allocator(int fd)
{
	struct stat st, dev;
	struct statfs sfs;

	if (fstatfs(fd, &sfs) || fstat(fd, &st))
		return -errno;
	if (sfs.f_type == MEMALLOC_ALLOCATOR_MAGIC)
		return 0;
	if (S_ISCHR(st.st_mode) && !stat(MEMALLOC_DEVICE, &dev) &&
	    S_ISCHR(dev.st_mode) && st.st_rdev == dev.st_rdev)
		return 0;
	return -EINVAL;
}

MEMALLOC_EXPORT int memalloc_import(int fd, struct memalloc **ma)
{
	struct memalloc_quota q = { .size = sizeof(q) };
	struct memalloc *m;
	int own, ret;

	ret = memalloc_check_allocator(fd);
	if (ret)
		return ret;
	/* A module older than the library has no quotas to tell. */
	if (ioctl(fd, MEMALLOC_QUOTA, &q))
		return errno == ENOTTY ? -EOPNOTSUPP : -errno;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (own < 0) {
		free(m);
		return -errno;
	}
	m->fd = own;
	m->refs = 1;
	*ma = m;
	return 0;
}

MEMALLOC_EXPORT int memalloc_factory_create(struct memalloc *ma, uint64_t quota,
					    struct memalloc **child)
{
	struct memalloc_factory f = {
		.size = sizeof(f),
		.fd_flags = O_CLOEXEC,
		.quota = quota,
	};
	struct memalloc *m;
	int ret;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	ret = memalloc_cmd(ma, MEMALLOC_FACTORY, &f);
	if (ret) {
		free(m);
		return ret;
	}
	m->fd = f.out_fd;
	m->refs = 1;
	*child = m;
	return 0;
}

MEMALLOC_EXPORT int memalloc_quota(struct memalloc *ma,
				   struct memalloc_quota_info *out)
{
	struct memalloc_quota q = { .size = sizeof(q) };
	struct memalloc_quota_info info;
	int ret;

	if (out->size < offsetof(struct memalloc_quota_info, count))
		return -EINVAL;
	ret = memalloc_cmd(ma, MEMALLOC_QUOTA, &q);
	if (ret)
		return ret;
	info = (struct memalloc_quota_info){
		.size = out->size < sizeof(info) ? out->size : sizeof(info),
		.limit = q.out_limit,
		.used = q.out_used,
		.available = q.out_available,
		.peak = q.out_peak,
		.children = q.out_children,
		.id = q.out_id,
	};
	memcpy(info.count, q.out_count, sizeof(info.count));
	memcpy(out, &info, info.size);
	return 0;
}

void memalloc_get(struct memalloc *ma)
{
	__atomic_add_fetch(&ma->refs, 1, __ATOMIC_RELAXED);
}

MEMALLOC_EXPORT void memalloc_close(struct memalloc *ma)
{
	if (!ma || __atomic_sub_fetch(&ma->refs, 1, __ATOMIC_ACQ_REL))
		return;
	close(ma->fd);
	free(ma);
}

MEMALLOC_EXPORT int memalloc_fd(const struct memalloc *ma)
{
	return ma->fd;
}

/* An ioctl on the device: 0 or -errno. */
int memalloc_cmd(struct memalloc *ma, unsigned long cmd, void *arg)
{
	return ioctl(ma->fd, cmd, arg) ? -errno : 0;
}

MEMALLOC_EXPORT int memalloc_features(struct memalloc *ma,
				      struct memalloc_features *out)
{
	struct memalloc_version v = { .size = sizeof(v) };
	struct memalloc_features f;
	int ret;

	if (out->size < offsetof(struct memalloc_features, gup_kinds))
		return -EINVAL;
	ret = memalloc_cmd(ma, MEMALLOC_VERSION, &v);
	if (ret)
		return ret;
	f = (struct memalloc_features){
		.size = out->size < sizeof(f) ? out->size : sizeof(f),
		.api_version = v.out_api_version,
		.alloc_flags = v.out_alloc_flags,
		.kinds = v.out_kinds,
		.page_sizes = v.out_page_sizes,
		.gup_kinds = v.out_gup_kinds,
		.io_uring_kinds = v.out_io_uring_kinds,
		.pmd_kinds = v.out_pmd_kinds,
		.pud_kinds = v.out_pud_kinds,
	};
	memcpy(out, &f, f.size);
	return 0;
}

/* The new fd, or -errno; the alignment as the kernel raised it. */
int memalloc_alloc_raw(struct memalloc *ma, uint64_t size, unsigned int flags,
		       unsigned int align, unsigned int *raised_align)
{
	struct memalloc_alloc a = {
		.size = sizeof(a),
		.flags = flags,
		.length = size,
		.align = align,
		.fd_flags = O_CLOEXEC,
	};
	int ret = memalloc_cmd(ma, MEMALLOC_ALLOC, &a);

	if (ret)
		return ret;
	if (raised_align)
		*raised_align = a.align;
	return a.out_fd;
}

MEMALLOC_EXPORT int memalloc_alloc_fd(struct memalloc *ma, uint64_t size,
				      unsigned int flags, unsigned int align)
{
	return memalloc_alloc_raw(ma, size, flags, align, NULL);
}

MEMALLOC_EXPORT int memalloc_alloc(struct memalloc *ma, uint64_t size,
				   unsigned int flags, unsigned int align,
				   struct memalloc_ds **ds)
{
	int fd = memalloc_alloc_raw(ma, size, flags, align, &align);
	int ret;

	if (fd < 0)
		return fd;
	/* What the handle needs to know is known: no MEMALLOC_INFO. */
	ret = memalloc_ds_wrap(ma, fd, size, align, ds);
	if (ret)
		close(fd);
	return ret;
}

MEMALLOC_EXPORT int memalloc_free(struct memalloc *ma, struct memalloc_ds *ds)
{
	return memalloc_fd_free(ma, ds->fd);
}

MEMALLOC_EXPORT const char *memalloc_strerror(int err)
{
	switch (-err) {
	case 0:
		return "success";
	case ENOENT:
		return "/dev/memalloc is missing and the memalloc module is not "
		       "installed: install it (make modules_install) or load it "
		       "with insmod memalloc.ko";
	case EPERM:
		return "not permitted: loading the memalloc module needs "
		       "CAP_SYS_MODULE (as root: memalloc load), physical "
		       "addresses need CAP_SYS_ADMIN";
	case EACCES:
		return "access denied: /dev/memalloc is for root and the "
		       "memalloc group (ask the administrator to add you to "
		       "it), or the dataspace handle is read-only";
	case ENOMEM:
		return "out of memory: no such block free, or over "
		       "RLIMIT_MEMLOCK (ulimit -l), the memory cgroup's limit "
		       "or the allocator's quota";
	case EDQUOT:
		return "over the administrator's limit on contiguous memory "
		       "(/sys/module/memalloc/parameters/contig_*_max)";
	case EOPNOTSUPP:
		return "this kernel cannot honour that flag or combination "
		       "(memalloc info lists what it can)";
	case ERANGE:
		return "size or offset out of range";
	case ENODEV:
		return "the dataspace was freed (revoked)";
	case EBUSY:
		return "a device holds an attachment of the dataspace, or the "
		       "kernel a mapping of it";
	default:
		return strerror(-err);
	}
}

MEMALLOC_EXPORT const char *memalloc_version_string(void)
{
	return MEMALLOC_LIB_VERSION_STRING;
}
