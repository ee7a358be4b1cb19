/*
 * Per-CPU caches: the hot path.  A CPU's cache holds, for each order k from 0
 * to MS_PCP_MAX_ORDER, a LIFO stack of free blocks of order k in the "cached"
 * state (head refcount REFCOUNT_UNUSED, head order k, no flags on any frame,
 * on no list).  Its owner CPU pushes and pops under the cache's own lock only
 * (uncontended: one exchange), never the instance lock; refills and drains
 * move a batch (MS_PCP_BATCH frames) under both locks, cache lock first.
 * Cached frames count as free; ms_cache_drain_all runs before out-of-memory.
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

/* Frames held by one cache (a snapshot when its lock is not held). */
static inline uint64_t ms_pcp_frames(struct ms_pcp *pcp)
{
	uint64_t nr_frames = 0;

	for (unsigned order = 0; order <= MS_PCP_MAX_ORDER; order++)
		nr_frames += (uint64_t)ms_counter_load32(&pcp->stacks[order].nr_blocks) << order;
	return nr_frames;
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

/* Pushes a released block of the order; false (nothing changed) when full. */
static inline bool ms_pcp_push(struct ms_instance *inst, struct ms_pcp *pcp, uint64_t pfn,
			       unsigned order)
{
	struct ms_pcp_stack *stack = &pcp->stacks[order];
	unsigned long irq_state = ms_irq_save(inst);

	ms_pcp_lock(pcp, &inst->platform);
	uint32_t nr_blocks = ms_counter_load32(&stack->nr_blocks);
	bool pushed = nr_blocks < ms_pcp_capacity(order);
	if (pushed) {
		stack->pfns[nr_blocks] = pfn;
		ms_counter_store32(&stack->nr_blocks, nr_blocks + 1);
		ms_counter_bump64(&pcp->nr_free_events);
	}
	ms_pcp_unlock(pcp);
	ms_irq_restore(inst, irq_state);
	return pushed;
}

/* pcp.c: the same, refilling an empty stack from the buddy lists first
 * (MS_NONE when nothing is left) or draining a batch of a full one. */
uint64_t ms_pcp_pop_refill(struct ms_instance *inst, unsigned cpu, unsigned order);
void ms_pcp_push_drain(struct ms_instance *inst, unsigned cpu, uint64_t pfn, unsigned order);

/* The CPU whose cache a call uses: the platform's, folded into range. */
static inline unsigned ms_current_cpu(const struct ms_instance *inst)
{
	return inst->platform.cpu_id ? inst->platform.cpu_id() % MS_MAX_CPUS : 0;
}

#endif /* MS_PCP_H */
