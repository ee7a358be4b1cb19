/*
 * Life-cycle transitions of one block's head slot.
 *
 *   free/cached --claim--> allocated --release--> free/cached
 *
 * claim: CAS(refcount REFCOUNT_UNUSED -> 1).  Anything else seen means a
 * double hand-out or a corrupted list and goes to the panic hook with the pfn
 * and the value seen.  After the CAS the slot is exclusively ours, so the new
 * epoch is written with plain stores (no further locked instruction):
 * vtable 0, guard cleared except POISONED, order, ALLOCATED + purpose flags
 * (FREE cleared), and last the generation + 1 with release order, which
 * publishes the epoch to handle checks.
 *
 * release: the slot goes back to reset_with_free_list_meta state: refcount
 * REFCOUNT_UNUSED, vtable 0, guard cleared except POISONED, no flags (the
 * list code sets FREE on heads), and last the generation moves on by one
 * (release order), so that every handle of the ended epoch is stale from
 * the release on, also while the next claim is between its CAS and its own
 * generation store; and a free that reads the new generation also reads the
 * cleared flags (see ms_slot_release_stale).
 *
 * Guard POISONED is set only with fetch_or and never cleared, so it is never
 * lost; frame_flags POISONED mirrors it (a concurrent flags store may drop
 * the mirror, never the guard bit).
 */
#ifndef MS_SLOT_H
#define MS_SLOT_H

#include "internal.h"

/* Guard bits other than POISONED are cleared without losing a POISONED set
 * concurrently by ms_mark_poisoned.  Returns the guard seen. */
static inline uint32_t ms_slot_clear_guard(struct meta_slot *slot)
{
	uint32_t guard = meta_slot_guard_load(slot);

	if ((guard & ~META_SLOT_META_GUARD_POISONED) != 0)
		guard = meta_slot_guard_fetch_and(slot, META_SLOT_META_GUARD_POISONED);
	return guard;
}

/* Claims the block at pfn for its caller and starts a new epoch.
 * owner_cpu < 0x10000 is written to meta_aux.owner_cpu when it differs. */
static inline uint32_t ms_slot_claim(struct ms_instance *inst, uint64_t pfn, unsigned order,
				     uint32_t stamp_flags, uint32_t owner_cpu)
{
	struct meta_slot *slot = ms_slot(inst, pfn);
	uint32_t expected = MS_UNUSED;

	if (!meta_slot_refcount_cas(slot, &expected, 1))
		ms_panic(inst, "claim: frame not free (double hand-out or corrupt list)", pfn,
			 expected);
	meta_slot_vtable_store(slot, 0);
	uint32_t guard = ms_slot_clear_guard(slot);
	if (guard & META_SLOT_META_GUARD_POISONED)
		stamp_flags |= META_SLOT_FRAME_FLAGS_POISONED;
	meta_slot_order_store(slot, order);
	meta_slot_flags_store(slot, stamp_flags | META_SLOT_FRAME_FLAGS_ALLOCATED);
	if (owner_cpu != UINT32_MAX && meta_slot_meta_aux_owner_cpu_get(slot) != owner_cpu)
		meta_slot_meta_aux_owner_cpu_set(slot, owner_cpu);
	uint32_t generation = meta_slot_generation_load(slot) + 1;
	meta_slot_generation_store(slot, generation);
	return generation;
}

/* Makes the handles of the slot's current epoch stale. */
static inline void ms_slot_end_epoch(struct meta_slot *slot)
{
	meta_slot_generation_store(slot, meta_slot_generation_load(slot) + 1);
}

/* Slot of a block that just left refcount 1 (or 0 after the last put).
 * Returns whether its guard was clear: false means guard bits were cleared
 * or the frame is poisoned, which the caller's slow path sorts out. */
static inline bool ms_slot_reset_free_clean(struct meta_slot *slot)
{
	meta_slot_vtable_store(slot, 0);
	uint32_t guard = ms_slot_clear_guard(slot);
	meta_slot_flags_store(slot, 0);
	ms_slot_end_epoch(slot);
	return guard == META_SLOT_META_GUARD_NONE;
}

/*
 * The generation starts at 0 and moves by one at each claim and each
 * release, as their last store: it is odd exactly while an epoch is open
 * and its owner may free the block (from the claim's generation store to the
 * release's).  A free reads it before its checks, and refuses an even value
 * (the block is free, or another caller's claim is between its CAS and its
 * generation store: not the caller's epoch).
 *
 * A free's checks (ALLOCATED, order) read the slot before its release CAS
 * (1 -> REFCOUNT_UNUSED), which compares the count alone.  A second free of
 * a block racing its reuse could read the old epoch (odd generation g, the
 * checks pass) and win the CAS on the new owner's count.  Then the CAS read
 * the new owner's claim, which follows the first release's generation store
 * (g + 1), so the generation read after the CAS differs from g.  The stale
 * free puts the count back (no one else can claim a block that is on no list
 * and in no cache; the owner's own calls meanwhile see REFCOUNT_UNUSED and
 * fail with MS_EDOUBLEFREE, changing nothing) and reports a double free.
 * This, and the claim's read of the generation, rely on every hand-off from
 * a release to the next claim passing through a lock (a per-CPU cache's or
 * the instance's): the release CAS comes before the release's generation
 * store, so a claim that synchronised with the refcount alone would not see
 * the new generation.  A lock-free hand-off would need its own release and
 * acquire, or the generation moved before the refcount.
 * Returns whether the release was stale and undone.
 */
static inline bool ms_slot_release_stale(struct ms_instance *inst, struct meta_slot *slot,
					 uint32_t generation_before)
{
	if (meta_slot_generation_load(slot) == generation_before)
		return false;
	uint32_t expected = MS_UNUSED;
	if (!meta_slot_refcount_cas(slot, &expected, 1))
		ms_panic(inst, "free: stale release could not be undone", MS_NONE, expected);
	return true;
}

static inline void ms_slot_reset_free(struct meta_slot *slot)
{
	(void)ms_slot_reset_free_clean(slot);
}

#endif /* MS_SLOT_H */
