/*
 * Per-CPU cache refill and drain (the slow half of pcp.h), and the public
 * drain calls.  Lock order: a cache's lock, then the instance lock.
 */
#include "pcp.h"

uint32_t ms_pcp_refill_locked(struct ms_instance *inst, struct ms_pcp *pcp)
{
	uint32_t nr_cached = ms_counter_load32(&pcp->nr_cached);
	unsigned long irq_state = ms_lock_irq(inst);

	while (nr_cached < MS_PCP_BATCH) {
		uint64_t pfn = ms_buddy_alloc_locked(inst, 0);

		if (pfn == MS_NONE)
			break;
		meta_slot_order_store(ms_slot(inst, pfn), 0);
		pcp->pfns[nr_cached++] = pfn;
	}
	ms_unlock_irq(inst, irq_state);
	ms_counter_store32(&pcp->nr_cached, nr_cached);
	return nr_cached;
}

/* Moves the nr_drain oldest (bottom) frames to the buddy lists. */
uint32_t ms_pcp_drain_locked(struct ms_instance *inst, struct ms_pcp *pcp, uint32_t nr_drain)
{
	uint32_t nr_cached = ms_counter_load32(&pcp->nr_cached);

	if (nr_drain > nr_cached)
		nr_drain = nr_cached;
	if (nr_drain == 0)
		return nr_cached;
	unsigned long irq_state = ms_lock_irq(inst);
	for (uint32_t i = 0; i < nr_drain; i++)
		ms_buddy_free_locked(inst, pcp->pfns[i], 0);
	ms_unlock_irq(inst, irq_state);
	for (uint32_t i = nr_drain; i < nr_cached; i++)
		pcp->pfns[i - nr_drain] = pcp->pfns[i];
	nr_cached -= nr_drain;
	ms_counter_store32(&pcp->nr_cached, nr_cached);
	return nr_cached;
}

void ms_cache_drain(struct ms_instance *inst, unsigned cpu)
{
	if (inst == NULL || cpu >= MS_MAX_CPUS)
		return;
	struct ms_pcp *pcp = &inst->pcp[cpu];
	unsigned long irq_state = ms_irq_save(inst);

	ms_pcp_lock(pcp, inst->platform);
	ms_pcp_drain_locked(inst, pcp, MS_PCP_CAPACITY);
	ms_pcp_unlock(pcp);
	ms_irq_restore(inst, irq_state);
}

void ms_cache_drain_all(struct ms_instance *inst)
{
	for (unsigned cpu = 0; cpu < MS_MAX_CPUS; cpu++)
		ms_cache_drain(inst, cpu);
}

void ms_set_cache_enabled(struct ms_instance *inst, bool enabled)
{
	inst->cache_enabled = enabled;
	if (!enabled)
		ms_cache_drain_all(inst);
}
