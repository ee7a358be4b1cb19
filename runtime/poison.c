/*
 * Poison and quarantine.  ms_mark_poisoned sets guard POISONED and
 * frame_flags POISONED with fetch_or.  A block containing a poisoned frame
 * never returns to a free list or a cache: it goes to the instance's
 * quarantine list (threaded through free_link like a free list), is counted,
 * and can be listed.  A quarantined block's head has frame_flags POISONED,
 * neither FREE nor ALLOCATED, its order, and refcount REFCOUNT_UNUSED.
 */
#include "freelist.h"
#include "pcp.h"

void ms_quarantine_locked(struct ms_instance *inst, uint64_t pfn, unsigned order)
{
	struct meta_slot *slot = ms_slot(inst, pfn);

	meta_slot_order_store(slot, order);
	meta_slot_flags_store(slot, META_SLOT_FRAME_FLAGS_POISONED);
	ms_list_push(inst, &inst->quarantine_head, pfn);
	inst->nr_quarantined_blocks++;
	inst->nr_quarantined_frames += ms_order_frames(order);
}

bool ms_block_poisoned_scan(struct ms_instance *inst, uint64_t pfn, unsigned order)
{
	for (uint64_t i = 0; i < ms_order_frames(order); i++) {
		if (meta_slot_guard_load(ms_slot(inst, pfn + i)) & META_SLOT_META_GUARD_POISONED)
			return true;
	}
	return false;
}

/* Removes the cached block containing pfn from cpu's stack of `order` and
 * quarantines it; true if there was one.  The instance is frozen. */
static bool uncache_locked(struct ms_instance *inst, struct ms_pcp *pcp, unsigned order,
			   uint64_t pfn)
{
	struct ms_pcp_stack *stack = &pcp->stacks[order];
	uint64_t head = pfn & ~(ms_order_frames(order) - 1);
	uint32_t nr_blocks = ms_counter_load32(&stack->nr_blocks);

	for (uint32_t i = 0; i < nr_blocks; i++) {
		if (stack->pfns[i] != head)
			continue;
		for (uint32_t j = i + 1; j < nr_blocks; j++)
			stack->pfns[j - 1] = stack->pfns[j];
		ms_counter_store32(&stack->nr_blocks, nr_blocks - 1);
		ms_quarantine_locked(inst, head, order);
		return true;
	}
	return false;
}

/* Quarantines the cached block (any CPU, any order) containing pfn; true if
 * there was one.  The instance is frozen. */
static bool uncache_frozen(struct ms_instance *inst, uint64_t pfn)
{
	for (unsigned cpu = 0; cpu < MS_MAX_CPUS; cpu++) {
		for (unsigned order = 0; order <= MS_PCP_MAX_ORDER; order++) {
			if (uncache_locked(inst, &inst->pcp[cpu], order, pfn))
				return true;
		}
	}
	return false;
}

/*
 * The bits are set first; then, with the whole instance frozen, the block
 * holding the frame is looked for in every cache and free list at once (a
 * search cache by cache could miss a block moving between a list and a
 * cache).  A block found nowhere is allocated (quarantined when freed) or
 * between two places: a release on its way to a cache or list checks the
 * bits again under that cache's or list's lock, which it takes after this
 * mark's thaw if it did not push before the freeze, so it sees them; a
 * block on its way to a caller is checked before its claim (an allocation
 * that races the mark may win it, and the block is quarantined when freed).
 */
int ms_mark_poisoned(struct ms_instance *inst, uint64_t pfn)
{
	if (!ms_ready(inst))
		return MS_EINVAL;
	if (!ms_pfn_in_span(inst, pfn))
		return MS_ERANGE;
	struct meta_slot *slot = ms_slot(inst, pfn);

	ms_flag_set_shared32(&inst->nr_poison_marks);
	meta_slot_guard_fetch_or(slot, META_SLOT_META_GUARD_POISONED);
	meta_slot_flags_fetch_or(slot, META_SLOT_FRAME_FLAGS_POISONED);
	/* Frozen even when the frame looks allocated: a release may be on its
	 * way, and only the locks order this mark before its push's check (no
	 * refcount test here could, without a fence on every free). */
	unsigned long irq_state = ms_freeze(inst);
	if (!uncache_frozen(inst, pfn)) {
		unsigned order;
		uint64_t head = ms_buddy_isolate_locked(inst, pfn, &order);
		if (head != MS_NONE)
			ms_quarantine_locked(inst, head, order);
	}
	/* A list update under the lock may have stored over the flag. */
	meta_slot_flags_fetch_or(slot, META_SLOT_FRAME_FLAGS_POISONED);
	ms_thaw(inst, irq_state);
	return MS_OK;
}

int ms_quarantine_list(struct ms_instance *inst, struct ms_block *out, size_t max_blocks,
		       size_t *nr_blocks)
{
	if (!ms_ready(inst) || nr_blocks == NULL || (out == NULL && max_blocks != 0))
		return MS_EINVAL;
	unsigned long irq_state = ms_lock_irq(inst);
	size_t count = 0;
	for (uint64_t pfn = inst->quarantine_head; pfn != MS_NONE;
	     pfn = meta_slot_free_link_next_load(ms_slot(inst, pfn))) {
		/* A broken link or a cycle is corruption, not a longer list. */
		MS_ASSERT(inst, ms_pfn_in_span(inst, pfn) && count < inst->nr_quarantined_blocks,
			  "quarantine list: link outside the span or list too long", pfn, count);
		if (count < max_blocks) {
			out[count].pfn = pfn;
			out[count].order = meta_slot_order_load(ms_slot(inst, pfn));
		}
		count++;
	}
	ms_unlock_irq(inst, irq_state);
	*nr_blocks = count;
	return count > max_blocks ? MS_ENOSPC : MS_OK;
}
