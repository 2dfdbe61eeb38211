// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libmemalloc: the allocator handle.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/memalloc.h>

#include "memalloc.h"

#define MEMALLOC_EXPORT __attribute__((visibility("default")))

#ifndef MEMALLOC_DEVICE
#define MEMALLOC_DEVICE "/dev/memalloc"
#endif

struct memalloc {
	int fd;
};

MEMALLOC_EXPORT int memalloc_open(struct memalloc **ma)
{
	struct memalloc *m;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->fd = open(MEMALLOC_DEVICE, O_RDWR | O_CLOEXEC);
	if (m->fd < 0) {
		int err = -errno;

		free(m);
		return err;
	}
	*ma = m;
	return 0;
}

MEMALLOC_EXPORT void memalloc_close(struct memalloc *ma)
{
	if (!ma)
		return;
	close(ma->fd);
	free(ma);
}

MEMALLOC_EXPORT int memalloc_fd(const struct memalloc *ma)
{
	return ma->fd;
}

MEMALLOC_EXPORT int memalloc_features(struct memalloc *ma,
				      struct memalloc_features *out)
{
	struct memalloc_version v = { .size = sizeof(v) };

	if (ioctl(ma->fd, MEMALLOC_VERSION, &v))
		return -errno;
	out->api_version = v.out_api_version;
	out->alloc_flags = v.out_alloc_flags;
	out->page_sizes = v.out_page_sizes;
	return 0;
}

MEMALLOC_EXPORT int memalloc_alloc_fd(struct memalloc *ma, uint64_t size,
				      unsigned int flags, unsigned int align)
{
	struct memalloc_alloc a = {
		.size = sizeof(a),
		.flags = flags,
		.length = size,
		.align = align,
		.fd_flags = O_CLOEXEC,
	};

	if (ioctl(ma->fd, MEMALLOC_ALLOC, &a))
		return -errno;
	return a.out_fd;
}
