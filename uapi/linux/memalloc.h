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
 *   byte in the part the kernel does not know.
 * - EFAULT: the struct is not readable or writable at the given address.
 *
 * The errors of each command are listed with it.
 */

#define MEMALLOC_TYPE 0xB8

/* The API version this header describes; MEMALLOC_VERSION reports the kernel's. */
#define MEMALLOC_API_VERSION 1

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
 * and is charged to its memory cgroup. Kernel 6.1 gives a
 * module no way to charge blocks beyond the page allocator's largest
 * (4 MiB): a caller in a cgroup with a memory.max gets ENOMEM for them.
 *
 * - MEMALLOC_SUPER_PAGES: backed by 2 MiB pages, mapped with PMD entries
 *   where the mapping's address is 2 MiB aligned; lazy, or taken at once
 *   with PINNED (ENOMEM if 2 MiB pages cannot be had). The size is rounded
 *   to 2 MiB and @align raised to 21. With CONTINUOUS it fails with
 *   EOPNOTSUPP: on 6.1 a block the module owns cannot be both PMD-mapped
 *   and usable by get_user_pages() (O_DIRECT).
 *
 * Every mapping is page-backed, so O_DIRECT I/O, vmsplice and other
 * get_user_pages() users work on it. io_uring on 6.1 takes fixed buffers
 * from lazy and unpinned SUPER_PAGES mappings only (EOPNOTSUPP for the
 * others).
 * madvise(MADV_REMOVE) on a mapping fails with EBADF.
 */
#define MEMALLOC_CONTINUOUS	0x01	/* physically contiguous */
#define MEMALLOC_PINNED		0x02	/* eager, never swapped or migrated */
#define MEMALLOC_SUPER_PAGES	0x04	/* backed by huge pages */
#define MEMALLOC_ALLOC_FLAGS_MASK (MEMALLOC_CONTINUOUS | MEMALLOC_PINNED | \
				   MEMALLOC_SUPER_PAGES)

enum {
	MEMALLOC_CMD_VERSION = 0x00,
	MEMALLOC_CMD_ALLOC = 0x01,
	MEMALLOC_CMD_INFO = 0x02,
	MEMALLOC_CMD_ALLOCATE = 0x03,
	MEMALLOC_CMD_PHYS = 0x04
};

/**
 * struct memalloc_version - MEMALLOC_VERSION: what this kernel offers
 * @size: sizeof(struct memalloc_version)
 * @__reserved: must be 0
 * @out_api_version: the kernel's MEMALLOC_API_VERSION
 * @out_alloc_flags: the allocation flags this kernel can honour
 * @out_page_sizes: the backing page sizes it can use; bit n set means 2^n bytes
 *
 * The handshake: a program checks @out_api_version and @out_alloc_flags
 * before it relies on a feature. A flag absent from @out_alloc_flags is
 * refused by MEMALLOC_ALLOC with EOPNOTSUPP.
 */
struct memalloc_version {
	__u32 size;
	__u32 __reserved;
	__u32 out_api_version;
	__u32 out_alloc_flags;
	__aligned_u64 out_page_sizes;
};

#define MEMALLOC_VERSION _IO(MEMALLOC_TYPE, MEMALLOC_CMD_VERSION)

/**
 * struct memalloc_alloc - MEMALLOC_ALLOC: allocate a dataspace
 * @size: sizeof(struct memalloc_alloc)
 * @flags: MEMALLOC_CONTINUOUS, MEMALLOC_PINNED, MEMALLOC_SUPER_PAGES
 * @length: the dataspace's size in bytes, kept exactly; memory is handed
 *          out (and may be mapped) in whole pages
 * @align: log2 of the alignment; raised to at least the page size
 * @fd_flags: flags for the new fd: 0 or O_CLOEXEC
 * @__reserved: must be 0
 * @out_fd: the new dataspace's dma-buf fd
 *
 * With no flag the dataspace is lazy: no memory is taken until a page is
 * first touched, and every page reads as zero until written.
 *
 * Errors: ERANGE (@length is 0, or overflows when rounded up to pages),
 * ENOMEM (more than the machine's RAM, no block to be had, over
 * RLIMIT_MEMLOCK or the memory cgroup's limit), EINVAL (unknown bit in
 * @flags or @fd_flags, @align of 64 or more or above PUD_SHIFT),
 * EOPNOTSUPP (a flag or combination this kernel cannot honour, see
 * MEMALLOC_VERSION), EINTR (a fatal signal arrived; everything taken is
 * given back), EMFILE (no free fd).
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
 * struct memalloc_info - MEMALLOC_INFO: what a dataspace is and holds
 * @size: sizeof(struct memalloc_info)
 * @fd: the dataspace's fd
 * @out_length: the exact byte size it was made with
 * @out_mappable: the bytes that can be mapped: @out_length rounded up to
 *                the backing page size
 * @out_resident: the bytes of memory it holds now
 * @out_flags: the MEMALLOC_* flags it was made with
 * @out_rights: MEMALLOC_RIGHT_R | MEMALLOC_RIGHT_W on this fd
 * @out_page_shift: log2 of the backing page size (12 or 21)
 * @out_info_flags: MEMALLOC_INFO_CONTIGUOUS
 *
 * Errors: EBADF (@fd is not an open fd), EINVAL (@fd is not a dataspace of
 * memalloc).
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
 * Errors: EBADF, EINVAL (as MEMALLOC_INFO), ERANGE (the range reaches past
 * the byte size), ENOMEM (no memory, or over the memory cgroup's limit:
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
 * Errors: EBADF, EINVAL (as MEMALLOC_INFO), EPERM (no CAP_SYS_ADMIN),
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

#endif /* _UAPI_LINUX_MEMALLOC_H */
