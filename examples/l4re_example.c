// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * An L4Re-style program: written against L4Re's C interface only
 * (<l4re/c/...>), it builds unchanged on Linux against libmemalloc.
 *
 *   cc l4re_example.c $(pkg-config --cflags --libs libmemalloc)
 */
#include <stdio.h>

#include <l4re/c/dataspace.h>
#include <l4re/c/mem_alloc.h>
#include <l4re/c/util/cap_alloc.h>

static int check(const char *what, long ret)
{
	if (ret < 0)
		printf("%s: error %ld\n", what, ret);
	return ret < 0;
}

int main(void)
{
	l4re_ds_t buf, scratch;
	l4re_ds_stats_t stats;
	l4_addr_t phys;
	l4_size_t run;
	long ret;
	int err = 0;

	buf = l4re_util_cap_alloc();
	scratch = l4re_util_cap_alloc();
	if (l4_is_invalid_cap(buf) || l4_is_invalid_cap(scratch)) {
		printf("no capability slot\n");
		return 1;
	}

	/* A 1 MiB physically contiguous buffer, 64 KiB aligned, and a lazy one. */
	if (check("alloc buf", l4re_ma_alloc_align(1 << 20, buf, L4RE_MA_CONTINUOUS |
						    L4RE_MA_PINNED, 16)) ||
	    check("alloc scratch", l4re_ma_alloc(3 * 4096 + 5, scratch, 0)))
		return 1;

	err |= check("info", l4re_ds_info(buf, &stats));
	printf("buf: %lu bytes, %s\n", stats.size,
	       stats.flags == L4RE_DS_MAP_FLAG_RW ? "read-write" : "read-only");
	printf("scratch: %ld bytes, flags %ld\n", l4re_ds_size(scratch),
	       l4re_ds_flags(scratch));

	err |= check("allocate", l4re_ds_allocate(scratch, 0, 4096));
	err |= check("copy_in", l4re_ds_copy_in(buf, 100, scratch, 0, 4096));
	err |= check("clear", l4re_ds_clear(buf, 0, 1 << 20));

	ret = l4re_ds_phys(buf, 123, &phys, &run);
	if (ret == 0)
		printf("phys(123): 0x%lx, %lu bytes contiguous\n", phys, run);
	else
		printf("phys(123): error %ld (needs CAP_SYS_ADMIN)\n", ret);

	err |= check("free buf", l4re_ma_free(buf));
	err |= check("free scratch", l4re_ma_free(scratch));
	if (l4re_ds_size(buf) >= 0) {
		printf("buf still answers after free\n");
		err = 1;
	}
	l4re_util_cap_free(buf);
	l4re_util_cap_free(scratch);
	printf("%s\n", err ? "failed" : "ok");
	return err;
}
