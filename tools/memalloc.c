// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: the command-line tool.
 *
 *   memalloc info
 *   memalloc alloc SIZE [--contiguous] [--pinned] [--super-pages] [--align N]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memalloc.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: memalloc info\n"
		"       memalloc alloc SIZE [--contiguous] [--pinned] [--super-pages] [--align N]\n"
		"\n"
		"SIZE is in bytes, or with a K, M or G suffix (64M, 1G).\n");
}

static int parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'G': case 'g': v <<= 10; /* fall through */
	case 'M': case 'm': v <<= 10; /* fall through */
	case 'K': case 'k': v <<= 10; end++; break;
	case 0: break;
	default: return -1;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static void print_flags(unsigned int flags)
{
	static const char *const names[] = { "contiguous", "pinned", "super-pages" };
	const char *sep = "";
	unsigned int i;

	if (!flags)
		printf("lazy");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & (1u << i)) {
			printf("%s%s", sep, names[i]);
			sep = " ";
		}
}

static int open_or_explain(struct memalloc **ma)
{
	int ret = memalloc_open(ma);

	if (ret)
		fprintf(stderr, "memalloc: cannot open /dev/memalloc: %s%s\n",
			strerror(-ret), ret == -ENOENT ?
			" (is the module loaded? try: insmod memalloc.ko)" : "");
	return ret;
}

static int cmd_info(void)
{
	struct memalloc_features f;
	struct memalloc *ma;
	int bit, ret;

	if (open_or_explain(&ma))
		return 1;
	ret = memalloc_features(ma, &f);
	memalloc_close(ma);
	if (ret) {
		fprintf(stderr, "memalloc: MEMALLOC_VERSION: %s\n", strerror(-ret));
		return 1;
	}
	printf("api version: %u\n", f.api_version);
	printf("flags:       ");
	print_flags(f.alloc_flags);
	printf("\npage sizes: ");
	for (bit = 0; bit < 64; bit++)
		if (f.page_sizes & (1ull << bit))
			printf(" %llu KiB", (1ull << bit) >> 10);
	printf("\n");
	return 0;
}

static int cmd_alloc(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "contiguous", no_argument, NULL, 'c' },
		{ "pinned", no_argument, NULL, 'p' },
		{ "super-pages", no_argument, NULL, 's' },
		{ "align", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned long long size, align = 0;
	unsigned int flags = 0;
	struct memalloc *ma;
	size_t i, len, page = sysconf(_SC_PAGESIZE);
	unsigned char *p;
	int c, fd, ret;

	while ((c = getopt_long(argc, argv, "cpsa:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': flags |= MEMALLOC_CONTINUOUS; break;
		case 'p': flags |= MEMALLOC_PINNED; break;
		case 's': flags |= MEMALLOC_SUPER_PAGES; break;
		case 'a':
			if (parse_size(optarg, &align) || align > 63) {
				fprintf(stderr, "memalloc: --align takes log2 of the alignment, 0..63\n");
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || parse_size(argv[optind], &size)) {
		usage(stderr);
		return 2;
	}
	if (open_or_explain(&ma))
		return 1;
	fd = memalloc_alloc_fd(ma, size, flags, align);
	memalloc_close(ma);
	printf("alloc %llu bytes, ", size);
	print_flags(flags);
	if (fd < 0) {
		printf(": refused, %s\n", strerror(-fd));
		return 1;
	}
	len = (size + page - 1) & ~(page - 1);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		ret = errno;
		printf(": fd %d, mmap failed: %s\n", fd, strerror(ret));
		return 1;
	}
	for (i = 0; i < len && !p[i]; i++)
		;
	printf(": fd %d, %zu bytes mapped at %p, %s\n", fd, len, (void *)p,
	       i == len ? "reads as zero" : "NOT ZERO");
	memset(p, 0xa5, len);
	munmap(p, len);
	close(fd);
	return i == len ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "info"))
		return cmd_info();
	if (!strcmp(argv[1], "alloc"))
		return cmd_alloc(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "memalloc: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
