/*
 * Shared internals of the runtime: slot lookup, platform wrappers, the
 * corruption check, and the functions one runtime file offers another.
 * Metadata is reached only through the generated accessors (meta_slot.h).
 */
#ifndef MS_INTERNAL_H
#define MS_INTERNAL_H

#include "meta_slot.h"
#include "metaslot/ms.h"
#include "sync.h"

/* The value types the runtime holds member values in: a schema that widens
 * or narrows one of these members stops the build here, never truncates. */
_Static_assert(META_SLOT_FREE_LINK_NEXT_SIZE == sizeof(uint64_t), "free_link.next is a u64 PFN");
_Static_assert(META_SLOT_FREE_LINK_PREV_SIZE == sizeof(uint64_t), "free_link.prev is a u64 PFN");
_Static_assert(META_SLOT_VTABLE_SIZE == sizeof(uint64_t), "vtable holds a u64 address");
_Static_assert(META_SLOT_FLAGS_SIZE == sizeof(uint32_t), "flags is a u32");
_Static_assert(META_SLOT_REFCOUNT_SIZE == sizeof(uint32_t), "refcount is a u32");
_Static_assert(META_SLOT_GENERATION_SIZE == sizeof(uint32_t), "generation is a u32");
_Static_assert(META_SLOT_GUARD_SIZE == sizeof(uint32_t), "guard is a u32");
_Static_assert(META_SLOT_META_AUX_SIZE == sizeof(uint32_t), "meta_aux is a u32");
_Static_assert(META_SLOT_ORDER_SIZE >= 1, "order holds 0..MS_MAX_ORDER");

#define MS_NONE META_SLOT_LINK_NONE
#define MS_UNUSED META_SLOT_REFCOUNT_UNUSED

static inline uint64_t ms_order_frames(unsigned order)
{
	return (uint64_t)1 << order;
}

/* Whether ms_init succeeded on inst: a zeroed instance, or one whose ms_init
 * failed, has no metadata array, and every call refuses it with MS_EINVAL. */
static inline bool ms_ready(const struct ms_instance *inst)
{
	return inst != NULL && inst->slots != NULL;
}

/* One compare: below base_pfn wraps to at least 2^64 - base_pfn, which
 * ms_init keeps above nr_frames (base_pfn + nr_frames does not overflow). */
static inline bool ms_pfn_in_span(const struct ms_instance *inst, uint64_t pfn)
{
	return pfn - inst->base_pfn < inst->nr_frames;
}

static inline struct meta_slot *ms_slot(const struct ms_instance *inst, uint64_t pfn)
{
	return &inst->slots[pfn - inst->base_pfn];
}

/*
 * Internal corruption: calls the platform's panic hook, which must not
 * return; if it does anyway, the CPU traps (__builtin_trap: ud2 on x86,
 * brk on arm64) instead of running on over corrupt state.  Cold, out of line and
 * noreturn: the fast paths that check invariants keep nothing alive across
 * the call.
 */
__attribute__((noreturn, cold)) void ms_panic(const struct ms_instance *inst, const char *what,
					      uint64_t pfn, uint64_t value);

/* Broken internal invariant: ms_panic. */
#define MS_ASSERT(inst, cond, what, pfn, value)                                     \
	do {                                                                        \
		if (__builtin_expect(!(cond), 0))                                   \
			ms_panic((inst), (what), (uint64_t)(pfn), (uint64_t)(value)); \
	} while (0)

static inline unsigned long ms_irq_save(const struct ms_instance *inst)
{
	return inst->platform.irq_save ? inst->platform.irq_save() : 0;
}

static inline void ms_irq_restore(const struct ms_instance *inst, unsigned long irq_state)
{
	if (inst->platform.irq_restore)
		inst->platform.irq_restore(irq_state);
}

/* Instance lock with interrupts saved; returns the saved state. */
static inline unsigned long ms_lock_irq(struct ms_instance *inst)
{
	unsigned long irq_state = ms_irq_save(inst);
	ms_lock_acquire(&inst->lock, &inst->platform);
	return irq_state;
}

static inline void ms_unlock_irq(struct ms_instance *inst, unsigned long irq_state)
{
	ms_lock_release(&inst->lock);
	ms_irq_restore(inst, irq_state);
}

/* buddy.c: caller holds inst->lock.  alloc returns MS_NONE when empty; the
 * block it returns is off every list, flags cleared, refcount still UNUSED. */
uint64_t ms_buddy_alloc_locked(struct ms_instance *inst, unsigned order);
/* The block's head must be in the "no flags, refcount UNUSED" state. */
void ms_buddy_free_locked(struct ms_instance *inst, uint64_t pfn, unsigned order);
/* Takes the free block containing pfn off its list; MS_NONE if pfn is not in
 * a free block.  *order gets the block's order. */
uint64_t ms_buddy_isolate_locked(struct ms_instance *inst, uint64_t pfn, unsigned *order);

/*
 * Hints for a coming ms_buddy_free_locked(pfn, order), issued before the
 * lock is taken: a free touches the buddy at each order it merges through
 * and the list neighbours of each buddy it unlinks, cold and scattered
 * lines.  The buddies of the first MS_PREFETCH_ORDERS orders are
 * independent addresses, so their misses overlap; the first buddy's
 * neighbours are read from its links (an unlocked read of values that are
 * only hints, never trusted).  Example: pfn 0x1234 at order 2 prefetches
 * 0x1230 (order 2), 0x1238 (order 3), 0x1220 (order 4), then the slots
 * named by 0x1230's free_link.
 */
#define MS_PREFETCH_ORDERS 3
static inline void ms_prefetch_slot(const struct ms_instance *inst, uint64_t pfn)
{
	if (ms_pfn_in_span(inst, pfn))
		__builtin_prefetch(ms_slot(inst, pfn), 1);
}

static inline void ms_buddy_prefetch_buddies(const struct ms_instance *inst, uint64_t pfn,
					     unsigned order)
{
	for (unsigned k = order; k < order + MS_PREFETCH_ORDERS && k < MS_MAX_ORDER; k++)
		ms_prefetch_slot(inst, (pfn & ~(ms_order_frames(k) - 1)) ^ ms_order_frames(k));
}

static inline void ms_buddy_prefetch_links(const struct ms_instance *inst, uint64_t pfn,
					   unsigned order)
{
	uint64_t buddy = pfn ^ ms_order_frames(order);

	if (order >= MS_MAX_ORDER || !ms_pfn_in_span(inst, buddy))
		return;
	const struct meta_slot *slot = ms_slot(inst, buddy);
	ms_prefetch_slot(inst, meta_slot_free_link_next_load(slot));
	ms_prefetch_slot(inst, meta_slot_free_link_prev_load(slot));
}

/* poison.c: caller holds inst->lock; the block is off every list. */
void ms_quarantine_locked(struct ms_instance *inst, uint64_t pfn, unsigned order);
/* Whether any frame of the block has guard POISONED: for a larger block, one
 * relaxed load while no frame of the instance was ever poisoned through
 * ms_mark_poisoned, a scan of the block after. */
bool ms_block_poisoned_scan(struct ms_instance *inst, uint64_t pfn, unsigned order);
static inline bool ms_block_poisoned(struct ms_instance *inst, uint64_t pfn, unsigned order)
{
	if (order == 0) /* one load either way: also sees a guard bit set directly */
		return (meta_slot_guard_load(ms_slot(inst, pfn)) & META_SLOT_META_GUARD_POISONED) != 0;
	return ms_counter_load32(&inst->nr_poison_marks) != 0 &&
	       ms_block_poisoned_scan(inst, pfn, order);
}

/* pcp.c: caller holds pcp's lock; returns the new number of blocks cached
 * at the order. */
uint32_t ms_pcp_refill_locked(struct ms_instance *inst, struct ms_pcp *pcp, unsigned order);
uint32_t ms_pcp_drain_locked(struct ms_instance *inst, struct ms_pcp *pcp, unsigned order,
			     uint32_t nr_drain);

/* alloc.c: returns a released block (refcount UNUSED, reset) to the
 * allocator: quarantine, per-CPU cache or buddy lists. */
void ms_free_released(struct ms_instance *inst, uint64_t pfn, unsigned order);

#endif /* MS_INTERNAL_H */
