/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memalloc: tracepoints, in the "memalloc" system. observe.c defines them.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM memalloc

#if !defined(_MEMALLOC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _MEMALLOC_TRACE_H

#include <linux/tracepoint.h>

/*
 * A dataspace's kind, as debugfs names it: observe.c's index of the
 * backing, with the caching attribute in bits 4 and 5.
 */
#define memalloc_show_kind(kind)					\
	__print_symbolic(kind, { 0, "lazy" }, { 1, "super" },		\
			 { 2, "pinned" }, { 3, "pinned+super" },	\
			 { 4, "contig" }, { 5, "contig+super" },	\
			 { 0x12, "pinned+wc" }, { 0x22, "pinned+uc" },	\
			 { 0x14, "contig+wc" }, { 0x24, "contig+uc" })

TRACE_EVENT(memalloc_alloc,
	    TP_PROTO(u64 id, u32 kind, u64 size, u32 flags, u32 align, int ret),
	    TP_ARGS(id, kind, size, flags, align, ret),
	    TP_STRUCT__entry(__field(u64, id)
			     __field(u64, size)
			     __field(u32, kind)
			     __field(u32, flags)
			     __field(u32, align)
			     __field(int, ret)),
	    TP_fast_assign(__entry->id = id;
			   __entry->size = size;
			   __entry->kind = kind;
			   __entry->flags = flags;
			   __entry->align = align;
			   __entry->ret = ret;),
	    TP_printk("id=%llu kind=%s size=%llu flags=0x%x align=%u ret=%d",
		      __entry->id, memalloc_show_kind(__entry->kind),
		      __entry->size, __entry->flags, __entry->align, __entry->ret)
);

TRACE_EVENT(memalloc_free,
	    TP_PROTO(u64 id, u32 kind, u64 size, bool revoked),
	    TP_ARGS(id, kind, size, revoked),
	    TP_STRUCT__entry(__field(u64, id)
			     __field(u64, size)
			     __field(u32, kind)
			     __field(bool, revoked)),
	    TP_fast_assign(__entry->id = id;
			   __entry->size = size;
			   __entry->kind = kind;
			   __entry->revoked = revoked;),
	    TP_printk("id=%llu kind=%s size=%llu by=%s",
		      __entry->id, memalloc_show_kind(__entry->kind),
		      __entry->size, __entry->revoked ? "revoke" : "close")
);

TRACE_EVENT(memalloc_contig_search,
	    TP_PROTO(u64 id, u64 size, u32 align, unsigned int tries,
		     unsigned long migrated, int ret, u64 ns),
	    TP_ARGS(id, size, align, tries, migrated, ret, ns),
	    TP_STRUCT__entry(__field(u64, id)
			     __field(u64, size)
			     __field(u64, ns)
			     __field(unsigned long, migrated)
			     __field(u32, align)
			     __field(unsigned int, tries)
			     __field(int, ret)),
	    TP_fast_assign(__entry->id = id;
			   __entry->size = size;
			   __entry->ns = ns;
			   __entry->migrated = migrated;
			   __entry->align = align;
			   __entry->tries = tries;
			   __entry->ret = ret;),
	    TP_printk("id=%llu size=%llu align=%u tries=%u migrated=%lu ret=%d ns=%llu",
		      __entry->id, __entry->size, __entry->align, __entry->tries,
		      __entry->migrated, __entry->ret, __entry->ns)
);

#endif /* _MEMALLOC_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
