// SPDX-License-Identifier: GPL-2.0
/*
 * memalloc: the operations on a dataspace, L4Re's Dataspace interface.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>

#include "memalloc.h"

/**
 * DOC: dataspace operations
 *
 * Each command names the dataspace by a handle's fd and works under the
 * dataspace's lock held for reading, so that revocation waits for it, and
 * reaches the memory through the dataspace's backing: pages written are
 * allocated and charged to the caller's memory cgroup where absent; pages
 * read stay absent, reading as zero.
 */

/* Page @index of @ds with a reference, taken (zeroed) if absent. */
static struct page *memalloc_ds_page(struct memalloc_ds *ds, pgoff_t index)
{
	lockdep_assert_held(&ds->lock);
	return ds->backing->page(ds, index);
}

/**
 * memalloc_ds_info() - MEMALLOC_INFO: describe a dataspace
 * @ucmd: the call, holding a struct memalloc_info
 *
 * Context: process context.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_info(struct memalloc_ucmd *ucmd)
{
	struct memalloc_info *cmd = ucmd->cmd;
	struct memalloc_handle *h;
	struct memalloc_ds *ds;

	h = memalloc_handle_get_live(cmd->fd);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ds = h->ds;
	cmd->out_length = ds->size;
	cmd->out_mappable = (u64)ds->npages << PAGE_SHIFT;
	cmd->out_resident = ds->backing->resident(ds);
	cmd->out_flags = ds->flags;
	cmd->out_rights = MEMALLOC_RIGHT_R;
	if (memalloc_handle_writable(h))
		cmd->out_rights |= MEMALLOC_RIGHT_W;
	cmd->out_page_shift = memalloc_ds_page_shift(ds);
	cmd->out_info_flags = ds->flags & MEMALLOC_CONTINUOUS ? MEMALLOC_INFO_CONTIGUOUS : 0;
	cmd->out_caching = ds->flags & MEMALLOC_CACHING_MASK;
	cmd->out_align = ds->align;
	memalloc_handle_put_live(h);
	return memalloc_ucmd_respond(ucmd, sizeof(*cmd));
}

/**
 * memalloc_ds_allocate() - MEMALLOC_ALLOCATE: populate a range
 * @ucmd: the call, holding a struct memalloc_allocate
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_allocate(struct memalloc_ucmd *ucmd)
{
	struct memalloc_allocate *cmd = ucmd->cmd;
	struct memalloc_handle *h;
	struct memalloc_ds *ds;
	struct page *page;
	pgoff_t i, last;
	u64 end;
	int ret = 0;

	h = memalloc_handle_get_live(cmd->fd);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ds = h->ds;
	if (check_add_overflow(cmd->offset, cmd->length, &end) || end > ds->size) {
		ret = -ERANGE;
		goto out;
	}
	/* Eager dataspaces hold all their pages already. */
	if (!cmd->length || ds->backing->eager)
		goto out;
	last = (end - 1) >> PAGE_SHIFT;
	for (i = cmd->offset >> PAGE_SHIFT; i <= last; i++) {
		page = memalloc_ds_page(ds, i);
		if (IS_ERR(page)) {
			ret = PTR_ERR(page);
			break;
		}
		put_page(page);
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
out:
	memalloc_handle_put_live(h);
	return ret;
}

/**
 * memalloc_ds_phys() - MEMALLOC_PHYS: the physical address of an offset
 * @ucmd: the call, holding a struct memalloc_phys
 *
 * Context: process context.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_phys(struct memalloc_ucmd *ucmd)
{
	struct memalloc_phys *cmd = ucmd->cmd;
	struct memalloc_handle *h;
	struct memalloc_ds *ds;
	int ret = 0;

	/* Before anything else: physical addresses are for the admin only. */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	h = memalloc_handle_get_live(cmd->fd);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ds = h->ds;
	if (!ds->backing->phys)
		ret = -EINVAL;
	else if (cmd->offset >= ds->size)
		ret = -ERANGE;
	else
		ds->backing->phys(ds, cmd->offset, &cmd->out_addr, &cmd->out_length);
	memalloc_handle_put_live(h);
	if (!ret)
		ret = memalloc_ucmd_respond(ucmd, sizeof(*cmd));
	return ret;
}

/* Write @n bytes from @buf (zeroes if NULL) to @offset of @ds, within one page. */
static int memalloc_write_chunk(struct memalloc_ds *ds, u64 offset,
				const void *buf, unsigned int n)
{
	struct page *page = memalloc_ds_page(ds, offset >> PAGE_SHIFT);

	if (IS_ERR(page))
		return PTR_ERR(page);
	if (buf)
		memcpy_to_page(page, offset_in_page(offset), buf, n);
	else
		memzero_page(page, offset_in_page(offset), n);
	put_page(page);
	return 0;
}

/* Zero a range in place, page by page. */
static int memalloc_zero_range(struct memalloc_ds *ds, u64 offset, u64 len)
{
	unsigned int n;
	int ret;

	while (len) {
		n = min_t(u64, len, PAGE_SIZE - offset_in_page(offset));
		ret = memalloc_write_chunk(ds, offset, NULL, n);
		if (ret)
			return ret;
		offset += n;
		len -= n;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/**
 * memalloc_ds_clear() - MEMALLOC_CLEAR: zero a range
 * @ucmd: the call, holding a struct memalloc_clear
 *
 * A lazy dataspace's whole pages in the range are punched out (its
 * backing's punch), which zeroes the partial pages at the edges and unmaps
 * the rest;
 * while a device attachment or a kernel mapping holds the dataspace, or
 * waits to (memalloc_ds_hold()), whose pages a punch would take from under
 * it, the range is zeroed in place instead, as in an eager one.
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_clear(struct memalloc_ucmd *ucmd)
{
	struct memalloc_clear *cmd = ucmd->cmd;
	struct memalloc_handle *h;
	struct memalloc_ds *ds;
	u64 mappable, len = 0;
	bool punch = false;
	int ret = 0;

	h = memalloc_handle_get(cmd->fd);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ds = h->ds;
	ret = memalloc_ds_lock_live(ds);
	if (ret)
		goto out_put;
	mappable = (u64)ds->npages << PAGE_SHIFT;
	if (!memalloc_handle_writable(h))
		ret = -EACCES;
	else if (cmd->offset >= mappable)
		ret = -ERANGE;
	if (ret)
		goto out;
	len = min(cmd->length, mappable - cmd->offset);
	/*
	 * Lazy memory is punched out, eager or held memory zeroed in place;
	 * nothing takes hold of it until the punch is done.
	 */
	punch = len && ds->backing->punch && memalloc_ds_punch_begin(ds);
	if (len && !punch)
		ret = memalloc_zero_range(ds, cmd->offset, len);
out:
	up_read(&ds->lock);
	/*
	 * Not under ds->lock: the fs's locks rank above mmap_lock, which
	 * ranks above ds->lock. A revocation meanwhile truncated the file
	 * to nothing, where a hole changes nothing.
	 */
	if (punch) {
		ret = ds->backing->punch(ds, cmd->offset, len);
		memalloc_ds_punch_end(ds);
	}
out_put:
	memalloc_handle_put(h);
	return ret;
}

/*
 * Copy through a bounce page, chunk by chunk, each chunk within one page of
 * both sides; from the end when the destination overlaps the source from
 * above, as memmove() does.
 */
static int memalloc_copy(struct memalloc_ds *dst, u64 dst_off,
			 struct memalloc_ds *src, u64 src_off, u64 len)
{
	bool backward = dst == src && dst_off > src_off && dst_off - src_off < len;
	unsigned int n, d_room, s_room;
	u64 d, s;
	void *buf;
	int ret = 0;

	buf = (void *)__get_free_page(MEMALLOC_OBJ_GFP);
	if (!buf)
		return -ENOMEM;
	while (len) {
		if (backward) {
			d_room = offset_in_page(dst_off + len) ?: PAGE_SIZE;
			s_room = offset_in_page(src_off + len) ?: PAGE_SIZE;
		} else {
			d_room = PAGE_SIZE - offset_in_page(dst_off);
			s_room = PAGE_SIZE - offset_in_page(src_off);
		}
		n = min3(len, (u64)d_room, (u64)s_room);
		d = backward ? dst_off + len - n : dst_off;
		s = backward ? src_off + len - n : src_off;
		ret = src->backing->read(src, s, buf, n);
		if (!ret)
			ret = memalloc_write_chunk(dst, d, buf, n);
		if (ret)
			break;
		len -= n;
		if (!backward) {
			dst_off += n;
			src_off += n;
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	free_page((unsigned long)buf);
	return ret;
}

/* Hold two dataspaces against revocation, in address order. */
static int memalloc_lock_pair(struct memalloc_ds *a, struct memalloc_ds *b)
{
	int ret;

	if (a == b)
		return memalloc_ds_lock_live(a);
	if (a > b)
		swap(a, b);
	ret = memalloc_ds_lock_live(a);
	if (ret)
		return ret;
	down_read_nested(&b->lock, SINGLE_DEPTH_NESTING);
	if (!b->dead)
		return 0;
	up_read(&b->lock);
	up_read(&a->lock);
	return -ENODEV;
}

static void memalloc_unlock_pair(struct memalloc_ds *a, struct memalloc_ds *b)
{
	if (a != b)
		up_read(&b->lock);
	up_read(&a->lock);
}

/**
 * memalloc_ds_copy_in() - MEMALLOC_COPY_IN: copy from another dataspace
 * @ucmd: the call, holding a struct memalloc_copy_in
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno, as listed in the UAPI header.
 */
int memalloc_ds_copy_in(struct memalloc_ucmd *ucmd)
{
	struct memalloc_copy_in *cmd = ucmd->cmd;
	struct memalloc_handle *dst, *src;
	u64 len;
	int ret;

	if (cmd->__reserved)
		return -EINVAL;
	dst = memalloc_handle_get(cmd->fd);
	if (IS_ERR(dst))
		return PTR_ERR(dst);
	/* A source that is no open fd is as foreign as any other. */
	src = memalloc_handle_get(cmd->src_fd);
	if (IS_ERR(src)) {
		ret = -EINVAL;
		goto out_put_dst;
	}
	if (!memalloc_handle_writable(dst)) {
		ret = -EACCES;
		goto out_put;
	}
	ret = memalloc_lock_pair(dst->ds, src->ds);
	if (ret)
		goto out_put;
	/* Clamped to both ends, as L4Re's Moe does: past either, nothing. */
	if (cmd->dst_offset < dst->ds->size && cmd->src_offset < src->ds->size) {
		len = min3(cmd->length, dst->ds->size - cmd->dst_offset,
			   src->ds->size - cmd->src_offset);
		ret = memalloc_copy(dst->ds, cmd->dst_offset, src->ds,
				    cmd->src_offset, len);
	}
	memalloc_unlock_pair(dst->ds, src->ds);
out_put:
	memalloc_handle_put(src);
out_put_dst:
	memalloc_handle_put(dst);
	return ret;
}
