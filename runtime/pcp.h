/*
 * Per-CPU order-0 caches: the hot path.  A cache is a LIFO array of PFNs of
 * free order-0 frames in the "cached" state (refcount REFCOUNT_UNUSED, no
 * flags, on no list).  Its owner CPU pushes and pops under the cache's own
 * lock only (uncontended: one exchange), never the instance lock; refills and
 * drains move MS_PCP_BATCH frames under both locks, taken cache lock first.
 * Cached frames count as free; ms_cache_drain_all runs before out-of-memory.
 */
#ifndef MS_PCP_H
#define MS_PCP_H

#include "internal.h"

/* Pops a cached frame of cpu's cache, refilling from the buddy lists when
 * empty; MS_NONE when nothing is left to refill with. */
static inline uint64_t ms_pcp_pop(struct ms_instance *inst, unsigned cpu)
{
	struct ms_pcp *pcp = &inst->pcp[cpu];
	unsigned long irq_state = ms_irq_save(inst);
	uint64_t pfn = MS_NONE;

	ms_pcp_lock(pcp, &inst->platform);
	uint32_t nr_cached = ms_counter_load32(&pcp->nr_cached);
	if (nr_cached == 0)
		nr_cached = ms_pcp_refill_locked(inst, pcp);
	if (nr_cached != 0) {
		pfn = pcp->pfns[nr_cached - 1];
		ms_counter_store32(&pcp->nr_cached, nr_cached - 1);
		ms_counter_bump64(&pcp->nr_alloc_events);
	}
	ms_pcp_unlock(pcp);
	ms_irq_restore(inst, irq_state);
	return pfn;
}

/* Pushes a released order-0 frame, draining a batch first when full. */
static inline void ms_pcp_push(struct ms_instance *inst, unsigned cpu, uint64_t pfn)
{
	struct ms_pcp *pcp = &inst->pcp[cpu];
	unsigned long irq_state = ms_irq_save(inst);

	ms_pcp_lock(pcp, &inst->platform);
	uint32_t nr_cached = ms_counter_load32(&pcp->nr_cached);
	if (nr_cached == MS_PCP_CAPACITY)
		nr_cached = ms_pcp_drain_locked(inst, pcp, MS_PCP_BATCH);
	pcp->pfns[nr_cached] = pfn;
	ms_counter_store32(&pcp->nr_cached, nr_cached + 1);
	ms_counter_bump64(&pcp->nr_free_events);
	ms_pcp_unlock(pcp);
	ms_irq_restore(inst, irq_state);
}

/* The CPU whose cache a call uses: the platform's, folded into range. */
static inline unsigned ms_current_cpu(const struct ms_instance *inst)
{
	unsigned cpu = inst->platform.cpu_id ? inst->platform.cpu_id() : 0;

	return cpu < MS_MAX_CPUS ? cpu : cpu % MS_MAX_CPUS;
}

#endif /* MS_PCP_H */
