/*
 * Per-CPU order-0 caches: the hot path.  A cache is a LIFO array of PFNs of
 * free order-0 frames in the "cached" state (refcount REFCOUNT_UNUSED, no
 * flags, on no list).  Its owner CPU pushes and pops under the cache's own
 * lock only (uncontended: one exchange), never the instance lock; refills and
 * drains move MS_PCP_BATCH frames under both locks, taken cache lock first.
 * Cached frames count as free; ms_cache_drain_all runs before out-of-memory.
 *
 * The inline pop and push below are the whole fast path: they never refill
 * or drain, so no call happens while the cache lock is held.  An empty or
 * full cache is handled by ms_pcp_pop_refill / ms_pcp_push_drain (pcp.c).
 */
#ifndef MS_PCP_H
#define MS_PCP_H

#include "internal.h"

/* Pops the most recently cached frame; MS_NONE when the cache is empty. */
static inline uint64_t ms_pcp_pop(struct ms_instance *inst, struct ms_pcp *pcp)
{
	unsigned long irq_state = ms_irq_save(inst);
	uint64_t pfn = MS_NONE;

	ms_pcp_lock(pcp, &inst->platform);
	uint32_t nr_cached = ms_counter_load32(&pcp->nr_cached);
	if (nr_cached != 0) {
		/* A corrupted cache must stop here, not index or claim outside. */
		MS_ASSERT(inst, nr_cached <= MS_PCP_CAPACITY, "cache: count above capacity",
			  MS_NONE, nr_cached);
		pfn = pcp->pfns[nr_cached - 1];
		MS_ASSERT(inst, ms_pfn_in_span(inst, pfn), "cache: frame outside the span", pfn,
			  nr_cached);
		ms_counter_store32(&pcp->nr_cached, nr_cached - 1);
		ms_counter_bump64(&pcp->nr_alloc_events);
	}
	ms_pcp_unlock(pcp);
	ms_irq_restore(inst, irq_state);
	return pfn;
}

/* Pushes a released order-0 frame; false (nothing changed) when full. */
static inline bool ms_pcp_push(struct ms_instance *inst, struct ms_pcp *pcp, uint64_t pfn)
{
	unsigned long irq_state = ms_irq_save(inst);

	ms_pcp_lock(pcp, &inst->platform);
	uint32_t nr_cached = ms_counter_load32(&pcp->nr_cached);
	bool pushed = nr_cached != MS_PCP_CAPACITY;
	if (pushed) {
		pcp->pfns[nr_cached] = pfn;
		ms_counter_store32(&pcp->nr_cached, nr_cached + 1);
		ms_counter_bump64(&pcp->nr_free_events);
	}
	ms_pcp_unlock(pcp);
	ms_irq_restore(inst, irq_state);
	return pushed;
}

/* pcp.c: the same, refilling an empty cache from the buddy lists first
 * (MS_NONE when nothing is left) or draining a batch of a full one. */
uint64_t ms_pcp_pop_refill(struct ms_instance *inst, unsigned cpu);
void ms_pcp_push_drain(struct ms_instance *inst, unsigned cpu, uint64_t pfn);

/* The CPU whose cache a call uses: the platform's, folded into range. */
static inline unsigned ms_current_cpu(const struct ms_instance *inst)
{
	return inst->platform.cpu_id ? inst->platform.cpu_id() % MS_MAX_CPUS : 0;
}

#endif /* MS_PCP_H */
