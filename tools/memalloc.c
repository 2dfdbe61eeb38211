// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: the command-line tool of /dev/memalloc and libmemalloc.
 *
 *   memalloc info
 *   memalloc alloc SIZE [--contiguous] [--pinned] [--super-pages]
 *                       [--write-combine|--uncached] [--align N] [--hold]
 *   memalloc list [--json]
 *   memalloc stats [--json]
 *   memalloc load [MODULE.ko]
 *   memalloc unload
 *   memalloc --version
 *
 * Exit status: 0 done, 1 the operation failed, 2 a usage error.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <libkmod.h>

#include "memalloc.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define MODULE_NAME "memalloc"
#define MODULE_REFCNT "/sys/module/" MODULE_NAME "/refcnt"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* Returned by the option parsers when the command should go on. */
#define GO_ON (-1)

static const struct flag_name {
	unsigned int flag;
	const char *name;
} flag_names[] = {
	{ MEMALLOC_CONTINUOUS, "contiguous" },
	{ MEMALLOC_PINNED, "pinned" },
	{ MEMALLOC_SUPER_PAGES, "super-pages" },
	{ MEMALLOC_WRITE_COMBINE, "write-combine" },
	{ MEMALLOC_UNCACHED, "uncached" },
};

static void usage(FILE *f)
{
	fputs("usage: memalloc COMMAND [ARGS]\n"
	      "\n"
	      "  info                 the module's API version, flags and page sizes\n"
	      "  alloc SIZE [OPTION]  allocate a dataspace, check it and show it\n"
	      "      --contiguous     one physically contiguous block\n"
	      "      --pinned         taken at once, never swapped or migrated\n"
	      "      --super-pages    backed by 2 MiB pages\n"
	      "      --write-combine  write-combined mappings (with --contiguous or --pinned)\n"
	      "      --uncached       uncached mappings (with --contiguous or --pinned)\n"
	      "      --align N        align to 2^N bytes (at most 2^30 on x86-64)\n"
	      "      --hold           keep it until SIGINT or SIGTERM, then free it\n"
	      "      --quota SIZE     through a child allocator with a quota of SIZE bytes,\n"
	      "                       whose use it shows\n"
	      "  list [--json]        the live dataspaces, from debugfs (root only)\n"
	      "  stats [--json]       the module's counters by kind, from debugfs (root only)\n"
	      "  load [MODULE.ko]     load the module: by name as modprobe would, or the file\n"
	      "  unload               unload the module\n"
	      "  help                 this text (as does --help after any command)\n"
	      "  --version            the release of the tool and of the library\n"
	      "\n"
	      "SIZE is in bytes, decimal or 0x hex, with an optional suffix K, M or G\n"
	      "(or KiB, MiB, GiB): 4096, 0x1000, 64M, 1GiB.\n"
	      "Exit status: 0 done, 1 the operation failed, 2 a usage error.\n", f);
}

/* A one-line message naming the problem, then the usage: exit status 2. */
static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("memalloc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	usage(stderr);
	return EXIT_USAGE;
}

/* "memalloc: <what>: <memalloc_strerror(err)>": exit status 1. */
static int __attribute__((format(printf, 2, 3))) fail(int err, const char *fmt, ...)
{
	va_list ap;

	fputs("memalloc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", memalloc_strerror(err));
	return EXIT_FAILED;
}

/*
 * A number, decimal or 0x hex, from *@s; *@s is left after its digits.
 * NULL, or what is wrong with it.
 */
static const char *parse_number(const char **s, uint64_t *out)
{
	const char *p = *s, *start;
	unsigned int base = 10, d;
	uint64_t v = 0;

	if (*p == '-')
		return "negative";
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (start = p; base == 16 ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p);
	     p++) {
		d = isdigit((unsigned char)*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10;
		if (v > (UINT64_MAX - d) / base)
			return "too large (overflows 64 bits)";
		v = v * base + d;
	}
	if (p == start)
		return "not a number";
	*s = p;
	*out = v;
	return NULL;
}

/* SIZE: a number, then K, M or G, or KiB, MiB or GiB. NULL, or what is wrong. */
static const char *parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "kmg";
	const char *why, *unit;
	unsigned int shift = 0;
	uint64_t v;

	why = parse_number(&s, &v);
	if (why)
		return why;
	if (*s) {
		unit = strchr(units, tolower((unsigned char)*s));
		if (!unit)
			return "unknown suffix (K, M, G, KiB, MiB or GiB)";
		shift = 10 * (unit - units + 1);
		s++;
		if (!strcasecmp(s, "iB"))
			s += 2;
		if (*s)
			return "unknown suffix (K, M, G, KiB, MiB or GiB)";
	}
	if (v > UINT64_MAX >> shift)
		return "too large (overflows 64 bits)";
	*out = v << shift;
	return NULL;
}

/* --align N: log2 of the alignment, 0..63. NULL, or what is wrong. */
static const char *parse_align(const char *s, unsigned int *out)
{
	const char *why;
	uint64_t v;

	why = parse_number(&s, &v);
	if (why)
		return why;
	if (*s)
		return "not a number";
	if (v > 63)
		return "out of range 0..63 (it is log2 of the alignment)";
	*out = v;
	return NULL;
}

/* The names of @flags, separated by spaces, or @none for no flag. */
static const char *flags_str(unsigned int flags, const char *none, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = 0;
	for (i = 0; i < ARRAY_SIZE(flag_names); i++) {
		if (!(flags & flag_names[i].flag))
			continue;
		flags &= ~flag_names[i].flag;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? " " : "",
			      flag_names[i].name);
	}
	if (flags)
		n += snprintf(buf + n, n < len ? len - n : 0, "%s0x%x", n ? " " : "", flags);
	if (!n)
		snprintf(buf, len, "%s", none);
	return buf;
}

static const struct {
	unsigned int kind;
	const char *name;
} kind_names[] = {
	{ MEMALLOC_KIND_LAZY, "lazy" },
	{ MEMALLOC_KIND_SUPER_PAGES, "super-pages" },
	{ MEMALLOC_KIND_PINNED, "pinned" },
	{ MEMALLOC_KIND_PINNED_SUPER_PAGES, "pinned+super-pages" },
	{ MEMALLOC_KIND_CONTIGUOUS, "contiguous" },
	{ MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES, "contiguous+super-pages" },
	{ MEMALLOC_KIND_CACHING, "write-combine/uncached" },
};

/* "KEY: kind kind ...", the kinds of @kinds, or "none". */
static void print_kinds(const char *key, unsigned int kinds)
{
	size_t i;
	int any = 0;

	printf("%s:", key);
	for (i = 0; i < ARRAY_SIZE(kind_names); i++)
		if (kinds & kind_names[i].kind) {
			printf(" %s", kind_names[i].name);
			any = 1;
		}
	printf("%s\n", any ? "" : " none");
}

static const char *caching_str(unsigned int caching)
{
	switch (caching) {
	case MEMALLOC_CACHED:
		return "cached";
	case MEMALLOC_WRITE_COMBINE:
		return "write-combine";
	case MEMALLOC_UNCACHED:
		return "uncached";
	default:
		return "unknown";
	}
}

/*
 * Long options have values from 256 up, so that optopt tells a short option
 * getopt_long() refused from a long one.
 */
enum {
	OPT_CONTIGUOUS = 256,
	OPT_PINNED,
	OPT_SUPER_PAGES,
	OPT_WRITE_COMBINE,
	OPT_UNCACHED,
	OPT_ALIGN,
	OPT_HOLD,
	OPT_QUOTA,
	OPT_HELP,
	OPT_JSON,
};

/* A report of an option getopt_long() refused (@c is '?' or ':') in the command @argv. */
static int option_error(char **argv, int c)
{
	if (c == ':')
		return usage_error("%s: option '%s' needs an argument", argv[0], argv[optind - 1]);
	if (optopt >= 256)
		return usage_error("%s: option '%s' takes no argument", argv[0], argv[optind - 1]);
	if (isdigit((unsigned char)optopt))
		return usage_error("%s: unknown option '-%c' (a SIZE cannot be negative)",
				   argv[0], optopt);
	if (optopt)
		return usage_error("%s: unknown option '-%c'", argv[0], optopt);
	return usage_error("%s: unknown option '%s'", argv[0], argv[optind - 1]);
}

/* Options of a command that takes only --help and up to @max_args arguments. */
static int parse_plain(int argc, char **argv, int max_args)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ 0 }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c != 'h' && c != OPT_HELP)
			return option_error(argv, c);
		usage(stdout);
		return EXIT_OK;
	}
	if (argc - optind > max_args)
		return usage_error("%s: unexpected argument '%s'", argv[0],
				   argv[optind + max_args]);
	return GO_ON;
}

/* A field of /proc/meminfo in KiB, or -1. */
static long meminfo_kib(const char *field)
{
	size_t n = strlen(field);
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "re");
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

/* The module's reference count from sysfs, or -1 (built in, or not loaded). */
static long module_refcnt(void)
{
	long val = -1;
	FILE *f;

	f = fopen(MODULE_REFCNT, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

static int open_allocator(struct memalloc **ma)
{
	int ret = memalloc_open(ma);

	if (ret)
		fail(ret, "open /dev/memalloc");
	return ret;
}

static void print_features(const struct memalloc_features *f)
{
	char buf[128];
	int bit;

	printf("api version: %" PRIu32 "\n", f->api_version);
	printf("flags: %s\n", flags_str(f->alloc_flags, "none", buf, sizeof(buf)));
	printf("page sizes:");
	for (bit = 0; bit < 64; bit++)
		if (f->page_sizes & (UINT64_C(1) << bit))
			printf(" %" PRIu64, UINT64_C(1) << bit);
	printf("\n");
	print_kinds("kinds", f->kinds);
	print_kinds("get_user_pages (O_DIRECT, vmsplice)", f->gup_kinds);
	print_kinds("io_uring fixed buffers", f->io_uring_kinds);
	print_kinds("2 MiB mappings", f->pmd_kinds);
	print_kinds("1 GiB mappings", f->pud_kinds);
}

static int cmd_info(int argc, char **argv)
{
	struct memalloc_features f = { .size = sizeof(f) };
	struct memalloc *ma;
	long val;
	int ret;

	ret = parse_plain(argc, argv, 0);
	if (ret != GO_ON)
		return ret;
	if (open_allocator(&ma))
		return EXIT_FAILED;
	ret = memalloc_features(ma, &f);
	/* Closed before the refcnt is read: it is other users' then. */
	memalloc_close(ma);
	if (ret)
		return fail(ret, "MEMALLOC_VERSION");
	print_features(&f);
	val = meminfo_kib("MemTotal");
	if (val >= 0)
		printf("mem total: %ld KiB\n", val);
	val = meminfo_kib("MemFree");
	if (val >= 0)
		printf("mem free: %ld KiB\n", val);
	val = module_refcnt();
	if (val >= 0)
		printf("module refcnt: %ld\n", val);
	return EXIT_OK;
}

struct alloc_args {
	uint64_t size;
	uint64_t quota;
	unsigned int flags;
	unsigned int align;
	bool hold;
};

static int parse_alloc(int argc, char **argv, struct alloc_args *a)
{
	static const struct option opts[] = {
		{ "contiguous", no_argument, NULL, OPT_CONTIGUOUS },
		{ "pinned", no_argument, NULL, OPT_PINNED },
		{ "super-pages", no_argument, NULL, OPT_SUPER_PAGES },
		{ "write-combine", no_argument, NULL, OPT_WRITE_COMBINE },
		{ "uncached", no_argument, NULL, OPT_UNCACHED },
		{ "align", required_argument, NULL, OPT_ALIGN },
		{ "hold", no_argument, NULL, OPT_HOLD },
		{ "quota", required_argument, NULL, OPT_QUOTA },
		{ "help", no_argument, NULL, OPT_HELP },
		{ 0 }
	};
	const char *why;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_CONTIGUOUS:
			a->flags |= MEMALLOC_CONTINUOUS;
			break;
		case OPT_PINNED:
			a->flags |= MEMALLOC_PINNED;
			break;
		case OPT_SUPER_PAGES:
			a->flags |= MEMALLOC_SUPER_PAGES;
			break;
		case OPT_WRITE_COMBINE:
			a->flags |= MEMALLOC_WRITE_COMBINE;
			break;
		case OPT_UNCACHED:
			a->flags |= MEMALLOC_UNCACHED;
			break;
		case OPT_HOLD:
			a->hold = true;
			break;
		case OPT_QUOTA:
			why = parse_size(optarg, &a->quota);
			if (!why && !a->quota)
				why = "a quota is at least one byte";
			if (why)
				return usage_error("alloc: bad --quota '%s': %s", optarg, why);
			break;
		case OPT_ALIGN:
			why = parse_align(optarg, &a->align);
			if (why)
				return usage_error("alloc: bad --align '%s': %s", optarg, why);
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return EXIT_OK;
		default:
			return option_error(argv, c);
		}
	}
	if ((a->flags & MEMALLOC_CACHING_MASK) == MEMALLOC_CACHING_MASK)
		return usage_error("alloc: --write-combine and --uncached exclude each other");
	if (optind == argc)
		return usage_error("alloc: missing SIZE");
	if (argc - optind > 1)
		return usage_error("alloc: unexpected argument '%s'", argv[optind + 1]);
	why = parse_size(argv[optind], &a->size);
	if (why)
		return usage_error("alloc: bad SIZE '%s': %s", argv[optind], why);
	return GO_ON;
}

/* Every byte of @p reads as zero: -1, or the offset of the first that does not. */
static int64_t first_nonzero(const unsigned char *p, size_t len)
{
	const uint64_t *w = (const uint64_t *)p;
	size_t i;

	for (i = 0; i < len / 8 && !w[i]; i++)
		;
	for (i *= 8; i < len; i++)
		if (p[i])
			return i;
	return -1;
}

static uint64_t pattern_at(size_t i)
{
	return (i + 1) * UINT64_C(0x9e3779b97f4a7c15);
}

/* Write a pattern: -1, or the offset of the first word that did not keep it. */
static int64_t pattern_check(unsigned char *p, size_t len)
{
	uint64_t *w = (uint64_t *)p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pattern_at(i);
	/* Read back from memory, not from what the compiler knows was written. */
	__asm__ __volatile__("" : : : "memory");
	for (i = 0; i < len / 8; i++)
		if (w[i] != pattern_at(i))
			return i * 8;
	return -1;
}

/* L4Re's order: "rw", "r", "rwx"; "-" for none. */
static const char *rights_str(unsigned int rights, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", rights & MEMALLOC_RIGHT_R ? "r" : "",
		 rights & MEMALLOC_RIGHT_W ? "w" : "", rights & MEMALLOC_RIGHT_X ? "x" : "");
	if (!buf[0])
		snprintf(buf, len, "-");
	return buf;
}

static void print_ds_info(const struct memalloc_ds_info *info, const void *addr)
{
	char buf[128];

	printf("size: %" PRIu64 "\n", info->length);
	printf("mappable: %" PRIu64 "\n", info->mappable);
	printf("resident: %" PRIu64 "\n", info->resident);
	printf("flags: %s\n", flags_str(info->flags, "lazy", buf, sizeof(buf)));
	printf("rights: %s\n", rights_str(info->rights, buf, sizeof(buf)));
	printf("caching: %s\n", caching_str(info->caching));
	printf("page size: %" PRIu64 "\n", UINT64_C(1) << info->page_shift);
	printf("align: 2^%" PRIu32 "\n", info->align);
	printf("contiguous: %s\n", info->contiguous ? "yes" : "no");
	printf("mapped at: %p\n", addr);
}

/* The physical runs of the dataspace, as far as the caller may see them. */
static int print_phys(struct memalloc_ds *ds, const struct memalloc_ds_info *info)
{
	uint64_t off, addr, len;
	int ret;

	for (off = 0; off < info->length; off += len) {
		ret = memalloc_ds_phys(ds, off, &addr, &len);
		if (ret == -EPERM) {
			printf("phys: (needs CAP_SYS_ADMIN)\n");
			return EXIT_OK;
		}
		if (ret == -EINVAL && !(info->flags & (MEMALLOC_CONTINUOUS | MEMALLOC_PINNED))) {
			printf("phys: (lazy: no fixed physical address)\n");
			return EXIT_OK;
		}
		if (ret)
			return fail(ret, "phys at offset %" PRIu64, off);
		if (!len)
			return fail(-EIO, "phys at offset %" PRIu64 ": an empty run", off);
		printf("phys: 0x%" PRIx64 " +%" PRIu64 "\n", addr, len);
	}
	return EXIT_OK;
}

/* Wait for SIGINT or SIGTERM: blocked first, so none is lost before sigwait(). */
static void hold(void)
{
	sigset_t sigs;
	int sig;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	printf("holding; interrupt to free\n");
	fflush(stdout);
	sigwait(&sigs, &sig);
}

/* Zero check and pattern on the mapping @p: the lines to print, and success. */
static bool check_memory(unsigned char *p, size_t len, char *zero, char *pattern, size_t n)
{
	int64_t bad;

	bad = first_nonzero(p, len);
	if (bad >= 0) {
		snprintf(zero, n, "FAILED: byte %" PRId64 " reads 0x%02x", bad, p[bad]);
		snprintf(pattern, n, "not written");
		fprintf(stderr, "memalloc: zero check: %s\n", zero);
		return false;
	}
	snprintf(zero, n, "every byte reads as zero (%zu bytes)", len);
	bad = pattern_check(p, len);
	if (bad >= 0) {
		snprintf(pattern, n, "FAILED: word at %" PRId64 " did not keep it", bad);
		fprintf(stderr, "memalloc: pattern: %s\n", pattern);
		return false;
	}
	snprintf(pattern, n, "written and read back");
	return true;
}

/* Map, check and show the dataspace; with @hold_it, keep it until a signal. */
static int use_dataspace(struct memalloc_ds *ds, bool hold_it)
{
	char zero[96], pattern[96];
	struct memalloc_ds_info info = { .size = sizeof(info) };
	size_t len;
	void *p;
	bool ok;
	int ret;

	ret = memalloc_ds_info(ds, &info);
	if (ret)
		return fail(ret, "dataspace info");
	len = info.mappable;
	if (len != info.mappable)
		return fail(-EFBIG, "map %" PRIu64 " bytes", info.mappable);
	ret = memalloc_ds_map(ds, 0, len, PROT_READ | PROT_WRITE, &p);
	if (ret)
		return fail(ret, "map %zu bytes", len);
	ok = check_memory(p, len, zero, pattern, sizeof(zero));
	/* Asked again: resident counts what the check touched. */
	ret = memalloc_ds_info(ds, &info);
	if (ret) {
		memalloc_ds_unmap(ds, p, len);
		return fail(ret, "dataspace info");
	}
	print_ds_info(&info, p);
	printf("zero check: %s\n", zero);
	printf("pattern: %s\n", pattern);
	ret = print_phys(ds, &info);
	if (hold_it && ok && !ret)
		hold();
	memalloc_ds_unmap(ds, p, len);
	return ok ? ret : EXIT_FAILED;
}

/* The allocator's quota and use, as Moe's debug view shows them. */
static void print_quota(struct memalloc *ma)
{
	struct memalloc_quota_info q = { .size = sizeof(q) };

	if (memalloc_quota(ma, &q))
		return;
	printf("quota limit: %" PRIu64 "\n", q.limit);
	printf("quota used: %" PRIu64 "\n", q.used);
	printf("quota available: %" PRIu64 "\n", q.available);
}

static int cmd_alloc(int argc, char **argv)
{
	struct alloc_args a = { 0 };
	struct memalloc_ds *ds;
	struct memalloc *ma;
	char buf[128];
	int ret, status;

	ret = parse_alloc(argc, argv, &a);
	if (ret != GO_ON)
		return ret;
	if (open_allocator(&ma))
		return EXIT_FAILED;
	if (a.quota) {
		struct memalloc *child;

		ret = memalloc_factory_create(ma, a.quota, &child);
		memalloc_close(ma);
		if (ret)
			return fail(ret, "a child allocator with a quota of %" PRIu64
				    " bytes", a.quota);
		ma = child;
	}
	ret = memalloc_alloc(ma, a.size, a.flags, a.align, &ds);
	if (ret) {
		memalloc_close(ma);
		/* The options make valid flags: EINVAL is the alignment's. */
		if (ret == -EINVAL && a.align)
			return fail(ret, "alloc: alignment 2^%u is more than the kernel "
				    "aligns to (2^30, 1 GiB, on x86-64)", a.align);
		return fail(ret, "alloc %" PRIu64 " bytes, %s", a.size,
			    flags_str(a.flags, "lazy", buf, sizeof(buf)));
	}
	if (a.quota)
		print_quota(ma);
	status = use_dataspace(ds, a.hold);
	ret = memalloc_free(ma, ds);
	if (ret)
		status = fail(ret, "free");
	memalloc_ds_close(ds);
	memalloc_close(ma);
	return status;
}

#ifndef DEBUGFS
#define DEBUGFS "/sys/kernel/debug"
#endif
#define DEBUGFS_DIR DEBUGFS "/" MODULE_NAME
#define DEBUGFS_MAGIC 0x64626720
/* Columns of a debugfs table the tool shows: more are shown as they come. */
#define MAX_COLS 32

/* A debugfs table: a header line of column names, then rows of fields. */
struct table {
	char *text;			/* the file, its separators turned to NULs */
	size_t cols;
	size_t rows;
	char **cell;			/* (rows + 1) * cols: the header first */
};

static void table_free(struct table *t)
{
	free(t->text);
	free(t->cell);
}

/* The file @path whole, NUL-terminated, in *@buf: 0 or -errno. */
static int read_all(const char *path, char **buf)
{
	size_t len = 0, size = 4096;
	char *p = malloc(size), *q;
	ssize_t n;
	int fd, err;

	if (!p)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(p);
		return err;
	}
	while ((n = read(fd, p + len, size - len - 1)) > 0) {
		len += n;
		if (size - len > 1)
			continue;
		q = realloc(p, size * 2);
		if (!q) {
			n = -1;
			errno = ENOMEM;
			break;
		}
		p = q;
		size *= 2;
	}
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err) {
		free(p);
		return err;
	}
	p[len] = 0;
	*buf = p;
	return 0;
}

/* Why a debugfs file cannot be read, for a person: the exit status 1. */
static int debugfs_fail(const char *cmd, const char *path, int err)
{
	struct statfs fs;

	if (err == -EACCES || err == -EPERM)
		fprintf(stderr, "memalloc: %s: %s is root's only: run it as root\n", cmd, path);
	else if (err == -ENOENT && (statfs(DEBUGFS, &fs) || fs.f_type != DEBUGFS_MAGIC))
		fprintf(stderr, "memalloc: %s: debugfs is not mounted on %s "
			"(mount -t debugfs none %s)\n", cmd, DEBUGFS, DEBUGFS);
	else if (err == -ENOENT)
		fprintf(stderr, "memalloc: %s: no %s: the memalloc module is not loaded\n",
			cmd, path);
	else
		fprintf(stderr, "memalloc: %s: %s: %s\n", cmd, path, strerror(-err));
	return EXIT_FAILED;
}

/* Split the fields of @line, one space apart, into @out: their count, or 0. */
static size_t split_fields(char *line, char **out, size_t max)
{
	size_t n = 0;

	while (line) {
		if (n == max)
			return 0;
		out[n] = strsep(&line, " ");
		if (!*out[n])
			return 0;
		n++;
	}
	return n;
}

/* Split @text into a table: 0, or -EPROTO for what is no table. */
static int table_parse(struct table *t, char *text)
{
	size_t lines = 1, n;
	char *line, *next = text;

	memset(t, 0, sizeof(*t));
	t->text = text;
	for (line = text; *line; line++)
		lines += *line == '\n';
	t->cell = calloc(lines * MAX_COLS, sizeof(*t->cell));
	if (!t->cell)
		return -ENOMEM;
	line = strsep(&next, "\n");
	t->cols = split_fields(line, t->cell, MAX_COLS);
	if (!t->cols)
		return -EPROTO;
	while ((line = strsep(&next, "\n"))) {
		/* The file ends with a newline: an empty last line. */
		if (!*line && !next)
			break;
		n = split_fields(line, t->cell + (t->rows + 1) * t->cols, t->cols);
		if (n != t->cols)
			return -EPROTO;
		t->rows++;
	}
	return 0;
}

/* Read and split the debugfs file @name: 0, or the exit status of a failure. */
static int table_read(const char *cmd, const char *name, struct table *t)
{
	char path[128], *text = NULL;
	int ret;

	snprintf(path, sizeof(path), DEBUGFS_DIR "/%s", name);
	ret = read_all(path, &text);
	if (ret)
		return debugfs_fail(cmd, path, ret);
	ret = table_parse(t, text);
	if (ret) {
		table_free(t);
		fprintf(stderr, "memalloc: %s: %s: %s\n", cmd, path,
			ret == -ENOMEM ? strerror(ENOMEM) : "not a table the tool knows");
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static const char *cell(const struct table *t, size_t row, size_t col)
{
	return t->cell[(row + 1) * t->cols + col];
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* The columns that hold bytes, shown as K, M, G. */
static bool is_size_col(const char *name)
{
	return !strcmp(name, "size") || !strcmp(name, "resident") || !strcmp(name, "bytes");
}

/* @s, a number of bytes, as 4K, 1.5M, 3G; as it is when no number. */
static const char *human_size(const char *s, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	uint64_t v;
	int u;

	if (!is_number(s))
		return s;
	v = strtoull(s, NULL, 10);
	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64, v);
		return buf;
	}
	for (u = 0; u < 5 && v >= (UINT64_C(1024) << (10 * (u + 1))); u++)
		;
	if (v % (UINT64_C(1024) << (10 * u)))
		snprintf(buf, len, "%.1f%c", (double)v / (double)(UINT64_C(1024) << (10 * u)),
			 units[u]);
	else
		snprintf(buf, len, "%" PRIu64 "%c", v >> (10 * (u + 1)), units[u]);
	return buf;
}

/*
 * The command of the list, as it was set: debugfs writes "-" for an empty
 * one, and every byte but printable ASCII, and space and backslash, as an
 * octal escape (\ooo), which is undone here.
 */
static void unescape(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	if (!strcmp(s, "-"))
		s = "";
	for (; *s && n + 1 < len; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			buf[n++] = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 3;
		} else {
			buf[n++] = *s;
		}
	}
	buf[n] = 0;
}

/*
 * The command for a terminal: printable ASCII as it is, a backslash as
 * "\\", any other byte as \ooo; "-" when empty.
 */
static void comm_shown(const char *s, char *buf, size_t len)
{
	char raw[64];
	size_t n = 0;
	const unsigned char *p;

	unescape(s, raw, sizeof(raw));
	if (!raw[0])
		snprintf(buf, len, "-");
	else
		buf[0] = 0;
	for (p = (const unsigned char *)raw; *p && n + 5 < len; p++) {
		if (*p == '\\')
			n += snprintf(buf + n, len - n, "\\\\");
		else if (*p < 0x20 || *p >= 0x7f)
			n += snprintf(buf + n, len - n, "\\%03o", *p);
		else
			buf[n++] = *p;
		buf[n] = 0;
	}
}

/* @s with every byte a terminal would act on (below 0x20, 0x7f and up) as '?'. */
static const char *printable(const char *s, char *buf, size_t len)
{
	size_t n;

	for (n = 0; s[n] && n + 1 < len; n++)
		buf[n] = (unsigned char)s[n] < 0x20 || (unsigned char)s[n] >= 0x7f ? '?' : s[n];
	buf[n] = 0;
	return buf;
}

/* The value of a cell, as a table shows it. */
static const char *shown(const struct table *t, size_t row, size_t col, char *buf, size_t len)
{
	const char *name = t->cell[col], *s = cell(t, row, col);
	char raw[64];

	if (is_size_col(name)) {
		snprintf(raw, sizeof(raw), "%s", human_size(s, buf, len));
		return printable(raw, buf, len);
	}
	if (!strcmp(name, "comm")) {
		comm_shown(s, buf, len);
		return buf;
	}
	return printable(s, buf, len);
}

/*
 * Print the columns @first..@last of @t (and column 0 before them), the
 * rows that @want accepts, aligned: names in capitals, numbers right.
 */
static void table_print(const struct table *t, size_t first, size_t last,
			bool (*want)(const struct table *t, size_t row))
{
	size_t width[MAX_COLS] = { 0 }, r, c, n;
	char buf[64];

	for (c = 0; c < t->cols; c++) {
		width[c] = strlen(t->cell[c]);
		for (r = 0; r < t->rows; r++) {
			n = strlen(shown(t, r, c, buf, sizeof(buf)));
			if (n > width[c])
				width[c] = n;
		}
	}
	for (c = 0; c <= last; c = c ? c + 1 : first) {
		printable(t->cell[c], buf, sizeof(buf));
		for (n = 0; buf[n]; n++)
			buf[n] = toupper((unsigned char)buf[n]);
		printf("%s%-*s", c ? "  " : "", c == last ? 0 : (int)width[c], buf);
	}
	printf("\n");
	for (r = 0; r < t->rows; r++) {
		if (want && !want(t, r))
			continue;
		for (c = 0; c <= last; c = c ? c + 1 : first) {
			const char *s = shown(t, r, c, buf, sizeof(buf));
			bool right = is_number(cell(t, r, c)) || is_size_col(t->cell[c]);

			printf("%s%*s", c ? "  " : "",
			       right ? (int)width[c] : (c == last ? 0 : -(int)width[c]), s);
		}
		printf("\n");
	}
}

/* @s as a JSON string. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/*
 * The rows of @t as a JSON array of objects, one member a column: numbers
 * as numbers, "-" (none) and "?" (not known now) as null, a range
 * "0xSTART-0xEND" (phys) as NAME_start and NAME_end (null both otherwise),
 * the command unescaped (an empty one "", each byte past ASCII \u00XX),
 * anything else as a string.
 */
static void table_json_rows(const struct table *t)
{
	unsigned long long start, end;
	size_t r, c;
	char buf[64];
	int n = 0;

	putchar('[');
	for (r = 0; r < t->rows; r++) {
		printf("%s{", r ? "," : "");
		for (c = 0; c < t->cols; c++) {
			const char *name = t->cell[c], *s = cell(t, r, c);

			printf("%s", c ? "," : "");
			if (!strcmp(name, "phys")) {
				if (sscanf(s, "0x%llx-0x%llx%n", &start, &end, &n) == 2 && !s[n])
					printf("\"phys_start\":%llu,\"phys_end\":%llu", start, end);
				else
					printf("\"phys_start\":null,\"phys_end\":null");
				continue;
			}
			json_string(name);
			putchar(':');
			if (!strcmp(name, "comm")) {
				unescape(s, buf, sizeof(buf));
				json_string(buf);
			} else if (is_number(s)) {
				/* No leading zeros in JSON. */
				printf("%llu", strtoull(s, NULL, 10));
			} else if (!strcmp(s, "-") || !strcmp(s, "?")) {
				printf("null");
			} else {
				json_string(s);
			}
		}
		putchar('}');
	}
	putchar(']');
}

/* The rows of @t as the one member @key of a JSON object. */
static void table_json(const struct table *t, const char *key)
{
	printf("{\"%s\":", key);
	table_json_rows(t);
	printf("}\n");
}

/* Options of list and stats: --json, --help. */
static int parse_json(int argc, char **argv, bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ 0 }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			*json = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return EXIT_OK;
		default:
			return option_error(argv, c);
		}
	}
	if (optind < argc)
		return usage_error("%s: unexpected argument '%s'", argv[0], argv[optind]);
	return GO_ON;
}

static int cmd_list(int argc, char **argv)
{
	struct table t;
	bool json = false;
	int ret;

	ret = parse_json(argc, argv, &json);
	if (ret != GO_ON)
		return ret;
	ret = table_read("list", "dataspaces", &t);
	if (ret)
		return ret;
	if (json)
		table_json(&t, "dataspaces");
	else if (!t.rows)
		printf("no dataspaces\n");
	else
		table_print(&t, 1, t.cols - 1, NULL);
	table_free(&t);
	return EXIT_OK;
}

/* The index of the column @name, or @t->cols. */
static size_t column(const struct table *t, const char *name)
{
	size_t c;

	for (c = 0; c < t->cols && strcmp(t->cell[c], name); c++)
		;
	return c;
}

/* The contiguous kinds, whose searches the second table shows. */
static bool contig_row(const struct table *t, size_t row)
{
	return !strncmp(cell(t, row, 0), "contig", 6);
}

static int cmd_stats(int argc, char **argv)
{
	struct table t, pool = { 0 };
	bool json = false, has_pool;
	size_t searches;
	int ret;

	ret = parse_json(argc, argv, &json);
	if (ret != GO_ON)
		return ret;
	ret = table_read("stats", "stats", &t);
	if (ret)
		return ret;
	/* The pool of zeroed memory, where the module has one (1.2 on). */
	has_pool = !access(DEBUGFS_DIR "/pool", F_OK);
	if (has_pool) {
		ret = table_read("stats", "pool", &pool);
		if (ret) {
			table_free(&t);
			return ret;
		}
	}
	searches = column(&t, "searches");
	if (json) {
		printf("{\"kinds\":");
		table_json_rows(&t);
		if (has_pool) {
			printf(",\"pool\":");
			table_json_rows(&pool);
		}
		printf("}\n");
	} else if (searches < 2 || searches == t.cols) {
		table_print(&t, 1, t.cols - 1, NULL);
	} else {
		table_print(&t, 1, searches - 1, NULL);
		printf("\n");
		table_print(&t, searches, t.cols - 1, contig_row);
	}
	if (has_pool && !json) {
		printf("\npool of zeroed memory\n");
		table_print(&pool, 1, pool.cols - 1, NULL);
	}
	table_free(&t);
	if (has_pool)
		table_free(&pool);
	return EXIT_OK;
}

/* libkmod's errors, which are errnos about modules, not about dataspaces. */
static int kmod_fail(int err, const char *what, const char *name)
{
	const char *why;

	switch (-err) {
	case EPERM:
		why = "not permitted: needs CAP_SYS_MODULE (run it as root)";
		break;
	case ENOEXEC:
		why = "not a module for this kernel (see dmesg)";
		break;
	case EBUSY:
	case EAGAIN:
		why = "in use: dataspaces or /dev/memalloc are still open";
		break;
	default:
		why = strerror(-err);
		break;
	}
	fprintf(stderr, "memalloc: %s %s: %s\n", what, name, why);
	return EXIT_FAILED;
}

static struct kmod_ctx *kmod_open(void)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);

	if (!ctx) {
		fprintf(stderr, "memalloc: libkmod: cannot set up a context\n");
		return NULL;
	}
	/* Its log would repeat what the messages here say. */
	kmod_set_log_priority(ctx, 0);
	return ctx;
}

/* Whether the module is loaded, built in or on its way in. */
static bool module_present(struct kmod_ctx *ctx)
{
	struct kmod_module *mod;
	int state;

	if (kmod_module_new_from_name(ctx, MODULE_NAME, &mod) < 0)
		return false;
	state = kmod_module_get_initstate(mod);
	kmod_module_unref(mod);
	return state == KMOD_MODULE_LIVE || state == KMOD_MODULE_COMING ||
	       state == KMOD_MODULE_BUILTIN;
}

/* As modprobe would: the module installed under /lib/modules, and its dependencies. */
static int load_by_name(struct kmod_ctx *ctx)
{
	struct kmod_list *list = NULL;
	struct kmod_module *mod;
	int ret;

	ret = kmod_module_new_from_lookup(ctx, MODULE_NAME, &list);
	if (ret < 0)
		return kmod_fail(ret, "look up", MODULE_NAME);
	if (!list) {
		fprintf(stderr, "memalloc: load %s: not installed where modprobe looks\n",
			MODULE_NAME);
		fputs("(make modules_install, or name the file: memalloc load memalloc.ko)\n",
		      stderr);
		return EXIT_FAILED;
	}
	mod = kmod_module_get_module(list);
	kmod_module_unref_list(list);
	ret = kmod_module_probe_insert_module(mod, KMOD_PROBE_FAIL_ON_LOADED,
					      NULL, NULL, NULL, NULL);
	kmod_module_unref(mod);
	/* Positive: stopped by the configuration, which these flags do not ask for. */
	if (ret > 0)
		ret = -ECANCELED;
	if (ret && ret != -EEXIST)
		return kmod_fail(ret, "load", MODULE_NAME);
	printf(ret ? "%s is already loaded\n" : "loaded %s\n", MODULE_NAME);
	return EXIT_OK;
}

static int load_from_path(struct kmod_ctx *ctx, const char *path)
{
	struct kmod_module *mod;
	int ret;

	ret = kmod_module_new_from_path(ctx, path, &mod);
	if (ret < 0)
		return kmod_fail(ret, "load", path);
	ret = kmod_module_insert_module(mod, 0, NULL);
	kmod_module_unref(mod);
	if (ret && ret != -EEXIST)
		return kmod_fail(ret, "load", path);
	printf(ret ? "%s is already loaded\n" : "loaded %s\n", ret ? MODULE_NAME : path);
	return EXIT_OK;
}

static int cmd_load(int argc, char **argv)
{
	struct kmod_ctx *ctx;
	int ret;

	ret = parse_plain(argc, argv, 1);
	if (ret != GO_ON)
		return ret;
	ctx = kmod_open();
	if (!ctx)
		return EXIT_FAILED;
	if (module_present(ctx)) {
		printf("%s is already loaded\n", MODULE_NAME);
		ret = EXIT_OK;
	} else if (optind < argc) {
		ret = load_from_path(ctx, argv[optind]);
	} else {
		ret = load_by_name(ctx);
	}
	kmod_unref(ctx);
	return ret;
}

static int unload(struct kmod_ctx *ctx)
{
	struct kmod_module *mod;
	int ret;

	ret = kmod_module_new_from_name(ctx, MODULE_NAME, &mod);
	if (ret < 0)
		return kmod_fail(ret, "unload", MODULE_NAME);
	ret = kmod_module_get_initstate(mod);
	if (ret == KMOD_MODULE_BUILTIN) {
		kmod_module_unref(mod);
		fprintf(stderr, "memalloc: unload %s: built into the kernel\n", MODULE_NAME);
		return EXIT_FAILED;
	}
	ret = ret == -ENOENT ? ret : kmod_module_remove_module(mod, 0);
	kmod_module_unref(mod);
	if (ret == -ENOENT) {
		fprintf(stderr, "memalloc: unload %s: not loaded\n", MODULE_NAME);
		return EXIT_FAILED;
	}
	if (ret)
		return kmod_fail(ret, "unload", MODULE_NAME);
	printf("unloaded %s\n", MODULE_NAME);
	return EXIT_OK;
}

static int cmd_unload(int argc, char **argv)
{
	struct kmod_ctx *ctx;
	int ret;

	ret = parse_plain(argc, argv, 0);
	if (ret != GO_ON)
		return ret;
	ctx = kmod_open();
	if (!ctx)
		return EXIT_FAILED;
	ret = unload(ctx);
	kmod_unref(ctx);
	return ret;
}

static int cmd_help(int argc, char **argv)
{
	int ret = parse_plain(argc, argv, 0);

	if (ret != GO_ON)
		return ret;
	usage(stdout);
	return EXIT_OK;
}

/* The tool's release, then the library's (the same unless linked to another). */
static int cmd_version(int argc, char **argv)
{
	int ret = parse_plain(argc, argv, 0);

	if (ret != GO_ON)
		return ret;
	printf("memalloc %s\nlibmemalloc %s\n", MEMALLOC_LIB_VERSION_STRING,
	       memalloc_version_string());
	return EXIT_OK;
}

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "info", cmd_info },
	{ "alloc", cmd_alloc },
	{ "list", cmd_list },
	{ "stats", cmd_stats },
	{ "load", cmd_load },
	{ "unload", cmd_unload },
	{ "help", cmd_help },
	{ "--help", cmd_help },
	{ "-h", cmd_help },
	{ "--version", cmd_version },
};

int main(int argc, char **argv)
{
	size_t i;
	int ret;

	if (argc < 2)
		return usage_error("missing command");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			break;
	if (i == ARRAY_SIZE(commands))
		return usage_error("unknown command '%s'", argv[1]);
	ret = commands[i].run(argc - 1, argv + 1);
	/* Output that never arrived is a failure too (memalloc info >/dev/full). */
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "memalloc: writing the output: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	return ret;
}
