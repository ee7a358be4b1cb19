/*
 * Per-CPU cache refill and drain (the slow half of pcp.h), and the public
 * drain calls.  Lock order: a cache's lock, then the instance lock.
 */
#include "pcp.h"

/* log2(MS_PCP_BATCH) when the batch is one whole buddy block, else -1. */
static int batch_order(void)
{
	for (int order = 0; order <= MS_MAX_ORDER; order++) {
		if (ms_order_frames((unsigned)order) == MS_PCP_BATCH)
			return order;
	}
	return -1;
}

/* Whether the smallest free block is at least the batch's order, so that
 * refilling frame by frame would only split that block anyway. */
static bool only_large_blocks_locked(const struct ms_instance *inst, int order)
{
	for (int k = 0; k < order; k++) {
		if (inst->free_head[k] != MS_NONE)
			return false;
	}
	return true;
}

/*
 * Refills an empty or short cache with up to MS_PCP_BATCH frames.  When
 * only large blocks are free, one whole block of the batch's order is taken
 * (its frames are all in the cached state already: flags 0, refcount
 * UNUSED) and stacked so that the lowest PFN is handed out first; otherwise
 * frames come one by one, smallest blocks first.
 */
uint32_t ms_pcp_refill_locked(struct ms_instance *inst, struct ms_pcp *pcp)
{
	uint32_t nr_cached = ms_counter_load32(&pcp->nr_cached);
	unsigned long irq_state = ms_lock_irq(inst);
	int order = batch_order();

	if (nr_cached == 0 && order > 0 && only_large_blocks_locked(inst, order)) {
		uint64_t pfn = ms_buddy_alloc_locked(inst, (unsigned)order);

		if (pfn != MS_NONE) {
			meta_slot_order_store(ms_slot(inst, pfn), 0);
			for (uint32_t i = 0; i < MS_PCP_BATCH; i++)
				pcp->pfns[i] = pfn + MS_PCP_BATCH - 1 - i;
			nr_cached = MS_PCP_BATCH;
		}
	}
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

/*
 * Frees of cached frames touch each frame's buddies and, when a buddy is
 * free, its list neighbours: cold, scattered slots.  Prefetching them all
 * before taking the instance lock overlaps those misses instead of paying
 * them one by one inside the locked section (see ms_buddy_prefetch_buddies).
 */
static void prefetch_buddies(const struct ms_instance *inst, const uint64_t *pfns,
			     uint32_t nr_pfns)
{
	for (uint32_t i = 0; i < nr_pfns; i++)
		ms_buddy_prefetch_buddies(inst, pfns[i], 0);
	for (uint32_t i = 0; i < nr_pfns; i++)
		ms_buddy_prefetch_links(inst, pfns[i], 0);
}

/* Moves the nr_drain oldest (bottom) frames to the buddy lists. */
uint32_t ms_pcp_drain_locked(struct ms_instance *inst, struct ms_pcp *pcp, uint32_t nr_drain)
{
	uint32_t nr_cached = ms_counter_load32(&pcp->nr_cached);

	if (nr_drain > nr_cached)
		nr_drain = nr_cached;
	if (nr_drain == 0)
		return nr_cached;
	prefetch_buddies(inst, pcp->pfns, nr_drain);
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

/* Refills cpu's cache when empty, or drains a batch when full; under its lock. */
static void rebalance(struct ms_instance *inst, unsigned cpu)
{
	struct ms_pcp *pcp = &inst->pcp[cpu];
	unsigned long irq_state = ms_irq_save(inst);

	ms_pcp_lock(pcp, &inst->platform);
	uint32_t nr_cached = ms_counter_load32(&pcp->nr_cached);
	if (nr_cached == 0)
		ms_pcp_refill_locked(inst, pcp);
	else if (nr_cached == MS_PCP_CAPACITY)
		ms_pcp_drain_locked(inst, pcp, MS_PCP_BATCH);
	ms_pcp_unlock(pcp);
	ms_irq_restore(inst, irq_state);
}

uint64_t ms_pcp_pop_refill(struct ms_instance *inst, unsigned cpu)
{
	uint64_t pfn = ms_pcp_pop(inst, &inst->pcp[cpu]);

	if (pfn == MS_NONE) {
		rebalance(inst, cpu);
		pfn = ms_pcp_pop(inst, &inst->pcp[cpu]);
	}
	return pfn;
}

void ms_pcp_push_drain(struct ms_instance *inst, unsigned cpu, uint64_t pfn)
{
	while (!ms_pcp_push(inst, &inst->pcp[cpu], pfn))
		rebalance(inst, cpu);
}

void ms_cache_drain(struct ms_instance *inst, unsigned cpu)
{
	if (inst == NULL || cpu >= MS_MAX_CPUS)
		return;
	struct ms_pcp *pcp = &inst->pcp[cpu];
	unsigned long irq_state = ms_irq_save(inst);

	ms_pcp_lock(pcp, &inst->platform);
	ms_pcp_drain_locked(inst, pcp, MS_PCP_CAPACITY);
	ms_pcp_unlock(pcp);
	ms_irq_restore(inst, irq_state);
}

void ms_cache_drain_all(struct ms_instance *inst)
{
	if (inst == NULL)
		return;
	for (unsigned cpu = 0; cpu < MS_MAX_CPUS; cpu++)
		ms_cache_drain(inst, cpu);
}

void ms_set_cache_enabled(struct ms_instance *inst, bool enabled)
{
	if (inst == NULL)
		return;
	inst->cache_enabled = enabled;
	if (!enabled)
		ms_cache_drain_all(inst);
}
