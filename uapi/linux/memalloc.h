/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * memalloc: dataspaces with guarantees, handed out as dma-buf fds.
 */
#ifndef _UAPI_LINUX_MEMALLOC_H
#define _UAPI_LINUX_MEMALLOC_H

#include <linux/types.h>
#include <linux/ioctl.h>

/**
 * DOC: memalloc ioctl interface
 *
 * /dev/memalloc is a memory allocator in the sense of L4Re's Mem_alloc. Each
 * allocation is a dataspace, returned as a dma-buf file descriptor: map it
 * with mmap(MAP_SHARED), pass it on with fork() or SCM_RIGHTS, import it into
 * any dma-buf importer, and close() it to drop it. The memory lives while any
 * fd, mapping or device attachment holds it.
 *
 * As a dma-buf, a dataspace offers importers everything the core knows:
 * device mappings (attach, map), CPU access brackets (DMA_BUF_IOCTL_SYNC,
 * dma_buf_begin_cpu_access(): every device mapping of the dataspace is
 * synced), fences (one reservation object for all handles of a dataspace,
 * so that a device's fence on one is seen through every other), user
 * mappings, and kernel mappings (dma_buf_vmap(), with the
 * dataspace's caching attribute). Device and kernel mappings populate
 * every page of a lazy dataspace, charged to the memory cgroup it was
 * allocated from, and hold the dataspace: MEMALLOC_FREE is EBUSY and
 * MEMALLOC_CLEAR zeroes in place while they last. Each dma-buf's exporter
 * name is "memalloc" and its name the dataspace's kind and size, as
 * /proc/PID/fdinfo shows them: "lazy", "super" (lazy SUPER_PAGES),
 * "pinned", "pinned+super", "contig" or "contig+super", then "+wc" or
 * "+uc" for a caching attribute, a colon, and the size asked for, in bytes
 * unless a whole number of KiB, else in the largest of K, M and G that
 * divides it: "pinned:1M", "lazy:4097", "contig+super:2G".
 *
 * Every ioctl takes a pointer to a struct whose first field, @size, is the
 * size of the struct as the caller knows it. The kernel reads the leading
 * @size bytes: a caller built against an older header passes a smaller size,
 * a newer one a larger size whose extra bytes must then be zero. Fields named
 * __reserved must be zero. Output fields are named out_*.
 *
 * Errors common to every ioctl:
 *
 * - ENOTTY: unknown ioctl command.
 * - EINVAL: @size smaller than the first version of the struct, a non-zero
 *   __reserved field, or an unknown bit in a flags field.
 * - E2BIG: @size larger than the struct the kernel knows, with a non-zero
 *   byte in the part the kernel does not know; or @size larger than a page,
 *   whatever the bytes.
 * - EFAULT: the struct is not readable or writable at the given address.
 *
 * The errors of each command are listed with it.
 */

#define MEMALLOC_TYPE 0xB8

/*
 * The API version this header describes; MEMALLOC_VERSION reports the
 * kernel's. 2: MEMALLOC_VERSION's per-kind facts. 3: allocators with
 * quotas (MEMALLOC_FACTORY, MEMALLOC_QUOTA), and EDQUOT from MEMALLOC_ALLOC.
 */
#define MEMALLOC_API_VERSION 3

/**
 * DOC: allocation flags
 *
 * With L4Re's values (L4Re::Mem_alloc::Mem_alloc_flags); memalloc's own
 * flags will start at bit 8. A dataspace has every property asked for, or
 * MEMALLOC_ALLOC fails: nothing is silently downgraded.
 *
 * - no flag: lazy. No memory is taken until a page is first touched; each
 *   page is zeroed then and charged to the toucher's memory cgroup.
 * - MEMALLOC_CONTINUOUS: one physically contiguous block whose start is
 *   aligned to 2^@align bytes, taken and zeroed at allocation. Any size the
 *   machine has free: beyond the page allocator's largest block the module
 *   migrates movable pages out of a range it finds. No CMA area is needed,
 *   nor used (long-term pins of CMA pages never finish on 6.1).
 * - MEMALLOC_PINNED: taken and zeroed at allocation, resident for its whole
 *   life: never swapped, never migrated, never in ZONE_MOVABLE or CMA.
 *
 * CONTINUOUS and PINNED memory is counted against the RLIMIT_MEMLOCK of
 * the allocating process's user, as io_uring counts its buffers (unless it
 * has CAP_IPC_LOCK: ENOMEM past the limit), shows as the process's VmPin,
 * and is charged to its memory cgroup. No kernel gives a module a way to
 * charge blocks beyond the page allocator's largest (4 MiB): a caller in a
 * cgroup with a memory.max or memory.high gets ENOMEM for them.
 *
 * - MEMALLOC_SUPER_PAGES: backed by 2 MiB pages, mapped with PMD entries
 *   where the mapping's address is 2 MiB aligned; lazy, or taken at once
 *   with PINNED (ENOMEM if 2 MiB pages cannot be had). The size is rounded
 *   to 2 MiB and @align raised to 21. With CONTINUOUS: one block mapped by
 *   pfn with 2 MiB entries where the kernel allows it (MEMALLOC_VERSION's
 *   MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES; 6.12), which no get_user_pages()
 *   user takes (EFAULT); EOPNOTSUPP elsewhere (6.1), where a block the
 *   module owns cannot be both PMD-mapped and usable by get_user_pages().
 *   Where huge pages are disabled for the process (PR_SET_THP_DISABLE),
 *   mmap() of an eager SUPER_PAGES dataspace fails with EINVAL, and after
 *   MADV_NOHUGEPAGE new faults of it get SIGBUS: never 4 KiB entries.
 *
 * Every mapping of cached memory but CONTINUOUS SUPER_PAGES is
 * page-backed, so O_DIRECT I/O, vmsplice and other get_user_pages() users
 * work on it (see the caching attributes below for the exception).
 * io_uring on 6.1 takes fixed buffers from lazy and unpinned SUPER_PAGES
 * mappings only (EOPNOTSUPP for the others); MEMALLOC_VERSION tells.
 * madvise(MADV_REMOVE) on a mapping fails with EBADF. remap_file_pages()
 * on a mapping of a PINNED SUPER_PAGES dataspace fails: with EACCES on a
 * writable mapping, with ENODEV on another, whose range is then unmapped
 * (the pins and their charge belong to memalloc's mappings only).
 *
 * memalloc's own flags, bits 8 and 9, are the caching attribute of the
 * dataspace's mappings: MEMALLOC_CACHED (0, write-back), or
 * MEMALLOC_WRITE_COMBINE or MEMALLOC_UNCACHED for memory a device reads
 * or writes without snooping the CPU's caches. Only for CONTINUOUS or
 * PINNED dataspaces without SUPER_PAGES (EOPNOTSUPP otherwise: memory
 * that moves cannot keep an attribute); the kernel's own mapping of the
 * memory takes the same attribute while the dataspace lives. The value
 * MEMALLOC_CACHING_MASK (0x300) is EINVAL. As in L4Re, the weaker of
 * dataspace and request wins: MEMALLOC_DUP takes a stronger request and
 * keeps the dataspace's attribute, and refuses a weaker one with
 * EOPNOTSUPP, which would map the memory with two memory types at once
 * (undefined on x86). Choose the attribute when allocating. Mappings of
 * such memory are pfn mappings, not page-backed: get_user_pages() users
 * (O_DIRECT, vmsplice, io_uring fixed buffers) get EFAULT from them, as
 * they would map the memory write-back; KVM maps their pfns into a guest
 * all the same, so such memory must not back guest memory.
 */
#define MEMALLOC_CONTINUOUS	0x01	/* physically contiguous */
#define MEMALLOC_PINNED		0x02	/* eager, never swapped or migrated */
#define MEMALLOC_SUPER_PAGES	0x04	/* backed by huge pages */
#define MEMALLOC_CACHED		0x000	/* write-back, the default */
#define MEMALLOC_WRITE_COMBINE	0x100	/* L4Re's "bufferable" */
#define MEMALLOC_UNCACHED	0x200
#define MEMALLOC_CACHING_MASK	0x300
#define MEMALLOC_ALLOC_FLAGS_MASK (MEMALLOC_CONTINUOUS | MEMALLOC_PINNED | \
				   MEMALLOC_SUPER_PAGES | MEMALLOC_CACHING_MASK)

enum {
	MEMALLOC_CMD_VERSION = 0x00,
	MEMALLOC_CMD_ALLOC = 0x01,
	MEMALLOC_CMD_INFO = 0x02,
	MEMALLOC_CMD_ALLOCATE = 0x03,
	MEMALLOC_CMD_PHYS = 0x04,
	MEMALLOC_CMD_DUP = 0x05,
	MEMALLOC_CMD_FREE = 0x06,
	MEMALLOC_CMD_CLEAR = 0x07,
	MEMALLOC_CMD_COPY_IN = 0x08,
	MEMALLOC_CMD_FACTORY = 0x09,
	MEMALLOC_CMD_QUOTA = 0x0a
};

/*
 * Kinds of dataspace, for the per-kind facts of MEMALLOC_VERSION: a fact's
 * bit n set means it holds for that kind, on this kernel.
 */
#define MEMALLOC_KIND_LAZY			0x01	/* no flag */
#define MEMALLOC_KIND_SUPER_PAGES		0x02	/* SUPER_PAGES, lazy */
#define MEMALLOC_KIND_PINNED			0x04	/* PINNED */
#define MEMALLOC_KIND_PINNED_SUPER_PAGES	0x08	/* PINNED | SUPER_PAGES */
#define MEMALLOC_KIND_CONTIGUOUS		0x10	/* CONTINUOUS (and PINNED) */
#define MEMALLOC_KIND_CONTIGUOUS_SUPER_PAGES	0x20	/* CONTINUOUS | SUPER_PAGES */
#define MEMALLOC_KIND_CACHING			0x40	/* a caching attribute */

/**
 * struct memalloc_version - MEMALLOC_VERSION: what this kernel offers
 * @size: sizeof(struct memalloc_version)
 * @__reserved: must be 0
 * @out_api_version: the kernel's MEMALLOC_API_VERSION
 * @out_alloc_flags: the allocation flags this kernel can honour, caching
 *                   attributes included
 * @out_page_sizes: the backing page sizes it can use; bit n set means 2^n bytes
 * @out_kinds: the MEMALLOC_KIND_* this kernel can allocate
 * @out_gup_kinds: the kinds whose mappings get_user_pages() users (O_DIRECT,
 *                 vmsplice, RDMA) take
 * @out_io_uring_kinds: the kinds whose mappings io_uring registers as
 *                      fixed buffers
 * @out_pmd_kinds: the kinds mapped with 2 MiB (PMD) entries where the
 *                 mapping's address is 2 MiB aligned
 * @out_pud_kinds: the kinds mapped with 1 GiB (PUD) entries, with @align of
 *                 30 or more, a size that is a multiple of 1 GiB and a
 *                 mapping at a 1 GiB-aligned address
 * @__reserved2: must be 0
 *
 * The handshake: a program checks @out_api_version and @out_alloc_flags
 * before it relies on a feature. A flag absent from @out_alloc_flags is
 * refused by MEMALLOC_ALLOC with EOPNOTSUPP. The per-kind facts (since API
 * version 2) say what differs between kernels: a program plans for them
 * instead of guessing from the kernel's version.
 */
struct memalloc_version {
	__u32 size;
	__u32 __reserved;
	__u32 out_api_version;
	__u32 out_alloc_flags;
	__aligned_u64 out_page_sizes;
	__u32 out_kinds;
	__u32 out_gup_kinds;
	__u32 out_io_uring_kinds;
	__u32 out_pmd_kinds;
	__u32 out_pud_kinds;
	__u32 __reserved2;
};

/* The size of the first version of struct memalloc_version (API 1). */
#define MEMALLOC_VERSION_SIZE_VER0 24

#define MEMALLOC_VERSION _IO(MEMALLOC_TYPE, MEMALLOC_CMD_VERSION)

/**
 * struct memalloc_alloc - MEMALLOC_ALLOC: allocate a dataspace
 * @size: sizeof(struct memalloc_alloc)
 * @flags: MEMALLOC_CONTINUOUS, MEMALLOC_PINNED, MEMALLOC_SUPER_PAGES
 * @length: the dataspace's size in bytes, kept exactly; memory is handed
 *          out (and may be mapped) in whole pages
 * @align: log2 of the alignment; raised to at least the page size (2 MiB
 *         with MEMALLOC_SUPER_PAGES), and the raised value written back
 * @fd_flags: flags for the new fd: 0 or O_CLOEXEC
 * @__reserved: must be 0
 * @out_fd: the new dataspace's dma-buf fd
 *
 * With no flag the dataspace is lazy: no memory is taken until a page is
 * first touched, and every page reads as zero until written.
 *
 * Errors: ERANGE (@length is 0, or overflows when rounded up to pages),
 * ENOMEM (more than the machine's RAM, no block to be had, no room left
 * for the handle's kernel objects, over RLIMIT_MEMLOCK or the memory
 * cgroup's limit, or over the quota of the
 * allocator, see "allocators and quotas"), EDQUOT (CONTINUOUS memory over
 * an administrator's limit, see "allocators and quotas"), EINVAL (unknown bit in
 * @flags or @fd_flags, the caching value 0x300, @align of 64 or more or
 * above PUD_SHIFT),
 * EOPNOTSUPP (a flag or combination this kernel cannot honour, see
 * MEMALLOC_VERSION), EINTR (a fatal signal arrived; everything taken is
 * given back), EMFILE (no free fd), EBADF (/dev/memalloc was opened
 * without write access: reading it tells what it offers, allocating
 * needs it open for writing).
 */
struct memalloc_alloc {
	__u32 size;
	__u32 flags;
	__aligned_u64 length;
	__u32 align;
	__u32 fd_flags;
	__u32 __reserved;
	__s32 out_fd;
};

#define MEMALLOC_ALLOC _IO(MEMALLOC_TYPE, MEMALLOC_CMD_ALLOC)

/* Rights, with L4Re's values (L4_FPAGE_RO, ...). */
#define MEMALLOC_RIGHT_X	0x1
#define MEMALLOC_RIGHT_W	0x2
#define MEMALLOC_RIGHT_R	0x4

/* struct memalloc_info out_info_flags */
#define MEMALLOC_INFO_CONTIGUOUS	0x1	/* one physically contiguous block */

/**
 * DOC: handles and revocation
 *
 * Each fd MEMALLOC_ALLOC returns is a handle of the dataspace with the
 * rights MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W. MEMALLOC_DUP makes another
 * handle, a dma-buf fd of its own, with fewer rights. A read-only handle
 * refuses PROT_WRITE mappings with EACCES, as a file opened O_RDONLY does,
 * also when an importer maps it; it lends the memory to devices for
 * reading only (DMA_TO_DEVICE, else EACCES); and it refuses
 * MEMALLOC_CLEAR, MEMALLOC_COPY_IN into it and MEMALLOC_FREE. A kernel
 * importer's dma_buf_vmap() of it succeeds, and the kernel mapping is
 * writable: a vmap has no direction to check, and the dma-buf core takes
 * a failed vmap for an exporter's bug and warns; the mode binds user space
 * and devices, a driver mapping a buffer is trusted as the kernel is.
 * For the same reason a vmap is not interrupted by signals, and clears in
 * flight delay it by one punch at most. It fails, and the core warns as
 * for any exporter, only with ENODEV for a revoked dataspace, which an
 * importer holding an attachment never sees (the attachment holds the
 * dataspace against revocation), and with ENOMEM, for a lazy dataspace
 * over the limit of the memory cgroup it was allocated from.
 * fork() and SCM_RIGHTS pass a handle as it is.
 *
 * MEMALLOC_FREE is L4Re's Mem_alloc::free() of 2013: it revokes the
 * dataspace for every holder of every handle. Its CPU mappings are zapped
 * (a later access gets SIGBUS), its memory and the charges for it are given
 * back at once. The fds stay open, but every command on them, mmap() and
 * device import answer ENODEV. While a device holds an attachment of any
 * handle, or a kernel importer a mapping (vmap), it refuses with EBUSY.
 * Pages that a get_user_pages() user holds (O_DIRECT in flight, io_uring
 * fixed buffers, a pipe after vmsplice()) stay with that user until it
 * lets go of them; the quota and the administrator's limits are credited
 * back all the same.
 *
 * Every command that takes a dataspace fd answers EBADF when @fd is not an
 * open fd, EINVAL when it is not a memalloc dataspace, and ENODEV when the
 * dataspace was revoked.
 */

/**
 * struct memalloc_info - MEMALLOC_INFO: what a dataspace is and holds
 * @size: sizeof(struct memalloc_info)
 * @fd: the dataspace's fd
 * @out_length: the exact byte size it was made with
 * @out_mappable: the bytes that can be mapped: @out_length rounded up to
 *                the backing page size
 * @out_resident: the bytes of memory it holds now
 * @out_flags: the MEMALLOC_* flags it was made with
 * @out_rights: MEMALLOC_RIGHT_R, and MEMALLOC_RIGHT_W unless @fd is a
 *              read-only handle
 * @out_page_shift: log2 of the page size it is mapped with: 12, 21, or 30
 *                  for contiguous super pages of whole GiBs aligned to
 *                  1 GiB where MEMALLOC_VERSION's @out_pud_kinds has them
 * @out_info_flags: MEMALLOC_INFO_CONTIGUOUS
 * @out_caching: the caching attribute of mappings made through @fd, which
 *               every handle takes from its dataspace
 * @out_align: log2 of its alignment, as MEMALLOC_ALLOC raised it: of the
 *             physical start of a CONTINUOUS dataspace, and of the virtual
 *             address a library chooses for a mapping
 *
 * Errors: EBADF, EINVAL, ENODEV (see "handles and revocation").
 */
struct memalloc_info {
	__u32 size;
	__s32 fd;
	__aligned_u64 out_length;
	__aligned_u64 out_mappable;
	__aligned_u64 out_resident;
	__u32 out_flags;
	__u32 out_rights;
	__u32 out_page_shift;
	__u32 out_info_flags;
	__u32 out_caching;
	__u32 out_align;
};

#define MEMALLOC_INFO _IO(MEMALLOC_TYPE, MEMALLOC_CMD_INFO)

/**
 * struct memalloc_allocate - MEMALLOC_ALLOCATE: populate a range
 * @size: sizeof(struct memalloc_allocate)
 * @fd: the dataspace's fd
 * @offset: the range's start, in bytes
 * @length: the range's length, in bytes; 0 does nothing
 *
 * L4Re's Dataspace::allocate(): takes, zeroes and charges the memory of at
 * least the pages the range touches, so that later access does not fault
 * it in. Eager dataspaces hold all their memory already.
 *
 * Errors: EBADF, EINVAL, ENODEV (as MEMALLOC_INFO), ERANGE (the range
 * reaches past the byte size), ENOMEM (no memory, or over the memory cgroup's limit:
 * the caller is not OOM-killed), EINTR (a fatal signal arrived; what was
 * taken stays with the dataspace).
 */
struct memalloc_allocate {
	__u32 size;
	__s32 fd;
	__aligned_u64 offset;
	__aligned_u64 length;
};

#define MEMALLOC_ALLOCATE _IO(MEMALLOC_TYPE, MEMALLOC_CMD_ALLOCATE)

/**
 * struct memalloc_phys - MEMALLOC_PHYS: the physical address of an offset
 * @size: sizeof(struct memalloc_phys)
 * @fd: the dataspace's fd
 * @offset: a byte offset into the dataspace
 * @out_addr: the physical address of @offset (its offset in the page kept)
 * @out_length: the bytes of the physically contiguous run from there,
 *              ending at most at the byte size (L4Re: phys(123) of a
 *              1024-byte contiguous dataspace gives 901)
 *
 * L4Re's Dataspace::phys(), for CONTINUOUS and PINNED dataspaces, whose
 * memory never moves. Only for callers with CAP_SYS_ADMIN in the initial
 * user namespace: physical addresses are never shown to others.
 *
 * Errors: EBADF, EINVAL, ENODEV (as MEMALLOC_INFO), EPERM (no CAP_SYS_ADMIN),
 * EINVAL (a lazy dataspace: its memory may move), ERANGE (@offset at or
 * past the byte size).
 */
struct memalloc_phys {
	__u32 size;
	__s32 fd;
	__aligned_u64 offset;
	__aligned_u64 out_addr;
	__aligned_u64 out_length;
};

#define MEMALLOC_PHYS _IO(MEMALLOC_TYPE, MEMALLOC_CMD_PHYS)

/**
 * struct memalloc_dup - MEMALLOC_DUP: another handle, with fewer rights
 * @size: sizeof(struct memalloc_dup)
 * @fd: a handle of the dataspace
 * @rights: the new handle's rights: MEMALLOC_RIGHT_R, or MEMALLOC_RIGHT_R |
 *          MEMALLOC_RIGHT_W
 * @caching: MEMALLOC_CACHED, MEMALLOC_WRITE_COMBINE or MEMALLOC_UNCACHED;
 *           the weaker of this and @fd's attribute wins, which must be
 *           @fd's own
 * @fd_flags: flags for the new fd: 0 or O_CLOEXEC
 * @out_fd: the new handle
 *
 * Errors: EBADF, EINVAL, ENODEV (as MEMALLOC_INFO), EINVAL (@rights
 * without MEMALLOC_RIGHT_R or with an unknown bit, an unknown @caching
 * value or bit in @fd_flags), EACCES (MEMALLOC_RIGHT_W asked of a read-only
 * handle), EOPNOTSUPP (@caching weaker than @fd's, see "allocation
 * flags"), EMFILE, ENOMEM (no memory for the new handle, or its memory
 * cgroup is at its limit).
 */
struct memalloc_dup {
	__u32 size;
	__s32 fd;
	__u32 rights;
	__u32 caching;
	__u32 fd_flags;
	__s32 out_fd;
};

#define MEMALLOC_DUP _IO(MEMALLOC_TYPE, MEMALLOC_CMD_DUP)

/**
 * struct memalloc_free - MEMALLOC_FREE: revoke a dataspace
 * @size: sizeof(struct memalloc_free)
 * @fd: a handle of the dataspace, with MEMALLOC_RIGHT_W
 *
 * See "handles and revocation". @fd stays open; close() it as ever.
 *
 * Errors: EBADF, EINVAL, ENODEV (as MEMALLOC_INFO; ENODEV also when it was
 * revoked already), EACCES (a read-only handle), EBUSY (a device holds an
 * attachment: nothing changed), EINTR (a fatal signal arrived while it
 * waited for the dataspace: nothing changed).
 */
struct memalloc_free {
	__u32 size;
	__s32 fd;
};

#define MEMALLOC_FREE _IO(MEMALLOC_TYPE, MEMALLOC_CMD_FREE)

/**
 * struct memalloc_clear - MEMALLOC_CLEAR: zero a range
 * @size: sizeof(struct memalloc_clear)
 * @fd: a handle of the dataspace, with MEMALLOC_RIGHT_W
 * @offset: the range's start, in bytes
 * @length: the range's length, in bytes; clamped to the mappable size
 *
 * L4Re's Dataspace::clear(). The whole pages a lazy dataspace holds in the
 * range are given back (MEMALLOC_INFO's @out_resident drops) and read as
 * zero when touched again; eager dataspaces are zeroed in place, and so is
 * a lazy one while a device holds an attachment or the kernel a mapping
 * (as MEMALLOC_FREE, clear takes no memory from under a device).
 *
 * Errors: EBADF, EINVAL, ENODEV (as MEMALLOC_INFO), EACCES (a read-only
 * handle), ERANGE (@offset at or past the mappable size), ENOMEM (zeroing a
 * lazy dataspace in place, while a device holds it, takes the pages it
 * lacks: no memory, or over the memory cgroup's limit), EINTR (a fatal
 * signal arrived while the range was zeroed in place: part of it is).
 */
struct memalloc_clear {
	__u32 size;
	__s32 fd;
	__aligned_u64 offset;
	__aligned_u64 length;
};

#define MEMALLOC_CLEAR _IO(MEMALLOC_TYPE, MEMALLOC_CMD_CLEAR)

/**
 * struct memalloc_copy_in - MEMALLOC_COPY_IN: copy from another dataspace
 * @size: sizeof(struct memalloc_copy_in)
 * @fd: the destination's handle, with MEMALLOC_RIGHT_W
 * @dst_offset: where to copy to, in bytes
 * @src_fd: the source's handle: a dataspace of memalloc, @fd's too
 * @__reserved: must be 0
 * @src_offset: where to copy from, in bytes
 * @length: the bytes to copy; clamped to what both byte sizes hold
 *          past the offsets: an offset at or past its dataspace's byte
 *          size copies nothing, and is no error (as L4Re's Moe)
 *
 * L4Re's Dataspace::copy_in(). Overlapping ranges of one dataspace are
 * copied as memmove() would. Source pages a lazy dataspace does not hold
 * read as zero and are not allocated.
 *
 * Errors: EBADF, ENODEV (@fd, as MEMALLOC_INFO), EINVAL (@fd or @src_fd is
 * not a dataspace of memalloc, or @src_fd is not an open fd), ENODEV (either
 * was revoked), EACCES (@fd is read-only), ENOMEM (no memory for the destination's
 * pages, or over the memory cgroup's limit), EINTR (a fatal signal
 * arrived: part of the range is copied), EIO (the source could not be read).
 */
struct memalloc_copy_in {
	__u32 size;
	__s32 fd;
	__aligned_u64 dst_offset;
	__s32 src_fd;
	__u32 __reserved;
	__aligned_u64 src_offset;
	__aligned_u64 length;
};

#define MEMALLOC_COPY_IN _IO(MEMALLOC_TYPE, MEMALLOC_CMD_COPY_IN)

/**
 * DOC: allocators and quotas
 *
 * Every open of /dev/memalloc is an allocator without a limit of its own
 * (L4Re's Mem_alloc): what it hands out is bounded by the caller's memory
 * cgroup, RLIMIT_MEMLOCK and the administrator's limits. MEMALLOC_FACTORY
 * on an allocator makes a child allocator with a byte quota, as L4Re's
 * Moe does (a Mem_alloc is a Factory): an fd that takes every ioctl
 * /dev/memalloc takes, and may be passed to another process (SCM_RIGHTS)
 * and used there without access to /dev/memalloc.
 *
 * - The child's quota is reserved from its parent's when the child is made:
 *   ENOMEM where the parent's limit cannot cover it. It is given back to
 *   the parent when the child goes.
 * - Every dataspace made through an allocator counts against its quota at
 *   its rounded size (lazy ones too, untouched or not): ENOMEM past it. It
 *   is credited back when the dataspace's memory goes back: at once at
 *   MEMALLOC_FREE, which lets the allocator go too, or when its last fd,
 *   CPU mapping, device attachment and kernel mapping are all gone (a
 *   lazy dataspace's mappings keep its memory, and the charge, after its
 *   last fd is closed; an eager one's hold the dataspace).
 * - A child is always limited (a quota of 0 is EINVAL), so no unlimited
 *   allocator exists under a limited one; children nest at most
 *   MEMALLOC_FACTORY_MAX_DEPTH deep (ENOSPC past that).
 * - Closing an allocator's last fd stops it making anything; its
 *   dataspaces live on, still charged to it, and its quota (with its own
 *   children's) returns to its parent when the last of them is gone or
 *   revoked. To take memory back from a holder, revoke it (MEMALLOC_FREE).
 *
 * The administrator bounds what callers without CAP_SYS_ADMIN in the
 * initial user namespace hold of
 * CONTINUOUS memory, the scarce kind (each block makes the next one
 * harder to find), with the module's parameters, readable in
 * /sys/module/memalloc/parameters/ and writable by root at any time (a
 * lower limit refuses new allocations and leaves existing ones alone):
 * contig_total_max, the bytes all such callers together may hold, and
 * contig_user_max, the bytes each user may hold: its real uid, or in a
 * user namespace the user who made the outermost one. A block counts at
 * its size or its alignment, whichever is larger. Past either,
 * MEMALLOC_ALLOC fails with EDQUOT, checked before the quota, so a caller
 * can tell the policy from a machine without memory. Callers with
 * CAP_SYS_ADMIN are exempt and not counted. Both take decimal bytes with
 * an optional K, M or G; anything else, or past 2^64, is EINVAL.
 */

/*
 * fstatfs()'s f_type of a child allocator's fd, which tells it from any
 * other file (/dev/memalloc itself is a character device).
 */
#define MEMALLOC_ALLOCATOR_MAGIC	0x6d656d61	/* "mema" */

/* How deep child allocators nest below an open of /dev/memalloc. */
#define MEMALLOC_FACTORY_MAX_DEPTH	16
/* MEMALLOC_QUOTA's @out_limit of an allocator without a limit. */
#define MEMALLOC_QUOTA_UNLIMITED	(~(__u64)0)

/**
 * struct memalloc_factory - MEMALLOC_FACTORY: a child allocator with a quota
 * @size: sizeof(struct memalloc_factory)
 * @fd_flags: flags for the new fd: 0 or O_CLOEXEC
 * @quota: the child's limit in bytes, from 1 to 2^63 - 1 (L4Re's quota is
 *         a signed long: a value that is 0 or negative there is EINVAL)
 * @out_fd: the child allocator's fd
 * @__reserved: must be 0
 *
 * On /dev/memalloc or an allocator fd opened for writing.
 *
 * Errors: EINVAL (@quota 0 or above 2^63 - 1, unknown @fd_flags), ENOMEM
 * (the parent's quota cannot cover @quota, or no memory for the child and
 * its file: the machine's or the memory cgroup's end of memory),
 * ENOSPC (the parent is MEMALLOC_FACTORY_MAX_DEPTH deep already), EBADF
 * (the allocator is not open for writing), EMFILE (no free fd), ENFILE
 * (the system's limit on open files).
 */
struct memalloc_factory {
	__u32 size;
	__u32 fd_flags;
	__aligned_u64 quota;
	__s32 out_fd;
	__u32 __reserved;
};

#define MEMALLOC_FACTORY _IO(MEMALLOC_TYPE, MEMALLOC_CMD_FACTORY)

/**
 * struct memalloc_quota - MEMALLOC_QUOTA: an allocator's limit and use
 * @size: sizeof(struct memalloc_quota)
 * @__reserved: must be 0
 * @out_limit: its quota in bytes; MEMALLOC_QUOTA_UNLIMITED for an open of
 *             /dev/memalloc
 * @out_used: the bytes charged to it: its dataspaces' rounded sizes and
 *            its children's quotas
 * @out_available: what it can still hand out: @out_limit - @out_used, or
 *                 MEMALLOC_QUOTA_UNLIMITED
 * @out_peak: the highest @out_used has been
 * @out_children: the part of @out_used reserved by child allocators
 * @out_id: the allocator's number, as the debugfs list of dataspaces shows
 *          it, unique while the module is loaded
 * @out_count: its live dataspaces by kind: entry n counts the kind whose
 *             MEMALLOC_KIND_* value is 1 << n (a caching attribute aside)
 *
 * L4Re's Moe shows limit, used and available in its debug view. On
 * /dev/memalloc or an allocator fd; the numbers are the allocator's own,
 * not its children's (whose quotas count whole in @out_children).
 */
struct memalloc_quota {
	__u32 size;
	__u32 __reserved;
	__aligned_u64 out_limit;
	__aligned_u64 out_used;
	__aligned_u64 out_available;
	__aligned_u64 out_peak;
	__aligned_u64 out_children;
	__aligned_u64 out_id;
	__u32 out_count[8];
};

#define MEMALLOC_QUOTA _IO(MEMALLOC_TYPE, MEMALLOC_CMD_QUOTA)

#endif /* _UAPI_LINUX_MEMALLOC_H */
