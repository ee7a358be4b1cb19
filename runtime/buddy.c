/*
 * The buddy core: split on allocation, coalesce on free.  Caller holds
 * inst->lock for every function here.
 *
 * Block and buddy index math.  A block of order k covers 2^k frames and
 * starts at a PFN that is a multiple of 2^k (natural alignment, in absolute
 * PFN terms, whatever the span's base or a range's start).  Its buddy is the
 * other half of the order-(k+1) block that contains it:
 *
 *     buddy = pfn ^ (1 << k)          merged = pfn & ~(1 << k)
 *
 * Example: freeing PFN 0x1234 at order 2 (frames 0x1234..0x1237).  Its buddy
 * is 0x1234 ^ 0x4 = 0x1230.  If 0x1230 heads a free order-2 block, both merge
 * into the order-3 block at 0x1234 & ~0x4 = 0x1230; its buddy is
 * 0x1230 ^ 0x8 = 0x1238, and so on until the buddy is not free at the same
 * order, lies outside the span, or the order reaches MS_MAX_ORDER.
 *
 * A free block's head carries frame_flags FREE, its order, and refcount
 * REFCOUNT_UNUSED; every other frame of it has no FREE/ALLOCATED flag, so
 * "is the buddy free at order k" is one flags load plus one order load.
 */
#include "freelist.h"

static void make_free_head_locked(struct ms_instance *inst, uint64_t pfn, unsigned order)
{
	struct meta_slot *slot = ms_slot(inst, pfn);

	meta_slot_order_store(slot, order);
	meta_slot_flags_store(slot, META_SLOT_FRAME_FLAGS_FREE);
	ms_list_push(inst, &inst->free_head[order], pfn);
	inst->nr_free_blocks[order]++;
}

static void take_free_head_locked(struct ms_instance *inst, uint64_t pfn, unsigned order)
{
	ms_list_unlink(inst, &inst->free_head[order], pfn);
	meta_slot_flags_store(ms_slot(inst, pfn), 0);
	inst->nr_free_blocks[order]--;
}

static bool is_free_head_locked(const struct ms_instance *inst, uint64_t pfn, unsigned order)
{
	struct meta_slot *slot = ms_slot(inst, pfn);

	return (meta_slot_flags_load(slot) & META_SLOT_FRAME_FLAGS_FREE) != 0 &&
	       meta_slot_order_load(slot) == order;
}

uint64_t ms_buddy_alloc_locked(struct ms_instance *inst, unsigned order)
{
	unsigned found = order;

	while (found <= MS_MAX_ORDER && inst->free_head[found] == MS_NONE)
		found++;
	if (found > MS_MAX_ORDER)
		return MS_NONE;

	uint64_t pfn = inst->free_head[found];
	MS_ASSERT(inst, (pfn & (ms_order_frames(found) - 1)) == 0 && ms_pfn_in_span(inst, pfn),
		  "free list: misaligned or foreign block", pfn, found);
	MS_ASSERT(inst, is_free_head_locked(inst, pfn, found), "free list: head not FREE at order",
		  pfn, found);
	take_free_head_locked(inst, pfn, found);

	/* Keep the lower half, free the upper half, until the order fits. */
	while (found > order) {
		found--;
		make_free_head_locked(inst, pfn + ms_order_frames(found), found);
	}
	inst->nr_free_frames -= ms_order_frames(order);
	return pfn;
}

void ms_buddy_free_locked(struct ms_instance *inst, uint64_t pfn, unsigned order)
{
	inst->nr_free_frames += ms_order_frames(order);
	while (order < MS_MAX_ORDER) {
		uint64_t buddy = pfn ^ ms_order_frames(order);

		if (!ms_pfn_in_span(inst, buddy) || !is_free_head_locked(inst, buddy, order))
			break;
		take_free_head_locked(inst, buddy, order);
		pfn &= ~ms_order_frames(order);
		order++;
	}
	make_free_head_locked(inst, pfn, order);
}

uint64_t ms_buddy_isolate_locked(struct ms_instance *inst, uint64_t pfn, unsigned *order)
{
	for (unsigned k = 0; k <= MS_MAX_ORDER; k++) {
		uint64_t head = pfn & ~(ms_order_frames(k) - 1);

		if (!ms_pfn_in_span(inst, head))
			break;
		if (is_free_head_locked(inst, head, k)) {
			take_free_head_locked(inst, head, k);
			inst->nr_free_frames -= ms_order_frames(k);
			*order = k;
			return head;
		}
	}
	return MS_NONE;
}
