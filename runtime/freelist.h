/*
 * Intrusive doubly-linked lists of free blocks, threaded through the head
 * frames' free_link.next/prev as PFNs, MS_NONE (LINK_NONE) at both ends.
 * Push and pop work at the head (LIFO, so the choice of block is
 * deterministic for a given sequence of calls); unlink removes a block from
 * anywhere in O(1), which coalescing needs.  Caller holds inst->lock.
 */
#ifndef MS_FREELIST_H
#define MS_FREELIST_H

#include "internal.h"

static inline void ms_list_push(struct ms_instance *inst, uint64_t *head, uint64_t pfn)
{
	struct meta_slot *slot = ms_slot(inst, pfn);
	uint64_t old_head = *head;

	meta_slot_free_link_next_store(slot, old_head);
	meta_slot_free_link_prev_store(slot, MS_NONE);
	if (old_head != MS_NONE)
		meta_slot_free_link_prev_store(ms_slot(inst, old_head), pfn);
	*head = pfn;
}

static inline void ms_list_unlink(struct ms_instance *inst, uint64_t *head, uint64_t pfn)
{
	struct meta_slot *slot = ms_slot(inst, pfn);
	uint64_t next = meta_slot_free_link_next_load(slot);
	uint64_t prev = meta_slot_free_link_prev_load(slot);

	/* A corrupted link must stop here, not redirect the stores below. */
	MS_ASSERT(inst, next == MS_NONE || ms_pfn_in_span(inst, next),
		  "free list: next link outside the span", pfn, next);
	MS_ASSERT(inst, prev == MS_NONE || ms_pfn_in_span(inst, prev),
		  "free list: prev link outside the span", pfn, prev);
	if (prev != MS_NONE) {
		meta_slot_free_link_next_store(ms_slot(inst, prev), next);
	} else {
		MS_ASSERT(inst, *head == pfn, "free list: unlinked block is not the head", pfn,
			  *head);
		*head = next;
	}
	if (next != MS_NONE)
		meta_slot_free_link_prev_store(ms_slot(inst, next), prev);
	meta_slot_free_link_next_store(slot, MS_NONE);
	meta_slot_free_link_prev_store(slot, MS_NONE);
}

#endif /* MS_FREELIST_H */
