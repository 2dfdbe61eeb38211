/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the memalloc selftests.
 */
#ifndef MEMALLOC_SELFTEST_UTIL_H
#define MEMALLOC_SELFTEST_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/memalloc.h>

#define MEMALLOC_DEV "/dev/memalloc"

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

/* A /proc/meminfo value in KiB, or -1. */
static inline long meminfo_kib(const char *field)
{
	size_t n = strlen(field);
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':') {
			val = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

#endif /* MEMALLOC_SELFTEST_UTIL_H */
