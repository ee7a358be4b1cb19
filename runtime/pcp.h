/*
 * Per-CPU caches: the hot path.  A CPU's cache holds, for each order k from 0
 * to MS_PCP_MAX_ORDER, a LIFO stack of free blocks of order k in the "cached"
 * state (head refcount REFCOUNT_UNUSED, head order k, no flags on any frame,
 * on no list).  Its owner CPU pushes and pops under the cache's own lock only
 * (uncontended: one exchange), never the instance lock; refills and drains
 * move a batch (MS_PCP_BATCH frames) under both locks, cache lock first.
 * Cached frames count as free; every cache is drained (the instance frozen,
 * see ms_freeze) before out-of-memory.
 *
 * The inline pop and push below are the whole fast path: they never refill
 * or drain, so no call happens while the cache lock is held.  An empty or
 * full stack is handled by ms_pcp_pop_refill / ms_pcp_push_drain (pcp.c).
 */
#ifndef MS_PCP_H
#define MS_PCP_H

#include "internal.h"

/* Blocks of order k one stack holds at most, and moves per refill or drain:
 * the same number of frames at every order. */
static inline uint32_t ms_pcp_capacity(unsigned order)
{
	return MS_PCP_CAPACITY >> order;
}

static inline uint32_t ms_pcp_batch(unsigned order)
{
	return MS_PCP_BATCH >> order;
}

/* Pops the most recently cached block of the order; MS_NONE when none. */
static inline uint64_t ms_pcp_pop(struct ms_instance *inst, struct ms_pcp *pcp, unsigned order)
{
	struct ms_pcp_stack *stack = &pcp->stacks[order];
	unsigned long irq_state = ms_irq_save(inst);
	uint64_t pfn = MS_NONE;

	ms_pcp_lock(pcp, &inst->platform);
	uint32_t nr_blocks = ms_counter_load32(&stack->nr_blocks);
	if (nr_blocks != 0) {
		/* A corrupted cache must stop here, not index or claim outside. */
		MS_ASSERT(inst, nr_blocks <= ms_pcp_capacity(order), "cache: count above capacity",
			  MS_NONE, nr_blocks);
		pfn = stack->pfns[nr_blocks - 1];
		MS_ASSERT(inst, ms_pfn_in_span(inst, pfn), "cache: frame outside the span", pfn,
			  nr_blocks);
		ms_counter_store32(&stack->nr_blocks, nr_blocks - 1);
		ms_counter_bump64(&pcp->nr_alloc_events);
	}
	ms_pcp_unlock(pcp);
	ms_irq_restore(inst, irq_state);
	return pfn;
}

enum ms_push_result { MS_PUSHED, MS_PUSH_FULL, MS_PUSH_POISONED };

/*
 * Pushes a released block of the order.  MS_PUSH_FULL: nothing changed.
 * MS_PUSH_POISONED: a frame of the block is poisoned and the block must be
 * quarantined instead; the check is made under the cache lock, so that
 * ms_mark_poisoned (which searches every cache under its lock) either finds
 * the block cached or has set the guard bit this check reads.
 */
static inline enum ms_push_result ms_pcp_push(struct ms_instance *inst, struct ms_pcp *pcp,
					      uint64_t pfn, unsigned order)
{
	struct ms_pcp_stack *stack = &pcp->stacks[order];
	unsigned long irq_state = ms_irq_save(inst);
	enum ms_push_result result = MS_PUSH_FULL;

	ms_pcp_lock(pcp, &inst->platform);
	uint32_t nr_blocks = ms_counter_load32(&stack->nr_blocks);
	if (ms_block_poisoned(inst, pfn, order)) {
		result = MS_PUSH_POISONED;
	} else if (nr_blocks < ms_pcp_capacity(order)) {
		stack->pfns[nr_blocks] = pfn;
		ms_counter_store32(&stack->nr_blocks, nr_blocks + 1);
		ms_counter_bump64(&pcp->nr_free_events);
		result = MS_PUSHED;
	}
	ms_pcp_unlock(pcp);
	ms_irq_restore(inst, irq_state);
	return result;
}

/* pcp.c: the same, refilling an empty stack from the buddy lists first
 * (MS_NONE when nothing is left) or draining a batch of a full one; a
 * poisoned block is quarantined instead of pushed. */
uint64_t ms_pcp_pop_refill(struct ms_instance *inst, unsigned cpu, unsigned order);
void ms_pcp_push_drain(struct ms_instance *inst, unsigned cpu, uint64_t pfn, unsigned order);

/*
 * The whole instance held still: every cache's lock (in CPU order, as the
 * lock order wants) and then the instance lock.  For the rare calls that
 * need one consistent view of caches and lists: ms_check, ms_stats,
 * ms_mark_poisoned and the last attempt before out-of-memory.
 */
unsigned long ms_freeze(struct ms_instance *inst);
void ms_thaw(struct ms_instance *inst, unsigned long irq_state);
/* Moves every cached block to the buddy lists; the instance is frozen. */
void ms_pcp_drain_all_frozen(struct ms_instance *inst);

/* The CPU whose cache a call uses: the platform's, folded into range. */
static inline unsigned ms_current_cpu(const struct ms_instance *inst)
{
	return inst->platform.cpu_id ? inst->platform.cpu_id() % MS_MAX_CPUS : 0;
}

#endif /* MS_PCP_H */
